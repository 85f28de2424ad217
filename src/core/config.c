#include "core/config.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"

typedef enum { T_STR, T_INT, T_I64, T_BOOL } ctype_t;

typedef struct setting {
  const char *name;
  ctype_t type;
  size_t offset;
  size_t size; /* for strings */
  const char *def;
  const char *help;
} setting;

#define S(name, field, def, help) \
  {name, T_STR, offsetof(mg_config, field), sizeof(((mg_config *)0)->field), def, help}
#define I(name, field, def, help) {name, T_INT, offsetof(mg_config, field), 0, def, help}
#define L(name, field, def, help) {name, T_I64, offsetof(mg_config, field), 0, def, help}
#define B(name, field, def, help) {name, T_BOOL, offsetof(mg_config, field), 0, def, help}

static const setting g_settings[] = {
    S("config", config, "", "config file of `name = value` lines"),
    S("bind", bind, "127.0.0.1", "IPv4 address to listen on"),
    I("port", port, "8080", "TCP port (0 picks a free one)"),
    I("threads", threads, "16", "HTTP worker threads (0 = one thread per connection)"),
    L("max-body", max_body, "67108864", "largest request body in bytes; larger gets 413"),
    I("timeout", timeout, "60", "idle connection timeout in seconds"),
    I("grace-ms", grace_ms, "10000", "on SIGTERM, how long in-flight requests may finish"),
    S("store", store, "moocguard.db", "store: a SQLite file path, or postgres://..."),
    S("log-level", log_level, "info", "debug, info, warn or error"),
    B("access-log", access_log, "true", "log one line per HTTP request"),
    S("base-url", base_url, "http://127.0.0.1:8080",
      "public URL of this server (used in `more` links and authority homePage)"),
    I("query-limit", query_limit, "500", "largest page of statements a query returns"),
    S("xapi-version", xapi_version, "2.0.0",
      "xAPI version reported to requests that name none (2.0.0 or 1.0.3)"),
    S("keys-dir", keys_dir, "", "key directory (0700); empty: <store path>.keys"),
    L("audit-retention-days", audit_retention_days, "180",
      "days audit records are kept before a purge may remove them (at least 180)"),
    L("audit-checkpoint-every", audit_checkpoint_every, "1000",
      "audit records between signed checkpoints"),
    L("audit-checkpoint-minutes", audit_checkpoint_minutes, "60",
      "minutes after which unsigned audit records get a checkpoint"),
    I("session-idle", session_idle, "1800", "seconds of inactivity after which a session ends"),
    I("session-absolute", session_absolute, "43200", "seconds after login a session always ends"),
    I("lockout-failures", lockout_failures, "5", "failed logins in a row that lock an account"),
    I("lockout-seconds", lockout_seconds, "900", "how long a locked account stays locked"),
    S("password-hash", password_hash, "moderate",
      "argon2id cost for passwords: moderate (256 MiB) or interactive (64 MiB)"),
    S("first-admin-file", first_admin_file, "",
      "on first start, write the first security administrator's password to this new 0600 "
      "file instead of stderr"),
    S("tls-cert", tls_cert, "", "PEM certificate (chain) file; with tls-key, serve HTTPS only"),
    S("tls-key", tls_key, "", "PEM private key file for tls-cert (keep it mode 0600)"),
    S("tls-priorities", tls_priorities, "",
      "GnuTLS priority string (\"\" = built in: TLS 1.2/1.3, ECDHE, AEAD ciphers only)"),
    B("allow-plain-http", allow_plain_http, "false",
      "allow plain HTTP on a non-loopback bind address (only behind a TLS proxy)"),
    I("rate-ip", rate_ip, "200", "requests per second per client IP (0 = no limit)"),
    I("rate-ip-burst", rate_ip_burst, "400", "requests a client IP may send at once"),
    I("rate-principal", rate_principal, "1000",
      "requests per second per platform credential or user (0 = no limit)"),
    I("rate-principal-burst", rate_principal_burst, "2000",
      "requests a credential or user may send at once"),
    B("rate-loopback", rate_loopback, "false",
      "apply the per-IP limit to 127.0.0.0/8 clients too (off: local tools and benches)"),
    I("max-connections", max_connections, "4096", "most open connections in all"),
    I("max-conn-per-ip", max_conn_per_ip, "64", "most open connections from one client IP"),
    I("conn-memory", conn_memory, "65536",
      "bytes per connection for the request line, headers and I/O buffers (larger headers: 431)"),
    I("request-timeout", request_timeout, "120",
      "seconds a client may take to send a request body (slow senders are cut off)"),
    L("appeal-window", appeal_window, "864000",
      "seconds a student has to appeal a verified misconduct decision (学生申诉期限; 10 days)"),
    L("retention-findings-days", retention_findings_days, "365",
      "days after which dismissed findings are deleted by the retention job (at least 30)"),
    L("retention-network-days", retention_network_days, "548",
      "days after which statements keep only the /24 or /48 network of client-ip and lose "
      "device-id and user-agent (at least 30; default: a term plus a year)"),
    L("detect-interval-ms", detect_interval_ms, "5000",
      "serve: milliseconds between runs of the findings→inbox sync (0 = off; detection itself "
      "runs after every durable batch, see detect-live)"),
    B("detect-live", detect_live, "true",
      "serve and import feed accepted statements to the misconduct detectors (docs/detection.md)"),
};
#define N_SETTINGS (sizeof g_settings / sizeof g_settings[0])

static const setting *find(const char *name, size_t len) {
  for (size_t i = 0; i < N_SETTINGS; i++)
    if (strlen(g_settings[i].name) == len && strncmp(g_settings[i].name, name, len) == 0)
      return &g_settings[i];
  return NULL;
}

static int apply(mg_config *cfg, const setting *s, const char *value, char *err, size_t errsize) {
  char *p = (char *)cfg + s->offset;
  char *end;
  switch (s->type) {
  case T_STR:
    if (strlen(value) >= s->size) {
      snprintf(err, errsize, "%s: value longer than %zu bytes", s->name, s->size - 1);
      return MG_EINVAL;
    }
    snprintf(p, s->size, "%s", value);
    return MG_OK;
  case T_INT:
  case T_I64: {
    errno = 0;
    long long v = strtoll(value, &end, 10);
    if (errno || end == value || *end || v < 0 || (s->type == T_INT && v > 0x7fffffff)) {
      snprintf(err, errsize, "%s: '%s' is not a non-negative integer", s->name, value);
      return MG_EINVAL;
    }
    if (!strcmp(s->name, "audit-retention-days") && v < 180) {
      snprintf(err, errsize, "%s: %lld is below 180 (logs are kept at least six months: Cybersecurity Law art. 21)", s->name, v);
      return MG_EINVAL;
    }
    if (!strncmp(s->name, "audit-checkpoint-", 17) && (v < 1 || v > 1000000000)) {
      snprintf(err, errsize, "%s: '%s' must be between 1 and 1000000000", s->name, value);
      return MG_EINVAL;
    }
    if (s->type == T_INT)
      *(int *)p = (int)v;
    else
      *(int64_t *)p = v;
    return MG_OK;
  }
  case T_BOOL:
    if (!strcmp(value, "true") || !strcmp(value, "1") || !strcmp(value, "yes") ||
        !strcmp(value, "on"))
      *(int *)p = 1;
    else if (!strcmp(value, "false") || !strcmp(value, "0") || !strcmp(value, "no") ||
             !strcmp(value, "off"))
      *(int *)p = 0;
    else {
      snprintf(err, errsize, "%s: '%s' is not true/false", s->name, value);
      return MG_EINVAL;
    }
    return MG_OK;
  }
  return MG_EINVAL;
}

void mg_config_defaults(mg_config *cfg) {
  char err[64];
  memset(cfg, 0, sizeof *cfg);
  for (size_t i = 0; i < N_SETTINGS; i++) apply(cfg, &g_settings[i], g_settings[i].def, err, sizeof err);
}

int mg_config_set(mg_config *cfg, const char *name, const char *value, char *err, size_t errsize) {
  const setting *s = find(name, strlen(name));
  if (!s) {
    snprintf(err, errsize, "unknown setting '%s'", name);
    return MG_ENOTFOUND;
  }
  return apply(cfg, s, value, err, errsize);
}

static void trim(char **s) {
  while (isspace((unsigned char)**s)) (*s)++;
  size_t n = strlen(*s);
  while (n && isspace((unsigned char)(*s)[n - 1])) (*s)[--n] = '\0';
}

static int load_file(mg_config *cfg, const char *path, char *err, size_t errsize) {
  FILE *f = fopen(path, "r");
  if (!f) {
    snprintf(err, errsize, "cannot open config file %s", path);
    return MG_EIO;
  }
  char line[1024];
  int lineno = 0, rc = MG_OK;
  while (fgets(line, sizeof line, f)) {
    lineno++;
    char *p = line;
    char *hash = strchr(p, '#');
    if (hash) *hash = '\0';
    trim(&p);
    if (!*p) continue;
    char *eq = strchr(p, '=');
    if (!eq) {
      snprintf(err, errsize, "%s:%d: expected `name = value`", path, lineno);
      rc = MG_EINVAL;
      break;
    }
    *eq = '\0';
    char *k = p, *v = eq + 1;
    trim(&k);
    trim(&v);
    char sub[512];
    rc = mg_config_set(cfg, k, v, sub, sizeof sub);
    if (rc) {
      snprintf(err, errsize, "%s:%d: %s", path, lineno, sub);
      rc = MG_EINVAL;
      break;
    }
  }
  fclose(f);
  return rc;
}

int mg_config_load(mg_config *cfg, int argc, char **argv, int *rest, char *err, size_t errsize) {
  /* find --config first: the file sits below env and flags */
  for (int i = 1; i < argc; i++) {
    if (!strncmp(argv[i], "--config=", 9)) snprintf(cfg->config, sizeof cfg->config, "%s", argv[i] + 9);
    else if (!strcmp(argv[i], "--config") && i + 1 < argc)
      snprintf(cfg->config, sizeof cfg->config, "%s", argv[i + 1]);
  }
  const char *envcfg = getenv("MOOCGUARD_CONFIG");
  if (!cfg->config[0] && envcfg) snprintf(cfg->config, sizeof cfg->config, "%s", envcfg);
  if (cfg->config[0]) {
    int rc = load_file(cfg, cfg->config, err, errsize);
    if (rc) return MG_EINVAL;
  }
  for (size_t i = 0; i < N_SETTINGS; i++) {
    char env[96] = "MOOCGUARD_";
    size_t j = strlen(env);
    for (const char *p = g_settings[i].name; *p && j + 1 < sizeof env; p++)
      env[j++] = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
    env[j] = '\0';
    const char *v = getenv(env);
    if (v && apply(cfg, &g_settings[i], v, err, errsize)) return MG_EINVAL;
  }
  int i = 1;
  for (; i < argc; i++) {
    const char *a = argv[i];
    if (strncmp(a, "--", 2) != 0 || !a[2]) break;
    const char *name = a + 2;
    const char *eq = strchr(name, '=');
    size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
    const setting *s = find(name, nlen);
    const char *value;
    if (eq) {
      value = eq + 1;
    } else if (s && s->type == T_BOOL && (i + 1 >= argc || strncmp(argv[i + 1], "--", 2) == 0)) {
      value = "true";
    } else {
      if (i + 1 >= argc) {
        snprintf(err, errsize, "--%.*s needs a value", (int)nlen, name);
        return MG_EINVAL;
      }
      value = argv[++i];
    }
    if (!s) {
      snprintf(err, errsize, "unknown option --%.*s", (int)nlen, name);
      return MG_EINVAL;
    }
    if (apply(cfg, s, value, err, errsize)) return MG_EINVAL;
  }
  if (rest) *rest = i;
  return MG_OK;
}

void mg_config_print_help(FILE *out) {
  fprintf(out, "Settings (flag / environment / default):\n");
  for (size_t i = 0; i < N_SETTINGS; i++) {
    const setting *s = &g_settings[i];
    char env[96] = "MOOCGUARD_";
    size_t j = strlen(env);
    for (const char *p = s->name; *p && j + 1 < sizeof env; p++)
      env[j++] = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
    env[j] = '\0';
    fprintf(out, "  --%-12s %-24s %s\n      %s\n", s->name, env, s->def[0] ? s->def : "\"\"",
            s->help);
  }
}
