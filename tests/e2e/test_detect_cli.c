/* `moocguard eval` and `moocguard detect --file` on a small labelled term written by the test:
 * one forged-request account, one forced-4x account and honest 2x viewers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../detect/seq.h"
#include "support.h"

static char *run(const char *cmd, int *status) {
  FILE *p = popen(cmd, "r");
  assert_non_null(p);
  static char out[65536];
  size_t n = fread(out, 1, sizeof out - 1, p);
  out[n] = 0;
  *status = pclose(p);
  return out;
}

static void eval_and_detect(void **state) {
  (void)state;
  char dir[512], sp[700], lp[700], cmd[2400];
  mg_test_tmpdir("detect_cli", dir, sizeof dir);
  snprintf(sp, sizeof sp, "%s/statements.ndjson", dir);
  snprintf(lp, sizeof lp, "%s/labels.ndjson", dir);
  seq q = {0};
  FILE *lf = fopen(lp, "w");
  assert_non_null(lf);
  for (int i = 0; i < 12; i++) {
    who w;
    char dev[16], ip[16];
    snprintf(dev, sizeof dev, "dev-%d", i);
    snprintf(ip, sizeof ip, "10.0.%d.1", i);
    who_init(&w, i, dev, ip, NULL);
    vopt o = honest_video();
    const char *fam = "null", *cohort = i < 2 ? "brush_forged" : "honest_2x";
    if (i == 0) { o.rate = 70 / 0.6; o.every = 0.6; fam = "\"brush_forged\""; }
    else if (i == 1) { o.rate = 4; o.speed = "4x"; fam = "\"brush_forged\""; }
    else { o.rate = 2; o.speed = "2x"; o.jitter_ms = 2000; }
    video(&q, &w, "v1", T0 + i * 1000, &o);
    char ts[MG_TIME_ISO_LEN];
    mg_time_format_iso((T0 + i * 1000 + 1000) * 1000, 3, ts);
    fprintf(lf, "{\"registration\":\"%s\",\"cohort\":\"%s\",\"family\":%s,\"decisive_timestamp\":\"%s\"}\n",
            w.reg, cohort, fam, ts);
  }
  fclose(lf);
  FILE *sf = fopen(sp, "w");
  for (size_t i = 0; i < q.n; i++) fprintf(sf, "%s\n", q.s[i]);
  fclose(sf);
  seq_free(&q);
  const char *bin = getenv("MG_BIN");
  assert_non_null(bin);
  int status;
  snprintf(cmd, sizeof cmd, "%s eval --dir %s --json", bin, dir);
  char *out = run(cmd, &status);
  assert_int_equal(status, 0);
  assert_non_null(strstr(out, "{\"family\":\"brush_forged\",\"type\":\"course_brushing\",\"n\":2,\"recall\":1.0000,\"precision\":1.0000"));
  assert_non_null(strstr(out, "\"honest\":10,\"honest_fpr\":0.000000"));
  snprintf(cmd, sizeof cmd, "%s detect --file %s --json 2>/dev/null", bin, sp);
  out = run(cmd, &status);
  assert_int_equal(status, 0);
  int lines = 0;
  for (char *p = out; (p = strstr(p, "\"type\":\"course_brushing\"")); p++) lines++;
  assert_int_equal(lines, 2);
  assert_non_null(strstr(out, "speed_over_cap"));
  /* usage errors */
  snprintf(cmd, sizeof cmd, "%s eval --labels x 2>/dev/null", bin);
  run(cmd, &status);
  assert_int_equal(WEXITSTATUS(status), 2);
  snprintf(cmd, sizeof cmd, "%s detect 2>/dev/null", bin);
  run(cmd, &status);
  assert_int_equal(WEXITSTATUS(status), 2);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(eval_and_detect)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
