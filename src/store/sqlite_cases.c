/* store/sqlite_cases.c — store_cases.h on the SQLite governance connection.
 *
 * Every function takes the governance connection (joining the caller's transaction when one is
 * open on this thread), prepares its statement, binds parameters and releases the connection on
 * every path. Statements are prepared per call: this area is low-volume (people's actions). */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/log.h"
#include "store/store_cases.h"
#include "store/store_int.h"

/* One prepared statement on the governance connection. */
typedef struct gq {
  mg_store *s;
  sqlite3 *db;
  sqlite3_stmt *st;
} gq;

static int map_rc(int rc) {
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return MG_EBUSY;
    case SQLITE_NOMEM: return MG_ENOMEM;
    case SQLITE_CONSTRAINT: return MG_ECONFLICT;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB: return MG_ECORRUPT;
    default: return MG_ESTORE;
  }
}

static int gq_fail(gq *q, int rc, const char *what) {
  mg_log(MG_LOG_ERROR, "store.cases.error", "op", what, "msg", sqlite3_errmsg(q->db), NULL);
  return map_rc(rc);
}

/* Acquires the connection and prepares sql. On failure nothing is held. */
static int gq_open(gq *q, mg_store *s, const char *sql) {
  q->s = s;
  q->db = NULL;
  q->st = NULL;
  int rc = mg_store_sqlite_gov_acquire(s, &q->db);
  if (rc) return rc;
  int r = sqlite3_prepare_v2(q->db, sql, -1, &q->st, NULL);
  if (r != SQLITE_OK) {
    rc = gq_fail(q, r, sql);
    mg_store_sqlite_gov_release(s);
    q->db = NULL;
    return rc;
  }
  return MG_OK;
}

static void gq_close(gq *q) {
  if (!q->db) return;
  sqlite3_finalize(q->st);
  mg_store_sqlite_gov_release(q->s);
  q->db = NULL;
  q->st = NULL;
}

static void b_i(gq *q, int i, int64_t v) { sqlite3_bind_int64(q->st, i, v); }
static void b_t(gq *q, int i, const char *v) {
  sqlite3_bind_text(q->st, i, v ? v : "", -1, SQLITE_TRANSIENT);
}
static void b_d(gq *q, int i, double v) { sqlite3_bind_double(q->st, i, v); }

static int64_t c_i(gq *q, int i) { return sqlite3_column_int64(q->st, i); }
static void c_t(gq *q, int i, char *out, size_t size) {
  const unsigned char *t = sqlite3_column_text(q->st, i);
  snprintf(out, size, "%s", t ? (const char *)t : "");
}
static const char *c_p(gq *q, int i) {
  const unsigned char *t = sqlite3_column_text(q->st, i);
  return t ? (const char *)t : "";
}

/* Runs a statement that returns no rows; *id_out (may be NULL) gets the new rowid. A unique
 * violation is `dup`, any other constraint MG_ECONFLICT. */
static int gq_exec(gq *q, int64_t *id_out, int dup, const char *what) {
  int r = sqlite3_step(q->st);
  int rc = MG_OK;
  if (r == SQLITE_DONE) {
    if (id_out) *id_out = sqlite3_last_insert_rowid(q->db);
  } else if (sqlite3_extended_errcode(q->db) == SQLITE_CONSTRAINT_UNIQUE ||
             sqlite3_extended_errcode(q->db) == SQLITE_CONSTRAINT_PRIMARYKEY) {
    rc = dup;
  } else if ((r & 0xff) == SQLITE_CONSTRAINT) {
    mg_log(MG_LOG_WARN, "store.cases.constraint", "op", what, "msg", sqlite3_errmsg(q->db), NULL);
    rc = MG_EINVAL; /* a CHECK the domain should have caught */
  } else {
    rc = gq_fail(q, r, what);
  }
  gq_close(q);
  return rc;
}

/* Steps through rows calling row(q, ud) for each; stops at the first non-zero return. */
static int gq_rows(gq *q, int (*row)(gq *q, void *ud), void *ud, const char *what) {
  int rc = MG_OK;
  for (;;) {
    int r = sqlite3_step(q->st);
    if (r == SQLITE_DONE) break;
    if (r != SQLITE_ROW) {
      rc = gq_fail(q, r, what);
      break;
    }
    if ((rc = row(q, ud))) break;
  }
  gq_close(q);
  return rc;
}

static char *dup_text(const char *s) {
  size_t n = strlen(s);
  char *p = malloc(n + 1);
  if (p) memcpy(p, s, n + 1);
  return p;
}

/* ---- inbox ------------------------------------------------------------------------------- */

#define INBOX_COLS                                                                              \
  "id, university_id, platform_id, course_id, student_id, registration, source, "             \
  "coalesce(finding_id, 0), type, summary, reported_by, received_us, coalesce(case_id, 0), "  \
  "evidence"

static void inbox_row(gq *q, mg_store_inbox_item *it) {
  memset(it, 0, sizeof *it);
  it->id = c_i(q, 0);
  it->university_id = c_i(q, 1);
  it->platform_id = c_i(q, 2);
  it->course_id = c_i(q, 3);
  it->student_id = c_i(q, 4);
  c_t(q, 5, it->registration, sizeof it->registration);
  c_t(q, 6, it->source, sizeof it->source);
  it->finding_id = c_i(q, 7);
  c_t(q, 8, it->type, sizeof it->type);
  c_t(q, 9, it->summary, sizeof it->summary);
  c_t(q, 10, it->reported_by, sizeof it->reported_by);
  it->received_us = c_i(q, 11);
  it->case_id = c_i(q, 12);
  it->evidence = c_p(q, 13);
}

int mg_store_inbox_add(mg_store *s, const mg_store_inbox_item *it, int64_t *id_out) {
  if (!s || !it || !it->evidence) return MG_EINVAL;
  gq q;
  int rc = gq_open(&q, s,
                   "INSERT INTO case_inbox (university_id, platform_id, course_id, student_id, "
                   "registration, source, finding_id, type, summary, evidence, reported_by, "
                   "received_us) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)");
  if (rc) return rc;
  b_i(&q, 1, it->university_id);
  b_i(&q, 2, it->platform_id);
  b_i(&q, 3, it->course_id);
  b_i(&q, 4, it->student_id);
  b_t(&q, 5, it->registration);
  b_t(&q, 6, it->source);
  if (it->finding_id > 0) b_i(&q, 7, it->finding_id);
  b_t(&q, 8, it->type);
  b_t(&q, 9, it->summary);
  b_t(&q, 10, it->evidence);
  b_t(&q, 11, it->reported_by);
  b_i(&q, 12, it->received_us);
  return gq_exec(&q, id_out, MG_EEXISTS, "inbox add");
}

typedef struct inbox_cb {
  int (*cb)(void *ud, const mg_store_inbox_item *it);
  void *ud;
} inbox_cb;

static int inbox_each(gq *q, void *ud) {
  inbox_cb *c = ud;
  mg_store_inbox_item it;
  inbox_row(q, &it);
  return c->cb(c->ud, &it);
}

int mg_store_inbox_list(mg_store *s, int64_t university_id, int open_only,
                        int (*cb)(void *ud, const mg_store_inbox_item *it), void *ud) {
  if (!s || !cb) return MG_EINVAL;
  gq q;
  int rc = gq_open(&q, s,
                   "SELECT " INBOX_COLS " FROM case_inbox WHERE (?1 = 0 OR university_id = ?1) "
                   "AND (?2 = 0 OR case_id IS NULL) ORDER BY id");
  if (rc) return rc;
  b_i(&q, 1, university_id);
  b_i(&q, 2, open_only ? 1 : 0);
  inbox_cb c = {cb, ud};
  return gq_rows(&q, inbox_each, &c, "inbox list");
}

int mg_store_inbox_of_case(mg_store *s, int64_t case_id,
                           int (*cb)(void *ud, const mg_store_inbox_item *it), void *ud) {
  if (!s || !cb) return MG_EINVAL;
  gq q;
  int rc = gq_open(&q, s, "SELECT " INBOX_COLS " FROM case_inbox WHERE case_id = ?1 ORDER BY id");
  if (rc) return rc;
  b_i(&q, 1, case_id);
  inbox_cb c = {cb, ud};
  return gq_rows(&q, inbox_each, &c, "inbox of case");
}

typedef struct inbox_one {
  mg_store_inbox_item *out;
  char **evidence;
  int found;
  int rc;
} inbox_one;

static int inbox_get_row(gq *q, void *ud) {
  inbox_one *o = ud;
  inbox_row(q, o->out);
  o->found = 1;
  if (o->evidence) {
    *o->evidence = dup_text(o->out->evidence);
    if (!*o->evidence) return MG_ENOMEM;
  }
  o->out->evidence = NULL; /* the row's text dies with the statement */
  return MG_OK;
}

int mg_store_inbox_get(mg_store *s, int64_t id, mg_store_inbox_item *out, char **evidence) {
  if (!s || !out) return MG_EINVAL;
  if (evidence) *evidence = NULL;
  gq q;
  int rc = gq_open(&q, s, "SELECT " INBOX_COLS " FROM case_inbox WHERE id = ?1");
  if (rc) return rc;
  b_i(&q, 1, id);
  inbox_one o = {out, evidence, 0, 0};
  rc = gq_rows(&q, inbox_get_row, &o, "inbox get");
  if (rc) return rc;
  return o.found ? MG_OK : MG_ENOTFOUND;
}

int mg_store_inbox_by_finding(mg_store *s, int64_t finding_id, mg_store_inbox_item *out,
                              char **evidence) {
  if (!s || !out || finding_id <= 0) return MG_EINVAL;
  if (evidence) *evidence = NULL;
  gq q;
  int rc = gq_open(&q, s, "SELECT " INBOX_COLS " FROM case_inbox WHERE finding_id = ?1");
  if (rc) return rc;
  b_i(&q, 1, finding_id);
  inbox_one o = {out, evidence, 0, 0};
  rc = gq_rows(&q, inbox_get_row, &o, "inbox by finding");
  if (rc) return rc;
  return o.found ? MG_OK : MG_ENOTFOUND;
}

int mg_store_inbox_update(mg_store *s, int64_t id, const char *summary, const char *evidence) {
  if (!s || id <= 0 || !summary || !evidence) return MG_EINVAL;
  gq q;
  int rc = gq_open(&q, s, "UPDATE case_inbox SET summary = ?2, evidence = ?3 WHERE id = ?1");
  if (rc) return rc;
  b_i(&q, 1, id);
  b_t(&q, 2, summary);
  b_t(&q, 3, evidence);
  int r = sqlite3_step(q.st);
  if (r != SQLITE_DONE) {
    rc = gq_fail(&q, r, "inbox update");
    gq_close(&q);
    return rc;
  }
  int changed = sqlite3_changes(q.db);
  gq_close(&q);
  return changed == 1 ? MG_OK : MG_ENOTFOUND;
}

int mg_store_inbox_attach(mg_store *s, int64_t item_id, int64_t case_id) {
  if (!s || item_id <= 0 || case_id <= 0) return MG_EINVAL;
  gq q;
  int rc = gq_open(&q, s,
                   "UPDATE case_inbox SET case_id = ?2 WHERE id = ?1 AND case_id IS NULL");
  if (rc) return rc;
  b_i(&q, 1, item_id);
  b_i(&q, 2, case_id);
  int r = sqlite3_step(q.st);
  if (r != SQLITE_DONE) {
    rc = gq_fail(&q, r, "inbox attach");
    gq_close(&q);
    return rc;
  }
  int changed = sqlite3_changes(q.db); /* still under the connection lock */
  gq_close(&q);
  return changed == 1 ? MG_OK : MG_ECONFLICT;
}

/* ---- cases ------------------------------------------------------------------------------- */

#define CASE_COLS                                                                               \
  "id, university_id, platform_id, course_id, student_id, registration, type, state, "        \
  "service_involved, service_note, opened_by_user, opened_by, opened_us, investigator_user, " \
  "investigator, decided_by_user, decided_by, decided_us, decision_reason, "                   \
  "appeal_deadline_us, updated_us, version, mac"

static void case_row(gq *q, mg_store_case *c) {
  memset(c, 0, sizeof *c);
  c->id = c_i(q, 0);
  c->university_id = c_i(q, 1);
  c->platform_id = c_i(q, 2);
  c->course_id = c_i(q, 3);
  c->student_id = c_i(q, 4);
  c_t(q, 5, c->registration, sizeof c->registration);
  c_t(q, 6, c->type, sizeof c->type);
  c_t(q, 7, c->state, sizeof c->state);
  c->service_involved = (int)c_i(q, 8);
  c_t(q, 9, c->service_note, sizeof c->service_note);
  c->opened_by_user = c_i(q, 10);
  c_t(q, 11, c->opened_by, sizeof c->opened_by);
  c->opened_us = c_i(q, 12);
  c->investigator_user = c_i(q, 13);
  c_t(q, 14, c->investigator, sizeof c->investigator);
  c->decided_by_user = c_i(q, 15);
  c_t(q, 16, c->decided_by, sizeof c->decided_by);
  c->decided_us = c_i(q, 17);
  c_t(q, 18, c->decision_reason, sizeof c->decision_reason);
  c->appeal_deadline_us = c_i(q, 19);
  c->updated_us = c_i(q, 20);
  c->version = c_i(q, 21);
  c_t(q, 22, c->mac, sizeof c->mac);
}

int mg_store_case_insert(mg_store *s, const mg_store_case *c, int64_t *id_out) {
  if (!s || !c) return MG_EINVAL;
  gq q;
  int rc = gq_open(&q, s,
                   "INSERT INTO cases (university_id, platform_id, course_id, student_id, "
                   "registration, type, state, service_involved, service_note, opened_by_user, "
                   "opened_by, opened_us, updated_us, version, mac) VALUES (?1, ?2, ?3, ?4, ?5, "
                   "?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, 1, ?14)");
  if (rc) return rc;
  b_i(&q, 1, c->university_id);
  b_i(&q, 2, c->platform_id);
  b_i(&q, 3, c->course_id);
  b_i(&q, 4, c->student_id);
  b_t(&q, 5, c->registration);
  b_t(&q, 6, c->type);
  b_t(&q, 7, c->state);
  b_i(&q, 8, c->service_involved ? 1 : 0);
  b_t(&q, 9, c->service_note);
  b_i(&q, 10, c->opened_by_user);
  b_t(&q, 11, c->opened_by);
  b_i(&q, 12, c->opened_us);
  b_i(&q, 13, c->updated_us ? c->updated_us : c->opened_us);
  b_t(&q, 14, c->mac);
  return gq_exec(&q, id_out, MG_EEXISTS, "case insert");
}

typedef struct case_one {
  mg_store_case *out;
  int found;
} case_one;

static int case_get_row(gq *q, void *ud) {
  case_one *o = ud;
  case_row(q, o->out);
  o->found = 1;
  return MG_OK;
}

int mg_store_case_get(mg_store *s, int64_t id, mg_store_case *out) {
  if (!s || !out) return MG_EINVAL;
  gq q;
  int rc = gq_open(&q, s, "SELECT " CASE_COLS " FROM cases WHERE id = ?1");
  if (rc) return rc;
  b_i(&q, 1, id);
  case_one o = {out, 0};
  rc = gq_rows(&q, case_get_row, &o, "case get");
  if (rc) return rc;
  return o.found ? MG_OK : MG_ENOTFOUND;
}

int mg_store_case_update(mg_store *s, mg_store_case *c) {
  if (!s || !c || c->id <= 0) return MG_EINVAL;
  gq q;
  int rc = gq_open(&q, s,
                   "UPDATE cases SET state = ?3, service_involved = ?4, service_note = ?5, "
                   "investigator_user = ?6, investigator = ?7, decided_by_user = ?8, "
                   "decided_by = ?9, decided_us = ?10, decision_reason = ?11, "
                   "appeal_deadline_us = ?12, updated_us = ?13, mac = ?14, version = version + 1 "
                   "WHERE id = ?1 AND version = ?2");
  if (rc) return rc;
  b_i(&q, 1, c->id);
  b_i(&q, 2, c->version);
  b_t(&q, 3, c->state);
  b_i(&q, 4, c->service_involved ? 1 : 0);
  b_t(&q, 5, c->service_note);
  b_i(&q, 6, c->investigator_user);
  b_t(&q, 7, c->investigator);
  b_i(&q, 8, c->decided_by_user);
  b_t(&q, 9, c->decided_by);
  b_i(&q, 10, c->decided_us);
  b_t(&q, 11, c->decision_reason);
  b_i(&q, 12, c->appeal_deadline_us);
  b_i(&q, 13, c->updated_us);
  b_t(&q, 14, c->mac);
  int r = sqlite3_step(q.st);
  if (r != SQLITE_DONE) {
    rc = (r & 0xff) == SQLITE_CONSTRAINT ? MG_EINVAL : gq_fail(&q, r, "case update");
    gq_close(&q);
    return rc;
  }
  int changed = sqlite3_changes(q.db); /* still under the connection lock */
  gq_close(&q);
  if (changed != 1) return MG_ECONFLICT;
  c->version++;
  return MG_OK;
}

typedef struct case_cb {
  int (*cb)(void *ud, const mg_store_case *c);
  void *ud;
} case_cb;

static int case_each(gq *q, void *ud) {
  case_cb *c = ud;
  mg_store_case row;
  case_row(q, &row);
  return c->cb(c->ud, &row);
}

int mg_store_case_list(mg_store *s, const mg_store_case_filter *f,
                       int (*cb)(void *ud, const mg_store_case *c), void *ud) {
  if (!s || !f || !cb) return MG_EINVAL;
  gq q;
  int rc = gq_open(&q, s,
                   "SELECT " CASE_COLS " FROM cases WHERE (?1 = 0 OR university_id = ?1) "
                   "AND (?2 = 0 OR student_id = ?2) AND (?3 IS NULL OR state = ?3) "
                   "AND (?4 IS NULL OR registration = ?4) ORDER BY id");
  if (rc) return rc;
  b_i(&q, 1, f->university_id);
  b_i(&q, 2, f->student_id);
  if (f->state) b_t(&q, 3, f->state);
  if (f->registration) b_t(&q, 4, f->registration);
  case_cb c = {cb, ud};
  return gq_rows(&q, case_each, &c, "case list");
}

int mg_store_case_event_add(mg_store *s, const mg_store_case_event *e) {
  if (!s || !e) return MG_EINVAL;
  gq q;
  int rc = gq_open(&q, s,
                   "INSERT INTO case_events (case_id, at_us, actor_user, actor, action, "
                   "from_state, to_state, note) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
  if (rc) return rc;
  b_i(&q, 1, e->case_id);
  b_i(&q, 2, e->at_us);
  b_i(&q, 3, e->actor_user);
  b_t(&q, 4, e->actor);
  b_t(&q, 5, e->action);
  b_t(&q, 6, e->from_state);
  b_t(&q, 7, e->to_state);
  b_t(&q, 8, e->note);
  return gq_exec(&q, NULL, MG_EEXISTS, "case event add");
}

typedef struct event_cb {
  int (*cb)(void *ud, const mg_store_case_event *e);
  void *ud;
} event_cb;

static int event_each(gq *q, void *ud) {
  event_cb *c = ud;
  mg_store_case_event e;
  memset(&e, 0, sizeof e);
  e.id = c_i(q, 0);
  e.case_id = c_i(q, 1);
  e.at_us = c_i(q, 2);
  e.actor_user = c_i(q, 3);
  c_t(q, 4, e.actor, sizeof e.actor);
  c_t(q, 5, e.action, sizeof e.action);
  c_t(q, 6, e.from_state, sizeof e.from_state);
  c_t(q, 7, e.to_state, sizeof e.to_state);
  c_t(q, 8, e.note, sizeof e.note);
  return c->cb(c->ud, &e);
}

int mg_store_case_events(mg_store *s, int64_t case_id,
                         int (*cb)(void *ud, const mg_store_case_event *e), void *ud) {
  if (!s || !cb) return MG_EINVAL;
  gq q;
  int rc = gq_open(&q, s,
                   "SELECT id, case_id, at_us, actor_user, actor, action, from_state, to_state, "
                   "note FROM case_events WHERE case_id = ?1 ORDER BY id");
  if (rc) return rc;
  b_i(&q, 1, case_id);
  event_cb c = {cb, ud};
  return gq_rows(&q, event_each, &c, "case events");
}

int mg_store_case_response_add(mg_store *s, const mg_store_case_response *r, int64_t *id_out) {
  if (!s || !r) return MG_EINVAL;
  gq q;
  int rc = gq_open(&q, s,
                   "INSERT INTO case_responses (case_id, author_user, author, at_us, text) "
                   "VALUES (?1, ?2, ?3, ?4, ?5)");
  if (rc) return rc;
  b_i(&q, 1, r->case_id);
  b_i(&q, 2, r->author_user);
  b_t(&q, 3, r->author);
  b_i(&q, 4, r->at_us);
  b_t(&q, 5, r->text);
  return gq_exec(&q, id_out, MG_EEXISTS, "case response add");
}

typedef struct resp_cb {
  int (*cb)(void *ud, const mg_store_case_response *r);
  void *ud;
} resp_cb;

static int resp_each(gq *q, void *ud) {
  resp_cb *c = ud;
  mg_store_case_response r;
  memset(&r, 0, sizeof r);
  r.id = c_i(q, 0);
  r.case_id = c_i(q, 1);
  r.author_user = c_i(q, 2);
  c_t(q, 3, r.author, sizeof r.author);
  r.at_us = c_i(q, 4);
  c_t(q, 5, r.text, sizeof r.text);
  return c->cb(c->ud, &r);
}

int mg_store_case_responses(mg_store *s, int64_t case_id,
                            int (*cb)(void *ud, const mg_store_case_response *r), void *ud) {
  if (!s || !cb) return MG_EINVAL;
  gq q;
  int rc = gq_open(&q, s,
                   "SELECT id, case_id, author_user, author, at_us, text FROM case_responses "
                   "WHERE case_id = ?1 ORDER BY id");
  if (rc) return rc;
  b_i(&q, 1, case_id);
  resp_cb c = {cb, ud};
  return gq_rows(&q, resp_each, &c, "case responses");
}

/* ---- sanctions and the student file -------------------------------------------------------- */

int mg_store_sanction_add(mg_store *s, const mg_store_sanction *x, int64_t *id_out) {
  if (!s || !x) return MG_EINVAL;
  gq q;
  int rc = gq_open(&q, s,
                   "INSERT INTO case_sanctions (case_id, student_id, kind, reason, "
                   "decided_by_user, decided_by, decided_us) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  if (rc) return rc;
  b_i(&q, 1, x->case_id);
  b_i(&q, 2, x->student_id);
  b_t(&q, 3, x->kind);
  b_t(&q, 4, x->reason);
  b_i(&q, 5, x->decided_by_user);
  b_t(&q, 6, x->decided_by);
  b_i(&q, 7, x->decided_us);
  return gq_exec(&q, id_out, MG_EEXISTS, "sanction add");
}

typedef struct sanction_cb {
  int (*cb)(void *ud, const mg_store_sanction *x);
  void *ud;
} sanction_cb;

static int sanction_each(gq *q, void *ud) {
  sanction_cb *c = ud;
  mg_store_sanction x;
  memset(&x, 0, sizeof x);
  x.id = c_i(q, 0);
  x.case_id = c_i(q, 1);
  x.student_id = c_i(q, 2);
  c_t(q, 3, x.kind, sizeof x.kind);
  c_t(q, 4, x.reason, sizeof x.reason);
  x.decided_by_user = c_i(q, 5);
  c_t(q, 6, x.decided_by, sizeof x.decided_by);
  x.decided_us = c_i(q, 7);
  x.revoked_us = c_i(q, 8);
  return c->cb(c->ud, &x);
}

int mg_store_sanction_list(mg_store *s, int64_t case_id, int64_t student_id,
                           int (*cb)(void *ud, const mg_store_sanction *x), void *ud) {
  if (!s || !cb || (case_id <= 0 && student_id <= 0)) return MG_EINVAL;
  gq q;
  int rc = gq_open(&q, s,
                   "SELECT id, case_id, student_id, kind, reason, decided_by_user, decided_by, "
                   "decided_us, revoked_us FROM case_sanctions WHERE (?1 > 0 AND case_id = ?1) "
                   "OR (?1 <= 0 AND student_id = ?2) ORDER BY id");
  if (rc) return rc;
  b_i(&q, 1, case_id);
  b_i(&q, 2, student_id);
  sanction_cb c = {cb, ud};
  return gq_rows(&q, sanction_each, &c, "sanction list");
}

int mg_store_sanction_revoke_case(mg_store *s, int64_t case_id, int64_t at_us, const char *note) {
  if (!s || case_id <= 0) return MG_EINVAL;
  gq q;
  int rc = gq_open(&q, s,
                   "UPDATE case_sanctions SET revoked_us = ?2 WHERE case_id = ?1 AND revoked_us = 0");
  if (rc) return rc;
  b_i(&q, 1, case_id);
  b_i(&q, 2, at_us);
  if ((rc = gq_exec(&q, NULL, MG_ECONFLICT, "sanction revoke"))) return rc;
  rc = gq_open(&q, s,
               "UPDATE student_file SET revoked_us = ?2, revoked_note = ?3 WHERE case_id = ?1 AND "
               "revoked_us = 0");
  if (rc) return rc;
  b_i(&q, 1, case_id);
  b_i(&q, 2, at_us);
  b_t(&q, 3, note);
  return gq_exec(&q, NULL, MG_ECONFLICT, "file revoke");
}

int mg_store_file_add(mg_store *s, const mg_store_file_entry *e, int64_t *id_out) {
  if (!s || !e) return MG_EINVAL;
  gq q;
  int rc = gq_open(&q, s,
                   "INSERT INTO student_file (student_id, university_id, case_id, sanction_id, "
                   "kind, text, recorded_us) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  if (rc) return rc;
  b_i(&q, 1, e->student_id);
  b_i(&q, 2, e->university_id);
  b_i(&q, 3, e->case_id);
  b_i(&q, 4, e->sanction_id);
  b_t(&q, 5, e->kind);
  b_t(&q, 6, e->text);
  b_i(&q, 7, e->recorded_us);
  return gq_exec(&q, id_out, MG_EEXISTS, "file add");
}

typedef struct file_cb {
  int (*cb)(void *ud, const mg_store_file_entry *e);
  void *ud;
} file_cb;

static int file_each(gq *q, void *ud) {
  file_cb *c = ud;
  mg_store_file_entry e;
  memset(&e, 0, sizeof e);
  e.id = c_i(q, 0);
  e.student_id = c_i(q, 1);
  e.university_id = c_i(q, 2);
  e.case_id = c_i(q, 3);
  e.sanction_id = c_i(q, 4);
  c_t(q, 5, e.kind, sizeof e.kind);
  c_t(q, 6, e.text, sizeof e.text);
  e.recorded_us = c_i(q, 7);
  e.revoked_us = c_i(q, 8);
  c_t(q, 9, e.revoked_note, sizeof e.revoked_note);
  return c->cb(c->ud, &e);
}

int mg_store_file_list(mg_store *s, int64_t student_id,
                       int (*cb)(void *ud, const mg_store_file_entry *e), void *ud) {
  if (!s || !cb) return MG_EINVAL;
  gq q;
  int rc = gq_open(&q, s,
                   "SELECT id, student_id, university_id, case_id, sanction_id, kind, text, "
                   "recorded_us, revoked_us, revoked_note FROM student_file WHERE student_id = ?1 "
                   "ORDER BY id");
  if (rc) return rc;
  b_i(&q, 1, student_id);
  file_cb c = {cb, ud};
  return gq_rows(&q, file_each, &c, "file list");
}

/* ---- appeals ----------------------------------------------------------------------------- */

int mg_store_appeal_add(mg_store *s, const mg_store_appeal *a, int64_t *id_out) {
  if (!s || !a) return MG_EINVAL;
  gq q;
  int rc = gq_open(&q, s,
                   "INSERT INTO case_appeals (case_id, filed_by_user, filed_by, filed_us, grounds) "
                   "VALUES (?1, ?2, ?3, ?4, ?5)");
  if (rc) return rc;
  b_i(&q, 1, a->case_id);
  b_i(&q, 2, a->filed_by_user);
  b_t(&q, 3, a->filed_by);
  b_i(&q, 4, a->filed_us);
  b_t(&q, 5, a->grounds);
  return gq_exec(&q, id_out, MG_EEXISTS, "appeal add");
}

typedef struct appeal_one {
  mg_store_appeal *out;
  int found;
} appeal_one;

static int appeal_row(gq *q, void *ud) {
  appeal_one *o = ud;
  mg_store_appeal *a = o->out;
  memset(a, 0, sizeof *a);
  a->id = c_i(q, 0);
  a->case_id = c_i(q, 1);
  a->filed_by_user = c_i(q, 2);
  c_t(q, 3, a->filed_by, sizeof a->filed_by);
  a->filed_us = c_i(q, 4);
  c_t(q, 5, a->grounds, sizeof a->grounds);
  c_t(q, 6, a->outcome, sizeof a->outcome);
  a->decided_by_user = c_i(q, 7);
  c_t(q, 8, a->decided_by, sizeof a->decided_by);
  a->decided_us = c_i(q, 9);
  c_t(q, 10, a->reason, sizeof a->reason);
  o->found = 1;
  return MG_OK;
}

int mg_store_appeal_get(mg_store *s, int64_t case_id, mg_store_appeal *out) {
  if (!s || !out) return MG_EINVAL;
  gq q;
  int rc = gq_open(&q, s,
                   "SELECT id, case_id, filed_by_user, filed_by, filed_us, grounds, outcome, "
                   "decided_by_user, decided_by, decided_us, reason FROM case_appeals "
                   "WHERE case_id = ?1");
  if (rc) return rc;
  b_i(&q, 1, case_id);
  appeal_one o = {out, 0};
  rc = gq_rows(&q, appeal_row, &o, "appeal get");
  if (rc) return rc;
  return o.found ? MG_OK : MG_ENOTFOUND;
}

int mg_store_appeal_decide(mg_store *s, const mg_store_appeal *a) {
  if (!s || !a) return MG_EINVAL;
  gq q;
  int rc = gq_open(&q, s,
                   "UPDATE case_appeals SET outcome = ?2, decided_by_user = ?3, decided_by = ?4, "
                   "decided_us = ?5, reason = ?6 WHERE case_id = ?1 AND outcome = ''");
  if (rc) return rc;
  b_i(&q, 1, a->case_id);
  b_t(&q, 2, a->outcome);
  b_i(&q, 3, a->decided_by_user);
  b_t(&q, 4, a->decided_by);
  b_i(&q, 5, a->decided_us);
  b_t(&q, 6, a->reason);
  int r = sqlite3_step(q.st);
  if (r != SQLITE_DONE) {
    rc = (r & 0xff) == SQLITE_CONSTRAINT ? MG_EINVAL : gq_fail(&q, r, "appeal decide");
    gq_close(&q);
    return rc;
  }
  int changed = sqlite3_changes(q.db);
  gq_close(&q);
  return changed == 1 ? MG_OK : MG_ECONFLICT;
}

/* ---- credit decisions -------------------------------------------------------------------- */

int mg_store_credit_put(mg_store *s, const mg_store_credit_decision *d, int64_t *id_out) {
  if (!s || !d || !d->reasons) return MG_EINVAL;
  gq q;
  int rc = gq_open(&q, s,
                   "INSERT INTO credit_decisions (registration, university_id, student_id, "
                   "offering_id, course_id, eligible, credits, grade, reasons, rules_version, "
                   "decided_by, decided_us, mac) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
                   "?11, ?12, ?13)");
  if (rc) return rc;
  b_t(&q, 1, d->registration);
  b_i(&q, 2, d->university_id);
  b_i(&q, 3, d->student_id);
  b_i(&q, 4, d->offering_id);
  b_i(&q, 5, d->course_id);
  b_i(&q, 6, d->eligible ? 1 : 0);
  b_d(&q, 7, d->credits);
  if (d->has_grade) b_d(&q, 8, d->grade);
  b_t(&q, 9, d->reasons);
  b_t(&q, 10, d->rules_version);
  b_t(&q, 11, d->decided_by);
  b_i(&q, 12, d->decided_us);
  b_t(&q, 13, d->mac);
  return gq_exec(&q, id_out, MG_EEXISTS, "credit put");
}

#define CREDIT_COLS                                                                           \
  "id, registration, university_id, student_id, offering_id, course_id, eligible, credits, " \
  "grade, reasons, rules_version, decided_by, decided_us, mac"

static void credit_row(gq *q, mg_store_credit_decision *d) {
  memset(d, 0, sizeof *d);
  d->id = c_i(q, 0);
  c_t(q, 1, d->registration, sizeof d->registration);
  d->university_id = c_i(q, 2);
  d->student_id = c_i(q, 3);
  d->offering_id = c_i(q, 4);
  d->course_id = c_i(q, 5);
  d->eligible = (int)c_i(q, 6);
  d->credits = sqlite3_column_double(q->st, 7);
  d->has_grade = sqlite3_column_type(q->st, 8) != SQLITE_NULL;
  d->grade = d->has_grade ? sqlite3_column_double(q->st, 8) : 0;
  d->reasons = c_p(q, 9);
  c_t(q, 10, d->rules_version, sizeof d->rules_version);
  c_t(q, 11, d->decided_by, sizeof d->decided_by);
  d->decided_us = c_i(q, 12);
  c_t(q, 13, d->mac, sizeof d->mac);
}

typedef struct credit_cb {
  int (*cb)(void *ud, const mg_store_credit_decision *d);
  void *ud;
  char **reasons;
  int found;
  mg_store_credit_decision *out;
} credit_cb;

static int credit_each(gq *q, void *ud) {
  credit_cb *c = ud;
  mg_store_credit_decision d;
  credit_row(q, &d);
  return c->cb(c->ud, &d);
}

int mg_store_credit_list(mg_store *s, int64_t university_id,
                         int (*cb)(void *ud, const mg_store_credit_decision *d), void *ud) {
  if (!s || !cb) return MG_EINVAL;
  gq q;
  int rc = gq_open(&q, s,
                   "SELECT " CREDIT_COLS " FROM credit_decisions d WHERE (?1 = 0 OR "
                   "university_id = ?1) AND id = (SELECT max(id) FROM credit_decisions e WHERE "
                   "e.registration = d.registration) ORDER BY registration");
  if (rc) return rc;
  b_i(&q, 1, university_id);
  credit_cb c = {cb, ud, NULL, 0, NULL};
  return gq_rows(&q, credit_each, &c, "credit list");
}

static int credit_one_row(gq *q, void *ud) {
  credit_cb *c = ud;
  credit_row(q, c->out);
  c->found = 1;
  if (c->reasons) {
    *c->reasons = dup_text(c->out->reasons);
    if (!*c->reasons) return MG_ENOMEM;
  }
  c->out->reasons = NULL;
  return MG_OK;
}

int mg_store_credit_latest(mg_store *s, const char *registration, mg_store_credit_decision *out,
                           char **reasons) {
  if (!s || !registration || !out) return MG_EINVAL;
  if (reasons) *reasons = NULL;
  gq q;
  int rc = gq_open(&q, s,
                   "SELECT " CREDIT_COLS " FROM credit_decisions WHERE registration = ?1 "
                   "ORDER BY id DESC LIMIT 1");
  if (rc) return rc;
  b_t(&q, 1, registration);
  credit_cb c = {NULL, NULL, reasons, 0, out};
  rc = gq_rows(&q, credit_one_row, &c, "credit latest");
  if (rc) return rc;
  return c.found ? MG_OK : MG_ENOTFOUND;
}

/* ---- notices, reports, referrals ---------------------------------------------------------- */

int mg_store_notice_add(mg_store *s, const mg_store_notice *n, int64_t *id_out) {
  if (!s || !n || !n->body) return MG_EINVAL;
  gq q;
  int rc = gq_open(&q, s,
                   "INSERT INTO notices (recipient_kind, recipient_id, kind, case_id, title, body, "
                   "created_us) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  if (rc) return rc;
  b_t(&q, 1, n->recipient_kind);
  b_i(&q, 2, n->recipient_id);
  b_t(&q, 3, n->kind);
  b_i(&q, 4, n->case_id);
  b_t(&q, 5, n->title);
  b_t(&q, 6, n->body);
  b_i(&q, 7, n->created_us);
  return gq_exec(&q, id_out, MG_EEXISTS, "notice add");
}

typedef struct notice_cb {
  int (*cb)(void *ud, const mg_store_notice *n);
  void *ud;
} notice_cb;

static int notice_each(gq *q, void *ud) {
  notice_cb *c = ud;
  mg_store_notice n;
  memset(&n, 0, sizeof n);
  n.id = c_i(q, 0);
  c_t(q, 1, n.recipient_kind, sizeof n.recipient_kind);
  n.recipient_id = c_i(q, 2);
  c_t(q, 3, n.kind, sizeof n.kind);
  n.case_id = c_i(q, 4);
  c_t(q, 5, n.title, sizeof n.title);
  n.body = c_p(q, 6);
  n.created_us = c_i(q, 7);
  n.read_us = c_i(q, 8);
  return c->cb(c->ud, &n);
}

int mg_store_notice_list(mg_store *s, const char *recipient_kind, int64_t recipient_id,
                         int (*cb)(void *ud, const mg_store_notice *n), void *ud) {
  if (!s || !recipient_kind || !cb) return MG_EINVAL;
  gq q;
  int rc = gq_open(&q, s,
                   "SELECT id, recipient_kind, recipient_id, kind, case_id, title, body, "
                   "created_us, read_us FROM notices WHERE recipient_kind = ?1 AND "
                   "(?2 = 0 OR recipient_id = ?2) ORDER BY id");
  if (rc) return rc;
  b_t(&q, 1, recipient_kind);
  b_i(&q, 2, recipient_id);
  notice_cb c = {cb, ud};
  return gq_rows(&q, notice_each, &c, "notice list");
}

typedef struct count_cb {
  int (*cb)(void *ud, const mg_store_case_count *c);
  void *ud;
} count_cb;

static int count_each(gq *q, void *ud) {
  count_cb *c = ud;
  mg_store_case_count n = {c_i(q, 0), c_i(q, 1), c_i(q, 2), c_i(q, 3), c_i(q, 4)};
  return c->cb(c->ud, &n);
}

int mg_store_case_counts(mg_store *s, int64_t from_us, int64_t to_us,
                         int (*cb)(void *ud, const mg_store_case_count *c), void *ud) {
  if (!s || !cb || to_us <= from_us) return MG_EINVAL;
  gq q;
  int rc = gq_open(
      &q, s,
      "WITH f AS (SELECT university_id AS u, platform_id AS p, count(*) AS items, "
      "  count(DISTINCT student_id) AS students FROM case_inbox "
      "  WHERE received_us >= ?1 AND received_us < ?2 GROUP BY 1, 2), "
      "v AS (SELECT university_id AS u, platform_id AS p, count(DISTINCT student_id) AS students "
      "  FROM cases WHERE decided_us >= ?1 AND decided_us < ?2 AND state IN ('verified', "
      "  'appealed', 'appeal_rejected') GROUP BY 1, 2), "
      "k AS (SELECT u, p FROM f UNION SELECT u, p FROM v) "
      "SELECT k.u, k.p, coalesce(f.items, 0), coalesce(f.students, 0), coalesce(v.students, 0) "
      "FROM k LEFT JOIN f ON f.u = k.u AND f.p = k.p LEFT JOIN v ON v.u = k.u AND v.p = k.p "
      "ORDER BY k.u, k.p");
  if (rc) return rc;
  b_i(&q, 1, from_us);
  b_i(&q, 2, to_us);
  count_cb c = {cb, ud};
  return gq_rows(&q, count_each, &c, "case counts");
}

int mg_store_report_add(mg_store *s, const mg_store_report *r, int64_t *id_out) {
  if (!s || !r || !r->body) return MG_EINVAL;
  gq q;
  int rc = gq_open(&q, s,
                   "INSERT INTO regulator_reports (period_from_us, period_to_us, province, "
                   "issued_by, issued_us, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  if (rc) return rc;
  b_i(&q, 1, r->period_from_us);
  b_i(&q, 2, r->period_to_us);
  b_t(&q, 3, r->province);
  b_t(&q, 4, r->issued_by);
  b_i(&q, 5, r->issued_us);
  b_t(&q, 6, r->body);
  return gq_exec(&q, id_out, MG_EEXISTS, "report add");
}

typedef struct report_one {
  mg_store_report *out;
  char **body;
  int found;
} report_one;

static int report_row(gq *q, void *ud) {
  report_one *o = ud;
  mg_store_report *r = o->out;
  memset(r, 0, sizeof *r);
  r->id = c_i(q, 0);
  r->period_from_us = c_i(q, 1);
  r->period_to_us = c_i(q, 2);
  c_t(q, 3, r->province, sizeof r->province);
  c_t(q, 4, r->issued_by, sizeof r->issued_by);
  r->issued_us = c_i(q, 5);
  o->found = 1;
  if (o->body) {
    *o->body = dup_text(c_p(q, 6));
    if (!*o->body) return MG_ENOMEM;
  }
  return MG_OK;
}

int mg_store_report_get(mg_store *s, int64_t id, mg_store_report *out, char **body) {
  if (!s || !out) return MG_EINVAL;
  if (body) *body = NULL;
  gq q;
  int rc = gq_open(&q, s,
                   "SELECT id, period_from_us, period_to_us, province, issued_by, issued_us, body "
                   "FROM regulator_reports WHERE id = ?1");
  if (rc) return rc;
  b_i(&q, 1, id);
  report_one o = {out, body, 0};
  rc = gq_rows(&q, report_row, &o, "report get");
  if (rc) return rc;
  return o.found ? MG_OK : MG_ENOTFOUND;
}

int mg_store_referral_add(mg_store *s, const mg_store_referral *r, int64_t *id_out) {
  if (!s || !r || !r->package) return MG_EINVAL;
  gq q;
  int rc = gq_open(&q, s,
                   "INSERT INTO referrals (case_id, department, created_by, created_us, package, "
                   "digest) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  if (rc) return rc;
  b_i(&q, 1, r->case_id);
  b_t(&q, 2, r->department);
  b_t(&q, 3, r->created_by);
  b_i(&q, 4, r->created_us);
  b_t(&q, 5, r->package);
  b_t(&q, 6, r->digest);
  return gq_exec(&q, id_out, MG_EEXISTS, "referral add");
}

typedef struct referral_cb {
  int (*cb)(void *ud, const mg_store_referral *r);
  void *ud;
} referral_cb;

static int referral_each(gq *q, void *ud) {
  referral_cb *c = ud;
  mg_store_referral r;
  memset(&r, 0, sizeof r);
  r.id = c_i(q, 0);
  r.case_id = c_i(q, 1);
  c_t(q, 2, r.department, sizeof r.department);
  c_t(q, 3, r.created_by, sizeof r.created_by);
  r.created_us = c_i(q, 4);
  r.package = c_p(q, 5);
  c_t(q, 6, r.digest, sizeof r.digest);
  return c->cb(c->ud, &r);
}

int mg_store_referral_list(mg_store *s, int64_t case_id,
                           int (*cb)(void *ud, const mg_store_referral *r), void *ud) {
  if (!s || !cb) return MG_EINVAL;
  gq q;
  int rc = gq_open(&q, s,
                   "SELECT id, case_id, department, created_by, created_us, package, digest "
                   "FROM referrals WHERE case_id = ?1 ORDER BY id");
  if (rc) return rc;
  b_i(&q, 1, case_id);
  referral_cb c = {cb, ud};
  return gq_rows(&q, referral_each, &c, "referral list");
}

