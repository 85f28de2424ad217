/* cli/verify_audit.c — `moocguard verify-audit` and `moocguard audit-purge`. */
#include <stdio.h>
#include <string.h>

#include "audit/audit.h"
#include "cli/cli.h"
#include "core/buf.h"
#include "core/err.h"
#include "store/store.h"

static void json_str(mg_buf *b, const char *s) {
  mg_buf_addc(b, '"');
  mg_buf_add_json_str(b, s, strlen(s));
  mg_buf_addc(b, '"');
}

int mg_cli_verify_audit(int argc, char **argv) {
  if (mg_cli_wants_help(argc, argv)) {
    printf("usage: moocguard verify-audit [--store PATH] [--keys-dir DIR] [--json]\n\n"
           "Walks the audit log: every record's SM3 hash and its link to the previous record,\n"
           "every signed checkpoint (SM2 with SM3; Ed25519 for checkpoints written before the switch;\n"
           "public keys from the key directory) and every\n"
           "retention anchor, in one consistent snapshot (the server may keep running).\n"
           "Exit 0: intact. Exit 1: names the first broken record and what differs\n"
           "(hash_mismatch, prev_link, missing_seq, checkpoint_signature, checkpoint_mismatch,\n"
           "truncated, anchor, corrupt), or the log could not be read.\n");
    return MG_EXIT_OK;
  }
  int json = mg_cli_take_flag(&argc, argv, "--json");
  mg_config cfg;
  int code = mg_cli_load_config("verify-audit", &cfg, argc, argv);
  if (code) return code;
  mg_store *s = NULL;
  int rc = mg_store_open(cfg.store, &s, NULL);
  if (rc) {
    fprintf(stderr, "moocguard verify-audit: cannot open %s: %s\n", cfg.store, mg_strerror(rc));
    return MG_EXIT_FAIL;
  }
  /* Keys are needed only when checkpoints exist; an absent directory is reported by verify. */
  if (mg_cli_keys_load("verify-audit", &cfg, 0) == MG_EXIT_USAGE) {
    mg_store_close(s);
    return MG_EXIT_USAGE;
  }
  mg_audit_report r;
  rc = mg_audit_verify(s, &r);
  mg_store_close(s);
  if (rc) {
    fprintf(stderr, "moocguard verify-audit: cannot verify: %s\n", mg_strerror(rc));
    return MG_EXIT_FAIL;
  }
  if (json) {
    mg_buf b;
    mg_buf_init(&b, 1 << 16);
    mg_buf_addf(&b,
                "{\"ok\":%s,\"records\":%lld,\"first_seq\":%lld,\"last_seq\":%lld,"
                "\"checkpoints\":%lld,\"checkpoints_sm2\":%lld,\"last_checkpoint\":%lld,"
                "\"anchors\":%lld,"
                "\"purged_upto\":%lld,\"head_hash\":",
                r.ok ? "true" : "false", (long long)r.records, (long long)r.first_seq,
                (long long)r.last_seq, (long long)r.checkpoints, (long long)r.checkpoints_sm2,
                (long long)r.last_checkpoint,
                (long long)r.anchors, (long long)r.purged_upto);
    json_str(&b, r.head_hash);
    if (!r.ok) {
      mg_buf_addf(&b, ",\"bad_seq\":%lld,\"problem\":", (long long)r.bad_seq);
      json_str(&b, r.problem);
      mg_buf_adds(&b, ",\"detail\":");
      json_str(&b, r.detail);
    }
    mg_buf_adds(&b, "}\n");
    fputs(b.data ? b.data : "", stdout);
    mg_buf_free(&b);
  } else if (r.ok) {
    printf("审计日志完整 / audit log intact: %lld records (seq %lld..%lld), %lld signed "
           "checkpoints (%lld SM2, %lld Ed25519; last at seq %lld), %lld purge anchors\nhead %s\n",
           (long long)r.records, (long long)r.first_seq, (long long)r.last_seq,
           (long long)r.checkpoints, (long long)r.checkpoints_sm2,
           (long long)(r.checkpoints - r.checkpoints_sm2), (long long)r.last_checkpoint,
           (long long)r.anchors,
           r.head_hash[0] ? r.head_hash : "(empty log)");
    if (r.last_seq > r.last_checkpoint)
      printf("note: records %lld..%lld are chained but not yet signed (next checkpoint)\n",
             (long long)(r.last_checkpoint > r.purged_upto ? r.last_checkpoint : r.purged_upto) + 1,
             (long long)r.last_seq);
  } else {
    printf("审计日志被破坏 / audit log BROKEN at seq %lld: %s\n%s\n", (long long)r.bad_seq,
           r.problem, r.detail);
  }
  return r.ok ? MG_EXIT_OK : MG_EXIT_FAIL;
}

int mg_cli_audit_purge(int argc, char **argv) {
  if (mg_cli_wants_help(argc, argv)) {
    printf("usage: moocguard audit-purge [--store PATH] [--keys-dir DIR] [--actor NAME]\n"
           "                            [--audit-retention-days N] [--json]\n\n"
           "Removes audit records older than the retention period (at least 180 days), up to the\n"
           "newest signed checkpoint at or before that age, and writes an anchor there so the\n"
           "rest still verifies. The purge itself is recorded in the log.\n");
    return MG_EXIT_OK;
  }
  int json = mg_cli_take_flag(&argc, argv, "--json");
  const char *actor = "system";
  if (mg_cli_take_opt(&argc, argv, "--actor", &actor) < 0) {
    fprintf(stderr, "moocguard audit-purge: --actor needs a value\n");
    return MG_EXIT_USAGE;
  }
  mg_config cfg;
  int code = mg_cli_load_config("audit-purge", &cfg, argc, argv);
  if (code) return code;
  if ((code = mg_cli_keys_load("audit-purge", &cfg, 0))) return code;
  mg_store *s = NULL;
  int rc = mg_store_open(cfg.store, &s, NULL);
  if (rc) {
    fprintf(stderr, "moocguard audit-purge: cannot open %s: %s\n", cfg.store, mg_strerror(rc));
    return MG_EXIT_FAIL;
  }
  int64_t n = 0;
  rc = mg_audit_purge(s, actor, "audit_admin", 0, &n);
  mg_store_close(s);
  if (rc) {
    fprintf(stderr, "moocguard audit-purge: %s\n", mg_strerror(rc));
    return MG_EXIT_FAIL;
  }
  if (json) printf("{\"purged\":%lld,\"retention_days\":%lld}\n", (long long)n,
                   (long long)cfg.audit_retention_days);
  else printf("purged %lld audit records older than %lld days\n", (long long)n,
              (long long)cfg.audit_retention_days);
  return MG_EXIT_OK;
}
