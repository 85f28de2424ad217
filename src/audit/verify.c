/* audit/verify.c — walks the chain, checkpoints and anchors and names the first break. */
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "audit/audit_int.h"
#include "core/buf.h"
#include "core/err.h"
#include "crypto/crypto.h"
#include "crypto/keyring.h"
#include "crypto/sm2.h"
#include "store/store_audit.h"

#define DAY_US (86400LL * 1000000LL)

typedef struct ck {
  int64_t seq, record_at_us;
  char hash[65];
} ck;

typedef struct vstate {
  mg_audit_report *rep;
  mg_store_audit_anchor *anchors;
  size_t n_anchors, cap_anchors;
  ck *cks;
  size_t n_cks, cap_cks;
  size_t ck_next;      /* next checkpoint to match against records */
  int64_t expect;      /* next seq expected */
  char prev[65];       /* hash the next record must link to */
  int stop;            /* a record problem was found: the rest is not checked */
  int keys_rc;         /* why the key directory could not be loaded (needed for checkpoints) */
} vstate;

/* Keeps the problem with the lowest seq: the first broken record. */
static void problem(vstate *v, int64_t seq, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void problem(vstate *v, int64_t seq, const char *what, const char *fmt, ...) {
  mg_audit_report *r = v->rep;
  if (!r->ok && r->bad_seq <= seq) return;
  r->ok = 0;
  r->bad_seq = seq;
  r->problem = what;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(r->detail, sizeof r->detail, fmt, ap);
  va_end(ap);
}

static int on_anchor(void *ud, const mg_store_audit_anchor *a) {
  vstate *v = ud;
  if (v->n_anchors == v->cap_anchors) {
    size_t cap = v->cap_anchors ? v->cap_anchors * 2 : 8;
    void *p = realloc(v->anchors, cap * sizeof *v->anchors);
    if (!p) return MG_ENOMEM;
    v->anchors = p;
    v->cap_anchors = cap;
  }
  v->anchors[v->n_anchors++] = *a;
  /* ascending upto_seq: the last one seen is where the kept chain resumes */
  v->rep->anchors++;
  v->rep->purged_upto = a->upto_seq;
  v->expect = a->upto_seq + 1;
  snprintf(v->prev, sizeof v->prev, "%s", a->hash);
  return MG_OK;
}

/* Strict lower-case hex of exactly 2 * n digits into out; 0 if s is anything else (upper case
 * too: a stored value has one spelling, so any edit of it is seen). */
static int hex_exact(const char *s, uint8_t *out, size_t n) {
  if (strlen(s) != 2 * n) return 0;
  for (size_t i = 0; i < 2 * n; i++)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return 0;
  size_t bl = 0;
  return !sodium_hex2bin(out, n, s, 2 * n, NULL, &bl, NULL) && bl == n;
}

static int check_signature(vstate *v, const mg_store_audit_ckpt *c) {
  if (v->keys_rc) return v->keys_rc;
  int sm2 = !strcmp(c->alg, "sm2");
  if (!sm2 && strcmp(c->alg, "ed25519")) {
    problem(v, c->seq, "checkpoint_signature",
            "checkpoint at seq %lld: unknown signature algorithm (alg must be sm2 or ed25519)",
            (long long)c->seq);
    return MG_OK;
  }
  const char *name = sm2 ? "SM2" : "Ed25519";
  uint8_t sig[64], pk[MG_SM2_PUB_LEN];
  size_t pk_len = sm2 ? MG_SM2_PUB_LEN : 32;
  char pkhex[2 * MG_SM2_PUB_LEN + 1];
  if (!hex_exact(c->signature, sig, sizeof sig)) {
    problem(v, c->seq, "checkpoint_signature",
            "checkpoint at seq %lld: %s signature is not 128 lower-case hex digits",
            (long long)c->seq, name);
    return MG_OK;
  }
  int rc = sm2 ? mg_keyring_sm2_public(c->key_id, pk) : mg_keyring_ed25519_public(c->key_id, pk);
  if (rc == MG_ENOTFOUND) {
    problem(v, c->seq, "checkpoint_signature",
            "checkpoint at seq %lld: %s signing key %u (%s-%08u.key) is not in the key directory",
            (long long)c->seq, name, c->key_id, sm2 ? "sm2" : "sign", c->key_id);
    return MG_OK;
  }
  if (rc) return rc;
  mg_hex(pk, pk_len, pkhex);
  if (strcmp(pkhex, c->public_key)) {
    problem(v, c->seq, "checkpoint_signature",
            "checkpoint at seq %lld: public key stored with it differs from %s key %u in the key "
            "directory", (long long)c->seq, name, c->key_id);
    return MG_OK;
  }
  mg_buf m;
  mg_buf_init(&m, 1024);
  rc = mg_audit_ckpt_message(c, &m);
  if (!rc) {
    int vr = sm2 ? mg_keyring_sm2_verify(c->key_id, m.data, m.len, sig)
                 : mg_keyring_ed25519_verify(c->key_id, m.data, m.len, sig);
    if (vr == MG_ECORRUPT)
      problem(v, c->seq, "checkpoint_signature",
              "checkpoint at seq %lld: %s signature does not verify (key %u)", (long long)c->seq,
              name, c->key_id);
    else rc = vr;
  }
  mg_buf_free(&m);
  return rc;
}

static int on_ckpt(void *ud, const mg_store_audit_ckpt *c) {
  vstate *v = ud;
  if (v->n_cks == v->cap_cks) {
    size_t cap = v->cap_cks ? v->cap_cks * 2 : 64;
    void *p = realloc(v->cks, cap * sizeof *v->cks);
    if (!p) return MG_ENOMEM;
    v->cks = p;
    v->cap_cks = cap;
  }
  ck *k = &v->cks[v->n_cks++];
  k->seq = c->seq;
  k->record_at_us = c->record_at_us;
  snprintf(k->hash, sizeof k->hash, "%s", c->hash);
  v->rep->checkpoints++;
  if (!strcmp(c->alg, "sm2")) v->rep->checkpoints_sm2++;
  v->rep->last_checkpoint = c->seq;
  return check_signature(v, c);
}

/* A stored hash as quoted in a report: tampered text could be anything (invalid UTF-8, control
 * bytes), so only a well-formed hash is shown. */
static const char *shown_hash(const char *h) {
  if (!h) return "(null)";
  size_t n = 0;
  while (n < 65 && ((h[n] >= '0' && h[n] <= '9') || (h[n] >= 'a' && h[n] <= 'f'))) n++;
  return n == 64 && !h[64] ? h : "(not 64 hex digits)";
}

static int on_row(void *ud, const mg_store_audit_row *r) {
  vstate *v = ud;
  mg_audit_report *rep = v->rep;
  if (v->stop) return MG_OK;
  if (r->seq <= rep->purged_upto) return MG_OK; /* left over below an anchor: not in the chain */
  if (!rep->ok && r->seq > rep->bad_seq) { /* nothing after the first problem matters */
    v->stop = 1;
    return MG_OK;
  }
  if (r->seq != v->expect) {
    problem(v, v->expect, "missing_seq", "record %lld is missing (the next record present is %lld)",
            (long long)v->expect, (long long)r->seq);
    v->stop = 1;
    return MG_OK;
  }
  if (!r->prev_hash || strcmp(r->prev_hash, v->prev)) {
    problem(v, r->seq, "prev_link",
            "record %lld: prev_hash %.64s does not equal the hash of record %lld (%.64s)",
            (long long)r->seq, shown_hash(r->prev_hash), (long long)r->seq - 1, shown_hash(v->prev));
    v->stop = 1;
    return MG_OK;
  }
  char h[65];
  int rc = mg_audit_record_hash(r, h);
  if (rc) return rc;
  if (!r->hash || strcmp(h, r->hash)) {
    problem(v, r->seq, "hash_mismatch",
            "record %lld: stored hash %.64s, recomputed %s: a field of this record was changed",
            (long long)r->seq, shown_hash(r->hash), h);
    v->stop = 1;
    return MG_OK;
  }
  while (v->ck_next < v->n_cks && v->cks[v->ck_next].seq < r->seq) v->ck_next++;
  if (v->ck_next < v->n_cks && v->cks[v->ck_next].seq == r->seq) {
    const ck *k = &v->cks[v->ck_next];
    if (strcmp(k->hash, r->hash) || k->record_at_us != r->at_us) {
      problem(v, r->seq, "checkpoint_mismatch",
              "record %lld differs from the head signed at its checkpoint (signed hash %.64s)",
              (long long)r->seq, shown_hash(k->hash));
      v->stop = 1;
      return MG_OK;
    }
  }
  if (!rep->records) rep->first_seq = r->seq;
  rep->records++;
  rep->last_seq = r->seq;
  snprintf(rep->head_hash, sizeof rep->head_hash, "%s", r->hash);
  snprintf(v->prev, sizeof v->prev, "%s", r->hash);
  v->expect = r->seq + 1;
  return MG_OK;
}

/* Anchors come first in the walk but are judged against the checkpoints. */
static void check_anchors(vstate *v) {
  for (size_t i = 0; i < v->n_anchors; i++) {
    const mg_store_audit_anchor *a = &v->anchors[i];
    const ck *k = NULL;
    for (size_t j = 0; j < v->n_cks && !k; j++)
      if (v->cks[j].seq == a->upto_seq) k = &v->cks[j];
    if (!k || strcmp(k->hash, a->hash)) {
      problem(v, a->upto_seq, "anchor", "purge anchor at seq %lld is not a signed checkpoint",
              (long long)a->upto_seq);
    } else if (a->retention_days < MG_AUDIT_MIN_RETENTION_DAYS ||
               k->record_at_us > a->purged_us - a->retention_days * DAY_US) {
      problem(v, a->upto_seq, "anchor",
              "purge anchor at seq %lld removed records younger than the retention period "
              "(%lld days)", (long long)a->upto_seq, (long long)a->retention_days);
    }
  }
}

int mg_audit_verify(mg_store *s, mg_audit_report *out) {
  if (!s || !out) return MG_EINVAL;
  memset(out, 0, sizeof *out);
  out->ok = 1;
  vstate v;
  memset(&v, 0, sizeof v);
  v.keys_rc = mg_audit_keys_ensure(s, 0); /* an empty log needs none */
  v.rep = out;
  v.expect = 1;
  memset(v.prev, '0', 64);
  /* One snapshot: anchors first (where the chain resumes), checkpoints, then records. */
  mg_store_audit_walker w = {on_anchor, on_ckpt, on_row, &v};
  int rc = mg_store_audit_walk(s, &w);
  if (rc == MG_ECORRUPT) {
    problem(&v, v.expect, "corrupt", "the database file is damaged near record %lld",
            (long long)v.expect);
    rc = MG_OK;
  }
  if (!rc) {
    check_anchors(&v);
    int64_t end = v.expect - 1;
    if (out->last_checkpoint > end && !v.stop)
      problem(&v, end + 1, "truncated",
              "the log ends at record %lld but a checkpoint signed record %lld: records %lld..%lld "
              "were removed", (long long)end, (long long)out->last_checkpoint, (long long)end + 1,
              (long long)out->last_checkpoint);
  }
  free(v.anchors);
  free(v.cks);
  return rc;
}
