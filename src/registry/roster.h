/* registry/roster.h — enrolment rosters imported from the university's academic-affairs system.
 *
 * Clause 8: students take online courses through the university's 教务系统, so the enrolment list
 * of an offering comes from there as CSV. The import is a complete roster: new students are
 * enrolled, known ones kept (their registration UUID never changes), students missing from it
 * are dropped (never deleted). Each row is checked on its own: a bad row is reported with its
 * line and reason and rejects nothing else. Importing the same file again changes nothing; a
 * preview reports what an import would do and changes nothing.
 *
 * CSV: UTF-8 (a BOM is allowed), RFC 4180 quoting, a header row naming the columns in any order:
 * student_no (学号) and name (姓名) required; registration (选课号) optional — a UUID the academic
 * system or platform already uses; otherwise one is generated for each new enrolment. national_id
 * (身份证号, GB 11643 check digit verified) and phone (手机号) are optional; when given they are
 * stored only field-encrypted (crypto.h mg_crypto_seal), and not at all when no keys are loaded
 * (the outcome says which). Other columns are ignored and named in the outcome. */
#ifndef MG_REGISTRY_ROSTER_H
#define MG_REGISTRY_ROSTER_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "registry/registry.h"
#include "store/store_registry.h"

#define MG_REGISTRY_ROSTER_MAX_ROWS 500000
#define MG_REGISTRY_ROSTER_MAX_PROBLEMS 1000 /* listed; all are counted */

typedef struct mg_registry_roster_outcome {
  int preview;
  int64_t import_id;        /* the import recorded (0 for a preview) */
  int64_t duplicate_of;     /* the same file was the last import: nothing was done */
  int64_t rows_total, rows_ok, rows_bad;
  mg_reg_roster_result diff; /* added, reactivated, removed, renamed, unchanged */
  char digest[65];
  mg_buf problems;          /* JSON array of {"line","code","message"} (first MAX_PROBLEMS) */
  char ignored[256];        /* comma-separated header names ignored */
  char not_stored[64];      /* "national_id,phone": present but not stored (no keys loaded) */
  char sealed[64];          /* "national_id,phone": present and stored field-encrypted */
} mg_registry_roster_outcome;

/* Imports (or previews) csv as the roster of offering_id. Returns MG_OK with *out filled even
 * when rows were bad; MG_EINVAL with why when the file as a whole is unusable (no header,
 * required column missing, too many rows, invalid UTF-8 in the header), MG_ENOTFOUND for an
 * unknown offering. out->problems must be freed with mg_registry_roster_outcome_free. */
int mg_registry_roster_import(mg_store *s, int64_t offering_id, const char *csv, size_t len,
                              int preview, const char *by, int64_t now_us,
                              mg_registry_roster_outcome *out, mg_registry_why *why);
void mg_registry_roster_outcome_free(mg_registry_roster_outcome *out);

#endif
