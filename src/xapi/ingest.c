#include "xapi/ingest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/err.h"
#include "core/time.h"
#include "core/uuid.h"
#include "xapi/jws.h"
#include "xapi/profile.h"
#include "xapi/statement.h"
#include "xapi/validate.h"

mg_json *mg_xapi_parse_json(mg_arena *a, const char *data, size_t len, char *msg, size_t msgsize) {
  mg_json_error e;
  mg_json *j = mg_json_parse(a, data, len, MG_JSON_DECODE_ANY, &e);
  if (!j) snprintf(msg, msgsize, "malformed JSON at line %d, column %d: %s", e.line, e.column, e.text);
  return j;
}

mg_json *mg_xapi_platform_authority(mg_arena *a, const char *base_url, const char *key,
                                    const char *name) {
  char home[512];
  snprintf(home, sizeof home, "%s/platforms", base_url);
  mg_json *acct = mg_json_object(a), *agent = mg_json_object(a);
  mg_json *ot = mg_json_string(a, "Agent"), *nm = mg_json_string(a, name);
  mg_json *hp = mg_json_string(a, home), *k = mg_json_string(a, key);
  if (!acct || !agent || !ot || !nm || !hp || !k || mg_json_object_set(a, acct, "homePage", hp) ||
      mg_json_object_set(a, acct, "name", k) || mg_json_object_set(a, agent, "objectType", ot) ||
      mg_json_object_set(a, agent, "name", nm) || mg_json_object_set(a, agent, "account", acct))
    return NULL;
  return agent;
}

static void fail(mg_xapi_ingest_result *res, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void fail(mg_xapi_ingest_result *res, int status, const char *code, const char *fmt, ...) {
  va_list ap;
  res->status = status;
  snprintf(res->error, sizeof res->error, "%s", code);
  va_start(ap, fmt);
  vsnprintf(res->message, sizeof res->message, fmt, ap);
  va_end(ap);
}

static int is_voiding(const mg_json *stmt) {
  const mg_json *verb = mg_json_object_get(stmt, "verb");
  const char *vid = mg_json_string_value(mg_json_object_get(verb, "id"));
  return vid && strcmp(vid, MG_XAPI_VERB_VOIDED) == 0;
}

/* Checks the voiding rules that need context: a voiding statement targets a StatementRef, and
 * a voiding statement is never itself voided (neither in the store nor in this batch). */
static int check_voiding(const mg_xapi_ingest_ctx *ctx, mg_json **stmts, size_t n, int batch,
                         mg_xapi_ingest_result *res) {
  for (size_t i = 0; i < n; i++) {
    if (!is_voiding(stmts[i])) continue;
    char where[32] = "";
    if (batch) snprintf(where, sizeof where, "[%zu].", i);
    const mg_json *obj = mg_json_object_get(stmts[i], "object");
    const char *ot = mg_json_string_value(mg_json_object_get(obj, "objectType"));
    if (!ot || strcmp(ot, "StatementRef") != 0) {
      fail(res, 400, "invalid_statement",
           "%sobject: a voiding statement (verb %s) must have a StatementRef object", where,
           MG_XAPI_VERB_VOIDED);
      return MG_EINVAL;
    }
    const char *target = mg_json_string_value(mg_json_object_get(obj, "id"));
    uint8_t tid[16];
    if (!target || mg_uuid_parse(target, tid) != MG_OK) continue; /* validator reports it */
    for (size_t j = 0; j < n; j++) {
      const char *sid = mg_json_string_value(mg_json_object_get(stmts[j], "id"));
      uint8_t jid[16];
      if (j != i && sid && mg_uuid_parse(sid, jid) == MG_OK && memcmp(jid, tid, 16) == 0 &&
          is_voiding(stmts[j])) {
        fail(res, 400, "invalid_statement", "%sobject.id: a voiding statement cannot be voided",
             where);
        return MG_EINVAL;
      }
    }
    mg_store_stmt_info info;
    int rc = mg_store_stmt_get(ctx->store, tid, &info, NULL, NULL);
    if (rc == MG_OK && info.is_voiding) {
      fail(res, 400, "invalid_statement", "%sobject.id: statement %s is a voiding statement and "
           "cannot be voided", where, target);
      return MG_EINVAL;
    }
    if (rc != MG_OK && rc != MG_ENOTFOUND) {
      fail(res, 500, "store_error", "store lookup failed: %s", mg_strerror(rc));
      return MG_ESTORE;
    }
  }
  return MG_OK;
}

/* Copies the attachment parts' hash and content type into NUL-terminated strings for the store.
 * strs gets up to 2 * n owned strings (hash, content type); the caller frees them. A part
 * repeated with the same hash is stored once: *n_out counts the distinct ones. */
static int parts_to_store(const mg_xapi_part *parts, size_t n, mg_store_attachment *atts,
                          char **strs, size_t *n_out) {
  size_t k = 0;
  for (size_t p = 0; p < n; p++) {
    int dup = 0;
    for (size_t q = 0; q < p && !dup; q++)
      dup = parts[q].hash.len == parts[p].hash.len &&
            strncasecmp(parts[q].hash.p ? parts[q].hash.p : "", parts[p].hash.p ? parts[p].hash.p : "",
                        parts[p].hash.len) == 0;
    if (dup) continue;
    strs[2 * k] = strndup(parts[p].hash.p ? parts[p].hash.p : "", parts[p].hash.len);
    strs[2 * k + 1] =
        strndup(parts[p].content_type.p ? parts[p].content_type.p : "", parts[p].content_type.len);
    if (!strs[2 * k] || !strs[2 * k + 1]) return MG_ENOMEM;
    for (char *c = strs[2 * k]; *c; c++)
      if (*c >= 'A' && *c <= 'F') *c = (char)(*c - 'A' + 'a');
    atts[k].sha2 = strs[2 * k];
    atts[k].content_type = strs[2 * k + 1];
    atts[k].data = parts[p].data;
    atts[k].len = parts[p].len;
    k++;
    *n_out = k;
  }
  *n_out = k;
  return MG_OK;
}

static int cmp_id(const void *a, const void *b) { return memcmp(a, b, 16); }

/* A batch may not use one id twice (xAPI Communication 2.1.2). Sorts a copy: O(n log n). */
static int check_unique_ids(mg_json **stmts, size_t n, mg_xapi_ingest_result *res) {
  uint8_t(*ids)[16] = malloc(n * sizeof *ids);
  size_t k = 0;
  if (!ids) return MG_ENOMEM;
  for (size_t i = 0; i < n; i++) {
    const char *sid = mg_json_string_value(mg_json_object_get(stmts[i], "id"));
    if (sid && mg_uuid_parse(sid, ids[k]) == MG_OK) k++;
  }
  qsort(ids, k, sizeof *ids, cmp_id);
  int rc = MG_OK;
  for (size_t i = 1; i < k && rc == MG_OK; i++) {
    if (memcmp(ids[i - 1], ids[i], 16) == 0) {
      char txt[MG_UUID_STR_LEN];
      mg_uuid_format(ids[i], txt);
      fail(res, 400, "duplicate_id", "the batch uses statement id %s more than once", txt);
      rc = MG_EINVAL;
    }
  }
  free(ids);
  return rc;
}

static int check_put_id(mg_arena *a, mg_json *stmt, const char *put_id,
                        mg_xapi_ingest_result *res) {
  uint8_t want[16], got[16];
  const char *sid = mg_json_string_value(mg_json_object_get(stmt, "id"));
  if (mg_uuid_parse(put_id, want) != MG_OK) {
    fail(res, 400, "invalid_parameter", "statementId '%s' is not a UUID", put_id);
    return MG_EINVAL;
  }
  if (sid) {
    if (mg_uuid_parse(sid, got) != MG_OK || memcmp(want, got, 16) != 0) {
      fail(res, 400, "id_mismatch", "id: statement id %s differs from statementId %s", sid, put_id);
      return MG_EINVAL;
    }
    return MG_OK;
  }
  char canon[MG_UUID_STR_LEN];
  mg_uuid_format(want, canon);
  mg_json *idv = mg_json_string(a, canon);
  return !idv || mg_json_object_set(a, stmt, "id", idv) ? MG_ENOMEM : MG_OK;
}

int mg_xapi_ingest(const mg_xapi_ingest_ctx *ctx, mg_json *statements, const char *put_id,
                   const mg_xapi_part *parts, size_t n_parts, mg_xapi_ingest_result *res) {
  int rc = MG_EINVAL;
  mg_json **stmts = NULL;
  mg_xapi_keys *keys = NULL;
  mg_store_stmt *rows = NULL;
  char **att_strs = NULL;
  mg_buf jsons;     /* every stored statement of the batch, each NUL-terminated, one allocation */
  size_t *json_off = NULL;
  mg_store_attachment *atts = NULL;
  size_t n = 0, n_keys = 0, n_atts = 0;
  int batch = mg_json_is_array(statements);
  mg_xapi_error verr;
  mg_buf_init(&jsons, (size_t)1 << 31);

  memset(res, 0, sizeof *res);
  if (batch) {
    if (put_id) {
      fail(res, 400, "invalid_request", "PUT takes a single statement, not an array");
      goto out;
    }
    n = mg_json_array_size(statements);
  } else if (mg_json_is_object(statements)) {
    n = 1;
  } else {
    fail(res, 400, "invalid_statement", "the body must be a statement object or an array of them");
    goto out;
  }
  stmts = calloc(n ? n : 1, sizeof *stmts);
  keys = calloc(n ? n : 1, sizeof *keys);
  rows = calloc(n ? n : 1, sizeof *rows);
  json_off = calloc(n ? n : 1, sizeof *json_off);
  atts = calloc(n_parts ? n_parts : 1, sizeof *atts);
  att_strs = calloc(n_parts ? 2 * n_parts : 1, sizeof *att_strs);
  if (!stmts || !keys || !rows || !json_off || !atts || !att_strs) goto nomem;

  for (size_t i = 0; i < n; i++) {
    stmts[i] = batch ? mg_json_array_get(statements, i) : statements;
    char prefix[32] = "";
    if (batch) snprintf(prefix, sizeof prefix, "[%zu]", i);
    if (mg_xapi_validate_statement(stmts[i], ctx->version, prefix, &verr) != MG_OK) {
      fail(res, 400, "invalid_statement", "%s: %s", verr.path[0] ? verr.path : "statement",
           verr.message);
      goto out;
    }
    if (mg_xapi_profile_claims(stmts[i]) && mg_xapi_profile_check(stmts[i], &verr) != MG_OK) {
      fail(res, 400, "profile_violation", "%s%s%s: %s", prefix, prefix[0] && verr.path[0] ? "." : "",
           verr.path, verr.message);
      goto out;
    }
  }
  if (batch && n > 1) {
    rc = check_unique_ids(stmts, n, res);
    if (rc == MG_ENOMEM) goto nomem;
    if (rc) goto out;
  }
  if (put_id) {
    rc = check_put_id(ctx->arena, statements, put_id, res);
    if (rc == MG_ENOMEM) goto nomem;
    if (rc) goto out;
  }
  if (mg_xapi_attachments_check(statements, parts, n_parts, &verr) != MG_OK) {
    fail(res, 400, "invalid_attachments", "%s: %s", verr.path[0] ? verr.path : "attachments",
         verr.message);
    rc = MG_EINVAL;
    goto out;
  }
  rc = check_voiding(ctx, stmts, n, batch, res);
  if (rc) goto out;
  if (parts_to_store(parts, n_parts, atts, att_strs, &n_atts) != MG_OK) goto nomem;

  int64_t now = mg_time_now_us();
  res->ids = mg_json_array(ctx->arena);
  if (!res->ids) goto nomem;
  /* one allocation for the batch's typical statements instead of one per statement */
  if (n && mg_buf_reserve(&jsons, n * 2560) != MG_OK) goto nomem;
  for (size_t i = 0; i < n; i++) {
    /* The comparison digest is taken on the statement as received: after prepare, a timestamp
     * the LRS filled in could not be told from a client's that happens to equal `stored`. */
    uint8_t received_digest[32];
    if (mg_xapi_compare_digest(stmts[i], received_digest) != MG_OK) goto nomem;
    if (mg_xapi_prepare(ctx->arena, stmts[i], ctx->version, now, ctx->authority) != MG_OK)
      goto nomem;
    if (mg_xapi_keys_extract_digest(stmts[i], &keys[i], received_digest) != MG_OK) goto nomem;
    n_keys = i + 1;
    json_off[i] = jsons.len;
    if (mg_json_dump(stmts[i], &jsons) != MG_OK || mg_buf_addc(&jsons, '\0') != MG_OK) goto nomem;
    rows[i] = keys[i].row;
    rows[i].platform_id = ctx->platform_id;
    rows[i].json_len = jsons.len - 1 - json_off[i];
    if (mg_json_array_append(ctx->arena, res->ids, mg_json_object_get(stmts[i], "id"))) goto nomem;
  }
  for (size_t i = 0; i < n; i++) rows[i].json = jsons.data + json_off[i]; /* jsons moved as it grew */
  if (n) { /* the batch's attachments travel with its first row */
    rows[0].attachments = atts;
    rows[0].n_attachments = n_atts;
  }
  size_t bad = 0;
  rc = n ? mg_store_stmt_insert(ctx->store, rows, n, NULL, &bad) : MG_OK;
  if (rc == MG_ECONFLICT) {
    fail(res, 409, "conflict", "id: a different statement with id %s is already stored",
         mg_json_string_value(mg_json_object_get(stmts[bad], "id")));
    if (batch) {
      char tmp[sizeof res->message];
      snprintf(tmp, sizeof tmp, "[%zu].id: a different statement with id %s is already stored",
               bad, mg_json_string_value(mg_json_object_get(stmts[bad], "id")));
      snprintf(res->message, sizeof res->message, "%s", tmp);
    }
  } else if (rc == MG_EBUSY) {
    /* one process per store file writes statements (store.h): a server or an import */
    fail(res, 503, "store_busy",
         "another moocguard process (a running server or import) is writing to this store; "
         "retry later, or send the statements to that server");
  } else if (rc) {
    fail(res, 500, "store_error", "could not store the statements: %s", mg_strerror(rc));
    rc = MG_ESTORE;
  } else {
    res->status = 200;
    if (ctx->on_durable && n) ctx->on_durable(ctx->on_durable_ud, n);
  }
  goto out;

nomem:
  fail(res, 500, "out_of_memory", "the server ran out of memory");
  rc = MG_ENOMEM;
out:
  if (res->status != 200) res->ids = NULL;
  for (size_t i = 0; i < n_keys; i++) mg_xapi_keys_free(&keys[i]);
  mg_buf_free(&jsons);
  if (att_strs)
    for (size_t q = 0; q < 2 * n_parts; q++) free(att_strs[q]);
  free(att_strs);
  free(json_off);
  free(keys);
  free(rows);
  free(atts);
  free(stmts);
  return res->status == 200 ? MG_OK : rc;
}
