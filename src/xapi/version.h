/* xapi/version.h — the xAPI versions moocguard speaks.
 *
 * A request names its version in X-Experience-API-Version. 1.0.0–1.0.3 are served by the 1.0.3
 * rules and 2.0.x by the IEEE 9274.1.1 (2.0.0) rules. */
#ifndef MG_XAPI_VERSION_H
#define MG_XAPI_VERSION_H

typedef enum mg_xapi_version {
  MG_XAPI_V103 = 1, /* 1.0.0 .. 1.0.3 */
  MG_XAPI_V200 = 2, /* 2.0.0, 2.0.x */
} mg_xapi_version;

/* Maps a header value to a version. Returns MG_OK, or MG_EINVAL for a missing or unsupported one. */
int mg_xapi_version_parse(const char *header, mg_xapi_version *out);
/* The version string the LRS answers with: "1.0.3" or "2.0.0". */
const char *mg_xapi_version_str(mg_xapi_version v);

#endif
