/* api/privacy_api.h — the student's own-data endpoints (docs/api.md, "Personal information"):
 * GET /me/export (PIPL art. 45) and the face-verification consent record
 * (GET/POST/DELETE /me/consents/face, art. 29 and 15). Student role, own records only; every
 * call, reads included, is audited. */
#ifndef MG_API_PRIVACY_API_H
#define MG_API_PRIVACY_API_H

#include "api/api.h"

/* Registers the privacy routes on api. */
int mg_privacy_api_register(mg_api *api);

#endif
