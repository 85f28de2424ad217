/* cases/seal.h — integrity tags on decision records (case decisions, credit decisions).
 *
 * A decision row carries a tag over its canonical bytes, recomputed and compared on every read,
 * so a decision edited directly in the database is detected (MG_ECORRUPT) instead of being acted
 * on. The tag is the crypto unit's record MAC (crypto.h mg_crypto_mac: HMAC-SM3 under a key from
 * the key directory, outside the database, "mgm1.<key id>.<hex>"), with the purpose naming the kind
 * of record ("case.decision", "credit.decision") so a tag of one kind never validates another.
 * When no keyring is loaded yet, the store's default key directory is loaded (created on first
 * start), as the audit log does. */
#ifndef MG_CASES_SEAL_H
#define MG_CASES_SEAL_H

#include <stddef.h>

#include "crypto/crypto.h"
#include "store/store.h"

#define MG_CASES_TAG_SIZE MG_CRYPTO_MAC_LEN

/* Writes the tag of (purpose, data) into out (NUL-terminated); size is at least
 * MG_CASES_TAG_SIZE (MG_EINVAL otherwise). MG_ECRYPTO when no key can be loaded. */
int mg_cases_seal(mg_store *s, const char *purpose, const void *data, size_t len, char *out,
                  size_t size);
/* MG_OK when tag is the tag of (purpose, data); MG_ECORRUPT when not (including an empty or
 * malformed tag); MG_ECRYPTO when its key is not in the key directory. */
int mg_cases_seal_check(mg_store *s, const char *purpose, const void *data, size_t len,
                        const char *tag);

#endif
