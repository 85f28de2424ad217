/* tests/xapi/test_multipart.c — multipart/mixed parsing, the xAPI attachment rules and the
 * response writer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/json.h"
#include "xapi/multipart.h"

#define B "-------314159265358979323846"
#define CT "multipart/mixed; boundary=" B
#define CRLF "\r\n"

static const char TXT1[] = "here is a simple attachment";
static const char TXT2[] = "here is a second, longer attachment";
static const char TXT3[] = "third\r\nwith a line break and --" B "X inside";

static void hex_digest(const EVP_MD *md, const void *p, size_t n, char *out) {
  unsigned char d[EVP_MAX_MD_SIZE];
  unsigned int dl = 0, i;
  assert_int_equal(EVP_Digest(p, n, d, &dl, md, NULL), 1);
  for (i = 0; i < dl; i++) snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static void sha256_hex(const char *s, char out[65]) { hex_digest(EVP_sha256(), s, strlen(s), out); }

/* Parses JSON text into arena a; the test fails on a parse error. */
static mg_json *parse(mg_arena *a, const char *text) {
  mg_json_error je;
  mg_json *v = mg_json_parse(a, text, strlen(text), 0, &je);
  if (!v) fail_msg("test JSON does not parse: %s", je.text);
  return v;
}

/* A statement (in arena a) with one attachment per hash (NULL-terminated list); fileUrl added
 * when url. */
static mg_json *stmt_with(mg_arena *a, const char *const *hashes, int url) {
  mg_buf t;
  const char *sep = "";
  mg_json *st;
  mg_buf_init(&t, 1 << 20);
  assert_int_equal(mg_buf_adds(&t, "{\"actor\":{\"mbox\":\"mailto:a@example.org\"},"
                                   "\"verb\":{\"id\":\"http://example.org/v\"},"
                                   "\"object\":{\"id\":\"http://example.org/a\"},"
                                   "\"attachments\":["),
                   0);
  for (; *hashes; hashes++, sep = ",") {
    assert_int_equal(mg_buf_addf(&t,
                                 "%s{\"usageType\":\"http://example.org/usage\","
                                 "\"display\":{\"en-US\":\"att\"},\"contentType\":\"text/plain\","
                                 "\"length\":27,\"sha2\":\"%s\"%s}",
                                 sep, *hashes,
                                 url ? ",\"fileUrl\":\"http://example.org/f.txt\"" : ""),
                     0);
  }
  assert_int_equal(mg_buf_adds(&t, "]}"), 0);
  st = parse(a, t.data);
  mg_buf_free(&t);
  return st;
}

/* The compact serialisation of st; the caller frees it. */
static char *dump(const mg_json *st) {
  mg_buf t;
  char *js;
  mg_buf_init(&t, 1 << 20);
  assert_int_equal(mg_json_dump(st, &t), MG_OK);
  js = mg_buf_take(&t);
  assert_non_null(js);
  return js;
}

/* Appends one attachment part, CRLF style. */
static void add_part(mg_buf *b, const char *data, const char *hash, const char *cte) {
  assert_int_equal(mg_buf_addf(b, "--" B CRLF "Content-Type: text/plain" CRLF), 0);
  if (cte) assert_int_equal(mg_buf_addf(b, "Content-Transfer-Encoding: %s" CRLF, cte), 0);
  if (hash) assert_int_equal(mg_buf_addf(b, "X-Experience-API-Hash: %s" CRLF, hash), 0);
  assert_int_equal(mg_buf_addf(b, CRLF "%s" CRLF, data), 0);
}

static void add_json(mg_buf *b, const mg_json *st) {
  char *js = dump(st);
  assert_int_equal(mg_buf_addf(b, "--" B CRLF "Content-Type: application/json" CRLF CRLF "%s" CRLF,
                               js),
                   0);
  free(js);
}

/* Parses, checks parts, then cross-checks with st. Returns the first failing code. */
static int run_all(const char *ct, const mg_buf *b, const mg_json *st, mg_xapi_error *err) {
  mg_xapi_multipart mp;
  int rc = mg_xapi_multipart_parse(ct, b->data, b->len, 0, &mp, err);
  if (rc != MG_OK) return rc;
  rc = mg_xapi_multipart_check_parts(mp.parts, mp.n, err);
  if (rc == MG_OK) rc = mg_xapi_attachments_check(st, mp.parts + 1, mp.n - 1, err);
  mg_xapi_multipart_free(&mp);
  return rc;
}

/* ---- boundary ---------------------------------------------------------------------------- */

static void test_boundary(void **state) {
  char out[MG_XAPI_BOUNDARY_MAX + 1];
  mg_xapi_error err;
  char longct[200];

  assert_int_equal(mg_xapi_multipart_boundary(CT, out, &err), MG_OK);
  assert_string_equal(out, B);
  assert_int_equal(mg_xapi_multipart_boundary(
                       "Multipart/Mixed ; charset=utf-8; BOUNDARY=\"abcABC0123'()+_,-./:=?\"",
                       out, &err),
                   MG_OK);
  assert_string_equal(out, "abcABC0123'()+_,-./:=?");
  assert_int_equal(mg_xapi_multipart_boundary("multipart/mixed; boundary=\"with space\"", out,
                                              &err),
                   MG_OK);
  assert_string_equal(out, "with space");

  assert_int_equal(mg_xapi_multipart_boundary("multipart/mixed;", out, &err), MG_EINVAL);
  assert_string_equal(err.message, "multipart/mixed Content-Type has no boundary parameter");
  assert_int_equal(mg_xapi_multipart_boundary("multipart/form-data; boundary=x", out, &err),
                   MG_EINVAL);
  assert_string_equal(err.message, "Content-Type multipart/form-data is not multipart/mixed");
  assert_int_equal(mg_xapi_multipart_boundary(NULL, out, &err), MG_EINVAL);
  assert_int_equal(mg_xapi_multipart_boundary("multipart/mixed; boundary=", out, &err),
                   MG_EINVAL);
  assert_string_equal(err.message, "multipart boundary is empty");
  assert_int_equal(mg_xapi_multipart_boundary("multipart/mixed; boundary=a; boundary=b", out,
                                              &err),
                   MG_EINVAL);
  assert_string_equal(err.message, "Content-Type has more than one boundary parameter");
  assert_int_equal(mg_xapi_multipart_boundary("multipart/mixed; boundary=\"abc", out, &err),
                   MG_EINVAL);
  assert_string_equal(err.message, "unterminated quoted string in Content-Type");
  assert_int_equal(mg_xapi_multipart_boundary("multipart/mixed; boundary=\"ends \"", out, &err),
                   MG_EINVAL);
  assert_int_equal(mg_xapi_multipart_boundary("multipart/mixed; boundary=a<b", out, &err),
                   MG_EINVAL);
  snprintf(longct, sizeof longct, "multipart/mixed; boundary=%071d", 7);
  assert_int_equal(mg_xapi_multipart_boundary(longct, out, &err), MG_EINVAL);
  assert_string_equal(err.message, "multipart boundary is longer than 70 characters");
  snprintf(longct, sizeof longct, "multipart/mixed; boundary=%070d", 7);
  assert_int_equal(mg_xapi_multipart_boundary(longct, out, &err), MG_OK);
  assert_int_equal(strlen(out), 70);
}

/* ---- valid bodies ------------------------------------------------------------------------ */

static void test_one_to_three_attachments(void **state) {
  const char *texts[3] = {TXT1, TXT2, TXT3};
  char h[3][65];
  int k, i;

  for (i = 0; i < 3; i++) sha256_hex(texts[i], h[i]);
  for (k = 1; k <= 3; k++) {
    const char *hashes[4] = {NULL, NULL, NULL, NULL};
    mg_arena ar;
    mg_json *st;
    mg_buf b;
    mg_xapi_multipart mp;
    mg_xapi_error err;

    for (i = 0; i < k; i++) hashes[i] = h[i];
    mg_arena_init(&ar, 0, 0);
    st = stmt_with(&ar, hashes, 0);
    mg_buf_init(&b, 1 << 20);
    add_json(&b, st);
    for (i = 0; i < k; i++) add_part(&b, texts[i], h[i], "binary");
    assert_int_equal(mg_buf_adds(&b, "--" B "--" CRLF), 0);

    assert_int_equal(mg_xapi_multipart_parse(CT, b.data, b.len, 0, &mp, &err), MG_OK);
    assert_int_equal(mp.n, (size_t)k + 1);
    assert_int_equal(mp.parts[0].content_type.len, strlen("application/json"));
    assert_memory_equal(mp.parts[0].content_type.p, "application/json", 16);
    for (i = 0; i < k; i++) {
      const mg_xapi_part *pt = &mp.parts[i + 1];
      assert_int_equal(pt->len, strlen(texts[i]));
      assert_memory_equal(pt->data, texts[i], pt->len);
      assert_int_equal(pt->hash.len, 64);
      assert_memory_equal(pt->hash.p, h[i], 64);
      assert_memory_equal(pt->transfer_encoding.p, "binary", 6);
      assert_ptr_equal(mg_xapi_part_find(mp.parts + 1, mp.n - 1, h[i]), pt);
      /* zero copy: pointers lie inside the body */
      assert_true((const char *)pt->data > b.data && (const char *)pt->data < b.data + b.len);
    }
    assert_int_equal(mg_xapi_multipart_check_parts(mp.parts, mp.n, &err), MG_OK);
    assert_int_equal(mg_xapi_attachments_check(st, mp.parts + 1, mp.n - 1, &err), MG_OK);
    mg_xapi_multipart_free(&mp);
    assert_null(mp.parts);
    mg_buf_free(&b);
    mg_arena_free(&ar);
  }
}

/* The layout the ADL suite's signStatement sends: leading CRLF, no space after ':', close
 * delimiter at the very end without CRLF. Also upper-case hex and a quoted boundary. */
static void test_suite_layout_and_quoted_boundary(void **state) {
  char h[65], H[65];
  const char *hashes[2] = {h, NULL};
  mg_arena ar;
  mg_json *st;
  mg_buf b;
  mg_xapi_error err;
  char *js;
  size_t i;

  sha256_hex(TXT1, h);
  for (i = 0; i < 65; i++) H[i] = (h[i] >= 'a' && h[i] <= 'f') ? (char)(h[i] - 32) : h[i];
  mg_arena_init(&ar, 0, 0);
  st = stmt_with(&ar, hashes, 0);
  js = dump(st);
  mg_buf_init(&b, 1 << 20);
  assert_int_equal(mg_buf_addf(&b,
                               CRLF "--" B CRLF "Content-Type:application/json" CRLF CRLF "%s" CRLF
                                    "--" B CRLF "content-type:text/plain" CRLF
                                    "content-transfer-encoding:BINARY" CRLF
                                    "x-experience-api-hash:%s" CRLF CRLF "%s" CRLF "--" B "--",
                               js, H, TXT1),
                   0);
  assert_int_equal(run_all("multipart/mixed; boundary=\"" B "\"", &b, st, &err), MG_OK);
  free(js);
  mg_buf_free(&b);
  mg_arena_free(&ar);
}

static void test_bare_lf_preamble_epilogue(void **state) {
  char h[65];
  const char *hashes[2] = {h, NULL};
  mg_arena ar;
  mg_json *st;
  mg_buf b;
  mg_xapi_multipart mp;
  mg_xapi_error err;
  char *js;

  sha256_hex(TXT2, h);
  mg_arena_init(&ar, 0, 0);
  st = stmt_with(&ar, hashes, 0);
  js = dump(st);
  mg_buf_init(&b, 1 << 20);
  assert_int_equal(mg_buf_addf(&b,
                               "This is a preamble.\n\n--" B "\nContent-Type: application/json\n\n"
                               "%s\n--" B " \t\nContent-Type: text/plain\n"
                               "X-Experience-API-Hash: %s\n\n%s\n--" B "--\nand an epilogue\n"
                               "--" B "\nthat is ignored",
                               js, h, TXT2),
                   0);
  assert_int_equal(mg_xapi_multipart_parse(CT, b.data, b.len, 0, &mp, &err), MG_OK);
  assert_int_equal(mp.n, 2);
  assert_int_equal(mp.parts[0].len, strlen(js));
  assert_memory_equal(mp.parts[0].data, js, strlen(js));
  assert_null(mp.parts[1].transfer_encoding.p); /* absent: taken as binary */
  assert_int_equal(mp.parts[1].len, strlen(TXT2));
  assert_int_equal(mg_xapi_multipart_check_parts(mp.parts, mp.n, &err), MG_OK);
  assert_int_equal(mg_xapi_attachments_check(st, mp.parts + 1, mp.n - 1, &err), MG_OK);
  mg_xapi_multipart_free(&mp);
  free(js);
  mg_buf_free(&b);
  mg_arena_free(&ar);
}

/* Lines that start like the boundary but continue are content; so is a CRLF inside data. */
static void test_boundary_prefix_in_content(void **state) {
  char h[65];
  const char *hashes[2] = {h, NULL};
  mg_arena ar;
  mg_json *st;
  mg_buf b;
  mg_xapi_multipart mp;
  mg_xapi_error err;
  static const char tricky[] = "a\r\n--" B "X\r\n--" B "--more\r\nend";

  sha256_hex(tricky, h);
  mg_arena_init(&ar, 0, 0);
  st = stmt_with(&ar, hashes, 0);
  mg_buf_init(&b, 1 << 20);
  add_json(&b, st);
  add_part(&b, tricky, h, "binary");
  assert_int_equal(mg_buf_adds(&b, "--" B "--"), 0);
  assert_int_equal(mg_xapi_multipart_parse(CT, b.data, b.len, 0, &mp, &err), MG_OK);
  assert_int_equal(mp.n, 2);
  assert_int_equal(mp.parts[1].len, strlen(tricky));
  assert_memory_equal(mp.parts[1].data, tricky, strlen(tricky));
  mg_xapi_multipart_free(&mp);
  assert_int_equal(run_all(CT, &b, st, &err), MG_OK);
  mg_buf_free(&b);
  mg_arena_free(&ar);
}

static void test_sha384_sha512_hashes(void **state) {
  char h384[97], h512[129];
  const char *hashes[3] = {h384, h512, NULL};
  mg_arena ar;
  mg_json *st;
  mg_buf b;
  mg_xapi_error err;

  hex_digest(EVP_sha384(), TXT1, strlen(TXT1), h384);
  hex_digest(EVP_sha512(), TXT2, strlen(TXT2), h512);
  mg_arena_init(&ar, 0, 0);
  st = stmt_with(&ar, hashes, 0);
  mg_buf_init(&b, 1 << 20);
  add_json(&b, st);
  add_part(&b, TXT1, h384, "binary");
  add_part(&b, TXT2, h512, "binary");
  assert_int_equal(mg_buf_adds(&b, "--" B "--"), 0);
  assert_int_equal(run_all(CT, &b, st, &err), MG_OK);
  mg_buf_free(&b);
  mg_arena_free(&ar);
}

static void test_empty_parts_allowed(void **state) {
  mg_xapi_multipart mp;
  mg_xapi_error err;
  static const char body[] = "--" B CRLF "Content-Type: application/json" CRLF CRLF "--" B CRLF
                             CRLF "--" B CRLF "--" B "--";
  assert_int_equal(mg_xapi_multipart_parse(CT, body, strlen(body), 0, &mp, &err), MG_OK);
  assert_int_equal(mp.n, 3);
  assert_int_equal(mp.parts[0].len, 0);
  assert_int_equal(mp.parts[1].len, 0);
  assert_null(mp.parts[1].content_type.p);
  assert_int_equal(mp.parts[2].len, 0);
  mg_xapi_multipart_free(&mp);
}

/* ---- malformed bodies -------------------------------------------------------------------- */

static void test_wrong_hash(void **state) {
  char h[65];
  const char *hashes[2] = {h, NULL};
  mg_arena ar;
  mg_json *st;
  mg_buf b;
  mg_xapi_error err;

  sha256_hex(TXT1, h);
  mg_arena_init(&ar, 0, 0);
  st = stmt_with(&ar, hashes, 0);
  mg_buf_init(&b, 1 << 20);
  add_json(&b, st);
  add_part(&b, TXT2, h, "binary"); /* content is TXT2, hash is TXT1's */
  assert_int_equal(mg_buf_adds(&b, "--" B "--"), 0);
  assert_int_equal(run_all(CT, &b, st, &err), MG_EINVAL);
  assert_string_equal(err.path, "part[1]");
  assert_non_null(strstr(err.message, "part[1] content does not match its X-Experience-API-Hash"));

  /* the suite's case: a hash that is well-formed but of nothing sent */
  mg_buf_reset(&b);
  add_json(&b, st);
  add_part(&b, TXT1, "b018994f8bbe0f08992a65c48c8c8c56f09e9baceaa6227ed85c90ae52b73c89",
           "binary");
  assert_int_equal(mg_buf_adds(&b, "--" B "--"), 0);
  assert_int_equal(run_all(CT, &b, st, &err), MG_EINVAL);
  assert_non_null(strstr(err.message, "does not match"));

  /* not hex / wrong length */
  mg_buf_reset(&b);
  add_json(&b, st);
  add_part(&b, TXT1, "xyz", "binary");
  assert_int_equal(mg_buf_adds(&b, "--" B "--"), 0);
  assert_int_equal(run_all(CT, &b, st, &err), MG_EINVAL);
  assert_string_equal(err.message,
                      "part[1] X-Experience-API-Hash xyz is not a hex SHA-256, SHA-384 or SHA-512");
  mg_buf_free(&b);
  mg_arena_free(&ar);
}

static void test_missing_hash_header_and_bad_cte(void **state) {
  char h[65];
  const char *hashes[2] = {h, NULL};
  mg_arena ar;
  mg_json *st;
  mg_buf b;
  mg_xapi_error err;

  sha256_hex(TXT1, h);
  mg_arena_init(&ar, 0, 0);
  st = stmt_with(&ar, hashes, 0);
  mg_buf_init(&b, 1 << 20);
  add_json(&b, st);
  add_part(&b, TXT1, NULL, "binary");
  assert_int_equal(mg_buf_adds(&b, "--" B "--"), 0);
  assert_int_equal(run_all(CT, &b, st, &err), MG_EINVAL);
  assert_string_equal(err.path, "part[1]");
  assert_string_equal(err.message, "part[1] has no X-Experience-API-Hash header");

  mg_buf_reset(&b);
  add_json(&b, st);
  add_part(&b, TXT1, h, "base64");
  assert_int_equal(mg_buf_adds(&b, "--" B "--"), 0);
  assert_int_equal(run_all(CT, &b, st, &err), MG_EINVAL);
  assert_string_equal(err.message,
                      "part[1] has Content-Transfer-Encoding base64; it must be binary");
  mg_buf_free(&b);
  mg_arena_free(&ar);
}

static void test_missing_part(void **state) {
  char h1[65], h2[65];
  const char *hashes[3] = {h1, h2, NULL};
  mg_arena ar;
  mg_json *st, *batch, *list;
  mg_buf b;
  mg_xapi_error err;
  char want[200];

  sha256_hex(TXT1, h1);
  sha256_hex(TXT2, h2);
  mg_arena_init(&ar, 0, 0);
  st = stmt_with(&ar, hashes, 0);
  mg_buf_init(&b, 1 << 20);
  add_json(&b, st);
  add_part(&b, TXT1, h1, "binary");
  assert_int_equal(mg_buf_adds(&b, "--" B "--"), 0);
  assert_int_equal(run_all(CT, &b, st, &err), MG_EINVAL);
  assert_string_equal(err.path, "attachments[1]");
  snprintf(want, sizeof want, "attachments[1] sha2 %s has no matching part in the request", h2);
  assert_string_equal(err.message, want);

  /* in a batch the statement index leads the path */
  batch = mg_json_array(&ar);
  assert_non_null(batch);
  assert_int_equal(mg_json_array_append(&ar, batch, mg_json_deep_copy(&ar, st)), MG_OK);
  assert_int_equal(mg_json_array_append(&ar, batch, mg_json_deep_copy(&ar, st)), MG_OK);
  assert_int_equal(
      mg_json_array_remove(mg_json_object_get(mg_json_array_get(batch, 0), "attachments"), 1),
      MG_OK);
  list = mg_json_array(&ar);
  assert_non_null(list);
  assert_int_equal(mg_json_object_set(&ar, mg_json_array_get(batch, 1), "attachments", list),
                   MG_OK);
  assert_int_equal(mg_json_array_append(
                       &ar, list, mg_json_array_get(mg_json_object_get(st, "attachments"), 1)),
                   MG_OK);
  assert_int_equal(run_all(CT, &b, batch, &err), MG_EINVAL);
  assert_string_equal(err.path, "[1].attachments[0]");
  assert_non_null(strstr(err.message, "[1].attachments[0] sha2 "));

  /* application/json request (no parts): fileUrl attachments pass, others do not */
  assert_int_equal(mg_xapi_attachments_check(st, NULL, 0, &err), MG_EINVAL);
  assert_string_equal(err.path, "attachments[0]");
  st = stmt_with(&ar, hashes, 1);
  assert_int_equal(mg_xapi_attachments_check(st, NULL, 0, &err), MG_OK);
  mg_arena_free(&ar);
  mg_buf_free(&b);
}

static void test_unreferenced_part(void **state) {
  char h1[65], h3[65];
  const char *hashes[2] = {h1, NULL};
  mg_arena ar;
  mg_json *st;
  mg_buf b;
  mg_xapi_error err;
  char want[200];

  sha256_hex(TXT1, h1);
  sha256_hex(TXT3, h3);
  mg_arena_init(&ar, 0, 0);
  st = stmt_with(&ar, hashes, 0);
  mg_buf_init(&b, 1 << 20);
  add_json(&b, st);
  add_part(&b, TXT1, h1, "binary");
  add_part(&b, TXT3, h3, "binary");
  assert_int_equal(mg_buf_adds(&b, "--" B "--" CRLF), 0);
  assert_int_equal(run_all(CT, &b, st, &err), MG_EINVAL);
  assert_string_equal(err.path, "part[2]");
  snprintf(want, sizeof want,
           "part[2] (X-Experience-API-Hash %s) is not referenced by any attachment's sha2", h3);
  assert_string_equal(err.message, want);

  /* a second statement (the suite's "statements in two parts") is not an attachment either */
  mg_buf_reset(&b);
  add_json(&b, st);
  add_json(&b, st);
  add_part(&b, TXT1, h1, "binary");
  assert_int_equal(mg_buf_adds(&b, "--" B "--" CRLF), 0);
  assert_int_equal(run_all(CT, &b, st, &err), MG_EINVAL);
  assert_string_equal(err.message, "part[1] has no X-Experience-API-Hash header");

  /* the same data sent twice under one hash is referenced by that hash */
  mg_buf_reset(&b);
  add_json(&b, st);
  add_part(&b, TXT1, h1, "binary");
  add_part(&b, TXT1, h1, "binary");
  assert_int_equal(mg_buf_adds(&b, "--" B "--" CRLF), 0);
  assert_int_equal(run_all(CT, &b, st, &err), MG_OK);
  mg_buf_free(&b);
  mg_arena_free(&ar);
}

static void test_substatement_attachments(void **state) {
  char h1[65];
  const char *hashes[2] = {h1, NULL};
  mg_arena ar;
  mg_json *st, *sub;
  mg_buf b;
  mg_xapi_error err;

  sha256_hex(TXT1, h1);
  mg_arena_init(&ar, 0, 0);
  sub = stmt_with(&ar, hashes, 0);
  assert_int_equal(mg_json_object_set(&ar, sub, "objectType", mg_json_string(&ar, "SubStatement")),
                   MG_OK);
  st = parse(&ar, "{\"actor\":{\"mbox\":\"mailto:a@example.org\"},"
                  "\"verb\":{\"id\":\"http://example.org/v\"}}");
  assert_int_equal(mg_json_object_set(&ar, st, "object", sub), MG_OK);
  mg_buf_init(&b, 1 << 20);
  add_json(&b, st);
  add_part(&b, TXT1, h1, "binary");
  assert_int_equal(mg_buf_adds(&b, "--" B "--"), 0);
  assert_int_equal(run_all(CT, &b, st, &err), MG_OK);
  assert_int_equal(mg_xapi_attachments_check(st, NULL, 0, &err), MG_EINVAL);
  assert_string_equal(err.path, "object.attachments[0]");
  mg_buf_free(&b);
  mg_arena_free(&ar);
}

static void test_truncated_and_missing_delimiters(void **state) {
  char h[65];
  const char *hashes[2] = {h, NULL};
  mg_arena ar;
  mg_json *st;
  mg_buf b;
  mg_xapi_multipart mp;
  mg_xapi_error err;
  size_t cut;

  sha256_hex(TXT1, h);
  mg_arena_init(&ar, 0, 0);
  st = stmt_with(&ar, hashes, 0);
  mg_buf_init(&b, 1 << 20);
  add_json(&b, st);
  add_part(&b, TXT1, h, "binary");
  assert_int_equal(mg_buf_adds(&b, "--" B "--"), 0);

  /* every strict prefix lacks the close delimiter (or more) and is rejected */
  for (cut = 0; cut < b.len; cut++) {
    char *copy = malloc(cut ? cut : 1); /* exact-size copy so ASan sees any over-read */
    int rc;
    assert_non_null(copy);
    memcpy(copy, b.data, cut);
    rc = mg_xapi_multipart_parse(CT, copy, cut, 0, &mp, &err);
    assert_int_equal(rc, MG_EINVAL);
    assert_null(mp.parts);
    free(copy);
  }
  assert_int_equal(mg_xapi_multipart_parse(CT, b.data, b.len - 2, 0, &mp, &err), MG_EINVAL);
  assert_string_equal(err.message,
                      "part[1] is not terminated: the close delimiter --" B "-- is missing");

  assert_int_equal(mg_xapi_multipart_parse(CT, b.data, b.len, 0, &mp, &err), MG_OK);
  mg_xapi_multipart_free(&mp);
  assert_int_equal(mg_xapi_multipart_parse("multipart/mixed; boundary=other", b.data, b.len, 0,
                                           &mp, &err),
                   MG_EINVAL);
  assert_string_equal(err.message, "the body has no delimiter line --other");
  assert_int_equal(mg_xapi_multipart_parse("multipart/mixed", b.data, b.len, 0, &mp, &err),
                   MG_EINVAL);
  assert_string_equal(err.message, "multipart/mixed Content-Type has no boundary parameter");
  assert_int_equal(mg_xapi_multipart_parse(CT, "--" B "--", strlen("--" B "--"), 0, &mp, &err),
                   MG_EINVAL);
  assert_string_equal(err.message, "the body has a close delimiter but no part");
  assert_int_equal(mg_xapi_multipart_parse(CT, NULL, 0, 0, &mp, &err), MG_EINVAL);
  mg_buf_free(&b);
  mg_arena_free(&ar);
}

/* The suite's XAPI-00131 body: the statement sits before the first delimiter (preamble), so the
 * first part is the text attachment. */
static void test_content_before_first_boundary(void **state) {
  char h[65];
  const char *hashes[2] = {h, NULL};
  mg_arena ar;
  mg_json *st;
  mg_buf b;
  mg_xapi_multipart mp;
  mg_xapi_error err;
  char *js;

  sha256_hex(TXT1, h);
  mg_arena_init(&ar, 0, 0);
  st = stmt_with(&ar, hashes, 0);
  js = dump(st);
  mg_buf_init(&b, 1 << 20);
  assert_int_equal(mg_buf_addf(&b, "Content-Type: application/json" CRLF CRLF "%s" CRLF, js), 0);
  add_part(&b, TXT1, h, "binary");
  assert_int_equal(mg_buf_adds(&b, "--" B "--" CRLF), 0);
  assert_int_equal(mg_xapi_multipart_parse(CT, b.data, b.len, 0, &mp, &err), MG_OK);
  assert_int_equal(mp.n, 1);
  assert_int_equal(mg_xapi_multipart_check_parts(mp.parts, mp.n, &err), MG_EINVAL);
  assert_string_equal(err.path, "part[0]");
  assert_string_equal(err.message,
                      "the first part has Content-Type text/plain; it must be application/json");
  mg_xapi_multipart_free(&mp);
  free(js);
  mg_buf_free(&b);
  mg_arena_free(&ar);
}

static void test_header_errors(void **state) {
  mg_xapi_multipart mp;
  mg_xapi_error err;
  static const char dup[] = "--" B CRLF "Content-Type: application/json" CRLF
                            "content-type: text/plain" CRLF CRLF "{}" CRLF "--" B "--";
  static const char folded[] = "--" B CRLF "Content-Type: application/json;" CRLF
                               " charset=utf-8" CRLF CRLF "{}" CRLF "--" B "--";
  static const char noblank[] = "--" B CRLF "Content-Type: application/json" CRLF "{}" CRLF
                                "--" B "--";
  static const char nocolon[] = "--" B CRLF "Content-Type application/json" CRLF CRLF "{}" CRLF
                                "--" B "--";
  static const char noct[] = "--" B CRLF CRLF "{}" CRLF "--" B "--";

  assert_int_equal(mg_xapi_multipart_parse(CT, dup, strlen(dup), 0, &mp, &err), MG_EINVAL);
  assert_string_equal(err.message, "part[0]: header content-type appears more than once");
  assert_int_equal(mg_xapi_multipart_parse(CT, folded, strlen(folded), 0, &mp, &err), MG_EINVAL);
  assert_string_equal(err.message, "part[0]: folded header lines are not supported");
  assert_int_equal(mg_xapi_multipart_parse(CT, noblank, strlen(noblank), 0, &mp, &err),
                   MG_EINVAL);
  assert_string_equal(err.message, "part[0]: the header block is not ended by a blank line");
  assert_int_equal(mg_xapi_multipart_parse(CT, nocolon, strlen(nocolon), 0, &mp, &err),
                   MG_EINVAL);
  assert_string_equal(err.path, "part[0]");
  assert_int_equal(mg_xapi_multipart_parse(CT, noct, strlen(noct), 0, &mp, &err), MG_OK);
  assert_int_equal(mg_xapi_multipart_check_parts(mp.parts, mp.n, &err), MG_EINVAL);
  assert_string_equal(err.message,
                      "the first part has no Content-Type; it must be application/json");
  mg_xapi_multipart_free(&mp);
}

static void test_max_parts(void **state) {
  mg_xapi_multipart mp;
  mg_xapi_error err;
  static const char body[] = "--" B CRLF CRLF "a" CRLF "--" B CRLF CRLF "b" CRLF "--" B CRLF CRLF
                             "c" CRLF "--" B "--";
  assert_int_equal(mg_xapi_multipart_parse(CT, body, strlen(body), 2, &mp, &err), MG_ETOOBIG);
  assert_string_equal(err.message, "more than 2 parts");
  assert_null(mp.parts);
  assert_int_equal(mg_xapi_multipart_parse(CT, body, strlen(body), 3, &mp, &err), MG_OK);
  assert_int_equal(mp.n, 3);
  assert_memory_equal(mp.parts[2].data, "c", 1);
  mg_xapi_multipart_free(&mp);
}

/* Arbitrary bytes must never crash or over-read (ASan); a light stand-in for the fuzzer. */
static void test_random_bodies(void **state) {
  static const char alphabet[] = "-\r\n:abcXH" B;
  unsigned seed = 12345;
  int round;
  for (round = 0; round < 20000; round++) {
    size_t n, i;
    char *buf;
    mg_xapi_multipart mp;
    mg_xapi_error err;
    seed = seed * 1103515245u + 12345u;
    n = (seed >> 8) % 200;
    buf = malloc(n ? n : 1);
    assert_non_null(buf);
    for (i = 0; i < n; i++) {
      seed = seed * 1103515245u + 12345u;
      buf[i] = (seed >> 20) % 5 ? alphabet[(seed >> 8) % (sizeof alphabet - 1)] : (char)(seed >> 3);
    }
    if (mg_xapi_multipart_parse("multipart/mixed; boundary=ab", buf, n, 8, &mp, &err) == MG_OK) {
      (void)mg_xapi_multipart_check_parts(mp.parts, mp.n, &err);
      (void)mg_xapi_attachments_check(mg_json_null(), mp.parts + 1, mp.n - 1, &err);
      mg_xapi_multipart_free(&mp);
    }
    free(buf);
  }
}

/* ---- writer ------------------------------------------------------------------------------ */

static void test_writer_round_trip(void **state) {
  char h1[65], h3[65];
  const char *hashes[3] = {h1, h3, NULL};
  mg_arena ar;
  mg_json *st;
  char *js;
  mg_buf out;
  mg_xapi_mpw w, w2;
  mg_xapi_multipart mp;
  mg_xapi_error err;

  sha256_hex(TXT1, h1);
  sha256_hex(TXT3, h3);
  mg_arena_init(&ar, 0, 0);
  st = stmt_with(&ar, hashes, 0);
  js = dump(st);
  mg_buf_init(&out, 1 << 20);
  assert_int_equal(mg_xapi_mpw_begin(&w, &out), MG_OK);
  assert_int_equal(strlen(w.boundary), 32);
  assert_int_equal(strncmp(w.content_type, "multipart/mixed; boundary=", 26), 0);
  assert_string_equal(w.content_type + 26, w.boundary);
  assert_int_equal(mg_xapi_mpw_add_json(&w, js, strlen(js)), MG_OK);
  assert_int_equal(mg_xapi_mpw_add(&w, "text/plain", h1, TXT1, strlen(TXT1)), MG_OK);
  assert_int_equal(mg_xapi_mpw_add(&w, "text/plain; charset=utf-8", h3, TXT3, strlen(TXT3)),
                   MG_OK);
  assert_int_equal(mg_xapi_mpw_add(&w, "text/plain\r\nX-Evil: 1", h3, TXT3, 3), MG_EINVAL);
  assert_int_equal(mg_xapi_mpw_end(&w), MG_OK);

  assert_int_equal(mg_xapi_multipart_parse(w.content_type, out.data, out.len, 0, &mp, &err),
                   MG_OK);
  assert_int_equal(mp.n, 3);
  assert_int_equal(mp.parts[0].len, strlen(js));
  assert_memory_equal(mp.parts[0].data, js, strlen(js));
  assert_int_equal(mp.parts[2].len, strlen(TXT3));
  assert_memory_equal(mp.parts[2].data, TXT3, strlen(TXT3));
  assert_memory_equal(mp.parts[2].content_type.p, "text/plain; charset=utf-8", 25);
  assert_int_equal(mg_xapi_multipart_check_parts(mp.parts, mp.n, &err), MG_OK);
  assert_int_equal(mg_xapi_attachments_check(st, mp.parts + 1, mp.n - 1, &err), MG_OK);
  mg_xapi_multipart_free(&mp);

  mg_buf_reset(&out);
  assert_int_equal(mg_xapi_mpw_begin(&w2, &out), MG_OK);
  assert_string_not_equal(w.boundary, w2.boundary);
  free(js);
  mg_buf_free(&out);
  mg_arena_free(&ar);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_boundary),
      cmocka_unit_test(test_one_to_three_attachments),
      cmocka_unit_test(test_suite_layout_and_quoted_boundary),
      cmocka_unit_test(test_bare_lf_preamble_epilogue),
      cmocka_unit_test(test_boundary_prefix_in_content),
      cmocka_unit_test(test_sha384_sha512_hashes),
      cmocka_unit_test(test_empty_parts_allowed),
      cmocka_unit_test(test_wrong_hash),
      cmocka_unit_test(test_missing_hash_header_and_bad_cte),
      cmocka_unit_test(test_missing_part),
      cmocka_unit_test(test_unreferenced_part),
      cmocka_unit_test(test_substatement_attachments),
      cmocka_unit_test(test_truncated_and_missing_delimiters),
      cmocka_unit_test(test_content_before_first_boundary),
      cmocka_unit_test(test_header_errors),
      cmocka_unit_test(test_max_parts),
      cmocka_unit_test(test_random_bodies),
      cmocka_unit_test(test_writer_round_trip),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
