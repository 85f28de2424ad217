/* tests/e2e/test_cases.c — the misconduct workflow through the real server: a report lands in the
 * inbox → case → investigation → verified decision with sanctions → the student sees the evidence
 * and responds → appeal → appeal decision by another person; the student file, notices and the
 * referral package; and the refusals: wrong role, another university's data, a sanction without a
 * case decision, an appeal decided by the same person, an appeal after the window, transitions
 * the table does not have. Users are created through the API by the first security
 * administrator, change their initial passwords and pass TOTP where their role needs it. */
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
#include <unistd.h>

#include "auth/totp.h"
#include "support.h"

static mg_test_server g_srv;

typedef struct user {
  const char *name, *role;
  long long org_id, student_id;
  char token[128];
} user;

/* Sends a JSON request with a bearer token; returns the status and the parsed body in *out
 * (caller decrefs; NULL when the body is not JSON). */
static int call(const char *token, const char *method, const char *path, const char *body,
                json_t **out) {
  char headers[512];
  snprintf(headers, sizeof headers, "%s%s%sContent-Type: application/json\r\n",
           token ? "Authorization: Bearer " : "", token ? token : "", token ? "\r\n" : "");
  mg_test_resp r;
  int rc = mg_test_http(g_srv.port, method, path, headers, body, body ? strlen(body) : 0, &r);
  assert_int_equal(rc, 0);
  int status = r.status;
  if (out) {
    json_error_t je;
    *out = r.body.data ? json_loads(r.body.data, 0, &je) : NULL;
  }
  mg_test_resp_free(&r);
  return status;
}

/* Calls and checks status (and, when code is given, the error code); returns the body. */
static json_t *expect(const char *token, const char *method, const char *path, const char *body,
                      int want, const char *code) {
  json_t *j = NULL;
  int st = call(token, method, path, body, &j);
  if (st != want || (code && (!j || !json_is_string(json_object_get(j, "error")) ||
                               strcmp(json_string_value(json_object_get(j, "error")), code)))) {
    char *dump = j ? json_dumps(j, 0) : NULL;
    fail_msg("%s %s: got %d %s, want %d %s", method, path, st, dump ? dump : "", want,
             code ? code : "");
  }
  if (code) {
    /* Every refusal names what was wrong. */
    const char *msg = json_string_value(json_object_get(j, "message"));
    assert_non_null(msg);
    assert_true(strlen(msg) > 5);
  }
  return j;
}

static void jfree(json_t *j) { json_decref(j); }

static int b32val(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= '2' && c <= '7') return c - '2' + 26;
  return -1;
}

static size_t b32decode(const char *s, uint8_t *out, size_t max) {
  uint32_t acc = 0;
  int bits = 0;
  size_t n = 0;
  for (; *s && *s != '='; s++) {
    int v = b32val(*s);
    assert_true(v >= 0);
    acc = (acc << 5) | (uint32_t)v;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      assert_true(n < max);
      out[n++] = (uint8_t)(acc >> bits);
    }
  }
  return n;
}

/* Logs in, changes the initial password, and passes TOTP when the role needs it. */
static void sign_in(user *u, const char *initial) {
  char body[512], pw[64];
  snprintf(body, sizeof body, "{\"username\":\"%s\",\"password\":\"%s\",\"token_type\":\"bearer\"}",
           u->name, initial);
  json_t *j = expect(NULL, "POST", "/api/v1/auth/login", body, 200, NULL);
  snprintf(u->token, sizeof u->token, "%s", json_string_value(json_object_get(j, "token")));
  int mfa = json_is_true(json_object_get(j, "mfa_required"));
  jfree(j);
  /* Not containing the user name (policy); distinct per user anyway through the length. */
  snprintf(pw, sizeof pw, "Kq7#moocguard-%zu-Lz2026", strlen(u->name) * 7919 + (size_t)u->org_id);
  snprintf(body, sizeof body, "{\"current_password\":\"%s\",\"new_password\":\"%s\"}", initial, pw);
  jfree(expect(u->token, "POST", "/api/v1/auth/password", body, 200, NULL));
  if (!mfa) return;
  j = expect(u->token, "POST", "/api/v1/auth/totp/enrol", NULL, 200, NULL);
  uint8_t key[MG_TOTP_SECRET_LEN];
  size_t klen = b32decode(json_string_value(json_object_get(j, "secret")), key, sizeof key);
  jfree(j);
  uint32_t code = 0;
  assert_int_equal(mg_auth_totp_code(key, klen, (int64_t)time(NULL) / 30, 6, &code), 0);
  snprintf(body, sizeof body, "{\"code\":\"%06u\"}", code);
  jfree(expect(u->token, "POST", "/api/v1/auth/totp/verify", body, 200, NULL));
}

static user SEC = {"secadmin", "sec_admin", 0, 0, ""};
static user ADMIN1 = {"univ11_a", "univ_admin", 11, 0, ""};
static user ADMIN1B = {"univ11_b", "univ_admin", 11, 0, ""};
static user ADMIN2 = {"univ12_a", "univ_admin", 12, 0, ""};
static user TEACHER = {"teacher11", "resp_teacher", 11, 0, ""};
static user STUDENT = {"stu7001", "student", 11, 7001, ""};
static user OTHER = {"stu7002", "student", 11, 7002, ""};
static user PLATFORM = {"plat31", "platform_operator", 31, 0, ""};

static void create_user(user *u) {
  char body[512];
  snprintf(body, sizeof body,
           "{\"username\":\"%s\",\"role\":\"%s\",\"org_id\":%lld,\"student_id\":%lld}", u->name,
           u->role, u->org_id, u->student_id);
  json_t *j = expect(SEC.token, "POST", "/api/v1/users", body, 201, NULL);
  char initial[64];
  snprintf(initial, sizeof initial, "%s", json_string_value(json_object_get(j, "initial_password")));
  jfree(j);
  sign_in(u, initial);
}

static int setup(void **state) {
  (void)state;
  char dir[512], file[600];
  mg_test_tmpdir("e2e-cases-admin", dir, sizeof dir);
  snprintf(file, sizeof file, "%s/first-admin", dir);
  const char *args[] = {"--first-admin-file", file, "--password-hash", "interactive",
                        "--appeal-window", "3", NULL};
  if (mg_test_server_start("e2e-cases", args, &g_srv)) return -1;
  char *text = mg_test_read_file(file, NULL);
  if (!text) return -1;
  char *p = strstr(text, "password=");
  if (!p) return -1;
  p += 9;
  p[strcspn(p, "\n")] = '\0';
  char initial[64];
  snprintf(initial, sizeof initial, "%s", p);
  free(text);
  sign_in(&SEC, initial);
  user *all[] = {&ADMIN1, &ADMIN1B, &ADMIN2, &TEACHER, &STUDENT, &OTHER, &PLATFORM};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) create_user(all[i]);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  mg_test_server_stop(&g_srv);
  return 0;
}

static long long report(user *who, long long univ, long long student) {
  char body[1024];
  snprintf(body, sizeof body,
           "{\"university_id\":%lld,\"student_id\":%lld,\"course_id\":41,\"registration\":"
           "\"0b9d2a6e-4f1c-4d0a-9d1e-5e3c1b2a7f%02lld\",\"type\":\"course_brushing\",\"summary\":"
           "\"视频进度以 8 倍速推进 / progress at 8x\",\"evidence\":{\"rate\":8.0,\"ips\":"
           "[\"203.0.113.7\"],\"devices\":[\"dev-A\"],\"shared_accounts\":[\"student:8001\"]}}",
           univ, student, student % 100);
  json_t *j = expect(who->token, "POST", "/api/v1/inbox", body, 201, NULL);
  long long id = json_integer_value(json_object_get(j, "id"));
  jfree(j);
  assert_true(id > 0);
  return id;
}

static long long open_case(user *who, long long item, const char *service) {
  char body[256], path[64];
  if (service)
    snprintf(body, sizeof body, "{\"items\":[%lld],\"service_note\":\"%s\"}", item, service);
  else
    snprintf(body, sizeof body, "{\"items\":[%lld]}", item);
  snprintf(path, sizeof path, "/api/v1/cases");
  json_t *j = expect(who->token, "POST", path, body, 201, NULL);
  long long id = json_integer_value(json_object_get(j, "id"));
  assert_string_equal(json_string_value(json_object_get(j, "state")), "open");
  jfree(j);
  return id;
}

static const char *state_of(json_t *j) { return json_string_value(json_object_get(j, "state")); }

static void test_workflow(void **state) {
  (void)state;
  char path[128];
  /* A platform and a teacher report into university 11's inbox. */
  long long item = report(&PLATFORM, 11, 7001);
  long long item2 = report(&TEACHER, 11, 7002);
  /* A teacher may not report on another university's students; a student may not report. */
  jfree(expect(TEACHER.token, "POST", "/api/v1/inbox",
               "{\"university_id\":12,\"student_id\":1,\"type\":\"proxy_exam\",\"summary\":\"s\","
               "\"evidence\":{}}",
               403, "out_of_scope"));
  jfree(expect(STUDENT.token, "POST", "/api/v1/inbox", "{}", 403, "forbidden"));
  /* Bad input is refused with the field named, and changes nothing. */
  json_t *j = expect(PLATFORM.token, "POST", "/api/v1/inbox",
                     "{\"university_id\":11,\"student_id\":7001,\"type\":\"speeding\",\"summary\":"
                     "\"s\",\"evidence\":{}}",
                     400, "invalid_field");
  assert_non_null(strstr(json_string_value(json_object_get(j, "message")), "speeding"));
  jfree(j);
  jfree(expect(PLATFORM.token, "POST", "/api/v1/inbox",
               "{\"university_id\":11,\"student_id\":7001,\"type\":\"proxy_exam\",\"summary\":"
               "\"s\",\"evidence\":{},\"colour\":1}",
               400, "unknown_field"));

  /* The inbox: university 11 sees both items, with evidence; university 12 sees none of them. */
  j = expect(ADMIN1.token, "GET", "/api/v1/inbox", NULL, 200, NULL);
  assert_int_equal(json_array_size(json_object_get(j, "items")), 2);
  assert_true(json_is_object(json_object_get(json_array_get(json_object_get(j, "items"), 0), "evidence")));
  jfree(j);
  j = expect(ADMIN2.token, "GET", "/api/v1/inbox", NULL, 200, NULL);
  assert_int_equal(json_array_size(json_object_get(j, "items")), 0);
  jfree(j);
  jfree(expect(ADMIN2.token, "GET", "/api/v1/inbox?university_id=11", NULL, 403, "out_of_scope"));

  /* Another university cannot open a case over university 11's items. */
  char body[512];
  snprintf(body, sizeof body, "{\"items\":[%lld]}", item);
  jfree(expect(ADMIN2.token, "POST", "/api/v1/cases", body, 403, "out_of_scope"));
  /* A teacher (wrong role) cannot open one. */
  jfree(expect(TEACHER.token, "POST", "/api/v1/cases", body, 403, "forbidden"));
  long long id = open_case(&ADMIN1, item, "代刷服务 xx网课助手");

  /* Sanction without a case decision: refused. */
  snprintf(path, sizeof path, "/api/v1/cases/%lld/sanctions", id);
  jfree(expect(ADMIN1.token, "POST", path, "{\"kind\":\"warning\",\"reason\":\"r\"}", 409,
               "no_case_decision"));
  /* Deciding before investigating: not in the table. */
  snprintf(path, sizeof path, "/api/v1/cases/%lld/decision", id);
  jfree(expect(ADMIN1.token, "POST", path,
               "{\"outcome\":\"verified\",\"reason\":\"r\",\"sanctions\":[\"warning\"]}", 409,
               "invalid_transition"));
  snprintf(path, sizeof path, "/api/v1/cases/%lld/investigate", id);
  jfree(expect(ADMIN2.token, "POST", path, NULL, 403, "out_of_scope")); /* other university */
  j = expect(ADMIN1.token, "POST", path, "{\"note\":\"核对日志 / checking logs\"}", 200, NULL);
  assert_string_equal(state_of(j), "investigating");
  jfree(j);

  /* The student sees their case and its evidence, and responds; another student cannot. */
  snprintf(path, sizeof path, "/api/v1/cases/%lld", id);
  j = expect(STUDENT.token, "GET", path, NULL, 200, NULL);
  assert_true(json_is_object(json_object_get(json_array_get(json_object_get(j, "items"), 0), "evidence")));
  jfree(j);
  jfree(expect(OTHER.token, "GET", path, NULL, 403, "out_of_scope"));
  jfree(expect(ADMIN2.token, "GET", path, NULL, 403, "out_of_scope"));
  snprintf(path, sizeof path, "/api/v1/cases/%lld/responses", id);
  jfree(expect(STUDENT.token, "POST", path, "{\"text\":\"我用手机离线观看 / watched offline\"}",
               200, NULL));
  jfree(expect(OTHER.token, "POST", path, "{\"text\":\"x\"}", 403, "out_of_scope"));

  /* A student (wrong role) cannot decide; the university's admin verifies with a demerit. */
  snprintf(path, sizeof path, "/api/v1/cases/%lld/decision", id);
  const char *decision =
      "{\"outcome\":\"verified\",\"reason\":\"日志与设备证据一致 / logs and devices agree\","
      "\"sanctions\":[\"cancel_grade\",\"demerit\"]}";
  jfree(expect(STUDENT.token, "POST", path, decision, 403, "forbidden"));
  jfree(expect(ADMIN1.token, "POST", path,
               "{\"outcome\":\"verified\",\"reason\":\"r\",\"sanctions\":[\"warning\",\"expulsion\"]}",
               400, "invalid_field"));
  j = expect(ADMIN1.token, "POST", path, decision, 200, NULL);
  assert_string_equal(state_of(j), "verified");
  assert_int_equal(json_array_size(json_object_get(j, "sanctions")), 2);
  assert_true(json_is_string(json_object_get(j, "appeal_deadline")));
  assert_int_equal(strncmp(json_string_value(json_object_get(j, "tag")), "mgm1.", 5), 0);
  /* Every step is on the timeline with who and when. */
  json_t *events = json_object_get(j, "events");
  assert_int_equal(json_array_size(events), 4); /* open, investigate, respond, verify */
  assert_string_equal(json_string_value(json_object_get(json_array_get(events, 3), "actor")),
                      "univ11_a");
  jfree(j);

  /* The student file and the notices. */
  j = expect(STUDENT.token, "GET", "/api/v1/students/7001/file", NULL, 200, NULL);
  assert_int_equal(json_array_size(json_object_get(j, "entries")), 2);
  jfree(j);
  jfree(expect(STUDENT.token, "GET", "/api/v1/students/7002/file", NULL, 403, "out_of_scope"));
  j = expect(ADMIN2.token, "GET", "/api/v1/students/7001/file", NULL, 200, NULL);
  assert_int_equal(json_array_size(json_object_get(j, "entries")), 0); /* not its student */
  jfree(j);
  j = expect(STUDENT.token, "GET", "/api/v1/notices", NULL, 200, NULL);
  assert_int_equal(json_array_size(json_object_get(j, "notices")), 1);
  jfree(j);
  j = expect(ADMIN1.token, "GET", "/api/v1/notices/flagged", NULL, 200, NULL);
  assert_int_equal(json_array_size(json_object_get(j, "students")), 2);
  jfree(j);

  /* Referral: the case involves a service. */
  snprintf(path, sizeof path, "/api/v1/cases/%lld/referrals", id);
  jfree(expect(ADMIN1.token, "POST", path, "{\"department\":\"interpol\"}", 400, "invalid_field"));
  j = expect(ADMIN1.token, "POST", path, "{\"department\":\"police\"}", 201, NULL);
  json_t *pkg = json_object_get(j, "package");
  assert_int_equal(json_array_size(json_object_get(pkg, "ips")), 1);
  assert_int_equal(json_array_size(json_object_get(pkg, "accounts")), 2);
  assert_int_equal(strlen(json_string_value(json_object_get(j, "digest_sm3"))), 64);
  jfree(j);

  /* Appeal: only the student; decided by someone else than the decider. */
  snprintf(path, sizeof path, "/api/v1/cases/%lld/appeal", id);
  jfree(expect(ADMIN1.token, "POST", path, "{\"grounds\":\"x\"}", 403, "forbidden"));
  j = expect(STUDENT.token, "POST", path, "{\"grounds\":\"校园网共用出口 / shared campus NAT\"}",
             200, NULL);
  assert_string_equal(state_of(j), "appealed");
  jfree(j);
  snprintf(path, sizeof path, "/api/v1/cases/%lld/appeal/decision", id);
  jfree(expect(ADMIN1.token, "POST", path, "{\"outcome\":\"rejected\",\"reason\":\"r\"}", 403,
               "same_person"));
  jfree(expect(ADMIN2.token, "POST", path, "{\"outcome\":\"rejected\",\"reason\":\"r\"}", 403,
               "out_of_scope"));
  j = expect(ADMIN1B.token, "POST", path,
             "{\"outcome\":\"upheld\",\"reason\":\"设备为共用 / device shared\"}", 200, NULL);
  assert_string_equal(state_of(j), "appeal_upheld");
  json_t *sx = json_object_get(j, "sanctions");
  assert_true(json_is_string(json_object_get(json_array_get(sx, 0), "revoked_at")));
  assert_true(json_is_string(json_object_get(json_array_get(sx, 1), "revoked_at")));
  jfree(j);
  /* Nothing after appeal_upheld. */
  jfree(expect(ADMIN1B.token, "POST", path, "{\"outcome\":\"rejected\",\"reason\":\"r\"}", 409,
               "invalid_transition"));

  /* Appeal after the window (the server runs with --appeal-window 3). */
  long long id2 = open_case(&ADMIN1, item2, NULL);
  snprintf(path, sizeof path, "/api/v1/cases/%lld/investigate", id2);
  jfree(expect(ADMIN1.token, "POST", path, NULL, 200, NULL));
  snprintf(path, sizeof path, "/api/v1/cases/%lld/decision", id2);
  jfree(expect(ADMIN1.token, "POST", path, "{\"outcome\":\"verified\",\"reason\":\"r\"}", 200, NULL));
  sleep(4);
  snprintf(path, sizeof path, "/api/v1/cases/%lld/appeal", id2);
  jfree(expect(OTHER.token, "POST", path, "{\"grounds\":\"late\"}", 409, "appeal_window_closed"));
  snprintf(path, sizeof path, "/api/v1/cases/%lld", id2);
  j = expect(OTHER.token, "GET", path, NULL, 200, NULL);
  assert_string_equal(state_of(j), "verified");
  jfree(j);

  /* Lists: the student sees only their own cases; the regulator-less university 12 none. */
  j = expect(STUDENT.token, "GET", "/api/v1/cases", NULL, 200, NULL);
  assert_int_equal(json_array_size(json_object_get(j, "cases")), 1);
  jfree(j);
  j = expect(ADMIN2.token, "GET", "/api/v1/cases", NULL, 200, NULL);
  assert_int_equal(json_array_size(json_object_get(j, "cases")), 0);
  jfree(j);
  jfree(expect(ADMIN1.token, "GET", "/api/v1/cases?state=closed", NULL, 400, "invalid_parameter"));
  j = expect(ADMIN1.token, "GET", "/api/v1/cases?state=verified", NULL, 200, NULL);
  assert_int_equal(json_array_size(json_object_get(j, "cases")), 1);
  jfree(j);

  /* Credit export answers (no decisions computed in this run) in both formats. */
  j = expect(ADMIN1.token, "GET", "/api/v1/credit/decisions", NULL, 200, NULL);
  assert_int_equal(json_array_size(json_object_get(j, "decisions")), 0);
  jfree(j);
  jfree(expect(ADMIN1.token, "GET", "/api/v1/credit/decisions?university_id=12", NULL, 403,
               "out_of_scope"));
  jfree(expect(STUDENT.token, "GET", "/api/v1/credit/decisions", NULL, 403, "forbidden"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_workflow),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
