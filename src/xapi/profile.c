#include "xapi/profile.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "core/time.h"
#include "core/uuid.h"

#define VERB_VOIDED "http://adlnet.gov/expapi/verbs/voided"

/* ---- value lists ---------------------------------------------------------------------------- */
static const char *const login_methods[] = {"password", "sms", "qr", "sso",
                                            "token",    "face", "other", NULL};
static const char *const assessment_kinds[] = {"popup", "quiz", "homework", "exam", NULL};
static const char *const exam_only[] = {"exam", NULL};
/* interaction types with no right answer at answer time (essays, surveys, free form) */
static const char *const open_items[] = {"long-fill-in", "likert", "other", NULL};
static const char *const face_purposes[] = {"study-start", "study-random", "exam-start",
                                            "exam-random", "exam-end",     NULL};
static const char *const face_failures[] = {"mismatch", "no-face",   "multiple-faces", "liveness",
                                            "timeout",  "cancelled", "error",          NULL};
static const char *const camera_roles[] = {"primary", "secondary", NULL};
static const char *const type_course[] = {MG_XAPI_TYPE_COURSE, NULL};
static const char *const type_offering[] = {MG_XAPI_TYPE_OFFERING, NULL};
static const char *const type_assessment[] = {MG_XAPI_TYPE_ASSESSMENT, NULL};

#define F(loc, key, type, req, vals) {MG_XAPI_LOC_##loc, key, MG_XAPI_T_##type, req, vals}
#define REQ(loc, key, type) F(loc, key, type, 1, NULL)
#define OPT(loc, key, type) F(loc, key, type, 0, NULL)
#define REQ_ENUM(loc, key, vals) F(loc, key, ENUM, 1, vals)
#define NO_DISC {MG_XAPI_LOC_STATEMENT, NULL, MG_XAPI_T_STRING, 0, NULL}
#define DISC(loc, key, vals) {MG_XAPI_LOC_##loc, key, MG_XAPI_T_ENUM, 1, vals}
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Carried by every statement: who, when, reported by which platform. */
static const mg_xapi_field common_fields[] = {
    REQ(STATEMENT, "id", UUID),
    REQ(STATEMENT, "timestamp", TIMESTAMP),
    REQ(ACCOUNT, "homePage", STRING),
    REQ(ACCOUNT, "name", STRING),
    REQ(CONTEXT, "platform", STRING),
    REQ(CTX_EXT, MG_XAPI_EXT_PLATFORM_CODE, STRING),
    REQ(CTX_EXT, MG_XAPI_EXT_RECEIVED_AT, TIMESTAMP),
};

/* The client a student acted from. Records the platform produces on its own (a grade released
 * later) have no client, so for those rows the same properties are checked only when present. */
#define CLIENT_FIELDS(req)                                  \
  F(CTX_EXT, MG_XAPI_EXT_CLIENT_IP, IP, req, NULL),         \
      F(CTX_EXT, MG_XAPI_EXT_DEVICE_ID, STRING, req, NULL), \
      F(CTX_EXT, MG_XAPI_EXT_USER_AGENT, STRING, req, NULL), \
      F(CTX_EXT, MG_XAPI_EXT_CLIENT_SESSION_ID, STRING, req, NULL), \
      F(CTX_EXT, MG_XAPI_EXT_CLIENT_SEQ, COUNT, req, NULL), \
      OPT(CTX_EXT, MG_XAPI_EXT_OFFLINE, BOOL)
static const mg_xapi_field client_fields[] = {CLIENT_FIELDS(1)};
static const mg_xapi_field client_fields_opt[] = {CLIENT_FIELDS(0)};

/* Carried by everything that happens inside a course: enrolment, course, offering. */
static const mg_xapi_field course_fields[] = {
    REQ(CONTEXT, "registration", UUID),
    F(CTX_ACTIVITY, "grouping", ACTIVITY, 1, type_course),
    F(CTX_ACTIVITY, "grouping", ACTIVITY, 1, type_offering),
};

/* ---- rows' own properties ------------------------------------------------------------------- */
static const mg_xapi_field login_fields[] = {
    REQ_ENUM(CTX_EXT, MG_XAPI_EXT_LOGIN_METHOD, login_methods),
};
static const mg_xapi_field logout_fields[] = {
    OPT(RESULT, "duration", DURATION),
};

#define VIDEO_CTX                                        \
  REQ(CTX_EXT, MG_XAPI_VIDEO_SESSION_ID, STRING),        \
      REQ(CTX_EXT, MG_XAPI_VIDEO_LENGTH, POSITIVE),      \
      OPT(CTX_EXT, MG_XAPI_VIDEO_VOLUME, FRACTION),      \
      OPT(CTX_EXT, MG_XAPI_VIDEO_QUALITY, STRING),       \
      OPT(CTX_EXT, MG_XAPI_VIDEO_FULL_SCREEN, BOOL),     \
      OPT(CTX_EXT, MG_XAPI_EXT_VISIBLE, BOOL)

static const mg_xapi_field video_initialized_fields[] = {
    VIDEO_CTX,
    REQ(CTX_EXT, MG_XAPI_EXT_MAX_SPEED, POSITIVE),
    OPT(CTX_EXT, MG_XAPI_VIDEO_SPEED, SPEED),
    OPT(CTX_EXT, MG_XAPI_VIDEO_COMPLETION_THRESHOLD, FRACTION),
};
static const mg_xapi_field video_played_fields[] = {
    VIDEO_CTX,
    REQ(CTX_EXT, MG_XAPI_VIDEO_SPEED, SPEED),
    REQ(RES_EXT, MG_XAPI_VIDEO_TIME, NONNEG),
};
static const mg_xapi_field video_paused_fields[] = {
    VIDEO_CTX,
    REQ(CTX_EXT, MG_XAPI_VIDEO_SPEED, SPEED),
    REQ(RES_EXT, MG_XAPI_VIDEO_TIME, NONNEG),
    REQ(RES_EXT, MG_XAPI_VIDEO_PROGRESS, FRACTION),
    REQ(RES_EXT, MG_XAPI_VIDEO_PLAYED_SEGMENTS, SEGMENTS),
};
static const mg_xapi_field video_seeked_fields[] = {
    VIDEO_CTX,
    OPT(CTX_EXT, MG_XAPI_VIDEO_SPEED, SPEED),
    REQ(RES_EXT, MG_XAPI_VIDEO_TIME_FROM, NONNEG),
    REQ(RES_EXT, MG_XAPI_VIDEO_TIME_TO, NONNEG),
};
static const mg_xapi_field video_heartbeat_fields[] = {
    REQ(CTX_EXT, MG_XAPI_VIDEO_SESSION_ID, STRING),
    REQ(CTX_EXT, MG_XAPI_VIDEO_LENGTH, POSITIVE),
    REQ(CTX_EXT, MG_XAPI_VIDEO_SPEED, SPEED),
    REQ(CTX_EXT, MG_XAPI_VIDEO_VOLUME, FRACTION),
    OPT(CTX_EXT, MG_XAPI_VIDEO_QUALITY, STRING),
    OPT(CTX_EXT, MG_XAPI_VIDEO_FULL_SCREEN, BOOL),
    OPT(CTX_EXT, MG_XAPI_EXT_VISIBLE, BOOL),
    OPT(CTX_EXT, MG_XAPI_EXT_INPUT_COUNT, COUNT),
    REQ(RES_EXT, MG_XAPI_VIDEO_TIME, NONNEG),
    REQ(RES_EXT, MG_XAPI_VIDEO_PROGRESS, FRACTION),
    OPT(RES_EXT, MG_XAPI_VIDEO_PLAYED_SEGMENTS, SEGMENTS),
};
static const mg_xapi_field video_interacted_fields[] = {
    VIDEO_CTX,
    REQ(CTX_EXT, MG_XAPI_VIDEO_SPEED, SPEED),
    REQ(RES_EXT, MG_XAPI_VIDEO_TIME, NONNEG),
};
static const mg_xapi_field video_completed_fields[] = {
    VIDEO_CTX,
    OPT(CTX_EXT, MG_XAPI_VIDEO_SPEED, SPEED),
    OPT(CTX_EXT, MG_XAPI_VIDEO_COMPLETION_THRESHOLD, FRACTION),
    REQ(RESULT, "completion", TRUE),
    REQ(RESULT, "duration", DURATION),
    REQ(RES_EXT, MG_XAPI_VIDEO_TIME, NONNEG),
    REQ(RES_EXT, MG_XAPI_VIDEO_PROGRESS, FRACTION),
    REQ(RES_EXT, MG_XAPI_VIDEO_PLAYED_SEGMENTS, SEGMENTS),
};
static const mg_xapi_field video_terminated_fields[] = {
    VIDEO_CTX,
    OPT(CTX_EXT, MG_XAPI_VIDEO_SPEED, SPEED),
    OPT(RESULT, "duration", DURATION),
    REQ(RES_EXT, MG_XAPI_VIDEO_TIME, NONNEG),
    REQ(RES_EXT, MG_XAPI_VIDEO_PROGRESS, FRACTION),
    REQ(RES_EXT, MG_XAPI_VIDEO_PLAYED_SEGMENTS, SEGMENTS),
};

static const mg_xapi_field page_viewed_fields[] = {
    REQ(OBJ_DEF, "type", STRING),
    REQ(RESULT, "duration", DURATION),
    OPT(CTX_EXT, MG_XAPI_EXT_VISIBLE, BOOL),
    OPT(CTX_EXT, MG_XAPI_EXT_INPUT_COUNT, COUNT),
};
static const mg_xapi_field task_completed_fields[] = {
    REQ(OBJ_DEF, "type", STRING),
    REQ(RESULT, "completion", TRUE),
    OPT(RESULT, "duration", DURATION),
};
static const mg_xapi_field discussion_fields[] = {
    REQ(OBJ_DEF, "type", STRING),
    REQ(RESULT, "response", STRING),
    OPT(CTX_EXT, MG_XAPI_EXT_POST_ID, STRING),
};

#define ATTEMPT_CTX                                                   \
  REQ(CTX_EXT, MG_XAPI_EXT_ATTEMPT_ID, STRING),                       \
      REQ_ENUM(CTX_EXT, MG_XAPI_EXT_ASSESSMENT_KIND, assessment_kinds)

static const mg_xapi_field exam_started_fields[] = {
    ATTEMPT_CTX,
    REQ(CTX_EXT, MG_XAPI_EXT_ATTEMPT_NUMBER, ORDINAL),
    REQ(CTX_EXT, MG_XAPI_EXT_CAMERAS_REQUIRED, COUNT),
    REQ(CTX_EXT, MG_XAPI_EXT_CAMERA_COUNT, COUNT),
    OPT(CTX_EXT, MG_XAPI_EXT_CAMERAS, CAMERAS),
};
static const mg_xapi_field attempt_started_fields[] = {
    ATTEMPT_CTX,
    REQ(CTX_EXT, MG_XAPI_EXT_ATTEMPT_NUMBER, ORDINAL),
};
/* interactionType first: it decides between the two answered rows, so a broken one is reported
 * as itself rather than as whatever the other row misses. */
static const mg_xapi_field item_open_fields[] = {
    REQ(OBJ_DEF, "interactionType", STRING),
    F(CTX_ACTIVITY, "parent", ACTIVITY, 1, type_assessment),
    ATTEMPT_CTX,
    REQ(RESULT, "response", TEXT),
    REQ(RESULT, "duration", DURATION),
    OPT(RESULT, "success", BOOL),
};
static const mg_xapi_field item_fields[] = {
    REQ(OBJ_DEF, "interactionType", STRING),
    F(CTX_ACTIVITY, "parent", ACTIVITY, 1, type_assessment),
    ATTEMPT_CTX,
    REQ(RESULT, "response", TEXT),
    REQ(RESULT, "duration", DURATION),
    REQ(RESULT, "success", BOOL),
};
static const mg_xapi_field attempt_submitted_fields[] = {
    ATTEMPT_CTX,
    REQ(RESULT, "completion", TRUE),
    REQ(RESULT, "duration", DURATION),
    OPT(RESULT, "success", BOOL),
    OPT(SCORE, "raw", NUMBER),
    OPT(SCORE, "min", NUMBER),
    OPT(SCORE, "max", NUMBER),
    OPT(SCORE, "scaled", NUMBER),
};
static const mg_xapi_field attempt_scored_fields[] = {
    ATTEMPT_CTX,
    REQ(SCORE, "raw", NUMBER),
    REQ(SCORE, "min", NUMBER),
    REQ(SCORE, "max", NUMBER),
    OPT(SCORE, "scaled", NUMBER),
    OPT(RESULT, "success", BOOL),
};

static const mg_xapi_field face_prompted_fields[] = {
    REQ_ENUM(CTX_EXT, MG_XAPI_EXT_FACE_PURPOSE, face_purposes),
    OPT(CTX_EXT, MG_XAPI_EXT_ATTEMPT_ID, STRING),
};
static const mg_xapi_field face_passed_fields[] = {
    REQ_ENUM(CTX_EXT, MG_XAPI_EXT_FACE_PURPOSE, face_purposes),
    REQ(RESULT, "success", TRUE),
    REQ(SCORE, "scaled", FRACTION),
    OPT(CTX_EXT, MG_XAPI_EXT_FACE_THRESHOLD, FRACTION),
    OPT(CTX_EXT, MG_XAPI_EXT_CAPTURE_ID, STRING),
    OPT(CTX_EXT, MG_XAPI_EXT_ATTEMPT_ID, STRING),
    OPT(RESULT, "duration", DURATION),
};
static const mg_xapi_field face_failed_fields[] = {
    REQ_ENUM(CTX_EXT, MG_XAPI_EXT_FACE_PURPOSE, face_purposes),
    REQ(RESULT, "success", FALSE),
    REQ_ENUM(CTX_EXT, MG_XAPI_EXT_FACE_FAILURE, face_failures),
    OPT(SCORE, "scaled", FRACTION),
    OPT(CTX_EXT, MG_XAPI_EXT_FACE_THRESHOLD, FRACTION),
    OPT(CTX_EXT, MG_XAPI_EXT_CAPTURE_ID, STRING),
    OPT(CTX_EXT, MG_XAPI_EXT_ATTEMPT_ID, STRING),
    OPT(RESULT, "duration", DURATION),
};

#define ROW(k, name, verb, type, disc, client, course, f) \
  {MG_XAPI_KIND_##k, name, verb, type, disc, client, course, f, NELEM(f)}
#define V_ MG_XAPI_TYPE_VIDEO
#define A_ MG_XAPI_TYPE_ASSESSMENT
#define FC_ MG_XAPI_TYPE_FACE_CHECK

/* Match order matters: typed rows before the untyped fallback of the same verb (completed),
 * discriminated rows before the general row of the same verb and type.
 *      kind                  name                    verb                      object type  discriminator  client course fields */
static const mg_xapi_rule rules[] = {
    ROW(SESSION_LOGIN,        "session-login",        MG_XAPI_VERB_LOGGED_IN,   MG_XAPI_TYPE_PLATFORM, NO_DISC, 1, 0, login_fields),
    ROW(SESSION_LOGOUT,       "session-logout",       MG_XAPI_VERB_LOGGED_OUT,  MG_XAPI_TYPE_PLATFORM, NO_DISC, 1, 0, logout_fields),
    ROW(VIDEO_INITIALIZED,    "video-initialized",    MG_XAPI_VERB_INITIALIZED, V_,   NO_DISC, 1, 1, video_initialized_fields),
    ROW(VIDEO_PLAYED,         "video-played",         MG_XAPI_VERB_PLAYED,      V_,   NO_DISC, 1, 1, video_played_fields),
    ROW(VIDEO_PAUSED,         "video-paused",         MG_XAPI_VERB_PAUSED,      V_,   NO_DISC, 1, 1, video_paused_fields),
    ROW(VIDEO_SEEKED,         "video-seeked",         MG_XAPI_VERB_SEEKED,      V_,   NO_DISC, 1, 1, video_seeked_fields),
    ROW(VIDEO_HEARTBEAT,      "video-heartbeat",      MG_XAPI_VERB_PROGRESSED,  V_,   NO_DISC, 1, 1, video_heartbeat_fields),
    ROW(VIDEO_INTERACTED,     "video-interacted",     MG_XAPI_VERB_INTERACTED,  V_,   NO_DISC, 1, 1, video_interacted_fields),
    ROW(VIDEO_COMPLETED,      "video-completed",      MG_XAPI_VERB_COMPLETED,   V_,   NO_DISC, 1, 1, video_completed_fields),
    ROW(VIDEO_TERMINATED,     "video-terminated",     MG_XAPI_VERB_TERMINATED,  V_,   NO_DISC, 1, 1, video_terminated_fields),
    ROW(PAGE_VIEWED,          "page-viewed",          MG_XAPI_VERB_VIEWED,      NULL, NO_DISC, 1, 1, page_viewed_fields),
    ROW(DISCUSSION_POSTED,    "discussion-posted",    MG_XAPI_VERB_POSTED,      NULL, NO_DISC, 1, 1, discussion_fields),
    ROW(DISCUSSION_COMMENTED, "discussion-commented", MG_XAPI_VERB_COMMENTED,   NULL, NO_DISC, 1, 1, discussion_fields),
    ROW(EXAM_STARTED,         "exam-started",         MG_XAPI_VERB_ATTEMPTED,   A_,
        DISC(CTX_EXT, MG_XAPI_EXT_ASSESSMENT_KIND, exam_only),                         1, 1, exam_started_fields),
    ROW(ATTEMPT_STARTED,      "attempt-started",      MG_XAPI_VERB_ATTEMPTED,   A_,   NO_DISC, 1, 1, attempt_started_fields),
    ROW(ITEM_ANSWERED_OPEN,   "item-answered-open",   MG_XAPI_VERB_ANSWERED,    MG_XAPI_TYPE_INTERACTION,
        DISC(OBJ_DEF, "interactionType", open_items),                                  1, 1, item_open_fields),
    ROW(ITEM_ANSWERED,        "item-answered",        MG_XAPI_VERB_ANSWERED,    MG_XAPI_TYPE_INTERACTION,
        NO_DISC,                                                                       1, 1, item_fields),
    ROW(ATTEMPT_SUBMITTED,    "attempt-submitted",    MG_XAPI_VERB_COMPLETED,   A_,   NO_DISC, 1, 1, attempt_submitted_fields),
    ROW(ATTEMPT_SCORED,       "attempt-scored",       MG_XAPI_VERB_SCORED,      A_,   NO_DISC, 0, 1, attempt_scored_fields),
    ROW(TASK_COMPLETED,       "task-completed",       MG_XAPI_VERB_COMPLETED,   NULL, NO_DISC, 1, 1, task_completed_fields),
    ROW(FACE_PROMPTED,        "face-prompted",        MG_XAPI_VERB_LAUNCHED,    FC_,  NO_DISC, 1, 1, face_prompted_fields),
    ROW(FACE_PASSED,          "face-passed",          MG_XAPI_VERB_PASSED,      FC_,  NO_DISC, 1, 1, face_passed_fields),
    ROW(FACE_FAILED,          "face-failed",          MG_XAPI_VERB_FAILED,      FC_,  NO_DISC, 1, 1, face_failed_fields),
};

/* ---- JSON access ---------------------------------------------------------------------------- */
static const mg_json *get(const mg_json *o, const char *key) {
  return mg_json_is_object(o) ? mg_json_object_get(o, key) : NULL;
}

/* The string value of j, or NULL if j is not a string or hides a NUL. */
static const char *str_of(const mg_json *j) {
  if (!mg_json_is_string(j)) return NULL;
  const char *s = mg_json_string_value(j);
  return strlen(s) == mg_json_string_length(j) ? s : NULL;
}

/* The objects that hold checked properties, looked up once per statement. */
typedef struct parts {
  const mg_json *stmt, *account, *ctx, *ctx_ext, *ctx_act, *res, *score, *res_ext, *obj_def;
} parts;

static void split(const mg_json *stmt, parts *p) {
  const mg_json *actor = get(stmt, "actor");
  const char *actor_type = str_of(get(actor, "objectType"));
  p->stmt = stmt;
  /* a group is never a student, even one identified by an account */
  p->account = actor_type && strcmp(actor_type, "Agent") != 0 ? NULL : get(actor, "account");
  p->ctx = get(stmt, "context");
  p->ctx_ext = get(p->ctx, "extensions");
  p->ctx_act = get(p->ctx, "contextActivities");
  p->res = get(stmt, "result");
  p->score = get(p->res, "score");
  p->res_ext = get(p->res, "extensions");
  p->obj_def = get(get(stmt, "object"), "definition");
}

static const mg_json *locate(const parts *p, const mg_xapi_field *f) {
  switch (f->loc) {
  case MG_XAPI_LOC_STATEMENT: return get(p->stmt, f->key);
  case MG_XAPI_LOC_ACCOUNT: return get(p->account, f->key);
  case MG_XAPI_LOC_CONTEXT: return get(p->ctx, f->key);
  case MG_XAPI_LOC_CTX_EXT: return get(p->ctx_ext, f->key);
  case MG_XAPI_LOC_RESULT: return get(p->res, f->key);
  case MG_XAPI_LOC_SCORE: return get(p->score, f->key);
  case MG_XAPI_LOC_RES_EXT: return get(p->res_ext, f->key);
  case MG_XAPI_LOC_OBJ_DEF: return get(p->obj_def, f->key);
  case MG_XAPI_LOC_CTX_ACTIVITY: return get(p->ctx_act, f->key);
  }
  return NULL;
}

static int in_list(const char *s, const char *const *values) {
  if (!s || !values) return 0;
  for (; *values; values++)
    if (strcmp(s, *values) == 0) return 1;
  return 0;
}

static int activity_has_type(const mg_json *a, const char *type) {
  const char *t = str_of(get(get(a, "definition"), "type"));
  return t && strcmp(t, type) == 0;
}

/* contextActivities lists are arrays; 1.0.3 clients may send a single activity. */
static int list_has_type(const mg_json *list, const char *type) {
  if (mg_json_is_object(list)) return activity_has_type(list, type);
  if (!mg_json_is_array(list)) return 0;
  for (size_t i = 0; i < mg_json_array_size(list); i++)
    if (activity_has_type(mg_json_array_get(list, i), type)) return 1;
  return 0;
}

/* number: optional '-', 1..9 digits, optionally '.' and 1..9 digits. Advances *p on success. */
static int parse_decimal(const char **p, int allow_sign, double *out) {
  const char *s = *p;
  double v = 0, scale = 0.1;
  int neg = 0, n = 0;
  if (allow_sign && *s == '-') {
    neg = 1;
    s++;
  }
  for (; *s >= '0' && *s <= '9'; s++, n++) {
    if (n == 9) return 0;
    v = v * 10 + (*s - '0');
  }
  if (n == 0) return 0;
  if (*s == '.') {
    s++;
    for (n = 0; *s >= '0' && *s <= '9'; s++, n++, scale /= 10) {
      if (n == 9) return 0;
      v += (*s - '0') * scale;
    }
    if (n == 0) return 0;
  }
  *p = s;
  *out = neg ? -v : v;
  return 1;
}

int mg_xapi_profile_parse_speed(const char *s, double *out) {
  double v;
  if (!s || !parse_decimal(&s, 1, &v) || s[0] != 'x' || s[1] != '\0' || v == 0) return MG_EINVAL;
  if (out) *out = v;
  return MG_OK;
}

/* "" (nothing played yet) or from[.]to joined by [,]. Order within a segment is not checked:
 * an impossible segment is evidence for the detectors, not a malformed record. */
static int valid_segments(const char *s) {
  double v;
  if (*s == '\0') return 1;
  for (;;) {
    if (!parse_decimal(&s, 0, &v) || strncmp(s, "[.]", 3) != 0) return 0;
    s += 3;
    if (!parse_decimal(&s, 0, &v)) return 0;
    if (*s == '\0') return 1;
    if (strncmp(s, "[,]", 3) != 0) return 0;
    s += 3;
  }
}

static int valid_ip(const char *s) {
  unsigned char buf[sizeof(struct in6_addr)];
  if (strlen(s) >= INET6_ADDRSTRLEN) return 0;
  return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

static int valid_cameras(const mg_json *j) {
  if (!mg_json_is_array(j) || mg_json_array_size(j) == 0) return 0;
  for (size_t i = 0; i < mg_json_array_size(j); i++) {
    const mg_json *c = mg_json_array_get(j, i);
    const char *dev = str_of(get(c, "device-id"));
    if (!in_list(str_of(get(c, "role")), camera_roles) || !dev || !*dev) return 0;
  }
  return 1;
}

/* 1 if j (present) has the form f requires. */
static int valid_value(const mg_json *j, const mg_xapi_field *f) {
  const char *s = str_of(j);
  double d = mg_json_is_number(j) ? mg_json_number_value(j) : 0;
  uint8_t uuid[16];
  mg_timestamp ts;
  switch (f->type) {
  case MG_XAPI_T_STRING: return s && *s;
  case MG_XAPI_T_TEXT: return s != NULL;
  case MG_XAPI_T_UUID: return s && mg_uuid_parse(s, uuid) == MG_OK;
  case MG_XAPI_T_IP: return s && valid_ip(s);
  case MG_XAPI_T_TIMESTAMP: return s && mg_time_parse_iso(s, 0, &ts) == MG_OK && ts.has_tz;
  case MG_XAPI_T_DURATION: return s && mg_time_parse_duration(s, &d) == MG_OK;
  case MG_XAPI_T_NUMBER: return mg_json_is_number(j);
  case MG_XAPI_T_NONNEG: return mg_json_is_number(j) && d >= 0;
  case MG_XAPI_T_POSITIVE: return mg_json_is_number(j) && d > 0;
  case MG_XAPI_T_FRACTION: return mg_json_is_number(j) && d >= 0 && d <= 1;
  case MG_XAPI_T_COUNT: return mg_json_is_integer(j) && mg_json_integer_value(j) >= 0;
  case MG_XAPI_T_ORDINAL: return mg_json_is_integer(j) && mg_json_integer_value(j) >= 1;
  case MG_XAPI_T_BOOL: return mg_json_is_boolean(j);
  case MG_XAPI_T_TRUE: return mg_json_is_true(j);
  case MG_XAPI_T_FALSE: return mg_json_is_false(j);
  case MG_XAPI_T_ENUM: return in_list(s, f->values);
  case MG_XAPI_T_SPEED: return s && mg_xapi_profile_parse_speed(s, NULL) == MG_OK;
  case MG_XAPI_T_SEGMENTS: return s && valid_segments(s);
  case MG_XAPI_T_CAMERAS: return valid_cameras(j);
  case MG_XAPI_T_ACTIVITY: return f->values && list_has_type(j, f->values[0]);
  }
  return 0;
}

/* ---- messages ------------------------------------------------------------------------------- */
/* The last segment of an IRI ("device-id"), the name people use for an extension. */
static const char *short_name(const char *iri) {
  const char *slash = strrchr(iri, '/');
  return slash && slash[1] ? slash + 1 : iri;
}

void mg_xapi_profile_field_path(const mg_xapi_field *f, char *out, size_t size) {
  static const char *const prefix[] = {
      [MG_XAPI_LOC_STATEMENT] = "",
      [MG_XAPI_LOC_ACCOUNT] = "actor.account.",
      [MG_XAPI_LOC_CONTEXT] = "context.",
      [MG_XAPI_LOC_CTX_EXT] = "context.extensions",
      [MG_XAPI_LOC_RESULT] = "result.",
      [MG_XAPI_LOC_SCORE] = "result.score.",
      [MG_XAPI_LOC_RES_EXT] = "result.extensions",
      [MG_XAPI_LOC_OBJ_DEF] = "object.definition.",
      [MG_XAPI_LOC_CTX_ACTIVITY] = "context.contextActivities.",
  };
  if (!size) return;
  if (f->loc == MG_XAPI_LOC_CTX_EXT || f->loc == MG_XAPI_LOC_RES_EXT)
    snprintf(out, size, "%s[\"%s\"]", prefix[f->loc], f->key);
  else
    snprintf(out, size, "%s%s", prefix[f->loc], f->key);
}

static void describe_type(const mg_xapi_field *f, char *out, size_t size) {
  static const char *const desc[] = {
      [MG_XAPI_T_STRING] = "a non-empty string",
      [MG_XAPI_T_TEXT] = "a string",
      [MG_XAPI_T_UUID] = "a UUID",
      [MG_XAPI_T_IP] = "an IPv4 or IPv6 address",
      [MG_XAPI_T_TIMESTAMP] = "an ISO 8601 timestamp with a time zone",
      [MG_XAPI_T_DURATION] = "an ISO 8601 duration",
      [MG_XAPI_T_NUMBER] = "a number",
      [MG_XAPI_T_NONNEG] = "a number of seconds >= 0",
      [MG_XAPI_T_POSITIVE] = "a number > 0",
      [MG_XAPI_T_FRACTION] = "a number from 0 to 1",
      [MG_XAPI_T_COUNT] = "an integer >= 0",
      [MG_XAPI_T_ORDINAL] = "an integer >= 1",
      [MG_XAPI_T_BOOL] = "true or false",
      [MG_XAPI_T_TRUE] = "true",
      [MG_XAPI_T_FALSE] = "false",
      [MG_XAPI_T_ENUM] = "one of",
      [MG_XAPI_T_SPEED] = "a speed such as \"1.5x\"",
      [MG_XAPI_T_SEGMENTS] = "played segments such as \"0[.]12.5[,]30[.]61\"",
      [MG_XAPI_T_CAMERAS] = "an array of {\"role\", \"device-id\"} objects",
      [MG_XAPI_T_ACTIVITY] = "an activity",
  };
  size_t used = (size_t)snprintf(out, size, "%s", desc[f->type]);
  if (f->type != MG_XAPI_T_ENUM || !f->values) return;
  for (const char *const *v = f->values; *v && used < size; v++)
    used += (size_t)snprintf(out + used, size - used, "%s%s", v == f->values ? " " : ", ", *v);
}

static void fail_field(mg_xapi_error *err, const mg_xapi_rule *r, const mg_xapi_field *f,
                       int present) {
  char what[160];
  if (!err) return;
  mg_xapi_profile_field_path(f, err->path, sizeof err->path);
  const char *name = (f->loc == MG_XAPI_LOC_CTX_EXT || f->loc == MG_XAPI_LOC_RES_EXT)
                         ? short_name(f->key)
                         : err->path;
  if (f->loc == MG_XAPI_LOC_CTX_ACTIVITY) {
    snprintf(err->message, sizeof err->message,
             "profile requires an activity of type %.90s in %.60s for %.24s statements", f->values[0],
             err->path, r->name);
  } else if (!present) {
    snprintf(err->message, sizeof err->message, "profile requires %.120s for %.24s statements", name,
             r->name);
  } else {
    describe_type(f, what, sizeof what);
    snprintf(err->message, sizeof err->message,
             "profile requires %.80s to be %.100s in %.24s statements", name, what, r->name);
  }
}


/* ---- classification and checking ------------------------------------------------------------ */
int mg_xapi_profile_claims(const mg_json *stmt) {
  const mg_json *cat = get(get(get(stmt, "context"), "contextActivities"), "category");
  if (mg_json_is_object(cat)) {
    const char *id = str_of(get(cat, "id"));
    return id && strcmp(id, MG_XAPI_PROFILE_IRI) == 0;
  }
  if (!mg_json_is_array(cat)) return 0;
  for (size_t i = 0; i < mg_json_array_size(cat); i++) {
    const char *id = str_of(get(mg_json_array_get(cat, i), "id"));
    if (id && strcmp(id, MG_XAPI_PROFILE_IRI) == 0) return 1;
  }
  return 0;
}

static int disc_matches(const parts *p, const mg_xapi_field *d) {
  return !d->key || in_list(str_of(locate(p, d)), d->values);
}

/* Finds the row for stmt. On no match returns NULL and explains why in err. */
static const mg_xapi_rule *classify(const parts *p, const char *verb, mg_xapi_error *err) {
  const char *type = str_of(get(p->obj_def, "type"));
  const mg_xapi_rule *first_of_verb = NULL;
  for (size_t i = 0; i < NELEM(rules); i++) {
    const mg_xapi_rule *r = &rules[i];
    if (strcmp(verb, r->verb) != 0) continue;
    if (!first_of_verb) first_of_verb = r;
    if (r->type && (!type || strcmp(type, r->type) != 0)) continue;
    if (!disc_matches(p, &r->disc)) continue;
    return r;
  }
  if (!first_of_verb)
    mg_xapi_error_set(err, "verb.id", "verb %s is not part of profile %s; send it without the profile category",
         verb, MG_XAPI_PROFILE_IRI);
  else
    /* every row of this verb is typed and no untyped fallback exists */
    mg_xapi_error_set(err, "object.definition.type", "profile uses verb %s only for objects of type %s",
         short_name(verb), first_of_verb->type);
  return NULL;
}

static int check_list(const parts *p, const mg_xapi_rule *r, const mg_xapi_field *fields,
                      size_t n, mg_xapi_error *err) {
  for (size_t i = 0; i < n; i++) {
    const mg_xapi_field *f = &fields[i];
    const mg_json *j = locate(p, f);
    if (f->type == MG_XAPI_T_ACTIVITY) {
      if (f->required && !valid_value(j, f)) {
        fail_field(err, r, f, 0);
        return MG_EINVAL;
      }
      continue;
    }
    if (!j) {
      if (!f->required) continue;
      fail_field(err, r, f, 0);
      return MG_EINVAL;
    }
    if (!valid_value(j, f)) {
      fail_field(err, r, f, 1);
      return MG_EINVAL;
    }
  }
  return MG_OK;
}

static const char *verb_of(const mg_json *stmt) { return str_of(get(get(stmt, "verb"), "id")); }

int mg_xapi_profile_check(const mg_json *stmt, mg_xapi_error *err) {
  if (!mg_xapi_profile_claims(stmt)) return MG_OK;
  const char *verb = verb_of(stmt);
  if (!verb) {
    mg_xapi_error_set(err, "verb.id", "profile statements need a verb id");
    return MG_EINVAL;
  }
  /* a voiding statement targets a StatementRef, which cannot carry the platform context */
  if (strcmp(verb, VERB_VOIDED) == 0) return MG_OK;
  parts p;
  split(stmt, &p);
  const mg_xapi_rule *r = classify(&p, verb, err);
  if (!r) return MG_EINVAL;
  int rc = check_list(&p, r, common_fields, NELEM(common_fields), err);
  if (rc == MG_OK)
    rc = r->client_bound ? check_list(&p, r, client_fields, NELEM(client_fields), err)
                         : check_list(&p, r, client_fields_opt, NELEM(client_fields_opt), err);
  if (rc == MG_OK && r->course_bound)
    rc = check_list(&p, r, course_fields, NELEM(course_fields), err);
  if (rc == MG_OK) rc = check_list(&p, r, r->fields, r->n_fields, err);
  return rc;
}

mg_xapi_kind mg_xapi_profile_kind(const mg_json *stmt) {
  if (!mg_xapi_profile_claims(stmt)) return MG_XAPI_KIND_NONE;
  const char *verb = verb_of(stmt);
  if (!verb) return MG_XAPI_KIND_NONE;
  parts p;
  split(stmt, &p);
  const mg_xapi_rule *r = classify(&p, verb, NULL);
  return r ? r->kind : MG_XAPI_KIND_NONE;
}

const char *mg_xapi_profile_kind_name(mg_xapi_kind kind) {
  for (size_t i = 0; i < NELEM(rules); i++)
    if (rules[i].kind == kind) return rules[i].name;
  return "none";
}

const mg_xapi_rule *mg_xapi_profile_rules(size_t *n) {
  if (n) *n = NELEM(rules);
  return rules;
}

static size_t push(const mg_xapi_field **out, size_t max, size_t k, const mg_xapi_field *list,
                   size_t n) {
  for (size_t i = 0; i < n; i++, k++)
    if (k < max) out[k] = &list[i];
  return k;
}

size_t mg_xapi_profile_fields(const mg_xapi_rule *r, const mg_xapi_field **out, size_t max) {
  size_t k = push(out, max, 0, common_fields, NELEM(common_fields));
  if (r->client_bound)
    k = push(out, max, k, client_fields, NELEM(client_fields));
  else
    k = push(out, max, k, client_fields_opt, NELEM(client_fields_opt));
  if (r->course_bound) k = push(out, max, k, course_fields, NELEM(course_fields));
  return push(out, max, k, r->fields, r->n_fields);
}
