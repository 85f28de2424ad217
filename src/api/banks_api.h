/* api/banks_api.h — /api/v1 endpoints of the known answer-bank registry (docs/api.md, "Known
 * answer banks"; registry/bank.h): regulators add items found on public answer-bank sites and
 * list them. Each change is audited in its own transaction. */
#ifndef MG_API_BANKS_API_H
#define MG_API_BANKS_API_H

#include "api/api.h"

/* Registers GET and POST /banks/items on api. */
int mg_banks_api_register(mg_api *api);

#endif
