/* cli/keys.c — `moocguard keys` and the key/audit setup shared by serve and the tools. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "audit/audit.h"
#include "cli/cli.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/log.h"
#include "crypto/crypto.h"
#include "crypto/keyring.h"
#include "crypto/sm2.h"
#include "store/store.h"

static int keys_dir_of(const mg_config *cfg, char *out, size_t size) {
  if (cfg->keys_dir[0]) {
    int n = snprintf(out, size, "%s", cfg->keys_dir);
    return n < 0 || (size_t)n >= size ? MG_ETOOBIG : MG_OK;
  }
  return mg_keyring_dir_for_store(cfg->store, out, size);
}

int mg_cli_keys_load(const char *cmd, const mg_config *cfg, int create) {
  mg_audit_options o = {cfg->audit_checkpoint_every, cfg->audit_checkpoint_minutes,
                        cfg->audit_retention_days};
  if (mg_audit_configure(&o)) {
    fprintf(stderr, "moocguard %s: audit settings out of range\n", cmd);
    return MG_EXIT_USAGE;
  }
  char dir[1024];
  int rc = keys_dir_of(cfg, dir, sizeof dir);
  if (rc) {
    fprintf(stderr, "moocguard %s: no key directory for store %s: give --keys-dir\n", cmd,
            cfg->store);
    return MG_EXIT_USAGE;
  }
  rc = mg_keyring_init(dir, create ? MG_KEYRING_CREATE : 0);
  if (rc) {
    fprintf(stderr, "moocguard %s: key directory %s: %s%s\n", cmd, dir, mg_strerror(rc),
            rc == MG_EFORBIDDEN ? " (must be 0700, key files 0600, owned by this user)" : "");
    return MG_EXIT_FAIL;
  }
  return MG_EXIT_OK;
}

/* ---- checkpoint ticker for servers ---------------------------------------------------------- */

static struct {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  pthread_t th;
  int started, stop;
  mg_store *store;
  int64_t period_s;
} g_tick = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static void *ticker(void *arg) {
  (void)arg;
  pthread_mutex_lock(&g_tick.mu);
  while (!g_tick.stop) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += (time_t)g_tick.period_s;
    int r = 0;
    while (!g_tick.stop && r != ETIMEDOUT) r = pthread_cond_timedwait(&g_tick.cv, &g_tick.mu, &ts);
    if (g_tick.stop) break;
    pthread_mutex_unlock(&g_tick.mu);
    int64_t seq = 0;
    int rc = mg_audit_checkpoint(g_tick.store, 0, &seq);
    if (rc) mg_log(MG_LOG_ERROR, "audit.checkpoint", "error", mg_strerror(rc), NULL);
    pthread_mutex_lock(&g_tick.mu);
  }
  pthread_mutex_unlock(&g_tick.mu);
  return NULL;
}

int mg_cli_security_start(const mg_config *cfg, mg_store *s) {
  int code = mg_cli_keys_load("serve", cfg, 1);
  if (code) return code;
  g_tick.store = s;
  g_tick.stop = 0;
  g_tick.period_s = 60; /* checking once a minute is enough for a period given in minutes */
  if (pthread_create(&g_tick.th, NULL, ticker, NULL) != 0) return MG_EXIT_FAIL;
  g_tick.started = 1;
  return MG_EXIT_OK;
}

void mg_cli_security_stop(void) {
  if (!g_tick.started) return;
  pthread_mutex_lock(&g_tick.mu);
  g_tick.stop = 1;
  pthread_cond_signal(&g_tick.cv);
  pthread_mutex_unlock(&g_tick.mu);
  pthread_join(g_tick.th, NULL);
  g_tick.started = 0;
  int64_t seq = 0;
  int rc = mg_audit_checkpoint(g_tick.store, 1, &seq);
  if (rc) mg_log(MG_LOG_ERROR, "audit.checkpoint", "error", mg_strerror(rc), NULL);
}

/* ---- moocguard keys ------------------------------------------------------------------------- */

/* `keys public`: every SM2 public key, PEM, with its id. */
static int keys_public(int json) {
  uint32_t ids[256];
  size_t n = 0;
  mg_keyring_status ks;
  if (mg_keyring_sm2_ids(ids, sizeof ids / sizeof ids[0], &n) || mg_keyring_status_get(&ks))
    return MG_EXIT_FAIL;
  if (!n) {
    fprintf(stderr, "moocguard keys public: no SM2 signing key yet (run `moocguard keys init`)\n");
    return MG_EXIT_FAIL;
  }
  mg_buf out, pem;
  mg_buf_init(&out, 1 << 20);
  mg_buf_init(&pem, 4096);
  int rc = mg_buf_adds(&out, json ? "{\"algorithm\":\"SM2\",\"distinguishing_id\":\"" MG_SM2_ID "\",\"keys\":[" : "");
  for (size_t i = 0; !rc && i < n; i++) {
    uint8_t pk[MG_SM2_PUB_LEN];
    char hex[2 * MG_SM2_PUB_LEN + 1];
    mg_buf_reset(&pem);
    rc = mg_keyring_sm2_public(ids[i], pk);
    if (!rc) rc = mg_sm2_public_pem(pk, &pem);
    if (rc) break;
    mg_hex(pk, sizeof pk, hex);
    int cur = ids[i] == ks.sign_current;
    if (json) {
      rc = mg_buf_addf(&out, "%s{\"key_id\":%u,\"current\":%s,\"public_key_hex\":\"%s\",\"pem\":\"",
                       i ? "," : "", ids[i], cur ? "true" : "false", hex);
      if (!rc) rc = mg_buf_add_json_str(&out, pem.data, pem.len);
      if (!rc) rc = mg_buf_adds(&out, "\"}");
    } else {
      rc = mg_buf_addf(&out, "# sm2-%08u.key key_id %u%s, SM2 with SM3, ID %s\n%s", ids[i], ids[i],
                       cur ? " (current)" : "", MG_SM2_ID, pem.data);
    }
  }
  if (!rc && json) rc = mg_buf_adds(&out, "]}\n");
  if (!rc) fputs(out.data, stdout);
  else fprintf(stderr, "moocguard keys public: %s\n", mg_strerror(rc));
  mg_buf_free(&out);
  mg_buf_free(&pem);
  return rc ? MG_EXIT_FAIL : MG_EXIT_OK;
}

static void keys_usage(FILE *out) {
  fprintf(out,
          "usage: moocguard keys init|rotate|status|public [--sign] [--store PATH] [--keys-dir DIR]\n"
          "                      [--json]\n\n"
          "  init     create the key directory and first keys if absent (serve does this on first\n"
          "           start; a directory from before SM2 gets its SM2 signing key); refuses a\n"
          "           directory with looser permissions than 0700/0600\n"
          "  rotate   add a new field-encryption key (with --sign: a new SM2 audit signing key); new\n"
          "           writes use it, older ciphertexts and signatures stay readable and verifiable.\n"
          "           A running server picks a rotated field key up when restarted.\n"
          "  status   key ids and the current SM2 audit signing public key (give it to auditors)\n"
          "  public   every SM2 audit signing public key as PEM (SubjectPublicKeyInfo), for a third\n"
          "           party (e.g. the monitoring centre) to verify checkpoints without the private\n"
          "           keys (docs/crypto.md shows how with openssl)\n");
}

int mg_cli_keys(int argc, char **argv) {
  if (mg_cli_wants_help(argc, argv)) {
    keys_usage(stdout);
    return MG_EXIT_OK;
  }
  if (argc < 2 || argv[1][0] == '-') {
    keys_usage(stderr);
    return MG_EXIT_USAGE;
  }
  const char *sub = argv[1];
  if (strcmp(sub, "init") && strcmp(sub, "rotate") && strcmp(sub, "status") &&
      strcmp(sub, "public")) {
    fprintf(stderr, "moocguard keys: unknown action '%s'\n", sub);
    keys_usage(stderr);
    return MG_EXIT_USAGE;
  }
  argc--;
  argv++;
  int json = mg_cli_take_flag(&argc, argv, "--json");
  int sign = mg_cli_take_flag(&argc, argv, "--sign");
  mg_config cfg;
  int code = mg_cli_load_config("keys", &cfg, argc, argv);
  if (code) return code;
  if ((code = mg_cli_keys_load("keys", &cfg, !strcmp(sub, "init")))) return code;
  if (!strcmp(sub, "public")) return keys_public(json);
  if (!strcmp(sub, "rotate")) {
    uint32_t id = 0;
    int rc = mg_keyring_rotate(sign, &id);
    if (rc) {
      fprintf(stderr, "moocguard keys rotate: %s\n", mg_strerror(rc));
      return MG_EXIT_FAIL;
    }
    if (!json) printf("new %s key %u is current\n", sign ? "signing" : "field", id);
  }
  mg_keyring_status ks;
  char dir[1024];
  if (mg_keyring_status_get(&ks) || mg_keyring_dir(dir, sizeof dir)) return MG_EXIT_FAIL;
  mg_buf jd;
  mg_buf_init(&jd, 8192);
  if (json && mg_buf_add_json_str(&jd, dir, strlen(dir))) return MG_EXIT_FAIL;
  if (json)
    printf("{\"dir\":\"%s\",\"field_current\":%u,\"field_keys\":%u,\"sign_algorithm\":\"SM2\","
           "\"sign_current\":%u,\"sign_keys\":%u,\"sign_public_key\":\"%s\","
           "\"ed25519_keys\":%u}\n",
           jd.data, ks.field_current, ks.n_field, ks.sign_current, ks.n_sign, ks.sign_public_hex,
           ks.n_ed25519);
  else {
    printf("key directory  %s\nfield keys     %u (current %u)\nsigning keys   %u SM2 (current %u)",
           dir, ks.n_field, ks.field_current, ks.n_sign, ks.sign_current);
    if (ks.n_ed25519) printf(", %u Ed25519 (verify only)", ks.n_ed25519);
    printf("\n审计签名公钥 / signing public key (SM2, 04||x||y) %s\n",
           ks.n_sign ? ks.sign_public_hex : "(none: run `moocguard keys init`)");
  }
  mg_buf_free(&jd);
  return MG_EXIT_OK;
}
