/* `moocguard bank`: the known answer-bank registry (registry/bank.h). `bank import FILE.csv` loads
 * a crawl of public answer banks (item_iri,answer[,source]); every line is checked first, and
 * nothing is imported if any line is bad (each reported with its line number), so a file is in
 * the registry whole or not at all, with one audit record. `bank list` prints the registry. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/err.h"
#include "core/time.h"
#include "detect/detect.h"
#include "registry/bank.h"
#include "registry/csv.h"
#include "store/store.h"

#define BANK_FILE_MAX ((size_t)1 << 30) /* a crawl larger than 1 GiB is split by its producer */
#define BANK_BAD_SHOWN 50               /* bad lines printed before only counting them */

static void usage(FILE *out) {
  fprintf(out,
          "usage: moocguard bank import FILE.csv [--source NAME] [--store PATH]\n"
          "       moocguard bank list [--store PATH]\n\n"
          "The known answer-bank registry: items found circulating on public answer-bank sites and\n"
          "apps, by item IRI (the object.id of item-answered statements), with the answer the bank\n"
          "gives (right or wrong). The 刷考 detectors compare students' answers with it; `serve`\n"
          "loads it at start. FILE.csv columns: item_iri,answer[,source] (a first line naming the\n"
          "columns is skipped; --source fills an empty source). A known item is replaced.\n"
          "Every line is checked first: if any is bad, each is reported with its line number and\n"
          "nothing is imported. Exit codes: 0 imported, 1 bad lines or store failure, 2 usage.\n");
}

/* Reads a whole file into *out (NUL-terminated). MG_OK, MG_EIO, MG_ENOMEM, MG_EINVAL (too big). */
static int slurp(const char *path, char **out, size_t *len) {
  *out = NULL;
  *len = 0;
  FILE *f = fopen(path, "rb");
  if (!f) return MG_EIO;
  size_t cap = 0, n = 0;
  char *b = NULL;
  int rc = MG_OK;
  for (;;) {
    if (n + 65536 + 1 > cap) {
      size_t nc = cap ? cap * 2 : 1 << 20;
      if (nc > BANK_FILE_MAX + 65536 + 1) { rc = MG_EINVAL; break; }
      char *nb = realloc(b, nc);
      if (!nb) { rc = MG_ENOMEM; break; }
      b = nb;
      cap = nc;
    }
    size_t got = fread(b + n, 1, 65536, f);
    n += got;
    if (n > BANK_FILE_MAX) { rc = MG_EINVAL; break; }
    if (got < 65536) {
      if (ferror(f)) rc = MG_EIO;
      break;
    }
  }
  fclose(f);
  if (rc) { free(b); return rc; }
  if (!b && !(b = malloc(1))) return MG_ENOMEM;
  b[n] = 0;
  *out = b;
  *len = n;
  return MG_OK;
}

typedef struct bank_pass {
  const char *path, *source;
  mg_store *s;    /* NULL: check only */
  int64_t now;
  long rows, bad, changed[3]; /* by mg_store_bank_change */
} bank_pass;

/* One pass over the records: checks each (and, with a store, puts it). Bad lines are printed
 * with their line numbers and counted; MG_OK, or an error that stops the pass (memory, store). */
static int walk(bank_pass *bp, const char *text, size_t len) {
  mg_registry_csv c;
  memset(&c, 0, sizeof c);
  int r = mg_registry_csv_open(&c, text, len), stop = MG_OK;
  if (r) return r;
  while ((r = mg_registry_csv_next(&c)) == 1) {
    char *f[3] = {NULL, "", ""};
    for (size_t i = 0; i < c.n_fields && i < 3; i++) {
      f[i] = c.field[i];
      mg_registry_csv_trim(&f[i]);
    }
    if (c.line == 1 && c.n_fields >= 2 && !strcmp(f[0], "item_iri") && !strcmp(f[1], "answer")) continue;
    mg_registry_why why;
    memset(&why, 0, sizeof why);
    const char *src = f[2][0] ? f[2] : bp->source ? bp->source : "";
    mg_store_bank_change ch = MG_STORE_BANK_UNCHANGED;
    int rc;
    if (c.malformed)
      rc = mg_registry_refuse(&why, MG_EINVAL, "malformed", "引号不匹配 / misplaced or unterminated quote");
    else if (c.n_fields < 2 || c.n_fields > 3)
      rc = mg_registry_refuse(&why, MG_EINVAL, "columns",
                              "应为 2 或 3 列 / expected 2 or 3 columns (item_iri,answer[,source]), got %zu", c.n_fields);
    else if (bp->s)
      rc = mg_registry_bank_put(bp->s, f[0], f[1], src, "cli", bp->now, &ch, &why);
    else
      rc = mg_registry_bank_check(f[0], f[1], src, &why);
    if (rc && rc != MG_EINVAL) { stop = rc; break; } /* the store, not the line */
    if (rc) {
      if (bp->bad < BANK_BAD_SHOWN) fprintf(stderr, "%s:%zu: %s\n", bp->path, c.line, why.message);
      bp->bad++;
      continue;
    }
    bp->rows++;
    bp->changed[ch]++;
  }
  mg_registry_csv_close(&c);
  return stop ? stop : r < 0 ? r : MG_OK;
}

int mg_cli_bank_load(mg_detect *d, const char *path, size_t *n) {
  char *text = NULL;
  size_t len = 0;
  *n = 0;
  int rc = slurp(path, &text, &len);
  if (rc) return rc;
  mg_registry_csv c;
  memset(&c, 0, sizeof c);
  rc = mg_registry_csv_open(&c, text, len);
  int r = 0;
  while (!rc && (r = mg_registry_csv_next(&c)) == 1) {
    if (c.n_fields < 2 || c.malformed) continue; /* `bank import` reports them; here only the good ones count */
    char *iri = c.field[0], *ans = c.field[1];
    mg_registry_csv_trim(&iri);
    mg_registry_csv_trim(&ans);
    if (c.line == 1 && !strcmp(iri, "item_iri")) continue;
    if (mg_registry_bank_check(iri, ans, NULL, NULL)) continue;
    rc = mg_detect_bank_add(d, iri, strlen(iri), ans, strlen(ans));
    if (!rc) (*n)++;
  }
  if (!rc && r < 0) rc = r;
  mg_registry_csv_close(&c);
  free(text);
  return rc;
}

static int print_item(void *ud, const mg_store_bank_item *it) {
  (void)ud;
  printf("%s\t%s\t%s\n", it->item_iri, it->answer, it->source);
  return MG_OK;
}

static int do_import(mg_store *s, const char *path, const char *source) {
  char *text = NULL;
  size_t len = 0;
  int rc = slurp(path, &text, &len);
  if (rc) {
    fprintf(stderr, "moocguard bank import: cannot read %s: %s\n", path,
            rc == MG_EIO ? strerror(errno) : mg_strerror(rc));
    return MG_EXIT_FAIL;
  }
  bank_pass bp = {.path = path, .source = source, .now = mg_time_now_us()};
  rc = walk(&bp, text, len);
  if (rc || bp.bad) {
    if (rc) fprintf(stderr, "moocguard bank import: %s\n", mg_strerror(rc));
    else fprintf(stderr, "moocguard bank import: %ld bad line%s in %s; nothing imported\n", bp.bad,
                 bp.bad == 1 ? "" : "s", path);
    free(text);
    return MG_EXIT_FAIL;
  }
  /* the whole file and its audit record in one transaction */
  bank_pass put = {.path = path, .source = source, .s = s, .now = bp.now};
  rc = mg_store_tx_begin(s);
  if (!rc) rc = walk(&put, text, len);
  if (!rc && put.bad) rc = MG_EINVAL;
  if (!rc && (put.changed[MG_STORE_BANK_INSERTED] || put.changed[MG_STORE_BANK_UPDATED]))
    rc = mg_registry_bank_audit(s, "bank.import", "cli", "system", path, text, len, NULL, bp.now);
  if (rc) mg_store_tx_rollback(s);
  else rc = mg_store_tx_commit(s);
  free(text);
  if (rc) {
    fprintf(stderr, "moocguard bank import: %s; nothing imported\n", mg_strerror(rc));
    return MG_EXIT_FAIL;
  }
  printf("%ld items: %ld new, %ld replaced, %ld unchanged\n", put.rows, put.changed[MG_STORE_BANK_INSERTED],
         put.changed[MG_STORE_BANK_UPDATED], put.changed[MG_STORE_BANK_UNCHANGED]);
  return MG_EXIT_OK;
}

int mg_cli_bank(int argc, char **argv) {
  if (mg_cli_wants_help(argc, argv)) { usage(stdout); return MG_EXIT_OK; }
  if (argc < 2) { usage(stderr); return MG_EXIT_USAGE; }
  const char *action = argv[1], *file = NULL, *source = NULL;
  argc--;
  argv++;
  if (mg_cli_take_opt(&argc, argv, "--source", &source) < 0) {
    fprintf(stderr, "moocguard bank: --source needs a value\n");
    return MG_EXIT_USAGE;
  }
  if (!strcmp(action, "import")) {
    if (argc < 2 || argv[1][0] == '-') {
      fprintf(stderr, "moocguard bank import: FILE.csv is required\n");
      return MG_EXIT_USAGE;
    }
    file = argv[1];
    argc--;
    argv++;
  } else if (strcmp(action, "list")) {
    fprintf(stderr, "moocguard bank: unknown action '%s'\n", action);
    usage(stderr);
    return MG_EXIT_USAGE;
  }
  mg_registry_why why;
  if (source && mg_registry_bank_check("https://x/", "x", source, &why)) {
    fprintf(stderr, "moocguard bank: --source: %s\n", why.message);
    return MG_EXIT_USAGE;
  }
  mg_config cfg;
  int code = mg_cli_load_config("bank", &cfg, argc, argv);
  if (code) return code;
  mg_store *s = NULL;
  int rc = mg_store_open(cfg.store, &s, NULL);
  if (rc) {
    fprintf(stderr, "moocguard bank: cannot open %s: %s\n", cfg.store, mg_strerror(rc));
    return MG_EXIT_FAIL;
  }
  if (file) {
    code = do_import(s, file, source);
  } else {
    rc = mg_store_bank_list(s, NULL, 0, print_item, NULL, NULL);
    if (rc) fprintf(stderr, "moocguard bank list: %s\n", mg_strerror(rc));
    code = rc ? MG_EXIT_FAIL : MG_EXIT_OK;
  }
  mg_store_close(s);
  return code;
}
