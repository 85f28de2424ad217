/* api/api.h — the /api/v1 JSON layer shared by every governance endpoint.
 *
 * One router for /api/v1: a route is a method, a path pattern with ":name" segments and the
 * capability it needs. Before a handler runs, the layer has authenticated the caller (session
 * cookie + CSRF token for the console, or a bearer token), looked the capability up in the one
 * capability table (auth/capability.h) for the caller's role, parsed a JSON body if there is one,
 * and answered 401/403/400 itself when any of that fails. Handlers then check the data scope
 * (whose organisation the object belongs to) with mg_api_may_org/mg_api_may_self, do their work
 * through the store inside a transaction, and record the change with mg_api_audit in the same
 * transaction so the change and its audit record commit together or not at all.
 * Handlers run on the HTTP worker threads; everything here lives in the request's pool. */
#ifndef MG_API_API_H
#define MG_API_API_H

#include <stddef.h>
#include <stdint.h>

#include "auth/capability.h"
#include "core/config.h"
#include "core/json.h"
#include "http/server.h"
#include "store/store.h"

typedef struct mg_api mg_api;

/* Who is calling. Filled by the layer from the session or token. */
typedef struct mg_principal {
  int64_t user_id;
  char username[64];
  mg_role role;
  int64_t org_id;       /* the user's organisation (university, platform, regulator body); 0 = none */
  char province[16];    /* province code of the organisation (for provincial regulators) */
  int64_t student_id;   /* for students: their student record (0 otherwise) */
  int mfa;              /* the session passed the second factor */
} mg_principal;

/* One call to an /api/v1 endpoint, as the handler sees it. */
typedef struct mg_api_call {
  mg_http_req *req;
  mg_http_resp *resp;
  mg_api *api;
  mg_store *store;
  const mg_config *cfg;
  const mg_principal *who;
  mg_scope scope;     /* the widest scope the capability grants this role */
  mg_json *body;      /* parsed JSON request body, NULL when there was none (in req->pool) */
} mg_api_call;

typedef void (*mg_api_handler)(mg_api_call *c, void *ud);

/* Creates the API layer and mounts it on srv under /api/v1 (srv may be NULL: routes can then be
 * registered and listed, but nothing is served). *out owns it (mg_api_free). store and cfg are
 * borrowed and must outlive the server. Routes of every subsystem are registered by
 * mg_api_mount_all (api/routes.h). */
int mg_api_create(mg_http_server *srv, mg_store *store, const mg_config *cfg, mg_api **out);
void mg_api_free(mg_api *api);

/* Registers a route. pattern is relative to /api/v1, e.g. "/platforms/:id/status".
 * capability names a row of the capability table ("platform.set_status"); NULL marks a public
 * route (login only). Routes are matched in registration order. */
int mg_api_route(mg_api *api, const char *method, const char *pattern, const char *capability,
                 mg_api_handler h, void *ud);

/* The registered routes, in registration order, for docs and generated tests (additions). */
typedef struct mg_api_route_info {
  const char *method;
  const char *pattern;    /* relative to /api/v1 */
  const char *capability; /* NULL for public routes */
} mg_api_route_info;
size_t mg_api_route_count(const mg_api *api);
/* Route i (< mg_api_route_count); the strings live as long as api. */
mg_api_route_info mg_api_route_at(const mg_api *api, size_t i);

/* Paging of list endpoints (addition): ?limit= (1..500, default 50) and ?offset= (>= 0, default
 * 0). Answers 400 itself and returns an error when either is malformed. Lists answer
 * {"items": [...], "total": n, "limit": l, "offset": o}. */
#define MG_API_PAGE_MAX 500
int mg_api_page(mg_api_call *c, int64_t *limit, int64_t *offset);

/* Path parameter ":name" of the matched route, or NULL. */
const char *mg_api_param(const mg_api_call *c, const char *name);
/* Path parameter parsed as a positive int64 into *out; answers 400 itself and returns an error
 * when it is not one. */
int mg_api_param_id(mg_api_call *c, const char *name, int64_t *out);
/* Query-string parameter, or NULL. */
const char *mg_api_query(const mg_api_call *c, const char *name);

/* Data scope: may the caller act on data of organisation org_id (whose province is province, may
 * be NULL)? True for MG_SCOPE_ALL; province match for MG_SCOPE_PROVINCE; own organisation for
 * MG_SCOPE_ORG. mg_api_may_self: the caller's own records (user_id) or a wider scope. */
int mg_api_may_org(const mg_api_call *c, int64_t org_id, const char *province);
int mg_api_may_self(const mg_api_call *c, int64_t user_id, int64_t org_id, const char *province);

/* Responses: JSON body (not consumed) and the standard error body
 * {"error": code, "message": formatted}. */
void mg_api_reply(mg_api_call *c, int status, const mg_json *body);
void mg_api_fail(mg_api_call *c, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Maps a store/domain error (MG_ENOTFOUND → 404, MG_EEXISTS/MG_ECONFLICT → 409, MG_EINVAL → 400,
 * MG_EBUSY → 503, else 500) to an error reply naming what. */
void mg_api_fail_err(mg_api_call *c, int err, const char *what);

/* Appends the audit record of a change made by this call: who (principal), role, action (the
 * route's capability unless given), object, digests of before/after (either may be NULL), the
 * client IP and time. Call it inside the transaction that makes the change; when it fails, roll
 * the change back and answer 503 (the change is refused; the audit alarm is raised). */
int mg_api_audit(mg_api_call *c, const char *action, const char *object_type,
                 const char *object_id, const mg_json *before, const mg_json *after);

#endif
