#include "xapi/statement.h"

#include <math.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/err.h"
#include "core/time.h"
#include "core/uuid.h"

/* Ceiling for scratch buffers: far above any statement the HTTP layer admits. */
#define SCRATCH_MAX ((size_t)64 << 20)
/* Arrays up to this size are de-duplicated by direct comparison; longer ones by sorting. */
#define DEDUP_LINEAR_MAX 16

/* ---- small helpers ---------------------------------------------------------------------- */

static const char *jstr(const mg_json *o, const char *key) {
  return mg_json_string_value(mg_json_object_get(o, key));
}

/* Keys and strings are compared with the lengths the DOM keeps (a constructed string may even
 * hold a NUL byte). */
#define KEY_IS(k, n, lit) ((n) == sizeof(lit) - 1 && !memcmp((k), (lit), sizeof(lit) - 1))

static int str_is(const mg_json *v, const char *lit, size_t n) {
  return mg_json_is_string(v) && v->len == n && !memcmp(v->u.str, lit, n);
}
#define STR_IS(v, lit) str_is((v), (lit), sizeof(lit) - 1)

/* A string value usable as a C string (no NUL inside), or NULL. */
static const char *cstr(const mg_json *v) {
  if (!mg_json_is_string(v) || strlen(v->u.str) != v->len) return NULL;
  return v->u.str;
}

static char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c; }

static void lower_inplace(char *p, size_t n) {
  for (size_t i = 0; i < n; i++) p[i] = ascii_lower(p[i]);
}

/* Statement object kinds; an absent objectType means Activity (xAPI 2.4.4). */
typedef enum obj_kind { OBJ_ACTIVITY, OBJ_AGENT, OBJ_GROUP, OBJ_REF, OBJ_SUB, OBJ_OTHER } obj_kind;

static obj_kind object_kind(const mg_json *obj) {
  const mg_json *t = mg_json_object_get(obj, "objectType");
  if (!mg_json_is_string(t) || STR_IS(t, "Activity")) return OBJ_ACTIVITY;
  if (STR_IS(t, "Agent")) return OBJ_AGENT;
  if (STR_IS(t, "Group")) return OBJ_GROUP;
  if (STR_IS(t, "StatementRef")) return OBJ_REF;
  if (STR_IS(t, "SubStatement")) return OBJ_SUB;
  return OBJ_OTHER;
}

/* The e-mail part of a mailto IRI: the scheme (RFC 3986) and the domain (RFC 5321, and the
 * xAPI immutability exceptions) are case-insensitive, the local part is not, so only the first
 * two are folded. p/n is the IRI text. */
static void mbox_fold(char *p, size_t n) {
  if (n >= 7 && !strncasecmp(p, "mailto:", 7)) lower_inplace(p, 7);
  for (size_t i = n; i > 0; i--) {
    if (p[i - 1] == '@') {
      lower_inplace(p + i, n - i);
      break;
    }
  }
}

/* A growable byte buffer that starts in caller-provided (stack) memory, so that the common,
 * small case allocates nothing. */
typedef struct sbuf {
  char *p;
  size_t len, cap;
  char *inl; /* the initial memory, not to be freed */
} sbuf;

static void sbuf_init(sbuf *b, char *mem, size_t cap) {
  b->p = b->inl = mem;
  b->len = 0;
  b->cap = cap;
}

static int sbuf_reserve(sbuf *b, size_t n) {
  if (n <= b->cap - b->len) return MG_OK;
  if (n > SCRATCH_MAX - b->len) return MG_ETOOBIG;
  size_t nc = b->cap ? b->cap : 256;
  while (nc - b->len < n) nc *= 2;
  char *q = b->p == b->inl ? malloc(nc) : realloc(b->p, nc);
  if (!q) return MG_ENOMEM;
  if (b->p == b->inl && b->len) memcpy(q, b->p, b->len);
  b->p = q;
  b->cap = nc;
  return MG_OK;
}

static int sbuf_add(sbuf *b, const void *s, size_t n) {
  int rc = sbuf_reserve(b, n);
  if (rc) return rc;
  memcpy(b->p + b->len, s, n);
  b->len += n;
  return MG_OK;
}

static void sbuf_free(sbuf *b) {
  if (b->p != b->inl) free(b->p);
  sbuf_init(b, b->inl, 0);
}

/* Makes room for element n of an array that starts in inline memory `inl`: returns the array
 * (moved to the heap once it outgrows inl), or NULL when out of memory, arr then unchanged. */
static void *vec_grow(void *arr, void *inl, size_t *cap, size_t n, size_t elem) {
  if (n < *cap) return arr;
  size_t nc = *cap * 2;
  void *p = arr == inl ? malloc(nc * elem) : realloc(arr, nc * elem);
  if (!p) return NULL;
  if (arr == inl) memcpy(p, inl, n * elem);
  *cap = nc;
  return p;
}

/* ---- prepare ---------------------------------------------------------------------------- */

/* Sets obj[key] to a new string. */
static int set_str(mg_arena *a, mg_json *obj, const char *key, const char *s) {
  mg_json *v = mg_json_string(a, s);
  return v ? mg_json_object_set(a, obj, key, v) : MG_ENOMEM;
}

/* xAPI requires contextActivities values to be returned as arrays even when a single Activity
 * was sent, so they are stored that way. */
static int context_activities_to_arrays(mg_arena *a, mg_json *stmt) {
  mg_json *ca = mg_json_object_get(mg_json_object_get(stmt, "context"), "contextActivities");
  if (!mg_json_is_object(ca)) return MG_OK;
  for (size_t i = 0; i < ca->len; i++) {
    mg_json *v = ca->u.members[i].value;
    if (!mg_json_is_object(v)) continue;
    mg_json *arr = mg_json_array(a);
    if (!arr || mg_json_array_append(a, arr, v)) return MG_ENOMEM;
    ca->u.members[i].value = arr;
  }
  return MG_OK;
}

/* Rewrites a 2.0 timestamp with an offset (or RFC 3339 lower-case/space spelling) as UTC "Z".
 * Offsets are whole minutes, so seconds and the fraction digits are copied verbatim: the
 * precision sent is kept exactly. Leaves unparseable or zone-less text alone (the validator
 * decides on those). *changed is set when out holds a new value. */
static void timestamp_utc(const char *s, char *out, size_t out_size, int *changed) {
  mg_timestamp t;
  *changed = 0;
  if (!s || mg_time_parse_iso(s, 1, &t) != MG_OK || !t.has_tz) return;
  size_t n = strlen(s);
  if (n > 10 && s[10] == 'T' && s[n - 1] == 'Z') return;
  /* years outside 0000..9999 cannot be written back in the same form */
  int64_t secs = t.us >= 0 ? t.us / 1000000 : -((-t.us + 999999) / 1000000);
  if (secs < -62167219200LL || secs >= 253402300800LL) return;
  char base[MG_TIME_ISO_LEN];
  mg_time_format_iso(secs * 1000000, 3, base);
  const char *dot = strchr(base, '.');
  if (!dot) return;
  size_t head = (size_t)(dot - base);
  const char *frac = strpbrk(s + 11, ".,");
  size_t nfrac = 0;
  if (frac)
    while (frac[1 + nfrac] >= '0' && frac[1 + nfrac] <= '9') nfrac++;
  if (head + 1 + nfrac + 2 > out_size) nfrac = out_size - head - 3; /* absurdly long fraction */
  memcpy(out, base, head);
  size_t o = head;
  if (nfrac) {
    out[o++] = '.';
    memcpy(out + o, frac + 1, nfrac);
    o += nfrac;
  }
  out[o++] = 'Z';
  out[o] = '\0';
  *changed = 1;
}

/* On failure (MG_ENOMEM) stmt may be partly completed; the caller rejects the request anyway.
 * A NULL authority removes any client-supplied one rather than storing an unverified claim. */
int mg_xapi_prepare(mg_arena *a, mg_json *stmt, mg_xapi_version v, int64_t stored_us,
                    mg_json *authority) {
  if (!a || !mg_json_is_object(stmt)) return MG_EINVAL;
  uint8_t id[16];
  char idtxt[MG_UUID_STR_LEN];
  const mg_json *given = mg_json_object_get(stmt, "id");
  int rc;
  if (!mg_json_is_string(given)) given = NULL; /* as if absent: replaced by a new id */
  if (given) {
    if (!cstr(given) || mg_uuid_parse(given->u.str, id) != MG_OK) return MG_EINVAL;
  } else {
    mg_uuid_v4(id);
  }
  mg_uuid_format(id, idtxt);
  if (!given || strcmp(given->u.str, idtxt))
    if ((rc = set_str(a, stmt, "id", idtxt))) return rc;

  char stored[MG_TIME_ISO_LEN];
  mg_time_format_iso(stored_us, 3, stored);
  if ((rc = set_str(a, stmt, "stored", stored))) return rc;

  if (authority) {
    if ((rc = mg_json_object_set(a, stmt, "authority", authority))) return rc;
  } else {
    mg_json_object_del(stmt, "authority"); /* MG_ENOTFOUND is fine */
  }

  if (!mg_json_object_get(stmt, "version") &&
      (rc = set_str(a, stmt, "version", v == MG_XAPI_V200 ? "2.0.0" : "1.0.0")))
    return rc;

  const mg_json *ts = mg_json_object_get(stmt, "timestamp");
  if (!mg_json_is_string(ts)) {
    if ((rc = set_str(a, stmt, "timestamp", stored))) return rc;
  } else if (v == MG_XAPI_V200) {
    char utc[96];
    int changed;
    timestamp_utc(cstr(ts), utc, sizeof utc, &changed);
    if (changed && (rc = set_str(a, stmt, "timestamp", utc))) return rc;
  }

  if ((rc = context_activities_to_arrays(a, stmt))) return rc;
  mg_json *obj = mg_json_object_get(stmt, "object");
  if (object_kind(obj) == OBJ_SUB) {
    if ((rc = context_activities_to_arrays(a, obj))) return rc;
    /* a SubStatement's own timestamp follows the same 2.0 UTC rule */
    const mg_json *sts = mg_json_object_get(obj, "timestamp");
    if (mg_json_is_string(sts) && v == MG_XAPI_V200) {
      char utc[96];
      int changed;
      timestamp_utc(cstr(sts), utc, sizeof utc, &changed);
      if (changed && (rc = set_str(a, obj, "timestamp", utc))) return rc;
    }
  }
  return MG_OK;
}

/* ---- agent keys ------------------------------------------------------------------------- */

typedef enum key_fold { FOLD_NONE, FOLD_MBOX, FOLD_ALL } key_fold;

/* An agent's key as pieces: prefix, value[, '\x1f', value2], with value folded per fold. */
typedef struct agent_key {
  const char *prefix;
  size_t prefix_len;
  const mg_json *value, *value2;
  key_fold fold;
} agent_key;

/* MG_EINVAL when a has no IFI. The IFIs are tried in a fixed order; a non-string one is
 * skipped as if absent. */
static int agent_key_parts(const mg_json *a, agent_key *k) {
  const mg_json *s;
  if (mg_json_is_string(s = mg_json_object_get(a, "mbox"))) {
    *k = (agent_key){"mbox:", 5, s, NULL, FOLD_MBOX};
  } else if (mg_json_is_string(s = mg_json_object_get(a, "mbox_sha1sum"))) {
    *k = (agent_key){"mbox_sha1sum:", 13, s, NULL, FOLD_ALL}; /* hex: case carries no meaning */
  } else if (mg_json_is_string(s = mg_json_object_get(a, "openid"))) {
    *k = (agent_key){"openid:", 7, s, NULL, FOLD_NONE};
  } else if ((s = mg_json_object_get(a, "account"))) {
    const mg_json *home = mg_json_object_get(s, "homePage"), *name = mg_json_object_get(s, "name");
    if (!mg_json_is_string(home) || !mg_json_is_string(name)) return MG_EINVAL;
    *k = (agent_key){"account:", 8, home, name, FOLD_NONE};
  } else {
    return MG_EINVAL;
  }
  return MG_OK;
}

static void key_fold_apply(key_fold f, char *p, size_t n) {
  if (f == FOLD_MBOX) mbox_fold(p, n);
  else if (f == FOLD_ALL) lower_inplace(p, n);
}

static size_t agent_key_len(const agent_key *k) {
  return k->prefix_len + k->value->len + (k->value2 ? 1 + k->value2->len : 0);
}

/* Writes the agent_key_len(k) bytes of the key to out. */
static void agent_key_write(const agent_key *k, char *out) {
  memcpy(out, k->prefix, k->prefix_len);
  char *v = out + k->prefix_len;
  memcpy(v, k->value->u.str, k->value->len);
  key_fold_apply(k->fold, v, k->value->len);
  if (k->value2) {
    v += k->value->len;
    *v++ = '\x1f';
    memcpy(v, k->value2->u.str, k->value2->len);
  }
}

/* Keys compare mbox with the scheme and the domain folded to lower case and the local part
 * exact (see mbox_fold; xAPI Data 2.3.1 names the e-mail domain as case-insensitive, RFC 5321
 * leaves the local part to the receiving host), mbox_sha1sum case-insensitively (hex), openid
 * and account (homePage, name) exactly, as IRIs and account names are case-sensitive. */
int mg_xapi_agent_key(const mg_json *agent, mg_buf *out) {
  if (!mg_json_is_object(agent) || !out) return MG_EINVAL;
  mg_buf_reset(out);
  agent_key k;
  size_t at;
  int rc = agent_key_parts(agent, &k);
  if (rc) return rc;
  if ((rc = mg_buf_add(out, k.prefix, k.prefix_len))) goto out;
  at = out->len;
  if ((rc = mg_buf_add(out, k.value->u.str, k.value->len))) goto out;
  key_fold_apply(k.fold, out->data + at, k.value->len);
  if (k.value2 && ((rc = mg_buf_addc(out, '\x1f')) ||
                   (rc = mg_buf_add(out, k.value2->u.str, k.value2->len))))
    goto out;
out:
  if (rc) mg_buf_reset(out);
  return rc;
}

/* ---- index keys -------------------------------------------------------------------------
 *
 * Collection works in stack memory (agent keys' text, and (pointer, length) entries for agents
 * and activities), spilling to the heap only for unusually large statements; the result is then
 * copied into ONE allocation owned by the keys: the agents table, the activities table and the
 * agent keys' text, headed by `agents` (see mg_xapi_keys_free). */

#define EX_TEXT_INLINE 2048
#define EX_ENTS_INLINE 32

typedef struct ent {
  const char *p; /* activities: the id in stmt; agents: set once the text is final */
  size_t off, n; /* agents: where the key starts in the text, and its length */
} ent;

typedef struct extract {
  sbuf text; /* agent keys, each followed by a NUL */
  ent *ag, *act;
  size_t n_ag, cap_ag, n_act, cap_act;
  char text_inl[EX_TEXT_INLINE];
  ent ag_inl[EX_ENTS_INLINE], act_inl[EX_ENTS_INLINE];
} extract;

static void extract_init(extract *x) {
  sbuf_init(&x->text, x->text_inl, sizeof x->text_inl);
  x->ag = x->ag_inl;
  x->act = x->act_inl;
  x->n_ag = x->n_act = 0;
  x->cap_ag = x->cap_act = EX_ENTS_INLINE;
}

static void extract_free(extract *x) {
  sbuf_free(&x->text);
  if (x->ag != x->ag_inl) free(x->ag);
  if (x->act != x->act_inl) free(x->act);
}

/* Adds a's key, if it has one. *added tells whether it did. */
static int push_agent_key(extract *x, const mg_json *a, int *added) {
  if (added) *added = 0;
  agent_key k;
  if (agent_key_parts(a, &k) != MG_OK) return MG_OK; /* anonymous group: no key of its own */
  size_t n = agent_key_len(&k);
  int rc = sbuf_reserve(&x->text, n + 1);
  if (rc) return rc;
  ent *ag = vec_grow(x->ag, x->ag_inl, &x->cap_ag, x->n_ag, sizeof *ag);
  if (!ag) return MG_ENOMEM;
  x->ag = ag;
  agent_key_write(&k, x->text.p + x->text.len);
  x->text.p[x->text.len + n] = '\0';
  x->ag[x->n_ag++] = (ent){NULL, x->text.len, n};
  x->text.len += n + 1;
  if (added) *added = 1;
  return MG_OK;
}

static int push_members(extract *x, const mg_json *a) {
  const mg_json *members = mg_json_object_get(a, "member");
  size_t i;
  const mg_json *m;
  mg_json_array_foreach(members, i, m) {
    int rc = push_agent_key(x, m, NULL);
    if (rc) return rc;
  }
  return MG_OK;
}

static int push_agent_all(extract *x, const mg_json *a) {
  if (!mg_json_is_object(a)) return MG_OK;
  int rc = push_agent_key(x, a, NULL);
  return rc ? rc : push_members(x, a);
}

static int push_activity(extract *x, const mg_json *act) {
  const mg_json *id = mg_json_object_get(act, "id");
  if (!mg_json_is_string(id)) return MG_OK;
  ent *arr = vec_grow(x->act, x->act_inl, &x->cap_act, x->n_act, sizeof *arr);
  if (!arr) return MG_ENOMEM;
  x->act = arr;
  x->act[x->n_act++] = (ent){id->u.str, 0, id->len};
  return MG_OK;
}

static int push_context(extract *x, const mg_json *ctx) {
  if (!mg_json_is_object(ctx)) return MG_OK;
  int rc;
  if ((rc = push_agent_all(x, mg_json_object_get(ctx, "instructor")))) return rc;
  if ((rc = push_agent_all(x, mg_json_object_get(ctx, "team")))) return rc;
  size_t i;
  const mg_json *e;
  mg_json_array_foreach(mg_json_object_get(ctx, "contextAgents"), i, e) {
    if ((rc = push_agent_all(x, mg_json_object_get(e, "agent")))) return rc;
  }
  mg_json_array_foreach(mg_json_object_get(ctx, "contextGroups"), i, e) {
    if ((rc = push_agent_all(x, mg_json_object_get(e, "group")))) return rc;
  }
  const mg_json *ca = mg_json_object_get(ctx, "contextActivities");
  for (size_t k = 0; k < mg_json_object_size(ca); k++) {
    const mg_json *v = ca->u.members[k].value;
    if (mg_json_is_object(v)) {
      if ((rc = push_activity(x, v))) return rc;
      continue;
    }
    mg_json_array_foreach(v, i, e) {
      if ((rc = push_activity(x, e))) return rc;
    }
  }
  return MG_OK;
}

/* Everything a SubStatement relates to (it has no authority and no nested SubStatement). */
static int push_substatement(extract *x, const mg_json *sub) {
  int rc;
  if ((rc = push_agent_all(x, mg_json_object_get(sub, "actor")))) return rc;
  const mg_json *obj = mg_json_object_get(sub, "object");
  switch (object_kind(obj)) {
  case OBJ_ACTIVITY: rc = push_activity(x, obj); break;
  case OBJ_AGENT:
  case OBJ_GROUP: rc = push_agent_all(x, obj); break;
  default: break;
  }
  if (rc) return rc;
  return push_context(x, mg_json_object_get(sub, "context"));
}

static int ent_same(const ent *a, const ent *b) {
  return a->n == b->n && !memcmp(a->p, b->p, a->n);
}

/* Orders by text, then by position (kept in off). */
static int dedup_cmp(const void *a, const void *b) {
  const ent *x = a, *y = b;
  int c = memcmp(x->p, y->p, x->n < y->n ? x->n : y->n);
  if (c) return c;
  if (x->n != y->n) return x->n < y->n ? -1 : 1;
  return x->off < y->off ? -1 : x->off > y->off;
}

/* Removes repeated texts keeping the first occurrence and the original order. Linear for short
 * arrays, O(n log n) beyond DEDUP_LINEAR_MAX. */
static int dedup(ent *a, size_t *pn) {
  size_t n = *pn, m = 0;
  if (n < 2) return MG_OK;
  if (n <= DEDUP_LINEAR_MAX) {
    for (size_t i = 0; i < n; i++) {
      size_t j = 0;
      while (j < m && !ent_same(&a[j], &a[i])) j++;
      if (j == m) a[m++] = a[i];
    }
    *pn = m;
    return MG_OK;
  }
  ent *e = malloc(n * sizeof *e);
  unsigned char *drop = calloc(n, 1);
  if (!e || !drop) {
    free(e);
    free(drop);
    return MG_ENOMEM;
  }
  for (size_t i = 0; i < n; i++) e[i] = (ent){a[i].p, i, a[i].n};
  qsort(e, n, sizeof *e, dedup_cmp);
  for (size_t i = 1; i < n; i++)
    if (ent_same(&e[i], &e[i - 1])) drop[e[i].off] = 1;
  for (size_t i = 0; i < n; i++)
    if (!drop[i]) a[m++] = a[i];
  *pn = m;
  free(e);
  free(drop);
  return MG_OK;
}

/* agents heads the one block that also holds the activities table and the keys' text. */
void mg_xapi_keys_free(mg_xapi_keys *keys) {
  if (!keys) return;
  free(keys->agents);
  memset(keys, 0, sizeof *keys);
}

/* Copies the collected keys into their single block. */
static int keys_publish(extract *x, mg_xapi_keys *k) {
  size_t na = x->n_ag, nt = x->n_act, text = 0;
  for (size_t i = 0; i < na; i++) text += x->ag[i].n + 1;
  size_t bytes = (na + nt) * sizeof(char *) + text;
  if (!bytes) return MG_OK;
  char **blk = malloc(bytes);
  if (!blk) return MG_ENOMEM;
  char *t = (char *)(blk + na + nt);
  for (size_t i = 0; i < na; i++) {
    memcpy(t, x->ag[i].p, x->ag[i].n + 1); /* with its NUL */
    blk[i] = t;
    t += x->ag[i].n + 1;
  }
  k->agents = blk;
  k->n_agents = k->cap_agents = na;
  k->activities = (const char **)(blk + na);
  for (size_t i = 0; i < nt; i++) k->activities[i] = x->act[i].p;
  k->n_activities = k->cap_activities = nt;
  return MG_OK;
}

static int parse_time(const mg_json *stmt, const char *key, int64_t *out) {
  mg_timestamp t;
  const char *s = cstr(mg_json_object_get(stmt, key));
  if (!s || mg_time_parse_iso(s, 1, &t) != MG_OK) return MG_EINVAL;
  *out = t.us;
  return MG_OK;
}

static int keys_extract(const mg_json *stmt, mg_xapi_keys *keys, const uint8_t *digest);

int mg_xapi_keys_extract(const mg_json *stmt, mg_xapi_keys *keys) {
  return keys_extract(stmt, keys, NULL);
}

int mg_xapi_keys_extract_digest(const mg_json *stmt, mg_xapi_keys *keys,
                                const uint8_t digest[32]) {
  return digest ? keys_extract(stmt, keys, digest) : MG_EINVAL;
}

static int keys_extract(const mg_json *stmt, mg_xapi_keys *keys, const uint8_t *digest) {
  if (!keys) return MG_EINVAL;
  memset(keys, 0, sizeof *keys);
  if (!mg_json_is_object(stmt)) return MG_EINVAL;
  mg_store_stmt *row = &keys->row;
  extract xs, *x = &xs;
  extract_init(x);
  int rc = MG_EINVAL;

  const char *id = cstr(mg_json_object_get(stmt, "id"));
  if (!id || mg_uuid_parse(id, row->id) != MG_OK) goto out;
  if ((rc = parse_time(stmt, "stored", &row->stored_us))) goto out;
  if ((rc = parse_time(stmt, "timestamp", &row->timestamp_us))) goto out;
  rc = MG_EINVAL;
  row->verb_id = cstr(mg_json_object_get(mg_json_object_get(stmt, "verb"), "id"));
  if (!row->verb_id) goto out;

  const mg_json *actor = mg_json_object_get(stmt, "actor");
  const mg_json *obj = mg_json_object_get(stmt, "object");
  obj_kind ok = object_kind(obj);
  if (!mg_json_is_object(actor) || !mg_json_is_object(obj)) goto out;

  /* The actor's key goes first and the object's second, so that after an order-keeping
   * de-duplication actor_key and object_agent_key can point at entries that survived. */
  int has_actor = 0, has_obj_agent = 0;
  if ((rc = push_agent_key(x, actor, &has_actor))) goto out;
  if (ok == OBJ_AGENT || ok == OBJ_GROUP) {
    if ((rc = push_agent_key(x, obj, &has_obj_agent))) goto out;
  }
  if ((rc = push_members(x, actor))) goto out;

  switch (ok) {
  case OBJ_ACTIVITY:
    row->object_activity_id = jstr(obj, "id");
    if ((rc = push_activity(x, obj))) goto out;
    break;
  case OBJ_AGENT:
  case OBJ_GROUP:
    if ((rc = push_members(x, obj))) goto out;
    break;
  case OBJ_REF: {
    rc = MG_EINVAL;
    const char *ref = cstr(mg_json_object_get(obj, "id"));
    if (!ref || mg_uuid_parse(ref, row->object_ref) != MG_OK) goto out;
    row->has_object_ref = 1;
    row->is_voiding = !strcmp(row->verb_id, MG_XAPI_VERB_VOIDED);
    break;
  }
  case OBJ_SUB:
    if ((rc = push_substatement(x, obj))) goto out;
    break;
  case OBJ_OTHER: break;
  }

  if ((rc = push_agent_all(x, mg_json_object_get(stmt, "authority")))) goto out;
  const mg_json *ctx = mg_json_object_get(stmt, "context");
  if ((rc = push_context(x, ctx))) goto out;
  const mg_json *reg = mg_json_object_get(ctx, "registration");
  if (mg_json_is_string(reg)) {
    rc = MG_EINVAL;
    if (!cstr(reg) || mg_uuid_parse(reg->u.str, row->registration) != MG_OK) goto out;
    row->has_registration = 1;
  }

  for (size_t i = 0; i < x->n_ag; i++) x->ag[i].p = x->text.p + x->ag[i].off; /* text is final */
  int obj_is_actor = has_actor && has_obj_agent && ent_same(&x->ag[0], &x->ag[1]);
  if ((rc = dedup(x->ag, &x->n_ag))) goto out;
  if ((rc = dedup(x->act, &x->n_act))) goto out;
  if ((rc = keys_publish(x, keys))) goto out;
  if (has_actor) row->actor_key = keys->agents[0];
  if (has_obj_agent) row->object_agent_key = keys->agents[obj_is_actor ? 0 : has_actor];
  row->related_agents = (const char *const *)keys->agents;
  row->n_related_agents = keys->n_agents;
  row->related_activities = keys->activities;
  row->n_related_activities = keys->n_activities;

  if (digest)
    memcpy(row->cmp_hash, digest, sizeof row->cmp_hash);
  else
    rc = mg_xapi_compare_digest(stmt, row->cmp_hash);

out:
  extract_free(x);
  if (rc) mg_xapi_keys_free(keys);
  return rc;
}
/* ---- comparison digest ------------------------------------------------------------------
 *
 * The comparable form is a serialisation of the statement with object keys sorted bytewise,
 * streamed into BLAKE2b-256 while walking the statement once. Per xAPI "Statement Immutability"
 * (1.0.3 Data 2.3.1; 2.0 likewise) it leaves out or normalises what the LRS may assign or
 * re-serialise:
 *  - id, stored, authority, version are dropped; timestamp is dropped when it equals stored
 *    (the LRS filled it in), else written as an instant in milliseconds (timestamps may be
 *    returned in another zone and truncated to ms);
 *  - Activity definitions and Verb displays are not part of the statement: Activities reduce
 *    to id, Verbs to id;
 *  - the default objectType of Agents and Activities is made explicit;
 *  - Group members are an unordered list: sorted;
 *  - case-insensitive values are folded: UUIDs, mbox scheme and domain, mbox_sha1sum, sha2,
 *    language tags (keys of attachment language maps, context.language);
 *  - result.duration stays a string but loses precision beyond 0.01 s (1.0.3 SHOULD, 2.0 MUST);
 *  - numbers compare by value: an integral real is an integer (1.0 == 1, -0.0 == 0).
 * Everything else (agent names, result, extensions, attachments, ...) is compared exactly.
 * A SubStatement is compared the same way, minus the timestamp/stored rule.
 *
 * Encoding (only ever hashed, so built for speed and unambiguity rather than for reading):
 * objects '{' (key value)* '}', arrays '[' value* ']', strings 's' <byte length> ':' <bytes>,
 * integers 'i' <decimal> ';', other reals 'r' + the IEEE 754 bits big-endian, and 't' 'f' 'n'.
 * Every item is self-delimiting, so no separators are needed. The result is portable across
 * hosts, as stored digests must stay comparable after a restore elsewhere.
 *
 * The encoding is persisted (as cmp_hash), so it must never change: tests pin the digest of
 * fixed statements. Keys are compared and written with their lengths (a key may hold NUL). */

#define CW_BUF 2048

typedef struct cw {
  crypto_generichash_state *md; /* sink: the hash ... */
  sbuf *spill;        /* ... or a buffer (group members are sorted as encoded text) */
  const char *stored; /* top-level stored text, NULL inside a SubStatement */
  size_t stored_len;
  int err;            /* first error; later writes are ignored */
  unsigned char *buf; /* write-combining buffer in front of the hash; none for a spill */
  size_t len, cap;
} cw;

static void cw_sink(cw *c, const void *p, size_t n) {
  if (c->err || !n) return;
  if (c->md) {
    if (crypto_generichash_update(c->md, p, n) != 0) c->err = MG_ECRYPTO;
  } else {
    int rc = sbuf_add(c->spill, p, n);
    if (rc) c->err = rc;
  }
}

static void cw_flush(cw *c) {
  cw_sink(c, c->buf, c->len);
  c->len = 0;
}

static void put(cw *c, const void *p, size_t n) {
  if (n <= c->cap - c->len) {
    memcpy(c->buf + c->len, p, n);
    c->len += n;
    return;
  }
  cw_flush(c);
  if (n <= c->cap) {
    memcpy(c->buf, p, n);
    c->len = n;
  } else {
    cw_sink(c, p, n);
  }
}

static void put1(cw *c, char ch) {
  if (c->len < c->cap) c->buf[c->len++] = (unsigned char)ch;
  else put(c, &ch, 1);
}

static void put_int(cw *c, long long v) {
  char tmp[24];
  size_t i = sizeof tmp;
  unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
  tmp[--i] = ';';
  do {
    tmp[--i] = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  if (v < 0) tmp[--i] = '-';
  tmp[--i] = 'i';
  put(c, tmp + i, sizeof tmp - i);
}

static void put_len_header(cw *c, size_t n) {
  char tmp[24];
  size_t i = sizeof tmp;
  tmp[--i] = ':';
  do {
    tmp[--i] = (char)('0' + n % 10);
    n /= 10;
  } while (n);
  tmp[--i] = 's';
  put(c, tmp + i, sizeof tmp - i);
}

/* A string whose bytes before lo_end and from hi_start on are folded to ASCII lower case. */
static void put_str_fold(cw *c, const char *s, size_t n, size_t lo_end, size_t hi_start) {
  put_len_header(c, n);
  if (lo_end == 0 && hi_start >= n) {
    put(c, s, n);
    return;
  }
  char tmp[256];
  for (size_t off = 0; off < n;) {
    size_t k = n - off < sizeof tmp ? n - off : sizeof tmp;
    for (size_t i = 0; i < k; i++) {
      size_t at = off + i;
      tmp[i] = (at < lo_end || at >= hi_start) ? ascii_lower(s[at]) : s[at];
    }
    put(c, tmp, k);
    off += k;
  }
}

static void put_str(cw *c, const char *s, size_t n) { put_str_fold(c, s, n, 0, n); }
static void put_cstr(cw *c, const char *s) { put_str(c, s, strlen(s)); }

static void w_generic(cw *c, const mg_json *v);

typedef void (*val_writer)(cw *c, const mg_json *v);
/* Returns the writer for a key of an object, or NULL to leave the key out. */
typedef val_writer (*key_router)(cw *c, const char *key, size_t key_len, const mg_json *v);

/* A string with ASCII letters folded to lower case. */
static void w_lower(cw *c, const mg_json *v) {
  if (!mg_json_is_string(v)) {
    w_generic(c, v);
    return;
  }
  put_str_fold(c, v->u.str, v->len, v->len, v->len);
}

/* Integral values go the integer way so 1.0 == 1 and -0.0 == 0; others by their exact bits. */
static void w_real(cw *c, double d) {
  if (isfinite(d) && d == floor(d) && fabs(d) < 9007199254740992.0) {
    put_int(c, (long long)d);
    return;
  }
  uint64_t bits;
  memcpy(&bits, &d, sizeof bits);
  unsigned char tmp[9];
  tmp[0] = 'r';
  for (int i = 0; i < 8; i++) tmp[1 + i] = (unsigned char)(bits >> (56 - 8 * i));
  put(c, tmp, sizeof tmp);
}

typedef struct kv {
  const char *k;
  size_t kl;
  const mg_json *v;
} kv;

/* Bytewise, a prefix first: strcmp's order, extended to keys holding NUL. */
static int kv_cmp(const kv *x, const kv *y) {
  if (x->kl && y->kl && x->k[0] != y->k[0]) /* usual case, without a call */
    return (unsigned char)x->k[0] < (unsigned char)y->k[0] ? -1 : 1;
  int r = memcmp(x->k, y->k, x->kl < y->kl ? x->kl : y->kl);
  return r ? r : (x->kl > y->kl) - (x->kl < y->kl);
}

static int cmp_kv(const void *a, const void *b) { return kv_cmp(a, b); }

static void sort_kv(kv *e, size_t n) {
  if (n > 12) {
    qsort(e, n, sizeof *e, cmp_kv);
    return;
  }
  for (size_t i = 1; i < n; i++) { /* objects are small: insertion sort beats qsort's setup */
    kv x = e[i];
    size_t j = i;
    while (j > 0 && kv_cmp(&e[j - 1], &x) > 0) {
      e[j] = e[j - 1];
      j--;
    }
    e[j] = x;
  }
}

/* Writes object o with sorted keys, each through the writer route picks. implied (may be NULL)
 * is a key routed even when absent (its writer then gets NULL) so defaults can be spelled out. */
static void w_obj(cw *c, const mg_json *o, key_router route, const char *implied) {
  kv stack[24], *e = stack;
  size_t n = o->len + 1, k = 0;
  if (n > sizeof stack / sizeof *stack) {
    e = malloc(n * sizeof *e);
    if (!e) {
      c->err = MG_ENOMEM;
      return;
    }
  }
  size_t implied_len = implied ? strlen(implied) : 0;
  int have_implied = 0;
  for (size_t i = 0; i < o->len; i++) {
    const mg_json_member *m = &o->u.members[i];
    e[k++] = (kv){m->key, m->key_len, m->value};
    if (implied && m->key_len == implied_len && !memcmp(m->key, implied, implied_len))
      have_implied = 1;
  }
  if (implied && !have_implied) e[k++] = (kv){implied, implied_len, NULL};
  sort_kv(e, k);
  put1(c, '{');
  for (size_t i = 0; i < k; i++) {
    val_writer w = route(c, e[i].k, e[i].kl, e[i].v);
    if (!w) continue;
    put_str(c, e[i].k, e[i].kl);
    w(c, e[i].v);
  }
  put1(c, '}');
  if (e != stack) free(e);
}

static val_writer route_generic(cw *c, const char *key, size_t key_len, const mg_json *v) {
  return w_generic;
}

static void w_generic(cw *c, const mg_json *v) {
  if (!v) {
    put1(c, 'n');
    return;
  }
  switch (mg_json_typeof(v)) {
  case MG_JSON_OBJECT: w_obj(c, v, route_generic, NULL); break;
  case MG_JSON_ARRAY:
    put1(c, '[');
    for (size_t i = 0; i < v->len; i++) w_generic(c, v->u.items[i]);
    put1(c, ']');
    break;
  case MG_JSON_STRING: put_str(c, v->u.str, v->len); break;
  case MG_JSON_INTEGER: put_int(c, (long long)v->u.num.i); break;
  case MG_JSON_REAL: w_real(c, v->u.num.d); break;
  case MG_JSON_TRUE: put1(c, 't'); break;
  case MG_JSON_FALSE: put1(c, 'f'); break;
  case MG_JSON_NULL: put1(c, 'n'); break;
  }
}

/* ---- agents ---- */

static void w_agent(cw *c, const mg_json *v);

static void w_agent_type(cw *c, const mg_json *v) {
  if (v) w_generic(c, v);
  else put_cstr(c, "Agent");
}

static void w_mbox(cw *c, const mg_json *v) {
  if (!mg_json_is_string(v)) {
    w_generic(c, v);
    return;
  }
  const char *s = v->u.str;
  size_t n = v->len, lo = 0, hi = n;
  if (n >= 7 && !strncasecmp(s, "mailto:", 7)) lo = 7; /* see mbox_fold */
  for (size_t i = n; i > 0; i--) {
    if (s[i - 1] == '@') {
      hi = i;
      break;
    }
  }
  put_str_fold(c, s, n, lo, hi);
}

typedef struct span {
  const char *p;
  size_t off, n;
} span;

static int cmp_span(const void *a, const void *b) {
  const span *x = a, *y = b;
  int r = memcmp(x->p, y->p, x->n < y->n ? x->n : y->n);
  return r ? r : (x->n > y->n) - (x->n < y->n);
}

#define MEMBERS_TEXT_INLINE 1024
#define MEMBERS_INLINE 16

/* Group members are unordered: each is encoded on its own, then they are sorted. */
static void w_members(cw *c, const mg_json *v) {
  if (!mg_json_is_array(v)) {
    w_generic(c, v);
    return;
  }
  size_t n = v->len;
  if (n < 2) { /* nothing to order */
    put1(c, '[');
    if (n) w_agent(c, v->u.items[0]);
    put1(c, ']');
    return;
  }
  char text_inl[MEMBERS_TEXT_INLINE];
  span sp_inl[MEMBERS_INLINE], *sp = sp_inl;
  sbuf tmp;
  sbuf_init(&tmp, text_inl, sizeof text_inl);
  if (n > MEMBERS_INLINE && !(sp = malloc(n * sizeof *sp))) {
    c->err = MG_ENOMEM;
    return;
  }
  cw sub = {.md = NULL, .spill = &tmp, .stored = NULL, .err = 0, .buf = NULL, .len = 0, .cap = 0};
  for (size_t i = 0; i < n; i++) {
    size_t start = tmp.len;
    w_agent(&sub, v->u.items[i]);
    sp[i] = (span){NULL, start, tmp.len - start};
  }
  if (sub.err) {
    c->err = sub.err;
    goto out;
  }
  for (size_t i = 0; i < n; i++) sp[i].p = tmp.p + sp[i].off; /* text is final now */
  qsort(sp, n, sizeof *sp, cmp_span);
  put1(c, '[');
  for (size_t i = 0; i < n; i++) put(c, sp[i].p, sp[i].n);
  put1(c, ']');
out:
  if (sp != sp_inl) free(sp);
  sbuf_free(&tmp);
}

static val_writer route_agent(cw *c, const char *key, size_t key_len, const mg_json *v) {
  if (KEY_IS(key, key_len, "objectType")) return w_agent_type;
  if (KEY_IS(key, key_len, "mbox")) return w_mbox;
  if (KEY_IS(key, key_len, "mbox_sha1sum")) return w_lower;
  if (KEY_IS(key, key_len, "member")) return w_members;
  return w_generic;
}

static void w_agent(cw *c, const mg_json *v) {
  if (mg_json_is_object(v)) w_obj(c, v, route_agent, "objectType");
  else w_generic(c, v);
}

/* ---- activities, verbs, objects ---- */

/* {"id": id[, "objectType": type]} in sorted-key order. */
static void w_id_only(cw *c, const mg_json *v, const char *type) {
  put1(c, '{');
  put_str(c, "id", 2);
  w_generic(c, mg_json_object_get(v, "id"));
  if (type) {
    put_str(c, "objectType", 10);
    put_cstr(c, type);
  }
  put1(c, '}');
}

static void w_activity(cw *c, const mg_json *v) {
  if (mg_json_is_object(v)) w_id_only(c, v, "Activity");
  else w_generic(c, v);
}

static void w_verb(cw *c, const mg_json *v) {
  if (mg_json_is_object(v)) w_id_only(c, v, NULL);
  else w_generic(c, v);
}

static void w_stmtref(cw *c, const mg_json *v) {
  if (!mg_json_is_object(v)) {
    w_generic(c, v);
    return;
  }
  put1(c, '{');
  put_str(c, "id", 2);
  w_lower(c, mg_json_object_get(v, "id"));
  put_str(c, "objectType", 10);
  put_str(c, "StatementRef", 12);
  put1(c, '}');
}

static void w_statement_body(cw *c, const mg_json *v);

static void w_object(cw *c, const mg_json *v) {
  if (!mg_json_is_object(v)) {
    w_generic(c, v);
    return;
  }
  switch (object_kind(v)) {
  case OBJ_ACTIVITY: w_activity(c, v); break;
  case OBJ_AGENT:
  case OBJ_GROUP: w_agent(c, v); break;
  case OBJ_REF: w_stmtref(c, v); break;
  case OBJ_SUB: {
    const char *saved = c->stored;
    c->stored = NULL;
    w_statement_body(c, v);
    c->stored = saved;
    break;
  }
  default: w_generic(c, v); break;
  }
}

/* ---- result, context, attachments ---- */

/* Keeps at most two fraction digits of the seconds: finer precision is not compared. */
static void w_duration(cw *c, const mg_json *v) {
  if (!mg_json_is_string(v)) {
    w_generic(c, v);
    return;
  }
  const char *s = v->u.str;
  size_t n = v->len;
  if (n >= 2 && s[n - 1] == 'S') {
    size_t i = n - 1;
    while (i > 0 && s[i - 1] >= '0' && s[i - 1] <= '9') i--;
    if (i > 0 && (s[i - 1] == '.' || s[i - 1] == ',') && (n - 1) - i > 2) {
      put_len_header(c, i + 3);
      put(c, s, i + 2);
      put1(c, 'S');
      return;
    }
  }
  put_str(c, s, n);
}

static val_writer route_result(cw *c, const char *key, size_t key_len, const mg_json *v) {
  return KEY_IS(key, key_len, "duration") ? w_duration : w_generic;
}

static void w_result(cw *c, const mg_json *v) {
  if (mg_json_is_object(v)) w_obj(c, v, route_result, NULL);
  else w_generic(c, v);
}

static void w_activity_list(cw *c, const mg_json *v) {
  if (mg_json_is_object(v)) { /* a single Activity is the same as an array of one */
    put1(c, '[');
    w_activity(c, v);
    put1(c, ']');
    return;
  }
  if (!mg_json_is_array(v)) {
    w_generic(c, v);
    return;
  }
  put1(c, '[');
  for (size_t i = 0; i < v->len; i++) w_activity(c, v->u.items[i]);
  put1(c, ']');
}

static val_writer route_ctx_acts(cw *c, const char *key, size_t key_len, const mg_json *v) {
  return w_activity_list;
}

static void w_ctx_acts(cw *c, const mg_json *v) {
  if (mg_json_is_object(v)) w_obj(c, v, route_ctx_acts, NULL);
  else w_generic(c, v);
}

static val_writer route_ctx_member(cw *c, const char *key, size_t key_len, const mg_json *v) {
  return (KEY_IS(key, key_len, "agent") || KEY_IS(key, key_len, "group")) ? w_agent : w_generic;
}

/* An array whose object elements are written with `route` (anything else verbatim). */
static void w_obj_list(cw *c, const mg_json *v, key_router route) {
  if (!mg_json_is_array(v)) {
    w_generic(c, v);
    return;
  }
  put1(c, '[');
  for (size_t i = 0; i < v->len; i++) {
    const mg_json *e = v->u.items[i];
    if (mg_json_is_object(e)) w_obj(c, e, route, NULL);
    else w_generic(c, e);
  }
  put1(c, ']');
}

static void w_ctx_member_list(cw *c, const mg_json *v) { w_obj_list(c, v, route_ctx_member); }

static val_writer route_context(cw *c, const char *key, size_t key_len, const mg_json *v) {
  if (KEY_IS(key, key_len, "registration") || KEY_IS(key, key_len, "language")) return w_lower;
  if (KEY_IS(key, key_len, "instructor") || KEY_IS(key, key_len, "team")) return w_agent;
  if (KEY_IS(key, key_len, "contextActivities")) return w_ctx_acts;
  if (KEY_IS(key, key_len, "statement")) return w_stmtref;
  if (KEY_IS(key, key_len, "contextAgents") || KEY_IS(key, key_len, "contextGroups"))
    return w_ctx_member_list;
  return w_generic;
}

static void w_context(cw *c, const mg_json *v) {
  if (mg_json_is_object(v)) w_obj(c, v, route_context, NULL);
  else w_generic(c, v);
}

/* Case-insensitive (ASCII) first, then exact: strcasecmp then strcmp, extended to keys with
 * NUL. */
static int cmp_lang(const void *a, const void *b) {
  const kv *x = a, *y = b;
  size_t n = x->kl < y->kl ? x->kl : y->kl;
  for (size_t i = 0; i < n; i++) {
    unsigned char p = (unsigned char)ascii_lower(x->k[i]), q = (unsigned char)ascii_lower(y->k[i]);
    if (p != q) return p < q ? -1 : 1;
  }
  if (x->kl != y->kl) return x->kl < y->kl ? -1 : 1;
  return kv_cmp(x, y);
}

/* A language map whose tags (case-insensitive, RFC 5646) are folded to lower case. */
static void w_langmap(cw *c, const mg_json *v) {
  if (!mg_json_is_object(v)) {
    w_generic(c, v);
    return;
  }
  size_t n = v->len;
  kv stack[16], *e = stack;
  if (n > 16) {
    e = malloc(n * sizeof *e);
    if (!e) {
      c->err = MG_ENOMEM;
      return;
    }
  }
  for (size_t i = 0; i < n; i++) {
    const mg_json_member *m = &v->u.members[i];
    e[i] = (kv){m->key, m->key_len, m->value};
  }
  qsort(e, n, sizeof *e, cmp_lang);
  put1(c, '{');
  for (size_t i = 0; i < n; i++) {
    put_str_fold(c, e[i].k, e[i].kl, e[i].kl, e[i].kl);
    w_generic(c, e[i].v);
  }
  put1(c, '}');
  if (e != stack) free(e);
}

static val_writer route_attachment(cw *c, const char *key, size_t key_len, const mg_json *v) {
  if (KEY_IS(key, key_len, "display") || KEY_IS(key, key_len, "description")) return w_langmap;
  if (KEY_IS(key, key_len, "sha2")) return w_lower;
  return w_generic;
}

static void w_attachments(cw *c, const mg_json *v) { w_obj_list(c, v, route_attachment); }

/* ---- statement ---- */

static void w_timestamp(cw *c, const mg_json *v) {
  mg_timestamp t;
  const char *s = cstr(v);
  if (!s || mg_time_parse_iso(s, 1, &t) != MG_OK) {
    w_generic(c, v);
    return;
  }
  put_int(c, t.us >= 0 ? t.us / 1000 : -((-t.us + 999) / 1000));
}

static val_writer route_statement(cw *c, const char *key, size_t key_len, const mg_json *v) {
  if (!key_len) return w_generic;
  switch (key[0]) {
  case 'a':
    if (KEY_IS(key, key_len, "actor")) return w_agent;
    if (KEY_IS(key, key_len, "authority")) return NULL;
    if (KEY_IS(key, key_len, "attachments")) return w_attachments;
    break;
  case 'c':
    if (KEY_IS(key, key_len, "context")) return w_context;
    break;
  case 'i':
    if (KEY_IS(key, key_len, "id")) return NULL;
    break;
  case 'o':
    if (KEY_IS(key, key_len, "object")) return w_object;
    break;
  case 'r':
    if (KEY_IS(key, key_len, "result")) return w_result;
    break;
  case 's':
    if (KEY_IS(key, key_len, "stored")) return NULL;
    break;
  case 't':
    if (KEY_IS(key, key_len, "timestamp"))
      return (c->stored && mg_json_is_string(v) && v->len == c->stored_len &&
              !memcmp(v->u.str, c->stored, v->len))
                 ? NULL
                 : w_timestamp;
    break;
  case 'v':
    if (KEY_IS(key, key_len, "verb")) return w_verb;
    if (KEY_IS(key, key_len, "version")) return NULL;
    break;
  default: break;
  }
  return w_generic;
}

static void w_statement_body(cw *c, const mg_json *v) { w_obj(c, v, route_statement, NULL); }

/* BLAKE2b-256 (libsodium) rather than SHA-256: it is only compared with itself, and without SHA
 * instructions in the CPU it hashes the ~1.3 KB comparable form several times faster. The state
 * lives on the stack, so nothing is allocated per statement. */
static pthread_once_t g_sodium_once = PTHREAD_ONCE_INIT;
static int g_sodium_ok;

static void sodium_once(void) { g_sodium_ok = sodium_init() >= 0; } /* picks the fastest code */

int mg_xapi_compare_digest(const mg_json *stmt, uint8_t out[32]) {
  if (!mg_json_is_object(stmt) || !out) return MG_EINVAL;
  pthread_once(&g_sodium_once, sodium_once);
  if (!g_sodium_ok) return MG_ECRYPTO;
  crypto_generichash_state st;
  if (crypto_generichash_init(&st, NULL, 0, 32) != 0) return MG_ECRYPTO;
  unsigned char buf[CW_BUF];
  const mg_json *stored = mg_json_object_get(stmt, "stored");
  cw c = {.md = &st,
          .spill = NULL,
          .stored = mg_json_string_value(stored),
          .stored_len = mg_json_string_length(stored),
          .err = 0,
          .buf = buf,
          .len = 0,
          .cap = sizeof buf};
  w_statement_body(&c, stmt);
  cw_flush(&c);
  if (c.err) return c.err;
  if (crypto_generichash_final(&st, out, 32) != 0) return MG_ECRYPTO;
  return MG_OK;
}
/* ---- formats ---------------------------------------------------------------------------- */

int mg_xapi_format_parse(const char *s, mg_xapi_format *out) {
  if (!s || !out) return MG_EINVAL;
  if (!strcmp(s, "exact")) *out = MG_XAPI_FORMAT_EXACT;
  else if (!strcmp(s, "ids")) *out = MG_XAPI_FORMAT_IDS;
  else if (!strcmp(s, "canonical")) *out = MG_XAPI_FORMAT_CANONICAL;
  else return MG_EINVAL;
  return MG_OK;
}

/* -- ids --
 * Communication 2.1.3: "only include minimum information necessary in Agent, Activity, Verb and
 * Group Objects to identify them. For Anonymous Groups this means including the minimum
 * information needed to identify each member." So: Agents and identified Groups keep their
 * objectType (when present) and IFI only; anonymous Groups keep objectType and their members
 * reduced the same way; Activities and Verbs keep only id (the ADL suite, XAPI-00171, checks
 * that an Activity comes back with exactly one property).
 *
 * The ids and canonical reductions work on a deep copy in the arena, so they may link values of
 * that copy into new parents rather than copying them again. */

static mg_json *ids_agent(mg_arena *a, mg_json *v) {
  if (!mg_json_is_object(v)) return v;
  mg_json *o = mg_json_object(a);
  if (!o) return NULL;
  static const char *const keep[] = {"objectType", "mbox", "mbox_sha1sum", "openid", "account"};
  int has_ifi = 0;
  for (size_t i = 0; i < sizeof keep / sizeof *keep; i++) {
    mg_json *x = mg_json_object_get(v, keep[i]);
    if (!x) continue;
    if (i) has_ifi = 1;
    if (mg_json_object_set(a, o, keep[i], x)) return NULL;
  }
  const mg_json *members = mg_json_object_get(v, "member");
  if (!has_ifi && mg_json_is_array(members)) {
    mg_json *arr = mg_json_array(a);
    if (!arr || mg_json_object_set(a, o, "member", arr)) return NULL;
    for (size_t i = 0; i < members->len; i++) {
      mg_json *m = ids_agent(a, members->u.items[i]);
      if (!m || mg_json_array_append(a, arr, m)) return NULL;
    }
  }
  return o;
}

static mg_json *id_only(mg_arena *a, mg_json *x) {
  mg_json *id = mg_json_object_get(x, "id");
  if (!id) return x;
  mg_json *o = mg_json_object(a);
  if (!o || mg_json_object_set(a, o, "id", id)) return NULL;
  return o;
}

typedef mg_json *(*reducer)(mg_arena *a, mg_json *v);

/* Replaces o[key] (if present) with f(o[key]). */
static int replace_with(mg_arena *a, mg_json *o, const char *key, reducer f) {
  mg_json *v = mg_json_object_get(o, key);
  if (!v) return MG_OK;
  mg_json *r = f(a, v);
  return r ? mg_json_object_set(a, o, key, r) : MG_ENOMEM;
}

static int ids_activity_list(mg_arena *a, mg_json *ca) {
  for (size_t k = 0; k < ca->len; k++) {
    mg_json *v = ca->u.members[k].value;
    if (mg_json_is_object(v)) {
      if (!(ca->u.members[k].value = id_only(a, v))) return MG_ENOMEM;
      continue;
    }
    for (size_t i = 0; i < mg_json_array_size(v); i++) {
      if (!(v->u.items[i] = id_only(a, v->u.items[i]))) return MG_ENOMEM;
    }
  }
  return MG_OK;
}

static int ids_context(mg_arena *a, mg_json *ctx) {
  if (!mg_json_is_object(ctx)) return MG_OK;
  int rc;
  if ((rc = replace_with(a, ctx, "instructor", ids_agent)) ||
      (rc = replace_with(a, ctx, "team", ids_agent)))
    return rc;
  mg_json *ca = mg_json_object_get(ctx, "contextActivities");
  if (mg_json_is_object(ca) && (rc = ids_activity_list(a, ca))) return rc;
  static const char *const lists[][2] = {{"contextAgents", "agent"}, {"contextGroups", "group"}};
  for (size_t l = 0; l < 2; l++) {
    size_t i;
    mg_json *e;
    mg_json_array_foreach(mg_json_object_get(ctx, lists[l][0]), i, e) {
      if (mg_json_is_object(e) && (rc = replace_with(a, e, lists[l][1], ids_agent))) return rc;
    }
  }
  return MG_OK;
}

/* Reduces a deep copy in place. */
static int ids_statement(mg_arena *a, mg_json *s) {
  int rc;
  if ((rc = replace_with(a, s, "actor", ids_agent)) || (rc = replace_with(a, s, "verb", id_only)) ||
      (rc = replace_with(a, s, "authority", ids_agent)))
    return rc;
  mg_json *obj = mg_json_object_get(s, "object");
  switch (object_kind(obj)) {
  case OBJ_ACTIVITY: rc = replace_with(a, s, "object", id_only); break;
  case OBJ_AGENT:
  case OBJ_GROUP: rc = replace_with(a, s, "object", ids_agent); break;
  case OBJ_SUB: rc = ids_statement(a, obj); break;
  default: break;
  }
  if (rc) return rc;
  return ids_context(a, mg_json_object_get(s, "context"));
}

/* -- canonical: Accept-Language -- */

#define LANG_MAX_PREFS 16
#define LANG_MAX_RANGE 64

typedef struct lang_prefs {
  char range[LANG_MAX_PREFS][LANG_MAX_RANGE];
  double q[LANG_MAX_PREFS];
  size_t n;
} lang_prefs;

/* Parses an Accept-Language value (RFC 7231 5.3.5) into ranges ordered by q, stable for equal
 * q. Ranges with q=0 ("not acceptable") or malformed parts are skipped; overlong or surplus
 * ranges are ignored (bounded work for hostile headers). */
static void lang_prefs_parse(const char *h, lang_prefs *p) {
  p->n = 0;
  if (!h) return;
  const char *s = h;
  while (*s && p->n < LANG_MAX_PREFS) {
    while (*s == ' ' || *s == '\t' || *s == ',') s++;
    if (!*s) break;
    const char *start = s;
    while (*s && *s != ',' && *s != ';' && *s != ' ' && *s != '\t') s++;
    size_t rlen = (size_t)(s - start);
    double q = 1.0;
    int ok = rlen > 0 && rlen < LANG_MAX_RANGE;
    for (size_t i = 0; ok && i < rlen; i++) {
      char ch = start[i];
      if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
            ch == '-' || ch == '*'))
        ok = 0;
    }
    /* parameters: only q matters */
    while (*s && *s != ',') {
      while (*s == ' ' || *s == '\t' || *s == ';') s++;
      if ((*s == 'q' || *s == 'Q') && s[1] == '=') {
        char *end;
        q = strtod(s + 2, &end);
        if (end == s + 2 || !(q >= 0 && q <= 1)) ok = 0; /* also rejects NaN */
        s = end;
      } else {
        while (*s && *s != ',' && *s != ';') s++;
      }
      while (*s == ' ' || *s == '\t') s++;
      if (*s && *s != ',' && *s != ';') {
        ok = 0;
        while (*s && *s != ',') s++;
      }
    }
    if (!ok || q <= 0) continue;
    size_t at = p->n;
    while (at > 0 && p->q[at - 1] < q) at--; /* insertion keeps equal q in header order */
    for (size_t j = p->n; j > at; j--) {
      memcpy(p->range[j], p->range[j - 1], LANG_MAX_RANGE);
      p->q[j] = p->q[j - 1];
    }
    memcpy(p->range[at], start, rlen);
    p->range[at][rlen] = '\0';
    p->q[at] = q;
    p->n++;
  }
}


#define NO_ENTRY ((size_t)-1)

/* The index of the entry whose tag equals tag/n ignoring case, or NO_ENTRY. */
static size_t lang_exact(const mg_json *map, const char *tag, size_t n) {
  for (size_t i = 0; i < map->len; i++) {
    const mg_json_member *m = &map->u.members[i];
    if (m->key_len == n && !strncasecmp(m->key, tag, n)) return i;
  }
  return NO_ENTRY;
}

/* First entry that the range matches as a prefix ending at a subtag boundary (RFC 2616 14.4). */
static size_t lang_prefix(const mg_json *map, const char *range, size_t n) {
  for (size_t i = 0; i < map->len; i++) {
    const mg_json_member *m = &map->u.members[i];
    if (m->key_len > n && !strncasecmp(m->key, range, n) && m->key[n] == '-') return i;
  }
  return NO_ENTRY;
}

static size_t lang_fallback(const mg_json *map) {
  size_t k;
  if ((k = lang_exact(map, "en-US", 5)) != NO_ENTRY || (k = lang_exact(map, "en", 2)) != NO_ENTRY ||
      (k = lang_prefix(map, "en", 2)) != NO_ENTRY)
    return k;
  return map->len ? 0 : NO_ENTRY;
}

/* Picks the entry of map to keep: per range in preference order, an exact match, then a tag
 * the range is a prefix of (RFC 2616), then RFC 4647 lookup (truncating the range subtag by
 * subtag; a dangling singleton never matches a valid tag, so it needs no special step); "*" or
 * no match at all falls back to en-US, en, en-*, then the first entry. */
static size_t lang_pick(const mg_json *map, const lang_prefs *p) {
  for (size_t i = 0; i < p->n; i++) {
    const char *r = p->range[i];
    if (!strcmp(r, "*")) break;
    size_t n = strlen(r);
    size_t k;
    if ((k = lang_exact(map, r, n)) != NO_ENTRY || (k = lang_prefix(map, r, n)) != NO_ENTRY)
      return k;
    while (n > 0) {
      while (n > 0 && r[n - 1] != '-') n--;
      if (n == 0) break;
      n--; /* drop the '-' */
      if (n && (k = lang_exact(map, r, n)) != NO_ENTRY) return k;
    }
  }
  return lang_fallback(map);
}

/* Reduces o[key], a language map with more than one entry, to its best entry. The map belongs
 * to the copy being rendered, so it is cut down in place. */
static void canon_map(mg_json *o, const char *key, const lang_prefs *p) {
  mg_json *map = mg_json_object_get(o, key);
  if (!mg_json_is_object(map) || map->len < 2) return;
  size_t k = lang_pick(map, p);
  map->u.members[0] = map->u.members[k];
  map->len = 1;
}

static void canon_activity(mg_json *act, const lang_prefs *p) {
  mg_json *def = mg_json_object_get(act, "definition");
  if (!mg_json_is_object(def)) return;
  canon_map(def, "name", p);
  canon_map(def, "description", p);
  static const char *const comps[] = {"choices", "scale", "source", "target", "steps"};
  for (size_t c = 0; c < sizeof comps / sizeof *comps; c++) {
    size_t i;
    mg_json *e;
    mg_json_array_foreach(mg_json_object_get(def, comps[c]), i, e) canon_map(e, "description", p);
  }
}

static void canon_statement(mg_json *s, const lang_prefs *p) {
  canon_map(mg_json_object_get(s, "verb"), "display", p);
  mg_json *obj = mg_json_object_get(s, "object");
  switch (object_kind(obj)) {
  case OBJ_ACTIVITY: canon_activity(obj, p); break;
  case OBJ_SUB: canon_statement(obj, p); break;
  default: break;
  }
  mg_json *ca = mg_json_object_get(mg_json_object_get(s, "context"), "contextActivities");
  for (size_t k = 0; k < mg_json_object_size(ca); k++) {
    mg_json *v = ca->u.members[k].value;
    if (mg_json_is_object(v)) {
      canon_activity(v, p);
      continue;
    }
    size_t i;
    mg_json *e;
    mg_json_array_foreach(v, i, e) canon_activity(e, p);
  }
}

/* Canonical reduces the language maps the spec puts under the LRS's canonical control (Activity
 * name, description, interaction components; Verb display). Agents and Groups stay exact, and
 * so do attachments and extensions, which are not canonical definitions. */
mg_json *mg_xapi_render(mg_arena *a, const mg_json *stmt, mg_xapi_format f,
                        const char *accept_language) {
  if (!a || !stmt) return NULL;
  mg_json *copy = mg_json_deep_copy(a, stmt);
  if (!copy || f == MG_XAPI_FORMAT_EXACT) return copy;
  if (f == MG_XAPI_FORMAT_IDS) return ids_statement(a, copy) ? NULL : copy;
  lang_prefs p;
  lang_prefs_parse(accept_language, &p);
  canon_statement(copy, &p);
  return copy;
}
