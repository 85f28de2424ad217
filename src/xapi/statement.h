/* xapi/statement.h — turning a valid statement into what the LRS stores and returns.
 *
 * After validation the LRS completes a statement (id, stored, authority, version, timestamp),
 * derives the keys the store indexes (actor, verb, activities, agents, registration), computes the
 * digest used to tell an identical re-post from a conflicting one, and on the way out renders the
 * `exact`, `ids` and `canonical` formats. Everything here works on mg_json values (core/json.h);
 * functions that build values take the arena to build them in. */
#ifndef MG_XAPI_STATEMENT_H
#define MG_XAPI_STATEMENT_H

#include "core/json.h"
#include <stdint.h>

#include "core/buf.h"
#include "store/store.h"
#include "xapi/version.h"

#define MG_XAPI_VERB_VOIDED "http://adlnet.gov/expapi/verbs/voided"

/* Completes a validated statement in place before storing:
 *  - id: a new random UUID when absent (written back in lower-case canonical form);
 *  - stored: stored_us, always (any client value is replaced);
 *  - authority: replaced by `authority` (linked, not copied: it must live as long as stmt);
 *  - version: set to "1.0.0" (v1.0.3) or "2.0.0" (v2.0.0) when absent;
 *  - timestamp: set to stored when absent; for v2.0.0 a timestamp with an offset is converted to
 *    UTC ("Z"), keeping its precision.
 * Returns MG_OK or MG_ENOMEM. */
int mg_xapi_prepare(mg_arena *a, mg_json *stmt, mg_xapi_version v, int64_t stored_us,
                    mg_json *authority);

/* Writes the canonical key of an Agent or identified Group (by its inverse functional
 * identifier) into out, e.g. "mbox:mailto:a@example.org", "account:<homePage>\x1f<name>".
 * Anonymous groups have no key: MG_EINVAL. Two actors are the same actor iff their keys match. */
int mg_xapi_agent_key(const mg_json *agent, mg_buf *out);

/* Index keys derived from a prepared statement. Strings point into `stmt` or into the struct's
 * own storage; valid until mg_xapi_keys_free or until stmt is changed or freed. */
typedef struct mg_xapi_keys {
  mg_store_stmt row;      /* row fields filled except json/json_len/attachments/platform_id */
  /* storage owned by the keys */
  char **agents;
  size_t n_agents, cap_agents;
  const char **activities;
  size_t n_activities, cap_activities;
} mg_xapi_keys;

/* Fills keys from a prepared statement (id, stored, timestamp present). Collects: actor key;
 * verb id; object activity id or agent key or StatementRef; registration; voiding flag; and the
 * related agents (actor, object, authority, context instructor/team, 2.0 contextAgents and
 * contextGroups, group members, and the same inside a SubStatement) and related activities
 * (object, contextActivities of every kind, and inside a SubStatement), each without duplicates.
 * Also computes row.cmp_hash (see mg_xapi_compare_digest). Call mg_xapi_keys_free after. */
int mg_xapi_keys_extract(const mg_json *stmt, mg_xapi_keys *keys);
/* The same, with row.cmp_hash copied from digest instead of computed: for callers that took the
 * digest already (ingest takes it on the statement as received, before prepare). */
int mg_xapi_keys_extract_digest(const mg_json *stmt, mg_xapi_keys *keys,
                                const uint8_t digest[32]);
void mg_xapi_keys_free(mg_xapi_keys *keys);

/* BLAKE2b-256 of the statement's comparable form, per the xAPI rules for deciding whether two
 * statements with the same id are the same: ignores stored, authority, version and properties
 * the LRS assigned; object key order; case of IRIs' scheme/host is NOT normalised; timestamps
 * compared as instants. Used to answer 204 vs 409 on a re-post. */
int mg_xapi_compare_digest(const mg_json *stmt, uint8_t out[32]);

typedef enum mg_xapi_format {
  MG_XAPI_FORMAT_EXACT = 0,
  MG_XAPI_FORMAT_IDS = 1,
  MG_XAPI_FORMAT_CANONICAL = 2,
} mg_xapi_format;

/* Parses "exact" | "ids" | "canonical". MG_OK or MG_EINVAL. */
int mg_xapi_format_parse(const char *s, mg_xapi_format *out);

/* Returns a new statement built in arena a, rendered in format f:
 *  - exact: a copy;
 *  - ids: Agents and identified Groups reduced to objectType + IFI (anonymous Groups keep their
 *    members, reduced the same way), Activities to {id} (the ADL suite requires exactly one
 *    property), verbs to id, in the statement and any SubStatement;
 *  - canonical: the language maps of Activity definitions (name, description, interaction
 *    components) and Verb display reduced to the single best entry for accept_language (an
 *    HTTP Accept-Language value; NULL or "" prefers "en-US"/"en", then the first entry).
 * NULL on allocation failure. */
mg_json *mg_xapi_render(mg_arena *a, const mg_json *stmt, mg_xapi_format f,
                        const char *accept_language);

#endif
