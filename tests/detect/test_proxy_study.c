/* 替课 (proxy_study) detector tests on hand-made sequences: the face-check person-fit
 * (face_checks_unmet) fires on a remote-desktop takeover of the student's own laptop and on checks
 * relayed to the student's phone, and stays quiet for its honest look-alikes (a bad day at the
 * camera, fast retries over a long term, a platform whose checks fail often for everyone). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/err.h"
#include "seq.h"

#define DAY 86400000LL
#define MIN 60000LL

#include "collect.h"

/* Study videos on w's device (about 14 statements each), an hour apart. */
static int64_t study(seq *q, const who *w, int64_t t, int videos) {
  vopt o = honest_video();
  o.length = 300;
  for (int v = 0; v < videos; v++) {
    char vid[32];
    snprintf(vid, sizeof vid, "v%lld-%d", (long long)(t / MIN), v);
    t = video(q, w, vid, t, &o) + 3600000;
  }
  return t;
}

/* One study face check prompted on `at`'s device and completed on `by`'s after delay_ms;
 * failure NULL = passed, else a face-failure code ("no-face", "timeout", "mismatch" ...). */
static void check(seq *q, const who *at, const who *by, int id, int64_t t, int64_t delay_ms,
                  const char *failure) {
  char oid[128], ext[300], res[160];
  snprintf(oid, sizeof oid, "https://mooc.example.cn/face/fc-%d", id);
  st(q, at, V_LAUNCHED, T_FACE, oid, t, t + 100, NULL, NULL, "\"" X "face-purpose\":\"study-random\"");
  snprintf(ext, sizeof ext, "\"" X "face-purpose\":\"study-random\",\"" X "face-threshold\":0.8%s%s%s",
           failure ? ",\"" X "face-failure\":\"" : "", failure ? failure : "", failure ? "\"" : "");
  snprintf(res, sizeof res, "\"success\":%s,\"score\":{\"scaled\":%s}", failure ? "false" : "true",
           failure ? "0" : "0.93");
  st(q, by, failure ? V_FAILED : V_PASSED, T_FACE, oid, t + delay_ms, t + delay_ms + 100, NULL, res, ext);
}

/* n classmates on the same platform whose checks pass within seconds: the platform's yardstick. */
static void classmates(seq *q, int n, int *id) {
  for (int i = 0; i < n; i++) {
    who w;
    char dev[24];
    snprintf(dev, sizeof dev, "dev-m%d", i);
    who_init(&w, 500 + i, dev, "10.9.9.1", NULL);
    for (int k = 0; k < 10; k++) check(q, &w, &w, ++*id, T0 + (1 + k) * DAY + i * MIN, 8000, NULL);
  }
}

static int has_rule(const mg_detect_finding *f, const char *rule) { return f && strstr(f->rules, rule) != NULL; }

/* 向日葵/ToDesk into the student's own laptop: same device, same network, nobody in front of the
 * camera (no face, unanswered), or a pass minutes later when the student comes over. */
static void remote_desktop(void **state) {
  (void)state;
  got g;
  mg_detect *d = engine(&g);
  seq q = {.d = d};
  who me;
  who_init(&me, 100, "dev-own100", "10.9.1.1", NULL);
  int id = 0;
  classmates(&q, 30, &id);
  study(&q, &me, T0, 4);
  int64_t day1 = T0 + 10 * DAY, day2 = T0 + 13 * DAY;
  check(&q, &me, &me, ++id, day1, 20000, "no-face");
  study(&q, &me, day1 + MIN, 1);
  check(&q, &me, &me, ++id, day1 + 2 * 3600000, 180000, "timeout");
  study(&q, &me, day1 + 2 * 3600000 + 4 * MIN, 1);
  assert_null(find(&g, me.student, MG_DETECT_PROXY_STUDY)); /* one day: not yet */
  check(&q, &me, &me, ++id, day2, 130000, NULL);
  study(&q, &me, day2 + 3 * MIN, 1);
  check(&q, &me, &me, ++id, day2 + 3600000, 25000, "no-face");
  const mg_detect_finding *f = find(&g, me.student, MG_DETECT_PROXY_STUDY);
  assert_non_null(f);
  assert_true(has_rule(f, "face_checks_unmet"));
  assert_null(strstr(f->rules, "identity_break")); /* nothing about the device or network changed */
  mg_detect_free(d);
  seq_free(&q);
}

/* The worker on the student's (established) laptop; every check is passed minutes later on the
 * student's own phone, which the student also studies on. */
static void relayed_to_phone(void **state) {
  (void)state;
  got g;
  mg_detect *d = engine(&g);
  seq q = {.d = d};
  who laptop, phone;
  who_init(&laptop, 101, "dev-l101", "10.9.2.1", NULL);
  phone = laptop;
  snprintf(phone.device, sizeof phone.device, "dev-p101");
  snprintf(phone.ua, sizeof phone.ua, "ExampleMOOC/5.12.0 (Android 14; Xiaomi) okhttp/4.12.0");
  study(&q, &laptop, T0, 2);
  study(&q, &phone, T0 + DAY, 2);
  int id = 0;
  classmates(&q, 30, &id);
  for (int day = 0; day < 2; day++) {
    int64_t t = T0 + (8 + 5 * day) * DAY;
    for (int k = 0; k < 2; k++) {
      check(&q, &laptop, &phone, ++id, t, (4 + 3 * k) * MIN, NULL);
      t = study(&q, &laptop, t + 8 * MIN, 1);
    }
  }
  const mg_detect_finding *f = find(&g, laptop.student, MG_DETECT_PROXY_STUDY);
  assert_non_null(f);
  assert_true(has_rule(f, "face_checks_unmet"));
  assert_true(has_rule(f, "face_check_slow"));
  mg_detect_free(d);
  seq_free(&q);
}

/* Honest look-alikes: (a) a bad evening (away from the desk, out of the picture: four unmet checks, one day) then quick passes;
 * (b) a long term of checks with a failure now and then, each retried at once, and one slow pass;
 * (c) the honest QR flow: prompted on the laptop, passed on the own phone within seconds. */
static void honest_checks(void **state) {
  (void)state;
  got g;
  mg_detect *d = engine(&g);
  seq q = {.d = d};
  who a, b, c, cphone;
  who_init(&a, 110, "dev-a110", "10.9.3.1", NULL);
  who_init(&b, 111, "dev-b111", "10.9.3.2", NULL);
  who_init(&c, 112, "dev-c112", "10.9.3.3", NULL);
  cphone = c;
  snprintf(cphone.device, sizeof cphone.device, "dev-cp112");
  int id = 1000;
  classmates(&q, 30, &id);
  study(&q, &a, T0, 4);
  int64_t t = T0 + 5 * DAY;
  check(&q, &a, &a, ++id, t, 180000, "timeout"); /* away from the desk */
  check(&q, &a, &a, ++id, t + 10 * MIN, 9000, "no-face");
  check(&q, &a, &a, ++id, t + 20 * MIN, 180000, "timeout");
  check(&q, &a, &a, ++id, t + 30 * MIN, 9000, "no-face");
  check(&q, &a, &a, ++id, t + 40 * MIN, 9000, NULL);
  for (int k = 1; k <= 6; k++) check(&q, &a, &a, ++id, t + k * DAY, 8000, NULL);

  study(&q, &b, T0, 4);
  for (int k = 0; k < 40; k++) {
    int64_t tk = T0 + 5 * DAY + k * DAY / 2;
    if (k % 13 == 5) { /* bad light: fails, retries and passes */
      check(&q, &b, &b, ++id, tk, 7000, k % 2 ? "mismatch" : "no-face");
      check(&q, &b, &b, ++id, tk + 20000, 7000, NULL);
    } else {
      check(&q, &b, &b, ++id, tk, k == 20 ? 100000 : 8000, NULL);
    }
  }

  study(&q, &c, T0, 4);
  study(&q, &cphone, T0 + DAY, 1);
  for (int k = 0; k < 10; k++) check(&q, &c, &cphone, ++id, T0 + (5 + k) * DAY, 25000, NULL);

  mg_detect_flush(d);
  assert_null(find(&g, a.student, MG_DETECT_PROXY_STUDY));
  assert_null(find(&g, b.student, MG_DETECT_PROXY_STUDY));
  assert_null(find(&g, c.student, MG_DETECT_PROXY_STUDY));
  mg_detect_free(d);
  seq_free(&q);
}

/* The yardstick is the platform's own rate: where checks are slow for everyone (a clumsy
 * QR-and-phone flow), the same student is unremarkable; on a platform where they are not, the
 * same sequence is a finding. */
static void platform_yardstick(void **state) {
  (void)state;
  for (int clumsy = 0; clumsy <= 1; clumsy++) {
    got g;
    mg_detect *d = engine(&g);
    seq q = {.d = d};
    int id = 0;
    for (int i = 0; i < 60; i++) {
      who w;
      char dev[24];
      snprintf(dev, sizeof dev, "dev-y%d", i);
      who_init(&w, 300 + i, dev, "10.9.4.1", NULL);
      for (int k = 0; k < 10; k++) /* a third of them slow on a clumsy platform */
        check(&q, &w, &w, ++id, T0 + (2 + k) * DAY + i * MIN, (clumsy && k % 3 == 0) ? 150000 : 8000, NULL);
    }
    who s;
    who_init(&s, 400, "dev-s400", "10.9.5.1", NULL);
    study(&q, &s, T0, 4);
    for (int k = 0; k < 10; k++) check(&q, &s, &s, ++id, T0 + (3 + k) * DAY, k < 5 ? 150000 : 8000, NULL);
    mg_detect_flush(d);
    const mg_detect_finding *f = find(&g, s.student, MG_DETECT_PROXY_STUDY);
    if (clumsy) {
      assert_null(f);
    } else {
      assert_non_null(f);
      assert_true(has_rule(f, "face_checks_unmet"));
    }
    for (int i = 0; i < 60; i++) {
      char name[32];
      snprintf(name, sizeof name, "2023%06d", 300 + i);
      assert_null(find(&g, name, MG_DETECT_PROXY_STUDY));
    }
    mg_detect_free(d);
    seq_free(&q);
  }
}

/* A mismatch cleared by a retry on the same device within minutes is bad light: the student is
 * there. A worker on a stranger's machine cannot clear it. Both on a device the account never
 * used before, twice. */
static void mismatch_retry(void **state) {
  (void)state;
  got g;
  mg_detect *d = engine(&g);
  seq q = {.d = d};
  int id = 0;
  classmates(&q, 30, &id);
  who me, mynew, other, worker;
  who_init(&me, 120, "dev-own120", "10.9.6.1", NULL);
  mynew = me;
  snprintf(mynew.device, sizeof mynew.device, "dev-new120");
  who_init(&other, 121, "dev-own121", "10.9.6.2", NULL);
  worker = other;
  snprintf(worker.device, sizeof worker.device, "dev-stranger");
  snprintf(worker.ip, sizeof worker.ip, "183.4.4.4");
  study(&q, &me, T0, 4);
  study(&q, &other, T0, 4);
  for (int k = 0; k < 2; k++) {
    int64_t t = T0 + (10 + 3 * k) * DAY;
    check(&q, &mynew, &mynew, ++id, t, 9000, "mismatch");
    check(&q, &mynew, &mynew, ++id, t + 20000, 9000, NULL);
    study(&q, &mynew, t + MIN, 1);
    check(&q, &worker, &worker, ++id, t, 30000, "mismatch");
    study(&q, &worker, t + MIN, 1);
  }
  mg_detect_flush(d);
  assert_null(find(&g, me.student, MG_DETECT_PROXY_STUDY));
  const mg_detect_finding *f = find(&g, other.student, MG_DETECT_PROXY_STUDY);
  assert_non_null(f);
  assert_true(has_rule(f, "face_check_failed"));
  mg_detect_free(d);
  seq_free(&q);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(remote_desktop),
      cmocka_unit_test(relayed_to_phone),
      cmocka_unit_test(honest_checks),
      cmocka_unit_test(platform_yardstick),
      cmocka_unit_test(mismatch_retry),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
