/* tests/notices/test_notices.c — the regulator report (JSON + HTML), flagged students, referrals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cases/case.h"
#include "core/err.h"
#include "notices/referral.h"
#include "notices/report.h"
#include "store/store.h"
#include "support.h"

#define DAY_US (86400LL * 1000000LL)
#define T0 1767225600000000LL /* period: [T0, T0 + 30 days); previous: [T0 - 30 days, T0) */
#define T1 (T0 + 30 * DAY_US)

static const mg_case_actor ADMIN = {101, "admin_zhang", 0};

static mg_store *open_store(const char *name) {
  char dir[512], url[600];
  mg_test_tmpdir(name, dir, sizeof dir);
  snprintf(url, sizeof url, "%s/lrs.db", dir);
  mg_store *s = NULL;
  assert_int_equal(mg_store_open(url, &s, NULL), MG_OK);
  return s;
}

static int64_t item(mg_store *s, int64_t univ, int64_t plat, int64_t student, int64_t at,
                    const char *evidence) {
  mg_store_inbox_item it;
  memset(&it, 0, sizeof it);
  it.university_id = univ;
  it.platform_id = plat;
  it.student_id = student;
  snprintf(it.source, sizeof it.source, "platform");
  snprintf(it.type, sizeof it.type, "course_brushing");
  snprintf(it.summary, sizeof it.summary, "s");
  snprintf(it.reported_by, sizeof it.reported_by, "platform:%lld", (long long)plat);
  it.evidence = evidence ? evidence : "{}";
  it.received_us = at;
  int64_t id = 0;
  mg_case_err err;
  assert_int_equal(mg_cases_inbox_add(s, &it, &id, &err), MG_OK);
  return id;
}

static int64_t verify(mg_store *s, int64_t it, const char *service, int64_t at) {
  int64_t id = 0;
  mg_case_err err;
  assert_int_equal(mg_cases_open(s, &ADMIN, &it, 1, service, at, &id, &err), MG_OK);
  assert_int_equal(mg_cases_investigate(s, &ADMIN, id, NULL, at, &err), MG_OK);
  assert_int_equal(mg_cases_decide(s, &ADMIN, id, 1, "verified", NULL, 0, DAY_US, at, &err), MG_OK);
  return id;
}

/* The registry stand-in: universities 1..4, platforms 31..32. */
static int org_info(void *ud, int is_platform, int64_t id, int64_t from, int64_t to,
                    mg_report_org *out) {
  (void)ud;
  (void)to;
  memset(out, 0, sizeof *out);
  int prev = from < T0;
  if (is_platform) {
    snprintf(out->name, sizeof out->name, "平台<%lld>", (long long)id);
    out->enrolments = id == 31 ? 10000 : 2000;
  } else {
    snprintf(out->name, sizeof out->name, "大学 %lld & co", (long long)id);
    snprintf(out->province, sizeof out->province, "%s", id == 4 ? "11" : "44");
    out->enrolments = id == 1 ? 1000 : id == 2 ? 4000 : id == 3 ? 50 : 2000;
    if (prev && id == 1) out->enrolments = 500;
  }
  return MG_OK;
}

static json_t *find_id(json_t *arr, int64_t id) {
  size_t i;
  json_t *x;
  json_array_foreach(arr, i, x) {
    if (json_integer_value(json_object_get(x, "id")) == id) return x;
  }
  return NULL;
}

/* A period with nothing flagged: empty lists, and HTML renders (regression: qsort on no rows). */
static void test_report_empty(void **state) {
  (void)state;
  mg_store *s = open_store("notices-report-empty");
  mg_report_params p = {T0, T1, 100, NULL, T1};
  mg_buf b, h;
  mg_buf_init(&b, 1 << 20);
  mg_buf_init(&h, 1 << 20);
  assert_int_equal(mg_notices_report_json(s, &p, org_info, NULL, &b), MG_OK);
  json_error_t je;
  json_t *r = json_loads(b.data, 0, &je);
  assert_non_null(r);
  assert_int_equal(json_array_size(json_object_get(r, "universities")), 0);
  assert_int_equal(json_array_size(json_object_get(r, "platforms")), 0);
  assert_int_equal(mg_notices_report_html(b.data, b.len, &h), MG_OK);
  json_decref(r);
  mg_buf_free(&b);
  mg_buf_free(&h);
  mg_store_close(s);
}

static void test_report(void **state) {
  (void)state;
  mg_store *s = open_store("notices-report");
  /* Current period. Univ 1: 5 flagged students on platform 31 and one of them again on 32 (verified)
   * of 1000 → 6.00‰ (student-platform pairs).
   * Univ 2: 8 of 4000 → 2.00‰. Univ 3: 3 of 50 → 60‰ but below min enrolments.
   * Univ 4 (other province): 2 of 2000 → 1.00‰. Previous: univ 1 had 1 of 500 → 2.00‰;
   * univ 2 had 12 of 4000 → 3.00‰. */
  for (int i = 0; i < 5; i++) item(s, 1, 31, 100 + i, T0 + DAY_US, NULL);
  item(s, 1, 31, 100, T0 + 2 * DAY_US, NULL); /* same student again: still 5 students */
  verify(s, item(s, 1, 32, 100, T0 + 3 * DAY_US, NULL), NULL, T0 + 4 * DAY_US);
  for (int i = 0; i < 8; i++) item(s, 2, 31, 200 + i, T0 + DAY_US, NULL);
  for (int i = 0; i < 3; i++) item(s, 3, 32, 300 + i, T0 + DAY_US, NULL);
  for (int i = 0; i < 2; i++) item(s, 4, 32, 400 + i, T0 + DAY_US, NULL);
  item(s, 1, 31, 190, T0 - DAY_US, NULL);
  for (int i = 0; i < 12; i++) item(s, 2, 31, 250 + i, T0 - DAY_US, NULL);
  item(s, 1, 31, 999, T1 + DAY_US, NULL); /* after the period: not counted */

  mg_report_params p = {T0, T1, 100, NULL, T1};
  mg_buf b;
  mg_buf_init(&b, 1 << 22);
  assert_int_equal(mg_notices_report_json(s, &p, org_info, NULL, &b), MG_OK);
  json_error_t je;
  json_t *r = json_loads(b.data, 0, &je);
  assert_non_null(r);
  json_t *u = json_object_get(r, "universities");
  assert_int_equal(json_array_size(u), 4);
  /* Ranked by flagged rate. */
  json_t *u1 = json_array_get(u, 0);
  assert_int_equal(json_integer_value(json_object_get(u1, "id")), 1);
  assert_int_equal(json_integer_value(json_object_get(u1, "rank")), 1);
  /* Student 100 is flagged on two platforms: counted once per platform, so 6 student-platform
   * pairs for univ 1. */
  assert_int_equal(json_integer_value(json_object_get(u1, "flagged_students")), 6);
  assert_true(json_real_value(json_object_get(u1, "flagged_per_1000")) == 6.0);
  assert_int_equal(json_integer_value(json_object_get(u1, "verified_students")), 1);
  assert_true(json_real_value(json_object_get(u1, "verified_per_1000")) == 1.0);
  assert_string_equal(json_string_value(json_object_get(u1, "trend")), "up");
  assert_true(json_real_value(json_object_get(u1, "change_per_1000")) == 4.0);
  json_t *u2 = find_id(u, 2);
  assert_int_equal(json_integer_value(json_object_get(u2, "rank")), 2);
  assert_true(json_real_value(json_object_get(u2, "flagged_per_1000")) == 2.0);
  assert_string_equal(json_string_value(json_object_get(u2, "trend")), "down");
  json_t *u3 = find_id(u, 3);
  assert_true(json_is_null(json_object_get(u3, "rank"))); /* 50 enrolments < 100 */
  assert_true(json_real_value(json_object_get(u3, "flagged_per_1000")) == 60.0);
  assert_ptr_equal(json_array_get(u, 3), u3); /* unranked go last */
  json_t *u4 = find_id(u, 4);
  assert_string_equal(json_string_value(json_object_get(u4, "trend")), "new");
  json_t *pl = json_object_get(r, "platforms");
  assert_int_equal(json_array_size(pl), 2);
  /* Platform 32: 1 + 3 + 2 = 6 of 2000 → 3‰; platform 31: 5 + 8 = 13 of 10000 → 1.3‰. */
  assert_int_equal(json_integer_value(json_object_get(json_array_get(pl, 0), "id")), 32);
  assert_true(json_real_value(json_object_get(json_array_get(pl, 1), "flagged_per_1000")) == 1.3);
  json_decref(r);

  /* Province filter: only universities of province 11. */
  mg_buf_reset(&b);
  p.province = "11";
  assert_int_equal(mg_notices_report_json(s, &p, org_info, NULL, &b), MG_OK);
  r = json_loads(b.data, 0, &je);
  assert_non_null(r);
  assert_int_equal(json_array_size(json_object_get(r, "universities")), 1);
  assert_int_equal(json_array_size(json_object_get(r, "platforms")), 2);
  json_decref(r);

  /* HTML: standalone, escaped, one row per organisation. */
  mg_buf_reset(&b);
  p.province = NULL;
  assert_int_equal(mg_notices_report_json(s, &p, org_info, NULL, &b), MG_OK);
  mg_buf h;
  mg_buf_init(&h, 1 << 22);
  assert_int_equal(mg_notices_report_html(b.data, b.len, &h), MG_OK);
  assert_non_null(strstr(h.data, "<!DOCTYPE html>"));
  assert_non_null(strstr(h.data, "高校在线开放课程异常学习行为通报"));
  assert_non_null(strstr(h.data, "大学 1 &amp; co"));
  assert_non_null(strstr(h.data, "平台&lt;32&gt;"));
  assert_null(strstr(h.data, "平台<32>"));
  int rows = 0;
  for (const char *q = h.data; (q = strstr(q, "<tr><td>")); q++) rows++;
  assert_int_equal(rows, 6);
  assert_int_equal(mg_notices_report_html("{}", 2, &h), MG_EINVAL);
  mg_buf_free(&h);

  /* Bad periods. */
  mg_report_params bad = {T1, T0, 0, NULL, 0};
  assert_int_equal(mg_notices_report_json(s, &bad, org_info, NULL, &b), MG_EINVAL);

  /* The flagged students of university 1. */
  mg_buf_reset(&b);
  assert_int_equal(mg_notices_flagged_json(s, 1, &b), MG_OK);
  r = json_loads(b.data, 0, &je);
  assert_non_null(r);
  json_t *st = json_object_get(r, "students");
  assert_int_equal(json_array_size(st), 7); /* 100..104, 190, 999 */
  json_t *s100 = json_array_get(st, 0);
  assert_int_equal(json_integer_value(json_object_get(s100, "student_id")), 100);
  assert_int_equal(json_integer_value(json_object_get(s100, "items")), 3);
  assert_string_equal(json_string_value(json_object_get(s100, "case_state")), "verified");
  json_decref(r);
  mg_buf_free(&b);
  mg_store_close(s);
}

static void test_referral(void **state) {
  (void)state;
  mg_store *s = open_store("notices-referral");
  const char *ev1 = "{\"ips\":[\"203.0.113.7\",\"198.51.100.2\"],\"device\":\"dev-A\","
                    "\"cluster\":{\"shared_accounts\":[\"student:8001\",\"student:8002\"],"
                    "\"devices\":[\"dev-A\",\"dev-B\"]}}";
  const char *ev2 = "{\"client_ip\":\"203.0.113.7\",\"note\":\"<script>\"}";
  int64_t a = item(s, 1, 31, 100, T0, ev1);
  int64_t b2 = item(s, 1, 31, 100, T0, ev2);
  int64_t id = 0;
  mg_case_err err;
  int64_t ab[] = {a, b2};
  assert_int_equal(mg_cases_open(s, &ADMIN, ab, 2, "代刷 service “xx网课助手”", T0, &id, &err), MG_OK);
  mg_buf pkg;
  mg_buf_init(&pkg, 1 << 22);
  /* Not yet decided: refused. */
  assert_int_equal(mg_notices_referral(s, id, "police", "reg_user", T0, &pkg, NULL, NULL, &err),
                   MG_ECONFLICT);
  assert_string_equal(err.code, "not_referable");
  assert_int_equal(mg_cases_investigate(s, &ADMIN, id, NULL, T0, &err), MG_OK);
  assert_int_equal(mg_cases_decide(s, &ADMIN, id, 1, "verified", NULL, 0, DAY_US, T0, &err), MG_OK);
  assert_int_equal(mg_notices_referral(s, id, "fbi", "reg_user", T0, &pkg, NULL, NULL, &err),
                   MG_EINVAL);
  assert_non_null(strstr(err.message, "fbi"));
  /* A verified case without a service is not referable. */
  int64_t other = verify(s, item(s, 1, 31, 101, T0, NULL), NULL, T0);
  assert_int_equal(mg_notices_referral(s, other, "police", "reg_user", T0, &pkg, NULL, NULL, &err),
                   MG_ECONFLICT);
  assert_int_equal(pkg.len, 0);

  int64_t rid = 0;
  char digest[65];
  assert_int_equal(
      mg_notices_referral(s, id, "police", "reg_user", T0 + 5, &pkg, &rid, digest, &err), MG_OK);
  assert_true(rid > 0);
  json_error_t je;
  json_t *r = json_loads(pkg.data, 0, &je);
  assert_non_null(r);
  assert_string_equal(json_string_value(json_object_get(r, "department")), "police");
  assert_string_equal(json_string_value(json_object_get(r, "department_name")), "公安部门");
  json_t *ips = json_object_get(r, "ips");
  assert_int_equal(json_array_size(ips), 2); /* 203.0.113.7 once */
  json_t *devs = json_object_get(r, "devices");
  assert_int_equal(json_array_size(devs), 2);
  json_t *acc = json_object_get(r, "accounts");
  assert_int_equal(json_array_size(acc), 3);
  assert_string_equal(json_string_value(json_array_get(acc, 0)), "student:100");
  assert_int_equal(json_array_size(json_object_get(r, "evidence")), 2);
  json_t *cs = json_object_get(r, "case");
  assert_string_equal(json_string_value(json_object_get(cs, "service")), "代刷 service “xx网课助手”");
  json_decref(r);
  /* The digest is SM3 of exactly the package bytes. */
  unsigned char md[32];
  unsigned int mdlen = 0;
  assert_true(EVP_Digest(pkg.data, pkg.len, md, &mdlen, EVP_sm3(), NULL));
  char hex[65];
  for (unsigned i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", md[i]);
  assert_string_equal(hex, digest);
  mg_buf_free(&pkg);
  mg_store_close(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_report_empty),
      cmocka_unit_test(test_report),
      cmocka_unit_test(test_referral),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
