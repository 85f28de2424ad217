/* 刷课 rules on hand-made video sessions (round 4): the report order of a seek and the pause it
 * causes, a player driven past the cap caught by the end of the video, and the honest sessions
 * closest to each (seeks either way, pauses with a late report, viewing at the cap). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/err.h"
#include "seq.h"

#include "collect.h"

/* One report of a session: verb, client time and receive time (s after the session start),
 * position (a seek: from -> to). */
typedef struct rep { const char *verb; double ts, recv, pos, to; } rep;

/* How the player reports (volume, page visible, input on every third report or never). */
static struct { double volume; int hidden, no_input, offline, jiggle; } g_style = {0.8, 0, 0, 0, 0};

static void session(seq *q, const who *w, const char *vid, int64_t t0, double cap, double length,
                    const rep *r, size_t n) {
  char sid[64], oid[128], ext[512], res[256];
  snprintf(sid, sizeof sid, "sess-%s-%s", w->student, vid);
  snprintf(oid, sizeof oid, "https://mooc.example.cn/video/%s", vid);
  snprintf(ext, sizeof ext, "\"" VX "session-id\":\"%s\",\"" VX "length\":%.3f,\"" X "max-speed\":%g,\"" VX "completion-threshold\":0.9",
           sid, length, cap);
  st(q, w, V_INIT, T_VIDEO, oid, t0, t0 + 100, NULL, NULL, ext);
  for (size_t i = 0; i < n; i++) {
    /* a present viewer: input on some reports, not all */
    snprintf(ext, sizeof ext, "\"" VX "session-id\":\"%s\",\"" VX "length\":%.3f,\"" VX "speed\":\"%gx\",\"" VX "volume\":%g,\"" X "input-count\":%d,\"" X "visible\":%s%s",
             sid, length, cap, g_style.volume, g_style.jiggle ? 2 : !g_style.no_input && i % 3 == 0, g_style.hidden ? "false" : "true",
             g_style.offline ? ",\"" X "offline\":true" : "");
    if (!strcmp(r[i].verb, V_SEEKED))
      snprintf(res, sizeof res, "\"extensions\":{\"" VX "time-from\":%.3f,\"" VX "time-to\":%.3f}", r[i].pos, r[i].to);
    else if (!strcmp(r[i].verb, V_COMPLETED))
      snprintf(res, sizeof res, "\"completion\":true,\"extensions\":{\"" VX "time\":%.3f,\"" VX "progress\":%.3f}",
               r[i].pos, r[i].pos / length);
    else
      snprintf(res, sizeof res, "\"extensions\":{\"" VX "time\":%.3f}", r[i].pos);
    st(q, w, r[i].verb, T_VIDEO, oid, t0 + (int64_t)(r[i].ts * 1000), t0 + (int64_t)(r[i].recv * 1000), NULL, res, ext);
  }
}

/* A player stamps a seek and the pause at its target with the same client time; either may be
 * received (and fed) first. Neither order is a jump of the position. */
static void seek_and_pause_in_either_order(void **state) {
  (void)state;
  got g;
  mg_detect *d = engine(&g);
  seq q = {.d = d};
  who w;
  who_init(&w, 1, "dev-seek", "10.3.0.1", NULL);
  /* forward: the pause at 481 s is received 120 ms before the seek 421 -> 481 */
  const rep fwd[] = {{V_PLAYED, 1, 1.1, 0, 0},         {V_HB, 61, 61.1, 60, 0},
                     {V_HB, 121, 121.1, 120, 0},       {V_PAUSED, 122.2, 122.25, 181, 0},
                     {V_SEEKED, 122.2, 122.37, 121, 181}, {V_TERMINATED, 128, 128.1, 181, 0}};
  session(&q, &w, "f1", T0, 1, 600, fwd, sizeof fwd / sizeof fwd[0]);
  /* backward: the pause at the target comes first, then the seek from 301 back to 217 */
  const rep back[] = {{V_PLAYED, 1, 1.1, 0, 0},          {V_HB, 61, 61.1, 60, 0},
                      {V_HB, 121, 121.1, 120, 0},        {V_HB, 181, 181.1, 180, 0},
                      {V_HB, 241, 241.1, 240, 0},        {V_HB, 301, 301.1, 300, 0},
                      {V_PAUSED, 302, 302.05, 217, 0},   {V_SEEKED, 302, 302.06, 301, 217},
                      {V_TERMINATED, 308, 308.1, 217, 0}};
  for (int i = 0; i < 4; i++) {
    char v[16];
    snprintf(v, sizeof v, "b%d", i);
    session(&q, &w, v, T0 + 3600000LL * (i + 1), 1, 600, back, sizeof back / sizeof back[0]);
  }
  /* the same pair fed seek first although the pause was received first (another arrival order) */
  seq q2 = {0};
  who w2;
  who_init(&w2, 2, "dev-seek2", "10.3.0.2", NULL);
  session(&q2, &w2, "f2", T0, 1, 600, fwd, sizeof fwd / sizeof fwd[0]);
  char *tmp = q2.s[4]; /* initialized, played, hb, hb, paused, seeked, terminated: swap 4 and 5 */
  q2.s[4] = q2.s[5];
  q2.s[5] = tmp;
  for (size_t i = 0; i < q2.n; i++) mg_detect_feed_json(d, q2.s[i], strlen(q2.s[i]));
  assert_int_equal(mg_detect_flush(d), MG_OK);
  assert_int_equal(g.n, 0);
  mg_detect_free(d);
  seq_free(&q);
  seq_free(&q2);
}

/* A page script runs the player at 1.46x the cap (2x) but reports 2x, with a pause in the middle
 * (a report at the pause, as a native player sends): the video has not been played when its
 * completion is reported, and the finding comes at that report, not minutes later. */
static void overcap_found_at_completion(void **state) {
  (void)state;
  got g;
  mg_detect *d = engine(&g);
  seq q = {.d = d};
  who w;
  who_init(&w, 3, "dev-overcap", "10.3.0.3", NULL);
  const rep r[] = {{V_PLAYED, 1, 1.1, 0, 0},          {V_HB, 21, 21.1, 0, 0}, /* loading */
                   {V_HB, 51.3, 51.4, 88.96, 0},      {V_PAUSED, 81, 81.1, 175.9, 0},
                   {V_HB, 81, 81.15, 175.9, 0},       {V_PLAYED, 108.3, 108.4, 175.9, 0},
                   {V_COMPLETED, 138.2, 138.3, 263.2, 0}, {V_HB, 138.2, 138.4, 263.2, 0},
                   {V_PAUSED, 143.5, 143.6, 278.67, 0}, {V_TERMINATED, 148, 148.1, 278.67, 0}};
  session(&q, &w, "v1", T0, 2, 278.67, r, sizeof r / sizeof r[0]);
  const mg_detect_finding *f = must_find(&g, w.student, MG_DETECT_COURSE_BRUSHING);
  assert_non_null(strstr(f->rules, "speed_over_cap"));
  /* found at the completion report (received 138.3 s after the start) */
  assert_true(f->found_at_us <= (T0 + 138300) * 1000LL);
  mg_detect_free(d);
  seq_free(&q);
}

/* The same script on a short video at a small cap: 1.75x where the cap is 1.25x, reported as
 * 1.25x, with the report delays of a good network. By the server's receive times the whole run is
 * within the 15 s x cap allowed for receive jitter; by the client's own clock (no network in it)
 * it advanced 50 s of video beyond the cap: found at the completion report. */
static void overcap_short_video_client_clock(void **state) {
  (void)state;
  got g;
  mg_detect *d = engine(&g);
  seq q = {.d = d};
  who w;
  who_init(&w, 9, "dev-overcap2", "10.3.0.9", NULL);
  const rep r[] = {{V_PLAYED, 1, 1.1, 0, 0},         {V_HB, 31, 31.2, 52.5, 0},
                   {V_HB, 61, 61.1, 105, 0},         {V_HB, 91, 91.3, 157.5, 0},
                   {V_COMPLETED, 115.3, 115.4, 200, 0}, {V_TERMINATED, 117, 117.1, 200, 0}};
  session(&q, &w, "v9", T0, 1.25, 200, r, sizeof r / sizeof r[0]);
  const mg_detect_finding *f = must_find(&g, w.student, MG_DETECT_COURSE_BRUSHING);
  assert_non_null(strstr(f->rules, "speed_over_cap"));
  assert_true(f->found_at_us <= (T0 + 115400) * 1000LL);
  mg_detect_free(d);
  seq_free(&q);
}

/* Honest look-alikes of the client-clock run: at the cap (1.25x) with the client clock stepped
 * back 28 s mid-video (a time sync), and a report at a seek's origin received 12 ms after the
 * seek though stamped half a second before it (the two were sent together). Neither is a
 * finding: a clock that runs backwards is not trusted beyond the receive time, and reports that
 * arrive within moments of each other are put in the client's order. */
static void client_clock_steps_and_reordered_seek(void **state) {
  (void)state;
  got g;
  mg_detect *d = engine(&g);
  seq q = {.d = d};
  who w;
  who_init(&w, 10, "dev-clock", "10.3.0.10", NULL);
  for (int v = 0; v < 4; v++) {
    /* 1.25x; from the third report on the client clock reads 28 s less */
    const rep r[] = {{V_PLAYED, 1, 1.1, 0, 0},           {V_HB, 31, 31.1, 37.5, 0},
                     {V_HB, 61, 61.1, 75, 0},            {V_HB, 63, 91.1, 112.5, 0},
                     {V_HB, 93, 121.1, 150, 0},          {V_HB, 123, 151.1, 187.5, 0},
                     {V_COMPLETED, 153, 181.1, 225, 0},  {V_TERMINATED, 154, 182.1, 225, 0}};
    char vid[16];
    snprintf(vid, sizeof vid, "k%d", v);
    session(&q, &w, vid, T0 + 3600000LL * v, 1.25, 240, r, sizeof r / sizeof r[0]);
  }
  for (int v = 0; v < 4; v++) {
    /* 1x at a 1.5x cap; at 540.3 s the viewer seeks back to 485.9 s: the report at 540.3 s is
     * stamped 0.54 s before the seek and received 12 ms after it */
    const rep r[] = {{V_PLAYED, 1, 1.5, 420, 0},            {V_HB, 61, 61.5, 480, 0},
                     {V_SEEKED, 121.54, 121.95, 540.3, 485.9}, {V_HB, 121, 121.962, 540.3, 0},
                     {V_HB, 181, 181.4, 545.9, 0},           {V_HB, 241, 241.4, 605.9, 0},
                     {V_PAUSED, 250, 250.4, 614.9, 0},       {V_TERMINATED, 255, 255.4, 614.9, 0}};
    char vid[16];
    snprintf(vid, sizeof vid, "s%d", v);
    session(&q, &w, vid, T0 + 3600000LL * (v + 10), 1.5, 800, r, sizeof r / sizeof r[0]);
  }
  assert_int_equal(mg_detect_flush(d), MG_OK);
  assert_int_equal(g.n, 0);
  mg_detect_free(d);
  seq_free(&q);
}

/* Honest look-alikes of the run rule: 2x at the cap with pauses, a report delayed 12 s then the
 * next on time, a long stall at the start; and 1x with a 2-minute pause. None is a finding. */
static void at_cap_with_pauses_and_delays(void **state) {
  (void)state;
  got g;
  mg_detect *d = engine(&g);
  seq q = {.d = d};
  who w;
  who_init(&w, 4, "dev-cap", "10.3.0.4", NULL);
  for (int v = 0; v < 10; v++) {
    rep r[40];
    size_t n = 0;
    double t = 1, pos = 0;
    r[n++] = (rep){V_PLAYED, t, t + 0.1, pos, 0};
    t += 20; /* buffering: no progress for 20 s */
    r[n++] = (rep){V_HB, t, t + 0.1, pos, 0};
    for (int k = 0; k < 20 && pos < 580; k++) {
      t += 30;
      pos += 60; /* exactly 2x */
      double late = (k % 5 == 2) ? 12.0 : 0.1; /* a retry: received 12 s late */
      r[n++] = (rep){V_HB, t, t + late, pos, 0};
      if (k % 4 == 3) {
        r[n++] = (rep){V_PAUSED, t + 0.5, t + 0.6, pos, 0};
        t += 20 + 37 * (k % 7); /* pauses of varied length */
        r[n++] = (rep){V_PLAYED, t, t + 0.1, pos, 0};
      }
    }
    r[n++] = (rep){V_COMPLETED, t + 0.2, t + 0.3, pos, 0};
    r[n++] = (rep){V_TERMINATED, t + 1, t + 1.1, pos, 0};
    char vid[16];
    snprintf(vid, sizeof vid, "c%d", v);
    session(&q, &w, vid, T0 + 3600000LL * v, 2, 600, r, n);
  }
  assert_int_equal(mg_detect_flush(d), MG_OK);
  assert_int_equal(g.n, 0);
  mg_detect_free(d);
  seq_free(&q);
}


/* A pop-up question of one item answered in dur seconds, inside a video. */
static void popup(seq *q, const who *w, int n, int64_t t, double dur) {
  char att[64], ext[200], res[160], oid[128];
  snprintf(att, sizeof att, "pop-%s-%d", w->student, n);
  snprintf(ext, sizeof ext, "\"" X "attempt-id\":\"%s\",\"" X "assessment-kind\":\"popup\"", att);
  snprintf(oid, sizeof oid, "https://mooc.example.cn/item/p%d", n);
  snprintf(res, sizeof res, "\"response\":\"a\",\"success\":true,\"duration\":\"PT%.1fS\"", dur);
  st(q, w, V_ANSWERED, T_ITEM, oid, t, t + 100,
     "\"interactionType\":\"choice\",\"description\":{\"zh-CN\":\"题题题题题\"}", res, ext);
  snprintf(oid, sizeof oid, "https://mooc.example.cn/popup/p%d", n);
  st(q, w, V_COMPLETED, T_ASSESS, oid, t + 500, t + 600, NULL, "\"completion\":true,\"duration\":\"PT5S\"", ext);
}

/* A document page left after dur seconds. */
static void page(seq *q, const who *w, int n, int64_t t, double dur) {
  char oid[128], res[80];
  snprintf(oid, sizeof oid, "https://mooc.example.cn/doc/%d", n);
  snprintf(res, sizeof res, "\"duration\":\"PT%.1fS\"", dur);
  st(q, w, "http://id.tincanapi.com/verb/viewed", "http://activitystrea.ms/schema/1.0/page", oid, t, t + 100,
     NULL, res, NULL);
}

/* A tool takes over after an honest start: its pop-ups are all instant and its pages have no
 * dwell, but the student's own earlier ones dilute the whole-enrolment shares below 80 %. From
 * the first instant one on, the shares are the tool's. A student who clicks through a few
 * among many answered and read ones is no finding. */
static void takeover_popups_and_pages(void **state) {
  (void)state;
  got g;
  mg_detect *d = engine(&g);
  seq q = {.d = d};
  who w, h;
  who_init(&w, 5, "dev-take", "10.3.0.5", NULL);
  who_init(&h, 6, "dev-click", "10.3.0.6", NULL);
  int64_t t = T0;
  for (int i = 0; i < 4; i++, t += 3600000) { /* the student's own days */
    popup(&q, &w, i, t, 20 + i);
    page(&q, &w, i, t + 1000, 200 + 30 * i);
  }
  for (int i = 4; i < 11; i++, t += 3600000) { /* the tool's */
    popup(&q, &w, i, t, 1.2);
    page(&q, &w, i, t + 1000, 1.0);
  }
  t = T0;
  for (int i = 0; i < 14; i++, t += 3600000) { /* look-alike: 3 quick among 14 */
    popup(&q, &h, i, t, i % 5 == 1 ? 1.5 : 25);
    page(&q, &h, i, t + 1000, i % 4 == 1 ? 1.0 : 180);
  }
  assert_int_equal(mg_detect_flush(d), MG_OK);
  const mg_detect_finding *f = must_find(&g, w.student, MG_DETECT_COURSE_BRUSHING);
  assert_non_null(strstr(f->rules, "popup_constant_time"));
  assert_non_null(strstr(f->rules, "reading_without_dwell"));
  assert_null(find(&g, h.student, MG_DETECT_COURSE_BRUSHING));
  assert_int_equal(g.n, 1);
  mg_detect_free(d);
  seq_free(&q);
}

/* Instant pages weigh by how rare they are on the platform: a tool's 4 pages without dwell and
 * 3 instant pop-ups are a finding where students read every page (after the first instant page,
 * 3 more at a rate of ~1/1,800 is improbable), and not where students click through a quarter of
 * their pages (the same counts are then ordinary). */
static void instant_pages_against_platform(void **state) {
  (void)state;
  for (int world = 0; world < 2; world++) {
    got g;
    mg_detect *d = engine(&g);
    seq q = {.d = d};
    for (int i = 0; i < 60; i++) {
      who h;
      char dev[24];
      snprintf(dev, sizeof dev, "dev-r%d", i);
      who_init(&h, 200 + i, dev, "10.5.0.1", NULL);
      int64_t t = T0 + i * 1000;
      /* world 1: every fourth page left at once (8 of the 29 from the first on) */
      for (int k = 0; k < 30; k++, t += 3600000)
        page(&q, &h, k, t, world == 1 && k % 4 == 1 ? 1.0 : 120 + k);
    }
    who w;
    who_init(&w, 7, "dev-tool", "10.5.0.9", NULL);
    int64_t t = T0 + 500;
    for (int k = 0; k < 4; k++, t += 3600000) page(&q, &w, k, t, 0.8);
    for (int k = 0; k < 3; k++, t += 3600000) popup(&q, &w, k, t, 1.1);
    assert_int_equal(mg_detect_flush(d), MG_OK);
    if (world == 0) {
      const mg_detect_finding *f = must_find(&g, w.student, MG_DETECT_COURSE_BRUSHING);
      assert_non_null(strstr(f->rules, "reading_without_dwell"));
      assert_non_null(strstr(f->rules, "popup_constant_time"));
      assert_int_equal(g.n, 1);
    } else {
      assert_null(find(&g, w.student, MG_DETECT_COURSE_BRUSHING));
      assert_int_equal(g.n, 0);
    }
    mg_detect_free(d);
    seq_free(&q);
  }
}

/* Quick resumes are judged against the platform's own share: 3 of 5 is chance, every pause of
 * many resumed within 2 s is not. 60 students pause now and then (one in twenty resumes quick). */
static void auto_resume_against_platform(void **state) {
  (void)state;
  got g;
  mg_detect *d = engine(&g);
  seq q = {.d = d};
  int k = 0;
  for (int i = 0; i < 62; i++) {
    who w;
    char dev[24];
    snprintf(dev, sizeof dev, "dev-p%d", i);
    who_init(&w, 100 + i, dev, "10.4.0.1", NULL);
    /* 60 and 61 play muted in the background with no input (0.95 of weak evidence together) */
    g_style.volume = i >= 60 ? 0 : 0.8;
    g_style.hidden = g_style.no_input = i >= 60;
    int npause = i == 60 ? 5 : i == 61 ? 12 : 20;
    rep r[160];
    size_t n = 0;
    double t = 1, pos = 0;
    r[n++] = (rep){V_PLAYED, t, t + 0.1, pos, 0};
    for (int h = 0; h < 60; h++) {
      t += 30;
      pos += 30;
      r[n++] = (rep){V_HB, t, t + 0.1, pos, 0};
      if (h % 3 != 0 || h / 3 >= npause) continue;
      int p = h / 3;
      r[n++] = (rep){V_PAUSED, t + 1, t + 1.1, pos, 0};
      /* 60: 3 of 5 quick (chance at the platform's rate); 61: all 12 (a tool); others 1 in 20 */
      int quick = i == 61 || (i == 60 && p < 3) || (i < 60 && ++k % 20 == 0);
      t += quick ? 1.5 : 20 + 7 * (p % 6);
      r[n++] = (rep){V_PLAYED, t, t + 0.1, pos, 0};
    }
    r[n++] = (rep){V_TERMINATED, t + 1, t + 1.1, pos, 0};
    session(&q, &w, "v1", T0 + i * 1000LL, 1, 3000, r, n);
  }
  g_style.volume = 0.8;
  g_style.hidden = g_style.no_input = 0;
  assert_int_equal(mg_detect_flush(d), MG_OK);
  char s60[32], s61[32];
  snprintf(s60, sizeof s60, "2023%06d", 160);
  snprintf(s61, sizeof s61, "2023%06d", 161);
  const mg_detect_finding *f = must_find(&g, s61, MG_DETECT_COURSE_BRUSHING);
  assert_non_null(strstr(f->rules, "auto_resume"));
  assert_null(find(&g, s60, MG_DETECT_COURSE_BRUSHING));
  assert_int_equal(g.n, 1);
  mg_detect_free(d);
  seq_free(&q);
}

/* Viewing resumed near the end on another device (the laptop played the first 90 %, the phone
 * the rest the next day) is a resume of known viewing, not a first report near the end. The
 * student plays muted in the background (0.65 of weak evidence) so that the old rule's 0.5 would
 * have made a finding. */
static void resume_near_end_elsewhere(void **state) {
  (void)state;
  got g;
  mg_detect *d = engine(&g);
  seq q = {.d = d};
  who lap, phone;
  who_init(&lap, 7, "dev-lap7", "10.5.0.1", NULL);
  phone = lap;
  snprintf(phone.device, sizeof phone.device, "dev-phone7");
  g_style.volume = 0;
  g_style.hidden = 1;
  for (int v = 0; v < 4; v++) {
    char vid[16];
    snprintf(vid, sizeof vid, "r%d", v);
    rep a[16];
    size_t n = 0;
    a[n++] = (rep){V_PLAYED, 1, 1.1, 0, 0};
    for (int h = 1; h <= 9; h++) a[n++] = (rep){V_HB, 1 + 60 * h, 1.1 + 60 * h, 60.0 * h, 0};
    a[n++] = (rep){V_TERMINATED, 545, 545.1, 540, 0};
    session(&q, &lap, vid, T0 + 86400000LL * v, 1, 600, a, n);
    const rep b[] = {{V_PLAYED, 1, 1.1, 540, 0}, {V_HB, 61, 61.1, 600, 0},
                     {V_COMPLETED, 61.2, 61.3, 600, 0}, {V_TERMINATED, 62, 62.1, 600, 0}};
    char vid2[16];
    snprintf(vid2, sizeof vid2, "%s", vid);
    session(&q, &phone, vid2, T0 + 86400000LL * v + 43200000LL, 1, 600, b, sizeof b / sizeof b[0]);
  }
  g_style.volume = 0.8;
  g_style.hidden = g_style.no_input = 0;
  assert_int_equal(mg_detect_flush(d), MG_OK);
  assert_int_equal(g.n, 0);
  mg_detect_free(d);
  seq_free(&q);
}

/* The first offline session of an enrolment (0 -> 500 s) is synced 20 h later; meanwhile an
 * online session resumed at 500 s and played to the completion point. It waits for the sync like
 * an offline claim and is no finding. The same resume with no viewing ever arriving is one. */
static void resume_before_first_offline_sync(void **state) {
  (void)state;
  got g;
  mg_detect *d = engine(&g);
  seq q = {.d = d};
  who w, f;
  who_init(&w, 8, "dev-off8", "10.5.0.8", NULL);
  who_init(&f, 9, "dev-off9", "10.5.0.9", NULL);
  const rep on[] = {{V_PLAYED, 1, 1.1, 500, 0}, {V_HB, 31, 31.1, 530, 0}, {V_HB, 61, 61.1, 560, 0},
                    {V_COMPLETED, 61.2, 61.3, 560, 0}, {V_HB, 91, 91.1, 590, 0},
                    {V_TERMINATED, 92, 92.1, 590, 0}};
  int64_t day2 = T0 + 86400000LL;
  session(&q, &w, "o1", day2, 1, 600, on, sizeof on / sizeof on[0]);
  session(&q, &f, "o1", day2, 1, 600, on, sizeof on / sizeof on[0]);
  /* the offline session of day 1 arrives 20 h after it was played (received at day 2 + 4 h) */
  rep off[24];
  size_t n = 0;
  double sync = 86400.0 + 4 * 3600;
  off[n++] = (rep){V_PLAYED, 1, sync, 0, 0};
  for (int h = 1; h <= 16; h++) off[n++] = (rep){V_HB, 1 + 30 * h, sync + 0.01 * h, 30.0 * h + 20, 0};
  off[n++] = (rep){V_TERMINATED, 520, sync + 0.5, 500, 0};
  g_style.offline = 1;
  session(&q, &w, "o1", T0, 1, 600, off, n);
  g_style.offline = 0;
  /* statement time moves on past the wait */
  const rep later[] = {{V_PLAYED, 1, 1.1, 0, 0}, {V_HB, 31, 31.1, 30, 0}, {V_TERMINATED, 32, 32.1, 30, 0}};
  who o;
  who_init(&o, 10, "dev-other", "10.5.0.10", NULL);
  session(&q, &o, "z", T0 + 4 * 86400000LL, 1, 600, later, 3);
  assert_null(find(&g, w.student, MG_DETECT_COURSE_BRUSHING));
  const mg_detect_finding *x = must_find(&g, f.student, MG_DETECT_COURSE_BRUSHING);
  assert_non_null(strstr(x->rules, "completion_unreached"));
  assert_int_equal(mg_detect_flush(d), MG_OK);
  assert_int_equal(g.n, 1);
  mg_detect_free(d);
  seq_free(&q);
}

/* A jiggler-driven player whose sessions are short (4 reports each, too few to judge one alone):
 * a whole day of them with input on every report is as unattended as one long session. With 7
 * instant page exits (0.5) it is a finding; the same days with input now and then are not. */
static void jiggled_days_of_short_sessions(void **state) {
  (void)state;
  got g;
  mg_detect *d = engine(&g);
  seq q = {.d = d};
  for (int who_i = 0; who_i < 2; who_i++) {
    who w;
    char dev[24];
    snprintf(dev, sizeof dev, "dev-jig%d", who_i);
    who_init(&w, 20 + who_i, dev, "10.6.0.1", NULL);
    g_style.jiggle = who_i == 0;
    for (int day = 0; day < 3; day++)
      for (int v = 0; v < 5; v++) {
        const rep r[] = {{V_PLAYED, 1, 1.1, 0, 0},      {V_HB, 31, 31.1, 60, 0},
                         {V_HB, 61, 61.1, 120, 0},      {V_HB, 91, 91.1, 180, 0},
                         {V_HB, 121, 121.1, 240, 0},    {V_COMPLETED, 121.2, 121.3, 240, 0},
                         {V_TERMINATED, 122, 122.1, 240, 0}};
        char vid[16];
        snprintf(vid, sizeof vid, "j%d-%d", day, v);
        session(&q, &w, vid, T0 + 86400000LL * day + 200000LL * v, 2, 240, r, sizeof r / sizeof r[0]);
      }
    for (int i = 0; i < 7; i++) page(&q, &w, 100 + i, T0 + 86400000LL * 3 + i * 60000LL, 1.0);
  }
  g_style.jiggle = 0;
  assert_int_equal(mg_detect_flush(d), MG_OK);
  const mg_detect_finding *f = must_find(&g, "2023000020", MG_DETECT_COURSE_BRUSHING);
  assert_non_null(strstr(f->rules, "unattended_sessions"));
  assert_null(find(&g, "2023000021", MG_DETECT_COURSE_BRUSHING));
  mg_detect_free(d);
  seq_free(&q);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(seek_and_pause_in_either_order),
      cmocka_unit_test(overcap_found_at_completion),
      cmocka_unit_test(at_cap_with_pauses_and_delays),
      cmocka_unit_test(overcap_short_video_client_clock),
      cmocka_unit_test(client_clock_steps_and_reordered_seek),
      cmocka_unit_test(takeover_popups_and_pages),
      cmocka_unit_test(instant_pages_against_platform),
      cmocka_unit_test(auto_resume_against_platform),
      cmocka_unit_test(resume_near_end_elsewhere),
      cmocka_unit_test(resume_before_first_offline_sync),
      cmocka_unit_test(jiggled_days_of_short_sessions),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
