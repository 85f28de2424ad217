/* End-to-end test of `moocguard simulate`: usage errors, the three output files, the same bytes
 * for the same seed, labels matching the summary, and the statements importing with no bad line
 * through `moocguard import` (the LRS's own validation). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "support.h"

static const char *bin(void) {
  const char *b = getenv("MG_BIN");
  return b && *b ? b : "./moocguard";
}

static int run(const char *cmdline, char *out, size_t size) {
  FILE *p = popen(cmdline, "r");
  if (!p) return -1;
  size_t n = 0;
  char sink[4096];
  if (out && size) {
    n = fread(out, 1, size - 1, p);
    out[n] = '\0';
  }
  while (fread(sink, 1, sizeof sink, p) > 0) {
  }
  int st = pclose(p);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void usage_errors(void **state) {
  (void)state;
  char cmd[1024], out[8192];
  snprintf(cmd, sizeof cmd, "'%s' simulate --help", bin());
  assert_int_equal(run(cmd, out, sizeof out), 0);
  assert_non_null(strstr(out, "usage: moocguard simulate"));
  static const char *const bad[] = {"", "--out /tmp/x --weeks 2", "--out /tmp/x --students abc",
                                    "--out /tmp/x --rate nonsense=1", "--out /tmp/x --rate brush_bot",
                                    "--out /tmp/x extra", NULL};
  for (int i = 0; bad[i]; i++) {
    snprintf(cmd, sizeof cmd, "'%s' simulate %s 2>/dev/null", bin(), bad[i]);
    assert_int_equal(run(cmd, NULL, 0), 2);
  }
}

static size_t count_lines(const char *text) {
  size_t n = 0;
  for (const char *p = text; *p; p++) n += *p == '\n';
  return n;
}

static void writes_term_and_imports(void **state) {
  (void)state;
  char dir[512], cmd[2048], out[8192];
  mg_test_tmpdir("sim-cli", dir, sizeof dir);
  const char *opts = "--students 20 --courses 3 --weeks 4 --seed 11 --attack-scale 5 --quiet --json";
  snprintf(cmd, sizeof cmd, "'%s' simulate --out '%s/a' %s", bin(), dir, opts);
  assert_int_equal(run(cmd, out, sizeof out), 0);
  json_error_t jerr;
  json_t *sum = json_loads(out, 0, &jerr);
  assert_non_null(sum);
  json_int_t statements = json_integer_value(json_object_get(sum, "statements"));
  json_int_t enrolments = json_integer_value(json_object_get(sum, "enrolments"));
  assert_true(statements > 500);
  assert_true(enrolments >= 20);

  char path[700];
  size_t len_a, len_b, len_l;
  snprintf(path, sizeof path, "%s/a/statements.ndjson", dir);
  char *a = mg_test_read_file(path, &len_a);
  assert_non_null(a);
  assert_int_equal(count_lines(a), (size_t)statements);
  snprintf(path, sizeof path, "%s/a/labels.ndjson", dir);
  char *labels = mg_test_read_file(path, &len_l);
  assert_non_null(labels);
  assert_int_equal(count_lines(labels), (size_t)enrolments);
  /* every label is JSON with a cohort; attacked ones list their misconduct */
  size_t attacked = 0;
  for (char *line = labels, *nl; (nl = strchr(line, '\n')); line = nl + 1) {
    *nl = '\0';
    json_t *l = json_loads(line, 0, &jerr);
    assert_non_null(l);
    const char *cohort = json_string_value(json_object_get(l, "cohort"));
    assert_non_null(cohort);
    size_t nm = json_array_size(json_object_get(l, "misconduct"));
    assert_true((strcmp(cohort, "attacked") == 0) == (nm > 0));
    attacked += nm > 0;
    json_decref(l);
  }
  assert_true(attacked > 0);
  snprintf(path, sizeof path, "%s/a/world.json", dir);
  json_t *world = json_load_file(path, 0, &jerr);
  assert_non_null(world);
  assert_int_equal(json_array_size(json_object_get(world, "enrolments")), (size_t)enrolments);
  json_decref(world);

  /* same seed, same bytes */
  snprintf(cmd, sizeof cmd, "'%s' simulate --out '%s/b' %s", bin(), dir, opts);
  assert_int_equal(run(cmd, NULL, 0), 0);
  snprintf(path, sizeof path, "%s/b/statements.ndjson", dir);
  char *b = mg_test_read_file(path, &len_b);
  assert_non_null(b);
  assert_int_equal(len_a, len_b);
  assert_memory_equal(a, b, len_a);

  /* the LRS's import accepts every line (duplicates are identical re-posts) */
  snprintf(cmd, sizeof cmd, "'%s' import '%s/a/statements.ndjson' --store '%s/s.db' --json 2>/dev/null", bin(), dir,
           dir);
  assert_int_equal(run(cmd, out, sizeof out), 0);
  json_t *imp = json_loads(out, 0, &jerr);
  assert_non_null(imp);
  assert_int_equal(json_integer_value(json_object_get(imp, "bad")), 0);
  assert_int_equal(json_integer_value(json_object_get(imp, "lines")), statements);
  json_decref(imp);
  json_decref(sum);
  free(a);
  free(b);
  free(labels);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(usage_errors),
      cmocka_unit_test(writes_term_and_imports),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
