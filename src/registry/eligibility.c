/* registry/eligibility.c — the registry's credit-eligibility conditions. */
#include "registry/eligibility.h"

#include <string.h>

#include "core/err.h"

static void add(mg_registry_eligibility *out, const char *code, const char *msg) {
  out->eligible = 0;
  if (out->n < MG_REGISTRY_ELIG_MAX)
    mg_registry_refuse(&out->reasons[out->n++], MG_ECONFLICT, code, "%s", msg);
}

typedef struct exam_walk {
  mg_store *s;
  const mg_reg_enrolment *e;
  mg_registry_eligibility *out;
  int exams;
} exam_walk;

static int check_exam(void *ud, const mg_reg_exam *ex) {
  exam_walk *w = ud;
  mg_reg_result r;
  w->exams++;
  int rc = mg_store_reg_result_get(w->s, ex->id, w->e->id, &r);
  if (rc && rc != MG_ENOTFOUND) return rc;
  if (rc == MG_ENOTFOUND || !r.final) {
    mg_registry_why why;
    mg_registry_refuse(&why, MG_ECONFLICT, "exam_not_final",
                       "考试 %lld（%s）成绩%s / exam %lld (%s) has %s", (long long)ex->id,
                       ex->title, rc ? "未提交" : "未经高校确认", (long long)ex->id, ex->title,
                       rc ? "no result" : "a result not yet finalised by the university");
    add(w->out, why.code, why.message);
  }
  return MG_OK;
}

int mg_registry_eligibility_of(mg_store *s, const mg_reg_enrolment *e,
                               mg_registry_eligibility *out) {
  memset(out, 0, sizeof *out);
  out->eligible = 1;
  if (!e->active)
    add(out, "enrolment_inactive", "该选课记录已从名单中退选 / the enrolment was dropped from the roster");
  if (!e->pledge_signed)
    add(out, "pledge_unsigned",
        "未签署在线学习诚信承诺书（第8条）/ the integrity pledge is not signed");
  exam_walk w = {s, e, out, 0};
  int rc = mg_store_reg_exam_list(s, e->offering_id, check_exam, &w);
  if (rc) return rc;
  if (!w.exams)
    add(out, "exam_plan_missing",
        "本开课尚无高校监督的考试（第4条）/ the offering has no university-supervised exam");
  return MG_OK;
}
