#include "http/lrs.h"

#include <ctype.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/err.h"
#include "core/log.h"
#include "core/time.h"
#include "core/uuid.h"
#include "registry/platform.h"
#include "xapi/ingest.h"
#include "xapi/multipart.h"
#include "xapi/statement.h"
#include "xapi/validate.h"
#include "xapi/version.h"

/* Query parameters the Statements resource accepts; anything else is a 400. The timestamp_*
 * pair is moocguard's extension: filter on the statement's own (event) timestamp. */
static const char *const k_query_params[] = {
    "statementId", "voidedStatementId", "agent",  "verb",       "activity",
    "registration", "related_activities", "related_agents", "since", "until",
    "limit",       "format",           "attachments", "ascending", "timestamp_since",
    "timestamp_until", NULL};

/* ---- helpers -------------------------------------------------------------------------------- */

static void set_version_header(mg_http_resp *resp, mg_xapi_version v) {
  mg_http_resp_header(resp, "X-Experience-API-Version", mg_xapi_version_str(v));
}

/* Checks the version header; on failure answers 400 and returns non-zero. */
static int require_version(mg_lrs *lrs, mg_http_req *req, mg_http_resp *resp,
                           mg_xapi_version *v) {
  const char *h = mg_http_header_get(req, "X-Experience-API-Version");
  if (mg_xapi_version_parse(h, v) != MG_OK) {
    *v = lrs->default_version;
    set_version_header(resp, *v);
    if (!h)
      mg_http_resp_error(resp, 400, "missing_version",
                         "the X-Experience-API-Version header is required (1.0.3 or 2.0.0)");
    else
      mg_http_resp_error(resp, 400, "unsupported_version",
                         "X-Experience-API-Version '%.40s' is not supported (1.0.x or 2.0.x)", h);
    return -1;
  }
  set_version_header(resp, *v);
  return 0;
}

/* Authenticates the platform; on failure answers 401 and returns non-zero. */
static int require_platform(mg_lrs *lrs, mg_http_req *req, mg_http_resp *resp,
                            mg_store_credential *cred) {
  if (mg_auth_basic_verify(lrs->auth, mg_http_header_get(req, "Authorization"), cred) != MG_OK) {
    mg_http_resp_error(resp, 401, "unauthorized",
                       "a valid, enabled platform credential is required (HTTP Basic)");
    mg_http_resp_header(resp, "WWW-Authenticate", "Basic realm=\"moocguard LRS\"");
    return -1;
  }
  req->platform_id = cred->platform_id;
  char who[sizeof req->principal];
  snprintf(who, sizeof who, "platform:%s", cred->key);
  return mg_http_limit_principal(req, resp, who) == MG_OK ? 0 : -1;
}

static void set_consistent_through(mg_lrs *lrs, mg_http_resp *resp) {
  int64_t last = 0;
  char iso[MG_TIME_ISO_LEN];
  mg_store_stmt_last_stored(lrs->store, &last);
  int64_t now = mg_time_now_us();
  /* every statement stored up to now is visible: commits are synchronous */
  mg_time_format_iso(last > now ? last : now, 3, iso);
  mg_http_resp_header(resp, "X-Experience-API-Consistent-Through", iso);
}

static int media_type_is(const char *ct, const char *want) {
  if (!ct) return 0;
  while (*ct == ' ') ct++;
  size_t n = strlen(want);
  return strncasecmp(ct, want, n) == 0 && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/* ---- About ---------------------------------------------------------------------------------- */

static void handle_about(mg_http_req *req, mg_http_resp *resp, void *ud) {
  mg_lrs *lrs = ud;
  mg_xapi_version v;
  if (mg_xapi_version_parse(mg_http_header_get(req, "X-Experience-API-Version"), &v) != MG_OK)
    v = lrs->default_version;
  set_version_header(resp, v);
  static const char about_json[] =
      "{\"version\":[\"1.0.0\",\"1.0.1\",\"1.0.2\",\"1.0.3\",\"2.0.0\"],\"extensions\":{"
      "\"https://moocguard.org/xapi/ext/server\":\"moocguard " MG_VERSION "\","
      "\"https://moocguard.org/xapi/ext/profile\":\"https://moocguard.org/xapi/profile/1.0\"}}";
  mg_json *about = mg_json_parse(&req->pool, about_json, sizeof about_json - 1, 0, NULL);
  if (!about) {
    mg_http_resp_error(resp, 500, "out_of_memory", "out of memory");
    return;
  }
  mg_http_resp_json(resp, 200, about);
  char lm[40];
  mg_time_format_http(mg_time_now_us(), lm);
  mg_http_resp_header(resp, "Last-Modified", lm);
}

/* ---- PUT / POST ----------------------------------------------------------------------------- */

static int first_unknown_write_param(void *ud, const char *k, const char *v) {
  (void)v;
  if (!strcmp(k, "statementId")) return 0;
  snprintf((char *)ud, 80, "%.64s", k);
  return 1;
}

static void handle_write(mg_lrs *lrs, mg_http_req *req, mg_http_resp *resp, int is_put) {
  mg_xapi_version v;
  mg_store_credential cred;
  mg_xapi_multipart mp = {0};
  mg_json *body = NULL, *authority = NULL;
  mg_xapi_error err;
  char msg[512];

  if (require_version(lrs, req, resp, &v) || require_platform(lrs, req, resp, &cred)) return;
  const char *statement_id = mg_http_query_get(req, "statementId");
  /* the only parameter either method takes is statementId (PUT requires it) */
  char unknown[80] = "";
  mg_http_query_each(req, first_unknown_write_param, unknown);
  if (unknown[0]) {
    mg_http_resp_error(resp, 400, "invalid_parameter", "unknown query parameter '%s'", unknown);
    return;
  }
  if (is_put && !statement_id) {
    mg_http_resp_error(resp, 400, "missing_parameter", "PUT /statements requires statementId");
    return;
  }
  if (!is_put && statement_id) {
    mg_http_resp_error(resp, 400, "invalid_parameter",
                       "POST /statements does not take statementId; use PUT");
    return;
  }
  const char *ct = mg_http_header_get(req, "Content-Type");
  const char *json_text = req->body.data;
  size_t json_len = req->body.len;
  const mg_xapi_part *parts = NULL;
  size_t n_parts = 0;
  if (media_type_is(ct, "multipart/mixed")) {
    if (mg_xapi_multipart_parse(ct, req->body.data, req->body.len, 1024, &mp, &err) != MG_OK ||
        mg_xapi_multipart_check_parts(mp.parts, mp.n, &err) != MG_OK) {
      mg_http_resp_error(resp, 400, "invalid_multipart", "%s%s%s", err.path,
                         err.path[0] ? ": " : "", err.message);
      goto out;
    }
    json_text = (const char *)mp.parts[0].data;
    json_len = mp.parts[0].len;
    parts = mp.parts + 1;
    n_parts = mp.n - 1;
  } else if (!media_type_is(ct, "application/json")) {
    mg_http_resp_error(resp, 400, "unsupported_content_type",
                       "Content-Type must be application/json or multipart/mixed, not '%.60s'",
                       ct ? ct : "(none)");
    goto out;
  }
  body = mg_xapi_parse_json(&req->pool, json_text, json_len, msg, sizeof msg);
  if (!body) {
    mg_http_resp_error(resp, 400, "malformed_json", "%s", msg);
    goto out;
  }
  /* the regulator's intake switch (registry/platform.h): 403 while it stops this platform */
  mg_registry_why stop;
  int stopped = mg_registry_intake_check(lrs->store, cred.platform_id, body, &stop);
  if (stopped) {
    mg_http_resp_error(resp, stopped == MG_EFORBIDDEN ? 403 : 500, stop.code, "%s", stop.message);
    goto out;
  }
  authority = mg_xapi_platform_authority(&req->pool, lrs->base_url, cred.key, cred.name);
  if (!authority) {
    mg_http_resp_error(resp, 500, "out_of_memory", "out of memory");
    goto out;
  }
  mg_xapi_ingest_ctx ctx = {lrs->store, v, authority, cred.platform_id, &req->pool,
                            lrs->on_durable, lrs->on_durable_ud};
  mg_xapi_ingest_result res;
  mg_xapi_ingest(&ctx, body, is_put ? statement_id : NULL, parts, n_parts, &res);
  if (res.status != 200) {
    mg_http_resp_error(resp, res.status, res.error, "%s", res.message);
    if (res.status == 503) mg_http_resp_header(resp, "Retry-After", "5");
    goto out;
  }
  if (is_put) {
    resp->status = 204;
  } else {
    mg_http_resp_json(resp, 200, res.ids);
  }
out:
  mg_xapi_multipart_free(&mp);
}

/* ---- GET ------------------------------------------------------------------------------------ */

typedef struct get_params {
  mg_json *raw;            /* the parameters as given, for `more` (in the request pool) */
  mg_arena *pool;
  mg_store_query q;
  char agent_key[1024];
  mg_xapi_format format;
  int attachments;
  const char *statement_id;
  const char *voided_id;
  int64_t after_seq, max_seq;
} get_params;

static int parse_bool(const char *s, int *out) {
  if (!strcmp(s, "true")) *out = 1;
  else if (!strcmp(s, "false")) *out = 0;
  else return MG_EINVAL;
  return MG_OK;
}

typedef struct param_sink {
  mg_arena *a;
  mg_json *obj;
} param_sink;

static int collect_param(void *ud, const char *k, const char *v) {
  param_sink *ps = ud;
  mg_json *sv = mg_json_string(ps->a, v);
  return !sv || mg_json_object_set(ps->a, ps->obj, k, sv) ? MG_ENOMEM : MG_OK;
}

/* Validates and converts the parameters in p->raw. On error answers 400 and returns non-zero. */
static int parse_get_params(mg_lrs *lrs, get_params *p, mg_xapi_version v, mg_http_resp *resp) {
  const char *k;
  mg_json *val;
  mg_json_object_foreach(p->raw, k, val) {
    int known = 0;
    for (int i = 0; k_query_params[i]; i++)
      if (!strcmp(k, k_query_params[i])) known = 1;
    if (!known) {
      mg_http_resp_error(resp, 400, "invalid_parameter", "unknown query parameter '%.64s'", k);
      return -1;
    }
  }
#define GETP(name) mg_json_string_value(mg_json_object_get(p->raw, name))
  mg_store_query *q = &p->q;
  const char *s;
  mg_timestamp ts;
  if ((s = GETP("agent"))) {
    char msg[256];
    mg_xapi_error err;
    mg_json *agent = mg_xapi_parse_json(p->pool, s, strlen(s), msg, sizeof msg);
    mg_buf key;
    mg_buf_init(&key, sizeof p->agent_key - 1);
    int bad = !agent || mg_xapi_validate_agent_param(agent, v, &err) != MG_OK ||
              mg_xapi_agent_key(agent, &key) != MG_OK;
    if (!bad) snprintf(p->agent_key, sizeof p->agent_key, "%s", key.data);
    mg_buf_free(&key);
    if (bad) {
      mg_http_resp_error(resp, 400, "invalid_parameter",
                         "agent must be the JSON of an Agent or identified Group with one "
                         "identifier");
      return -1;
    }
    q->agent_key = p->agent_key;
  }
  if ((s = GETP("verb"))) {
    if (!mg_xapi_valid_iri(s)) {
      mg_http_resp_error(resp, 400, "invalid_parameter", "verb must be an IRI");
      return -1;
    }
    q->verb_id = s;
  }
  if ((s = GETP("activity"))) {
    if (!mg_xapi_valid_iri(s)) {
      mg_http_resp_error(resp, 400, "invalid_parameter", "activity must be an IRI");
      return -1;
    }
    q->activity_id = s;
  }
  if ((s = GETP("registration"))) {
    if (mg_uuid_parse(s, q->registration) != MG_OK) {
      mg_http_resp_error(resp, 400, "invalid_parameter", "registration must be a UUID");
      return -1;
    }
    q->has_registration = 1;
  }
  struct {
    const char *name;
    int *has;
    int64_t *us;
  } times[] = {{"since", &q->has_since, &q->since_us},
               {"until", &q->has_until, &q->until_us},
               {"timestamp_since", &q->has_ts_since, &q->ts_since_us},
               {"timestamp_until", &q->has_ts_until, &q->ts_until_us}};
  for (size_t i = 0; i < sizeof times / sizeof times[0]; i++) {
    if (!(s = GETP(times[i].name))) continue;
    if (mg_time_parse_iso(s, 1, &ts) != MG_OK) {
      mg_http_resp_error(resp, 400, "invalid_parameter", "%s must be an ISO 8601 timestamp",
                         times[i].name);
      return -1;
    }
    *times[i].has = 1;
    *times[i].us = ts.us;
  }
  struct {
    const char *name;
    int *out;
  } bools[] = {{"related_activities", &q->related_activities},
               {"related_agents", &q->related_agents},
               {"ascending", &q->ascending},
               {"attachments", &p->attachments}};
  for (size_t i = 0; i < sizeof bools / sizeof bools[0]; i++) {
    if ((s = GETP(bools[i].name)) && parse_bool(s, bools[i].out) != MG_OK) {
      mg_http_resp_error(resp, 400, "invalid_parameter", "%s must be true or false", bools[i].name);
      return -1;
    }
  }
  q->limit = (size_t)lrs->query_limit;
  if ((s = GETP("limit"))) {
    char *end;
    errno = 0;
    long long n = strtoll(s, &end, 10);
    if (errno || end == s || *end || n < 0) {
      mg_http_resp_error(resp, 400, "invalid_parameter", "limit must be a non-negative integer");
      return -1;
    }
    if (n > 0 && n < lrs->query_limit) q->limit = (size_t)n;
  }
  if ((s = GETP("format")) && mg_xapi_format_parse(s, &p->format) != MG_OK) {
    mg_http_resp_error(resp, 400, "invalid_parameter", "format must be exact, ids or canonical");
    return -1;
  }
  p->statement_id = GETP("statementId");
  p->voided_id = GETP("voidedStatementId");
  if (p->statement_id || p->voided_id) {
    mg_json_object_foreach(p->raw, k, val) {
      if (strcmp(k, "statementId") && strcmp(k, "voidedStatementId") && strcmp(k, "format") &&
          strcmp(k, "attachments")) {
        mg_http_resp_error(resp, 400, "invalid_parameter",
                           "statementId/voidedStatementId cannot be combined with '%.64s'", k);
        return -1;
      }
    }
    if (p->statement_id && p->voided_id) {
      mg_http_resp_error(resp, 400, "invalid_parameter",
                         "give statementId or voidedStatementId, not both");
      return -1;
    }
  }
#undef GETP
  q->after_seq = p->after_seq;
  q->max_seq = p->max_seq;
  return 0;
}

/* Appends a statement's JSON in the requested format. */
static int append_formatted(mg_arena *a, mg_buf *out, const char *json, size_t len,
                            mg_xapi_format f, const char *accept_language) {
  if (f == MG_XAPI_FORMAT_EXACT) return mg_buf_add(out, json, len);
  mg_json *s = mg_json_parse(a, json, len, 0, NULL);
  if (!s) return MG_ECORRUPT;
  mg_json *r = mg_xapi_render(a, s, f, accept_language);
  if (!r) return MG_ENOMEM;
  return mg_json_dump(r, out);
}

/* Collects the sha2 of every attachment of a statement, once each. */
/* Collects the sha2 of every attachment of a statement into the object `hashes` (a set). */
static int collect_attachment_hashes(mg_arena *a, const char *json, size_t len, mg_json *hashes) {
  mg_json *s = mg_json_parse(a, json, len, 0, NULL);
  if (!s) return MG_ECORRUPT;
  size_t i;
  mg_json *att;
  mg_json_array_foreach(mg_json_object_get(s, "attachments"), i, att) {
    const char *h = mg_json_string_value(mg_json_object_get(att, "sha2"));
    if (h && mg_json_object_set(a, hashes, h, mg_json_true())) return MG_ENOMEM;
  }
  return MG_OK;
}

typedef struct query_out {
  mg_buf *body;
  size_t count;
  mg_xapi_format format;
  const char *accept_language;
  mg_json *hashes; /* when attachments are wanted */
  mg_arena *a;
} query_out;

static int query_row(void *ud, int64_t seq, const char *json, size_t len) {
  (void)seq;
  query_out *o = ud;
  int rc = MG_OK;
  if (o->count++) rc = mg_buf_addc(o->body, ',');
  if (!rc) rc = append_formatted(o->a, o->body, json, len, o->format, o->accept_language);
  if (!rc && o->hashes) rc = collect_attachment_hashes(o->a, json, len, o->hashes);
  return rc;
}

/* Answers with body as JSON, or as multipart/mixed with the attachments when asked. */
static void send_statements(mg_lrs *lrs, mg_http_resp *resp, mg_buf *json, mg_json *hashes) {
  resp->status = 200;
  if (!hashes) {
    mg_buf_free(&resp->body);
    resp->body = *json;
    mg_buf_init(json, 0);
    snprintf(resp->content_type, sizeof resp->content_type, "application/json");
    return;
  }
  mg_xapi_mpw w;
  int rc = mg_xapi_mpw_begin(&w, &resp->body);
  if (!rc) rc = mg_xapi_mpw_add_json(&w, json->data, json->len);
  const char *sha2;
  mg_json *v;
  mg_json_object_foreach(hashes, sha2, v) {
    void *data = NULL;
    size_t len = 0;
    char ctype[256];
    if (rc) break;
    if (mg_store_attachment_get(lrs->store, sha2, &data, &len, ctype, sizeof ctype) != MG_OK)
      continue; /* fileUrl attachments have no stored content */
    rc = mg_xapi_mpw_add(&w, ctype[0] ? ctype : "application/octet-stream", sha2, data, len);
    free(data);
  }
  if (!rc) rc = mg_xapi_mpw_end(&w);
  if (rc) {
    mg_http_resp_error(resp, 500, "internal_error", "could not build the multipart answer");
    return;
  }
  snprintf(resp->content_type, sizeof resp->content_type, "%s", w.content_type);
}

static void get_single(mg_lrs *lrs, mg_http_req *req, mg_http_resp *resp, get_params *p) {
  const char *idtxt = p->statement_id ? p->statement_id : p->voided_id;
  uint8_t id[16];
  mg_store_stmt_info info;
  char *json = NULL;
  size_t len = 0;
  mg_json *hashes = NULL;
  mg_buf out;
  mg_buf_init(&out, (size_t)1 << 30);
  if (mg_uuid_parse(idtxt, id) != MG_OK) {
    mg_http_resp_error(resp, 400, "invalid_parameter", "%s must be a UUID",
                       p->statement_id ? "statementId" : "voidedStatementId");
    goto out;
  }
  int rc = mg_store_stmt_get(lrs->store, id, &info, &json, &len);
  if (rc == MG_ENOTFOUND || (rc == MG_OK && (p->statement_id ? info.voided : !info.voided))) {
    mg_http_resp_error(resp, 404, "not_found", "no %sstatement with id %s",
                       p->statement_id ? "" : "voided ", idtxt);
    goto out;
  }
  if (rc) {
    mg_http_resp_error(resp, 500, "store_error", "%s", mg_strerror(rc));
    goto out;
  }
  if (p->attachments && !(hashes = mg_json_object(p->pool))) goto nomem;
  if (append_formatted(p->pool, &out, json, len, p->format,
                       mg_http_header_get(req, "Accept-Language")) ||
      (hashes && collect_attachment_hashes(p->pool, json, len, hashes)))
    goto nomem;
  send_statements(lrs, resp, &out, hashes);
  char lm[40];
  mg_time_format_http(info.stored_us, lm);
  mg_http_resp_header(resp, "Last-Modified", lm);
  goto out;
nomem:
  mg_http_resp_error(resp, 500, "out_of_memory", "out of memory");
out:
  mg_buf_free(&out);
  free(json);
}

/* The `more` token carries the original parameters and the cursor, base64url-encoded. */
static int encode_more(mg_arena *a, mg_json *raw, int64_t after, int64_t max, char **out) {
  mg_json *t = mg_json_object(a), *av = mg_json_integer(a, after), *mv = mg_json_integer(a, max);
  if (!t || !av || !mv || mg_json_object_set(a, t, "p", raw) || mg_json_object_set(a, t, "a", av) ||
      mg_json_object_set(a, t, "m", mv))
    return MG_ENOMEM;
  size_t n = 0;
  char *txt = mg_json_dumps(a, t, &n);
  if (!txt) return MG_ENOMEM;
  size_t cap = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  char *b = malloc(cap);
  if (b) sodium_bin2base64(b, cap, (const unsigned char *)txt, n,
                           sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  *out = b;
  return b ? MG_OK : MG_ENOMEM;
}

static mg_json *decode_more(mg_arena *pool, const char *token, int64_t *after, int64_t *max) {
  size_t n = strlen(token), len = 0;
  unsigned char *bin = malloc(n + 1);
  mg_json *raw = NULL;
  if (!bin) return NULL;
  if (sodium_base642bin(bin, n, token, n, NULL, &len, NULL,
                        sodium_base64_VARIANT_URLSAFE_NO_PADDING) == 0) {
    mg_json *t = mg_json_parse(pool, (const char *)bin, len, 0, NULL);
    mg_json *p = mg_json_object_get(t, "p");
    mg_json *a = mg_json_object_get(t, "a"), *m = mg_json_object_get(t, "m");
    if (mg_json_is_object(p) && mg_json_is_integer(a) && mg_json_is_integer(m)) {
      raw = p;
      *after = mg_json_integer_value(a);
      *max = mg_json_integer_value(m);
    }
  }
  free(bin);
  return raw;
}

static void handle_get(mg_lrs *lrs, mg_http_req *req, mg_http_resp *resp) {
  mg_xapi_version v;
  mg_store_credential cred;
  get_params p;
  mg_buf out;
  char *more = NULL;
  mg_json *hashes = NULL;
  memset(&p, 0, sizeof p);
  p.pool = &req->pool;
  mg_buf_init(&out, (size_t)1 << 30);
  if (require_version(lrs, req, resp, &v) || require_platform(lrs, req, resp, &cred)) goto out;
  const char *token = mg_http_query_get(req, "more");
  if (token) {
    p.raw = decode_more(&req->pool, token, &p.after_seq, &p.max_seq);
    if (!p.raw) {
      mg_http_resp_error(resp, 400, "invalid_parameter", "the `more` token is not valid");
      goto out;
    }
  } else {
    p.raw = mg_json_object(&req->pool);
    param_sink sink = {&req->pool, p.raw};
    if (!p.raw || mg_http_query_each(req, collect_param, &sink) != MG_OK) goto nomem;
  }
  if (parse_get_params(lrs, &p, v, resp)) goto out;
  if (p.statement_id || p.voided_id) {
    get_single(lrs, req, resp, &p);
    goto out;
  }
  if (p.attachments && !(hashes = mg_json_object(&req->pool))) goto nomem;
  query_out qo = {&out, 0, p.format, mg_http_header_get(req, "Accept-Language"), hashes,
                  &req->pool};
  int more_rows = 0;
  int64_t last_seq = 0, snapshot = 0;
  if (mg_buf_adds(&out, "{\"statements\":[")) goto nomem;
  int rc = mg_store_stmt_query(lrs->store, &p.q, query_row, &qo, &more_rows, &last_seq, &snapshot);
  if (rc) {
    mg_http_resp_error(resp, 500, "store_error", "query failed: %s", mg_strerror(rc));
    goto out;
  }
  if (mg_buf_adds(&out, "],\"more\":\"")) goto nomem;
  if (more_rows) {
    if (encode_more(&req->pool, p.raw, last_seq, snapshot, &more)) goto nomem;
    if (mg_buf_addf(&out, "/xapi/statements?more=%s", more)) goto nomem;
  }
  if (mg_buf_adds(&out, "\"}")) goto nomem;
  send_statements(lrs, resp, &out, hashes);
  char lm[40];
  mg_time_format_http(mg_time_now_us(), lm);
  mg_http_resp_header(resp, "Last-Modified", lm);
  goto out;
nomem:
  mg_http_resp_error(resp, 500, "out_of_memory", "out of memory");
out:
  free(more);
  mg_buf_free(&out);
}

/* ---- alternate request syntax (xAPI 1.0.3 §1.3) ---------------------------------------------- */

static int hexv(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Decodes application/x-www-form-urlencoded text in place; returns its new length or -1. */
static long form_decode(char *s, size_t n) {
  size_t j = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '+') {
      s[j++] = ' ';
    } else if (s[i] == '%') {
      int hi = i + 1 < n ? hexv(s[i + 1]) : -1, lo = i + 2 < n ? hexv(s[i + 2]) : -1;
      if (hi < 0 || lo < 0) return -1;
      s[j++] = (char)(hi << 4 | lo);
      i += 2;
    } else {
      s[j++] = s[i];
    }
  }
  return (long)j;
}

static const char *const k_form_headers[] = {"Authorization", "X-Experience-API-Version",
                                             "Content-Type", "Content-Length", "If-Match",
                                             "If-None-Match", NULL};

/* Rewrites a POST ?method=X request into X with headers and parameters from the form body.
 * Returns the effective method, or NULL after answering 400. */
static const char *apply_alternate_syntax(mg_http_req *req, mg_http_resp *resp) {
  const char *method = mg_http_query_get(req, "method");
  int others;
  if (strcmp(req->method, "POST") != 0) {
    mg_http_resp_error(resp, 400, "invalid_request", "the method parameter is only allowed on POST");
    return NULL;
  }
  mg_json *q = mg_json_object(&req->pool);
  param_sink qs = {&req->pool, q};
  if (!q || mg_http_query_each(req, collect_param, &qs) != MG_OK) {
    mg_http_resp_error(resp, 500, "out_of_memory", "out of memory");
    return NULL;
  }
  others = (int)mg_json_object_size(q) - 1;
  if (others > 0) {
    mg_http_resp_error(resp, 400, "invalid_request",
                       "with the alternate request syntax every parameter goes in the form body");
    return NULL;
  }
  if (!media_type_is(mg_http_header_get(req, "Content-Type"), "application/x-www-form-urlencoded")) {
    mg_http_resp_error(resp, 400, "unsupported_content_type",
                       "the alternate request syntax needs application/x-www-form-urlencoded");
    return NULL;
  }
  if (strcmp(method, "GET") && strcmp(method, "PUT") && strcmp(method, "POST") &&
      strcmp(method, "HEAD") && strcmp(method, "DELETE")) {
    mg_http_resp_error(resp, 400, "invalid_request", "method '%.16s' is not allowed", method);
    return NULL;
  }
  mg_json *params = mg_json_object(&req->pool), *headers = mg_json_object(&req->pool);
  mg_buf content;
  mg_buf_init(&content, req->body.max);
  if (!params || !headers) goto fail;
  char *body = req->body.data;
  size_t len = req->body.len;
  size_t i = 0;
  while (i < len) {
    size_t end = i;
    while (end < len && body[end] != '&') end++;
    char *kv = body + i;
    size_t kvlen = end - i;
    char *eq = memchr(kv, '=', kvlen);
    size_t klen = eq ? (size_t)(eq - kv) : kvlen;
    char *val = eq ? eq + 1 : kv + kvlen;
    size_t vlen = eq ? kvlen - klen - 1 : 0;
    long kd = form_decode(kv, klen), vd = form_decode(val, vlen);
    if (kd < 0 || vd < 0) {
      mg_http_resp_error(resp, 400, "invalid_request", "the form body is not valid urlencoded text");
      goto fail_answered;
    }
    char *k = strndup(kv, (size_t)kd);
    char *v = strndup(val, (size_t)vd);
    if (!k || !v) {
      free(k);
      free(v);
      goto fail;
    }
    int is_header = 0;
    for (int h = 0; k_form_headers[h]; h++)
      if (!strcasecmp(k, k_form_headers[h])) is_header = 1;
    int rc = 0;
    if (!strcmp(k, "content"))
      rc = mg_buf_add(&content, v, strlen(v));
    else
    {
      mg_json *sv = mg_json_string(&req->pool, v);
      rc = !sv || mg_json_object_set(&req->pool, is_header ? headers : params, k, sv);
    }
    free(k);
    free(v);
    if (rc) goto fail;
    i = end + 1;
  }
  /* the content travels as JSON unless the form names another type */
  int has_ct = 0;
  const char *hk;
  mg_json *hv;
  mg_json_object_foreach(headers, hk, hv) if (!strcasecmp(hk, "Content-Type")) has_ct = 1;
  mg_json *ctv = has_ct ? NULL : mg_json_string(&req->pool, "application/json");
  if (!has_ct && (!ctv || mg_json_object_set(&req->pool, headers, "Content-Type", ctv))) goto fail;
  req->override_params = params;
  req->override_headers = headers;
  mg_buf_free(&req->body);
  req->body = content;
  if (!req->body.data && mg_buf_add(&req->body, "", 0)) return NULL;
  return method;
fail:
  mg_http_resp_error(resp, 500, "out_of_memory", "out of memory");
fail_answered:
  mg_buf_free(&content);
  return NULL;
}

static void dispatch_statements(mg_lrs *lrs, mg_http_req *req, mg_http_resp *resp) {
  const char *method = req->method;
  if (mg_http_query_get(req, "method")) {
    mg_xapi_version v;
    const char *h = mg_http_header_get(req, "X-Experience-API-Version");
    if (h && mg_xapi_version_parse(h, &v) == MG_OK && v == MG_XAPI_V200) {
      set_version_header(resp, v);
      mg_http_resp_error(resp, 400, "invalid_request",
                         "xAPI 2.0 has no alternate request syntax (method parameter)");
      return;
    }
    method = apply_alternate_syntax(req, resp);
    if (!method) return;
  }
  if (!strcmp(method, "PUT"))
    handle_write(lrs, req, resp, 1);
  else if (!strcmp(method, "POST"))
    handle_write(lrs, req, resp, 0);
  else if (!strcmp(method, "GET") || !strcmp(method, "HEAD"))
    handle_get(lrs, req, resp);
  else
    mg_http_resp_error(resp, 405, "method_not_allowed", "%s is not allowed on /xapi/statements",
                       method);
}

static void handle_statements(mg_http_req *req, mg_http_resp *resp, void *ud) {
  mg_lrs *lrs = ud;
  dispatch_statements(lrs, req, resp);
  /* Every Statements answer, errors included, says how far the store is consistent. Taken
   * once, after the handler, so it also covers what this request just wrote. */
  set_consistent_through(lrs, resp);
}

int mg_lrs_register(mg_http_server *srv, mg_lrs *lrs) {
  int rc = mg_http_route(srv, "GET", "/xapi/about", handle_about, lrs);
  if (!rc) rc = mg_http_route(srv, "*", "/xapi/statements", handle_statements, lrs);
  return rc;
}
