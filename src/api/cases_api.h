/* api/cases_api.h — the /api/v1 endpoints of the misconduct workflow, credit decisions, notices,
 * reports and referrals (docs/api.md, sections "cases", "credit", "notices").
 *
 * Handlers check the caller's data scope against the object's university (or, for students, their
 * own student record), run the domain step (cases/, credit/, notices/) inside one store
 * transaction together with its audit record, and answer the domain's refusals with
 * {"error", "message"}: 400 invalid, 403 forbidden / same_person, 404 not_found, 409
 * invalid_transition / no_case_decision / appeal_window_closed / not_referable / conflict,
 * 500 integrity. */
#ifndef MG_API_CASES_API_H
#define MG_API_CASES_API_H

#include "api/api.h"

/* Registers every route of this area on api. */
int mg_cases_api_register(mg_api *api);

#endif
