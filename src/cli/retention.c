/* cli/retention.c — `moocguard retention` and the daily retention run inside `serve`. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "core/err.h"
#include "core/log.h"
#include "core/time.h"
#include "privacy/retention.h"
#include "store/store.h"

static void usage(FILE *out) {
  fprintf(out,
          "usage: moocguard retention [--dry-run] [--json] [--now TIME] [--store PATH]\n"
          "                           [--keys-dir DIR] [--retention-findings-days N]\n"
          "                           [--retention-network-days N] [--session-idle S]\n"
          "                           [--session-absolute S]\n\n"
          "Deletes or reduces personal data past its retention period (docs/privacy.md):\n"
          "  1. expired sessions (they hold a client IP);\n"
          "  2. findings dismissed (or whose case was dismissed) over retention-findings-days ago;\n"
          "  3. statements stored over retention-network-days ago keep only the /24 or /48\n"
          "     network of client-ip and lose device-id and user-agent.\n"
          "Each step is one transaction with its audit record (counts only). The audit log is\n"
          "never touched (see `moocguard audit-purge`). --dry-run reports what would go and\n"
          "changes nothing. --now runs as of an RFC 3339 time (tests, catch-up). `serve` runs\n"
          "this once a day by itself. Exit 0 ok, 1 failure, 2 usage.\n");
}

static void on_progress(void *ud, const mg_privacy_retention_report *r) {
  (void)ud;
  fprintf(stderr, "retention: %lld statements checked, %lld reduced (up to seq %lld)\n",
          (long long)r->statements_checked, (long long)r->statements_reduced,
          (long long)r->cursor_seq);
}

int mg_cli_retention(int argc, char **argv) {
  if (mg_cli_wants_help(argc, argv)) {
    usage(stdout);
    return MG_EXIT_OK;
  }
  int json = mg_cli_take_flag(&argc, argv, "--json");
  int dry = mg_cli_take_flag(&argc, argv, "--dry-run");
  const char *now_s = NULL;
  if (mg_cli_take_opt(&argc, argv, "--now", &now_s) < 0) {
    fprintf(stderr, "moocguard retention: --now needs a time (RFC 3339)\n");
    return MG_EXIT_USAGE;
  }
  int64_t now_us = mg_time_now_us();
  if (now_s) {
    mg_timestamp t;
    if (mg_time_parse_iso(now_s, 1, &t) != MG_OK) {
      fprintf(stderr, "moocguard retention: --now '%s' is not an RFC 3339 time\n", now_s);
      return MG_EXIT_USAGE;
    }
    now_us = t.us;
  }
  mg_config cfg;
  int code = mg_cli_load_config("retention", &cfg, argc, argv);
  if (code) return code;
  mg_privacy_retention_opts o;
  mg_privacy_retention_opts_from(&cfg, &o);
  if (o.findings_days < 30 || o.network_days < 30) {
    fprintf(stderr, "moocguard retention: retention-findings-days and retention-network-days "
                    "must be at least 30\n");
    return MG_EXIT_USAGE;
  }
  if ((code = mg_cli_keys_load("retention", &cfg, 0))) return code;
  mg_store *s = NULL;
  int rc = mg_store_open(cfg.store, &s, NULL);
  if (rc) {
    fprintf(stderr, "moocguard retention: cannot open %s: %s\n", cfg.store, mg_strerror(rc));
    return MG_EXIT_FAIL;
  }
  mg_privacy_retention_report r;
  rc = mg_privacy_retention_run(s, &o, now_us, dry, &r, on_progress, NULL);
  mg_store_close(s);
  if (rc) {
    fprintf(stderr, "moocguard retention: %s (steps before the failure are done and audited)\n",
            mg_strerror(rc));
    return MG_EXIT_FAIL;
  }
  if (json) {
    mg_buf b;
    mg_buf_init(&b, 4096);
    if (mg_privacy_retention_json(&r, &b)) {
      mg_buf_free(&b);
      return MG_EXIT_FAIL;
    }
    printf("%s\n", b.data);
    mg_buf_free(&b);
  } else {
    printf("%s%lld expired sessions deleted, %lld stale findings deleted, %lld of %lld old "
           "statements reduced to network prefixes\n",
           dry ? "dry run — would be: " : "", (long long)r.sessions, (long long)r.findings,
           (long long)r.statements_reduced, (long long)r.statements_checked);
  }
  return MG_EXIT_OK;
}

/* ---- the daily run inside serve ------------------------------------------------------------- */

static struct {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  pthread_t th;
  int started, stop;
  mg_store *store;
  mg_privacy_retention_opts opts;
} g_ret = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static void run_once(void) {
  mg_privacy_retention_report r;
  int rc = mg_privacy_retention_run(g_ret.store, &g_ret.opts, mg_time_now_us(), 0, &r, NULL, NULL);
  char a[24], b[24], c[24];
  snprintf(a, sizeof a, "%lld", (long long)r.sessions);
  snprintf(b, sizeof b, "%lld", (long long)r.findings);
  snprintf(c, sizeof c, "%lld", (long long)r.statements_reduced);
  if (rc) mg_log(MG_LOG_ERROR, "retention.failed", "error", mg_strerror(rc), NULL);
  else mg_log(MG_LOG_INFO, "retention.done", "sessions", a, "findings", b, "statements", c, NULL);
}

static void *daily(void *arg) {
  (void)arg;
  pthread_mutex_lock(&g_ret.mu);
  /* first run a minute after start (not in the way of start-up), then every 24 hours */
  time_t wait_s = 60;
  while (!g_ret.stop) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += wait_s;
    int r = 0;
    while (!g_ret.stop && r != ETIMEDOUT) r = pthread_cond_timedwait(&g_ret.cv, &g_ret.mu, &ts);
    if (g_ret.stop) break;
    pthread_mutex_unlock(&g_ret.mu);
    run_once();
    pthread_mutex_lock(&g_ret.mu);
    wait_s = 86400;
  }
  pthread_mutex_unlock(&g_ret.mu);
  return NULL;
}

int mg_cli_retention_start(const mg_config *cfg, mg_store *s) {
  mg_privacy_retention_opts_from(cfg, &g_ret.opts);
  if (g_ret.opts.findings_days < 30 || g_ret.opts.network_days < 30) {
    mg_log(MG_LOG_ERROR, "serve.config", "msg",
           "retention-findings-days and retention-network-days must be at least 30", NULL);
    return MG_EXIT_USAGE;
  }
  g_ret.store = s;
  g_ret.stop = 0;
  if (pthread_create(&g_ret.th, NULL, daily, NULL) != 0) return MG_EXIT_FAIL;
  g_ret.started = 1;
  return MG_EXIT_OK;
}

void mg_cli_retention_stop(void) {
  if (!g_ret.started) return;
  pthread_mutex_lock(&g_ret.mu);
  g_ret.stop = 1;
  pthread_cond_signal(&g_ret.cv);
  pthread_mutex_unlock(&g_ret.mu);
  pthread_join(g_ret.th, NULL);
  g_ret.started = 0;
}
