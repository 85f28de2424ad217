/* /api/v1 endpoints for signing in, one's own account, user administration (security
 * administrator) and system status (system administrator). Documented in docs/api.md. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "api/api_int.h"
#include "api/routes.h"
#include "audit/audit.h"
#include "auth/capability.h"
#include "auth/password.h"
#include "auth/session.h"
#include "auth/totp.h"
#include "auth/user.h"
#include "core/err.h"
#include "core/log.h"
#include "core/time.h"
#include "store/store_auth.h"

/* ---- request bodies -------------------------------------------------------------------------- */

/* Refuses members not in allowed (NULL-terminated) so a misspelt field is not silently ignored. */
static int only_fields(mg_api_call *c, const char *const *allowed) {
  const char *k;
  mg_json *v;
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

static int need_body(mg_api_call *c) {
  if (c->body) return MG_OK;
  mg_api_fail(c, 400, "missing_body", "缺少 JSON 请求体 / a JSON object body is required");
  return MG_EINVAL;
}

/* String member name: *out NULL when absent and optional. */
static int str_field(mg_api_call *c, const char *name, int required, const char **out) {
  mg_json *v = mg_json_object_get(c->body, name);
  *out = NULL;
  if (!v && !required) return MG_OK;
  if (!mg_json_is_string(v)) {
    mg_api_fail(c, 400, "invalid_field", "字段 %s %s / field '%s' %s", name,
                v ? "须为字符串" : "缺失", name, v ? "must be a string" : "is required");
    return MG_EINVAL;
  }
  *out = mg_json_string_value(v);
  return MG_OK;
}

static int int_field(mg_api_call *c, const char *name, int64_t *out) {
  mg_json *v = mg_json_object_get(c->body, name);
  if (!v) return MG_OK;
  if (!mg_json_is_integer(v) || mg_json_integer_value(v) < 0) {
    mg_api_fail(c, 400, "invalid_field", "字段 %s 须为非负整数 / field '%s' must be a non-negative "
                "integer", name, name);
    return MG_EINVAL;
  }
  *out = mg_json_integer_value(v);
  return MG_OK;
}

static mg_json *obj1(mg_arena *a, const char *k, mg_json *v) {
  mg_json *o = mg_json_object(a);
  if (!o || !v || mg_json_object_set(a, o, k, v)) return NULL;
  return o;
}

static int set_str(mg_arena *a, mg_json *o, const char *k, const char *v) {
  mg_json *s = mg_json_string(a, v);
  return s ? mg_json_object_set(a, o, k, s) : MG_ENOMEM;
}

static void reply_or_500(mg_api_call *c, int status, mg_json *body) {
  if (body)
    mg_api_reply(c, status, body);
  else
    mg_api_fail(c, 500, "internal_error", "out of memory");
}

/* Commits the open transaction after auditing; on any failure rolls back and answers. */
static int audit_commit(mg_api_call *c, const char *action, const char *type, const char *id,
                        const mg_json *before, const mg_json *after) {
  int rc = mg_api_audit(c, action, type, id, before, after);
  if (rc) {
    mg_store_tx_rollback(c->store);
    mg_api_fail(c, 503, "audit_unavailable",
                "审计日志无法写入，操作已拒绝 / the audit log cannot be written, so the change was "
                "refused");
    return rc;
  }
  if ((rc = mg_store_tx_commit(c->store))) mg_api_fail_err(c, rc, "commit");
  return rc;
}

static void audit_event(mg_api_call *c, const char *actor, const char *role, const char *action,
                        int64_t user_id) {
  char id[24];
  snprintf(id, sizeof id, "%lld", (long long)user_id);
  mg_audit_event ev = {.actor = actor, .role = role, .action = action, .object_type = "user",
                       .object_id = user_id ? id : NULL, .source_ip = c->req->client_ip};
  if (mg_audit_append(c->store, &ev, NULL))
    mg_log(MG_LOG_ERROR, "auth.audit_failed", "action", action, "actor", actor, NULL);
}

/* ---- sessions ------------------------------------------------------------------------------- */

static void set_cookie(mg_api_call *c, const char *token, int max_age) {
  char v[256];
  snprintf(v, sizeof v, "mg_session=%s; Path=/; Max-Age=%d; HttpOnly; SameSite=Strict%s", token,
           max_age, mg_api_secure_cookie(c->api) ? "; Secure" : "");
  mg_http_resp_header(c->resp, "Set-Cookie", v);
}

static mg_json *session_json(mg_api_call *c, const mg_store_user *u, const mg_store_session *s,
                             int64_t now_us) {
  mg_arena *a = &c->req->pool;
  const mg_auth_policy *p = mg_api_policy(c->api);
  mg_json *o = mg_json_object(a), *uj = mg_auth_user_json(a, u, now_us);
  mg_role role = mg_auth_role_parse(u->role);
  char idle[MG_TIME_ISO_LEN], abs_[MG_TIME_ISO_LEN];
  mg_time_format_iso(s->last_seen_us + (int64_t)p->idle_s * 1000000, 3, idle);
  mg_time_format_iso(s->created_us + (int64_t)p->absolute_s * 1000000, 3, abs_);
  if (!o || !uj || mg_json_object_set(a, o, "user", uj) ||
      mg_json_object_set(a, o, "mfa_passed", s->mfa ? mg_json_true() : mg_json_false()) ||
      mg_json_object_set(a, o, "mfa_required",
                         mg_auth_role_needs_mfa(role) && !s->mfa ? mg_json_true() : mg_json_false()) ||
      mg_json_object_set(a, o, "must_change_password",
                         u->must_change ? mg_json_true() : mg_json_false()) ||
      set_str(a, o, "idle_expires", idle) || set_str(a, o, "expires", abs_) ||
      (!s->bearer && set_str(a, o, "csrf_token", s->csrf)))
    return NULL;
  return o;
}

static void h_login(mg_api_call *c, void *ud) {
  (void)ud;
  static const char *const fields[] = {"username", "password", "totp", "token_type", NULL};
  const char *user, *pw, *totp, *type;
  if (need_body(c) || only_fields(c, fields) || str_field(c, "username", 1, &user) ||
      str_field(c, "password", 1, &pw) || str_field(c, "totp", 0, &totp) ||
      str_field(c, "token_type", 0, &type))
    return;
  int bearer = 0;
  if (type && !(bearer = strcmp(type, "bearer") == 0) && strcmp(type, "cookie") != 0) {
    mg_api_fail(c, 400, "invalid_field", "token_type 须为 cookie 或 bearer / field 'token_type' "
                "must be \"cookie\" or \"bearer\"");
    return;
  }
  int64_t now = mg_time_now_us();
  mg_auth_login in = {user, pw, totp, bearer, c->req->client_ip, now};
  mg_auth_session_out out;
  int locked_now = 0;
  int rc = mg_auth_login_run(c->store, mg_api_policy(c->api), &in, &out, &locked_now);
  if (rc == MG_EAUTH) {
    /* the name may not exist: record it as given, under no role */
    char actor[80];
    snprintf(actor, sizeof actor, "%.*s", mg_utf8_prefix(user, 63), user);
    audit_event(c, actor, out.user.id ? out.user.role : "none", "auth.login_failed", out.user.id);
    if (locked_now) audit_event(c, actor, out.user.role, "auth.locked", out.user.id);
    mg_api_fail(c, 401, "invalid_credentials",
                "用户名、密码或动态口令错误，或账户已锁定或停用 / wrong user name, password or "
                "one-time code, or the account is locked or disabled");
    sodium_memzero(&out, sizeof out);
    return;
  }
  if (rc) {
    mg_api_fail_err(c, rc, "login");
    return;
  }
  mg_principal who = {.user_id = out.user.id, .role = mg_auth_role_parse(out.user.role)};
  snprintf(who.username, sizeof who.username, "%s", out.user.username);
  c->who = &who;
  char id[24];
  snprintf(id, sizeof id, "%lld", (long long)out.user.id);
  if (mg_api_audit(c, "auth.login", "user", id, NULL, NULL)) {
    mg_store_session_delete(c->store, out.session.token_hash);
    mg_api_fail(c, 503, "audit_unavailable", "审计日志无法写入，登录已拒绝 / the audit log cannot "
                "be written, so the login was refused");
    c->who = NULL;
    return;
  }
  c->who = NULL;
  mg_json *body = session_json(c, &out.user, &out.session, now);
  if (body && bearer) {
    if (set_str(&c->req->pool, body, "token", out.token)) body = NULL;
  } else if (body) {
    set_cookie(c, out.token, mg_api_policy(c->api)->absolute_s);
  }
  snprintf(c->req->principal, sizeof c->req->principal, "user:%s", out.user.username);
  sodium_memzero(out.token, sizeof out.token);
  reply_or_500(c, 200, body);
}

static void h_logout(mg_api_call *c, void *ud) {
  (void)ud;
  const mg_store_session *s = mg_api_session(c);
  int rc = mg_store_session_delete(c->store, s->token_hash);
  if (rc && rc != MG_ENOTFOUND) {
    mg_api_fail_err(c, rc, "session");
    return;
  }
  char id[24];
  snprintf(id, sizeof id, "%lld", (long long)c->who->user_id);
  mg_api_audit(c, "auth.logout", "user", id, NULL, NULL);
  if (!s->bearer) set_cookie(c, "", 0);
  reply_or_500(c, 200, obj1(&c->req->pool, "logged_out", mg_json_true()));
}

static void h_me(mg_api_call *c, void *ud) {
  (void)ud;
  mg_store_user u;
  int rc = mg_store_user_get_id(c->store, c->who->user_id, &u);
  if (rc) {
    mg_api_fail_err(c, rc, "user");
    return;
  }
  reply_or_500(c, 200, session_json(c, &u, mg_api_session(c), mg_time_now_us()));
}

/* A second factor is needed to change what guards the account, once the user has one. */
static int mfa_if_enrolled(mg_api_call *c, const mg_store_user *u) {
  if (u->totp_enabled && !mg_api_session(c)->mfa) {
    mg_api_fail(c, 403, "mfa_required", "须先通过动态口令验证 / pass the second factor first: POST "
                "/api/v1/auth/totp/verify");
    return MG_EFORBIDDEN;
  }
  return MG_OK;
}

static void h_password(mg_api_call *c, void *ud) {
  (void)ud;
  static const char *const fields[] = {"current_password", "new_password", NULL};
  const char *cur, *nw;
  if (need_body(c) || only_fields(c, fields) || str_field(c, "current_password", 1, &cur) ||
      str_field(c, "new_password", 1, &nw))
    return;
  const mg_auth_policy *p = mg_api_policy(c->api);
  mg_store_user u;
  int rc = mg_store_user_get_id(c->store, c->who->user_id, &u);
  if (rc) {
    mg_api_fail_err(c, rc, "user");
    return;
  }
  if (mfa_if_enrolled(c, &u)) return;
  int64_t now = mg_time_now_us();
  if (!mg_auth_password_verify(u.password_hash, cur)) {
    int locked = 0;
    mg_store_user_login_failed(c->store, u.id, p->lockout_failures,
                               now + (int64_t)p->lockout_s * 1000000, &locked);
    if (locked) mg_store_session_delete_user(c->store, u.id, NULL);
    mg_api_fail(c, 403, "invalid_credentials", "当前密码错误 / the current password is wrong");
    return;
  }
  char why[256], hash[MG_AUTH_HASH_MAX];
  if (mg_auth_password_policy(nw, u.username, why, sizeof why)) {
    mg_api_fail(c, 400, "weak_password", "new_password: %s", why);
    return;
  }
  if (mg_auth_password_verify(u.password_hash, nw) ||
      mg_auth_password_verify(u.prev_password_hash, nw)) {
    mg_api_fail(c, 400, "weak_password", "new_password: 不能与当前或上一个密码相同 / must differ "
                "from the current and the previous password");
    return;
  }
  if ((rc = mg_auth_password_hash(nw, p->cost, hash))) { /* before the transaction: slow */
    mg_api_fail_err(c, rc, "password hash");
    return;
  }
  if ((rc = mg_store_tx_begin(c->store))) {
    mg_api_fail_err(c, rc, "transaction");
    return;
  }
  if ((rc = mg_store_user_get_id(c->store, c->who->user_id, &u))) goto fail;
  snprintf(u.prev_password_hash, sizeof u.prev_password_hash, "%s", u.password_hash);
  snprintf(u.password_hash, sizeof u.password_hash, "%s", hash);
  u.must_change = 0;
  u.password_changed_us = now;
  /* other sessions may belong to whoever knew the old password */
  if ((rc = mg_store_user_update(c->store, &u)) ||
      (rc = mg_store_session_delete_user(c->store, u.id, mg_api_session(c)->token_hash)))
    goto fail;
  char id[24];
  snprintf(id, sizeof id, "%lld", (long long)u.id);
  if (audit_commit(c, "auth.password.change", "user", id, NULL, NULL)) return;
  reply_or_500(c, 200, obj1(&c->req->pool, "password_changed", mg_json_true()));
  return;
fail:
  mg_store_tx_rollback(c->store);
  mg_api_fail_err(c, rc, "user");
}

static void h_totp_enrol(mg_api_call *c, void *ud) {
  (void)ud;
  mg_store_user u;
  char hex[2 * MG_TOTP_SECRET_LEN + 1], b32[33], uri[256];
  int rc = mg_store_user_get_id(c->store, c->who->user_id, &u);
  if (rc) {
    mg_api_fail_err(c, rc, "user");
    return;
  }
  if (mfa_if_enrolled(c, &u)) return;
  char sealed[sizeof u.totp_pending];
  if ((rc = mg_auth_totp_new_secret(hex, b32)) || (rc = mg_auth_totp_secret_seal(hex, sealed, sizeof sealed))) {
    sodium_memzero(hex, sizeof hex);
    mg_api_fail_err(c, rc, "secret");
    return;
  }
  if ((rc = mg_store_tx_begin(c->store))) {
    mg_api_fail_err(c, rc, "transaction");
    return;
  }
  if ((rc = mg_store_user_get_id(c->store, c->who->user_id, &u)) == MG_OK) {
    snprintf(u.totp_pending, sizeof u.totp_pending, "%s", sealed);
    rc = mg_store_user_update(c->store, &u);
  }
  sodium_memzero(hex, sizeof hex);
  if (rc) {
    mg_store_tx_rollback(c->store);
    mg_api_fail_err(c, rc, "user");
    return;
  }
  char id[24];
  snprintf(id, sizeof id, "%lld", (long long)u.id);
  if (audit_commit(c, "auth.totp.enrol", "user", id, NULL, NULL)) return;
  snprintf(uri, sizeof uri,
           "otpauth://totp/moocguard:%s?secret=%s&issuer=moocguard&algorithm=SHA1&digits=6&period=30",
           u.username, b32);
  mg_arena *a = &c->req->pool;
  mg_json *o = mg_json_object(a);
  if (o && (set_str(a, o, "secret", b32) || set_str(a, o, "otpauth_uri", uri))) o = NULL;
  sodium_memzero(b32, sizeof b32);
  reply_or_500(c, 200, o);
}

static void h_totp_verify(mg_api_call *c, void *ud) {
  (void)ud;
  static const char *const fields[] = {"code", NULL};
  const char *code;
  if (need_body(c) || only_fields(c, fields) || str_field(c, "code", 1, &code)) return;
  int locked = 0;
  int rc = mg_auth_mfa_verify(c->store, mg_api_policy(c->api), mg_api_session(c), code,
                              mg_time_now_us(), &locked);
  char id[24];
  snprintf(id, sizeof id, "%lld", (long long)c->who->user_id);
  if (rc == MG_EINVAL) {
    mg_api_fail(c, 409, "totp_not_enrolled", "尚未设置动态口令 / no TOTP secret is set up: POST "
                "/api/v1/auth/totp/enrol first");
    return;
  }
  if (rc == MG_EAUTH) {
    audit_event(c, c->who->username, mg_auth_role_name(c->who->role), "auth.totp_failed",
                c->who->user_id);
    if (locked) {
      audit_event(c, c->who->username, mg_auth_role_name(c->who->role), "auth.locked",
                  c->who->user_id);
      mg_api_fail(c, 401, "unauthenticated", "尝试次数过多，账户已锁定 / too many attempts: the "
                  "account is locked and the session ended");
      return;
    }
    mg_api_fail(c, 403, "invalid_code", "动态口令错误或已使用 / the code is wrong or was already used");
    return;
  }
  if (rc) {
    mg_api_fail_err(c, rc, "totp");
    return;
  }
  mg_api_audit(c, "auth.totp.verify", "user", id, NULL, NULL);
  reply_or_500(c, 200, obj1(&c->req->pool, "mfa_passed", mg_json_true()));
}

/* ---- user administration (security administrator) ------------------------------------------ */

static void h_users_list(mg_api_call *c, void *ud);
typedef struct list_ctx {
  mg_arena *a;
  mg_json *items;
  int64_t limit, offset, total;
  int64_t now;
} list_ctx;

static int list_cb(void *ud, const mg_store_user *u) {
  list_ctx *l = ud;
  int64_t i = l->total++;
  if (i < l->offset || i >= l->offset + l->limit) return MG_OK;
  mg_json *j = mg_auth_user_json(l->a, u, l->now);
  return j ? mg_json_array_append(l->a, l->items, j) : MG_ENOMEM;
}

static void h_users_list(mg_api_call *c, void *ud) {
  (void)ud;
  list_ctx l = {&c->req->pool, mg_json_array(&c->req->pool), 0, 0, 0, mg_time_now_us()};
  if (mg_api_page(c, &l.limit, &l.offset)) return;
  int rc = l.items ? mg_store_user_list(c->store, list_cb, &l) : MG_ENOMEM;
  if (rc) {
    mg_api_fail_err(c, rc, "users");
    return;
  }
  mg_arena *a = &c->req->pool;
  mg_json *o = obj1(a, "items", l.items);
  mg_json *t = mg_json_integer(a, l.total), *li = mg_json_integer(a, l.limit),
          *of = mg_json_integer(a, l.offset);
  if (o && (!t || !li || !of || mg_json_object_set(a, o, "total", t) ||
            mg_json_object_set(a, o, "limit", li) || mg_json_object_set(a, o, "offset", of)))
    o = NULL;
  reply_or_500(c, 200, o);
}

static void h_user_get(mg_api_call *c, void *ud) {
  (void)ud;
  int64_t id;
  mg_store_user u;
  if (mg_api_param_id(c, "id", &id)) return;
  int rc = mg_store_user_get_id(c->store, id, &u);
  if (rc) {
    mg_api_fail_err(c, rc, "user");
    return;
  }
  reply_or_500(c, 200, obj1(&c->req->pool, "user", mg_auth_user_json(&c->req->pool, &u,
                                                                      mg_time_now_us())));
}

static void h_user_create(mg_api_call *c, void *ud) {
  (void)ud;
  static const char *const fields[] = {"username", "display_name", "role", "org_id",
                                       "org_kind", "province", "student_id", NULL};
  mg_auth_user_new n = {0};
  if (need_body(c) || only_fields(c, fields) || str_field(c, "username", 1, &n.username) ||
      str_field(c, "display_name", 0, &n.display_name) || str_field(c, "role", 1, &n.role) ||
      str_field(c, "org_kind", 0, &n.org_kind) || str_field(c, "province", 0, &n.province) ||
      int_field(c, "org_id", &n.org_id) || int_field(c, "student_id", &n.student_id))
    return;
  char pw[32], hash[MG_AUTH_HASH_MAX], why[256];
  mg_store_user u;
  int64_t now = mg_time_now_us(), id = 0;
  if (mg_auth_user_prepare(&n, "", 1, now, &u, why, sizeof why)) {
    mg_api_fail(c, 400, "invalid_field", "%s", why);
    return;
  }
  int rc = mg_auth_password_generate(pw, sizeof pw);
  if (!rc) rc = mg_auth_password_hash(pw, mg_api_policy(c->api)->cost, hash);
  if (rc) {
    mg_api_fail_err(c, rc, "password");
    return;
  }
  snprintf(u.password_hash, sizeof u.password_hash, "%s", hash);
  if ((rc = mg_store_tx_begin(c->store))) {
    mg_api_fail_err(c, rc, "transaction");
    return;
  }
  if ((rc = mg_store_user_create(c->store, &u, &id))) {
    mg_store_tx_rollback(c->store);
    if (rc == MG_EEXISTS)
      mg_api_fail(c, 409, "conflict", "用户名 %s 已存在 / user name '%s' is taken", u.username,
                  u.username);
    else
      mg_api_fail_err(c, rc, "user");
    return;
  }
  u.id = id;
  mg_arena *a = &c->req->pool;
  mg_json *after = mg_auth_user_json(a, &u, now);
  char ids[24];
  snprintf(ids, sizeof ids, "%lld", (long long)id);
  if (audit_commit(c, NULL, "user", ids, NULL, after)) return;
  mg_json *o = obj1(a, "user", after);
  if (o && set_str(a, o, "initial_password", pw)) o = NULL;
  sodium_memzero(pw, sizeof pw);
  reply_or_500(c, 201, o);
}

/* Changes one user inside a transaction with its audit record. apply returns MG_OK or answers
 * itself and returns an error. */
typedef int (*user_change_fn)(mg_api_call *c, mg_store_user *u, void *arg);

static void change_user(mg_api_call *c, user_change_fn apply, void *arg, int end_sessions,
                        const char *extra_key, const char *extra_val) {
  int64_t id;
  mg_store_user u;
  if (mg_api_param_id(c, "id", &id)) return;
  int64_t now = mg_time_now_us();
  mg_arena *a = &c->req->pool;
  int rc = mg_store_tx_begin(c->store);
  if (rc) {
    mg_api_fail_err(c, rc, "transaction");
    return;
  }
  if ((rc = mg_store_user_get_id(c->store, id, &u))) {
    mg_store_tx_rollback(c->store);
    mg_api_fail_err(c, rc, "user");
    return;
  }
  mg_json *before = mg_auth_user_json(a, &u, now);
  if (apply(c, &u, arg)) {
    mg_store_tx_rollback(c->store);
    return;
  }
  if ((rc = mg_store_user_update(c->store, &u)) ||
      (end_sessions && (rc = mg_store_session_delete_user(c->store, u.id, NULL)))) {
    mg_store_tx_rollback(c->store);
    mg_api_fail_err(c, rc, "user");
    return;
  }
  mg_json *after = mg_auth_user_json(a, &u, now);
  char ids[24];
  snprintf(ids, sizeof ids, "%lld", (long long)id);
  if (audit_commit(c, NULL, "user", ids, before, after)) return;
  mg_json *o = obj1(a, "user", after);
  if (o && extra_key && set_str(a, o, extra_key, extra_val)) o = NULL;
  reply_or_500(c, 200, o);
}

static int not_self(mg_api_call *c, const mg_store_user *u, const char *what) {
  if (u->id != c->who->user_id) return MG_OK;
  mg_api_fail(c, 409, "conflict", "不能对自己的账户执行 %s / you cannot %s your own account", what,
              what);
  return MG_ECONFLICT;
}

static int apply_disable(mg_api_call *c, mg_store_user *u, void *arg) {
  (void)arg;
  if (not_self(c, u, "disable")) return MG_ECONFLICT;
  u->status = MG_USER_DISABLED;
  return MG_OK;
}

static int apply_unlock(mg_api_call *c, mg_store_user *u, void *arg) {
  (void)c;
  (void)arg;
  if (u->status == MG_USER_LOCKED) u->status = MG_USER_ACTIVE;
  u->failed_count = 0;
  u->locked_until_us = 0;
  return MG_OK;
}

static int apply_reset(mg_api_call *c, mg_store_user *u, void *arg) {
  if (not_self(c, u, "reset-password")) return MG_ECONFLICT;
  snprintf(u->prev_password_hash, sizeof u->prev_password_hash, "%s", u->password_hash);
  snprintf(u->password_hash, sizeof u->password_hash, "%s", (const char *)arg);
  u->must_change = 1;
  u->password_changed_us = mg_time_now_us();
  return MG_OK;
}

static int apply_role(mg_api_call *c, mg_store_user *u, void *arg) {
  if (not_self(c, u, "change the role of")) return MG_ECONFLICT;
  snprintf(u->role, sizeof u->role, "%s", (const char *)arg);
  return MG_OK;
}

static void h_user_disable(mg_api_call *c, void *ud) {
  (void)ud;
  change_user(c, apply_disable, NULL, 1, NULL, NULL);
}

static void h_user_unlock(mg_api_call *c, void *ud) {
  (void)ud;
  change_user(c, apply_unlock, NULL, 0, NULL, NULL);
}

static void h_user_reset(mg_api_call *c, void *ud) {
  (void)ud;
  char pw[32], hash[MG_AUTH_HASH_MAX];
  int rc = mg_auth_password_generate(pw, sizeof pw);
  if (!rc) rc = mg_auth_password_hash(pw, mg_api_policy(c->api)->cost, hash);
  if (rc) {
    mg_api_fail_err(c, rc, "password");
    return;
  }
  change_user(c, apply_reset, hash, 1, "initial_password", pw);
  sodium_memzero(pw, sizeof pw);
}

static void h_user_role(mg_api_call *c, void *ud) {
  (void)ud;
  static const char *const fields[] = {"role", NULL};
  const char *role;
  if (need_body(c) || only_fields(c, fields) || str_field(c, "role", 1, &role)) return;
  if (mg_auth_role_parse(role) == MG_ROLE_NONE) {
    mg_api_fail(c, 400, "invalid_field", "未知角色 / field 'role': '%.*s' is not a role",
                mg_utf8_prefix(role, 40), role);
    return;
  }
  change_user(c, apply_role, (void *)role, 1, NULL, NULL);
}

/* ---- system (system administrator) --------------------------------------------------------- */

static void h_system_status(mg_api_call *c, void *ud) {
  (void)ud;
  int version = 0;
  int64_t statements = 0, users = 0;
  int rc = mg_store_schema_version(c->store, &version);
  if (!rc) rc = mg_store_stmt_count(c->store, &statements);
  if (!rc) rc = mg_store_user_count(c->store, &users);
  if (rc) {
    mg_api_fail_err(c, rc, "status");
    return;
  }
  mg_arena *a = &c->req->pool;
  mg_json *o = mg_json_object(a);
  mg_json *v = mg_json_integer(a, version), *st = mg_json_integer(a, statements),
          *us = mg_json_integer(a, users);
  if (o && (!v || !st || !us || set_str(a, o, "version", MG_VERSION) ||
            set_str(a, o, "backend", mg_store_backend(c->store)) ||
            mg_json_object_set(a, o, "schema_version", v) ||
            mg_json_object_set(a, o, "statements", st) || mg_json_object_set(a, o, "users", us) ||
            mg_json_object_set(a, o, "audit_alarm",
                               mg_audit_alarm() ? mg_json_true() : mg_json_false())))
    o = NULL;
  reply_or_500(c, 200, o);
}

static void h_system_config(mg_api_call *c, void *ud) {
  (void)ud;
  const mg_config *g = c->cfg;
  mg_arena *a = &c->req->pool;
  mg_json *o = mg_json_object(a);
  /* settings only: no secret lives in mg_config, and the store path is the operator's own */
  struct { const char *k; int64_t v; } ints[] = {
      {"port", g->port}, {"threads", g->threads}, {"max-body", g->max_body},
      {"timeout", g->timeout}, {"grace-ms", g->grace_ms}, {"query-limit", g->query_limit},
      {"session-idle", g->session_idle}, {"session-absolute", g->session_absolute},
      {"lockout-failures", g->lockout_failures}, {"lockout-seconds", g->lockout_seconds}};
  struct { const char *k, *v; } strs[] = {
      {"bind", g->bind}, {"store", g->store}, {"log-level", g->log_level},
      {"base-url", g->base_url}, {"xapi-version", g->xapi_version},
      {"password-hash", g->password_hash}};
  for (size_t i = 0; o && i < sizeof ints / sizeof ints[0]; i++) {
    mg_json *v = mg_json_integer(a, ints[i].v);
    if (!v || mg_json_object_set(a, o, ints[i].k, v)) o = NULL;
  }
  for (size_t i = 0; o && i < sizeof strs / sizeof strs[0]; i++)
    if (set_str(a, o, strs[i].k, strs[i].v)) o = NULL;
  if (o && mg_json_object_set(a, o, "access-log", g->access_log ? mg_json_true() : mg_json_false()))
    o = NULL;
  reply_or_500(c, 200, o);
}

int mg_auth_api_register(mg_api *api) {
  static const struct {
    const char *method, *pattern, *cap;
    mg_api_handler h;
  } routes[] = {
      {"POST", "/auth/login", NULL, h_login},
      {"POST", "/auth/logout", "auth.session", h_logout},
      {"GET", "/auth/me", "auth.session", h_me},
      {"POST", "/auth/password", "auth.password.change", h_password},
      {"POST", "/auth/totp/enrol", "auth.totp.enrol", h_totp_enrol},
      {"POST", "/auth/totp/verify", "auth.totp.enrol", h_totp_verify},
      {"GET", "/users", "user.list", h_users_list},
      {"POST", "/users", "user.create", h_user_create},
      {"GET", "/users/:id", "user.list", h_user_get},
      {"POST", "/users/:id/disable", "user.disable", h_user_disable},
      {"POST", "/users/:id/unlock", "user.unlock", h_user_unlock},
      {"POST", "/users/:id/reset-password", "user.reset_password", h_user_reset},
      {"PUT", "/users/:id/role", "role.assign", h_user_role},
      {"GET", "/system/status", "system.status", h_system_status},
      {"GET", "/system/config", "system.config.read", h_system_config},
  };
  for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
    int rc = mg_api_route(api, routes[i].method, routes[i].pattern, routes[i].cap, routes[i].h, NULL);
    if (rc) return rc;
  }
  return MG_OK;
}
