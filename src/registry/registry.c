/* registry/registry.c — refusals, input checks, dates and masks shared by the registry units. */
#include "registry/registry.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"

int mg_registry_refuse(mg_registry_why *why, int err, const char *code, const char *fmt, ...) {
  if (why) {
    snprintf(why->code, sizeof why->code, "%s", code);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why->message, sizeof why->message, fmt, ap);
    va_end(ap);
  }
  return err;
}

/* Length of the valid UTF-8 sequence at p (no overlongs, surrogates, > U+10FFFF), 0 if invalid. */
static size_t utf8_seq(const unsigned char *p, size_t left) {
  unsigned c = p[0];
  if (c < 0x80) return 1;
  size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
  if (!n || n > left || c > 0xF4) return 0;
  for (size_t i = 1; i < n; i++)
    if ((p[i] & 0xC0) != 0x80) return 0;
  if (n == 3 && ((c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] >= 0xA0))) return 0;
  if (n == 4 && ((c == 0xF0 && p[1] < 0x90) || (c == 0xF4 && p[1] >= 0x90))) return 0;
  return n;
}

int mg_registry_check_text(const char *field, const char *s, size_t max, int optional,
                           mg_registry_why *why) {
  if (!s || !*s) {
    if (optional) return MG_OK;
    return mg_registry_refuse(why, MG_EINVAL, "invalid_field", "%s：必填 / %s is required", field,
                              field);
  }
  size_t len = strlen(s);
  if (len > max)
    return mg_registry_refuse(why, MG_EINVAL, "invalid_field",
                              "%s：过长 / %s is longer than %zu bytes", field, field, max);
  const unsigned char *p = (const unsigned char *)s;
  for (size_t i = 0; i < len;) {
    size_t n = utf8_seq(p + i, len - i);
    if (!n || p[i] < 0x20 || p[i] == 0x7F)
      return mg_registry_refuse(why, MG_EINVAL, "invalid_field",
                                "%s：含非法字符 / %s has invalid UTF-8 or a control character at "
                                "byte %zu",
                                field, field, i);
    i += n;
  }
  return MG_OK;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  unsigned yoe = (unsigned)(y - era * 400);
  unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + (int64_t)doe - 719468;
}

static int parse_date(const char *s, int64_t *days) {
  if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-') return MG_EINVAL;
  int v[3] = {0, 0, 0};
  const int pos[3] = {0, 5, 8}, len[3] = {4, 2, 2};
  for (int k = 0; k < 3; k++)
    for (int i = 0; i < len[k]; i++) {
      char c = s[pos[k] + i];
      if (c < '0' || c > '9') return MG_EINVAL;
      v[k] = v[k] * 10 + (c - '0');
    }
  static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (v[0] < 1900 || v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > mdays[v[1] - 1]) return MG_EINVAL;
  int leap = (v[0] % 4 == 0 && v[0] % 100 != 0) || v[0] % 400 == 0;
  if (v[1] == 2 && v[2] == 29 && !leap) return MG_EINVAL;
  *days = days_from_civil(v[0], (unsigned)v[1], (unsigned)v[2]);
  return MG_OK;
}

int mg_registry_check_date(const char *field, const char *s, mg_registry_why *why) {
  int64_t d;
  if (parse_date(s, &d))
    return mg_registry_refuse(why, MG_EINVAL, "invalid_field",
                              "%s：日期格式应为 YYYY-MM-DD / %s must be a date YYYY-MM-DD", field,
                              field);
  return MG_OK;
}

int mg_registry_days_since(const char *a, int64_t now_us, int64_t *days) {
  int64_t d;
  if (parse_date(a, &d)) return MG_EINVAL;
  int64_t today = now_us / 86400000000LL - (now_us < 0 && now_us % 86400000000LL ? 1 : 0);
  *days = today - d;
  return MG_OK;
}

void mg_registry_date_of(int64_t now_us, char out[11]) {
  int64_t z = now_us / 86400000000LL + 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  unsigned doe = (unsigned)(z - era * 146097);
  unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = (int64_t)yoe + era * 400;
  unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  unsigned mp = (5 * doy + 2) / 153;
  unsigned d = doy - (153 * mp + 2) / 5 + 1;
  unsigned m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
  char tmp[48];
  snprintf(tmp, sizeof tmp, "%04u-%02u-%02u", (unsigned)(y < 0 ? 0 : y % 10000), m, d);
  memcpy(out, tmp, 10);
  out[10] = 0;
}

int mg_registry_max_content_age(mg_store *s, int64_t *days) {
  char v[32];
  *days = MG_REGISTRY_MAX_CONTENT_AGE_DAYS;
  if (mg_store_setting_get(s, "registry.max_content_age_days", v, sizeof v) == MG_OK) {
    char *end = NULL;
    long long n = strtoll(v, &end, 10);
    if (end != v && !*end && n > 0 && n < 100000) *days = n;
  }
  return MG_OK;
}

void mg_registry_mask_student_no(const char *no, char *out, size_t size) {
  size_t n = strlen(no);
  if (!size) return;
  if (n <= 4) { /* too short to show any of it */
    snprintf(out, size, "****");
    return;
  }
  size_t keep_head = n >= 8 ? 4 : 2, keep_tail = n >= 8 ? 2 : 1;
  size_t o = 0;
  for (size_t i = 0; i < n && o + 1 < size; i++)
    out[o++] = (i < keep_head || i >= n - keep_tail) ? no[i] : '*';
  out[o] = 0;
}

void mg_registry_mask_name(const char *name, char *out, size_t size) {
  if (!size) return;
  const unsigned char *p = (const unsigned char *)name;
  size_t len = strlen(name);
  size_t first = len ? utf8_seq(p, len) : 0;
  if (!first) first = len ? 1 : 0;
  size_t chars = 0;
  for (size_t i = first; i < len;) {
    size_t n = utf8_seq(p + i, len - i);
    i += n ? n : 1;
    chars++;
  }
  if (!chars) chars = 1; /* a one-character name still hides something */
  size_t o = 0;
  if (first + 1 > size) {
    out[0] = 0;
    return;
  }
  memcpy(out, name, first);
  o = first;
  for (size_t i = 0; i < chars && o + 1 < size; i++) out[o++] = '*';
  out[o] = 0;
}
