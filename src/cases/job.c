/* cases/job.c — findings → inbox sync in serve (see job.h). */
#include "cases/job.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/err.h"
#include "core/log.h"
#include "core/time.h"
#include "store/store_findings.h"

struct mg_cases_job {
  mg_store *s;
  int64_t interval_ms;
  int64_t last_id;      /* findings up to this id were synced */
  int64_t passes;
  mg_cases_job_stats st;
  pthread_mutex_t mu;   /* guards stop and st */
  pthread_cond_t cv;
  int stop;
  int has_thread;
  pthread_t th;
};

/* A full pass (every stored finding) picks up findings the detector re-scored in place; the
 * passes between take only new ids. Unchanged findings cost a read each. */
#define FULL_SYNC_EVERY 60

static void add_stats(mg_cases_job *j, const mg_sync_stats *st) {
  pthread_mutex_lock(&j->mu);
  j->st.sync.imported += st->imported;
  j->st.sync.updated += st->updated;
  j->st.sync.unchanged += st->unchanged;
  j->st.sync.frozen += st->frozen;
  j->st.sync.unresolved += st->unresolved;
  j->st.findings = j->last_id;
  pthread_mutex_unlock(&j->mu);
}

typedef struct maxid {
  int64_t max;
} maxid;

static int note_max(void *ud, const mg_store_finding *f) {
  maxid *m = ud;
  if (f->id > m->max) m->max = f->id;
  return MG_OK;
}

/* The newest finding id now: the next incremental pass starts after it. */
static int newest_id(mg_store *s, int64_t after, int64_t *out) {
  maxid m = {after};
  mg_store_finding_filter flt;
  memset(&flt, 0, sizeof flt);
  flt.limit = 500;
  int more = 1, rc = MG_OK;
  int64_t last = after;
  while (more && !rc) {
    flt.after_id = last;
    rc = mg_store_finding_list(s, &flt, note_max, &m, &more, &last);
  }
  *out = m.max;
  return rc;
}

int mg_cases_job_run_once(mg_cases_job *j) {
  if (!j) return MG_EINVAL;
  int full = j->passes % FULL_SYNC_EVERY == 0; /* the first pass is a full one */
  int64_t upto = 0;
  /* ids only grow: the newest is found past last_id, also on a full pass */
  int rc = newest_id(j->s, j->last_id, &upto);
  if (rc) return rc;
  mg_sync_stats st = {0};
  rc = mg_cases_sync_findings(j->s, full ? 0 : j->last_id, &st);
  if (!rc) {
    if (upto > j->last_id) j->last_id = upto;
    j->passes++;
  }
  add_stats(j, &st);
  if (st.imported || st.updated) {
    char a[32], u[32];
    snprintf(a, sizeof a, "%lld", (long long)st.imported);
    snprintf(u, sizeof u, "%lld", (long long)st.updated);
    mg_log(MG_LOG_INFO, "cases.inbox.synced", "imported", a, "rescored", u, NULL);
  }
  return rc;
}

static void *loop(void *arg) {
  mg_cases_job *j = arg;
  for (;;) {
    int rc = mg_cases_job_run_once(j);
    if (rc)
      mg_log(MG_LOG_ERROR, "cases.job.pass_failed", "error", mg_strerror(rc), NULL);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += (time_t)(j->interval_ms / 1000);
    until.tv_nsec += (long)(j->interval_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
      until.tv_sec++;
      until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&j->mu);
    while (!j->stop) {
      if (pthread_cond_timedwait(&j->cv, &j->mu, &until) == ETIMEDOUT) break;
    }
    int stop = j->stop;
    pthread_mutex_unlock(&j->mu);
    if (stop) break;
  }
  return NULL;
}

int mg_cases_job_start(mg_store *s, int64_t interval_ms, mg_cases_job **out) {
  if (!s || !out || interval_ms < 0) return MG_EINVAL;
  *out = NULL;
  mg_cases_job *j = calloc(1, sizeof *j);
  if (!j) return MG_ENOMEM;
  j->s = s;
  j->interval_ms = interval_ms;
  pthread_mutex_init(&j->mu, NULL);
  pthread_cond_init(&j->cv, NULL);
  int rc = MG_OK;
  if (interval_ms > 0) {
    if (pthread_create(&j->th, NULL, loop, j)) {
      rc = MG_ENOMEM;
      goto fail;
    }
    j->has_thread = 1;
  }
  *out = j;
  return MG_OK;
fail:
  pthread_cond_destroy(&j->cv);
  pthread_mutex_destroy(&j->mu);
  free(j);
  return rc;
}

void mg_cases_job_stop(mg_cases_job *j) {
  if (!j) return;
  if (j->has_thread) {
    pthread_mutex_lock(&j->mu);
    j->stop = 1;
    pthread_cond_signal(&j->cv);
    pthread_mutex_unlock(&j->mu);
    pthread_join(j->th, NULL);
  }
  pthread_cond_destroy(&j->cv);
  pthread_mutex_destroy(&j->mu);
  free(j);
}

void mg_cases_job_get_stats(mg_cases_job *j, mg_cases_job_stats *out) {
  memset(out, 0, sizeof *out);
  if (!j) return;
  pthread_mutex_lock(&j->mu);
  *out = j->st;
  pthread_mutex_unlock(&j->mu);
}
