/* `moocguard import FILE.ndjson`: bulk load of statement histories through the same ingest path
 * as the LRS endpoint. Streams the file in batches, reports bad lines by number and goes on, and
 * records the byte offset after every committed batch so an interrupted import resumes where it
 * stopped (re-ingesting a batch is harmless: identical statements are no-ops). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/err.h"
#include "core/time.h"
#include "store/store.h"
#include "detect/live.h"
#include "xapi/ingest.h"
#include "xapi/version.h"

#define MAX_LINE ((size_t)16 << 20)

typedef struct line {
  char *text;
  size_t len;
  long long lineno;
} line;

typedef struct importer {
  mg_store *store;
  mg_arena arena; /* one batch's statements; reset after each batch */
  mg_xapi_ingest_ctx ctx;
  line *batch;
  size_t n, cap;
  long long imported, bad, shown, max_errors;
} importer;

static void report_bad(importer *im, long long lineno, const char *msg) {
  im->bad++;
  if (im->shown < im->max_errors) {
    fprintf(stderr, "line %lld: %s\n", lineno, msg);
    im->shown++;
  } else if (im->shown == im->max_errors) {
    fprintf(stderr, "(further bad lines are counted, not shown)\n");
    im->shown++;
  }
}

/* Ingests statements one at a time: the slow path that pinpoints bad lines. */
static int ingest_singly(importer *im) {
  for (size_t i = 0; i < im->n; i++) {
    char msg[512];
    mg_json *s = mg_xapi_parse_json(&im->arena, im->batch[i].text, im->batch[i].len, msg, sizeof msg);
    if (!s) {
      report_bad(im, im->batch[i].lineno, msg);
      continue;
    }
    mg_xapi_ingest_result res;
    int rc = mg_xapi_ingest(&im->ctx, s, NULL, NULL, 0, &res);
    if (rc == MG_OK) {
      im->imported++;
    } else if (res.status >= 500) {
      fprintf(stderr, "import: %s\n", res.message);
      return MG_ESTORE;
    } else {
      report_bad(im, im->batch[i].lineno, res.message);
    }
  }
  return MG_OK;
}

static int flush(importer *im) {
  int rc = MG_OK;
  if (!im->n) return MG_OK;
  mg_arena_reset(&im->arena);
  mg_json *arr = mg_json_array(&im->arena);
  if (!arr) return MG_ENOMEM;
  int parse_failed = 0;
  for (size_t i = 0; i < im->n && !parse_failed; i++) {
    char msg[512];
    mg_json *s = mg_xapi_parse_json(&im->arena, im->batch[i].text, im->batch[i].len, msg, sizeof msg);
    if (!s || mg_json_array_append(&im->arena, arr, s)) parse_failed = 1;
  }
  if (!parse_failed) {
    mg_xapi_ingest_result res;
    rc = mg_xapi_ingest(&im->ctx, arr, NULL, NULL, 0, &res);
    if (rc == MG_OK) {
      im->imported += (long long)im->n;
    } else if (res.status >= 500) {
      fprintf(stderr, "import: %s\n", res.message);
    } else {
      rc = ingest_singly(im);
    }
  } else {
    rc = ingest_singly(im);
  }
  for (size_t i = 0; i < im->n; i++) free(im->batch[i].text);
  im->n = 0;
  return rc;
}

static void progress(const importer *im, long long lines, off_t pos, off_t size, int64_t t0,
                     int final) {
  double secs = (double)(mg_time_mono_us() - t0) / 1e6;
  double pct = size > 0 ? 100.0 * (double)pos / (double)size : 100.0;
  fprintf(stderr, "%simport: %5.1f%%  %lld lines  %lld imported  %lld bad  %.0f statements/s%s",
          isatty(2) ? "\r" : "", pct, lines, im->imported, im->bad,
          secs > 0 ? (double)im->imported / secs : 0.0, final || !isatty(2) ? "\n" : "");
  fflush(stderr);
}

int mg_cli_import(int argc, char **argv) {
  if (mg_cli_wants_help(argc, argv)) {
    printf("usage: moocguard import FILE.ndjson [--platform KEY] [--xapi-version 2.0.0|1.0.3]\n"
           "                        [--batch N] [--restart] [--max-errors N] [--json] [--store PATH]\n\n"
           "Imports one xAPI statement per line with the same validation as the LRS endpoint.\n"
           "Bad lines are reported with their line numbers and skipped. The import resumes where\n"
           "an interrupted run stopped unless --restart is given. Statements are stamped with the\n"
           "authority of the platform credential KEY (default: an 'import' authority).\n"
           "Each committed batch is fed to the misconduct detectors in a background thread and\n"
           "their findings stored (docs/detection.md); --detect-live false leaves that to the\n"
           "next `serve` (which catches up from the last processed statement) or `detect --replay`.\n");
    return MG_EXIT_OK;
  }
  const char *platform = NULL, *ver = "2.0.0", *batch_text = "1000", *maxerr_text = "100";
  int json = mg_cli_take_flag(&argc, argv, "--json");
  int restart = mg_cli_take_flag(&argc, argv, "--restart");
  if (mg_cli_take_opt(&argc, argv, "--platform", &platform) < 0 ||
      mg_cli_take_opt(&argc, argv, "--xapi-version", &ver) < 0 ||
      mg_cli_take_opt(&argc, argv, "--batch", &batch_text) < 0 ||
      mg_cli_take_opt(&argc, argv, "--max-errors", &maxerr_text) < 0) {
    fprintf(stderr, "moocguard import: option needs a value\n");
    return MG_EXIT_USAGE;
  }
  if (argc < 2 || argv[1][0] == '-') {
    fprintf(stderr, "moocguard import: FILE is required (see --help)\n");
    return MG_EXIT_USAGE;
  }
  const char *path = argv[1];
  argv[1] = argv[0];
  argc--;
  argv++;
  mg_config cfg;
  int code = mg_cli_load_config("import", &cfg, argc, argv);
  if (code) return code;
  char *end;
  long batch = strtol(batch_text, &end, 10);
  long maxerr = strtol(maxerr_text, &end, 10);
  mg_xapi_version v;
  if (batch < 1 || batch > 100000 || maxerr < 0 || mg_xapi_version_parse(ver, &v) != MG_OK) {
    fprintf(stderr, "moocguard import: bad --batch, --max-errors or --xapi-version\n");
    return MG_EXIT_USAGE;
  }

  importer im;
  memset(&im, 0, sizeof im);
  im.max_errors = maxerr;
  FILE *f = NULL;
  char *buf = NULL;
  mg_json *authority = NULL;
  mg_detect_live *live = NULL;
  mg_arena meta; /* lives for the whole run: the authority */
  mg_arena_init(&meta, 4096, 0);
  mg_arena_init(&im.arena, 1 << 20, 0);
  code = MG_EXIT_FAIL;
  f = fopen(path, "r");
  if (!f) {
    fprintf(stderr, "moocguard import: cannot open %s: %s\n", path, strerror(errno));
    goto out;
  }
  struct stat st;
  fstat(fileno(f), &st);
  int rc = mg_store_open(cfg.store, &im.store, NULL);
  if (rc) {
    fprintf(stderr, "moocguard import: cannot open store %s: %s\n", cfg.store, mg_strerror(rc));
    goto out;
  }
  if (platform) {
    mg_store_credential c;
    if (mg_store_credential_get(im.store, platform, &c) != MG_OK) {
      fprintf(stderr, "moocguard import: no platform credential %s\n", platform);
      goto out;
    }
    authority = mg_xapi_platform_authority(&meta, cfg.base_url, c.key, c.name);
    im.ctx.platform_id = c.platform_id;
  } else {
    authority = mg_xapi_platform_authority(&meta, cfg.base_url, "import", "moocguard import");
  }
  if (cfg.detect_live) {
    rc = mg_detect_live_start(im.store, NULL, &live);
    if (rc) {
      fprintf(stderr, "moocguard import: cannot start the detectors: %s\n", mg_strerror(rc));
      goto out;
    }
    im.ctx.on_durable = mg_detect_live_notify;
    im.ctx.on_durable_ud = live;
  }
  im.ctx.store = im.store;
  im.ctx.version = v;
  im.ctx.authority = authority;
  im.ctx.arena = &im.arena;
  im.cap = (size_t)batch;
  im.batch = calloc(im.cap, sizeof *im.batch);
  if (!authority || !im.batch) goto out;

  /* resume point, keyed by the file's identity */
  char resume_key[PATH_MAX + 64], resume_val[64];
  char real[PATH_MAX];
  if (!realpath(path, real)) snprintf(real, sizeof real, "%s", path);
  snprintf(resume_key, sizeof resume_key, "import:%llu:%llu:%s", (unsigned long long)st.st_dev,
           (unsigned long long)st.st_ino, real);
  long long lineno = 0;
  off_t start = 0;
  if (!restart && mg_store_setting_get(im.store, resume_key, resume_val, sizeof resume_val) == MG_OK) {
    long long off = 0, ln = 0;
    if (sscanf(resume_val, "%lld %lld", &off, &ln) == 2 && off <= st.st_size) {
      start = (off_t)off;
      lineno = ln;
      if (fseeko(f, start, SEEK_SET) != 0) start = 0, lineno = 0;
      else fprintf(stderr, "import: resuming at line %lld (byte %lld)\n", lineno + 1, off);
    }
  }
  size_t bufcap = 0;
  ssize_t got;
  int64_t t0 = mg_time_mono_us(), last = t0;
  while ((got = getline(&buf, &bufcap, f)) >= 0) {
    lineno++;
    size_t len = (size_t)got;
    while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r')) len--;
    size_t lead = 0;
    while (lead < len && (buf[lead] == ' ' || buf[lead] == '\t')) lead++;
    if (lead == len) continue;
    if (len > MAX_LINE) {
      report_bad(&im, lineno, "line longer than 16 MiB");
      continue;
    }
    char *copy = malloc(len + 1);
    if (!copy) goto out;
    memcpy(copy, buf, len);
    copy[len] = '\0';
    im.batch[im.n].text = copy;
    im.batch[im.n].len = len;
    im.batch[im.n].lineno = lineno;
    im.n++;
    if (im.n == im.cap) {
      if (flush(&im) != MG_OK) goto out;
      snprintf(resume_val, sizeof resume_val, "%lld %lld", (long long)ftello(f), lineno);
      mg_store_setting_set(im.store, resume_key, resume_val);
    }
    int64_t now = mg_time_mono_us();
    if (now - last > (isatty(2) ? 500000 : 5000000)) {
      progress(&im, lineno, ftello(f), st.st_size, t0, 0);
      last = now;
    }
  }
  if (flush(&im) != MG_OK) goto out;
  snprintf(resume_val, sizeof resume_val, "%lld %lld", (long long)ftello(f), lineno);
  mg_store_setting_set(im.store, resume_key, resume_val);
  progress(&im, lineno, st.st_size, st.st_size, t0, 1);
  double secs = (double)(mg_time_mono_us() - t0) / 1e6;
  if (live) {
    fprintf(stderr, "import: letting the detectors catch up\n");
    rc = mg_detect_live_stop(live);
    live = NULL;
    if (rc) {
      fprintf(stderr, "moocguard import: storing findings failed: %s (the next serve or "
              "`detect --replay` redoes it)\n", mg_strerror(rc));
      goto out;
    }
  }
  if (json)
    printf("{\"lines\":%lld,\"imported\":%lld,\"bad\":%lld,\"seconds\":%.3f,"
           "\"statements_per_second\":%.0f}\n",
           lineno, im.imported, im.bad, secs, secs > 0 ? (double)im.imported / secs : 0.0);
  code = im.bad ? MG_EXIT_FAIL : MG_EXIT_OK;
out:
  mg_detect_live_stop(live);
  if (im.batch)
    for (size_t i = 0; i < im.n; i++) free(im.batch[i].text);
  free(im.batch);
  free(buf);
  mg_arena_free(&im.arena);
  mg_arena_free(&meta);
  mg_store_close(im.store);
  if (f) fclose(f);
  return code;
}
