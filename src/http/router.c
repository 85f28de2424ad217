#include "http/router.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/err.h"

/* ---- request target ------------------------------------------------------------------------ */

static int hexval(unsigned char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Length of a valid UTF-8 sequence at s (lead byte >= 0x80, s NUL-terminated), or 0 (RFC 3629). */
static int utf8_seq(const unsigned char *s) {
  unsigned char c = s[0];
  if (c >= 0xC2 && c <= 0xDF) return (s[1] & 0xC0) == 0x80 ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    unsigned char lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
    return s[1] >= lo && s[1] <= hi && (s[2] & 0xC0) == 0x80 ? 3 : 0;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    unsigned char lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
    return s[1] >= lo && s[1] <= hi && (s[2] & 0xC0) == 0x80 && (s[3] & 0xC0) == 0x80 ? 4 : 0;
  }
  return 0;
}

typedef struct tparse {
  mg_arena *a;
  const char *raw; /* start of the whole target, for offsets in messages */
  char *err;
  size_t errsize;
} tparse;

enum { IN_PATH, IN_QUERY };

/* Percent-decodes raw[from, to) into a new arena string. In a query '+' is a space. Rejects bad
 * escapes, NUL, control bytes (in a query tab, LF and CR pass: JSON parameters may be
 * pretty-printed) and invalid UTF-8. */
static char *decode(tparse *tp, size_t from, size_t to, int where, const char *what) {
  char *out = mg_arena_alloc(tp->a, to - from + 1);
  if (!out) {
    snprintf(tp->err, tp->errsize, "out of memory decoding the request target");
    return NULL;
  }
  size_t w = 0;
  for (size_t i = from; i < to; i++) {
    unsigned char c = (unsigned char)tp->raw[i];
    if (c == '%') {
      int hi = i + 1 < to ? hexval((unsigned char)tp->raw[i + 1]) : -1;
      int lo = i + 2 < to ? hexval((unsigned char)tp->raw[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        snprintf(tp->err, tp->errsize, "invalid percent escape in the %s at byte %zu", what, i);
        return NULL;
      }
      c = (unsigned char)(hi * 16 + lo);
      i += 2;
    } else if (c == '+' && where == IN_QUERY) {
      c = ' ';
    }
    int ctl = c < 0x20 || (c == 0x7f && where == IN_PATH);
    if (ctl && !(where == IN_QUERY && (c == '\t' || c == '\n' || c == '\r'))) {
      snprintf(tp->err, tp->errsize, "control byte 0x%02x in the %s at byte %zu", c, what, i);
      return NULL;
    }
    out[w++] = (char)c;
  }
  out[w] = '\0';
  for (size_t i = 0; i < w;) {
    unsigned char c = (unsigned char)out[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    int n = utf8_seq((const unsigned char *)out + i);
    if (!n) {
      snprintf(tp->err, tp->errsize, "the %s starting at byte %zu is not valid UTF-8", what, from);
      return NULL;
    }
    i += (size_t)n;
  }
  return out;
}

/* Rejects "." and ".." segments: no route needs them and a prefix check must not be walkable. */
static int has_dot_segment(const char *p) {
  while (*p) {
    if (*p == '/') p++;
    const char *seg = p;
    while (*p && *p != '/') p++;
    size_t n = (size_t)(p - seg);
    if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.')) return 1;
  }
  return 0;
}

int mg_http_target_parse(mg_arena *a, const char *raw, size_t len, mg_http_target *out, char *err,
                         size_t errsize) {
  tparse tp = {a, raw, err, errsize};
  memset(out, 0, sizeof *out);
  if (errsize) err[0] = '\0';
  if (len > MG_HTTP_MAX_TARGET) {
    snprintf(err, errsize, "request target of %zu bytes exceeds the limit of %d", len,
             MG_HTTP_MAX_TARGET);
    return MG_ETOOBIG;
  }
  if (len == 0) {
    snprintf(err, errsize, "empty request target");
    return MG_EINVAL;
  }
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)raw[i];
    if (c <= 0x20 || c == 0x7f) {
      snprintf(err, errsize, "byte 0x%02x not allowed in the request target at byte %zu", c, i);
      return MG_EINVAL;
    }
    if (c == '#') {
      snprintf(err, errsize, "fragment ('#') not allowed in the request target at byte %zu", i);
      return MG_EINVAL;
    }
  }
  if (len == 1 && raw[0] == '*') {
    out->path = "*";
    return MG_OK;
  }
  size_t start = 0;
  if (len >= 7 && (strncasecmp(raw, "http://", 7) == 0 ||
                   (len >= 8 && strncasecmp(raw, "https://", 8) == 0))) {
    /* absolute form: drop scheme and authority, keep the path (RFC 9112 §3.2.2) */
    start = raw[4] == ':' ? 7 : 8;
    while (start < len && raw[start] != '/' && raw[start] != '?') start++;
  } else if (raw[0] != '/') {
    snprintf(err, errsize, "request target must start with '/'");
    return MG_EINVAL;
  }
  size_t q = start;
  while (q < len && raw[q] != '?') q++;
  char *path;
  if (q == start) { /* absolute form without a path */
    path = mg_arena_strndup(a, "/", 1);
    if (!path) goto nomem;
  } else if (!(path = decode(&tp, start, q, IN_PATH, "path"))) {
    return MG_EINVAL;
  }
  if (has_dot_segment(path)) {
    snprintf(err, errsize, "'.' and '..' path segments are not allowed");
    return MG_EINVAL;
  }
  /* count pieces first so the parameter array is allocated once */
  size_t pieces = q < len ? 1 : 0;
  for (size_t i = q + 1; i < len; i++)
    if (raw[i] == '&') pieces++;
  if (pieces > MG_HTTP_MAX_PARAMS * 4) {
    snprintf(err, errsize, "more than %d query parameters", MG_HTTP_MAX_PARAMS);
    return MG_ETOOBIG;
  }
  mg_http_param *params = NULL;
  if (pieces) {
    params = mg_arena_alloc(a, pieces * sizeof *params);
    if (!params) goto nomem;
  }
  size_t n = 0;
  for (size_t i = q; i < len;) {
    size_t b = i + 1, e = b; /* raw[i] is '?' or '&' ('?' after the first counts as data) */
    while (e < len && raw[e] != '&') e++;
    i = e;
    size_t eq = b;
    while (eq < e && raw[eq] != '=') eq++;
    if (eq == b) continue; /* empty piece or no name */
    if (n >= MG_HTTP_MAX_PARAMS) {
      snprintf(err, errsize, "more than %d query parameters", MG_HTTP_MAX_PARAMS);
      return MG_ETOOBIG;
    }
    char *k = decode(&tp, b, eq, IN_QUERY, "query parameter name");
    if (!k) return MG_EINVAL;
    char *v = decode(&tp, eq < e ? eq + 1 : e, e, IN_QUERY, "query parameter value");
    if (!v) return MG_EINVAL;
    params[n].name = k;
    params[n].value = v;
    n++;
  }
  out->path = path;
  out->params = params;
  out->n_params = n;
  return MG_OK;
nomem:
  snprintf(err, errsize, "out of memory parsing the request target");
  return MG_ENOMEM;
}

const char *mg_http_target_param(const mg_http_target *t, const char *name) {
  for (size_t i = 0; i < t->n_params; i++)
    if (strcmp(t->params[i].name, name) == 0) return t->params[i].value;
  return NULL;
}

/* ---- routes -------------------------------------------------------------------------------- */

void mg_http_router_init(mg_http_router *r) { memset(r, 0, sizeof *r); }

int mg_http_router_add(mg_http_router *r, const char *method, const char *pattern,
                       mg_http_handler h, void *ud) {
  if (r->n_routes >= MG_HTTP_MAX_ROUTES) return MG_ETOOBIG;
  mg_http_route_def *d = &r->routes[r->n_routes];
  if (strlen(method) >= sizeof d->method) return MG_EINVAL;
  size_t len = strlen(pattern);
  d->path = strdup(pattern);
  if (!d->path) return MG_ENOMEM;
  d->prefix = len > 0 && pattern[len - 1] == '*';
  d->path_len = d->prefix ? len - 1 : len;
  d->path[d->path_len] = '\0';
  snprintf(d->method, sizeof d->method, "%s", method);
  d->handler = h;
  d->ud = ud;
  r->n_routes++;
  return MG_OK;
}

const mg_http_route_def *mg_http_router_match(const mg_http_router *r, const char *method,
                                              const char *path, int *path_known) {
  *path_known = 0;
  for (int i = 0; i < r->n_routes; i++) {
    const mg_http_route_def *d = &r->routes[i];
    int match = d->prefix ? strncmp(path, d->path, d->path_len) == 0 : strcmp(path, d->path) == 0;
    if (!match) continue;
    *path_known = 1;
    if (strcmp(d->method, "*") == 0 || strcmp(d->method, method) == 0) return d;
  }
  return NULL;
}

void mg_http_router_free(mg_http_router *r) {
  for (int i = 0; i < r->n_routes; i++) free(r->routes[i].path);
  r->n_routes = 0;
}
