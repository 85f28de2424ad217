/* tests/cases/test_sync.c — findings → inbox (cases/sync.h) and credit facts from the registry
 * (credit/facts.h) over a real SQLite store seeded through the registry's own rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cases/case.h"
#include "cases/job.h"
#include "cases/sync.h"
#include "core/arena.h"
#include "core/err.h"
#include "core/json.h"
#include "core/uuid.h"
#include "credit/facts.h"
#include "registry/seed.h"
#include "store/store.h"
#include "store/store_cases.h"
#include "store/store_findings.h"
#include "store/store_registry.h"
#include "support.h"

#define DAY_US (86400LL * 1000000LL)
#define T0 1767225600000000LL /* 2026-01-01T00:00:00Z */

#define REG_A "11111111-1111-4111-8111-111111111111" /* the brusher */
#define REG_B "22222222-2222-4222-8222-222222222222" /* an honest classmate */
#define REG_C "33333333-3333-4333-8333-333333333333" /* no pledge */
#define HOME "https://ids.u1.edu.cn"

static const char *WORLD =
    "{\"regulators\":[{\"kind\":\"ministry\",\"code\":\"moe\",\"name\":\"教育部\"}],"
    "\"universities\":[{\"code\":\"10001\",\"name\":\"北京某大学\",\"province\":\"11\","
    "\"home_page\":\"" HOME "\"}],"
    "\"platforms\":[{\"code\":\"pa\",\"name\":\"甲平台\",\"mlps_level\":3,\"filing_no\":\"F-1\","
    "\"review_due\":\"2026-12-31\",\"status\":\"whitelist\",\"reason\":\"ok\"}],"
    "\"pledge\":{\"version\":\"2025.1\",\"body\":\"本人承诺诚信学习。\"},"
    "\"courses\":[{\"platform\":\"pa\",\"university\":\"10001\",\"code\":\"M1\",\"title\":\"高等数学\","
    "\"lead_teacher\":\"李老师\",\"iri\":\"https://pa.example/c/m1\",\"content_updated\":\"2025-12-01\","
    "\"reviewed\":true,\"online\":true}],"
    "\"offerings\":[{\"university\":\"10001\",\"course_iri\":\"https://pa.example/c/m1\","
    "\"term\":\"2026-spring\",\"credits\":2.5,\"resp_teacher\":\"王老师\","
    "\"iri\":\"https://pa.example/c/m1/o/10001\",\"exam\":{\"title\":\"期末\",\"invigilator\":\"陈\"}}],"
    "\"rosters\":[{\"university\":\"10001\",\"offering_iri\":\"https://pa.example/c/m1/o/10001\",\"students\":["
    "{\"student_no\":\"2023010001\",\"name\":\"张三\",\"registration\":\"" REG_A "\",\"pledge\":true},"
    "{\"student_no\":\"2023010002\",\"name\":\"李四\",\"registration\":\"" REG_B "\",\"pledge\":true},"
    "{\"student_no\":\"2023010003\",\"name\":\"王五\",\"registration\":\"" REG_C "\"}]}]}";

static mg_store *g_s;

static int setup(void **state) {
  (void)state;
  char dir[512], url[600];
  mg_test_tmpdir("cases-sync", dir, sizeof dir);
  snprintf(url, sizeof url, "%s/lrs.db", dir);
  if (mg_store_open(url, &g_s, NULL)) return -1;
  mg_arena a;
  mg_arena_init(&a, 0, 1 << 22);
  mg_json *w = mg_json_parse(&a, WORLD, strlen(WORLD), 0, NULL);
  mg_registry_why why = {"", ""};
  mg_registry_seed_result res;
  int rc = w ? mg_registry_seed(g_s, w, "test", T0, &res, &why) : -1;
  if (rc) fprintf(stderr, "seed: %d %s %s\n", rc, why.code, why.message);
  mg_arena_free(&a);
  return rc ? -1 : 0;
}

static int teardown(void **state) {
  (void)state;
  mg_store_close(g_s);
  return 0;
}

static void enrolment(const char *reg, mg_reg_enrolment *e) {
  uint8_t u[16];
  assert_int_equal(mg_uuid_parse(reg, u), MG_OK);
  assert_int_equal(mg_store_reg_enrolment_by_registration(g_s, u, e), MG_OK);
}

static int64_t put_finding(const char *reg, const char *student, const char *home, double score,
                           const char *rules, int *inserted) {
  mg_store_finding f;
  memset(&f, 0, sizeof f);
  snprintf(f.type, sizeof f.type, "course_brushing");
  snprintf(f.registration, sizeof f.registration, "%s", reg);
  snprintf(f.student, sizeof f.student, "%s", student);
  snprintf(f.university, sizeof f.university, "%s", home);
  snprintf(f.course, sizeof f.course, "https://pa.example/c/m1");
  snprintf(f.platform, sizeof f.platform, "pa");
  f.score = score;
  f.threshold = 1.0;
  snprintf(f.rules, sizeof f.rules, "%s", rules);
  snprintf(f.thresholds, sizeof f.thresholds,
           "{\"speed_over_cap\":{\"value\":412,\"threshold\":60,\"unit\":\"s\"}}");
  snprintf(f.comparison, sizeof f.comparison, "the video's own max-speed");
  snprintf(f.evidence, sizeof f.evidence, "[\"0b9d2a6e-4f1c-4d0a-9d1e-5e3c1b2a7f01\"]");
  snprintf(f.explain_zh, sizeof f.explain_zh, "视频进度推进速度远超上限");
  snprintf(f.explain_en, sizeof f.explain_en, "video position advanced far faster than the cap");
  f.decisive_ts_us = T0 + DAY_US;
  f.found_at_us = T0 + DAY_US;
  f.created_us = T0 + DAY_US;
  int64_t id = 0;
  assert_int_equal(mg_store_finding_put(g_s, &f, &id, inserted), MG_OK);
  return id;
}

static mg_sync_outcome sync_one(int64_t fid, int64_t *item) {
  mg_store_finding f;
  assert_int_equal(mg_store_finding_get(g_s, fid, &f), MG_OK);
  mg_sync_outcome o;
  mg_case_err e = {"", ""};
  int rc = mg_cases_sync_finding(g_s, &f, &o, item, &e);
  if (rc) fail_msg("sync: %d %s %s", rc, e.code, e.message);
  return o;
}

/* A finding becomes one inbox item of the student's university, with its evidence; again: none
 * more; re-scored: updated; no case and no sanction appear. */
static void test_finding_to_inbox(void **state) {
  (void)state;
  int ins = 0;
  int64_t fid = put_finding(REG_A, "2023010001", HOME, 1.5, "speed_over_cap", &ins);
  assert_true(ins);
  int64_t item = 0, item2 = 0;
  assert_int_equal(sync_one(fid, &item), MG_SYNC_IMPORTED);
  assert_true(item > 0);
  mg_store_inbox_item it;
  char *ev = NULL;
  assert_int_equal(mg_store_inbox_get(g_s, item, &it, &ev), MG_OK);
  mg_reg_enrolment e;
  enrolment(REG_A, &e);
  mg_reg_offering o;
  assert_int_equal(mg_store_reg_offering_get(g_s, e.offering_id, &o), MG_OK);
  assert_int_equal(it.university_id, o.university_id);
  assert_int_equal(it.student_id, e.student_id);
  assert_int_equal(it.course_id, o.course_id);
  assert_true(it.platform_id > 0);
  assert_string_equal(it.source, "detector");
  assert_int_equal(it.finding_id, fid);
  assert_int_equal(it.case_id, 0);
  assert_string_equal(it.registration, REG_A);
  assert_non_null(strstr(it.summary, "刷课"));
  /* the evidence is a JSON object carrying the detector's account of itself */
  mg_arena a;
  mg_arena_init(&a, 0, 1 << 20);
  mg_json *j = mg_json_parse(&a, ev, strlen(ev), 0, NULL);
  assert_true(mg_json_is_object(j));
  assert_int_equal(mg_json_integer_value(mg_json_object_get(j, "finding_id")), fid);
  assert_string_equal(mg_json_string_value(mg_json_object_get(j, "rules")), "speed_over_cap");
  assert_true(mg_json_is_object(mg_json_object_get(j, "thresholds")));
  assert_int_equal(mg_json_array_size(mg_json_object_get(j, "statements")), 1);
  assert_non_null(strstr(mg_json_string_value(mg_json_object_get(j, "note")), "未自动"));
  mg_arena_free(&a);
  free(ev);

  /* idempotent */
  assert_int_equal(sync_one(fid, &item2), MG_SYNC_UNCHANGED);
  assert_int_equal(item2, item);
  mg_sync_stats st = {0};
  assert_int_equal(mg_cases_sync_findings(g_s, 0, &st), MG_OK);
  assert_int_equal(st.imported, 0);
  assert_int_equal(st.unchanged, 1);

  /* re-scored by a replay: the same row, the item follows */
  assert_int_equal(put_finding(REG_A, "2023010001", HOME, 2.5, "speed_over_cap+concurrent_playback",
                               &ins),
                   fid);
  assert_false(ins);
  assert_int_equal(sync_one(fid, &item2), MG_SYNC_UPDATED);
  assert_int_equal(item2, item);
  assert_int_equal(mg_store_inbox_get(g_s, item, &it, NULL), MG_OK);
  assert_non_null(strstr(it.summary, "concurrent_playback"));
}

static int count_case(void *ud, const mg_store_case *c) {
  (void)c;
  (*(int *)ud)++;
  return 0;
}

static int count_sanction(void *ud, const mg_store_sanction *x) {
  (void)x;
  (*(int *)ud)++;
  return 0;
}

static int count_event(void *ud, const mg_store_case_event *e) {
  if (!strcmp(e->action, "evidence_updated")) (*(int *)ud)++;
  return 0;
}

/* Once a person decided, the evidence stays as decided on; before, the case timeline notes it. */
static void test_rescore_under_case(void **state) {
  (void)state;
  int ins = 0;
  int64_t fid = put_finding(REG_A, "2023010001", HOME, 2.5, "speed_over_cap+concurrent_playback", &ins);
  int64_t item = 0;
  sync_one(fid, &item);
  int cases = 0, sanctions = 0;
  mg_store_case_filter cf = {0, 0, NULL, NULL};
  assert_int_equal(mg_store_case_list(g_s, &cf, count_case, &cases), MG_OK);
  assert_int_equal(cases, 0);
  assert_int_equal(mg_store_sanction_list(g_s, 0, 1, count_sanction, &sanctions), MG_OK);
  assert_int_equal(sanctions, 0);

  mg_case_actor admin = {101, "admin_zhang", 0};
  mg_case_err e = {"", ""};
  int64_t cid = 0;
  assert_int_equal(mg_store_tx_begin(g_s), MG_OK);
  assert_int_equal(mg_cases_open(g_s, &admin, &item, 1, NULL, T0 + 2 * DAY_US, &cid, &e), MG_OK);
  assert_int_equal(mg_store_tx_commit(g_s), MG_OK);
  put_finding(REG_A, "2023010001", HOME, 3.0, "speed_over_cap+concurrent_playback+night_runs", &ins);
  assert_int_equal(sync_one(fid, NULL), MG_SYNC_UPDATED);
  int events = 0;
  assert_int_equal(mg_store_case_events(g_s, cid, count_event, &events), MG_OK);
  assert_int_equal(events, 1);

  assert_int_equal(mg_store_tx_begin(g_s), MG_OK);
  assert_int_equal(mg_cases_investigate(g_s, &admin, cid, "looking", T0 + 2 * DAY_US + 1, &e), MG_OK);
  mg_sanction_kind k = MG_SANCTION_CANCEL_GRADE;
  assert_int_equal(mg_cases_decide(g_s, &admin, cid, 1, "查实刷课", &k, 1, 10 * DAY_US,
                                   T0 + 2 * DAY_US + 2, &e),
                   MG_OK);
  assert_int_equal(mg_store_tx_commit(g_s), MG_OK);
  put_finding(REG_A, "2023010001", HOME, 0.5, "night_runs", &ins);
  assert_int_equal(sync_one(fid, NULL), MG_SYNC_FROZEN);
  mg_store_inbox_item it;
  assert_int_equal(mg_store_inbox_get(g_s, item, &it, NULL), MG_OK);
  assert_non_null(strstr(it.summary, "score 3.00"));
}

/* Findings for accounts the registry does not know reach no inbox; by homePage and student number
 * (no registered enrolment) they do. */
static void test_resolution(void **state) {
  (void)state;
  int ins = 0;
  int64_t f1 = put_finding("44444444-4444-4444-8444-444444444444", "2023019999",
                           "https://ids.unknown.edu.cn", 1.2, "speed_over_cap", &ins);
  assert_int_equal(sync_one(f1, NULL), MG_SYNC_UNRESOLVED);
  int64_t f2 = put_finding("55555555-5555-4555-8555-555555555555", "2023010002", HOME, 1.2,
                           "speed_over_cap", &ins);
  int64_t item = 0;
  assert_int_equal(sync_one(f2, &item), MG_SYNC_IMPORTED);
  mg_store_inbox_item it;
  assert_int_equal(mg_store_inbox_get(g_s, item, &it, NULL), MG_OK);
  mg_reg_enrolment e;
  enrolment(REG_B, &e);
  assert_int_equal(it.student_id, e.student_id);
  assert_true(it.course_id > 0); /* by the course IRI */
}

/* The live job: stored findings are synced on its first pass (e.g. from a replay while down). */
static void test_job_first_pass(void **state) {
  (void)state;
  int ins = 0;
  int64_t fid = put_finding(REG_C, "2023010003", HOME, 1.1, "first_report_near_end", &ins);
  mg_cases_job *j = NULL;
  assert_int_equal(mg_cases_job_start(g_s, 0, &j), MG_OK);
  assert_int_equal(mg_cases_job_run_once(j), MG_OK);
  mg_cases_job_stats st;
  mg_cases_job_get_stats(j, &st);
  assert_true(st.sync.imported >= 1);
  assert_int_equal(st.statements, 0);
  assert_int_equal(mg_cases_job_run_once(j), MG_OK);
  mg_cases_job_stop(j);
  mg_store_inbox_item it;
  assert_int_equal(mg_store_inbox_by_finding(g_s, fid, &it, NULL), MG_OK);
}

static int first(void *ud, const mg_reg_exam *x) {
  *(int64_t *)ud = x->id;
  return 0;
}

/* Credit facts from the registry, and decisions through the compute path. */
static void test_credit_facts(void **state) {
  (void)state;
  mg_credit_facts f;
  assert_int_equal(mg_credit_facts_of(g_s, "not-a-uuid", &f), MG_EINVAL);
  assert_int_equal(mg_credit_facts_of(g_s, "66666666-6666-4666-8666-666666666666", &f),
                   MG_ENOTFOUND);
  assert_int_equal(mg_credit_facts_of(g_s, REG_B, &f), MG_OK);
  assert_true(f.offering_approved);
  assert_true(f.platform_whitelisted);
  assert_string_equal(f.platform_status, "whitelist");
  assert_true(f.pledge_signed);
  assert_false(f.exam_finalised); /* no result yet */
  assert_false(f.exam_supervised);
  assert_false(f.has_grade);
  assert_true(f.credits == 2.5);

  /* supervision, results and finalisation for B and C */
  mg_reg_enrolment eb, ec;
  enrolment(REG_B, &eb);
  enrolment(REG_C, &ec);
  int64_t exam = 0;
  assert_int_equal(mg_store_reg_exam_list(g_s, eb.offering_id, first, &exam), MG_OK);
  assert_true(exam > 0);
  const mg_reg_enrolment *es[2] = {&eb, &ec};
  for (int i = 0; i < 2; i++) {
    mg_reg_supervision sv;
    memset(&sv, 0, sizeof sv);
    sv.exam_id = exam;
    sv.enrolment_id = es[i]->id;
    snprintf(sv.face_start, sizeof sv.face_start, "pass");
    snprintf(sv.face_during, sizeof sv.face_during, "pass");
    snprintf(sv.dual_camera, sizeof sv.dual_camera, "pass");
    snprintf(sv.recorded_by, sizeof sv.recorded_by, "t");
    sv.recorded_us = T0;
    assert_int_equal(mg_store_reg_supervision_put(g_s, &sv), MG_OK);
    mg_reg_result r;
    memset(&r, 0, sizeof r);
    r.exam_id = exam;
    r.enrolment_id = es[i]->id;
    r.score_tenths = i ? 550 : 885;
    snprintf(r.submitted_by, sizeof r.submitted_by, "pa");
    r.submitted_us = T0;
    assert_int_equal(mg_store_reg_result_put(g_s, &r), MG_OK);
    assert_int_equal(mg_store_reg_result_finalise(g_s, exam, es[i]->id, "t", T0), MG_OK);
  }
  assert_int_equal(mg_credit_facts_of(g_s, REG_B, &f), MG_OK);
  assert_true(f.exam_finalised && f.exam_supervised && f.has_grade);
  assert_true(f.grade == 88.5);

  /* the offering: A has a verified case (test_rescore_under_case), B passes, C fails three rules */
  assert_int_equal(mg_store_tx_begin(g_s), MG_OK);
  int64_t n = 0;
  assert_int_equal(mg_credit_compute_offering(g_s, eb.offering_id, "admin", T0 + 3 * DAY_US, NULL,
                                              NULL, &n),
                   MG_OK);
  assert_int_equal(mg_store_tx_commit(g_s), MG_OK);
  assert_int_equal(n, 3);
  mg_store_credit_decision d;
  char *reasons = NULL;
  assert_int_equal(mg_credit_get(g_s, REG_B, &d, &reasons), MG_OK);
  assert_true(d.eligible);
  assert_true(d.credits == 2.5);
  free(reasons);
  assert_int_equal(mg_credit_get(g_s, REG_A, &d, &reasons), MG_OK);
  assert_false(d.eligible);
  assert_non_null(strstr(reasons, "\"rule\":\"no_misconduct\",\"ok\":false"));
  assert_non_null(strstr(reasons, "\"rule\":\"exam_supervised\",\"ok\":false"));
  free(reasons);
  assert_int_equal(mg_credit_get(g_s, REG_C, &d, &reasons), MG_OK);
  assert_false(d.eligible);
  assert_non_null(strstr(reasons, "\"rule\":\"pledge_signed\",\"ok\":false"));
  assert_non_null(strstr(reasons, "\"rule\":\"passing_grade\",\"ok\":false"));
  assert_non_null(strstr(reasons, "\"rule\":\"no_misconduct\",\"ok\":true"));
  free(reasons);

  /* a platform blacklisted before an enrolment was created: not whitelisted at enrolment */
  mg_reg_offering o;
  mg_reg_course c;
  assert_int_equal(mg_store_reg_offering_get(g_s, eb.offering_id, &o), MG_OK);
  assert_int_equal(mg_store_reg_course_get(g_s, o.course_id, &c), MG_OK);
  assert_int_equal(mg_store_reg_platform_set_status(g_s, c.platform_id, "blacklist", "x", "moe",
                                                    T0 + 4 * DAY_US),
                   MG_OK);
  mg_reg_student st;
  memset(&st, 0, sizeof st);
  st.university_id = o.university_id;
  snprintf(st.student_no, sizeof st.student_no, "2023010004");
  snprintf(st.name, sizeof st.name, "赵六");
  assert_int_equal(mg_store_reg_student_create(g_s, &st, &st.id), MG_OK);
  mg_reg_enrolment en;
  memset(&en, 0, sizeof en);
  en.offering_id = o.id;
  en.student_id = st.id;
  assert_int_equal(mg_uuid_parse("77777777-7777-4777-8777-777777777777", en.registration), MG_OK);
  en.created_us = T0 + 5 * DAY_US;
  en.active = 1;
  assert_int_equal(mg_store_reg_enrolment_create(g_s, &en, &en.id), MG_OK);
  assert_int_equal(mg_credit_facts_of(g_s, "77777777-7777-4777-8777-777777777777", &f), MG_OK);
  assert_false(f.platform_whitelisted);
  assert_string_equal(f.platform_status, "blacklist");
  /* B enrolled while it was whitelisted: still is */
  assert_int_equal(mg_credit_facts_of(g_s, REG_B, &f), MG_OK);
  assert_true(f.platform_whitelisted);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_finding_to_inbox),
      cmocka_unit_test(test_rescore_under_case),
      cmocka_unit_test(test_resolution),
      cmocka_unit_test(test_job_first_pass),
      cmocka_unit_test(test_credit_facts),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
