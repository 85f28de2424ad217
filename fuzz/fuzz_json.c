/* fuzz/fuzz_json.c — libFuzzer harness for the JSON parser (core/json.h).
 *
 * The input is any byte string. Checked for every input:
 *  - differential: mg_json_parse (MG_JSON_DECODE_ANY) accepts exactly what jansson's json_loadb
 *    (JSON_REJECT_DUPLICATES | JSON_DECODE_ANY) accepts, and both build the same value. The one
 *    documented difference is nesting: mg_json stops at MG_JSON_MAX_DEPTH (256), jansson at
 *    JSON_PARSER_MAX_DEPTH (2048), so an mg rejection for depth is not a disagreement. Inputs
 *    holding a raw NUL byte are never valid JSON and must be rejected; jansson is not consulted
 *    for them, as json_loadb 2.14 wrongly accepts a NUL right after a number ("3.5\0");
 *  - without MG_JSON_DECODE_ANY the parser accepts the same texts restricted to an object or
 *    array at the top level;
 *  - a rejection fills mg_json_error sensibly (position within the input, line/column >= 1;
 *    also valid UTF-8 text);
 *  - the DOM keeps its promises: strings and keys are NUL-terminated at their length, hold no
 *    NUL and are valid UTF-8; objects have no duplicate keys; numbers keep their text;
 *  - round trip: mg_json_dump then mg_json_parse gives an mg_json_equal value whose dump is
 *    byte-identical; mg_json_dumps and mg_json_deep_copy agree with it.
 * jansson is used here only as the reference (test-only, as docs/engineering.md allows). */
#include <jansson.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_common.h"

#include "core/json.h"

/* Structural invariants of a parsed value. */
static void check_dom(const mg_json *v) {
  switch (v->type) {
  case MG_JSON_NULL:
  case MG_JSON_TRUE:
  case MG_JSON_FALSE: break;
  case MG_JSON_INTEGER:
  case MG_JSON_REAL:
    FUZZ_CHECK(v->u.num.text && v->u.num.text_len > 0);
    break;
  case MG_JSON_STRING:
    FUZZ_CHECK(v->u.str[v->len] == '\0' && strlen(v->u.str) == v->len);
    FUZZ_CHECK(fuzz_utf8_valid(v->u.str, v->len));
    break;
  case MG_JSON_ARRAY:
    for (size_t i = 0; i < v->len; i++) {
      FUZZ_CHECK(v->u.items[i] != NULL);
      check_dom(v->u.items[i]);
    }
    break;
  case MG_JSON_OBJECT:
    for (size_t i = 0; i < v->len; i++) {
      const mg_json_member *m = &v->u.members[i];
      FUZZ_CHECK(m->key[m->key_len] == '\0' && strlen(m->key) == m->key_len);
      FUZZ_CHECK(fuzz_utf8_valid(m->key, m->key_len));
      /* no duplicates: the first member with this key is this one */
      FUZZ_CHECK(mg_json_object_getn(v, m->key, m->key_len) == m->value);
      check_dom(m->value);
    }
    break;
  default: FUZZ_CHECK(!"unknown mg_json type");
  }
}

/* 1 if v and j are the same JSON value. */
static int same_as_jansson(const mg_json *v, const json_t *j) {
  switch (v->type) {
  case MG_JSON_NULL: return json_is_null(j);
  case MG_JSON_TRUE: return json_is_true(j);
  case MG_JSON_FALSE: return json_is_false(j);
  case MG_JSON_INTEGER: return json_is_integer(j) && json_integer_value(j) == v->u.num.i;
  case MG_JSON_REAL: return json_is_real(j) && json_real_value(j) == v->u.num.d;
  case MG_JSON_STRING:
    return json_is_string(j) && json_string_length(j) == v->len &&
           memcmp(json_string_value(j), v->u.str, v->len) == 0;
  case MG_JSON_ARRAY:
    if (!json_is_array(j) || json_array_size(j) != v->len) return 0;
    for (size_t i = 0; i < v->len; i++)
      if (!same_as_jansson(v->u.items[i], json_array_get(j, i))) return 0;
    return 1;
  case MG_JSON_OBJECT:
    if (!json_is_object(j) || json_object_size(j) != v->len) return 0;
    for (size_t i = 0; i < v->len; i++) {
      const mg_json_member *m = &v->u.members[i];
      const json_t *jv = json_object_getn(j, m->key, m->key_len);
      if (!jv || !same_as_jansson(m->value, jv)) return 0;
    }
    return 1;
  }
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  mg_arena a;
  mg_json_error e, e0;
  json_error_t je;
  const char *text = (const char *)data;

  fuzz_arena_init(&a);
  mg_json *v = mg_json_parse(&a, text, size, MG_JSON_DECODE_ANY, &e);
  json_t *j = json_loadb(text, size, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);

  if (!v) {
    FUZZ_CHECK(e.text[0] != '\0' && memchr(e.text, '\0', sizeof e.text) != NULL);
    FUZZ_CHECK(e.position <= size && e.line >= 1 && e.column >= 1);
    /* known defect: json.c quotes a duplicate key with "%.100s", which can cut a UTF-8
     * sequence; the text reaches HTTP error bodies through mg_xapi_parse_json */
    FUZZ_CHECK(fuzz_text_ok(e.text, sizeof e.text));
  }
  if (memchr(text, '\0', size)) {
    /* A raw NUL is never valid JSON. jansson is no reference here: json_loadb accepts a NUL
     * right after a number ("3.5\0", "[1\0]"), a jansson 2.14 quirk. */
    FUZZ_CHECK(v == NULL);
  } else if (!v != !j) {
    int depth_only = !v && strstr(e.text, "maximum nesting depth") != NULL;
    if (!depth_only)
      fprintf(stderr, "disagreement: mg_json %s (%s at %zu), jansson %s (%s at %d)\n",
              v ? "accepts" : "rejects", v ? "-" : e.text, v ? (size_t)0 : e.position,
              j ? "accepts" : "rejects", j ? "-" : je.text, j ? 0 : je.position);
    FUZZ_CHECK(depth_only);
  }
  if (v && j && !memchr(text, '\0', size)) FUZZ_CHECK(same_as_jansson(v, j));
  json_decref(j);

  /* the same text without MG_JSON_DECODE_ANY: only objects and arrays at the top level */
  mg_json *v0 = mg_json_parse(&a, text, size, 0, &e0);
  if (v && (mg_json_is_object(v) || mg_json_is_array(v))) {
    FUZZ_CHECK(v0 != NULL && mg_json_equal(v0, v));
  } else {
    FUZZ_CHECK(v0 == NULL);
  }

  if (v) {
    check_dom(v);
    FUZZ_CHECK(mg_json_equal(v, v));
    mg_json *w = fuzz_roundtrip(&a, v);
    check_dom(w);
    FUZZ_CHECK(fuzz_same_text(v, w)); /* the compact form is a fixed point */

    size_t dlen = 0;
    char *d = mg_json_dumps(&a, v, &dlen);
    mg_buf b;
    fuzz_dump(v, &b);
    FUZZ_CHECK(d != NULL && dlen == b.len && memcmp(d, b.data ? b.data : "", dlen) == 0);
    mg_buf_free(&b);

    mg_json *c = mg_json_deep_copy(&a, v);
    FUZZ_CHECK(c != NULL && mg_json_equal(c, v) && fuzz_same_text(c, v));
  }
  mg_arena_free(&a);
  return 0;
}
