/* api/registry_api.h — the registry's /api/v1 endpoints (docs/api.md, "Registry").
 *
 * Organisations, platforms (filing, list status, intake switches, LRS credentials),
 * recommendations and courses with their reviews, offerings, roster imports and enrolments,
 * pledges, exams with supervision records and results. Every change runs in one store
 * transaction with its audit record (mg_api_audit). */
#ifndef MG_API_REGISTRY_API_H
#define MG_API_REGISTRY_API_H

#include "api/api.h"

/* Registers the registry routes on api. */
int mg_registry_api_register(mg_api *api);

#endif
