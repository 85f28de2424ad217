/* Token-bucket rate limits (http/ratelimit.h): burst, refill, Retry-After, bounded memory,
 * eviction that spares throttled keys, and exact accounting under concurrent callers. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "http/ratelimit.h"
#include "support.h"

#define SEC 1000000LL

static int take(mg_ratelimit *rl, const char *key, int64_t now, int *ra) {
  return mg_ratelimit_take(rl, key, strlen(key), now, ra);
}

static void burst_then_refill(void **state) {
  (void)state;
  mg_ratelimit *rl;
  assert_int_equal(mg_ratelimit_new(2, 5, 100, &rl), MG_OK); /* 2/s, burst 5 */
  int64_t t = 1000 * SEC;
  int ra = 0;
  for (int i = 0; i < 5; i++) assert_int_equal(take(rl, "10.0.0.1", t, &ra), MG_OK);
  assert_int_equal(take(rl, "10.0.0.1", t, &ra), MG_EBUSY);
  assert_int_equal(ra, 1); /* one token takes 0.5 s: rounded up to whole seconds */
  assert_int_equal(take(rl, "10.0.0.2", t, &ra), MG_OK); /* other keys unaffected */
  /* 0.4 s later: 0.8 token, still refused; 0.6 s: one token */
  assert_int_equal(take(rl, "10.0.0.1", t + 400000, &ra), MG_EBUSY);
  assert_int_equal(take(rl, "10.0.0.1", t + 600000, &ra), MG_OK);
  assert_int_equal(take(rl, "10.0.0.1", t + 600000, &ra), MG_EBUSY);
  /* a long pause refills to the burst, not beyond */
  t += 3600 * SEC;
  for (int i = 0; i < 5; i++) assert_int_equal(take(rl, "10.0.0.1", t, &ra), MG_OK);
  assert_int_equal(take(rl, "10.0.0.1", t, NULL), MG_EBUSY);
  /* time going backwards (another thread's older clock reading) never adds tokens */
  assert_int_equal(take(rl, "10.0.0.1", t - 10 * SEC, &ra), MG_EBUSY);
  mg_ratelimit_free(rl);

  /* slow rate: Retry-After says how long */
  assert_int_equal(mg_ratelimit_new(0.1, 1, 64, &rl), MG_OK);
  assert_int_equal(take(rl, "k", t, &ra), MG_OK);
  assert_int_equal(take(rl, "k", t, &ra), MG_EBUSY);
  assert_int_equal(ra, 10);
  assert_int_equal(take(rl, "k", t + 4 * SEC, &ra), MG_EBUSY);
  assert_int_equal(ra, 6);
  mg_ratelimit_free(rl);

  assert_int_equal(mg_ratelimit_new(0, 5, 64, &rl), MG_EINVAL);
  assert_int_equal(mg_ratelimit_new(1, 0.5, 64, &rl), MG_EINVAL);
}

static void memory_is_bounded_and_throttled_keys_survive(void **state) {
  (void)state;
  mg_ratelimit *rl;
  assert_int_equal(mg_ratelimit_new(1, 3, 256, &rl), MG_OK);
  int64_t t = 50 * SEC;
  /* exhaust one attacker key */
  for (int i = 0; i < 3; i++) assert_int_equal(take(rl, "attacker", t, NULL), MG_OK);
  assert_int_equal(take(rl, "attacker", t, NULL), MG_EBUSY);
  /* then 100,000 other keys each send one request: the table never grows past its size */
  char key[32];
  for (int i = 0; i < 100000; i++) {
    snprintf(key, sizeof key, "198.51.%d.%d", i / 256, i % 256);
    assert_int_equal(take(rl, key, t, NULL), MG_OK);
  }
  size_t tracked = mg_ratelimit_tracked(rl);
  assert_true(tracked <= 256);
  assert_true(tracked >= 200);
  /* the attacker's empty bucket was never the eviction victim (the others had 2 tokens left) */
  assert_int_equal(take(rl, "attacker", t, NULL), MG_EBUSY);
  mg_ratelimit_free(rl);
}

typedef struct worker {
  mg_ratelimit *rl;
  int64_t now;
  int allowed;
} worker;

static void *hammer(void *p) {
  worker *w = p;
  for (int i = 0; i < 20000; i++)
    if (take(w->rl, i % 2 ? "shared-a" : "shared-b", w->now, NULL) == MG_OK) w->allowed++;
  return NULL;
}

static void exact_under_concurrency(void **state) {
  (void)state;
  mg_ratelimit *rl;
  assert_int_equal(mg_ratelimit_new(1e-6, 1000, 64, &rl), MG_OK); /* no refill to speak of */
  worker w[8];
  pthread_t th[8];
  for (int i = 0; i < 8; i++) {
    w[i] = (worker){rl, 7 * SEC, 0};
    assert_int_equal(pthread_create(&th[i], NULL, hammer, &w[i]), 0);
  }
  int total = 0;
  for (int i = 0; i < 8; i++) {
    pthread_join(th[i], NULL);
    total += w[i].allowed;
  }
  assert_int_equal(total, 2000); /* exactly the two bursts, no token handed out twice */
  mg_ratelimit_free(rl);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(burst_then_refill),
      cmocka_unit_test(memory_is_bounded_and_throttled_keys_survive),
      cmocka_unit_test(exact_under_concurrency),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
