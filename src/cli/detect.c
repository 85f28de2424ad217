/* `moocguard detect`: run the detectors over stored history (--replay) or over an NDJSON file of
 * statements (--file), and write the findings to the store (or print them). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cases/sync.h"
#include "cli/cli.h"
#include "core/err.h"
#include "core/time.h"
#include "detect/detect.h"
#include "store/store.h"
#include "store/store_findings.h"

typedef struct run {
  mg_detect *d;
  mg_store *store; /* NULL: print only */
  int json, dry;
  long long stmts, new_findings, updated;
  int64_t t0, last;
} run;

static int on_finding(void *ud, const mg_detect_finding *f) {
  run *r = ud;
  if (r->json) {
    mg_buf b;
    mg_buf_init(&b, 1 << 16);
    if (mg_detect_finding_json(f, &b) == MG_OK) printf("%s\n", b.data);
    mg_buf_free(&b);
  } else {
    printf("%s %s %s score=%.2f rules=%s\n  %s\n", mg_detect_type_name(f->type), f->student,
           f->registration, f->score, f->rules, f->explain_zh);
  }
  if (r->store && !r->dry) {
    static mg_store_finding row;
    mg_detect_finding_to_store(f, mg_time_now_us(), &row);
    int inserted = 0;
    int rc = mg_store_finding_put(r->store, &row, NULL, &inserted);
    if (rc) return rc;
    if (inserted) r->new_findings++; else r->updated++;
  }
  return MG_OK;
}

static void progress(run *r, int done) {
  int64_t now = mg_time_mono_us();
  if (!done && now - r->last < (isatty(2) ? 500000 : 5000000)) return;
  r->last = now;
  double s = (now - r->t0) / 1e6;
  fprintf(stderr, "detect: %lld statements, %.0f/s%s", r->stmts, s > 0 ? r->stmts / s : 0.0,
          done ? "\n" : isatty(2) ? "\r" : "\n");
}

static int on_stmt(void *ud, int64_t seq, const char *json, size_t len) {
  (void)seq;
  run *r = ud;
  r->stmts++;
  int rc = mg_detect_feed_json(r->d, json, len);
  progress(r, 0);
  return rc;
}

static void usage(FILE *out) {
  fprintf(out,
          "usage: moocguard detect --replay [--store PATH] [--dry-run] [--json]\n"
          "       moocguard detect --file STATEMENTS.ndjson [--bank FILE.csv] [--json]\n\n"
          "Runs the misconduct detectors (docs/detection.md) over every stored statement in commit\n"
          "order (--replay) and stores the findings (one per enrolment and type; a finding found\n"
          "again is updated, keeping its status), or over an NDJSON file of statements (--file),\n"
          "printing the findings only. --dry-run prints without storing. --json prints one JSON\n"
          "finding per line. Progress goes to stderr. The known answer bank (docs/profile.md) comes\n"
          "from the store's registry (--replay) or from --bank FILE.csv (item_iri,answer[,source]).\n");
}

int mg_cli_detect(int argc, char **argv) {
  if (mg_cli_wants_help(argc, argv)) { usage(stdout); return MG_EXIT_OK; }
  run r = {0};
  int replay = mg_cli_take_flag(&argc, argv, "--replay");
  r.json = mg_cli_take_flag(&argc, argv, "--json");
  r.dry = mg_cli_take_flag(&argc, argv, "--dry-run");
  const char *file = NULL, *bankf = NULL;
  if (mg_cli_take_opt(&argc, argv, "--file", &file) < 0 || mg_cli_take_opt(&argc, argv, "--bank", &bankf) < 0 ||
      (!replay && !file) || (replay && file) || (replay && bankf)) {
    usage(stderr);
    return MG_EXIT_USAGE;
  }
  mg_config cfg;
  int code = mg_cli_load_config("detect", &cfg, argc, argv);
  if (code != MG_EXIT_OK) return code;
  code = MG_EXIT_FAIL;
  FILE *f = NULL;
  char *line = NULL;
  if (mg_detect_new(NULL, on_finding, &r, &r.d) != MG_OK) goto out;
  r.t0 = r.last = mg_time_mono_us();
  if (bankf) {
    size_t nb = 0;
    int brc = mg_cli_bank_load(r.d, bankf, &nb);
    if (brc) {
      fprintf(stderr, "moocguard detect: %s: %s\n", bankf, mg_strerror(brc));
      goto out;
    }
    fprintf(stderr, "moocguard detect: %zu known answer-bank items from %s\n", nb, bankf);
  }
  if (replay) {
    int rc = mg_store_open(cfg.store, &r.store, NULL);
    if (rc) {
      fprintf(stderr, "moocguard detect: cannot open store %s: %s\n", cfg.store, mg_strerror(rc));
      goto out;
    }
    size_t nbank = 0;
    rc = mg_detect_bank_load(r.d, r.store, &nbank);
    if (rc) {
      fprintf(stderr, "moocguard detect: known answer banks: %s\n", mg_strerror(rc));
      goto out;
    }
    if (nbank) fprintf(stderr, "moocguard detect: %zu known answer-bank items\n", nbank);
    mg_store_query q = {.ascending = 1};
    int more = 1;
    int64_t last = 0, snap = 0;
    while (more) {
      q.after_seq = last;
      q.max_seq = snap;
      rc = mg_store_stmt_query(r.store, &q, on_stmt, &r, &more, &last, &snap);
      if (rc) {
        fprintf(stderr, "moocguard detect: %s\n", mg_strerror(rc));
        goto out;
      }
    }
  } else {
    f = fopen(file, "r");
    if (!f) { fprintf(stderr, "moocguard detect: cannot open %s\n", file); goto out; }
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, f)) > 0) {
      r.stmts++;
      if (mg_detect_feed_json(r.d, line, (size_t)n) != MG_OK) goto out;
      progress(&r, 0);
    }
  }
  if (mg_detect_flush(r.d) != MG_OK) { fprintf(stderr, "moocguard detect: storing findings failed\n"); goto out; }
  progress(&r, 1);
  mg_detect_stats st;
  mg_detect_get_stats(r.d, &st);
  fprintf(stderr, "detect: %llu findings (%lld new, %lld updated), %llu duplicates ignored, %llu unparsable\n",
          (unsigned long long)st.findings, r.new_findings, r.updated,
          (unsigned long long)st.duplicates, (unsigned long long)st.unparsable);
  if (r.store && !r.dry) { /* findings → the universities' inboxes (cases/sync.h) */
    mg_sync_stats ss = {0};
    if (mg_cases_sync_findings(r.store, 0, &ss) != MG_OK) {
      fprintf(stderr, "moocguard detect: moving findings into the inbox failed\n");
      goto out;
    }
    fprintf(stderr, "detect: inbox: %lld imported, %lld updated, %lld unchanged, %lld frozen "
            "(case decided), %lld unresolved (university or student unknown)\n",
            (long long)ss.imported, (long long)ss.updated, (long long)ss.unchanged,
            (long long)ss.frozen, (long long)ss.unresolved);
  }
  code = MG_EXIT_OK;
out:
  free(line);
  if (f) fclose(f);
  mg_detect_free(r.d);
  mg_store_close(r.store);
  return code;
}
