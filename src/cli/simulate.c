/* `moocguard simulate --out DIR`: writes a simulated term (sim/sim.h) as DIR/statements.ndjson
 * (importable with `moocguard import`), DIR/labels.ndjson (ground truth, one line per enrolment)
 * and DIR/world.json, and prints counts per cohort and family. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/time.h"
#include "sim/sim.h"

typedef struct writer {
  FILE *stmts, *labels;
  const char *dir;
  mg_buf line;
  uint64_t statements, bytes, enrolments;
  uint64_t cohort[MG_SIM_COHORT_COUNT];
  uint64_t family[MG_SIM_FAMILY_COUNT];
  uint64_t decisive_missing;
  int quiet;
  int64_t t0;
  uint64_t seed;
} writer;

/* One RFC 4180 field: quoted when it holds a comma, quote or line break. */
static int csv_field(FILE *f, const char *s) {
  if (!strpbrk(s, ",\"\r\n")) return fputs(s, f) == EOF ? MG_EIO : MG_OK;
  if (fputc('"', f) == EOF) return MG_EIO;
  for (; *s; s++)
    if ((*s == '"' && fputc('"', f) == EOF) || fputc(*s, f) == EOF) return MG_EIO;
  return fputc('"', f) == EOF ? MG_EIO : MG_OK;
}

static int on_bank_item(void *ud, const char *iri, const char *answer, const char *source) {
  FILE *f = ud;
  int rc = csv_field(f, iri);
  if (!rc && fputc(',', f) == EOF) rc = MG_EIO;
  if (!rc) rc = csv_field(f, answer);
  if (!rc && fputc(',', f) == EOF) rc = MG_EIO;
  if (!rc) rc = csv_field(f, source);
  if (!rc && fputc('\n', f) == EOF) rc = MG_EIO;
  return rc;
}

/* DIR/bank.csv: the centre's crawl of the public answer banks (part of them, never who used
 * them), for `moocguard bank import`. */
static int write_bank(writer *wr, const mg_sim_world *w) {
  char path[4096];
  snprintf(path, sizeof path, "%s/bank.csv", wr->dir);
  FILE *f = fopen(path, "wb");
  if (!f) {
    fprintf(stderr, "moocguard simulate: cannot write %s: %s\n", path, strerror(errno));
    return MG_EIO;
  }
  int rc = fputs("item_iri,answer,source\n", f) == EOF ? MG_EIO : MG_OK;
  if (!rc) rc = mg_sim_bank_crawl(w, wr->seed, MG_SIM_BANK_KNOWN, on_bank_item, f);
  if (fclose(f) != 0 && !rc) rc = MG_EIO;
  return rc;
}

static int on_world(void *ud, const mg_sim_world *w) {
  writer *wr = ud;
  char path[4096];
  snprintf(path, sizeof path, "%s/world.json", wr->dir);
  mg_buf b;
  mg_buf_init(&b, (size_t)1 << 34);
  int rc = mg_sim_world_json(w, &b);
  if (rc == MG_OK) {
    FILE *f = fopen(path, "wb");
    if (!f) {
      fprintf(stderr, "moocguard simulate: cannot write %s: %s\n", path, strerror(errno));
      rc = MG_EIO;
    } else {
      if (fwrite(b.data, 1, b.len, f) != b.len || fputc('\n', f) == EOF) rc = MG_EIO;
      if (fclose(f) != 0) rc = MG_EIO;
    }
  }
  mg_buf_free(&b);
  if (rc == MG_OK) rc = write_bank(wr, w);
  return rc;
}

static int on_statement(void *ud, const char *json, size_t len) {
  writer *wr = ud;
  if (fwrite(json, 1, len, wr->stmts) != len || fputc('\n', wr->stmts) == EOF) return MG_EIO;
  wr->statements++;
  wr->bytes += len + 1;
  return MG_OK;
}

static int on_label(void *ud, const mg_sim_label *l) {
  writer *wr = ud;
  mg_buf_reset(&wr->line);
  int rc = mg_sim_label_json(l, &wr->line);
  if (rc) return rc;
  if (fwrite(wr->line.data, 1, wr->line.len, wr->labels) != wr->line.len || fputc('\n', wr->labels) == EOF)
    return MG_EIO;
  wr->enrolments++;
  wr->cohort[l->cohort]++;
  for (size_t i = 0; i < l->n_misconduct; i++) {
    wr->family[l->misconduct[i].family]++;
    if (!l->misconduct[i].decisive_statement_id[0]) wr->decisive_missing++;
  }
  return MG_OK;
}

static void on_progress(void *ud, const mg_sim_progress *p) {
  writer *wr = ud;
  if (wr->quiet) return;
  double s = (double)(mg_time_mono_us() - wr->t0) / 1e6;
  fprintf(stderr, "simulate: day %d/%d, %llu statements (%.0f/s)\n", p->day, p->days,
          (unsigned long long)p->statements, s > 0 ? (double)p->statements / s : 0.0);
}

static void usage(FILE *out) {
  fprintf(out,
          "usage: moocguard simulate --out DIR [options]\n\n"
          "Simulates a university term on credit-course platforms: honest students (with look-alikes\n"
          "of misconduct) and injected 刷课/替课/刷考/替考, as profile-conformant xAPI statements.\n"
          "Writes DIR/statements.ndjson, DIR/labels.ndjson, DIR/world.json and DIR/bank.csv (the part of\n"
          "the public answer banks a monitoring centre's crawl would know, for `moocguard bank import`).\n\n"
          "options:\n"
          "  --out DIR             output directory (created if missing)\n"
          "  --seed N              random seed (default 1); the same options give the same bytes\n"
          "  --students N          students (default 5000)\n"
          "  --courses N           courses in the catalogue (default 60)\n"
          "  --universities N      (default 12)\n"
          "  --platforms N         (default 4)\n"
          "  --enrolments X        mean courses per student (default 2.4)\n"
          "  --weeks N             term length (default 16)\n"
          "  --attack-scale X      multiply every attack rate by X (default 1)\n"
          "  --rate FAMILY=X       set one family's rate (brush_forged, brush_bot, brush_operator,\n"
          "                        proxy_study, exam_brush, proxy_exam) or one look-alike cohort's\n"
          "                        (honest_nat, honest_crammer ...); may repeat\n"
          "  --duplicates X        share of statements re-posted with the same id (default 0.0005)\n"
          "  --variants LIST       hold variants out: '-name,...' excludes those, 'name,...' keeps only\n"
          "                        those (variant or family names; see docs/simulator.md)\n"
          "  --quiet               no progress on stderr\n"
          "  --json                print the summary as JSON\n"
          "  -h, --help            this text\n");
}

static int parse_ll(const char *s, long long lo, long long hi, long long *out) {
  char *end;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (errno || end == s || *end || v < lo || v > hi) return -1;
  *out = v;
  return 0;
}
static int parse_d(const char *s, double *out) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || end == s || *end) return -1;
  *out = v;
  return 0;
}

int mg_cli_simulate(int argc, char **argv) {
  if (mg_cli_wants_help(argc, argv)) {
    usage(stdout);
    return MG_EXIT_OK;
  }
  mg_sim_config cfg;
  mg_sim_config_default(&cfg);
  const char *out = NULL, *v;
  int json = mg_cli_take_flag(&argc, argv, "--json");
  int quiet = mg_cli_take_flag(&argc, argv, "--quiet");
  if (mg_cli_take_opt(&argc, argv, "--out", &out) < 0 || !out) {
    fprintf(stderr, "moocguard simulate: --out DIR is required\n");
    return MG_EXIT_USAGE;
  }
  const struct {
    const char *name;
    int *field;
    long long lo, hi;
  } ints[] = {{"--students", &cfg.students, 1, 50000000}, {"--courses", &cfg.courses, 1, 5000},
              {"--universities", &cfg.universities, 1, 200}, {"--platforms", &cfg.platforms, 1, 12},
              {"--weeks", &cfg.weeks, 4, 30}};
  for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
    int got = mg_cli_take_opt(&argc, argv, ints[i].name, &v);
    long long n;
    if (got < 0 || (got && parse_ll(v, ints[i].lo, ints[i].hi, &n))) {
      fprintf(stderr, "moocguard simulate: %s needs an integer from %lld to %lld\n", ints[i].name, ints[i].lo,
              ints[i].hi);
      return MG_EXIT_USAGE;
    }
    if (got) *ints[i].field = (int)n;
  }
  int got = mg_cli_take_opt(&argc, argv, "--seed", &v);
  long long seed;
  if (got < 0 || (got && parse_ll(v, 0, 0x7fffffffffffffffLL, &seed))) {
    fprintf(stderr, "moocguard simulate: --seed needs a non-negative integer\n");
    return MG_EXIT_USAGE;
  }
  if (got) cfg.seed = (uint64_t)seed;
  double d;
  if ((got = mg_cli_take_opt(&argc, argv, "--enrolments", &v)) < 0 || (got && parse_d(v, &d))) {
    fprintf(stderr, "moocguard simulate: --enrolments needs a number\n");
    return MG_EXIT_USAGE;
  }
  if (got) cfg.enrolments_per_student = d;
  if ((got = mg_cli_take_opt(&argc, argv, "--duplicates", &v)) < 0 || (got && parse_d(v, &d))) {
    fprintf(stderr, "moocguard simulate: --duplicates needs a number\n");
    return MG_EXIT_USAGE;
  }
  if (got) cfg.duplicate_rate = d;
  if ((got = mg_cli_take_opt(&argc, argv, "--attack-scale", &v)) < 0 || (got && (parse_d(v, &d) || d < 0))) {
    fprintf(stderr, "moocguard simulate: --attack-scale needs a number >= 0\n");
    return MG_EXIT_USAGE;
  }
  if (got)
    for (int i = 0; i < MG_SIM_FAMILY_COUNT; i++) cfg.attack_rate[i] *= d;
  while ((got = mg_cli_take_opt(&argc, argv, "--rate", &v)) != 0) {
    char name[64];
    const char *eq = got > 0 ? strchr(v, '=') : NULL;
    mg_sim_family f;
    mg_sim_cohort c;
    if (!eq || (size_t)(eq - v) >= sizeof name || parse_d(eq + 1, &d)) {
      fprintf(stderr, "moocguard simulate: --rate needs NAME=X, e.g. --rate brush_bot=0.01\n");
      return MG_EXIT_USAGE;
    }
    memcpy(name, v, (size_t)(eq - v));
    name[eq - v] = '\0';
    if (mg_sim_family_parse(name, &f) == MG_OK)
      cfg.attack_rate[f] = d;
    else if (mg_sim_cohort_parse(name, &c) == MG_OK && c != MG_SIM_HONEST && c != MG_SIM_ATTACKED)
      cfg.lookalike_rate[c] = d;
    else {
      fprintf(stderr, "moocguard simulate: --rate: unknown family or cohort '%s'\n", name);
      return MG_EXIT_USAGE;
    }
  }
  if ((got = mg_cli_take_opt(&argc, argv, "--variants", &v)) < 0) {
    fprintf(stderr, "moocguard simulate: --variants needs a list, e.g. --variants -cron_runner,-exam_farm\n");
    return MG_EXIT_USAGE;
  }
  if (got) {
    char verr[160];
    if (mg_sim_config_variants(&cfg, v, verr, sizeof verr) != MG_OK) {
      fprintf(stderr, "moocguard simulate: %s\n", verr);
      return MG_EXIT_USAGE;
    }
  }
  if (argc > 1) {
    fprintf(stderr, "moocguard simulate: unexpected argument '%s'\n", argv[1]);
    return MG_EXIT_USAGE;
  }
  char err[256];
  if (mg_sim_config_check(&cfg, err, sizeof err) != MG_OK) {
    fprintf(stderr, "moocguard simulate: %s\n", err);
    return MG_EXIT_USAGE;
  }
  if (mkdir(out, 0755) != 0 && errno != EEXIST) {
    fprintf(stderr, "moocguard simulate: cannot create %s: %s\n", out, strerror(errno));
    return MG_EXIT_FAIL;
  }
  writer wr;
  memset(&wr, 0, sizeof wr);
  wr.dir = out;
  wr.quiet = quiet;
  wr.seed = cfg.seed;
  mg_buf_init(&wr.line, 1 << 20);
  char path[4096];
  snprintf(path, sizeof path, "%s/statements.ndjson", out);
  wr.stmts = fopen(path, "wb");
  snprintf(path, sizeof path, "%s/labels.ndjson", out);
  wr.labels = fopen(path, "wb");
  int rc = MG_EXIT_FAIL;
  if (!wr.stmts || !wr.labels) {
    fprintf(stderr, "moocguard simulate: cannot write in %s: %s\n", out, strerror(errno));
    goto done;
  }
  static char iobuf[1 << 20];
  setvbuf(wr.stmts, iobuf, _IOFBF, sizeof iobuf);
  wr.t0 = mg_time_mono_us();
  mg_sim_sink sink = {&wr, on_world, on_statement, on_label, on_progress};
  int r = mg_sim_run(&cfg, &sink);
  if (r != MG_OK) {
    fprintf(stderr, "moocguard simulate: %s\n", r == MG_EIO ? "write failed (disk full?)" : mg_strerror(r));
    goto done;
  }
  double secs = (double)(mg_time_mono_us() - wr.t0) / 1e6;
  if (json) {
    printf("{\"seed\":%llu,\"statements\":%llu,\"bytes\":%llu,\"enrolments\":%llu,\"seconds\":%.2f,\"cohorts\":{",
           (unsigned long long)cfg.seed, (unsigned long long)wr.statements, (unsigned long long)wr.bytes,
           (unsigned long long)wr.enrolments, secs);
    for (int i = 0; i < MG_SIM_COHORT_COUNT; i++)
      printf("%s\"%s\":%llu", i ? "," : "", mg_sim_cohort_name((mg_sim_cohort)i), (unsigned long long)wr.cohort[i]);
    printf("},\"families\":{");
    for (int i = 0; i < MG_SIM_FAMILY_COUNT; i++)
      printf("%s\"%s\":%llu", i ? "," : "", mg_sim_family_name((mg_sim_family)i), (unsigned long long)wr.family[i]);
    printf("},\"without_decisive\":%llu,\"out\":\"%s\"}\n", (unsigned long long)wr.decisive_missing, out);
  } else {
    printf("simulated %llu enrolments, %llu statements (%.1f MB) in %.1f s -> %s\n",
           (unsigned long long)wr.enrolments, (unsigned long long)wr.statements, (double)wr.bytes / 1e6, secs, out);
    printf("cohorts:\n");
    for (int i = 0; i < MG_SIM_COHORT_COUNT; i++)
      printf("  %-20s %8llu\n", mg_sim_cohort_name((mg_sim_cohort)i), (unsigned long long)wr.cohort[i]);
    printf("misconduct (an enrolment may carry two):\n");
    for (int i = 0; i < MG_SIM_FAMILY_COUNT; i++)
      printf("  %-16s %s %8llu\n", mg_sim_family_name((mg_sim_family)i), mg_sim_family_regulation((mg_sim_family)i),
             (unsigned long long)wr.family[i]);
    if (wr.decisive_missing)
      printf("  (%llu labelled misconduct left no decisive statement: the plan did not play out)\n",
             (unsigned long long)wr.decisive_missing);
  }
  rc = MG_EXIT_OK;
done:
  if (wr.stmts && fclose(wr.stmts) != 0 && rc == MG_EXIT_OK) {
    fprintf(stderr, "moocguard simulate: write failed\n");
    rc = MG_EXIT_FAIL;
  }
  if (wr.labels && fclose(wr.labels) != 0 && rc == MG_EXIT_OK) {
    fprintf(stderr, "moocguard simulate: write failed\n");
    rc = MG_EXIT_FAIL;
  }
  mg_buf_free(&wr.line);
  return rc;
}
