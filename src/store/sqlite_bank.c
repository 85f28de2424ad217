/* The known answer-bank registry on SQLite; see store_bank.h. */
#include "store/store_bank.h"

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "store/store_int.h"

static int db_err(int rc) { return rc == SQLITE_BUSY || rc == SQLITE_LOCKED ? MG_EBUSY : MG_ESTORE; }

static void col(sqlite3_stmt *st, int i, char *out, size_t size) {
  const unsigned char *t = sqlite3_column_text(st, i);
  snprintf(out, size, "%s", t ? (const char *)t : "");
}

static void row(sqlite3_stmt *st, mg_store_bank_item *it) {
  memset(it, 0, sizeof *it);
  col(st, 0, it->item_iri, sizeof it->item_iri);
  col(st, 1, it->answer, sizeof it->answer);
  col(st, 2, it->source, sizeof it->source);
  col(st, 3, it->added_by, sizeof it->added_by);
  it->created_us = sqlite3_column_int64(st, 4);
  it->updated_us = sqlite3_column_int64(st, 5);
}

#define COLS "item_iri, answer, source, added_by, created_us, updated_us"

int mg_store_bank_put(mg_store *s, const mg_store_bank_item *it, int64_t now_us, mg_store_bank_change *change) {
  if (!s || !it || !it->item_iri[0]) return MG_EINVAL;
  sqlite3 *db;
  int rc = mg_store_sqlite_gov_acquire(s, &db);
  if (rc) return rc;
  sqlite3_stmt *st = NULL;
  mg_store_bank_change ch = MG_STORE_BANK_INSERTED;
  rc = MG_ESTORE;
  if (sqlite3_prepare_v2(db, "SELECT answer = ?2 AND source = ?3 FROM bank_items WHERE item_iri = ?1", -1, &st,
                         NULL) != SQLITE_OK)
    goto out;
  sqlite3_bind_text(st, 1, it->item_iri, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, it->answer, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 3, it->source, -1, SQLITE_STATIC);
  int step = sqlite3_step(st);
  if (step == SQLITE_ROW) ch = sqlite3_column_int(st, 0) ? MG_STORE_BANK_UNCHANGED : MG_STORE_BANK_UPDATED;
  else if (step != SQLITE_DONE) { rc = db_err(step); goto out; }
  sqlite3_finalize(st);
  st = NULL;
  if (ch != MG_STORE_BANK_UNCHANGED) {
    const char *sql = ch == MG_STORE_BANK_UPDATED
        ? "UPDATE bank_items SET answer = ?2, source = ?3, added_by = ?4, updated_us = ?5 WHERE item_iri = ?1"
        : "INSERT INTO bank_items (item_iri, answer, source, added_by, created_us, updated_us)"
          " VALUES (?1, ?2, ?3, ?4, ?5, ?5)";
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) goto out;
    sqlite3_bind_text(st, 1, it->item_iri, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, it->answer, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, it->source, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, it->added_by, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, now_us);
    step = sqlite3_step(st);
    if (step != SQLITE_DONE) { rc = db_err(step); goto out; }
  }
  if (change) *change = ch;
  rc = MG_OK;
out:
  sqlite3_finalize(st);
  mg_store_sqlite_gov_release(s);
  return rc;
}

int mg_store_bank_get(mg_store *s, const char *item_iri, mg_store_bank_item *out) {
  if (!s || !item_iri || !out) return MG_EINVAL;
  sqlite3 *db;
  int rc = mg_store_sqlite_gov_acquire(s, &db);
  if (rc) return rc;
  sqlite3_stmt *st = NULL;
  rc = MG_ESTORE;
  if (sqlite3_prepare_v2(db, "SELECT " COLS " FROM bank_items WHERE item_iri = ?1", -1, &st, NULL) != SQLITE_OK)
    goto out;
  sqlite3_bind_text(st, 1, item_iri, -1, SQLITE_STATIC);
  int step = sqlite3_step(st);
  if (step == SQLITE_ROW) { row(st, out); rc = MG_OK; }
  else rc = step == SQLITE_DONE ? MG_ENOTFOUND : db_err(step);
out:
  sqlite3_finalize(st);
  mg_store_sqlite_gov_release(s);
  return rc;
}

int mg_store_bank_list(mg_store *s, const char *after_iri, size_t limit,
                       int (*cb)(void *ud, const mg_store_bank_item *it), void *ud, int *more) {
  if (!s || !cb) return MG_EINVAL;
  if (more) *more = 0;
  sqlite3 *db;
  int rc = mg_store_sqlite_gov_acquire(s, &db);
  if (rc) return rc;
  sqlite3_stmt *st = NULL;
  mg_store_bank_item it;
  rc = MG_ESTORE;
  if (sqlite3_prepare_v2(db, "SELECT " COLS " FROM bank_items WHERE item_iri > ?1 ORDER BY item_iri LIMIT ?2", -1,
                         &st, NULL) != SQLITE_OK)
    goto out;
  sqlite3_bind_text(st, 1, after_iri ? after_iri : "", -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 2, limit ? (sqlite3_int64)limit + 1 : -1);
  size_t n = 0;
  int step;
  while ((step = sqlite3_step(st)) == SQLITE_ROW) {
    if (limit && n == limit) {
      if (more) *more = 1;
      break;
    }
    row(st, &it);
    n++;
    int r = cb(ud, &it);
    if (r) { rc = r; goto out; }
  }
  if (step != SQLITE_ROW && step != SQLITE_DONE) { rc = db_err(step); goto out; }
  rc = MG_OK;
out:
  sqlite3_finalize(st);
  mg_store_sqlite_gov_release(s);
  return rc;
}

int mg_store_bank_count(mg_store *s, int64_t *out) {
  if (!s || !out) return MG_EINVAL;
  sqlite3 *db;
  int rc = mg_store_sqlite_gov_acquire(s, &db);
  if (rc) return rc;
  sqlite3_stmt *st = NULL;
  rc = MG_ESTORE;
  if (sqlite3_prepare_v2(db, "SELECT count(*) FROM bank_items", -1, &st, NULL) != SQLITE_OK) goto out;
  int step = sqlite3_step(st);
  if (step == SQLITE_ROW) { *out = sqlite3_column_int64(st, 0); rc = MG_OK; }
  else rc = db_err(step);
out:
  sqlite3_finalize(st);
  mg_store_sqlite_gov_release(s);
  return rc;
}
