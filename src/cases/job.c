/* cases/job.c — live detection and findings → inbox sync in serve (see job.h). */
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
#include "detect/detect.h"
#include "store/store_findings.h"

struct mg_cases_job {
  mg_store *s;
  int64_t interval_ms;
  mg_detect *d;
  int64_t last_seq;     /* statements up to here were fed */
  int started;          /* the first pass (history and full sync) ran */
  int64_t *touched;     /* finding ids stored during the current pass */
  size_t n_touched, cap_touched;
  int sink_rc;
  mg_cases_job_stats st;
  pthread_mutex_t mu;   /* guards stop and st */
  pthread_cond_t cv;
  int stop;
  int has_thread;
  pthread_t th;
};

static int on_finding(void *ud, const mg_detect_finding *f) {
  mg_cases_job *j = ud;
  static __thread mg_store_finding row; /* ~6 KB: off the stack */
  mg_detect_finding_to_store(f, mg_time_now_us(), &row);
  int64_t id = 0;
  int rc = mg_store_finding_put(j->s, &row, &id, NULL);
  if (rc) {
    j->sink_rc = rc;
    return MG_OK; /* keep feeding; the pass reports the error */
  }
  if (j->n_touched == j->cap_touched) {
    size_t cap = j->cap_touched ? 2 * j->cap_touched : 64;
    int64_t *p = realloc(j->touched, cap * sizeof *p);
    if (!p) {
      j->sink_rc = MG_ENOMEM;
      return MG_OK;
    }
    j->touched = p;
    j->cap_touched = cap;
  }
  j->touched[j->n_touched++] = id;
  pthread_mutex_lock(&j->mu);
  j->st.findings++;
  pthread_mutex_unlock(&j->mu);
  return MG_OK;
}

static int on_stmt(void *ud, int64_t seq, const char *json, size_t len) {
  mg_cases_job *j = ud;
  (void)seq;
  pthread_mutex_lock(&j->mu);
  j->st.statements++;
  pthread_mutex_unlock(&j->mu);
  return mg_detect_feed_json(j->d, json, len);
}

static void count(mg_cases_job *j, mg_sync_outcome o) {
  pthread_mutex_lock(&j->mu);
  switch (o) {
  case MG_SYNC_IMPORTED: j->st.sync.imported++; break;
  case MG_SYNC_UPDATED: j->st.sync.updated++; break;
  case MG_SYNC_UNCHANGED: j->st.sync.unchanged++; break;
  case MG_SYNC_FROZEN: j->st.sync.frozen++; break;
  case MG_SYNC_UNRESOLVED: j->st.sync.unresolved++; break;
  }
  pthread_mutex_unlock(&j->mu);
}

int mg_cases_job_run_once(mg_cases_job *j) {
  if (!j) return MG_EINVAL;
  int rc = MG_OK;
  if (!j->started) {
    mg_sync_stats st = {0};
    rc = mg_cases_sync_findings(j->s, 0, &st);
    pthread_mutex_lock(&j->mu);
    j->st.sync.imported += st.imported;
    j->st.sync.updated += st.updated;
    j->st.sync.unchanged += st.unchanged;
    j->st.sync.frozen += st.frozen;
    j->st.sync.unresolved += st.unresolved;
    pthread_mutex_unlock(&j->mu);
    if (rc) return rc;
    j->started = 1;
  }
  /* Statements committed since the last pass, in commit order, under one snapshot. */
  j->n_touched = 0;
  j->sink_rc = MG_OK;
  mg_store_query q;
  memset(&q, 0, sizeof q);
  q.ascending = 1;
  int more = 1;
  int64_t last = j->last_seq, snap = 0;
  while (more && !rc) {
    q.after_seq = last;
    q.max_seq = snap;
    rc = mg_store_stmt_query(j->s, &q, on_stmt, j, &more, &last, &snap);
  }
  if (!rc) j->last_seq = last;
  if (!rc && j->sink_rc) rc = j->sink_rc;
  /* Each finding stored in this pass into its inbox. */
  for (size_t i = 0; i < j->n_touched; i++) {
    static __thread mg_store_finding f;
    int r = mg_store_finding_get(j->s, j->touched[i], &f);
    mg_sync_outcome o;
    mg_case_err e = {"", ""};
    if (!r) r = mg_cases_sync_finding(j->s, &f, &o, NULL, &e);
    if (r) {
      char id[32];
      snprintf(id, sizeof id, "%lld", (long long)j->touched[i]);
      mg_log(MG_LOG_ERROR, "cases.sync.failed", "finding", id, "error",
             e.message[0] ? e.message : mg_strerror(r), NULL);
      if (!rc) rc = r;
      continue;
    }
    count(j, o);
    if (o == MG_SYNC_IMPORTED || o == MG_SYNC_UPDATED) {
      char id[32];
      snprintf(id, sizeof id, "%lld", (long long)f.id);
      mg_log(MG_LOG_INFO, o == MG_SYNC_IMPORTED ? "cases.inbox.imported" : "cases.inbox.rescored",
             "finding", id, "type", f.type, "registration", f.registration, NULL);
    }
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
  int rc = mg_detect_new(NULL, on_finding, j, &j->d);
  if (rc) goto fail;
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
  mg_detect_free(j->d);
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
  mg_detect_free(j->d);
  free(j->touched);
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
