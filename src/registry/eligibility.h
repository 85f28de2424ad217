/* registry/eligibility.h — is an enrolment credit-eligible, as far as the registry knows?
 *
 * The registry's conditions (the credit module adds its own): the enrolment is active on the
 * roster, the student signed the integrity pledge (clause 8), the offering has a supervised exam
 * and every exam of the offering has a final result for this enrolment (clause 4). Each unmet
 * condition is listed with a code and a message, so a person sees why. */
#ifndef MG_REGISTRY_ELIGIBILITY_H
#define MG_REGISTRY_ELIGIBILITY_H

#include <stdint.h>

#include "registry/registry.h"
#include "store/store_registry.h"

#define MG_REGISTRY_ELIG_MAX 8

typedef struct mg_registry_eligibility {
  int eligible;
  int n;                                       /* reasons listed */
  mg_registry_why reasons[MG_REGISTRY_ELIG_MAX]; /* unmet conditions */
} mg_registry_eligibility;

/* Evaluates enrolment e. MG_OK with *out filled (eligible or not); errors only from the store. */
int mg_registry_eligibility_of(mg_store *s, const mg_reg_enrolment *e,
                               mg_registry_eligibility *out);

#endif
