/* detect/event: the targeted text extractor agrees with the DOM reader (core/json.h) on every
 * profile example, in compact and pretty form, and the record kind agrees with the profile
 * checker's; escaped strings hash like their unescaped DOM values. */
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
#include "core/err.h"
#include "core/json.h"
#include "detect/event.h"
#include "support.h"
#include "xapi/profile.h"

static void same_event(const mg_detect_event *a, const mg_detect_event *b, const char *what) {
#define EQ(f) do { if (a->f != b->f) fail_msg("%s: field " #f " differs", what); } while (0)
  EQ(kind); EQ(id_h); EQ(ts_us); EQ(recv_us); EQ(has); EQ(actor); EQ(reg); EQ(course);
  EQ(offering); EQ(platform); EQ(object); EQ(parent); EQ(device); EQ(ip); EQ(ip_net); EQ(ua);
  EQ(ua_family); EQ(csess); EQ(vsess); EQ(attempt); EQ(capture); EQ(post); EQ(response);
  EQ(cam_dev[0]); EQ(cam_dev[1]); EQ(client_seq); EQ(time); EQ(time_from); EQ(time_to);
  EQ(progress); EQ(length); EQ(speed); EQ(max_speed); EQ(volume); EQ(threshold); EQ(duration);
  EQ(score); EQ(face_threshold); EQ(input_count); EQ(attempt_number); EQ(camera_count);
  EQ(cameras_required); EQ(desc_chars); EQ(success); EQ(completion); EQ(offline); EQ(visible);
  EQ(akind); EQ(login); EQ(face_failure); EQ(face_purpose); EQ(n_cams);
#undef EQ
  assert_memory_equal(a->id, b->id, 16);
}

static void examples_agree(void **state) {
  (void)state;
  char dir[1024];
  const char *src = getenv("MG_SOURCE_DIR");
  snprintf(dir, sizeof dir, "%s/docs/profile-examples", src ? src : ".");
  DIR *dh = opendir(dir);
  assert_non_null(dh);
  struct dirent *de;
  int n = 0;
  static mg_detect_event a, b, c;
  mg_arena ar;
  mg_arena_init(&ar, 0, 0);
  while ((de = readdir(dh))) {
    if (!strstr(de->d_name, ".json")) continue;
    char path[1400];
    snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
    size_t len;
    char *text = mg_test_read_file(path, &len);
    assert_non_null(text);
    mg_json_error err;
    mg_json *dom = mg_json_parse(&ar, text, len, 0, &err);
    assert_non_null(dom);
    assert_int_equal(mg_detect_event_parse(text, len, &a), MG_OK);
    assert_int_equal(mg_detect_event_from_json(dom, &b), MG_OK);
    same_event(&a, &b, de->d_name);
    /* the record kind is the profile checker's */
    if (a.kind != mg_xapi_profile_kind(dom))
      fail_msg("%s: kind %d, profile says %d", de->d_name, a.kind, mg_xapi_profile_kind(dom));
    assert_int_not_equal(a.kind, MG_XAPI_KIND_NONE);
    /* compact (as stored) gives the same */
    size_t clen;
    char *compact = mg_json_dumps(&ar, dom, &clen);
    assert_non_null(compact);
    assert_int_equal(mg_detect_event_parse(compact, clen, &c), MG_OK);
    same_event(&a, &c, de->d_name);
    assert_true(a.actor != 0 && a.ts_us > 0);
    free(text);
    mg_arena_reset(&ar);
    n++;
  }
  closedir(dh);
  mg_arena_free(&ar);
  assert_int_equal(n, MG_XAPI_KIND_COUNT_ - 1); /* one example per kind */
}

static void spot_values(void **state) {
  (void)state;
  char path[1024];
  const char *src = getenv("MG_SOURCE_DIR");
  snprintf(path, sizeof path, "%s/docs/profile-examples/video-seeked.json", src ? src : ".");
  size_t len;
  char *text = mg_test_read_file(path, &len);
  assert_non_null(text);
  static mg_detect_event ev;
  assert_int_equal(mg_detect_event_parse(text, len, &ev), MG_OK);
  assert_int_equal(ev.kind, MG_XAPI_KIND_VIDEO_SEEKED);
  assert_true(ev.has & MG_DEV_HAS_TIME_FROM);
  assert_true(ev.time_from > 212.49 && ev.time_from < 212.51);
  assert_true(ev.time_to > 304.99 && ev.time_to < 305.01);
  assert_true(ev.length > 754.31 && ev.length < 754.33);
  assert_int_equal(ev.recv_us - ev.ts_us, 128000); /* 20:18:36.902 vs .774 */
  assert_int_equal(ev.client_seq, 12);
  assert_int_equal((int)ev.s_name.n, 10);
  assert_memory_equal(ev.s_name.p, "2023010123", 10);
  free(text);
  snprintf(path, sizeof path, "%s/docs/profile-examples/exam-started.json", src ? src : ".");
  text = mg_test_read_file(path, &len);
  assert_int_equal(mg_detect_event_parse(text, len, &ev), MG_OK);
  assert_int_equal(ev.kind, MG_XAPI_KIND_EXAM_STARTED);
  assert_int_equal(ev.akind, MG_DEV_AK_EXAM);
  assert_int_equal(ev.camera_count, 2);
  assert_int_equal(ev.cameras_required, 2);
  assert_int_equal(ev.n_cams, 2);
  assert_true(ev.cam_dev[0] && ev.cam_dev[1] && ev.cam_dev[0] != ev.cam_dev[1]);
  free(text);
}

static void escapes_hash_like_dom(void **state) {
  (void)state;
  const char *t =
      "{\"id\":\"6a2d8f13-b04e-4c97-a1f5-3e9c7b0d2a68\",\"timestamp\":\"2024-03-11T20:40:42.090+08:00\","
      "\"actor\":{\"account\":{\"homePage\":\"https://ids.example.edu.cn\",\"name\":\"20\\u00e9\\\"x\"}},"
      "\"verb\":{\"id\":\"https://w3id.org/xapi/acrossx/verbs/posted\"},"
      "\"object\":{\"id\":\"https://x.cn/t/1\",\"definition\":{\"type\":\"http://id.tincanapi.com/activitytype/forum-topic\"}},"
      "\"result\":{\"response\":\"\\u4e2d\\u6587\\ud83d\\ude00 tab\\there\"},"
      "\"context\":{\"registration\":\"6b1f3c52-8a0e-4d2b-9f47-2c5e8d1a7b30\","
      "\"contextActivities\":{\"category\":[{\"id\":\"https://moocguard.org/xapi/profile/1.0\"}]}}}";
  static mg_detect_event a, b;
  mg_arena ar;
  mg_arena_init(&ar, 0, 0);
  mg_json *dom = mg_json_parse(&ar, t, strlen(t), 0, NULL);
  assert_non_null(dom);
  assert_int_equal(mg_detect_event_parse(t, strlen(t), &a), MG_OK);
  assert_int_equal(mg_detect_event_from_json(dom, &b), MG_OK);
  same_event(&a, &b, "escapes");
  assert_int_equal(a.kind, MG_XAPI_KIND_DISCUSSION_POSTED);
  assert_int_equal((int)a.s_response.n, (int)strlen("中文😀 tab\there"));
  assert_memory_equal(a.s_response.p, "中文😀 tab\there", a.s_response.n);
  mg_arena_free(&ar);
}

static void rejects_garbage(void **state) {
  (void)state;
  static mg_detect_event ev;
  assert_int_equal(mg_detect_event_parse("[1,2]", 5, &ev), MG_EINVAL);
  assert_int_equal(mg_detect_event_parse("{\"id\":", 6, &ev), MG_EINVAL);
  assert_int_equal(ev.kind, MG_XAPI_KIND_NONE);
  /* valid JSON without the profile category: parsed, but kind NONE */
  const char *t = "{\"id\":\"6a2d8f13-b04e-4c97-a1f5-3e9c7b0d2a68\",\"timestamp\":\"2024-03-11T20:40:42Z\","
                  "\"verb\":{\"id\":\"http://adlnet.gov/expapi/verbs/answered\"}}";
  assert_int_equal(mg_detect_event_parse(t, strlen(t), &ev), MG_OK);
  assert_int_equal(ev.kind, MG_XAPI_KIND_NONE);
  assert_int_not_equal(mg_detect_hash("a", 1), 0);
  assert_int_not_equal(mg_detect_hash("a", 1), mg_detect_hash("b", 1));
}

/* A video-played statement whose time extension is the literal lit (JSON text). */
static int played_with_time(char *out, size_t size, const char *lit, const char *ua, const char *name) {
  return snprintf(out, size,
                  "{\"id\":\"6a2d8f13-b04e-4c97-a1f5-3e9c7b0d2a68\",\"timestamp\":\"2024-03-11T20:40:42Z\","
                  "\"actor\":{\"account\":{\"homePage\":\"https://ids.example.edu.cn\",\"name\":\"%s\"}},"
                  "\"verb\":{\"id\":\"https://w3id.org/xapi/video/verbs/played\"},"
                  "\"object\":{\"id\":\"https://x.cn/v/1\",\"definition\":{\"type\":\"https://w3id.org/xapi/video/activity-type/video\"}},"
                  "\"result\":{\"extensions\":{\"https://w3id.org/xapi/video/extensions/time\":%s}},"
                  "\"context\":{\"registration\":\"6b1f3c52-8a0e-4d2b-9f47-2c5e8d1a7b30\","
                  "\"extensions\":{\"https://moocguard.org/xapi/ext/user-agent\":\"%s\"},"
                  "\"contextActivities\":{\"category\":[{\"id\":\"https://moocguard.org/xapi/profile/1.0\"}]}}}",
                  name, lit, ua);
}

/* Reads t both ways, the text scanner into *a and the DOM reader, and fails unless they agree
 * (what names the case). The arena holds the DOM until the caller resets it. */
static void read_both_ways(mg_arena *ar, const char *t, size_t n, mg_detect_event *a, const char *what) {
  static mg_detect_event b;
  assert_int_equal(mg_detect_event_parse(t, n, a), MG_OK);
  mg_json_error err;
  mg_json *dom = mg_json_parse(ar, t, n, 0, &err);
  if (!dom) fail_msg("%s: %s", what, err.text);
  assert_int_equal(mg_detect_event_from_json(dom, &b), MG_OK);
  same_event(a, &b, what);
}

/* Numbers read without strtod (short decimals) are bit for bit what strtod reads, and the DOM
 * reader agrees; exponents and long mantissas still go through strtod. */
static void numbers_like_strtod(void **state) {
  (void)state;
  static const char *const lits[] = {
      "0", "-0", "7", "30", "30.000", "0.1", "0.2", "0.30000000000000004", "212.5", "-2.5",
      "754.32", "0.000001", "123456789012345", "12345678901234.5", "1234567890123456",
      "999999999999999.9", "9007199254740993", "1e3", "1.5E-2", "-0.0", "600", "1.005",
      "0.3333333333333333", "59.99900000000001", "1.0e20", "-12.75",
      /* longer than any fixed buffer: JSON puts no bound on digits (fuzz_statement) */
      "0.666666666666666666666666666666666666666666666666666666666666666666666666666666666666666666666666666666665",
      "12345678901234567890123456789012345678901234567890123456789012345678901234567890.5"};
  static mg_detect_event a;
  mg_arena ar;
  mg_arena_init(&ar, 0, 0);
  for (size_t i = 0; i < sizeof lits / sizeof lits[0]; i++) {
    char t[2048];
    int n = played_with_time(t, sizeof t, lits[i], "Mozilla/5.0 (Windows NT 10.0) Chrome/122", "20230101");
    assert_true(n > 0 && (size_t)n < sizeof t);
    read_both_ways(&ar, t, (size_t)n, &a, lits[i]);
    assert_true(a.has & MG_DEV_HAS_TIME);
    double want = strtod(lits[i], NULL);
    if (memcmp(&a.time, &want, sizeof want))
      fail_msg("%s read as %.17g, strtod gives %.17g", lits[i], a.time, want);
    mg_arena_reset(&ar);
  }
  mg_arena_free(&ar);
}

/* Strings are scanned sixteen or eight bytes at a time: a quote or backslash at every offset of
 * the first blocks ends or escapes the string exactly where the DOM reader says. */
static void string_scan_offsets(void **state) {
  (void)state;
  static mg_detect_event a;
  mg_arena ar;
  mg_arena_init(&ar, 0, 0);
  for (int len = 0; len <= 40; len++) {
    for (int esc = -1; esc < len; esc++) {
      char name[64];
      int j = 0;
      for (int k = 0; k < len; k++) {
        if (k == esc) { name[j++] = '\\'; name[j++] = k % 2 ? '"' : '\\'; }
        else name[j++] = (char)('a' + k % 26);
      }
      name[j] = 0;
      char t[2048];
      int n = played_with_time(t, sizeof t, "1.5", "okhttp/4.9.3", name);
      assert_true(n > 0 && (size_t)n < sizeof t);
      read_both_ways(&ar, t, (size_t)n, &a, name);
      assert_int_equal((int)a.s_name.n, len); /* unescaped */
      assert_int_equal(a.kind, MG_XAPI_KIND_VIDEO_PLAYED);
      mg_arena_reset(&ar);
    }
  }
  mg_arena_free(&ar);
}

/* The user-agent family is remembered per full user agent: alternating agents keep their own
 * families (a stale cache entry would hand one agent the other's). */
static void ua_family_cached(void **state) {
  (void)state;
  static const char *const uas[] = {
      "Mozilla/5.0 (Linux; Android 13; V2227A) AppleWebKit/537.36 Chrome/116 Mobile Safari/537.36",
      "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/122.0.0.0 Safari/537.36",
      "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 MicroMessenger/8.0.47",
      "okhttp/4.9.3", "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_2) Gecko/20100101 Firefox/121.0"};
  enum { N = sizeof uas / sizeof uas[0] };
  uint64_t fam[N];
  static mg_detect_event a;
  for (int round = 0; round < 3; round++)
    for (int i = 0; i < N; i++) {
      char t[2048];
      int n = played_with_time(t, sizeof t, "2", uas[i], "20230101");
      assert_int_equal(mg_detect_event_parse(t, (size_t)n, &a), MG_OK);
      if (!round) fam[i] = a.ua_family;
      else assert_true(a.ua_family == fam[i]);
    }
  for (int i = 0; i < N; i++)
    for (int k = i + 1; k < N; k++) assert_true(fam[i] != fam[k]);
}

/* Each extension is read where the profile puts it: received-at in context.extensions, time in
 * result.extensions. A copy in the other object is ignored, whichever comes first in the text
 * (the text scanner reads in text order, the DOM reader result before context: found by
 * fuzz_statement, fuzz/corpus/statement/regress-ext-both-places). */
static void extension_places(void **state) {
  (void)state;
  static const char *const ctx = "\"context\":{\"registration\":\"6b1f3c52-8a0e-4d2b-9f47-2c5e8d1a7b30\","
                                 "\"extensions\":{\"https://moocguard.org/xapi/ext/received-at\":\"2024-03-11T20:10:02.613+08:00\","
                                 "\"https://w3id.org/xapi/video/extensions/time\":99},"
                                 "\"contextActivities\":{\"category\":[{\"id\":\"https://moocguard.org/xapi/profile/1.0\"}]}}";
  static const char *const res = "\"result\":{\"extensions\":{\"https://moocguard.org/xapi/ext/received-at\":\"1838-03-11T20:10:02.613+08:00\","
                                 "\"https://w3id.org/xapi/video/extensions/time\":12.5}}";
  static mg_detect_event a;
  mg_arena ar;
  mg_arena_init(&ar, 0, 0);
  for (int order = 0; order < 2; order++) {
    char t[2048];
    int n = snprintf(t, sizeof t,
                     "{\"id\":\"6a2d8f13-b04e-4c97-a1f5-3e9c7b0d2a68\",\"timestamp\":\"2024-03-11T20:10:02.481+08:00\","
                     "\"actor\":{\"account\":{\"homePage\":\"https://ids.example.edu.cn\",\"name\":\"20230101\"}},"
                     "\"verb\":{\"id\":\"https://w3id.org/xapi/video/verbs/played\"},"
                     "\"object\":{\"id\":\"https://x.cn/v/1\",\"definition\":{\"type\":\"https://w3id.org/xapi/video/activity-type/video\"}},"
                     "%s,%s}",
                     order ? ctx : res, order ? res : ctx);
    assert_true(n > 0 && (size_t)n < sizeof t);
    read_both_ways(&ar, t, (size_t)n, &a, order ? "context first" : "result first");
    assert_int_equal(a.recv_us - a.ts_us, 132000); /* context's received-at, 132 ms later */
    assert_true(a.has & MG_DEV_HAS_TIME);
    assert_true(a.time > 12.49 && a.time < 12.51); /* result's time, not context's 99 */
    mg_arena_reset(&ar);
  }
  mg_arena_free(&ar);
}

/* Values inside arrays where the profile has objects, or a description whose first member is
 * not text, are no field for either reader (fuzz_statement found the text scanner taking them). */
static void arrays_are_not_fields(void **state) {
  (void)state;
  static const char *const bodies[] = {
      "\"object\":{\"id\":\"https://x.cn/q/1\",\"definition\":{\"description\":[{\"id\":\"a\",\"description\":{\"en-US\":\"A\"}}]}}",
      "\"object\":{\"id\":\"https://x.cn/q/1\",\"definition\":{\"description\":{\"en\":5,\"zh-CN\":\"题题\"}}}",
      "\"object\":{\"id\":\"https://x.cn/q/1\",\"definition\":{\"description\":{\"en\":[\"x\"],\"zh-CN\":\"题题\"}}}",
      "\"object\":[{\"id\":\"https://x.cn/q/1\"}],\"result\":[{\"response\":\"a\",\"success\":true}]",
      "\"object\":{\"id\":\"https://x.cn/q/1\"},\"context\":[{\"registration\":\"6b1f3c52-8a0e-4d2b-9f47-2c5e8d1a7b30\"}]",
      "\"object\":{\"id\":\"https://x.cn/q/1\"},\"context\":{\"contextActivities\":{\"category\":[[{\"id\":\"https://moocguard.org/xapi/profile/1.0\"}]]}}",
      "\"object\":{\"id\":\"https://x.cn/q/1\"},\"context\":{\"extensions\":[{\"https://moocguard.org/xapi/ext/device-id\":\"d1\"}]}"};
  static mg_detect_event a;
  mg_arena ar;
  mg_arena_init(&ar, 0, 0);
  for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
    char t[2048];
    int n = snprintf(t, sizeof t,
                     "{\"id\":\"6a2d8f13-b04e-4c97-a1f5-3e9c7b0d2a68\",\"timestamp\":\"2024-03-11T20:10:02Z\","
                     "\"verb\":{\"id\":\"http://adlnet.gov/expapi/verbs/answered\"},%s}", bodies[i]);
    assert_true(n > 0 && (size_t)n < sizeof t);
    read_both_ways(&ar, t, (size_t)n, &a, bodies[i]);
    mg_arena_reset(&ar);
  }
  mg_arena_free(&ar);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(arrays_are_not_fields),
      cmocka_unit_test(extension_places),
      cmocka_unit_test(numbers_like_strtod),
      cmocka_unit_test(string_scan_offsets),
      cmocka_unit_test(ua_family_cached),
      cmocka_unit_test(examples_agree),
      cmocka_unit_test(spot_values),
      cmocka_unit_test(escapes_hash_like_dom),
      cmocka_unit_test(rejects_garbage),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
