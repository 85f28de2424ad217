/* fuzz/fuzz_common.h — helpers shared by moocguard's libFuzzer harnesses (fuzz/fuzz_*.c).
 *
 * Every harness feeds one untrusted input to a parser, then checks invariants that must hold
 * for any input (round trips, determinism, "does not modify", agreement with a reference). A
 * broken invariant prints what broke and executes __builtin_trap(), which libFuzzer records as a
 * crash with the input that caused it. Everything here is header-only and static so each
 * harness stays one translation unit. Nothing is owned across calls: the helpers that allocate
 * say so, and each harness frees all it allocated before returning (LeakSanitizer is on). */
#ifndef MG_FUZZ_COMMON_H
#define MG_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/json.h"

/* A broken invariant: say which, then trap (libFuzzer saves the input as crash-<sha1>). */
#define FUZZ_CHECK(cond)                                                                       \
  do {                                                                                         \
    if (!(cond)) {                                                                             \
      fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond);             \
      __builtin_trap();                                                                        \
    }                                                                                          \
  } while (0)

/* MG_FUZZ_STRICT=1 in the environment turns on the checks of known, reported defects (see
 * fuzz/README.md "Known defects"); without it they are skipped so that fuzzing can go on looking
 * for new ones. */
static inline int fuzz_strict(void) {
  static int strict = -1;
  if (strict < 0) {
    const char *s = getenv("MG_FUZZ_STRICT");
    strict = s && *s && strcmp(s, "0") != 0;
  }
  return strict;
}

#define FUZZ_CHECK_STRICT(cond)                                                                \
  do {                                                                                         \
    if (fuzz_strict()) FUZZ_CHECK(cond);                                                       \
  } while (0)

/* Arenas in the harnesses hand out one malloc per allocation (a chunk size of 1 makes every
 * request "oversized"), so AddressSanitizer sees the exact bounds of every value; with the
 * default 64 KiB chunks an overflow inside a chunk would go unnoticed. The limit keeps a hostile
 * input from exhausting memory. A build without ASan (a long campaign) uses the production chunk
 * size, so the arena's chunking path is exercised too. */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FUZZ_ARENA_CHUNK 1
#endif
#endif
#ifndef FUZZ_ARENA_CHUNK
#define FUZZ_ARENA_CHUNK ((size_t)64 << 10)
#endif
#define FUZZ_ARENA_LIMIT ((size_t)256 << 20)

static inline void fuzz_arena_init(mg_arena *a) {
  mg_arena_init(a, FUZZ_ARENA_CHUNK, FUZZ_ARENA_LIMIT);
}

/* A malloc'd NUL-terminated copy of d[0..n) (the caller frees it), or NULL when out of memory.
 * An embedded NUL simply ends the C string early, as it would for a header value. */
static inline char *fuzz_cstr(const uint8_t *d, size_t n) {
  char *s = malloc(n + 1);
  if (!s) return NULL;
  if (n) memcpy(s, d, n);
  s[n] = '\0';
  return s;
}

/* 1 if s[0..n) is well-formed UTF-8 (RFC 3629: no overlong forms, surrogates or code points
 * past U+10FFFF). */
static inline int fuzz_utf8_valid(const char *str, size_t n) {
  const unsigned char *s = (const unsigned char *)str;
  size_t i = 0;
  while (i < n) {
    unsigned char c = s[i];
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c < 0x80) {
      i++;
      continue;
    }
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return 0;
    }
    if (n - i < len || s[i + 1] < lo || s[i + 1] > hi) return 0;
    for (size_t k = 2; k < len; k++)
      if ((s[i + k] & 0xC0) != 0x80) return 0;
    i += len;
  }
  return 1;
}

/* A C string that lies within cap bytes and is valid UTF-8: what may be put in a JSON reply. */
static inline int fuzz_text_ok(const char *s, size_t cap) {
  const char *nul = memchr(s, '\0', cap);
  return nul && fuzz_utf8_valid(s, (size_t)(nul - s));
}

/* The compact serialisation of v in a malloc'd buffer b (the caller frees it with
 * mg_buf_free). Traps if dumping fails: only allocation could make it fail, and the inputs are
 * far below the limit. */
static inline void fuzz_dump(const mg_json *v, mg_buf *b) {
  mg_buf_init(b, (size_t)1 << 30);
  FUZZ_CHECK(mg_json_dump(v, b) == 0);
}

/* Checks that serialising v and parsing the text again gives an equal value, in arena a.
 * Returns the re-parsed value. */
static inline mg_json *fuzz_roundtrip(mg_arena *a, const mg_json *v) {
  mg_buf b;
  mg_json_error e;
  fuzz_dump(v, &b);
  mg_json *w = mg_json_parse(a, b.data ? b.data : "", b.len, MG_JSON_DECODE_ANY, &e);
  if (!w) fprintf(stderr, "re-parse failed: %s at %zu in %.300s\n", e.text, e.position, b.data);
  FUZZ_CHECK(w != NULL);
  FUZZ_CHECK(mg_json_equal(v, w) && mg_json_equal(w, v));
  mg_buf_free(&b);
  return w;
}

/* 1 if the compact serialisations of x and y are byte-identical (same member order too). */
static inline int fuzz_same_text(const mg_json *x, const mg_json *y) {
  mg_buf bx, by;
  fuzz_dump(x, &bx);
  fuzz_dump(y, &by);
  int same = bx.len == by.len && (bx.len == 0 || memcmp(bx.data, by.data, bx.len) == 0);
  mg_buf_free(&bx);
  mg_buf_free(&by);
  return same;
}

/* Reverses the member order of every object in v, in place (v must be ours to change). */
static inline void fuzz_reverse_members(mg_json *v) {
  if (mg_json_is_array(v)) {
    for (size_t i = 0; i < v->len; i++) fuzz_reverse_members(v->u.items[i]);
  } else if (mg_json_is_object(v)) {
    for (size_t i = 0, j = v->len; i + 1 < j; i++, j--) {
      mg_json_member t = v->u.members[i];
      v->u.members[i] = v->u.members[j - 1];
      v->u.members[j - 1] = t;
    }
    for (size_t i = 0; i < v->len; i++) fuzz_reverse_members(v->u.members[i].value);
  }
}

/* A deep copy of v in arena a with every object's members in reverse order: the same JSON value
 * for anything that must not depend on key order. */
static inline mg_json *fuzz_reversed(mg_arena *a, const mg_json *v) {
  mg_json *c = mg_json_deep_copy(a, v);
  FUZZ_CHECK(c != NULL);
  fuzz_reverse_members(c);
  FUZZ_CHECK(mg_json_equal(c, v));
  return c;
}

/* Splits d[0..n) at the first byte sep: the head gets what precedes it, the tail what follows
 * (tail is NULL with length 0 when sep does not occur). */
static inline void fuzz_split(const uint8_t *d, size_t n, uint8_t sep, const uint8_t **head,
                              size_t *head_len, const uint8_t **tail, size_t *tail_len) {
  const uint8_t *at = n ? memchr(d, sep, n) : NULL;
  *head = d;
  if (!at) {
    *head_len = n;
    *tail = NULL;
    *tail_len = 0;
    return;
  }
  *head_len = (size_t)(at - d);
  *tail = at + 1;
  *tail_len = n - *head_len - 1;
}

#endif
