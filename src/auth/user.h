/* auth/user.h — people who use the console and /api/v1: checking and describing accounts, and
 * the first security administrator.
 *
 * Rows are in store/store_auth.h. Hashing (argon2id, slow on purpose) is done by callers before
 * they open a store transaction, so the governance lock is never held for a hash. */
#ifndef MG_AUTH_USER_H
#define MG_AUTH_USER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/config.h"
#include "core/json.h"
#include "store/store_auth.h"

/* What an administrator gives for a new account. Strings are borrowed; NULL means "". */
typedef struct mg_auth_user_new {
  const char *username;     /* 1..63 of [A-Za-z0-9._@-], starting with a letter or digit */
  const char *display_name; /* up to 127 bytes */
  const char *role;         /* role name (auth/capability.h) */
  int64_t org_id;
  const char *org_kind;     /* up to 23 bytes */
  const char *province;     /* up to 15 bytes */
  int64_t student_id;
} mg_auth_user_new;

/* Checks n; on success fills *u (status active, no TOTP) with password_hash and must_change as
 * given, created/password-changed at now_us. MG_EINVAL with a reason naming the field in why. */
int mg_auth_user_prepare(const mg_auth_user_new *n, const char *password_hash, int must_change,
                         int64_t now_us, mg_store_user *u, char *why, size_t why_size);

/* Checks a user name (see above). */
int mg_auth_username_valid(const char *username);

/* The account as clients may see it (no hashes, no TOTP secret), in arena a; NULL on no memory.
 * status says "locked" only while the lock lasts at now_us. */
mg_json *mg_auth_user_json(mg_arena *a, const mg_store_user *u, int64_t now_us);

/* First start: when the store has no user at all, creates the security administrator "secadmin"
 * with a random password that must be changed at first login, and prints the password once to
 * err, or writes it to a new 0600 file when cfg->first_admin_file is set. *created (may be NULL)
 * tells whether it did. */
int mg_auth_bootstrap(mg_store *s, const mg_config *cfg, FILE *err, int *created);

#endif
