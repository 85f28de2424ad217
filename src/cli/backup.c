/* cli/backup.c — `moocguard backup` and `moocguard restore`. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "audit/audit.h"
#include "cli/cli.h"
#include "core/buf.h"
#include "core/err.h"
#include "crypto/crypto.h"
#include "store/store.h"
#include "store/store_backup.h"

typedef struct progress {
  int quiet;
  int last_pct;
} progress;

static int on_progress(void *ud, int64_t done, int64_t total) {
  progress *p = ud;
  int pct = total > 0 ? (int)(done * 100 / total) : 100;
  if (!p->quiet && pct / 10 != p->last_pct / 10) {
    fprintf(stderr, "  %3d%% (%lld of %lld pages)\n", pct, (long long)done, (long long)total);
    p->last_pct = pct;
  }
  return 0;
}

static const char *base_name(const char *path) {
  const char *s = strrchr(path, '/');
  return s ? s + 1 : path;
}

/* The SQLite file behind a store URL. */
static int store_file(const char *url, const char **path) {
  if (!strncmp(url, "sqlite:", 7)) url += 7;
  else if (strstr(url, "://")) return MG_ENOTSUP;
  *path = url;
  return *url ? MG_OK : MG_EINVAL;
}

int mg_cli_backup(int argc, char **argv) {
  if (mg_cli_wants_help(argc, argv)) {
    printf("usage: moocguard backup --out FILE [--store PATH] [--json]\n\n"
           "Writes a consistent online snapshot of the store to FILE (the server may keep\n"
           "running) and FILE.sha256 (`sha256sum -c FILE.sha256` checks it). FILE must not exist.\n"
           "The key directory is not included: back it up separately and keep it apart.\n");
    return MG_EXIT_OK;
  }
  int json = mg_cli_take_flag(&argc, argv, "--json");
  const char *out = NULL;
  if (mg_cli_take_opt(&argc, argv, "--out", &out) != 1 || !*out) {
    fprintf(stderr, "moocguard backup: --out FILE is required\n");
    return MG_EXIT_USAGE;
  }
  mg_config cfg;
  int code = mg_cli_load_config("backup", &cfg, argc, argv);
  if (code) return code;
  char sumfile[4200];
  if (snprintf(sumfile, sizeof sumfile, "%s.sha256", out) >= (int)sizeof sumfile) return MG_EXIT_USAGE;
  struct stat sb;
  const char *src = NULL;
  if (store_file(cfg.store, &src) || stat(src, &sb) != 0) { /* open would create an empty one */
    fprintf(stderr, "moocguard backup: no SQLite store at %s\n", cfg.store);
    return MG_EXIT_FAIL;
  }
  mg_store *s = NULL;
  int rc = mg_store_open(cfg.store, &s, NULL);
  if (rc) {
    fprintf(stderr, "moocguard backup: cannot open %s: %s\n", cfg.store, mg_strerror(rc));
    return MG_EXIT_FAIL;
  }
  progress pr = {json, -10};
  if (!json) fprintf(stderr, "backing up %s to %s\n", cfg.store, out);
  rc = mg_store_backup(s, out, on_progress, &pr);
  int64_t statements = 0;
  if (!rc) mg_store_stmt_count(s, &statements);
  mg_store_close(s);
  if (rc) {
    fprintf(stderr, "moocguard backup: %s: %s\n", out,
            rc == MG_EEXISTS ? "already exists (choose a new name)" : mg_strerror(rc));
    return MG_EXIT_FAIL;
  }
  char sum[MG_SHA256_HEX];
  rc = mg_crypto_file_digest(out, "sha256", sum);
  FILE *f = rc ? NULL : fopen(sumfile, "wx");
  if (!f || fprintf(f, "%s  %s\n", sum, base_name(out)) < 0 || fclose(f) != 0) {
    fprintf(stderr, "moocguard backup: cannot write %s\n", sumfile);
    return MG_EXIT_FAIL;
  }
  if (stat(out, &sb) != 0) return MG_EXIT_FAIL;
  if (json) {
    mg_buf b;
    mg_buf_init(&b, 1 << 14);
    mg_buf_adds(&b, "{\"file\":\"");
    mg_buf_add_json_str(&b, out, strlen(out));
    mg_buf_addf(&b, "\",\"bytes\":%lld,\"sha256\":\"%s\",\"statements\":%lld}\n",
                (long long)sb.st_size, sum, (long long)statements);
    fputs(b.data ? b.data : "", stdout);
    mg_buf_free(&b);
  } else {
    printf("backup written: %s (%lld bytes, %lld statements)\nsha256 %s (in %s)\n", out,
           (long long)sb.st_size, (long long)statements, sum, sumfile);
  }
  return MG_EXIT_OK;
}

/* Reads the hex digest from a "<hex>  <name>" line. */
static int read_sum(const char *path, char out[MG_SHA256_HEX]) {
  FILE *f = fopen(path, "r");
  if (!f) return MG_ENOTFOUND;
  char line[512];
  int rc = fgets(line, sizeof line, f) ? MG_OK : MG_EINVAL;
  fclose(f);
  if (rc) return rc;
  for (int i = 0; i < 64; i++) {
    char c = line[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return MG_EINVAL;
  }
  if (line[64] != ' ') return MG_EINVAL;
  memcpy(out, line, 64);
  out[64] = '\0';
  return MG_OK;
}

int mg_cli_restore(int argc, char **argv) {
  if (mg_cli_wants_help(argc, argv)) {
    printf("usage: moocguard restore --in FILE --store PATH [--force] [--keys-dir DIR] [--json]\n\n"
           "Checks FILE against FILE.sha256 and SQLite's quick_check, then restores it as the\n"
           "store (refusing to replace an existing store unless --force; stop servers first).\n"
           "Afterwards the audit chain is verified with the key directory (the store's\n"
           "<path>.keys, or --keys-dir: copy the original key directory there).\n");
    return MG_EXIT_OK;
  }
  int json = mg_cli_take_flag(&argc, argv, "--json");
  int force = mg_cli_take_flag(&argc, argv, "--force");
  const char *in = NULL;
  if (mg_cli_take_opt(&argc, argv, "--in", &in) != 1 || !*in) {
    fprintf(stderr, "moocguard restore: --in FILE is required\n");
    return MG_EXIT_USAGE;
  }
  mg_config cfg;
  int code = mg_cli_load_config("restore", &cfg, argc, argv);
  if (code) return code;
  const char *dest = NULL;
  if (store_file(cfg.store, &dest)) {
    fprintf(stderr, "moocguard restore: --store must be a SQLite file path\n");
    return MG_EXIT_USAGE;
  }
  char sumfile[4200], want[MG_SHA256_HEX], got[MG_SHA256_HEX];
  if (snprintf(sumfile, sizeof sumfile, "%s.sha256", in) >= (int)sizeof sumfile) return MG_EXIT_USAGE;
  int rc = read_sum(sumfile, want);
  if (rc) {
    fprintf(stderr, "moocguard restore: %s: %s\n", sumfile,
            rc == MG_ENOTFOUND ? "missing (the checksum written by backup)" : "not a sha256 line");
    return MG_EXIT_FAIL;
  }
  if ((rc = mg_crypto_file_digest(in, "sha256", got))) {
    fprintf(stderr, "moocguard restore: cannot read %s: %s\n", in, mg_strerror(rc));
    return MG_EXIT_FAIL;
  }
  if (strcmp(want, got)) {
    fprintf(stderr, "moocguard restore: %s does not match its checksum (expected %s, file has %s); "
                    "nothing restored\n", in, want, got);
    return MG_EXIT_FAIL;
  }
  progress pr = {json, -10};
  if (!json) fprintf(stderr, "restoring %s into %s\n", in, dest);
  rc = mg_store_restore_file(in, dest, force, on_progress, &pr);
  if (rc) {
    fprintf(stderr, "moocguard restore: %s\n",
            rc == MG_EEXISTS   ? "the store exists; add --force to replace it"
            : rc == MG_EBUSY   ? "the store is in use by a running server; stop it first"
            : rc == MG_ECORRUPT ? "the backup is not an intact moocguard store"
                                : mg_strerror(rc));
    return MG_EXIT_FAIL;
  }
  /* Open it (applies newer migrations) and check what was restored. */
  mg_store *s = NULL;
  int64_t statements = 0;
  rc = mg_store_open(cfg.store, &s, NULL);
  if (rc) {
    fprintf(stderr, "moocguard restore: restored store does not open: %s\n", mg_strerror(rc));
    return MG_EXIT_FAIL;
  }
  mg_store_stmt_count(s, &statements);
  mg_audit_report r;
  memset(&r, 0, sizeof r);
  int keys = mg_cli_keys_load("restore", &cfg, 0) == MG_EXIT_OK;
  rc = mg_audit_verify(s, &r);
  mg_store_close(s);
  const char *audit = rc ? "not verified (key directory missing?)" : r.ok ? "intact" : "BROKEN";
  if (json) {
    mg_buf b;
    mg_buf_init(&b, 1 << 14);
    mg_buf_adds(&b, "{\"store\":\"");
    mg_buf_add_json_str(&b, dest, strlen(dest));
    mg_buf_addf(&b, "\",\"statements\":%lld,\"audit_ok\":%s,\"audit_records\":%lld}\n",
                (long long)statements, !rc && r.ok ? "true" : "false", (long long)r.records);
    fputs(b.data ? b.data : "", stdout);
    mg_buf_free(&b);
  } else
    printf("restored %s: %lld statements; audit log %s (%lld records)%s\n", dest,
           (long long)statements, audit, (long long)r.records,
           keys ? "" : "\nnote: copy the key directory to <store>.keys or give --keys-dir");
  /* Restored either way; only a chain found broken is a failure (no keys: warned above). */
  return !rc && !r.ok ? MG_EXIT_FAIL : MG_EXIT_OK;
}
