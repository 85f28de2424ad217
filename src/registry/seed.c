/* registry/seed.c — a registry world from one JSON document. */
#include "registry/seed.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "audit/audit.h"
#include "core/uuid.h"
#include "registry/course.h"
#include "registry/exam.h"
#include "registry/offering.h"
#include "registry/org.h"
#include "registry/platform.h"
#include "registry/pledge.h"
#include "store/store_registry.h"

static const char *str(const mg_json *o, const char *k) {
  const char *v = mg_json_string_value(mg_json_object_get(o, k));
  return v ? v : "";
}

static int flag(const mg_json *o, const char *k, int dflt) {
  const mg_json *v = mg_json_object_get(o, k);
  return v ? mg_json_is_true(v) : dflt;
}

#define CP(dst, src) snprintf((dst), sizeof(dst), "%s", (src))

/* Prefixes why->message with where the object is. */
static int at(mg_registry_why *why, int rc, const char *list, size_t i) {
  if (why) {
    char tmp[sizeof why->message + 64];
    snprintf(tmp, sizeof tmp, "%s[%zu]: %s", list, i, why->message);
    size_t n = strlen(tmp);
    if (n >= sizeof why->message) n = sizeof why->message - 1;
    memcpy(why->message, tmp, n);
    why->message[n] = 0;
    mg_utf8_trim_tail(why->message);
  }
  return rc;
}

typedef struct find_org {
  const char *kind, *code;
  int64_t id;
} find_org;

static int match_org(void *ud, const mg_reg_org *o) {
  find_org *f = ud;
  if (!strcmp(o->code, f->code)) f->id = o->id;
  return MG_OK;
}

static int org_id(mg_store *s, const char *kind, const char *code, int64_t *id,
                  mg_registry_why *why) {
  find_org f = {kind, code, 0};
  int rc = mg_store_reg_org_list(s, kind, NULL, match_org, &f);
  if (rc) return mg_registry_refuse(why, rc, "store_error", "%s", mg_strerror(rc));
  if (!f.id)
    return mg_registry_refuse(why, MG_ENOTFOUND, "not_found", "no %s with code '%s'", kind, code);
  *id = f.id;
  return MG_OK;
}

static int seed_orgs(mg_store *s, const mg_json *w, int64_t now, mg_registry_seed_result *out,
                     mg_registry_why *why) {
  const char *lists[2] = {"regulators", "universities"};
  for (int l = 0; l < 2; l++) {
    const mg_json *arr = mg_json_object_get(w, lists[l]), *o;
    size_t i;
    mg_json_array_foreach(arr, i, o) {
      mg_reg_org org;
      memset(&org, 0, sizeof org);
      CP(org.kind, l ? "university" : str(o, "kind"));
      CP(org.code, str(o, "code"));
      CP(org.name, str(o, "name"));
      CP(org.province, str(o, "province"));
      CP(org.home_page, str(o, "home_page"));
      int rc = mg_registry_org_create(s, &org, now, NULL, why);
      if (rc) return at(why, rc, lists[l], i);
      out->orgs++;
    }
  }
  return MG_OK;
}

static int seed_platforms(mg_store *s, const mg_json *w, const char *by, int64_t now,
                          mg_registry_seed_result *out, mg_registry_why *why) {
  const mg_json *arr = mg_json_object_get(w, "platforms"), *o;
  size_t i;
  mg_json_array_foreach(arr, i, o) {
    mg_reg_org org;
    memset(&org, 0, sizeof org);
    CP(org.code, str(o, "code"));
    CP(org.name, str(o, "name"));
    CP(org.province, str(o, "province"));
    int64_t id = 0;
    int rc = mg_registry_platform_create(s, &org, now, &id, why);
    if (!rc && mg_json_object_get(o, "mlps_level"))
      rc = mg_registry_platform_file(s, id, (int)mg_json_integer_value(mg_json_object_get(o, "mlps_level")),
                                     str(o, "filing_no"), str(o, "review_due"), now, why);
    const char *status = str(o, "status");
    if (!rc && *status && strcmp(status, "pending"))
      rc = mg_registry_platform_set_status(s, id, status, *str(o, "reason") ? str(o, "reason") : "seed",
                                           by, now, why);
    if (rc) return at(why, rc, "platforms", i);
    out->platforms++;
  }
  return MG_OK;
}

static int seed_courses(mg_store *s, const mg_json *w, const char *by, int64_t now,
                        mg_registry_seed_result *out, mg_registry_why *why) {
  const mg_json *arr = mg_json_object_get(w, "courses"), *o;
  size_t i;
  mg_json_array_foreach(arr, i, o) {
    mg_reg_recommendation r;
    mg_reg_course c;
    memset(&r, 0, sizeof r);
    memset(&c, 0, sizeof c);
    int64_t cid = 0;
    int rc = org_id(s, "platform", str(o, "platform"), &r.platform_id, why);
    if (!rc) rc = org_id(s, "university", str(o, "university"), &r.university_id, why);
    if (!rc) {
      CP(r.title, str(o, "title"));
      CP(r.lead_teacher, str(o, "lead_teacher"));
      snprintf(r.letter_no, sizeof r.letter_no, "seed-%zu", i);
      rc = mg_registry_recommend(s, &r, by, now, &c.recommendation_id, why);
    }
    if (!rc) {
      c.platform_id = r.platform_id;
      CP(c.code, str(o, "code"));
      CP(c.iri, str(o, "iri"));
      CP(c.content_updated, str(o, "content_updated"));
      rc = mg_registry_course_submit(s, &c, by, now, &cid, why);
    }
    if (!rc && flag(o, "reviewed", 1)) {
      static const char *const kinds[3] = {"content", "ideology", "quality"};
      for (int k = 0; k < 3 && !rc; k++)
        rc = mg_registry_course_review(s, cid, kinds[k], "pass", "seed: 审查通过 / passed", by, now,
                                       NULL, why);
      if (!rc && flag(o, "online", 1)) rc = mg_registry_course_publish(s, cid, 1, why);
    }
    if (rc) return at(why, rc, "courses", i);
    out->courses++;
  }
  return MG_OK;
}

static int seed_offerings(mg_store *s, const mg_json *w, const char *by, int64_t now,
                          mg_registry_seed_result *out, mg_registry_why *why) {
  const mg_json *arr = mg_json_object_get(w, "offerings"), *o;
  size_t i;
  mg_json_array_foreach(arr, i, o) {
    mg_reg_offering off;
    mg_reg_course c;
    memset(&off, 0, sizeof off);
    int rc = org_id(s, "university", str(o, "university"), &off.university_id, why);
    if (!rc) {
      rc = mg_store_reg_course_by_iri(s, str(o, "course_iri"), &c);
      if (rc)
        rc = mg_registry_refuse(why, rc, "course_not_found", "no course with iri '%s'",
                                str(o, "course_iri"));
    }
    int64_t id = 0;
    if (!rc) {
      off.course_id = c.id;
      CP(off.term, str(o, "term"));
      off.credits_tenths = (int)lround(mg_json_number_value(mg_json_object_get(o, "credits")) * 10);
      CP(off.resp_teacher, str(o, "resp_teacher"));
      CP(off.iri, str(o, "iri"));
      rc = mg_registry_offering_create(s, &off, by, now, &id, why);
    }
    const mg_json *ex = mg_json_object_get(o, "exam");
    if (!rc && ex) {
      mg_reg_exam e;
      memset(&e, 0, sizeof e);
      e.offering_id = id;
      CP(e.title, str(ex, "title"));
      CP(e.invigilator, str(ex, "invigilator"));
      e.starts_us = now;
      e.face_start = e.face_during = e.dual_camera = 1;
      rc = mg_registry_exam_plan(s, &e, by, now, NULL, why);
      if (!rc) out->exams++;
    }
    if (rc) return at(why, rc, "offerings", i);
    out->offerings++;
  }
  return MG_OK;
}

static int seed_rosters(mg_store *s, const mg_json *w, const char *by, int64_t now,
                        mg_registry_seed_result *out, mg_registry_why *why) {
  const mg_json *arr = mg_json_object_get(w, "rosters"), *o;
  size_t i;
  mg_json_array_foreach(arr, i, o) {
    mg_reg_offering off;
    /* "university" is needed only when several universities share the run's IRI */
    int64_t uid = 0;
    int rc = MG_OK;
    if (mg_json_object_get(o, "university")) {
      if ((rc = org_id(s, "university", str(o, "university"), &uid, why)))
        return at(why, rc, "rosters", i);
      rc = mg_store_reg_offering_at(s, uid, str(o, "offering_iri"), &off);
    } else {
      rc = mg_store_reg_offering_by_iri(s, str(o, "offering_iri"), &off);
    }
    if (rc)
      return at(why, mg_registry_refuse(why, rc, "offering_not_found",
                                        rc == MG_ECONFLICT
                                            ? "several universities offer '%s': name the university"
                                            : "no offering with iri '%s'",
                                        str(o, "offering_iri")),
                "rosters", i);
    const mg_json *sts = mg_json_object_get(o, "students"), *st;
    size_t j;
    mg_json_array_foreach(sts, j, st) {
      mg_reg_student stu;
      mg_reg_enrolment e;
      memset(&stu, 0, sizeof stu);
      memset(&e, 0, sizeof e);
      stu.university_id = off.university_id;
      CP(stu.student_no, str(st, "student_no"));
      CP(stu.name, str(st, "name"));
      if ((rc = mg_registry_check_code("student_no", stu.student_no, why)) ||
          (rc = mg_registry_check_text("name", stu.name, 127, 0, why)))
        return at(why, rc, "rosters", i);
      mg_reg_student have;
      rc = mg_store_reg_student_find(s, off.university_id, stu.student_no, &have);
      if (!rc) stu.id = have.id;
      else if (rc == MG_ENOTFOUND) rc = mg_store_reg_student_create(s, &stu, &stu.id);
      const char *reg = str(st, "registration");
      if (!rc && *reg && mg_uuid_parse(reg, e.registration))
        rc = mg_registry_refuse(why, MG_EINVAL, "invalid_field", "students[%zu].registration: not a UUID", j);
      else if (!rc && !*reg) mg_uuid_v4(e.registration);
      if (!rc) {
        e.offering_id = off.id;
        e.student_id = stu.id;
        e.created_us = now;
        rc = mg_store_reg_enrolment_create(s, &e, &e.id);
        if (rc == MG_EEXISTS)
          mg_registry_refuse(why, rc, "enrolment_exists",
                             "students[%zu]: already enrolled, or registration taken", j);
      }
      if (!rc) {
        out->enrolments++;
        e.active = 1;
        if (flag(st, "pledge", 0)) {
          rc = mg_registry_pledge_sign(s, &e, NULL, by, "-", now, NULL, why);
          if (!rc) out->pledges++;
        }
      }
      if (rc) {
        if (why && !why->code[0]) mg_registry_refuse(why, rc, "store_error", "%s", mg_strerror(rc));
        return at(why, rc, "rosters", i);
      }
    }
  }
  return MG_OK;
}

int mg_registry_seed(mg_store *s, const mg_json *world, const char *by, int64_t now_us,
                     mg_registry_seed_result *out, mg_registry_why *why) {
  memset(out, 0, sizeof *out);
  if (why) memset(why, 0, sizeof *why);
  if (!mg_json_is_object(world))
    return mg_registry_refuse(why, MG_EINVAL, "invalid_seed", "the world must be a JSON object");
  int rc = mg_store_tx_begin(s);
  if (rc) return mg_registry_refuse(why, rc, "store_error", "%s", mg_strerror(rc));
  const mg_json *pl = mg_json_object_get(world, "pledge");
  if ((rc = seed_orgs(s, world, now_us, out, why)) ||
      (rc = seed_platforms(s, world, by, now_us, out, why)) ||
      (pl && (rc = mg_registry_pledge_publish(s, str(pl, "version"), str(pl, "body"), by, now_us,
                                              why))) ||
      (rc = seed_courses(s, world, by, now_us, out, why)) ||
      (rc = seed_offerings(s, world, by, now_us, out, why)) ||
      (rc = seed_rosters(s, world, by, now_us, out, why))) {
    mg_store_tx_rollback(s);
    return rc;
  }
  /* one audit record for the whole seed, in its transaction: the world as given */
  mg_buf doc;
  mg_buf_init(&doc, (size_t)1 << 30);
  rc = mg_json_dump(world, &doc);
  mg_audit_event ev = {.actor = by, .role = "system", .action = "registry.seed",
                       .object_type = "registry", .after = doc.data, .after_len = doc.len,
                       .at_us = now_us};
  if (!rc) rc = mg_audit_append(s, &ev, NULL);
  mg_buf_free(&doc);
  if (rc) {
    mg_store_tx_rollback(s);
    return mg_registry_refuse(why, rc, "audit_unavailable",
                              "审计日志无法写入，已撤销 / the audit log cannot be written, so the "
                              "seed was rolled back");
  }
  rc = mg_store_tx_commit(s);
  return rc ? mg_registry_refuse(why, rc, "store_error", "%s", mg_strerror(rc)) : MG_OK;
}
