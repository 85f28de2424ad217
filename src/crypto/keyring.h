/* crypto/keyring.h — the key directory: field master keys and audit signing keys, outside the
 * database.
 *
 * Default location: "<store path>.keys/" beside the SQLite file (setting keys-dir overrides it).
 * The directory must be mode 0700 and every key file 0600, owned by the server's user; looser
 * permissions are refused (the server does not start). On first start (no directory, or an
 * empty one) the directory, one field master key and one Ed25519 signing key are generated.
 * A directory holding only some of them is refused ("key missing"): keys are never silently
 * replaced, since old ciphertexts and signatures depend on them.
 *
 * Files: field-NNNNNNNN.key (32-byte master key, hex) and sign-NNNNNNNN.key (32-byte Ed25519
 * seed, hex); NNNNNNNN is the key id in decimal. The highest id of each kind is the current one.
 * Rotation writes a new file with the next id; older keys stay for reading and verifying.
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

/* Rotation: writes the next field key (sign = 0) or signing key (sign = 1) into the loaded
 * directory and makes it current; *new_id (may be NULL) gets its id. */
int mg_keyring_rotate(int sign, uint32_t *new_id);

typedef struct mg_keyring_status {
  uint32_t field_current, n_field;
  uint32_t sign_current, n_sign;
  char sign_public_hex[65]; /* the current signing key's public key */
} mg_keyring_status;
int mg_keyring_status_get(mg_keyring_status *out);

/* Signs msg with the current signing key: *key_id and the 64-byte Ed25519 signature. */
int mg_keyring_sign(const void *msg, size_t n, uint32_t *key_id, uint8_t sig[64]);
/* The public key of signing key key_id. MG_ENOTFOUND if the directory has no such key. */
int mg_keyring_sign_public(uint32_t key_id, uint8_t pk[32]);
/* MG_OK if sig is key key_id's signature of msg; MG_ECORRUPT if not; MG_ENOTFOUND: no such key. */
int mg_keyring_verify(uint32_t key_id, const void *msg, size_t n, const uint8_t sig[64]);

#endif
