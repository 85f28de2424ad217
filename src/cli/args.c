#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/err.h"

static void drop(int *argc, char **argv, int i, int count) {
  for (int j = i; j + count < *argc; j++) argv[j] = argv[j + count];
  *argc -= count;
}

int mg_cli_take_opt(int *argc, char **argv, const char *name, const char **value) {
  size_t n = strlen(name);
  for (int i = 1; i < *argc; i++) {
    if (strncmp(argv[i], name, n) != 0) continue;
    if (argv[i][n] == '=') {
      *value = argv[i] + n + 1;
      drop(argc, argv, i, 1);
      return 1;
    }
    if (argv[i][n] == '\0') {
      if (i + 1 >= *argc) return -1;
      *value = argv[i + 1];
      drop(argc, argv, i, 2);
      return 1;
    }
  }
  return 0;
}

int mg_cli_take_flag(int *argc, char **argv, const char *name) {
  for (int i = 1; i < *argc; i++)
    if (!strcmp(argv[i], name)) {
      drop(argc, argv, i, 1);
      return 1;
    }
  return 0;
}

int mg_cli_load_config(const char *cmd, mg_config *cfg, int argc, char **argv) {
  char err[512];
  int rest = argc;
  mg_config_defaults(cfg);
  if (mg_config_load(cfg, argc, argv, &rest, err, sizeof err) != MG_OK) {
    fprintf(stderr, "moocguard %s: %s\n", cmd, err);
    return MG_EXIT_USAGE;
  }
  if (rest < argc) {
    fprintf(stderr, "moocguard %s: unexpected argument '%s'\n", cmd, argv[rest]);
    return MG_EXIT_USAGE;
  }
  return MG_EXIT_OK;
}
