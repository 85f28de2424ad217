/* registry/course.h — university recommendations, course submission, review and freshness.
 *
 * Clause 12: a platform accepts no course that a university has not reviewed and formally
 * recommended, and puts online no course that fails the basic norms; the platform's review covers
 * content (内容), ideology (意识形态, 政治关) and quality (质量), each with a reviewer and an opinion.
 * Clauses 2 and 5: outdated content may not be selected, so each course shows its last content
 * update, and one unreviewed or older than the allowed age (registry.h) cannot be selected. */
#ifndef MG_REGISTRY_COURSE_H
#define MG_REGISTRY_COURSE_H

#include <stdint.h>

#include "registry/registry.h"
#include "store/store_registry.h"

/* The university r->university_id recommends a course (title, lead_teacher, letter_no) to
 * platform r->platform_id. */
int mg_registry_recommend(mg_store *s, const mg_reg_recommendation *r, const char *by,
                          int64_t now_us, int64_t *id, mg_registry_why *why);

/* The platform c->platform_id submits a course under recommendation c->recommendation_id (0:
 * refused, "recommendation_required"); the recommendation must be this platform's and unused.
 * code, iri (an http(s) IRI, the course activity id in statements) and content_updated (a date,
 * not in the future) are required; title and lead_teacher default to the recommendation's.
 * The course starts in review ("reviewing"). */
int mg_registry_course_submit(mg_store *s, const mg_reg_course *c, const char *by, int64_t now_us,
                              int64_t *id, mg_registry_why *why);

/* Records one review step (kind "content"/"ideology"/"quality", verdict "pass"/"fail", opinion
 * required) on a course in review. Afterwards the course is "rejected" if the latest step of any
 * kind failed, "approved" once the latest of all three passed, else still "reviewing".
 * *status (may be NULL) gets the resulting status. */
int mg_registry_course_review(mg_store *s, int64_t course_id, const char *kind,
                              const char *verdict, const char *opinion, const char *reviewer,
                              int64_t now_us, char status[16], mg_registry_why *why);

/* The latest step of each kind (content, ideology, quality): has[k] is 0 when none. */
int mg_registry_course_review_state(mg_store *s, int64_t course_id, mg_reg_review latest[3],
                                    int has[3]);

/* Puts an approved course online, or an online one offline (online = 0). */
int mg_registry_course_publish(mg_store *s, int64_t course_id, int online, mg_registry_why *why);
/* The platform reports a content update on date (YYYY-MM-DD, not in the future). */
int mg_registry_course_touch(mg_store *s, int64_t course_id, const char *date, int64_t now_us,
                             mg_registry_why *why);

/* May course c be selected now? Approved or online ("course_not_approved" otherwise, naming the
 * review steps missing or failed) and content no older than the allowed age ("course_stale").
 * MG_OK or MG_ECONFLICT. *age_days (may be NULL) gets the content age. */
int mg_registry_course_selectable(mg_store *s, const mg_reg_course *c, int64_t now_us,
                                  int64_t *age_days, mg_registry_why *why);

#endif
