/* store/sqlite_registry.c — the SQLite implementation of store_registry.h.
 *
 * Registry traffic is small and rare except roster imports, so each call prepares its statement
 * on the governance connection; the roster import prepares its few statements once and reuses
 * them for every row. Bindings go through one helper taking a format string:
 * 'i' int64, 'n' int, 't' text (NULL binds NULL), 'b' 16-byte blob. */
#include "store/store_registry.h"

#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/log.h"
#include "store/store_int.h"

typedef int (*row_fn)(void *ud, sqlite3_stmt *st);

static int fail(sqlite3 *db, int rc, const char *what) {
  switch (rc) {
  case SQLITE_CONSTRAINT_UNIQUE:
  case SQLITE_CONSTRAINT_PRIMARYKEY: return MG_EEXISTS;
  case SQLITE_CONSTRAINT_FOREIGNKEY: return MG_ENOTFOUND;
  case SQLITE_CONSTRAINT_CHECK:
  case SQLITE_CONSTRAINT_NOTNULL: return MG_EINVAL;
  default: break;
  }
  mg_log(MG_LOG_ERROR, "store.registry.error", "op", what, "msg", sqlite3_errmsg(db), "code",
         sqlite3_errstr(rc), NULL);
  switch (rc & 0xff) {
  case SQLITE_NOMEM: return MG_ENOMEM;
  case SQLITE_BUSY:
  case SQLITE_LOCKED: return MG_EBUSY;
  case SQLITE_IOERR:
  case SQLITE_FULL: return MG_EIO;
  default: return MG_ESTORE;
  }
}

static int bindv(sqlite3_stmt *st, const char *fmt, va_list ap) {
  int rc = SQLITE_OK;
  for (int i = 1; *fmt && rc == SQLITE_OK; fmt++, i++) {
    switch (*fmt) {
    case 'i': rc = sqlite3_bind_int64(st, i, va_arg(ap, int64_t)); break;
    case 'n': rc = sqlite3_bind_int(st, i, va_arg(ap, int)); break;
    case 't': {
      const char *t = va_arg(ap, const char *);
      rc = t ? sqlite3_bind_text(st, i, t, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(st, i);
      break;
    }
    case 'b': rc = sqlite3_bind_blob(st, i, va_arg(ap, const uint8_t *), 16, SQLITE_TRANSIENT); break;
    default: return SQLITE_MISUSE;
    }
  }
  return rc;
}

/* Prepares sql, binds the arguments, steps it through; calls fn per row (fn may be NULL).
 * *rowid / *changes (may be NULL) get the last insert rowid / rows changed. */
static int runv(mg_store *s, int64_t *rowid, int *changes, row_fn fn, void *ud, const char *sql,
                const char *fmt, va_list ap) {
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  int err = mg_store_sqlite_gov_acquire(s, &db);
  if (err) return err;
  int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
  if (rc != SQLITE_OK) {
    err = fail(db, rc, sql);
    goto out;
  }
  rc = bindv(st, fmt, ap);
  if (rc != SQLITE_OK) {
    err = fail(db, rc, sql);
    goto out;
  }
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    if (fn && (err = fn(ud, st))) goto out;
  }
  if (rc != SQLITE_DONE) {
    err = fail(db, sqlite3_extended_errcode(db), sql);
    goto out;
  }
  if (rowid) *rowid = sqlite3_last_insert_rowid(db);
  if (changes) *changes = sqlite3_changes(db);
out:
  sqlite3_finalize(st);
  mg_store_sqlite_gov_release(s);
  return err;
}

static int run(mg_store *s, int64_t *rowid, int *changes, row_fn fn, void *ud, const char *sql,
               const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int rc = runv(s, rowid, changes, fn, ud, sql, fmt, ap);
  va_end(ap);
  return rc;
}

/* Like run for a statement that must change exactly one row (else MG_ENOTFOUND). */
static int run1(mg_store *s, const char *sql, const char *fmt, ...) {
  va_list ap;
  int changes = 0;
  va_start(ap, fmt);
  int rc = runv(s, NULL, &changes, NULL, NULL, sql, fmt, ap);
  va_end(ap);
  return rc ? rc : changes == 1 ? MG_OK : MG_ENOTFOUND;
}

static void col_text(sqlite3_stmt *st, int i, char *dst, size_t size) {
  const unsigned char *t = sqlite3_column_text(st, i);
  snprintf(dst, size, "%s", t ? (const char *)t : "");
}

static char *col_dup(sqlite3_stmt *st, int i) {
  const unsigned char *t = sqlite3_column_text(st, i);
  size_t n = (size_t)sqlite3_column_bytes(st, i);
  char *d = malloc(n + 1);
  if (!d) return NULL;
  if (n) memcpy(d, t, n);
  d[n] = 0;
  return d;
}

static void col_uuid(sqlite3_stmt *st, int i, uint8_t out[16]) {
  const void *b = sqlite3_column_blob(st, i);
  if (b && sqlite3_column_bytes(st, i) == 16) memcpy(out, b, 16);
  else memset(out, 0, 16);
}

/* Generic "one row into a struct" reader: the row function fills *dst and sets found. */
typedef struct one {
  void *dst;
  int found;
  void (*read)(sqlite3_stmt *st, void *dst);
} one;

static int read_one(void *ud, sqlite3_stmt *st) {
  one *o = ud;
  o->read(st, o->dst);
  o->found = 1;
  return MG_OK;
}

/* List walker: reads a row into a stack struct and calls the user callback through a trampoline
 * of its exact type (the callback is kept as a generic function pointer and cast back). */
typedef struct walk walk;
struct walk {
  void (*read)(sqlite3_stmt *st, void *dst);
  int (*call)(walk *w, const void *row);
  void (*fp)(void);
  void *ud;
};

#define TRAMPOLINE(name, T)                                             \
  static int name(walk *w, const void *row) {                           \
    return ((int (*)(void *, const T *))w->fp)(w->ud, (const T *)row);  \
  }
TRAMPOLINE(call_org, mg_reg_org)
TRAMPOLINE(call_platform, mg_reg_platform)
TRAMPOLINE(call_status, mg_reg_status_entry)
TRAMPOLINE(call_switch, mg_reg_switch)
TRAMPOLINE(call_rec, mg_reg_recommendation)
TRAMPOLINE(call_course, mg_reg_course)
TRAMPOLINE(call_review, mg_reg_review)
TRAMPOLINE(call_offering, mg_reg_offering)
TRAMPOLINE(call_enrolment, mg_reg_enrolment)
TRAMPOLINE(call_pledge, mg_reg_pledge)
TRAMPOLINE(call_exam, mg_reg_exam)
TRAMPOLINE(call_result, mg_reg_result)

static int read_walk(void *ud, sqlite3_stmt *st) {
  walk *w = ud;
  union {
    mg_reg_org o;
    mg_reg_platform p;
    mg_reg_status_entry e;
    mg_reg_switch sw;
    mg_reg_recommendation r;
    mg_reg_course c;
    mg_reg_review rv;
    mg_reg_offering of;
    mg_reg_enrolment en;
    mg_reg_pledge pl;
    mg_reg_exam ex;
    mg_reg_result rs;
  } row;
  memset(&row, 0, sizeof row);
  w->read(st, &row);
  return w->call(w, &row);
}

#define GET(s, reader, dst, sql, ...)                                         \
  do {                                                                        \
    one o_ = {(dst), 0, (reader)};                                            \
    memset((dst), 0, sizeof *(dst));                                          \
    int rc_ = run((s), NULL, NULL, read_one, &o_, (sql), __VA_ARGS__);        \
    return rc_ ? rc_ : o_.found ? MG_OK : MG_ENOTFOUND;                       \
  } while (0)

#define WALK(s, reader, tramp, cbfn, udp, sql, ...)                                     \
  do {                                                                                  \
    if (!(cbfn)) return MG_EINVAL;                                                      \
    walk w_ = {(reader), (tramp), (void (*)(void))(cbfn), (udp)};                       \
    return run((s), NULL, NULL, read_walk, &w_, (sql), __VA_ARGS__);                    \
  } while (0)

/* ---- organisations ---------------------------------------------------------------------- */

#define ORG_COLS "o.id, o.kind, o.code, o.name, o.province, coalesce(o.home_page, ''), o.created_us"

static void read_org_at(sqlite3_stmt *st, int b, mg_reg_org *o) {
  o->id = sqlite3_column_int64(st, b);
  col_text(st, b + 1, o->kind, sizeof o->kind);
  col_text(st, b + 2, o->code, sizeof o->code);
  col_text(st, b + 3, o->name, sizeof o->name);
  col_text(st, b + 4, o->province, sizeof o->province);
  col_text(st, b + 5, o->home_page, sizeof o->home_page);
  o->created_us = sqlite3_column_int64(st, b + 6);
}
static void read_org(sqlite3_stmt *st, void *dst) { read_org_at(st, 0, dst); }

static const char *nz(const char *s) { return s && *s ? s : NULL; }

int mg_store_reg_org_create(mg_store *s, const mg_reg_org *o, int64_t *out_id) {
  return run(s, out_id, NULL, NULL, NULL,
             "INSERT INTO reg_orgs (kind, code, name, province, home_page, created_us) "
             "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
             "ttttti", o->kind, o->code, o->name, o->province, nz(o->home_page), o->created_us);
}

int mg_store_reg_org_get(mg_store *s, int64_t id, mg_reg_org *out) {
  GET(s, read_org, out, "SELECT " ORG_COLS " FROM reg_orgs o WHERE o.id = ?1", "i", id);
}

int mg_store_reg_org_by_home_page(mg_store *s, const char *home_page, mg_reg_org *out) {
  GET(s, read_org, out, "SELECT " ORG_COLS " FROM reg_orgs o WHERE o.home_page = ?1", "t",
      home_page);
}

int mg_store_reg_org_update(mg_store *s, const mg_reg_org *o) {
  return run1(s, "UPDATE reg_orgs SET name = ?2, province = ?3, home_page = ?4 WHERE id = ?1",
              "ittt", o->id, o->name, o->province, nz(o->home_page));
}

int mg_store_reg_org_list(mg_store *s, const char *kind, const char *province,
                          int (*cb)(void *ud, const mg_reg_org *o), void *ud) {
  WALK(s, read_org, call_org, cb, ud,
       "SELECT " ORG_COLS " FROM reg_orgs o WHERE (?1 IS NULL OR o.kind = ?1) "
       "AND (?2 IS NULL OR o.province = ?2) ORDER BY o.id",
       "tt", kind, province);
}

/* ---- platforms -------------------------------------------------------------------------- */

#define PLAT_COLS                                                                          \
  ORG_COLS ", p.mlps_level, p.filing_no, p.review_due, p.filed_us, p.status, p.status_reason, " \
           "p.status_by, p.status_us FROM reg_platforms p JOIN reg_orgs o ON o.id = p.org_id"

static void read_platform(sqlite3_stmt *st, void *dst) {
  mg_reg_platform *p = dst;
  read_org_at(st, 0, &p->org);
  p->mlps_level = sqlite3_column_int(st, 7);
  col_text(st, 8, p->filing_no, sizeof p->filing_no);
  col_text(st, 9, p->review_due, sizeof p->review_due);
  p->filed_us = sqlite3_column_int64(st, 10);
  col_text(st, 11, p->status, sizeof p->status);
  col_text(st, 12, p->status_reason, sizeof p->status_reason);
  col_text(st, 13, p->status_by, sizeof p->status_by);
  p->status_us = sqlite3_column_int64(st, 14);
}

/* Runs f inside a savepoint so that a multi-statement change is atomic with or without an
 * enclosing transaction. */
static int in_savepoint(mg_store *s, int (*f)(mg_store *s, void *ud), void *ud) {
  /* hold the (recursive) lock throughout, so no other thread's statement lands inside */
  sqlite3 *db = NULL;
  int rc = mg_store_sqlite_gov_acquire(s, &db);
  if (rc) return rc;
  rc = run(s, NULL, NULL, NULL, NULL, "SAVEPOINT reg", "");
  if (rc) {
    mg_store_sqlite_gov_release(s);
    return rc;
  }
  rc = f(s, ud);
  if (rc) run(s, NULL, NULL, NULL, NULL, "ROLLBACK TO reg", "");
  int r2 = run(s, NULL, NULL, NULL, NULL, "RELEASE reg", "");
  mg_store_sqlite_gov_release(s);
  return rc ? rc : r2;
}

typedef struct plat_new {
  const mg_reg_org *o;
  int64_t id;
} plat_new;

static int platform_create_f(mg_store *s, void *ud) {
  plat_new *pn = ud;
  int rc = mg_store_reg_org_create(s, pn->o, &pn->id);
  if (rc) return rc;
  return run(s, NULL, NULL, NULL, NULL, "INSERT INTO reg_platforms (org_id) VALUES (?1)", "i",
             pn->id);
}

int mg_store_reg_platform_create(mg_store *s, const mg_reg_org *o, int64_t *out_id) {
  plat_new pn = {o, 0};
  int rc = in_savepoint(s, platform_create_f, &pn);
  if (!rc && out_id) *out_id = pn.id;
  return rc;
}

int mg_store_reg_platform_get(mg_store *s, int64_t id, mg_reg_platform *out) {
  GET(s, read_platform, out, "SELECT " PLAT_COLS " WHERE p.org_id = ?1", "i", id);
}

int mg_store_reg_platform_list(mg_store *s, const char *status,
                               int (*cb)(void *ud, const mg_reg_platform *p), void *ud) {
  WALK(s, read_platform, call_platform, cb, ud,
       "SELECT " PLAT_COLS " WHERE (?1 IS NULL OR p.status = ?1) ORDER BY o.id", "t", status);
}

int mg_store_reg_platform_set_filing(mg_store *s, int64_t id, int mlps_level, const char *filing_no,
                                     const char *review_due, int64_t now_us) {
  return run1(s,
              "UPDATE reg_platforms SET mlps_level = ?2, filing_no = ?3, review_due = ?4, "
              "filed_us = ?5 WHERE org_id = ?1",
              "intti", id, mlps_level, filing_no, review_due, now_us);
}

typedef struct status_set {
  int64_t id;
  const char *status, *reason, *by;
  int64_t now;
} status_set;

static int status_set_f(mg_store *s, void *ud) {
  status_set *a = ud;
  int rc = run1(s,
                "UPDATE reg_platforms SET status = ?2, status_reason = ?3, status_by = ?4, "
                "status_us = ?5 WHERE org_id = ?1",
                "ittti", a->id, a->status, a->reason, a->by, a->now);
  if (rc) return rc;
  return run(s, NULL, NULL, NULL, NULL,
             "INSERT INTO reg_platform_status (platform_id, status, reason, decided_by, "
             "decided_us) VALUES (?1, ?2, ?3, ?4, ?5)",
             "ittti", a->id, a->status, a->reason, a->by, a->now);
}

int mg_store_reg_platform_set_status(mg_store *s, int64_t id, const char *status,
                                     const char *reason, const char *by, int64_t now_us) {
  status_set a = {id, status, reason, by, now_us};
  return in_savepoint(s, status_set_f, &a);
}

static void read_status(sqlite3_stmt *st, void *dst) {
  mg_reg_status_entry *e = dst;
  e->id = sqlite3_column_int64(st, 0);
  col_text(st, 1, e->status, sizeof e->status);
  col_text(st, 2, e->reason, sizeof e->reason);
  col_text(st, 3, e->decided_by, sizeof e->decided_by);
  e->decided_us = sqlite3_column_int64(st, 4);
}

int mg_store_reg_platform_history(mg_store *s, int64_t id,
                                  int (*cb)(void *ud, const mg_reg_status_entry *e), void *ud) {
  WALK(s, read_status, call_status, cb, ud,
       "SELECT id, status, reason, decided_by, decided_us FROM reg_platform_status "
       "WHERE platform_id = ?1 ORDER BY id",
       "i", id);
}

/* ---- intake switches -------------------------------------------------------------------- */

#define SW_COLS                                                                             \
  "id, platform_id, scope, province, university_id, reason, stopped_by, stopped_us, "      \
  "lifted_by, lifted_us FROM reg_switches"

static void read_switch(sqlite3_stmt *st, void *dst) {
  mg_reg_switch *w = dst;
  w->id = sqlite3_column_int64(st, 0);
  w->platform_id = sqlite3_column_int64(st, 1);
  col_text(st, 2, w->scope, sizeof w->scope);
  col_text(st, 3, w->province, sizeof w->province);
  w->university_id = sqlite3_column_int64(st, 4);
  col_text(st, 5, w->reason, sizeof w->reason);
  col_text(st, 6, w->stopped_by, sizeof w->stopped_by);
  w->stopped_us = sqlite3_column_int64(st, 7);
  col_text(st, 8, w->lifted_by, sizeof w->lifted_by);
  w->lifted_us = sqlite3_column_int64(st, 9);
}

int mg_store_reg_switch_add(mg_store *s, const mg_reg_switch *w, int64_t *out_id) {
  return run(s, out_id, NULL, NULL, NULL,
             "INSERT INTO reg_switches (platform_id, scope, province, university_id, reason, "
             "stopped_by, stopped_us) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
             "ittitti", w->platform_id, w->scope, w->province, w->university_id, w->reason,
             w->stopped_by, w->stopped_us);
}

int mg_store_reg_switch_get(mg_store *s, int64_t id, mg_reg_switch *out) {
  GET(s, read_switch, out, "SELECT " SW_COLS " WHERE id = ?1", "i", id);
}

int mg_store_reg_switch_lift(mg_store *s, int64_t id, const char *by, int64_t now_us) {
  return run1(s,
              "UPDATE reg_switches SET lifted_by = ?2, lifted_us = ?3 "
              "WHERE id = ?1 AND lifted_us = 0",
              "iti", id, by, now_us);
}

int mg_store_reg_switch_list(mg_store *s, int64_t platform_id, int active_only,
                             int (*cb)(void *ud, const mg_reg_switch *w), void *ud) {
  WALK(s, read_switch, call_switch, cb, ud,
       "SELECT " SW_COLS " WHERE (?1 = 0 OR platform_id = ?1) AND (?2 = 0 OR lifted_us = 0) "
       "ORDER BY id DESC",
       "in", platform_id, active_only);
}

/* ---- recommendations and courses -------------------------------------------------------- */

#define REC_COLS                                                                            \
  "id, university_id, platform_id, title, lead_teacher, letter_no, recommended_by, "       \
  "recommended_us, course_id FROM reg_recommendations"

static void read_rec(sqlite3_stmt *st, void *dst) {
  mg_reg_recommendation *r = dst;
  r->id = sqlite3_column_int64(st, 0);
  r->university_id = sqlite3_column_int64(st, 1);
  r->platform_id = sqlite3_column_int64(st, 2);
  col_text(st, 3, r->title, sizeof r->title);
  col_text(st, 4, r->lead_teacher, sizeof r->lead_teacher);
  col_text(st, 5, r->letter_no, sizeof r->letter_no);
  col_text(st, 6, r->recommended_by, sizeof r->recommended_by);
  r->recommended_us = sqlite3_column_int64(st, 7);
  r->course_id = sqlite3_column_int64(st, 8);
}

int mg_store_reg_rec_create(mg_store *s, const mg_reg_recommendation *r, int64_t *out_id) {
  return run(s, out_id, NULL, NULL, NULL,
             "INSERT INTO reg_recommendations (university_id, platform_id, title, lead_teacher, "
             "letter_no, recommended_by, recommended_us) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
             "iitttti", r->university_id, r->platform_id, r->title, r->lead_teacher, r->letter_no,
             r->recommended_by, r->recommended_us);
}

int mg_store_reg_rec_get(mg_store *s, int64_t id, mg_reg_recommendation *out) {
  GET(s, read_rec, out, "SELECT " REC_COLS " WHERE id = ?1", "i", id);
}

int mg_store_reg_rec_list(mg_store *s, int64_t university_id, int64_t platform_id,
                          int (*cb)(void *ud, const mg_reg_recommendation *r), void *ud) {
  WALK(s, read_rec, call_rec, cb, ud,
       "SELECT " REC_COLS " WHERE (?1 = 0 OR university_id = ?1) AND (?2 = 0 OR platform_id = ?2) "
       "ORDER BY id",
       "ii", university_id, platform_id);
}

#define COURSE_COLS                                                                          \
  "id, platform_id, university_id, recommendation_id, code, title, iri, lead_teacher, "     \
  "content_updated, status, submitted_by, submitted_us FROM reg_courses"

static void read_course(sqlite3_stmt *st, void *dst) {
  mg_reg_course *c = dst;
  c->id = sqlite3_column_int64(st, 0);
  c->platform_id = sqlite3_column_int64(st, 1);
  c->university_id = sqlite3_column_int64(st, 2);
  c->recommendation_id = sqlite3_column_int64(st, 3);
  col_text(st, 4, c->code, sizeof c->code);
  col_text(st, 5, c->title, sizeof c->title);
  col_text(st, 6, c->iri, sizeof c->iri);
  col_text(st, 7, c->lead_teacher, sizeof c->lead_teacher);
  col_text(st, 8, c->content_updated, sizeof c->content_updated);
  col_text(st, 9, c->status, sizeof c->status);
  col_text(st, 10, c->submitted_by, sizeof c->submitted_by);
  c->submitted_us = sqlite3_column_int64(st, 11);
}

typedef struct course_new {
  const mg_reg_course *c;
  int64_t id;
} course_new;

static int course_create_f(mg_store *s, void *ud) {
  course_new *cn = ud;
  const mg_reg_course *c = cn->c;
  int rc = run(s, &cn->id, NULL, NULL, NULL,
               "INSERT INTO reg_courses (platform_id, university_id, recommendation_id, code, "
               "title, iri, lead_teacher, content_updated, status, submitted_by, submitted_us) "
               "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'reviewing', ?9, ?10)",
               "iiitttttti", c->platform_id, c->university_id,
               c->recommendation_id, c->code, c->title, c->iri, c->lead_teacher,
               c->content_updated, c->submitted_by, c->submitted_us);
  if (rc) return rc;
  rc = run1(s, "UPDATE reg_recommendations SET course_id = ?2 WHERE id = ?1 AND course_id = 0",
            "ii", c->recommendation_id, cn->id);
  return rc == MG_ENOTFOUND ? MG_ECONFLICT : rc;
}

int mg_store_reg_course_create(mg_store *s, const mg_reg_course *c, int64_t *out_id) {
  course_new cn = {c, 0};
  int rc = in_savepoint(s, course_create_f, &cn);
  if (!rc && out_id) *out_id = cn.id;
  return rc;
}

int mg_store_reg_course_get(mg_store *s, int64_t id, mg_reg_course *out) {
  GET(s, read_course, out, "SELECT " COURSE_COLS " WHERE id = ?1", "i", id);
}

int mg_store_reg_course_by_iri(mg_store *s, const char *iri, mg_reg_course *out) {
  GET(s, read_course, out, "SELECT " COURSE_COLS " WHERE iri = ?1", "t", iri);
}

int mg_store_reg_course_list(mg_store *s, int64_t platform_id, int64_t university_id,
                             const char *status, int (*cb)(void *ud, const mg_reg_course *c),
                             void *ud) {
  WALK(s, read_course, call_course, cb, ud,
       "SELECT " COURSE_COLS " WHERE (?1 = 0 OR platform_id = ?1) "
       "AND (?2 = 0 OR university_id = ?2) AND (?3 IS NULL OR status = ?3) ORDER BY id",
       "iit", platform_id, university_id, status);
}

int mg_store_reg_course_set_status(mg_store *s, int64_t id, const char *status) {
  return run1(s, "UPDATE reg_courses SET status = ?2 WHERE id = ?1", "it", id, status);
}

int mg_store_reg_course_set_updated(mg_store *s, int64_t id, const char *content_updated) {
  return run1(s, "UPDATE reg_courses SET content_updated = ?2 WHERE id = ?1", "it", id,
              content_updated);
}

static void read_review(sqlite3_stmt *st, void *dst) {
  mg_reg_review *r = dst;
  r->id = sqlite3_column_int64(st, 0);
  r->course_id = sqlite3_column_int64(st, 1);
  col_text(st, 2, r->kind, sizeof r->kind);
  col_text(st, 3, r->verdict, sizeof r->verdict);
  col_text(st, 4, r->reviewer, sizeof r->reviewer);
  col_text(st, 5, r->opinion, sizeof r->opinion);
  r->reviewed_us = sqlite3_column_int64(st, 6);
}

int mg_store_reg_review_add(mg_store *s, const mg_reg_review *r, int64_t *out_id) {
  return run(s, out_id, NULL, NULL, NULL,
             "INSERT INTO reg_course_reviews (course_id, kind, verdict, reviewer, opinion, "
             "reviewed_us) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
             "itttti", r->course_id, r->kind, r->verdict, r->reviewer,
             r->opinion, r->reviewed_us);
}

int mg_store_reg_review_list(mg_store *s, int64_t course_id,
                             int (*cb)(void *ud, const mg_reg_review *r), void *ud) {
  WALK(s, read_review, call_review, cb, ud,
       "SELECT id, course_id, kind, verdict, reviewer, opinion, reviewed_us "
       "FROM reg_course_reviews WHERE course_id = ?1 ORDER BY id",
       "i", course_id);
}

/* ---- offerings -------------------------------------------------------------------------- */

#define OFF_COLS                                                                             \
  "f.id, f.university_id, f.course_id, f.term, f.credits_tenths, f.resp_teacher, f.iri, "  \
  "f.created_by, f.created_us FROM reg_offerings f"

static void read_offering(sqlite3_stmt *st, void *dst) {
  mg_reg_offering *o = dst;
  o->id = sqlite3_column_int64(st, 0);
  o->university_id = sqlite3_column_int64(st, 1);
  o->course_id = sqlite3_column_int64(st, 2);
  col_text(st, 3, o->term, sizeof o->term);
  o->credits_tenths = sqlite3_column_int(st, 4);
  col_text(st, 5, o->resp_teacher, sizeof o->resp_teacher);
  col_text(st, 6, o->iri, sizeof o->iri);
  col_text(st, 7, o->created_by, sizeof o->created_by);
  o->created_us = sqlite3_column_int64(st, 8);
}

int mg_store_reg_offering_create(mg_store *s, const mg_reg_offering *o, int64_t *out_id) {
  return run(s, out_id, NULL, NULL, NULL,
             "INSERT INTO reg_offerings (university_id, course_id, term, credits_tenths, "
             "resp_teacher, iri, created_by, created_us) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
             "iitnttti", o->university_id, o->course_id, o->term,
             o->credits_tenths, o->resp_teacher, o->iri, o->created_by, o->created_us);
}

int mg_store_reg_offering_get(mg_store *s, int64_t id, mg_reg_offering *out) {
  GET(s, read_offering, out, "SELECT " OFF_COLS " WHERE f.id = ?1", "i", id);
}

typedef struct first_of {
  mg_reg_offering *out;
  int n;
} first_of;

static int take_first(void *ud, const mg_reg_offering *o) {
  first_of *f = ud;
  if (f->n++ == 0) *f->out = *o;
  return MG_OK;
}

int mg_store_reg_offering_by_iri(mg_store *s, const char *iri, mg_reg_offering *out) {
  first_of f = {out, 0};
  memset(out, 0, sizeof *out);
  walk w = {read_offering, call_offering, (void (*)(void))take_first, &f};
  int rc = run(s, NULL, NULL, read_walk, &w,
               "SELECT " OFF_COLS " WHERE f.iri = ?1 ORDER BY f.id LIMIT 2", "t", iri);
  return rc ? rc : f.n == 0 ? MG_ENOTFOUND : f.n > 1 ? MG_ECONFLICT : MG_OK;
}

int mg_store_reg_offering_at(mg_store *s, int64_t university_id, const char *iri,
                             mg_reg_offering *out) {
  GET(s, read_offering, out, "SELECT " OFF_COLS " WHERE f.university_id = ?1 AND f.iri = ?2",
      "it", university_id, iri);
}

int mg_store_reg_offering_list(mg_store *s, int64_t university_id, int64_t course_id,
                               int64_t platform_id,
                               int (*cb)(void *ud, const mg_reg_offering *o), void *ud) {
  WALK(s, read_offering, call_offering, cb, ud,
       "SELECT " OFF_COLS " JOIN reg_courses c ON c.id = f.course_id "
       "WHERE (?1 = 0 OR f.university_id = ?1) AND (?2 = 0 OR f.course_id = ?2) "
       "AND (?3 = 0 OR c.platform_id = ?3) ORDER BY f.id",
       "iii", university_id, course_id, platform_id);
}

/* ---- students and enrolments ------------------------------------------------------------ */

static void read_student_at(sqlite3_stmt *st, int b, mg_reg_student *s) {
  s->id = sqlite3_column_int64(st, b);
  s->university_id = sqlite3_column_int64(st, b + 1);
  col_text(st, b + 2, s->student_no, sizeof s->student_no);
  col_text(st, b + 3, s->name, sizeof s->name);
}

static void read_pii(sqlite3_stmt *st, void *dst) {
  mg_reg_student_pii *p = dst;
  col_text(st, 0, p->national_id_enc, sizeof p->national_id_enc);
  col_text(st, 1, p->phone_enc, sizeof p->phone_enc);
}

int mg_store_reg_student_pii(mg_store *s, int64_t student_id, mg_reg_student_pii *out) {
  GET(s, read_pii, out, "SELECT national_id_enc, phone_enc FROM reg_students WHERE id = ?1", "i",
      student_id);
}
static void read_student(sqlite3_stmt *st, void *dst) { read_student_at(st, 0, dst); }
#define ST_COLS "id, university_id, student_no, name"

int mg_store_reg_student_get(mg_store *s, int64_t id, mg_reg_student *out) {
  GET(s, read_student, out,
      "SELECT " ST_COLS " FROM reg_students WHERE id = ?1", "i", id);
}

int mg_store_reg_student_find(mg_store *s, int64_t university_id, const char *student_no,
                              mg_reg_student *out) {
  GET(s, read_student, out,
      "SELECT " ST_COLS " FROM reg_students WHERE university_id = ?1 AND student_no = ?2",
      "it", university_id, student_no);
}

int mg_store_reg_student_create(mg_store *s, const mg_reg_student *st, int64_t *out_id) {
  return run(s, out_id, NULL, NULL, NULL,
             "INSERT INTO reg_students (university_id, student_no, name) VALUES (?1, ?2, ?3)",
             "itt", st->university_id, st->student_no, st->name);
}

#define ENR_COLS                                                                             \
  "e.id, e.offering_id, e.student_id, e.registration, e.active, e.import_id, e.created_us, " \
  "s.id, s.university_id, s.student_no, s.name, "                                         \
  "(SELECT count(*) FROM reg_pledges p WHERE p.enrolment_id = e.id) "                      \
  "FROM reg_enrolments e JOIN reg_students s ON s.id = e.student_id"

static void read_enrolment(sqlite3_stmt *st, void *dst) {
  mg_reg_enrolment *e = dst;
  e->id = sqlite3_column_int64(st, 0);
  e->offering_id = sqlite3_column_int64(st, 1);
  e->student_id = sqlite3_column_int64(st, 2);
  col_uuid(st, 3, e->registration);
  e->active = sqlite3_column_int(st, 4);
  e->import_id = sqlite3_column_int64(st, 5);
  e->created_us = sqlite3_column_int64(st, 6);
  read_student_at(st, 7, &e->student);
  e->pledge_signed = sqlite3_column_int(st, 11);
}

int mg_store_reg_enrolment_get(mg_store *s, int64_t id, mg_reg_enrolment *out) {
  GET(s, read_enrolment, out, "SELECT " ENR_COLS " WHERE e.id = ?1", "i", id);
}

int mg_store_reg_enrolment_by_registration(mg_store *s, const uint8_t reg[16],
                                           mg_reg_enrolment *out) {
  GET(s, read_enrolment, out, "SELECT " ENR_COLS " WHERE e.registration = ?1", "b", reg);
}

int mg_store_reg_enrolment_create(mg_store *s, const mg_reg_enrolment *e, int64_t *out_id) {
  return run(s, out_id, NULL, NULL, NULL,
             "INSERT INTO reg_enrolments (offering_id, student_id, registration, active, "
             "import_id, created_us) VALUES (?1, ?2, ?3, 1, 0, ?4)",
             "iibi", e->offering_id, e->student_id, e->registration, e->created_us);
}

static int read_count(void *ud, sqlite3_stmt *st) {
  *(int64_t *)ud = sqlite3_column_int64(st, 0);
  return MG_OK;
}

int mg_store_reg_enrolment_list(mg_store *s, int64_t offering_id, int active_only, size_t offset,
                                size_t limit, int (*cb)(void *ud, const mg_reg_enrolment *e),
                                void *ud, int64_t *total) {
  if (total) {
    int rc = run(s, NULL, NULL, read_count, total,
                 "SELECT count(*) FROM reg_enrolments WHERE offering_id = ?1 "
                 "AND (?2 = 0 OR active = 1)",
                 "in", offering_id, active_only);
    if (rc) return rc;
  }
  WALK(s, read_enrolment, call_enrolment, cb, ud,
       "SELECT " ENR_COLS " WHERE e.offering_id = ?1 AND (?2 = 0 OR e.active = 1) "
       "ORDER BY s.student_no LIMIT ?3 OFFSET ?4",
       "inii", offering_id, active_only, limit ? (int64_t)limit : (int64_t)-1, (int64_t)offset);
}

int mg_store_reg_enrolment_of_student(mg_store *s, int64_t student_id,
                                      int (*cb)(void *ud, const mg_reg_enrolment *e), void *ud) {
  WALK(s, read_enrolment, call_enrolment, cb, ud, "SELECT " ENR_COLS " WHERE e.student_id = ?1 ORDER BY e.id",
       "i", student_id);
}

/* ---- roster import ---------------------------------------------------------------------- */

enum { R_FIND_ST, R_INS_ST, R_REN_ST, R_PII_ST, R_FIND_EN, R_FIND_REG, R_INS_EN, R_TOUCH_EN, R_N };
static const char *const ROSTER_SQL[R_N] = {
    [R_FIND_ST] = "SELECT id, name FROM reg_students WHERE university_id = ?1 AND student_no = ?2",
    [R_INS_ST] = "INSERT INTO reg_students (university_id, student_no, name, national_id_enc, "
                 "phone_enc) VALUES (?1, ?2, ?3, coalesce(?4, ''), coalesce(?5, ''))",
    [R_REN_ST] = "UPDATE reg_students SET name = ?2 WHERE id = ?1",
    [R_PII_ST] = "UPDATE reg_students SET national_id_enc = coalesce(?2, national_id_enc), "
                 "phone_enc = coalesce(?3, phone_enc) WHERE id = ?1",
    [R_FIND_EN] = "SELECT id, registration, active FROM reg_enrolments "
                  "WHERE offering_id = ?1 AND student_id = ?2",
    [R_FIND_REG] = "SELECT id FROM reg_enrolments WHERE registration = ?1",
    [R_INS_EN] = "INSERT INTO reg_enrolments (offering_id, student_id, registration, active, "
                 "import_id, created_us) VALUES (?1, ?2, ?3, 1, ?4, ?5)",
    [R_TOUCH_EN] = "UPDATE reg_enrolments SET active = 1, import_id = ?2 WHERE id = ?1",
};

typedef struct roster_ctx {
  sqlite3 *db;
  sqlite3_stmt *st[R_N];
} roster_ctx;

static void bind_opt(sqlite3_stmt *st, int i, const char *t) {
  if (t) sqlite3_bind_text(st, i, t, -1, SQLITE_STATIC);
  else sqlite3_bind_null(st, i);
}

/* Steps a prepared statement bound by the caller: SQLITE_ROW/DONE or an error code. */
static int rstep(roster_ctx *r, int q) {
  int rc = sqlite3_step(r->st[q]);
  if (rc != SQLITE_ROW) sqlite3_reset(r->st[q]);
  return rc;
}

static int roster_row(roster_ctx *r, int64_t offering_id, int64_t university_id, int64_t import_id,
                      int64_t now, const mg_reg_roster_row *row, mg_reg_roster_bad_cb bad,
                      void *bad_ud, mg_reg_roster_result *out) {
  sqlite3_stmt **st = r->st;
  int64_t student_id = 0;
  int rename = 0;
  sqlite3_bind_int64(st[R_FIND_ST], 1, university_id);
  sqlite3_bind_text(st[R_FIND_ST], 2, row->student_no, -1, SQLITE_STATIC);
  int rc = rstep(r, R_FIND_ST);
  if (rc == SQLITE_ROW) {
    student_id = sqlite3_column_int64(st[R_FIND_ST], 0);
    const char *old = (const char *)sqlite3_column_text(st[R_FIND_ST], 1);
    rename = !old || strcmp(old, row->name) != 0;
    sqlite3_reset(st[R_FIND_ST]);
  } else if (rc != SQLITE_DONE) {
    return fail(r->db, rc, "roster find student");
  }

  int64_t enrol_id = 0;
  int active = 0;
  if (student_id) {
    sqlite3_bind_int64(st[R_FIND_EN], 1, offering_id);
    sqlite3_bind_int64(st[R_FIND_EN], 2, student_id);
    rc = rstep(r, R_FIND_EN);
    if (rc == SQLITE_ROW) {
      enrol_id = sqlite3_column_int64(st[R_FIND_EN], 0);
      uint8_t have[16];
      col_uuid(st[R_FIND_EN], 1, have);
      active = sqlite3_column_int(st[R_FIND_EN], 2);
      sqlite3_reset(st[R_FIND_EN]);
      if (row->has_registration && memcmp(have, row->registration, 16) != 0)
        return bad ? bad(bad_ud, row, "registration_mismatch",
                         "this student is already enrolled with another registration; a "
                         "registration is assigned once and never changed")
                   : MG_OK;
    } else if (rc != SQLITE_DONE) {
      return fail(r->db, rc, "roster find enrolment");
    }
  }
  if (!enrol_id && row->has_registration) {
    sqlite3_bind_blob(st[R_FIND_REG], 1, row->registration, 16, SQLITE_STATIC);
    rc = rstep(r, R_FIND_REG);
    if (rc == SQLITE_ROW) {
      sqlite3_reset(st[R_FIND_REG]);
      return bad ? bad(bad_ud, row, "registration_taken",
                       "the registration belongs to another enrolment")
                 : MG_OK;
    }
    if (rc != SQLITE_DONE) return fail(r->db, rc, "roster find registration");
  }

  int had_student = student_id != 0;
  if (!student_id) {
    sqlite3_bind_int64(st[R_INS_ST], 1, university_id);
    sqlite3_bind_text(st[R_INS_ST], 2, row->student_no, -1, SQLITE_STATIC);
    sqlite3_bind_text(st[R_INS_ST], 3, row->name, -1, SQLITE_STATIC);
    bind_opt(st[R_INS_ST], 4, row->national_id_enc);
    bind_opt(st[R_INS_ST], 5, row->phone_enc);
    if ((rc = rstep(r, R_INS_ST)) != SQLITE_DONE)
      return fail(r->db, sqlite3_extended_errcode(r->db), "roster insert student");
    student_id = sqlite3_last_insert_rowid(r->db);
  } else if (rename) {
    sqlite3_bind_int64(st[R_REN_ST], 1, student_id);
    sqlite3_bind_text(st[R_REN_ST], 2, row->name, -1, SQLITE_STATIC);
    if ((rc = rstep(r, R_REN_ST)) != SQLITE_DONE)
      return fail(r->db, sqlite3_extended_errcode(r->db), "roster rename student");
  }

  if (had_student && (row->national_id_enc || row->phone_enc)) {
    sqlite3_bind_int64(st[R_PII_ST], 1, student_id);
    bind_opt(st[R_PII_ST], 2, row->national_id_enc);
    bind_opt(st[R_PII_ST], 3, row->phone_enc);
    if ((rc = rstep(r, R_PII_ST)) != SQLITE_DONE)
      return fail(r->db, sqlite3_extended_errcode(r->db), "roster update student");
  }

  if (!enrol_id) {
    sqlite3_bind_int64(st[R_INS_EN], 1, offering_id);
    sqlite3_bind_int64(st[R_INS_EN], 2, student_id);
    sqlite3_bind_blob(st[R_INS_EN], 3, row->registration, 16, SQLITE_STATIC);
    sqlite3_bind_int64(st[R_INS_EN], 4, import_id);
    sqlite3_bind_int64(st[R_INS_EN], 5, now);
    rc = rstep(r, R_INS_EN);
    if (rc != SQLITE_DONE) {
      int x = sqlite3_extended_errcode(r->db);
      if (x == SQLITE_CONSTRAINT_UNIQUE && bad) /* a generated UUID that collided: ~never */
        return bad(bad_ud, row, "registration_taken", "the registration belongs to another enrolment");
      return fail(r->db, x, "roster insert enrolment");
    }
    out->added++;
    return MG_OK;
  }
  sqlite3_bind_int64(st[R_TOUCH_EN], 1, enrol_id);
  sqlite3_bind_int64(st[R_TOUCH_EN], 2, import_id);
  if ((rc = rstep(r, R_TOUCH_EN)) != SQLITE_DONE)
    return fail(r->db, sqlite3_extended_errcode(r->db), "roster touch enrolment");
  if (!active) out->reactivated++;
  else if (rename) out->renamed++;
  else out->unchanged++;
  return MG_OK;
}

int mg_store_reg_roster_apply(mg_store *s, int64_t offering_id, int64_t university_id,
                              const mg_reg_roster_row *rows, size_t n, int preview,
                              const mg_reg_roster_meta *meta, mg_reg_roster_bad_cb bad,
                              void *bad_ud, mg_reg_roster_result *out) {
  roster_ctx r = {0};
  int in_sp = 0;
  memset(out, 0, sizeof *out);
  int rc = mg_store_sqlite_gov_acquire(s, &r.db);
  if (rc) return rc;
  if ((rc = run(s, NULL, NULL, NULL, NULL, "SAVEPOINT roster", ""))) goto out;
  in_sp = 1;
  int64_t now = meta ? meta->now_us : 0;
  /* The import row first: its id marks every enrolment this roster lists. */
  int64_t import_id = 0;
  rc = run(s, &import_id, NULL, NULL, NULL,
           "INSERT INTO reg_roster_imports (offering_id, digest, rows_total, rows_bad, added, "
           "reactivated, removed, renamed, unchanged, report, imported_by, imported_us) "
           "VALUES (?1, ?2, ?3, 0, 0, 0, 0, 0, 0, '[]', ?4, ?5)",
           "ititi", offering_id, meta ? meta->digest : "", meta ? meta->rows_total : (int64_t)n,
           meta ? meta->imported_by : "", now);
  if (rc) goto out;
  for (int q = 0; q < R_N; q++) {
    int x = sqlite3_prepare_v2(r.db, ROSTER_SQL[q], -1, &r.st[q], NULL);
    if (x != SQLITE_OK) {
      rc = fail(r.db, x, ROSTER_SQL[q]);
      goto out;
    }
  }
  for (size_t i = 0; i < n; i++) {
    rc = roster_row(&r, offering_id, university_id, import_id, now, &rows[i], bad, bad_ud, out);
    if (rc) goto out;
  }
  int removed = 0;
  rc = run(s, NULL, &removed, NULL, NULL,
           "UPDATE reg_enrolments SET active = 0 WHERE offering_id = ?1 AND active = 1 "
           "AND import_id <> ?2",
           "ii", offering_id, import_id);
  if (rc) goto out;
  out->removed = removed;
  rc = run(s, NULL, NULL, NULL, NULL,
           "UPDATE reg_roster_imports SET added = ?2, reactivated = ?3, removed = ?4, "
           "renamed = ?5, unchanged = ?6 WHERE id = ?1",
           "iiiiii", import_id, out->added, out->reactivated, out->removed, out->renamed,
           out->unchanged);
  if (rc) goto out;
  out->import_id = preview ? 0 : import_id;
out:
  for (int q = 0; q < R_N; q++) sqlite3_finalize(r.st[q]);
  if (in_sp) {
    if (rc || preview) run(s, NULL, NULL, NULL, NULL, "ROLLBACK TO roster", "");
    int r2 = run(s, NULL, NULL, NULL, NULL, "RELEASE roster", "");
    if (!rc) rc = r2;
  }
  mg_store_sqlite_gov_release(s);
  return rc;
}

int mg_store_reg_import_set_report(mg_store *s, int64_t id, int64_t rows_bad, const char *report) {
  return run1(s, "UPDATE reg_roster_imports SET rows_bad = ?2, report = ?3 WHERE id = ?1", "iit",
              id, rows_bad, report);
}

#define IMP_COLS                                                                             \
  "id, offering_id, digest, rows_total, rows_bad, added, reactivated, removed, renamed, "   \
  "unchanged, report, imported_by, imported_us FROM reg_roster_imports"

typedef struct imp_read {
  mg_reg_roster_import *imp;
  int found, nomem;
} imp_read;

static int read_import(void *ud, sqlite3_stmt *st) {
  imp_read *ir = ud;
  mg_reg_roster_import *m = ir->imp;
  m->id = sqlite3_column_int64(st, 0);
  m->offering_id = sqlite3_column_int64(st, 1);
  col_text(st, 2, m->digest, sizeof m->digest);
  m->rows_total = sqlite3_column_int64(st, 3);
  m->rows_bad = sqlite3_column_int64(st, 4);
  m->added = sqlite3_column_int64(st, 5);
  m->reactivated = sqlite3_column_int64(st, 6);
  m->removed = sqlite3_column_int64(st, 7);
  m->renamed = sqlite3_column_int64(st, 8);
  m->unchanged = sqlite3_column_int64(st, 9);
  free(m->report);
  m->report = col_dup(st, 10);
  col_text(st, 11, m->imported_by, sizeof m->imported_by);
  m->imported_us = sqlite3_column_int64(st, 12);
  ir->found = 1;
  return m->report ? MG_OK : MG_ENOMEM;
}

static int import_get(mg_store *s, const char *sql, int64_t key, mg_reg_roster_import *out) {
  memset(out, 0, sizeof *out);
  imp_read ir = {out, 0, 0};
  int rc = run(s, NULL, NULL, read_import, &ir, sql, "i", key);
  if (rc) {
    mg_store_reg_import_clear(out);
    return rc;
  }
  return ir.found ? MG_OK : MG_ENOTFOUND;
}

int mg_store_reg_import_last(mg_store *s, int64_t offering_id, mg_reg_roster_import *out) {
  return import_get(s, "SELECT " IMP_COLS " WHERE offering_id = ?1 ORDER BY id DESC LIMIT 1",
                    offering_id, out);
}

int mg_store_reg_import_get(mg_store *s, int64_t id, mg_reg_roster_import *out) {
  return import_get(s, "SELECT " IMP_COLS " WHERE id = ?1", id, out);
}

void mg_store_reg_import_clear(mg_reg_roster_import *imp) {
  if (!imp) return;
  free(imp->report);
  imp->report = NULL;
}

/* ---- pledges ---------------------------------------------------------------------------- */

int mg_store_reg_pledge_text_create(mg_store *s, const char *version, const char *body,
                                    const char *digest, const char *by, int64_t now_us) {
  return run(s, NULL, NULL, NULL, NULL,
             "INSERT INTO reg_pledge_texts (version, body, digest, published_by, published_us) "
             "VALUES (?1, ?2, ?3, ?4, ?5)",
             "tttti", version, body, digest, by, now_us);
}

typedef struct text_read {
  mg_reg_pledge_text *t;
  int found;
} text_read;

static int read_text(void *ud, sqlite3_stmt *st) {
  text_read *tr = ud;
  mg_reg_pledge_text *t = tr->t;
  col_text(st, 0, t->version, sizeof t->version);
  free(t->body);
  t->body = col_dup(st, 1);
  col_text(st, 2, t->digest, sizeof t->digest);
  col_text(st, 3, t->published_by, sizeof t->published_by);
  t->published_us = sqlite3_column_int64(st, 4);
  tr->found = 1;
  return t->body ? MG_OK : MG_ENOMEM;
}

static int text_get(mg_store *s, const char *sql, const char *fmt, const char *arg,
                    mg_reg_pledge_text *out) {
  memset(out, 0, sizeof *out);
  text_read tr = {out, 0};
  int rc = run(s, NULL, NULL, read_text, &tr, sql, fmt, arg);
  if (rc) {
    mg_store_reg_pledge_text_clear(out);
    return rc;
  }
  return tr.found ? MG_OK : MG_ENOTFOUND;
}

int mg_store_reg_pledge_text_get(mg_store *s, const char *version, mg_reg_pledge_text *out) {
  return text_get(s,
                  "SELECT version, body, digest, published_by, published_us FROM "
                  "reg_pledge_texts WHERE version = ?1",
                  "t", version, out);
}

int mg_store_reg_pledge_text_latest(mg_store *s, mg_reg_pledge_text *out) {
  return text_get(s,
                  "SELECT version, body, digest, published_by, published_us FROM "
                  "reg_pledge_texts ORDER BY published_us DESC, rowid DESC LIMIT 1",
                  "", NULL, out);
}

void mg_store_reg_pledge_text_clear(mg_reg_pledge_text *t) {
  if (!t) return;
  free(t->body);
  t->body = NULL;
}

static void read_pledge(sqlite3_stmt *st, void *dst) {
  mg_reg_pledge *p = dst;
  p->id = sqlite3_column_int64(st, 0);
  p->enrolment_id = sqlite3_column_int64(st, 1);
  col_text(st, 2, p->version, sizeof p->version);
  col_text(st, 3, p->signed_by, sizeof p->signed_by);
  col_text(st, 4, p->signed_ip, sizeof p->signed_ip);
  p->signed_us = sqlite3_column_int64(st, 5);
}

int mg_store_reg_pledge_sign(mg_store *s, const mg_reg_pledge *p, int64_t *out_id) {
  return run(s, out_id, NULL, NULL, NULL,
             "INSERT INTO reg_pledges (enrolment_id, version, signed_by, signed_ip, signed_us) "
             "VALUES (?1, ?2, ?3, ?4, ?5)",
             "ittti", p->enrolment_id, p->version, p->signed_by,
             p->signed_ip, p->signed_us);
}

int mg_store_reg_pledge_list(mg_store *s, int64_t enrolment_id,
                             int (*cb)(void *ud, const mg_reg_pledge *p), void *ud) {
  WALK(s, read_pledge, call_pledge, cb, ud,
       "SELECT id, enrolment_id, version, signed_by, signed_ip, signed_us FROM reg_pledges "
       "WHERE enrolment_id = ?1 ORDER BY id",
       "i", enrolment_id);
}

/* ---- exams ------------------------------------------------------------------------------ */

#define EXAM_COLS                                                                            \
  "id, offering_id, title, starts_us, face_start, face_during, dual_camera, invigilator, "  \
  "created_by, created_us FROM reg_exams"

static void read_exam(sqlite3_stmt *st, void *dst) {
  mg_reg_exam *e = dst;
  e->id = sqlite3_column_int64(st, 0);
  e->offering_id = sqlite3_column_int64(st, 1);
  col_text(st, 2, e->title, sizeof e->title);
  e->starts_us = sqlite3_column_int64(st, 3);
  e->face_start = sqlite3_column_int(st, 4);
  e->face_during = sqlite3_column_int(st, 5);
  e->dual_camera = sqlite3_column_int(st, 6);
  col_text(st, 7, e->invigilator, sizeof e->invigilator);
  col_text(st, 8, e->created_by, sizeof e->created_by);
  e->created_us = sqlite3_column_int64(st, 9);
}

int mg_store_reg_exam_create(mg_store *s, const mg_reg_exam *e, int64_t *out_id) {
  return run(s, out_id, NULL, NULL, NULL,
             "INSERT INTO reg_exams (offering_id, title, starts_us, face_start, face_during, "
             "dual_camera, invigilator, created_by, created_us) "
             "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
             "itinnntti", e->offering_id, e->title, e->starts_us, e->face_start, e->face_during,
             e->dual_camera, e->invigilator, e->created_by, e->created_us);
}

int mg_store_reg_exam_get(mg_store *s, int64_t id, mg_reg_exam *out) {
  GET(s, read_exam, out, "SELECT " EXAM_COLS " WHERE id = ?1", "i", id);
}

int mg_store_reg_exam_list(mg_store *s, int64_t offering_id,
                           int (*cb)(void *ud, const mg_reg_exam *e), void *ud) {
  WALK(s, read_exam, call_exam, cb, ud, "SELECT " EXAM_COLS " WHERE offering_id = ?1 ORDER BY id", "i",
       offering_id);
}

static void read_supervision(sqlite3_stmt *st, void *dst) {
  mg_reg_supervision *r = dst;
  r->exam_id = sqlite3_column_int64(st, 0);
  r->enrolment_id = sqlite3_column_int64(st, 1);
  col_text(st, 2, r->face_start, sizeof r->face_start);
  col_text(st, 3, r->face_during, sizeof r->face_during);
  col_text(st, 4, r->dual_camera, sizeof r->dual_camera);
  col_text(st, 5, r->invigilator, sizeof r->invigilator);
  col_text(st, 6, r->notes, sizeof r->notes);
  col_text(st, 7, r->recorded_by, sizeof r->recorded_by);
  r->recorded_us = sqlite3_column_int64(st, 8);
}

int mg_store_reg_supervision_put(mg_store *s, const mg_reg_supervision *r) {
  return run(s, NULL, NULL, NULL, NULL,
             "INSERT OR REPLACE INTO reg_exam_supervision (exam_id, enrolment_id, face_start, "
             "face_during, dual_camera, invigilator, notes, recorded_by, recorded_us) "
             "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
             "iitttttti", r->exam_id, r->enrolment_id, r->face_start, r->face_during,
             r->dual_camera, r->invigilator, r->notes, r->recorded_by, r->recorded_us);
}

int mg_store_reg_supervision_get(mg_store *s, int64_t exam_id, int64_t enrolment_id,
                                 mg_reg_supervision *out) {
  GET(s, read_supervision, out,
      "SELECT exam_id, enrolment_id, face_start, face_during, dual_camera, invigilator, notes, "
      "recorded_by, recorded_us FROM reg_exam_supervision WHERE exam_id = ?1 AND "
      "enrolment_id = ?2",
      "ii", exam_id, enrolment_id);
}

#define RES_COLS                                                                             \
  "r.exam_id, r.enrolment_id, r.score_tenths, r.submitted_by, r.submitted_us, r.final, "    \
  "r.finalised_by, r.finalised_us, e.registration FROM reg_exam_results r "                 \
  "JOIN reg_enrolments e ON e.id = r.enrolment_id"

static void read_result(sqlite3_stmt *st, void *dst) {
  mg_reg_result *r = dst;
  r->exam_id = sqlite3_column_int64(st, 0);
  r->enrolment_id = sqlite3_column_int64(st, 1);
  r->score_tenths = sqlite3_column_int(st, 2);
  col_text(st, 3, r->submitted_by, sizeof r->submitted_by);
  r->submitted_us = sqlite3_column_int64(st, 4);
  r->final = sqlite3_column_int(st, 5);
  col_text(st, 6, r->finalised_by, sizeof r->finalised_by);
  r->finalised_us = sqlite3_column_int64(st, 7);
  col_uuid(st, 8, r->registration);
}

int mg_store_reg_result_put(mg_store *s, const mg_reg_result *r) {
  int changes = 0;
  /* a final result is never overwritten by the platform */
  int rc = run(s, NULL, &changes, NULL, NULL,
               "INSERT INTO reg_exam_results (exam_id, enrolment_id, score_tenths, submitted_by, "
               "submitted_us) VALUES (?1, ?2, ?3, ?4, ?5) "
               "ON CONFLICT (exam_id, enrolment_id) DO UPDATE SET score_tenths = excluded.score_tenths, "
               "submitted_by = excluded.submitted_by, submitted_us = excluded.submitted_us "
               "WHERE final = 0",
               "iinti", r->exam_id, r->enrolment_id, r->score_tenths, r->submitted_by,
               r->submitted_us);
  return rc ? rc : changes ? MG_OK : MG_ECONFLICT;
}

int mg_store_reg_result_get(mg_store *s, int64_t exam_id, int64_t enrolment_id,
                            mg_reg_result *out) {
  GET(s, read_result, out, "SELECT " RES_COLS " WHERE r.exam_id = ?1 AND r.enrolment_id = ?2",
      "ii", exam_id, enrolment_id);
}

int mg_store_reg_result_finalise(mg_store *s, int64_t exam_id, int64_t enrolment_id,
                                 const char *by, int64_t now_us) {
  return run1(s,
              "UPDATE reg_exam_results SET final = 1, finalised_by = ?3, finalised_us = ?4 "
              "WHERE exam_id = ?1 AND enrolment_id = ?2 AND final = 0",
              "iiti", exam_id, enrolment_id, by, now_us);
}

int mg_store_reg_result_list(mg_store *s, int64_t exam_id,
                             int (*cb)(void *ud, const mg_reg_result *r), void *ud) {
  WALK(s, read_result, call_result, cb, ud, "SELECT " RES_COLS " WHERE r.exam_id = ?1 ORDER BY r.enrolment_id",
       "i", exam_id);
}
