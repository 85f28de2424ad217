/* api/routes.h — the one list of /api/v1 route groups.
 *
 * `serve` and the tests (the docs check, the generated authorisation test) all register routes
 * through mg_api_mount_all, so what is documented and tested is exactly what is served. Each
 * subsystem adds one line to routes.c. */
#ifndef MG_API_ROUTES_H
#define MG_API_ROUTES_H

#include "api/api.h"

/* Registers every subsystem's routes on api. */
int mg_api_mount_all(mg_api *api);

/* auth/admin endpoints (auth_api.c). */
int mg_auth_api_register(mg_api *api);

/* cases, credit, notices endpoints (cases_api.c). */
int mg_cases_api_register(mg_api *api);

#endif
