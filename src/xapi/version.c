#include "xapi/version.h"

#include <string.h>

#include "core/err.h"

int mg_xapi_version_parse(const char *h, mg_xapi_version *out) {
  if (!h) return MG_EINVAL;
  if (!strcmp(h, "1.0") || !strcmp(h, "1.0.0") || !strcmp(h, "1.0.1") || !strcmp(h, "1.0.2") ||
      !strcmp(h, "1.0.3")) {
    *out = MG_XAPI_V103;
    return MG_OK;
  }
  /* 2.0.x: any patch number made of digits */
  if (!strcmp(h, "2.0")) {
    *out = MG_XAPI_V200;
    return MG_OK;
  }
  if (!strncmp(h, "2.0.", 4) && h[4]) {
    for (const char *p = h + 4; *p; p++)
      if (*p < '0' || *p > '9') return MG_EINVAL;
    *out = MG_XAPI_V200;
    return MG_OK;
  }
  return MG_EINVAL;
}

const char *mg_xapi_version_str(mg_xapi_version v) { return v == MG_XAPI_V200 ? "2.0.0" : "1.0.3"; }
