/* registry/exam.c — exam plans, supervision records, results and finalisation. */
#include "registry/exam.h"

#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "registry/offering.h"
#include "registry/pledge.h"

static int store_fail(mg_registry_why *why, int rc) {
  return mg_registry_refuse(why, rc, "store_error", "存储错误 / store error: %s", mg_strerror(rc));
}

int mg_registry_exam_plan(mg_store *s, const mg_reg_exam *e, const char *by, int64_t now_us,
                          int64_t *id, mg_registry_why *why) {
  mg_reg_offering o;
  int rc = mg_registry_offering_get(s, e->offering_id, &o, NULL, NULL, why);
  if (rc) return rc;
  if ((rc = mg_registry_check_text("title", e->title, 255, 0, why))) return rc;
  if ((rc = mg_registry_check_text("invigilator", e->invigilator, 127, 1, why))) return rc;
  char missing[200] = "";
  size_t n = 0;
  const struct {
    int ok;
    const char *name;
  } need[] = {{e->face_start, "face_start（开考人脸识别）"},
              {e->face_during, "face_during（考中人脸识别）"},
              {e->dual_camera, "dual_camera（双机位）"},
              {e->invigilator[0] != 0, "invigilator（高校监考人员）"}};
  for (size_t i = 0; i < sizeof need / sizeof need[0]; i++)
    if (!need[i].ok && n < sizeof missing)
      n += (size_t)snprintf(missing + n, sizeof missing - n, "%s%s", n ? ", " : "", need[i].name);
  if (n)
    return mg_registry_refuse(why, MG_EINVAL, "supervision_plan_incomplete",
                              "考试监督方案不完整（第4条：人脸识别、双机位，不得完全交由平台）：缺 %s / the "
                              "supervision plan lacks: %s",
                              missing, missing);
  mg_reg_exam row = *e;
  snprintf(row.created_by, sizeof row.created_by, "%s", by);
  row.created_us = now_us;
  rc = mg_store_reg_exam_create(s, &row, id);
  return rc ? store_fail(why, rc) : MG_OK;
}

int mg_registry_exam_sitting(mg_store *s, int64_t exam_id, const char *registration,
                             mg_reg_exam *exam, mg_reg_enrolment *enrolment, mg_registry_why *why) {
  int rc = mg_store_reg_exam_get(s, exam_id, exam);
  if (rc == MG_ENOTFOUND)
    return mg_registry_refuse(why, rc, "exam_not_found", "考试不存在 / no exam with id %lld",
                              (long long)exam_id);
  if (rc) return store_fail(why, rc);
  if ((rc = mg_registry_enrolment_find(s, registration, enrolment, why))) return rc;
  if (enrolment->offering_id != exam->offering_id)
    return mg_registry_refuse(why, MG_ECONFLICT, "enrolment_not_in_offering",
                              "该选课记录不属于本考试的开课 / registration %s is not enrolled in the "
                              "offering of exam %lld",
                              registration, (long long)exam_id);
  return MG_OK;
}

static int refuse_final(mg_registry_why *why) {
  return mg_registry_refuse(why, MG_ECONFLICT, "result_final",
                            "成绩已确认，不能再改 / the result is final and cannot change");
}

int mg_registry_exam_submit(mg_store *s, int64_t exam_id, const char *registration,
                            int score_tenths, const char *by, int64_t now_us,
                            mg_registry_why *why) {
  mg_reg_exam ex;
  mg_reg_enrolment en;
  int rc = mg_registry_exam_sitting(s, exam_id, registration, &ex, &en, why);
  if (rc) return rc;
  if (score_tenths < 0 || score_tenths > 1000)
    return mg_registry_refuse(why, MG_EINVAL, "invalid_field",
                              "score：应在 0 至 100 之间 / score must be between 0 and 100");
  mg_reg_result r;
  memset(&r, 0, sizeof r);
  r.exam_id = exam_id;
  r.enrolment_id = en.id;
  r.score_tenths = score_tenths;
  snprintf(r.submitted_by, sizeof r.submitted_by, "%s", by);
  r.submitted_us = now_us;
  rc = mg_store_reg_result_put(s, &r);
  if (rc == MG_ECONFLICT) return refuse_final(why);
  return rc ? store_fail(why, rc) : MG_OK;
}

static int check_mark(const char *field, const char *v, mg_registry_why *why) {
  if (!strcmp(v, "pass") || !strcmp(v, "fail") || !*v) return MG_OK;
  return mg_registry_refuse(why, MG_EINVAL, "invalid_field",
                            "%s：应为 pass、fail 或空 / %s must be \"pass\", \"fail\" or \"\"", field,
                            field);
}

int mg_registry_exam_supervise(mg_store *s, const mg_reg_supervision *r, const char *registration,
                               const char *by, int64_t now_us, mg_registry_why *why) {
  mg_reg_exam ex;
  mg_reg_enrolment en;
  mg_reg_result res;
  int rc = mg_registry_exam_sitting(s, r->exam_id, registration, &ex, &en, why);
  if (rc) return rc;
  if ((rc = check_mark("face_start", r->face_start, why)) ||
      (rc = check_mark("face_during", r->face_during, why)) ||
      (rc = check_mark("dual_camera", r->dual_camera, why)) ||
      (rc = mg_registry_check_text("invigilator", r->invigilator, 127, 1, why)) ||
      (rc = mg_registry_check_text("notes", r->notes, 1000, 1, why)))
    return rc;
  rc = mg_store_reg_result_get(s, r->exam_id, en.id, &res);
  if (!rc && res.final) return refuse_final(why);
  if (rc && rc != MG_ENOTFOUND) return store_fail(why, rc);
  mg_reg_supervision row = *r;
  row.enrolment_id = en.id;
  snprintf(row.recorded_by, sizeof row.recorded_by, "%s", by);
  row.recorded_us = now_us;
  rc = mg_store_reg_supervision_put(s, &row);
  return rc ? store_fail(why, rc) : MG_OK;
}

int mg_registry_exam_finalise(mg_store *s, int64_t exam_id, const char *registration,
                              const char *by, int64_t now_us, mg_registry_why *why) {
  mg_reg_exam ex;
  mg_reg_enrolment en;
  mg_reg_result res;
  mg_reg_supervision sv;
  int rc = mg_registry_exam_sitting(s, exam_id, registration, &ex, &en, why);
  if (rc) return rc;
  rc = mg_store_reg_result_get(s, exam_id, en.id, &res);
  if (rc == MG_ENOTFOUND)
    return mg_registry_refuse(why, MG_ECONFLICT, "result_missing",
                              "平台尚未提交成绩 / the platform has not submitted a result for this "
                              "sitting");
  if (rc) return store_fail(why, rc);
  if (res.final) return refuse_final(why);
  if (!en.pledge_signed)
    return mg_registry_refuse(why, MG_ECONFLICT, "pledge_unsigned",
                              "学生未签署在线学习诚信承诺书（第8条）/ the student has not signed the "
                              "integrity pledge for this enrolment");
  rc = mg_store_reg_supervision_get(s, exam_id, en.id, &sv);
  if (rc == MG_ENOTFOUND)
    return mg_registry_refuse(why, MG_ECONFLICT, "supervision_incomplete",
                              "缺少高校监考记录，考试不得完全交由平台负责（第4条）/ there is no "
                              "university supervision record for this sitting; the platform alone "
                              "cannot finalise a result");
  if (rc) return store_fail(why, rc);
  char missing[160] = "", failed[160] = "";
  size_t nm = 0, nf = 0;
  const struct {
    const char *v, *name;
  } marks[] = {{sv.face_start, "face_start"}, {sv.face_during, "face_during"},
               {sv.dual_camera, "dual_camera"}};
  for (size_t i = 0; i < 3; i++) {
    if (!*marks[i].v && nm < sizeof missing)
      nm += (size_t)snprintf(missing + nm, sizeof missing - nm, "%s%s", nm ? ", " : "",
                             marks[i].name);
    else if (!strcmp(marks[i].v, "fail") && nf < sizeof failed)
      nf += (size_t)snprintf(failed + nf, sizeof failed - nf, "%s%s", nf ? ", " : "",
                             marks[i].name);
  }
  if (!sv.invigilator[0] && nm < sizeof missing)
    nm += (size_t)snprintf(missing + nm, sizeof missing - nm, "%sinvigilator", nm ? ", " : "");
  if (nm)
    return mg_registry_refuse(why, MG_ECONFLICT, "supervision_incomplete",
                              "高校监考记录不完整：缺 %s / the university supervision record lacks: %s",
                              missing, missing);
  if (nf)
    return mg_registry_refuse(why, MG_ECONFLICT, "supervision_failed",
                              "监考记录显示未通过：%s，成绩不能确认，请按违纪处理程序核查 / the supervision "
                              "record shows failed checks (%s); the result cannot be finalised "
                              "until the case is resolved",
                              failed, failed);
  rc = mg_store_reg_result_finalise(s, exam_id, en.id, by, now_us);
  if (rc == MG_ENOTFOUND) return refuse_final(why);
  return rc ? store_fail(why, rc) : MG_OK;
}
