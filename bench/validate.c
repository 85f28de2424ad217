/* bench/validate.c — throughput of statement parsing + validation on one core.
 *
 * Builds a pool of realistic ~1.4 KB statements (a MOOC quiz answer with context, result and
 * Chinese text; every one with its own ids, scores and timestamps), then, cycling through the
 * pool 200,000 times each:
 *   - parses with mg_json_parse into an arena reset per statement and validates: the
 *     per-statement work of the ingest path;
 *   - parses only, and validates only (statements parsed beforehand), to split the cost;
 *   - for comparison only, parses with jansson (JSON_REJECT_DUPLICATES, what the LRS used before
 *     core/json.h); the validator no longer takes jansson trees, so this is parse cost alone.
 *     Build with -DMG_BENCH_NO_JANSSON to drop it once the project no longer links jansson.
 * Figures are statements per wall-clock second and per CPU second of this process (the latter is
 * what one core sustains even when the machine is busy with other work), and µs per statement. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef MG_BENCH_NO_JANSSON
#include <jansson.h>
#endif

#include "core/arena.h"
#include "core/err.h"
#include "core/json.h"
#include "core/time.h"
#include "core/uuid.h"
#include "xapi/validate.h"

#define N_STATEMENTS 200000
#define POOL 4096
#define TEXT_MAX 2048

#define TEMPLATE                                                                                   \
  "{\"id\":\"%s\","                                                                                \
  "\"actor\":{\"objectType\":\"Agent\",\"name\":\"学生%05u\",\"account\":{\"homePage\":"         \
  "\"https://sso.example.edu.cn\",\"name\":\"23%08u\"}},"                                          \
  "\"verb\":{\"id\":\"http://adlnet.gov/expapi/verbs/answered\",\"display\":{\"en-US\":"           \
  "\"answered\",\"zh-CN\":\"回答\"}},"                                                           \
  "\"object\":{\"objectType\":\"Activity\",\"id\":\"https://mooc.example.edu.cn/courses/"          \
  "calculus-%u/quiz/%u/q/%u\",\"definition\":{\"name\":{\"zh-CN\":\"第%u题\",\"en-US\":"         \
  "\"Question %u\"},\"type\":\"http://adlnet.gov/expapi/activities/cmi.interaction\","             \
  "\"interactionType\":\"choice\",\"correctResponsesPattern\":[\"b\"],\"choices\":["               \
  "{\"id\":\"a\",\"description\":{\"zh-CN\":\"选项甲\"}},{\"id\":\"b\",\"description\":"        \
  "{\"zh-CN\":\"选项乙\"}},{\"id\":\"c\",\"description\":{\"zh-CN\":\"选项丙\"}}]}},"        \
  "\"result\":{\"score\":{\"scaled\":%.2f,\"raw\":%u,\"min\":0,\"max\":10},\"success\":%s,"        \
  "\"completion\":true,\"response\":\"%c\",\"duration\":\"PT%uM%u.%02uS\",\"extensions\":"         \
  "{\"https://moocguard.cn/xapi/ext/proctoring\":{\"faceMatch\":0.%02u,\"tabSwitches\":%u}}},"     \
  "\"context\":{\"registration\":\"%s\",\"instructor\":{\"name\":\"李老师\",\"mbox\":"          \
  "\"mailto:teacher%u@example.edu.cn\"},\"contextActivities\":{\"parent\":[{\"id\":"               \
  "\"https://mooc.example.edu.cn/courses/calculus-%u/quiz/%u\"}],\"grouping\":[{\"id\":"           \
  "\"https://mooc.example.edu.cn/courses/calculus-%u\"}],\"category\":[{\"id\":"                   \
  "\"https://w3id.org/xapi/cmi5/context/categories/moveon\"}]},\"platform\":\"moocguard\","        \
  "\"language\":\"zh-CN\"},"                                                                       \
  "\"timestamp\":\"2024-05-%02uT%02u:%02u:%02u.%03u+08:00\"}"

static uint32_t rng_state = 2463534242u;
static uint32_t rnd(void) { /* xorshift32: reproducible, no libc rand state */
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 17;
  rng_state ^= rng_state << 5;
  return rng_state;
}

static int64_t cpu_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int make_statement(char *out, size_t cap) {
  uint8_t u[16];
  char id[MG_UUID_STR_LEN], reg[MG_UUID_STR_LEN];
  mg_uuid_v4(u);
  mg_uuid_format(u, id);
  mg_uuid_v4(u);
  mg_uuid_format(u, reg);
  unsigned student = rnd() % 100000, course = rnd() % 50, quiz = rnd() % 20, q = rnd() % 30;
  unsigned raw = rnd() % 11;
  int n = snprintf(out, cap, TEMPLATE, id, student, student, course, quiz, q, q + 1, q + 1,
                   raw / 10.0, raw, raw >= 6 ? "true" : "false", "abc"[rnd() % 3], rnd() % 10,
                   rnd() % 60, rnd() % 100, rnd() % 100, rnd() % 5, reg, rnd() % 40, course, quiz,
                   course, 1 + rnd() % 28, rnd() % 24, rnd() % 60, rnd() % 60, rnd() % 1000);
  return n > 0 && (size_t)n < cap ? MG_OK : MG_ETOOBIG;
}

/* A timed run: wall and CPU microseconds. */
typedef struct timing {
  int64_t wall, cpu;
} timing;

static timing t_start(void) { return (timing){mg_time_mono_us(), cpu_us()}; }

static timing t_stop(timing s) {
  return (timing){mg_time_mono_us() - s.wall, cpu_us() - s.cpu};
}

static double us_each(timing t) { return (double)t.cpu / N_STATEMENTS; }

static void show(const char *label, timing t) {
  double w = (double)t.wall / 1e6, c = (double)t.cpu / 1e6;
  printf("  %-34s %8.0f statements/s wall, %8.0f statements/CPU-s (%5.2f us each)\n", label,
         N_STATEMENTS / w, N_STATEMENTS / c, us_each(t));
}

int main(void) {
  int rc = 1;
  char **texts = calloc(POOL, sizeof *texts);
  size_t *lens = calloc(POOL, sizeof *lens);
  mg_json **parsed = calloc(POOL, sizeof *parsed);
  mg_arena a, pool_arena;
  mg_arena_init(&a, 0, 0);
  mg_arena_init(&pool_arena, 0, 0);
  size_t total_bytes = 0;
  mg_xapi_error err;
  mg_json_error je;
  timing t;
  if (!texts || !lens || !parsed) {
    fprintf(stderr, "out of memory\n");
    goto out;
  }
  for (size_t i = 0; i < POOL; i++) {
    texts[i] = malloc(TEXT_MAX);
    if (!texts[i] || make_statement(texts[i], TEXT_MAX) != MG_OK) {
      fprintf(stderr, "cannot build statement %zu\n", i);
      goto out;
    }
    lens[i] = strlen(texts[i]);
    total_bytes += lens[i];
  }
  printf("pool: %d statements, average %zu bytes; %d statements per run\n", POOL,
         total_bytes / POOL, N_STATEMENTS);

  /* parsing alone does not depend on the xAPI version */
  printf("parse only:\n");
  t = t_start();
  for (long i = 0; i < N_STATEMENTS; i++) {
    if (!mg_json_parse(&a, texts[i % POOL], lens[i % POOL], 0, &je)) {
      fprintf(stderr, "mg_json parse error at %d:%d: %s\n", je.line, je.column, je.text);
      goto out;
    }
    mg_arena_reset(&a);
  }
  timing t_mg_parse = t_stop(t);
  show("mg_json_parse (arena reset each)", t_mg_parse);
#ifndef MG_BENCH_NO_JANSSON
  t = t_start();
  for (long i = 0; i < N_STATEMENTS; i++) {
    json_error_t jje;
    json_t *j = json_loadb(texts[i % POOL], lens[i % POOL], JSON_REJECT_DUPLICATES, &jje);
    if (!j) {
      fprintf(stderr, "jansson parse error: %s\n", jje.text);
      goto out;
    }
    json_decref(j);
  }
  timing t_jansson_parse = t_stop(t);
  show("[comparison] jansson json_loadb", t_jansson_parse);
  printf("  mg_json_parse is %.1fx faster than jansson per CPU-s\n",
         us_each(t_jansson_parse) / us_each(t_mg_parse));
#endif

  for (size_t i = 0; i < POOL; i++) {
    parsed[i] = mg_json_parse(&pool_arena, texts[i], lens[i], 0, &je);
    if (!parsed[i]) {
      fprintf(stderr, "mg_json parse error in statement %zu: %s\n", i, je.text);
      goto out;
    }
  }

  for (int vi = 0; vi < 2; vi++) {
    mg_xapi_version v = vi ? MG_XAPI_V200 : MG_XAPI_V103;
    printf("xAPI %s:\n", v == MG_XAPI_V200 ? "2.0.0" : "1.0.3");
    /* parse + validate, the per-statement work of the ingest path */
    t = t_start();
    for (long i = 0; i < N_STATEMENTS; i++) {
      mg_json *j = mg_json_parse(&a, texts[i % POOL], lens[i % POOL], 0, &je);
      if (!j) {
        fprintf(stderr, "parse error: %s\n", je.text);
        goto out;
      }
      int vrc = mg_xapi_validate_statement(j, v, "", &err);
      mg_arena_reset(&a);
      if (vrc != MG_OK) {
        fprintf(stderr, "statement %ld rejected: %s: %s\n", i, err.path, err.message);
        goto out;
      }
    }
    show("parse+validate (mg_json)", t_stop(t));

    /* validation alone, on statements parsed beforehand */
    t = t_start();
    for (long i = 0; i < N_STATEMENTS; i++)
      if (mg_xapi_validate_statement(parsed[i % POOL], v, "", &err) != MG_OK) {
        fprintf(stderr, "statement %ld rejected: %s: %s\n", i, err.path, err.message);
        goto out;
      }
    show("validate only", t_stop(t));
  }
  rc = 0;
out:
  if (texts)
    for (size_t i = 0; i < POOL; i++) free(texts[i]);
  free(texts);
  free(lens);
  free(parsed);
  mg_arena_free(&a);
  mg_arena_free(&pool_arena);
  return rc;
}
