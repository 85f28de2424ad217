/* bench/gen.h — code shared by the HTTP benches (bench/ingest.c, bench/query.c).
 *
 * Three parts, all `static inline` so that each bench is one translation unit (bench/CMakeLists.txt
 * makes every bench/<name>.c its own executable, so a shared .c would become a bogus bench):
 *   1. gen_*  a deterministic workload generator: a world of universities, platforms, courses and
 *             students, and statements shaped like docs/profile-examples/ (video Profile
 *             events and heartbeats, page views, quiz items and attempts, exams, face checks,
 *             discussions, logins), ~2 KB each as compact JSON. Statement i of a seed is always
 *             the same statement, so a query bench can rebuild a store and know what is in it.
 *   2. bh_*   a minimal blocking HTTP/1.1 keep-alive client over POSIX sockets (no libcurl).
 *   3. bh_launch/bh_stop  starting `moocguard serve` on a temporary or given store.
 * Buffers returned by these functions are owned by the structure they live in (gen_world,
 * bh_conn, bh_server) and freed by its *_free / bh_stop. */
#ifndef MG_BENCH_GEN_H
#define MG_BENCH_GEN_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/err.h"

/* ============================================================================================
 * 1. Workload generator
 * ========================================================================================== */

static inline uint64_t gen_mix(uint64_t x) { /* splitmix64 finaliser: a good 64-bit hash */
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

static inline uint64_t gen_h(uint64_t seed, uint64_t a, uint64_t b) {
  return gen_mix(seed ^ gen_mix(a * 0x100000001b3ULL ^ gen_mix(b + 0x51ed27ULL)));
}

typedef struct gen_rng {
  uint64_t s;
} gen_rng;

static inline uint64_t gen_next(gen_rng *r) {
  r->s += 0x9e3779b97f4a7c15ULL;
  return gen_mix(r->s);
}

static inline uint32_t gen_below(gen_rng *r, uint32_t n) { return (uint32_t)(gen_next(r) % n); }

static inline double gen_unit(gen_rng *r) { return (double)(gen_next(r) >> 11) / 9007199254740992.0; }

/* Writes a version-4-shaped UUID made from two 64-bit values (deterministic, not random). */
static inline void gen_uuid_text(uint64_t hi, uint64_t lo, char out[37]) {
  static const char hx[] = "0123456789abcdef";
  uint8_t b[16];
  for (int i = 0; i < 8; i++) {
    b[i] = (uint8_t)(hi >> (56 - 8 * i));
    b[8 + i] = (uint8_t)(lo >> (56 - 8 * i));
  }
  b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
  b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
  int o = 0;
  for (int i = 0; i < 16; i++) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out[o++] = '-';
    out[o++] = hx[b[i] >> 4];
    out[o++] = hx[b[i] & 15];
  }
  out[o] = '\0';
}

static inline void gen_hex(uint64_t seed, int nchars, char *out) {
  static const char hx[] = "0123456789abcdef";
  uint64_t v = 0;
  for (int i = 0; i < nchars; i++) {
    if (i % 16 == 0) v = gen_mix(seed + (uint64_t)i);
    out[i] = hx[v & 15];
    v >>= 4;
  }
  out[nchars] = '\0';
}

typedef struct gen_platform {
  const char *name; /* context.platform */
  const char *base; /* activity IRI prefix */
  const char *code; /* platform-code extension */
  const char *app;  /* name in the mobile app's user agent */
} gen_platform;

static const gen_platform gen_platforms[] = {
    {"示例慕课 Example MOOC", "https://mooc.example.cn", "cn-example-mooc", "ExampleMOOC/5.12.0"},
    {"学堂示例 Xuetang Example", "https://www.xuetang.example.cn", "cn-xuetang-example",
     "XuetangExample/6.3.1"},
    {"智学示例 Zhixue Example", "https://zhixue.example.com.cn", "cn-zhixue-example",
     "ZhixueExample/4.8.2"},
    {"星空在线 Xingkong Online", "https://mooc.xingkong.example.cn", "cn-xingkong-online",
     "XingkongOnline/3.1.0"},
};
#define GEN_N_PLATFORMS (sizeof gen_platforms / sizeof gen_platforms[0])

/* Identity-provider home pages of universities (fictional host names under edu.cn). */
static const char *const gen_universities[] = {
    "https://ids.example-university.edu.cn", "https://ids.bjlg-example.edu.cn",
    "https://cas.hdsf-example.edu.cn",       "https://ids.zjgs-example.edu.cn",
    "https://sso.whkj-example.edu.cn",       "https://ids.scnu-example.edu.cn",
    "https://authserver.xbgy-example.edu.cn", "https://ids.dlhs-example.edu.cn",
    "https://cas.cqyd-example.edu.cn",       "https://ids.gxmz-example.edu.cn",
    "https://ids.hnny-example.edu.cn",       "https://sso.sdjz-example.edu.cn",
    "https://ids.ynsf-example.edu.cn",       "https://authserver.jlcj-example.edu.cn",
    "https://ids.fjyk-example.edu.cn",       "https://cas.nmgd-example.edu.cn",
};
#define GEN_N_UNIVERSITIES (sizeof gen_universities / sizeof gen_universities[0])

typedef struct gen_subject {
  const char *code, *zh, *en;
} gen_subject;

static const gen_subject gen_subjects[] = {
    {"DS", "数据结构", "Data Structures"},
    {"OS", "操作系统", "Operating Systems"},
    {"CN", "计算机网络", "Computer Networks"},
    {"CALC", "高等数学", "Advanced Mathematics"},
    {"LA", "线性代数", "Linear Algebra"},
    {"PS", "概率论与数理统计", "Probability and Statistics"},
    {"PHY", "大学物理", "College Physics"},
    {"CHEM", "有机化学", "Organic Chemistry"},
    {"ECON", "微观经济学", "Microeconomics"},
    {"PSY", "心理学与生活", "Psychology and Life"},
    {"ENG", "大学英语", "College English"},
    {"CPRG", "C语言程序设计", "C Programming"},
    {"PY", "Python语言程序设计", "Python Programming"},
    {"ML", "机器学习", "Machine Learning"},
    {"HIST", "中国近现代史纲要", "Outline of Modern Chinese History"},
    {"ETH", "思想道德与法治", "Ethics and Rule of Law"},
    {"MARX", "马克思主义基本原理", "Principles of Marxism"},
    {"ACC", "会计学原理", "Principles of Accounting"},
    {"MGT", "管理学", "Management"},
    {"LAW", "宪法学", "Constitutional Law"},
};
#define GEN_N_SUBJECTS (sizeof gen_subjects / sizeof gen_subjects[0])

static const char *const gen_surnames[] = {"王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周",
                                           "徐", "孙", "马", "朱", "胡", "郭", "何", "林", "罗", "高"};
static const char *const gen_given[] = {"伟", "芳", "娜", "敏", "静", "磊", "洋", "艳", "勇", "杰",
                                        "娟", "涛", "明", "超", "秀英", "霞", "平", "刚", "桂英", "浩然",
                                        "子涵", "欣怡", "梓轩", "思远", "雨桐", "宇航", "嘉怡", "俊杰"};

#define GEN_CHAPTERS 12
#define GEN_VIDEOS_PER_CHAPTER 4
#define GEN_ENROLMENTS 6   /* courses per student */
#define GEN_DAYS 126       /* an 18-week semester */
/* 2024-09-02T00:00:00+08:00, the semester's first day, as Unix seconds. */
#define GEN_SEMESTER_START 1725206400LL

typedef struct gen_world {
  uint64_t seed;
  uint32_t students;
  uint32_t courses;
  /* Lean statements (≈1 KB): what a platform sends in steady state under docs/profile.md — no
   * actor name (§16), no verb display, activities with definition.type only (names, item stems
   * and choices go out once, with the catalogue), no context.language. Still profile-conformant.
   * 0 = full (≈2.6 KB): every optional name and description on every statement. */
  int lean;
} gen_world;

static inline void gen_world_init(gen_world *w, uint64_t seed, uint32_t students, uint32_t courses) {
  w->lean = 0;
  w->seed = seed;
  w->students = students ? students : 1;
  w->courses = courses ? courses : 1;
}

/* The course student s takes as their j-th enrolment, and that enrolment's registration. */
static inline uint32_t gen_course_of(const gen_world *w, uint32_t s, uint32_t j) {
  return (uint32_t)(gen_h(w->seed, 1000 + s, j) % w->courses);
}

static inline void gen_registration(const gen_world *w, uint32_t s, uint32_t j, char out[37]) {
  gen_uuid_text(gen_h(w->seed, 2000 + s, j), gen_h(w->seed, 3000 + s, j), out);
}

/* Student number: entry year, college, serial within the university (unique per university). */
static inline void gen_student_number(const gen_world *w, uint32_t s, char out[24]) {
  uint32_t year = 2021 + (uint32_t)(gen_h(w->seed, 4000, s) % 4);
  uint32_t college = 1 + (uint32_t)(gen_h(w->seed, 4001, s) % 30);
  snprintf(out, 24, "%u%02u%05u", year, college, s / (uint32_t)GEN_N_UNIVERSITIES);
}

static inline const char *gen_home_page(uint32_t s) { return gen_universities[s % GEN_N_UNIVERSITIES]; }

static inline const gen_platform *gen_platform_of(const gen_world *w, uint32_t c) {
  return &gen_platforms[gen_h(w->seed, 5000, c) % GEN_N_PLATFORMS];
}

static inline const gen_subject *gen_subject_of(uint32_t c) { return &gen_subjects[c % GEN_N_SUBJECTS]; }

/* Course IRI, e.g. https://mooc.example.cn/course/DS101. */
static inline void gen_course_iri(const gen_world *w, uint32_t c, char *out, size_t size) {
  snprintf(out, size, "%s/course/%s%u", gen_platform_of(w, c)->base, gen_subject_of(c)->code,
           101 + c / (uint32_t)GEN_N_SUBJECTS);
}

/* Sticky-error writer over an mg_buf, so rendering code reads as a template. */
typedef struct gen_w {
  mg_buf *b;
  int err;
  int lean; /* gen_world.lean */
} gen_w;

static inline void gw_s(gen_w *w, const char *s) {
  if (!w->err) w->err = mg_buf_adds(w->b, s);
}

static inline void gw_f(gen_w *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline void gw_f(gen_w *w, const char *fmt, ...) {
  if (w->err) return;
  va_list ap;
  va_start(ap, fmt);
  w->err = mg_buf_vaddf(w->b, fmt, ap);
  va_end(ap);
}

/* Formats local time (UTC+8) given Unix seconds and milliseconds. */
static inline void gen_local_iso(int64_t unix_s, int ms, char out[40]) {
  int64_t t = unix_s + 8 * 3600;
  int64_t days = t / 86400, sod = t % 86400;
  int64_t z = days + 719468; /* civil_from_days, Howard Hinnant's method */
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  int d = (int)(doy - (153 * mp + 2) / 5 + 1);
  int m = (int)(mp < 10 ? mp + 3 : mp - 9);
  int64_t y = yoe + era * 400 + (m <= 2);
  snprintf(out, 40, "%04d-%02d-%02dT%02d:%02d:%02d.%03d+08:00", (int)y, m, d, (int)(sod / 3600),
           (int)(sod / 60 % 60), (int)(sod % 60), ms);
}

/* Statement kinds and their relative weights in the mix; heartbeats (45%) dominate, as on real
 * platforms that report video progress every 30 seconds. */
enum {
  GK_HEARTBEAT, GK_PLAYED, GK_PAUSED, GK_SEEKED, GK_INTERACTED, GK_VINIT, GK_VTERM, GK_VCOMPLETED,
  GK_PAGE, GK_TASK, GK_ITEM, GK_ITEM_OPEN, GK_ATTEMPT, GK_SUBMITTED, GK_FACE_PROMPT, GK_FACE_PASS,
  GK_FACE_FAIL, GK_EXAM, GK_SCORED, GK_POSTED, GK_COMMENTED, GK_LOGIN, GK_LOGOUT, GK_N
};
static const uint16_t gen_weights[GK_N] = {
    4400, 800, 700, 350, 150, 300, 280, 150, 750, 200, 650, 100, 120, 110,
    80,   70,  15,  20,  20,  40,  80,  190, 150};

static inline int gen_pick_kind(gen_rng *r) {
  uint32_t total = 0;
  for (int k = 0; k < GK_N; k++) total += gen_weights[k];
  uint32_t x = gen_below(r, total);
  for (int k = 0; k < GK_N; k++) {
    if (x < gen_weights[k]) return k;
    x -= gen_weights[k];
  }
  return GK_HEARTBEAT;
}

/* Study hours (local): mostly evenings, some daytime, little at night. Weights per hour 0..23. */
static const uint8_t gen_hour_w[24] = {3, 1, 1, 0, 0, 0, 1, 3, 6, 8, 9, 8, 5, 6, 8, 9, 8, 7, 7, 12, 16, 17, 14, 8};

static inline int gen_pick_hour(gen_rng *r) {
  uint32_t total = 0;
  for (int h = 0; h < 24; h++) total += gen_hour_w[h];
  uint32_t x = gen_below(r, total);
  for (int h = 0; h < 24; h++) {
    if (x < gen_hour_w[h]) return h;
    x -= gen_hour_w[h];
  }
  return 20;
}

static const char *const gen_desktop_ua[] = {
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/122.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/121.0.0.0 Safari/537.36 Edg/121.0.0.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.3 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_3 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Mobile/15E148 MicroMessenger/8.0.47(0x18002f2c) NetType/WIFI Language/zh_CN",
};
static const char *const gen_phones[] = {"Android 14; Xiaomi 23127PN0CC", "Android 13; HUAWEI NOH-AN00",
                                         "Android 14; OPPO PJZ110", "Android 13; vivo V2309A",
                                         "iOS 17.3; iPhone15,2"};

/* Everything one statement needs, drawn from statement index i. */
typedef struct gen_ctx {
  const gen_world *w;
  gen_rng r;
  uint32_t s, j, c, chapter, video;
  const gen_platform *pf;
  const gen_subject *sub;
  char course[160], reg[37], sno[24], ts[40], rx[40], devid[65];
  int64_t unix_s;
} gen_ctx;

static inline void gen_actor(gen_w *o, gen_ctx *x) {
  if (o->lean) {
    gw_f(o, "\"actor\":{\"account\":{\"homePage\":\"%s\",\"name\":\"%s\"}}", gen_home_page(x->s), x->sno);
    return;
  }
  const char *sur = gen_surnames[gen_h(x->w->seed, 6000, x->s) % (sizeof gen_surnames / sizeof *gen_surnames)];
  const char *giv = gen_given[gen_h(x->w->seed, 6001, x->s) % (sizeof gen_given / sizeof *gen_given)];
  gw_f(o, "\"actor\":{\"objectType\":\"Agent\",\"name\":\"%s%s\",\"account\":{\"homePage\":\"%s\","
          "\"name\":\"%s\"}}",
       sur, giv, gen_home_page(x->s), x->sno);
}

static inline void gen_verb(gen_w *o, const char *id, const char *en, const char *zh) {
  if (o->lean) {
    gw_f(o, ",\"verb\":{\"id\":\"%s\"}", id);
    return;
  }
  gw_f(o, ",\"verb\":{\"id\":\"%s\",\"display\":{\"en-US\":\"%s\",\"zh-CN\":\"%s\"}}", id, en, zh);
}

static inline void gen_activity_open(gen_w *o, const char *id, const char *type, const char *name) {
  if (o->lean) {
    gw_f(o, "{\"id\":\"%s\",\"definition\":{\"type\":\"%s\"", id, type);
    return;
  }
  gw_f(o, "{\"objectType\":\"Activity\",\"id\":\"%s\",\"definition\":{\"type\":\"%s\",\"name\":{\"zh-CN\":\"%s\"}",
       id, type, name);
}

static inline void gen_video_iri(gen_ctx *x, char *out, size_t size) {
  snprintf(out, size, "%s/video/ch%02u-%02u", x->course, x->chapter, x->video);
}

static inline double gen_video_length(gen_ctx *x) {
  return 300.0 + (double)(gen_h(x->w->seed, 7000 + x->c, x->chapter * 16 + x->video) % 120000) / 100.0;
}

static inline void gen_video_object(gen_w *o, gen_ctx *x) {
  char iri[224], name[96];
  gen_video_iri(x, iri, sizeof iri);
  snprintf(name, sizeof name, "%u.%u %s 第%u讲", x->chapter, x->video, x->sub->zh, x->video);
  gw_s(o, ",\"object\":");
  gen_activity_open(o, iri, "https://w3id.org/xapi/video/activity-type/video", name);
  gw_s(o, "}}");
}

static inline void gen_chapter_parent(gen_w *o, gen_ctx *x) {
  char iri[224], name[96];
  snprintf(iri, sizeof iri, "%s/chapter/%u", x->course, x->chapter);
  snprintf(name, sizeof name, "第%u章 %s", x->chapter, x->sub->zh);
  gw_s(o, ",\"parent\":[");
  gen_activity_open(o, iri, "http://adlnet.gov/expapi/activities/module", name);
  gw_s(o, "}}]");
}

/* Opens "context" with registration, platform, category and grouping; the caller may add a
 * parent, then gen_context_ext closes contextActivities and writes the common extensions. */
static inline void gen_context_open(gen_w *o, gen_ctx *x, int with_course, int video_profile) {
  gw_s(o, ",\"context\":{");
  if (with_course) gw_f(o, "\"registration\":\"%s\",", x->reg);
  if (o->lean) {
    gw_f(o, "\"platform\":\"%s\",\"contextActivities\":{\"category\":[{\"id\":"
            "\"https://moocguard.org/xapi/profile/1.0\",\"definition\":{\"type\":"
            "\"http://adlnet.gov/expapi/activities/profile\"}}]",
         x->pf->name);
    if (with_course)
      gw_f(o, ",\"grouping\":[{\"id\":\"%s\",\"definition\":{\"type\":"
              "\"http://adlnet.gov/expapi/activities/course\"}},{\"id\":\"%s/offering/2024-autumn\","
              "\"definition\":{\"type\":\"https://moocguard.org/xapi/activity-type/offering\"}}]",
           x->course, x->course);
    return;
  }
  gw_f(o, "\"platform\":\"%s\",\"language\":\"zh-CN\",\"contextActivities\":{\"category\":[{"
          "\"objectType\":\"Activity\",\"id\":\"https://moocguard.org/xapi/profile/1.0\","
          "\"definition\":{\"type\":\"http://adlnet.gov/expapi/activities/profile\"}}",
       x->pf->name);
  if (video_profile)
    gw_s(o, ",{\"objectType\":\"Activity\",\"id\":\"https://w3id.org/xapi/video\",\"definition\":{"
            "\"type\":\"http://adlnet.gov/expapi/activities/profile\"}}");
  gw_s(o, "]");
  if (with_course) {
    gw_f(o, ",\"grouping\":[{\"objectType\":\"Activity\",\"id\":\"%s\",\"definition\":{\"type\":"
            "\"http://adlnet.gov/expapi/activities/course\",\"name\":{\"zh-CN\":\"%s\",\"en-US\":"
            "\"%s\"}}},{\"objectType\":\"Activity\",\"id\":\"%s/offering/2024-autumn\","
            "\"definition\":{\"type\":\"https://moocguard.org/xapi/activity-type/offering\","
            "\"name\":{\"zh-CN\":\"%s（2024年秋季学期）\"}}}]",
         x->course, x->sub->zh, x->sub->en, x->course, x->sub->zh);
  }
}

static inline void gen_context_ext(gen_w *o, gen_ctx *x) {
  uint32_t dev = (uint32_t)(gen_h(x->w->seed, 8000 + x->s, x->unix_s / 86400) % 3); /* 0,1: phone */
  char csid[13];
  gen_hex(gen_h(x->w->seed, 8100 + x->s, dev), 64, x->devid);
  gen_hex(gen_h(x->w->seed, 8200 + x->s, (uint64_t)x->unix_s / 3600), 12, csid);
  uint64_t ipk = gen_h(x->w->seed, 8300 + x->s, (uint64_t)x->unix_s / 86400);
  static const char *const pfx[] = {"223.104", "117.136", "36.110", "113.57", "120.229", "183.193"};
  gw_f(o, "},\"extensions\":{\"https://moocguard.org/xapi/ext/platform-code\":\"%s\","
          "\"https://moocguard.org/xapi/ext/received-at\":\"%s\","
          "\"https://moocguard.org/xapi/ext/client-ip\":\"%s.%u.%u\","
          "\"https://moocguard.org/xapi/ext/device-id\":\"%s\",",
       x->pf->code, x->rx, pfx[ipk % 6], (unsigned)(ipk >> 8 & 255), 1 + (unsigned)(ipk >> 16) % 254,
       x->devid);
  if (dev == 2)
    gw_f(o, "\"https://moocguard.org/xapi/ext/user-agent\":\"%s\",",
         gen_desktop_ua[gen_h(x->w->seed, 8400, x->s) % 4]);
  else
    gw_f(o, "\"https://moocguard.org/xapi/ext/user-agent\":\"%s (%s) okhttp/4.12.0\",", x->pf->app,
         gen_phones[gen_h(x->w->seed, 8500, x->s) % 5]);
  gw_f(o, "\"https://moocguard.org/xapi/ext/client-session-id\":\"cs-%s\","
          "\"https://moocguard.org/xapi/ext/client-seq\":%u",
       csid, gen_below(&x->r, 400));
}

static inline void gen_video_ext(gen_w *o, gen_ctx *x, double len, const char *speed) {
  char sid[37];
  gen_uuid_text(gen_h(x->w->seed, 9000 + x->s, (uint64_t)x->unix_s / 3600),
                gen_h(x->w->seed, 9100 + x->c, x->chapter * 16 + x->video), sid);
  gw_f(o, ",\"https://w3id.org/xapi/video/extensions/session-id\":\"%s\","
          "\"https://w3id.org/xapi/video/extensions/length\":%.2f,"
          "\"https://w3id.org/xapi/video/extensions/speed\":\"%s\"",
       sid, len, speed);
}

/* Renders statement number i of the world into b as compact JSON. The id is always the first
 * member, so it sits at offset 7 ({"id":") of what was appended: ingest patches ids there. */
static inline int gen_statement(const gen_world *w, uint64_t i, mg_buf *b) {
  gen_w o = {b, 0, w->lean};
  gen_ctx x;
  memset(&x, 0, sizeof x);
  x.w = w;
  x.r.s = gen_h(w->seed, 42, i);
  x.s = gen_below(&x.r, w->students);
  x.j = gen_below(&x.r, GEN_ENROLMENTS);
  x.c = gen_course_of(w, x.s, x.j);
  x.pf = gen_platform_of(w, x.c);
  x.sub = gen_subject_of(x.c);
  x.chapter = 1 + gen_below(&x.r, GEN_CHAPTERS);
  x.video = 1 + gen_below(&x.r, GEN_VIDEOS_PER_CHAPTER);
  gen_course_iri(w, x.c, x.course, sizeof x.course);
  gen_registration(w, x.s, x.j, x.reg);
  gen_student_number(w, x.s, x.sno);
  int kind = gen_pick_kind(&x.r);
  int day = (int)gen_below(&x.r, GEN_DAYS);
  x.unix_s = GEN_SEMESTER_START + day * 86400LL + gen_pick_hour(&x.r) * 3600LL + gen_below(&x.r, 3600);
  int ms = (int)gen_below(&x.r, 1000), lag = 60 + (int)gen_below(&x.r, 400);
  gen_local_iso(x.unix_s, ms, x.ts);
  gen_local_iso(x.unix_s + (ms + lag) / 1000, (ms + lag) % 1000, x.rx);

  char id[37], iri[256], name[160];
  gen_uuid_text(gen_h(w->seed, 77, i), gen_h(w->seed, 78, i), id);
  gw_f(&o, "{\"id\":\"%s\",", id);
  gen_actor(&o, &x);

  double len = gen_video_length(&x);
  double t = gen_unit(&x.r) * len;
  const char *speed = (const char *[]){"1x", "1x", "1x", "1.25x", "1.5x", "2x"}[gen_below(&x.r, 6)];
  int video = kind <= GK_VCOMPLETED, with_course = kind < GK_LOGIN;
  switch (kind) {
  case GK_HEARTBEAT:
    gen_verb(&o, "http://adlnet.gov/expapi/verbs/progressed", "progressed", "学习进度");
    gen_video_object(&o, &x);
    gw_f(&o, ",\"result\":{\"extensions\":{\"https://w3id.org/xapi/video/extensions/time\":%.3f,"
             "\"https://w3id.org/xapi/video/extensions/progress\":%.3f,"
             "\"https://w3id.org/xapi/video/extensions/played-segments\":\"0[.]%.3f\"}}",
         t, t / len, t);
    break;
  case GK_PLAYED:
  case GK_PAUSED:
  case GK_INTERACTED:
    if (kind == GK_PLAYED) gen_verb(&o, "https://w3id.org/xapi/video/verbs/played", "played", "播放");
    else if (kind == GK_PAUSED) gen_verb(&o, "https://w3id.org/xapi/video/verbs/paused", "paused", "暂停");
    else gen_verb(&o, "http://adlnet.gov/expapi/verbs/interacted", "interacted", "调整播放器");
    gen_video_object(&o, &x);
    gw_f(&o, ",\"result\":{\"extensions\":{\"https://w3id.org/xapi/video/extensions/time\":%.3f", t);
    if (kind == GK_PAUSED)
      gw_f(&o, ",\"https://w3id.org/xapi/video/extensions/progress\":%.3f,"
               "\"https://w3id.org/xapi/video/extensions/played-segments\":\"0[.]%.3f\"",
           t / len, t);
    gw_s(&o, "}}");
    break;
  case GK_SEEKED:
    gen_verb(&o, "https://w3id.org/xapi/video/verbs/seeked", "seeked", "拖动进度");
    gen_video_object(&o, &x);
    gw_f(&o, ",\"result\":{\"extensions\":{\"https://w3id.org/xapi/video/extensions/time-from\":%.3f,"
             "\"https://w3id.org/xapi/video/extensions/time-to\":%.3f}}",
         t, gen_unit(&x.r) * len);
    break;
  case GK_VINIT:
    gen_verb(&o, "http://adlnet.gov/expapi/verbs/initialized", "initialized", "初始化");
    gen_video_object(&o, &x);
    break;
  case GK_VTERM:
  case GK_VCOMPLETED: {
    if (kind == GK_VTERM) gen_verb(&o, "http://adlnet.gov/expapi/verbs/terminated", "terminated", "关闭视频");
    else gen_verb(&o, "http://adlnet.gov/expapi/verbs/completed", "completed", "完成");
    gen_video_object(&o, &x);
    double end = kind == GK_VCOMPLETED ? len : t;
    gw_f(&o, ",\"result\":{%s\"duration\":\"PT%uM%.3fS\",\"extensions\":{"
             "\"https://w3id.org/xapi/video/extensions/time\":%.3f,"
             "\"https://w3id.org/xapi/video/extensions/progress\":%.3f,"
             "\"https://w3id.org/xapi/video/extensions/played-segments\":\"0[.]%.3f\"}}",
         kind == GK_VCOMPLETED ? "\"completion\":true," : "", (unsigned)(end / 60),
         end - 60.0 * (unsigned)(end / 60), end, end / len, end);
    break;
  }
  case GK_PAGE:
  case GK_TASK:
    if (kind == GK_PAGE) gen_verb(&o, "http://id.tincanapi.com/verb/viewed", "viewed", "阅读");
    else gen_verb(&o, "http://adlnet.gov/expapi/verbs/completed", "completed", "完成");
    snprintf(iri, sizeof iri, "%s/%s/ch%02u-notes", x.course, kind == GK_PAGE ? "doc" : "task", x.chapter);
    snprintf(name, sizeof name, kind == GK_PAGE ? "第%u章 课件（PDF，%u页）" : "任务点：阅读第%u章课件（%u页）",
             x.chapter, 12 + x.chapter * 2);
    gw_s(&o, ",\"object\":");
    gen_activity_open(&o, iri, kind == GK_PAGE ? "http://id.tincanapi.com/activitytype/document"
                                               : "http://adlnet.gov/expapi/activities/lesson", name);
    gw_f(&o, "}},\"result\":{%s\"duration\":\"PT%uM%uS\"}", kind == GK_TASK ? "\"completion\":true," : "",
         gen_below(&x.r, 12), gen_below(&x.r, 60));
    break;
  case GK_ITEM:
  case GK_ITEM_OPEN: {
    uint32_t q = x.chapter * 10 + gen_below(&x.r, 10);
    gen_verb(&o, "http://adlnet.gov/expapi/verbs/answered", "answered", "作答");
    snprintf(iri, sizeof iri, "%s/item/%s%u-Q%04u", x.pf->base, x.sub->code,
             101 + x.c / (uint32_t)GEN_N_SUBJECTS, q);
    snprintf(name, sizeof name, "第%u章测验 第%u题%s", x.chapter, q % 10 + 1, kind == GK_ITEM_OPEN ? "（简答）" : "");
    gw_s(&o, ",\"object\":");
    gen_activity_open(&o, iri, "http://adlnet.gov/expapi/activities/cmi.interaction", name);
    if (kind == GK_ITEM) {
      char ans = (char)('a' + gen_h(w->seed, 9500 + x.c, q) % 4), resp = (char)('a' + gen_below(&x.r, 4));
      if (gen_below(&x.r, 10) < 7) resp = ans;
      if (o.lean)
        gw_f(&o, ",\"interactionType\":\"choice\",\"correctResponsesPattern\":[\"%c\"]}},"
                 "\"result\":{\"response\":\"%c\",\"success\":%s,\"duration\":\"PT%u.%uS\"}",
             ans, resp, resp == ans ? "true" : "false", 5 + gen_below(&x.r, 90), gen_below(&x.r, 10));
      else
      gw_f(&o, ",\"description\":{\"zh-CN\":\"%s 第%u章：下列关于本章内容的说法中，正确的是？\"},"
               "\"interactionType\":\"choice\",\"correctResponsesPattern\":[\"%c\"],\"choices\":["
               "{\"id\":\"a\",\"description\":{\"zh-CN\":\"选项A\"}},{\"id\":\"b\",\"description\":{\"zh-CN\":\"选项B\"}},"
               "{\"id\":\"c\",\"description\":{\"zh-CN\":\"选项C\"}},{\"id\":\"d\",\"description\":{\"zh-CN\":\"选项D\"}}]}},"
               "\"result\":{\"response\":\"%c\",\"success\":%s,\"duration\":\"PT%u.%uS\"}",
           x.sub->zh, x.chapter, ans, resp, resp == ans ? "true" : "false", 5 + gen_below(&x.r, 90),
           gen_below(&x.r, 10));
    } else {
      if (o.lean)
        gw_f(&o, ",\"interactionType\":\"long-fill-in\"}},\"result\":{\"response\":\"本章主要介绍了基本概念、性质和典型应用，"
                 "结合例题可以看出其在实际问题中的作用。\",\"duration\":\"PT%uM%uS\"}",
             1 + gen_below(&x.r, 9), gen_below(&x.r, 60));
      else
      gw_f(&o, ",\"description\":{\"zh-CN\":\"简述%s第%u章的主要概念及其应用。\"},\"interactionType\":"
               "\"long-fill-in\"}},\"result\":{\"response\":\"本章主要介绍了基本概念、性质和典型应用，"
               "结合例题可以看出其在实际问题中的作用。\",\"duration\":\"PT%uM%uS\"}",
           x.sub->zh, x.chapter, 1 + gen_below(&x.r, 9), gen_below(&x.r, 60));
    }
    break;
  }
  case GK_ATTEMPT:
  case GK_SUBMITTED:
  case GK_EXAM:
  case GK_SCORED: {
    int exam = kind == GK_EXAM || kind == GK_SCORED;
    if (kind == GK_SUBMITTED) gen_verb(&o, "http://adlnet.gov/expapi/verbs/completed", "completed", "交卷");
    else if (kind == GK_SCORED) gen_verb(&o, "http://adlnet.gov/expapi/verbs/scored", "scored", "成绩发布");
    else gen_verb(&o, "http://adlnet.gov/expapi/verbs/attempted", "attempted", exam ? "开始考试" : "开始作答");
    if (exam) {
      snprintf(iri, sizeof iri, "%s/exam/final", x.course);
      snprintf(name, sizeof name, "%s 期末考试", x.sub->zh);
    } else {
      snprintf(iri, sizeof iri, "%s/quiz/ch%02u", x.course, x.chapter);
      snprintf(name, sizeof name, "第%u章 章节测验", x.chapter);
    }
    gw_s(&o, ",\"object\":");
    gen_activity_open(&o, iri, "http://adlnet.gov/expapi/activities/assessment", name);
    gw_s(&o, "}}");
    uint32_t raw = 40 + gen_below(&x.r, 61);
    if (kind == GK_SUBMITTED)
      gw_f(&o, ",\"result\":{\"completion\":true,\"success\":%s,\"duration\":\"PT%uM%uS\",\"score\":"
               "{\"raw\":%u,\"min\":0,\"max\":10,\"scaled\":%.1f}}",
           raw >= 60 ? "true" : "false", 5 + gen_below(&x.r, 20), gen_below(&x.r, 60), raw / 10, raw / 100.0);
    else if (kind == GK_SCORED)
      gw_f(&o, ",\"result\":{\"success\":%s,\"score\":{\"raw\":%u,\"min\":0,\"max\":100,\"scaled\":%.2f}}",
           raw >= 60 ? "true" : "false", raw, raw / 100.0);
    break;
  }
  case GK_FACE_PROMPT:
  case GK_FACE_PASS:
  case GK_FACE_FAIL:
    if (kind == GK_FACE_PROMPT) gen_verb(&o, "http://adlnet.gov/expapi/verbs/launched", "launched", "发起人脸核验");
    else if (kind == GK_FACE_PASS) gen_verb(&o, "http://adlnet.gov/expapi/verbs/passed", "passed", "人脸核验通过");
    else gen_verb(&o, "http://adlnet.gov/expapi/verbs/failed", "failed", "人脸核验未通过");
    snprintf(iri, sizeof iri, "%s/face-check/fc-%u-%07u", x.pf->base, (unsigned)(x.unix_s / 86400),
             (unsigned)(gen_h(w->seed, 9600, i) % 10000000));
    gw_s(&o, ",\"object\":");
    gen_activity_open(&o, iri, "https://moocguard.org/xapi/activity-type/face-verification", "学习过程人脸核验");
    gw_s(&o, "}}");
    if (kind != GK_FACE_PROMPT)
      gw_f(&o, ",\"result\":{\"success\":%s,\"score\":{\"scaled\":%.2f},\"duration\":\"PT%u.%03uS\"}",
           kind == GK_FACE_PASS ? "true" : "false",
           kind == GK_FACE_PASS ? 0.80 + gen_below(&x.r, 20) / 100.0 : 0.2 + gen_below(&x.r, 55) / 100.0,
           3 + gen_below(&x.r, 40), gen_below(&x.r, 1000));
    break;
  case GK_POSTED:
  case GK_COMMENTED:
    if (kind == GK_POSTED) gen_verb(&o, "https://w3id.org/xapi/acrossx/verbs/posted", "posted", "发帖");
    else gen_verb(&o, "http://adlnet.gov/expapi/verbs/commented", "commented", "回帖");
    snprintf(iri, sizeof iri, "%s/forum/topic/%u", x.course, 90000 + gen_below(&x.r, 5000));
    snprintf(name, sizeof name, "第%u章作业讨论", x.chapter);
    gw_s(&o, ",\"object\":");
    gen_activity_open(&o, iri, "http://id.tincanapi.com/activitytype/forum-topic", name);
    gw_f(&o, "}},\"result\":{\"response\":\"第%u章第%u题可以先画图分析，再按定义逐步推导，注意边界情况。\"}",
         x.chapter, 1 + gen_below(&x.r, 10));
    break;
  default: /* GK_LOGIN, GK_LOGOUT */
    if (kind == GK_LOGIN) gen_verb(&o, "https://w3id.org/xapi/adl/verbs/logged-in", "logged in", "登录");
    else gen_verb(&o, "https://w3id.org/xapi/adl/verbs/logged-out", "logged out", "退出登录");
    gw_s(&o, ",\"object\":");
    gen_activity_open(&o, x.pf->base, "https://moocguard.org/xapi/activity-type/platform", x.pf->name);
    gw_s(&o, "}}");
    if (kind == GK_LOGOUT) gw_f(&o, ",\"result\":{\"duration\":\"PT%uH%uM%uS\"}", gen_below(&x.r, 3),
                                gen_below(&x.r, 60), gen_below(&x.r, 60));
    break;
  }

  gen_context_open(&o, &x, with_course, video);
  if (video || kind == GK_PAGE || kind == GK_TASK || kind == GK_ATTEMPT || kind == GK_SUBMITTED) {
    gen_chapter_parent(&o, &x);
  } else if (kind == GK_ITEM || kind == GK_ITEM_OPEN) {
    snprintf(iri, sizeof iri, "%s/quiz/ch%02u", x.course, x.chapter);
    snprintf(name, sizeof name, "第%u章 章节测验", x.chapter);
    gw_s(&o, ",\"parent\":[");
    gen_activity_open(&o, iri, "http://adlnet.gov/expapi/activities/assessment", name);
    gw_s(&o, "}}]");
  } else if (kind >= GK_FACE_PROMPT && kind <= GK_FACE_FAIL) {
    gen_video_iri(&x, iri, sizeof iri);
    snprintf(name, sizeof name, "%u.%u %s 第%u讲", x.chapter, x.video, x.sub->zh, x.video);
    gw_s(&o, ",\"parent\":[");
    gen_activity_open(&o, iri, "https://w3id.org/xapi/video/activity-type/video", name);
    gw_s(&o, "}}]");
  }
  gen_context_ext(&o, &x);
  if (video) gen_video_ext(&o, &x, len, speed);
  if (kind == GK_HEARTBEAT || kind == GK_VINIT)
    gw_f(&o, ",\"https://w3id.org/xapi/video/extensions/volume\":%.1f,"
             "\"https://w3id.org/xapi/video/extensions/quality\":\"%s\","
             "\"https://w3id.org/xapi/video/extensions/full-screen\":%s",
         gen_below(&x.r, 11) / 10.0, gen_below(&x.r, 3) ? "720" : "1080", gen_below(&x.r, 4) ? "false" : "true");
  if (kind == GK_VINIT)
    gw_s(&o, ",\"https://moocguard.org/xapi/ext/max-speed\":2,"
             "\"https://w3id.org/xapi/video/extensions/completion-threshold\":0.9");
  if (kind == GK_HEARTBEAT || kind == GK_PAGE)
    gw_f(&o, ",\"https://moocguard.org/xapi/ext/visible\":%s,\"https://moocguard.org/xapi/ext/input-count\":%u",
         gen_below(&x.r, 20) ? "true" : "false", gen_below(&x.r, 60));
  if (kind >= GK_ITEM && kind <= GK_SUBMITTED)
    gw_f(&o, ",\"https://moocguard.org/xapi/ext/attempt-id\":\"att-%s%u-ch%02u-%s-1\","
             "\"https://moocguard.org/xapi/ext/assessment-kind\":\"quiz\"",
         x.sub->code, 101 + x.c / (uint32_t)GEN_N_SUBJECTS, x.chapter, x.sno);
  if (kind == GK_EXAM || kind == GK_SCORED)
    gw_f(&o, ",\"https://moocguard.org/xapi/ext/attempt-id\":\"att-%s%u-final-%s-1\","
             "\"https://moocguard.org/xapi/ext/assessment-kind\":\"exam\"",
         x.sub->code, 101 + x.c / (uint32_t)GEN_N_SUBJECTS, x.sno);
  if (kind == GK_ATTEMPT || kind == GK_EXAM) gw_s(&o, ",\"https://moocguard.org/xapi/ext/attempt-number\":1");
  if (kind == GK_EXAM) {
    char dev2[65];
    gen_hex(gen_h(w->seed, 8100 + x.s, 7), 64, dev2);
    gw_f(&o, ",\"https://moocguard.org/xapi/ext/cameras-required\":2,\"https://moocguard.org/xapi/ext/camera-count\":2,"
             "\"https://moocguard.org/xapi/ext/cameras\":[{\"role\":\"primary\",\"device-id\":\"%s\"},"
             "{\"role\":\"secondary\",\"device-id\":\"%s\"}]",
         x.devid, dev2);
  }
  if (kind >= GK_FACE_PROMPT && kind <= GK_FACE_FAIL)
    gw_f(&o, ",\"https://moocguard.org/xapi/ext/face-purpose\":\"study-random\"%s",
         kind == GK_FACE_PROMPT ? "" : ",\"https://moocguard.org/xapi/ext/face-threshold\":0.8");
  if (kind == GK_FACE_FAIL)
    gw_f(&o, ",\"https://moocguard.org/xapi/ext/face-failure\":\"%s\",\"https://moocguard.org/xapi/ext/capture-id\":"
             "\"cap-%u-1\"",
         (const char *[]){"mismatch", "no-face", "multiple-faces", "liveness", "timeout"}[gen_below(&x.r, 5)],
         (unsigned)(gen_h(w->seed, 9600, i) % 10000000));
  if (kind == GK_LOGIN) gw_s(&o, ",\"https://moocguard.org/xapi/ext/login-method\":\"qr\"");
  gw_f(&o, "}},\"timestamp\":\"%s\",\"version\":\"2.0.0\"}", x.ts);
  return o.err;
}

/* ============================================================================================
 * 2. HTTP/1.1 client
 * ========================================================================================== */

#define BH_MAX_RESPONSE (512u << 20)
#define BH_IO_TIMEOUT_S 300

typedef struct bh_target {
  char host[128];
  int port;
  char prefix[256]; /* path before /xapi, usually "" */
  char auth[256];   /* "Basic base64(key:secret)" or "" */
} bh_target;

typedef struct bh_conn {
  const bh_target *t;
  int fd;
  mg_buf in;     /* raw bytes read; a response's body points into it */
  mg_buf body;   /* de-chunked body */
  size_t used;   /* bytes of `in` consumed by the last response */
  int status;
  int closing;   /* server said Connection: close */
} bh_conn;

static inline void bh_base64(const char *in, size_t n, char *out, size_t size) {
  static const char tb[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t o = 0;
  for (size_t i = 0; i < n && o + 5 < size; i += 3) {
    uint32_t v = (uint32_t)(unsigned char)in[i] << 16;
    if (i + 1 < n) v |= (uint32_t)(unsigned char)in[i + 1] << 8;
    if (i + 2 < n) v |= (unsigned char)in[i + 2];
    out[o++] = tb[v >> 18 & 63];
    out[o++] = tb[v >> 12 & 63];
    out[o++] = i + 1 < n ? tb[v >> 6 & 63] : '=';
    out[o++] = i + 2 < n ? tb[v & 63] : '=';
  }
  out[o] = '\0';
}

/* Parses "http://host[:port][/prefix]". MG_EINVAL for anything else (https is not supported). */
static inline int bh_target_parse(const char *url, const char *key, const char *secret, bh_target *t) {
  memset(t, 0, sizeof *t);
  if (strncmp(url, "http://", 7)) return MG_EINVAL;
  const char *h = url + 7, *slash = strchr(h, '/'), *end = slash ? slash : h + strlen(h);
  const char *colon = memchr(h, ':', (size_t)(end - h));
  size_t hl = (size_t)((colon ? colon : end) - h);
  if (!hl || hl >= sizeof t->host) return MG_EINVAL;
  memcpy(t->host, h, hl);
  t->port = 80;
  if (colon) {
    char *pe;
    long p = strtol(colon + 1, &pe, 10);
    if (pe != end || p <= 0 || p > 65535) return MG_EINVAL;
    t->port = (int)p;
  }
  if (slash) snprintf(t->prefix, sizeof t->prefix, "%s", slash);
  size_t pl = strlen(t->prefix);
  while (pl && t->prefix[pl - 1] == '/') t->prefix[--pl] = '\0';
  if (key && secret) {
    char kv[200], b64[240];
    int n = snprintf(kv, sizeof kv, "%s:%s", key, secret);
    if (n < 0 || (size_t)n >= sizeof kv) return MG_EINVAL;
    bh_base64(kv, (size_t)n, b64, sizeof b64);
    snprintf(t->auth, sizeof t->auth, "Basic %s", b64);
  }
  return MG_OK;
}

static inline void bh_conn_init(bh_conn *c, const bh_target *t) {
  memset(c, 0, sizeof *c);
  c->t = t;
  c->fd = -1;
  mg_buf_init(&c->in, BH_MAX_RESPONSE);
  mg_buf_init(&c->body, BH_MAX_RESPONSE);
}

static inline void bh_conn_close(bh_conn *c) {
  if (c->fd >= 0) close(c->fd);
  c->fd = -1;
  mg_buf_reset(&c->in);
  c->used = 0;
}

static inline void bh_conn_free(bh_conn *c) {
  bh_conn_close(c);
  mg_buf_free(&c->in);
  mg_buf_free(&c->body);
}

static inline int bh_connect(bh_conn *c) {
  char port[16];
  struct addrinfo hints, *res = NULL;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  snprintf(port, sizeof port, "%d", c->t->port);
  if (getaddrinfo(c->t->host, port, &hints, &res) || !res) return MG_EIO;
  int rc = MG_EIO;
  for (struct addrinfo *a = res; a; a = a->ai_next) {
    int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      /* a hung server must not hang the bench: give up on a request after BH_IO_TIMEOUT_S */
      struct timeval tv = {BH_IO_TIMEOUT_S, 0};
      setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
      c->fd = fd;
      rc = MG_OK;
      break;
    }
    close(fd);
  }
  freeaddrinfo(res);
  mg_buf_reset(&c->in);
  c->used = 0;
  c->closing = 0;
  return rc;
}

static inline int bh_send_all(int fd, struct iovec *iov, int n) {
  while (n > 0) {
    ssize_t w = writev(fd, iov, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return MG_EIO;
    }
    size_t left = (size_t)w;
    while (n > 0 && left >= iov->iov_len) {
      left -= iov->iov_len;
      iov++;
      n--;
    }
    if (n > 0) {
      iov->iov_base = (char *)iov->iov_base + left;
      iov->iov_len -= left;
    }
  }
  return MG_OK;
}

/* Reads more bytes into c->in; MG_EIO on error or EOF. */
static inline int bh_fill(bh_conn *c) {
  char tmp[65536];
  for (;;) {
    ssize_t r = read(c->fd, tmp, sizeof tmp);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return MG_EIO;
    return mg_buf_add(&c->in, tmp, (size_t)r);
  }
}

static inline const char *bh_find_header(const char *hdrs, size_t len, const char *name) {
  size_t nl = strlen(name);
  for (const char *p = hdrs; p && p < hdrs + len;) {
    const char *eol = memchr(p, '\n', (size_t)(hdrs + len - p));
    if (!eol) break;
    if ((size_t)(eol - p) > nl && !strncasecmp(p, name, nl) && p[nl] == ':') {
      p += nl + 1;
      while (*p == ' ' || *p == '\t') p++;
      return p;
    }
    p = eol + 1;
  }
  return NULL;
}

/* Reads one response. On success c->status is set and c->body holds the (de-chunked) body. */
static inline int bh_read_response(bh_conn *c) {
  /* drop the previous response's bytes, keeping any pipelined surplus */
  if (c->used) {
    size_t rest = c->in.len - c->used;
    memmove(c->in.data, c->in.data + c->used, rest);
    c->in.len = rest;
    if (c->in.data) c->in.data[rest] = '\0';
    c->used = 0;
  }
  char *eoh;
  while (!c->in.data || !(eoh = strstr(c->in.data, "\r\n\r\n"))) {
    int rc = bh_fill(c);
    if (rc) return rc;
  }
  size_t hlen = (size_t)(eoh - c->in.data) + 4;
  if (strncmp(c->in.data, "HTTP/1.", 7) || hlen < 13) return MG_EIO;
  c->status = (int)strtol(c->in.data + 9, NULL, 10);
  const char *cl = bh_find_header(c->in.data, hlen, "Content-Length");
  const char *te = bh_find_header(c->in.data, hlen, "Transfer-Encoding");
  const char *cn = bh_find_header(c->in.data, hlen, "Connection");
  c->closing = cn && !strncasecmp(cn, "close", 5);
  mg_buf_reset(&c->body);
  if (te && !strncasecmp(te, "chunked", 7)) {
    size_t pos = hlen;
    for (;;) {
      char *crlf;
      while (!(crlf = strstr(c->in.data + pos, "\r\n"))) {
        int rc = bh_fill(c);
        if (rc) return rc;
      }
      char *pe;
      unsigned long long sz = strtoull(c->in.data + pos, &pe, 16);
      size_t data = (size_t)(crlf - c->in.data) + 2;
      if (pe == c->in.data + pos || sz > BH_MAX_RESPONSE) return MG_EIO;
      while (c->in.len < data + sz + 2) {
        int rc = bh_fill(c);
        if (rc) return rc;
      }
      if (sz == 0) { /* no trailers expected from our server */
        c->used = data + 2;
        break;
      }
      int rc = mg_buf_add(&c->body, c->in.data + data, (size_t)sz);
      if (rc) return rc;
      pos = data + (size_t)sz + 2;
    }
  } else {
    size_t n = 0;
    if (cl) {
      char *pe;
      unsigned long long v = strtoull(cl, &pe, 10);
      if (pe == cl || v > BH_MAX_RESPONSE) return MG_EIO;
      n = (size_t)v;
    } else if (c->status >= 200 && c->status != 204 && c->status != 304) {
      while (bh_fill(c) == MG_OK) { /* body runs to EOF */
      }
      n = c->in.len - hlen;
      c->closing = 1;
    }
    while (c->in.len < hlen + n) {
      int rc = bh_fill(c);
      if (rc) return rc;
    }
    int rc = mg_buf_add(&c->body, c->in.data + hlen, n);
    if (rc) return rc;
    c->used = hlen + n;
  }
  if (!c->body.data) {
    int rc = mg_buf_add(&c->body, "", 0);
    if (rc) return rc;
  }
  return MG_OK;
}

/* One request with xAPI headers. target starts with '/' and excludes the prefix. Reconnects once
 * if a kept-alive connection turns out to be closed. */
static inline int bh_request(bh_conn *c, const char *method, const char *target, const char *ctype,
                             const void *body, size_t len) {
  char head[2048];
  int hn = snprintf(head, sizeof head,
                    "%s %s%s HTTP/1.1\r\nHost: %s:%d\r\nX-Experience-API-Version: 2.0.0\r\n"
                    "%s%s%s%s%s%sContent-Length: %zu\r\n\r\n",
                    method, c->t->prefix, target, c->t->host, c->t->port,
                    c->t->auth[0] ? "Authorization: " : "", c->t->auth, c->t->auth[0] ? "\r\n" : "",
                    ctype ? "Content-Type: " : "", ctype ? ctype : "", ctype ? "\r\n" : "", len);
  if (hn < 0 || (size_t)hn >= sizeof head) return MG_ETOOBIG;
  for (int attempt = 0; attempt < 2; attempt++) {
    if (c->fd < 0 && bh_connect(c)) return MG_EIO;
    struct iovec iov[2] = {{head, (size_t)hn}, {(void *)body, len}};
    int rc = bh_send_all(c->fd, iov, len ? 2 : 1);
    if (!rc) rc = bh_read_response(c);
    if (!rc) {
      if (c->closing) bh_conn_close(c);
      return MG_OK;
    }
    int fresh = c->in.len == 0;
    bh_conn_close(c);
    if (!fresh) return rc; /* failed mid-response: do not resend */
  }
  return MG_EIO;
}

/* Percent-encodes s for a query string value. */
static inline int bh_urlenc(mg_buf *b, const char *s) {
  static const char hx[] = "0123456789ABCDEF";
  for (; *s; s++) {
    unsigned char ch = (unsigned char)*s;
    int rc;
    if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' ||
        ch == '_' || ch == '.' || ch == '~') {
      rc = mg_buf_addc(b, (char)ch);
    } else {
      char e[3] = {'%', hx[ch >> 4], hx[ch & 15]};
      rc = mg_buf_add(b, e, 3);
    }
    if (rc) return rc;
  }
  return MG_OK;
}

/* ============================================================================================
 * 3. Launching the server
 * ========================================================================================== */

typedef struct bh_server {
  pid_t pid;
  char dir[256];   /* temporary directory we made ("" if none) */
  char store[512];
  char log[600];
  int port;
  char key[80], secret[120];
} bh_server;

static inline int bh_free_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t al = sizeof a;
  int port = -1;
  if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(fd, (struct sockaddr *)&a, &al) == 0)
    port = ntohs(a.sin_port);
  close(fd);
  return port;
}

/* Runs argv, capturing stdout into out (NUL-terminated, truncated to size) and appending stderr
 * to errlog (NULL: inherited). Returns the exit status or -1. */
static inline int bh_run_capture(char *const argv[], char *out, size_t size, const char *errlog) {
  int p[2];
  if (pipe(p)) return -1;
  pid_t pid = fork();
  if (pid < 0) {
    close(p[0]);
    close(p[1]);
    return -1;
  }
  if (pid == 0) {
    dup2(p[1], 1);
    close(p[0]);
    close(p[1]);
    int fd = errlog ? open(errlog, O_WRONLY | O_CREAT | O_APPEND, 0644) : -1;
    if (fd >= 0) {
      dup2(fd, 2);
      close(fd);
    }
    execv(argv[0], argv);
    _exit(127);
  }
  close(p[1]);
  size_t n = 0;
  for (;;) {
    ssize_t r = read(p[0], out + n, size - 1 - n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    n += (size_t)r;
    if (n == size - 1) break;
  }
  out[n] = '\0';
  close(p[0]);
  int st = 0;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static inline int bh_json_field(const char *json, const char *name, char *out, size_t size) {
  char pat[64];
  snprintf(pat, sizeof pat, "\"%s\":\"", name);
  const char *p = strstr(json, pat);
  if (!p) return MG_ENOTFOUND;
  p += strlen(pat);
  const char *e = strchr(p, '"');
  if (!e || (size_t)(e - p) >= size) return MG_EINVAL;
  memcpy(out, p, (size_t)(e - p));
  out[e - p] = '\0';
  return MG_OK;
}

/* Sends SIGTERM and waits; removes the temporary directory if we made one and keep is 0. */
static inline void bh_stop(bh_server *s, int keep) {
  if (s->pid > 0) {
    kill(s->pid, SIGTERM);
    int st;
    for (int i = 0; i < 300; i++) { /* up to 30 s for a graceful stop */
      if (waitpid(s->pid, &st, WNOHANG) == s->pid) {
        s->pid = 0;
        break;
      }
      usleep(100000);
    }
    if (s->pid > 0) {
      kill(s->pid, SIGKILL);
      waitpid(s->pid, &st, 0);
      s->pid = 0;
    }
  }
  if (s->dir[0] && !keep) {
    char *const argv[] = {"/bin/rm", "-rf", s->dir, NULL};
    char junk[16];
    bh_run_capture(argv, junk, sizeof junk, NULL);
    s->dir[0] = '\0';
  }
}

/* Starts `bin serve` on 127.0.0.1 and a free port. store NULL: a new store in a temporary
 * directory. extra: further serve flags separated by spaces (may be NULL). Creates a platform
 * credential and waits until GET /xapi/about answers 200. Server output goes to s->log. */
static inline int bh_launch(const char *bin, const char *store, const char *extra, bh_server *s) {
  memset(s, 0, sizeof *s);
  char tmpl[] = "/tmp/moocguard-bench-XXXXXX";
  if (!mkdtemp(tmpl)) return MG_EIO;
  snprintf(s->dir, sizeof s->dir, "%s", tmpl);
  if (store) snprintf(s->store, sizeof s->store, "%s", store);
  else snprintf(s->store, sizeof s->store, "%s/store.db", s->dir);
  snprintf(s->log, sizeof s->log, "%s/server.log", s->dir);

  char out[1024];
  char *const cargv[] = {(char *)bin, "credential", "create", "--name", "bench", "--json", "--store",
                         s->store, NULL};
  int st = bh_run_capture(cargv, out, sizeof out, s->log);
  if (st != 0 || bh_json_field(out, "key", s->key, sizeof s->key) ||
      bh_json_field(out, "secret", s->secret, sizeof s->secret)) {
    fprintf(stderr, "bench: `%s credential create` failed (exit %d): %s\n", bin, st, out);
    return MG_EIO;
  }
  s->port = bh_free_port();
  if (s->port <= 0) return MG_EIO;
  char port[16];
  snprintf(port, sizeof port, "%d", s->port);
  char extra_copy[1024] = "";
  char *argv[64] = {(char *)bin, "serve", "--bind", "127.0.0.1", "--port", port, "--store", s->store};
  int argc = 8;
  if (extra) {
    snprintf(extra_copy, sizeof extra_copy, "%s", extra);
    char *save = NULL;
    for (char *tok = strtok_r(extra_copy, " ", &save); tok && argc < 62; tok = strtok_r(NULL, " ", &save))
      argv[argc++] = tok;
  }
  argv[argc] = NULL;
  s->pid = fork();
  if (s->pid < 0) return MG_EIO;
  if (s->pid == 0) {
    int fd = open(s->log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
    }
    execv(bin, argv);
    _exit(127);
  }
  bh_target t;
  char url[64];
  snprintf(url, sizeof url, "http://127.0.0.1:%d", s->port);
  bh_target_parse(url, NULL, NULL, &t);
  bh_conn c;
  bh_conn_init(&c, &t);
  int rc = MG_EIO;
  for (int i = 0; i < 600; i++) { /* 60 s: opening a large store may take a while */
    int wst;
    if (waitpid(s->pid, &wst, WNOHANG) == s->pid) {
      s->pid = 0;
      fprintf(stderr, "bench: the server exited at start; see %s\n", s->log);
      break;
    }
    if (bh_request(&c, "GET", "/xapi/about", NULL, NULL, 0) == MG_OK && c.status == 200) {
      rc = MG_OK;
      break;
    }
    bh_conn_close(&c);
    usleep(100000);
  }
  bh_conn_free(&c);
  return rc;
}

/* CPU seconds (user + system) a process has used, from /proc; -1 if unknown. */
static inline double bh_proc_cpu(pid_t pid) {
  char path[64], line[2048];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  size_t n = fread(line, 1, sizeof line - 1, f);
  fclose(f);
  line[n] = '\0';
  const char *p = strrchr(line, ')'); /* the command name may contain spaces */
  if (!p) return -1;
  unsigned long long ut = 0, stt = 0;
  /* after ")": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime */
  if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &stt) != 2) return -1;
  return (double)(ut + stt) / (double)sysconf(_SC_CLK_TCK);
}

/* ============================================================================================
 * Small statistics helpers
 * ========================================================================================== */

static inline int bh_cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

/* q-quantile (0..1) of a sorted array, nearest-rank. */
static inline int64_t bh_quantile(const int64_t *v, size_t n, double q) {
  if (!n) return 0;
  size_t k = (size_t)(q * (double)n + 0.999999);
  if (k < 1) k = 1;
  if (k > n) k = n;
  return v[k - 1];
}

static inline int bh_parse_long(const char *s, long lo, long hi, long *out) {
  char *e;
  errno = 0;
  long v = strtol(s, &e, 10);
  if (errno || e == s || *e || v < lo || v > hi) return MG_EINVAL;
  *out = v;
  return MG_OK;
}

static inline int bh_parse_double(const char *s, double lo, double hi, double *out) {
  char *e;
  errno = 0;
  double v = strtod(s, &e);
  if (errno || e == s || *e || v < lo || v > hi) return MG_EINVAL;
  *out = v;
  return MG_OK;
}

/* The 1-minute load average, to tell a quiet machine from a busy one in the output. */
static inline double bh_loadavg(void) {
  double l = -1;
  FILE *f = fopen("/proc/loadavg", "r");
  if (f) {
    if (fscanf(f, "%lf", &l) != 1) l = -1;
    fclose(f);
  }
  return l;
}

static inline void bh_sleep(double seconds) {
  if (seconds <= 0) return;
  struct timespec ts = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
  while (nanosleep(&ts, &ts) && errno == EINTR) {
  }
}

static inline double bh_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#endif
