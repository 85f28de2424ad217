/* `moocguard eval`: runs the detectors over a labelled term and prints, per misconduct family,
 * recall at the operating threshold, precision, the false-positive rate among honest enrolments
 * and among each honest look-alike cohort, and the time from the decisive statement to the
 * finding. Input: statements (NDJSON) and labels (NDJSON, one object per enrolment:
 * {"registration": UUID, "cohort": name, "family": null | "brush_forged" | "brush_bot" |
 * "brush_operator" | "proxy_study" | "exam_brush" | "proxy_exam", "decisive_timestamp": ISO}). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/err.h"
#include "core/json.h"
#include "core/time.h"
#include "detect/detect.h"
#include "sim/sim.h"

static const char *k_families[] = {"brush_forged", "brush_bot", "brush_operator", "proxy_study",
                                   "exam_brush", "proxy_exam"};
static const mg_detect_type k_family_type[] = {MG_DETECT_COURSE_BRUSHING, MG_DETECT_COURSE_BRUSHING,
                                               MG_DETECT_COURSE_BRUSHING, MG_DETECT_PROXY_STUDY,
                                               MG_DETECT_EXAM_BRUSHING, MG_DETECT_PROXY_EXAM};
#define NFAM 6

typedef struct label {
  uint64_t reg;
  int family;          /* first family, -1 honest */
  unsigned fams;       /* bit per family (a label may carry two) */
  int cohort;          /* index into cohorts */
  int64_t decisive[NFAM]; /* 0 unknown */
  uint8_t found;       /* bit per type */
  int64_t found_at[MG_DETECT_TYPE_COUNT_];
  char variant[24];    /* first misconduct's tool behaviour (simulator runs only) */
} label;

typedef struct fnd { uint64_t reg; int type; int64_t at; char rules[256]; } fnd;

typedef struct ev_state {
  label *l;
  size_t n, cap;
  char cohorts[64][48];
  int ncohorts;
  long long findings[MG_DETECT_TYPE_COUNT_], unlabelled;
  fnd *f;
  size_t nf, capf;
} ev_state;

static label *find_label(ev_state *s, uint64_t reg) {
  for (size_t lo = 0, hi = s->n; lo < hi;) { /* sorted by reg */
    size_t mid = (lo + hi) / 2;
    if (s->l[mid].reg == reg) return &s->l[mid];
    if (s->l[mid].reg < reg) lo = mid + 1; else hi = mid;
  }
  return NULL;
}

static int on_finding(void *ud, const mg_detect_finding *f) {
  ev_state *s = ud;
  if (s->nf == s->capf) {
    size_t nc = s->capf ? s->capf * 2 : 1024;
    fnd *n = realloc(s->f, nc * sizeof *n);
    if (!n) return MG_ENOMEM;
    s->f = n;
    s->capf = nc;
  }
  fnd *n = &s->f[s->nf++];
  n->reg = f->reg_hash;
  n->type = f->type;
  n->at = f->found_at_us;
  snprintf(n->rules, sizeof n->rules, "%s", f->rules);
  return MG_OK;
}

static void apply_findings(ev_state *s) {
  for (size_t i = 0; i < s->nf; i++) {
    s->findings[s->f[i].type]++;
    label *l = find_label(s, s->f[i].reg);
    if (!l) { s->unlabelled++; continue; }
    if (!(l->found & (1u << s->f[i].type))) {
      l->found |= (uint8_t)(1u << s->f[i].type);
      l->found_at[s->f[i].type] = s->f[i].at;
    }
  }
}

static label *new_label(ev_state *s) {
  if (s->n == s->cap) {
    s->cap = s->cap ? s->cap * 2 : 1024;
    label *nl = realloc(s->l, s->cap * sizeof *nl);
    if (!nl) return NULL;
    s->l = nl;
  }
  label *l = &s->l[s->n++];
  memset(l, 0, sizeof *l);
  l->family = -1;
  return l;
}

static int cohort_index(ev_state *s, const char *co) {
  int c = 0;
  while (c < s->ncohorts && strcmp(s->cohorts[c], co)) c++;
  if (c == s->ncohorts && s->ncohorts < 64) snprintf(s->cohorts[s->ncohorts++], 48, "%s", co);
  return c < 64 ? c : 63;
}

static int cmp_label(const void *a, const void *b) {
  uint64_t x = ((const label *)a)->reg, y = ((const label *)b)->reg;
  return x < y ? -1 : x > y;
}

static int cmp_d(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static int load_labels(ev_state *s, const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) { fprintf(stderr, "moocguard eval: cannot open %s\n", path); return MG_EIO; }
  char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  long long lineno = 0;
  int rc = MG_OK;
  mg_arena a;
  mg_arena_init(&a, 0, 0);
  while ((n = getline(&line, &cap, f)) > 0) {
    lineno++;
    mg_arena_reset(&a);
    mg_json_error err;
    mg_json *o = mg_json_parse(&a, line, (size_t)n, 0, &err);
    const char *reg = o ? mg_json_string_value(mg_json_object_get(o, "registration")) : NULL;
    if (!reg) {
      fprintf(stderr, "moocguard eval: %s line %lld: expected an object with \"registration\"\n", path, lineno);
      rc = MG_EINVAL;
      break;
    }
    label *l = new_label(s);
    if (!l) { rc = MG_ENOMEM; break; }
    l->reg = mg_detect_hash(reg, strlen(reg));
    /* the simulator's labels.ndjson: a "misconduct" array of {family, decisive_timestamp} */
    mg_json *mis = mg_json_object_get(o, "misconduct");
    if (mg_json_is_array(mis)) {
      size_t k;
      mg_json *m;
      mg_json_array_foreach(mis, k, m) {
        const char *mf = mg_json_string_value(mg_json_object_get(m, "family"));
        int fi = -1;
        for (int i = 0; mf && i < NFAM; i++)
          if (!strcmp(mf, k_families[i])) fi = i;
        if (fi < 0) continue;
        if (l->family < 0) l->family = fi;
        l->fams |= 1u << fi;
        const char *mts = mg_json_string_value(mg_json_object_get(m, "decisive_timestamp"));
        mg_timestamp mt;
        if (mts && mg_time_parse_iso(mts, 1, &mt) == MG_OK) l->decisive[fi] = mt.us;
      }
      const char *co = mg_json_string_value(mg_json_object_get(o, "cohort"));
      l->cohort = cohort_index(s, co ? co : "honest");
      continue;
    }
    const char *fam = mg_json_string_value(mg_json_object_get(o, "family"));
    for (int i = 0; fam && i < NFAM; i++)
      if (!strcmp(fam, k_families[i])) l->family = i;
    if (fam && *fam && l->family < 0) {
      fprintf(stderr, "moocguard eval: %s line %lld: unknown family \"%s\"\n", path, lineno, fam);
      rc = MG_EINVAL;
      break;
    }
    const char *co = mg_json_string_value(mg_json_object_get(o, "cohort"));
    if (!co) co = l->family < 0 ? "honest" : k_families[l->family];
    l->cohort = cohort_index(s, co);
    if (l->family >= 0) l->fams = 1u << l->family;
    const char *dts = mg_json_string_value(mg_json_object_get(o, "decisive_timestamp"));
    mg_timestamp t;
    if (l->family >= 0 && dts && mg_time_parse_iso(dts, 1, &t) == MG_OK) l->decisive[l->family] = t.us;
  }
  mg_arena_free(&a);
  free(line);
  fclose(f);
  return rc;
}

/* ---- in process: the simulator streams straight into the engine ---------------------------- */

typedef struct simrun {
  ev_state *s;
  mg_detect *d;
  long long count;
  uint64_t seed;
  double bank_known; /* share of the public banks' items the centre's crawl knows */
} simrun;

static int bank_item(void *ud, const char *iri, const char *answer, const char *source) {
  (void)source;
  return mg_detect_bank_add(ud, iri, strlen(iri), answer, strlen(answer));
}

/* The centre's crawl of the public banks: only part of each bank is ever known. */
static int sim_world(void *ud, const mg_sim_world *w) {
  simrun *r = ud;
  return r->bank_known > 0 ? mg_sim_bank_crawl(w, r->seed, r->bank_known, bank_item, r->d) : MG_OK;
}

static int sim_stmt(void *ud, const char *json, size_t len) {
  simrun *r = ud;
  r->count++;
  return mg_detect_feed_json(r->d, json, len);
}

static int sim_label(void *ud, const mg_sim_label *sl) {
  simrun *r = ud;
  label *l = new_label(r->s);
  if (!l) return MG_ENOMEM;
  l->reg = mg_detect_hash(sl->registration, strlen(sl->registration));
  l->cohort = cohort_index(r->s, mg_sim_cohort_name(sl->cohort));
  for (size_t i = 0; i < sl->n_misconduct; i++) {
    int fam = (int)sl->misconduct[i].family;
    if (fam < 0 || fam >= NFAM) continue;
    if (l->family < 0) {
      l->family = fam;
      if (sl->misconduct[i].variant) snprintf(l->variant, sizeof l->variant, "%s", sl->misconduct[i].variant);
    }
    l->fams |= 1u << fam;
    l->decisive[fam] = sl->misconduct[i].decisive_us;
  }
  return MG_OK;
}

static void sim_progress(void *ud, const mg_sim_progress *p) {
  (void)ud;
  if (p->day % 14 == 0 || p->day == p->days)
    fprintf(stderr, "eval: day %d/%d, %llu statements\n", p->day, p->days, (unsigned long long)p->statements);
}

static void usage(FILE *out) {
  fprintf(out,
          "usage: moocguard eval [--seed N] [--students N] [--rate FAMILY=X]... [--variants LIST] [--json]\n"
          "                                        (simulated term, in process; --rate/--variants as in simulate)\n"
          "       [--bank-known P]                 (share of the public banks' items the centre's crawl\n"
          "                                        knows and hands the detectors, default 0.7; 0 = none)\n"
          "       moocguard eval --statements FILE.ndjson --labels FILE.ndjson [--bank FILE.csv] [--json]\n"
          "       moocguard eval --dir DIR [--json]   (DIR/statements.ndjson, DIR/labels.ndjson and,\n"
          "                                        if present, the known answer bank DIR/bank.csv)\n\n"
          "Feeds the statements to the detectors in file order (no HTTP, no store) and compares the\n"
          "findings with the labels: per family recall at the operating threshold, precision of the\n"
          "finding type, FPR among honest enrolments and per honest cohort, and the time from the\n"
          "decisive statement to the finding (p50/p99/max). Run it on several seeds' outputs.\n");
}

/* --rate NAME=X (repeatable) and --variants LIST, as `moocguard simulate` takes them, so a
 * family or variant can be enlarged or isolated without writing the term to disk.
 * 0, or -1 after printing what was wrong. */
static int take_sim_opts(int *argc, char **argv, mg_sim_config *sc) {
  const char *v;
  int got;
  while ((got = mg_cli_take_opt(argc, argv, "--rate", &v)) != 0) {
    char name[64], *end;
    const char *eq = got > 0 ? strchr(v, '=') : NULL;
    double x = eq ? strtod(eq + 1, &end) : 0;
    mg_sim_family f;
    if (!eq || (size_t)(eq - v) >= sizeof name || !eq[1] || *end || !(x >= 0)) {
      fprintf(stderr, "moocguard eval: --rate needs FAMILY=X, e.g. --rate exam_brush=3\n");
      return -1;
    }
    memcpy(name, v, (size_t)(eq - v));
    name[eq - v] = '\0';
    if (mg_sim_family_parse(name, &f) != MG_OK) {
      fprintf(stderr, "moocguard eval: --rate: unknown family '%s'\n", name);
      return -1;
    }
    sc->attack_rate[f] = x;
  }
  if ((got = mg_cli_take_opt(argc, argv, "--variants", &v)) < 0) {
    fprintf(stderr, "moocguard eval: --variants needs a list, e.g. --variants answer_ring\n");
    return -1;
  }
  char err[160];
  if (got && mg_sim_config_variants(sc, v, err, sizeof err) != MG_OK) {
    fprintf(stderr, "moocguard eval: %s\n", err);
    return -1;
  }
  return 0;
}

int mg_cli_eval(int argc, char **argv) {
  if (mg_cli_wants_help(argc, argv)) { usage(stdout); return MG_EXIT_OK; }
  const char *stmts = NULL, *labels = NULL, *dir = NULL, *seed = NULL, *students = NULL, *bk = NULL, *bankf = NULL;
  double bank_known = MG_SIM_BANK_KNOWN;
  mg_sim_config sc;
  mg_sim_config_default(&sc);
  int json = mg_cli_take_flag(&argc, argv, "--json");
  if (mg_cli_take_opt(&argc, argv, "--statements", &stmts) < 0 ||
      mg_cli_take_opt(&argc, argv, "--labels", &labels) < 0 ||
      mg_cli_take_opt(&argc, argv, "--seed", &seed) < 0 ||
      mg_cli_take_opt(&argc, argv, "--students", &students) < 0 ||
      mg_cli_take_opt(&argc, argv, "--bank-known", &bk) < 0 ||
      mg_cli_take_opt(&argc, argv, "--bank", &bankf) < 0 ||
      mg_cli_take_opt(&argc, argv, "--dir", &dir) < 0 || take_sim_opts(&argc, argv, &sc) < 0 || argc > 1 ||
      !((stmts && labels && !dir) || (dir && !stmts && !labels) || (!stmts && !labels && !dir))) {
    usage(stderr);
    return MG_EXIT_USAGE;
  }
  char *end;
  if (seed) {
    sc.seed = strtoull(seed, &end, 10);
    if (*end || !*seed) { fprintf(stderr, "moocguard eval: --seed must be a number\n"); return MG_EXIT_USAGE; }
  }
  if (students) {
    long v = strtol(students, &end, 10);
    if (*end || v < 1 || v > 50000000) { fprintf(stderr, "moocguard eval: --students must be 1..50000000\n"); return MG_EXIT_USAGE; }
    sc.students = (int)v;
  }
  if (bk) {
    bank_known = strtod(bk, &end);
    if (*end || !*bk || !(bank_known >= 0 && bank_known <= 1)) {
      fprintf(stderr, "moocguard eval: --bank-known must be 0..1\n");
      return MG_EXIT_USAGE;
    }
  }
  char sp[1024], lp[1024], bp[1024];
  if (dir) {
    snprintf(sp, sizeof sp, "%s/statements.ndjson", dir);
    snprintf(lp, sizeof lp, "%s/labels.ndjson", dir);
    snprintf(bp, sizeof bp, "%s/bank.csv", dir);
    stmts = sp;
    labels = lp;
    if (!bankf && bank_known > 0 && access(bp, R_OK) == 0) bankf = bp; /* simulate's crawl */
  }
  ev_state s = {0};
  mg_detect *d = NULL;
  FILE *f = NULL;
  char *line = NULL;
  int code = MG_EXIT_FAIL;
  if (mg_detect_new(NULL, on_finding, &s, &d) != MG_OK) goto out;
  long long count = 0;
  int64_t t0 = mg_time_mono_us();
  if (stmts) {
    if (bankf) {
      size_t nb = 0;
      int brc = mg_cli_bank_load(d, bankf, &nb);
      if (brc) { fprintf(stderr, "moocguard eval: %s: %s\n", bankf, mg_strerror(brc)); goto out; }
      fprintf(stderr, "eval: %zu known answer-bank items from %s\n", nb, bankf);
    }
    if (load_labels(&s, labels) != MG_OK) goto out;
    f = fopen(stmts, "r");
    if (!f) { fprintf(stderr, "moocguard eval: cannot open %s\n", stmts); goto out; }
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, f)) > 0) {
      if (mg_detect_feed_json(d, line, (size_t)n) != MG_OK) goto out;
      if (++count % 1000000 == 0) fprintf(stderr, "eval: %lld statements\n", count);
    }
  } else {
    simrun r = {.s = &s, .d = d, .seed = sc.seed, .bank_known = bank_known};
    mg_sim_sink sink = {.ud = &r, .world = sim_world, .statement = sim_stmt, .label = sim_label, .progress = sim_progress};
    char err[256];
    if (mg_sim_config_check(&sc, err, sizeof err) != MG_OK) { fprintf(stderr, "moocguard eval: %s\n", err); goto out; }
    int rc = mg_sim_run(&sc, &sink);
    if (rc) { fprintf(stderr, "moocguard eval: simulation failed: %s\n", mg_strerror(rc)); goto out; }
    count = r.count;
  }
  if (mg_detect_flush(d) != MG_OK) goto out;
  double secs = (mg_time_mono_us() - t0) / 1e6;
  if (s.n > 1) qsort(s.l, s.n, sizeof *s.l, cmp_label);
  apply_findings(&s);

  /* honest totals */
  long long honest = 0, honest_fp = 0, ch[64] = {0}, cfp[64] = {0}, chon[64] = {0};
  for (size_t i = 0; i < s.n; i++) {
    label *l = &s.l[i];
    ch[l->cohort]++;
    if (l->family < 0) {
      honest++;
      chon[l->cohort] = 1;
      if (l->found) { honest_fp++; cfp[l->cohort]++; }
    }
  }
  if (json) printf("{\"statements\":%lld,\"seconds\":%.2f,\"families\":[", count, secs);
  else printf("%lld statements in %.1f s; %zu labelled enrolments, %lld honest\n\n"
              "%-15s %6s %8s %9s %8s %9s %9s %9s\n", count, secs, s.n, honest, "family", "n",
              "recall", "precision", "fpr", "p50 s", "p99 s", "max s");
  for (int fam = 0; fam < NFAM; fam++) {
    mg_detect_type t = k_family_type[fam];
    long long nf = 0, hit = 0, tp = 0;
    double *lat = malloc((s.n + 1) * sizeof *lat);
    size_t nl = 0;
    for (size_t i = 0; i < s.n; i++) {
      label *l = &s.l[i];
      if (l->found & (1u << t)) {
        /* precision of the type: the finding's enrolment belongs to a family of that type */
        for (int k = 0; k < NFAM; k++)
          if ((l->fams & (1u << k)) && k_family_type[k] == t) { tp++; break; }
      }
      if (!(l->fams & (1u << fam))) continue;
      nf++;
      if (l->found & (1u << t)) {
        hit++;
        if (l->decisive[fam] && lat) lat[nl++] = (l->found_at[t] - l->decisive[fam]) / 1e6;
      }
    }
    double recall = nf ? (double)hit / nf : NAN;
    double prec = s.findings[t] ? (double)tp / (double)(s.findings[t] - 0) : NAN;
    double fpr = honest ? (double)honest_fp / honest : NAN;
    double p50 = NAN, p99 = NAN, mx = NAN;
    if (nl && lat) {
      qsort(lat, nl, sizeof *lat, cmp_d);
      p50 = lat[nl / 2];
      p99 = lat[(size_t)((nl - 1) * 0.99)];
      mx = lat[nl - 1];
    }
    free(lat);
    if (json)
      printf("%s{\"family\":\"%s\",\"type\":\"%s\",\"n\":%lld,\"recall\":%.4f,\"precision\":%.4f,"
             "\"latency_p50_s\":%.1f,\"latency_p99_s\":%.1f,\"latency_max_s\":%.1f}",
             fam ? "," : "", k_families[fam], mg_detect_type_name(t), nf, isnan(recall) ? -1 : recall,
             isnan(prec) ? -1 : prec, isnan(p50) ? -1 : p50, isnan(p99) ? -1 : p99, isnan(mx) ? -1 : mx);
    else
      printf("%-15s %6lld %7.2f%% %8.2f%% %7.3f%% %9.1f %9.1f %9.1f\n", k_families[fam], nf,
             100 * recall, 100 * prec, 100 * fpr, p50, p99, mx);
  }
  if (json) printf("],\"honest\":%lld,\"honest_fpr\":%.6f,\"cohorts\":[", honest, honest ? (double)honest_fp / honest : 0);
  else printf("\nhonest FPR (any finding): %lld / %lld = %.3f%%\n\n%-24s %8s %8s\n", honest_fp, honest,
              honest ? 100.0 * honest_fp / honest : 0.0, "honest cohort", "n", "fpr");
  int first = 1;
  for (int c = 0; c < s.ncohorts; c++) {
    if (!chon[c]) continue;
    double r = ch[c] ? (double)cfp[c] / ch[c] : 0;
    if (json) printf("%s{\"cohort\":\"%s\",\"n\":%lld,\"fpr\":%.6f}", first ? "" : ",", s.cohorts[c], ch[c], r);
    else printf("%-24s %8lld %7.3f%%\n", s.cohorts[c], ch[c], 100 * r);
    first = 0;
  }
  if (json) printf("],\"unlabelled_findings\":%lld}\n", s.unlabelled);
  else {
    /* recall per tool behaviour (first misconduct of each enrolment), for tuning */
    printf("\nrecall by variant:\n");
    for (size_t i = 0; i < s.n; i++) {
      label *l = &s.l[i];
      if (l->family < 0 || !l->variant[0]) continue;
      long long n = 0, hit = 0;
      for (size_t j = i; j < s.n; j++) {
        label *m = &s.l[j];
        if (m->family != l->family || strcmp(m->variant, l->variant)) continue;
        n++;
        hit += (m->found >> k_family_type[m->family]) & 1u;
        if (j > i) m->variant[0] = 0;
      }
      printf("  %-15s %-20s %4lld/%-4lld\n", k_families[l->family], l->variant, hit, n);
      l->variant[0] = 0;
    }
    /* which rule combinations the honest false positives came from, for tuning */
    printf("\nhonest false positives by rules:\n");
    for (size_t i = 0; i < s.nf; i++) {
      label *l = find_label(&s, s.f[i].reg);
      if (!l || l->family >= 0 || !s.f[i].rules[0]) continue;
      long long c = 0;
      for (size_t j = i; j < s.nf; j++) {
        label *m = find_label(&s, s.f[j].reg);
        if (m && m->family < 0 && s.f[j].type == s.f[i].type && !strcmp(s.f[j].rules, s.f[i].rules)) {
          c++;
          if (j > i) s.f[j].rules[0] = 0;
        }
      }
      printf("  %5lld  %s: %s\n", c, mg_detect_type_name((mg_detect_type)s.f[i].type), s.f[i].rules);
    }
  }
  code = MG_EXIT_OK;
out:
  free(line);
  if (f) fclose(f);
  mg_detect_free(d);
  free(s.l);
  free(s.f);
  return code;
}
