/* bench/detect.c — replay throughput and memory of the detection engine (no HTTP, no store).
 *
 * Builds a term of coherent video sessions for E enrolments (default 100,000): each round every
 * enrolment plays one video (initialized, played, 20 heartbeats, completed, terminated: 24
 * statements of ~1.4 KB shaped like docs/profile-examples), rounds until N statements (default
 * 10,000,000). Statements are rendered in chunks of 2,000 enrolments, interleaved by time, before
 * each timed phase; only mg_detect_feed_json is timed. Prints statements/s, engine table bytes
 * and peak RSS, both per 100,000 enrolments. Usage: bench_detect [statements] [enrolments]. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "core/time.h"
#include "detect/detect.h"

#define CHUNK 2000

/* CPU time of this thread: the host is shared, so wall time alone understates the engine. */
static double cpu_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}
#define PER 24

static size_t render(char *out, size_t size, unsigned long long id, int e, int kind, int k,
                     int64_t ts_ms, int64_t vid, unsigned long long sid) {
  char ts[MG_TIME_ISO_LEN], rv[MG_TIME_ISO_LEN];
  mg_time_format_iso(ts_ms * 1000, 3, ts);
  mg_time_format_iso((ts_ms + 150) * 1000, 3, rv);
  static const char *verbs[] = {"http://adlnet.gov/expapi/verbs/initialized",
                                "https://w3id.org/xapi/video/verbs/played",
                                "http://adlnet.gov/expapi/verbs/progressed",
                                "http://adlnet.gov/expapi/verbs/completed",
                                "http://adlnet.gov/expapi/verbs/terminated"};
  double pos = kind == 1 ? 0 : kind == 2 ? 30.0 * k : 600;
  int n = snprintf(out, size,
      "{\"id\":\"%08llx-0000-4000-8000-%012llx\",\"actor\":{\"objectType\":\"Agent\",\"account\":{\"homePage\":\"https://ids.example-university.edu.cn\",\"name\":\"2023%06d\"}},"
      "\"verb\":{\"id\":\"%s\",\"display\":{\"en-US\":\"x\"}},\"object\":{\"objectType\":\"Activity\",\"id\":\"https://mooc.example.cn/course/DS101/video/v%lld\",\"definition\":{\"type\":\"https://w3id.org/xapi/video/activity-type/video\",\"name\":{\"zh-CN\":\"3.2 二叉树的遍历\"}}},"
      "\"result\":{\"extensions\":{\"https://w3id.org/xapi/video/extensions/time\":%.3f,\"https://w3id.org/xapi/video/extensions/progress\":%.3f}},"
      "\"context\":{\"registration\":\"6b1f3c52-8a0e-4d2b-9f47-%012d\",\"platform\":\"示例慕课 Example MOOC\",\"language\":\"zh-CN\",\"contextActivities\":{"
      "\"category\":[{\"objectType\":\"Activity\",\"id\":\"https://moocguard.org/xapi/profile/1.0\",\"definition\":{\"type\":\"http://adlnet.gov/expapi/activities/profile\"}},{\"objectType\":\"Activity\",\"id\":\"https://w3id.org/xapi/video\",\"definition\":{\"type\":\"http://adlnet.gov/expapi/activities/profile\"}}],"
      "\"grouping\":[{\"objectType\":\"Activity\",\"id\":\"https://mooc.example.cn/course/DS101\",\"definition\":{\"type\":\"http://adlnet.gov/expapi/activities/course\"}},{\"objectType\":\"Activity\",\"id\":\"https://mooc.example.cn/course/DS101/offering/2024-spring\",\"definition\":{\"type\":\"https://moocguard.org/xapi/activity-type/offering\"}}]},"
      "\"extensions\":{\"https://moocguard.org/xapi/ext/platform-code\":\"cn-example-mooc\",\"https://moocguard.org/xapi/ext/received-at\":\"%s\","
      "\"https://moocguard.org/xapi/ext/client-ip\":\"10.%d.%d.1\",\"https://moocguard.org/xapi/ext/device-id\":\"d%063d\","
      "\"https://moocguard.org/xapi/ext/user-agent\":\"Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/122.0.0.0 Safari/537.36\","
      "\"https://moocguard.org/xapi/ext/client-session-id\":\"cs-%d\",\"https://moocguard.org/xapi/ext/client-seq\":%d,"
      "\"https://w3id.org/xapi/video/extensions/session-id\":\"%08llx-0000-4000-8000-%012llx\",\"https://w3id.org/xapi/video/extensions/length\":600,"
      "\"https://moocguard.org/xapi/ext/max-speed\":2,\"https://w3id.org/xapi/video/extensions/speed\":\"1x\",\"https://w3id.org/xapi/video/extensions/volume\":0.8,"
      "\"https://moocguard.org/xapi/ext/input-count\":3,\"https://moocguard.org/xapi/ext/visible\":true}},"
      "\"timestamp\":\"%s\",\"version\":\"2.0.0\"}",
      id >> 16, id, e, verbs[kind], (long long)vid, pos, pos / 600, e, rv, (e >> 8) & 255, e & 255, e,
      e, k, sid >> 16, sid, ts);
  return n > 0 && (size_t)n < size ? (size_t)n : 0;
}

int main(int argc, char **argv) {
  long long total = argc > 1 ? strtoll(argv[1], NULL, 10) : 10000000LL;
  int enrolments = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 100000;
  if (total <= 0 || enrolments <= 0) { fprintf(stderr, "usage: bench_detect [statements] [enrolments]\n"); return 2; }
  mg_detect *d;
  if (mg_detect_new(NULL, NULL, NULL, &d)) return 1;
  size_t cap = (size_t)CHUNK * PER * 1600;
  char *buf = malloc(cap);
  size_t *off = malloc((size_t)CHUNK * PER * sizeof *off), *len = malloc((size_t)CHUNK * PER * sizeof *len);
  if (!buf || !off || !len) return 1;
  struct rusage ru0;
  getrusage(RUSAGE_SELF, &ru0);
  long long fed = 0, bytes = 0;
  unsigned long long id = 0;
  double timed = 0, cpu = 0;
  int64_t day0 = 1710115200000LL; /* 2024-03-11 00:00 UTC */
  for (int round = 0; fed < total; round++) {
    for (int c0 = 0; c0 < enrolments && fed < total; c0 += CHUNK) {
      int m = enrolments - c0 < CHUNK ? enrolments - c0 : CHUNK;
      size_t n = 0, used = 0;
      /* statement j of every enrolment of the chunk, then j + 1: interleaved by time */
      unsigned long long sid0 = id;
      for (int j = 0; j < PER; j++)
        for (int i = 0; i < m; i++) {
          int e = c0 + i, kind = j == 0 ? 0 : j == 1 ? 1 : j < PER - 2 ? 2 : j == PER - 2 ? 3 : 4;
          int64_t ts = day0 + (int64_t)round * 86400000 + (int64_t)(e % 600) * 60000 + (int64_t)j * 30000;
          size_t w = render(buf + used, cap - used, ++id, e, kind, j - 1, ts, round, sid0 + (unsigned long long)i + 1);
          off[n] = used;
          len[n] = w;
          used += w;
          n++;
        }
      int64_t t0 = mg_time_mono_us();
      double cpu0 = cpu_s();
      for (size_t k = 0; k < n && fed < total; k++, fed++) {
        mg_detect_feed_json(d, buf + off[k], len[k]);
        bytes += (long long)len[k];
      }
      timed += (mg_time_mono_us() - t0) / 1e6;
      cpu += cpu_s() - cpu0;
    }
  }
  int64_t t0 = mg_time_mono_us();
  mg_detect_flush(d);
  double flush_s = (mg_time_mono_us() - t0) / 1e6;
  mg_detect_stats st;
  mg_detect_get_stats(d, &st);
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  double per100k = 100000.0 / enrolments;
  printf("statements            %lld (%.0f MB of JSON, avg %.0f B)\n", fed, bytes / 1e6, (double)bytes / fed);
  printf("enrolments            %d\n", enrolments);
  printf("replay                %.2f s wall, %.0f statements/s; %.2f s CPU, %.0f statements/CPU-s (one core, extraction + detectors)\n",
         timed, fed / timed, cpu, fed / cpu);
  printf("final sweep + flush   %.2f s\n", flush_s);
  printf("engine tables         %.1f MB (%.1f MB per 100,000 enrolments; %zu B per enrolment)\n",
         st.bytes / 1e6, st.bytes / 1e6 * per100k, st.enrol_bytes);
  printf("peak RSS              %.1f MB (bench buffers %.0f MB included)\n", ru.ru_maxrss / 1024.0, cap / 1e6);
  printf("findings              %llu (honest synthetic term: expected 0)\n", (unsigned long long)st.findings);
  mg_detect_free(d);
  free(buf);
  free(off);
  free(len);
  return 0;
}
