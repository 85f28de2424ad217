/* Rendering: one event record to one compact statement, shaped like docs/profile-examples/.
 * Hand-written appends instead of a JSON DOM: this runs a few million times per term. */
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "sim/sim_int.h"

#define ADD(lit) mg_buf_add(out, lit, sizeof(lit) - 1)

/* A JSON string with quotes. Every string the simulator writes is its own (world tables, text
 * templates) and free of quotes, backslashes and control characters, so it is copied as is. */
static int add_str(mg_buf *out, const char *s) {
  size_t n = strlen(s);
  int rc = mg_buf_reserve(out, n + 2);
  if (rc) return rc;
  out->data[out->len++] = '"';
  memcpy(out->data + out->len, s, n);
  out->len += n;
  out->data[out->len++] = '"';
  out->data[out->len] = '\0';
  return MG_OK;
}

static const char k_hex[] = "0123456789abcdef";
static void hex(char *dst, uint64_t v, int digits) {
  for (int i = digits - 1; i >= 0; i--, v >>= 4) dst[i] = k_hex[v & 15];
}
/* prefix + digits hex digits of v + suffix, unescaped */
static int add_hex(mg_buf *out, const char *prefix, uint64_t v, int digits, const char *suffix) {
  char tmp[128];
  size_t a = strlen(prefix), b = strlen(suffix);
  if (a + (size_t)digits + b > sizeof tmp) return MG_EINVAL;
  memcpy(tmp, prefix, a);
  hex(tmp + a, v, digits);
  memcpy(tmp + a + (size_t)digits, suffix, b);
  return mg_buf_add(out, tmp, a + (size_t)digits + b);
}

static int u64_dec(char *dst, unsigned long long v) { /* returns length */
  char t[24];
  int n = 0;
  do {
    t[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  for (int i = 0; i < n; i++) dst[i] = t[n - 1 - i];
  return n;
}

/* Numbers: integers without a point, others with up to 3 decimals, trailing zeros dropped. */
static int add_num(mg_buf *out, double v) {
  char tmp[48];
  if (v < 0 && v > -0.0005) v = 0;
  if (v > 1e15 || v < -1e15) v = 0;
  long long m = (long long)(v * 1000.0 + (v >= 0 ? 0.5 : -0.5));
  int n = 0;
  if (m < 0) {
    tmp[n++] = '-';
    m = -m;
  }
  n += u64_dec(tmp + n, (unsigned long long)(m / 1000));
  int frac = (int)(m % 1000);
  if (frac) {
    tmp[n++] = '.';
    tmp[n++] = (char)('0' + frac / 100);
    tmp[n++] = (char)('0' + frac / 10 % 10);
    tmp[n++] = (char)('0' + frac % 10);
    while (tmp[n - 1] == '0') n--;
  }
  return mg_buf_add(out, tmp, (size_t)n);
}

static int add_int(mg_buf *out, long long v) {
  char tmp[24];
  int n = 0;
  if (v < 0) {
    tmp[n++] = '-';
    v = -v;
  }
  n += u64_dec(tmp + n, (unsigned long long)v);
  return mg_buf_add(out, tmp, (size_t)n);
}

static void civil(int64_t days, int *y, int *m, int *d) { /* Howard Hinnant's days_from_civil inverse */
  days += 719468;
  int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  int64_t doe = days - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t yy = yoe + era * 400;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  *d = (int)(doy - (153 * mp + 2) / 5 + 1);
  *m = (int)(mp < 10 ? mp + 3 : mp - 9);
  *y = (int)(yy + (*m <= 2));
}

void mg_sim_format_ts(int64_t us, char out[40]) {
  int64_t local = us + SIM_TZ_US;
  int64_t ms = (local >= 0 ? local : local - 999) / 1000;
  int64_t sec = (ms >= 0 ? ms : ms - 999) / 1000;
  int msr = (int)(ms - sec * 1000);
  int64_t days = (sec >= 0 ? sec : sec - 86399) / 86400;
  int sod = (int)(sec - days * 86400);
  int y, m, d;
  civil(days, &y, &m, &d);
  /* digits by hand: this runs twice per statement */
  static const char tmpl[] = "0000-00-00T00:00:00.000+08:00";
  memcpy(out, tmpl, sizeof tmpl);
  int vals[7] = {y, m, d, sod / 3600, sod / 60 % 60, sod % 60, msr};
  static const int pos[7] = {0, 5, 8, 11, 14, 17, 20}, width[7] = {4, 2, 2, 2, 2, 2, 3};
  for (int i = 0; i < 7; i++) {
    int v = vals[i] < 0 ? 0 : vals[i];
    for (int j = width[i] - 1; j >= 0; j--, v /= 10) out[pos[i] + j] = (char)('0' + v % 10);
  }
}

static int add_ts(mg_buf *out, int64_t us) {
  char t[40];
  mg_sim_format_ts(us, t);
  int rc = mg_buf_addc(out, '"');
  if (!rc) rc = mg_buf_add(out, t, 29);
  if (!rc) rc = mg_buf_addc(out, '"');
  return rc;
}

static int add_dur(mg_buf *out, double s) { /* ISO 8601 duration */
  char tmp[48];
  if (s < 0) s = 0;
  long long ms = (long long)(s * 1000 + 0.5);
  long long h = ms / 3600000, mi = ms / 60000 % 60, sec = ms / 1000 % 60, f = ms % 1000;
  int n;
  if (h)
    n = snprintf(tmp, sizeof tmp, "\"PT%lldH%lldM%lld.%03lldS\"", h, mi, sec, f);
  else if (mi)
    n = snprintf(tmp, sizeof tmp, "\"PT%lldM%lld.%03lldS\"", mi, sec, f);
  else
    n = snprintf(tmp, sizeof tmp, "\"PT%lld.%03lldS\"", sec, f);
  return mg_buf_add(out, tmp, (size_t)n);
}

void mg_sim_uuid(uint64_t seed, uint64_t nonce, char out[40]) {
  uint64_t a = sim_hash(seed, nonce, 0x1D), b = sim_hash(seed, nonce, 0x2E);
  a = (a & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;
  b = (b & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;
  hex(out, a >> 32, 8);
  out[8] = '-';
  hex(out + 9, a >> 16, 4);
  out[13] = '-';
  hex(out + 14, a, 4);
  out[18] = '-';
  hex(out + 19, b >> 48, 4);
  out[23] = '-';
  hex(out + 24, b, 12);
  out[36] = '\0';
}

static int add_device(mg_buf *out, const sim *S, uint32_t dev, int platform) {
  char tmp[66];
  uint64_t raw = S->dev[dev].raw ^ sim_mix((uint64_t)platform + 77);
  tmp[0] = tmp[65] = '"';
  for (int i = 0; i < 4; i++) hex(tmp + 1 + 16 * i, sim_mix(raw + (uint64_t)i), 16);
  return mg_buf_add(out, tmp, 66);
}

static int add_ip(mg_buf *out, const sim_client *cl) {
  char tmp[48];
  uint32_t a = cl->ip;
  int n;
  if (cl->v6)
    n = snprintf(tmp, sizeof tmp, "\"2409:8a%02x:%x:%x::%x\"", (a >> 24) & 0xff, (a >> 8) & 0xffff, a & 0xff,
                 (unsigned)(cl->csid & 0xffff));
  else
  {
    n = 0;
    tmp[n++] = '"';
    for (int i = 3; i >= 0; i--) {
      n += u64_dec(tmp + n, (a >> (8 * i)) & 255);
      tmp[n++] = i ? '.' : '"';
    }
  }
  return mg_buf_add(out, tmp, (size_t)n);
}

static const struct {
  const char *verb, *zh;
} k_verbs[MG_XAPI_KIND_COUNT_] = {
    [MG_XAPI_KIND_SESSION_LOGIN] = {MG_XAPI_VERB_LOGGED_IN, "登录"},
    [MG_XAPI_KIND_SESSION_LOGOUT] = {MG_XAPI_VERB_LOGGED_OUT, "退出登录"},
    [MG_XAPI_KIND_VIDEO_INITIALIZED] = {MG_XAPI_VERB_INITIALIZED, "初始化"},
    [MG_XAPI_KIND_VIDEO_PLAYED] = {MG_XAPI_VERB_PLAYED, "播放"},
    [MG_XAPI_KIND_VIDEO_PAUSED] = {MG_XAPI_VERB_PAUSED, "暂停"},
    [MG_XAPI_KIND_VIDEO_SEEKED] = {MG_XAPI_VERB_SEEKED, "拖动进度"},
    [MG_XAPI_KIND_VIDEO_HEARTBEAT] = {MG_XAPI_VERB_PROGRESSED, "学习进度"},
    [MG_XAPI_KIND_VIDEO_INTERACTED] = {MG_XAPI_VERB_INTERACTED, "调整播放器"},
    [MG_XAPI_KIND_VIDEO_COMPLETED] = {MG_XAPI_VERB_COMPLETED, "完成"},
    [MG_XAPI_KIND_VIDEO_TERMINATED] = {MG_XAPI_VERB_TERMINATED, "关闭视频"},
    [MG_XAPI_KIND_PAGE_VIEWED] = {MG_XAPI_VERB_VIEWED, "阅读"},
    [MG_XAPI_KIND_TASK_COMPLETED] = {MG_XAPI_VERB_COMPLETED, "完成"},
    [MG_XAPI_KIND_DISCUSSION_POSTED] = {MG_XAPI_VERB_POSTED, "发帖"},
    [MG_XAPI_KIND_DISCUSSION_COMMENTED] = {MG_XAPI_VERB_COMMENTED, "回帖"},
    [MG_XAPI_KIND_EXAM_STARTED] = {MG_XAPI_VERB_ATTEMPTED, "开始考试"},
    [MG_XAPI_KIND_ATTEMPT_STARTED] = {MG_XAPI_VERB_ATTEMPTED, "开始作答"},
    [MG_XAPI_KIND_ITEM_ANSWERED_OPEN] = {MG_XAPI_VERB_ANSWERED, "作答"},
    [MG_XAPI_KIND_ITEM_ANSWERED] = {MG_XAPI_VERB_ANSWERED, "作答"},
    [MG_XAPI_KIND_ATTEMPT_SUBMITTED] = {MG_XAPI_VERB_COMPLETED, "交卷"},
    [MG_XAPI_KIND_ATTEMPT_SCORED] = {MG_XAPI_VERB_SCORED, "成绩发布"},
    [MG_XAPI_KIND_FACE_PROMPTED] = {MG_XAPI_VERB_LAUNCHED, "发起人脸核验"},
    [MG_XAPI_KIND_FACE_PASSED] = {MG_XAPI_VERB_PASSED, "人脸核验通过"},
    [MG_XAPI_KIND_FACE_FAILED] = {MG_XAPI_VERB_FAILED, "人脸核验未通过"},
};
static const char *const k_ak[] = {"popup", "quiz", "homework", "exam"};
static const char *const k_lm[] = {"password", "sms", "qr", "sso", "token", "face"};
static const char *const k_fp[] = {"study-start", "study-random", "exam-start", "exam-random", "exam-end"};
static const char *const k_ff[] = {"mismatch", "no-face", "multiple-faces", "liveness", "timeout", "cancelled"};

static int is_video(int k) { return k >= MG_XAPI_KIND_VIDEO_INITIALIZED && k <= MG_XAPI_KIND_VIDEO_TERMINATED; }
static int is_assess(int k) {
  return k == MG_XAPI_KIND_EXAM_STARTED || k == MG_XAPI_KIND_ATTEMPT_STARTED || k == MG_XAPI_KIND_ATTEMPT_SUBMITTED ||
         k == MG_XAPI_KIND_ATTEMPT_SCORED;
}

/* "…/quiz/ch03", "…/exam/final", "…/popup/v007" */
static int add_assess_iri(mg_buf *out, const mg_sim_course *c, int kind, int assess) {
  int rc = mg_buf_addc(out, '"');
  if (!rc) rc = mg_buf_adds(out, c->iri);
  if (rc) return rc;
  if (kind == AK_EXAM) return ADD("/exam/final\"");
  if (kind == AK_POPUP) return mg_buf_addf(out, "/popup/v%03d\"", assess + 1);
  return mg_buf_addf(out, "/quiz/ch%02d\"", assess + 1);
}

static int add_activity(mg_buf *out, const char *id_prefix, const char *type, const char *name) {
  int rc = ADD("{\"objectType\":\"Activity\",\"id\":");
  if (!rc) rc = add_str(out, id_prefix);
  if (!rc) rc = ADD(",\"definition\":{\"type\":");
  if (!rc) rc = add_str(out, type);
  if (!rc && name) {
    rc = ADD(",\"name\":{\"zh-CN\":");
    if (!rc) rc = add_str(out, name);
    if (!rc) rc = mg_buf_addc(out, '}');
  }
  if (!rc) rc = ADD("}}");
  return rc;
}

#define CK(e)            \
  do {                   \
    if ((rc = (e))) goto out; \
  } while (0)

int mg_sim_render(const sim *S, const sim_ev *ev, mg_buf *out) {
  int rc = MG_OK;
  const sim_enr *E = &S->e[ev->enrol];
  const mg_sim_course *c = &S->course[E->course];
  const mg_sim_platform *p = &S->plat[c->platform];
  const mg_sim_student *st = &S->stud[E->student];
  const mg_sim_university *u = &S->univ[st->university];
  int k = ev->kind;
  char id[40];
  mg_sim_uuid(S->cfg.seed, ev->nonce, id);
  CK(ADD("{\"id\":\""));
  CK(mg_buf_add(out, id, 36));
  CK(ADD("\",\"actor\":{\"objectType\":\"Agent\",\"account\":{\"homePage\":"));
  CK(add_str(out, u->home_page));
  CK(ADD(",\"name\":"));
  CK(add_str(out, st->name));
  CK(ADD("}},\"verb\":{\"id\":"));
  CK(add_str(out, k_verbs[k].verb));
  CK(ADD(",\"display\":{\"zh-CN\":"));
  CK(add_str(out, k_verbs[k].zh));
  CK(ADD("}},\"object\":{\"objectType\":\"Activity\",\"id\":\""));
  /* ---- object ---- */
  const mg_sim_video *vid = is_video(k) && ev->obj >= 0 ? &c->videos[ev->obj] : NULL;
  const mg_sim_item *item = NULL;
  if (k == MG_XAPI_KIND_SESSION_LOGIN || k == MG_XAPI_KIND_SESSION_LOGOUT) {
    CK(mg_buf_adds(out, p->home));
    CK(ADD("\",\"definition\":{\"type\":\"" MG_XAPI_TYPE_PLATFORM "\",\"name\":{\"zh-CN\":"));
    CK(add_str(out, p->name));
    CK(ADD("}}}"));
  } else if (vid) {
    CK(mg_buf_adds(out, vid->iri));
    CK(ADD("\",\"definition\":{\"type\":\"" MG_XAPI_TYPE_VIDEO "\",\"name\":{\"zh-CN\":"));
    CK(add_str(out, vid->title));
    CK(ADD("}}}"));
  } else if (k == MG_XAPI_KIND_PAGE_VIEWED || k == MG_XAPI_KIND_TASK_COMPLETED) {
    CK(mg_buf_adds(out, c->iri));
    if (k == MG_XAPI_KIND_PAGE_VIEWED)
      CK(mg_buf_addf(out, "/doc/ch%02d-notes\",\"definition\":{\"type\":\"http://id.tincanapi.com/activitytype/document\","
                          "\"name\":{\"zh-CN\":\"第%d章 课件\"}}}", ev->obj + 1, ev->obj + 1));
    else
      CK(mg_buf_addf(out, "/task/ch%02d-notes\",\"definition\":{\"type\":\"http://adlnet.gov/expapi/activities/lesson\","
                          "\"name\":{\"zh-CN\":\"任务点：阅读第%d章课件\"}}}", ev->obj + 1, ev->obj + 1));
  } else if (k == MG_XAPI_KIND_DISCUSSION_POSTED || k == MG_XAPI_KIND_DISCUSSION_COMMENTED) {
    CK(mg_buf_adds(out, c->iri));
    if (k == MG_XAPI_KIND_DISCUSSION_POSTED)
      CK(mg_buf_addf(out, "/forum/topic/%llx\"", (unsigned long long)(sim_mix(ev->nonce) & 0xffffffffff)));
    else
      CK(mg_buf_addf(out, "/forum/topic/%d\"", ev->obj + 1));
    CK(ADD(",\"definition\":{\"type\":\"http://id.tincanapi.com/activitytype/forum-topic\"}}"));
  } else if (is_assess(k)) {
    out->len--; /* reopen: the IRI helper writes its own quote */
    CK(add_assess_iri(out, c, ev->sub, ev->obj));
    CK(ADD(",\"definition\":{\"type\":\"" MG_XAPI_TYPE_ASSESSMENT "\"}}"));
  } else if (k == MG_XAPI_KIND_ITEM_ANSWERED || k == MG_XAPI_KIND_ITEM_ANSWERED_OPEN) {
    item = &c->items[ev->obj];
    CK(mg_buf_adds(out, item->iri));
    CK(ADD("\",\"definition\":{\"type\":\"" MG_XAPI_TYPE_INTERACTION "\",\"description\":{\"zh-CN\":"));
    CK(add_str(out, item->stem));
    CK(ADD("},\"interactionType\":"));
    CK(add_str(out, item->interaction));
    if (k == MG_XAPI_KIND_ITEM_ANSWERED) {
      CK(ADD(",\"correctResponsesPattern\":["));
      CK(add_str(out, item->correct));
      CK(ADD("]"));
      if (!strcmp(item->interaction, "choice"))
        CK(ADD(",\"choices\":[{\"id\":\"a\",\"description\":{\"zh-CN\":\"A\"}},{\"id\":\"b\",\"description\":{\"zh-CN\":\"B\"}},"
               "{\"id\":\"c\",\"description\":{\"zh-CN\":\"C\"}},{\"id\":\"d\",\"description\":{\"zh-CN\":\"D\"}}]"));
    }
    CK(ADD("}}"));
  } else { /* face checks */
    CK(mg_buf_adds(out, p->home));
    CK(mg_buf_addf(out, "/face-check/fc-%016llx\",\"definition\":{\"type\":\"" MG_XAPI_TYPE_FACE_CHECK "\"}}",
                   (unsigned long long)ev->ref));
  }
  /* ---- result ---- */
  switch (k) {
    case MG_XAPI_KIND_SESSION_LOGOUT:
      CK(ADD(",\"result\":{\"duration\":"));
      CK(add_dur(out, ev->f[0]));
      CK(ADD("}"));
      break;
    case MG_XAPI_KIND_VIDEO_PLAYED:
    case MG_XAPI_KIND_VIDEO_INTERACTED:
      CK(ADD(",\"result\":{\"extensions\":{\"" MG_XAPI_VIDEO_TIME "\":"));
      CK(add_num(out, ev->f[0]));
      CK(ADD("}}"));
      break;
    case MG_XAPI_KIND_VIDEO_SEEKED:
      CK(ADD(",\"result\":{\"extensions\":{\"" MG_XAPI_VIDEO_TIME_FROM "\":"));
      CK(add_num(out, ev->f[0]));
      CK(ADD(",\"" MG_XAPI_VIDEO_TIME_TO "\":"));
      CK(add_num(out, ev->f[1]));
      CK(ADD("}}"));
      break;
    case MG_XAPI_KIND_VIDEO_HEARTBEAT:
    case MG_XAPI_KIND_VIDEO_PAUSED:
    case MG_XAPI_KIND_VIDEO_COMPLETED:
    case MG_XAPI_KIND_VIDEO_TERMINATED:
      CK(ADD(",\"result\":{"));
      if (k == MG_XAPI_KIND_VIDEO_COMPLETED) {
        CK(ADD("\"completion\":true,\"duration\":"));
        CK(add_dur(out, ev->f[3]));
        CK(ADD(","));
      } else if (k == MG_XAPI_KIND_VIDEO_TERMINATED && ev->f[3] > 0) {
        CK(ADD("\"duration\":"));
        CK(add_dur(out, ev->f[3]));
        CK(ADD(","));
      }
      CK(ADD("\"extensions\":{\"" MG_XAPI_VIDEO_TIME "\":"));
      CK(add_num(out, ev->f[0]));
      CK(ADD(",\"" MG_XAPI_VIDEO_PROGRESS "\":"));
      CK(add_num(out, ev->f[1] > 1 ? 1 : ev->f[1]));
      if (ev->s) {
        CK(ADD(",\"" MG_XAPI_VIDEO_PLAYED_SEGMENTS "\":"));
        CK(add_str(out, ev->s));
      }
      CK(ADD("}}"));
      break;
    case MG_XAPI_KIND_PAGE_VIEWED:
      CK(ADD(",\"result\":{\"duration\":"));
      CK(add_dur(out, ev->f[0]));
      CK(ADD("}"));
      break;
    case MG_XAPI_KIND_TASK_COMPLETED:
      CK(ADD(",\"result\":{\"completion\":true,\"duration\":"));
      CK(add_dur(out, ev->f[0]));
      CK(ADD("}"));
      break;
    case MG_XAPI_KIND_DISCUSSION_POSTED:
    case MG_XAPI_KIND_DISCUSSION_COMMENTED:
      CK(ADD(",\"result\":{\"response\":"));
      CK(add_str(out, ev->s ? ev->s : ""));
      CK(ADD("}"));
      break;
    case MG_XAPI_KIND_ITEM_ANSWERED:
    case MG_XAPI_KIND_ITEM_ANSWERED_OPEN:
      CK(ADD(",\"result\":{\"response\":"));
      CK(add_str(out, ev->s ? ev->s : ""));
      if (k == MG_XAPI_KIND_ITEM_ANSWERED)
        CK((ev->flags & EVF_SUCCESS) ? ADD(",\"success\":true") : ADD(",\"success\":false"));
      CK(ADD(",\"duration\":"));
      CK(add_dur(out, ev->f[0]));
      CK(ADD("}"));
      break;
    case MG_XAPI_KIND_ATTEMPT_SUBMITTED:
    case MG_XAPI_KIND_ATTEMPT_SCORED:
      CK(ADD(",\"result\":{"));
      if (k == MG_XAPI_KIND_ATTEMPT_SUBMITTED) {
        CK(ADD("\"completion\":true,\"duration\":"));
        CK(add_dur(out, ev->f[0]));
        CK(ADD(","));
      }
      CK((ev->flags & EVF_SUCCESS) ? ADD("\"success\":true") : ADD("\"success\":false"));
      CK(ADD(",\"score\":{\"raw\":"));
      CK(add_num(out, ev->f[1]));
      CK(ADD(",\"min\":0,\"max\":"));
      CK(add_num(out, ev->f[2]));
      CK(ADD(",\"scaled\":"));
      CK(add_num(out, ev->f[2] > 0 ? ev->f[1] / ev->f[2] : 0));
      CK(ADD("}}"));
      break;
    case MG_XAPI_KIND_FACE_PASSED:
    case MG_XAPI_KIND_FACE_FAILED:
      CK(k == MG_XAPI_KIND_FACE_PASSED ? ADD(",\"result\":{\"success\":true") : ADD(",\"result\":{\"success\":false"));
      if (k == MG_XAPI_KIND_FACE_PASSED || ev->f[0] > 0) {
        CK(ADD(",\"score\":{\"scaled\":"));
        CK(add_num(out, ev->f[0]));
        CK(ADD("}"));
      }
      CK(ADD(",\"duration\":"));
      CK(add_dur(out, ev->f[1]));
      CK(ADD("}"));
      break;
    default:
      break;
  }
  /* ---- context ---- */
  int course_bound = k != MG_XAPI_KIND_SESSION_LOGIN && k != MG_XAPI_KIND_SESSION_LOGOUT;
  CK(ADD(",\"context\":{"));
  if (course_bound) {
    CK(ADD("\"registration\":\""));
    CK(mg_buf_adds(out, S->enrol[ev->enrol].registration));
    CK(ADD("\","));
  }
  CK(ADD("\"platform\":"));
  CK(add_str(out, p->name));
  CK(ADD(",\"language\":\"zh-CN\",\"contextActivities\":{\"category\":[{\"objectType\":\"Activity\",\"id\":\"" MG_XAPI_PROFILE_IRI
         "\",\"definition\":{\"type\":\"" MG_XAPI_PROFILE_ACTIVITY_TYPE "\"}}"));
  if (is_video(k))
    CK(ADD(",{\"objectType\":\"Activity\",\"id\":\"" MG_XAPI_VIDEO_PROFILE_IRI "\",\"definition\":{\"type\":\"" MG_XAPI_PROFILE_ACTIVITY_TYPE
           "\"}}"));
  CK(ADD("]"));
  if (course_bound) {
    CK(ADD(",\"grouping\":["));
    CK(add_activity(out, c->iri, MG_XAPI_TYPE_COURSE, c->title));
    CK(ADD(","));
    CK(add_activity(out, c->offering_iri, MG_XAPI_TYPE_OFFERING, NULL));
    CK(ADD("]"));
    /* parent */
    char tmp[600];
    if (vid || k == MG_XAPI_KIND_PAGE_VIEWED || k == MG_XAPI_KIND_TASK_COMPLETED ||
        (k != MG_XAPI_KIND_ATTEMPT_SCORED && is_assess(k) && ev->sub == AK_QUIZ)) {
      int ch = vid ? vid->chapter : ev->obj + 1;
      CK(ADD(",\"parent\":[{\"objectType\":\"Activity\",\"id\":\""));
      CK(mg_buf_adds(out, c->iri));
      CK(ADD("/chapter/"));
      CK(add_int(out, ch));
      CK(ADD("\",\"definition\":{\"type\":\"http://adlnet.gov/expapi/activities/module\"}}]"));
    } else if (is_assess(k) && ev->sub == AK_POPUP) {
      CK(ADD(",\"parent\":["));
      CK(add_activity(out, c->videos[ev->obj].iri, MG_XAPI_TYPE_VIDEO, NULL));
      CK(ADD("]"));
    } else if (item) {
      CK(ADD(",\"parent\":[{\"objectType\":\"Activity\",\"id\":"));
      CK(add_assess_iri(out, c, ev->sub, ev->i1));
      CK(ADD(",\"definition\":{\"type\":\"" MG_XAPI_TYPE_ASSESSMENT "\"}}]"));
    } else if (k == MG_XAPI_KIND_DISCUSSION_POSTED || k == MG_XAPI_KIND_DISCUSSION_COMMENTED) {
      snprintf(tmp, sizeof tmp, "%s/forum", c->iri);
      CK(ADD(",\"parent\":["));
      CK(add_activity(out, tmp, "http://id.tincanapi.com/activitytype/discussion", NULL));
      CK(ADD("]"));
    } else if (k >= MG_XAPI_KIND_FACE_PROMPTED) {
      if (ev->flags & EVF_PARENT_EXAM) {
        CK(ADD(",\"parent\":[{\"objectType\":\"Activity\",\"id\":"));
        CK(add_assess_iri(out, c, AK_EXAM, 0));
        CK(ADD(",\"definition\":{\"type\":\"" MG_XAPI_TYPE_ASSESSMENT "\"}}]"));
      } else if (ev->obj >= 0) {
        CK(ADD(",\"parent\":["));
        CK(add_activity(out, c->videos[ev->obj].iri, MG_XAPI_TYPE_VIDEO, NULL));
        CK(ADD("]"));
      }
    }
  }
  CK(ADD("},\"extensions\":{\"" MG_XAPI_EXT_PLATFORM_CODE "\":"));
  CK(add_str(out, p->code));
  CK(ADD(",\"" MG_XAPI_EXT_RECEIVED_AT "\":"));
  CK(add_ts(out, ev->recv));
  const sim_client *cl = ev->cl;
  if (cl) {
    CK(ADD(",\"" MG_XAPI_EXT_CLIENT_IP "\":"));
    CK(add_ip(out, cl));
    CK(ADD(",\"" MG_XAPI_EXT_DEVICE_ID "\":"));
    CK(add_device(out, S, cl->device, c->platform));
    CK(ADD(",\"" MG_XAPI_EXT_USER_AGENT "\":"));
    CK(add_str(out, mg_sim_user_agents[S->dev[cl->device].ua]));
    CK(add_hex(out, ",\"" MG_XAPI_EXT_CLIENT_SESSION_ID "\":\"cs-", cl->csid, 12, "\",\"" MG_XAPI_EXT_CLIENT_SEQ "\":"));
    CK(add_int(out, ev->seq));
    if (cl->offline) CK(ADD(",\"" MG_XAPI_EXT_OFFLINE "\":true"));
  }
  if (k == MG_XAPI_KIND_SESSION_LOGIN) {
    CK(ADD(",\"" MG_XAPI_EXT_LOGIN_METHOD "\":"));
    CK(add_str(out, k_lm[ev->sub]));
  }
  if (vid) {
    CK(ADD(",\"" MG_XAPI_VIDEO_SESSION_ID "\":\""));
    mg_sim_uuid(S->cfg.seed, ev->ref, id);
    CK(mg_buf_add(out, id, 36));
    CK(ADD("\",\"" MG_XAPI_VIDEO_LENGTH "\":"));
    CK(add_num(out, vid->length));
    if (k != MG_XAPI_KIND_VIDEO_SEEKED) {
      CK(ADD(",\"" MG_XAPI_VIDEO_SPEED "\":\""));
      CK(add_num(out, ev->f[2] > 0 ? ev->f[2] : 1));
      CK(ADD("x\""));
    }
    if (k == MG_XAPI_KIND_VIDEO_INITIALIZED) {
      CK(ADD(",\"" MG_XAPI_EXT_MAX_SPEED "\":"));
      CK(add_num(out, p->max_speed));
      CK(ADD(",\"" MG_XAPI_VIDEO_COMPLETION_THRESHOLD "\":"));
      CK(add_num(out, p->completion_threshold));
    }
    if (k == MG_XAPI_KIND_VIDEO_HEARTBEAT || k == MG_XAPI_KIND_VIDEO_PLAYED || k == MG_XAPI_KIND_VIDEO_INITIALIZED ||
        k == MG_XAPI_KIND_VIDEO_INTERACTED || k == MG_XAPI_KIND_VIDEO_PAUSED) {
      CK(ADD(",\"" MG_XAPI_VIDEO_VOLUME "\":"));
      CK(add_num(out, ev->f[3]));
      CK((ev->flags & EVF_QUALITY_LOW) ? ADD(",\"" MG_XAPI_VIDEO_QUALITY "\":\"360\"")
                                       : ADD(",\"" MG_XAPI_VIDEO_QUALITY "\":\"720\""));
      CK((ev->flags & EVF_HIDDEN) ? ADD(",\"" MG_XAPI_EXT_VISIBLE "\":false") : ADD(",\"" MG_XAPI_EXT_VISIBLE "\":true"));
    }
    if (k == MG_XAPI_KIND_VIDEO_HEARTBEAT && ev->i1 >= 0) {
      CK(ADD(",\"" MG_XAPI_EXT_INPUT_COUNT "\":"));
      CK(add_int(out, ev->i1));
    }
  }
  if (k == MG_XAPI_KIND_PAGE_VIEWED) {
    CK(ADD(",\"" MG_XAPI_EXT_VISIBLE "\":true,\"" MG_XAPI_EXT_INPUT_COUNT "\":"));
    CK(add_int(out, ev->i1 < 0 ? 0 : ev->i1));
  }
  if (k == MG_XAPI_KIND_DISCUSSION_COMMENTED)
    CK(mg_buf_addf(out, ",\"" MG_XAPI_EXT_POST_ID "\":\"p-%012llx\"", (unsigned long long)(sim_mix(ev->nonce) & 0xffffffffffffULL)));
  if (is_assess(k) || item) {
    CK(add_hex(out, ",\"" MG_XAPI_EXT_ATTEMPT_ID "\":\"att-", ev->ref, 16, "\",\"" MG_XAPI_EXT_ASSESSMENT_KIND "\":"));
    CK(add_str(out, k_ak[ev->sub]));
    if (k == MG_XAPI_KIND_ATTEMPT_STARTED || k == MG_XAPI_KIND_EXAM_STARTED) {
      CK(ADD(",\"" MG_XAPI_EXT_ATTEMPT_NUMBER "\":"));
      CK(add_int(out, ev->i1 < 1 ? 1 : ev->i1));
    }
    if (k == MG_XAPI_KIND_EXAM_STARTED && cl) {
      int cams = (int)ev->f[0];
      CK(mg_buf_addf(out, ",\"" MG_XAPI_EXT_CAMERAS_REQUIRED "\":2,\"" MG_XAPI_EXT_CAMERA_COUNT "\":%d", cams));
      CK(ADD(",\"" MG_XAPI_EXT_CAMERAS "\":[{\"role\":\"primary\",\"device-id\":"));
      CK(add_device(out, S, cl->device, c->platform));
      CK(ADD("}"));
      if (cams > 1 && ev->i2 >= 0 && (uint32_t)ev->i2 != UINT32_MAX) {
        CK(ADD(",{\"role\":\"secondary\",\"device-id\":"));
        CK(add_device(out, S, (uint32_t)ev->i2, c->platform));
        CK(ADD("}"));
      }
      CK(ADD("]"));
    }
  }
  if (k >= MG_XAPI_KIND_FACE_PROMPTED) {
    CK(ADD(",\"" MG_XAPI_EXT_FACE_PURPOSE "\":"));
    CK(add_str(out, k_fp[ev->sub]));
    if (k != MG_XAPI_KIND_FACE_PROMPTED) {
      CK(ADD(",\"" MG_XAPI_EXT_FACE_THRESHOLD "\":0.8"));
      CK(mg_buf_addf(out, ",\"" MG_XAPI_EXT_CAPTURE_ID "\":\"cap-%012llx\"", (unsigned long long)(sim_mix(ev->nonce) & 0xffffffffffffULL)));
    }
    if (k == MG_XAPI_KIND_FACE_FAILED) {
      CK(ADD(",\"" MG_XAPI_EXT_FACE_FAILURE "\":"));
      CK(add_str(out, k_ff[ev->i1 >= 0 && ev->i1 <= FF_CANCELLED ? ev->i1 : 0]));
    }
  }
  CK(ADD("}},\"timestamp\":"));
  CK(add_ts(out, ev->ts));
  CK(ADD(",\"version\":\"2.0.0\"}"));
out:
  return rc;
}
