/* fuzz/fuzz_multipart.c — libFuzzer harness for multipart/mixed statement requests
 * (xapi/multipart.h): boundary extraction, RFC 2046 parsing, the per-part xAPI rules, the
 * statements-against-parts check (which also reaches JWS verification), and the writer.
 *
 * Input: the Content-Type header value, a '\n', then the body (a '\r' before the '\n' is
 * dropped). Checked:
 *  - mg_xapi_multipart_boundary: a result is 1..70 RFC 2046 characters, not ending in space,
 *    and parsing fails exactly when it fails;
 *  - mg_xapi_multipart_parse: on success at least one part, every header span and every
 *    content range lies inside the body, parts come in order without overlapping; limiting
 *    max_parts to the count found changes nothing, one less gives MG_ETOOBIG; on failure the
 *    result is empty; error texts of the multipart unit are valid UTF-8 (it shows client bytes
 *    as ASCII);
 *  - mg_xapi_multipart_check_parts and, when the first part is JSON,
 *    mg_xapi_attachments_check (with parts[1..]) run without memory errors, deterministically;
 *  - the writer round trip: a body built with mg_xapi_mpw_* from parts taken from the input
 *    parses back to the same contents and passes mg_xapi_multipart_check_parts. */
#include <openssl/evp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

#include "core/json.h"
#include "xapi/multipart.h"

static int is_bchar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         (c != '\0' && strchr("'()+_,-./:=? ", c) != NULL);
}

static void check_span(const mg_xapi_span *s, const char *body, size_t len) {
  if (!s->p) {
    FUZZ_CHECK(s->len == 0);
    return;
  }
  FUZZ_CHECK(s->p >= body && s->len <= len && (size_t)(s->p - body) <= len - s->len);
}

static void check_parsed(const mg_xapi_multipart *mp, const char *body, size_t len) {
  FUZZ_CHECK(mp->n >= 1 && mp->parts != NULL);
  size_t prev_end = 0;
  for (size_t i = 0; i < mp->n; i++) {
    const mg_xapi_part *p = &mp->parts[i];
    const char *d = (const char *)p->data;
    check_span(&p->content_type, body, len);
    check_span(&p->transfer_encoding, body, len);
    check_span(&p->hash, body, len);
    FUZZ_CHECK(d >= body && p->len <= len && (size_t)(d - body) <= len - p->len);
    FUZZ_CHECK((size_t)(d - body) >= prev_end);
    prev_end = (size_t)(d - body) + p->len;
    /* touch every byte so ASan checks the whole range */
    unsigned sum = 0;
    for (size_t k = 0; k < p->len; k++) sum += p->data[k];
    (void)sum;
  }
}

static void hex_sha256(const void *data, size_t len, char out[65]) {
  static const char hex[] = "0123456789abcdef";
  unsigned char dg[32];
  unsigned int dlen = 0;
  FUZZ_CHECK(EVP_Digest(len ? data : "", len, dg, &dlen, EVP_sha256(), NULL) == 1 && dlen == 32);
  for (int i = 0; i < 32; i++) {
    out[2 * i] = hex[dg[i] >> 4];
    out[2 * i + 1] = hex[dg[i] & 15];
  }
  out[64] = '\0';
}

/* Builds a response from the JSON text and the contents of the parsed parts, parses it back and
 * compares. */
static void writer_roundtrip(const mg_xapi_part *parts, size_t n) {
  mg_buf out;
  mg_xapi_mpw w;
  mg_xapi_multipart mp;
  mg_xapi_error err;
  char (*hashes)[65] = calloc(n ? n : 1, sizeof *hashes);
  FUZZ_CHECK(hashes != NULL);

  mg_buf_init(&out, (size_t)1 << 30);
  FUZZ_CHECK(mg_xapi_mpw_begin(&w, &out) == MG_OK);
  FUZZ_CHECK(mg_xapi_mpw_add_json(&w, (const char *)parts[0].data, parts[0].len) == MG_OK);
  for (size_t i = 1; i < n; i++) {
    hex_sha256(parts[i].data, parts[i].len, hashes[i]);
    FUZZ_CHECK(mg_xapi_mpw_add(&w, "application/octet-stream", hashes[i], parts[i].data,
                               parts[i].len) == MG_OK);
  }
  FUZZ_CHECK(mg_xapi_mpw_end(&w) == MG_OK);

  int rc = mg_xapi_multipart_parse(w.content_type, out.data, out.len, 0, &mp, &err);
  if (rc) fprintf(stderr, "writer output does not parse: %s\n", err.message);
  FUZZ_CHECK(rc == MG_OK);
  FUZZ_CHECK(mp.n == n);
  for (size_t i = 0; i < n; i++) {
    FUZZ_CHECK(mp.parts[i].len == parts[i].len);
    FUZZ_CHECK(parts[i].len == 0 || memcmp(mp.parts[i].data, parts[i].data, parts[i].len) == 0);
  }
  rc = mg_xapi_multipart_check_parts(mp.parts, mp.n, &err);
  if (rc) fprintf(stderr, "writer output fails the xAPI rules: %s\n", err.message);
  FUZZ_CHECK(rc == MG_OK);
  mg_xapi_multipart_free(&mp);
  mg_buf_free(&out);
  free(hashes);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const uint8_t *ct_raw, *body_raw;
  size_t ct_len, body_len;
  char boundary[MG_XAPI_BOUNDARY_MAX + 1];
  mg_xapi_error err, err2;
  mg_xapi_multipart mp, mp2;

  fuzz_split(data, size, '\n', &ct_raw, &ct_len, &body_raw, &body_len);
  if (ct_len && ct_raw[ct_len - 1] == '\r') ct_len--;
  char *ct = fuzz_cstr(ct_raw, ct_len);
  /* the body in a buffer of its own size, so ASan catches any read past its end */
  char *body = malloc(body_len ? body_len : 1);
  if (!ct || !body) {
    free(ct);
    free(body);
    return 0;
  }
  if (body_len) memcpy(body, body_raw, body_len);

  int brc = mg_xapi_multipart_boundary(ct, boundary, &err);
  if (brc == MG_OK) {
    size_t bl = strlen(boundary);
    FUZZ_CHECK(bl >= 1 && bl <= MG_XAPI_BOUNDARY_MAX && boundary[bl - 1] != ' ');
    for (size_t i = 0; i < bl; i++) FUZZ_CHECK(is_bchar(boundary[i]));
  } else {
    FUZZ_CHECK(brc == MG_EINVAL); /* out is unspecified on failure */
    FUZZ_CHECK(fuzz_text_ok(err.message, sizeof err.message));
  }

  int rc = mg_xapi_multipart_parse(ct, body, body_len, 0, &mp, &err);
  if (brc != MG_OK) FUZZ_CHECK(rc == MG_EINVAL);
  if (rc != MG_OK) {
    FUZZ_CHECK(rc == MG_EINVAL);
    FUZZ_CHECK(mp.parts == NULL && mp.n == 0);
    FUZZ_CHECK(fuzz_text_ok(err.path, sizeof err.path) && fuzz_text_ok(err.message, sizeof err.message));
    goto out;
  }
  check_parsed(&mp, body, body_len);

  /* the max_parts limit */
  FUZZ_CHECK(mg_xapi_multipart_parse(ct, body, body_len, mp.n, &mp2, &err2) == MG_OK);
  FUZZ_CHECK(mp2.n == mp.n && memcmp(mp2.parts, mp.parts, mp.n * sizeof *mp.parts) == 0);
  mg_xapi_multipart_free(&mp2);
  if (mp.n > 1) {
    FUZZ_CHECK(mg_xapi_multipart_parse(ct, body, body_len, mp.n - 1, &mp2, &err2) == MG_ETOOBIG);
    FUZZ_CHECK(mp2.parts == NULL && mp2.n == 0);
  }

  int crc = mg_xapi_multipart_check_parts(mp.parts, mp.n, &err);
  FUZZ_CHECK(crc == MG_OK || crc == MG_EINVAL);
  FUZZ_CHECK(mg_xapi_multipart_check_parts(mp.parts, mp.n, NULL) == crc);
  if (crc) FUZZ_CHECK(fuzz_text_ok(err.path, sizeof err.path) && fuzz_text_ok(err.message, sizeof err.message));

  /* the statements part, checked against the attachment parts whatever check_parts said: the
   * cross-check must be safe on any parts */
  mg_arena a;
  fuzz_arena_init(&a);
  mg_json *stmts = mg_json_parse(&a, (const char *)mp.parts[0].data, mp.parts[0].len, 0, NULL);
  if (stmts) {
    mg_json *before = mg_json_deep_copy(&a, stmts);
    FUZZ_CHECK(before != NULL);
    int arc = mg_xapi_attachments_check(stmts, mp.parts + 1, mp.n - 1, &err);
    FUZZ_CHECK(arc == MG_OK || arc == MG_EINVAL);
    FUZZ_CHECK(mg_xapi_attachments_check(stmts, mp.parts + 1, mp.n - 1, NULL) == arc);
    if (arc) {
      FUZZ_CHECK(memchr(err.path, '\0', sizeof err.path) && memchr(err.message, '\0', sizeof err.message));
      /* messages of signature checks come from jws.c: see the known defect in fuzz_jws.c */
      FUZZ_CHECK_STRICT(fuzz_text_ok(err.message, sizeof err.message));
    }
    FUZZ_CHECK(fuzz_same_text(stmts, before)); /* documented: does not modify them */
    (void)mg_xapi_attachments_check(stmts, NULL, 0, NULL); /* a plain application/json request */
  }
  mg_arena_free(&a);

  writer_roundtrip(mp.parts, mp.n);
  mg_xapi_multipart_free(&mp);
out:
  free(ct);
  free(body);
  return 0;
}
