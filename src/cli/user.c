/* `moocguard user`: accounts from the command line, for whoever operates the host (recovery when
 * no security administrator can sign in, scripted set-up). Each change is audited as actor "cli".
 * Passwords are generated and printed once, or read from stdin; never taken on the command line,
 * where other users of the host could see them. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "auth/password.h"
#include "auth/user.h"
#include "cli/cli.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/time.h"
#include "store/store_auth.h"

static void usage(FILE *out) {
  fprintf(out,
          "usage: moocguard user create USERNAME --role ROLE [--display-name NAME] [--org-id N]\n"
          "                             [--org-kind KIND] [--province CODE] [--student-id N]\n"
          "                             [--password-stdin] [--no-must-change] [--json]\n"
          "       moocguard user list [--json]\n"
          "       moocguard user disable USERNAME\n"
          "       moocguard user reset-password USERNAME [--json]\n"
          "       moocguard user unlock USERNAME\n"
          "  (each also takes --store PATH and the other settings of `moocguard serve --help`)\n\n"
          "Accounts of the console and /api/v1. Roles: regulator, univ_admin, resp_teacher,\n"
          "lead_teacher, student, platform_operator, sys_admin, sec_admin, audit_admin.\n"
          "create and reset-password generate a random password, print it once and require it\n"
          "to be changed at first login; --password-stdin reads one instead (it must meet the\n"
          "password policy). Only argon2id hashes are stored. Every change is audited.\n");
}

static int parse_nonneg(const char *text, const char *what, int64_t *out) {
  char *end;
  if (!text) return MG_OK;
  long long v = strtoll(text, &end, 10);
  if (!*text || *end || v < 0) {
    fprintf(stderr, "moocguard user: %s must be a non-negative integer\n", what);
    return MG_EINVAL;
  }
  *out = v;
  return MG_OK;
}

static int print_user(void *ud, const mg_store_user *u) {
  int json = *(int *)ud;
  mg_arena a;
  mg_arena_init(&a, 0, 0);
  if (json) {
    mg_json *j = mg_auth_user_json(&a, u, mg_time_now_us());
    char *s = j ? mg_json_dumps(&a, j, NULL) : NULL;
    if (s) printf("%s\n", s);
  } else {
    int locked = u->status == MG_USER_LOCKED && u->locked_until_us > mg_time_now_us();
    printf("%-6lld %-24s %-18s %-9s %s\n", (long long)u->id, u->username, u->role,
           u->status == MG_USER_DISABLED ? "disabled" : locked ? "locked" : "active",
           u->display_name);
  }
  mg_arena_free(&a);
  return 0;
}

static int read_password_stdin(char *out, size_t size) {
  if (!fgets(out, (int)size, stdin)) return MG_EIO;
  size_t n = strlen(out);
  while (n && (out[n - 1] == '\n' || out[n - 1] == '\r')) out[--n] = '\0';
  return n ? MG_OK : MG_EINVAL;
}

static int audit_cli(mg_store *s, const char *action, int64_t id, const char *name) {
  char ids[24];
  snprintf(ids, sizeof ids, "%lld", (long long)id);
  mg_audit_event ev = {.actor = "cli", .role = "system", .action = action, .object_type = "user",
                       .object_id = ids, .after = name, .after_len = strlen(name)};
  return mg_audit_append(s, &ev, NULL);
}

/* Creates or changes a user inside one transaction with its audit record. */
static int commit_user(mg_store *s, mg_store_user *u, int create, const char *action) {
  int rc = mg_store_tx_begin(s);
  if (rc) return rc;
  int64_t id = u->id;
  rc = create ? mg_store_user_create(s, u, &id) : mg_store_user_update(s, u);
  if (!rc && !create && strcmp(action, "user.disable") == 0)
    rc = mg_store_session_delete_user(s, u->id, NULL);
  if (!rc && !create && strcmp(action, "user.reset_password") == 0)
    rc = mg_store_session_delete_user(s, u->id, NULL);
  if (!rc) rc = audit_cli(s, action, id, u->username);
  if (rc) {
    mg_store_tx_rollback(s);
    return rc;
  }
  u->id = id;
  return mg_store_tx_commit(s);
}

int mg_cli_user(int argc, char **argv) {
  if (argc < 2 || mg_cli_wants_help(argc, argv)) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? MG_EXIT_USAGE : MG_EXIT_OK;
  }
  const char *action = argv[1];
  argc--;
  argv++;
  mg_auth_user_new nu = {0};
  const char *org = NULL, *student = NULL;
  int json = mg_cli_take_flag(&argc, argv, "--json");
  int pw_stdin = mg_cli_take_flag(&argc, argv, "--password-stdin");
  int no_must = mg_cli_take_flag(&argc, argv, "--no-must-change");
  if (mg_cli_take_opt(&argc, argv, "--role", &nu.role) < 0 ||
      mg_cli_take_opt(&argc, argv, "--display-name", &nu.display_name) < 0 ||
      mg_cli_take_opt(&argc, argv, "--org-id", &org) < 0 ||
      mg_cli_take_opt(&argc, argv, "--org-kind", &nu.org_kind) < 0 ||
      mg_cli_take_opt(&argc, argv, "--province", &nu.province) < 0 ||
      mg_cli_take_opt(&argc, argv, "--student-id", &student) < 0) {
    fprintf(stderr, "moocguard user: option needs a value\n");
    return MG_EXIT_USAGE;
  }
  int is_list = !strcmp(action, "list");
  if (!is_list && strcmp(action, "create") && strcmp(action, "disable") &&
      strcmp(action, "reset-password") && strcmp(action, "unlock")) {
    fprintf(stderr, "moocguard user: unknown action '%s'\n", action);
    return MG_EXIT_USAGE;
  }
  const char *username = NULL;
  if (!is_list) {
    if (argc < 2 || argv[1][0] == '-') {
      fprintf(stderr, "moocguard user %s: USERNAME is required\n", action);
      return MG_EXIT_USAGE;
    }
    username = argv[1];
    argc--;
    argv++;
  }
  if (parse_nonneg(org, "--org-id", &nu.org_id) || parse_nonneg(student, "--student-id", &nu.student_id))
    return MG_EXIT_USAGE;
  if (!strcmp(action, "create") && !nu.role) {
    fprintf(stderr, "moocguard user create: --role is required\n");
    return MG_EXIT_USAGE;
  }
  mg_config cfg;
  int code = mg_cli_load_config("user", &cfg, argc, argv);
  if (code) return code;
  mg_auth_hash_cost cost;
  if (mg_auth_hash_cost_parse(cfg.password_hash, &cost)) {
    fprintf(stderr, "moocguard user: password-hash must be moderate or interactive\n");
    return MG_EXIT_USAGE;
  }
  mg_store *s = NULL;
  int rc = mg_store_open(cfg.store, &s, NULL);
  if (rc) {
    fprintf(stderr, "moocguard user: cannot open %s: %s\n", cfg.store, mg_strerror(rc));
    return MG_EXIT_FAIL;
  }
  code = MG_EXIT_FAIL;
  char pw[MG_AUTH_PASSWORD_MAX + 2] = "", hash[MG_AUTH_HASH_MAX], why[256];
  mg_store_user u;
  int64_t now = mg_time_now_us();
  if (is_list) {
    rc = mg_store_user_list(s, print_user, &json);
    if (!rc) code = MG_EXIT_OK;
    goto out;
  }
  int needs_pw = !strcmp(action, "create") || !strcmp(action, "reset-password");
  if (needs_pw) {
    if (pw_stdin) {
      if (read_password_stdin(pw, sizeof pw)) {
        fprintf(stderr, "moocguard user: no password on stdin\n");
        code = MG_EXIT_USAGE;
        goto out;
      }
      if (mg_auth_password_policy(pw, username, why, sizeof why)) {
        fprintf(stderr, "moocguard user: %s\n", why);
        code = MG_EXIT_USAGE;
        goto out;
      }
    } else if ((rc = mg_auth_password_generate(pw, sizeof pw))) {
      goto fail;
    }
    if ((rc = mg_auth_password_hash(pw, cost, hash))) goto fail;
  }
  if (!strcmp(action, "create")) {
    nu.username = username;
    if (mg_auth_user_prepare(&nu, hash, !no_must, now, &u, why, sizeof why)) {
      fprintf(stderr, "moocguard user create: %s\n", why);
      code = MG_EXIT_USAGE;
      goto out;
    }
    if ((rc = commit_user(s, &u, 1, "user.create"))) goto fail;
  } else {
    if ((rc = mg_store_user_get(s, username, &u))) goto fail;
    const char *audit_action = "user.unlock";
    if (!strcmp(action, "disable")) {
      u.status = MG_USER_DISABLED;
      audit_action = "user.disable";
    } else if (!strcmp(action, "unlock")) {
      if (u.status == MG_USER_LOCKED) u.status = MG_USER_ACTIVE;
      u.failed_count = 0;
      u.locked_until_us = 0;
    } else {
      snprintf(u.prev_password_hash, sizeof u.prev_password_hash, "%s", u.password_hash);
      snprintf(u.password_hash, sizeof u.password_hash, "%s", hash);
      u.must_change = !no_must;
      u.password_changed_us = now;
      audit_action = "user.reset_password";
    }
    if ((rc = commit_user(s, &u, 0, audit_action))) goto fail;
  }
  if (needs_pw && !pw_stdin) {
    if (json) {
      mg_buf b;
      mg_buf_init(&b, 4096);
      mg_buf_addf(&b, "{\"id\":%lld,\"username\":\"", (long long)u.id);
      mg_buf_add_json_str(&b, u.username, strlen(u.username));
      mg_buf_addf(&b, "\",\"password\":\"%s\"}\n", pw);
      if (b.data) fputs(b.data, stdout);
      sodium_memzero(b.data, b.len);
      mg_buf_free(&b);
    } else {
      printf("%s: password %s (shown once; must be changed at first login)\n", u.username, pw);
    }
  } else if (json) {
    printf("{\"id\":%lld,\"ok\":true}\n", (long long)u.id);
  } else {
    printf("%s: %s done\n", u.username, action);
  }
  code = MG_EXIT_OK;
  goto out;
fail:
  if (rc == MG_EEXISTS)
    fprintf(stderr, "moocguard user %s: user name '%s' is taken\n", action, username);
  else if (rc == MG_ENOTFOUND)
    fprintf(stderr, "moocguard user %s: no user '%s'\n", action, username);
  else
    fprintf(stderr, "moocguard user %s: %s\n", action, mg_strerror(rc));
out:
  sodium_memzero(pw, sizeof pw);
  mg_store_close(s);
  return code;
}
