/* credit/facts.h — the facts of a credit decision, read from the registry, and the compute path.
 *
 * credit.h evaluates rules on mg_credit_facts; this unit fills those facts for an enrolment from
 * what the registry recorded (教高〔2022〕1号 cl. 1, 4, 8, 17):
 *   offering_approved     the university selected the course for the term (the offering exists)
 *                         and the course passed review (approved or online);
 *   platform_whitelisted  the platform's list status in force when the enrolment was created (its
 *                         status history) was "whitelist", and no intake switch covering the
 *                         university (national, its province, or it) was in force then;
 *   pledge_signed         the enrolment signed the integrity pledge;
 *   exam_finalised        the offering has at least one exam and every exam has a final result
 *                         for this enrolment;
 *   exam_supervised       every exam has a supervision record in which each check the exam plan
 *                         required (face at start, face during, second camera) passed;
 *   grade                 the final score of the exam that starts last (the final exam);
 *   pass_mark             MG_CREDIT_PASS_MARK.
 * Misconduct comes from the cases when the decision is recorded (mg_credit_decide). */
#ifndef MG_CREDIT_FACTS_H
#define MG_CREDIT_FACTS_H

#include <stdint.h>

#include "credit/credit.h"
#include "store/store.h"

#define MG_CREDIT_PASS_MARK 60.0

/* Fills *f for the enrolment with this registration (UUID text). MG_EINVAL for a malformed
 * registration, MG_ENOTFOUND when no enrolment has it. */
int mg_credit_facts_of(mg_store *s, const char *registration, mg_credit_facts *f);

/* Reads the facts, decides and records the decision (in the caller's transaction). *f_out and
 * *out (either may be NULL) get the facts and the result, *id_out the decision row. */
int mg_credit_compute(mg_store *s, const char *registration, const char *decided_by,
                      int64_t now_us, mg_credit_facts *f_out, mg_credit_result *out,
                      int64_t *id_out);

/* Decides every active enrolment of an offering (in the caller's transaction), calling cb (may
 * be NULL) with each. *n (may be NULL) gets the number decided. MG_ENOTFOUND for no offering. */
typedef int (*mg_credit_each_fn)(void *ud, const mg_credit_facts *f, const mg_credit_result *r,
                                 int64_t decision_id);
int mg_credit_compute_offering(mg_store *s, int64_t offering_id, const char *decided_by,
                               int64_t now_us, mg_credit_each_fn cb, void *ud, int64_t *n);

#endif
