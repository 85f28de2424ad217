/* audit/audit.c — appending to the hash chain, checkpoints, alarm, retention purge. */
#include "audit/audit.h"

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "audit/audit_int.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/log.h"
#include "core/time.h"
#include "crypto/crypto.h"
#include "crypto/keyring.h"
#include "crypto/sm2.h"
#include "store/store_audit.h"
#include "store/store_backup.h"

#define FIELD_MAX 4096

static atomic_int g_alarm;
static pthread_mutex_t g_opt_mu = PTHREAD_MUTEX_INITIALIZER;
static mg_audit_options g_opt = {1000, 60, MG_AUDIT_MIN_RETENTION_DAYS};

int mg_audit_alarm(void) { return atomic_load(&g_alarm); }

int mg_audit_configure(const mg_audit_options *o) {
  if (!o || o->checkpoint_every < 1 || o->checkpoint_minutes < 1 ||
      o->checkpoint_minutes > INT64_MAX / 60000000 ||
      o->retention_days < MG_AUDIT_MIN_RETENTION_DAYS || o->retention_days > 36500)
    return MG_EINVAL;
  pthread_mutex_lock(&g_opt_mu);
  g_opt = *o;
  pthread_mutex_unlock(&g_opt_mu);
  return MG_OK;
}

void mg_audit_options_get(mg_audit_options *o) {
  pthread_mutex_lock(&g_opt_mu);
  *o = g_opt;
  pthread_mutex_unlock(&g_opt_mu);
}

/* ---- canonical encodings (docs/crypto.md) ------------------------------------------------- */

static int put_u64(mg_buf *b, uint64_t v) {
  uint8_t x[8];
  for (int i = 0; i < 8; i++) x[i] = (uint8_t)(v >> (56 - 8 * i));
  return mg_buf_add(b, x, 8);
}

static int put_u32(mg_buf *b, uint32_t v) {
  uint8_t x[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
  return mg_buf_add(b, x, 4);
}

static int put_field(mg_buf *b, const char *s) {
  if (!s) return put_u32(b, 0xffffffffu);
  size_t n = strlen(s);
  if (n >= 0xffffffffu) return MG_ETOOBIG;
  int rc = put_u32(b, (uint32_t)n);
  return rc ? rc : mg_buf_add(b, s, n);
}

int mg_audit_record_hash(const mg_store_audit_row *r, char out[65]) {
  mg_buf b;
  mg_buf_init(&b, 16 * FIELD_MAX + 1024);
  int rc = mg_buf_add(&b, "MGAUDIT1", 8);
  if (!rc) rc = put_u64(&b, (uint64_t)r->seq);
  if (!rc) rc = put_u64(&b, (uint64_t)r->at_us);
  const char *f[] = {r->actor,    r->role,      r->action,    r->object_type, r->object_id,
                     r->before_sm3, r->after_sm3, r->source_ip, r->prev_hash};
  for (size_t i = 0; !rc && i < sizeof f / sizeof f[0]; i++) rc = put_field(&b, f[i]);
  if (!rc) rc = mg_sm3_hex(b.data, b.len, out);
  mg_buf_free(&b);
  return rc;
}

int mg_audit_ckpt_message(const mg_store_audit_ckpt *c, mg_buf *b) {
  /* the prefix names the algorithm, so a signature cannot be re-labelled as the other one */
  const char *prefix = !strcmp(c->alg, "sm2") ? "MGCKPT02" : !strcmp(c->alg, "ed25519") ? "MGCKPT01" : NULL;
  if (!prefix) return MG_EINVAL;
  int rc = mg_buf_add(b, prefix, 8);
  if (!rc) rc = put_u64(b, (uint64_t)c->seq);
  if (!rc) rc = put_field(b, c->hash);
  if (!rc) rc = put_u64(b, (uint64_t)c->record_at_us);
  if (!rc) rc = put_u64(b, (uint64_t)c->created_us);
  if (!rc) rc = put_u32(b, c->key_id);
  return rc;
}

/* ---- keys ----------------------------------------------------------------------------------- */

static int keys_load(mg_store *s, int create);

static pthread_mutex_t g_keys_mu = PTHREAD_MUTEX_INITIALIZER;

int mg_audit_keys_ensure(mg_store *s, int create) {
  if (mg_keyring_ready()) return MG_OK;
  pthread_mutex_lock(&g_keys_mu); /* threads appending at first start load the directory once */
  int rc = mg_keyring_ready() ? MG_OK : keys_load(s, create);
  pthread_mutex_unlock(&g_keys_mu);
  return rc;
}

static int keys_load(mg_store *s, int create) {
  char path[4096], dir[4200];
  int rc = mg_store_file_path(s, path, sizeof path);
  if (!rc) rc = mg_keyring_dir_for_store(path, dir, sizeof dir);
  if (!rc) rc = mg_keyring_init(dir, create ? MG_KEYRING_CREATE : 0);
  return rc;
}

/* ---- append ---------------------------------------------------------------------------------- */

static int alarm_raise(int rc, const char *what) {
  atomic_store(&g_alarm, 1);
  mg_log(MG_LOG_ERROR, "audit.alarm", "op", what, "error", mg_strerror(rc), "msg",
         "audit record could not be written; the change is refused", NULL);
  return rc;
}

static int field_ok(const char *s, int required) {
  if (!s) return !required;
  size_t n = strnlen(s, FIELD_MAX + 1);
  return n <= FIELD_MAX && (n > 0 || !required);
}

/* Signs the head (seq, hash, at) with the current SM2 key into a new checkpoint row. Within a
 * unit. */
static int write_checkpoint(mg_store *s, int64_t seq, const char *hash, int64_t at_us) {
  mg_store_audit_ckpt c;
  memset(&c, 0, sizeof c);
  c.seq = seq;
  snprintf(c.hash, sizeof c.hash, "%s", hash);
  c.record_at_us = at_us;
  c.created_us = mg_time_now_us();
  snprintf(c.alg, sizeof c.alg, "sm2");
  mg_buf m;
  mg_buf_init(&m, 1024);
  uint8_t sig[MG_SM2_SIG_LEN], pk[MG_SM2_PUB_LEN];
  mg_keyring_status ks;
  int rc = mg_keyring_status_get(&ks); /* the key id is part of the signed message */
  if (!rc && !ks.n_sign) rc = MG_ECRYPTO; /* pre-SM2 key directory not yet upgraded */
  c.key_id = ks.sign_current;
  if (!rc) rc = mg_audit_ckpt_message(&c, &m);
  uint32_t kid = 0;
  if (!rc) rc = mg_keyring_sm2_sign(m.data, m.len, &kid, sig);
  if (!rc && kid != c.key_id) rc = MG_EBUSY; /* rotated in between: caller retries */
  if (!rc) rc = mg_keyring_sm2_public(kid, pk);
  if (!rc) {
    mg_hex(pk, sizeof pk, c.public_key);
    mg_hex(sig, sizeof sig, c.signature);
    rc = mg_store_audit_ckpt_insert(s, &c);
  }
  mg_buf_free(&m);
  return rc;
}

static int due(const mg_store_audit_tip *t, int64_t seq, int64_t now) {
  mg_audit_options o;
  mg_audit_options_get(&o);
  if (seq <= t->ckpt_seq) return 0;
  if (!t->ckpt_seq) return 1;
  return seq - t->ckpt_seq >= o.checkpoint_every || now - t->ckpt_us >= o.checkpoint_minutes * 60000000;
}

int mg_audit_append(mg_store *s, const mg_audit_event *ev, int64_t *seq_out) {
  if (seq_out) *seq_out = 0;
  if (!s || !ev || !field_ok(ev->actor, 1) || !field_ok(ev->role, 1) || !field_ok(ev->action, 1) ||
      !field_ok(ev->object_type, 1) || !field_ok(ev->object_id, 0) ||
      !field_ok(ev->source_ip, 0) || (ev->before_len && !ev->before) || (ev->after_len && !ev->after)) {
    mg_log(MG_LOG_WARN, "audit.invalid", "msg", "malformed audit event (caller bug)", NULL);
    return MG_EINVAL;
  }
  char before[MG_SM3_HEX], after[MG_SM3_HEX], hash[MG_SM3_HEX];
  int rc = mg_audit_keys_ensure(s, 1);
  if (rc) return alarm_raise(rc, "keys");
  if (ev->before && (rc = mg_sm3_hex(ev->before, ev->before_len, before)))
    return alarm_raise(rc, "digest");
  if (ev->after && (rc = mg_sm3_hex(ev->after, ev->after_len, after)))
    return alarm_raise(rc, "digest");
  int unit = 0;
  if ((rc = mg_store_audit_begin(s, &unit))) return alarm_raise(rc, "begin");
  mg_store_audit_tip tip;
  int64_t now = mg_time_now_us();
  if ((rc = mg_store_audit_tip_get(s, &tip))) goto fail;
  mg_store_audit_row r = {
      .seq = tip.seq + 1,
      .at_us = ev->at_us ? ev->at_us : now,
      .actor = ev->actor,
      .role = ev->role,
      .action = ev->action,
      .object_type = ev->object_type,
      .object_id = ev->object_id,
      .before_sm3 = ev->before ? before : NULL,
      .after_sm3 = ev->after ? after : NULL,
      .source_ip = ev->source_ip,
      .prev_hash = tip.hash,
      .hash = hash,
  };
  if ((rc = mg_audit_record_hash(&r, hash))) goto fail;
  if ((rc = mg_store_audit_insert(s, &r))) goto fail;
  if (due(&tip, r.seq, now) && (rc = write_checkpoint(s, r.seq, hash, r.at_us))) goto fail;
  if ((rc = mg_store_audit_end(s, unit, 1))) return alarm_raise(rc, "commit");
  atomic_store(&g_alarm, 0);
  if (seq_out) *seq_out = r.seq;
  return MG_OK;
fail:
  mg_store_audit_end(s, unit, 0);
  return alarm_raise(rc, "append");
}

/* ---- checkpoints and purge ----------------------------------------------------------------- */

/* at_us of record seq via the list call (records are few per call; this runs rarely). */
typedef struct at_find {
  int64_t seq, at_us;
  int found;
} at_find;

static int at_cb(void *ud, const mg_store_audit_row *r) {
  at_find *f = ud;
  if (r->seq == f->seq) {
    f->at_us = r->at_us;
    f->found = 1;
  }
  return MG_OK;
}

int mg_audit_checkpoint(mg_store *s, int force, int64_t *seq_out) {
  if (seq_out) *seq_out = 0;
  int rc = mg_audit_keys_ensure(s, 1);
  if (rc) return rc;
  int unit = 0;
  if ((rc = mg_store_audit_begin(s, &unit))) return rc;
  mg_store_audit_tip tip;
  int64_t now = mg_time_now_us();
  if ((rc = mg_store_audit_tip_get(s, &tip))) goto out;
  if (tip.seq > tip.ckpt_seq && (force || due(&tip, tip.seq, now) || !tip.ckpt_seq)) {
    at_find f = {tip.seq, 0, 0};
    if ((rc = mg_store_audit_list(s, tip.seq - 1, 1, at_cb, &f, NULL))) goto out;
    if (!f.found) {
      rc = MG_ENOTFOUND; /* everything purged: the anchor already covers the head */
      goto out;
    }
    if ((rc = write_checkpoint(s, tip.seq, tip.hash, f.at_us))) goto out;
    if (seq_out) *seq_out = tip.seq;
  }
out:
  if (rc == MG_ENOTFOUND) rc = MG_OK;
  int rc2 = mg_store_audit_end(s, unit, rc == MG_OK);
  return rc ? rc : rc2;
}

int mg_audit_purge(mg_store *s, const char *actor, const char *role, int64_t now_us,
                   int64_t *purged) {
  if (purged) *purged = 0;
  if (!s || !actor || !role) return MG_EINVAL;
  mg_audit_options o;
  mg_audit_options_get(&o);
  if (o.retention_days < MG_AUDIT_MIN_RETENTION_DAYS) return MG_EINVAL;
  if (!now_us) now_us = mg_time_now_us();
  int64_t cutoff = now_us - o.retention_days * 86400LL * 1000000LL;
  int rc = mg_store_tx_begin(s);
  if (rc) return rc;
  mg_store_audit_ckpt c;
  int64_t n = 0;
  int unit = 0;
  if ((rc = mg_store_audit_begin(s, &unit))) goto out;
  rc = mg_store_audit_purge_point(s, cutoff, &c);
  if (!rc) {
    mg_store_audit_anchor a;
    memset(&a, 0, sizeof a);
    a.upto_seq = c.seq;
    snprintf(a.hash, sizeof a.hash, "%s", c.hash);
    a.purged_us = now_us;
    a.retention_days = o.retention_days;
    rc = mg_store_audit_purge(s, &a, &n);
  }
  int rc2 = mg_store_audit_end(s, unit, rc == MG_OK);
  if (rc == MG_ENOTFOUND) { /* nothing old enough at a checkpoint */
    rc = rc2;
    goto out;
  }
  if (!rc) rc = rc2;
  if (!rc) {
    char id[64];
    snprintf(id, sizeof id, "1-%lld", (long long)c.seq);
    mg_audit_event ev = {.actor = actor, .role = role, .action = "audit.purge",
                         .object_type = "audit_log", .object_id = id};
    rc = mg_audit_append(s, &ev, NULL);
  }
out:
  if (!rc) rc = mg_store_tx_commit(s);
  else mg_store_tx_rollback(s);
  if (!rc && purged) *purged = n;
  if (!rc && n) {
    char num[32];
    snprintf(num, sizeof num, "%lld", (long long)n);
    mg_log(MG_LOG_INFO, "audit.purged", "records", num, "actor", actor, NULL);
  }
  return rc;
}
