/* auth/password.h — password policy, argon2id hashing and generated passwords.
 *
 * Policy (GB/T 22239-2019 8.1.4.1 身份鉴别, complexity): at least 12 characters, three of the four
 * classes lower case / upper case / digit / other, not the user name and not containing it, not
 * one of a list of common passwords, and not the current or previous password (checked by the
 * caller with mg_auth_password_verify, which needs the hashes). Hashes are libsodium
 * crypto_pwhash_str strings (argon2id); the cost is a setting so tests can use a cheaper one. */
#ifndef MG_AUTH_PASSWORD_H
#define MG_AUTH_PASSWORD_H

#include <stddef.h>

#define MG_AUTH_PASSWORD_MIN 12
#define MG_AUTH_PASSWORD_MAX 128 /* bytes */
#define MG_AUTH_HASH_MAX 160

typedef enum mg_auth_hash_cost {
  MG_AUTH_HASH_MODERATE = 0,    /* crypto_pwhash_*_MODERATE: 3 passes, 256 MiB */
  MG_AUTH_HASH_INTERACTIVE = 1, /* 2 passes, 64 MiB */
} mg_auth_hash_cost;

/* Parses "moderate" / "interactive". MG_OK or MG_EINVAL. */
int mg_auth_hash_cost_parse(const char *s, mg_auth_hash_cost *out);

/* Checks password against the policy for username. MG_OK, or MG_EINVAL with a bilingual reason
 * (Chinese first) in why. */
int mg_auth_password_policy(const char *password, const char *username, char *why,
                            size_t why_size);

/* Hashes password into out (NUL-terminated argon2id string). MG_OK, MG_EINVAL (too long),
 * MG_ECRYPTO or MG_ENOMEM. */
int mg_auth_password_hash(const char *password, mg_auth_hash_cost cost,
                          char out[MG_AUTH_HASH_MAX]);

/* 1 if password matches hash, else 0 (also for an empty or malformed hash). */
int mg_auth_password_verify(const char *hash, const char *password);

/* Spends the time of one verification against a fixed dummy hash of the given cost, so an unknown
 * user name takes as long to refuse as a wrong password. */
void mg_auth_password_burn(const char *password, mg_auth_hash_cost cost);

/* Writes a random 20-character password that meets the policy into out (size >= 21). */
int mg_auth_password_generate(char *out, size_t size);

#endif
