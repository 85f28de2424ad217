/* http/server.h — moocguard's HTTP/1.1 server on libmicrohttpd.
 *
 * The server collects each request (headers, query, body up to a limit) into an mg_http_req,
 * dispatches it through a route table to a handler, and sends the mg_http_resp the handler
 * filled. Handlers run on libmicrohttpd's worker threads and may block (e.g. on a durable commit).
 * Error bodies are always {"error": code, "message": text}. SIGTERM handling lives in the caller:
 * mg_http_server_stop stops accepting, lets in-flight requests finish, then returns.
 *
 * Transport protection lives here too: HTTPS (GnuTLS through libmicrohttpd, TLS 1.2+ with AEAD
 * ciphers only), security headers on every response, token-bucket rate limits per client IP
 * (checked before the body is stored) and per principal (mg_http_limit_principal, called by the
 * auth layers), and limits on slow or greedy clients (connections per IP, memory per connection,
 * idle and body time). The request target is parsed by http/router.h, not by libmicrohttpd. */
#ifndef MG_HTTP_SERVER_H
#define MG_HTTP_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/json.h"
#include "http/router.h"

typedef struct mg_http_server mg_http_server;

typedef struct mg_http_req {
  void *conn;             /* struct MHD_Connection*, for the accessors below */
  const char *method;     /* "GET", "POST", ... */
  const char *path;       /* URL path without the query string */
  mg_buf body;            /* request body, NUL-terminated */
  mg_arena pool;          /* per-request memory, released when the request completes */
  char client_ip[64];
  int64_t start_us;       /* monotonic arrival time */
  /* set by auth layers for later handlers and the access log */
  int64_t platform_id;
  char principal[80];
  /* query parameters replaced by the alternate request syntax (1.0.3), or NULL */
  mg_json *override_params;  /* in pool */
  mg_json *override_headers; /* in pool */
  mg_http_target target;     /* parsed request target; path and params in pool */
  struct mg_http_server *srv;
} mg_http_req;

typedef struct mg_http_header {
  char *name;
  char *value;
} mg_http_header;

typedef struct mg_http_resp {
  int status;
  mg_buf body;
  char content_type[128];
  mg_http_header headers[24];
  int n_headers;
} mg_http_resp;

/* Request accessors. Return NULL when absent; the strings live as long as the request. */
const char *mg_http_header_get(const mg_http_req *req, const char *name);
const char *mg_http_query_get(const mg_http_req *req, const char *name);
/* Calls cb for every query parameter (name, value); stops early on non-zero return. */
int mg_http_query_each(const mg_http_req *req, int (*cb)(void *ud, const char *k, const char *v),
                       void *ud);

/* Response helpers. Each returns MG_OK or an error code (out of memory, too many headers). */
int mg_http_resp_header(mg_http_resp *resp, const char *name, const char *value);
/* Sets status and a JSON body (serialised compactly); json is not consumed. */
int mg_http_resp_json(mg_http_resp *resp, int status, const mg_json *json);
/* Sets status and an error body {"error": code, "message": formatted}. */
int mg_http_resp_error(mg_http_resp *resp, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* A route: method ("*" for any) and a path that matches exactly, or by prefix when it ends in
 * '*'. Routes are tried in registration order. */
int mg_http_route(mg_http_server *srv, const char *method, const char *path, mg_http_handler h,
                  void *ud);

/* TLS 1.2 and 1.3 only; forward-secret key exchange; AEAD ciphers only (no CBC, RC4, 3DES). */
#define MG_HTTP_TLS_PRIORITIES                                                            \
  "SECURE128:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:+AES-256-GCM:+AES-128-GCM:" \
  "+CHACHA20-POLY1305:-MAC-ALL:+AEAD:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA:%SERVER_PRECEDENCE"

typedef struct mg_http_config {
  const char *bind;        /* address, e.g. "127.0.0.1" or "0.0.0.0" */
  int port;                /* 0 picks a free port (see mg_http_server_port) */
  int threads;             /* worker threads */
  size_t max_body;         /* larger bodies get 413 */
  int timeout_s;           /* idle connection timeout */
  int access_log;          /* log every request */
  /* Fields below are optional: zero/NULL means off, or libmicrohttpd's default. */
  const char *tls_cert;    /* PEM certificate chain file; with tls_key, the server speaks HTTPS */
  const char *tls_key;     /* PEM private key file */
  const char *tls_priorities; /* GnuTLS priorities; NULL or "" = MG_HTTP_TLS_PRIORITIES */
  int allow_plain_http;    /* allow plain HTTP on a non-loopback address */
  int rate_ip, rate_ip_burst;               /* requests/s and burst per client IP */
  int rate_principal, rate_principal_burst; /* requests/s and burst per principal */
  int rate_loopback;       /* also limit 127.0.0.0/8 and ::1 per IP (else they are exempt) */
  int max_connections;     /* in all (0 = 4096) */
  int max_conn_per_ip;
  size_t conn_memory;      /* per connection: request line, headers, I/O buffers */
  int request_timeout_s;   /* from the request line to the end of the body */
} mg_http_config;

/* Checks a configuration before anything starts: TLS files given in pairs and readable, and no
 * plain HTTP on a non-loopback address unless allow_plain_http. MG_OK, or MG_EINVAL with a
 * message for the operator in err. */
int mg_http_config_check(const mg_http_config *cfg, char *err, size_t errsize);
/* True when the linked libmicrohttpd can do TLS. */
int mg_http_tls_supported(void);
/* True when srv serves HTTPS. */
int mg_http_server_is_tls(const mg_http_server *srv);

/* Per-principal rate limit: takes a token for principal (e.g. "platform:pk_...", "user:42") after
 * the caller has authenticated it. MG_OK to go on; otherwise resp holds 429 with Retry-After and
 * the caller returns at once. Also records the principal for the access log. */
int mg_http_limit_principal(mg_http_req *req, mg_http_resp *resp, const char *principal);

/* Creates a server (not yet listening). *out owns it; free with mg_http_server_free. */
int mg_http_server_new(const mg_http_config *cfg, mg_http_server **out);
/* Starts listening. */
int mg_http_server_start(mg_http_server *srv);
/* The bound port (after start). */
int mg_http_server_port(const mg_http_server *srv);
/* Stops accepting, waits up to grace_ms for in-flight requests, then stops. */
void mg_http_server_stop(mg_http_server *srv, int grace_ms);
void mg_http_server_free(mg_http_server *srv);

#endif
