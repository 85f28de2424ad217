/* The live detector thread; see live.h. */
#include "detect/live.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/err.h"
#include "core/log.h"
#include "core/time.h"
#include "detect/detect.h"
#include "store/store_bank.h"
#include "store/store_findings.h"

#define RETRY_MAX 4096 /* findings kept for another try when the store refused them */
#define BATCH_MAX 128  /* findings written together in one transaction */

struct mg_detect_live {
  mg_store *store;
  mg_detect_live_config cfg;
  mg_detect *engine;
  pthread_t thread;
  int started;

  pthread_mutex_t mu;
  pthread_cond_t wake, done;
  int stopping;
  uint64_t pending;         /* statements announced since the thread last looked */
  uint64_t req_gen, done_gen; /* drain requests / completed passes that began after them */
  mg_detect_live_stats st;  /* guarded by mu when read from outside */

  /* detector thread only */
  int64_t processed;        /* last seq fed */
  int64_t warm_to;          /* statements up to here rebuild state silently */
  int64_t saved;            /* checkpoint last persisted */
  int64_t hold;             /* while retries are pending, the checkpoint stays <= hold */
  int64_t last_save_us;
  int64_t cur_seq;          /* seq of the statement being fed (its findings' position) */
  int silent;
  mg_store_finding row;     /* large: one per live detector, not on the stack */
  mg_store_finding *retry;
  size_t n_retry;
  /* findings of the page being fed, written in one transaction after it: one commit (and one
   * sync) per page instead of one per finding, each taking SQLite's write lock that the
   * statement writer also needs */
  mg_store_finding *batch;
  int64_t *batch_seq;       /* the statement each came from: the checkpoint stays before it */
  size_t n_batch;
};

void mg_detect_live_config_defaults(mg_detect_live_config *c) {
  c->poll_us = 1000000;
  c->checkpoint_every_us = 1000000;
  c->page = MG_STORE_QUERY_MAX_LIMIT;
}

static int64_t thread_cpu_us(void) {
  struct timespec ts;
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0) return 0;
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void count(mg_detect_live *l, uint64_t *field, uint64_t by) {
  pthread_mutex_lock(&l->mu);
  *field += by;
  pthread_mutex_unlock(&l->mu);
}

static int put_row(mg_detect_live *l, const mg_store_finding *row) {
  int inserted = 0;
  int rc = mg_store_finding_put(l->store, row, NULL, &inserted);
  if (rc == MG_OK) count(l, inserted ? &l->st.findings_new : &l->st.findings_updated, 1);
  return rc;
}

/* A finding the store refused is kept for the next pass, and the checkpoint held before it, so
 * neither a retry nor a restart loses it. */
static void keep_for_retry(mg_detect_live *l, const mg_store_finding *row, int64_t seq, int rc) {
  mg_log(MG_LOG_ERROR, "detect.live.store", "registration", row->registration, "type", row->type,
         "error", mg_strerror(rc), NULL);
  count(l, &l->st.findings_failed, 1);
  if (l->n_retry == 0 || seq - 1 < l->hold) l->hold = seq - 1;
  if (l->n_retry < RETRY_MAX) {
    if (!l->retry) l->retry = malloc(RETRY_MAX * sizeof *l->retry);
    if (l->retry) l->retry[l->n_retry++] = *row;
  }
}

/* Writes the page's findings in one transaction; if it fails, each is kept for a retry. */
static void flush_batch(mg_detect_live *l) {
  if (!l->n_batch) return;
  int rc = mg_store_tx_begin(l->store);
  size_t ins = 0, upd = 0;
  for (size_t i = 0; i < l->n_batch && rc == MG_OK; i++) {
    int inserted = 0;
    rc = mg_store_finding_put(l->store, &l->batch[i], NULL, &inserted);
    if (inserted) ins++;
    else upd++;
  }
  if (rc == MG_OK) rc = mg_store_tx_commit(l->store);
  else mg_store_tx_rollback(l->store);
  if (rc == MG_OK) {
    count(l, &l->st.findings_new, ins);
    count(l, &l->st.findings_updated, upd);
  } else {
    for (size_t i = 0; i < l->n_batch; i++) keep_for_retry(l, &l->batch[i], l->batch_seq[i], rc);
  }
  l->n_batch = 0;
}

static int on_finding(void *ud, const mg_detect_finding *f) {
  mg_detect_live *l = ud;
  if (l->silent) return MG_OK; /* stored before the checkpoint was written */
  mg_detect_finding_to_store(f, mg_time_now_us(), &l->row);
  if (!l->batch) {
    l->batch = malloc(BATCH_MAX * sizeof *l->batch);
    l->batch_seq = malloc(BATCH_MAX * sizeof *l->batch_seq);
    if (!l->batch || !l->batch_seq) {
      free(l->batch);
      free(l->batch_seq);
      l->batch = NULL;
      l->batch_seq = NULL;
      int rc = put_row(l, &l->row); /* no memory for a batch: one at a time */
      if (rc != MG_OK) keep_for_retry(l, &l->row, l->cur_seq, rc);
      return MG_OK;
    }
  }
  l->batch[l->n_batch] = l->row;
  l->batch_seq[l->n_batch++] = l->cur_seq;
  if (l->n_batch == BATCH_MAX) flush_batch(l);
  return MG_OK; /* detection goes on; the engine must not stop over a store hiccup */
}

static void retry_findings(mg_detect_live *l) {
  size_t keep = 0;
  for (size_t i = 0; i < l->n_retry; i++)
    if (put_row(l, &l->retry[i]) != MG_OK) l->retry[keep++] = l->retry[i];
  l->n_retry = keep;
}

static int save_checkpoint(mg_detect_live *l, int force) {
  int64_t upto = l->n_retry ? l->hold : l->processed;
  if (upto <= l->saved) return MG_OK;
  int64_t now = mg_time_mono_us();
  if (!force && now - l->last_save_us < l->cfg.checkpoint_every_us) return MG_OK;
  char v[32];
  snprintf(v, sizeof v, "%" PRId64, upto);
  int rc = mg_store_setting_set(l->store, MG_DETECT_LIVE_SETTING, v);
  if (rc) {
    mg_log(MG_LOG_ERROR, "detect.live.checkpoint", "seq", v, "error", mg_strerror(rc), NULL);
    return rc;
  }
  l->saved = upto;
  l->last_save_us = now;
  return MG_OK;
}

static int on_stmt(void *ud, int64_t seq, const char *json, size_t len) {
  mg_detect_live *l = ud;
  l->cur_seq = seq;
  l->silent = seq <= l->warm_to;
  int rc = mg_detect_feed_json(l->engine, json, len);
  l->processed = seq;
  pthread_mutex_lock(&l->mu);
  l->st.processed_seq = seq;
  if (l->silent) l->st.warmup++;
  else l->st.fed++;
  pthread_mutex_unlock(&l->mu);
  return rc;
}

/* Reads and feeds everything after the processed seq, page by page, until the store has no
 * more (in one snapshot per pass: a batch committed meanwhile is the next pass's). */
static int catch_up(mg_detect_live *l) {
  int64_t cpu0 = thread_cpu_us();
  if (l->n_retry) retry_findings(l);
  mg_store_query q = {.ascending = 1, .limit = l->cfg.page};
  int more = 1, rc = MG_OK;
  int64_t last = l->processed, snap = 0, from = l->processed;
  while (more) {
    q.after_seq = last;
    q.max_seq = snap;
    rc = mg_store_stmt_query(l->store, &q, on_stmt, l, &more, &last, &snap);
    flush_batch(l); /* outside the page's read transaction */
    if (rc) {
      count(l, &l->st.store_errors, 1);
      mg_log(MG_LOG_WARN, "detect.live.read", "error", mg_strerror(rc), NULL);
      break;
    }
    save_checkpoint(l, 0);
  }
  if (l->processed - from > (int64_t)(10 * l->cfg.page) && !l->silent) {
    char n[32];
    snprintf(n, sizeof n, "%" PRId64, l->processed - from);
    mg_log(MG_LOG_INFO, "detect.live.caught_up", "statements_behind", n, NULL);
  }
  pthread_mutex_lock(&l->mu);
  l->st.passes++;
  l->st.busy_us += thread_cpu_us() - cpu0;
  pthread_mutex_unlock(&l->mu);
  return rc;
}

static void *run(void *arg) {
  mg_detect_live *l = arg;
  pthread_mutex_lock(&l->mu);
  while (!l->stopping) {
    if (!l->pending && l->req_gen == l->done_gen) {
      struct timespec ts;
      clock_gettime(CLOCK_REALTIME, &ts);
      int64_t ns = ts.tv_nsec + (l->cfg.poll_us % 1000000) * 1000;
      ts.tv_sec += (time_t)(l->cfg.poll_us / 1000000 + ns / 1000000000);
      ts.tv_nsec = (long)(ns % 1000000000);
      pthread_cond_timedwait(&l->wake, &l->mu, &ts);
      if (l->stopping) break;
    }
    uint64_t gen = l->req_gen;
    l->pending = 0;
    pthread_mutex_unlock(&l->mu);
    catch_up(l);
    pthread_mutex_lock(&l->mu);
    if (gen > l->done_gen) l->done_gen = gen;
    pthread_cond_broadcast(&l->done);
  }
  pthread_mutex_unlock(&l->mu);
  return NULL;
}

int mg_detect_live_start(mg_store *s, const mg_detect_live_config *cfg, mg_detect_live **out) {
  if (!s || !out) return MG_EINVAL;
  *out = NULL;
  mg_detect_live *l = calloc(1, sizeof *l);
  if (!l) return MG_ENOMEM;
  int rc = MG_ENOMEM;
  l->store = s;
  mg_detect_live_config_defaults(&l->cfg);
  if (cfg) {
    if (cfg->poll_us > 0) l->cfg.poll_us = cfg->poll_us;
    if (cfg->checkpoint_every_us >= 0) l->cfg.checkpoint_every_us = cfg->checkpoint_every_us;
    if (cfg->page > 0 && cfg->page <= MG_STORE_QUERY_MAX_LIMIT) l->cfg.page = cfg->page;
  }
  pthread_mutex_init(&l->mu, NULL);
  pthread_cond_init(&l->wake, NULL);
  pthread_cond_init(&l->done, NULL);
  char v[32];
  rc = mg_store_setting_get(s, MG_DETECT_LIVE_SETTING, v, sizeof v);
  if (rc == MG_OK) {
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (errno || end == v || *end || n < 0) {
      mg_log(MG_LOG_WARN, "detect.live.checkpoint_invalid", "value", v, NULL);
      n = 0; /* start over: every finding is an upsert, so this only costs time */
    }
    l->warm_to = l->saved = (int64_t)n;
  } else if (rc != MG_ENOTFOUND) {
    goto fail;
  }
  l->st.resumed_from = l->warm_to;
  rc = mg_detect_new(NULL, on_finding, l, &l->engine);
  if (rc) goto fail;
  size_t nbank = 0;
  rc = mg_detect_bank_load(l->engine, s, &nbank);
  if (rc == MG_ENOMEM) goto fail;
  if (rc) mg_log(MG_LOG_WARN, "detect.live.bank_unavailable", "error", mg_strerror(rc), NULL);
  char nb[32];
  snprintf(nb, sizeof nb, "%zu", nbank);
  mg_log(MG_LOG_INFO, "detect.live.bank", "items", nb, NULL);
  l->pending = 1; /* first pass at once: rebuild state and catch up */
  if (pthread_create(&l->thread, NULL, run, l) != 0) {
    rc = MG_ENOMEM;
    goto fail;
  }
  l->started = 1;
  char from[32];
  snprintf(from, sizeof from, "%" PRId64, l->warm_to);
  mg_log(MG_LOG_INFO, "detect.live.start", "resume_after_seq", from, NULL);
  *out = l;
  return MG_OK;
fail:
  mg_detect_free(l->engine);
  pthread_cond_destroy(&l->wake);
  pthread_cond_destroy(&l->done);
  pthread_mutex_destroy(&l->mu);
  free(l);
  return rc;
}

void mg_detect_live_notify(void *live, size_t n) {
  mg_detect_live *l = live;
  if (!l) return;
  pthread_mutex_lock(&l->mu);
  l->pending += n ? n : 1;
  l->st.notified += n;
  pthread_cond_signal(&l->wake);
  pthread_mutex_unlock(&l->mu);
}

int mg_detect_live_drain(mg_detect_live *l, int64_t timeout_us) {
  if (!l) return MG_EINVAL;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  int64_t ns = ts.tv_nsec + (timeout_us % 1000000) * 1000;
  ts.tv_sec += (time_t)(timeout_us / 1000000 + ns / 1000000000);
  ts.tv_nsec = (long)(ns % 1000000000);
  pthread_mutex_lock(&l->mu);
  uint64_t want = ++l->req_gen;
  pthread_cond_signal(&l->wake);
  int rc = MG_OK;
  while (l->done_gen < want && !l->stopping) {
    if (pthread_cond_timedwait(&l->done, &l->mu, &ts) == ETIMEDOUT) {
      rc = l->done_gen < want ? MG_EBUSY : MG_OK;
      break;
    }
  }
  pthread_mutex_unlock(&l->mu);
  return rc;
}

int mg_detect_live_stop(mg_detect_live *l) {
  if (!l) return MG_OK;
  pthread_mutex_lock(&l->mu);
  l->stopping = 1;
  pthread_cond_broadcast(&l->wake);
  pthread_cond_broadcast(&l->done);
  pthread_mutex_unlock(&l->mu);
  if (l->started) pthread_join(l->thread, NULL);
  /* the thread is gone: finish its work here */
  catch_up(l);
  l->silent = 0;
  l->cur_seq = l->processed + 1; /* flush findings belong after everything processed */
  int rc = mg_detect_flush(l->engine);
  flush_batch(l);
  if (l->n_retry) retry_findings(l);
  int crc = save_checkpoint(l, 1);
  mg_detect_live_stats st;
  mg_detect_live_get_stats(l, &st);
  char seq[32], fed[32], fnd[32];
  snprintf(seq, sizeof seq, "%" PRId64, st.processed_seq);
  snprintf(fed, sizeof fed, "%" PRIu64, st.fed);
  snprintf(fnd, sizeof fnd, "%" PRIu64, st.findings_new + st.findings_updated);
  mg_log(MG_LOG_INFO, "detect.live.stop", "processed_seq", seq, "fed", fed, "findings_stored",
         fnd, NULL);
  int result = rc ? rc : crc;
  if (l->n_retry && !result) result = MG_ESTORE; /* findings the store still refuses */
  mg_detect_free(l->engine);
  free(l->retry);
  free(l->batch);
  free(l->batch_seq);
  pthread_cond_destroy(&l->wake);
  pthread_cond_destroy(&l->done);
  pthread_mutex_destroy(&l->mu);
  free(l);
  return result;
}

void mg_detect_live_get_stats(mg_detect_live *l, mg_detect_live_stats *out) {
  memset(out, 0, sizeof *out);
  if (!l) return;
  pthread_mutex_lock(&l->mu);
  *out = l->st;
  pthread_mutex_unlock(&l->mu);
}

static int bank_add(void *ud, const mg_store_bank_item *it) {
  return mg_detect_bank_add(ud, it->item_iri, strlen(it->item_iri), it->answer, strlen(it->answer));
}

int mg_detect_bank_load(mg_detect *d, struct mg_store *s, size_t *n) {
  if (!d || !s) return MG_EINVAL;
  mg_detect_stats before, after;
  mg_detect_get_stats(d, &before);
  int rc = mg_store_bank_list(s, NULL, 0, bank_add, d, NULL);
  mg_detect_get_stats(d, &after);
  if (n) *n = (size_t)(after.bank_items - before.bank_items);
  return rc;
}
