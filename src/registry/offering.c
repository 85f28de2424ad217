/* registry/offering.c — course selection by a university. */
#include "registry/offering.h"

#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "registry/course.h"
#include "registry/org.h"
#include "registry/platform.h"

static int store_fail(mg_registry_why *why, int rc) {
  return mg_registry_refuse(why, rc, "store_error", "存储错误 / store error: %s", mg_strerror(rc));
}

int mg_registry_offering_create(mg_store *s, const mg_reg_offering *o, const char *by,
                                int64_t now_us, int64_t *id, mg_registry_why *why) {
  mg_reg_org u;
  mg_reg_course c;
  mg_reg_platform p;
  int rc = mg_registry_university_get(s, o->university_id, &u, why);
  if (rc) return rc;
  if ((rc = mg_registry_check_code("term", o->term, why)) ||
      (rc = mg_registry_check_text("resp_teacher", o->resp_teacher, 127, 0, why)))
    return rc;
  if (strlen(o->term) > 31)
    return mg_registry_refuse(why, MG_EINVAL, "invalid_field", "term：过长 / term is too long");
  if (o->credits_tenths < 1 || o->credits_tenths > 200)
    return mg_registry_refuse(why, MG_EINVAL, "invalid_field",
                              "credits：应在 0.1 至 20 之间 / credits must be between 0.1 and 20");
  rc = mg_store_reg_course_get(s, o->course_id, &c);
  if (rc == MG_ENOTFOUND)
    return mg_registry_refuse(why, rc, "course_not_found", "课程不存在 / no course with id %lld",
                              (long long)o->course_id);
  if (rc) return store_fail(why, rc);
  if ((rc = mg_store_reg_platform_get(s, c.platform_id, &p))) return store_fail(why, rc);
  /* the platform first: a blacklisted platform's courses are refused whatever their state */
  if ((rc = mg_registry_platform_selectable(&p, now_us, why)) ||
      (rc = mg_registry_course_selectable(s, &c, now_us, NULL, why)))
    return rc;
  mg_reg_offering row = *o;
  if (!row.iri[0]) {
    char iri[1024];
    int n = snprintf(iri, sizeof iri, "%s/offerings/%s/%s", c.iri, u.code, o->term);
    if (n < 0 || (size_t)n >= sizeof row.iri)
      return mg_registry_refuse(why, MG_EINVAL, "invalid_field",
                                "iri：课程 IRI 过长，请给出 iri / the course IRI is too long to "
                                "derive the offering's; give iri");
    memcpy(row.iri, iri, (size_t)n + 1);
  } else if ((rc = mg_registry_check_text("iri", row.iri, 500, 0, why))) {
    return rc;
  } else if (strncmp(row.iri, "https://", 8) && strncmp(row.iri, "http://", 7)) {
    return mg_registry_refuse(why, MG_EINVAL, "invalid_field",
                              "iri：应为 http(s) IRI / iri must be an http(s) IRI");
  }
  snprintf(row.created_by, sizeof row.created_by, "%s", by);
  row.created_us = now_us;
  rc = mg_store_reg_offering_create(s, &row, id);
  if (rc == MG_EEXISTS)
    return mg_registry_refuse(why, rc, "offering_exists",
                              "本校该学期已选用此课程，或已选用该开课 IRI / university %s already "
                              "offers course %lld in term %s, or this run (iri)",
                              u.code, (long long)c.id, o->term);
  return rc ? store_fail(why, rc) : MG_OK;
}

int mg_registry_offering_get(mg_store *s, int64_t id, mg_reg_offering *o, mg_reg_course *c,
                             mg_reg_platform *p, mg_registry_why *why) {
  mg_reg_course cc;
  int rc = mg_store_reg_offering_get(s, id, o);
  if (rc == MG_ENOTFOUND)
    return mg_registry_refuse(why, rc, "offering_not_found", "开课不存在 / no offering with id %lld",
                              (long long)id);
  if (rc) return store_fail(why, rc);
  if (!c && !p) return MG_OK;
  if (!c) c = &cc;
  if ((rc = mg_store_reg_course_get(s, o->course_id, c))) return store_fail(why, rc);
  if (p && (rc = mg_store_reg_platform_get(s, c->platform_id, p))) return store_fail(why, rc);
  return MG_OK;
}
