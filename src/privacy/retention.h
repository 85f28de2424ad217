/* privacy/retention.h — the retention job: personal data past its retention period is deleted or
 * reduced (PIPL art. 19, 47; the periods are docs/privacy.md's inventory).
 *
 * One run, at an injected time now_us, does in order, each step in its own store transaction
 * that also appends the step's audit record (counts only, never content):
 *   1. sessions: delete sessions that expired (idle or absolute limit) — they hold a client IP;
 *   2. findings: delete findings dismissed, or covered by a case dismissed, more than
 *      findings_days ago (the dismissed case keeps its own evidence copy);
 *   3. network fields: in statements stored more than network_days ago, cut
 *      context.extensions client-ip to its /24 (IPv4) or /48 (IPv6) network and drop device-id
 *      and user-agent, in batches; a cursor (setting "privacy.network_seq") remembers how far
 *      it got, so each statement is rewritten once.
 * The audit log is never touched here: its own purge (mg_audit_purge, `moocguard audit-purge`)
 * belongs to the audit administrator and keeps at least 180 days. A dry run changes nothing and
 * reports what would go; it is audited too ("retention.dry_run"). Not built: deleting whole
 * statements after retention-statements (the statement store's segments would need rewriting). */
#ifndef MG_PRIVACY_RETENTION_H
#define MG_PRIVACY_RETENTION_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/config.h"
#include "store/store.h"

typedef struct mg_privacy_retention_opts {
  int64_t session_idle_s;      /* session-idle */
  int64_t session_absolute_s;  /* session-absolute */
  int64_t findings_days;       /* retention-findings-days, >= 30 */
  int64_t network_days;        /* retention-network-days, >= 30 */
  size_t batch;                /* statements per transaction (default 2000) */
  const char *actor;           /* audit actor ("system" by default) */
} mg_privacy_retention_opts;

typedef struct mg_privacy_retention_report {
  int dry_run;
  int64_t now_us;
  int64_t sessions;            /* deleted (or that would be) */
  int64_t findings;
  int64_t statements_checked;  /* old enough and looked at */
  int64_t statements_reduced;  /* whose network fields were (or would be) reduced */
  int64_t network_cutoff_us, findings_cutoff_us;
  int64_t cursor_seq;          /* statements up to this seq are done */
  int64_t audit_records;       /* appended by this run */
} mg_privacy_retention_report;

/* Options from the settings (session-idle, session-absolute, retention-*). */
void mg_privacy_retention_opts_from(const mg_config *cfg, mg_privacy_retention_opts *o);

/* Runs the job (see above). progress (may be NULL) is called after each statement batch.
 * Returns MG_OK or the first error (steps done before it stay done and audited); MG_EINVAL for
 * options out of range. */
int mg_privacy_retention_run(mg_store *s, const mg_privacy_retention_opts *o, int64_t now_us,
                             int dry_run, mg_privacy_retention_report *rep,
                             void (*progress)(void *ud, const mg_privacy_retention_report *r),
                             void *ud);

/* The report as one JSON object into out. */
int mg_privacy_retention_json(const mg_privacy_retention_report *r, mg_buf *out);

/* Reduces one statement's network fields (for the job and its tests): json in, *out (arena
 * text) and *changed. A statement without them, or already reduced, is unchanged. */
struct mg_arena;
int mg_privacy_reduce_statement(struct mg_arena *a, const char *json, size_t len, char **out,
                                size_t *out_len, int *changed);

#endif
