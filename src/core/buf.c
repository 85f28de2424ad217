#include "core/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"

void mg_buf_init(mg_buf *b, size_t max) {
  b->data = NULL;
  b->len = 0;
  b->cap = 0;
  b->max = max;
}

static int buf_reserve(mg_buf *b, size_t extra) {
  if (extra > b->max || b->len > b->max - extra) return MG_ETOOBIG;
  size_t need = b->len + extra + 1;
  if (need <= b->cap) return MG_OK;
  size_t cap = b->cap ? b->cap : 64;
  while (cap < need) {
    if (cap > ((size_t)-1) / 2) {
      cap = need;
      break;
    }
    cap *= 2;
  }
  if (cap > b->max + 1) cap = b->max + 1; /* never allocate beyond what max allows */
  if (cap < need) cap = need;
  char *p = realloc(b->data, cap);
  if (!p) return MG_ENOMEM;
  b->data = p;
  b->cap = cap;
  return MG_OK;
}

int mg_buf_reserve(mg_buf *b, size_t n) { return buf_reserve(b, n); }

int mg_buf_add(mg_buf *b, const void *p, size_t n) {
  int rc = buf_reserve(b, n);
  if (rc) return rc;
  if (n) memcpy(b->data + b->len, p, n);
  b->len += n;
  b->data[b->len] = '\0';
  return MG_OK;
}

int mg_buf_adds(mg_buf *b, const char *s) { return mg_buf_add(b, s, strlen(s)); }

int mg_buf_addc(mg_buf *b, char c) { return mg_buf_add(b, &c, 1); }

int mg_buf_vaddf(mg_buf *b, const char *fmt, va_list ap) {
  va_list ap2;
  va_copy(ap2, ap);
  int n = vsnprintf(NULL, 0, fmt, ap2);
  va_end(ap2);
  if (n < 0) return MG_EINVAL;
  int rc = buf_reserve(b, (size_t)n);
  if (rc) return rc;
  vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
  b->len += (size_t)n;
  return MG_OK;
}

int mg_buf_addf(mg_buf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int rc = mg_buf_vaddf(b, fmt, ap);
  va_end(ap);
  return rc;
}

/* 1 for the bytes JSON strings must escape: control characters, '"' and '\\'. */
static const unsigned char k_json_escape[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
};

int mg_buf_add_json_str(mg_buf *b, const char *s, size_t n) {
  static const char hex[] = "0123456789abcdef";
  size_t start = 0, i = 0;
  for (;;) {
    /* long runs of ordinary text are the common case: scan them without branching per kind */
    while (i < n && !k_json_escape[(unsigned char)s[i]]) i++;
    int rc = mg_buf_add(b, s + start, i - start);
    if (rc || i == n) return rc;
    unsigned char c = (unsigned char)s[i];
    char esc[7] = {'\\', 0, 0, 0, 0, 0, 0};
    size_t elen = 2;
    switch (c) {
    case '"': esc[1] = '"'; break;
    case '\\': esc[1] = '\\'; break;
    case '\n': esc[1] = 'n'; break;
    case '\r': esc[1] = 'r'; break;
    case '\t': esc[1] = 't'; break;
    case '\b': esc[1] = 'b'; break;
    case '\f': esc[1] = 'f'; break;
    default:
      esc[1] = 'u';
      esc[2] = '0';
      esc[3] = '0';
      esc[4] = hex[c >> 4];
      esc[5] = hex[c & 15];
      elen = 6;
    }
    rc = mg_buf_add(b, esc, elen);
    if (rc) return rc;
    start = ++i;
  }
}

void mg_utf8_trim_tail(char *s) {
  size_t i = strlen(s), k = 0;
  while (i > 0 && k < 3 && ((unsigned char)s[i - 1] & 0xc0) == 0x80) {
    i--;
    k++;
  }
  if (i == 0) return;
  unsigned char lead = (unsigned char)s[i - 1];
  size_t need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  if (need > 1 && need != k + 1) s[i - 1] = '\0';
}

int mg_utf8_prefix(const char *s, size_t max) {
  if (!s) return 0;
  size_t n = strnlen(s, max + 1);
  if (n > max) {
    n = max;
    while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80) n--; /* s[n] continues a character */
  }
  return n > 0x7fffffff ? 0x7fffffff : (int)n;
}

void mg_buf_reset(mg_buf *b) {
  b->len = 0;
  if (b->data) b->data[0] = '\0';
}

void mg_buf_free(mg_buf *b) {
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
}

char *mg_buf_take(mg_buf *b) {
  char *p = b->data;
  if (!p) p = calloc(1, 1);
  b->data = NULL;
  b->len = b->cap = 0;
  return p;
}
