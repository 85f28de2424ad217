#include "http/server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/err.h"
#include "core/log.h"
#include "core/time.h"
#include "http/ratelimit.h"

/* Distinct keys each limiter remembers; 64 Ki buckets are about 2 MiB. */
#define RATE_BUCKETS 65536

struct mg_http_server {
  mg_http_config cfg;
  struct MHD_Daemon *daemon;
  mg_http_router router;
  atomic_int inflight;
  int port;
  int tls;
  char *tls_cert_pem, *tls_key_pem; /* must outlive the daemon */
  size_t tls_key_len;
  mg_ratelimit *rl_ip, *rl_principal;
};

/* Why a request is refused before its handler runs; its body is read but not kept. */
enum refusal { R_NONE, R_TOO_BIG, R_BAD_TARGET, R_RATE_IP };

typedef struct reqctx {
  mg_http_req req;
  mg_http_server *srv;
  int started;     /* the access handler has seen this request */
  int refusal;     /* enum refusal */
  int retry_after; /* for R_RATE_IP */
  int target_rc;
  char target_err[256];
  int status;      /* for the access log */
} reqctx;

/* ---- request accessors -------------------------------------------------------------------- */

const char *mg_http_header_get(const mg_http_req *req, const char *name) {
  if (req->override_headers) {
    /* alternate request syntax: headers travel in the form body, matched case-insensitively */
    const char *k;
    mg_json *v;
    mg_json_object_foreach(req->override_headers, k, v) {
      if (strcasecmp(k, name) == 0 && mg_json_is_string(v)) return mg_json_string_value(v);
    }
  }
  if (!req->conn) return NULL;
  return MHD_lookup_connection_value((struct MHD_Connection *)req->conn, MHD_HEADER_KIND, name);
}

/* Query parameter names are case-sensitive (xAPI rejects "StatementId"). The parameters come
 * from our own parse of the raw target (http/router.h), not from libmicrohttpd's. */
const char *mg_http_query_get(const mg_http_req *req, const char *name) {
  if (req->override_params) {
    return mg_json_string_value(mg_json_object_get(req->override_params, name));
  }
  return mg_http_target_param(&req->target, name);
}

int mg_http_query_each(const mg_http_req *req, int (*cb)(void *ud, const char *k, const char *v),
                       void *ud) {
  if (req->override_params) {
    const char *k;
    mg_json *v;
    mg_json_object_foreach(req->override_params, k, v) {
      int rc = cb(ud, k, mg_json_is_string(v) ? mg_json_string_value(v) : "");
      if (rc) return rc;
    }
    return MG_OK;
  }
  for (size_t i = 0; i < req->target.n_params; i++) {
    int rc = cb(ud, req->target.params[i].name, req->target.params[i].value);
    if (rc) return rc;
  }
  return MG_OK;
}

/* ---- response helpers --------------------------------------------------------------------- */

int mg_http_resp_header(mg_http_resp *resp, const char *name, const char *value) {
  for (int i = 0; i < resp->n_headers; i++) {
    if (strcasecmp(resp->headers[i].name, name) == 0) {
      char *v = strdup(value);
      if (!v) return MG_ENOMEM;
      free(resp->headers[i].value);
      resp->headers[i].value = v;
      return MG_OK;
    }
  }
  if (resp->n_headers >= (int)(sizeof resp->headers / sizeof resp->headers[0])) return MG_ETOOBIG;
  char *n = strdup(name), *v = strdup(value);
  if (!n || !v) {
    free(n);
    free(v);
    return MG_ENOMEM;
  }
  resp->headers[resp->n_headers].name = n;
  resp->headers[resp->n_headers].value = v;
  resp->n_headers++;
  return MG_OK;
}

int mg_http_resp_json(mg_http_resp *resp, int status, const mg_json *json) {
  resp->status = status;
  mg_buf_reset(&resp->body);
  snprintf(resp->content_type, sizeof resp->content_type, "application/json");
  return mg_json_dump(json, &resp->body);
}

int mg_http_resp_error(mg_http_resp *resp, int status, const char *code, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  resp->status = status;
  mg_buf_reset(&resp->body);
  snprintf(resp->content_type, sizeof resp->content_type, "application/json");
  int rc = mg_buf_adds(&resp->body, "{\"error\":\"");
  if (!rc) rc = mg_buf_add_json_str(&resp->body, code, strlen(code));
  if (!rc) rc = mg_buf_adds(&resp->body, "\",\"message\":\"");
  if (!rc) rc = mg_buf_add_json_str(&resp->body, msg, strlen(msg));
  if (!rc) rc = mg_buf_adds(&resp->body, "\"}");
  return rc;
}

static void resp_free(mg_http_resp *resp) {
  for (int i = 0; i < resp->n_headers; i++) {
    free(resp->headers[i].name);
    free(resp->headers[i].value);
  }
  resp->n_headers = 0;
  mg_buf_free(&resp->body);
}

/* ---- routing ------------------------------------------------------------------------------ */

int mg_http_route(mg_http_server *srv, const char *method, const char *path, mg_http_handler h,
                  void *ud) {
  return mg_http_router_add(&srv->router, method, path, h, ud);
}

static void add_cors(mg_http_req *req, mg_http_resp *resp) {
  const char *origin = mg_http_header_get(req, "Origin");
  if (!origin) return;
  mg_http_resp_header(resp, "Access-Control-Allow-Origin", origin);
  mg_http_resp_header(resp, "Vary", "Origin");
  mg_http_resp_header(resp, "Access-Control-Expose-Headers",
                      "ETag, Last-Modified, Content-Type, X-Experience-API-Version, "
                      "X-Experience-API-Consistent-Through");
}

static void dispatch(mg_http_server *srv, mg_http_req *req, mg_http_resp *resp) {
  const char *method = req->method;
  if (strcmp(method, "OPTIONS") == 0) {
    /* CORS preflight: allow what the LRS and API use. */
    resp->status = 204;
    const char *origin = mg_http_header_get(req, "Origin");
    mg_http_resp_header(resp, "Access-Control-Allow-Origin", origin ? origin : "*");
    mg_http_resp_header(resp, "Access-Control-Allow-Methods",
                        "GET, HEAD, POST, PUT, DELETE, OPTIONS");
    mg_http_resp_header(resp, "Access-Control-Allow-Headers",
                        "Content-Type, Authorization, X-Experience-API-Version, If-Match, "
                        "If-None-Match, X-CSRF-Token");
    mg_http_resp_header(resp, "Access-Control-Max-Age", "600");
    return;
  }
  if (strcmp(method, "HEAD") == 0) method = "GET"; /* MHD sends no body for HEAD */
  int known;
  const mg_http_route_def *r = mg_http_router_match(&srv->router, method, req->path, &known);
  if (!r) {
    if (known)
      mg_http_resp_error(resp, 405, "method_not_allowed", "%s is not allowed on %s", req->method,
                         req->path);
    else
      mg_http_resp_error(resp, 404, "not_found", "no resource at %s", req->path);
  } else {
    r->handler(req, resp, r->ud);
  }
  add_cors(req, resp);
}

/* ---- limits -------------------------------------------------------------------------------- */

static int ip_is_loopback(const char *ip) {
  return strncmp(ip, "127.", 4) == 0 || strcmp(ip, "::1") == 0 || strncmp(ip, "::ffff:127.", 11) == 0;
}

static void set_retry_after(mg_http_resp *resp, int seconds) {
  char ra[16];
  snprintf(ra, sizeof ra, "%d", seconds);
  mg_http_resp_header(resp, "Retry-After", ra);
}

int mg_http_limit_principal(mg_http_req *req, mg_http_resp *resp, const char *principal) {
  if (req->principal[0] == '\0' || strcmp(req->principal, principal) != 0)
    snprintf(req->principal, sizeof req->principal, "%s", principal);
  mg_http_server *srv = req->srv;
  if (!srv || !srv->rl_principal) return MG_OK;
  int wait = 1;
  if (mg_ratelimit_take(srv->rl_principal, principal, strlen(principal), mg_time_mono_us(),
                        &wait) == MG_OK)
    return MG_OK;
  mg_http_resp_error(resp, 429, "rate_limited",
                     "too many requests for %.*s: the limit is %d per second (burst %d); "
                     "retry after %d s",
                     mg_utf8_prefix(principal, 80), principal, srv->cfg.rate_principal,
                     srv->cfg.rate_principal_burst, wait);
  set_retry_after(resp, wait);
  mg_log(MG_LOG_WARN, "http.rate_limited", "who", principal, "ip", req->client_ip, NULL);
  return MG_EBUSY;
}

/* ---- libmicrohttpd glue ------------------------------------------------------------------- */

static void client_ip(struct MHD_Connection *c, char *out, size_t size) {
  const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  snprintf(out, size, "-");
  if (!ci || !ci->client_addr) return;
  const struct sockaddr *sa = ci->client_addr;
  if (sa->sa_family == AF_INET)
    inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, (socklen_t)size);
  else if (sa->sa_family == AF_INET6)
    inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out, (socklen_t)size);
}

static int resp_has(const mg_http_resp *resp, const char *name) {
  for (int i = 0; i < resp->n_headers; i++)
    if (strcasecmp(resp->headers[i].name, name) == 0) return 1;
  return 0;
}

/* Headers every response carries unless its handler chose otherwise: JSON APIs are never
 * framed, sniffed, cached or given a Referer, and HTTPS is pinned for a year. */
static void add_security_headers(const mg_http_server *srv, struct MHD_Response *r,
                                 const mg_http_resp *resp) {
  static const char *const defaults[][2] = {
      {"X-Content-Type-Options", "nosniff"},
      {"X-Frame-Options", "DENY"},
      {"Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"},
      {"Referrer-Policy", "no-referrer"},
      {"Cache-Control", "no-store"},
  };
  for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++)
    if (!resp_has(resp, defaults[i][0])) MHD_add_response_header(r, defaults[i][0], defaults[i][1]);
  if (srv->tls && !resp_has(resp, "Strict-Transport-Security"))
    MHD_add_response_header(r, "Strict-Transport-Security", "max-age=31536000; includeSubDomains");
}

static enum MHD_Result send_resp(const mg_http_server *srv, struct MHD_Connection *c,
                                 mg_http_resp *resp) {
  size_t len = resp->body.len;
  char *data = mg_buf_take(&resp->body);
  if (!data) return MHD_NO;
  struct MHD_Response *r = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
  if (!r) {
    free(data);
    return MHD_NO;
  }
  if (len || resp->content_type[0])
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                            resp->content_type[0] ? resp->content_type : "application/json");
  add_security_headers(srv, r, resp);
  for (int i = 0; i < resp->n_headers; i++)
    MHD_add_response_header(r, resp->headers[i].name, resp->headers[i].value);
  enum MHD_Result ret = MHD_queue_response(c, (unsigned)resp->status, r);
  MHD_destroy_response(r);
  return ret;
}

/* Called once per request with the raw target, before libmicrohttpd parses it: the request
 * context starts here so the target is parsed by our code (http/router.h). The context is
 * freed in on_completed, which libmicrohttpd calls for every request that reached this point. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c) {
  mg_http_server *srv = cls;
  reqctx *rc = calloc(1, sizeof *rc);
  if (!rc) return NULL;
  rc->srv = srv;
  rc->req.srv = srv;
  rc->req.conn = c;
  rc->req.start_us = mg_time_mono_us();
  mg_buf_init(&rc->req.body, srv->cfg.max_body);
  /* JSON of a maximal body takes a few times its size; bound the arena accordingly */
  mg_arena_init(&rc->req.pool, 64 * 1024, srv->cfg.max_body * 8 + (1u << 20));
  client_ip(c, rc->req.client_ip, sizeof rc->req.client_ip);
  atomic_fetch_add(&srv->inflight, 1);
  size_t n = strnlen(uri, MG_HTTP_MAX_TARGET + 1);
  rc->target_rc = mg_http_target_parse(&rc->req.pool, uri, n, &rc->req.target, rc->target_err,
                                       sizeof rc->target_err);
  return rc;
}

/* First call for a request (headers complete): decide whether it will be refused. */
static void first_call(mg_http_server *srv, reqctx *rc, struct MHD_Connection *c,
                       const char *url, const char *method) {
  rc->started = 1;
  rc->req.method = method;
  rc->req.path = rc->target_rc == MG_OK ? rc->req.target.path : url;
  if (rc->target_rc != MG_OK) {
    rc->refusal = R_BAD_TARGET;
    return;
  }
  if (srv->rl_ip && (srv->cfg.rate_loopback || !ip_is_loopback(rc->req.client_ip)) &&
      mg_ratelimit_take(srv->rl_ip, rc->req.client_ip, strlen(rc->req.client_ip),
                        mg_time_mono_us(), &rc->retry_after) != MG_OK) {
    rc->refusal = R_RATE_IP;
    return;
  }
  const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
  if (cl) {
    char *end;
    unsigned long long n = strtoull(cl, &end, 10);
    if (*end == '\0' && n > srv->cfg.max_body) rc->refusal = R_TOO_BIG;
    /* one allocation for an announced body instead of log2(n) regrowths and copies */
    else if (*end == '\0' && n > 0 && mg_buf_reserve(&rc->req.body, (size_t)n) != MG_OK)
      rc->refusal = R_TOO_BIG;
  }
}

static void refuse(mg_http_server *srv, reqctx *rc, mg_http_resp *resp) {
  switch (rc->refusal) {
  case R_TOO_BIG:
    mg_http_resp_error(resp, 413, "payload_too_large",
                       "request body exceeds the limit of %zu bytes", srv->cfg.max_body);
    break;
  case R_BAD_TARGET:
    mg_http_resp_error(resp, rc->target_rc == MG_ETOOBIG ? 414 : 400,
                       rc->target_rc == MG_ETOOBIG ? "uri_too_long" : "bad_request_target",
                       "%s", rc->target_err);
    break;
  default:
    mg_http_resp_error(resp, 429, "rate_limited",
                       "too many requests from %s: the limit is %d per second (burst %d); "
                       "retry after %d s",
                       rc->req.client_ip, srv->cfg.rate_ip, srv->cfg.rate_ip_burst,
                       rc->retry_after);
    set_retry_after(resp, rc->retry_after);
    mg_log(MG_LOG_WARN, "http.rate_limited", "ip", rc->req.client_ip, NULL);
    break;
  }
  mg_http_resp_header(resp, "Connection", "close");
  add_cors(&rc->req, resp); /* so a browser client can read why */
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls) {
  (void)version;
  mg_http_server *srv = cls;
  reqctx *rc = *con_cls;
  if (!rc) return MHD_NO; /* on_uri ran out of memory: drop the connection */
  if (!rc->started) {
    first_call(srv, rc, c, url, method);
    return MHD_YES;
  }
  if (srv->cfg.request_timeout_s > 0 &&
      mg_time_mono_us() - rc->req.start_us > (int64_t)srv->cfg.request_timeout_s * 1000000) {
    /* a client trickling its body: cut it off rather than hold the connection */
    mg_log(MG_LOG_WARN, "http.slow_client", "ip", rc->req.client_ip, "path", rc->req.path, NULL);
    rc->status = 408;
    return MHD_NO;
  }
  if (*upload_data_size) {
    if (!rc->refusal && mg_buf_add(&rc->req.body, upload_data, *upload_data_size) != MG_OK)
      rc->refusal = R_TOO_BIG;
    *upload_data_size = 0;
    return MHD_YES;
  }
  mg_http_resp resp;
  memset(&resp, 0, sizeof resp);
  mg_buf_init(&resp.body, (size_t)1 << 31);
  if (rc->refusal) {
    refuse(srv, rc, &resp);
  } else {
    if (!rc->req.body.data) mg_buf_add(&rc->req.body, "", 0); /* body is always a string */
    dispatch(srv, &rc->req, &resp);
  }
  rc->status = resp.status;
  enum MHD_Result ret = send_resp(srv, c, &resp);
  resp_free(&resp);
  return ret;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
  (void)c;
  mg_http_server *srv = cls;
  reqctx *rc = *con_cls;
  if (!rc) return;
  if (srv->cfg.access_log && rc->started) {
    char status[8], dur[24];
    snprintf(status, sizeof status, "%d", rc->status);
    snprintf(dur, sizeof dur, "%lld", (long long)(mg_time_mono_us() - rc->req.start_us));
    mg_log(MG_LOG_INFO, "http.request", "method", rc->req.method, "path", rc->req.path, "status",
           status, "us", dur, "ip", rc->req.client_ip, "who",
           rc->req.principal[0] ? rc->req.principal : "-", "ok",
           toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "1" : "0", NULL);
  }
  mg_buf_free(&rc->req.body);
  mg_arena_free(&rc->req.pool);
  free(rc);
  *con_cls = NULL;
  atomic_fetch_sub(&srv->inflight, 1);
}

__attribute__((format(printf, 2, 0))) static void mhd_log(void *cls, const char *fmt, va_list ap) {
  (void)cls;
  char msg[512];
  vsnprintf(msg, sizeof msg, fmt, ap);
  size_t n = strlen(msg);
  while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r')) msg[--n] = '\0';
  mg_log(MG_LOG_WARN, "http.mhd", "msg", msg, NULL);
}

/* ---- configuration and lifecycle ---------------------------------------------------------- */

int mg_http_tls_supported(void) { return MHD_is_feature_supported(MHD_FEATURE_TLS) == MHD_YES; }

static int bind_is_loopback(const char *bind) {
  struct in_addr a;
  if (inet_pton(AF_INET, bind, &a) != 1) return 0;
  return (ntohl(a.s_addr) >> 24) == 127;
}

int mg_http_config_check(const mg_http_config *cfg, char *err, size_t errsize) {
  int cert = cfg->tls_cert && cfg->tls_cert[0], key = cfg->tls_key && cfg->tls_key[0];
  if (cert != key) {
    snprintf(err, errsize, "tls-cert and tls-key must be given together (got only %s)",
             cert ? "tls-cert" : "tls-key");
    return MG_EINVAL;
  }
  if (cert && !mg_http_tls_supported()) {
    snprintf(err, errsize, "this libmicrohttpd was built without TLS support");
    return MG_EINVAL;
  }
  const char *files[2] = {cfg->tls_cert, cfg->tls_key};
  for (int i = 0; cert && i < 2; i++) {
    if (access(files[i], R_OK) != 0) {
      snprintf(err, errsize, "%s '%s' cannot be read", i ? "tls-key" : "tls-cert", files[i]);
      return MG_EINVAL;
    }
  }
  if (!cert && !cfg->allow_plain_http && !bind_is_loopback(cfg->bind)) {
    snprintf(err, errsize,
             "refusing plain HTTP on %s, which is not a loopback address: set tls-cert and "
             "tls-key, or allow-plain-http=true if a TLS proxy is in front",
             cfg->bind);
    return MG_EINVAL;
  }
  return MG_OK;
}

int mg_http_server_new(const mg_http_config *cfg, mg_http_server **out) {
  mg_http_server *srv = calloc(1, sizeof *srv);
  if (!srv) return MG_ENOMEM;
  srv->cfg = *cfg;
  atomic_init(&srv->inflight, 0);
  mg_http_router_init(&srv->router);
  int rc = MG_OK;
  if (cfg->rate_ip > 0)
    rc = mg_ratelimit_new(cfg->rate_ip, cfg->rate_ip_burst > 0 ? cfg->rate_ip_burst : cfg->rate_ip,
                          RATE_BUCKETS, &srv->rl_ip);
  if (!rc && cfg->rate_principal > 0)
    rc = mg_ratelimit_new(cfg->rate_principal,
                          cfg->rate_principal_burst > 0 ? cfg->rate_principal_burst
                                                        : cfg->rate_principal,
                          RATE_BUCKETS, &srv->rl_principal);
  if (rc) {
    mg_http_server_free(srv);
    return rc;
  }
  *out = srv;
  return MG_OK;
}

/* Reads a PEM file into a NUL-terminated malloc'd string. */
static int read_pem(const char *path, char **out, size_t *len) {
  int rc = MG_EIO;
  mg_buf b;
  mg_buf_init(&b, 1u << 20);
  FILE *f = fopen(path, "rb");
  if (!f) goto out;
  char chunk[4096];
  size_t n;
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
    rc = mg_buf_add(&b, chunk, n);
    if (rc) goto out;
  }
  rc = ferror(f) || b.len == 0 ? MG_EIO : MG_OK;
out:
  sodium_memzero(chunk, sizeof chunk);
  if (f) fclose(f);
  if (rc == MG_OK) {
    *len = b.len;
    *out = mg_buf_take(&b);
    if (!*out) rc = MG_ENOMEM;
  } else if (b.data) {
    sodium_memzero(b.data, b.len);
  }
  mg_buf_free(&b);
  return rc;
}

static int load_tls(mg_http_server *srv) {
  size_t n;
  int rc = read_pem(srv->cfg.tls_cert, &srv->tls_cert_pem, &n);
  if (!rc) rc = read_pem(srv->cfg.tls_key, &srv->tls_key_pem, &srv->tls_key_len);
  if (rc) {
    mg_log(MG_LOG_ERROR, "http.tls", "msg", "cannot read the TLS certificate or key", "cert",
           srv->cfg.tls_cert, "key", srv->cfg.tls_key, NULL);
    return rc;
  }
  struct stat st;
  if (stat(srv->cfg.tls_key, &st) == 0 && (st.st_mode & 077))
    mg_log(MG_LOG_WARN, "http.tls", "msg", "the TLS key file is readable by group or others",
           "key", srv->cfg.tls_key, NULL);
  srv->tls = 1;
  return MG_OK;
}

int mg_http_server_start(mg_http_server *srv) {
  char err[256];
  if (mg_http_config_check(&srv->cfg, err, sizeof err) != MG_OK) {
    mg_log(MG_LOG_ERROR, "http.config", "msg", err, NULL);
    return MG_EINVAL;
  }
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)srv->cfg.port);
  if (inet_pton(AF_INET, srv->cfg.bind, &sa.sin_addr) != 1) {
    mg_log(MG_LOG_ERROR, "http.bind", "msg", "bind address must be an IPv4 address", "bind",
           srv->cfg.bind, NULL);
    return MG_EINVAL;
  }
  if (srv->cfg.tls_cert && srv->cfg.tls_cert[0] && !srv->tls) {
    int rc = load_tls(srv);
    if (rc) return rc;
  }
  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG;
  unsigned pool = 0;
  if (srv->cfg.threads > 0) {
    flags |= MHD_USE_EPOLL;
    pool = (unsigned)srv->cfg.threads;
  } else {
    flags |= MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL;
  }
  if (srv->tls) flags |= MHD_USE_TLS;
  const char *prio = srv->cfg.tls_priorities && srv->cfg.tls_priorities[0]
                         ? srv->cfg.tls_priorities
                         : MG_HTTP_TLS_PRIORITIES;
  /* Options whose value is zero are left at libmicrohttpd's defaults. */
  struct MHD_OptionItem opts[8];
  int n = 0;
  if (srv->tls) {
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, srv->tls_cert_pem};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, srv->tls_key_pem};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)prio};
  }
  if (srv->cfg.max_conn_per_ip > 0)
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_PER_IP_CONNECTION_LIMIT,
                                        srv->cfg.max_conn_per_ip, NULL};
  if (srv->cfg.conn_memory > 0)
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_MEMORY_LIMIT,
                                        (intptr_t)srv->cfg.conn_memory, NULL};
  if (pool) opts[n++] = (struct MHD_OptionItem){MHD_OPTION_THREAD_POOL_SIZE, pool, NULL};
  opts[n++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
  unsigned max_conn = srv->cfg.max_connections > 0 ? (unsigned)srv->cfg.max_connections : 4096u;
  /* the logger goes first so it also receives errors about the options that follow */
  srv->daemon = MHD_start_daemon(
      flags, 0, NULL, NULL, on_request, srv, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
      MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_URI_LOG_CALLBACK, on_uri, srv,
      MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv, MHD_OPTION_CONNECTION_TIMEOUT,
      (unsigned)srv->cfg.timeout_s, MHD_OPTION_CONNECTION_LIMIT, max_conn, MHD_OPTION_ARRAY, opts,
      MHD_OPTION_END);
  if (!srv->daemon) return MG_EIO;
  const union MHD_DaemonInfo *di = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
  srv->port = di ? di->port : srv->cfg.port;
  return MG_OK;
}

int mg_http_server_port(const mg_http_server *srv) { return srv->port; }

int mg_http_server_is_tls(const mg_http_server *srv) { return srv->tls; }

void mg_http_server_stop(mg_http_server *srv, int grace_ms) {
  if (!srv->daemon) return;
  MHD_socket fd = MHD_quiesce_daemon(srv->daemon);
  if (fd != MHD_INVALID_SOCKET) close(fd);
  int64_t deadline = mg_time_mono_us() + (int64_t)grace_ms * 1000;
  while (atomic_load(&srv->inflight) > 0 && mg_time_mono_us() < deadline) {
    struct timespec ts = {0, 10 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  MHD_stop_daemon(srv->daemon);
  srv->daemon = NULL;
}

void mg_http_server_free(mg_http_server *srv) {
  if (!srv) return;
  if (srv->daemon) mg_http_server_stop(srv, 0);
  mg_http_router_free(&srv->router);
  mg_ratelimit_free(srv->rl_ip);
  mg_ratelimit_free(srv->rl_principal);
  free(srv->tls_cert_pem);
  if (srv->tls_key_pem) sodium_memzero(srv->tls_key_pem, srv->tls_key_len);
  free(srv->tls_key_pem);
  free(srv);
}
