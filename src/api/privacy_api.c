/* api/privacy_api.c — /api/v1/me/export and /api/v1/me/consents/face (see privacy_api.h). */
#include "api/privacy_api.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/time.h"
#include "privacy/consent.h"
#include "privacy/export.h"

static mg_arena *pool(mg_api_call *c) { return &c->req->pool; }

/* The caller's student record; answers 403 itself when the account has none. */
static int own_student(mg_api_call *c) {
  if (c->who->student_id > 0) return 0;
  mg_api_fail(c, 403, "out_of_scope",
              "此账号未关联学生记录 / this account is not linked to a student record");
  return -1;
}

/* Audits a call in its own transaction; answers 503 itself and returns non-zero on failure
 * (personal data is not handed out, nor a change made, without its audit record). */
static int audit_tx(mg_api_call *c, const char *object_id, const mg_json *after,
                    int (*change)(mg_api_call *c, void *ud), void *ud) {
  if (mg_store_tx_begin(c->store)) {
    mg_api_fail(c, 503, "busy", "the store is busy; try again");
    return -1;
  }
  int rc = change ? change(c, ud) : MG_OK;
  if (rc) {
    mg_store_tx_rollback(c->store);
    return rc; /* change() answered */
  }
  if (mg_api_audit(c, NULL, "student", object_id, NULL, after)) {
    mg_store_tx_rollback(c->store);
    mg_api_fail(c, 503, "audit_unavailable", "the call could not be audited and was refused");
    return -1;
  }
  if ((rc = mg_store_tx_commit(c->store))) {
    mg_api_fail_err(c, rc, "consent record");
    return -1;
  }
  return 0;
}

/* ---- GET /me/export ------------------------------------------------------------------------- */

static void h_export(mg_api_call *c, void *ud) {
  (void)ud;
  if (own_student(c)) return;
  int64_t after = 0;
  const char *q = mg_api_query(c, "statements_after");
  if (q) {
    char *end = NULL;
    errno = 0;
    long long v = strtoll(q, &end, 10);
    if (!*q || !end || *end || errno || v < 0) {
      mg_api_fail(c, 400, "invalid_parameter",
                  "query: 'statements_after' must be a non-negative integer (statements_next of "
                  "the previous page)");
      return;
    }
    after = v;
  }
  mg_json *doc = NULL;
  int rc = mg_privacy_export(c->store, c->who->student_id, c->who->user_id, after,
                             mg_time_now_us(), pool(c), &doc);
  if (rc) {
    mg_api_fail_err(c, rc, "student record");
    return;
  }
  char oid[32];
  snprintf(oid, sizeof oid, "%lld", (long long)c->who->student_id);
  if (audit_tx(c, oid, NULL, NULL, NULL)) return;
  mg_api_reply(c, 200, doc);
}

/* ---- /me/consents/face ---------------------------------------------------------------------- */

static int consent_json(mg_api_call *c, const mg_store_consent *k, mg_json **out) {
  mg_arena *a = pool(c);
  mg_json *o = mg_json_object(a);
  if (!o) return MG_ENOMEM;
  char t[MG_TIME_ISO_LEN];
  mg_time_format_iso(k->at_us, 3, t);
  int rc = mg_json_object_set(a, o, "action", mg_json_string(a, k->granted ? "granted" : "withdrawn"));
  if (!rc) rc = mg_json_object_set(a, o, "notice_version", mg_json_string(a, k->notice_version));
  if (!rc) rc = mg_json_object_set(a, o, "notice_sha256", mg_json_string(a, k->notice_digest));
  if (!rc) rc = mg_json_object_set(a, o, "client_ip", mg_json_string(a, k->client_ip));
  if (!rc) rc = mg_json_object_set(a, o, "at", mg_json_string(a, t));
  *out = rc ? NULL : o;
  return rc ? MG_ENOMEM : MG_OK;
}

typedef struct hist {
  mg_api_call *c;
  mg_json *arr;
} hist;

static int on_record(void *ud, const mg_store_consent *k) {
  hist *h = ud;
  mg_json *o = NULL;
  int rc = consent_json(h->c, k, &o);
  return rc ? rc : mg_json_array_append(pool(h->c), h->arr, o);
}

/* The consent view: the current notice, the state now and every record. */
static void reply_state(mg_api_call *c, int status) {
  mg_arena *a = pool(c);
  const mg_privacy_notice *n = mg_privacy_face_notice();
  char dg[65];
  mg_privacy_notice_digest(n, dg);
  int granted = 0;
  mg_store_consent cur;
  mg_json *o = mg_json_object(a), *notice = mg_json_object(a), *arr = mg_json_array(a);
  int rc = o && notice && arr ? MG_OK : MG_ENOMEM;
  if (!rc) rc = mg_privacy_face_consent_at(c->store, c->who->student_id, INT64_MAX, &granted, &cur);
  hist h = {c, arr};
  if (!rc) rc = mg_store_consent_list(c->store, c->who->student_id, MG_PRIVACY_FACE, on_record, &h);
  if (!rc) rc = mg_json_object_set(a, notice, "version", mg_json_string(a, n->version));
  if (!rc) rc = mg_json_object_set(a, notice, "text_zh", mg_json_string(a, n->text_zh));
  if (!rc) rc = mg_json_object_set(a, notice, "text_en", mg_json_string(a, n->text_en));
  if (!rc) rc = mg_json_object_set(a, notice, "sha256", mg_json_string(a, dg));
  if (!rc) rc = mg_json_object_set(a, o, "purpose", mg_json_string(a, MG_PRIVACY_FACE));
  if (!rc) rc = mg_json_object_set(a, o, "granted", granted ? mg_json_true() : mg_json_false());
  if (!rc)
    rc = mg_json_object_set(a, o, "state",
                            mg_json_string(a, !cur.id ? "none" : granted ? "granted" : "withdrawn"));
  if (!rc)
    rc = mg_json_object_set(
        a, o, "current_notice_accepted",
        granted && !strcmp(cur.notice_version, n->version) ? mg_json_true() : mg_json_false());
  if (!rc) rc = mg_json_object_set(a, o, "notice", notice);
  if (!rc) rc = mg_json_object_set(a, o, "records", arr);
  if (rc) {
    mg_api_fail_err(c, rc, "consent record");
    return;
  }
  mg_api_reply(c, status, o);
}

static void h_consent_get(mg_api_call *c, void *ud) {
  (void)ud;
  if (own_student(c)) return;
  char oid[32];
  snprintf(oid, sizeof oid, "%lld", (long long)c->who->student_id);
  if (audit_tx(c, oid, NULL, NULL, NULL)) return;
  reply_state(c, 200);
}

typedef struct set_args {
  int granted;
  const char *version;
  mg_store_consent rec;
  int unchanged;
} set_args;

static int do_set(mg_api_call *c, void *ud) {
  set_args *a = ud;
  const char *why = NULL;
  int rc = mg_privacy_face_consent_set(c->store, c->who->student_id, c->who->user_id, a->granted,
                                       a->version, c->req->client_ip, mg_time_now_us(), &a->rec,
                                       &why);
  if (rc == MG_EEXISTS) {
    a->unchanged = 1;
    mg_api_fail(c, 409, a->granted ? "already_granted" : "not_granted", "%s / %s",
                a->granted ? "已同意当前告知文本" : "没有可撤回的同意", why ? why : "no change");
  } else if (rc == MG_EINVAL) {
    mg_api_fail(c, 400, "invalid_field", "body: %s", why ? why : "invalid");
  } else if (rc) {
    mg_api_fail_err(c, rc, "consent record");
  }
  return rc;
}

static void h_consent_set(mg_api_call *c, int granted) {
  if (own_student(c)) return;
  set_args args = {granted, NULL, {0}, 0};
  if (c->body) {
    if (!mg_json_is_object(c->body)) {
      mg_api_fail(c, 400, "invalid_body", "the request body must be a JSON object");
      return;
    }
    const char *k;
    mg_json *v;
    mg_json_object_foreach(c->body, k, v) {
      if (strcmp(k, "notice_version")) {
        mg_api_fail(c, 400, "unknown_field", "未知字段 / unknown field '%.*s' (only notice_version)",
                    mg_utf8_prefix(k, 40), k);
        return;
      }
      if (!mg_json_is_string(v)) {
        mg_api_fail(c, 400, "invalid_field", "body: 'notice_version' must be a string");
        return;
      }
      args.version = mg_json_string_value(v);
    }
  }
  if (granted && !args.version) {
    mg_api_fail(c, 400, "invalid_field",
                "body: 'notice_version' is required: the version of the notice you accept "
                "(GET /api/v1/me/consents/face)");
    return;
  }
  char oid[32];
  snprintf(oid, sizeof oid, "%lld", (long long)c->who->student_id);
  /* the audit record's "after" is the consent record itself (its digest goes in the chain) */
  mg_arena *a = pool(c);
  mg_json *after = mg_json_object(a);
  if (!after || mg_json_object_set(a, after, "purpose", mg_json_string(a, MG_PRIVACY_FACE)) ||
      mg_json_object_set(a, after, "granted", granted ? mg_json_true() : mg_json_false()) ||
      mg_json_object_set(a, after, "notice_version",
                         mg_json_string(a, mg_privacy_face_notice()->version))) {
    mg_api_fail(c, 500, "internal", "out of memory");
    return;
  }
  if (audit_tx(c, oid, after, do_set, &args)) return;
  reply_state(c, granted ? 201 : 200);
}

static void h_consent_post(mg_api_call *c, void *ud) {
  (void)ud;
  h_consent_set(c, 1);
}
static void h_consent_delete(mg_api_call *c, void *ud) {
  (void)ud;
  h_consent_set(c, 0);
}

int mg_privacy_api_register(mg_api *api) {
  static const struct {
    const char *method, *pattern, *cap;
    mg_api_handler h;
  } routes[] = {
      {"GET", "/me/export", "self.export", h_export},
      {"GET", "/me/consents/face", "self.consent", h_consent_get},
      {"POST", "/me/consents/face", "self.consent", h_consent_post},
      {"DELETE", "/me/consents/face", "self.consent", h_consent_delete},
  };
  for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
    int rc = mg_api_route(api, routes[i].method, routes[i].pattern, routes[i].cap, routes[i].h, NULL);
    if (rc) return rc;
  }
  return MG_OK;
}
