/* store/store.c — URL dispatch and argument checks in front of the storage backends. */
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "store/store_int.h"

/* Splits url into a backend and its target. A plain path or "sqlite:PATH" (also "sqlite://PATH")
 * is SQLite; postgres URLs are recognised but that backend does not exist yet. */
static int pick_backend(const char *url, const mg_store_ops **ops, const char **target) {
  if (!url || !*url) return MG_EINVAL;
  if (strncmp(url, "postgres://", 11) == 0 || strncmp(url, "postgresql://", 13) == 0)
    return MG_ENOTSUP;
  if (strncmp(url, "sqlite:", 7) == 0) {
    url += 7;
    if (strncmp(url, "//", 2) == 0) url += 2;
  } else if (strstr(url, "://")) {
    return MG_EINVAL; /* some other scheme */
  }
  if (!*url) return MG_EINVAL;
  *ops = &mg_store_sqlite_ops;
  *target = url;
  return MG_OK;
}

int mg_store_open(const char *url, mg_store **out, int *applied) {
  const mg_store_ops *ops = NULL;
  const char *target = NULL;
  if (!out) return MG_EINVAL;
  *out = NULL;
  if (applied) *applied = 0;
  int rc = pick_backend(url, &ops, &target);
  if (rc) return rc;
  mg_store *s = calloc(1, sizeof *s);
  if (!s) return MG_ENOMEM;
  s->ops = ops;
  rc = ops->open(target, &s->be, applied);
  if (rc) {
    free(s);
    return rc;
  }
  *out = s;
  return MG_OK;
}

void mg_store_close(mg_store *s) {
  if (!s) return;
  s->ops->close(s->be);
  free(s);
}

int mg_store_schema_version(mg_store *s, int *out) {
  if (!s || !out) return MG_EINVAL;
  return s->ops->schema_version(s->be, out);
}

const char *mg_store_backend(mg_store *s) { return s ? s->ops->name : "none"; }

int mg_store_stmt_insert(mg_store *s, mg_store_stmt *stmts, size_t n, mg_store_put_result *results,
                         size_t *bad_index) {
  if (bad_index) *bad_index = 0;
  if (!s || (n && !stmts)) return MG_EINVAL;
  if (n == 0) return MG_OK;
  return s->ops->stmt_insert(s->be, stmts, n, results, bad_index);
}

int mg_store_stmt_get(mg_store *s, const uint8_t id[16], mg_store_stmt_info *info, char **json,
                      size_t *json_len) {
  if (json) *json = NULL;
  if (json_len) *json_len = 0;
  if (!s || !id) return MG_EINVAL;
  return s->ops->stmt_get(s->be, id, info, json, json_len);
}

int mg_store_stmt_query(mg_store *s, const mg_store_query *q, mg_store_stmt_cb cb, void *ud,
                        int *more, int64_t *last_seq, int64_t *snapshot_seq) {
  if (more) *more = 0;
  if (last_seq) *last_seq = 0;
  if (snapshot_seq) *snapshot_seq = 0;
  if (!s || !q || !cb) return MG_EINVAL;
  if (q->after_seq < 0 || q->max_seq < 0) return MG_EINVAL;
  return s->ops->stmt_query(s->be, q, cb, ud, more, last_seq, snapshot_seq);
}

int mg_store_stmt_last_stored(mg_store *s, int64_t *out_us) {
  if (!s || !out_us) return MG_EINVAL;
  return s->ops->stmt_last_stored(s->be, out_us);
}

int mg_store_stmt_count(mg_store *s, int64_t *out) {
  if (!s || !out) return MG_EINVAL;
  return s->ops->stmt_count(s->be, out);
}

int mg_store_attachment_get(mg_store *s, const char *sha2, void **data, size_t *len, char *ctype,
                            size_t ctype_size) {
  if (data) *data = NULL;
  if (len) *len = 0;
  if (!s || !sha2 || !data || !len) return MG_EINVAL;
  return s->ops->attachment_get(s->be, sha2, data, len, ctype, ctype_size);
}

int mg_store_credential_create(mg_store *s, const mg_store_credential *c, int64_t *out_id) {
  if (!s || !c) return MG_EINVAL;
  return s->ops->credential_create(s->be, c, out_id);
}

int mg_store_credential_get(mg_store *s, const char *key, mg_store_credential *out) {
  if (!s || !key || !out) return MG_EINVAL;
  return s->ops->credential_get(s->be, key, out);
}

int mg_store_credential_set_enabled(mg_store *s, const char *key, int enabled) {
  if (!s || !key) return MG_EINVAL;
  return s->ops->credential_set_enabled(s->be, key, enabled);
}

int mg_store_credential_list(mg_store *s, int (*cb)(void *ud, const mg_store_credential *c),
                             void *ud) {
  if (!s || !cb) return MG_EINVAL;
  return s->ops->credential_list(s->be, cb, ud);
}

int mg_store_setting_get(mg_store *s, const char *key, char *out, size_t size) {
  if (!s || !key || !out || size == 0) return MG_EINVAL;
  return s->ops->setting_get(s->be, key, out, size);
}

int mg_store_setting_set(mg_store *s, const char *key, const char *value) {
  if (!s || !key || !value) return MG_EINVAL;
  return s->ops->setting_set(s->be, key, value);
}

int mg_store_tx_begin(mg_store *s) {
  if (!s) return MG_EINVAL;
  if (s->ops != &mg_store_sqlite_ops) return MG_ENOTSUP;
  return mg_store_sqlite_tx_begin(s);
}

int mg_store_tx_commit(mg_store *s) {
  if (!s) return MG_EINVAL;
  if (s->ops != &mg_store_sqlite_ops) return MG_ENOTSUP;
  return mg_store_sqlite_tx_end(s, 1);
}

void mg_store_tx_rollback(mg_store *s) {
  if (s && s->ops == &mg_store_sqlite_ops) mg_store_sqlite_tx_end(s, 0);
}
