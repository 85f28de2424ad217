/* detect/hmap_int.h — the open-addressing hash map of the detection engine (private to detect/).
 *
 * Keys are non-zero 64-bit hashes (the callers' keys are already well mixed, so the low bits
 * index the table directly), values 32-bit indexes into the caller's own record pools. Linear
 * probing at a load factor of at most 0.7, doubling from 64 slots; deletion shifts the run back
 * so no tombstones accumulate in tables that see millions of inserts and deletes (sessions,
 * faces). Header-only: engine.c and personfit.c each get their own static copy, inlined on the
 * hot path. Not thread-safe. */
#ifndef MG_DETECT_HMAP_INT_H
#define MG_DETECT_HMAP_INT_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"

/* Open-addressing map from a non-zero 64-bit key to a 32-bit index; backward-shift deletion. */
typedef struct hmap {
  uint64_t *k;
  uint32_t *v;
  size_t cap, n;
} hmap;

static inline void hm_free(hmap *m) {
  free(m->k);
  free(m->v);
  memset(m, 0, sizeof *m);
}

static inline int hm_grow(hmap *m) {
  size_t ncap = m->cap ? m->cap * 2 : 64;
  uint64_t *nk = calloc(ncap, sizeof *nk);
  uint32_t *nv = malloc(ncap * sizeof *nv);
  if (!nk || !nv) {
    free(nk);
    free(nv);
    return MG_ENOMEM;
  }
  for (size_t i = 0; i < m->cap; i++) {
    if (!m->k[i]) continue;
    size_t j = m->k[i] & (ncap - 1);
    while (nk[j]) j = (j + 1) & (ncap - 1);
    nk[j] = m->k[i];
    nv[j] = m->v[i];
  }
  free(m->k);
  free(m->v);
  m->k = nk;
  m->v = nv;
  m->cap = ncap;
  return MG_OK;
}

static inline uint32_t *hm_get(const hmap *m, uint64_t key) {
  if (!m->cap) return NULL;
  size_t j = key & (m->cap - 1);
  while (m->k[j]) {
    if (m->k[j] == key) return &m->v[j];
    j = (j + 1) & (m->cap - 1);
  }
  return NULL;
}

static inline int hm_put(hmap *m, uint64_t key, uint32_t val) {
  if ((m->n + 1) * 10 > m->cap * 7 && hm_grow(m)) return MG_ENOMEM;
  size_t j = key & (m->cap - 1);
  while (m->k[j] && m->k[j] != key) j = (j + 1) & (m->cap - 1);
  if (!m->k[j]) m->n++;
  m->k[j] = key;
  m->v[j] = val;
  return MG_OK;
}

static inline void hm_del(hmap *m, uint64_t key) {
  if (!m->cap) return;
  size_t mask = m->cap - 1, j = key & mask;
  while (m->k[j] && m->k[j] != key) j = (j + 1) & mask;
  if (!m->k[j]) return;
  m->k[j] = 0;
  m->n--;
  for (size_t i = (j + 1) & mask; m->k[i]; i = (i + 1) & mask) {
    size_t home = m->k[i] & mask;
    /* move back if its home is not in (j, i] */
    if ((i > j && (home <= j || home > i)) || (i < j && (home <= j && home > i))) {
      m->k[j] = m->k[i];
      m->v[j] = m->v[i];
      m->k[i] = 0;
      j = i;
    }
  }
}

#endif
