#include "http/ratelimit.h"

#include <math.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"

#define WAYS 8

typedef struct bucket {
  uint64_t tag;    /* keyed hash of the key; 0 = empty slot */
  double tokens;   /* as of last_us */
  int64_t last_us;
} bucket;

typedef struct set {
  pthread_mutex_t lock;
  bucket b[WAYS];
} set;

struct mg_ratelimit {
  double rate;  /* tokens per microsecond */
  double burst;
  size_t n_sets; /* power of two */
  unsigned char hkey[crypto_shorthash_KEYBYTES];
  set *sets;
};

int mg_ratelimit_new(double rate, double burst, size_t buckets, mg_ratelimit **out) {
  *out = NULL;
  if (!(rate > 0) || !(burst >= 1) || !isfinite(rate) || !isfinite(burst)) return MG_EINVAL;
  if (sodium_init() < 0) return MG_ECRYPTO;
  mg_ratelimit *rl = calloc(1, sizeof *rl);
  if (!rl) return MG_ENOMEM;
  size_t n = 8;
  while (n * WAYS < buckets && n < ((size_t)1 << 24)) n <<= 1;
  rl->sets = calloc(n, sizeof *rl->sets);
  if (!rl->sets) {
    free(rl);
    return MG_ENOMEM;
  }
  for (size_t i = 0; i < n; i++) pthread_mutex_init(&rl->sets[i].lock, NULL);
  rl->n_sets = n;
  rl->rate = rate / 1e6;
  rl->burst = burst;
  randombytes_buf(rl->hkey, sizeof rl->hkey);
  *out = rl;
  return MG_OK;
}

void mg_ratelimit_free(mg_ratelimit *rl) {
  if (!rl) return;
  for (size_t i = 0; i < rl->n_sets; i++) pthread_mutex_destroy(&rl->sets[i].lock);
  free(rl->sets);
  free(rl);
}

static double level(const mg_ratelimit *rl, const bucket *b, int64_t now_us) {
  double dt = now_us > b->last_us ? (double)(now_us - b->last_us) : 0;
  double t = b->tokens + dt * rl->rate;
  return t > rl->burst ? rl->burst : t;
}

int mg_ratelimit_take(mg_ratelimit *rl, const void *key, size_t keylen, int64_t now_us,
                      int *retry_after_s) {
  unsigned char h[crypto_shorthash_BYTES];
  crypto_shorthash(h, key, keylen, rl->hkey);
  uint64_t tag;
  memcpy(&tag, h, sizeof tag);
  if (tag == 0) tag = 1;
  set *s = &rl->sets[(tag >> 40) & (rl->n_sets - 1)];
  int rc = MG_OK;

  pthread_mutex_lock(&s->lock);
  bucket *b = NULL, *victim = NULL;
  double victim_level = -1;
  for (int i = 0; i < WAYS; i++) {
    bucket *c = &s->b[i];
    if (c->tag == tag) {
      b = c;
      break;
    }
    double l = c->tag ? level(rl, c, now_us) : rl->burst + 1; /* empty slots first */
    if (l > victim_level) {
      victim_level = l;
      victim = c;
    }
  }
  if (!b) { /* a new key starts full */
    b = victim;
    b->tag = tag;
    b->tokens = rl->burst;
    b->last_us = now_us;
  }
  double t = level(rl, b, now_us);
  if (now_us > b->last_us) b->last_us = now_us;
  if (t >= 1) {
    b->tokens = t - 1;
  } else {
    b->tokens = t;
    rc = MG_EBUSY;
    if (retry_after_s) {
      double wait_s = (1 - t) / rl->rate / 1e6;
      double up = ceil(wait_s - 1e-9); /* 5.9999999 or 6.0000001 s is 6 s */
      *retry_after_s = up < 1 ? 1 : up > 86400 ? 86400 : (int)up;
    }
  }
  pthread_mutex_unlock(&s->lock);
  return rc;
}

size_t mg_ratelimit_tracked(mg_ratelimit *rl) {
  size_t n = 0;
  for (size_t i = 0; i < rl->n_sets; i++) {
    pthread_mutex_lock(&rl->sets[i].lock);
    for (int j = 0; j < WAYS; j++) n += rl->sets[i].b[j].tag != 0;
    pthread_mutex_unlock(&rl->sets[i].lock);
  }
  return n;
}
