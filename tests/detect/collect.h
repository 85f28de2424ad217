/* tests/detect/collect.h — the finding collector every detector test uses: an engine whose sink
 * keeps the first COLLECT_CAP findings (and counts all), and lookups by student and type.
 * Include after <cmocka.h> and "seq.h". A file that needs more findings defines COLLECT_CAP first. */
#ifndef MG_TEST_DETECT_COLLECT_H
#define MG_TEST_DETECT_COLLECT_H

#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "detect/detect.h"

#ifndef COLLECT_CAP
#define COLLECT_CAP 64
#endif

typedef struct got {
  int n;
  mg_detect_finding f[COLLECT_CAP];
} got;

static inline int sink(void *ud, const mg_detect_finding *f) {
  got *g = ud;
  if (g->n < COLLECT_CAP) g->f[g->n] = *f;
  g->n++;
  return MG_OK;
}

static inline const mg_detect_finding *find(const got *g, const char *student, mg_detect_type t) {
  for (int i = 0; i < g->n && i < COLLECT_CAP; i++)
    if (g->f[i].type == t && !strcmp(g->f[i].student, student)) return &g->f[i];
  return NULL;
}

/* find() that fails the test when there is no such finding (and tells the compiler so). */
static inline const mg_detect_finding *must_find(const got *g, const char *student, mg_detect_type t) {
  const mg_detect_finding *f = find(g, student, t);
  if (!f) {
    fail_msg("no finding of type %d for %s", (int)t, student);
    abort();
  }
  return f;
}

/* A new engine (no store) whose findings go to g, emptied first. */
static inline mg_detect *engine(got *g) {
  mg_detect *d;
  memset(g, 0, sizeof *g);
  assert_int_equal(mg_detect_new(NULL, sink, g, &d), MG_OK);
  return d;
}

#endif
