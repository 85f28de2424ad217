/* tests/e2e/test_backup.c — `moocguard backup` of a running server's store and `restore` into a
 * new path: statements (count and content), credentials, settings and the audit chain survive;
 * a damaged backup or an existing target is refused. Also `verify-audit` exit codes on a raw
 * file edit and an SM2 signature edit, and `keys` on a store. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "audit/audit.h"
#include "core/err.h"
#include "crypto/keyring.h"
#include "store/store.h"
#include "support.h"

static const char *bin(void) {
  const char *b = getenv("MG_BIN");
  return b && *b ? b : "./moocguard";
}

static int run(const char *cmdline, char *out, size_t size) {
  FILE *p = popen(cmdline, "r");
  if (!p) return -1;
  size_t n = 0;
  if (out && size) {
    n = fread(out, 1, size - 1, p);
    out[n] = '\0';
  } else {
    char sink[4096];
    while (fread(sink, 1, sizeof sink, p) > 0) {
    }
  }
  int st = pclose(p);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int post(mg_test_server *srv, int i) {
  char body[1024], h[1024];
  snprintf(body, sizeof body,
           "{\"actor\":{\"account\":{\"homePage\":\"https://id.pku.edu.cn\",\"name\":\"s%d\"}},"
           "\"verb\":{\"id\":\"http://adlnet.gov/expapi/verbs/completed\"},"
           "\"object\":{\"id\":\"https://mooc.example.cn/course/%d\"},"
           "\"timestamp\":\"2026-03-01T08:00:00+08:00\"}",
           i, i % 7);
  snprintf(h, sizeof h, "%sX-Experience-API-Version: 2.0.0\r\nContent-Type: application/json\r\n",
           srv->auth_header);
  mg_test_resp r;
  int rc = mg_test_http(srv->port, "POST", "/xapi/statements", h, body, strlen(body), &r);
  int status = r.status;
  mg_test_resp_free(&r);
  return rc == 0 && status == 200 ? 0 : -1;
}

/* All statements in seq order, concatenated with their seqs. */
typedef struct dump {
  mg_buf b;
  long n;
} dump;

static int dump_cb(void *ud, int64_t seq, const char *json, size_t len) {
  dump *d = ud;
  mg_buf_addf(&d->b, "%lld:", (long long)seq);
  mg_buf_add(&d->b, json, len);
  mg_buf_addc(&d->b, '\n');
  d->n++;
  return MG_OK;
}

static void dump_store(mg_store *s, int64_t max_seq, dump *d) {
  mg_buf_init(&d->b, 1 << 26);
  d->n = 0;
  mg_store_query q;
  memset(&q, 0, sizeof q);
  q.ascending = 1;
  q.max_seq = max_seq;
  int more = 1;
  int64_t last = 0, snap = 0;
  while (more) {
    q.after_seq = last;
    assert_int_equal(mg_store_stmt_query(s, &q, dump_cb, d, &more, &last, &snap), MG_OK);
    q.max_seq = snap;
  }
}

static void backup_restore_roundtrip(void **state) {
  (void)state;
  mg_test_server srv;
  assert_int_equal(mg_test_server_start("e2e-backup", NULL, &srv), 0);
  char store[700], keys[800], cmd[4096], out[8192];
  snprintf(store, sizeof store, "%s/moocguard.db", srv.dir);
  snprintf(keys, sizeof keys, "%s.keys", store);
  for (int i = 0; i < 120; i++) assert_int_equal(post(&srv, i), 0);

  /* governance data written by another process while the server runs: settings, audit */
  mg_keyring_shutdown();
  assert_int_equal(mg_keyring_init(keys, 0), MG_OK); /* made by serve on first start */
  mg_store *s = NULL;
  assert_int_equal(mg_store_open(store, &s, NULL), MG_OK);
  assert_int_equal(mg_store_setting_set(s, "test.setting", "值 value"), MG_OK);
  mg_audit_report r0; /* the server may have audited its first start (first administrator) */
  assert_int_equal(mg_audit_verify(s, &r0), MG_OK);
  assert_true(r0.ok);
  for (int i = 0; i < 30; i++) {
    mg_audit_event ev = {.actor = "admin1", .role = "univ_admin", .action = "platform.set_status",
                         .object_type = "platform", .object_id = "7", .after = "{}", .after_len = 2};
    assert_int_equal(mg_audit_append(s, &ev, NULL), MG_OK);
  }
  int64_t n_before = 0;
  assert_int_equal(mg_store_stmt_count(s, &n_before), MG_OK);
  assert_int_equal(n_before, 120);
  dump orig;
  dump_store(s, 0, &orig);
  assert_int_equal(orig.n, 120);
  mg_store_close(s);

  /* online backup while the server keeps ingesting */
  char bak[800], restored[800];
  snprintf(bak, sizeof bak, "%s/snap.db", srv.dir);
  snprintf(restored, sizeof restored, "%s/restored/mg.db", srv.dir);
  snprintf(cmd, sizeof cmd, "mkdir -p '%s/restored' && '%s' backup --json --store '%s' --out '%s'",
           srv.dir, bin(), store, bak);
  assert_int_equal(run(cmd, out, sizeof out), 0);
  assert_non_null(strstr(out, "\"statements\":120"));
  /* sha256sum agrees with the manifest */
  snprintf(cmd, sizeof cmd, "cd '%s' && sha256sum -c snap.db.sha256 >/dev/null 2>&1", srv.dir);
  assert_int_equal(run(cmd, NULL, 0), 0);
  for (int i = 120; i < 140; i++) assert_int_equal(post(&srv, i), 0); /* after the snapshot */
  /* a second backup to the same name is refused */
  snprintf(cmd, sizeof cmd, "'%s' backup --store '%s' --out '%s' 2>/dev/null", bin(), store, bak);
  assert_int_equal(run(cmd, NULL, 0), 1);
  assert_int_equal(mg_test_server_stop(&srv), 0);

  /* restore into a new path, with the original key directory */
  snprintf(cmd, sizeof cmd, "'%s' restore --json --in '%s' --store '%s' --keys-dir '%s'", bin(),
           bak, restored, keys);
  assert_int_equal(run(cmd, out, sizeof out), 0);
  assert_non_null(strstr(out, "\"audit_ok\":true"));
  assert_int_equal(mg_store_open(restored, &s, NULL), MG_OK);
  int64_t n = 0;
  assert_int_equal(mg_store_stmt_count(s, &n), MG_OK);
  assert_int_equal(n, 120); /* the snapshot, not the 20 posted after it */
  dump back;
  dump_store(s, 0, &back);
  assert_int_equal(back.n, 120);
  assert_int_equal(back.b.len, orig.b.len);
  assert_memory_equal(back.b.data, orig.b.data, orig.b.len);
  char v[64];
  assert_int_equal(mg_store_setting_get(s, "test.setting", v, sizeof v), MG_OK);
  assert_string_equal(v, "值 value");
  mg_store_credential c;
  assert_int_equal(mg_store_credential_get(s, srv.key, &c), MG_OK);
  assert_true(c.enabled);
  mg_audit_report r;
  assert_int_equal(mg_audit_verify(s, &r), MG_OK);
  assert_true(r.ok);
  assert_int_equal(r.records, r0.records + 30);
  mg_store_close(s);
  mg_buf_free(&orig.b);
  mg_buf_free(&back.b);

  /* verify-audit on the restored store through the CLI */
  snprintf(cmd, sizeof cmd, "'%s' verify-audit --json --store '%s' --keys-dir '%s'", bin(),
           restored, keys);
  assert_int_equal(run(cmd, out, sizeof out), 0);
  assert_non_null(strstr(out, "\"ok\":true"));
  char want[64];
  snprintf(want, sizeof want, "\"records\":%lld", (long long)r0.records + 30);
  assert_non_null(strstr(out, want));

  /* an existing store is not replaced without --force */
  snprintf(cmd, sizeof cmd, "'%s' restore --in '%s' --store '%s' 2>&1", bin(), bak, restored);
  assert_int_equal(run(cmd, out, sizeof out), 1);
  assert_non_null(strstr(out, "--force"));
  snprintf(cmd, sizeof cmd, "'%s' restore --force --in '%s' --store '%s' --keys-dir '%s' >/dev/null 2>&1",
           bin(), bak, restored, keys);
  assert_int_equal(run(cmd, NULL, 0), 0);

  /* one changed byte in the backup: refused by the checksum, nothing restored */
  FILE *f = fopen(bak, "r+b");
  assert_non_null(f);
  fseek(f, 5000, SEEK_SET);
  int ch = fgetc(f);
  fseek(f, 5000, SEEK_SET);
  fputc(ch ^ 0x20, f);
  fclose(f);
  char other[800];
  snprintf(other, sizeof other, "%s/other.db", srv.dir);
  snprintf(cmd, sizeof cmd, "'%s' restore --in '%s' --store '%s' 2>&1", bin(), bak, other);
  assert_int_equal(run(cmd, out, sizeof out), 1);
  assert_non_null(strstr(out, "checksum"));
  FILE *o = fopen(other, "rb");
  assert_null(o);
  mg_keyring_shutdown();
}

static void verify_audit_cli_detects_edit(void **state) {
  (void)state;
  char dir[512], store[700], keys[800], cmd[4096], out[8192];
  mg_test_tmpdir("e2e-verify", dir, sizeof dir);
  snprintf(store, sizeof store, "%s/v.db", dir);
  snprintf(keys, sizeof keys, "%s.keys", store);
  snprintf(cmd, sizeof cmd, "'%s' keys init --store '%s' >/dev/null 2>&1", bin(), store);
  assert_int_equal(run(cmd, NULL, 0), 0);
  mg_keyring_shutdown();
  mg_store *s = NULL;
  assert_int_equal(mg_store_open(store, &s, NULL), MG_OK);
  for (int i = 0; i < 5; i++) {
    mg_audit_event ev = {.actor = i == 2 ? "alice-target" : "bob", .role = "univ_admin",
                         .action = "course.update", .object_type = "course"};
    assert_int_equal(mg_audit_append(s, &ev, NULL), MG_OK);
  }
  mg_store_close(s);
  mg_keyring_shutdown();
  snprintf(cmd, sizeof cmd, "'%s' verify-audit --store '%s' 2>/dev/null", bin(), store);
  assert_int_equal(run(cmd, out, sizeof out), 0);
  assert_non_null(strstr(out, "intact"));
  /* the sqlite3 tool's equivalent: change a field under the triggers' nose */
  sqlite3 *h = NULL;
  assert_int_equal(sqlite3_open(store, &h), SQLITE_OK);
  assert_int_equal(sqlite3_exec(h, "DROP TRIGGER audit_log_no_update; UPDATE audit_log SET "
                                   "actor = 'alice-targes' WHERE seq = 3", NULL, NULL, NULL),
                   SQLITE_OK);
  sqlite3_close(h);
  snprintf(cmd, sizeof cmd, "'%s' verify-audit --json --store '%s' 2>/dev/null", bin(), store);
  assert_int_equal(run(cmd, out, sizeof out), 1);
  assert_non_null(strstr(out, "\"bad_seq\":3"));
  assert_non_null(strstr(out, "\"problem\":\"hash_mismatch\""));
  /* help and usage */
  static const char *const cmds[] = {"verify-audit", "backup", "restore", "keys", "audit-purge"};
  for (size_t i = 0; i < 5; i++) {
    snprintf(cmd, sizeof cmd, "'%s' %s --help", bin(), cmds[i]);
    assert_int_equal(run(cmd, out, sizeof out), 0);
    assert_non_null(strstr(out, "usage"));
  }
  snprintf(cmd, sizeof cmd, "'%s' backup --store '%s' 2>/dev/null", bin(), store);
  assert_int_equal(run(cmd, NULL, 0), 2);
  snprintf(cmd, sizeof cmd, "'%s' keys frob --store '%s' 2>/dev/null", bin(), store);
  assert_int_equal(run(cmd, NULL, 0), 2);
  snprintf(cmd, sizeof cmd, "'%s' audit-purge --audit-retention-days 30 --store '%s' 2>/dev/null",
           bin(), store);
  assert_int_equal(run(cmd, NULL, 0), 2);
  /* a key directory with loose permissions stops the tools */
  snprintf(cmd, sizeof cmd, "chmod 0755 '%s' && '%s' keys status --store '%s' 2>&1", keys, bin(), store);
  assert_int_equal(run(cmd, out, sizeof out), 1);
  assert_non_null(strstr(out, "0700"));
}

/* The recipe of docs/crypto.md ("Checking a checkpoint with the public key alone"): its Python
 * block and the openssl command, with the PEM `keys public` printed. Returns the openssl exit
 * status, or -1 when python3 or openssl is not installed (then nothing is asserted). */
static int doc_recipe(const char *dir, const char *store, int seq) {
  if (system("python3 -c 1 >/dev/null 2>&1") || system("openssl version >/dev/null 2>&1"))
    return -1;
  char path[1024], cmd[4096];
  const char *src = getenv("MG_SOURCE_DIR");
  snprintf(path, sizeof path, "%s/docs/crypto.md", src ? src : "..");
  char *doc = mg_test_read_file(path, NULL);
  assert_non_null(doc);
  const char *start = strstr(doc, "```python\n# ckpt.py");
  assert_non_null(start);
  start += strlen("```python\n");
  const char *end = strstr(start, "```");
  assert_non_null(end);
  snprintf(path, sizeof path, "%s/ckpt.py", dir);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  assert_int_equal(fwrite(start, 1, (size_t)(end - start), f), (size_t)(end - start));
  fclose(f);
  free(doc);
  snprintf(cmd, sizeof cmd,
           "cd '%s' && '%s' keys public --store '%s' > sm2-public.txt 2>/dev/null && "
           "sed -n '/BEGIN/,/END/p' sm2-public.txt > sm2-1.pem && "
           "python3 ckpt.py '%s' %d >/dev/null && "
           "openssl pkeyutl -verify -pubin -inkey sm2-1.pem -rawin -digest sm3 "
           "-pkeyopt distid:1234567812345678 -in ckpt.msg -sigfile ckpt.sig >/dev/null 2>&1",
           dir, bin(), store, store, seq);
  return run(cmd, NULL, 0);
}

/* Checkpoints are SM2 and verify; `keys status` / `keys public` export the public key stored
 * with them, and the documented openssl recipe checks a checkpoint with that alone;
 * verify-audit names a flipped hex digit in an SM2 checkpoint signature. */
static void verify_audit_cli_sm2(void **state) {
  (void)state;
  char dir[512], store[700], cmd[4096], out[16384];
  mg_test_tmpdir("e2e-verify-sm2", dir, sizeof dir);
  snprintf(store, sizeof store, "%s/v.db", dir);
  snprintf(cmd, sizeof cmd, "'%s' keys init --store '%s' >/dev/null 2>&1", bin(), store);
  assert_int_equal(run(cmd, NULL, 0), 0);
  snprintf(cmd, sizeof cmd, "'%s' keys status --json --store '%s' 2>/dev/null", bin(), store);
  assert_int_equal(run(cmd, out, sizeof out), 0);
  assert_non_null(strstr(out, "\"sign_algorithm\":\"SM2\""));
  const char *pk = strstr(out, "\"sign_public_key\":\"04");
  assert_non_null(pk);
  char pk_hex[131];
  snprintf(pk_hex, sizeof pk_hex, "%s", pk + strlen("\"sign_public_key\":\""));
  assert_int_equal(strlen(pk_hex), 130);
  mg_keyring_shutdown();
  mg_store *s = NULL;
  assert_int_equal(mg_store_open(store, &s, NULL), MG_OK);
  for (int i = 0; i < 3; i++) {
    mg_audit_event ev = {.actor = "carol", .role = "univ_admin", .action = "course.update",
                         .object_type = "course"};
    assert_int_equal(mg_audit_append(s, &ev, NULL), MG_OK);
  }
  assert_int_equal(mg_audit_checkpoint(s, 1, NULL), MG_OK); /* SM2 checkpoints at 1 and 3 */
  mg_store_close(s);
  mg_keyring_shutdown();
  snprintf(cmd, sizeof cmd, "'%s' verify-audit --json --store '%s' 2>/dev/null", bin(), store);
  assert_int_equal(run(cmd, out, sizeof out), 0);
  assert_non_null(strstr(out, "\"checkpoints\":2,\"checkpoints_sm2\":2"));
  /* the stored public key is the one `keys` prints, and `keys public` gives it as PEM */
  sqlite3 *h = NULL;
  sqlite3_stmt *q = NULL;
  assert_int_equal(sqlite3_open(store, &h), SQLITE_OK);
  assert_int_equal(sqlite3_prepare_v2(h, "SELECT alg, public_key FROM audit_checkpoint WHERE seq = 3",
                                      -1, &q, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_step(q), SQLITE_ROW);
  assert_string_equal((const char *)sqlite3_column_text(q, 0), "sm2");
  assert_string_equal((const char *)sqlite3_column_text(q, 1), pk_hex);
  sqlite3_finalize(q);
  snprintf(cmd, sizeof cmd, "'%s' keys public --store '%s' 2>/dev/null", bin(), store);
  assert_int_equal(run(cmd, out, sizeof out), 0);
  assert_non_null(strstr(out, "# sm2-00000001.key key_id 1 (current)"));
  assert_non_null(strstr(out, "-----BEGIN PUBLIC KEY-----"));
  snprintf(cmd, sizeof cmd, "'%s' keys public --json --store '%s' 2>/dev/null", bin(), store);
  assert_int_equal(run(cmd, out, sizeof out), 0);
  assert_non_null(strstr(out, pk_hex));
  assert_non_null(strstr(out, "\"distinguishing_id\":\"1234567812345678\""));
  int recipe = doc_recipe(dir, store, 3);
  assert_true(recipe == -1 || recipe == 0);
  /* flip one hex digit of the SM2 signature at seq 3 */
  assert_int_equal(sqlite3_exec(h, "DROP TRIGGER audit_checkpoint_no_update; UPDATE "
                                   "audit_checkpoint SET signature = substr(signature, 1, 40) || "
                                   "(CASE substr(signature, 41, 1) WHEN 'f' THEN 'e' ELSE 'f' END) "
                                   "|| substr(signature, 42) WHERE seq = 3", NULL, NULL, NULL),
                   SQLITE_OK);
  sqlite3_close(h);
  snprintf(cmd, sizeof cmd, "'%s' verify-audit --json --store '%s' 2>/dev/null", bin(), store);
  assert_int_equal(run(cmd, out, sizeof out), 1);
  assert_non_null(strstr(out, "\"bad_seq\":3"));
  assert_non_null(strstr(out, "\"problem\":\"checkpoint_signature\""));
  assert_non_null(strstr(out, "SM2 signature does not verify"));
  if (recipe == 0) assert_int_not_equal(doc_recipe(dir, store, 3), 0);
  snprintf(cmd, sizeof cmd, "'%s' verify-audit --store '%s' 2>/dev/null", bin(), store);
  assert_int_equal(run(cmd, out, sizeof out), 1);
  assert_non_null(strstr(out, "BROKEN at seq 3"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(backup_restore_roundtrip),
      cmocka_unit_test(verify_audit_cli_detects_edit),
      cmocka_unit_test(verify_audit_cli_sm2),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
