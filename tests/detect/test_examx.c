/* 刷考 and 替考 rules of detection round 4 on hand-made sequences: a script's time that does not
 * follow the item over several sittings, a guess-through then a perfect retake (twice), a
 * cross-account harvest on short quizzes (the same pair twice), an exam answered far faster than
 * the student's own coursework, a stand-in who fails the face check then scrapes through, a script
 * whose pace changes between sittings (round 7) and a stand-in on a new device whose face passes
 * below the student's own scores (round 7); each with the honest look-alike closest to it, which
 * stays clean. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/err.h"
#include "seq.h"

#include "collect.h"

static void submit(seq *q, const who *w, const char *att, const char *kind, const char *assess, int64_t t) {
  char ext[200], oid[128];
  snprintf(ext, sizeof ext, "\"" X "attempt-id\":\"%s\",\"" X "assessment-kind\":\"%s\"", att, kind);
  snprintf(oid, sizeof oid, "https://mooc.example.cn/quiz/%s", assess);
  st(q, w, V_COMPLETED, T_ASSESS, oid, t, t + 100, NULL, "\"completion\":true,\"duration\":\"PT10M\"", ext);
}

/* One quiz of n items "<quiz>-i" by w, attempt id att, starting at t (ms); dur(i) seconds per
 * item; the first `wrong` items wrong. Returns the submission time. */
static int64_t quiz(seq *q, const who *w, const char *att, const char *quiz_id, int n, int wrong,
                    int64_t t, const double *dur, int chars) {
  for (int i = 0; i < n; i++) {
    char item[48];
    snprintf(item, sizeof item, "%s-%d", quiz_id, i);
    t += (int64_t)(dur[i] * 1000) + 500;
    answer_choice(q, w, att, "quiz", item, t, dur[i], i < wrong ? "b" : "a", i >= wrong, chars);
  }
  submit(q, w, att, "quiz", quiz_id, t + 1000);
  return t + 1000;
}

/* A script answers every item in 3.0 ± 0.1 s, in four sittings (with the stems unread:
 * answers_below_reading_time); a fast strong student's time follows the item (and varies between
 * sittings) and stays clean. */
static void script_time_across_attempts(void **state) {
  (void)state;
  got g;
  mg_detect *d = engine(&g);
  seq q = {.d = d};
  who bot, fast;
  who_init(&bot, 90, "dev-s1", "10.20.0.1", NULL);
  who_init(&fast, 91, "dev-s2", "10.20.0.2", NULL);
  for (int k = 0; k < 4; k++) {
    char qid[16], ab[16], af[16];
    snprintf(qid, sizeof qid, "ch%d", k);
    snprintf(ab, sizeof ab, "sb-%d", k);
    snprintf(af, sizeof af, "sf-%d", k);
    double db[5], df[5];
    for (int i = 0; i < 5; i++) {
      db[i] = 3.0 + 0.1 * ((i + k) % 3 - 1);
      df[i] = 5.0 + 4.0 * ((i * 3 + k) % 5) + k; /* 5–21 s, longer items longer */
    }
    int64_t t0 = T0 + k * 86400000LL;
    quiz(&q, &bot, ab, qid, 5, 1, t0, db, 60); /* 60 characters: 4 s to read */
    quiz(&q, &fast, af, qid, 5, 0, t0 + 3600000, df, 60);
  }
  mg_detect_flush(d);
  const mg_detect_finding *f = must_find(&g, bot.student, MG_DETECT_EXAM_BRUSHING);
  assert_non_null(strstr(f->rules, "constant_time_across_attempts"));
  assert_null(find(&g, fast.student, MG_DETECT_EXAM_BRUSHING));
  mg_detect_free(d);
  seq_free(&q);
}

/* Guess-through (answers faster than the stems can be read, all wrong) then a perfect retake, on
 * two quizzes: found. An honest student who fails after reading and retakes perfectly, twice,
 * stays clean; so does one guess-through retake alone. */
static void guess_then_retake(void **state) {
  (void)state;
  got g;
  mg_detect *d = engine(&g);
  seq q = {.d = d};
  who h, once, honest;
  who_init(&h, 92, "dev-g1", "10.21.0.1", NULL);
  who_init(&once, 93, "dev-g2", "10.21.0.2", NULL);
  who_init(&honest, 94, "dev-g3", "10.21.0.3", NULL);
  double guess[4] = {1.2, 1.5, 1.1, 1.4}, key[4] = {4.0, 6.5, 5.0, 7.5}, slow[4] = {25, 41, 33, 58};
  for (int k = 0; k < 2; k++) {
    char qid[16], a1[24], a2[24];
    snprintf(qid, sizeof qid, "gq%d", k);
    int64_t t = T0 + k * 86400000LL;
    snprintf(a1, sizeof a1, "g1-%d", k);
    snprintf(a2, sizeof a2, "g2-%d", k);
    int64_t e = quiz(&q, &h, a1, qid, 4, 4, t, guess, 60); /* 60 chars: 4 s to read */
    quiz(&q, &h, a2, qid, 4, 0, e + 60000, key, 60);
    snprintf(a1, sizeof a1, "h1-%d", k);
    snprintf(a2, sizeof a2, "h2-%d", k);
    e = quiz(&q, &honest, a1, qid, 4, 3, t + 7200000, slow, 60);
    quiz(&q, &honest, a2, qid, 4, 0, e + 1800000, slow, 60);
  }
  int64_t e = quiz(&q, &once, "o1", "gq0", 4, 4, T0 + 3 * 3600000, guess, 60);
  quiz(&q, &once, "o2", "gq0", 4, 0, e + 60000, key, 60);
  mg_detect_flush(d);
  const mg_detect_finding *f = must_find(&g, h.student, MG_DETECT_EXAM_BRUSHING);
  assert_non_null(strstr(f->rules, "harvest_then_submit"));
  assert_null(find(&g, honest.student, MG_DETECT_EXAM_BRUSHING));
  assert_null(find(&g, once.student, MG_DETECT_EXAM_BRUSHING));
  mg_detect_free(d);
  seq_free(&q);
}

/* A harvester guesses through 3-item quizzes; minutes later its partner types the key in from
 * another device, full marks; twice: both found. A classmate who works through the same quizzes
 * at a reading pace minutes after the guesser, full marks both times, stays clean (this pattern
 * made an honest finding on seed 1 before the submitter had to be fast). */
static void cross_harvest_short_quizzes(void **state) {
  (void)state;
  got g;
  mg_detect *d = engine(&g);
  seq q = {.d = d};
  who hv, sub, lucky;
  who_init(&hv, 95, "dev-hv", "10.22.0.1", NULL);
  who_init(&sub, 96, "dev-sub", "10.22.0.2", NULL);
  who_init(&lucky, 97, "dev-lucky", "10.22.0.3", NULL);
  double guess[3] = {1.5, 2.0, 1.2}, key[3] = {5.0, 7.5, 6.0}, slow[3] = {35, 22, 47};
  for (int k = 0; k < 2; k++) {
    char qid[16], a1[24], a2[24], a3[24];
    snprintf(qid, sizeof qid, "hq%d", k);
    snprintf(a1, sizeof a1, "hv-%d", k);
    snprintf(a2, sizeof a2, "sub-%d", k);
    snprintf(a3, sizeof a3, "lk-%d", k);
    int64_t t = T0 + k * 86400000LL;
    int64_t e = quiz(&q, &hv, a1, qid, 3, 3, t, guess, 40);
    quiz(&q, &sub, a2, qid, 3, 0, e + 8 * 60000, key, 40);
    quiz(&q, &lucky, a3, qid, 3, 0, e + 20 * 60000, slow, 40); /* works through it, full marks */
  }
  mg_detect_flush(d);
  const mg_detect_finding *fs = must_find(&g, sub.student, MG_DETECT_EXAM_BRUSHING);
  assert_non_null(strstr(fs->rules, "cross_account_harvest"));
  must_find(&g, hv.student, MG_DETECT_EXAM_BRUSHING);
  assert_null(find(&g, lucky.student, MG_DETECT_EXAM_BRUSHING));
  mg_detect_free(d);
  seq_free(&q);
}

/* 24 classmates set the population's pace on 4 quizzes and a 10-item exam. One student does the
 * coursework at the classmates' pace and then the exam at a quarter of it with as high an
 * accuracy (someone else's answers): found by exam_pace_unlike_coursework together with
 * faster_than_population. A student who is fast everywhere (a quarter of the pace on coursework
 * and exam alike) is not "unlike coursework" and stays clean. */
static void exam_pace_unlike_coursework(void **state) {
  (void)state;
  got g;
  mg_detect *d = engine(&g);
  seq q = {.d = d};
  who cls[24], ring, quick;
  char dev[32], ip[32];
  for (int c = 0; c < 24; c++) {
    snprintf(dev, sizeof dev, "dev-c%d", c);
    snprintf(ip, sizeof ip, "10.23.1.%d", c + 1);
    who_init(&cls[c], 200 + c, dev, ip, NULL);
  }
  who_init(&ring, 98, "dev-ring", "10.23.0.1", NULL);
  who_init(&quick, 99, "dev-quick", "10.23.0.2", NULL);
  char att[32], qid[16];
  double dur[10];
  for (int k = 0; k < 5; k++) { /* 4 quizzes of 5 items, then the exam */
    int n = k < 4 ? 5 : 10;
    int64_t t0 = T0 + k * 86400000LL;
    snprintf(qid, sizeof qid, k < 4 ? "pq%d" : "final", k);
    for (int c = 0; c < 24; c++) {
      for (int i = 0; i < n; i++) dur[i] = 20.0 + 3.0 * ((c + 2 * i) % 7) + 2.0 * i;
      snprintf(att, sizeof att, "c%d-%d", c, k);
      if (k < 4) quiz(&q, &cls[c], att, qid, n, c % 3, t0 + c * 600000, dur, 40);
      else {
        for (int i = 0; i < n; i++) {
          char item[32];
          snprintf(item, sizeof item, "final-%d", i);
          answer_choice(&q, &cls[c], att, "exam", item, t0 + c * 600000 + i * 40000, dur[i], i < 1 + c % 4 ? "b" : "a", i >= 1 + c % 4, 40);
        }
        submit(&q, &cls[c], att, "exam", qid, t0 + c * 600000 + 500000);
      }
    }
    /* ring: coursework at the class's pace; the exam at about a quarter of it */
    for (int i = 0; i < n; i++) dur[i] = k < 4 ? 21.0 + 3.0 * ((i * 5) % 7) + 2.0 * i : 4.0 + (i * 7) % 9;
    snprintf(att, sizeof att, "ring-%d", k);
    int64_t tr = t0 + 20 * 3600000LL;
    /* quick: a quarter of the class's pace everywhere, a little less accurate */
    double dq[10];
    for (int i = 0; i < n; i++) dq[i] = 4.5 + (i * 5) % 8;
    char attq[32];
    snprintf(attq, sizeof attq, "quick-%d", k);
    if (k < 4) {
      quiz(&q, &ring, att, qid, n, 1, tr, dur, 40);
      quiz(&q, &quick, attq, qid, n, 1, tr + 3600000, dq, 40);
    } else {
      for (int i = 0; i < n; i++) {
        char item[32];
        snprintf(item, sizeof item, "final-%d", i);
        answer_choice(&q, &ring, att, "exam", item, tr + i * 15000, dur[i], i < 1 ? "b" : "a", i >= 1, 40);
        answer_choice(&q, &quick, attq, "exam", item, tr + 3600000 + i * 15000, dq[i], i < 2 ? "b" : "a", i >= 2, 40);
      }
      submit(&q, &ring, att, "exam", qid, tr + 200000);
      submit(&q, &quick, attq, "exam", qid, tr + 3800000);
    }
  }
  mg_detect_flush(d);
  const mg_detect_finding *f = must_find(&g, ring.student, MG_DETECT_EXAM_BRUSHING);
  assert_non_null(strstr(f->rules, "exam_pace_unlike_coursework"));
  assert_null(find(&g, quick.student, MG_DETECT_EXAM_BRUSHING));
  for (int c = 0; c < 24; c++) assert_null(find(&g, cls[c].student, MG_DETECT_EXAM_BRUSHING));
  mg_detect_free(d);
  seq_free(&q);
}

/* 24 classmates take a 10-item exam at 20–50 s an item. Two accounts then submit the same answer
 * sheet (including one wrong answer) eight minutes apart at a fifth of the class's time: found by
 * fast_identical_attempts with faster_than_population. Two strong friends who sit the exam at the
 * same time and both get everything right, at 0.6 of the class's time, stay clean. */
static void fast_identical_attempts(void **state) {
  (void)state;
  got g;
  mg_detect *d = engine(&g);
  seq q = {.d = d};
  who cls[24], t1, t2, s1, s2;
  char dev[32], ip[32], att[32], item[32];
  for (int c = 0; c < 24; c++) {
    snprintf(dev, sizeof dev, "dev-k%d", c);
    snprintf(ip, sizeof ip, "10.24.1.%d", c + 1);
    who_init(&cls[c], 300 + c, dev, ip, NULL);
  }
  who_init(&t1, 120, "dev-t1", "10.24.0.1", NULL);
  who_init(&t2, 121, "dev-t2", "10.24.0.2", NULL);
  who_init(&s1, 122, "dev-s1", "10.24.0.3", NULL);
  who_init(&s2, 123, "dev-s2", "10.24.0.4", NULL);
  int64_t t0 = T0;
  for (int c = 0; c < 24; c++) {
    snprintf(att, sizeof att, "k%d", c);
    for (int i = 0; i < 10; i++) {
      snprintf(item, sizeof item, "tw-%d", i);
      int ok = i >= 1 + c % 4;
      answer_choice(&q, &cls[c], att, "exam", item, t0 + c * 600000 + i * 60000, 20.0 + 3.0 * ((c + 2 * i) % 11),
             ok ? "a" : (c % 2 ? "b" : "c"), ok, 40);
    }
    submit(&q, &cls[c], att, "exam", "twin-final", t0 + c * 600000 + 700000);
  }
  int64_t tt = t0 + 20 * 3600000LL;
  const who *tw[2] = {&t1, &t2}, *st2[2] = {&s1, &s2};
  for (int k = 0; k < 2; k++) {
    snprintf(att, sizeof att, "tw%d", k);
    for (int i = 0; i < 10; i++) {
      snprintf(item, sizeof item, "tw-%d", i);
      answer_choice(&q, tw[k], att, "exam", item, tt + k * 480000 + i * 10000, 4.0 + (i * 3 + k) % 6, i == 4 ? "d" : "a", i != 4, 40);
    }
    submit(&q, tw[k], att, "exam", "twin-final", tt + k * 480000 + 120000);
    snprintf(att, sizeof att, "st%d", k);
    for (int i = 0; i < 10; i++) {
      snprintf(item, sizeof item, "tw-%d", i);
      answer_choice(&q, st2[k], att, "exam", item, tt + 7200000 + k * 60000 + i * 30000, 16.0 + 2.0 * ((i * 3 + k) % 6), "a", 1, 40);
    }
    submit(&q, st2[k], att, "exam", "twin-final", tt + 7200000 + k * 60000 + 400000);
  }
  mg_detect_flush(d);
  const mg_detect_finding *f = must_find(&g, t2.student, MG_DETECT_EXAM_BRUSHING);
  assert_non_null(strstr(f->rules, "fast_identical_attempts"));
  must_find(&g, t1.student, MG_DETECT_EXAM_BRUSHING);
  assert_null(find(&g, s1.student, MG_DETECT_EXAM_BRUSHING));
  assert_null(find(&g, s2.student, MG_DETECT_EXAM_BRUSHING));
  for (int c = 0; c < 24; c++) assert_null(find(&g, cls[c].student, MG_DETECT_EXAM_BRUSHING));
  mg_detect_free(d);
  seq_free(&q);
}

/* ---- 替考 ---------------------------------------------------------------------------------- */

static void study_history(seq *q, const who *w, int64_t t, int videos) {
  vopt o = honest_video();
  o.length = 300;
  for (int v = 0; v < videos; v++) {
    char vid[16];
    snprintf(vid, sizeof vid, "h%d", v);
    t = video(q, w, vid, t, &o) + 3600000;
  }
}

static void exam_start(seq *q, const who *w, const char *exam, int64_t t) {
  char ext[600], oid[128];
  snprintf(oid, sizeof oid, "https://mooc.example.cn/exam/%s", exam);
  snprintf(ext, sizeof ext,
           "\"" X "attempt-id\":\"att-%s-%s\",\"" X "assessment-kind\":\"exam\",\"" X "attempt-number\":1,"
           "\"" X "cameras-required\":1,\"" X "camera-count\":1,\"" X "cameras\":[{\"role\":\"primary\",\"device-id\":\"%s\"}]",
           exam, w->student, w->device);
  st(q, w, V_ATTEMPTED, T_ASSESS, oid, t, t + 100, NULL, NULL, ext);
}

/* One exam face check (prompt, then result) with this score against a 0.8 threshold. */
static void face(seq *q, const who *w, const char *check, int64_t t, double score, const char *purpose) {
  char ext[300], oid[128], res[128], pext[128];
  int pass = score >= 0.8;
  snprintf(oid, sizeof oid, "https://mooc.example.cn/face/%s", check);
  snprintf(ext, sizeof ext, "\"" X "face-purpose\":\"%s\",\"" X "face-threshold\":0.8%s", purpose,
           pass ? "" : ",\"" X "face-failure\":\"mismatch\"");
  snprintf(pext, sizeof pext, "\"" X "face-purpose\":\"%s\"", purpose);
  st(q, w, V_LAUNCHED, T_FACE, oid, t, t + 100, NULL, NULL, pext);
  snprintf(res, sizeof res, "\"success\":%s,\"score\":{\"scaled\":%.3f}", pass ? "true" : "false", score);
  st(q, w, pass ? V_PASSED : V_FAILED, T_FACE, oid, t + 9000, t + 9100, NULL, res, ext);
}

/* A relative sits the exam at the student's home on the student's laptop: the face check fails as
 * a mismatch, then every later check passes only just. Found. The honest look-alikes on their own
 * laptops stay clean: a failure in bad light followed by normal passes (one of them narrow), and
 * narrow passes without any failure. */
static void stand_in_narrow_passes(void **state) {
  (void)state;
  got g;
  mg_detect *d = engine(&g);
  seq q = {.d = d};
  who me, dark, pale;
  who_init(&me, 110, "dev-home", "10.30.0.1", NULL);
  who_init(&dark, 111, "dev-dark", "10.30.0.2", NULL);
  who_init(&pale, 112, "dev-pale", "10.30.0.3", NULL);
  study_history(&q, &me, T0, 3);
  study_history(&q, &dark, T0, 3);
  study_history(&q, &pale, T0, 3);
  int64_t ex = T0 + 90LL * 86400000;
  exam_start(&q, &me, "final", ex);
  face(&q, &me, "m1", ex + 1000, 0.62, "exam-start");
  face(&q, &me, "m2", ex + 60000, 0.82, "exam-start");
  face(&q, &me, "m3", ex + 1800000, 0.83, "exam-random");
  face(&q, &me, "m4", ex + 3600000, 0.81, "exam-end");
  exam_start(&q, &dark, "final", ex);
  face(&q, &dark, "d1", ex + 1000, 0.55, "exam-start");
  face(&q, &dark, "d2", ex + 60000, 0.84, "exam-start");
  face(&q, &dark, "d3", ex + 1800000, 0.93, "exam-random");
  face(&q, &dark, "d4", ex + 3600000, 0.91, "exam-end");
  exam_start(&q, &pale, "final", ex);
  face(&q, &pale, "p1", ex + 1000, 0.82, "exam-start");
  face(&q, &pale, "p2", ex + 1800000, 0.83, "exam-random");
  face(&q, &pale, "p3", ex + 3600000, 0.84, "exam-end");
  mg_detect_flush(d);
  const mg_detect_finding *f = must_find(&g, me.student, MG_DETECT_PROXY_EXAM);
  assert_non_null(strstr(f->rules, "exam_face_narrow_after_fail"));
  assert_null(find(&g, dark.student, MG_DETECT_PROXY_EXAM));
  assert_null(find(&g, pale.student, MG_DETECT_PROXY_EXAM));
  mg_detect_free(d);
  seq_free(&q);
}

/* A script whose pace changes from one sitting to the next (7, 11, 16 s per item: over all items
 * the time varies by a third, so only within each sitting is it constant): found by
 * constant_time_across_attempts. A habitual student whose pace also changes between sittings,
 * but whose time within a sitting follows the item, stays clean. */
static void script_pace_changes_between_sittings(void **state) {
  (void)state;
  got g;
  mg_detect *d = engine(&g);
  seq q = {.d = d};
  who bot, habit;
  who_init(&bot, 120, "dev-sp1", "10.31.0.1", NULL);
  who_init(&habit, 121, "dev-sp2", "10.31.0.2", NULL);
  const double pace[3] = {7.0, 11.0, 16.0};
  for (int k = 0; k < 3; k++) {
    char qid[16], ab[16], ah[16];
    snprintf(qid, sizeof qid, "sp%d", k);
    snprintf(ab, sizeof ab, "spb-%d", k);
    snprintf(ah, sizeof ah, "sph-%d", k);
    double db[8], dh[8];
    for (int i = 0; i < 8; i++) {
      db[i] = pace[k] * (1.0 + 0.02 * ((i + k) % 3 - 1));
      dh[i] = pace[k] * (0.6 + 0.2 * ((i * 3 + k) % 5)); /* 0.6–1.4 × the sitting's pace */
    }
    int64_t t0 = T0 + k * 86400000LL;
    quiz(&q, &bot, ab, qid, 8, 2, t0, db, 60);
    quiz(&q, &habit, ah, qid, 8, 2, t0 + 3600000, dh, 60);
  }
  mg_detect_flush(d);
  const mg_detect_finding *f = must_find(&g, bot.student, MG_DETECT_EXAM_BRUSHING);
  assert_non_null(strstr(f->rules, "constant_time_across_attempts"));
  assert_null(find(&g, habit.student, MG_DETECT_EXAM_BRUSHING));
  mg_detect_free(d);
  seq_free(&q);
}

/* The final exam with face checks at its start, middle and end scoring a, b, c. */
static void sit_with_faces(seq *q, const who *w, const char *tag, int64_t ex, double a, double b, double c) {
  const double sc[3] = {a, b, c};
  static const char *const purpose[3] = {"exam-start", "exam-random", "exam-end"};
  char chk[32];
  exam_start(q, w, "final", ex);
  for (int i = 0; i < 3; i++) {
    snprintf(chk, sizeof chk, "%s%d", tag, i + 1);
    face(q, w, chk, ex + 1000 + i * 1800000LL, sc[i], purpose[i]);
  }
}

/* Passed study face checks of 30 classmates set how much one person's score varies (about 0.02).
 * A stand-in sits the exam on a device, network and browser the student never used, and passes
 * every face check, but well below the student's own study-time scores (0.835–0.845 against
 * 0.90–0.93, none within 0.03 of the threshold): found by exam_identity_novel with exam_face_low.
 * Clean: the student's classmate on a new laptop whose exam scores are as usual, and one on her
 * own laptop who scores as low (a tired face: low scores alone are never a finding). */
static void stand_in_new_device_low_face(void **state) {
  (void)state;
  got g;
  mg_detect *d = engine(&g);
  seq q = {.d = d};
  who cls[30], me, impostor, newlap, tired;
  char dev[32], ip[32], chk[32];
  for (int c = 0; c < 30; c++) {
    snprintf(dev, sizeof dev, "dev-fc%d", c);
    snprintf(ip, sizeof ip, "10.32.1.%d", c + 1);
    who_init(&cls[c], 300 + c, dev, ip, NULL);
    for (int k = 0; k < 5; k++) {
      snprintf(chk, sizeof chk, "cl-%d-%d", c, k);
      face(&q, &cls[c], chk, T0 + (c * 5 + k) * 600000LL, 0.88 + 0.01 * ((c + 2 * k) % 5), "study-random");
    }
  }
  who_init(&me, 130, "dev-me", "10.32.0.1", NULL);
  who_init(&newlap, 131, "dev-nl", "10.32.0.2", NULL);
  who_init(&tired, 132, "dev-td", "10.32.0.3", NULL);
  const double own[4] = {0.91, 0.93, 0.90, 0.92};
  who *three[3] = {&me, &newlap, &tired};
  for (int w = 0; w < 3; w++) {
    study_history(&q, three[w], T0, 3);
    for (int k = 0; k < 4; k++) {
      snprintf(chk, sizeof chk, "own-%d-%d", w, k);
      face(&q, three[w], chk, T0 + 2LL * 86400000 + k * 3600000LL, own[k], "study-random");
    }
  }
  int64_t ex = T0 + 90LL * 86400000;
  impostor = me;
  snprintf(impostor.device, sizeof impostor.device, "dev-elsewhere");
  snprintf(impostor.ip, sizeof impostor.ip, "172.21.7.7");
  snprintf(impostor.ua, sizeof impostor.ua, "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) Safari/605.1.15");
  sit_with_faces(&q, &impostor, "x", ex, 0.835, 0.845, 0.84);
  who nl2 = newlap;
  snprintf(nl2.device, sizeof nl2.device, "dev-nl-new");
  snprintf(nl2.ip, sizeof nl2.ip, "172.21.8.8");
  snprintf(nl2.ua, sizeof nl2.ua, "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) Safari/605.1.15");
  sit_with_faces(&q, &nl2, "n", ex, 0.91, 0.92, 0.90);
  sit_with_faces(&q, &tired, "t", ex, 0.835, 0.845, 0.84);
  mg_detect_flush(d);
  const mg_detect_finding *f = must_find(&g, me.student, MG_DETECT_PROXY_EXAM);
  assert_non_null(strstr(f->rules, "exam_identity_novel"));
  assert_non_null(strstr(f->rules, "exam_face_low"));
  assert_non_null(strstr(f->thresholds, "\"exam_face_low\""));
  assert_null(find(&g, newlap.student, MG_DETECT_PROXY_EXAM));
  assert_null(find(&g, tired.student, MG_DETECT_PROXY_EXAM));
  mg_detect_free(d);
  seq_free(&q);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(script_time_across_attempts),
      cmocka_unit_test(guess_then_retake),
      cmocka_unit_test(cross_harvest_short_quizzes),
      cmocka_unit_test(exam_pace_unlike_coursework),
      cmocka_unit_test(fast_identical_attempts),
      cmocka_unit_test(stand_in_narrow_passes),
      cmocka_unit_test(script_pace_changes_between_sittings),
      cmocka_unit_test(stand_in_new_device_low_face),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
