/* registry/exam.h — exams of an offering: supervision plan, supervision records, results.
 *
 * Clause 4: the university supervises exams itself, with face recognition and dual cameras, and
 * may not leave them entirely to the platform. So an exam's plan names face checks at the start
 * and during the exam, dual cameras and a university invigilator; the platform submits results,
 * which stay provisional; the university records, per student, what its supervision saw; and only
 * the university, with that record complete and clean, finalises a result. */
#ifndef MG_REGISTRY_EXAM_H
#define MG_REGISTRY_EXAM_H

#include <stdint.h>

#include "registry/registry.h"
#include "store/store_registry.h"

/* Plans exam e (offering_id, title, starts_us, face_start, face_during, dual_camera, invigilator).
 * All three measures and the invigilator are required ("supervision_plan_incomplete" names what
 * is missing). */
int mg_registry_exam_plan(mg_store *s, const mg_reg_exam *e, const char *by, int64_t now_us,
                          int64_t *id, mg_registry_why *why);

/* The exam and the enrolment (by registration text), checking that the enrolment belongs to the
 * exam's offering ("enrolment_not_in_offering"). */
int mg_registry_exam_sitting(mg_store *s, int64_t exam_id, const char *registration,
                             mg_reg_exam *exam, mg_reg_enrolment *enrolment, mg_registry_why *why);

/* The platform submits a provisional score (score_tenths 0..1000, i.e. 0 to 100.0). Refused once
 * final ("result_final"). */
int mg_registry_exam_submit(mg_store *s, int64_t exam_id, const char *registration,
                            int score_tenths, const char *by, int64_t now_us,
                            mg_registry_why *why);

/* The university records its supervision of one sitting: each check "pass", "fail" or ""
 * (not done), the invigilator present, notes. Replaces an earlier record (refused once the result
 * is final: "result_final"). */
int mg_registry_exam_supervise(mg_store *s, const mg_reg_supervision *r, const char *registration,
                               const char *by, int64_t now_us, mg_registry_why *why);

/* Finalises the result: refused without a result ("result_missing"), once final
 * ("result_final"), without a signed pledge ("pledge_unsigned"), while the supervision record is
 * missing or incomplete ("supervision_incomplete", naming the items) or shows a failed check
 * ("supervision_failed"). */
int mg_registry_exam_finalise(mg_store *s, int64_t exam_id, const char *registration,
                              const char *by, int64_t now_us, mg_registry_why *why);

#endif
