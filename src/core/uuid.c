#include "core/uuid.h"

#include <sodium.h>

#include "core/err.h"

void mg_uuid_v4(uint8_t out[16]) {
  randombytes_buf(out, 16);
  out[6] = (uint8_t)((out[6] & 0x0f) | 0x40);
  out[8] = (uint8_t)((out[8] & 0x3f) | 0x80);
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

int mg_uuid_parse(const char *s, uint8_t out[16]) {
  int j = 0;
  if (!s) return MG_EINVAL;
  for (int i = 0; i < 36; i++) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-') return MG_EINVAL;
      continue;
    }
    int hi = hexval(s[i]);
    if (hi < 0) return MG_EINVAL;
    int lo = hexval(s[++i]);
    if (lo < 0) return MG_EINVAL;
    out[j++] = (uint8_t)(hi << 4 | lo);
  }
  return s[36] == '\0' ? MG_OK : MG_EINVAL;
}

void mg_uuid_format(const uint8_t in[16], char out[MG_UUID_STR_LEN]) {
  static const char hex[] = "0123456789abcdef";
  int j = 0;
  for (int i = 0; i < 16; i++) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out[j++] = '-';
    out[j++] = hex[in[i] >> 4];
    out[j++] = hex[in[i] & 15];
  }
  out[j] = '\0';
}
