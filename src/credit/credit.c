/* credit/credit.c — credit-recognition rules, decisions and exports. */
#include "credit/credit.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cases/case.h"
#include "cases/seal.h"
#include "core/arena.h"
#include "core/err.h"
#include "core/json.h"
#include "core/time.h"
#include "core/uuid.h"

static void rule(mg_credit_rule_result *r, const char *code, int ok, const char *zh_ok,
                 const char *zh_no, const char *en_ok, const char *en_no) {
  r->rule = code;
  r->ok = ok ? 1 : 0;
  snprintf(r->detail, sizeof r->detail, "%s / %s", ok ? zh_ok : zh_no, ok ? en_ok : en_no);
}

void mg_credit_evaluate(const mg_credit_facts *f, mg_credit_result *out) {
  memset(out, 0, sizeof *out);
  mg_credit_rule_result *r = out->rules;
  rule(&r[0], "offering_approved", f->offering_approved, "开课已经学校审核选用",
       "开课未经学校审核选用", "offering approved by the university",
       "offering not approved by the university");
  rule(&r[1], "platform_whitelisted", f->platform_whitelisted, "选课时平台在白名单",
       "选课时平台不在白名单", "platform whitelisted at enrolment",
       "platform not whitelisted at enrolment");
  if (!f->platform_whitelisted && f->platform_status[0]) {
    size_t n = strlen(r[1].detail);
    snprintf(r[1].detail + n, sizeof r[1].detail - n, " (%s)", f->platform_status);
  }
  rule(&r[2], "pledge_signed", f->pledge_signed, "已签署在线学习诚信承诺书", "未签署在线学习诚信承诺书",
       "integrity pledge signed", "integrity pledge not signed");
  int exam_ok = f->exam_finalised && f->exam_supervised;
  rule(&r[3], "exam_supervised", exam_ok, "考试已定稿且有监考记录",
       f->exam_finalised ? "考试无监考记录" : "考试成绩未定稿", "exam finalised with supervision",
       f->exam_finalised ? "exam has no supervision record" : "exam not finalised");
  int pass = f->has_grade && isfinite(f->grade) && f->grade >= f->pass_mark;
  r[4].rule = "passing_grade";
  r[4].ok = pass;
  if (!f->has_grade)
    snprintf(r[4].detail, sizeof r[4].detail, "无成绩 / no grade");
  else
    snprintf(r[4].detail, sizeof r[4].detail, "成绩 %.1f %s 及格线 %.1f / grade %.1f %s pass mark %.1f",
             f->grade, pass ? "≥" : "<", f->pass_mark, f->grade, pass ? ">=" : "<", f->pass_mark);
  r[5].rule = "no_misconduct";
  r[5].ok = !f->misconduct;
  if (f->misconduct)
    snprintf(r[5].detail, sizeof r[5].detail,
             "违规查实，课程成绩取消（案件 %lld） / verified misconduct, grade cancelled (case %lld)",
             (long long)f->misconduct_case, (long long)f->misconduct_case);
  else
    snprintf(r[5].detail, sizeof r[5].detail, "无查实违规 / no verified misconduct");
  out->eligible = 1;
  for (int i = 0; i < MG_CREDIT_RULE_COUNT; i++)
    if (!r[i].ok) out->eligible = 0;
}

static int reasons_json(const mg_credit_result *r, mg_buf *b) {
  int rc = mg_buf_addc(b, '[');
  for (int i = 0; !rc && i < MG_CREDIT_RULE_COUNT; i++) {
    rc = mg_buf_addf(b, "%s{\"rule\":\"%s\",\"ok\":%s,\"detail\":\"", i ? "," : "",
                     r->rules[i].rule, r->rules[i].ok ? "true" : "false");
    if (!rc) rc = mg_buf_add_json_str(b, r->rules[i].detail, strlen(r->rules[i].detail));
    if (!rc) rc = mg_buf_adds(b, "\"}");
  }
  if (!rc) rc = mg_buf_addc(b, ']');
  return rc;
}

int mg_credit_canonical(const mg_store_credit_decision *d, mg_buf *out) {
  if (!d || !out) return MG_EINVAL;
  /* %.17g round-trips doubles exactly, so a value read back tags the same. */
  return mg_buf_addf(out,
                     "moocguard.credit-decision.v1\nregistration=%s\nuniversity=%lld\n"
                     "student=%lld\noffering=%lld\ncourse=%lld\neligible=%d\ncredits=%.17g\n"
                     "grade=%s%.17g\nrules_version=%s\ndecided_by=%zu:%s\ndecided_us=%lld\n"
                     "reasons=%zu:%s\n",
                     d->registration, (long long)d->university_id, (long long)d->student_id,
                     (long long)d->offering_id, (long long)d->course_id, d->eligible, d->credits,
                     d->has_grade ? "" : "none:", d->has_grade ? d->grade : 0.0, d->rules_version,
                     strlen(d->decided_by), d->decided_by, (long long)d->decided_us,
                     strlen(d->reasons ? d->reasons : ""), d->reasons ? d->reasons : "");
}

static int check_tag(mg_store *s, const mg_store_credit_decision *d) {
  mg_buf b;
  mg_buf_init(&b, 1 << 20);
  int rc = mg_credit_canonical(d, &b);
  if (!rc) rc = mg_cases_seal_check(s, "credit.decision", b.data, b.len, d->mac);
  mg_buf_free(&b);
  return rc;
}

int mg_credit_decide(mg_store *s, mg_credit_facts *f, const char *decided_by, int64_t now_us,
                     mg_credit_result *out, int64_t *id_out) {
  if (!s || !f || !decided_by || !*decided_by || strlen(decided_by) >= MG_CASES_NAME_MAX)
    return MG_EINVAL;
  uint8_t reg[16];
  if (mg_uuid_parse(f->registration, reg)) return MG_EINVAL;
  if (!isfinite(f->credits) || f->credits < 0 || !isfinite(f->pass_mark) ||
      (f->has_grade && !isfinite(f->grade)))
    return MG_EINVAL;
  int rc = mg_cases_misconduct(s, f->registration, &f->misconduct, &f->misconduct_case);
  if (rc) return rc;
  mg_credit_result r;
  mg_credit_evaluate(f, &r);
  mg_buf reasons, canon;
  mg_buf_init(&reasons, 1 << 16);
  mg_buf_init(&canon, 1 << 20);
  if ((rc = reasons_json(&r, &reasons))) goto out;
  mg_store_credit_decision d;
  memset(&d, 0, sizeof d);
  snprintf(d.registration, sizeof d.registration, "%s", f->registration);
  d.university_id = f->university_id;
  d.student_id = f->student_id;
  d.offering_id = f->offering_id;
  d.course_id = f->course_id;
  d.eligible = r.eligible;
  d.credits = r.eligible ? f->credits : 0;
  d.has_grade = f->has_grade && !f->misconduct; /* a cancelled grade is not exported */
  d.grade = d.has_grade ? f->grade : 0;
  d.reasons = reasons.data;
  snprintf(d.rules_version, sizeof d.rules_version, "%s", MG_CREDIT_RULES_VERSION);
  snprintf(d.decided_by, sizeof d.decided_by, "%s", decided_by);
  d.decided_us = now_us;
  if ((rc = mg_credit_canonical(&d, &canon))) goto out;
  if ((rc = mg_cases_seal(s, "credit.decision", canon.data, canon.len, d.mac, sizeof d.mac))) goto out;
  if ((rc = mg_store_credit_put(s, &d, id_out))) goto out;
  if (out) *out = r;
out:
  mg_buf_free(&reasons);
  mg_buf_free(&canon);
  return rc;
}

int mg_credit_get(mg_store *s, const char *registration, mg_store_credit_decision *out,
                  char **reasons) {
  if (!s || !registration || !out || !reasons) return MG_EINVAL;
  int rc = mg_store_credit_latest(s, registration, out, reasons);
  if (rc) return rc;
  out->reasons = *reasons;
  rc = check_tag(s, out);
  out->reasons = NULL;
  if (rc) {
    free(*reasons);
    *reasons = NULL;
  }
  return rc;
}

/* ---- export ------------------------------------------------------------------------------ */

typedef struct export_ctx {
  mg_store *s;
  mg_buf *out;
  int csv;
  int n;
  int check_only;
  char *bad;
} export_ctx;

/* One CSV cell: quoted when needed; a leading formula character is neutralised with '. */
static int csv_cell(mg_buf *b, const char *v) {
  int formula = v[0] == '=' || v[0] == '+' || v[0] == '-' || v[0] == '@' || v[0] == '\t' ||
                v[0] == '\r';
  int quote = formula || strpbrk(v, ",\"\r\n") != NULL;
  int rc = quote ? mg_buf_addc(b, '"') : MG_OK;
  if (!rc && formula) rc = mg_buf_addc(b, '\'');
  for (const char *p = v; !rc && *p; p++) rc = *p == '"' ? mg_buf_adds(b, "\"\"") : mg_buf_addc(b, *p);
  if (!rc && quote) rc = mg_buf_addc(b, '"');
  return rc;
}

/* The failed rules' codes, ';'-joined ("" when eligible), from the stored reasons array. */
static int failed_rules(const char *reasons, mg_buf *b) {
  mg_arena a;
  mg_arena_init(&a, 0, 1 << 22);
  mg_json *arr = mg_json_parse(&a, reasons, strlen(reasons), 0, NULL);
  int rc = arr ? MG_OK : MG_ECORRUPT;
  size_t i;
  mg_json *it;
  int first = 1;
  mg_json_array_foreach(arr, i, it) {
    if (rc) break;
    if (mg_json_is_false(mg_json_object_get(it, "ok"))) {
      const char *code = mg_json_string_value(mg_json_object_get(it, "rule"));
      if (!first) rc = mg_buf_addc(b, ';');
      if (!rc) rc = mg_buf_adds(b, code ? code : "?");
      first = 0;
    }
  }
  mg_arena_free(&a);
  return rc;
}

static int export_row(void *ud, const mg_store_credit_decision *d) {
  export_ctx *x = ud;
  if (x->check_only) {
    int rc = check_tag(x->s, d);
    if (rc && x->bad) snprintf(x->bad, MG_CASES_REG_MAX, "%s", d->registration);
    return rc;
  }
  mg_buf *b = x->out;
  char at[MG_TIME_ISO_LEN], num[64];
  mg_time_format_iso(d->decided_us, 3, at);
  int rc;
  if (x->csv) {
    mg_buf failed;
    mg_buf_init(&failed, 1 << 12);
    rc = failed_rules(d->reasons, &failed);
    if (!rc) rc = csv_cell(b, d->registration);
    if (!rc) rc = mg_buf_addf(b, ",%lld,%lld,%lld,%lld,%s,%g,", (long long)d->university_id,
                              (long long)d->student_id, (long long)d->offering_id,
                              (long long)d->course_id, d->eligible ? "yes" : "no", d->credits);
    if (!rc && d->has_grade) {
      snprintf(num, sizeof num, "%g", d->grade);
      rc = mg_buf_adds(b, num);
    }
    if (!rc) rc = mg_buf_addc(b, ',');
    if (!rc) rc = csv_cell(b, failed.data ? failed.data : "");
    if (!rc) rc = mg_buf_addc(b, ',');
    if (!rc) rc = csv_cell(b, d->rules_version);
    if (!rc) rc = mg_buf_addf(b, ",%s,", at);
    if (!rc) rc = csv_cell(b, d->decided_by);
    if (!rc) rc = mg_buf_addc(b, ',');
    if (!rc) rc = csv_cell(b, d->mac);
    if (!rc) rc = mg_buf_adds(b, "\r\n");
    mg_buf_free(&failed);
  } else {
    rc = mg_buf_addf(b, "%s{\"registration\":\"", x->n ? "," : "");
    if (!rc) rc = mg_buf_add_json_str(b, d->registration, strlen(d->registration));
    if (!rc) rc = mg_buf_addf(b, "\",\"university_id\":%lld,\"student_id\":%lld,\"offering_id\":%lld,"
                              "\"course_id\":%lld,\"eligible\":%s,\"credits\":%g,\"grade\":",
                              (long long)d->university_id, (long long)d->student_id,
                              (long long)d->offering_id, (long long)d->course_id,
                              d->eligible ? "true" : "false", d->credits);
    if (!rc) {
      if (d->has_grade) rc = mg_buf_addf(b, "%g", d->grade);
      else rc = mg_buf_adds(b, "null");
    }
    if (!rc) rc = mg_buf_adds(b, ",\"reasons\":");
    if (!rc) rc = mg_buf_adds(b, d->reasons);
    if (!rc) rc = mg_buf_addf(b, ",\"rules_version\":\"%s\",\"decided_at\":\"%s\",\"decided_by\":\"",
                              d->rules_version, at);
    if (!rc) rc = mg_buf_add_json_str(b, d->decided_by, strlen(d->decided_by));
    if (!rc) rc = mg_buf_addf(b, "\",\"tag\":\"%s\"}", d->mac);
  }
  x->n++;
  return rc;
}

int mg_credit_export(mg_store *s, int64_t university_id, int csv, mg_buf *out,
                     char bad_registration[MG_CASES_REG_MAX]) {
  if (!s || !out) return MG_EINVAL;
  if (bad_registration) bad_registration[0] = '\0';
  /* First pass: every tag, so a tampered row fails the export before anything is written. */
  export_ctx x = {s, out, csv, 0, 1, bad_registration};
  int rc = mg_store_credit_list(s, university_id, export_row, &x);
  if (rc) return rc;
  x.check_only = 0;
  if (csv)
    rc = mg_buf_adds(out, "registration,university_id,student_id,offering_id,course_id,eligible,"
                          "credits,grade,failed_rules,rules_version,decided_at,decided_by,tag\r\n");
  else
    rc = mg_buf_addf(out, "{\"rules_version\":\"%s\",\"decisions\":[", MG_CREDIT_RULES_VERSION);
  if (!rc) rc = mg_store_credit_list(s, university_id, export_row, &x);
  if (!rc && !csv) rc = mg_buf_adds(out, "]}");
  return rc;
}
