/* detect/live.h — the detectors in a running process: one detector thread behind the ingest path.
 *
 * Every statement the LRS or `moocguard import` accepts is fed to one mg_detect engine after its
 * batch is durable, never in the way of the acknowledgement. The queue between them is the store
 * itself: ingest only posts a wakeup (mg_detect_live_notify: a counter and a condition signal,
 * no copy, never blocks on the detector), and the detector thread reads the statements after
 * its last processed seq, in seq (commit) order, a page at a time. So nothing can overflow and
 * nothing is lost: a burst the detector cannot keep up with simply waits on disk and is caught
 * up from the seq (the gap is the lag, reported in the stats and logged while it exceeds a
 * page); and the order is exactly `moocguard detect --replay`'s, so live and replayed findings
 * are the same.
 *
 * Findings are upserted through store_findings.h (one row per enrolment and type, status kept).
 * The last processed seq is persisted as the setting "detect.live.seq" once the findings of
 * everything up to it are stored (at most once a second, and at stop). On start the engine's
 * state is rebuilt by a silent pass over the statements up to that seq (findings there were
 * stored before), then it goes on from seq + 1: a crash loses nothing and re-stores nothing.
 * A wakeup is also taken every poll interval, so statements written by another process are
 * picked up too. At stop the engine is flushed (sessions closed, final sweep), as a replay is.
 *
 * Thread-safety: notify may be called from any thread; the rest from the owning thread. */
#ifndef MG_DETECT_LIVE_H
#define MG_DETECT_LIVE_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define MG_DETECT_LIVE_SETTING "detect.live.seq"

typedef struct mg_detect_live mg_detect_live;

typedef struct mg_detect_live_config {
  int64_t poll_us;             /* wake at least this often without a notice (default 1 s) */
  int64_t checkpoint_every_us; /* persist the processed seq at most this often (default 1 s) */
  size_t page;                 /* statements per store read (default 1000, the store's max) */
} mg_detect_live_config;

void mg_detect_live_config_defaults(mg_detect_live_config *c);

/* Starts the detector thread on store s (borrowed; must outlive the live detector). cfg may be
 * NULL. *out owns it; end it with mg_detect_live_stop. MG_OK, MG_ENOMEM, or an error starting
 * the thread or reading the checkpoint. */
int mg_detect_live_start(mg_store *s, const mg_detect_live_config *cfg, mg_detect_live **out);

/* A batch of n statements became durable. live is an mg_detect_live* (void* so it can be used
 * as an ingest callback, xapi/ingest.h); NULL is ignored. Cheap; never blocks on detection. */
void mg_detect_live_notify(void *live, size_t n);

/* Waits until everything committed before the call has been processed and its findings stored,
 * or timeout_us passed (MG_EBUSY). MG_OK when caught up. */
int mg_detect_live_drain(mg_detect_live *l, int64_t timeout_us);

/* Stops the thread, processes what is left, flushes the engine (its findings stored), persists
 * the checkpoint and frees everything. NULL is allowed. Returns MG_OK or the first error seen
 * while storing findings or the checkpoint (the live detector is freed either way). */
int mg_detect_live_stop(mg_detect_live *l);

typedef struct mg_detect_live_stats {
  int64_t resumed_from;   /* checkpoint seq found at start */
  int64_t processed_seq;  /* last seq fed to the engine */
  uint64_t warmup;        /* statements replayed silently to rebuild state (seq <= resumed_from) */
  uint64_t fed;           /* statements fed after the checkpoint */
  uint64_t notified;      /* statements announced by notify */
  uint64_t findings_new, findings_updated, findings_failed;
  uint64_t passes;        /* catch-up passes over the store */
  uint64_t store_errors;  /* failed reads (retried at the next wakeup) */
  int64_t busy_us;        /* thread CPU time spent reading, detecting and storing */
} mg_detect_live_stats;

/* A consistent copy of the counters (any thread). */
void mg_detect_live_get_stats(mg_detect_live *l, mg_detect_live_stats *out);

#endif
