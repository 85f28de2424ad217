/* crypto/keyring.h — the key directory: field master keys and audit signing keys, outside the
 * database.
 *
 * Default location: "<store path>.keys/" beside the SQLite file (setting keys-dir overrides it).
 * The directory must be mode 0700 and every key file 0600, owned by the server's user; looser
 * permissions are refused (the server does not start). On first start (no directory, or an
 * empty one) the directory, one field master key and one SM2 signing key are generated.
 * A directory holding only some of them is refused ("key missing"): keys are never silently
 * replaced, since old ciphertexts and signatures depend on them. The one addition: a directory
 * from before SM2 (field and Ed25519 keys, no SM2 key) gets its first SM2 key when loaded with
 * MG_KEYRING_CREATE; its Ed25519 keys stay, to verify the checkpoints they signed.
 *
 * Files (each 64 hex digits and a newline): field-NNNNNNNN.key (32-byte master key),
 * sm2-NNNNNNNN.key (SM2 private scalar d, crypto/sm2.h) and sign-NNNNNNNN.key (32-byte Ed25519
 * seed; legacy, verify only: no new Ed25519 signatures are made). NNNNNNNN is the key id in
 * decimal, counted per kind. The highest id of each kind is the current one. Rotation writes a
 * new file with the next id; older keys stay for reading and verifying.
 * The keyring is process-wide; loading is thread-safe against concurrent use. */
#ifndef MG_CRYPTO_KEYRING_H
#define MG_CRYPTO_KEYRING_H

#include <stddef.h>
#include <stdint.h>

#define MG_KEYRING_CREATE 1 /* generate the directory and first keys when absent */

/* The default key directory of a store URL ("sqlite:PATH" or PATH -> "PATH.keys"). MG_ENOTSUP
 * for URLs without a file path (postgres://: give keys-dir). */
int mg_keyring_dir_for_store(const char *store_url, char *out, size_t size);
/* Loads (and with MG_KEYRING_CREATE, creates) the key directory and makes it the process's
 * keyring, replacing any loaded before. MG_EFORBIDDEN: permissions too loose or wrong owner;
 * MG_ECRYPTO: a key is missing or malformed; MG_EIO. The reason is logged (keys.error). */
int mg_keyring_init(const char *dir, int flags);
/* Forgets the loaded keys (wiping them from memory). */
void mg_keyring_shutdown(void);
/* True when keys are loaded. */
int mg_keyring_ready(void);
/* The loaded directory's path into out; MG_ECRYPTO when none is loaded. */
int mg_keyring_dir(char *out, size_t size);
/* Re-reads the loaded directory (picks up keys rotated by another process). */
int mg_keyring_reload(void);

/* Rotation: writes the next field key (sign = 0) or SM2 signing key (sign = 1) into the loaded
 * directory and makes it current; *new_id (may be NULL) gets its id. */
int mg_keyring_rotate(int sign, uint32_t *new_id);

typedef struct mg_keyring_status {
  uint32_t field_current, n_field;
  uint32_t sign_current, n_sign; /* SM2 signing keys (0, 0 in a pre-SM2 directory not yet
                                    upgraded) */
  char sign_public_hex[131];     /* the current SM2 public key, hex of 04 || x || y; "" if none */
  uint32_t n_ed25519;            /* legacy Ed25519 keys (verify only) */
} mg_keyring_status;
int mg_keyring_status_get(mg_keyring_status *out);

/* Signs msg with the current SM2 key (SM3, ID "1234567812345678"): *key_id and the signature
 * r || s. MG_ECRYPTO when no keyring or no SM2 key is loaded. */
int mg_keyring_sm2_sign(const void *msg, size_t n, uint32_t *key_id, uint8_t sig[64]);
/* The public key (04 || x || y) of SM2 key key_id. MG_ENOTFOUND if the directory has none. */
int mg_keyring_sm2_public(uint32_t key_id, uint8_t pk[65]);
/* MG_OK if sig is SM2 key key_id's signature of msg; MG_ECORRUPT if not; MG_ENOTFOUND: no key. */
int mg_keyring_sm2_verify(uint32_t key_id, const void *msg, size_t n, const uint8_t sig[64]);
/* The ids of all SM2 keys, ascending, into ids (room for cap); *n gets the count. MG_ETOOBIG
 * when cap is too small. */
int mg_keyring_sm2_ids(uint32_t *ids, size_t cap, size_t *n);

/* Legacy Ed25519 keys (checkpoints written before SM2): the public key of key_id, and
 * verification, with the same results as the SM2 calls. */
int mg_keyring_ed25519_public(uint32_t key_id, uint8_t pk[32]);
int mg_keyring_ed25519_verify(uint32_t key_id, const void *msg, size_t n, const uint8_t sig[64]);

#endif
