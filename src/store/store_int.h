/* store/store_int.h — private to src/store: the backend vtable behind store.h.
 *
 * store.c parses the URL, picks a backend and forwards every public call through its ops table,
 * so adding a backend (PostgreSQL) means adding one ops table and nothing above store.h changes.
 * Each function has the contract of its store.h counterpart, with the backend's own handle `be`
 * in place of the mg_store. Arguments are checked by store.c before they reach a backend. */
#ifndef MG_STORE_STORE_INT_H
#define MG_STORE_STORE_INT_H

#include "store/store.h"

typedef struct mg_store_ops {
  const char *name; /* "sqlite", "postgres" */
  /* target is the backend-specific part of the URL (a file path for SQLite). On success *be
   * owns the backend state, released by close. */
  int (*open)(const char *target, void **be, int *applied);
  void (*close)(void *be);
  int (*schema_version)(void *be, int *out);

  int (*stmt_insert)(void *be, mg_store_stmt *stmts, size_t n, mg_store_put_result *results,
                     size_t *bad_index);
  int (*stmt_get)(void *be, const uint8_t id[16], mg_store_stmt_info *info, char **json,
                  size_t *json_len);
  int (*stmt_query)(void *be, const mg_store_query *q, mg_store_stmt_cb cb, void *ud, int *more,
                    int64_t *last_seq, int64_t *snapshot_seq);
  int (*stmt_last_stored)(void *be, int64_t *out_us);
  int (*stmt_count)(void *be, int64_t *out);
  int (*attachment_get)(void *be, const char *sha2, void **data, size_t *len, char *ctype,
                        size_t ctype_size);

  int (*credential_create)(void *be, const mg_store_credential *c, int64_t *out_id);
  int (*credential_get)(void *be, const char *key, mg_store_credential *out);
  int (*credential_set_enabled)(void *be, const char *key, int enabled);
  int (*credential_list)(void *be, int (*cb)(void *ud, const mg_store_credential *c), void *ud);

  int (*setting_get)(void *be, const char *key, char *out, size_t size);
  int (*setting_set)(void *be, const char *key, const char *value);
} mg_store_ops;

struct mg_store {
  const mg_store_ops *ops;
  void *be;
};

/* The embedded SQLite backend (sqlite.c). */
extern const mg_store_ops mg_store_sqlite_ops;

/* ---- governance areas (sqlite_<area>.c) --------------------------------------------------
 * Low-volume relational data (registry, auth, audit, findings, cases) lives in the same SQLite
 * file, on one connection per store handle that is separate from the statements writer. It is
 * serialised by a recursive mutex, runs with synchronous=FULL and foreign keys on.
 * acquire locks it and gives its sqlite3 handle (MG_ENOTSUP on another backend); every acquire
 * is paired with a release on the same thread. Between mg_store_tx_begin and commit/rollback on
 * a thread, that thread's acquires join the open transaction and other threads wait. Outside a
 * transaction each SQL statement commits by itself. A PostgreSQL backend will add its own
 * <area> implementations behind the same store_<area>.h functions. */
struct sqlite3;
int mg_store_sqlite_gov_acquire(mg_store *s, struct sqlite3 **db);
void mg_store_sqlite_gov_release(mg_store *s);
/* A read-only (query_only) connection from the reader pool, for one read transaction the caller
 * opens and ends itself; *handle goes back with mg_store_sqlite_reader_release, which resets
 * any statement the caller left active. */
int mg_store_sqlite_reader_acquire(mg_store *s, struct sqlite3 **db, void **handle);
void mg_store_sqlite_reader_release(mg_store *s, void *handle);
int mg_store_sqlite_tx_begin(mg_store *s);
int mg_store_sqlite_tx_end(mg_store *s, int commit);

#endif
