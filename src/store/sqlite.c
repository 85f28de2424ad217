/* store/sqlite.c — the embedded SQLite backend of store.h.
 *
 * Connections: one writer connection, used only by the thread holding the writer role (the
 * group-commit leader, or a credential/setting write), and a pool of reader connections, so reads
 * never wait for the writer (WAL). Every connection caches its prepared statements.
 *
 * Group commit: a caller of mg_store_stmt_insert queues its batch; the first caller to find the
 * writer free becomes leader, takes every queued batch, runs one transaction with a SAVEPOINT per
 * batch (a failing batch rolls back alone) and commits once. Callers that queued meanwhile elect
 * the next leader among themselves.
 *
 * Durability: no caller returns before its commit is on disk. The writer commits with
 * synchronous=NORMAL and then, after handing the writer role on, fdatasyncs the WAL through its
 * own descriptor; only then are that round's callers woken. This is synchronous=FULL's guarantee
 * without holding the write lock during the sync, so the next round is built while the disk
 * flushes (one sync can cover several rounds). Checkpoints run on a background connection
 * (PASSIVE); the writer forces a RESTART checkpoint only when the WAL passes a hard limit.
 *
 * Why the write path looks like this: SQLite spends 2-5 us per row inserted into a B-tree under a
 * random key, and each commit rewrites every index page it touched. Nine relation rows per
 * statement (agents, activities, verb, registration) capped ingest near 16k statements/s on the
 * target box. So a commit writes only the statement row (appended: seq is the rowid). Filter keys
 * of the newest statements live in memory (the tail: per key, a sorted list of seqs; per id, its
 * seq). A round puts its ids in the tail at once (dedupe) and its postings right after COMMIT,
 * before its callers return; readers trust the tail up to tail.upto only. Every DEFAULT_SEGMENT
 * statements the tail becomes one segment of `postings` rows (one per key, appended in key order)
 * and `statement_ids` rows, written a slice per round inside the rounds' own transactions and
 * made visible by the segment's row. After a crash the tail is rebuilt from the statement rows
 * (their `keys` column). Seqs are assigned by the store and never reused, even after a rollback,
 * so a posting in memory belongs to a committed statement or to none.
 *
 * One handle per store file ingests statements: the first insert takes an advisory lock
 * (PATH-mgwriter) and makes the tail authoritative. Other handles (other processes: CLI tools)
 * read by catching their tail up from the rows before each read. They may miss StatementRef keys
 * added to an old, unflushed statement after they ingested it; the writing handle never does.
 *
 * Reads: a query picks its most selective equality filter as driver (posting lists: memory, then
 * segments), checks each candidate row against every filter using its `keys`, and stops at the
 * page size. since/until become a seq range through `stored_marks`; timestamp windows without
 * another filter scan only the marks whose timestamp span overlaps.
 *
 * Tuning: MG_STORE_SQLITE_SEGMENT (environment, read at open) sets the statements per segment. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/log.h"
#include "core/time.h"
#include "store/migrations.h"
#include "store/store_int.h"

#define MAX_IDLE_READERS 16
#define BUSY_TIMEOUT_MS 10000
#define DEFAULT_SEGMENT 262144
#define STORE_LAYOUT 2 /* store_meta 'layout' written by 001_statements.sql */
#define ICACHE_MAX (1u << 20) /* entries per intern cache before it is emptied */
#define BLOB_MAX (256u << 20)
#define CKPT_FRAMES 2048       /* WAL frames (32 MiB) that wake the background checkpointer */
#define CKPT_HARD_FRAMES 8192  /* WAL frames (128 MiB) past which the checkpointer restarts it */

enum { K_AGENT = 1, K_ACTIVITY = 2, K_VERB = 3, K_REGISTRATION = 4, K_PLATFORM = 5 };
#define KEY(id, kind) (((int64_t)(id) << 3) | (kind))
#define KEY_KIND(k) ((int)((k) & 7))

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
  Q_REG_SEL,
  Q_REG_INS,
  Q_STMT_INS,
  Q_STMT_HASH,
  Q_STMT_TARGET,
  Q_REFERRERS,
  Q_SET_VOIDED,
  Q_SET_KEYS,
  Q_ID_SEQ,
  Q_ID_INS,
  Q_ID_ALL,
  Q_MAX_SEQ,
  Q_SEG_MAX,
  Q_SEG_OF,
  Q_SEG_INS,
  Q_SEG_LIST_A,
  Q_SEG_LIST_D,
  Q_SEG_ZONES,
  Q_SEG_COUNT,
  Q_POST_GET,
  Q_POST_PUT,
  Q_POST_ORPHANS,
  Q_TAIL_ROWS,
  Q_MARK_LAST,
  Q_MARK_INS,
  Q_MARK_ZONES,
  Q_MARK_SPAN,
  Q_META_GET,
  Q_META_SET,
  Q_REFS_ANY,
  Q_ATT_INS,
  Q_STMT_GET,
  Q_MARK_SINCE,
  Q_MARK_UNTIL_A,
  Q_MARK_UNTIL_B,
  Q_ROW,
  Q_SCAN_A,
  Q_SCAN_D,
  Q_ATT_GET,
  Q_CRED_INS,
  Q_CRED_GET,
  Q_CRED_SET,
  Q_CRED_LIST,
  Q_SET_GET,
  Q_SET_SET,
  Q_COUNT_
};

#define ROW_COLS "voided, stored_us, timestamp_us, platform_id, keys, json"

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
    [Q_REG_SEL] = "SELECT id FROM registrations WHERE uuid = ?1",
    [Q_REG_INS] = "INSERT INTO registrations (uuid) VALUES (?1)",
    [Q_STMT_INS] = "INSERT INTO statements (seq, id, stored_us, timestamp_us, actor_id, verb_id, "
                   "object_activity_id, object_agent_id, registration, object_ref, is_voiding, "
                   "platform_id, cmp_hash, keys, json) "
                   "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
    [Q_STMT_HASH] = "SELECT cmp_hash FROM statements WHERE seq = ?1",
    [Q_STMT_TARGET] = "SELECT is_voiding, keys FROM statements WHERE seq = ?1",
    [Q_REFERRERS] = "SELECT seq, id, is_voiding, keys FROM statements WHERE object_ref = ?1",
    [Q_SET_VOIDED] = "UPDATE statements SET voided = 1 WHERE seq = ?1 AND is_voiding = 0",
    [Q_SET_KEYS] = "UPDATE statements SET keys = ?2 WHERE seq = ?1",
    [Q_ID_SEQ] = "SELECT seq FROM statement_ids WHERE id = ?1",
    [Q_ID_INS] = "INSERT INTO statement_ids (id, seq) VALUES (?1, ?2) "
                 "ON CONFLICT (id) DO NOTHING",
    [Q_ID_ALL] = "SELECT id FROM statement_ids",
    [Q_MAX_SEQ] = "SELECT max(seq) FROM statements",
    [Q_SEG_MAX] = "SELECT max(hi_seq) FROM segments",
    [Q_SEG_OF] = "SELECT hi_seq, lo_seq FROM segments WHERE hi_seq >= ?1 ORDER BY hi_seq LIMIT 1",
    [Q_SEG_INS] = "INSERT INTO segments (hi_seq, lo_seq, statements, min_ts_us, max_ts_us) "
                  "VALUES (?1, ?2, ?3, ?4, ?5)",
    [Q_SEG_LIST_A] = "SELECT hi_seq, lo_seq FROM segments WHERE hi_seq >= ?1 AND lo_seq <= ?2 "
                     "ORDER BY hi_seq",
    [Q_SEG_LIST_D] = "SELECT hi_seq, lo_seq FROM segments WHERE hi_seq >= ?1 AND lo_seq <= ?2 "
                     "ORDER BY hi_seq DESC",
    [Q_SEG_COUNT] = "SELECT count(*), max(hi_seq) FROM segments "
                    "WHERE hi_seq >= ?1 AND lo_seq <= ?2",
    [Q_POST_GET] = "SELECT n, seqs FROM postings WHERE segment = ?1 AND key = ?2",
    [Q_POST_PUT] = "INSERT INTO postings (segment, key, n, seqs) VALUES (?1, ?2, ?3, ?4) "
                   "ON CONFLICT (segment, key) DO UPDATE SET n = excluded.n, seqs = excluded.seqs",
    [Q_POST_ORPHANS] = "DELETE FROM postings WHERE segment > ?1",
    [Q_TAIL_ROWS] = "SELECT seq, id, keys FROM statements WHERE seq > ?1 AND seq <= ?2 "
                    "ORDER BY seq",
    [Q_SEG_ZONES] = "SELECT hi_seq, lo_seq FROM segments WHERE hi_seq >= ?1 AND lo_seq <= ?2 "
                    "AND max_ts_us >= ?3 AND min_ts_us <= ?4 ORDER BY hi_seq",
    [Q_MARK_LAST] = "SELECT pmax_us, seq, total FROM stored_marks ORDER BY seq DESC LIMIT 1",
    [Q_MARK_INS] = "INSERT INTO stored_marks (pmax_us, seq, floor_us, total, min_ts_us, max_ts_us) "
                   "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [Q_MARK_ZONES] = "SELECT seq, min_ts_us, max_ts_us FROM stored_marks WHERE seq >= ?1 "
                     "ORDER BY seq",
    [Q_MARK_SPAN] = "SELECT min(min_ts_us), max(max_ts_us) FROM stored_marks "
                    "WHERE seq BETWEEN ?1 AND ?2",
    [Q_META_GET] = "SELECT value FROM store_meta WHERE name = ?1",
    [Q_META_SET] = "INSERT INTO store_meta (name, value) VALUES (?1, ?2) "
                   "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
    [Q_REFS_ANY] = "SELECT 1 FROM statements INDEXED BY statements_object_ref "
                   "WHERE object_ref IS NOT NULL LIMIT 1",
    [Q_ATT_INS] = "INSERT INTO attachments (sha2, content_type, data) VALUES (?1, ?2, ?3) "
                  "ON CONFLICT (sha2) DO NOTHING",
    [Q_STMT_GET] = "SELECT stored_us, voided, is_voiding, json FROM statements WHERE seq = ?1",
    [Q_MARK_SINCE] = "SELECT seq FROM stored_marks WHERE pmax_us <= ?1 "
                     "ORDER BY pmax_us DESC, seq DESC LIMIT 1",
    [Q_MARK_UNTIL_A] = "SELECT pmax_us, seq FROM stored_marks WHERE pmax_us > ?1 "
                       "ORDER BY pmax_us, seq LIMIT 1",
    [Q_MARK_UNTIL_B] = "SELECT seq FROM stored_marks WHERE seq <= ?1 AND floor_us <= ?2 "
                       "ORDER BY seq DESC LIMIT 1",
    [Q_ROW] = "SELECT seq, " ROW_COLS " FROM statements WHERE seq = ?1",
    [Q_SCAN_A] = "SELECT seq, " ROW_COLS " FROM statements WHERE seq BETWEEN ?1 AND ?2 "
                 "ORDER BY seq",
    [Q_SCAN_D] = "SELECT seq, " ROW_COLS " FROM statements WHERE seq BETWEEN ?1 AND ?2 "
                 "ORDER BY seq DESC",
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

/* Runs a one-row, one-integer query; *out = 0 when it returns no row or NULL. */
static int query_int(conn *c, int q, int64_t a1, int64_t *out) {
  sqlite3_stmt *st = use(c, q);
  if (!st) return MG_ESTORE;
  if (sqlite3_bind_parameter_count(st) >= 1) sqlite3_bind_int64(st, 1, a1);
  int rc = sqlite3_step(st);
  *out = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
  sqlite3_reset(st);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return db_fail(c->db, rc, SQL[q]);
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

static int exec_sql(sqlite3 *db, const char *sql) {
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

enum { CONN_READER, CONN_WRITER, CONN_CHECKPOINTER };

/* Waiting for a lock another connection of this process holds for a moment (a findings commit,
 * a checkpoint step): SQLite's own busy handler sleeps 1, 2, 5, 10, 15, 20, 25 ms... between
 * tries, so a writer blocked for 1 ms often sleeps 10-25 ms and every client waits with it
 * (measured: batches of 1000 with the live detector on, p99 1.1-2.8 s). Here: 100 us steps growing
 * to 1 ms, until the timeout (ms, in ud). */
static int busy_wait(void *ud, int n) {
  int64_t limit_us = (int64_t)(intptr_t)ud * 1000;
  int64_t slept = n < 10 ? 50LL * n * (n + 1) : 5500LL + (int64_t)(n - 10) * 1000;
  if (slept >= limit_us) return 0;
  int64_t step = n < 10 ? 100LL * (n + 1) : 1000;
  struct timespec ts = {0, (long)(step * 1000)};
  nanosleep(&ts, NULL);
  return 1;
}

static void set_busy(sqlite3 *db, int ms) { sqlite3_busy_handler(db, busy_wait, (void *)(intptr_t)ms); }

/* Opens a connection. The writer creates the file and switches it to WAL. */
static int conn_open(const char *path, int kind, conn **out) {
  *out = NULL;
  conn *c = calloc(1, sizeof *c);
  if (!c) return MG_ENOMEM;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX |
              (kind == CONN_WRITER ? SQLITE_OPEN_CREATE : 0);
  int rc = sqlite3_open_v2(path, &c->db, flags, NULL);
  int err = MG_OK;
  if (rc != SQLITE_OK) {
    err = db_fail(c->db, rc, "open");
    goto out;
  }
  sqlite3_extended_result_codes(c->db, 1);
  set_busy(c->db, BUSY_TIMEOUT_MS);
  if (kind == CONN_WRITER) {
    /* 16 KiB pages: statements (~1-2 KB) append densely and a commit writes fewer WAL frames
     * (measured: about a quarter less writer CPU per statement than 4 KiB). Takes effect only
     * when the file is created. */
    if ((err = exec_sql(c->db, "PRAGMA page_size = 16384"))) goto out;
    sqlite3_stmt *st = NULL;
    rc = sqlite3_prepare_v2(c->db, "PRAGMA journal_mode = WAL", -1, &st, NULL);
    if (rc == SQLITE_OK) rc = sqlite3_step(st);
    int wal = rc == SQLITE_ROW && sqlite3_column_text(st, 0) &&
              strcmp((const char *)sqlite3_column_text(st, 0), "wal") == 0;
    sqlite3_finalize(st);
    if (!wal) {
      err = rc == SQLITE_ROW ? MG_ESTORE : db_fail(c->db, rc, "journal_mode");
      if (rc == SQLITE_ROW)
        mg_log(MG_LOG_ERROR, "store.sqlite.error", "op", "journal_mode", "msg", "WAL refused",
               NULL);
      goto out;
    }
    if ((err = exec_sql(c->db, "PRAGMA cache_size = -262144"))) goto out; /* 256 MiB */
    if ((err = exec_sql(c->db, "PRAGMA journal_size_limit = 134217728"))) goto out;
    /* The store syncs the WAL itself before acknowledging (see the top of this file). */
    if ((err = exec_sql(c->db, "PRAGMA synchronous = NORMAL"))) goto out;
  } else if (kind == CONN_READER) {
    if ((err = exec_sql(c->db, "PRAGMA cache_size = -65536"))) goto out; /* 64 MiB */
    if ((err = exec_sql(c->db, "PRAGMA query_only = 1"))) goto out;
  } else {
    /* A checkpoint syncs the WAL before and the database after copying, at NORMAL or FULL. */
    if ((err = exec_sql(c->db, "PRAGMA synchronous = FULL"))) goto out;
  }
  if ((err = exec_sql(c->db, "PRAGMA foreign_keys = ON"))) goto out;
  if ((err = exec_sql(c->db, "PRAGMA temp_store = MEMORY"))) goto out;
  if ((err = exec_sql(c->db, "PRAGMA mmap_size = 17179869184"))) goto out;
out:
  if (err) {
    conn_close(c);
    return err;
  }
  *out = c;
  return MG_OK;
}

/* ---- small helpers ---------------------------------------------------------------------- */

/* Makes room for `need` elements of size elem in *p. */
static int grow(void **p, size_t *cap, size_t need, size_t elem) {
  if (need <= *cap) return MG_OK;
  size_t ncap = *cap ? *cap : 16;
  while (ncap < need) {
    if (ncap > SIZE_MAX / 4 / elem) return MG_ENOMEM;
    ncap *= 2;
  }
  void *q = realloc(*p, ncap * elem);
  if (!q) return MG_ENOMEM;
  *p = q;
  *cap = ncap;
  return MG_OK;
}

typedef struct u64vec {
  uint64_t *v;
  size_t n, cap;
} u64vec;

static int u64_push(u64vec *a, uint64_t x) {
  if (grow((void **)&a->v, &a->cap, a->n + 1, sizeof *a->v)) return MG_ENOMEM;
  a->v[a->n++] = x;
  return MG_OK;
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static int64_t sat_add(int64_t a, int64_t b) {
  if (b > 0 && a > INT64_MAX - b) return INT64_MAX;
  if (b < 0 && a < INT64_MIN - b) return INT64_MIN;
  return a + b;
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

/* A sorted list of values: keys (key << 1 | direct) or postings (seq << 1 | direct). Blobs store
 * it as a count then the first value and the differences, all unsigned varints. */
static int list_encode(const uint64_t *v, size_t n, mg_buf *b) {
  int rc = put_varint(b, n);
  uint64_t prev = 0;
  for (size_t i = 0; !rc && i < n; i++) {
    rc = put_varint(b, v[i] - prev);
    prev = v[i];
  }
  return rc;
}

static int list_decode(const void *blob, size_t len, u64vec *out) {
  const uint8_t *p = blob, *end = p + len;
  uint64_t n, d, prev = 0;
  out->n = 0;
  if (!len) return MG_ECORRUPT;
  int rc = get_varint(&p, end, &n);
  if (rc) return rc;
  if (n > len) return MG_ECORRUPT; /* at least one byte each */
  if (grow((void **)&out->v, &out->cap, (size_t)n, sizeof *out->v)) return MG_ENOMEM;
  for (uint64_t i = 0; i < n; i++) {
    if ((rc = get_varint(&p, end, &d))) return rc;
    prev += d;
    out->v[out->n++] = prev;
  }
  return p == end ? MG_OK : MG_ECORRUPT;
}

/* Sorts key values and merges duplicates of a key, keeping direct if any copy is direct. */
static void keys_normalize(u64vec *k) {
  if (k->n < 2) return;
  qsort(k->v, k->n, sizeof *k->v, cmp_u64);
  size_t o = 0;
  for (size_t i = 1; i < k->n; i++) {
    if ((k->v[i] >> 1) == (k->v[o] >> 1))
      k->v[o] |= k->v[i] & 1;
    else
      k->v[++o] = k->v[i];
  }
  k->n = o + 1;
}

/* dst |= src (normalized key lists), skipping platform keys, which are not inherited through
 * StatementRefs (the platform filter applies to the statement itself). *changed tells whether
 * dst grew or gained a direct flag. */
static int keys_union(u64vec *dst, const u64vec *src, int *changed) {
  size_t n0 = dst->n, d0 = 0;
  for (size_t i = 0; i < dst->n; i++) d0 += dst->v[i] & 1;
  for (size_t i = 0; i < src->n; i++) {
    if (KEY_KIND((int64_t)(src->v[i] >> 1)) == K_PLATFORM) continue;
    if (u64_push(dst, src->v[i])) return MG_ENOMEM;
  }
  keys_normalize(dst);
  size_t d1 = 0;
  for (size_t i = 0; i < dst->n; i++) d1 += dst->v[i] & 1;
  if (changed) *changed = dst->n != n0 || d1 != d0;
  return MG_OK;
}

/* Whether key (with direct if need_direct) is in a normalized key list. */
static int keys_has(const u64vec *k, int64_t key, int need_direct) {
  size_t a = 0, b = k->n;
  while (a < b) {
    size_t m = a + (b - a) / 2;
    if ((int64_t)(k->v[m] >> 1) < key)
      a = m + 1;
    else
      b = m;
  }
  return a < k->n && (int64_t)(k->v[a] >> 1) == key && (!need_direct || (k->v[a] & 1));
}

/* ---- intern caches ----------------------------------------------------------------------- */

/* The shared caches hold committed ids only: callers read them under a read lock to resolve their
 * batch in parallel with the writer; the leader adds what its round interned after COMMIT. */

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

static uint64_t fnv1a(const void *p, size_t n) {
  const unsigned char *s = p;
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; i++) {
    h ^= s[i];
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

static int64_t icache_get(const icache *c, const void *k, size_t len, uint64_t h) {
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
static void icache_put(icache *c, const void *k, size_t len, uint64_t h, int64_t id) {
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

/* ---- a scalable Bloom filter over the ids of flushed statements ---------------------------- */

/* Lets the writer (and readers of the same handle) skip the statement_ids probe for ids never
 * stored, which is nearly every new statement. A chain of filters, each twice the capacity of the
 * previous, so it grows without rebuilding; 16 bits and 6 probes per id (~0.05% false hits). */
typedef struct bloom1 {
  uint64_t *bits;
  uint64_t mask; /* bit count - 1 */
  size_t n, cap;
} bloom1;

typedef struct bloom {
  bloom1 *f;
  size_t nf;
  int valid; /* built: holds every flushed id */
} bloom;

static void bloom_hashes(const uint8_t id[16], uint64_t *h1, uint64_t *h2) {
  uint64_t a, b;
  memcpy(&a, id, 8);
  memcpy(&b, id + 8, 8);
  *h1 = mix64(a ^ mix64(b));
  *h2 = mix64(b + 0x9e3779b97f4a7c15ull) | 1;
}

static int bloom_add(bloom *bf, const uint8_t id[16]) {
  if (!bf->nf || bf->f[bf->nf - 1].n >= bf->f[bf->nf - 1].cap) {
    size_t cap = bf->nf ? bf->f[bf->nf - 1].cap * 2 : 65536;
    bloom1 *nfv = realloc(bf->f, (bf->nf + 1) * sizeof *nfv);
    if (!nfv) return MG_ENOMEM;
    bf->f = nfv;
    uint64_t *bits = calloc(cap * 16 / 64, sizeof *bits);
    if (!bits) return MG_ENOMEM;
    bf->f[bf->nf++] = (bloom1){bits, (uint64_t)cap * 16 - 1, 0, cap};
  }
  bloom1 *f = &bf->f[bf->nf - 1];
  uint64_t h1, h2;
  bloom_hashes(id, &h1, &h2);
  for (int i = 0; i < 6; i++) {
    uint64_t b = (h1 + (uint64_t)i * h2) & f->mask;
    f->bits[b >> 6] |= 1ull << (b & 63);
  }
  f->n++;
  return MG_OK;
}

/* 0: id certainly not flushed; 1: maybe (or the filter is not built). */
static int bloom_maybe(const bloom *bf, const uint8_t id[16]) {
  if (!bf->valid) return 1;
  uint64_t h1, h2;
  bloom_hashes(id, &h1, &h2);
  for (size_t k = 0; k < bf->nf; k++) {
    const bloom1 *f = &bf->f[k];
    int all = 1;
    for (int i = 0; i < 6 && all; i++) {
      uint64_t b = (h1 + (uint64_t)i * h2) & f->mask;
      all = (f->bits[b >> 6] >> (b & 63)) & 1;
    }
    if (all) return 1;
  }
  return 0;
}

static void bloom_free(bloom *bf) {
  for (size_t k = 0; k < bf->nf; k++) free(bf->f[k].bits);
  free(bf->f);
  memset(bf, 0, sizeof *bf);
}

/* ---- the tail: postings and ids of statements not yet flushed ----------------------------- */

typedef struct plist {
  int64_t key; /* 0: empty slot (keys have a kind, never 0) */
  uint64_t *e; /* seq << 1 | direct, ascending seq */
  uint32_t n, cap;
} plist;

typedef struct idslot {
  uint8_t id[16];
  int64_t seq; /* 0: empty, -1: deleted */
} idslot;

typedef struct tail {
  pthread_mutex_t mu;     /* readers copy and writers change under it */
  plist *pl;
  size_t pcap, pn;
  idslot *ids;
  size_t icap, in, idel;
  int64_t flushed;        /* postings of seq <= flushed live in the database */
  int64_t upto;           /* every existing seq <= upto has its postings here or flushed */
  size_t count;           /* statements held */
  int authoritative;      /* this handle is the writer: no other handle adds statements */
  bloom flushed_ids;      /* built in the background once this handle writes */
  int bloom_building;     /* the builder runs: flushed ids wait in bloom_pend */
  uint8_t (*bloom_pend)[16];
  size_t nbloom_pend, cbloom_pend;
  pthread_cond_t applied_cv;
  uint64_t applied;       /* rounds whose postings are in (writer handle; see apply_round) */
  int rebuild;            /* out of memory lost postings: the next leader reloads the tail */
} tail;

static void tail_free_tables(tail *t) {
  for (size_t i = 0; i < t->pcap; i++) free(t->pl[i].e);
  free(t->pl);
  free(t->ids);
  t->pl = NULL;
  t->ids = NULL;
  t->pcap = t->pn = t->icap = t->in = t->idel = 0;
  t->count = 0;
}

static plist *plist_find(const tail *t, int64_t key) {
  if (!t->pcap) return NULL;
  for (size_t i = mix64((uint64_t)key) & (t->pcap - 1);; i = (i + 1) & (t->pcap - 1)) {
    if (t->pl[i].key == key) return &t->pl[i];
    if (!t->pl[i].key) return NULL;
  }
}

static plist *plist_slot(plist *tab, size_t cap, int64_t key) {
  size_t i = mix64((uint64_t)key) & (cap - 1);
  while (tab[i].key && tab[i].key != key) i = (i + 1) & (cap - 1);
  return &tab[i];
}

static plist *plist_get(tail *t, int64_t key) {
  plist *p = plist_find(t, key);
  if (p) return p;
  if ((t->pn + 1) * 4 > t->pcap * 3) {
    size_t ncap = t->pcap ? t->pcap * 2 : 4096;
    plist *tab = calloc(ncap, sizeof *tab);
    if (!tab) return NULL;
    for (size_t i = 0; i < t->pcap; i++)
      if (t->pl[i].key) *plist_slot(tab, ncap, t->pl[i].key) = t->pl[i];
    free(t->pl);
    t->pl = tab;
    t->pcap = ncap;
  }
  p = plist_slot(t->pl, t->pcap, key);
  p->key = key;
  t->pn++;
  return p;
}

/* Index of the first entry with seq >= seq. */
static size_t plist_lower(const plist *p, int64_t seq) {
  size_t a = 0, b = p->n;
  while (a < b) {
    size_t m = a + (b - a) / 2;
    if ((int64_t)(p->e[m] >> 1) < seq)
      a = m + 1;
    else
      b = m;
  }
  return a;
}

/* Adds (or upgrades to direct) seq in key's list. *old gets the entry it replaced, 0 if new. */
static int tail_add(tail *t, int64_t key, int64_t seq, int direct, uint64_t *old) {
  plist *p = plist_get(t, key);
  if (!p) return MG_ENOMEM;
  uint64_t e = ((uint64_t)seq << 1) | (direct != 0);
  size_t at = p->n && (int64_t)(p->e[p->n - 1] >> 1) < seq ? p->n : plist_lower(p, seq);
  *old = 0;
  if (at < p->n && (int64_t)(p->e[at] >> 1) == seq) {
    *old = p->e[at];
    p->e[at] |= e & 1;
    return MG_OK;
  }
  if (p->n == p->cap) {
    uint32_t ncap = p->cap ? p->cap * 2 : 4;
    if (ncap < p->cap) return MG_ENOMEM;
    uint64_t *ne = realloc(p->e, (size_t)ncap * sizeof *ne);
    if (!ne) return MG_ENOMEM;
    p->e = ne;
    p->cap = ncap;
  }
  memmove(p->e + at + 1, p->e + at, (p->n - at) * sizeof *p->e);
  p->e[at] = e;
  p->n++;
  return MG_OK;
}

static idslot *id_slot(const tail *t, const uint8_t id[16], int for_insert) {
  if (!t->icap) return NULL;
  idslot *del = NULL;
  for (size_t i = fnv1a(id, 16) & (t->icap - 1);; i = (i + 1) & (t->icap - 1)) {
    idslot *s = &t->ids[i];
    if (s->seq == 0) return for_insert && del ? del : s;
    if (s->seq < 0) {
      if (!del) del = s;
    } else if (memcmp(s->id, id, 16) == 0) {
      return s;
    }
  }
}

static int64_t tail_id_get(const tail *t, const uint8_t id[16]) {
  const idslot *s = id_slot(t, id, 0);
  return s && s->seq > 0 ? s->seq : 0;
}

static int tail_id_put(tail *t, const uint8_t id[16], int64_t seq) {
  if ((t->in + t->idel + 1) * 4 > t->icap * 3) {
    size_t ncap = t->icap ? t->icap * 2 : 4096;
    if (t->idel > t->in) ncap = t->icap; /* mostly deletions: rehash in place */
    idslot *tab = calloc(ncap, sizeof *tab);
    if (!tab) return MG_ENOMEM;
    for (size_t i = 0; i < t->icap; i++) {
      if (t->ids[i].seq <= 0) continue;
      size_t j = fnv1a(t->ids[i].id, 16) & (ncap - 1);
      while (tab[j].seq) j = (j + 1) & (ncap - 1);
      tab[j] = t->ids[i];
    }
    free(t->ids);
    t->ids = tab;
    t->icap = ncap;
    t->idel = 0;
  }
  idslot *s = id_slot(t, id, 1);
  if (s->seq > 0) {
    s->seq = seq;
    return MG_OK;
  }
  if (s->seq < 0) t->idel--;
  memcpy(s->id, id, 16);
  s->seq = seq;
  t->in++;
  return MG_OK;
}

static void tail_id_del(tail *t, const uint8_t id[16]) {
  idslot *s = id_slot(t, id, 0);
  if (!s || s->seq <= 0) return;
  s->seq = -1;
  t->in--;
  t->idel++;
}

/* Adds a committed statement's keys and id (rebuild and catch-up: idempotent). */
static int tail_ingest(tail *t, int64_t seq, const uint8_t id[16], const u64vec *keys) {
  uint64_t old;
  for (size_t i = 0; i < keys->n; i++) {
    int rc = tail_add(t, (int64_t)(keys->v[i] >> 1), seq, (int)(keys->v[i] & 1), &old);
    if (rc) return rc;
  }
  if (!tail_id_get(t, id)) t->count++;
  return tail_id_put(t, id, seq);
}

/* Drops everything with seq <= upto (flushed to the database). */
static int tail_prune(tail *t, int64_t upto) {
  size_t ncap = 4096;
  while (ncap < t->pn * 2) ncap *= 2;
  plist *tab = calloc(ncap, sizeof *tab);
  if (!tab) return MG_ENOMEM;
  size_t pn = 0;
  for (size_t i = 0; i < t->pcap; i++) {
    plist *p = &t->pl[i];
    if (!p->key) continue;
    size_t cut = plist_lower(p, upto + 1);
    if (cut == p->n) {
      free(p->e);
      continue;
    }
    memmove(p->e, p->e + cut, (p->n - cut) * sizeof *p->e);
    p->n -= (uint32_t)cut;
    *plist_slot(tab, ncap, p->key) = *p;
    pn++;
  }
  free(t->pl);
  t->pl = tab;
  t->pcap = ncap;
  t->pn = pn;
  size_t kept = 0;
  for (size_t i = 0; i < t->icap; i++) {
    if (t->ids[i].seq > 0 && t->ids[i].seq <= upto) {
      t->ids[i].seq = -1;
      t->in--;
      t->idel++;
    } else if (t->ids[i].seq > 0) {
      kept++;
    }
  }
  t->count = kept;
  return MG_OK;
}

/* Copies key's entries (all seqs) into out. */
static int tail_copy(const tail *t, int64_t key, u64vec *out) {
  out->n = 0;
  const plist *p = plist_find(t, key);
  if (!p || !p->n) return MG_OK;
  if (grow((void **)&out->v, &out->cap, p->n, sizeof *out->v)) return MG_ENOMEM;
  memcpy(out->v, p->e, p->n * sizeof *p->e);
  out->n = p->n;
  return MG_OK;
}

/* ---- backend state ------------------------------------------------------------------------ */

/* A statement's interned ids and own filter keys. Its caller works them out from the shared
 * caches, in parallel with the writer; the leader finishes those with strings not cached yet. */
typedef struct prep {
  int64_t actor, verb, oact, oagent, reg;
  uint64_t *keys; /* own keys (key << 1 | direct), normalized; room for all, in the batch's arena */
  uint32_t nkeys;
  int complete;   /* every id was found */
} prep;

enum { J_QUEUED, J_TAKEN, J_DONE };

/* One caller's batch waiting for (or being served by) a group commit. */
typedef struct job {
  mg_store_stmt *stmts;
  prep *pre; /* one per statement */
  size_t n;
  mg_store_put_result *results;
  size_t bad;
  int rc;
  int state; /* J_QUEUED until a leader takes it, J_DONE once committed and synced (or failed) */
  struct job *next;
} job;

/* A posting made by a round, applied to the tail once the round has committed. */
typedef struct posting {
  int64_t key;
  uint64_t e; /* seq << 1 | direct */
} posting;

/* A committed round's postings, handed from the leader to the round's own thread. */
typedef struct roundpost {
  posting *p;
  size_t n;
  int64_t max_seq;
  uint64_t ticket; /* rounds apply in commit order */
} roundpost;

/* Facts carried through a write transaction; copied at each savepoint so a failed batch rolls
 * them back with its rows. */
typedef struct rstate {
  int64_t pmax;     /* highest stored so far */
  int64_t total;    /* statements stored so far */
  int64_t floor;    /* lowest stored of this transaction */
  int64_t min_ts, max_ts;
  int64_t last_seq; /* last seq stored in this transaction (0: none) */
  int refs_any;     /* some statement has an object_ref */
} rstate;

/* A segment being flushed a slice per round (leader only). */
typedef struct flushjob {
  int active, sealed;
  int64_t lo, hi;
  int64_t *keys; /* sorted; keys[kpos..] still to write */
  size_t nkeys, kpos;
  idslot *ids;   /* sorted by id; ids[ipos..] still to write */
  size_t nids, ipos;
  int64_t *dirty; /* keys given a posting in lo..hi after the key list was fixed */
  size_t ndirty, cdirty;
} flushjob;

/* Scratch of the writer, reused across rounds (leader only). */
typedef struct wctx {
  icache pending[4]; /* ids interned by this round, published to the shared caches at COMMIT */
  posting *pend;     /* this round's postings */
  size_t npend, cpend;
  uint8_t (*undo)[16]; /* ids this round put in the tail's id map, removed if it rolls back */
  size_t nundo, cundo;
  u64vec own, tgt, tmp;
  mg_buf blob;
} wctx;

typedef struct sq {
  char *path;
  conn *w;
  pthread_mutex_t mu; /* queue, leader flag */
  pthread_cond_t cv;
  job *head, *tail_job;
  int leader;         /* the writer connection is in use */
  int lock_fd;        /* advisory writer lock, -1 until the first insert */
  int64_t next_seq;   /* leader only */
  uint64_t tickets;   /* committed rounds numbered (leader only) */
  size_t segment;     /* statements per flushed segment */
  pthread_rwlock_t cache_lock; /* shared caches: read by callers, written by the leader */
  icache cache[4];              /* by kind - 1: agents, activities, verbs, registrations */
  wctx wx;
  flushjob fl;
  tail t;
  pthread_mutex_t pool_mu;
  conn *idle;
  int n_idle;
  /* durability: commits are counted, and synced outside the writer role */
  char *wal_path;
  pthread_mutex_t sync_mu;
  pthread_cond_t sync_cv;
  uint64_t committed, synced;
  uint64_t covering; /* commits the running sync covers (> synced while one runs) */
  int wal_fd;
  /* background Bloom filter builder */
  pthread_t bloom_thread;
  int bloom_started;
  atomic_int bloom_stop;
  /* background checkpointer */
  pthread_t ckpt;
  int ckpt_started, ckpt_stop, ckpt_wanted;
  pthread_mutex_t ckpt_mu;
  pthread_cond_t ckpt_cv;
  /* governance connection (registry, auth, audit, findings, cases): see store_int.h */
  pthread_mutex_t gov_mu; /* recursive */
  sqlite3 *gov;
  int gov_tx;             /* a transaction is open (owned by the thread holding gov_mu) */
} sq;

/* ---- governance connection -------------------------------------------------------------- */

static int on_wal_commit(void *arg, sqlite3 *db, const char *name, int frames);

/* Opened on first use. FULL sync: governance changes are rare and each must be durable when the
 * call returns; statements keep their own writer and group commit. */
static int gov_open(sq *s) {
  if (s->gov) return MG_OK;
  sqlite3 *db = NULL;
  int rc = sqlite3_open_v2(s->path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
  int err = MG_OK;
  if (rc != SQLITE_OK) {
    err = db_fail(db, rc, "gov open");
    sqlite3_close(db);
    return err;
  }
  sqlite3_extended_result_codes(db, 1);
  set_busy(db, BUSY_TIMEOUT_MS);
  /* its commits wake the background checkpointer instead of checkpointing inline (SQLite's
   * default after 1,000 WAL pages: a findings commit would copy the statements' WAL itself) */
  if (s->ckpt_started) sqlite3_wal_hook(db, on_wal_commit, s);
  if ((err = exec_sql(db, "PRAGMA synchronous = FULL")) ||
      (err = exec_sql(db, "PRAGMA foreign_keys = ON"))) {
    sqlite3_close(db);
    return err;
  }
  s->gov = db;
  return MG_OK;
}

static sq *gov_backend(mg_store *st) {
  return st && st->ops == &mg_store_sqlite_ops ? (sq *)st->be : NULL;
}

int mg_store_sqlite_gov_acquire(mg_store *st, sqlite3 **db) {
  sq *s = gov_backend(st);
  if (db) *db = NULL;
  if (!s || !db) return st ? MG_ENOTSUP : MG_EINVAL;
  pthread_mutex_lock(&s->gov_mu);
  int rc = gov_open(s);
  if (rc) {
    pthread_mutex_unlock(&s->gov_mu);
    return rc;
  }
  *db = s->gov;
  return MG_OK;
}

void mg_store_sqlite_gov_release(mg_store *st) {
  sq *s = gov_backend(st);
  if (s) pthread_mutex_unlock(&s->gov_mu);
}

int mg_store_sqlite_tx_begin(mg_store *st) {
  sqlite3 *db = NULL;
  int rc = mg_store_sqlite_gov_acquire(st, &db);
  if (rc) return rc;
  sq *s = gov_backend(st);
  if (s->gov_tx) {
    mg_store_sqlite_gov_release(st);
    return MG_EINVAL; /* no nesting: a caller bug */
  }
  rc = exec_sql(db, "BEGIN IMMEDIATE");
  if (rc) {
    mg_store_sqlite_gov_release(st);
    return rc;
  }
  s->gov_tx = 1;
  return MG_OK; /* gov_mu stays held until commit or rollback */
}

int mg_store_sqlite_tx_end(mg_store *st, int commit) {
  sq *s = gov_backend(st);
  if (!s) return MG_ENOTSUP;
  pthread_mutex_lock(&s->gov_mu);
  if (!s->gov_tx) {
    pthread_mutex_unlock(&s->gov_mu);
    return MG_EINVAL;
  }
  int rc = exec_sql(s->gov, commit ? "COMMIT" : "ROLLBACK");
  if (rc && commit) exec_sql(s->gov, "ROLLBACK");
  s->gov_tx = 0;
  pthread_mutex_unlock(&s->gov_mu); /* this call's lock */
  pthread_mutex_unlock(&s->gov_mu); /* the lock taken by begin */
  return rc;
}

/* ---- reader pool -------------------------------------------------------------------------- */

static conn *pool_get(sq *s) {
  pthread_mutex_lock(&s->pool_mu);
  conn *c = s->idle;
  if (c) {
    s->idle = c->next;
    s->n_idle--;
  }
  pthread_mutex_unlock(&s->pool_mu);
  if (!c && conn_open(s->path, CONN_READER, &c)) return NULL;
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

/* A pooled read-only connection for a governance area's long read (the audit walk): its schema
 * is already parsed and its page cache warm, which a fresh connection per walk re-did each time. */
int mg_store_sqlite_reader_acquire(mg_store *st, sqlite3 **db, void **handle) {
  sq *s = gov_backend(st);
  if (db) *db = NULL;
  if (handle) *handle = NULL;
  if (!s || !db || !handle) return st ? MG_ENOTSUP : MG_EINVAL;
  conn *c = pool_get(s);
  if (!c) return MG_ESTORE;
  *db = c->db;
  *handle = c;
  return MG_OK;
}

void mg_store_sqlite_reader_release(mg_store *st, void *handle) {
  sq *s = gov_backend(st);
  if (!handle) return;
  if (s) pool_put(s, handle);
}

/* ---- reading the tail back from the rows --------------------------------------------------- */

/* Adds committed rows with from < seq <= to to the tail (caller holds t->mu). */
static int tail_load_rows(sq *s, conn *c, int64_t from, int64_t to) {
  u64vec keys = {0};
  sqlite3_stmt *st = use(c, Q_TAIL_ROWS);
  if (!st) return MG_ESTORE;
  sqlite3_bind_int64(st, 1, from);
  sqlite3_bind_int64(st, 2, to);
  int rc, err = MG_OK;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    int64_t seq = sqlite3_column_int64(st, 0);
    if (sqlite3_column_bytes(st, 1) != 16) {
      err = MG_ECORRUPT;
      break;
    }
    uint8_t id[16];
    memcpy(id, sqlite3_column_blob(st, 1), 16);
    err = list_decode(sqlite3_column_blob(st, 2), (size_t)sqlite3_column_bytes(st, 2), &keys);
    if (!err) err = tail_ingest(&s->t, seq, id, &keys);
    if (err) break;
    if (seq > s->t.upto) s->t.upto = seq;
  }
  if (!err && rc != SQLITE_DONE) err = db_fail(c->db, rc, "tail rows");
  sqlite3_reset(st);
  free(keys.v);
  return err;
}

/* A handle that does not write statements brings its tail up to the database before reading:
 * drops what was flushed meanwhile, loads what was committed meanwhile. */
static int tail_catch_up(sq *s, conn *c) {
  int64_t flushed, maxseq;
  int rc = MG_OK;
  pthread_mutex_lock(&s->t.mu);
  if (s->t.authoritative) goto out;
  if ((rc = run(c, Q_BEGIN))) goto out;
  if ((rc = query_int(c, Q_SEG_MAX, 0, &flushed)) || (rc = query_int(c, Q_MAX_SEQ, 0, &maxseq)))
    goto end;
  if (flushed > s->t.flushed) {
    if ((rc = tail_prune(&s->t, flushed))) goto end;
    s->t.flushed = flushed;
  }
  if (s->t.upto < flushed) s->t.upto = flushed;
  if (maxseq > s->t.upto) {
    rc = tail_load_rows(s, c, s->t.upto, maxseq);
    if (!rc) s->t.upto = maxseq;
  }
end:
  conn_quiesce(c); /* ends the read transaction */
out:
  pthread_mutex_unlock(&s->t.mu);
  return rc;
}

/* ---- durability and checkpoints ----------------------------------------------------------- */

/* Counts a commit just made on the writer connection; returns its number. */
static uint64_t commit_made(sq *s) {
  pthread_mutex_lock(&s->sync_mu);
  uint64_t gen = ++s->committed;
  pthread_mutex_unlock(&s->sync_mu);
  return gen;
}

/* Opens our descriptor of the WAL (and syncs its directory once, so the file itself survives). */
static int open_wal(sq *s, int *fd) {
  *fd = open(s->wal_path, O_RDONLY | O_CLOEXEC);
  if (*fd < 0) {
    mg_log(MG_LOG_ERROR, "store.sqlite.error", "op", "open wal", "msg", strerror(errno), NULL);
    return MG_EIO;
  }
  char dir[4200];
  const char *slash = strrchr(s->wal_path, '/');
  int n = slash ? snprintf(dir, sizeof dir, "%.*s", (int)(slash - s->wal_path), s->wal_path)
                : snprintf(dir, sizeof dir, ".");
  if (n <= 0 || (size_t)n >= sizeof dir) return MG_OK; /* "/x": the root, or too long: skip */
  int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    fsync(dfd);
    close(dfd);
  }
  return MG_OK;
}

/* Returns once commit gen is on disk. One sync runs at a time and covers every commit made before
 * it started; a caller whose commit came later waits for it, then starts the next one (which
 * covers everyone waiting). Measured here: fewer and shorter syncs than letting them overlap. */
static int wait_durable(sq *s, uint64_t gen) {
  int rc = MG_OK;
  pthread_mutex_lock(&s->sync_mu);
  if (s->wal_fd < 0 && (rc = open_wal(s, &s->wal_fd))) s->wal_fd = -1;
  while (!rc && s->synced < gen) {
    if (s->covering > s->synced) { /* a sync is running */
      pthread_cond_wait(&s->sync_cv, &s->sync_mu);
      continue;
    }
    uint64_t target = s->committed;
    s->covering = target;
    int fd = s->wal_fd;
    pthread_mutex_unlock(&s->sync_mu);
    int failed = fdatasync(fd) != 0;
    int err = errno;
    pthread_mutex_lock(&s->sync_mu);
    if (failed) {
      mg_log(MG_LOG_ERROR, "store.sqlite.error", "op", "fdatasync wal", "msg", strerror(err), NULL);
      rc = MG_EIO;
      s->covering = s->synced; /* others must not count on it */
    } else if (target > s->synced) {
      s->synced = target;
    }
    pthread_cond_broadcast(&s->sync_cv);
  }
  pthread_mutex_unlock(&s->sync_mu);
  return rc;
}

/* After each commit on the writer connection: wake the checkpointer when the WAL is long. */
static int on_wal_commit(void *arg, sqlite3 *db, const char *name, int frames) {
  sq *s = arg;
  (void)db;
  (void)name;
  if (frames >= CKPT_FRAMES && s->ckpt_started) {
    pthread_mutex_lock(&s->ckpt_mu);
    s->ckpt_wanted = 1;
    pthread_cond_signal(&s->ckpt_cv);
    pthread_mutex_unlock(&s->ckpt_mu);
  }
  return SQLITE_OK;
}

/* Background checkpoints on a connection of their own: copying the WAL back into the database
 * (and syncing it) does not hold up the writer. A PASSIVE checkpoint runs beside the writer, but
 * the WAL only wraps to its start when a writer finds it fully copied, which a busy writer never
 * does; so past CKPT_HARD_FRAMES a RESTART follows the PASSIVE one: it holds new write
 * transactions back while it copies the little left, then the next commit starts the WAL over. */
static void *checkpointer(void *arg) {
  sq *s = arg;
  conn *c = NULL;
  if (conn_open(s->path, CONN_CHECKPOINTER, &c)) return NULL;
  /* RESTART holds new write transactions back while it waits for readers, so it waits little:
   * with 2 s, batches of 1000 stalled every client for 2-4 s each time the WAL reached the hard
   * limit. If a reader is still there it gives up and the next commit past the limit retries. */
  set_busy(c->db, 50);
  pthread_mutex_lock(&s->ckpt_mu);
  for (;;) {
    while (!s->ckpt_stop && !s->ckpt_wanted) pthread_cond_wait(&s->ckpt_cv, &s->ckpt_mu);
    if (s->ckpt_stop) break;
    s->ckpt_wanted = 0;
    pthread_mutex_unlock(&s->ckpt_mu);
    int log = 0, done = 0;
    int rc = sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
    if (rc == SQLITE_OK && log >= CKPT_HARD_FRAMES)
      rc = sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_RESTART, &log, &done);
    if (rc != SQLITE_OK && rc != SQLITE_BUSY) db_fail(c->db, rc, "checkpoint");
    pthread_mutex_lock(&s->ckpt_mu);
  }
  pthread_mutex_unlock(&s->ckpt_mu);
  conn_close(c);
  return NULL;
}

/* ---- the writer --------------------------------------------------------------------------- */

/* Builds the Bloom filter of flushed ids from statement_ids on a connection of its own, so the
 * first insert after opening a large store does not wait for it (until it is ready, the writer
 * looks every id up in the database). Ids flushed meanwhile are queued by flush_done. */
static void *bloom_builder(void *arg) {
  sq *s = arg;
  bloom bf = {0};
  conn *c = NULL;
  int rc = conn_open(s->path, CONN_READER, &c);
  sqlite3_stmt *st = rc ? NULL : use(c, Q_ID_ALL);
  if (!rc && !st) rc = MG_ESTORE;
  int r = SQLITE_DONE;
  for (size_t n = 0; !rc && (r = sqlite3_step(st)) == SQLITE_ROW; n++) {
    if (sqlite3_column_bytes(st, 0) == 16) rc = bloom_add(&bf, sqlite3_column_blob(st, 0));
    if (!(n & 65535) && atomic_load(&s->bloom_stop)) rc = MG_EBUSY;
  }
  if (!rc && r != SQLITE_DONE) rc = db_fail(c->db, r, "bloom build");
  conn_close(c);
  pthread_mutex_lock(&s->t.mu);
  for (size_t i = 0; !rc && i < s->t.nbloom_pend; i++) rc = bloom_add(&bf, s->t.bloom_pend[i]);
  if (!rc && s->t.bloom_building) { /* not cancelled by a flush that could not queue its ids */
    bloom_free(&s->t.flushed_ids);
    s->t.flushed_ids = bf;
    s->t.flushed_ids.valid = 1;
  } else {
    bloom_free(&bf);
  }
  free(s->t.bloom_pend);
  s->t.bloom_pend = NULL;
  s->t.nbloom_pend = s->t.cbloom_pend = 0;
  s->t.bloom_building = 0;
  pthread_mutex_unlock(&s->t.mu);
  return NULL;
}

/* Waits until every committed round's postings are in the tail (leader). */
static void wait_all_applied(sq *s) {
  pthread_mutex_lock(&s->t.mu);
  while (s->t.applied != s->tickets) pthread_cond_wait(&s->t.applied_cv, &s->t.mu);
  pthread_mutex_unlock(&s->t.mu);
}

/* Writer role, no round running: (re)builds the authoritative tail from the database: the rows
 * after the last flushed segment, and the Bloom filter of flushed ids. Also drops the postings of a
 * flush a crash interrupted (their segment row never committed). */
static int tail_rebuild(sq *s) {
  int64_t flushed, maxseq;
  wait_all_applied(s);
  free(s->fl.keys); /* a flush in progress starts over */
  free(s->fl.ids);
  s->fl.keys = NULL;
  s->fl.ids = NULL;
  s->fl.active = s->fl.sealed = 0;
  int rc = run(s->w, Q_BEGIN_IMM);
  if (rc) return rc;
  if ((rc = query_int(s->w, Q_SEG_MAX, 0, &flushed)) ||
      (rc = query_int(s->w, Q_MAX_SEQ, 0, &maxseq)))
    goto out;
  sqlite3_stmt *del = use(s->w, Q_POST_ORPHANS);
  if (!del) {
    rc = MG_ESTORE;
    goto out;
  }
  sqlite3_bind_int64(del, 1, flushed);
  int r = sqlite3_step(del);
  sqlite3_reset(del);
  if (r != SQLITE_DONE) {
    rc = db_fail(s->w->db, r, "orphan postings");
    goto out;
  }
  pthread_mutex_lock(&s->t.mu);
  tail_free_tables(&s->t);
  s->t.flushed = s->t.upto = flushed;
  rc = tail_load_rows(s, s->w, flushed, maxseq);
  if (!rc) {
    s->t.upto = maxseq > flushed ? maxseq : flushed;
    s->t.authoritative = 1;
    s->t.rebuild = 0;
  }
  pthread_mutex_unlock(&s->t.mu);
  if (!rc) rc = run(s->w, Q_COMMIT);
  if (!rc && maxseq >= s->next_seq) s->next_seq = maxseq + 1;
out:
  conn_quiesce(s->w); /* rolls back unless committed */
  return rc;
}

/* First insert of this handle: take the advisory writer lock and rebuild the tail from the rows
 * (the authoritative copy from now on). Leader only. */
static int become_writer(sq *s) {
  char lock_path[4200];
  int n = snprintf(lock_path, sizeof lock_path, "%s-mgwriter", s->path);
  if (n < 0 || (size_t)n >= sizeof lock_path) return MG_EINVAL;
  int fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    mg_log(MG_LOG_ERROR, "store.sqlite.error", "op", "writer lock", "msg", strerror(errno), NULL);
    return MG_EIO;
  }
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int busy = errno == EWOULDBLOCK;
    mg_log(MG_LOG_ERROR, "store.sqlite.error", "op", "writer lock", "msg",
           busy ? "another handle writes statements to this store" : strerror(errno), NULL);
    close(fd);
    return busy ? MG_EBUSY : MG_EIO;
  }
  int rc = tail_rebuild(s);
  if (rc) {
    close(fd);
    return rc;
  }
  s->lock_fd = fd;
  /* Ids flushed from now on are queued for the builder (set before it takes its snapshot). */
  pthread_mutex_lock(&s->t.mu);
  s->t.bloom_building = 1;
  pthread_mutex_unlock(&s->t.mu);
  if (pthread_create(&s->bloom_thread, NULL, bloom_builder, s) == 0) {
    s->bloom_started = 1;
  } else {
    pthread_mutex_lock(&s->t.mu);
    s->t.bloom_building = 0; /* no filter: every id is looked up */
    pthread_mutex_unlock(&s->t.mu);
  }
  return MG_OK;
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

/* Last mark: highest stored, its seq and the count so far (zeros for an empty store). */
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

static const int INTERN_SEL[4] = {Q_AGENT_SEL, Q_ACT_SEL, Q_VERB_SEL, Q_REG_SEL};
static const int INTERN_INS[4] = {Q_AGENT_INS, Q_ACT_INS, Q_VERB_INS, Q_REG_INS};

/* Looks key up in the shared cache of kind (caller holds the read lock, or is the leader). */
static int64_t cached_id(const sq *s, int kind, const void *key, size_t len) {
  return icache_get(&s->cache[kind - 1], key, len, fnv1a(key, len));
}

/* Leader: interns a string (agents, activities, verbs) or a 16-byte registration into *id. */
static int intern(sq *s, int kind, const void *key, size_t len, int64_t *id) {
  icache *pc = &s->wx.pending[kind - 1];
  if (len > INT_MAX) return MG_ETOOBIG;
  uint64_t h = fnv1a(key, len);
  if ((*id = icache_get(&s->cache[kind - 1], key, len, h))) return MG_OK;
  if ((*id = icache_get(pc, key, len, h))) return MG_OK;
  for (int pass = 0; pass < 2 && !*id; pass++) {
    sqlite3_stmt *st = use(s->w, pass ? INTERN_INS[kind - 1] : INTERN_SEL[kind - 1]);
    if (!st) return MG_ESTORE;
    if (kind == K_REGISTRATION)
      sqlite3_bind_blob(st, 1, key, (int)len, SQLITE_STATIC);
    else
      sqlite3_bind_text(st, 1, key, (int)len, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (!pass && rc == SQLITE_ROW) *id = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (pass ? rc != SQLITE_DONE : rc != SQLITE_ROW && rc != SQLITE_DONE)
      return db_fail(s->w->db, rc, "intern");
    if (pass) *id = sqlite3_last_insert_rowid(s->w->db);
  }
  icache_put(pc, key, len, h, *id);
  return MG_OK;
}

/* Leader, after COMMIT: what the round interned becomes visible to callers. */
static void publish_interned(sq *s) {
  wctx *w = &s->wx;
  pthread_rwlock_wrlock(&s->cache_lock);
  for (int k = 0; k < 4; k++) {
    icache *p = &w->pending[k];
    for (size_t i = 0; i < p->cap; i++)
      if (p->e[i].key) icache_put(&s->cache[k], p->e[i].key, p->e[i].len, p->e[i].hash, p->e[i].id);
  }
  pthread_rwlock_unlock(&s->cache_lock);
  for (int k = 0; k < 4; k++) icache_clear(&w->pending[k]);
}

/* Room a statement's own keys may need in the arena. */
static size_t keys_room(const mg_store_stmt *st) {
  return st->n_related_agents + st->n_related_activities + 6;
}

/* Resolves a statement's ids with get (the shared cache, or intern) and builds its own keys into
 * p->keys. Returns MG_OK with p->complete = 0 when get reported an unknown id (caller side). */
typedef int (*resolve_fn)(sq *s, int kind, const void *key, size_t len, int64_t *id);

static int cache_only(sq *s, int kind, const void *key, size_t len, int64_t *id) {
  *id = cached_id(s, kind, key, len);
  return MG_OK;
}

static int resolve_stmt(sq *s, const mg_store_stmt *st, prep *p, resolve_fn get) {
  int rc = MG_OK;
  int64_t id;
  p->complete = 0;
  p->nkeys = 0;
#define RESOLVE(kind, key, len, out) \
  do { \
    if ((rc = get(s, kind, key, len, out))) return rc; \
    if (!*(out)) return MG_OK; \
  } while (0)
#define PUSHK(idv, kind, direct) (p->keys[p->nkeys++] = ((uint64_t)KEY(idv, kind) << 1) | (direct))
  p->actor = p->oagent = p->oact = p->reg = 0;
  if (st->actor_key) RESOLVE(K_AGENT, st->actor_key, strlen(st->actor_key), &p->actor);
  RESOLVE(K_VERB, st->verb_id, strlen(st->verb_id), &p->verb);
  if (st->object_activity_id)
    RESOLVE(K_ACTIVITY, st->object_activity_id, strlen(st->object_activity_id), &p->oact);
  if (st->object_agent_key)
    RESOLVE(K_AGENT, st->object_agent_key, strlen(st->object_agent_key), &p->oagent);
  if (st->has_registration) RESOLVE(K_REGISTRATION, st->registration, 16, &p->reg);
  if (p->actor) PUSHK(p->actor, K_AGENT, 1);
  if (p->oagent) PUSHK(p->oagent, K_AGENT, 1);
  if (p->oact) PUSHK(p->oact, K_ACTIVITY, 1);
  PUSHK(p->verb, K_VERB, 1);
  if (p->reg) PUSHK(p->reg, K_REGISTRATION, 1);
  if (st->platform_id > 0) PUSHK(st->platform_id, K_PLATFORM, 1);
  for (size_t k = 0; k < st->n_related_agents; k++) {
    const char *a = st->related_agents[k];
    RESOLVE(K_AGENT, a, strlen(a), &id);
    PUSHK(id, K_AGENT, 0);
  }
  for (size_t k = 0; k < st->n_related_activities; k++) {
    const char *a = st->related_activities[k];
    RESOLVE(K_ACTIVITY, a, strlen(a), &id);
    PUSHK(id, K_ACTIVITY, 0);
  }
#undef RESOLVE
#undef PUSHK
  u64vec v = {p->keys, p->nkeys, p->nkeys};
  keys_normalize(&v);
  p->nkeys = (uint32_t)v.n;
  p->complete = 1;
  return MG_OK;
}

/* Caller side: works out what the shared caches allow for a batch, outside the writer. *arena
 * (caller frees) holds the keys. */
static int prepare_batch(sq *s, const mg_store_stmt *stmts, size_t n, prep **out,
                         uint64_t **arena) {
  size_t room = 0;
  for (size_t i = 0; i < n; i++) room += keys_room(&stmts[i]);
  prep *p = calloc(n, sizeof *p);
  uint64_t *a = malloc(room * sizeof *a);
  if (!p || !a) {
    free(p);
    free(a);
    return MG_ENOMEM;
  }
  pthread_rwlock_rdlock(&s->cache_lock);
  for (size_t i = 0, off = 0; i < n; off += keys_room(&stmts[i]), i++) {
    p[i].keys = a + off;
    resolve_stmt(s, &stmts[i], &p[i], cache_only); /* cannot fail */
  }
  pthread_rwlock_unlock(&s->cache_lock);
  *out = p;
  *arena = a;
  return MG_OK;
}

/* Leader: finishes the statements of the round whose strings were not all cached (outside the
 * batches' savepoints, so a rolled-back batch leaves no cached id the database lacks). */
static int intern_round(sq *s, job *list) {
  for (job *j = list; j; j = j->next)
    for (size_t i = 0; i < j->n; i++)
      if (!j->pre[i].complete) {
        int rc = resolve_stmt(s, &j->stmts[i], &j->pre[i], intern);
        if (rc) return rc;
      }
  return MG_OK;
}

/* seq of a stored statement by id (tail first, then flushed segments); 0 if none. */
static int find_id(sq *s, conn *c, const uint8_t id[16], int64_t *seq) {
  pthread_mutex_lock(&s->t.mu);
  *seq = tail_id_get(&s->t, id);
  int maybe = !*seq && bloom_maybe(&s->t.flushed_ids, id);
  pthread_mutex_unlock(&s->t.mu);
  if (*seq || !maybe) return MG_OK;
  sqlite3_stmt *st = use(c, Q_ID_SEQ);
  if (!st) return MG_ESTORE;
  sqlite3_bind_blob(st, 1, id, 16, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) *seq = sqlite3_column_int64(st, 0);
  sqlite3_reset(st);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return db_fail(c->db, rc, "id lookup");
  return MG_OK;
}

/* Rolls the tail's id map back to undo position `to` (a batch or the round rolled back). */
static void undo_to(sq *s, size_t to) {
  wctx *w = &s->wx;
  pthread_mutex_lock(&s->t.mu);
  while (w->nundo > to) {
    tail_id_del(&s->t, w->undo[--w->nundo]);
    if (s->t.count) s->t.count--;
  }
  pthread_mutex_unlock(&s->t.mu);
}

/* Adds key for seq: with the round's postings (applied to the tail after COMMIT) or, for a
 * flushed seq, in its segment row. */
static int posting_add(sq *s, int64_t key, int64_t seq, int direct) {
  wctx *w = &s->wx;
  flushjob *f = &s->fl;
  int rc;
  if (seq > s->t.flushed && !(f->sealed && seq <= f->hi)) {
    if (grow((void **)&w->pend, &w->cpend, w->npend + 1, sizeof *w->pend)) return MG_ENOMEM;
    w->pend[w->npend++] = (posting){key, ((uint64_t)seq << 1) | (direct != 0)};
    if (f->active && seq >= f->lo && seq <= f->hi) {
      if (grow((void **)&f->dirty, &f->cdirty, f->ndirty + 1, sizeof *f->dirty)) return MG_ENOMEM;
      f->dirty[f->ndirty++] = key;
    }
    return MG_OK;
  }
  /* A flushed segment (rare: a StatementRef target arriving late): rewrite its posting row. */
  int64_t seg_hi = 0, seg_lo = 0;
  sqlite3_stmt *st = use(s->w, Q_SEG_OF);
  if (!st) return MG_ESTORE;
  sqlite3_bind_int64(st, 1, seq);
  int r = sqlite3_step(st);
  if (r == SQLITE_ROW) {
    seg_hi = sqlite3_column_int64(st, 0);
    seg_lo = sqlite3_column_int64(st, 1);
  }
  sqlite3_reset(st);
  if (r != SQLITE_ROW) return r == SQLITE_DONE ? MG_ECORRUPT : db_fail(s->w->db, r, "segment of");
  st = use(s->w, Q_POST_GET);
  if (!st) return MG_ESTORE;
  sqlite3_bind_int64(st, 1, seg_hi);
  sqlite3_bind_int64(st, 2, key);
  r = sqlite3_step(st);
  w->tmp.n = 0;
  rc = MG_OK;
  if (r == SQLITE_ROW)
    rc = list_decode(sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1), &w->tmp);
  sqlite3_reset(st);
  if (r != SQLITE_ROW && r != SQLITE_DONE) return db_fail(s->w->db, r, "posting get");
  if (rc) return rc;
  /* stored relative to the segment's first seq */
  uint64_t e = ((uint64_t)(seq - seg_lo) << 1) | (direct != 0);
  int found = 0;
  for (size_t i = 0; i < w->tmp.n; i++) {
    if ((w->tmp.v[i] >> 1) == (e >> 1)) {
      w->tmp.v[i] |= e & 1;
      found = 1;
    }
  }
  if (!found && (rc = u64_push(&w->tmp, e))) return rc;
  qsort(w->tmp.v, w->tmp.n, sizeof *w->tmp.v, cmp_u64);
  mg_buf_reset(&w->blob);
  if ((rc = list_encode(w->tmp.v, w->tmp.n, &w->blob))) return rc;
  st = use(s->w, Q_POST_PUT);
  if (!st) return MG_ESTORE;
  sqlite3_bind_int64(st, 1, seg_hi);
  sqlite3_bind_int64(st, 2, key);
  sqlite3_bind_int64(st, 3, (int64_t)w->tmp.n);
  sqlite3_bind_blob(st, 4, w->blob.data, (int)w->blob.len, SQLITE_STATIC);
  r = sqlite3_step(st);
  sqlite3_reset(st);
  return r == SQLITE_DONE ? MG_OK : db_fail(s->w->db, r, "posting put");
}

static int set_voided(sq *s, int64_t seq) {
  sqlite3_stmt *st = use(s->w, Q_SET_VOIDED);
  if (!st) return MG_ESTORE;
  sqlite3_bind_int64(st, 1, seq);
  int rc = sqlite3_step(st);
  sqlite3_reset(st);
  return rc == SQLITE_DONE ? MG_OK : db_fail(s->w->db, rc, "set voided");
}

/* A statement that targets one whose keys are being propagated. */
typedef struct referrer {
  int64_t seq;
  uint8_t id[16];
  int is_voiding;
  u64vec keys;
} referrer;

static void referrers_free(referrer *r, size_t n) {
  for (size_t i = 0; i < n; i++) free(r[i].keys.v);
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
    err = list_decode(sqlite3_column_blob(st, 3), (size_t)sqlite3_column_bytes(st, 3), &r->keys);
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

/* A new statement (seq, id, keys) may be the target of statements stored before it: void it if
 * one of them voids it, and copy its keys into them and onward to whatever targets them. Keys only
 * grow, so the walk ends even on reference cycles. */
static int propagate(sq *s, int64_t seq, const uint8_t id[16], int is_voiding, const u64vec *keys) {
  typedef struct item {
    int64_t seq;
    uint8_t id[16];
    u64vec keys;
  } item;
  item *stack = NULL;
  size_t n = 0, cap = 0;
  referrer *refs = NULL;
  size_t nrefs = 0;
  int rc = MG_OK, first = 1;
  u64vec before = {0};
  if (grow((void **)&stack, &cap, 1, sizeof *stack)) return MG_ENOMEM;
  memset(&stack[0], 0, sizeof stack[0]);
  stack[0].seq = seq;
  memcpy(stack[0].id, id, 16);
  n = 1;
  if ((rc = keys_union(&stack[0].keys, keys, NULL))) goto out;
  while (n) {
    item cur = stack[--n];
    rc = load_referrers(s, cur.id, &refs, &nrefs);
    for (size_t i = 0; !rc && i < nrefs; i++) {
      referrer *r = &refs[i];
      if (r->seq == cur.seq) continue; /* a statement that targets itself */
      if (first && r->is_voiding && !is_voiding) rc = set_voided(s, seq);
      before.n = 0;
      for (size_t k = 0; !rc && k < r->keys.n; k++) rc = u64_push(&before, r->keys.v[k]);
      int changed = 0;
      if (!rc) rc = keys_union(&r->keys, &cur.keys, &changed);
      if (rc || !changed) continue;
      mg_buf_reset(&s->wx.blob);
      rc = list_encode(r->keys.v, r->keys.n, &s->wx.blob);
      sqlite3_stmt *st = rc ? NULL : use(s->w, Q_SET_KEYS);
      if (!rc && !st) rc = MG_ESTORE;
      if (!rc) {
        sqlite3_bind_int64(st, 1, r->seq);
        sqlite3_bind_blob(st, 2, s->wx.blob.data, (int)s->wx.blob.len, SQLITE_STATIC);
        int r2 = sqlite3_step(st);
        sqlite3_reset(st);
        if (r2 != SQLITE_DONE) rc = db_fail(s->w->db, r2, "set keys");
      }
      /* postings for what is new or newly direct */
      for (size_t k = 0; !rc && k < r->keys.n; k++) {
        int64_t key = (int64_t)(r->keys.v[k] >> 1);
        int direct = (int)(r->keys.v[k] & 1);
        if (keys_has(&before, key, direct)) continue;
        rc = posting_add(s, key, r->seq, direct);
      }
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
    free(cur.keys.v);
    first = 0;
    if (rc) break;
  }
out:
  while (n) free(stack[--n].keys.v);
  free(stack);
  free(before.v);
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

/* The keys of stored statement seq and whether it is voiding. */
static int load_keys(conn *c, int64_t seq, u64vec *keys, int *is_voiding) {
  sqlite3_stmt *st = use(c, Q_STMT_TARGET);
  if (!st) return MG_ESTORE;
  sqlite3_bind_int64(st, 1, seq);
  int r = sqlite3_step(st), rc = MG_OK;
  if (r == SQLITE_ROW) {
    *is_voiding = sqlite3_column_int(st, 0);
    rc = list_decode(sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1), keys);
  } else {
    rc = r == SQLITE_DONE ? MG_ECORRUPT : db_fail(c->db, r, "target keys");
  }
  sqlite3_reset(st);
  return rc;
}

/* Stores one statement inside the current batch's savepoint. */
static int put_one(sq *s, mg_store_stmt *stm, const prep *rec, rstate *rs,
                   mg_store_put_result *res) {
  wctx *w = &s->wx;
  u64vec *own = &w->own;
  int rc = MG_OK;

  /* Same id already stored: SAME if the digest matches, else a conflict. */
  int64_t dup = 0;
  if ((rc = find_id(s, s->w, stm->id, &dup))) return rc;
  if (dup) {
    sqlite3_stmt *st = use(s->w, Q_STMT_HASH);
    if (!st) return MG_ESTORE;
    sqlite3_bind_int64(st, 1, dup);
    int r = sqlite3_step(st);
    int same = r == SQLITE_ROW && sqlite3_column_bytes(st, 0) == 32 &&
               memcmp(sqlite3_column_blob(st, 0), stm->cmp_hash, 32) == 0;
    sqlite3_reset(st);
    if (r != SQLITE_ROW) return r == SQLITE_DONE ? MG_ECORRUPT : db_fail(s->w->db, r, "hash");
    if (!same) return MG_ECONFLICT;
    *res = MG_STORE_PUT_SAME;
    return MG_OK;
  }

  if (!rec->complete) return MG_ESTORE; /* intern_round resolves every statement */
  if (grow((void **)&own->v, &own->cap, rec->nkeys, sizeof *own->v)) return MG_ENOMEM;
  memcpy(own->v, rec->keys, rec->nkeys * sizeof *own->v);
  own->n = rec->nkeys;

  /* The target's keys become ours (xAPI: a StatementRef matches what its target matches). */
  int64_t tseq = 0;
  int t_voiding = 0;
  if (stm->has_object_ref) {
    if ((rc = find_id(s, s->w, stm->object_ref, &tseq))) return rc;
    if (tseq && (rc = load_keys(s->w, tseq, &w->tgt, &t_voiding))) return rc;
    if (tseq && (rc = keys_union(own, &w->tgt, NULL))) return rc;
  }
  mg_buf_reset(&w->blob);
  if ((rc = list_encode(own->v, own->n, &w->blob))) return rc;
  if (stm->json_len > INT_MAX) return MG_ETOOBIG;

  int64_t seq = s->next_seq++; /* never reused, even if this batch rolls back */
  sqlite3_stmt *st = use(s->w, Q_STMT_INS);
  if (!st) return MG_ESTORE;
  sqlite3_bind_int64(st, 1, seq);
  sqlite3_bind_blob(st, 2, stm->id, 16, SQLITE_STATIC);
  sqlite3_bind_int64(st, 3, stm->stored_us);
  sqlite3_bind_int64(st, 4, stm->timestamp_us);
  if (rec->actor) sqlite3_bind_int64(st, 5, rec->actor);
  sqlite3_bind_int64(st, 6, rec->verb);
  if (rec->oact) sqlite3_bind_int64(st, 7, rec->oact);
  if (rec->oagent) sqlite3_bind_int64(st, 8, rec->oagent);
  if (stm->has_registration) sqlite3_bind_blob(st, 9, stm->registration, 16, SQLITE_STATIC);
  if (stm->has_object_ref) sqlite3_bind_blob(st, 10, stm->object_ref, 16, SQLITE_STATIC);
  sqlite3_bind_int(st, 11, stm->is_voiding ? 1 : 0);
  sqlite3_bind_int64(st, 12, stm->platform_id);
  sqlite3_bind_blob(st, 13, stm->cmp_hash, 32, SQLITE_STATIC);
  sqlite3_bind_blob(st, 14, w->blob.data, (int)w->blob.len, SQLITE_STATIC);
  sqlite3_bind_text(st, 15, stm->json, (int)stm->json_len, SQLITE_STATIC);
  int r = sqlite3_step(st);
  sqlite3_reset(st);
  if (r != SQLITE_DONE) return db_fail(s->w->db, r, "statement insert");
  *res = MG_STORE_PUT_NEW;

  /* The id goes into the tail now (later statements must see it for dedupe); the postings wait
   * for COMMIT (apply_round), as readers only trust the tail up to tail.upto. */
  if (grow((void **)&w->pend, &w->cpend, w->npend + own->n, sizeof *w->pend) ||
      grow((void **)&w->undo, &w->cundo, w->nundo + 1, sizeof *w->undo))
    return MG_ENOMEM;
  for (size_t i = 0; i < own->n; i++)
    w->pend[w->npend++] =
        (posting){(int64_t)(own->v[i] >> 1), ((uint64_t)seq << 1) | (own->v[i] & 1)};
  pthread_mutex_lock(&s->t.mu);
  rc = tail_id_put(&s->t, stm->id, seq);
  if (!rc) s->t.count++;
  pthread_mutex_unlock(&s->t.mu);
  if (rc) return rc;
  memcpy(w->undo[w->nundo++], stm->id, 16);

  if (stm->is_voiding && tseq && !t_voiding && tseq != seq && (rc = set_voided(s, tseq)))
    return rc;
  if ((rc = put_attachments(s, stm))) return rc;
  if (rs->refs_any && (rc = propagate(s, seq, stm->id, stm->is_voiding, own))) return rc;
  if (stm->has_object_ref) rs->refs_any = 1;

  if (stm->stored_us > rs->pmax) rs->pmax = stm->stored_us;
  if (stm->stored_us < rs->floor) rs->floor = stm->stored_us;
  if (stm->timestamp_us < rs->min_ts) rs->min_ts = stm->timestamp_us;
  if (stm->timestamp_us > rs->max_ts) rs->max_ts = stm->timestamp_us;
  rs->total++;
  rs->last_seq = seq;
  return MG_OK;
}

/* Puts a committed round's postings into the tail, rounds in commit order, and moves tail.upto
 * past the round. Frees rp. */
static void apply_round(sq *s, roundpost *rp) {
  tail *t = &s->t;
  int failed = 0;
  pthread_mutex_lock(&t->mu);
  while (t->applied + 1 != rp->ticket) pthread_cond_wait(&t->applied_cv, &t->mu);
  for (size_t i = 0; i < rp->n && !failed; i++) {
    uint64_t old;
    int64_t seq = (int64_t)(rp->p[i].e >> 1);
    if (seq > t->flushed) failed = tail_add(t, rp->p[i].key, seq, (int)(rp->p[i].e & 1), &old);
  }
  if (failed) {
    /* Out of memory: queries would miss these statements; rebuild the tail from the rows. */
    mg_log(MG_LOG_ERROR, "store.sqlite.error", "op", "tail", "msg", "out of memory", NULL);
    t->rebuild = 1;
  }
  if (rp->max_seq > t->upto) t->upto = rp->max_seq;
  t->applied = rp->ticket;
  pthread_cond_broadcast(&t->applied_cv);
  pthread_mutex_unlock(&t->mu);
  free(rp->p);
  free(rp);
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

static int cmp_idslot(const void *a, const void *b) {
  return memcmp(((const idslot *)a)->id, ((const idslot *)b)->id, 16);
}

/* Starts a flush of the tail's statements lo..hi (everything committed so far) as one segment:
 * fixes the keys and ids to write. Leader, between rounds. */
static int flush_start(sq *s) {
  tail *t = &s->t;
  flushjob *f = &s->fl;
  int rc = MG_OK;
  wait_all_applied(s);
  pthread_mutex_lock(&t->mu);
  f->lo = t->flushed + 1;
  f->hi = t->upto;
  f->nkeys = f->kpos = f->nids = f->ipos = f->ndirty = 0;
  f->keys = malloc((t->pn ? t->pn : 1) * sizeof *f->keys);
  f->ids = malloc((t->in ? t->in : 1) * sizeof *f->ids);
  if (!f->keys || !f->ids) {
    rc = MG_ENOMEM;
  } else {
    for (size_t i = 0; i < t->pcap; i++) {
      const plist *p = &t->pl[i];
      if (p->key && plist_lower(p, f->lo) < plist_lower(p, f->hi + 1))
        f->keys[f->nkeys++] = p->key;
    }
    for (size_t i = 0; i < t->icap; i++)
      if (t->ids[i].seq >= f->lo && t->ids[i].seq <= f->hi) f->ids[f->nids++] = t->ids[i];
  }
  pthread_mutex_unlock(&t->mu);
  if (rc || f->hi < f->lo) {
    free(f->keys);
    free(f->ids);
    f->keys = NULL;
    f->ids = NULL;
    return rc;
  }
  qsort(f->keys, f->nkeys, sizeof *f->keys, cmp_i64); /* appends in (segment, key) order */
  qsort(f->ids, f->nids, sizeof *f->ids, cmp_idslot);
  f->active = 1;
  return MG_OK;
}

/* Writes key's postings for the flushing segment from the tail. */
static int flush_key(sq *s, int64_t key) {
  flushjob *f = &s->fl;
  wctx *w = &s->wx;
  int rc = MG_OK;
  w->tmp.n = 0;
  pthread_mutex_lock(&s->t.mu); /* rounds committed earlier may still be adding postings */
  const plist *p = plist_find(&s->t, key);
  size_t a = p ? plist_lower(p, f->lo) : 0, b = p ? plist_lower(p, f->hi + 1) : 0;
  for (size_t i = a; i < b && !rc; i++)
    rc = u64_push(&w->tmp, p->e[i] - ((uint64_t)f->lo << 1)); /* relative to the segment */
  pthread_mutex_unlock(&s->t.mu);
  if (rc || !w->tmp.n) return rc;
  mg_buf_reset(&w->blob);
  if ((rc = list_encode(w->tmp.v, w->tmp.n, &w->blob))) return rc;
  sqlite3_stmt *st = use(s->w, Q_POST_PUT);
  if (!st) return MG_ESTORE;
  sqlite3_bind_int64(st, 1, f->hi);
  sqlite3_bind_int64(st, 2, key);
  sqlite3_bind_int64(st, 3, (int64_t)w->tmp.n);
  sqlite3_bind_blob(st, 4, w->blob.data, (int)w->blob.len, SQLITE_STATIC);
  int r = sqlite3_step(st);
  sqlite3_reset(st);
  return r == SQLITE_DONE ? MG_OK : db_fail(s->w->db, r, "flush postings");
}

/* Inside a round's transaction: writes up to budget rows of the flushing segment. The rows are
 * invisible to readers until the segment's own row exists (flush_seal). */
static int flush_step(sq *s, size_t budget) {
  flushjob *f = &s->fl;
  int rc = MG_OK;
  while (!rc && budget && f->kpos < f->nkeys) {
    rc = flush_key(s, f->keys[f->kpos]);
    if (!rc) f->kpos++, budget--;
  }
  sqlite3_stmt *st = rc || !budget || f->ipos == f->nids ? NULL : use(s->w, Q_ID_INS);
  if (!rc && budget && f->ipos < f->nids && !st) rc = MG_ESTORE;
  while (!rc && st && budget && f->ipos < f->nids) {
    sqlite3_bind_blob(st, 1, f->ids[f->ipos].id, 16, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, f->ids[f->ipos].seq);
    int r = sqlite3_step(st);
    sqlite3_reset(st);
    if (r != SQLITE_DONE) rc = db_fail(s->w->db, r, "flush ids");
    else f->ipos++, budget--;
  }
  return rc;
}

/* At a round's start, once every row is written: rewrites the keys a StatementRef propagation
 * touched meanwhile and inserts the segment's row, which makes it visible at COMMIT. From here on
 * posting_add sends lo..hi to the segment's rows. */
static int flush_seal(sq *s) {
  flushjob *f = &s->fl;
  wait_all_applied(s);
  int rc = MG_OK;
  for (size_t i = 0; !rc && i < f->ndirty; i++) rc = flush_key(s, f->dirty[i]);
  if (rc) return rc;
  /* The segment's timestamp span, from the marks of its rounds (they tile lo..hi). */
  int64_t mn = INT64_MIN, mx = INT64_MAX;
  sqlite3_stmt *st = use(s->w, Q_MARK_SPAN);
  if (!st) return MG_ESTORE;
  sqlite3_bind_int64(st, 1, f->lo);
  sqlite3_bind_int64(st, 2, f->hi);
  int r = sqlite3_step(st);
  if (r == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
    mn = sqlite3_column_int64(st, 0);
    mx = sqlite3_column_int64(st, 1);
  }
  sqlite3_reset(st);
  if (r != SQLITE_ROW) return db_fail(s->w->db, r, "segment span");
  st = use(s->w, Q_SEG_INS);
  if (!st) return MG_ESTORE;
  sqlite3_bind_int64(st, 1, f->hi);
  sqlite3_bind_int64(st, 2, f->lo);
  sqlite3_bind_int64(st, 3, (int64_t)f->nids);
  sqlite3_bind_int64(st, 4, mn);
  sqlite3_bind_int64(st, 5, mx);
  r = sqlite3_step(st);
  sqlite3_reset(st);
  if (r != SQLITE_DONE) return db_fail(s->w->db, r, "flush segment");
  f->sealed = 1;
  return MG_OK;
}

/* After the COMMIT that made the segment visible: drop it from the tail. */
static void flush_done(sq *s) {
  flushjob *f = &s->fl;
  tail *t = &s->t;
  pthread_mutex_lock(&t->mu);
  for (size_t i = 0; i < f->nids && t->flushed_ids.valid; i++)
    if (bloom_add(&t->flushed_ids, f->ids[i].id)) t->flushed_ids.valid = 0; /* then always probe */
  for (size_t i = 0; i < f->nids && t->bloom_building; i++) {
    if (grow((void **)&t->bloom_pend, &t->cbloom_pend, t->nbloom_pend + 1, 16)) {
      t->bloom_building = 0; /* the builder's filter would miss ids: it must not be installed */
      break;
    }
    memcpy(t->bloom_pend[t->nbloom_pend++], f->ids[i].id, 16);
  }
  if (tail_prune(t, f->hi)) /* out of memory: rebuild the tail from the rows */
    t->rebuild = 1;
  t->flushed = f->hi;
  pthread_mutex_unlock(&t->mu);
  free(f->keys);
  free(f->ids);
  f->keys = NULL;
  f->ids = NULL;
  f->active = f->sealed = 0;
}

/* Runs one group-commit round over the jobs of list; sets each job's rc. Returns the commit's
 * number for wait_durable, 0 if nothing was committed; *post gets the postings the caller must
 * pass to apply_round (NULL when there are none). */
static uint64_t run_round(sq *s, job *list, roundpost **post) {
  wctx *w = &s->wx;
  size_t fl_kpos = s->fl.kpos, fl_ipos = s->fl.ipos; /* restored if the round rolls back */
  rstate rs = {INT64_MIN, 0, INT64_MAX, INT64_MAX, INT64_MIN, 0, 0};
  int64_t max_lag = 0, mark_seq, maxseq;
  int rc = MG_OK;
  for (job *j = list; j; j = j->next) j->rc = MG_ESTORE;
  if (s->lock_fd < 0 && (rc = become_writer(s))) goto fail;
  if (s->t.rebuild && (rc = tail_rebuild(s))) goto fail;
  *post = NULL;
  if ((rc = run(s->w, Q_BEGIN_IMM))) goto fail;
  w->nundo = 0;
  w->npend = 0;
  if ((rc = mark_last(s->w, &rs.pmax, &mark_seq, &rs.total))) goto abort;
  if (!mark_seq) rs.pmax = INT64_MIN; /* empty store: no bound yet */
  if ((rc = meta_get(s->w, "max_lag_us", &max_lag))) goto abort;
  if ((rc = query_int(s->w, Q_MAX_SEQ, 0, &maxseq))) goto abort;
  if (maxseq >= s->next_seq) s->next_seq = maxseq + 1;
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
  if (s->fl.active && s->fl.kpos == s->fl.nkeys && s->fl.ipos == s->fl.nids &&
      (rc = flush_seal(s)))
    goto abort;

  size_t nstmts = 0;
  for (job *j = list; j; j = j->next) {
    nstmts += j->n;
    if ((rc = run(s->w, Q_SAVEPOINT))) goto abort;
    rstate saved = rs;
    size_t undo_mark = w->nundo, pend_mark = w->npend;
    int jrc = MG_OK;
    size_t i;
    for (i = 0; i < j->n && !jrc; i++) {
      mg_store_put_result res = MG_STORE_PUT_NEW;
      jrc = put_one(s, &j->stmts[i], &j->pre[i], &rs, &res);
      if (!jrc && j->results) j->results[i] = res;
    }
    if (jrc) {
      j->bad = i - 1;
      rs = saved;
      undo_to(s, undo_mark);
      w->npend = pend_mark;
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
    sqlite3_bind_int64(st, 5, rs.min_ts);
    sqlite3_bind_int64(st, 6, rs.max_ts);
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
  /* A slice of a pending segment flush rides along: about three rows per statement, so it ends
   * well before the next segment fills, without a long stall. */
  if (s->fl.active && !s->fl.sealed && (rc = flush_step(s, 3 * nstmts + 256))) goto abort;

  /* The round's postings travel with it (the buffer goes, the next round starts a new one). */
  roundpost *rp = NULL;
  if (rs.last_seq) {
    if (!(rp = malloc(sizeof *rp))) {
      rc = MG_ENOMEM;
      goto abort;
    }
    *rp = (roundpost){w->pend, w->npend, rs.last_seq, 0};
  }
  if ((rc = run(s->w, Q_COMMIT))) {
    free(rp);
    goto abort;
  }
  uint64_t gen = commit_made(s);
  publish_interned(s);
  w->nundo = 0;
  if (rp) {
    w->pend = NULL;
    w->npend = w->cpend = 0;
    rp->ticket = ++s->tickets;
  }
  if (s->fl.sealed) flush_done(s);
  if (!s->fl.active && s->t.count >= s->segment) {
    /* The flush covers everything committed: this round's postings go in first. */
    if (rp) apply_round(s, rp);
    rp = NULL;
    if (flush_start(s))
      mg_log(MG_LOG_WARN, "store.sqlite.flush", "msg", "cannot start a segment flush", NULL);
  }
  *post = rp;
  return gen;
abort:
  conn_quiesce(s->w); /* rolls the transaction back */
  undo_to(s, 0);
  w->npend = 0;
  s->fl.kpos = fl_kpos; /* the slice written in this round is gone too */
  s->fl.ipos = fl_ipos;
  s->fl.sealed = 0;
fail:
  /* Ids interned by this transaction are gone with it. */
  for (int k = 0; k < 4; k++) icache_clear(&w->pending[k]);
  for (job *j = list; j; j = j->next)
    if (j->rc != MG_ECONFLICT) j->rc = rc ? rc : MG_ESTORE;
  return 0;
}

/* Checks what the backend relies on before the batch is queued. */
static int check_batch(const mg_store_stmt *stmts, size_t n, size_t *bad) {
  for (size_t i = 0; i < n; i++) {
    const mg_store_stmt *st = &stmts[i];
    int ok = st->verb_id && st->json && st->json_len > 0 &&
             (!st->n_related_agents || st->related_agents) &&
             (!st->n_related_activities || st->related_activities) &&
             (!st->n_attachments || st->attachments) && st->platform_id >= 0 &&
             st->platform_id < ((int64_t)1 << 59);
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
  prep *pr = NULL;
  uint64_t *arena = NULL;
  if ((rc = prepare_batch(s, stmts, n, &pr, &arena))) return rc;
  job j = {stmts, pr, n, results, 0, MG_ESTORE, J_QUEUED, NULL};
  pthread_mutex_lock(&s->mu);
  if (s->tail_job)
    s->tail_job->next = &j;
  else
    s->head = &j;
  s->tail_job = &j;
  while (j.state != J_DONE) {
    if (j.state == J_QUEUED && !s->leader) {
      /* Lead one round: everything queued so far, ours included. */
      s->leader = 1;
      job *list = s->head;
      s->head = s->tail_job = NULL;
      for (job *k = list; k; k = k->next) k->state = J_TAKEN;
      pthread_mutex_unlock(&s->mu);
      roundpost *post = NULL;
      uint64_t gen = run_round(s, list, &post);
      /* Hand the writer on; then, while the next round is built, index this one in the tail and
       * make it durable. */
      pthread_mutex_lock(&s->mu);
      s->leader = 0;
      pthread_cond_broadcast(&s->cv);
      pthread_mutex_unlock(&s->mu);
      if (post) apply_round(s, post);
      int sync_rc = gen ? wait_durable(s, gen) : MG_OK;
      pthread_mutex_lock(&s->mu);
      for (job *k = list; k;) {
        job *next = k->next; /* k may be gone once its caller sees J_DONE */
        if (sync_rc && k->rc == MG_OK) k->rc = sync_rc;
        k->state = J_DONE;
        k = next;
      }
      pthread_cond_broadcast(&s->cv);
      break;
    }
    pthread_cond_wait(&s->cv, &s->mu);
  }
  pthread_mutex_unlock(&s->mu);
  free(pr);
  free(arena);
  if (j.rc == MG_ECONFLICT && bad_index) *bad_index = j.bad;
  /* stored_us is stored as given (see store.h), so there is nothing to write back. */
  return j.rc;
}

/* ---- migrations and lifecycle ------------------------------------------------------------ */

static int schema_version_on(conn *c, int *out) {
  int64_t v = 0;
  int rc = query_int(c, Q_VERSION, 0, &v);
  *out = (int)v;
  return rc;
}

static int migrate(conn *c, int *applied) {
  int rc = exec_sql(c->db, "CREATE TABLE IF NOT EXISTS schema_migrations ("
                           "number INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                           "applied_us INTEGER NOT NULL)");
  if (rc) return rc;
  int version = 0;
  if ((rc = schema_version_on(c, &version))) return rc;
  for (const mg_store_migration *m = mg_store_sqlite_migrations; m->number; m++) {
    if (m->number <= version) continue;
    if ((rc = run(c, Q_BEGIN_IMM))) return rc;
    /* Another process may have applied it while we waited for the lock. */
    int64_t has = 0;
    if ((rc = query_int(c, Q_MIG_HAS, m->number, &has))) goto fail;
    if (has) {
      if ((rc = run(c, Q_COMMIT))) goto fail;
      continue;
    }
    int r = sqlite3_exec(c->db, m->sql, NULL, NULL, NULL);
    if (r != SQLITE_OK) {
      rc = db_fail(c->db, r, m->name);
      goto fail;
    }
    sqlite3_stmt *st = use(c, Q_MIG_INS);
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
  if (s->bloom_started) {
    atomic_store(&s->bloom_stop, 1);
    pthread_join(s->bloom_thread, NULL);
  }
  if (s->ckpt_started) {
    pthread_mutex_lock(&s->ckpt_mu);
    s->ckpt_stop = 1;
    pthread_cond_signal(&s->ckpt_cv);
    pthread_mutex_unlock(&s->ckpt_mu);
    pthread_join(s->ckpt, NULL);
  }
  while (s->idle) {
    conn *c = s->idle;
    s->idle = c->next;
    conn_close(c);
  }
  if (s->gov) {
    if (s->gov_tx) exec_sql(s->gov, "ROLLBACK");
    sqlite3_close(s->gov);
  }
  pthread_mutex_destroy(&s->gov_mu);
  conn_close(s->w);
  if (s->lock_fd >= 0) close(s->lock_fd); /* releases the writer lock */
  if (s->wal_fd >= 0) close(s->wal_fd);
  wctx *w = &s->wx;
  for (int k = 0; k < 4; k++) {
    icache_clear(&s->cache[k]);
    icache_clear(&w->pending[k]);
  }
  pthread_rwlock_destroy(&s->cache_lock);
  free(w->undo);
  free(w->pend);
  free(s->fl.keys);
  free(s->fl.ids);
  free(s->fl.dirty);
  free(w->own.v);
  free(w->tgt.v);
  free(w->tmp.v);
  mg_buf_free(&w->blob);
  tail_free_tables(&s->t);
  bloom_free(&s->t.flushed_ids);
  free(s->t.bloom_pend);
  pthread_cond_destroy(&s->t.applied_cv);
  pthread_mutex_destroy(&s->t.mu);
  pthread_mutex_destroy(&s->mu);
  pthread_cond_destroy(&s->cv);
  pthread_mutex_destroy(&s->pool_mu);
  pthread_mutex_destroy(&s->sync_mu);
  pthread_cond_destroy(&s->sync_cv);
  pthread_mutex_destroy(&s->ckpt_mu);
  pthread_cond_destroy(&s->ckpt_cv);
  free(s->wal_path);
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
  s->lock_fd = -1;
  s->wal_fd = -1;
  s->next_seq = 1;
  s->segment = DEFAULT_SEGMENT;
  const char *env = getenv("MG_STORE_SQLITE_SEGMENT");
  if (env && *env) {
    char *end = NULL;
    long long v = strtoll(env, &end, 10);
    if (*end || v < 1 || v > (1ll << 30)) {
      free(s->path);
      free(s);
      return MG_EINVAL;
    }
    s->segment = (size_t)v;
  }
  atomic_init(&s->bloom_stop, 0);
  pthread_mutex_init(&s->mu, NULL);
  pthread_cond_init(&s->cv, NULL);
  pthread_mutex_init(&s->pool_mu, NULL);
  pthread_mutex_init(&s->t.mu, NULL);
  pthread_cond_init(&s->t.applied_cv, NULL);
  pthread_rwlock_init(&s->cache_lock, NULL);
  pthread_mutex_init(&s->sync_mu, NULL);
  pthread_cond_init(&s->sync_cv, NULL);
  pthread_mutex_init(&s->ckpt_mu, NULL);
  pthread_cond_init(&s->ckpt_cv, NULL);
  pthread_mutexattr_t ma;
  pthread_mutexattr_init(&ma);
  pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_RECURSIVE);
  pthread_mutex_init(&s->gov_mu, &ma);
  pthread_mutexattr_destroy(&ma);
  mg_buf_init(&s->wx.blob, BLOB_MAX);
  int n_applied = 0;
  int64_t layout = 0;
  int rc = conn_open(s->path, CONN_WRITER, &s->w);
  if (!rc) rc = migrate(s->w, &n_applied);
  if (applied) *applied = n_applied;
  if (!rc && !(rc = meta_get(s->w, "layout", &layout)) && layout != STORE_LAYOUT) {
    mg_log(MG_LOG_ERROR, "store.sqlite.error", "op", "open", "msg",
           "store made by an older development build (table layout differs); recreate it", NULL);
    rc = MG_ECORRUPT;
  }
  if (!rc) {
    const char *wal = sqlite3_filename_wal(sqlite3_db_filename(s->w->db, "main"));
    size_t wlen = wal ? strlen(wal) : 0;
    if (!wlen || !(s->wal_path = malloc(wlen + 1))) {
      rc = wlen ? MG_ENOMEM : MG_ESTORE;
    } else {
      memcpy(s->wal_path, wal, wlen + 1);
      /* Migrations were committed at NORMAL: make them durable before anything else. */
      if (n_applied) rc = wait_durable(s, commit_made(s));
    }
  }
  if (!rc) {
    sqlite3_wal_hook(s->w->db, on_wal_commit, s);
    if (pthread_create(&s->ckpt, NULL, checkpointer, s) == 0) s->ckpt_started = 1;
  }
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
  int64_t seq = 0;
  int rc = tail_catch_up(s, c);
  if (!rc) rc = run(c, Q_BEGIN);
  if (!rc) rc = find_id(s, c, id, &seq);
  if (rc) goto out;
  if (!seq) {
    rc = MG_ENOTFOUND;
    goto out;
  }
  sqlite3_stmt *st = use(c, Q_STMT_GET);
  if (!st) {
    rc = MG_ESTORE;
    goto out;
  }
  sqlite3_bind_int64(st, 1, seq);
  int r = sqlite3_step(st);
  if (r == SQLITE_DONE) { /* in the tail but not committed yet */
    rc = MG_ENOTFOUND;
    goto out;
  }
  if (r != SQLITE_ROW) {
    rc = db_fail(c->db, r, "statement get");
    goto out;
  }
  if (info) {
    info->seq = seq;
    info->stored_us = sqlite3_column_int64(st, 0);
    info->voided = sqlite3_column_int(st, 1);
    info->is_voiding = sqlite3_column_int(st, 2);
  }
  if (json) {
    const void *text = sqlite3_column_text(st, 3);
    size_t n = (size_t)sqlite3_column_bytes(st, 3);
    if (!(*json = dup_bytes(text, n))) {
      rc = MG_ENOMEM;
      goto out;
    }
    if (json_len) *json_len = n;
  }
out:
  pool_put(s, c); /* ends the read transaction */
  return rc;
}

/* Looks an interned key up; *id = 0 when it was never stored. */
static int lookup_id(conn *c, int q, const void *key, int len, int blob, int64_t *id) {
  sqlite3_stmt *st = use(c, q);
  if (!st) return MG_ESTORE;
  if (blob)
    sqlite3_bind_blob(st, 1, key, len, SQLITE_STATIC);
  else
    sqlite3_bind_text(st, 1, key, len, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  *id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
  sqlite3_reset(st);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return db_fail(c->db, rc, "lookup");
  return MG_OK;
}

/* First seq that can have stored > since. */
static int since_lo(conn *c, int64_t since, int64_t *lo) {
  int64_t seq = 0;
  int rc = query_int(c, Q_MARK_SINCE, since, &seq);
  *lo = seq + 1;
  return rc;
}

/* Last seq that can have stored <= until (0: none). Marks past pmax > until + max_lag hold only
 * later statements; from there, walk back to the last mark whose lowest stored is <= until. */
static int until_hi(conn *c, int64_t until, int64_t *hi) {
  int64_t lag, pmax, from = 0, total;
  int rc = meta_get(c, "max_lag_us", &lag);
  if (rc) return rc;
  sqlite3_stmt *st = use(c, Q_MARK_UNTIL_A);
  if (!st) return MG_ESTORE;
  sqlite3_bind_int64(st, 1, sat_add(until, lag));
  int r = sqlite3_step(st);
  if (r == SQLITE_ROW) from = sqlite3_column_int64(st, 1);
  sqlite3_reset(st);
  if (r != SQLITE_ROW && r != SQLITE_DONE) return db_fail(c->db, r, "until a");
  if (r == SQLITE_DONE && (rc = mark_last(c, &pmax, &from, &total))) return rc;
  if (!from) {
    *hi = 0;
    return MG_OK;
  }
  st = use(c, Q_MARK_UNTIL_B);
  if (!st) return MG_ESTORE;
  sqlite3_bind_int64(st, 1, from);
  sqlite3_bind_int64(st, 2, until);
  r = sqlite3_step(st);
  *hi = r == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
  sqlite3_reset(st);
  if (r != SQLITE_ROW && r != SQLITE_DONE) return db_fail(c->db, r, "until b");
  return MG_OK;
}

/* One equality filter of a query. */
typedef struct filt {
  int64_t key;
  int need_direct;
  u64vec mem;   /* its tail entries, copied */
  double est;   /* estimated candidates */
} filt;

/* A running query. */
typedef struct qrun {
  sq *s;
  conn *c;
  const mg_store_query *q;
  mg_store_stmt_cb cb;
  void *ud;
  int asc;
  int64_t lo, hi, flushed;
  int64_t ts_a, ts_b;
  filt f[5];
  size_t nf;
  size_t limit, delivered;
  int more, stop;
  int64_t last;
  u64vec keys, seg;
} qrun;

/* Checks the row the statement st is positioned on (columns: seq, ROW_COLS) and delivers it.
 * Sets qr->stop when the page is full (and more exists) or the callback stops. */
static int consider(qrun *qr, sqlite3_stmt *st) {
  const mg_store_query *q = qr->q;
  int64_t seq = sqlite3_column_int64(st, 0);
  int64_t stored = sqlite3_column_int64(st, 2), ts = sqlite3_column_int64(st, 3);
  if (sqlite3_column_int(st, 1)) return MG_OK; /* voided */
  if (q->has_since && stored <= q->since_us) return MG_OK;
  if (q->has_until && stored > q->until_us) return MG_OK;
  if (ts < qr->ts_a || ts > qr->ts_b) return MG_OK;
  if (q->platform_id && sqlite3_column_int64(st, 4) != q->platform_id) return MG_OK;
  if (qr->nf) {
    int rc = list_decode(sqlite3_column_blob(st, 5), (size_t)sqlite3_column_bytes(st, 5),
                         &qr->keys);
    if (rc) return rc;
    for (size_t i = 0; i < qr->nf; i++)
      if (!keys_has(&qr->keys, qr->f[i].key, qr->f[i].need_direct)) return MG_OK;
  }
  if (qr->delivered == qr->limit) {
    qr->more = 1;
    qr->stop = 1;
    return MG_OK;
  }
  const char *json = (const char *)sqlite3_column_text(st, 6);
  size_t len = (size_t)sqlite3_column_bytes(st, 6);
  int rc = qr->cb(qr->ud, seq, json ? json : "", len);
  qr->delivered++;
  qr->last = seq;
  if (rc) qr->stop = 1;
  return rc;
}

/* Looks seq up and considers it. */
static int consider_seq(qrun *qr, int64_t seq) {
  sqlite3_stmt *st = use(qr->c, Q_ROW);
  if (!st) return MG_ESTORE;
  sqlite3_bind_int64(st, 1, seq);
  int r = sqlite3_step(st), rc = MG_OK;
  if (r == SQLITE_ROW)
    rc = consider(qr, st);
  else if (r != SQLITE_DONE)
    rc = db_fail(qr->c->db, r, "row");
  sqlite3_reset(st);
  return rc;
}

/* Scans the rows lo..hi in the query's order. */
static int scan_range(qrun *qr, int64_t lo, int64_t hi) {
  sqlite3_stmt *st = use(qr->c, qr->asc ? Q_SCAN_A : Q_SCAN_D);
  if (!st) return MG_ESTORE;
  sqlite3_bind_int64(st, 1, lo);
  sqlite3_bind_int64(st, 2, hi);
  int r, rc = MG_OK;
  while (!qr->stop && (r = sqlite3_step(st)) == SQLITE_ROW)
    if ((rc = consider(qr, st))) break;
  if (!rc && !qr->stop && r != SQLITE_DONE) rc = db_fail(qr->c->db, r, "scan");
  sqlite3_reset(st);
  return rc;
}

/* Candidates from posting entries v[0..n) (ascending, seq << 1 | direct, seq = base + value>>1),
 * in the query's order. */
static int drive_entries(qrun *qr, const filt *d, const uint64_t *v, size_t n, int64_t base) {
  for (size_t k = 0; k < n && !qr->stop; k++) {
    uint64_t e = v[qr->asc ? k : n - 1 - k];
    int64_t seq = base + (int64_t)(e >> 1);
    if (seq < qr->lo || seq > qr->hi) continue;
    if (d->need_direct && !(e & 1)) continue;
    int rc = consider_seq(qr, seq);
    if (rc) return rc;
  }
  return MG_OK;
}

/* Candidates of the driver's flushed segments overlapping lo..min(hi, flushed). */
static int drive_segments(qrun *qr, const filt *d) {
  int64_t top = qr->hi < qr->flushed ? qr->hi : qr->flushed;
  if (qr->lo > top) return MG_OK;
  /* list the segments first: the posting probes below reuse the connection */
  sqlite3_stmt *st = use(qr->c, qr->asc ? Q_SEG_LIST_A : Q_SEG_LIST_D);
  if (!st) return MG_ESTORE;
  sqlite3_bind_int64(st, 1, qr->lo);
  sqlite3_bind_int64(st, 2, top);
  qr->seg.n = 0;
  int r, rc = MG_OK;
  while ((r = sqlite3_step(st)) == SQLITE_ROW) {
    if ((rc = u64_push(&qr->seg, (uint64_t)sqlite3_column_int64(st, 0))) ||
        (rc = u64_push(&qr->seg, (uint64_t)sqlite3_column_int64(st, 1))))
      break;
  }
  if (!rc && r != SQLITE_DONE) rc = db_fail(qr->c->db, r, "segments");
  sqlite3_reset(st);
  u64vec ent = {0};
  for (size_t i = 0; !rc && i + 1 < qr->seg.n && !qr->stop; i += 2) {
    int64_t seg_hi = (int64_t)qr->seg.v[i], seg_lo = (int64_t)qr->seg.v[i + 1];
    st = use(qr->c, Q_POST_GET);
    if (!st) {
      rc = MG_ESTORE;
      break;
    }
    sqlite3_bind_int64(st, 1, seg_hi);
    sqlite3_bind_int64(st, 2, d->key);
    r = sqlite3_step(st);
    ent.n = 0;
    if (r == SQLITE_ROW)
      rc = list_decode(sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1), &ent);
    else if (r != SQLITE_DONE)
      rc = db_fail(qr->c->db, r, "postings");
    sqlite3_reset(st);
    if (!rc) rc = drive_entries(qr, d, ent.v, ent.n, seg_lo);
  }
  free(ent.v);
  return rc;
}

/* Index of the first posting entry (seq << 1 | direct, ascending) with seq >= seq. */
static size_t entries_lower(const u64vec *v, int64_t seq) {
  size_t a = 0, b = v->n;
  while (a < b) {
    size_t m = a + (b - a) / 2;
    if ((int64_t)(v->v[m] >> 1) < seq)
      a = m + 1;
    else
      b = m;
  }
  return a;
}

/* Candidates of the driver in the tail (seq > flushed). */
static int drive_tail(qrun *qr, const filt *d) {
  int64_t from = qr->flushed + 1 > qr->lo ? qr->flushed + 1 : qr->lo;
  size_t a = entries_lower(&d->mem, from), b = entries_lower(&d->mem, sat_add(qr->hi, 1));
  return b > a ? drive_entries(qr, d, d->mem.v + a, b - a, 0) : MG_OK;
}

/* Appends to rg (pairs lo, hi, ascending, merged when adjacent) the parts of a..b whose commits
 * (marks) have a timestamp span overlapping the window. */
static int zone_marks(qrun *qr, int64_t a, int64_t b, u64vec *rg) {
  sqlite3_stmt *st = use(qr->c, Q_MARK_ZONES);
  if (!st) return MG_ESTORE;
  sqlite3_bind_int64(st, 1, a);
  int64_t prev = a - 1;
  int r, rc = MG_OK;
  while ((r = sqlite3_step(st)) == SQLITE_ROW) {
    int64_t seq = sqlite3_column_int64(st, 0);
    int64_t mn = sqlite3_column_int64(st, 1), mx = sqlite3_column_int64(st, 2);
    int64_t lo = prev + 1, hi = seq < b ? seq : b;
    prev = seq;
    if (lo <= hi && mx >= qr->ts_a && mn <= qr->ts_b) {
      if (rg->n && (int64_t)rg->v[rg->n - 1] + 1 == lo)
        rg->v[rg->n - 1] = (uint64_t)hi; /* extends the previous range */
      else if ((rc = u64_push(rg, (uint64_t)lo)) || (rc = u64_push(rg, (uint64_t)hi)))
        break;
    }
    if (seq >= b) break;
  }
  if (!rc && r != SQLITE_ROW && r != SQLITE_DONE) rc = db_fail(qr->c->db, r, "zones");
  sqlite3_reset(st);
  return rc;
}

/* Without an equality filter but with a timestamp window: scan only the seq ranges whose
 * timestamps can fall in it: segments by their span, then, inside those and in the tail, the
 * commits (marks) by theirs. */
static int drive_zones(qrun *qr) {
  u64vec segs = {0}, rg = {0};
  int64_t top = qr->hi < qr->flushed ? qr->hi : qr->flushed;
  int r, rc = MG_OK;
  if (qr->lo <= top) {
    sqlite3_stmt *st = use(qr->c, Q_SEG_ZONES);
    if (!st) return MG_ESTORE;
    sqlite3_bind_int64(st, 1, qr->lo);
    sqlite3_bind_int64(st, 2, top);
    sqlite3_bind_int64(st, 3, qr->ts_a);
    sqlite3_bind_int64(st, 4, qr->ts_b);
    while (!rc && (r = sqlite3_step(st)) == SQLITE_ROW) {
      int64_t hi = sqlite3_column_int64(st, 0), lo = sqlite3_column_int64(st, 1);
      if ((rc = u64_push(&segs, (uint64_t)(lo > qr->lo ? lo : qr->lo)))) break;
      rc = u64_push(&segs, (uint64_t)(hi < top ? hi : top));
    }
    if (!rc && r != SQLITE_DONE) rc = db_fail(qr->c->db, r, "segment zones");
    sqlite3_reset(st);
  }
  int64_t tail_lo = qr->flushed + 1 > qr->lo ? qr->flushed + 1 : qr->lo;
  if (!rc && tail_lo <= qr->hi &&
      (!(rc = u64_push(&segs, (uint64_t)tail_lo))))
    rc = u64_push(&segs, (uint64_t)qr->hi);
  for (size_t i = 0; !rc && i + 1 < segs.n; i += 2)
    rc = zone_marks(qr, (int64_t)segs.v[i], (int64_t)segs.v[i + 1], &rg);
  size_t n = rg.n / 2;
  for (size_t k = 0; !rc && k < n && !qr->stop; k++) {
    size_t i = qr->asc ? k : n - 1 - k;
    rc = scan_range(qr, (int64_t)rg.v[2 * i], (int64_t)rg.v[2 * i + 1]);
  }
  free(segs.v);
  free(rg.v);
  return rc;
}

/* Estimated candidates of filter f in lo..hi: its tail entries plus its entry count in the newest
 * overlapping segment times the number of overlapping segments. */
static int estimate(qrun *qr, filt *f, int64_t nseg, int64_t newest) {
  int64_t from = qr->flushed + 1 > qr->lo ? qr->flushed + 1 : qr->lo;
  size_t a = entries_lower(&f->mem, from), b = entries_lower(&f->mem, sat_add(qr->hi, 1));
  f->est = b > a ? (double)(b - a) : 0;
  if (!nseg) return MG_OK;
  sqlite3_stmt *st = use(qr->c, Q_POST_GET);
  if (!st) return MG_ESTORE;
  sqlite3_bind_int64(st, 1, newest);
  sqlite3_bind_int64(st, 2, f->key);
  int r = sqlite3_step(st);
  if (r == SQLITE_ROW) f->est += (double)sqlite3_column_int64(st, 0) * (double)nseg;
  sqlite3_reset(st);
  if (r != SQLITE_ROW && r != SQLITE_DONE) return db_fail(qr->c->db, r, "estimate");
  return MG_OK;
}

static int sq_stmt_query(void *be, const mg_store_query *q, mg_store_stmt_cb cb, void *ud,
                         int *more, int64_t *last_seq, int64_t *snapshot_seq) {
  sq *s = be;
  qrun qr;
  memset(&qr, 0, sizeof qr);
  qr.s = s;
  qr.q = q;
  qr.cb = cb;
  qr.ud = ud;
  qr.asc = q->ascending != 0;
  qr.limit = q->limit == 0 || q->limit > MG_STORE_QUERY_MAX_LIMIT ? MG_STORE_QUERY_MAX_LIMIT
                                                                   : q->limit;
  int64_t snap = 0, id, upto, maxseq;
  int empty = 0;
  conn *c = pool_get(s);
  if (!c) return MG_ESTORE;
  qr.c = c;
  int rc = tail_catch_up(s, c);
  if (rc) goto out;

  /* Resolve the equality filters to keys (a key never stored matches nothing). */
  if (q->agent_key && !empty) {
    if ((rc = lookup_id(c, Q_AGENT_SEL, q->agent_key, -1, 0, &id))) goto out;
    qr.f[qr.nf++] = (filt){KEY(id, K_AGENT), !q->related_agents, {0}, 0};
    empty |= !id;
  }
  if (q->verb_id && !empty) {
    if ((rc = lookup_id(c, Q_VERB_SEL, q->verb_id, -1, 0, &id))) goto out;
    qr.f[qr.nf++] = (filt){KEY(id, K_VERB), 0, {0}, 0};
    empty |= !id;
  }
  if (q->activity_id && !empty) {
    if ((rc = lookup_id(c, Q_ACT_SEL, q->activity_id, -1, 0, &id))) goto out;
    qr.f[qr.nf++] = (filt){KEY(id, K_ACTIVITY), !q->related_activities, {0}, 0};
    empty |= !id;
  }
  if (q->has_registration && !empty) {
    if ((rc = lookup_id(c, Q_REG_SEL, q->registration, 16, 1, &id))) goto out;
    qr.f[qr.nf++] = (filt){KEY(id, K_REGISTRATION), 0, {0}, 0};
    empty |= !id;
  }
  if (q->platform_id > 0 && q->platform_id < ((int64_t)1 << 59))
    qr.f[qr.nf++] = (filt){KEY(q->platform_id, K_PLATFORM), 0, {0}, 0};
  else if (q->platform_id)
    empty = 1;

  /* The tail's entries first, then the database snapshot: every committed seq <= upto has its
   * postings either in these copies or in the segments the snapshot sees. */
  pthread_mutex_lock(&s->t.mu);
  for (size_t i = 0; !rc && !empty && i < qr.nf; i++)
    rc = tail_copy(&s->t, qr.f[i].key, &qr.f[i].mem);
  upto = s->t.upto;
  pthread_mutex_unlock(&s->t.mu);
  if (rc) goto out;
  if ((rc = run(c, Q_BEGIN))) goto out;
  if ((rc = query_int(c, Q_MAX_SEQ, 0, &maxseq)) || (rc = query_int(c, Q_SEG_MAX, 0, &qr.flushed)))
    goto out;
  snap = q->max_seq > 0 ? q->max_seq : (maxseq < upto ? maxseq : upto);
  if (empty) goto out;
  qr.lo = 1;
  qr.hi = snap < maxseq ? snap : maxseq;
  if (q->after_seq > 0) {
    if (qr.asc)
      qr.lo = q->after_seq + 1;
    else if (q->after_seq - 1 < qr.hi)
      qr.hi = q->after_seq - 1;
  }
  if (q->has_since) {
    int64_t lo;
    if ((rc = since_lo(c, q->since_us, &lo))) goto out;
    if (lo > qr.lo) qr.lo = lo;
  }
  if (q->has_until) {
    int64_t hi;
    if ((rc = until_hi(c, q->until_us, &hi))) goto out;
    if (hi < qr.hi) qr.hi = hi;
  }
  qr.ts_a = q->has_ts_since ? q->ts_since_us : INT64_MIN;
  qr.ts_b = INT64_MAX;
  if (q->has_ts_until) {
    if (q->ts_until_us == INT64_MIN) goto out;
    qr.ts_b = q->ts_until_us - 1;
  }
  if (qr.lo > qr.hi || qr.ts_a > qr.ts_b) goto out;

  if (!qr.nf) {
    rc = q->has_ts_since || q->has_ts_until ? drive_zones(&qr) : scan_range(&qr, qr.lo, qr.hi);
    goto out;
  }
  /* Drive by the filter with the fewest candidates; check the others per row. */
  int64_t nseg = 0, newest = 0;
  {
    int64_t top = qr.hi < qr.flushed ? qr.hi : qr.flushed;
    sqlite3_stmt *st = use(c, Q_SEG_COUNT);
    if (!st) {
      rc = MG_ESTORE;
      goto out;
    }
    sqlite3_bind_int64(st, 1, qr.lo);
    sqlite3_bind_int64(st, 2, top);
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW) {
      nseg = sqlite3_column_int64(st, 0);
      newest = sqlite3_column_int64(st, 1);
    }
    sqlite3_reset(st);
    if (r != SQLITE_ROW) {
      rc = db_fail(c->db, r, "segment count");
      goto out;
    }
  }
  size_t best = 0;
  for (size_t i = 0; i < qr.nf; i++) {
    if ((rc = estimate(&qr, &qr.f[i], nseg, newest))) goto out;
    if (qr.f[i].est < qr.f[best].est) best = i;
  }
  if (qr.asc) {
    rc = drive_segments(&qr, &qr.f[best]);
    if (!rc && !qr.stop) rc = drive_tail(&qr, &qr.f[best]);
  } else {
    rc = drive_tail(&qr, &qr.f[best]);
    if (!rc && !qr.stop) rc = drive_segments(&qr, &qr.f[best]);
  }
out:
  pool_put(s, c); /* ends the read transaction */
  for (size_t i = 0; i < qr.nf; i++) free(qr.f[i].mem.v);
  free(qr.keys.v);
  free(qr.seg.v);
  if (more) *more = qr.more;
  if (last_seq) *last_seq = qr.last;
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

/* Credential and setting writes go through the governance connection: they are governance
 * changes, may be made inside a caller's mg_store_tx together with their audit record, and must
 * never wait for the statements writer (which a transaction holding the file's write lock would
 * deadlock against). */
static int gov_prepare(sq *s, int q, sqlite3 **db, sqlite3_stmt **st) {
  *st = NULL;
  pthread_mutex_lock(&s->gov_mu);
  int rc = gov_open(s);
  if (!rc && sqlite3_prepare_v2(s->gov, SQL[q], -1, st, NULL) != SQLITE_OK)
    rc = db_fail(s->gov, sqlite3_errcode(s->gov), "prepare");
  if (rc) pthread_mutex_unlock(&s->gov_mu);
  *db = s->gov;
  return rc;
}

static void gov_done(sq *s, sqlite3_stmt *st) {
  sqlite3_finalize(st);
  pthread_mutex_unlock(&s->gov_mu);
}

static int sq_credential_create(void *be, const mg_store_credential *cr, int64_t *out_id) {
  sq *s = be;
  if (!field_ok(cr->key, sizeof cr->key) || strnlen(cr->name, sizeof cr->name) == sizeof cr->name ||
      !field_ok(cr->secret_hash, sizeof cr->secret_hash))
    return MG_EINVAL;
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  int rc = gov_prepare(s, Q_CRED_INS, &db, &st);
  if (rc) return rc;
  sqlite3_bind_int64(st, 1, cr->platform_id);
  sqlite3_bind_text(st, 2, cr->key, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 3, cr->name, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 4, cr->secret_hash, -1, SQLITE_STATIC);
  sqlite3_bind_int(st, 5, cr->enabled ? 1 : 0);
  sqlite3_bind_int64(st, 6, cr->created_us ? cr->created_us : mg_time_now_us());
  int r = sqlite3_step(st);
  if (r == SQLITE_CONSTRAINT_UNIQUE || r == SQLITE_CONSTRAINT_PRIMARYKEY) {
    rc = MG_EEXISTS;
  } else if (r != SQLITE_DONE) {
    rc = db_fail(db, r, "credential create");
  } else if (out_id) {
    *out_id = sqlite3_last_insert_rowid(db);
  }
  gov_done(s, st);
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
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  int rc = gov_prepare(s, Q_CRED_SET, &db, &st);
  if (rc) return rc;
  sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
  sqlite3_bind_int(st, 2, enabled ? 1 : 0);
  int r = sqlite3_step(st);
  if (r != SQLITE_DONE)
    rc = db_fail(db, r, "credential set");
  else if (sqlite3_changes(db) == 0)
    rc = MG_ENOTFOUND;
  gov_done(s, st);
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
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  int rc = gov_prepare(s, Q_SET_SET, &db, &st);
  if (rc) return rc;
  sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
  int r = sqlite3_step(st);
  if (r != SQLITE_DONE) rc = db_fail(db, r, "setting set");
  gov_done(s, st);
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
