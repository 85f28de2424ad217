#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "api/routes.h"
#include "auth/credential.h"
#include "auth/user.h"
#include "cases/job.h"
#include "cli/cli.h"
#include "core/err.h"
#include "core/log.h"
#include "detect/live.h"
#include "http/lrs.h"
#include "http/server.h"
#include "store/store.h"

int mg_cli_wants_help(int argc, char **argv) {
  for (int i = 1; i < argc; i++)
    if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) return 1;
  return 0;
}

void mg_cli_http_config(const mg_config *cfg, mg_http_config *hc) {
  memset(hc, 0, sizeof *hc);
  hc->bind = cfg->bind;
  hc->port = cfg->port;
  hc->threads = cfg->threads;
  hc->max_body = (size_t)cfg->max_body;
  hc->timeout_s = cfg->timeout;
  hc->access_log = cfg->access_log;
  hc->tls_cert = cfg->tls_cert;
  hc->tls_key = cfg->tls_key;
  hc->tls_priorities = cfg->tls_priorities;
  hc->allow_plain_http = cfg->allow_plain_http;
  hc->rate_ip = cfg->rate_ip;
  hc->rate_ip_burst = cfg->rate_ip_burst;
  hc->rate_principal = cfg->rate_principal;
  hc->rate_principal_burst = cfg->rate_principal_burst;
  hc->rate_loopback = cfg->rate_loopback;
  hc->max_connections = cfg->max_connections;
  hc->max_conn_per_ip = cfg->max_conn_per_ip;
  hc->conn_memory = (size_t)cfg->conn_memory;
  hc->request_timeout_s = cfg->request_timeout;
}

int mg_cli_run_server(const mg_config *cfg, const char *banner) {
  int code = MG_EXIT_FAIL;
  mg_store *store = NULL;
  mg_auth *auth = NULL;
  mg_http_server *srv = NULL;
  mg_api *api = NULL;
  mg_cases_job *job = NULL;
  mg_detect_live *live = NULL;
  mg_lrs lrs;
  char port[16];
  mg_log_level lvl;

  if (mg_log_parse_level(cfg->log_level, &lvl) == MG_OK) mg_log_set_level(lvl);
  /* Block the stop signals before any thread starts so only sigwait below sees them. */
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, NULL);
  signal(SIGPIPE, SIG_IGN);

  int applied = 0;
  int rc = mg_store_open(cfg->store, &store, &applied);
  if (rc) {
    mg_log(MG_LOG_ERROR, "store.open", "store", cfg->store, "error", mg_strerror(rc), NULL);
    goto out;
  }
  if (mg_cli_security_start(cfg, store)) goto out; /* keys (first start: generated), audit */
  if (mg_cli_retention_start(cfg, store)) goto out; /* daily retention job */
  if (mg_auth_new(store, &auth)) goto out;
  if (mg_auth_bootstrap(store, cfg, stderr, NULL)) goto out; /* first security administrator */
  memset(&lrs, 0, sizeof lrs);
  lrs.store = store;
  lrs.auth = auth;
  snprintf(lrs.base_url, sizeof lrs.base_url, "%s", cfg->base_url);
  lrs.query_limit = cfg->query_limit > 0 ? cfg->query_limit : 500;
  if (mg_xapi_version_parse(cfg->xapi_version, &lrs.default_version) != MG_OK) {
    mg_log(MG_LOG_ERROR, "serve.config", "msg", "xapi-version must be 2.0.0 or 1.0.3", "value",
           cfg->xapi_version, NULL);
    goto out;
  }

  if (cfg->detect_live) { /* after every durable batch; never in the way of the ack */
    rc = mg_detect_live_start(store, NULL, &live);
    if (rc) {
      mg_log(MG_LOG_ERROR, "detect.live.start", "error", mg_strerror(rc), NULL);
      goto out;
    }
    lrs.on_durable = mg_detect_live_notify;
    lrs.on_durable_ud = live;
  }

  mg_http_config hc;
  mg_cli_http_config(cfg, &hc);
  if (mg_http_server_new(&hc, &srv) || mg_lrs_register(srv, &lrs)) goto out;
  if (mg_api_create(srv, store, cfg, &api) || mg_api_mount_all(api)) goto out; /* /api/v1 */
  rc = mg_http_server_start(srv);
  if (rc) {
    mg_log(MG_LOG_ERROR, "serve.listen", "bind", cfg->bind, "error", mg_strerror(rc), NULL);
    goto out;
  }
  /* findings → inbox (cases/job.h); detection itself is detect/live.c above */
  if (cfg->detect_interval_ms > 0 && mg_cases_job_start(store, cfg->detect_interval_ms, &job))
    goto out;
  snprintf(port, sizeof port, "%d", mg_http_server_port(srv));
  char migrations[16];
  snprintf(migrations, sizeof migrations, "%d", applied);
  mg_log(MG_LOG_INFO, "serve.start", "bind", cfg->bind, "port", port, "store", cfg->store,
         "backend", mg_store_backend(store), "migrations_applied", migrations, "tls",
         mg_http_server_is_tls(srv) ? "on" : "off", NULL);
  if (banner) {
    fputs(banner, stdout);
    fflush(stdout);
  }
  int sig = 0;
  sigwait(&stop, &sig);
  mg_log(MG_LOG_INFO, "serve.stopping", "signal", sig == SIGTERM ? "SIGTERM" : "SIGINT", NULL);
  mg_http_server_stop(srv, cfg->grace_ms);
  code = MG_EXIT_OK;
out:
  mg_http_server_free(srv);
  mg_cases_job_stop(job);
  srv = NULL;
  if (live && mg_detect_live_stop(live) != MG_OK) code = MG_EXIT_FAIL; /* after the last ingest */
  if (code == MG_EXIT_OK) mg_log(MG_LOG_INFO, "serve.stopped", NULL);
  mg_api_free(api);
  mg_cli_retention_stop();
  mg_cli_security_stop();
  mg_auth_free(auth);
  mg_store_close(store);
  return code;
}

int mg_cli_serve(int argc, char **argv) {
  mg_config cfg;
  if (mg_cli_wants_help(argc, argv)) {
    printf("usage: moocguard serve [--setting value ...]\n\n"
           "Runs the xAPI LRS (/xapi) and API (/api/v1) until SIGTERM or SIGINT; on SIGTERM it\n"
           "stops accepting connections and lets in-flight requests finish (--grace-ms).\n\n");
    mg_config_print_help(stdout);
    return MG_EXIT_OK;
  }
  int code = mg_cli_load_config("serve", &cfg, argc, argv);
  if (code) return code;
  mg_http_config hc;
  char err[512];
  mg_cli_http_config(&cfg, &hc);
  if (mg_http_config_check(&hc, err, sizeof err) != MG_OK) {
    fprintf(stderr, "moocguard serve: %s\n", err);
    return MG_EXIT_USAGE;
  }
  return mg_cli_run_server(&cfg, NULL);
}

int mg_cli_migrate(int argc, char **argv) {
  mg_config cfg;
  if (mg_cli_wants_help(argc, argv)) {
    printf("usage: moocguard migrate [--store PATH] [--json]\n\n"
           "Creates the store if needed and applies every pending numbered migration.\n");
    return MG_EXIT_OK;
  }
  int json = mg_cli_take_flag(&argc, argv, "--json");
  int code = mg_cli_load_config("migrate", &cfg, argc, argv);
  if (code) return code;
  mg_store *s = NULL;
  int applied = 0, version = 0;
  int rc = mg_store_open(cfg.store, &s, &applied);
  if (rc) {
    fprintf(stderr, "moocguard migrate: cannot open %s: %s\n", cfg.store, mg_strerror(rc));
    return MG_EXIT_FAIL;
  }
  mg_store_schema_version(s, &version);
  if (json)
    printf("{\"backend\":\"%s\",\"applied\":%d,\"schema_version\":%d}\n", mg_store_backend(s),
           applied, version);
  else
    printf("%s: applied %d migration(s); schema version %d\n", cfg.store, applied, version);
  mg_store_close(s);
  return MG_EXIT_OK;
}
