/* `moocguard demo`: a fresh store in ./demo-data, a platform credential, and the server on
 * 127.0.0.1, with a banner that says how to reach it. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/credential.h"
#include "cli/cli.h"
#include "core/err.h"
#include "store/store.h"

int mg_cli_demo(int argc, char **argv) {
  if (mg_cli_wants_help(argc, argv)) {
    printf("usage: moocguard demo [--dir DIR] [--keep] [--port N] [--bind ADDR]\n\n"
           "Creates a fresh demo store in DIR (default ./demo-data; --keep reuses it), a platform\n"
           "credential for a demo course platform, and serves it until Ctrl-C.\n");
    return MG_EXIT_OK;
  }
  const char *dir = "demo-data";
  int keep = mg_cli_take_flag(&argc, argv, "--keep");
  if (mg_cli_take_opt(&argc, argv, "--dir", &dir) < 0) {
    fprintf(stderr, "moocguard demo: --dir needs a value\n");
    return MG_EXIT_USAGE;
  }
  mg_config cfg;
  int code = mg_cli_load_config("demo", &cfg, argc, argv);
  if (code) return code;
  if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
    fprintf(stderr, "moocguard demo: cannot create %s: %s\n", dir, strerror(errno));
    return MG_EXIT_FAIL;
  }
  snprintf(cfg.store, sizeof cfg.store, "%s/moocguard.db", dir);
  if (!keep) {
    static const char *const suffixes[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
      char p[600];
      snprintf(p, sizeof p, "%s%s", cfg.store, suffixes[i]);
      unlink(p);
    }
  }
  mg_store *s = NULL;
  int rc = mg_store_open(cfg.store, &s, NULL);
  if (rc) {
    fprintf(stderr, "moocguard demo: cannot open %s: %s\n", cfg.store, mg_strerror(rc));
    return MG_EXIT_FAIL;
  }
  char key[64], secret[64];
  rc = mg_auth_credential_create(s, "示范课程平台 Demo Course Platform", 1, key, secret);
  mg_store_close(s);
  if (rc) {
    fprintf(stderr, "moocguard demo: cannot create a credential: %s\n", mg_strerror(rc));
    return MG_EXIT_FAIL;
  }
  char url[128];
  snprintf(url, sizeof url, "http://%s:%d", cfg.bind, cfg.port);
  snprintf(cfg.base_url, sizeof cfg.base_url, "%s", url);
  char banner[2048];
  snprintf(banner, sizeof banner,
           "\n  moocguard demo is running\n\n"
           "  LRS endpoint   %s/xapi/\n"
           "  platform key   %s\n"
           "  secret         %s\n"
           "  store          %s\n\n"
           "  try:  curl -s %s/xapi/about\n"
           "        curl -s -u %s:%s -H 'X-Experience-API-Version: 2.0.0' \\\n"
           "             '%s/xapi/statements?limit=5'\n\n"
           "  Ctrl-C stops it.\n\n",
           url, key, secret, cfg.store, url, key, secret, url);
  return mg_cli_run_server(&cfg, banner);
}
