/* End-to-end: `moocguard bank import|list` — help and exit codes, bad lines reported with their
 * line numbers and nothing imported, a good file imported whole, re-import counted as unchanged,
 * and the audit chain still verifies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

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

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fputs(text, f) >= 0, 1);
  assert_int_equal(fclose(f), 0);
}

static void bank_import(void **state) {
  (void)state;
  char dir[512], cmd[2048], out[16384], bad[700], good[700];
  mg_test_tmpdir("cli-bank", dir, sizeof dir);
  snprintf(cmd, sizeof cmd, "rm -f '%s/b.db'*", dir);
  assert_int_equal(run(cmd, NULL, 0), 0);
  snprintf(cmd, sizeof cmd, "'%s' bank --help", bin());
  assert_int_equal(run(cmd, out, sizeof out), 0);
  assert_non_null(strstr(out, "usage: moocguard bank import"));
  snprintf(cmd, sizeof cmd, "'%s' bank 2>/dev/null", bin());
  assert_int_equal(run(cmd, NULL, 0), 2);
  snprintf(cmd, sizeof cmd, "'%s' bank import 2>/dev/null", bin());
  assert_int_equal(run(cmd, NULL, 0), 2);
  snprintf(cmd, sizeof cmd, "'%s' bank frob 2>/dev/null", bin());
  assert_int_equal(run(cmd, NULL, 0), 2);
  snprintf(cmd, sizeof cmd, "'%s' bank import '%s/missing.csv' --store '%s/b.db' 2>/dev/null", bin(), dir, dir);
  assert_int_equal(run(cmd, NULL, 0), 1);

  snprintf(bad, sizeof bad, "%s/bad.csv", dir);
  write_file(bad, "item_iri,answer,source\n"
                  "https://mooc.example.cn/item/Q1,b,site:tiku\n"
                  "Q2,a\n"
                  "https://mooc.example.cn/item/Q3,\n"
                  "https://mooc.example.cn/item/Q4,a,b,c\n"
                  "https://mooc.example.cn/item/Q5,true\n");
  snprintf(cmd, sizeof cmd, "'%s' bank import '%s' --store '%s/b.db' 2>&1 >/dev/null | grep -v '^ts='", bin(), bad, dir);
  run(cmd, out, sizeof out);
  assert_non_null(strstr(out, "bad.csv:3: "));
  assert_non_null(strstr(out, "bad.csv:4: "));
  assert_non_null(strstr(out, "bad.csv:5: "));
  assert_null(strstr(out, "bad.csv:2: "));
  assert_null(strstr(out, "bad.csv:6: "));
  assert_non_null(strstr(out, "3 bad lines"));
  snprintf(cmd, sizeof cmd, "'%s' bank import '%s' --store '%s/b.db' >/dev/null 2>&1", bin(), bad, dir);
  assert_int_equal(run(cmd, NULL, 0), 1);
  snprintf(cmd, sizeof cmd, "'%s' bank list --store '%s/b.db' 2>/dev/null", bin(), dir);
  assert_int_equal(run(cmd, out, sizeof out), 0);
  assert_string_equal(out, ""); /* nothing of the bad file */

  snprintf(good, sizeof good, "%s/good.csv", dir);
  write_file(good, "https://mooc.example.cn/item/Q1,b,site:tiku\n"
                   "\"https://mooc.example.cn/item/Q2\",\"a, then c\"\n");
  snprintf(cmd, sizeof cmd, "'%s' bank import '%s' --source app:sou --store '%s/b.db' 2>/dev/null", bin(), good, dir);
  assert_int_equal(run(cmd, out, sizeof out), 0);
  assert_non_null(strstr(out, "2 items: 2 new, 0 replaced, 0 unchanged"));
  assert_int_equal(run(cmd, out, sizeof out), 0);
  assert_non_null(strstr(out, "2 items: 0 new, 0 replaced, 2 unchanged"));
  snprintf(cmd, sizeof cmd, "'%s' bank list --store '%s/b.db' 2>/dev/null", bin(), dir);
  assert_int_equal(run(cmd, out, sizeof out), 0);
  assert_string_equal(out, "https://mooc.example.cn/item/Q1\tb\tsite:tiku\n"
                           "https://mooc.example.cn/item/Q2\ta, then c\tapp:sou\n");
  snprintf(cmd, sizeof cmd, "'%s' verify-audit --store '%s/b.db' >/dev/null 2>&1", bin(), dir);
  assert_int_equal(run(cmd, NULL, 0), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(bank_import),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
