/* store/sqlite_backup.c — store_backup.h for the SQLite backend (online backup API). */
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/err.h"
#include "core/log.h"
#include "store/store_backup.h"
#include "store/store_int.h"

#define STEP_PAGES 1024

static int map(sqlite3 *db, int rc, const char *what) {
  if (rc == SQLITE_OK || rc == SQLITE_DONE || rc == SQLITE_ROW) return MG_OK;
  mg_log(MG_LOG_ERROR, "store.backup.error", "op", what, "msg", db ? sqlite3_errmsg(db) : "?",
         "code", sqlite3_errstr(rc), NULL);
  switch (rc & 0xff) {
  case SQLITE_NOMEM: return MG_ENOMEM;
  case SQLITE_BUSY:
  case SQLITE_LOCKED: return MG_EBUSY;
  case SQLITE_CORRUPT:
  case SQLITE_NOTADB: return MG_ECORRUPT;
  case SQLITE_IOERR:
  case SQLITE_FULL:
  case SQLITE_CANTOPEN:
  case SQLITE_READONLY: return MG_EIO;
  default: return MG_ESTORE;
  }
}

int mg_store_file_path(mg_store *s, char *out, size_t size) {
  sqlite3 *db = NULL;
  int rc = mg_store_sqlite_gov_acquire(s, &db);
  if (rc) return rc;
  const char *p = sqlite3_db_filename(db, "main");
  int n = snprintf(out, size, "%s", p ? p : "");
  mg_store_sqlite_gov_release(s);
  if (n <= 0) return MG_ESTORE;
  return (size_t)n >= size ? MG_ETOOBIG : MG_OK;
}

static int path_with(char *out, size_t size, const char *path, const char *suffix) {
  int n = snprintf(out, size, "%s%s", path, suffix);
  return n < 0 || (size_t)n >= size ? MG_ETOOBIG : MG_OK;
}

static int fsync_path(const char *path, int dir) {
  int fd = open(path, (dir ? O_RDONLY | O_DIRECTORY : O_RDWR) | O_CLOEXEC);
  if (fd < 0) return MG_EIO;
  int rc = fsync(fd) ? MG_EIO : MG_OK;
  close(fd);
  return rc;
}

static int fsync_parent(const char *path) {
  char dir[4096];
  if (path_with(dir, sizeof dir, path, "")) return MG_ETOOBIG;
  char *slash = strrchr(dir, '/');
  if (!slash) return fsync_path(".", 1);
  if (slash == dir) slash[1] = '\0';
  else *slash = '\0';
  return fsync_path(dir, 1);
}

/* Copies every page of src into the new file dst_path in one read snapshot of src. */
static int copy_db(sqlite3 *src, const char *dst_path, mg_store_progress_cb progress, void *ud) {
  sqlite3 *dst = NULL;
  sqlite3_backup *b = NULL;
  int rc = map(NULL, sqlite3_open_v2(dst_path, &dst,
                                     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                                     NULL),
               "backup open destination");
  /* A read transaction pins the snapshot: the copy is consistent while writers go on (WAL). */
  if (!rc) rc = map(src, sqlite3_exec(src, "BEGIN; SELECT count(*) FROM sqlite_schema;", NULL, NULL, NULL),
                    "backup snapshot");
  if (!rc) {
    b = sqlite3_backup_init(dst, "main", src, "main");
    if (!b) rc = map(dst, sqlite3_errcode(dst), "backup init");
  }
  int r = SQLITE_OK;
  while (!rc) {
    r = sqlite3_backup_step(b, STEP_PAGES);
    if (r == SQLITE_DONE) break;
    if (r == SQLITE_BUSY || r == SQLITE_LOCKED) {
      usleep(20000);
      continue;
    }
    if (r != SQLITE_OK) {
      rc = map(dst, r, "backup step");
      break;
    }
    int total = sqlite3_backup_pagecount(b);
    if (progress && progress(ud, total - sqlite3_backup_remaining(b), total)) rc = MG_EBUSY;
  }
  if (b) {
    int total = sqlite3_backup_pagecount(b);
    int f = sqlite3_backup_finish(b);
    if (!rc && f != SQLITE_OK) rc = map(dst, f, "backup finish");
    if (!rc && progress) progress(ud, total, total);
  }
  if (!sqlite3_get_autocommit(src)) sqlite3_exec(src, "ROLLBACK", NULL, NULL, NULL);
  /* The copy keeps the source's WAL flag; make the file self-contained (no -wal beside it). */
  if (!rc) rc = map(dst, sqlite3_exec(dst, "PRAGMA journal_mode = DELETE", NULL, NULL, NULL),
                    "backup journal mode");
  int c = sqlite3_close(dst);
  if (!rc && c != SQLITE_OK) rc = MG_EIO;
  if (!rc) rc = fsync_path(dst_path, 0);
  return rc;
}

static int exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}

int mg_store_backup(mg_store *s, const char *out_path, mg_store_progress_cb progress, void *ud) {
  if (!s || !out_path || !*out_path) return MG_EINVAL;
  char src_path[4096], tmp[4200];
  int rc = mg_store_file_path(s, src_path, sizeof src_path);
  if (rc) return rc;
  if (exists(out_path)) return MG_EEXISTS;
  if ((rc = path_with(tmp, sizeof tmp, out_path, ".tmp"))) return rc;
  unlink(tmp);
  sqlite3 *src = NULL;
  rc = map(NULL, sqlite3_open_v2(src_path, &src, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL),
           "backup open source");
  if (!rc) {
    sqlite3_busy_timeout(src, 10000);
    rc = copy_db(src, tmp, progress, ud);
  }
  sqlite3_close(src);
  if (!rc && rename(tmp, out_path) != 0) rc = MG_EIO;
  if (!rc) rc = fsync_parent(out_path);
  if (rc) unlink(tmp);
  return rc;
}

/* MG_OK when path is a SQLite database passing quick_check and carrying a schema version. */
static int check_snapshot(sqlite3 *db) {
  sqlite3_stmt *st = NULL;
  int rc = map(db, sqlite3_prepare_v2(db, "PRAGMA quick_check", -1, &st, NULL), "restore check");
  if (!rc) {
    int r = sqlite3_step(st);
    const unsigned char *t = r == SQLITE_ROW ? sqlite3_column_text(st, 0) : NULL;
    if (!t || strcmp((const char *)t, "ok")) rc = r == SQLITE_ROW ? MG_ECORRUPT : map(db, r, "quick_check");
  }
  sqlite3_finalize(st);
  st = NULL;
  if (!rc) {
    rc = map(db, sqlite3_prepare_v2(db, "SELECT max(number) FROM schema_migrations", -1, &st, NULL),
             "restore schema");
    if (!rc && (sqlite3_step(st) != SQLITE_ROW || sqlite3_column_int64(st, 0) < 1)) rc = MG_ECORRUPT;
    sqlite3_finalize(st);
  }
  return rc;
}

int mg_store_restore_file(const char *in_path, const char *dest_path, int replace,
                          mg_store_progress_cb progress, void *ud) {
  if (!in_path || !dest_path || !*dest_path) return MG_EINVAL;
  char tmp[4200], wal[4200], shm[4200], lock[4200];
  int rc = path_with(tmp, sizeof tmp, dest_path, ".tmp");
  if (!rc) rc = path_with(wal, sizeof wal, dest_path, "-wal");
  if (!rc) rc = path_with(shm, sizeof shm, dest_path, "-shm");
  if (!rc) rc = path_with(lock, sizeof lock, dest_path, "-mgwriter");
  if (rc) return rc;
  if (!exists(in_path)) return MG_ENOTFOUND;
  if (exists(dest_path) && !replace) return MG_EEXISTS;
  /* A server ingesting into the destination holds its writer lock: refuse to pull the file
   * from under it. (An idle server holds none: stop servers before restoring.) */
  int lfd = open(lock, O_RDWR | O_CLOEXEC);
  if (lfd >= 0) {
    int busy = flock(lfd, LOCK_EX | LOCK_NB) != 0;
    close(lfd);
    if (busy) return MG_EBUSY;
  }
  sqlite3 *src = NULL;
  rc = map(NULL, sqlite3_open_v2(in_path, &src, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL),
           "restore open snapshot");
  if (!rc) rc = check_snapshot(src);
  unlink(tmp);
  if (!rc) rc = copy_db(src, tmp, progress, ud);
  sqlite3_close(src);
  if (!rc) {
    if ((unlink(wal) && errno != ENOENT) || (unlink(shm) && errno != ENOENT)) rc = MG_EIO;
  }
  if (!rc && rename(tmp, dest_path) != 0) rc = MG_EIO;
  if (!rc) rc = fsync_parent(dest_path);
  if (rc) unlink(tmp);
  return rc;
}
