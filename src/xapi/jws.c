/* xapi/jws.c — verification of signed statements (JWS compact serialisation, RS256/384/512).
 *
 * The payload is compared with the received statement after removing what the specification
 * lets differ (the signature attachment itself; id, authority, stored, timestamp and version as
 * far as LRS processing could have changed them) using mg_xapi_compare_digest, so "logically
 * equivalent" means exactly what it means for a re-posted statement. */
#include "xapi/jws.h"

#include <limits.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "xapi/statement.h"

#define RSA_MIN_BITS 2048 /* RFC 7518 3.3: RS* keys MUST be at least 2048 bits */


static char lower(char c) { return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c; }

/* Is the media type (before any ';' parameters) of s (n bytes) equal to lit, ignoring case? */
static int media_is(const char *s, size_t n, const char *lit) {
  size_t i = 0, k = 0;
  if (!s) return 0;
  while (i < n && (s[i] == ' ' || s[i] == '\t')) i++;
  for (; i < n && s[i] != ';' && s[i] != ' ' && s[i] != '\t'; i++, k++)
    if (lit[k] == '\0' || lower(s[i]) != lower(lit[k])) return 0;
  return lit[k] == '\0';
}

/* Is v a JSON string equal to lit? By length: parsed strings never hold NUL, built ones may. */
static int str_is(const mg_json *v, const char *lit) {
  size_t n = strlen(lit);
  return mg_json_string_length(v) == n && memcmp(mg_json_string_value(v), lit, n) == 0;
}

static int is_signature(const mg_json *att) {
  return str_is(mg_json_object_get(att, "usageType"), MG_XAPI_SIGNATURE_USAGE);
}

int mg_xapi_jws_signature_index(const mg_json *stmt) {
  const mg_json *list = mg_json_object_get(stmt, "attachments");
  size_t i;
  for (i = 0; i < mg_json_array_size(list) && i < INT_MAX; i++)
    if (is_signature(mg_json_array_get(list, i))) return (int)i;
  return -1;
}

/* ---- base64 ------------------------------------------------------------------------------ */

static int b64val(unsigned char c, int url) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == (url ? '-' : '+')) return 62;
  if (c == (url ? '_' : '/')) return 63;
  return -1;
}

/* Decodes base64url without padding (url) or base64 with optional padding (!url). On success
 * *out (caller frees; NUL-terminated for convenience) and *outlen are set. MG_EINVAL on bad input,
 * MG_ENOMEM. */
static int b64_decode(const char *in, size_t n, int url, unsigned char **out, size_t *outlen) {
  unsigned char *o;
  size_t i, k = 0, full;
  uint32_t acc = 0;
  int bits = 0;

  *out = NULL;
  *outlen = 0;
  if (!url) {
    if (n % 4 == 0 && n >= 1 && in[n - 1] == '=') n--;
    if (n % 4 == 3 && n >= 1 && in[n - 1] == '=') n--;
  }
  if (n % 4 == 1) return MG_EINVAL;
  full = n / 4 * 3 + (n % 4 ? n % 4 - 1 : 0);
  o = malloc(full + 1);
  if (!o) return MG_ENOMEM;
  for (i = 0; i < n; i++) {
    int v = b64val((unsigned char)in[i], url);
    if (v < 0) {
      free(o);
      return MG_EINVAL;
    }
    acc = (acc << 6) | (uint32_t)v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      o[k++] = (unsigned char)(acc >> bits);
      acc &= (1u << bits) - 1;
    }
  }
  if (acc != 0) { /* non-zero leftover bits: not a canonical encoding */
    free(o);
    return MG_EINVAL;
  }
  o[k] = '\0';
  *out = o;
  *outlen = k;
  return MG_OK;
}

/* ---- RSA signature ----------------------------------------------------------------------- */

static const EVP_MD *md_for_alg(const mg_json *alg) {
  if (str_is(alg, "RS256")) return EVP_sha256();
  if (str_is(alg, "RS384")) return EVP_sha384();
  if (str_is(alg, "RS512")) return EVP_sha512();
  return NULL;
}

/* Verifies sig over tbs with the public key of DER certificate der. Returns MG_OK, MG_EINVAL
 * with why filled, or MG_ENOMEM. */
static int rsa_verify(const EVP_MD *md, const unsigned char *der, size_t derlen, const char *tbs,
                      size_t tbslen, const unsigned char *sig, size_t siglen, char *why,
                      size_t whysz) {
  const unsigned char *p = der;
  X509 *x = NULL;
  EVP_MD_CTX *ctx = NULL;
  EVP_PKEY *pk;
  int rc = MG_EINVAL;

  if (derlen > LONG_MAX) {
    snprintf(why, whysz, "x5c[0] is too large");
    goto out;
  }
  x = d2i_X509(NULL, &p, (long)derlen);
  if (!x || p != der + derlen) {
    snprintf(why, whysz, "x5c[0] is not a DER X.509 certificate");
    goto out;
  }
  pk = X509_get0_pubkey(x);
  if (!pk || EVP_PKEY_get_base_id(pk) != EVP_PKEY_RSA) {
    snprintf(why, whysz, "the x5c[0] certificate does not hold an RSA public key");
    goto out;
  }
  if (EVP_PKEY_get_bits(pk) < RSA_MIN_BITS) {
    snprintf(why, whysz, "the x5c[0] RSA key is shorter than %d bits", RSA_MIN_BITS);
    goto out;
  }
  ctx = EVP_MD_CTX_new();
  if (!ctx) {
    rc = MG_ENOMEM;
    goto out;
  }
  if (EVP_DigestVerifyInit(ctx, NULL, md, NULL, pk) != 1 ||
      EVP_DigestVerify(ctx, sig, siglen, (const unsigned char *)tbs, tbslen) != 1) {
    snprintf(why, whysz, "the JWS signature does not verify with the x5c[0] certificate's key");
    goto out;
  }
  rc = MG_OK;
out:
  EVP_MD_CTX_free(ctx);
  X509_free(x);
  ERR_clear_error(); /* leave no stale errors for other OpenSSL users on this thread */
  return rc;
}

/* ---- payload comparison ------------------------------------------------------------------ */

/* Removes signature attachments; drops "attachments" when that leaves it empty. */
static void strip_signatures(mg_json *stmt) {
  mg_json *list = mg_json_object_get(stmt, "attachments");
  size_t i;
  if (!mg_json_is_array(list)) return;
  for (i = mg_json_array_size(list); i > 0; i--)
    if (is_signature(mg_json_array_get(list, i - 1))) (void)mg_json_array_remove(list, i - 1);
  if (mg_json_array_size(list) == 0) (void)mg_json_object_del(stmt, "attachments");
}

/* Truncates the seconds of holder.result.duration to 0.01 s (IEEE 9274.1.1 4.2.7: precision
 * beyond that is not compared) and drops trailing fraction zeros. MG_OK or MG_ENOMEM. */
static int norm_duration(mg_arena *a, mg_json *holder) {
  mg_json *result = mg_json_object_get(holder, "result");
  mg_json *d = mg_json_object_get(result, "duration"), *nd;
  const char *s = mg_json_string_value(d);
  const char *dot;
  char buf[128];
  size_t n, frac, keep, i;

  if (!s) return MG_OK;
  n = mg_json_string_length(d);
  if (memchr(s, '\0', n)) return MG_OK; /* not a duration; compared as it is */
  if (n < 2 || n >= sizeof buf || s[n - 1] != 'S') return MG_OK;
  dot = strrchr(s, '.');
  if (!dot) return MG_OK;
  frac = (size_t)(s + n - 1 - (dot + 1));
  for (i = 0; i < frac; i++)
    if (dot[1 + i] < '0' || dot[1 + i] > '9') return MG_OK;
  keep = frac < 2 ? frac : 2;
  while (keep > 0 && dot[keep] == '0') keep--;
  snprintf(buf, sizeof buf, "%.*s%s%.*sS", (int)(dot - s), s, keep ? "." : "", (int)keep,
           dot + 1);
  nd = mg_json_string(a, buf);
  if (!nd) return MG_ENOMEM;
  return mg_json_object_set(a, result, "duration", nd);
}

/* Is payload logically the statement stmt? A copy of stmt (in arena ar, like payload) and
 * payload are normalised in place (payload is ours to change). *same gets the answer. MG_OK or
 * MG_ENOMEM. */
static int same_statement(mg_arena *ar, const mg_json *stmt, mg_json *payload, int *same) {
  static const char *const lrs_set[] = {"authority", "stored", "version"};
  static const char *const lrs_fill[] = {"id", "timestamp"};
  const mg_json *ida, *idb;
  mg_json *a = mg_json_deep_copy(ar, stmt), *obj;
  uint8_t da[32], db[32];
  size_t i, n;
  int rc = MG_OK;

  *same = 0;
  if (!a) return MG_ENOMEM;
  strip_signatures(a);
  strip_signatures(payload);
  /* A signer that signed before adding any attachment: attachments are an immutability
   * exception (Data 2.3.1), so other attachments do not count then. */
  if (!mg_json_object_get(payload, "attachments")) (void)mg_json_object_del(a, "attachments");
  /* The LRS may replace these whatever the client sent. */
  for (i = 0; i < sizeof lrs_set / sizeof lrs_set[0]; i++) {
    (void)mg_json_object_del(a, lrs_set[i]);
    (void)mg_json_object_del(payload, lrs_set[i]);
  }
  /* The LRS fills these when absent; a value present on both sides must still agree. The ids
   * are settled here (UUIDs, either case) so the digest's treatment of id does not matter. */
  ida = mg_json_object_get(a, "id");
  idb = mg_json_object_get(payload, "id");
  if (mg_json_is_string(ida) && mg_json_is_string(idb)) {
    n = mg_json_string_length(ida);
    if (n != mg_json_string_length(idb)) goto out;
    for (i = 0; i < n; i++)
      if (lower(ida->u.str[i]) != lower(idb->u.str[i])) goto out;
    (void)mg_json_object_del(a, "id");
    (void)mg_json_object_del(payload, "id");
  }
  for (i = 0; i < sizeof lrs_fill / sizeof lrs_fill[0]; i++) {
    if (!mg_json_object_get(a, lrs_fill[i]) || !mg_json_object_get(payload, lrs_fill[i])) {
      (void)mg_json_object_del(a, lrs_fill[i]);
      (void)mg_json_object_del(payload, lrs_fill[i]);
    }
  }
  rc = norm_duration(ar, a);
  if (rc == MG_OK) rc = norm_duration(ar, payload);
  obj = mg_json_object_get(a, "object");
  if (rc == MG_OK && mg_json_is_object(obj)) rc = norm_duration(ar, obj);
  obj = mg_json_object_get(payload, "object");
  if (rc == MG_OK && mg_json_is_object(obj)) rc = norm_duration(ar, obj);
  if (rc != MG_OK) goto out;

  if (mg_json_equal(a, payload)) { /* the common case, and no reliance on digest rules */
    *same = 1;
    goto out;
  }
  /* The digest expects a statement; anything lacking the required properties differs. */
  if (!mg_json_is_object(mg_json_object_get(payload, "actor")) ||
      !mg_json_is_object(mg_json_object_get(payload, "verb")) ||
      !mg_json_is_object(mg_json_object_get(payload, "object")))
    goto out;
  rc = mg_xapi_compare_digest(a, da);
  if (rc == MG_OK) rc = mg_xapi_compare_digest(payload, db);
  if (rc == MG_ENOMEM) goto out;
  /* Any other failure means one side is not a comparable statement: they differ. */
  *same = rc == MG_OK && memcmp(da, db, sizeof da) == 0;
  rc = MG_OK;
out:
  return rc; /* the copy dies with the caller's arena */
}

/* ---- verification ------------------------------------------------------------------------ */

int mg_xapi_jws_verify(const char *jws, size_t len, const mg_json *stmt, const char *path,
                       mg_xapi_error *err) {
  const char *d1, *d2;
  unsigned char *hb = NULL, *pb = NULL, *sb = NULL, *der = NULL;
  size_t hlen, plen, slen, derlen;
  mg_arena tmp; /* header, payload and the normalised copies, all freed at out */
  mg_json *hdr, *payload;
  const mg_json *x5c, *alg;
  const EVP_MD *md;
  mg_json_error je;
  int rc, same = 0;
  char why[160];

  if (!jws) len = 0;
  while (len > 0 && (jws[0] == ' ' || jws[0] == '\t' || jws[0] == '\r' || jws[0] == '\n')) {
    jws++;
    len--;
  }
  while (len > 0 && (jws[len - 1] == ' ' || jws[len - 1] == '\t' || jws[len - 1] == '\r' ||
                     jws[len - 1] == '\n'))
    len--;
  if (len == 0) return mg_xapi_error_set(err, path, "the signature part is empty");
  d1 = memchr(jws, '.', len);
  d2 = d1 ? memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - jws)) : NULL;
  if (!d1 || !d2 || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - jws)))
    return mg_xapi_error_set(err, path,
                "the signature is not a JWS compact serialisation (three base64url parts "
                "separated by '.')");
  if (d1 == jws || d2 == d1 + 1 || d2 + 1 == jws + len)
    return mg_xapi_error_set(err, path, "the JWS has an empty header, payload or signature "
                           "(detached payloads are not supported)");

  mg_arena_init(&tmp, 0, 0);
  rc = b64_decode(jws, (size_t)(d1 - jws), 1, &hb, &hlen);
  if (rc == MG_EINVAL) rc = mg_xapi_error_set(err, path, "the JWS header is not valid base64url");
  if (rc != MG_OK) goto out;
  /* mg_json_parse rejects duplicate keys, so a second "alg" cannot hide behind the first. */
  hdr = mg_json_parse(&tmp, (const char *)hb, hlen, 0, &je);
  if (!mg_json_is_object(hdr)) {
    rc = mg_xapi_error_set(err, path, "the JWS header is not a JSON object");
    goto out;
  }
  alg = mg_json_object_get(hdr, "alg");
  if (!mg_json_is_string(alg)) {
    rc = mg_xapi_error_set(err, path, "the JWS header has no alg");
    goto out;
  }
  md = md_for_alg(alg);
  if (!md) {
    rc = mg_xapi_error_set(err, path, "JWS alg \"%.*s\" is not allowed: use RS256, RS384 or RS512",
              mg_utf8_prefix(mg_json_string_value(alg), 40), mg_json_string_value(alg));
    goto out;
  }
  if (mg_json_object_get(hdr, "crit")) {
    rc = mg_xapi_error_set(err, path, "the JWS header has crit extensions the LRS does not understand");
    goto out;
  }

  rc = b64_decode(d1 + 1, (size_t)(d2 - d1 - 1), 1, &pb, &plen);
  if (rc == MG_EINVAL) rc = mg_xapi_error_set(err, path, "the JWS payload is not valid base64url");
  if (rc != MG_OK) goto out;
  rc = b64_decode(d2 + 1, (size_t)(jws + len - d2 - 1), 1, &sb, &slen);
  if (rc == MG_EINVAL) rc = mg_xapi_error_set(err, path, "the JWS signature is not valid base64url");
  if (rc != MG_OK) goto out;

  x5c = mg_json_object_get(hdr, "x5c");
  if (x5c) {
    const mg_json *c0 = mg_json_array_get(x5c, 0);
    if (!mg_json_is_array(x5c) || !mg_json_is_string(c0)) {
      rc = mg_xapi_error_set(err, path, "the JWS header x5c is not a non-empty array of strings");
      goto out;
    }
    rc = b64_decode(mg_json_string_value(c0), mg_json_string_length(c0), 0, &der, &derlen);
    if (rc == MG_EINVAL) rc = mg_xapi_error_set(err, path, "the JWS header x5c[0] is not valid base64");
    if (rc != MG_OK) goto out;
    rc = rsa_verify(md, der, derlen, jws, (size_t)(d2 - jws), sb, slen, why, sizeof why);
    if (rc == MG_EINVAL) rc = mg_xapi_error_set(err, path, "%s", why);
    if (rc != MG_OK) goto out;
  }

  payload = mg_json_parse(&tmp, (const char *)pb, plen, 0, &je);
  if (!payload) {
    rc = mg_xapi_error_set(err, path, "the JWS payload is not valid JSON: %.*s",
                           mg_utf8_prefix(je.text, 120), je.text);
    goto out;
  }
  if (!mg_json_is_object(payload)) {
    rc = mg_xapi_error_set(err, path, "the JWS payload is not a JSON object");
    goto out;
  }
  rc = same_statement(&tmp, stmt, payload, &same);
  if (rc != MG_OK) goto out;
  if (!same) {
    rc = mg_xapi_error_set(err, path, "the JWS payload is not the statement that carries the signature");
    goto out;
  }
  rc = MG_OK;
out:
  mg_arena_free(&tmp);
  free(hb);
  free(pb);
  free(sb);
  free(der);
  return rc;
}

int mg_xapi_jws_verify_statement(const mg_json *stmt, const mg_xapi_part *parts, size_t n,
                                 const char *prefix, mg_xapi_error *err) {
  const mg_json *list = mg_json_object_get(stmt, "attachments");
  size_t j;
  char path[256];

  if (!prefix) prefix = "";
  for (j = 0; j < mg_json_array_size(list); j++) {
    const mg_json *att = mg_json_array_get(list, j);
    const mg_json *ctv, *sha2v;
    const char *ct, *sha2;
    const mg_xapi_part *part;
    int rc;

    if (!is_signature(att)) continue;
    snprintf(path, sizeof path, "%s%sattachments[%zu]", prefix, *prefix ? "." : "", j);
    ctv = mg_json_object_get(att, "contentType");
    ct = mg_json_string_value(ctv);
    if (!media_is(ct, mg_json_string_length(ctv), "application/octet-stream"))
      return mg_xapi_error_set(err, path, "a signature attachment must have contentType "
                             "application/octet-stream, not %.*s",
                             mg_utf8_prefix(ct ? ct : "(none)", 60), ct ? ct : "(none)");
    sha2v = mg_json_object_get(att, "sha2");
    sha2 = mg_json_string_value(sha2v);
    /* part_find takes a C string: a (built) sha2 holding a NUL names no part */
    part = sha2 && strlen(sha2) == mg_json_string_length(sha2v) ? mg_xapi_part_find(parts, n, sha2)
                                                                 : NULL;
    if (!part) return mg_xapi_error_set(err, path, "the signature attachment has no part in the request");
    rc = mg_xapi_jws_verify((const char *)part->data, part->len, stmt, path, err);
    if (rc != MG_OK) return rc;
  }
  return MG_OK;
}
