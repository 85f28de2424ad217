/* tests/store/test_store.c — the storage layer (store.h) over its SQLite backend. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/err.h"
#include "store/migrations.h"
#include "store/store.h"
#include "store/store_int.h"

/* ---- temp stores ------------------------------------------------------------------------- */

typedef struct tdir {
  char dir[512];
  char db[600];
} tdir;

static void tdir_make(tdir *t) {
  const char *base = getenv("MG_TEST_TMP");
  if (!base || !*base) base = "/tmp";
  mkdir(base, 0755); /* CTest's dir may not exist yet */
  snprintf(t->dir, sizeof t->dir, "%s/store-XXXXXX", base);
  assert_non_null(mkdtemp(t->dir));
  snprintf(t->db, sizeof t->db, "%s/lrs.db", t->dir);
}

static void tdir_remove(tdir *t) {
  static const char *const sfx[] = {"", "-wal", "-shm", "-mgwriter"};
  char p[700];
  for (size_t i = 0; i < 4; i++) {
    snprintf(p, sizeof p, "%s%s", t->db, sfx[i]);
    unlink(p);
  }
  rmdir(t->dir);
}

/* Statements per flushed segment for the stores a test opens (0: the default). Small values make
 * the tests run through flushed segments as well as the in-memory tail. */
static void set_segment(void **state) {
  const int *seg = state ? *state : NULL;
  if (seg && *seg) {
    char v[32];
    snprintf(v, sizeof v, "%d", *seg);
    setenv("MG_STORE_SQLITE_SEGMENT", v, 1);
  } else {
    unsetenv("MG_STORE_SQLITE_SEGMENT");
  }
}

static mg_store *open_store(tdir *t) {
  mg_store *s = NULL;
  int applied = -1;
  assert_int_equal(mg_store_open(t->db, &s, &applied), MG_OK);
  assert_non_null(s);
  return s;
}

/* One integer from the store file, read behind the store's back (to check its layout). */
static int64_t db_int(const tdir *t, const char *sql) {
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  assert_int_equal(sqlite3_open_v2(t->db, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_step(st), SQLITE_ROW);
  int64_t v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return v;
}

/* ---- statements built for tests ---------------------------------------------------------- */

#define MAXK 6

typedef struct tst {
  mg_store_stmt st;
  const char *agents[MAXK];
  const char *acts[MAXK];
  char json[128];
} tst;

static void make_id(uint8_t id[16], int n) {
  memset(id, 0xA5, 16);
  id[0] = (uint8_t)(n >> 24);
  id[1] = (uint8_t)(n >> 16);
  id[2] = (uint8_t)(n >> 8);
  id[3] = (uint8_t)n;
}

/* Statement number n: actor did verb to activity act (act may be NULL). */
static void tst_init(tst *t, int n, const char *actor, const char *verb, const char *act) {
  memset(t, 0, sizeof *t);
  make_id(t->st.id, n);
  t->st.stored_us = 1000000 + (int64_t)n * 10;
  t->st.timestamp_us = 500000 + (int64_t)n * 10;
  t->st.actor_key = actor;
  t->st.verb_id = verb;
  t->st.object_activity_id = act;
  size_t na = 0, nc = 0;
  if (actor) t->agents[na++] = actor;
  if (act) t->acts[nc++] = act;
  t->st.related_agents = t->agents;
  t->st.n_related_agents = na;
  t->st.related_activities = t->acts;
  t->st.n_related_activities = nc;
  memset(t->st.cmp_hash, n & 0xff, 32);
  t->st.cmp_hash[0] = (uint8_t)(n >> 8);
  snprintf(t->json, sizeof t->json, "{\"n\":%d}", n);
  t->st.json = t->json;
  t->st.json_len = strlen(t->json);
}

static void tst_add_agent(tst *t, const char *a) {
  assert_true(t->st.n_related_agents < MAXK);
  t->agents[t->st.n_related_agents++] = a;
}

static void tst_add_act(tst *t, const char *a) {
  assert_true(t->st.n_related_activities < MAXK);
  t->acts[t->st.n_related_activities++] = a;
}

static void tst_ref(tst *t, int target) {
  t->st.has_object_ref = 1;
  make_id(t->st.object_ref, target);
  t->st.object_activity_id = NULL;
  t->st.n_related_activities = 0;
}

static int put1(mg_store *s, tst *t, mg_store_put_result *res) {
  mg_store_put_result r = 99;
  size_t bad = 77;
  int rc = mg_store_stmt_insert(s, &t->st, 1, &r, &bad);
  if (res) *res = r;
  return rc;
}

static int64_t seq_of(mg_store *s, int n) {
  uint8_t id[16];
  mg_store_stmt_info info;
  make_id(id, n);
  assert_int_equal(mg_store_stmt_get(s, id, &info, NULL, NULL), MG_OK);
  return info.seq;
}

/* Collects the "n" of each returned statement. */
#define GOT_MAX 8192
typedef struct got {
  int n[GOT_MAX];
  int64_t seq[GOT_MAX];
  size_t len;
} got;

static int collect_cb(void *ud, int64_t seq, const char *json, size_t len) {
  got *g = ud;
  int n = -1;
  assert_true(len > 5);
  assert_int_equal(sscanf(json, "{\"n\":%d}", &n), 1);
  assert_true(g->len < GOT_MAX);
  g->seq[g->len] = seq;
  g->n[g->len++] = n;
  return MG_OK;
}

/* Runs q to the end, page by page (q->limit per page), and returns the statements in order. */
static void query_all(mg_store *s, const mg_store_query *q0, got *g) {
  mg_store_query q = *q0;
  g->len = 0;
  for (int pages = 0;; pages++) {
    int more = -1;
    int64_t last = -1, snap = -1;
    size_t before = g->len;
    assert_int_equal(mg_store_stmt_query(s, &q, collect_cb, g, &more, &last, &snap), MG_OK);
    if (g->len > before) assert_int_equal(last, g->seq[g->len - 1]);
    if (q.limit) assert_true(g->len - before <= q.limit);
    if (!more) break;
    assert_int_equal(g->len - before, q.limit ? q.limit : MG_STORE_QUERY_MAX_LIMIT);
    q.after_seq = last;
    q.max_seq = snap;
    assert_true(pages < 10000);
  }
}

static void expect_ns(const got *g, const int *ns, size_t n) {
  if (g->len != n) {
    for (size_t i = 0; i < g->len; i++) fprintf(stderr, "got %d\n", g->n[i]);
  }
  assert_int_equal(g->len, n);
  for (size_t i = 0; i < n; i++) assert_int_equal(g->n[i], ns[i]);
}

static void expect_query(mg_store *s, const mg_store_query *q, const int *ns, size_t n) {
  got *g = calloc(1, sizeof *g);
  assert_non_null(g);
  query_all(s, q, g);
  expect_ns(g, ns, n);
  free(g);
}

/* ---- lifecycle ------------------------------------------------------------------------- */

static void test_open_migrate_reopen(void **state) {
  set_segment(state);
  tdir t;
  tdir_make(&t);
  mg_store *s = NULL;
  int applied = -1, version = -1;
  const int last_migration =
      mg_store_sqlite_migrations[mg_store_sqlite_migrations_count - 1].number;
  assert_int_equal(mg_store_open(t.db, &s, &applied), MG_OK);
  assert_int_equal(applied, mg_store_sqlite_migrations_count);
  assert_true(applied >= 1);
  assert_int_equal(mg_store_schema_version(s, &version), MG_OK);
  assert_int_equal(version, last_migration);
  assert_string_equal(mg_store_backend(s), "sqlite");
  int64_t count = -1, last = -1;
  assert_int_equal(mg_store_stmt_count(s, &count), MG_OK);
  assert_int_equal(count, 0);
  assert_int_equal(mg_store_stmt_last_stored(s, &last), MG_OK);
  assert_int_equal(last, 0);
  mg_store_close(s);

  /* Second open, through the URL form: nothing to apply. */
  char url[700];
  snprintf(url, sizeof url, "sqlite:%s", t.db);
  applied = -1;
  assert_int_equal(mg_store_open(url, &s, &applied), MG_OK);
  assert_int_equal(applied, 0);
  version = -1;
  assert_int_equal(mg_store_schema_version(s, &version), MG_OK);
  assert_int_equal(version, last_migration);
  mg_store_close(s);

  /* The file says WAL and records each migration once. */
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  assert_int_equal(sqlite3_open(t.db, &db), SQLITE_OK);
  assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_step(st), SQLITE_ROW);
  assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
  sqlite3_finalize(st);
  assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*), min(number) FROM schema_migrations",
                                      -1, &st, NULL),
                   SQLITE_OK);
  assert_int_equal(sqlite3_step(st), SQLITE_ROW);
  assert_int_equal(sqlite3_column_int(st, 0), mg_store_sqlite_migrations_count);
  assert_int_equal(sqlite3_column_int(st, 1), 1);
  sqlite3_finalize(st);
  sqlite3_close(db);

  /* a store made by an older development layout is refused, not misread */
  assert_int_equal(sqlite3_open(t.db, &db), SQLITE_OK);
  assert_int_equal(sqlite3_exec(db, "UPDATE store_meta SET value = 1 WHERE name = 'layout'", NULL,
                                NULL, NULL),
                   SQLITE_OK);
  assert_int_equal(sqlite3_changes(db), 1);
  sqlite3_close(db);
  assert_int_equal(mg_store_open(t.db, &s, NULL), MG_ECORRUPT);
  assert_null(s);

  assert_int_equal(mg_store_open("postgres://u@h/db", &s, NULL), MG_ENOTSUP);
  assert_null(s);
  assert_int_equal(mg_store_open("", &s, NULL), MG_EINVAL);
  assert_int_equal(mg_store_open("ftp://x/y", &s, NULL), MG_EINVAL);
  assert_int_equal(mg_store_open("sqlite:", &s, NULL), MG_EINVAL);
  char missing[700];
  snprintf(missing, sizeof missing, "%s/no/such/dir/x.db", t.dir);
  assert_int_not_equal(mg_store_open(missing, &s, NULL), MG_OK);
  assert_null(s);
  tdir_remove(&t);
}

/* ---- insert / get / same / conflict ---------------------------------------------------- */

static void test_insert_get(void **state) {
  set_segment(state);
  tdir t;
  tdir_make(&t);
  mg_store *s = open_store(&t);
  tst a[3];
  mg_store_stmt batch[3];
  for (int i = 0; i < 3; i++) {
    tst_init(&a[i], i + 1, "mbox:mailto:a@x", "v:did", "act:1");
    batch[i] = a[i].st;
  }
  batch[2].stored_us = 5000000;
  mg_store_put_result res[3] = {9, 9, 9};
  size_t bad = 42;
  assert_int_equal(mg_store_stmt_insert(s, batch, 3, res, &bad), MG_OK);
  for (int i = 0; i < 3; i++) assert_int_equal(res[i], MG_STORE_PUT_NEW);
  assert_int_equal(batch[2].stored_us, 5000000); /* stored as given */

  for (int i = 0; i < 3; i++) {
    uint8_t id[16];
    make_id(id, i + 1);
    mg_store_stmt_info info;
    char *json = NULL;
    size_t len = 0;
    assert_int_equal(mg_store_stmt_get(s, id, &info, &json, &len), MG_OK);
    assert_int_equal(info.seq, i + 1);
    assert_int_equal(info.stored_us, batch[i].stored_us);
    assert_int_equal(info.voided, 0);
    assert_int_equal(info.is_voiding, 0);
    assert_string_equal(json, a[i].json);
    assert_int_equal(len, strlen(a[i].json));
    free(json);
  }
  uint8_t none[16];
  make_id(none, 999);
  mg_store_stmt_info info;
  char *json = (char *)1;
  assert_int_equal(mg_store_stmt_get(s, none, &info, &json, NULL), MG_ENOTFOUND);
  assert_null(json);
  int64_t count = 0, last = 0;
  assert_int_equal(mg_store_stmt_count(s, &count), MG_OK);
  assert_int_equal(count, 3);
  assert_int_equal(mg_store_stmt_last_stored(s, &last), MG_OK);
  assert_int_equal(last, 5000000);
  assert_int_equal(mg_store_stmt_insert(s, batch, 0, NULL, NULL), MG_OK);

  /* Durable across close/reopen. */
  mg_store_close(s);
  s = open_store(&t);
  assert_int_equal(mg_store_stmt_count(s, &count), MG_OK);
  assert_int_equal(count, 3);
  assert_int_equal(seq_of(s, 3), 3);
  mg_store_close(s);
  tdir_remove(&t);
}

static void test_same_and_conflict(void **state) {
  set_segment(state);
  tdir t;
  tdir_make(&t);
  mg_store *s = open_store(&t);
  tst a, b;
  mg_store_put_result r;
  tst_init(&a, 1, "mbox:mailto:a@x", "v:did", "act:1");
  assert_int_equal(put1(s, &a, &r), MG_OK);
  assert_int_equal(r, MG_STORE_PUT_NEW);

  /* identical re-post: SAME, nothing written (json differs but the digest rules) */
  tst_init(&b, 1, "mbox:mailto:a@x", "v:did", "act:1");
  snprintf(b.json, sizeof b.json, "{\"n\":1,\"other\":true}");
  b.st.json_len = strlen(b.json);
  assert_int_equal(put1(s, &b, &r), MG_OK);
  assert_int_equal(r, MG_STORE_PUT_SAME);
  char *json = NULL;
  assert_int_equal(mg_store_stmt_get(s, a.st.id, NULL, &json, NULL), MG_OK);
  assert_string_equal(json, "{\"n\":1}");
  free(json);

  /* same id, different digest: conflict; a batch holding it stores nothing */
  tst c, d;
  tst_init(&c, 2, "mbox:mailto:a@x", "v:did", "act:1");
  tst_init(&d, 1, "mbox:mailto:a@x", "v:did", "act:1");
  d.st.cmp_hash[5] ^= 1;
  mg_store_stmt batch[2] = {c.st, d.st};
  size_t bad = 99;
  assert_int_equal(mg_store_stmt_insert(s, batch, 2, NULL, &bad), MG_ECONFLICT);
  assert_int_equal(bad, 1);
  assert_int_equal(mg_store_stmt_get(s, c.st.id, NULL, NULL, NULL), MG_ENOTFOUND);
  int64_t count = 0;
  assert_int_equal(mg_store_stmt_count(s, &count), MG_OK);
  assert_int_equal(count, 1);

  /* inside one batch: same digest twice -> NEW then SAME */
  tst e1, e2;
  tst_init(&e1, 3, "mbox:mailto:a@x", "v:did", "act:1");
  tst_init(&e2, 3, "mbox:mailto:a@x", "v:did", "act:1");
  mg_store_stmt b2[2] = {e1.st, e2.st};
  mg_store_put_result res[2] = {9, 9};
  assert_int_equal(mg_store_stmt_insert(s, b2, 2, res, &bad), MG_OK);
  assert_int_equal(res[0], MG_STORE_PUT_NEW);
  assert_int_equal(res[1], MG_STORE_PUT_SAME);

  /* inside one batch: different digests -> conflict at the second, the first is not kept */
  tst f0, f1, f2;
  tst_init(&f0, 5, "mbox:mailto:new@x", "v:new", "act:new");
  tst_init(&f1, 4, "mbox:mailto:a@x", "v:did", "act:1");
  tst_init(&f2, 4, "mbox:mailto:a@x", "v:did", "act:1");
  f2.st.cmp_hash[31] ^= 0xff;
  mg_store_stmt b3[3] = {f0.st, f1.st, f2.st};
  bad = 99;
  assert_int_equal(mg_store_stmt_insert(s, b3, 3, NULL, &bad), MG_ECONFLICT);
  assert_int_equal(bad, 2);
  assert_int_equal(mg_store_stmt_get(s, f0.st.id, NULL, NULL, NULL), MG_ENOTFOUND);
  assert_int_equal(mg_store_stmt_get(s, f1.st.id, NULL, NULL, NULL), MG_ENOTFOUND);
  assert_int_equal(mg_store_stmt_count(s, &count), MG_OK);
  assert_int_equal(count, 2);
  /* the rolled-back batch's keys left nothing matchable */
  mg_store_query q = {0};
  q.agent_key = "mbox:mailto:new@x";
  expect_query(s, &q, NULL, 0);

  /* and the store still works: seqs keep growing (rolled-back ones are not reused) */
  tst g;
  tst_init(&g, 6, "mbox:mailto:new@x", "v:new", "act:new");
  assert_int_equal(put1(s, &g, &r), MG_OK);
  assert_true(seq_of(s, 6) > seq_of(s, 3));
  int want[] = {6};
  expect_query(s, &q, want, 1);

  /* invalid statements */
  tst h;
  tst_init(&h, 7, "mbox:mailto:a@x", NULL, "act:1");
  mg_store_stmt b4[2] = {g.st, h.st};
  bad = 99;
  assert_int_equal(mg_store_stmt_insert(s, b4, 2, NULL, &bad), MG_EINVAL);
  assert_int_equal(bad, 1);
  mg_store_close(s);
  tdir_remove(&t);
}

/* ---- voiding ------------------------------------------------------------------------------ */

static void test_voiding(void **state) {
  set_segment(state);
  tdir t;
  tdir_make(&t);
  mg_store *s = open_store(&t);
  const char *voided = "http://adlnet.gov/expapi/verbs/voided";
  tst target, v, v2, late, vv;
  mg_store_put_result r;
  mg_store_stmt_info info;

  tst_init(&target, 1, "mbox:mailto:ben@x", "v:passed", "act:training");
  assert_int_equal(put1(s, &target, &r), MG_OK);
  tst_init(&v, 2, "mbox:mailto:admin@x", voided, NULL);
  tst_ref(&v, 1);
  v.st.is_voiding = 1;
  assert_int_equal(put1(s, &v, &r), MG_OK);
  assert_int_equal(mg_store_stmt_get(s, target.st.id, &info, NULL, NULL), MG_OK);
  assert_int_equal(info.voided, 1);
  assert_int_equal(mg_store_stmt_get(s, v.st.id, &info, NULL, NULL), MG_OK);
  assert_int_equal(info.voided, 0);
  assert_int_equal(info.is_voiding, 1);

  /* voided statements are never returned; the voiding one matches through its StatementRef */
  mg_store_query q = {0};
  int all[] = {2};
  expect_query(s, &q, all, 1);
  q.agent_key = "mbox:mailto:ben@x";
  expect_query(s, &q, all, 1);
  memset(&q, 0, sizeof q);
  q.verb_id = "v:passed";
  expect_query(s, &q, all, 1);

  /* target absent at voiding time: accepted, and the target is stored voided when it comes */
  tst_init(&v2, 3, "mbox:mailto:admin@x", voided, NULL);
  tst_ref(&v2, 4);
  v2.st.is_voiding = 1;
  assert_int_equal(put1(s, &v2, &r), MG_OK);
  tst_init(&late, 4, "mbox:mailto:carl@x", "v:failed", "act:training");
  assert_int_equal(put1(s, &late, &r), MG_OK);
  assert_int_equal(mg_store_stmt_get(s, late.st.id, &info, NULL, NULL), MG_OK);
  assert_int_equal(info.voided, 1);
  memset(&q, 0, sizeof q);
  q.agent_key = "mbox:mailto:carl@x";
  int want_v2[] = {3};
  expect_query(s, &q, want_v2, 1);

  /* a voiding statement cannot be voided */
  tst_init(&vv, 5, "mbox:mailto:admin@x", voided, NULL);
  tst_ref(&vv, 2);
  vv.st.is_voiding = 1;
  assert_int_equal(put1(s, &vv, &r), MG_OK);
  assert_int_equal(mg_store_stmt_get(s, v.st.id, &info, NULL, NULL), MG_OK);
  assert_int_equal(info.voided, 0);

  /* voiding inside one batch, target first or voiding first */
  tst a1, a2, b1, b2;
  tst_init(&a1, 10, "mbox:mailto:d@x", "v:x", "act:y");
  tst_init(&a2, 11, "mbox:mailto:admin@x", voided, NULL);
  tst_ref(&a2, 10);
  a2.st.is_voiding = 1;
  tst_init(&b1, 12, "mbox:mailto:admin@x", voided, NULL);
  tst_ref(&b1, 13);
  b1.st.is_voiding = 1;
  tst_init(&b2, 13, "mbox:mailto:d@x", "v:x", "act:y");
  mg_store_stmt batch[4] = {a1.st, a2.st, b1.st, b2.st};
  assert_int_equal(mg_store_stmt_insert(s, batch, 4, NULL, NULL), MG_OK);
  assert_int_equal(mg_store_stmt_get(s, a1.st.id, &info, NULL, NULL), MG_OK);
  assert_int_equal(info.voided, 1);
  assert_int_equal(mg_store_stmt_get(s, b2.st.id, &info, NULL, NULL), MG_OK);
  assert_int_equal(info.voided, 1);
  memset(&q, 0, sizeof q);
  q.agent_key = "mbox:mailto:d@x";
  int want_d[] = {12, 11};
  expect_query(s, &q, want_d, 2);

  /* a rolled-back voiding leaves its target alone */
  tst c1, c2, c3;
  tst_init(&c1, 20, "mbox:mailto:e@x", "v:x", "act:y");
  assert_int_equal(put1(s, &c1, &r), MG_OK);
  tst_init(&c2, 21, "mbox:mailto:admin@x", voided, NULL);
  tst_ref(&c2, 20);
  c2.st.is_voiding = 1;
  tst_init(&c3, 20, "mbox:mailto:e@x", "v:x", "act:y");
  c3.st.cmp_hash[0] ^= 1;
  mg_store_stmt b3[2] = {c2.st, c3.st};
  assert_int_equal(mg_store_stmt_insert(s, b3, 2, NULL, NULL), MG_ECONFLICT);
  assert_int_equal(mg_store_stmt_get(s, c1.st.id, &info, NULL, NULL), MG_OK);
  assert_int_equal(info.voided, 0);
  mg_store_close(s);
  tdir_remove(&t);
}

/* ---- StatementRef filter rule ------------------------------------------------------------- */

static void test_statement_refs(void **state) {
  set_segment(state);
  tdir t;
  tdir_make(&t);
  mg_store *s = open_store(&t);
  mg_store_put_result r;
  tst a, r1, r2, r3, l, x1, x2, v;
  /* A: alice passed X (registration R). R1: bob confirmed A. R2: carol liked R1. */
  tst_init(&a, 1, "mbox:mailto:alice@x", "v:passed", "act:X");
  tst_add_act(&a, "act:course");
  tst_add_agent(&a, "mbox:mailto:teacher@x");
  a.st.has_registration = 1;
  memset(a.st.registration, 0x11, 16);
  tst_init(&r1, 2, "mbox:mailto:bob@x", "v:confirmed", NULL);
  tst_ref(&r1, 1);
  tst_init(&r2, 3, "mbox:mailto:carol@x", "v:liked", NULL);
  tst_ref(&r2, 2);
  tst_init(&x1, 4, "mbox:mailto:zed@x", "v:other", "act:Z");
  mg_store_stmt batch[4] = {a.st, r1.st, r2.st, x1.st};
  assert_int_equal(mg_store_stmt_insert(s, batch, 4, NULL, NULL), MG_OK);

  mg_store_query q = {0};
  int abc[] = {3, 2, 1};
  q.agent_key = "mbox:mailto:alice@x";
  expect_query(s, &q, abc, 3);
  q.ascending = 1;
  int abc_asc[] = {1, 2, 3};
  expect_query(s, &q, abc_asc, 3);
  memset(&q, 0, sizeof q);
  q.verb_id = "v:passed";
  expect_query(s, &q, abc, 3);
  memset(&q, 0, sizeof q);
  q.activity_id = "act:X";
  expect_query(s, &q, abc, 3);
  q.activity_id = "act:course"; /* context only: needs related_activities */
  expect_query(s, &q, NULL, 0);
  q.related_activities = 1;
  expect_query(s, &q, abc, 3);
  memset(&q, 0, sizeof q);
  q.agent_key = "mbox:mailto:teacher@x";
  expect_query(s, &q, NULL, 0);
  q.related_agents = 1;
  expect_query(s, &q, abc, 3);
  memset(&q, 0, sizeof q);
  q.has_registration = 1;
  memset(q.registration, 0x11, 16);
  expect_query(s, &q, abc, 3);
  memset(&q, 0, sizeof q);
  q.agent_key = "mbox:mailto:bob@x";
  int bc[] = {3, 2};
  expect_query(s, &q, bc, 2);
  q.agent_key = "mbox:mailto:carol@x";
  int c_only[] = {3};
  expect_query(s, &q, c_only, 1);
  /* per filter: bob (R1 itself) and act:X (through A) */
  q.agent_key = "mbox:mailto:bob@x";
  q.activity_id = "act:X";
  expect_query(s, &q, bc, 2);
  q.verb_id = "v:liked";
  expect_query(s, &q, c_only, 1);
  q.verb_id = "v:other";
  expect_query(s, &q, NULL, 0);
  /* the time filters apply to the returned statements themselves */
  memset(&q, 0, sizeof q);
  q.agent_key = "mbox:mailto:alice@x";
  q.has_since = 1;
  q.since_us = r1.st.stored_us;
  expect_query(s, &q, c_only, 1);

  /* target arriving after its referrers: R3 -> L stored before L */
  tst_init(&r3, 10, "mbox:mailto:erin@x", "v:commented", NULL);
  tst_ref(&r3, 11);
  assert_int_equal(put1(s, &r3, &r), MG_OK);
  tst_init(&x2, 12, "mbox:mailto:fred@x", "v:shared", NULL);
  tst_ref(&x2, 10); /* fred shared R3 */
  assert_int_equal(put1(s, &x2, &r), MG_OK);
  memset(&q, 0, sizeof q);
  q.agent_key = "mbox:mailto:dave@x";
  expect_query(s, &q, NULL, 0);
  tst_init(&l, 11, "mbox:mailto:dave@x", "v:attempted", "act:L");
  assert_int_equal(put1(s, &l, &r), MG_OK);
  int dave[] = {11, 12, 10}; /* seq (commit) order: R3, X2, then L */
  expect_query(s, &q, dave, 3);
  memset(&q, 0, sizeof q);
  q.verb_id = "v:attempted";
  expect_query(s, &q, dave, 3);

  /* voided statements in the chain still carry the match; the voided one is not returned */
  tst_init(&v, 20, "mbox:mailto:admin@x", "http://adlnet.gov/expapi/verbs/voided", NULL);
  tst_ref(&v, 1);
  v.st.is_voiding = 1;
  assert_int_equal(put1(s, &v, &r), MG_OK);
  memset(&q, 0, sizeof q);
  q.agent_key = "mbox:mailto:alice@x";
  int no_a[] = {20, 3, 2};
  expect_query(s, &q, no_a, 3);

  /* reference cycle (ids chosen by clients): both stored, both match both actors */
  tst y1, y2;
  tst_init(&y1, 30, "mbox:mailto:gus@x", "v:c1", NULL);
  tst_ref(&y1, 31);
  tst_init(&y2, 31, "mbox:mailto:hal@x", "v:c2", NULL);
  tst_ref(&y2, 30);
  assert_int_equal(put1(s, &y1, &r), MG_OK);
  assert_int_equal(put1(s, &y2, &r), MG_OK);
  memset(&q, 0, sizeof q);
  q.agent_key = "mbox:mailto:gus@x";
  int cyc[] = {31, 30};
  expect_query(s, &q, cyc, 2);
  q.agent_key = "mbox:mailto:hal@x";
  expect_query(s, &q, cyc, 2);
  /* a statement referencing itself */
  tst self;
  tst_init(&self, 40, "mbox:mailto:ida@x", "v:self", NULL);
  tst_ref(&self, 40);
  assert_int_equal(put1(s, &self, &r), MG_OK);
  q.agent_key = "mbox:mailto:ida@x";
  int selfw[] = {40};
  expect_query(s, &q, selfw, 1);
  mg_store_close(s);
  tdir_remove(&t);
}

/* ---- every filter, against a brute-force model ----------------------------------------- */

#define NROWS 150

typedef struct mrow {
  int n;
  int64_t seq, stored, ts;
  int actor, objagent, act, verb, reg, platform;
  int ragents[3], nra;
  int racts[3], nrc;
} mrow;

static const char *const AGENTS[] = {"mbox:mailto:a0@x", "mbox:mailto:a1@x", "mbox:mailto:a2@x",
                                     "mbox:mailto:a3@x", "mbox:mailto:a4@x", "mbox:mailto:a5@x",
                                     "mbox:mailto:i6@x", "mbox:mailto:i7@x"};
static const char *const ACTS[] = {"act:0", "act:1", "act:2", "act:3", "act:4", "act:5",
                                   "act:p0", "act:p1", "act:p2"};
static const char *const VERBS[] = {"v:0", "v:1", "v:2", "v:3"};

static uint32_t lcg(uint32_t *x) {
  *x = *x * 1103515245u + 12345u;
  return (*x >> 16) & 0x7fff;
}

static int row_matches(const mrow *m, int agent, int rel_ag, int verb, int act, int rel_ac,
                       int reg, int platform, const mg_store_query *q) {
  if (agent >= 0) {
    int ok = m->actor == agent || m->objagent == agent;
    for (int i = 0; rel_ag && i < m->nra; i++) ok |= m->ragents[i] == agent;
    if (!ok) return 0;
  }
  if (verb >= 0 && m->verb != verb) return 0;
  if (act >= 0) {
    int ok = m->act == act;
    for (int i = 0; rel_ac && i < m->nrc; i++) ok |= m->racts[i] == act;
    if (!ok) return 0;
  }
  if (reg >= 0 && m->reg != reg) return 0;
  if (platform && m->platform != platform) return 0;
  if (q->has_since && !(m->stored > q->since_us)) return 0;
  if (q->has_until && !(m->stored <= q->until_us)) return 0;
  if (q->has_ts_since && !(m->ts >= q->ts_since_us)) return 0;
  if (q->has_ts_until && !(m->ts < q->ts_until_us)) return 0;
  return 1;
}

static void test_filters(void **state) {
  set_segment(state);
  tdir t;
  tdir_make(&t);
  mg_store *s = open_store(&t);
  static mrow rows[NROWS];
  static tst ts[NROWS];
  uint32_t x = 12345;
  /* stored jitters around seq order (and steps back now and then), to test since/until exactly */
  int n = 0;
  while (n < NROWS) {
    int bn = 1 + (int)(lcg(&x) % 9);
    if (bn > NROWS - n) bn = NROWS - n;
    mg_store_stmt batch[9];
    for (int i = 0; i < bn; i++, n++) {
      mrow *m = &rows[n];
      tst *tt = &ts[n];
      memset(m, 0, sizeof *m);
      m->n = n + 1;
      m->actor = (int)(lcg(&x) % 6);
      m->verb = (int)(lcg(&x) % 4);
      m->objagent = -1;
      m->act = -1;
      if (lcg(&x) % 5 == 0)
        m->objagent = (int)(lcg(&x) % 6);
      else
        m->act = (int)(lcg(&x) % 6);
      m->reg = lcg(&x) % 3 == 0 ? -1 : (int)(lcg(&x) % 3);
      m->platform = 1 + (int)(lcg(&x) % 3);
      m->stored = 1000000 + n * 100 + (int64_t)(lcg(&x) % 300) - 150;
      m->ts = 2000000 - (int64_t)(lcg(&x) % 20000);
      tst_init(tt, m->n, AGENTS[m->actor], VERBS[m->verb], m->act >= 0 ? ACTS[m->act] : NULL);
      m->ragents[m->nra++] = m->actor;
      if (m->objagent >= 0) {
        tt->st.object_agent_key = AGENTS[m->objagent];
        tst_add_agent(tt, AGENTS[m->objagent]);
        m->ragents[m->nra++] = m->objagent;
      }
      if (lcg(&x) % 2) {
        int ins = 6 + (int)(lcg(&x) % 2);
        tst_add_agent(tt, AGENTS[ins]);
        m->ragents[m->nra++] = ins;
      }
      if (m->act >= 0) m->racts[m->nrc++] = m->act;
      if (lcg(&x) % 3) {
        int p = 6 + (int)(lcg(&x) % 3);
        tst_add_act(tt, ACTS[p]);
        m->racts[m->nrc++] = p;
      }
      if (m->reg >= 0) {
        tt->st.has_registration = 1;
        memset(tt->st.registration, 0x40 + m->reg, 16);
      }
      tt->st.platform_id = m->platform;
      tt->st.stored_us = m->stored;
      tt->st.timestamp_us = m->ts;
      batch[i] = tt->st;
    }
    assert_int_equal(mg_store_stmt_insert(s, batch, (size_t)bn, NULL, NULL), MG_OK);
  }
  for (int i = 0; i < NROWS; i++) {
    rows[i].seq = seq_of(s, rows[i].n);
    assert_int_equal(rows[i].seq, i + 1);
  }

  static const int agent_opts[] = {-1, 0, 3, 6};
  static const int verb_opts[] = {-1, 1};
  static const int act_opts[] = {-1, 2, 7};
  static const int reg_opts[] = {-1, 1};
  static const int plat_opts[] = {0, 2};
  got *g = calloc(1, sizeof *g);
  int *want = calloc(NROWS, sizeof *want);
  assert_non_null(g);
  assert_non_null(want);
  size_t nq = 0, nonempty = 0;
  for (size_t ia = 0; ia < 4; ia++)
    for (int rel_ag = 0; rel_ag < 2; rel_ag++)
      for (size_t iv = 0; iv < 2; iv++)
        for (size_t ic = 0; ic < 3; ic++)
          for (int rel_ac = 0; rel_ac < 2; rel_ac++)
            for (size_t ir = 0; ir < 2; ir++)
              for (size_t ip = 0; ip < 2; ip++)
                for (int tf = 0; tf < 8; tf++)
                  for (int asc = 0; asc < 2; asc++) {
                    if ((agent_opts[ia] < 0 && rel_ag) || (act_opts[ic] < 0 && rel_ac)) continue;
                    mg_store_query q = {0};
                    if (agent_opts[ia] >= 0) q.agent_key = AGENTS[agent_opts[ia]];
                    q.related_agents = rel_ag;
                    if (verb_opts[iv] >= 0) q.verb_id = VERBS[verb_opts[iv]];
                    if (act_opts[ic] >= 0) q.activity_id = ACTS[act_opts[ic]];
                    q.related_activities = rel_ac;
                    if (reg_opts[ir] >= 0) {
                      q.has_registration = 1;
                      memset(q.registration, 0x40 + reg_opts[ir], 16);
                    }
                    q.platform_id = plat_opts[ip];
                    switch (tf) {
                    case 1: q.has_since = 1; q.since_us = rows[60].stored; break;
                    case 2: q.has_until = 1; q.until_us = rows[90].stored; break;
                    case 3:
                      q.has_since = 1; q.since_us = rows[30].stored;
                      q.has_until = 1; q.until_us = rows[120].stored;
                      break;
                    case 4: q.has_ts_since = 1; q.ts_since_us = 1990000; break;
                    case 5: q.has_ts_until = 1; q.ts_until_us = 1985000; break;
                    case 6:
                      q.has_ts_since = 1; q.ts_since_us = 1984000;
                      q.has_ts_until = 1; q.ts_until_us = 1996000;
                      q.has_since = 1; q.since_us = rows[10].stored;
                      break;
                    case 7: q.has_until = 1; q.until_us = 0; break; /* before everything */
                    default: break;
                    }
                    q.ascending = asc;
                    q.limit = (size_t)(3 + (nq % 5));
                    size_t nw = 0;
                    for (int k = 0; k < NROWS; k++) {
                      int i = asc ? k : NROWS - 1 - k;
                      if (row_matches(&rows[i], agent_opts[ia], rel_ag, verb_opts[iv],
                                      act_opts[ic], rel_ac, reg_opts[ir], plat_opts[ip], &q))
                        want[nw++] = rows[i].n;
                    }
                    query_all(s, &q, g);
                    expect_ns(g, want, nw);
                    nq++;
                    nonempty += nw > 0;
                  }
  /* the grid must have exercised real matches, not just empty answers */
  fprintf(stderr, "filters: %zu queries, %zu with results\n", nq, nonempty);
  assert_true(nq > 1000);
  assert_true(nonempty > nq / 4);

  /* unknown keys and an inverted window match nothing */
  mg_store_query q = {0};
  q.agent_key = "mbox:mailto:nobody@x";
  expect_query(s, &q, NULL, 0);
  memset(&q, 0, sizeof q);
  q.has_since = 1;
  q.since_us = 5000000;
  expect_query(s, &q, NULL, 0);
  memset(&q, 0, sizeof q);
  q.has_ts_since = 1;
  q.ts_since_us = 10;
  q.has_ts_until = 1;
  q.ts_until_us = 10;
  expect_query(s, &q, NULL, 0);
  /* limit 0 means the maximum */
  memset(&q, 0, sizeof q);
  int more = -1;
  int64_t last = 0, snap = 0;
  g->len = 0;
  assert_int_equal(mg_store_stmt_query(s, &q, collect_cb, g, &more, &last, &snap), MG_OK);
  assert_int_equal(g->len, NROWS);
  assert_int_equal(more, 0);
  assert_int_equal(snap, NROWS);
  assert_int_equal(last, 1);
  free(g);
  free(want);
  mg_store_close(s);
  tdir_remove(&t);
}

/* since/until when stored runs backwards between commits. */
static void test_since_until_clock_back(void **state) {
  set_segment(state);
  tdir t;
  tdir_make(&t);
  mg_store *s = open_store(&t);
  tst a[6];
  static const int64_t stored[] = {1000, 1001, 900, 901, 1100, 950};
  for (int i = 0; i < 6; i++) {
    tst_init(&a[i], i + 1, "mbox:mailto:a@x", "v:x", "act:1");
    a[i].st.stored_us = stored[i];
  }
  mg_store_stmt b1[2] = {a[0].st, a[1].st}, b2[2] = {a[2].st, a[3].st};
  assert_int_equal(mg_store_stmt_insert(s, b1, 2, NULL, NULL), MG_OK);
  assert_int_equal(mg_store_stmt_insert(s, b2, 2, NULL, NULL), MG_OK);
  assert_int_equal(mg_store_stmt_insert(s, &a[4].st, 1, NULL, NULL), MG_OK);
  assert_int_equal(mg_store_stmt_insert(s, &a[5].st, 1, NULL, NULL), MG_OK);
  int64_t last = 0;
  assert_int_equal(mg_store_stmt_last_stored(s, &last), MG_OK);
  assert_int_equal(last, 1100);

  mg_store_query q = {0};
  q.ascending = 1;
  q.has_until = 1;
  q.until_us = 950;
  int w1[] = {3, 4, 6};
  expect_query(s, &q, w1, 3);
  q.until_us = 900;
  int w2[] = {3};
  expect_query(s, &q, w2, 1);
  q.until_us = 899;
  expect_query(s, &q, NULL, 0);
  q.until_us = 1000;
  int w3[] = {1, 3, 4, 6};
  expect_query(s, &q, w3, 4);
  q.has_until = 0;
  q.has_since = 1;
  q.since_us = 950;
  int w4[] = {1, 2, 5};
  expect_query(s, &q, w4, 3);
  q.since_us = 1001;
  int w5[] = {5};
  expect_query(s, &q, w5, 1);
  q.since_us = 900;
  int w6[] = {1, 2, 4, 5, 6};
  expect_query(s, &q, w6, 5);
  q.has_until = 1;
  q.until_us = 1000;
  int w7[] = {1, 4, 6};
  expect_query(s, &q, w7, 3);
  mg_store_close(s);
  tdir_remove(&t);
}

/* Timestamp windows both narrow (gathered through the index) and wide (checked per row). */
static void test_timestamp_windows(void **state) {
  set_segment(state);
  tdir t;
  tdir_make(&t);
  mg_store *s = open_store(&t);
  enum { N = 6000, B = 500 };
  tst *a = calloc(N, sizeof *a);
  mg_store_stmt *batch = calloc(B, sizeof *batch);
  assert_non_null(a);
  assert_non_null(batch);
  for (int i = 0; i < N; i += B) {
    for (int k = 0; k < B; k++) {
      int n = i + k + 1;
      tst_init(&a[n - 1], n, n % 2 ? "mbox:mailto:odd@x" : "mbox:mailto:even@x", "v:x", "act:1");
      a[n - 1].st.timestamp_us = (int64_t)((n * 7919) % N) * 1000; /* a permutation of 0..N-1 */
      batch[k] = a[n - 1].st;
    }
    assert_int_equal(mg_store_stmt_insert(s, batch, B, NULL, NULL), MG_OK);
  }
  got *g = calloc(1, sizeof *g);
  assert_non_null(g);
  /* wide window, alone and with a filter; narrow window with a filter */
  static const int64_t win[][2] = {{0, 5000000}, {100000, 5900000}, {3000000, 3020000}};
  for (size_t w = 0; w < 3; w++)
    for (int filt = 0; filt < 2; filt++)
      for (int asc = 0; asc < 2; asc++) {
        mg_store_query q = {0};
        q.has_ts_since = 1;
        q.ts_since_us = win[w][0];
        q.has_ts_until = 1;
        q.ts_until_us = win[w][1];
        q.ascending = asc;
        q.limit = 1000;
        if (filt) q.agent_key = "mbox:mailto:odd@x";
        size_t nw = 0;
        int *want = calloc(N, sizeof *want);
        assert_non_null(want);
        for (int k = 0; k < N; k++) {
          int n = asc ? k + 1 : N - k;
          int64_t ts = a[n - 1].st.timestamp_us;
          if (ts >= win[w][0] && ts < win[w][1] && (!filt || n % 2)) want[nw++] = n;
        }
        assert_true(nw > 0);
        query_all(s, &q, g);
        expect_ns(g, want, nw);
        free(want);
      }
  free(g);
  free(a);
  free(batch);
  mg_store_close(s);
  tdir_remove(&t);
}

/* ---- paging under concurrent inserts -------------------------------------------------------- */

static void insert_range(mg_store *s, int from, int to) {
  for (int n = from; n <= to; n++) {
    tst a;
    tst_init(&a, n, "mbox:mailto:p@x", "v:x", "act:1");
    assert_int_equal(put1(s, &a, NULL), MG_OK);
  }
}

static void page(mg_store *s, mg_store_query *q, got *g, int *more) {
  int64_t last = 0, snap = 0;
  size_t before = g->len;
  assert_int_equal(mg_store_stmt_query(s, q, collect_cb, g, more, &last, &snap), MG_OK);
  if (g->len > before) assert_int_equal(last, g->seq[g->len - 1]);
  q->after_seq = last;
  q->max_seq = snap;
}

static void test_paging_snapshot(void **state) {
  set_segment(state);
  tdir t;
  tdir_make(&t);
  mg_store *s = open_store(&t);
  insert_range(s, 1, 25);
  for (int asc = 0; asc < 2; asc++) {
    got *g = calloc(1, sizeof *g);
    assert_non_null(g);
    mg_store_query q = {0};
    q.agent_key = "mbox:mailto:p@x";
    q.ascending = asc;
    q.limit = 10;
    int more = -1;
    page(s, &q, g, &more);
    assert_int_equal(more, 1);
    assert_int_equal(g->len, 10);
    assert_int_equal(g->n[0], asc ? 1 : 25);
    /* new statements committed between pages never show up in this query */
    insert_range(s, 100 + asc * 10, 104 + asc * 10);
    page(s, &q, g, &more);
    assert_int_equal(more, 1);
    page(s, &q, g, &more); /* ascending: 30 in this snapshot, 100..104 from the first round */
    assert_int_equal(more, 0);
    assert_int_equal(g->len, 25 + asc * 5);
    for (int i = 0; i < 25; i++) assert_int_equal(g->n[i], asc ? i + 1 : 25 - i);
    for (int i = 25; i < (int)g->len; i++) assert_int_equal(g->n[i], 100 + i - 25);
    /* a fresh query sees them */
    memset(&q, 0, sizeof q);
    q.agent_key = "mbox:mailto:p@x";
    query_all(s, &q, g);
    assert_int_equal(g->len, 30 + asc * 5);
    assert_int_equal(g->n[0], 104 + asc * 10);
    free(g);
  }
  /* exact page boundary: more is 0 when nothing is left */
  mg_store_query q = {0};
  q.limit = 35;
  got *g = calloc(1, sizeof *g);
  assert_non_null(g);
  int more = -1;
  page(s, &q, g, &more);
  assert_int_equal(g->len, 35);
  assert_int_equal(more, 0);
  free(g);
  mg_store_close(s);
  tdir_remove(&t);
}

/* ---- concurrent writers (group commit) and readers ---------------------------------------- */

enum { THREADS = 6, BATCHES = 40, PER_BATCH = 25 };

typedef struct wargs {
  mg_store *s;
  int tid;
  int failures;
  int conflicts;
} wargs;

static int cmp_seq(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

static void *writer_thread(void *p) {
  wargs *w = p;
  tst *a = calloc(PER_BATCH, sizeof *a);
  mg_store_stmt *b = calloc(PER_BATCH, sizeof *b);
  if (!a || !b) {
    w->failures++;
    free(a);
    free(b);
    return NULL;
  }
  char actor[64];
  snprintf(actor, sizeof actor, "mbox:mailto:t%d@x", w->tid);
  for (int k = 0; k < BATCHES; k++) {
    for (int i = 0; i < PER_BATCH; i++) {
      int n = (w->tid * BATCHES + k) * PER_BATCH + i + 1;
      tst_init(&a[i], n, actor, "v:x", "act:shared");
      tst_add_agent(&a[i], "mbox:mailto:platform@x");
      b[i] = a[i].st;
    }
    size_t bad = 0;
    if (mg_store_stmt_insert(w->s, b, PER_BATCH, NULL, &bad) != MG_OK) w->failures++;
    /* and a conflicting batch now and then, which must fail alone */
    if (k % 10 == 3) {
      tst c;
      tst_init(&c, (w->tid * BATCHES + k) * PER_BATCH + 1, actor, "v:x", "act:shared");
      c.st.cmp_hash[7] ^= 0x55;
      if (mg_store_stmt_insert(w->s, &c.st, 1, NULL, &bad) == MG_ECONFLICT && bad == 0)
        w->conflicts++;
    }
  }
  free(a);
  free(b);
  return NULL;
}

typedef struct rargs {
  mg_store *s;
  atomic_int stop;
  int queries;
  int errors;
} rargs;

static int count_cb(void *ud, int64_t seq, const char *json, size_t len) {
  (void)seq;
  (void)json;
  (void)len;
  (*(int *)ud)++;
  return MG_OK;
}

static void *reader_thread(void *p) {
  rargs *r = p;
  while (!atomic_load(&r->stop)) {
    mg_store_query q = {0};
    q.activity_id = "act:shared";
    q.limit = 50;
    int n = 0, more = 0;
    if (mg_store_stmt_query(r->s, &q, count_cb, &n, &more, NULL, NULL) != MG_OK) r->errors++;
    r->queries++;
  }
  return NULL;
}

static void test_concurrent_inserts(void **state) {
  set_segment(state);
  tdir t;
  tdir_make(&t);
  mg_store *s = open_store(&t);
  pthread_t th[THREADS], rt;
  wargs wa[THREADS];
  rargs ra = {.s = s};
  atomic_init(&ra.stop, 0);
  assert_int_equal(pthread_create(&rt, NULL, reader_thread, &ra), 0);
  for (int i = 0; i < THREADS; i++) {
    wa[i] = (wargs){s, i, 0, 0};
    assert_int_equal(pthread_create(&th[i], NULL, writer_thread, &wa[i]), 0);
  }
  for (int i = 0; i < THREADS; i++) pthread_join(th[i], NULL);
  atomic_store(&ra.stop, 1);
  pthread_join(rt, NULL);
  for (int i = 0; i < THREADS; i++) {
    assert_int_equal(wa[i].failures, 0);
    assert_int_equal(wa[i].conflicts, BATCHES / 10);
  }
  assert_int_equal(ra.errors, 0);
  assert_true(ra.queries > 0);
  const int total = THREADS * BATCHES * PER_BATCH;
  int64_t count = 0;
  assert_int_equal(mg_store_stmt_count(s, &count), MG_OK);
  assert_int_equal(count, total);

  /* every statement present once, seqs unique */
  char *seen = calloc((size_t)total + 1, 1);
  int64_t *seqs = calloc((size_t)total, sizeof *seqs);
  assert_non_null(seen);
  assert_non_null(seqs);
  for (int n = 1; n <= total; n++) seqs[n - 1] = seq_of(s, n);
  qsort(seqs, (size_t)total, sizeof *seqs, cmp_seq);
  for (int i = 0; i < total; i++) {
    assert_true(seqs[i] >= 1);
    if (i) assert_true(seqs[i] > seqs[i - 1]);
  }
  got *g = calloc(1, sizeof *g);
  assert_non_null(g);
  mg_store_query q = {0};
  q.ascending = 1;
  q.activity_id = "act:shared";
  int64_t prev = 0;
  int delivered = 0;
  for (;;) {
    int more = 0;
    int64_t last = 0, snap = 0;
    g->len = 0;
    assert_int_equal(mg_store_stmt_query(s, &q, collect_cb, g, &more, &last, &snap), MG_OK);
    for (size_t i = 0; i < g->len; i++) {
      assert_true(g->seq[i] > prev);
      prev = g->seq[i];
      assert_true(g->n[i] >= 1 && g->n[i] <= total);
      assert_int_equal(seen[g->n[i]], 0);
      seen[g->n[i]] = 1;
      delivered++;
    }
    if (!more) break;
    q.after_seq = last;
    q.max_seq = snap;
  }
  assert_int_equal(delivered, total);
  /* each thread's statements are in its own commit order */
  for (int i = 0; i < THREADS; i++) {
    memset(&q, 0, sizeof q);
    char actor[64];
    snprintf(actor, sizeof actor, "mbox:mailto:t%d@x", i);
    q.agent_key = actor;
    q.ascending = 1;
    query_all(s, &q, g);
    assert_int_equal(g->len, BATCHES * PER_BATCH);
    for (size_t k = 0; k < g->len; k++)
      assert_int_equal(g->n[k], i * BATCHES * PER_BATCH + (int)k + 1);
  }
  memset(&q, 0, sizeof q);
  q.agent_key = "mbox:mailto:platform@x";
  query_all(s, &q, g);
  assert_int_equal(g->len, 0); /* related only */
  q.related_agents = 1;
  q.limit = 1000;
  query_all(s, &q, g);
  assert_int_equal(g->len, total);
  free(g);
  free(seen);
  free(seqs);
  mg_store_close(s);
  tdir_remove(&t);
}

/* ---- attachments, credentials, settings ------------------------------------------------- */

static void test_attachments(void **state) {
  set_segment(state);
  tdir t;
  tdir_make(&t);
  mg_store *s = open_store(&t);
  char sha_a[65], sha_b[65], sha_c[65];
  memset(sha_a, 'a', 64);
  memset(sha_b, 'b', 64);
  memset(sha_c, 'c', 64);
  sha_a[64] = sha_b[64] = sha_c[64] = '\0';
  static const unsigned char bin[] = {0, 1, 2, 255, 0, 7};
  mg_store_attachment att[2] = {{sha_a, "text/plain", "hello", 5},
                                {sha_b, "application/octet-stream", bin, sizeof bin}};
  tst a;
  tst_init(&a, 1, "mbox:mailto:a@x", "v:x", "act:1");
  a.st.attachments = att;
  a.st.n_attachments = 2;
  assert_int_equal(put1(s, &a, NULL), MG_OK);

  void *data = NULL;
  size_t len = 0;
  char ctype[64];
  assert_int_equal(mg_store_attachment_get(s, sha_a, &data, &len, ctype, sizeof ctype), MG_OK);
  assert_int_equal(len, 5);
  assert_memory_equal(data, "hello", 5);
  assert_string_equal(ctype, "text/plain");
  free(data);
  assert_int_equal(mg_store_attachment_get(s, sha_b, &data, &len, ctype, 8), MG_OK);
  assert_int_equal(len, sizeof bin);
  assert_memory_equal(data, bin, sizeof bin);
  assert_string_equal(ctype, "applica"); /* truncated to the buffer */
  free(data);
  assert_int_equal(mg_store_attachment_get(s, sha_c, &data, &len, ctype, sizeof ctype),
                   MG_ENOTFOUND);
  assert_null(data);

  /* attachments of a failed batch are not kept */
  mg_store_attachment att_c = {sha_c, "text/plain", "x", 1};
  tst b, c;
  tst_init(&b, 2, "mbox:mailto:a@x", "v:x", "act:1");
  b.st.attachments = &att_c;
  b.st.n_attachments = 1;
  tst_init(&c, 1, "mbox:mailto:a@x", "v:x", "act:1");
  c.st.cmp_hash[3] ^= 1;
  mg_store_stmt batch[2] = {b.st, c.st};
  assert_int_equal(mg_store_stmt_insert(s, batch, 2, NULL, NULL), MG_ECONFLICT);
  assert_int_equal(mg_store_attachment_get(s, sha_c, &data, &len, NULL, 0), MG_ENOTFOUND);
  /* a malformed attachment is refused */
  mg_store_attachment bad_att = {"abc", "text/plain", "x", 1};
  b.st.attachments = &bad_att;
  size_t bad = 9;
  assert_int_equal(mg_store_stmt_insert(s, &b.st, 1, NULL, &bad), MG_EINVAL);
  assert_int_equal(bad, 0);
  mg_store_close(s);
  tdir_remove(&t);
}

typedef struct clist {
  mg_store_credential c[8];
  int n;
  int stop_after;
} clist;

static int cred_cb(void *ud, const mg_store_credential *c) {
  clist *l = ud;
  if (l->n < 8) l->c[l->n] = *c;
  l->n++;
  if (l->stop_after && l->n == l->stop_after) return MG_EIO;
  return MG_OK;
}

static void test_credentials(void **state) {
  set_segment(state);
  tdir t;
  tdir_make(&t);
  mg_store *s = open_store(&t);
  mg_store_credential c = {0};
  c.platform_id = 7;
  snprintf(c.key, sizeof c.key, "key-one");
  snprintf(c.name, sizeof c.name, "Platform Seven");
  snprintf(c.secret_hash, sizeof c.secret_hash, "$argon2id$v=19$m=65536,t=2,p=1$abc$def");
  c.enabled = 1;
  c.created_us = 123456;
  int64_t id1 = 0, id2 = 0;
  assert_int_equal(mg_store_credential_create(s, &c, &id1), MG_OK);
  assert_true(id1 > 0);
  assert_int_equal(mg_store_credential_create(s, &c, &id2), MG_EEXISTS);
  snprintf(c.key, sizeof c.key, "key-two");
  c.platform_id = 8;
  c.enabled = 0;
  assert_int_equal(mg_store_credential_create(s, &c, &id2), MG_OK);
  assert_true(id2 > id1);
  mg_store_credential empty = {0};
  assert_int_equal(mg_store_credential_create(s, &empty, NULL), MG_EINVAL);

  mg_store_credential got_c;
  assert_int_equal(mg_store_credential_get(s, "key-one", &got_c), MG_OK);
  assert_int_equal(got_c.id, id1);
  assert_int_equal(got_c.platform_id, 7);
  assert_string_equal(got_c.key, "key-one");
  assert_string_equal(got_c.name, "Platform Seven");
  assert_string_equal(got_c.secret_hash, "$argon2id$v=19$m=65536,t=2,p=1$abc$def");
  assert_int_equal(got_c.enabled, 1);
  assert_int_equal(got_c.created_us, 123456);
  assert_int_equal(mg_store_credential_get(s, "nope", &got_c), MG_ENOTFOUND);

  assert_int_equal(mg_store_credential_set_enabled(s, "key-one", 0), MG_OK);
  assert_int_equal(mg_store_credential_get(s, "key-one", &got_c), MG_OK);
  assert_int_equal(got_c.enabled, 0);
  assert_int_equal(mg_store_credential_set_enabled(s, "key-two", 1), MG_OK);
  assert_int_equal(mg_store_credential_get(s, "key-two", &got_c), MG_OK);
  assert_int_equal(got_c.enabled, 1);
  assert_int_equal(got_c.platform_id, 8);
  assert_int_equal(mg_store_credential_set_enabled(s, "nope", 1), MG_ENOTFOUND);

  clist l = {0};
  assert_int_equal(mg_store_credential_list(s, cred_cb, &l), MG_OK);
  assert_int_equal(l.n, 2);
  assert_string_equal(l.c[0].key, "key-one");
  assert_int_equal(l.c[0].enabled, 0);
  assert_string_equal(l.c[1].key, "key-two");
  assert_int_equal(l.c[1].enabled, 1);
  clist l2 = {.stop_after = 1};
  assert_int_equal(mg_store_credential_list(s, cred_cb, &l2), MG_EIO);
  assert_int_equal(l2.n, 1);

  /* survives reopen */
  mg_store_close(s);
  s = open_store(&t);
  assert_int_equal(mg_store_credential_get(s, "key-two", &got_c), MG_OK);
  assert_int_equal(got_c.id, id2);
  mg_store_close(s);
  tdir_remove(&t);
}

static void test_settings(void **state) {
  set_segment(state);
  tdir t;
  tdir_make(&t);
  mg_store *s = open_store(&t);
  char out[16];
  assert_int_equal(mg_store_setting_get(s, "instance_id", out, sizeof out), MG_ENOTFOUND);
  assert_int_equal(mg_store_setting_set(s, "instance_id", "abc-123"), MG_OK);
  assert_int_equal(mg_store_setting_get(s, "instance_id", out, sizeof out), MG_OK);
  assert_string_equal(out, "abc-123");
  assert_int_equal(mg_store_setting_set(s, "instance_id", "0123456789abcdefXYZ"), MG_OK);
  assert_int_equal(mg_store_setting_get(s, "instance_id", out, sizeof out), MG_OK);
  assert_string_equal(out, "0123456789abcde"); /* truncated */
  assert_int_equal(mg_store_setting_set(s, "other", ""), MG_OK);
  assert_int_equal(mg_store_setting_get(s, "other", out, sizeof out), MG_OK);
  assert_string_equal(out, "");
  mg_store_close(s);
  s = open_store(&t);
  assert_int_equal(mg_store_setting_get(s, "instance_id", out, sizeof out), MG_OK);
  assert_string_equal(out, "0123456789abcde");
  mg_store_close(s);
  tdir_remove(&t);
}

/* A callback's error stops the query and comes back. */
static int stop_cb(void *ud, int64_t seq, const char *json, size_t len) {
  (void)seq;
  (void)json;
  (void)len;
  int *n = ud;
  return ++*n == 2 ? MG_ETOOBIG : MG_OK;
}

static void test_query_callback_stop(void **state) {
  set_segment(state);
  tdir t;
  tdir_make(&t);
  mg_store *s = open_store(&t);
  insert_range(s, 1, 5);
  mg_store_query q = {0};
  int n = 0, more = -1;
  assert_int_equal(mg_store_stmt_query(s, &q, stop_cb, &n, &more, NULL, NULL), MG_ETOOBIG);
  assert_int_equal(n, 2);
  /* the store is fine afterwards */
  got *g = calloc(1, sizeof *g);
  assert_non_null(g);
  query_all(s, &q, g);
  assert_int_equal(g->len, 5);
  free(g);
  mg_store_close(s);
  tdir_remove(&t);
}

/* The in-memory tail is rebuilt from the rows after a reopen (as after a crash), with part of the
 * statements in flushed segments and part not. */
static void test_reopen_rebuilds_tail(void **state) {
  set_segment(state);
  tdir t;
  tdir_make(&t);
  mg_store *s = open_store(&t);
  for (int n = 1; n <= 90; n++) {
    tst a;
    tst_init(&a, n, n % 3 ? "mbox:mailto:x@x" : "mbox:mailto:y@x", n % 2 ? "v:odd" : "v:even",
             "act:1");
    if (n == 40) tst_ref(&a, 95); /* a StatementRef whose target comes after the reopen */
    assert_int_equal(put1(s, &a, NULL), MG_OK);
  }
  mg_store_close(s);
  s = open_store(&t);
  mg_store_query q = {0};
  q.agent_key = "mbox:mailto:y@x";
  q.ascending = 1;
  got *g = calloc(1, sizeof *g);
  assert_non_null(g);
  query_all(s, &q, g);
  assert_int_equal(g->len, 30);
  for (size_t i = 0; i < g->len; i++) assert_int_equal(g->n[i], 3 * (int)(i + 1));
  /* ids of the earlier life are still known: a re-post is SAME, a changed one conflicts */
  tst a;
  mg_store_put_result r;
  tst_init(&a, 7, "mbox:mailto:x@x", "v:odd", "act:1");
  assert_int_equal(put1(s, &a, &r), MG_OK);
  assert_int_equal(r, MG_STORE_PUT_SAME);
  a.st.cmp_hash[9] ^= 1;
  assert_int_equal(put1(s, &a, &r), MG_ECONFLICT);
  /* the late target reaches statement 40, wherever it lives now */
  tst_init(&a, 95, "mbox:mailto:late@x", "v:late", "act:late");
  assert_int_equal(put1(s, &a, &r), MG_OK);
  memset(&q, 0, sizeof q);
  q.verb_id = "v:late";
  int want[] = {95, 40};
  expect_query(s, &q, want, 2);
  q.verb_id = "v:even";
  q.agent_key = "mbox:mailto:x@x";
  q.limit = 7;
  query_all(s, &q, g);
  assert_int_equal(g->len, 30); /* even n not divisible by 3 */
  /* every earlier statement re-posted is SAME (flushed ids go through the Bloom filter, built in
   * the background meanwhile), and nothing is stored twice */
  usleep(200000);
  for (int n = 1; n <= 90; n++) {
    tst b;
    tst_init(&b, n, n % 3 ? "mbox:mailto:x@x" : "mbox:mailto:y@x", n % 2 ? "v:odd" : "v:even",
             "act:1");
    if (n == 40) tst_ref(&b, 95);
    assert_int_equal(put1(s, &b, &r), MG_OK);
    assert_int_equal(r, MG_STORE_PUT_SAME);
  }
  int64_t count = 0;
  assert_int_equal(mg_store_stmt_count(s, &count), MG_OK);
  assert_int_equal(count, 91);
  /* with small segments most of this went through flushed segments; else all in the tail */
  int64_t segs = db_int(&t, "SELECT count(*) FROM segments");
  int64_t flushed = db_int(&t, "SELECT count(*) FROM statement_ids");
  if (state && *state) {
    assert_true(segs >= 4);
    assert_true(flushed >= 64);
  } else {
    assert_int_equal(segs, 0);
    assert_int_equal(flushed, 0);
  }
  free(g);
  mg_store_close(s);
  tdir_remove(&t);
}

/* A second handle on the same file reads what the first writes; only one handle writes. */
static void test_second_handle(void **state) {
  set_segment(state);
  tdir t;
  tdir_make(&t);
  mg_store *w = open_store(&t);
  mg_store *r = open_store(&t);
  insert_range(w, 1, 20);
  mg_store_query q = {0};
  q.agent_key = "mbox:mailto:p@x";
  got *g = calloc(1, sizeof *g);
  assert_non_null(g);
  query_all(r, &q, g);
  assert_int_equal(g->len, 20);
  insert_range(w, 21, 45);
  query_all(r, &q, g);
  assert_int_equal(g->len, 45);
  assert_int_equal(g->n[0], 45);
  uint8_t id[16];
  make_id(id, 44);
  mg_store_stmt_info info;
  assert_int_equal(mg_store_stmt_get(r, id, &info, NULL, NULL), MG_OK);
  tst a;
  tst_init(&a, 100, "mbox:mailto:p@x", "v:x", "act:1");
  assert_int_equal(put1(r, &a, NULL), MG_EBUSY); /* w holds the writer lock */
  mg_store_close(w);
  assert_int_equal(put1(r, &a, NULL), MG_OK);
  query_all(r, &q, g);
  assert_int_equal(g->len, 46);
  assert_int_equal(g->n[0], 100);
  free(g);
  mg_store_close(r);
  tdir_remove(&t);
}

/* A target arriving while its referrer's segment is being flushed (segments of 4 statements):
 * while the segment's rows are written, at the round that seals it, and after. */
static void test_flush_while_propagating(void **state) {
  set_segment(state);
  tdir t;
  tdir_make(&t);
  mg_store *s = open_store(&t);
  tst a[12];
  tst_init(&a[0], 1, "mbox:mailto:r1@x", "v:ref", NULL);
  tst_ref(&a[0], 100);
  tst_init(&a[1], 2, "mbox:mailto:r2@x", "v:ref", NULL);
  tst_ref(&a[1], 101);
  tst_init(&a[2], 3, "mbox:mailto:r3@x", "v:ref", NULL);
  tst_ref(&a[2], 102);
  tst_init(&a[3], 4, "mbox:mailto:o@x", "v:other", "act:o");
  mg_store_stmt b1[4] = {a[0].st, a[1].st, a[2].st, a[3].st};
  assert_int_equal(mg_store_stmt_insert(s, b1, 4, NULL, NULL), MG_OK); /* a flush of 1..4 starts */
  tst_init(&a[4], 100, "mbox:mailto:dave@x", "v:t1", "act:t");
  assert_int_equal(put1(s, &a[4], NULL), MG_OK); /* rows written; propagation into 1 */
  tst_init(&a[5], 101, "mbox:mailto:erin@x", "v:t2", "act:t");
  assert_int_equal(put1(s, &a[5], NULL), MG_OK); /* sealed at this round's start */
  tst_init(&a[6], 102, "mbox:mailto:fred@x", "v:t3", "act:t");
  assert_int_equal(put1(s, &a[6], NULL), MG_OK); /* segment 1..4 is in the database now */
  assert_true(db_int(&t, "SELECT count(*) FROM segments WHERE lo_seq = 1 AND hi_seq = 4") == 1);
  static const char *const who[3] = {"mbox:mailto:dave@x", "mbox:mailto:erin@x",
                                     "mbox:mailto:fred@x"};
  for (int k = 0; k < 3; k++) {
    mg_store_query q = {0};
    q.agent_key = who[k];
    int want[2] = {100 + k, 1 + k};
    expect_query(s, &q, want, 2);
    memset(&q, 0, sizeof q);
    q.verb_id = k == 0 ? "v:t1" : k == 1 ? "v:t2" : "v:t3";
    expect_query(s, &q, want, 2);
  }
  /* and the same after a reopen (tail rebuilt, segments read back) */
  mg_store_close(s);
  s = open_store(&t);
  for (int k = 0; k < 3; k++) {
    mg_store_query q = {0};
    q.agent_key = who[k];
    q.ascending = 1;
    int want[2] = {1 + k, 100 + k};
    expect_query(s, &q, want, 2);
  }
  mg_store_close(s);
  tdir_remove(&t);
}

static int seg_small = 16, seg_tiny = 3, seg_four = 4;

/* Governance transactions: a rolled-back change leaves nothing, a committed one survives reopen,
 * nesting is refused, and another thread waits for the open transaction. */
static int64_t gov_count(mg_store *s) {
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  assert_int_equal(mg_store_sqlite_gov_acquire(s, &db), MG_OK);
  assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM t_gov", -1, &st, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_step(st), SQLITE_ROW);
  int64_t n = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  mg_store_sqlite_gov_release(s);
  return n;
}

static void gov_exec(mg_store *s, const char *sql) {
  sqlite3 *db = NULL;
  assert_int_equal(mg_store_sqlite_gov_acquire(s, &db), MG_OK);
  assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
  mg_store_sqlite_gov_release(s);
}

typedef struct gov_waiter {
  mg_store *s;
  int64_t seen;
} gov_waiter;

static void *gov_wait_thread(void *arg) {
  gov_waiter *w = arg;
  w->seen = gov_count(w->s); /* blocks until the other thread's transaction ends */
  return NULL;
}

static void test_gov_transactions(void **state) {
  set_segment(state);
  tdir t;
  tdir_make(&t);
  mg_store *s = open_store(&t);
  gov_exec(s, "CREATE TABLE t_gov (x INTEGER)");
  assert_int_equal(mg_store_tx_begin(s), MG_OK);
  assert_int_equal(mg_store_tx_begin(s), MG_EINVAL); /* no nesting */
  gov_exec(s, "INSERT INTO t_gov VALUES (1)");
  assert_int_equal(gov_count(s), 1);
  mg_store_tx_rollback(s);
  assert_int_equal(gov_count(s), 0);
  assert_int_equal(mg_store_tx_commit(s), MG_EINVAL); /* nothing open */

  assert_int_equal(mg_store_tx_begin(s), MG_OK);
  gov_exec(s, "INSERT INTO t_gov VALUES (2)");
  pthread_t th;
  gov_waiter w = {s, -1};
  assert_int_equal(pthread_create(&th, NULL, gov_wait_thread, &w), 0);
  usleep(50 * 1000);
  assert_int_equal(w.seen, -1); /* still waiting */
  gov_exec(s, "INSERT INTO t_gov VALUES (3)");
  assert_int_equal(mg_store_tx_commit(s), MG_OK);
  pthread_join(th, NULL);
  assert_int_equal(w.seen, 2);
  mg_store_close(s);
  s = open_store(&t);
  assert_int_equal(gov_count(s), 2);
  mg_store_tx_rollback(s); /* harmless without a transaction */
  mg_store_close(s);
  tdir_remove(&t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_open_migrate_reopen),
      cmocka_unit_test(test_insert_get),
      cmocka_unit_test(test_same_and_conflict),
      cmocka_unit_test(test_voiding),
      cmocka_unit_test(test_statement_refs),
      cmocka_unit_test(test_filters),
      cmocka_unit_test(test_since_until_clock_back),
      cmocka_unit_test(test_timestamp_windows),
      cmocka_unit_test(test_paging_snapshot),
      cmocka_unit_test(test_concurrent_inserts),
      cmocka_unit_test(test_attachments),
      cmocka_unit_test(test_credentials),
      cmocka_unit_test(test_settings),
      cmocka_unit_test(test_gov_transactions),
      cmocka_unit_test(test_query_callback_stop),
      cmocka_unit_test(test_reopen_rebuilds_tail),
      cmocka_unit_test(test_second_handle),
      cmocka_unit_test_prestate(test_flush_while_propagating, &seg_four),
      /* the same again with most statements in flushed segments */
      cmocka_unit_test_prestate(test_insert_get, &seg_tiny),
      cmocka_unit_test_prestate(test_same_and_conflict, &seg_tiny),
      cmocka_unit_test_prestate(test_voiding, &seg_tiny),
      cmocka_unit_test_prestate(test_statement_refs, &seg_tiny),
      cmocka_unit_test_prestate(test_filters, &seg_small),
      cmocka_unit_test_prestate(test_since_until_clock_back, &seg_tiny),
      cmocka_unit_test_prestate(test_timestamp_windows, &seg_small),
      cmocka_unit_test_prestate(test_paging_snapshot, &seg_tiny),
      cmocka_unit_test_prestate(test_concurrent_inserts, &seg_small),
      cmocka_unit_test_prestate(test_reopen_rebuilds_tail, &seg_small),
      cmocka_unit_test_prestate(test_second_handle, &seg_tiny),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
