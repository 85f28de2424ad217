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
#include "crypto/sm2.h"

#define MAX_KEYS 256

/* Kinds of key file, by name prefix: field-, sign- (Ed25519, verify only), sm2-. */
enum { K_FIELD, K_ED25519, K_SM2, K_KINDS };
static const char *const k_prefix[K_KINDS] = {"field", "sign", "sm2"};

typedef struct key {
  uint32_t id;
  uint8_t k[32];  /* field master key, Ed25519 seed or SM2 private scalar */
  uint8_t pk[65]; /* signing keys: public key (Ed25519: 32 bytes; SM2: 04 || x || y) */
} key;

typedef struct ring {
  char dir[PATH_MAX];
  key keys[K_KINDS][MAX_KEYS]; /* each kind ascending by id: the last is current */
  size_t n[K_KINDS];
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

/* Writes a new key file (never overwrites one) holding 32 random bytes as hex: a field master
 * key, or an SM2 private scalar (drawn by OpenSSL so that it lies in [1, n-2]). */
static int write_key(const char *dir, int kind, uint32_t id) {
  char path[PATH_MAX + 32];
  int n = snprintf(path, sizeof path, "%s/%s-%08u.key", dir, k_prefix[kind], id);
  if (n < 0 || (size_t)n >= sizeof path) return MG_ETOOBIG;
  uint8_t k[32];
  char hex[66];
  if (kind == K_SM2) {
    if (mg_sm2_keygen(k)) {
      sodium_memzero(k, sizeof k);
      return fail(MG_ECRYPTO, path, "SM2 key generation failed");
    }
  } else {
    randombytes_buf(k, sizeof k);
  }
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
    int kind = 0;
    while (kind < K_KINDS && !key_name(e->d_name, k_prefix[kind], &id)) kind++;
    if (kind == K_KINDS) continue;
    if (r->n[kind] >= MAX_KEYS) {
      rc = fail(MG_ECRYPTO, dir, "too many keys");
      break;
    }
    key *k = &r->keys[kind][r->n[kind]];
    char path[PATH_MAX + 300];
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    k->id = id;
    if ((rc = read_key(path, k->k))) break;
    if (kind == K_ED25519) {
      uint8_t sk[64];
      crypto_sign_seed_keypair(k->pk, sk, k->k);
      sodium_memzero(sk, sizeof sk);
    } else if (kind == K_SM2 && mg_sm2_public(k->k, k->pk)) {
      rc = fail(MG_ECRYPTO, path, "not a valid SM2 private key (0 or not below the order n-1)");
      break;
    }
    r->n[kind]++;
  }
  closedir(d);
  if (rc) return rc;
  for (int kind = 0; kind < K_KINDS; kind++)
    if (r->n[kind] > 1) qsort(r->keys[kind], r->n[kind], sizeof(key), cmp_key);
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
  int none = !r->n[K_FIELD] && !r->n[K_ED25519] && !r->n[K_SM2];
  if (none && (flags & MG_KEYRING_CREATE)) {
    /* first start: generate, then read back through the same checks */
    if ((rc = write_key(dir, K_FIELD, 1)) || (rc = write_key(dir, K_SM2, 1))) goto out;
    memset(r->n, 0, sizeof r->n);
    if ((rc = load(dir, r))) goto out;
  } else if (r->n[K_FIELD] && r->n[K_ED25519] && !r->n[K_SM2] && (flags & MG_KEYRING_CREATE)) {
    /* a directory from before SM2 (Ed25519 checkpoints): add the first SM2 key; the Ed25519
     * keys stay to verify the old checkpoints */
    if ((rc = write_key(dir, K_SM2, 1))) goto out;
    mg_log(MG_LOG_INFO, "keys.upgraded", "path", dir, "msg", "SM2 signing key added", NULL);
    memset(r->n, 0, sizeof r->n);
    if ((rc = load(dir, r))) goto out;
  }
  /* Without MG_KEYRING_CREATE a pre-SM2 directory still loads (verification of its Ed25519
   * checkpoints); signing then fails until `keys init` or `serve` adds the SM2 key. */
  if (!r->n[K_FIELD] || (!r->n[K_SM2] && !r->n[K_ED25519])) {
    rc = fail(MG_ECRYPTO, dir, !r->n[K_FIELD] ? "key missing: no field-*.key" : "key missing: no sm2-*.key");
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
    int kind = sign ? K_SM2 : K_FIELD;
    size_t n = g_ring->n[kind];
    const key *k = g_ring->keys[kind];
    id = n ? k[n - 1].id + 1 : 1;
    snprintf(dir, sizeof dir, "%s", g_ring->dir);
    rc = n >= MAX_KEYS || id > 99999999 ? MG_ETOOBIG : MG_OK;
  }
  pthread_rwlock_unlock(&g_lock);
  if (rc) return rc;
  if ((rc = write_key(dir, sign ? K_SM2 : K_FIELD, id))) return rc;
  if ((rc = mg_keyring_init(dir, 0))) return rc;
  mg_log(MG_LOG_INFO, "keys.rotated", "kind", sign ? "sm2" : "field", "dir", dir, NULL);
  if (new_id) *new_id = id;
  return MG_OK;
}

int mg_keyring_status_get(mg_keyring_status *out) {
  memset(out, 0, sizeof *out);
  pthread_rwlock_rdlock(&g_lock);
  int rc = MG_ECRYPTO;
  if (g_ring) {
    out->n_field = (uint32_t)g_ring->n[K_FIELD];
    out->n_sign = (uint32_t)g_ring->n[K_SM2];
    out->n_ed25519 = (uint32_t)g_ring->n[K_ED25519];
    out->field_current = g_ring->keys[K_FIELD][g_ring->n[K_FIELD] - 1].id;
    if (g_ring->n[K_SM2]) {
      const key *s = &g_ring->keys[K_SM2][g_ring->n[K_SM2] - 1];
      out->sign_current = s->id;
      sodium_bin2hex(out->sign_public_hex, sizeof out->sign_public_hex, s->pk, MG_SM2_PUB_LEN);
    }
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
    const key *f = find(g_ring->keys[K_FIELD], g_ring->n[K_FIELD], want);
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

int mg_keyring_sm2_sign(const void *msg, size_t n, uint32_t *key_id, uint8_t sig[64]) {
  uint8_t d[MG_SM2_PRIV_LEN], pk[MG_SM2_PUB_LEN];
  pthread_rwlock_rdlock(&g_lock);
  int rc = MG_ECRYPTO;
  if (g_ring && g_ring->n[K_SM2]) {
    const key *s = &g_ring->keys[K_SM2][g_ring->n[K_SM2] - 1];
    memcpy(d, s->k, sizeof d);
    memcpy(pk, s->pk, sizeof pk);
    *key_id = s->id;
    rc = MG_OK;
  } else if (g_ring) {
    mg_log(MG_LOG_ERROR, "keys.error", "path", g_ring->dir, "msg",
           "no sm2-*.key to sign with: run `moocguard keys init` (or start serve) once", NULL);
  }
  pthread_rwlock_unlock(&g_lock);
  if (!rc) rc = mg_sm2_sign(d, pk, msg, n, sig); /* outside the lock: a signature takes a while */
  sodium_memzero(d, sizeof d);
  return rc;
}

/* Copies public key key_id of a kind (len bytes). */
static int public_of(int kind, uint32_t key_id, uint8_t *pk, size_t len) {
  pthread_rwlock_rdlock(&g_lock);
  int rc = MG_ECRYPTO;
  if (g_ring) {
    const key *s = key_id ? find(g_ring->keys[kind], g_ring->n[kind], key_id) : NULL;
    rc = MG_ENOTFOUND;
    if (s) {
      memcpy(pk, s->pk, len);
      rc = MG_OK;
    }
  }
  pthread_rwlock_unlock(&g_lock);
  return rc;
}

int mg_keyring_sm2_public(uint32_t key_id, uint8_t pk[65]) {
  return public_of(K_SM2, key_id, pk, MG_SM2_PUB_LEN);
}

int mg_keyring_sm2_verify(uint32_t key_id, const void *msg, size_t n, const uint8_t sig[64]) {
  uint8_t pk[MG_SM2_PUB_LEN];
  int rc = mg_keyring_sm2_public(key_id, pk);
  if (rc) return rc;
  rc = mg_sm2_verify(pk, msg, n, sig);
  return rc == MG_EINVAL ? MG_ECRYPTO : rc;
}

int mg_keyring_sm2_ids(uint32_t *ids, size_t cap, size_t *n) {
  pthread_rwlock_rdlock(&g_lock);
  int rc = MG_ECRYPTO;
  if (g_ring) {
    *n = g_ring->n[K_SM2];
    rc = *n > cap ? MG_ETOOBIG : MG_OK;
    for (size_t i = 0; !rc && i < *n; i++) ids[i] = g_ring->keys[K_SM2][i].id;
  }
  pthread_rwlock_unlock(&g_lock);
  return rc;
}

int mg_keyring_ed25519_public(uint32_t key_id, uint8_t pk[32]) {
  return public_of(K_ED25519, key_id, pk, 32);
}

int mg_keyring_ed25519_verify(uint32_t key_id, const void *msg, size_t n, const uint8_t sig[64]) {
  uint8_t pk[32];
  int rc = mg_keyring_ed25519_public(key_id, pk);
  if (rc) return rc;
  return crypto_sign_verify_detached(sig, msg, n, pk) ? MG_ECORRUPT : MG_OK;
}
