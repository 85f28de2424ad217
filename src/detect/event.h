/* detect/event.h — the few fields of a statement the detectors read, extracted fast.
 *
 * Replaying a term means millions of statements a second would be spent building a full JSON DOM
 * that the detectors then mostly ignore. mg_detect_event_parse walks the compact JSON text once,
 * keeps a path of object keys, and copies only the profile fields the detectors need (docs/
 * profile.md §15) into a flat struct; identifiers become 64-bit hashes, so the engine's tables
 * compare integers. mg_detect_event_from_json reads the same fields from a core/json DOM: the
 * tests prove both agree on every profile example, and the ingest hook may use either.
 *
 * Strings an event points to (student number, registration, course, post text ...) are borrowed:
 * from the parsed text, or from the event's own scratch buffer when the text had escapes. They
 * are valid until the text (or the event) changes. */
#ifndef MG_DETECT_EVENT_H
#define MG_DETECT_EVENT_H

#include <stddef.h>
#include <stdint.h>

#include "core/json.h"
#include "xapi/profile.h"

/* Where the bits of mg_detect_event.has come from. */
enum {
  MG_DEV_HAS_TIME = 1u << 0,
  MG_DEV_HAS_TIME_FROM = 1u << 1,
  MG_DEV_HAS_TIME_TO = 1u << 2,
  MG_DEV_HAS_PROGRESS = 1u << 3,
  MG_DEV_HAS_LENGTH = 1u << 4,
  MG_DEV_HAS_SPEED = 1u << 5,
  MG_DEV_HAS_MAX_SPEED = 1u << 6,
  MG_DEV_HAS_VOLUME = 1u << 7,
  MG_DEV_HAS_DURATION = 1u << 8,
  MG_DEV_HAS_SCORE = 1u << 9,
  MG_DEV_HAS_RECV = 1u << 10,
  MG_DEV_HAS_SEQ = 1u << 11,
  MG_DEV_HAS_THRESHOLD = 1u << 12, /* completion-threshold */
  MG_DEV_HAS_FACE_THRESHOLD = 1u << 13,
};

typedef enum mg_detect_akind { /* assessment-kind */
  MG_DEV_AK_NONE = 0, MG_DEV_AK_POPUP, MG_DEV_AK_QUIZ, MG_DEV_AK_HOMEWORK, MG_DEV_AK_EXAM
} mg_detect_akind;

typedef enum mg_detect_login { /* login-method */
  MG_DEV_LOGIN_NONE = 0, MG_DEV_LOGIN_PASSWORD, MG_DEV_LOGIN_SMS, MG_DEV_LOGIN_QR, MG_DEV_LOGIN_SSO,
  MG_DEV_LOGIN_TOKEN, MG_DEV_LOGIN_FACE, MG_DEV_LOGIN_OTHER
} mg_detect_login;

typedef enum mg_detect_face_failure {
  MG_DEV_FF_NONE = 0, MG_DEV_FF_MISMATCH, MG_DEV_FF_NO_FACE, MG_DEV_FF_MULTIPLE, MG_DEV_FF_LIVENESS,
  MG_DEV_FF_TIMEOUT, MG_DEV_FF_CANCELLED, MG_DEV_FF_ERROR
} mg_detect_face_failure;

/* A borrowed string: not NUL-terminated in general. */
typedef struct mg_detect_str {
  const char *p;
  size_t n;
} mg_detect_str;

typedef struct mg_detect_event {
  mg_xapi_kind kind;      /* MG_XAPI_KIND_NONE: not a profile statement (ignored by detectors) */
  uint8_t id[16];         /* statement id */
  uint64_t id_h;
  int64_t ts_us;          /* timestamp (client clock) */
  int64_t recv_us;        /* received-at (platform server clock); ts_us when absent */
  unsigned has;           /* MG_DEV_HAS_* */

  /* identities (0 = absent) */
  uint64_t actor;         /* account homePage + name */
  uint64_t reg;           /* context.registration */
  uint64_t course, offering, platform;
  uint64_t object;        /* object.id */
  uint64_t parent;        /* first contextActivities.parent id */
  uint64_t device, ip, ip_net, ua, ua_family, csess, vsess, attempt, capture, post;
  uint64_t response;      /* hash of result.response (also for "") */
  uint64_t cam_dev[2];    /* cameras[]: primary, secondary device-id */

  /* numbers */
  int64_t client_seq;
  double time, time_from, time_to, progress, length, speed, max_speed, volume, threshold;
  double duration;        /* result.duration in seconds */
  double score;           /* result.score.scaled */
  double face_threshold;
  int input_count;        /* -1 absent */
  int attempt_number;     /* 0 absent */
  int camera_count, cameras_required; /* -1 absent */
  int desc_chars;         /* characters (code points) of object.definition.description, first entry */
  signed char success, completion, offline, visible; /* -1 absent, 0/1 */
  unsigned char akind, login, face_failure, face_purpose, n_cams; /* face_purpose: 1..5 = study-start, study-random, exam-start, exam-random, exam-end */

  /* borrowed text, for findings and evidence */
  mg_detect_str s_home, s_name, s_reg, s_course, s_platform, s_object, s_response;

  char scratch[4096];     /* unescaped strings live here when the text had escapes */
  size_t scratch_used;
} mg_detect_event;

/* 64-bit hash used for every identifier (never returns 0, which means "absent"). */
uint64_t mg_detect_hash(const void *p, size_t n);

/* Extracts the detector fields from one statement's JSON text (as stored: compact or not).
 * MG_OK; MG_EINVAL if the text is not a JSON object or lacks id/timestamp (ev->kind is then NONE).
 * The text is not validated beyond what is needed: the LRS validated it on the way in. */
int mg_detect_event_parse(const char *json, size_t len, mg_detect_event *ev);

/* The same from a parsed statement. Strings borrow from stmt. */
int mg_detect_event_from_json(const mg_json *stmt, mg_detect_event *ev);

#endif
