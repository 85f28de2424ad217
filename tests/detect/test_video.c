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

typedef struct got {
  int n;
  mg_detect_finding f[64];
} got;

static int sink(void *ud, const mg_detect_finding *f) {
  got *g = ud;
  if (g->n < 64) g->f[g->n] = *f;
  g->n++;
  return MG_OK;
}

static const mg_detect_finding *find(const got *g, const char *student, mg_detect_type t) {
  for (int i = 0; i < g->n && i < 64; i++)
    if (g->f[i].type == t && !strcmp(g->f[i].student, student)) return &g->f[i];
  return NULL;
}

/* find() that fails the test when there is no such finding (and tells the compiler so). */
static const mg_detect_finding *must_find(const got *g, const char *student, mg_detect_type t) {
  const mg_detect_finding *f = find(g, student, t);
  if (!f) {
    fail_msg("no finding of type %d for %s", (int)t, student);
    abort();
  }
  return f;
}

static mg_detect *engine(got *g) {
  mg_detect *d;
  memset(g, 0, sizeof *g);
  assert_int_equal(mg_detect_new(NULL, sink, g, &d), MG_OK);
  return d;
}

/* One report of a session: verb, client time and receive time (s after the session start),
 * position (a seek: from -> to). */
typedef struct rep { const char *verb; double ts, recv, pos, to; } rep;

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
    snprintf(ext, sizeof ext, "\"" VX "session-id\":\"%s\",\"" VX "length\":%.3f,\"" VX "speed\":\"%gx\",\"" VX "volume\":0.8,\"" X "input-count\":%d,\"" X "visible\":true",
             sid, length, cap, i % 3 == 0);
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

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(seek_and_pause_in_either_order),
      cmocka_unit_test(overcap_found_at_completion),
      cmocka_unit_test(at_cap_with_pauses_and_delays),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
