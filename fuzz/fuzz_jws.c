/* fuzz/fuzz_jws.c — libFuzzer harness for signed-statement verification (xapi/jws.h).
 *
 * Input: sections separated by NUL bytes (NUL never occurs in JSON text or in a JWS):
 *  - two sections "JWS \0 statement": the JWS compact serialisation is used as it is (this
 *    reaches the framing and base64url decoding with arbitrary bytes);
 *  - four sections "header \0 payload \0 signature \0 statement": the harness base64url-encodes
 *    the three and joins them with '.', so the fuzzer mutates the JOSE header and the payload as
 *    JSON rather than as base64 (this reaches the payload comparison).
 * Anything else is taken as a statement alone. The statement is parsed with mg_json_parse; when
 * it is not an object, {} is used. Checked:
 *  - mg_xapi_jws_verify is deterministic, returns MG_OK or MG_EINVAL, leaves a bounded error
 *    text (valid UTF-8) and does not modify the
 *    statement; a deep copy of the statement, and one with every object's members in reverse
 *    order, give the same answer;
 *  - self-consistency: for a statement valid for some version, the unsigned-by-x5c JWS whose
 *    payload is the statement itself verifies against it, and (jws.h: "it also copes with
 *    prepared ones") against the statement after mg_xapi_prepare;
 *  - mg_xapi_jws_verify_statement runs on the statement with one part holding the JWS, named
 *    by the statement's first signature attachment: without signature attachments it accepts,
 *    and it never accepts a JWS that mg_xapi_jws_verify rejects. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

#include "core/json.h"
#include "xapi/jws.h"
#include "xapi/statement.h"
#include "xapi/validate.h"

#define STORED_US INT64_C(1709281800000000)

/* Appends the base64url encoding (no padding) of d[0..n) to b. */
static void b64url(mg_buf *b, const uint8_t *d, size_t n) {
  static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    uint32_t v = (uint32_t)d[i] << 16 | (uint32_t)d[i + 1] << 8 | d[i + 2];
    char q[4] = {al[v >> 18], al[(v >> 12) & 63], al[(v >> 6) & 63], al[v & 63]};
    FUZZ_CHECK(mg_buf_add(b, q, 4) == MG_OK);
  }
  if (n - i == 1) {
    uint32_t v = (uint32_t)d[i] << 16;
    char q[2] = {al[v >> 18], al[(v >> 12) & 63]};
    FUZZ_CHECK(mg_buf_add(b, q, 2) == MG_OK);
  } else if (n - i == 2) {
    uint32_t v = (uint32_t)d[i] << 16 | (uint32_t)d[i + 1] << 8;
    char q[3] = {al[v >> 18], al[(v >> 12) & 63], al[(v >> 6) & 63]};
    FUZZ_CHECK(mg_buf_add(b, q, 3) == MG_OK);
  }
}

/* verify, checked for determinism, bounded errors and constness */
static int verify(const char *jws, size_t len, const mg_json *stmt, mg_arena *a) {
  mg_xapi_error e1, e2;
  mg_json *copy = mg_json_deep_copy(a, stmt);
  FUZZ_CHECK(copy != NULL);
  int rc = mg_xapi_jws_verify(jws, len, stmt, "[0].attachments[1]", &e1);
  FUZZ_CHECK(rc == MG_OK || rc == MG_EINVAL);
  FUZZ_CHECK(mg_xapi_jws_verify(jws, len, stmt, NULL, &e2) == rc);
  FUZZ_CHECK(mg_xapi_jws_verify(jws, len, copy, NULL, NULL) == rc);
  /* "logically equal" ignores key order */
  FUZZ_CHECK(mg_xapi_jws_verify(jws, len, fuzz_reversed(a, stmt), NULL, NULL) == rc);
  if (rc) {
    FUZZ_CHECK(memchr(e1.path, '\0', sizeof e1.path) && memchr(e1.message, '\0', sizeof e1.message));
    FUZZ_CHECK(strcmp(e1.path, "[0].attachments[1]") == 0);
    FUZZ_CHECK(strcmp(e1.message, e2.message) == 0);
    /* known defect: jws.c quotes client text with "%.40s"/"%.60s"/"%.120s", which can cut a
     * UTF-8 sequence */
    FUZZ_CHECK(fuzz_text_ok(e1.message, sizeof e1.message));
  }
  FUZZ_CHECK(fuzz_same_text(stmt, copy)); /* does not modify stmt */
  return rc;
}

/* The statement's own JWS (no x5c, so no signature check) must verify against it. */
static void self_consistency(mg_arena *a, const mg_json *stmt) {
  mg_xapi_version v;
  if (mg_xapi_validate_statement(stmt, MG_XAPI_V200, NULL, NULL) == MG_OK)
    v = MG_XAPI_V200;
  else if (mg_xapi_validate_statement(stmt, MG_XAPI_V103, NULL, NULL) == MG_OK)
    v = MG_XAPI_V103;
  else
    return;
  static const char hdr[] = "{\"alg\":\"RS256\"}";
  mg_buf payload, jws;
  fuzz_dump(stmt, &payload);
  mg_buf_init(&jws, (size_t)1 << 30);
  b64url(&jws, (const uint8_t *)hdr, sizeof hdr - 1);
  FUZZ_CHECK(mg_buf_addc(&jws, '.') == MG_OK);
  b64url(&jws, (const uint8_t *)payload.data, payload.len);
  FUZZ_CHECK(mg_buf_adds(&jws, ".c2ln") == MG_OK);

  mg_xapi_error e;
  int rc = mg_xapi_jws_verify(jws.data, jws.len, stmt, NULL, &e);
  if (rc) fprintf(stderr, "own JWS rejected: %s\n", e.message);
  FUZZ_CHECK(rc == MG_OK);
  mg_json *prepared = mg_json_deep_copy(a, stmt);
  FUZZ_CHECK(prepared != NULL);
  FUZZ_CHECK(mg_xapi_prepare(a, prepared, v, STORED_US, NULL) == MG_OK);
  rc = mg_xapi_jws_verify(jws.data, jws.len, prepared, NULL, &e);
  if (rc) fprintf(stderr, "own JWS rejected after prepare: %s\n", e.message);
  FUZZ_CHECK(rc == MG_OK);
  mg_buf_free(&payload);
  mg_buf_free(&jws);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const uint8_t *sec[5];
  size_t len[5], n = 0;
  const uint8_t *rest = data;
  size_t rest_len = size;
  mg_arena a;
  mg_buf jws;

  /* up to five NUL-separated sections (a fifth means "not a known layout") */
  while (n < 5) {
    const uint8_t *tail;
    size_t tail_len;
    fuzz_split(rest, rest_len, 0, &sec[n], &len[n], &tail, &tail_len);
    n++;
    if (!tail) break;
    rest = tail;
    rest_len = tail_len;
  }

  fuzz_arena_init(&a);
  mg_buf_init(&jws, (size_t)1 << 30);
  const uint8_t *stmt_text = sec[n - 1];
  size_t stmt_len = len[n - 1];
  if (n == 2) {
    FUZZ_CHECK(mg_buf_add(&jws, sec[0], len[0]) == MG_OK);
  } else if (n == 4) {
    b64url(&jws, sec[0], len[0]);
    FUZZ_CHECK(mg_buf_addc(&jws, '.') == MG_OK);
    b64url(&jws, sec[1], len[1]);
    FUZZ_CHECK(mg_buf_addc(&jws, '.') == MG_OK);
    b64url(&jws, sec[2], len[2]);
  }

  mg_json *stmt = mg_json_parse(&a, (const char *)stmt_text, stmt_len, 0, NULL);
  if (!mg_json_is_object(stmt)) stmt = mg_json_object(&a);
  FUZZ_CHECK(stmt != NULL);

  if (n == 2 || n == 4) {
    /* the JWS text alone in a buffer of its size, so ASan sees any over-read */
    char *j = malloc(jws.len ? jws.len : 1);
    FUZZ_CHECK(j != NULL);
    if (jws.len) memcpy(j, jws.data, jws.len);
    int vrc = verify(j, jws.len, stmt, &a);

    /* the same JWS as the part of a signature attachment */
    mg_xapi_part part;
    memset(&part, 0, sizeof part);
    part.data = (const unsigned char *)j;
    part.len = jws.len;
    /* named by the statement's first signature attachment, so that verify_statement reaches
     * the JWS; any hash otherwise */
    part.hash.p = "0000000000000000000000000000000000000000000000000000000000000000";
    part.hash.len = 64;
    int sig = mg_xapi_jws_signature_index(stmt);
    if (sig >= 0) {
      const mg_json *sha2 = mg_json_object_get(
          mg_json_array_get(mg_json_object_get(stmt, "attachments"), (size_t)sig), "sha2");
      if (mg_json_is_string(sha2)) {
        part.hash.p = mg_json_string_value(sha2);
        part.hash.len = mg_json_string_length(sha2);
      }
    }
    mg_xapi_error e;
    int rc = mg_xapi_jws_verify_statement(stmt, &part, 1, "[2]", &e);
    FUZZ_CHECK(rc == MG_OK || rc == MG_EINVAL);
    if (sig < 0) FUZZ_CHECK(rc == MG_OK);     /* nothing to verify */
    if (rc == MG_OK) FUZZ_CHECK(sig < 0 || vrc == MG_OK); /* it verified this very JWS */
    free(j);
  }
  self_consistency(&a, stmt);

  mg_buf_free(&jws);
  mg_arena_free(&a);
  return 0;
}
