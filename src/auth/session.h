/* auth/session.h — logging in, sessions and bearer tokens, the second factor.
 *
 * A login yields a random 256-bit token: the console keeps it in the HttpOnly cookie mg_session
 * and sends the session's CSRF token in X-CSRF-Token on unsafe requests; API clients send it as
 * "Authorization: Bearer". Only the token's BLAKE2b-256 digest is stored. A session ends after
 * policy.idle_s without a request or policy.absolute_s after login, at logout, and when the
 * account is locked, disabled, or its password is reset.
 *
 * Lockout: policy.lockout_failures failed attempts (password or second factor) in a row lock the
 * account for policy.lockout_s. A refusal never says why: unknown user, wrong password, locked
 * and disabled accounts all get MG_EAUTH after the same argon2id work.
 * Every function takes the time (now_us) as a parameter so tests can drive the clock. */
#ifndef MG_AUTH_SESSION_H
#define MG_AUTH_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "auth/password.h"
#include "core/config.h"
#include "store/store_auth.h"

typedef struct mg_auth_policy {
  int idle_s;
  int absolute_s;
  int lockout_failures;
  int lockout_s;
  mg_auth_hash_cost cost;
} mg_auth_policy;

/* From the settings session-idle, session-absolute, lockout-failures, lockout-seconds,
 * password-hash. MG_EINVAL if password-hash is not a known cost. */
int mg_auth_policy_from_config(const mg_config *cfg, mg_auth_policy *p);

#define MG_AUTH_TOKEN_LEN 48 /* base64url of 32 bytes (43) and a NUL, rounded up */

typedef struct mg_auth_login {
  const char *username;
  const char *password;
  const char *totp;      /* may be NULL: the second factor can follow with mg_auth_mfa_verify */
  int bearer;            /* a token for an API client rather than a console cookie */
  const char *client_ip; /* may be NULL */
  int64_t now_us;
} mg_auth_login;

typedef struct mg_auth_session_out {
  char token[MG_AUTH_TOKEN_LEN];
  char csrf[MG_AUTH_TOKEN_LEN];
  mg_store_session session;
  mg_store_user user;
} mg_auth_session_out;

/* Checks the credentials and opens a session. MG_EAUTH for any refusal (see above; *locked_now
 * (may be NULL) is set when this attempt locked the account); MG_OK with *out filled. */
int mg_auth_login_run(mg_store *s, const mg_auth_policy *p, const mg_auth_login *in,
                      mg_auth_session_out *out, int *locked_now);

/* The digest under which a token is stored. */
void mg_auth_token_hash(const char *token, uint8_t out[32]);

/* Looks up the session of token at now_us and its (active) user, and records the activity.
 * MG_EAUTH when unknown, ended, or the user is not active; *expired (may be NULL) is set when it
 * ended by a timeout just now. */
int mg_auth_session_check(mg_store *s, const mg_auth_policy *p, const char *token, int64_t now_us,
                          mg_store_session *sess, mg_store_user *user, int *expired);

/* Checks a TOTP code for the session's user and on success marks the session as having passed
 * the second factor. The code is checked against a secret being enrolled (totp_pending) when
 * there is one and the user either has no confirmed secret yet or this session already passed the
 * second factor; the pending secret then becomes the user's secret. Otherwise it is checked
 * against the confirmed secret. A wrong code counts as a failed login (lockout).
 * MG_OK, MG_EAUTH (wrong or replayed code), MG_EINVAL (no secret to check against). */
int mg_auth_mfa_verify(mg_store *s, const mg_auth_policy *p, const mg_store_session *sess,
                       const char *code, int64_t now_us, int *locked_now);

#endif
