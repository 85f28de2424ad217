/* The findings area on SQLite; see store_findings.h. */
#include "store/store_findings.h"

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "store/store_int.h"

static int db_err(int rc) { return rc == SQLITE_BUSY || rc == SQLITE_LOCKED ? MG_EBUSY : MG_ESTORE; }

int mg_store_finding_put(mg_store *s, const mg_store_finding *f, int64_t *id, int *inserted) {
  if (!s || !f || !f->registration[0] || !f->type[0]) return MG_EINVAL;
  sqlite3 *db;
  int rc = mg_store_sqlite_gov_acquire(s, &db);
  if (rc) return rc;
  sqlite3_stmt *st = NULL;
  int64_t existing = 0;
  rc = MG_ESTORE;
  if (sqlite3_prepare_v2(db, "SELECT id FROM findings WHERE registration = ?1 AND type = ?2", -1, &st, NULL) != SQLITE_OK) goto out;
  sqlite3_bind_text(st, 1, f->registration, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, f->type, -1, SQLITE_STATIC);
  int step = sqlite3_step(st);
  if (step == SQLITE_ROW) existing = sqlite3_column_int64(st, 0);
  else if (step != SQLITE_DONE) { rc = db_err(step); goto out; }
  sqlite3_finalize(st);
  st = NULL;
  const char *sql = existing
      ? "UPDATE findings SET student=?3, university=?4, course=?5, platform=?6, score=?7, threshold=?8, rules=?9, "
        "thresholds=?10, comparison=?11, evidence=?12, explain_zh=?13, explain_en=?14, decisive_ts_us=?15, "
        "found_at_us=?16 WHERE registration=?1 AND type=?2"
      : "INSERT INTO findings (registration, type, student, university, course, platform, score, threshold, rules, "
        "thresholds, comparison, evidence, explain_zh, explain_en, decisive_ts_us, found_at_us, created_us, status) "
        "VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,'open')";
  if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) goto out;
  const char *txt[] = {f->registration, f->type, f->student, f->university, f->course, f->platform};
  for (int i = 0; i < 6; i++) sqlite3_bind_text(st, i + 1, txt[i], -1, SQLITE_STATIC);
  sqlite3_bind_double(st, 7, f->score);
  sqlite3_bind_double(st, 8, f->threshold);
  const char *txt2[] = {f->rules, f->thresholds, f->comparison, f->evidence[0] ? f->evidence : "[]",
                        f->explain_zh, f->explain_en};
  for (int i = 0; i < 6; i++) sqlite3_bind_text(st, i + 9, txt2[i], -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 15, f->decisive_ts_us);
  sqlite3_bind_int64(st, 16, f->found_at_us);
  if (!existing) sqlite3_bind_int64(st, 17, f->created_us);
  step = sqlite3_step(st);
  if (step != SQLITE_DONE) { rc = db_err(step); goto out; }
  if (id) *id = existing ? existing : sqlite3_last_insert_rowid(db);
  if (inserted) *inserted = !existing;
  rc = MG_OK;
out:
  sqlite3_finalize(st);
  mg_store_sqlite_gov_release(s);
  return rc;
}

#define COLS "id, type, registration, student, university, course, platform, score, threshold, rules, " \
             "thresholds, comparison, evidence, explain_zh, explain_en, decisive_ts_us, found_at_us, "   \
             "created_us, status"

static void col(sqlite3_stmt *st, int i, char *out, size_t size) {
  const unsigned char *t = sqlite3_column_text(st, i);
  snprintf(out, size, "%s", t ? (const char *)t : "");
}

static void row(sqlite3_stmt *st, mg_store_finding *f) {
  memset(f, 0, sizeof *f);
  f->id = sqlite3_column_int64(st, 0);
  col(st, 1, f->type, sizeof f->type);
  col(st, 2, f->registration, sizeof f->registration);
  col(st, 3, f->student, sizeof f->student);
  col(st, 4, f->university, sizeof f->university);
  col(st, 5, f->course, sizeof f->course);
  col(st, 6, f->platform, sizeof f->platform);
  f->score = sqlite3_column_double(st, 7);
  f->threshold = sqlite3_column_double(st, 8);
  col(st, 9, f->rules, sizeof f->rules);
  col(st, 10, f->thresholds, sizeof f->thresholds);
  col(st, 11, f->comparison, sizeof f->comparison);
  col(st, 12, f->evidence, sizeof f->evidence);
  col(st, 13, f->explain_zh, sizeof f->explain_zh);
  col(st, 14, f->explain_en, sizeof f->explain_en);
  f->decisive_ts_us = sqlite3_column_int64(st, 15);
  f->found_at_us = sqlite3_column_int64(st, 16);
  f->created_us = sqlite3_column_int64(st, 17);
  col(st, 18, f->status, sizeof f->status);
}

int mg_store_finding_list(mg_store *s, const mg_store_finding_filter *flt,
                          int (*cb)(void *ud, const mg_store_finding *f), void *ud, int *more,
                          int64_t *last_id) {
  if (!s || !flt || !cb) return MG_EINVAL;
  size_t limit = flt->limit ? flt->limit : 100;
  if (limit > 500) limit = 500;
  if (more) *more = 0;
  if (last_id) *last_id = flt->after_id;
  sqlite3 *db;
  int rc = mg_store_sqlite_gov_acquire(s, &db);
  if (rc) return rc;
  sqlite3_stmt *st = NULL;
  static mg_store_finding f; /* large: kept off the stack; the gov mutex serialises users */
  rc = MG_ESTORE;
  if (sqlite3_prepare_v2(db,
                         "SELECT " COLS " FROM findings WHERE id > ?1"
                         " AND (?2 IS NULL OR university = ?2) AND (?3 IS NULL OR platform = ?3)"
                         " AND (?4 IS NULL OR course = ?4) AND (?5 IS NULL OR student = ?5)"
                         " AND (?6 IS NULL OR type = ?6) AND (?7 IS NULL OR status = ?7)"
                         " AND created_us >= ?8 AND (?10 IS NULL OR university IN (SELECT home_page"
                         " FROM reg_orgs WHERE kind = 'university' AND province = ?10))"
                         " ORDER BY id LIMIT ?9",
                         -1, &st, NULL) != SQLITE_OK)
    goto out;
  sqlite3_bind_int64(st, 1, flt->after_id);
  const char *v[] = {flt->university, flt->platform, flt->course, flt->student, flt->type, flt->status};
  for (int i = 0; i < 6; i++) {
    if (v[i]) sqlite3_bind_text(st, i + 2, v[i], -1, SQLITE_STATIC);
    else sqlite3_bind_null(st, i + 2);
  }
  sqlite3_bind_int64(st, 8, flt->since_us);
  sqlite3_bind_int64(st, 9, (sqlite3_int64)limit + 1);
  if (flt->province) sqlite3_bind_text(st, 10, flt->province, -1, SQLITE_STATIC);
  else sqlite3_bind_null(st, 10);
  size_t n = 0;
  int step;
  while ((step = sqlite3_step(st)) == SQLITE_ROW) {
    if (n == limit) {
      if (more) *more = 1;
      break;
    }
    row(st, &f);
    n++;
    if (last_id) *last_id = f.id;
    int r = cb(ud, &f);
    if (r) { rc = r; goto out; }
  }
  if (step != SQLITE_ROW && step != SQLITE_DONE) { rc = db_err(step); goto out; }
  rc = MG_OK;
out:
  sqlite3_finalize(st);
  mg_store_sqlite_gov_release(s);
  return rc;
}

int mg_store_finding_get(mg_store *s, int64_t id, mg_store_finding *out) {
  if (!s || !out) return MG_EINVAL;
  sqlite3 *db;
  int rc = mg_store_sqlite_gov_acquire(s, &db);
  if (rc) return rc;
  sqlite3_stmt *st = NULL;
  rc = MG_ESTORE;
  if (sqlite3_prepare_v2(db, "SELECT " COLS " FROM findings WHERE id = ?1", -1, &st, NULL) != SQLITE_OK) goto out;
  sqlite3_bind_int64(st, 1, id);
  int step = sqlite3_step(st);
  if (step == SQLITE_ROW) { row(st, out); rc = MG_OK; }
  else rc = step == SQLITE_DONE ? MG_ENOTFOUND : db_err(step);
out:
  sqlite3_finalize(st);
  mg_store_sqlite_gov_release(s);
  return rc;
}
