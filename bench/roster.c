/* bench/roster.c — roster CSV import (registry/roster.h): rows per second.
 *
 *   bench_roster [-d DIR] [-n ROWS]
 *       fresh store in DIR (default /tmp), one offering, a generated CSV of ROWS students
 *       (default 100,000; student number, Chinese name, an ignored class column), then:
 *       preview, first import, identical re-import (recognised by digest), and a changed
 *       roster (1% renamed, 1% dropped, 1% new, 0.1% bad rows). Each import runs in one
 *       governance transaction as the API does; prints the time of each step. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/time.h"
#include "registry/course.h"
#include "registry/offering.h"
#include "registry/org.h"
#include "registry/platform.h"
#include "registry/roster.h"

static const char *const SURNAMES[] = {"王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周"};
static const char *const GIVEN[] = {"伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋"};

static void die(const char *what, int rc, const mg_registry_why *why) {
  fprintf(stderr, "bench_roster: %s: %s %s %s\n", what, mg_strerror(rc), why ? why->code : "",
          why ? why->message : "");
  exit(1);
}

/* generation g: 0 = first roster; 1 = changed roster */
static void gen_csv(mg_buf *b, long n, int g) {
  mg_buf_reset(b);
  mg_buf_adds(b, "学号,姓名,班级\r\n");
  for (long i = 0; i < n; i++) {
    if (g && i % 100 == 7) continue; /* dropped */
    const char *given = GIVEN[(i / 10) % 10];
    if (g && i % 100 == 3) given = "新"; /* renamed */
    if (g && i % 1000 == 5) {
      mg_buf_addf(b, "bad id %ld,%s%s,%ld班\r\n", i, SURNAMES[i % 10], given, i % 40);
      continue;
    }
    mg_buf_addf(b, "2023%07ld,%s%s,%ld班\r\n", i, SURNAMES[i % 10], given, i % 40);
  }
  if (g)
    for (long i = 0; i < n / 100; i++) mg_buf_addf(b, "2024%07ld,新生%ld,1班\r\n", i, i);
}

static double run_import(mg_store *s, int64_t off, const mg_buf *csv, int preview,
                         mg_registry_roster_outcome *out) {
  mg_registry_why why;
  int64_t t0 = mg_time_mono_us();
  int rc = mg_store_tx_begin(s);
  if (rc) die("tx", rc, NULL);
  rc = mg_registry_roster_import(s, off, csv->data, csv->len, preview, "bench", mg_time_now_us(),
                                 out, &why);
  if (rc) {
    mg_store_tx_rollback(s);
    die("import", rc, &why);
  }
  if ((rc = mg_store_tx_commit(s))) die("commit", rc, NULL);
  return (double)(mg_time_mono_us() - t0) / 1e6;
}

static void report(const char *what, double secs, const mg_registry_roster_outcome *o) {
  printf("%-22s %8.3f s  %9.0f rows/s  rows=%lld ok=%lld bad=%lld added=%lld renamed=%lld "
         "removed=%lld unchanged=%lld%s\n",
         what, secs, secs > 0 ? (double)o->rows_total / secs : 0.0, (long long)o->rows_total,
         (long long)o->rows_ok, (long long)o->rows_bad, (long long)o->diff.added,
         (long long)o->diff.renamed, (long long)o->diff.removed, (long long)o->diff.unchanged,
         o->duplicate_of ? "  (same file: nothing to do)" : "");
}

int main(int argc, char **argv) {
  const char *dir = "/tmp";
  long n = 100000;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "-d") && i + 1 < argc) dir = argv[++i];
    else if (!strcmp(argv[i], "-n") && i + 1 < argc) {
      char *end = NULL;
      n = strtol(argv[++i], &end, 10);
      if (!end || *end || n < 1 || n > 500000) {
        fprintf(stderr, "bench_roster: -n must be 1..500000\n");
        return 2;
      }
    } else {
      fprintf(stderr, "usage: bench_roster [-d DIR] [-n ROWS]\n");
      return 2;
    }
  }
  char path[512];
  snprintf(path, sizeof path, "%s/bench-roster-%d.db", dir, (int)getpid());
  mg_store *s = NULL;
  int rc = mg_store_open(path, &s, NULL);
  if (rc) die("open", rc, NULL);
  int64_t now = mg_time_now_us();
  mg_registry_why why;
  mg_reg_org u = {0}, p = {0};
  snprintf(u.kind, sizeof u.kind, "university");
  snprintf(u.code, sizeof u.code, "10001");
  snprintf(u.name, sizeof u.name, "测试大学");
  snprintf(u.province, sizeof u.province, "11");
  snprintf(u.home_page, sizeof u.home_page, "https://ids.bench.edu.cn");
  int64_t uid = 0, pid = 0, cid = 0, oid = 0;
  if ((rc = mg_registry_org_create(s, &u, now, &uid, &why))) die("university", rc, &why);
  snprintf(p.code, sizeof p.code, "bench");
  snprintf(p.name, sizeof p.name, "平台");
  char due[11];
  mg_registry_date_of(now + 86400000000LL * 200, due);
  if ((rc = mg_registry_platform_create(s, &p, now, &pid, &why)) ||
      (rc = mg_registry_platform_file(s, pid, 3, "F-1", due, now, &why)) ||
      (rc = mg_registry_platform_set_status(s, pid, "whitelist", "bench", "bench", now, &why)))
    die("platform", rc, &why);
  mg_reg_recommendation r = {0};
  r.university_id = uid;
  r.platform_id = pid;
  snprintf(r.title, sizeof r.title, "课程");
  snprintf(r.lead_teacher, sizeof r.lead_teacher, "教师");
  snprintf(r.letter_no, sizeof r.letter_no, "1");
  mg_reg_course c = {0};
  c.platform_id = pid;
  snprintf(c.code, sizeof c.code, "C1");
  snprintf(c.iri, sizeof c.iri, "https://bench.example/c1");
  mg_registry_date_of(now, c.content_updated);
  if ((rc = mg_registry_recommend(s, &r, "bench", now, &c.recommendation_id, &why)) ||
      (rc = mg_registry_course_submit(s, &c, "bench", now, &cid, &why)) ||
      (rc = mg_registry_course_review(s, cid, "content", "pass", "ok", "b", now, NULL, &why)) ||
      (rc = mg_registry_course_review(s, cid, "ideology", "pass", "ok", "b", now, NULL, &why)) ||
      (rc = mg_registry_course_review(s, cid, "quality", "pass", "ok", "b", now, NULL, &why)))
    die("course", rc, &why);
  mg_reg_offering o = {0};
  o.university_id = uid;
  o.course_id = cid;
  snprintf(o.term, sizeof o.term, "2025-spring");
  o.credits_tenths = 20;
  snprintf(o.resp_teacher, sizeof o.resp_teacher, "教师");
  if ((rc = mg_registry_offering_create(s, &o, "bench", now, &oid, &why))) die("offering", rc, &why);

  mg_buf csv;
  mg_buf_init(&csv, (size_t)1 << 30);
  gen_csv(&csv, n, 0);
  printf("roster: %ld rows, %.1f MB CSV, store %s\n", n, (double)csv.len / 1e6, path);
  mg_registry_roster_outcome out;
  double t = run_import(s, oid, &csv, 1, &out);
  report("preview", t, &out);
  mg_registry_roster_outcome_free(&out);
  t = run_import(s, oid, &csv, 0, &out);
  report("first import", t, &out);
  mg_registry_roster_outcome_free(&out);
  t = run_import(s, oid, &csv, 0, &out);
  report("same file again", t, &out);
  mg_registry_roster_outcome_free(&out);
  gen_csv(&csv, n, 1);
  t = run_import(s, oid, &csv, 0, &out);
  report("changed roster", t, &out);
  mg_registry_roster_outcome_free(&out);
  mg_buf_free(&csv);
  mg_store_close(s);
  static const char *const sfx[] = {"", "-wal", "-shm", "-mgwriter"};
  for (size_t i = 0; i < 4; i++) {
    char f[600];
    snprintf(f, sizeof f, "%s%s", path, sfx[i]);
    unlink(f);
  }
  return 0;
}
