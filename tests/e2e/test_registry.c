/* End-to-end tests of the registry through the real server: accounts, platform filing and
 * white list, course recommendation and review, offering, roster import, pledge, exam
 * finalisation, the regulator's intake switch on /xapi, and every refusal on the way. */
#include <jansson.h>
#include <stdarg.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "auth/totp.h"
#include "store/store.h"
#include "store/store_audit.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/time.h"
#include "core/uuid.h"
#include "support.h"

static mg_test_server g_srv;

/* ---- HTTP with a bearer token --------------------------------------------------------------- */

typedef struct res {
  int status;
  json_t *body; /* parsed, or NULL */
} res;

static res call(const char *token, const char *method, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static res call(const char *token, const char *method, const char *path, const char *fmt, ...) {
  char body[65536] = "", hdr[512], target[512];
  if (fmt) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(body, sizeof body, fmt, ap);
    va_end(ap);
  }
  snprintf(hdr, sizeof hdr, "%s%s%s%s", token ? "Authorization: Bearer " : "", token ? token : "",
           token ? "\r\n" : "", fmt ? "Content-Type: application/json\r\n" : "");
  snprintf(target, sizeof target, "/api/v1%s", path);
  mg_test_resp r;
  assert_int_equal(mg_test_http(g_srv.port, method, target, hdr, body, strlen(body), &r), 0);
  res out = {r.status, json_loadb(r.body.data ? r.body.data : "", r.body.len, 0, NULL)};
  if (getenv("MG_TEST_VERBOSE"))
    fprintf(stderr, "%s %s -> %d %.*s\n", method, path, r.status, (int)r.body.len, r.body.data);
  mg_test_resp_free(&r);
  return out;
}

static void expect(res r, int status, const char *error) {
  if (r.status != status || (error && (!r.body || !json_is_string(json_object_get(r.body, "error")) ||
                                       strcmp(json_string_value(json_object_get(r.body, "error")),
                                              error)))) {
    char *d = r.body ? json_dumps(r.body, 0) : NULL;
    fail_msg("expected %d %s, got %d %s", status, error ? error : "", r.status, d ? d : "(no body)");
  }
}

/* Asserts and frees. */
static void check(res r, int status, const char *error) {
  expect(r, status, error);
  json_decref(r.body);
}

static int64_t id_of(res r) {
  json_t *v = json_object_get(r.body, "id");
  assert_true(json_is_integer(v));
  return json_integer_value(v);
}

static const char *str_of(json_t *o, const char *k) {
  const char *s = json_string_value(json_object_get(o, k));
  assert_non_null(s);
  return s;
}

/* ---- accounts ------------------------------------------------------------------------------- */

static int b32_decode(const char *in, uint8_t *out, size_t max) {
  size_t n = 0;
  unsigned buf = 0, bits = 0;
  for (; *in && *in != '='; in++) {
    const char *a = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", *p = strchr(a, *in);
    if (!p) return -1;
    buf = (buf << 5) | (unsigned)(p - a);
    bits += 5;
    if (bits >= 8) {
      if (n == max) return -1;
      out[n++] = (uint8_t)(buf >> (bits - 8));
      bits -= 8;
    }
  }
  return (int)n;
}

/* Logs in with the initial password, sets a new one and, for roles that need it, TOTP. */
static void open_session(const char *user, const char *initial, int mfa, char token[128]) {
  res r = call(NULL, "POST", "/auth/login", "{\"username\":\"%s\",\"password\":\"%s\","
               "\"token_type\":\"bearer\"}", user, initial);
  expect(r, 200, NULL);
  snprintf(token, 128, "%s", str_of(r.body, "token"));
  json_decref(r.body);
  check(call(token, "POST", "/auth/password",
             "{\"current_password\":\"%s\",\"new_password\":\"Reg1stry-E2e-%zu!Qx\"}", initial,
             strlen(user) * 7919),
        200, NULL);
  if (!mfa) return;
  r = call(token, "POST", "/auth/totp/enrol", "{}");
  expect(r, 200, NULL);
  uint8_t key[64];
  int n = b32_decode(str_of(r.body, "secret"), key, sizeof key);
  json_decref(r.body);
  assert_true(n > 0);
  uint32_t code = 0;
  assert_int_equal(mg_auth_totp_code(key, (size_t)n, (int64_t)time(NULL) / 30, 6, &code), 0);
  check(call(token, "POST", "/auth/totp/verify", "{\"code\":\"%06u\"}", code), 200, NULL);
}

/* secadmin creates an account and it is opened. */
static void make_user(const char *admin, const char *user, const char *role, int64_t org,
                      const char *province, int64_t student_id, int mfa, char token[128]) {
  res r = call(admin, "POST", "/users",
               "{\"username\":\"%s\",\"role\":\"%s\",\"org_id\":%lld,\"province\":\"%s\","
               "\"student_id\":%lld}",
               user, role, (long long)org, province, (long long)student_id);
  expect(r, 201, NULL);
  char pw[128];
  snprintf(pw, sizeof pw, "%s", str_of(r.body, "initial_password"));
  json_decref(r.body);
  open_session(user, pw, mfa, token);
}

/* ---- the scenario ----------------------------------------------------------------------------- */

static char t_sec[128], t_moe[128], t_bj[128], t_u1[128], t_u2[128], t_pa[128], t_pb[128],
    t_stu[128];
static int64_t u1, u2, pa, pb;

static int setup(void **state) {
  (void)state;
  static char admin_file[700];
  const char *base = getenv("MG_TEST_TMP");
  snprintf(admin_file, sizeof admin_file, "%s/registry_e2e.%d/admin.txt",
           base && *base ? base : "/tmp/moocguard-tests", (int)getpid());
  const char *args[] = {"--password-hash", "interactive", "--first-admin-file", admin_file,
                        "--access-log", "false", NULL};
  if (mg_test_server_start("registry_e2e", args, &g_srv)) return -1;
  char *f = mg_test_read_file(admin_file, NULL);
  char pw[128];
  if (!f || !strstr(f, "password=") || sscanf(strstr(f, "password="), "password=%127s", pw) != 1)
    return -1;
  free(f);
  open_session("secadmin", pw, 1, t_sec);
  make_user(t_sec, "moe", "regulator", 0, "", 0, 1, t_moe);
  /* the ministry builds the directory */
  res r = call(t_moe, "POST", "/orgs",
               "{\"kind\":\"university\",\"code\":\"10001\",\"name\":\"北京某大学\",\"province\":\"11\","
               "\"home_page\":\"https://ids.u1.edu.cn\"}");
  expect(r, 201, NULL);
  u1 = id_of(r);
  json_decref(r.body);
  r = call(t_moe, "POST", "/orgs",
           "{\"kind\":\"university\",\"code\":\"10002\",\"name\":\"上海某大学\",\"province\":\"31\","
           "\"home_page\":\"https://ids.u2.edu.cn\"}");
  expect(r, 201, NULL);
  u2 = id_of(r);
  json_decref(r.body);
  r = call(t_moe, "POST", "/platforms", "{\"code\":\"pa\",\"name\":\"甲平台\"}");
  expect(r, 201, NULL);
  pa = id_of(r);
  json_decref(r.body);
  r = call(t_moe, "POST", "/platforms", "{\"code\":\"pb\",\"name\":\"乙平台\"}");
  expect(r, 201, NULL);
  pb = id_of(r);
  json_decref(r.body);
  make_user(t_sec, "bjedu", "regulator", 0, "11", 0, 1, t_bj);
  make_user(t_sec, "u1admin", "univ_admin", u1, "11", 0, 1, t_u1);
  make_user(t_sec, "u2admin", "univ_admin", u2, "31", 0, 1, t_u2);
  make_user(t_sec, "opa", "platform_operator", pa, "", 0, 0, t_pa);
  make_user(t_sec, "opb", "platform_operator", pb, "", 0, 0, t_pb);
  return 0;
}

typedef struct seen_actions {
  int set_status, roster, finalise, switch_stop, pledge, course, offering;
} seen_actions;

static int see(void *ud, const mg_store_audit_row *r) {
  seen_actions *a = ud;
  if (!strcmp(r->action, "platform.set_status") && !strcmp(r->actor, "moe")) a->set_status++;
  if (!strcmp(r->action, "roster.import") && !strcmp(r->actor, "u1admin")) a->roster++;
  if (!strcmp(r->action, "exam.finalise") && !strcmp(r->object_type, "exam_result")) a->finalise++;
  if (!strcmp(r->action, "platform.switch")) a->switch_stop++;
  if (!strcmp(r->action, "pledge.sign") && !strcmp(r->actor, "stu1")) a->pledge++;
  if (!strcmp(r->action, "course.submit")) a->course++;
  if (!strcmp(r->action, "offering.create")) a->offering++;
  return 0;
}

static int g_stopped;

static int teardown(void **state) {
  (void)state;
  if (g_stopped) return 0;
  return mg_test_server_stop(&g_srv) == 0 ? 0 : -1;
}

/* Last: after the server stops, each kind of change made above left its audit record, and the
 * refused requests left none. */
static void test_audit_trail(void **state) {
  (void)state;
  assert_int_equal(mg_test_server_stop(&g_srv), 0);
  g_stopped = 1;
  char db[700];
  snprintf(db, sizeof db, "%s/moocguard.db", g_srv.dir);
  mg_store *s = NULL;
  assert_int_equal(mg_store_open(db, &s, NULL), 0);
  seen_actions a = {0};
  int64_t after = 0;
  int more = 1;
  while (more) {
    assert_int_equal(mg_store_audit_list(s, after, 1000, see, &a, &more), 0);
    after += 1000; /* seqs are dense from 1 */
  }
  mg_store_close(s);
  assert_int_equal(a.set_status, 3); /* pb whitelisted then blacklisted, pa whitelisted */
  assert_int_equal(a.roster, 2); /* the small and the 100,000-row import; the duplicate and the
                                  * preview wrote nothing */
  assert_int_equal(a.finalise, 1);   /* refused finalisations are not recorded */
  assert_int_equal(a.switch_stop, 3); /* two switches and one lift */
  assert_int_equal(a.pledge, 1);
  assert_int_equal(a.course, 2);
  assert_int_equal(a.offering, 1);
}

static void test_platforms_and_lists(void **state) {
  (void)state;
  char p[128], due[16];
  time_t later = time(NULL) + 200 * 86400;
  strftime(due, sizeof due, "%Y-%m-%d", gmtime(&later));
  snprintf(p, sizeof p, "/platforms/%lld/filing", (long long)pa);
  check(call(t_pa, "PUT", p, "{\"mlps_level\":2,\"filing_no\":\"F-A\",\"review_due\":\"%s\"}", due),
        400, "mlps_below_3");
  /* a platform files only for itself */
  check(call(t_pb, "PUT", p, "{\"mlps_level\":3,\"filing_no\":\"F-A\",\"review_due\":\"%s\"}", due),
        403, "out_of_scope");
  check(call(t_pa, "PUT", p, "{\"mlps_level\":3,\"filing_no\":\"F-A\",\"review_due\":\"%s\"}", due),
        200, NULL);
  snprintf(p, sizeof p, "/platforms/%lld/filing", (long long)pb);
  check(call(t_pb, "PUT", p, "{\"mlps_level\":3,\"filing_no\":\"F-B\",\"review_due\":\"%s\"}", due),
        200, NULL);
  /* only the ministry decides the lists */
  snprintf(p, sizeof p, "/platforms/%lld/status", (long long)pa);
  check(call(t_bj, "POST", p, "{\"status\":\"whitelist\",\"reason\":\"x\"}"), 403,
        "national_regulator_only");
  check(call(t_pa, "POST", p, "{\"status\":\"whitelist\",\"reason\":\"x\"}"), 403, "forbidden");
  check(call(t_moe, "POST", p, "{\"status\":\"whitelist\",\"reason\":\"2025 年度备案审核通过\"}"), 200,
        NULL);
  snprintf(p, sizeof p, "/platforms/%lld/status", (long long)pb);
  check(call(t_moe, "POST", p, "{\"status\":\"whitelist\",\"reason\":\"ok\"}"), 200, NULL);
  check(call(t_moe, "POST", p, "{\"status\":\"blacklist\",\"reason\":\"刷课问题频出\"}"), 200, NULL);
  snprintf(p, sizeof p, "/platforms/%lld/history", (long long)pb);
  res r = call(t_u1, "GET", p, NULL);
  expect(r, 200, NULL);
  json_t *items = json_object_get(r.body, "items");
  assert_int_equal(json_array_size(items), 2);
  assert_string_equal(str_of(json_array_get(items, 1), "status"), "blacklist");
  assert_string_equal(str_of(json_array_get(items, 1), "decided_by"), "moe");
  json_decref(r.body);
  r = call(t_u1, "GET", "/platforms?status=whitelist", NULL);
  expect(r, 200, NULL);
  assert_int_equal(json_integer_value(json_object_get(r.body, "total")), 1);
  json_decref(r.body);
  /* a provincial regulator creates only in its province */
  check(call(t_bj, "POST", "/orgs",
             "{\"kind\":\"university\",\"code\":\"20001\",\"name\":\"沪校\",\"province\":\"31\","
             "\"home_page\":\"https://ids.x.edu.cn\"}"),
        403, "out_of_scope");
  check(call(t_u1, "POST", "/orgs", "{\"kind\":\"province\",\"code\":\"x\",\"name\":\"x\"}"), 403,
        "forbidden");
  check(call(t_moe, "POST", "/orgs", "{\"kind\":\"university\",\"code\":\"1\",\"name\":\"x\"}"), 400,
        "invalid_field");
  check(call(t_moe, "POST", "/orgs", "{\"kind\":\"province\",\"code\":\"bj\",\"name\":\"x\","
             "\"province\":\"11\",\"color\":1}"),
        400, "unknown_field");
}

/* The whole chain: recommendation → course → review → offering → roster → pledge → exam. */
static void test_course_to_exam(void **state) {
  (void)state;
  char p[256];
  /* course needs a recommendation */
  check(call(t_pa, "POST", "/courses",
             "{\"code\":\"MATH1\",\"iri\":\"https://pa.example/course/math1\","
             "\"content_updated\":\"2025-01-05\"}"),
        409, "recommendation_required");
  res r = call(t_u1, "POST", "/recommendations",
               "{\"platform_id\":%lld,\"title\":\"高等数学\",\"lead_teacher\":\"李老师\","
               "\"letter_no\":\"京大教推〔2025〕3号\"}",
               (long long)pa);
  expect(r, 201, NULL);
  int64_t rec = id_of(r);
  json_decref(r.body);
  char today[16];
  time_t now = time(NULL);
  strftime(today, sizeof today, "%Y-%m-%d", gmtime(&now));
  check(call(t_pb, "POST", "/courses",
             "{\"recommendation_id\":%lld,\"code\":\"MATH1\",\"iri\":\"https://pb.example/m\","
             "\"content_updated\":\"%s\"}",
             (long long)rec, today),
        409, "recommendation_mismatch");
  r = call(t_pa, "POST", "/courses",
           "{\"recommendation_id\":%lld,\"code\":\"MATH1\",\"iri\":\"https://pa.example/course/"
           "math1\",\"content_updated\":\"%s\"}",
           (long long)rec, today);
  expect(r, 201, NULL);
  int64_t course = id_of(r);
  assert_string_equal(str_of(r.body, "status"), "reviewing");
  assert_false(json_is_true(json_object_get(r.body, "selectable")));
  json_decref(r.body);

  /* unreviewed: not selectable */
#define OFF_FMT "{\"course_id\":%lld,\"term\":\"2025-fall\",\"credits\":2.5,\"resp_teacher\":\"王老师\"}"
  check(call(t_u1, "POST", "/offerings", OFF_FMT, (long long)course), 409, "course_not_approved");
  snprintf(p, sizeof p, "/courses/%lld/reviews", (long long)course);
  check(call(t_pb, "POST", p, "{\"kind\":\"content\",\"verdict\":\"pass\",\"opinion\":\"x\"}"), 403,
        "out_of_scope");
  check(call(t_u1, "POST", p, "{\"kind\":\"content\",\"verdict\":\"pass\",\"opinion\":\"x\"}"), 403,
        "forbidden");
  const char *kinds[3] = {"content", "ideology", "quality"};
  for (int k = 0; k < 3; k++)
    check(call(t_pa, "POST", p, "{\"kind\":\"%s\",\"verdict\":\"pass\",\"opinion\":\"符合规范\"}",
               kinds[k]),
          200, NULL);
  snprintf(p, sizeof p, "/courses/%lld/publish", (long long)course);
  check(call(t_pa, "POST", p, "{\"online\":true}"), 200, NULL);
  snprintf(p, sizeof p, "/courses/%lld", (long long)course);
  r = call(t_u2, "GET", p, NULL);
  expect(r, 200, NULL);
  assert_string_equal(str_of(r.body, "status"), "online");
  assert_true(json_is_true(json_object_get(r.body, "selectable")));
  assert_string_equal(
      str_of(json_object_get(json_object_get(r.body, "reviews"), "ideology"), "verdict"), "pass");
  json_decref(r.body);

  /* wrong role, then the offering */
  check(call(t_pa, "POST", "/offerings", OFF_FMT, (long long)course), 403, "forbidden");
  r = call(t_u1, "POST", "/offerings", OFF_FMT, (long long)course);
  expect(r, 201, NULL);
  int64_t off = id_of(r);
  assert_string_equal(str_of(r.body, "iri"), "https://pa.example/course/math1/offerings/10001/2025-fall");
  assert_true(json_real_value(json_object_get(r.body, "credits")) == 2.5);
  json_decref(r.body);
  check(call(t_u1, "POST", "/offerings", OFF_FMT, (long long)course), 409, "offering_exists");
  /* other university's data */
  snprintf(p, sizeof p, "/offerings/%lld", (long long)off);
  check(call(t_u2, "GET", p, NULL), 403, "out_of_scope");
  check(call(t_pb, "GET", p, NULL), 403, "out_of_scope");
  check(call(t_pa, "GET", p, NULL), 200, NULL);

  /* a course on the blacklisted platform cannot be selected */
  r = call(t_u1, "POST", "/recommendations",
           "{\"platform_id\":%lld,\"title\":\"线性代数\",\"lead_teacher\":\"赵老师\","
           "\"letter_no\":\"N2\"}",
           (long long)pb);
  expect(r, 201, NULL);
  int64_t rec_b = id_of(r);
  json_decref(r.body);
  r = call(t_pb, "POST", "/courses",
           "{\"recommendation_id\":%lld,\"code\":\"LA\",\"iri\":\"https://pb.example/la\","
           "\"content_updated\":\"%s\"}",
           (long long)rec_b, today);
  expect(r, 201, NULL);
  int64_t course_b = id_of(r);
  json_decref(r.body);
  snprintf(p, sizeof p, "/courses/%lld/reviews", (long long)course_b);
  for (int k = 0; k < 3; k++)
    check(call(t_pb, "POST", p, "{\"kind\":\"%s\",\"verdict\":\"pass\",\"opinion\":\"ok\"}",
               kinds[k]),
          200, NULL);
  check(call(t_u1, "POST", "/offerings", OFF_FMT, (long long)course_b), 409,
        "platform_not_whitelisted");

  /* roster: one bad row reported, the rest enrolled */
  snprintf(p, sizeof p, "/offerings/%lld/roster", (long long)off);
#define CSV "学号,姓名,手机号\\n2023010001,张三,13800000000\\n2023010002,李四,\\nbad!,王五,\\n2023010003,赵六,\\n"
  check(call(t_u2, "POST", p, "{\"csv\":\"" CSV "\"}"), 403, "out_of_scope");
  r = call(t_u1, "POST", p, "{\"csv\":\"" CSV "\",\"preview\":true}");
  expect(r, 200, NULL);
  assert_int_equal(json_integer_value(json_object_get(json_object_get(r.body, "diff"), "added")), 3);
  json_decref(r.body);
  r = call(t_u1, "POST", p, "{\"csv\":\"" CSV "\"}");
  expect(r, 200, NULL);
  assert_int_equal(json_integer_value(json_object_get(r.body, "rows_ok")), 3);
  assert_int_equal(json_integer_value(json_object_get(r.body, "rows_bad")), 1);
  json_t *prob = json_array_get(json_object_get(r.body, "problems"), 0);
  assert_int_equal(json_integer_value(json_object_get(prob, "line")), 4);
  assert_string_equal(str_of(prob, "code"), "invalid_student_no");
  assert_string_equal(str_of(r.body, "sealed_columns"), "phone"); /* the server has keys */
  int64_t imp = json_integer_value(json_object_get(r.body, "import_id"));
  json_decref(r.body);
  r = call(t_u1, "POST", p, "{\"csv\":\"" CSV "\"}");
  expect(r, 200, NULL);
  assert_int_equal(json_integer_value(json_object_get(r.body, "duplicate_of")), imp);
  json_decref(r.body);

  /* lists: masked for people; platforms get numbers and registrations, no names */
  snprintf(p, sizeof p, "/offerings/%lld/enrolments", (long long)off);
  r = call(t_u1, "GET", p, NULL);
  expect(r, 200, NULL);
  json_t *items = json_object_get(r.body, "items");
  assert_int_equal(json_array_size(items), 3);
  assert_string_equal(str_of(json_array_get(items, 0), "student_no"), "2023****01");
  assert_string_equal(str_of(json_array_get(items, 0), "name"), "张*");
  int64_t stu_id = json_integer_value(json_object_get(json_array_get(items, 0), "student_id"));
  json_decref(r.body);
  r = call(t_pa, "GET", p, NULL);
  expect(r, 200, NULL);
  items = json_object_get(r.body, "items");
  assert_string_equal(str_of(json_array_get(items, 0), "student_no"), "2023010001");
  assert_null(json_object_get(json_array_get(items, 0), "name"));
  char reg1[64], reg2[64];
  snprintf(reg1, sizeof reg1, "%s", str_of(json_array_get(items, 0), "registration"));
  snprintf(reg2, sizeof reg2, "%s", str_of(json_array_get(items, 1), "registration"));
  json_decref(r.body);
  check(call(t_pb, "GET", p, NULL), 403, "out_of_scope");

  /* pledge: published by the ministry, signed by the student only */
  check(call(t_bj, "POST", "/pledge-texts", "{\"version\":\"2025.1\",\"body\":\"x\"}"), 403,
        "national_regulator_only");
  check(call(t_moe, "POST", "/pledge-texts",
             "{\"version\":\"2025.1\",\"body\":\"本人承诺诚信学习，不刷课、不替课、不刷考、不替考。\"}"),
        201, NULL);
  make_user(t_sec, "stu1", "student", u1, "11", stu_id, 0, t_stu);
  snprintf(p, sizeof p, "/enrolments/%s/pledge", reg2);
  check(call(t_stu, "POST", p, "{}"), 403, "out_of_scope"); /* another student's */
  check(call(t_u1, "POST", p, "{}"), 403, "forbidden");
  snprintf(p, sizeof p, "/enrolments/%s/pledge", reg1);
  r = call(t_stu, "POST", p, "{}");
  expect(r, 201, NULL);
  assert_string_equal(str_of(r.body, "version"), "2025.1");
  assert_string_equal(str_of(r.body, "signed_ip"), "127.0.0.1");
  json_decref(r.body);
  check(call(t_stu, "POST", p, "{}"), 409, "pledge_already_signed");
  snprintf(p, sizeof p, "/enrolments/%s", reg2);
  check(call(t_stu, "GET", p, NULL), 403, "out_of_scope");

  /* exam: plan, platform scores, university supervision and finalisation */
  snprintf(p, sizeof p, "/offerings/%lld/exams", (long long)off);
  check(call(t_u1, "POST", p,
             "{\"title\":\"期末考试\",\"starts_at\":\"2025-12-20T09:00:00+08:00\",\"face_start\":true,"
             "\"dual_camera\":true,\"invigilator\":\"陈老师\"}"),
        400, "supervision_plan_incomplete");
  r = call(t_u1, "POST", p,
           "{\"title\":\"期末考试\",\"starts_at\":\"2025-12-20T09:00:00+08:00\",\"face_start\":true,"
           "\"face_during\":true,\"dual_camera\":true,\"invigilator\":\"陈老师\"}");
  expect(r, 201, NULL);
  int64_t exam = id_of(r);
  json_decref(r.body);
  snprintf(p, sizeof p, "/exams/%lld/results", (long long)exam);
  check(call(t_pa, "POST", p, "{\"results\":[{\"registration\":\"%s\",\"score\":88.5},"
             "{\"registration\":\"%s\",\"score\":91}]}", reg1, reg2),
        200, NULL);
  check(call(t_pb, "POST", p, "{\"results\":[{\"registration\":\"%s\",\"score\":1}]}", reg1), 403,
        "out_of_scope");
  /* the platform cannot finalise; the university only with a complete supervision record */
  snprintf(p, sizeof p, "/exams/%lld/results/%s/finalise", (long long)exam, reg1);
  check(call(t_pa, "POST", p, "{}"), 403, "forbidden");
  check(call(t_u1, "POST", p, "{}"), 409, "supervision_incomplete");
  char sp[256];
  snprintf(sp, sizeof sp, "/exams/%lld/supervision/%s", (long long)exam, reg1);
  check(call(t_u1, "PUT", sp, "{\"face_start\":\"pass\",\"face_during\":\"pass\","
             "\"dual_camera\":\"pass\",\"invigilator\":\"陈老师\"}"),
        200, NULL);
  check(call(t_u2, "PUT", sp, "{\"face_start\":\"pass\"}"), 403, "out_of_scope");
  r = call(t_u1, "POST", p, "{}");
  expect(r, 200, NULL);
  assert_true(json_is_true(json_object_get(r.body, "final")));
  json_decref(r.body);
  /* the unsigned student's result cannot be finalised */
  snprintf(sp, sizeof sp, "/exams/%lld/supervision/%s", (long long)exam, reg2);
  check(call(t_u1, "PUT", sp, "{\"face_start\":\"pass\",\"face_during\":\"pass\","
             "\"dual_camera\":\"pass\",\"invigilator\":\"陈老师\"}"),
        200, NULL);
  snprintf(p, sizeof p, "/exams/%lld/results/%s/finalise", (long long)exam, reg2);
  check(call(t_u1, "POST", p, "{}"), 409, "pledge_unsigned");

  /* eligibility as the student and the university see it */
  snprintf(p, sizeof p, "/enrolments/%s", reg1);
  r = call(t_stu, "GET", p, NULL);
  expect(r, 200, NULL);
  assert_true(json_is_true(json_object_get(json_object_get(r.body, "credit_eligibility"), "eligible")));
  assert_string_equal(str_of(json_object_get(r.body, "enrolment"), "name"), "张三");
  assert_null(json_object_get(json_object_get(r.body, "enrolment"), "phone"));
  json_decref(r.body);
  r = call(t_u1, "GET", p, NULL);
  expect(r, 200, NULL);
  assert_string_equal(str_of(json_object_get(r.body, "enrolment"), "phone"), "138****0000");
  json_decref(r.body);
  snprintf(p, sizeof p, "/enrolments/%s", reg2);
  r = call(t_u1, "GET", p, NULL);
  expect(r, 200, NULL);
  json_t *el = json_object_get(r.body, "credit_eligibility");
  assert_false(json_is_true(json_object_get(el, "eligible")));
  json_t *unmet = json_object_get(el, "unmet");
  assert_string_equal(str_of(json_array_get(unmet, 0), "code"), "pledge_unsigned");
  assert_string_equal(str_of(json_array_get(unmet, 1), "code"), "exam_not_final");
  json_decref(r.body);
  /* a whole university's roster over HTTP: 100,000 rows (≈ 2.6 MB) is accepted and imported;
   * the rest of the API keeps its 1 MiB limit */
  {
    mg_buf big;
    mg_buf_init(&big, (size_t)64 << 20);
    assert_int_equal(mg_buf_adds(&big, "{\"csv\":\"学号,姓名\\n"), MG_OK);
    for (int i = 0; i < 100000; i++)
      assert_int_equal(mg_buf_addf(&big, "2024%06d,学生%d\\n", i, i), MG_OK);
    assert_int_equal(mg_buf_adds(&big, "\"}"), MG_OK);
    assert_true(big.len > (1u << 20));
    char hdr[600], target[128];
    snprintf(hdr, sizeof hdr, "Authorization: Bearer %s\r\nContent-Type: application/json\r\n", t_u1);
    snprintf(target, sizeof target, "/api/v1/offerings/%lld/roster", (long long)off);
    mg_test_resp big_r;
    int64_t t0 = mg_time_mono_us();
    assert_int_equal(mg_test_http(g_srv.port, "POST", target, hdr, big.data, big.len, &big_r), 0);
    double secs = (double)(mg_time_mono_us() - t0) / 1e6;
    json_t *bj = json_loadb(big_r.body.data ? big_r.body.data : "", big_r.body.len, 0, NULL);
    assert_int_equal(big_r.status, 200);
    assert_int_equal(json_integer_value(json_object_get(bj, "rows_ok")), 100000);
    printf("# 100,000-row roster over HTTP: %.2f s\n", secs);
    json_decref(bj);
    mg_test_resp_free(&big_r);
    /* another route with a body over 1 MiB is refused */
    snprintf(target, sizeof target, "/api/v1/offerings");
    assert_int_equal(mg_test_http(g_srv.port, "POST", target, hdr, big.data, big.len, &big_r), 0);
    assert_int_equal(big_r.status, 413);
    mg_test_resp_free(&big_r);
    mg_buf_free(&big);
  }
}

/* The regulator's switch stops the platform's statements on /xapi with 403. */
static int post_stmt(const char *basic, const char *home_page) {
  char body[1024], hdr[600], id[MG_UUID_STR_LEN];
  uint8_t u[16];
  mg_uuid_v4(u);
  mg_uuid_format(u, id);
  snprintf(body, sizeof body,
           "{\"id\":\"%s\",\"actor\":{\"account\":{\"homePage\":\"%s\",\"name\":\"2023010001\"}},"
           "\"verb\":{\"id\":\"http://adlnet.gov/expapi/verbs/experienced\"},"
           "\"object\":{\"id\":\"https://pa.example/course/math1/v1\"}}",
           id, home_page);
  snprintf(hdr, sizeof hdr, "Authorization: Basic %s\r\nX-Experience-API-Version: 2.0.0\r\n"
           "Content-Type: application/json\r\n", basic);
  mg_test_resp r;
  assert_int_equal(mg_test_http(g_srv.port, "POST", "/xapi/statements", hdr, body, strlen(body), &r), 0);
  int st = r.status;
  if (st == 403) assert_non_null(strstr(r.body.data, "platform_suspended"));
  mg_test_resp_free(&r);
  return st;
}

static void test_intake_switch(void **state) {
  (void)state;
  char p[128];
  snprintf(p, sizeof p, "/platforms/%lld/credentials", (long long)pa);
  check(call(t_pb, "POST", p, "{}"), 403, "out_of_scope");
  res r = call(t_pa, "POST", p, "{}");
  expect(r, 201, NULL);
  char userpass[200], basic[300];
  snprintf(userpass, sizeof userpass, "%s:%s", str_of(r.body, "key"), str_of(r.body, "secret"));
  json_decref(r.body);
  sodium_bin2base64(basic, sizeof basic, (const unsigned char *)userpass, strlen(userpass),
                    sodium_base64_VARIANT_ORIGINAL);
  assert_int_equal(post_stmt(basic, "https://ids.u1.edu.cn"), 200);

  snprintf(p, sizeof p, "/platforms/%lld/switches", (long long)pa);
  /* Beijing's regulator cannot stop a Shanghai university, nor the whole country */
  check(call(t_bj, "POST", p, "{\"scope\":\"university\",\"university_id\":%lld,\"reason\":\"x\"}",
             (long long)u2),
        403, "out_of_scope");
  check(call(t_bj, "POST", p, "{\"scope\":\"national\",\"reason\":\"x\"}"), 403, "out_of_scope");
  check(call(t_u1, "POST", p, "{\"scope\":\"national\",\"reason\":\"x\"}"), 403, "forbidden");
  r = call(t_bj, "POST", p, "{\"scope\":\"university\",\"university_id\":%lld,"
           "\"reason\":\"该校学生刷课集中\"}", (long long)u1);
  expect(r, 201, NULL);
  int64_t sw = id_of(r);
  json_decref(r.body);
  assert_int_equal(post_stmt(basic, "https://ids.u1.edu.cn"), 403);
  assert_int_equal(post_stmt(basic, "https://ids.u2.edu.cn"), 200);
  snprintf(p, sizeof p, "/platforms/%lld/switches/%lld/lift", (long long)pa, (long long)sw);
  check(call(t_bj, "POST", p, "{}"), 200, NULL);
  check(call(t_bj, "POST", p, "{}"), 409, "switch_lifted");
  assert_int_equal(post_stmt(basic, "https://ids.u1.edu.cn"), 200);
  /* national: everything from this platform */
  snprintf(p, sizeof p, "/platforms/%lld/switches", (long long)pa);
  check(call(t_moe, "POST", p, "{\"scope\":\"national\",\"reason\":\"年度审核未通过\"}"), 201, NULL);
  assert_int_equal(post_stmt(basic, "https://ids.u2.edu.cn"), 403);
  assert_int_equal(post_stmt(basic, "https://ids.unknown.edu.cn"), 403);
  r = call(t_u1, "GET", p, NULL);
  expect(r, 200, NULL);
  assert_int_equal(json_integer_value(json_object_get(r.body, "total")), 2);
  json_decref(r.body);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_platforms_and_lists),
      cmocka_unit_test(test_course_to_exam),
      cmocka_unit_test(test_intake_switch),
      cmocka_unit_test(test_audit_trail),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
