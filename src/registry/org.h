/* registry/org.h — organisations: the ministry, provincial education departments, universities.
 *
 * Every person's rights follow from their role and their organisation (users.org_id points
 * here); a university is also an identity: its homePage is the actor.account.homePage of its
 * students in xAPI statements, which is how statements are mapped to universities. Platforms are
 * organisations too but are created through registry/platform.h (they carry a filing). */
#ifndef MG_REGISTRY_ORG_H
#define MG_REGISTRY_ORG_H

#include <stdint.h>

#include "registry/registry.h"
#include "store/store_registry.h"

/* Validates and creates o (kind "ministry", "province" or "university"; code [A-Za-z0-9_-]{1,63};
 * name; province required except for the ministry; home_page an http(s) URL, required for and
 * only for universities). *id gets the new id. MG_EEXISTS (code "org_exists") when the code or
 * homePage is taken. */
int mg_registry_org_create(mg_store *s, const mg_reg_org *o, int64_t now_us, int64_t *id,
                           mg_registry_why *why);
/* Changes name / province / home_page of org o->id (same checks). */
int mg_registry_org_update(mg_store *s, const mg_reg_org *o, mg_registry_why *why);
/* Checks a code and a URL as org_create does (shared with platforms). */
int mg_registry_check_code(const char *field, const char *code, mg_registry_why *why);
int mg_registry_check_url(const char *field, const char *url, mg_registry_why *why);
/* A province: its code ("11") or name ("江苏"), 1..15 bytes of text without spaces, as in the
 * users' province field. */
int mg_registry_check_province(const char *province, mg_registry_why *why);
/* The university org_id, or MG_ENOTFOUND/MG_EINVAL (why filled) if id is not a university. */
int mg_registry_university_get(mg_store *s, int64_t id, mg_reg_org *out, mg_registry_why *why);

#endif
