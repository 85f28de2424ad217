/* GET/POST /api/v1/banks/items through the real server: a regulator adds known-bank items (all or
 * none, bad items named), replaces one, lists them in pages and looks one up; other roles and
 * anonymous callers are refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/totp.h"
#include "core/err.h"
#include "support.h"

static mg_test_server g_srv;

/* One request; fails the test unless the status is want. Returns the parsed body (caller decrefs). */
static json_t *req(const char *method, const char *token, const char *path, const char *body, int want) {
  char headers[512];
  snprintf(headers, sizeof headers, "%s%s%sContent-Type: application/json\r\n",
           token ? "Authorization: Bearer " : "", token ? token : "", token ? "\r\n" : "");
  mg_test_resp r;
  assert_int_equal(mg_test_http(g_srv.port, method, path, headers, body, body ? strlen(body) : 0, &r), 0);
  if (r.status != want) fail_msg("%s %s: %d %s, want %d", method, path, r.status, r.body.data ? r.body.data : "", want);
  json_error_t je;
  json_t *j = r.body.data ? json_loads(r.body.data, 0, &je) : NULL;
  mg_test_resp_free(&r);
  return j;
}

static json_t *post(const char *token, const char *path, const char *body) {
  char headers[512];
  snprintf(headers, sizeof headers, "%s%s%sContent-Type: application/json\r\n",
           token ? "Authorization: Bearer " : "", token ? token : "", token ? "\r\n" : "");
  mg_test_resp r;
  assert_int_equal(mg_test_http(g_srv.port, "POST", path, headers, body, strlen(body), &r), 0);
  if (r.status != 200 && r.status != 201) fail_msg("POST %s: %d %s", path, r.status, r.body.data);
  json_error_t je;
  json_t *j = json_loads(r.body.data, 0, &je);
  mg_test_resp_free(&r);
  return j;
}

static size_t b32decode(const char *s, uint8_t *out, size_t max) {
  uint32_t acc = 0;
  int bits = 0;
  size_t n = 0;
  for (; *s && *s != '='; s++) {
    const char *a = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", *p = strchr(a, *s);
    assert_non_null(p);
    acc = (acc << 5) | (uint32_t)(p - a);
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      assert_true(n < max);
      out[n++] = (uint8_t)(acc >> bits);
    }
  }
  return n;
}

/* Logs in, sets a new password, passes TOTP when the role needs it; token out. */
static void sign_in(const char *user, const char *initial, char token[128]) {
  char body[512];
  snprintf(body, sizeof body, "{\"username\":\"%s\",\"password\":\"%s\",\"token_type\":\"bearer\"}",
           user, initial);
  json_t *j = post(NULL, "/api/v1/auth/login", body);
  snprintf(token, 128, "%s", json_string_value(json_object_get(j, "token")));
  int mfa = json_is_true(json_object_get(j, "mfa_required"));
  json_decref(j);
  snprintf(body, sizeof body,
           "{\"current_password\":\"%s\",\"new_password\":\"Bank-Api-%zu#Qz2026\"}", initial,
           strlen(user) * 7919);
  json_decref(post(token, "/api/v1/auth/password", body));
  if (!mfa) return;
  j = post(token, "/api/v1/auth/totp/enrol", "{}");
  uint8_t key[64];
  size_t n = b32decode(json_string_value(json_object_get(j, "secret")), key, sizeof key);
  json_decref(j);
  uint32_t code = 0;
  assert_int_equal(mg_auth_totp_code(key, n, (int64_t)time(NULL) / 30, 6, &code), 0);
  snprintf(body, sizeof body, "{\"code\":\"%06u\"}", code);
  json_decref(post(token, "/api/v1/auth/totp/verify", body));
}

static char t_sec[128], t_moe[128];

static void make_user(const char *name, const char *role, long long org, const char *province,
                      char token[128]) {
  char body[512];
  snprintf(body, sizeof body,
           "{\"username\":\"%s\",\"role\":\"%s\",\"org_id\":%lld,\"province\":\"%s\"}", name, role,
           org, province);
  json_t *j = post(t_sec, "/api/v1/users", body);
  char initial[128];
  snprintf(initial, sizeof initial, "%.100s", json_string_value(json_object_get(j, "initial_password")));
  json_decref(j);
  sign_in(name, initial, token);
}


static char g_dir[512];

static int setup(void **state) {
  (void)state;
  mg_test_tmpdir("banks_api", g_dir, sizeof g_dir);
  char admin[700], store[700], cmd[1600];
  snprintf(store, sizeof store, "%s/moocguard.db", g_dir);
  snprintf(cmd, sizeof cmd, "rm -f '%s'*", store);
  if (system(cmd) != 0) return -1;
  snprintf(admin, sizeof admin, "%s/admin.txt", g_dir);
  const char *args[] = {"--password-hash", "interactive", "--first-admin-file", admin,
                        "--access-log", "false", "--store", store, NULL};
  if (mg_test_server_start("banks_api_srv", args, &g_srv)) return -1;
  char *f = mg_test_read_file(admin, NULL);
  char pw[128];
  if (!f || !strstr(f, "password=") || sscanf(strstr(f, "password="), "password=%127s", pw) != 1) {
    free(f);
    return -1;
  }
  free(f);
  sign_in("secadmin", pw, t_sec);
  make_user("moe", "regulator", 0, "", t_moe);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  mg_test_server_stop(&g_srv);
  return 0;
}

static void add_list_refuse(void **state) {
  (void)state;
  /* a bad item refuses the whole body, naming it */
  json_t *j = req("POST", t_moe, "/api/v1/banks/items",
                  "{\"items\":[{\"item_iri\":\"https://mooc.example.cn/item/Q1\",\"answer\":\"b\"},"
                  "{\"item_iri\":\"Q2\",\"answer\":\"a\"}]}", 400);
  assert_string_equal(json_string_value(json_object_get(j, "error")), "invalid_field");
  assert_non_null(strstr(json_string_value(json_object_get(j, "message")), "items[1]"));
  json_decref(j);
  json_decref(req("POST", t_moe, "/api/v1/banks/items", "{\"items\":[]}", 400));
  j = req("GET", t_moe, "/api/v1/banks/items", NULL, 200);
  assert_int_equal(json_array_size(json_object_get(j, "items")), 0);
  json_decref(j);
  /* three items, then one replaced */
  j = req("POST", t_moe, "/api/v1/banks/items",
          "{\"items\":[{\"item_iri\":\"https://mooc.example.cn/item/Q1\",\"answer\":\"b\",\"source\":\"site:tiku\"},"
          "{\"item_iri\":\"https://mooc.example.cn/item/Q2\",\"answer\":\"true\"},"
          "{\"item_iri\":\"https://mooc.example.cn/item/Q3\",\"answer\":\"a[,]c\"}]}", 201);
  assert_int_equal(json_integer_value(json_object_get(j, "inserted")), 3);
  json_decref(j);
  j = req("POST", t_moe, "/api/v1/banks/items",
          "{\"items\":[{\"item_iri\":\"https://mooc.example.cn/item/Q2\",\"answer\":\"false\"}]}", 200);
  assert_int_equal(json_integer_value(json_object_get(j, "replaced")), 1);
  json_decref(j);
  /* pages of two, in IRI order */
  j = req("GET", t_moe, "/api/v1/banks/items?limit=2", NULL, 200);
  assert_int_equal(json_array_size(json_object_get(j, "items")), 2);
  assert_true(json_is_true(json_object_get(j, "more")));
  char path[600];
  snprintf(path, sizeof path, "/api/v1/banks/items?limit=2&after=%s", json_string_value(json_object_get(j, "next_after")));
  json_decref(j);
  j = req("GET", t_moe, path, NULL, 200);
  assert_int_equal(json_array_size(json_object_get(j, "items")), 1);
  assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(j, "items"), 0), "item_iri")),
                      "https://mooc.example.cn/item/Q3");
  json_decref(j);
  j = req("GET", t_moe, "/api/v1/banks/items?item_iri=https://mooc.example.cn/item/Q2", NULL, 200);
  json_t *it = json_array_get(json_object_get(j, "items"), 0);
  assert_string_equal(json_string_value(json_object_get(it, "answer")), "false");
  assert_string_equal(json_string_value(json_object_get(it, "added_by")), "moe");
  json_decref(j);
  json_decref(req("GET", t_moe, "/api/v1/banks/items?item_iri=https://mooc.example.cn/item/none", NULL, 404));
  /* other roles: no */
  json_decref(req("GET", t_sec, "/api/v1/banks/items", NULL, 403));
  json_decref(req("POST", t_sec, "/api/v1/banks/items",
                  "{\"items\":[{\"item_iri\":\"https://mooc.example.cn/item/Q9\",\"answer\":\"b\"}]}", 403));
  json_decref(req("GET", NULL, "/api/v1/banks/items", NULL, 401));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(add_list_refuse),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
