/* cases/seal.c — HMAC-SM3 integrity tags (see seal.h for the key's interim home). */
#include "cases/seal.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "store/store_cases.h"

#define KEY_LEN 32

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

/* Reads the key, creating it on first use (in the caller's transaction, if any). */
static int get_key(mg_store *s, unsigned char key[KEY_LEN]) {
  char hex[2 * KEY_LEN + 1], cand[2 * KEY_LEN + 1];
  unsigned char k[KEY_LEN];
  int rc = MG_ECRYPTO;
  if (sodium_init() < 0) goto out;
  randombytes_buf(k, sizeof k);
  sodium_bin2hex(cand, sizeof cand, k, sizeof k);
  if ((rc = mg_store_cases_mac_key(s, cand, hex, sizeof hex))) goto out;
  if (strlen(hex) != 2 * KEY_LEN) {
    rc = MG_ECORRUPT;
    goto out;
  }
  for (int i = 0; i < KEY_LEN; i++) {
    int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      rc = MG_ECORRUPT;
      goto out;
    }
    key[i] = (unsigned char)(hi << 4 | lo);
  }
out:
  sodium_memzero(k, sizeof k);
  sodium_memzero(cand, sizeof cand);
  sodium_memzero(hex, sizeof hex);
  return rc;
}

static int hmac_sm3(const unsigned char *key, const char *domain, const void *data, size_t len,
                    unsigned char mac[32]) {
  int rc = MG_ECRYPTO;
  EVP_MAC *m = EVP_MAC_fetch(NULL, "HMAC", NULL);
  EVP_MAC_CTX *ctx = m ? EVP_MAC_CTX_new(m) : NULL;
  char digest[] = "SM3";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                         OSSL_PARAM_construct_end()};
  size_t outl = 0;
  if (!ctx || !EVP_MAC_init(ctx, key, KEY_LEN, params)) goto out;
  if (!EVP_MAC_update(ctx, (const unsigned char *)domain, strlen(domain) + 1)) goto out; /* NUL */
  if (len && !EVP_MAC_update(ctx, data, len)) goto out;
  if (!EVP_MAC_final(ctx, mac, &outl, 32) || outl != 32) goto out;
  rc = MG_OK;
out:
  EVP_MAC_CTX_free(ctx);
  EVP_MAC_free(m);
  return rc;
}

int mg_cases_seal(mg_store *s, const char *domain, const void *data, size_t len, char *out,
                  size_t size) {
  if (!s || !domain || (!data && len) || !out || size < MG_CASES_TAG_SIZE) return MG_EINVAL;
  unsigned char key[KEY_LEN], mac[32];
  int rc = get_key(s, key);
  if (!rc) rc = hmac_sm3(key, domain, data, len, mac);
  sodium_memzero(key, sizeof key);
  if (rc) return rc;
  memcpy(out, "sm3:", 4);
  sodium_bin2hex(out + 4, size - 4, mac, sizeof mac);
  return MG_OK;
}

int mg_cases_seal_check(mg_store *s, const char *domain, const void *data, size_t len,
                        const char *tag) {
  if (!tag) return MG_EINVAL;
  char want[MG_CASES_TAG_SIZE];
  int rc = mg_cases_seal(s, domain, data, len, want, sizeof want);
  if (rc) return rc;
  size_t n = strlen(want);
  if (strlen(tag) != n || CRYPTO_memcmp(want, tag, n) != 0) return MG_ECORRUPT;
  return MG_OK;
}
