/* crypto/crypto.h — the commercial-cryptography (GM/T) primitives moocguard uses, field
 * encryption, record MACs and masking of personal data for display.
 *
 * SM3 (GB/T 32905) for digests and the audit hash chain, HMAC-SM3 for MACs and key derivation,
 * SM4 (GB/T 32907) in CTR mode with HMAC-SM3 encrypt-then-MAC for personal fields stored in the
 * database (national ID, phone, TOTP secrets). Keys come from the key directory (keyring.h), never
 * from the database; tokens and MACs carry the id of the key that made them, so they stay readable
 * after a rotation. docs/crypto.md specifies every byte so an outside auditor can recompute them.
 * All functions are thread-safe. */
#ifndef MG_CRYPTO_CRYPTO_H
#define MG_CRYPTO_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define MG_SM3_LEN 32
#define MG_SM3_HEX 65      /* 64 lower-case hex digits and a NUL */
#define MG_SHA256_HEX 65
#define MG_CRYPTO_MAC_LEN 96 /* room for "mgm1.<key id>.<64 hex>" and a NUL */

/* ---- primitives ---------------------------------------------------------------------------- */

/* SM3 digest of n bytes at p (p may be NULL when n is 0). MG_OK or MG_ECRYPTO. */
int mg_sm3(const void *p, size_t n, uint8_t out[MG_SM3_LEN]);
/* The same as lower-case hex. */
int mg_sm3_hex(const void *p, size_t n, char out[MG_SM3_HEX]);
/* HMAC-SM3 (RFC 2104 with SM3) of msg under key. */
int mg_hmac_sm3(const void *key, size_t key_len, const void *msg, size_t n,
                uint8_t out[MG_SM3_LEN]);
/* SM4-CTR: out = in XOR keystream(key, iv); the same call decrypts. out may equal in. The counter
 * is the whole 128-bit IV, incremented big-endian per block (GB/T 17964 CTR). */
int mg_sm4_ctr(const uint8_t key[16], const uint8_t iv[16], const void *in, size_t n, void *out);
/* Lower-case hex of n bytes into out (2n + 1 bytes). */
void mg_hex(const void *p, size_t n, char *out);
/* Digest of a whole file, "sha256" or "sm3", as lower-case hex. MG_EIO if unreadable. */
int mg_crypto_file_digest(const char *path, const char *alg, char out[MG_SM3_HEX]);

/* ---- field encryption (keys from the key directory: mg_keyring_init first) ------------------ */

/* Encrypts plaintext for the named field ("user.phone", "student.national_id", ...) with the
 * current field key. *token gets a malloc'd NUL-terminated ASCII token "mgf1.<key id>.<base64url>"
 * (caller frees). The field name is bound into the MAC: a token cannot be moved to another
 * field. MG_ECRYPTO when no keys are loaded. */
int mg_crypto_seal(const char *field, const void *plaintext, size_t n, char **token);
/* Checks and decrypts a token made by mg_crypto_seal for the same field. *plaintext gets a
 * malloc'd buffer with a NUL after the n bytes (caller frees). MG_EINVAL: not a token;
 * MG_ECORRUPT: MAC mismatch (tampered, wrong field); MG_ECRYPTO: its key is not in the key
 * directory. */
int mg_crypto_open(const char *field, const char *token, char **plaintext, size_t *n);
/* Integrity tag of a record's canonical bytes for a purpose ("finding", "case.decision",
 * "credit.decision", ...): "mgm1.<key id>.<hex HMAC-SM3>" into out. */
int mg_crypto_mac(const char *purpose, const void *p, size_t n, char out[MG_CRYPTO_MAC_LEN]);
/* MG_OK if mac is the tag of these bytes for this purpose; MG_ECORRUPT if not; MG_EINVAL if it
 * is not a tag; MG_ECRYPTO if its key is not in the key directory. Constant-time compare. */
int mg_crypto_mac_verify(const char *purpose, const void *p, size_t n, const char *mac);

/* ---- masking for display (lists, exports, logs) ---------------------------------------------
 * Each writes a NUL-terminated result into out; MG_ETOOBIG if it does not fit, MG_EINVAL on a
 * NULL input or (names) invalid UTF-8. Inputs shorter than 8 characters (ID, phone) are masked
 * completely. */
/* National ID: first 3 and last 4 kept: 110101199003071234 -> 110***********1234. */
int mg_crypto_mask_id(const char *id, char *out, size_t size);
/* Phone: first 3 and last 4 kept: 13812345678 -> 138****5678. */
int mg_crypto_mask_phone(const char *phone, char *out, size_t size);
/* Personal name: first character kept, one '*' per further character: 张三 -> 张*,
 * 欧阳娜娜 -> 欧***; a one-character name becomes "*". */
int mg_crypto_mask_name(const char *name, char *out, size_t size);

#endif
