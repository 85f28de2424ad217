/* api/findings_api.h — /api/v1 endpoints over the detectors' results (docs/api.md, "Findings"):
 * the findings list and one finding (store/store_findings.h), and a student's evidence timeline
 * (detect/evidence.h). Reads only, scoped by role (capability section "findings"). */
#ifndef MG_API_FINDINGS_API_H
#define MG_API_FINDINGS_API_H

#include "api/api.h"

/* Registers GET /findings, /findings/:id and /students/:id/evidence on api. */
int mg_findings_api_register(mg_api *api);

#endif
