/* tests/audit/test_audit.c — the hash-chained audit log: append, transactions, alarm,
 * append-only triggers, tamper detection on the raw file, checkpoints, retention purge. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit/audit.h"
#include "core/err.h"
#include "core/time.h"
#include "crypto/keyring.h"
#include "store/store.h"
#include "store/store_audit.h"
#include "store/store_int.h"
#include "support.h"

typedef struct tstore {
  char dir[512];
  char db[600];
  mg_store *s;
} tstore;

static void ts_open(tstore *t) {
  assert_int_equal(mg_store_open(t->db, &t->s, NULL), MG_OK);
}

static void ts_make(const char *name, tstore *t) {
  mg_keyring_shutdown(); /* each store gets its own key directory */
  mg_test_tmpdir(name, t->dir, sizeof t->dir);
  snprintf(t->db, sizeof t->db, "%s/mg.db", t->dir);
  ts_open(t);
}

static void ts_close(tstore *t) {
  mg_store_close(t->s);
  t->s = NULL;
}

static void set_opts(int64_t every, int64_t minutes) {
  mg_audit_options o = {every, minutes, 180};
  assert_int_equal(mg_audit_configure(&o), MG_OK);
}

/* A governance change on the governance connection (as registry or auth code makes them). */
static int gov_change(tstore *t, const char *k, const char *v) {
  sqlite3 *db = NULL;
  int rc = mg_store_sqlite_gov_acquire(t->s, &db);
  if (rc) return rc;
  char *sql = sqlite3_mprintf("CREATE TABLE IF NOT EXISTS test_change (k TEXT PRIMARY KEY, v TEXT);"
                              "INSERT OR REPLACE INTO test_change VALUES (%Q, %Q)", k, v);
  rc = sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? MG_OK : MG_ESTORE;
  sqlite3_free(sql);
  mg_store_sqlite_gov_release(t->s);
  return rc;
}

/* 1 if the change is present, 0 if not. */
static int gov_has(tstore *t, const char *k) {
  sqlite3 *db = NULL;
  assert_int_equal(mg_store_sqlite_gov_acquire(t->s, &db), MG_OK);
  sqlite3_stmt *q = NULL;
  int found = 0;
  if (sqlite3_prepare_v2(db, "SELECT 1 FROM test_change WHERE k = ?1", -1, &q, NULL) == SQLITE_OK) {
    sqlite3_bind_text(q, 1, k, -1, SQLITE_STATIC);
    found = sqlite3_step(q) == SQLITE_ROW;
  }
  sqlite3_finalize(q);
  mg_store_sqlite_gov_release(t->s);
  return found;
}

static int64_t append(tstore *t, const char *actor, const char *obj_id, int64_t at_us) {
  char after[64];
  snprintf(after, sizeof after, "{\"v\":\"%s\"}", obj_id);
  mg_audit_event ev = {.actor = actor, .role = "univ_admin", .action = "platform.set_status",
                       .object_type = "platform", .object_id = obj_id, .before = "{}",
                       .before_len = 2, .after = after, .after_len = strlen(after),
                       .source_ip = "192.0.2.7", .at_us = at_us};
  int64_t seq = 0;
  assert_int_equal(mg_audit_append(t->s, &ev, &seq), MG_OK);
  return seq;
}

static void verify(tstore *t, mg_audit_report *r) {
  assert_int_equal(mg_audit_verify(t->s, r), MG_OK);
}

/* Runs one SQL text on the raw file as an attacker with the sqlite3 tool would. */
static int raw_sql(const char *db, const char *sql) {
  sqlite3 *h = NULL;
  int rc = sqlite3_open(db, &h);
  if (rc == SQLITE_OK) {
    sqlite3_busy_timeout(h, 5000);
    rc = sqlite3_exec(h, sql, NULL, NULL, NULL);
  }
  sqlite3_close(h);
  return rc;
}

/* ---- append ------------------------------------------------------------------------------- */

static void test_append_and_verify(void **st) {
  (void)st;
  tstore t;
  set_opts(1000, 60);
  ts_make("audit-append", &t);
  assert_int_equal(append(&t, "alice", "p1", 0), 1);
  assert_int_equal(append(&t, "bob", "p2", 0), 2);
  assert_int_equal(append(&t, "carol", NULL, 0), 3);
  mg_audit_report r;
  verify(&t, &r);
  assert_true(r.ok);
  assert_int_equal(r.records, 3);
  assert_int_equal(r.first_seq, 1);
  assert_int_equal(r.last_seq, 3);
  assert_int_equal(r.checkpoints, 1); /* the first record is always signed */
  assert_int_equal(r.last_checkpoint, 1);
  assert_int_equal(strlen(r.head_hash), 64);
  assert_false(mg_audit_alarm());
  /* key directory made on first append: 0700, key files 0600 */
  char keys[700], f[800];
  struct stat sb;
  snprintf(keys, sizeof keys, "%s.keys", t.db);
  assert_int_equal(stat(keys, &sb), 0);
  assert_int_equal(sb.st_mode & 0777, 0700);
  snprintf(f, sizeof f, "%s/sm2-00000001.key", keys);
  assert_int_equal(stat(f, &sb), 0);
  assert_int_equal(sb.st_mode & 0777, 0600);
  /* a forced checkpoint signs the head */
  int64_t cs = 0;
  assert_int_equal(mg_audit_checkpoint(t.s, 1, &cs), MG_OK);
  assert_int_equal(cs, 3);
  assert_int_equal(mg_audit_checkpoint(t.s, 1, &cs), MG_OK);
  assert_int_equal(cs, 0); /* nothing new to sign */
  verify(&t, &r);
  assert_true(r.ok);
  assert_int_equal(r.checkpoints, 2);
  ts_close(&t);
}

static int row_cb(void *ud, const mg_store_audit_row *r) {
  mg_store_audit_row *out = ud;
  out->seq = r->seq;
  out->at_us = r->at_us;
  assert_string_equal(r->role, "univ_admin");
  assert_non_null(r->before_sm3);
  assert_int_equal(strlen(r->before_sm3), 64);
  return MG_OK;
}

static void test_append_fields_and_digests(void **st) {
  (void)st;
  tstore t;
  set_opts(1000, 60);
  ts_make("audit-fields", &t);
  append(&t, "alice", "p1", 1700000000000000);
  mg_store_audit_row got = {0};
  int more = 1;
  assert_int_equal(mg_store_audit_list(t.s, 0, 10, row_cb, &got, &more), MG_OK);
  assert_int_equal(got.seq, 1);
  assert_int_equal(got.at_us, 1700000000000000);
  assert_false(more);
  /* only digests are stored: SM3("{}") */
  sqlite3 *h = NULL;
  assert_int_equal(sqlite3_open(t.db, &h), SQLITE_OK);
  sqlite3_stmt *q = NULL;
  assert_int_equal(sqlite3_prepare_v2(h, "SELECT before_sm3, after_sm3, prev_hash FROM audit_log", -1, &q, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_step(q), SQLITE_ROW);
  /* echo -n '{}' | openssl dgst -sm3 */
  assert_string_equal((const char *)sqlite3_column_text(q, 0),
                      "f1a823aaaaafe40e113c7f04dd72c289faf86252c4a9b57cf1d3c9e12547f9ad");
  assert_string_equal((const char *)sqlite3_column_text(q, 2),
                      "0000000000000000000000000000000000000000000000000000000000000000");
  sqlite3_finalize(q);
  sqlite3_close(h);
  ts_close(&t);
}

static void test_invalid_event(void **st) {
  (void)st;
  tstore t;
  ts_make("audit-invalid", &t);
  mg_audit_event ev = {.actor = "a", .role = "r", .action = "x"}; /* object_type missing */
  assert_int_equal(mg_audit_append(t.s, &ev, NULL), MG_EINVAL);
  ev.object_type = "o";
  ev.actor = "";
  assert_int_equal(mg_audit_append(t.s, &ev, NULL), MG_EINVAL);
  assert_false(mg_audit_alarm()); /* a caller bug is not an audit outage */
  mg_audit_report r;
  verify(&t, &r);
  assert_true(r.ok);
  assert_int_equal(r.records, 0);
  ts_close(&t);
}

static void test_transaction_joins(void **st) {
  (void)st;
  tstore t;
  set_opts(1000, 60);
  ts_make("audit-tx", &t);
  /* rolled back with the change */
  assert_int_equal(gov_change(&t, "k0", "v0"), MG_OK); /* the table exists from here on */
  assert_int_equal(mg_store_tx_begin(t.s), MG_OK);
  assert_int_equal(gov_change(&t, "k1", "v1"), MG_OK);
  assert_int_equal(append(&t, "alice", "p1", 0), 1);
  mg_store_tx_rollback(t.s);
  assert_false(gov_has(&t, "k1"));
  mg_audit_report r;
  verify(&t, &r);
  assert_true(r.ok);
  assert_int_equal(r.records, 0);
  /* committed with the change */
  assert_int_equal(mg_store_tx_begin(t.s), MG_OK);
  assert_int_equal(gov_change(&t, "k1", "v1"), MG_OK);
  assert_int_equal(append(&t, "alice", "p1", 0), 1);
  assert_int_equal(append(&t, "alice", "p2", 0), 2);
  assert_int_equal(mg_store_tx_commit(t.s), MG_OK);
  assert_true(gov_has(&t, "k1"));
  verify(&t, &r);
  assert_true(r.ok);
  assert_int_equal(r.records, 2);
  ts_close(&t);
}

/* ---- alarm -------------------------------------------------------------------------------- */

static void test_alarm_refuses_change(void **st) {
  (void)st;
  tstore t;
  set_opts(1000, 60);
  ts_make("audit-alarm", &t);
  append(&t, "alice", "p1", 0);
  /* the audit table becomes unwritable (as a full disk or a lock would make it) */
  assert_int_equal(raw_sql(t.db, "CREATE TRIGGER jam BEFORE INSERT ON audit_log "
                                 "BEGIN SELECT RAISE(ABORT, 'disk full'); END;"),
                   SQLITE_OK);
  assert_int_equal(gov_change(&t, "k0", "v0"), MG_OK);
  assert_int_equal(mg_store_tx_begin(t.s), MG_OK);
  assert_int_equal(gov_change(&t, "platform.9.status", "suspended"), MG_OK);
  mg_audit_event ev = {.actor = "alice", .role = "univ_admin", .action = "platform.set_status",
                       .object_type = "platform", .object_id = "9"};
  int rc = mg_audit_append(t.s, &ev, NULL);
  assert_int_not_equal(rc, MG_OK);
  assert_true(mg_audit_alarm());
  mg_store_tx_rollback(t.s); /* what every caller does when the append fails */
  assert_false(gov_has(&t, "platform.9.status"));
  /* outside a transaction too */
  assert_int_not_equal(mg_audit_append(t.s, &ev, NULL), MG_OK);
  assert_true(mg_audit_alarm());
  /* recovery clears the alarm */
  assert_int_equal(raw_sql(t.db, "DROP TRIGGER jam"), SQLITE_OK);
  assert_int_equal(append(&t, "alice", "p1", 0), 2);
  assert_false(mg_audit_alarm());
  mg_audit_report r;
  verify(&t, &r);
  assert_true(r.ok);
  assert_int_equal(r.records, 2);
  ts_close(&t);
}

static void test_alarm_key_missing(void **st) {
  (void)st;
  tstore t;
  set_opts(1000, 60);
  ts_make("audit-nokey", &t);
  append(&t, "alice", "p1", 0);
  ts_close(&t);
  mg_keyring_shutdown();
  char f[800];
  snprintf(f, sizeof f, "%s.keys/sm2-00000001.key", t.db);
  assert_int_equal(unlink(f), 0);
  ts_open(&t);
  mg_audit_event ev = {.actor = "alice", .role = "univ_admin", .action = "x", .object_type = "o"};
  assert_int_equal(mg_audit_append(t.s, &ev, NULL), MG_ECRYPTO);
  assert_true(mg_audit_alarm());
  ts_close(&t);
  mg_keyring_shutdown();
}

/* ---- append-only -------------------------------------------------------------------------- */

static void test_append_only(void **st) {
  (void)st;
  tstore t;
  set_opts(1000, 60);
  ts_make("audit-appendonly", &t);
  append(&t, "alice", "p1", 0);
  append(&t, "bob", "p2", 0);
  assert_int_not_equal(raw_sql(t.db, "UPDATE audit_log SET actor = 'mallory' WHERE seq = 1"), SQLITE_OK);
  assert_int_not_equal(raw_sql(t.db, "DELETE FROM audit_log WHERE seq = 2"), SQLITE_OK);
  assert_int_not_equal(raw_sql(t.db, "DELETE FROM audit_checkpoint"), SQLITE_OK);
  assert_int_not_equal(raw_sql(t.db, "UPDATE audit_checkpoint SET signature = 'x'"), SQLITE_OK);
  /* an anchor must sit on a signed checkpoint, so it cannot open a deletion window */
  assert_int_not_equal(raw_sql(t.db, "INSERT INTO audit_anchor (upto_seq, hash, purged_us, "
                                     "n_purged, retention_days) VALUES (2, 'x', 0, 0, 180)"),
                       SQLITE_OK);
  mg_audit_report r;
  verify(&t, &r);
  assert_true(r.ok);
  assert_int_equal(r.records, 2);
  ts_close(&t);
}

/* ---- tamper detection on the raw file ------------------------------------------------------ */

static unsigned char *find_bytes(unsigned char *hay, size_t n, const void *needle, size_t m,
                                 size_t from) {
  for (size_t i = from; i + m <= n; i++)
    if (!memcmp(hay + i, needle, m)) return hay + i;
  return NULL;
}

/* Five records; record 3 carries distinctive values in every field. Closes the store so the
 * WAL is folded into the main file, whose bytes the tests then edit. */
#define MARK_AT 0x0102030405060708LL
static void make_five(tstore *t, const char *name) {
  set_opts(1000, 60);
  ts_make(name, t);
  append(t, "alice", "p1", 0);
  append(t, "bob", "p2", 0);
  char after[] = "{\"status\":\"suspended\"}";
  mg_audit_event ev = {.actor = "actor-MARK3", .role = "role-MARK3", .action = "action-MARK3",
                       .object_type = "type-MARK3", .object_id = "oid-MARK3", .before = "b3",
                       .before_len = 2, .after = after, .after_len = strlen(after),
                       .source_ip = "198.51.100.33", .at_us = MARK_AT};
  int64_t seq = 0;
  assert_int_equal(mg_audit_append(t->s, &ev, &seq), MG_OK);
  assert_int_equal(seq, 3);
  append(t, "dave", "p4", 0);
  append(t, "erin", "p5", 0);
  mg_audit_report r;
  verify(t, &r);
  assert_true(r.ok);
  ts_close(t);
  char wal[700];
  snprintf(wal, sizeof wal, "%s-wal", t->db);
  struct stat sb;
  assert_true(stat(wal, &sb) != 0 || sb.st_size == 0);
}

/* Flips one bit of the occurrence `which` of needle in the raw file. Returns 0 if not found. */
static int flip(const char *db, const void *needle, size_t m, int which, size_t offset) {
  size_t n = 0;
  unsigned char *buf = (unsigned char *)mg_test_read_file(db, &n);
  assert_non_null(buf);
  unsigned char *p = NULL;
  size_t from = 0;
  for (int i = 0; i <= which; i++) {
    p = find_bytes(buf, n, needle, m, from);
    if (!p) break;
    from = (size_t)(p - buf) + 1;
  }
  int found = p != NULL;
  if (p) {
    p[offset] ^= 0x01;
    FILE *f = fopen(db, "r+b");
    assert_non_null(f);
    assert_int_equal(fseek(f, (long)(p - buf) + (long)offset, SEEK_SET), 0);
    assert_int_equal(fputc(p[offset], f), p[offset]);
    assert_int_equal(fclose(f), 0);
  }
  free(buf);
  return found;
}

static void expect_broken(tstore *t, int64_t seq, const char *problem) {
  ts_open(t);
  mg_audit_report r;
  verify(t, &r);
  if (r.ok || r.bad_seq != seq || (problem && strcmp(r.problem, problem)))
    fail_msg("expected %s at %lld, got ok=%d %s at %lld: %s", problem ? problem : "a break",
             (long long)seq, r.ok, r.problem ? r.problem : "-", (long long)r.bad_seq, r.detail);
  ts_close(t);
}

static void test_flip_each_field(void **st) {
  (void)st;
  static const char *const marks[] = {"actor-MARK3", "role-MARK3", "action-MARK3", "type-MARK3",
                                      "oid-MARK3", "198.51.100.33"};
  for (size_t i = 0; i < sizeof marks / sizeof marks[0]; i++) {
    tstore t;
    make_five(&t, "audit-flip");
    assert_true(flip(t.db, marks[i], strlen(marks[i]), 0, 2));
    expect_broken(&t, 3, "hash_mismatch");
  }
  /* the time (stored as an 8-byte big-endian integer) */
  {
    tstore t;
    make_five(&t, "audit-flip-time");
    const unsigned char at[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    assert_true(flip(t.db, at, 8, 0, 7));
    expect_broken(&t, 3, "hash_mismatch");
  }
}

/* The digests and hashes: the hex text of record 3's columns, found through the store. */
typedef struct rec3 {
  char before[65], after[65], prev[65], hash[65];
} rec3;

static int rec3_cb(void *ud, const mg_store_audit_row *r) {
  rec3 *x = ud;
  if (r->seq != 3) return MG_OK;
  snprintf(x->before, 65, "%s", r->before_sm3);
  snprintf(x->after, 65, "%s", r->after_sm3);
  snprintf(x->prev, 65, "%s", r->prev_hash);
  snprintf(x->hash, 65, "%s", r->hash);
  return MG_OK;
}

static void test_flip_digests_and_links(void **st) {
  (void)st;
  /* each value is flipped at every place it occurs (a hash also appears as the next record's
   * prev_hash, and in a checkpoint): whichever copy changes, verification fails there. */
  for (int field = 0; field < 4; field++) {
    for (int occ = 0; occ < 3; occ++) {
      tstore t;
      make_five(&t, "audit-flip-hex");
      ts_open(&t);
      rec3 x;
      memset(&x, 0, sizeof x);
      assert_int_equal(mg_store_audit_list(t.s, 0, 10, rec3_cb, &x, NULL), MG_OK);
      ts_close(&t);
      const char *v = field == 0 ? x.before : field == 1 ? x.after : field == 2 ? x.prev : x.hash;
      assert_int_equal(strlen(v), 64);
      if (!flip(t.db, v, 64, occ, 10)) {
        assert_true(occ > 0); /* the value itself is always there */
        continue;
      }
      ts_open(&t);
      mg_audit_report r;
      verify(&t, &r);
      if (r.ok) fail_msg("flip of field %d occurrence %d not detected", field, occ);
      /* record 2's hash is record 3's prev; record 3's hash is record 4's prev */
      if (field < 2) assert_int_equal(r.bad_seq, 3);
      else if (field == 2) assert_true(r.bad_seq == 2 || r.bad_seq == 3);
      else assert_true(r.bad_seq == 3 || r.bad_seq == 4);
      ts_close(&t);
    }
  }
}

static void test_deleted_record(void **st) {
  (void)st;
  tstore t;
  make_five(&t, "audit-delete");
  assert_int_equal(raw_sql(t.db, "DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log WHERE seq = 3;"),
                   SQLITE_OK);
  expect_broken(&t, 3, "missing_seq");
}

static void test_reordered_records(void **st) {
  (void)st;
  tstore t;
  make_five(&t, "audit-reorder");
  assert_int_equal(raw_sql(t.db, "DROP TRIGGER audit_log_no_update;"
                                 "UPDATE audit_log SET seq = 100 WHERE seq = 2;"
                                 "UPDATE audit_log SET seq = 2 WHERE seq = 3;"
                                 "UPDATE audit_log SET seq = 3 WHERE seq = 100;"),
                   SQLITE_OK);
  expect_broken(&t, 2, NULL);
}

static void test_rewritten_chain_fails_signature(void **st) {
  (void)st;
  /* An attacker who rewrites a record and recomputes every later hash (SM3 is public) still
   * cannot re-sign the checkpoint: checkpoint 1 signs record 1. */
  tstore t;
  make_five(&t, "audit-rewrite");
  ts_open(&t);
  mg_audit_report r;
  verify(&t, &r);
  ts_close(&t);
  assert_int_equal(raw_sql(t.db, "DROP TRIGGER audit_log_no_update;"
                                 "UPDATE audit_log SET actor = 'mallory', hash = 'x' WHERE seq = 1;"),
                   SQLITE_OK);
  /* recompute the whole chain as the attacker would */
  ts_open(&t);
  sqlite3 *h = NULL;
  assert_int_equal(sqlite3_open(t.db, &h), SQLITE_OK);
  char prev[65];
  memset(prev, '0', 64);
  prev[64] = 0;
  for (int64_t seq = 1; seq <= 5; seq++) {
    sqlite3_stmt *q = NULL;
    assert_int_equal(sqlite3_prepare_v2(h, "SELECT seq, at_us, actor, role, action, object_type, "
                                           "object_id, before_sm3, after_sm3, source_ip FROM "
                                           "audit_log WHERE seq = ?1", -1, &q, NULL), SQLITE_OK);
    sqlite3_bind_int64(q, 1, seq);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
#define T(i) ((const char *)sqlite3_column_text(q, i))
    mg_store_audit_row row = {seq, sqlite3_column_int64(q, 1), T(2), T(3), T(4), T(5), T(6), T(7),
                              T(8), T(9), prev, NULL};
#undef T
    char hash[65];
    assert_int_equal(mg_audit_record_hash(&row, hash), MG_OK);
    sqlite3_finalize(q);
    char sql[400];
    snprintf(sql, sizeof sql, "UPDATE audit_log SET prev_hash = '%s', hash = '%s' WHERE seq = %lld",
             prev, hash, (long long)seq);
    assert_int_equal(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
    memcpy(prev, hash, 65);
  }
  sqlite3_close(h);
  verify(&t, &r);
  assert_false(r.ok);
  assert_int_equal(r.bad_seq, 1);
  assert_string_equal(r.problem, "checkpoint_mismatch");
  /* and replacing the checkpoint's hash breaks its signature */
  char sql[300];
  snprintf(sql, sizeof sql, "DROP TRIGGER audit_checkpoint_no_update; UPDATE audit_checkpoint SET "
                            "hash = (SELECT hash FROM audit_log WHERE seq = 1) WHERE seq = 1");
  assert_int_equal(raw_sql(t.db, sql), SQLITE_OK);
  verify(&t, &r);
  assert_false(r.ok);
  assert_int_equal(r.bad_seq, 1);
  assert_string_equal(r.problem, "checkpoint_signature");
  ts_close(&t);
}

static void test_truncated_tail(void **st) {
  (void)st;
  tstore t;
  set_opts(2, 60);
  ts_make("audit-trunc", &t);
  for (int i = 0; i < 6; i++) append(&t, "alice", "p", 0);
  mg_audit_report r;
  verify(&t, &r);
  assert_true(r.ok);
  assert_int_equal(r.last_checkpoint, 5); /* 1, 3, 5 */
  ts_close(&t);
  assert_int_equal(raw_sql(t.db, "DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log WHERE seq >= 5;"),
                   SQLITE_OK);
  expect_broken(&t, 5, "truncated");
  set_opts(1000, 60);
}

static void test_checkpoint_signature_flip(void **st) {
  (void)st;
  tstore t;
  make_five(&t, "audit-sigflip");
  assert_int_equal(raw_sql(t.db, "DROP TRIGGER audit_checkpoint_no_update;"
                                 "UPDATE audit_checkpoint SET signature = "
                                 "(CASE substr(signature, 1, 1) WHEN 'a' THEN 'b' ELSE 'a' END) || "
                                 "substr(signature, 2) WHERE seq = 1;"),
                   SQLITE_OK);
  expect_broken(&t, 1, "checkpoint_signature");
}

static void test_wrong_key_directory(void **st) {
  (void)st;
  /* verifying with another key directory (a forged one) fails on the signatures */
  tstore t;
  make_five(&t, "audit-otherkeys");
  mg_keyring_shutdown();
  char other[700];
  snprintf(other, sizeof other, "%s/other.keys", t.dir);
  assert_int_equal(mg_keyring_init(other, MG_KEYRING_CREATE), MG_OK);
  ts_open(&t);
  mg_audit_report r;
  verify(&t, &r);
  assert_false(r.ok);
  assert_string_equal(r.problem, "checkpoint_signature");
  ts_close(&t);
  mg_keyring_shutdown();
}

/* ---- Ed25519 checkpoints from before SM2 ------------------------------------------------- */

static void put_be(uint8_t *p, uint64_t v, int n) {
  for (int i = 0; i < n; i++) p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

/* Writes records 1..n and Ed25519 checkpoints at the seqs in ck[] straight into the file, as the
 * release before SM2 did: the checkpoint message and signature are built here from
 * docs/crypto.md ("MGCKPT01"), not by src/audit, and the rows carry no alg (the migration's
 * default). */
static void write_legacy(tstore *t, const uint8_t esk[64], int n, const int *ck, int n_ck) {
  sqlite3 *h = NULL;
  assert_int_equal(sqlite3_open(t->db, &h), SQLITE_OK);
  sqlite3_busy_timeout(h, 5000);
  char prev[65], hash[65], hashes[8][65];
  int64_t at[8];
  memset(prev, '0', 64);
  prev[64] = 0;
  int64_t t0 = mg_time_now_us() - 600000000LL; /* ten minutes ago: no checkpoint is due yet */
  for (int seq = 1; seq <= n; seq++) {
    at[seq - 1] = t0 + seq;
    mg_store_audit_row row = {seq, at[seq - 1], "legacy-admin", "univ_admin", "platform.set_status",
                              "platform", "p7", NULL, "0123", "192.0.2.9", prev, NULL};
    assert_int_equal(mg_audit_record_hash(&row, hash), MG_OK);
    char *sql = sqlite3_mprintf(
        "INSERT INTO audit_log (seq, at_us, actor, role, action, object_type, object_id, "
        "before_sm3, after_sm3, source_ip, prev_hash, hash) VALUES (%d, %lld, 'legacy-admin', "
        "'univ_admin', 'platform.set_status', 'platform', 'p7', NULL, '0123', '192.0.2.9', %Q, %Q)",
        seq, (long long)at[seq - 1], prev, hash);
    assert_int_equal(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_free(sql);
    memcpy(prev, hash, 65);
    memcpy(hashes[seq - 1], hash, 65);
  }
  for (int i = 0; i < n_ck; i++) {
    int seq = ck[i];
    int64_t created = at[seq - 1] + 5;
    uint8_t m[8 + 8 + 4 + 64 + 8 + 8 + 4], sig[64];
    memcpy(m, "MGCKPT01", 8);
    put_be(m + 8, (uint64_t)seq, 8);
    put_be(m + 16, 64, 4);
    memcpy(m + 20, hashes[seq - 1], 64);
    put_be(m + 84, (uint64_t)at[seq - 1], 8);
    put_be(m + 92, (uint64_t)created, 8);
    put_be(m + 100, 1, 4);
    assert_int_equal(crypto_sign_detached(sig, NULL, m, sizeof m, esk), 0);
    char sig_hex[129], pk_hex[65];
    sodium_bin2hex(sig_hex, sizeof sig_hex, sig, 64);
    sodium_bin2hex(pk_hex, sizeof pk_hex, esk + 32, 32);
    char *sql = sqlite3_mprintf(
        "INSERT INTO audit_checkpoint (seq, hash, record_at_us, created_us, key_id, public_key, "
        "signature) VALUES (%d, %Q, %lld, %lld, 1, %Q, %Q)",
        seq, hashes[seq - 1], (long long)at[seq - 1], (long long)created, pk_hex, sig_hex);
    assert_int_equal(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_free(sql);
  }
  sqlite3_close(h);
}

static void put_key(const char *dir, const char *name, const uint8_t k[32]) {
  char path[800], hex[65];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  sodium_bin2hex(hex, sizeof hex, k, 32);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fprintf(f, "%s\n", hex);
  fclose(f);
  assert_int_equal(chmod(path, 0600), 0);
}

/* Runs SQL on the raw file with the checkpoint table's append-only trigger out of the way. */
static void ck_sql(tstore *t, const char *sql) {
  char *all = sqlite3_mprintf("DROP TRIGGER IF EXISTS audit_checkpoint_no_update; %s", sql);
  assert_int_equal(raw_sql(t->db, all), SQLITE_OK);
  sqlite3_free(all);
}

static void test_ed25519_then_sm2(void **st) {
  (void)st;
  tstore t;
  set_opts(2, 60);
  ts_make("audit-legacy", &t);
  /* a store and key directory as the release before SM2 left them */
  char keys[700];
  snprintf(keys, sizeof keys, "%s.keys", t.db);
  assert_int_equal(mkdir(keys, 0700), 0);
  uint8_t fk[32], seed[32], epk[32], esk[64];
  randombytes_buf(fk, 32);
  randombytes_buf(seed, 32);
  put_key(keys, "field-00000001.key", fk);
  put_key(keys, "sign-00000001.key", seed);
  crypto_sign_seed_keypair(epk, esk, seed);
  const int ck[] = {1, 3};
  write_legacy(&t, esk, 3, ck, 2);
  /* verification alone neither needs nor makes an SM2 key */
  mg_audit_report r;
  verify(&t, &r);
  if (!r.ok) fail_msg("%s at %lld: %s", r.problem, (long long)r.bad_seq, r.detail);
  assert_int_equal(r.records, 3);
  assert_int_equal(r.checkpoints, 2);
  assert_int_equal(r.checkpoints_sm2, 0);
  char sm2f[800];
  struct stat sb;
  snprintf(sm2f, sizeof sm2f, "%s/sm2-00000001.key", keys);
  assert_int_not_equal(stat(sm2f, &sb), 0);
  /* the upgraded release appends: the key directory gets its SM2 key, new checkpoints are SM2 */
  mg_keyring_shutdown();
  for (int i = 0; i < 3; i++) append(&t, "new-admin", "p8", 0); /* 4, 5 (checkpoint), 6 */
  assert_int_equal(stat(sm2f, &sb), 0);
  assert_int_equal(sb.st_mode & 0777, 0600);
  int64_t cs = 0;
  assert_int_equal(mg_audit_checkpoint(t.s, 1, &cs), MG_OK);
  assert_int_equal(cs, 6);
  verify(&t, &r);
  if (!r.ok) fail_msg("%s at %lld: %s", r.problem, (long long)r.bad_seq, r.detail);
  assert_int_equal(r.records, 6);
  assert_int_equal(r.checkpoints, 4); /* Ed25519 at 1 and 3, SM2 at 5 and 6 */
  assert_int_equal(r.checkpoints_sm2, 2);
  assert_int_equal(r.last_checkpoint, 6);
  ts_close(&t);
  sqlite3 *h = NULL;
  sqlite3_stmt *q = NULL;
  assert_int_equal(sqlite3_open(t.db, &h), SQLITE_OK);
  assert_int_equal(sqlite3_prepare_v2(h, "SELECT seq, alg, length(public_key), length(signature) "
                                         "FROM audit_checkpoint ORDER BY seq", -1, &q, NULL),
                   SQLITE_OK);
  static const struct {
    int seq;
    const char *alg;
    int pk_len;
  } want[] = {{1, "ed25519", 64}, {3, "ed25519", 64}, {5, "sm2", 130}, {6, "sm2", 130}};
  for (int i = 0; i < 4; i++) {
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(q, 0), want[i].seq);
    assert_string_equal((const char *)sqlite3_column_text(q, 1), want[i].alg);
    assert_int_equal(sqlite3_column_int(q, 2), want[i].pk_len);
    assert_int_equal(sqlite3_column_int(q, 3), 128);
  }
  sqlite3_finalize(q);
  sqlite3_close(h);
  /* the algorithm column accepts only the two algorithms */
  assert_int_not_equal(raw_sql(t.db, "DROP TRIGGER IF EXISTS audit_checkpoint_no_update;"
                                     "UPDATE audit_checkpoint SET alg = 'rsa' WHERE seq = 5"),
                       SQLITE_OK);
  /* one flipped byte in an SM2 signature (r and s each) is named */
  for (int pos = 1; pos <= 65; pos += 64) {
    char *flip = sqlite3_mprintf("UPDATE audit_checkpoint SET signature = substr(signature, 1, %d) "
                                 "|| (CASE substr(signature, %d, 1) WHEN '0' THEN '1' ELSE '0' END) "
                                 "|| substr(signature, %d) WHERE seq = 5",
                                 pos - 1, pos, pos + 1);
    ck_sql(&t, flip);
    sqlite3_free(flip);
    ts_open(&t);
    verify(&t, &r);
    assert_false(r.ok);
    assert_int_equal(r.bad_seq, 5);
    assert_string_equal(r.problem, "checkpoint_signature");
    assert_non_null(strstr(r.detail, "SM2 signature does not verify"));
    ts_close(&t);
    ck_sql(&t, "UPDATE audit_checkpoint SET signature = (SELECT signature FROM audit_checkpoint "
               "WHERE seq = 6) WHERE seq = 5"); /* a valid signature, but of another head */
    expect_broken(&t, 5, "checkpoint_signature");
  }
  /* same for an Ed25519 one, and for either re-labelled as the other algorithm */
  ck_sql(&t, "UPDATE audit_checkpoint SET signature = upper(signature) WHERE seq = 3");
  expect_broken(&t, 3, "checkpoint_signature");
  ck_sql(&t, "UPDATE audit_checkpoint SET alg = 'sm2' WHERE seq = 1");
  expect_broken(&t, 1, "checkpoint_signature");
  ck_sql(&t, "UPDATE audit_checkpoint SET alg = 'ed25519' WHERE seq = 1");
  ts_open(&t);
  verify(&t, &r);
  assert_int_equal(r.bad_seq, 3); /* seq 1 is intact again */
  ts_close(&t);
  /* without the Ed25519 key file the old checkpoints cannot be checked, and it says so */
  char ef[800];
  snprintf(ef, sizeof ef, "%s/sign-00000001.key", keys);
  assert_int_equal(unlink(ef), 0);
  mg_keyring_shutdown();
  ts_open(&t);
  verify(&t, &r);
  assert_false(r.ok);
  assert_int_equal(r.bad_seq, 1);
  assert_non_null(strstr(r.detail, "sign-00000001.key"));
  ts_close(&t);
  mg_keyring_shutdown();
  set_opts(1000, 60);
}

/* ---- retention ---------------------------------------------------------------------------- */

static void test_purge(void **st) {
  (void)st;
  mg_audit_options bad = {1000, 60, 179};
  assert_int_equal(mg_audit_configure(&bad), MG_EINVAL);
  tstore t;
  set_opts(1000, 60);
  ts_make("audit-purge", &t);
  int64_t now = mg_time_now_us();
  int64_t day = 86400LL * 1000000LL;
  for (int i = 0; i < 5; i++) append(&t, "old", "p", now - 400 * day + i);
  int64_t cs = 0;
  assert_int_equal(mg_audit_checkpoint(t.s, 1, &cs), MG_OK);
  assert_int_equal(cs, 5);
  for (int i = 0; i < 3; i++) append(&t, "young", "p", now - 10 * day + i);
  assert_int_equal(mg_audit_checkpoint(t.s, 1, &cs), MG_OK);
  int64_t purged = -1;
  assert_int_equal(mg_audit_purge(t.s, "auditor", "audit_admin", now, &purged), MG_OK);
  assert_int_equal(purged, 5);
  mg_audit_report r;
  verify(&t, &r);
  if (!r.ok) fail_msg("%s at %lld: %s", r.problem, (long long)r.bad_seq, r.detail);
  assert_int_equal(r.purged_upto, 5);
  assert_int_equal(r.first_seq, 6);
  assert_int_equal(r.records, 4); /* 3 young + the purge's own record */
  /* nothing more is old enough */
  assert_int_equal(mg_audit_purge(t.s, "auditor", "audit_admin", now, &purged), MG_OK);
  assert_int_equal(purged, 0);
  /* records above the anchor stay undeletable */
  assert_int_not_equal(raw_sql(t.db, "DELETE FROM audit_log WHERE seq = 6"), SQLITE_OK);
  /* appends continue the chain */
  assert_int_equal(append(&t, "after", "p", 0), 10);
  verify(&t, &r);
  assert_true(r.ok);
  ts_close(&t);
  /* a forged anchor that purges young records is reported */
  assert_int_equal(raw_sql(t.db, "DROP TRIGGER audit_log_no_delete;"
                                 "INSERT INTO audit_anchor (upto_seq, hash, purged_us, n_purged, "
                                 "retention_days) SELECT seq, hash, record_at_us, 0, 180 FROM "
                                 "audit_checkpoint WHERE seq = 8;"
                                 "DELETE FROM audit_log WHERE seq <= 8;"),
                   SQLITE_OK);
  expect_broken(&t, 8, "anchor");
}

/* ---- concurrency -------------------------------------------------------------------------- */

typedef struct worker {
  mg_store *s;
  int n, failures;
} worker;

static void *appender(void *arg) {
  worker *w = arg;
  for (int i = 0; i < w->n; i++) {
    mg_audit_event ev = {.actor = "w", .role = "r", .action = "a", .object_type = "o"};
    if (mg_audit_append(w->s, &ev, NULL)) w->failures++;
  }
  return NULL;
}

static void test_concurrent_appends(void **st) {
  (void)st;
  tstore t;
  set_opts(50, 60);
  ts_make("audit-concurrent", &t);
  mg_store *second = NULL; /* a second handle stands for a second process (CLI) */
  assert_int_equal(mg_store_open(t.db, &second, NULL), MG_OK);
  worker w[4] = {{t.s, 100, 0}, {t.s, 100, 0}, {second, 100, 0}, {second, 100, 0}};
  pthread_t th[4];
  for (int i = 0; i < 4; i++) assert_int_equal(pthread_create(&th[i], NULL, appender, &w[i]), 0);
  for (int i = 0; i < 4; i++) pthread_join(th[i], NULL);
  for (int i = 0; i < 4; i++) assert_int_equal(w[i].failures, 0);
  mg_audit_report r;
  verify(&t, &r);
  assert_true(r.ok);
  assert_int_equal(r.records, 400);
  assert_true(r.checkpoints >= 8);
  mg_store_close(second);
  ts_close(&t);
  set_opts(1000, 60);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_append_and_verify),
      cmocka_unit_test(test_append_fields_and_digests),
      cmocka_unit_test(test_invalid_event),
      cmocka_unit_test(test_transaction_joins),
      cmocka_unit_test(test_alarm_refuses_change),
      cmocka_unit_test(test_alarm_key_missing),
      cmocka_unit_test(test_append_only),
      cmocka_unit_test(test_flip_each_field),
      cmocka_unit_test(test_flip_digests_and_links),
      cmocka_unit_test(test_deleted_record),
      cmocka_unit_test(test_reordered_records),
      cmocka_unit_test(test_rewritten_chain_fails_signature),
      cmocka_unit_test(test_truncated_tail),
      cmocka_unit_test(test_checkpoint_signature_flip),
      cmocka_unit_test(test_wrong_key_directory),
      cmocka_unit_test(test_ed25519_then_sm2),
      cmocka_unit_test(test_purge),
      cmocka_unit_test(test_concurrent_appends),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
