/* store/store_privacy.h — storage for personal-information operations (schema:
 * migrations/sqlite/007_privacy.sql): face-verification consent records and the deletions and
 * rewrites the retention job makes in other areas' tables.
 *
 * Rule-free: what is kept how long, and what a statement keeps of its network fields, is decided
 * in src/privacy. Every function runs on the governance connection and joins the calling thread's
 * open transaction (mg_store_tx_begin), so a retention step and its audit record commit together. */
#ifndef MG_STORE_STORE_PRIVACY_H
#define MG_STORE_STORE_PRIVACY_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* ---- consent records ---------------------------------------------------------------------- */

typedef struct mg_store_consent {
  int64_t id;
  int64_t student_id;
  int64_t user_id;
  char purpose[16];          /* "face" */
  int granted;               /* 1 grant, 0 withdrawal */
  char notice_version[32];
  char notice_digest[65];    /* SHA-256 hex of the notice text shown */
  char client_ip[64];
  int64_t at_us;
} mg_store_consent;

/* Appends a record (id ignored); *out_id (may be NULL) gets its id. MG_EINVAL for an empty
 * purpose/version or over-long text. */
int mg_store_consent_add(mg_store *s, const mg_store_consent *c, int64_t *out_id);
/* The student's records for purpose, oldest first. */
int mg_store_consent_list(mg_store *s, int64_t student_id, const char *purpose,
                          int (*cb)(void *ud, const mg_store_consent *c), void *ud);
/* The newest record at or before at_us (INT64_MAX: the current one). MG_ENOTFOUND if none. */
int mg_store_consent_at(mg_store *s, int64_t student_id, const char *purpose, int64_t at_us,
                        mg_store_consent *out);

/* ---- retention ---------------------------------------------------------------------------- */

/* Sessions (console and bearer) idle since before idle_before_us or created before
 * absolute_before_us: they can never be used again, and they hold a client IP. Deletes them
 * unless dry_run; *n gets how many (would) go. */
int mg_store_privacy_sessions_expired(mg_store *s, int64_t idle_before_us,
                                      int64_t absolute_before_us, int dry_run, int64_t *n);

/* Findings nobody pursues: status 'dismissed' and created before before_us, or covered by a case
 * that was dismissed before before_us. Deletes them unless dry_run; *n gets how many (would) go.
 * The dismissed case keeps its own copy of the evidence (case_inbox), as the cases area keeps
 * everything. */
int mg_store_privacy_findings_stale(mg_store *s, int64_t before_us, int dry_run, int64_t *n);

/* Statements with seq > after_seq in seq order, at most limit: cb gets each one's seq, stored
 * time and JSON (valid during the call). A non-zero return from cb stops and is returned. */
int mg_store_privacy_stmt_scan(mg_store *s, int64_t after_seq, size_t limit,
                               int (*cb)(void *ud, int64_t seq, int64_t stored_us,
                                         const char *json, size_t len),
                               void *ud);
/* Replaces the stored JSON of statement seq (what GET returns). Its id, filter keys and the
 * digest a re-post is compared with are unchanged. MG_ENOTFOUND if absent. */
int mg_store_privacy_stmt_set_json(mg_store *s, int64_t seq, const char *json, size_t len);

#endif
