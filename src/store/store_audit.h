/* store/store_audit.h — rows of the audit log, its checkpoints and purge anchors.
 *
 * Storage only: src/audit computes the hashes and signatures and decides when to checkpoint or
 * purge. The tables are append-only (SQLite triggers refuse UPDATE and DELETE; the one exception
 * is deleting records covered by a purge anchor, see mg_store_audit_purge). Writes go through
 * the governance connection and join the calling thread's open transaction (mg_store_tx_begin).
 * All strings in rows handed to callbacks are borrowed for the duration of the call. */
#ifndef MG_STORE_STORE_AUDIT_H
#define MG_STORE_STORE_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

typedef struct mg_store_audit_row {
  int64_t seq;
  int64_t at_us;
  const char *actor, *role, *action, *object_type;
  const char *object_id, *before_sm3, *after_sm3, *source_ip; /* may be NULL */
  const char *prev_hash; /* 64 hex */
  const char *hash;      /* 64 hex */
} mg_store_audit_row;

typedef struct mg_store_audit_ckpt {
  int64_t seq;
  char hash[65];
  int64_t record_at_us;
  int64_t created_us;
  uint32_t key_id;
  char alg[16];          /* "sm2", or "ed25519" for checkpoints from before migration 014 */
  char public_key[131];  /* hex; SM2: 04 || x || y (130 digits), Ed25519: 64 digits */
  char signature[129];   /* hex of 64 bytes; SM2: r || s */
} mg_store_audit_ckpt;

typedef struct mg_store_audit_anchor {
  int64_t id;
  int64_t upto_seq;
  char hash[65];
  int64_t purged_us;
  int64_t n_purged;
  int64_t retention_days;
} mg_store_audit_anchor;

/* The chain's end as seen inside the append unit. */
typedef struct mg_store_audit_tip {
  int64_t seq;           /* last record (0: none yet; after a purge of everything, the anchor) */
  char hash[65];         /* its hash (64 zeros when seq is 0) */
  int64_t ckpt_seq;      /* last checkpoint (0: none) */
  int64_t ckpt_us;       /* when it was made */
} mg_store_audit_tip;

/* Opens an append unit: takes the governance connection (held until mg_store_audit_end on this
 * thread) and either joins the caller's transaction through a savepoint or, when none is open,
 * begins an IMMEDIATE one, so reading the tip and inserting are atomic across processes.
 * *unit records which (pass it to end). */
int mg_store_audit_begin(mg_store *s, int *unit);
/* Closes the unit: commit = 0 undoes everything since begin (only what the unit wrote: the
 * caller's transaction stays open). Returns the commit's result. */
int mg_store_audit_end(mg_store *s, int unit, int commit);
/* Within a unit: the current tip. */
int mg_store_audit_tip_get(mg_store *s, mg_store_audit_tip *out);
/* Within a unit: inserts one record / one checkpoint. */
int mg_store_audit_insert(mg_store *s, const mg_store_audit_row *r);
int mg_store_audit_ckpt_insert(mg_store *s, const mg_store_audit_ckpt *c);
/* Within a unit: the newest checkpoint whose record time is at or before cutoff_us, that lies
 * above the newest anchor. MG_ENOTFOUND if none. */
int mg_store_audit_purge_point(mg_store *s, int64_t cutoff_us, mg_store_audit_ckpt *out);
/* Within a unit: writes anchor a (upto_seq must be a checkpoint's) and deletes records
 * 1..a->upto_seq; *n_deleted (may be NULL) gets how many. */
int mg_store_audit_purge(mg_store *s, const mg_store_audit_anchor *a, int64_t *n_deleted);

/* A whole-log read for verification, in one read snapshot on a pooled read-only connection
 * (governance writers are not blocked): every anchor (by upto_seq), every checkpoint (by seq),
 * then every record (by seq). A callback returning non-zero stops the walk and that value is
 * returned. Corruption the database itself notices is MG_ECORRUPT. */
typedef struct mg_store_audit_walker {
  int (*anchor)(void *ud, const mg_store_audit_anchor *a);
  int (*ckpt)(void *ud, const mg_store_audit_ckpt *c);
  int (*row)(void *ud, const mg_store_audit_row *r);
  void *ud;
} mg_store_audit_walker;
int mg_store_audit_walk(mg_store *s, const mg_store_audit_walker *w);

/* Records with seq > after_seq in ascending order, at most limit (1..1000), for the audit API
 * and exports; *more is set when further records exist. */
int mg_store_audit_list(mg_store *s, int64_t after_seq, size_t limit,
                        int (*cb)(void *ud, const mg_store_audit_row *r), void *ud, int *more);

#endif
