/* The privacy area on SQLite; see store_privacy.h. */
#include "store/store_privacy.h"

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "store/store_int.h"

static int db_err(int rc) {
  return rc == SQLITE_BUSY || rc == SQLITE_LOCKED ? MG_EBUSY : MG_ESTORE;
}

static void col(sqlite3_stmt *st, int i, char *out, size_t size) {
  const unsigned char *t = sqlite3_column_text(st, i);
  snprintf(out, size, "%s", t ? (const char *)t : "");
}

/* Runs a prepared statement that returns no rows; *changes (may be NULL) gets the row count. */
static int run(sqlite3 *db, sqlite3_stmt *st, int64_t *changes) {
  int step = sqlite3_step(st);
  if (step != SQLITE_DONE) return db_err(step);
  if (changes) *changes = sqlite3_changes64(db);
  return MG_OK;
}

/* ---- consent records ---------------------------------------------------------------------- */

static int fits(const char *s, size_t size) { return s && strlen(s) < size; }

int mg_store_consent_add(mg_store *s, const mg_store_consent *c, int64_t *out_id) {
  if (!s || !c || c->student_id <= 0 || !c->purpose[0] || !c->notice_version[0] ||
      !fits(c->purpose, sizeof c->purpose) || !fits(c->notice_version, sizeof c->notice_version) ||
      !fits(c->notice_digest, sizeof c->notice_digest) || !fits(c->client_ip, sizeof c->client_ip))
    return MG_EINVAL;
  sqlite3 *db;
  int rc = mg_store_sqlite_gov_acquire(s, &db);
  if (rc) return rc;
  sqlite3_stmt *st = NULL;
  rc = MG_ESTORE;
  if (sqlite3_prepare_v2(db,
                         "INSERT INTO privacy_consents (student_id, user_id, purpose, granted, "
                         "notice_version, notice_digest, client_ip, at_us) "
                         "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                         -1, &st, NULL) != SQLITE_OK)
    goto out;
  sqlite3_bind_int64(st, 1, c->student_id);
  sqlite3_bind_int64(st, 2, c->user_id);
  sqlite3_bind_text(st, 3, c->purpose, -1, SQLITE_STATIC);
  sqlite3_bind_int(st, 4, c->granted ? 1 : 0);
  sqlite3_bind_text(st, 5, c->notice_version, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 6, c->notice_digest, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 7, c->client_ip, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 8, c->at_us);
  if ((rc = run(db, st, NULL))) goto out;
  if (out_id) *out_id = sqlite3_last_insert_rowid(db);
out:
  sqlite3_finalize(st);
  mg_store_sqlite_gov_release(s);
  return rc;
}

#define CONSENT_COLS \
  "id, student_id, user_id, purpose, granted, notice_version, notice_digest, client_ip, at_us"

static void consent_row(sqlite3_stmt *st, mg_store_consent *c) {
  memset(c, 0, sizeof *c);
  c->id = sqlite3_column_int64(st, 0);
  c->student_id = sqlite3_column_int64(st, 1);
  c->user_id = sqlite3_column_int64(st, 2);
  col(st, 3, c->purpose, sizeof c->purpose);
  c->granted = sqlite3_column_int(st, 4);
  col(st, 5, c->notice_version, sizeof c->notice_version);
  col(st, 6, c->notice_digest, sizeof c->notice_digest);
  col(st, 7, c->client_ip, sizeof c->client_ip);
  c->at_us = sqlite3_column_int64(st, 8);
}

int mg_store_consent_list(mg_store *s, int64_t student_id, const char *purpose,
                          int (*cb)(void *ud, const mg_store_consent *c), void *ud) {
  if (!s || !purpose || !cb) return MG_EINVAL;
  sqlite3 *db;
  int rc = mg_store_sqlite_gov_acquire(s, &db);
  if (rc) return rc;
  sqlite3_stmt *st = NULL;
  rc = MG_ESTORE;
  if (sqlite3_prepare_v2(db,
                         "SELECT " CONSENT_COLS " FROM privacy_consents WHERE student_id = ?1 "
                         "AND purpose = ?2 ORDER BY at_us, id",
                         -1, &st, NULL) != SQLITE_OK)
    goto out;
  sqlite3_bind_int64(st, 1, student_id);
  sqlite3_bind_text(st, 2, purpose, -1, SQLITE_STATIC);
  int step;
  mg_store_consent c;
  while ((step = sqlite3_step(st)) == SQLITE_ROW) {
    consent_row(st, &c);
    if ((rc = cb(ud, &c))) goto out;
  }
  rc = step == SQLITE_DONE ? MG_OK : db_err(step);
out:
  sqlite3_finalize(st);
  mg_store_sqlite_gov_release(s);
  return rc;
}

int mg_store_consent_at(mg_store *s, int64_t student_id, const char *purpose, int64_t at_us,
                        mg_store_consent *out) {
  if (!s || !purpose || !out) return MG_EINVAL;
  sqlite3 *db;
  int rc = mg_store_sqlite_gov_acquire(s, &db);
  if (rc) return rc;
  sqlite3_stmt *st = NULL;
  rc = MG_ESTORE;
  if (sqlite3_prepare_v2(db,
                         "SELECT " CONSENT_COLS " FROM privacy_consents WHERE student_id = ?1 "
                         "AND purpose = ?2 AND at_us <= ?3 ORDER BY at_us DESC, id DESC LIMIT 1",
                         -1, &st, NULL) != SQLITE_OK)
    goto out;
  sqlite3_bind_int64(st, 1, student_id);
  sqlite3_bind_text(st, 2, purpose, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 3, at_us);
  int step = sqlite3_step(st);
  if (step == SQLITE_ROW) {
    consent_row(st, out);
    rc = MG_OK;
  } else {
    rc = step == SQLITE_DONE ? MG_ENOTFOUND : db_err(step);
  }
out:
  sqlite3_finalize(st);
  mg_store_sqlite_gov_release(s);
  return rc;
}

/* ---- retention ---------------------------------------------------------------------------- */

/* Counts (dry run) or deletes the rows a WHERE clause selects; the clause binds ?1 and ?2. */
static int count_or_delete(mg_store *s, const char *table, const char *where, int64_t a, int64_t b,
                           int dry_run, int64_t *n) {
  *n = 0;
  char sql[1024];
  int len = snprintf(sql, sizeof sql, dry_run ? "SELECT count(*) FROM %s WHERE %s"
                                              : "DELETE FROM %s WHERE %s",
                     table, where);
  if (len < 0 || (size_t)len >= sizeof sql) return MG_EINVAL;
  sqlite3 *db;
  int rc = mg_store_sqlite_gov_acquire(s, &db);
  if (rc) return rc;
  sqlite3_stmt *st = NULL;
  rc = MG_ESTORE;
  if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) goto out;
  sqlite3_bind_int64(st, 1, a);
  sqlite3_bind_int64(st, 2, b);
  if (dry_run) {
    int step = sqlite3_step(st);
    if (step != SQLITE_ROW) {
      rc = db_err(step);
      goto out;
    }
    *n = sqlite3_column_int64(st, 0);
    rc = MG_OK;
  } else {
    rc = run(db, st, n);
  }
out:
  sqlite3_finalize(st);
  mg_store_sqlite_gov_release(s);
  return rc;
}

int mg_store_privacy_sessions_expired(mg_store *s, int64_t idle_before_us,
                                      int64_t absolute_before_us, int dry_run, int64_t *n) {
  if (!s || !n) return MG_EINVAL;
  return count_or_delete(s, "sessions", "last_seen_us < ?1 OR created_us < ?2", idle_before_us,
                         absolute_before_us, dry_run, n);
}

int mg_store_privacy_findings_stale(mg_store *s, int64_t before_us, int dry_run, int64_t *n) {
  if (!s || !n) return MG_EINVAL;
  return count_or_delete(s, "findings",
                         "(status = 'dismissed' AND created_us < ?1) OR id IN (SELECT "
                         "i.finding_id FROM case_inbox i JOIN cases c ON c.id = i.case_id WHERE "
                         "i.finding_id IS NOT NULL AND c.state = 'dismissed' AND c.decided_us < ?2)",
                         before_us, before_us, dry_run, n);
}

int mg_store_privacy_stmt_scan(mg_store *s, int64_t after_seq, size_t limit,
                               int (*cb)(void *ud, int64_t seq, int64_t stored_us,
                                         const char *json, size_t len),
                               void *ud) {
  if (!s || !cb || !limit) return MG_EINVAL;
  sqlite3 *db;
  int rc = mg_store_sqlite_gov_acquire(s, &db);
  if (rc) return rc;
  sqlite3_stmt *st = NULL;
  rc = MG_ESTORE;
  if (sqlite3_prepare_v2(db,
                         "SELECT seq, stored_us, json FROM statements WHERE seq > ?1 "
                         "ORDER BY seq LIMIT ?2",
                         -1, &st, NULL) != SQLITE_OK)
    goto out;
  sqlite3_bind_int64(st, 1, after_seq);
  sqlite3_bind_int64(st, 2, (sqlite3_int64)limit);
  int step;
  while ((step = sqlite3_step(st)) == SQLITE_ROW) {
    const char *j = (const char *)sqlite3_column_text(st, 2);
    size_t len = (size_t)sqlite3_column_bytes(st, 2);
    if ((rc = cb(ud, sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1), j ? j : "",
                 j ? len : 0)))
      goto out;
  }
  rc = step == SQLITE_DONE ? MG_OK : db_err(step);
out:
  sqlite3_finalize(st);
  mg_store_sqlite_gov_release(s);
  return rc;
}

int mg_store_privacy_stmt_set_json(mg_store *s, int64_t seq, const char *json, size_t len) {
  if (!s || !json || !len || len > 0x7fffffff) return MG_EINVAL;
  sqlite3 *db;
  int rc = mg_store_sqlite_gov_acquire(s, &db);
  if (rc) return rc;
  sqlite3_stmt *st = NULL;
  int64_t n = 0;
  rc = MG_ESTORE;
  if (sqlite3_prepare_v2(db, "UPDATE statements SET json = ?2 WHERE seq = ?1", -1, &st, NULL) !=
      SQLITE_OK)
    goto out;
  sqlite3_bind_int64(st, 1, seq);
  sqlite3_bind_text(st, 2, json, (int)len, SQLITE_STATIC);
  if (!(rc = run(db, st, &n)) && n == 0) rc = MG_ENOTFOUND;
out:
  sqlite3_finalize(st);
  mg_store_sqlite_gov_release(s);
  return rc;
}
