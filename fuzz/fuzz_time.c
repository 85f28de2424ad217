/* fuzz/fuzz_time.c — libFuzzer harness for ISO 8601 timestamps and durations (core/time.h).
 *
 * Input: the text (cut at the first NUL, as a C string would be). Checked:
 *  - mg_time_parse_iso: MG_OK or MG_EINVAL; the RFC 3339 mode accepts everything the strict
 *    mode accepts, with the same result, and the strict mode accepts the RFC 3339 spellings
 *    once 't', ' ' and 'z' are written 'T', 'T' and 'Z';
 *  - a parse agrees with an independent computation through timegm(3) of the date, time and
 *    offset read from the text (second 60 taken as 59, as time.c documents);
 *  - mg_time_format_iso(us, 6) parses back to the same instant, and (us, 3) to the instant
 *    truncated to the millisecond, for instants whose year is 0000..9999 (time.c clamps the
 *    year of others when formatting, so only the re-parse is checked for those);
 *  - mg_time_parse_duration: MG_OK or MG_EINVAL, and a parsed duration is not negative or NaN. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fuzz_common.h"

#include "core/time.h"

/* 0000-01-01T00:00:00Z and 10000-01-01T00:00:00Z in microseconds. */
#define MIN_US (INT64_C(-62167219200) * 1000000)
#define END_US (INT64_C(253402300800) * 1000000)

static int num(const char *s, int n) {
  int v = 0;
  for (int i = 0; i < n; i++) v = v * 10 + (s[i] - '0');
  return v;
}

/* The instant a successfully parsed s denotes, computed without time.c. The layout of the first
 * 16 bytes ("YYYY-MM-DDTHH:MM") is fixed once the parse succeeded. */
static int64_t reference_us(const char *s) {
  struct tm tm;
  memset(&tm, 0, sizeof tm);
  tm.tm_year = num(s, 4) - 1900;
  tm.tm_mon = num(s + 5, 2) - 1;
  tm.tm_mday = num(s + 8, 2);
  tm.tm_hour = num(s + 11, 2);
  tm.tm_min = num(s + 14, 2);
  const char *p = s + 16;
  int64_t frac = 0;
  if (*p == ':') {
    tm.tm_sec = num(p + 1, 2);
    if (tm.tm_sec == 60) tm.tm_sec = 59;
    p += 3;
    if (*p == '.' || *p == ',') {
      int64_t scale = 100000;
      for (p++; *p >= '0' && *p <= '9'; p++) {
        frac += (*p - '0') * scale;
        scale /= 10;
      }
    }
  }
  int64_t offset_min = 0;
  if (*p == '+' || *p == '-') {
    int sign = *p == '-' ? -1 : 1;
    int oh = num(p + 1, 2), om = 0;
    if (p[3] == ':') om = num(p + 4, 2);
    else if (p[3]) om = num(p + 3, 2);
    offset_min = sign * (oh * 60 + om);
  }
  time_t t = timegm(&tm); /* normalises hour 24 to the next day */
  return ((int64_t)t - offset_min * 60) * 1000000 + frac;
}

static void check_format(int64_t us) {
  char out[MG_TIME_ISO_LEN];
  mg_timestamp t;
  mg_time_format_iso(us, 6, out);
  FUZZ_CHECK(memchr(out, '\0', sizeof out) != NULL);
  int rc = mg_time_parse_iso(out, 0, &t);
  if (rc) fprintf(stderr, "formatted %lld as '%s', which does not parse\n", (long long)us, out);
  FUZZ_CHECK(rc == MG_OK && t.has_tz && t.offset_min == 0 && t.frac_digits == 6);
  int in_range = us >= MIN_US && us < END_US;
  if (in_range) {
    if (t.us != us) fprintf(stderr, "%lld -> '%s' -> %lld\n", (long long)us, out, (long long)t.us);
    FUZZ_CHECK(t.us == us);
  }
  mg_time_format_iso(us, 3, out);
  FUZZ_CHECK(mg_time_parse_iso(out, 0, &t) == MG_OK && t.frac_digits == 3);
  if (in_range) {
    int64_t ms = us >= 0 ? us / 1000 : -((-us + 999) / 1000);
    FUZZ_CHECK(t.us == ms * 1000);
  }
  char http[40];
  mg_time_format_http(us, http);
  FUZZ_CHECK(memchr(http, '\0', sizeof http) != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *s = fuzz_cstr(data, size);
  if (!s) return 0;
  mg_timestamp strict, rfc;
  int rs = mg_time_parse_iso(s, 0, &strict);
  int rr = mg_time_parse_iso(s, 1, &rfc);
  FUZZ_CHECK(rs == MG_OK || rs == MG_EINVAL);
  FUZZ_CHECK(rr == MG_OK || rr == MG_EINVAL);
  if (rs == MG_OK) FUZZ_CHECK(rr == MG_OK && memcmp(&strict, &rfc, sizeof strict) == 0);
  if (rr == MG_OK) {
    /* the strict spelling of the same text */
    size_t n = strlen(s);
    FUZZ_CHECK(n >= 16);
    char *u = fuzz_cstr((const uint8_t *)s, n);
    FUZZ_CHECK(u != NULL);
    if (u[10] == 't' || u[10] == ' ') u[10] = 'T';
    if (u[n - 1] == 'z') u[n - 1] = 'Z';
    mg_timestamp t;
    FUZZ_CHECK(mg_time_parse_iso(u, 0, &t) == MG_OK && memcmp(&t, &rfc, sizeof t) == 0);
    free(u);

    FUZZ_CHECK(rfc.offset_min > -24 * 60 && rfc.offset_min < 24 * 60);
    FUZZ_CHECK(rfc.frac_digits >= 0 && (size_t)rfc.frac_digits < n);
    if (!rfc.has_tz) FUZZ_CHECK(rfc.offset_min == 0 && !rfc.negative_zero);
    int64_t ref = reference_us(s);
    if (ref != rfc.us)
      fprintf(stderr, "'%s': time.c %lld, timegm %lld\n", s, (long long)rfc.us, (long long)ref);
    FUZZ_CHECK(ref == rfc.us);
    check_format(rfc.us);
  }

  double secs = -1;
  int rd = mg_time_parse_duration(s, &secs);
  FUZZ_CHECK(rd == MG_OK || rd == MG_EINVAL);
  if (rd == MG_OK) FUZZ_CHECK(!isnan(secs) && secs >= 0);
  free(s);
  return 0;
}
