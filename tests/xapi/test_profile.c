/* Tests for xapi/profile: the examples in docs/profile-examples pass, and every property the
 * table checks, removed or given a wrong value in turn, is rejected with its own path.
 *
 * The examples are read from $MG_SOURCE_DIR/docs/profile-examples (set by CTest), else from the
 * source tree found through __FILE__. Each example is also run through the full xAPI 2.0.0
 * validator; define MG_PROFILE_TEST_NO_VALIDATE to build this test without xapi/validate.c.
 * Each generated case mutates a deep copy of the example in its own arena, reset after the case. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/json.h"
#include "xapi/profile.h"
#include "xapi/validate.h"

static char examples_dir[1024];

static void find_examples_dir(void) {
  const char *src = getenv("MG_SOURCE_DIR");
  if (src && *src) {
    snprintf(examples_dir, sizeof examples_dir, "%.900s/docs/profile-examples", src);
    return;
  }
  /* __FILE__ is <root>/tests/xapi/test_profile.c */
  char buf[900];
  snprintf(buf, sizeof buf, "%s", __FILE__);
  for (int up = 0; up < 3; up++) {
    char *slash = strrchr(buf, '/');
    if (slash)
      *slash = '\0';
    else
      snprintf(buf, sizeof buf, "%s", up == 2 ? "." : "..");
  }
  snprintf(examples_dir, sizeof examples_dir, "%s/docs/profile-examples", buf);
}

/* The whole file at path, NUL-terminated, malloc'd for the caller to free; NULL on failure. */
static char *read_text(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  mg_buf b;
  char chunk[4096];
  size_t got;
  int rc = MG_OK;
  mg_buf_init(&b, 4 * 1024 * 1024);
  while (rc == MG_OK && (got = fread(chunk, 1, sizeof chunk, f)) > 0)
    rc = mg_buf_add(&b, chunk, got);
  if (ferror(f)) rc = MG_EIO;
  fclose(f);
  if (rc != MG_OK) {
    mg_buf_free(&b);
    return NULL;
  }
  *len = b.len;
  return mg_buf_take(&b);
}

/* Parses an example file into arena a; NULL (with a message) on failure. */
static mg_json *load_example(mg_arena *a, const char *name) {
  char path[1200];
  size_t len = 0;
  mg_json_error e;
  snprintf(path, sizeof path, "%s/%s.json", examples_dir, name);
  char *text = read_text(path, &len);
  if (!text) {
    print_error("cannot read %s\n", path);
    return NULL;
  }
  mg_json *j = mg_json_parse(a, text, len, 0, &e);
  if (!j) print_error("cannot load %s: %s (line %d)\n", path, e.text, e.line);
  free(text);
  return j;
}

/* Any JSON value written in C, parsed into a; fails the test if the text is not JSON. */
static mg_json *J(mg_arena *a, const char *text) {
  mg_json_error e;
  mg_json *j = mg_json_parse(a, text, strlen(text), MG_JSON_DECODE_ANY, &e);
  if (!j) fail_msg("bad test JSON (%s): %s", e.text, text);
  return j;
}

/* obj[key] = v, which must succeed. */
static void set(mg_arena *a, mg_json *obj, const char *key, mg_json *v) {
  assert_non_null(v);
  assert_int_equal(mg_json_object_set(a, obj, key, v), MG_OK);
}

static const mg_xapi_rule *rules_of(size_t *n) {
  const mg_xapi_rule *r = mg_xapi_profile_rules(n);
  assert_non_null(r);
  assert_true(*n > 0);
  return r;
}

/* ---- an independent model of where each property lives ------------------------------------- */

/* Path as the checker must report it, written out here rather than taken from the library. */
static void expected_path(const mg_xapi_field *f, char *out, size_t size) {
  switch (f->loc) {
  case MG_XAPI_LOC_STATEMENT: snprintf(out, size, "%s", f->key); break;
  case MG_XAPI_LOC_ACCOUNT: snprintf(out, size, "actor.account.%s", f->key); break;
  case MG_XAPI_LOC_CONTEXT: snprintf(out, size, "context.%s", f->key); break;
  case MG_XAPI_LOC_CTX_EXT: snprintf(out, size, "context.extensions[\"%s\"]", f->key); break;
  case MG_XAPI_LOC_RESULT: snprintf(out, size, "result.%s", f->key); break;
  case MG_XAPI_LOC_SCORE: snprintf(out, size, "result.score.%s", f->key); break;
  case MG_XAPI_LOC_RES_EXT: snprintf(out, size, "result.extensions[\"%s\"]", f->key); break;
  case MG_XAPI_LOC_OBJ_DEF: snprintf(out, size, "object.definition.%s", f->key); break;
  case MG_XAPI_LOC_CTX_ACTIVITY:
    snprintf(out, size, "context.contextActivities.%s", f->key);
    break;
  }
}

/* Object at a chain of keys under root, created on the way when create is set. */
static mg_json *walk(mg_arena *a, mg_json *root, int create, const char *k1, const char *k2,
                     const char *k3) {
  const char *keys[3] = {k1, k2, k3};
  mg_json *cur = root;
  for (int i = 0; i < 3 && keys[i]; i++) {
    mg_json *next = mg_json_object_get(cur, keys[i]);
    if (!mg_json_is_object(next)) {
      if (!create) return NULL;
      next = mg_json_object(a);
      assert_non_null(next);
      assert_int_equal(mg_json_object_set(a, cur, keys[i], next), 0);
    }
    cur = next;
  }
  return cur;
}

/* The object holding f (created in a when create is set; a is unused otherwise), or NULL. */
static mg_json *holder(mg_arena *a, mg_json *stmt, const mg_xapi_field *f, int create) {
  switch (f->loc) {
  case MG_XAPI_LOC_STATEMENT: return stmt;
  case MG_XAPI_LOC_ACCOUNT: return walk(a, stmt, create, "actor", "account", NULL);
  case MG_XAPI_LOC_CONTEXT: return walk(a, stmt, create, "context", NULL, NULL);
  case MG_XAPI_LOC_CTX_EXT: return walk(a, stmt, create, "context", "extensions", NULL);
  case MG_XAPI_LOC_RESULT: return walk(a, stmt, create, "result", NULL, NULL);
  case MG_XAPI_LOC_SCORE: return walk(a, stmt, create, "result", "score", NULL);
  case MG_XAPI_LOC_RES_EXT: return walk(a, stmt, create, "result", "extensions", NULL);
  case MG_XAPI_LOC_OBJ_DEF: return walk(a, stmt, create, "object", "definition", NULL);
  case MG_XAPI_LOC_CTX_ACTIVITY: return walk(a, stmt, create, "context", "contextActivities", NULL);
  }
  return NULL;
}

static int activity_is(const mg_json *act, const char *type) {
  const char *t =
      mg_json_string_value(mg_json_object_get(mg_json_object_get(act, "definition"), "type"));
  return t && strcmp(t, type) == 0;
}

/* Removes f from stmt. Returns 1 if something was there. */
static int remove_field(mg_json *stmt, const mg_xapi_field *f) {
  mg_json *h = holder(NULL, stmt, f, 0);
  if (!h) return 0;
  if (f->loc != MG_XAPI_LOC_CTX_ACTIVITY) return mg_json_object_del(h, f->key) == 0;
  mg_json *list = mg_json_object_get(h, f->key);
  int removed = 0;
  for (size_t i = mg_json_array_size(list); i-- > 0;)
    if (activity_is(mg_json_array_get(list, i), f->values[0])) {
      assert_int_equal(mg_json_array_remove(list, i), 0);
      removed = 1;
    }
  return removed;
}

/* Sets f to v (in arena a, as stmt), or for an activity requirement retypes the matching
 * activity (v is then unused). */
static void set_field(mg_arena *a, mg_json *stmt, const mg_xapi_field *f, mg_json *v) {
  assert_non_null(v);
  mg_json *h = holder(a, stmt, f, 1);
  assert_non_null(h);
  if (f->loc != MG_XAPI_LOC_CTX_ACTIVITY) {
    assert_int_equal(mg_json_object_set(a, h, f->key, v), 0);
    return;
  }
  mg_json *list = mg_json_object_get(h, f->key);
  for (size_t i = 0; i < mg_json_array_size(list); i++) {
    mg_json *act = mg_json_array_get(list, i);
    if (activity_is(act, f->values[0]))
      assert_int_equal(mg_json_object_set(a, mg_json_object_get(act, "definition"), "type",
                                          mg_json_string(a, "http://example.org/activities/other")),
                       0);
  }
}

/* Wrong values for each type, as JSON text. */
static const char *const *bad_values(mg_xapi_ftype t) {
  static const char *const string_bad[] = {"42", "\"\"", "null", "[\"x\"]", "{}", NULL};
  static const char *const text_bad[] = {"42", "null", "false", NULL};
  static const char *const uuid_bad[] = {"\"not-a-uuid\"", "\"6b1f3c52-8a0e-4d2b-9f47-2c5e8d1a7b3\"",
                                         "\"6b1f3c52-8a0e-4d2b-9f47-2c5e8d1a7b300\"", "7", NULL};
  static const char *const ip_bad[] = {"\"999.1.1.1\"", "\"example.org\"", "\"10.0.0.1:443\"",
                                       "\"\"", "\"2409:8a55::1::2\"", "17", NULL};
  static const char *const ts_bad[] = {"\"2024-03-11T20:15:03\"", "\"yesterday\"",
                                       "\"2024-03-11\"", "1710159303", NULL};
  static const char *const dur_bad[] = {"\"10s\"", "\"PT\"", "41.3", NULL};
  static const char *const number_bad[] = {"\"8\"", "null", "true", NULL};
  static const char *const nonneg_bad[] = {"-1", "-0.001", "\"12.5\"", NULL};
  static const char *const positive_bad[] = {"0", "-3", "\"2\"", NULL};
  static const char *const fraction_bad[] = {"1.01", "-0.1", "\"0.5\"", "2", NULL};
  static const char *const count_bad[] = {"-1", "1.5", "\"3\"", NULL};
  static const char *const ordinal_bad[] = {"0", "-2", "2.5", "\"1\"", NULL};
  static const char *const bool_bad[] = {"\"true\"", "1", "null", NULL};
  static const char *const true_bad[] = {"false", "\"true\"", "1", NULL};
  static const char *const false_bad[] = {"true", "\"false\"", "0", NULL};
  static const char *const enum_bad[] = {"\"not-a-value\"", "\"\"", "3", NULL};
  static const char *const speed_bad[] = {"1.5", "\"1.5\"", "\"fast\"", "\"0x\"", "\"1.5X\"",
                                          "\"x\"", "\"1.x\"", NULL};
  static const char *const seg_bad[] = {"\"0-30\"", "\"0[.]\"", "\"[.]5\"", "\"0[.]5[,]\"",
                                        "\"0[.]5[,]7\"", "5", NULL};
  static const char *const cam_bad[] = {"\"two\"", "[]", "[{\"role\": \"tertiary\", \"device-id\": \"x\"}]",
                                        "[{\"role\": \"primary\"}]", "[\"primary\"]", NULL};
  static const char *const activity_bad[] = {"null", NULL}; /* retypes the activity */
  switch (t) {
  case MG_XAPI_T_STRING: return string_bad;
  case MG_XAPI_T_TEXT: return text_bad;
  case MG_XAPI_T_UUID: return uuid_bad;
  case MG_XAPI_T_IP: return ip_bad;
  case MG_XAPI_T_TIMESTAMP: return ts_bad;
  case MG_XAPI_T_DURATION: return dur_bad;
  case MG_XAPI_T_NUMBER: return number_bad;
  case MG_XAPI_T_NONNEG: return nonneg_bad;
  case MG_XAPI_T_POSITIVE: return positive_bad;
  case MG_XAPI_T_FRACTION: return fraction_bad;
  case MG_XAPI_T_COUNT: return count_bad;
  case MG_XAPI_T_ORDINAL: return ordinal_bad;
  case MG_XAPI_T_BOOL: return bool_bad;
  case MG_XAPI_T_TRUE: return true_bad;
  case MG_XAPI_T_FALSE: return false_bad;
  case MG_XAPI_T_ENUM: return enum_bad;
  case MG_XAPI_T_SPEED: return speed_bad;
  case MG_XAPI_T_SEGMENTS: return seg_bad;
  case MG_XAPI_T_CAMERAS: return cam_bad;
  case MG_XAPI_T_ACTIVITY: return activity_bad;
  }
  fail_msg("no bad values for type %d", (int)t);
  return NULL;
}

/* Acceptable values other than the examples' own, so the checker is not stricter than the
 * document. NULL for types whose good values depend on the field. */
static const char *const *good_values(mg_xapi_ftype t) {
  static const char *const string_good[] = {"\"x\"", "\"设备-01\"", NULL};
  static const char *const text_good[] = {"\"\"", "\"答案\"", NULL};
  static const char *const uuid_good[] = {"\"6B1F3C52-8A0E-4D2B-9F47-2C5E8D1A7B30\"", NULL};
  static const char *const ip_good[] = {"\"10.0.0.1\"", "\"::1\"", "\"2409:8a55:3c1:1f20::1a2b\"",
                                        "\"::ffff:1.2.3.4\"", NULL};
  static const char *const ts_good[] = {"\"2024-03-11T12:15:03Z\"", "\"2024-03-11T20:15:03+08:00\"",
                                        "\"2024-03-11T20:15:03.123456+0800\"", NULL};
  static const char *const dur_good[] = {"\"PT0S\"", "\"PT1H2M3.25S\"", "\"P1D\"", NULL};
  static const char *const number_good[] = {"0", "-5", "87.5", NULL};
  static const char *const nonneg_good[] = {"0", "0.001", "7200", NULL};
  static const char *const positive_good[] = {"0.5", "3", NULL};
  static const char *const fraction_good[] = {"0", "1", "0.333", NULL};
  static const char *const count_good[] = {"0", "12345", NULL};
  static const char *const ordinal_good[] = {"1", "3", NULL};
  static const char *const bool_good[] = {"true", "false", NULL};
  static const char *const speed_good[] = {"\"1x\"", "\"0.75x\"", "\"16x\"", "\"-1x\"", NULL};
  static const char *const seg_good[] = {"\"\"", "\"0[.]5\"", "\"0.5[.]12[,]30[.]61.25\"", NULL};
  static const char *const cam_good[] = {"[{\"role\": \"primary\", \"device-id\": \"d1\"}]", NULL};
  switch (t) {
  case MG_XAPI_T_STRING: return string_good;
  case MG_XAPI_T_TEXT: return text_good;
  case MG_XAPI_T_UUID: return uuid_good;
  case MG_XAPI_T_IP: return ip_good;
  case MG_XAPI_T_TIMESTAMP: return ts_good;
  case MG_XAPI_T_DURATION: return dur_good;
  case MG_XAPI_T_NUMBER: return number_good;
  case MG_XAPI_T_NONNEG: return nonneg_good;
  case MG_XAPI_T_POSITIVE: return positive_good;
  case MG_XAPI_T_FRACTION: return fraction_good;
  case MG_XAPI_T_COUNT: return count_good;
  case MG_XAPI_T_ORDINAL: return ordinal_good;
  case MG_XAPI_T_BOOL: return bool_good;
  case MG_XAPI_T_SPEED: return speed_good;
  case MG_XAPI_T_SEGMENTS: return seg_good;
  case MG_XAPI_T_CAMERAS: return cam_good;
  default: return NULL;
  }
}

/* Properties that decide between rows: changing them to another good value changes the kind. */
static int is_discriminator(const mg_xapi_field *f) {
  size_t n;
  const mg_xapi_rule *rules = rules_of(&n);
  for (size_t i = 0; i < n; i++)
    if (rules[i].disc.key && rules[i].disc.loc == f->loc && strcmp(rules[i].disc.key, f->key) == 0)
      return 1;
  return 0;
}

#define MAX_FIELDS 64

static void expect_rejected(const mg_json *stmt, const mg_xapi_rule *r, const mg_xapi_field *f,
                            const char *what) {
  mg_xapi_error err;
  char want[256], lib[256];
  memset(&err, 0, sizeof err);
  expected_path(f, want, sizeof want);
  mg_xapi_profile_field_path(f, lib, sizeof lib);
  assert_string_equal(lib, want);
  int rc = mg_xapi_profile_check(stmt, &err);
  if (rc != MG_EINVAL || strcmp(err.path, want) != 0)
    fail_msg("%s: %s %s: got rc=%d path=%s message=%s", r->name, what, want, rc, err.path,
             err.message);
  assert_true(strlen(err.message) > 0);
  assert_non_null(strstr(err.message, "profile requires"));
}

static void expect_accepted(const mg_json *stmt, const mg_xapi_rule *r, const char *what) {
  mg_xapi_error err;
  memset(&err, 0, sizeof err);
  int rc = mg_xapi_profile_check(stmt, &err);
  if (rc != MG_OK)
    fail_msg("%s: %s: rc=%d path=%s message=%s", r->name, what, rc, err.path, err.message);
}

/* ---- tests ---------------------------------------------------------------------------------- */

static void test_examples_pass(void **state) {
  (void)state;
  size_t n;
  const mg_xapi_rule *rules = rules_of(&n);
  mg_arena a;
  mg_arena_init(&a, 0, 0);
  for (size_t i = 0; i < n; i++) {
    mg_json *s = load_example(&a, rules[i].name);
    if (!s) fail_msg("missing example docs/profile-examples/%s.json", rules[i].name);
    assert_int_equal(mg_xapi_profile_claims(s), 1);
    if (mg_xapi_profile_kind(s) != rules[i].kind)
      fail_msg("%s.json is classified as %s", rules[i].name,
               mg_xapi_profile_kind_name(mg_xapi_profile_kind(s)));
    expect_accepted(s, &rules[i], "example");
#ifndef MG_PROFILE_TEST_NO_VALIDATE
    mg_xapi_error err;
    memset(&err, 0, sizeof err);
    if (mg_xapi_validate_statement(s, MG_XAPI_V200, "", &err) != MG_OK)
      fail_msg("%s.json is not valid xAPI 2.0.0: %s: %s", rules[i].name, err.path, err.message);
#endif
    mg_arena_reset(&a);
  }
  mg_arena_free(&a);
}

/* Every file in the folder is the example of exactly one row. */
static void test_no_stray_examples(void **state) {
  (void)state;
  size_t n, files = 0;
  const mg_xapi_rule *rules = rules_of(&n);
  DIR *d = opendir(examples_dir);
  if (!d) fail_msg("cannot open %s", examples_dir);
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    size_t len = strlen(e->d_name);
    if (len < 6 || strcmp(e->d_name + len - 5, ".json") != 0) continue;
    int found = 0;
    for (size_t i = 0; i < n; i++)
      if (strlen(rules[i].name) == len - 5 && strncmp(rules[i].name, e->d_name, len - 5) == 0)
        found = 1;
    if (!found) {
      closedir(d);
      fail_msg("%s matches no record kind", e->d_name);
    }
    files++;
  }
  closedir(d);
  assert_int_equal(files, n);
}

static void test_each_field_removed(void **state) {
  (void)state;
  size_t n, required = 0, optional = 0;
  const mg_xapi_rule *rules = rules_of(&n);
  mg_arena ex_a, case_a;
  mg_arena_init(&ex_a, 0, 0);
  mg_arena_init(&case_a, 0, 0);
  for (size_t i = 0; i < n; i++) {
    const mg_xapi_rule *r = &rules[i];
    const mg_xapi_field *fields[MAX_FIELDS];
    size_t nf = mg_xapi_profile_fields(r, fields, MAX_FIELDS);
    assert_true(nf <= MAX_FIELDS);
    mg_json *ex = load_example(&ex_a, r->name);
    assert_non_null(ex);
    for (size_t k = 0; k < nf; k++) {
      mg_json *s = mg_json_deep_copy(&case_a, ex);
      assert_non_null(s);
      int was_there = remove_field(s, fields[k]);
      if (fields[k]->required) {
        char want[256];
        expected_path(fields[k], want, sizeof want);
        if (!was_there) fail_msg("%s.json lacks required %s", r->name, want);
        expect_rejected(s, r, fields[k], "without");
        required++;
      } else {
        expect_accepted(s, r, "without an optional property");
        optional++;
      }
      mg_arena_reset(&case_a);
    }
    mg_arena_reset(&ex_a);
  }
  mg_arena_free(&case_a);
  mg_arena_free(&ex_a);
  print_message("removed %zu required and %zu optional properties\n", required, optional);
  assert_true(required > n * 10);
}

static void test_each_field_mistyped(void **state) {
  (void)state;
  size_t n, cases = 0;
  const mg_xapi_rule *rules = rules_of(&n);
  mg_arena ex_a, case_a;
  mg_arena_init(&ex_a, 0, 0);
  mg_arena_init(&case_a, 0, 0);
  for (size_t i = 0; i < n; i++) {
    const mg_xapi_rule *r = &rules[i];
    const mg_xapi_field *fields[MAX_FIELDS];
    size_t nf = mg_xapi_profile_fields(r, fields, MAX_FIELDS);
    mg_json *ex = load_example(&ex_a, r->name);
    assert_non_null(ex);
    for (size_t k = 0; k < nf; k++) {
      for (const char *const *bv = bad_values(fields[k]->type); *bv; bv++) {
        mg_json *s = mg_json_deep_copy(&case_a, ex);
        assert_non_null(s);
        set_field(&case_a, s, fields[k], J(&case_a, *bv));
        char what[128];
        snprintf(what, sizeof what, "with %.100s as", *bv);
        expect_rejected(s, r, fields[k], what);
        mg_arena_reset(&case_a);
        cases++;
      }
    }
    mg_arena_reset(&ex_a);
  }
  mg_arena_free(&case_a);
  mg_arena_free(&ex_a);
  print_message("rejected %zu wrong values\n", cases);
}

static void test_each_field_other_good_values(void **state) {
  (void)state;
  size_t n, cases = 0;
  const mg_xapi_rule *rules = rules_of(&n);
  mg_arena ex_a, case_a;
  mg_arena_init(&ex_a, 0, 0);
  mg_arena_init(&case_a, 0, 0);
  for (size_t i = 0; i < n; i++) {
    const mg_xapi_rule *r = &rules[i];
    const mg_xapi_field *fields[MAX_FIELDS];
    size_t nf = mg_xapi_profile_fields(r, fields, MAX_FIELDS);
    mg_json *ex = load_example(&ex_a, r->name);
    assert_non_null(ex);
    for (size_t k = 0; k < nf; k++) {
      const char *const *gv = good_values(fields[k]->type);
      if (fields[k]->type == MG_XAPI_T_ENUM) {
        for (const char *const *v = fields[k]->values; *v; v++) {
          if (is_discriminator(fields[k])) break;
          mg_json *s = mg_json_deep_copy(&case_a, ex);
          assert_non_null(s);
          set_field(&case_a, s, fields[k], mg_json_string(&case_a, *v));
          expect_accepted(s, r, *v);
          mg_arena_reset(&case_a);
          cases++;
        }
      }
      if (!gv || is_discriminator(fields[k])) continue;
      for (; *gv; gv++) {
        mg_json *s = mg_json_deep_copy(&case_a, ex);
        assert_non_null(s);
        set_field(&case_a, s, fields[k], J(&case_a, *gv));
        expect_accepted(s, r, *gv);
        mg_arena_reset(&case_a);
        cases++;
      }
    }
    mg_arena_reset(&ex_a);
  }
  mg_arena_free(&case_a);
  mg_arena_free(&ex_a);
  print_message("accepted %zu other good values\n", cases);
}

/* The context.extensions object of s. */
static mg_json *ctx_ext_of(mg_json *s) {
  return mg_json_object_get(mg_json_object_get(s, "context"), "extensions");
}

/* A hand-written case, so a wrong path renderer cannot hide behind the loops above. */
static void test_message_names_field_and_kind(void **state) {
  (void)state;
  mg_arena a;
  mg_arena_init(&a, 0, 0);
  mg_json *s = load_example(&a, "video-played");
  assert_non_null(s);
  mg_json_object_del(ctx_ext_of(s), "https://moocguard.org/xapi/ext/device-id");
  mg_xapi_error err;
  assert_int_equal(mg_xapi_profile_check(s, &err), MG_EINVAL);
  assert_string_equal(err.path, "context.extensions[\"https://moocguard.org/xapi/ext/device-id\"]");
  assert_string_equal(err.message, "profile requires device-id for video-played statements");
  /* err may be NULL */
  assert_int_equal(mg_xapi_profile_check(s, NULL), MG_EINVAL);
  set(&a, ctx_ext_of(s), "https://moocguard.org/xapi/ext/device-id", mg_json_integer(&a, 5));
  assert_int_equal(mg_xapi_profile_check(s, &err), MG_EINVAL);
  assert_string_equal(err.message,
                      "profile requires device-id to be a non-empty string in video-played statements");
  mg_arena_reset(&a);

  s = load_example(&a, "session-login");
  set(&a, ctx_ext_of(s), "https://moocguard.org/xapi/ext/login-method",
      mg_json_string(&a, "password1"));
  assert_int_equal(mg_xapi_profile_check(s, &err), MG_EINVAL);
  assert_string_equal(err.path,
                      "context.extensions[\"https://moocguard.org/xapi/ext/login-method\"]");
  assert_non_null(strstr(err.message, "one of password, sms, qr, sso, token, face, other"));
  mg_arena_reset(&a);

  s = load_example(&a, "video-paused");
  mg_json *grouping = mg_json_object_get(
      mg_json_object_get(mg_json_object_get(s, "context"), "contextActivities"), "grouping");
  while (mg_json_array_size(grouping) > 0)
    assert_int_equal(mg_json_array_remove(grouping, mg_json_array_size(grouping) - 1), MG_OK);
  assert_int_equal(mg_xapi_profile_check(s, &err), MG_EINVAL);
  assert_string_equal(err.path, "context.contextActivities.grouping");
  assert_non_null(strstr(err.message, "http://adlnet.gov/expapi/activities/course"));
  mg_arena_free(&a);
}

static mg_json *category_of(mg_json *s) {
  return mg_json_object_get(
      mg_json_object_get(mg_json_object_get(s, "context"), "contextActivities"), "category");
}

static void test_not_claiming_is_not_checked(void **state) {
  (void)state;
  size_t n;
  const mg_xapi_rule *rules = rules_of(&n);
  mg_arena a;
  mg_arena_init(&a, 0, 0);
  for (size_t i = 0; i < n; i++) {
    mg_json *s = load_example(&a, rules[i].name);
    assert_non_null(s);
    mg_json *cat = category_of(s);
    for (size_t k = mg_json_array_size(cat); k-- > 0;)
      if (strcmp(mg_json_string_value(mg_json_object_get(mg_json_array_get(cat, k), "id")),
                 MG_XAPI_PROFILE_IRI) == 0)
        mg_json_array_remove(cat, k);
    /* strip what the profile would demand */
    mg_json_object_del(mg_json_object_get(s, "context"), "extensions");
    mg_json_object_del(s, "timestamp");
    set(&a, mg_json_object_get(s, "verb"), "id",
        mg_json_string(&a, "http://example.org/verbs/danced"));
    assert_int_equal(mg_xapi_profile_claims(s), 0);
    assert_int_equal(mg_xapi_profile_kind(s), MG_XAPI_KIND_NONE);
    assert_int_equal(mg_xapi_profile_check(s, NULL), MG_OK);
    mg_arena_reset(&a);
  }
  /* no context at all, and values that are not statements */
  mg_json *bare = J(&a, "{\"verb\": {\"id\": \"http://example.org/v\"},"
                        " \"object\": {\"id\": \"http://example.org/a\"}}");
  assert_int_equal(mg_xapi_profile_claims(bare), 0);
  assert_int_equal(mg_xapi_profile_check(bare, NULL), MG_OK);
  mg_json *arr = mg_json_array(&a);
  assert_non_null(arr);
  assert_int_equal(mg_xapi_profile_claims(arr), 0);
  assert_int_equal(mg_xapi_profile_check(arr, NULL), MG_OK);
  assert_int_equal(mg_xapi_profile_claims(NULL), 0);
  mg_arena_free(&a);
}

static void test_claim_forms(void **state) {
  (void)state;
  mg_arena a;
  mg_arena_init(&a, 0, 0);
  mg_json *s = load_example(&a, "page-viewed");
  assert_non_null(s);
  mg_json *ca = mg_json_object_get(mg_json_object_get(s, "context"), "contextActivities");
  /* a 1.0.3 client may send one activity instead of an array */
  set(&a, ca, "category", J(&a, "{\"id\": \"" MG_XAPI_PROFILE_IRI "\"}"));
  assert_int_equal(mg_xapi_profile_claims(s), 1);
  assert_int_equal(mg_xapi_profile_check(s, NULL), MG_OK);
  /* among other categories */
  set(&a, ca, "category",
      J(&a, "[{\"id\": \"https://w3id.org/xapi/cmi5/context/categories/cmi5\"},"
            " {\"id\": \"" MG_XAPI_PROFILE_IRI "\"}]"));
  assert_int_equal(mg_xapi_profile_claims(s), 1);
  /* another version of the profile, or the IRI used elsewhere, is no claim */
  set(&a, ca, "category", J(&a, "[{\"id\": \"https://moocguard.org/xapi/profile/1.1\"}]"));
  assert_int_equal(mg_xapi_profile_claims(s), 0);
  set(&a, ca, "category", mg_json_array(&a));
  set(&a, ca, "parent", J(&a, "[{\"id\": \"" MG_XAPI_PROFILE_IRI "\"}]"));
  assert_int_equal(mg_xapi_profile_claims(s), 0);
  set(&a, ca, "category", J(&a, "[{\"id\": 5}]"));
  assert_int_equal(mg_xapi_profile_claims(s), 0);
  mg_arena_free(&a);
}

static void test_unknown_verb(void **state) {
  (void)state;
  mg_arena a;
  mg_arena_init(&a, 0, 0);
  mg_json *s = load_example(&a, "video-played");
  assert_non_null(s);
  set(&a, mg_json_object_get(s, "verb"), "id",
      mg_json_string(&a, "http://example.org/verbs/danced"));
  mg_xapi_error err;
  assert_int_equal(mg_xapi_profile_check(s, &err), MG_EINVAL);
  assert_string_equal(err.path, "verb.id");
  assert_non_null(strstr(err.message, "http://example.org/verbs/danced"));
  assert_int_equal(mg_xapi_profile_kind(s), MG_XAPI_KIND_NONE);
  mg_json_object_del(s, "verb");
  assert_int_equal(mg_xapi_profile_check(s, &err), MG_EINVAL);
  assert_string_equal(err.path, "verb.id");
  mg_arena_free(&a);
}

/* A row's verb with another object type falls to the untyped row of that verb if there is one,
 * otherwise it is rejected at object.definition.type. */
static void test_wrong_object_type(void **state) {
  (void)state;
  size_t n, tested = 0;
  const mg_xapi_rule *rules = rules_of(&n);
  mg_arena a;
  mg_arena_init(&a, 0, 0);
  for (size_t i = 0; i < n; i++) {
    if (!rules[i].type) continue;
    const mg_xapi_rule *fallback = NULL;
    for (size_t k = 0; k < n; k++)
      if (!rules[k].type && strcmp(rules[k].verb, rules[i].verb) == 0) fallback = &rules[k];
    for (int drop = 0; drop < 2; drop++) {
      mg_json *s = load_example(&a, rules[i].name);
      assert_non_null(s);
      mg_json *def = mg_json_object_get(mg_json_object_get(s, "object"), "definition");
      if (drop)
        mg_json_object_del(def, "type");
      else
        set(&a, def, "type", mg_json_string(&a, "http://example.org/activities/other"));
      mg_xapi_error err;
      int rc = mg_xapi_profile_check(s, &err);
      if (fallback) {
        assert_int_equal(mg_xapi_profile_kind(s), fallback->kind);
        if (drop) {
          /* the untyped row still wants a type */
          assert_int_equal(rc, MG_EINVAL);
          assert_string_equal(err.path, "object.definition.type");
        }
      } else {
        assert_int_equal(rc, MG_EINVAL);
        assert_string_equal(err.path, "object.definition.type");
        assert_non_null(strstr(err.message, rules[i].type));
        assert_int_equal(mg_xapi_profile_kind(s), MG_XAPI_KIND_NONE);
      }
      mg_arena_reset(&a);
      tested++;
    }
  }
  mg_arena_free(&a);
  assert_true(tested > 20);
}

static void test_discriminators(void **state) {
  (void)state;
  mg_xapi_error err;
  mg_arena a;
  mg_arena_init(&a, 0, 0);
  /* an exam start needs cameras; a quiz start does not */
  mg_json *s = load_example(&a, "exam-started");
  assert_non_null(s);
  mg_json *ext = ctx_ext_of(s);
  assert_int_equal(mg_xapi_profile_kind(s), MG_XAPI_KIND_EXAM_STARTED);
  set(&a, ext, MG_XAPI_EXT_ASSESSMENT_KIND, mg_json_string(&a, "quiz"));
  mg_json_object_del(ext, MG_XAPI_EXT_CAMERA_COUNT);
  mg_json_object_del(ext, MG_XAPI_EXT_CAMERAS_REQUIRED);
  assert_int_equal(mg_xapi_profile_kind(s), MG_XAPI_KIND_ATTEMPT_STARTED);
  assert_int_equal(mg_xapi_profile_check(s, &err), MG_OK);
  set(&a, ext, MG_XAPI_EXT_ASSESSMENT_KIND, mg_json_string(&a, "exam"));
  assert_int_equal(mg_xapi_profile_check(s, &err), MG_EINVAL);
  assert_string_equal(err.path, "context.extensions[\"" MG_XAPI_EXT_CAMERAS_REQUIRED "\"]");
  mg_arena_reset(&a);

  /* an essay has no correctness at answer time; a choice item must say */
  s = load_example(&a, "item-answered");
  assert_non_null(s);
  mg_json *res = mg_json_object_get(s, "result");
  mg_json *def = mg_json_object_get(mg_json_object_get(s, "object"), "definition");
  mg_json_object_del(res, "success");
  assert_int_equal(mg_xapi_profile_check(s, &err), MG_EINVAL);
  assert_string_equal(err.path, "result.success");
  set(&a, def, "interactionType", mg_json_string(&a, "long-fill-in"));
  mg_json_object_del(def, "choices");
  mg_json_object_del(def, "correctResponsesPattern");
  assert_int_equal(mg_xapi_profile_kind(s), MG_XAPI_KIND_ITEM_ANSWERED_OPEN);
  assert_int_equal(mg_xapi_profile_check(s, &err), MG_OK);
  mg_arena_free(&a);
}

static void test_actor_must_be_agent(void **state) {
  (void)state;
  mg_arena a;
  mg_arena_init(&a, 0, 0);
  mg_json *s = load_example(&a, "page-viewed");
  assert_non_null(s);
  mg_json *actor = mg_json_object_get(s, "actor");
  set(&a, actor, "objectType", mg_json_string(&a, "Group"));
  mg_xapi_error err;
  assert_int_equal(mg_xapi_profile_check(s, &err), MG_EINVAL);
  assert_string_equal(err.path, "actor.account.homePage");
  mg_json_object_del(actor, "objectType"); /* Agent is the default */
  assert_int_equal(mg_xapi_profile_check(s, &err), MG_OK);
  mg_json_object_del(actor, "account");
  set(&a, actor, "mbox", mg_json_string(&a, "mailto:2023010123@example.edu.cn"));
  assert_int_equal(mg_xapi_profile_check(s, &err), MG_EINVAL);
  assert_string_equal(err.path, "actor.account.homePage");
  mg_arena_free(&a);
}

static void test_voiding_is_not_checked(void **state) {
  (void)state;
  mg_arena a;
  mg_arena_init(&a, 0, 0);
  mg_json *s = load_example(&a, "video-played");
  assert_non_null(s);
  set(&a, mg_json_object_get(s, "verb"), "id",
      mg_json_string(&a, "http://adlnet.gov/expapi/verbs/voided"));
  set(&a, s, "object",
      J(&a, "{\"objectType\": \"StatementRef\","
            " \"id\": \"b71e5d30-2c8f-4a96-b0e4-6d1f9a3c8e27\"}"));
  mg_json_object_del(mg_json_object_get(s, "context"), "platform");
  assert_int_equal(mg_xapi_profile_check(s, NULL), MG_OK);
  assert_int_equal(mg_xapi_profile_kind(s), MG_XAPI_KIND_NONE);
  mg_arena_free(&a);
}

/* Strings with a NUL inside cannot come from the server's parser, but must not pass if they do. */
static void test_hidden_nul(void **state) {
  (void)state;
  mg_arena a;
  mg_arena_init(&a, 0, 0);
  mg_json *s = load_example(&a, "video-played");
  assert_non_null(s);
  set(&a, ctx_ext_of(s), MG_XAPI_EXT_CLIENT_IP, mg_json_stringn(&a, "10.0.0.1\0x", 10));
  mg_xapi_error err;
  assert_int_equal(mg_xapi_profile_check(s, &err), MG_EINVAL);
  assert_string_equal(err.path, "context.extensions[\"" MG_XAPI_EXT_CLIENT_IP "\"]");
  mg_arena_free(&a);
}

static void test_parse_speed(void **state) {
  (void)state;
  double v = 0;
  assert_int_equal(mg_xapi_profile_parse_speed("1x", &v), MG_OK);
  assert_true(v == 1.0);
  assert_int_equal(mg_xapi_profile_parse_speed("1.25x", &v), MG_OK);
  assert_true(v > 1.2499 && v < 1.2501);
  assert_int_equal(mg_xapi_profile_parse_speed("-2x", &v), MG_OK);
  assert_true(v == -2.0);
  assert_int_equal(mg_xapi_profile_parse_speed("0.5x", NULL), MG_OK);
  static const char *const bad[] = {"", "x", "1", "1.5", "1.x", ".5x", "0x", "1.5X", " 1x",
                                    "1x ", "+1x", "--1x", "1e3x", "1234567890x", NULL};
  for (const char *const *b = bad; *b; b++)
    if (mg_xapi_profile_parse_speed(*b, &v) != MG_EINVAL) fail_msg("accepted speed \"%s\"", *b);
  assert_int_equal(mg_xapi_profile_parse_speed(NULL, &v), MG_EINVAL);
}

/* The document names every kind and every checked property, so it cannot silently fall behind
 * the table. */
static void test_document_covers_table(void **state) {
  (void)state;
  char path[1200];
  snprintf(path, sizeof path, "%s/../profile.md", examples_dir);
  FILE *f = fopen(path, "rb");
  if (!f) fail_msg("cannot open %s", path);
  static char doc[512 * 1024];
  size_t len = fread(doc, 1, sizeof doc - 1, f);
  fclose(f);
  assert_true(len > 0 && len < sizeof doc - 1);
  doc[len] = '\0';
  size_t n;
  const mg_xapi_rule *rules = rules_of(&n);
  for (size_t i = 0; i < n; i++) {
    char want[300];
    snprintf(want, sizeof want, "### `%s`", rules[i].name);
    if (!strstr(doc, want)) {
      /* kinds documented together share a heading: "### `a` and `b`" */
      snprintf(want, sizeof want, "`%s`", rules[i].name);
      if (!strstr(doc, want)) fail_msg("profile.md does not describe %s", rules[i].name);
    }
    if (!strstr(doc, rules[i].verb)) fail_msg("profile.md does not name verb %s", rules[i].verb);
    if (rules[i].type && !strstr(doc, rules[i].type))
      fail_msg("profile.md does not name type %s", rules[i].type);
    const mg_xapi_field *fields[MAX_FIELDS];
    size_t nf = mg_xapi_profile_fields(&rules[i], fields, MAX_FIELDS);
    for (size_t k = 0; k < nf; k++) {
      const char *key = fields[k]->key;
      if (fields[k]->loc == MG_XAPI_LOC_CTX_EXT || fields[k]->loc == MG_XAPI_LOC_RES_EXT) {
        if (!strstr(doc, key)) fail_msg("profile.md does not name %s", key);
      } else if (fields[k]->loc == MG_XAPI_LOC_CTX_ACTIVITY) {
        if (!strstr(doc, fields[k]->values[0])) fail_msg("profile.md misses %s", fields[k]->values[0]);
      } else {
        snprintf(want, sizeof want, "%s`", key);
        if (!strstr(doc, want)) fail_msg("profile.md does not name %s", key);
      }
      for (const char *const *v = fields[k]->values; fields[k]->type == MG_XAPI_T_ENUM && *v; v++) {
        snprintf(want, sizeof want, "`%s`", *v);
        if (!strstr(doc, want)) fail_msg("profile.md does not list value %s of %s", *v, key);
      }
    }
  }
}

/* Writes into out the path of the first place where x and y differ ("" for the roots). Returns 1
 * if they differ. For messages only: mg_json_equal decides. */
static int first_difference(const mg_json *x, const mg_json *y, char *out, size_t size) {
  size_t used = strlen(out);
  if (!x || !y || x->type != y->type) return 1;
  if (mg_json_is_object(x)) {
    for (size_t i = 0; i < x->len; i++) {
      const mg_json_member *m = &x->u.members[i];
      snprintf(out + used, size - used, "[\"%s\"]", m->key);
      if (first_difference(m->value, mg_json_object_getn(y, m->key, m->key_len), out, size))
        return 1;
    }
    for (size_t i = 0; i < y->len; i++) {
      const mg_json_member *m = &y->u.members[i];
      snprintf(out + used, size - used, "[\"%s\"]", m->key);
      if (!mg_json_object_getn(x, m->key, m->key_len)) return 1;
    }
    out[used] = '\0';
    return 0;
  }
  if (mg_json_is_array(x)) {
    if (x->len != y->len) return 1;
    for (size_t i = 0; i < x->len; i++) {
      snprintf(out + used, size - used, "[%zu]", i);
      if (first_difference(x->u.items[i], y->u.items[i], out, size)) return 1;
    }
    out[used] = '\0';
    return 0;
  }
  return !mg_json_equal(x, y);
}

/* Compares a ```json block of profile.md (fence on line `line`) with r's example file. */
static void compare_doc_example(mg_arena *a, const mg_xapi_rule *r, const char *text, size_t len,
                                size_t line) {
  mg_json_error e;
  mg_json *in_doc = mg_json_parse(a, text, len, 0, &e);
  if (!in_doc)
    fail_msg("profile.md line %zu: the example of %s is not JSON: %s", line + (size_t)e.line,
             r->name, e.text);
  mg_json *in_file = load_example(a, r->name);
  if (!in_file) fail_msg("missing example docs/profile-examples/%s.json", r->name);
  if (!mg_json_equal(in_doc, in_file)) {
    char where[512] = "";
    first_difference(in_doc, in_file, where, sizeof where);
    fail_msg("profile.md line %zu: the example of %s differs from docs/profile-examples/%s.json "
             "at %s",
             line, r->name, r->name, where[0] ? where : "the top level");
  }
}

/* Every complete statement in profile.md is, as JSON, its kind's file in docs/profile-examples:
 * a ```json block under a "### `kind`" heading is that kind's example; a heading naming several
 * kinds ("### `a` and `b`") is followed by their examples in the same order. */
static void test_document_examples_match_files(void **state) {
  (void)state;
  char path[1200];
  size_t len = 0, n, compared = 0;
  const mg_xapi_rule *rules = rules_of(&n);
  int seen[MG_XAPI_KIND_COUNT_] = {0};
  const mg_xapi_rule *section[8]; /* kinds named by the current ### heading */
  size_t n_section = 0, used = 0, lineno = 0;
  mg_arena a;
  snprintf(path, sizeof path, "%s/../profile.md", examples_dir);
  char *doc = read_text(path, &len);
  if (!doc) fail_msg("cannot read %s", path);
  mg_arena_init(&a, 0, 0);
  const char *p = doc, *end = doc + len;
  while (p < end) {
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    size_t ll = eol ? (size_t)(eol - p) : (size_t)(end - p);
    const char *next = eol ? eol + 1 : end;
    lineno++;
    if (ll >= 3 && strncmp(p, "## ", 3) == 0) {
      n_section = used = 0;
    } else if (ll >= 4 && strncmp(p, "### ", 4) == 0) {
      n_section = used = 0;
      for (const char *q = p; (q = memchr(q, '`', (size_t)(p + ll - q))) != NULL;) {
        const char *close = memchr(q + 1, '`', (size_t)(p + ll - q - 1));
        if (!close) break;
        for (size_t i = 0; i < n; i++)
          if (strlen(rules[i].name) == (size_t)(close - q - 1) &&
              strncmp(rules[i].name, q + 1, (size_t)(close - q - 1)) == 0) {
            assert_true(n_section < sizeof section / sizeof section[0]);
            section[n_section++] = &rules[i];
          }
        q = close + 1;
      }
    } else if (ll >= 3 && strncmp(p, "```", 3) == 0) {
      int is_json = ll == 7 && strncmp(p + 3, "json", 4) == 0;
      size_t open_line = lineno;
      const char *body = next, *q = next;
      /* find the closing fence */
      for (;;) {
        if (q >= end) fail_msg("profile.md line %zu: code block never closed", open_line);
        const char *qe = memchr(q, '\n', (size_t)(end - q));
        size_t ql = qe ? (size_t)(qe - q) : (size_t)(end - q);
        lineno++;
        if (ql == 3 && strncmp(q, "```", 3) == 0) break;
        q = qe ? qe + 1 : end;
      }
      size_t body_len = (size_t)(q - body);
      next = q + 3 < end && q[3] == '\n' ? q + 4 : q + 3;
      if (is_json && n_section > 0) {
        if (used == n_section)
          fail_msg("profile.md line %zu: more examples under the heading than kinds it names",
                   open_line);
        const mg_xapi_rule *r = section[used++];
        compare_doc_example(&a, r, body, body_len, open_line);
        seen[r->kind]++;
        compared++;
        mg_arena_reset(&a);
      } else if (is_json) {
        /* outside the kinds' sections only fragments are expected, never a statement */
        mg_json *v = mg_json_parse(&a, body, body_len, 0, NULL);
        if (mg_json_object_get(v, "actor") && mg_json_object_get(v, "verb"))
          fail_msg("profile.md line %zu: a statement outside any record kind's section", open_line);
        mg_arena_reset(&a);
      }
    }
    p = next;
  }
  mg_arena_free(&a);
  free(doc);
  for (size_t i = 0; i < n; i++)
    if (seen[rules[i].kind] != 1)
      fail_msg("profile.md shows %d examples of %s, wants 1", seen[rules[i].kind], rules[i].name);
  assert_int_equal(compared, n);
  print_message("compared %zu examples in profile.md with their files\n", compared);
}

static void test_table_is_consistent(void **state) {
  (void)state;
  size_t n;
  const mg_xapi_rule *rules = rules_of(&n);
  int seen[MG_XAPI_KIND_COUNT_] = {0};
  for (size_t i = 0; i < n; i++) {
    const mg_xapi_rule *r = &rules[i];
    assert_true(r->kind > MG_XAPI_KIND_NONE && r->kind < MG_XAPI_KIND_COUNT_);
    assert_int_equal(seen[r->kind], 0);
    seen[r->kind] = 1;
    assert_string_equal(mg_xapi_profile_kind_name(r->kind), r->name);
    assert_true(r->n_fields > 0);
    /* a typed row must come before the untyped row of the same verb, or it could never match */
    for (size_t k = 0; k < i; k++)
      if (!rules[k].type && strcmp(rules[k].verb, r->verb) == 0)
        fail_msg("%s is shadowed by %s", r->name, rules[k].name);
  }
  for (int k = 1; k < MG_XAPI_KIND_COUNT_; k++)
    if (!seen[k]) fail_msg("kind %d has no row", k);
  assert_string_equal(mg_xapi_profile_kind_name(MG_XAPI_KIND_NONE), "none");
  assert_string_equal(mg_xapi_profile_kind_name(MG_XAPI_KIND_COUNT_), "none");
  /* the field enumerator reports its total even when out is short */
  const mg_xapi_field *one[1];
  assert_true(mg_xapi_profile_fields(&rules[0], one, 1) > 1);
}

int main(void) {
  find_examples_dir();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_table_is_consistent),
      cmocka_unit_test(test_examples_pass),
      cmocka_unit_test(test_no_stray_examples),
      cmocka_unit_test(test_document_covers_table),
      cmocka_unit_test(test_document_examples_match_files),
      cmocka_unit_test(test_each_field_removed),
      cmocka_unit_test(test_each_field_mistyped),
      cmocka_unit_test(test_each_field_other_good_values),
      cmocka_unit_test(test_message_names_field_and_kind),
      cmocka_unit_test(test_not_claiming_is_not_checked),
      cmocka_unit_test(test_claim_forms),
      cmocka_unit_test(test_unknown_verb),
      cmocka_unit_test(test_wrong_object_type),
      cmocka_unit_test(test_discriminators),
      cmocka_unit_test(test_actor_must_be_agent),
      cmocka_unit_test(test_voiding_is_not_checked),
      cmocka_unit_test(test_hidden_nul),
      cmocka_unit_test(test_parse_speed),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
