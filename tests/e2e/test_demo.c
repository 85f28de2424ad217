/* End-to-end test of `moocguard demo`: a small generated world, then the demo server on it,
 * checked through HTTP as a newcomer would use it (the printed credential pushes and reads
 * statements, printed accounts log in and see registry data, findings in the inbox and cases). */
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

#include "auth/totp.h"
#include "support.h"

static const char *bin(void) {
  const char *b = getenv("MG_BIN");
  return b && *b ? b : "./moocguard";
}

/* Runs a command line; returns its exit status and captures stdout into a malloc'd *out. */
static int run(const char *cmdline, char **out) {
  FILE *p = popen(cmdline, "r");
  if (!p) return -1;
  mg_buf b;
  mg_buf_init(&b, 16u << 20);
  char chunk[8192];
  size_t n;
  while ((n = fread(chunk, 1, sizeof chunk, p)) > 0) mg_buf_add(&b, chunk, n);
  mg_buf_add(&b, "", 0);
  int st = pclose(p);
  if (out) *out = mg_buf_take(&b);
  else mg_buf_free(&b);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void usage_and_exit_codes(void **state) {
  (void)state;
  char cmd[1024];
  char *out = NULL;
  snprintf(cmd, sizeof cmd, "'%s' demo --help", bin());
  assert_int_equal(run(cmd, &out), 0);
  assert_non_null(strstr(out, "--students"));
  assert_non_null(strstr(out, "--keep"));
  free(out);
  static const char *const bad[] = {"--students abc", "--students 5", "--weeks 2", "--seed -1",
                                    "--dir", "--no-such-option 1", NULL};
  for (int i = 0; bad[i]; i++) {
    snprintf(cmd, sizeof cmd, "'%s' demo %s 2>/dev/null", bin(), bad[i]);
    assert_int_equal(run(cmd, NULL), 2);
  }
}

static int free_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa;
  socklen_t len = sizeof sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
      getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
    if (fd >= 0) close(fd);
    return -1;
  }
  close(fd);
  return ntohs(sa.sin_port);
}

/* RFC 4648 base32 (no padding) into out; returns the byte count or -1. */
static int base32_decode(const char *s, uint8_t *out, size_t size) {
  uint32_t acc = 0;
  int bits = 0;
  size_t n = 0;
  for (; *s; s++) {
    const char *alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    const char *p = strchr(alpha, *s);
    if (!p) return -1;
    acc = (acc << 5) | (uint32_t)(p - alpha);
    bits += 5;
    if (bits >= 8) {
      if (n == size) return -1;
      out[n++] = (uint8_t)(acc >> (bits - 8));
      bits -= 8;
    }
  }
  return (int)n;
}

static json_t *body_json(const mg_test_resp *r) {
  json_error_t e;
  return json_loadb(r->body.data, r->body.len, 0, &e);
}

/* Logs in (bearer); returns the "Authorization: Bearer ...\r\n" header block in hdr. */
static int login(int port, const json_t *acct, char *hdr, size_t size) {
  const char *user = json_string_value(json_object_get(acct, "username"));
  const char *pw = json_string_value(json_object_get(acct, "password"));
  const char *totp = json_string_value(json_object_get(acct, "totp_secret"));
  json_t *req = json_pack("{s:s, s:s, s:s}", "username", user, "password", pw, "token_type",
                          "bearer");
  if (totp) {
    uint8_t key[64];
    int n = base32_decode(totp, key, sizeof key);
    uint32_t code = 0;
    if (n <= 0 || mg_auth_totp_code(key, (size_t)n, (int64_t)time(NULL) / 30, 6, &code)) return -1;
    char c[8];
    snprintf(c, sizeof c, "%06u", code);
    json_object_set_new(req, "totp", json_string(c));
  }
  char *body = json_dumps(req, JSON_COMPACT);
  json_decref(req);
  mg_test_resp r;
  int rc = mg_test_http(port, "POST", "/api/v1/auth/login",
                        "Content-Type: application/json\r\n", body, strlen(body), &r);
  free(body);
  if (rc || r.status != 200) {
    if (!rc) fprintf(stderr, "login %s: %d %s\n", user, r.status, r.body.data);
    mg_test_resp_free(&r);
    return -1;
  }
  json_t *j = body_json(&r);
  const char *tok = json_string_value(json_object_get(j, "token"));
  int ok = tok && !json_is_true(json_object_get(j, "mfa_required"));
  if (ok) snprintf(hdr, size, "Authorization: Bearer %s\r\n", tok);
  json_decref(j);
  mg_test_resp_free(&r);
  return ok ? 0 : -1;
}

static const json_t *account(const json_t *sum, const char *username) {
  size_t i;
  json_t *a;
  json_array_foreach(json_object_get(sum, "logins"), i, a) {
    if (!strcmp(json_string_value(json_object_get(a, "username")), username)) return a;
  }
  return NULL;
}

/* GET path with hdr; the array member `member` of the JSON answer must have at least min items.
 * Returns the answer (caller decrefs). */
static json_t *get_list(int port, const char *hdr, const char *path, const char *member,
                        size_t min) {
  mg_test_resp r;
  assert_int_equal(mg_test_http(port, "GET", path, hdr, NULL, 0, &r), 0);
  if (r.status != 200) fprintf(stderr, "GET %s: %d %s\n", path, r.status, r.body.data);
  assert_int_equal(r.status, 200);
  json_t *j = body_json(&r);
  mg_test_resp_free(&r);
  assert_non_null(j);
  json_t *arr = json_object_get(j, member);
  if (json_array_size(arr) < min) fprintf(stderr, "GET %s: %zu %s\n", path, json_array_size(arr),
                                          member);
  assert_true(json_array_size(arr) >= min);
  return j;
}

static void world_and_server(void **state) {
  (void)state;
  char dir[512], cmd[2048];
  mg_test_tmpdir("demo-world", dir, sizeof dir);
  char *out = NULL;
  time_t t0 = time(NULL);
  snprintf(cmd, sizeof cmd,
           "'%s' demo --dir '%s' --students 120 --weeks 4 --seed 7 --prepare-only --json --quiet "
           "--log-level warn",
           bin(), dir);
  assert_int_equal(run(cmd, &out), 0);
  fprintf(stderr, "demo world (120 students) built in %lds\n", (long)(time(NULL) - t0));
  json_error_t e;
  json_t *sum = json_loads(out, 0, &e);
  if (!sum) fprintf(stderr, "not JSON: %s\n%s\n", e.text, out);
  free(out);
  assert_non_null(sum);
  assert_true(json_is_true(json_object_get(sum, "generated")));

  /* the world's shape */
  json_t *w = json_object_get(sum, "world");
  assert_true(json_integer_value(json_object_get(w, "universities")) >= 2);
  assert_true(json_integer_value(json_object_get(w, "provinces")) >= 2);
  json_t *pl = json_object_get(w, "platforms");
  assert_true(json_integer_value(json_object_get(pl, "whitelist")) >= 2);
  assert_int_equal(json_integer_value(json_object_get(pl, "pending")), 1);
  assert_int_equal(json_integer_value(json_object_get(pl, "blacklist")), 1);
  json_t *co = json_object_get(w, "courses");
  assert_true(json_integer_value(json_object_get(co, "approved")) >= 4);
  assert_int_equal(json_integer_value(json_object_get(co, "rejected")), 2);
  assert_int_equal(json_integer_value(json_object_get(co, "stale")), 2);
  json_int_t enrol = json_integer_value(json_object_get(w, "enrolments"));
  assert_true(enrol >= 120);
  assert_int_equal(json_integer_value(json_object_get(w, "pledges_signed")) +
                       json_integer_value(json_object_get(w, "pledges_unsigned")),
                   enrol);
  assert_true(json_integer_value(json_object_get(w, "statements")) > 1000);
  assert_true(json_integer_value(json_object_get(w, "findings")) >= 1);
  json_t *cs = json_object_get(w, "cases");
  assert_true(json_integer_value(json_object_get(cs, "open")) >= 1);
  json_t *cr = json_object_get(w, "credit");
  assert_int_equal(json_integer_value(json_object_get(cr, "eligible")) +
                       json_integer_value(json_object_get(cr, "refused")),
                   enrol);
  assert_true(json_integer_value(json_object_get(w, "report_id")) >= 1);

  /* one account per role, random passwords, TOTP for the roles that need it */
  static const char *const roles[] = {"regulator", "univ_admin", "resp_teacher", "lead_teacher",
                                      "student", "platform_operator", "sys_admin", "sec_admin",
                                      "audit_admin", NULL};
  for (int r = 0; roles[r]; r++) {
    int found = 0;
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(sum, "logins"), i, a) {
      if (strcmp(json_string_value(json_object_get(a, "role")), roles[r])) continue;
      found = 1;
      assert_true(strlen(json_string_value(json_object_get(a, "password"))) >= 12);
      int mfa = !strcmp(roles[r], "regulator") || !strcmp(roles[r], "univ_admin") ||
                !strcmp(roles[r], "sys_admin") || !strcmp(roles[r], "sec_admin") ||
                !strcmp(roles[r], "audit_admin");
      assert_int_equal(json_is_string(json_object_get(a, "totp_secret")), mfa);
    }
    assert_true(found);
  }
  /* logins.txt: private, and it holds what was printed */
  char path[700];
  snprintf(path, sizeof path, "%s/logins.txt", dir);
  struct stat st;
  assert_int_equal(stat(path, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600);
  char *txt = mg_test_read_file(path, NULL);
  assert_non_null(txt);
  const json_t *teacher = account(sum, "demo-resp-teacher");
  assert_non_null(teacher);
  assert_non_null(strstr(txt, json_string_value(json_object_get(teacher, "password"))));
  free(txt);

  /* serve it with --keep (no regeneration: the same store and the same accounts) */
  int port = free_port();
  assert_true(port > 0);
  char ports[16], banner_path[700];
  snprintf(ports, sizeof ports, "%d", port);
  snprintf(banner_path, sizeof banner_path, "%s/banner.txt", dir);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    int fd = open(banner_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
    }
    execl(bin(), bin(), "demo", "--dir", dir, "--keep", "--port", ports, "--log-level",
          "warn", (char *)NULL);
    _exit(127);
  }
  int up = 0;
  for (int i = 0; i < 400 && !up; i++) {
    mg_test_resp r;
    if (mg_test_http(port, "GET", "/xapi/about", NULL, NULL, 0, &r) == 0 && r.status == 200) up = 1;
    mg_test_resp_free(&r);
    if (!up) {
      struct timespec ts = {0, 25 * 1000 * 1000};
      nanosleep(&ts, NULL);
    }
  }
  assert_true(up);
  /* the banner follows the listening socket by a moment */
  char *banner = NULL;
  for (int i = 0; i < 200; i++) {
    banner = mg_test_read_file(banner_path, NULL);
    if (banner && strstr(banner, "Ctrl-C")) break;
    free(banner);
    banner = NULL;
    struct timespec ts = {0, 25 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  assert_non_null(banner);
  json_t *cred = json_array_get(json_object_get(sum, "credentials"), 0);
  const char *key = json_string_value(json_object_get(cred, "key"));
  const char *secret = json_string_value(json_object_get(cred, "secret"));
  assert_non_null(strstr(banner, key));
  assert_non_null(strstr(banner, "demo-student"));
  assert_non_null(strstr(banner, "X-Experience-API-Version: 2.0.0"));
  assert_non_null(strstr(banner, "docs/profile-examples/video-played.json"));
  free(banner);

  /* the printed credential posts the profile example the banner names, and reads it back */
  char userpass[200], b64[300], auth[600];
  snprintf(userpass, sizeof userpass, "%s:%s", key, secret);
  sodium_bin2base64(b64, sizeof b64, (const unsigned char *)userpass, strlen(userpass),
                    sodium_base64_VARIANT_ORIGINAL);
  snprintf(auth, sizeof auth, "Authorization: Basic %s\r\nX-Experience-API-Version: 2.0.0\r\n", b64);
  char example[700];
  snprintf(example, sizeof example, "%s/docs/profile-examples/video-played.json",
           getenv("MG_SOURCE_DIR") ? getenv("MG_SOURCE_DIR") : ".");
  size_t elen = 0;
  char *stmt = mg_test_read_file(example, &elen);
  assert_non_null(stmt);
  char hdr[800];
  snprintf(hdr, sizeof hdr, "%sContent-Type: application/json\r\n", auth);
  mg_test_resp r;
  assert_int_equal(mg_test_http(port, "POST", "/xapi/statements", hdr, stmt, elen, &r), 0);
  if (r.status != 200) fprintf(stderr, "POST: %d %s\n", r.status, r.body.data);
  assert_int_equal(r.status, 200);
  mg_test_resp_free(&r);
  free(stmt);
  assert_int_equal(mg_test_http(port, "GET",
                                "/xapi/statements?statementId=b71e5d30-2c8f-4a96-b0e4-6d1f9a3c8e27",
                                auth, NULL, 0, &r),
                   0);
  assert_int_equal(r.status, 200);
  assert_non_null(strstr(r.body.data, "b71e5d30-2c8f-4a96-b0e4-6d1f9a3c8e27"));
  mg_test_resp_free(&r);
  /* the generated term is there, under a roster enrolment's registration */
  char target[300];
  snprintf(target, sizeof target, "/xapi/statements?registration=%s&limit=5",
           json_string_value(json_object_get(sum, "sample_registration")));
  json_t *page = get_list(port, auth, target, "statements", 1);
  json_decref(page);

  /* people log in and see the world: a teacher (password only), an administrator (TOTP) */
  char bearer[400];
  assert_int_equal(login(port, teacher, bearer, sizeof bearer), 0);
  json_t *j = get_list(port, bearer, "/api/v1/platforms", "items", 6);
  int black = 0;
  size_t i;
  json_t *p;
  json_array_foreach(json_object_get(j, "items"), i, p) {
    black += !strcmp(json_string_value(json_object_get(p, "status")), "blacklist");
  }
  assert_int_equal(black, 1);
  json_decref(j);
  json_decref(get_list(port, bearer, "/api/v1/courses", "items", 4));
  json_decref(get_list(port, bearer, "/api/v1/inbox", "items", 1));
  json_decref(get_list(port, bearer, "/api/v1/cases", "cases", 1));
  const json_t *admin = account(sum, "demo-univ-admin");
  assert_non_null(admin);
  assert_int_equal(login(port, admin, bearer, sizeof bearer), 0);
  json_decref(get_list(port, bearer, "/api/v1/offerings", "items", 1));
  /* a wrong password is refused */
  json_t *wrong = json_deep_copy(teacher);
  json_object_set_new(wrong, "password", json_string("Not-the-password-1"));
  assert_int_equal(login(port, wrong, bearer, sizeof bearer), -1);
  json_decref(wrong);

  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  json_decref(sum);
}

int main(void) {
  if (sodium_init() < 0) return 1;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(usage_and_exit_codes),
      cmocka_unit_test(world_and_server),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
