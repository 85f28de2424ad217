/* store/store_registry.h — storage of the governance registry (issue #3).
 *
 * Organisations (regulators, universities, platforms), platform filing, list status and intake
 * switches, course recommendations, courses and their reviews, offerings, students, enrolments and
 * roster imports, pledges, exams, supervision records and results. Only rows and bound
 * parameters live here; the rules (who may do what, which selection is allowed) are in
 * src/registry/. Every function runs on the governance connection and joins the calling thread's
 * transaction when one is open (mg_store_tx_begin), else commits by itself.
 *
 * Structures are plain values copied out of the store; text fields are NUL-terminated and were
 * validated to fit by the registry layer (the store truncates rather than overflow). Errors:
 * MG_ENOTFOUND (no such row), MG_EEXISTS (a unique key is taken), MG_ENOTSUP (backend without a
 * registry), MG_ESTORE. List callbacks return MG_OK to go on; anything else stops the walk and is
 * returned. A lookup clears its output first, so the output must not hold its own key. */
#ifndef MG_STORE_STORE_REGISTRY_H
#define MG_STORE_STORE_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* ---- organisations ---------------------------------------------------------------------- */

typedef struct mg_reg_org {
  int64_t id;
  char kind[16];        /* "ministry", "province", "university", "platform" */
  char code[64];        /* unique per kind (university code 学校标识码, platform code, ...) */
  char name[256];
  char province[16];    /* province code; "" for the ministry and national platforms */
  char home_page[512];  /* universities: identity homePage of xAPI actors; "" otherwise */
  int64_t created_us;
} mg_reg_org;

int mg_store_reg_org_create(mg_store *s, const mg_reg_org *o, int64_t *out_id);
int mg_store_reg_org_get(mg_store *s, int64_t id, mg_reg_org *out);
int mg_store_reg_org_by_home_page(mg_store *s, const char *home_page, mg_reg_org *out);
/* Updates name, province and home_page of org o->id. */
int mg_store_reg_org_update(mg_store *s, const mg_reg_org *o);
/* Organisations of a kind (NULL: all), in one province (NULL: any), by id. */
int mg_store_reg_org_list(mg_store *s, const char *kind, const char *province,
                          int (*cb)(void *ud, const mg_reg_org *o), void *ud);

/* ---- platforms -------------------------------------------------------------------------- */

typedef struct mg_reg_platform {
  mg_reg_org org;        /* kind "platform" */
  int mlps_level;        /* 等保 level filed (0: not filed) */
  char filing_no[64];
  char review_due[11];   /* annual review date, YYYY-MM-DD ("" until filed) */
  int64_t filed_us;
  char status[16];       /* "pending", "whitelist", "blacklist" */
  char status_reason[512];
  char status_by[64];
  int64_t status_us;
} mg_reg_platform;

/* Creates the org row and the platform row (status pending, unfiled). */
int mg_store_reg_platform_create(mg_store *s, const mg_reg_org *o, int64_t *out_id);
int mg_store_reg_platform_get(mg_store *s, int64_t id, mg_reg_platform *out);
/* status: NULL for all. */
int mg_store_reg_platform_list(mg_store *s, const char *status,
                               int (*cb)(void *ud, const mg_reg_platform *p), void *ud);
int mg_store_reg_platform_set_filing(mg_store *s, int64_t id, int mlps_level, const char *filing_no,
                                     const char *review_due, int64_t now_us);
/* Sets the current status and appends it to the history. */
int mg_store_reg_platform_set_status(mg_store *s, int64_t id, const char *status,
                                     const char *reason, const char *by, int64_t now_us);

typedef struct mg_reg_status_entry {
  int64_t id;
  char status[16];
  char reason[512];
  char decided_by[64];
  int64_t decided_us;
} mg_reg_status_entry;
/* The platform's status decisions, oldest first. */
int mg_store_reg_platform_history(mg_store *s, int64_t id,
                                  int (*cb)(void *ud, const mg_reg_status_entry *e), void *ud);

/* ---- intake switches -------------------------------------------------------------------- */

typedef struct mg_reg_switch {
  int64_t id;
  int64_t platform_id;
  char scope[16];        /* "national", "province", "university" */
  char province[16];     /* scope province */
  int64_t university_id; /* scope university */
  char reason[512];
  char stopped_by[64];
  int64_t stopped_us;
  char lifted_by[64];
  int64_t lifted_us;     /* 0 while in force */
} mg_reg_switch;

int mg_store_reg_switch_add(mg_store *s, const mg_reg_switch *w, int64_t *out_id);
int mg_store_reg_switch_get(mg_store *s, int64_t id, mg_reg_switch *out);
/* Lifts switch id; MG_ENOTFOUND if absent or already lifted. */
int mg_store_reg_switch_lift(mg_store *s, int64_t id, const char *by, int64_t now_us);
/* The platform's switches (platform_id 0: every platform's), newest first; active_only skips
 * lifted ones. */
int mg_store_reg_switch_list(mg_store *s, int64_t platform_id, int active_only,
                             int (*cb)(void *ud, const mg_reg_switch *w), void *ud);

/* ---- recommendations and courses -------------------------------------------------------- */

typedef struct mg_reg_recommendation {
  int64_t id;
  int64_t university_id;
  int64_t platform_id;
  char title[256];
  char lead_teacher[128];
  char letter_no[64];
  char recommended_by[64];
  int64_t recommended_us;
  int64_t course_id;     /* 0 until a course used it */
} mg_reg_recommendation;

int mg_store_reg_rec_create(mg_store *s, const mg_reg_recommendation *r, int64_t *out_id);
int mg_store_reg_rec_get(mg_store *s, int64_t id, mg_reg_recommendation *out);
/* university_id / platform_id 0: any. */
int mg_store_reg_rec_list(mg_store *s, int64_t university_id, int64_t platform_id,
                          int (*cb)(void *ud, const mg_reg_recommendation *r), void *ud);

typedef struct mg_reg_course {
  int64_t id;
  int64_t platform_id;
  int64_t university_id;    /* the recommending university */
  int64_t recommendation_id;
  char code[64];
  char title[256];
  char iri[512];
  char lead_teacher[128];
  char content_updated[11]; /* YYYY-MM-DD */
  char status[16];          /* "reviewing", "approved", "rejected", "online", "offline" */
  char submitted_by[64];
  int64_t submitted_us;
} mg_reg_course;

/* Creates the course and marks its recommendation used (MG_ECONFLICT if it already was). */
int mg_store_reg_course_create(mg_store *s, const mg_reg_course *c, int64_t *out_id);
int mg_store_reg_course_get(mg_store *s, int64_t id, mg_reg_course *out);
int mg_store_reg_course_by_iri(mg_store *s, const char *iri, mg_reg_course *out);
/* Filters (0 / NULL: any). */
int mg_store_reg_course_list(mg_store *s, int64_t platform_id, int64_t university_id,
                             const char *status, int (*cb)(void *ud, const mg_reg_course *c),
                             void *ud);
int mg_store_reg_course_set_status(mg_store *s, int64_t id, const char *status);
int mg_store_reg_course_set_updated(mg_store *s, int64_t id, const char *content_updated);

typedef struct mg_reg_review {
  int64_t id;
  int64_t course_id;
  char kind[16];         /* "content", "ideology", "quality" */
  char verdict[8];       /* "pass", "fail" */
  char reviewer[64];
  char opinion[1024];
  int64_t reviewed_us;
} mg_reg_review;

int mg_store_reg_review_add(mg_store *s, const mg_reg_review *r, int64_t *out_id);
/* Every review step of the course, oldest first. */
int mg_store_reg_review_list(mg_store *s, int64_t course_id,
                             int (*cb)(void *ud, const mg_reg_review *r), void *ud);

/* ---- offerings -------------------------------------------------------------------------- */

typedef struct mg_reg_offering {
  int64_t id;
  int64_t university_id;
  int64_t course_id;
  char term[32];
  int credits_tenths;    /* credits × 10 */
  char resp_teacher[128];
  char iri[512];          /* the course run; unique per university, shared between them */
  char created_by[64];
  int64_t created_us;
} mg_reg_offering;

int mg_store_reg_offering_create(mg_store *s, const mg_reg_offering *o, int64_t *out_id);
int mg_store_reg_offering_get(mg_store *s, int64_t id, mg_reg_offering *out);
/* The offering with that IRI; MG_ECONFLICT when several universities share it (a course run
 * selected by more than one: use mg_store_reg_offering_at). */
int mg_store_reg_offering_by_iri(mg_store *s, const char *iri, mg_reg_offering *out);
/* The university's offering with that IRI. */
int mg_store_reg_offering_at(mg_store *s, int64_t university_id, const char *iri,
                             mg_reg_offering *out);
/* Filters (0: any): the university's offerings, a course's offerings, or those on a platform. */
int mg_store_reg_offering_list(mg_store *s, int64_t university_id, int64_t course_id,
                               int64_t platform_id,
                               int (*cb)(void *ud, const mg_reg_offering *o), void *ud);

/* ---- students, enrolments, roster imports ----------------------------------------------- */

typedef struct mg_reg_student {
  int64_t id;
  int64_t university_id;
  char student_no[33];
  char name[128];
} mg_reg_student;

/* The student's sealed personal fields (crypto.h tokens; "" when the roster never gave them). */
typedef struct mg_reg_student_pii {
  char national_id_enc[256];
  char phone_enc[256];
} mg_reg_student_pii;
int mg_store_reg_student_pii(mg_store *s, int64_t student_id, mg_reg_student_pii *out);

int mg_store_reg_student_get(mg_store *s, int64_t id, mg_reg_student *out);
int mg_store_reg_student_find(mg_store *s, int64_t university_id, const char *student_no,
                              mg_reg_student *out);
/* Creates a student (MG_EEXISTS when the number is taken at that university). */
int mg_store_reg_student_create(mg_store *s, const mg_reg_student *st, int64_t *out_id);

typedef struct mg_reg_enrolment {
  int64_t id;
  int64_t offering_id;
  int64_t student_id;
  uint8_t registration[16];
  int active;
  int64_t import_id;
  int64_t created_us;
  mg_reg_student student; /* joined */
  int pledge_signed;      /* number of pledge signatures (joined) */
} mg_reg_enrolment;

int mg_store_reg_enrolment_get(mg_store *s, int64_t id, mg_reg_enrolment *out);
int mg_store_reg_enrolment_by_registration(mg_store *s, const uint8_t reg[16],
                                           mg_reg_enrolment *out);
/* Creates one enrolment (outside an import, e.g. seeding). */
int mg_store_reg_enrolment_create(mg_store *s, const mg_reg_enrolment *e, int64_t *out_id);
/* The offering's enrolments by student number (active_only: skip dropped), at most limit after
 * the first offset (limit 0: all). *total (may be NULL) gets the count matching. */
int mg_store_reg_enrolment_list(mg_store *s, int64_t offering_id, int active_only, size_t offset,
                                size_t limit, int (*cb)(void *ud, const mg_reg_enrolment *e),
                                void *ud, int64_t *total);
/* A student's enrolments (all offerings). */
int mg_store_reg_enrolment_of_student(mg_store *s, int64_t student_id,
                                      int (*cb)(void *ud, const mg_reg_enrolment *e), void *ud);

/* One valid roster row. registration: the caller's (has_registration) or one to assign. */
typedef struct mg_reg_roster_row {
  size_t line;             /* CSV line, for the report */
  const char *student_no;
  const char *name;
  int has_registration;
  uint8_t registration[16]; /* when !has_registration: a fresh random UUID, used if new */
  const char *national_id_enc; /* sealed tokens to store, or NULL: keep what is stored */
  const char *phone_enc;
} mg_reg_roster_row;

/* What applying a roster did (or would do). */
typedef struct mg_reg_roster_result {
  int64_t import_id;       /* 0 for a preview */
  int64_t added, reactivated, removed, renamed, unchanged;
} mg_reg_roster_result;

/* A per-row refusal found while applying (registration clashes). Called with the row. */
typedef int (*mg_reg_roster_bad_cb)(void *ud, const mg_reg_roster_row *row, const char *code,
                                    const char *message);

/* Who imports and what, recorded with the import. */
typedef struct mg_reg_roster_meta {
  const char *digest;      /* SHA-256 hex of the CSV */
  int64_t rows_total;      /* data rows in the file, good and bad */
  const char *imported_by;
  int64_t now_us;
} mg_reg_roster_meta;

/* Applies the complete roster of offering (at university) given as rows: new students and
 * enrolments are created, known ones re-activated or renamed, enrolments absent from the rows are
 * deactivated (dropped; never deleted, so a registration is never reused). Rows that clash (a
 * registration given that belongs to another enrolment, or differs from the one assigned) are
 * reported through bad and skipped. preview: compute the same result and change nothing.
 * Otherwise the import is recorded with meta and zero bad rows and report "[]" (set them with
 * mg_store_reg_import_set_report in the same transaction). */
int mg_store_reg_roster_apply(mg_store *s, int64_t offering_id, int64_t university_id,
                              const mg_reg_roster_row *rows, size_t n, int preview,
                              const mg_reg_roster_meta *meta, mg_reg_roster_bad_cb bad,
                              void *bad_ud, mg_reg_roster_result *out);
/* Records the row problems of import id: their number and a JSON array describing them. */
int mg_store_reg_import_set_report(mg_store *s, int64_t id, int64_t rows_bad, const char *report);

typedef struct mg_reg_roster_import {
  int64_t id;
  int64_t offering_id;
  char digest[65];
  int64_t rows_total, rows_bad, added, reactivated, removed, renamed, unchanged;
  char *report;            /* malloc'd JSON text; free with mg_store_reg_import_clear */
  char imported_by[64];
  int64_t imported_us;
} mg_reg_roster_import;
/* The latest import of the offering (MG_ENOTFOUND if none) / import id. */
int mg_store_reg_import_last(mg_store *s, int64_t offering_id, mg_reg_roster_import *out);
int mg_store_reg_import_get(mg_store *s, int64_t id, mg_reg_roster_import *out);
void mg_store_reg_import_clear(mg_reg_roster_import *imp);

/* ---- pledges ---------------------------------------------------------------------------- */

typedef struct mg_reg_pledge_text {
  char version[32];
  char *body;              /* malloc'd; free with mg_store_reg_pledge_text_clear */
  char digest[65];         /* SHA-256 of body, hex */
  char published_by[64];
  int64_t published_us;
} mg_reg_pledge_text;

int mg_store_reg_pledge_text_create(mg_store *s, const char *version, const char *body,
                                    const char *digest, const char *by, int64_t now_us);
int mg_store_reg_pledge_text_get(mg_store *s, const char *version, mg_reg_pledge_text *out);
/* The most recently published text. */
int mg_store_reg_pledge_text_latest(mg_store *s, mg_reg_pledge_text *out);
void mg_store_reg_pledge_text_clear(mg_reg_pledge_text *t);

typedef struct mg_reg_pledge {
  int64_t id;
  int64_t enrolment_id;
  char version[32];
  char signed_by[64];
  char signed_ip[64];
  int64_t signed_us;
} mg_reg_pledge;

/* MG_EEXISTS when that enrolment already signed that version. */
int mg_store_reg_pledge_sign(mg_store *s, const mg_reg_pledge *p, int64_t *out_id);
int mg_store_reg_pledge_list(mg_store *s, int64_t enrolment_id,
                             int (*cb)(void *ud, const mg_reg_pledge *p), void *ud);

/* ---- exams ------------------------------------------------------------------------------ */

typedef struct mg_reg_exam {
  int64_t id;
  int64_t offering_id;
  char title[256];
  int64_t starts_us;
  int face_start, face_during, dual_camera;
  char invigilator[128];
  char created_by[64];
  int64_t created_us;
} mg_reg_exam;

int mg_store_reg_exam_create(mg_store *s, const mg_reg_exam *e, int64_t *out_id);
int mg_store_reg_exam_get(mg_store *s, int64_t id, mg_reg_exam *out);
int mg_store_reg_exam_list(mg_store *s, int64_t offering_id,
                           int (*cb)(void *ud, const mg_reg_exam *e), void *ud);

typedef struct mg_reg_supervision {
  int64_t exam_id;
  int64_t enrolment_id;
  char face_start[8];    /* "pass", "fail", "" (not recorded) */
  char face_during[8];
  char dual_camera[8];
  char invigilator[128];
  char notes[1024];
  char recorded_by[64];
  int64_t recorded_us;
} mg_reg_supervision;

/* Inserts or replaces the record of (exam, enrolment). */
int mg_store_reg_supervision_put(mg_store *s, const mg_reg_supervision *r);
int mg_store_reg_supervision_get(mg_store *s, int64_t exam_id, int64_t enrolment_id,
                                 mg_reg_supervision *out);

typedef struct mg_reg_result {
  int64_t exam_id;
  int64_t enrolment_id;
  int score_tenths;
  char submitted_by[64];
  int64_t submitted_us;
  int final;
  char finalised_by[64];
  int64_t finalised_us;
  uint8_t registration[16]; /* joined, for lists */
} mg_reg_result;

/* Inserts or replaces a provisional result; MG_ECONFLICT when that result is already final. */
int mg_store_reg_result_put(mg_store *s, const mg_reg_result *r);
int mg_store_reg_result_get(mg_store *s, int64_t exam_id, int64_t enrolment_id,
                            mg_reg_result *out);
int mg_store_reg_result_finalise(mg_store *s, int64_t exam_id, int64_t enrolment_id,
                                 const char *by, int64_t now_us);
int mg_store_reg_result_list(mg_store *s, int64_t exam_id,
                             int (*cb)(void *ud, const mg_reg_result *r), void *ud);

#endif
