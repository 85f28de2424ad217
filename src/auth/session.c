#include "auth/session.h"

#include <sodium.h>
#include <string.h>

#include "auth/totp.h"
#include "core/err.h"

int mg_auth_policy_from_config(const mg_config *cfg, mg_auth_policy *p) {
  p->idle_s = cfg->session_idle;
  p->absolute_s = cfg->session_absolute;
  p->lockout_failures = cfg->lockout_failures > 0 ? cfg->lockout_failures : 1;
  p->lockout_s = cfg->lockout_seconds;
  return mg_auth_hash_cost_parse(cfg->password_hash, &p->cost);
}

void mg_auth_token_hash(const char *token, uint8_t out[32]) {
  crypto_generichash(out, 32, (const unsigned char *)token, strlen(token), NULL, 0);
}

static void random_token(char out[MG_AUTH_TOKEN_LEN]) {
  unsigned char r[32];
  randombytes_buf(r, sizeof r);
  sodium_bin2base64(out, MG_AUTH_TOKEN_LEN, r, sizeof r, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  sodium_memzero(r, sizeof r);
}

/* One failed attempt; ends the user's sessions when it locked the account. */
static void failed(mg_store *s, const mg_auth_policy *p, int64_t user_id, int64_t now_us,
                   int *locked_now) {
  int locked = 0;
  if (mg_store_user_login_failed(s, user_id, p->lockout_failures,
                                 now_us + (int64_t)p->lockout_s * 1000000, &locked) == MG_OK &&
      locked) {
    mg_store_session_delete_user(s, user_id, NULL);
    if (locked_now) *locked_now = 1;
  }
}

/* Checks code against the stored secret and records its step as used. */
static int totp_ok(mg_store *s, const mg_store_user *u, const char *secret_hex, const char *code,
                   int64_t now_us) {
  uint8_t key[MG_TOTP_SECRET_LEN];
  int64_t step = 0;
  int rc = mg_auth_totp_secret_unseal(secret_hex, key);
  if (!rc) rc = mg_auth_totp_check(key, sizeof key, code, now_us / 1000000, u->totp_last_step, &step);
  sodium_memzero(key, sizeof key);
  /* the store refuses a step already used, also when two requests race with one code */
  if (!rc) rc = mg_store_user_totp_use(s, u->id, step);
  return rc == MG_OK;
}

int mg_auth_login_run(mg_store *s, const mg_auth_policy *p, const mg_auth_login *in,
                      mg_auth_session_out *out, int *locked_now) {
  mg_store_user *u = &out->user;
  if (locked_now) *locked_now = 0;
  if (sodium_init() < 0) return MG_ECRYPTO;
  memset(out, 0, sizeof *out);
  const char *pw = in->password ? in->password : "";
  int rc = in->username ? mg_store_user_get(s, in->username, u) : MG_ENOTFOUND;
  if (rc == MG_ENOTFOUND) {
    mg_auth_password_burn(pw, p->cost);
    return MG_EAUTH;
  }
  if (rc) return rc;
  if (u->status == MG_USER_LOCKED && u->locked_until_us <= in->now_us) {
    /* the lock has run out: start counting afresh */
    if ((rc = mg_store_user_login_ok(s, u->id))) return rc;
    u->status = MG_USER_ACTIVE;
    u->failed_count = 0;
  }
  if (u->status != MG_USER_ACTIVE) {
    /* locked or disabled: same work and the same answer as a wrong password */
    mg_auth_password_burn(pw, p->cost);
    return MG_EAUTH;
  }
  if (!mg_auth_password_verify(u->password_hash, pw)) {
    failed(s, p, u->id, in->now_us, locked_now);
    return MG_EAUTH;
  }
  int mfa = 0;
  if (in->totp && u->totp_enabled) {
    if (!totp_ok(s, u, u->totp_secret, in->totp, in->now_us)) {
      failed(s, p, u->id, in->now_us, locked_now);
      return MG_EAUTH;
    }
    mfa = 1;
  }
  if ((rc = mg_store_user_login_ok(s, u->id))) return rc;
  u->failed_count = 0;
  random_token(out->token);
  random_token(out->csrf);
  mg_store_session *x = &out->session;
  mg_auth_token_hash(out->token, x->token_hash);
  x->user_id = u->id;
  x->bearer = in->bearer ? 1 : 0;
  memcpy(x->csrf, out->csrf, sizeof out->csrf);
  x->mfa = mfa;
  x->created_us = x->last_seen_us = in->now_us;
  snprintf(x->client_ip, sizeof x->client_ip, "%s", in->client_ip ? in->client_ip : "");
  return mg_store_session_create(s, x);
}

int mg_auth_session_check(mg_store *s, const mg_auth_policy *p, const char *token, int64_t now_us,
                          mg_store_session *sess, mg_store_user *user, int *expired) {
  uint8_t h[32];
  if (expired) *expired = 0;
  if (!token || !*token || strlen(token) >= MG_AUTH_TOKEN_LEN) return MG_EAUTH;
  mg_auth_token_hash(token, h);
  int rc = mg_store_session_get(s, h, sess);
  if (rc) return rc == MG_ENOTFOUND ? MG_EAUTH : rc;
  if (now_us - sess->last_seen_us > (int64_t)p->idle_s * 1000000 ||
      now_us - sess->created_us > (int64_t)p->absolute_s * 1000000) {
    mg_store_session_delete(s, h);
    if (expired) *expired = 1;
    return MG_EAUTH;
  }
  rc = mg_store_user_get_id(s, sess->user_id, user);
  if (rc) return rc == MG_ENOTFOUND ? MG_EAUTH : rc;
  if (user->status == MG_USER_DISABLED ||
      (user->status == MG_USER_LOCKED && user->locked_until_us > now_us)) {
    mg_store_session_delete(s, h);
    return MG_EAUTH;
  }
  /* one write per second at most: idle time is counted in seconds */
  if (now_us - sess->last_seen_us >= 1000000) {
    if ((rc = mg_store_session_touch(s, h, now_us)) && rc != MG_ENOTFOUND) return rc;
    sess->last_seen_us = now_us;
  }
  return MG_OK;
}

int mg_auth_mfa_verify(mg_store *s, const mg_auth_policy *p, const mg_store_session *sess,
                       const char *code, int64_t now_us, int *locked_now) {
  mg_store_user u;
  if (locked_now) *locked_now = 0;
  int rc = mg_store_user_get_id(s, sess->user_id, &u);
  if (rc) return rc == MG_ENOTFOUND ? MG_EAUTH : rc;
  int pending = u.totp_pending[0] && (!u.totp_enabled || sess->mfa);
  if (!pending && !u.totp_enabled) return MG_EINVAL;
  if (!totp_ok(s, &u, pending ? u.totp_pending : u.totp_secret, code, now_us)) {
    failed(s, p, u.id, now_us, locked_now);
    return MG_EAUTH;
  }
  if (pending) {
    /* re-read: totp_ok advanced totp_last_step */
    if ((rc = mg_store_user_get_id(s, sess->user_id, &u))) return rc;
    memcpy(u.totp_secret, u.totp_pending, sizeof u.totp_secret);
    u.totp_pending[0] = '\0';
    u.totp_enabled = 1;
    if ((rc = mg_store_user_update(s, &u))) return rc;
  }
  if ((rc = mg_store_user_login_ok(s, u.id))) return rc;
  return mg_store_session_set_mfa(s, sess->token_hash);
}
