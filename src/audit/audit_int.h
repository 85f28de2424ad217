/* audit/audit_int.h — private to src/audit: shared by append (audit.c) and verify (verify.c). */
#ifndef MG_AUDIT_AUDIT_INT_H
#define MG_AUDIT_AUDIT_INT_H

#include "core/buf.h"
#include "store/store.h"
#include "store/store_audit.h"

/* Appends the signed message of checkpoint c (docs/crypto.md):
 * P || u64be(seq) || F(hash) || u64be(record_at_us) || u64be(created_us) || u32be(key_id), with
 * P = "MGCKPT02" for c->alg "sm2" and "MGCKPT01" for "ed25519"; MG_EINVAL for any other alg. */
int mg_audit_ckpt_message(const mg_store_audit_ckpt *c, mg_buf *b);
/* Loads the store's default key directory unless keys are loaded; create: generate it on first
 * start (appends), or not (verification must not invent keys). */
int mg_audit_keys_ensure(mg_store *s, int create);

#endif
