/* registry/seed.h — build a registry world from data, without HTTP (demo, simulator, tests).
 *
 * One JSON document describes regulators, universities, platforms (filed and listed), the pledge
 * text, courses (recommended, reviewed, online), offerings with an optional exam plan, and
 * rosters with optional pledge signatures. Every object goes through the same registry rules as
 * the API (a course from a blacklisted platform is refused here too). Objects refer to each
 * other by code / IRI:
 *
 *   {"regulators":   [{"kind":"ministry","code":"moe","name":"教育部"}, ...],
 *    "universities": [{"code","name","province","home_page"}],
 *    "platforms":    [{"code","name","province"?,"mlps_level","filing_no","review_due",
 *                      "status"?: "whitelist"|"pending"|"blacklist","reason"?}],
 *    "pledge":       {"version","body"},
 *    "courses":      [{"platform","university","code","title","lead_teacher","iri",
 *                      "content_updated","reviewed"?: true,"online"?: true}],
 *    "offerings":    [{"university","course_iri","term","credits","resp_teacher","iri"?,
 *                      "exam"?: {"title","invigilator"}}],
 *    "rosters":      [{"university"?,"offering_iri","students":[{"student_no","name",
 *                      "registration"?,
 *                      "pledge"?: true}]}]}
 *
 * The whole seed is one transaction, audited as one record (action "registry.seed", with the
 * digest of the world document): it applies completely or not at all. */
#ifndef MG_REGISTRY_SEED_H
#define MG_REGISTRY_SEED_H

#include <stdint.h>

#include "core/json.h"
#include "registry/registry.h"
#include "store/store.h"

typedef struct mg_registry_seed_result {
  int64_t orgs, platforms, courses, offerings, exams, enrolments, pledges;
} mg_registry_seed_result;

/* Seeds world (see above) as actor by (e.g. "system:seed"). On a refusal why names the object
 * ("universities[2]: ...") and nothing is kept. Opens its own transaction: do not call it inside
 * one. */
int mg_registry_seed(mg_store *s, const mg_json *world, const char *by, int64_t now_us,
                     mg_registry_seed_result *out, mg_registry_why *why);

#endif
