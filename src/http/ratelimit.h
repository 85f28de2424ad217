/* http/ratelimit.h — token-bucket rate limits per client key (IP address, credential, user).
 *
 * Each key has a bucket holding up to `burst` tokens that refills at `rate` tokens per second;
 * a request takes one token or is refused with the number of seconds after which one will be
 * there (for Retry-After). Memory is fixed at creation: buckets live in a table of 8-way sets
 * indexed by a keyed SipHash of the key (the key is random per process, so clients cannot aim
 * many keys at one set). When a set is full the bucket closest to full is evicted — a full bucket
 * is indistinguishable from a new one, so eviction forgets as little as possible. Every operation
 * touches one set under that set's lock: O(1) and thread-safe. */
#ifndef MG_HTTP_RATELIMIT_H
#define MG_HTTP_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

typedef struct mg_ratelimit mg_ratelimit;

/* Creates a limiter: rate tokens per second (> 0), burst tokens at most (>= 1), room for about
 * `buckets` keys (rounded up to a power of two, at least 64). *out owns it (mg_ratelimit_free).
 * MG_EINVAL for a bad rate/burst, MG_ENOMEM. */
int mg_ratelimit_new(double rate, double burst, size_t buckets, mg_ratelimit **out);
void mg_ratelimit_free(mg_ratelimit *rl);

/* Takes one token from key's bucket at monotonic time now_us. MG_OK when allowed; MG_EBUSY when
 * the bucket is empty, with *retry_after_s (may be NULL) set to the whole seconds (>= 1) until a
 * token is available. */
int mg_ratelimit_take(mg_ratelimit *rl, const void *key, size_t keylen, int64_t now_us,
                      int *retry_after_s);

/* Number of keys currently tracked (for tests and metrics). */
size_t mg_ratelimit_tracked(mg_ratelimit *rl);

#endif
