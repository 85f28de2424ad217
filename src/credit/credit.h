/* credit/credit.h — credit recognition for an enrolment (教高〔2022〕1号 cl. 1, 8, 10, 17).
 *
 * For each enrolment the decision says whether the university may recognise the credits, and
 * why, rule by rule: the offering was approved by the university, the platform was on the white
 * list when the student enrolled, the student signed the integrity pledge, the exam was finalised
 * and supervised, the grade passes, and no verified misconduct stands (a case verified and not
 * overturned on appeal cancels the grade). Every rule is evaluated and reported, so a refusal
 * lists all of its reasons at once. Decisions are kept (each recomputation adds one; the newest
 * counts), carry an integrity tag (cases/seal.h) checked on every read and export, and are
 * exported for the academic-affairs system as CSV or JSON. */
#ifndef MG_CREDIT_CREDIT_H
#define MG_CREDIT_CREDIT_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "store/store.h"
#include "store/store_cases.h"

#define MG_CREDIT_RULES_VERSION "2022-1.v1"
#define MG_CREDIT_RULE_COUNT 6

/* What the rules look at; filled from the registry (and cases, for misconduct). */
typedef struct mg_credit_facts {
  char registration[MG_CASES_REG_MAX];
  int64_t university_id, student_id, offering_id, course_id;
  double credits;
  int offering_approved;        /* the university approved (selected) the offering */
  int platform_whitelisted;     /* the platform was on the white list at enrolment time */
  char platform_status[24];     /* its status then, for the reason text ("whitelisted", ...) */
  int pledge_signed;            /* integrity pledge (诚信承诺书) signed */
  int exam_finalised;           /* the exam result is final */
  int exam_supervised;          /* with a supervision record (face check / dual camera) */
  int has_grade;
  double grade;
  double pass_mark;             /* e.g. 60 */
  int misconduct;               /* a verified case stands (filled by mg_credit_decide) */
  int64_t misconduct_case;
} mg_credit_facts;

typedef struct mg_credit_rule_result {
  const char *rule;             /* stable code: offering_approved, platform_whitelisted,
                                   pledge_signed, exam_supervised, passing_grade, no_misconduct */
  int ok;
  char detail[192];             /* "中文 / English" */
} mg_credit_rule_result;

typedef struct mg_credit_result {
  int eligible;
  mg_credit_rule_result rules[MG_CREDIT_RULE_COUNT];
} mg_credit_result;

/* Evaluates every rule on f. Pure. */
void mg_credit_evaluate(const mg_credit_facts *f, mg_credit_result *out);

/* Fills f->misconduct from the cases, evaluates, and records the decision (with its tag) in the
 * caller's transaction. *out (may be NULL) gets the result, *id_out (may be NULL) the row id. */
int mg_credit_decide(mg_store *s, mg_credit_facts *f, const char *decided_by, int64_t now_us,
                     mg_credit_result *out, int64_t *id_out);

/* The newest decision for a registration, its tag checked (MG_ECORRUPT on mismatch); *reasons
 * gets a malloc'd JSON array (caller frees). MG_ENOTFOUND. */
int mg_credit_get(mg_store *s, const char *registration, mg_store_credit_decision *out,
                  char **reasons);

/* Appends the newest decision of every enrolment of a university (0 = all) to out, as CSV
 * (RFC 4180, header row, UTF-8; text cells that a spreadsheet would run as a formula are
 * prefixed with ') or as a JSON object {"rules_version":..., "decisions":[...]}. Every tag is
 * checked first: MG_ECORRUPT (and *bad_registration, if given) when one does not match, and
 * nothing is exported then. */
int mg_credit_export(mg_store *s, int64_t university_id, int csv, mg_buf *out,
                     char bad_registration[MG_CASES_REG_MAX]);

/* Canonical bytes of a decision (what its tag covers). */
int mg_credit_canonical(const mg_store_credit_decision *d, mg_buf *out);

#endif
