/* detect/live: statements ingested through the real ingest path reach the detector thread after
 * they are durable; the findings stored live are exactly a replay's; a restart resumes after the
 * persisted seq (state rebuilt silently, nothing stored twice); statements written while no
 * detector ran are caught up from the store; a bad checkpoint starts over without duplicates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/arena.h"
#include "core/err.h"
#include "detect/detect.h"
#include "detect/live.h"
#include "sim/sim.h"
#include <sqlite3.h>

#include "store/store_findings.h"
#include "store/store_int.h"
#include "support.h"
#include "xapi/ingest.h"

/* ---- a small simulated term, kept in memory ----------------------------------------------- */

typedef struct term {
  char **s;
  size_t *len;
  size_t n, cap;
} term;

static int keep(void *ud, const char *json, size_t len) {
  term *t = ud;
  if (t->n == t->cap) {
    t->cap = t->cap ? 2 * t->cap : 4096;
    t->s = realloc(t->s, t->cap * sizeof *t->s);
    t->len = realloc(t->len, t->cap * sizeof *t->len);
    assert_non_null(t->s);
    assert_non_null(t->len);
  }
  t->s[t->n] = malloc(len + 1);
  assert_non_null(t->s[t->n]);
  memcpy(t->s[t->n], json, len);
  t->s[t->n][len] = 0;
  t->len[t->n++] = len;
  return 0;
}

static term g_term;

static int setup(void **state) {
  (void)state;
  mg_sim_config c;
  mg_sim_config_default(&c);
  c.students = 40;
  c.weeks = 4;
  c.courses = 4;
  c.universities = 2;
  c.platforms = 2;
  for (int f = 0; f < MG_SIM_FAMILY_COUNT; f++) c.attack_rate[f] *= 10;
  mg_sim_sink sink = {.ud = &g_term, .statement = keep};
  return mg_sim_run(&c, &sink) == MG_OK && g_term.n > 1000 ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  for (size_t i = 0; i < g_term.n; i++) free(g_term.s[i]);
  free(g_term.s);
  free(g_term.len);
  return 0;
}

/* Ingests statements [from, to) in batches of 250 through mg_xapi_ingest, as the LRS does. */
static void ingest(mg_store *s, size_t from, size_t to, mg_detect_live *live) {
  mg_arena a;
  mg_arena_init(&a, 1 << 20, 0);
  for (size_t i = from; i < to; i += 250) {
    size_t end = i + 250 < to ? i + 250 : to;
    mg_buf b;
    mg_buf_init(&b, (size_t)1 << 30);
    assert_int_equal(mg_buf_addc(&b, '['), MG_OK);
    for (size_t k = i; k < end; k++) {
      if (k > i) assert_int_equal(mg_buf_addc(&b, ','), MG_OK);
      assert_int_equal(mg_buf_add(&b, g_term.s[k], g_term.len[k]), MG_OK);
    }
    assert_int_equal(mg_buf_addc(&b, ']'), MG_OK);
    char msg[256];
    mg_json *body = mg_xapi_parse_json(&a, b.data, b.len, msg, sizeof msg);
    assert_non_null(body);
    mg_xapi_ingest_ctx ctx = {.store = s, .version = MG_XAPI_V200,
                              .authority = mg_xapi_platform_authority(&a, "http://127.0.0.1",
                                                                      "import", "test"),
                              .arena = &a, .on_durable = mg_detect_live_notify,
                              .on_durable_ud = live};
    mg_xapi_ingest_result res;
    /* the sim re-posts a few statements with the same id and bytes: a batch must not hold one
     * id twice, so fall back to one at a time */
    if (mg_xapi_ingest(&ctx, body, NULL, NULL, 0, &res) != MG_OK) {
      assert_string_equal(res.error, "duplicate_id");
      for (size_t k = i; k < end; k++) {
        mg_json *one = mg_xapi_parse_json(&a, g_term.s[k], g_term.len[k], msg, sizeof msg);
        assert_int_equal(mg_xapi_ingest(&ctx, one, NULL, NULL, 0, &res), MG_OK);
      }
    }
    mg_buf_free(&b);
    mg_arena_reset(&a);
  }
  mg_arena_free(&a);
}

/* ---- finding sets --------------------------------------------------------------------------- */

typedef struct fset {
  char items[512][400];
  size_t n;
} fset;

static void fset_add(fset *f, const char *type, const char *reg, const char *rules, double score) {
  assert_true(f->n < 512);
  snprintf(f->items[f->n++], sizeof f->items[0], "%s|%s|%s|%.3f", type, reg, rules, score);
}

static int cmp_item(const void *a, const void *b) { return strcmp(a, b); }

static void fset_sort(fset *f) { qsort(f->items, f->n, sizeof f->items[0], cmp_item); }

static int from_row(void *ud, const mg_store_finding *r) {
  fset_add(ud, r->type, r->registration, r->rules, r->score);
  return MG_OK;
}

static void stored_set(mg_store *s, fset *out) {
  memset(out, 0, sizeof *out);
  mg_store_finding_filter flt = {.limit = 500};
  int more = 1;
  while (more) {
    assert_int_equal(mg_store_finding_list(s, &flt, from_row, out, &more, &flt.after_id), MG_OK);
  }
  fset_sort(out);
}

static int from_engine(void *ud, const mg_detect_finding *f) {
  fset_add(ud, mg_detect_type_name(f->type), f->registration, f->rules, f->score);
  return MG_OK;
}

static int feed(void *ud, int64_t seq, const char *json, size_t len) {
  (void)seq;
  return mg_detect_feed_json(ud, json, len);
}

/* What `detect --replay` finds over the store: every statement in seq order, then flush. */
static void replay_set(mg_store *s, fset *out) {
  memset(out, 0, sizeof *out);
  mg_detect *d;
  assert_int_equal(mg_detect_new(NULL, from_engine, out, &d), MG_OK);
  mg_store_query q = {.ascending = 1};
  int more = 1;
  int64_t last = 0, snap = 0;
  while (more) {
    q.after_seq = last;
    q.max_seq = snap;
    assert_int_equal(mg_store_stmt_query(s, &q, feed, d, &more, &last, &snap), MG_OK);
  }
  assert_int_equal(mg_detect_flush(d), MG_OK);
  mg_detect_free(d);
  fset_sort(out);
}

static void assert_same(const fset *a, const fset *b) {
  if (a->n != b->n) fail_msg("live %zu findings, replay %zu", a->n, b->n);
  for (size_t i = 0; i < a->n; i++) assert_string_equal(a->items[i], b->items[i]);
}

static mg_store *open_store(const char *name) {
  char dir[512], path[700];
  mg_test_tmpdir(name, dir, sizeof dir);
  snprintf(path, sizeof path, "%s/store.db", dir);
  unlink(path);
  mg_store *s;
  assert_int_equal(mg_store_open(path, &s, NULL), MG_OK);
  return s;
}

static int64_t checkpoint(mg_store *s) {
  char v[32];
  if (mg_store_setting_get(s, MG_DETECT_LIVE_SETTING, v, sizeof v) != MG_OK) return -1;
  return strtoll(v, NULL, 10);
}

static mg_detect_live_config fast(void) {
  mg_detect_live_config c;
  mg_detect_live_config_defaults(&c);
  c.poll_us = 20000;
  c.checkpoint_every_us = 0;
  c.page = 300; /* several pages per pass */
  return c;
}

/* ---- tests ----------------------------------------------------------------------------------- */

static void live_equals_replay_and_resumes(void **state) {
  (void)state;
  static fset live, replay, again;
  mg_store *s = open_store("live_resume");
  mg_detect_live_config c = fast();
  mg_detect_live *l;
  assert_int_equal(mg_detect_live_start(s, &c, &l), MG_OK);
  size_t half = g_term.n / 2;
  ingest(s, 0, half, l);
  assert_int_equal(mg_detect_live_drain(l, 60000000), MG_OK);
  mg_detect_live_stats st;
  mg_detect_live_get_stats(l, &st);
  assert_int_equal(st.resumed_from, 0);
  assert_int_equal(st.warmup, 0);
  assert_true(st.notified >= half);
  assert_true(st.fed > half * 9 / 10); /* the sim's re-posts are stored once */
  int64_t seq_half = st.processed_seq;
  assert_int_equal(checkpoint(s), seq_half); /* persisted once the findings are stored */
  /* more statements while it runs */
  ingest(s, half, g_term.n, l);
  assert_int_equal(mg_detect_live_stop(l), MG_OK);
  stored_set(s, &live);
  replay_set(s, &replay);
  assert_true(live.n >= 5);
  assert_same(&live, &replay);
  int64_t end = checkpoint(s);
  assert_true(end > seq_half);

  /* start again: everything is warm-up, nothing is stored again */
  assert_int_equal(mg_detect_live_start(s, &c, &l), MG_OK);
  assert_int_equal(mg_detect_live_drain(l, 60000000), MG_OK);
  mg_detect_live_get_stats(l, &st);
  assert_int_equal(st.resumed_from, end);
  assert_int_equal(st.fed, 0);
  assert_true(st.warmup > 0);
  assert_int_equal(st.processed_seq, end);
  assert_int_equal(st.findings_new + st.findings_updated, 0);
  mg_detect_live_notify(NULL, 3); /* harmless */
  assert_int_equal(mg_detect_live_stop(l), MG_OK);
  stored_set(s, &again);
  assert_same(&again, &live);
  mg_store_close(s);
}

static void catches_up_statements_written_without_detector(void **state) {
  (void)state;
  static fset live, replay;
  mg_store *s = open_store("live_catchup");
  ingest(s, 0, g_term.n, NULL); /* e.g. `import --detect-live false` */
  mg_detect_live_config c = fast();
  mg_detect_live *l;
  assert_int_equal(mg_detect_live_start(s, &c, &l), MG_OK);
  assert_int_equal(mg_detect_live_drain(l, 60000000), MG_OK);
  mg_detect_live_stats st;
  mg_detect_live_get_stats(l, &st);
  assert_int_equal(st.notified, 0);
  assert_true(st.fed > g_term.n * 9 / 10);
  assert_int_equal(mg_detect_live_stop(l), MG_OK);
  stored_set(s, &live);
  replay_set(s, &replay);
  assert_same(&live, &replay);

  /* an unreadable checkpoint: start over; every finding is an upsert, none added twice */
  assert_int_equal(mg_store_setting_set(s, MG_DETECT_LIVE_SETTING, "12x"), MG_OK);
  assert_int_equal(mg_detect_live_start(s, &c, &l), MG_OK);
  assert_int_equal(mg_detect_live_drain(l, 60000000), MG_OK);
  mg_detect_live_get_stats(l, &st);
  assert_int_equal(st.resumed_from, 0);
  assert_int_equal(st.findings_new, 0);
  assert_int_equal(mg_detect_live_stop(l), MG_OK);
  mg_detect_live_get_stats(NULL, &st);
  stored_set(s, &replay);
  assert_same(&replay, &live);
  mg_store_close(s);
}

static void gov_exec(mg_store *s, const char *sql) {
  sqlite3 *db = NULL;
  assert_int_equal(mg_store_sqlite_gov_acquire(s, &db), MG_OK);
  assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
  mg_store_sqlite_gov_release(s);
}

/* The store refuses findings for a while (a trigger on the connection that writes them): the
 * page's findings, written together, are all kept for a retry and the checkpoint stays before
 * the first of them; once the store accepts again, the next pass stores them, and the stored set
 * is a replay's. */
static void refused_findings_kept_and_retried(void **state) {
  (void)state;
  static fset live, replay;
  mg_store *s = open_store("live_refused");
  gov_exec(s, "CREATE TEMP TRIGGER refuse_ins BEFORE INSERT ON findings BEGIN "
              "SELECT RAISE(ABORT, 'refused'); END;"
              "CREATE TEMP TRIGGER refuse_upd BEFORE UPDATE ON findings BEGIN "
              "SELECT RAISE(ABORT, 'refused'); END;");
  mg_detect_live_config c = fast();
  mg_detect_live *l;
  assert_int_equal(mg_detect_live_start(s, &c, &l), MG_OK);
  ingest(s, 0, g_term.n, l);
  assert_int_equal(mg_detect_live_drain(l, 60000000), MG_OK);
  mg_detect_live_stats st;
  mg_detect_live_get_stats(l, &st);
  assert_true(st.findings_failed > 0);
  assert_int_equal(st.findings_new, 0);
  assert_true(checkpoint(s) < st.processed_seq); /* held before the refused findings */
  stored_set(s, &live);
  assert_int_equal(live.n, 0);
  gov_exec(s, "DROP TRIGGER refuse_ins; DROP TRIGGER refuse_upd;");
  mg_detect_live_notify(l, 1);
  assert_int_equal(mg_detect_live_drain(l, 60000000), MG_OK);
  mg_detect_live_get_stats(l, &st);
  assert_true(st.findings_new > 0);
  assert_int_equal(checkpoint(s), st.processed_seq);
  assert_int_equal(mg_detect_live_stop(l), MG_OK);
  stored_set(s, &live);
  replay_set(s, &replay);
  assert_true(live.n >= 5);
  assert_same(&live, &replay);
  mg_store_close(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(live_equals_replay_and_resumes),
      cmocka_unit_test(catches_up_statements_written_without_detector),
      cmocka_unit_test(refused_findings_kept_and_retried),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
