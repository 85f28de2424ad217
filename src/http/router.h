/* http/router.h — request-target parsing and route matching, independent of sockets.
 *
 * The server hands every raw request target ("/xapi/statements?agent=%7B...%7D") to
 * mg_http_target_parse, which splits it into a percent-decoded path and decoded query parameters
 * and rejects what no client of moocguard sends but attackers do: bad percent escapes, NUL or
 * control bytes, invalid UTF-8, dot segments ("/api/../x") and floods of parameters. Routes are
 * then matched by mg_http_router_match. Both are pure functions of their input so fuzz/fuzz_router.c
 * can drive them without a server. */
#ifndef MG_HTTP_ROUTER_H
#define MG_HTTP_ROUTER_H

#include <stddef.h>

#include "core/arena.h"

typedef struct mg_http_req mg_http_req;
typedef struct mg_http_resp mg_http_resp;
typedef void (*mg_http_handler)(mg_http_req *req, mg_http_resp *resp, void *ud);

#define MG_HTTP_MAX_TARGET 8192 /* longest raw request target accepted (bytes) */
#define MG_HTTP_MAX_PARAMS 100  /* most query parameters in one request */

typedef struct mg_http_param {
  const char *name;  /* decoded, NUL-terminated, valid UTF-8, no NUL inside */
  const char *value; /* "" when the parameter had no '=' */
} mg_http_param;

/* A parsed request target. Everything points into the arena given to mg_http_target_parse. */
typedef struct mg_http_target {
  const char *path;      /* decoded path, starts with '/' (or is "*" for OPTIONS *) */
  mg_http_param *params; /* in order of appearance; duplicates kept */
  size_t n_params;
} mg_http_target;

/* Parses len bytes of a request target in origin form ("/p?q"), absolute form
 * ("http://host/p?q", authority dropped) or "*". In the query, '+' means a space and
 * pieces without a name ("&&", "&=x") are skipped. On failure returns MG_EINVAL (malformed) or
 * MG_ETOOBIG (longer than MG_HTTP_MAX_TARGET, more than MG_HTTP_MAX_PARAMS parameters) with a
 * message naming the problem and its byte offset in err (valid UTF-8), and leaves *out empty. */
int mg_http_target_parse(mg_arena *a, const char *raw, size_t len, mg_http_target *out, char *err,
                         size_t errsize);

/* Value of the first parameter named exactly name (case-sensitive), or NULL. */
const char *mg_http_target_param(const mg_http_target *t, const char *name);

/* ---- routes -------------------------------------------------------------------------------- */

#define MG_HTTP_MAX_ROUTES 96

typedef struct mg_http_route_def {
  char method[12];    /* "GET", ..., or "*" for any */
  char *path;         /* owned; without the trailing '*' of a prefix pattern */
  size_t path_len;
  int prefix;         /* pattern ended in '*': matches every path starting with path */
  mg_http_handler handler;
  void *ud;
} mg_http_route_def;

typedef struct mg_http_router {
  mg_http_route_def routes[MG_HTTP_MAX_ROUTES];
  int n_routes;
} mg_http_router;

/* An empty router (zero-initialising one is equivalent). */
void mg_http_router_init(mg_http_router *r);
/* Adds a route: method ("*" for any) and a path that matches exactly, or by prefix when it ends in
 * '*'. Routes are tried in registration order. MG_ETOOBIG when full, MG_EINVAL for a method
 * longer than 11 bytes, MG_ENOMEM. */
int mg_http_router_add(mg_http_router *r, const char *method, const char *pattern,
                       mg_http_handler h, void *ud);
/* The first route whose path matches and whose method is method or "*", or NULL. *path_known is
 * set when some route matched the path (so the caller answers 405 rather than 404). */
const mg_http_route_def *mg_http_router_match(const mg_http_router *r, const char *method,
                                              const char *path, int *path_known);
/* Frees the route patterns; the router is empty afterwards. */
void mg_http_router_free(mg_http_router *r);

#endif
