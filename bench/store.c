/* bench/store.c — throughput of mg_store_stmt_insert and latency of typical GET queries.
 *
 *   bench_store insert [-d DIR] [-n N] [-t THREADS] [-b BATCH]
 *       fresh store, N realistic statements (~1 KB, 3 agents, 4 activities each) pre-generated,
 *       then inserted from THREADS threads in batches of BATCH; prints statements/s.
 *   bench_store build [-d DIR] [-s SIZE] [-t THREADS] [-b BATCH] [-q N]
 *       builds DIR/big.db with SIZE statements (default 5,000,000; generated on the fly, so the
 *       rate printed includes generating them), then runs the queries below.
 *   bench_store query [-d DIR] [-q N]
 *       runs N (default 300) of each typical query (limit 100) against DIR/big.db, after 20
 *       warm-up runs of each; prints p50/p99/max latency and the rows returned.
 *
 * Data model: learners (SIZE/50 of them) on 8 platforms, 200 courses of 50 activities, 12 verbs;
 * each learner takes 5 courses with one registration per course. */
#include <inttypes.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/time.h"
#include "core/uuid.h"
#include "store/store.h"

#define COURSES 200
#define ACTS_PER_COURSE 50
#define PROGRAMS 20
#define PLATFORMS 8
#define NVERBS 12
#define COURSES_PER_LEARNER 5
#define JSON_MAX 2048

static const char *const VERBS[NVERBS] = {
    "http://adlnet.gov/expapi/verbs/experienced", "http://adlnet.gov/expapi/verbs/attempted",
    "http://adlnet.gov/expapi/verbs/completed",   "http://adlnet.gov/expapi/verbs/passed",
    "http://adlnet.gov/expapi/verbs/failed",      "http://adlnet.gov/expapi/verbs/answered",
    "http://adlnet.gov/expapi/verbs/interacted",  "http://adlnet.gov/expapi/verbs/launched",
    "http://adlnet.gov/expapi/verbs/progressed",  "http://adlnet.gov/expapi/verbs/scored",
    "http://adlnet.gov/expapi/verbs/commented",   "http://adlnet.gov/expapi/verbs/terminated"};
static const char *const CATEGORIES[3] = {"https://w3id.org/xapi/cmi5/context/categories/moveon",
                                          "https://w3id.org/xapi/video",
                                          "https://w3id.org/xapi/scorm"};

/* String tables shared by all generators. */
static char **learner_keys, **activity_iris, **course_iris, **program_iris, **instructor_keys,
    **platform_keys;
static int64_t n_learners;

static uint64_t splitmix(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static char *xstrdup_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xstrdup_printf(const char *fmt, ...) {
  mg_buf b;
  mg_buf_init(&b, 4096);
  va_list ap;
  va_start(ap, fmt);
  int rc = mg_buf_vaddf(&b, fmt, ap);
  va_end(ap);
  char *s = rc ? NULL : mg_buf_take(&b);
  if (!s) {
    fprintf(stderr, "out of memory\n");
    exit(1);
  }
  return s;
}

static char **table(size_t n) {
  char **t = calloc(n, sizeof *t);
  if (!t) {
    fprintf(stderr, "out of memory\n");
    exit(1);
  }
  return t;
}

static void tables_init(int64_t size) {
  n_learners = size / 50 < 1000 ? 1000 : size / 50;
  learner_keys = table((size_t)n_learners);
  for (int64_t l = 0; l < n_learners; l++)
    learner_keys[l] = xstrdup_printf("account:https://p%d.mooc.example.cn\x1fu%07" PRId64,
                                     (int)(l % PLATFORMS), l);
  activity_iris = table(COURSES * ACTS_PER_COURSE);
  for (int a = 0; a < COURSES * ACTS_PER_COURSE; a++)
    activity_iris[a] = xstrdup_printf("https://mooc.example.cn/course/%d/unit/%d",
                                      a / ACTS_PER_COURSE, a % ACTS_PER_COURSE);
  course_iris = table(COURSES);
  instructor_keys = table(COURSES);
  for (int c = 0; c < COURSES; c++) {
    course_iris[c] = xstrdup_printf("https://mooc.example.cn/course/%d", c);
    instructor_keys[c] = xstrdup_printf("mbox:mailto:teacher%d@university.example.cn", c);
  }
  program_iris = table(PROGRAMS);
  for (int p = 0; p < PROGRAMS; p++)
    program_iris[p] = xstrdup_printf("https://mooc.example.cn/program/%d", p);
  platform_keys = table(PLATFORMS);
  for (int p = 0; p < PLATFORMS; p++)
    platform_keys[p] = xstrdup_printf("account:https://lrs.example.cn\x1fplatform-%d", p);
}

static int learner_course(int64_t learner, int k) {
  return (int)((learner * 7 + k * 37) % COURSES);
}

static void registration_of(int64_t learner, int course, uint8_t out[16]) {
  uint64_t x = (uint64_t)learner * 1000003u + (uint64_t)course;
  uint64_t a = splitmix(&x), b = splitmix(&x);
  memcpy(out, &a, 8);
  memcpy(out + 8, &b, 8);
  out[6] = (uint8_t)((out[6] & 0x0f) | 0x40);
  out[8] = (uint8_t)((out[8] & 0x3f) | 0x80);
}

/* One generated statement and the storage its pointers refer to. */
typedef struct gen {
  mg_store_stmt st;
  const char *agents[3];
  const char *acts[4];
  char *json; /* JSON_MAX bytes */
} gen;

/* Fills g with statement number i, stored at stored_us. */
static void generate(gen *g, uint64_t i, int64_t stored_us) {
  uint64_t x = i * 0x2545f4914f6cdd1dull + 17;
  int64_t learner = (int64_t)(splitmix(&x) % (uint64_t)n_learners);
  int course = learner_course(learner, (int)(splitmix(&x) % COURSES_PER_LEARNER));
  int act = course * ACTS_PER_COURSE + (int)(splitmix(&x) % ACTS_PER_COURSE);
  int verb = (int)(splitmix(&x) % NVERBS);
  int cat = (int)(splitmix(&x) % 3);
  int platform = (int)(learner % PLATFORMS);
  double scaled = (double)(splitmix(&x) % 1001) / 1000.0;
  mg_store_stmt *st = &g->st;
  memset(st, 0, sizeof *st);
  uint64_t a = splitmix(&x), b = splitmix(&x);
  memcpy(st->id, &a, 8);
  memcpy(st->id + 8, &b, 8);
  st->id[6] = (uint8_t)((st->id[6] & 0x0f) | 0x40);
  st->id[8] = (uint8_t)((st->id[8] & 0x3f) | 0x80);
  st->stored_us = stored_us;
  st->timestamp_us = stored_us - (int64_t)(splitmix(&x) % 600000000);
  st->actor_key = learner_keys[learner];
  st->verb_id = VERBS[verb];
  st->object_activity_id = activity_iris[act];
  st->has_registration = 1;
  registration_of(learner, course, st->registration);
  g->agents[0] = learner_keys[learner];
  g->agents[1] = instructor_keys[course];
  g->agents[2] = platform_keys[platform];
  st->related_agents = g->agents;
  st->n_related_agents = 3;
  g->acts[0] = activity_iris[act];
  g->acts[1] = course_iris[course];
  g->acts[2] = program_iris[course % PROGRAMS];
  g->acts[3] = CATEGORIES[cat];
  st->related_activities = g->acts;
  st->n_related_activities = 4;
  for (int k = 0; k < 4; k++) {
    uint64_t h = splitmix(&x);
    memcpy(st->cmp_hash + 8 * k, &h, 8);
  }
  st->platform_id = platform + 1;

  char id[MG_UUID_STR_LEN], reg[MG_UUID_STR_LEN], ts[MG_TIME_ISO_LEN], sd[MG_TIME_ISO_LEN];
  mg_uuid_format(st->id, id);
  mg_uuid_format(st->registration, reg);
  mg_time_format_iso(st->timestamp_us, 3, ts);
  mg_time_format_iso(st->stored_us, 3, sd);
  int n = snprintf(
      g->json, JSON_MAX,
      "{\"id\":\"%s\",\"actor\":{\"objectType\":\"Agent\",\"name\":\"Learner %07" PRId64 "\","
      "\"account\":{\"homePage\":\"https://p%d.mooc.example.cn\",\"name\":\"u%07" PRId64 "\"}},"
      "\"verb\":{\"id\":\"%s\",\"display\":{\"en-US\":\"verb %d\",\"zh-CN\":\"动作 %d\"}},"
      "\"object\":{\"objectType\":\"Activity\",\"id\":\"%s\",\"definition\":{\"type\":"
      "\"http://adlnet.gov/expapi/activities/lesson\",\"name\":{\"en-US\":\"Unit %d of course %d\","
      "\"zh-CN\":\"第%d单元\"},\"description\":{\"en-US\":\"A lesson of the course, with video, "
      "reading and a short quiz that counts towards the final grade.\"}}},"
      "\"result\":{\"score\":{\"scaled\":%.3f,\"raw\":%d,\"min\":0,\"max\":100},\"success\":%s,"
      "\"completion\":true,\"duration\":\"PT%dM%dS\"},"
      "\"context\":{\"registration\":\"%s\",\"instructor\":{\"objectType\":\"Agent\","
      "\"mbox\":\"mailto:teacher%d@university.example.cn\"},\"platform\":\"platform-%d\","
      "\"language\":\"zh-CN\",\"contextActivities\":{\"parent\":[{\"id\":\"%s\"}],"
      "\"grouping\":[{\"id\":\"%s\"}],\"category\":[{\"id\":\"%s\"}]},"
      "\"extensions\":{\"https://mooc.example.cn/ext/session\":\"%016" PRIx64 "\"}},"
      "\"timestamp\":\"%s\",\"stored\":\"%s\",\"authority\":{\"objectType\":\"Agent\","
      "\"account\":{\"homePage\":\"https://lrs.example.cn\",\"name\":\"platform-%d\"}},"
      "\"version\":\"1.0.0\"}",
      id, learner, platform, learner, VERBS[verb], verb, verb, activity_iris[act],
      act % ACTS_PER_COURSE, course, act % ACTS_PER_COURSE, scaled, (int)(scaled * 100),
      scaled >= 0.6 ? "true" : "false", (int)(splitmix(&x) % 60), (int)(splitmix(&x) % 60), reg,
      course, platform, course_iris[course], program_iris[course % PROGRAMS], CATEGORIES[cat],
      splitmix(&x), ts, sd, platform);
  st->json = g->json;
  st->json_len = n < 0 ? 0 : (size_t)n >= JSON_MAX ? JSON_MAX - 1 : (size_t)n;
}

/* ---- insert ------------------------------------------------------------------------------- */

typedef struct worker {
  mg_store *s;
  gen *g;           /* pre-generated (insert) or NULL (build: generate per batch) */
  uint64_t first, n; /* statement numbers [first, first + n) */
  size_t batch;
  int rc;
  uint64_t *progress; /* shared counter (build) */
  pthread_mutex_t *mu;
} worker;

static void *insert_worker(void *p) {
  worker *w = p;
  mg_store_stmt *b = calloc(w->batch, sizeof *b);
  gen *tmp = NULL;
  char *jsons = NULL;
  if (!b) {
    w->rc = MG_ENOMEM;
    return NULL;
  }
  if (!w->g) {
    tmp = calloc(w->batch, sizeof *tmp);
    jsons = malloc(w->batch * JSON_MAX);
    if (!tmp || !jsons) {
      w->rc = MG_ENOMEM;
      goto out;
    }
    for (size_t k = 0; k < w->batch; k++) tmp[k].json = jsons + k * JSON_MAX;
  }
  for (uint64_t i = 0; i < w->n; i += w->batch) {
    size_t m = w->n - i < w->batch ? (size_t)(w->n - i) : w->batch;
    int64_t now = mg_time_now_us();
    for (size_t k = 0; k < m; k++) {
      if (w->g) {
        b[k] = w->g[i + k].st;
      } else {
        generate(&tmp[k], w->first + i + k, now);
        b[k] = tmp[k].st;
      }
    }
    size_t bad = 0;
    int rc = mg_store_stmt_insert(w->s, b, m, NULL, &bad);
    if (rc) {
      fprintf(stderr, "insert failed: %s at %zu\n", mg_err_name(rc), bad);
      w->rc = rc;
      break;
    }
    if (w->progress) {
      pthread_mutex_lock(w->mu);
      *w->progress += m;
      pthread_mutex_unlock(w->mu);
    }
  }
out:
  free(b);
  free(tmp);
  free(jsons);
  return NULL;
}

static int open_fresh(const char *dir, const char *name, mg_store **s, char *path, size_t size) {
  mkdir(dir, 0755);
  snprintf(path, size, "%s/%s", dir, name);
  static const char *const sfx[] = {"", "-wal", "-shm"};
  for (int i = 0; i < 3; i++) {
    char p[1100];
    snprintf(p, sizeof p, "%s%s", path, sfx[i]);
    remove(p);
  }
  return mg_store_open(path, s, NULL);
}

static int run_insert(const char *dir, uint64_t n, int threads, size_t batch) {
  char path[1024];
  mg_store *s = NULL;
  tables_init((int64_t)n);
  int rc = open_fresh(dir, "insert.db", &s, path, sizeof path);
  if (rc) {
    fprintf(stderr, "open %s: %s\n", path, mg_err_name(rc));
    return 1;
  }
  printf("generating %" PRIu64 " statements...\n", n);
  gen *g = calloc(n, sizeof *g);
  char *jsons = malloc(n * JSON_MAX);
  if (!g || !jsons) {
    fprintf(stderr, "out of memory\n");
    return 1;
  }
  int64_t now = mg_time_now_us();
  size_t bytes = 0;
  for (uint64_t i = 0; i < n; i++) {
    g[i].json = jsons + i * JSON_MAX;
    generate(&g[i], i, now + (int64_t)i);
    g[i].st.related_agents = g[i].agents; /* the struct moved into place: re-point */
    g[i].st.related_activities = g[i].acts;
    bytes += g[i].st.json_len;
  }
  printf("average JSON %zu bytes; inserting from %d threads in batches of %zu\n", bytes / n,
         threads, batch);
  pthread_t th[64];
  worker w[64];
  uint64_t per = n / (uint64_t)threads;
  int64_t t0 = mg_time_mono_us();
  for (int i = 0; i < threads; i++) {
    uint64_t first = per * (uint64_t)i;
    uint64_t cnt = i == threads - 1 ? n - first : per;
    w[i] = (worker){s, g + first, first, cnt, batch, 0, NULL, NULL};
    pthread_create(&th[i], NULL, insert_worker, &w[i]);
  }
  int failed = 0;
  for (int i = 0; i < threads; i++) {
    pthread_join(th[i], NULL);
    failed |= w[i].rc != 0;
  }
  int64_t t1 = mg_time_mono_us();
  int64_t count = 0;
  mg_store_stmt_count(s, &count);
  double secs = (double)(t1 - t0) / 1e6;
  printf("insert: %" PRIu64 " statements, %d threads, batch %zu: %.2f s, %.0f statements/s "
         "(count %" PRId64 ")%s\n",
         n, threads, batch, secs, (double)n / secs, count, failed ? " FAILED" : "");
  mg_store_close(s);
  free(g);
  free(jsons);
  return failed;
}

static int run_build(const char *dir, uint64_t size, int threads, size_t batch) {
  char path[1024];
  mg_store *s = NULL;
  tables_init((int64_t)size);
  int rc = open_fresh(dir, "big.db", &s, path, sizeof path);
  if (rc) {
    fprintf(stderr, "open %s: %s\n", path, mg_err_name(rc));
    return 1;
  }
  pthread_t th[64];
  worker w[64];
  uint64_t progress = 0, per = size / (uint64_t)threads;
  pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
  int64_t t0 = mg_time_mono_us();
  for (int i = 0; i < threads; i++) {
    uint64_t first = per * (uint64_t)i;
    uint64_t cnt = i == threads - 1 ? size - first : per;
    w[i] = (worker){s, NULL, first, cnt, batch, 0, &progress, &mu};
    pthread_create(&th[i], NULL, insert_worker, &w[i]);
  }
  /* Remember when 90% was reached: "since" for the verb+since query. */
  int since_set = 0;
  uint64_t next_report = size / 10;
  for (;;) {
    struct timespec ts = {0, 200000000};
    nanosleep(&ts, NULL);
    pthread_mutex_lock(&mu);
    uint64_t done = progress;
    pthread_mutex_unlock(&mu);
    if (!since_set && done >= size / 10 * 9) {
      char v[32];
      snprintf(v, sizeof v, "%" PRId64, mg_time_now_us());
      mg_store_setting_set(s, "bench.since_us", v);
      since_set = 1;
    }
    if (done >= next_report) {
      double secs = (double)(mg_time_mono_us() - t0) / 1e6;
      printf("build: %" PRIu64 " / %" PRIu64 " in %.0f s (%.0f statements/s)\n", done, size, secs,
             (double)done / secs);
      fflush(stdout);
      while (next_report <= done) next_report += size / 10;
    }
    if (done >= size) break;
    int all_failed = 1;
    for (int i = 0; i < threads; i++) all_failed &= w[i].rc != 0;
    if (all_failed) break;
  }
  int failed = 0;
  for (int i = 0; i < threads; i++) {
    pthread_join(th[i], NULL);
    failed |= w[i].rc != 0;
  }
  double secs = (double)(mg_time_mono_us() - t0) / 1e6;
  char v[32];
  snprintf(v, sizeof v, "%" PRIu64, size);
  mg_store_setting_set(s, "bench.size", v);
  printf("build: %" PRIu64 " statements in %.0f s, %.0f statements/s%s\n", size, secs,
         (double)size / secs, failed ? " FAILED" : "");
  mg_store_close(s);
  return failed;
}

/* ---- queries ------------------------------------------------------------------------------ */

typedef struct qstat {
  size_t rows;
  size_t bytes;
} qstat;

static int count_row(void *ud, int64_t seq, const char *json, size_t len) {
  (void)seq;
  (void)json;
  qstat *q = ud;
  q->rows++;
  q->bytes += len;
  return MG_OK;
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

enum { K_AGENT, K_VERB_SINCE, K_COURSE_RELATED, K_REGISTRATION, K_INSTRUCTOR_RELATED, K_LATEST,
       K_AGENT_VERB, K_COURSE_PAGE2, K_TS_WINDOW, K_PLATFORM_VERB, K_KINDS };
static const char *const KIND_NAMES[K_KINDS] = {
    "agent (actor)", "verb + since", "activity(course) + related_activities", "registration",
    "agent(instructor) + related_agents", "no filter (latest)", "agent + verb",
    "course related, page 2 (cursor)", "timestamp window 1 min", "platform + verb"};

/* Builds query kind k, variant r. */
static void make_query(int k, uint64_t r, int64_t since, int64_t last_stored, mg_store_query *q,
                       mg_store *s) {
  uint64_t x = r * 7919 + (uint64_t)k;
  memset(q, 0, sizeof *q);
  q->limit = 100;
  int64_t learner = (int64_t)(splitmix(&x) % (uint64_t)n_learners);
  int course = (int)(splitmix(&x) % COURSES);
  switch (k) {
  case K_AGENT: q->agent_key = learner_keys[learner]; break;
  case K_VERB_SINCE:
    q->verb_id = VERBS[splitmix(&x) % NVERBS];
    q->has_since = 1;
    q->since_us = since;
    break;
  case K_COURSE_RELATED:
  case K_COURSE_PAGE2:
    q->activity_id = course_iris[course];
    q->related_activities = 1;
    if (k == K_COURSE_PAGE2) {
      qstat st = {0, 0};
      int more = 0;
      int64_t last = 0, snap = 0;
      mg_store_stmt_query(s, q, count_row, &st, &more, &last, &snap);
      q->after_seq = last;
      q->max_seq = snap;
    }
    break;
  case K_REGISTRATION:
    q->has_registration = 1;
    registration_of(learner, learner_course(learner, (int)(splitmix(&x) % 5)), q->registration);
    break;
  case K_INSTRUCTOR_RELATED:
    q->agent_key = instructor_keys[course];
    q->related_agents = 1;
    break;
  case K_LATEST: break;
  case K_AGENT_VERB:
    q->agent_key = learner_keys[learner];
    q->verb_id = VERBS[splitmix(&x) % NVERBS];
    break;
  case K_TS_WINDOW: {
    int64_t span = last_stored - since; /* about the last 10% of the build */
    q->has_ts_since = 1;
    q->ts_since_us = since - (int64_t)(splitmix(&x) % (uint64_t)(span > 1 ? span : 1));
    q->has_ts_until = 1;
    q->ts_until_us = q->ts_since_us + 60000000;
    break;
  }
  case K_PLATFORM_VERB:
    q->platform_id = 1 + (int64_t)(splitmix(&x) % PLATFORMS);
    q->verb_id = VERBS[splitmix(&x) % NVERBS];
    break;
  default: break;
  }
}

static int run_query(const char *dir, int iterations) {
  char path[1024];
  snprintf(path, sizeof path, "%s/big.db", dir);
  mg_store *s = NULL;
  int rc = mg_store_open(path, &s, NULL);
  if (rc) {
    fprintf(stderr, "open %s: %s\n", path, mg_err_name(rc));
    return 1;
  }
  char v[32];
  int64_t size = 0, since = 0, count = 0, last_stored = 0;
  if (mg_store_setting_get(s, "bench.size", v, sizeof v) == MG_OK) size = strtoll(v, NULL, 10);
  if (mg_store_setting_get(s, "bench.since_us", v, sizeof v) == MG_OK)
    since = strtoll(v, NULL, 10);
  mg_store_stmt_count(s, &count);
  mg_store_stmt_last_stored(s, &last_stored);
  if (!size) size = count;
  tables_init(size);
  printf("store %s: %" PRId64 " statements; %d queries of each kind, limit 100\n", path, count,
         iterations);
  int64_t *lat = calloc((size_t)iterations, sizeof *lat);
  if (!lat) return 1;
  printf("%-40s %9s %9s %9s %8s\n", "query", "p50 ms", "p99 ms", "max ms", "rows");
  for (int k = 0; k < K_KINDS; k++) {
    size_t rows = 0;
    for (int i = -20; i < iterations; i++) { /* 20 warm-up runs */
      mg_store_query q;
      make_query(k, (uint64_t)(i + 20), since, last_stored, &q, s);
      qstat st = {0, 0};
      int more = 0;
      int64_t t0 = mg_time_mono_us();
      rc = mg_store_stmt_query(s, &q, count_row, &st, &more, NULL, NULL);
      int64_t t1 = mg_time_mono_us();
      if (rc) {
        fprintf(stderr, "query failed: %s\n", mg_err_name(rc));
        return 1;
      }
      if (i >= 0) {
        lat[i] = t1 - t0;
        rows += st.rows;
      }
    }
    qsort(lat, (size_t)iterations, sizeof *lat, cmp_i64);
    printf("%-40s %9.3f %9.3f %9.3f %8.1f\n", KIND_NAMES[k], lat[iterations / 2] / 1000.0,
           lat[iterations * 99 / 100] / 1000.0, lat[iterations - 1] / 1000.0,
           (double)rows / iterations);
  }
  free(lat);
  mg_store_close(s);
  return 0;
}

static int parse_u64(const char *s, uint64_t *out) {
  char *end = NULL;
  long long v = strtoll(s, &end, 10);
  if (!s[0] || *end || v <= 0) return -1;
  *out = (uint64_t)v;
  return 0;
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "";
  const char *dir = "/tmp/mg-bench-store";
  uint64_t n = 400000, size = 5000000, threads = 4, batch = 100, queries = 300;
  int batch_given = 0;
  for (int i = 2; i < argc; i++) {
    uint64_t *dst = NULL;
    if (!strcmp(argv[i], "-d") && i + 1 < argc) {
      dir = argv[++i];
      continue;
    }
    if (!strcmp(argv[i], "-n")) dst = &n;
    else if (!strcmp(argv[i], "-s")) dst = &size;
    else if (!strcmp(argv[i], "-t")) dst = &threads;
    else if (!strcmp(argv[i], "-b")) dst = &batch, batch_given = 1;
    else if (!strcmp(argv[i], "-q")) dst = &queries;
    if (!dst || i + 1 >= argc || parse_u64(argv[++i], dst)) {
      fprintf(stderr, "bad argument %s\n", argv[i]);
      return 2;
    }
  }
  if (threads > 64) threads = 64;
  if (!strcmp(mode, "insert")) return run_insert(dir, n, (int)threads, (size_t)batch);
  if (!strcmp(mode, "build")) {
    int rc = run_build(dir, size, (int)threads, batch_given ? (size_t)batch : 500);
    return rc ? rc : run_query(dir, (int)queries);
  }
  if (!strcmp(mode, "query")) return run_query(dir, (int)queries);
  fprintf(stderr,
          "usage: %s insert [-d DIR] [-n N] [-t THREADS] [-b BATCH]\n"
          "       %s build  [-d DIR] [-s SIZE] [-t THREADS] [-b BATCH] [-q N]\n"
          "       %s query  [-d DIR] [-q N]\n",
          argv[0], argv[0], argv[0]);
  return 2;
}
