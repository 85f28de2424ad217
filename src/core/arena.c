#include "core/arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct mg_arena_chunk {
  mg_arena_chunk *next;
  size_t size; /* usable bytes in data */
  size_t off;  /* next free byte */
  _Alignas(16) unsigned char data[];
};

void mg_arena_init(mg_arena *a, size_t chunk_size, size_t limit) {
  a->head = NULL;
  a->chunk_size = chunk_size ? chunk_size : 64 * 1024;
  a->used = 0;
  a->limit = limit;
}

void *mg_arena_alloc(mg_arena *a, size_t size) {
  size_t need = (size + 15) & ~(size_t)15;
  if (need < size) return NULL; /* overflow */
  if (a->limit && (need > a->limit || a->used > a->limit - need)) return NULL;
  mg_arena_chunk *c = a->head;
  if (!c || c->size - c->off < need) {
    size_t sz = need > a->chunk_size / 4 ? need : a->chunk_size;
    if (sz > SIZE_MAX - sizeof *c) return NULL;
    mg_arena_chunk *n = malloc(sizeof *n + sz);
    if (!n) return NULL;
    n->size = sz;
    n->off = 0;
    if (c && sz == need && c->size - c->off > n->size / 2) {
      /* an oversized block: keep filling the current chunk, slot the big one behind it */
      n->next = c->next;
      c->next = n;
      n->off = need;
      a->used += need;
      return n->data;
    }
    n->next = c;
    a->head = c = n;
  }
  void *p = c->data + c->off;
  c->off += need;
  a->used += need;
  return p;
}

void *mg_arena_calloc(mg_arena *a, size_t size) {
  void *p = mg_arena_alloc(a, size);
  if (p) memset(p, 0, size);
  return p;
}

char *mg_arena_strndup(mg_arena *a, const char *s, size_t n) {
  char *p = mg_arena_alloc(a, n + 1);
  if (!p) return NULL;
  memcpy(p, s, n);
  p[n] = '\0';
  return p;
}

void mg_arena_reset(mg_arena *a) {
  mg_arena_chunk *c = a->head;
  if (!c) return;
  /* keep the last (oldest) chunk of the default size, free the rest */
  mg_arena_chunk *keep = NULL;
  while (c) {
    mg_arena_chunk *next = c->next;
    if (!keep && c->size == a->chunk_size) {
      keep = c;
    } else {
      free(c);
    }
    c = next;
  }
  if (keep) {
    keep->next = NULL;
    keep->off = 0;
  }
  a->head = keep;
  a->used = 0;
}

void mg_arena_free(mg_arena *a) {
  mg_arena_chunk *c = a->head;
  while (c) {
    mg_arena_chunk *next = c->next;
    free(c);
    c = next;
  }
  a->head = NULL;
  a->used = 0;
}
