/* xapi/validate.c — statement validation for xAPI 1.0.3 and 2.0.0.
 *
 * One recursive walk over the parsed statement. Each object's keys are matched once against the
 * properties allowed at that place (so unknown keys are caught in the same pass that finds the
 * known ones), then the known ones are checked in a fixed order, so the first violation reported
 * is deterministic. The JSON path of the current value is kept in a fixed buffer and only turned
 * into an error on failure: the success path does no formatting and no allocation (the one
 * exception is the duplicate check of an interaction component list longer than 512).
 * Error text quotes client data only in clipped form that stays valid UTF-8, so callers can put
 * path and message into a JSON response as they are. */
#include "xapi/validate.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/time.h"
#include "core/uuid.h"

#define VOIDED_VERB "http://adlnet.gov/expapi/verbs/voided"

typedef struct vctx {
  mg_xapi_version v;
  mg_xapi_error *err;
  size_t len; /* strlen(path) */
  int full;   /* a segment did not fit: the path shown is a truncated prefix */
  char path[sizeof(((mg_xapi_error *)0)->path)];
} vctx;

typedef struct mark {
  size_t len;
  int full;
} mark;

/* ---- character classes (no <ctype.h>: locale-free and safe for bytes >= 0x80) ---- */


int mg_xapi_error_set(mg_xapi_error *err, const char *path, const char *fmt, ...) {
  if (err) {
    va_list ap;
    snprintf(err->path, sizeof err->path, "%s", path ? path : "");
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    mg_utf8_trim_tail(err->path);
    mg_utf8_trim_tail(err->message);
  }
  return MG_EINVAL;
}

static int is_alpha(unsigned char ch) { return (ch | 0x20) >= 'a' && (ch | 0x20) <= 'z'; }
static int is_digit(unsigned char ch) { return ch >= '0' && ch <= '9'; }
static int is_alnum(unsigned char ch) { return is_alpha(ch) || is_digit(ch); }
static int is_hex(unsigned char ch) {
  return is_digit(ch) || ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'f');
}
static unsigned char lower(unsigned char ch) {
  return is_alpha(ch) ? (unsigned char)(ch | 0x20) : ch;
}

/* ---- path and error reporting ---- */

static mark push_raw(vctx *c, const char *s, size_t n, int dot) {
  mark m = {c->len, c->full};
  if (c->full) return m;
  size_t need = n + (dot ? 1u : 0u);
  if (need >= sizeof c->path - c->len) {
    c->full = 1;
    return m;
  }
  if (dot) c->path[c->len++] = '.';
  memcpy(c->path + c->len, s, n);
  c->len += n;
  c->path[c->len] = '\0';
  return m;
}

static mark push_key(vctx *c, const char *key) { return push_raw(c, key, strlen(key), c->len > 0); }

static mark push_index(vctx *c, size_t i) {
  char tmp[24];
  size_t n = sizeof tmp;
  tmp[--n] = ']';
  do {
    tmp[--n] = (char)('0' + i % 10);
    i /= 10;
  } while (i);
  tmp[--n] = '[';
  return push_raw(c, tmp + n, sizeof tmp - n, 0);
}

static void pop(vctx *c, mark m) {
  c->len = m.len;
  c->full = m.full;
  c->path[c->len] = '\0';
}

/* Copies at most 80 bytes of client text into buf (96 bytes), never splitting a UTF-8 sequence,
 * and marks a cut with "...". */
static const char *clip(const char *s, char *buf) {
  size_t n = strlen(s), cut = n;
  if (n > 80) {
    cut = 80;
    while (cut > 0 && ((unsigned char)s[cut] & 0xc0) == 0x80) cut--;
  }
  memcpy(buf, s, cut);
  memcpy(buf + cut, n > cut ? "..." : "", n > cut ? 4 : 1);
  return buf;
}
#define CLIP(s) clip((s), (char[96]){0})

/* Drops an incomplete UTF-8 sequence that vsnprintf's truncation may have left at the end. */

static int vfail(vctx *c, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
static int vfail(vctx *c, const char *fmt, va_list ap) {
  mg_xapi_error *e = c->err;
  size_t cap = sizeof e->path;
  memcpy(e->path, c->path, c->len + 1);
  if (c->full) { /* mark the truncation so nobody mistakes the prefix for the real place */
    size_t at = c->len + 3 < cap ? c->len : cap - 4;
    memcpy(e->path + at, "...", 4);
  }
  vsnprintf(e->message, sizeof e->message, fmt, ap);
  mg_utf8_trim_tail(e->message);
  return MG_EINVAL;
}

static int fail(vctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(vctx *c, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int rc = vfail(c, fmt, ap);
  va_end(ap);
  return rc;
}

/* Fails at the child `key` of the current value. */
static int fail_at(vctx *c, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail_at(vctx *c, const char *key, const char *fmt, ...) {
  mark m = push_key(c, key);
  va_list ap;
  va_start(ap, fmt);
  int rc = vfail(c, fmt, ap);
  va_end(ap);
  pop(c, m);
  return rc;
}

static int fail_missing(vctx *c, const char *key) {
  return fail_at(c, key, "required property \"%s\" is missing", key);
}

/* Runs expr with the path extended by key; returns from the caller on failure. */
#define CHECK_AT(c, key, expr)                                                                     \
  do {                                                                                             \
    mark m_ = push_key((c), (key));                                                                \
    int rc_ = (expr);                                                                              \
    pop((c), m_);                                                                                  \
    if (rc_) return rc_;                                                                           \
  } while (0)

#define CHECK_IDX(c, i, expr)                                                                      \
  do {                                                                                             \
    mark m_ = push_index((c), (i));                                                                \
    int rc_ = (expr);                                                                              \
    pop((c), m_);                                                                                  \
    if (rc_) return rc_;                                                                           \
  } while (0)

#define CHECK(expr)                                                                                \
  do {                                                                                             \
    int rc_ = (expr);                                                                              \
    if (rc_) return rc_;                                                                           \
  } while (0)

static const char *jtype(const mg_json *j) {
  switch (mg_json_typeof(j)) {
  case MG_JSON_OBJECT: return "an object";
  case MG_JSON_ARRAY: return "an array";
  case MG_JSON_STRING: return "a string";
  case MG_JSON_INTEGER:
  case MG_JSON_REAL: return "a number";
  case MG_JSON_TRUE:
  case MG_JSON_FALSE: return "a boolean";
  default: return "null";
  }
}

/* Exact comparison with a literal, immune to embedded NULs in the JSON string. */
static int jstr_eq(const mg_json *j, const char *lit, size_t n) {
  return mg_json_string_length(j) == n && memcmp(mg_json_string_value(j), lit, n) == 0;
}
#define JSTR_IS(j, lit) jstr_eq((j), (lit), sizeof(lit) - 1)

/* A string that must follow a format: an embedded NUL would hide the rest from C checks. */
static const char *fmt_string(const mg_json *j) {
  if (!mg_json_is_string(j)) return NULL;
  const char *s = mg_json_string_value(j);
  return strlen(s) == mg_json_string_length(j) ? s : NULL;
}

/* Matches every key of obj against names (the properties allowed here) and stores the values
 * in slots (same index, NULL when absent). The first key not allowed is the error. */
static int collect(vctx *c, const mg_json *obj, const char *const *names, size_t n,
                   const mg_json **slots) {
  for (size_t k = 0, size = mg_json_object_size(obj); k < size; k++) {
    const mg_json_member *m = &obj->u.members[k];
    const char *key = m->key;
    size_t i = strlen(key) == m->key_len ? 0 : n; /* a key with a NUL matches nothing */
    for (; i < n; i++)
      if (names[i][0] == key[0] && strcmp(names[i], key) == 0) break;
    if (i == n) return fail_at(c, key, "unknown property \"%s\"", CLIP(key));
    slots[i] = m->value;
  }
  return MG_OK;
}

/* ---- public format checks ---- */

/* IRI character classes after the scheme: 0 = plain, 1 = never allowed, 2 = '%', 3 = '#'.
 * Bytes >= 0x80 are UTF-8 (validated by the parser) and allowed, as IRIs permit. */
static const unsigned char iri_class[256] = {
    1,         1,         1,          1,         1,          1,         1,         1,
    1,         1,         1,          1,         1,          1,         1,         1, /* controls */
    1,         1,         1,          1,         1,          1,         1,         1,
    1,         1,         1,          1,         1,          1,         1,         1,
    [' '] = 1, ['"'] = 1, ['<'] = 1,  ['>'] = 1, ['\\'] = 1, ['^'] = 1, ['`'] = 1, ['{'] = 1,
    ['|'] = 1, ['}'] = 1, [0x7f] = 1, ['%'] = 2, ['#'] = 3,
};

int mg_xapi_valid_iri(const char *s) {
  const unsigned char *p = (const unsigned char *)s;
  if (!p || !is_alpha(*p)) return 0;
  for (p++; is_alnum(*p) || *p == '+' || *p == '-' || *p == '.'; p++) {
  }
  if (*p++ != ':' || !*p) return 0;
  int hashes = 0;
  for (;;) {
    while (iri_class[*p] == 0) p++;
    switch (iri_class[*p]) {
    case 2:
      if (!is_hex(p[1]) || !is_hex(p[2])) return 0;
      p += 3;
      break;
    case 3:
      if (++hashes > 1) return 0;
      p++;
      break;
    default: /* the NUL ends the string: valid; anything else in class 1 is not */
      return *p == '\0';
    }
  }
}

/* RFC 5646 grandfathered tags that the langtag production does not cover. */
static const char *const lang_irregular[] = {
    "en-GB-oed", "i-ami", "i-bnn",     "i-default", "i-enochian", "i-hak",
    "i-klingon", "i-lux", "i-mingo",   "i-navajo",  "i-pwn",      "i-tao",
    "i-tay",     "i-tsu", "sgn-BE-FR", "sgn-BE-NL", "sgn-CH-DE",
};

static int ieq(const char *a, const char *b) {
  for (; *a && *b; a++, b++)
    if (lower((unsigned char)*a) != lower((unsigned char)*b)) return 0;
  return *a == *b;
}

static int all_alpha(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!is_alpha((unsigned char)s[i])) return 0;
  return 1;
}
static int all_digit(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!is_digit((unsigned char)s[i])) return 0;
  return 1;
}

static int irregular_tag(const char *tag) {
  for (size_t i = 0; i < sizeof lang_irregular / sizeof *lang_irregular; i++)
    if (ieq(tag, lang_irregular[i])) return 1;
  return 0;
}

/* The langtag and privateuse productions of RFC 5646 section 2.1, plus the well-formedness
 * rules of 2.2.5 (no repeated variant) and 2.2.6 (no repeated extension singleton). */
static int regular_tag(const char *tag) {
  enum { MAXSUB = 64 };
  const char *sub[MAXSUB];
  size_t len[MAXSUB], n = 0;
  /* split into subtags of 1..8 alphanumerics */
  for (const char *p = tag;;) {
    const char *q = p;
    while (is_alnum((unsigned char)*q)) q++;
    size_t l = (size_t)(q - p);
    if (l < 1 || l > 8 || n == MAXSUB) return 0;
    sub[n] = p;
    len[n++] = l;
    if (*q == '\0') break;
    if (*q != '-') return 0;
    p = q + 1;
  }
  size_t i = 0;
  if (len[0] == 1) { /* only a private-use tag may start with a singleton */
    if (lower((unsigned char)sub[0][0]) != 'x' || n < 2) return 0;
    return 1;
  }
  /* language */
  if (!all_alpha(sub[0], len[0])) return 0;
  i = 1;
  if (len[0] <= 3) /* extlang: up to three 3-letter subtags */
    for (int k = 0; k < 3 && i < n && len[i] == 3 && all_alpha(sub[i], 3); k++) i++;
  /* script */
  if (i < n && len[i] == 4 && all_alpha(sub[i], 4)) i++;
  /* region */
  if (i < n && ((len[i] == 2 && all_alpha(sub[i], 2)) || (len[i] == 3 && all_digit(sub[i], 3))))
    i++;
  /* variants, no duplicates */
  size_t first_variant = i;
  while (i < n && (len[i] >= 5 || (len[i] == 4 && is_digit((unsigned char)sub[i][0])))) {
    for (size_t k = first_variant; k < i; k++)
      if (len[k] == len[i]) {
        size_t m = 0;
        while (m < len[i] && lower((unsigned char)sub[k][m]) == lower((unsigned char)sub[i][m]))
          m++;
        if (m == len[i]) return 0;
      }
    i++;
  }
  /* extensions: singleton (not x) followed by 2..8 char subtags; each singleton once */
  uint64_t seen = 0;
  while (i < n && len[i] == 1 && lower((unsigned char)sub[i][0]) != 'x') {
    unsigned char s = lower((unsigned char)sub[i][0]);
    unsigned bit = is_digit(s) ? (unsigned)(s - '0') : (unsigned)(s - 'a') + 10u;
    if (seen & ((uint64_t)1 << bit)) return 0;
    seen |= (uint64_t)1 << bit;
    size_t start = ++i;
    while (i < n && len[i] >= 2) i++;
    if (i == start) return 0;
  }
  /* private use */
  if (i < n && len[i] == 1 && lower((unsigned char)sub[i][0]) == 'x') {
    if (i + 1 >= n) return 0;
    return 1; /* 1..8 alphanumerics each, already checked */
  }
  return i == n;
}

int mg_xapi_valid_language_tag(const char *tag) {
  if (!tag || !*tag) return 0;
  return regular_tag(tag) || irregular_tag(tag);
}

/* ---- leaf types ---- */

static int v_string(vctx *c, const mg_json *j) {
  if (!mg_json_is_string(j)) return fail(c, "must be a string, not %s", jtype(j));
  return MG_OK;
}

static int v_bool(vctx *c, const mg_json *j) {
  if (!mg_json_is_boolean(j)) return fail(c, "must be a boolean, not %s", jtype(j));
  return MG_OK;
}

static int v_iri(vctx *c, const mg_json *j) {
  if (!mg_json_is_string(j)) return fail(c, "must be an IRI string, not %s", jtype(j));
  const char *s = fmt_string(j);
  if (!s || !mg_xapi_valid_iri(s))
    return fail(c, "must be an absolute IRI with a scheme, e.g. \"http://example.com/x\"");
  return MG_OK;
}

static int v_uuid(vctx *c, const mg_json *j) {
  uint8_t b[16];
  if (!mg_json_is_string(j)) return fail(c, "must be a UUID string, not %s", jtype(j));
  const char *s = fmt_string(j);
  if (!s || mg_uuid_parse(s, b) != MG_OK)
    return fail(c, "must be a UUID in standard form (8-4-4-4-12 hex digits)");
  /* xAPI: all versions of the RFC 4122 variant; RFC 9562 adds versions 6-8 */
  if ((b[8] & 0xc0) != 0x80) return fail(c, "must be an RFC 4122 variant UUID");
  unsigned ver = b[6] >> 4;
  if (ver < 1 || ver > 8) return fail(c, "must be a UUID of a defined version (1-8)");
  return MG_OK;
}

static int v_langmap(vctx *c, const mg_json *j) {
  if (!mg_json_is_object(j)) return fail(c, "must be a language map object, not %s", jtype(j));
  for (size_t k = 0, size = mg_json_object_size(j); k < size; k++) {
    const mg_json_member *m = &j->u.members[k];
    if (strlen(m->key) != m->key_len || !mg_xapi_valid_language_tag(m->key))
      return fail(c, "\"%s\" is not a valid RFC 5646 language tag", CLIP(m->key));
    if (!mg_json_is_string(m->value))
      return fail_at(c, m->key, "must be a string, not %s", jtype(m->value));
  }
  return MG_OK;
}

static int v_extensions(vctx *c, const mg_json *j) {
  if (!mg_json_is_object(j)) return fail(c, "must be an object, not %s", jtype(j));
  /* values are free-form (even null): only the keys are constrained */
  for (size_t k = 0, size = mg_json_object_size(j); k < size; k++) {
    const mg_json_member *m = &j->u.members[k];
    if (strlen(m->key) != m->key_len || !mg_xapi_valid_iri(m->key))
      return fail(c, "extension key \"%s\" is not an absolute IRI", CLIP(m->key));
  }
  return MG_OK;
}

static int v_timestamp(vctx *c, const mg_json *j) {
  mg_timestamp ts;
  if (!mg_json_is_string(j)) return fail(c, "must be a timestamp string, not %s", jtype(j));
  const char *s = fmt_string(j);
  int rfc = c->v == MG_XAPI_V200;
  if (!s || mg_time_parse_iso(s, rfc, &ts) != MG_OK)
    return fail(c, rfc ? "must be an RFC 3339 timestamp, e.g. \"2024-03-01T08:30:00.000Z\""
                       : "must be an ISO 8601 timestamp, e.g. \"2024-03-01T08:30:00.000Z\"");
  if (ts.negative_zero) return fail(c, "must not use the offset -00:00 (unknown local offset)");
  if (rfc) {
    /* RFC 3339 date-time: seconds, hour 00-23 and a zone of Z or +hh:mm are all mandatory;
     * the parser has already fixed the layout "YYYY-MM-DDTHH:MM" of the first 16 bytes */
    size_t n = strlen(s);
    if (!ts.has_tz) return fail(c, "must include a time zone (Z or +hh:mm) as RFC 3339 requires");
    if (s[16] != ':') return fail(c, "must include seconds as RFC 3339 requires");
    if (s[11] == '2' && s[12] == '4') return fail(c, "hour 24 is not allowed by RFC 3339");
    char z = s[n - 1];
    if (z != 'Z' && z != 'z' &&
        !(n >= 6 && s[n - 3] == ':' && (s[n - 6] == '+' || s[n - 6] == '-')))
      return fail(c, "the offset must be written +hh:mm as RFC 3339 requires");
  }
  return MG_OK;
}

static int v_version(vctx *c, const mg_json *j) {
  if (!mg_json_is_string(j)) return fail(c, "must be a version string, not %s", jtype(j));
  const char *s = fmt_string(j);
  /* "1.0" or "1.0.<digits>"; a 2.0 LRS also takes "2.0" and "2.0.<digits>" */
  if (s && (s[0] == '1' || (s[0] == '2' && c->v == MG_XAPI_V200)) && s[1] == '.' && s[2] == '0') {
    if (s[3] == '\0') return MG_OK;
    if (s[3] == '.' && s[4]) {
      const char *p = s + 4;
      while (is_digit((unsigned char)*p)) p++;
      if (*p == '\0') return MG_OK;
    }
  }
  return fail(c, c->v == MG_XAPI_V200 ? "must be \"1.0.x\" or \"2.0.x\"" : "must be \"1.0.x\"");
}

/* ---- agents and groups ---- */

enum role {
  ROLE_ACTOR,
  ROLE_OBJECT,
  ROLE_INSTRUCTOR,
  ROLE_TEAM,
  ROLE_AUTHORITY,
  ROLE_MEMBER,
  ROLE_CTX_AGENT,
  ROLE_CTX_GROUP,
  ROLE_PARAM,
};

static int v_mbox(vctx *c, const mg_json *j) {
  if (!mg_json_is_string(j)) return fail(c, "must be a mailto IRI string, not %s", jtype(j));
  const char *s = fmt_string(j);
  if (!s || strncmp(s, "mailto:", 7) != 0 || !mg_xapi_valid_iri(s))
    return fail(c, "must be a mailto IRI, e.g. \"mailto:learner@example.com\"");
  const char *addr = s + 7, *at = strchr(addr, '@');
  if (!at || at == addr || !at[1] || strchr(at + 1, '@'))
    return fail(c, "must be \"mailto:\" followed by an email address");
  return MG_OK;
}

static int v_sha1sum(vctx *c, const mg_json *j) {
  if (!mg_json_is_string(j)) return fail(c, "must be a string, not %s", jtype(j));
  const char *s = mg_json_string_value(j);
  size_t n = mg_json_string_length(j), i = 0;
  while (i < n && is_hex((unsigned char)s[i])) i++;
  if (n != 40 || i != 40) return fail(c, "must be a SHA-1 hash as 40 hexadecimal digits");
  return MG_OK;
}

static int v_account(vctx *c, const mg_json *j) {
  static const char *const names[] = {"homePage", "name"};
  const mg_json *s[2] = {0};
  if (!mg_json_is_object(j)) return fail(c, "must be an account object, not %s", jtype(j));
  CHECK(collect(c, j, names, 2, s));
  if (!s[0]) return fail_missing(c, "homePage");
  CHECK_AT(c, "homePage", v_iri(c, s[0]));
  if (!s[1]) return fail_missing(c, "name");
  CHECK_AT(c, "name", v_string(c, s[1]));
  return MG_OK;
}

enum { A_OBJECTTYPE, A_NAME, A_MBOX, A_SHA1, A_OPENID, A_ACCOUNT, A_MEMBER, A_N };
static const char *const actor_names[A_N] = {"objectType", "name",    "mbox",  "mbox_sha1sum",
                                             "openid",     "account", "member"};

static int v_actor(vctx *c, const mg_json *j, enum role role);

static int v_members(vctx *c, const mg_json *j) {
  if (!mg_json_is_array(j)) return fail(c, "must be an array of Agents, not %s", jtype(j));
  for (size_t i = 0, n = mg_json_array_size(j); i < n; i++)
    CHECK_IDX(c, i, v_actor(c, mg_json_array_get(j, i), ROLE_MEMBER));
  return MG_OK;
}

static int v_actor(vctx *c, const mg_json *j, enum role role) {
  const mg_json *s[A_N] = {0};
  int group = 0;
  if (!mg_json_is_object(j)) {
    if (role == ROLE_TEAM || role == ROLE_CTX_GROUP)
      return fail(c, "must be a Group object, not %s", jtype(j));
    if (role == ROLE_MEMBER || role == ROLE_CTX_AGENT)
      return fail(c, "must be an Agent object, not %s", jtype(j));
    return fail(c, "must be an Agent or Group object, not %s", jtype(j));
  }
  CHECK(collect(c, j, actor_names, A_N, s));

  const mg_json *ot = s[A_OBJECTTYPE];
  if (ot) {
    if (!mg_json_is_string(ot))
      return fail_at(c, "objectType", "must be a string, not %s", jtype(ot));
    if (JSTR_IS(ot, "Group"))
      group = 1;
    else if (!JSTR_IS(ot, "Agent"))
      return fail_at(c, "objectType", "must be \"Agent\" or \"Group\", not \"%s\"",
                     CLIP(mg_json_string_value(ot)));
  } else if (role == ROLE_TEAM || role == ROLE_CTX_GROUP) {
    return fail_at(c, "objectType",
                   "required property \"objectType\" is missing: a Group "
                   "must say objectType \"Group\"");
  }
  if (group && (role == ROLE_MEMBER || role == ROLE_CTX_AGENT))
    return fail_at(c, "objectType", "must be an Agent here, not a Group");
  if (!group && (role == ROLE_TEAM || role == ROLE_CTX_GROUP))
    return fail_at(c, "objectType", "must be \"Group\": a Group is required here");
  if (!group && s[A_MEMBER])
    return fail_at(c, "member", "only a Group may have members; set objectType \"Group\"");
  if (s[A_NAME]) CHECK_AT(c, "name", v_string(c, s[A_NAME]));

  int n_ifi = 0;
  if (s[A_MBOX]) {
    CHECK_AT(c, "mbox", v_mbox(c, s[A_MBOX]));
    n_ifi++;
  }
  if (s[A_SHA1]) {
    CHECK_AT(c, "mbox_sha1sum", v_sha1sum(c, s[A_SHA1]));
    n_ifi++;
  }
  if (s[A_OPENID]) {
    CHECK_AT(c, "openid", v_iri(c, s[A_OPENID]));
    n_ifi++;
  }
  if (s[A_ACCOUNT]) {
    CHECK_AT(c, "account", v_account(c, s[A_ACCOUNT]));
    n_ifi++;
  }
  if (n_ifi > 1)
    return fail(c,
                "must have exactly one inverse functional identifier (mbox, mbox_sha1sum, "
                "openid or account), not %d",
                n_ifi);
  if (!group) {
    if (n_ifi == 0)
      return fail(c, "an Agent must have exactly one inverse functional identifier (mbox, "
                     "mbox_sha1sum, openid or account)");
    return MG_OK;
  }

  if (role == ROLE_PARAM && n_ifi == 0)
    return fail(c, "must be an Agent or an identified Group (one inverse functional identifier)");
  if (role == ROLE_AUTHORITY && n_ifi)
    return fail(c, "a Group as authority must be anonymous (the OAuth consumer and the user)");
  if (!s[A_MEMBER]) {
    if (n_ifi == 0) return fail_at(c, "member", "an anonymous Group must list its members");
    return MG_OK;
  }
  CHECK_AT(c, "member", v_members(c, s[A_MEMBER]));
  size_t members = mg_json_array_size(s[A_MEMBER]);
  if (n_ifi == 0 && members == 0)
    return fail_at(c, "member", "an anonymous Group must have at least one member");
  if (role == ROLE_AUTHORITY && members != 2)
    return fail_at(c, "member", "a Group as authority must have exactly two Agents, not %zu",
                   members);
  return MG_OK;
}

/* ---- activities ---- */

enum { L_CHOICES = 1, L_SCALE = 2, L_SOURCE = 4, L_TARGET = 8, L_STEPS = 16 };

static const struct itype {
  const char *name;
  unsigned lists;
} itypes[] = {
    {"true-false", 0},
    {"choice", L_CHOICES},
    {"fill-in", 0},
    {"long-fill-in", 0},
    {"matching", L_SOURCE | L_TARGET},
    {"performance", L_STEPS},
    {"sequencing", L_CHOICES},
    {"likert", L_SCALE},
    {"numeric", 0},
    {"other", 0},
};

static uint32_t hash_str(const char *s, size_t n) {
  uint32_t h = 2166136261u; /* FNV-1a */
  for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 16777619u;
  return h;
}

static int same_id(const mg_json *a, const mg_json *b) {
  size_t n = mg_json_string_length(a);
  return n == mg_json_string_length(b) &&
         memcmp(mg_json_string_value(a), mg_json_string_value(b), n) == 0;
}

/* The id of component i of a component list. */
static const mg_json *comp_id(const mg_json *arr, size_t i) {
  return mg_json_object_get(mg_json_array_get(arr, i), "id");
}

/* Component ids must be distinct. A hash table keeps this linear even for a hostile list of
 * thousands of components; it lives on the stack for any realistic list and is only allocated
 * for lists longer than 512. Ids are known to be strings here. */
static int unique_ids(vctx *c, const mg_json *arr) {
  enum { STACK_SLOTS = 1024 };
  uint32_t stack_tab[STACK_SLOTS];
  size_t n = mg_json_array_size(arr), dup = 0;
  int found = 0;
  if (n < 2) return MG_OK;
  if (n > UINT32_MAX / 4) return fail(c, "too many interaction components");
  size_t cap = 16;
  while (cap < 2 * n) cap <<= 1;
  uint32_t *tab = stack_tab;
  if (cap > STACK_SLOTS) {
    tab = calloc(cap, sizeof *tab);
    if (!tab) {
      memcpy(c->err->path, c->path, c->len + 1);
      snprintf(c->err->message, sizeof c->err->message, "out of memory");
      return MG_ENOMEM;
    }
  } else {
    memset(tab, 0, cap * sizeof *tab);
  }
  for (size_t i = 0; i < n && !found; i++) {
    const mg_json *id = comp_id(arr, i);
    size_t h = hash_str(mg_json_string_value(id), mg_json_string_length(id)) & (cap - 1);
    for (; tab[h]; h = (h + 1) & (cap - 1))
      if (same_id(comp_id(arr, tab[h] - 1), id)) {
        dup = i;
        found = 1;
        break;
      }
    tab[h] = (uint32_t)(i + 1);
  }
  if (tab != stack_tab) free(tab);
  if (!found) return MG_OK;
  mark m = push_index(c, dup);
  int rc = fail_at(c, "id", "duplicate interaction component id \"%s\"",
                   CLIP(mg_json_string_value(comp_id(arr, dup))));
  pop(c, m);
  return rc;
}

static int v_component(vctx *c, const mg_json *j) {
  static const char *const names[] = {"id", "description"};
  const mg_json *s[2] = {0};
  if (!mg_json_is_object(j))
    return fail(c, "must be an interaction component object, not %s", jtype(j));
  CHECK(collect(c, j, names, 2, s));
  if (!s[0]) return fail_missing(c, "id");
  CHECK_AT(c, "id", v_string(c, s[0]));
  if (s[1]) CHECK_AT(c, "description", v_langmap(c, s[1]));
  return MG_OK;
}

static int v_components(vctx *c, const mg_json *j) {
  if (!mg_json_is_array(j))
    return fail(c, "must be an array of interaction components, not %s", jtype(j));
  for (size_t i = 0, n = mg_json_array_size(j); i < n; i++)
    CHECK_IDX(c, i, v_component(c, mg_json_array_get(j, i)));
  return unique_ids(c, j);
}

enum {
  D_NAME,
  D_DESCRIPTION,
  D_TYPE,
  D_MOREINFO,
  D_EXTENSIONS,
  D_ITYPE,
  D_CRP,
  D_CHOICES,
  D_SCALE,
  D_SOURCE,
  D_TARGET,
  D_STEPS,
  D_N
};
static const char *const def_names[D_N] = {"name",
                                           "description",
                                           "type",
                                           "moreInfo",
                                           "extensions",
                                           "interactionType",
                                           "correctResponsesPattern",
                                           "choices",
                                           "scale",
                                           "source",
                                           "target",
                                           "steps"};

static int v_definition(vctx *c, const mg_json *j) {
  const mg_json *s[D_N] = {0};
  if (!mg_json_is_object(j))
    return fail(c, "must be an Activity definition object, not %s", jtype(j));
  CHECK(collect(c, j, def_names, D_N, s));
  if (s[D_NAME]) CHECK_AT(c, "name", v_langmap(c, s[D_NAME]));
  if (s[D_DESCRIPTION]) CHECK_AT(c, "description", v_langmap(c, s[D_DESCRIPTION]));
  if (s[D_TYPE]) CHECK_AT(c, "type", v_iri(c, s[D_TYPE]));
  if (s[D_MOREINFO]) CHECK_AT(c, "moreInfo", v_iri(c, s[D_MOREINFO]));
  if (s[D_EXTENSIONS]) CHECK_AT(c, "extensions", v_extensions(c, s[D_EXTENSIONS]));

  const struct itype *it = NULL;
  if (s[D_ITYPE]) {
    const mg_json *t = s[D_ITYPE];
    if (!mg_json_is_string(t))
      return fail_at(c, "interactionType", "must be a string, not %s", jtype(t));
    for (size_t i = 0; i < sizeof itypes / sizeof *itypes; i++)
      if (jstr_eq(t, itypes[i].name, strlen(itypes[i].name))) it = &itypes[i];
    if (!it)
      return fail_at(c, "interactionType",
                     "\"%s\" is not an interaction type (true-false, "
                     "choice, fill-in, long-fill-in, matching, performance, sequencing, likert, "
                     "numeric or other)",
                     CLIP(mg_json_string_value(t)));
  }
  if (s[D_CRP]) {
    const mg_json *a = s[D_CRP];
    if (!it) return fail_at(c, "correctResponsesPattern", "needs an interactionType");
    if (!mg_json_is_array(a))
      return fail_at(c, "correctResponsesPattern", "must be an array of strings, not %s", jtype(a));
    mark m = push_key(c, "correctResponsesPattern");
    for (size_t i = 0, n = mg_json_array_size(a); i < n; i++) {
      const mg_json *e = mg_json_array_get(a, i);
      if (!mg_json_is_string(e)) {
        mark mi = push_index(c, i);
        int rc = fail(c, "must be a string, not %s", jtype(e));
        pop(c, mi);
        pop(c, m);
        return rc;
      }
    }
    pop(c, m);
  }
  for (int k = D_CHOICES; k <= D_STEPS; k++) {
    if (!s[k]) continue;
    unsigned bit = 1u << (k - D_CHOICES);
    if (!it) return fail_at(c, def_names[k], "needs an interactionType");
    if (!(it->lists & bit))
      return fail_at(c, def_names[k], "is not allowed for interactionType \"%s\"", it->name);
    CHECK_AT(c, def_names[k], v_components(c, s[k]));
  }
  return MG_OK;
}

/* An Activity; objectType, when present, has already been found to be "Activity" by the
 * caller, or is checked here for context activities. */
static int v_activity(vctx *c, const mg_json *j) {
  static const char *const names[] = {"objectType", "id", "definition"};
  const mg_json *s[3] = {0};
  if (!mg_json_is_object(j)) return fail(c, "must be an Activity object, not %s", jtype(j));
  CHECK(collect(c, j, names, 3, s));
  if (s[0]) {
    if (!mg_json_is_string(s[0]))
      return fail_at(c, "objectType", "must be a string, not %s", jtype(s[0]));
    if (!JSTR_IS(s[0], "Activity"))
      return fail_at(c, "objectType", "must be \"Activity\", not \"%s\"",
                     CLIP(mg_json_string_value(s[0])));
  }
  if (!s[1]) return fail_missing(c, "id");
  CHECK_AT(c, "id", v_iri(c, s[1]));
  if (s[2]) CHECK_AT(c, "definition", v_definition(c, s[2]));
  return MG_OK;
}

static int v_statement_ref(vctx *c, const mg_json *j) {
  static const char *const names[] = {"objectType", "id"};
  const mg_json *s[2] = {0};
  if (!mg_json_is_object(j)) return fail(c, "must be a StatementRef object, not %s", jtype(j));
  CHECK(collect(c, j, names, 2, s));
  if (!s[0]) return fail_missing(c, "objectType");
  if (!mg_json_is_string(s[0]) || !JSTR_IS(s[0], "StatementRef"))
    return fail_at(c, "objectType", "must be \"StatementRef\"");
  if (!s[1]) return fail_missing(c, "id");
  CHECK_AT(c, "id", v_uuid(c, s[1]));
  return MG_OK;
}

/* ---- result ---- */

static int v_number(vctx *c, const mg_json *j) {
  if (!mg_json_is_number(j)) return fail(c, "must be a number, not %s", jtype(j));
  return MG_OK;
}

static int v_score(vctx *c, const mg_json *j) {
  static const char *const names[] = {"scaled", "raw", "min", "max"};
  const mg_json *s[4] = {0};
  if (!mg_json_is_object(j)) return fail(c, "must be a score object, not %s", jtype(j));
  CHECK(collect(c, j, names, 4, s));
  for (int k = 0; k < 4; k++)
    if (s[k]) CHECK_AT(c, names[k], v_number(c, s[k]));
  if (s[0]) {
    double v = mg_json_number_value(s[0]);
    if (v < -1.0 || v > 1.0) return fail_at(c, "scaled", "must be between -1 and 1");
  }
  double raw = s[1] ? mg_json_number_value(s[1]) : 0, mn = s[2] ? mg_json_number_value(s[2]) : 0,
         mx = s[3] ? mg_json_number_value(s[3]) : 0;
  if (s[2] && s[3] && !(mn < mx)) return fail_at(c, "min", "must be less than max");
  if (s[1] && s[2] && raw < mn) return fail_at(c, "raw", "must not be less than min");
  if (s[1] && s[3] && raw > mx) return fail_at(c, "raw", "must not be greater than max");
  return MG_OK;
}

static int v_duration(vctx *c, const mg_json *j) {
  double secs;
  if (!mg_json_is_string(j))
    return fail(c, "must be an ISO 8601 duration string, not %s", jtype(j));
  const char *s = fmt_string(j);
  if (!s || mg_time_parse_duration(s, &secs) != MG_OK)
    return fail(c, "must be an ISO 8601 duration, e.g. \"PT1H30M5.25S\"");
  /* ISO 8601:2004 4.4.3.2: weeks are a form of their own (PnW), never mixed with other units */
  const char *w = strchr(s, 'W');
  if (w) {
    const char *p = s + 1;
    while (p < w && (is_digit((unsigned char)*p) || *p == '.' || *p == ',')) p++;
    if (p != w || w[1] != '\0')
      return fail(c, "a duration in weeks (PnW) must not contain other units");
  }
  return MG_OK;
}

static int v_result(vctx *c, const mg_json *j) {
  static const char *const names[] = {"score",    "success",  "completion",
                                      "response", "duration", "extensions"};
  const mg_json *s[6] = {0};
  if (!mg_json_is_object(j)) return fail(c, "must be a result object, not %s", jtype(j));
  CHECK(collect(c, j, names, 6, s));
  if (s[0]) CHECK_AT(c, "score", v_score(c, s[0]));
  if (s[1]) CHECK_AT(c, "success", v_bool(c, s[1]));
  if (s[2]) CHECK_AT(c, "completion", v_bool(c, s[2]));
  if (s[3]) CHECK_AT(c, "response", v_string(c, s[3]));
  if (s[4]) CHECK_AT(c, "duration", v_duration(c, s[4]));
  if (s[5]) CHECK_AT(c, "extensions", v_extensions(c, s[5]));
  return MG_OK;
}

/* ---- context ---- */

static int v_context_activities(vctx *c, const mg_json *j) {
  static const char *const names[] = {"parent", "grouping", "category", "other"};
  const mg_json *s[4] = {0};
  if (!mg_json_is_object(j)) return fail(c, "must be a contextActivities object, not %s", jtype(j));
  CHECK(collect(c, j, names, 4, s));
  for (int k = 0; k < 4; k++) {
    const mg_json *v = s[k];
    if (!v) continue;
    if (mg_json_is_object(v)) {
      CHECK_AT(c, names[k], v_activity(c, v));
    } else if (mg_json_is_array(v)) {
      mark m = push_key(c, names[k]);
      for (size_t i = 0, n = mg_json_array_size(v); i < n; i++) {
        mark mi = push_index(c, i);
        int rc = v_activity(c, mg_json_array_get(v, i));
        pop(c, mi);
        if (rc) {
          pop(c, m);
          return rc;
        }
      }
      pop(c, m);
    } else {
      return fail_at(c, names[k], "must be an Activity object or an array of them, not %s",
                     jtype(v));
    }
  }
  return MG_OK;
}

static int v_relevant_types(vctx *c, const mg_json *j) {
  if (!mg_json_is_array(j)) return fail(c, "must be an array of IRIs, not %s", jtype(j));
  size_t n = mg_json_array_size(j);
  if (n == 0) return fail(c, "must contain at least one IRI");
  for (size_t i = 0; i < n; i++) CHECK_IDX(c, i, v_iri(c, mg_json_array_get(j, i)));
  return MG_OK;
}

/* 2.0 contextAgents / contextGroups entries. */
static int v_context_actor(vctx *c, const mg_json *j, int is_group) {
  const char *const names[] = {"objectType", is_group ? "group" : "agent", "relevantTypes"};
  const char *ot = is_group ? "contextGroup" : "contextAgent";
  const mg_json *s[3] = {0};
  if (!mg_json_is_object(j)) return fail(c, "must be a %s object, not %s", ot, jtype(j));
  CHECK(collect(c, j, names, 3, s));
  if (!s[0]) return fail_missing(c, "objectType");
  if (!mg_json_is_string(s[0]) || !jstr_eq(s[0], ot, strlen(ot)))
    return fail_at(c, "objectType", "must be \"%s\"", ot);
  if (!s[1]) return fail_missing(c, names[1]);
  CHECK_AT(c, names[1], v_actor(c, s[1], is_group ? ROLE_CTX_GROUP : ROLE_CTX_AGENT));
  if (s[2]) CHECK_AT(c, "relevantTypes", v_relevant_types(c, s[2]));
  return MG_OK;
}

static int v_context_actors(vctx *c, const mg_json *j, int is_group) {
  if (!mg_json_is_array(j))
    return fail(c, "must be an array of %s objects, not %s",
                is_group ? "contextGroup" : "contextAgent", jtype(j));
  for (size_t i = 0, n = mg_json_array_size(j); i < n; i++)
    CHECK_IDX(c, i, v_context_actor(c, mg_json_array_get(j, i), is_group));
  return MG_OK;
}

enum {
  C_REGISTRATION,
  C_INSTRUCTOR,
  C_TEAM,
  C_CONTEXTACTIVITIES,
  C_REVISION,
  C_PLATFORM,
  C_LANGUAGE,
  C_STATEMENT,
  C_EXTENSIONS,
  C_CONTEXTAGENTS,
  C_CONTEXTGROUPS,
  C_N
};
static const char *const context_names[C_N] = {
    "registration", "instructor", "team",       "contextActivities", "revision",     "platform",
    "language",     "statement",  "extensions", "contextAgents",     "contextGroups"};

static int v_context(vctx *c, const mg_json *j, int object_is_activity) {
  const mg_json *s[C_N] = {0};
  if (!mg_json_is_object(j)) return fail(c, "must be a context object, not %s", jtype(j));
  /* contextAgents and contextGroups are 2.0 additions: unknown properties in 1.0.3 */
  CHECK(collect(c, j, context_names, c->v == MG_XAPI_V200 ? C_N : C_CONTEXTAGENTS, s));
  if (s[C_REGISTRATION]) CHECK_AT(c, "registration", v_uuid(c, s[C_REGISTRATION]));
  if (s[C_INSTRUCTOR]) CHECK_AT(c, "instructor", v_actor(c, s[C_INSTRUCTOR], ROLE_INSTRUCTOR));
  if (s[C_TEAM]) CHECK_AT(c, "team", v_actor(c, s[C_TEAM], ROLE_TEAM));
  if (s[C_CONTEXTACTIVITIES])
    CHECK_AT(c, "contextActivities", v_context_activities(c, s[C_CONTEXTACTIVITIES]));
  if (s[C_REVISION]) {
    CHECK_AT(c, "revision", v_string(c, s[C_REVISION]));
    if (!object_is_activity)
      return fail_at(c, "revision", "is only allowed when the statement's object is an Activity");
  }
  if (s[C_PLATFORM]) {
    CHECK_AT(c, "platform", v_string(c, s[C_PLATFORM]));
    if (!object_is_activity)
      return fail_at(c, "platform", "is only allowed when the statement's object is an Activity");
  }
  if (s[C_LANGUAGE]) {
    const mg_json *l = s[C_LANGUAGE];
    if (!mg_json_is_string(l)) return fail_at(c, "language", "must be a string, not %s", jtype(l));
    const char *tag = fmt_string(l);
    if (!tag || !mg_xapi_valid_language_tag(tag))
      return fail_at(c, "language", "\"%s\" is not a valid RFC 5646 language tag",
                     CLIP(mg_json_string_value(l)));
  }
  if (s[C_STATEMENT]) CHECK_AT(c, "statement", v_statement_ref(c, s[C_STATEMENT]));
  if (s[C_EXTENSIONS]) CHECK_AT(c, "extensions", v_extensions(c, s[C_EXTENSIONS]));
  if (s[C_CONTEXTAGENTS]) CHECK_AT(c, "contextAgents", v_context_actors(c, s[C_CONTEXTAGENTS], 0));
  if (s[C_CONTEXTGROUPS]) CHECK_AT(c, "contextGroups", v_context_actors(c, s[C_CONTEXTGROUPS], 1));
  return MG_OK;
}

/* ---- attachments ---- */

static int is_tchar(unsigned char ch) {
  return is_alnum(ch) || (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

/* "type/subtype" optionally followed by parameters (RFC 2045 / RFC 7231 media-type). */
static int valid_media_type(const char *s) {
  const unsigned char *p = (const unsigned char *)s;
  if (!is_tchar(*p)) return 0;
  while (is_tchar(*p)) p++;
  if (*p++ != '/' || !is_tchar(*p)) return 0;
  while (is_tchar(*p)) p++;
  if (*p == '\0') return 1;
  while (*p == ' ' || *p == '\t') p++;
  if (*p != ';') return 0;
  for (; *p; p++)
    if (*p < 0x20 && *p != '\t') return 0;
  return 1;
}

static int v_attachment(vctx *c, const mg_json *j) {
  enum { T_USAGE, T_DISPLAY, T_DESCRIPTION, T_CTYPE, T_LENGTH, T_SHA2, T_FILEURL, T_N };
  static const char *const names[T_N] = {"usageType", "display", "description", "contentType",
                                         "length",    "sha2",    "fileUrl"};
  const mg_json *s[T_N] = {0};
  if (!mg_json_is_object(j)) return fail(c, "must be an attachment object, not %s", jtype(j));
  CHECK(collect(c, j, names, T_N, s));
  if (!s[T_USAGE]) return fail_missing(c, "usageType");
  CHECK_AT(c, "usageType", v_iri(c, s[T_USAGE]));
  if (!s[T_DISPLAY]) return fail_missing(c, "display");
  CHECK_AT(c, "display", v_langmap(c, s[T_DISPLAY]));
  if (s[T_DESCRIPTION]) CHECK_AT(c, "description", v_langmap(c, s[T_DESCRIPTION]));
  if (!s[T_CTYPE]) return fail_missing(c, "contentType");
  const mg_json *ct = s[T_CTYPE];
  if (!mg_json_is_string(ct))
    return fail_at(c, "contentType", "must be a string, not %s", jtype(ct));
  const char *cts = fmt_string(ct);
  if (!cts || !valid_media_type(cts))
    return fail_at(c, "contentType", "must be an Internet media type such as \"image/png\"");
  if (!s[T_LENGTH]) return fail_missing(c, "length");
  const mg_json *len = s[T_LENGTH];
  if (!mg_json_is_integer(len))
    return fail_at(c, "length", "must be an integer, not %s",
                   mg_json_is_real(len) ? "a fraction" : jtype(len));
  if (mg_json_integer_value(len) < 0) return fail_at(c, "length", "must not be negative");
  if (!s[T_SHA2]) return fail_missing(c, "sha2");
  const mg_json *h = s[T_SHA2];
  if (!mg_json_is_string(h)) return fail_at(c, "sha2", "must be a string, not %s", jtype(h));
  size_t hn = mg_json_string_length(h), i = 0;
  const char *hs = mg_json_string_value(h);
  while (i < hn && is_hex((unsigned char)hs[i])) i++;
  if (i != hn || (hn != 56 && hn != 64 && hn != 96 && hn != 128))
    return fail_at(c, "sha2", "must be a SHA-2 hash in hexadecimal (SHA-224/256/384/512)");
  if (s[T_FILEURL]) CHECK_AT(c, "fileUrl", v_iri(c, s[T_FILEURL]));
  return MG_OK;
}

static int v_attachments(vctx *c, const mg_json *j) {
  if (!mg_json_is_array(j))
    return fail(c, "must be an array of attachment objects, not %s", jtype(j));
  for (size_t i = 0, n = mg_json_array_size(j); i < n; i++)
    CHECK_IDX(c, i, v_attachment(c, mg_json_array_get(j, i)));
  return MG_OK;
}

/* ---- verb, object, statement ---- */

static int v_verb(vctx *c, const mg_json *j) {
  static const char *const names[] = {"id", "display"};
  const mg_json *s[2] = {0};
  if (!mg_json_is_object(j)) return fail(c, "must be a Verb object, not %s", jtype(j));
  CHECK(collect(c, j, names, 2, s));
  if (!s[0]) return fail_missing(c, "id");
  CHECK_AT(c, "id", v_iri(c, s[0]));
  if (s[1]) CHECK_AT(c, "display", v_langmap(c, s[1]));
  return MG_OK;
}

enum okind { K_ACTIVITY, K_AGENT, K_STATEMENTREF, K_SUBSTATEMENT };

static int v_statement(vctx *c, const mg_json *j, int is_sub);

static int v_object(vctx *c, const mg_json *j, int in_sub, enum okind *kind) {
  *kind = K_ACTIVITY;
  if (!mg_json_is_object(j))
    return fail(c,
                "must be an Activity, Agent, Group, StatementRef or SubStatement object, "
                "not %s",
                jtype(j));
  const mg_json *ot = mg_json_object_get(j, "objectType");
  if (!ot) return v_activity(c, j); /* objectType defaults to Activity */
  if (!mg_json_is_string(ot))
    return fail_at(c, "objectType", "must be a string, not %s", jtype(ot));
  if (JSTR_IS(ot, "Activity")) return v_activity(c, j);
  if (JSTR_IS(ot, "Agent") || JSTR_IS(ot, "Group")) {
    *kind = K_AGENT;
    return v_actor(c, j, ROLE_OBJECT);
  }
  if (JSTR_IS(ot, "StatementRef")) {
    *kind = K_STATEMENTREF;
    return v_statement_ref(c, j);
  }
  if (JSTR_IS(ot, "SubStatement")) {
    *kind = K_SUBSTATEMENT;
    if (in_sub) return fail_at(c, "objectType", "a SubStatement must not contain a SubStatement");
    return v_statement(c, j, 1);
  }
  return fail_at(c, "objectType",
                 "must be \"Activity\", \"Agent\", \"Group\", \"StatementRef\" "
                 "or \"SubStatement\", not \"%s\"",
                 CLIP(mg_json_string_value(ot)));
}

enum {
  S_ID,
  S_ACTOR,
  S_VERB,
  S_OBJECT,
  S_RESULT,
  S_CONTEXT,
  S_TIMESTAMP,
  S_STORED,
  S_AUTHORITY,
  S_VERSION,
  S_ATTACHMENTS,
  S_OBJECTTYPE,
  S_N
};
static const char *const stmt_names[S_N] = {"id",        "actor",   "verb",        "object",
                                            "result",    "context", "timestamp",   "stored",
                                            "authority", "version", "attachments", "objectType"};

static int v_statement(vctx *c, const mg_json *j, int is_sub) {
  const mg_json *s[S_N] = {0};
  enum okind kind;
  if (!mg_json_is_object(j)) return fail(c, "a statement must be a JSON object, not %s", jtype(j));
  /* objectType is last so that a top-level statement treats it as unknown */
  CHECK(collect(c, j, stmt_names, is_sub ? S_N : S_OBJECTTYPE, s));
  if (is_sub) {
    static const int forbidden[] = {S_ID, S_STORED, S_VERSION, S_AUTHORITY};
    for (size_t k = 0; k < sizeof forbidden / sizeof *forbidden; k++)
      if (s[forbidden[k]])
        return fail_at(c, stmt_names[forbidden[k]], "a SubStatement must not have \"%s\"",
                       stmt_names[forbidden[k]]);
  }
  if (s[S_ID]) CHECK_AT(c, "id", v_uuid(c, s[S_ID]));
  if (!s[S_ACTOR]) return fail_missing(c, "actor");
  CHECK_AT(c, "actor", v_actor(c, s[S_ACTOR], ROLE_ACTOR));
  if (!s[S_VERB]) return fail_missing(c, "verb");
  CHECK_AT(c, "verb", v_verb(c, s[S_VERB]));
  if (!s[S_OBJECT]) return fail_missing(c, "object");
  CHECK_AT(c, "object", v_object(c, s[S_OBJECT], is_sub, &kind));
  if (!is_sub && kind != K_STATEMENTREF &&
      JSTR_IS(mg_json_object_get(s[S_VERB], "id"), VOIDED_VERB))
    return fail_at(c, "object", "a voiding statement's object must be a StatementRef");
  if (s[S_RESULT]) CHECK_AT(c, "result", v_result(c, s[S_RESULT]));
  if (s[S_CONTEXT]) CHECK_AT(c, "context", v_context(c, s[S_CONTEXT], kind == K_ACTIVITY));
  if (s[S_TIMESTAMP]) CHECK_AT(c, "timestamp", v_timestamp(c, s[S_TIMESTAMP]));
  if (s[S_STORED]) CHECK_AT(c, "stored", v_timestamp(c, s[S_STORED]));
  if (s[S_AUTHORITY]) CHECK_AT(c, "authority", v_actor(c, s[S_AUTHORITY], ROLE_AUTHORITY));
  if (s[S_VERSION]) CHECK_AT(c, "version", v_version(c, s[S_VERSION]));
  if (s[S_ATTACHMENTS]) CHECK_AT(c, "attachments", v_attachments(c, s[S_ATTACHMENTS]));
  return MG_OK;
}

/* ---- entry points ---- */

static void ctx_init(vctx *c, mg_xapi_version v, const char *prefix, mg_xapi_error *err) {
  c->v = v;
  c->err = err;
  c->len = 0;
  c->full = 0;
  c->path[0] = '\0';
  err->path[0] = '\0';
  err->message[0] = '\0';
  if (prefix && *prefix) push_raw(c, prefix, strlen(prefix), 0);
}

int mg_xapi_validate_statement(const mg_json *stmt, mg_xapi_version v, const char *path_prefix,
                               mg_xapi_error *err) {
  mg_xapi_error scratch;
  vctx c;
  ctx_init(&c, v, path_prefix, err ? err : &scratch);
  if (v != MG_XAPI_V103 && v != MG_XAPI_V200) return fail(&c, "unsupported xAPI version");
  if (!stmt) return fail(&c, "a statement must be a JSON object");
  return v_statement(&c, stmt, 0);
}

int mg_xapi_validate_agent_param(const mg_json *agent, mg_xapi_version v, mg_xapi_error *err) {
  mg_xapi_error scratch;
  vctx c;
  ctx_init(&c, v, "agent", err ? err : &scratch);
  if (v != MG_XAPI_V103 && v != MG_XAPI_V200) return fail(&c, "unsupported xAPI version");
  if (!agent) return fail(&c, "must be an Agent or identified Group object");
  return v_actor(&c, agent, ROLE_PARAM);
}
