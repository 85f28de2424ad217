/* registry/platform.h — course platforms: filing (备案), white/black list, intake switch.
 *
 * Clause 11: a platform offering credit courses is filed at MLPS (等保) level 3 or above. Clause
 * 17: the ministry reviews filings yearly and keeps a white list and a black list; universities
 * select credit courses only from whitelisted platforms. Every decision keeps its reason, date and
 * decider, and the full history stays. The regulator's switch (「平台管平台」, seed 004) stops a
 * platform's credit-course data intake nationally, in one province or for one university; the LRS
 * asks mg_registry_intake_check before storing a platform's statements. */
#ifndef MG_REGISTRY_PLATFORM_H
#define MG_REGISTRY_PLATFORM_H

#include <stdint.h>

#include "core/json.h"
#include "registry/registry.h"
#include "store/store_registry.h"

/* Registers a platform (o->kind is ignored; code, name required; province optional); status
 * pending, not yet filed. */
int mg_registry_platform_create(mg_store *s, const mg_reg_org *o, int64_t now_us, int64_t *id,
                                mg_registry_why *why);
/* Records the filing: MLPS level (refused below 3: "mlps_below_3"), filing number and the date of
 * the next annual review. */
int mg_registry_platform_file(mg_store *s, int64_t id, int mlps_level, const char *filing_no,
                              const char *review_due, int64_t now_us, mg_registry_why *why);
/* Decides the list status ("whitelist", "pending", "blacklist") with a reason. Whitelisting a
 * platform that is not filed, or whose annual review date has passed, is refused
 * ("platform_not_filed", "filing_review_overdue"). */
int mg_registry_platform_set_status(mg_store *s, int64_t id, const char *status,
                                    const char *reason, const char *by, int64_t now_us,
                                    mg_registry_why *why);
/* Whether universities may select courses from platform p now: whitelisted and the annual
 * review not overdue. MG_OK, or MG_ECONFLICT with why ("platform_not_whitelisted",
 * "filing_review_overdue"). */
int mg_registry_platform_selectable(const mg_reg_platform *p, int64_t now_us,
                                    mg_registry_why *why);

/* Stops intake: w->platform_id, scope ("national", "province" with w->province, "university"
 * with w->university_id) and reason are taken from w. */
int mg_registry_switch_stop(mg_store *s, const mg_reg_switch *w, const char *by, int64_t now_us,
                            int64_t *id, mg_registry_why *why);
/* Lifts switch id of platform platform_id. */
int mg_registry_switch_lift(mg_store *s, int64_t platform_id, int64_t id, const char *by,
                            int64_t now_us, mg_registry_why *why);

/* The LRS hook: may platform_id's statements (one statement object or an array) be stored now?
 * MG_OK, or MG_EFORBIDDEN with why code "platform_suspended" naming the switch and, for a
 * province or university switch, the first statement (by index) whose actor's
 * account.homePage belongs to a university in its scope. A platform without a registry entry
 * (platform_id 0 or unknown) has no switch. Costs one indexed lookup when no switch is active. */
int mg_registry_intake_check(mg_store *s, int64_t platform_id, const mg_json *statements,
                             mg_registry_why *why);

#endif
