#include "xapi/statement.h"

#include <math.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
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

static const char *jstr(const json_t *o, const char *key) {
  return json_string_value(json_object_get(o, key));
}

static int streq(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

static char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c; }

static void lower_inplace(char *p, size_t n) {
  for (size_t i = 0; i < n; i++) p[i] = ascii_lower(p[i]);
}

/* Statement object kinds; an absent objectType means Activity (xAPI 2.4.4). */
typedef enum obj_kind { OBJ_ACTIVITY, OBJ_AGENT, OBJ_GROUP, OBJ_REF, OBJ_SUB, OBJ_OTHER } obj_kind;

static obj_kind object_kind(const json_t *obj) {
  const char *t = jstr(obj, "objectType");
  if (!t || !strcmp(t, "Activity")) return OBJ_ACTIVITY;
  if (!strcmp(t, "Agent")) return OBJ_AGENT;
  if (!strcmp(t, "Group")) return OBJ_GROUP;
  if (!strcmp(t, "StatementRef")) return OBJ_REF;
  if (!strcmp(t, "SubStatement")) return OBJ_SUB;
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

/* ---- prepare ---------------------------------------------------------------------------- */

/* xAPI requires contextActivities values to be returned as arrays even when a single Activity
 * was sent, so they are stored that way. */
static int context_activities_to_arrays(json_t *stmt) {
  json_t *ca = json_object_get(json_object_get(stmt, "context"), "contextActivities");
  if (!json_is_object(ca)) return MG_OK;
  for (void *it = json_object_iter(ca); it; it = json_object_iter_next(ca, it)) {
    json_t *v = json_object_iter_value(it);
    if (!json_is_object(v)) continue;
    json_t *arr = json_array();
    if (!arr || json_array_append(arr, v) || json_object_iter_set_new(ca, it, arr)) {
      json_decref(arr);
      return MG_ENOMEM;
    }
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
  if (mg_time_parse_iso(s, 1, &t) != MG_OK || !t.has_tz) return;
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
int mg_xapi_prepare(json_t *stmt, mg_xapi_version v, int64_t stored_us, json_t *authority) {
  if (!json_is_object(stmt)) return MG_EINVAL;
  uint8_t id[16];
  char idtxt[MG_UUID_STR_LEN];
  const char *given = jstr(stmt, "id");
  if (given) {
    if (mg_uuid_parse(given, id) != MG_OK) return MG_EINVAL;
  } else {
    mg_uuid_v4(id);
  }
  mg_uuid_format(id, idtxt);
  if (!given || strcmp(given, idtxt))
    if (json_object_set_new(stmt, "id", json_string(idtxt))) return MG_ENOMEM;

  char stored[MG_TIME_ISO_LEN];
  mg_time_format_iso(stored_us, 3, stored);
  if (json_object_set_new(stmt, "stored", json_string(stored))) return MG_ENOMEM;

  if (authority) {
    if (json_object_set(stmt, "authority", authority)) return MG_ENOMEM;
  } else {
    json_object_del(stmt, "authority");
  }

  if (!json_object_get(stmt, "version") &&
      json_object_set_new(stmt, "version", json_string(v == MG_XAPI_V200 ? "2.0.0" : "1.0.0")))
    return MG_ENOMEM;

  const char *ts = jstr(stmt, "timestamp");
  if (!ts) {
    if (json_object_set_new(stmt, "timestamp", json_string(stored))) return MG_ENOMEM;
  } else if (v == MG_XAPI_V200) {
    char utc[96];
    int changed;
    timestamp_utc(ts, utc, sizeof utc, &changed);
    if (changed && json_object_set_new(stmt, "timestamp", json_string(utc))) return MG_ENOMEM;
  }

  int rc = context_activities_to_arrays(stmt);
  if (rc) return rc;
  json_t *obj = json_object_get(stmt, "object");
  if (object_kind(obj) == OBJ_SUB) {
    rc = context_activities_to_arrays(obj);
    if (rc) return rc;
    /* a SubStatement's own timestamp follows the same 2.0 UTC rule */
    const char *sts = jstr(obj, "timestamp");
    if (sts && v == MG_XAPI_V200) {
      char utc[96];
      int changed;
      timestamp_utc(sts, utc, sizeof utc, &changed);
      if (changed && json_object_set_new(obj, "timestamp", json_string(utc))) return MG_ENOMEM;
    }
  }
  return MG_OK;
}

/* ---- agent keys ------------------------------------------------------------------------- */

/* Appends the key of agent a to b (no reset). MG_EINVAL when a has no IFI. */
static int agent_key_append(const json_t *a, mg_buf *b) {
  const char *s;
  int rc;
  if ((s = jstr(a, "mbox"))) {
    if ((rc = mg_buf_add(b, "mbox:", 5))) return rc;
    size_t at = b->len;
    if ((rc = mg_buf_adds(b, s))) return rc;
    mbox_fold(b->data + at, b->len - at);
    return MG_OK;
  }
  if ((s = jstr(a, "mbox_sha1sum"))) {
    if ((rc = mg_buf_add(b, "mbox_sha1sum:", 13))) return rc;
    size_t at = b->len;
    if ((rc = mg_buf_adds(b, s))) return rc;
    lower_inplace(b->data + at, b->len - at); /* hex digits: case carries no meaning */
    return MG_OK;
  }
  if ((s = jstr(a, "openid"))) {
    if ((rc = mg_buf_add(b, "openid:", 7))) return rc;
    return mg_buf_adds(b, s);
  }
  const json_t *acct = json_object_get(a, "account");
  if (acct) {
    const char *home = jstr(acct, "homePage"), *name = jstr(acct, "name");
    if (!home || !name) return MG_EINVAL;
    if ((rc = mg_buf_add(b, "account:", 8)) || (rc = mg_buf_adds(b, home)) ||
        (rc = mg_buf_addc(b, '\x1f')) || (rc = mg_buf_adds(b, name)))
      return rc;
    return MG_OK;
  }
  return MG_EINVAL;
}

/* Keys compare mbox with the scheme and the domain folded to lower case and the local part
 * exact (see mbox_fold; xAPI Data 2.3.1 names the e-mail domain as case-insensitive, RFC 5321
 * leaves the local part to the receiving host), mbox_sha1sum case-insensitively (hex), openid
 * and account (homePage, name) exactly, as IRIs and account names are case-sensitive. */
int mg_xapi_agent_key(const json_t *agent, mg_buf *out) {
  if (!json_is_object(agent) || !out) return MG_EINVAL;
  mg_buf_reset(out);
  int rc = agent_key_append(agent, out);
  if (rc) mg_buf_reset(out);
  return rc;
}

/* ---- index keys ------------------------------------------------------------------------- */

typedef struct extract {
  mg_xapi_keys *k;
  mg_buf scratch;
} extract;

static int grow(void *arrp, size_t *cap, size_t n, size_t elem) {
  if (n < *cap) return MG_OK;
  size_t nc = *cap ? *cap * 2 : 8;
  void *p = realloc(*(void **)arrp, nc * elem);
  if (!p) return MG_ENOMEM;
  *(void **)arrp = p;
  *cap = nc;
  return MG_OK;
}

/* Adds a's key, if it has one. *added tells whether it did. */
static int push_agent_key(extract *x, const json_t *a, int *added) {
  mg_xapi_keys *k = x->k;
  if (added) *added = 0;
  mg_buf_reset(&x->scratch);
  int rc = agent_key_append(a, &x->scratch);
  if (rc == MG_EINVAL) return MG_OK; /* anonymous group: no key of its own */
  if (rc) return rc;
  if ((rc = grow(&k->agents, &k->cap_agents, k->n_agents, sizeof *k->agents))) return rc;
  char *s = malloc(x->scratch.len + 1);
  if (!s) return MG_ENOMEM;
  memcpy(s, x->scratch.data, x->scratch.len + 1);
  k->agents[k->n_agents++] = s;
  if (added) *added = 1;
  return MG_OK;
}

static int push_members(extract *x, const json_t *a) {
  const json_t *members = json_object_get(a, "member");
  size_t i;
  const json_t *m;
  json_array_foreach(members, i, m) {
    int rc = push_agent_key(x, m, NULL);
    if (rc) return rc;
  }
  return MG_OK;
}

static int push_agent_all(extract *x, const json_t *a) {
  if (!json_is_object(a)) return MG_OK;
  int rc = push_agent_key(x, a, NULL);
  return rc ? rc : push_members(x, a);
}

static int push_activity(mg_xapi_keys *k, const json_t *act) {
  const char *id = jstr(act, "id");
  if (!id) return MG_OK;
  int rc = grow(&k->activities, &k->cap_activities, k->n_activities, sizeof *k->activities);
  if (rc) return rc;
  k->activities[k->n_activities++] = id;
  return MG_OK;
}

static int push_context(extract *x, const json_t *ctx) {
  if (!json_is_object(ctx)) return MG_OK;
  int rc;
  if ((rc = push_agent_all(x, json_object_get(ctx, "instructor")))) return rc;
  if ((rc = push_agent_all(x, json_object_get(ctx, "team")))) return rc;
  size_t i;
  const json_t *e;
  json_array_foreach(json_object_get(ctx, "contextAgents"), i, e) {
    if ((rc = push_agent_all(x, json_object_get(e, "agent")))) return rc;
  }
  json_array_foreach(json_object_get(ctx, "contextGroups"), i, e) {
    if ((rc = push_agent_all(x, json_object_get(e, "group")))) return rc;
  }
  const json_t *ca = json_object_get(ctx, "contextActivities");
  const char *kind;
  const json_t *v;
  json_object_foreach((json_t *)ca, kind, v) {
    if (json_is_object(v)) {
      if ((rc = push_activity(x->k, v))) return rc;
      continue;
    }
    json_array_foreach(v, i, e) {
      if ((rc = push_activity(x->k, e))) return rc;
    }
  }
  return MG_OK;
}

/* Everything a SubStatement relates to (it has no authority and no nested SubStatement). */
static int push_substatement(extract *x, const json_t *sub) {
  int rc;
  if ((rc = push_agent_all(x, json_object_get(sub, "actor")))) return rc;
  const json_t *obj = json_object_get(sub, "object");
  switch (object_kind(obj)) {
  case OBJ_ACTIVITY: rc = push_activity(x->k, obj); break;
  case OBJ_AGENT:
  case OBJ_GROUP: rc = push_agent_all(x, obj); break;
  default: break;
  }
  if (rc) return rc;
  return push_context(x, json_object_get(sub, "context"));
}

typedef struct dedup_ent {
  const char *s;
  size_t i;
} dedup_ent;

static int dedup_cmp(const void *a, const void *b) {
  const dedup_ent *x = a, *y = b;
  int c = strcmp(x->s, y->s);
  if (c) return c;
  return x->i < y->i ? -1 : x->i > y->i;
}

/* Removes repeated strings keeping the first occurrence and the original order; owned strings
 * that are dropped are freed. Linear for short arrays, O(n log n) beyond DEDUP_LINEAR_MAX. */
static int dedup(const char **a, size_t *pn, int owned) {
  size_t n = *pn, m = 0;
  if (n < 2) return MG_OK;
  if (n <= DEDUP_LINEAR_MAX) {
    for (size_t i = 0; i < n; i++) {
      size_t j = 0;
      while (j < m && strcmp(a[j], a[i])) j++;
      if (j < m) {
        if (owned) free((void *)a[i]);
      } else {
        a[m++] = a[i];
      }
    }
    *pn = m;
    return MG_OK;
  }
  dedup_ent *e = malloc(n * sizeof *e);
  unsigned char *drop = calloc(n, 1);
  if (!e || !drop) {
    free(e);
    free(drop);
    return MG_ENOMEM;
  }
  for (size_t i = 0; i < n; i++) e[i] = (dedup_ent){a[i], i};
  qsort(e, n, sizeof *e, dedup_cmp);
  for (size_t i = 1; i < n; i++)
    if (!strcmp(e[i].s, e[i - 1].s)) drop[e[i].i] = 1;
  for (size_t i = 0; i < n; i++) {
    if (drop[i]) {
      if (owned) free((void *)a[i]);
    } else {
      a[m++] = a[i];
    }
  }
  *pn = m;
  free(e);
  free(drop);
  return MG_OK;
}

void mg_xapi_keys_free(mg_xapi_keys *keys) {
  if (!keys) return;
  for (size_t i = 0; i < keys->n_agents; i++) free(keys->agents[i]);
  free(keys->agents);
  free(keys->activities);
  memset(keys, 0, sizeof *keys);
}

static int parse_time(const json_t *stmt, const char *key, int64_t *out) {
  mg_timestamp t;
  if (mg_time_parse_iso(jstr(stmt, key), 1, &t) != MG_OK) return MG_EINVAL;
  *out = t.us;
  return MG_OK;
}

int mg_xapi_keys_extract(const json_t *stmt, mg_xapi_keys *keys) {
  if (!keys) return MG_EINVAL;
  memset(keys, 0, sizeof *keys);
  if (!json_is_object(stmt)) return MG_EINVAL;
  mg_store_stmt *row = &keys->row;
  extract x = {.k = keys};
  mg_buf_init(&x.scratch, SCRATCH_MAX);
  int rc = MG_EINVAL;

  if (mg_uuid_parse(jstr(stmt, "id"), row->id) != MG_OK) goto out;
  if ((rc = parse_time(stmt, "stored", &row->stored_us))) goto out;
  if ((rc = parse_time(stmt, "timestamp", &row->timestamp_us))) goto out;
  rc = MG_EINVAL;
  row->verb_id = jstr(json_object_get(stmt, "verb"), "id");
  if (!row->verb_id) goto out;

  const json_t *actor = json_object_get(stmt, "actor");
  const json_t *obj = json_object_get(stmt, "object");
  obj_kind ok = object_kind(obj);
  if (!json_is_object(actor) || !json_is_object(obj)) goto out;

  /* The actor's key goes first and the object's second, so that after an order-keeping
   * de-duplication actor_key and object_agent_key can point at entries that survived. */
  int has_actor = 0, has_obj_agent = 0;
  if ((rc = push_agent_key(&x, actor, &has_actor))) goto out;
  if (ok == OBJ_AGENT || ok == OBJ_GROUP) {
    if ((rc = push_agent_key(&x, obj, &has_obj_agent))) goto out;
  }
  int obj_is_actor =
      has_actor && has_obj_agent && !strcmp(keys->agents[0], keys->agents[1]);
  if ((rc = push_members(&x, actor))) goto out;

  switch (ok) {
  case OBJ_ACTIVITY:
    row->object_activity_id = jstr(obj, "id");
    if ((rc = push_activity(keys, obj))) goto out;
    break;
  case OBJ_AGENT:
  case OBJ_GROUP:
    if ((rc = push_members(&x, obj))) goto out;
    break;
  case OBJ_REF:
    rc = MG_EINVAL;
    if (mg_uuid_parse(jstr(obj, "id"), row->object_ref) != MG_OK) goto out;
    row->has_object_ref = 1;
    row->is_voiding = !strcmp(row->verb_id, MG_XAPI_VERB_VOIDED);
    break;
  case OBJ_SUB:
    if ((rc = push_substatement(&x, obj))) goto out;
    break;
  case OBJ_OTHER: break;
  }

  if ((rc = push_agent_all(&x, json_object_get(stmt, "authority")))) goto out;
  const json_t *ctx = json_object_get(stmt, "context");
  if ((rc = push_context(&x, ctx))) goto out;
  const char *reg = jstr(ctx, "registration");
  if (reg) {
    rc = MG_EINVAL;
    if (mg_uuid_parse(reg, row->registration) != MG_OK) goto out;
    row->has_registration = 1;
  }

  if ((rc = dedup((const char **)keys->agents, &keys->n_agents, 1))) goto out;
  if ((rc = dedup(keys->activities, &keys->n_activities, 0))) goto out;
  if (has_actor) row->actor_key = keys->agents[0];
  if (has_obj_agent) row->object_agent_key = keys->agents[obj_is_actor ? 0 : has_actor];
  row->related_agents = (const char *const *)keys->agents;
  row->n_related_agents = keys->n_agents;
  row->related_activities = keys->activities;
  row->n_related_activities = keys->n_activities;

  rc = mg_xapi_compare_digest(stmt, row->cmp_hash);

out:
  mg_buf_free(&x.scratch);
  if (rc) mg_xapi_keys_free(keys);
  return rc;
}

/* ---- comparison digest ------------------------------------------------------------------
 *
 * The comparable form is a serialisation of the statement with object keys sorted bytewise,
 * streamed into SHA-256 while walking the statement once. Per xAPI "Statement Immutability"
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
 * hosts, as stored digests must stay comparable after a restore elsewhere. */

#define CW_BUF 2048

typedef struct cw {
  EVP_MD_CTX *md;     /* sink: the hash ... */
  mg_buf *spill;      /* ... or a buffer (group members are sorted as encoded text) */
  const char *stored; /* top-level stored text, NULL inside a SubStatement */
  int err;            /* first error; later writes are ignored */
  size_t len;
  unsigned char buf[CW_BUF];
} cw;

static void cw_sink(cw *c, const void *p, size_t n) {
  if (c->err || !n) return;
  if (c->md) {
    if (EVP_DigestUpdate(c->md, p, n) != 1) c->err = MG_ECRYPTO;
  } else {
    int rc = mg_buf_add(c->spill, p, n);
    if (rc) c->err = rc;
  }
}

static void cw_flush(cw *c) {
  cw_sink(c, c->buf, c->len);
  c->len = 0;
}

static void put(cw *c, const void *p, size_t n) {
  if (n <= CW_BUF - c->len) {
    memcpy(c->buf + c->len, p, n);
    c->len += n;
    return;
  }
  cw_flush(c);
  if (n <= CW_BUF) {
    memcpy(c->buf, p, n);
    c->len = n;
  } else {
    cw_sink(c, p, n);
  }
}

static void put1(cw *c, char ch) {
  if (c->len == CW_BUF) cw_flush(c);
  c->buf[c->len++] = (unsigned char)ch;
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

static void w_generic(cw *c, const json_t *v);

typedef void (*val_writer)(cw *c, const json_t *v);
/* Returns the writer for a key of an object, or NULL to leave the key out. */
typedef val_writer (*key_router)(cw *c, const char *key, const json_t *v);

/* A string with ASCII letters folded to lower case. */
static void w_lower(cw *c, const json_t *v) {
  if (!json_is_string(v)) {
    w_generic(c, v);
    return;
  }
  size_t n = json_string_length(v);
  put_str_fold(c, json_string_value(v), n, n, n);
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
  const json_t *v;
} kv;

static int cmp_kv(const void *a, const void *b) {
  return strcmp(((const kv *)a)->k, ((const kv *)b)->k);
}

static void sort_kv(kv *e, size_t n) {
  if (n > 12) {
    qsort(e, n, sizeof *e, cmp_kv);
    return;
  }
  for (size_t i = 1; i < n; i++) { /* objects are small: insertion sort beats qsort's setup */
    kv x = e[i];
    size_t j = i;
    while (j > 0 && strcmp(e[j - 1].k, x.k) > 0) {
      e[j] = e[j - 1];
      j--;
    }
    e[j] = x;
  }
}

/* Writes object o with sorted keys, each through the writer route picks. implied (may be NULL)
 * is a key routed even when absent (its writer then gets NULL) so defaults can be spelled out. */
static void w_obj(cw *c, const json_t *o, key_router route, const char *implied) {
  kv stack[24], *e = stack;
  size_t n = json_object_size(o) + 1, k = 0;
  if (n > sizeof stack / sizeof *stack) {
    e = malloc(n * sizeof *e);
    if (!e) {
      c->err = MG_ENOMEM;
      return;
    }
  }
  const char *key;
  const json_t *v;
  int have_implied = 0;
  json_object_foreach((json_t *)o, key, v) {
    e[k++] = (kv){key, v};
    if (implied && !have_implied && !strcmp(key, implied)) have_implied = 1;
  }
  if (implied && !have_implied) e[k++] = (kv){implied, NULL};
  sort_kv(e, k);
  put1(c, '{');
  for (size_t i = 0; i < k; i++) {
    val_writer w = route(c, e[i].k, e[i].v);
    if (!w) continue;
    put_cstr(c, e[i].k);
    w(c, e[i].v);
  }
  put1(c, '}');
  if (e != stack) free(e);
}

static val_writer route_generic(cw *c, const char *key, const json_t *v) { return w_generic; }

static void w_generic(cw *c, const json_t *v) {
  if (!v) {
    put1(c, 'n');
    return;
  }
  switch (json_typeof(v)) {
  case JSON_OBJECT: w_obj(c, v, route_generic, NULL); break;
  case JSON_ARRAY: {
    size_t i;
    const json_t *e;
    put1(c, '[');
    json_array_foreach(v, i, e) w_generic(c, e);
    put1(c, ']');
    break;
  }
  case JSON_STRING: put_str(c, json_string_value(v), json_string_length(v)); break;
  case JSON_INTEGER: put_int(c, (long long)json_integer_value(v)); break;
  case JSON_REAL: w_real(c, json_real_value(v)); break;
  case JSON_TRUE: put1(c, 't'); break;
  case JSON_FALSE: put1(c, 'f'); break;
  case JSON_NULL: put1(c, 'n'); break;
  }
}

/* ---- agents ---- */

static void w_agent(cw *c, const json_t *v);

static void w_agent_type(cw *c, const json_t *v) {
  if (v) w_generic(c, v);
  else put_cstr(c, "Agent");
}

static void w_mbox(cw *c, const json_t *v) {
  if (!json_is_string(v)) {
    w_generic(c, v);
    return;
  }
  const char *s = json_string_value(v);
  size_t n = json_string_length(v), lo = 0, hi = n;
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

/* Group members are unordered: each is encoded on its own, then they are sorted. */
static void w_members(cw *c, const json_t *v) {
  if (!json_is_array(v)) {
    w_generic(c, v);
    return;
  }
  size_t n = json_array_size(v);
  if (n < 2) { /* nothing to order */
    put1(c, '[');
    if (n) w_agent(c, json_array_get(v, 0));
    put1(c, ']');
    return;
  }
  mg_buf tmp;
  mg_buf_init(&tmp, SCRATCH_MAX);
  span *sp = malloc(n * sizeof *sp);
  cw *sub = malloc(sizeof *sub);
  if (!sp || !sub) {
    c->err = MG_ENOMEM;
    goto out;
  }
  sub->md = NULL;
  sub->spill = &tmp;
  sub->stored = NULL;
  sub->err = 0;
  sub->len = 0;
  for (size_t i = 0; i < n; i++) {
    size_t start = tmp.len + sub->len;
    w_agent(sub, json_array_get(v, i));
    sp[i] = (span){NULL, start, tmp.len + sub->len - start};
  }
  cw_flush(sub);
  if (sub->err) {
    c->err = sub->err;
    goto out;
  }
  for (size_t i = 0; i < n; i++) sp[i].p = tmp.data + sp[i].off; /* text is final now */
  qsort(sp, n, sizeof *sp, cmp_span);
  put1(c, '[');
  for (size_t i = 0; i < n; i++) put(c, sp[i].p, sp[i].n);
  put1(c, ']');
out:
  free(sp);
  free(sub);
  mg_buf_free(&tmp);
}

static val_writer route_agent(cw *c, const char *key, const json_t *v) {
  if (!strcmp(key, "objectType")) return w_agent_type;
  if (!strcmp(key, "mbox")) return w_mbox;
  if (!strcmp(key, "mbox_sha1sum")) return w_lower;
  if (!strcmp(key, "member")) return w_members;
  return w_generic;
}

static void w_agent(cw *c, const json_t *v) {
  if (json_is_object(v)) w_obj(c, v, route_agent, "objectType");
  else w_generic(c, v);
}

/* ---- activities, verbs, objects ---- */

/* {"id": id[, "objectType": type]} in sorted-key order. */
static void w_id_only(cw *c, const json_t *v, const char *type) {
  put1(c, '{');
  put_str(c, "id", 2);
  w_generic(c, json_object_get(v, "id"));
  if (type) {
    put_str(c, "objectType", 10);
    put_cstr(c, type);
  }
  put1(c, '}');
}

static void w_activity(cw *c, const json_t *v) {
  if (json_is_object(v)) w_id_only(c, v, "Activity");
  else w_generic(c, v);
}

static void w_verb(cw *c, const json_t *v) {
  if (json_is_object(v)) w_id_only(c, v, NULL);
  else w_generic(c, v);
}

static void w_stmtref(cw *c, const json_t *v) {
  if (!json_is_object(v)) {
    w_generic(c, v);
    return;
  }
  put1(c, '{');
  put_str(c, "id", 2);
  w_lower(c, json_object_get(v, "id"));
  put_str(c, "objectType", 10);
  put_str(c, "StatementRef", 12);
  put1(c, '}');
}

static void w_statement_body(cw *c, const json_t *v);

static void w_object(cw *c, const json_t *v) {
  if (!json_is_object(v)) {
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
static void w_duration(cw *c, const json_t *v) {
  const char *s = json_string_value(v);
  if (!s) {
    w_generic(c, v);
    return;
  }
  size_t n = json_string_length(v);
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

static val_writer route_result(cw *c, const char *key, const json_t *v) {
  return strcmp(key, "duration") ? w_generic : w_duration;
}

static void w_result(cw *c, const json_t *v) {
  if (json_is_object(v)) w_obj(c, v, route_result, NULL);
  else w_generic(c, v);
}

static void w_activity_list(cw *c, const json_t *v) {
  if (json_is_object(v)) { /* a single Activity is the same as an array of one */
    put1(c, '[');
    w_activity(c, v);
    put1(c, ']');
    return;
  }
  if (!json_is_array(v)) {
    w_generic(c, v);
    return;
  }
  size_t i;
  const json_t *e;
  put1(c, '[');
  json_array_foreach(v, i, e) w_activity(c, e);
  put1(c, ']');
}

static val_writer route_ctx_acts(cw *c, const char *key, const json_t *v) {
  return w_activity_list;
}

static void w_ctx_acts(cw *c, const json_t *v) {
  if (json_is_object(v)) w_obj(c, v, route_ctx_acts, NULL);
  else w_generic(c, v);
}

static val_writer route_ctx_member(cw *c, const char *key, const json_t *v) {
  return (!strcmp(key, "agent") || !strcmp(key, "group")) ? w_agent : w_generic;
}

static void w_ctx_member_list(cw *c, const json_t *v) {
  if (!json_is_array(v)) {
    w_generic(c, v);
    return;
  }
  size_t i;
  const json_t *e;
  put1(c, '[');
  json_array_foreach(v, i, e) {
    if (json_is_object(e)) w_obj(c, e, route_ctx_member, NULL);
    else w_generic(c, e);
  }
  put1(c, ']');
}

static val_writer route_context(cw *c, const char *key, const json_t *v) {
  if (!strcmp(key, "registration") || !strcmp(key, "language")) return w_lower;
  if (!strcmp(key, "instructor") || !strcmp(key, "team")) return w_agent;
  if (!strcmp(key, "contextActivities")) return w_ctx_acts;
  if (!strcmp(key, "statement")) return w_stmtref;
  if (!strcmp(key, "contextAgents") || !strcmp(key, "contextGroups")) return w_ctx_member_list;
  return w_generic;
}

static void w_context(cw *c, const json_t *v) {
  if (json_is_object(v)) w_obj(c, v, route_context, NULL);
  else w_generic(c, v);
}

static int cmp_lang(const void *a, const void *b) {
  const kv *x = a, *y = b;
  int r = strcasecmp(x->k, y->k);
  return r ? r : strcmp(x->k, y->k);
}

/* A language map whose tags (case-insensitive, RFC 5646) are folded to lower case. */
static void w_langmap(cw *c, const json_t *v) {
  if (!json_is_object(v)) {
    w_generic(c, v);
    return;
  }
  size_t n = json_object_size(v), k = 0;
  kv stack[16], *e = stack;
  if (n > 16) {
    e = malloc(n * sizeof *e);
    if (!e) {
      c->err = MG_ENOMEM;
      return;
    }
  }
  const char *key;
  const json_t *val;
  json_object_foreach((json_t *)v, key, val) e[k++] = (kv){key, val};
  qsort(e, k, sizeof *e, cmp_lang);
  put1(c, '{');
  for (size_t i = 0; i < k; i++) {
    size_t kl = strlen(e[i].k);
    put_str_fold(c, e[i].k, kl, kl, kl);
    w_generic(c, e[i].v);
  }
  put1(c, '}');
  if (e != stack) free(e);
}

static val_writer route_attachment(cw *c, const char *key, const json_t *v) {
  if (!strcmp(key, "display") || !strcmp(key, "description")) return w_langmap;
  if (!strcmp(key, "sha2")) return w_lower;
  return w_generic;
}

static void w_attachments(cw *c, const json_t *v) {
  if (!json_is_array(v)) {
    w_generic(c, v);
    return;
  }
  size_t i;
  const json_t *e;
  put1(c, '[');
  json_array_foreach(v, i, e) {
    if (json_is_object(e)) w_obj(c, e, route_attachment, NULL);
    else w_generic(c, e);
  }
  put1(c, ']');
}

/* ---- statement ---- */

static void w_timestamp(cw *c, const json_t *v) {
  mg_timestamp t;
  if (mg_time_parse_iso(json_string_value(v), 1, &t) != MG_OK) {
    w_generic(c, v);
    return;
  }
  put_int(c, t.us >= 0 ? t.us / 1000 : -((-t.us + 999) / 1000));
}

static val_writer route_statement(cw *c, const char *key, const json_t *v) {
  switch (key[0]) {
  case 'a':
    if (!strcmp(key, "actor")) return w_agent;
    if (!strcmp(key, "authority")) return NULL;
    if (!strcmp(key, "attachments")) return w_attachments;
    break;
  case 'c':
    if (!strcmp(key, "context")) return w_context;
    break;
  case 'i':
    if (!strcmp(key, "id")) return NULL;
    break;
  case 'o':
    if (!strcmp(key, "object")) return w_object;
    break;
  case 'r':
    if (!strcmp(key, "result")) return w_result;
    break;
  case 's':
    if (!strcmp(key, "stored")) return NULL;
    break;
  case 't':
    if (!strcmp(key, "timestamp"))
      return (c->stored && streq(json_string_value(v), c->stored)) ? NULL : w_timestamp;
    break;
  case 'v':
    if (!strcmp(key, "verb")) return w_verb;
    if (!strcmp(key, "version")) return NULL;
    break;
  default: break;
  }
  return w_generic;
}

static void w_statement_body(cw *c, const json_t *v) { w_obj(c, v, route_statement, NULL); }

static const EVP_MD *g_sha256;
static pthread_once_t g_sha256_once = PTHREAD_ONCE_INIT;

/* Fetched once: an implicit fetch on every EVP_DigestInit_ex costs a lookup per statement. */
static void sha256_fetch(void) { g_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL); }

int mg_xapi_compare_digest(const json_t *stmt, uint8_t out[32]) {
  if (!json_is_object(stmt) || !out) return MG_EINVAL;
  pthread_once(&g_sha256_once, sha256_fetch);
  if (!g_sha256) return MG_ECRYPTO;
  int rc = MG_OK;
  cw *c = malloc(sizeof *c);
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  if (!c || !md) {
    rc = MG_ENOMEM;
    goto out;
  }
  if (EVP_DigestInit_ex(md, g_sha256, NULL) != 1) {
    rc = MG_ECRYPTO;
    goto out;
  }
  c->md = md;
  c->spill = NULL;
  c->stored = jstr(stmt, "stored");
  c->err = 0;
  c->len = 0;
  w_statement_body(c, stmt);
  cw_flush(c);
  unsigned int len = 0;
  if (c->err) rc = c->err;
  else if (EVP_DigestFinal_ex(md, out, &len) != 1 || len != 32) rc = MG_ECRYPTO;
out:
  EVP_MD_CTX_free(md);
  free(c);
  return rc;
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
 * that an Activity comes back with exactly one property). */

static json_t *ids_agent(const json_t *a) {
  if (!json_is_object(a)) return json_deep_copy(a);
  json_t *o = json_object();
  if (!o) return NULL;
  static const char *const keep[] = {"objectType", "mbox", "mbox_sha1sum", "openid", "account"};
  int has_ifi = 0;
  for (size_t i = 0; i < sizeof keep / sizeof *keep; i++) {
    json_t *v = json_object_get(a, keep[i]);
    if (!v) continue;
    if (i) has_ifi = 1;
    if (json_object_set_new(o, keep[i], json_deep_copy(v))) goto fail;
  }
  const json_t *members = json_object_get(a, "member");
  if (!has_ifi && json_is_array(members)) {
    json_t *arr = json_array();
    if (json_object_set_new(o, "member", arr)) goto fail;
    size_t i;
    const json_t *m;
    json_array_foreach(members, i, m) {
      if (json_array_append_new(arr, ids_agent(m))) goto fail;
    }
  }
  return o;
fail:
  json_decref(o);
  return NULL;
}

static json_t *id_only(const json_t *x) {
  const json_t *id = json_object_get(x, "id");
  if (!id) return json_deep_copy(x);
  return json_pack("{s:O}", "id", id);
}

/* Replaces o[key] (if present) with f(o[key]). */
static int replace_with(json_t *o, const char *key, json_t *(*f)(const json_t *)) {
  json_t *v = json_object_get(o, key);
  if (!v) return MG_OK;
  return json_object_set_new(o, key, f(v)) ? MG_ENOMEM : MG_OK;
}

static int ids_activity_list(json_t *ca) {
  for (void *it = json_object_iter(ca); it; it = json_object_iter_next(ca, it)) {
    json_t *v = json_object_iter_value(it);
    if (json_is_object(v)) {
      if (json_object_iter_set_new(ca, it, id_only(v))) return MG_ENOMEM;
      continue;
    }
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e) {
      if (json_array_set_new(v, i, id_only(e))) return MG_ENOMEM;
    }
  }
  return MG_OK;
}

static int ids_context(json_t *ctx) {
  if (!json_is_object(ctx)) return MG_OK;
  int rc;
  if ((rc = replace_with(ctx, "instructor", ids_agent)) || (rc = replace_with(ctx, "team", ids_agent)))
    return rc;
  json_t *ca = json_object_get(ctx, "contextActivities");
  if (json_is_object(ca) && (rc = ids_activity_list(ca))) return rc;
  static const char *const lists[][2] = {{"contextAgents", "agent"}, {"contextGroups", "group"}};
  for (size_t l = 0; l < 2; l++) {
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(ctx, lists[l][0]), i, e) {
      if (json_is_object(e) && (rc = replace_with(e, lists[l][1], ids_agent))) return rc;
    }
  }
  return MG_OK;
}

/* Reduces a deep copy in place. */
static int ids_statement(json_t *s) {
  int rc;
  if ((rc = replace_with(s, "actor", ids_agent)) || (rc = replace_with(s, "verb", id_only)) ||
      (rc = replace_with(s, "authority", ids_agent)))
    return rc;
  json_t *obj = json_object_get(s, "object");
  switch (object_kind(obj)) {
  case OBJ_ACTIVITY: rc = replace_with(s, "object", id_only); break;
  case OBJ_AGENT:
  case OBJ_GROUP: rc = replace_with(s, "object", ids_agent); break;
  case OBJ_SUB: rc = ids_statement(obj); break;
  default: break;
  }
  if (rc) return rc;
  return ids_context(json_object_get(s, "context"));
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

static const char *lang_exact(const json_t *map, const char *tag, size_t n) {
  const char *k;
  const json_t *v;
  json_object_foreach((json_t *)map, k, v) {
    if (strlen(k) == n && !strncasecmp(k, tag, n)) return k;
  }
  return NULL;
}

/* First key that the range matches as a prefix ending at a subtag boundary (RFC 2616 14.4). */
static const char *lang_prefix(const json_t *map, const char *range, size_t n) {
  const char *k;
  const json_t *v;
  json_object_foreach((json_t *)map, k, v) {
    if (!strncasecmp(k, range, n) && k[n] == '-') return k;
  }
  return NULL;
}

static const char *lang_fallback(const json_t *map) {
  const char *k;
  if ((k = lang_exact(map, "en-US", 5)) || (k = lang_exact(map, "en", 2)) ||
      (k = lang_prefix(map, "en", 2)))
    return k;
  void *it = json_object_iter((json_t *)map);
  return it ? json_object_iter_key(it) : NULL;
}

/* Picks the entry of map to keep: per range in preference order, an exact match, then a tag
 * the range is a prefix of (RFC 2616), then RFC 4647 lookup (truncating the range subtag by
 * subtag; a dangling singleton never matches a valid tag, so it needs no special step); "*" or
 * no match at all falls back to en-US, en, en-*, then the first entry. */
static const char *lang_pick(const json_t *map, const lang_prefs *p) {
  for (size_t i = 0; i < p->n; i++) {
    const char *r = p->range[i];
    if (!strcmp(r, "*")) break;
    size_t n = strlen(r);
    const char *k;
    if ((k = lang_exact(map, r, n)) || (k = lang_prefix(map, r, n))) return k;
    while (n > 0) {
      while (n > 0 && r[n - 1] != '-') n--;
      if (n == 0) break;
      n--; /* drop the '-' */
      if (n && (k = lang_exact(map, r, n))) return k;
    }
  }
  return lang_fallback(map);
}

/* Replaces o[key], a language map with more than one entry, by a map of its best entry. */
static int canon_map(json_t *o, const char *key, const lang_prefs *p) {
  json_t *map = json_object_get(o, key);
  if (!json_is_object(map) || json_object_size(map) < 2) return MG_OK;
  const char *k = lang_pick(map, p);
  json_t *one = json_object();
  if (!one || json_object_set(one, k, json_object_get(map, k))) {
    json_decref(one);
    return MG_ENOMEM;
  }
  return json_object_set_new(o, key, one) ? MG_ENOMEM : MG_OK;
}

static int canon_activity(json_t *act, const lang_prefs *p) {
  json_t *def = json_object_get(act, "definition");
  if (!json_is_object(def)) return MG_OK;
  int rc;
  if ((rc = canon_map(def, "name", p)) || (rc = canon_map(def, "description", p))) return rc;
  static const char *const comps[] = {"choices", "scale", "source", "target", "steps"};
  for (size_t c = 0; c < sizeof comps / sizeof *comps; c++) {
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(def, comps[c]), i, e) {
      if ((rc = canon_map(e, "description", p))) return rc;
    }
  }
  return MG_OK;
}

static int canon_statement(json_t *s, const lang_prefs *p) {
  int rc = canon_map(json_object_get(s, "verb"), "display", p);
  if (rc) return rc;
  json_t *obj = json_object_get(s, "object");
  switch (object_kind(obj)) {
  case OBJ_ACTIVITY: rc = canon_activity(obj, p); break;
  case OBJ_SUB: rc = canon_statement(obj, p); break;
  default: break;
  }
  if (rc) return rc;
  json_t *ca = json_object_get(json_object_get(s, "context"), "contextActivities");
  const char *k;
  json_t *v;
  json_object_foreach(ca, k, v) {
    if (json_is_object(v)) {
      if ((rc = canon_activity(v, p))) return rc;
      continue;
    }
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e) {
      if ((rc = canon_activity(e, p))) return rc;
    }
  }
  return MG_OK;
}

/* Canonical reduces the language maps the spec puts under the LRS's canonical control (Activity
 * name, description, interaction components; Verb display). Agents and Groups stay exact, and
 * so do attachments and extensions, which are not canonical definitions. */
json_t *mg_xapi_render(const json_t *stmt, mg_xapi_format f, const char *accept_language) {
  json_t *copy = json_deep_copy(stmt);
  if (!copy || f == MG_XAPI_FORMAT_EXACT) return copy;
  int rc;
  if (f == MG_XAPI_FORMAT_IDS) {
    rc = ids_statement(copy);
  } else {
    lang_prefs p;
    lang_prefs_parse(accept_language, &p);
    rc = canon_statement(copy, &p);
  }
  if (rc) {
    json_decref(copy);
    return NULL;
  }
  return copy;
}
