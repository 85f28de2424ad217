/* End-to-end tests of the student's own-data endpoints and the retention command against the
 * real binary: face-verification consent (grant, refusals, withdrawal), the export, that both are
 * audited, that no API response of any role carries a face-template field, and `moocguard
 * retention` usage, dry run and run. */
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "api/api.h"
#include "api/routes.h"
#include "auth/capability.h"
#include "auth/totp.h"
#include "core/err.h"
#include "privacy/consent.h"
#include "support.h"

static const char *bin(void) {
  const char *b = getenv("MG_BIN");
  return b && *b ? b : "./moocguard";
}

typedef struct call {
  int status;
  json_t *body;
  char raw[256];
} call;

static call req(int port, const char *method, const char *path, const char *auth, const char *body) {
  call c;
  memset(&c, 0, sizeof c);
  char h[2048];
  snprintf(h, sizeof h, "%s%s", auth ? auth : "", body ? "Content-Type: application/json\r\n" : "");
  mg_test_resp r;
  assert_int_equal(mg_test_http(port, method, path, h, body, body ? strlen(body) : 0, &r), 0);
  c.status = r.status;
  if (r.body.len) c.body = json_loadb(r.body.data, r.body.len, 0, NULL);
  snprintf(c.raw, sizeof c.raw, "%.*s", (int)(r.body.len < 200 ? r.body.len : 200),
           r.body.data ? r.body.data : "");
  mg_test_resp_free(&r);
  return c;
}

static const char *err_of(const call *c) {
  const char *e = json_string_value(json_object_get(c->body, "error"));
  return e ? e : "";
}

static void expect(call c, int status, const char *code) {
  if (c.status != status || (code && strcmp(err_of(&c), code)))
    fail_msg("expected %d %s, got %d %s", status, code ? code : "", c.status, c.raw);
  json_decref(c.body);
}

static int run(const char *cmdline, char *out, size_t size) {
  FILE *p = popen(cmdline, "r");
  if (!p) return -1;
  size_t n = fread(out, 1, size - 1, p);
  out[n] = '\0';
  int st = pclose(p);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void create_user(mg_test_server *srv, const char *name, const char *role, const char *extra) {
  char cmd[2048], out[512];
  snprintf(cmd, sizeof cmd,
           "printf '%%s\\n' 'Basalt-Window-64' | '%s' user create %s --role %s %s "
           "--password-stdin --no-must-change --password-hash interactive --store '%s/moocguard.db'",
           bin(), name, role, extra, srv->dir);
  assert_int_equal(run(cmd, out, sizeof out), 0);
}

static void login(int port, const char *user, char *auth, size_t size) {
  char body[256];
  snprintf(body, sizeof body,
           "{\"username\":\"%s\",\"password\":\"Basalt-Window-64\",\"token_type\":\"bearer\"}", user);
  call c = req(port, "POST", "/api/v1/auth/login", NULL, body);
  assert_int_equal(c.status, 200);
  snprintf(auth, size, "Authorization: Bearer %s\r\n",
           json_string_value(json_object_get(c.body, "token")));
  json_decref(c.body);
}

static size_t b32dec(const char *s, uint8_t *out, size_t max) {
  uint32_t acc = 0;
  int bits = 0;
  size_t n = 0;
  for (; *s; s++) {
    const char *p = strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", *s);
    assert_non_null(p);
    acc = (acc << 5) | (uint32_t)(p - "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567");
    bits += 5;
    if (bits >= 8) {
      assert_true(n < max);
      out[n++] = (uint8_t)(acc >> (bits - 8));
      bits -= 8;
    }
  }
  return n;
}

static void pass_mfa(int port, const char *auth) {
  call c = req(port, "POST", "/api/v1/auth/totp/enrol", auth, NULL);
  assert_int_equal(c.status, 200);
  uint8_t key[20];
  assert_int_equal(b32dec(json_string_value(json_object_get(c.body, "secret")), key, 20), 20);
  json_decref(c.body);
  uint32_t code;
  assert_int_equal(mg_auth_totp_code(key, 20, (int64_t)time(NULL) / 30, 6, &code), MG_OK);
  char body[64];
  snprintf(body, sizeof body, "{\"code\":\"%06u\"}", code);
  expect(req(port, "POST", "/api/v1/auth/totp/verify", auth, body), 200, NULL);
}

static int64_t sql_count(mg_test_server *srv, const char *sql) {
  char path[700];
  snprintf(path, sizeof path, "%s/moocguard.db", srv->dir);
  sqlite3 *db = NULL;
  assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  sqlite3_stmt *st = NULL;
  assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_step(st), SQLITE_ROW);
  int64_t n = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return n;
}

static void sql_exec(mg_test_server *srv, const char *sql) {
  char path[700];
  snprintf(path, sizeof path, "%s/moocguard.db", srv->dir);
  sqlite3 *db = NULL;
  assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(db);
}

static const char *const k_fast[] = {"--password-hash", "interactive", NULL};

/* A university and a student record, as a roster import would leave them. */
static void seed_student(mg_test_server *srv) {
  sql_exec(srv, "INSERT INTO reg_orgs (id, kind, code, name, province, home_page, created_us) "
                "VALUES (7, 'university', '10001', '示例大学', '11', 'https://jw.example.edu.cn', 1);"
                "INSERT INTO reg_students (id, university_id, student_no, name) "
                "VALUES (70, 7, '2023001', '王芳');");
}

static void consent_and_export(void **state) {
  (void)state;
  mg_test_server srv;
  assert_int_equal(mg_test_server_start("privacy-consent", k_fast, &srv), 0);
  int port = srv.port;
  seed_student(&srv);
  create_user(&srv, "stu.wang", "student", "--org-id 7 --student-id 70");
  create_user(&srv, "stu.nobody", "student", "--org-id 7");
  char a[512], b[512];
  login(port, "stu.wang", a, sizeof a);
  login(port, "stu.nobody", b, sizeof b);
  const char *ver = mg_privacy_face_notice()->version;

  call c = req(port, "GET", "/api/v1/me/consents/face", a, NULL);
  assert_int_equal(c.status, 200);
  assert_string_equal(json_string_value(json_object_get(c.body, "state")), "none");
  json_t *notice = json_object_get(c.body, "notice");
  assert_string_equal(json_string_value(json_object_get(notice, "version")), ver);
  assert_non_null(strstr(json_string_value(json_object_get(notice, "text_zh")), "人脸"));
  assert_int_equal(json_array_size(json_object_get(c.body, "records")), 0);
  json_decref(c.body);

  /* refusals change nothing */
  expect(req(port, "POST", "/api/v1/me/consents/face", a, "{}"), 400, "invalid_field");
  expect(req(port, "POST", "/api/v1/me/consents/face", a, "{\"notice_version\":\"face-1999\"}"), 400,
         "invalid_field");
  expect(req(port, "POST", "/api/v1/me/consents/face", a, "{\"notice_version\":7}"), 400,
         "invalid_field");
  expect(req(port, "POST", "/api/v1/me/consents/face", a, "{\"granted\":true}"), 400,
         "unknown_field");
  expect(req(port, "DELETE", "/api/v1/me/consents/face", a, NULL), 409, "not_granted");
  expect(req(port, "GET", "/api/v1/me/consents/face", b, NULL), 403, "out_of_scope");
  expect(req(port, "GET", "/api/v1/me/export", b, NULL), 403, "out_of_scope");
  assert_int_equal(sql_count(&srv, "SELECT count(*) FROM privacy_consents"), 0);

  char body[128];
  snprintf(body, sizeof body, "{\"notice_version\":\"%s\"}", ver);
  c = req(port, "POST", "/api/v1/me/consents/face", a, body);
  assert_int_equal(c.status, 201);
  assert_true(json_is_true(json_object_get(c.body, "granted")));
  json_t *r0 = json_array_get(json_object_get(c.body, "records"), 0);
  assert_string_equal(json_string_value(json_object_get(r0, "client_ip")), "127.0.0.1");
  json_decref(c.body);
  expect(req(port, "POST", "/api/v1/me/consents/face", a, body), 409, "already_granted");
  c = req(port, "DELETE", "/api/v1/me/consents/face", a, NULL);
  assert_int_equal(c.status, 200);
  assert_string_equal(json_string_value(json_object_get(c.body, "state")), "withdrawn");
  assert_int_equal(json_array_size(json_object_get(c.body, "records")), 2);
  json_decref(c.body);

  /* the export: the student's record and consents, no credentials, no templates */
  c = req(port, "GET", "/api/v1/me/export", a, NULL);
  assert_int_equal(c.status, 200);
  assert_string_equal(json_string_value(json_object_get(json_object_get(c.body, "student"), "name")),
                      "王芳");
  assert_string_equal(
      json_string_value(json_object_get(json_object_get(c.body, "account"), "username")), "stu.wang");
  assert_int_equal(json_array_size(json_object_get(c.body, "consents")), 2);
  assert_true(json_is_false(json_object_get(json_object_get(c.body, "face_templates"), "held")));
  char *dump = json_dumps(c.body, 0);
  assert_null(strstr(dump, "argon2"));
  assert_null(strstr(dump, "password_hash"));
  free(dump);
  json_decref(c.body);
  expect(req(port, "GET", "/api/v1/me/export?statements_after=-1", a, NULL), 400,
         "invalid_parameter");

  /* audited: every successful call, reads too; refusals left nothing */
  assert_int_equal(sql_count(&srv, "SELECT count(*) FROM audit_log WHERE action = 'self.export'"), 1);
  assert_int_equal(sql_count(&srv, "SELECT count(*) FROM audit_log WHERE action = 'self.consent' "
                                   "AND actor = 'stu.wang'"),
                   3); /* GET, POST, DELETE */
  assert_int_equal(sql_count(&srv, "SELECT count(*) FROM privacy_consents"), 2);
  /* other roles may not use the student's endpoints */
  create_user(&srv, "t.lead", "lead_teacher", "--org-id 7");
  login(port, "t.lead", b, sizeof b);
  expect(req(port, "GET", "/api/v1/me/export", b, NULL), 403, "forbidden");
  expect(req(port, "POST", "/api/v1/me/consents/face", b, body), 403, "forbidden");
  mg_test_server_stop(&srv);
}

/* Case-insensitive substring test (ASCII). */
static int ci_contains(const char *s, const char *needle) {
  size_t n = strlen(needle);
  for (; *s; s++) {
    size_t i = 0;
    while (i < n && s[i] && (s[i] | 0x20) == (needle[i] | 0x20)) i++;
    if (i == n) return 1;
  }
  return 0;
}

/* True when v has a member whose name mentions a face template (other than the export's
 * statement that none is held). */
static int template_key(json_t *v, char *where, size_t size) {
  if (json_is_object(v)) {
    const char *k;
    json_t *m;
    json_object_foreach(v, k, m) {
      if ((ci_contains(k, "template") && strcmp(k, "face_templates")) || ci_contains(k, "feature")) {
        snprintf(where, size, "%s", k);
        return 1;
      }
      if (template_key(m, where, size)) return 1;
    }
  } else if (json_is_array(v)) {
    size_t i;
    json_t *m;
    json_array_foreach(v, i, m) if (template_key(m, where, size)) return 1;
  }
  return 0;
}

static void no_response_carries_a_template(void **state) {
  (void)state;
  mg_test_server srv;
  assert_int_equal(mg_test_server_start("privacy-templates", k_fast, &srv), 0);
  int port = srv.port;
  seed_student(&srv);
  static char auth[MG_ROLE_COUNT_][512];
  for (int r = MG_ROLE_NONE + 1; r < MG_ROLE_COUNT_; r++) {
    char name[64];
    snprintf(name, sizeof name, "t.%s", mg_auth_role_name((mg_role)r));
    create_user(&srv, name, mg_auth_role_name((mg_role)r),
                r == MG_ROLE_STUDENT ? "--org-id 7 --student-id 70" : "--org-id 7 --province 11");
    login(port, name, auth[r], sizeof auth[r]);
    if (mg_auth_role_needs_mfa((mg_role)r)) pass_mfa(port, auth[r]);
  }
  char body[128];
  snprintf(body, sizeof body, "{\"notice_version\":\"%s\"}", mg_privacy_face_notice()->version);
  expect(req(port, "POST", "/api/v1/me/consents/face", auth[MG_ROLE_STUDENT], body), 201, NULL);
  mg_config cfg;
  mg_config_defaults(&cfg);
  mg_api *api = NULL;
  assert_int_equal(mg_api_create(NULL, NULL, &cfg, &api), MG_OK);
  assert_int_equal(mg_api_mount_all(api), MG_OK);
  int checked = 0;
  for (size_t i = 0; i < mg_api_route_count(api); i++) {
    mg_api_route_info ri = mg_api_route_at(api, i);
    if (strcmp(ri.method, "GET")) continue;
    char path[512] = "/api/v1";
    for (const char *p = ri.pattern; *p;) {
      size_t l = strlen(path);
      if (*p == ':') {
        /* our seeded ids where they exist */
        snprintf(path + l, sizeof path - l, "%s", strncmp(p, ":id", 3) ? "1" : "7");
        while (*p && *p != '/') p++;
      } else {
        path[l] = *p++;
        path[l + 1] = '\0';
      }
    }
    for (int r = MG_ROLE_NONE + 1; r < MG_ROLE_COUNT_; r++) {
      call c = req(port, "GET", path, auth[r], NULL);
      char where[128];
      if (c.body && template_key(c.body, where, sizeof where))
        fail_msg("GET %s as %s answered a '%s' field", path, mg_auth_role_name((mg_role)r), where);
      if (c.status == 200) checked++;
      json_decref(c.body);
    }
  }
  fprintf(stderr, "template check: %d successful GET responses of every role inspected\n", checked);
  assert_true(checked >= 20);
  mg_api_free(api);
  mg_test_server_stop(&srv);
}

static void retention_command(void **state) {
  (void)state;
  mg_test_server srv;
  assert_int_equal(mg_test_server_start("privacy-retention", k_fast, &srv), 0);
  char cmd[2048], out[4096];
  snprintf(cmd, sizeof cmd, "'%s' retention --help", bin());
  assert_int_equal(run(cmd, out, sizeof out), 0);
  assert_non_null(strstr(out, "usage: moocguard retention"));
  snprintf(cmd, sizeof cmd, "'%s' retention --bogus --store '%s/moocguard.db' 2>/dev/null", bin(),
           srv.dir);
  assert_int_equal(run(cmd, out, sizeof out), 2);
  snprintf(cmd, sizeof cmd, "'%s' retention --now yesterday --store '%s/moocguard.db' 2>/dev/null",
           bin(), srv.dir);
  assert_int_equal(run(cmd, out, sizeof out), 2);
  snprintf(cmd, sizeof cmd,
           "'%s' retention --retention-network-days 5 --store '%s/moocguard.db' 2>/dev/null", bin(),
           srv.dir);
  assert_int_equal(run(cmd, out, sizeof out), 2);
  /* a session, ended long ago by the clock of --now */
  create_user(&srv, "stu.wang", "student", "");
  char a[512];
  login(srv.port, "stu.wang", a, sizeof a);
  assert_int_equal(sql_count(&srv, "SELECT count(*) FROM sessions"), 1);
  snprintf(cmd, sizeof cmd,
           "'%s' retention --dry-run --json --now 2099-01-01T00:00:00Z --store '%s/moocguard.db' "
           "2>/dev/null",
           bin(), srv.dir);
  assert_int_equal(run(cmd, out, sizeof out), 0);
  assert_non_null(strstr(out, "\"dry_run\":true"));
  assert_non_null(strstr(out, "\"sessions_deleted\":1"));
  assert_int_equal(sql_count(&srv, "SELECT count(*) FROM sessions"), 1);
  snprintf(cmd, sizeof cmd,
           "'%s' retention --json --now 2099-01-01T00:00:00Z --store '%s/moocguard.db' 2>/dev/null",
           bin(), srv.dir);
  assert_int_equal(run(cmd, out, sizeof out), 0);
  assert_non_null(strstr(out, "\"dry_run\":false"));
  assert_int_equal(sql_count(&srv, "SELECT count(*) FROM sessions"), 0);
  assert_true(sql_count(&srv, "SELECT count(*) FROM audit_log WHERE action = 'retention.run'") >= 2);
  /* the session is gone: the token no longer works */
  expect(req(srv.port, "GET", "/api/v1/auth/me", a, NULL), 401, NULL);
  mg_test_server_stop(&srv);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(consent_and_export),
      cmocka_unit_test(no_response_carries_a_template),
      cmocka_unit_test(retention_command),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
