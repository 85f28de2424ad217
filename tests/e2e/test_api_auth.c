/* End-to-end tests of /api/v1 authentication and authorisation against the real binary:
 * first security administrator, cookie + CSRF sessions, TOTP enrolment and replay, lockout,
 * timeouts, errors and headers, and a GENERATED test: for every route and every role the
 * capability table does not grant the route's capability, the request is answered 403. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "api/api.h"
#include "api/routes.h"
#include "auth/capability.h"
#include "auth/totp.h"
#include "core/err.h"
#include "core/time.h"
#include "support.h"

static const char *bin(void) {
  const char *b = getenv("MG_BIN");
  return b && *b ? b : "./moocguard";
}

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* ---- HTTP helpers ----------------------------------------------------------------------------- */

typedef struct call {
  int status;
  json_t *body; /* NULL if not JSON */
  char headers[4096];
} call;

static void call_free(call *c) {
  json_decref(c->body);
  c->body = NULL;
}

/* One request; auth is a header block (cookie/bearer/CSRF lines) or NULL. */
static call req(int port, const char *method, const char *path, const char *auth, const char *body) {
  call c;
  memset(&c, 0, sizeof c);
  char h[2048];
  snprintf(h, sizeof h, "%s%s", auth ? auth : "", body ? "Content-Type: application/json\r\n" : "");
  mg_test_resp r;
  assert_int_equal(mg_test_http(port, method, path, h, body, body ? strlen(body) : 0, &r), 0);
  c.status = r.status;
  if (r.body.len) c.body = json_loadb(r.body.data, r.body.len, 0, NULL);
  snprintf(c.headers, sizeof c.headers, "%s", r.headers.data ? r.headers.data : "");
  mg_test_resp_free(&r);
  return c;
}

static const char *err_of(const call *c) {
  const char *e = json_string_value(json_object_get(c->body, "error"));
  return e ? e : "";
}

static void expect_error(call c, int status, const char *code) {
  if (c.status != status || strcmp(err_of(&c), code) != 0) {
    char *dump = c.body ? json_dumps(c.body, 0) : NULL;
    fail_msg("expected %d %s, got %d %s", status, code, c.status, dump ? dump : "(no JSON)");
  }
  call_free(&c);
}

/* Runs a shell command line; returns its exit status and captures stdout into out. */
static int run(const char *cmdline, char *out, size_t size) {
  FILE *p = popen(cmdline, "r");
  if (!p) return -1;
  size_t n = fread(out, 1, size - 1, p);
  out[n] = '\0';
  int st = pclose(p);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void create_user(mg_test_server *srv, const char *name, const char *role, const char *pw) {
  char cmd[2048], out[512];
  snprintf(cmd, sizeof cmd,
           "printf '%%s\\n' '%s' | '%s' user create %s --role %s --org-id 3 --province 11 "
           "--password-stdin --no-must-change --password-hash interactive --store '%s/moocguard.db'",
           pw, bin(), name, role, srv->dir);
  assert_int_equal(run(cmd, out, sizeof out), 0);
}

/* Decodes RFC 4648 base32 (no padding). Returns the byte count. */
static size_t b32dec(const char *s, uint8_t *out, size_t max) {
  uint32_t acc = 0;
  int bits = 0;
  size_t n = 0;
  for (; *s; s++) {
    const char *a = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    const char *p = strchr(a, *s);
    assert_non_null(p);
    acc = (acc << 5) | (uint32_t)(p - a);
    bits += 5;
    if (bits >= 8) {
      assert_true(n < max);
      out[n++] = (uint8_t)(acc >> (bits - 8));
      bits -= 8;
    }
  }
  return n;
}

static void totp_now(const uint8_t *key, int64_t step_offset, char code[8]) {
  uint32_t c;
  assert_int_equal(mg_auth_totp_code(key, 20, (int64_t)time(NULL) / 30 + step_offset, 6, &c), MG_OK);
  snprintf(code, 8, "%06u", c);
}

/* Logs in; for a bearer token fills auth with "Authorization: Bearer ...\r\n", for a cookie
 * session with the Cookie and X-CSRF-Token lines. Returns the login call (caller frees). */
static call login(int port, const char *user, const char *pw, int bearer, char *auth, size_t size) {
  char body[512];
  snprintf(body, sizeof body, "{\"username\":\"%s\",\"password\":\"%s\",\"token_type\":\"%s\"}", user,
           pw, bearer ? "bearer" : "cookie");
  call c = req(port, "POST", "/api/v1/auth/login", NULL, body);
  if (c.status != 200 || !auth) return c;
  if (bearer) {
    snprintf(auth, size, "Authorization: Bearer %s\r\n",
             json_string_value(json_object_get(c.body, "token")));
  } else {
    const char *sc = strstr(c.headers, "Set-Cookie: mg_session=");
    assert_non_null(sc);
    char tok[64];
    assert_int_equal(sscanf(sc, "Set-Cookie: mg_session=%63[^;]", tok), 1);
    snprintf(auth, size, "Cookie: mg_session=%s\r\nX-CSRF-Token: %s\r\n", tok,
             json_string_value(json_object_get(c.body, "csrf_token")));
  }
  return c;
}

/* Enrols TOTP in the session auth and passes it; returns the key. */
static void enrol_totp(int port, const char *auth, uint8_t key[20]) {
  call c = req(port, "POST", "/api/v1/auth/totp/enrol", auth, NULL);
  assert_int_equal(c.status, 200);
  const char *secret = json_string_value(json_object_get(c.body, "secret"));
  assert_non_null(secret);
  assert_non_null(strstr(json_string_value(json_object_get(c.body, "otpauth_uri")), secret));
  assert_int_equal(b32dec(secret, key, 20), 20);
  call_free(&c);
  char code[8], body[64];
  totp_now(key, 0, code);
  snprintf(body, sizeof body, "{\"code\":\"%s\"}", code);
  c = req(port, "POST", "/api/v1/auth/totp/verify", auth, body);
  assert_int_equal(c.status, 200);
  call_free(&c);
}

static const char *const k_fast[] = {"--password-hash", "interactive", NULL};

/* ---- first administrator, cookies, CSRF, must-change, MFA ------------------------------------- */

static void first_admin_and_console_session(void **state) {
  (void)state;
  char adir[512], afile[600];
  mg_test_tmpdir("api-auth-admin", adir, sizeof adir);
  snprintf(afile, sizeof afile, "%s/first-admin.txt", adir);
  const char *args[] = {"--password-hash", "interactive", "--first-admin-file", afile, NULL};
  mg_test_server srv;
  assert_int_equal(mg_test_server_start("api-auth-first", args, &srv), 0);
  struct stat st;
  assert_int_equal(stat(afile, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600);
  char *text = mg_test_read_file(afile, NULL), pw[64] = "";
  assert_non_null(text);
  assert_int_equal(sscanf(text, "username=secadmin\npassword=%63s", pw), 1);
  free(text);
  int port = srv.port;

  char auth[512];
  call c = login(port, "secadmin", pw, 0, auth, sizeof auth);
  assert_int_equal(c.status, 200);
  assert_true(json_is_true(json_object_get(c.body, "must_change_password")));
  assert_true(json_is_true(json_object_get(c.body, "mfa_required")));
  assert_null(json_object_get(c.body, "token")); /* cookie sessions carry no bearer token */
  const char *sc = strstr(c.headers, "Set-Cookie: mg_session=");
  assert_non_null(sc);
  char cookie_line[256];
  sscanf(sc, "Set-Cookie: %255[^\r]", cookie_line);
  assert_non_null(strstr(cookie_line, "HttpOnly"));
  assert_non_null(strstr(cookie_line, "SameSite=Strict"));
  assert_null(strstr(cookie_line, "Secure")); /* base-url is http here */
  call_free(&c);

  /* before the password is changed, only the bootstrap routes answer */
  expect_error(req(port, "GET", "/api/v1/users", auth, NULL), 403, "password_change_required");
  c = req(port, "GET", "/api/v1/auth/me", auth, NULL);
  assert_int_equal(c.status, 200);
  assert_string_equal(json_string_value(json_object_get(json_object_get(c.body, "user"), "username")),
                      "secadmin");
  call_free(&c);

  /* CSRF: the cookie alone is not enough for an unsafe method */
  char cookie_only[300], cookie_line0[256], wrong_csrf[512];
  sscanf(auth, "%255[^\r]", cookie_line0);
  snprintf(cookie_only, sizeof cookie_only, "%s\r\n", cookie_line0);
  snprintf(wrong_csrf, sizeof wrong_csrf, "%sX-CSRF-Token: AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\r\n",
           cookie_only);
  char body[512];
  snprintf(body, sizeof body, "{\"current_password\":\"%s\",\"new_password\":\"Granite-Harbor-73\"}", pw);
  expect_error(req(port, "POST", "/api/v1/auth/password", cookie_only, body), 403, "csrf_failed");
  expect_error(req(port, "POST", "/api/v1/auth/password", wrong_csrf, body), 403, "csrf_failed");
  /* the password policy, with the reason */
  char weak[512];
  snprintf(weak, sizeof weak, "{\"current_password\":\"%s\",\"new_password\":\"secadmin-2024-X\"}", pw);
  expect_error(req(port, "POST", "/api/v1/auth/password", auth, weak), 400, "weak_password");
  snprintf(weak, sizeof weak, "{\"current_password\":\"%s\",\"new_password\":\"%s\"}", pw, pw);
  expect_error(req(port, "POST", "/api/v1/auth/password", auth, weak), 400, "weak_password");
  c = req(port, "POST", "/api/v1/auth/password", auth, body);
  assert_int_equal(c.status, 200);
  call_free(&c);

  /* sec_admin must pass TOTP before administering */
  expect_error(req(port, "GET", "/api/v1/users", auth, NULL), 403, "mfa_required");
  expect_error(req(port, "POST", "/api/v1/auth/totp/verify", auth, "{\"code\":\"123456\"}"), 409,
               "totp_not_enrolled");
  uint8_t key[20];
  enrol_totp(port, auth, key);
  c = req(port, "GET", "/api/v1/users?limit=10", auth, NULL);
  assert_int_equal(c.status, 200);
  assert_int_equal(json_integer_value(json_object_get(c.body, "total")), 1);
  char *listing = json_dumps(c.body, 0);
  assert_null(strstr(listing, "argon2")); /* no hash leaves the server */
  free(listing);
  call_free(&c);

  /* a code is good once: the same code again is refused */
  char code[8], vbody[64];
  totp_now(key, 0, code);
  snprintf(vbody, sizeof vbody, "{\"code\":\"%s\"}", code);
  expect_error(req(port, "POST", "/api/v1/auth/totp/verify", auth, vbody), 403, "invalid_code");

  /* a fresh login with the password only is gated again; the next step's code passes */
  char auth2[512];
  c = login(port, "secadmin", "Granite-Harbor-73", 1, auth2, sizeof auth2);
  assert_int_equal(c.status, 200);
  assert_false(json_is_true(json_object_get(c.body, "must_change_password")));
  call_free(&c);
  expect_error(req(port, "GET", "/api/v1/users", auth2, NULL), 403, "mfa_required");
  /* replacing the TOTP secret needs the second factor once one is set up */
  expect_error(req(port, "POST", "/api/v1/auth/totp/enrol", auth2, NULL), 403, "mfa_required");
  totp_now(key, 1, code);
  snprintf(vbody, sizeof vbody, "{\"code\":\"%s\"}", code);
  c = req(port, "POST", "/api/v1/auth/totp/verify", auth2, vbody);
  assert_int_equal(c.status, 200);
  call_free(&c);

  /* user administration by the security administrator */
  c = req(port, "POST", "/api/v1/users", auth2,
          "{\"username\":\"wang.fang\",\"role\":\"resp_teacher\",\"display_name\":\"王芳\",\"org_id\":3}");
  assert_int_equal(c.status, 201);
  const char *initial = json_string_value(json_object_get(c.body, "initial_password"));
  assert_non_null(initial);
  char tpw[64];
  snprintf(tpw, sizeof tpw, "%s", initial);
  json_int_t tid = json_integer_value(json_object_get(json_object_get(c.body, "user"), "id"));
  call_free(&c);
  expect_error(req(port, "POST", "/api/v1/users", auth2, "{\"username\":\"wang.fang\",\"role\":\"student\"}"),
               409, "conflict");
  expect_error(req(port, "POST", "/api/v1/users", auth2, "{\"username\":\"x\",\"role\":\"emperor\"}"),
               400, "invalid_field");
  expect_error(req(port, "POST", "/api/v1/users", auth2, "{\"username\":\"x\",\"role\":\"student\",\"rol\":1}"),
               400, "unknown_field");
  char tauth[512], path[128];
  c = login(port, "wang.fang", tpw, 1, tauth, sizeof tauth);
  assert_int_equal(c.status, 200);
  call_free(&c);
  snprintf(path, sizeof path, "/api/v1/users/%lld/disable", (long long)tid);
  c = req(port, "POST", path, auth2, NULL);
  assert_int_equal(c.status, 200);
  assert_string_equal(json_string_value(json_object_get(json_object_get(c.body, "user"), "status")),
                      "disabled");
  call_free(&c);
  /* disabling ends the sessions and refuses the login */
  expect_error(req(port, "GET", "/api/v1/auth/me", tauth, NULL), 401, "unauthenticated");
  expect_error(login(port, "wang.fang", tpw, 1, NULL, 0), 401, "invalid_credentials");
  /* the security administrator cannot disable or re-role themself */
  expect_error(req(port, "POST", "/api/v1/users/1/disable", auth2, NULL), 409, "conflict");
  expect_error(req(port, "PUT", "/api/v1/users/1/role", auth2, "{\"role\":\"sys_admin\"}"), 409,
               "conflict");
  expect_error(req(port, "GET", "/api/v1/users/abc", auth2, NULL), 400, "invalid_parameter");
  expect_error(req(port, "GET", "/api/v1/users/999", auth2, NULL), 404, "not_found");

  /* logout ends the session */
  c = req(port, "POST", "/api/v1/auth/logout", auth, NULL);
  assert_int_equal(c.status, 200);
  call_free(&c);
  expect_error(req(port, "GET", "/api/v1/auth/me", auth, NULL), 401, "unauthenticated");

  /* a restart does not create a second administrator or touch the file */
  assert_int_equal(mg_test_server_stop(&srv), 0);
  assert_int_equal(mg_test_server_restart(&srv, args), 0);
  char cmd[1024], out[4096];
  snprintf(cmd, sizeof cmd, "'%s' user list --json --store '%s/moocguard.db'", bin(), srv.dir);
  assert_int_equal(run(cmd, out, sizeof out), 0);
  assert_non_null(strstr(out, "\"secadmin\""));
  assert_null(strstr(strstr(out, "\"secadmin\"") + 1, "\"secadmin\""));
  mg_test_server_stop(&srv);
}

/* ---- lockout, uniform refusals, errors, headers ------------------------------------------------ */

static void lockout_and_errors(void **state) {
  (void)state;
  const char *args[] = {"--password-hash", "interactive", "--lockout-seconds", "2", NULL};
  mg_test_server srv;
  assert_int_equal(mg_test_server_start("api-auth-lockout", args, &srv), 0);
  int port = srv.port;
  create_user(&srv, "zhao.lei", "student", "Meadow-Copper-88");

  call c = login(port, "nobody", "Meadow-Copper-88", 1, NULL, 0);
  assert_int_equal(c.status, 401);
  char *unknown = json_dumps(c.body, JSON_SORT_KEYS);
  call_free(&c);
  for (int i = 0; i < 5; i++) {
    c = login(port, "zhao.lei", "Meadow-Copper-89", 1, NULL, 0);
    assert_int_equal(c.status, 401);
    char *wrong = json_dumps(c.body, JSON_SORT_KEYS);
    assert_string_equal(wrong, unknown); /* the same answer as for an unknown user */
    free(wrong);
    call_free(&c);
  }
  /* locked: the right password is refused, with the same answer */
  c = login(port, "zhao.lei", "Meadow-Copper-88", 1, NULL, 0);
  assert_int_equal(c.status, 401);
  char *locked = json_dumps(c.body, JSON_SORT_KEYS);
  assert_string_equal(locked, unknown);
  free(locked);
  call_free(&c);
  char cmd[1024], out[4096];
  snprintf(cmd, sizeof cmd, "'%s' user list --json --store '%s/moocguard.db'", bin(), srv.dir);
  assert_int_equal(run(cmd, out, sizeof out), 0);
  assert_non_null(strstr(out, "\"status\":\"locked\""));
  sleep_ms(2300);
  char auth[512];
  c = login(port, "zhao.lei", "Meadow-Copper-88", 1, auth, sizeof auth);
  assert_int_equal(c.status, 200);
  call_free(&c);
  free(unknown);

  /* standard errors and headers */
  c = req(port, "GET", "/api/v1/auth/me", auth, NULL);
  assert_int_equal(c.status, 200);
  assert_non_null(strstr(c.headers, "X-Content-Type-Options: nosniff"));
  assert_non_null(strstr(c.headers, "Cache-Control: no-store"));
  assert_non_null(strstr(c.headers, "X-Frame-Options: DENY"));
  assert_non_null(strstr(c.headers, "Content-Security-Policy: default-src 'none'"));
  call_free(&c);
  expect_error(req(port, "GET", "/api/v1/nothing/here", auth, NULL), 404, "not_found");
  c = req(port, "DELETE", "/api/v1/auth/me", auth, NULL);
  assert_int_equal(c.status, 405);
  assert_non_null(strstr(c.headers, "Allow: GET"));
  call_free(&c);
  expect_error(req(port, "POST", "/api/v1/auth/login", NULL, "{\"username\":\"a\""), 400, "invalid_json");
  expect_error(req(port, "POST", "/api/v1/auth/login", NULL, "[1]"), 400, "invalid_json");
  expect_error(req(port, "POST", "/api/v1/auth/login", NULL, "{\"username\":\"a\",\"username\":\"b\",\"password\":\"x\"}"),
               400, "invalid_json");
  expect_error(req(port, "POST", "/api/v1/auth/login", NULL, "{\"username\":1,\"password\":\"x\"}"), 400,
               "invalid_field");
  expect_error(req(port, "POST", "/api/v1/auth/login", NULL, "{\"username\":\"a\"}"), 400, "invalid_field");
  char deep[200];
  size_t dl = (size_t)snprintf(deep, sizeof deep, "{\"a\":");
  for (int i = 0; i < 40; i++) deep[dl++] = '[';
  for (int i = 0; i < 40; i++) deep[dl++] = ']';
  snprintf(deep + dl, sizeof deep - dl, "}");
  expect_error(req(port, "POST", "/api/v1/auth/login", NULL, deep), 400, "invalid_json");
  mg_test_resp r;
  assert_int_equal(mg_test_http(port, "POST", "/api/v1/auth/login", "Content-Type: text/plain\r\n",
                                "{}", 2, &r), 0);
  assert_int_equal(r.status, 415);
  mg_test_resp_free(&r);
  expect_error(req(port, "GET", "/api/v1/users", NULL, NULL), 401, "unauthenticated");
  expect_error(req(port, "GET", "/api/v1/users", "Authorization: Bearer nonsense\r\n", NULL), 401,
               "unauthenticated");
  /* a bearer token is not a cookie */
  char as_cookie[512];
  snprintf(as_cookie, sizeof as_cookie, "Cookie: mg_session=%s", strstr(auth, "Bearer ") + 7);
  /* auth ends in CRLF already, so as_cookie does too */
  expect_error(req(port, "GET", "/api/v1/auth/me", as_cookie, NULL), 401, "unauthenticated");
  mg_test_server_stop(&srv);
}

/* ---- timeouts ----------------------------------------------------------------------------------- */

static void idle_and_absolute_timeouts(void **state) {
  (void)state;
  const char *args[] = {"--password-hash", "interactive", "--session-idle", "3",
                        "--session-absolute", "6", NULL};
  mg_test_server srv;
  assert_int_equal(mg_test_server_start("api-auth-timeout", args, &srv), 0);
  int port = srv.port;
  create_user(&srv, "sun.li", "lead_teacher", "Orchid-Tunnel-51");
  char a1[512], a2[512];
  int64_t t0 = mg_time_mono_us();
  call c = login(port, "sun.li", "Orchid-Tunnel-51", 1, a1, sizeof a1);
  call_free(&c);
  c = login(port, "sun.li", "Orchid-Tunnel-51", 1, a2, sizeof a2);
  call_free(&c);
  int64_t a2_seen_ms = (mg_time_mono_us() - t0) / 1000; /* a2's last activity, at the latest */
  /* a1 stays busy (a request every 0.5 s) and ends at the absolute limit (6 s); a2 idles out
   * (3 s). Sessions are touched at most once a second, so a busy session's idle margin is
   * 3 s - 1 s - the request interval: wide enough for a loaded host. Times are measured, not assumed: the host may be slow. */
  int64_t last_ok_ms = 0;
  int a1_expired = 0, a2_checked = 0;
  while (!a1_expired) {
    sleep_ms(500);
    int64_t before_ms = (mg_time_mono_us() - t0) / 1000;
    c = req(port, "GET", "/api/v1/auth/me", a1, NULL);
    int64_t after_ms = (mg_time_mono_us() - t0) / 1000;
    if (c.status == 200) {
      last_ok_ms = after_ms;
    } else {
      expect_error(c, 401, "session_expired");
      assert_true(before_ms >= 5900); /* not before the absolute limit */
      a1_expired = 1;
      continue;
    }
    call_free(&c);
    assert_true(before_ms < 6000 + 2000); /* absolute limit, with room for a slow host */
    if (!a2_checked && before_ms > a2_seen_ms + 3300) {
      expect_error(req(port, "GET", "/api/v1/auth/me", a2, NULL), 401, "session_expired");
      a2_checked = 1;
    }
  }
  assert_true(a2_checked);
  assert_true(last_ok_ms > 3600); /* being busy kept a1 past the idle limit */
  /* an ended session stays ended */
  expect_error(req(port, "GET", "/api/v1/auth/me", a1, NULL), 401, "unauthenticated");
  mg_test_server_stop(&srv);
}

/* ---- the generated authorisation test ------------------------------------------------------------- */

static void every_role_denied_every_capability_it_lacks(void **state) {
  (void)state;
  mg_test_server srv;
  assert_int_equal(mg_test_server_start("api-auth-matrix", k_fast, &srv), 0);
  int port = srv.port;
  /* one signed-in bearer session per role, with the second factor passed where required */
  static char auth[MG_ROLE_COUNT_][512];
  for (int r = MG_ROLE_NONE + 1; r < MG_ROLE_COUNT_; r++) {
    char name[64];
    snprintf(name, sizeof name, "t.%s", mg_auth_role_name((mg_role)r));
    create_user(&srv, name, mg_auth_role_name((mg_role)r), "Basalt-Window-64");
    call c = login(port, name, "Basalt-Window-64", 1, auth[r], sizeof auth[r]);
    assert_int_equal(c.status, 200);
    call_free(&c);
    if (mg_auth_role_needs_mfa((mg_role)r)) {
      expect_error(req(port, "GET", "/api/v1/system/status", auth[r], NULL), 403,
                   r == MG_ROLE_SYS_ADMIN ? "mfa_required" : "forbidden");
      uint8_t key[20];
      enrol_totp(port, auth[r], key);
    }
  }
  /* the routes `serve` registers, listed in-process through the same registration */
  mg_config cfg;
  mg_config_defaults(&cfg);
  mg_api *api = NULL;
  assert_int_equal(mg_api_create(NULL, NULL, &cfg, &api), MG_OK);
  assert_int_equal(mg_api_mount_all(api), MG_OK);
  size_t n_routes = mg_api_route_count(api), n_names;
  const char *const *names = mg_auth_cap_names(&n_names);
  int denied = 0, granted_checked = 0, caps_without_route = 0;
  for (size_t k = 0; k < n_names; k++) {
    int routes_for_cap = 0;
    for (size_t i = 0; i < n_routes; i++) {
      mg_api_route_info ri = mg_api_route_at(api, i);
      if (!ri.capability || strcmp(ri.capability, names[k])) continue;
      routes_for_cap++;
      char path[512] = "/api/v1";
      /* every :param becomes 1 */
      for (const char *p = ri.pattern; *p;) {
        size_t l = strlen(path);
        if (*p == ':') {
          snprintf(path + l, sizeof path - l, "1");
          while (*p && *p != '/') p++;
        } else {
          path[l] = *p++;
          path[l + 1] = '\0';
        }
      }
      int has_body = strcmp(ri.method, "GET") != 0;
      for (int r = MG_ROLE_NONE + 1; r < MG_ROLE_COUNT_; r++) {
        int granted = mg_auth_cap_scope((mg_role)r, names[k]) != MG_SCOPE_NONE;
        if (granted) {
          if (has_body) continue; /* granted changes are exercised by the other tests */
          call c = req(port, ri.method, path, auth[r], NULL);
          /* granted: the capability check passes; a 403 may only be the data-scope check
           * (object 1 belongs to someone else), which says so with its own code */
          if (c.status == 401 || (c.status == 403 && strcmp(err_of(&c), "out_of_scope")))
            fail_msg("%s %s as %s: %d %s, but the role has %s", ri.method, path,
                     mg_auth_role_name((mg_role)r), c.status, err_of(&c), names[k]);
          call_free(&c);
          granted_checked++;
          continue;
        }
        call c = req(port, ri.method, path, auth[r], has_body ? "{}" : NULL);
        if (c.status != 403 || strcmp(err_of(&c), "forbidden"))
          fail_msg("%s %s as %s: expected 403 forbidden (lacks %s), got %d %s", ri.method, path,
                   mg_auth_role_name((mg_role)r), names[k], c.status, err_of(&c));
        call_free(&c);
        denied++;
      }
    }
    if (!routes_for_cap) {
      /* e.g. audit.* before the audit endpoints exist: nothing to call yet */
      fprintf(stderr, "note: capability %s has no route yet\n", names[k]);
      caps_without_route++;
    }
  }
  fprintf(stderr, "generated authorisation test: %d denials checked, %d granted GETs, %d "
          "capabilities without a route\n", denied, granted_checked, caps_without_route);
  assert_true(denied >= 8 * 9); /* the nine admin routes, eight roles each at least */
  /* the sessions survived: the checks were refusals, not logouts */
  for (int r = MG_ROLE_NONE + 1; r < MG_ROLE_COUNT_; r++) {
    call c = req(port, "GET", "/api/v1/auth/me", auth[r], NULL);
    assert_int_equal(c.status, 200);
    call_free(&c);
  }
  mg_api_free(api);
  mg_test_server_stop(&srv);
}

static void cli_user_command(void **state) {
  (void)state;
  char dir[512], cmd[2048], out[4096];
  mg_test_tmpdir("api-auth-cli", dir, sizeof dir);
  snprintf(cmd, sizeof cmd, "'%s' user --help", bin());
  assert_int_equal(run(cmd, out, sizeof out), 0);
  assert_non_null(strstr(out, "usage"));
  snprintf(cmd, sizeof cmd, "'%s' user 2>/dev/null", bin());
  assert_int_equal(run(cmd, out, sizeof out), 2);
  snprintf(cmd, sizeof cmd, "'%s' user create x --store '%s/u.db' 2>/dev/null", bin(), dir);
  assert_int_equal(run(cmd, out, sizeof out), 2); /* --role missing */
  snprintf(cmd, sizeof cmd, "echo short | '%s' user create x --role student --password-stdin "
           "--store '%s/u.db' 2>&1", bin(), dir);
  assert_int_equal(run(cmd, out, sizeof out), 2);
  assert_non_null(strstr(out, "12"));
  snprintf(cmd, sizeof cmd, "'%s' user create chen.jie --role univ_admin --json --password-hash "
           "interactive --store '%s/u.db'", bin(), dir);
  assert_int_equal(run(cmd, out, sizeof out), 0);
  assert_non_null(strstr(out, "\"password\":\""));
  snprintf(cmd, sizeof cmd, "'%s' user create chen.jie --role student --password-hash interactive "
           "--store '%s/u.db' 2>/dev/null", bin(), dir);
  assert_int_equal(run(cmd, out, sizeof out), 1); /* taken */
  snprintf(cmd, sizeof cmd, "'%s' user disable chen.jie --store '%s/u.db' && '%s' user list --json "
           "--store '%s/u.db'", bin(), dir, bin(), dir);
  assert_int_equal(run(cmd, out, sizeof out), 0);
  assert_non_null(strstr(out, "\"status\":\"disabled\""));
  assert_non_null(strstr(out, "\"must_change_password\":true"));
  snprintf(cmd, sizeof cmd, "'%s' user unlock ghost --store '%s/u.db' 2>/dev/null", bin(), dir);
  assert_int_equal(run(cmd, out, sizeof out), 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(first_admin_and_console_session),
      cmocka_unit_test(lockout_and_errors),
      cmocka_unit_test(idle_and_absolute_timeouts),
      cmocka_unit_test(every_role_denied_every_capability_it_lacks),
      cmocka_unit_test(cli_user_command),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
