/* xapi/profile.h — the moocguard xAPI data profile (docs/profile.md) and its server-side checker.
 *
 * Platforms that push learning records mark each statement as following the profile by putting
 * the profile IRI in context.contextActivities.category. Such a statement (already valid xAPI) is
 * sorted into one record kind by its verb, object type and, for a few kinds, one discriminating
 * property; the kind's row in one static table says which properties must be present and of what
 * type. The first violation comes back as a JSON path and a message that the HTTP layer turns into
 * a 400. Checking allocates nothing and keeps no state, so it is safe from any thread.
 *
 * The IRIs below are the profile's vocabulary; detectors read statements through these names so
 * that the document, the checker and the detectors never disagree. The table itself is exported
 * read-only (mg_xapi_profile_rules) for tests and tooling. */
#ifndef MG_XAPI_PROFILE_H
#define MG_XAPI_PROFILE_H

#include "core/json.h"
#include <stddef.h>

#include "xapi/validate.h"

/* ---- the profile ---------------------------------------------------------------------------- */
#define MG_XAPI_PROFILE_IRI "https://moocguard.org/xapi/profile/1.0"
#define MG_XAPI_PROFILE_ACTIVITY_TYPE "http://adlnet.gov/expapi/activities/profile"

/* ---- verbs ---------------------------------------------------------------------------------- */
#define MG_XAPI_VERB_LOGGED_IN "https://w3id.org/xapi/adl/verbs/logged-in"
#define MG_XAPI_VERB_LOGGED_OUT "https://w3id.org/xapi/adl/verbs/logged-out"
#define MG_XAPI_VERB_INITIALIZED "http://adlnet.gov/expapi/verbs/initialized"
#define MG_XAPI_VERB_PLAYED "https://w3id.org/xapi/video/verbs/played"
#define MG_XAPI_VERB_PAUSED "https://w3id.org/xapi/video/verbs/paused"
#define MG_XAPI_VERB_SEEKED "https://w3id.org/xapi/video/verbs/seeked"
#define MG_XAPI_VERB_PROGRESSED "http://adlnet.gov/expapi/verbs/progressed" /* video heartbeat */
#define MG_XAPI_VERB_INTERACTED "http://adlnet.gov/expapi/verbs/interacted"
#define MG_XAPI_VERB_COMPLETED "http://adlnet.gov/expapi/verbs/completed"
#define MG_XAPI_VERB_TERMINATED "http://adlnet.gov/expapi/verbs/terminated"
#define MG_XAPI_VERB_VIEWED "http://id.tincanapi.com/verb/viewed"
#define MG_XAPI_VERB_POSTED "https://w3id.org/xapi/acrossx/verbs/posted"
#define MG_XAPI_VERB_COMMENTED "http://adlnet.gov/expapi/verbs/commented"
#define MG_XAPI_VERB_ATTEMPTED "http://adlnet.gov/expapi/verbs/attempted"
#define MG_XAPI_VERB_ANSWERED "http://adlnet.gov/expapi/verbs/answered"
#define MG_XAPI_VERB_SCORED "http://adlnet.gov/expapi/verbs/scored"
#define MG_XAPI_VERB_LAUNCHED "http://adlnet.gov/expapi/verbs/launched" /* face check prompted */
#define MG_XAPI_VERB_PASSED "http://adlnet.gov/expapi/verbs/passed"
#define MG_XAPI_VERB_FAILED "http://adlnet.gov/expapi/verbs/failed"

/* ---- activity types ------------------------------------------------------------------------- */
#define MG_XAPI_TYPE_PLATFORM "https://moocguard.org/xapi/activity-type/platform"
#define MG_XAPI_TYPE_COURSE "http://adlnet.gov/expapi/activities/course"
#define MG_XAPI_TYPE_OFFERING "https://moocguard.org/xapi/activity-type/offering"
#define MG_XAPI_TYPE_VIDEO "https://w3id.org/xapi/video/activity-type/video"
#define MG_XAPI_TYPE_ASSESSMENT "http://adlnet.gov/expapi/activities/assessment"
#define MG_XAPI_TYPE_INTERACTION "http://adlnet.gov/expapi/activities/cmi.interaction"
#define MG_XAPI_TYPE_FACE_CHECK "https://moocguard.org/xapi/activity-type/face-verification"
#define MG_XAPI_VIDEO_PROFILE_IRI "https://w3id.org/xapi/video" /* category of video statements */

/* ---- moocguard extensions (context.extensions unless noted) -------------------------------- */
#define MG_XAPI_EXT_PLATFORM_CODE "https://moocguard.org/xapi/ext/platform-code"
#define MG_XAPI_EXT_RECEIVED_AT "https://moocguard.org/xapi/ext/received-at"
#define MG_XAPI_EXT_CLIENT_IP "https://moocguard.org/xapi/ext/client-ip"
#define MG_XAPI_EXT_DEVICE_ID "https://moocguard.org/xapi/ext/device-id"
#define MG_XAPI_EXT_USER_AGENT "https://moocguard.org/xapi/ext/user-agent"
#define MG_XAPI_EXT_CLIENT_SESSION_ID "https://moocguard.org/xapi/ext/client-session-id"
#define MG_XAPI_EXT_CLIENT_SEQ "https://moocguard.org/xapi/ext/client-seq"
#define MG_XAPI_EXT_OFFLINE "https://moocguard.org/xapi/ext/offline"
#define MG_XAPI_EXT_LOGIN_METHOD "https://moocguard.org/xapi/ext/login-method"
#define MG_XAPI_EXT_MAX_SPEED "https://moocguard.org/xapi/ext/max-speed"
#define MG_XAPI_EXT_VISIBLE "https://moocguard.org/xapi/ext/visible"
#define MG_XAPI_EXT_INPUT_COUNT "https://moocguard.org/xapi/ext/input-count"
#define MG_XAPI_EXT_POST_ID "https://moocguard.org/xapi/ext/post-id"
#define MG_XAPI_EXT_ASSESSMENT_KIND "https://moocguard.org/xapi/ext/assessment-kind"
#define MG_XAPI_EXT_ATTEMPT_ID "https://moocguard.org/xapi/ext/attempt-id"
#define MG_XAPI_EXT_ATTEMPT_NUMBER "https://moocguard.org/xapi/ext/attempt-number"
#define MG_XAPI_EXT_CAMERA_COUNT "https://moocguard.org/xapi/ext/camera-count"
#define MG_XAPI_EXT_CAMERAS_REQUIRED "https://moocguard.org/xapi/ext/cameras-required"
#define MG_XAPI_EXT_CAMERAS "https://moocguard.org/xapi/ext/cameras"
#define MG_XAPI_EXT_FACE_PURPOSE "https://moocguard.org/xapi/ext/face-purpose"
#define MG_XAPI_EXT_FACE_FAILURE "https://moocguard.org/xapi/ext/face-failure"
#define MG_XAPI_EXT_FACE_THRESHOLD "https://moocguard.org/xapi/ext/face-threshold"
#define MG_XAPI_EXT_CAPTURE_ID "https://moocguard.org/xapi/ext/capture-id"

/* ---- xAPI Video Profile extensions ---------------------------------------------------------- */
/* result.extensions */
#define MG_XAPI_VIDEO_TIME "https://w3id.org/xapi/video/extensions/time"
#define MG_XAPI_VIDEO_TIME_FROM "https://w3id.org/xapi/video/extensions/time-from"
#define MG_XAPI_VIDEO_TIME_TO "https://w3id.org/xapi/video/extensions/time-to"
#define MG_XAPI_VIDEO_PROGRESS "https://w3id.org/xapi/video/extensions/progress"
#define MG_XAPI_VIDEO_PLAYED_SEGMENTS "https://w3id.org/xapi/video/extensions/played-segments"
/* context.extensions */
#define MG_XAPI_VIDEO_SESSION_ID "https://w3id.org/xapi/video/extensions/session-id"
#define MG_XAPI_VIDEO_LENGTH "https://w3id.org/xapi/video/extensions/length"
#define MG_XAPI_VIDEO_SPEED "https://w3id.org/xapi/video/extensions/speed"
#define MG_XAPI_VIDEO_VOLUME "https://w3id.org/xapi/video/extensions/volume"
#define MG_XAPI_VIDEO_QUALITY "https://w3id.org/xapi/video/extensions/quality"
#define MG_XAPI_VIDEO_FULL_SCREEN "https://w3id.org/xapi/video/extensions/full-screen"
#define MG_XAPI_VIDEO_COMPLETION_THRESHOLD \
  "https://w3id.org/xapi/video/extensions/completion-threshold"

/* ---- record kinds --------------------------------------------------------------------------- */
typedef enum mg_xapi_kind {
  MG_XAPI_KIND_NONE = 0, /* not claimed, voiding, or no row matches */
  MG_XAPI_KIND_SESSION_LOGIN,
  MG_XAPI_KIND_SESSION_LOGOUT,
  MG_XAPI_KIND_VIDEO_INITIALIZED,
  MG_XAPI_KIND_VIDEO_PLAYED,
  MG_XAPI_KIND_VIDEO_PAUSED,
  MG_XAPI_KIND_VIDEO_SEEKED,
  MG_XAPI_KIND_VIDEO_HEARTBEAT,
  MG_XAPI_KIND_VIDEO_INTERACTED,
  MG_XAPI_KIND_VIDEO_COMPLETED,
  MG_XAPI_KIND_VIDEO_TERMINATED,
  MG_XAPI_KIND_PAGE_VIEWED,
  MG_XAPI_KIND_TASK_COMPLETED,
  MG_XAPI_KIND_DISCUSSION_POSTED,
  MG_XAPI_KIND_DISCUSSION_COMMENTED,
  MG_XAPI_KIND_EXAM_STARTED,
  MG_XAPI_KIND_ATTEMPT_STARTED,
  MG_XAPI_KIND_ITEM_ANSWERED_OPEN,
  MG_XAPI_KIND_ITEM_ANSWERED,
  MG_XAPI_KIND_ATTEMPT_SUBMITTED,
  MG_XAPI_KIND_ATTEMPT_SCORED,
  MG_XAPI_KIND_FACE_PROMPTED,
  MG_XAPI_KIND_FACE_PASSED,
  MG_XAPI_KIND_FACE_FAILED,
  MG_XAPI_KIND_COUNT_
} mg_xapi_kind;

/* Where a checked property lives. */
typedef enum mg_xapi_loc {
  MG_XAPI_LOC_STATEMENT,   /* <key> at the top level (id, timestamp) */
  MG_XAPI_LOC_ACCOUNT,     /* actor.account.<key> */
  MG_XAPI_LOC_CONTEXT,     /* context.<key> (registration, platform) */
  MG_XAPI_LOC_CTX_EXT,     /* context.extensions[<key>] */
  MG_XAPI_LOC_RESULT,      /* result.<key> (duration, response, success, completion) */
  MG_XAPI_LOC_SCORE,       /* result.score.<key> */
  MG_XAPI_LOC_RES_EXT,     /* result.extensions[<key>] */
  MG_XAPI_LOC_OBJ_DEF,     /* object.definition.<key> */
  MG_XAPI_LOC_CTX_ACTIVITY /* context.contextActivities.<key> holds an activity of type `values[0]` */
} mg_xapi_loc;

/* What a checked property must be. */
typedef enum mg_xapi_ftype {
  MG_XAPI_T_STRING,    /* non-empty string */
  MG_XAPI_T_TEXT,      /* string, may be empty (a blank answer is data) */
  MG_XAPI_T_UUID,      /* string in 8-4-4-4-12 hex form */
  MG_XAPI_T_IP,        /* IPv4 dotted quad or IPv6 text */
  MG_XAPI_T_TIMESTAMP, /* ISO 8601 date-time with a zone designator */
  MG_XAPI_T_DURATION,  /* ISO 8601 duration */
  MG_XAPI_T_NUMBER,    /* any JSON number */
  MG_XAPI_T_NONNEG,    /* number >= 0 (media seconds) */
  MG_XAPI_T_POSITIVE,  /* number > 0 */
  MG_XAPI_T_FRACTION,  /* number in [0, 1] */
  MG_XAPI_T_COUNT,     /* JSON integer >= 0 */
  MG_XAPI_T_ORDINAL,   /* JSON integer >= 1 */
  MG_XAPI_T_BOOL,      /* true or false */
  MG_XAPI_T_TRUE,      /* exactly true */
  MG_XAPI_T_FALSE,     /* exactly false */
  MG_XAPI_T_ENUM,      /* one of `values` */
  MG_XAPI_T_SPEED,     /* Video Profile speed: decimal followed by 'x', e.g. "1.5x" */
  MG_XAPI_T_SEGMENTS,  /* Video Profile played-segments, e.g. "0[.]12.5[,]30[.]61" */
  MG_XAPI_T_CAMERAS,   /* non-empty array of {"role": "primary"|"secondary", "device-id": string} */
  MG_XAPI_T_ACTIVITY   /* (MG_XAPI_LOC_CTX_ACTIVITY only) an activity of the given type is listed */
} mg_xapi_ftype;

/* One checked property. `values` is a NULL-terminated list (enum values, the activity type for
 * MG_XAPI_LOC_CTX_ACTIVITY, or the accepted values of a discriminator); NULL otherwise. */
typedef struct mg_xapi_field {
  mg_xapi_loc loc;
  const char *key;
  mg_xapi_ftype type;
  int required; /* 0: checked only when present */
  const char *const *values;
} mg_xapi_field;

/* One row of the table: statements with `verb` whose object.definition.type is `type` (NULL: any
 * type) and, when disc.key is set, whose disc property is a string among disc.values, are of
 * `kind`. Rows are tried in order; the first match wins. client_bound rows record something a
 * student did on a client and need its address, device, user agent and session; course_bound rows
 * need the course context (registration, course and offering). fields lists the row's own
 * properties; the shared ones are checked first (see mg_xapi_profile_fields). */
typedef struct mg_xapi_rule {
  mg_xapi_kind kind;
  const char *name; /* "video-played"; also the name of docs/profile-examples/<name>.json */
  const char *verb;
  const char *type;
  mg_xapi_field disc;
  int client_bound;
  int course_bound;
  const mg_xapi_field *fields;
  size_t n_fields;
} mg_xapi_rule;

/* Returns 1 if context.contextActivities.category (an array, or a single activity as 1.0.3
 * clients may send) holds an activity whose id is MG_XAPI_PROFILE_IRI; 0 otherwise or if stmt is
 * not an object. */
int mg_xapi_profile_claims(const mg_json *stmt);

/* Checks a statement that already passed mg_xapi_validate_statement against the profile.
 * Returns MG_OK if the statement does not claim the profile, is a voiding statement, or meets
 * every requirement of its record kind; otherwise MG_EINVAL with err->path naming the missing or
 * wrong property (e.g. `context.extensions["https://moocguard.org/xapi/ext/device-id"]`, or
 * "verb.id" for a verb the profile does not define) and err->message saying what the profile
 * requires. err may be NULL. Never allocates; malformed input is reported, never trusted. */
int mg_xapi_profile_check(const mg_json *stmt, mg_xapi_error *err);

/* The record kind of a statement that claims the profile (its requirements are not checked);
 * MG_XAPI_KIND_NONE if it does not claim the profile or no row matches. */
mg_xapi_kind mg_xapi_profile_kind(const mg_json *stmt);

/* "video-played" etc.; "none" for MG_XAPI_KIND_NONE or an out-of-range value. Static storage. */
const char *mg_xapi_profile_kind_name(mg_xapi_kind kind);

/* The table, in match order. Static storage; *n receives the number of rows. */
const mg_xapi_rule *mg_xapi_profile_rules(size_t *n);

/* Writes into out (up to max entries) the properties checked for statements of row r, in the
 * order they are checked: those of every statement, the client's (required only when r is
 * client_bound), the course context when r is course_bound, then r's own. Returns the total
 * number (which may exceed max). */
size_t mg_xapi_profile_fields(const mg_xapi_rule *r, const mg_xapi_field **out, size_t max);

/* Writes the JSON path of f as reported in mg_xapi_error.path into out (NUL-terminated,
 * truncated to size). */
void mg_xapi_profile_field_path(const mg_xapi_field *f, char *out, size_t size);

/* Parses a Video Profile speed ("1x", "1.25x", "-2x") into a factor. MG_OK or MG_EINVAL. */
int mg_xapi_profile_parse_speed(const char *s, double *out);

#endif
