/* tests/e2e/test_governance_walk.c — issue #3's acceptance walk through the real server:
 * platform filing → white list → course review → offering → roster import → pledge → statements
 * (POST /xapi/statements with the platform's credential, profile-conformant, one student's video
 * heartbeats advancing 70 s of media per second) → finding (live detector in serve) → inbox →
 * case → sanction → appeal decided by another person → credit decisions (ineligible for the
 * sanctioned student with the reason, eligible for an honest classmate) → the regulator's report.
 * And the refusals on the way: blacklisted platform, unreviewed course, unsigned pledge,
 * unfinalised exam, wrong role, another university's or province's data. */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "auth/totp.h"
#include "core/buf.h"
#include "core/time.h"
#include "core/uuid.h"
#include "support.h"

static mg_test_server g_srv;

/* ---- HTTP with a bearer token --------------------------------------------------------------- */

typedef struct res {
  int status;
  json_t *body;
  char ctype[128];
  mg_buf raw;
} res;

static res call(const char *token, const char *method, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static res call(const char *token, const char *method, const char *path, const char *fmt, ...) {
  char body[65536] = "", hdr[512], target[600];
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
  res out = {r.status, json_loadb(r.body.data ? r.body.data : "", r.body.len, 0, NULL), "", r.body};
  mg_test_resp_header(&r, "Content-Type", out.ctype, sizeof out.ctype);
  if (getenv("MG_TEST_VERBOSE"))
    fprintf(stderr, "%s %s -> %d %.*s\n", method, path, r.status, (int)r.body.len, r.body.data);
  mg_buf_free(&r.headers);
  return out;
}

static void res_free(res *r) {
  json_decref(r->body);
  mg_buf_free(&r->raw);
}

static void expect(res r, int status, const char *error) {
  const char *e = json_string_value(json_object_get(r.body, "error"));
  if (r.status != status || (error && (!e || strcmp(e, error)))) {
    fail_msg("expected %d %s, got %d %.*s", status, error ? error : "", r.status,
             (int)(r.raw.len > 600 ? 600 : r.raw.len), r.raw.data ? r.raw.data : "");
  }
  if (error) { /* every refusal says what was wrong */
    const char *m = json_string_value(json_object_get(r.body, "message"));
    assert_non_null(m);
    assert_true(strlen(m) > 5);
  }
}

static void check(res r, int status, const char *error) {
  expect(r, status, error);
  res_free(&r);
}

static int64_t id_of(res r) {
  json_t *v = json_object_get(r.body, "id");
  assert_true(json_is_integer(v));
  return json_integer_value(v);
}

static const char *str_of(json_t *o, const char *k) {
  const char *s = json_string_value(json_object_get(o, k));
  if (!s) fail_msg("no string member '%s'", k);
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

static void open_session(const char *user, const char *initial, int mfa, char token[128]) {
  res r = call(NULL, "POST", "/auth/login", "{\"username\":\"%s\",\"password\":\"%s\","
               "\"token_type\":\"bearer\"}", user, initial);
  expect(r, 200, NULL);
  snprintf(token, 128, "%s", str_of(r.body, "token"));
  res_free(&r);
  check(call(token, "POST", "/auth/password",
             "{\"current_password\":\"%s\",\"new_password\":\"Walk-E2e-%zu!Qx9\"}", initial,
             strlen(user) * 7919),
        200, NULL);
  if (!mfa) return;
  r = call(token, "POST", "/auth/totp/enrol", "{}");
  expect(r, 200, NULL);
  uint8_t key[64];
  int n = b32_decode(str_of(r.body, "secret"), key, sizeof key);
  res_free(&r);
  assert_true(n > 0);
  uint32_t code = 0;
  assert_int_equal(mg_auth_totp_code(key, (size_t)n, (int64_t)time(NULL) / 30, 6, &code), 0);
  check(call(token, "POST", "/auth/totp/verify", "{\"code\":\"%06u\"}", code), 200, NULL);
}

static void make_user(const char *admin, const char *user, const char *role, int64_t org,
                      const char *province, int64_t student_id, int mfa, char token[128]) {
  res r = call(admin, "POST", "/users",
               "{\"username\":\"%s\",\"role\":\"%s\",\"org_id\":%lld,\"province\":\"%s\","
               "\"student_id\":%lld}",
               user, role, (long long)org, province, (long long)student_id);
  expect(r, 201, NULL);
  char pw[128];
  snprintf(pw, sizeof pw, "%s", str_of(r.body, "initial_password"));
  res_free(&r);
  open_session(user, pw, mfa, token);
}

/* ---- statements from the profile's own examples --------------------------------------------- */

#define HOME1 "https://ids.u1.edu.cn"
#define COURSE_IRI "https://pa.example/course/math1"

/* Replaces every occurrence of from in b with to. */
static void replace(mg_buf *b, const char *from, const char *to) {
  mg_buf out;
  mg_buf_init(&out, 1 << 20);
  const char *p = b->data, *q;
  size_t fl = strlen(from);
  while ((q = strstr(p, from))) {
    assert_int_equal(mg_buf_add(&out, p, (size_t)(q - p)), 0);
    assert_int_equal(mg_buf_adds(&out, to), 0);
    p = q + fl;
  }
  assert_int_equal(mg_buf_adds(&out, p), 0);
  mg_buf_free(b);
  *b = out;
}

static char *example(const char *name) {
  char path[1024];
  const char *src = getenv("MG_SOURCE_DIR");
  snprintf(path, sizeof path, "%s/docs/profile-examples/%s", src ? src : "..", name);
  char *t = mg_test_read_file(path, NULL);
  assert_non_null(t);
  return t;
}

typedef struct learner {
  const char *student_no;
  char reg[40];
  char session[40];
  char device[72];
  char client_session[32];
} learner;

static void iso(int64_t us, char out[MG_TIME_ISO_LEN]) { mg_time_format_iso(us, 3, out); }

/* One statement from template tpl for learner l at (ts, recv), client-seq seq. */
static void shape(mg_buf *arr, const char *tpl, const learner *l, const char *offering_iri,
                  int64_t ts_us, int64_t recv_us, int seq, double pos, const char *tpl_ts,
                  const char *tpl_recv, const char *tpl_seq, const char *tpl_id) {
  mg_buf b;
  mg_buf_init(&b, 1 << 20);
  assert_int_equal(mg_buf_adds(&b, tpl), 0);
  char t[MG_TIME_ISO_LEN], r[MG_TIME_ISO_LEN], v[96], id[MG_UUID_STR_LEN];
  uint8_t u[16];
  mg_uuid_v4(u);
  mg_uuid_format(u, id);
  iso(ts_us, t);
  iso(recv_us, r);
  snprintf(v, sizeof v, "\"%s\"", t);
  replace(&b, tpl_ts, v);
  snprintf(v, sizeof v, "\"%s\"", r);
  replace(&b, tpl_recv, v);
  snprintf(v, sizeof v, "\"https://moocguard.org/xapi/ext/client-seq\": %d", seq);
  replace(&b, tpl_seq, v);
  if (tpl_id) replace(&b, tpl_id, id);
  replace(&b, "0c7d2e91-5b3a-4f68-a1d4-93e6b8c2f7a5", l->session);
  replace(&b, "https://ids.example-university.edu.cn", HOME1);
  replace(&b, "\"2023010123\"", "\"2023010001\"");
  snprintf(v, sizeof v, "\"%s\"", l->student_no);
  replace(&b, "\"2023010001\"", v);
  replace(&b, "6b1f3c52-8a0e-4d2b-9f47-2c5e8d1a7b30", l->reg);
  replace(&b, "https://mooc.example.cn/course/DS101/offering/2024-spring", offering_iri);
  replace(&b, "https://mooc.example.cn/course/DS101", COURSE_IRI);
  replace(&b, "\"cn-example-mooc\"", "\"pa\"");
  replace(&b, "9b2f6c0e41d87a3359e0c2b1f4a6d8e7c3b5a9f01e2d4c6b8a7f9e0d1c2b3a4f", l->device);
  replace(&b, "cs-7f3a9c21e4b8", l->client_session);
  if (pos >= 0) {
    snprintf(v, sizeof v, "\"https://w3id.org/xapi/video/extensions/time\": %.3f", pos);
    replace(&b, "\"https://w3id.org/xapi/video/extensions/time\": 30.021", v);
    snprintf(v, sizeof v, "\"https://w3id.org/xapi/video/extensions/progress\": %.2f", pos / 754.32);
    replace(&b, "\"https://w3id.org/xapi/video/extensions/progress\": 0.04", v);
    snprintf(v, sizeof v, "\"0[.]%.3f\"", pos);
    replace(&b, "\"0[.]30.021\"", v);
  }
  assert_int_equal(mg_buf_adds(arr, arr->len > 1 ? "," : ""), 0);
  assert_int_equal(mg_buf_add(arr, b.data, b.len), 0);
  mg_buf_free(&b);
}

/* A video session: initialized, then n heartbeats, `step_media` seconds of video each
 * `step_recv` seconds of the platform's receive clock. */
static void video(mg_buf *arr, const learner *l, const char *offering_iri, int64_t t0, int n,
                  double step_media, int64_t step_recv_us) {
  char *init = example("video-initialized.json"), *hb = example("video-heartbeat.json");
  shape(arr, init, l, offering_iri, t0, t0 + 100000, 0, -1, "\"2024-03-11T20:15:01.052+08:00\"",
        "\"2024-03-11T20:15:01.170+08:00\"", "\"https://moocguard.org/xapi/ext/client-seq\": 4",
        NULL);
  for (int i = 1; i <= n; i++) {
    int64_t at = t0 + i * step_recv_us;
    shape(arr, hb, l, offering_iri, at, at + 120000, i, i * step_media,
          "\"2024-03-11T20:15:33.141+08:00\"", "\"2024-03-11T20:15:33.297+08:00\"",
          "\"https://moocguard.org/xapi/ext/client-seq\": 6", "e2f04a6b-7d19-4c53-8e2a-b5c07f1d9364");
  }
  free(init);
  free(hb);
}

static int post_statements(const char *basic, const mg_buf *arr, mg_buf *err) {
  char hdr[600];
  snprintf(hdr, sizeof hdr, "Authorization: Basic %s\r\nX-Experience-API-Version: 2.0.0\r\n"
           "Content-Type: application/json\r\n", basic);
  mg_test_resp r;
  assert_int_equal(mg_test_http(g_srv.port, "POST", "/xapi/statements", hdr, arr->data, arr->len, &r), 0);
  int st = r.status;
  if (err && r.body.data) mg_buf_add(err, r.body.data, r.body.len);
  mg_test_resp_free(&r);
  return st;
}

/* ---- the walk ------------------------------------------------------------------------------- */

static char t_sec[128], t_moe[128], t_bj[128], t_sh[128], t_u1[128], t_u1b[128], t_u2[128],
    t_pa[128], t_pb[128], t_stu_a[128], t_stu_b[128];
static int64_t u1, u2, pa, pb;

static int setup(void **state) {
  (void)state;
  static char admin_file[700];
  const char *base = getenv("MG_TEST_TMP");
  snprintf(admin_file, sizeof admin_file, "%s/walk_e2e.%d/admin.txt",
           base && *base ? base : "/tmp/moocguard-tests", (int)getpid());
  const char *args[] = {"--password-hash", "interactive", "--first-admin-file", admin_file,
                        "--access-log", "false", "--detect-interval-ms", "200",
                        "--appeal-window", "3600", NULL};
  if (mg_test_server_start("walk_e2e", args, &g_srv)) return -1;
  char *f = mg_test_read_file(admin_file, NULL);
  char pw[128];
  if (!f || !strstr(f, "password=") || sscanf(strstr(f, "password="), "password=%127s", pw) != 1)
    return -1;
  free(f);
  open_session("secadmin", pw, 1, t_sec);
  make_user(t_sec, "moe", "regulator", 0, "", 0, 1, t_moe);
  make_user(t_sec, "bjedu", "regulator", 0, "11", 0, 1, t_bj);
  make_user(t_sec, "shedu", "regulator", 0, "31", 0, 1, t_sh);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  return mg_test_server_stop(&g_srv) == 0 ? 0 : -1;
}

static int64_t create(const char *token, const char *path, const char *body) {
  res r = call(token, "POST", path, "%s", body);
  expect(r, 201, NULL);
  int64_t id = id_of(r);
  res_free(&r);
  return id;
}

/* Polls the inbox of university u1 until an item for registration reg shows up. */
static json_t *wait_item(const char *reg) {
  char p[128];
  snprintf(p, sizeof p, "/inbox?university_id=%lld", (long long)u1);
  for (int tries = 0; tries < 150; tries++) {
    res r = call(t_u1, "GET", p, NULL);
    expect(r, 200, NULL);
    json_t *items = json_object_get(r.body, "items"), *it;
    size_t i;
    json_array_foreach(items, i, it) {
      if (!strcmp(str_of(it, "registration"), reg)) {
        json_incref(it);
        res_free(&r);
        return it;
      }
    }
    res_free(&r);
    usleep(100000);
  }
  fail_msg("no inbox item for %s within 15 s", reg);
  return NULL;
}

static int inbox_has(const char *reg) {
  char p[128];
  snprintf(p, sizeof p, "/inbox?university_id=%lld", (long long)u1);
  res r = call(t_u1, "GET", p, NULL);
  expect(r, 200, NULL);
  json_t *it;
  size_t i;
  int found = 0;
  json_array_foreach(json_object_get(r.body, "items"), i, it) found |= !strcmp(str_of(it, "registration"), reg);
  res_free(&r);
  return found;
}

static json_t *find_decision(json_t *decisions, const char *reg) {
  json_t *d;
  size_t i;
  json_array_foreach(decisions, i, d) if (!strcmp(str_of(d, "registration"), reg)) return d;
  fail_msg("no decision for %s", reg);
  return NULL;
}

static int failed_rule(json_t *decision, const char *rule) {
  json_t *f;
  size_t i;
  json_array_foreach(json_object_get(decision, "failed"), i, f) if (!strcmp(str_of(f, "rule"), rule)) return 1;
  return 0;
}

static void test_walk(void **state) {
  (void)state;
  char p[512], due[16], today[16];
  time_t now = time(NULL), later = now + 200 * 86400;
  strftime(due, sizeof due, "%Y-%m-%d", gmtime(&later));
  strftime(today, sizeof today, "%Y-%m-%d", gmtime(&now));

  /* the directory: two universities in two provinces, two platforms */
  u1 = create(t_moe, "/orgs", "{\"kind\":\"university\",\"code\":\"10001\",\"name\":\"北京某大学\","
              "\"province\":\"11\",\"home_page\":\"" HOME1 "\"}");
  u2 = create(t_moe, "/orgs", "{\"kind\":\"university\",\"code\":\"10002\",\"name\":\"上海某大学\","
              "\"province\":\"31\",\"home_page\":\"https://ids.u2.edu.cn\"}");
  pa = create(t_moe, "/platforms", "{\"code\":\"pa\",\"name\":\"甲平台\"}");
  pb = create(t_moe, "/platforms", "{\"code\":\"pb\",\"name\":\"乙平台\"}");
  make_user(t_sec, "u1admin", "univ_admin", u1, "11", 0, 1, t_u1);
  make_user(t_sec, "u1dean", "univ_admin", u1, "11", 0, 1, t_u1b);
  make_user(t_sec, "u2admin", "univ_admin", u2, "31", 0, 1, t_u2);
  make_user(t_sec, "opa", "platform_operator", pa, "", 0, 0, t_pa);
  make_user(t_sec, "opb", "platform_operator", pb, "", 0, 0, t_pb);

  /* 1. filing and the lists: pa whitelisted; pb blacklisted */
  snprintf(p, sizeof p, "/platforms/%lld/filing", (long long)pa);
  check(call(t_pa, "PUT", p, "{\"mlps_level\":3,\"filing_no\":\"F-A\",\"review_due\":\"%s\"}", due),
        200, NULL);
  snprintf(p, sizeof p, "/platforms/%lld/filing", (long long)pb);
  check(call(t_pb, "PUT", p, "{\"mlps_level\":3,\"filing_no\":\"F-B\",\"review_due\":\"%s\"}", due),
        200, NULL);
  snprintf(p, sizeof p, "/platforms/%lld/status", (long long)pa);
  check(call(t_u1, "POST", p, "{\"status\":\"whitelist\",\"reason\":\"x\"}"), 403, "forbidden");
  check(call(t_moe, "POST", p, "{\"status\":\"whitelist\",\"reason\":\"备案审核通过\"}"), 200, NULL);
  snprintf(p, sizeof p, "/platforms/%lld/status", (long long)pb);
  check(call(t_moe, "POST", p, "{\"status\":\"blacklist\",\"reason\":\"刷课问题频出\"}"), 200, NULL);

  /* 2. course: recommended, submitted, refused while unreviewed, reviewed, online */
  char body[1024];
  snprintf(body, sizeof body, "{\"platform_id\":%lld,\"title\":\"高等数学\",\"lead_teacher\":\"李老师\","
           "\"letter_no\":\"京大教推〔2025〕3号\"}", (long long)pa);
  int64_t rec = create(t_u1, "/recommendations", body);
  snprintf(body, sizeof body, "{\"recommendation_id\":%lld,\"code\":\"MATH1\",\"iri\":\"" COURSE_IRI
           "\",\"content_updated\":\"%s\"}", (long long)rec, today);
  int64_t course = create(t_pa, "/courses", body);
#define OFF_FMT "{\"course_id\":%lld,\"term\":\"2026-spring\",\"credits\":2,\"resp_teacher\":\"王老师\"}"
  check(call(t_u1, "POST", "/offerings", OFF_FMT, (long long)course), 409, "course_not_approved");
  snprintf(p, sizeof p, "/courses/%lld/reviews", (long long)course);
  const char *kinds[3] = {"content", "ideology", "quality"};
  for (int k = 0; k < 3; k++)
    check(call(t_pa, "POST", p, "{\"kind\":\"%s\",\"verdict\":\"pass\",\"opinion\":\"符合规范\"}",
               kinds[k]),
          200, NULL);
  snprintf(p, sizeof p, "/courses/%lld/publish", (long long)course);
  check(call(t_pa, "POST", p, "{\"online\":true}"), 200, NULL);

  /* a course of the blacklisted platform cannot be selected */
  snprintf(body, sizeof body, "{\"platform_id\":%lld,\"title\":\"线性代数\",\"lead_teacher\":\"赵老师\","
           "\"letter_no\":\"N2\"}", (long long)pb);
  int64_t rec_b = create(t_u1, "/recommendations", body);
  snprintf(body, sizeof body, "{\"recommendation_id\":%lld,\"code\":\"LA\",\"iri\":\"https://pb.example/la\","
           "\"content_updated\":\"%s\"}", (long long)rec_b, today);
  int64_t course_b = create(t_pb, "/courses", body);
  snprintf(p, sizeof p, "/courses/%lld/reviews", (long long)course_b);
  for (int k = 0; k < 3; k++)
    check(call(t_pb, "POST", p, "{\"kind\":\"%s\",\"verdict\":\"pass\",\"opinion\":\"ok\"}", kinds[k]),
          200, NULL);
  check(call(t_u1, "POST", "/offerings", OFF_FMT, (long long)course_b), 409, "platform_not_whitelisted");

  /* 3. offering (wrong role refused) */
  check(call(t_pa, "POST", "/offerings", OFF_FMT, (long long)course), 403, "forbidden");
  res r = call(t_u1, "POST", "/offerings", OFF_FMT, (long long)course);
  expect(r, 201, NULL);
  int64_t off = id_of(r);
  char off_iri[512];
  snprintf(off_iri, sizeof off_iri, "%s", str_of(r.body, "iri"));
  res_free(&r);

  /* 4. roster: A (will brush), B (honest), C (never signs the pledge) */
  snprintf(p, sizeof p, "/offerings/%lld/roster", (long long)off);
  check(call(t_u2, "POST", p, "{\"csv\":\"学号,姓名\\n2023010001,张三\\n\"}"), 403, "out_of_scope");
  r = call(t_u1, "POST", p, "{\"csv\":\"学号,姓名\\n2023010001,张三\\n2023010002,李四\\n2023010003,王五\\n\"}");
  expect(r, 200, NULL);
  assert_int_equal(json_integer_value(json_object_get(r.body, "rows_ok")), 3);
  res_free(&r);
  learner A = {"2023010001", "", "", "", "cs-walk-a"}, B = {"2023010002", "", "", "", "cs-walk-b"};
  char reg_c[40] = "";
  int64_t sid_a = 0, sid_b = 0;
  snprintf(p, sizeof p, "/offerings/%lld/enrolments", (long long)off);
  r = call(t_pa, "GET", p, NULL);
  expect(r, 200, NULL);
  json_t *it;
  size_t i;
  json_array_foreach(json_object_get(r.body, "items"), i, it) {
    const char *no = str_of(it, "student_no"), *reg = str_of(it, "registration");
    if (!strcmp(no, A.student_no)) snprintf(A.reg, sizeof A.reg, "%s", reg);
    if (!strcmp(no, B.student_no)) snprintf(B.reg, sizeof B.reg, "%s", reg);
    if (!strcmp(no, "2023010003")) snprintf(reg_c, sizeof reg_c, "%s", reg);
  }
  res_free(&r);
  r = call(t_u1, "GET", p, NULL);
  expect(r, 200, NULL);
  json_array_foreach(json_object_get(r.body, "items"), i, it) {
    if (!strcmp(str_of(it, "registration"), A.reg)) sid_a = json_integer_value(json_object_get(it, "student_id"));
    if (!strcmp(str_of(it, "registration"), B.reg)) sid_b = json_integer_value(json_object_get(it, "student_id"));
  }
  res_free(&r);
  assert_true(A.reg[0] && B.reg[0] && reg_c[0] && sid_a > 0 && sid_b > 0);

  /* 5. pledge: published by the ministry, signed by A and B themselves */
  check(call(t_moe, "POST", "/pledge-texts",
             "{\"version\":\"2026.1\",\"body\":\"本人承诺诚信学习，不刷课、不替课、不刷考、不替考。\"}"),
        201, NULL);
  make_user(t_sec, "stu_a", "student", u1, "11", sid_a, 0, t_stu_a);
  make_user(t_sec, "stu_b", "student", u1, "11", sid_b, 0, t_stu_b);
  snprintf(p, sizeof p, "/enrolments/%s/pledge", B.reg);
  check(call(t_stu_a, "POST", p, "{}"), 403, "out_of_scope"); /* someone else's pledge */
  check(call(t_stu_b, "POST", p, "{}"), 201, NULL);
  snprintf(p, sizeof p, "/enrolments/%s/pledge", A.reg);
  check(call(t_stu_a, "POST", p, "{}"), 201, NULL);

  /* 6. statements with the platform's credential: A's heartbeats advance 70 s of video per
   * second of the platform's receive clock; B watches at 1x */
  snprintf(p, sizeof p, "/platforms/%lld/credentials", (long long)pa);
  r = call(t_pa, "POST", p, "{}");
  expect(r, 201, NULL);
  char userpass[200], basic[300];
  snprintf(userpass, sizeof userpass, "%s:%s", str_of(r.body, "key"), str_of(r.body, "secret"));
  res_free(&r);
  sodium_bin2base64(basic, sizeof basic, (const unsigned char *)userpass, strlen(userpass),
                    sodium_base64_VARIANT_ORIGINAL);
  uint8_t u[16];
  mg_uuid_v4(u);
  mg_uuid_format(u, A.session);
  mg_uuid_v4(u);
  mg_uuid_format(u, B.session);
  snprintf(A.device, sizeof A.device, "%064d", 1);
  snprintf(B.device, sizeof B.device, "%064d", 2);
  int64_t t0 = mg_time_now_us() - 3600LL * 1000000;
  mg_buf arr, err;
  mg_buf_init(&arr, 8 << 20);
  mg_buf_init(&err, 1 << 16);
  assert_int_equal(mg_buf_addc(&arr, '['), 0);
  video(&arr, &A, off_iri, t0, 6, 70.0, 1000000);
  video(&arr, &B, off_iri, t0, 6, 30.0, 30000000);
  assert_int_equal(mg_buf_addc(&arr, ']'), 0);
  int st = post_statements(basic, &arr, &err);
  if (st != 200) fail_msg("statements: %d %.*s", st, (int)err.len, err.data);
  mg_buf_free(&arr);
  mg_buf_free(&err);

  /* 7. the live detector finds A; the finding lands in u1's inbox with its evidence; B is clean */
  json_t *item = wait_item(A.reg);
  assert_string_equal(str_of(item, "source"), "detector");
  assert_string_equal(str_of(item, "type"), "course_brushing");
  assert_true(json_is_integer(json_object_get(item, "finding_id")));
  assert_true(json_is_null(json_object_get(item, "case_id")));
  assert_int_equal(json_integer_value(json_object_get(item, "student_id")), sid_a);
  json_t *ev = json_object_get(item, "evidence");
  assert_non_null(strstr(str_of(ev, "rules"), "speed_over_cap"));
  assert_true(json_array_size(json_object_get(ev, "statements")) >= 1);
  assert_true(strlen(str_of(ev, "explain_zh")) > 0);
  int64_t item_id = json_integer_value(json_object_get(item, "id"));
  json_decref(item);
  usleep(600000); /* a few more passes: still one item, and none for B */
  assert_false(inbox_has(B.reg));
  snprintf(p, sizeof p, "/inbox?university_id=%lld", (long long)u1);
  r = call(t_u1, "GET", p, NULL);
  expect(r, 200, NULL);
  assert_int_equal(json_array_size(json_object_get(r.body, "items")), 1);
  res_free(&r);
  /* no sanction was applied automatically: no case exists yet */
  r = call(t_u1, "GET", "/cases", NULL);
  expect(r, 200, NULL);
  assert_int_equal(json_array_size(json_object_get(r.body, "cases")), 0);
  res_free(&r);
  /* scope: another university, another province, the right province, the ministry */
  check(call(t_u2, "GET", p, NULL), 403, "out_of_scope");
  check(call(t_sh, "GET", p, NULL), 403, "out_of_scope");
  check(call(t_bj, "GET", p, NULL), 200, NULL);
  check(call(t_moe, "GET", p, NULL), 200, NULL);
  check(call(t_pa, "GET", p, NULL), 403, "forbidden");

  /* 8. case → investigation → verified with sanctions */
  check(call(t_u2, "POST", "/cases", "{\"items\":[%lld]}", (long long)item_id), 403, "out_of_scope");
  check(call(t_stu_a, "POST", "/cases", "{\"items\":[%lld]}", (long long)item_id), 403, "forbidden");
  r = call(t_u1, "POST", "/cases", "{\"items\":[%lld]}", (long long)item_id);
  expect(r, 201, NULL);
  int64_t cid = id_of(r);
  res_free(&r);
  snprintf(p, sizeof p, "/cases/%lld/sanctions", (long long)cid);
  check(call(t_u1, "POST", p, "{\"kind\":\"warning\",\"reason\":\"x\"}"), 409, "no_case_decision");
  snprintf(p, sizeof p, "/cases/%lld/investigate", (long long)cid);
  check(call(t_u1, "POST", p, "{\"note\":\"调取日志核查\"}"), 200, NULL);
  snprintf(p, sizeof p, "/cases/%lld/decision", (long long)cid);
  r = call(t_u1, "POST", p, "{\"outcome\":\"verified\",\"reason\":\"视频进度以 70 倍速推进，查实刷课\","
           "\"sanctions\":[\"cancel_grade\",\"warning\"]}");
  expect(r, 200, NULL);
  assert_string_equal(str_of(r.body, "state"), "verified");
  assert_int_equal(json_array_size(json_object_get(r.body, "sanctions")), 2);
  res_free(&r);
  snprintf(p, sizeof p, "/cases/%lld", (long long)cid);
  check(call(t_bj, "GET", p, NULL), 200, NULL);
  check(call(t_sh, "GET", p, NULL), 403, "out_of_scope");
  check(call(t_stu_b, "GET", p, NULL), 403, "out_of_scope");

  /* 9. appeal by the student; decided by a different person */
  snprintf(p, sizeof p, "/cases/%lld/appeal", (long long)cid);
  check(call(t_stu_b, "POST", p, "{\"grounds\":\"x\"}"), 403, "out_of_scope");
  check(call(t_stu_a, "POST", p, "{\"grounds\":\"网络异常导致进度上报错误\"}"), 200, NULL);
  snprintf(p, sizeof p, "/cases/%lld/appeal/decision", (long long)cid);
  check(call(t_u1, "POST", p, "{\"outcome\":\"rejected\",\"reason\":\"x\"}"), 403, "same_person");
  r = call(t_u1b, "POST", p, "{\"outcome\":\"rejected\",\"reason\":\"服务器接收时间证明进度不可能\"}");
  expect(r, 200, NULL);
  assert_string_equal(str_of(r.body, "state"), "appeal_rejected");
  res_free(&r);

  /* 10. exam: plan, scores, supervision, finalisation (C's refused: no pledge) */
  snprintf(p, sizeof p, "/offerings/%lld/exams", (long long)off);
  r = call(t_u1, "POST", p, "{\"title\":\"期末考试\",\"starts_at\":\"2026-06-20T09:00:00+08:00\","
           "\"face_start\":true,\"face_during\":true,\"dual_camera\":true,\"invigilator\":\"陈老师\"}");
  expect(r, 201, NULL);
  int64_t exam = id_of(r);
  res_free(&r);
  snprintf(p, sizeof p, "/exams/%lld/results", (long long)exam);
  check(call(t_pa, "POST", p, "{\"results\":[{\"registration\":\"%s\",\"score\":95},"
             "{\"registration\":\"%s\",\"score\":85},{\"registration\":\"%s\",\"score\":80}]}",
             A.reg, B.reg, reg_c),
        200, NULL);
  const char *regs[3] = {A.reg, B.reg, reg_c};
  for (int k = 0; k < 3; k++) {
    snprintf(p, sizeof p, "/exams/%lld/supervision/%s", (long long)exam, regs[k]);
    check(call(t_u1, "PUT", p, "{\"face_start\":\"pass\",\"face_during\":\"pass\","
               "\"dual_camera\":\"pass\",\"invigilator\":\"陈老师\"}"),
          200, NULL);
  }
  /* before finalisation: B is not yet eligible (unfinalised exam) */
  snprintf(p, sizeof p, "/credit/decisions/%s/compute", B.reg);
  check(call(t_stu_b, "POST", p, "{}"), 403, "forbidden");
  check(call(t_u2, "POST", p, "{}"), 403, "out_of_scope");
  r = call(t_u1, "POST", p, "{}");
  expect(r, 201, NULL);
  assert_false(json_is_true(json_object_get(r.body, "eligible")));
  assert_non_null(strstr(r.raw.data, "exam not finalised"));
  res_free(&r);
  for (int k = 0; k < 2; k++) {
    snprintf(p, sizeof p, "/exams/%lld/results/%s/finalise", (long long)exam, regs[k]);
    check(call(t_u1, "POST", p, "{}"), 200, NULL);
  }
  snprintf(p, sizeof p, "/exams/%lld/results/%s/finalise", (long long)exam, reg_c);
  check(call(t_u1, "POST", p, "{}"), 409, "pledge_unsigned");

  /* 11. credit decisions for the offering */
  snprintf(p, sizeof p, "/credit/offerings/%lld/compute", (long long)off);
  check(call(t_u2, "POST", p, "{}"), 403, "out_of_scope");
  check(call(t_moe, "POST", p, "{}"), 403, "forbidden");
  r = call(t_u1, "POST", p, "{}");
  expect(r, 200, NULL);
  assert_int_equal(json_integer_value(json_object_get(r.body, "decided")), 3);
  assert_int_equal(json_integer_value(json_object_get(r.body, "eligible")), 1);
  json_t *decs = json_object_get(r.body, "decisions");
  json_t *da = find_decision(decs, A.reg), *db = find_decision(decs, B.reg),
         *dc = find_decision(decs, reg_c);
  assert_false(json_is_true(json_object_get(da, "eligible")));
  assert_true(failed_rule(da, "no_misconduct"));
  assert_int_equal(json_array_size(json_object_get(da, "failed")), 1); /* only the misconduct */
  assert_true(json_is_true(json_object_get(db, "eligible")));
  assert_true(failed_rule(dc, "pledge_signed"));
  assert_true(failed_rule(dc, "exam_supervised"));
  res_free(&r);
  /* the student reads their own decision, with the reason; not a classmate's */
  snprintf(p, sizeof p, "/credit/decisions/%s", A.reg);
  r = call(t_stu_a, "GET", p, NULL);
  expect(r, 200, NULL);
  assert_false(json_is_true(json_object_get(r.body, "eligible")));
  assert_true(json_is_null(json_object_get(r.body, "grade"))); /* the grade is cancelled */
  snprintf(body, sizeof body, "案件 %lld", (long long)cid);
  assert_non_null(strstr(r.raw.data, body));
  assert_true(strlen(str_of(r.body, "tag")) > 10);
  res_free(&r);
  check(call(t_stu_a, "GET", p, NULL), 200, NULL);
  snprintf(p, sizeof p, "/credit/decisions/%s", B.reg);
  check(call(t_stu_a, "GET", p, NULL), 403, "out_of_scope");
  r = call(t_stu_b, "GET", p, NULL);
  expect(r, 200, NULL);
  assert_true(json_is_true(json_object_get(r.body, "eligible")));
  assert_true(json_real_value(json_object_get(r.body, "credits")) == 2.0);
  res_free(&r);
  /* export for the academic-affairs system */
  r = call(t_u1, "GET", "/credit/decisions?format=csv", NULL);
  expect(r, 200, NULL);
  assert_non_null(strstr(r.ctype, "text/csv"));
  snprintf(body, sizeof body, "%s,", B.reg);
  const char *row = strstr(r.raw.data, body);
  assert_non_null(row);
  assert_non_null(strstr(row, ",yes,2,"));
  snprintf(body, sizeof body, "%s,", A.reg);
  row = strstr(r.raw.data, body);
  assert_non_null(row);
  assert_non_null(strstr(row, ",no,0,,no_misconduct,"));
  res_free(&r);
  snprintf(p, sizeof p, "/credit/decisions?university_id=%lld", (long long)u1);
  check(call(t_u2, "GET", p, NULL), 403, "out_of_scope");
  check(call(t_sh, "GET", p, NULL), 403, "out_of_scope");
  r = call(t_bj, "GET", p, NULL);
  expect(r, 200, NULL);
  assert_int_equal(json_array_size(json_object_get(r.body, "decisions")), 3);
  res_free(&r);

  /* 12. the regulator's report: u1 and pa ranked by flagged students per 1,000 enrolments */
  r = call(t_moe, "GET", "/reports/current?min_enrolments=1", NULL);
  expect(r, 200, NULL);
  json_t *univs = json_object_get(r.body, "universities"), *x, *mine = NULL;
  json_array_foreach(univs, i, x) if (json_integer_value(json_object_get(x, "id")) == u1) mine = x;
  if (!mine) fail_msg("u1 not in the report: %.*s", (int)r.raw.len, r.raw.data);
  assert_string_equal(str_of(mine, "name"), "北京某大学");
  assert_string_equal(str_of(mine, "province"), "11");
  assert_int_equal(json_integer_value(json_object_get(mine, "enrolments")), 3);
  assert_int_equal(json_integer_value(json_object_get(mine, "flagged_students")), 1);
  assert_int_equal(json_integer_value(json_object_get(mine, "verified_students")), 1);
  assert_true(json_array_size(json_object_get(r.body, "platforms")) >= 1);
  res_free(&r);
  r = call(t_moe, "GET", "/reports/current?min_enrolments=1&format=html", NULL);
  expect(r, 200, NULL);
  assert_non_null(strstr(r.ctype, "text/html"));
  assert_non_null(strstr(r.raw.data, "北京某大学"));
  res_free(&r);
  check(call(t_bj, "GET", "/reports/current?province=31", NULL), 403, "out_of_scope");
  check(call(t_u1, "GET", "/reports/current", NULL), 403, "forbidden");
  check(call(t_moe, "GET", "/reports/current?from=2026-13-01", NULL), 400, "invalid_parameter");
  r = call(t_sh, "GET", "/reports/current?min_enrolments=1", NULL);
  expect(r, 200, NULL);
  json_array_foreach(json_object_get(r.body, "universities"), i, x)
    assert_string_equal(str_of(x, "province"), "31");
  res_free(&r);
  r = call(t_moe, "POST", "/reports", "{\"from\":\"2026-01-01\",\"to\":\"2027-01-01\",\"min_enrolments\":1}");
  expect(r, 201, NULL);
  int64_t rep = id_of(r);
  res_free(&r);
  snprintf(p, sizeof p, "/reports/%lld", (long long)rep);
  check(call(t_bj, "GET", p, NULL), 403, "out_of_scope"); /* a national report: the ministry's */
  check(call(t_moe, "GET", p, NULL), 200, NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_walk),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
