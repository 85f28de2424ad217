/* cases/sync.h — detector findings into the university inbox (教高〔2022〕1号 cl. 14; issue #3).
 *
 * The detectors write findings (store/store_findings.h); this unit turns each into an inbox item
 * of the student's university, carrying the finding's evidence (rules, thresholds, comparison
 * group, statement ids, explanation), so that a person can open a case. It never opens a case
 * and never applies a sanction: that stays a person's decision (PIPL art. 24).
 *
 * Idempotent: a finding becomes one item (the item names its finding). A finding re-scored by a
 * later run updates its item while no decision rests on it (no case, or the case is still open
 * or investigating; the case's timeline notes the update); once a case is decided the evidence
 * it was decided on stays as it was ("frozen"). A finding whose university or student the
 * registry does not know cannot reach any inbox and is counted as unresolved.
 *
 * The student, university, course and platform are resolved through the registry: first by the
 * enrolment (registration), else by the actor's homePage and account name. Each import or update
 * commits in its own transaction together with an audit record (actor "system"). */
#ifndef MG_CASES_SYNC_H
#define MG_CASES_SYNC_H

#include <stdint.h>

#include "cases/case.h"
#include "store/store.h"
#include "store/store_findings.h"

typedef enum mg_sync_outcome {
  MG_SYNC_IMPORTED = 0,
  MG_SYNC_UPDATED,
  MG_SYNC_UNCHANGED,
  MG_SYNC_FROZEN,      /* its case is decided: the evidence stays as decided on */
  MG_SYNC_UNRESOLVED,  /* university or student unknown to the registry */
} mg_sync_outcome;

typedef struct mg_sync_stats {
  int64_t imported, updated, unchanged, frozen, unresolved;
} mg_sync_stats;

/* Imports or updates the item of finding f (which must carry its stored id). *outcome (may be
 * NULL) says what happened; *item_id (may be NULL) gets the item (0 when unresolved). Opens and
 * commits its own transaction, so call it outside one. */
int mg_cases_sync_finding(mg_store *s, const mg_store_finding *f, mg_sync_outcome *outcome,
                          int64_t *item_id, mg_case_err *err);

/* Syncs every stored finding with id > after_id, in id order; *st (may be NULL) accumulates the
 * outcomes. A finding that fails to sync stops the run with its error. */
int mg_cases_sync_findings(mg_store *s, int64_t after_id, mg_sync_stats *st);

/* The inbox summary and evidence object (JSON text) of a finding, as the sync stores them.
 * Appends to summary and evidence. */
int mg_cases_finding_evidence(const mg_store_finding *f, mg_buf *summary, mg_buf *evidence);

#endif
