/* cases/case.h — findings inbox → cases → decisions, sanctions, appeals and the student file
 * (教高〔2022〕1号 cl. 9, 10, 13, 14).
 *
 * Detectors and reporters only put evidence into a university's inbox; a person opens a case,
 * investigates and decides. Only a verified decision (a person's) creates sanctions and file
 * entries (PIPL art. 24: no decision by automated means alone). The student is notified, may see
 * the evidence and respond, and may appeal within the window; a different person decides the
 * appeal. The case's life is one state machine, written as a table in case.c
 * (mg_case_transition) and enforced there only:
 *
 *   open --investigate--> investigating --dismiss--> dismissed
 *                                       --verify---> verified --appeal--> appealed
 *   appealed --uphold--> appeal_upheld (sanctions revoked)   appealed --reject--> appeal_rejected
 *
 * Every function here works inside the caller's store transaction (mg_store_tx_begin), writes a
 * timeline row per step and never commits: the caller audits and commits, or rolls back on any
 * error so that a refused step changes nothing. On error, *err (may be NULL) gets a stable code
 * and an English message naming what was wrong. */
#ifndef MG_CASES_CASE_H
#define MG_CASES_CASE_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "store/store.h"
#include "store/store_cases.h"

typedef enum mg_case_state {
  MG_CASE_OPEN = 0,
  MG_CASE_INVESTIGATING,
  MG_CASE_DISMISSED,
  MG_CASE_VERIFIED,
  MG_CASE_APPEALED,
  MG_CASE_APPEAL_UPHELD,
  MG_CASE_APPEAL_REJECTED,
  MG_CASE_STATE_COUNT_
} mg_case_state;

typedef enum mg_case_action {
  MG_CASE_INVESTIGATE = 0,
  MG_CASE_DISMISS,
  MG_CASE_VERIFY,
  MG_CASE_APPEAL,
  MG_CASE_UPHOLD,
  MG_CASE_REJECT,
  MG_CASE_ACTION_COUNT_
} mg_case_action;

/* State and action names as stored and shown in the API ("open", "investigate", ...). */
const char *mg_case_state_name(mg_case_state s);
int mg_case_state_parse(const char *name, mg_case_state *out); /* MG_OK or MG_EINVAL */
const char *mg_case_action_name(mg_case_action a);

/* The one transition table: the state that `a` leads to from `from`, or MG_ECONFLICT when the
 * table has no such transition. */
int mg_case_transition(mg_case_state from, mg_case_action a, mg_case_state *to);

/* Sanction kinds (cl. 10): cancelling the course grade, then the five disciplinary levels. */
typedef enum mg_sanction_kind {
  MG_SANCTION_CANCEL_GRADE = 0, /* 取消课程成绩 */
  MG_SANCTION_WARNING,          /* 警告 */
  MG_SANCTION_SERIOUS_WARNING,  /* 严重警告 */
  MG_SANCTION_DEMERIT,          /* 记过 */
  MG_SANCTION_PROBATION,        /* 留校察看 */
  MG_SANCTION_EXPULSION,        /* 开除学籍 */
  MG_SANCTION_COUNT_
} mg_sanction_kind;
const char *mg_sanction_name(mg_sanction_kind k);    /* "cancel_grade", "warning", ... */
const char *mg_sanction_name_zh(mg_sanction_kind k); /* "取消课程成绩", "警告", ... */
int mg_sanction_parse(const char *name, mg_sanction_kind *out);

/* What went wrong: code is stable ("invalid_transition", "same_person", "appeal_window_closed",
 * "no_case_decision", "not_found", "invalid", "forbidden", "conflict", "integrity"), message is
 * for people. */
typedef struct mg_case_err {
  char code[32];
  char message[256];
} mg_case_err;

/* The person acting. name and role are borrowed for the call. */
typedef struct mg_case_actor {
  int64_t user_id;
  const char *name;
  int64_t student_id; /* the student record of a student actor, 0 otherwise */
} mg_case_actor;

/* Puts a report or detector finding into its university's inbox. it->source, type, summary,
 * evidence (a JSON object's text), university and student are required; received_us 0 = now.
 * MG_EEXISTS for a finding already in. */
int mg_cases_inbox_add(mg_store *s, const mg_store_inbox_item *it, int64_t *id_out,
                       mg_case_err *err);

/* Opens a case over inbox items (all of one university and one student, none in a case yet).
 * The case takes their university, student, registration, platform, course and type (the first
 * item's). service_note non-empty marks a paid brushing service involved (referral possible). */
int mg_cases_open(mg_store *s, const mg_case_actor *who, const int64_t *items, size_t n,
                  const char *service_note, int64_t now_us, int64_t *case_id, mg_case_err *err);

/* open → investigating; the actor becomes the investigator. */
int mg_cases_investigate(mg_store *s, const mg_case_actor *who, int64_t case_id, const char *note,
                         int64_t now_us, mg_case_err *err);

/* investigating → dismissed, or → verified with sanctions. reason is required. A verified case
 * always cancels the course grade (cl. 10) and may add at most one disciplinary level (kinds may
 * list cancel_grade and one of the five levels). Records the sanctions in the student's file,
 * notifies the student and the university, and sets the appeal deadline now + appeal_window_us. */
int mg_cases_decide(mg_store *s, const mg_case_actor *who, int64_t case_id, int verified,
                    const char *reason, const mg_sanction_kind *kinds, size_t n_kinds,
                    int64_t appeal_window_us, int64_t now_us, mg_case_err *err);

/* Adds a sanction to a verified case (not yet appealed): refused with "no_case_decision" in any
 * other state, since no sanction exists without a person's verified decision. */
int mg_cases_add_sanction(mg_store *s, const mg_case_actor *who, int64_t case_id,
                          mg_sanction_kind kind, const char *reason, int64_t now_us,
                          mg_case_err *err);

/* The student's response to the evidence, while the case is open, investigating or verified.
 * Only the case's own student. */
int mg_cases_respond(mg_store *s, const mg_case_actor *who, int64_t case_id, const char *text,
                     int64_t now_us, mg_case_err *err);

/* verified → appealed, by the case's student, no later than the appeal deadline. */
int mg_cases_appeal(mg_store *s, const mg_case_actor *who, int64_t case_id, const char *grounds,
                    int64_t now_us, mg_case_err *err);

/* appealed → appeal_upheld (sanctions and file entries revoked) or appeal_rejected, by a person
 * other than the one who decided the case. reason is required. */
int mg_cases_decide_appeal(mg_store *s, const mg_case_actor *who, int64_t case_id, int upheld,
                           const char *reason, int64_t now_us, mg_case_err *err);

/* Reads a case and checks its decision's integrity tag: MG_ECORRUPT (code "integrity") when the
 * stored decision does not match its tag. */
int mg_cases_get(mg_store *s, int64_t case_id, mg_store_case *out, mg_case_err *err);

/* True when the enrolment (registration) has a verified case whose verdict stands (verified,
 * appealed or appeal_rejected): misconduct that blocks credit. *case_id gets the case. */
int mg_cases_misconduct(mg_store *s, const char *registration, int *found, int64_t *case_id);

/* The canonical bytes of a case's decision (what the integrity tag covers), into out. */
int mg_cases_canonical(const mg_store_case *c, const mg_store_appeal *appeal, mg_buf *out);

#endif
