/* registry/offering.h — a university's selection of a course for a term (开课).
 *
 * Clauses 1-3, 8, 17: the university selects, for a term, a course that passed review and is not
 * stale, from a platform on the white list, with its credits and a responsible teacher (课程责任
 * 教师). Any other selection is refused with the reason. The offering's IRI is the "offering"
 * grouping activity platforms put on statements (docs/profile.md §6.3). */
#ifndef MG_REGISTRY_OFFERING_H
#define MG_REGISTRY_OFFERING_H

#include <stdint.h>

#include "registry/registry.h"
#include "store/store_registry.h"

/* Creates an offering from o: university_id, course_id, term ([A-Za-z0-9_-], e.g. "2025-spring"),
 * credits_tenths (1..200, i.e. 0.1 to 20 credits), resp_teacher; iri optional: the platform's
 * run of the course that students of this university follow; several universities may select
 * the same run, each with its own offering (default, one run per university:
 * "<course iri>/offerings/<university code>/<term>"). Refusals: "university_not_found",
 * "course_not_found", "platform_not_whitelisted", "filing_review_overdue", "course_not_approved",
 * "course_stale", "offering_exists". */
int mg_registry_offering_create(mg_store *s, const mg_reg_offering *o, const char *by,
                                int64_t now_us, int64_t *id, mg_registry_why *why);

/* The offering, its course and the course's platform; refusal "offering_not_found". c and p
 * may be NULL. */
int mg_registry_offering_get(mg_store *s, int64_t id, mg_reg_offering *o, mg_reg_course *c,
                             mg_reg_platform *p, mg_registry_why *why);

#endif
