/* cases/job.h — the inbox job of `moocguard serve`: findings into the university inbox.
 *
 * One background thread, woken every interval, moves the findings the detectors stored
 * (store_findings.h; written live by detect/live.c or by `moocguard detect --replay`) into their
 * university's inbox (cases/sync.h). Its first pass, and every 60th, syncs every stored finding
 * (so re-scored findings update their item); the passes between take only new ones. Ingest never
 * waits for it. No sanction is ever applied here; the inbox waits for a person. */
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

/* Counters so far (findings = the newest finding id synced, and the sync outcomes;
 * statements is unused and stays 0). */
typedef struct mg_cases_job_stats {
  int64_t statements, findings;
  mg_sync_stats sync;
} mg_cases_job_stats;
void mg_cases_job_get_stats(mg_cases_job *j, mg_cases_job_stats *out);

#endif
