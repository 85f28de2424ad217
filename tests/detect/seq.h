/* Hand-made statement sequences for the detector tests: a tiny builder of profile statements as
 * JSON text (what the store holds), fed to an engine and/or kept for replay in another order. */
#ifndef MG_TEST_DETECT_SEQ_H
#define MG_TEST_DETECT_SEQ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/time.h"
#include "detect/detect.h"

#define V_INIT "http://adlnet.gov/expapi/verbs/initialized"
#define V_PLAYED "https://w3id.org/xapi/video/verbs/played"
#define V_PAUSED "https://w3id.org/xapi/video/verbs/paused"
#define V_SEEKED "https://w3id.org/xapi/video/verbs/seeked"
#define V_HB "http://adlnet.gov/expapi/verbs/progressed"
#define V_COMPLETED "http://adlnet.gov/expapi/verbs/completed"
#define V_TERMINATED "http://adlnet.gov/expapi/verbs/terminated"
#define V_ATTEMPTED "http://adlnet.gov/expapi/verbs/attempted"
#define V_ANSWERED "http://adlnet.gov/expapi/verbs/answered"
#define V_LAUNCHED "http://adlnet.gov/expapi/verbs/launched"
#define V_PASSED "http://adlnet.gov/expapi/verbs/passed"
#define V_FAILED "http://adlnet.gov/expapi/verbs/failed"
#define T_VIDEO "https://w3id.org/xapi/video/activity-type/video"
#define T_ASSESS "http://adlnet.gov/expapi/activities/assessment"
#define T_ITEM "http://adlnet.gov/expapi/activities/cmi.interaction"
#define T_FACE "https://moocguard.org/xapi/activity-type/face-verification"
#define X "https://moocguard.org/xapi/ext/"
#define VX "https://w3id.org/xapi/video/extensions/"

typedef struct who {
  char student[32], reg[40], device[40], ip[40], ua[160];
} who;

/* Statements collected for replay (each a malloc'd JSON text). */
typedef struct seq {
  char **s;
  size_t n, cap;
  mg_detect *d; /* fed at once when not NULL */
  unsigned long long next_id;
} seq;

static inline void who_init(who *w, int n, const char *device, const char *ip, const char *ua) {
  snprintf(w->student, sizeof w->student, "2023%06d", n);
  snprintf(w->reg, sizeof w->reg, "6b1f3c52-8a0e-4d2b-9f47-%012d", n);
  snprintf(w->device, sizeof w->device, "%s", device);
  snprintf(w->ip, sizeof w->ip, "%s", ip);
  snprintf(w->ua, sizeof w->ua, "%s", ua ? ua : "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/122.0.0.0 Safari/537.36");
}

#define T0 1710158400000LL /* 2024-03-11T12:00:00Z in ms */

/* One statement. result/def/ext are JSON member lists (without braces) or NULL. */
static inline void st(seq *q, const who *w, const char *verb, const char *otype, const char *oid,
                      int64_t ts_ms, int64_t recv_ms, const char *def, const char *result,
                      const char *ext) {
  mg_buf b;
  mg_buf_init(&b, 1 << 16);
  char ts[MG_TIME_ISO_LEN], rv[MG_TIME_ISO_LEN];
  mg_time_format_iso(ts_ms * 1000, 3, ts);
  mg_time_format_iso(recv_ms * 1000, 3, rv);
  unsigned long long id = ++q->next_id;
  mg_buf_addf(&b,
              "{\"id\":\"%08llx-0000-4000-8000-%012llx\",\"timestamp\":\"%s\","
              "\"actor\":{\"objectType\":\"Agent\",\"account\":{\"homePage\":\"https://ids.example.edu.cn\",\"name\":\"%s\"}},"
              "\"verb\":{\"id\":\"%s\"},\"object\":{\"objectType\":\"Activity\",\"id\":\"%s\","
              "\"definition\":{\"type\":\"%s\"%s%s}}",
              id >> 16, id, ts, w->student, verb, oid, otype, def ? "," : "", def ? def : "");
  if (result) mg_buf_addf(&b, ",\"result\":{%s}", result);
  mg_buf_addf(&b,
              ",\"context\":{\"registration\":\"%s\",\"platform\":\"Example\",\"contextActivities\":{"
              "\"category\":[{\"id\":\"https://moocguard.org/xapi/profile/1.0\",\"definition\":{\"type\":\"http://adlnet.gov/expapi/activities/profile\"}}],"
              "\"grouping\":[{\"id\":\"https://mooc.example.cn/course/DS101\",\"definition\":{\"type\":\"http://adlnet.gov/expapi/activities/course\"}},"
              "{\"id\":\"https://mooc.example.cn/course/DS101/offering/2024\",\"definition\":{\"type\":\"https://moocguard.org/xapi/activity-type/offering\"}}]},"
              "\"extensions\":{\"" X "platform-code\":\"cn-example\",\"" X "received-at\":\"%s\","
              "\"" X "client-ip\":\"%s\",\"" X "device-id\":\"%s\",\"" X "user-agent\":\"%s\","
              "\"" X "client-session-id\":\"cs-%s\",\"" X "client-seq\":%llu%s%s}}}",
              w->reg, rv, w->ip, w->device, w->ua, w->device, id, ext ? "," : "", ext ? ext : "");
  if (q->d) mg_detect_feed_json(q->d, b.data, b.len);
  if (q->n == q->cap) {
    q->cap = q->cap ? q->cap * 2 : 256;
    q->s = realloc(q->s, q->cap * sizeof *q->s);
  }
  q->s[q->n++] = mg_buf_take(&b);
}

static inline void seq_free(seq *q) {
  for (size_t i = 0; i < q->n; i++) free(q->s[i]);
  free(q->s);
  memset(q, 0, sizeof *q);
}

/* A video session: position advances `rate` media seconds per wall second, a heartbeat every
 * `every` s (plus `jitter_ms` of alternating receive delay), then completed + terminated.
 * Returns the wall time (ms) at the end. */
typedef struct vopt {
  double length, cap, rate, every, volume, start_pos;
  int jitter_ms, offline, input, complete;
  int input_all; /* input on every report (a jiggler); otherwise on one report in three, as a viewer */
  const char *speed;
} vopt;

static inline int64_t video(seq *q, const who *w, const char *vid, int64_t t, const vopt *o) {
  char sid[64], ext[512], res[512], oid[128];
  unsigned long long sess = q->next_id + 1;
  snprintf(sid, sizeof sid, "%08llx-0000-4000-8000-%012llx", sess >> 16, sess);
  snprintf(oid, sizeof oid, "https://mooc.example.cn/video/%s", vid);
  snprintf(ext, sizeof ext, "\"" VX "session-id\":\"%s\",\"" VX "length\":%.3f,\"" X "max-speed\":%g,\"" VX "completion-threshold\":0.9",
           sid, o->length, o->cap);
  st(q, w, V_INIT, T_VIDEO, oid, t, t + 100, NULL, NULL, ext);
  double pos = o->start_pos;
  const char *off = o->offline ? ",\"" X "offline\":true" : "";
  int64_t sync = t + (int64_t)(o->length / o->rate * 1000) + 5000; /* offline: all arrive at once */
  snprintf(ext, sizeof ext, "\"" VX "session-id\":\"%s\",\"" VX "length\":%.3f,\"" VX "speed\":\"%s\",\"" VX "volume\":%g%s",
           sid, o->length, o->speed ? o->speed : "1x", o->volume, off);
  snprintf(res, sizeof res, "\"extensions\":{\"" VX "time\":%.3f}", pos);
  st(q, w, V_PLAYED, T_VIDEO, oid, t + 1000, o->offline ? sync : t + 1100, NULL, res, ext);
  int64_t now = t + 1000;
  int k = 0;
  while (pos < o->length) {
    now += (int64_t)(o->every * 1000);
    pos += o->rate * o->every;
    if (pos > o->length) pos = o->length;
    char hx[700];
    snprintf(hx, sizeof hx, "%s,\"" X "input-count\":%d,\"" X "visible\":true", ext,
             (o->input_all || k % 3 == 0) ? o->input : 0);
    snprintf(res, sizeof res, "\"extensions\":{\"" VX "time\":%.3f,\"" VX "progress\":%.3f}", pos, pos / o->length);
    int64_t jit = (k++ % 2) ? o->jitter_ms : -o->jitter_ms;
    st(q, w, V_HB, T_VIDEO, oid, now, o->offline ? sync + k : now + 150 + jit, NULL, res, hx);
  }
  if (o->complete) {
    snprintf(res, sizeof res, "\"completion\":true,\"duration\":\"PT%dS\",\"extensions\":{\"" VX "time\":%.3f,\"" VX "progress\":1,\"" VX "played-segments\":\"0[.]%.3f\"}",
             (int)(o->length / o->rate), pos, pos);
    st(q, w, V_COMPLETED, T_VIDEO, oid, now + 200, o->offline ? sync + k + 1 : now + 350, NULL, res, ext);
  }
  snprintf(res, sizeof res, "\"extensions\":{\"" VX "time\":%.3f,\"" VX "progress\":1,\"" VX "played-segments\":\"0[.]%.3f\"}", pos, pos);
  st(q, w, V_TERMINATED, T_VIDEO, oid, now + 500, o->offline ? sync + k + 2 : now + 650, NULL, res, ext);
  return now + 1000;
}

static inline vopt honest_video(void) {
  vopt o = {.length = 600, .cap = 2, .rate = 1, .every = 30, .volume = 0.8, .input = 2, .complete = 1};
  return o;
}

/* One graded choice item of attempt att: a stem of stem_chars characters, dur s on it. */
static inline void answer_choice(seq *q, const who *w, const char *att, const char *kind, const char *item,
                          int64_t t, double dur, const char *resp, int ok, int stem_chars) {
  char def[1200], res[200], ext[200], oid[128];
  char stem[1100];
  size_t j = 0;
  for (int i = 0; i < stem_chars && j + 3 < sizeof stem; i++) { memcpy(stem + j, "题", 3); j += 3; }
  stem[j] = 0;
  snprintf(def, sizeof def, "\"interactionType\":\"choice\",\"description\":{\"zh-CN\":\"%s\"}", stem);
  snprintf(res, sizeof res, "\"response\":\"%s\",\"success\":%s,\"duration\":\"PT%.1fS\"", resp, ok ? "true" : "false", dur);
  snprintf(ext, sizeof ext, "\"" X "attempt-id\":\"%s\",\"" X "assessment-kind\":\"%s\"", att, kind);
  snprintf(oid, sizeof oid, "https://mooc.example.cn/item/%s", item);
  st(q, w, V_ANSWERED, T_ITEM, oid, t, t + 100, def, res, ext);
}

#endif
