/* notices/referral.h — referral packages for the other departments (教高〔2022〕1号 cl. 19–22).
 *
 * When a verified case involves a paid brushing service (代刷), the university or regulator can
 * hand the facts to the department that acts on them: the cyberspace administration (cac: apps
 * and accounts), the telecom authority (telecom: websites and apps), the police (police: paid
 * services using intrusion tools) or market regulation (samr: illegal business). A package holds
 * the case, the accounts, devices and IP addresses named anywhere in its evidence, and the
 * evidence itself, with an SM3 digest of the package bytes so the receiver can check what it got.
 * Each package is stored as issued. Only cases whose verdict stands (verified, appealed,
 * appeal_rejected) and that are marked as involving a service can be referred. */
#ifndef MG_NOTICES_REFERRAL_H
#define MG_NOTICES_REFERRAL_H

#include <stdint.h>

#include "cases/case.h"
#include "core/buf.h"
#include "store/store.h"

/* Builds, stores and returns (in package, JSON) a referral of case_id to department ("cac",
 * "telecom", "police", "samr"). *id_out (may be NULL) gets its id and digest (may be NULL,
 * 65 bytes) its SM3 hex. Errors as in cases/case.h: "not_found", "invalid" (department),
 * "not_referable" (MG_ECONFLICT: verdict does not stand or no service involved), "integrity". */
int mg_notices_referral(mg_store *s, int64_t case_id, const char *department,
                        const char *created_by, int64_t now_us, mg_buf *package, int64_t *id_out,
                        char *digest, mg_case_err *err);

#endif
