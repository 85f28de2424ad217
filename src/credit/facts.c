/* credit/facts.c — credit facts from the registry and the compute path (see facts.h). */
#include "credit/facts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/uuid.h"
#include "store/store_registry.h"

/* The platform's list status at instant at_us: the newest decision not after it. */
typedef struct status_walk {
  int64_t at_us;
  char status[24];
} status_walk;

static int status_row(void *ud, const mg_reg_status_entry *e) {
  status_walk *w = ud;
  if (e->decided_us <= w->at_us) snprintf(w->status, sizeof w->status, "%s", e->status);
  return MG_OK;
}

/* Was an intake switch covering the university in force at at_us? */
typedef struct switch_walk {
  int64_t at_us, university_id;
  const char *province;
  int stopped;
} switch_walk;

static int switch_row(void *ud, const mg_reg_switch *w) {
  switch_walk *x = ud;
  if (w->stopped_us > x->at_us || (w->lifted_us && w->lifted_us <= x->at_us)) return MG_OK;
  if (!strcmp(w->scope, "national") ||
      (!strcmp(w->scope, "province") && x->province[0] && !strcmp(w->province, x->province)) ||
      (!strcmp(w->scope, "university") && w->university_id == x->university_id))
    x->stopped = 1;
  return MG_OK;
}

typedef struct exam_walk {
  mg_store *s;
  int64_t enrolment_id;
  int exams, finals, supervised;
  int64_t last_start;
  int has_grade;
  double grade;
} exam_walk;

static int planned_ok(int planned, const char *recorded) {
  return !planned || !strcmp(recorded, "pass");
}

static int exam_row(void *ud, const mg_reg_exam *ex) {
  exam_walk *w = ud;
  w->exams++;
  mg_reg_result r;
  int rc = mg_store_reg_result_get(w->s, ex->id, w->enrolment_id, &r);
  if (rc && rc != MG_ENOTFOUND) return rc;
  if (!rc && r.final) {
    w->finals++;
    if (!w->has_grade || ex->starts_us >= w->last_start) {
      w->has_grade = 1;
      w->last_start = ex->starts_us;
      w->grade = r.score_tenths / 10.0;
    }
  }
  mg_reg_supervision sv;
  rc = mg_store_reg_supervision_get(w->s, ex->id, w->enrolment_id, &sv);
  if (rc && rc != MG_ENOTFOUND) return rc;
  if (!rc && planned_ok(ex->face_start, sv.face_start) &&
      planned_ok(ex->face_during, sv.face_during) && planned_ok(ex->dual_camera, sv.dual_camera))
    w->supervised++;
  return MG_OK;
}

static int facts_of_enrolment(mg_store *s, const mg_reg_enrolment *e, mg_credit_facts *f) {
  memset(f, 0, sizeof *f);
  mg_uuid_format(e->registration, f->registration);
  f->student_id = e->student_id;
  f->offering_id = e->offering_id;
  f->pass_mark = MG_CREDIT_PASS_MARK;
  f->pledge_signed = e->pledge_signed > 0;
  mg_reg_offering o;
  mg_reg_course c;
  mg_reg_org u;
  int rc = mg_store_reg_offering_get(s, e->offering_id, &o);
  if (!rc) rc = mg_store_reg_course_get(s, o.course_id, &c);
  if (!rc) rc = mg_store_reg_org_get(s, o.university_id, &u);
  if (rc) return rc;
  f->university_id = o.university_id;
  f->course_id = o.course_id;
  f->credits = o.credits_tenths / 10.0;
  f->offering_approved = !strcmp(c.status, "approved") || !strcmp(c.status, "online");

  status_walk sw = {e->created_us, "pending"};
  if ((rc = mg_store_reg_platform_history(s, c.platform_id, status_row, &sw))) return rc;
  switch_walk xw = {e->created_us, o.university_id, u.province, 0};
  if ((rc = mg_store_reg_switch_list(s, c.platform_id, 0, switch_row, &xw))) return rc;
  f->platform_whitelisted = !strcmp(sw.status, "whitelist") && !xw.stopped;
  snprintf(f->platform_status, sizeof f->platform_status, "%s",
           xw.stopped && !strcmp(sw.status, "whitelist") ? "intake_stopped" : sw.status);

  exam_walk ew = {s, e->id, 0, 0, 0, 0, 0, 0.0};
  if ((rc = mg_store_reg_exam_list(s, e->offering_id, exam_row, &ew))) return rc;
  f->exam_finalised = ew.exams > 0 && ew.finals == ew.exams;
  f->exam_supervised = ew.exams > 0 && ew.supervised == ew.exams;
  f->has_grade = ew.has_grade;
  f->grade = ew.grade;
  return MG_OK;
}

int mg_credit_facts_of(mg_store *s, const char *registration, mg_credit_facts *f) {
  if (!s || !registration || !f) return MG_EINVAL;
  uint8_t reg[16];
  if (mg_uuid_parse(registration, reg)) return MG_EINVAL;
  mg_reg_enrolment e;
  int rc = mg_store_reg_enrolment_by_registration(s, reg, &e);
  if (rc) return rc;
  return facts_of_enrolment(s, &e, f);
}

int mg_credit_compute(mg_store *s, const char *registration, const char *decided_by,
                      int64_t now_us, mg_credit_facts *f_out, mg_credit_result *out,
                      int64_t *id_out) {
  mg_credit_facts f;
  int rc = mg_credit_facts_of(s, registration, &f);
  if (!rc) rc = mg_credit_decide(s, &f, decided_by, now_us, out, id_out);
  if (!rc && f_out) *f_out = f;
  return rc;
}

typedef struct offering_walk {
  mg_reg_enrolment *rows;
  size_t n, cap;
} offering_walk;

/* Enrolments are copied out first: deciding writes through the same connection. */
static int collect(void *ud, const mg_reg_enrolment *e) {
  offering_walk *w = ud;
  if (w->n == w->cap) {
    size_t cap = w->cap ? 2 * w->cap : 64;
    mg_reg_enrolment *p = realloc(w->rows, cap * sizeof *p);
    if (!p) return MG_ENOMEM;
    w->rows = p;
    w->cap = cap;
  }
  w->rows[w->n++] = *e;
  return MG_OK;
}

int mg_credit_compute_offering(mg_store *s, int64_t offering_id, const char *decided_by,
                               int64_t now_us, mg_credit_each_fn cb, void *ud, int64_t *n) {
  if (!s || offering_id <= 0) return MG_EINVAL;
  if (n) *n = 0;
  mg_reg_offering o;
  int rc = mg_store_reg_offering_get(s, offering_id, &o);
  if (rc) return rc;
  offering_walk w = {NULL, 0, 0};
  rc = mg_store_reg_enrolment_list(s, offering_id, 1, 0, 0, collect, &w, NULL);
  for (size_t i = 0; !rc && i < w.n; i++) {
    mg_credit_facts f;
    mg_credit_result r;
    int64_t id = 0;
    rc = facts_of_enrolment(s, &w.rows[i], &f);
    if (!rc) rc = mg_credit_decide(s, &f, decided_by, now_us, &r, &id);
    if (!rc && cb) rc = cb(ud, &f, &r, id);
    if (!rc && n) (*n)++;
  }
  free(w.rows);
  return rc;
}
