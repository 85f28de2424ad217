/* store/store_cases.h — storage of the misconduct workflow, credit decisions, notices, reports and
 * referrals (schema: migrations/sqlite/006_cases.sql).
 *
 * Thin, rule-free persistence: the state machine, who may do what and integrity tags live in
 * cases/, credit/ and notices/, which call these functions inside mg_store_tx_begin/commit so a
 * step, its timeline row and its audit record commit together. Structs use fixed arrays for short
 * text (longer input is refused with MG_EINVAL, never truncated) and borrowed pointers for JSON
 * blobs: on input they are borrowed for the call; in list callbacks they are valid only during the
 * call; get functions that return a blob hand over a malloc'd copy the caller frees. */
#ifndef MG_STORE_STORE_CASES_H
#define MG_STORE_STORE_CASES_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define MG_CASES_NAME_MAX 64      /* user names */
#define MG_CASES_REG_MAX 37       /* registration UUID text + NUL */
#define MG_CASES_TEXT_MAX 4096    /* reasons, grounds, summaries */

/* ---- inbox ------------------------------------------------------------------------------- */

typedef struct mg_store_inbox_item {
  int64_t id;
  int64_t university_id, platform_id, course_id, student_id;
  char registration[MG_CASES_REG_MAX];
  char source[16];            /* detector | platform | teacher */
  int64_t finding_id;         /* detector findings: the finding's id; 0 otherwise */
  char type[24];              /* course_brushing | proxy_study | exam_brushing | proxy_exam | answer_leak */
  char summary[MG_CASES_TEXT_MAX];
  char reported_by[MG_CASES_NAME_MAX];
  int64_t received_us;
  int64_t case_id;            /* 0 while no case covers it */
  const char *evidence;       /* JSON text (see header comment for lifetime) */
} mg_store_inbox_item;

/* Adds an item; *id_out (may be NULL) gets its id. MG_EEXISTS when finding_id is already in. */
int mg_store_inbox_add(mg_store *s, const mg_store_inbox_item *it, int64_t *id_out);
/* Items of a university (0 = all), oldest first; only those without a case when open_only. */
int mg_store_inbox_list(mg_store *s, int64_t university_id, int open_only,
                        int (*cb)(void *ud, const mg_store_inbox_item *it), void *ud);
/* Items a case covers. */
int mg_store_inbox_of_case(mg_store *s, int64_t case_id,
                           int (*cb)(void *ud, const mg_store_inbox_item *it), void *ud);
/* One item; *evidence (may be NULL) gets a malloc'd copy of its evidence. MG_ENOTFOUND. */
int mg_store_inbox_get(mg_store *s, int64_t id, mg_store_inbox_item *out, char **evidence);
/* The item a detector finding became; *evidence as in mg_store_inbox_get. MG_ENOTFOUND. */
int mg_store_inbox_by_finding(mg_store *s, int64_t finding_id, mg_store_inbox_item *out,
                              char **evidence);
/* Replaces the summary and evidence of item id (a re-scored finding). MG_ENOTFOUND. */
int mg_store_inbox_update(mg_store *s, int64_t id, const char *summary, const char *evidence);
/* Attaches an item to a case. MG_ECONFLICT if it already belongs to one. */
int mg_store_inbox_attach(mg_store *s, int64_t item_id, int64_t case_id);

/* ---- cases ------------------------------------------------------------------------------- */

typedef struct mg_store_case {
  int64_t id;
  int64_t university_id, platform_id, course_id, student_id;
  char registration[MG_CASES_REG_MAX];
  char type[24];
  char state[20];
  int service_involved;
  char service_note[512];
  int64_t opened_by_user;
  char opened_by[MG_CASES_NAME_MAX];
  int64_t opened_us;
  int64_t investigator_user;
  char investigator[MG_CASES_NAME_MAX];
  int64_t decided_by_user;
  char decided_by[MG_CASES_NAME_MAX];
  int64_t decided_us;
  char decision_reason[MG_CASES_TEXT_MAX];
  int64_t appeal_deadline_us;
  int64_t updated_us;
  int64_t version;
  char mac[96];
} mg_store_case;

/* Inserts a case (id and version are assigned: version 1); *id_out gets its id. */
int mg_store_case_insert(mg_store *s, const mg_store_case *c, int64_t *id_out);
/* Reads a case. MG_ENOTFOUND. */
int mg_store_case_get(mg_store *s, int64_t id, mg_store_case *out);
/* Writes every mutable field of c (state onward) if the stored version is still c->version,
 * and bumps it (c->version is updated). MG_ECONFLICT when someone changed it meanwhile. */
int mg_store_case_update(mg_store *s, mg_store_case *c);

typedef struct mg_store_case_filter {
  int64_t university_id;  /* 0 = any */
  int64_t student_id;     /* 0 = any */
  const char *state;      /* NULL = any */
  const char *registration; /* NULL = any */
} mg_store_case_filter;
/* Cases matching f, oldest first. */
int mg_store_case_list(mg_store *s, const mg_store_case_filter *f,
                       int (*cb)(void *ud, const mg_store_case *c), void *ud);

typedef struct mg_store_case_event {
  int64_t id, case_id, at_us, actor_user;
  char actor[MG_CASES_NAME_MAX];
  char action[32];
  char from_state[20], to_state[20];
  char note[MG_CASES_TEXT_MAX];
} mg_store_case_event;
int mg_store_case_event_add(mg_store *s, const mg_store_case_event *e);
int mg_store_case_events(mg_store *s, int64_t case_id,
                         int (*cb)(void *ud, const mg_store_case_event *e), void *ud);

typedef struct mg_store_case_response {
  int64_t id, case_id, author_user, at_us;
  char author[MG_CASES_NAME_MAX];
  char text[MG_CASES_TEXT_MAX];
} mg_store_case_response;
int mg_store_case_response_add(mg_store *s, const mg_store_case_response *r, int64_t *id_out);
int mg_store_case_responses(mg_store *s, int64_t case_id,
                            int (*cb)(void *ud, const mg_store_case_response *r), void *ud);

/* ---- sanctions and the student file -------------------------------------------------------- */

typedef struct mg_store_sanction {
  int64_t id, case_id, student_id;
  char kind[24];
  char reason[MG_CASES_TEXT_MAX];
  int64_t decided_by_user;
  char decided_by[MG_CASES_NAME_MAX];
  int64_t decided_us;
  int64_t revoked_us;
} mg_store_sanction;
/* MG_EEXISTS when the case already has a sanction of that kind. */
int mg_store_sanction_add(mg_store *s, const mg_store_sanction *x, int64_t *id_out);
/* Sanctions of a case (case_id > 0) or of a student (case_id == 0, student_id > 0). */
int mg_store_sanction_list(mg_store *s, int64_t case_id, int64_t student_id,
                           int (*cb)(void *ud, const mg_store_sanction *x), void *ud);
/* Marks every unrevoked sanction of the case and its file entries revoked at at_us. */
int mg_store_sanction_revoke_case(mg_store *s, int64_t case_id, int64_t at_us, const char *note);

typedef struct mg_store_file_entry {
  int64_t id, student_id, university_id, case_id, sanction_id;
  char kind[24];
  char text[MG_CASES_TEXT_MAX];
  int64_t recorded_us, revoked_us;
  char revoked_note[512];
} mg_store_file_entry;
int mg_store_file_add(mg_store *s, const mg_store_file_entry *e, int64_t *id_out);
int mg_store_file_list(mg_store *s, int64_t student_id,
                       int (*cb)(void *ud, const mg_store_file_entry *e), void *ud);

/* ---- appeals ----------------------------------------------------------------------------- */

typedef struct mg_store_appeal {
  int64_t id, case_id, filed_by_user, filed_us;
  char filed_by[MG_CASES_NAME_MAX];
  char grounds[MG_CASES_TEXT_MAX];
  char outcome[16];           /* "" while pending, upheld | rejected */
  int64_t decided_by_user, decided_us;
  char decided_by[MG_CASES_NAME_MAX];
  char reason[MG_CASES_TEXT_MAX];
} mg_store_appeal;
/* MG_EEXISTS when the case already has an appeal. */
int mg_store_appeal_add(mg_store *s, const mg_store_appeal *a, int64_t *id_out);
/* The case's appeal. MG_ENOTFOUND. */
int mg_store_appeal_get(mg_store *s, int64_t case_id, mg_store_appeal *out);
/* Records the decision of a pending appeal. MG_ECONFLICT if already decided. */
int mg_store_appeal_decide(mg_store *s, const mg_store_appeal *a);

/* ---- credit decisions -------------------------------------------------------------------- */

typedef struct mg_store_credit_decision {
  int64_t id;
  char registration[MG_CASES_REG_MAX];
  int64_t university_id, student_id, offering_id, course_id;
  int eligible;
  double credits;
  int has_grade;
  double grade;
  const char *reasons;        /* JSON array */
  char rules_version[32];
  char decided_by[MG_CASES_NAME_MAX];
  int64_t decided_us;
  char mac[96];
} mg_store_credit_decision;
int mg_store_credit_put(mg_store *s, const mg_store_credit_decision *d, int64_t *id_out);
/* The newest decision of each registration of a university (0 = all), by registration. */
int mg_store_credit_list(mg_store *s, int64_t university_id,
                         int (*cb)(void *ud, const mg_store_credit_decision *d), void *ud);
/* The newest decision for a registration; *reasons gets a malloc'd copy. MG_ENOTFOUND. */
int mg_store_credit_latest(mg_store *s, const char *registration, mg_store_credit_decision *out,
                           char **reasons);

/* ---- notices, reports, referrals ---------------------------------------------------------- */

typedef struct mg_store_notice {
  int64_t id;
  char recipient_kind[16];    /* university | student */
  int64_t recipient_id;
  char kind[32];
  int64_t case_id;
  char title[512];
  const char *body;           /* JSON */
  int64_t created_us, read_us;
} mg_store_notice;
int mg_store_notice_add(mg_store *s, const mg_store_notice *n, int64_t *id_out);
int mg_store_notice_list(mg_store *s, const char *recipient_kind, int64_t recipient_id,
                         int (*cb)(void *ud, const mg_store_notice *n), void *ud);

/* Counts for the regulator report over [from_us, to_us): per (university, platform), the inbox
 * items received (flagged) and the distinct students with a case verified in the window whose
 * verdict stands (not appeal_upheld). */
typedef struct mg_store_case_count {
  int64_t university_id, platform_id;
  int64_t flagged_items, flagged_students, verified_students;
} mg_store_case_count;
int mg_store_case_counts(mg_store *s, int64_t from_us, int64_t to_us,
                         int (*cb)(void *ud, const mg_store_case_count *c), void *ud);

typedef struct mg_store_report {
  int64_t id, period_from_us, period_to_us, issued_us;
  char province[16];
  char issued_by[MG_CASES_NAME_MAX];
  const char *body;           /* JSON */
} mg_store_report;
int mg_store_report_add(mg_store *s, const mg_store_report *r, int64_t *id_out);
/* *body gets a malloc'd copy. MG_ENOTFOUND. */
int mg_store_report_get(mg_store *s, int64_t id, mg_store_report *out, char **body);

typedef struct mg_store_referral {
  int64_t id, case_id, created_us;
  char department[16];        /* cac | telecom | police | samr */
  char created_by[MG_CASES_NAME_MAX];
  const char *package;        /* JSON */
  char digest[72];
} mg_store_referral;
int mg_store_referral_add(mg_store *s, const mg_store_referral *r, int64_t *id_out);
int mg_store_referral_list(mg_store *s, int64_t case_id,
                           int (*cb)(void *ud, const mg_store_referral *r), void *ud);

#endif
