/* The run loop: day by day, every enrolment's activity as records, sorted by the order the
 * platforms push them (receive time, plus the delay of late pushes), rendered and handed to the
 * sink. Records whose push falls on a later day wait for it; their client contexts live in a ring
 * of four day arenas, which bounds how late a push may be (three days). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "sim/sim_int.h"

static const char *const k_cohorts[MG_SIM_COHORT_COUNT] = {
    "honest", "honest_nat", "honest_fast_viewer", "honest_crammer", "honest_multidevice",
    "honest_offline", "honest_study_group", "honest_daily30", "honest_strong", "attacked"};
static const char *const k_families[MG_SIM_FAMILY_COUNT] = {
    "brush_forged", "brush_bot", "brush_operator", "proxy_study", "exam_brush", "proxy_exam"};
static const char *const k_regulation[MG_SIM_FAMILY_COUNT] = {"刷课", "刷课", "刷课", "替课", "刷考", "替考"};

/* Order = the BF_/BB_/BO_/PS_/EB_/PE_ enums of sim_int.h. */
static const char *const k_variants[MG_SIM_FAMILY_COUNT][MG_SIM_MAX_VARIANTS] = {
    {"rate_forge", "instant_complete", "speed_hack", "parallel_forge", "overcap_forge", "tail_jump",
     "backdated_batch", "partial_brush"},
    {"jitter_uniform", "cron_runner", "threshold_stopper", "auto_resume", "jitter_lognormal", "poisson_beacon",
     "humanized_pauses", "native_night_1x"},
    {"lockstep_parallel", "queue_serial", "cloud_farm", "random_delay", "residential_proxy", "phone_farm", "vpn_exit",
     "home_studio"},
    {"worker_device", "face_relay", "shared_worker", "remote_desktop", "classmate_login", "city_spoof",
     "proxy_office", "liveness_spoof"},
    {"script_constant", "bank_lookup", "harvest_submit", "bank_with_errors", "cross_harvest", "answer_ring",
     "ocr_search"},
    {"novel_device", "exam_farm", "missing_camera", "remote_desktop_exam", "virtual_camera", "farm_shared_phone",
     "home_stand_in"},
};
static const int k_n_variants[MG_SIM_FAMILY_COUNT] = {BF_N, BB_N, BO_N, PS_N, EB_N, PE_N};

int mg_sim_variant_count(mg_sim_family f) { return (unsigned)f < MG_SIM_FAMILY_COUNT ? k_n_variants[f] : 0; }
const char *mg_sim_variant_name(mg_sim_family f, int v) {
  if ((unsigned)f >= MG_SIM_FAMILY_COUNT || v < 0 || v >= k_n_variants[f]) return "?";
  return k_variants[f][v];
}
int mg_sim_variant_parse(const char *s, mg_sim_family *family, int *variant) {
  for (int f = 0; s && f < MG_SIM_FAMILY_COUNT; f++)
    for (int v = 0; v < k_n_variants[f]; v++)
      if (!strcmp(s, k_variants[f][v])) {
        *family = (mg_sim_family)f;
        *variant = v;
        return MG_OK;
      }
  return MG_EINVAL;
}

int mg_sim_config_variants(mg_sim_config *cfg, const char *spec, char *err, size_t errsize) {
  uint32_t on[MG_SIM_FAMILY_COUNT] = {0}, off[MG_SIM_FAMILY_COUNT] = {0};
  int includes = 0;
  const char *p = spec ? spec : "";
  while (*p) {
    const char *e = strchr(p, ',');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    char name[64];
    int neg = 0;
    if (len && (*p == '-' || *p == '+')) {
      neg = *p == '-';
      p++;
      len--;
    }
    if (len == 0 || len >= sizeof name) {
      if (err && errsize) snprintf(err, errsize, "variants: empty or overlong name in '%s'", spec);
      return MG_EINVAL;
    }
    memcpy(name, p, len);
    name[len] = '\0';
    mg_sim_family f;
    int v;
    uint32_t *set = neg ? off : on;
    if (mg_sim_variant_parse(name, &f, &v) == MG_OK) {
      set[f] |= 1u << v;
    } else if (mg_sim_family_parse(name, &f) == MG_OK) {
      set[f] |= (1u << k_n_variants[f]) - 1;
    } else {
      if (err && errsize) snprintf(err, errsize, "variants: unknown variant or family '%s'", name);
      return MG_EINVAL;
    }
    includes |= !neg;
    p += len;
    if (*p == ',') p++;
  }
  for (int f = 0; f < MG_SIM_FAMILY_COUNT; f++) {
    uint32_t all = (1u << k_n_variants[f]) - 1;
    cfg->variants_off[f] = ((includes ? all & ~on[f] : 0) | off[f]) & all;
  }
  return MG_OK;
}

const char *mg_sim_cohort_name(mg_sim_cohort c) {
  return (unsigned)c < MG_SIM_COHORT_COUNT ? k_cohorts[c] : "?";
}
const char *mg_sim_family_name(mg_sim_family f) {
  return (unsigned)f < MG_SIM_FAMILY_COUNT ? k_families[f] : "?";
}
const char *mg_sim_family_regulation(mg_sim_family f) {
  return (unsigned)f < MG_SIM_FAMILY_COUNT ? k_regulation[f] : "?";
}
int mg_sim_cohort_parse(const char *s, mg_sim_cohort *out) {
  for (int i = 0; i < MG_SIM_COHORT_COUNT; i++)
    if (s && !strcmp(s, k_cohorts[i])) {
      *out = (mg_sim_cohort)i;
      return MG_OK;
    }
  return MG_EINVAL;
}
int mg_sim_family_parse(const char *s, mg_sim_family *out) {
  for (int i = 0; i < MG_SIM_FAMILY_COUNT; i++)
    if (s && !strcmp(s, k_families[i])) {
      *out = (mg_sim_family)i;
      return MG_OK;
    }
  return MG_EINVAL;
}

void mg_sim_config_default(mg_sim_config *c) {
  memset(c, 0, sizeof *c);
  c->seed = 1;
  c->universities = 12;
  c->platforms = 4;
  c->courses = 60;
  c->students = 5000;
  c->enrolments_per_student = 2.4;
  c->weeks = 16;
  c->term_start_us = 1725206400LL * 1000000; /* 2024-09-02 00:00 +08:00 (= 2024-09-01T16:00Z) */
  c->attack_rate[MG_SIM_BRUSH_FORGED] = 0.004;
  c->attack_rate[MG_SIM_BRUSH_BOT] = 0.006;
  c->attack_rate[MG_SIM_BRUSH_OPERATOR] = 0.008;
  c->attack_rate[MG_SIM_PROXY_STUDY] = 0.004;
  c->attack_rate[MG_SIM_EXAM_BRUSH] = 0.006;
  c->attack_rate[MG_SIM_PROXY_EXAM] = 0.003;
  c->lookalike_rate[MG_SIM_HONEST_NAT] = 0.08;
  c->lookalike_rate[MG_SIM_HONEST_FAST_VIEWER] = 0.06;
  c->lookalike_rate[MG_SIM_HONEST_CRAMMER] = 0.08;
  c->lookalike_rate[MG_SIM_HONEST_MULTIDEVICE] = 0.05;
  c->lookalike_rate[MG_SIM_HONEST_OFFLINE] = 0.03;
  c->lookalike_rate[MG_SIM_HONEST_STUDY_GROUP] = 0.05;
  c->lookalike_rate[MG_SIM_HONEST_DAILY30] = 0.03;
  c->lookalike_rate[MG_SIM_HONEST_STRONG] = 0.05;
  c->duplicate_rate = 0.0005;
  c->late_push_rate = 0.003;
  c->progress_every_days = 7;
}

#define BAD(...)                                        \
  do {                                                  \
    if (err && errsize) snprintf(err, errsize, __VA_ARGS__); \
    return MG_EINVAL;                                   \
  } while (0)

int mg_sim_config_check(const mg_sim_config *c, char *err, size_t errsize) {
  if (!c) BAD("no config");
  if (c->universities < 1 || c->universities > 200) BAD("universities must be 1..200 (got %d)", c->universities);
  if (c->platforms < 1 || c->platforms > 12) BAD("platforms must be 1..12 (got %d)", c->platforms);
  if (c->courses < 1 || c->courses > 5000) BAD("courses must be 1..5000 (got %d)", c->courses);
  if (c->students < 1 || c->students > 50000000) BAD("students must be 1..50000000 (got %d)", c->students);
  if (!(c->enrolments_per_student >= 1 && c->enrolments_per_student <= 8))
    BAD("enrolments per student must be 1..8 (got %g)", c->enrolments_per_student);
  if (c->weeks < 4 || c->weeks > 30) BAD("weeks must be 4..30 (got %d)", c->weeks);
  double a = 0, l = 0;
  for (int i = 0; i < MG_SIM_FAMILY_COUNT; i++) {
    if (!(c->attack_rate[i] >= 0 && c->attack_rate[i] <= 0.5))
      BAD("attack rate of %s must be 0..0.5 (got %g)", k_families[i], c->attack_rate[i]);
    a += c->attack_rate[i];
  }
  for (int i = MG_SIM_HONEST_NAT; i < MG_SIM_ATTACKED; i++) {
    if (!(c->lookalike_rate[i] >= 0 && c->lookalike_rate[i] <= 1))
      BAD("rate of %s must be 0..1 (got %g)", k_cohorts[i], c->lookalike_rate[i]);
    l += c->lookalike_rate[i];
  }
  if (a > 0.6) BAD("attack rates add up to %g; at most 0.6", a);
  if (l > 1) BAD("look-alike rates add up to %g; at most 1", l);
  if (!(c->duplicate_rate >= 0 && c->duplicate_rate <= 0.1)) BAD("duplicate rate must be 0..0.1");
  if (!(c->late_push_rate >= 0 && c->late_push_rate <= 0.5)) BAD("late push rate must be 0..0.5");
  if (c->progress_every_days < 0) BAD("progress interval must be >= 0");
  for (int i = 0; i < MG_SIM_FAMILY_COUNT; i++)
    if (c->variants_off[i] >> k_n_variants[i]) BAD("variants_off of %s names variants it does not have", k_families[i]);
  return MG_OK;
}

static int cmp_ev(const void *a, const void *b) {
  const sim_ev *x = a, *y = b;
  if (x->key != y->key) return x->key < y->key ? -1 : 1;
  if (x->nonce != y->nonce) return x->nonce < y->nonce ? -1 : 1;
  return (x->flags & EVF_DUP) - (y->flags & EVF_DUP);
}

typedef struct seq_ix {
  const sim_client *cl;
  int64_t recv;
  uint64_t nonce;
  size_t i;
} seq_ix;
static int cmp_seq(const void *a, const void *b) {
  const seq_ix *x = a, *y = b;
  if (x->cl != y->cl) return x->cl < y->cl ? -1 : 1;
  if (x->recv != y->recv) return x->recv < y->recv ? -1 : 1;
  return x->nonce < y->nonce ? -1 : x->nonce > y->nonce;
}

/* client-seq: per client session, the order the platform received the reports, from 0. */
static int number_clients(sim *S, size_t from, seq_ix **scratch, size_t *cap) {
  size_t n = S->n_ev - from;
  if (n == 0) return MG_OK;
  if (n > *cap) {
    seq_ix *ns = realloc(*scratch, n * sizeof *ns);
    if (!ns) return MG_ENOMEM;
    *scratch = ns;
    *cap = n;
  }
  seq_ix *ix = *scratch;
  size_t m = 0;
  for (size_t i = from; i < S->n_ev; i++)
    if (S->ev[i].cl) ix[m++] = (seq_ix){S->ev[i].cl, S->ev[i].recv, S->ev[i].nonce, i};
  if (m > 1) qsort(ix, m, sizeof *ix, cmp_seq);
  uint32_t seq = 0;
  for (size_t j = 0; j < m; j++) {
    if (j == 0 || ix[j].cl != ix[j - 1].cl) seq = 0;
    S->ev[ix[j].i].seq = seq++;
  }
  return MG_OK;
}

static int emit_label(sim *S, const mg_sim_sink *sink, size_t i) {
  const sim_enr *E = &S->e[i];
  mg_sim_misconduct mis[2];
  memset(mis, 0, sizeof mis);
  for (int k = 0; k < E->n_mis; k++) {
    mis[k].family = (mg_sim_family)E->mis[k].family;
    mis[k].variant = mg_sim_variant_name((mg_sim_family)E->mis[k].family, E->mis[k].variant);
    mis[k].operator_id = E->mis[k].group >= 0 ? S->grp[E->mis[k].group].id : "";
    if (E->mis[k].dec_nonce) mg_sim_uuid(S->cfg.seed, E->mis[k].dec_nonce, mis[k].decisive_statement_id);
    mis[k].decisive_us = E->mis[k].dec_us;
  }
  const mg_sim_course *c = &S->course[E->course];
  const mg_sim_student *st = &S->stud[E->student];
  mg_sim_label l = {
      .registration = S->enrol[i].registration,
      .student_home_page = S->univ[st->university].home_page,
      .student_name = st->name,
      .university_code = S->univ[st->university].code,
      .platform_code = S->plat[c->platform].code,
      .course_iri = c->iri,
      .cohort = (mg_sim_cohort)E->cohort,
      .misconduct = mis,
      .n_misconduct = E->n_mis,
      .statements = E->emitted,
  };
  return sink->label ? sink->label(sink->ud, &l) : 0;
}

int mg_sim_run(const mg_sim_config *cfg, const mg_sim_sink *sink) {
  static const mg_sim_sink none = {0};
  if (!sink) sink = &none;
  if (mg_sim_config_check(cfg, NULL, 0) != MG_OK) return MG_EINVAL;
  sim *S = calloc(1, sizeof *S);
  if (!S) return MG_ENOMEM;
  S->cfg = *cfg;
  for (int i = 0; i < 4; i++) mg_arena_init(&S->day_arena[i], 1 << 20, 0);
  int rc = mg_sim_world_build(S);
  mg_buf json;
  mg_buf_init(&json, 1 << 20);
  seq_ix *scratch = NULL;
  size_t scap = 0;
  uint64_t emitted = 0;
  if (rc) goto out;
  /* an attacked enrolment that misconduct could not realise (e.g. the exam fell outside the
   * window) keeps its label; eval sees it without a decisive statement */
  if (sink->world && (rc = sink->world(sink->ud, &S->w))) goto out;
  for (S->day = 0; S->day < S->days; S->day++) {
    mg_arena_reset(&S->day_arena[S->day & 3]);
    size_t carried = S->n_ev;
    for (size_t i = 0; i < S->n_enr; i++) {
      size_t from = S->n_ev;
      mg_sim_behave_day(S, (uint32_t)i);
      if (S->oom) {
        rc = MG_ENOMEM;
        goto out;
      }
      if ((rc = number_clients(S, from, &scratch, &scap))) goto out;
    }
    /* re-posted duplicates: the same statement again, minutes to hours later */
    size_t n_new = S->n_ev;
    for (size_t i = carried; i < n_new && cfg->duplicate_rate > 0; i++) {
      if (!S->ev[i].cl) continue;
      uint64_t h = sim_hash(cfg->seed, S->ev[i].nonce, 0xD0B);
      if ((double)(h >> 11) * 0x1.0p-53 >= cfg->duplicate_rate) continue;
      if (S->n_ev == S->cap_ev) {
        size_t nc = S->cap_ev * 2;
        sim_ev *ne = realloc(S->ev, nc * sizeof *ne);
        if (!ne) {
          rc = MG_ENOMEM;
          goto out;
        }
        S->ev = ne;
        S->cap_ev = nc;
      }
      S->ev[S->n_ev] = S->ev[i];
      S->ev[S->n_ev].flags |= EVF_DUP;
      S->ev[S->n_ev].key += (int64_t)(60 + (h % 7200)) * SIM_US;
      S->n_ev++;
    }
    qsort(S->ev, S->n_ev, sizeof *S->ev, cmp_ev);
    int64_t horizon = cfg->term_start_us + (int64_t)(S->day + 1) * SIM_DAY_US;
    int last = S->day == S->days - 1;
    size_t i = 0;
    for (; i < S->n_ev; i++) {
      sim_ev *ev = &S->ev[i];
      if (!last && ev->key >= horizon) break;
      /* records older than the ring can keep are pushed now rather than lost */
      mg_buf_reset(&json);
      if ((rc = mg_sim_render(S, ev, &json))) goto out;
      if (sink->statement && (rc = sink->statement(sink->ud, json.data, json.len))) goto out;
      S->e[ev->enrol].emitted++;
      emitted++;
    }
    /* keep what is pushed on a later day; drop what is too late for the ring */
    size_t keep = 0;
    for (size_t j = i; j < S->n_ev; j++) {
      if (S->ev[j].key >= horizon + 2 * SIM_DAY_US) S->ev[j].key = horizon + 2 * SIM_DAY_US - 1;
      S->ev[keep++] = S->ev[j];
    }
    S->n_ev = keep;
    if (sink->progress && (cfg->progress_every_days == 0 || (S->day + 1) % cfg->progress_every_days == 0 || last)) {
      mg_sim_progress p = {S->day + 1, S->days, emitted, S->n_enr};
      sink->progress(sink->ud, &p);
    }
  }
  for (size_t i = 0; i < S->n_enr; i++)
    if ((rc = emit_label(S, sink, i))) goto out;
out:
  mg_buf_free(&json);
  free(scratch);
  free(S->ev);
  for (int i = 0; i < 4; i++) mg_arena_free(&S->day_arena[i]);
  mg_sim_world_free(S);
  free(S);
  return rc;
}

/* ---- JSON for labels and the world ---------------------------------------------------------- */
static int jstr(mg_buf *b, const char *s) {
  int rc = mg_buf_addc(b, '"');
  if (!rc) rc = mg_buf_add_json_str(b, s ? s : "", s ? strlen(s) : 0);
  if (!rc) rc = mg_buf_addc(b, '"');
  return rc;
}

int mg_sim_label_json(const mg_sim_label *l, mg_buf *b) {
  int rc = mg_buf_adds(b, "{\"registration\":");
  if (!rc) rc = jstr(b, l->registration);
  if (!rc) rc = mg_buf_adds(b, ",\"student\":{\"homePage\":");
  if (!rc) rc = jstr(b, l->student_home_page);
  if (!rc) rc = mg_buf_adds(b, ",\"name\":");
  if (!rc) rc = jstr(b, l->student_name);
  if (!rc) rc = mg_buf_adds(b, "},\"university\":");
  if (!rc) rc = jstr(b, l->university_code);
  if (!rc) rc = mg_buf_adds(b, ",\"platform\":");
  if (!rc) rc = jstr(b, l->platform_code);
  if (!rc) rc = mg_buf_adds(b, ",\"course\":");
  if (!rc) rc = jstr(b, l->course_iri);
  if (!rc) rc = mg_buf_adds(b, ",\"cohort\":");
  if (!rc) rc = jstr(b, mg_sim_cohort_name(l->cohort));
  if (!rc) rc = mg_buf_addf(b, ",\"statements\":%llu,\"misconduct\":[", (unsigned long long)l->statements);
  for (size_t i = 0; i < l->n_misconduct && !rc; i++) {
    const mg_sim_misconduct *m = &l->misconduct[i];
    char ts[40] = "";
    if (m->decisive_us) mg_sim_format_ts(m->decisive_us, ts);
    rc = mg_buf_addf(b, "%s{\"family\":\"%s\",\"regulation\":\"%s\",\"variant\":", i ? "," : "",
                     mg_sim_family_name(m->family), mg_sim_family_regulation(m->family));
    if (!rc) rc = jstr(b, m->variant);
    if (!rc) rc = mg_buf_adds(b, ",\"operator\":");
    if (!rc) rc = m->operator_id && *m->operator_id ? jstr(b, m->operator_id) : mg_buf_adds(b, "null");
    if (!rc) rc = mg_buf_adds(b, ",\"decisive_statement_id\":");
    if (!rc) rc = m->decisive_statement_id[0] ? jstr(b, m->decisive_statement_id) : mg_buf_adds(b, "null");
    if (!rc) rc = mg_buf_adds(b, ",\"decisive_timestamp\":");
    if (!rc) rc = ts[0] ? jstr(b, ts) : mg_buf_adds(b, "null");
    if (!rc) rc = mg_buf_addc(b, '}');
  }
  if (!rc) rc = mg_buf_adds(b, "]}");
  return rc;
}

int mg_sim_world_json(const mg_sim_world *w, mg_buf *b) {
  char ts[40];
  int rc = mg_buf_adds(b, "{\"term_start\":");
  mg_sim_format_ts(w->term_start_us, ts);
  if (!rc) rc = jstr(b, ts);
  mg_sim_format_ts(w->term_end_us, ts);
  if (!rc) rc = mg_buf_adds(b, ",\"term_end\":");
  if (!rc) rc = jstr(b, ts);
  if (!rc) rc = mg_buf_adds(b, ",\"networks\":[");
  for (size_t i = 0; i < w->n_networks && !rc; i++) {
    const mg_sim_network *nw = &w->networks[i];
    rc = mg_buf_addf(b, "%s{\"prefix\":\"%s\",\"asn\":%u,\"org\":", i ? "," : "", nw->prefix, (unsigned)nw->asn);
    if (!rc) rc = jstr(b, nw->org);
    if (!rc) rc = mg_buf_addf(b, ",\"kind\":\"%s\",\"city\":", nw->kind);
    if (!rc) rc = jstr(b, nw->city);
    if (!rc) rc = mg_buf_addc(b, '}');
  }
  if (!rc) rc = mg_buf_adds(b, "],\"universities\":[");
  for (size_t i = 0; i < w->n_universities && !rc; i++) {
    const mg_sim_university *u = &w->universities[i];
    rc = mg_buf_adds(b, i ? ",{\"code\":" : "{\"code\":");
    if (!rc) rc = jstr(b, u->code);
    if (!rc) rc = mg_buf_adds(b, ",\"name\":");
    if (!rc) rc = jstr(b, u->name);
    if (!rc) rc = mg_buf_adds(b, ",\"province\":");
    if (!rc) rc = jstr(b, u->province);
    if (!rc) rc = mg_buf_adds(b, ",\"city\":");
    if (!rc) rc = jstr(b, u->city);
    if (!rc) rc = mg_buf_adds(b, ",\"homePage\":");
    if (!rc) rc = jstr(b, u->home_page);
    if (!rc) rc = mg_buf_adds(b, ",\"nat_ip\":");
    if (!rc) rc = jstr(b, u->nat_ip);
    if (!rc) rc = mg_buf_addc(b, '}');
  }
  if (!rc) rc = mg_buf_adds(b, "],\"platforms\":[");
  for (size_t i = 0; i < w->n_platforms && !rc; i++) {
    const mg_sim_platform *p = &w->platforms[i];
    rc = mg_buf_adds(b, i ? ",{\"code\":" : "{\"code\":");
    if (!rc) rc = jstr(b, p->code);
    if (!rc) rc = mg_buf_adds(b, ",\"name\":");
    if (!rc) rc = jstr(b, p->name);
    if (!rc) rc = mg_buf_adds(b, ",\"home\":");
    if (!rc) rc = jstr(b, p->home);
    if (!rc)
      rc = mg_buf_addf(b, ",\"max_speed\":%g,\"heartbeat_s\":%g,\"completion_threshold\":%g}", p->max_speed,
                       p->heartbeat_s, p->completion_threshold);
  }
  if (!rc) rc = mg_buf_adds(b, "],\"courses\":[");
  for (size_t i = 0; i < w->n_courses && !rc; i++) {
    const mg_sim_course *c = &w->courses[i];
    rc = mg_buf_adds(b, i ? ",{\"iri\":" : "{\"iri\":");
    if (!rc) rc = jstr(b, c->iri);
    if (!rc) rc = mg_buf_adds(b, ",\"title\":");
    if (!rc) rc = jstr(b, c->title);
    if (!rc) rc = mg_buf_addf(b, ",\"platform\":\"%s\",\"offering\":", w->platforms[c->platform].code);
    if (!rc) rc = jstr(b, c->offering_iri);
    char ex[40];
    mg_sim_format_ts(c->exam_start_us, ex);
    if (!rc) rc = mg_buf_addf(b, ",\"chapters\":%d,\"exam_start\":\"%s\",\"videos\":[", c->chapters, ex);
    for (size_t v = 0; v < c->n_videos && !rc; v++) {
      rc = mg_buf_adds(b, v ? ",{\"iri\":" : "{\"iri\":");
      if (!rc) rc = jstr(b, c->videos[v].iri);
      if (!rc) rc = mg_buf_adds(b, ",\"title\":");
      if (!rc) rc = jstr(b, c->videos[v].title);
      if (!rc) rc = mg_buf_addf(b, ",\"length\":%.2f,\"chapter\":%d}", c->videos[v].length, c->videos[v].chapter);
    }
    if (!rc) rc = mg_buf_adds(b, "],\"items\":[");
    for (size_t k = 0; k < c->n_items && !rc; k++) {
      const mg_sim_item *it = &c->items[k];
      rc = mg_buf_adds(b, k ? ",{\"iri\":" : "{\"iri\":");
      if (!rc) rc = jstr(b, it->iri);
      if (!rc) rc = mg_buf_adds(b, ",\"interaction\":");
      if (!rc) rc = jstr(b, it->interaction);
      if (!rc) rc = mg_buf_adds(b, ",\"correct\":");
      if (!rc) rc = jstr(b, it->correct);
      if (!rc) rc = mg_buf_addf(b, ",\"difficulty\":%.3f,\"in_public_bank\":%s,\"bank_answer\":", it->difficulty,
                                it->in_public_bank ? "true" : "false");
      if (!rc) rc = jstr(b, it->bank_answer);
      if (!rc) rc = mg_buf_addf(b, ",\"exam\":%s}", k >= (size_t)(c->chapters * c->items_per_quiz) ? "true" : "false");
    }
    if (!rc) rc = mg_buf_adds(b, "]}");
  }
  if (!rc) rc = mg_buf_adds(b, "],\"students\":[");
  for (size_t i = 0; i < w->n_students && !rc; i++) {
    rc = mg_buf_adds(b, i ? ",{\"name\":" : "{\"name\":");
    if (!rc) rc = jstr(b, w->students[i].name);
    if (!rc) rc = mg_buf_addf(b, ",\"university\":\"%s\"}", w->universities[w->students[i].university].code);
  }
  if (!rc) rc = mg_buf_adds(b, "],\"enrolments\":[");
  for (size_t i = 0; i < w->n_enrolments && !rc; i++) {
    const mg_sim_enrolment *e = &w->enrolments[i];
    rc = mg_buf_addf(b, "%s{\"registration\":\"%s\",\"student\":", i ? "," : "", e->registration);
    if (!rc) rc = jstr(b, w->students[e->student].name);
    if (!rc) rc = mg_buf_addf(b, ",\"university\":\"%s\",\"course\":",
                              w->universities[w->students[e->student].university].code);
    if (!rc) rc = jstr(b, w->courses[e->course].iri);
    if (!rc) rc = mg_buf_addc(b, '}');
  }
  if (!rc) rc = mg_buf_adds(b, "]}");
  return rc;
}
