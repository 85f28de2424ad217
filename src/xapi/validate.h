/* xapi/validate.h — full validation of xAPI statements against the specification.
 *
 * Input is a statement already parsed by mg_json_parse (core/json.h, which rejects
 * invalid UTF-8 and duplicate keys). Every rule of the Data chapter of xAPI 1.0.3 and of
 * IEEE 9274.1.1 (2.0.0) that an LRS must enforce is checked; the first violation is reported with
 * the JSON path of the offending property, e.g. "context.contextActivities.parent[0].id". */
#ifndef MG_XAPI_VALIDATE_H
#define MG_XAPI_VALIDATE_H

#include "core/json.h"

#include "xapi/version.h"

typedef struct mg_xapi_error {
  char path[256];     /* JSON path of the offending property ("" for the statement itself) */
  char message[256];  /* what is wrong, in English */
} mg_xapi_error;

/* Fills err (may be NULL) with path (NULL = "") and a printf-style message; returns MG_EINVAL so
 * checkers can write `return mg_xapi_error_set(err, path, "...", ...);`. */
int mg_xapi_error_set(mg_xapi_error *err, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Validates one statement as received from a client for version v. path_prefix (may be "" or
 * NULL) is prepended to paths, e.g. "[3]" for the fourth statement of a batch. Returns MG_OK, or
 * MG_EINVAL with *err filled. Does not modify stmt. Properties the LRS assigns (stored, authority)
 * are accepted here when present; the caller decides whether to honour them. */
int mg_xapi_validate_statement(const mg_json *stmt, mg_xapi_version v, const char *path_prefix,
                               mg_xapi_error *err);

/* Validates an Agent or identified Group given as the `agent` query parameter (one IFI). */
int mg_xapi_validate_agent_param(const mg_json *agent, mg_xapi_version v, mg_xapi_error *err);

/* Checks a language tag per RFC 5646 (well-formedness). Returns 1 if valid. */
int mg_xapi_valid_language_tag(const char *tag);
/* Checks an absolute IRI (scheme ":" ...), as xAPI requires for ids. Returns 1 if valid. */
int mg_xapi_valid_iri(const char *s);

#endif
