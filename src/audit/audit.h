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

/* ---- additions (audit unit) ----------------------------------------------------------------
 * Keys: records are hashed with SM3 and checkpoints signed with SM2 (GB/T 32918, SM3 digest)
 * using the current SM2 key of the key directory (crypto/keyring.h); checkpoints signed with
 * Ed25519 before the switch keep verifying with the directory's legacy keys. If no keyring is loaded when mg_audit_append first needs it,
 * the store's default directory ("<store path>.keys") is loaded, and created on first start. A
 * missing or unreadable key makes appends fail (alarm). mg_audit_append returns MG_EINVAL without
 * raising the alarm when ev itself is malformed (a caller bug: required field missing, a field
 * over 4096 bytes); every other failure raises it. */

/* Process-wide settings. Checkpoints are written by the append that makes the unsigned tail
 * reach checkpoint_every records, or that comes checkpoint_minutes or more after the last
 * checkpoint, and for the first record. retention_days is used by mg_audit_purge. */
typedef struct mg_audit_options {
  int64_t checkpoint_every;   /* >= 1; default 1000 */
  int64_t checkpoint_minutes; /* >= 1; default 60 */
  int64_t retention_days;     /* >= MG_AUDIT_MIN_RETENTION_DAYS; default 180 */
} mg_audit_options;
#define MG_AUDIT_MIN_RETENTION_DAYS 180
/* Sets the options; MG_EINVAL (nothing changed) if one is out of range. */
int mg_audit_configure(const mg_audit_options *o);
void mg_audit_options_get(mg_audit_options *o);

/* Signs the current chain head now if any record is not yet covered by a checkpoint (force), or
 * only when checkpoint_minutes have passed since the last one (force = 0). For a periodic timer
 * and for shutdown. *seq_out (may be NULL) gets the checkpointed seq, 0 if none was written. */
int mg_audit_checkpoint(mg_store *s, int force, int64_t *seq_out);

/* Retention purge: removes the records older than retention_days (as of now_us; 0 = now) up to
 * the newest checkpoint at or before that age, writes the anchor that lets verification resume
 * there, and appends an "audit.purge" record by actor/role. *purged (may be NULL) gets the count
 * (0 when nothing is old enough). Runs in its own transaction: call it outside mg_store_tx. */
int mg_audit_purge(mg_store *s, const char *actor, const char *role, int64_t now_us,
                   int64_t *purged);

/* The record hash (64 hex + NUL) of a stored row, as specified in docs/crypto.md: SM3 over
 * "MGAUDIT1" || u64be(seq) || u64be(at_us) || F(actor) || F(role) || F(action) ||
 * F(object_type) || F(object_id) || F(before_sm3) || F(after_sm3) || F(source_ip) ||
 * F(prev_hash), with F(x) = u32be(byte length) || bytes, and F(NULL) = u32be(0xffffffff). */
struct mg_store_audit_row;
int mg_audit_record_hash(const struct mg_store_audit_row *r, char out[65]);

/* Result of mg_audit_verify. When ok is 0, bad_seq is the first broken record (or the seq a
 * damaged checkpoint or anchor names) and problem says what is wrong there:
 * "hash_mismatch" (a field changed), "prev_link" (prev_hash differs from the previous record's
 * hash), "missing_seq" (a record was deleted or the order changed), "checkpoint_signature",
 * "checkpoint_mismatch" (a signed head differs from the record), "truncated" (the log ends
 * before the newest checkpoint's seq: its tail was removed), "anchor" (a purge anchor not at a
 * signed checkpoint), "corrupt" (the database file itself is damaged). Records appended after
 * the newest checkpoint are chained but not yet signed: removing them all is detectable only
 * against a head recorded elsewhere (see docs/crypto.md). */
typedef struct mg_audit_report {
  int ok;
  int64_t records;          /* records checked */
  int64_t first_seq, last_seq;
  int64_t checkpoints;      /* signatures checked */
  int64_t checkpoints_sm2;  /* of which SM2 (the rest: Ed25519, written before the switch) */
  int64_t last_checkpoint;  /* seq of the newest checkpoint (0: none) */
  int64_t anchors;
  int64_t purged_upto;      /* newest anchor's seq (0: never purged) */
  char head_hash[65];       /* hash of last_seq */
  int64_t bad_seq;
  const char *problem;      /* static string, NULL when ok */
  char detail[256];         /* human-readable, names the field or values that differ */
} mg_audit_report;

/* Walks the whole chain, every checkpoint signature (with the key directory's public keys) and
 * every anchor in one read snapshot. Returns MG_OK when the walk ran (the verdict is in
 * out->ok), else an error (store unreadable, no keys). */
int mg_audit_verify(mg_store *s, mg_audit_report *out);

#endif
