/* demo/demo.c — the demo world: simulator → registry → ingest + detectors → people's decisions. */
#include "demo/demo.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit/audit.h"
#include "auth/capability.h"
#include "auth/credential.h"
#include "auth/password.h"
#include "auth/totp.h"
#include "auth/user.h"
#include "cases/case.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/json.h"
#include "core/time.h"
#include "credit/credit.h"
#include "detect/detect.h"
#include "notices/report.h"
#include "registry/course.h"
#include "registry/exam.h"
#include "registry/pledge.h"
#include "registry/seed.h"
#include "sim/sim.h"
#include "store/store_auth.h"
#include "store/store_cases.h"
#include "store/store_findings.h"
#include "store/store_registry.h"
#include "xapi/ingest.h"

#define DAY_US (86400LL * 1000000LL)
#define BATCH 2000 /* statements per ingest call (one durable commit) */
#define BY "demo"  /* the actor recorded on seeded registry objects */

void mg_demo_options_default(mg_demo_options *o) {
  memset(o, 0, sizeof *o);
  o->seed = 1;
  o->students = 2000;
  o->weeks = 6;
  o->base_url = "http://127.0.0.1:8080";
  o->hash_cost = "interactive";
  o->appeal_window_s = 15 * 86400;
}

/* ---- small helpers ---------------------------------------------------------------------- */

static uint64_t mix(uint64_t x) { /* splitmix64: deterministic per-enrolment choices */
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

static double unit(uint64_t seed, uint64_t a, uint64_t b) {
  return (double)(mix(seed ^ mix(a * 1000003ULL + b)) >> 11) / 9007199254740992.0;
}

static void errf(char *err, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void errf(char *err, size_t n, const char *fmt, ...) {
  if (!err || !n) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, n, fmt, ap);
  va_end(ap);
}

static void date_of(int64_t us, char out[11]) {
  time_t t = (time_t)(us / 1000000);
  struct tm tm;
  gmtime_r(&t, &tm);
  char tmp[64];
  snprintf(tmp, sizeof tmp, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
  snprintf(out, 11, "%.10s", tmp);
}

/* Appends "s" as a JSON string (quoted, escaped). */
static int js(mg_buf *b, const char *s) {
  int rc = mg_buf_addc(b, '"');
  if (!rc) rc = mg_buf_add_json_str(b, s, strlen(s));
  if (!rc) rc = mg_buf_addc(b, '"');
  return rc;
}

/* Province codes (GB/T 2260) and education departments of the simulator's provinces. */
static const struct {
  const char *name, *code, *dept;
} k_prov[] = {
    {"北京", "11", "北京市教育委员会"},   {"上海", "31", "上海市教育委员会"},
    {"广东", "44", "广东省教育厅"},       {"江苏", "32", "江苏省教育厅"},
    {"浙江", "33", "浙江省教育厅"},       {"湖北", "42", "湖北省教育厅"},
    {"四川", "51", "四川省教育厅"},       {"陕西", "61", "陕西省教育厅"},
    {"湖南", "43", "湖南省教育厅"},       {"山东", "37", "山东省教育厅"},
    {"河南", "41", "河南省教育厅"},       {"安徽", "34", "安徽省教育厅"},
    {"福建", "35", "福建省教育厅"},       {"云南", "53", "云南省教育厅"},
    {"黑龙江", "23", "黑龙江省教育厅"},   {"甘肃", "62", "甘肃省教育厅"},
    {"广西", "45", "广西壮族自治区教育厅"}, {"重庆", "50", "重庆市教育委员会"},
};
#define N_PROV (sizeof k_prov / sizeof k_prov[0])

static int prov_index(const char *name) {
  for (size_t i = 0; i < N_PROV; i++)
    if (!strcmp(k_prov[i].name, name)) return (int)i;
  return -1;
}

static const char *const k_surname[] = {"王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周",
                                        "徐", "孙", "马", "朱", "胡", "郭", "何", "林", "罗", "高",
                                        "欧阳", "司马"};
static const char *const k_given[] = {"伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋",
                                      "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英", "霞", "平",
                                      "子涵", "欣怡", "浩然", "雨桐", "宇轩", "思远", "梓萱", "一诺"};

static void person_name(uint64_t seed, uint64_t who, char *out, size_t n) {
  uint64_t h = mix(seed ^ mix(who + 0x5EED));
  snprintf(out, n, "%s%s", k_surname[h % (sizeof k_surname / sizeof k_surname[0])],
           k_given[(h >> 16) % (sizeof k_given / sizeof k_given[0])]);
}

/* ---- the build's state ------------------------------------------------------------------ */

typedef struct d_platform {
  const char *code, *name; /* the simulator's (valid during the run) */
  char code_copy[64];
  int64_t id;
  mg_json *authority;
  mg_arena arena; /* parsed statements of the pending batch */
  mg_arena texts; /* their text, kept for a retry one by one */
  const char *text[BATCH];
  size_t len[BATCH];
  size_t n;
  uint64_t ids[2 * BATCH]; /* hashes of the batch's statement ids (open addressing; 0 = empty) */
  int64_t enrolments;
} d_platform;

typedef struct d_offering {
  int univ, course;
  int64_t id, exam_id, course_id;
  double credits;
} d_offering;

typedef struct d_enrol {
  char reg[40];
  int student, course, offering;
  int pledge;
  int cohort;
  unsigned families; /* bit per mg_sim_family */
} d_enrol;

typedef struct d_univ {
  char code[64], name[256], home_page[512], prov_code[8];
  int64_t id, enrolments, findings;
} d_univ;

typedef struct demo {
  mg_store *s;
  const mg_demo_options *o;
  mg_demo_summary *sum;
  char *err;
  size_t errsize;
  int64_t now;
  int64_t t0, last_progress;
  char term[32];
  d_platform *plat;
  size_t n_plat;
  d_univ *univ;
  size_t n_univ;
  int *off_of;     /* [univ * n_courses + course] -> offering index or -1 */
  size_t n_courses;
  char (*course_iri)[256];
  d_offering *off;
  size_t n_off;
  d_enrol *enr;
  size_t n_enr, n_labels;
  mg_detect *det;
  mg_arena meta;   /* lives for the build: platform authorities */
  int rc;          /* first failure inside a callback */
} demo;

static void progress(demo *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void progress(demo *d, const char *fmt, ...) {
  if (d->o->quiet) return;
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "demo [%5.1fs] ", (double)(mg_time_mono_us() - d->t0) / 1e6);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

static int fail(demo *d, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(demo *d, int rc, const char *fmt, ...) {
  if (d->err && d->errsize && !d->err[0]) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->err, d->errsize, fmt, ap);
    va_end(ap);
  }
  return rc ? rc : MG_EINVAL;
}

/* ---- registry from the simulator's world ------------------------------------------------ */

static int seed_json(demo *d, const mg_sim_world *w, mg_buf *b) {
  uint64_t seed = d->o->seed;
  char today[11], due[11], fresh[11];
  date_of(d->now, today);
  date_of(d->now + 200 * DAY_US, due);
  int rc = mg_buf_adds(b, "{\"regulators\":[{\"kind\":\"ministry\",\"code\":\"moe\","
                          "\"name\":\"中华人民共和国教育部 Ministry of Education\"}");
  /* one education department per province that has a university */
  int seen[N_PROV] = {0};
  for (size_t i = 0; i < w->n_universities && !rc; i++) {
    int p = prov_index(w->universities[i].province);
    if (p < 0 || seen[p]) continue;
    seen[p] = 1;
    d->sum->provinces++;
    rc = mg_buf_addf(b, ",{\"kind\":\"province\",\"code\":\"edu-%s\",\"province\":\"%s\",\"name\":",
                     k_prov[p].code, k_prov[p].code);
    if (!rc) rc = js(b, k_prov[p].dept);
    if (!rc) rc = mg_buf_addc(b, '}');
  }
  d->sum->regulators = 1 + d->sum->provinces;
  if (!rc) rc = mg_buf_adds(b, "],\"universities\":[");
  for (size_t i = 0; i < w->n_universities && !rc; i++) {
    const mg_sim_university *u = &w->universities[i];
    int p = prov_index(u->province);
    d_univ *du = &d->univ[i];
    snprintf(du->code, sizeof du->code, "%s", u->code);
    snprintf(du->name, sizeof du->name, "%s", u->name);
    snprintf(du->home_page, sizeof du->home_page, "%s", u->home_page);
    snprintf(du->prov_code, sizeof du->prov_code, "%s", p >= 0 ? k_prov[p].code : "11");
    rc = mg_buf_addf(b, "%s{\"code\":", i ? "," : "");
    if (!rc) rc = js(b, u->code);
    if (!rc) rc = mg_buf_adds(b, ",\"name\":");
    if (!rc) rc = js(b, u->name);
    if (!rc) rc = mg_buf_addf(b, ",\"province\":\"%s\",\"home_page\":", du->prov_code);
    if (!rc) rc = js(b, u->home_page);
    if (!rc) rc = mg_buf_addc(b, '}');
  }
  d->sum->universities = (int64_t)w->n_universities;
  /* the simulator's platforms are filed and whitelisted; one more waits for the ministry's
   * decision and one was blacklisted */
  if (!rc) rc = mg_buf_adds(b, "],\"platforms\":[");
  for (size_t i = 0; i < w->n_platforms && !rc; i++) {
    rc = mg_buf_addf(b, "%s{\"code\":", i ? "," : "");
    if (!rc) rc = js(b, w->platforms[i].code);
    if (!rc) rc = mg_buf_adds(b, ",\"name\":");
    if (!rc) rc = js(b, w->platforms[i].name);
    if (!rc)
      rc = mg_buf_addf(b, ",\"mlps_level\":3,\"filing_no\":\"%02zu0108%04d-00%03zu\","
                          "\"review_due\":\"%s\",\"status\":\"whitelist\",\"reason\":"
                          "\"%s 年度审查通过，等保三级备案有效 / annual review passed, MLPS level 3 "
                          "filing valid\"}",
                       11 + i * 3, 4000 + (int)(seed % 997), i + 1, due, today);
    d->sum->platforms_white++;
  }
  if (!rc)
    rc = mg_buf_addf(b, ",{\"code\":\"cn-xinzhi-ketang\",\"name\":\"新知课堂 Xinzhi Ketang\","
                        "\"province\":\"33\",\"mlps_level\":3,\"filing_no\":\"33010643-00217\","
                        "\"review_due\":\"%s\",\"status\":\"pending\"}"
                        ",{\"code\":\"cn-kuaixue-wangke\",\"name\":\"快学网课 Kuaixue Wangke\","
                        "\"province\":\"44\",\"mlps_level\":3,\"filing_no\":\"44030543-00088\","
                        "\"review_due\":\"%s\",\"status\":\"blacklist\",\"reason\":\"平台经营者"
                        "向学生兜售代刷课、代考服务，并提供自动挂机插件，违反教高〔2022〕1号第11、"
                        "13条，列入黑名单 / the operator sold course-brushing and proxy-exam "
                        "services to students and shipped an auto-play plug-in (教高〔2022〕1号 "
                        "cl. 11, 13): blacklisted\"}]",
                     due, due);
  d->sum->platforms_pending = d->sum->platforms_black = 1;
  if (!rc)
    rc = mg_buf_adds(b, ",\"pledge\":{\"version\":\"2024-v1\",\"body\":\"本人承诺：在线课程学习"
                        "与考试均由本人独立完成，不使用任何刷课、刷考工具或代学、代考服务，不传播"
                        "试题与答案。如有违反，愿接受取消课程成绩及学校依规给予的纪律处分。 / I "
                        "pledge to study and sit every assessment of this online course myself, "
                        "to use no brushing tool or proxy service and not to spread questions or "
                        "answers; if I break this pledge the course grade is cancelled and the "
                        "university may discipline me.\"}");
  /* courses: the simulator's catalogue (approved and online), plus two rejected in review and
   * two whose content is too old to be selected */
  if (!rc) rc = mg_buf_adds(b, ",\"courses\":[");
  for (size_t i = 0; i < w->n_courses && !rc; i++) {
    const mg_sim_course *c = &w->courses[i];
    const char *slash = strrchr(c->iri, '/');
    char teacher[64];
    person_name(seed, 900000 + i, teacher, sizeof teacher);
    date_of(d->now - (int64_t)(20 + unit(seed, 7, i) * 250) * DAY_US, fresh);
    snprintf(d->course_iri[i], sizeof d->course_iri[i], "%s", c->iri);
    rc = mg_buf_addf(b, "%s{\"platform\":", i ? "," : "");
    if (!rc) rc = js(b, w->platforms[c->platform].code);
    if (!rc) rc = mg_buf_adds(b, ",\"university\":");
    if (!rc) rc = js(b, w->universities[i % w->n_universities].code);
    if (!rc) rc = mg_buf_addf(b, ",\"code\":\"%s\",\"title\":", slash ? slash + 1 : "C");
    if (!rc) rc = js(b, c->title);
    if (!rc) rc = mg_buf_adds(b, ",\"lead_teacher\":");
    if (!rc) rc = js(b, teacher);
    if (!rc) rc = mg_buf_adds(b, ",\"iri\":");
    if (!rc) rc = js(b, c->iri);
    if (!rc) rc = mg_buf_addf(b, ",\"content_updated\":\"%s\"}", fresh);
    d->sum->courses_approved++;
  }
  static const char *const extra_title[4] = {"短视频运营实战", "区块链炒币入门", "计算机文化基础",
                                             "大学语文"};
  for (int k = 0; k < 4 && !rc; k++) {
    const mg_sim_platform *p = &w->platforms[(size_t)k % w->n_platforms];
    int stale = k >= 2;
    rc = mg_buf_adds(b, ",{\"platform\":");
    if (!rc) rc = js(b, p->code);
    if (!rc) rc = mg_buf_adds(b, ",\"university\":");
    if (!rc) rc = js(b, w->universities[(size_t)k % w->n_universities].code);
    if (!rc)
      rc = mg_buf_addf(b, ",\"code\":\"X%d\",\"title\":\"%s\",\"lead_teacher\":\"%s\","
                          "\"iri\":\"%s/course/extra-%d\",\"content_updated\":\"%s\","
                          "\"reviewed\":%s}",
                       k + 1, extra_title[k], stale ? "张老师" : "李老师", p->home, k + 1,
                       stale ? (k == 2 ? "2021-03-01" : "2022-09-15") : today,
                       stale ? "true" : "false");
    if (stale) d->sum->courses_stale++;
    else d->sum->courses_rejected++;
  }
  if (!rc) rc = mg_buf_adds(b, "],\"offerings\":[");
  for (size_t i = 0; i < d->n_off && !rc; i++) {
    d_offering *o = &d->off[i];
    const mg_sim_course *c = &w->courses[o->course];
    char resp[64], inv[64];
    person_name(seed, 700000 + i, resp, sizeof resp);
    person_name(seed, 800000 + i, inv, sizeof inv);
    o->credits = (i % 3 == 0) ? 2.0 : 1.0;
    rc = mg_buf_addf(b, "%s{\"university\":", i ? "," : "");
    if (!rc) rc = js(b, d->univ[o->univ].code);
    if (!rc) rc = mg_buf_adds(b, ",\"course_iri\":");
    if (!rc) rc = js(b, c->iri);
    if (!rc) rc = mg_buf_addf(b, ",\"term\":\"%s\",\"credits\":%.1f,\"resp_teacher\":", d->term,
                              o->credits);
    if (!rc) rc = js(b, resp);
    if (!rc) rc = mg_buf_addf(b, ",\"iri\":\"%s/offerings/%s/%s\",\"exam\":{\"title\":", c->iri,
                              d->univ[o->univ].code, d->term);
    char title[320];
    snprintf(title, sizeof title, "%s 期末考试 / final exam", c->title);
    if (!rc) rc = js(b, title);
    if (!rc) rc = mg_buf_adds(b, ",\"invigilator\":");
    if (!rc) rc = js(b, inv);
    if (!rc) rc = mg_buf_adds(b, "}}");
  }
  d->sum->offerings = d->sum->exams = (int64_t)d->n_off;
  /* rosters: every enrolment of the term, most with the pledge signed */
  if (!rc) rc = mg_buf_adds(b, "],\"rosters\":[");
  for (size_t i = 0; i < d->n_off && !rc; i++) {
    d_offering *o = &d->off[i];
    rc = mg_buf_addf(b, "%s{\"offering_iri\":\"%s/offerings/%s/%s\",\"students\":[", i ? "," : "",
                     w->courses[o->course].iri, d->univ[o->univ].code, d->term);
    int first = 1;
    for (size_t e = 0; e < d->n_enr && !rc; e++) {
      d_enrol *en = &d->enr[e];
      if ((size_t)en->offering != i) continue;
      char name[64];
      person_name(seed, (uint64_t)en->student, name, sizeof name);
      en->pledge = unit(seed, 11, e) >= 0.03;
      if (en->pledge) d->sum->pledges_signed++;
      else d->sum->pledges_unsigned++;
      rc = mg_buf_addf(b, "%s{\"student_no\":", first ? "" : ",");
      if (!rc) rc = js(b, w->students[en->student].name);
      if (!rc) rc = mg_buf_adds(b, ",\"name\":");
      if (!rc) rc = js(b, name);
      if (!rc) rc = mg_buf_addf(b, ",\"registration\":\"%s\",\"pledge\":%s}", en->reg,
                                en->pledge ? "true" : "false");
      first = 0;
    }
    if (!rc) rc = mg_buf_adds(b, "]}");
  }
  if (!rc) rc = mg_buf_adds(b, "]}");
  return rc;
}

/* The review steps that leave the two extra courses rejected. */
static int reject_courses(demo *d, const mg_sim_world *w) {
  for (int k = 0; k < 2; k++) {
    char iri[600];
    snprintf(iri, sizeof iri, "%s/course/extra-%d", w->platforms[(size_t)k % w->n_platforms].home,
             k + 1);
    mg_reg_course c;
    mg_registry_why why;
    int rc = mg_store_reg_course_by_iri(d->s, iri, &c);
    if (!rc) rc = mg_registry_course_review(d->s, c.id, "content", "pass", "内容完整 / complete",
                                            "平台审核员 reviewer", d->now, NULL, &why);
    if (!rc)
      rc = mg_registry_course_review(
          d->s, c.id, k ? "ideology" : "quality", "fail",
          k ? "课程宣传投机炒币，价值导向不当，不予上线 / promotes speculative coin trading: "
              "not put online"
            : "课程内容以营销技巧拼凑，无教学大纲与考核方案，质量不达标 / no syllabus or "
              "assessment plan: below the quality norm",
          "平台审核员 reviewer", d->now, NULL, &why);
    if (rc) return fail(d, rc, "rejecting course %s: %s", iri, why.message);
  }
  return MG_OK;
}

/* Registry ids of the simulator's platforms, by code. */
static int platform_row(void *ud, const mg_reg_platform *rp) {
  demo *d = ud;
  for (size_t i = 0; i < d->n_plat; i++)
    if (!strcmp(rp->org.code, d->plat[i].code_copy)) d->plat[i].id = rp->org.id;
  return MG_OK;
}

static int credentials(demo *d) {
  int rc = mg_store_reg_platform_list(d->s, NULL, platform_row, d);
  if (rc) return fail(d, rc, "listing platforms: %s", mg_strerror(rc));
  for (size_t i = 0; i < d->n_plat && i < MG_DEMO_MAX_CREDS; i++) {
    d_platform *p = &d->plat[i];
    if (!p->id) return fail(d, MG_ENOTFOUND, "platform %s is not in the registry", p->code_copy);
    mg_demo_credential *c = &d->sum->creds[d->sum->n_creds];
    snprintf(c->platform_code, sizeof c->platform_code, "%s", p->code_copy);
    snprintf(c->platform_name, sizeof c->platform_name, "%s", p->name);
    rc = mg_auth_credential_create(d->s, p->name, p->id, c->key, c->secret);
    if (rc) return fail(d, rc, "creating the credential of %s: %s", p->code_copy, mg_strerror(rc));
    d->sum->n_creds++;
    p->authority = mg_xapi_platform_authority(&d->meta, d->o->base_url, c->key, p->name);
    if (!p->authority) return fail(d, MG_ENOMEM, "out of memory");
  }
  return MG_OK;
}

static int on_world(void *ud, const mg_sim_world *w) {
  demo *d = ud;
  int rc;
  d->n_plat = w->n_platforms;
  d->n_univ = w->n_universities;
  d->n_courses = w->n_courses;
  d->n_enr = w->n_enrolments;
  d->plat = calloc(d->n_plat, sizeof *d->plat);
  d->univ = calloc(d->n_univ, sizeof *d->univ);
  d->course_iri = calloc(d->n_courses, sizeof *d->course_iri);
  d->off_of = malloc(d->n_univ * d->n_courses * sizeof *d->off_of);
  d->enr = calloc(d->n_enr ? d->n_enr : 1, sizeof *d->enr);
  d->off = calloc(d->n_univ * d->n_courses, sizeof *d->off);
  if (!d->plat || !d->univ || !d->course_iri || !d->off_of || !d->enr || !d->off)
    return d->rc = fail(d, MG_ENOMEM, "out of memory");
  for (size_t i = 0; i < d->n_plat; i++) {
    d->plat[i].code = w->platforms[i].code;
    d->plat[i].name = w->platforms[i].name;
    snprintf(d->plat[i].code_copy, sizeof d->plat[i].code_copy, "%s", w->platforms[i].code);
    mg_arena_init(&d->plat[i].arena, 1 << 20, 0);
    mg_arena_init(&d->plat[i].texts, 1 << 20, 0);
  }
  for (size_t i = 0; i < d->n_univ * d->n_courses; i++) d->off_of[i] = -1;
  /* one offering per (university, course) with students: the university's selection */
  for (size_t e = 0; e < d->n_enr; e++) {
    const mg_sim_enrolment *se = &w->enrolments[e];
    int u = w->students[se->student].university;
    size_t k = (size_t)u * d->n_courses + (size_t)se->course;
    if (d->off_of[k] < 0) {
      d->off_of[k] = (int)d->n_off;
      d->off[d->n_off].univ = u;
      d->off[d->n_off].course = se->course;
      d->n_off++;
    }
    d_enrol *en = &d->enr[e];
    snprintf(en->reg, sizeof en->reg, "%s", se->registration);
    en->student = se->student;
    en->course = se->course;
    en->offering = d->off_of[k];
    d->univ[u].enrolments++;
    d->plat[w->courses[se->course].platform].enrolments++;
  }
  d->sum->students = (int64_t)w->n_students;
  d->sum->enrolments = (int64_t)d->n_enr;
  if (d->n_enr) snprintf(d->sum->sample_registration, sizeof d->sum->sample_registration, "%s",
                         d->enr[0].reg);
  progress(d, "world: %zu universities, %zu platforms, %zu courses, %zu students, %zu enrolments "
              "in %zu offerings", d->n_univ, d->n_plat, d->n_courses, w->n_students, d->n_enr,
           d->n_off);
  mg_buf b;
  mg_buf_init(&b, (size_t)1 << 30);
  mg_arena a;
  mg_arena_init(&a, 1 << 20, 0);
  rc = seed_json(d, w, &b);
  if (rc) {
    rc = fail(d, rc, "building the registry seed: %s", mg_strerror(rc));
    goto out;
  }
  mg_json_error je;
  mg_json *doc = mg_json_parse(&a, b.data, b.len, 0, &je);
  if (!doc) {
    rc = fail(d, MG_EINVAL, "registry seed is not JSON (byte %zu: %s)", je.position, je.text);
    goto out;
  }
  mg_registry_seed_result res;
  mg_registry_why why;
  rc = mg_registry_seed(d->s, doc, BY, d->now, &res, &why);
  if (rc) {
    rc = fail(d, rc, "registry seed refused: %s: %s", why.code, why.message);
    goto out;
  }
  if ((rc = mg_store_tx_begin(d->s))) {
    rc = fail(d, rc, "store busy: %s", mg_strerror(rc));
    goto out;
  }
  rc = reject_courses(d, w);
  if (rc) mg_store_tx_rollback(d->s);
  else if ((rc = mg_store_tx_commit(d->s))) rc = fail(d, rc, "commit: %s", mg_strerror(rc));
  /* credentials are written on their own connection: outside the transaction */
  if (!rc) rc = credentials(d);
  if (!rc) {
    for (size_t i = 0; i < d->n_univ; i++) {
      mg_reg_org org;
      if (mg_store_reg_org_by_home_page(d->s, d->univ[i].home_page, &org) == MG_OK)
        d->univ[i].id = org.id;
    }
    progress(d, "registry: %lld orgs, %lld platforms, %lld courses, %lld offerings, %lld "
                "enrolments, %lld pledges signed",
             (long long)res.orgs, (long long)res.platforms, (long long)res.courses,
             (long long)res.offerings, (long long)res.enrolments, (long long)res.pledges);
  }
out:
  mg_buf_free(&b);
  mg_arena_free(&a);
  if (rc) d->rc = rc;
  return rc;
}

/* ---- statements: ingest per platform, detectors alongside ------------------------------- */

static int ingest(demo *d, d_platform *p, size_t from, size_t to, int *refused) {
  mg_arena_reset(&p->arena);
  mg_json *arr = mg_json_array(&p->arena);
  if (!arr) return fail(d, MG_ENOMEM, "out of memory");
  for (size_t i = from; i < to; i++) {
    char msg[256];
    mg_json *st = mg_xapi_parse_json(&p->arena, p->text[i], p->len[i], msg, sizeof msg);
    if (!st) return fail(d, MG_EINVAL, "the simulator produced a statement that is not JSON: %s", msg);
    if (mg_json_array_append(&p->arena, arr, st)) return fail(d, MG_ENOMEM, "out of memory");
  }
  mg_xapi_ingest_ctx ctx = {d->s, MG_XAPI_V200, p->authority, p->id, &p->arena, NULL, NULL};
  mg_xapi_ingest_result res;
  int rc = mg_xapi_ingest(&ctx, arr, NULL, NULL, 0, &res);
  if (rc && res.status == 400 && refused) {
    *refused = 1;
    return MG_OK;
  }
  if (rc) return fail(d, rc, "ingest refused statements of %s: %d %s: %s", p->code_copy,
                      res.status, res.error, res.message);
  return MG_OK;
}

/* One durable batch per platform. The simulator re-posts a few statements with the same id, as
 * platforms do; the LRS takes a re-post as a no-op, but one batch may not carry an id twice, so
 * a batch refused for that goes in statement by statement, as `moocguard import` does. */
static int flush_platform(demo *d, d_platform *p) {
  if (!p->n) return MG_OK;
  memset(p->ids, 0, sizeof p->ids);
  int refused = 0;
  int rc = ingest(d, p, 0, p->n, &refused);
  for (size_t i = 0; refused && !rc && i < p->n; i++) rc = ingest(d, p, i, i + 1, NULL);
  if (!rc) d->sum->statements += (int64_t)p->n;
  p->n = 0;
  mg_arena_reset(&p->texts);
  mg_arena_reset(&p->arena);
  return rc;
}

/* The first occurrence of needle in hay[0, len) (memmem is not in C11). */
static const char *find(const char *hay, size_t len, const char *needle, size_t nlen) {
  for (size_t i = 0; i + nlen <= len; i++)
    if (hay[i] == needle[0] && !memcmp(hay + i, needle, nlen)) return hay + i;
  return NULL;
}

static int on_statement(void *ud, const char *json, size_t len) {
  demo *d = ud;
  static const char key[] = "platform-code\":\"";
  const char *at = find(json, len, key, sizeof key - 1);
  d_platform *p = &d->plat[0];
  if (at) {
    at += sizeof key - 1;
    for (size_t i = 0; i < d->n_plat; i++) {
      size_t n = strlen(d->plat[i].code_copy);
      if ((size_t)(json + len - at) > n && !memcmp(at, d->plat[i].code_copy, n) && at[n] == '"') {
        p = &d->plat[i];
        break;
      }
    }
  }
  /* a re-post of a statement already in this batch starts the next batch (see flush_platform) */
  int rc;
  static const char idkey[] = "\"id\":\"";
  const char *id = find(json, len < 64 ? len : 64, idkey, sizeof idkey - 1);
  if (id && (size_t)(json + len - id) > sizeof idkey + 36) {
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < 36; i++) h = (h ^ (uint8_t)id[sizeof idkey - 1 + i]) * 1099511628211ULL;
    h |= 1;
    size_t slot = (size_t)(h % (2 * BATCH));
    while (p->ids[slot] && p->ids[slot] != h) slot = (slot + 1) % (2 * BATCH);
    if (p->ids[slot] == h) {
      if ((rc = flush_platform(d, p))) return rc;
      slot = (size_t)(h % (2 * BATCH));
    }
    p->ids[slot] = h;
  }
  if (!(p->text[p->n] = mg_arena_strndup(&p->texts, json, len))) return fail(d, MG_ENOMEM, "no memory");
  p->len[p->n++] = len;
  if ((rc = mg_detect_feed_json(d->det, json, len))) return fail(d, rc, "detectors: %s",
                                                                  mg_strerror(rc));
  if (p->n >= BATCH && (rc = flush_platform(d, p))) return rc;
  return MG_OK;
}

static int on_label(void *ud, const mg_sim_label *l) {
  demo *d = ud;
  if (d->n_labels >= d->n_enr) return MG_OK;
  d_enrol *en = &d->enr[d->n_labels++];
  if (strcmp(en->reg, l->registration)) return MG_OK; /* labels come in enrolment order */
  en->cohort = (int)l->cohort;
  for (size_t i = 0; i < l->n_misconduct; i++) en->families |= 1u << l->misconduct[i].family;
  if (l->n_misconduct) d->sum->attacked_enrolments++;
  return MG_OK;
}

static void on_progress(void *ud, const mg_sim_progress *pr) {
  demo *d = ud;
  int64_t now = mg_time_mono_us();
  if (pr->day < pr->days && now - d->last_progress < 2000000) return;
  d->last_progress = now;
  double s = (double)(now - d->t0) / 1e6;
  progress(d, "term: day %d/%d, %llu statements stored and checked (%.0f/s)", pr->day, pr->days,
           (unsigned long long)pr->statements, s > 0 ? (double)pr->statements / s : 0.0);
}

static int on_finding(void *ud, const mg_detect_finding *f) {
  demo *d = ud;
  static mg_store_finding row; /* large; one engine per build, not reentrant */
  mg_detect_finding_to_store(f, d->now, &row);
  int rc = mg_store_finding_put(d->s, &row, NULL, NULL);
  if (rc) return fail(d, rc, "storing a finding: %s", mg_strerror(rc));
  d->sum->findings++;
  return MG_OK;
}

/* ---- people: accounts ------------------------------------------------------------------- */

typedef struct acct_spec {
  const char *role, *username, *display;
  const char *org_kind;
  int64_t org_id;
  const char *province;
  int64_t student_id;
} acct_spec;

static int make_accounts(demo *d, const acct_spec *specs, size_t n) {
  mg_auth_hash_cost cost;
  if (mg_auth_hash_cost_parse(d->o->hash_cost, &cost)) cost = MG_AUTH_HASH_INTERACTIVE;
  for (size_t i = 0; i < n && d->sum->n_logins < MG_DEMO_MAX_LOGINS; i++) {
    const acct_spec *a = &specs[i];
    mg_demo_login *L = &d->sum->logins[d->sum->n_logins];
    memset(L, 0, sizeof *L);
    snprintf(L->role, sizeof L->role, "%s", a->role);
    snprintf(L->username, sizeof L->username, "%s", a->username);
    snprintf(L->display_name, sizeof L->display_name, "%s", a->display);
    char hash[MG_AUTH_HASH_MAX], why[256] = "";
    int rc = mg_auth_password_generate(L->password, sizeof L->password);
    if (!rc) rc = mg_auth_password_hash(L->password, cost, hash);
    if (rc) return fail(d, rc, "hashing a password: %s", mg_strerror(rc));
    mg_auth_user_new nu = {a->username, a->display, a->role, a->org_id, a->org_kind,
                           a->province, a->student_id};
    mg_store_user u;
    rc = mg_auth_user_prepare(&nu, hash, 0, d->now, &u, why, sizeof why);
    if (rc) return fail(d, rc, "account %s: %s", a->username, why);
    if (mg_auth_role_needs_mfa(mg_auth_role_parse(a->role))) {
      /* enrolled already, so the person only adds the secret to an authenticator app */
      char hex[2 * MG_TOTP_SECRET_LEN + 1];
      if ((rc = mg_auth_totp_new_secret(hex, L->totp_b32)))
        return fail(d, rc, "TOTP secret: %s", mg_strerror(rc));
      rc = mg_auth_totp_secret_seal(hex, u.totp_secret, sizeof u.totp_secret);
      if (rc) return fail(d, rc, "sealing a TOTP secret: %s", mg_strerror(rc));
      u.totp_enabled = 1;
    }
    if ((rc = mg_store_user_create(d->s, &u, NULL)))
      return fail(d, rc, "account %s: %s", a->username, mg_strerror(rc));
    d->sum->n_logins++;
  }
  return MG_OK;
}

/* ---- people: exams ---------------------------------------------------------------------- */

static int first_exam(void *ud, const mg_reg_exam *e) {
  int64_t *id = ud;
  if (!*id) *id = e->id;
  return MG_OK;
}

static int exams(demo *d) {
  for (size_t i = 0; i < d->n_off; i++) {
    d_offering *o = &d->off[i];
    char iri[800];
    snprintf(iri, sizeof iri, "%s/offerings/%s/%s", d->course_iri[o->course], d->univ[o->univ].code,
             d->term);
    mg_reg_offering off;
    int rc = mg_store_reg_offering_by_iri(d->s, iri, &off);
    if (rc) return fail(d, rc, "offering %s: %s", iri, mg_strerror(rc));
    o->id = off.id;
    o->course_id = off.course_id;
    int64_t exam_id = 0;
    rc = mg_store_reg_exam_list(d->s, off.id, first_exam, &exam_id);
    if (rc || !exam_id) return fail(d, rc ? rc : MG_ENOTFOUND, "exam of offering %s", iri);
    o->exam_id = exam_id;
  }
  for (size_t e = 0; e < d->n_enr; e++) {
    d_enrol *en = &d->enr[e];
    d_offering *o = &d->off[en->offering];
    mg_registry_why why;
    memset(&why, 0, sizeof why);
    /* the platform's provisional score: bank users score high, others around 75 */
    double sc = 75 + 14 * (unit(d->o->seed, 21, e) - 0.5) * 2;
    if (en->families & (1u << MG_SIM_EXAM_BRUSH)) sc = 96 + 4 * unit(d->o->seed, 22, e);
    if (unit(d->o->seed, 23, e) < 0.06) sc = 35 + 20 * unit(d->o->seed, 24, e);
    int rc = mg_registry_exam_submit(d->s, o->exam_id, en->reg, (int)(sc * 10), "platform", d->now,
                                     &why);
    if (rc) return fail(d, rc, "exam result of %s: %s", en->reg, why.message);
    if (unit(d->o->seed, 25, e) < 0.02) { /* the supervision record is not in yet */
      d->sum->results_provisional++;
      continue;
    }
    mg_reg_supervision sv;
    memset(&sv, 0, sizeof sv);
    sv.exam_id = o->exam_id;
    int proxy = (en->families & (1u << MG_SIM_PROXY_EXAM)) != 0;
    snprintf(sv.face_start, sizeof sv.face_start, "pass");
    snprintf(sv.face_during, sizeof sv.face_during, "%s", proxy ? "fail" : "pass");
    snprintf(sv.dual_camera, sizeof sv.dual_camera, "pass");
    person_name(d->o->seed, 800000 + (uint64_t)en->offering, sv.invigilator, sizeof sv.invigilator);
    snprintf(sv.notes, sizeof sv.notes, "%s",
             proxy ? "考中人脸比对与报名照片不一致 / mid-exam face check did not match the "
                     "enrolment photo"
                   : "监考正常 / nothing to note");
    rc = mg_registry_exam_supervise(d->s, &sv, en->reg, "invigilator", d->now, &why);
    if (rc) return fail(d, rc, "supervision of %s: %s", en->reg, why.message);
    if (!en->pledge || proxy) {
      d->sum->results_provisional++;
      continue;
    }
    rc = mg_registry_exam_finalise(d->s, o->exam_id, en->reg, "academic-affairs", d->now, &why);
    if (rc) return fail(d, rc, "finalising %s: %s", en->reg, why.message);
    d->sum->results_final++;
  }
  return MG_OK;
}


/* ---- people: inbox and cases ------------------------------------------------------------ */

typedef struct d_finding {
  int64_t id;
  char type[24];
  char registration[64], student[128], course[256], platform[64];
  int univ;
  char summary[1536];
  char evidence[8 * 40 + 4], rules[256];
  double score;
} d_finding;

typedef struct finding_list {
  demo *d;
  d_finding *f;
  size_t n, cap;
  int rc;
} finding_list;

static int finding_row(void *ud, const mg_store_finding *f) {
  finding_list *l = ud;
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 256;
    d_finding *nf = realloc(l->f, cap * sizeof *nf);
    if (!nf) return MG_ENOMEM;
    l->f = nf;
    l->cap = cap;
  }
  d_finding *x = &l->f[l->n];
  memset(x, 0, sizeof *x);
  x->id = f->id;
  x->score = f->score;
  x->univ = -1;
  for (size_t i = 0; i < l->d->n_univ; i++)
    if (!strcmp(l->d->univ[i].home_page, f->university)) x->univ = (int)i;
  snprintf(x->type, sizeof x->type, "%s", f->type);
  snprintf(x->registration, sizeof x->registration, "%s", f->registration);
  snprintf(x->student, sizeof x->student, "%s", f->student);
  snprintf(x->course, sizeof x->course, "%s", f->course);
  snprintf(x->platform, sizeof x->platform, "%s", f->platform);
  snprintf(x->summary, sizeof x->summary, "%s", f->explain_zh);
  snprintf(x->evidence, sizeof x->evidence, "%s", f->evidence);
  snprintf(x->rules, sizeof x->rules, "%s", f->rules);
  if (x->univ >= 0) l->d->univ[x->univ].findings++;
  l->n++;
  return MG_OK;
}

static int list_findings(demo *d, finding_list *l) {
  mg_store_finding_filter flt;
  memset(&flt, 0, sizeof flt);
  flt.limit = 500;
  int more = 1, rc = MG_OK;
  while (more && !rc) {
    int64_t last = flt.after_id;
    rc = mg_store_finding_list(d->s, &flt, finding_row, l, &more, &last);
    if (last == flt.after_id) break;
    flt.after_id = last;
  }
  return rc;
}

/* Puts every finding into its university's inbox; item_ids[i] gets finding i's item (0: none). */
static int inbox(demo *d, finding_list *l, int64_t *item_ids, int64_t *student_ids) {
  for (size_t i = 0; i < l->n; i++) {
    d_finding *f = &l->f[i];
    if (f->univ < 0) continue;
    mg_store_inbox_item it;
    memset(&it, 0, sizeof it);
    mg_reg_student st;
    mg_reg_course c;
    int64_t uid = d->univ[f->univ].id;
    if (mg_store_reg_student_find(d->s, uid, f->student, &st) != MG_OK) continue;
    it.university_id = uid;
    it.student_id = st.id;
    for (size_t p = 0; p < d->n_plat; p++)
      if (!strcmp(d->plat[p].code_copy, f->platform)) it.platform_id = d->plat[p].id;
    if (mg_store_reg_course_by_iri(d->s, f->course, &c) == MG_OK) it.course_id = c.id;
    snprintf(it.registration, sizeof it.registration, "%.36s", f->registration);
    snprintf(it.source, sizeof it.source, "detector");
    it.finding_id = f->id;
    snprintf(it.type, sizeof it.type, "%s", f->type);
    snprintf(it.summary, sizeof it.summary, "%s", f->summary);
    snprintf(it.reported_by, sizeof it.reported_by, "detector");
    it.received_us = d->now;
    char ev[1024];
    snprintf(ev, sizeof ev, "{\"finding_id\":%lld,\"rules\":\"%s\",\"score\":%.2f,\"statements\":%s}",
             (long long)f->id, f->rules, f->score, f->evidence[0] ? f->evidence : "[]");
    it.evidence = ev;
    mg_case_err e = {"", ""};
    int rc = mg_cases_inbox_add(d->s, &it, &item_ids[i], &e);
    if (rc) return fail(d, rc, "inbox item for finding %lld: %s", (long long)f->id, e.message);
    student_ids[i] = st.id;
    d->sum->inbox_items++;
  }
  return MG_OK;
}

enum { PLAN_OPEN, PLAN_INVESTIGATING, PLAN_DISMISSED, PLAN_VERIFIED, PLAN_APPEALED,
       PLAN_APPEAL_REJECTED };
static const int k_plan[] = {PLAN_OPEN,     PLAN_OPEN,     PLAN_INVESTIGATING, PLAN_INVESTIGATING,
                             PLAN_DISMISSED, PLAN_VERIFIED, PLAN_VERIFIED,      PLAN_APPEALED,
                             PLAN_APPEAL_REJECTED};
#define N_PLAN (sizeof k_plan / sizeof k_plan[0])

typedef struct case_pick {
  size_t finding;   /* index into the finding list */
  int plan;
} case_pick;

/* Chooses findings of distinct students, from the university with most findings first. */
static size_t pick_cases(demo *d, finding_list *l, const int64_t *items, const int64_t *students,
                         int main_univ, case_pick *out) {
  size_t n = 0;
  for (int pass = 0; pass < 2 && n < N_PLAN; pass++)
    for (size_t i = 0; i < l->n && n < N_PLAN; i++) {
      if (!items[i] || (pass == 0) != (l->f[i].univ == main_univ)) continue;
      int dup = 0;
      for (size_t k = 0; k < n; k++) dup |= students[out[k].finding] == students[i];
      if (dup) continue;
      out[n].finding = i;
      out[n].plan = k_plan[n];
      n++;
    }
  (void)d;
  return n;
}

typedef struct actors {
  mg_case_actor admin, appeals, student;
} actors;

static int run_case(demo *d, const finding_list *l, const int64_t *items, const int64_t *students,
                    const case_pick *pk, const actors *who, int is_demo_student) {
  const d_finding *f = &l->f[pk->finding];
  mg_case_err e = {"", ""};
  int64_t cid = 0;
  int64_t win = d->o->appeal_window_s * 1000000LL;
  const char *note = strcmp(f->type, "course_brushing") == 0 && pk->plan == PLAN_VERIFIED
                         ? "疑似付费代刷服务，账号被多机同时挂机 / suspected paid brushing service"
                         : "";
  int rc = mg_cases_open(d->s, &who->admin, &items[pk->finding], 1, note, d->now, &cid, &e);
  if (!rc && pk->plan != PLAN_OPEN)
    rc = mg_cases_investigate(d->s, &who->admin, cid,
                              "调取平台日志与考试监考记录 / platform logs and exam supervision "
                              "records requested",
                              d->now, &e);
  if (!rc && pk->plan == PLAN_DISMISSED)
    rc = mg_cases_decide(d->s, &who->admin, cid, 0,
                         "经核实为学生本人学习（多设备同步），不构成违规 / verified as the "
                         "student's own study (device sync): no misconduct",
                         NULL, 0, win, d->now, &e);
  if (!rc && pk->plan >= PLAN_VERIFIED) {
    mg_sanction_kind kinds[2] = {MG_SANCTION_CANCEL_GRADE,
                                 pk->plan == PLAN_VERIFIED ? MG_SANCTION_WARNING
                                                           : MG_SANCTION_SERIOUS_WARNING};
    char reason[2048];
    snprintf(reason, sizeof reason,
             "经调查核实（检测规则 %s，平台日志与当事人陈述相互印证），认定存在%s行为，依据"
             "《教高〔2022〕1号》第10条取消该课程成绩并给予纪律处分 / verified after "
             "investigation (rules %s; platform logs and the student's statement agree)",
             f->rules, f->type, f->rules);
    rc = mg_cases_decide(d->s, &who->admin, cid, 1, reason, kinds, 2, win, d->now, &e);
    d->sum->sanctions += rc ? 0 : 2;
  }
  mg_case_actor st = who->student;
  if (!is_demo_student) {
    st.user_id = 0;
    st.name = f->student;
    st.student_id = students[pk->finding];
  }
  if (!rc && pk->plan >= PLAN_APPEALED)
    rc = mg_cases_appeal(d->s, &st, cid,
                         "本人当时确在学习，所用设备为室友借用的笔记本，请求复核 / I was studying; "
                         "the laptop was borrowed from a roommate; please review",
                         d->now, &e);
  if (!rc && pk->plan == PLAN_APPEAL_REJECTED)
    rc = mg_cases_decide_appeal(d->s, &who->appeals, cid, 0,
                                "复核维持原决定：同一时段存在异地并发学习记录 / upheld the "
                                "decision on review: concurrent sessions from another city",
                                d->now, &e);
  if (rc) return fail(d, rc, "case for finding %lld (%s): %s: %s", (long long)f->id, f->type,
                      e.code, e.message);
  switch (pk->plan) {
    case PLAN_OPEN: d->sum->cases_open++; break;
    case PLAN_INVESTIGATING: d->sum->cases_investigating++; break;
    case PLAN_DISMISSED: d->sum->cases_dismissed++; break;
    case PLAN_VERIFIED: d->sum->cases_verified++; break;
    case PLAN_APPEALED: d->sum->cases_appealed++; break;
    default: d->sum->cases_appeal_rejected++; break;
  }
  return MG_OK;
}

/* ---- credit and the regulator's report -------------------------------------------------- */

static int credit(demo *d) {
  for (size_t i = 0; i < d->n_enr; i++) {
    d_enrol *en = &d->enr[i];
    d_offering *o = &d->off[en->offering];
    mg_reg_enrolment e;
    mg_registry_why why;
    int rc = mg_registry_enrolment_find(d->s, en->reg, &e, &why);
    if (rc) return fail(d, rc, "enrolment %s: %s", en->reg, why.message);
    mg_credit_facts f;
    memset(&f, 0, sizeof f);
    snprintf(f.registration, sizeof f.registration, "%.36s", en->reg);
    f.university_id = d->univ[o->univ].id;
    f.student_id = e.student_id;
    f.offering_id = o->id;
    f.course_id = o->course_id;
    f.credits = o->credits;
    f.offering_approved = 1;
    f.platform_whitelisted = 1;
    snprintf(f.platform_status, sizeof f.platform_status, "whitelist");
    f.pledge_signed = e.pledge_signed > 0;
    mg_reg_result r;
    if (mg_store_reg_result_get(d->s, o->exam_id, e.id, &r) == MG_OK) {
      f.has_grade = 1;
      f.grade = r.score_tenths / 10.0;
      f.exam_finalised = r.final;
    }
    mg_reg_supervision sv;
    if (mg_store_reg_supervision_get(d->s, o->exam_id, e.id, &sv) == MG_OK)
      f.exam_supervised = !strcmp(sv.face_start, "pass") && !strcmp(sv.face_during, "pass") &&
                          !strcmp(sv.dual_camera, "pass");
    f.pass_mark = 60;
    mg_credit_result res;
    if ((rc = mg_credit_decide(d->s, &f, "academic-affairs", d->now, &res, NULL)))
      return fail(d, rc, "credit decision for %s: %s", en->reg, mg_strerror(rc));
    if (res.eligible) d->sum->credit_eligible++;
    else d->sum->credit_refused++;
  }
  return MG_OK;
}

static int report_org(void *ud, int is_platform, int64_t org_id, int64_t from_us, int64_t to_us,
                      mg_report_org *out) {
  demo *d = ud;
  (void)from_us;
  (void)to_us;
  memset(out, 0, sizeof out[0]);
  if (is_platform) {
    for (size_t i = 0; i < d->n_plat; i++)
      if (d->plat[i].id == org_id) {
        snprintf(out->name, sizeof out->name, "%s", d->plat[i].name);
        out->enrolments = d->plat[i].enrolments;
      }
  } else {
    for (size_t i = 0; i < d->n_univ; i++)
      if (d->univ[i].id == org_id) {
        snprintf(out->name, sizeof out->name, "%.*s", (int)sizeof out->name - 1, d->univ[i].name);
        mg_utf8_trim_tail(out->name);
        snprintf(out->province, sizeof out->province, "%s", d->univ[i].prov_code);
        out->enrolments = d->univ[i].enrolments;
      }
  }
  return MG_OK;
}

static int report(demo *d) {
  mg_report_params p = {d->now - 30 * DAY_US, d->now + 60 * 1000000LL, 50, NULL, d->now};
  mg_buf b;
  mg_buf_init(&b, (size_t)64 << 20);
  int rc = mg_notices_report_json(d->s, &p, report_org, d, &b);
  if (!rc) {
    mg_store_report r;
    memset(&r, 0, sizeof r);
    r.period_from_us = p.from_us;
    r.period_to_us = p.to_us;
    r.issued_us = d->now;
    snprintf(r.issued_by, sizeof r.issued_by, "demo-regulator");
    r.body = b.data;
    rc = mg_store_report_add(d->s, &r, &d->sum->report_id);
  }
  mg_buf_free(&b);
  return rc ? fail(d, rc, "regulator report: %s", mg_strerror(rc)) : MG_OK;
}

/* ---- the whole build -------------------------------------------------------------------- */

static int64_t user_id(mg_store *s, const char *name) {
  mg_store_user u;
  return mg_store_user_get(s, name, &u) == MG_OK ? u.id : 0;
}

static int first_org(void *ud, const mg_reg_org *o) {
  int64_t *id = ud;
  if (!*id) *id = o->id;
  return MG_OK;
}

static int people(demo *d) {
  finding_list l = {d, NULL, 0, 0, 0};
  int64_t *items = NULL, *students = NULL;
  int rc = list_findings(d, &l);
  if (rc) {
    rc = fail(d, rc, "listing findings: %s", mg_strerror(rc));
    goto out;
  }
  items = calloc(l.n + 1, sizeof *items);
  students = calloc(l.n + 1, sizeof *students);
  if (!items || !students) {
    rc = fail(d, MG_ENOMEM, "out of memory");
    goto out;
  }
  int main_univ = 0;
  for (size_t i = 1; i < d->n_univ; i++)
    if (d->univ[i].findings > d->univ[main_univ].findings) main_univ = (int)i;
  d_univ *mu = &d->univ[main_univ];

  /* exams, then the inbox (one transaction each: a failure leaves no half-done step) */
  if ((rc = mg_store_tx_begin(d->s))) goto busy;
  rc = exams(d);
  if (!rc) rc = inbox(d, &l, items, students);
  if (rc) {
    mg_store_tx_rollback(d->s);
    goto out;
  }
  if ((rc = mg_store_tx_commit(d->s))) goto busy;
  progress(d, "exams: %lld results final, %lld provisional; inbox: %lld items",
           (long long)d->sum->results_final, (long long)d->sum->results_provisional,
           (long long)d->sum->inbox_items);

  case_pick picks[N_PLAN];
  size_t n_picks = pick_cases(d, &l, items, students, main_univ, picks);
  /* the demo student is the one whose appeal is pending, so they see a case of their own */
  int64_t demo_student = 0;
  for (size_t k = 0; k < n_picks; k++)
    if (picks[k].plan == PLAN_APPEALED) demo_student = students[picks[k].finding];
  if (!demo_student) { /* no findings at all: any student of the main university */
    mg_reg_student st;
    for (size_t e = 0; e < d->n_enr && !demo_student; e++)
      if (d->off[d->enr[e].offering].univ == main_univ) {
        mg_reg_enrolment en;
        mg_registry_why why;
        if (mg_registry_enrolment_find(d->s, d->enr[e].reg, &en, &why) == MG_OK &&
            mg_store_reg_student_get(d->s, en.student_id, &st) == MG_OK)
          demo_student = st.id;
      }
  }
  int64_t ministry = 0, province = 0, platform0 = d->n_plat ? d->plat[0].id : 0;
  int rc2 = mg_store_reg_org_list(d->s, "ministry", NULL, first_org, &ministry);
  if (!rc2) rc2 = mg_store_reg_org_list(d->s, "province", mu->prov_code, first_org, &province);
  if (rc2) {
    rc = fail(d, rc2, "listing regulators: %s", mg_strerror(rc2));
    goto out;
  }
  char uname[300], pname[200];
  snprintf(uname, sizeof uname, "%s 教务处 academic affairs", mu->name);
  snprintf(pname, sizeof pname, "%s 运营 operator", d->n_plat ? d->plat[0].name : "");
  const acct_spec specs[] = {
      {"regulator", "demo-regulator", "教育部高教司 监管员 Ministry regulator", "ministry", ministry,
       "", 0},
      {"regulator", "demo-regulator-prov", "省教育厅 监管员 provincial regulator", "province",
       province, mu->prov_code, 0},
      {"univ_admin", "demo-univ-admin", uname, "university", mu->id, mu->prov_code, 0},
      {"univ_admin", "demo-univ-appeals", "学生申诉处理委员会 appeals committee", "university", mu->id,
       mu->prov_code, 0},
      {"resp_teacher", "demo-resp-teacher", "课程责任教师 responsible teacher", "university", mu->id,
       mu->prov_code, 0},
      {"lead_teacher", "demo-lead-teacher", "主讲教师 lead teacher", "university", mu->id,
       mu->prov_code, 0},
      {"student", "demo-student", "学生 student", "university", mu->id, mu->prov_code, demo_student},
      {"platform_operator", "demo-platform", pname, "platform", platform0, "", 0},
      {"sys_admin", "demo-sysadmin", "系统管理员 system administrator", "", 0, "", 0},
      {"sec_admin", "demo-secadmin", "安全管理员 security administrator", "", 0, "", 0},
      {"audit_admin", "demo-auditadmin", "审计管理员 audit administrator", "", 0, "", 0},
  };
  if ((rc = mg_store_tx_begin(d->s))) goto busy;
  rc = make_accounts(d, specs, sizeof specs / sizeof specs[0]);
  if (rc) {
    mg_store_tx_rollback(d->s);
    goto out;
  }
  if ((rc = mg_store_tx_commit(d->s))) goto busy;
  progress(d, "accounts: %zu (random passwords, TOTP enrolled for the roles that need it)",
           d->sum->n_logins);

  actors who = {{user_id(d->s, "demo-univ-admin"), "demo-univ-admin", 0},
                {user_id(d->s, "demo-univ-appeals"), "demo-univ-appeals", 0},
                {user_id(d->s, "demo-student"), "demo-student", demo_student}};
  if ((rc = mg_store_tx_begin(d->s))) goto busy;
  for (size_t k = 0; k < n_picks && !rc; k++)
    rc = run_case(d, &l, items, students, &picks[k], &who,
                  students[picks[k].finding] == demo_student);
  if (!rc) rc = credit(d);
  if (!rc) rc = report(d);
  if (!rc) {
    char detail[160];
    snprintf(detail, sizeof detail, "seed=%llu students=%d",
             (unsigned long long)d->o->seed, d->o->students);
    mg_audit_event ev = {.actor = "system", .role = "sys_admin", .action = "demo.seed",
                         .object_type = "store", .object_id = detail};
    if ((rc = mg_audit_append(d->s, &ev, NULL))) rc = fail(d, rc, "audit: %s", mg_strerror(rc));
  }
  if (rc) {
    mg_store_tx_rollback(d->s);
    goto out;
  }
  if ((rc = mg_store_tx_commit(d->s))) goto busy;
  progress(d, "cases: %lld open, %lld investigating, %lld dismissed, %lld verified, %lld appealed, "
              "%lld appeal rejected; credit: %lld eligible, %lld refused; report #%lld",
           (long long)d->sum->cases_open, (long long)d->sum->cases_investigating,
           (long long)d->sum->cases_dismissed, (long long)d->sum->cases_verified,
           (long long)d->sum->cases_appealed, (long long)d->sum->cases_appeal_rejected,
           (long long)d->sum->credit_eligible, (long long)d->sum->credit_refused,
           (long long)d->sum->report_id);
  goto out;
busy:
  rc = fail(d, rc, "store: %s", mg_strerror(rc));
out:
  free(l.f);
  free(items);
  free(students);
  return rc;
}

int mg_demo_build(mg_store *s, const mg_demo_options *o, mg_demo_summary *out, char *err,
                  size_t errsize) {
  memset(out, 0, sizeof *out);
  if (err && errsize) err[0] = 0;
  demo d;
  memset(&d, 0, sizeof d);
  d.s = s;
  d.o = o;
  d.sum = out;
  d.err = err;
  d.errsize = errsize;
  d.now = mg_time_now_us();
  d.t0 = d.last_progress = mg_time_mono_us();
  mg_arena_init(&d.meta, 1 << 16, 0);
  mg_sim_config cfg;
  mg_sim_config_default(&cfg);
  cfg.seed = o->seed;
  cfg.students = o->students;
  cfg.weeks = o->weeks;
  /* a campus-sized world: enough students per offering for rosters that look real */
  cfg.universities = o->students < 800 ? 4 : o->students < 4000 ? 8 : 12;
  cfg.courses = o->students < 800 ? 12 : o->students < 4000 ? 24 : 60;
  cfg.enrolments_per_student = 1.5;
  cfg.progress_every_days = 1;
  /* the term ended a week or two ago (Monday start), so the data reads as this term's */
  int64_t days = (int64_t)o->weeks * 7 + 7 + 10;
  int64_t today = (d.now + 8 * 3600 * 1000000LL) / DAY_US;
  int64_t start = today - days;
  start -= (start + 3) % 7; /* 1970-01-01 was a Thursday: (day + 3) % 7 == 0 on Mondays */
  cfg.term_start_us = start * DAY_US - 8 * 3600 * 1000000LL;
  char sd[11];
  date_of(cfg.term_start_us + DAY_US, sd);
  int month = (sd[5] - '0') * 10 + (sd[6] - '0');
  snprintf(d.term, sizeof d.term, "%.4s-%s", sd, month >= 2 && month <= 7 ? "spring" : "fall");
  snprintf(out->term, sizeof out->term, "%s", d.term);
  char why[256];
  int rc = mg_sim_config_check(&cfg, why, sizeof why);
  if (rc) {
    errf(err, errsize, "simulator settings: %s", why);
    goto out;
  }
  if ((rc = mg_detect_new(NULL, on_finding, &d, &d.det))) {
    errf(err, errsize, "detectors: %s", mg_strerror(rc));
    goto out;
  }
  progress(&d, "term %s from %s, %d weeks, seed %llu", d.term, sd, o->weeks,
           (unsigned long long)o->seed);
  mg_sim_sink sink = {&d, on_world, on_statement, on_label, on_progress};
  rc = mg_sim_run(&cfg, &sink);
  for (size_t i = 0; i < d.n_plat && !rc; i++) rc = flush_platform(&d, &d.plat[i]);
  if (!rc && (rc = mg_detect_flush(d.det))) rc = fail(&d, rc, "detectors: %s", mg_strerror(rc));
  if (rc) {
    if (err && !err[0]) errf(err, errsize, "simulated term: %s", mg_strerror(rc));
    goto out;
  }
  progress(&d, "term done: %lld statements stored, %lld findings",
           (long long)out->statements, (long long)out->findings);
  rc = people(&d);
out:
  out->seconds = (double)(mg_time_mono_us() - d.t0) / 1e6;
  mg_detect_free(d.det);
  for (size_t i = 0; i < d.n_plat; i++) {
    mg_arena_free(&d.plat[i].arena);
    mg_arena_free(&d.plat[i].texts);
  }
  free(d.plat);
  free(d.univ);
  free(d.course_iri);
  free(d.off_of);
  free(d.off);
  free(d.enr);
  mg_arena_free(&d.meta);
  return rc;
}

/* ---- the logins file -------------------------------------------------------------------- */

int mg_demo_logins_write(const char *path, const mg_demo_summary *sum) {
  unlink(path);
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0) return MG_EIO;
  FILE *f = fdopen(fd, "w");
  if (!f) {
    close(fd);
    return MG_EIO;
  }
  fprintf(f, "# moocguard demo: accounts and platform credentials, generated at first start.\n"
             "# 演示账户与平台凭据（首次启动时随机生成）。Keep this file private (mode 0600).\n"
             "# user ROLE USERNAME PASSWORD TOTP-SECRET(base32, '-' if none)\n"
             "# credential PLATFORM-CODE KEY SECRET\n");
  for (size_t i = 0; i < sum->n_logins; i++)
    fprintf(f, "user %s %s %s %s\n", sum->logins[i].role, sum->logins[i].username,
            sum->logins[i].password, sum->logins[i].totp_b32[0] ? sum->logins[i].totp_b32 : "-");
  for (size_t i = 0; i < sum->n_creds; i++)
    fprintf(f, "credential %s %s %s\n", sum->creds[i].platform_code, sum->creds[i].key,
            sum->creds[i].secret);
  if (sum->sample_registration[0]) fprintf(f, "registration %s\n", sum->sample_registration);
  int bad = ferror(f);
  if (fclose(f) != 0 || bad) return MG_EIO;
  return MG_OK;
}

int mg_demo_logins_read(const char *path, mg_demo_summary *sum) {
  struct stat st;
  if (stat(path, &st) != 0) return errno == ENOENT ? MG_ENOTFOUND : MG_EIO;
  if (st.st_mode & 077) return MG_EFORBIDDEN;
  FILE *f = fopen(path, "r");
  if (!f) return MG_EIO;
  memset(sum, 0, sizeof *sum);
  char line[1024];
  int rc = MG_OK;
  while (fgets(line, sizeof line, f) && !rc) {
    if (line[0] == '#' || line[0] == '\n') continue;
    if (!strncmp(line, "user ", 5) && sum->n_logins < MG_DEMO_MAX_LOGINS) {
      mg_demo_login *L = &sum->logins[sum->n_logins];
      if (sscanf(line + 5, "%23s %63s %63s %39s", L->role, L->username, L->password,
                 L->totp_b32) != 4)
        rc = MG_EINVAL;
      else {
        if (!strcmp(L->totp_b32, "-")) L->totp_b32[0] = 0;
        sum->n_logins++;
      }
    } else if (!strncmp(line, "credential ", 11) && sum->n_creds < MG_DEMO_MAX_CREDS) {
      mg_demo_credential *c = &sum->creds[sum->n_creds];
      if (sscanf(line + 11, "%63s %63s %63s", c->platform_code, c->key, c->secret) != 3)
        rc = MG_EINVAL;
      else
        sum->n_creds++;
    } else if (!strncmp(line, "registration ", 13)) {
      if (sscanf(line + 13, "%39s", sum->sample_registration) != 1) rc = MG_EINVAL;
    } else {
      rc = MG_EINVAL;
    }
  }
  fclose(f);
  if (!rc && (!sum->n_logins || !sum->n_creds)) rc = MG_EINVAL;
  return rc;
}
