/* tests/credit/test_credit.c — credit-recognition rules, recorded decisions, tags and exports. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cases/case.h"
#include "core/err.h"
#include "credit/credit.h"
#include "store/store.h"
#include "store/store_int.h"
#include "support.h"

#define T0 1767225600000000LL
#define REG "0b9d2a6e-4f1c-4d0a-9d1e-5e3c1b2a7f01"

static mg_store *open_store(const char *name) {
  char dir[512], url[600];
  mg_test_tmpdir(name, dir, sizeof dir);
  snprintf(url, sizeof url, "%s/lrs.db", dir);
  mg_store *s = NULL;
  assert_int_equal(mg_store_open(url, &s, NULL), MG_OK);
  return s;
}

static mg_credit_facts good(void) {
  mg_credit_facts f;
  memset(&f, 0, sizeof f);
  snprintf(f.registration, sizeof f.registration, REG);
  f.university_id = 11;
  f.student_id = 7001;
  f.offering_id = 51;
  f.course_id = 41;
  f.credits = 2;
  f.offering_approved = f.platform_whitelisted = f.pledge_signed = 1;
  f.exam_finalised = f.exam_supervised = 1;
  f.has_grade = 1;
  f.grade = 78.5;
  f.pass_mark = 60;
  return f;
}

static int failed_count(const mg_credit_result *r, const char *only) {
  int n = 0;
  for (int i = 0; i < MG_CREDIT_RULE_COUNT; i++)
    if (!r->rules[i].ok) {
      n++;
      if (only) assert_string_equal(r->rules[i].rule, only);
    }
  return n;
}

static void test_rules(void **state) {
  (void)state;
  mg_credit_result r;
  mg_credit_facts f = good();
  mg_credit_evaluate(&f, &r);
  assert_true(r.eligible);
  assert_int_equal(failed_count(&r, NULL), 0);
  /* Each fact alone makes the enrolment ineligible, with that rule as the only reason. */
  f = good(); f.offering_approved = 0; mg_credit_evaluate(&f, &r);
  assert_false(r.eligible); assert_int_equal(failed_count(&r, "offering_approved"), 1);
  f = good(); f.platform_whitelisted = 0; snprintf(f.platform_status, sizeof f.platform_status, "blacklisted");
  mg_credit_evaluate(&f, &r);
  assert_false(r.eligible); assert_int_equal(failed_count(&r, "platform_whitelisted"), 1);
  assert_non_null(strstr(r.rules[1].detail, "blacklisted"));
  f = good(); f.pledge_signed = 0; mg_credit_evaluate(&f, &r);
  assert_false(r.eligible); assert_int_equal(failed_count(&r, "pledge_signed"), 1);
  f = good(); f.exam_supervised = 0; mg_credit_evaluate(&f, &r);
  assert_false(r.eligible); assert_int_equal(failed_count(&r, "exam_supervised"), 1);
  assert_non_null(strstr(r.rules[3].detail, "no supervision record"));
  f = good(); f.exam_finalised = 0; mg_credit_evaluate(&f, &r);
  assert_false(r.eligible); assert_non_null(strstr(r.rules[3].detail, "not finalised"));
  f = good(); f.grade = 59.9; mg_credit_evaluate(&f, &r);
  assert_false(r.eligible); assert_int_equal(failed_count(&r, "passing_grade"), 1);
  f = good(); f.grade = 60; mg_credit_evaluate(&f, &r);
  assert_true(r.eligible); /* the pass mark itself passes */
  f = good(); f.has_grade = 0; mg_credit_evaluate(&f, &r);
  assert_false(r.eligible); assert_int_equal(failed_count(&r, "passing_grade"), 1);
  f = good(); f.misconduct = 1; f.misconduct_case = 9; mg_credit_evaluate(&f, &r);
  assert_false(r.eligible); assert_int_equal(failed_count(&r, "no_misconduct"), 1);
  assert_non_null(strstr(r.rules[5].detail, "case 9"));
  /* All reasons at once. */
  memset(&f, 0, sizeof f);
  mg_credit_evaluate(&f, &r);
  assert_int_equal(failed_count(&r, NULL), 5); /* misconduct 0 is fine */
}

static void verified_case(mg_store *s, const char *reg) {
  mg_store_inbox_item it;
  memset(&it, 0, sizeof it);
  it.university_id = 11;
  it.student_id = 7001;
  snprintf(it.registration, sizeof it.registration, "%s", reg);
  snprintf(it.source, sizeof it.source, "teacher");
  snprintf(it.type, sizeof it.type, "proxy_exam");
  snprintf(it.summary, sizeof it.summary, "another person on camera");
  snprintf(it.reported_by, sizeof it.reported_by, "t1");
  it.evidence = "{}";
  int64_t item = 0, id = 0;
  mg_case_err err;
  mg_case_actor a = {1, "a", 0};
  assert_int_equal(mg_cases_inbox_add(s, &it, &item, &err), MG_OK);
  assert_int_equal(mg_cases_open(s, &a, &item, 1, NULL, T0, &id, &err), MG_OK);
  assert_int_equal(mg_cases_investigate(s, &a, id, NULL, T0, &err), MG_OK);
  assert_int_equal(mg_cases_decide(s, &a, id, 1, "r", NULL, 0, 1000000, T0, &err), MG_OK);
}

static void test_decide_and_export(void **state) {
  (void)state;
  mg_store *s = open_store("credit-export");
  mg_credit_facts f = good();
  mg_credit_result r;
  int64_t id1 = 0;
  assert_int_equal(mg_credit_decide(s, &f, "registrar", T0, &r, &id1), MG_OK);
  assert_true(r.eligible);
  /* A second enrolment, with a formula-like decider name, that is refused for misconduct. */
  mg_credit_facts g = good();
  snprintf(g.registration, sizeof g.registration, "0b9d2a6e-4f1c-4d0a-9d1e-5e3c1b2a7f02");
  verified_case(s, g.registration);
  assert_int_equal(mg_credit_decide(s, &g, "=cmd|x", T0 + 1, &r, NULL), MG_OK);
  assert_false(r.eligible);
  assert_true(g.misconduct);

  mg_store_credit_decision d;
  char *reasons = NULL;
  assert_int_equal(mg_credit_get(s, g.registration, &d, &reasons), MG_OK);
  assert_false(d.eligible);
  assert_false(d.has_grade); /* the cancelled grade is not exported */
  assert_true(d.credits == 0);
  json_error_t je;
  json_t *arr = json_loads(reasons, 0, &je);
  assert_non_null(arr);
  assert_int_equal(json_array_size(arr), 6);
  assert_string_equal(json_string_value(json_object_get(json_array_get(arr, 5), "rule")), "no_misconduct");
  assert_true(json_is_false(json_object_get(json_array_get(arr, 5), "ok")));
  json_decref(arr);
  free(reasons);

  mg_buf csv, js;
  mg_buf_init(&csv, 1 << 20);
  mg_buf_init(&js, 1 << 20);
  char bad[MG_CASES_REG_MAX];
  assert_int_equal(mg_credit_export(s, 11, 1, &csv, bad), MG_OK);
  assert_int_equal(mg_credit_export(s, 11, 0, &js, bad), MG_OK);
  /* CSV: header + 2 rows, CRLF, formula neutralised. */
  int lines = 0;
  for (const char *p = csv.data; (p = strstr(p, "\r\n")); p += 2) lines++;
  assert_int_equal(lines, 3);
  assert_non_null(strstr(csv.data, REG ",11,7001,51,41,yes,2,78.5,,2022-1.v1,"));
  assert_non_null(strstr(csv.data, ",no,0,,no_misconduct,"));
  assert_non_null(strstr(csv.data, "\"'=cmd|x\""));
  /* JSON parses and says the same. */
  json_t *doc = json_loads(js.data, 0, &je);
  assert_non_null(doc);
  json_t *ds = json_object_get(doc, "decisions");
  assert_int_equal(json_array_size(ds), 2);
  assert_true(json_is_true(json_object_get(json_array_get(ds, 0), "eligible")));
  assert_true(json_is_null(json_object_get(json_array_get(ds, 1), "grade")));
  json_decref(doc);
  /* Another university sees none of them. */
  mg_buf_reset(&js);
  assert_int_equal(mg_credit_export(s, 12, 0, &js, bad), MG_OK);
  assert_string_equal(js.data, "{\"rules_version\":\"2022-1.v1\",\"decisions\":[]}");

  /* Recomputation adds a row; the newest counts. */
  f.grade = 40;
  assert_int_equal(mg_credit_decide(s, &f, "registrar", T0 + 2, &r, NULL), MG_OK);
  reasons = NULL;
  assert_int_equal(mg_credit_get(s, REG, &d, &reasons), MG_OK);
  assert_false(d.eligible);
  free(reasons);

  /* Tampering: flip eligibility in the database; read and export refuse. */
  sqlite3 *db = NULL;
  assert_int_equal(mg_store_sqlite_gov_acquire(s, &db), MG_OK);
  assert_int_equal(sqlite3_exec(db, "UPDATE credit_decisions SET eligible = 1, credits = 2",
                                NULL, NULL, NULL),
                   SQLITE_OK);
  mg_store_sqlite_gov_release(s);
  reasons = NULL;
  assert_int_equal(mg_credit_get(s, REG, &d, &reasons), MG_ECORRUPT);
  assert_null(reasons);
  mg_buf_reset(&csv);
  assert_int_equal(mg_credit_export(s, 11, 1, &csv, bad), MG_ECORRUPT);
  assert_int_equal(csv.len, 0);
  assert_true(bad[0] != '\0');

  /* Bad input. */
  mg_credit_facts h = good();
  snprintf(h.registration, sizeof h.registration, "nope");
  assert_int_equal(mg_credit_decide(s, &h, "x", T0, &r, NULL), MG_EINVAL);
  mg_buf_free(&csv);
  mg_buf_free(&js);
  mg_store_close(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_rules),
      cmocka_unit_test(test_decide_and_export),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
