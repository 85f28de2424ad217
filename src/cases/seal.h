/* cases/seal.h — integrity tags on decision records (case decisions, credit decisions).
 *
 * A decision row carries a tag over its canonical bytes, recomputed and compared on every read,
 * so a decision edited directly in the database is detected (MG_ECORRUPT) instead of being acted
 * on. The tag is "sm3:" + hex HMAC-SM3(key, domain ‖ 0x00 ‖ bytes); domain ("case", "credit")
 * keeps a tag of one kind of record from validating another.
 *
 * Key: until the crypto unit (src/crypto, mg_crypto_mac, keys outside the database) is on main,
 * the key is 32 random bytes generated on first use and kept in the store (table cases_mac_key).
 * That detects edits by anyone who does not also read that row, not by someone with full database
 * access; switching to mg_crypto_mac changes only seal.c. */
#ifndef MG_CASES_SEAL_H
#define MG_CASES_SEAL_H

#include <stddef.h>

#include "store/store.h"

#define MG_CASES_TAG_SIZE 96 /* room for "mgm1.<key id>.<64 hex>" (crypto.h) and "sm3:<64 hex>" */

/* Writes the tag of (domain, data) into out (NUL-terminated); size is at least
 * MG_CASES_TAG_SIZE (MG_EINVAL otherwise). */
int mg_cases_seal(mg_store *s, const char *domain, const void *data, size_t len, char *out,
                  size_t size);
/* MG_OK when tag is the tag of (domain, data); MG_ECORRUPT when not (including an empty tag). */
int mg_cases_seal_check(mg_store *s, const char *domain, const void *data, size_t len,
                        const char *tag);

#endif
