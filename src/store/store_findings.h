/* store/store_findings.h — the findings area: what the detectors found, for review.
 *
 * One row per (registration, type): a replay that finds the same enrolment again updates the
 * row (score, rules, evidence) instead of adding a second one, and keeps its status. Lists are
 * ordered by id and paged with an id cursor. SQLite implementation in sqlite_findings.c, on the
 * governance connection (store_int.h). */
#ifndef MG_STORE_STORE_FINDINGS_H
#define MG_STORE_STORE_FINDINGS_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

typedef struct mg_store_finding {
  int64_t id;
  char type[24];
  char registration[64], student[128], university[256], course[256], platform[64];
  double score, threshold;
  char rules[256];
  char thresholds[768];
  char comparison[256];
  char evidence[8 * 40 + 4];     /* JSON array of statement ids */
  char explain_zh[1536], explain_en[1536];
  int64_t decisive_ts_us, found_at_us, created_us;
  char status[16];
} mg_store_finding;

/* Inserts f, or updates the row of the same (registration, type) keeping its id, status and
 * created_us. *id (may be NULL) gets the row id; *inserted (may be NULL) 1 if the row is new. */
int mg_store_finding_put(mg_store *s, const mg_store_finding *f, int64_t *id, int *inserted);

/* Filters; NULL / 0 = any. */
typedef struct mg_store_finding_filter {
  const char *university, *platform, *course, *student, *type, *status;
  int64_t since_us;   /* created_us >= since */
  int64_t after_id;   /* cursor: rows with id > after_id */
  size_t limit;       /* 1..500; 0 = 100 */
  const char *province; /* addition: only universities of this province (registry orgs) */
} mg_store_finding_filter;

/* Calls cb for each matching row in id order (the row is valid during the call; a non-zero
 * return stops and is returned). *more (may be NULL): further rows exist; *last_id: the id of
 * the last row delivered (the next page's after_id). */
int mg_store_finding_list(mg_store *s, const mg_store_finding_filter *flt,
                          int (*cb)(void *ud, const mg_store_finding *f), void *ud, int *more,
                          int64_t *last_id);

/* One finding by id; MG_ENOTFOUND if absent. */
int mg_store_finding_get(mg_store *s, int64_t id, mg_store_finding *out);

#endif
