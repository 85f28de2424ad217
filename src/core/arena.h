/* core/arena.h — per-request memory arenas.
 *
 * Parsing a batch of statements creates tens of thousands of small values that all die together
 * when the request ends. An arena hands them out by bumping a pointer through large chunks and
 * frees them all at once, which is several times faster than malloc/free per value and cannot
 * leak a value on an error path. Not thread-safe: one arena per request or thread. */
#ifndef MG_CORE_ARENA_H
#define MG_CORE_ARENA_H

#include <stddef.h>

typedef struct mg_arena_chunk mg_arena_chunk;

typedef struct mg_arena {
  mg_arena_chunk *head; /* current chunk; older ones follow */
  size_t chunk_size;    /* default size of a new chunk */
  size_t used;          /* bytes handed out since init/reset, for accounting */
  size_t limit;         /* largest total the arena may hold (0 = unlimited) */
} mg_arena;

/* Initialises an empty arena whose chunks are chunk_size bytes (0 picks 64 KiB) and which refuses
 * to grow past limit bytes in all (0 = no limit). Allocates nothing yet. */
void mg_arena_init(mg_arena *a, size_t chunk_size, size_t limit);
/* Returns size bytes aligned to 16, or NULL when out of memory or past the limit. The memory
 * belongs to the arena: it is released by mg_arena_reset/mg_arena_free, never by free(). */
void *mg_arena_alloc(mg_arena *a, size_t size);
/* Like mg_arena_alloc, zero-filled. */
void *mg_arena_calloc(mg_arena *a, size_t size);
/* Copies n bytes into the arena and adds a NUL; NULL on failure. */
char *mg_arena_strndup(mg_arena *a, const char *s, size_t n);
/* Releases everything allocated, keeping the first chunk for reuse. */
void mg_arena_reset(mg_arena *a);
/* Releases everything; the arena is empty and may be reused. */
void mg_arena_free(mg_arena *a);

#endif
