/* GET /api/v1/findings, /findings/:id and /students/:id/evidence through the real server, over
 * findings the live detector stored from a simulated term pushed by `import`: each role sees
 * its scope only (a university its own, a province's regulator its province masked, the
 * ministry everything, a platform its own), filters and paging, bad parameters named, the
 * evidence timeline of a flagged student, and refusals (student role, other university, absent
 * student). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/totp.h"
#include "core/err.h"
#include "store/store_findings.h"
#include "store/store_registry.h"
#include "support.h"

static mg_test_server g_srv;

static json_t *call(const char *token, const char *path, int want, const char *code) {
  char headers[512];
  snprintf(headers, sizeof headers, "Authorization: Bearer %s\r\n", token);
  mg_test_resp r;
  assert_int_equal(mg_test_http(g_srv.port, "GET", path, token ? headers : NULL, NULL, 0, &r), 0);
  json_error_t je;
  json_t *j = r.body.data ? json_loads(r.body.data, 0, &je) : NULL;
  if (r.status != want ||
      (code && (!json_is_string(json_object_get(j, "error")) ||
                strcmp(json_string_value(json_object_get(j, "error")), code))))
    fail_msg("GET %s: %d %s, want %d %s", path, r.status, r.body.data ? r.body.data : "", want,
             code ? code : "");
  if (code) assert_true(strlen(json_string_value(json_object_get(j, "message"))) > 5);
  mg_test_resp_free(&r);
  return j;
}

static json_t *post(const char *token, const char *path, const char *body) {
  char headers[512];
  snprintf(headers, sizeof headers, "%s%s%sContent-Type: application/json\r\n",
           token ? "Authorization: Bearer " : "", token ? token : "", token ? "\r\n" : "");
  mg_test_resp r;
  assert_int_equal(mg_test_http(g_srv.port, "POST", path, headers, body, strlen(body), &r), 0);
  if (r.status != 200 && r.status != 201) fail_msg("POST %s: %d %s", path, r.status, r.body.data);
  json_error_t je;
  json_t *j = json_loads(r.body.data, 0, &je);
  mg_test_resp_free(&r);
  return j;
}

static size_t b32decode(const char *s, uint8_t *out, size_t max) {
  uint32_t acc = 0;
  int bits = 0;
  size_t n = 0;
  for (; *s && *s != '='; s++) {
    const char *a = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", *p = strchr(a, *s);
    assert_non_null(p);
    acc = (acc << 5) | (uint32_t)(p - a);
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      assert_true(n < max);
      out[n++] = (uint8_t)(acc >> bits);
    }
  }
  return n;
}

/* Logs in, sets a new password, passes TOTP when the role needs it; token out. */
static void sign_in(const char *user, const char *initial, char token[128]) {
  char body[512];
  snprintf(body, sizeof body, "{\"username\":\"%s\",\"password\":\"%s\",\"token_type\":\"bearer\"}",
           user, initial);
  json_t *j = post(NULL, "/api/v1/auth/login", body);
  snprintf(token, 128, "%s", json_string_value(json_object_get(j, "token")));
  int mfa = json_is_true(json_object_get(j, "mfa_required"));
  json_decref(j);
  snprintf(body, sizeof body,
           "{\"current_password\":\"%s\",\"new_password\":\"Fnd-Live-%zu#Qz2026\"}", initial,
           strlen(user) * 7919);
  json_decref(post(token, "/api/v1/auth/password", body));
  if (!mfa) return;
  j = post(token, "/api/v1/auth/totp/enrol", "{}");
  uint8_t key[64];
  size_t n = b32decode(json_string_value(json_object_get(j, "secret")), key, sizeof key);
  json_decref(j);
  uint32_t code = 0;
  assert_int_equal(mg_auth_totp_code(key, n, (int64_t)time(NULL) / 30, 6, &code), 0);
  snprintf(body, sizeof body, "{\"code\":\"%06u\"}", code);
  json_decref(post(token, "/api/v1/auth/totp/verify", body));
}

static char t_sec[128];

static void make_user(const char *name, const char *role, long long org, const char *province,
                      char token[128]) {
  char body[512];
  snprintf(body, sizeof body,
           "{\"username\":\"%s\",\"role\":\"%s\",\"org_id\":%lld,\"province\":\"%s\"}", name, role,
           org, province);
  json_t *j = post(t_sec, "/api/v1/users", body);
  char initial[128];
  snprintf(initial, sizeof initial, "%.100s", json_string_value(json_object_get(j, "initial_password")));
  json_decref(j);
  sign_in(name, initial, token);
}

/* ---- the world --------------------------------------------------------------------------- */

static char g_dir[512], g_store[700];
static mg_reg_org g_u[2], g_p;
static int64_t g_student; /* a student of university 0 with a finding */
static char g_student_no[33];
static size_t g_total, g_of_u0;
static char t_u0[128], t_u1[128], t_reg0[128], t_moe[128], t_plat[128], t_stu[128];

static int count_row(void *ud, const mg_store_finding *f) {
  (void)ud;
  g_total++;
  if (!strcmp(f->university, g_u[0].home_page)) {
    g_of_u0++;
    if (!g_student_no[0]) snprintf(g_student_no, sizeof g_student_no, "%.32s", f->student);
  }
  if (!g_p.code[0]) snprintf(g_p.code, sizeof g_p.code, "%s", f->platform);
  return MG_OK;
}

#define SETUP_FAIL() do { fprintf(stderr, "setup failed at line %d\n", __LINE__); return -1; } while (0)

static int setup(void **state) {
  (void)state;
  mg_test_tmpdir("findings_api", g_dir, sizeof g_dir);
  char cmd[2000], admin[700];
  snprintf(cmd, sizeof cmd,
           "'%s' simulate --out '%s/term' --students 40 --weeks 4 --courses 4 --universities 2 "
           "--platforms 1 --attack-scale 10 --quiet >/dev/null && '%s' import '%s/term/statements.ndjson' "
           "--store '%s/moocguard.db' >/dev/null 2>&1",
           getenv("MG_BIN"), g_dir, getenv("MG_BIN"), g_dir, g_dir);
  if (system(cmd) != 0) SETUP_FAIL();
  snprintf(g_store, sizeof g_store, "%s/moocguard.db", g_dir);
  /* the registry: the sim's universities and platform, and the flagged student */
  json_error_t je;
  snprintf(cmd, sizeof cmd, "%s/term/world.json", g_dir);
  json_t *w = json_load_file(cmd, 0, &je);
  if (!w) SETUP_FAIL();
  mg_store *s;
  if (mg_store_open(g_store, &s, NULL)) SETUP_FAIL();
  for (int i = 0; i < 2; i++) {
    json_t *u = json_array_get(json_object_get(w, "universities"), (size_t)i);
    memset(&g_u[i], 0, sizeof g_u[i]);
    snprintf(g_u[i].kind, sizeof g_u[i].kind, "university");
    snprintf(g_u[i].code, sizeof g_u[i].code, "%s", json_string_value(json_object_get(u, "code")));
    snprintf(g_u[i].name, sizeof g_u[i].name, "%s", json_string_value(json_object_get(u, "name")));
    snprintf(g_u[i].province, sizeof g_u[i].province, "p%d", i); /* distinct provinces */
    snprintf(g_u[i].home_page, sizeof g_u[i].home_page, "%s",
             json_string_value(json_object_get(u, "homePage")));
    if (!json_is_string(json_object_get(u, "homePage"))) SETUP_FAIL();
    int orc = mg_store_reg_org_create(s, &g_u[i], &g_u[i].id);
    if (orc) fprintf(stderr, "org create: %s\n", mg_strerror(orc));
    if (orc) SETUP_FAIL();
  }
  json_decref(w);
  mg_store_finding_filter flt = {.limit = 500};
  if (mg_store_finding_list(s, &flt, count_row, NULL, NULL, NULL) || g_of_u0 == 0 ||
      g_of_u0 == g_total)
    SETUP_FAIL();
  snprintf(g_p.kind, sizeof g_p.kind, "platform");
  snprintf(g_p.name, sizeof g_p.name, "sim platform");
  if (mg_store_reg_platform_create(s, &g_p, &g_p.id)) SETUP_FAIL();
  mg_reg_student st = {.university_id = g_u[0].id};
  memcpy(st.student_no, g_student_no, sizeof st.student_no);
  snprintf(st.name, sizeof st.name, "张三");
  if (mg_store_reg_student_create(s, &st, &g_student)) SETUP_FAIL();
  mg_store_close(s);

  /* the server on that store */
  snprintf(admin, sizeof admin, "%s/admin.txt", g_dir);
  const char *args[] = {"--password-hash", "interactive", "--first-admin-file", admin,
                        "--access-log", "false", "--store", g_store, NULL};
  if (mg_test_server_start("findings_api_srv", args, &g_srv)) SETUP_FAIL();
  char *f = mg_test_read_file(admin, NULL);
  char pw[128];
  if (!f || !strstr(f, "password=") || sscanf(strstr(f, "password="), "password=%127s", pw) != 1)
    SETUP_FAIL();
  free(f);
  sign_in("secadmin", pw, t_sec);
  make_user("u0admin", "univ_admin", g_u[0].id, g_u[0].province, t_u0);
  make_user("u1admin", "univ_admin", g_u[1].id, g_u[1].province, t_u1);
  make_user("reg0", "regulator", 0, g_u[0].province, t_reg0);
  make_user("moe", "regulator", 0, "", t_moe);
  make_user("plat", "platform_operator", g_p.id, "", t_plat);
  make_user("stu", "student", g_u[0].id, "", t_stu);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  mg_test_server_stop(&g_srv);
  return 0;
}

/* Follows the cursor through every page; returns all items (caller decrefs). */
static json_t *all_pages(const char *token, const char *query, int limit) {
  json_t *all = json_array();
  char path[512];
  long long after = 0;
  for (int pages = 0; pages < 100; pages++) {
    snprintf(path, sizeof path, "/api/v1/findings?limit=%d&after=%lld%s%s", limit, after,
             query[0] ? "&" : "", query);
    json_t *j = call(token, path, 200, NULL);
    json_array_extend(all, json_object_get(j, "items"));
    int more = json_is_true(json_object_get(j, "more"));
    after = json_integer_value(json_object_get(j, "next_after"));
    json_decref(j);
    if (!more) return all;
  }
  fail_msg("paging did not end");
  return NULL;
}

static void scopes_filters_paging(void **state) {
  (void)state;
  /* the university sees its own findings, in pages */
  json_t *mine = all_pages(t_u0, "", 2);
  assert_int_equal(json_array_size(mine), g_of_u0);
  size_t i;
  json_t *it;
  long long other_id = 0, own_id = 0;
  json_array_foreach(mine, i, it) {
    assert_string_equal(json_string_value(json_object_get(it, "university")), g_u[0].home_page);
    assert_true(json_array_size(json_object_get(it, "rules")) >= 1);
    assert_true(json_is_object(json_object_get(it, "thresholds")));
    assert_true(json_array_size(json_object_get(it, "evidence")) >= 1);
    assert_true(json_real_value(json_object_get(it, "score")) >= 1.0);
    assert_true(strlen(json_string_value(json_object_get(it, "explanation_zh"))) > 10);
    own_id = json_integer_value(json_object_get(it, "id"));
  }
  /* the ministry sees all; the other university the rest */
  json_t *everything = all_pages(t_moe, "", 500);
  assert_int_equal(json_array_size(everything), g_total);
  json_array_foreach(everything, i, it) {
    if (strcmp(json_string_value(json_object_get(it, "university")), g_u[0].home_page))
      other_id = json_integer_value(json_object_get(it, "id"));
  }
  assert_true(other_id > 0 && own_id > 0);
  json_t *theirs = all_pages(t_u1, "", 500);
  assert_int_equal(json_array_size(theirs), g_total - g_of_u0);
  /* the province's regulator sees its province, student numbers masked */
  json_t *prov = all_pages(t_reg0, "", 500);
  assert_int_equal(json_array_size(prov), g_of_u0);
  json_array_foreach(prov, i, it) assert_non_null(strstr(json_string_value(json_object_get(it, "student_no")), "**"));
  /* the platform its own (every finding here is on the one platform) */
  json_t *plat = all_pages(t_plat, "", 500);
  assert_int_equal(json_array_size(plat), g_total);
  /* filters */
  char q[256];
  snprintf(q, sizeof q, "student=%s", g_student_no);
  json_t *one = all_pages(t_u0, q, 500);
  assert_true(json_array_size(one) >= 1);
  json_array_foreach(one, i, it) assert_string_equal(json_string_value(json_object_get(it, "student_no")), g_student_no);
  json_t *typed = all_pages(t_moe, "type=course_brushing", 500);
  json_array_foreach(typed, i, it) assert_string_equal(json_string_value(json_object_get(it, "type")), "course_brushing");
  json_t *late = all_pages(t_moe, "since=2999-01-01T00:00:00Z", 500);
  assert_int_equal(json_array_size(late), 0);
  snprintf(q, sizeof q, "university_id=%lld", (long long)g_u[1].id);
  json_t *by_moe = all_pages(t_moe, q, 500);
  assert_int_equal(json_array_size(by_moe), g_total - g_of_u0);
  json_t *v[] = {mine, everything, theirs, prov, plat, one, typed, late, by_moe};
  for (size_t k = 0; k < sizeof v / sizeof v[0]; k++) json_decref(v[k]);

  /* refusals name what was wrong */
  char path[256];
  snprintf(path, sizeof path, "/api/v1/findings?university_id=%lld", (long long)g_u[1].id);
  json_decref(call(t_u0, path, 403, "out_of_scope"));
  json_decref(call(t_u0, "/api/v1/findings?type=speeding", 400, "invalid_parameter"));
  json_decref(call(t_u0, "/api/v1/findings?limit=0", 400, "invalid_parameter"));
  json_decref(call(t_u0, "/api/v1/findings?since=yesterday", 400, "invalid_parameter"));
  json_decref(call(t_u0, "/api/v1/findings?university_id=999999", 400, "invalid_parameter"));
  json_decref(call(t_stu, "/api/v1/findings", 403, "forbidden"));
  /* one finding */
  snprintf(path, sizeof path, "/api/v1/findings/%lld", own_id);
  json_t *j = call(t_u0, path, 200, NULL);
  assert_int_equal(json_integer_value(json_object_get(j, "id")), own_id);
  json_decref(j);
  snprintf(path, sizeof path, "/api/v1/findings/%lld", other_id);
  json_decref(call(t_u0, path, 403, "out_of_scope"));
  json_decref(call(t_reg0, path, 403, "out_of_scope"));
  json_decref(call(t_moe, path, 200, NULL));
  json_decref(call(t_u0, "/api/v1/findings/99999999", 404, "not_found"));
}

static void evidence_timeline(void **state) {
  (void)state;
  char path[256];
  snprintf(path, sizeof path, "/api/v1/students/%lld/evidence", (long long)g_student);
  json_t *j = call(t_u0, path, 200, NULL);
  assert_string_equal(json_string_value(json_object_get(json_object_get(j, "student"), "student_no")),
                      g_student_no);
  assert_true(json_integer_value(json_object_get(j, "statements")) > 10);
  assert_true(json_array_size(json_object_get(j, "devices")) >= 1);
  assert_true(json_array_size(json_object_get(j, "addresses")) >= 1);
  assert_true(json_array_size(json_object_get(j, "networks")) >= 1);
  json_t *a0 = json_array_get(json_object_get(j, "addresses"), 0);
  assert_true(strlen(json_string_value(json_object_get(a0, "ip"))) >= 7); /* the university: full */
  assert_true(json_array_size(json_object_get(j, "sessions")) + json_array_size(json_object_get(j, "items")) >= 1);
  json_t *sessions = json_object_get(j, "sessions");
  size_t i;
  json_t *s;
  size_t points = 0;
  json_array_foreach(sessions, i, s) points += json_array_size(json_object_get(s, "speed_over_time"));
  assert_true(json_array_size(sessions) == 0 || points > 0);
  assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(j, "labels"), "face_checks"), "zh")),
                      "人脸核验");
  json_decref(j);
  /* the province's regulator: masked */
  j = call(t_reg0, path, 200, NULL);
  assert_non_null(strstr(json_string_value(json_object_get(json_object_get(j, "student"), "student_no")), "**"));
  a0 = json_array_get(json_object_get(j, "addresses"), 0);
  assert_string_equal(json_string_value(json_object_get(a0, "ip")), "");
  assert_true(strlen(json_string_value(json_object_get(a0, "network"))) > 3);
  json_decref(j);
  json_decref(call(t_u1, path, 403, "out_of_scope"));
  json_decref(call(t_stu, path, 403, "forbidden"));
  json_decref(call(t_u0, "/api/v1/students/99999999/evidence", 404, "not_found"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(scopes_filters_paging),
      cmocka_unit_test(evidence_timeline),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
