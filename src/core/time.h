/* core/time.h — wall-clock time and ISO 8601 / RFC 3339 timestamps.
 *
 * moocguard keeps instants as int64 microseconds since the Unix epoch (UTC). xAPI carries them as
 * ISO 8601 text; this module parses and prints that text without locale or libc time zone state. */
#ifndef MG_CORE_TIME_H
#define MG_CORE_TIME_H

#include <stddef.h>
#include <stdint.h>

#define MG_TIME_ISO_LEN 48 /* room for "YYYY-MM-DDTHH:MM:SS.uuuuuuZ" and a NUL */

typedef struct mg_timestamp {
  int64_t us;          /* instant in UTC (local time minus offset) */
  int has_tz;          /* a zone designator (Z or offset) was present */
  int offset_min;      /* the designator's offset in minutes (0 for Z) */
  int negative_zero;   /* the designator was "-00:00" (RFC 3339 "unknown local offset") */
  int frac_digits;     /* number of fractional-second digits given */
} mg_timestamp;

/* Current wall-clock time in microseconds since the epoch. */
int64_t mg_time_now_us(void);
/* Monotonic clock in microseconds, for durations. */
int64_t mg_time_mono_us(void);
/* Parses an extended-format ISO 8601 date-time "YYYY-MM-DDTHH:MM[:SS[.f+]][Z|±HH[:MM]|±HHMM]".
 * RFC 3339 also allows a space or lower-case 't' between date and time; allow_rfc3339 admits it.
 * Returns MG_OK or MG_EINVAL. */
int mg_time_parse_iso(const char *s, int allow_rfc3339, mg_timestamp *out);
/* Formats us as "YYYY-MM-DDTHH:MM:SS.mmmZ" (digits = 3) or with 6 fractional digits (digits = 6). */
void mg_time_format_iso(int64_t us, int digits, char out[MG_TIME_ISO_LEN]);
/* Formats us as an RFC 7231 HTTP date ("Sun, 06 Nov 1994 08:49:37 GMT"). */
void mg_time_format_http(int64_t us, char out[40]);
/* Parses an ISO 8601 duration (PnYnMnDTnHnMnS, PnW) into seconds. MG_OK or MG_EINVAL. */
int mg_time_parse_duration(const char *s, double *out_seconds);

#endif
