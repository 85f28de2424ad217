/* End-to-end tests of the xAPI LRS: the real `moocguard serve` on loopback, spoken to over HTTP. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/uuid.h"
#include "support.h"

static mg_test_server g_srv;

#define V2 "X-Experience-API-Version: 2.0.0\r\n"
#define JSONCT "Content-Type: application/json\r\n"

static int setup(void **state) {
  (void)state;
  const char *args[] = {"--max-body", "200000", "--access-log", "false", NULL};
  return mg_test_server_start("lrs", args, &g_srv);
}

static int teardown(void **state) {
  (void)state;
  return mg_test_server_stop(&g_srv) == 0 ? 0 : -1;
}

static void hdrs(char *out, size_t size, const char *extra) {
  snprintf(out, size, "%s" V2 JSONCT "%s", g_srv.auth_header, extra ? extra : "");
}

static void new_id(char out[MG_UUID_STR_LEN]) {
  uint8_t u[16];
  mg_uuid_v4(u);
  mg_uuid_format(u, out);
}

/* A plain statement: student `who` did `verb` on activity `act`. */
static void stmt(char *out, size_t size, const char *id, const char *who, const char *verb,
                 const char *act) {
  snprintf(out, size,
           "{%s%s%s\"actor\":{\"objectType\":\"Agent\",\"account\":{\"homePage\":"
           "\"https://id.pku.edu.cn\",\"name\":\"%s\"}},\"verb\":{\"id\":\"http://adlnet.gov/expapi/"
           "verbs/%s\",\"display\":{\"zh-CN\":\"%s\"}},\"object\":{\"id\":\"https://mooc.example.cn/"
           "course/%s\",\"definition\":{\"name\":{\"zh-CN\":\"高等数学\"}}},\"timestamp\":"
           "\"2026-03-01T08:00:00+08:00\"}",
           id ? "\"id\":\"" : "", id ? id : "", id ? "\"," : "", who, verb, verb, act);
}

static int post(const char *body, mg_test_resp *r) {
  char h[1024];
  hdrs(h, sizeof h, NULL);
  return mg_test_http(g_srv.port, "POST", "/xapi/statements", h, body, strlen(body), r);
}

static long count_for(const char *who) {
  char target[512], h[1024];
  snprintf(target, sizeof target,
           "/xapi/statements?agent=%%7B%%22account%%22%%3A%%7B%%22homePage%%22%%3A%%22https%%3A%%2F"
           "%%2Fid.pku.edu.cn%%22%%2C%%22name%%22%%3A%%22%s%%22%%7D%%7D&limit=500",
           who);
  hdrs(h, sizeof h, NULL);
  mg_test_resp r;
  assert_int_equal(mg_test_http(g_srv.port, "GET", target, h, NULL, 0, &r), 0);
  assert_int_equal(r.status, 200);
  json_error_t e;
  json_t *j = json_loads(r.body.data, 0, &e);
  assert_non_null(j);
  long n = (long)json_array_size(json_object_get(j, "statements"));
  json_decref(j);
  mg_test_resp_free(&r);
  return n;
}

static void about_answers_without_auth(void **state) {
  (void)state;
  mg_test_resp r;
  assert_int_equal(mg_test_http(g_srv.port, "GET", "/xapi/about", NULL, NULL, 0, &r), 0);
  assert_int_equal(r.status, 200);
  json_error_t e;
  json_t *j = json_loads(r.body.data, 0, &e);
  assert_non_null(j);
  json_t *v = json_object_get(j, "version");
  int has103 = 0, has200 = 0;
  size_t i;
  json_t *x;
  json_array_foreach(v, i, x) {
    if (!strcmp(json_string_value(x), "1.0.3")) has103 = 1;
    if (!strcmp(json_string_value(x), "2.0.0")) has200 = 1;
  }
  assert_true(has103 && has200);
  json_decref(j);
  mg_test_resp_free(&r);
}

static void post_put_get_roundtrip(void **state) {
  (void)state;
  char id[MG_UUID_STR_LEN], body[2048], h[1024], target[256];
  mg_test_resp r;
  /* POST without id: the LRS assigns one */
  stmt(body, sizeof body, NULL, "s-roundtrip", "experienced", "calc-1");
  assert_int_equal(post(body, &r), 0);
  assert_int_equal(r.status, 200);
  json_error_t e;
  json_t *ids = json_loads(r.body.data, 0, &e);
  assert_true(json_is_array(ids) && json_array_size(ids) == 1);
  char got[64];
  assert_true(mg_test_resp_header(&r, "X-Experience-API-Version", got, sizeof got));
  assert_string_equal(got, "2.0.0");
  mg_test_resp_free(&r);
  /* GET it back: stored, authority and version assigned, timestamp in UTC */
  snprintf(target, sizeof target, "/xapi/statements?statementId=%s",
           json_string_value(json_array_get(ids, 0)));
  hdrs(h, sizeof h, NULL);
  assert_int_equal(mg_test_http(g_srv.port, "GET", target, h, NULL, 0, &r), 0);
  assert_int_equal(r.status, 200);
  assert_true(mg_test_resp_header(&r, "Last-Modified", got, sizeof got));
  assert_true(mg_test_resp_header(&r, "X-Experience-API-Consistent-Through", got, sizeof got));
  json_t *s = json_loads(r.body.data, 0, &e);
  assert_non_null(s);
  assert_string_equal(json_string_value(json_object_get(s, "id")),
                      json_string_value(json_array_get(ids, 0)));
  assert_non_null(json_object_get(s, "stored"));
  assert_string_equal(json_string_value(json_object_get(s, "version")), "2.0.0");
  json_t *auth = json_object_get(s, "authority");
  assert_string_equal(json_string_value(json_object_get(json_object_get(auth, "account"), "name")),
                      g_srv.key);
  assert_non_null(strstr(json_string_value(json_object_get(s, "timestamp")), "Z"));
  json_decref(s);
  json_decref(ids);
  mg_test_resp_free(&r);

  /* PUT with statementId: 204; identical re-PUT: 204; different content: 409 */
  new_id(id);
  stmt(body, sizeof body, NULL, "s-roundtrip", "attempted", "calc-2");
  snprintf(target, sizeof target, "/xapi/statements?statementId=%s", id);
  assert_int_equal(mg_test_http(g_srv.port, "PUT", target, h, body, strlen(body), &r), 0);
  assert_int_equal(r.status, 204);
  mg_test_resp_free(&r);
  assert_int_equal(mg_test_http(g_srv.port, "PUT", target, h, body, strlen(body), &r), 0);
  assert_int_equal(r.status, 204);
  mg_test_resp_free(&r);
  stmt(body, sizeof body, NULL, "s-roundtrip", "attempted", "calc-3");
  assert_int_equal(mg_test_http(g_srv.port, "PUT", target, h, body, strlen(body), &r), 0);
  assert_int_equal(r.status, 409);
  assert_non_null(strstr(r.body.data, "\"error\":\"conflict\""));
  mg_test_resp_free(&r);
  assert_int_equal(count_for("s-roundtrip"), 2);
  /* HEAD answers like GET without a body */
  assert_int_equal(mg_test_http(g_srv.port, "HEAD", target, h, NULL, 0, &r), 0);
  assert_int_equal(r.status, 200);
  assert_int_equal(r.body.len, 0);
  mg_test_resp_free(&r);
}

static void batch_is_atomic(void **state) {
  (void)state;
  char a[2048], b[2048], body[5000];
  mg_test_resp r;
  stmt(a, sizeof a, NULL, "s-atomic", "experienced", "a1");
  /* second statement has an unknown property deep inside */
  stmt(b, sizeof b, NULL, "s-atomic", "experienced", "a2");
  char *p = strstr(b, "\"display\"");
  char bad[2100];
  snprintf(bad, sizeof bad, "%.*s\"colour\":\"red\",%s", (int)(p - b), b, p);
  snprintf(body, sizeof body, "[%s,%s]", a, bad);
  assert_int_equal(post(body, &r), 0);
  assert_int_equal(r.status, 400);
  assert_non_null(strstr(r.body.data, "[1].verb"));
  mg_test_resp_free(&r);
  assert_int_equal(count_for("s-atomic"), 0);
  snprintf(body, sizeof body, "[%s,%s]", a, b);
  assert_int_equal(post(body, &r), 0);
  assert_int_equal(r.status, 200);
  mg_test_resp_free(&r);
  assert_int_equal(count_for("s-atomic"), 2);
}

static void bad_input_is_rejected_and_stores_nothing(void **state) {
  (void)state;
  char good[2048], h[1024];
  mg_test_resp r;
  stmt(good, sizeof good, NULL, "s-bad", "experienced", "b1");
  struct {
    const char *what;
    const char *headers;
    const char *body;
    size_t len;
    int status;
    const char *needle;
  } cases[] = {
      {"malformed JSON", NULL, "{\"actor\":", 0, 400, "malformed_json"},
      {"invalid UTF-8", NULL, "[\"\xff\xfe\"]", 0, 400, "malformed_json"},
      {"duplicate keys", NULL, "{\"verb\":{\"id\":\"http://x.y/z\"},\"verb\":{\"id\":\"http://x.y/z\"}}",
       0, 400, "duplicate"},
      {"wrong type", NULL, "{\"actor\":{\"mbox\":\"mailto:a@b.c\"},\"verb\":{\"id\":42},"
       "\"object\":{\"id\":\"http://x.y/z\"}}", 0, 400, "verb.id"},
      {"not an object", NULL, "42", 0, 400, "invalid_statement"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    hdrs(h, sizeof h, NULL);
    assert_int_equal(mg_test_http(g_srv.port, "POST", "/xapi/statements", h, cases[i].body,
                                  strlen(cases[i].body), &r), 0);
    if (r.status != cases[i].status || !strstr(r.body.data, cases[i].needle))
      fail_msg("%s: got %d %s", cases[i].what, r.status, r.body.data);
    assert_non_null(strstr(r.body.data, "\"message\":"));
    mg_test_resp_free(&r);
  }
  /* missing version header */
  char nh[1024];
  snprintf(nh, sizeof nh, "%s" JSONCT, g_srv.auth_header);
  assert_int_equal(mg_test_http(g_srv.port, "POST", "/xapi/statements", nh, good, strlen(good), &r), 0);
  assert_int_equal(r.status, 400);
  assert_non_null(strstr(r.body.data, "missing_version"));
  mg_test_resp_free(&r);
  /* unsupported version */
  snprintf(nh, sizeof nh, "%sX-Experience-API-Version: 0.9\r\n" JSONCT, g_srv.auth_header);
  assert_int_equal(mg_test_http(g_srv.port, "POST", "/xapi/statements", nh, good, strlen(good), &r), 0);
  assert_int_equal(r.status, 400);
  mg_test_resp_free(&r);
  /* wrong content type */
  snprintf(nh, sizeof nh, "%s" V2 "Content-Type: text/plain\r\n", g_srv.auth_header);
  assert_int_equal(mg_test_http(g_srv.port, "POST", "/xapi/statements", nh, good, strlen(good), &r), 0);
  assert_int_equal(r.status, 400);
  assert_non_null(strstr(r.body.data, "unsupported_content_type"));
  mg_test_resp_free(&r);
  /* oversized body (server runs with --max-body 200000) */
  size_t big = 300000;
  char *huge = malloc(big);
  assert_non_null(huge);
  memset(huge, ' ', big);
  huge[0] = '[';
  huge[big - 1] = ']';
  hdrs(h, sizeof h, NULL);
  assert_int_equal(mg_test_http(g_srv.port, "POST", "/xapi/statements", h, huge, big, &r), 0);
  assert_int_equal(r.status, 413);
  mg_test_resp_free(&r);
  free(huge);
  /* unknown / disabled credential: 401 */
  snprintf(nh, sizeof nh, "Authorization: Basic cGtfbm9wZTpub3BlCg==\r\n" V2 JSONCT);
  assert_int_equal(mg_test_http(g_srv.port, "POST", "/xapi/statements", nh, good, strlen(good), &r), 0);
  assert_int_equal(r.status, 401);
  mg_test_resp_free(&r);
  snprintf(nh, sizeof nh, V2 JSONCT);
  assert_int_equal(mg_test_http(g_srv.port, "POST", "/xapi/statements", nh, good, strlen(good), &r), 0);
  assert_int_equal(r.status, 401);
  mg_test_resp_free(&r);
  assert_int_equal(count_for("s-bad"), 0);
  /* unknown query parameter on GET */
  hdrs(h, sizeof h, NULL);
  assert_int_equal(mg_test_http(g_srv.port, "GET", "/xapi/statements?colour=red", h, NULL, 0, &r), 0);
  assert_int_equal(r.status, 400);
  assert_non_null(strstr(r.body.data, "colour"));
  mg_test_resp_free(&r);
}

static void paging_and_voiding(void **state) {
  (void)state;
  char body[2048], h[1024], ids[7][MG_UUID_STR_LEN];
  mg_test_resp r;
  for (int i = 0; i < 7; i++) {
    new_id(ids[i]);
    stmt(body, sizeof body, ids[i], "s-page", "experienced", "p");
    assert_int_equal(post(body, &r), 0);
    assert_int_equal(r.status, 200);
    mg_test_resp_free(&r);
  }
  /* pages of 3, newest first, following `more` */
  hdrs(h, sizeof h, NULL);
  char target[2048];
  snprintf(target, sizeof target,
           "/xapi/statements?verb=http%%3A%%2F%%2Fadlnet.gov%%2Fexpapi%%2Fverbs%%2Fexperienced&"
           "activity=https%%3A%%2F%%2Fmooc.example.cn%%2Fcourse%%2Fp&limit=3");
  int seen = 0, pages = 0;
  for (;;) {
    assert_int_equal(mg_test_http(g_srv.port, "GET", target, h, NULL, 0, &r), 0);
    assert_int_equal(r.status, 200);
    json_error_t e;
    json_t *j = json_loads(r.body.data, 0, &e);
    assert_non_null(j);
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(j, "statements"), i, s) {
      assert_string_equal(json_string_value(json_object_get(s, "id")), ids[6 - seen]);
      seen++;
    }
    pages++;
    const char *more = json_string_value(json_object_get(j, "more"));
    if (!more || !*more) {
      json_decref(j);
      mg_test_resp_free(&r);
      break;
    }
    if (pages == 1) { /* an insert between pages must not appear in this query */
      char extra[2048], xid[MG_UUID_STR_LEN];
      mg_test_resp r2;
      new_id(xid);
      stmt(extra, sizeof extra, xid, "s-page", "experienced", "p");
      assert_int_equal(post(extra, &r2), 0);
      mg_test_resp_free(&r2);
    }
    snprintf(target, sizeof target, "%s", more);
    json_decref(j);
    mg_test_resp_free(&r);
  }
  assert_int_equal(seen, 7);
  assert_int_equal(pages, 3);
  /* void ids[0]: GET by statementId is 404, by voidedStatementId 200 */
  char vid[MG_UUID_STR_LEN];
  new_id(vid);
  snprintf(body, sizeof body,
           "{\"id\":\"%s\",\"actor\":{\"mbox\":\"mailto:teacher@pku.edu.cn\"},\"verb\":{\"id\":"
           "\"http://adlnet.gov/expapi/verbs/voided\"},\"object\":{\"objectType\":\"StatementRef\","
           "\"id\":\"%s\"}}",
           vid, ids[0]);
  assert_int_equal(post(body, &r), 0);
  assert_int_equal(r.status, 200);
  mg_test_resp_free(&r);
  snprintf(target, sizeof target, "/xapi/statements?statementId=%s", ids[0]);
  assert_int_equal(mg_test_http(g_srv.port, "GET", target, h, NULL, 0, &r), 0);
  assert_int_equal(r.status, 404);
  mg_test_resp_free(&r);
  snprintf(target, sizeof target, "/xapi/statements?voidedStatementId=%s", ids[0]);
  assert_int_equal(mg_test_http(g_srv.port, "GET", target, h, NULL, 0, &r), 0);
  assert_int_equal(r.status, 200);
  mg_test_resp_free(&r);
  /* a voiding statement cannot be voided */
  char vvid[MG_UUID_STR_LEN];
  new_id(vvid);
  snprintf(body, sizeof body,
           "{\"id\":\"%s\",\"actor\":{\"mbox\":\"mailto:teacher@pku.edu.cn\"},\"verb\":{\"id\":"
           "\"http://adlnet.gov/expapi/verbs/voided\"},\"object\":{\"objectType\":\"StatementRef\","
           "\"id\":\"%s\"}}",
           vvid, vid);
  assert_int_equal(post(body, &r), 0);
  assert_int_equal(r.status, 400);
  mg_test_resp_free(&r);
}

/* moocguard's extension: filter on the statement's own timestamp (event time), not on stored. */
static void timestamp_filters(void **state) {
  (void)state;
  static const char *const ts[] = {"2026-03-01T08:00:00+08:00", "2026-03-02T00:00:00Z",
                                   "2026-03-02T23:59:59.999Z", "2026-03-03T00:00:00Z"};
  char body[2048];
  mg_test_resp r;
  for (int i = 0; i < 4; i++) {
    snprintf(body, sizeof body,
             "{\"actor\":{\"account\":{\"homePage\":\"https://id.pku.edu.cn\",\"name\":\"s-ts\"}},"
             "\"verb\":{\"id\":\"http://adlnet.gov/expapi/verbs/experienced\"},"
             "\"object\":{\"id\":\"https://mooc.example.cn/ts\"},\"timestamp\":\"%s\"}", ts[i]);
    assert_int_equal(post(body, &r), 0);
    assert_int_equal(r.status, 200);
    mg_test_resp_free(&r);
  }
  const char *agent = "agent=%7B%22account%22%3A%7B%22homePage%22%3A%22https%3A%2F%2Fid.pku.edu.cn"
                      "%22%2C%22name%22%3A%22s-ts%22%7D%7D";
  char q[1024];
  /* [2026-03-02T00:00Z, 2026-03-03T00:00Z): the second and third; +08:00 is 2026-03-01T00:00Z */
  snprintf(q, sizeof q, "%s&timestamp_since=2026-03-02T00:00:00Z&timestamp_until=2026-03-03T00:00:00Z", agent);
  assert_int_equal(mg_test_count_statements(&g_srv, q), 2);
  snprintf(q, sizeof q, "%s&timestamp_until=2026-03-01T00:00:00.001Z", agent);
  assert_int_equal(mg_test_count_statements(&g_srv, q), 1);
  snprintf(q, sizeof q, "%s&timestamp_since=2026-03-01T00:00:00%%2B08:00", agent);
  assert_int_equal(mg_test_count_statements(&g_srv, q), 4);
  /* stored-time filters are separate: all four were stored just now */
  snprintf(q, sizeof q, "%s&since=2026-01-01T00:00:00Z", agent);
  assert_int_equal(mg_test_count_statements(&g_srv, q), 4);
  snprintf(q, sizeof q, "%s&until=2026-01-01T00:00:00Z", agent);
  assert_int_equal(mg_test_count_statements(&g_srv, q), 0);
  /* a bad timestamp is a 400 */
  char h[1024], target[1200];
  hdrs(h, sizeof h, NULL);
  snprintf(target, sizeof target, "/xapi/statements?%s&timestamp_since=yesterday", agent);
  assert_int_equal(mg_test_http(g_srv.port, "GET", target, h, NULL, 0, &r), 0);
  assert_int_equal(r.status, 400);
  assert_non_null(strstr(r.body.data, "timestamp_since"));
  mg_test_resp_free(&r);
}

static void cors_preflight(void **state) {
  (void)state;
  mg_test_resp r;
  assert_int_equal(mg_test_http(g_srv.port, "OPTIONS", "/xapi/statements",
                                "Origin: https://console.example.cn\r\n"
                                "Access-Control-Request-Method: POST\r\n",
                                NULL, 0, &r), 0);
  assert_true(r.status == 200 || r.status == 204);
  char v[256];
  assert_true(mg_test_resp_header(&r, "Access-Control-Allow-Origin", v, sizeof v));
  assert_string_equal(v, "https://console.example.cn");
  assert_true(mg_test_resp_header(&r, "Access-Control-Allow-Headers", v, sizeof v));
  assert_non_null(strstr(v, "X-Experience-API-Version"));
  mg_test_resp_free(&r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(about_answers_without_auth),
      cmocka_unit_test(post_put_get_roundtrip),
      cmocka_unit_test(batch_is_atomic),
      cmocka_unit_test(bad_input_is_rejected_and_stores_nothing),
      cmocka_unit_test(paging_and_voiding),
      cmocka_unit_test(timestamp_filters),
      cmocka_unit_test(cors_preflight),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
