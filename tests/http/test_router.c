/* Request-target parsing and route matching (http/router.h), without a server. */
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "http/router.h"
#include "support.h"

static mg_arena g_a;
static char g_err[256];

static int parse(const char *raw, mg_http_target *t) {
  mg_arena_reset(&g_a);
  return mg_http_target_parse(&g_a, raw, strlen(raw), t, g_err, sizeof g_err);
}

static void decodes_path_and_query(void **state) {
  (void)state;
  mg_http_target t;
  assert_int_equal(parse("/xapi/statements?agent=%7B%22mbox%22%3A%22mailto%3Aa%40b.cn%22%7D"
                         "&limit=10&format=ids&flag&&=skipped&q=a+b%2Bc",
                         &t),
                   MG_OK);
  assert_string_equal(t.path, "/xapi/statements");
  assert_int_equal(t.n_params, 5);
  assert_string_equal(mg_http_target_param(&t, "agent"), "{\"mbox\":\"mailto:a@b.cn\"}");
  assert_string_equal(mg_http_target_param(&t, "limit"), "10");
  assert_string_equal(mg_http_target_param(&t, "flag"), "");
  assert_string_equal(mg_http_target_param(&t, "q"), "a b+c");
  assert_null(mg_http_target_param(&t, "Limit")); /* names are case-sensitive */
  assert_string_equal(t.params[2].name, "format");

  /* first of duplicates wins; '?' inside the query is data; '+' stays in the path */
  assert_int_equal(parse("/a+b/%E9%AB%98?x=1&x=2&u=http://h/p?y=z", &t), MG_OK);
  assert_string_equal(t.path, "/a+b/\xE9\xAB\x98");
  assert_string_equal(mg_http_target_param(&t, "x"), "1");
  assert_string_equal(mg_http_target_param(&t, "u"), "http://h/p?y=z");

  /* absolute form and asterisk form */
  assert_int_equal(parse("http://lrs.example.cn:8443/xapi/about?x=1", &t), MG_OK);
  assert_string_equal(t.path, "/xapi/about");
  assert_string_equal(mg_http_target_param(&t, "x"), "1");
  assert_int_equal(parse("HTTPS://h", &t), MG_OK);
  assert_string_equal(t.path, "/");
  assert_int_equal(parse("*", &t), MG_OK);
  assert_string_equal(t.path, "*");
  assert_int_equal(t.n_params, 0);

  /* pretty-printed JSON in a parameter keeps its whitespace */
  assert_int_equal(parse("/s?agent=%7B%0A%09%22a%22%3A1%0D%0A%7D", &t), MG_OK);
  assert_string_equal(mg_http_target_param(&t, "agent"), "{\n\t\"a\":1\r\n}");
}

static void rejects_malformed_targets(void **state) {
  (void)state;
  static const struct {
    const char *raw;
    int rc;
    const char *msg;
  } bad[] = {
      {"", MG_EINVAL, "empty"},
      {"xapi/about", MG_EINVAL, "must start with '/'"},
      {"/a%zzb", MG_EINVAL, "invalid percent escape in the path at byte 2"},
      {"/a%4", MG_EINVAL, "invalid percent escape"},
      {"/a?x=%", MG_EINVAL, "invalid percent escape in the query parameter value"},
      {"/a%00b", MG_EINVAL, "control byte 0x00 in the path"},
      {"/a?x=%00", MG_EINVAL, "control byte 0x00"},
      {"/a?x=%07", MG_EINVAL, "control byte 0x07"},
      {"/a%0Ab", MG_EINVAL, "control byte 0x0a in the path"},
      {"/a%7F", MG_EINVAL, "control byte 0x7f"},
      {"/a\x01", MG_EINVAL, "byte 0x01 not allowed"},
      {"/a b", MG_EINVAL, "byte 0x20 not allowed"},
      {"/a#frag", MG_EINVAL, "fragment"},
      {"/a%C3%28", MG_EINVAL, "not valid UTF-8"},
      {"/a?x=%ED%A0%80", MG_EINVAL, "not valid UTF-8"}, /* a UTF-16 surrogate */
      {"/a/\xC0\xAF", MG_EINVAL, "not valid UTF-8"},    /* overlong '/' */
      {"/xapi/../etc", MG_EINVAL, "'..'"},
      {"/xapi/%2e%2E/etc", MG_EINVAL, "'..'"},
      {"/./xapi", MG_EINVAL, "'.'"},
      {"/xapi/..", MG_EINVAL, "'..'"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    mg_http_target t;
    int rc = parse(bad[i].raw, &t);
    if (rc != bad[i].rc || !strstr(g_err, bad[i].msg))
      fail_msg("target '%s': rc %d, message '%s'", bad[i].raw, rc, g_err);
    assert_null(t.path);
    assert_int_equal(t.n_params, 0);
  }
  /* dots that are not whole segments are fine */
  mg_http_target t;
  assert_int_equal(parse("/a/.well-known/x..y/...", &t), MG_OK);
}

static void bounds_size_and_parameter_count(void **state) {
  (void)state;
  char big[MG_HTTP_MAX_TARGET + 2];
  memset(big, 'a', sizeof big);
  big[0] = '/';
  big[MG_HTTP_MAX_TARGET + 1] = '\0';
  mg_http_target t;
  assert_int_equal(parse(big, &t), MG_ETOOBIG);
  big[MG_HTTP_MAX_TARGET] = '\0';
  assert_int_equal(parse(big, &t), MG_OK);

  char q[4096] = "/p?";
  size_t n = strlen(q);
  for (int i = 0; i < MG_HTTP_MAX_PARAMS; i++) n += (size_t)snprintf(q + n, sizeof q - n, "k%d=v&", i);
  assert_int_equal(parse(q, &t), MG_OK);
  assert_int_equal(t.n_params, MG_HTTP_MAX_PARAMS);
  snprintf(q + n, sizeof q - n, "one=more");
  assert_int_equal(parse(q, &t), MG_ETOOBIG);
  assert_non_null(strstr(g_err, "more than 100 query parameters"));
  /* empty pieces do not count, but a flood of them is refused without allocating for each */
  char amp[MG_HTTP_MAX_TARGET];
  memset(amp, '&', sizeof amp);
  amp[0] = '/';
  amp[1] = '?';
  amp[sizeof amp - 1] = '\0';
  assert_int_equal(parse(amp, &t), MG_ETOOBIG);
  assert_int_equal(parse("/p?&&&&a=1&&", &t), MG_OK);
  assert_int_equal(t.n_params, 1);
}

static void h_a(mg_http_req *req, mg_http_resp *resp, void *ud) { (void)req, (void)resp, (void)ud; }
static void h_b(mg_http_req *req, mg_http_resp *resp, void *ud) { (void)req, (void)resp, (void)ud; }

static void matches_routes_in_order(void **state) {
  (void)state;
  mg_http_router r;
  mg_http_router_init(&r);
  int tag1 = 1, tag2 = 2, tag3 = 3, tag4 = 4;
  assert_int_equal(mg_http_router_add(&r, "GET", "/xapi/about", h_a, &tag1), MG_OK);
  assert_int_equal(mg_http_router_add(&r, "PUT", "/xapi/statements", h_a, &tag2), MG_OK);
  assert_int_equal(mg_http_router_add(&r, "*", "/xapi/statements", h_b, &tag3), MG_OK);
  assert_int_equal(mg_http_router_add(&r, "GET", "/api/v1/*", h_b, &tag4), MG_OK);
  assert_int_equal(mg_http_router_add(&r, "TOOLONGMETHOD", "/x", h_b, NULL), MG_EINVAL);

  int known;
  const mg_http_route_def *d = mg_http_router_match(&r, "GET", "/xapi/about", &known);
  assert_non_null(d);
  assert_ptr_equal(d->ud, &tag1);
  assert_null(mg_http_router_match(&r, "POST", "/xapi/about", &known));
  assert_int_equal(known, 1); /* → 405 */
  assert_null(mg_http_router_match(&r, "GET", "/xapi/about/", &known));
  assert_int_equal(known, 0); /* exact routes do not match longer paths → 404 */
  d = mg_http_router_match(&r, "PUT", "/xapi/statements", &known);
  assert_ptr_equal(d->ud, &tag2); /* registration order */
  d = mg_http_router_match(&r, "DELETE", "/xapi/statements", &known);
  assert_ptr_equal(d->ud, &tag3);
  d = mg_http_router_match(&r, "GET", "/api/v1/platforms/3", &known);
  assert_ptr_equal(d->ud, &tag4);
  d = mg_http_router_match(&r, "GET", "/api/v1/", &known);
  assert_ptr_equal(d->ud, &tag4);
  assert_null(mg_http_router_match(&r, "GET", "/api/v1", &known));
  assert_int_equal(known, 0);

  for (int i = r.n_routes; i < MG_HTTP_MAX_ROUTES; i++)
    assert_int_equal(mg_http_router_add(&r, "GET", "/x", h_a, NULL), MG_OK);
  assert_int_equal(mg_http_router_add(&r, "GET", "/y", h_a, NULL), MG_ETOOBIG);
  mg_http_router_free(&r);
  assert_int_equal(r.n_routes, 0);
}

int main(void) {
  mg_arena_init(&g_a, 0, 1u << 20);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(decodes_path_and_query),
      cmocka_unit_test(rejects_malformed_targets),
      cmocka_unit_test(bounds_size_and_parameter_count),
      cmocka_unit_test(matches_routes_in_order),
  };
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  mg_arena_free(&g_a);
  return rc;
}
