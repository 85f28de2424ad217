#include "auth/totp.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/log.h"
#include "crypto/crypto.h"
#include "crypto/keyring.h"

int mg_auth_totp_code(const uint8_t *key, size_t key_len, int64_t step, int digits,
                      uint32_t *out) {
  if (digits < 6 || digits > 8 || step < 0) return MG_EINVAL;
  uint8_t msg[8], mac[EVP_MAX_MD_SIZE];
  unsigned mac_len = 0;
  for (int i = 7; i >= 0; i--) {
    msg[i] = (uint8_t)(step & 0xff);
    step >>= 8;
  }
  if (!HMAC(EVP_sha1(), key, (int)key_len, msg, sizeof msg, mac, &mac_len) || mac_len != 20)
    return MG_ECRYPTO;
  int off = mac[19] & 0x0f; /* RFC 4226 dynamic truncation */
  uint32_t bin = ((uint32_t)(mac[off] & 0x7f) << 24) | ((uint32_t)mac[off + 1] << 16) |
                 ((uint32_t)mac[off + 2] << 8) | mac[off + 3];
  uint32_t mod = 1;
  for (int i = 0; i < digits; i++) mod *= 10;
  *out = bin % mod;
  return MG_OK;
}

int mg_auth_totp_check(const uint8_t *key, size_t key_len, const char *code, int64_t now_s,
                       int64_t last_step, int64_t *step_out) {
  if (!code || strlen(code) != MG_TOTP_DIGITS) return MG_EAUTH;
  uint32_t want = 0;
  for (int i = 0; i < MG_TOTP_DIGITS; i++) {
    if (code[i] < '0' || code[i] > '9') return MG_EAUTH;
    want = want * 10 + (uint32_t)(code[i] - '0');
  }
  int64_t t = now_s / MG_TOTP_STEP_S;
  int found = 0;
  /* every candidate is computed, so timing does not say which step matched */
  for (int64_t s = t - 1; s <= t + 1; s++) {
    uint32_t got;
    if (mg_auth_totp_code(key, key_len, s, MG_TOTP_DIGITS, &got)) return MG_ECRYPTO;
    if (got == want && s > last_step && !found) {
      found = 1;
      *step_out = s;
    }
  }
  return found ? MG_OK : MG_EAUTH;
}

int mg_auth_base32(const uint8_t *in, size_t len, char *out, size_t out_size) {
  static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  size_t need = (len * 8 + 4) / 5 + 1, o = 0;
  if (out_size < need) return MG_ETOOBIG;
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < len; i++) {
    acc = (acc << 8) | in[i];
    bits += 8;
    while (bits >= 5) {
      out[o++] = alpha[(acc >> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out[o++] = alpha[(acc << (5 - bits)) & 31];
  out[o] = '\0';
  return MG_OK;
}

int mg_auth_totp_new_secret(char hex[2 * MG_TOTP_SECRET_LEN + 1], char b32[33]) {
  uint8_t key[MG_TOTP_SECRET_LEN];
  if (sodium_init() < 0) return MG_ECRYPTO;
  randombytes_buf(key, sizeof key);
  sodium_bin2hex(hex, 2 * MG_TOTP_SECRET_LEN + 1, key, sizeof key);
  int rc = mg_auth_base32(key, sizeof key, b32, 33);
  sodium_memzero(key, sizeof key);
  return rc;
}

int mg_auth_totp_secret_decode(const char *hex, uint8_t key[MG_TOTP_SECRET_LEN]) {
  size_t n = 0;
  if (!hex || strlen(hex) != 2 * MG_TOTP_SECRET_LEN) return MG_EINVAL;
  if (sodium_hex2bin(key, MG_TOTP_SECRET_LEN, hex, strlen(hex), NULL, &n, NULL) != 0 ||
      n != MG_TOTP_SECRET_LEN)
    return MG_EINVAL;
  return MG_OK;
}

#define SEAL_FIELD "user.totp_secret"

int mg_auth_totp_secret_seal(const char *hex, char *out, size_t size) {
  uint8_t key[MG_TOTP_SECRET_LEN];
  int rc = mg_auth_totp_secret_decode(hex, key);
  sodium_memzero(key, sizeof key);
  if (rc) return rc;
  if (!mg_keyring_ready()) {
    mg_log(MG_LOG_WARN, "auth.totp_unsealed", "msg",
           "no key directory loaded: TOTP secret stored unencrypted", NULL);
    if (strlen(hex) >= size) return MG_ETOOBIG;
    memcpy(out, hex, strlen(hex) + 1);
    return MG_OK;
  }
  char *token = NULL;
  if ((rc = mg_crypto_seal(SEAL_FIELD, hex, strlen(hex), &token))) return rc;
  size_t n = strlen(token);
  if (n >= size)
    rc = MG_ETOOBIG;
  else
    memcpy(out, token, n + 1);
  free(token);
  return rc;
}

int mg_auth_totp_secret_unseal(const char *stored, uint8_t key[MG_TOTP_SECRET_LEN]) {
  if (!stored || strncmp(stored, "mgf1.", 5) != 0) return mg_auth_totp_secret_decode(stored, key);
  char *hex = NULL;
  size_t n = 0;
  int rc = mg_crypto_open(SEAL_FIELD, stored, &hex, &n);
  if (rc) return rc;
  rc = n == 2 * MG_TOTP_SECRET_LEN ? mg_auth_totp_secret_decode(hex, key) : MG_ECORRUPT;
  sodium_memzero(hex, n);
  free(hex);
  return rc;
}
