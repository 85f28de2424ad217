/* moocguard — one binary, many subcommands. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

typedef struct command {
  const char *name;
  int (*run)(int argc, char **argv);
  const char *summary;
} command;

static const command k_commands[] = {
    {"serve", mg_cli_serve, "run the HTTP server (xAPI LRS and API)"},
    {"demo", mg_cli_demo, "create a demo data set and serve it on 127.0.0.1"},
    {"import", mg_cli_import, "import xAPI statements from an NDJSON file (streaming, resumable)"},
    {"credential", mg_cli_credential, "create, list or disable platform LRS credentials"},
    {"detect", mg_cli_detect, "run the misconduct detectors over stored history (--replay) or a file"},
    {"eval", mg_cli_eval, "measure the detectors on a labelled term: recall, precision, FPR, latency"},
    {"migrate", mg_cli_migrate, "create or upgrade the store schema"},
    {"user", mg_cli_user, "create, list, disable, reset or unlock console/API accounts"},
    {"simulate", mg_cli_simulate, "generate a simulated term with labelled misconduct (xAPI NDJSON)"},
    {"verify-audit", mg_cli_verify_audit, "verify the audit log's hash chain and signed checkpoints"},
    {"audit-purge", mg_cli_audit_purge, "remove audit records older than the retention period"},
    {"backup", mg_cli_backup, "write a consistent snapshot of the store (+ .sha256)"},
    {"restore", mg_cli_restore, "restore a store from a backup after checking it"},
    {"keys", mg_cli_keys, "key directory: init, rotate, status"},
    {"retention", mg_cli_retention, "delete or reduce personal data past its retention period"},
    {"bank", mg_cli_bank, "known answer-bank registry: import a crawl (CSV), list"},
};

static void usage(FILE *out) {
  fprintf(out,
          "moocguard %s — supervision of credit-bearing online courses\n\n"
          "usage: moocguard <command> [options]\n\ncommands:\n",
          MG_VERSION);
  for (size_t i = 0; i < sizeof k_commands / sizeof k_commands[0]; i++)
    fprintf(out, "  %-12s %s\n", k_commands[i].name, k_commands[i].summary);
  fprintf(out, "  %-12s %s\n\nRun `moocguard <command> --help` for a command's options.\n",
          "version", "print the version");
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return MG_EXIT_USAGE;
  }
  const char *cmd = argv[1];
  if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
    usage(stdout);
    return MG_EXIT_OK;
  }
  if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
    printf("moocguard %s\n", MG_VERSION);
    return MG_EXIT_OK;
  }
  for (size_t i = 0; i < sizeof k_commands / sizeof k_commands[0]; i++)
    if (!strcmp(cmd, k_commands[i].name)) return k_commands[i].run(argc - 1, argv + 1);
  fprintf(stderr, "moocguard: unknown command '%s'\n\n", cmd);
  usage(stderr);
  return MG_EXIT_USAGE;
}
