/* Unit tests for core/json: grammar, strict UTF-8, duplicate keys, limits, output, changes; and a
 * differential check of accept/reject decisions against jansson on the same inputs. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/json.h"
#include "support.h"

static mg_arena g_a;

static int setup(void **state) {
  (void)state;
  mg_arena_init(&g_a, 4096, 0);
  return 0;
}
static int teardown(void **state) {
  (void)state;
  mg_arena_free(&g_a);
  return 0;
}

static mg_json *parse(const char *s) { return mg_json_parse(&g_a, s, strlen(s), MG_JSON_DECODE_ANY, NULL); }

static char *dump(const mg_json *v) {
  static char out[4096];
  mg_buf b;
  mg_buf_init(&b, sizeof out - 1);
  assert_int_equal(mg_json_dump(v, &b), MG_OK);
  snprintf(out, sizeof out, "%s", b.data ? b.data : "");
  mg_buf_free(&b);
  return out;
}

static void parses_and_dumps_in_order(void **state) {
  (void)state;
  const char *in = " { \"b\" : [1, -0, 2.50, 1e3, -1.5E-2, true, false, null, \"x\"], \"a\": {}, \"c\": [] } ";
  mg_json *v = parse(in);
  assert_non_null(v);
  assert_true(mg_json_is_object(v));
  assert_int_equal(mg_json_object_size(v), 3);
  assert_string_equal(dump(v),
                      "{\"b\":[1,-0,2.50,1e3,-1.5E-2,true,false,null,\"x\"],\"a\":{},\"c\":[]}");
  mg_json *b = mg_json_object_get(v, "b");
  assert_int_equal(mg_json_array_size(b), 9);
  assert_true(mg_json_is_integer(mg_json_array_get(b, 0)));
  assert_int_equal(mg_json_integer_value(mg_json_array_get(b, 0)), 1);
  assert_true(mg_json_is_real(mg_json_array_get(b, 2)));
  assert_true(mg_json_number_value(mg_json_array_get(b, 2)) == 2.5);
  assert_true(mg_json_number_value(mg_json_array_get(b, 3)) == 1000.0);
  assert_true(mg_json_is_true(mg_json_array_get(b, 5)));
  assert_true(mg_json_is_null(mg_json_array_get(b, 7)));
  assert_null(mg_json_array_get(b, 9));
  assert_null(mg_json_object_get(v, "zz"));
  assert_null(mg_json_object_get(b, "a")); /* not an object */
  assert_null(mg_json_string_value(b));
  const char *k;
  mg_json *val;
  int n = 0;
  mg_json_object_foreach(v, k, val) {
    size_t i;
    mg_json *x;
    int m = 0;
    mg_json_array_foreach(val, i, x) m += x != NULL; /* nests without shadowing */
    if (!strcmp(k, "b")) assert_int_equal(m, 9);
    n++;
  }
  assert_int_equal(n, 3);
  /* empty containers before any member was seen (clang UBSan caught NULL + 0 here once) */
  assert_string_equal(dump(parse("{}")), "{}");
  assert_string_equal(dump(parse("[{}]")), "[{}]");
  assert_string_equal(dump(parse("{\"a\":{},\"b\":[]}")), "{\"a\":{},\"b\":[]}");
  assert_int_equal(mg_json_integer_value(parse("-9223372036854775808")), INT64_MIN);
  assert_int_equal(mg_json_integer_value(parse("9223372036854775807")), INT64_MAX);
}

static void strings_unescape_and_validate(void **state) {
  (void)state;
  mg_json *v = parse("\"a\\\"b\\\\c\\/d\\n\\t\\u00e9\\u4e2d\\ud83d\\ude00\"");
  assert_non_null(v);
  assert_string_equal(mg_json_string_value(v), "a\"b\\c/d\n\té中😀");
  assert_int_equal(mg_json_string_length(v), strlen("a\"b\\c/d\n\té中😀"));
  assert_string_equal(dump(v), "\"a\\\"b\\\\c/d\\n\\té中😀\"");
  v = parse("\"高等数学 · 第一章\"");
  assert_string_equal(mg_json_string_value(v), "高等数学 · 第一章");
  static const char *const bad[] = {
      "\"\xff\"",             /* invalid byte */
      "\"\xc0\xaf\"",         /* overlong '/' */
      "\"\xe0\x80\xaf\"",     /* overlong */
      "\"\xed\xa0\x80\"",     /* UTF-8 encoded surrogate */
      "\"\xf4\x90\x80\x80\"", /* > U+10FFFF */
      "\"\xe4\xb8\"",         /* truncated sequence */
      "\"\\ud800\"",          /* lone high surrogate */
      "\"\\udc00\"",          /* lone low surrogate */
      "\"\\ud800\\u0041\"",   /* high + non-low */
      "\"\\u0000\"",          /* NUL */
      "\"\\x41\"",            /* bad escape */
      "\"\\u12g4\"",          /* bad hex */
      "\"a\tb\"",             /* raw control character */
      "\"abc",                /* unterminated */
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    mg_json_error e;
    if (mg_json_parse(&g_a, bad[i], strlen(bad[i]), MG_JSON_DECODE_ANY, &e))
      fail_msg("accepted bad string #%zu", i);
    assert_true(e.text[0] != '\0');
  }
}

static void grammar_errors_report_position(void **state) {
  (void)state;
  static const char *const bad[] = {
      "", " ", "{", "[1,]", "[1 2]", "{\"a\" 1}", "{\"a\":1,}", "{a:1}", "[01]", "[1.]", "[.5]",
      "[1e]", "[-]", "[+1]", "[tru]", "[nul]", "[1] x", "[NaN]", "[Infinity]", "{\"a\":1}}",
      "[\"a\" \"b\"]", "[1,,2]", "{,}", "[1e999]", "[99999999999999999999]",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    mg_json_error e;
    if (mg_json_parse(&g_a, bad[i], strlen(bad[i]), MG_JSON_DECODE_ANY, &e))
      fail_msg("accepted bad document '%s'", bad[i]);
  }
  mg_json_error e;
  const char *doc = "{\n  \"a\": 1,\n  \"b\": @\n}";
  assert_null(mg_json_parse(&g_a, doc, strlen(doc), 0, &e));
  assert_int_equal(e.line, 3);
  assert_int_equal(e.column, 8);
  assert_non_null(strstr(e.text, "unexpected character"));
  /* top level must be a container unless DECODE_ANY */
  assert_null(mg_json_parse(&g_a, "42", 2, 0, &e));
  assert_non_null(mg_json_parse(&g_a, "42", 2, MG_JSON_DECODE_ANY, &e));
  /* embedded NUL is not whitespace */
  assert_null(mg_json_parse(&g_a, "[1]\0", 4, 0, &e));
}

static void duplicate_keys_rejected_small_and_large(void **state) {
  (void)state;
  mg_json_error e;
  const char *small = "{\"verb\":1,\"x\":{\"id\":1,\"id\":2}}";
  assert_null(mg_json_parse(&g_a, small, strlen(small), 0, &e));
  assert_non_null(strstr(e.text, "duplicate object key 'id'"));
  /* a 40-member object takes the sorting path */
  char big[2048];
  size_t off = 0;
  off += (size_t)snprintf(big + off, sizeof big - off, "{");
  for (int i = 0; i < 40; i++)
    off += (size_t)snprintf(big + off, sizeof big - off, "%s\"k%d\":%d", i ? "," : "", i, i);
  snprintf(big + off, sizeof big - off, "}");
  assert_non_null(mg_json_parse(&g_a, big, strlen(big), 0, &e));
  big[strlen(big) - 1] = '\0';
  strncat(big, ",\"k17\":0}", sizeof big - strlen(big) - 1);
  assert_null(mg_json_parse(&g_a, big, strlen(big), 0, &e));
  assert_non_null(strstr(e.text, "k17"));
  /* same key in different objects is fine */
  assert_non_null(parse("[{\"a\":1},{\"a\":2}]"));
}

static void depth_is_bounded(void **state) {
  (void)state;
  size_t n = MG_JSON_MAX_DEPTH + 1;
  char *s = malloc(2 * n + 1);
  assert_non_null(s);
  memset(s, '[', n);
  memset(s + n, ']', n);
  s[2 * n] = '\0';
  mg_json_error e;
  assert_null(mg_json_parse(&g_a, s, 2 * n, 0, &e));
  assert_non_null(strstr(e.text, "depth"));
  assert_non_null(mg_json_parse(&g_a, s + 1, 2 * n - 2, 0, &e)); /* exactly the limit */
  free(s);
}

static void construct_change_copy_compare(void **state) {
  (void)state;
  mg_json *o = mg_json_object(&g_a);
  assert_int_equal(mg_json_object_set(&g_a, o, "id", mg_json_string(&g_a, "x")), MG_OK);
  assert_int_equal(mg_json_object_set(&g_a, o, "n", mg_json_integer(&g_a, -42)), MG_OK);
  assert_int_equal(mg_json_object_set(&g_a, o, "r", mg_json_real(&g_a, 2.0)), MG_OK);
  mg_json *arr = mg_json_array(&g_a);
  for (int i = 0; i < 10; i++) assert_int_equal(mg_json_array_append(&g_a, arr, mg_json_integer(&g_a, i)), MG_OK);
  assert_int_equal(mg_json_object_set(&g_a, o, "arr", arr), MG_OK);
  assert_int_equal(mg_json_object_set(&g_a, o, "id", mg_json_string(&g_a, "y")), MG_OK); /* replace */
  assert_int_equal(mg_json_array_remove(arr, 0), MG_OK);
  assert_int_equal(mg_json_array_set(arr, 0, mg_json_true()), MG_OK);
  assert_int_equal(mg_json_array_remove(arr, 99), MG_EINVAL);
  assert_string_equal(dump(o), "{\"id\":\"y\",\"n\":-42,\"r\":2.0,\"arr\":[true,2,3,4,5,6,7,8,9]}");
  assert_int_equal(mg_json_object_del(o, "n"), MG_OK);
  assert_int_equal(mg_json_object_del(o, "n"), MG_ENOTFOUND);
  assert_string_equal(dump(o), "{\"id\":\"y\",\"r\":2.0,\"arr\":[true,2,3,4,5,6,7,8,9]}");
  mg_arena other;
  mg_arena_init(&other, 0, 0);
  mg_json *c = mg_json_deep_copy(&other, o);
  assert_true(mg_json_equal(c, o));
  assert_int_equal(mg_json_object_set(&other, c, "r", mg_json_integer(&other, 2)), MG_OK);
  assert_false(mg_json_equal(c, o)); /* 2 and 2.0 differ, as in jansson */
  mg_arena_free(&other);
  assert_true(mg_json_equal(parse("{\"a\":1,\"b\":[1,{\"c\":null}]}"), parse("{\"b\":[1,{\"c\":null}],\"a\":1}")));
  assert_false(mg_json_equal(parse("[1,2]"), parse("[2,1]")));
  assert_int_equal(mg_json_object_set(&g_a, arr, "x", o), MG_EINVAL); /* not an object */
  char *s = mg_json_dumps(&g_a, o, NULL);
  assert_non_null(s);
  assert_non_null(parse(s));
}

static void arena_limit_fails_cleanly(void **state) {
  (void)state;
  mg_arena small;
  mg_arena_init(&small, 1024, 4096);
  char doc[8192];
  size_t off = 0;
  off += (size_t)snprintf(doc + off, sizeof doc - off, "[");
  for (int i = 0; i < 500; i++) off += (size_t)snprintf(doc + off, sizeof doc - off, "%s\"v%d\"", i ? "," : "", i);
  snprintf(doc + off, sizeof doc - off, "]");
  mg_json_error e;
  assert_null(mg_json_parse(&small, doc, strlen(doc), 0, &e));
  assert_non_null(strstr(e.text, "out of memory"));
  mg_arena_free(&small);
}

/* Accept/reject must agree with jansson (JSON_REJECT_DUPLICATES | JSON_DECODE_ANY) on every
 * input, except documented differences; inputs are mutated from a realistic statement. */
static void agrees_with_jansson(void **state) {
  (void)state;
  const char *seed =
      "{\"id\":\"fd41c918-b88b-4b20-a0a5-a4c32391aaa0\",\"actor\":{\"objectType\":\"Agent\","
      "\"account\":{\"homePage\":\"https://id.pku.edu.cn\",\"name\":\"2024001\"}},\"verb\":{\"id\":"
      "\"https://w3id.org/xapi/video/verbs/played\",\"display\":{\"zh-CN\":\"播放\"}},\"object\":"
      "{\"id\":\"https://mooc.example.cn/v/1\"},\"result\":{\"score\":{\"scaled\":0.5,\"raw\":-1e2}},"
      "\"context\":{\"extensions\":{\"https://w3id.org/xapi/video/extensions/speed\":\"1.5x\"}}}";
  size_t len = strlen(seed);
  char *buf = malloc(len + 8);
  assert_non_null(buf);
  unsigned seedv = 12345;
  int checked = 0;
  static const char alphabet[] = "{}[]\",:\\0123456789.eE-+ tfnul\xff\xc3\xa9\x80";
  for (int round = 0; round < 20000; round++) {
    memcpy(buf, seed, len + 1);
    int edits = 1 + round % 3;
    for (int k = 0; k < edits; k++) {
      seedv = seedv * 1103515245u + 12345u;
      size_t pos = (seedv >> 8) % len;
      seedv = seedv * 1103515245u + 12345u;
      buf[pos] = alphabet[(seedv >> 8) % (sizeof alphabet - 1)];
    }
    json_error_t je;
    json_t *j = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
    mg_json *m = mg_json_parse(&g_a, buf, len, MG_JSON_DECODE_ANY, NULL);
    if ((j != NULL) != (m != NULL)) fail_msg("disagree on: %s (jansson %s)", buf, j ? "accepts" : je.text);
    json_decref(j);
    checked++;
    if (round % 1000 == 0) mg_arena_reset(&g_a);
  }
  free(buf);
  assert_int_equal(checked, 20000);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(parses_and_dumps_in_order),
      cmocka_unit_test(strings_unescape_and_validate),
      cmocka_unit_test(grammar_errors_report_position),
      cmocka_unit_test(duplicate_keys_rejected_small_and_large),
      cmocka_unit_test(depth_is_bounded),
      cmocka_unit_test(construct_change_copy_compare),
      cmocka_unit_test(arena_limit_fails_cleanly),
      cmocka_unit_test(agrees_with_jansson),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
