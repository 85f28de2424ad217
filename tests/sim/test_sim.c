/* Tests for sim/: determinism, every statement valid xAPI 2.0.0 and profile-conformant, labels
 * consistent with statements, every cohort and family present at about its rate, order by
 * receive time with only the intended disorder. One small term is simulated once and checked by
 * every test through the collected summary. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/json.h"
#include "core/time.h"
#include "sim/sim.h"
#include "xapi/ingest.h"
#include "xapi/profile.h"
#include "xapi/validate.h"

/* ---- a tiny open-addressing set of 64-bit keys (statement ids hashed) ------------------------ */
typedef struct idset {
  uint64_t *k;
  size_t cap, n;
} idset;
static uint64_t hash_str(const char *s, size_t n) {
  uint64_t h = 1469598103934665603ULL;
  for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
  return h ? h : 1;
}
static int idset_add(idset *s, uint64_t h) { /* 1 if new */
  if ((s->n + 1) * 2 > s->cap) {
    size_t nc = s->cap ? s->cap * 2 : 1 << 16;
    uint64_t *nk = calloc(nc, sizeof *nk);
    assert_non_null(nk);
    for (size_t i = 0; i < s->cap; i++)
      if (s->k[i])
        for (size_t j = s->k[i] & (nc - 1);; j = (j + 1) & (nc - 1))
          if (!nk[j]) {
            nk[j] = s->k[i];
            break;
          }
    free(s->k);
    s->k = nk;
    s->cap = nc;
  }
  for (size_t j = h & (s->cap - 1);; j = (j + 1) & (s->cap - 1)) {
    if (s->k[j] == h) return 0;
    if (!s->k[j]) {
      s->k[j] = h;
      s->n++;
      return 1;
    }
  }
}
static int idset_has(const idset *s, uint64_t h) {
  if (!s->cap) return 0;
  for (size_t j = h & (s->cap - 1);; j = (j + 1) & (s->cap - 1)) {
    if (s->k[j] == h) return 1;
    if (!s->k[j]) return 0;
  }
}

/* ---- what one run looks like ------------------------------------------------------------------ */
typedef struct summary {
  uint64_t statements, checked, invalid, duplicates, dup_conflicts;
  uint64_t kinds[MG_XAPI_KIND_COUNT_];
  uint64_t byte_hash; /* FNV over every statement, for determinism */
  uint64_t order_violations, offline, late_ts; /* received-at going back / offline=true / ts >> recv */
  int64_t max_back;                            /* the largest step back in received-at */
  int64_t last_recv;
  uint64_t enrolments, cohort[MG_SIM_COHORT_COUNT], family[MG_SIM_FAMILY_COUNT];
  uint64_t labels_without_statements, decisive_missing, decisive_unknown, decisive_after_end;
  uint64_t world_enrolments;
  idset ids, regs, stmt_regs;
  mg_arena arena;
  char first_error[1200];
  int sample_every;
} summary;

static int on_world(void *ud, const mg_sim_world *w) {
  summary *s = ud;
  s->world_enrolments = w->n_enrolments;
  return 0;
}

static const char *find_str(const char *json, size_t len, const char *key, char *out, size_t outsz) {
  /* the value of the first "key":"..." in compact JSON (no escapes in the values we look for) */
  size_t kl = strlen(key);
  for (size_t i = 0; i + kl + 3 < len; i++) {
    if (json[i] == '"' && !memcmp(json + i + 1, key, kl) && json[i + 1 + kl] == '"' && json[i + 2 + kl] == ':' &&
        json[i + 3 + kl] == '"') {
      size_t j = i + 4 + kl, k = 0;
      while (j < len && json[j] != '"' && k + 1 < outsz) out[k++] = json[j++];
      out[k] = '\0';
      return out;
    }
  }
  return NULL;
}

static int on_statement(void *ud, const char *json, size_t len) {
  summary *s = ud;
  s->statements++;
  uint64_t h = s->byte_hash ^ hash_str(json, len);
  s->byte_hash = h * 0x100000001b3ULL;
  char id[64], ra[64], reg[64];
  assert_non_null(find_str(json, len, "id", id, sizeof id));
  assert_non_null(find_str(json, len, "https://moocguard.org/xapi/ext/received-at", ra, sizeof ra));
  uint64_t idh = hash_str(id, strlen(id));
  uint64_t fullh = hash_str(json, len);
  if (!idset_add(&s->ids, idh)) {
    s->duplicates++;
    (void)fullh;
  }
  if (find_str(json, len, "registration", reg, sizeof reg)) idset_add(&s->stmt_regs, hash_str(reg, strlen(reg)));
  mg_timestamp t;
  assert_int_equal(mg_time_parse_iso(ra, 0, &t), MG_OK);
  if (t.us < s->last_recv) {
    s->order_violations++;
    if (s->last_recv - t.us > s->max_back) s->max_back = s->last_recv - t.us;
  }
  if (t.us > s->last_recv) s->last_recv = t.us;
  if (strstr(json, "\"https://moocguard.org/xapi/ext/offline\":true")) s->offline++;
  /* full validation of a sample, and of every statement of rare kinds */
  int rare = !strstr(json, "progressed") && !strstr(json, "video/verbs/played") &&
             !strstr(json, "video/verbs/paused") && !strstr(json, "verbs/answered");
  if ((rare && s->statements % 3 == 0) || s->statements % (uint64_t)s->sample_every == 0) {
    char msg[512];
    mg_arena_reset(&s->arena);
    mg_json *st = mg_xapi_parse_json(&s->arena, json, len, msg, sizeof msg);
    mg_xapi_error err;
    int bad = 0;
    if (!st) {
      bad = 1;
      snprintf(err.message, sizeof err.message, "%.200s", msg);
      err.path[0] = 0;
    } else if (mg_xapi_validate_statement(st, MG_XAPI_V200, "", &err) != MG_OK ||
               !mg_xapi_profile_claims(st) || mg_xapi_profile_check(st, &err) != MG_OK) {
      bad = 1;
    } else {
      s->kinds[mg_xapi_profile_kind(st)]++;
    }
    s->checked++;
    if (bad) {
      if (!s->invalid)
        snprintf(s->first_error, sizeof s->first_error, "%s: %s in %.300s", err.path, err.message, json);
      s->invalid++;
    }
  }
  return 0;
}

static int on_label(void *ud, const mg_sim_label *l) {
  summary *s = ud;
  s->enrolments++;
  s->cohort[l->cohort]++;
  if (!idset_has(&s->stmt_regs, hash_str(l->registration, strlen(l->registration))))
    s->labels_without_statements++;
  assert_true((l->cohort == MG_SIM_ATTACKED) == (l->n_misconduct > 0));
  for (size_t i = 0; i < l->n_misconduct; i++) {
    const mg_sim_misconduct *m = &l->misconduct[i];
    s->family[m->family]++;
    assert_non_null(m->variant);
    assert_true(strlen(m->variant) > 0);
    if (!m->decisive_statement_id[0]) {
      s->decisive_missing++;
      continue;
    }
    if (!idset_has(&s->ids, hash_str(m->decisive_statement_id, strlen(m->decisive_statement_id))))
      s->decisive_unknown++;
  }
  return 0;
}

static void small_config(mg_sim_config *c) {
  mg_sim_config_default(c);
  c->students = 400;
  c->courses = 10;
  c->weeks = 8;
  c->seed = 7;
  /* raise attack rates so that every family shows up in a small world */
  for (int i = 0; i < MG_SIM_FAMILY_COUNT; i++) c->attack_rate[i] = 0.02;
  c->duplicate_rate = 0.002;
}

static summary *run(const mg_sim_config *c, int sample_every) {
  summary *s = calloc(1, sizeof *s);
  assert_non_null(s);
  s->sample_every = sample_every;
  mg_arena_init(&s->arena, 0, 0);
  mg_sim_sink sink = {s, on_world, on_statement, on_label, NULL};
  assert_int_equal(mg_sim_run(c, &sink), MG_OK);
  return s;
}
static void summary_free(summary *s) {
  free(s->ids.k);
  free(s->regs.k);
  free(s->stmt_regs.k);
  mg_arena_free(&s->arena);
  free(s);
}

static summary *g_run;

static int setup(void **state) {
  (void)state;
  mg_sim_config c;
  small_config(&c);
  g_run = run(&c, 37);
  return 0;
}
static int teardown(void **state) {
  (void)state;
  summary_free(g_run);
  return 0;
}

static void test_statements_valid(void **state) {
  (void)state;
  summary *s = g_run;
  printf("# %llu statements, %llu checked, %llu invalid\n", (unsigned long long)s->statements,
         (unsigned long long)s->checked, (unsigned long long)s->invalid);
  if (s->invalid) printf("# first: %s\n", s->first_error);
  assert_true(s->checked > 5000);
  assert_int_equal(s->invalid, 0);
  /* every record kind of the profile occurs */
  for (int k = MG_XAPI_KIND_SESSION_LOGIN; k < MG_XAPI_KIND_COUNT_; k++) {
    if (!s->kinds[k]) printf("# no %s\n", mg_xapi_profile_kind_name((mg_xapi_kind)k));
    assert_true(s->kinds[k] > 0);
  }
}

static void test_labels_consistent(void **state) {
  (void)state;
  summary *s = g_run;
  assert_int_equal(s->enrolments, s->world_enrolments);
  assert_true(s->enrolments > 800);
  printf("# labels without statements %llu, decisive missing %llu, unknown %llu\n",
         (unsigned long long)s->labels_without_statements, (unsigned long long)s->decisive_missing,
         (unsigned long long)s->decisive_unknown);
  assert_int_equal(s->decisive_unknown, 0);
  /* every attacked label names the statement that proves it, bar a few whose plan did not play
   * out (e.g. a student who dropped the course before the exam) */
  uint64_t fam = 0;
  for (int f = 0; f < MG_SIM_FAMILY_COUNT; f++) fam += s->family[f];
  assert_true(s->decisive_missing * 10 <= fam);
  /* students who dropped out early may have no statement at all, but very few */
  assert_true(s->labels_without_statements * 50 <= s->enrolments);
}

static void test_rates(void **state) {
  (void)state;
  summary *s = g_run;
  mg_sim_config c;
  small_config(&c);
  double n = (double)s->enrolments;
  for (int f = 0; f < MG_SIM_FAMILY_COUNT; f++) {
    double got = (double)s->family[f] / n;
    printf("# %-15s %4llu (%.3f, configured %.3f)\n", mg_sim_family_name((mg_sim_family)f),
           (unsigned long long)s->family[f], got, c.attack_rate[f]);
    assert_true(s->family[f] > 0);
    assert_true(got > c.attack_rate[f] * 0.6 && got < c.attack_rate[f] * 1.6);
  }
  for (int k = MG_SIM_HONEST_NAT; k < MG_SIM_ATTACKED; k++) {
    double got = (double)s->cohort[k] / n;
    printf("# %-20s %4llu (%.3f, configured %.3f)\n", mg_sim_cohort_name((mg_sim_cohort)k),
           (unsigned long long)s->cohort[k], got, c.lookalike_rate[k]);
    assert_true(s->cohort[k] > 0);
    assert_true(got > c.lookalike_rate[k] * 0.5 && got < c.lookalike_rate[k] * 1.6);
  }
  assert_true(s->cohort[MG_SIM_HONEST] > s->cohort[MG_SIM_ATTACKED]);
}

static void test_order_and_disorder(void **state) {
  (void)state;
  summary *s = g_run;
  printf("# received-at went back %llu times, %llu duplicates, %llu offline\n",
         (unsigned long long)s->order_violations, (unsigned long long)s->duplicates,
         (unsigned long long)s->offline);
  /* the stream follows received-at except for late pushes and re-posted duplicates, and no
   * statement comes more than the three days the generator allows */
  printf("# largest step back %.1f h of %llu statements\n", (double)s->max_back / 3.6e9,
         (unsigned long long)s->statements);
  assert_true(s->order_violations * 20 < s->statements);
  assert_true(s->max_back <= 3LL * 86400 * 1000000);
  assert_true(s->duplicates > 0);
  assert_true(s->duplicates * 100 < s->statements);
  assert_true(s->offline > 0);
}

static void test_deterministic(void **state) {
  (void)state;
  mg_sim_config c;
  mg_sim_config_default(&c);
  c.students = 150;
  c.courses = 6;
  c.weeks = 6;
  summary *a = run(&c, 1000000), *b = run(&c, 1000000);
  assert_int_equal(a->statements, b->statements);
  assert_true(a->byte_hash == b->byte_hash);
  c.seed = 2;
  summary *d = run(&c, 1000000);
  assert_true(a->byte_hash != d->byte_hash);
  summary_free(a);
  summary_free(b);
  summary_free(d);
}

static void test_config_check(void **state) {
  (void)state;
  mg_sim_config c;
  char err[256];
  mg_sim_config_default(&c);
  assert_int_equal(mg_sim_config_check(&c, err, sizeof err), MG_OK);
  c.weeks = 2;
  assert_int_equal(mg_sim_config_check(&c, err, sizeof err), MG_EINVAL);
  assert_non_null(strstr(err, "weeks"));
  mg_sim_config_default(&c);
  c.attack_rate[MG_SIM_BRUSH_BOT] = -0.1;
  assert_int_equal(mg_sim_config_check(&c, err, sizeof err), MG_EINVAL);
  assert_non_null(strstr(err, "brush_bot"));
  assert_int_equal(mg_sim_run(&c, NULL), MG_EINVAL);
  mg_sim_family f;
  mg_sim_cohort k;
  assert_int_equal(mg_sim_family_parse("proxy_exam", &f), MG_OK);
  assert_int_equal(f, MG_SIM_PROXY_EXAM);
  assert_int_equal(mg_sim_cohort_parse("honest_daily30", &k), MG_OK);
  assert_int_equal(k, MG_SIM_HONEST_DAILY30);
  assert_int_equal(mg_sim_family_parse("nope", &f), MG_EINVAL);
  assert_string_equal(mg_sim_family_regulation(MG_SIM_EXAM_BRUSH), "刷考");
}

static int stop_after(void *ud, const char *json, size_t len) {
  (void)json;
  (void)len;
  int *n = ud;
  return ++*n >= 100 ? MG_EIO : 0;
}
static void test_sink_can_stop(void **state) {
  (void)state;
  mg_sim_config c;
  mg_sim_config_default(&c);
  c.students = 50;
  c.courses = 4;
  int n = 0;
  mg_sim_sink sink = {&n, NULL, stop_after, NULL, NULL};
  assert_int_equal(mg_sim_run(&c, &sink), MG_EIO);
  assert_int_equal(n, 100);
}

/* ---- variants --------------------------------------------------------------------------------- */
static void test_variant_names(void **state) {
  (void)state;
  char seen[128][32];
  int n = 0;
  for (int f = 0; f < MG_SIM_FAMILY_COUNT; f++) {
    int nv = mg_sim_variant_count((mg_sim_family)f);
    assert_true(nv >= 6 && nv <= MG_SIM_MAX_VARIANTS);
    for (int v = 0; v < nv; v++) {
      const char *name = mg_sim_variant_name((mg_sim_family)f, v);
      assert_string_not_equal(name, "?");
      for (int k = 0; k < n; k++) assert_string_not_equal(seen[k], name); /* unique everywhere */
      snprintf(seen[n++], sizeof seen[0], "%s", name);
      mg_sim_family pf;
      int pv;
      assert_int_equal(mg_sim_variant_parse(name, &pf, &pv), MG_OK);
      assert_int_equal(pf, f);
      assert_int_equal(pv, v);
    }
    assert_string_equal(mg_sim_variant_name((mg_sim_family)f, nv), "?");
  }
  mg_sim_config c;
  char err[160];
  mg_sim_config_default(&c);
  assert_int_equal(mg_sim_config_variants(&c, "-cron_runner,-exam_farm", err, sizeof err), MG_OK);
  assert_int_equal(c.variants_off[MG_SIM_BRUSH_BOT], 1u << 1);
  assert_int_equal(c.variants_off[MG_SIM_PROXY_EXAM], 1u << 1);
  assert_int_equal(c.variants_off[MG_SIM_BRUSH_FORGED], 0);
  assert_int_equal(mg_sim_config_check(&c, err, sizeof err), MG_OK);
  /* inclusion keeps only what is named; a family name stands for all its variants */
  assert_int_equal(mg_sim_config_variants(&c, "cron_runner,+proxy_exam,-exam_farm", err, sizeof err), MG_OK);
  assert_int_equal(c.variants_off[MG_SIM_BRUSH_BOT], ((1u << mg_sim_variant_count(MG_SIM_BRUSH_BOT)) - 1) & ~(1u << 1));
  assert_int_equal(c.variants_off[MG_SIM_PROXY_EXAM], 1u << 1);
  assert_int_equal(c.variants_off[MG_SIM_EXAM_BRUSH], (1u << mg_sim_variant_count(MG_SIM_EXAM_BRUSH)) - 1);
  assert_int_equal(mg_sim_config_variants(&c, "", err, sizeof err), MG_OK);
  for (int f = 0; f < MG_SIM_FAMILY_COUNT; f++) assert_int_equal(c.variants_off[f], 0);
  assert_int_equal(mg_sim_config_variants(&c, "-cron_runer", err, sizeof err), MG_EINVAL);
  assert_non_null(strstr(err, "cron_runer"));
  assert_int_equal(mg_sim_config_variants(&c, "a,,b", err, sizeof err), MG_EINVAL);
  c.variants_off[MG_SIM_EXAM_BRUSH] = 1u << 20;
  assert_int_equal(mg_sim_config_check(&c, err, sizeof err), MG_EINVAL);
}

/* Per-enrolment trace facts gathered while statements stream, checked against the labels. */
typedef struct reg_fact {
  uint64_t reg;
  int64_t max_lag_us;   /* received-at minus timestamp, statements not flagged offline */
  int same_cameras;     /* exam-started whose secondary camera is the primary device */
  int exam_started;
} reg_fact;
typedef struct sub_rec {
  uint64_t reg, quiz;
  int64_t recv;
  int full;             /* all gradable items right */
} sub_rec;
typedef struct vnet {
  uint32_t base, mask;
  char kind[16];
} vnet;
typedef struct vrun {
  summary *s;
  reg_fact *f;
  size_t fcap;          /* open addressing on reg */
  sub_rec *sub;
  size_t nsub, capsub;
  vnet net[256];
  int nnet, has_cloud, has_vpn;
  uint64_t ip_checked, ip_outside;
  char first_outside[64];
  uint64_t variant_count[MG_SIM_FAMILY_COUNT][MG_SIM_MAX_VARIANTS];
  uint64_t variant_decisive[MG_SIM_FAMILY_COUNT][MG_SIM_MAX_VARIANTS];
  uint64_t family_count[MG_SIM_FAMILY_COUNT];
  uint64_t honest_same_cameras, backdated_lagged, backdated_total, vcam_ok, vcam_total;
  /* operator id -> members for cross_harvest */
  char harvest_op[64][24];
  uint64_t harvest_reg[64][4];
  int harvest_n[64], n_harvest;
} vrun;

static reg_fact *fact(vrun *v, uint64_t reg) {
  for (size_t j = reg & (v->fcap - 1);; j = (j + 1) & (v->fcap - 1)) {
    if (v->f[j].reg == reg) return &v->f[j];
    if (!v->f[j].reg) {
      v->f[j].reg = reg;
      return &v->f[j];
    }
  }
}

static int parse_ip4(const char *s, uint32_t *out) {
  unsigned a, b, c, d;
  char tail;
  if (sscanf(s, "%u.%u.%u.%u%c", &a, &b, &c, &d, &tail) != 4 || a > 255 || b > 255 || c > 255 || d > 255) return -1;
  *out = a << 24 | b << 16 | c << 8 | d;
  return 0;
}

static int v_world(void *ud, const mg_sim_world *w) {
  vrun *v = ud;
  on_world(v->s, w);
  assert_true(w->n_networks > 0 && w->n_networks <= 256);
  for (size_t i = 0; i < w->n_networks; i++) {
    char pfx[40];
    snprintf(pfx, sizeof pfx, "%s", w->networks[i].prefix);
    char *slash = strchr(pfx, '/');
    assert_non_null(slash);
    *slash = 0;
    char *end;
    long len = strtol(slash + 1, &end, 10);
    assert_true(*end == '\0');
    assert_true(len >= 8 && len <= 32);
    assert_int_equal(parse_ip4(pfx, &v->net[v->nnet].base), 0);
    v->net[v->nnet].mask = len == 32 ? 0xffffffffu : ~(0xffffffffu >> (int)len);
    assert_int_equal(v->net[v->nnet].base & ~v->net[v->nnet].mask, 0);
    snprintf(v->net[v->nnet].kind, sizeof v->net[0].kind, "%s", w->networks[i].kind);
    v->has_cloud |= !strcmp(w->networks[i].kind, "cloud");
    v->has_vpn |= !strcmp(w->networks[i].kind, "vpn");
    assert_true(w->networks[i].asn > 0);
    v->nnet++;
  }
  return 0;
}

static int v_statement(void *ud, const char *json, size_t len) {
  vrun *v = ud;
  on_statement(v->s, json, len);
  char reg[64], ra[64], ts[64], ip[64];
  if (!find_str(json, len, "registration", reg, sizeof reg)) return 0;
  reg_fact *f = fact(v, hash_str(reg, strlen(reg)));
  assert_non_null(find_str(json, len, "https://moocguard.org/xapi/ext/received-at", ra, sizeof ra));
  assert_non_null(find_str(json, len, "timestamp", ts, sizeof ts));
  mg_timestamp tr, tt;
  assert_int_equal(mg_time_parse_iso(ra, 0, &tr), MG_OK);
  assert_int_equal(mg_time_parse_iso(ts, 0, &tt), MG_OK);
  if (!strstr(json, "\"https://moocguard.org/xapi/ext/offline\":true") && tr.us - tt.us > f->max_lag_us)
    f->max_lag_us = tr.us - tt.us;
  if (find_str(json, len, "https://moocguard.org/xapi/ext/client-ip", ip, sizeof ip) && !strchr(ip, ':')) {
    uint32_t a;
    assert_int_equal(parse_ip4(ip, &a), 0);
    int in = 0;
    for (int i = 0; i < v->nnet && !in; i++) in = (a & v->net[i].mask) == v->net[i].base;
    v->ip_checked++;
    if (!in && !v->ip_outside++) snprintf(v->first_outside, sizeof v->first_outside, "%s", ip);
  }
  const char *p = strstr(json, "\"role\":\"primary\",\"device-id\":\"");
  if (p) {
    f->exam_started++;
    const char *q = strstr(json, "\"role\":\"secondary\",\"device-id\":\"");
    if (q && !memcmp(p + 31, q + 33, 64)) f->same_cameras++;
  }
  char kind[32];
  if (strstr(json, "\"display\":{\"zh-CN\":\"交卷\"}") && find_str(json, len, "https://moocguard.org/xapi/ext/assessment-kind", kind, sizeof kind) &&
      !strcmp(kind, "quiz")) {
    const char *o = strstr(json, "\"object\":{\"objectType\":\"Activity\",\"id\":\"");
    assert_non_null(o);
    o += 40;
    const char *e = strchr(o, '"');
    const char *raw = strstr(json, "\"raw\":"), *mx = strstr(json, "\"max\":");
    assert_non_null(raw);
    assert_non_null(mx);
    if (v->nsub == v->capsub) {
      v->capsub = v->capsub ? v->capsub * 2 : 4096;
      v->sub = realloc(v->sub, v->capsub * sizeof *v->sub);
      assert_non_null(v->sub);
    }
    v->sub[v->nsub++] = (sub_rec){f->reg, hash_str(o, (size_t)(e - o)), tr.us, strtod(raw + 6, NULL) == strtod(mx + 6, NULL)};
  }
  return 0;
}

static int v_label(void *ud, const mg_sim_label *l) {
  vrun *v = ud;
  on_label(v->s, l);
  reg_fact *f = fact(v, hash_str(l->registration, strlen(l->registration)));
  if (l->cohort != MG_SIM_ATTACKED) v->honest_same_cameras += f->same_cameras;
  for (size_t i = 0; i < l->n_misconduct; i++) {
    const mg_sim_misconduct *m = &l->misconduct[i];
    mg_sim_family fam;
    int var;
    assert_int_equal(mg_sim_variant_parse(m->variant, &fam, &var), MG_OK);
    assert_int_equal(fam, m->family);
    v->variant_count[fam][var]++;
    v->family_count[fam]++;
    if (m->decisive_statement_id[0]) v->variant_decisive[fam][var]++;
    if (!strcmp(m->variant, "backdated_batch") && m->decisive_statement_id[0]) {
      v->backdated_total++;
      v->backdated_lagged += f->max_lag_us > 300LL * 1000000;
    }
    if (!strcmp(m->variant, "virtual_camera") && f->exam_started) {
      v->vcam_total++;
      v->vcam_ok += f->same_cameras > 0;
    }
    if (!strcmp(m->variant, "cross_harvest")) {
      int k = 0;
      while (k < v->n_harvest && strcmp(v->harvest_op[k], m->operator_id)) k++;
      if (k == v->n_harvest && k < 64) snprintf(v->harvest_op[v->n_harvest++], 24, "%s", m->operator_id);
      if (k < 64 && v->harvest_n[k] < 4) v->harvest_reg[k][v->harvest_n[k]++] = f->reg;
    }
  }
  return 0;
}

static vrun *vrun_go(const mg_sim_config *c) {
  vrun *v = calloc(1, sizeof *v);
  assert_non_null(v);
  v->s = calloc(1, sizeof *v->s);
  assert_non_null(v->s);
  v->s->sample_every = 101;
  mg_arena_init(&v->s->arena, 0, 0);
  v->fcap = 1 << 16;
  v->f = calloc(v->fcap, sizeof *v->f);
  assert_non_null(v->f);
  mg_sim_sink sink = {v, v_world, v_statement, v_label, NULL};
  assert_int_equal(mg_sim_run(c, &sink), MG_OK);
  return v;
}
static void vrun_free(vrun *v) {
  summary_free(v->s);
  free(v->f);
  free(v->sub);
  free(v);
}

static void variant_config(mg_sim_config *c) {
  mg_sim_config_default(c);
  c->students = 500;
  c->courses = 10;
  c->weeks = 8;
  c->seed = 11;
  /* operators run 5-40 accounts each: enough schemes for all variants needs a higher rate */
  for (int i = 0; i < MG_SIM_FAMILY_COUNT; i++) c->attack_rate[i] = 0.08;
  c->attack_rate[MG_SIM_BRUSH_OPERATOR] = 0.2;
}

/* Every variant of every family is generated, plays out (has a decisive statement), and shows
 * the trace it is meant to model; every client address belongs to the published address plan. */
static void test_every_variant(void **state) {
  (void)state;
  mg_sim_config c;
  variant_config(&c);
  vrun *v = vrun_go(&c);
  for (int f = 0; f < MG_SIM_FAMILY_COUNT; f++)
    for (int k = 0; k < mg_sim_variant_count((mg_sim_family)f); k++) {
      printf("# %-15s %-20s %4llu labelled, %4llu with a decisive statement\n", mg_sim_family_name((mg_sim_family)f),
             mg_sim_variant_name((mg_sim_family)f, k), (unsigned long long)v->variant_count[f][k],
             (unsigned long long)v->variant_decisive[f][k]);
      assert_true(v->variant_count[f][k] > 0);
      assert_true(v->variant_decisive[f][k] > 0);
    }
  assert_int_equal(v->s->invalid, 0);
  assert_int_equal(v->s->decisive_unknown, 0);
  printf("# %llu IPv4 client addresses checked, %llu outside the plan (%s)\n", (unsigned long long)v->ip_checked,
         (unsigned long long)v->ip_outside, v->first_outside);
  assert_true(v->has_cloud && v->has_vpn);
  assert_true(v->ip_checked > 10000);
  assert_int_equal(v->ip_outside, 0);
  /* backdated batches arrive minutes after the times they claim, without the offline flag */
  printf("# backdated %llu/%llu lagged; virtual camera %llu/%llu; honest identical cameras %llu\n",
         (unsigned long long)v->backdated_lagged, (unsigned long long)v->backdated_total,
         (unsigned long long)v->vcam_ok, (unsigned long long)v->vcam_total, (unsigned long long)v->honest_same_cameras);
  assert_true(v->backdated_total > 0 && v->backdated_lagged == v->backdated_total);
  assert_true(v->vcam_total > 0 && v->vcam_ok == v->vcam_total);
  assert_int_equal(v->honest_same_cameras, 0);
  /* cross-account harvesting: a member submits a full score minutes after another member's
   * failed attempt at the same quiz */
  int harvested = 0;
  for (int g = 0; g < v->n_harvest; g++)
    for (size_t i = 0; i < v->nsub; i++) {
      const sub_rec *a = &v->sub[i];
      int in_a = 0;
      for (int k = 0; k < v->harvest_n[g]; k++) in_a |= v->harvest_reg[g][k] == a->reg;
      if (!in_a || a->full) continue;
      for (size_t j = 0; j < v->nsub; j++) {
        const sub_rec *b = &v->sub[j];
        int in_b = 0;
        for (int k = 0; k < v->harvest_n[g]; k++) in_b |= v->harvest_reg[g][k] == b->reg;
        if (in_b && b->reg != a->reg && b->quiz == a->quiz && b->full && b->recv > a->recv &&
            b->recv - a->recv < 3600LL * 1000000)
          harvested++;
      }
    }
  printf("# cross-account harvest pairs %d in %d groups\n", harvested, v->n_harvest);
  assert_true(v->n_harvest > 0 && harvested > 0);
  vrun_free(v);
}

/* Held-out variants never appear; an inclusion list keeps only what it names. */
static void test_holdout(void **state) {
  (void)state;
  mg_sim_config c;
  char err[160];
  variant_config(&c);
  c.students = 300;
  c.weeks = 6;
  assert_int_equal(mg_sim_config_variants(&c, "-cron_runner,-exam_farm,-tail_jump", err, sizeof err), MG_OK);
  vrun *v = vrun_go(&c);
  assert_int_equal(v->variant_count[MG_SIM_BRUSH_BOT][1], 0);
  assert_int_equal(v->variant_count[MG_SIM_PROXY_EXAM][1], 0);
  assert_int_equal(v->variant_count[MG_SIM_BRUSH_FORGED][5], 0);
  assert_true(v->family_count[MG_SIM_BRUSH_BOT] > 0 && v->family_count[MG_SIM_PROXY_EXAM] > 0);
  vrun_free(v);
  assert_int_equal(mg_sim_config_variants(&c, "cron_runner,tail_jump", err, sizeof err), MG_OK);
  v = vrun_go(&c);
  for (int f = 0; f < MG_SIM_FAMILY_COUNT; f++)
    for (int k = 0; k < mg_sim_variant_count((mg_sim_family)f); k++) {
      int kept = (f == MG_SIM_BRUSH_BOT && k == 1) || (f == MG_SIM_BRUSH_FORGED && k == 5);
      if (kept)
        assert_true(v->variant_count[f][k] > 0);
      else
        assert_int_equal(v->variant_count[f][k], 0);
    }
  vrun_free(v);
}

int main(void) {
  const struct CMUnitTest run_tests[] = {
      cmocka_unit_test(test_statements_valid),
      cmocka_unit_test(test_labels_consistent),
      cmocka_unit_test(test_rates),
      cmocka_unit_test(test_order_and_disorder),
  };
  const struct CMUnitTest other[] = {
      cmocka_unit_test(test_deterministic),
      cmocka_unit_test(test_config_check),
      cmocka_unit_test(test_sink_can_stop),
      cmocka_unit_test(test_variant_names),
      cmocka_unit_test(test_every_variant),
      cmocka_unit_test(test_holdout),
  };
  int rc = cmocka_run_group_tests_name("sim_term", run_tests, setup, teardown);
  rc += cmocka_run_group_tests_name("sim_misc", other, NULL, NULL);
  return rc;
}
