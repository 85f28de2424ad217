/* store/store_backup.h — consistent online snapshots of a store, and where its file lives.
 *
 * A backup is taken with SQLite's online backup API from a read transaction on its own
 * connection, so it is one consistent snapshot (statements, their segments and the governance
 * tables as of one commit) while the server keeps writing. The key directory is NOT part of the
 * snapshot (keys stay outside the database): back it up separately. */
#ifndef MG_STORE_STORE_BACKUP_H
#define MG_STORE_STORE_BACKUP_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* The file path of a SQLite store into out. MG_ENOTSUP on other backends. */
int mg_store_file_path(mg_store *s, char *out, size_t size);

/* Progress of a backup or restore: pages done of total. Return non-zero to cancel. */
typedef int (*mg_store_progress_cb)(void *ud, int64_t done, int64_t total);

/* Writes a snapshot of the open store s to the new file out_path (which must not exist:
 * MG_EEXISTS), via out_path.tmp renamed into place once complete and synced. progress may be
 * NULL. */
int mg_store_backup(mg_store *s, const char *out_path, mg_store_progress_cb progress, void *ud);

/* Copies the snapshot file in_path to the store file dest_path (not open by anyone), replacing
 * it when replace is set (else MG_EEXISTS if it exists), after checking in_path is a SQLite
 * database that passes PRAGMA quick_check (MG_ECORRUPT otherwise). Written to dest_path.tmp and
 * renamed into place; the destination's stale -wal/-shm files are removed first. */
int mg_store_restore_file(const char *in_path, const char *dest_path, int replace,
                          mg_store_progress_cb progress, void *ud);

#endif
