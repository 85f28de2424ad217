/* registry/pledge.h — the integrity pledge (在线学习诚信承诺书, clause 8).
 *
 * The pledge text is versioned: each published version keeps its exact body and SHA-256, and a
 * signature records who signed which version, when and from which IP address, per enrolment. An
 * enrolment without a signature is not credit-eligible (registry/eligibility.h). */
#ifndef MG_REGISTRY_PLEDGE_H
#define MG_REGISTRY_PLEDGE_H

#include <stdint.h>

#include "registry/registry.h"
#include "store/store_registry.h"

/* Publishes a new version ([A-Za-z0-9._-]{1,31}) with body (1..20000 bytes of text).
 * "pledge_version_exists" when that version exists. */
int mg_registry_pledge_publish(mg_store *s, const char *version, const char *body, const char *by,
                               int64_t now_us, mg_registry_why *why);

/* The enrolment with that registration (text UUID); refusal "enrolment_not_found". */
int mg_registry_enrolment_find(mg_store *s, const char *registration, mg_reg_enrolment *out,
                               mg_registry_why *why);

/* Signs the pledge for enrolment e: version NULL or "" means the latest published. Refused when
 * the enrolment is dropped ("enrolment_inactive"), no text is published or the version is
 * unknown ("pledge_version_unknown"), or that version is already signed
 * ("pledge_already_signed"). p (may be NULL) gets the signature. */
int mg_registry_pledge_sign(mg_store *s, const mg_reg_enrolment *e, const char *version,
                            const char *by, const char *ip, int64_t now_us, mg_reg_pledge *p,
                            mg_registry_why *why);

#endif
