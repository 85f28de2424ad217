#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/credential.h"
#include "cli/cli.h"
#include "core/buf.h"
#include "core/err.h"
#include "store/store.h"

static int print_cred(void *ud, const mg_store_credential *c) {
  int json = *(int *)ud;
  if (json) {
    mg_buf b;
    mg_buf_init(&b, 1024);
    mg_buf_adds(&b, "{\"key\":\"");
    mg_buf_add_json_str(&b, c->key, strlen(c->key));
    mg_buf_adds(&b, "\",\"name\":\"");
    mg_buf_add_json_str(&b, c->name, strlen(c->name));
    mg_buf_addf(&b, "\",\"platform_id\":%lld,\"enabled\":%s}\n", (long long)c->platform_id,
                c->enabled ? "true" : "false");
    if (b.data) fputs(b.data, stdout);
    mg_buf_free(&b);
  } else {
    printf("%-24s %-8s %s\n", c->key, c->enabled ? "enabled" : "disabled", c->name);
  }
  return 0;
}

int mg_cli_credential(int argc, char **argv) {
  if (argc < 2 || mg_cli_wants_help(argc, argv)) {
    FILE *out = argc < 2 ? stderr : stdout;
    fprintf(out,
            "usage: moocguard credential create --name NAME [--platform-id N] [--json] [--store PATH]\n"
            "       moocguard credential list [--json] [--store PATH]\n"
            "       moocguard credential disable KEY [--store PATH]\n\n"
            "Platform credentials authenticate course platforms on the xAPI endpoint (HTTP Basic,\n"
            "key as user name). The secret is printed once at creation and only its argon2id hash\n"
            "is stored.\n");
    return argc < 2 ? MG_EXIT_USAGE : MG_EXIT_OK;
  }
  const char *action = argv[1];
  argc--;
  argv++;
  const char *name = NULL, *pid_text = NULL, *key = NULL;
  int json = mg_cli_take_flag(&argc, argv, "--json");
  if (mg_cli_take_opt(&argc, argv, "--name", &name) < 0 ||
      mg_cli_take_opt(&argc, argv, "--platform-id", &pid_text) < 0) {
    fprintf(stderr, "moocguard credential: option needs a value\n");
    return MG_EXIT_USAGE;
  }
  if (!strcmp(action, "disable")) {
    if (argc < 2 || argv[1][0] == '-') {
      fprintf(stderr, "moocguard credential disable: KEY is required\n");
      return MG_EXIT_USAGE;
    }
    key = argv[1];
    argc--;
    argv++;
  }
  mg_config cfg;
  int code = mg_cli_load_config("credential", &cfg, argc, argv);
  if (code) return code;
  long long pid = 0;
  if (pid_text) {
    char *end;
    pid = strtoll(pid_text, &end, 10);
    if (*end || pid < 0) {
      fprintf(stderr, "moocguard credential: --platform-id must be a non-negative integer\n");
      return MG_EXIT_USAGE;
    }
  }
  if (strcmp(action, "create") && strcmp(action, "list") && strcmp(action, "disable")) {
    fprintf(stderr, "moocguard credential: unknown action '%s'\n", action);
    return MG_EXIT_USAGE;
  }
  if (!strcmp(action, "create") && !name) {
    fprintf(stderr, "moocguard credential create: --name is required\n");
    return MG_EXIT_USAGE;
  }
  mg_store *s = NULL;
  int rc = mg_store_open(cfg.store, &s, NULL);
  if (rc) {
    fprintf(stderr, "moocguard credential: cannot open %s: %s\n", cfg.store, mg_strerror(rc));
    return MG_EXIT_FAIL;
  }
  code = MG_EXIT_OK;
  if (!strcmp(action, "create")) {
    char k[64], secret[64];
    rc = mg_auth_credential_create(s, name, pid, k, secret);
    if (rc) {
      fprintf(stderr, "moocguard credential create: %s\n", mg_strerror(rc));
      code = MG_EXIT_FAIL;
    } else if (json) {
      printf("{\"key\":\"%s\",\"secret\":\"%s\"}\n", k, secret);
    } else {
      printf("key:    %s\nsecret: %s\n(the secret is shown only now)\n", k, secret);
    }
  } else if (!strcmp(action, "list")) {
    rc = mg_store_credential_list(s, print_cred, &json);
    if (rc) code = MG_EXIT_FAIL;
  } else {
    rc = mg_store_credential_set_enabled(s, key, 0);
    if (rc) {
      fprintf(stderr, "moocguard credential disable: %s: %s\n", key, mg_strerror(rc));
      code = MG_EXIT_FAIL;
    } else {
      printf("disabled %s\n", key);
    }
  }
  mg_store_close(s);
  return code;
}
