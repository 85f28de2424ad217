/* End-to-end tests of the `moocguard` command line: help and exit codes, migrate, credentials,
 * and import (validation with line numbers, resume). */
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "support.h"

static const char *bin(void) {
  const char *b = getenv("MG_BIN");
  return b && *b ? b : "./moocguard";
}

/* Runs a shell command line; returns its exit status and captures stdout into out. */
static int run(const char *cmdline, char *out, size_t size) {
  FILE *p = popen(cmdline, "r");
  if (!p) return -1;
  size_t n = 0;
  if (out && size) {
    n = fread(out, 1, size - 1, p);
    out[n] = '\0';
  } else {
    char sink[4096];
    while (fread(sink, 1, sizeof sink, p) > 0) {
    }
  }
  int st = pclose(p);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void help_and_exit_codes(void **state) {
  (void)state;
  static const char *const cmds[] = {"serve", "demo", "import", "credential", "migrate", NULL};
  char cmd[1024], out[16384];
  for (int i = 0; cmds[i]; i++) {
    snprintf(cmd, sizeof cmd, "'%s' %s --help", bin(), cmds[i]);
    assert_int_equal(run(cmd, out, sizeof out), 0);
    assert_non_null(strstr(out, "usage"));
  }
  snprintf(cmd, sizeof cmd, "'%s' --help", bin());
  assert_int_equal(run(cmd, out, sizeof out), 0);
  snprintf(cmd, sizeof cmd, "'%s' frobnicate 2>/dev/null", bin());
  assert_int_equal(run(cmd, NULL, 0), 2);
  snprintf(cmd, sizeof cmd, "'%s' 2>/dev/null", bin());
  assert_int_equal(run(cmd, NULL, 0), 2);
  snprintf(cmd, sizeof cmd, "'%s' serve --port notaport 2>/dev/null", bin());
  assert_int_equal(run(cmd, NULL, 0), 2);
  snprintf(cmd, sizeof cmd, "'%s' import 2>/dev/null", bin());
  assert_int_equal(run(cmd, NULL, 0), 2);
}

static void migrate_is_idempotent(void **state) {
  (void)state;
  char dir[512], cmd[1500], out[1024];
  mg_test_tmpdir("cli-migrate", dir, sizeof dir);
  snprintf(cmd, sizeof cmd, "'%s' migrate --json --store '%s/m.db'", bin(), dir);
  assert_int_equal(run(cmd, out, sizeof out), 0);
  json_error_t e;
  json_t *j = json_loads(out, 0, &e);
  assert_non_null(j);
  assert_true(json_integer_value(json_object_get(j, "applied")) >= 1);
  int version = (int)json_integer_value(json_object_get(j, "schema_version"));
  json_decref(j);
  assert_int_equal(run(cmd, out, sizeof out), 0);
  j = json_loads(out, 0, &e);
  assert_int_equal(json_integer_value(json_object_get(j, "applied")), 0);
  assert_int_equal(json_integer_value(json_object_get(j, "schema_version")), version);
  json_decref(j);
}

#define K_LINE \
    "{\"actor\":{\"account\":{\"homePage\":\"https://id.tsinghua.edu.cn\",\"name\":\"%s\"}},"   \
    "\"verb\":{\"id\":\"http://adlnet.gov/expapi/verbs/experienced\"},"                              \
    "\"object\":{\"id\":\"https://mooc.example.cn/course/import\"},"                                  \
    "\"timestamp\":\"2026-03-0%dT10:00:00Z\"}\n"

static void import_reports_bad_lines_and_resumes(void **state) {
  (void)state;
  char dir[512], path[600], cmd[2000], out[4096];
  mg_test_tmpdir("cli-import", dir, sizeof dir);
  snprintf(path, sizeof path, "%s/history.ndjson", dir);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  for (int i = 1; i <= 9; i++) {
    char who[32];
    snprintf(who, sizeof who, "2026%04d", i);
    if (i == 4)
      fputs("{\"actor\": not json}\n", f); /* line 4: malformed */
    else if (i == 7)
      fputs("{\"actor\":{\"mbox\":\"a@b.c\"},\"verb\":{\"id\":\"http://x/y\"},\"object\":{\"id\":"
            "\"http://x/z\"}}\n", f); /* line 7: mbox without mailto: */
    else
      fprintf(f, K_LINE, who, i);
  }
  fputs("\n", f); /* a blank line is skipped, not an error */
  fclose(f);
  snprintf(cmd, sizeof cmd, "'%s' import '%s' --batch 3 --json --store '%s/s.db' 2>'%s/err.txt'",
           bin(), path, dir, dir);
  assert_int_equal(run(cmd, out, sizeof out), 1); /* bad lines make the run a failure */
  json_error_t e;
  json_t *j = json_loads(out, 0, &e);
  assert_non_null(j);
  assert_int_equal(json_integer_value(json_object_get(j, "imported")), 7);
  assert_int_equal(json_integer_value(json_object_get(j, "bad")), 2);
  json_decref(j);
  char errpath[600];
  snprintf(errpath, sizeof errpath, "%s/err.txt", dir);
  char *err = mg_test_read_file(errpath, NULL);
  assert_non_null(err);
  assert_non_null(strstr(err, "line 4:"));
  assert_non_null(strstr(err, "line 7:"));
  assert_non_null(strstr(err, "mbox"));
  free(err);
  /* a second run resumes at the end: nothing new */
  assert_int_equal(run(cmd, out, sizeof out), 0);
  j = json_loads(out, 0, &e);
  assert_non_null(j);
  assert_int_equal(json_integer_value(json_object_get(j, "imported")), 0);
  json_decref(j);
  /* append two lines: only they are imported */
  f = fopen(path, "a");
  fprintf(f, K_LINE, "20260010", 1);
  fprintf(f, K_LINE, "20260011", 2);
  fclose(f);
  assert_int_equal(run(cmd, out, sizeof out), 0);
  j = json_loads(out, 0, &e);
  assert_int_equal(json_integer_value(json_object_get(j, "imported")), 2);
  json_decref(j);
  /* --restart re-reads everything; identical statements are no-ops, still counted as accepted */
  snprintf(cmd, sizeof cmd,
           "'%s' import '%s' --restart --json --store '%s/s.db' 2>/dev/null", bin(), path, dir);
  assert_int_equal(run(cmd, out, sizeof out), 1);
}

static void disabled_credential_is_refused(void **state) {
  (void)state;
  mg_test_server srv;
  assert_int_equal(mg_test_server_start("cli-disable", NULL, &srv), 0);
  char h[1024], cmd[1500];
  snprintf(h, sizeof h, "%sX-Experience-API-Version: 2.0.0\r\n", srv.auth_header);
  mg_test_resp r;
  assert_int_equal(mg_test_http(srv.port, "GET", "/xapi/statements?limit=1", h, NULL, 0, &r), 0);
  assert_int_equal(r.status, 200);
  mg_test_resp_free(&r);
  /* the right key with a wrong secret */
  char userpass[200], b64[300], wrong[600];
  snprintf(userpass, sizeof userpass, "%s:not-the-secret", srv.key);
  sodium_bin2base64(b64, sizeof b64, (const unsigned char *)userpass, strlen(userpass),
                    sodium_base64_VARIANT_ORIGINAL);
  snprintf(wrong, sizeof wrong, "Authorization: Basic %s\r\nX-Experience-API-Version: 2.0.0\r\n", b64);
  assert_int_equal(mg_test_http(srv.port, "GET", "/xapi/statements?limit=1", wrong, NULL, 0, &r), 0);
  assert_int_equal(r.status, 401);
  mg_test_resp_free(&r);
  snprintf(cmd, sizeof cmd, "'%s' credential disable %s --store '%s/moocguard.db' >/dev/null", bin(),
           srv.key, srv.dir);
  assert_int_equal(run(cmd, NULL, 0), 0);
  assert_int_equal(mg_test_http(srv.port, "GET", "/xapi/statements?limit=1", h, NULL, 0, &r), 0);
  assert_int_equal(r.status, 401);
  mg_test_resp_free(&r);
  assert_int_equal(mg_test_server_stop(&srv), 0);
}

/* One process writes statements to a store: an import into a store a running server writes to
 * fails with a message that says so, and stores nothing. */
static void import_into_a_served_store_is_refused_clearly(void **state) {
  (void)state;
  mg_test_server srv;
  assert_int_equal(mg_test_server_start("cli-busy", NULL, &srv), 0);
  char h[1024], path[700], cmd[2000];
  snprintf(h, sizeof h, "%sX-Experience-API-Version: 2.0.0\r\nContent-Type: application/json\r\n",
           srv.auth_header);
  char body[1024];
  snprintf(body, sizeof body, K_LINE, "20260100", 1);
  mg_test_resp r;
  assert_int_equal(mg_test_http(srv.port, "POST", "/xapi/statements", h, body, strlen(body), &r), 0);
  assert_int_equal(r.status, 200); /* the server is now the store's writer */
  mg_test_resp_free(&r);
  snprintf(path, sizeof path, "%s/one.ndjson", srv.dir);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fprintf(f, K_LINE, "20260101", 2);
  fclose(f);
  snprintf(cmd, sizeof cmd, "'%s' import '%s' --store '%s/moocguard.db' 2>'%s/busy.txt'", bin(), path,
           srv.dir, srv.dir);
  assert_int_equal(run(cmd, NULL, 0), 1);
  char errpath[700];
  snprintf(errpath, sizeof errpath, "%s/busy.txt", srv.dir);
  char *err = mg_test_read_file(errpath, NULL);
  assert_non_null(err);
  assert_non_null(strstr(err, "another moocguard process"));
  free(err);
  assert_int_equal(mg_test_count_statements(&srv, "limit=100"), 1);
  assert_int_equal(mg_test_server_stop(&srv), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(help_and_exit_codes),
      cmocka_unit_test(migrate_is_idempotent),
      cmocka_unit_test(import_reports_bad_lines_and_resumes),
      cmocka_unit_test(disabled_credential_is_refused),
      cmocka_unit_test(import_into_a_served_store_is_refused_clearly),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
