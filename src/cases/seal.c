/* cases/seal.c — decision tags through the crypto unit's record MAC. */
#include "cases/seal.h"

#include <pthread.h>
#include <string.h>

#include "core/err.h"
#include "crypto/keyring.h"
#include "store/store_backup.h"

static pthread_mutex_t g_keys_mu = PTHREAD_MUTEX_INITIALIZER;

/* Loads the store's default key directory unless a keyring is loaded (serve, or the audit log,
 * usually did already). */
static int keys_ready(mg_store *s) {
  if (mg_keyring_ready()) return MG_OK;
  pthread_mutex_lock(&g_keys_mu);
  int rc = MG_OK;
  if (!mg_keyring_ready()) {
    char path[4096], dir[4200];
    rc = mg_store_file_path(s, path, sizeof path);
    if (!rc) rc = mg_keyring_dir_for_store(path, dir, sizeof dir);
    if (!rc) rc = mg_keyring_init(dir, MG_KEYRING_CREATE);
  }
  pthread_mutex_unlock(&g_keys_mu);
  return rc;
}

int mg_cases_seal(mg_store *s, const char *purpose, const void *data, size_t len, char *out,
                  size_t size) {
  if (!s || !purpose || (!data && len) || !out || size < MG_CASES_TAG_SIZE) return MG_EINVAL;
  int rc = keys_ready(s);
  if (rc) return rc;
  return mg_crypto_mac(purpose, data, len, out);
}

int mg_cases_seal_check(mg_store *s, const char *purpose, const void *data, size_t len,
                        const char *tag) {
  if (!s || !purpose || (!data && len) || !tag) return MG_EINVAL;
  int rc = keys_ready(s);
  if (rc) return rc;
  rc = mg_crypto_mac_verify(purpose, data, len, tag);
  return rc == MG_EINVAL ? MG_ECORRUPT : rc; /* not even a tag: the row was tampered with */
}
