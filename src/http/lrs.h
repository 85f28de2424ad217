/* http/lrs.h — the xAPI resources over HTTP: About and Statements.
 *
 * Adapts HTTP requests to the xapi module: version header, platform authentication, content
 * types (application/json, multipart/mixed, and 1.0.3's alternate request syntax), query
 * parameters and `more` paging, consistency headers. The rules themselves live in src/xapi/. */
#ifndef MG_HTTP_LRS_H
#define MG_HTTP_LRS_H

#include "auth/credential.h"
#include "http/server.h"
#include "store/store.h"
#include "xapi/version.h"

typedef struct mg_lrs {
  mg_store *store;       /* borrowed */
  mg_auth *auth;         /* borrowed */
  char base_url[256];    /* public URL of the server, for authority homePage */
  int query_limit;       /* largest page a query returns */
  mg_xapi_version default_version; /* reported when a request names no version */
  void (*on_durable)(void *ud, size_t n); /* optional: a batch is durable (xapi/ingest.h) */
  void *on_durable_ud;
} mg_lrs;

/* Registers /xapi/about and /xapi/statements on srv; lrs must outlive the server. */
int mg_lrs_register(mg_http_server *srv, mg_lrs *lrs);

#endif
