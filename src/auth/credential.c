#include "auth/credential.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/err.h"
#include "core/time.h"

#define CACHE_SLOTS 1024

typedef struct cache_slot {
  char key[65];
  char secret_hash[160];                    /* the stored hash the secret was verified against */
  uint8_t digest[crypto_generichash_BYTES]; /* keyed digest of the verified secret */
  int used;
} cache_slot;

struct mg_auth {
  mg_store *store;
  pthread_mutex_t lock;
  uint8_t mac_key[crypto_generichash_KEYBYTES]; /* per-process: the cache never holds secrets */
  cache_slot slots[CACHE_SLOTS];
};

int mg_auth_new(mg_store *store, mg_auth **out) {
  if (sodium_init() < 0) return MG_ECRYPTO;
  mg_auth *a = calloc(1, sizeof *a);
  if (!a) return MG_ENOMEM;
  a->store = store;
  pthread_mutex_init(&a->lock, NULL);
  randombytes_buf(a->mac_key, sizeof a->mac_key);
  *out = a;
  return MG_OK;
}

void mg_auth_free(mg_auth *a) {
  if (!a) return;
  pthread_mutex_destroy(&a->lock);
  sodium_memzero(a, sizeof *a);
  free(a);
}

int mg_auth_credential_create(mg_store *store, const char *platform_name, int64_t platform_id,
                              char key[64], char secret[64]) {
  if (sodium_init() < 0) return MG_ECRYPTO;
  uint8_t kb[10], sb[32];
  randombytes_buf(kb, sizeof kb);
  randombytes_buf(sb, sizeof sb);
  char hex[21];
  sodium_bin2hex(hex, sizeof hex, kb, sizeof kb);
  snprintf(key, 64, "pk_%s", hex);
  sodium_bin2base64(secret, 64, sb, sizeof sb, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  sodium_memzero(sb, sizeof sb);
  mg_store_credential c;
  memset(&c, 0, sizeof c);
  snprintf(c.key, sizeof c.key, "%s", key);
  snprintf(c.name, sizeof c.name, "%s", platform_name);
  c.platform_id = platform_id;
  c.enabled = 1;
  c.created_us = mg_time_now_us();
  if (crypto_pwhash_str(c.secret_hash, secret, strlen(secret), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
    return MG_ENOMEM;
  return mg_store_credential_create(store, &c, NULL);
}

static unsigned slot_of(const char *key) {
  unsigned h = 2166136261u;
  for (const char *p = key; *p; p++) h = (h ^ (unsigned char)*p) * 16777619u;
  return h % CACHE_SLOTS;
}

int mg_auth_basic_verify(mg_auth *a, const char *authorization, mg_store_credential *cred) {
  int rc = MG_EAUTH;
  char decoded[256];
  size_t dlen = 0;
  if (!authorization || strncasecmp(authorization, "Basic ", 6) != 0) return MG_EAUTH;
  const char *b64 = authorization + 6;
  while (*b64 == ' ') b64++;
  if (sodium_base642bin((unsigned char *)decoded, sizeof decoded - 1, b64, strlen(b64), " ", &dlen,
                        NULL, sodium_base64_VARIANT_ORIGINAL) != 0 &&
      sodium_base642bin((unsigned char *)decoded, sizeof decoded - 1, b64, strlen(b64), " ", &dlen,
                        NULL, sodium_base64_VARIANT_ORIGINAL_NO_PADDING) != 0)
    return MG_EAUTH;
  decoded[dlen] = '\0';
  if (strlen(decoded) != dlen) goto out; /* embedded NUL */
  char *colon = strchr(decoded, ':');
  if (!colon || colon == decoded || (size_t)(colon - decoded) > 64) goto out;
  *colon = '\0';
  const char *key = decoded, *secret = colon + 1;
  if (mg_store_credential_get(a->store, key, cred) != MG_OK || !cred->enabled) goto out;

  uint8_t digest[crypto_generichash_BYTES];
  crypto_generichash(digest, sizeof digest, (const unsigned char *)secret, strlen(secret),
                     a->mac_key, sizeof a->mac_key);
  unsigned si = slot_of(key);
  pthread_mutex_lock(&a->lock);
  cache_slot *s = &a->slots[si];
  int hit = s->used && strcmp(s->key, key) == 0 && strcmp(s->secret_hash, cred->secret_hash) == 0 &&
            sodium_memcmp(s->digest, digest, sizeof digest) == 0;
  pthread_mutex_unlock(&a->lock);
  if (hit) {
    rc = MG_OK;
    goto out;
  }
  if (crypto_pwhash_str_verify(cred->secret_hash, secret, strlen(secret)) != 0) goto out;
  pthread_mutex_lock(&a->lock);
  snprintf(s->key, sizeof s->key, "%.64s", key);
  snprintf(s->secret_hash, sizeof s->secret_hash, "%.159s", cred->secret_hash);
  memcpy(s->digest, digest, sizeof digest);
  s->used = 1;
  pthread_mutex_unlock(&a->lock);
  rc = MG_OK;
out:
  sodium_memzero(decoded, sizeof decoded);
  return rc;
}
