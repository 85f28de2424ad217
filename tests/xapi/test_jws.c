/* tests/xapi/test_jws.c — signed statements: keys and certificates are made here with OpenSSL
 * (nothing committed), statements are signed in the test, and every malformation must fail
 * with its own message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/json.h"
#include "xapi/jws.h"
#include "xapi/multipart.h"

typedef struct signer {
  EVP_PKEY *key;
  X509 *cert;
  char *x5c; /* standard base64 of the DER certificate */
} signer;

static signer g_a, g_b, g_short;

#define PAYLOAD                                                                                  \
  "{\"id\":\"8f2b3a4c-1d2e-4f50-9a6b-7c8d9e0f1a2b\","                                          \
  "\"actor\":{\"mbox\":\"mailto:a@example.org\",\"objectType\":\"Agent\"},"                    \
  "\"verb\":{\"id\":\"http://adlnet.gov/expapi/verbs/answered\",\"display\":{\"en-US\":"       \
  "\"answered\"}},"                                                                            \
  "\"object\":{\"id\":\"http://example.org/act\",\"objectType\":\"Activity\"},"                \
  "\"result\":{\"duration\":\"PT1M0.12S\"},\"timestamp\":\"2024-05-04T17:00:00.000Z\"}"

/* ---- test-side JWS construction ---------------------------------------------------------- */

static char *b64url(const void *p, size_t n) {
  static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const unsigned char *s = p;
  char *o = malloc(n / 3 * 4 + 5), *q = o;
  size_t i;
  assert_non_null(o);
  for (i = 0; i + 2 < n; i += 3) {
    *q++ = a[s[i] >> 2];
    *q++ = a[((s[i] & 3) << 4) | (s[i + 1] >> 4)];
    *q++ = a[((s[i + 1] & 15) << 2) | (s[i + 2] >> 6)];
    *q++ = a[s[i + 2] & 63];
  }
  if (n - i == 1) {
    *q++ = a[s[i] >> 2];
    *q++ = a[(s[i] & 3) << 4];
  } else if (n - i == 2) {
    *q++ = a[s[i] >> 2];
    *q++ = a[((s[i] & 3) << 4) | (s[i + 1] >> 4)];
    *q++ = a[(s[i + 1] & 15) << 2];
  }
  *q = '\0';
  return o;
}

static void make_signer(signer *sg, unsigned bits, const char *cn) {
  unsigned char *der = NULL;
  int dl;
  X509_NAME *name;

  sg->key = EVP_RSA_gen(bits);
  assert_non_null(sg->key);
  sg->cert = X509_new();
  assert_non_null(sg->cert);
  X509_set_version(sg->cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(sg->cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(sg->cert), 0);
  X509_gmtime_adj(X509_getm_notAfter(sg->cert), 3600);
  X509_set_pubkey(sg->cert, sg->key);
  name = X509_get_subject_name(sg->cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
  X509_set_issuer_name(sg->cert, name);
  assert_true(X509_sign(sg->cert, sg->key, EVP_sha256()) > 0);
  dl = i2d_X509(sg->cert, &der);
  assert_true(dl > 0);
  sg->x5c = malloc((size_t)dl / 3 * 4 + 8);
  assert_non_null(sg->x5c);
  EVP_EncodeBlock((unsigned char *)sg->x5c, der, dl);
  OPENSSL_free(der);
}

static void free_signer(signer *sg) {
  EVP_PKEY_free(sg->key);
  X509_free(sg->cert);
  free(sg->x5c);
}

static int setup(void **state) {
  make_signer(&g_a, 2048, "signer A");
  make_signer(&g_b, 2048, "signer B");
  make_signer(&g_short, 1024, "short key");
  return 0;
}

static int teardown(void **state) {
  free_signer(&g_a);
  free_signer(&g_b);
  free_signer(&g_short);
  return 0;
}

/* Builds "<b64url(header)>.<b64url(payload)>.<b64url(sig)>". header is the JSON text. key signs
 * with RSA for RS*, the HMAC secret "secret" is used for HS256, nothing for other algs. */
static char *make_jws(const char *header, const char *payload, const char *alg, EVP_PKEY *key) {
  char *h = b64url(header, strlen(header)), *p = b64url(payload, strlen(payload)), *s, *out;
  mg_buf tbs;
  unsigned char sig[1024];
  size_t sl = 0;

  mg_buf_init(&tbs, 1 << 20);
  assert_int_equal(mg_buf_addf(&tbs, "%s.%s", h, p), 0);
  if (strncmp(alg, "RS", 2) == 0) {
    const EVP_MD *md = strcmp(alg, "RS256") == 0   ? EVP_sha256()
                       : strcmp(alg, "RS384") == 0 ? EVP_sha384()
                                                   : EVP_sha512();
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    sl = sizeof sig;
    assert_int_equal(EVP_DigestSignInit(ctx, NULL, md, NULL, key), 1);
    assert_int_equal(EVP_DigestSign(ctx, sig, &sl, (const unsigned char *)tbs.data, tbs.len), 1);
    EVP_MD_CTX_free(ctx);
  } else if (strcmp(alg, "HS256") == 0) {
    unsigned int ml = 0;
    HMAC(EVP_sha256(), "secret", 6, (const unsigned char *)tbs.data, tbs.len, sig, &ml);
    sl = ml;
  } else {
    memcpy(sig, "x", 1);
    sl = 1;
  }
  s = b64url(sig, sl);
  assert_int_equal(mg_buf_addf(&tbs, ".%s", s), 0);
  out = mg_buf_take(&tbs);
  free(h);
  free(p);
  free(s);
  return out;
}

static char *header_for(const char *alg, const signer *sg) {
  mg_buf b;
  mg_buf_init(&b, 1 << 16);
  if (sg)
    assert_int_equal(mg_buf_addf(&b, "{\"alg\":\"%s\",\"x5c\":[\"%s\"]}", alg, sg->x5c), 0);
  else
    assert_int_equal(mg_buf_addf(&b, "{\"alg\":\"%s\"}", alg), 0);
  return mg_buf_take(&b);
}

/* Signs payload with alg (x5c of sg when sg) and returns the JWS. */
static char *sign(const char *payload, const char *alg, const signer *sg, EVP_PKEY *key) {
  char *h = header_for(alg, sg), *j = make_jws(h, payload, alg, key);
  free(h);
  return j;
}

static void sha256_hex(const char *s, size_t n, char out[65]) {
  unsigned char d[32];
  unsigned int dl = 0, i;
  assert_int_equal(EVP_Digest(s, n, d, &dl, EVP_sha256(), NULL), 1);
  for (i = 0; i < 32; i++) snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* Parses JSON text into arena a; the test fails on a parse error. */
static mg_json *parse(mg_arena *a, const char *text) {
  mg_json_error je;
  mg_json *v = mg_json_parse(a, text, strlen(text), 0, &je);
  if (!v) fail_msg("test JSON does not parse: %s", je.text);
  return v;
}

/* The compact serialisation of v; the caller frees it. */
static char *dump(const mg_json *v) {
  mg_buf t;
  char *js;
  mg_buf_init(&t, 1 << 20);
  assert_int_equal(mg_json_dump(v, &t), MG_OK);
  js = mg_buf_take(&t);
  assert_non_null(js);
  return js;
}

/* The received statement (in arena a): the payload (or `received` when given) plus the
 * signature attachment for jws. */
static mg_json *received_for(mg_arena *a, const char *received, const char *jws,
                             const char *content_type) {
  mg_json *st = parse(a, received ? received : PAYLOAD);
  mg_json *list;
  mg_buf t;
  char h[65];
  sha256_hex(jws, strlen(jws), h);
  list = mg_json_object_get(st, "attachments");
  if (!list) {
    list = mg_json_array(a);
    assert_non_null(list);
    assert_int_equal(mg_json_object_set(a, st, "attachments", list), MG_OK);
  }
  mg_buf_init(&t, 1 << 16);
  assert_int_equal(mg_buf_addf(&t,
                               "{\"usageType\":\"%s\",\"display\":{\"en-US\":\"sig\"},"
                               "\"contentType\":\"%s\",\"length\":%d,\"sha2\":\"%s\"}",
                               MG_XAPI_SIGNATURE_USAGE, content_type, (int)strlen(jws), h),
                   0);
  assert_int_equal(mg_json_array_append(a, list, parse(a, t.data)), MG_OK);
  mg_buf_free(&t);
  return st;
}

/* Verifies jws against `received` (PAYLOAD when NULL) through the attachment path. */
static int verify_via_statement(const char *received, const char *jws, mg_xapi_error *err) {
  mg_arena ar;
  mg_json *st;
  const char *sha2;
  mg_xapi_part part;
  int rc;
  size_t last;

  mg_arena_init(&ar, 0, 0);
  st = received_for(&ar, received, jws, "application/octet-stream");
  last = mg_json_array_size(mg_json_object_get(st, "attachments")) - 1;
  sha2 = mg_json_string_value(
      mg_json_object_get(mg_json_array_get(mg_json_object_get(st, "attachments"), last), "sha2"));
  memset(&part, 0, sizeof part);
  part.hash.p = sha2;
  part.hash.len = strlen(sha2);
  part.data = (const unsigned char *)jws;
  part.len = strlen(jws);
  rc = mg_xapi_jws_verify_statement(st, &part, 1, "[0]", err);
  mg_arena_free(&ar);
  return rc;
}

/* ---- tests ------------------------------------------------------------------------------- */

static void test_good_signatures(void **state) {
  static const char *const algs[] = {"RS256", "RS384", "RS512"};
  mg_xapi_error err;
  size_t i;
  for (i = 0; i < 3; i++) {
    char *j = sign(PAYLOAD, algs[i], &g_a, g_a.key);
    assert_int_equal(verify_via_statement(NULL, j, &err), MG_OK);
    free(j);
    /* without x5c nothing can be checked cryptographically (the ADL suite signs this way) */
    j = sign(PAYLOAD, algs[i], NULL, g_a.key);
    assert_int_equal(verify_via_statement(NULL, j, &err), MG_OK);
    free(j);
  }
}

static void test_signature_index(void **state) {
  char *j = sign(PAYLOAD, "RS256", NULL, g_a.key);
  mg_arena ar;
  mg_json *st;
  mg_arena_init(&ar, 0, 0);
  st = received_for(&ar, NULL, j, "application/octet-stream");
  assert_int_equal(mg_xapi_jws_signature_index(st), 0);
  assert_int_equal(mg_json_object_del(st, "attachments"), MG_OK);
  assert_int_equal(mg_xapi_jws_signature_index(st), -1);
  mg_arena_free(&ar);
  free(j);
}

static void test_bad_alg(void **state) {
  mg_xapi_error err;
  char *h, *j;

  j = sign(PAYLOAD, "HS256", NULL, NULL);
  assert_int_equal(verify_via_statement(NULL, j, &err), MG_EINVAL);
  assert_string_equal(err.path, "[0].attachments[0]");
  assert_string_equal(err.message, "JWS alg \"HS256\" is not allowed: use RS256, RS384 or RS512");
  free(j);
  j = sign(PAYLOAD, "none", NULL, NULL);
  assert_int_equal(verify_via_statement(NULL, j, &err), MG_EINVAL);
  assert_string_equal(err.message, "JWS alg \"none\" is not allowed: use RS256, RS384 or RS512");
  free(j);
  j = sign(PAYLOAD, "rs256", &g_a, g_a.key); /* alg is case-sensitive (RFC 7515 4.1.1) */
  assert_int_equal(verify_via_statement(NULL, j, &err), MG_EINVAL);
  free(j);

  h = strdup("{\"typ\":\"JWT\"}");
  j = make_jws(h, PAYLOAD, "none", NULL);
  assert_int_equal(verify_via_statement(NULL, j, &err), MG_EINVAL);
  assert_string_equal(err.message, "the JWS header has no alg");
  free(j);
  free(h);
  h = strdup("{\"alg\":\"RS256\",\"crit\":[\"exp\"],\"exp\":1}");
  j = make_jws(h, PAYLOAD, "RS256", g_a.key);
  assert_int_equal(verify_via_statement(NULL, j, &err), MG_EINVAL);
  assert_string_equal(err.message,
                      "the JWS header has crit extensions the LRS does not understand");
  free(j);
  free(h);
  h = strdup("{\"alg\":\"RS256\",\"alg\":\"RS256\"}");
  j = make_jws(h, PAYLOAD, "RS256", g_a.key);
  assert_int_equal(verify_via_statement(NULL, j, &err), MG_EINVAL);
  assert_string_equal(err.message, "the JWS header is not a JSON object");
  free(j);
  free(h);
}

static void test_malformed_serialisation(void **state) {
  mg_xapi_error err;
  char *j = sign(PAYLOAD, "RS256", &g_a, g_a.key);
  char *d1 = strchr(j, '.'), *d2 = strchr(d1 + 1, '.');
  mg_buf b;
  mg_arena ar;
  mg_json *st;

  mg_arena_init(&ar, 0, 0);
  st = parse(&ar, PAYLOAD);
  mg_buf_init(&b, 1 << 20);
  /* not three parts */
  assert_int_equal(mg_xapi_jws_verify(j, (size_t)(d2 - j), st, "p", &err), MG_EINVAL);
  assert_string_equal(err.path, "p");
  assert_non_null(strstr(err.message, "not a JWS compact serialisation"));
  assert_int_equal(mg_buf_addf(&b, "%s.e30.e30", j), 0); /* five parts, like a JWE */
  assert_int_equal(mg_xapi_jws_verify(b.data, b.len, st, "p", &err), MG_EINVAL);
  assert_non_null(strstr(err.message, "not a JWS compact serialisation"));
  /* bad base64url in each part */
  mg_buf_reset(&b);
  assert_int_equal(mg_buf_addf(&b, "*%s", j), 0);
  assert_int_equal(mg_xapi_jws_verify(b.data, b.len, st, "p", &err), MG_EINVAL);
  assert_string_equal(err.message, "the JWS header is not valid base64url");
  mg_buf_reset(&b);
  assert_int_equal(mg_buf_addf(&b, "%.*s+%s", (int)(d2 - j), j, d2), 0);
  assert_int_equal(mg_xapi_jws_verify(b.data, b.len, st, "p", &err), MG_EINVAL);
  assert_string_equal(err.message, "the JWS payload is not valid base64url");
  mg_buf_reset(&b);
  assert_int_equal(mg_buf_addf(&b, "%s==", j), 0); /* base64url carries no padding */
  assert_int_equal(mg_xapi_jws_verify(b.data, b.len, st, "p", &err), MG_EINVAL);
  assert_string_equal(err.message, "the JWS signature is not valid base64url");
  /* empty payload (detached) */
  mg_buf_reset(&b);
  assert_int_equal(mg_buf_addf(&b, "%.*s.%s", (int)(d1 - j), j, d2), 0);
  assert_int_equal(mg_xapi_jws_verify(b.data, b.len, st, "p", &err), MG_EINVAL);
  assert_non_null(strstr(err.message, "empty header, payload or signature"));
  assert_int_equal(mg_xapi_jws_verify("  \r\n", 4, st, "p", &err), MG_EINVAL);
  assert_string_equal(err.message, "the signature part is empty");
  /* surrounding whitespace is tolerated */
  mg_buf_reset(&b);
  assert_int_equal(mg_buf_addf(&b, "\r\n %s\r\n", j), 0);
  assert_int_equal(mg_xapi_jws_verify(b.data, b.len, st, "p", &err), MG_OK);
  mg_buf_free(&b);
  mg_arena_free(&ar);
  free(j);
}

/* The suite's "breakJson": the first '"' of the serialised statement replaced by '\''. */
static void test_payload_not_json(void **state) {
  mg_xapi_error err;
  char *broken = strdup(PAYLOAD), *j;
  *strchr(broken, '"') = '\'';
  j = sign(broken, "RS256", NULL, g_a.key);
  assert_int_equal(verify_via_statement(NULL, j, &err), MG_EINVAL);
  assert_non_null(strstr(err.message, "the JWS payload is not valid JSON"));
  free(j);
  j = sign("[1,2]", "RS256", &g_a, g_a.key);
  assert_int_equal(verify_via_statement(NULL, j, &err), MG_EINVAL);
  assert_string_equal(err.message, "the JWS payload is not a JSON object");
  free(j);
  free(broken);
}

static void test_payload_mismatch(void **state) {
  mg_xapi_error err;
  char *other = strdup(PAYLOAD), *j;
  memcpy(strstr(other, "verbs/answered") + 6, "launched", 8); /* another verb id */
  j = sign(other, "RS256", &g_a, g_a.key);
  assert_int_equal(verify_via_statement(NULL, j, &err), MG_EINVAL);
  assert_string_equal(err.message,
                      "the JWS payload is not the statement that carries the signature");
  free(j);
  j = sign("{}", "RS256", &g_a, g_a.key);
  assert_int_equal(verify_via_statement(NULL, j, &err), MG_EINVAL);
  assert_string_equal(err.message,
                      "the JWS payload is not the statement that carries the signature");
  free(j);
  /* a different id is a different statement */
  memcpy(other, PAYLOAD, sizeof PAYLOAD);
  memcpy(strstr(other, "8f2b3a4c"), "00000000", 8);
  j = sign(other, "RS256", &g_a, g_a.key);
  assert_int_equal(verify_via_statement(NULL, j, &err), MG_EINVAL);
  free(j);
  free(other);
}

/* Differences the LRS itself could have caused are not differences (Data 2.6 / 2.3.1). */
static void test_allowed_differences(void **state) {
  mg_xapi_error err;
  char *j;
  mg_arena ar;
  mg_json *p, *r, *rev;
  char *ptxt, *rtxt;
  size_t i;

  mg_arena_init(&ar, 0, 0);
  p = parse(&ar, PAYLOAD);
  /* payload without id/timestamp; received has them, plus authority/version/stored */
  assert_int_equal(mg_json_object_del(p, "id"), MG_OK);
  assert_int_equal(mg_json_object_del(p, "timestamp"), MG_OK);
  ptxt = dump(p);
  r = parse(&ar, PAYLOAD);
  assert_int_equal(mg_json_object_set(&ar, r, "version", mg_json_string(&ar, "1.0.3")), MG_OK);
  assert_int_equal(
      mg_json_object_set(&ar, r, "stored", mg_json_string(&ar, "2024-05-04T17:00:01.000Z")),
      MG_OK);
  assert_int_equal(mg_json_object_set(&ar, r, "authority",
                                      parse(&ar, "{\"mbox\":\"mailto:lrs@example.org\"}")),
                   MG_OK);
  /* upper-case id, key order changed (reversed): still the same statement */
  assert_int_equal(
      mg_json_object_set(&ar, r, "id", mg_json_string(&ar, "8F2B3A4C-1D2E-4F50-9A6B-7C8D9E0F1A2B")),
      MG_OK);
  rev = mg_json_object(&ar);
  assert_non_null(rev);
  for (i = mg_json_object_size(r); i > 0; i--)
    assert_int_equal(
        mg_json_object_set(&ar, rev, r->u.members[i - 1].key, r->u.members[i - 1].value), MG_OK);
  rtxt = dump(rev);
  assert_int_equal(strncmp(rtxt, "{\"authority\":", 13), 0); /* the order did change */
  j = sign(ptxt, "RS512", &g_a, g_a.key);
  assert_int_equal(verify_via_statement(rtxt, j, &err), MG_OK);
  free(j);
  free(rtxt);
  free(ptxt);
  mg_arena_free(&ar);

  /* duration precision beyond 0.01 s is not compared (the v2_0 4.2.7 suite case) */
  {
    char *longer = malloc(sizeof PAYLOAD + 8);
    char *at;
    snprintf(longer, sizeof PAYLOAD + 8, "%s", PAYLOAD);
    at = strstr(longer, "0.12S");
    memmove(at + 2, at, strlen(at) + 1);
    memcpy(at, "0.1237S", 7);
    j = sign(PAYLOAD, "RS256", NULL, g_a.key);
    assert_int_equal(verify_via_statement(longer, j, &err), MG_OK);
    free(j);
    /* but a difference at 0.01 s is */
    at = strstr(longer, "0.1237S");
    memcpy(at, "0.1337S", 7);
    j = sign(PAYLOAD, "RS256", NULL, g_a.key);
    assert_int_equal(verify_via_statement(longer, j, &err), MG_EINVAL);
    free(j);
    free(longer);
  }
}

static void test_other_attachments(void **state) {
  mg_xapi_error err;
  mg_arena ar;
  mg_json *p;
  char *ptxt, *j;
  mg_arena_init(&ar, 0, 0);
  p = parse(&ar, PAYLOAD);
  assert_int_equal(
      mg_json_object_set(
          &ar, p, "attachments",
          parse(&ar, "[{\"usageType\":\"http://example.org/usage\","
                     "\"display\":{\"en-US\":\"doc\"},\"contentType\":\"text/plain\","
                     "\"length\":3,\"sha2\":"
                     "\"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\","
                     "\"fileUrl\":\"http://example.org/abc.txt\"}]")),
      MG_OK);
  ptxt = dump(p);
  /* signed with the other attachment in it: the received one has it plus the signature */
  j = sign(ptxt, "RS256", &g_a, g_a.key);
  assert_int_equal(verify_via_statement(ptxt, j, &err), MG_OK);
  free(j);
  /* signed before any attachment was added (as the ADL suite does): accepted */
  j = sign(PAYLOAD, "RS256", &g_a, g_a.key);
  assert_int_equal(verify_via_statement(ptxt, j, &err), MG_OK);
  free(j);
  /* payload names an attachment the statement lacks: different */
  j = sign(ptxt, "RS256", &g_a, g_a.key);
  assert_int_equal(verify_via_statement(NULL, j, &err), MG_EINVAL);
  free(j);
  free(ptxt);
  mg_arena_free(&ar);
}

static void test_bad_signature_and_wrong_cert(void **state) {
  mg_xapi_error err;
  char *j = sign(PAYLOAD, "RS256", &g_a, g_a.key);
  char *last = strrchr(j, '.') + 5;
  char *h;

  *last = *last == 'A' ? 'B' : 'A'; /* flip bits inside the signature */
  assert_int_equal(verify_via_statement(NULL, j, &err), MG_EINVAL);
  assert_string_equal(err.message,
                      "the JWS signature does not verify with the x5c[0] certificate's key");
  free(j);
  /* signed by A, certificate of B */
  h = header_for("RS256", &g_b);
  j = make_jws(h, PAYLOAD, "RS256", g_a.key);
  assert_int_equal(verify_via_statement(NULL, j, &err), MG_EINVAL);
  assert_string_equal(err.message,
                      "the JWS signature does not verify with the x5c[0] certificate's key");
  free(j);
  free(h);
  /* the header claims RS512 but the signature was made with SHA-256 */
  h = header_for("RS512", &g_a);
  j = make_jws(h, PAYLOAD, "RS256", g_a.key);
  assert_int_equal(verify_via_statement(NULL, j, &err), MG_EINVAL);
  free(j);
  free(h);
  /* 1024-bit keys are below RFC 7518's minimum */
  j = sign(PAYLOAD, "RS256", &g_short, g_short.key);
  assert_int_equal(verify_via_statement(NULL, j, &err), MG_EINVAL);
  assert_string_equal(err.message, "the x5c[0] RSA key is shorter than 2048 bits");
  free(j);
  /* x5c that is not a certificate, not base64, not an array */
  j = make_jws("{\"alg\":\"RS256\",\"x5c\":[\"AAAA\"]}", PAYLOAD, "RS256", g_a.key);
  assert_int_equal(verify_via_statement(NULL, j, &err), MG_EINVAL);
  assert_string_equal(err.message, "x5c[0] is not a DER X.509 certificate");
  free(j);
  j = make_jws("{\"alg\":\"RS256\",\"x5c\":[\"%%%\"]}", PAYLOAD, "RS256", g_a.key);
  assert_int_equal(verify_via_statement(NULL, j, &err), MG_EINVAL);
  assert_string_equal(err.message, "the JWS header x5c[0] is not valid base64");
  free(j);
  j = make_jws("{\"alg\":\"RS256\",\"x5c\":\"abc\"}", PAYLOAD, "RS256", g_a.key);
  assert_int_equal(verify_via_statement(NULL, j, &err), MG_EINVAL);
  assert_string_equal(err.message, "the JWS header x5c is not a non-empty array of strings");
  free(j);
  j = make_jws("{\"alg\":\"RS256\",\"x5c\":[]}", PAYLOAD, "RS256", g_a.key);
  assert_int_equal(verify_via_statement(NULL, j, &err), MG_EINVAL);
  free(j);
}

static void test_signature_attachment_rules(void **state) {
  mg_xapi_error err;
  char *j = sign(PAYLOAD, "RS256", &g_a, g_a.key);
  mg_arena ar;
  mg_json *st;
  mg_xapi_part part;
  char sha2[65];

  mg_arena_init(&ar, 0, 0);
  st = received_for(&ar, NULL, j, "text/plain; charset=ascii");
  sha256_hex(j, strlen(j), sha2);
  memset(&part, 0, sizeof part);
  part.hash.p = sha2;
  part.hash.len = 64;
  part.data = (const unsigned char *)j;
  part.len = strlen(j);
  /* the suite's "bad content type" */
  assert_int_equal(mg_xapi_jws_verify_statement(st, &part, 1, NULL, &err), MG_EINVAL);
  assert_string_equal(err.path, "attachments[0]");
  assert_string_equal(err.message, "a signature attachment must have contentType "
                                   "application/octet-stream, not text/plain; charset=ascii");
  /* a signature with no part, even with a fileUrl */
  st = received_for(&ar, NULL, j, "application/octet-stream");
  assert_int_equal(mg_json_object_set(&ar,
                                      mg_json_array_get(mg_json_object_get(st, "attachments"), 0),
                                      "fileUrl", mg_json_string(&ar, "http://example.org/sig")),
                   MG_OK);
  assert_int_equal(mg_xapi_jws_verify_statement(st, NULL, 0, NULL, &err), MG_EINVAL);
  assert_string_equal(err.message, "the signature attachment has no part in the request");
  assert_int_equal(mg_xapi_attachments_check(st, NULL, 0, &err), MG_EINVAL);
  assert_string_equal(err.path, "attachments[0]");
  assert_non_null(strstr(err.message, "(signature)"));
  assert_int_equal(mg_xapi_attachments_check(st, &part, 1, &err), MG_OK);
  mg_arena_free(&ar);
  free(j);
}

/* A NUL must not cut a string comparison short, or "RS256\u0000x" would pass for RS256 and a
 * look-alike usageType for a signature. The parser refuses \u0000 (as jansson did), but
 * constructed mg_json strings may hold NUL. */
static void test_nul_in_strings(void **state) {
  mg_xapi_error err;
  mg_arena ar;
  mg_json *st;
  char *j;

  j = make_jws("{\"alg\":\"RS256\\u0000x\"}", PAYLOAD, "RS256", g_a.key);
  assert_int_equal(verify_via_statement(NULL, j, &err), MG_EINVAL);
  assert_string_equal(err.message, "the JWS header is not a JSON object");
  free(j);
  j = sign(PAYLOAD, "RS256", NULL, g_a.key);
  mg_arena_init(&ar, 0, 0);
  st = received_for(&ar, NULL, j, "application/octet-stream");
  assert_int_equal(mg_xapi_jws_signature_index(st), 0);
  assert_int_equal(
      mg_json_object_set(&ar, mg_json_array_get(mg_json_object_get(st, "attachments"), 0),
                         "usageType",
                         mg_json_stringn(&ar, MG_XAPI_SIGNATURE_USAGE "\0x",
                                         strlen(MG_XAPI_SIGNATURE_USAGE) + 2)),
      MG_OK);
  assert_int_equal(mg_xapi_jws_signature_index(st), -1);
  mg_arena_free(&ar);
  free(j);
}

/* A whole request laid out exactly as the ADL suite's helper.signStatement builds it, through
 * the parser, the part rules and the cross-check, for each suite case. */
static int post_like_suite(const char *alg, const char *att_ct, int break_json) {
  const char *bd = "-------------1234567";
  char *payload = strdup(PAYLOAD), *j, *js, ct[100];
  mg_arena ar;
  mg_json *st;
  mg_buf b;
  mg_xapi_multipart mp;
  mg_xapi_error err;
  int rc;

  if (break_json) *strchr(payload, '"') = '\'';
  j = sign(payload, alg, NULL, strcmp(alg, "HS256") == 0 ? NULL : g_a.key);
  mg_arena_init(&ar, 0, 0);
  st = received_for(&ar, NULL, j, att_ct);
  js = dump(st);
  mg_buf_init(&b, 1 << 20);
  assert_int_equal(mg_buf_addf(&b,
                               "\r\n--%s\r\nContent-Type:application/json\r\n\r\n%s"
                               "\r\n--%s\r\nContent-Type:%s\r\nContent-Transfer-Encoding:binary\r\n"
                               "X-Experience-API-Hash:%s\r\n\r\n%s\r\n--%s--",
                               bd, js, bd, att_ct,
                               mg_json_string_value(mg_json_object_get(
                                   mg_json_array_get(mg_json_object_get(st, "attachments"), 0),
                                   "sha2")),
                               j, bd),
                   0);
  snprintf(ct, sizeof ct, "multipart/mixed; boundary=%s", bd);
  rc = mg_xapi_multipart_parse(ct, b.data, b.len, 0, &mp, &err);
  assert_int_equal(rc, MG_OK);
  rc = mg_xapi_multipart_check_parts(mp.parts, mp.n, &err);
  assert_int_equal(rc, MG_OK);
  {
    mg_arena pa;
    mg_json *parsed;
    mg_arena_init(&pa, 0, 0);
    parsed = mg_json_parse(&pa, (const char *)mp.parts[0].data, mp.parts[0].len, 0, NULL);
    assert_non_null(parsed);
    rc = mg_xapi_attachments_check(parsed, mp.parts + 1, mp.n - 1, &err);
    mg_arena_free(&pa);
  }
  mg_xapi_multipart_free(&mp);
  mg_buf_free(&b);
  mg_arena_free(&ar);
  free(js);
  free(j);
  free(payload);
  return rc;
}

static void test_suite_cases_end_to_end(void **state) {
  assert_int_equal(post_like_suite("RS256", "application/octet-stream", 0), MG_OK);
  assert_int_equal(post_like_suite("RS384", "application/octet-stream", 0), MG_OK);
  assert_int_equal(post_like_suite("RS512", "application/octet-stream", 0), MG_OK);
  assert_int_equal(post_like_suite("HS256", "application/octet-stream", 0), MG_EINVAL);
  assert_int_equal(post_like_suite("RS256", "application/octet-stream", 1), MG_EINVAL);
  assert_int_equal(post_like_suite("RS256", "text/plain; charset=ascii", 0), MG_EINVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_good_signatures),
      cmocka_unit_test(test_signature_index),
      cmocka_unit_test(test_bad_alg),
      cmocka_unit_test(test_malformed_serialisation),
      cmocka_unit_test(test_payload_not_json),
      cmocka_unit_test(test_payload_mismatch),
      cmocka_unit_test(test_allowed_differences),
      cmocka_unit_test(test_other_attachments),
      cmocka_unit_test(test_bad_signature_and_wrong_cert),
      cmocka_unit_test(test_signature_attachment_rules),
      cmocka_unit_test(test_nul_in_strings),
      cmocka_unit_test(test_suite_cases_end_to_end),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
