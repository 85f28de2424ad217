/* core/config.h — moocguard's settings, from one typed table.
 *
 * Each setting has a name, a type, a default and a help line. Values come, lowest priority
 * first, from the defaults, a config file (`name = value` lines, `#` comments), environment
 * variables (MOOCGUARD_<NAME> upper-cased, '-' as '_'), and command-line flags (--name value or
 * --name=value). `moocguard serve --help` prints the table. */
#ifndef MG_CORE_CONFIG_H
#define MG_CORE_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct mg_config {
  char config[512];     /* config file path ("" = none) */
  char bind[64];
  int port;
  int threads;
  int64_t max_body;
  int timeout;
  int grace_ms;
  char store[512];
  char log_level[16];
  int access_log;
  char base_url[256];
  int query_limit;
  char xapi_version[16];
  char keys_dir[512];              /* key directory ("" = "<store path>.keys") */
  int64_t audit_retention_days;    /* >= 180 (GB/T 22239 level 3: logs kept six months) */
  int64_t audit_checkpoint_every;  /* records between signed checkpoints */
  int64_t audit_checkpoint_minutes;
  /* people and sessions (auth/) */
  int session_idle;         /* seconds without a request before a session ends */
  int session_absolute;     /* seconds after login a session ends regardless */
  int lockout_failures;     /* failed logins that lock an account */
  int lockout_seconds;      /* how long it stays locked */
  char password_hash[16];   /* argon2id cost: "moderate" or "interactive" */
  char first_admin_file[512]; /* where the first security administrator's password goes */
  /* transport security and abuse limits (http/server.h) */
  char tls_cert[512];      /* PEM certificate chain; "" = plain HTTP */
  char tls_key[512];       /* PEM private key */
  char tls_priorities[512];/* GnuTLS priority string */
  int allow_plain_http;    /* permit plain HTTP on a non-loopback address */
  int rate_ip;             /* requests/s per client IP (0 = off) */
  int rate_ip_burst;
  int rate_principal;      /* requests/s per credential or user (0 = off) */
  int rate_principal_burst;
  int rate_loopback;       /* apply the per-IP limit to 127.0.0.0/8 too */
  int max_connections;
  int max_conn_per_ip;
  int conn_memory;         /* bytes per connection for request line, headers and buffers */
  int request_timeout;     /* seconds from the end of the headers to the end of the body */
  int64_t appeal_window; /* cases: seconds a student has to appeal a verified decision */
  /* retention of personal data (privacy/retention.h) */
  int64_t retention_findings_days; /* dismissed findings are deleted after this many days */
  int64_t retention_network_days;  /* statements older than this lose device-id, user-agent and
                                      the host part of client-ip */
  int64_t detect_interval_ms; /* serve: findings→inbox sync period (0 = off) */
  int detect_live;       /* run the live detector thread in serve / import (detect/live.h) */
} mg_config;

/* Fills cfg with the defaults. */
void mg_config_defaults(mg_config *cfg);
/* Applies a config file, then the environment, then argv flags (argv[0] is not a flag; stops at
 * the first non-flag argument and returns its index in *rest, or argc). A boolean flag given
 * alone means true. Returns MG_OK, or MG_EINVAL with a message in err. */
int mg_config_load(mg_config *cfg, int argc, char **argv, int *rest, char *err, size_t errsize);
/* Sets one setting by name from text. MG_OK, MG_ENOTFOUND or MG_EINVAL (message in err). */
int mg_config_set(mg_config *cfg, const char *name, const char *value, char *err, size_t errsize);
/* Prints the settings table (name, env, default, help). */
void mg_config_print_help(FILE *out);

#endif
