/* store/sqlite_audit.c — store_audit.h for the SQLite backend (tables: 003_audit.sql,
 * 014_audit_sm2.sql). */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "core/log.h"
#include "store/store_audit.h"
#include "store/store_int.h"

enum { UNIT_OWN = 1, UNIT_SAVEPOINT = 2 };

static int map(sqlite3 *db, int rc, const char *what) {
  if (rc == SQLITE_OK || rc == SQLITE_DONE || rc == SQLITE_ROW) return MG_OK;
  mg_log(MG_LOG_ERROR, "store.audit.error", "op", what, "msg", db ? sqlite3_errmsg(db) : "?",
         "code", sqlite3_errstr(rc), NULL);
  switch (rc & 0xff) {
  case SQLITE_NOMEM: return MG_ENOMEM;
  case SQLITE_BUSY:
  case SQLITE_LOCKED: return MG_EBUSY;
  case SQLITE_IOERR:
  case SQLITE_FULL:
  case SQLITE_CANTOPEN:
  case SQLITE_READONLY: return MG_EIO;
  case SQLITE_CORRUPT:
  case SQLITE_NOTADB: return MG_ECORRUPT;
  default: return MG_ESTORE;
  }
}

static int exec(sqlite3 *db, const char *sql) {
  return map(db, sqlite3_exec(db, sql, NULL, NULL, NULL), sql);
}

static int prep(sqlite3 *db, const char *sql, sqlite3_stmt **st) {
  return map(db, sqlite3_prepare_v2(db, sql, -1, st, NULL), sql);
}

static void bind_text(sqlite3_stmt *st, int i, const char *s) {
  if (s) sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
  else sqlite3_bind_null(st, i);
}

/* A text column into a fixed field. A value too long for it becomes "" rather than a truncated
 * prefix, which could equal the genuine value: an empty hash, key or signature never verifies. */
static void copy_col(sqlite3_stmt *st, int i, char *out, size_t size) {
  const char *t = (const char *)sqlite3_column_text(st, i);
  size_t n = t ? strlen(t) : 0;
  if (n >= size) n = 0;
  if (n) memcpy(out, t, n);
  out[n] = '\0';
}

/* Runs a prepared statement that returns no rows, and finalizes it. */
static int step_done(sqlite3 *db, sqlite3_stmt *st, const char *what) {
  int rc = sqlite3_step(st);
  sqlite3_finalize(st);
  return rc == SQLITE_DONE ? MG_OK : map(db, rc, what);
}

int mg_store_audit_begin(mg_store *s, int *unit) {
  sqlite3 *db = NULL;
  *unit = 0;
  int rc = mg_store_sqlite_gov_acquire(s, &db);
  if (rc) return rc;
  if (sqlite3_get_autocommit(db)) {
    rc = exec(db, "BEGIN IMMEDIATE");
    *unit = UNIT_OWN;
  } else {
    rc = exec(db, "SAVEPOINT audit_unit");
    *unit = UNIT_SAVEPOINT;
  }
  if (rc) {
    *unit = 0;
    mg_store_sqlite_gov_release(s);
  }
  return rc;
}

int mg_store_audit_end(mg_store *s, int unit, int commit) {
  sqlite3 *db = NULL;
  if (!unit) return MG_EINVAL;
  int rc = mg_store_sqlite_gov_acquire(s, &db); /* recursive: the unit's lock is still held */
  if (rc) return rc;
  if (unit == UNIT_OWN) {
    rc = exec(db, commit ? "COMMIT" : "ROLLBACK");
    if (rc && !sqlite3_get_autocommit(db)) exec(db, "ROLLBACK");
  } else {
    if (!commit) rc = exec(db, "ROLLBACK TO audit_unit");
    int r2 = exec(db, "RELEASE audit_unit");
    if (!rc) rc = r2;
  }
  mg_store_sqlite_gov_release(s); /* this call's */
  mg_store_sqlite_gov_release(s); /* begin's */
  return rc;
}

int mg_store_audit_tip_get(mg_store *s, mg_store_audit_tip *out) {
  sqlite3 *db = NULL;
  memset(out, 0, sizeof *out);
  memset(out->hash, '0', 64);
  int rc = mg_store_sqlite_gov_acquire(s, &db);
  if (rc) return rc;
  sqlite3_stmt *st = NULL;
  if ((rc = prep(db, "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1", &st))) goto out;
  int r = sqlite3_step(st);
  if (r == SQLITE_ROW) {
    out->seq = sqlite3_column_int64(st, 0);
    copy_col(st, 1, out->hash, sizeof out->hash);
  } else if (r != SQLITE_DONE) {
    rc = map(db, r, "audit tip");
    goto out;
  }
  sqlite3_finalize(st);
  st = NULL;
  if (!out->seq) { /* everything purged: the chain continues from the newest anchor */
    if ((rc = prep(db, "SELECT upto_seq, hash FROM audit_anchor ORDER BY upto_seq DESC LIMIT 1",
                   &st)))
      goto out;
    r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
      out->seq = sqlite3_column_int64(st, 0);
      copy_col(st, 1, out->hash, sizeof out->hash);
    } else if (r != SQLITE_DONE) {
      rc = map(db, r, "audit anchor tip");
      goto out;
    }
    sqlite3_finalize(st);
    st = NULL;
  }
  if ((rc = prep(db, "SELECT seq, created_us FROM audit_checkpoint ORDER BY seq DESC LIMIT 1", &st)))
    goto out;
  r = sqlite3_step(st);
  if (r == SQLITE_ROW) {
    out->ckpt_seq = sqlite3_column_int64(st, 0);
    out->ckpt_us = sqlite3_column_int64(st, 1);
  } else if (r != SQLITE_DONE) {
    rc = map(db, r, "audit checkpoint tip");
  }
out:
  sqlite3_finalize(st);
  mg_store_sqlite_gov_release(s);
  return rc;
}

int mg_store_audit_insert(mg_store *s, const mg_store_audit_row *r) {
  sqlite3 *db = NULL;
  int rc = mg_store_sqlite_gov_acquire(s, &db);
  if (rc) return rc;
  sqlite3_stmt *st = NULL;
  rc = prep(db,
            "INSERT INTO audit_log (seq, at_us, actor, role, action, object_type, object_id, "
            "before_sm3, after_sm3, source_ip, prev_hash, hash) "
            "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            &st);
  if (!rc) {
    sqlite3_bind_int64(st, 1, r->seq);
    sqlite3_bind_int64(st, 2, r->at_us);
    bind_text(st, 3, r->actor);
    bind_text(st, 4, r->role);
    bind_text(st, 5, r->action);
    bind_text(st, 6, r->object_type);
    bind_text(st, 7, r->object_id);
    bind_text(st, 8, r->before_sm3);
    bind_text(st, 9, r->after_sm3);
    bind_text(st, 10, r->source_ip);
    bind_text(st, 11, r->prev_hash);
    bind_text(st, 12, r->hash);
    rc = step_done(db, st, "audit insert");
  }
  mg_store_sqlite_gov_release(s);
  return rc;
}

int mg_store_audit_ckpt_insert(mg_store *s, const mg_store_audit_ckpt *c) {
  sqlite3 *db = NULL;
  int rc = mg_store_sqlite_gov_acquire(s, &db);
  if (rc) return rc;
  sqlite3_stmt *st = NULL;
  rc = prep(db,
            "INSERT INTO audit_checkpoint (seq, hash, record_at_us, created_us, key_id, "
            "public_key, signature, alg) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            &st);
  if (!rc) {
    sqlite3_bind_int64(st, 1, c->seq);
    bind_text(st, 2, c->hash);
    sqlite3_bind_int64(st, 3, c->record_at_us);
    sqlite3_bind_int64(st, 4, c->created_us);
    sqlite3_bind_int64(st, 5, c->key_id);
    bind_text(st, 6, c->public_key);
    bind_text(st, 7, c->signature);
    bind_text(st, 8, c->alg);
    rc = step_done(db, st, "audit checkpoint insert");
  }
  mg_store_sqlite_gov_release(s);
  return rc;
}

#define CKPT_COLS "seq, hash, record_at_us, created_us, key_id, public_key, signature, alg"

static void read_ckpt(sqlite3_stmt *st, mg_store_audit_ckpt *c) {
  memset(c, 0, sizeof *c);
  c->seq = sqlite3_column_int64(st, 0);
  copy_col(st, 1, c->hash, sizeof c->hash);
  c->record_at_us = sqlite3_column_int64(st, 2);
  c->created_us = sqlite3_column_int64(st, 3);
  c->key_id = (uint32_t)sqlite3_column_int64(st, 4);
  copy_col(st, 5, c->public_key, sizeof c->public_key);
  copy_col(st, 6, c->signature, sizeof c->signature);
  copy_col(st, 7, c->alg, sizeof c->alg);
}

int mg_store_audit_purge_point(mg_store *s, int64_t cutoff_us, mg_store_audit_ckpt *out) {
  sqlite3 *db = NULL;
  int rc = mg_store_sqlite_gov_acquire(s, &db);
  if (rc) return rc;
  sqlite3_stmt *st = NULL;
  rc = prep(db,
            "SELECT " CKPT_COLS " FROM audit_checkpoint WHERE record_at_us <= ?1 AND seq > "
            "(SELECT coalesce(max(upto_seq), 0) FROM audit_anchor) ORDER BY seq DESC LIMIT 1",
            &st);
  if (!rc) {
    sqlite3_bind_int64(st, 1, cutoff_us);
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW) read_ckpt(st, out);
    else rc = r == SQLITE_DONE ? MG_ENOTFOUND : map(db, r, "audit purge point");
  }
  sqlite3_finalize(st);
  mg_store_sqlite_gov_release(s);
  return rc;
}

int mg_store_audit_purge(mg_store *s, const mg_store_audit_anchor *a, int64_t *n_deleted) {
  sqlite3 *db = NULL;
  int rc = mg_store_sqlite_gov_acquire(s, &db);
  if (rc) return rc;
  sqlite3_stmt *st = NULL;
  rc = prep(db,
            "INSERT INTO audit_anchor (upto_seq, hash, purged_us, n_purged, retention_days) "
            "VALUES (?1, ?2, ?3, (SELECT count(*) FROM audit_log WHERE seq <= ?1), ?4)",
            &st);
  if (!rc) {
    sqlite3_bind_int64(st, 1, a->upto_seq);
    bind_text(st, 2, a->hash);
    sqlite3_bind_int64(st, 3, a->purged_us);
    sqlite3_bind_int64(st, 4, a->retention_days);
    rc = step_done(db, st, "audit anchor insert");
  }
  if (!rc && !(rc = prep(db, "DELETE FROM audit_log WHERE seq <= ?1", &st))) {
    sqlite3_bind_int64(st, 1, a->upto_seq);
    rc = step_done(db, st, "audit purge");
    if (!rc && n_deleted) *n_deleted = sqlite3_changes64(db);
  }
  mg_store_sqlite_gov_release(s);
  return rc;
}

static void read_row(sqlite3_stmt *st, mg_store_audit_row *r) {
#define T(i) ((const char *)sqlite3_column_text(st, i))
  r->seq = sqlite3_column_int64(st, 0);
  r->at_us = sqlite3_column_int64(st, 1);
  r->actor = T(2);
  r->role = T(3);
  r->action = T(4);
  r->object_type = T(5);
  r->object_id = T(6);
  r->before_sm3 = T(7);
  r->after_sm3 = T(8);
  r->source_ip = T(9);
  r->prev_hash = T(10);
  r->hash = T(11);
#undef T
}

#define ROW_COLS \
  "seq, at_us, actor, role, action, object_type, object_id, before_sm3, after_sm3, source_ip, " \
  "prev_hash, hash"

int mg_store_audit_walk(mg_store *s, const mg_store_audit_walker *w) {
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  void *reader = NULL;
  int rc = mg_store_sqlite_reader_acquire(s, &db, &reader);
  if (rc) return rc;
  if ((rc = exec(db, "BEGIN"))) goto out;
  if (w->anchor) {
    if ((rc = prep(db,
                   "SELECT id, upto_seq, hash, purged_us, n_purged, retention_days FROM "
                   "audit_anchor ORDER BY upto_seq",
                   &st)))
      goto out;
    int r;
    while (!rc && (r = sqlite3_step(st)) == SQLITE_ROW) {
      mg_store_audit_anchor a;
      memset(&a, 0, sizeof a);
      a.id = sqlite3_column_int64(st, 0);
      a.upto_seq = sqlite3_column_int64(st, 1);
      copy_col(st, 2, a.hash, sizeof a.hash);
      a.purged_us = sqlite3_column_int64(st, 3);
      a.n_purged = sqlite3_column_int64(st, 4);
      a.retention_days = sqlite3_column_int64(st, 5);
      rc = w->anchor(w->ud, &a);
    }
    if (!rc && r != SQLITE_DONE) rc = map(db, r, "audit walk anchors");
    sqlite3_finalize(st);
    st = NULL;
    if (rc) goto out;
  }
  if (w->ckpt) {
    if ((rc = prep(db, "SELECT " CKPT_COLS " FROM audit_checkpoint ORDER BY seq", &st))) goto out;
    int r;
    while (!rc && (r = sqlite3_step(st)) == SQLITE_ROW) {
      mg_store_audit_ckpt c;
      read_ckpt(st, &c);
      rc = w->ckpt(w->ud, &c);
    }
    if (!rc && r != SQLITE_DONE) rc = map(db, r, "audit walk checkpoints");
    sqlite3_finalize(st);
    st = NULL;
    if (rc) goto out;
  }
  if (w->row) {
    if ((rc = prep(db, "SELECT " ROW_COLS " FROM audit_log ORDER BY seq", &st))) goto out;
    int r;
    while (!rc && (r = sqlite3_step(st)) == SQLITE_ROW) {
      mg_store_audit_row row;
      read_row(st, &row);
      rc = w->row(w->ud, &row);
    }
    if (!rc && r != SQLITE_DONE) rc = map(db, r, "audit walk records");
  }
out:
  sqlite3_finalize(st);
  if (db && !sqlite3_get_autocommit(db)) sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
  mg_store_sqlite_reader_release(s, reader);
  return rc;
}

int mg_store_audit_list(mg_store *s, int64_t after_seq, size_t limit,
                        int (*cb)(void *ud, const mg_store_audit_row *r), void *ud, int *more) {
  if (!cb || !limit || limit > 1000) return MG_EINVAL;
  if (more) *more = 0;
  sqlite3 *db = NULL;
  int rc = mg_store_sqlite_gov_acquire(s, &db);
  if (rc) return rc;
  sqlite3_stmt *st = NULL;
  if ((rc = prep(db, "SELECT " ROW_COLS " FROM audit_log WHERE seq > ?1 ORDER BY seq LIMIT ?2",
                 &st)))
    goto out;
  sqlite3_bind_int64(st, 1, after_seq);
  sqlite3_bind_int64(st, 2, (int64_t)limit + 1);
  size_t n = 0;
  int r;
  while (!rc && (r = sqlite3_step(st)) == SQLITE_ROW) {
    if (n++ == limit) {
      if (more) *more = 1;
      break;
    }
    mg_store_audit_row row;
    read_row(st, &row);
    rc = cb(ud, &row);
  }
  if (!rc && r != SQLITE_DONE && r != SQLITE_ROW) rc = map(db, r, "audit list");
out:
  sqlite3_finalize(st);
  mg_store_sqlite_gov_release(s);
  return rc;
}
