/* fuzz/fuzz_agent_param.c — libFuzzer harness for the `agent` query parameter
 * (mg_xapi_validate_agent_param, xapi/validate.h) and agent keys (mg_xapi_agent_key,
 * xapi/statement.h).
 *
 * Input: the parameter's JSON text (any top-level value). Checked, for both xAPI versions:
 *  - validation is deterministic, returns MG_OK or MG_EINVAL, and its error text is bounded,
 *    valid UTF-8 with the path under "agent";
 *  - a valid parameter has a key: mg_xapi_agent_key succeeds with a known prefix, and the key
 *    is the same for a deep copy and for the parameter re-parsed from its serialisation;
 *  - the key a query looks up is the key the store indexes: a statement whose actor is the
 *    parameter validates, and mg_xapi_keys_extract gives it the same actor_key (otherwise
 *    GET /statements?agent=... would miss statements);
 *  - mg_xapi_agent_key never fails on an object other than with MG_EINVAL and never modifies
 *    its input. */
#include <stdint.h>
#include <string.h>

#include "fuzz_common.h"

#include "core/json.h"
#include "xapi/statement.h"
#include "xapi/validate.h"

#define STORED_US INT64_C(1709281800000000)

static int key_of(const mg_json *agent, mg_buf *out) {
  mg_buf_init(out, 1 << 20);
  int rc = mg_xapi_agent_key(agent, out);
  FUZZ_CHECK(rc == MG_OK || rc == MG_EINVAL);
  if (rc) FUZZ_CHECK(out->len == 0);
  return rc;
}

static int has_prefix(const char *s, const char *p) { return strncmp(s, p, strlen(p)) == 0; }

/* A statement with the parameter as actor: same validity, same key in the index. */
static void as_actor(mg_arena *a, mg_json *agent, mg_xapi_version v, const char *key) {
  static const char base[] =
      "{\"verb\":{\"id\":\"http://adlnet.gov/expapi/verbs/experienced\"},"
      "\"object\":{\"id\":\"http://example.org/activity\"}}";
  mg_json *stmt = mg_json_parse(a, base, sizeof base - 1, 0, NULL);
  FUZZ_CHECK(stmt != NULL && mg_json_object_set(a, stmt, "actor", agent) == MG_OK);
  mg_xapi_error e;
  int rc = mg_xapi_validate_statement(stmt, v, NULL, &e);
  if (rc) fprintf(stderr, "valid agent parameter rejected as actor: %s: %s\n", e.path, e.message);
  FUZZ_CHECK(rc == MG_OK);
  FUZZ_CHECK(mg_xapi_prepare(a, stmt, v, STORED_US, NULL) == MG_OK);
  mg_xapi_keys k;
  FUZZ_CHECK(mg_xapi_keys_extract(stmt, &k) == MG_OK);
  FUZZ_CHECK(k.row.actor_key != NULL && strcmp(k.row.actor_key, key) == 0);
  mg_xapi_keys_free(&k);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  mg_arena a;
  fuzz_arena_init(&a);
  mg_json *agent = mg_json_parse(&a, (const char *)data, size, MG_JSON_DECODE_ANY, NULL);
  if (!agent) goto out;
  mg_json *orig = mg_json_deep_copy(&a, agent);
  FUZZ_CHECK(orig != NULL);

  mg_buf key;
  int krc = key_of(agent, &key);

  static const mg_xapi_version versions[] = {MG_XAPI_V103, MG_XAPI_V200};
  for (size_t i = 0; i < 2; i++) {
    mg_xapi_error e1, e2;
    int rc = mg_xapi_validate_agent_param(agent, versions[i], &e1);
    FUZZ_CHECK(rc == MG_OK || rc == MG_EINVAL);
    FUZZ_CHECK(mg_xapi_validate_agent_param(agent, versions[i], &e2) == rc);
    FUZZ_CHECK(mg_xapi_validate_agent_param(agent, versions[i], NULL) == rc);
    if (rc) {
      FUZZ_CHECK(fuzz_text_ok(e1.path, sizeof e1.path) && fuzz_text_ok(e1.message, sizeof e1.message));
      FUZZ_CHECK(has_prefix(e1.path, "agent"));
      FUZZ_CHECK(strcmp(e1.path, e2.path) == 0 && strcmp(e1.message, e2.message) == 0);
      continue;
    }
    FUZZ_CHECK(krc == MG_OK && key.len > 0);
    FUZZ_CHECK(has_prefix(key.data, "mbox:") || has_prefix(key.data, "mbox_sha1sum:") ||
               has_prefix(key.data, "openid:") || has_prefix(key.data, "account:"));
    mg_buf k2;
    FUZZ_CHECK(key_of(mg_json_deep_copy(&a, agent), &k2) == MG_OK);
    FUZZ_CHECK(k2.len == key.len && memcmp(k2.data, key.data, key.len) == 0);
    mg_buf_free(&k2);
    FUZZ_CHECK(key_of(fuzz_roundtrip(&a, agent), &k2) == MG_OK);
    FUZZ_CHECK(k2.len == key.len && memcmp(k2.data, key.data, key.len) == 0);
    mg_buf_free(&k2);
    as_actor(&a, mg_json_deep_copy(&a, agent), versions[i], key.data);
  }
  mg_buf_free(&key);
  FUZZ_CHECK(fuzz_same_text(agent, orig));
out:
  mg_arena_free(&a);
  return 0;
}
