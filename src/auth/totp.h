/* auth/totp.h — time-based one-time passwords (RFC 6238: HMAC-SHA-1, 6 digits, 30 s steps).
 *
 * The second factor of the roles that must have one (auth/capability.h). A code is accepted for
 * the current step and one step either side (clock drift), and only for a step later than the
 * last one the user has used, so a code seen over a shoulder or in a log cannot be replayed. */
#ifndef MG_AUTH_TOTP_H
#define MG_AUTH_TOTP_H

#include <stddef.h>
#include <stdint.h>

#define MG_TOTP_SECRET_LEN 20 /* bytes, as RFC 4226 recommends for SHA-1 */
#define MG_TOTP_STEP_S 30
#define MG_TOTP_DIGITS 6

/* The HOTP value of key for counter step, truncated to digits (6..8) decimal digits. */
int mg_auth_totp_code(const uint8_t *key, size_t key_len, int64_t step, int digits,
                      uint32_t *out);

/* Checks a 6-digit code typed by the user at now_s (Unix seconds) against steps now-1..now+1,
 * skipping steps <= last_step (already used). On a match *step_out gets the step, to be recorded
 * with mg_store_user_totp_use. MG_OK, or MG_EAUTH (wrong, malformed or replayed). */
int mg_auth_totp_check(const uint8_t *key, size_t key_len, const char *code, int64_t now_s,
                       int64_t last_step, int64_t *step_out);

/* A new random secret, as hex (2*MG_TOTP_SECRET_LEN + 1 bytes) and as RFC 4648 base32 (what
 * authenticator apps take; 33 bytes). */
int mg_auth_totp_new_secret(char hex[2 * MG_TOTP_SECRET_LEN + 1], char b32[33]);
/* Decodes a hex secret into key (MG_TOTP_SECRET_LEN bytes). MG_OK or MG_EINVAL. */
int mg_auth_totp_secret_decode(const char *hex, uint8_t key[MG_TOTP_SECRET_LEN]);

/* The form a secret is stored in: sealed with the field key (crypto.h, field
 * "user.totp_secret") when the key directory is loaded, else the hex itself (logged as a
 * warning). MG_ETOOBIG when out is too small. */
int mg_auth_totp_secret_seal(const char *hex, char *out, size_t size);
/* Recovers the key from the stored form (sealed token or hex). MG_EINVAL, MG_ECORRUPT
 * (tampered), MG_ECRYPTO (its key is not loaded). */
int mg_auth_totp_secret_unseal(const char *stored, uint8_t key[MG_TOTP_SECRET_LEN]);
/* Base32 (RFC 4648, no padding) of len bytes into out. MG_OK or MG_ETOOBIG. */
int mg_auth_base32(const uint8_t *in, size_t len, char *out, size_t out_size);

#endif
