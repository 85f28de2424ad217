#include "core/time.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/err.h"

int64_t mg_time_now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t mg_time_mono_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (Howard Hinnant's method). */
static int64_t days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  *d = (int)(doy - (153 * mp + 2) / 5 + 1);
  *m = (int)(mp < 10 ? mp + 3 : mp - 9);
  *y = yoe + era * 400 + (*m <= 2);
}

static int digits(const char **p, int n, int *out) {
  int v = 0;
  for (int i = 0; i < n; i++) {
    char c = (*p)[i];
    if (c < '0' || c > '9') return 0;
    v = v * 10 + (c - '0');
  }
  *p += n;
  *out = v;
  return 1;
}

static int is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int mg_time_parse_iso(const char *s, int allow_rfc3339, mg_timestamp *out) {
  static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const char *p = s;
  int y, mo, d, h, mi, sec = 0;
  memset(out, 0, sizeof *out);
  if (!s) return MG_EINVAL;
  if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo) || *p++ != '-' || !digits(&p, 2, &d))
    return MG_EINVAL;
  if (*p == 'T' || (allow_rfc3339 && (*p == 't' || *p == ' ')))
    p++;
  else
    return MG_EINVAL;
  if (!digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &mi)) return MG_EINVAL;
  int64_t frac_us = 0;
  if (*p == ':') {
    p++;
    if (!digits(&p, 2, &sec)) return MG_EINVAL;
    if (*p == '.' || *p == ',') {
      p++;
      int n = 0;
      int64_t scale = 100000;
      while (*p >= '0' && *p <= '9') {
        if (n < 6) {
          frac_us += (*p - '0') * scale;
          scale /= 10;
        }
        n++;
        p++;
      }
      if (n == 0) return MG_EINVAL;
      out->frac_digits = n;
    }
  }
  if (mo < 1 || mo > 12 || d < 1) return MG_EINVAL;
  int md = mdays[mo - 1] + (mo == 2 && is_leap(y));
  if (d > md || h > 24 || mi > 59 || sec > 60) return MG_EINVAL;
  if (h == 24 && (mi || sec || frac_us)) return MG_EINVAL;
  int offset = 0;
  if (*p == 'Z' || (allow_rfc3339 && *p == 'z')) {
    out->has_tz = 1;
    p++;
  } else if (*p == '+' || *p == '-') {
    int neg = *p == '-';
    int oh, om = 0;
    p++;
    if (!digits(&p, 2, &oh)) return MG_EINVAL;
    if (*p == ':') {
      p++;
      if (!digits(&p, 2, &om)) return MG_EINVAL;
    } else if (*p >= '0' && *p <= '9') {
      if (!digits(&p, 2, &om)) return MG_EINVAL;
    }
    if (oh > 23 || om > 59) return MG_EINVAL;
    offset = (oh * 60 + om) * (neg ? -1 : 1);
    out->has_tz = 1;
    out->negative_zero = neg && oh == 0 && om == 0;
  }
  if (*p != '\0') return MG_EINVAL;
  if (sec == 60) sec = 59; /* leap second: clamp, the instant is still well ordered */
  int64_t days = days_from_civil(y, mo, d);
  int64_t secs = days * 86400 + h * 3600 + mi * 60 + sec - (int64_t)offset * 60;
  out->us = secs * 1000000 + frac_us;
  out->offset_min = offset;
  return MG_OK;
}

/* Writes v (0 <= v < 10^n) as exactly n decimal digits. */
static void put_digits(char **o, int v, int n) {
  for (int i = n - 1; i >= 0; i--) {
    (*o)[i] = (char)('0' + v % 10);
    v /= 10;
  }
  *o += n;
}

void mg_time_format_iso(int64_t us, int ndigits, char out[MG_TIME_ISO_LEN]) {
  int64_t secs = us >= 0 ? us / 1000000 : -((-us + 999999) / 1000000);
  int64_t frac = us - secs * 1000000;
  int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
  int64_t rem = secs - days * 86400;
  int64_t y;
  int m, d;
  civil_from_days(days, &y, &m, &d);
  int h = (int)(rem / 3600), mi = (int)(rem / 60 % 60), s = (int)(rem % 60);
  /* ISO 8601 basic years are four digits; instants outside 0000..9999 are clamped */
  int year = y < 0 ? 0 : y > 9999 ? 9999 : (int)y;
  int f = (int)frac; /* 0..999999 */
  /* digits written directly: every stored statement gets one (snprintf was ~1 us of it) */
  char *o = out;
  put_digits(&o, year, 4);
  *o++ = '-';
  put_digits(&o, m % 100, 2);
  *o++ = '-';
  put_digits(&o, d % 100, 2);
  *o++ = 'T';
  put_digits(&o, h % 100, 2);
  *o++ = ':';
  put_digits(&o, mi % 100, 2);
  *o++ = ':';
  put_digits(&o, s % 100, 2);
  *o++ = '.';
  if (ndigits == 6) put_digits(&o, f % 1000000, 6);
  else put_digits(&o, (f / 1000) % 1000, 3);
  *o++ = 'Z';
  *o = '\0';
}

void mg_time_format_http(int64_t us, char out[40]) {
  static const char *wd[] = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"};
  static const char *mn[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                             "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  int64_t secs = us / 1000000;
  int64_t days = secs / 86400;
  int64_t rem = secs % 86400;
  int64_t y;
  int m, d;
  civil_from_days(days, &y, &m, &d);
  snprintf(out, 40, "%s, %02d %s %04lld %02d:%02d:%02d GMT", wd[((days % 7) + 7) % 7], d, mn[m - 1],
           (long long)y, (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60));
}

int mg_time_parse_duration(const char *s, double *out_seconds) {
  const char *p = s;
  double total = 0;
  int in_time = 0, any = 0, weeks = 0;
  /* order of designators must be respected: Y M W D, then T H M S */
  int last = -1;
  if (!s || *p++ != 'P') return MG_EINVAL;
  while (*p) {
    if (*p == 'T') {
      if (in_time) return MG_EINVAL;
      in_time = 1;
      p++;
      if (!*p) return MG_EINVAL;
      continue;
    }
    const char *start = p;
    int seen_dot = 0;
    while ((*p >= '0' && *p <= '9') || ((*p == '.' || *p == ',') && !seen_dot)) {
      if (*p == '.' || *p == ',') seen_dot = 1;
      p++;
    }
    if (p == start || (p - start == 1 && seen_dot)) return MG_EINVAL;
    double v = 0, scale = 0;
    for (const char *q = start; q < p; q++) {
      if (*q == '.' || *q == ',') {
        scale = 1;
        continue;
      }
      if (scale > 0) {
        scale /= 10;
        v += (*q - '0') * scale;
      } else {
        v = v * 10 + (*q - '0');
      }
    }
    int rank;
    double mult;
    char u = *p++;
    if (!in_time) {
      switch (u) {
      case 'Y': rank = 0; mult = 365.25 * 86400; break;
      case 'M': rank = 1; mult = 30.44 * 86400; break;
      case 'W': rank = 2; mult = 7 * 86400; break;
      case 'D': rank = 3; mult = 86400; break;
      default: return MG_EINVAL;
      }
    } else {
      switch (u) {
      case 'H': rank = 4; mult = 3600; break;
      case 'M': rank = 5; mult = 60; break;
      case 'S': rank = 6; mult = 1; break;
      default: return MG_EINVAL;
      }
    }
    if (rank <= last) return MG_EINVAL;
    if (seen_dot && *p) return MG_EINVAL; /* only the smallest unit may be fractional */
    last = rank;
    total += v * mult;
    any++;
    if (rank == 2) weeks = 1;
  }
  if (!any) return MG_EINVAL;
  /* ISO 8601 allows weeks only on their own (PnW) */
  if (weeks && (any > 1 || in_time)) return MG_EINVAL;
  *out_seconds = total;
  return MG_OK;
}
