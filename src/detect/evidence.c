/* A student's evidence timeline from stored statements; see evidence.h. */
#include "detect/evidence.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/err.h"
#include "core/json.h"
#include "core/time.h"
#include "detect/event.h"
#include "xapi/statement.h"

#define EXT "https://moocguard.org/xapi/ext/"
#define VEXT "https://w3id.org/xapi/video/extensions/"

enum { MAX_SESSIONS = 300, MAX_POINTS = 120, MAX_DEVICES = 64, MAX_ADDRS = 128, MAX_FACES = 200,
       MAX_ITEMS = 1000 };

typedef struct point {
  int64_t at;
  double pos, rate;
} point;

typedef struct vsession {
  char id[64], reg[40], video[256], device[80];
  int64_t first, last, last_recv;
  double last_pos, media_s, wall_s, max_rate, cap;
  int has_last, offline;
  size_t n, n_points, dropped;
  point pts[MAX_POINTS];
} vsession;

typedef struct device {
  char id[80], ua[200];
  int64_t first, last;
  size_t n;
} device;

typedef struct addr {
  char ip[48], net[48];
  int64_t first, last;
  size_t n;
} addr;

typedef struct face {
  int64_t at;
  int kind; /* MG_XAPI_KIND_FACE_* */
  int purpose, failure, has_dur;
  double duration;
  char device[80];
} face;

typedef struct item {
  int64_t at;
  char assessment[256], item[256];
  int akind, success, has_dur;
  double duration;
} item;

typedef struct timeline {
  const mg_detect_evidence_opts *o;
  size_t max;
  size_t statements;
  int truncated;
  vsession *s;
  size_t n_s, s_dropped;
  size_t last_hit;
  device d[MAX_DEVICES];
  size_t n_d;
  addr a[MAX_ADDRS];
  size_t n_a;
  face *f;
  size_t n_f;
  item *it;
  size_t n_it;
  mg_arena arena;
  mg_detect_event ev;
} timeline;

void mg_detect_mask_student(const char *s, char *out, size_t size) {
  size_t n = strlen(s), j = 0;
  for (size_t i = 0; i < n && j + 1 < size; i++)
    out[j++] = (n >= 8 ? (i < 4 || i >= n - 2) : i == 0) ? s[i] : '*';
  out[j] = 0;
}

static const mg_json *ext(const mg_json *stmt, const char *where, const char *key) {
  const mg_json *o = mg_json_object_get(stmt, where);
  return mg_json_object_get(mg_json_object_get(o, "extensions"), key);
}

static void text(const mg_json *v, char *out, size_t size) {
  const char *s = mg_json_string_value(v);
  snprintf(out, size, "%s", s ? s : "");
}

/* IPv4 /16, IPv6 /48: the prefixes the identity rules compare (docs/detection.md). */
static void net_prefix(const char *ip, char *out, size_t size) {
  unsigned char b[16];
  char t[INET6_ADDRSTRLEN];
  if (inet_pton(AF_INET, ip, b) == 1) {
    snprintf(out, size, "%u.%u.0.0/16", b[0], b[1]);
  } else if (inet_pton(AF_INET6, ip, b) == 1) {
    memset(b + 6, 0, 10);
    inet_ntop(AF_INET6, b, t, sizeof t);
    size_t n = strlen(t);
    if (n + 4 > size) n = size > 4 ? size - 4 : 0;
    memcpy(out, t, n);
    memcpy(out + n, "/48", 4);
  } else {
    snprintf(out, size, "?");
  }
}

static void see_device(timeline *t, const char *id, const char *ua, int64_t at) {
  if (!id[0]) return;
  for (size_t i = 0; i < t->n_d; i++)
    if (!strcmp(t->d[i].id, id)) {
      t->d[i].last = at;
      t->d[i].n++;
      return;
    }
  if (t->n_d == MAX_DEVICES) return;
  device *d = &t->d[t->n_d++];
  snprintf(d->id, sizeof d->id, "%s", id);
  snprintf(d->ua, sizeof d->ua, "%s", ua);
  d->first = d->last = at;
  d->n = 1;
}

static void see_addr(timeline *t, const char *ip, int64_t at) {
  if (!ip[0]) return;
  for (size_t i = 0; i < t->n_a; i++)
    if (!strcmp(t->a[i].ip, ip)) {
      t->a[i].last = at;
      t->a[i].n++;
      return;
    }
  if (t->n_a == MAX_ADDRS) return;
  addr *a = &t->a[t->n_a++];
  snprintf(a->ip, sizeof a->ip, "%s", ip);
  net_prefix(ip, a->net, sizeof a->net);
  a->first = a->last = at;
  a->n = 1;
}

static vsession *session_of(timeline *t, const char *sid) {
  if (!sid[0]) return NULL;
  if (t->last_hit < t->n_s && !strcmp(t->s[t->last_hit].id, sid)) return &t->s[t->last_hit];
  for (size_t i = t->n_s; i-- > 0;)
    if (!strcmp(t->s[i].id, sid)) {
      t->last_hit = i;
      return &t->s[i];
    }
  if (t->n_s == MAX_SESSIONS) {
    t->s_dropped++;
    return NULL;
  }
  vsession *s = &t->s[t->n_s];
  memset(s, 0, sizeof *s);
  snprintf(s->id, sizeof s->id, "%s", sid);
  t->last_hit = t->n_s++;
  return s;
}

/* Speed as the speed rule sees it: position advanced over server receive time; a seek is a jump. */
static void see_video(timeline *t, const mg_json *stmt, const mg_detect_event *e, const char *dev) {
  char sid[64];
  text(ext(stmt, "context", VEXT "session-id"), sid, sizeof sid);
  vsession *s = session_of(t, sid);
  if (!s) return;
  if (!s->n) {
    snprintf(s->reg, sizeof s->reg, "%.*s", (int)e->s_reg.n, e->s_reg.p ? e->s_reg.p : "");
    snprintf(s->video, sizeof s->video, "%.*s", (int)e->s_object.n, e->s_object.p ? e->s_object.p : "");
    snprintf(s->device, sizeof s->device, "%s", dev);
    s->first = e->recv_us;
  }
  s->n++;
  s->last = e->recv_us;
  if (e->offline == 1) s->offline = 1;
  if (e->has & MG_DEV_HAS_MAX_SPEED) s->cap = e->max_speed;
  int seek = e->kind == MG_XAPI_KIND_VIDEO_SEEKED;
  double pos = seek && (e->has & MG_DEV_HAS_TIME_TO) ? e->time_to : e->time;
  if (!(e->has & (MG_DEV_HAS_TIME | MG_DEV_HAS_TIME_TO))) return;
  double rate = -1;
  if (s->has_last && !seek) {
    double dt = (double)(e->recv_us - s->last_recv) / 1e6, dp = pos - s->last_pos;
    if (dt >= 0.5) {
      rate = dp / dt;
      if (rate > s->max_rate) s->max_rate = rate;
      s->wall_s += dt;
      if (dp > 0) s->media_s += dp;
    }
  }
  s->has_last = 1;
  s->last_pos = pos;
  s->last_recv = e->recv_us;
  if (rate < 0 && !seek) return;
  if (s->n_points == MAX_POINTS) {
    s->dropped++;
    return;
  }
  s->pts[s->n_points++] = (point){e->recv_us, pos, seek ? -1 : rate};
}

static int on_stmt(void *ud, int64_t seq, const char *json, size_t len) {
  (void)seq;
  timeline *t = ud;
  if (t->statements == t->max) {
    t->truncated = 1;
    return 1; /* stop: enough for one screen of review */
  }
  t->statements++;
  mg_arena_reset(&t->arena);
  mg_json *stmt = mg_json_parse(&t->arena, json, len, MG_JSON_DECODE_ANY, NULL);
  if (!stmt || mg_detect_event_from_json(stmt, &t->ev) != MG_OK) return MG_OK;
  const mg_detect_event *e = &t->ev;
  char dev[80], ua[200], ip[48];
  text(ext(stmt, "context", EXT "device-id"), dev, sizeof dev);
  text(ext(stmt, "context", EXT "user-agent"), ua, sizeof ua);
  text(ext(stmt, "context", EXT "client-ip"), ip, sizeof ip);
  see_device(t, dev, ua, e->recv_us);
  see_addr(t, ip, e->recv_us);
  switch (e->kind) {
  case MG_XAPI_KIND_VIDEO_INITIALIZED: case MG_XAPI_KIND_VIDEO_PLAYED:
  case MG_XAPI_KIND_VIDEO_PAUSED: case MG_XAPI_KIND_VIDEO_SEEKED:
  case MG_XAPI_KIND_VIDEO_HEARTBEAT: case MG_XAPI_KIND_VIDEO_COMPLETED:
  case MG_XAPI_KIND_VIDEO_TERMINATED:
    see_video(t, stmt, e, dev);
    break;
  case MG_XAPI_KIND_FACE_PROMPTED: case MG_XAPI_KIND_FACE_PASSED: case MG_XAPI_KIND_FACE_FAILED:
    if (t->n_f < MAX_FACES) {
      face *f = &t->f[t->n_f++];
      f->at = e->recv_us;
      f->kind = (int)e->kind;
      f->purpose = e->face_purpose;
      f->failure = e->face_failure;
      f->has_dur = (e->has & MG_DEV_HAS_DURATION) != 0;
      f->duration = e->duration;
      snprintf(f->device, sizeof f->device, "%s", dev);
    }
    break;
  case MG_XAPI_KIND_ITEM_ANSWERED: case MG_XAPI_KIND_ITEM_ANSWERED_OPEN:
    if (t->n_it < MAX_ITEMS) {
      item *i = &t->it[t->n_it++];
      const mg_json *parent = mg_json_array_get(
          mg_json_object_get(mg_json_object_get(mg_json_object_get(stmt, "context"),
                                                "contextActivities"), "parent"), 0);
      text(mg_json_object_get(parent, "id"), i->assessment, sizeof i->assessment);
      snprintf(i->item, sizeof i->item, "%.*s", (int)e->s_object.n, e->s_object.p ? e->s_object.p : "");
      i->at = e->recv_us;
      i->akind = e->akind;
      i->success = e->success;
      i->has_dur = (e->has & MG_DEV_HAS_DURATION) != 0;
      i->duration = e->duration;
    }
    break;
  default:
    break;
  }
  return MG_OK;
}

/* ---- output ---------------------------------------------------------------------------------- */

static int kstr(mg_buf *b, const char *k, const char *v) {
  int rc = mg_buf_addf(b, "\"%s\":\"", k);
  if (!rc) rc = mg_buf_add_json_str(b, v, strlen(v));
  if (!rc) rc = mg_buf_adds(b, "\",");
  return rc;
}

static int ktime(mg_buf *b, const char *k, int64_t us) {
  char ts[MG_TIME_ISO_LEN];
  mg_time_format_iso(us, 3, ts);
  return mg_buf_addf(b, "\"%s\":\"%s\",", k, ts);
}

/* Drops the trailing comma of an object or array before its closing bracket. */
static int end_with(mg_buf *b, char c) {
  if (b->len && b->data[b->len - 1] == ',') b->len--;
  return mg_buf_addc(b, c);
}

static void show_device(const timeline *t, const char *id, char *out, size_t size) {
  snprintf(out, size, "%.*s%s", t->o->mask_device ? 12 : 79, id,
           t->o->mask_device && strlen(id) > 12 ? "…" : "");
}

static const char *purpose_name(int p) {
  static const char *const n[] = {"", "study-start", "study-random", "exam-start", "exam-random",
                                  "exam-end"};
  return p >= 1 && p <= 5 ? n[p] : "";
}

static const char *failure_name(int f) {
  static const char *const n[] = {"", "mismatch", "no-face", "multiple-faces", "liveness",
                                  "timeout", "cancelled", "error"};
  return f >= 1 && f <= 7 ? n[f] : "";
}

static const char *akind_name(int k) {
  static const char *const n[] = {"", "popup", "quiz", "homework", "exam"};
  return k >= 1 && k <= 4 ? n[k] : "";
}

static int write_labels(mg_buf *b) {
  return mg_buf_adds(
      b, "\"labels\":{"
         "\"sessions\":{\"zh\":\"视频观看会话（播放速度随时间变化）\",\"en\":\"video sessions (speed over time)\"},"
         "\"rate\":{\"zh\":\"进度推进速率（媒体秒/服务器接收秒）\",\"en\":\"progress rate (media seconds per server-receive second)\"},"
         "\"devices\":{\"zh\":\"设备\",\"en\":\"devices\"},"
         "\"addresses\":{\"zh\":\"IP 地址\",\"en\":\"IP addresses\"},"
         "\"networks\":{\"zh\":\"网络前缀（IPv4 /16，IPv6 /48）\",\"en\":\"network prefixes (IPv4 /16, IPv6 /48)\"},"
         "\"face_checks\":{\"zh\":\"人脸核验\",\"en\":\"face checks\"},"
         "\"items\":{\"zh\":\"作答记录（用时与正误）\",\"en\":\"answered items (time and correctness)\"},"
         "\"city\":{\"zh\":\"城市/运营商未解析（无地址库）\",\"en\":\"city/ASN not resolved (no address database)\"}},");
}

static int write_json(const timeline *t, const char *home, const char *student, mg_buf *b) {
  char shown[160], dv[96];
  if (t->o->mask_student) mg_detect_mask_student(student, shown, sizeof shown);
  else snprintf(shown, sizeof shown, "%s", student);
  int rc = mg_buf_adds(b, "{\"student\":{");
  if (!rc) rc = kstr(b, "university", home);
  if (!rc) rc = kstr(b, "student_no", shown);
  if (!rc) rc = end_with(b, '}');
  if (!rc) rc = mg_buf_addc(b, ',');
  if (!rc) rc = write_labels(b);
  if (!rc) rc = mg_buf_addf(b, "\"statements\":%zu,\"truncated\":%s,\"sessions_not_shown\":%zu,",
                            t->statements, t->truncated ? "true" : "false", t->s_dropped);
  if (!rc) rc = mg_buf_adds(b, "\"sessions\":[");
  for (size_t i = 0; i < t->n_s && !rc; i++) {
    const vsession *s = &t->s[i];
    show_device(t, s->device, dv, sizeof dv);
    rc = mg_buf_addc(b, '{');
    if (!rc) rc = kstr(b, "session", s->id);
    if (!rc) rc = kstr(b, "registration", s->reg);
    if (!rc) rc = kstr(b, "video", s->video);
    if (!rc) rc = kstr(b, "device", dv);
    if (!rc) rc = ktime(b, "first", s->first);
    if (!rc) rc = ktime(b, "last", s->last);
    if (!rc) rc = mg_buf_addf(b, "\"statements\":%zu,\"media_seconds\":%.1f,\"receive_seconds\":%.1f,"
                              "\"max_rate\":%.2f,\"speed_cap\":%.2f,\"offline\":%s,\"points_not_shown\":%zu,"
                              "\"speed_over_time\":[",
                              s->n, s->media_s, s->wall_s, s->max_rate, s->cap,
                              s->offline ? "true" : "false", s->dropped);
    for (size_t k = 0; k < s->n_points && !rc; k++) {
      rc = mg_buf_addc(b, '{');
      if (!rc) rc = ktime(b, "at", s->pts[k].at);
      if (!rc && s->pts[k].rate < 0) rc = mg_buf_addf(b, "\"position\":%.1f,\"seek\":true}", s->pts[k].pos);
      else if (!rc) rc = mg_buf_addf(b, "\"position\":%.1f,\"rate\":%.2f}", s->pts[k].pos, s->pts[k].rate);
      if (!rc) rc = mg_buf_addc(b, ',');
    }
    if (!rc) rc = end_with(b, ']');
    if (!rc) rc = mg_buf_adds(b, "},");
  }
  if (!rc) rc = end_with(b, ']');
  if (!rc) rc = mg_buf_adds(b, ",\"devices\":[");
  for (size_t i = 0; i < t->n_d && !rc; i++) {
    show_device(t, t->d[i].id, dv, sizeof dv);
    rc = mg_buf_addc(b, '{');
    if (!rc) rc = kstr(b, "device", dv);
    if (!rc) rc = kstr(b, "user_agent", t->d[i].ua);
    if (!rc) rc = ktime(b, "first", t->d[i].first);
    if (!rc) rc = ktime(b, "last", t->d[i].last);
    if (!rc) rc = mg_buf_addf(b, "\"statements\":%zu},", t->d[i].n);
  }
  if (!rc) rc = end_with(b, ']');
  if (!rc) rc = mg_buf_adds(b, ",\"addresses\":[");
  for (size_t i = 0; i < t->n_a && !rc; i++) {
    rc = mg_buf_addc(b, '{');
    if (!rc) rc = kstr(b, "ip", t->o->mask_ip ? "" : t->a[i].ip);
    if (!rc) rc = kstr(b, "network", t->a[i].net);
    if (!rc) rc = mg_buf_adds(b, "\"city\":null,");
    if (!rc) rc = ktime(b, "first", t->a[i].first);
    if (!rc) rc = ktime(b, "last", t->a[i].last);
    if (!rc) rc = mg_buf_addf(b, "\"statements\":%zu},", t->a[i].n);
  }
  if (!rc) rc = end_with(b, ']');
  if (!rc) rc = mg_buf_adds(b, ",\"networks\":[");
  for (size_t i = 0; i < t->n_a && !rc; i++) {
    int seen = 0;
    for (size_t j = 0; j < i && !seen; j++) seen = !strcmp(t->a[j].net, t->a[i].net);
    if (seen) continue;
    size_t n = 0, ips = 0;
    int64_t first = t->a[i].first, last = t->a[i].last;
    for (size_t j = i; j < t->n_a; j++)
      if (!strcmp(t->a[j].net, t->a[i].net)) {
        n += t->a[j].n;
        ips++;
        if (t->a[j].first < first) first = t->a[j].first;
        if (t->a[j].last > last) last = t->a[j].last;
      }
    rc = mg_buf_addc(b, '{');
    if (!rc) rc = kstr(b, "network", t->a[i].net);
    if (!rc) rc = ktime(b, "first", first);
    if (!rc) rc = ktime(b, "last", last);
    if (!rc) rc = mg_buf_addf(b, "\"addresses\":%zu,\"statements\":%zu},", ips, n);
  }
  if (!rc) rc = end_with(b, ']');
  if (!rc) rc = mg_buf_adds(b, ",\"face_checks\":[");
  for (size_t i = 0; i < t->n_f && !rc; i++) {
    const face *f = &t->f[i];
    show_device(t, f->device, dv, sizeof dv);
    const char *what = f->kind == MG_XAPI_KIND_FACE_PROMPTED ? "prompted"
                       : f->kind == MG_XAPI_KIND_FACE_PASSED ? "passed" : "failed";
    const char *zh = f->kind == MG_XAPI_KIND_FACE_PROMPTED ? "发起核验"
                     : f->kind == MG_XAPI_KIND_FACE_PASSED ? "通过" : "未通过";
    rc = mg_buf_addc(b, '{');
    if (!rc) rc = ktime(b, "at", f->at);
    if (!rc) rc = kstr(b, "result", what);
    if (!rc) rc = kstr(b, "result_zh", zh);
    if (!rc) rc = kstr(b, "purpose", purpose_name(f->purpose));
    if (!rc) rc = kstr(b, "failure", failure_name(f->failure));
    if (!rc) rc = kstr(b, "device", dv);
    if (!rc && f->has_dur) rc = mg_buf_addf(b, "\"seconds\":%.1f,", f->duration);
    if (!rc) rc = end_with(b, '}');
    if (!rc) rc = mg_buf_addc(b, ',');
  }
  if (!rc) rc = end_with(b, ']');
  if (!rc) rc = mg_buf_adds(b, ",\"items\":[");
  for (size_t i = 0; i < t->n_it && !rc; i++) {
    const item *it = &t->it[i];
    rc = mg_buf_addc(b, '{');
    if (!rc) rc = ktime(b, "at", it->at);
    if (!rc) rc = kstr(b, "assessment", it->assessment);
    if (!rc) rc = kstr(b, "assessment_kind", akind_name(it->akind));
    if (!rc) rc = kstr(b, "item", it->item);
    if (!rc && it->has_dur) rc = mg_buf_addf(b, "\"seconds\":%.1f,", it->duration);
    if (!rc) rc = mg_buf_addf(b, "\"correct\":%s}", it->success < 0 ? "null" : it->success ? "true" : "false");
    if (!rc) rc = mg_buf_addc(b, ',');
  }
  if (!rc) rc = end_with(b, ']');
  if (!rc) rc = mg_buf_addc(b, '}');
  return rc;
}

int mg_detect_evidence_build(mg_store *s, const char *home_page, const char *student_no,
                             const mg_detect_evidence_opts *opts, mg_buf *out) {
  if (!s || !home_page || !student_no || !opts || !out) return MG_EINVAL;
  int rc = MG_ENOMEM;
  mg_buf key;
  mg_buf_init(&key, 4096);
  timeline *t = calloc(1, sizeof *t);
  mg_arena scratch;
  mg_arena_init(&scratch, 4096, 0);
  if (!t) goto out;
  mg_arena_init(&t->arena, 64 * 1024, 0);
  t->o = opts;
  t->max = opts->max_statements ? opts->max_statements : 50000;
  t->s = malloc(MAX_SESSIONS * sizeof *t->s);
  t->f = malloc(MAX_FACES * sizeof *t->f);
  t->it = malloc(MAX_ITEMS * sizeof *t->it);
  if (!t->s || !t->f || !t->it) goto out;
  /* the agent key as the store indexes it: the same function ingest used */
  mg_json *agent = mg_json_object(&scratch), *acct = mg_json_object(&scratch);
  mg_json *hp = mg_json_string(&scratch, home_page), *nm = mg_json_string(&scratch, student_no);
  if (!agent || !acct || !hp || !nm || mg_json_object_set(&scratch, acct, "homePage", hp) ||
      mg_json_object_set(&scratch, acct, "name", nm) ||
      mg_json_object_set(&scratch, agent, "account", acct))
    goto out;
  rc = mg_xapi_agent_key(agent, &key);
  if (rc) goto out;
  mg_store_query q = {.agent_key = key.data, .ascending = 1, .platform_id = opts->platform_id};
  int more = 1;
  int64_t last = 0, snap = 0;
  while (more) {
    q.after_seq = last;
    q.max_seq = snap;
    rc = mg_store_stmt_query(s, &q, on_stmt, t, &more, &last, &snap);
    if (rc == 1) { rc = MG_OK; break; } /* truncated */
    if (rc) goto out;
  }
  rc = write_json(t, home_page, student_no, out);
out:
  if (t) {
    mg_arena_free(&t->arena);
    free(t->s);
    free(t->f);
    free(t->it);
  }
  free(t);
  mg_arena_free(&scratch);
  mg_buf_free(&key);
  return rc;
}
