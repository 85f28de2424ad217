/* api/findings_api.c — /api/v1 handlers for detector findings and a student's evidence
 * timeline. Reads only. Scope: a university (its administrators and responsible teachers) sees
 * its own students; a platform operator what its own platform reported; a provincial regulator
 * the universities of its province, the ministry all. Students see no raw findings: only a case
 * opened by their university (cases_api.c) shows them evidence, after a person has looked. */
#include "api/findings_api.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/time.h"
#include "detect/detect.h"
#include "detect/evidence.h"
#include "store/store_findings.h"
#include "store/store_registry.h"

static mg_arena *pool(mg_api_call *c) { return &c->req->pool; }

/* What the caller may see, resolved from the role's scope and its organisation. */
typedef struct view {
  char university[512]; /* forced university homePage ("" = any) */
  char platform[64];    /* forced platform code */
  int64_t platform_id;  /* forced platform (evidence: statements it pushed) */
  char province[16];    /* forced province */
  int mask_student, mask_ip, mask_device;
} view;

static int resolve_view(mg_api_call *c, view *v) {
  memset(v, 0, sizeof *v);
  const mg_principal *w = c->who;
  if (c->scope == MG_SCOPE_ALL) return 0;
  if (c->scope == MG_SCOPE_PROVINCE) {
    /* a regulator without a province is the ministry: national */
    snprintf(v->province, sizeof v->province, "%s", w->province);
    v->mask_student = v->mask_ip = v->mask_device = 1; /* oversight needs patterns, not people */
    return 0;
  }
  if (c->scope == MG_SCOPE_ORG && w->org_id) {
    mg_reg_org o;
    int rc = mg_store_reg_org_get(c->store, w->org_id, &o);
    if (rc == MG_OK && !strcmp(o.kind, "university") && o.home_page[0]) {
      snprintf(v->university, sizeof v->university, "%s", o.home_page);
      v->mask_ip = w->role != MG_ROLE_UNIV_ADMIN; /* teachers: network prefixes are enough */
      return 0;
    }
    if (rc == MG_OK && !strcmp(o.kind, "platform")) {
      snprintf(v->platform, sizeof v->platform, "%s", o.code);
      v->platform_id = o.id;
      return 0;
    }
    if (rc != MG_OK && rc != MG_ENOTFOUND) {
      mg_api_fail_err(c, rc, "organisation");
      return -1;
    }
  }
  mg_api_fail(c, 403, "out_of_scope",
              "您的机构不是已登记的高校或平台 / your organisation (%lld) is not a registered "
              "university or platform",
              (long long)w->org_id);
  return -1;
}

/* Does the finding (university homePage, platform code) fall in the view? */
static int in_view(mg_api_call *c, const view *v, const char *university, const char *platform) {
  if (v->university[0] && strcmp(v->university, university)) return 0;
  if (v->platform[0] && strcmp(v->platform, platform)) return 0;
  if (v->province[0]) {
    mg_reg_org o;
    if (mg_store_reg_org_by_home_page(c->store, university, &o) != MG_OK) return 0;
    return !strcmp(o.province, v->province);
  }
  return 1;
}

static int parse_pos(const char *s, int64_t min, int64_t max, int64_t *out) {
  char *end;
  errno = 0;
  long long n = strtoll(s, &end, 10);
  if (errno || end == s || *end || n < min || n > max) return -1;
  *out = n;
  return 0;
}

/* A finding row as the API shows it. */
static int finding_json(const view *v, const mg_store_finding *f, mg_buf *b) {
  char student[160], t1[MG_TIME_ISO_LEN], t2[MG_TIME_ISO_LEN], t3[MG_TIME_ISO_LEN];
  mg_detect_type ty = MG_DETECT_COURSE_BRUSHING;
  mg_detect_type_parse(f->type, &ty);
  if (v->mask_student) mg_detect_mask_student(f->student, student, sizeof student);
  else snprintf(student, sizeof student, "%s", f->student);
  mg_time_format_iso(f->decisive_ts_us, 3, t1);
  mg_time_format_iso(f->found_at_us, 3, t2);
  mg_time_format_iso(f->created_us, 3, t3);
  const char *kv[][2] = {{"type", f->type},
                         {"type_zh", mg_detect_type_name_zh(ty)},
                         {"status", f->status},
                         {"registration", f->registration},
                         {"student_no", student},
                         {"university", f->university},
                         {"course", f->course},
                         {"platform", f->platform},
                         {"comparison", f->comparison},
                         {"explanation_zh", f->explain_zh},
                         {"explanation_en", f->explain_en},
                         {"decisive_timestamp", t1},
                         {"found_at", t2},
                         {"created_at", t3}};
  int rc = mg_buf_addf(b, "{\"id\":%lld", (long long)f->id);
  for (size_t i = 0; i < sizeof kv / sizeof kv[0] && !rc; i++) {
    rc = mg_buf_addf(b, ",\"%s\":\"", kv[i][0]);
    if (!rc) rc = mg_buf_add_json_str(b, kv[i][1], strlen(kv[i][1]));
    if (!rc) rc = mg_buf_addc(b, '"');
  }
  if (!rc) rc = mg_buf_addf(b, ",\"score\":%.3f,\"threshold\":%.3f,\"rules\":[", f->score, f->threshold);
  const char *r = f->rules;
  for (int first = 1; *r && !rc; first = 0) {
    size_t n = strcspn(r, "+");
    rc = mg_buf_addf(b, "%s\"", first ? "" : ",");
    if (!rc) rc = mg_buf_add_json_str(b, r, n);
    if (!rc) rc = mg_buf_addc(b, '"');
    r += n;
    if (*r == '+') r++;
  }
  /* thresholds and evidence are JSON the detector wrote; the reply is re-parsed strictly */
  if (!rc) rc = mg_buf_addf(b, "],\"thresholds\":%s,\"evidence\":%s}",
                            f->thresholds[0] ? f->thresholds : "{}",
                            f->evidence[0] ? f->evidence : "[]");
  return rc;
}

static void reply_text(mg_api_call *c, const mg_buf *b) {
  mg_json *j = b->data ? mg_json_parse(pool(c), b->data, b->len, MG_JSON_DECODE_ANY, NULL) : NULL;
  if (!j) {
    mg_api_fail(c, 500, "internal", "could not build the response");
    return;
  }
  mg_api_reply(c, 200, j);
}

typedef struct list_ctx {
  const view *v;
  mg_buf *b;
  size_t n;
} list_ctx;

static int list_row(void *ud, const mg_store_finding *f) {
  list_ctx *x = ud;
  int rc = x->n++ ? mg_buf_addc(x->b, ',') : MG_OK;
  return rc ? rc : finding_json(x->v, f, x->b);
}

/* An organisation by id, of the kind wanted; answers 400 itself when it is not one. */
static int org_param(mg_api_call *c, const char *name, const char *kind, mg_reg_org *o) {
  const char *q = mg_api_query(c, name);
  int64_t id;
  if (parse_pos(q, 1, INT64_MAX, &id)) {
    mg_api_fail(c, 400, "invalid_parameter", "query: %s must be a positive integer", name);
    return -1;
  }
  if (mg_store_reg_org_get(c->store, id, o) != MG_OK || strcmp(o->kind, kind)) {
    mg_api_fail(c, 400, "invalid_parameter", "query: %s %lld is not a registered %s", name,
                (long long)id, kind);
    return -1;
  }
  return 0;
}

static void h_list(mg_api_call *c, void *ud) {
  (void)ud;
  view v;
  if (resolve_view(c, &v)) return;
  mg_store_finding_filter flt = {.limit = 50};
  mg_reg_org uo, po;
  if (mg_api_query(c, "university_id")) {
    if (org_param(c, "university_id", "university", &uo)) return;
    if ((v.university[0] && strcmp(v.university, uo.home_page)) ||
        (v.province[0] && strcmp(v.province, uo.province))) {
      mg_api_fail(c, 403, "out_of_scope", "university %lld is outside your scope", (long long)uo.id);
      return;
    }
    flt.university = uo.home_page;
  }
  if (mg_api_query(c, "platform_id")) {
    if (org_param(c, "platform_id", "platform", &po)) return;
    if (v.platform[0] && strcmp(v.platform, po.code)) {
      mg_api_fail(c, 403, "out_of_scope", "platform %lld is outside your scope", (long long)po.id);
      return;
    }
    flt.platform = po.code;
  }
  if (v.university[0]) flt.university = v.university;
  if (v.platform[0]) flt.platform = v.platform;
  if (v.province[0]) flt.province = v.province;
  flt.course = mg_api_query(c, "course");
  flt.student = mg_api_query(c, "student");
  flt.type = mg_api_query(c, "type");
  flt.status = mg_api_query(c, "status");
  mg_detect_type ty;
  if (flt.type && mg_detect_type_parse(flt.type, &ty) != MG_OK) {
    mg_api_fail(c, 400, "invalid_parameter",
                "query: type '%.40s' is not one of course_brushing, proxy_study, exam_brushing, "
                "proxy_exam", flt.type);
    return;
  }
  const char *s;
  int64_t n;
  if ((s = mg_api_query(c, "since"))) {
    mg_timestamp ts;
    if (mg_time_parse_iso(s, 1, &ts) != MG_OK) {
      mg_api_fail(c, 400, "invalid_parameter", "query: since '%.40s' is not an ISO 8601 time", s);
      return;
    }
    flt.since_us = ts.us;
  }
  if ((s = mg_api_query(c, "limit"))) {
    if (parse_pos(s, 1, 500, &n)) {
      mg_api_fail(c, 400, "invalid_parameter", "query: limit must be 1..500");
      return;
    }
    flt.limit = (size_t)n;
  }
  if ((s = mg_api_query(c, "after"))) {
    if (parse_pos(s, 0, INT64_MAX, &n)) {
      mg_api_fail(c, 400, "invalid_parameter", "query: after must be a finding id (>= 0)");
      return;
    }
    flt.after_id = n;
  }
  mg_buf b;
  mg_buf_init(&b, (size_t)64 << 20);
  list_ctx x = {&v, &b, 0};
  int more = 0;
  int64_t last = 0;
  int rc = mg_buf_adds(&b, "{\"items\":[");
  if (!rc) rc = mg_store_finding_list(c->store, &flt, list_row, &x, &more, &last);
  if (!rc && more) rc = mg_buf_addf(&b, "],\"more\":true,\"next_after\":%lld}", (long long)last);
  else if (!rc) rc = mg_buf_adds(&b, "],\"more\":false,\"next_after\":null}");
  if (rc) mg_api_fail_err(c, rc, "findings");
  else reply_text(c, &b);
  mg_buf_free(&b);
}

static void h_get(mg_api_call *c, void *ud) {
  (void)ud;
  view v;
  int64_t id;
  if (mg_api_param_id(c, "id", &id)) return;
  if (resolve_view(c, &v)) return;
  static __thread mg_store_finding f; /* large: off the worker's stack */
  int rc = mg_store_finding_get(c->store, id, &f);
  if (rc) {
    mg_api_fail_err(c, rc, "finding");
    return;
  }
  if (!in_view(c, &v, f.university, f.platform)) {
    mg_api_fail(c, 403, "out_of_scope", "finding %lld is outside your scope", (long long)id);
    return;
  }
  mg_buf b;
  mg_buf_init(&b, (size_t)1 << 20);
  rc = finding_json(&v, &f, &b);
  if (rc) mg_api_fail_err(c, rc, "finding");
  else reply_text(c, &b);
  mg_buf_free(&b);
}

static void h_evidence(mg_api_call *c, void *ud) {
  (void)ud;
  view v;
  int64_t id;
  if (mg_api_param_id(c, "id", &id)) return;
  if (resolve_view(c, &v)) return;
  mg_reg_student st;
  mg_reg_org u;
  int rc = mg_store_reg_student_get(c->store, id, &st);
  if (!rc) rc = mg_store_reg_org_get(c->store, st.university_id, &u);
  if (rc) {
    mg_api_fail_err(c, rc, "student");
    return;
  }
  /* a platform sees what it pushed itself, for any student; others by university */
  if ((v.university[0] && strcmp(v.university, u.home_page)) ||
      (v.province[0] && strcmp(v.province, u.province))) {
    mg_api_fail(c, 403, "out_of_scope", "student %lld is outside your scope", (long long)id);
    return;
  }
  mg_detect_evidence_opts o = {.mask_student = v.mask_student, .mask_ip = v.mask_ip,
                               .mask_device = v.mask_device, .platform_id = v.platform_id};
  mg_buf b;
  mg_buf_init(&b, (size_t)64 << 20);
  rc = mg_detect_evidence_build(c->store, u.home_page, st.student_no, &o, &b);
  if (rc) mg_api_fail_err(c, rc, "evidence");
  else reply_text(c, &b);
  mg_buf_free(&b);
}

int mg_findings_api_register(mg_api *api) {
  int rc;
  if ((rc = mg_api_route(api, "GET", "/findings", "findings.read", h_list, NULL))) return rc;
  if ((rc = mg_api_route(api, "GET", "/findings/:id", "findings.read", h_get, NULL))) return rc;
  return mg_api_route(api, "GET", "/students/:id/evidence", "findings.evidence", h_evidence, NULL);
}
