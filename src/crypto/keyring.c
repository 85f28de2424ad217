#include "crypto/keyring.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/err.h"
#include "core/log.h"
#include "crypto/crypto_int.h"

#define MAX_KEYS 256

typedef struct key {
  uint32_t id;
  uint8_t k[32]; /* field master key, or Ed25519 seed */
  uint8_t pk[32]; /* signing keys: public key */
  uint8_t sk[64]; /* signing keys: libsodium secret key (seed || pk) */
} key;

typedef struct ring {
  char dir[PATH_MAX];
  key field[MAX_KEYS];
  size_t n_field;
  key sign[MAX_KEYS];
  size_t n_sign;
} ring;

static pthread_rwlock_t g_lock = PTHREAD_RWLOCK_INITIALIZER;
static ring *g_ring; /* NULL until mg_keyring_init; guarded by g_lock */
static pthread_mutex_t g_create_mu = PTHREAD_MUTEX_INITIALIZER; /* flock is per open file */

static void ring_free(ring *r) {
  if (!r) return;
  sodium_memzero(r, sizeof *r);
  free(r);
}

static int fail(int rc, const char *path, const char *msg) {
  mg_log(MG_LOG_ERROR, "keys.error", "path", path, "msg", msg, NULL);
  return rc;
}

int mg_keyring_dir_for_store(const char *store_url, char *out, size_t size) {
  if (!store_url || !out || !size) return MG_EINVAL;
  const char *path = store_url;
  if (!strncmp(path, "sqlite:", 7)) path += 7;
  else if (strstr(path, "://")) return MG_ENOTSUP;
  if (!*path) return MG_EINVAL;
  int n = snprintf(out, size, "%s.keys", path);
  return n < 0 || (size_t)n >= size ? MG_ETOOBIG : MG_OK;
}

/* Refuses anything group/world accessible or owned by someone else (GB/T 39786: keys protected). */
static int check_mode(const struct stat *st, const char *path, int want_dir) {
  if (want_dir ? !S_ISDIR(st->st_mode) : !S_ISREG(st->st_mode))
    return fail(MG_ECRYPTO, path, want_dir ? "not a directory" : "not a regular file");
  if (st->st_uid != geteuid()) return fail(MG_EFORBIDDEN, path, "owned by another user");
  if (st->st_mode & 077) {
    char m[96];
    snprintf(m, sizeof m, "permissions %03o are too open (need %s)", (unsigned)(st->st_mode & 0777),
             want_dir ? "0700" : "0600");
    return fail(MG_EFORBIDDEN, path, m);
  }
  return MG_OK;
}

static int sync_dir(const char *dir) {
  int fd = open(dir, O_RDONLY | O_DIRECTORY);
  if (fd < 0) return MG_EIO;
  int rc = fsync(fd) ? MG_EIO : MG_OK;
  close(fd);
  return rc;
}

/* Writes a new key file (never overwrites one) holding 32 random bytes as hex. */
static int write_key(const char *dir, const char *kind, uint32_t id) {
  char path[PATH_MAX + 32];
  int n = snprintf(path, sizeof path, "%s/%s-%08u.key", dir, kind, id);
  if (n < 0 || (size_t)n >= sizeof path) return MG_ETOOBIG;
  uint8_t k[32];
  char hex[66];
  randombytes_buf(k, sizeof k);
  sodium_bin2hex(hex, sizeof hex, k, sizeof k);
  sodium_memzero(k, sizeof k);
  hex[64] = '\n';
  hex[65] = '\0';
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  int rc = MG_OK;
  if (fd < 0) {
    rc = fail(errno == EEXIST ? MG_EEXISTS : MG_EIO, path, strerror(errno));
    goto out;
  }
  if (fchmod(fd, 0600) || write(fd, hex, 65) != 65 || fsync(fd)) rc = fail(MG_EIO, path, strerror(errno));
  if (close(fd) && !rc) rc = MG_EIO;
  if (rc) unlink(path);
  if (!rc) rc = sync_dir(dir);
  if (!rc) mg_log(MG_LOG_INFO, "keys.generated", "path", path, NULL);
out:
  sodium_memzero(hex, sizeof hex);
  return rc;
}

static int read_key(const char *path, uint8_t k[32]) {
  int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return fail(MG_EIO, path, strerror(errno));
  struct stat st;
  int rc = fstat(fd, &st) ? MG_EIO : check_mode(&st, path, 0);
  char buf[130];
  ssize_t got = 0;
  if (!rc) {
    got = read(fd, buf, sizeof buf - 1);
    if (got < 64) rc = fail(MG_ECRYPTO, path, "key file too short");
  }
  close(fd);
  size_t bin_len = 0;
  const char *end = NULL;
  if (!rc) {
    buf[got] = '\0';
    if (sodium_hex2bin(k, 32, buf, (size_t)got, NULL, &bin_len, &end) || bin_len != 32 ||
        (*end && strcmp(end, "\n") != 0))
      rc = fail(MG_ECRYPTO, path, "key file is not 64 hex digits");
  }
  sodium_memzero(buf, sizeof buf);
  return rc;
}

static int cmp_key(const void *a, const void *b) {
  uint32_t x = ((const key *)a)->id, y = ((const key *)b)->id;
  return x < y ? -1 : x > y;
}

/* Parses "<kind>-NNNNNNNN.key"; returns 1 with *id when it matches. */
static int key_name(const char *name, const char *kind, uint32_t *id) {
  size_t kl = strlen(kind);
  if (strncmp(name, kind, kl) || name[kl] != '-' || strlen(name) != kl + 1 + 8 + 4) return 0;
  if (strcmp(name + kl + 9, ".key")) return 0;
  uint32_t v = 0;
  for (size_t i = kl + 1; i < kl + 9; i++) {
    if (name[i] < '0' || name[i] > '9') return 0;
    v = v * 10 + (uint32_t)(name[i] - '0');
  }
  if (!v) return 0;
  *id = v;
  return 1;
}

static int load(const char *dir, ring *r) {
  DIR *d = opendir(dir);
  if (!d) return fail(MG_EIO, dir, strerror(errno));
  int rc = MG_OK;
  struct dirent *e;
  while (!rc && (e = readdir(d))) {
    uint32_t id = 0;
    int is_sign = 0;
    if (key_name(e->d_name, "field", &id)) is_sign = 0;
    else if (key_name(e->d_name, "sign", &id)) is_sign = 1;
    else continue;
    size_t *n = is_sign ? &r->n_sign : &r->n_field;
    if (*n >= MAX_KEYS) {
      rc = fail(MG_ECRYPTO, dir, "too many keys");
      break;
    }
    key *k = is_sign ? &r->sign[*n] : &r->field[*n];
    char path[PATH_MAX + 300];
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    k->id = id;
    if ((rc = read_key(path, k->k))) break;
    if (is_sign) crypto_sign_seed_keypair(k->pk, k->sk, k->k);
    (*n)++;
  }
  closedir(d);
  if (rc) return rc;
  if (r->n_field > 1) qsort(r->field, r->n_field, sizeof(key), cmp_key);
  if (r->n_sign > 1) qsort(r->sign, r->n_sign, sizeof(key), cmp_key);
  return MG_OK;
}

int mg_keyring_init(const char *dir, int flags) {
  if (!dir || !*dir || strlen(dir) >= PATH_MAX) return MG_EINVAL;
  if (sodium_init() < 0) return MG_ECRYPTO;
  ring *r = calloc(1, sizeof *r);
  if (!r) return MG_ENOMEM;
  snprintf(r->dir, sizeof r->dir, "%s", dir);
  int rc = MG_OK, dfd = -1, locked = 0;
  struct stat st;
  if (stat(dir, &st) != 0) {
    if (errno != ENOENT || !(flags & MG_KEYRING_CREATE)) {
      rc = fail(MG_ECRYPTO, dir, "key directory missing");
      goto out;
    }
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
      rc = fail(MG_EIO, dir, strerror(errno));
      goto out;
    }
    if (chmod(dir, 0700) != 0 || stat(dir, &st) != 0) {
      rc = fail(MG_EIO, dir, strerror(errno));
      goto out;
    }
  }
  if ((rc = check_mode(&st, dir, 1))) goto out;
  /* Processes starting together must not both generate: an exclusive lock on the directory
   * serialises load-or-generate (readers of a complete directory take it only briefly). */
  pthread_mutex_lock(&g_create_mu);
  locked = 1;
  dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0 || flock(dfd, LOCK_EX) != 0) {
    rc = fail(MG_EIO, dir, strerror(errno));
    goto out;
  }
  if ((rc = load(dir, r))) goto out;
  if (!r->n_field && !r->n_sign && (flags & MG_KEYRING_CREATE)) {
    /* first start: generate, then read back through the same checks */
    if ((rc = write_key(dir, "field", 1)) || (rc = write_key(dir, "sign", 1))) goto out;
    if ((rc = load(dir, r))) goto out;
  }
  if (!r->n_field || !r->n_sign) {
    rc = fail(MG_ECRYPTO, dir, !r->n_field ? "key missing: no field-*.key" : "key missing: no sign-*.key");
    goto out;
  }
  pthread_rwlock_wrlock(&g_lock);
  ring *old = g_ring;
  g_ring = r;
  pthread_rwlock_unlock(&g_lock);
  ring_free(old);
  r = NULL;
out:
  if (dfd >= 0) close(dfd); /* releases the lock */
  if (locked) pthread_mutex_unlock(&g_create_mu);
  ring_free(r);
  return rc;
}

void mg_keyring_shutdown(void) {
  pthread_rwlock_wrlock(&g_lock);
  ring *old = g_ring;
  g_ring = NULL;
  pthread_rwlock_unlock(&g_lock);
  ring_free(old);
}

int mg_keyring_ready(void) {
  pthread_rwlock_rdlock(&g_lock);
  int ok = g_ring != NULL;
  pthread_rwlock_unlock(&g_lock);
  return ok;
}

int mg_keyring_dir(char *out, size_t size) {
  pthread_rwlock_rdlock(&g_lock);
  int rc = MG_ECRYPTO;
  if (g_ring) {
    int n = snprintf(out, size, "%s", g_ring->dir);
    rc = n < 0 || (size_t)n >= size ? MG_ETOOBIG : MG_OK;
  }
  pthread_rwlock_unlock(&g_lock);
  return rc;
}

int mg_keyring_reload(void) {
  char dir[PATH_MAX];
  int rc = mg_keyring_dir(dir, sizeof dir);
  return rc ? rc : mg_keyring_init(dir, 0);
}

int mg_keyring_rotate(int sign, uint32_t *new_id) {
  char dir[PATH_MAX];
  uint32_t id = 0;
  pthread_rwlock_rdlock(&g_lock);
  int rc = MG_ECRYPTO;
  if (g_ring) {
    size_t n = sign ? g_ring->n_sign : g_ring->n_field;
    const key *k = sign ? g_ring->sign : g_ring->field;
    id = n ? k[n - 1].id + 1 : 1;
    snprintf(dir, sizeof dir, "%s", g_ring->dir);
    rc = n >= MAX_KEYS || id > 99999999 ? MG_ETOOBIG : MG_OK;
  }
  pthread_rwlock_unlock(&g_lock);
  if (rc) return rc;
  if ((rc = write_key(dir, sign ? "sign" : "field", id))) return rc;
  if ((rc = mg_keyring_init(dir, 0))) return rc;
  mg_log(MG_LOG_INFO, "keys.rotated", "kind", sign ? "sign" : "field", "dir", dir, NULL);
  if (new_id) *new_id = id;
  return MG_OK;
}

int mg_keyring_status_get(mg_keyring_status *out) {
  memset(out, 0, sizeof *out);
  pthread_rwlock_rdlock(&g_lock);
  int rc = MG_ECRYPTO;
  if (g_ring) {
    out->n_field = (uint32_t)g_ring->n_field;
    out->n_sign = (uint32_t)g_ring->n_sign;
    out->field_current = g_ring->field[g_ring->n_field - 1].id;
    const key *s = &g_ring->sign[g_ring->n_sign - 1];
    out->sign_current = s->id;
    sodium_bin2hex(out->sign_public_hex, sizeof out->sign_public_hex, s->pk, 32);
    rc = MG_OK;
  }
  pthread_rwlock_unlock(&g_lock);
  return rc;
}

static const key *find(const key *v, size_t n, uint32_t id) {
  if (!n) return NULL;
  if (!id) return &v[n - 1];
  for (size_t i = 0; i < n; i++)
    if (v[i].id == id) return &v[i];
  return NULL;
}

int mg_keyring_field_key(uint32_t want, uint32_t *id, uint8_t k[32]) {
  pthread_rwlock_rdlock(&g_lock);
  int rc = MG_ECRYPTO;
  if (g_ring) {
    const key *f = find(g_ring->field, g_ring->n_field, want);
    rc = MG_ENOTFOUND;
    if (f) {
      memcpy(k, f->k, 32);
      *id = f->id;
      rc = MG_OK;
    }
  }
  pthread_rwlock_unlock(&g_lock);
  return rc;
}

int mg_keyring_sign(const void *msg, size_t n, uint32_t *key_id, uint8_t sig[64]) {
  pthread_rwlock_rdlock(&g_lock);
  int rc = MG_ECRYPTO;
  if (g_ring) {
    const key *s = &g_ring->sign[g_ring->n_sign - 1];
    rc = crypto_sign_detached(sig, NULL, msg, n, s->sk) ? MG_ECRYPTO : MG_OK;
    *key_id = s->id;
  }
  pthread_rwlock_unlock(&g_lock);
  return rc;
}

int mg_keyring_sign_public(uint32_t key_id, uint8_t pk[32]) {
  pthread_rwlock_rdlock(&g_lock);
  int rc = MG_ECRYPTO;
  if (g_ring) {
    const key *s = key_id ? find(g_ring->sign, g_ring->n_sign, key_id) : NULL;
    rc = MG_ENOTFOUND;
    if (s) {
      memcpy(pk, s->pk, 32);
      rc = MG_OK;
    }
  }
  pthread_rwlock_unlock(&g_lock);
  return rc;
}

int mg_keyring_verify(uint32_t key_id, const void *msg, size_t n, const uint8_t sig[64]) {
  uint8_t pk[32];
  int rc = mg_keyring_sign_public(key_id, pk);
  if (rc) return rc;
  return crypto_sign_verify_detached(sig, msg, n, pk) ? MG_ECORRUPT : MG_OK;
}
