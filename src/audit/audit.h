/* audit/audit.h — the append-only, hash-chained audit log (GB/T 22239-2019 level 3, 安全审计).
 *
 * Every state change made by a person or a platform is appended here: who, role, what, which
 * object, digests of the object before and after, source IP and time, and the SM3 hash of the
 * previous record, so that changing or deleting any record breaks the chain from that record on.
 * Periodic checkpoints sign the chain head. The store keeps the rows; this module computes the
 * hashes, writes checkpoints and verifies. Append inside the caller's store transaction
 * (mg_store_tx_begin) so that a change and its record commit together; when appending fails the
 * caller must roll back: a change that cannot be audited is refused, and the alarm is raised. */
#ifndef MG_AUDIT_AUDIT_H
#define MG_AUDIT_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

typedef struct mg_audit_event {
  const char *actor;        /* user name, "platform:<key>" or "system"; required */
  const char *role;         /* role name ("univ_admin", ...); required */
  const char *action;       /* what was done, e.g. the capability "platform.set_status"; required */
  const char *object_type;  /* "platform", "course", "case", ...; required */
  const char *object_id;    /* may be NULL */
  const void *before;       /* canonical bytes of the object before the change (NULL: created) */
  size_t before_len;
  const void *after;        /* canonical bytes after (NULL: deleted) */
  size_t after_len;
  const char *source_ip;    /* may be NULL */
  int64_t at_us;            /* wall-clock time; 0 = now */
} mg_audit_event;

/* Appends one record; *seq_out (may be NULL) gets its sequence number. Only digests of before/
 * after are kept. On failure the alarm is raised (mg_audit_alarm) and an error returned. */
int mg_audit_append(mg_store *s, const mg_audit_event *ev, int64_t *seq_out);

/* True while audit writing is failing (cleared by the next successful append). */
int mg_audit_alarm(void);

#endif
