/* store/store.h — the one storage interface of moocguard.
 *
 * Domain code (xapi, registry, cases, ...) reads and writes only through these functions; all SQL
 * lives in src/store/. The backend is chosen by the URL given to mg_store_open: a file path or
 * "sqlite:PATH" is the embedded SQLite backend; "postgres://..." is reserved for the PostgreSQL
 * backend. A handle is safe to share between threads. Several handles (processes) may open the
 * same store, but only one at a time inserts statements: the first to insert holds the store's
 * writer lock until it is closed; inserts through other handles fail with MG_EBUSY meanwhile.
 *
 * Statements: each stored statement has a store-wide sequence number `seq`, assigned in commit
 * order (increasing, not necessarily dense: a batch that fails uses up its seqs). Paged queries
 * use seq as their cursor and results are ordered by seq, which is the order statements became
 * visible. `stored` is the caller's clock, taken before the commit and
 * stored exactly as given, so between concurrent writers (or after the clock steps back) it may be
 * slightly out of seq order; since/until are nevertheless evaluated exactly on `stored`. */
#ifndef MG_STORE_STORE_H
#define MG_STORE_STORE_H

#include <stddef.h>
#include <stdint.h>

typedef struct mg_store mg_store;

/* ---- lifecycle -------------------------------------------------------------------------- */

/* Opens (creating if needed) the store at url and applies pending migrations. On success *out
 * owns the handle; close it with mg_store_close. *applied (may be NULL) gets the number of
 * migrations applied now. */
int mg_store_open(const char *url, mg_store **out, int *applied);
/* Closes the handle; NULL is allowed. */
void mg_store_close(mg_store *s);
/* Schema version (highest migration applied). */
int mg_store_schema_version(mg_store *s, int *out);
/* Backend name, "sqlite" or "postgres". */
const char *mg_store_backend(mg_store *s);

/* ---- statements ------------------------------------------------------------------------- */

/* An attachment's raw content, keyed by its SHA-256 (lower-case hex, 64 chars). */
typedef struct mg_store_attachment {
  const char *sha2;
  const char *content_type;
  const void *data;
  size_t len;
} mg_store_attachment;

/* One statement ready to store; the xapi layer fills it. All strings are borrowed for the call. */
typedef struct mg_store_stmt {
  uint8_t id[16];
  int64_t stored_us;                 /* assigned by the caller (and already in json); stored as
                                        given, never changed by the store */
  int64_t timestamp_us;              /* statement timestamp (event time) */
  const char *actor_key;             /* canonical key of the actor (agent or group) */
  const char *verb_id;
  const char *object_activity_id;    /* object's id when the object is an Activity, else NULL */
  const char *object_agent_key;      /* object's key when it is an Agent/identified Group, else NULL */
  int has_object_ref;                /* object is a StatementRef */
  uint8_t object_ref[16];
  int has_registration;
  uint8_t registration[16];
  int is_voiding;                    /* verb is adl voided and object is a StatementRef: on insert
                                        the target (object_ref) is marked voided; a target stored
                                        later is stored voided; a voiding statement is never
                                        marked voided */
  const char *const *related_agents; /* every agent/group key anywhere in the statement, including
                                        actor, object, authority, context, substatement */
  size_t n_related_agents;
  const char *const *related_activities; /* object, context activities, substatement activities */
  size_t n_related_activities;
  uint8_t cmp_hash[32];              /* digest of the statement's comparable form: a re-post with the
                                        same id and the same digest is a no-op, else a conflict */
  int64_t platform_id;               /* credential/platform that pushed it (0 = none) */
  const char *json;                  /* the full stored statement, as returned by GET */
  size_t json_len;
  const mg_store_attachment *attachments;
  size_t n_attachments;
} mg_store_stmt;

/* Result per statement of an insert. */
typedef enum mg_store_put_result {
  MG_STORE_PUT_NEW = 0,       /* stored now */
  MG_STORE_PUT_SAME = 1,      /* already stored with the same content: nothing changed */
} mg_store_put_result;

/* Inserts a batch atomically and durably (committed and synced before return): either every
 * statement is stored (or found identical) or none is. A statement whose id exists with a
 * different cmp_hash fails the whole batch with MG_ECONFLICT and *bad_index set to its index.
 * Concurrent callers may be committed together in one transaction (group commit); each batch
 * still succeeds or fails alone. results (may be NULL) gets one mg_store_put_result per stmt.
 * Returns only once the batch is on disk (or failed). The same id twice in one batch: the second
 * is SAME if its cmp_hash matches, else a conflict. MG_EBUSY: another handle inserts statements
 * into this store (see above).
 * A statement with a missing verb_id or json, or a malformed attachment, fails the batch with
 * MG_EINVAL and *bad_index. stmts are not modified (stored_us is stored as given). */
int mg_store_stmt_insert(mg_store *s, mg_store_stmt *stmts, size_t n, mg_store_put_result *results,
                         size_t *bad_index);

/* Facts about one stored statement. */
typedef struct mg_store_stmt_info {
  int64_t seq;
  int64_t stored_us;
  int voided;       /* voided by a later statement */
  int is_voiding;   /* this statement voids another */
} mg_store_stmt_info;

/* Looks a statement up by id. MG_ENOTFOUND if absent. If json is not NULL, *json gets a malloc'd
 * NUL-terminated copy of the stored JSON (caller frees) and *json_len its length. */
int mg_store_stmt_get(mg_store *s, const uint8_t id[16], mg_store_stmt_info *info, char **json,
                      size_t *json_len);

/* A statements query (xAPI GET /statements filters). Unset filters are NULL / 0. */
typedef struct mg_store_query {
  const char *agent_key;       /* actor or object (or anywhere, with related_agents) */
  int related_agents;
  const char *verb_id;
  const char *activity_id;     /* object (or anywhere, with related_activities) */
  int related_activities;
  int has_registration;
  uint8_t registration[16];
  int has_since;   int64_t since_us;    /* stored >  since */
  int has_until;   int64_t until_us;    /* stored <= until */
  int has_ts_since; int64_t ts_since_us; /* timestamp >= ts_since (moocguard extension) */
  int has_ts_until; int64_t ts_until_us; /* timestamp <  ts_until (moocguard extension) */
  int64_t platform_id;         /* only statements pushed by this platform (0 = all) */
  int ascending;               /* seq (commit, ~stored) order ascending (default descending) */
  size_t limit;                /* page size, 1..max; 0 means the store's maximum */
  int64_t after_seq;           /* cursor: continue after this seq in the query's order (0 = start) */
  int64_t max_seq;             /* snapshot: ignore statements with seq > max_seq (0 = all now) */
} mg_store_query;

/* Per-row callback: return MG_OK to continue, anything else stops the query and is returned. */
typedef int (*mg_store_stmt_cb)(void *ud, int64_t seq, const char *json, size_t len);

/* Runs a query. Voided statements are never returned. Following xAPI's rule on StatementRefs, a
 * statement whose object is a StatementRef to a statement that matches the filters (agent, verb,
 * activity, registration and their related_ flags) also matches, transitively; as the spec words
 * it, this holds per filter: each of those filters is met by the statement itself or by a
 * statement down its StatementRef chain (voided targets included). The stored-time, timestamp
 * and platform filters, order and limit apply to the statements returned. Calls cb per statement
 * in order; json is valid only during the call.
 * *more is set when further results exist; *last_seq gets the seq of the last row delivered and
 * *snapshot_seq the max_seq used (pass it back as max_seq with after_seq = *last_seq to page). */
int mg_store_stmt_query(mg_store *s, const mg_store_query *q, mg_store_stmt_cb cb, void *ud,
                        int *more, int64_t *last_seq, int64_t *snapshot_seq);

/* Highest `stored` of any committed statement (0 if none): X-Experience-API-Consistent-Through. */
int mg_store_stmt_last_stored(mg_store *s, int64_t *out_us);
/* Number of stored statements. */
int mg_store_stmt_count(mg_store *s, int64_t *out);

/* Fetches an attachment by sha2. MG_ENOTFOUND if absent. *data (malloc'd, caller frees), *len,
 * and content_type copied into ctype (NUL-terminated, truncated to ctype_size). */
int mg_store_attachment_get(mg_store *s, const char *sha2, void **data, size_t *len, char *ctype,
                            size_t ctype_size);

/* Addition (store unit): the largest page mg_store_stmt_query returns; a limit of 0 or above
 * this means this many. */
#define MG_STORE_QUERY_MAX_LIMIT 1000

/* ---- LRS credentials (one or more per platform) ----------------------------------------- */

typedef struct mg_store_credential {
  int64_t id;
  int64_t platform_id;
  char key[65];            /* public key id used as the Basic-auth user name */
  char name[129];          /* platform display name */
  char secret_hash[160];   /* argon2id encoded hash of the secret */
  int enabled;
  int64_t created_us;
} mg_store_credential;

/* Creates a credential; *out_id (may be NULL) gets its id. MG_EEXISTS if key is taken. */
int mg_store_credential_create(mg_store *s, const mg_store_credential *c, int64_t *out_id);
/* Looks up by key. MG_ENOTFOUND if absent. */
int mg_store_credential_get(mg_store *s, const char *key, mg_store_credential *out);
/* Enables or disables a credential. MG_ENOTFOUND if absent. */
int mg_store_credential_set_enabled(mg_store *s, const char *key, int enabled);
/* Calls cb for every credential (secret hashes included; callers must not expose them). */
int mg_store_credential_list(mg_store *s, int (*cb)(void *ud, const mg_store_credential *c),
                             void *ud);

/* ---- transactions over governance data ------------------------------------------------------
 * Groups changes to governance data (registry, users, audit log, findings, cases, ...) made by the
 * calling thread into one atomic, durable unit: a change and its audit record commit together or
 * not at all. Other threads' governance calls wait meanwhile, so keep transactions short. No
 * nesting (MG_EINVAL). Statement inserts are not part of it. */
int mg_store_tx_begin(mg_store *s);
/* Commits; on failure the transaction is rolled back and the error returned. */
int mg_store_tx_commit(mg_store *s);
/* Rolls back; harmless if no transaction is open on this thread. */
void mg_store_tx_rollback(mg_store *s);

/* ---- key/value settings (server secrets, instance id) ----------------------------------- */

/* Gets a setting into out (NUL-terminated, truncated to size). MG_ENOTFOUND if absent. */
int mg_store_setting_get(mg_store *s, const char *key, char *out, size_t size);
/* Sets a setting (insert or replace). */
int mg_store_setting_set(mg_store *s, const char *key, const char *value);

#endif
