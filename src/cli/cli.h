/* cli/cli.h — the subcommands of the `moocguard` binary.
 *
 * Each takes argv after the subcommand name (argv[0] is the subcommand) and returns the process
 * exit code: 0 ok, 1 failure, 2 usage error. Every subcommand answers --help. */
#ifndef MG_CLI_CLI_H
#define MG_CLI_CLI_H

#include <stdio.h>

#include "core/config.h"

#define MG_EXIT_OK 0
#define MG_EXIT_FAIL 1
#define MG_EXIT_USAGE 2

int mg_cli_serve(int argc, char **argv);
int mg_cli_migrate(int argc, char **argv);
int mg_cli_credential(int argc, char **argv);
int mg_cli_import(int argc, char **argv);
int mg_cli_demo(int argc, char **argv);
int mg_cli_user(int argc, char **argv);
int mg_cli_simulate(int argc, char **argv);
int mg_cli_detect(int argc, char **argv);
int mg_cli_eval(int argc, char **argv);
int mg_cli_verify_audit(int argc, char **argv);
int mg_cli_audit_purge(int argc, char **argv);
int mg_cli_backup(int argc, char **argv);
int mg_cli_restore(int argc, char **argv);
int mg_cli_keys(int argc, char **argv);
int mg_cli_retention(int argc, char **argv);
int mg_cli_bank(int argc, char **argv);

/* struct mg_store (store/store.h) for the declarations below. */
struct mg_store;
/* Loads the key directory (cfg->keys_dir or "<store path>.keys"; created on first start when
 * create is set) and applies the audit settings. Prints the reason and returns an exit code. */
int mg_cli_keys_load(const char *cmd, const mg_config *cfg, int create);
/* For servers: mg_cli_keys_load(create) plus a thread that signs the audit chain head every
 * audit-checkpoint-minutes; mg_cli_security_stop ends it and signs the head a last time. */
int mg_cli_security_start(const mg_config *cfg, struct mg_store *s);
void mg_cli_security_stop(void);
/* For servers: the retention job (privacy/retention.h) once a day; stop joins the thread. */
int mg_cli_retention_start(const mg_config *cfg, struct mg_store *s);
void mg_cli_retention_stop(void);

/* Shared by detect and eval: adds the items of a known-bank CSV (item_iri,answer[,source]; bad
 * lines skipped, as `bank import` would refuse them) to a detector. *n: items added. MG_OK,
 * MG_EIO, MG_ENOMEM, MG_EINVAL (file over 1 GiB). (bank.c) */
struct mg_detect;
int mg_cli_bank_load(struct mg_detect *d, const char *path, size_t *n);

/* Shared by subcommands: true if argv has -h or --help. */
int mg_cli_wants_help(int argc, char **argv);
/* Removes "--name value" or "--name=value" from argv; *value points into argv (not copied).
 * Returns 1 if found, 0 if absent, -1 if the value is missing. */
int mg_cli_take_opt(int *argc, char **argv, const char *name, const char **value);
/* Removes a valueless flag "--name"; returns 1 if it was present. */
int mg_cli_take_flag(int *argc, char **argv, const char *name);
/* Loads settings (defaults, file, env, flags) from what is left of argv; no positional
 * arguments allowed. Prints the error and returns MG_EXIT_USAGE on failure, else MG_EXIT_OK. */
int mg_cli_load_config(const char *cmd, mg_config *cfg, int argc, char **argv);

/* Runs the HTTP server with cfg until SIGTERM/SIGINT; prints `banner` (may be NULL) once
 * listening. Returns an exit code. */
int mg_cli_run_server(const mg_config *cfg, const char *banner);
/* Fills the HTTP server configuration (http/server.h) from the settings; strings are borrowed. */
struct mg_http_config;
void mg_cli_http_config(const mg_config *cfg, struct mg_http_config *hc);

#endif
