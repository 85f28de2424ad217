/* bench/statement.c — throughput of completing and indexing statements (xapi/statement.c).
 *
 * Generates realistic ~1.4 KB MOOC statements (video/quiz events of students identified by
 * platform accounts, with registration, course hierarchy, result and extensions), then times,
 * per statement and on one thread, the ingest path: mg_json_parse into an arena, mg_xapi_prepare,
 * mg_xapi_keys_extract (which includes the comparison digest) and mg_json_dump.
 * Usage: bench_statement [count]. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/json.h"
#include "core/time.h"
#include "core/uuid.h"
#include "xapi/statement.h"

#define BATCH 1000

static const char *const verbs[] = {
    "https://w3id.org/xapi/video/verbs/played", "https://w3id.org/xapi/video/verbs/paused",
    "https://w3id.org/xapi/video/verbs/seeked", "http://adlnet.gov/expapi/verbs/completed",
    "http://adlnet.gov/expapi/verbs/answered", "http://adlnet.gov/expapi/verbs/attempted"};

static unsigned long long rng_state = 0x9e3779b97f4a7c15ULL;
static unsigned rnd(unsigned n) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return (unsigned)(rng_state % n);
}

static int make_statement(char *out, size_t size, size_t i) {
  uint8_t u[16];
  char id[MG_UUID_STR_LEN], reg[MG_UUID_STR_LEN], sess[MG_UUID_STR_LEN];
  mg_uuid_v4(u);
  mg_uuid_format(u, id);
  mg_uuid_v4(u);
  mg_uuid_format(u, reg);
  mg_uuid_v4(u);
  mg_uuid_format(u, sess);
  unsigned student = rnd(200000), course = rnd(300), video = rnd(80);
  const char *verb = verbs[rnd(sizeof verbs / sizeof *verbs)];
  int n = snprintf(
      out, size,
      "{\"id\":\"%s\","
      "\"actor\":{\"objectType\":\"Agent\",\"name\":\"Student %u\","
      "\"account\":{\"homePage\":\"https://moocs.example.edu.cn\",\"name\":\"2021%06u\"}},"
      "\"verb\":{\"id\":\"%s\",\"display\":{\"en-US\":\"did\",\"zh-CN\":\"完成\"}},"
      "\"object\":{\"objectType\":\"Activity\","
      "\"id\":\"https://moocs.example.edu.cn/course/c%u/video/v%u\","
      "\"definition\":{\"type\":\"https://w3id.org/xapi/video/activity-type/video\","
      "\"name\":{\"en-US\":\"Lecture %u\",\"zh-CN\":\"第%u讲\"},"
      "\"description\":{\"en-US\":\"Recorded lecture of course %u\"}}},"
      "\"result\":{\"score\":{\"scaled\":0.%02u,\"raw\":%u,\"min\":0,\"max\":100},"
      "\"success\":true,\"completion\":%s,\"duration\":\"PT%uM%u.%02uS\","
      "\"extensions\":{\"https://w3id.org/xapi/video/extensions/time\":%u.%u,"
      "\"https://w3id.org/xapi/video/extensions/played-segments\":\"0[.]%u\"}},"
      "\"context\":{\"registration\":\"%s\",\"platform\":\"moocguard-sim\",\"language\":\"zh-CN\","
      "\"instructor\":{\"mbox\":\"mailto:teacher%u@example.edu.cn\"},"
      "\"contextActivities\":{"
      "\"parent\":[{\"id\":\"https://moocs.example.edu.cn/course/c%u\",\"objectType\":\"Activity\"}],"
      "\"grouping\":[{\"id\":\"https://moocs.example.edu.cn/program/p%u\"}],"
      "\"category\":[{\"id\":\"https://w3id.org/xapi/video\"}]},"
      "\"extensions\":{\"https://moocguard.example.cn/ext/session\":\"%s\","
      "\"https://moocguard.example.cn/ext/ip\":\"10.%u.%u.%u\","
      "\"https://w3id.org/xapi/video/extensions/user-agent\":\"Mozilla/5.0 (Windows NT 10.0; Win64; x64)\"}},"
      "\"timestamp\":\"2024-03-%02uT%02u:%02u:%02u.%03u+08:00\"}",
      (i % 3) ? id : "", student, student, verb, course, video, video + 1, video + 1, course,
      rnd(100), rnd(100), rnd(2) ? "true" : "false", rnd(60), rnd(60), rnd(100), rnd(3600),
      rnd(10), rnd(3600), reg, course % 40, course, course / 20, sess, rnd(256), rnd(256),
      rnd(256), 1 + rnd(28), rnd(24), rnd(60), rnd(60), rnd(1000));
  if (n < 0 || (size_t)n >= size) return -1;
  if (!(i % 3)) { /* a third without id: the LRS assigns it */
    char *p = strstr(out, "\"id\":\"\",");
    if (p) memmove(p, p + 8, strlen(p + 8) + 1);
  }
  return n;
}

int main(int argc, char **argv) {
  size_t count = 200000;
  if (argc > 1) {
    char *end;
    long long v = strtoll(argv[1], &end, 10);
    if (*end || v <= 0) {
      fprintf(stderr, "usage: %s [count]\n", argv[0]);
      return 2;
    }
    count = (size_t)v;
  }
  static char text[BATCH][2048];
  static const char auth_text[] =
      "{\"objectType\":\"Agent\",\"name\":\"Platform A\","
      "\"account\":{\"homePage\":\"https://lrs.example.cn\",\"name\":\"platform-a\"}}";
  mg_arena long_lived, req;
  mg_arena_init(&long_lived, 0, 0);
  mg_arena_init(&req, 0, 0);
  mg_buf out;
  mg_buf_init(&out, (size_t)1 << 20);
  mg_json_error err;
  mg_json *auth = mg_json_parse(&long_lived, auth_text, sizeof auth_text - 1, 0, &err);
  if (!auth) return 1;
  int64_t t_parse = 0, t_prep = 0, t_extract = 0, t_dump = 0;
  double best = 0; /* fastest batch: the figure least disturbed by other load on the host */
  size_t bytes = 0, out_bytes = 0, done = 0, agents = 0, acts = 0;
  while (done < count) {
    size_t n = count - done < BATCH ? count - done : BATCH;
    int64_t batch_us = 0;
    for (size_t i = 0; i < n; i++) {
      int len = make_statement(text[i], sizeof text[i], done + i);
      if (len < 0) return 1;
      bytes += (size_t)len;
    }
    /* Each statement goes parse -> prepare -> extract -> dump back to back, as in ingest, so
     * it is warm in cache when each step sees it; its values die with the request arena. */
    for (size_t i = 0; i < n; i++) {
      int64_t t0 = mg_time_mono_us();
      mg_json *st = mg_json_parse(&req, text[i], strlen(text[i]), 0, &err);
      if (!st) {
        fprintf(stderr, "generated JSON does not parse: %s\n", err.text);
        return 1;
      }
      int64_t t1 = mg_time_mono_us();
      if (mg_xapi_prepare(&req, st, MG_XAPI_V200, t1, auth) != MG_OK) return 1;
      int64_t t2 = mg_time_mono_us();
      mg_xapi_keys k;
      if (mg_xapi_keys_extract(st, &k) != MG_OK) return 1;
      agents += k.row.n_related_agents;
      acts += k.row.n_related_activities;
      mg_xapi_keys_free(&k);
      int64_t t3 = mg_time_mono_us();
      mg_buf_reset(&out);
      if (mg_json_dump(st, &out) != MG_OK) return 1;
      out_bytes += out.len;
      mg_arena_reset(&req);
      int64_t t4 = mg_time_mono_us();
      t_parse += t1 - t0;
      t_prep += t2 - t1;
      t_extract += t3 - t2;
      t_dump += t4 - t3;
      batch_us += t4 - t0;
    }
    if (n == BATCH && batch_us > 0 && (double)n / ((double)batch_us / 1e6) > best)
      best = (double)n / ((double)batch_us / 1e6);
    done += n;
  }
  mg_buf_free(&out);
  mg_arena_free(&req);
  mg_arena_free(&long_lived);
  double c = (double)count;
  double total = (double)(t_parse + t_prep + t_extract + t_dump);
  printf("statements: %zu, average %.0f bytes in, %.0f out, %.1f related agents and %.1f "
         "activities each\n",
         count, (double)bytes / c, (double)out_bytes / c, (double)agents / c, (double)acts / c);
  printf("parse (mg_json_parse):  %8.2f us/stmt\n", (double)t_parse / c);
  printf("prepare:                %8.2f us/stmt\n", (double)t_prep / c);
  printf("keys_extract:           %8.2f us/stmt (includes compare digest)\n",
         (double)t_extract / c);
  printf("dump (mg_json_dump):    %8.2f us/stmt (with the arena reset)\n", (double)t_dump / c);
  printf("total:                  %8.2f us/stmt, %.0f statements/s (one thread; best batch of %d: "
         "%.0f/s)\n",
         total / c, c / (total / 1e6), BATCH, best);
  printf("prepare+extract alone:  %8.0f statements/s\n", c / ((double)(t_prep + t_extract) / 1e6));
  return 0;
}
