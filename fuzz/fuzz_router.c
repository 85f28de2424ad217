/* fuzz/fuzz_router.c — libFuzzer harness for the request-target parser and the route matcher
 * (http/router.h), which see every request's raw target before anything else does.
 *
 * Input: one byte choosing the method (low 3 bits), then the raw request target. Checked:
 *  - mg_http_target_parse is deterministic (a second parse in another arena agrees exactly);
 *  - it fails exactly when the raw target is empty, longer than MG_HTTP_MAX_TARGET, or holds a
 *    byte <= 0x20, 0x7f or '#' — or for a reason it then states (rc MG_EINVAL/MG_ETOOBIG, a
 *    non-empty valid-UTF-8 message, *out left empty);
 *  - a parsed path is "*" or starts with '/', is valid UTF-8, has no control byte and no "." or
 *    ".." segment; parameters number at most MG_HTTP_MAX_PARAMS, have non-empty names, and their
 *    names and values are valid UTF-8 without control bytes other than tab, LF, CR;
 *  - re-encoding the parsed path and parameters (every byte outside the unreserved set as %XX)
 *    and parsing again gives the same path and parameters;
 *  - mg_http_target_param returns the value of the first parameter of that name;
 *  - mg_http_router_match over a table shaped like the real one returns a route whose method
 *    and path fit, no earlier route fits both, and path_known says whether any route's path fits.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

#include "http/router.h"

static const char *const METHODS[8] = {"GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS",
                                       "PATCH", "BREW"};

static void nop(mg_http_req *req, mg_http_resp *resp, void *ud) {
  (void)req, (void)resp, (void)ud;
}

static mg_http_router g_router;

static void init_router(void) {
  static const char *const routes[][2] = {
      {"GET", "/xapi/about"},           {"*", "/xapi/statements"},
      {"*", "/xapi/activities/state"},  {"GET", "/xapi/activities"},
      {"*", "/xapi/agents/profile"},    {"GET", "/xapi/agents"},
      {"POST", "/api/v1/session"},      {"GET", "/api/v1/platforms/*"},
      {"PUT", "/api/v1/platforms/*"},   {"*", "/api/v1/*"},
      {"GET", "/console/*"},            {"GET", "/"},
  };
  mg_http_router_init(&g_router);
  for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
    FUZZ_CHECK(mg_http_router_add(&g_router, routes[i][0], routes[i][1], nop, (void *)routes[i][1]) ==
               MG_OK);
}

static int is_unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

static void encode(mg_buf *b, const char *s, int keep_slash) {
  static const char hex[] = "0123456789ABCDEF";
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (is_unreserved(*p) || (keep_slash && *p == '/')) {
      FUZZ_CHECK(mg_buf_addc(b, (char)*p) == MG_OK);
    } else {
      char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
      FUZZ_CHECK(mg_buf_add(b, e, 3) == MG_OK);
    }
  }
}

static int text_clean(const char *s, int allow_ws) {
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p >= 0x20 && *p != 0x7f) continue;
    if (*p == 0x7f && allow_ws) continue;
    if (allow_ws && (*p == '\t' || *p == '\n' || *p == '\r')) continue;
    return 0;
  }
  return fuzz_utf8_valid(s, strlen(s));
}

static int dot_segment(const char *p) {
  const char *seg = p;
  for (;; p++) {
    if (*p == '/' || *p == '\0') {
      size_t n = (size_t)(p - seg);
      if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.')) return 1;
      if (!*p) return 0;
      seg = p + 1;
    }
  }
}

static int same_target(const mg_http_target *x, const mg_http_target *y) {
  if (strcmp(x->path, y->path) != 0 || x->n_params != y->n_params) return 0;
  for (size_t i = 0; i < x->n_params; i++)
    if (strcmp(x->params[i].name, y->params[i].name) || strcmp(x->params[i].value, y->params[i].value))
      return 0;
  return 1;
}

static int path_fits(const mg_http_route_def *d, const char *path) {
  return d->prefix ? strncmp(path, d->path, d->path_len) == 0 : strcmp(path, d->path) == 0;
}

static void check_routes(const char *method, const char *path) {
  int known = -1;
  const mg_http_route_def *d = mg_http_router_match(&g_router, method, path, &known);
  int any_path = 0, first = -1;
  for (int i = 0; i < g_router.n_routes; i++) {
    const mg_http_route_def *r = &g_router.routes[i];
    if (!path_fits(r, path)) continue;
    any_path = 1;
    if (first < 0 && (strcmp(r->method, "*") == 0 || strcmp(r->method, method) == 0)) first = i;
  }
  FUZZ_CHECK(known == any_path);
  if (first < 0) {
    FUZZ_CHECK(d == NULL);
  } else {
    FUZZ_CHECK(d == &g_router.routes[first]);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int ready;
  if (!ready) {
    init_router();
    ready = 1;
  }
  if (size < 1) return 0;
  const char *method = METHODS[data[0] & 7];
  const char *raw = (const char *)data + 1;
  size_t len = size - 1;

  mg_arena a1, a2, a3;
  fuzz_arena_init(&a1);
  fuzz_arena_init(&a2);
  fuzz_arena_init(&a3);
  mg_http_target t1, t2, t3;
  char e1[256], e2[256], e3[256];
  int rc1 = mg_http_target_parse(&a1, raw, len, &t1, e1, sizeof e1);
  int rc2 = mg_http_target_parse(&a2, raw, len, &t2, e2, sizeof e2);
  FUZZ_CHECK(rc1 == rc2);

  int must_fail = len == 0 || len > MG_HTTP_MAX_TARGET;
  for (size_t i = 0; i < len && !must_fail; i++) {
    unsigned char c = (unsigned char)raw[i];
    if (c <= 0x20 || c == 0x7f || c == '#') must_fail = 1;
  }
  if (must_fail) FUZZ_CHECK(rc1 != MG_OK);

  if (rc1 != MG_OK) {
    FUZZ_CHECK(rc1 == MG_EINVAL || rc1 == MG_ETOOBIG || rc1 == MG_ENOMEM);
    FUZZ_CHECK(strcmp(e1, e2) == 0);
    FUZZ_CHECK(e1[0] != '\0' && fuzz_text_ok(e1, sizeof e1));
    FUZZ_CHECK(t1.path == NULL && t1.params == NULL && t1.n_params == 0);
    goto out;
  }
  FUZZ_CHECK(same_target(&t1, &t2));
  FUZZ_CHECK(strcmp(t1.path, "*") == 0 || t1.path[0] == '/');
  FUZZ_CHECK(text_clean(t1.path, 0));
  FUZZ_CHECK(!dot_segment(t1.path));
  FUZZ_CHECK(t1.n_params <= MG_HTTP_MAX_PARAMS);
  for (size_t i = 0; i < t1.n_params; i++) {
    FUZZ_CHECK(t1.params[i].name[0] != '\0');
    FUZZ_CHECK(text_clean(t1.params[i].name, 1));
    FUZZ_CHECK(text_clean(t1.params[i].value, 1));
    const char *v = mg_http_target_param(&t1, t1.params[i].name);
    size_t j = 0;
    while (strcmp(t1.params[j].name, t1.params[i].name) != 0) j++;
    FUZZ_CHECK(v == t1.params[j].value);
  }

  /* re-encode and re-parse: decoding is stable */
  if (strcmp(t1.path, "*") != 0) {
    mg_buf b;
    mg_buf_init(&b, (size_t)1 << 20);
    encode(&b, t1.path, 1);
    for (size_t i = 0; i < t1.n_params; i++) {
      FUZZ_CHECK(mg_buf_addc(&b, i ? '&' : '?') == MG_OK);
      encode(&b, t1.params[i].name, 0);
      FUZZ_CHECK(mg_buf_addc(&b, '=') == MG_OK);
      encode(&b, t1.params[i].value, 0);
    }
    /* encoding may triple the length past the limit; only then may the re-parse refuse */
    int rc3 = mg_http_target_parse(&a3, b.data, b.len, &t3, e3, sizeof e3);
    if (b.len <= MG_HTTP_MAX_TARGET) {
      if (rc3 != MG_OK) fprintf(stderr, "re-parse of %s failed: %s\n", b.data, e3);
      FUZZ_CHECK(rc3 == MG_OK);
      FUZZ_CHECK(same_target(&t1, &t3));
    } else {
      FUZZ_CHECK(rc3 == MG_ETOOBIG);
    }
    mg_buf_free(&b);
  }
  check_routes(method, t1.path);
out:
  /* routing must also be safe on paths that never passed the parser */
  {
    char *s = fuzz_cstr((const uint8_t *)raw, len);
    if (s) {
      check_routes(method, s);
      free(s);
    }
  }
  mg_arena_free(&a1);
  mg_arena_free(&a2);
  mg_arena_free(&a3);
  return 0;
}
