/* store/store_auth.h — users and sessions of the console and /api/v1.
 *
 * Rows only: password policy, hashing, lockout rules and token handling live in src/auth/. The
 * counters that concurrent logins race on (failed attempts, TOTP steps) are changed by single
 * atomic statements here, so two requests at once can neither skip a lockout nor reuse a code.
 * Every function takes part in the calling thread's open transaction (mg_store_tx_begin). */
#ifndef MG_STORE_STORE_AUTH_H
#define MG_STORE_STORE_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

typedef enum mg_store_user_status {
  MG_USER_ACTIVE = 0,
  MG_USER_DISABLED = 1,
  MG_USER_LOCKED = 2,
} mg_store_user_status;

typedef struct mg_store_user {
  int64_t id;
  char username[64];
  char display_name[128];
  char role[24];              /* role name, auth/capability.h */
  int64_t org_id;
  char org_kind[24];
  char province[16];
  int64_t student_id;
  char password_hash[160];    /* argon2id string */
  char prev_password_hash[160];
  mg_store_user_status status;
  int failed_count;
  int64_t locked_until_us;
  int64_t password_changed_us;
  int must_change;
  char totp_secret[200];      /* SM4-sealed token "mgf1..." (crypto.h), or hex when no keyring
                                 was loaded when it was set; "" = none */
  int totp_enabled;
  char totp_pending[200];     /* a secret being enrolled, stored like totp_secret; "" = none */
  int64_t totp_last_step;     /* last accepted TOTP time step (replay guard) */
  int64_t created_us;
} mg_store_user;

const char *mg_store_user_status_name(mg_store_user_status st);

/* Inserts u (id ignored); *out_id (may be NULL) gets the id. MG_EEXISTS if the name is taken. */
int mg_store_user_create(mg_store *s, const mg_store_user *u, int64_t *out_id);
/* Looks a user up by name / id. MG_ENOTFOUND if absent. */
int mg_store_user_get(mg_store *s, const char *username, mg_store_user *out);
int mg_store_user_get_id(mg_store *s, int64_t id, mg_store_user *out);
/* Number of users. */
int mg_store_user_count(mg_store *s, int64_t *out);
/* Calls cb for every user in id order (hashes included; callers must not expose them); a
 * non-zero return from cb stops and is returned. */
int mg_store_user_list(mg_store *s, int (*cb)(void *ud, const mg_store_user *u), void *ud);
/* Writes every field of u except id, username and created_us. MG_ENOTFOUND if absent. */
int mg_store_user_update(mg_store *s, const mg_store_user *u);

/* One failed login or second-factor attempt, atomically: the count goes up and, when it reaches
 * max_failures, an active account becomes locked until lock_until_us. *locked (may be NULL) is set
 * when the account is locked after this call. MG_ENOTFOUND if absent. */
int mg_store_user_login_failed(mg_store *s, int64_t id, int max_failures, int64_t lock_until_us,
                               int *locked);
/* A successful login: failed count 0 and, if it was locked, active again. */
int mg_store_user_login_ok(mg_store *s, int64_t id);
/* Records TOTP step as used, only if it is later than the last one used (replay guard).
 * MG_ECONFLICT when that step (or a later one) was already used. */
int mg_store_user_totp_use(mg_store *s, int64_t id, int64_t step);

/* A session (console cookie) or bearer token. The token itself is never stored. */
typedef struct mg_store_session {
  uint8_t token_hash[32];
  int64_t user_id;
  int bearer;
  char csrf[64];
  int mfa;
  int64_t created_us;
  int64_t last_seen_us;
  char client_ip[64];
} mg_store_session;

int mg_store_session_create(mg_store *s, const mg_store_session *sess);
/* MG_ENOTFOUND if absent. */
int mg_store_session_get(mg_store *s, const uint8_t token_hash[32], mg_store_session *out);
int mg_store_session_touch(mg_store *s, const uint8_t token_hash[32], int64_t last_seen_us);
int mg_store_session_set_mfa(mg_store *s, const uint8_t token_hash[32]);
int mg_store_session_delete(mg_store *s, const uint8_t token_hash[32]);
/* Ends every session of a user except keep (may be NULL). */
int mg_store_session_delete_user(mg_store *s, int64_t user_id, const uint8_t *keep);

#endif
