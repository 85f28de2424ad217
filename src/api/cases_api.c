/* api/cases_api.c — /api/v1 handlers for cases, sanctions, appeals, the student file, credit
 * decisions, notices and referrals. */
#include "api/cases_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cases/case.h"
#include "core/err.h"
#include "core/time.h"
#include "credit/credit.h"
#include "credit/facts.h"
#include "notices/referral.h"
#include "notices/report.h"
#include "store/store_cases.h"
#include "store/store_registry.h"

/* ---- small helpers ----------------------------------------------------------------------- */

static mg_arena *pool(mg_api_call *c) { return &c->req->pool; }

static int set_str(mg_api_call *c, mg_json *o, const char *k, const char *v) {
  mg_json *j = mg_json_string(pool(c), v ? v : "");
  return j ? mg_json_object_set(pool(c), o, k, j) : MG_ENOMEM;
}
static int set_int(mg_api_call *c, mg_json *o, const char *k, int64_t v) {
  mg_json *j = mg_json_integer(pool(c), v);
  return j ? mg_json_object_set(pool(c), o, k, j) : MG_ENOMEM;
}
static int set_time(mg_api_call *c, mg_json *o, const char *k, int64_t us) {
  if (!us) return mg_json_object_set(pool(c), o, k, mg_json_null());
  char t[MG_TIME_ISO_LEN];
  mg_time_format_iso(us, 3, t);
  return set_str(c, o, k, t);
}
static int set_json(mg_api_call *c, mg_json *o, const char *k, mg_json *v) {
  return v ? mg_json_object_set(pool(c), o, k, v) : MG_ENOMEM;
}

/* Parses JSON text into the request pool (stored text is ours and valid; NULL on failure). */
static mg_json *parse(mg_api_call *c, const char *text, size_t len) {
  return mg_json_parse(pool(c), text, len, MG_JSON_DECODE_ANY, NULL);
}

static void reply_text(mg_api_call *c, int status, const char *ctype, const mg_buf *b) {
  mg_buf_reset(&c->resp->body);
  if (mg_buf_add(&c->resp->body, b->data ? b->data : "", b->len)) {
    mg_api_fail(c, 500, "internal", "response too large");
    return;
  }
  c->resp->status = status;
  snprintf(c->resp->content_type, sizeof c->resp->content_type, "%s", ctype);
}

static void reply_json_text(mg_api_call *c, int status, const mg_buf *b) {
  mg_json *j = b->data ? parse(c, b->data, b->len) : NULL;
  if (!j) {
    mg_api_fail(c, 500, "internal", "could not build the response");
    return;
  }
  mg_api_reply(c, status, j);
}

/* The HTTP answer to a domain refusal: the domain's English message after a Chinese label. */
static void fail_case(mg_api_call *c, int rc, const mg_case_err *e) {
  static const struct {
    const char *code, *api_code, *zh;
    int status;
  } map[] = {
      {"invalid", "invalid_field", "请求内容有误", 400},
      {"forbidden", "forbidden", "无权操作", 403},
      {"same_person", "same_person", "申诉须由原处理人以外的人员复查", 403},
      {"not_found", "not_found", "对象不存在", 404},
      {"invalid_transition", "invalid_transition", "案件当前状态不允许此操作", 409},
      {"no_case_decision", "no_case_decision", "未经查实认定不得给予处分", 409},
      {"appeal_window_closed", "appeal_window_closed", "已超过申诉期限", 409},
      {"not_referable", "not_referable", "该案件不能移送", 409},
      {"conflict", "conflict", "与当前状态冲突", 409},
      {"integrity", "integrity", "记录完整性校验失败", 500},
  };
  if (e && e->code[0]) {
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
      if (!strcmp(e->code, map[i].code)) {
        mg_api_fail(c, map[i].status, map[i].api_code, "%s / %s", map[i].zh, e->message);
        return;
      }
  }
  mg_api_fail_err(c, rc, e && e->message[0] ? e->message : "case");
}

/* Body members. Each answers 400 itself and returns non-zero when the member is wrong. */
/* The body is an object whose members are all among the NULL-terminated allowed names. */
static int body_obj(mg_api_call *c, const char *const *allowed) {
  if (!mg_json_is_object(c->body)) {
    mg_api_fail(c, 400, "missing_body",
                "请求体须为 JSON 对象 / the request body must be a JSON object");
    return -1;
  }
  const char *k;
  mg_json *v;
  mg_json_object_foreach(c->body, k, v) {
    int ok = 0;
    for (const char *const *a = allowed; *a && !ok; a++) ok = !strcmp(*a, k);
    if (!ok) {
      mg_api_fail(c, 400, "unknown_field", "未知字段 / unknown field '%.*s'",
                  mg_utf8_prefix(k, 40), k);
      return -1;
    }
  }
  return 0;
}

static int body_str(mg_api_call *c, const char *k, int required, const char **out) {
  mg_json *v = mg_json_object_get(c->body, k);
  *out = NULL;
  if (!v || mg_json_is_null(v)) {
    if (!required) return 0;
    mg_api_fail(c, 400, "invalid_field", "body: '%s' is required", k);
    return -1;
  }
  if (!mg_json_is_string(v)) {
    mg_api_fail(c, 400, "invalid_field", "body: '%s' must be a string", k);
    return -1;
  }
  *out = mg_json_string_value(v);
  return 0;
}

static int body_id(mg_api_call *c, const char *k, int required, int64_t *out) {
  mg_json *v = mg_json_object_get(c->body, k);
  *out = 0;
  if (!v || mg_json_is_null(v)) {
    if (!required) return 0;
    mg_api_fail(c, 400, "invalid_field", "body: '%s' is required", k);
    return -1;
  }
  if (!mg_json_is_integer(v) || mg_json_integer_value(v) <= 0) {
    mg_api_fail(c, 400, "invalid_field", "body: '%s' must be a positive integer", k);
    return -1;
  }
  *out = mg_json_integer_value(v);
  return 0;
}

/* Copies a string member into a fixed field, refusing oversized text. */
static int body_copy(mg_api_call *c, const char *k, int required, char *dst, size_t size) {
  const char *v;
  if (body_str(c, k, required, &v)) return -1;
  size_t n = v ? strlen(v) : 0;
  if (n >= size) {
    mg_api_fail(c, 400, "invalid_field", "body: '%s' is too long (%zu bytes, at most %zu)", k, n,
                size - 1);
    return -1;
  }
  memcpy(dst, v ? v : "", n);
  dst[n] = '\0';
  return 0;
}

/* The members each request body may have. */
static const char *const F_INBOX[] = {"university_id", "student_id", "platform_id", "course_id",
                                      "registration", "type", "summary", "evidence", NULL};
static const char *const F_OPEN[] = {"items", "service_note", NULL};
static const char *const F_NOTE[] = {"note", NULL};
static const char *const F_DECISION[] = {"outcome", "reason", "sanctions", NULL};
static const char *const F_SANCTION[] = {"kind", "reason", NULL};
static const char *const F_TEXT[] = {"text", NULL};
static const char *const F_GROUNDS[] = {"grounds", NULL};
static const char *const F_APPEAL_DECISION[] = {"outcome", "reason", NULL};
static const char *const F_REFERRAL[] = {"department", NULL};

static mg_case_actor actor(const mg_api_call *c) {
  mg_case_actor a = {c->who->user_id, c->who->username, c->who->student_id};
  return a;
}

/* A regulator without a province is the ministry: national, whatever the table's PROVINCE row
 * says (the registry treats it the same way). */
static void widen(mg_api_call *c) {
  if (c->who->role == MG_ROLE_REGULATOR && !c->who->province[0] && c->scope == MG_SCOPE_PROVINCE)
    c->scope = MG_SCOPE_ALL;
}

/* May the caller act on data of university univ? Provincial scopes compare the university's
 * province in the registry (an unknown university is in no province). */
static int may_univ(mg_api_call *c, int64_t univ) {
  widen(c);
  char prov[16] = "";
  if (c->scope == MG_SCOPE_PROVINCE) {
    mg_reg_org o;
    if (univ > 0 && mg_store_reg_org_get(c->store, univ, &o) == MG_OK)
      snprintf(prov, sizeof prov, "%s", o.province);
    return prov[0] && mg_api_may_org(c, univ, prov);
  }
  return mg_api_may_org(c, univ, NULL);
}

/* May the caller see/act on this case? Students: their own only; others: by university. */
static int may_case(mg_api_call *c, const mg_store_case *k) {
  if (c->scope == MG_SCOPE_SELF) return c->who->student_id > 0 && c->who->student_id == k->student_id;
  return may_univ(c, k->university_id);
}

/* Loads the case named by :id and checks scope; answers the error itself. */
static int load_case(mg_api_call *c, mg_store_case *k) {
  int64_t id;
  if (mg_api_param_id(c, "id", &id)) return -1;
  mg_case_err e = {"", ""};
  int rc = mg_cases_get(c->store, id, k, &e);
  if (rc) {
    fail_case(c, rc, &e);
    return -1;
  }
  if (!may_case(c, k)) {
    mg_api_fail(c, 403, "out_of_scope", "case %lld is outside your scope (another university or "
                                     "student)", (long long)id);
    return -1;
  }
  return 0;
}

/* ---- JSON views -------------------------------------------------------------------------- */

static mg_json *case_json(mg_api_call *c, const mg_store_case *k) {
  mg_json *o = mg_json_object(pool(c));
  if (!o) return NULL;
  int rc = set_int(c, o, "id", k->id);
  if (!rc) rc = set_int(c, o, "university_id", k->university_id);
  if (!rc) rc = set_int(c, o, "platform_id", k->platform_id);
  if (!rc) rc = set_int(c, o, "course_id", k->course_id);
  if (!rc) rc = set_int(c, o, "student_id", k->student_id);
  if (!rc) rc = set_str(c, o, "registration", k->registration);
  if (!rc) rc = set_str(c, o, "type", k->type);
  if (!rc) rc = set_str(c, o, "state", k->state);
  if (!rc) rc = set_json(c, o, "service_involved", k->service_involved ? mg_json_true() : mg_json_false());
  if (!rc) rc = set_str(c, o, "service_note", k->service_note);
  if (!rc) rc = set_str(c, o, "opened_by", k->opened_by);
  if (!rc) rc = set_time(c, o, "opened_at", k->opened_us);
  if (!rc) rc = set_str(c, o, "investigator", k->investigator);
  if (!rc) rc = set_str(c, o, "decided_by", k->decided_by);
  if (!rc) rc = set_time(c, o, "decided_at", k->decided_us);
  if (!rc) rc = set_str(c, o, "decision_reason", k->decision_reason);
  if (!rc) rc = set_time(c, o, "appeal_deadline", k->appeal_deadline_us);
  if (!rc) rc = set_time(c, o, "updated_at", k->updated_us);
  if (!rc) rc = set_int(c, o, "version", k->version);
  if (!rc) rc = set_str(c, o, "tag", k->mac);
  return rc ? NULL : o;
}

typedef struct list_ctx {
  mg_api_call *c;
  mg_json *arr;
  int rc;
} list_ctx;

static int item_row(void *ud, const mg_store_inbox_item *it) {
  list_ctx *x = ud;
  mg_api_call *c = x->c;
  mg_json *o = mg_json_object(pool(c));
  if (!o) return MG_ENOMEM;
  int rc = set_int(c, o, "id", it->id);
  if (!rc) rc = set_int(c, o, "university_id", it->university_id);
  if (!rc) rc = set_int(c, o, "platform_id", it->platform_id);
  if (!rc) rc = set_int(c, o, "course_id", it->course_id);
  if (!rc) rc = set_int(c, o, "student_id", it->student_id);
  if (!rc) rc = set_str(c, o, "registration", it->registration);
  if (!rc) rc = set_str(c, o, "source", it->source);
  if (!rc) rc = it->finding_id ? set_int(c, o, "finding_id", it->finding_id)
                               : set_json(c, o, "finding_id", mg_json_null());
  if (!rc) rc = set_str(c, o, "type", it->type);
  if (!rc) rc = set_str(c, o, "summary", it->summary);
  if (!rc) rc = set_str(c, o, "reported_by", it->reported_by);
  if (!rc) rc = set_time(c, o, "received_at", it->received_us);
  if (!rc) rc = it->case_id ? set_int(c, o, "case_id", it->case_id)
                            : set_json(c, o, "case_id", mg_json_null());
  if (!rc) rc = set_json(c, o, "evidence", parse(c, it->evidence, strlen(it->evidence)));
  if (!rc) rc = mg_json_array_append(pool(c), x->arr, o);
  return rc;
}

/* item_row for the items the caller may see (lists spanning universities). */
static int item_row_scoped(void *ud, const mg_store_inbox_item *it) {
  list_ctx *x = ud;
  return may_univ(x->c, it->university_id) ? item_row(ud, it) : MG_OK;
}

static int event_row(void *ud, const mg_store_case_event *e) {
  list_ctx *x = ud;
  mg_api_call *c = x->c;
  mg_json *o = mg_json_object(pool(c));
  if (!o) return MG_ENOMEM;
  int rc = set_time(c, o, "at", e->at_us);
  if (!rc) rc = set_str(c, o, "actor", e->actor);
  if (!rc) rc = set_str(c, o, "action", e->action);
  if (!rc) rc = set_str(c, o, "from", e->from_state);
  if (!rc) rc = set_str(c, o, "to", e->to_state);
  if (!rc) rc = set_str(c, o, "note", e->note);
  if (!rc) rc = mg_json_array_append(pool(c), x->arr, o);
  return rc;
}

static int response_row(void *ud, const mg_store_case_response *r) {
  list_ctx *x = ud;
  mg_api_call *c = x->c;
  mg_json *o = mg_json_object(pool(c));
  if (!o) return MG_ENOMEM;
  int rc = set_time(c, o, "at", r->at_us);
  if (!rc) rc = set_str(c, o, "author", r->author);
  if (!rc) rc = set_str(c, o, "text", r->text);
  if (!rc) rc = mg_json_array_append(pool(c), x->arr, o);
  return rc;
}

static int sanction_row(void *ud, const mg_store_sanction *s) {
  list_ctx *x = ud;
  mg_api_call *c = x->c;
  mg_json *o = mg_json_object(pool(c));
  if (!o) return MG_ENOMEM;
  mg_sanction_kind k = MG_SANCTION_CANCEL_GRADE;
  mg_sanction_parse(s->kind, &k);
  int rc = set_int(c, o, "id", s->id);
  if (!rc) rc = set_int(c, o, "case_id", s->case_id);
  if (!rc) rc = set_str(c, o, "kind", s->kind);
  if (!rc) rc = set_str(c, o, "kind_zh", mg_sanction_name_zh(k));
  if (!rc) rc = set_str(c, o, "reason", s->reason);
  if (!rc) rc = set_str(c, o, "decided_by", s->decided_by);
  if (!rc) rc = set_time(c, o, "decided_at", s->decided_us);
  if (!rc) rc = set_time(c, o, "revoked_at", s->revoked_us);
  if (!rc) rc = mg_json_array_append(pool(c), x->arr, o);
  return rc;
}

static int file_row(void *ud, const mg_store_file_entry *f) {
  list_ctx *x = ud;
  mg_api_call *c = x->c;
  mg_json *o = mg_json_object(pool(c));
  if (!o) return MG_ENOMEM;
  int rc = set_int(c, o, "id", f->id);
  if (!rc) rc = set_int(c, o, "university_id", f->university_id);
  if (!rc) rc = set_int(c, o, "case_id", f->case_id);
  if (!rc) rc = set_str(c, o, "kind", f->kind);
  if (!rc) rc = set_str(c, o, "text", f->text);
  if (!rc) rc = set_time(c, o, "recorded_at", f->recorded_us);
  if (!rc) rc = set_time(c, o, "revoked_at", f->revoked_us);
  if (!rc) rc = set_str(c, o, "revoked_note", f->revoked_note);
  if (!rc) rc = mg_json_array_append(pool(c), x->arr, o);
  return rc;
}

/* The full case: fields, evidence items, timeline, responses, sanctions and appeal. */
static mg_json *case_full(mg_api_call *c, const mg_store_case *k) {
  mg_json *o = case_json(c, k);
  if (!o) return NULL;
  list_ctx x = {c, NULL, 0};
  int rc = MG_OK;
#define LIST(key, call)                                     \
  do {                                                      \
    x.arr = mg_json_array(pool(c));                         \
    if (!x.arr) return NULL;                                \
    if ((rc = (call))) return NULL;                         \
    if (mg_json_object_set(pool(c), o, key, x.arr)) return NULL; \
  } while (0)
  LIST("items", mg_store_inbox_of_case(c->store, k->id, item_row, &x));
  LIST("events", mg_store_case_events(c->store, k->id, event_row, &x));
  LIST("responses", mg_store_case_responses(c->store, k->id, response_row, &x));
  LIST("sanctions", mg_store_sanction_list(c->store, k->id, 0, sanction_row, &x));
#undef LIST
  mg_store_appeal ap;
  rc = mg_store_appeal_get(c->store, k->id, &ap);
  if (rc == MG_ENOTFOUND) return set_json(c, o, "appeal", mg_json_null()) ? NULL : o;
  if (rc) return NULL;
  mg_json *a = mg_json_object(pool(c));
  if (!a) return NULL;
  rc = set_str(c, a, "filed_by", ap.filed_by);
  if (!rc) rc = set_time(c, a, "filed_at", ap.filed_us);
  if (!rc) rc = set_str(c, a, "grounds", ap.grounds);
  if (!rc) rc = ap.outcome[0] ? set_str(c, a, "outcome", ap.outcome)
                              : set_json(c, a, "outcome", mg_json_null());
  if (!rc) rc = set_str(c, a, "decided_by", ap.decided_by);
  if (!rc) rc = set_time(c, a, "decided_at", ap.decided_us);
  if (!rc) rc = set_str(c, a, "reason", ap.reason);
  if (!rc) rc = set_json(c, o, "appeal", a);
  return rc ? NULL : o;
}

/* ---- the transaction around a step ------------------------------------------------------- */

typedef int (*step_fn)(mg_api_call *c, const mg_store_case *before, void *arg, mg_case_err *e);

/* Runs fn on the case named by :id in one transaction with its audit record, then answers with
 * the case as it is now. */
static void case_step(mg_api_call *c, step_fn fn, void *arg) {
  mg_store_case k;
  if (load_case(c, &k)) return;
  mg_json *before = case_json(c, &k);
  if (mg_store_tx_begin(c->store)) {
    mg_api_fail(c, 503, "busy", "the store is busy; try again");
    return;
  }
  mg_case_err e = {"", ""};
  int rc = fn(c, &k, arg, &e);
  if (rc) {
    mg_store_tx_rollback(c->store);
    fail_case(c, rc, &e);
    return;
  }
  mg_store_case after;
  char oid[32];
  snprintf(oid, sizeof oid, "%lld", (long long)k.id);
  if ((rc = mg_cases_get(c->store, k.id, &after, &e)) ||
      mg_api_audit(c, NULL, "case", oid, before, case_json(c, &after))) {
    mg_store_tx_rollback(c->store);
    if (rc) fail_case(c, rc, &e);
    else mg_api_fail(c, 503, "audit_unavailable", "the change could not be audited and was not made");
    return;
  }
  if ((rc = mg_store_tx_commit(c->store))) {
    mg_api_fail_err(c, rc, "case");
    return;
  }
  mg_json *full = case_full(c, &after);
  if (!full) mg_api_fail(c, 500, "internal", "case %lld could not be read back", (long long)k.id);
  else mg_api_reply(c, 200, full);
}

/* ---- inbox ------------------------------------------------------------------------------- */

static void h_inbox_list(mg_api_call *c, void *ud) {
  (void)ud;
  int64_t univ = c->who->org_id;
  const char *q = mg_api_query(c, "university_id");
  if (q) {
    char *end;
    long long v = strtoll(q, &end, 10);
    if (*end || v <= 0) {
      mg_api_fail(c, 400, "invalid_parameter", "query: university_id must be a positive integer");
      return;
    }
    univ = v;
  }
  widen(c);
  /* A provincial regulator without a university named sees its province's universities. */
  if (!q && c->scope == MG_SCOPE_PROVINCE) univ = 0;
  else if (!may_univ(c, univ)) {
    mg_api_fail(c, 403, "out_of_scope", "university %lld is outside your scope", (long long)univ);
    return;
  }
  const char *open = mg_api_query(c, "open");
  list_ctx x = {c, mg_json_array(pool(c)), 0};
  mg_json *o = mg_json_object(pool(c));
  if (!x.arr || !o ||
      mg_store_inbox_list(c->store, univ, open && !strcmp(open, "true"), item_row_scoped, &x) ||
      set_json(c, o, "items", x.arr)) {
    mg_api_fail(c, 500, "internal", "the inbox could not be read");
    return;
  }
  mg_api_reply(c, 200, o);
}

static void h_inbox_add(mg_api_call *c, void *ud) {
  (void)ud;
  if (body_obj(c, F_INBOX)) return;
  mg_store_inbox_item it;
  memset(&it, 0, sizeof it);
  if (body_id(c, "university_id", 1, &it.university_id) ||
      body_id(c, "student_id", 1, &it.student_id) ||
      body_id(c, "platform_id", 0, &it.platform_id) || body_id(c, "course_id", 0, &it.course_id) ||
      body_copy(c, "registration", 0, it.registration, sizeof it.registration) ||
      body_copy(c, "type", 1, it.type, sizeof it.type) ||
      body_copy(c, "summary", 1, it.summary, sizeof it.summary))
    return;
  /* The reporter's organisation decides what they may report on: a platform about its own
   * courses, a teacher about their university's students. */
  if (c->who->role == MG_ROLE_PLATFORM_OPERATOR) {
    snprintf(it.source, sizeof it.source, "platform");
    if (it.platform_id && it.platform_id != c->who->org_id && c->scope != MG_SCOPE_ALL) {
      mg_api_fail(c, 403, "out_of_scope", "body: platform_id %lld is not your platform",
                  (long long)it.platform_id);
      return;
    }
    if (!it.platform_id) it.platform_id = c->who->org_id;
  } else {
    snprintf(it.source, sizeof it.source, "teacher");
    if (!may_univ(c, it.university_id)) {
      mg_api_fail(c, 403, "out_of_scope", "body: university_id %lld is not your university",
                  (long long)it.university_id);
      return;
    }
  }
  mg_json *ev = mg_json_object_get(c->body, "evidence");
  if (!mg_json_is_object(ev)) {
    mg_api_fail(c, 400, "invalid_field", "body: 'evidence' must be a JSON object");
    return;
  }
  it.evidence = mg_json_dumps(pool(c), ev, NULL);
  snprintf(it.reported_by, sizeof it.reported_by, "%s", c->who->username);
  it.received_us = mg_time_now_us();
  if (!it.evidence) {
    mg_api_fail(c, 500, "internal", "out of memory");
    return;
  }
  if (mg_store_tx_begin(c->store)) {
    mg_api_fail(c, 503, "busy", "the store is busy; try again");
    return;
  }
  int64_t id = 0;
  mg_case_err e = {"", ""};
  int rc = mg_cases_inbox_add(c->store, &it, &id, &e);
  char oid[32];
  snprintf(oid, sizeof oid, "%lld", (long long)id);
  if (!rc && mg_api_audit(c, NULL, "inbox_item", oid, NULL, c->body)) {
    mg_store_tx_rollback(c->store);
    mg_api_fail(c, 503, "audit_unavailable", "the change could not be audited and was not made");
    return;
  }
  if (rc) {
    mg_store_tx_rollback(c->store);
    fail_case(c, rc, &e);
    return;
  }
  if ((rc = mg_store_tx_commit(c->store))) {
    mg_api_fail_err(c, rc, "inbox item");
    return;
  }
  mg_json *o = mg_json_object(pool(c));
  if (!o || set_int(c, o, "id", id)) {
    mg_api_fail(c, 500, "internal", "out of memory");
    return;
  }
  mg_api_reply(c, 201, o);
}

/* ---- cases ------------------------------------------------------------------------------- */

static void h_case_open(mg_api_call *c, void *ud) {
  (void)ud;
  if (body_obj(c, F_OPEN)) return;
  mg_json *items = mg_json_object_get(c->body, "items");
  size_t n = mg_json_array_size(items);
  if (!mg_json_is_array(items) || n == 0 || n > 1000) {
    mg_api_fail(c, 400, "invalid_field", "body: 'items' must be an array of 1 to 1000 inbox item ids");
    return;
  }
  int64_t *ids = mg_arena_alloc(pool(c), n * sizeof *ids);
  if (!ids) {
    mg_api_fail(c, 500, "internal", "out of memory");
    return;
  }
  for (size_t i = 0; i < n; i++) {
    mg_json *v = mg_json_array_get(items, i);
    if (!mg_json_is_integer(v) || mg_json_integer_value(v) <= 0) {
      mg_api_fail(c, 400, "invalid_field", "body: items[%zu] must be a positive integer", i);
      return;
    }
    ids[i] = mg_json_integer_value(v);
    /* Scope: every item must belong to a university the caller may act for. */
    mg_store_inbox_item it;
    int rc = mg_store_inbox_get(c->store, ids[i], &it, NULL);
    if (rc == MG_ENOTFOUND) {
      mg_api_fail(c, 404, "not_found", "body: items[%zu]: inbox item %lld does not exist", i,
                  (long long)ids[i]);
      return;
    }
    if (rc) {
      mg_api_fail_err(c, rc, "inbox item");
      return;
    }
    if (!may_univ(c, it.university_id)) {
      mg_api_fail(c, 403, "out_of_scope", "body: items[%zu] belongs to another university", i);
      return;
    }
  }
  const char *service;
  if (body_str(c, "service_note", 0, &service)) return;
  if (mg_store_tx_begin(c->store)) {
    mg_api_fail(c, 503, "busy", "the store is busy; try again");
    return;
  }
  mg_case_actor who = actor(c);
  mg_case_err e = {"", ""};
  int64_t id = 0;
  int rc = mg_cases_open(c->store, &who, ids, n, service, mg_time_now_us(), &id, &e);
  if (rc) {
    mg_store_tx_rollback(c->store);
    fail_case(c, rc, &e);
    return;
  }
  mg_store_case k;
  char oid[32];
  snprintf(oid, sizeof oid, "%lld", (long long)id);
  if ((rc = mg_cases_get(c->store, id, &k, &e)) ||
      mg_api_audit(c, NULL, "case", oid, NULL, case_json(c, &k))) {
    mg_store_tx_rollback(c->store);
    if (rc) fail_case(c, rc, &e);
    else mg_api_fail(c, 503, "audit_unavailable", "the change could not be audited and was not made");
    return;
  }
  if ((rc = mg_store_tx_commit(c->store))) {
    mg_api_fail_err(c, rc, "case");
    return;
  }
  mg_json *full = case_full(c, &k);
  if (!full) mg_api_fail(c, 500, "internal", "case could not be read back");
  else mg_api_reply(c, 201, full);
}

static int list_case_row(void *ud, const mg_store_case *k) {
  list_ctx *x = ud;
  if (!may_case(x->c, k)) return MG_OK;
  mg_json *o = case_json(x->c, k);
  return o ? mg_json_array_append(pool(x->c), x->arr, o) : MG_ENOMEM;
}

static void h_case_list(mg_api_call *c, void *ud) {
  (void)ud;
  mg_store_case_filter f = {0, 0, NULL, NULL};
  if (c->scope == MG_SCOPE_SELF) f.student_id = c->who->student_id > 0 ? c->who->student_id : -1;
  else if (c->scope == MG_SCOPE_ORG) f.university_id = c->who->org_id;
  const char *st = mg_api_query(c, "state");
  mg_case_state s;
  if (st && mg_case_state_parse(st, &s)) {
    mg_api_fail(c, 400, "invalid_parameter", "query: state '%.*s' is not a case state", mg_utf8_prefix(st, 40),
                st);
    return;
  }
  f.state = st;
  list_ctx x = {c, mg_json_array(pool(c)), 0};
  mg_json *o = mg_json_object(pool(c));
  if (!x.arr || !o || mg_store_case_list(c->store, &f, list_case_row, &x) ||
      set_json(c, o, "cases", x.arr)) {
    mg_api_fail(c, 500, "internal", "the cases could not be read");
    return;
  }
  mg_api_reply(c, 200, o);
}

static void h_case_get(mg_api_call *c, void *ud) {
  (void)ud;
  mg_store_case k;
  if (load_case(c, &k)) return;
  mg_json *full = case_full(c, &k);
  if (!full) mg_api_fail(c, 500, "internal", "case %lld could not be read", (long long)k.id);
  else mg_api_reply(c, 200, full);
}

static int do_investigate(mg_api_call *c, const mg_store_case *k, void *arg, mg_case_err *e) {
  const char *note = arg;
  mg_case_actor who = actor(c);
  return mg_cases_investigate(c->store, &who, k->id, note, mg_time_now_us(), e);
}

static void h_investigate(mg_api_call *c, void *ud) {
  (void)ud;
  const char *note = NULL;
  if (c->body && (body_obj(c, F_NOTE) || body_str(c, "note", 0, &note))) return;
  case_step(c, do_investigate, (void *)note);
}

typedef struct decision_arg {
  int verified;
  const char *reason;
  mg_sanction_kind kinds[8];
  size_t n;
} decision_arg;

static int do_decide(mg_api_call *c, const mg_store_case *k, void *arg, mg_case_err *e) {
  decision_arg *d = arg;
  mg_case_actor who = actor(c);
  int64_t secs = c->cfg && c->cfg->appeal_window > 0 ? c->cfg->appeal_window : 864000;
  return mg_cases_decide(c->store, &who, k->id, d->verified, d->reason, d->kinds, d->n,
                         secs * 1000000LL, mg_time_now_us(), e);
}

static void h_decide(mg_api_call *c, void *ud) {
  (void)ud;
  if (body_obj(c, F_DECISION)) return;
  decision_arg d = {0, NULL, {0}, 0};
  const char *outcome;
  if (body_str(c, "outcome", 1, &outcome) || body_str(c, "reason", 1, &d.reason)) return;
  if (!strcmp(outcome, "verified")) d.verified = 1;
  else if (strcmp(outcome, "dismissed")) {
    mg_api_fail(c, 400, "invalid_field", "body: outcome must be 'verified' or 'dismissed'");
    return;
  }
  mg_json *sx = mg_json_object_get(c->body, "sanctions");
  if (sx && !mg_json_is_null(sx)) {
    if (!mg_json_is_array(sx) || mg_json_array_size(sx) > 8) {
      mg_api_fail(c, 400, "invalid_field", "body: 'sanctions' must be an array of at most 8 kinds");
      return;
    }
    size_t i;
    mg_json *v;
    mg_json_array_foreach(sx, i, v) {
      if (mg_sanction_parse(mg_json_string_value(v), &d.kinds[i])) {
        mg_api_fail(c, 400, "invalid",
                    "body: sanctions[%zu] is not one of cancel_grade, warning, serious_warning, "
                    "demerit, probation, expulsion",
                    i);
        return;
      }
      d.n = i + 1;
    }
  }
  case_step(c, do_decide, &d);
}

typedef struct text_arg {
  const char *text;
  int flag;
  mg_sanction_kind kind;
} text_arg;

static int do_sanction(mg_api_call *c, const mg_store_case *k, void *arg, mg_case_err *e) {
  text_arg *t = arg;
  mg_case_actor who = actor(c);
  return mg_cases_add_sanction(c->store, &who, k->id, t->kind, t->text, mg_time_now_us(), e);
}

static void h_sanction(mg_api_call *c, void *ud) {
  (void)ud;
  if (body_obj(c, F_SANCTION)) return;
  text_arg t = {NULL, 0, MG_SANCTION_CANCEL_GRADE};
  const char *kind;
  if (body_str(c, "kind", 1, &kind) || body_str(c, "reason", 1, &t.text)) return;
  if (mg_sanction_parse(kind, &t.kind)) {
    mg_api_fail(c, 400, "invalid",
                "body: kind '%.*s' is not one of cancel_grade, warning, serious_warning, demerit, "
                "probation, expulsion",
                mg_utf8_prefix(kind, 40), kind);
    return;
  }
  case_step(c, do_sanction, &t);
}

static int do_respond(mg_api_call *c, const mg_store_case *k, void *arg, mg_case_err *e) {
  text_arg *t = arg;
  mg_case_actor who = actor(c);
  return mg_cases_respond(c->store, &who, k->id, t->text, mg_time_now_us(), e);
}

static void h_respond(mg_api_call *c, void *ud) {
  (void)ud;
  text_arg t = {NULL, 0, 0};
  if (body_obj(c, F_TEXT) || body_str(c, "text", 1, &t.text)) return;
  case_step(c, do_respond, &t);
}

static int do_appeal(mg_api_call *c, const mg_store_case *k, void *arg, mg_case_err *e) {
  text_arg *t = arg;
  mg_case_actor who = actor(c);
  return mg_cases_appeal(c->store, &who, k->id, t->text, mg_time_now_us(), e);
}

static void h_appeal(mg_api_call *c, void *ud) {
  (void)ud;
  text_arg t = {NULL, 0, 0};
  if (body_obj(c, F_GROUNDS) || body_str(c, "grounds", 1, &t.text)) return;
  case_step(c, do_appeal, &t);
}

static int do_appeal_decide(mg_api_call *c, const mg_store_case *k, void *arg, mg_case_err *e) {
  text_arg *t = arg;
  mg_case_actor who = actor(c);
  return mg_cases_decide_appeal(c->store, &who, k->id, t->flag, t->text, mg_time_now_us(), e);
}

static void h_appeal_decide(mg_api_call *c, void *ud) {
  (void)ud;
  text_arg t = {NULL, 0, 0};
  const char *outcome;
  if (body_obj(c, F_APPEAL_DECISION) || body_str(c, "outcome", 1, &outcome) || body_str(c, "reason", 1, &t.text))
    return;
  if (!strcmp(outcome, "upheld")) t.flag = 1;
  else if (strcmp(outcome, "rejected")) {
    mg_api_fail(c, 400, "invalid_field", "body: outcome must be 'upheld' or 'rejected'");
    return;
  }
  case_step(c, do_appeal_decide, &t);
}

static void h_referral(mg_api_call *c, void *ud) {
  (void)ud;
  mg_store_case k;
  const char *dept;
  if (body_obj(c, F_REFERRAL) || body_str(c, "department", 1, &dept) || load_case(c, &k)) return;
  if (mg_store_tx_begin(c->store)) {
    mg_api_fail(c, 503, "busy", "the store is busy; try again");
    return;
  }
  mg_buf pkg;
  mg_buf_init(&pkg, 64u << 20);
  mg_case_err e = {"", ""};
  int64_t id = 0;
  char digest[65], oid[32];
  int rc = mg_notices_referral(c->store, k.id, dept, c->who->username, mg_time_now_us(), &pkg, &id,
                               digest, &e);
  snprintf(oid, sizeof oid, "%lld", (long long)id);
  mg_json *pj = rc ? NULL : parse(c, pkg.data, pkg.len);
  if (rc) {
    mg_store_tx_rollback(c->store);
    fail_case(c, rc, &e);
  } else if (!pj || mg_api_audit(c, NULL, "referral", oid, NULL, pj)) {
    mg_store_tx_rollback(c->store);
    mg_api_fail(c, 503, "audit_unavailable", "the change could not be audited and was not made");
  } else if ((rc = mg_store_tx_commit(c->store))) {
    mg_api_fail_err(c, rc, "referral");
  } else {
    mg_json *o = mg_json_object(pool(c));
    if (!o || set_int(c, o, "id", id) || set_str(c, o, "digest_sm3", digest) ||
        set_json(c, o, "package", pj))
      mg_api_fail(c, 500, "internal", "out of memory");
    else mg_api_reply(c, 201, o);
  }
  mg_buf_free(&pkg);
}

/* ---- student file ------------------------------------------------------------------------ */

static void h_student_file(mg_api_call *c, void *ud) {
  (void)ud;
  int64_t sid;
  if (mg_api_param_id(c, "id", &sid)) return;
  list_ctx x = {c, mg_json_array(pool(c)), 0};
  if (!x.arr) {
    mg_api_fail(c, 500, "internal", "out of memory");
    return;
  }
  if (c->scope == MG_SCOPE_SELF && c->who->student_id != sid) {
    mg_api_fail(c, 403, "out_of_scope", "student %lld is not you", (long long)sid);
    return;
  }
  if (mg_store_file_list(c->store, sid, file_row, &x)) {
    mg_api_fail(c, 500, "internal", "the student file could not be read");
    return;
  }
  /* Organisation scopes see only their own university's entries. */
  if (c->scope != MG_SCOPE_SELF) {
    size_t i = 0;
    while (i < mg_json_array_size(x.arr)) {
      int64_t u = mg_json_integer_value(
          mg_json_object_get(mg_json_array_get(x.arr, i), "university_id"));
      if (!may_univ(c, u)) mg_json_array_remove(x.arr, i);
      else i++;
    }
  }
  mg_json *o = mg_json_object(pool(c));
  if (!o || set_int(c, o, "student_id", sid) || set_json(c, o, "entries", x.arr)) {
    mg_api_fail(c, 500, "internal", "out of memory");
    return;
  }
  mg_api_reply(c, 200, o);
}

/* ---- credit ------------------------------------------------------------------------------ */

static void h_credit_export(mg_api_call *c, void *ud) {
  (void)ud;
  widen(c);
  int64_t univ = c->scope == MG_SCOPE_ORG ? c->who->org_id : 0;
  const char *q = mg_api_query(c, "university_id");
  if (q) {
    char *end;
    long long v = strtoll(q, &end, 10);
    if (*end || v <= 0) {
      mg_api_fail(c, 400, "invalid_parameter", "query: university_id must be a positive integer");
      return;
    }
    univ = v;
  }
  if (univ && !may_univ(c, univ)) {
    mg_api_fail(c, 403, "out_of_scope", "university %lld is outside your scope", (long long)univ);
    return;
  }
  if (!univ && c->scope != MG_SCOPE_ALL) {
    mg_api_fail(c, 400, "invalid_parameter", "query: university_id is required");
    return;
  }
  const char *fmt = mg_api_query(c, "format");
  int csv = fmt && !strcmp(fmt, "csv");
  if (fmt && !csv && strcmp(fmt, "json")) {
    mg_api_fail(c, 400, "invalid_parameter", "query: format must be csv or json");
    return;
  }
  mg_buf b;
  mg_buf_init(&b, 256u << 20);
  char bad[MG_CASES_REG_MAX];
  int rc = mg_credit_export(c->store, univ, csv, &b, bad);
  if (rc == MG_ECORRUPT)
    mg_api_fail(c, 500, "integrity",
                "the credit decision of registration %s does not match its integrity tag; "
                "nothing was exported",
                bad);
  else if (rc) mg_api_fail_err(c, rc, "credit decisions");
  else if (csv) {
    reply_text(c, 200, "text/csv; charset=utf-8", &b);
    mg_http_resp_header(c->resp, "Content-Disposition",
                        "attachment; filename=\"credit-decisions.csv\"");
  } else reply_json_text(c, 200, &b);
  mg_buf_free(&b);
}

static void h_credit_get(mg_api_call *c, void *ud) {
  (void)ud;
  const char *reg = mg_api_param(c, "registration");
  mg_store_credit_decision d;
  char *reasons = NULL;
  int rc = mg_credit_get(c->store, reg ? reg : "", &d, &reasons);
  if (rc == MG_ENOTFOUND) {
    mg_api_fail(c, 404, "not_found", "no credit decision for registration %.*s",
                mg_utf8_prefix(reg ? reg : "", 40), reg ? reg : "");
    return;
  }
  if (rc == MG_ECORRUPT) {
    mg_api_fail(c, 500, "integrity", "the credit decision does not match its integrity tag");
    return;
  }
  if (rc) {
    mg_api_fail_err(c, rc, "credit decision");
    return;
  }
  int allowed = c->scope == MG_SCOPE_SELF ? c->who->student_id == d.student_id
                                          : may_univ(c, d.university_id);
  mg_json *o = mg_json_object(pool(c));
  mg_json *rj = parse(c, reasons, strlen(reasons));
  free(reasons);
  if (!allowed) {
    mg_api_fail(c, 403, "out_of_scope", "this enrolment is outside your scope");
    return;
  }
  if (!o || set_str(c, o, "registration", d.registration) ||
      set_int(c, o, "university_id", d.university_id) || set_int(c, o, "student_id", d.student_id) ||
      set_int(c, o, "offering_id", d.offering_id) ||
      set_json(c, o, "eligible", d.eligible ? mg_json_true() : mg_json_false()) ||
      set_json(c, o, "credits", mg_json_real(pool(c), d.credits)) ||
      set_json(c, o, "grade", d.has_grade ? mg_json_real(pool(c), d.grade) : mg_json_null()) ||
      set_json(c, o, "reasons", rj) || set_str(c, o, "rules_version", d.rules_version) ||
      set_time(c, o, "decided_at", d.decided_us) || set_str(c, o, "tag", d.mac)) {
    mg_api_fail(c, 500, "internal", "out of memory");
    return;
  }
  mg_api_reply(c, 200, o);
}

/* ---- credit: computing decisions from the registry's facts ------------------------------- */

/* The newest decision of registration as the API shows it (tag checked); NULL on error (answered). */
static mg_json *decision_json(mg_api_call *c, const char *reg) {
  mg_store_credit_decision d;
  char *reasons = NULL;
  int rc = mg_credit_get(c->store, reg, &d, &reasons);
  if (rc == MG_ECORRUPT) {
    mg_api_fail(c, 500, "integrity", "the credit decision of %s does not match its integrity tag",
                reg);
    return NULL;
  }
  if (rc) {
    mg_api_fail_err(c, rc, "credit decision");
    return NULL;
  }
  mg_json *o = mg_json_object(pool(c));
  mg_json *rj = parse(c, reasons, strlen(reasons));
  free(reasons);
  if (!o || !rj || set_str(c, o, "registration", d.registration) ||
      set_int(c, o, "university_id", d.university_id) ||
      set_int(c, o, "student_id", d.student_id) || set_int(c, o, "offering_id", d.offering_id) ||
      set_int(c, o, "course_id", d.course_id) ||
      set_json(c, o, "eligible", d.eligible ? mg_json_true() : mg_json_false()) ||
      set_json(c, o, "credits", mg_json_real(pool(c), d.credits)) ||
      set_json(c, o, "grade", d.has_grade ? mg_json_real(pool(c), d.grade) : mg_json_null()) ||
      set_json(c, o, "reasons", rj) || set_str(c, o, "rules_version", d.rules_version) ||
      set_str(c, o, "decided_by", d.decided_by) || set_time(c, o, "decided_at", d.decided_us) ||
      set_str(c, o, "tag", d.mac)) {
    mg_api_fail(c, 500, "internal", "out of memory");
    return NULL;
  }
  return o;
}

static void h_credit_compute(mg_api_call *c, void *ud) {
  (void)ud;
  if (c->body && body_obj(c, (const char *const[]){NULL})) return;
  const char *reg = mg_api_param(c, "registration");
  mg_credit_facts f;
  int rc = mg_credit_facts_of(c->store, reg ? reg : "", &f);
  if (rc == MG_EINVAL) {
    mg_api_fail(c, 400, "invalid_parameter", "path: registration '%.*s' is not a UUID",
                mg_utf8_prefix(reg ? reg : "", 40), reg ? reg : "");
    return;
  }
  if (rc == MG_ENOTFOUND) {
    mg_api_fail(c, 404, "not_found", "选课记录不存在 / no enrolment has registration %.*s",
                mg_utf8_prefix(reg ? reg : "", 40), reg ? reg : "");
    return;
  }
  if (rc) {
    mg_api_fail_err(c, rc, "credit facts");
    return;
  }
  if (!may_univ(c, f.university_id)) {
    mg_api_fail(c, 403, "out_of_scope", "enrolment %s belongs to another university",
                f.registration);
    return;
  }
  if (mg_store_tx_begin(c->store)) {
    mg_api_fail(c, 503, "busy", "the store is busy; try again");
    return;
  }
  int64_t id = 0;
  rc = mg_credit_decide(c->store, &f, c->who->username, mg_time_now_us(), NULL, &id);
  mg_json *after = rc ? NULL : decision_json(c, f.registration);
  if (rc || !after) {
    mg_store_tx_rollback(c->store);
    if (rc) mg_api_fail_err(c, rc, "credit decision");
    return;
  }
  if (mg_api_audit(c, NULL, "credit_decision", f.registration, NULL, after)) {
    mg_store_tx_rollback(c->store);
    mg_api_fail(c, 503, "audit_unavailable", "the change could not be audited and was not made");
    return;
  }
  if ((rc = mg_store_tx_commit(c->store))) {
    mg_api_fail_err(c, rc, "credit decision");
    return;
  }
  mg_api_reply(c, 201, after);
}

typedef struct compute_ctx {
  mg_api_call *c;
  mg_json *arr;
  int64_t eligible;
} compute_ctx;

static int compute_row(void *ud, const mg_credit_facts *f, const mg_credit_result *r,
                       int64_t decision_id) {
  compute_ctx *x = ud;
  mg_api_call *c = x->c;
  mg_json *o = mg_json_object(pool(c)), *failed = mg_json_array(pool(c));
  if (!o || !failed) return MG_ENOMEM;
  int rc = MG_OK;
  for (int i = 0; !rc && i < MG_CREDIT_RULE_COUNT; i++) {
    if (r->rules[i].ok) continue;
    mg_json *fo = mg_json_object(pool(c));
    if (!fo) return MG_ENOMEM;
    rc = set_str(c, fo, "rule", r->rules[i].rule);
    if (!rc) rc = set_str(c, fo, "detail", r->rules[i].detail);
    if (!rc) rc = mg_json_array_append(pool(c), failed, fo);
  }
  if (!rc) rc = set_int(c, o, "decision_id", decision_id);
  if (!rc) rc = set_str(c, o, "registration", f->registration);
  if (!rc) rc = set_int(c, o, "student_id", f->student_id);
  if (!rc) rc = set_json(c, o, "eligible", r->eligible ? mg_json_true() : mg_json_false());
  if (!rc) rc = set_json(c, o, "failed", failed);
  if (!rc) rc = mg_json_array_append(pool(c), x->arr, o);
  if (r->eligible) x->eligible++;
  return rc;
}

static void h_credit_compute_offering(mg_api_call *c, void *ud) {
  (void)ud;
  if (c->body && body_obj(c, (const char *const[]){NULL})) return;
  int64_t off;
  if (mg_api_param_id(c, "id", &off)) return;
  mg_reg_offering o;
  int rc = mg_store_reg_offering_get(c->store, off, &o);
  if (rc == MG_ENOTFOUND) {
    mg_api_fail(c, 404, "not_found", "开课不存在 / offering %lld does not exist", (long long)off);
    return;
  }
  if (rc) {
    mg_api_fail_err(c, rc, "offering");
    return;
  }
  if (!may_univ(c, o.university_id)) {
    mg_api_fail(c, 403, "out_of_scope", "offering %lld belongs to another university",
                (long long)off);
    return;
  }
  compute_ctx x = {c, mg_json_array(pool(c)), 0};
  mg_json *out = mg_json_object(pool(c));
  if (!x.arr || !out) {
    mg_api_fail(c, 500, "internal", "out of memory");
    return;
  }
  if (mg_store_tx_begin(c->store)) {
    mg_api_fail(c, 503, "busy", "the store is busy; try again");
    return;
  }
  int64_t n = 0;
  char oid[32];
  snprintf(oid, sizeof oid, "%lld", (long long)off);
  rc = mg_credit_compute_offering(c->store, off, c->who->username, mg_time_now_us(), compute_row,
                                  &x, &n);
  if (!rc && (set_int(c, out, "offering_id", off) || set_int(c, out, "decided", n) ||
              set_int(c, out, "eligible", x.eligible) ||
              set_int(c, out, "ineligible", n - x.eligible) ||
              set_json(c, out, "decisions", x.arr)))
    rc = MG_ENOMEM;
  if (rc) {
    mg_store_tx_rollback(c->store);
    mg_api_fail_err(c, rc, "credit decisions");
    return;
  }
  if (mg_api_audit(c, NULL, "offering_credit_decisions", oid, NULL, out)) {
    mg_store_tx_rollback(c->store);
    mg_api_fail(c, 503, "audit_unavailable", "the change could not be audited and was not made");
    return;
  }
  if ((rc = mg_store_tx_commit(c->store))) {
    mg_api_fail_err(c, rc, "credit decisions");
    return;
  }
  mg_api_reply(c, 200, out);
}

/* ---- the regulator's report (通报) ------------------------------------------------------- */

typedef struct enrol_count {
  int64_t to_us, n;
} enrol_count;

static int count_enrolment(void *ud, const mg_reg_enrolment *e) {
  enrol_count *k = ud;
  if (e->created_us < k->to_us) k->n++;
  return MG_OK;
}

typedef struct offering_ids {
  int64_t *v;
  size_t n, cap;
} offering_ids;

static int collect_offering(void *ud, const mg_reg_offering *o) {
  offering_ids *x = ud;
  if (x->n == x->cap) {
    size_t cap = x->cap ? 2 * x->cap : 16;
    int64_t *v = realloc(x->v, cap * sizeof *v);
    if (!v) return MG_ENOMEM;
    x->v = v;
    x->cap = cap;
  }
  x->v[x->n++] = o->id;
  return MG_OK;
}

/* The registry's side of the report: name, province, and enrolments that existed before the end
 * of the period (dropped ones included: they were enrolled during it). */
static int report_org(void *ud, int is_platform, int64_t id, int64_t from_us, int64_t to_us,
                      mg_report_org *out) {
  mg_api_call *c = ud;
  (void)from_us;
  memset(out, 0, sizeof *out);
  mg_reg_org o;
  int rc = mg_store_reg_org_get(c->store, id, &o);
  if (rc == MG_ENOTFOUND) return MG_OK;
  if (rc) return rc;
  snprintf(out->name, sizeof out->name, "%.*s", mg_utf8_prefix(o.name, sizeof out->name - 1), o.name);
  snprintf(out->province, sizeof out->province, "%s", o.province);
  offering_ids offs = {NULL, 0, 0};
  rc = mg_store_reg_offering_list(c->store, is_platform ? 0 : id, 0, is_platform ? id : 0,
                                  collect_offering, &offs);
  enrol_count k = {to_us, 0};
  for (size_t i = 0; !rc && i < offs.n; i++)
    rc = mg_store_reg_enrolment_list(c->store, offs.v[i], 0, 0, 0, count_enrolment, &k, NULL);
  free(offs.v);
  out->enrolments = k.n;
  return rc;
}

/* A period bound: an ISO 8601 instant or a date (YYYY-MM-DD, 00:00 China time). */
static int parse_instant(const char *v, int64_t *out) {
  char buf[64];
  mg_timestamp t;
  if (strlen(v) == 10) {
    snprintf(buf, sizeof buf, "%sT00:00:00+08:00", v);
    v = buf;
  }
  if (mg_time_parse_iso(v, 1, &t) || !t.has_tz) return MG_EINVAL;
  *out = t.us;
  return MG_OK;
}

typedef struct report_req {
  mg_report_params p;
  char province[16];
  int html;
} report_req;

/* Reads from, to, min_enrolments, province and format (from the query, or the body for POST)
 * and applies the caller's scope. Answers and returns non-zero on error. */
static int report_params(mg_api_call *c, int from_body, report_req *r) {
  memset(r, 0, sizeof *r);
  widen(c);
  const char *from = NULL, *to = NULL, *minv = NULL, *prov = NULL, *fmt = NULL;
  if (from_body) {
    static const char *const F[] = {"from", "to", "min_enrolments", "province", NULL};
    if (body_obj(c, F) || body_str(c, "from", 1, &from) || body_str(c, "to", 1, &to) ||
        body_str(c, "province", 0, &prov))
      return -1;
    mg_json *m = mg_json_object_get(c->body, "min_enrolments");
    if (m && (!mg_json_is_integer(m) || mg_json_integer_value(m) < 0)) {
      mg_api_fail(c, 400, "invalid_field", "body: 'min_enrolments' must be a non-negative integer");
      return -1;
    }
    r->p.min_enrolments = m ? mg_json_integer_value(m) : 100;
  } else {
    from = mg_api_query(c, "from");
    to = mg_api_query(c, "to");
    minv = mg_api_query(c, "min_enrolments");
    prov = mg_api_query(c, "province");
    fmt = mg_api_query(c, "format");
    r->p.min_enrolments = 100;
    if (minv) {
      char *end;
      long long v = strtoll(minv, &end, 10);
      if (!*minv || *end || v < 0) {
        mg_api_fail(c, 400, "invalid_parameter", "query: min_enrolments must be a non-negative integer");
        return -1;
      }
      r->p.min_enrolments = v;
    }
    if (fmt && strcmp(fmt, "json") && strcmp(fmt, "html")) {
      mg_api_fail(c, 400, "invalid_parameter", "query: format must be json or html");
      return -1;
    }
    r->html = fmt && !strcmp(fmt, "html");
  }
  int64_t now = mg_time_now_us();
  r->p.to_us = now;
  if (to && parse_instant(to, &r->p.to_us)) {
    mg_api_fail(c, 400, "invalid_parameter", "to: '%.*s' is not a date (YYYY-MM-DD) or an ISO 8601 "
                "instant with a zone", mg_utf8_prefix(to, 40), to);
    return -1;
  }
  r->p.from_us = r->p.to_us - 30LL * 86400 * 1000000;
  if (from && parse_instant(from, &r->p.from_us)) {
    mg_api_fail(c, 400, "invalid_parameter", "from: '%.*s' is not a date (YYYY-MM-DD) or an ISO "
                "8601 instant with a zone", mg_utf8_prefix(from, 40), from);
    return -1;
  }
  if (r->p.from_us >= r->p.to_us) {
    mg_api_fail(c, 400, "invalid_parameter", "the period is empty: from must be before to");
    return -1;
  }
  if (prov && (!*prov || strlen(prov) >= sizeof r->province)) {
    mg_api_fail(c, 400, "invalid_parameter", "province: '%.*s' is not a province code",
                mg_utf8_prefix(prov, 20), prov);
    return -1;
  }
  /* A provincial department reports on its own province only. */
  if (c->scope == MG_SCOPE_PROVINCE) {
    if (prov && strcmp(prov, c->who->province)) {
      mg_api_fail(c, 403, "out_of_scope", "province %s is outside your scope (you report on %s)",
                  prov, c->who->province);
      return -1;
    }
    prov = c->who->province;
  }
  if (prov) {
    snprintf(r->province, sizeof r->province, "%s", prov);
    r->p.province = r->province;
  }
  r->p.generated_us = now;
  return 0;
}

static void reply_report(mg_api_call *c, int status, const mg_buf *json, int html) {
  if (!html) {
    reply_json_text(c, status, json);
    return;
  }
  mg_buf h;
  mg_buf_init(&h, 64u << 20);
  if (mg_notices_report_html(json->data, json->len, &h))
    mg_api_fail(c, 500, "internal", "the report could not be rendered");
  else reply_text(c, status, "text/html; charset=utf-8", &h);
  mg_buf_free(&h);
}

static void h_report_current(mg_api_call *c, void *ud) {
  (void)ud;
  report_req r;
  if (report_params(c, 0, &r)) return;
  mg_buf b;
  mg_buf_init(&b, 64u << 20);
  int rc = mg_notices_report_json(c->store, &r.p, report_org, c, &b);
  if (rc) mg_api_fail_err(c, rc, "report");
  else reply_report(c, 200, &b, r.html);
  mg_buf_free(&b);
}

static void h_report_issue(mg_api_call *c, void *ud) {
  (void)ud;
  report_req r;
  if (report_params(c, 1, &r)) return;
  mg_buf b;
  mg_buf_init(&b, 64u << 20);
  int rc = mg_notices_report_json(c->store, &r.p, report_org, c, &b);
  if (rc) {
    mg_api_fail_err(c, rc, "report");
    mg_buf_free(&b);
    return;
  }
  mg_store_report rep;
  memset(&rep, 0, sizeof rep);
  rep.period_from_us = r.p.from_us;
  rep.period_to_us = r.p.to_us;
  snprintf(rep.province, sizeof rep.province, "%s", r.province);
  snprintf(rep.issued_by, sizeof rep.issued_by, "%s", c->who->username);
  rep.issued_us = r.p.generated_us;
  rep.body = b.data;
  int64_t id = 0;
  char oid[32];
  mg_json *body = parse(c, b.data, b.len);
  if (!body || mg_store_tx_begin(c->store)) {
    mg_api_fail(c, 503, "busy", "the store is busy; try again");
    mg_buf_free(&b);
    return;
  }
  rc = mg_store_report_add(c->store, &rep, &id);
  snprintf(oid, sizeof oid, "%lld", (long long)id);
  int audit_failed = !rc && mg_api_audit(c, NULL, "report", oid, NULL, body);
  if (rc || audit_failed) {
    mg_store_tx_rollback(c->store);
    if (audit_failed)
      mg_api_fail(c, 503, "audit_unavailable", "the change could not be audited and was not made");
    else mg_api_fail_err(c, rc, "report");
  } else if ((rc = mg_store_tx_commit(c->store))) {
    mg_api_fail_err(c, rc, "report");
  } else {
    mg_json *o = mg_json_object(pool(c));
    if (!o || set_int(c, o, "id", id) || set_json(c, o, "report", body))
      mg_api_fail(c, 500, "internal", "out of memory");
    else mg_api_reply(c, 201, o);
  }
  mg_buf_free(&b);
}

static void h_report_get(mg_api_call *c, void *ud) {
  (void)ud;
  widen(c);
  int64_t id;
  if (mg_api_param_id(c, "id", &id)) return;
  const char *fmt = mg_api_query(c, "format");
  if (fmt && strcmp(fmt, "json") && strcmp(fmt, "html")) {
    mg_api_fail(c, 400, "invalid_parameter", "query: format must be json or html");
    return;
  }
  mg_store_report rep;
  char *body = NULL;
  int rc = mg_store_report_get(c->store, id, &rep, &body);
  if (rc == MG_ENOTFOUND) {
    mg_api_fail(c, 404, "not_found", "通报不存在 / report %lld does not exist", (long long)id);
    return;
  }
  if (rc) {
    mg_api_fail_err(c, rc, "report");
    return;
  }
  /* A provincial department reads its own province's reports; national ones are the ministry's. */
  if (c->scope == MG_SCOPE_PROVINCE && strcmp(rep.province, c->who->province)) {
    free(body);
    mg_api_fail(c, 403, "out_of_scope", "report %lld covers %s, outside your province",
                (long long)id, rep.province[0] ? rep.province : "the whole country");
    return;
  }
  mg_buf b;
  mg_buf_init(&b, 64u << 20);
  if (mg_buf_adds(&b, body)) mg_api_fail(c, 500, "internal", "out of memory");
  else reply_report(c, 200, &b, fmt && !strcmp(fmt, "html"));
  free(body);
  mg_buf_free(&b);
}

/* ---- notices ----------------------------------------------------------------------------- */

static int notice_row(void *ud, const mg_store_notice *n) {
  list_ctx *x = ud;
  mg_api_call *c = x->c;
  mg_json *o = mg_json_object(pool(c));
  if (!o) return MG_ENOMEM;
  int rc = set_int(c, o, "id", n->id);
  if (!rc) rc = set_str(c, o, "kind", n->kind);
  if (!rc) rc = set_int(c, o, "case_id", n->case_id);
  if (!rc) rc = set_str(c, o, "title", n->title);
  if (!rc) rc = set_json(c, o, "body", parse(c, n->body, strlen(n->body)));
  if (!rc) rc = set_time(c, o, "created_at", n->created_us);
  if (!rc) rc = mg_json_array_append(pool(c), x->arr, o);
  return rc;
}

static void h_notices(mg_api_call *c, void *ud) {
  (void)ud;
  const char *kind = c->scope == MG_SCOPE_SELF ? "student" : "university";
  int64_t rid = c->scope == MG_SCOPE_SELF ? c->who->student_id : c->who->org_id;
  if (rid <= 0) {
    mg_api_fail(c, 403, "out_of_scope", "your account belongs to no university or student record");
    return;
  }
  list_ctx x = {c, mg_json_array(pool(c)), 0};
  mg_json *o = mg_json_object(pool(c));
  if (!x.arr || !o || mg_store_notice_list(c->store, kind, rid, notice_row, &x) ||
      set_json(c, o, "notices", x.arr)) {
    mg_api_fail(c, 500, "internal", "the notices could not be read");
    return;
  }
  mg_api_reply(c, 200, o);
}

static void h_flagged(mg_api_call *c, void *ud) {
  (void)ud;
  int64_t univ = c->who->org_id;
  const char *q = mg_api_query(c, "university_id");
  if (q) {
    char *end;
    long long v = strtoll(q, &end, 10);
    if (*end || v <= 0) {
      mg_api_fail(c, 400, "invalid_parameter", "query: university_id must be a positive integer");
      return;
    }
    univ = v;
  }
  if (univ <= 0 || !may_univ(c, univ)) {
    mg_api_fail(c, 403, "out_of_scope", "university %lld is outside your scope", (long long)univ);
    return;
  }
  mg_buf b;
  mg_buf_init(&b, 64u << 20);
  int rc = mg_notices_flagged_json(c->store, univ, &b);
  if (rc) mg_api_fail_err(c, rc, "flagged students");
  else reply_json_text(c, 200, &b);
  mg_buf_free(&b);
}

/* ---- routes ------------------------------------------------------------------------------ */

int mg_cases_api_register(mg_api *api) {
  static const struct {
    const char *method, *pattern, *cap;
    mg_api_handler h;
  } routes[] = {
      {"GET", "/inbox", "cases.inbox.read", h_inbox_list},
      {"POST", "/inbox", "cases.report", h_inbox_add},
      {"GET", "/cases", "cases.read", h_case_list},
      {"POST", "/cases", "cases.open", h_case_open},
      {"GET", "/cases/:id", "cases.read", h_case_get},
      {"POST", "/cases/:id/investigate", "cases.investigate", h_investigate},
      {"POST", "/cases/:id/decision", "cases.decide", h_decide},
      {"POST", "/cases/:id/sanctions", "cases.sanction", h_sanction},
      {"POST", "/cases/:id/responses", "cases.respond", h_respond},
      {"POST", "/cases/:id/appeal", "cases.appeal", h_appeal},
      {"POST", "/cases/:id/appeal/decision", "cases.appeal_decide", h_appeal_decide},
      {"POST", "/cases/:id/referrals", "cases.refer", h_referral},
      {"GET", "/students/:id/file", "cases.student_file", h_student_file},
      {"GET", "/credit/decisions", "credit.export", h_credit_export},
      {"GET", "/credit/decisions/:registration", "credit.read", h_credit_get},
      {"GET", "/notices", "notices.read", h_notices},
      {"GET", "/notices/flagged", "notices.flagged", h_flagged},
      {"POST", "/credit/decisions/:registration/compute", "credit.compute", h_credit_compute},
      {"POST", "/credit/offerings/:id/compute", "credit.compute", h_credit_compute_offering},
      {"GET", "/reports/current", "report.read", h_report_current},
      {"POST", "/reports", "report.issue", h_report_issue},
      {"GET", "/reports/:id", "report.read", h_report_get},
  };
  for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
    int rc = mg_api_route(api, routes[i].method, routes[i].pattern, routes[i].cap, routes[i].h,
                          NULL);
    if (rc) return rc;
  }
  return MG_OK;
}
