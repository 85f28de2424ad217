/* store/sqlite.c — the embedded SQLite backend of store.h.
 *
 * Connections: one writer connection, used only by whichever thread currently holds the writer
 * (the group-commit leader, or a credential/setting write), and a pool of reader connections so
 * reads never wait for the writer (WAL). Every connection caches its prepared statements.
 *
 * Writes (group commit): a caller of mg_store_stmt_insert queues its batch; the first caller to
 * find the writer free becomes leader, takes every queued batch, runs one transaction with a
 * SAVEPOINT per batch (a failing batch rolls back alone), commits once (synchronous=FULL: synced
 * before COMMIT returns), and wakes the callers of that round with their results. Callers that
 * queued during the round are served by the next leader, chosen among them.
 *
 * Reads: each GET filter is an ordered stream of seqs from a (key, seq) index; several filters
 * are intersected by leapfrogging (each stream seeks to the current candidate), so a query costs
 * about one index probe per candidate of its most selective filter, in seq order, and stops at the
 * page size. since/until become a seq range through `stored_marks` (see the migration).
 *
 * StatementRefs: the filter keys of a statement are its own plus those of the statement its object
 * targets (transitively), computed at insert. A target that arrives after its referrers pushes its
 * keys to them then, and is marked voided if one of them voids it. */
#include <limits.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/log.h"
#include "core/time.h"
#include "store/migrations.h"
#include "store/store_int.h"

#define MAX_IDLE_READERS 16
#define BUSY_TIMEOUT_MS 10000
#define ICACHE_MAX (1u << 20)        /* entries per intern cache before it is emptied */
#define TS_CAP_ALONE 100000          /* timestamp rows gathered when no other filter exists */
#define TS_CAP_WITH_OTHERS 4096      /* ... and when another filter can drive the scan */
#define SEEK_STEPS 8                 /* steps tried before a stream re-seeks through its index */
#define KEYS_BLOB_MAX (64u << 20)

/* ---- SQL catalogue: every statement the backend runs, all with bound parameters ---------- */

enum {
  Q_BEGIN,
  Q_BEGIN_IMM,
  Q_COMMIT,
  Q_ROLLBACK,
  Q_SAVEPOINT,
  Q_RELEASE,
  Q_ROLLBACK_TO,
  Q_VERSION,
  Q_MIG_HAS,
  Q_MIG_INS,
  Q_AGENT_SEL,
  Q_AGENT_INS,
  Q_VERB_SEL,
  Q_VERB_INS,
  Q_ACT_SEL,
  Q_ACT_INS,
  Q_STMT_INS,
  Q_STMT_HASH,
  Q_TARGET,
  Q_REFERRERS,
  Q_SET_VOIDED,
  Q_SET_KEYS,
  Q_REL_AGENT,
  Q_REL_ACT,
  Q_REL_VERB,
  Q_REL_REG,
  Q_MARK_LAST,
  Q_MARK_INS,
  Q_META_GET,
  Q_META_SET,
  Q_REFS_ANY,
  Q_ATT_INS,
  Q_STMT_GET,
  Q_MAX_SEQ,
  Q_MARK_SINCE,
  Q_MARK_UNTIL_A,
  Q_MARK_UNTIL_B,
  Q_S_ALL_A,
  Q_S_ALL_D,
  Q_S_AG_A,
  Q_S_AG_D,
  Q_S_AGD_A,
  Q_S_AGD_D,
  Q_S_AC_A,
  Q_S_AC_D,
  Q_S_ACD_A,
  Q_S_ACD_D,
  Q_S_VB_A,
  Q_S_VB_D,
  Q_S_RG_A,
  Q_S_RG_D,
  Q_S_PL_A,
  Q_S_PL_D,
  Q_TS_COLLECT,
  Q_ROW,
  Q_ATT_GET,
  Q_CRED_INS,
  Q_CRED_GET,
  Q_CRED_SET,
  Q_CRED_LIST,
  Q_SET_GET,
  Q_SET_SET,
  Q_COUNT_
};

static const char *const SQL[Q_COUNT_] = {
    [Q_BEGIN] = "BEGIN",
    [Q_BEGIN_IMM] = "BEGIN IMMEDIATE",
    [Q_COMMIT] = "COMMIT",
    [Q_ROLLBACK] = "ROLLBACK",
    [Q_SAVEPOINT] = "SAVEPOINT batch",
    [Q_RELEASE] = "RELEASE batch",
    [Q_ROLLBACK_TO] = "ROLLBACK TO batch",
    [Q_VERSION] = "SELECT max(number) FROM schema_migrations",
    [Q_MIG_HAS] = "SELECT 1 FROM schema_migrations WHERE number = ?1",
    [Q_MIG_INS] = "INSERT INTO schema_migrations (number, name, applied_us) VALUES (?1, ?2, ?3)",
    [Q_AGENT_SEL] = "SELECT id FROM agents WHERE key = ?1",
    [Q_AGENT_INS] = "INSERT INTO agents (key) VALUES (?1)",
    [Q_VERB_SEL] = "SELECT id FROM verbs WHERE iri = ?1",
    [Q_VERB_INS] = "INSERT INTO verbs (iri) VALUES (?1)",
    [Q_ACT_SEL] = "SELECT id FROM activities WHERE iri = ?1",
    [Q_ACT_INS] = "INSERT INTO activities (iri) VALUES (?1)",
    [Q_STMT_INS] = "INSERT INTO statements (id, stored_us, timestamp_us, actor_id, verb_id, "
                   "object_activity_id, object_agent_id, registration, object_ref, is_voiding, "
                   "platform_id, cmp_hash, keys, json) "
                   "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14) "
                   "ON CONFLICT (id) DO NOTHING",
    [Q_STMT_HASH] = "SELECT cmp_hash FROM statements WHERE id = ?1",
    [Q_TARGET] = "SELECT seq, is_voiding, keys FROM statements WHERE id = ?1",
    [Q_REFERRERS] = "SELECT seq, id, is_voiding, keys FROM statements WHERE object_ref = ?1",
    [Q_SET_VOIDED] = "UPDATE statements SET voided = 1 WHERE seq = ?1 AND is_voiding = 0",
    [Q_SET_KEYS] = "UPDATE statements SET keys = ?2 WHERE seq = ?1",
    [Q_REL_AGENT] = "INSERT INTO statement_agents (agent_id, seq, direct) VALUES (?1, ?2, ?3) "
                    "ON CONFLICT (agent_id, seq) DO UPDATE SET direct = max(direct, excluded.direct)",
    [Q_REL_ACT] = "INSERT INTO statement_activities (activity_id, seq, direct) VALUES (?1, ?2, ?3) "
                  "ON CONFLICT (activity_id, seq) DO UPDATE SET direct = max(direct, "
                  "excluded.direct)",
    [Q_REL_VERB] = "INSERT INTO statement_verbs (verb_id, seq) VALUES (?1, ?2) "
                   "ON CONFLICT (verb_id, seq) DO NOTHING",
    [Q_REL_REG] = "INSERT INTO statement_registrations (registration, seq) VALUES (?1, ?2) "
                  "ON CONFLICT (registration, seq) DO NOTHING",
    [Q_MARK_LAST] = "SELECT pmax_us, seq, total FROM stored_marks "
                    "ORDER BY pmax_us DESC, seq DESC LIMIT 1",
    [Q_MARK_INS] = "INSERT INTO stored_marks (pmax_us, seq, floor_us, total) "
                   "VALUES (?1, ?2, ?3, ?4)",
    [Q_META_GET] = "SELECT value FROM store_meta WHERE name = ?1",
    [Q_META_SET] = "INSERT INTO store_meta (name, value) VALUES (?1, ?2) "
                   "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
    [Q_REFS_ANY] = "SELECT 1 FROM statements INDEXED BY statements_object_ref "
                   "WHERE object_ref IS NOT NULL LIMIT 1",
    [Q_ATT_INS] = "INSERT INTO attachments (sha2, content_type, data) VALUES (?1, ?2, ?3) "
                  "ON CONFLICT (sha2) DO NOTHING",
    [Q_STMT_GET] = "SELECT seq, stored_us, voided, is_voiding, json FROM statements WHERE id = ?1",
    [Q_MAX_SEQ] = "SELECT max(seq) FROM statements",
    [Q_MARK_SINCE] = "SELECT seq FROM stored_marks WHERE pmax_us <= ?1 "
                     "ORDER BY pmax_us DESC, seq DESC LIMIT 1",
    [Q_MARK_UNTIL_A] = "SELECT pmax_us, seq FROM stored_marks WHERE pmax_us > ?1 "
                       "ORDER BY pmax_us, seq LIMIT 1",
    [Q_MARK_UNTIL_B] = "SELECT seq FROM stored_marks WHERE (pmax_us, seq) <= (?1, ?2) "
                       "AND floor_us <= ?3 ORDER BY pmax_us DESC, seq DESC LIMIT 1",
    [Q_S_ALL_A] = "SELECT seq FROM statements WHERE seq BETWEEN ?2 AND ?3 ORDER BY seq",
    [Q_S_ALL_D] = "SELECT seq FROM statements WHERE seq BETWEEN ?2 AND ?3 ORDER BY seq DESC",
    [Q_S_AG_A] = "SELECT seq FROM statement_agents WHERE agent_id = ?1 "
                 "AND seq BETWEEN ?2 AND ?3 ORDER BY seq",
    [Q_S_AG_D] = "SELECT seq FROM statement_agents WHERE agent_id = ?1 "
                 "AND seq BETWEEN ?2 AND ?3 ORDER BY seq DESC",
    [Q_S_AGD_A] = "SELECT seq FROM statement_agents WHERE agent_id = ?1 "
                  "AND seq BETWEEN ?2 AND ?3 AND direct = 1 ORDER BY seq",
    [Q_S_AGD_D] = "SELECT seq FROM statement_agents WHERE agent_id = ?1 "
                  "AND seq BETWEEN ?2 AND ?3 AND direct = 1 ORDER BY seq DESC",
    [Q_S_AC_A] = "SELECT seq FROM statement_activities WHERE activity_id = ?1 "
                 "AND seq BETWEEN ?2 AND ?3 ORDER BY seq",
    [Q_S_AC_D] = "SELECT seq FROM statement_activities WHERE activity_id = ?1 "
                 "AND seq BETWEEN ?2 AND ?3 ORDER BY seq DESC",
    [Q_S_ACD_A] = "SELECT seq FROM statement_activities WHERE activity_id = ?1 "
                  "AND seq BETWEEN ?2 AND ?3 AND direct = 1 ORDER BY seq",
    [Q_S_ACD_D] = "SELECT seq FROM statement_activities WHERE activity_id = ?1 "
                  "AND seq BETWEEN ?2 AND ?3 AND direct = 1 ORDER BY seq DESC",
    [Q_S_VB_A] = "SELECT seq FROM statement_verbs WHERE verb_id = ?1 "
                 "AND seq BETWEEN ?2 AND ?3 ORDER BY seq",
    [Q_S_VB_D] = "SELECT seq FROM statement_verbs WHERE verb_id = ?1 "
                 "AND seq BETWEEN ?2 AND ?3 ORDER BY seq DESC",
    [Q_S_RG_A] = "SELECT seq FROM statement_registrations WHERE registration = ?1 "
                 "AND seq BETWEEN ?2 AND ?3 ORDER BY seq",
    [Q_S_RG_D] = "SELECT seq FROM statement_registrations WHERE registration = ?1 "
                 "AND seq BETWEEN ?2 AND ?3 ORDER BY seq DESC",
    [Q_S_PL_A] = "SELECT seq FROM statements INDEXED BY statements_platform "
                 "WHERE platform_id = ?1 AND seq BETWEEN ?2 AND ?3 ORDER BY seq",
    [Q_S_PL_D] = "SELECT seq FROM statements INDEXED BY statements_platform "
                 "WHERE platform_id = ?1 AND seq BETWEEN ?2 AND ?3 ORDER BY seq DESC",
    [Q_TS_COLLECT] = "SELECT seq FROM statements INDEXED BY statements_timestamp "
                     "WHERE timestamp_us BETWEEN ?1 AND ?2 AND seq BETWEEN ?3 AND ?4 LIMIT ?5",
    [Q_ROW] = "SELECT voided, stored_us, timestamp_us, platform_id, json FROM statements "
              "WHERE seq = ?1",
    [Q_ATT_GET] = "SELECT content_type, data FROM attachments WHERE sha2 = ?1",
    [Q_CRED_INS] = "INSERT INTO credentials (platform_id, key, name, secret_hash, enabled, "
                   "created_us) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [Q_CRED_GET] = "SELECT id, platform_id, key, name, secret_hash, enabled, created_us "
                   "FROM credentials WHERE key = ?1",
    [Q_CRED_SET] = "UPDATE credentials SET enabled = ?2 WHERE key = ?1",
    [Q_CRED_LIST] = "SELECT id, platform_id, key, name, secret_hash, enabled, created_us "
                    "FROM credentials ORDER BY id",
    [Q_SET_GET] = "SELECT value FROM settings WHERE name = ?1",
    [Q_SET_SET] = "INSERT INTO settings (name, value) VALUES (?1, ?2) "
                  "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
};

/* ---- connections ------------------------------------------------------------------------ */

typedef struct conn {
  sqlite3 *db;
  sqlite3_stmt *st[Q_COUNT_];
  struct conn *next; /* pool free list */
} conn;

static int map_rc(int rc) {
  switch (rc & 0xff) {
  case SQLITE_OK:
  case SQLITE_ROW:
  case SQLITE_DONE: return MG_OK;
  case SQLITE_NOMEM: return MG_ENOMEM;
  case SQLITE_BUSY:
  case SQLITE_LOCKED: return MG_EBUSY;
  case SQLITE_IOERR:
  case SQLITE_FULL:
  case SQLITE_CANTOPEN: return MG_EIO;
  case SQLITE_CORRUPT:
  case SQLITE_NOTADB: return MG_ECORRUPT;
  case SQLITE_TOOBIG: return MG_ETOOBIG;
  default: return MG_ESTORE;
  }
}

/* Logs a failing SQLite call and maps its code. */
static int db_fail(sqlite3 *db, int rc, const char *what) {
  mg_log(MG_LOG_ERROR, "store.sqlite.error", "op", what, "msg", db ? sqlite3_errmsg(db) : "?",
         "code", sqlite3_errstr(rc), NULL);
  return map_rc(rc);
}

/* The connection's prepared statement q, reset and unbound, or NULL (error logged). */
static sqlite3_stmt *use(conn *c, int q) {
  sqlite3_stmt *st = c->st[q];
  if (!st) {
    int rc = sqlite3_prepare_v3(c->db, SQL[q], -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
    if (rc != SQLITE_OK) {
      db_fail(c->db, rc, SQL[q]);
      return NULL;
    }
    c->st[q] = st;
    return st;
  }
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  return st;
}

/* Runs a statement that returns no rows. */
static int run(conn *c, int q) {
  sqlite3_stmt *st = use(c, q);
  if (!st) return MG_ESTORE;
  int rc = sqlite3_step(st);
  sqlite3_reset(st);
  if (rc != SQLITE_DONE) return db_fail(c->db, rc, SQL[q]);
  return MG_OK;
}

/* Resets every cached statement so none keeps a read transaction open. */
static void conn_quiesce(conn *c) {
  for (int i = 0; i < Q_COUNT_; i++)
    if (c->st[i]) sqlite3_reset(c->st[i]);
  if (!sqlite3_get_autocommit(c->db)) sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
}

static void conn_close(conn *c) {
  if (!c) return;
  for (int i = 0; i < Q_COUNT_; i++) sqlite3_finalize(c->st[i]);
  sqlite3_close(c->db);
  free(c);
}

static int exec_pragma(sqlite3 *db, const char *sql) {
  int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
  if (rc != SQLITE_OK) return db_fail(db, rc, sql);
  return MG_OK;
}

static pthread_once_t sqlite_once = PTHREAD_ONCE_INIT;
static void sqlite_global_init(void) {
  /* Memory statistics take a global mutex on every allocation; nothing here reads them. Fails
   * harmlessly if another part of the process already initialised SQLite. */
  sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  sqlite3_initialize();
}

/* Opens a connection. The writer creates the file and sets the persistent options. */
static int conn_open(const char *path, int writer, conn **out) {
  *out = NULL;
  conn *c = calloc(1, sizeof *c);
  if (!c) return MG_ENOMEM;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (writer ? SQLITE_OPEN_CREATE : 0);
  int rc = sqlite3_open_v2(path, &c->db, flags, NULL);
  int err = MG_OK;
  if (rc != SQLITE_OK) {
    err = db_fail(c->db, rc, "open");
    goto out;
  }
  sqlite3_extended_result_codes(c->db, 1);
  sqlite3_busy_timeout(c->db, BUSY_TIMEOUT_MS);
  if (writer) {
    /* page_size only takes effect on a new database, before WAL is switched on. */
    if ((err = exec_pragma(c->db, "PRAGMA page_size = 4096"))) goto out;
    sqlite3_stmt *st = NULL;
    rc = sqlite3_prepare_v2(c->db, "PRAGMA journal_mode = WAL", -1, &st, NULL);
    if (rc == SQLITE_OK) rc = sqlite3_step(st);
    int wal = rc == SQLITE_ROW && sqlite3_column_text(st, 0) &&
              strcmp((const char *)sqlite3_column_text(st, 0), "wal") == 0;
    sqlite3_finalize(st);
    if (!wal) {
      err = rc == SQLITE_ROW ? MG_ESTORE : db_fail(c->db, rc, "journal_mode");
      if (rc == SQLITE_ROW) mg_log(MG_LOG_ERROR, "store.sqlite.error", "op", "journal_mode",
                                   "msg", "WAL refused", NULL);
      goto out;
    }
    if ((err = exec_pragma(c->db, "PRAGMA cache_size = -262144"))) goto out; /* 256 MiB */
    if ((err = exec_pragma(c->db, "PRAGMA wal_autocheckpoint = 4096"))) goto out;
    if ((err = exec_pragma(c->db, "PRAGMA journal_size_limit = 67108864"))) goto out;
  } else {
    if ((err = exec_pragma(c->db, "PRAGMA cache_size = -32768"))) goto out; /* 32 MiB */
    if ((err = exec_pragma(c->db, "PRAGMA query_only = 1"))) goto out;
  }
  /* In WAL, FULL syncs the log at every commit: a commit is durable when COMMIT returns. */
  if ((err = exec_pragma(c->db, "PRAGMA synchronous = FULL"))) goto out;
  if ((err = exec_pragma(c->db, "PRAGMA foreign_keys = ON"))) goto out;
  if ((err = exec_pragma(c->db, "PRAGMA temp_store = MEMORY"))) goto out;
  if ((err = exec_pragma(c->db, "PRAGMA mmap_size = 17179869184"))) goto out;
out:
  if (err) {
    conn_close(c);
    return err;
  }
  *out = c;
  return MG_OK;
}

/* ---- intern caches (leader only) --------------------------------------------------------- */

typedef struct ientry {
  char *key; /* NULL: empty slot */
  size_t len;
  uint64_t hash;
  int64_t id;
} ientry;

typedef struct icache {
  ientry *e;
  size_t cap; /* power of two */
  size_t n;
} icache;

static uint64_t fnv1a(const char *s, size_t n) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; i++) {
    h ^= (unsigned char)s[i];
    h *= 1099511628211ull;
  }
  return h;
}

static void icache_clear(icache *c) {
  for (size_t i = 0; i < c->cap; i++) free(c->e[i].key);
  free(c->e);
  c->e = NULL;
  c->cap = c->n = 0;
}

static int64_t icache_get(const icache *c, const char *k, size_t len, uint64_t h) {
  if (!c->cap) return 0;
  for (size_t i = h & (c->cap - 1);; i = (i + 1) & (c->cap - 1)) {
    const ientry *e = &c->e[i];
    if (!e->key) return 0;
    if (e->hash == h && e->len == len && memcmp(e->key, k, len) == 0) return e->id;
  }
}

static void icache_place(ientry *tab, size_t cap, ientry e) {
  size_t i = e.hash & (cap - 1);
  while (tab[i].key) i = (i + 1) & (cap - 1);
  tab[i] = e;
}

/* Remembers k -> id. A failure to remember is harmless (the next lookup asks the database). */
static void icache_put(icache *c, const char *k, size_t len, uint64_t h, int64_t id) {
  if (c->n >= ICACHE_MAX) icache_clear(c); /* bounded memory: start again */
  if ((c->n + 1) * 4 > c->cap * 3) {
    size_t ncap = c->cap ? c->cap * 2 : 1024;
    ientry *tab = calloc(ncap, sizeof *tab);
    if (!tab) return;
    for (size_t i = 0; i < c->cap; i++)
      if (c->e[i].key) icache_place(tab, ncap, c->e[i]);
    free(c->e);
    c->e = tab;
    c->cap = ncap;
  }
  char *copy = malloc(len + 1);
  if (!copy) return;
  memcpy(copy, k, len);
  copy[len] = '\0';
  icache_place(c->e, c->cap, (ientry){copy, len, h, id});
  c->n++;
}

/* ---- key sets: a statement's effective filter keys --------------------------------------- */

typedef struct kv {
  int64_t id;
  int64_t direct;
} kv;

typedef struct keyset {
  kv *ag;
  size_t nag, cag;
  kv *ac;
  size_t nac, cac;
  int64_t *vb;
  size_t nvb, cvb;
  uint8_t *rg; /* 16 bytes each */
  size_t nrg, crg;
} keyset;

/* Makes room for `need` elements of size elem in *p. */
static int grow(void **p, size_t *cap, size_t need, size_t elem) {
  if (need <= *cap) return MG_OK;
  size_t ncap = *cap ? *cap : 16;
  while (ncap < need) {
    if (ncap > SIZE_MAX / 2 / elem) return MG_ENOMEM;
    ncap *= 2;
  }
  void *q = realloc(*p, ncap * elem);
  if (!q) return MG_ENOMEM;
  *p = q;
  *cap = ncap;
  return MG_OK;
}

static int kv_push(kv **a, size_t *n, size_t *cap, int64_t id, int64_t direct) {
  if (grow((void **)a, cap, *n + 1, sizeof **a)) return MG_ENOMEM;
  (*a)[(*n)++] = (kv){id, direct};
  return MG_OK;
}

static int i64_push(int64_t **a, size_t *n, size_t *cap, int64_t v) {
  if (grow((void **)a, cap, *n + 1, sizeof **a)) return MG_ENOMEM;
  (*a)[(*n)++] = v;
  return MG_OK;
}

static int reg_push(keyset *k, const uint8_t r[16]) {
  if (grow((void **)&k->rg, &k->crg, k->nrg + 1, 16)) return MG_ENOMEM;
  memcpy(k->rg + 16 * k->nrg++, r, 16);
  return MG_OK;
}

static int cmp_kv(const void *a, const void *b) {
  const kv *x = a, *y = b;
  if (x->id != y->id) return x->id < y->id ? -1 : 1;
  return 0;
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

static int cmp_reg(const void *a, const void *b) { return memcmp(a, b, 16); }

/* Sorts by id and merges duplicates, keeping direct if any copy is direct. */
static size_t kv_normalize(kv *a, size_t n) {
  if (n < 2) return n;
  qsort(a, n, sizeof *a, cmp_kv);
  size_t o = 0;
  for (size_t i = 1; i < n; i++) {
    if (a[i].id == a[o].id) {
      if (a[i].direct) a[o].direct = 1;
    } else {
      a[++o] = a[i];
    }
  }
  return o + 1;
}

static size_t i64_normalize(int64_t *a, size_t n) {
  if (n < 2) return n;
  qsort(a, n, sizeof *a, cmp_i64);
  size_t o = 0;
  for (size_t i = 1; i < n; i++)
    if (a[i] != a[o]) a[++o] = a[i];
  return o + 1;
}

static size_t reg_normalize(uint8_t *a, size_t n) {
  if (n < 2) return n;
  qsort(a, n, 16, cmp_reg);
  size_t o = 0;
  for (size_t i = 1; i < n; i++)
    if (memcmp(a + 16 * i, a + 16 * o, 16) != 0) memmove(a + 16 * ++o, a + 16 * i, 16);
  return o + 1;
}

static void ks_normalize(keyset *k) {
  k->nag = kv_normalize(k->ag, k->nag);
  k->nac = kv_normalize(k->ac, k->nac);
  k->nvb = i64_normalize(k->vb, k->nvb);
  k->nrg = reg_normalize(k->rg, k->nrg);
}

static void ks_reset(keyset *k) { k->nag = k->nac = k->nvb = k->nrg = 0; }

static void ks_free(keyset *k) {
  free(k->ag);
  free(k->ac);
  free(k->vb);
  free(k->rg);
  memset(k, 0, sizeof *k);
}

static size_t kv_weight(const kv *a, size_t n) {
  size_t w = 0;
  for (size_t i = 0; i < n; i++) w += 1 + (a[i].direct != 0);
  return w;
}

/* dst |= src (both normalized; dst stays normalized). *changed tells whether dst grew. */
static int ks_union(keyset *dst, const keyset *src, int *changed) {
  size_t w0 = kv_weight(dst->ag, dst->nag) + kv_weight(dst->ac, dst->nac) + dst->nvb + dst->nrg;
  for (size_t i = 0; i < src->nag; i++)
    if (kv_push(&dst->ag, &dst->nag, &dst->cag, src->ag[i].id, src->ag[i].direct)) return MG_ENOMEM;
  for (size_t i = 0; i < src->nac; i++)
    if (kv_push(&dst->ac, &dst->nac, &dst->cac, src->ac[i].id, src->ac[i].direct)) return MG_ENOMEM;
  for (size_t i = 0; i < src->nvb; i++)
    if (i64_push(&dst->vb, &dst->nvb, &dst->cvb, src->vb[i])) return MG_ENOMEM;
  for (size_t i = 0; i < src->nrg; i++)
    if (reg_push(dst, src->rg + 16 * i)) return MG_ENOMEM;
  ks_normalize(dst);
  size_t w1 = kv_weight(dst->ag, dst->nag) + kv_weight(dst->ac, dst->nac) + dst->nvb + dst->nrg;
  if (changed) *changed = w1 != w0;
  return MG_OK;
}

static int put_varint(mg_buf *b, uint64_t v) {
  uint8_t tmp[10];
  size_t n = 0;
  do {
    uint8_t byte = v & 0x7f;
    v >>= 7;
    tmp[n++] = (uint8_t)(byte | (v ? 0x80 : 0));
  } while (v);
  return mg_buf_add(b, tmp, n);
}

static int get_varint(const uint8_t **p, const uint8_t *end, uint64_t *out) {
  uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (*p >= end) return MG_ECORRUPT;
    uint8_t byte = *(*p)++;
    v |= (uint64_t)(byte & 0x7f) << shift;
    if (!(byte & 0x80)) {
      *out = v;
      return MG_OK;
    }
  }
  return MG_ECORRUPT;
}

/* Blob layout: n_agents, (agent_id << 1 | direct)..., n_activities, (id << 1 | direct)...,
 * n_verbs, verb_id..., n_registrations, 16 bytes each. Unsigned LEB128 varints. */
static int ks_encode(const keyset *k, mg_buf *b) {
  int rc = put_varint(b, k->nag);
  for (size_t i = 0; !rc && i < k->nag; i++)
    rc = put_varint(b, ((uint64_t)k->ag[i].id << 1) | (k->ag[i].direct != 0));
  if (!rc) rc = put_varint(b, k->nac);
  for (size_t i = 0; !rc && i < k->nac; i++)
    rc = put_varint(b, ((uint64_t)k->ac[i].id << 1) | (k->ac[i].direct != 0));
  if (!rc) rc = put_varint(b, k->nvb);
  for (size_t i = 0; !rc && i < k->nvb; i++) rc = put_varint(b, (uint64_t)k->vb[i]);
  if (!rc) rc = put_varint(b, k->nrg);
  if (!rc && k->nrg) rc = mg_buf_add(b, k->rg, 16 * k->nrg);
  return rc;
}

static int decode_kvs(const uint8_t **p, const uint8_t *end, kv **a, size_t *n, size_t *cap) {
  uint64_t cnt, v;
  int rc = get_varint(p, end, &cnt);
  if (rc) return rc;
  if (cnt > (uint64_t)(end - *p)) return MG_ECORRUPT; /* at least one byte each */
  for (uint64_t i = 0; i < cnt; i++) {
    if ((rc = get_varint(p, end, &v))) return rc;
    if ((rc = kv_push(a, n, cap, (int64_t)(v >> 1), (int64_t)(v & 1)))) return rc;
  }
  return MG_OK;
}

/* Replaces k with the decoded blob. */
static int ks_decode(const void *blob, size_t len, keyset *k) {
  const uint8_t *p = blob, *end = p + len;
  uint64_t cnt, v;
  ks_reset(k);
  if (!blob) return len ? MG_ECORRUPT : MG_OK;
  int rc = decode_kvs(&p, end, &k->ag, &k->nag, &k->cag);
  if (!rc) rc = decode_kvs(&p, end, &k->ac, &k->nac, &k->cac);
  if (!rc) rc = get_varint(&p, end, &cnt);
  if (!rc && cnt > (uint64_t)(end - p)) rc = MG_ECORRUPT;
  for (uint64_t i = 0; !rc && i < cnt; i++) {
    rc = get_varint(&p, end, &v);
    if (!rc) rc = i64_push(&k->vb, &k->nvb, &k->cvb, (int64_t)v);
  }
  if (!rc) rc = get_varint(&p, end, &cnt);
  if (!rc && cnt > (uint64_t)(end - p) / 16) rc = MG_ECORRUPT;
  for (uint64_t i = 0; !rc && i < cnt; i++) {
    rc = reg_push(k, p);
    p += 16;
  }
  if (!rc && p != end) rc = MG_ECORRUPT;
  return rc;
}

/* ---- backend state ------------------------------------------------------------------------ */

/* One caller's batch waiting for (or being served by) a group commit. */
typedef struct job {
  mg_store_stmt *stmts;
  size_t n;
  mg_store_put_result *results;
  size_t bad;
  int rc;
  int done;
  struct job *next;
} job;

/* Interned ids of one statement of the current round. */
typedef struct srec {
  int64_t actor, verb, oact, oagent;
  size_t ag_off, ag_n, ac_off, ac_n; /* into wctx.ids */
} srec;

/* A relation row waiting to be written at the end of its batch. */
typedef struct prow {
  int64_t key;
  int64_t seq;
  int64_t direct;
} prow;

typedef struct rrow {
  uint8_t reg[16];
  int64_t seq;
} rrow;

/* Facts carried through a write transaction; copied at each savepoint so a failed batch rolls
 * them back with its rows. */
typedef struct rstate {
  int64_t pmax;     /* highest stored so far */
  int64_t total;    /* statements stored so far */
  int64_t floor;    /* lowest stored of this transaction */
  int64_t last_seq; /* last seq stored in this transaction (0: none) */
  int refs_any;     /* some statement has an object_ref */
} rstate;

/* Scratch of the writer, reused across rounds (leader only). */
typedef struct wctx {
  srec *recs;
  size_t crecs;
  int64_t *ids;
  size_t nids, cids;
  prow *ag, *ac, *vb;
  size_t nag, cag, nac, cac, nvb, cvb;
  rrow *rg;
  size_t nrg, crg;
  keyset own, tgt;
  mg_buf blob;
} wctx;

typedef struct sq {
  char *path;
  conn *w;
  pthread_mutex_t mu; /* queue, leader flag */
  pthread_cond_t cv;
  job *head, *tail;
  int leader; /* the writer connection is in use */
  icache agents, verbs, acts;
  wctx wx;
  pthread_mutex_t pool_mu;
  conn *idle;
  int n_idle;
} sq;

/* ---- reader pool -------------------------------------------------------------------------- */

static conn *pool_get(sq *s) {
  pthread_mutex_lock(&s->pool_mu);
  conn *c = s->idle;
  if (c) {
    s->idle = c->next;
    s->n_idle--;
  }
  pthread_mutex_unlock(&s->pool_mu);
  if (!c && conn_open(s->path, 0, &c)) return NULL;
  c->next = NULL;
  return c;
}

static void pool_put(sq *s, conn *c) {
  if (!c) return;
  conn_quiesce(c);
  pthread_mutex_lock(&s->pool_mu);
  if (s->n_idle < MAX_IDLE_READERS) {
    c->next = s->idle;
    s->idle = c;
    s->n_idle++;
    c = NULL;
  }
  pthread_mutex_unlock(&s->pool_mu);
  conn_close(c);
}

/* ---- the writer --------------------------------------------------------------------------- */

/* Waits until the writer connection is free and takes it. */
static void writer_acquire(sq *s) {
  pthread_mutex_lock(&s->mu);
  while (s->leader) pthread_cond_wait(&s->cv, &s->mu);
  s->leader = 1;
  pthread_mutex_unlock(&s->mu);
}

static void writer_release(sq *s) {
  pthread_mutex_lock(&s->mu);
  s->leader = 0;
  pthread_cond_broadcast(&s->cv);
  pthread_mutex_unlock(&s->mu);
}

static int meta_get(conn *c, const char *name, int64_t *out) {
  sqlite3_stmt *st = use(c, Q_META_GET);
  if (!st) return MG_ESTORE;
  sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  *out = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
  sqlite3_reset(st);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return db_fail(c->db, rc, "meta get");
  return MG_OK;
}

/* Last mark: highest stored and count so far (zeros for an empty store). */
static int mark_last(conn *c, int64_t *pmax, int64_t *seq, int64_t *total) {
  sqlite3_stmt *st = use(c, Q_MARK_LAST);
  if (!st) return MG_ESTORE;
  int rc = sqlite3_step(st);
  *pmax = *seq = *total = 0;
  if (rc == SQLITE_ROW) {
    *pmax = sqlite3_column_int64(st, 0);
    *seq = sqlite3_column_int64(st, 1);
    *total = sqlite3_column_int64(st, 2);
  }
  sqlite3_reset(st);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return db_fail(c->db, rc, "mark last");
  return MG_OK;
}

/* Interns one string of a kind (0 agents, 1 verbs, 2 activities) into *id. */
static int intern(sq *s, int kind, const char *str, int64_t *id) {
  static const int sel[3] = {Q_AGENT_SEL, Q_VERB_SEL, Q_ACT_SEL};
  static const int ins[3] = {Q_AGENT_INS, Q_VERB_INS, Q_ACT_INS};
  icache *c = kind == 0 ? &s->agents : kind == 1 ? &s->verbs : &s->acts;
  size_t len = strlen(str);
  if (len > INT_MAX) return MG_ETOOBIG;
  uint64_t h = fnv1a(str, len);
  if ((*id = icache_get(c, str, len, h))) return MG_OK;
  sqlite3_stmt *st = use(s->w, sel[kind]);
  if (!st) return MG_ESTORE;
  sqlite3_bind_text(st, 1, str, (int)len, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) *id = sqlite3_column_int64(st, 0);
  sqlite3_reset(st);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return db_fail(s->w->db, rc, "intern select");
  if (rc == SQLITE_DONE) {
    st = use(s->w, ins[kind]);
    if (!st) return MG_ESTORE;
    sqlite3_bind_text(st, 1, str, (int)len, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) return db_fail(s->w->db, rc, "intern insert");
    *id = sqlite3_last_insert_rowid(s->w->db);
  }
  icache_put(c, str, len, h, *id);
  return MG_OK;
}

/* Interns every string of the round (outside the batches' savepoints, so a rolled-back batch
 * cannot leave ids in the cache that the database no longer has). */
static int intern_round(sq *s, job *list) {
  wctx *w = &s->wx;
  size_t total = 0;
  for (job *j = list; j; j = j->next) total += j->n;
  if (grow((void **)&w->recs, &w->crecs, total, sizeof *w->recs)) return MG_ENOMEM;
  w->nids = 0;
  size_t r = 0;
  int rc = MG_OK;
  for (job *j = list; j; j = j->next) {
    for (size_t i = 0; i < j->n; i++, r++) {
      const mg_store_stmt *st = &j->stmts[i];
      srec *rec = &w->recs[r];
      memset(rec, 0, sizeof *rec);
      if (st->actor_key && (rc = intern(s, 0, st->actor_key, &rec->actor))) return rc;
      if ((rc = intern(s, 1, st->verb_id, &rec->verb))) return rc;
      if (st->object_activity_id && (rc = intern(s, 2, st->object_activity_id, &rec->oact)))
        return rc;
      if (st->object_agent_key && (rc = intern(s, 0, st->object_agent_key, &rec->oagent)))
        return rc;
      rec->ag_off = w->nids;
      for (size_t k = 0; k < st->n_related_agents; k++) {
        int64_t id;
        if ((rc = intern(s, 0, st->related_agents[k], &id))) return rc;
        if (i64_push(&w->ids, &w->nids, &w->cids, id)) return MG_ENOMEM;
      }
      rec->ag_n = w->nids - rec->ag_off;
      rec->ac_off = w->nids;
      for (size_t k = 0; k < st->n_related_activities; k++) {
        int64_t id;
        if ((rc = intern(s, 2, st->related_activities[k], &id))) return rc;
        if (i64_push(&w->ids, &w->nids, &w->cids, id)) return MG_ENOMEM;
      }
      rec->ac_n = w->nids - rec->ac_off;
    }
  }
  return MG_OK;
}

static int cmp_prow(const void *a, const void *b) {
  const prow *x = a, *y = b;
  if (x->key != y->key) return x->key < y->key ? -1 : 1;
  return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int cmp_rrow(const void *a, const void *b) {
  const rrow *x = a, *y = b;
  int c = memcmp(x->reg, y->reg, 16);
  if (c) return c;
  return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Queues the relation rows of a freshly inserted statement. */
static int queue_rows(wctx *w, const keyset *k, int64_t seq) {
  if (grow((void **)&w->ag, &w->cag, w->nag + k->nag, sizeof *w->ag) ||
      grow((void **)&w->ac, &w->cac, w->nac + k->nac, sizeof *w->ac) ||
      grow((void **)&w->vb, &w->cvb, w->nvb + k->nvb, sizeof *w->vb) ||
      grow((void **)&w->rg, &w->crg, w->nrg + k->nrg, sizeof *w->rg))
    return MG_ENOMEM;
  for (size_t i = 0; i < k->nag; i++) w->ag[w->nag++] = (prow){k->ag[i].id, seq, k->ag[i].direct};
  for (size_t i = 0; i < k->nac; i++) w->ac[w->nac++] = (prow){k->ac[i].id, seq, k->ac[i].direct};
  for (size_t i = 0; i < k->nvb; i++) w->vb[w->nvb++] = (prow){k->vb[i], seq, 0};
  for (size_t i = 0; i < k->nrg; i++) {
    memcpy(w->rg[w->nrg].reg, k->rg + 16 * i, 16);
    w->rg[w->nrg++].seq = seq;
  }
  return MG_OK;
}

static int write_prows(conn *c, int q, prow *rows, size_t n, int with_direct) {
  if (!n) return MG_OK;
  qsort(rows, n, sizeof *rows, cmp_prow); /* key order: neighbouring inserts share pages */
  sqlite3_stmt *st = use(c, q);
  if (!st) return MG_ESTORE;
  for (size_t i = 0; i < n; i++) {
    sqlite3_bind_int64(st, 1, rows[i].key);
    sqlite3_bind_int64(st, 2, rows[i].seq);
    if (with_direct) sqlite3_bind_int64(st, 3, rows[i].direct);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) return db_fail(c->db, rc, SQL[q]);
  }
  return MG_OK;
}

/* Writes the relation rows queued by the current batch. */
static int flush_rows(sq *s) {
  wctx *w = &s->wx;
  int rc = write_prows(s->w, Q_REL_AGENT, w->ag, w->nag, 1);
  if (!rc) rc = write_prows(s->w, Q_REL_ACT, w->ac, w->nac, 1);
  if (!rc) rc = write_prows(s->w, Q_REL_VERB, w->vb, w->nvb, 0);
  if (!rc && w->nrg) {
    qsort(w->rg, w->nrg, sizeof *w->rg, cmp_rrow);
    sqlite3_stmt *st = use(s->w, Q_REL_REG);
    if (!st) return MG_ESTORE;
    for (size_t i = 0; i < w->nrg; i++) {
      sqlite3_bind_blob(st, 1, w->rg[i].reg, 16, SQLITE_STATIC);
      sqlite3_bind_int64(st, 2, w->rg[i].seq);
      int r = sqlite3_step(st);
      sqlite3_reset(st);
      if (r != SQLITE_DONE) return db_fail(s->w->db, r, "relation registration");
    }
  }
  w->nag = w->nac = w->nvb = w->nrg = 0;
  return rc;
}

/* A statement that targets one being propagated to. */
typedef struct referrer {
  int64_t seq;
  uint8_t id[16];
  int is_voiding;
  keyset keys;
} referrer;

static void referrers_free(referrer *r, size_t n) {
  for (size_t i = 0; i < n; i++) ks_free(&r[i].keys);
  free(r);
}

/* Statements whose object_ref is id, with their keys. */
static int load_referrers(sq *s, const uint8_t id[16], referrer **out, size_t *n) {
  size_t cap = 0;
  *out = NULL;
  *n = 0;
  sqlite3_stmt *st = use(s->w, Q_REFERRERS);
  if (!st) return MG_ESTORE;
  sqlite3_bind_blob(st, 1, id, 16, SQLITE_STATIC);
  int rc, err = MG_OK;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    if (grow((void **)out, &cap, *n + 1, sizeof **out)) {
      err = MG_ENOMEM;
      break;
    }
    referrer *r = &(*out)[*n];
    memset(r, 0, sizeof *r);
    (*n)++;
    r->seq = sqlite3_column_int64(st, 0);
    if (sqlite3_column_bytes(st, 1) == 16) memcpy(r->id, sqlite3_column_blob(st, 1), 16);
    r->is_voiding = sqlite3_column_int(st, 2);
    err = ks_decode(sqlite3_column_blob(st, 3), (size_t)sqlite3_column_bytes(st, 3), &r->keys);
    if (err) break;
  }
  if (!err && rc != SQLITE_DONE) err = db_fail(s->w->db, rc, "referrers");
  sqlite3_reset(st);
  if (err) {
    referrers_free(*out, *n);
    *out = NULL;
    *n = 0;
  }
  return err;
}

static int set_voided(sq *s, int64_t seq) {
  sqlite3_stmt *st = use(s->w, Q_SET_VOIDED);
  if (!st) return MG_ESTORE;
  sqlite3_bind_int64(st, 1, seq);
  int rc = sqlite3_step(st);
  sqlite3_reset(st);
  return rc == SQLITE_DONE ? MG_OK : db_fail(s->w->db, rc, "set voided");
}

/* A new statement (seq, id, keys) may be the target of statements stored before it: void it if
 * one of them voids it, and copy its keys into them and onward to whatever targets them. Keys only
 * grow, so the walk ends even on reference cycles. */
static int propagate(sq *s, int64_t seq, const uint8_t id[16], int is_voiding, const keyset *keys) {
  typedef struct item {
    int64_t seq;
    uint8_t id[16];
    keyset keys;
  } item;
  item *stack = NULL;
  size_t n = 0, cap = 0;
  referrer *refs = NULL;
  size_t nrefs = 0;
  int rc = MG_OK, first = 1;
  if (grow((void **)&stack, &cap, 1, sizeof *stack)) return MG_ENOMEM;
  memset(&stack[0], 0, sizeof stack[0]);
  stack[0].seq = seq;
  memcpy(stack[0].id, id, 16);
  n = 1;
  if ((rc = ks_union(&stack[0].keys, keys, NULL))) goto out;
  while (n) {
    item cur = stack[--n];
    rc = load_referrers(s, cur.id, &refs, &nrefs);
    for (size_t i = 0; !rc && i < nrefs; i++) {
      referrer *r = &refs[i];
      if (r->seq == cur.seq) continue; /* a statement that targets itself */
      if (first && r->is_voiding && !is_voiding) rc = set_voided(s, seq);
      int changed = 0;
      if (!rc) rc = ks_union(&r->keys, &cur.keys, &changed);
      if (rc || !changed) continue;
      mg_buf_reset(&s->wx.blob);
      rc = ks_encode(&r->keys, &s->wx.blob);
      sqlite3_stmt *st = rc ? NULL : use(s->w, Q_SET_KEYS);
      if (!rc && !st) rc = MG_ESTORE;
      if (!rc) {
        sqlite3_bind_int64(st, 1, r->seq);
        sqlite3_bind_blob(st, 2, s->wx.blob.data, (int)s->wx.blob.len, SQLITE_STATIC);
        int r2 = sqlite3_step(st);
        sqlite3_reset(st);
        if (r2 != SQLITE_DONE) rc = db_fail(s->w->db, r2, "set keys");
      }
      /* queued with the batch's rows; they are written as upserts */
      if (!rc) rc = queue_rows(&s->wx, &r->keys, r->seq);
      if (!rc && grow((void **)&stack, &cap, n + 1, sizeof *stack)) rc = MG_ENOMEM;
      if (!rc) {
        stack[n].seq = r->seq;
        memcpy(stack[n].id, r->id, 16);
        stack[n].keys = r->keys; /* moves the keys */
        memset(&r->keys, 0, sizeof r->keys);
        n++;
      }
    }
    referrers_free(refs, nrefs);
    refs = NULL;
    nrefs = 0;
    ks_free(&cur.keys);
    first = 0;
    if (rc) break;
  }
out:
  while (n) ks_free(&stack[--n].keys);
  free(stack);
  return rc;
}

static int put_attachments(sq *s, const mg_store_stmt *st) {
  for (size_t i = 0; i < st->n_attachments; i++) {
    const mg_store_attachment *a = &st->attachments[i];
    sqlite3_stmt *q = use(s->w, Q_ATT_INS);
    if (!q) return MG_ESTORE;
    if (a->len > INT_MAX) return MG_ETOOBIG;
    sqlite3_bind_text(q, 1, a->sha2, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, a->content_type, -1, SQLITE_STATIC);
    sqlite3_bind_blob(q, 3, a->len ? a->data : "", (int)a->len, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    sqlite3_reset(q);
    if (rc != SQLITE_DONE) return db_fail(s->w->db, rc, "attachment insert");
  }
  return MG_OK;
}

/* Stores one statement inside the current batch's savepoint. */
static int put_one(sq *s, mg_store_stmt *stm, const srec *rec, rstate *rs,
                   mg_store_put_result *res) {
  wctx *w = &s->wx;
  keyset *own = &w->own;
  int rc = MG_OK;
  ks_reset(own);
  if (rec->actor) rc = kv_push(&own->ag, &own->nag, &own->cag, rec->actor, 1);
  if (!rc && rec->oagent) rc = kv_push(&own->ag, &own->nag, &own->cag, rec->oagent, 1);
  for (size_t i = 0; !rc && i < rec->ag_n; i++)
    rc = kv_push(&own->ag, &own->nag, &own->cag, w->ids[rec->ag_off + i], 0);
  if (!rc && rec->oact) rc = kv_push(&own->ac, &own->nac, &own->cac, rec->oact, 1);
  for (size_t i = 0; !rc && i < rec->ac_n; i++)
    rc = kv_push(&own->ac, &own->nac, &own->cac, w->ids[rec->ac_off + i], 0);
  if (!rc) rc = i64_push(&own->vb, &own->nvb, &own->cvb, rec->verb);
  if (!rc && stm->has_registration) rc = reg_push(own, stm->registration);
  if (rc) return rc;
  ks_normalize(own);

  /* The target's keys become ours (xAPI: a StatementRef matches what its target matches). */
  int64_t tseq = 0;
  int t_voiding = 0;
  if (stm->has_object_ref) {
    sqlite3_stmt *st = use(s->w, Q_TARGET);
    if (!st) return MG_ESTORE;
    sqlite3_bind_blob(st, 1, stm->object_ref, 16, SQLITE_STATIC);
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
      tseq = sqlite3_column_int64(st, 0);
      t_voiding = sqlite3_column_int(st, 1);
      rc = ks_decode(sqlite3_column_blob(st, 2), (size_t)sqlite3_column_bytes(st, 2), &w->tgt);
    } else if (r != SQLITE_DONE) {
      rc = db_fail(s->w->db, r, "target");
    }
    sqlite3_reset(st);
    if (!rc && tseq) rc = ks_union(own, &w->tgt, NULL);
    if (rc) return rc;
  }
  mg_buf_reset(&w->blob);
  if ((rc = ks_encode(own, &w->blob))) return rc;
  if (stm->json_len > INT_MAX) return MG_ETOOBIG;

  sqlite3_stmt *st = use(s->w, Q_STMT_INS);
  if (!st) return MG_ESTORE;
  sqlite3_bind_blob(st, 1, stm->id, 16, SQLITE_STATIC);
  sqlite3_bind_int64(st, 2, stm->stored_us);
  sqlite3_bind_int64(st, 3, stm->timestamp_us);
  if (rec->actor) sqlite3_bind_int64(st, 4, rec->actor);
  sqlite3_bind_int64(st, 5, rec->verb);
  if (rec->oact) sqlite3_bind_int64(st, 6, rec->oact);
  if (rec->oagent) sqlite3_bind_int64(st, 7, rec->oagent);
  if (stm->has_registration) sqlite3_bind_blob(st, 8, stm->registration, 16, SQLITE_STATIC);
  if (stm->has_object_ref) sqlite3_bind_blob(st, 9, stm->object_ref, 16, SQLITE_STATIC);
  sqlite3_bind_int(st, 10, stm->is_voiding ? 1 : 0);
  sqlite3_bind_int64(st, 11, stm->platform_id);
  sqlite3_bind_blob(st, 12, stm->cmp_hash, 32, SQLITE_STATIC);
  sqlite3_bind_blob(st, 13, w->blob.data, (int)w->blob.len, SQLITE_STATIC);
  sqlite3_bind_text(st, 14, stm->json, (int)stm->json_len, SQLITE_STATIC);
  int r = sqlite3_step(st);
  sqlite3_reset(st);
  if (r != SQLITE_DONE) return db_fail(s->w->db, r, "statement insert");

  if (sqlite3_changes(s->w->db) == 0) { /* the id exists: same content or a conflict */
    st = use(s->w, Q_STMT_HASH);
    if (!st) return MG_ESTORE;
    sqlite3_bind_blob(st, 1, stm->id, 16, SQLITE_STATIC);
    r = sqlite3_step(st);
    int same = r == SQLITE_ROW && sqlite3_column_bytes(st, 0) == 32 &&
               memcmp(sqlite3_column_blob(st, 0), stm->cmp_hash, 32) == 0;
    sqlite3_reset(st);
    if (r != SQLITE_ROW) return db_fail(s->w->db, r, "statement hash");
    if (!same) return MG_ECONFLICT;
    *res = MG_STORE_PUT_SAME;
    return MG_OK;
  }
  int64_t seq = sqlite3_last_insert_rowid(s->w->db);
  *res = MG_STORE_PUT_NEW;

  if (stm->is_voiding && tseq && !t_voiding && tseq != seq && (rc = set_voided(s, tseq)))
    return rc;
  if ((rc = queue_rows(w, own, seq))) return rc;
  if ((rc = put_attachments(s, stm))) return rc;
  if (rs->refs_any && (rc = propagate(s, seq, stm->id, stm->is_voiding, own))) return rc;
  if (stm->has_object_ref) rs->refs_any = 1;

  if (stm->stored_us > rs->pmax) rs->pmax = stm->stored_us;
  if (stm->stored_us < rs->floor) rs->floor = stm->stored_us;
  rs->total++;
  rs->last_seq = seq;
  return MG_OK;
}

/* Runs one group-commit round over the jobs of list; sets each job's rc. */
static void run_round(sq *s, job *list) {
  wctx *w = &s->wx;
  rstate rs = {0, 0, INT64_MAX, 0, 0};
  int64_t max_lag = 0, mark_seq;
  int rc = run(s->w, Q_BEGIN_IMM);
  for (job *j = list; j; j = j->next) j->rc = MG_ESTORE;
  if (rc) goto fail;
  if ((rc = mark_last(s->w, &rs.pmax, &mark_seq, &rs.total))) goto abort;
  if (!mark_seq) rs.pmax = INT64_MIN; /* empty store: no bound yet */
  if ((rc = meta_get(s->w, "max_lag_us", &max_lag))) goto abort;
  {
    sqlite3_stmt *st = use(s->w, Q_REFS_ANY);
    if (!st) {
      rc = MG_ESTORE;
      goto abort;
    }
    int r = sqlite3_step(st);
    rs.refs_any = r == SQLITE_ROW;
    sqlite3_reset(st);
    if (r != SQLITE_ROW && r != SQLITE_DONE) {
      rc = db_fail(s->w->db, r, "refs any");
      goto abort;
    }
  }
  if ((rc = intern_round(s, list))) goto abort;

  size_t base = 0;
  for (job *j = list; j; base += j->n, j = j->next) {
    if ((rc = run(s->w, Q_SAVEPOINT))) goto abort;
    rstate saved = rs;
    w->nag = w->nac = w->nvb = w->nrg = 0;
    int jrc = MG_OK;
    size_t i;
    for (i = 0; i < j->n && !jrc; i++) {
      mg_store_put_result res = MG_STORE_PUT_NEW;
      jrc = put_one(s, &j->stmts[i], &w->recs[base + i], &rs, &res);
      if (!jrc && j->results) j->results[i] = res;
    }
    if (jrc) j->bad = i - 1;
    if (!jrc) jrc = flush_rows(s);
    if (jrc) {
      rs = saved;
      if ((rc = run(s->w, Q_ROLLBACK_TO)) || (rc = run(s->w, Q_RELEASE))) goto abort;
    } else if ((rc = run(s->w, Q_RELEASE))) {
      goto abort;
    }
    j->rc = jrc;
  }

  if (rs.last_seq) {
    sqlite3_stmt *st = use(s->w, Q_MARK_INS);
    if (!st) {
      rc = MG_ESTORE;
      goto abort;
    }
    sqlite3_bind_int64(st, 1, rs.pmax);
    sqlite3_bind_int64(st, 2, rs.last_seq);
    sqlite3_bind_int64(st, 3, rs.floor);
    sqlite3_bind_int64(st, 4, rs.total);
    int r = sqlite3_step(st);
    sqlite3_reset(st);
    if (r != SQLITE_DONE) {
      rc = db_fail(s->w->db, r, "mark insert");
      goto abort;
    }
    /* The spread of stored inside one transaction bounds how far a later statement's stored can
     * fall below an earlier one's; until-queries widen their seq bound by the largest seen. */
    int64_t lag =
        rs.floor < 0 && rs.pmax > INT64_MAX + rs.floor ? INT64_MAX : rs.pmax - rs.floor;
    if (lag > max_lag) {
      st = use(s->w, Q_META_SET);
      if (!st) {
        rc = MG_ESTORE;
        goto abort;
      }
      sqlite3_bind_text(st, 1, "max_lag_us", -1, SQLITE_STATIC);
      sqlite3_bind_int64(st, 2, lag);
      r = sqlite3_step(st);
      sqlite3_reset(st);
      if (r != SQLITE_DONE) {
        rc = db_fail(s->w->db, r, "meta set");
        goto abort;
      }
    }
  }
  if ((rc = run(s->w, Q_COMMIT))) goto abort;
  return;
abort:
  conn_quiesce(s->w); /* rolls the transaction back */
fail:
  /* Ids interned by this transaction are gone with it. */
  icache_clear(&s->agents);
  icache_clear(&s->verbs);
  icache_clear(&s->acts);
  for (job *j = list; j; j = j->next)
    if (j->rc != MG_ECONFLICT && j->rc != MG_EINVAL) j->rc = rc ? rc : MG_ESTORE;
}

/* Checks what the backend relies on before the batch is queued. */
static int check_batch(const mg_store_stmt *stmts, size_t n, size_t *bad) {
  for (size_t i = 0; i < n; i++) {
    const mg_store_stmt *st = &stmts[i];
    int ok = st->verb_id && st->json && st->json_len > 0 &&
             (!st->n_related_agents || st->related_agents) &&
             (!st->n_related_activities || st->related_activities) &&
             (!st->n_attachments || st->attachments);
    for (size_t k = 0; ok && k < st->n_related_agents; k++) ok = st->related_agents[k] != NULL;
    for (size_t k = 0; ok && k < st->n_related_activities; k++)
      ok = st->related_activities[k] != NULL;
    for (size_t k = 0; ok && k < st->n_attachments; k++) {
      const mg_store_attachment *a = &st->attachments[k];
      ok = a->sha2 && strlen(a->sha2) == 64 && a->content_type && (a->data || !a->len);
    }
    if (!ok) {
      *bad = i;
      return MG_EINVAL;
    }
  }
  return MG_OK;
}

static int sq_stmt_insert(void *be, mg_store_stmt *stmts, size_t n, mg_store_put_result *results,
                          size_t *bad_index) {
  sq *s = be;
  size_t bad = 0;
  int rc = check_batch(stmts, n, &bad);
  if (rc) {
    if (bad_index) *bad_index = bad;
    return rc;
  }
  job j = {stmts, n, results, 0, MG_ESTORE, 0, NULL};
  pthread_mutex_lock(&s->mu);
  if (s->tail)
    s->tail->next = &j;
  else
    s->head = &j;
  s->tail = &j;
  while (!j.done) {
    if (!s->leader) {
      /* Lead one round: everything queued so far, ours included. */
      s->leader = 1;
      job *list = s->head;
      s->head = s->tail = NULL;
      pthread_mutex_unlock(&s->mu);
      run_round(s, list);
      pthread_mutex_lock(&s->mu);
      for (job *k = list; k;) {
        job *next = k->next; /* k may be gone once done is seen */
        k->done = 1;
        k = next;
      }
      s->leader = 0;
      pthread_cond_broadcast(&s->cv);
      break;
    }
    pthread_cond_wait(&s->cv, &s->mu);
  }
  pthread_mutex_unlock(&s->mu);
  if (j.rc == MG_ECONFLICT && bad_index) *bad_index = j.bad;
  /* stored_us is stored as given (see store.h), so there is nothing to write back. */
  return j.rc;
}

/* ---- migrations and lifecycle ------------------------------------------------------------ */

static int schema_version_on(conn *c, int *out) {
  sqlite3_stmt *st = use(c, Q_VERSION);
  if (!st) return MG_ESTORE;
  int rc = sqlite3_step(st);
  *out = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
  sqlite3_reset(st);
  return rc == SQLITE_ROW ? MG_OK : db_fail(c->db, rc, "schema version");
}

static int migrate(conn *c, int *applied) {
  int rc = exec_pragma(c->db, "CREATE TABLE IF NOT EXISTS schema_migrations ("
                              "number INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                              "applied_us INTEGER NOT NULL)");
  if (rc) return rc;
  int version = 0;
  if ((rc = schema_version_on(c, &version))) return rc;
  for (const mg_store_migration *m = mg_store_sqlite_migrations; m->number; m++) {
    if (m->number <= version) continue;
    if ((rc = run(c, Q_BEGIN_IMM))) return rc;
    /* Another process may have applied it while we waited for the lock. */
    sqlite3_stmt *st = use(c, Q_MIG_HAS);
    if (!st) {
      rc = MG_ESTORE;
      goto fail;
    }
    sqlite3_bind_int(st, 1, m->number);
    int r = sqlite3_step(st);
    sqlite3_reset(st);
    if (r == SQLITE_ROW) {
      if ((rc = run(c, Q_COMMIT))) goto fail;
      continue;
    }
    if (r != SQLITE_DONE) {
      rc = db_fail(c->db, r, "migration check");
      goto fail;
    }
    r = sqlite3_exec(c->db, m->sql, NULL, NULL, NULL);
    if (r != SQLITE_OK) {
      rc = db_fail(c->db, r, m->name);
      goto fail;
    }
    st = use(c, Q_MIG_INS);
    if (!st) {
      rc = MG_ESTORE;
      goto fail;
    }
    sqlite3_bind_int(st, 1, m->number);
    sqlite3_bind_text(st, 2, m->name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, mg_time_now_us());
    r = sqlite3_step(st);
    sqlite3_reset(st);
    if (r != SQLITE_DONE) {
      rc = db_fail(c->db, r, "migration record");
      goto fail;
    }
    if ((rc = run(c, Q_COMMIT))) goto fail;
    if (applied) (*applied)++;
    mg_log(MG_LOG_INFO, "store.migrated", "migration", m->name, NULL);
  }
  return MG_OK;
fail:
  conn_quiesce(c);
  return rc;
}

static void sq_close(void *be) {
  sq *s = be;
  if (!s) return;
  while (s->idle) {
    conn *c = s->idle;
    s->idle = c->next;
    conn_close(c);
  }
  conn_close(s->w);
  icache_clear(&s->agents);
  icache_clear(&s->verbs);
  icache_clear(&s->acts);
  wctx *w = &s->wx;
  free(w->recs);
  free(w->ids);
  free(w->ag);
  free(w->ac);
  free(w->vb);
  free(w->rg);
  ks_free(&w->own);
  ks_free(&w->tgt);
  mg_buf_free(&w->blob);
  pthread_mutex_destroy(&s->mu);
  pthread_cond_destroy(&s->cv);
  pthread_mutex_destroy(&s->pool_mu);
  free(s->path);
  free(s);
}

static int sq_open(const char *target, void **be, int *applied) {
  pthread_once(&sqlite_once, sqlite_global_init);
  *be = NULL;
  sq *s = calloc(1, sizeof *s);
  if (!s) return MG_ENOMEM;
  size_t len = strlen(target);
  s->path = malloc(len + 1);
  if (!s->path) {
    free(s);
    return MG_ENOMEM;
  }
  memcpy(s->path, target, len + 1);
  pthread_mutex_init(&s->mu, NULL);
  pthread_cond_init(&s->cv, NULL);
  pthread_mutex_init(&s->pool_mu, NULL);
  mg_buf_init(&s->wx.blob, KEYS_BLOB_MAX);
  int rc = conn_open(s->path, 1, &s->w);
  if (!rc) rc = migrate(s->w, applied);
  if (rc) {
    sq_close(s);
    return rc;
  }
  *be = s;
  return MG_OK;
}

static int sq_schema_version(void *be, int *out) {
  sq *s = be;
  conn *c = pool_get(s);
  if (!c) return MG_ESTORE;
  int rc = schema_version_on(c, out);
  pool_put(s, c);
  return rc;
}

/* ---- reads -------------------------------------------------------------------------------- */

static char *dup_bytes(const void *p, size_t n) {
  char *d = malloc(n + 1);
  if (!d) return NULL;
  if (n) memcpy(d, p, n);
  d[n] = '\0';
  return d;
}

static int sq_stmt_get(void *be, const uint8_t id[16], mg_store_stmt_info *info, char **json,
                       size_t *json_len) {
  sq *s = be;
  conn *c = pool_get(s);
  if (!c) return MG_ESTORE;
  int rc = MG_OK;
  sqlite3_stmt *st = use(c, Q_STMT_GET);
  if (!st) {
    rc = MG_ESTORE;
    goto out;
  }
  sqlite3_bind_blob(st, 1, id, 16, SQLITE_STATIC);
  int r = sqlite3_step(st);
  if (r == SQLITE_DONE) {
    rc = MG_ENOTFOUND;
    goto out;
  }
  if (r != SQLITE_ROW) {
    rc = db_fail(c->db, r, "statement get");
    goto out;
  }
  if (info) {
    info->seq = sqlite3_column_int64(st, 0);
    info->stored_us = sqlite3_column_int64(st, 1);
    info->voided = sqlite3_column_int(st, 2);
    info->is_voiding = sqlite3_column_int(st, 3);
  }
  if (json) {
    const void *text = sqlite3_column_text(st, 4);
    size_t n = (size_t)sqlite3_column_bytes(st, 4);
    if (!(*json = dup_bytes(text, n))) {
      rc = MG_ENOMEM;
      goto out;
    }
    if (json_len) *json_len = n;
  }
out:
  pool_put(s, c);
  return rc;
}

/* An ordered stream of seqs in [lo, hi] for one filter. */
typedef struct stream {
  sqlite3_stmt *st;       /* NULL: an array stream */
  int64_t ikey;           /* key bound as ?1 ... */
  const uint8_t *bkey;    /* ... or this 16-byte blob */
  int has_key;
  const int64_t *arr;     /* array stream: ascending */
  size_t n;
  int started, end;
  int64_t cur;
} stream;

typedef struct qctx {
  conn *c;
  int asc;
  int64_t lo, hi;
} qctx;

/* Positions x on its first seq >= target (ascending) or <= target (descending). Returns 1 and
 * *out, 0 when the stream has no more, or an error. */
static int stream_seek(const qctx *qc, stream *x, int64_t target, int64_t *out) {
  if (x->arr) {
    size_t a = 0, b = x->n; /* first index with arr >= target (asc) or > target (desc) */
    while (a < b) {
      size_t m = a + (b - a) / 2;
      if (qc->asc ? x->arr[m] < target : x->arr[m] <= target)
        a = m + 1;
      else
        b = m;
    }
    if (qc->asc) {
      if (a == x->n) return 0;
      *out = x->arr[a];
    } else {
      if (a == 0) return 0;
      *out = x->arr[a - 1];
    }
    return 1;
  }
  if (x->end) return 0;
  if (x->started) {
    if (qc->asc ? x->cur >= target : x->cur <= target) {
      *out = x->cur;
      return 1;
    }
    for (int k = 0; k < SEEK_STEPS; k++) {
      int rc = sqlite3_step(x->st);
      if (rc == SQLITE_DONE) {
        x->end = 1;
        return 0;
      }
      if (rc != SQLITE_ROW) return db_fail(qc->c->db, rc, "stream step");
      x->cur = sqlite3_column_int64(x->st, 0);
      if (qc->asc ? x->cur >= target : x->cur <= target) {
        *out = x->cur;
        return 1;
      }
    }
  }
  /* (Re)start the index scan at target. */
  sqlite3_reset(x->st);
  if (x->has_key) {
    if (x->bkey)
      sqlite3_bind_blob(x->st, 1, x->bkey, 16, SQLITE_STATIC);
    else
      sqlite3_bind_int64(x->st, 1, x->ikey);
  }
  sqlite3_bind_int64(x->st, 2, qc->asc ? target : qc->lo);
  sqlite3_bind_int64(x->st, 3, qc->asc ? qc->hi : target);
  x->started = 1;
  int rc = sqlite3_step(x->st);
  if (rc == SQLITE_DONE) {
    x->end = 1;
    return 0;
  }
  if (rc != SQLITE_ROW) return db_fail(qc->c->db, rc, "stream seek");
  x->cur = sqlite3_column_int64(x->st, 0);
  *out = x->cur;
  return 1;
}

/* Looks an interned string up; *id = 0 when it was never stored. */
static int lookup_id(conn *c, int q, const char *str, int64_t *id) {
  sqlite3_stmt *st = use(c, q);
  if (!st) return MG_ESTORE;
  sqlite3_bind_text(st, 1, str, -1, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  *id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
  sqlite3_reset(st);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return db_fail(c->db, rc, "lookup");
  return MG_OK;
}

static int64_t sat_add(int64_t a, int64_t b) {
  if (b > 0 && a > INT64_MAX - b) return INT64_MAX;
  if (b < 0 && a < INT64_MIN - b) return INT64_MIN;
  return a + b;
}

/* First seq that can have stored > since. */
static int since_lo(conn *c, int64_t since, int64_t *lo) {
  sqlite3_stmt *st = use(c, Q_MARK_SINCE);
  if (!st) return MG_ESTORE;
  sqlite3_bind_int64(st, 1, since);
  int rc = sqlite3_step(st);
  *lo = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) + 1 : 1;
  sqlite3_reset(st);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return db_fail(c->db, rc, "since");
  return MG_OK;
}

/* Last seq that can have stored <= until (0: none). Marks past pmax > until + max_lag hold only
 * later statements; from there, walk back to the last mark whose lowest stored is <= until. */
static int until_hi(conn *c, int64_t until, int64_t *hi) {
  int64_t lag, pj = 0, sj = 0, total;
  int rc = meta_get(c, "max_lag_us", &lag);
  if (rc) return rc;
  sqlite3_stmt *st = use(c, Q_MARK_UNTIL_A);
  if (!st) return MG_ESTORE;
  sqlite3_bind_int64(st, 1, sat_add(until, lag));
  int r = sqlite3_step(st);
  if (r == SQLITE_ROW) {
    pj = sqlite3_column_int64(st, 0);
    sj = sqlite3_column_int64(st, 1);
  }
  sqlite3_reset(st);
  if (r != SQLITE_ROW && r != SQLITE_DONE) return db_fail(c->db, r, "until a");
  if (r == SQLITE_DONE) {
    if ((rc = mark_last(c, &pj, &sj, &total))) return rc;
    if (!sj) {
      *hi = 0;
      return MG_OK;
    }
  }
  st = use(c, Q_MARK_UNTIL_B);
  if (!st) return MG_ESTORE;
  sqlite3_bind_int64(st, 1, pj);
  sqlite3_bind_int64(st, 2, sj);
  sqlite3_bind_int64(st, 3, until);
  r = sqlite3_step(st);
  *hi = r == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
  sqlite3_reset(st);
  if (r != SQLITE_ROW && r != SQLITE_DONE) return db_fail(c->db, r, "until b");
  return MG_OK;
}

/* Seqs of statements whose timestamp is in [a, b] within [lo, hi], ascending, if fewer than cap
 * (*complete = 1); otherwise *complete = 0 and the timestamp is checked per row instead. */
static int ts_collect(const qctx *qc, int64_t a, int64_t b, size_t cap, int64_t **arr,
                      size_t *n, int *complete) {
  *arr = NULL;
  *n = 0;
  *complete = 0;
  size_t acap = 0;
  sqlite3_stmt *st = use(qc->c, Q_TS_COLLECT);
  if (!st) return MG_ESTORE;
  sqlite3_bind_int64(st, 1, a);
  sqlite3_bind_int64(st, 2, b);
  sqlite3_bind_int64(st, 3, qc->lo);
  sqlite3_bind_int64(st, 4, qc->hi);
  sqlite3_bind_int64(st, 5, (int64_t)cap);
  int rc, err = MG_OK;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    if (i64_push(arr, n, &acap, sqlite3_column_int64(st, 0))) {
      err = MG_ENOMEM;
      break;
    }
  }
  if (!err && rc != SQLITE_DONE) err = db_fail(qc->c->db, rc, "timestamp collect");
  sqlite3_reset(st);
  if (err || *n >= cap) {
    free(*arr);
    *arr = NULL;
    *n = 0;
    return err;
  }
  if (*n > 1) qsort(*arr, *n, sizeof **arr, cmp_i64);
  *complete = 1;
  return MG_OK;
}

static int add_stream(qctx *qc, stream *v, size_t *nv, int qa, int qd, int has_key, int64_t ikey,
                      const uint8_t *bkey) {
  stream *x = &v[(*nv)++];
  memset(x, 0, sizeof *x);
  x->st = use(qc->c, qc->asc ? qa : qd);
  if (!x->st) return MG_ESTORE;
  x->has_key = has_key;
  x->ikey = ikey;
  x->bkey = bkey;
  return MG_OK;
}

static int sq_stmt_query(void *be, const mg_store_query *q, mg_store_stmt_cb cb, void *ud,
                         int *more, int64_t *last_seq, int64_t *snapshot_seq) {
  sq *s = be;
  stream v[8];
  size_t nv = 0;
  int64_t *ts_arr = NULL;
  int64_t snap = 0, last = 0, id;
  int found_more = 0;
  conn *c = pool_get(s);
  if (!c) return MG_ESTORE;
  qctx qc = {c, q->ascending != 0, 1, 0};
  int rc = run(c, Q_BEGIN);
  if (rc) goto out;

  if (q->max_seq > 0) {
    snap = q->max_seq;
  } else {
    sqlite3_stmt *st = use(c, Q_MAX_SEQ);
    if (!st) {
      rc = MG_ESTORE;
      goto out;
    }
    int r = sqlite3_step(st);
    snap = r == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    if (r != SQLITE_ROW) {
      rc = db_fail(c->db, r, "max seq");
      goto out;
    }
  }
  qc.hi = snap;
  if (q->after_seq > 0) {
    if (qc.asc)
      qc.lo = q->after_seq + 1;
    else if (q->after_seq - 1 < qc.hi)
      qc.hi = q->after_seq - 1;
  }
  if (q->has_since) {
    int64_t lo;
    if ((rc = since_lo(c, q->since_us, &lo))) goto out;
    if (lo > qc.lo) qc.lo = lo;
  }
  if (q->has_until) {
    int64_t hi;
    if ((rc = until_hi(c, q->until_us, &hi))) goto out;
    if (hi < qc.hi) qc.hi = hi;
  }
  if (qc.lo > qc.hi) goto out;

  /* One stream per equality filter. A key never stored matches nothing. */
  if (q->agent_key) {
    if ((rc = lookup_id(c, Q_AGENT_SEL, q->agent_key, &id)) || !id) goto out;
    rc = q->related_agents ? add_stream(&qc, v, &nv, Q_S_AG_A, Q_S_AG_D, 1, id, NULL)
                           : add_stream(&qc, v, &nv, Q_S_AGD_A, Q_S_AGD_D, 1, id, NULL);
    if (rc) goto out;
  }
  if (q->verb_id) {
    if ((rc = lookup_id(c, Q_VERB_SEL, q->verb_id, &id)) || !id) goto out;
    if ((rc = add_stream(&qc, v, &nv, Q_S_VB_A, Q_S_VB_D, 1, id, NULL))) goto out;
  }
  if (q->activity_id) {
    if ((rc = lookup_id(c, Q_ACT_SEL, q->activity_id, &id)) || !id) goto out;
    rc = q->related_activities ? add_stream(&qc, v, &nv, Q_S_AC_A, Q_S_AC_D, 1, id, NULL)
                               : add_stream(&qc, v, &nv, Q_S_ACD_A, Q_S_ACD_D, 1, id, NULL);
    if (rc) goto out;
  }
  if (q->has_registration &&
      (rc = add_stream(&qc, v, &nv, Q_S_RG_A, Q_S_RG_D, 1, 0, q->registration)))
    goto out;
  if (q->platform_id &&
      (rc = add_stream(&qc, v, &nv, Q_S_PL_A, Q_S_PL_D, 1, q->platform_id, NULL)))
    goto out;
  int64_t ts_a = q->has_ts_since ? q->ts_since_us : INT64_MIN;
  int64_t ts_b = INT64_MAX;
  if (q->has_ts_until) {
    if (q->ts_until_us == INT64_MIN) goto out;
    ts_b = q->ts_until_us - 1;
  }
  if (ts_a > ts_b) goto out;
  if (q->has_ts_since || q->has_ts_until) {
    /* A narrow time window becomes a stream of its own; a wide one is checked per row. */
    size_t n = 0;
    int complete = 0;
    rc = ts_collect(&qc, ts_a, ts_b, nv ? TS_CAP_WITH_OTHERS : TS_CAP_ALONE, &ts_arr, &n,
                    &complete);
    if (rc || (complete && n == 0)) goto out;
    if (complete) {
      stream *x = &v[nv++];
      memset(x, 0, sizeof *x);
      x->arr = ts_arr;
      x->n = n;
    }
  }
  if (!nv && (rc = add_stream(&qc, v, &nv, Q_S_ALL_A, Q_S_ALL_D, 0, 0, NULL))) goto out;

  size_t limit = q->limit == 0 || q->limit > MG_STORE_QUERY_MAX_LIMIT ? MG_STORE_QUERY_MAX_LIMIT : q->limit;
  size_t delivered = 0;
  sqlite3_stmt *row = use(c, Q_ROW);
  if (!row) {
    rc = MG_ESTORE;
    goto out;
  }
  int64_t cand = qc.asc ? qc.lo : qc.hi;
  while (qc.asc ? cand <= qc.hi : cand >= qc.lo) {
    /* Leapfrog: move the candidate until every stream holds it. */
    size_t agree = 0, i = 0;
    int r = 1;
    while (agree < nv) {
      int64_t at = 0;
      r = stream_seek(&qc, &v[i], cand, &at);
      if (r <= 0) break;
      if (at == cand) {
        agree++;
      } else {
        cand = at;
        agree = 1;
      }
      i = (i + 1) % nv;
    }
    if (r < 0) {
      rc = r;
      goto out;
    }
    if (r == 0) break;

    sqlite3_bind_int64(row, 1, cand);
    r = sqlite3_step(row);
    if (r == SQLITE_ROW) {
      int64_t stored = sqlite3_column_int64(row, 1), ts = sqlite3_column_int64(row, 2);
      int ok = !sqlite3_column_int(row, 0) && (!q->has_since || stored > q->since_us) &&
               (!q->has_until || stored <= q->until_us) && ts >= ts_a && ts <= ts_b &&
               (!q->platform_id || sqlite3_column_int64(row, 3) == q->platform_id);
      if (ok && delivered == limit) {
        found_more = 1;
        sqlite3_reset(row);
        break;
      }
      if (ok) {
        const char *json = (const char *)sqlite3_column_text(row, 4);
        size_t len = (size_t)sqlite3_column_bytes(row, 4);
        rc = cb(ud, cand, json ? json : "", len);
        delivered++;
        last = cand;
      }
    } else if (r != SQLITE_DONE) {
      rc = db_fail(c->db, r, "row");
    }
    sqlite3_reset(row);
    if (rc) goto out;
    cand = qc.asc ? cand + 1 : cand - 1;
  }
out:
  for (size_t i = 0; i < nv; i++)
    if (v[i].st) sqlite3_reset(v[i].st);
  pool_put(s, c); /* ends the read transaction */
  free(ts_arr);
  if (more) *more = found_more;
  if (last_seq) *last_seq = last;
  if (snapshot_seq) *snapshot_seq = snap;
  return rc;
}

static int sq_last_stored(void *be, int64_t *out_us) {
  sq *s = be;
  conn *c = pool_get(s);
  if (!c) return MG_ESTORE;
  int64_t seq, total;
  int rc = mark_last(c, out_us, &seq, &total);
  pool_put(s, c);
  return rc;
}

static int sq_count(void *be, int64_t *out) {
  sq *s = be;
  conn *c = pool_get(s);
  if (!c) return MG_ESTORE;
  int64_t pmax, seq;
  int rc = mark_last(c, &pmax, &seq, out);
  pool_put(s, c);
  return rc;
}

static void copy_text(char *dst, size_t size, const unsigned char *src) {
  if (!size) return;
  size_t n = src ? strlen((const char *)src) : 0;
  if (n >= size) n = size - 1;
  if (n) memcpy(dst, src, n);
  dst[n] = '\0';
}

static int sq_attachment_get(void *be, const char *sha2, void **data, size_t *len, char *ctype,
                             size_t ctype_size) {
  sq *s = be;
  conn *c = pool_get(s);
  if (!c) return MG_ESTORE;
  int rc = MG_OK;
  sqlite3_stmt *st = use(c, Q_ATT_GET);
  if (!st) {
    rc = MG_ESTORE;
    goto out;
  }
  sqlite3_bind_text(st, 1, sha2, -1, SQLITE_STATIC);
  int r = sqlite3_step(st);
  if (r == SQLITE_DONE) {
    rc = MG_ENOTFOUND;
    goto out;
  }
  if (r != SQLITE_ROW) {
    rc = db_fail(c->db, r, "attachment get");
    goto out;
  }
  size_t n = (size_t)sqlite3_column_bytes(st, 1);
  if (!(*data = dup_bytes(sqlite3_column_blob(st, 1), n))) {
    rc = MG_ENOMEM;
    goto out;
  }
  *len = n;
  if (ctype) copy_text(ctype, ctype_size, sqlite3_column_text(st, 0));
out:
  pool_put(s, c);
  return rc;
}

/* ---- credentials and settings -------------------------------------------------------------- */

static void cred_from_row(sqlite3_stmt *st, mg_store_credential *c) {
  memset(c, 0, sizeof *c);
  c->id = sqlite3_column_int64(st, 0);
  c->platform_id = sqlite3_column_int64(st, 1);
  copy_text(c->key, sizeof c->key, sqlite3_column_text(st, 2));
  copy_text(c->name, sizeof c->name, sqlite3_column_text(st, 3));
  copy_text(c->secret_hash, sizeof c->secret_hash, sqlite3_column_text(st, 4));
  c->enabled = sqlite3_column_int(st, 5);
  c->created_us = sqlite3_column_int64(st, 6);
}

/* Fits a char array field: NUL-terminated inside it and not empty. */
static int field_ok(const char *f, size_t size) {
  size_t n = strnlen(f, size);
  return n > 0 && n < size;
}

static int sq_credential_create(void *be, const mg_store_credential *cr, int64_t *out_id) {
  sq *s = be;
  if (!field_ok(cr->key, sizeof cr->key) || strnlen(cr->name, sizeof cr->name) == sizeof cr->name ||
      !field_ok(cr->secret_hash, sizeof cr->secret_hash))
    return MG_EINVAL;
  writer_acquire(s);
  int rc = MG_OK;
  sqlite3_stmt *st = use(s->w, Q_CRED_INS);
  if (!st) {
    rc = MG_ESTORE;
    goto out;
  }
  sqlite3_bind_int64(st, 1, cr->platform_id);
  sqlite3_bind_text(st, 2, cr->key, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 3, cr->name, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 4, cr->secret_hash, -1, SQLITE_STATIC);
  sqlite3_bind_int(st, 5, cr->enabled ? 1 : 0);
  sqlite3_bind_int64(st, 6, cr->created_us ? cr->created_us : mg_time_now_us());
  int r = sqlite3_step(st);
  sqlite3_reset(st);
  if (r == SQLITE_CONSTRAINT_UNIQUE || r == SQLITE_CONSTRAINT_PRIMARYKEY) {
    rc = MG_EEXISTS;
  } else if (r != SQLITE_DONE) {
    rc = db_fail(s->w->db, r, "credential create");
  } else if (out_id) {
    *out_id = sqlite3_last_insert_rowid(s->w->db);
  }
out:
  writer_release(s);
  return rc;
}

static int sq_credential_get(void *be, const char *key, mg_store_credential *out) {
  sq *s = be;
  conn *c = pool_get(s);
  if (!c) return MG_ESTORE;
  int rc = MG_OK;
  sqlite3_stmt *st = use(c, Q_CRED_GET);
  if (!st) {
    rc = MG_ESTORE;
    goto out;
  }
  sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
  int r = sqlite3_step(st);
  if (r == SQLITE_ROW)
    cred_from_row(st, out);
  else if (r == SQLITE_DONE)
    rc = MG_ENOTFOUND;
  else
    rc = db_fail(c->db, r, "credential get");
out:
  pool_put(s, c);
  return rc;
}

static int sq_credential_set_enabled(void *be, const char *key, int enabled) {
  sq *s = be;
  writer_acquire(s);
  int rc = MG_OK;
  sqlite3_stmt *st = use(s->w, Q_CRED_SET);
  if (!st) {
    rc = MG_ESTORE;
    goto out;
  }
  sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
  sqlite3_bind_int(st, 2, enabled ? 1 : 0);
  int r = sqlite3_step(st);
  sqlite3_reset(st);
  if (r != SQLITE_DONE)
    rc = db_fail(s->w->db, r, "credential set");
  else if (sqlite3_changes(s->w->db) == 0)
    rc = MG_ENOTFOUND;
out:
  writer_release(s);
  return rc;
}

static int sq_credential_list(void *be, int (*cb)(void *ud, const mg_store_credential *c),
                              void *ud) {
  sq *s = be;
  conn *c = pool_get(s);
  if (!c) return MG_ESTORE;
  int rc = MG_OK, r;
  sqlite3_stmt *st = use(c, Q_CRED_LIST);
  if (!st) {
    rc = MG_ESTORE;
    goto out;
  }
  while ((r = sqlite3_step(st)) == SQLITE_ROW) {
    mg_store_credential cr;
    cred_from_row(st, &cr);
    if ((rc = cb(ud, &cr))) goto out;
  }
  if (r != SQLITE_DONE) rc = db_fail(c->db, r, "credential list");
out:
  pool_put(s, c);
  return rc;
}

static int sq_setting_get(void *be, const char *key, char *out, size_t size) {
  sq *s = be;
  conn *c = pool_get(s);
  if (!c) return MG_ESTORE;
  int rc = MG_OK;
  sqlite3_stmt *st = use(c, Q_SET_GET);
  if (!st) {
    rc = MG_ESTORE;
    goto out;
  }
  sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
  int r = sqlite3_step(st);
  if (r == SQLITE_ROW)
    copy_text(out, size, sqlite3_column_text(st, 0));
  else if (r == SQLITE_DONE)
    rc = MG_ENOTFOUND;
  else
    rc = db_fail(c->db, r, "setting get");
out:
  pool_put(s, c);
  return rc;
}

static int sq_setting_set(void *be, const char *key, const char *value) {
  sq *s = be;
  writer_acquire(s);
  int rc = MG_OK;
  sqlite3_stmt *st = use(s->w, Q_SET_SET);
  if (!st) {
    rc = MG_ESTORE;
    goto out;
  }
  sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
  int r = sqlite3_step(st);
  sqlite3_reset(st);
  if (r != SQLITE_DONE) rc = db_fail(s->w->db, r, "setting set");
out:
  writer_release(s);
  return rc;
}

const mg_store_ops mg_store_sqlite_ops = {
    .name = "sqlite",
    .open = sq_open,
    .close = sq_close,
    .schema_version = sq_schema_version,
    .stmt_insert = sq_stmt_insert,
    .stmt_get = sq_stmt_get,
    .stmt_query = sq_stmt_query,
    .stmt_last_stored = sq_last_stored,
    .stmt_count = sq_count,
    .attachment_get = sq_attachment_get,
    .credential_create = sq_credential_create,
    .credential_get = sq_credential_get,
    .credential_set_enabled = sq_credential_set_enabled,
    .credential_list = sq_credential_list,
    .setting_get = sq_setting_get,
    .setting_set = sq_setting_set,
};
