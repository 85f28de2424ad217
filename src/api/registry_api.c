/* api/registry_api.c — HTTP handlers of the registry (docs/api.md, "Registry").
 *
 * Handlers check the data scope (mg_api_may_org) and the body's shape, then call registry/ inside
 * one transaction that also records the audit entry. Regulators: the capability table grants
 * them province scope; a regulator account without a province is the ministry's and acts
 * nationally (widen()). Lists of students are masked; platforms get student numbers and
 * registrations only, never names. */
#include "api/registry_api.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/credential.h"
#include "core/err.h"
#include "core/time.h"
#include "core/uuid.h"
#include "crypto/crypto.h"
#include "registry/course.h"
#include "registry/eligibility.h"
#include "registry/exam.h"
#include "registry/offering.h"
#include "registry/org.h"
#include "registry/platform.h"
#include "registry/pledge.h"
#include "registry/roster.h"
#include "store/store_registry.h"

/* ---- small helpers ------------------------------------------------------------------------ */

static int national(const mg_api_call *c) {
  return c->who->role == MG_ROLE_REGULATOR && c->who->province[0] == 0;
}

/* A national regulator acts on everything. */
static void widen(mg_api_call *c) {
  if (national(c) && c->scope == MG_SCOPE_PROVINCE) c->scope = MG_SCOPE_ALL;
}

static const char *by(const mg_api_call *c) { return c->who->username; }

static void out_of_scope(mg_api_call *c, const char *what) {
  mg_api_fail(c, 403, "out_of_scope",
              "无权访问其他机构的数据（%s）/ %s belongs to another organisation or province", what,
              what);
}

static int need_national(mg_api_call *c) {
  if (national(c)) return MG_OK;
  mg_api_fail(c, 403, "national_regulator_only",
              "仅国务院教育行政部门可以执行此操作 / only the ministry (a regulator without a province) "
              "may do this");
  return MG_EFORBIDDEN;
}

static int status_of(int rc) {
  switch (rc) {
  case MG_EINVAL: return 400;
  case MG_EFORBIDDEN: return 403;
  case MG_ENOTFOUND: return 404;
  case MG_ECONFLICT:
  case MG_EEXISTS: return 409;
  case MG_EBUSY: return 503;
  default: return 500;
  }
}

/* Answers a domain refusal and rolls back the open transaction (harmless when none is open). */
static void refuse(mg_api_call *c, int rc, const mg_registry_why *why) {
  mg_store_tx_rollback(c->store);
  if (why && why->code[0]) mg_api_fail(c, status_of(rc), why->code, "%s", why->message);
  else mg_api_fail_err(c, rc, "registry");
}

static int begin(mg_api_call *c) {
  int rc = mg_store_tx_begin(c->store);
  if (rc) mg_api_fail_err(c, rc, "transaction");
  return rc;
}

/* Audits, commits and answers reply with status; on failure rolls back and answers. */
static void done(mg_api_call *c, const char *type, int64_t id, const mg_json *before,
                 const mg_json *after, int status, const mg_json *reply) {
  char ids[24];
  snprintf(ids, sizeof ids, "%lld", (long long)id);
  if (!after && !before) {
    mg_store_tx_rollback(c->store);
    mg_api_fail(c, 500, "out_of_memory", "out of memory");
    return;
  }
  if (mg_api_audit(c, NULL, type, ids, before, after)) {
    mg_store_tx_rollback(c->store);
    mg_api_fail(c, 503, "audit_unavailable",
                "审计日志无法写入，操作已拒绝 / the audit log cannot be written, so the change was "
                "refused");
    return;
  }
  int rc = mg_store_tx_commit(c->store);
  if (rc) {
    mg_api_fail_err(c, rc, "commit");
    return;
  }
  if (reply) mg_api_reply(c, status, reply);
  else mg_api_fail(c, 500, "out_of_memory", "out of memory");
}

static int need_body(mg_api_call *c) {
  if (c->body) return MG_OK;
  mg_api_fail(c, 400, "missing_body", "缺少 JSON 请求体 / a JSON object body is required");
  return MG_EINVAL;
}

static int only_fields(mg_api_call *c, const char *const *allowed) {
  const char *k;
  mg_json *v;
  if (need_body(c)) return MG_EINVAL;
  mg_json_object_foreach(c->body, k, v) {
    int ok = 0;
    for (int i = 0; allowed[i] && !ok; i++) ok = strcmp(k, allowed[i]) == 0;
    if (!ok) {
      mg_api_fail(c, 400, "unknown_field", "未知字段 %.*s / unknown field '%.*s'",
                  mg_utf8_prefix(k, 40), k, mg_utf8_prefix(k, 40), k);
      return MG_EINVAL;
    }
  }
  return MG_OK;
}

/* String member copied into out (size bytes); "" when absent and optional. */
static int str_in(mg_api_call *c, const char *name, int required, char *out, size_t size) {
  mg_json *v = mg_json_object_get(c->body, name);
  out[0] = 0;
  if (!v && !required) return MG_OK;
  if (!mg_json_is_string(v)) {
    mg_api_fail(c, 400, "invalid_field", "字段 %s %s / field '%s' %s", name,
                v ? "须为字符串" : "缺失", name, v ? "must be a string" : "is required");
    return MG_EINVAL;
  }
  if (mg_json_string_length(v) >= size) {
    mg_api_fail(c, 400, "invalid_field", "字段 %s 过长 / field '%s' is longer than %zu bytes", name,
                name, size - 1);
    return MG_EINVAL;
  }
  memcpy(out, mg_json_string_value(v), mg_json_string_length(v) + 1);
  return MG_OK;
}

static int int_in(mg_api_call *c, const char *name, int required, int64_t *out) {
  mg_json *v = mg_json_object_get(c->body, name);
  if (!v && !required) return MG_OK;
  if (!mg_json_is_integer(v)) {
    mg_api_fail(c, 400, "invalid_field", "字段 %s 须为整数 / field '%s' %s", name, name,
                v ? "must be an integer" : "is required");
    return MG_EINVAL;
  }
  *out = mg_json_integer_value(v);
  return MG_OK;
}

static int bool_in(mg_api_call *c, const char *name, int required, int *out) {
  mg_json *v = mg_json_object_get(c->body, name);
  if (!v && !required) return MG_OK;
  if (!mg_json_is_boolean(v)) {
    mg_api_fail(c, 400, "invalid_field", "字段 %s 须为 true 或 false / field '%s' %s", name, name,
                v ? "must be true or false" : "is required");
    return MG_EINVAL;
  }
  *out = mg_json_is_true(v);
  return MG_OK;
}

/* A number with at most one decimal, as tenths (credits, scores). */
static int tenths_in(mg_api_call *c, const char *name, int64_t *out) {
  mg_json *v = mg_json_object_get(c->body, name);
  if (!mg_json_is_number(v)) {
    mg_api_fail(c, 400, "invalid_field", "字段 %s 须为数字 / field '%s' %s", name, name,
                v ? "must be a number" : "is required");
    return MG_EINVAL;
  }
  double d = mg_json_number_value(v) * 10.0;
  int64_t t = (int64_t)(d + (d < 0 ? -0.5 : 0.5));
  if (d - (double)t > 1e-6 || (double)t - d > 1e-6 || t < -1000000 || t > 1000000) {
    mg_api_fail(c, 400, "invalid_field",
                "字段 %s 最多一位小数 / field '%s' may have at most one decimal", name, name);
    return MG_EINVAL;
  }
  *out = t;
  return MG_OK;
}

/* ---- JSON of registry objects ------------------------------------------------------------- */

typedef struct jb {
  mg_arena *a;
  mg_json *o;
} jb;

static jb jnew(mg_api_call *c) {
  jb b = {&c->req->pool, mg_json_object(&c->req->pool)};
  return b;
}
static void js(jb *b, const char *k, const char *v) {
  mg_json *x = b->o ? mg_json_string(b->a, v ? v : "") : NULL;
  if (!x || mg_json_object_set(b->a, b->o, k, x)) b->o = NULL;
}
static void ji(jb *b, const char *k, int64_t v) {
  mg_json *x = b->o ? mg_json_integer(b->a, v) : NULL;
  if (!x || mg_json_object_set(b->a, b->o, k, x)) b->o = NULL;
}
static void jbool(jb *b, const char *k, int v) {
  if (b->o && mg_json_object_set(b->a, b->o, k, v ? mg_json_true() : mg_json_false())) b->o = NULL;
}
static void jv(jb *b, const char *k, mg_json *v) {
  if (!v || (b->o && mg_json_object_set(b->a, b->o, k, v))) b->o = NULL;
}
static void jt(jb *b, const char *k, int64_t us) {
  char t[MG_TIME_ISO_LEN];
  if (!us) {
    if (b->o && mg_json_object_set(b->a, b->o, k, mg_json_null())) b->o = NULL;
    return;
  }
  mg_time_format_iso(us, 3, t);
  js(b, k, t);
}
static void jtenths(jb *b, const char *k, int64_t tenths) {
  mg_json *x = b->o ? mg_json_real(b->a, (double)tenths / 10.0) : NULL;
  if (!x || mg_json_object_set(b->a, b->o, k, x)) b->o = NULL;
}
static void juuid(jb *b, const char *k, const uint8_t u[16]) {
  char t[MG_UUID_STR_LEN];
  mg_uuid_format(u, t);
  js(b, k, t);
}

static mg_json *org_json(mg_api_call *c, const mg_reg_org *o) {
  jb b = jnew(c);
  ji(&b, "id", o->id);
  js(&b, "kind", o->kind);
  js(&b, "code", o->code);
  js(&b, "name", o->name);
  js(&b, "province", o->province);
  if (o->home_page[0]) js(&b, "home_page", o->home_page);
  jt(&b, "created", o->created_us);
  return b.o;
}

static mg_json *switch_json(mg_api_call *c, const mg_reg_switch *w) {
  jb b = jnew(c);
  ji(&b, "id", w->id);
  ji(&b, "platform_id", w->platform_id);
  js(&b, "scope", w->scope);
  if (w->province[0]) js(&b, "province", w->province);
  if (w->university_id) ji(&b, "university_id", w->university_id);
  js(&b, "reason", w->reason);
  js(&b, "stopped_by", w->stopped_by);
  jt(&b, "stopped_at", w->stopped_us);
  jbool(&b, "active", w->lifted_us == 0);
  if (w->lifted_us) {
    js(&b, "lifted_by", w->lifted_by);
    jt(&b, "lifted_at", w->lifted_us);
  }
  return b.o;
}

/* A list being built: every pushed item counts towards total; only those in the page
 * [offset, offset + limit) are kept (limit 0: all, for nested lists). */
typedef struct arr_ctx {
  mg_api_call *c;
  mg_json *arr;
  int rc;
  int64_t filter; /* list-specific */
  size_t offset, limit, total;
} arr_ctx;

static int push(arr_ctx *x, mg_json *v) {
  size_t i = x->total++;
  if (i < x->offset || (x->limit && i >= x->offset + x->limit)) return MG_OK;
  if (!v || mg_json_array_append(&x->c->req->pool, x->arr, v)) return x->rc = MG_ENOMEM;
  return MG_OK;
}

static int parse_size(const char *q, size_t dflt, size_t max, size_t *out) {
  *out = dflt;
  if (!q) return MG_OK;
  char *end = NULL;
  long long v = strtoll(q, &end, 10);
  if (end == q || *end || v < 0 || (size_t)v > max) return MG_EINVAL;
  *out = (size_t)v;
  return MG_OK;
}

/* Starts a paged list from ?limit= (1-500, default 50) and ?offset=; answers 400 on bad ones. */
static int list_begin(mg_api_call *c, arr_ctx *x) {
  memset(x, 0, sizeof *x);
  x->c = c;
  if (parse_size(mg_api_query(c, "offset"), 0, (size_t)1 << 40, &x->offset) ||
      parse_size(mg_api_query(c, "limit"), 50, 500, &x->limit) || !x->limit) {
    mg_api_fail(c, 400, "invalid_parameter",
                "limit 须为 1 至 500，offset 须为非负整数 / limit must be 1..500 and offset >= 0");
    return MG_EINVAL;
  }
  x->arr = mg_json_array(&c->req->pool);
  if (!x->arr) {
    mg_api_fail(c, 500, "out_of_memory", "out of memory");
    return MG_ENOMEM;
  }
  return MG_OK;
}

/* {"items", "total", "limit", "offset"} plus extra members already in b (may be NULL). */
static void list_reply(mg_api_call *c, arr_ctx *x, int rc, const char *what, mg_json *extra) {
  if (!rc) rc = x->rc;
  if (rc) {
    mg_api_fail_err(c, rc, what);
    return;
  }
  mg_arena *a = &c->req->pool;
  mg_json *o = extra ? extra : mg_json_object(a);
  mg_json *t = mg_json_integer(a, (int64_t)x->total), *l = mg_json_integer(a, (int64_t)x->limit),
          *of = mg_json_integer(a, (int64_t)x->offset);
  if (!o || !t || !l || !of || mg_json_object_set(a, o, "items", x->arr) ||
      mg_json_object_set(a, o, "total", t) || mg_json_object_set(a, o, "limit", l) ||
      mg_json_object_set(a, o, "offset", of)) {
    mg_api_fail(c, 500, "out_of_memory", "out of memory");
    return;
  }
  mg_api_reply(c, 200, o);
}

static int push_switch(void *ud, const mg_reg_switch *w) {
  arr_ctx *x = ud;
  return push(x, switch_json(x->c, w));
}

static mg_json *platform_json(mg_api_call *c, const mg_reg_platform *p, int with_switches) {
  jb b = jnew(c);
  ji(&b, "id", p->org.id);
  js(&b, "code", p->org.code);
  js(&b, "name", p->org.name);
  js(&b, "province", p->org.province);
  jb f = jnew(c);
  ji(&f, "mlps_level", p->mlps_level);
  js(&f, "filing_no", p->filing_no);
  js(&f, "review_due", p->review_due);
  jt(&f, "filed_at", p->filed_us);
  jv(&b, "filing", f.o);
  js(&b, "status", p->status);
  js(&b, "status_reason", p->status_reason);
  js(&b, "status_by", p->status_by);
  jt(&b, "status_at", p->status_us);
  mg_registry_why why;
  int sel = mg_registry_platform_selectable(p, mg_time_now_us(), &why) == MG_OK;
  jbool(&b, "selectable", sel);
  if (!sel) js(&b, "not_selectable_because", why.code);
  if (with_switches && b.o) {
    arr_ctx x = {c, mg_json_array(&c->req->pool), MG_OK, 0, 0, 0, 0};
    if (!x.arr || mg_store_reg_switch_list(c->store, p->org.id, 1, push_switch, &x)) return NULL;
    jv(&b, "active_switches", x.arr);
  }
  return b.o;
}

static mg_json *course_json(mg_api_call *c, const mg_reg_course *co, int with_reviews) {
  jb b = jnew(c);
  ji(&b, "id", co->id);
  ji(&b, "platform_id", co->platform_id);
  ji(&b, "university_id", co->university_id);
  ji(&b, "recommendation_id", co->recommendation_id);
  js(&b, "code", co->code);
  js(&b, "title", co->title);
  js(&b, "iri", co->iri);
  js(&b, "lead_teacher", co->lead_teacher);
  js(&b, "status", co->status);
  js(&b, "content_updated", co->content_updated);
  js(&b, "submitted_by", co->submitted_by);
  jt(&b, "submitted_at", co->submitted_us);
  mg_registry_why why;
  int64_t age = 0;
  int sel = mg_registry_course_selectable(c->store, co, mg_time_now_us(), &age, &why) == MG_OK;
  ji(&b, "content_age_days", age);
  jbool(&b, "selectable", sel);
  if (!sel) {
    js(&b, "not_selectable_because", why.code);
    js(&b, "not_selectable_message", why.message);
  }
  if (with_reviews && b.o) {
    mg_reg_review latest[3];
    int has[3];
    static const char *const kinds[3] = {"content", "ideology", "quality"};
    jb rv = jnew(c);
    if (mg_registry_course_review_state(c->store, co->id, latest, has)) return NULL;
    for (int k = 0; k < 3; k++) {
      if (!has[k]) {
        if (rv.o && mg_json_object_set(rv.a, rv.o, kinds[k], mg_json_null())) rv.o = NULL;
        continue;
      }
      jb r = jnew(c);
      js(&r, "verdict", latest[k].verdict);
      js(&r, "reviewer", latest[k].reviewer);
      js(&r, "opinion", latest[k].opinion);
      jt(&r, "reviewed_at", latest[k].reviewed_us);
      jv(&rv, kinds[k], r.o);
    }
    jv(&b, "reviews", rv.o);
  }
  return b.o;
}

static mg_json *offering_json(mg_api_call *c, const mg_reg_offering *o) {
  jb b = jnew(c);
  ji(&b, "id", o->id);
  ji(&b, "university_id", o->university_id);
  ji(&b, "course_id", o->course_id);
  js(&b, "term", o->term);
  jtenths(&b, "credits", o->credits_tenths);
  js(&b, "resp_teacher", o->resp_teacher);
  js(&b, "iri", o->iri);
  js(&b, "created_by", o->created_by);
  jt(&b, "created_at", o->created_us);
  return b.o;
}

/* mask: names and student numbers masked (lists); names never given to platforms. */
static mg_json *enrolment_json(mg_api_call *c, const mg_reg_enrolment *e, int mask) {
  jb b = jnew(c);
  char tmp[160];
  juuid(&b, "registration", e->registration);
  ji(&b, "offering_id", e->offering_id);
  if (mask) {
    mg_registry_mask_student_no(e->student.student_no, tmp, sizeof tmp);
    js(&b, "student_no", tmp);
  } else {
    js(&b, "student_no", e->student.student_no);
  }
  if (c->who->role != MG_ROLE_PLATFORM_OPERATOR) {
    ji(&b, "student_id", e->student_id); /* the id accounts link to (users.student_id) */
    if (mask) {
      mg_registry_mask_name(e->student.name, tmp, sizeof tmp);
      js(&b, "name", tmp);
    } else {
      js(&b, "name", e->student.name);
    }
  }
  /* the university's own view of one student: personal fields opened, shown masked */
  mg_reg_student_pii pii;
  if (!mask && c->who->role == MG_ROLE_UNIV_ADMIN &&
      mg_store_reg_student_pii(c->store, e->student_id, &pii) == MG_OK) {
    const char *toks[2] = {pii.national_id_enc, pii.phone_enc};
    const char *fields[2] = {"student.national_id", "student.phone"};
    for (int k = 0; k < 2; k++) {
      char *plain = NULL;
      size_t n = 0;
      if (!toks[k][0] || mg_crypto_open(fields[k], toks[k], &plain, &n)) continue;
      if ((k ? mg_crypto_mask_phone(plain, tmp, sizeof tmp) : mg_crypto_mask_id(plain, tmp, sizeof tmp)) == MG_OK)
        js(&b, k ? "phone" : "national_id", tmp);
      sodium_memzero(plain, n);
      free(plain);
    }
  }
  jbool(&b, "active", e->active);
  jbool(&b, "pledge_signed", e->pledge_signed > 0);
  jt(&b, "enrolled_at", e->created_us);
  return b.o;
}

static mg_json *exam_json(mg_api_call *c, const mg_reg_exam *e) {
  jb b = jnew(c);
  ji(&b, "id", e->id);
  ji(&b, "offering_id", e->offering_id);
  js(&b, "title", e->title);
  jt(&b, "starts_at", e->starts_us);
  jb p = jnew(c);
  jbool(&p, "face_start", e->face_start);
  jbool(&p, "face_during", e->face_during);
  jbool(&p, "dual_camera", e->dual_camera);
  js(&p, "invigilator", e->invigilator);
  jv(&b, "supervision_plan", p.o);
  js(&b, "created_by", e->created_by);
  jt(&b, "created_at", e->created_us);
  return b.o;
}

static mg_json *result_json(mg_api_call *c, const mg_reg_result *r) {
  jb b = jnew(c);
  ji(&b, "exam_id", r->exam_id);
  juuid(&b, "registration", r->registration);
  jtenths(&b, "score", r->score_tenths);
  jbool(&b, "final", r->final);
  js(&b, "submitted_by", r->submitted_by);
  jt(&b, "submitted_at", r->submitted_us);
  if (r->final) {
    js(&b, "finalised_by", r->finalised_by);
    jt(&b, "finalised_at", r->finalised_us);
  }
  return b.o;
}

/* ---- scope helpers over stored objects ---------------------------------------------------- */

/* Loads a university's province for a scope check. */
static void province_of(mg_api_call *c, int64_t org_id, char prov[16]) {
  mg_reg_org o;
  prov[0] = 0;
  if (mg_store_reg_org_get(c->store, org_id, &o) == MG_OK) snprintf(prov, 16, "%s", o.province);
}

/* The offering's university or the course's platform is the caller's (or within its scope). */
static int may_offering(mg_api_call *c, const mg_reg_offering *o, const mg_reg_course *co) {
  char prov[16];
  province_of(c, o->university_id, prov);
  return mg_api_may_org(c, o->university_id, prov) || mg_api_may_org(c, co->platform_id, NULL);
}

/* Loads offering :id with its course and checks scope; answers on failure. */
static int load_offering(mg_api_call *c, const char *param, mg_reg_offering *o, mg_reg_course *co) {
  int64_t id;
  mg_registry_why why;
  if (mg_api_param_id(c, param, &id)) return MG_EINVAL;
  int rc = mg_registry_offering_get(c->store, id, o, co, NULL, &why);
  if (rc) {
    refuse(c, rc, &why);
    return rc;
  }
  if (!may_offering(c, o, co)) {
    out_of_scope(c, "offering");
    return MG_EFORBIDDEN;
  }
  return MG_OK;
}

/* Loads the enrolment with registration reg and checks scope (students: their own). */
static int load_enrolment(mg_api_call *c, const char *reg, mg_reg_enrolment *e,
                          mg_reg_offering *o, mg_reg_course *co) {
  mg_registry_why why;
  int rc = mg_registry_enrolment_find(c->store, reg, e, &why);
  if (rc) {
    refuse(c, rc, &why);
    return rc;
  }
  if ((rc = mg_registry_offering_get(c->store, e->offering_id, o, co, NULL, &why))) {
    refuse(c, rc, &why);
    return rc;
  }
  int ok = c->who->role == MG_ROLE_STUDENT ? c->who->student_id == e->student_id
                                           : may_offering(c, o, co);
  if (!ok) {
    out_of_scope(c, "enrolment");
    return MG_EFORBIDDEN;
  }
  return MG_OK;
}

/* ---- organisations ------------------------------------------------------------------------ */

static int push_org(void *ud, const mg_reg_org *o) {
  arr_ctx *x = ud;
  if (!strcmp(o->kind, "platform")) return MG_OK; /* listed under /platforms */
  return push(x, org_json(x->c, o));
}

static void h_orgs_list(mg_api_call *c, void *ud) {
  (void)ud;
  arr_ctx x;
  if (list_begin(c, &x)) return;
  int rc = mg_store_reg_org_list(c->store, mg_api_query(c, "kind"), mg_api_query(c, "province"),
                                 push_org, &x);
  jb b = jnew(c);
  list_reply(c, &x, rc, "organisations", b.o);
}

static void h_org_get(mg_api_call *c, void *ud) {
  (void)ud;
  int64_t id;
  mg_reg_org o;
  if (mg_api_param_id(c, "id", &id)) return;
  int rc = mg_store_reg_org_get(c->store, id, &o);
  if (rc) {
    mg_api_fail_err(c, rc, "organisation");
    return;
  }
  mg_api_reply(c, 200, org_json(c, &o));
}

static void h_org_create(mg_api_call *c, void *ud) {
  (void)ud;
  static const char *const f[] = {"kind", "code", "name", "province", "home_page", NULL};
  mg_reg_org o;
  memset(&o, 0, sizeof o);
  widen(c);
  if (only_fields(c, f) || str_in(c, "kind", 1, o.kind, sizeof o.kind) ||
      str_in(c, "code", 1, o.code, sizeof o.code) || str_in(c, "name", 1, o.name, sizeof o.name) ||
      str_in(c, "province", 0, o.province, sizeof o.province) ||
      str_in(c, "home_page", 0, o.home_page, sizeof o.home_page))
    return;
  if (!strcmp(o.kind, "ministry") ? !national(c) : !mg_api_may_org(c, 0, o.province)) {
    out_of_scope(c, "province");
    return;
  }
  mg_registry_why why;
  int64_t id = 0;
  if (begin(c)) return;
  int rc = mg_registry_org_create(c->store, &o, mg_time_now_us(), &id, &why);
  if (rc) {
    refuse(c, rc, &why);
    return;
  }
  mg_store_reg_org_get(c->store, id, &o);
  mg_json *j = org_json(c, &o);
  done(c, "org", id, NULL, j, 201, j);
}

static void h_org_update(mg_api_call *c, void *ud) {
  (void)ud;
  static const char *const f[] = {"name", "province", "home_page", NULL};
  int64_t id;
  mg_reg_org cur, o;
  widen(c);
  if (mg_api_param_id(c, "id", &id) || only_fields(c, f)) return;
  if (begin(c)) return;
  int rc = mg_store_reg_org_get(c->store, id, &cur);
  if (rc) {
    mg_store_tx_rollback(c->store);
    mg_api_fail_err(c, rc, "organisation");
    return;
  }
  o = cur;
  char tmp[512];
  if (mg_json_object_get(c->body, "name") && (str_in(c, "name", 1, o.name, sizeof o.name))) goto bad;
  if (mg_json_object_get(c->body, "province") &&
      str_in(c, "province", 1, o.province, sizeof o.province))
    goto bad;
  if (mg_json_object_get(c->body, "home_page")) {
    if (str_in(c, "home_page", 1, tmp, sizeof tmp)) goto bad;
    snprintf(o.home_page, sizeof o.home_page, "%s", tmp);
  }
  if (!mg_api_may_org(c, cur.id, cur.province) || !mg_api_may_org(c, o.id, o.province)) {
    mg_store_tx_rollback(c->store);
    out_of_scope(c, "organisation");
    return;
  }
  mg_registry_why why;
  if ((rc = mg_registry_org_update(c->store, &o, &why))) {
    refuse(c, rc, &why);
    return;
  }
  mg_store_reg_org_get(c->store, id, &o);
  mg_json *before = org_json(c, &cur), *after = org_json(c, &o);
  done(c, "org", id, before, after, 200, after);
  return;
bad:
  mg_store_tx_rollback(c->store);
}

/* ---- platforms ---------------------------------------------------------------------------- */

static int push_platform(void *ud, const mg_reg_platform *p) {
  arr_ctx *x = ud;
  return push(x, platform_json(x->c, p, 0));
}

static void h_platforms_list(mg_api_call *c, void *ud) {
  (void)ud;
  arr_ctx x;
  if (list_begin(c, &x)) return;
  int rc = mg_store_reg_platform_list(c->store, mg_api_query(c, "status"), push_platform, &x);
  jb b = jnew(c);
  list_reply(c, &x, rc, "platforms", b.o);
}

static int load_platform(mg_api_call *c, int64_t *id, mg_reg_platform *p) {
  if (mg_api_param_id(c, "id", id)) return MG_EINVAL;
  int rc = mg_store_reg_platform_get(c->store, *id, p);
  if (rc) mg_api_fail_err(c, rc, "platform");
  return rc;
}

static void h_platform_get(mg_api_call *c, void *ud) {
  (void)ud;
  int64_t id;
  mg_reg_platform p;
  if (load_platform(c, &id, &p)) return;
  mg_api_reply(c, 200, platform_json(c, &p, 1));
}

static void h_platform_create(mg_api_call *c, void *ud) {
  (void)ud;
  static const char *const f[] = {"code", "name", "province", NULL};
  mg_reg_org o;
  memset(&o, 0, sizeof o);
  if (need_national(c) || only_fields(c, f) || str_in(c, "code", 1, o.code, sizeof o.code) ||
      str_in(c, "name", 1, o.name, sizeof o.name) ||
      str_in(c, "province", 0, o.province, sizeof o.province))
    return;
  mg_registry_why why;
  int64_t id = 0;
  if (begin(c)) return;
  int rc = mg_registry_platform_create(c->store, &o, mg_time_now_us(), &id, &why);
  if (rc) {
    refuse(c, rc, &why);
    return;
  }
  mg_reg_platform p;
  mg_store_reg_platform_get(c->store, id, &p);
  mg_json *j = platform_json(c, &p, 0);
  done(c, "platform", id, NULL, j, 201, j);
}

static void h_platform_filing(mg_api_call *c, void *ud) {
  (void)ud;
  static const char *const f[] = {"mlps_level", "filing_no", "review_due", NULL};
  int64_t id, mlps = 0;
  char no[64], due[16];
  mg_reg_platform p, after;
  widen(c);
  if (mg_api_param_id(c, "id", &id) || only_fields(c, f) || int_in(c, "mlps_level", 1, &mlps) ||
      str_in(c, "filing_no", 1, no, sizeof no) || str_in(c, "review_due", 1, due, sizeof due))
    return;
  if (c->who->role == MG_ROLE_REGULATOR ? !national(c) : !mg_api_may_org(c, id, NULL)) {
    out_of_scope(c, "platform");
    return;
  }
  if (begin(c)) return;
  mg_registry_why why;
  int rc = mg_store_reg_platform_get(c->store, id, &p);
  if (rc) {
    mg_store_tx_rollback(c->store);
    mg_api_fail_err(c, rc, "platform");
    return;
  }
  if ((rc = mg_registry_platform_file(c->store, id, mlps > 9 ? 9 : mlps < 0 ? 0 : (int)mlps, no, due,
                                      mg_time_now_us(), &why))) {
    refuse(c, rc, &why);
    return;
  }
  mg_store_reg_platform_get(c->store, id, &after);
  mg_json *a = platform_json(c, &after, 0);
  done(c, "platform", id, platform_json(c, &p, 0), a, 200, a);
}

static void h_platform_status(mg_api_call *c, void *ud) {
  (void)ud;
  static const char *const f[] = {"status", "reason", NULL};
  int64_t id;
  char status[16], reason[512];
  mg_reg_platform p, after;
  if (mg_api_param_id(c, "id", &id) || need_national(c) || only_fields(c, f) ||
      str_in(c, "status", 1, status, sizeof status) || str_in(c, "reason", 1, reason, sizeof reason))
    return;
  if (begin(c)) return;
  mg_registry_why why;
  int rc = mg_store_reg_platform_get(c->store, id, &p);
  if (rc) {
    mg_store_tx_rollback(c->store);
    mg_api_fail_err(c, rc, "platform");
    return;
  }
  if ((rc = mg_registry_platform_set_status(c->store, id, status, reason, by(c), mg_time_now_us(),
                                            &why))) {
    refuse(c, rc, &why);
    return;
  }
  mg_store_reg_platform_get(c->store, id, &after);
  mg_json *a = platform_json(c, &after, 0);
  done(c, "platform", id, platform_json(c, &p, 0), a, 200, a);
}

static int push_status(void *ud, const mg_reg_status_entry *e) {
  arr_ctx *x = ud;
  jb b = jnew(x->c);
  js(&b, "status", e->status);
  js(&b, "reason", e->reason);
  js(&b, "decided_by", e->decided_by);
  jt(&b, "decided_at", e->decided_us);
  return push(x, b.o);
}

static void h_platform_history(mg_api_call *c, void *ud) {
  (void)ud;
  int64_t id;
  mg_reg_platform p;
  if (load_platform(c, &id, &p)) return;
  arr_ctx x;
  if (list_begin(c, &x)) return;
  int rc = mg_store_reg_platform_history(c->store, id, push_status, &x);
  jb b = jnew(c);
  ji(&b, "platform_id", id);
  list_reply(c, &x, rc, "history", b.o);
}

static void h_switch_stop(mg_api_call *c, void *ud) {
  (void)ud;
  static const char *const f[] = {"scope", "province", "university_id", "reason", NULL};
  mg_reg_switch w;
  memset(&w, 0, sizeof w);
  widen(c);
  if (mg_api_param_id(c, "id", &w.platform_id) || only_fields(c, f) ||
      str_in(c, "scope", 1, w.scope, sizeof w.scope) ||
      str_in(c, "province", 0, w.province, sizeof w.province) ||
      int_in(c, "university_id", 0, &w.university_id) ||
      str_in(c, "reason", 1, w.reason, sizeof w.reason))
    return;
  /* scoped national → province → university: a provincial regulator acts in its province */
  if (!national(c)) {
    char prov[16] = "";
    if (!strcmp(w.scope, "province")) snprintf(prov, sizeof prov, "%s", w.province);
    else if (!strcmp(w.scope, "university")) province_of(c, w.university_id, prov);
    if (!strcmp(w.scope, "national") || !mg_api_may_org(c, 0, prov))
      {
    out_of_scope(c, "scope");
    return;
  }
  }
  if (begin(c)) return;
  mg_registry_why why;
  int64_t sid = 0;
  int rc = mg_registry_switch_stop(c->store, &w, by(c), mg_time_now_us(), &sid, &why);
  if (rc) {
    refuse(c, rc, &why);
    return;
  }
  mg_store_reg_switch_get(c->store, sid, &w);
  mg_json *j = switch_json(c, &w);
  done(c, "platform_switch", sid, NULL, j, 201, j);
}

static void h_switch_lift(mg_api_call *c, void *ud) {
  (void)ud;
  int64_t pid, sid;
  mg_reg_switch w;
  widen(c);
  if (mg_api_param_id(c, "id", &pid) || mg_api_param_id(c, "sid", &sid)) return;
  int rc = mg_store_reg_switch_get(c->store, sid, &w);
  if (rc || w.platform_id != pid) {
    mg_api_fail_err(c, MG_ENOTFOUND, "switch");
    return;
  }
  char prov[16] = "";
  if (w.university_id) province_of(c, w.university_id, prov);
  else snprintf(prov, sizeof prov, "%s", w.province);
  if (!national(c) && (!strcmp(w.scope, "national") || !mg_api_may_org(c, 0, prov))) {
    out_of_scope(c, "switch");
    return;
  }
  if (begin(c)) return;
  mg_registry_why why;
  mg_json *before = switch_json(c, &w);
  if ((rc = mg_registry_switch_lift(c->store, pid, sid, by(c), mg_time_now_us(), &why))) {
    refuse(c, rc, &why);
    return;
  }
  mg_store_reg_switch_get(c->store, sid, &w);
  mg_json *j = switch_json(c, &w);
  done(c, "platform_switch", sid, before, j, 200, j);
}

static void h_switch_list(mg_api_call *c, void *ud) {
  (void)ud;
  int64_t id;
  mg_reg_platform p;
  if (load_platform(c, &id, &p)) return;
  arr_ctx x;
  if (list_begin(c, &x)) return;
  const char *active = mg_api_query(c, "active");
  int rc = mg_store_reg_switch_list(c->store, id, active && !strcmp(active, "true"), push_switch, &x);
  jb b = jnew(c);
  list_reply(c, &x, rc, "switches", b.o);
}

/* LRS credentials of a platform: the key and the secret, shown once. */
static void h_credential_create(mg_api_call *c, void *ud) {
  (void)ud;
  int64_t id;
  mg_reg_platform p;
  widen(c);
  if (load_platform(c, &id, &p)) return;
  if (c->who->role == MG_ROLE_REGULATOR ? !national(c) : !mg_api_may_org(c, id, NULL)) {
    out_of_scope(c, "platform");
    return;
  }
  char key[64], secret[64];
  /* argon2id hashing happens here, outside the transaction (it is slow on purpose) */
  int rc = mg_auth_credential_create(c->store, p.org.name, id, key, secret);
  if (rc) {
    mg_api_fail_err(c, rc, "credential");
    return;
  }
  /* The credential lives with the statements, outside the governance transaction: if its
   * audit record cannot be written, the credential is disabled again (never usable unaudited). */
  if (begin(c)) {
    mg_store_credential_set_enabled(c->store, key, 0);
    return;
  }
  jb b = jnew(c);
  ji(&b, "platform_id", id);
  js(&b, "key", key);
  jb a = jnew(c);
  js(&a, "key", key);
  ji(&a, "platform_id", id);
  js(&b, "secret", secret);
  js(&b, "note", "secret 只显示这一次 / the secret is shown once and never stored in the clear");
  done(c, "platform_credential", id, NULL, a.o, 201, b.o);
  if (c->resp->status != 201) mg_store_credential_set_enabled(c->store, key, 0);
  sodium_memzero(secret, sizeof secret);
}

static int push_cred(void *ud, const mg_store_credential *cr) {
  arr_ctx *x = ud;
  if (cr->platform_id != x->filter) return MG_OK;
  jb b = jnew(x->c);
  js(&b, "key", cr->key);
  jbool(&b, "enabled", cr->enabled);
  jt(&b, "created_at", cr->created_us);
  return push(x, b.o);
}

static void h_credential_list(mg_api_call *c, void *ud) {
  (void)ud;
  int64_t id;
  mg_reg_platform p;
  widen(c);
  if (load_platform(c, &id, &p)) return;
  if (c->who->role == MG_ROLE_REGULATOR ? !national(c) : !mg_api_may_org(c, id, NULL)) {
    out_of_scope(c, "platform");
    return;
  }
  arr_ctx x;
  if (list_begin(c, &x)) return;
  x.filter = id;
  int rc = mg_store_credential_list(c->store, push_cred, &x);
  jb b = jnew(c);
  list_reply(c, &x, rc, "credentials", b.o);
}

/* ---- recommendations and courses ---------------------------------------------------------- */

static mg_json *rec_json(mg_api_call *c, const mg_reg_recommendation *r) {
  jb b = jnew(c);
  ji(&b, "id", r->id);
  ji(&b, "university_id", r->university_id);
  ji(&b, "platform_id", r->platform_id);
  js(&b, "title", r->title);
  js(&b, "lead_teacher", r->lead_teacher);
  js(&b, "letter_no", r->letter_no);
  js(&b, "recommended_by", r->recommended_by);
  jt(&b, "recommended_at", r->recommended_us);
  if (r->course_id) ji(&b, "course_id", r->course_id);
  return b.o;
}

static void h_rec_create(mg_api_call *c, void *ud) {
  (void)ud;
  static const char *const f[] = {"university_id", "platform_id", "title", "lead_teacher",
                                  "letter_no", NULL};
  mg_reg_recommendation r;
  memset(&r, 0, sizeof r);
  r.university_id = c->who->org_id;
  if (only_fields(c, f) || int_in(c, "university_id", 0, &r.university_id) ||
      int_in(c, "platform_id", 1, &r.platform_id) ||
      str_in(c, "title", 1, r.title, sizeof r.title) ||
      str_in(c, "lead_teacher", 1, r.lead_teacher, sizeof r.lead_teacher) ||
      str_in(c, "letter_no", 1, r.letter_no, sizeof r.letter_no))
    return;
  if (!mg_api_may_org(c, r.university_id, NULL)) {
    out_of_scope(c, "university");
    return;
  }
  if (begin(c)) return;
  mg_registry_why why;
  int64_t id = 0;
  int rc = mg_registry_recommend(c->store, &r, by(c), mg_time_now_us(), &id, &why);
  if (rc) {
    refuse(c, rc, &why);
    return;
  }
  mg_store_reg_rec_get(c->store, id, &r);
  mg_json *j = rec_json(c, &r);
  done(c, "recommendation", id, NULL, j, 201, j);
}

static int push_rec(void *ud, const mg_reg_recommendation *r) {
  arr_ctx *x = ud;
  char prov[16];
  province_of(x->c, r->university_id, prov);
  if (!mg_api_may_org(x->c, r->university_id, prov) && !mg_api_may_org(x->c, r->platform_id, NULL))
    return MG_OK;
  return push(x, rec_json(x->c, r));
}

static void h_rec_list(mg_api_call *c, void *ud) {
  (void)ud;
  arr_ctx x;
  if (list_begin(c, &x)) return;
  widen(c);
  /* course.read is granted widely (the catalogue); recommendations are the parties' business */
  if (c->who->role != MG_ROLE_REGULATOR) c->scope = MG_SCOPE_ORG;
  int rc = mg_store_reg_rec_list(c->store, 0, 0, push_rec, &x);
  jb b = jnew(c);
  list_reply(c, &x, rc, "recommendations", b.o);
}

static void h_course_submit(mg_api_call *c, void *ud) {
  (void)ud;
  static const char *const f[] = {"platform_id",  "recommendation_id", "code", "title",
                                  "lead_teacher", "iri", "content_updated", NULL};
  mg_reg_course co;
  memset(&co, 0, sizeof co);
  co.platform_id = c->who->org_id;
  if (only_fields(c, f) || int_in(c, "platform_id", 0, &co.platform_id) ||
      int_in(c, "recommendation_id", 0, &co.recommendation_id) ||
      str_in(c, "code", 1, co.code, sizeof co.code) ||
      str_in(c, "title", 0, co.title, sizeof co.title) ||
      str_in(c, "lead_teacher", 0, co.lead_teacher, sizeof co.lead_teacher) ||
      str_in(c, "iri", 1, co.iri, sizeof co.iri) ||
      str_in(c, "content_updated", 1, co.content_updated, sizeof co.content_updated))
    return;
  if (!mg_api_may_org(c, co.platform_id, NULL)) {
    out_of_scope(c, "platform");
    return;
  }
  if (begin(c)) return;
  mg_registry_why why;
  int64_t id = 0;
  int rc = mg_registry_course_submit(c->store, &co, by(c), mg_time_now_us(), &id, &why);
  if (rc) {
    refuse(c, rc, &why);
    return;
  }
  mg_store_reg_course_get(c->store, id, &co);
  mg_json *j = course_json(c, &co, 1);
  done(c, "course", id, NULL, j, 201, j);
}

static int push_course(void *ud, const mg_reg_course *co) {
  arr_ctx *x = ud;
  return push(x, course_json(x->c, co, 0));
}

static void h_course_list(mg_api_call *c, void *ud) {
  (void)ud;
  int64_t pid = 0, uid = 0;
  const char *q;
  char *end;
  if ((q = mg_api_query(c, "platform_id"))) pid = strtoll(q, &end, 10);
  if ((q = mg_api_query(c, "university_id"))) uid = strtoll(q, &end, 10);
  arr_ctx x;
  if (list_begin(c, &x)) return;
  int rc = mg_store_reg_course_list(c->store, pid, uid, mg_api_query(c, "status"), push_course, &x);
  jb b = jnew(c);
  list_reply(c, &x, rc, "courses", b.o);
}

static int load_course(mg_api_call *c, int64_t *id, mg_reg_course *co) {
  if (mg_api_param_id(c, "id", id)) return MG_EINVAL;
  int rc = mg_store_reg_course_get(c->store, *id, co);
  if (rc) mg_api_fail_err(c, rc, "course");
  return rc;
}

static void h_course_get(mg_api_call *c, void *ud) {
  (void)ud;
  int64_t id;
  mg_reg_course co;
  if (load_course(c, &id, &co)) return;
  mg_api_reply(c, 200, course_json(c, &co, 1));
}

/* The platform's own courses only. Loads, checks scope and opens the transaction. */
static int own_course(mg_api_call *c, int64_t *id, mg_reg_course *co, mg_json **before) {
  if (load_course(c, id, co)) return MG_EINVAL;
  if (!mg_api_may_org(c, co->platform_id, NULL)) {
    out_of_scope(c, "course");
    return MG_EFORBIDDEN;
  }
  *before = course_json(c, co, 1);
  return begin(c);
}

static void course_after(mg_api_call *c, int64_t id, mg_json *before) {
  mg_reg_course co;
  mg_store_reg_course_get(c->store, id, &co);
  mg_json *j = course_json(c, &co, 1);
  done(c, "course", id, before, j, 200, j);
}

static void h_course_review(mg_api_call *c, void *ud) {
  (void)ud;
  static const char *const f[] = {"kind", "verdict", "opinion", NULL};
  int64_t id;
  mg_reg_course co;
  mg_json *before;
  char kind[16], verdict[8], opinion[1024];
  if (only_fields(c, f) || str_in(c, "kind", 1, kind, sizeof kind) ||
      str_in(c, "verdict", 1, verdict, sizeof verdict) ||
      str_in(c, "opinion", 1, opinion, sizeof opinion) || own_course(c, &id, &co, &before))
    return;
  mg_registry_why why;
  int rc = mg_registry_course_review(c->store, id, kind, verdict, opinion, by(c), mg_time_now_us(),
                                     NULL, &why);
  if (rc) {
    refuse(c, rc, &why);
    return;
  }
  course_after(c, id, before);
}

static void h_course_publish(mg_api_call *c, void *ud) {
  (void)ud;
  static const char *const f[] = {"online", NULL};
  int64_t id;
  int online = 0;
  mg_reg_course co;
  mg_json *before;
  if (only_fields(c, f) || bool_in(c, "online", 1, &online) || own_course(c, &id, &co, &before))
    return;
  mg_registry_why why;
  int rc = mg_registry_course_publish(c->store, id, online, &why);
  if (rc) {
    refuse(c, rc, &why);
    return;
  }
  course_after(c, id, before);
}

static void h_course_touch(mg_api_call *c, void *ud) {
  (void)ud;
  static const char *const f[] = {"content_updated", NULL};
  int64_t id;
  char date[16];
  mg_reg_course co;
  mg_json *before;
  if (only_fields(c, f) || str_in(c, "content_updated", 1, date, sizeof date) ||
      own_course(c, &id, &co, &before))
    return;
  mg_registry_why why;
  int rc = mg_registry_course_touch(c->store, id, date, mg_time_now_us(), &why);
  if (rc) {
    refuse(c, rc, &why);
    return;
  }
  course_after(c, id, before);
}

/* ---- offerings ---------------------------------------------------------------------------- */

static void h_offering_create(mg_api_call *c, void *ud) {
  (void)ud;
  static const char *const f[] = {"university_id", "course_id", "term", "credits",
                                  "resp_teacher",  "iri", NULL};
  mg_reg_offering o;
  int64_t credits = 0;
  memset(&o, 0, sizeof o);
  o.university_id = c->who->org_id;
  if (only_fields(c, f) || int_in(c, "university_id", 0, &o.university_id) ||
      int_in(c, "course_id", 1, &o.course_id) || str_in(c, "term", 1, o.term, sizeof o.term) ||
      tenths_in(c, "credits", &credits) ||
      str_in(c, "resp_teacher", 1, o.resp_teacher, sizeof o.resp_teacher) ||
      str_in(c, "iri", 0, o.iri, sizeof o.iri))
    return;
  if (!mg_api_may_org(c, o.university_id, NULL)) {
    out_of_scope(c, "university");
    return;
  }
  o.credits_tenths = credits > 1000 || credits < 0 ? 0 : (int)credits;
  if (begin(c)) return;
  mg_registry_why why;
  int64_t id = 0;
  int rc = mg_registry_offering_create(c->store, &o, by(c), mg_time_now_us(), &id, &why);
  if (rc) {
    refuse(c, rc, &why);
    return;
  }
  mg_store_reg_offering_get(c->store, id, &o);
  mg_json *j = offering_json(c, &o);
  done(c, "offering", id, NULL, j, 201, j);
}

static int push_offering(void *ud, const mg_reg_offering *o) {
  arr_ctx *x = ud;
  mg_reg_course co;
  if (mg_store_reg_course_get(x->c->store, o->course_id, &co) || !may_offering(x->c, o, &co))
    return MG_OK;
  return push(x, offering_json(x->c, o));
}

static void h_offering_list(mg_api_call *c, void *ud) {
  (void)ud;
  int64_t uid = 0, cid = 0;
  const char *q;
  char *end;
  widen(c);
  if ((q = mg_api_query(c, "university_id"))) uid = strtoll(q, &end, 10);
  if ((q = mg_api_query(c, "course_id"))) cid = strtoll(q, &end, 10);
  arr_ctx x;
  if (list_begin(c, &x)) return;
  int rc = mg_store_reg_offering_list(c->store, uid, cid, 0, push_offering, &x);
  jb b = jnew(c);
  list_reply(c, &x, rc, "offerings", b.o);
}

static void h_offering_get(mg_api_call *c, void *ud) {
  (void)ud;
  mg_reg_offering o;
  mg_reg_course co;
  widen(c);
  if (load_offering(c, "id", &o, &co)) return;
  jb b = jnew(c);
  jv(&b, "offering", offering_json(c, &o));
  jv(&b, "course", course_json(c, &co, 0));
  mg_api_reply(c, 200, b.o);
}

/* ---- rosters and enrolments --------------------------------------------------------------- */

static mg_json *outcome_json(mg_api_call *c, const mg_registry_roster_outcome *out) {
  jb b = jnew(c);
  jbool(&b, "preview", out->preview);
  if (out->import_id) ji(&b, "import_id", out->import_id);
  if (out->duplicate_of) ji(&b, "duplicate_of", out->duplicate_of);
  js(&b, "digest", out->digest);
  ji(&b, "rows_total", out->rows_total);
  ji(&b, "rows_ok", out->rows_ok);
  ji(&b, "rows_bad", out->rows_bad);
  jb d = jnew(c);
  ji(&d, "added", out->diff.added);
  ji(&d, "reactivated", out->diff.reactivated);
  ji(&d, "removed", out->diff.removed);
  ji(&d, "renamed", out->diff.renamed);
  ji(&d, "unchanged", out->diff.unchanged);
  jv(&b, "diff", d.o);
  mg_json *probs = out->problems.data
                       ? mg_json_parse(&c->req->pool, out->problems.data, out->problems.len, 0, NULL)
                       : mg_json_array(&c->req->pool);
  jv(&b, "problems", probs);
  jbool(&b, "problems_truncated", out->rows_bad > MG_REGISTRY_ROSTER_MAX_PROBLEMS);
  if (out->ignored[0]) js(&b, "ignored_columns", out->ignored);
  if (out->sealed[0]) js(&b, "sealed_columns", out->sealed);
  if (out->not_stored[0]) {
    js(&b, "not_stored_columns", out->not_stored);
    js(&b, "not_stored_note",
       "身份证号、手机号未保存（个人信息最小化）/ national ID and phone numbers are not stored "
       "(personal data minimised)");
  }
  return b.o;
}

static void h_roster_import(mg_api_call *c, void *ud) {
  (void)ud;
  static const char *const f[] = {"csv", "preview", NULL};
  mg_reg_offering o;
  mg_reg_course co;
  int preview = 0;
  if (only_fields(c, f) || bool_in(c, "preview", 0, &preview)) return;
  mg_json *csv = mg_json_object_get(c->body, "csv");
  if (!mg_json_is_string(csv)) {
    mg_api_fail(c, 400, "invalid_field",
                       "字段 csv 须为字符串（名单 CSV 文本）/ field 'csv' (the roster as CSV text) is "
                       "required");
    return;
  }
  if (load_offering(c, "id", &o, &co)) return;
  if (c->who->org_id != o.university_id) {
    out_of_scope(c, "offering");
    return;
  }
  if (begin(c)) return;
  mg_registry_roster_outcome out;
  mg_registry_why why;
  int rc = mg_registry_roster_import(c->store, o.id, mg_json_string_value(csv),
                                     mg_json_string_length(csv), preview, by(c), mg_time_now_us(),
                                     &out, &why);
  if (rc) {
    mg_registry_roster_outcome_free(&out);
    refuse(c, rc, &why);
    return;
  }
  mg_json *j = outcome_json(c, &out);
  mg_registry_roster_outcome_free(&out);
  if (preview || out.duplicate_of) {
    mg_store_tx_commit(c->store); /* nothing was written */
    if (j) mg_api_reply(c, 200, j);
    else mg_api_fail(c, 500, "out_of_memory", "out of memory");
    return;
  }
  /* the audit record keeps the digest of the file and the counts, not the students */
  jb a = jnew(c);
  ji(&a, "offering_id", o.id);
  ji(&a, "import_id", out.import_id);
  js(&a, "digest", out.digest);
  ji(&a, "rows_total", out.rows_total);
  ji(&a, "rows_bad", out.rows_bad);
  ji(&a, "added", out.diff.added);
  ji(&a, "removed", out.diff.removed);
  done(c, "roster_import", out.import_id, NULL, a.o, 200, j);
}

typedef struct enr_ctx {
  arr_ctx x;
  int mask;
} enr_ctx;

static int push_enr(void *ud, const mg_reg_enrolment *e) {
  enr_ctx *ec = ud;
  return push(&ec->x, enrolment_json(ec->x.c, e, ec->mask));
}

/* Masked list for people; platforms get student numbers and registrations, no names (they stamp
 * registrations on statements). */
static void h_enrolment_list(mg_api_call *c, void *ud) {
  (void)ud;
  mg_reg_offering o;
  mg_reg_course co;
  size_t offset, limit;
  widen(c);
  if (load_offering(c, "id", &o, &co)) return;
  if (parse_size(mg_api_query(c, "offset"), 0, (size_t)1 << 30, &offset) ||
      parse_size(mg_api_query(c, "limit"), 50, 500, &limit) || !limit) {
    mg_api_fail(c, 400, "invalid_parameter",
                "limit 须为 1 至 500，offset 须为非负整数 / limit must be 1..500 and offset >= 0");
    return;
  }
  const char *act = mg_api_query(c, "active");
  enr_ctx ec = {{c, mg_json_array(&c->req->pool), MG_OK, 0, 0, 0, 0},
                c->who->role != MG_ROLE_PLATFORM_OPERATOR};
  if (!ec.x.arr) {
    mg_api_fail(c, 500, "out_of_memory", "out of memory");
    return;
  }
  int64_t total = 0;
  int rc = mg_store_reg_enrolment_list(c->store, o.id, !act || strcmp(act, "false"), offset, limit,
                                       push_enr, &ec, &total);
  if (rc) {
    mg_api_fail_err(c, rc, "enrolments");
    return;
  }
  jb b = jnew(c);
  ji(&b, "offering_id", o.id);
  jbool(&b, "masked", ec.mask);
  jv(&b, "items", ec.x.arr);
  ji(&b, "total", total);
  ji(&b, "limit", (int64_t)limit);
  ji(&b, "offset", (int64_t)offset);
  mg_api_reply(c, 200, b.o);
}

static void h_roster_last(mg_api_call *c, void *ud) {
  (void)ud;
  mg_reg_offering o;
  mg_reg_course co;
  widen(c);
  if (load_offering(c, "id", &o, &co)) return;
  if (c->who->role == MG_ROLE_PLATFORM_OPERATOR) {
    out_of_scope(c, "roster import");
    return;
  }
  mg_reg_roster_import imp;
  int rc = mg_store_reg_import_last(c->store, o.id, &imp);
  if (rc) {
    mg_api_fail_err(c, rc, "roster import");
    return;
  }
  jb b = jnew(c);
  ji(&b, "import_id", imp.id);
  ji(&b, "offering_id", imp.offering_id);
  js(&b, "digest", imp.digest);
  ji(&b, "rows_total", imp.rows_total);
  ji(&b, "rows_bad", imp.rows_bad);
  jb d = jnew(c);
  ji(&d, "added", imp.added);
  ji(&d, "reactivated", imp.reactivated);
  ji(&d, "removed", imp.removed);
  ji(&d, "renamed", imp.renamed);
  ji(&d, "unchanged", imp.unchanged);
  jv(&b, "diff", d.o);
  jv(&b, "problems", mg_json_parse(&c->req->pool, imp.report, strlen(imp.report), 0, NULL));
  js(&b, "imported_by", imp.imported_by);
  jt(&b, "imported_at", imp.imported_us);
  mg_store_reg_import_clear(&imp);
  mg_api_reply(c, 200, b.o);
}

static int push_pledge(void *ud, const mg_reg_pledge *p) {
  arr_ctx *x = ud;
  jb b = jnew(x->c);
  js(&b, "version", p->version);
  js(&b, "signed_by", p->signed_by);
  js(&b, "signed_ip", p->signed_ip);
  jt(&b, "signed_at", p->signed_us);
  return push(x, b.o);
}

static void h_enrolment_get(mg_api_call *c, void *ud) {
  (void)ud;
  mg_reg_enrolment e;
  mg_reg_offering o;
  mg_reg_course co;
  widen(c);
  if (load_enrolment(c, mg_api_param(c, "registration"), &e, &o, &co)) return;
  jb b = jnew(c);
  int mine = c->who->role == MG_ROLE_STUDENT;
  jv(&b, "enrolment", enrolment_json(c, &e, !mine && c->who->role != MG_ROLE_UNIV_ADMIN));
  jv(&b, "offering", offering_json(c, &o));
  arr_ctx x = {c, mg_json_array(&c->req->pool), MG_OK, 0, 0, 0, 0};
  if (!x.arr || mg_store_reg_pledge_list(c->store, e.id, push_pledge, &x)) {
    mg_api_fail(c, 500, "internal_error", "pledges could not be read");
    return;
  }
  jv(&b, "pledges", x.arr);
  mg_registry_eligibility el;
  if (mg_registry_eligibility_of(c->store, &e, &el)) {
    mg_api_fail(c, 500, "internal_error", "eligibility could not be evaluated");
    return;
  }
  jb eb = jnew(c);
  jbool(&eb, "eligible", el.eligible);
  mg_json *reasons = mg_json_array(&c->req->pool);
  for (int i = 0; reasons && i < el.n; i++) {
    jb r = jnew(c);
    js(&r, "code", el.reasons[i].code);
    js(&r, "message", el.reasons[i].message);
    if (!r.o || mg_json_array_append(&c->req->pool, reasons, r.o)) reasons = NULL;
  }
  jv(&eb, "unmet", reasons);
  jv(&b, "credit_eligibility", eb.o);
  mg_api_reply(c, 200, b.o);
}

/* ---- pledges ------------------------------------------------------------------------------ */

static mg_json *text_json(mg_api_call *c, const mg_reg_pledge_text *t) {
  jb b = jnew(c);
  js(&b, "version", t->version);
  js(&b, "body", t->body);
  js(&b, "sha256", t->digest);
  js(&b, "published_by", t->published_by);
  jt(&b, "published_at", t->published_us);
  return b.o;
}

static void h_pledge_publish(mg_api_call *c, void *ud) {
  (void)ud;
  static const char *const f[] = {"version", "body", NULL};
  char version[32];
  if (need_national(c) || only_fields(c, f) || str_in(c, "version", 1, version, sizeof version))
    return;
  const char *body = mg_json_string_value(mg_json_object_get(c->body, "body"));
  if (!body) {
    mg_api_fail(c, 400, "invalid_field", "字段 body 缺失 / field 'body' is required");
    return;
  }
  if (begin(c)) return;
  mg_registry_why why;
  int rc = mg_registry_pledge_publish(c->store, version, body, by(c), mg_time_now_us(), &why);
  if (rc) {
    refuse(c, rc, &why);
    return;
  }
  mg_reg_pledge_text t;
  if ((rc = mg_store_reg_pledge_text_get(c->store, version, &t))) {
    refuse(c, rc, NULL);
    return;
  }
  mg_json *j = text_json(c, &t);
  mg_store_reg_pledge_text_clear(&t);
  done(c, "pledge_text", 0, NULL, j, 201, j);
}

static void h_pledge_text_get(mg_api_call *c, void *ud) {
  (void)ud;
  const char *v = mg_api_param(c, "version");
  mg_reg_pledge_text t;
  int rc = v && strcmp(v, "latest") ? mg_store_reg_pledge_text_get(c->store, v, &t)
                                    : mg_store_reg_pledge_text_latest(c->store, &t);
  if (rc) {
    mg_api_fail_err(c, rc, "pledge text");
    return;
  }
  mg_json *j = text_json(c, &t);
  mg_store_reg_pledge_text_clear(&t);
  mg_api_reply(c, 200, j);
}

static void h_pledge_sign(mg_api_call *c, void *ud) {
  (void)ud;
  static const char *const f[] = {"version", NULL};
  char version[32] = "";
  mg_reg_enrolment e;
  mg_reg_offering o;
  mg_reg_course co;
  if (c->body && (only_fields(c, f) || str_in(c, "version", 0, version, sizeof version))) return;
  if (load_enrolment(c, mg_api_param(c, "registration"), &e, &o, &co)) return;
  /* load_enrolment let a student through only for their own enrolment */
  if (begin(c)) return;
  mg_registry_why why;
  mg_reg_pledge p;
  int rc = mg_registry_pledge_sign(c->store, &e, version, by(c), c->req->client_ip,
                                   mg_time_now_us(), &p, &why);
  if (rc) {
    refuse(c, rc, &why);
    return;
  }
  jb b = jnew(c);
  juuid(&b, "registration", e.registration);
  js(&b, "version", p.version);
  js(&b, "signed_by", p.signed_by);
  js(&b, "signed_ip", p.signed_ip);
  jt(&b, "signed_at", p.signed_us);
  done(c, "pledge", p.id, NULL, b.o, 201, b.o);
}

/* ---- exams -------------------------------------------------------------------------------- */

static void h_exam_plan(mg_api_call *c, void *ud) {
  (void)ud;
  static const char *const f[] = {"title",       "starts_at",   "face_start",
                                  "face_during", "dual_camera", "invigilator", NULL};
  mg_reg_offering o;
  mg_reg_course co;
  mg_reg_exam e;
  char starts[64];
  memset(&e, 0, sizeof e);
  if (only_fields(c, f) || str_in(c, "title", 1, e.title, sizeof e.title) ||
      str_in(c, "starts_at", 1, starts, sizeof starts) ||
      bool_in(c, "face_start", 0, &e.face_start) || bool_in(c, "face_during", 0, &e.face_during) ||
      bool_in(c, "dual_camera", 0, &e.dual_camera) ||
      str_in(c, "invigilator", 0, e.invigilator, sizeof e.invigilator))
    return;
  mg_timestamp ts;
  if (mg_time_parse_iso(starts, 1, &ts) != MG_OK || !ts.has_tz) {
    mg_api_fail(c, 400, "invalid_field",
                       "starts_at 须为带时区的 ISO 8601 时间 / starts_at must be an ISO 8601 "
                       "date-time with a zone");
    return;
  }
  e.starts_us = ts.us;
  if (load_offering(c, "id", &o, &co)) return;
  if (c->who->org_id != o.university_id) {
    out_of_scope(c, "offering");
    return;
  }
  e.offering_id = o.id;
  if (begin(c)) return;
  mg_registry_why why;
  int64_t id = 0;
  int rc = mg_registry_exam_plan(c->store, &e, by(c), mg_time_now_us(), &id, &why);
  if (rc) {
    refuse(c, rc, &why);
    return;
  }
  mg_store_reg_exam_get(c->store, id, &e);
  mg_json *j = exam_json(c, &e);
  done(c, "exam", id, NULL, j, 201, j);
}

static int push_exam(void *ud, const mg_reg_exam *e) {
  arr_ctx *x = ud;
  return push(x, exam_json(x->c, e));
}

static void h_exam_list(mg_api_call *c, void *ud) {
  (void)ud;
  mg_reg_offering o;
  mg_reg_course co;
  widen(c);
  if (load_offering(c, "id", &o, &co)) return;
  arr_ctx x;
  if (list_begin(c, &x)) return;
  int rc = mg_store_reg_exam_list(c->store, o.id, push_exam, &x);
  jb b = jnew(c);
  list_reply(c, &x, rc, "exams", b.o);
}

/* Loads exam :id, its offering and course; checks scope. */
static int load_exam(mg_api_call *c, mg_reg_exam *e, mg_reg_offering *o, mg_reg_course *co) {
  int64_t id;
  mg_registry_why why;
  if (mg_api_param_id(c, "id", &id)) return MG_EINVAL;
  int rc = mg_store_reg_exam_get(c->store, id, e);
  if (rc) {
    mg_api_fail_err(c, rc, "exam");
    return rc;
  }
  if ((rc = mg_registry_offering_get(c->store, e->offering_id, o, co, NULL, &why))) {
    refuse(c, rc, &why);
    return rc;
  }
  if (!may_offering(c, o, co)) {
    out_of_scope(c, "exam");
    return MG_EFORBIDDEN;
  }
  return MG_OK;
}

/* Platform: {"results":[{"registration","score"}]}, all or nothing. */
static void h_exam_submit(mg_api_call *c, void *ud) {
  (void)ud;
  static const char *const f[] = {"results", NULL};
  mg_reg_exam e;
  mg_reg_offering o;
  mg_reg_course co;
  if (only_fields(c, f) || load_exam(c, &e, &o, &co)) return;
  if (c->who->org_id != co.platform_id) {
    out_of_scope(c, "exam");
    return;
  }
  mg_json *arr = mg_json_object_get(c->body, "results"), *it;
  if (!mg_json_is_array(arr) || !mg_json_array_size(arr) || mg_json_array_size(arr) > 10000) {
    mg_api_fail(c, 400, "invalid_field",
                       "results 须为 1 至 10000 项的数组 / results must be an array of 1 to 10000 "
                       "items");
    return;
  }
  if (begin(c)) return;
  size_t i;
  mg_json_array_foreach(arr, i, it) {
    const char *reg = mg_json_string_value(mg_json_object_get(it, "registration"));
    mg_json *sc = mg_json_object_get(it, "score");
    double d = mg_json_number_value(sc) * 10.0;
    int64_t t = (int64_t)(d + 0.5);
    if (!reg || !mg_json_is_number(sc) || mg_json_object_size(it) != 2 || d < 0 ||
        d - (double)t > 1e-6 || (double)t - d > 1e-6) {
      mg_store_tx_rollback(c->store);
      {
    mg_api_fail(c, 400, "invalid_field",
                         "results[%zu] 须为 {registration, score}，分数最多一位小数 / results[%zu] "
                         "must be {registration, score} with at most one decimal",
                         i, i);
    return;
  }
    }
    mg_registry_why why;
    int rc = mg_registry_exam_submit(c->store, e.id, reg, t > 100000 ? 100000 : (int)t, by(c),
                                     mg_time_now_us(), &why);
    if (rc) {
      char msg[sizeof why.message];
      snprintf(msg, sizeof msg, "%s", why.message);
      snprintf(why.message, sizeof why.message, "results[%zu]: %.360s", i, msg);
      mg_utf8_trim_tail(why.message);
      {
    refuse(c, rc, &why);
    return;
  }
    }
  }
  jb a = jnew(c);
  ji(&a, "exam_id", e.id);
  ji(&a, "results", (int64_t)mg_json_array_size(arr));
  done(c, "exam_results", e.id, NULL, a.o, 200, a.o);
}

static void h_exam_supervise(mg_api_call *c, void *ud) {
  (void)ud;
  static const char *const f[] = {"face_start", "face_during", "dual_camera", "invigilator",
                                  "notes", NULL};
  mg_reg_exam e;
  mg_reg_offering o;
  mg_reg_course co;
  mg_reg_supervision r;
  memset(&r, 0, sizeof r);
  if (only_fields(c, f) || str_in(c, "face_start", 0, r.face_start, sizeof r.face_start) ||
      str_in(c, "face_during", 0, r.face_during, sizeof r.face_during) ||
      str_in(c, "dual_camera", 0, r.dual_camera, sizeof r.dual_camera) ||
      str_in(c, "invigilator", 0, r.invigilator, sizeof r.invigilator) ||
      str_in(c, "notes", 0, r.notes, sizeof r.notes) || load_exam(c, &e, &o, &co))
    return;
  if (c->who->org_id != o.university_id) {
    out_of_scope(c, "exam");
    return;
  }
  r.exam_id = e.id;
  if (begin(c)) return;
  mg_registry_why why;
  const char *reg = mg_api_param(c, "registration");
  int rc = mg_registry_exam_supervise(c->store, &r, reg, by(c), mg_time_now_us(), &why);
  if (rc) {
    refuse(c, rc, &why);
    return;
  }
  jb b = jnew(c);
  ji(&b, "exam_id", e.id);
  js(&b, "registration", reg);
  js(&b, "face_start", r.face_start);
  js(&b, "face_during", r.face_during);
  js(&b, "dual_camera", r.dual_camera);
  js(&b, "invigilator", r.invigilator);
  js(&b, "notes", r.notes);
  done(c, "exam_supervision", e.id, NULL, b.o, 200, b.o);
}

static void h_exam_finalise(mg_api_call *c, void *ud) {
  (void)ud;
  mg_reg_exam e;
  mg_reg_offering o;
  mg_reg_course co;
  if (load_exam(c, &e, &o, &co)) return;
  if (c->who->org_id != o.university_id) {
    out_of_scope(c, "exam");
    return;
  }
  const char *reg = mg_api_param(c, "registration");
  if (begin(c)) return;
  mg_registry_why why;
  int rc = mg_registry_exam_finalise(c->store, e.id, reg, by(c), mg_time_now_us(), &why);
  if (rc) {
    refuse(c, rc, &why);
    return;
  }
  mg_reg_enrolment en;
  mg_reg_result r;
  if (mg_registry_enrolment_find(c->store, reg, &en, &why) ||
      mg_store_reg_result_get(c->store, e.id, en.id, &r)) {
    refuse(c, MG_ESTORE, NULL);
    return;
  }
  mg_json *j = result_json(c, &r);
  done(c, "exam_result", e.id, NULL, j, 200, j);
}

static int push_result(void *ud, const mg_reg_result *r) {
  arr_ctx *x = ud;
  return push(x, result_json(x->c, r));
}

static void h_exam_results(mg_api_call *c, void *ud) {
  (void)ud;
  mg_reg_exam e;
  mg_reg_offering o;
  mg_reg_course co;
  widen(c);
  if (load_exam(c, &e, &o, &co)) return;
  arr_ctx x;
  if (list_begin(c, &x)) return;
  int rc = mg_store_reg_result_list(c->store, e.id, push_result, &x);
  jb b = jnew(c);
  jv(&b, "exam", exam_json(c, &e));
  list_reply(c, &x, rc, "results", b.o);
}

/* ---- routes ------------------------------------------------------------------------------- */

int mg_registry_api_register(mg_api *api) {
  static const struct {
    const char *method, *pattern, *cap;
    mg_api_handler h;
  } routes[] = {
      {"GET", "/orgs", "org.read", h_orgs_list},
      {"POST", "/orgs", "org.create", h_org_create},
      {"GET", "/orgs/:id", "org.read", h_org_get},
      {"PATCH", "/orgs/:id", "org.update", h_org_update},
      {"GET", "/platforms", "platform.read", h_platforms_list},
      {"POST", "/platforms", "platform.create", h_platform_create},
      {"GET", "/platforms/:id", "platform.read", h_platform_get},
      {"PUT", "/platforms/:id/filing", "platform.file", h_platform_filing},
      {"POST", "/platforms/:id/status", "platform.set_status", h_platform_status},
      {"GET", "/platforms/:id/history", "platform.read", h_platform_history},
      {"GET", "/platforms/:id/switches", "platform.read", h_switch_list},
      {"POST", "/platforms/:id/switches", "platform.switch", h_switch_stop},
      {"POST", "/platforms/:id/switches/:sid/lift", "platform.switch", h_switch_lift},
      {"GET", "/platforms/:id/credentials", "platform.credential", h_credential_list},
      {"POST", "/platforms/:id/credentials", "platform.credential", h_credential_create},
      {"GET", "/recommendations", "course.read", h_rec_list},
      {"POST", "/recommendations", "course.recommend", h_rec_create},
      {"GET", "/courses", "course.read", h_course_list},
      {"POST", "/courses", "course.submit", h_course_submit},
      {"GET", "/courses/:id", "course.read", h_course_get},
      {"POST", "/courses/:id/reviews", "course.review", h_course_review},
      {"POST", "/courses/:id/publish", "course.publish", h_course_publish},
      {"PUT", "/courses/:id/content-updated", "course.update", h_course_touch},
      {"GET", "/offerings", "offering.read", h_offering_list},
      {"POST", "/offerings", "offering.create", h_offering_create},
      {"GET", "/offerings/:id", "offering.read", h_offering_get},
      {"POST", "/offerings/:id/roster", "roster.import", h_roster_import},
      {"GET", "/offerings/:id/roster", "roster.read", h_roster_last},
      {"GET", "/offerings/:id/enrolments", "roster.read", h_enrolment_list},
      {"GET", "/offerings/:id/exams", "exam.read", h_exam_list},
      {"POST", "/offerings/:id/exams", "exam.plan", h_exam_plan},
      {"GET", "/enrolments/:registration", "roster.read", h_enrolment_get},
      {"POST", "/enrolments/:registration/pledge", "pledge.sign", h_pledge_sign},
      {"GET", "/pledge-texts/:version", "pledge.read", h_pledge_text_get},
      {"POST", "/pledge-texts", "pledge.publish", h_pledge_publish},
      {"GET", "/exams/:id/results", "exam.read", h_exam_results},
      {"POST", "/exams/:id/results", "exam.submit", h_exam_submit},
      {"PUT", "/exams/:id/supervision/:registration", "exam.supervise", h_exam_supervise},
      {"POST", "/exams/:id/results/:registration/finalise", "exam.finalise", h_exam_finalise},
  };
  for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
    int rc = mg_api_route(api, routes[i].method, routes[i].pattern, routes[i].cap, routes[i].h, NULL);
    if (rc) return rc;
  }
  return MG_OK;
}
