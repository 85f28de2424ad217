/* Detection in the real server and over a real store:
 * - a simulated term pushed over HTTP is detected live by `serve`; the server is killed (-9)
 *   halfway and restarted, the rest pushed, the server stopped; the findings stored live are
 *   exactly those `detect --replay` finds on the same store, and replaying stores nothing new;
 * - `import --detect-live false` then `detect --replay` stores findings, and a second replay
 *   updates the same rows (idempotent); with live detection, import stores the same findings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/err.h"
#include "detect/live.h"
#include "store/store_findings.h"
#include "support.h"

static char g_dir[512], g_stmts[700];

static char *run(const char *cmd, int *status) {
  FILE *p = popen(cmd, "r");
  assert_non_null(p);
  mg_buf b;
  mg_buf_init(&b, (size_t)1 << 28);
  char chunk[65536];
  size_t n;
  while ((n = fread(chunk, 1, sizeof chunk, p)) > 0) assert_int_equal(mg_buf_add(&b, chunk, n), MG_OK);
  *status = pclose(p);
  if (!b.data) assert_int_equal(mg_buf_addc(&b, 0), MG_OK);
  return b.data; /* caller frees */
}

static int setup(void **state) {
  (void)state;
  mg_test_tmpdir("detect_live_e2e", g_dir, sizeof g_dir);
  char cmd[1400];
  snprintf(cmd, sizeof cmd,
           "'%s' simulate --out '%s/term' --students 40 --weeks 4 --courses 4 --universities 2 "
           "--platforms 2 --attack-scale 10 --quiet >/dev/null",
           getenv("MG_BIN"), g_dir);
  if (system(cmd) != 0) return -1;
  snprintf(g_stmts, sizeof g_stmts, "%s/term/statements.ndjson", g_dir);
  return 0;
}

/* ---- finding sets ---------------------------------------------------------------------------- */

typedef struct fset {
  char items[512][400];
  size_t n;
} fset;

static int cmp_item(const void *a, const void *b) { return strcmp(a, b); }

static void fset_add(fset *f, const char *type, const char *reg, const char *rules, double score) {
  assert_true(f->n < 512);
  snprintf(f->items[f->n++], sizeof f->items[0], "%s|%s|%s|%.3f", type, reg, rules, score);
}

static int from_row(void *ud, const mg_store_finding *r) {
  fset_add(ud, r->type, r->registration, r->rules, r->score);
  return MG_OK;
}

static void stored_set(const char *store, fset *out) {
  memset(out, 0, sizeof *out);
  mg_store *s;
  assert_int_equal(mg_store_open(store, &s, NULL), MG_OK);
  mg_store_finding_filter flt = {.limit = 500};
  int more = 1;
  while (more)
    assert_int_equal(mg_store_finding_list(s, &flt, from_row, out, &more, &flt.after_id), MG_OK);
  mg_store_close(s);
  qsort(out->items, out->n, sizeof out->items[0], cmp_item);
}

/* `detect --replay [--dry-run] --json` on store: its findings; *log gets stderr's summary. */
static void replay_set(const char *store, int dry, fset *out, char *log, size_t logsize) {
  memset(out, 0, sizeof *out);
  char cmd[1600], errpath[700];
  snprintf(errpath, sizeof errpath, "%s/replay.err", g_dir);
  snprintf(cmd, sizeof cmd, "'%s' detect --replay %s--json --store '%s' 2>'%s'", getenv("MG_BIN"),
           dry ? "--dry-run " : "", store, errpath);
  int status;
  char *text = run(cmd, &status);
  assert_int_equal(status, 0);
  for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
    json_error_t je;
    json_t *j = json_loads(line, 0, &je);
    if (!j) fail_msg("replay printed a line that is not JSON: %.200s", line);
    fset_add(out, json_string_value(json_object_get(j, "type")),
             json_string_value(json_object_get(j, "registration")),
             json_string_value(json_object_get(j, "rules")),
             json_real_value(json_object_get(j, "score")));
    json_decref(j);
  }
  free(text);
  qsort(out->items, out->n, sizeof out->items[0], cmp_item);
  char *err = mg_test_read_file(errpath, NULL);
  assert_non_null(err);
  snprintf(log, logsize, "%s", err);
  free(err);
}

static void assert_same(const fset *a, const fset *b) {
  if (a->n != b->n) fail_msg("%zu findings vs %zu", a->n, b->n);
  for (size_t i = 0; i < a->n; i++) assert_string_equal(a->items[i], b->items[i]);
}

/* ---- pushing over HTTP ------------------------------------------------------------------------ */

static void post(mg_test_server *srv, const char *body, size_t len, int *status, char *err,
                 size_t errsize) {
  char headers[800];
  snprintf(headers, sizeof headers,
           "%sX-Experience-API-Version: 2.0.0\r\nContent-Type: application/json\r\n",
           srv->auth_header);
  mg_test_resp r;
  assert_int_equal(mg_test_http(srv->port, "POST", "/xapi/statements", headers, body, len, &r), 0);
  *status = r.status;
  snprintf(err, errsize, "%s", r.body.data ? r.body.data : "");
  mg_test_resp_free(&r);
}

/* Posts lines [from, to) of the term in batches of 200 (one at a time when a batch holds one of
 * the simulator's re-posted ids twice). */
static void push(mg_test_server *srv, char **lines, size_t from, size_t to) {
  for (size_t i = from; i < to; i += 200) {
    size_t end = i + 200 < to ? i + 200 : to;
    mg_buf b;
    mg_buf_init(&b, (size_t)1 << 28);
    assert_int_equal(mg_buf_addc(&b, '['), MG_OK);
    for (size_t k = i; k < end; k++) {
      if (k > i) assert_int_equal(mg_buf_addc(&b, ','), MG_OK);
      assert_int_equal(mg_buf_add(&b, lines[k], strlen(lines[k])), MG_OK);
    }
    assert_int_equal(mg_buf_addc(&b, ']'), MG_OK);
    int status;
    char err[512];
    post(srv, b.data, b.len, &status, err, sizeof err);
    mg_buf_free(&b);
    if (status == 200) continue;
    if (!strstr(err, "duplicate_id")) fail_msg("batch at %zu: %d %s", i, status, err);
    for (size_t k = i; k < end; k++) {
      post(srv, lines[k], strlen(lines[k]), &status, err, sizeof err);
      if (status != 200) fail_msg("line %zu: %d %s", k + 1, status, err);
    }
  }
}

static char **read_lines(size_t *n) {
  char *text = mg_test_read_file(g_stmts, NULL);
  assert_non_null(text);
  size_t cap = 1 << 15;
  char **v = malloc(cap * sizeof *v);
  assert_non_null(v);
  *n = 0;
  for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
    assert_true(*n < cap);
    v[(*n)++] = strdup(line);
  }
  free(text);
  return v;
}

static int64_t checkpoint(const char *store) {
  mg_store *s;
  assert_int_equal(mg_store_open(store, &s, NULL), MG_OK);
  char v[32] = "";
  int rc = mg_store_setting_get(s, MG_DETECT_LIVE_SETTING, v, sizeof v);
  mg_store_close(s);
  return rc == MG_OK ? strtoll(v, NULL, 10) : -1;
}

static void live_over_http_equals_replay(void **state) {
  (void)state;
  static fset live, replay, stored_after;
  size_t n;
  char **lines = read_lines(&n);
  assert_true(n > 2000);
  mg_test_server srv;
  assert_int_equal(mg_test_server_start("detect_live_http", NULL, &srv), 0);
  char store[700];
  snprintf(store, sizeof store, "%s/moocguard.db", srv.dir);
  push(&srv, lines, 0, n / 2);
  /* the detector persists its position about once a second after it caught up */
  int64_t cp = -1;
  for (int i = 0; i < 200 && cp <= 0; i++) {
    usleep(100000);
    cp = checkpoint(store);
  }
  assert_true(cp > 0);
  /* a crash: no shutdown, no flush */
  kill(srv.pid, SIGKILL);
  waitpid(srv.pid, NULL, 0);
  assert_int_equal(mg_test_server_restart(&srv, NULL), 0);
  push(&srv, lines, n / 2, n);
  assert_int_equal(mg_test_server_stop(&srv), 0);
  char log[4096];
  char *slog = NULL;
  char logpath[700];
  snprintf(logpath, sizeof logpath, "%s/server.log", srv.dir);
  slog = mg_test_read_file(logpath, NULL);
  assert_non_null(slog);
  assert_non_null(strstr(slog, "event=detect.live.start resume_after_seq="));
  assert_non_null(strstr(slog, "event=detect.live.stop"));
  free(slog);

  stored_set(store, &live);
  assert_true(live.n >= 5);
  replay_set(store, 1, &replay, log, sizeof log);
  assert_same(&live, &replay);
  /* replaying for real finds the same rows again: nothing new */
  replay_set(store, 0, &replay, log, sizeof log);
  assert_non_null(strstr(log, " (0 new, "));
  stored_set(store, &stored_after);
  assert_same(&stored_after, &live);
  for (size_t i = 0; i < n; i++) free(lines[i]);
  free(lines);
}

static void import_then_replay(void **state) {
  (void)state;
  static fset replayed, again, live;
  char a[700], b[700], cmd[2000], log[4096];
  snprintf(a, sizeof a, "%s/replayed.db", g_dir);
  snprintf(b, sizeof b, "%s/live.db", g_dir);
  int status;
  snprintf(cmd, sizeof cmd, "'%s' import '%s' --store '%s' --detect-live false 2>/dev/null",
           getenv("MG_BIN"), g_stmts, a);
  free(run(cmd, &status));
  assert_int_equal(status, 0);
  stored_set(a, &replayed);
  assert_int_equal(replayed.n, 0); /* nothing detected yet */
  assert_int_equal(checkpoint(a), -1);
  replay_set(a, 0, &replayed, log, sizeof log);
  assert_true(replayed.n >= 5);
  char want[64];
  snprintf(want, sizeof want, "(%zu new, 0 updated)", replayed.n);
  assert_non_null(strstr(log, want));
  stored_set(a, &again);
  assert_same(&again, &replayed);
  /* again: the same rows are updated, none added */
  replay_set(a, 0, &again, log, sizeof log);
  snprintf(want, sizeof want, "(0 new, %zu updated)", replayed.n);
  assert_non_null(strstr(log, want));
  stored_set(a, &again);
  assert_same(&again, &replayed);

  /* import with the live detector: the same findings, stored by the import itself */
  snprintf(cmd, sizeof cmd, "'%s' import '%s' --store '%s' 2>/dev/null", getenv("MG_BIN"), g_stmts,
           b);
  free(run(cmd, &status));
  assert_int_equal(status, 0);
  assert_true(checkpoint(b) > 0);
  stored_set(b, &live);
  assert_same(&live, &replayed);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(live_over_http_equals_replay),
      cmocka_unit_test(import_then_replay),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}
