#include "api/routes.h"

#include "api/banks_api.h"
#include "api/privacy_api.h"
#include "api/findings_api.h"
#include "api/registry_api.h"
#include "core/err.h"

int mg_api_mount_all(mg_api *api) {
  int rc;
  if ((rc = mg_auth_api_register(api))) return rc;
  if ((rc = mg_registry_api_register(api))) return rc;
  if ((rc = mg_cases_api_register(api))) return rc;
  if ((rc = mg_privacy_api_register(api))) return rc;
  if ((rc = mg_findings_api_register(api))) return rc;
  if ((rc = mg_banks_api_register(api))) return rc;
  /* other subsystems: one line each, e.g. if ((rc = mg_registry_api_register(api))) return rc; */
  return MG_OK;
}
