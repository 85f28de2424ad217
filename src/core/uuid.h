/* core/uuid.h — RFC 4122 UUIDs: random generation, parsing and canonical text form. */
#ifndef MG_CORE_UUID_H
#define MG_CORE_UUID_H

#include <stdint.h>

#define MG_UUID_STR_LEN 37 /* 36 characters and a NUL */

/* Fills out with a random (version 4) UUID. */
void mg_uuid_v4(uint8_t out[16]);
/* Parses the 8-4-4-4-12 hex form, either case. MG_OK or MG_EINVAL. Does not check the variant. */
int mg_uuid_parse(const char *s, uint8_t out[16]);
/* Canonical lower-case text form. */
void mg_uuid_format(const uint8_t in[16], char out[MG_UUID_STR_LEN]);

#endif
