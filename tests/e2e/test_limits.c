/* End-to-end tests of the transport protections of `moocguard serve` (plain HTTP on loopback):
 * security headers, request-target checks, JSON and body bounds, header size, rate limits per IP
 * and per credential, connections per IP, slow clients, and the refusal of plain HTTP on a
 * non-loopback address. */
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/time.h"
#include "support.h"

#define V2 "X-Experience-API-Version: 2.0.0\r\n"

static const char *bin(void) {
  const char *b = getenv("MG_BIN");
  return b && *b ? b : "./moocguard";
}

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* Asserts r is a JSON error body {"error": code, "message": non-empty}. */
static void assert_error_body(const mg_test_resp *r, const char *code) {
  json_error_t e;
  json_t *j = json_loads(r->body.data, 0, &e);
  if (!j) fail_msg("not JSON: %s", r->body.data);
  assert_string_equal(json_string_value(json_object_get(j, "error")), code);
  const char *msg = json_string_value(json_object_get(j, "message"));
  assert_non_null(msg);
  assert_true(strlen(msg) > 10);
  json_decref(j);
}

static int raw_connect(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  assert_true(fd >= 0);
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
  return fd;
}

static void send_all(int fd, const char *s) {
  size_t n = strlen(s), off = 0;
  while (off < n) {
    ssize_t w = send(fd, s + off, n - off, MSG_NOSIGNAL);
    if (w <= 0) return;
    off += (size_t)w;
  }
}

/* Waits up to ms for the peer to close; returns 1 if it closed (EOF or reset) and nothing but
 * possibly an HTTP response was received in *got (may be NULL). */
static int closed_within(int fd, int ms, char *got, size_t size) {
  int64_t deadline = mg_time_mono_us() + (int64_t)ms * 1000;
  size_t n = 0;
  if (got) got[0] = '\0';
  while (mg_time_mono_us() < deadline) {
    struct pollfd p = {fd, POLLIN, 0};
    int left = (int)((deadline - mg_time_mono_us()) / 1000);
    if (poll(&p, 1, left > 0 ? left : 1) <= 0) continue;
    char buf[4096];
    ssize_t r = recv(fd, buf, sizeof buf, 0);
    if (r == 0 || (r < 0 && errno == ECONNRESET)) return 1;
    if (r > 0 && got && n + 1 < size) {
      size_t c = (size_t)r < size - 1 - n ? (size_t)r : size - 1 - n;
      memcpy(got + n, buf, c);
      n += c;
      got[n] = '\0';
    }
  }
  return 0;
}

/* Reads one HTTP response with a Content-Length body from a keep-alive connection, within ms.
 * Returns 1 when complete. */
static int read_response(int fd, int ms, char *got, size_t size) {
  int64_t deadline = mg_time_mono_us() + (int64_t)ms * 1000;
  size_t n = 0;
  got[0] = '\0';
  while (mg_time_mono_us() < deadline && n + 1 < size) {
    struct pollfd p = {fd, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    ssize_t r = recv(fd, got + n, size - 1 - n, 0);
    if (r <= 0) return 0;
    n += (size_t)r;
    got[n] = '\0';
    const char *end = strstr(got, "\r\n\r\n");
    const char *cl = strstr(got, "Content-Length:");
    if (end && cl) {
      long len = strtol(cl + 15, NULL, 10);
      if ((size_t)(end + 4 - got) + (size_t)len <= n) return 1;
    }
  }
  return 0;
}

/* ---- one server with default limits -------------------------------------------------------- */

static mg_test_server g_srv;

static int setup(void **state) {
  (void)state;
  const char *args[] = {"--max-body", "200000", "--access-log", "false", "--conn-memory", "32768",
                        NULL};
  return mg_test_server_start("limits", args, &g_srv);
}

static int teardown(void **state) {
  (void)state;
  return mg_test_server_stop(&g_srv) == 0 ? 0 : -1;
}

static void security_headers_everywhere(void **state) {
  (void)state;
  static const char *const targets[] = {"/xapi/about", "/xapi/statements", "/no/such/thing",
                                        "/xapi/a%zz"};
  char h[1024], v[512];
  snprintf(h, sizeof h, "%s" V2 "Origin: https://mooc.example.cn\r\n", g_srv.auth_header);
  for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++) {
    mg_test_resp r;
    assert_int_equal(mg_test_http(g_srv.port, "GET", targets[i], h, NULL, 0, &r), 0);
    assert_true(r.status == 200 || r.status == 404 || r.status == 400);
    assert_true(mg_test_resp_header(&r, "X-Content-Type-Options", v, sizeof v));
    assert_string_equal(v, "nosniff");
    assert_true(mg_test_resp_header(&r, "X-Frame-Options", v, sizeof v));
    assert_string_equal(v, "DENY");
    assert_true(mg_test_resp_header(&r, "Content-Security-Policy", v, sizeof v));
    assert_non_null(strstr(v, "frame-ancestors 'none'"));
    assert_true(mg_test_resp_header(&r, "Referrer-Policy", v, sizeof v));
    assert_string_equal(v, "no-referrer");
    assert_true(mg_test_resp_header(&r, "Cache-Control", v, sizeof v));
    assert_string_equal(v, "no-store");
    /* plain HTTP: no HSTS (it would be ignored, and wrong) */
    assert_false(mg_test_resp_header(&r, "Strict-Transport-Security", v, sizeof v));
    /* CORS for the LRS is unchanged */
    assert_true(mg_test_resp_header(&r, "Access-Control-Allow-Origin", v, sizeof v));
    assert_string_equal(v, "https://mooc.example.cn");
    mg_test_resp_free(&r);
  }
}

static void bad_request_targets_are_400(void **state) {
  (void)state;
  static const struct {
    const char *target;
    int status;
    const char *code;
    const char *msg;
  } cases[] = {
      {"/xapi/about%00", 400, "bad_request_target", "control byte 0x00 in the path"},
      {"/xapi/statements?agent=%zz", 400, "bad_request_target", "invalid percent escape"},
      {"/xapi/%2e%2e/api/v1/x", 400, "bad_request_target", "'..'"},
      {"/xapi/statements?verb=%C3%28", 400, "bad_request_target", "not valid UTF-8"},
  };
  char h[1024];
  snprintf(h, sizeof h, "%s" V2, g_srv.auth_header);
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    mg_test_resp r;
    assert_int_equal(mg_test_http(g_srv.port, "GET", cases[i].target, h, NULL, 0, &r), 0);
    if (r.status != cases[i].status || !strstr(r.body.data, cases[i].msg))
      fail_msg("%s: %d %s", cases[i].target, r.status, r.body.data);
    assert_error_body(&r, cases[i].code);
    mg_test_resp_free(&r);
  }
  /* more than 100 query parameters: 414 */
  char target[4096] = "/xapi/statements?";
  size_t n = strlen(target);
  for (int i = 0; i < 101; i++) n += (size_t)snprintf(target + n, sizeof target - n, "p%d=1&", i);
  mg_test_resp r;
  assert_int_equal(mg_test_http(g_srv.port, "GET", target, h, NULL, 0, &r), 0);
  assert_int_equal(r.status, 414);
  assert_error_body(&r, "uri_too_long");
  mg_test_resp_free(&r);
  /* the parsed parameters still reach the LRS: an unknown one is rejected by name */
  assert_int_equal(mg_test_http(g_srv.port, "GET", "/xapi/statements?limit=1&Limit=2", h, NULL, 0,
                                &r),
                   0);
  assert_int_equal(r.status, 400);
  assert_non_null(strstr(r.body.data, "Limit"));
  mg_test_resp_free(&r);
}

static void json_bounds_through_http(void **state) {
  (void)state;
  char h[1024];
  snprintf(h, sizeof h, "%s" V2 "Content-Type: application/json\r\n", g_srv.auth_header);
  /* 300 levels of nesting (the parser stops at 256): 400, nothing stored */
  char deep[1024];
  size_t n = 0;
  for (int i = 0; i < 300; i++) deep[n++] = '[';
  for (int i = 0; i < 300; i++) deep[n++] = ']';
  deep[n] = '\0';
  mg_test_resp r;
  assert_int_equal(mg_test_http(g_srv.port, "POST", "/xapi/statements", h, deep, n, &r), 0);
  assert_int_equal(r.status, 400);
  assert_error_body(&r, "malformed_json");
  assert_non_null(strstr(r.body.data, "nest"));
  mg_test_resp_free(&r);

  /* a 300 kB string in a statement, above max-body (200 kB): 413 */
  size_t big = 300000;
  char *body = malloc(big + 512);
  assert_non_null(body);
  n = (size_t)snprintf(body, 512,
                       "{\"actor\":{\"mbox\":\"mailto:a@b.cn\"},\"verb\":{\"id\":\"http://adlnet."
                       "gov/expapi/verbs/answered\"},\"object\":{\"id\":\"https://x.cn/q\"},"
                       "\"result\":{\"response\":\"");
  memset(body + n, 'x', big);
  n += big;
  n += (size_t)snprintf(body + n, 512, "\"}}");
  assert_int_equal(mg_test_http(g_srv.port, "POST", "/xapi/statements", h, body, n, &r), 0);
  assert_int_equal(r.status, 413);
  assert_error_body(&r, "payload_too_large");
  mg_test_resp_free(&r);
  free(body);
  assert_int_equal(mg_test_count_statements(&g_srv, "limit=100"), 0);
}

static void oversized_headers_are_refused(void **state) {
  (void)state;
  /* 48 kB of headers with conn-memory 32 kB */
  size_t size = 48 * 1024;
  char *h = malloc(size + 64);
  assert_non_null(h);
  memcpy(h, "X-Padding: ", 11);
  memset(h + 11, 'a', size);
  memcpy(h + 11 + size, "\r\n", 3);
  mg_test_resp r;
  assert_int_equal(mg_test_http(g_srv.port, "GET", "/xapi/about", h, NULL, 0, &r), 0);
  assert_int_equal(r.status, 431); /* libmicrohttpd answers before any handler runs */
  mg_test_resp_free(&r);
  free(h);
  /* the server is fine afterwards */
  assert_int_equal(mg_test_http(g_srv.port, "GET", "/xapi/about", NULL, NULL, 0, &r), 0);
  assert_int_equal(r.status, 200);
  mg_test_resp_free(&r);
}

/* ---- servers with particular limits --------------------------------------------------------- */

static void rate_limit_per_ip(void **state) {
  (void)state;
  mg_test_server s;
  const char *args[] = {"--access-log", "false", "--rate-loopback", "--rate-ip", "1",
                        "--rate-ip-burst", "4", NULL};
  assert_int_equal(mg_test_server_start("limits-ip", args, &s), 0);
  int ok = 0, limited = 0;
  int64_t t0 = mg_time_mono_us();
  char v[64];
  for (int i = 0; i < 12 && !limited; i++) {
    mg_test_resp r;
    assert_int_equal(mg_test_http(s.port, "GET", "/xapi/about", NULL, NULL, 0, &r), 0);
    if (r.status == 200) {
      ok++;
    } else {
      assert_int_equal(r.status, 429);
      assert_error_body(&r, "rate_limited");
      assert_non_null(strstr(r.body.data, "127.0.0.1"));
      assert_true(mg_test_resp_header(&r, "Retry-After", v, sizeof v));
      assert_string_equal(v, "1");
      assert_true(mg_test_resp_header(&r, "X-Frame-Options", v, sizeof v));
      limited = 1;
    }
    mg_test_resp_free(&r);
  }
  double secs = (double)(mg_time_mono_us() - t0) / 1e6;
  assert_true(limited);
  /* burst 4, minus the start-up probe, plus at most one token per elapsed second */
  assert_true(ok <= 4 + (int)secs + 1);
  /* the bucket refills */
  sleep_ms(1100);
  mg_test_resp r;
  assert_int_equal(mg_test_http(s.port, "GET", "/xapi/about", NULL, NULL, 0, &r), 0);
  assert_int_equal(r.status, 200);
  mg_test_resp_free(&r);
  assert_int_equal(mg_test_server_stop(&s), 0);
}

static void rate_limit_per_credential(void **state) {
  (void)state;
  mg_test_server s;
  const char *args[] = {"--access-log", "false", "--rate-principal", "1",
                        "--rate-principal-burst", "2", NULL};
  assert_int_equal(mg_test_server_start("limits-cred", args, &s), 0);
  char h[1024], v[64];
  snprintf(h, sizeof h, "%s" V2, s.auth_header);
  int ok = 0, limited = 0;
  int64_t t0 = mg_time_mono_us();
  for (int i = 0; i < 10 && !limited; i++) {
    mg_test_resp r;
    assert_int_equal(mg_test_http(s.port, "GET", "/xapi/statements?limit=1", h, NULL, 0, &r), 0);
    if (r.status == 200) {
      ok++;
    } else {
      assert_int_equal(r.status, 429);
      assert_error_body(&r, "rate_limited");
      assert_non_null(strstr(r.body.data, s.key)); /* names the credential, not the secret */
      assert_null(strstr(r.body.data, s.secret));
      assert_true(mg_test_resp_header(&r, "Retry-After", v, sizeof v));
      limited = 1;
    }
    mg_test_resp_free(&r);
  }
  double secs = (double)(mg_time_mono_us() - t0) / 1e6;
  assert_true(limited);
  assert_true(ok >= 2 && ok <= 2 + (int)secs + 1);
  /* unauthenticated requests from the same IP are not charged to the credential: loopback is
   * exempt from the per-IP limit by default */
  for (int i = 0; i < 5; i++) {
    mg_test_resp r;
    assert_int_equal(mg_test_http(s.port, "GET", "/xapi/about", NULL, NULL, 0, &r), 0);
    assert_int_equal(r.status, 200);
    mg_test_resp_free(&r);
  }
  /* a wrong secret is 401, not 429: nobody can use up a platform's budget without its secret */
  char bad[512];
  snprintf(bad, sizeof bad, "Authorization: Basic cGtfMDAwMDAwOnh4eA==\r\n" V2);
  mg_test_resp r;
  assert_int_equal(mg_test_http(s.port, "GET", "/xapi/statements?limit=1", bad, NULL, 0, &r), 0);
  assert_int_equal(r.status, 401);
  mg_test_resp_free(&r);
  assert_int_equal(mg_test_server_stop(&s), 0);
}

static void rate_limit_per_api_user(void **state) {
  (void)state;
  char dir[512], admin[600];
  mg_test_tmpdir("limits-api-admin", dir, sizeof dir);
  snprintf(admin, sizeof admin, "%s/admin.txt", dir);
  mg_test_server s;
  const char *args[] = {"--access-log", "false", "--rate-principal", "1",
                        "--rate-principal-burst", "2", "--first-admin-file", admin, NULL};
  assert_int_equal(mg_test_server_start("limits-api", args, &s), 0);
  char *text = mg_test_read_file(admin, NULL);
  assert_non_null(text);
  char pw[128];
  const char *at = strstr(text, "password=");
  assert_non_null(at);
  assert_int_equal(sscanf(at, "password=%127s", pw), 1);
  free(text);
  char body[512];
  snprintf(body, sizeof body,
           "{\"username\":\"secadmin\",\"password\":\"%s\",\"token_type\":\"bearer\"}", pw);
  mg_test_resp r;
  assert_int_equal(mg_test_http(s.port, "POST", "/api/v1/auth/login",
                                "Content-Type: application/json\r\n", body, strlen(body), &r),
                   0);
  assert_int_equal(r.status, 200);
  json_error_t e;
  json_t *j = json_loads(r.body.data, 0, &e);
  assert_non_null(j);
  char h[512];
  snprintf(h, sizeof h, "Authorization: Bearer %s\r\n",
           json_string_value(json_object_get(j, "token")));
  json_decref(j);
  mg_test_resp_free(&r);

  int answered = 0, limited = 0;
  int64_t t0 = mg_time_mono_us();
  for (int i = 0; i < 10 && !limited; i++) {
    assert_int_equal(mg_test_http(s.port, "GET", "/api/v1/auth/me", h, NULL, 0, &r), 0);
    if (r.status == 429) {
      assert_error_body(&r, "rate_limited");
      assert_non_null(strstr(r.body.data, "user:secadmin"));
      char v[32];
      assert_true(mg_test_resp_header(&r, "Retry-After", v, sizeof v));
      limited = 1;
    } else {
      assert_true(r.status == 200 || r.status == 403); /* 403: password change pending */
      answered++;
    }
    mg_test_resp_free(&r);
  }
  double secs = (double)(mg_time_mono_us() - t0) / 1e6;
  assert_true(limited);
  assert_true(answered >= 2 && answered <= 2 + (int)secs + 1);
  assert_int_equal(mg_test_server_stop(&s), 0);
}

static void connections_per_ip_and_slow_clients(void **state) {
  (void)state;
  mg_test_server s;
  const char *args[] = {"--access-log", "false", "--max-conn-per-ip", "3", "--request-timeout",
                        "1", "--timeout", "2", NULL};
  assert_int_equal(mg_test_server_start("limits-conn", args, &s), 0);

  /* three connections are allowed (each answers a keep-alive request, so the server has surely
   * accepted it), the fourth is closed at once. The server forgets a closed connection (such as
   * the start-up probe's) a moment after it closed, hence the retries. */
  int c[4];
  for (int i = 0; i < 3; i++) {
    int ok = 0;
    for (int attempt = 0; attempt < 20 && !ok; attempt++) {
      c[i] = raw_connect(s.port);
      send_all(c[i], "GET /xapi/about HTTP/1.1\r\nHost: x\r\n\r\n");
      char resp[4096];
      ok = read_response(c[i], 5000, resp, sizeof resp) && strstr(resp, "HTTP/1.1 200");
      if (!ok) {
        close(c[i]);
        sleep_ms(100);
      }
    }
    assert_true(ok);
  }
  c[3] = raw_connect(s.port);
  assert_true(closed_within(c[3], 2000, NULL, 0));
  close(c[3]);
  /* the first three still work */
  send_all(c[0], "GET /xapi/about HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  char got[8192];
  assert_true(closed_within(c[0], 3000, got, sizeof got));
  assert_non_null(strstr(got, "HTTP/1.1 200"));
  close(c[0]);
  /* an idle connection is dropped after --timeout (2 s) */
  int64_t t0 = mg_time_mono_us();
  assert_true(closed_within(c[1], 5000, NULL, 0));
  assert_true(mg_time_mono_us() - t0 < 4500000);
  close(c[1]);
  close(c[2]);

  /* a body trickled over more than --request-timeout (1 s) is cut off without an answer */
  char h[1024];
  int fd = raw_connect(s.port);
  snprintf(h, sizeof h,
           "POST /xapi/statements HTTP/1.1\r\nHost: x\r\n%s" V2
           "Content-Type: application/json\r\nContent-Length: 300\r\n\r\n[",
           s.auth_header);
  send_all(fd, h);
  for (int i = 0; i < 3; i++) {
    sleep_ms(700);
    send_all(fd, " ");
  }
  assert_true(closed_within(fd, 3000, got, sizeof got));
  assert_null(strstr(got, "HTTP/1.1 2"));
  close(fd);
  /* the same body sent at once is answered (400: an empty array is no statement batch) */
  char body[300];
  memset(body, ' ', sizeof body);
  body[0] = '[';
  body[sizeof body - 1] = ']';
  snprintf(h, sizeof h, "%s" V2 "Content-Type: application/json\r\n", s.auth_header);
  mg_test_resp r;
  assert_int_equal(mg_test_http(s.port, "POST", "/xapi/statements", h, body, sizeof body, &r), 0);
  assert_true(r.status == 400 || r.status == 200);
  mg_test_resp_free(&r);
  assert_int_equal(mg_test_server_stop(&s), 0);
}

/* Runs the binary with args (a shell fragment) and returns its exit status; stderr into err. */
static int run(const char *args, char *err, size_t size) {
  char dir[512], cmd[2048], errpath[600];
  mg_test_tmpdir("limits-run", dir, sizeof dir);
  snprintf(errpath, sizeof errpath, "%s/stderr", dir);
  snprintf(cmd, sizeof cmd, "'%s' serve --store '%s/m.db' --port 0 %s 2>'%s' >/dev/null", bin(),
           dir, args, errpath);
  int st = system(cmd);
  size_t n = 0;
  char *e = mg_test_read_file(errpath, &n);
  snprintf(err, size, "%s", e ? e : "");
  free(e);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void plain_http_only_on_loopback(void **state) {
  (void)state;
  char err[2048];
  assert_int_equal(run("--bind 0.0.0.0", err, sizeof err), 2);
  assert_non_null(strstr(err, "refusing plain HTTP on 0.0.0.0"));
  assert_int_equal(run("--bind 192.0.2.1", err, sizeof err), 2);
  assert_non_null(strstr(err, "not a loopback address"));
  assert_int_equal(run("--tls-cert /nonexistent.pem", err, sizeof err), 2);
  assert_non_null(strstr(err, "tls-cert and tls-key must be given together"));
  assert_int_equal(run("--tls-cert /nonexistent.pem --tls-key /nonexistent.key", err, sizeof err),
                   2);
  assert_non_null(strstr(err, "cannot be read"));
  /* explicitly allowed (a TLS proxy in front): it serves */
  mg_test_server s;
  const char *args[] = {"--access-log", "false", "--bind", "0.0.0.0", "--allow-plain-http", NULL};
  assert_int_equal(mg_test_server_start("limits-plain", args, &s), 0);
  assert_int_equal(mg_test_server_stop(&s), 0);
}

int main(void) {
  const struct CMUnitTest shared[] = {
      cmocka_unit_test(security_headers_everywhere),
      cmocka_unit_test(bad_request_targets_are_400),
      cmocka_unit_test(json_bounds_through_http),
      cmocka_unit_test(oversized_headers_are_refused),
  };
  const struct CMUnitTest own[] = {
      cmocka_unit_test(rate_limit_per_ip),
      cmocka_unit_test(rate_limit_per_credential),
      cmocka_unit_test(rate_limit_per_api_user),
      cmocka_unit_test(connections_per_ip_and_slow_clients),
      cmocka_unit_test(plain_http_only_on_loopback),
  };
  int rc = cmocka_run_group_tests_name("limits-shared", shared, setup, teardown);
  return rc | cmocka_run_group_tests_name("limits-own", own, NULL, NULL);
}
