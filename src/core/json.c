#include "core/json.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"

static mg_json g_true = {.type = MG_JSON_TRUE};
static mg_json g_false = {.type = MG_JSON_FALSE};
static mg_json g_null = {.type = MG_JSON_NULL};

mg_json *mg_json_true(void) { return &g_true; }
mg_json *mg_json_false(void) { return &g_false; }
mg_json *mg_json_null(void) { return &g_null; }

/* ---- parser ----------------------------------------------------------------------------------
 * The text is copied into the arena with a NUL after it and parsed in place: strings are
 * unescaped where they lie (the result is never longer than the source) and NUL-terminated over
 * their closing quote. Children of open containers wait on scratch stacks and are copied into one
 * arena array when the container closes, so each value costs one node and no realloc. */

typedef struct parser {
  mg_arena *a;
  char *base; /* start of the copy */
  char *p;    /* next byte */
  char *end;  /* the NUL after the copy */
  int depth;
  mg_json_error *err;
  int failed;
  mg_json **items; /* scratch stack of array items */
  size_t n_items, cap_items;
  mg_json_member *members; /* scratch stack of object members */
  size_t n_members, cap_members;
} parser;

/* Records the first error: msg, and detail quoted after it when not NULL. */
static void fail_at(parser *ps, const char *at, const char *msg, const char *detail) {
  if (ps->failed) return;
  ps->failed = 1;
  if (!ps->err) return;
  size_t pos = (size_t)(at - ps->base);
  int line = 1, col = 1;
  for (const char *q = ps->base; q < at; q++) {
    if (*q == '\n') {
      line++;
      col = 1;
    } else {
      col++;
    }
  }
  ps->err->line = line;
  ps->err->column = col;
  ps->err->position = pos;
  if (detail)
    snprintf(ps->err->text, sizeof ps->err->text, "%s '%.*s'", msg, mg_utf8_prefix(detail, 100),
             detail);
  else
    snprintf(ps->err->text, sizeof ps->err->text, "%s", msg);
  mg_utf8_trim_tail(ps->err->text); /* the quoted key may have been cut mid-character */
}

static void skip_ws(parser *ps) {
  char *p = ps->p;
  while (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t') p++;
  ps->p = p;
}

static mg_json *new_node(parser *ps, mg_json_type t) {
  mg_json *v = mg_arena_alloc(ps->a, sizeof *v);
  if (!v) {
    fail_at(ps, ps->p, "out of memory", NULL);
    return NULL;
  }
  v->type = t;
  v->len = 0;
  v->cap = 0;
  return v;
}

static int hex4(const char *s, unsigned *out) {
  unsigned v = 0;
  for (int i = 0; i < 4; i++) {
    char c = s[i];
    v <<= 4;
    if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
    else return 0;
  }
  *out = v;
  return 1;
}

/* Length of a valid UTF-8 sequence at s (lead byte >= 0x80), or 0 if invalid (RFC 3629). */
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

/* Parses the string starting at the opening quote; out and len get the text, unescaped in place. */
static int parse_string(parser *ps, const char **out, size_t *len) {
  char *r = ps->p + 1, *w = r, *s = r;
  for (;;) {
    unsigned char c = (unsigned char)*r;
    if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
      *w++ = (char)c;
      r++;
      continue;
    }
    if (c == '"') {
      *w = '\0';
      *out = s;
      *len = (size_t)(w - s);
      ps->p = r + 1;
      return 1;
    }
    if (c == '\\') {
      char e = r[1];
      unsigned cp;
      switch (e) {
      case '"': *w++ = '"'; r += 2; continue;
      case '\\': *w++ = '\\'; r += 2; continue;
      case '/': *w++ = '/'; r += 2; continue;
      case 'b': *w++ = '\b'; r += 2; continue;
      case 'f': *w++ = '\f'; r += 2; continue;
      case 'n': *w++ = '\n'; r += 2; continue;
      case 'r': *w++ = '\r'; r += 2; continue;
      case 't': *w++ = '\t'; r += 2; continue;
      case 'u':
        if (!hex4(r + 2, &cp)) {
          fail_at(ps, r, "invalid \\u escape", NULL);
          return 0;
        }
        r += 6;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          unsigned lo;
          if (r[0] != '\\' || r[1] != 'u' || !hex4(r + 2, &lo) || lo < 0xDC00 || lo > 0xDFFF) {
            fail_at(ps, r - 6, "invalid Unicode surrogate pair", NULL);
            return 0;
          }
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          r += 6;
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
          fail_at(ps, r - 6, "lone Unicode low surrogate", NULL);
          return 0;
        } else if (cp == 0) {
          fail_at(ps, r - 6, "\\u0000 is not allowed", NULL);
          return 0;
        }
        /* the encoding is never longer than the escape it replaces */
        if (cp < 0x80) {
          *w++ = (char)cp;
        } else if (cp < 0x800) {
          *w++ = (char)(0xC0 | (cp >> 6));
          *w++ = (char)(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
          *w++ = (char)(0xE0 | (cp >> 12));
          *w++ = (char)(0x80 | ((cp >> 6) & 0x3F));
          *w++ = (char)(0x80 | (cp & 0x3F));
        } else {
          *w++ = (char)(0xF0 | (cp >> 18));
          *w++ = (char)(0x80 | ((cp >> 12) & 0x3F));
          *w++ = (char)(0x80 | ((cp >> 6) & 0x3F));
          *w++ = (char)(0x80 | (cp & 0x3F));
        }
        continue;
      default:
        fail_at(ps, r, "invalid escape", NULL);
        return 0;
      }
    }
    if (c < 0x20) {
      if (r == ps->end)
        fail_at(ps, r, "premature end of input in a string", NULL);
      else
        fail_at(ps, r, "control character in a string", NULL);
      return 0;
    }
    int n = utf8_seq((const unsigned char *)r);
    if (!n) {
      fail_at(ps, r, "invalid UTF-8 in a string", NULL);
      return 0;
    }
    for (int i = 0; i < n; i++) *w++ = r[i];
    r += n;
  }
}

static mg_json *parse_number(parser *ps) {
  char *s = ps->p, *p = s;
  int real = 0;
  if (*p == '-') p++;
  if (*p == '0') {
    p++;
  } else if (*p >= '1' && *p <= '9') {
    while (*p >= '0' && *p <= '9') p++;
  } else {
    fail_at(ps, s, "invalid number", NULL);
    return NULL;
  }
  if (*p == '.') {
    p++;
    if (!(*p >= '0' && *p <= '9')) {
      fail_at(ps, s, "invalid number", NULL);
      return NULL;
    }
    while (*p >= '0' && *p <= '9') p++;
    real = 1;
  }
  if (*p == 'e' || *p == 'E') {
    p++;
    if (*p == '+' || *p == '-') p++;
    if (!(*p >= '0' && *p <= '9')) {
      fail_at(ps, s, "invalid number", NULL);
      return NULL;
    }
    while (*p >= '0' && *p <= '9') p++;
    real = 1;
  }
  mg_json *v = new_node(ps, real ? MG_JSON_REAL : MG_JSON_INTEGER);
  if (!v) return NULL;
  v->u.num.text = s;
  v->u.num.text_len = (size_t)(p - s);
  if (!real) {
    const char *q = s;
    int neg = *q == '-';
    if (neg) q++;
    uint64_t acc = 0;
    uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; q < p; q++) {
      unsigned d = (unsigned)(*q - '0');
      if (acc > (limit - d) / 10) {
        fail_at(ps, s, "too big integer", NULL);
        return NULL;
      }
      acc = acc * 10 + d;
    }
    v->u.num.i = neg ? (acc == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)acc) : (int64_t)acc;
    v->u.num.d = (double)v->u.num.i;
  } else {
    /* strtod stops at the delimiter that follows the number; the C locale is never changed */
    errno = 0;
    double d = strtod(s, NULL);
    if (errno == ERANGE && (d == HUGE_VAL || d == -HUGE_VAL)) {
      fail_at(ps, s, "real number overflow", NULL);
      return NULL;
    }
    v->u.num.d = d;
    v->u.num.i = 0;
  }
  ps->p = p;
  return v;
}

static int push_item(parser *ps, mg_json *v) {
  if (ps->n_items == ps->cap_items) {
    size_t cap = ps->cap_items ? ps->cap_items * 2 : 64;
    mg_json **n = realloc(ps->items, cap * sizeof *n);
    if (!n) {
      fail_at(ps, ps->p, "out of memory", NULL);
      return 0;
    }
    ps->items = n;
    ps->cap_items = cap;
  }
  ps->items[ps->n_items++] = v;
  return 1;
}

static int push_member(parser *ps, const char *k, size_t klen, mg_json *v) {
  if (ps->n_members == ps->cap_members) {
    size_t cap = ps->cap_members ? ps->cap_members * 2 : 64;
    mg_json_member *n = realloc(ps->members, cap * sizeof *n);
    if (!n) {
      fail_at(ps, ps->p, "out of memory", NULL);
      return 0;
    }
    ps->members = n;
    ps->cap_members = cap;
  }
  ps->members[ps->n_members].key = k;
  ps->members[ps->n_members].key_len = klen;
  ps->members[ps->n_members].value = v;
  ps->n_members++;
  return 1;
}

static int cmp_member_key(const void *x, const void *y) {
  const mg_json_member *a = *(const mg_json_member *const *)x, *b = *(const mg_json_member *const *)y;
  if (a->key_len != b->key_len) return a->key_len < b->key_len ? -1 : 1;
  return memcmp(a->key, b->key, a->key_len);
}

/* Finds a duplicate key among m[0..n-1]; returns it or NULL. Small objects compare pairwise. */
static const mg_json_member *find_duplicate(parser *ps, const mg_json_member *m, size_t n) {
  if (n <= 16) {
    for (size_t i = 1; i < n; i++)
      for (size_t j = 0; j < i; j++)
        if (m[i].key_len == m[j].key_len && memcmp(m[i].key, m[j].key, m[i].key_len) == 0)
          return &m[i];
    return NULL;
  }
  const mg_json_member **idx = malloc(n * sizeof *idx);
  const mg_json_member *dup = NULL;
  if (!idx) {
    fail_at(ps, ps->p, "out of memory", NULL);
    return NULL;
  }
  for (size_t i = 0; i < n; i++) idx[i] = &m[i];
  qsort(idx, n, sizeof *idx, cmp_member_key);
  for (size_t i = 1; i < n && !dup; i++)
    if (cmp_member_key(&idx[i - 1], &idx[i]) == 0) dup = idx[i];
  free(idx);
  return dup;
}

static mg_json *parse_value(parser *ps);

static mg_json *parse_array(parser *ps) {
  char *open = ps->p;
  if (++ps->depth > MG_JSON_MAX_DEPTH) {
    fail_at(ps, open, "maximum nesting depth exceeded", NULL);
    return NULL;
  }
  size_t base = ps->n_items;
  ps->p++;
  skip_ws(ps);
  if (*ps->p != ']') {
    for (;;) {
      mg_json *v = parse_value(ps);
      if (!v || !push_item(ps, v)) return NULL;
      skip_ws(ps);
      if (*ps->p == ',') {
        ps->p++;
        continue;
      }
      if (*ps->p == ']') break;
      fail_at(ps, ps->p, "',' or ']' expected", NULL);
      return NULL;
    }
  }
  ps->p++;
  mg_json *arr = new_node(ps, MG_JSON_ARRAY);
  if (!arr) return NULL;
  size_t n = ps->n_items - base;
  arr->len = arr->cap = n;
  arr->u.items = NULL;
  if (n) {
    arr->u.items = mg_arena_alloc(ps->a, n * sizeof *arr->u.items);
    if (!arr->u.items) {
      fail_at(ps, open, "out of memory", NULL);
      return NULL;
    }
    memcpy(arr->u.items, ps->items + base, n * sizeof *arr->u.items);
  }
  ps->n_items = base;
  ps->depth--;
  return arr;
}

static mg_json *parse_object(parser *ps) {
  char *open = ps->p;
  if (++ps->depth > MG_JSON_MAX_DEPTH) {
    fail_at(ps, open, "maximum nesting depth exceeded", NULL);
    return NULL;
  }
  size_t base = ps->n_members;
  ps->p++;
  skip_ws(ps);
  if (*ps->p != '}') {
    for (;;) {
      if (*ps->p != '"') {
        fail_at(ps, ps->p, "string or '}' expected", NULL);
        return NULL;
      }
      const char *k;
      size_t klen;
      if (!parse_string(ps, &k, &klen)) return NULL;
      skip_ws(ps);
      if (*ps->p != ':') {
        fail_at(ps, ps->p, "':' expected", NULL);
        return NULL;
      }
      ps->p++;
      mg_json *v = parse_value(ps);
      if (!v || !push_member(ps, k, klen, v)) return NULL;
      skip_ws(ps);
      if (*ps->p == ',') {
        ps->p++;
        skip_ws(ps);
        continue;
      }
      if (*ps->p == '}') break;
      fail_at(ps, ps->p, "',' or '}' expected", NULL);
      return NULL;
    }
  }
  ps->p++;
  size_t n = ps->n_members - base;
  /* ps->members is NULL until the first member: no pointer arithmetic on it when empty */
  const mg_json_member *dup = n > 1 ? find_duplicate(ps, ps->members + base, n) : NULL;
  if (ps->failed) return NULL;
  if (dup) {
    fail_at(ps, open, "duplicate object key", dup->key);
    return NULL;
  }
  mg_json *obj = new_node(ps, MG_JSON_OBJECT);
  if (!obj) return NULL;
  obj->len = obj->cap = n;
  obj->u.members = NULL;
  if (n) {
    obj->u.members = mg_arena_alloc(ps->a, n * sizeof *obj->u.members);
    if (!obj->u.members) {
      fail_at(ps, open, "out of memory", NULL);
      return NULL;
    }
    memcpy(obj->u.members, ps->members + base, n * sizeof *obj->u.members);
  }
  ps->n_members = base;
  ps->depth--;
  return obj;
}

static mg_json *parse_literal(parser *ps, const char *word, size_t n, mg_json *v) {
  if (strncmp(ps->p, word, n) != 0) {
    fail_at(ps, ps->p, "invalid token", NULL);
    return NULL;
  }
  ps->p += n;
  return v;
}

static mg_json *parse_value(parser *ps) {
  skip_ws(ps);
  switch (*ps->p) {
  case '{': return parse_object(ps);
  case '[': return parse_array(ps);
  case '"': {
    mg_json *v = new_node(ps, MG_JSON_STRING);
    const char *s;
    size_t len;
    if (!v || !parse_string(ps, &s, &len)) return NULL;
    v->u.str = s;
    v->len = len;
    return v;
  }
  case 't': return parse_literal(ps, "true", 4, &g_true);
  case 'f': return parse_literal(ps, "false", 5, &g_false);
  case 'n': return parse_literal(ps, "null", 4, &g_null);
  case '-':
  case '0': case '1': case '2': case '3': case '4':
  case '5': case '6': case '7': case '8': case '9':
    return parse_number(ps);
  default:
    if (ps->p == ps->end)
      fail_at(ps, ps->p, "unexpected end of input", NULL);
    else
      fail_at(ps, ps->p, "unexpected character", NULL);
    return NULL;
  }
}

mg_json *mg_json_parse(mg_arena *a, const char *text, size_t len, unsigned flags,
                       mg_json_error *err) {
  parser ps;
  memset(&ps, 0, sizeof ps);
  ps.a = a;
  ps.err = err;
  if (err) memset(err, 0, sizeof *err);
  char *copy = mg_arena_alloc(a, len + 1);
  if (!copy) {
    if (err) snprintf(err->text, sizeof err->text, "out of memory");
    return NULL;
  }
  if (len) memcpy(copy, text, len);
  copy[len] = '\0';
  ps.base = ps.p = copy;
  ps.end = copy + len;
  mg_json *v = NULL;
  skip_ws(&ps);
  if (!(flags & MG_JSON_DECODE_ANY) && *ps.p != '{' && *ps.p != '[') {
    fail_at(&ps, ps.p, "'[' or '{' expected", NULL);
  } else {
    v = parse_value(&ps);
    if (v) {
      skip_ws(&ps);
      if (ps.p != ps.end) {
        fail_at(&ps, ps.p, "end of input expected", NULL);
        v = NULL;
      }
    }
  }
  free(ps.items);
  free(ps.members);
  return ps.failed ? NULL : v;
}

/* ---- output --------------------------------------------------------------------------------- */

/* Appends without the NUL (mg_json_dump terminates once at the end): the dumper makes many
 * tiny appends, and the common case (room left) should cost a compare and a copy. */
static inline int put(mg_buf *b, const char *p, size_t n) {
  if (b->cap < b->len + n + 1 || !b->data) {
    int rc = mg_buf_reserve(b, n);
    if (rc) return rc;
  }
  memcpy(b->data + b->len, p, n);
  b->len += n;
  return MG_OK;
}

static inline int putc1(mg_buf *b, char c) { return put(b, &c, 1); }

/* "text" with escapes; plain text (the usual case) is copied in one piece. */
/* Bytes that need an escape in a JSON string: control characters, '"' and '\\'. */
static const unsigned char k_needs_escape[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
};

static int put_str(mg_buf *b, const char *s, size_t n) {
  size_t i = 0;
  const unsigned char *u = (const unsigned char *)s;
  while (i + 4 <= n && !(k_needs_escape[u[i]] | k_needs_escape[u[i + 1]] |
                         k_needs_escape[u[i + 2]] | k_needs_escape[u[i + 3]]))
    i += 4;
  while (i < n && !k_needs_escape[u[i]]) i++;
  if (i == n) {
    if (b->cap < b->len + n + 3 || !b->data) {
      int rc = mg_buf_reserve(b, n + 2);
      if (rc) return rc;
    }
    char *d = b->data + b->len;
    d[0] = '"';
    memcpy(d + 1, s, n);
    d[n + 1] = '"';
    b->len += n + 2;
    return MG_OK;
  }
  int rc = putc1(b, '"');
  if (!rc) rc = mg_buf_add_json_str(b, s, n);
  if (!rc) rc = putc1(b, '"');
  return rc;
}

static int dump_value(const mg_json *v, mg_buf *out) {
  int rc = MG_OK;
  switch (v->type) {
  case MG_JSON_NULL: return put(out, "null", 4);
  case MG_JSON_TRUE: return put(out, "true", 4);
  case MG_JSON_FALSE: return put(out, "false", 5);
  case MG_JSON_INTEGER:
  case MG_JSON_REAL: return put(out, v->u.num.text, v->u.num.text_len);
  case MG_JSON_STRING: return put_str(out, v->u.str, v->len);
  case MG_JSON_ARRAY:
    rc = putc1(out, '[');
    for (size_t i = 0; i < v->len && !rc; i++) {
      if (i) rc = putc1(out, ',');
      if (!rc) rc = dump_value(v->u.items[i], out);
    }
    if (!rc) rc = putc1(out, ']');
    return rc;
  case MG_JSON_OBJECT:
    rc = putc1(out, '{');
    for (size_t i = 0; i < v->len && !rc; i++) {
      if (i) rc = putc1(out, ',');
      if (!rc) rc = put_str(out, v->u.members[i].key, v->u.members[i].key_len);
      if (!rc) rc = putc1(out, ':');
      if (!rc) rc = dump_value(v->u.members[i].value, out);
    }
    if (!rc) rc = putc1(out, '}');
    return rc;
  }
  return MG_EINVAL;
}

int mg_json_dump(const mg_json *v, mg_buf *out) {
  size_t len0 = out->len;
  int rc = dump_value(v, out);
  if (rc) {
    out->len = len0; /* nothing appended on failure */
  }
  if (out->data) out->data[out->len] = '\0';
  return rc;
}

char *mg_json_dumps(mg_arena *a, const mg_json *v, size_t *len) {
  mg_buf b;
  mg_buf_init(&b, (size_t)1 << 31);
  char *s = NULL;
  if (mg_json_dump(v, &b) == MG_OK) s = mg_arena_strndup(a, b.data ? b.data : "", b.len);
  if (s && len) *len = b.len;
  mg_buf_free(&b);
  return s;
}

/* ---- inspection ----------------------------------------------------------------------------- */

mg_json *mg_json_object_getn(const mg_json *obj, const char *key, size_t key_len) {
  if (!mg_json_is_object(obj)) return NULL;
  const mg_json_member *m = obj->u.members;
  for (size_t i = 0; i < obj->len; i++)
    if (m[i].key_len == key_len && memcmp(m[i].key, key, key_len) == 0) return m[i].value;
  return NULL;
}

mg_json *mg_json_object_get(const mg_json *obj, const char *key) {
  return mg_json_object_getn(obj, key, strlen(key));
}

int mg_json_equal(const mg_json *a, const mg_json *b) {
  if (a == b) return 1;
  if (!a || !b || a->type != b->type) return 0;
  switch (a->type) {
  case MG_JSON_NULL:
  case MG_JSON_TRUE:
  case MG_JSON_FALSE: return 1;
  case MG_JSON_INTEGER: return a->u.num.i == b->u.num.i;
  case MG_JSON_REAL: return a->u.num.d == b->u.num.d;
  case MG_JSON_STRING: return a->len == b->len && memcmp(a->u.str, b->u.str, a->len) == 0;
  case MG_JSON_ARRAY:
    if (a->len != b->len) return 0;
    for (size_t i = 0; i < a->len; i++)
      if (!mg_json_equal(a->u.items[i], b->u.items[i])) return 0;
    return 1;
  case MG_JSON_OBJECT:
    if (a->len != b->len) return 0;
    for (size_t i = 0; i < a->len; i++) {
      const mg_json *bv = mg_json_object_getn(b, a->u.members[i].key, a->u.members[i].key_len);
      if (!bv || !mg_json_equal(a->u.members[i].value, bv)) return 0;
    }
    return 1;
  }
  return 0;
}

/* ---- construction --------------------------------------------------------------------------- */

static mg_json *alloc_node(mg_arena *a, mg_json_type t) {
  mg_json *v = mg_arena_alloc(a, sizeof *v);
  if (!v) return NULL;
  memset(v, 0, sizeof *v);
  v->type = t;
  return v;
}

mg_json *mg_json_object(mg_arena *a) { return alloc_node(a, MG_JSON_OBJECT); }
mg_json *mg_json_array(mg_arena *a) { return alloc_node(a, MG_JSON_ARRAY); }

mg_json *mg_json_stringn(mg_arena *a, const char *s, size_t n) {
  mg_json *v = alloc_node(a, MG_JSON_STRING);
  if (!v) return NULL;
  char *copy = mg_arena_strndup(a, s, n);
  if (!copy) return NULL;
  v->u.str = copy;
  v->len = n;
  return v;
}

mg_json *mg_json_string(mg_arena *a, const char *s) { return mg_json_stringn(a, s, strlen(s)); }

mg_json *mg_json_integer(mg_arena *a, int64_t i) {
  mg_json *v = alloc_node(a, MG_JSON_INTEGER);
  char buf[32];
  if (!v) return NULL;
  int n = snprintf(buf, sizeof buf, "%lld", (long long)i);
  char *text = mg_arena_strndup(a, buf, (size_t)n);
  if (!text) return NULL;
  v->u.num.text = text;
  v->u.num.text_len = (size_t)n;
  v->u.num.i = i;
  v->u.num.d = (double)i;
  return v;
}

mg_json *mg_json_real(mg_arena *a, double d) {
  mg_json *v = alloc_node(a, MG_JSON_REAL);
  char buf[40];
  if (!v || !isfinite(d)) return NULL;
  int n = snprintf(buf, sizeof buf, "%.17g", d);
  /* keep it a real when read back: 2 → 2.0 */
  if (!strpbrk(buf, ".eE") && n + 2 < (int)sizeof buf) {
    buf[n++] = '.';
    buf[n++] = '0';
    buf[n] = '\0';
  }
  char *text = mg_arena_strndup(a, buf, (size_t)n);
  if (!text) return NULL;
  v->u.num.text = text;
  v->u.num.text_len = (size_t)n;
  v->u.num.d = d;
  return v;
}

static int grow(mg_arena *a, void **arr, size_t elem, size_t len, size_t *cap) {
  if (len < *cap) return MG_OK;
  size_t ncap = *cap ? *cap * 2 : 4;
  void *n = mg_arena_alloc(a, ncap * elem);
  if (!n) return MG_ENOMEM;
  if (len) memcpy(n, *arr, len * elem);
  *arr = n;
  *cap = ncap;
  return MG_OK;
}

int mg_json_object_set(mg_arena *a, mg_json *obj, const char *key, mg_json *value) {
  if (!mg_json_is_object(obj) || !value || !key) return MG_EINVAL;
  size_t klen = strlen(key);
  for (size_t i = 0; i < obj->len; i++) {
    mg_json_member *m = &obj->u.members[i];
    if (m->key_len == klen && memcmp(m->key, key, klen) == 0) {
      m->value = value;
      return MG_OK;
    }
  }
  void *arr = obj->u.members;
  if (grow(a, &arr, sizeof(mg_json_member), obj->len, &obj->cap)) return MG_ENOMEM;
  obj->u.members = arr;
  char *k = mg_arena_strndup(a, key, klen);
  if (!k) return MG_ENOMEM;
  obj->u.members[obj->len].key = k;
  obj->u.members[obj->len].key_len = klen;
  obj->u.members[obj->len].value = value;
  obj->len++;
  return MG_OK;
}

int mg_json_object_del(mg_json *obj, const char *key) {
  if (!mg_json_is_object(obj)) return MG_ENOTFOUND;
  size_t klen = strlen(key);
  for (size_t i = 0; i < obj->len; i++) {
    mg_json_member *m = &obj->u.members[i];
    if (m->key_len == klen && memcmp(m->key, key, klen) == 0) {
      memmove(m, m + 1, (obj->len - i - 1) * sizeof *m);
      obj->len--;
      return MG_OK;
    }
  }
  return MG_ENOTFOUND;
}

int mg_json_array_append(mg_arena *a, mg_json *arr, mg_json *value) {
  if (!mg_json_is_array(arr) || !value) return MG_EINVAL;
  void *items = arr->u.items;
  if (grow(a, &items, sizeof(mg_json *), arr->len, &arr->cap)) return MG_ENOMEM;
  arr->u.items = items;
  arr->u.items[arr->len++] = value;
  return MG_OK;
}

int mg_json_array_set(mg_json *arr, size_t i, mg_json *value) {
  if (!mg_json_is_array(arr) || i >= arr->len || !value) return MG_EINVAL;
  arr->u.items[i] = value;
  return MG_OK;
}

int mg_json_array_remove(mg_json *arr, size_t i) {
  if (!mg_json_is_array(arr) || i >= arr->len) return MG_EINVAL;
  memmove(&arr->u.items[i], &arr->u.items[i + 1], (arr->len - i - 1) * sizeof(mg_json *));
  arr->len--;
  return MG_OK;
}

mg_json *mg_json_deep_copy(mg_arena *a, const mg_json *v) {
  if (!v) return NULL;
  switch (v->type) {
  case MG_JSON_NULL:
  case MG_JSON_TRUE:
  case MG_JSON_FALSE: return (mg_json *)v; /* immutable singletons or equivalent */
  case MG_JSON_INTEGER:
  case MG_JSON_REAL: {
    mg_json *n = alloc_node(a, v->type);
    if (!n) return NULL;
    *n = *v;
    n->u.num.text = mg_arena_strndup(a, v->u.num.text, v->u.num.text_len);
    return n->u.num.text ? n : NULL;
  }
  case MG_JSON_STRING: return mg_json_stringn(a, v->u.str, v->len);
  case MG_JSON_ARRAY: {
    mg_json *n = alloc_node(a, MG_JSON_ARRAY);
    if (!n) return NULL;
    if (v->len) {
      n->u.items = mg_arena_alloc(a, v->len * sizeof *n->u.items);
      if (!n->u.items) return NULL;
      for (size_t i = 0; i < v->len; i++)
        if (!(n->u.items[i] = mg_json_deep_copy(a, v->u.items[i]))) return NULL;
    }
    n->len = n->cap = v->len;
    return n;
  }
  case MG_JSON_OBJECT: {
    mg_json *n = alloc_node(a, MG_JSON_OBJECT);
    if (!n) return NULL;
    if (v->len) {
      n->u.members = mg_arena_alloc(a, v->len * sizeof *n->u.members);
      if (!n->u.members) return NULL;
      for (size_t i = 0; i < v->len; i++) {
        mg_json_member *m = &n->u.members[i];
        m->key_len = v->u.members[i].key_len;
        m->key = mg_arena_strndup(a, v->u.members[i].key, m->key_len);
        m->value = mg_json_deep_copy(a, v->u.members[i].value);
        if (!m->key || !m->value) return NULL;
      }
    }
    n->len = n->cap = v->len;
    return n;
  }
  }
  return NULL;
}
