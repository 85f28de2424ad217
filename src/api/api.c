/* The /api/v1 layer: routing with :params, authentication, the capability check (the only one),
 * JSON bodies, standard errors, security headers and the audit hook. See api.h. */
#include "api/api.h"
#include "api/api_int.h"

#include <errno.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "audit/audit.h"
#include "auth/session.h"
#include "core/err.h"
#include "core/log.h"
#include "core/time.h"

#define API_PREFIX "/api/v1"
#define MAX_ROUTES 256
#define MAX_SEGS 12
#define MAX_BODY (1u << 20) /* API bodies are small; statements go to /xapi */
/* A roster is the university's whole enrolment list (100,000 rows is about 2.6 MB of CSV, more
 * with optional columns); it is the one API body allowed to be large. */
#define MAX_BODY_ROSTER (32u << 20)
#define MAX_DEPTH 32

typedef struct api_route {
  char method[8];
  char *pattern;
  char *capability; /* NULL = public */
  mg_api_handler h;
  void *ud;
  int nseg;
  char *segs[MAX_SEGS]; /* into seg_mem; ":name" segments capture */
  char *seg_mem;
} api_route;

struct mg_api {
  mg_store *store;
  const mg_config *cfg;
  mg_auth_policy policy;
  int secure_cookie;
  mg_http_server *srv;
  api_route routes[MAX_ROUTES];
  int n;
};

/* What the layer keeps per call; mg_api_call comes first so handlers' pointers convert back. */
typedef struct call_ctx {
  mg_api_call c;
  const api_route *r;
  const char *vals[MAX_SEGS];
  mg_principal who;
  mg_store_session sess;
} call_ctx;

/* Capabilities a signed-in person may use before passing the second factor or replacing a
 * password that must be changed: enough to do exactly that, see who they are, and leave. */
static int bootstrap_cap(const char *cap) {
  return !strcmp(cap, "auth.session") || !strcmp(cap, "auth.password.change") ||
         !strcmp(cap, "auth.totp.enrol");
}

/* ---- routes --------------------------------------------------------------------------------- */

static int split(char *p, char **segs, int max) {
  int n = 0;
  while (*p == '/') p++;
  while (*p) {
    if (n == max) return -1;
    segs[n++] = p;
    char *slash = strchr(p, '/');
    if (!slash) break;
    *slash = '\0';
    p = slash + 1;
    if (!*p) return -1; /* trailing slash: not a path of ours */
  }
  return n;
}

static void route_free(api_route *r) {
  free(r->pattern);
  free(r->capability);
  free(r->seg_mem);
}

static int known_capability(const char *cap) {
  size_t n;
  const char *const *names = mg_auth_cap_names(&n);
  for (size_t i = 0; i < n; i++)
    if (strcmp(names[i], cap) == 0) return 1;
  return 0;
}

int mg_api_route(mg_api *api, const char *method, const char *pattern, const char *capability,
                 mg_api_handler h, void *ud) {
  if (!api || !method || !pattern || pattern[0] != '/' || !h) return MG_EINVAL;
  if (api->n >= MAX_ROUTES) return MG_ETOOBIG;
  if (capability && !known_capability(capability)) {
    mg_log(MG_LOG_ERROR, "api.route", "msg", "capability not in the table", "capability",
           capability, "pattern", pattern, NULL);
    return MG_EINVAL;
  }
  api_route *r = &api->routes[api->n];
  memset(r, 0, sizeof *r);
  if (strlen(method) >= sizeof r->method) return MG_EINVAL;
  snprintf(r->method, sizeof r->method, "%s", method);
  r->pattern = strdup(pattern);
  r->capability = capability ? strdup(capability) : NULL;
  r->seg_mem = strdup(pattern);
  if (!r->pattern || !r->seg_mem || (capability && !r->capability)) {
    route_free(r);
    return MG_ENOMEM;
  }
  r->nseg = split(r->seg_mem, r->segs, MAX_SEGS);
  if (r->nseg < 0) {
    route_free(r);
    return MG_EINVAL;
  }
  r->h = h;
  r->ud = ud;
  api->n++;
  return MG_OK;
}

size_t mg_api_route_count(const mg_api *api) { return (size_t)api->n; }

mg_api_route_info mg_api_route_at(const mg_api *api, size_t i) {
  mg_api_route_info info = {NULL, NULL, NULL};
  if (i < (size_t)api->n)
    info = (mg_api_route_info){api->routes[i].method, api->routes[i].pattern,
                               api->routes[i].capability};
  return info;
}

static int seg_match(const api_route *r, char **segs, int n, const char **vals) {
  if (r->nseg != n) return 0;
  for (int i = 0; i < n; i++) {
    if (r->segs[i][0] == ':')
      vals[i] = segs[i];
    else if (strcmp(r->segs[i], segs[i]) != 0)
      return 0;
  }
  return 1;
}

/* ---- call helpers -------------------------------------------------------------------------- */

const char *mg_api_param(const mg_api_call *c, const char *name) {
  const call_ctx *x = (const call_ctx *)c;
  for (int i = 0; x->r && i < x->r->nseg; i++)
    if (x->r->segs[i][0] == ':' && strcmp(x->r->segs[i] + 1, name) == 0) return x->vals[i];
  return NULL;
}

static int parse_i64(const char *s, int64_t lo, int64_t hi, int64_t *out) {
  if (!s || !*s || *s == '+' || *s == '-' || *s == ' ') return MG_EINVAL;
  char *end;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (errno || *end || v < lo || v > hi) return MG_EINVAL;
  *out = v;
  return MG_OK;
}

int mg_api_param_id(mg_api_call *c, const char *name, int64_t *out) {
  const char *v = mg_api_param(c, name);
  if (parse_i64(v, 1, INT64_MAX, out)) {
    mg_api_fail(c, 400, "invalid_parameter", "路径参数 %s 须为正整数 / path parameter %s must be a "
                "positive integer, got '%.*s'", name, name, mg_utf8_prefix(v ? v : "", 40),
                v ? v : "");
    return MG_EINVAL;
  }
  return MG_OK;
}

const char *mg_api_query(const mg_api_call *c, const char *name) {
  return mg_http_query_get(c->req, name);
}

int mg_api_page(mg_api_call *c, int64_t *limit, int64_t *offset) {
  const char *l = mg_api_query(c, "limit"), *o = mg_api_query(c, "offset");
  *limit = 50;
  *offset = 0;
  if (l && parse_i64(l, 1, MG_API_PAGE_MAX, limit)) {
    mg_api_fail(c, 400, "invalid_parameter", "limit 须为 1–%d 的整数 / limit must be an integer "
                "from 1 to %d", MG_API_PAGE_MAX, MG_API_PAGE_MAX);
    return MG_EINVAL;
  }
  if (o && parse_i64(o, 0, INT64_MAX, offset)) {
    mg_api_fail(c, 400, "invalid_parameter", "offset 须为非负整数 / offset must be a non-negative "
                "integer");
    return MG_EINVAL;
  }
  return MG_OK;
}

int mg_api_may_org(const mg_api_call *c, int64_t org_id, const char *province) {
  switch (c->scope) {
  case MG_SCOPE_ALL:
    return 1;
  case MG_SCOPE_PROVINCE:
    return province && c->who->province[0] && strcmp(province, c->who->province) == 0;
  case MG_SCOPE_ORG:
    return c->who->org_id != 0 && org_id == c->who->org_id;
  default:
    return 0;
  }
}

int mg_api_may_self(const mg_api_call *c, int64_t user_id, int64_t org_id, const char *province) {
  if (c->scope == MG_SCOPE_NONE) return 0;
  if (user_id != 0 && user_id == c->who->user_id) return 1;
  return mg_api_may_org(c, org_id, province);
}

void mg_api_reply(mg_api_call *c, int status, const mg_json *body) {
  if (mg_http_resp_json(c->resp, status, body) != MG_OK)
    mg_http_resp_error(c->resp, 500, "internal_error", "response could not be built");
}

void mg_api_fail(mg_api_call *c, int status, const char *code, const char *fmt, ...) {
  char msg[900];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  mg_utf8_trim_tail(msg);
  mg_http_resp_error(c->resp, status, code, "%s", msg);
}

void mg_api_fail_err(mg_api_call *c, int err, const char *what) {
  switch (err) {
  case MG_ENOTFOUND:
    mg_api_fail(c, 404, "not_found", "%s 不存在 / %s not found", what, what);
    break;
  case MG_EEXISTS:
  case MG_ECONFLICT:
    mg_api_fail(c, 409, "conflict", "%s 与现有数据冲突 / %s conflicts with existing data (%s)",
                what, what, mg_strerror(err));
    break;
  case MG_EINVAL:
    mg_api_fail(c, 400, "bad_request", "%s 无效 / %s is invalid", what, what);
    break;
  case MG_EBUSY:
    mg_http_resp_header(c->resp, "Retry-After", "1");
    mg_api_fail(c, 503, "busy", "存储繁忙，请重试 / the store is busy, try again (%s)", what);
    break;
  default:
    mg_api_fail(c, 500, "internal_error", "%s: %s", what, mg_strerror(err));
  }
}

int mg_api_audit(mg_api_call *c, const char *action, const char *object_type,
                 const char *object_id, const mg_json *before, const mg_json *after) {
  call_ctx *x = (call_ctx *)c;
  size_t blen = 0, alen = 0;
  char *b = before ? mg_json_dumps(&c->req->pool, before, &blen) : NULL;
  char *a = after ? mg_json_dumps(&c->req->pool, after, &alen) : NULL;
  if ((before && !b) || (after && !a)) return MG_ENOMEM;
  mg_audit_event ev = {
      .actor = c->who ? c->who->username : "anonymous",
      .role = c->who ? mg_auth_role_name(c->who->role) : "none",
      .action = action ? action : (x->r && x->r->capability ? x->r->capability : "?"),
      .object_type = object_type,
      .object_id = object_id,
      .before = b,
      .before_len = blen,
      .after = a,
      .after_len = alen,
      .source_ip = c->req->client_ip,
      .at_us = 0,
  };
  int rc = mg_audit_append(c->store, &ev, NULL);
  if (rc)
    mg_log(MG_LOG_ERROR, "api.audit_failed", "action", ev.action, "actor", ev.actor, "error",
           mg_strerror(rc), NULL);
  return rc;
}

/* ---- authentication ------------------------------------------------------------------------ */

/* The value of cookie name in a Cookie header, copied into out; 1 if found. */
static int cookie_get(const char *hdr, const char *name, char *out, size_t size) {
  size_t nl = strlen(name);
  const char *p = hdr;
  while (p && *p) {
    while (*p == ' ' || *p == ';') p++;
    const char *end = strchr(p, ';');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    if (len > nl && strncmp(p, name, nl) == 0 && p[nl] == '=') {
      size_t vl = len - nl - 1;
      while (vl && p[nl + 1 + vl - 1] == ' ') vl--;
      if (vl >= size) return 0;
      memcpy(out, p + nl + 1, vl);
      out[vl] = '\0';
      return 1;
    }
    p = end;
  }
  return 0;
}

static int unsafe_method(const char *m) {
  return strcmp(m, "GET") != 0 && strcmp(m, "HEAD") != 0 && strcmp(m, "OPTIONS") != 0;
}

/* Authenticates the caller and fills x->who / x->sess. Answers 401/403 itself on failure. */
static int authenticate(mg_api *api, call_ctx *x) {
  mg_api_call *c = &x->c;
  char token[MG_AUTH_TOKEN_LEN];
  int bearer = 0;
  const char *authz = mg_http_header_get(c->req, "Authorization");
  const char *cookie = mg_http_header_get(c->req, "Cookie");
  if (authz && strncasecmp(authz, "Bearer ", 7) == 0) {
    const char *t = authz + 7;
    while (*t == ' ') t++;
    if (strlen(t) >= sizeof token) {
      mg_api_fail(c, 401, "unauthenticated", "无效的令牌 / the bearer token is invalid");
      return MG_EAUTH;
    }
    snprintf(token, sizeof token, "%s", t);
    bearer = 1;
  } else if (!(cookie && cookie_get(cookie, "mg_session", token, sizeof token))) {
    mg_http_resp_header(c->resp, "WWW-Authenticate", "Bearer realm=\"moocguard\"");
    mg_api_fail(c, 401, "unauthenticated",
                "需要登录 / sign in first: POST /api/v1/auth/login, then send the mg_session "
                "cookie or an Authorization: Bearer token");
    return MG_EAUTH;
  }
  mg_store_user u;
  int expired = 0;
  int rc = mg_auth_session_check(c->store, &api->policy, token, mg_time_now_us(), &x->sess, &u,
                                 &expired);
  sodium_memzero(token, sizeof token);
  if (rc == MG_OK && x->sess.bearer != bearer) rc = MG_EAUTH; /* a cookie is not a bearer token */
  if (rc == MG_EAUTH) {
    if (expired)
      mg_api_fail(c, 401, "session_expired", "会话已超时，请重新登录 / the session timed out; sign in again");
    else
      mg_api_fail(c, 401, "unauthenticated", "会话无效或已结束 / the session is unknown or has ended");
    return rc;
  }
  if (rc) {
    mg_api_fail_err(c, rc, "session");
    return rc;
  }
  if (!bearer && unsafe_method(c->req->method)) {
    /* cookies ride along on cross-site requests; the CSRF token does not */
    const char *h = mg_http_header_get(c->req, "X-CSRF-Token");
    size_t n = strlen(x->sess.csrf);
    if (!h || strlen(h) != n || sodium_memcmp(h, x->sess.csrf, n) != 0) {
      mg_api_fail(c, 403, "csrf_failed",
                  "缺少或错误的 X-CSRF-Token 请求头 / the X-CSRF-Token header is missing or does "
                  "not match this session");
      return MG_EFORBIDDEN;
    }
  }
  mg_principal *w = &x->who;
  memset(w, 0, sizeof *w);
  w->user_id = u.id;
  snprintf(w->username, sizeof w->username, "%s", u.username);
  w->role = mg_auth_role_parse(u.role);
  w->org_id = u.org_id;
  snprintf(w->province, sizeof w->province, "%s", u.province);
  w->student_id = u.student_id;
  w->mfa = x->sess.mfa;
  c->who = w;
  char principal[sizeof c->req->principal];
  snprintf(principal, sizeof principal, "user:%s", u.username);
  if (mg_http_limit_principal(c->req, c->resp, principal) != MG_OK) return MG_EBUSY; /* 429 set */
  if (u.must_change && !bootstrap_cap(x->r->capability)) {
    mg_api_fail(c, 403, "password_change_required",
                "须先修改密码 / change your password first: POST /api/v1/auth/password");
    return MG_EFORBIDDEN;
  }
  return MG_OK;
}

/* ---- JSON bodies ----------------------------------------------------------------------------- */

static int depth_ok(const mg_json *v, int depth) {
  if (depth > MAX_DEPTH) return 0;
  size_t i;
  mg_json *it;
  const char *k;
  if (mg_json_is_array(v)) {
    mg_json_array_foreach(v, i, it) if (!depth_ok(it, depth + 1)) return 0;
  } else if (mg_json_is_object(v)) {
    mg_json_object_foreach(v, k, it) {
      (void)k;
      if (!depth_ok(it, depth + 1)) return 0;
    }
  }
  return 1;
}

static int parse_body(call_ctx *x) {
  mg_api_call *c = &x->c;
  mg_http_req *req = c->req;
  if (req->body.len == 0) return MG_OK;
  unsigned max = x->r && x->r->capability && !strcmp(x->r->capability, "roster.import")
                     ? MAX_BODY_ROSTER
                     : MAX_BODY;
  if (req->body.len > max) {
    mg_api_fail(c, 413, "payload_too_large", "请求体超过 %u 字节 / the body exceeds %u bytes",
                max, max);
    return MG_ETOOBIG;
  }
  const char *ct = mg_http_header_get(req, "Content-Type");
  size_t ctl = strlen("application/json");
  if (!ct || strncasecmp(ct, "application/json", ctl) != 0 || (ct[ctl] && ct[ctl] != ';')) {
    mg_api_fail(c, 415, "unsupported_media_type",
                "请求体须为 application/json / the body must be application/json");
    return MG_EINVAL;
  }
  mg_json_error e;
  c->body = mg_json_parse(&req->pool, req->body.data, req->body.len, 0, &e);
  if (!c->body) {
    mg_api_fail(c, 400, "invalid_json", "JSON 无效（第 %d 行第 %d 列）/ invalid JSON at line %d "
                "column %d: %s", e.line, e.column, e.line, e.column, e.text);
    return MG_EINVAL;
  }
  if (!mg_json_is_object(c->body)) {
    mg_api_fail(c, 400, "invalid_json", "请求体须为 JSON 对象 / the body must be a JSON object");
    return MG_EINVAL;
  }
  if (!depth_ok(c->body, 1)) {
    mg_api_fail(c, 400, "invalid_json", "JSON 嵌套超过 %d 层 / the JSON nests deeper than %d",
                MAX_DEPTH, MAX_DEPTH);
    return MG_EINVAL;
  }
  return MG_OK;
}

/* ---- dispatch -------------------------------------------------------------------------------- */

static void security_headers(mg_api *api, mg_http_resp *resp) {
  /* nosniff, no-store, X-Frame-Options, CSP and Referrer-Policy come from http/server on every
   * response (tests/e2e/test_api_auth.c checks them on API answers) */
  mg_http_resp_header(resp, "Pragma", "no-cache");
  if (api->secure_cookie) /* behind a TLS proxy; under our own TLS http/server adds it */
    mg_http_resp_header(resp, "Strict-Transport-Security", "max-age=31536000");
}

static void on_api(mg_http_req *req, mg_http_resp *resp, void *ud) {
  mg_api *api = ud;
  security_headers(api, resp);
  call_ctx *x = mg_arena_calloc(&req->pool, sizeof *x);
  char *path = x ? mg_arena_strndup(&req->pool, req->path + strlen(API_PREFIX),
                                    strlen(req->path) - strlen(API_PREFIX))
                 : NULL;
  if (!path) {
    mg_http_resp_error(resp, 500, "internal_error", "out of memory");
    return;
  }
  mg_api_call *c = &x->c;
  c->req = req;
  c->resp = resp;
  c->api = api;
  c->store = api->store;
  c->cfg = api->cfg;
  char *segs[MAX_SEGS];
  int n = path[0] == '/' ? split(path, segs, MAX_SEGS) : -1;
  const char *method = strcmp(req->method, "HEAD") == 0 ? "GET" : req->method;
  int known = 0;
  char allow[128] = "";
  for (int i = 0; n >= 0 && i < api->n && !x->r; i++) {
    const char *vals[MAX_SEGS] = {0};
    if (!seg_match(&api->routes[i], segs, n, vals)) continue;
    if (strcmp(api->routes[i].method, method) == 0) {
      x->r = &api->routes[i];
      memcpy(x->vals, vals, sizeof vals);
    } else {
      known = 1;
      size_t l = strlen(allow);
      snprintf(allow + l, sizeof allow - l, "%s%s", l ? ", " : "", api->routes[i].method);
    }
  }
  if (!x->r) {
    if (known) {
      mg_http_resp_header(resp, "Allow", allow);
      mg_api_fail(c, 405, "method_not_allowed", "%s 不支持 %s / %s is not allowed on %s (allowed: %s)",
                  req->path, req->method, req->method, req->path, allow);
    } else {
      mg_api_fail(c, 404, "not_found", "没有此接口 / no API endpoint at %s", req->path);
    }
    return;
  }
  const char *cap = x->r->capability;
  if (cap) {
    if (authenticate(api, x)) return;
    c->scope = mg_auth_cap_scope(x->who.role, cap);
    if (c->scope == MG_SCOPE_NONE) {
      mg_api_fail(c, 403, "forbidden", "角色 %s 无权执行 %s / role %s lacks the capability %s",
                  mg_auth_role_name(x->who.role), cap, mg_auth_role_name(x->who.role), cap);
      return;
    }
    if (mg_auth_role_needs_mfa(x->who.role) && !x->sess.mfa && !bootstrap_cap(cap)) {
      mg_api_fail(c, 403, "mfa_required",
                  "此角色须先通过动态口令验证 / this role must pass the second factor first: "
                  "POST /api/v1/auth/totp/verify (or /auth/totp/enrol if none is set up)");
      return;
    }
  }
  if (parse_body(x)) return;
  resp->status = 0;
  x->r->h(c, x->r->ud);
  if (resp->status == 0) mg_http_resp_error(resp, 500, "internal_error", "the handler gave no answer");
}

const mg_store_session *mg_api_session(const mg_api_call *c) {
  const call_ctx *x = (const call_ctx *)c;
  return c->who ? &x->sess : NULL;
}

const mg_auth_policy *mg_api_policy(const mg_api *api) { return &api->policy; }

int mg_api_secure_cookie(const mg_api *api) {
  return api->secure_cookie || (api->srv && mg_http_server_is_tls(api->srv));
}

int mg_api_create(mg_http_server *srv, mg_store *store, const mg_config *cfg, mg_api **out) {
  if (sodium_init() < 0) return MG_ECRYPTO;
  mg_api *api = calloc(1, sizeof *api);
  if (!api) return MG_ENOMEM;
  api->store = store;
  api->cfg = cfg;
  int rc = mg_auth_policy_from_config(cfg, &api->policy);
  if (rc) {
    free(api);
    return rc;
  }
  /* clients reach us over TLS through a proxy (https base-url) or our own (checked per call,
   * since TLS is loaded when the server starts) */
  api->secure_cookie = strncmp(cfg->base_url, "https://", 8) == 0;
  api->srv = srv;
  if (srv && (rc = mg_http_route(srv, "*", API_PREFIX "/*", on_api, api))) {
    free(api);
    return rc;
  }
  *out = api;
  return MG_OK;
}

void mg_api_free(mg_api *api) {
  if (!api) return;
  for (int i = 0; i < api->n; i++) route_free(&api->routes[i]);
  free(api);
}
