/* tests/registry/test_registry.c — the governance registry: store and domain rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/err.h"
#include "core/json.h"
#include "core/time.h"
#include "core/uuid.h"
#include "crypto/crypto.h"
#include "crypto/keyring.h"
#include "registry/course.h"
#include "registry/eligibility.h"
#include "registry/exam.h"
#include "registry/offering.h"
#include "registry/org.h"
#include "registry/platform.h"
#include "registry/pledge.h"
#include "registry/roster.h"
#include "registry/seed.h"
#include "store/store_audit.h"
#include "store/store_registry.h"
#include "support.h"

/* ---- a small world ------------------------------------------------------------------------ */

typedef struct world {
  char dir[512];
  mg_store *s;
  int64_t now;
  int64_t u1, u2, p, p_black, course, offering;
} world;

static int64_t at(const char *iso) {
  mg_timestamp t;
  assert_int_equal(mg_time_parse_iso(iso, 0, &t), MG_OK);
  return t.us;
}

static int64_t mk_univ(world *w, const char *code, const char *prov, const char *hp) {
  mg_reg_org o;
  memset(&o, 0, sizeof o);
  snprintf(o.kind, sizeof o.kind, "university");
  snprintf(o.code, sizeof o.code, "%s", code);
  snprintf(o.name, sizeof o.name, "大学 %s", code);
  snprintf(o.province, sizeof o.province, "%s", prov);
  snprintf(o.home_page, sizeof o.home_page, "%s", hp);
  int64_t id = 0;
  mg_registry_why why;
  assert_int_equal(mg_registry_org_create(w->s, &o, w->now, &id, &why), MG_OK);
  return id;
}

static int64_t mk_platform(world *w, const char *code, const char *status) {
  mg_reg_org o;
  memset(&o, 0, sizeof o);
  snprintf(o.code, sizeof o.code, "%s", code);
  snprintf(o.name, sizeof o.name, "平台 %s", code);
  int64_t id = 0;
  mg_registry_why why;
  assert_int_equal(mg_registry_platform_create(w->s, &o, w->now, &id, &why), MG_OK);
  assert_int_equal(mg_registry_platform_file(w->s, id, 3, "11010000000-00001", "2025-12-31",
                                             w->now, &why),
                   MG_OK);
  assert_int_equal(mg_registry_platform_set_status(w->s, id, status, "年度审核", "moe", w->now, &why),
                   MG_OK);
  return id;
}

static int64_t mk_course(world *w, int64_t platform, int64_t univ, const char *code, int review) {
  mg_registry_why why;
  mg_reg_recommendation r;
  memset(&r, 0, sizeof r);
  r.university_id = univ;
  r.platform_id = platform;
  snprintf(r.title, sizeof r.title, "课程 %s", code);
  snprintf(r.lead_teacher, sizeof r.lead_teacher, "李老师");
  snprintf(r.letter_no, sizeof r.letter_no, "推荐-%s", code);
  mg_reg_course c;
  memset(&c, 0, sizeof c);
  assert_int_equal(mg_registry_recommend(w->s, &r, "u1admin", w->now, &c.recommendation_id, &why),
                   MG_OK);
  c.platform_id = platform;
  snprintf(c.code, sizeof c.code, "%s", code);
  snprintf(c.iri, sizeof c.iri, "https://mooc.example.cn/course/%s", code);
  snprintf(c.content_updated, sizeof c.content_updated, "2025-02-01");
  int64_t id = 0;
  assert_int_equal(mg_registry_course_submit(w->s, &c, "op", w->now, &id, &why), MG_OK);
  if (review) {
    const char *kinds[3] = {"content", "ideology", "quality"};
    char st[16];
    for (int k = 0; k < 3; k++)
      assert_int_equal(mg_registry_course_review(w->s, id, kinds[k], "pass", "通过", "rev", w->now,
                                                 st, &why),
                       MG_OK);
    assert_string_equal(st, "approved");
  }
  return id;
}

static int setup(void **state) {
  world *w = calloc(1, sizeof *w);
  mg_test_tmpdir("registry", w->dir, sizeof w->dir);
  char db[600];
  snprintf(db, sizeof db, "%s/r.db", w->dir);
  assert_int_equal(mg_store_open(db, &w->s, NULL), MG_OK);
  w->now = at("2025-03-01T08:00:00Z");
  w->u1 = mk_univ(w, "10001", "11", "https://ids.u1.edu.cn");
  w->u2 = mk_univ(w, "10002", "31", "https://ids.u2.edu.cn");
  w->p = mk_platform(w, "pa", "whitelist");
  w->p_black = mk_platform(w, "pb", "blacklist");
  w->course = mk_course(w, w->p, w->u1, "C1", 1);
  mg_registry_why why;
  mg_reg_offering o;
  memset(&o, 0, sizeof o);
  o.university_id = w->u1;
  o.course_id = w->course;
  snprintf(o.term, sizeof o.term, "2025-spring");
  o.credits_tenths = 20;
  snprintf(o.resp_teacher, sizeof o.resp_teacher, "王老师");
  assert_int_equal(mg_registry_offering_create(w->s, &o, "u1admin", w->now, &w->offering, &why),
                   MG_OK);
  assert_int_equal(mg_registry_pledge_publish(w->s, "2025.1", "本人承诺：诚信学习，不刷课、不替考。\n",
                                              "moe", w->now, &why),
                   MG_OK);
  *state = w;
  return 0;
}

static int teardown(void **state) {
  world *w = *state;
  mg_store_close(w->s);
  free(w);
  return 0;
}

/* ---- organisations and platforms --------------------------------------------------------- */

static void test_org_rules(void **state) {
  world *w = *state;
  mg_registry_why why;
  mg_reg_org o;
  memset(&o, 0, sizeof o);
  snprintf(o.kind, sizeof o.kind, "university");
  snprintf(o.code, sizeof o.code, "10003");
  snprintf(o.name, sizeof o.name, "三校");
  snprintf(o.province, sizeof o.province, "11");
  /* a university needs its identity homePage */
  assert_int_equal(mg_registry_org_create(w->s, &o, w->now, NULL, &why), MG_EINVAL);
  assert_string_equal(why.code, "invalid_field");
  assert_non_null(strstr(why.message, "home_page"));
  /* the homePage is unique: it maps statements to universities */
  snprintf(o.home_page, sizeof o.home_page, "https://ids.u1.edu.cn");
  assert_int_equal(mg_registry_org_create(w->s, &o, w->now, NULL, &why), MG_EEXISTS);
  assert_string_equal(why.code, "org_exists");
  snprintf(o.home_page, sizeof o.home_page, "https://ids.u3.edu.cn");
  int64_t id = 0;
  assert_int_equal(mg_registry_org_create(w->s, &o, w->now, &id, &why), MG_OK);
  mg_reg_org got;
  assert_int_equal(mg_store_reg_org_by_home_page(w->s, "https://ids.u3.edu.cn", &got), MG_OK);
  assert_int_equal(got.id, id);
  assert_string_equal(got.province, "11");
  /* provinces by name work too (the users' province field holds either) */
  snprintf(o.code, sizeof o.code, "10004");
  snprintf(o.province, sizeof o.province, "江苏");
  snprintf(o.home_page, sizeof o.home_page, "https://ids.u4.edu.cn");
  assert_int_equal(mg_registry_org_create(w->s, &o, w->now, NULL, &why), MG_OK);
  snprintf(o.code, sizeof o.code, "10005");
  snprintf(o.province, sizeof o.province, "江 苏");
  snprintf(o.home_page, sizeof o.home_page, "https://ids.u5.edu.cn");
  assert_int_equal(mg_registry_org_create(w->s, &o, w->now, NULL, &why), MG_EINVAL);
  /* bad kind, bad code */
  snprintf(o.kind, sizeof o.kind, "school");
  assert_int_equal(mg_registry_org_create(w->s, &o, w->now, NULL, &why), MG_EINVAL);
  snprintf(o.kind, sizeof o.kind, "province");
  snprintf(o.code, sizeof o.code, "bad code");
  o.home_page[0] = 0;
  assert_int_equal(mg_registry_org_create(w->s, &o, w->now, NULL, &why), MG_EINVAL);
}

typedef struct hist {
  int n;
  char last[16];
  char by[64];
} hist;

static int count_hist(void *ud, const mg_reg_status_entry *e) {
  hist *h = ud;
  h->n++;
  snprintf(h->last, sizeof h->last, "%s", e->status);
  snprintf(h->by, sizeof h->by, "%s", e->decided_by);
  return MG_OK;
}

static void test_platform_filing_and_status(void **state) {
  world *w = *state;
  mg_registry_why why;
  mg_reg_org o;
  memset(&o, 0, sizeof o);
  snprintf(o.code, sizeof o.code, "pc");
  snprintf(o.name, sizeof o.name, "平台 C");
  int64_t id = 0;
  assert_int_equal(mg_registry_platform_create(w->s, &o, w->now, &id, &why), MG_OK);
  /* not filed: cannot be whitelisted */
  assert_int_equal(mg_registry_platform_set_status(w->s, id, "whitelist", "r", "moe", w->now, &why),
                   MG_ECONFLICT);
  assert_string_equal(why.code, "platform_not_filed");
  /* MLPS level 2 is refused (cl. 11) */
  assert_int_equal(mg_registry_platform_file(w->s, id, 2, "F-1", "2025-12-31", w->now, &why),
                   MG_EINVAL);
  assert_string_equal(why.code, "mlps_below_3");
  assert_int_equal(mg_registry_platform_file(w->s, id, 3, "F-1", "2025-13-01", w->now, &why),
                   MG_EINVAL);
  /* an overdue annual review blocks whitelisting */
  assert_int_equal(mg_registry_platform_file(w->s, id, 3, "F-1", "2025-02-28", w->now, &why), MG_OK);
  assert_int_equal(mg_registry_platform_set_status(w->s, id, "whitelist", "r", "moe", w->now, &why),
                   MG_ECONFLICT);
  assert_string_equal(why.code, "filing_review_overdue");
  assert_int_equal(mg_registry_platform_file(w->s, id, 4, "F-1", "2026-02-28", w->now, &why), MG_OK);
  assert_int_equal(mg_registry_platform_set_status(w->s, id, "whitelist", "审核通过", "moe",
                                                   w->now, &why),
                   MG_OK);
  assert_int_equal(mg_registry_platform_set_status(w->s, id, "blacklist", "刷课问题频出", "moe2",
                                                   w->now + 1, &why),
                   MG_OK);
  assert_int_equal(mg_registry_platform_set_status(w->s, id, "grey", "x", "moe", w->now, &why),
                   MG_EINVAL);
  assert_int_equal(mg_registry_platform_set_status(w->s, id, "pending", "", "moe", w->now, &why),
                   MG_EINVAL);
  mg_reg_platform p;
  assert_int_equal(mg_store_reg_platform_get(w->s, id, &p), MG_OK);
  assert_string_equal(p.status, "blacklist");
  assert_string_equal(p.status_reason, "刷课问题频出");
  assert_string_equal(p.status_by, "moe2");
  assert_int_equal(p.mlps_level, 4);
  hist h = {0};
  assert_int_equal(mg_store_reg_platform_history(w->s, id, count_hist, &h), MG_OK);
  assert_int_equal(h.n, 2);
  assert_string_equal(h.last, "blacklist");
  assert_string_equal(h.by, "moe2");
}

/* ---- courses and offerings ---------------------------------------------------------------- */

static void test_course_needs_recommendation_and_review(void **state) {
  world *w = *state;
  mg_registry_why why;
  mg_reg_course c;
  memset(&c, 0, sizeof c);
  c.platform_id = w->p;
  snprintf(c.code, sizeof c.code, "X1");
  snprintf(c.iri, sizeof c.iri, "https://mooc.example.cn/course/X1");
  snprintf(c.content_updated, sizeof c.content_updated, "2025-01-01");
  assert_int_equal(mg_registry_course_submit(w->s, &c, "op", w->now, NULL, &why), MG_ECONFLICT);
  assert_string_equal(why.code, "recommendation_required");
  /* a recommendation to another platform cannot be used */
  mg_reg_recommendation r;
  memset(&r, 0, sizeof r);
  r.university_id = w->u2;
  r.platform_id = w->p_black;
  snprintf(r.title, sizeof r.title, "T");
  snprintf(r.lead_teacher, sizeof r.lead_teacher, "L");
  snprintf(r.letter_no, sizeof r.letter_no, "N");
  assert_int_equal(mg_registry_recommend(w->s, &r, "u2", w->now, &c.recommendation_id, &why), MG_OK);
  assert_int_equal(mg_registry_course_submit(w->s, &c, "op", w->now, NULL, &why), MG_ECONFLICT);
  assert_string_equal(why.code, "recommendation_mismatch");
  /* used twice */
  c.recommendation_id = 0;
  mg_reg_course c1;
  assert_int_equal(mg_store_reg_course_get(w->s, w->course, &c1), MG_OK);
  c.recommendation_id = c1.recommendation_id;
  assert_int_equal(mg_registry_course_submit(w->s, &c, "op", w->now, NULL, &why), MG_ECONFLICT);
  assert_string_equal(why.code, "recommendation_used");
  /* a future update date is refused */
  int64_t unreviewed = mk_course(w, w->p, w->u1, "C2", 0);
  assert_int_equal(mg_registry_course_touch(w->s, unreviewed, "2025-03-02", w->now, &why), MG_EINVAL);
  /* an unreviewed course cannot be selected, and the refusal says which reviews are missing */
  mg_reg_offering o;
  memset(&o, 0, sizeof o);
  o.university_id = w->u1;
  o.course_id = unreviewed;
  snprintf(o.term, sizeof o.term, "2025-spring");
  o.credits_tenths = 10;
  snprintf(o.resp_teacher, sizeof o.resp_teacher, "T");
  assert_int_equal(mg_registry_offering_create(w->s, &o, "u1", w->now, NULL, &why), MG_ECONFLICT);
  assert_string_equal(why.code, "course_not_approved");
  assert_non_null(strstr(why.message, "意识形态审查未完成"));
  /* one failed review rejects it */
  char st[16];
  assert_int_equal(mg_registry_course_review(w->s, unreviewed, "content", "pass", "ok", "r", w->now,
                                             st, &why),
                   MG_OK);
  assert_string_equal(st, "reviewing");
  assert_int_equal(mg_registry_course_review(w->s, unreviewed, "ideology", "fail", "导向问题", "r",
                                             w->now, st, &why),
                   MG_OK);
  assert_string_equal(st, "rejected");
  assert_int_equal(mg_registry_course_review(w->s, unreviewed, "quality", "pass", "ok", "r", w->now,
                                             st, &why),
                   MG_ECONFLICT);
  assert_string_equal(why.code, "course_not_in_review");
  assert_int_equal(mg_registry_course_publish(w->s, unreviewed, 1, &why), MG_ECONFLICT);
  assert_int_equal(mg_registry_offering_create(w->s, &o, "u1", w->now, NULL, &why), MG_ECONFLICT);
  assert_string_equal(why.code, "course_not_approved");
  /* approved course: online, and the same selection twice is refused */
  assert_int_equal(mg_registry_course_publish(w->s, w->course, 1, &why), MG_OK);
  o.course_id = w->course;
  assert_int_equal(mg_registry_offering_create(w->s, &o, "u1", w->now, NULL, &why), MG_EEXISTS);
  assert_string_equal(why.code, "offering_exists");
}

static void test_offering_refusals(void **state) {
  world *w = *state;
  mg_registry_why why;
  int64_t cb = mk_course(w, w->p_black, w->u1, "B1", 1);
  mg_reg_offering o;
  memset(&o, 0, sizeof o);
  o.university_id = w->u1;
  o.course_id = cb;
  snprintf(o.term, sizeof o.term, "2025-fall");
  o.credits_tenths = 15;
  snprintf(o.resp_teacher, sizeof o.resp_teacher, "T");
  assert_int_equal(mg_registry_offering_create(w->s, &o, "u1", w->now, NULL, &why), MG_ECONFLICT);
  assert_string_equal(why.code, "platform_not_whitelisted");
  assert_non_null(strstr(why.message, "blacklist"));
  /* stale content: a year and a bit since the last update */
  o.course_id = w->course;
  int64_t later = at("2026-02-15T00:00:00Z");
  /* (the platform's review is due 2025-12-31, so refile first to isolate staleness) */
  assert_int_equal(mg_registry_platform_file(w->s, w->p, 3, "F", "2026-12-31", later, &why), MG_OK);
  assert_int_equal(mg_registry_offering_create(w->s, &o, "u1", later, NULL, &why), MG_ECONFLICT);
  assert_string_equal(why.code, "course_stale");
  /* the limit is a setting */
  assert_int_equal(mg_store_setting_set(w->s, "registry.max_content_age_days", "400"), MG_OK);
  assert_int_equal(mg_registry_offering_create(w->s, &o, "u1", later, NULL, &why), MG_OK);
  /* bad credits, unknown university */
  snprintf(o.term, sizeof o.term, "2026-spring");
  o.credits_tenths = 0;
  assert_int_equal(mg_registry_offering_create(w->s, &o, "u1", w->now, NULL, &why), MG_EINVAL);
  o.credits_tenths = 10;
  o.university_id = w->p;
  assert_int_equal(mg_registry_offering_create(w->s, &o, "u1", w->now, NULL, &why), MG_ENOTFOUND);
  assert_string_equal(why.code, "university_not_found");
  /* an overdue platform review blocks selection too */
  mg_reg_platform p;
  assert_int_equal(mg_store_reg_platform_get(w->s, w->p, &p), MG_OK);
  assert_int_equal(mg_registry_platform_selectable(&p, at("2027-01-02T00:00:00Z"), &why),
                   MG_ECONFLICT);
  assert_string_equal(why.code, "filing_review_overdue");
  /* the default offering IRI derives from the course's */
  mg_reg_offering got;
  assert_int_equal(mg_store_reg_offering_get(w->s, w->offering, &got), MG_OK);
  assert_string_equal(got.iri, "https://mooc.example.cn/course/C1/offerings/10001/2025-spring");
  /* another university selects the same run of the course: its own offering, same IRI */
  memset(&o, 0, sizeof o);
  o.university_id = w->u2;
  o.course_id = w->course;
  snprintf(o.term, sizeof o.term, "2025-spring");
  o.credits_tenths = 30;
  snprintf(o.resp_teacher, sizeof o.resp_teacher, "周老师");
  snprintf(o.iri, sizeof o.iri, "%s", got.iri);
  int64_t off2 = 0;
  assert_int_equal(mg_registry_offering_create(w->s, &o, "u2", w->now, &off2, &why), MG_OK);
  char run[512];
  snprintf(run, sizeof run, "%s", got.iri);
  assert_int_equal(mg_store_reg_offering_at(w->s, w->u2, run, &got), MG_OK);
  assert_int_equal(got.id, off2);
  assert_int_equal(got.credits_tenths, 30);
  assert_int_equal(mg_store_reg_offering_by_iri(w->s, run, &got), MG_ECONFLICT); /* shared */
  assert_int_equal(mg_store_reg_offering_at(w->s, w->u1, run, &got), MG_OK);
  assert_int_equal(got.id, w->offering);
}

/* ---- rosters ------------------------------------------------------------------------------ */

typedef struct enr_list {
  int n;
  char no[8][33];
  uint8_t reg[8][16];
  int active[8];
} enr_list;

static int take_enr(void *ud, const mg_reg_enrolment *e) {
  enr_list *l = ud;
  if (l->n < 8) {
    snprintf(l->no[l->n], 33, "%s", e->student.student_no);
    memcpy(l->reg[l->n], e->registration, 16);
    l->active[l->n] = e->active;
  }
  l->n++;
  return MG_OK;
}

static void test_roster_import(void **state) {
  world *w = *state;
  mg_registry_why why;
  mg_registry_roster_outcome out;
  const char *csv1 = "\xEF\xBB\xBF学号,姓名,身份证号,班级\r\n"
                     "2023010001,张三,110101200001011232,一班\r\n"
                     "2023010002,\"李,四\",,一班\r\n"
                     "bad no!,王五,,一班\r\n"
                     "2023010001,张三丰,,一班\r\n"
                     "2023010003,赵六\r\n"
                     "\r\n"
                     "2023010004,\"钱\"\"七\"\"\",,二班\n";
  /* preview: the outcome, and nothing stored */
  assert_int_equal(mg_registry_roster_import(w->s, w->offering, csv1, strlen(csv1), 1, "u1admin",
                                             w->now, &out, &why),
                   MG_OK);
  assert_int_equal(out.rows_total, 6);
  assert_int_equal(out.rows_ok, 3);
  assert_int_equal(out.rows_bad, 3);
  assert_int_equal(out.diff.added, 3);
  assert_int_equal(out.import_id, 0);
  assert_string_equal(out.not_stored, "national_id");
  assert_string_equal(out.ignored, "班级");
  assert_non_null(strstr(out.problems.data, "\"line\":4,\"code\":\"invalid_student_no\""));
  assert_non_null(strstr(out.problems.data, "\"line\":5,\"code\":\"duplicate_student_no\""));
  assert_non_null(strstr(out.problems.data, "\"line\":6,\"code\":\"wrong_field_count\""));
  mg_registry_roster_outcome_free(&out);
  enr_list l = {0};
  int64_t total = -1;
  assert_int_equal(mg_store_reg_enrolment_list(w->s, w->offering, 0, 0, 0, take_enr, &l, &total),
                   MG_OK);
  assert_int_equal(total, 0);

  /* import: three enrolled, bad rows reported and stored */
  assert_int_equal(mg_registry_roster_import(w->s, w->offering, csv1, strlen(csv1), 0, "u1admin",
                                             w->now, &out, &why),
                   MG_OK);
  int64_t imp1 = out.import_id;
  assert_true(imp1 > 0);
  assert_int_equal(out.diff.added, 3);
  mg_registry_roster_outcome_free(&out);
  memset(&l, 0, sizeof l);
  assert_int_equal(mg_store_reg_enrolment_list(w->s, w->offering, 1, 0, 0, take_enr, &l, &total),
                   MG_OK);
  assert_int_equal(total, 3);
  assert_string_equal(l.no[0], "2023010001");
  assert_string_equal(l.no[1], "2023010002");
  assert_string_equal(l.no[2], "2023010004");
  mg_reg_student st;
  assert_int_equal(mg_store_reg_student_find(w->s, w->u1, "2023010002", &st), MG_OK);
  assert_string_equal(st.name, "李,四");
  assert_int_equal(mg_store_reg_student_find(w->s, w->u1, "2023010004", &st), MG_OK);
  assert_string_equal(st.name, "钱\"七\"");
  mg_reg_roster_import imp;
  assert_int_equal(mg_store_reg_import_get(w->s, imp1, &imp), MG_OK);
  assert_int_equal(imp.rows_bad, 3);
  assert_non_null(strstr(imp.report, "duplicate_student_no"));
  mg_store_reg_import_clear(&imp);
  uint8_t reg1[16];
  memcpy(reg1, l.reg[0], 16);

  /* the same file again: nothing changes, the earlier import is named */
  assert_int_equal(mg_registry_roster_import(w->s, w->offering, csv1, strlen(csv1), 0, "u1admin",
                                             w->now, &out, &why),
                   MG_OK);
  assert_int_equal(out.duplicate_of, imp1);
  assert_int_equal(out.rows_bad, 3);
  mg_registry_roster_outcome_free(&out);

  /* a new roster: one renamed, one dropped, one new, one unchanged; registrations kept */
  char reg_text[MG_UUID_STR_LEN];
  mg_uuid_format(reg1, reg_text);
  char csv2[512];
  snprintf(csv2, sizeof csv2,
           "name,student_no,registration\n张三,2023010001,%s\n李四,2023010002,\n"
           "孙八,2023010005,6b1f3c52-8a0e-4d2b-9f47-2c5e8d1a7b30\n",
           reg_text);
  assert_int_equal(mg_registry_roster_import(w->s, w->offering, csv2, strlen(csv2), 0, "u1admin",
                                             w->now + 10, &out, &why),
                   MG_OK);
  assert_int_equal(out.rows_bad, 0);
  assert_int_equal(out.diff.unchanged, 1);
  assert_int_equal(out.diff.renamed, 1);
  assert_int_equal(out.diff.added, 1);
  assert_int_equal(out.diff.removed, 1);
  mg_registry_roster_outcome_free(&out);
  memset(&l, 0, sizeof l);
  assert_int_equal(mg_store_reg_enrolment_list(w->s, w->offering, 0, 0, 0, take_enr, &l, &total),
                   MG_OK);
  assert_int_equal(total, 4);
  assert_memory_equal(l.reg[0], reg1, 16);
  assert_string_equal(l.no[2], "2023010004");
  assert_int_equal(l.active[2], 0); /* dropped, not deleted */
  mg_reg_enrolment e;
  assert_int_equal(mg_registry_enrolment_find(w->s, "6b1f3c52-8a0e-4d2b-9f47-2c5e8d1a7b30", &e, &why),
                   MG_OK);
  assert_string_equal(e.student.student_no, "2023010005");

  /* a registration clash rejects only that row; 004 comes back with its old registration */
  char csv3[512];
  snprintf(csv3, sizeof csv3,
           "student_no,name,registration\n2023010001,张三,6b1f3c52-8a0e-4d2b-9f47-2c5e8d1a7b30\n"
           "2023010002,李四,\n2023010004,钱七,\n2023010005,孙八,\n2023010006,周九,%s\n",
           reg_text);
  assert_int_equal(mg_registry_roster_import(w->s, w->offering, csv3, strlen(csv3), 0, "u1admin",
                                             w->now + 20, &out, &why),
                   MG_OK);
  assert_int_equal(out.rows_bad, 2);
  assert_int_equal(out.rows_ok, 3);
  assert_non_null(strstr(out.problems.data, "registration_mismatch"));
  assert_non_null(strstr(out.problems.data, "registration_taken"));
  assert_int_equal(out.diff.reactivated, 1);
  assert_int_equal(out.diff.unchanged, 2);
  /* 2023010001 was not listed validly in this import: it is dropped */
  assert_int_equal(out.diff.removed, 1);
  mg_registry_roster_outcome_free(&out);
  assert_int_equal(mg_store_reg_import_last(w->s, w->offering, &imp), MG_OK);
  assert_int_equal(imp.rows_bad, 2);
  assert_int_equal(imp.reactivated, 1);
  mg_store_reg_import_clear(&imp);

  /* whole-file refusals */
  const char *nohdr = "学号,班级\n2023,一班\n";
  assert_int_equal(mg_registry_roster_import(w->s, w->offering, nohdr, strlen(nohdr), 0, "u1",
                                             w->now, &out, &why),
                   MG_EINVAL);
  assert_string_equal(why.code, "invalid_roster");
  assert_non_null(strstr(why.message, "name"));
  mg_registry_roster_outcome_free(&out);
  assert_int_equal(mg_registry_roster_import(w->s, w->offering, "", 0, 0, "u1", w->now, &out, &why),
                   MG_EINVAL);
  mg_registry_roster_outcome_free(&out);
  assert_int_equal(mg_registry_roster_import(w->s, 9999, csv2, strlen(csv2), 0, "u1", w->now, &out,
                                             &why),
                   MG_ENOTFOUND);
  mg_registry_roster_outcome_free(&out);
}

/* With keys loaded, national ID and phone are kept sealed; malformed ones reject their row. */
static void test_roster_personal_fields(void **state) {
  world *w = *state;
  char keys[700];
  snprintf(keys, sizeof keys, "%s/keys", w->dir);
  assert_int_equal(mg_keyring_init(keys, MG_KEYRING_CREATE), MG_OK);
  mg_registry_why why;
  mg_registry_roster_outcome out;
  const char *csv = "学号,姓名,身份证号,手机号\n"
                    "2023020001,周一,110101200001011232,13812345678\n"
                    "2023020002,周二,110101200001011234,\n" /* wrong check digit */
                    "2023020003,周三,,1381234567\n"          /* 10 digits */
                    "2023020004,周四,11010120000101123x,\n";  /* lower-case x is not this one's */
  assert_int_equal(mg_registry_roster_import(w->s, w->offering, csv, strlen(csv), 0, "u1", w->now,
                                             &out, &why),
                   MG_OK);
  assert_int_equal(out.rows_ok, 1);
  assert_int_equal(out.rows_bad, 3);
  assert_string_equal(out.sealed, "national_id,phone");
  assert_string_equal(out.not_stored, "");
  assert_non_null(strstr(out.problems.data, "\"line\":3,\"code\":\"invalid_national_id\""));
  assert_non_null(strstr(out.problems.data, "\"line\":4,\"code\":\"invalid_phone\""));
  mg_registry_roster_outcome_free(&out);
  mg_reg_student stu;
  mg_reg_student_pii st;
  assert_int_equal(mg_store_reg_student_find(w->s, w->u1, "2023020001", &stu), MG_OK);
  assert_int_equal(mg_store_reg_student_pii(w->s, stu.id, &st), MG_OK);
  assert_non_null(strstr(st.national_id_enc, "mgf1."));
  assert_null(strstr(st.national_id_enc, "110101")); /* not in the clear */
  char *plain = NULL;
  size_t n = 0;
  assert_int_equal(mg_crypto_open("student.national_id", st.national_id_enc, &plain, &n), MG_OK);
  assert_string_equal(plain, "110101200001011232");
  free(plain);
  assert_int_equal(mg_crypto_open("student.phone", st.phone_enc, &plain, &n), MG_OK);
  assert_string_equal(plain, "13812345678");
  free(plain);
  /* a token cannot be read as the other field */
  assert_int_equal(mg_crypto_open("student.phone", st.national_id_enc, &plain, &n), MG_ECORRUPT);
  /* a later roster without those columns keeps what was stored */
  const char *csv2 = "学号,姓名\n2023020001,周一\n";
  assert_int_equal(mg_registry_roster_import(w->s, w->offering, csv2, strlen(csv2), 0, "u1",
                                             w->now, &out, &why),
                   MG_OK);
  mg_registry_roster_outcome_free(&out);
  char before[256];
  snprintf(before, sizeof before, "%s", st.phone_enc);
  assert_int_equal(mg_store_reg_student_pii(w->s, stu.id, &st), MG_OK);
  assert_string_equal(st.phone_enc, before);
  mg_keyring_shutdown();
}

static void test_masks(void **state) {
  (void)state;
  char out[64];
  mg_registry_mask_student_no("2023010123", out, sizeof out);
  assert_string_equal(out, "2023****23");
  mg_registry_mask_student_no("12345", out, sizeof out);
  assert_string_equal(out, "12**5");
  mg_registry_mask_student_no("123", out, sizeof out);
  assert_string_equal(out, "****");
  mg_registry_mask_name("张三", out, sizeof out);
  assert_string_equal(out, "张*");
  mg_registry_mask_name("欧阳修文", out, sizeof out);
  assert_string_equal(out, "欧***");
  mg_registry_mask_name("张", out, sizeof out);
  assert_string_equal(out, "张*");
  mg_registry_mask_name("Li Lei", out, sizeof out);
  assert_string_equal(out, "L*****");
}

/* ---- pledges, exams, eligibility ---------------------------------------------------------- */

static void enrol_one(world *w, const char *no, char reg_text[MG_UUID_STR_LEN]) {
  mg_registry_why why;
  mg_registry_roster_outcome out;
  char csv[128];
  snprintf(csv, sizeof csv, "student_no,name\n%s,测试生\n", no);
  assert_int_equal(mg_registry_roster_import(w->s, w->offering, csv, strlen(csv), 0, "u1", w->now,
                                             &out, &why),
                   MG_OK);
  assert_int_equal(out.rows_ok, 1);
  mg_registry_roster_outcome_free(&out);
  mg_reg_student st;
  assert_int_equal(mg_store_reg_student_find(w->s, w->u1, no, &st), MG_OK);
  enr_list l = {0};
  assert_int_equal(mg_store_reg_enrolment_of_student(w->s, st.id, take_enr, &l), MG_OK);
  assert_int_equal(l.n, 1);
  mg_uuid_format(l.reg[0], reg_text);
}

static void test_pledge_exam_and_eligibility(void **state) {
  world *w = *state;
  mg_registry_why why;
  char reg[MG_UUID_STR_LEN];
  enrol_one(w, "2023019999", reg);
  mg_reg_enrolment e;
  assert_int_equal(mg_registry_enrolment_find(w->s, reg, &e, &why), MG_OK);
  mg_registry_eligibility el;
  assert_int_equal(mg_registry_eligibility_of(w->s, &e, &el), MG_OK);
  assert_false(el.eligible);
  assert_int_equal(el.n, 2);
  assert_string_equal(el.reasons[0].code, "pledge_unsigned");
  assert_string_equal(el.reasons[1].code, "exam_plan_missing");

  /* exam plan must be complete */
  mg_reg_exam ex;
  memset(&ex, 0, sizeof ex);
  ex.offering_id = w->offering;
  snprintf(ex.title, sizeof ex.title, "期末考试");
  ex.face_start = 1;
  ex.dual_camera = 1;
  assert_int_equal(mg_registry_exam_plan(w->s, &ex, "u1", w->now, NULL, &why), MG_EINVAL);
  assert_string_equal(why.code, "supervision_plan_incomplete");
  assert_non_null(strstr(why.message, "face_during"));
  assert_non_null(strstr(why.message, "invigilator"));
  ex.face_during = 1;
  snprintf(ex.invigilator, sizeof ex.invigilator, "陈监考");
  int64_t exam = 0;
  assert_int_equal(mg_registry_exam_plan(w->s, &ex, "u1", w->now, &exam, &why), MG_OK);

  /* finalising: no result yet */
  assert_int_equal(mg_registry_exam_finalise(w->s, exam, reg, "u1", w->now, &why), MG_ECONFLICT);
  assert_string_equal(why.code, "result_missing");
  assert_int_equal(mg_registry_exam_submit(w->s, exam, reg, 1001, "pa", w->now, &why), MG_EINVAL);
  assert_int_equal(mg_registry_exam_submit(w->s, exam, reg, 875, "pa", w->now, &why), MG_OK);
  /* unsigned pledge */
  assert_int_equal(mg_registry_exam_finalise(w->s, exam, reg, "u1", w->now, &why), MG_ECONFLICT);
  assert_string_equal(why.code, "pledge_unsigned");
  mg_reg_pledge pl;
  assert_int_equal(mg_registry_pledge_sign(w->s, &e, "0.9", "stu", "10.0.0.1", w->now, &pl, &why),
                   MG_ECONFLICT);
  assert_string_equal(why.code, "pledge_version_unknown");
  assert_int_equal(mg_registry_pledge_sign(w->s, &e, NULL, "stu", "10.0.0.1", w->now, &pl, &why),
                   MG_OK);
  assert_string_equal(pl.version, "2025.1");
  assert_string_equal(pl.signed_ip, "10.0.0.1");
  assert_int_equal(mg_registry_pledge_sign(w->s, &e, "2025.1", "stu", "10.0.0.1", w->now, NULL, &why),
                   MG_EEXISTS);
  assert_string_equal(why.code, "pledge_already_signed");
  /* no supervision record: the platform alone cannot finalise */
  assert_int_equal(mg_registry_exam_finalise(w->s, exam, reg, "u1", w->now, &why), MG_ECONFLICT);
  assert_string_equal(why.code, "supervision_incomplete");
  mg_reg_supervision sv;
  memset(&sv, 0, sizeof sv);
  sv.exam_id = exam;
  snprintf(sv.face_start, sizeof sv.face_start, "pass");
  snprintf(sv.dual_camera, sizeof sv.dual_camera, "pass");
  assert_int_equal(mg_registry_exam_supervise(w->s, &sv, reg, "u1", w->now, &why), MG_OK);
  assert_int_equal(mg_registry_exam_finalise(w->s, exam, reg, "u1", w->now, &why), MG_ECONFLICT);
  assert_string_equal(why.code, "supervision_incomplete");
  assert_non_null(strstr(why.message, "face_during, invigilator"));
  snprintf(sv.face_during, sizeof sv.face_during, "fail");
  snprintf(sv.invigilator, sizeof sv.invigilator, "陈监考");
  assert_int_equal(mg_registry_exam_supervise(w->s, &sv, reg, "u1", w->now, &why), MG_OK);
  assert_int_equal(mg_registry_exam_finalise(w->s, exam, reg, "u1", w->now, &why), MG_ECONFLICT);
  assert_string_equal(why.code, "supervision_failed");
  snprintf(sv.face_during, sizeof sv.face_during, "maybe");
  assert_int_equal(mg_registry_exam_supervise(w->s, &sv, reg, "u1", w->now, &why), MG_EINVAL);
  snprintf(sv.face_during, sizeof sv.face_during, "pass");
  assert_int_equal(mg_registry_exam_supervise(w->s, &sv, reg, "u1", w->now, &why), MG_OK);
  assert_int_equal(mg_registry_exam_finalise(w->s, exam, reg, "u1", w->now, &why), MG_OK);
  /* final is final, for the platform too */
  assert_int_equal(mg_registry_exam_submit(w->s, exam, reg, 990, "pa", w->now, &why), MG_ECONFLICT);
  assert_string_equal(why.code, "result_final");
  assert_int_equal(mg_registry_exam_finalise(w->s, exam, reg, "u1", w->now, &why), MG_ECONFLICT);
  mg_reg_result r;
  assert_int_equal(mg_store_reg_result_get(w->s, exam, e.id, &r), MG_OK);
  assert_int_equal(r.score_tenths, 875);
  assert_true(r.final);
  assert_string_equal(r.finalised_by, "u1");

  assert_int_equal(mg_registry_enrolment_find(w->s, reg, &e, &why), MG_OK);
  assert_int_equal(mg_registry_eligibility_of(w->s, &e, &el), MG_OK);
  assert_true(el.eligible);
  assert_int_equal(el.n, 0);

  /* an enrolment of another offering cannot sit this exam */
  assert_int_equal(mg_registry_exam_submit(w->s, exam, "6b1f3c52-8a0e-4d2b-9f47-2c5e8d1a7b31", 1,
                                           "pa", w->now, &why),
                   MG_ENOTFOUND);
  assert_int_equal(mg_registry_exam_submit(w->s, exam, "not-a-uuid", 1, "pa", w->now, &why),
                   MG_EINVAL);
}

/* ---- intake switch ------------------------------------------------------------------------ */

static mg_json *stmt(mg_arena *a, const char *home_page) {
  char text[256];
  snprintf(text, sizeof text,
           "{\"actor\":{\"account\":{\"homePage\":\"%s\",\"name\":\"2023\"}},\"verb\":{\"id\":"
           "\"http://adlnet.gov/expapi/verbs/experienced\"},\"object\":{\"id\":\"http://x/1\"}}",
           home_page);
  mg_json *j = mg_json_parse(a, text, strlen(text), 0, NULL);
  assert_non_null(j);
  return j;
}

static void test_intake_switch(void **state) {
  world *w = *state;
  mg_registry_why why;
  mg_arena a;
  mg_arena_init(&a, 0, 0);
  mg_json *s1 = stmt(&a, "https://ids.u1.edu.cn"), *s2 = stmt(&a, "https://ids.u2.edu.cn");
  mg_json *other = stmt(&a, "https://ids.unknown.edu.cn");
  mg_json *batch = mg_json_array(&a);
  mg_json_array_append(&a, batch, other);
  mg_json_array_append(&a, batch, s2);
  mg_json_array_append(&a, batch, s1);
  assert_int_equal(mg_registry_intake_check(w->s, w->p, batch, &why), MG_OK);
  assert_int_equal(mg_registry_intake_check(w->s, 0, batch, &why), MG_OK);

  /* university scope: only u1's students are refused */
  mg_reg_switch sw;
  memset(&sw, 0, sizeof sw);
  sw.platform_id = w->p;
  snprintf(sw.scope, sizeof sw.scope, "university");
  sw.university_id = w->u1;
  snprintf(sw.reason, sizeof sw.reason, "该校刷课集中");
  int64_t sw_id = 0;
  assert_int_equal(mg_registry_switch_stop(w->s, &sw, "bj-edu", w->now, &sw_id, &why), MG_OK);
  assert_int_equal(mg_registry_intake_check(w->s, w->p, s2, &why), MG_OK);
  assert_int_equal(mg_registry_intake_check(w->s, w->p, batch, &why), MG_EFORBIDDEN);
  assert_string_equal(why.code, "platform_suspended");
  assert_non_null(strstr(why.message, "[2].actor"));
  assert_non_null(strstr(why.message, "10001"));
  /* other platforms are unaffected */
  assert_int_equal(mg_registry_intake_check(w->s, w->p_black, batch, &why), MG_OK);
  assert_int_equal(mg_registry_switch_lift(w->s, w->p, sw_id, "bj-edu", w->now, &why), MG_OK);
  assert_int_equal(mg_registry_switch_lift(w->s, w->p, sw_id, "bj-edu", w->now, &why), MG_ECONFLICT);
  assert_int_equal(mg_registry_intake_check(w->s, w->p, batch, &why), MG_OK);

  /* province scope: province 31 (u2) */
  snprintf(sw.scope, sizeof sw.scope, "province");
  snprintf(sw.province, sizeof sw.province, "31");
  sw.university_id = 0;
  assert_int_equal(mg_registry_switch_stop(w->s, &sw, "sh-edu", w->now, &sw_id, &why), MG_OK);
  assert_int_equal(mg_registry_intake_check(w->s, w->p, s1, &why), MG_OK);
  assert_int_equal(mg_registry_intake_check(w->s, w->p, s2, &why), MG_EFORBIDDEN);
  assert_non_null(strstr(why.message, "statement.actor"));
  assert_int_equal(mg_registry_switch_lift(w->s, w->p, sw_id, "sh-edu", w->now, &why), MG_OK);

  /* national: everything, even statements of unknown universities */
  snprintf(sw.scope, sizeof sw.scope, "national");
  assert_int_equal(mg_registry_switch_stop(w->s, &sw, "moe", w->now, &sw_id, &why), MG_OK);
  assert_int_equal(mg_registry_intake_check(w->s, w->p, other, &why), MG_EFORBIDDEN);
  assert_non_null(strstr(why.message, "nationally"));

  /* bad scopes */
  snprintf(sw.scope, sizeof sw.scope, "city");
  assert_int_equal(mg_registry_switch_stop(w->s, &sw, "moe", w->now, NULL, &why), MG_EINVAL);
  snprintf(sw.scope, sizeof sw.scope, "university");
  sw.university_id = w->p;
  assert_int_equal(mg_registry_switch_stop(w->s, &sw, "moe", w->now, NULL, &why), MG_ENOTFOUND);
  mg_arena_free(&a);
}

/* ---- seed and transactions ---------------------------------------------------------------- */

static int count_seed(void *ud, const mg_store_audit_row *r) {
  if (!strcmp(r->action, "registry.seed") && !strcmp(r->actor, "system:seed") && r->after_sm3)
    (*(int *)ud)++;
  return 0;
}

static void test_seed(void **state) {
  world *w = *state;
  mg_registry_why why;
  mg_registry_seed_result res;
  mg_arena a;
  mg_arena_init(&a, 0, 0);
  const char *doc =
      "{\"regulators\":[{\"kind\":\"ministry\",\"code\":\"moe\",\"name\":\"教育部\"},"
      "{\"kind\":\"province\",\"code\":\"zj\",\"name\":\"浙江省教育厅\",\"province\":\"33\"}],"
      "\"universities\":[{\"code\":\"10335\",\"name\":\"浙大\",\"province\":\"33\","
      "\"home_page\":\"https://ids.zju.edu.cn\"}],"
      "\"platforms\":[{\"code\":\"icourse\",\"name\":\"爱课程\",\"mlps_level\":3,\"filing_no\":\"F\","
      "\"review_due\":\"2025-12-31\",\"status\":\"whitelist\"}],"
      "\"courses\":[{\"platform\":\"icourse\",\"university\":\"10335\",\"code\":\"DS\","
      "\"title\":\"数据结构\",\"lead_teacher\":\"陈越\",\"iri\":\"https://icourse.example/ds\","
      "\"content_updated\":\"2025-01-10\"}],"
      "\"offerings\":[{\"university\":\"10335\",\"course_iri\":\"https://icourse.example/ds\","
      "\"term\":\"2025-spring\",\"credits\":2.5,\"resp_teacher\":\"何老师\","
      "\"exam\":{\"title\":\"期末\",\"invigilator\":\"监考甲\"}}],"
      "\"rosters\":[{\"offering_iri\":\"https://icourse.example/ds/offerings/10335/2025-spring\","
      "\"students\":[{\"student_no\":\"3200100001\",\"name\":\"学生一\",\"pledge\":true,"
      "\"registration\":\"11111111-2222-4333-8444-555555555555\"},"
      "{\"student_no\":\"3200100002\",\"name\":\"学生二\"}]}]}";
  mg_json *world_doc = mg_json_parse(&a, doc, strlen(doc), 0, NULL);
  assert_non_null(world_doc);
  assert_int_equal(mg_registry_seed(w->s, world_doc, "system:seed", w->now, &res, &why), MG_OK);
  assert_int_equal(res.orgs, 3);
  assert_int_equal(res.platforms, 1);
  assert_int_equal(res.courses, 1);
  assert_int_equal(res.offerings, 1);
  assert_int_equal(res.exams, 1);
  assert_int_equal(res.enrolments, 2);
  assert_int_equal(res.pledges, 1);
  mg_reg_enrolment e;
  assert_int_equal(mg_registry_enrolment_find(w->s, "11111111-2222-4333-8444-555555555555", &e, &why),
                   MG_OK);
  assert_int_equal(e.pledge_signed, 1);
  mg_reg_offering o;
  assert_int_equal(mg_store_reg_offering_get(w->s, e.offering_id, &o), MG_OK);
  assert_int_equal(o.credits_tenths, 25);
  int audited = 0, more = 0;
  assert_int_equal(mg_store_audit_list(w->s, 0, 1000, count_seed, &audited, &more), MG_OK);
  assert_int_equal(audited, 1);

  /* a refused object rolls the whole seed back and says where */
  const char *bad =
      "{\"universities\":[{\"code\":\"20001\",\"name\":\"新校\",\"province\":\"44\","
      "\"home_page\":\"https://ids.new.edu.cn\"}],"
      "\"platforms\":[{\"code\":\"shady\",\"name\":\"某平台\",\"mlps_level\":2,\"filing_no\":\"F\","
      "\"review_due\":\"2025-12-31\"}]}";
  mg_json *bad_doc = mg_json_parse(&a, bad, strlen(bad), 0, NULL);
  assert_int_equal(mg_registry_seed(w->s, bad_doc, "system:seed", w->now, &res, &why), MG_EINVAL);
  assert_string_equal(why.code, "mlps_below_3");
  assert_non_null(strstr(why.message, "platforms[0]"));
  mg_reg_org org;
  assert_int_equal(mg_store_reg_org_by_home_page(w->s, "https://ids.new.edu.cn", &org), MG_ENOTFOUND);
  audited = 0;
  assert_int_equal(mg_store_audit_list(w->s, 0, 1000, count_seed, &audited, &more), MG_OK);
  assert_int_equal(audited, 1); /* the refused seed left no record */
  mg_arena_free(&a);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_org_rules, setup, teardown),
      cmocka_unit_test_setup_teardown(test_platform_filing_and_status, setup, teardown),
      cmocka_unit_test_setup_teardown(test_course_needs_recommendation_and_review, setup, teardown),
      cmocka_unit_test_setup_teardown(test_offering_refusals, setup, teardown),
      cmocka_unit_test_setup_teardown(test_roster_import, setup, teardown),
      cmocka_unit_test(test_masks),
      cmocka_unit_test_setup_teardown(test_roster_personal_fields, setup, teardown),
      cmocka_unit_test_setup_teardown(test_pledge_exam_and_eligibility, setup, teardown),
      cmocka_unit_test_setup_teardown(test_intake_switch, setup, teardown),
      cmocka_unit_test_setup_teardown(test_seed, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
