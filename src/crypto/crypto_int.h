/* crypto/crypto_int.h — private to src/crypto: master key access for crypto.c. */
#ifndef MG_CRYPTO_CRYPTO_INT_H
#define MG_CRYPTO_CRYPTO_INT_H

#include <stdint.h>

/* Copies field master key `want` (0: the current one) into key and its id into *id.
 * MG_ECRYPTO when no keyring is loaded; MG_ENOTFOUND when the key id is unknown. Callers wipe
 * the copy (sodium_memzero) when done. */
int mg_keyring_field_key(uint32_t want, uint32_t *id, uint8_t key[32]);

#endif
