/* Detector tests on hand-made sequences: each signal fires on its attack, and each honest
 * look-alike (campus NAT, 2x viewing, seeks, offline sync, phone + laptop, fast strong students,
 * own-device exams) stays clean. Also: duplicates are not double-counted and arrival order
 * (live, shuffled, per-student bulk) gives the same findings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/err.h"
#include "seq.h"

#include "collect.h"

static void forged_speed(void **state) {
  (void)state;
  got g;
  mg_detect *d = engine(&g);
  seq q = {.d = d};
  who w;
  who_init(&w, 1, "dev-forged", "10.1.2.3", NULL);
  vopt o = honest_video();
  o.rate = 70 / 0.6; /* 70 s of video every 0.6 s */
  o.every = 0.6;
  video(&q, &w, "v1", T0, &o);
  const mg_detect_finding *f = must_find(&g, w.student, MG_DETECT_COURSE_BRUSHING);
  assert_non_null(f);
  assert_non_null(strstr(f->rules, "speed_over_cap"));
  assert_true(f->found_at_us - f->decisive_ts_us < 60 * 1000000LL);
  assert_true(f->n_evidence >= 1);
  assert_non_null(strstr(f->explain_zh, "倍速"));
  assert_non_null(strstr(f->thresholds, "\"speed_over_cap\""));
  assert_string_equal(f->registration, w.reg);
  assert_string_equal(f->platform, "cn-example");
  /* a real player forced to 4x is caught too */
  who w2;
  who_init(&w2, 2, "dev-4x", "10.1.2.4", NULL);
  o = honest_video();
  o.rate = 4;
  o.speed = "4x";
  video(&q, &w2, "v1", T0, &o);
  assert_non_null(find(&g, w2.student, MG_DETECT_COURSE_BRUSHING));
  mg_detect_free(d);
  seq_free(&q);
}

static void honest_speed_lookalikes(void **state) {
  (void)state;
  got g;
  mg_detect *d = engine(&g);
  seq q = {.d = d};
  who w;
  /* 2x (the cap) with 3 s of receive jitter, many videos */
  who_init(&w, 10, "dev-a", "10.2.0.1", NULL);
  vopt o = honest_video();
  o.rate = 2;
  o.speed = "2x";
  o.jitter_ms = 3000;
  int64_t t = T0;
  for (int i = 0; i < 20; i++) {
    char v[16];
    snprintf(v, sizeof v, "v%d", i);
    t = video(&q, &w, v, t, &o) + 60000;
  }
  /* offline sync: everything received in one burst long after it happened */
  who w2;
  who_init(&w2, 11, "dev-b", "10.2.0.2", NULL);
  o = honest_video();
  o.offline = 1;
  video(&q, &w2, "v1", T0, &o);
  /* a forward seek: a jump, not a rate */
  who w3;
  who_init(&w3, 12, "dev-c", "10.2.0.3", NULL);
  char oid[] = "https://mooc.example.cn/video/v9";
  char ext[512], res[512];
  snprintf(ext, sizeof ext, "\"" VX "session-id\":\"s-seek\",\"" VX "length\":600,\"" X "max-speed\":2,\"" VX "speed\":\"1x\",\"" VX "volume\":1");
  st(&q, &w3, V_INIT, T_VIDEO, oid, T0, T0 + 100, NULL, NULL, ext);
  snprintf(res, sizeof res, "\"extensions\":{\"" VX "time\":0}");
  st(&q, &w3, V_PLAYED, T_VIDEO, oid, T0 + 1000, T0 + 1100, NULL, res, ext);
  snprintf(res, sizeof res, "\"extensions\":{\"" VX "time\":30,\"" VX "progress\":0.05}");
  st(&q, &w3, V_HB, T_VIDEO, oid, T0 + 31000, T0 + 31100, NULL, res, ext);
  snprintf(res, sizeof res, "\"extensions\":{\"" VX "time-from\":35,\"" VX "time-to\":500}");
  st(&q, &w3, V_SEEKED, T_VIDEO, oid, T0 + 36000, T0 + 36100, NULL, res, ext);
  snprintf(res, sizeof res, "\"extensions\":{\"" VX "time\":530,\"" VX "progress\":0.15}");
  st(&q, &w3, V_HB, T_VIDEO, oid, T0 + 66000, T0 + 66100, NULL, res, ext);
  assert_int_equal(mg_detect_flush(d), MG_OK);
  assert_int_equal(g.n, 0);
  mg_detect_free(d);
  seq_free(&q);
}

static void instant_completion(void **state) {
  (void)state;
  got g;
  mg_detect *d = engine(&g);
  seq q = {.d = d};
  who w;
  who_init(&w, 20, "dev-ic", "10.3.0.1", NULL);
  vopt o = honest_video();
  o.start_pos = 580; /* first report at 97 % of a video this enrolment never played */
  video(&q, &w, "v1", T0, &o);
  /* one is enough, and it is found at the completion, not at a later sweep */
  const mg_detect_finding *f = must_find(&g, w.student, MG_DETECT_COURSE_BRUSHING);
  assert_non_null(strstr(f->rules, "completion_unreached"));
  assert_true(f->found_at_us - f->decisive_ts_us < 60 * 1000000LL);

  /* look-alike: watched to 97 % yesterday, resumed there today and completed */
  who r;
  who_init(&r, 21, "dev-rs", "10.3.0.2", NULL);
  vopt part = honest_video();
  part.length = 600;
  part.complete = 0;
  /* the first session stops at 582 s: build it with a shorter "length" so it ends there, then
   * the second session starts there (length 600) */
  part.length = 582;
  video(&q, &r, "v1", T0, &part);
  o = honest_video();
  o.start_pos = 582;
  video(&q, &r, "v1", T0 + 86400000LL, &o);
  /* look-alike: a forward seek to the end, then completed (skipping is the platform's call) */
  who k;
  who_init(&k, 22, "dev-sk", "10.3.0.3", NULL);
  char oid[] = "https://mooc.example.cn/video/v7";
  char ext[512], res[512];
  snprintf(ext, sizeof ext, "\"" VX "session-id\":\"s-skip\",\"" VX "length\":600,\"" X "max-speed\":2,\"" VX "completion-threshold\":0.9");
  st(&q, &k, V_INIT, T_VIDEO, oid, T0, T0 + 100, NULL, NULL, ext);
  snprintf(res, sizeof res, "\"extensions\":{\"" VX "time-from\":0,\"" VX "time-to\":590}");
  st(&q, &k, V_SEEKED, T_VIDEO, oid, T0 + 2000, T0 + 2100, NULL, res, ext);
  snprintf(res, sizeof res, "\"completion\":true,\"extensions\":{\"" VX "time\":600,\"" VX "progress\":1}");
  st(&q, &k, V_COMPLETED, T_VIDEO, oid, T0 + 12000, T0 + 12100, NULL, res, ext);
  mg_detect_flush(d);
  assert_null(find(&g, r.student, MG_DETECT_COURSE_BRUSHING));
  assert_null(find(&g, k.student, MG_DETECT_COURSE_BRUSHING));
  mg_detect_free(d);
  seq_free(&q);
}

/* Offline playback synced after the online session that completed the video: the completion is
 * judged only when the offline wait is over, with what arrived meanwhile. */
static void completion_after_offline_sync(void **state) {
  (void)state;
  got g;
  mg_detect *d = engine(&g);
  seq q = {.d = d};
  who w;
  who_init(&w, 23, "dev-off", "10.3.1.1", NULL);
  /* a student who uses offline mode (an earlier offline session, synced) */
  vopt o = honest_video();
  o.offline = 1;
  video(&q, &w, "v0", T0 - 3 * 86400000LL, &o);
  /* watched 0..582 offline yesterday, synced 20 h later */
  seq off = {.next_id = 500000}; /* ids apart from q's */
  o = honest_video();
  o.offline = 1;
  o.complete = 0;
  o.length = 582;
  video(&off, &w, "v1", T0, &o);
  /* today online: resumes at 582 and completes, before the offline sync arrives */
  o = honest_video();
  o.start_pos = 582;
  video(&q, &w, "v1", T0 + 3600000LL, &o);
  for (size_t i = 0; i < off.n; i++) mg_detect_feed_json(d, off.s[i], strlen(off.s[i]));
  seq_free(&off);
  /* the same enrolment later completes a video it never played: found, after the wait */
  o = honest_video();
  o.start_pos = 590;
  video(&q, &w, "v2", T0 + 2 * 86400000LL, &o);
  assert_null(find(&g, w.student, MG_DETECT_COURSE_BRUSHING));
  mg_detect_flush(d);
  const mg_detect_finding *f = must_find(&g, w.student, MG_DETECT_COURSE_BRUSHING);
  assert_non_null(strstr(f->rules, "completion_unreached"));
  assert_true(f->n_evidence >= 1);
  mg_detect_free(d);
  seq_free(&q);
}

static void concurrency(void **state) {
  (void)state;
  got g;
  mg_detect *d = engine(&g);
  seq q = {.d = d};
  who w;
  who_init(&w, 30, "dev-cc", "10.4.0.1", NULL);
  /* three videos interleaved: built separately with the same start time, fed merged by time */
  seq parts = {0};
  vopt o = honest_video();
  video(&parts, &w, "v1", T0, &o);
  video(&parts, &w, "v2", T0 + 200, &o);
  video(&parts, &w, "v3", T0 + 400, &o);
  /* merge by position in each session: heartbeats alternate (same every, different offsets) */
  size_t per = parts.n / 3;
  for (size_t i = 0; i < per; i++)
    for (int k = 0; k < 3; k++) mg_detect_feed_json(d, parts.s[k * per + i], strlen(parts.s[k * per + i]));
  const mg_detect_finding *f = must_find(&g, w.student, MG_DETECT_COURSE_BRUSHING);
  assert_non_null(f);
  assert_non_null(strstr(f->rules, "concurrent_playback"));
  seq_free(&parts);

  /* phone and laptop both open, one paused: no finding */
  who p;
  who_init(&p, 31, "dev-laptop", "10.4.0.2", NULL);
  video(&q, &p, "v1", T0, &o);
  char ext[512], res[512];
  snprintf(ext, sizeof ext, "\"" VX "session-id\":\"s-phone\",\"" VX "length\":600,\"" X "max-speed\":2,\"" VX "speed\":\"1x\",\"" VX "volume\":1");
  who ph = p;
  snprintf(ph.device, sizeof ph.device, "dev-phone");
  st(&q, &ph, V_INIT, T_VIDEO, "https://mooc.example.cn/video/v2", T0 + 5000, T0 + 5100, NULL, NULL, ext);
  snprintf(res, sizeof res, "\"extensions\":{\"" VX "time\":0}");
  st(&q, &ph, V_PLAYED, T_VIDEO, "https://mooc.example.cn/video/v2", T0 + 6000, T0 + 6100, NULL, res, ext);
  snprintf(res, sizeof res, "\"extensions\":{\"" VX "time\":3,\"" VX "progress\":0.005,\"" VX "played-segments\":\"0[.]3\"}");
  st(&q, &ph, V_PAUSED, T_VIDEO, "https://mooc.example.cn/video/v2", T0 + 9000, T0 + 9100, NULL, res, ext);
  /* phone left playing one video while the laptop plays another, both at the cap (2x): two
   * screens, weak at most */
  who two;
  who_init(&two, 32, "dev-two", "10.4.0.3", NULL);
  seq parts2 = {0};
  vopt o2 = honest_video();
  o2.rate = 2;
  o2.speed = "2x";
  o2.length = 1800;
  video(&parts2, &two, "v1", T0, &o2);
  snprintf(two.device, sizeof two.device, "dev-two-phone");
  video(&parts2, &two, "v2", T0 + 300, &o2);
  per = parts2.n / 2;
  for (size_t i = 0; i < per; i++)
    for (int k = 0; k < 2; k++) mg_detect_feed_json(d, parts2.s[k * per + i], strlen(parts2.s[k * per + i]));
  seq_free(&parts2);
  /* phone, tablet and laptop each playing a different video: one per screen */
  who three;
  who_init(&three, 33, "dev-t1", "10.4.0.4", NULL);
  seq parts3 = {0};
  o2 = honest_video();
  video(&parts3, &three, "v1", T0, &o2);
  snprintf(three.device, sizeof three.device, "dev-t2");
  video(&parts3, &three, "v2", T0 + 200, &o2);
  snprintf(three.device, sizeof three.device, "dev-t3");
  video(&parts3, &three, "v3", T0 + 400, &o2);
  per = parts3.n / 3;
  for (size_t i = 0; i < per; i++)
    for (int k = 0; k < 3; k++) mg_detect_feed_json(d, parts3.s[k * per + i], strlen(parts3.s[k * per + i]));
  seq_free(&parts3);
  mg_detect_flush(d);
  assert_null(find(&g, three.student, MG_DETECT_COURSE_BRUSHING));
  assert_null(find(&g, p.student, MG_DETECT_COURSE_BRUSHING));
  assert_null(find(&g, two.student, MG_DETECT_COURSE_BRUSHING));
  mg_detect_free(d);
  seq_free(&q);
}

/* Feeds q's statements into a fresh engine in the given order; returns the findings. */
static void replay(const seq *q, const size_t *order, got *g) {
  mg_detect *d = engine(g);
  for (size_t i = 0; i < q->n; i++) {
    const char *s = q->s[order ? order[i] : i];
    assert_int_equal(mg_detect_feed_json(d, s, strlen(s)), MG_OK);
  }
  assert_int_equal(mg_detect_flush(d), MG_OK);
  mg_detect_free(d);
}

static int same_findings(const got *a, const got *b) {
  if (a->n != b->n) return 0;
  for (int i = 0; i < a->n; i++) {
    int hit = 0;
    for (int j = 0; j < b->n; j++)
      hit |= a->f[i].type == b->f[j].type && !strcmp(a->f[i].registration, b->f[j].registration);
    if (!hit) return 0;
  }
  return 1;
}

static void build_mixed_term(seq *q) {
  who w;
  int64_t t = T0;
  vopt o = honest_video();
  for (int s = 0; s < 6; s++) {
    char dev[16], ip[16];
    snprintf(dev, sizeof dev, "dev-m%d", s);
    snprintf(ip, sizeof ip, "10.9.%d.1", s);
    who_init(&w, 100 + s, dev, ip, NULL);
    o = honest_video();
    if (s == 0) { o.rate = 70 / 0.6; o.every = 0.6; }       /* forged */
    if (s == 1) { o.rate = 6; o.speed = "6x"; }              /* forced player */
    if (s == 2) { o.start_pos = 590; }                        /* instant completion */
    int64_t u = t + s * 7000;
    for (int v = 0; v < 3; v++) {
      char vid[16];
      snprintf(vid, sizeof vid, "v%d", v);
      u = video(q, &w, vid, u, &o);
    }
  }
}

static void order_and_duplicates(void **state) {
  (void)state;
  seq q = {0};
  build_mixed_term(&q);
  got live, shuffled, bulk, dup;
  replay(&q, NULL, &live);
  assert_int_equal(live.n, 3);
  /* sort live order by timestamp (interleaving students), then shuffle within blocks of 5 */
  size_t *ord = malloc(q.n * sizeof *ord);
  for (size_t i = 0; i < q.n; i++) ord[i] = i;
  srand(7);
  for (size_t b = 0; b < q.n; b += 5) {
    size_t m = q.n - b < 5 ? q.n - b : 5;
    for (size_t i = m; i > 1; i--) {
      size_t j = (size_t)rand() % i, tmp = ord[b + i - 1];
      ord[b + i - 1] = ord[b + j];
      ord[b + j] = tmp;
    }
  }
  replay(&q, ord, &shuffled);
  assert_true(same_findings(&live, &shuffled));
  /* bulk: reversed student order (each student's statements still in their order) */
  size_t k = 0;
  for (int s = 5; s >= 0; s--) {
    char name[32];
    snprintf(name, sizeof name, "\"name\":\"2023%06d\"", 100 + s);
    for (size_t i = 0; i < q.n; i++)
      if (strstr(q.s[i], name)) ord[k++] = i;
  }
  assert_int_equal(k, q.n);
  replay(&q, ord, &bulk);
  assert_true(same_findings(&live, &bulk));
  /* every statement posted twice */
  size_t *twice = malloc(2 * q.n * sizeof *twice);
  seq q2 = q;
  for (size_t i = 0; i < q.n; i++) { twice[2 * i] = i; twice[2 * i + 1] = i; }
  q2.n = 2 * q.n;
  mg_detect *d = engine(&dup);
  for (size_t i = 0; i < q2.n; i++) mg_detect_feed_json(d, q.s[twice[i]], strlen(q.s[twice[i]]));
  mg_detect_flush(d);
  mg_detect_stats stt;
  mg_detect_get_stats(d, &stt);
  assert_int_equal(stt.duplicates, q.n);
  assert_int_equal(stt.fed, q.n);
  assert_true(same_findings(&live, &dup));
  mg_detect_free(d);
  free(twice);
  free(ord);
  seq_free(&q);
}

/* ---- exams ---------------------------------------------------------------------------------- */

static void study_history(seq *q, const who *w, int64_t t, int videos) {
  vopt o = honest_video();
  o.length = 300;
  for (int v = 0; v < videos; v++) {
    char vid[16];
    snprintf(vid, sizeof vid, "h%d", v);
    t = video(q, w, vid, t, &o) + 3600000;
  }
}

static void exam_start(seq *q, const who *w, const char *exam, int64_t t, int cams, const char *cam2) {
  char ext[600], oid[128];
  snprintf(oid, sizeof oid, "https://mooc.example.cn/exam/%s", exam);
  snprintf(ext, sizeof ext,
           "\"" X "attempt-id\":\"att-%s-%s\",\"" X "assessment-kind\":\"exam\",\"" X "attempt-number\":1,"
           "\"" X "cameras-required\":2,\"" X "camera-count\":%d,\"" X "cameras\":[{\"role\":\"primary\",\"device-id\":\"%s\"}%s%s%s]",
           exam, w->student, cams, w->device, cam2 ? ",{\"role\":\"secondary\",\"device-id\":\"" : "",
           cam2 ? cam2 : "", cam2 ? "\"}" : "");
  st(q, w, V_ATTEMPTED, T_ASSESS, oid, t, t + 100, NULL, NULL, ext);
}

static void face(seq *q, const who *w, const char *check, int64_t t, int64_t delay_ms, int pass,
                 const char *purpose) {
  char ext[300], oid[128], res[128];
  snprintf(oid, sizeof oid, "https://mooc.example.cn/face/%s", check);
  snprintf(ext, sizeof ext, "\"" X "face-purpose\":\"%s\",\"" X "face-threshold\":0.8%s", purpose,
           pass ? "" : ",\"" X "face-failure\":\"mismatch\"");
  st(q, w, V_LAUNCHED, T_FACE, oid, t, t + 100, NULL, NULL, "\"" X "face-purpose\":\"study-random\"");
  snprintf(res, sizeof res, "\"success\":%s,\"score\":{\"scaled\":%s}", pass ? "true" : "false", pass ? "0.95" : "0.41");
  st(q, w, pass ? V_PASSED : V_FAILED, T_FACE, oid, t + delay_ms, t + delay_ms + 100, NULL, res, ext);
}

static void proxy_exam(void **state) {
  (void)state;
  got g;
  mg_detect *d = engine(&g);
  seq q = {.d = d};
  who me, impostor, honest, honest_phone;
  who_init(&me, 40, "dev-own", "10.5.1.1", NULL);
  who_init(&honest, 41, "dev-h", "10.5.2.1", NULL);
  study_history(&q, &me, T0, 3);
  study_history(&q, &honest, T0, 3);
  int64_t ex = T0 + 90LL * 86400000;
  /* someone else on an unseen device, network and client, failing the face check */
  impostor = me;
  snprintf(impostor.device, sizeof impostor.device, "dev-other");
  snprintf(impostor.ip, sizeof impostor.ip, "172.20.9.9");
  snprintf(impostor.ua, sizeof impostor.ua, "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) Safari/605.1.15");
  exam_start(&q, &impostor, "final", ex, 2, "cam-x");
  face(&q, &impostor, "fc-40", ex + 1000, 8000, 0, "exam-start");
  const mg_detect_finding *f = must_find(&g, me.student, MG_DETECT_PROXY_EXAM);
  assert_non_null(f);
  assert_non_null(strstr(f->rules, "exam_identity_novel"));
  assert_non_null(strstr(f->rules, "exam_face_failed"));
  /* the honest student: own laptop, own phone as second camera, face passes */
  honest_phone = honest;
  snprintf(honest_phone.device, sizeof honest_phone.device, "dev-h-phone");
  exam_start(&q, &honest, "final", ex, 2, "dev-h-phone");
  face(&q, &honest, "fc-41", ex + 1000, 9000, 1, "exam-start");
  mg_detect_flush(d);
  assert_null(find(&g, honest.student, MG_DETECT_PROXY_EXAM));
  mg_detect_free(d);
  seq_free(&q);
}

static void exam_farm(void **state) {
  (void)state;
  got g;
  mg_detect *d = engine(&g);
  seq q = {.d = d};
  int64_t ex = T0 + 90LL * 86400000;
  who s[3];
  for (int i = 0; i < 3; i++) {
    char dev[16], ip[16];
    snprintf(dev, sizeof dev, "dev-s%d", i);
    snprintf(ip, sizeof ip, "10.6.%d.1", i);
    who_init(&s[i], 50 + i, dev, ip, NULL);
    study_history(&q, &s[i], T0, 3);
  }
  for (int i = 0; i < 3; i++) {
    who farm = s[i];
    snprintf(farm.device, sizeof farm.device, "dev-farm");
    snprintf(farm.ip, sizeof farm.ip, "203.0.113.5");
    exam_start(&q, &farm, "final", ex + i * 3600000LL, 2, "cam-farm");
  }
  for (int i = 0; i < 3; i++) {
    const mg_detect_finding *f = must_find(&g, s[i].student, MG_DETECT_PROXY_EXAM);
    assert_non_null(f);
    assert_non_null(strstr(f->rules, "exam_farm"));
  }
  mg_detect_free(d);
  seq_free(&q);
}

static void submit(seq *q, const who *w, const char *att, const char *kind, const char *assess, int64_t t) {
  char ext[200], oid[128];
  snprintf(ext, sizeof ext, "\"" X "attempt-id\":\"%s\",\"" X "assessment-kind\":\"%s\"", att, kind);
  snprintf(oid, sizeof oid, "https://mooc.example.cn/quiz/%s", assess);
  st(q, w, V_COMPLETED, T_ASSESS, oid, t, t + 100, NULL, "\"completion\":true,\"duration\":\"PT10M\"", ext);
}

static void exam_brushing(void **state) {
  (void)state;
  got g;
  mg_detect *d = engine(&g);
  seq q = {.d = d};
  who bot, strong;
  who_init(&bot, 60, "dev-bot", "10.7.0.1", NULL);
  who_init(&strong, 61, "dev-strong", "10.7.0.2", NULL);
  int64_t t = T0;
  for (int i = 0; i < 10; i++) {
    char item[16];
    snprintf(item, sizeof item, "q%d", i);
    int chars = 40 + 20 * i; /* 40–220 characters: 3–12 s to read at 20 chars/s */
    answer_choice(&q, &bot, "att-bot", "quiz", item, t + i * 3000, 3.0, "a", 1, chars);
    /* the strong student is fast but reads: time grows with the stem, above reading time */
    answer_choice(&q, &strong, "att-strong", "quiz", item, t + i * 20000, chars / 12.0 + 2 + (i % 3), "a", 1, chars);
  }
  submit(&q, &bot, "att-bot", "quiz", "ch1", t + 40000);
  submit(&q, &strong, "att-strong", "quiz", "ch1", t + 300000);
  const mg_detect_finding *f = must_find(&g, bot.student, MG_DETECT_EXAM_BRUSHING);
  assert_non_null(f);
  assert_non_null(strstr(f->rules, "answers_below_reading_time"));
  assert_non_null(strstr(f->rules, "constant_time_per_item"));
  assert_null(find(&g, strong.student, MG_DETECT_EXAM_BRUSHING));

  /* identical wrong answers on five items across two accounts */
  who a, b, c;
  who_init(&a, 62, "dev-wa", "10.7.1.1", NULL);
  who_init(&b, 63, "dev-wb", "10.7.1.2", NULL);
  who_init(&c, 64, "dev-wc", "10.7.1.3", NULL); /* two of the same wrong answers: chance */
  for (int i = 0; i < 12; i++) {
    char item[16];
    snprintf(item, sizeof item, "e%d", i);
    const char *r = i < 5 ? "d" : "a";
    answer_choice(&q, &a, "att-a", "exam", item, t + i * 60000, 18 + 9 * ((i * 7) % 5), r, i >= 5, 60); /* a person's pace varies */
    answer_choice(&q, &b, "att-b", "exam", item, t + i * 61000, 6.0, r, i >= 5, 60); /* copied, paced */
    answer_choice(&q, &c, "att-c", "exam", item, t + i * 62000, 28 + i, i < 2 ? "d" : "a", i >= 2, 60);
  }
  submit(&q, &a, "att-a", "exam", "final", t + 900000);
  submit(&q, &b, "att-b", "exam", "final", t + 950000);
  submit(&q, &c, "att-c", "exam", "final", t + 990000);
  /* shared wrong answers alone are never enough (common misconceptions); with the copier's
   * constant pacing they are */
  assert_null(find(&g, a.student, MG_DETECT_EXAM_BRUSHING));
  const mg_detect_finding *fb = find(&g, b.student, MG_DETECT_EXAM_BRUSHING);
  assert_non_null(fb);
  assert_non_null(strstr(fb->rules, "identical_wrong_answers"));
  assert_non_null(strstr(fb->rules, "constant_time_per_item"));
  assert_null(find(&g, c.student, MG_DETECT_EXAM_BRUSHING));
  mg_detect_free(d);
  seq_free(&q);
}

/* ---- devices and identity ------------------------------------------------------------------ */

static void operator_device_vs_campus_nat(void **state) {
  (void)state;
  got g;
  mg_detect *d = engine(&g);
  seq q = {.d = d};
  vopt o = honest_video();
  o.length = 300;
  /* twelve accounts run from one device (more than a device lists by name) */
  for (int i = 0; i < 12; i++) {
    who w;
    who_init(&w, 60 + i, "dev-operator", "198.51.100.7", NULL);
    for (int v = 0; v < 3; v++) {
      char vid[16];
      snprintf(vid, sizeof vid, "v%d", v);
      video(&q, &w, vid, T0 + (i * 3 + v) * 400000LL, &o);
    }
  }
  /* 300 students, each with their own device, all behind one campus NAT address */
  for (int i = 0; i < 300; i++) {
    who w;
    char dev[16];
    snprintf(dev, sizeof dev, "dev-c%d", i);
    who_init(&w, 1000 + i, dev, "202.120.1.1", NULL);
    video(&q, &w, "v0", T0 + i * 1000LL, &o);
  }
  mg_detect_flush(d);
  for (int i = 0; i < 12; i++) {
    char s[32];
    snprintf(s, sizeof s, "2023%06d", 60 + i);
    const mg_detect_finding *f = must_find(&g, s, MG_DETECT_COURSE_BRUSHING);
    assert_non_null(f);
    assert_non_null(strstr(f->rules, "multi_account_device"));
  }
  assert_int_equal(g.n, 12);
  mg_detect_free(d);
  seq_free(&q);
}

static void proxy_study(void **state) {
  (void)state;
  got g;
  mg_detect *d = engine(&g);
  seq q = {.d = d};
  who me, worker, laptop_phone;
  who_init(&me, 80, "dev-own80", "10.8.1.1", NULL);
  study_history(&q, &me, T0, 4);
  /* the worker studies on their own machine and network, then a study face check fails */
  worker = me;
  snprintf(worker.device, sizeof worker.device, "dev-worker");
  snprintf(worker.ip, sizeof worker.ip, "183.3.3.3");
  study_history(&q, &worker, T0 + 20LL * 86400000, 2);
  face(&q, &worker, "fc-80", T0 + 21LL * 86400000, 240000, 0, "study-random");
  study_history(&q, &worker, T0 + 22LL * 86400000, 1); /* no retry passed: the failure counts */
  const mg_detect_finding *f = must_find(&g, me.student, MG_DETECT_PROXY_STUDY);
  assert_non_null(f);
  assert_non_null(strstr(f->rules, "identity_break"));
  /* honest: phone and laptop used from the start, same home network, face passes quickly */
  who_init(&laptop_phone, 81, "dev-l81", "10.8.2.1", NULL);
  who phone = laptop_phone;
  snprintf(phone.device, sizeof phone.device, "dev-p81");
  snprintf(phone.ua, sizeof phone.ua, "ExampleMOOC/5.12.0 (Android 14; Xiaomi) okhttp/4.12.0");
  for (int k = 0; k < 3; k++) {
    study_history(&q, &laptop_phone, T0 + k * 2 * 86400000LL, 1);
    study_history(&q, &phone, T0 + (k * 2 + 1) * 86400000LL, 1);
  }
  face(&q, &phone, "fc-81", T0 + 10LL * 86400000, 20000, 1, "study-random");
  mg_detect_flush(d);
  assert_null(find(&g, laptop_phone.student, MG_DETECT_PROXY_STUDY));
  mg_detect_free(d);
  seq_free(&q);
}

/* ---- weak behavioural rules against the platform's own population ---------------------------- */

static void jittered_bot(void **state) {
  (void)state;
  got g;
  mg_detect *d = engine(&g);
  seq q = {.d = d};
  vopt o = honest_video();
  o.length = 1200;
  /* 60 honest students: native client heartbeats every 30 s, volume on, input */
  for (int i = 0; i < 60; i++) {
    who w;
    char dev[16];
    snprintf(dev, sizeof dev, "dev-n%d", i);
    who_init(&w, 2000 + i, dev, "10.10.0.1", NULL);
    o.volume = (i % 7 == 0) ? 0 : 0.8; /* some watch muted with subtitles */
    for (int v = 0; v < 3; v++) {
      char vid[16];
      snprintf(vid, sizeof vid, "v%d", v);
      video(&q, &w, vid, T0 + (int64_t)v * 86400000 + i * 10000LL, &o);
    }
  }
  /* the bot: at 1x, but heartbeats at uniform 30–90 s, muted, never any input */
  who b;
  who_init(&b, 2999, "dev-bot2", "10.10.0.9", NULL);
  int64_t t = T0;
  char ext[600], res[400];
  for (int v = 0; v < 3; v++) {
    char oid[64], sid[32];
    snprintf(oid, sizeof oid, "https://mooc.example.cn/video/b%d", v);
    snprintf(sid, sizeof sid, "bot-s%d", v);
    snprintf(ext, sizeof ext, "\"" VX "session-id\":\"%s\",\"" VX "length\":1200,\"" X "max-speed\":2,\"" VX "speed\":\"1x\",\"" VX "volume\":0,\"" X "input-count\":0", sid);
    st(&q, &b, V_INIT, T_VIDEO, oid, t, t + 100, NULL, NULL, ext);
    double pos = 0;
    unsigned r = 12345u + (unsigned)v;
    while (pos < 1200) {
      r = r * 1103515245u + 12345u;
      double gap = 30 + (r >> 8) % 61;
      t += (int64_t)(gap * 1000);
      pos += gap;
      snprintf(res, sizeof res, "\"extensions\":{\"" VX "time\":%.1f,\"" VX "progress\":%.3f}", pos, pos / 1200);
      st(&q, &b, V_HB, T_VIDEO, oid, t, t + 120, NULL, res, ext);
    }
    t += 86400000;
  }
  mg_detect_flush(d);
  const mg_detect_finding *f = must_find(&g, b.student, MG_DETECT_COURSE_BRUSHING);
  assert_non_null(f);
  assert_non_null(strstr(f->rules, "heartbeat_cadence"));
  assert_int_equal(g.n, 1); /* no honest student, muted ones included */
  mg_detect_free(d);
  seq_free(&q);
}

static void type_names(void **state) {
  (void)state;
  mg_detect_type t;
  assert_int_equal(mg_detect_type_parse("proxy_exam", &t), MG_OK);
  assert_int_equal(t, MG_DETECT_PROXY_EXAM);
  assert_int_equal(mg_detect_type_parse("nope", &t), MG_EINVAL);
  assert_string_equal(mg_detect_type_name_zh(MG_DETECT_COURSE_BRUSHING), "刷课");
  assert_null(mg_detect_type_name((mg_detect_type)9));
}

/* ==== dvideo (session 3): attendance of each video session ================================== */

/* An engine with a low operating threshold, so a single weak rule shows as a finding. */
static mg_detect *engine_at(got *g, double threshold) {
  mg_detect *d;
  mg_detect_config c;
  mg_detect_config_defaults(&c);
  c.threshold = threshold;
  memset(g, 0, sizeof *g);
  assert_int_equal(mg_detect_new(&c, sink, g, &d), MG_OK);
  return d;
}

/* n sessions of a 600 s video (20 reports each), one per hour from t. */
static int64_t sessions(seq *q, const who *w, int64_t t, int n, const vopt *o, const char *prefix) {
  for (int v = 0; v < n; v++) {
    char vid[32];
    snprintf(vid, sizeof vid, "%s%d", prefix, v);
    t = video(q, w, vid, t, o) + 3600000;
  }
  return t;
}

/* A tool that takes over part of a term: three attended sessions, then four muted ones with no
 * input at all. Whole-enrolment shares stay below their thresholds (muted 4/7, no input 0.86);
 * counting unattended sessions finds it. Look-alikes: a student who always watches muted with
 * subtitles but touches the keyboard now and then; one session left running muted once. */
static void unattended_takeover(void **state) {
  (void)state;
  got g;
  mg_detect *d = engine_at(&g, 0.3);
  seq q = {.d = d};
  vopt o = honest_video();
  who bot, sub, once;
  who_init(&bot, 3000, "dev-u1", "10.20.0.1", NULL);
  who_init(&sub, 3001, "dev-u2", "10.20.0.2", NULL);
  who_init(&once, 3002, "dev-u3", "10.20.0.3", NULL);
  int64_t t = sessions(&q, &bot, T0, 3, &o, "a");
  vopt m = o;
  m.volume = 0;
  m.input = 0;
  sessions(&q, &bot, t, 4, &m, "b");
  vopt subs = o;
  subs.volume = 0; /* muted throughout, but input on one report in three */
  sessions(&q, &sub, T0, 7, &subs, "a");
  t = sessions(&q, &once, T0, 6, &o, "a");
  sessions(&q, &once, t, 1, &m, "b");
  assert_int_equal(mg_detect_flush(d), MG_OK);
  const mg_detect_finding *f = must_find(&g, bot.student, MG_DETECT_COURSE_BRUSHING);
  assert_non_null(strstr(f->rules, "unattended_sessions"));
  assert_null(strstr(f->rules, "muted_throughout"));
  assert_null(strstr(f->rules, "no_interaction"));
  assert_non_null(strstr(f->thresholds, "\"unattended_sessions\":{\"value\":4,"));
  /* the subtitle viewer is muted_throughout (weak, alone at this low threshold) but no session
   * of hers is unattended; the one forgotten session is not enough */
  const mg_detect_finding *fs = find(&g, sub.student, MG_DETECT_COURSE_BRUSHING);
  if (fs) assert_null(strstr(fs->rules, "unattended_sessions"));
  assert_null(find(&g, once.student, MG_DETECT_COURSE_BRUSHING));
  mg_detect_free(d);
  seq_free(&q);
}

/* A mouse jiggler: input on every report of every session, a real player, volume on, visible.
 * Look-alike: a very active viewer (3 inputs, on one report in three), who must not show
 * either rule (the same shape with 2 inputs stays clean at 0.3 in unattended_takeover). */
static void jiggler(void **state) {
  (void)state;
  got g;
  /* above either rule alone (0.3 and 0.6), so the finding must list both */
  mg_detect *d = engine_at(&g, 0.65);
  seq q = {.d = d};
  vopt o = honest_video();
  o.input = 3;
  who jig, active;
  who_init(&jig, 3100, "dev-j1", "10.21.0.1", NULL);
  who_init(&active, 3101, "dev-j2", "10.21.0.2", NULL);
  vopt j = honest_video();
  j.volume = 0.3;
  j.input = 1;
  j.input_all = 1;
  sessions(&q, &jig, T0, 5, &j, "a");
  sessions(&q, &active, T0, 5, &o, "a");
  assert_int_equal(mg_detect_flush(d), MG_OK);
  const mg_detect_finding *f = must_find(&g, jig.student, MG_DETECT_COURSE_BRUSHING);
  assert_non_null(strstr(f->rules, "input_on_every_report"));
  assert_non_null(strstr(f->rules, "unattended_sessions"));
  assert_null(find(&g, active.student, MG_DETECT_COURSE_BRUSHING));
  mg_detect_free(d);
  seq_free(&q);
}

/* A platform whose client reports input on every heartbeat: the rule describes the platform's
 * normal and is switched off there (rarity switch), so none of its 60 students is flagged. */
static void input_every_report_is_platform_normal(void **state) {
  (void)state;
  got g;
  mg_detect *d = engine_at(&g, 0.3);
  seq q = {.d = d};
  vopt j = honest_video();
  j.input_all = 1;
  for (int i = 0; i < 60; i++) {
    who w;
    char dev[16];
    snprintf(dev, sizeof dev, "dev-p%d", i);
    who_init(&w, 3200 + i, dev, "10.22.0.1", NULL);
    /* all within a few hours: the only population sweep is the final one */
    sessions(&q, &w, T0 + i * 60000LL, 2, &j, "a");
  }
  assert_int_equal(mg_detect_flush(d), MG_OK);
  assert_int_equal(g.n, 0);
  mg_detect_free(d);
  seq_free(&q);
}

/* ---- 刷考 across accounts (dexam) ------------------------------------------------------------ */

/* One account guesses through a quiz in seconds, a partner on another device submits full marks
 * minutes later, on two quizzes: both are found. An honest fast failure followed once by a
 * classmate's full marks is chance near a deadline and stays clean. */
static void cross_account_harvest(void **state) {
  (void)state;
  got g;
  mg_detect *d = engine(&g);
  seq q = {.d = d};
  who h, p, guesser, strong;
  who_init(&h, 70, "dev-h", "10.8.0.1", NULL);
  who_init(&p, 71, "dev-p", "10.8.0.2", NULL);
  who_init(&guesser, 72, "dev-g", "10.8.0.3", NULL);
  who_init(&strong, 73, "dev-s", "10.8.0.4", NULL);
  for (int quiz = 0; quiz < 2; quiz++) {
    int64_t t = T0 + quiz * 7LL * 86400000;
    char ah[16], ap[16], as[8];
    snprintf(ah, sizeof ah, "att-h%d", quiz);
    snprintf(ap, sizeof ap, "att-p%d", quiz);
    snprintf(as, sizeof as, "cq%d", quiz);
    for (int i = 0; i < 8; i++) {
      char item[16];
      snprintf(item, sizeof item, "h%d-%d", quiz, i);
      answer_choice(&q, &h, ah, "quiz", item, t + i * 3000, 2.0, "x", 0, 60);
      answer_choice(&q, &p, ap, "quiz", item, t + 600000 + i * 30000, 4.0 + i % 3, "a", 1, 60); /* typing the key */
    }
    submit(&q, &h, ah, "quiz", as, t + 30000);
    submit(&q, &p, ap, "quiz", as, t + 900000);
  }
  const mg_detect_finding *fh = must_find(&g, h.student, MG_DETECT_EXAM_BRUSHING);
  const mg_detect_finding *fp = must_find(&g, p.student, MG_DETECT_EXAM_BRUSHING);
  assert_non_null(fh);
  assert_non_null(fp);
  assert_non_null(strstr(fh->rules, "cross_account_harvest"));
  assert_non_null(strstr(fp->rules, "cross_account_harvest"));
  /* look-alike: once only */
  int64_t t = T0 + 30LL * 86400000;
  for (int i = 0; i < 8; i++) {
    char item[16];
    snprintf(item, sizeof item, "g-%d", i);
    answer_choice(&q, &guesser, "att-g", "quiz", item, t + i * 3000, 2.5, "x", 0, 60);
    answer_choice(&q, &strong, "att-s", "quiz", item, t + 600000 + i * 30000, 25.0 + i, "a", 1, 60);
  }
  submit(&q, &guesser, "att-g", "quiz", "gq", t + 30000);
  submit(&q, &strong, "att-s", "quiz", "gq", t + 900000);
  mg_detect_flush(d);
  assert_null(find(&g, guesser.student, MG_DETECT_EXAM_BRUSHING));
  assert_null(find(&g, strong.student, MG_DETECT_EXAM_BRUSHING));
  mg_detect_free(d);
  seq_free(&q);
}

/* A copier repeats a source's exam item by item, six identical wrong answers included: both are
 * found. A classmate who shares the hard items' wrong answers but differs elsewhere is not. */
static void answer_vector_copied(void **state) {
  (void)state;
  got g;
  mg_detect *d = engine(&g);
  seq q = {.d = d};
  who src, cp, mate;
  who_init(&src, 80, "dev-src", "10.9.0.1", NULL);
  who_init(&cp, 81, "dev-cp", "10.9.0.2", NULL);
  who_init(&mate, 82, "dev-mate", "10.9.0.3", NULL);
  int64_t t = T0;
  for (int i = 0; i < 16; i++) {
    char item[16];
    snprintf(item, sizeof item, "v%d", i);
    const char *r = i < 6 ? "c" : "a";
    answer_choice(&q, &src, "att-src", "exam", item, t + i * 60000, 30 + i, r, i >= 6, 60);
    answer_choice(&q, &cp, "att-cp", "exam", item, t + 300000 + i * 61000, 25 + (i % 5) * 3, r, i >= 6, 60);
    /* the classmate: the same three hard wrong answers, the rest their own */
    const char *m = i < 3 ? "c" : i < 9 ? "a" : i < 12 ? "b" : "a";
    answer_choice(&q, &mate, "att-mate", "exam", item, t + 400000 + i * 62000, 28 + i, m, i >= 3 && (i < 9 || i >= 12), 60);
  }
  submit(&q, &src, "att-src", "exam", "final2", t + 1000000);
  submit(&q, &cp, "att-cp", "exam", "final2", t + 1300000);
  submit(&q, &mate, "att-mate", "exam", "final2", t + 1400000);
  const mg_detect_finding *fs = must_find(&g, src.student, MG_DETECT_EXAM_BRUSHING);
  const mg_detect_finding *fc = must_find(&g, cp.student, MG_DETECT_EXAM_BRUSHING);
  assert_non_null(fs);
  assert_non_null(fc);
  assert_non_null(strstr(fc->rules, "answer_vector_copied"));
  assert_null(find(&g, mate.student, MG_DETECT_EXAM_BRUSHING));
  mg_detect_free(d);
  seq_free(&q);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(forged_speed),
      cmocka_unit_test(honest_speed_lookalikes),
      cmocka_unit_test(instant_completion),
      cmocka_unit_test(completion_after_offline_sync),
      cmocka_unit_test(concurrency),
      cmocka_unit_test(order_and_duplicates),
      cmocka_unit_test(proxy_exam),
      cmocka_unit_test(exam_farm),
      cmocka_unit_test(exam_brushing),
      cmocka_unit_test(operator_device_vs_campus_nat),
      cmocka_unit_test(proxy_study),
      cmocka_unit_test(jittered_bot),
      cmocka_unit_test(type_names),
      /* dvideo (session 3) */
      cmocka_unit_test(unattended_takeover),
      cmocka_unit_test(jiggler),
      cmocka_unit_test(input_every_report_is_platform_normal),
      cmocka_unit_test(cross_account_harvest),
      cmocka_unit_test(answer_vector_copied),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
