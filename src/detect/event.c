/* Targeted field extraction from statement JSON; see event.h. */
#include "detect/event.h"

#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "core/err.h"
#include "core/time.h"

/* ---- hashing ---------------------------------------------------------------------------- */

static inline uint64_t mix64(uint64_t x) {
  x ^= x >> 32;
  x *= 0xd6e8feb86659fd93ull;
  x ^= x >> 32;
  x *= 0xd6e8feb86659fd93ull;
  x ^= x >> 32;
  return x;
}

uint64_t mg_detect_hash(const void *p, size_t n) {
  const unsigned char *b = p;
  uint64_t h = 0x9e3779b97f4a7c15ull ^ (n * 0xff51afd7ed558ccdull);
  while (n >= 8) {
    uint64_t k;
    memcpy(&k, b, 8);
    h = (h ^ mix64(k)) * 0x9fb21c651e98df25ull;
    b += 8;
    n -= 8;
  }
  uint64_t k = 0;
  for (size_t i = 0; i < n; i++) k |= (uint64_t)b[i] << (8 * i);
  h = mix64(h ^ mix64(k ^ 0x2545f4914f6cdd1dull));
  return h ? h : 1;
}

/* ---- field interpretation shared by both extractors -------------------------------------- */

enum { V_NONE, V_LOGIN, V_LOGOUT, V_INIT, V_PLAYED, V_PAUSED, V_SEEKED, V_PROGRESSED, V_INTERACTED,
       V_COMPLETED, V_TERMINATED, V_VIEWED, V_POSTED, V_COMMENTED, V_ATTEMPTED, V_ANSWERED,
       V_SCORED, V_LAUNCHED, V_PASSED, V_FAILED };
enum { T_OTHER, T_PLATFORM, T_VIDEO, T_ASSESSMENT, T_INTERACTION, T_FACE };

typedef struct cls {
  int verb, otype, open, claims;
} cls;

#define SEQ(s, n, lit) ((n) == sizeof(lit) - 1 && !memcmp((s), (lit), sizeof(lit) - 1))

static int verb_of(const char *s, size_t n) {
  static const struct { const char *iri; int v; } t[] = {
      {MG_XAPI_VERB_LOGGED_IN, V_LOGIN},       {MG_XAPI_VERB_LOGGED_OUT, V_LOGOUT},
      {MG_XAPI_VERB_INITIALIZED, V_INIT},      {MG_XAPI_VERB_PLAYED, V_PLAYED},
      {MG_XAPI_VERB_PAUSED, V_PAUSED},         {MG_XAPI_VERB_SEEKED, V_SEEKED},
      {MG_XAPI_VERB_PROGRESSED, V_PROGRESSED}, {MG_XAPI_VERB_INTERACTED, V_INTERACTED},
      {MG_XAPI_VERB_COMPLETED, V_COMPLETED},   {MG_XAPI_VERB_TERMINATED, V_TERMINATED},
      {MG_XAPI_VERB_VIEWED, V_VIEWED},         {MG_XAPI_VERB_POSTED, V_POSTED},
      {MG_XAPI_VERB_COMMENTED, V_COMMENTED},   {MG_XAPI_VERB_ATTEMPTED, V_ATTEMPTED},
      {MG_XAPI_VERB_ANSWERED, V_ANSWERED},     {MG_XAPI_VERB_SCORED, V_SCORED},
      {MG_XAPI_VERB_LAUNCHED, V_LAUNCHED},     {MG_XAPI_VERB_PASSED, V_PASSED},
      {MG_XAPI_VERB_FAILED, V_FAILED},
  };
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
    if (strlen(t[i].iri) == n && !memcmp(t[i].iri, s, n)) return t[i].v;
  return V_NONE;
}

static int otype_of(const char *s, size_t n) {
  if (SEQ(s, n, MG_XAPI_TYPE_VIDEO)) return T_VIDEO;
  if (SEQ(s, n, MG_XAPI_TYPE_ASSESSMENT)) return T_ASSESSMENT;
  if (SEQ(s, n, MG_XAPI_TYPE_INTERACTION)) return T_INTERACTION;
  if (SEQ(s, n, MG_XAPI_TYPE_FACE_CHECK)) return T_FACE;
  if (SEQ(s, n, MG_XAPI_TYPE_PLATFORM)) return T_PLATFORM;
  return T_OTHER;
}

static int interaction_open(const char *s, size_t n) {
  return SEQ(s, n, "long-fill-in") || SEQ(s, n, "likert") || SEQ(s, n, "other");
}

static mg_xapi_kind classify(const cls *c, int akind) {
  if (!c->claims) return MG_XAPI_KIND_NONE;
  switch (c->verb) {
    case V_LOGIN: return c->otype == T_PLATFORM ? MG_XAPI_KIND_SESSION_LOGIN : MG_XAPI_KIND_NONE;
    case V_LOGOUT: return c->otype == T_PLATFORM ? MG_XAPI_KIND_SESSION_LOGOUT : MG_XAPI_KIND_NONE;
    case V_INIT: return c->otype == T_VIDEO ? MG_XAPI_KIND_VIDEO_INITIALIZED : MG_XAPI_KIND_NONE;
    case V_PLAYED: return c->otype == T_VIDEO ? MG_XAPI_KIND_VIDEO_PLAYED : MG_XAPI_KIND_NONE;
    case V_PAUSED: return c->otype == T_VIDEO ? MG_XAPI_KIND_VIDEO_PAUSED : MG_XAPI_KIND_NONE;
    case V_SEEKED: return c->otype == T_VIDEO ? MG_XAPI_KIND_VIDEO_SEEKED : MG_XAPI_KIND_NONE;
    case V_PROGRESSED:
      return c->otype == T_VIDEO ? MG_XAPI_KIND_VIDEO_HEARTBEAT : MG_XAPI_KIND_NONE;
    case V_INTERACTED:
      return c->otype == T_VIDEO ? MG_XAPI_KIND_VIDEO_INTERACTED : MG_XAPI_KIND_NONE;
    case V_TERMINATED:
      return c->otype == T_VIDEO ? MG_XAPI_KIND_VIDEO_TERMINATED : MG_XAPI_KIND_NONE;
    case V_COMPLETED:
      if (c->otype == T_VIDEO) return MG_XAPI_KIND_VIDEO_COMPLETED;
      if (c->otype == T_ASSESSMENT) return MG_XAPI_KIND_ATTEMPT_SUBMITTED;
      return MG_XAPI_KIND_TASK_COMPLETED;
    case V_VIEWED: return MG_XAPI_KIND_PAGE_VIEWED;
    case V_POSTED: return MG_XAPI_KIND_DISCUSSION_POSTED;
    case V_COMMENTED: return MG_XAPI_KIND_DISCUSSION_COMMENTED;
    case V_ATTEMPTED:
      if (c->otype != T_ASSESSMENT) return MG_XAPI_KIND_NONE;
      return akind == MG_DEV_AK_EXAM ? MG_XAPI_KIND_EXAM_STARTED : MG_XAPI_KIND_ATTEMPT_STARTED;
    case V_ANSWERED:
      if (c->otype != T_INTERACTION) return MG_XAPI_KIND_NONE;
      return c->open ? MG_XAPI_KIND_ITEM_ANSWERED_OPEN : MG_XAPI_KIND_ITEM_ANSWERED;
    case V_SCORED: return c->otype == T_ASSESSMENT ? MG_XAPI_KIND_ATTEMPT_SCORED : MG_XAPI_KIND_NONE;
    case V_LAUNCHED: return c->otype == T_FACE ? MG_XAPI_KIND_FACE_PROMPTED : MG_XAPI_KIND_NONE;
    case V_PASSED: return c->otype == T_FACE ? MG_XAPI_KIND_FACE_PASSED : MG_XAPI_KIND_NONE;
    case V_FAILED: return c->otype == T_FACE ? MG_XAPI_KIND_FACE_FAILED : MG_XAPI_KIND_NONE;
    default: return MG_XAPI_KIND_NONE;
  }
}

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static int parse_uuid(const char *s, size_t n, uint8_t out[16]) {
  if (n != 36) return MG_EINVAL;
  int j = 0;
  for (size_t i = 0; i < 36; i++) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-') return MG_EINVAL;
      continue;
    }
    int hi = hexval(s[i]), lo = i + 1 < 36 ? hexval(s[i + 1]) : -1;
    if (hi < 0 || lo < 0) return MG_EINVAL;
    out[j++] = (uint8_t)(hi << 4 | lo);
    i++;
  }
  return MG_OK;
}

static int parse_time(const char *s, size_t n, int64_t *us) {
  char buf[64];
  if (n >= sizeof buf) return MG_EINVAL;
  memcpy(buf, s, n);
  buf[n] = 0;
  mg_timestamp t;
  if (mg_time_parse_iso(buf, 1, &t) != MG_OK) return MG_EINVAL;
  *us = t.us;
  return MG_OK;
}

static int parse_dur(const char *s, size_t n, double *sec) {
  char buf[64];
  if (n >= sizeof buf) return MG_EINVAL;
  memcpy(buf, s, n);
  buf[n] = 0;
  return mg_time_parse_duration(buf, sec);
}

static int parse_speed(const char *s, size_t n, double *out) {
  char buf[32];
  if (n >= sizeof buf) return MG_EINVAL;
  memcpy(buf, s, n);
  buf[n] = 0;
  return mg_xapi_profile_parse_speed(buf, out);
}

/* A network prefix stands in for "place": /16 for IPv4 (a city-sized block in Chinese address
 * plans), /48 for IPv6 (one site). */
static uint64_t ip_net_of(const char *s, size_t n) {
  size_t cut = n, dots = 0, colons = 0;
  int v6 = memchr(s, ':', n) != NULL;
  for (size_t i = 0; i < n; i++) {
    if (!v6 && s[i] == '.' && ++dots == 2) { cut = i; break; }
    if (v6 && s[i] == ':' && ++colons == 3) { cut = i; break; }
  }
  return mg_detect_hash(s, cut);
}

static int contains(const char *s, size_t n, const char *lit) {
  size_t m = strlen(lit);
  if (m > n) return 0;
  for (size_t i = 0; i + m <= n; i++)
    if (s[i] == lit[0] && !memcmp(s + i, lit, m)) return 1;
  return 0;
}

/* OS family and client family: what stays the same when a browser updates. */
static uint64_t ua_family_scan(const char *s, size_t n) {
  int os = contains(s, n, "Android")    ? 1
           : contains(s, n, "iPhone")   ? 2
           : contains(s, n, "iPad")     ? 3
           : contains(s, n, "Windows")  ? 4
           : contains(s, n, "Mac OS")   ? 5
           : contains(s, n, "Linux")    ? 6
                                        : 7;
  int cl = contains(s, n, "MicroMessenger") ? 1
           : contains(s, n, "Edg/")         ? 2
           : contains(s, n, "Firefox")      ? 3
           : contains(s, n, "Chrome")       ? 4
           : contains(s, n, "Safari")       ? 5
           : contains(s, n, "okhttp")       ? 6
           : contains(s, n, "Mozilla")      ? 7
                                            : 8;
  size_t app = 0; /* an app's own name before its first '/' */
  if (cl >= 6) {
    while (app < n && app < 32 && s[app] != '/' && s[app] != ' ') app++;
  }
  uint64_t h = mg_detect_hash(s, app);
  return mix64(h ^ (uint64_t)(os * 16 + cl)) | 1;
}

/* A device sends the same user agent with every statement: the family of the last few full
 * user-agent hashes is remembered per thread (a 64-bit hash standing for the string), which
 * spares fourteen substring scans of ~100 bytes per statement. */
#define UA_CACHE 16
static _Thread_local struct { uint64_t ua, fam; } t_ua[UA_CACHE];

static uint64_t ua_family_of(const char *s, size_t n, uint64_t ua_hash) {
  unsigned slot = (unsigned)(ua_hash >> 59) & (UA_CACHE - 1);
  if (t_ua[slot].ua == ua_hash && t_ua[slot].fam) return t_ua[slot].fam;
  uint64_t fam = ua_family_scan(s, n);
  t_ua[slot].ua = ua_hash;
  t_ua[slot].fam = fam;
  return fam;
}

static int count_chars(const char *s, size_t n) {
  int c = 0;
  for (size_t i = 0; i < n; i++) c += ((unsigned char)s[i] & 0xC0) != 0x80;
  return c;
}

/* Everything a string value sets, keyed by where it was found. */
typedef enum fld {
  F_NONE, F_ID, F_TIMESTAMP, F_VERB, F_OBJECT_ID, F_OBJECT_TYPE, F_INTERACTION, F_DESC, F_HOME,
  F_NAME, F_REG, F_RESPONSE, F_DURATION,
  /* context.extensions / result.extensions */
  F_PLATFORM_CODE, F_RECEIVED_AT, F_CLIENT_IP, F_DEVICE, F_UA, F_CSESS, F_SEQ, F_OFFLINE, F_LOGIN,
  F_MAX_SPEED, F_VISIBLE, F_INPUT, F_POST_ID, F_AKIND, F_ATTEMPT, F_ATTEMPT_NO, F_CAM_COUNT,
  F_CAM_REQ, F_CAMERAS, F_FACE_PURPOSE, F_FACE_FAILURE, F_FACE_THRESHOLD, F_CAPTURE, F_VSESS, F_LENGTH, F_SPEED,
  F_VOLUME, F_THRESHOLD, F_TIME, F_TIME_FROM, F_TIME_TO, F_PROGRESS,
  /* result */
  F_SUCCESS, F_COMPLETION, F_SCORE,
} fld;

static fld ext_field(const char *k, size_t n) {
  static const char mg[] = "https://moocguard.org/xapi/ext/";
  static const char vid[] = "https://w3id.org/xapi/video/extensions/";
  if (n > sizeof mg - 1 && !memcmp(k, mg, sizeof mg - 1)) {
    const char *s = k + sizeof mg - 1;
    size_t m = n - (sizeof mg - 1);
    if (SEQ(s, m, "platform-code")) return F_PLATFORM_CODE;
    if (SEQ(s, m, "received-at")) return F_RECEIVED_AT;
    if (SEQ(s, m, "client-ip")) return F_CLIENT_IP;
    if (SEQ(s, m, "device-id")) return F_DEVICE;
    if (SEQ(s, m, "user-agent")) return F_UA;
    if (SEQ(s, m, "client-session-id")) return F_CSESS;
    if (SEQ(s, m, "client-seq")) return F_SEQ;
    if (SEQ(s, m, "offline")) return F_OFFLINE;
    if (SEQ(s, m, "login-method")) return F_LOGIN;
    if (SEQ(s, m, "max-speed")) return F_MAX_SPEED;
    if (SEQ(s, m, "visible")) return F_VISIBLE;
    if (SEQ(s, m, "input-count")) return F_INPUT;
    if (SEQ(s, m, "post-id")) return F_POST_ID;
    if (SEQ(s, m, "assessment-kind")) return F_AKIND;
    if (SEQ(s, m, "attempt-id")) return F_ATTEMPT;
    if (SEQ(s, m, "attempt-number")) return F_ATTEMPT_NO;
    if (SEQ(s, m, "camera-count")) return F_CAM_COUNT;
    if (SEQ(s, m, "cameras-required")) return F_CAM_REQ;
    if (SEQ(s, m, "cameras")) return F_CAMERAS;
    if (SEQ(s, m, "face-purpose")) return F_FACE_PURPOSE;
    if (SEQ(s, m, "face-failure")) return F_FACE_FAILURE;
    if (SEQ(s, m, "face-threshold")) return F_FACE_THRESHOLD;
    if (SEQ(s, m, "capture-id")) return F_CAPTURE;
    return F_NONE;
  }
  if (n > sizeof vid - 1 && !memcmp(k, vid, sizeof vid - 1)) {
    const char *s = k + sizeof vid - 1;
    size_t m = n - (sizeof vid - 1);
    if (SEQ(s, m, "session-id")) return F_VSESS;
    if (SEQ(s, m, "length")) return F_LENGTH;
    if (SEQ(s, m, "speed")) return F_SPEED;
    if (SEQ(s, m, "volume")) return F_VOLUME;
    if (SEQ(s, m, "completion-threshold")) return F_THRESHOLD;
    if (SEQ(s, m, "time")) return F_TIME;
    if (SEQ(s, m, "time-from")) return F_TIME_FROM;
    if (SEQ(s, m, "time-to")) return F_TIME_TO;
    if (SEQ(s, m, "progress")) return F_PROGRESS;
    return F_NONE;
  }
  return F_NONE;
}

/* An extension where the profile puts it: the media position fields (time, time-from, time-to,
 * progress) in result.extensions, everything else in context.extensions. One misplaced is
 * ignored, so that a statement carrying a key in both places reads the same whichever comes
 * first in its text (the DOM reader and the text scanner see them in different orders). */
static fld ext_at(const char *k, size_t n, int in_result) {
  fld f = ext_field(k, n);
  int res = f == F_TIME || f == F_TIME_FROM || f == F_TIME_TO || f == F_PROGRESS;
  return res == in_result ? f : F_NONE;
}

/* Value handed to set_field: a string (s,n), a number (num, is_int), or a boolean. */
typedef struct val {
  int type; /* 0 string, 1 number, 2 bool */
  const char *s;
  size_t n;
  double num;
  int is_int;
  int b;
} val;

typedef struct acc { /* extraction state shared by both extractors */
  mg_detect_event *ev;
  cls c;
  int got_id, got_ts, got_parent;
} acc;

static int enum_index(const char *s, size_t n, const char *const *names) {
  for (int i = 0; names[i]; i++)
    if (strlen(names[i]) == n && !memcmp(names[i], s, n)) return i + 1;
  return 0;
}

static void set_field(acc *a, fld f, const val *v) {
  mg_detect_event *ev = a->ev;
  static const char *const aks[] = {"popup", "quiz", "homework", "exam", NULL};
  static const char *const logins[] = {"password", "sms", "qr", "sso", "token", "face", "other", NULL};
  static const char *const fps[] = {"study-start", "study-random", "exam-start", "exam-random",
                                    "exam-end", NULL};
  static const char *const ffs[] = {"mismatch", "no-face", "multiple-faces", "liveness", "timeout",
                                    "cancelled", "error", NULL};
  if (v->type == 0) {
    const char *s = v->s;
    size_t n = v->n;
    switch (f) {
      case F_ID: if (parse_uuid(s, n, ev->id) == MG_OK) { a->got_id = 1; ev->id_h = mg_detect_hash(ev->id, 16); } break;
      case F_TIMESTAMP: if (parse_time(s, n, &ev->ts_us) == MG_OK) a->got_ts = 1; break;
      case F_VERB: a->c.verb = verb_of(s, n); break;
      case F_OBJECT_ID: ev->object = mg_detect_hash(s, n); ev->s_object = (mg_detect_str){s, n}; break;
      case F_OBJECT_TYPE: a->c.otype = otype_of(s, n); break;
      case F_INTERACTION: a->c.open = interaction_open(s, n); break;
      case F_DESC: if (!ev->desc_chars) ev->desc_chars = count_chars(s, n); break;
      case F_HOME: ev->s_home = (mg_detect_str){s, n}; break;
      case F_NAME: ev->s_name = (mg_detect_str){s, n}; break;
      case F_REG: ev->reg = mg_detect_hash(s, n); ev->s_reg = (mg_detect_str){s, n}; break;
      case F_RESPONSE: ev->response = mg_detect_hash(s, n); ev->s_response = (mg_detect_str){s, n}; break;
      case F_DURATION: if (parse_dur(s, n, &ev->duration) == MG_OK) ev->has |= MG_DEV_HAS_DURATION; break;
      case F_PLATFORM_CODE: ev->platform = mg_detect_hash(s, n); ev->s_platform = (mg_detect_str){s, n}; break;
      case F_RECEIVED_AT: if (parse_time(s, n, &ev->recv_us) == MG_OK) ev->has |= MG_DEV_HAS_RECV; break;
      case F_CLIENT_IP: ev->ip = mg_detect_hash(s, n); ev->ip_net = ip_net_of(s, n); break;
      case F_DEVICE: ev->device = mg_detect_hash(s, n); break;
      case F_UA: ev->ua = mg_detect_hash(s, n); ev->ua_family = ua_family_of(s, n, ev->ua); break;
      case F_CSESS: ev->csess = mg_detect_hash(s, n); break;
      case F_LOGIN: ev->login = (unsigned char)enum_index(s, n, logins); break;
      case F_POST_ID: ev->post = mg_detect_hash(s, n); break;
      case F_AKIND: ev->akind = (unsigned char)enum_index(s, n, aks); break;
      case F_ATTEMPT: ev->attempt = mg_detect_hash(s, n); break;
      case F_FACE_PURPOSE: ev->face_purpose = (unsigned char)enum_index(s, n, fps); break;
      case F_FACE_FAILURE: ev->face_failure = (unsigned char)enum_index(s, n, ffs); break;
      case F_CAPTURE: ev->capture = mg_detect_hash(s, n); break;
      case F_VSESS: ev->vsess = mg_detect_hash(s, n); break;
      case F_SPEED: if (parse_speed(s, n, &ev->speed) == MG_OK) ev->has |= MG_DEV_HAS_SPEED; break;
      default: break;
    }
    return;
  }
  if (v->type == 2) {
    signed char b = (signed char)(v->b != 0);
    switch (f) {
      case F_OFFLINE: ev->offline = b; break;
      case F_VISIBLE: ev->visible = b; break;
      case F_SUCCESS: ev->success = b; break;
      case F_COMPLETION: ev->completion = b; break;
      default: break;
    }
    return;
  }
  double d = v->num;
  switch (f) {
    case F_SEQ: ev->client_seq = (int64_t)d; ev->has |= MG_DEV_HAS_SEQ; break;
    case F_MAX_SPEED: ev->max_speed = d; ev->has |= MG_DEV_HAS_MAX_SPEED; break;
    case F_INPUT: ev->input_count = d > 1e9 ? 1000000000 : (int)d; break;
    case F_ATTEMPT_NO: ev->attempt_number = d > 1e9 ? 1000000000 : (int)d; break;
    case F_CAM_COUNT: ev->camera_count = d > 1e9 ? 1000000000 : (int)d; break;
    case F_CAM_REQ: ev->cameras_required = d > 1e9 ? 1000000000 : (int)d; break;
    case F_FACE_THRESHOLD: ev->face_threshold = d; ev->has |= MG_DEV_HAS_FACE_THRESHOLD; break;
    case F_LENGTH: ev->length = d; ev->has |= MG_DEV_HAS_LENGTH; break;
    case F_VOLUME: ev->volume = d; ev->has |= MG_DEV_HAS_VOLUME; break;
    case F_THRESHOLD: ev->threshold = d; ev->has |= MG_DEV_HAS_THRESHOLD; break;
    case F_TIME: ev->time = d; ev->has |= MG_DEV_HAS_TIME; break;
    case F_TIME_FROM: ev->time_from = d; ev->has |= MG_DEV_HAS_TIME_FROM; break;
    case F_TIME_TO: ev->time_to = d; ev->has |= MG_DEV_HAS_TIME_TO; break;
    case F_PROGRESS: ev->progress = d; ev->has |= MG_DEV_HAS_PROGRESS; break;
    case F_SCORE: ev->score = d; ev->has |= MG_DEV_HAS_SCORE; break;
    default: break;
  }
}

/* An activity in contextActivities: kind of list (0 grouping, 1 category, 2 parent). */
static void activity_seen(acc *a, int list, const char *id, size_t idn, const char *type,
                          size_t tn) {
  mg_detect_event *ev = a->ev;
  if (list == 1) {
    if (SEQ(id, idn, MG_XAPI_PROFILE_IRI)) a->c.claims = 1;
  } else if (list == 0) {
    if (type && SEQ(type, tn, MG_XAPI_TYPE_COURSE)) {
      ev->course = mg_detect_hash(id, idn);
      ev->s_course = (mg_detect_str){id, idn};
    } else if (type && SEQ(type, tn, MG_XAPI_TYPE_OFFERING)) {
      ev->offering = mg_detect_hash(id, idn);
    }
  } else if (!a->got_parent) {
    ev->parent = mg_detect_hash(id, idn);
    a->got_parent = 1;
  }
}

static void camera_seen(acc *a, const char *role, size_t rn, const char *dev, size_t dn) {
  mg_detect_event *ev = a->ev;
  if (!dev) return;
  int slot = (role && SEQ(role, rn, "secondary")) ? 1 : 0;
  if (!ev->cam_dev[slot]) ev->cam_dev[slot] = mg_detect_hash(dev, dn);
  if (ev->n_cams < 255) ev->n_cams++;
}

static void event_reset(mg_detect_event *ev) {
  memset(ev, 0, offsetof(mg_detect_event, scratch));
  ev->scratch_used = 0;
  ev->input_count = -1;
  ev->camera_count = -1;
  ev->cameras_required = -1;
  ev->success = ev->completion = ev->offline = ev->visible = -1;
}

static int finish(acc *a) {
  mg_detect_event *ev = a->ev;
  if (ev->s_home.p && ev->s_name.p) {
    /* the account key: homePage, a unit separator, name (as xapi/statement.c builds it) */
    uint64_t h1 = mg_detect_hash(ev->s_home.p, ev->s_home.n);
    ev->actor = mix64(h1 ^ mg_detect_hash(ev->s_name.p, ev->s_name.n)) | 1;
  }
  if (!(ev->has & MG_DEV_HAS_RECV)) ev->recv_us = ev->ts_us;
  if (!a->got_id || !a->got_ts) {
    ev->kind = MG_XAPI_KIND_NONE;
    return MG_EINVAL;
  }
  ev->kind = classify(&a->c, ev->akind);
  return MG_OK;
}

/* ---- the text scanner ------------------------------------------------------------------- */

#define MAXD 8

typedef struct sc {
  const char *p, *e;
  int depth; /* keys on the path */
  mg_detect_str key[MAXD];
  acc a;
  /* the activity or camera object being read */
  int act_list; /* -1 none */
  const char *act_id, *act_type;
  size_t act_idn, act_tn;
  const char *cam_role, *cam_dev;
  size_t cam_rn, cam_dn;
  int in_cam;
  /* Arrays open on the path (count, and a bit per depth): no field of the profile lies inside
   * one; the activity lists and cameras are one array at depth 3 and are read apart. */
  int arrays;
  uint64_t arr;
  int desc_n; /* members read so far of object.definition.description */
} sc;

#define KEQ(s, i, lit) ((s)->key[i].n == sizeof(lit) - 1 && !memcmp((s)->key[i].p, lit, sizeof(lit) - 1))

static inline void ws(sc *s) {
  while (s->p < s->e && (*s->p == ' ' || *s->p == '\n' || *s->p == '\r' || *s->p == '\t')) s->p++;
}

static void put_utf8(char *out, size_t *j, uint32_t cp) {
  if (cp < 0x80) out[(*j)++] = (char)cp;
  else if (cp < 0x800) { out[(*j)++] = (char)(0xC0 | cp >> 6); out[(*j)++] = (char)(0x80 | (cp & 0x3F)); }
  else if (cp < 0x10000) { out[(*j)++] = (char)(0xE0 | cp >> 12); out[(*j)++] = (char)(0x80 | ((cp >> 6) & 0x3F)); out[(*j)++] = (char)(0x80 | (cp & 0x3F)); }
  else { out[(*j)++] = (char)(0xF0 | cp >> 18); out[(*j)++] = (char)(0x80 | ((cp >> 12) & 0x3F)); out[(*j)++] = (char)(0x80 | ((cp >> 6) & 0x3F)); out[(*j)++] = (char)(0x80 | (cp & 0x3F)); }
}

static int hex4(const char *p, uint32_t *out) {
  uint32_t v = 0;
  for (int i = 0; i < 4; i++) {
    int h = hexval(p[i]);
    if (h < 0) return -1;
    v = v << 4 | (uint32_t)h;
  }
  *out = v;
  return 0;
}

/* Reads a string at s->p (after the quote). Returns its text, unescaped into the event's scratch
 * if it has escapes (or, if scratch is full, the raw text: only hashing equality is lost). */
static int str(sc *s, const char **out, size_t *n) {
  const char *start = s->p;
  int esc = 0;
  /* Up to the first quote or backslash in blocks (most strings are short keys, for which two
   * memchr calls cost more than the scan): sixteen bytes with SSE2 (every x86-64), straight to
   * the byte; eight with SWAR elsewhere and for the last few; then byte by byte. */
#if defined(__SSE2__)
  const __m128i vq = _mm_set1_epi8('"'), vb = _mm_set1_epi8('\\');
  while (s->e - s->p >= 16) {
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)s->p);
    unsigned m = (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, vq), _mm_cmpeq_epi8(v, vb)));
    if (m) { s->p += __builtin_ctz(m); goto tail; }
    s->p += 16;
  }
#endif
  const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
  while (s->e - s->p >= 8) {
    uint64_t v;
    memcpy(&v, s->p, 8);
    uint64_t q = v ^ (ones * '"'), b = v ^ (ones * '\\');
    if ((((q - ones) & ~q) | ((b - ones) & ~b)) & highs) break;
    s->p += 8;
  }
#if defined(__SSE2__)
tail:
#endif
  while (s->p < s->e && *s->p != '"') {
    if (*s->p == '\\') { esc = 1; s->p++; }
    s->p++;
  }
  if (s->p >= s->e) return -1;
  const char *end = s->p++;
  *out = start;
  *n = (size_t)(end - start);
  if (!esc) return 0;
  mg_detect_event *ev = s->a.ev;
  size_t room = sizeof ev->scratch - ev->scratch_used;
  if (*n + 1 > room) return 0;
  char *o = ev->scratch + ev->scratch_used;
  size_t j = 0;
  for (const char *q = start; q < end; q++) {
    if (*q != '\\') { o[j++] = *q; continue; }
    q++;
    switch (*q) {
      case 'n': o[j++] = '\n'; break;
      case 't': o[j++] = '\t'; break;
      case 'r': o[j++] = '\r'; break;
      case 'b': o[j++] = '\b'; break;
      case 'f': o[j++] = '\f'; break;
      case 'u': {
        uint32_t cp, lo;
        if (end - q < 5 || hex4(q + 1, &cp)) return -1;
        q += 4;
        if (cp >= 0xD800 && cp < 0xDC00 && end - q >= 7 && q[1] == '\\' && q[2] == 'u' &&
            !hex4(q + 3, &lo) && lo >= 0xDC00 && lo < 0xE000) {
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          q += 6;
        }
        put_utf8(o, &j, cp); /* \uXXXX is at most 6 bytes of text for at most 4 of UTF-8 */
        break;
      }
      default: o[j++] = *q; break;
    }
  }
  ev->scratch_used += j;
  *out = o;
  *n = j;
  return 0;
}

/* Which field a scalar at the current path is. */
static fld where(const sc *s) {
  int d = s->depth;
  if (d < 1 || d > MAXD) return F_NONE;
  /* the DOM reader looks fields up by name through objects only; a value inside an array is
   * none of them (activity lists and cameras are read apart, before this) */
  if (s->arrays) return F_NONE;
  if (d == 1) {
    if (KEQ(s, 0, "id")) return F_ID;
    if (KEQ(s, 0, "timestamp")) return F_TIMESTAMP;
    return F_NONE;
  }
  if (KEQ(s, 0, "context")) {
    if (d == 2 && KEQ(s, 1, "registration")) return F_REG;
    if (d == 3 && KEQ(s, 1, "extensions")) return ext_at(s->key[2].p, s->key[2].n, 0);
    return F_NONE;
  }
  if (KEQ(s, 0, "result")) {
    if (d == 2) {
      if (KEQ(s, 1, "response")) return F_RESPONSE;
      if (KEQ(s, 1, "duration")) return F_DURATION;
      if (KEQ(s, 1, "success")) return F_SUCCESS;
      if (KEQ(s, 1, "completion")) return F_COMPLETION;
      return F_NONE;
    }
    if (d == 3 && KEQ(s, 1, "extensions")) return ext_at(s->key[2].p, s->key[2].n, 1);
    if (d == 3 && KEQ(s, 1, "score") && KEQ(s, 2, "scaled")) return F_SCORE;
    return F_NONE;
  }
  if (KEQ(s, 0, "object")) {
    if (d == 2 && KEQ(s, 1, "id")) return F_OBJECT_ID;
    if (d >= 3 && KEQ(s, 1, "definition")) {
      if (d == 3 && KEQ(s, 2, "type")) return F_OBJECT_TYPE;
      if (d == 3 && KEQ(s, 2, "interactionType")) return F_INTERACTION;
      /* the first member's text (the first language map entry), as the DOM reader takes it */
      if (d == 4 && KEQ(s, 2, "description") && s->desc_n == 1) return F_DESC;
    }
    return F_NONE;
  }
  if (d == 2 && KEQ(s, 0, "verb") && KEQ(s, 1, "id")) return F_VERB;
  if (d == 3 && KEQ(s, 0, "actor") && KEQ(s, 1, "account")) {
    if (KEQ(s, 2, "homePage")) return F_HOME;
    if (KEQ(s, 2, "name")) return F_NAME;
  }
  return F_NONE;
}

/* Is the object about to open at the current path an activity of contextActivities (which
 * list), or a camera? */
/* Inside nothing but (at most) the list's own array at depth 3. */
static int list_path(const sc *s) {
  return s->arrays == 0 || (s->arrays == 1 && s->arr == 1ULL << 3);
}

static int activity_list_here(const sc *s) {
  if (s->depth != 3 || !list_path(s) || !KEQ(s, 0, "context") || !KEQ(s, 1, "contextActivities"))
    return -1;
  if (KEQ(s, 2, "grouping")) return 0;
  if (KEQ(s, 2, "category")) return 1;
  if (KEQ(s, 2, "parent")) return 2;
  return -1;
}

static int camera_here(const sc *s) {
  return s->depth == 3 && list_path(s) && KEQ(s, 0, "context") && KEQ(s, 1, "extensions") &&
         ext_field(s->key[2].p, s->key[2].n) == F_CAMERAS;
}

static int value(sc *s, int nest);

static inline int num_char(char c) {
  return (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E';
}

/* The common number of a statement (-?digits[.digits], at most 15 significant digits) without
 * strtod: the digits form an integer below 2^53 and a power of ten up to 1e15 is exact, so one
 * division gives the correctly rounded double, the same as strtod (Clinger's fast path).
 * Returns 0 for anything else (exponents, long mantissas), which strtod then reads. */
static int fast_decimal(const char *p, size_t n, double *out) {
  static const double k_pow10[] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                   1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
  size_t i = 0;
  int neg = 0, digits = 0, frac = -1;
  uint64_t m = 0;
  if (i < n && p[i] == '-') { neg = 1; i++; }
  for (; i < n; i++) {
    char c = p[i];
    if (c >= '0' && c <= '9') {
      if (++digits > 15) return 0;
      m = m * 10 + (uint64_t)(c - '0');
      if (frac >= 0) frac++;
    } else if (c == '.' && frac < 0 && digits > 0) {
      frac = 0;
    } else {
      return 0;
    }
  }
  if (digits == 0 || frac == 0) return 0;
  double d = (double)m;
  if (frac > 0) d /= k_pow10[frac];
  *out = neg ? -d : d;
  return 1;
}

static void scalar_str(sc *s, const char *v, size_t n) {
  int direct = list_path(s); /* not inside an array within the activity or camera object */
  if (s->act_list >= 0 && direct && s->depth == 4 && KEQ(s, 3, "id")) { s->act_id = v; s->act_idn = n; return; }
  if (s->act_list >= 0 && direct && s->depth == 5 && KEQ(s, 3, "definition") && KEQ(s, 4, "type")) {
    s->act_type = v; s->act_tn = n; return;
  }
  if (s->in_cam && s->depth == 4) {
    if (!direct) return;
    if (KEQ(s, 3, "role")) { s->cam_role = v; s->cam_rn = n; }
    else if (KEQ(s, 3, "device-id")) { s->cam_dev = v; s->cam_dn = n; }
    return;
  }
  fld f = where(s);
  if (f == F_NONE) return;
  val x = {.type = 0, .s = v, .n = n};
  set_field(&s->a, f, &x);
}

static int object(sc *s, int nest) {
  int list = activity_list_here(s), cam = list < 0 && camera_here(s);
  if (list >= 0) { s->act_list = list; s->act_id = s->act_type = NULL; }
  if (cam) { s->in_cam = 1; s->cam_role = s->cam_dev = NULL; }
  int desc = s->depth == 3 && !s->arrays && KEQ(s, 0, "object") && KEQ(s, 1, "definition") &&
             KEQ(s, 2, "description");
  if (desc) s->desc_n = 0;
  s->p++; /* '{' */
  ws(s);
  if (s->p < s->e && *s->p == '}') { s->p++; goto done; }
  for (;;) {
    ws(s);
    if (s->p >= s->e || *s->p != '"') return -1;
    s->p++;
    const char *k;
    size_t kn;
    /* keys with escapes would land in scratch; profile keys have none */
    if (str(s, &k, &kn)) return -1;
    ws(s);
    if (s->p >= s->e || *s->p != ':') return -1;
    s->p++;
    if (s->depth < MAXD) s->key[s->depth] = (mg_detect_str){k, kn};
    if (desc) s->desc_n++;
    s->depth++;
    int rc = value(s, nest + 1);
    s->depth--;
    if (rc) return rc;
    ws(s);
    if (s->p < s->e && *s->p == ',') { s->p++; continue; }
    if (s->p < s->e && *s->p == '}') { s->p++; break; }
    return -1;
  }
done:
  if (list >= 0) {
    if (s->act_id) activity_seen(&s->a, list, s->act_id, s->act_idn, s->act_type, s->act_tn);
    s->act_list = -1;
  }
  if (cam) {
    camera_seen(&s->a, s->cam_role, s->cam_rn, s->cam_dev, s->cam_dn);
    s->in_cam = 0;
  }
  return 0;
}

static int value(sc *s, int nest) {
  if (nest > 64) return -1;
  ws(s);
  if (s->p >= s->e) return -1;
  char c = *s->p;
  if (c == '{') return object(s, nest);
  if (c == '[') {
    s->p++;
    ws(s);
    if (s->p < s->e && *s->p == ']') { s->p++; return 0; }
    s->arrays++;
    uint64_t arr = s->arr;
    s->arr |= s->depth < 63 ? 1ULL << s->depth : 1ULL << 63;
    int rc;
    for (;;) {
      if ((rc = value(s, nest + 1))) break;
      ws(s);
      if (s->p < s->e && *s->p == ',') { s->p++; continue; }
      if (s->p < s->e && *s->p == ']') { s->p++; rc = 0; break; }
      rc = -1;
      break;
    }
    s->arrays--;
    s->arr = arr;
    return rc;
  }
  if (c == '"') {
    s->p++;
    const char *v;
    size_t n;
    if (str(s, &v, &n)) return -1;
    scalar_str(s, v, n);
    return 0;
  }
  if (c == 't' || c == 'f' || c == 'n') {
    size_t len = c == 'f' ? 5 : 4;
    if ((size_t)(s->e - s->p) < len) return -1;
    s->p += len;
    if (c == 'n') return 0;
    fld f = where(s);
    if (f != F_NONE) {
      val x = {.type = 2, .b = c == 't'};
      set_field(&s->a, f, &x);
    }
    return 0;
  }
  const char *start = s->p;
  while (s->p < s->e && num_char(*s->p)) s->p++;
  if (s->p == start) return -1;
  fld f = where(s);
  if (f == F_NONE) return 0;
  val x = {.type = 1};
  if (!fast_decimal(start, (size_t)(s->p - start), &x.num)) {
    /* strtod needs a terminated copy; JSON allows any number of digits (the DOM reader takes
     * them all), so a long one gets a buffer of its own */
    char small[64], *buf = small;
    size_t n = (size_t)(s->p - start);
    if (n >= sizeof small && !(buf = malloc(n + 1))) return 0;
    memcpy(buf, start, n);
    buf[n] = 0;
    char *end;
    x.num = strtod(buf, &end);
    int whole = end == buf + n;
    if (buf != small) free(buf);
    if (!whole) return 0;
  }
  set_field(&s->a, f, &x);
  return 0;
}

int mg_detect_event_parse(const char *json, size_t len, mg_detect_event *ev) {
  event_reset(ev);
  sc s = {.p = json, .e = json + len, .act_list = -1};
  s.a.ev = ev;
  ws(&s);
  if (s.p >= s.e || *s.p != '{' || value(&s, 0)) {
    ev->kind = MG_XAPI_KIND_NONE;
    return MG_EINVAL;
  }
  return finish(&s.a);
}

/* ---- the DOM reader ----------------------------------------------------------------------- */

static void dom_set(acc *a, fld f, const mg_json *v) {
  if (!v) return;
  val x = {0};
  if (mg_json_is_string(v)) { x.type = 0; x.s = mg_json_string_value(v); x.n = mg_json_string_length(v); }
  else if (mg_json_is_number(v)) { x.type = 1; x.num = mg_json_number_value(v); }
  else if (mg_json_is_boolean(v)) { x.type = 2; x.b = mg_json_is_true(v); }
  else return;
  set_field(a, f, &x);
}

static void dom_exts(acc *a, const mg_json *exts, int in_result) {
  const char *k;
  mg_json *v;
  mg_json_object_foreach(exts, k, v) {
    fld f = ext_at(k, strlen(k), in_result);
    if (f == F_CAMERAS) {
      size_t i;
      mg_json *cam;
      mg_json_array_foreach(v, i, cam) {
        mg_json *role = mg_json_object_get(cam, "role"), *dev = mg_json_object_get(cam, "device-id");
        camera_seen(a, mg_json_string_value(role), mg_json_string_length(role),
                    mg_json_string_value(dev), mg_json_string_length(dev));
      }
    } else if (f != F_NONE) {
      dom_set(a, f, v);
    }
  }
}

static void dom_acts(acc *a, const mg_json *list, int which) {
  const mg_json *one[1] = {list};
  size_t n = mg_json_is_array(list) ? mg_json_array_size(list) : mg_json_is_object(list) ? 1 : 0;
  for (size_t i = 0; i < n; i++) {
    const mg_json *act = mg_json_is_array(list) ? mg_json_array_get(list, i) : one[0];
    mg_json *id = mg_json_object_get(act, "id");
    mg_json *type = mg_json_object_get(mg_json_object_get(act, "definition"), "type");
    if (!mg_json_is_string(id)) continue;
    activity_seen(a, which, mg_json_string_value(id), mg_json_string_length(id),
                  mg_json_string_value(type), mg_json_string_length(type));
  }
}

int mg_detect_event_from_json(const mg_json *stmt, mg_detect_event *ev) {
  event_reset(ev);
  acc a = {.ev = ev};
  if (!mg_json_is_object(stmt)) return MG_EINVAL;
  dom_set(&a, F_ID, mg_json_object_get(stmt, "id"));
  dom_set(&a, F_TIMESTAMP, mg_json_object_get(stmt, "timestamp"));
  dom_set(&a, F_VERB, mg_json_object_get(mg_json_object_get(stmt, "verb"), "id"));
  mg_json *acct = mg_json_object_get(mg_json_object_get(stmt, "actor"), "account");
  dom_set(&a, F_HOME, mg_json_object_get(acct, "homePage"));
  dom_set(&a, F_NAME, mg_json_object_get(acct, "name"));
  mg_json *obj = mg_json_object_get(stmt, "object");
  dom_set(&a, F_OBJECT_ID, mg_json_object_get(obj, "id"));
  mg_json *def = mg_json_object_get(obj, "definition");
  dom_set(&a, F_OBJECT_TYPE, mg_json_object_get(def, "type"));
  dom_set(&a, F_INTERACTION, mg_json_object_get(def, "interactionType"));
  mg_json *desc = mg_json_object_get(def, "description");
  if (mg_json_object_size(desc)) dom_set(&a, F_DESC, desc->u.members[0].value);
  mg_json *res = mg_json_object_get(stmt, "result");
  dom_set(&a, F_RESPONSE, mg_json_object_get(res, "response"));
  dom_set(&a, F_DURATION, mg_json_object_get(res, "duration"));
  dom_set(&a, F_SUCCESS, mg_json_object_get(res, "success"));
  dom_set(&a, F_COMPLETION, mg_json_object_get(res, "completion"));
  dom_set(&a, F_SCORE, mg_json_object_get(mg_json_object_get(res, "score"), "scaled"));
  dom_exts(&a, mg_json_object_get(res, "extensions"), 1);
  mg_json *ctx = mg_json_object_get(stmt, "context");
  dom_set(&a, F_REG, mg_json_object_get(ctx, "registration"));
  dom_exts(&a, mg_json_object_get(ctx, "extensions"), 0);
  mg_json *ca = mg_json_object_get(ctx, "contextActivities");
  dom_acts(&a, mg_json_object_get(ca, "grouping"), 0);
  dom_acts(&a, mg_json_object_get(ca, "category"), 1);
  dom_acts(&a, mg_json_object_get(ca, "parent"), 2);
  return finish(&a);
}
