#include "crypto/crypto.h"

#include <openssl/evp.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "crypto/crypto_int.h"
#include "crypto/keyring.h"

/* ---- primitives ---------------------------------------------------------------------------- */

int mg_sm3(const void *p, size_t n, uint8_t out[MG_SM3_LEN]) {
  static const uint8_t empty;
  unsigned len = 0;
  if (!EVP_Digest(p ? p : &empty, n, out, &len, EVP_sm3(), NULL) || len != MG_SM3_LEN)
    return MG_ECRYPTO;
  return MG_OK;
}

void mg_hex(const void *p, size_t n, char *out) {
  static const char digits[] = "0123456789abcdef";
  const uint8_t *b = p;
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = digits[b[i] >> 4];
    out[2 * i + 1] = digits[b[i] & 15];
  }
  out[2 * n] = '\0';
}

int mg_sm3_hex(const void *p, size_t n, char out[MG_SM3_HEX]) {
  uint8_t d[MG_SM3_LEN];
  int rc = mg_sm3(p, n, d);
  if (!rc) mg_hex(d, sizeof d, out);
  return rc;
}

int mg_hmac_sm3(const void *key, size_t key_len, const void *msg, size_t n,
                uint8_t out[MG_SM3_LEN]) {
  static const uint8_t empty;
  size_t len = 0;
  if (!EVP_Q_mac(NULL, "HMAC", NULL, "SM3", NULL, key_len ? key : &empty, key_len,
                 n ? msg : &empty, n, out, MG_SM3_LEN, &len) ||
      len != MG_SM3_LEN)
    return MG_ECRYPTO;
  return MG_OK;
}

int mg_sm4_ctr(const uint8_t key[16], const uint8_t iv[16], const void *in, size_t n, void *out) {
  if (n > INT32_MAX) return MG_ETOOBIG;
  EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
  if (!c) return MG_ENOMEM;
  int len = 0, fin = 0, rc = MG_ECRYPTO;
  if (EVP_EncryptInit_ex(c, EVP_sm4_ctr(), NULL, key, iv) &&
      (n == 0 || EVP_EncryptUpdate(c, out, &len, in, (int)n)) &&
      EVP_EncryptFinal_ex(c, (unsigned char *)out + len, &fin) && (size_t)(len + fin) == n)
    rc = MG_OK;
  EVP_CIPHER_CTX_free(c);
  return rc;
}

int mg_crypto_file_digest(const char *path, const char *alg, char out[MG_SM3_HEX]) {
  const EVP_MD *md = !strcmp(alg, "sm3") ? EVP_sm3() : !strcmp(alg, "sha256") ? EVP_sha256() : NULL;
  if (!md) return MG_EINVAL;
  FILE *f = fopen(path, "rb");
  if (!f) return MG_EIO;
  EVP_MD_CTX *c = EVP_MD_CTX_new();
  int rc = c && EVP_DigestInit_ex(c, md, NULL) ? MG_OK : MG_ECRYPTO;
  unsigned char buf[65536];
  size_t got;
  while (!rc && (got = fread(buf, 1, sizeof buf, f)) > 0)
    if (!EVP_DigestUpdate(c, buf, got)) rc = MG_ECRYPTO;
  if (!rc && ferror(f)) rc = MG_EIO;
  unsigned char d[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  if (!rc && (!EVP_DigestFinal_ex(c, d, &len) || len != 32)) rc = MG_ECRYPTO;
  if (!rc) mg_hex(d, len, out);
  EVP_MD_CTX_free(c);
  fclose(f);
  return rc;
}

/* ---- key derivation ------------------------------------------------------------------------
 * HKDF-Expand (RFC 5869) with HMAC-SM3, one output block: T(1) = HMAC-SM3(master, info || 0x01).
 * The master key is 32 uniformly random bytes, so the Extract step is not needed (RFC 5869 3.3). */
static int derive(const uint8_t master[32], const char *info, uint8_t out[32]) {
  uint8_t msg[64];
  size_t n = strlen(info);
  if (n + 1 > sizeof msg) return MG_EINVAL;
  memcpy(msg, info, n);
  msg[n] = 1;
  return mg_hmac_sm3(master, 32, msg, n + 1, out);
}

static void put_u32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

/* HMAC-SM3 over prefix(4) || u32be(key id) || u32be(len(label)) || label || a || b. */
static int tag(const uint8_t key[32], const char *prefix, uint32_t kid, const char *label,
               const void *a, size_t na, const void *b, size_t nb, uint8_t out[32]) {
  size_t nl = strlen(label);
  size_t total = 4 + 4 + 4 + nl + na + nb;
  uint8_t *m = malloc(total ? total : 1);
  if (!m) return MG_ENOMEM;
  memcpy(m, prefix, 4);
  put_u32(m + 4, kid);
  put_u32(m + 8, (uint32_t)nl);
  memcpy(m + 12, label, nl);
  if (na) memcpy(m + 12 + nl, a, na);
  if (nb) memcpy(m + 12 + nl + na, b, nb);
  int rc = mg_hmac_sm3(key, 32, m, total, out);
  free(m);
  return rc;
}

/* Splits "<prefix>.<decimal id>.<rest>"; *rest points into s. */
static int parse_token(const char *s, const char *prefix, uint32_t *kid, const char **rest) {
  size_t pl = strlen(prefix);
  if (!s || strncmp(s, prefix, pl) || s[pl] != '.') return MG_EINVAL;
  const char *p = s + pl + 1;
  uint64_t v = 0;
  const char *d = p;
  while (*p >= '0' && *p <= '9' && p - d < 9) v = v * 10 + (uint64_t)(*p++ - '0');
  if (p == d || *p != '.' || !v || v > UINT32_MAX) return MG_EINVAL;
  *kid = (uint32_t)v;
  *rest = p + 1;
  return MG_OK;
}

/* ---- field encryption ---------------------------------------------------------------------- */

#define SEAL_MAX (16u << 20)

int mg_crypto_seal(const char *field, const void *plaintext, size_t n, char **token) {
  if (!field || !token || (n && !plaintext) || n > SEAL_MAX) return MG_EINVAL;
  *token = NULL;
  uint8_t master[32], ek[32], mk[32], t[32];
  uint32_t kid = 0;
  uint8_t *blob = NULL;
  char *out = NULL;
  int rc = mg_keyring_field_key(0, &kid, master);
  if (rc) goto out;
  if ((rc = derive(master, "moocguard/v1/field-enc", ek)) ||
      (rc = derive(master, "moocguard/v1/field-mac", mk)))
    goto out;
  size_t blen = 16 + n + 32;
  blob = malloc(blen);
  if (!blob) {
    rc = MG_ENOMEM;
    goto out;
  }
  randombytes_buf(blob, 16);
  if ((rc = mg_sm4_ctr(ek, blob, plaintext, n, blob + 16))) goto out;
  if ((rc = tag(mk, "mgf1", kid, field, blob, 16 + n, NULL, 0, t))) goto out;
  memcpy(blob + 16 + n, t, 32);
  size_t b64 = sodium_base64_ENCODED_LEN(blen, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  size_t olen = 5 + 10 + 1 + b64;
  out = malloc(olen);
  if (!out) {
    rc = MG_ENOMEM;
    goto out;
  }
  int h = snprintf(out, olen, "mgf1.%u.", kid);
  sodium_bin2base64(out + h, olen - (size_t)h, blob, blen, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  *token = out;
  out = NULL;
out:
  sodium_memzero(master, sizeof master);
  sodium_memzero(ek, sizeof ek);
  sodium_memzero(mk, sizeof mk);
  free(blob);
  free(out);
  return rc;
}

int mg_crypto_open(const char *field, const char *token, char **plaintext, size_t *n) {
  if (!field || !plaintext) return MG_EINVAL;
  *plaintext = NULL;
  if (n) *n = 0;
  uint32_t kid = 0;
  const char *b64 = NULL;
  if (parse_token(token, "mgf1", &kid, &b64)) return MG_EINVAL;
  size_t tl = strlen(b64);
  if (tl > SEAL_MAX * 2) return MG_EINVAL;
  uint8_t master[32], ek[32], mk[32], t[32];
  uint32_t got_kid = 0;
  size_t blen = 0;
  char *pt = NULL;
  uint8_t *blob = malloc(tl + 1);
  int rc = blob ? MG_OK : MG_ENOMEM;
  const char *end = NULL;
  if (!rc && (sodium_base642bin(blob, tl + 1, b64, tl, NULL, &blen, &end,
                                sodium_base64_VARIANT_URLSAFE_NO_PADDING) ||
              *end || blen < 48))
    rc = MG_EINVAL;
  if (!rc) {
    rc = mg_keyring_field_key(kid, &got_kid, master);
    if (rc == MG_ENOTFOUND && !mg_keyring_reload()) /* rotated by another process? */
      rc = mg_keyring_field_key(kid, &got_kid, master);
    if (rc == MG_ENOTFOUND) rc = MG_ECRYPTO;
  }
  if (rc) goto out;
  if ((rc = derive(master, "moocguard/v1/field-enc", ek)) ||
      (rc = derive(master, "moocguard/v1/field-mac", mk)))
    goto out;
  size_t ctl = blen - 48;
  if ((rc = tag(mk, "mgf1", kid, field, blob, 16 + ctl, NULL, 0, t))) goto out;
  if (sodium_memcmp(t, blob + 16 + ctl, 32)) {
    rc = MG_ECORRUPT;
    goto out;
  }
  pt = malloc(ctl + 1);
  if (!pt) {
    rc = MG_ENOMEM;
    goto out;
  }
  if ((rc = mg_sm4_ctr(ek, blob, blob + 16, ctl, pt))) goto out;
  pt[ctl] = '\0';
  *plaintext = pt;
  pt = NULL;
  if (n) *n = ctl;
out:
  sodium_memzero(master, sizeof master);
  sodium_memzero(ek, sizeof ek);
  sodium_memzero(mk, sizeof mk);
  free(blob);
  free(pt);
  return rc;
}

/* ---- record MACs --------------------------------------------------------------------------- */

static int mac_with(uint32_t want, const char *purpose, const void *p, size_t n, uint32_t *kid,
                    uint8_t out[32]) {
  uint8_t master[32], mk[32];
  int rc = mg_keyring_field_key(want, kid, master);
  if (rc == MG_ENOTFOUND && want && !mg_keyring_reload()) rc = mg_keyring_field_key(want, kid, master);
  if (!rc) rc = derive(master, "moocguard/v1/record-mac", mk);
  if (!rc) rc = tag(mk, "mgm1", *kid, purpose, p, n, NULL, 0, out);
  sodium_memzero(master, sizeof master);
  sodium_memzero(mk, sizeof mk);
  return rc;
}

int mg_crypto_mac(const char *purpose, const void *p, size_t n, char out[MG_CRYPTO_MAC_LEN]) {
  if (!purpose || !out || (n && !p)) return MG_EINVAL;
  uint8_t t[32];
  uint32_t kid = 0;
  int rc = mac_with(0, purpose, p, n, &kid, t);
  if (rc) return rc;
  char hex[65];
  mg_hex(t, 32, hex);
  snprintf(out, MG_CRYPTO_MAC_LEN, "mgm1.%u.%s", kid, hex);
  return MG_OK;
}

int mg_crypto_mac_verify(const char *purpose, const void *p, size_t n, const char *mac) {
  if (!purpose || (n && !p)) return MG_EINVAL;
  uint32_t kid = 0, got = 0;
  const char *hex = NULL;
  if (parse_token(mac, "mgm1", &kid, &hex)) return MG_EINVAL;
  uint8_t want[32], t[32];
  size_t bl = 0;
  const char *end = NULL;
  if (strlen(hex) != 64 || sodium_hex2bin(want, 32, hex, 64, NULL, &bl, &end) || bl != 32)
    return MG_EINVAL;
  int rc = mac_with(kid, purpose, p, n, &got, t);
  if (rc == MG_ENOTFOUND) return MG_ECRYPTO;
  if (rc) return rc;
  return sodium_memcmp(t, want, 32) ? MG_ECORRUPT : MG_OK;
}

/* ---- masking ------------------------------------------------------------------------------- */

/* Keeps the first `head` and last `tail` bytes of an ASCII identifier, '*' between. */
static int mask_ascii(const char *s, size_t head, size_t tail, char *out, size_t size) {
  if (!s || !out) return MG_EINVAL;
  size_t n = strlen(s);
  if (n + 1 > size) return MG_ETOOBIG;
  for (size_t i = 0; i < n; i++) {
    int keep = n >= 8 && (i < head || i >= n - tail);
    out[i] = keep ? s[i] : '*';
  }
  out[n] = '\0';
  return MG_OK;
}

int mg_crypto_mask_id(const char *id, char *out, size_t size) {
  return mask_ascii(id, 3, 4, out, size);
}

int mg_crypto_mask_phone(const char *phone, char *out, size_t size) {
  return mask_ascii(phone, 3, 4, out, size);
}

/* Length of the UTF-8 sequence starting at s, 0 if invalid. */
static size_t utf8_len(const unsigned char *s) {
  if (s[0] < 0x80) return 1;
  size_t n = (s[0] & 0xe0) == 0xc0 ? 2 : (s[0] & 0xf0) == 0xe0 ? 3 : (s[0] & 0xf8) == 0xf0 ? 4 : 0;
  if (!n || (n == 2 && s[0] < 0xc2) || s[0] > 0xf4) return 0;
  for (size_t i = 1; i < n; i++)
    if ((s[i] & 0xc0) != 0x80) return 0;
  return n;
}

int mg_crypto_mask_name(const char *name, char *out, size_t size) {
  if (!name || !out || !size) return MG_EINVAL;
  const unsigned char *p = (const unsigned char *)name;
  size_t o = 0, chars = 0;
  while (*p) {
    size_t l = utf8_len(p);
    if (!l) return MG_EINVAL;
    if (chars == 0 && p[l] != '\0') { /* keep the first character unless it is the only one */
      if (o + l + 1 > size) return MG_ETOOBIG;
      memcpy(out + o, p, l);
      o += l;
    } else {
      if (o + 2 > size) return MG_ETOOBIG;
      out[o++] = '*';
    }
    chars++;
    p += l;
  }
  out[o] = '\0';
  return MG_OK;
}
