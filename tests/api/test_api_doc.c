/* docs/api.md cannot drift from the code: every registered route is documented, every documented
 * route is registered, and each entry names the route's capability and exactly the roles the
 * capability table grants it to. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/routes.h"
#include "core/config.h"
#include "core/err.h"
#include "support.h"

typedef struct doc_entry {
  char method[8];
  char path[200];
  char cap[80];   /* "" when missing, "none" for public */
  char roles[400];
  int matched;
} doc_entry;

static int parse_doc(char *text, doc_entry *out, int max) {
  int n = 0;
  doc_entry *cur = NULL;
  for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
    char m[8], p[200];
    if (strncmp(line, "### `", 5) == 0) {
      if (sscanf(line + 5, "%7s /api/v1%199[^`]`", m, p) != 2) fail_msg("bad heading: %s", line);
      assert_true(n < max);
      cur = &out[n++];
      memset(cur, 0, sizeof *cur);
      snprintf(cur->method, sizeof cur->method, "%s", m);
      snprintf(cur->path, sizeof cur->path, "%s", p);
    } else if (cur && strncmp(line, "- Capability: ", 14) == 0) {
      const char *v = line + 14;
      if (strncmp(v, "none", 4) == 0)
        snprintf(cur->cap, sizeof cur->cap, "none");
      else if (sscanf(v, "`%79[^`]`", cur->cap) != 1)
        fail_msg("bad capability line: %s", line);
    } else if (cur && strncmp(line, "- Roles: ", 9) == 0) {
      snprintf(cur->roles, sizeof cur->roles, "%s", line + 9);
    } else if (strncmp(line, "## ", 3) == 0) {
      cur = NULL;
    }
  }
  return n;
}

/* "role_a, role_b" in enum order: the roles the table grants cap to. */
static void roles_of(const char *cap, char *out, size_t size) {
  out[0] = '\0';
  for (int r = MG_ROLE_NONE + 1; r < MG_ROLE_COUNT_; r++) {
    if (mg_auth_cap_scope((mg_role)r, cap) == MG_SCOPE_NONE) continue;
    size_t l = strlen(out);
    snprintf(out + l, size - l, "%s%s", l ? ", " : "", mg_auth_role_name((mg_role)r));
  }
}

static void docs_match_routes(void **state) {
  (void)state;
  mg_config cfg;
  mg_config_defaults(&cfg);
  mg_api *api = NULL;
  assert_int_equal(mg_api_create(NULL, NULL, &cfg, &api), MG_OK);
  assert_int_equal(mg_api_mount_all(api), MG_OK);
  size_t n = mg_api_route_count(api);
  assert_true(n >= 15);

  char path[1024];
  const char *src = getenv("MG_SOURCE_DIR");
  snprintf(path, sizeof path, "%s/docs/api.md", src ? src : "..");
  char *text = mg_test_read_file(path, NULL);
  assert_non_null(text);
  static doc_entry docs[512];
  int nd = parse_doc(text, docs, 512);
  int errors = 0;
  for (size_t i = 0; i < n; i++) {
    mg_api_route_info r = mg_api_route_at(api, i);
    doc_entry *d = NULL;
    for (int j = 0; j < nd && !d; j++)
      if (!strcmp(docs[j].method, r.method) && !strcmp(docs[j].path, r.pattern)) d = &docs[j];
    if (!d) {
      fprintf(stderr, "undocumented route: %s /api/v1%s (add it to docs/api.md)\n", r.method, r.pattern);
      errors++;
      continue;
    }
    d->matched++;
    const char *want_cap = r.capability ? r.capability : "none";
    if (strcmp(d->cap, want_cap)) {
      fprintf(stderr, "%s /api/v1%s: docs say capability '%s', the route needs '%s'\n", r.method,
              r.pattern, d->cap, want_cap);
      errors++;
    }
    char roles[400];
    if (r.capability)
      roles_of(r.capability, roles, sizeof roles);
    else
      snprintf(roles, sizeof roles, "anyone");
    if (strcmp(d->roles, roles)) {
      fprintf(stderr, "%s /api/v1%s: docs say roles '%s', the capability table says '%s'\n",
              r.method, r.pattern, d->roles, roles);
      errors++;
    }
  }
  for (int j = 0; j < nd; j++) {
    if (docs[j].matched == 1) continue;
    fprintf(stderr, "%s /api/v1%s is documented %s\n", docs[j].method, docs[j].path,
            docs[j].matched ? "more than once" : "but not registered");
    errors++;
  }
  free(text);
  mg_api_free(api);
  assert_int_equal(errors, 0);
}

static void nop(mg_api_call *c, void *ud) {
  (void)c;
  (void)ud;
}

/* Registration refuses capabilities that are not in the table (a typo would deny everyone). */
static void unknown_capability_refused(void **state) {
  (void)state;
  mg_config cfg;
  mg_config_defaults(&cfg);
  mg_api *api = NULL;
  assert_int_equal(mg_api_create(NULL, NULL, &cfg, &api), MG_OK);
  assert_int_equal(mg_api_route(api, "GET", "/x", "user.lsit", nop, NULL),
                   MG_EINVAL);
  assert_int_equal(mg_api_route(api, "GET", "x", "user.list", nop, NULL),
                   MG_EINVAL);
  assert_int_equal(mg_api_route(api, "GET", "/x/", "user.list", nop, NULL),
                   MG_EINVAL);
  assert_int_equal(mg_api_route(api, "GET", "/x/:id", "user.list", nop, NULL),
                   MG_OK);
  assert_int_equal(mg_api_route_count(api), 1);
  mg_api_free(api);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(docs_match_routes),
      cmocka_unit_test(unknown_capability_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
