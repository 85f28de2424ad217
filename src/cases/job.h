/* cases/job.h — the live governance job of `moocguard serve`: detection and the inbox sync.
 *
 * One background thread, woken every interval: it feeds the statements committed since its last
 * run (in commit order, by seq) to one streaming detector (detect/detect.h), stores the findings
 * it emits (store_findings.h) and moves each into its university's inbox (cases/sync.h). On start
 * it replays the stored history once to rebuild the detector's state and syncs every stored
 * finding (including those a `moocguard detect --replay` wrote while the server was down).
 * Statement ingest never waits for it: it only reads committed statements. No sanction is ever
 * applied here; the inbox waits for a person. */
#ifndef MG_CASES_JOB_H
#define MG_CASES_JOB_H

#include <stdint.h>

#include "cases/sync.h"
#include "store/store.h"

typedef struct mg_cases_job mg_cases_job;

/* Starts the job on store s (borrowed; must outlive the job) every interval_ms; 0 starts no
 * thread (passes then run only through mg_cases_job_run_once). *out owns it (mg_cases_job_stop).
 * MG_EINVAL, MG_ENOMEM. */
int mg_cases_job_start(mg_store *s, int64_t interval_ms, mg_cases_job **out);
/* Runs one pass now on the calling thread (only for a job started without a thread). */
int mg_cases_job_run_once(mg_cases_job *j);
/* Stops the thread (waits for the current pass) and frees the job. NULL is ignored. */
void mg_cases_job_stop(mg_cases_job *j);

/* Counters so far (statements fed, findings stored, and the sync outcomes). */
typedef struct mg_cases_job_stats {
  int64_t statements, findings;
  mg_sync_stats sync;
} mg_cases_job_stats;
void mg_cases_job_get_stats(mg_cases_job *j, mg_cases_job_stats *out);

#endif
