/* privacy/retention.c — the retention job (see retention.h). */
#include "privacy/retention.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "core/arena.h"
#include "core/err.h"
#include "core/json.h"
#include "core/time.h"
#include "store/store_privacy.h"

#define DAY_US (86400LL * 1000000LL)
#define EXT "https://moocguard.org/xapi/ext/"
#define CURSOR_KEY "privacy.network_seq"

void mg_privacy_retention_opts_from(const mg_config *cfg, mg_privacy_retention_opts *o) {
  memset(o, 0, sizeof *o);
  o->session_idle_s = cfg->session_idle;
  o->session_absolute_s = cfg->session_absolute;
  o->findings_days = cfg->retention_findings_days;
  o->network_days = cfg->retention_network_days;
  o->batch = 2000;
  o->actor = "system";
}

/* ---- statements ------------------------------------------------------------------------------ */

/* The network an address belongs to, written as an address: a.b.c.0 (/24), x:y:z:: (/48).
 * Anything that is not an address becomes "" (nothing identifying is kept). */
static void reduce_ip(const char *ip, char *out, size_t size) {
  unsigned char b[16];
  out[0] = '\0';
  if (inet_pton(AF_INET, ip, b) == 1) {
    b[3] = 0;
    inet_ntop(AF_INET, b, out, (socklen_t)size);
  } else if (inet_pton(AF_INET6, ip, b) == 1) {
    memset(b + 6, 0, 10);
    inet_ntop(AF_INET6, b, out, (socklen_t)size);
  }
}

/* Reduces one context's extensions in place; *changed set when something changed. */
static int reduce_context(mg_arena *a, mg_json *ctx, int *changed) {
  mg_json *ext = mg_json_object_get(ctx, "extensions");
  if (!mg_json_is_object(ext)) return MG_OK;
  if (mg_json_object_del(ext, EXT "device-id") == MG_OK) *changed = 1;
  if (mg_json_object_del(ext, EXT "user-agent") == MG_OK) *changed = 1;
  mg_json *ip = mg_json_object_get(ext, EXT "client-ip");
  if (ip) {
    char net[INET6_ADDRSTRLEN] = "";
    if (mg_json_is_string(ip)) reduce_ip(mg_json_string_value(ip), net, sizeof net);
    if (!mg_json_is_string(ip) || strcmp(net, mg_json_string_value(ip))) {
      mg_json *v = mg_json_string(a, net);
      if (!v) return MG_ENOMEM;
      int rc = mg_json_object_set(a, ext, EXT "client-ip", v);
      if (rc) return rc;
      *changed = 1;
    }
  }
  return MG_OK;
}

int mg_privacy_reduce_statement(mg_arena *a, const char *json, size_t len, char **out,
                                size_t *out_len, int *changed) {
  *changed = 0;
  *out = NULL;
  *out_len = 0;
  mg_json *st = mg_json_parse(a, json, len, 0, NULL);
  if (!mg_json_is_object(st)) return MG_EINVAL;
  int rc = reduce_context(a, mg_json_object_get(st, "context"), changed);
  mg_json *obj = mg_json_object_get(st, "object");
  if (!rc && mg_json_is_object(obj)) /* a SubStatement carries its own context */
    rc = reduce_context(a, mg_json_object_get(obj, "context"), changed);
  if (rc || !*changed) return rc;
  *out = mg_json_dumps(a, st, out_len);
  return *out ? MG_OK : MG_ENOMEM;
}

typedef struct batch_ctx {
  mg_store *s;
  int64_t cutoff_us;
  int dry_run;
  int64_t last_seq;    /* last statement handled */
  int reached_cutoff;  /* a statement too young was met: stop */
  size_t seen;
  int64_t checked, reduced;
} batch_ctx;

static int on_stmt(void *ud, int64_t seq, int64_t stored_us, const char *json, size_t len) {
  batch_ctx *b = ud;
  b->seen++;
  if (stored_us >= b->cutoff_us) {
    b->reached_cutoff = 1;
    return 1; /* stop: seq order follows stored time (closely; see store.h) */
  }
  b->last_seq = seq;
  b->checked++;
  mg_arena a;
  mg_arena_init(&a, 0, (size_t)64 << 20);
  char *text = NULL;
  size_t n = 0;
  int changed = 0;
  int rc = mg_privacy_reduce_statement(&a, json, len, &text, &n, &changed);
  if (rc == MG_EINVAL) rc = MG_OK; /* stored statements are valid JSON; nothing to do otherwise */
  if (!rc && changed) {
    b->reduced++;
    if (!b->dry_run) rc = mg_store_privacy_stmt_set_json(b->s, seq, text, n);
  }
  mg_arena_free(&a);
  return rc;
}

/* ---- audit ----------------------------------------------------------------------------------- */

static int audit_step(mg_store *s, const mg_privacy_retention_opts *o, int dry_run,
                      const char *step, int64_t now_us, const char *facts,
                      mg_privacy_retention_report *rep) {
  char action[48];
  snprintf(action, sizeof action, "%s", dry_run ? "retention.dry_run" : "retention.run");
  mg_audit_event ev = {o->actor ? o->actor : "system", "system", action, "retention", step, NULL, 0,
                       facts, strlen(facts), NULL, now_us};
  int rc = mg_audit_append(s, &ev, NULL);
  if (!rc) rep->audit_records++;
  return rc;
}

/* Ends a step's transaction: commit on success, else roll back and keep the error. */
static int tx_end(mg_store *s, int rc) {
  if (rc) {
    mg_store_tx_rollback(s);
    return rc;
  }
  return mg_store_tx_commit(s);
}

int mg_privacy_retention_run(mg_store *s, const mg_privacy_retention_opts *o, int64_t now_us,
                             int dry_run, mg_privacy_retention_report *rep,
                             void (*progress)(void *ud, const mg_privacy_retention_report *r),
                             void *ud) {
  if (!s || !o || !rep || o->session_idle_s <= 0 || o->session_absolute_s <= 0 ||
      o->findings_days < 30 || o->network_days < 30 || now_us <= 0)
    return MG_EINVAL;
  memset(rep, 0, sizeof *rep);
  rep->dry_run = dry_run;
  rep->now_us = now_us;
  rep->findings_cutoff_us = now_us - o->findings_days * DAY_US;
  rep->network_cutoff_us = now_us - o->network_days * DAY_US;
  size_t batch = o->batch ? o->batch : 2000;
  char facts[256];
  int rc;

  /* 1. expired sessions */
  if ((rc = mg_store_tx_begin(s))) return rc;
  rc = mg_store_privacy_sessions_expired(s, now_us - o->session_idle_s * 1000000LL,
                                         now_us - o->session_absolute_s * 1000000LL, dry_run,
                                         &rep->sessions);
  snprintf(facts, sizeof facts, "{\"step\":\"sessions\",\"deleted\":%lld}", (long long)rep->sessions);
  if (!rc) rc = audit_step(s, o, dry_run, "sessions", now_us, facts, rep);
  if ((rc = tx_end(s, rc))) return rc;

  /* 2. stale findings */
  if ((rc = mg_store_tx_begin(s))) return rc;
  rc = mg_store_privacy_findings_stale(s, rep->findings_cutoff_us, dry_run, &rep->findings);
  snprintf(facts, sizeof facts, "{\"step\":\"findings\",\"deleted\":%lld,\"days\":%lld}",
           (long long)rep->findings, (long long)o->findings_days);
  if (!rc) rc = audit_step(s, o, dry_run, "findings", now_us, facts, rep);
  if ((rc = tx_end(s, rc))) return rc;

  /* 3. network fields of old statements, batch by batch from the cursor */
  char cur[32] = "0";
  rc = mg_store_setting_get(s, CURSOR_KEY, cur, sizeof cur);
  if (rc && rc != MG_ENOTFOUND) return rc;
  char *end = NULL;
  long long cursor = strtoll(cur, &end, 10);
  if (!end || *end || cursor < 0) cursor = 0;
  rep->cursor_seq = cursor;
  for (;;) {
    batch_ctx b = {s, rep->network_cutoff_us, dry_run, rep->cursor_seq, 0, 0, 0, 0};
    if ((rc = mg_store_tx_begin(s))) return rc;
    rc = mg_store_privacy_stmt_scan(s, rep->cursor_seq, batch, on_stmt, &b);
    if (rc == 1) rc = MG_OK; /* stopped at the cutoff */
    if (!rc && !dry_run && b.last_seq > rep->cursor_seq) {
      snprintf(cur, sizeof cur, "%lld", (long long)b.last_seq);
      rc = mg_store_setting_set(s, CURSOR_KEY, cur);
    }
    if (!rc && (b.reduced || (!dry_run && b.last_seq > rep->cursor_seq))) {
      snprintf(facts, sizeof facts,
               "{\"step\":\"network\",\"checked\":%lld,\"reduced\":%lld,\"from_seq\":%lld,"
               "\"to_seq\":%lld,\"days\":%lld}",
               (long long)b.checked, (long long)b.reduced, (long long)rep->cursor_seq + 1,
               (long long)b.last_seq, (long long)o->network_days);
      rc = audit_step(s, o, dry_run, "network", now_us, facts, rep);
    }
    if ((rc = tx_end(s, rc))) return rc;
    rep->statements_checked += b.checked;
    rep->statements_reduced += b.reduced;
    rep->cursor_seq = b.last_seq;
    if (progress) progress(ud, rep);
    if (b.reached_cutoff || b.seen < batch) break;
  }
  if (dry_run) rep->cursor_seq = cursor; /* nothing moved */
  return MG_OK;
}

int mg_privacy_retention_json(const mg_privacy_retention_report *r, mg_buf *out) {
  char now[MG_TIME_ISO_LEN], fc[MG_TIME_ISO_LEN], nc[MG_TIME_ISO_LEN];
  mg_time_format_iso(r->now_us, 3, now);
  mg_time_format_iso(r->findings_cutoff_us, 3, fc);
  mg_time_format_iso(r->network_cutoff_us, 3, nc);
  return mg_buf_addf(out,
                     "{\"dry_run\":%s,\"at\":\"%s\",\"sessions_deleted\":%lld,"
                     "\"findings_deleted\":%lld,\"findings_cutoff\":\"%s\","
                     "\"statements_checked\":%lld,\"statements_reduced\":%lld,"
                     "\"network_cutoff\":\"%s\",\"cursor_seq\":%lld,\"audit_records\":%lld}",
                     r->dry_run ? "true" : "false", now, (long long)r->sessions,
                     (long long)r->findings, fc, (long long)r->statements_checked,
                     (long long)r->statements_reduced, nc, (long long)r->cursor_seq,
                     (long long)r->audit_records);
}
