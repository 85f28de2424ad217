/* SQLite implementation of store_auth.h on the governance connection (store_int.h). */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "core/log.h"
#include "store/store_auth.h"
#include "store/store_int.h"

static int fail(sqlite3 *db, int rc, const char *what) {
  mg_log(MG_LOG_ERROR, "store.auth.error", "op", what, "msg", sqlite3_errmsg(db), NULL);
  switch (rc & 0xff) {
  case SQLITE_CONSTRAINT:
    return (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) ? MG_EEXISTS
                                                                                  : MG_EINVAL;
  case SQLITE_BUSY:
  case SQLITE_LOCKED:
    return MG_EBUSY;
  case SQLITE_NOMEM:
    return MG_ENOMEM;
  default:
    return MG_ESTORE;
  }
}

/* Acquires the governance connection and prepares sql; on success the caller finalizes *st and
 * releases. */
static int prep(mg_store *s, const char *sql, sqlite3 **db, sqlite3_stmt **st) {
  int rc = mg_store_sqlite_gov_acquire(s, db);
  if (rc) return rc;
  int r = sqlite3_prepare_v2(*db, sql, -1, st, NULL);
  if (r != SQLITE_OK) {
    rc = fail(*db, r, sql);
    mg_store_sqlite_gov_release(s);
    return rc;
  }
  return MG_OK;
}

static void done(mg_store *s, sqlite3_stmt *st) {
  sqlite3_finalize(st);
  mg_store_sqlite_gov_release(s);
}

static void col_text(sqlite3_stmt *st, int i, char *out, size_t size) {
  const unsigned char *t = sqlite3_column_text(st, i);
  snprintf(out, size, "%s", t ? (const char *)t : "");
}

const char *mg_store_user_status_name(mg_store_user_status st) {
  switch (st) {
  case MG_USER_ACTIVE: return "active";
  case MG_USER_DISABLED: return "disabled";
  case MG_USER_LOCKED: return "locked";
  }
  return "active";
}

static mg_store_user_status status_parse(const char *s) {
  if (!strcmp(s, "disabled")) return MG_USER_DISABLED;
  if (!strcmp(s, "locked")) return MG_USER_LOCKED;
  return MG_USER_ACTIVE;
}

#define USER_COLS                                                                               \
  "id, username, display_name, role, org_id, org_kind, province, student_id, password_hash, "  \
  "prev_password_hash, status, failed_count, locked_until_us, password_changed_us, must_change, " \
  "totp_secret, totp_enabled, totp_last_step, created_us, totp_pending"

static void read_user(sqlite3_stmt *st, mg_store_user *u) {
  char status[16];
  memset(u, 0, sizeof *u);
  u->id = sqlite3_column_int64(st, 0);
  col_text(st, 1, u->username, sizeof u->username);
  col_text(st, 2, u->display_name, sizeof u->display_name);
  col_text(st, 3, u->role, sizeof u->role);
  u->org_id = sqlite3_column_int64(st, 4);
  col_text(st, 5, u->org_kind, sizeof u->org_kind);
  col_text(st, 6, u->province, sizeof u->province);
  u->student_id = sqlite3_column_int64(st, 7);
  col_text(st, 8, u->password_hash, sizeof u->password_hash);
  col_text(st, 9, u->prev_password_hash, sizeof u->prev_password_hash);
  col_text(st, 10, status, sizeof status);
  u->status = status_parse(status);
  u->failed_count = sqlite3_column_int(st, 11);
  u->locked_until_us = sqlite3_column_int64(st, 12);
  u->password_changed_us = sqlite3_column_int64(st, 13);
  u->must_change = sqlite3_column_int(st, 14);
  col_text(st, 15, u->totp_secret, sizeof u->totp_secret);
  u->totp_enabled = sqlite3_column_int(st, 16);
  u->totp_last_step = sqlite3_column_int64(st, 17);
  u->created_us = sqlite3_column_int64(st, 18);
  col_text(st, 19, u->totp_pending, sizeof u->totp_pending);
}

/* Binds the mutable fields of u to ?2..?17 and ?19 in the order of the UPDATE below. */
static void bind_user(sqlite3_stmt *st, const mg_store_user *u) {
  sqlite3_bind_text(st, 2, u->display_name, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 3, u->role, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(st, 4, u->org_id);
  sqlite3_bind_text(st, 5, u->org_kind, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 6, u->province, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(st, 7, u->student_id);
  sqlite3_bind_text(st, 8, u->password_hash, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 9, u->prev_password_hash, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 10, mg_store_user_status_name(u->status), -1, SQLITE_STATIC);
  sqlite3_bind_int(st, 11, u->failed_count);
  sqlite3_bind_int64(st, 12, u->locked_until_us);
  sqlite3_bind_int64(st, 13, u->password_changed_us);
  sqlite3_bind_int(st, 14, u->must_change ? 1 : 0);
  sqlite3_bind_text(st, 15, u->totp_secret, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int(st, 16, u->totp_enabled ? 1 : 0);
  sqlite3_bind_int64(st, 17, u->totp_last_step);
  sqlite3_bind_text(st, 19, u->totp_pending, -1, SQLITE_TRANSIENT);
}

int mg_store_user_create(mg_store *s, const mg_store_user *u, int64_t *out_id) {
  sqlite3 *db;
  sqlite3_stmt *st;
  int rc = prep(s,
                "INSERT INTO users (username, display_name, role, org_id, org_kind, province, "
                "student_id, password_hash, prev_password_hash, status, failed_count, "
                "locked_until_us, password_changed_us, must_change, totp_secret, totp_enabled, "
                "totp_last_step, created_us, totp_pending) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
                "?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)",
                &db, &st);
  if (rc) return rc;
  sqlite3_bind_text(st, 1, u->username, -1, SQLITE_TRANSIENT);
  bind_user(st, u);
  sqlite3_bind_int64(st, 18, u->created_us);
  int r = sqlite3_step(st);
  if (r != SQLITE_DONE)
    rc = fail(db, r, "user create");
  else if (out_id)
    *out_id = sqlite3_last_insert_rowid(db);
  done(s, st);
  return rc;
}

static int get_one(mg_store *s, const char *sql, const char *name, int64_t id, mg_store_user *out) {
  sqlite3 *db;
  sqlite3_stmt *st;
  int rc = prep(s, sql, &db, &st);
  if (rc) return rc;
  if (name)
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_int64(st, 1, id);
  int r = sqlite3_step(st);
  if (r == SQLITE_ROW)
    read_user(st, out);
  else if (r == SQLITE_DONE)
    rc = MG_ENOTFOUND;
  else
    rc = fail(db, r, "user get");
  done(s, st);
  return rc;
}

int mg_store_user_get(mg_store *s, const char *username, mg_store_user *out) {
  return get_one(s, "SELECT " USER_COLS " FROM users WHERE username = ?1", username, 0, out);
}

int mg_store_user_get_id(mg_store *s, int64_t id, mg_store_user *out) {
  return get_one(s, "SELECT " USER_COLS " FROM users WHERE id = ?1", NULL, id, out);
}

int mg_store_user_count(mg_store *s, int64_t *out) {
  sqlite3 *db;
  sqlite3_stmt *st;
  int rc = prep(s, "SELECT count(*) FROM users", &db, &st);
  if (rc) return rc;
  int r = sqlite3_step(st);
  if (r == SQLITE_ROW)
    *out = sqlite3_column_int64(st, 0);
  else
    rc = fail(db, r, "user count");
  done(s, st);
  return rc;
}

int mg_store_user_list(mg_store *s, int (*cb)(void *ud, const mg_store_user *u), void *ud) {
  sqlite3 *db;
  sqlite3_stmt *st;
  int rc = prep(s, "SELECT " USER_COLS " FROM users ORDER BY id", &db, &st);
  if (rc) return rc;
  mg_store_user u;
  int r;
  while ((r = sqlite3_step(st)) == SQLITE_ROW) {
    read_user(st, &u);
    rc = cb(ud, &u);
    if (rc) break;
  }
  if (!rc && r != SQLITE_DONE) rc = fail(db, r, "user list");
  done(s, st);
  return rc;
}

/* Runs a prepared change and reports MG_ENOTFOUND when no row matched. */
static int change(mg_store *s, sqlite3 *db, sqlite3_stmt *st, const char *what) {
  int rc = MG_OK;
  int r = sqlite3_step(st);
  if (r != SQLITE_DONE && r != SQLITE_ROW)
    rc = fail(db, r, what);
  else if (sqlite3_changes(db) == 0)
    rc = MG_ENOTFOUND;
  done(s, st);
  return rc;
}

int mg_store_user_update(mg_store *s, const mg_store_user *u) {
  sqlite3 *db;
  sqlite3_stmt *st;
  int rc = prep(s,
                "UPDATE users SET display_name = ?2, role = ?3, org_id = ?4, org_kind = ?5, "
                "province = ?6, student_id = ?7, password_hash = ?8, prev_password_hash = ?9, "
                "status = ?10, failed_count = ?11, locked_until_us = ?12, "
                "password_changed_us = ?13, must_change = ?14, totp_secret = ?15, "
                "totp_enabled = ?16, totp_last_step = ?17, totp_pending = ?19 WHERE id = ?1",
                &db, &st);
  if (rc) return rc;
  sqlite3_bind_int64(st, 1, u->id);
  bind_user(st, u);
  return change(s, db, st, "user update");
}

int mg_store_user_login_failed(mg_store *s, int64_t id, int max_failures, int64_t lock_until_us,
                               int *locked) {
  sqlite3 *db;
  sqlite3_stmt *st;
  /* SET expressions see the row's old values, so the count and the lock decision agree. */
  int rc = prep(s,
                "UPDATE users SET failed_count = failed_count + 1, "
                "status = CASE WHEN status = 'active' AND failed_count + 1 >= ?2 "
                "THEN 'locked' ELSE status END, "
                "locked_until_us = CASE WHEN status = 'active' AND failed_count + 1 >= ?2 "
                "THEN ?3 ELSE locked_until_us END WHERE id = ?1 RETURNING status",
                &db, &st);
  if (rc) return rc;
  sqlite3_bind_int64(st, 1, id);
  sqlite3_bind_int(st, 2, max_failures);
  sqlite3_bind_int64(st, 3, lock_until_us);
  int r = sqlite3_step(st);
  if (r == SQLITE_ROW) {
    if (locked) *locked = strcmp((const char *)sqlite3_column_text(st, 0), "locked") == 0;
    r = sqlite3_step(st);
  } else if (r == SQLITE_DONE) {
    rc = MG_ENOTFOUND;
  }
  if (!rc && r != SQLITE_DONE) rc = fail(db, r, "user login_failed");
  done(s, st);
  return rc;
}

int mg_store_user_login_ok(mg_store *s, int64_t id) {
  sqlite3 *db;
  sqlite3_stmt *st;
  int rc = prep(s,
                "UPDATE users SET failed_count = 0, locked_until_us = 0, status = CASE WHEN "
                "status = 'locked' THEN 'active' ELSE status END WHERE id = ?1",
                &db, &st);
  if (rc) return rc;
  sqlite3_bind_int64(st, 1, id);
  return change(s, db, st, "user login_ok");
}

int mg_store_user_totp_use(mg_store *s, int64_t id, int64_t step) {
  sqlite3 *db;
  sqlite3_stmt *st;
  int rc = prep(s, "UPDATE users SET totp_last_step = ?2 WHERE id = ?1 AND totp_last_step < ?2",
                &db, &st);
  if (rc) return rc;
  sqlite3_bind_int64(st, 1, id);
  sqlite3_bind_int64(st, 2, step);
  rc = change(s, db, st, "user totp_use");
  return rc == MG_ENOTFOUND ? MG_ECONFLICT : rc;
}

/* ---- sessions ------------------------------------------------------------------------------ */

int mg_store_session_create(mg_store *s, const mg_store_session *x) {
  sqlite3 *db;
  sqlite3_stmt *st;
  int rc = prep(s,
                "INSERT INTO sessions (token_hash, user_id, bearer, csrf, mfa, created_us, "
                "last_seen_us, client_ip) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                &db, &st);
  if (rc) return rc;
  sqlite3_bind_blob(st, 1, x->token_hash, 32, SQLITE_TRANSIENT);
  sqlite3_bind_int64(st, 2, x->user_id);
  sqlite3_bind_int(st, 3, x->bearer ? 1 : 0);
  sqlite3_bind_text(st, 4, x->csrf, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int(st, 5, x->mfa ? 1 : 0);
  sqlite3_bind_int64(st, 6, x->created_us);
  sqlite3_bind_int64(st, 7, x->last_seen_us);
  sqlite3_bind_text(st, 8, x->client_ip, -1, SQLITE_TRANSIENT);
  int r = sqlite3_step(st);
  if (r != SQLITE_DONE) rc = fail(db, r, "session create");
  done(s, st);
  return rc;
}

int mg_store_session_get(mg_store *s, const uint8_t token_hash[32], mg_store_session *out) {
  sqlite3 *db;
  sqlite3_stmt *st;
  int rc = prep(s,
                "SELECT user_id, bearer, csrf, mfa, created_us, last_seen_us, client_ip FROM "
                "sessions WHERE token_hash = ?1",
                &db, &st);
  if (rc) return rc;
  sqlite3_bind_blob(st, 1, token_hash, 32, SQLITE_TRANSIENT);
  int r = sqlite3_step(st);
  if (r == SQLITE_ROW) {
    memset(out, 0, sizeof *out);
    memcpy(out->token_hash, token_hash, 32);
    out->user_id = sqlite3_column_int64(st, 0);
    out->bearer = sqlite3_column_int(st, 1);
    col_text(st, 2, out->csrf, sizeof out->csrf);
    out->mfa = sqlite3_column_int(st, 3);
    out->created_us = sqlite3_column_int64(st, 4);
    out->last_seen_us = sqlite3_column_int64(st, 5);
    col_text(st, 6, out->client_ip, sizeof out->client_ip);
  } else if (r == SQLITE_DONE) {
    rc = MG_ENOTFOUND;
  } else {
    rc = fail(db, r, "session get");
  }
  done(s, st);
  return rc;
}

static int session_change(mg_store *s, const char *sql, const uint8_t token_hash[32], int64_t v,
                          const char *what) {
  sqlite3 *db;
  sqlite3_stmt *st;
  int rc = prep(s, sql, &db, &st);
  if (rc) return rc;
  sqlite3_bind_blob(st, 1, token_hash, 32, SQLITE_TRANSIENT);
  if (sqlite3_bind_parameter_count(st) >= 2) sqlite3_bind_int64(st, 2, v);
  return change(s, db, st, what);
}

int mg_store_session_touch(mg_store *s, const uint8_t token_hash[32], int64_t last_seen_us) {
  return session_change(s, "UPDATE sessions SET last_seen_us = ?2 WHERE token_hash = ?1",
                        token_hash, last_seen_us, "session touch");
}

int mg_store_session_set_mfa(mg_store *s, const uint8_t token_hash[32]) {
  return session_change(s, "UPDATE sessions SET mfa = 1 WHERE token_hash = ?1", token_hash, 0,
                        "session mfa");
}

int mg_store_session_delete(mg_store *s, const uint8_t token_hash[32]) {
  return session_change(s, "DELETE FROM sessions WHERE token_hash = ?1", token_hash, 0,
                        "session delete");
}

int mg_store_session_delete_user(mg_store *s, int64_t user_id, const uint8_t *keep) {
  sqlite3 *db;
  sqlite3_stmt *st;
  int rc = prep(s, "DELETE FROM sessions WHERE user_id = ?1 AND token_hash IS NOT ?2", &db, &st);
  if (rc) return rc;
  sqlite3_bind_int64(st, 1, user_id);
  if (keep)
    sqlite3_bind_blob(st, 2, keep, 32, SQLITE_TRANSIENT);
  else
    sqlite3_bind_null(st, 2);
  int r = sqlite3_step(st);
  if (r != SQLITE_DONE) rc = fail(db, r, "session delete_user");
  done(s, st);
  return rc;
}
