/* store/findings: a finding is stored once per (registration, type), a replay updates it in
 * place, and lists filter and page. Also the engine's findings convert to rows intact. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/err.h"
#include "detect/detect.h"
#include "store/store_findings.h"
#include "support.h"

static int collect(void *ud, const mg_store_finding *f) {
  int *n = ud;
  (*n)++;
  assert_true(f->id > 0);
  assert_string_equal(f->status, "open");
  return MG_OK;
}

static void put_update_list(void **state) {
  (void)state;
  char dir[512], path[700];
  mg_test_tmpdir("findings", dir, sizeof dir);
  snprintf(path, sizeof path, "%s/store.db", dir);
  unlink(path);
  mg_store *s;
  assert_int_equal(mg_store_open(path, &s, NULL), MG_OK);
  mg_detect_finding f;
  memset(&f, 0, sizeof f);
  f.type = MG_DETECT_PROXY_EXAM;
  f.score = 1.2;
  f.threshold = 1;
  snprintf(f.rules, sizeof f.rules, "exam_identity_novel+exam_face_failed");
  snprintf(f.thresholds, sizeof f.thresholds, "{\"exam_face_failed\":{\"value\":1,\"threshold\":1}}");
  snprintf(f.registration, sizeof f.registration, "6b1f3c52-8a0e-4d2b-9f47-2c5e8d1a7b30");
  snprintf(f.student, sizeof f.student, "2023010123");
  snprintf(f.university, sizeof f.university, "https://ids.example-university.edu.cn");
  snprintf(f.course, sizeof f.course, "https://mooc.example.cn/course/DS101");
  snprintf(f.platform, sizeof f.platform, "cn-example-mooc");
  snprintf(f.explain_zh, sizeof f.explain_zh, "考试人脸核验未通过");
  snprintf(f.explain_en, sizeof f.explain_en, "exam face check failed");
  f.n_evidence = 1;
  memset(f.evidence[0], 0xab, 16);
  static mg_store_finding row, got;
  mg_detect_finding_to_store(&f, 1000, &row);
  assert_string_equal(row.evidence, "[\"abababab-abab-abab-abab-abababababab\"]");
  int64_t id1, id2;
  int ins;
  assert_int_equal(mg_store_finding_put(s, &row, &id1, &ins), MG_OK);
  assert_int_equal(ins, 1);
  row.score = 1.5; /* found again by a replay */
  assert_int_equal(mg_store_finding_put(s, &row, &id2, &ins), MG_OK);
  assert_int_equal(ins, 0);
  assert_int_equal(id1, id2);
  assert_int_equal(mg_store_finding_get(s, id1, &got), MG_OK);
  assert_true(got.score > 1.49 && got.score < 1.51);
  assert_string_equal(got.explain_zh, "考试人脸核验未通过");
  assert_string_equal(got.type, "proxy_exam");
  assert_int_equal(mg_store_finding_get(s, id1 + 100, &got), MG_ENOTFOUND);
  /* another student, another type */
  snprintf(row.registration, sizeof row.registration, "6b1f3c52-8a0e-4d2b-9f47-000000000002");
  snprintf(row.student, sizeof row.student, "2023000002");
  snprintf(row.type, sizeof row.type, "course_brushing");
  assert_int_equal(mg_store_finding_put(s, &row, NULL, NULL), MG_OK);
  int n = 0, more = 0;
  int64_t last = 0;
  mg_store_finding_filter flt = {0};
  assert_int_equal(mg_store_finding_list(s, &flt, collect, &n, &more, &last), MG_OK);
  assert_int_equal(n, 2);
  n = 0;
  flt.type = "course_brushing";
  assert_int_equal(mg_store_finding_list(s, &flt, collect, &n, &more, &last), MG_OK);
  assert_int_equal(n, 1);
  n = 0;
  flt.type = NULL;
  flt.student = "2023010123";
  flt.university = "https://ids.example-university.edu.cn";
  assert_int_equal(mg_store_finding_list(s, &flt, collect, &n, &more, &last), MG_OK);
  assert_int_equal(n, 1);
  /* paging */
  mg_store_finding_filter pg = {.limit = 1};
  n = 0;
  assert_int_equal(mg_store_finding_list(s, &pg, collect, &n, &more, &last), MG_OK);
  assert_int_equal(n, 1);
  assert_int_equal(more, 1);
  pg.after_id = last;
  n = 0;
  assert_int_equal(mg_store_finding_list(s, &pg, collect, &n, &more, &last), MG_OK);
  assert_int_equal(n, 1);
  assert_int_equal(more, 0);
  mg_store_finding_filter since = {.since_us = 2000};
  n = 0;
  assert_int_equal(mg_store_finding_list(s, &since, collect, &n, NULL, NULL), MG_OK);
  assert_int_equal(n, 0);
  mg_store_close(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(put_update_list)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
