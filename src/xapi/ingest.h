/* xapi/ingest.h — the one path by which statements enter the store.
 *
 * Used by POST/PUT /xapi/statements and by `moocguard import`, so both apply exactly the same
 * checks: xAPI validation, the moocguard profile, attachments and signatures, voiding rules, then
 * completion (id, stored, authority, version) and one atomic, durable store insert. A batch is
 * all or nothing. */
#ifndef MG_XAPI_INGEST_H
#define MG_XAPI_INGEST_H

#include <stdint.h>

#include "core/arena.h"
#include "core/json.h"

#include "store/store.h"
#include "xapi/multipart.h"
#include "xapi/version.h"

typedef struct mg_xapi_ingest_ctx {
  mg_store *store;
  mg_xapi_version version;
  mg_json *authority;    /* borrowed; linked into every statement */
  int64_t platform_id;
  mg_arena *arena;       /* the request's arena: completed statements and ids live there */
  /* Optional: called with the number of statements once a batch is durable, before the caller
   * answers (the live detector's wakeup, detect/live.h); must be quick and never block. */
  void (*on_durable)(void *ud, size_t n);
  void *on_durable_ud;
} mg_xapi_ingest_ctx;

typedef struct mg_xapi_ingest_result {
  int status;            /* HTTP status: 200 on success, else 400/409/500/503 */
  char error[32];        /* short code, e.g. "invalid_statement" */
  char message[640];     /* what was wrong and where */
  mg_json *ids;          /* on success: array of statement ids, in ctx->arena */
} mg_xapi_ingest_result;

/* Ingests statements (one object, or an array of objects) parsed from a request. put_id, when not
 * NULL, is the statementId of a PUT: the statement must be a single object whose id is absent or
 * equal. parts/n_parts are the attachment parts (without the leading JSON part), or NULL/0.
 * statements is modified (completed) in place. Returns MG_OK when res->status is 200; otherwise
 * MG_EINVAL / MG_ECONFLICT / MG_ESTORE with res filled. */
int mg_xapi_ingest(const mg_xapi_ingest_ctx *ctx, mg_json *statements, const char *put_id,
                   const mg_xapi_part *parts, size_t n_parts, mg_xapi_ingest_result *res);

/* Parses a JSON request body strictly into arena a (duplicate keys and invalid UTF-8 rejected,
 * depth bounded). Returns the value, or NULL with a message naming line/column in msg. */
mg_json *mg_xapi_parse_json(mg_arena *a, const char *data, size_t len, char *msg, size_t msgsize);

/* The authority stamped on statements pushed with a platform credential, built in arena a. */
mg_json *mg_xapi_platform_authority(mg_arena *a, const char *base_url, const char *key,
                                    const char *name);

#endif
