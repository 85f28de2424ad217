#include "http/server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/err.h"
#include "core/log.h"
#include "core/time.h"

#define MAX_ROUTES 96

typedef struct route {
  char method[12];
  char *path;
  size_t path_len;
  int prefix;
  mg_http_handler handler;
  void *ud;
} route;

struct mg_http_server {
  mg_http_config cfg;
  struct MHD_Daemon *daemon;
  route routes[MAX_ROUTES];
  int n_routes;
  atomic_int inflight;
  int port;
};

typedef struct reqctx {
  mg_http_req req;
  mg_http_server *srv;
  int too_big;
  int status; /* for the access log */
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

typedef struct find_ctx {
  const char *name;
  const char *value;
} find_ctx;

static enum MHD_Result find_arg(void *cls, enum MHD_ValueKind kind, const char *k, const char *v) {
  (void)kind;
  find_ctx *f = cls;
  if (strcmp(k, f->name) != 0) return MHD_YES;
  f->value = v ? v : "";
  return MHD_NO;
}

/* Query parameter names are case-sensitive (xAPI rejects "StatementId"), but libmicrohttpd's
 * lookup ignores case, so walk the arguments and compare exactly. */
const char *mg_http_query_get(const mg_http_req *req, const char *name) {
  if (req->override_params) {
    return mg_json_string_value(mg_json_object_get(req->override_params, name));
  }
  if (!req->conn) return NULL;
  find_ctx f = {name, NULL};
  MHD_get_connection_values((struct MHD_Connection *)req->conn, MHD_GET_ARGUMENT_KIND, find_arg, &f);
  return f.value;
}

typedef struct each_ctx {
  int (*cb)(void *, const char *, const char *);
  void *ud;
  int rc;
} each_ctx;

static enum MHD_Result each_arg(void *cls, enum MHD_ValueKind kind, const char *k, const char *v) {
  (void)kind;
  each_ctx *e = cls;
  e->rc = e->cb(e->ud, k, v ? v : "");
  return e->rc ? MHD_NO : MHD_YES;
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
  if (!req->conn) return MG_OK;
  each_ctx e = {cb, ud, 0};
  MHD_get_connection_values((struct MHD_Connection *)req->conn, MHD_GET_ARGUMENT_KIND, each_arg,
                            &e);
  return e.rc;
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
  if (srv->n_routes >= MAX_ROUTES) return MG_ETOOBIG;
  route *r = &srv->routes[srv->n_routes];
  size_t len = strlen(path);
  r->path = strdup(path);
  if (!r->path) return MG_ENOMEM;
  r->prefix = len > 0 && path[len - 1] == '*';
  r->path_len = r->prefix ? len - 1 : len;
  snprintf(r->method, sizeof r->method, "%s", method);
  r->handler = h;
  r->ud = ud;
  srv->n_routes++;
  return MG_OK;
}

static const route *find_route(mg_http_server *srv, const char *method, const char *path,
                               int *path_known) {
  *path_known = 0;
  for (int i = 0; i < srv->n_routes; i++) {
    const route *r = &srv->routes[i];
    int match = r->prefix ? strncmp(path, r->path, r->path_len) == 0
                          : strcmp(path, r->path) == 0;
    if (!match) continue;
    *path_known = 1;
    if (strcmp(r->method, "*") == 0 || strcmp(r->method, method) == 0) return r;
  }
  return NULL;
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
  const route *r = find_route(srv, method, req->path, &known);
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

static enum MHD_Result send_resp(struct MHD_Connection *c, mg_http_resp *resp) {
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
  MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
  MHD_add_response_header(r, "Cache-Control", "no-store");
  for (int i = 0; i < resp->n_headers; i++)
    MHD_add_response_header(r, resp->headers[i].name, resp->headers[i].value);
  enum MHD_Result ret = MHD_queue_response(c, (unsigned)resp->status, r);
  MHD_destroy_response(r);
  return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls) {
  (void)version;
  mg_http_server *srv = cls;
  reqctx *rc = *con_cls;
  if (!rc) {
    rc = calloc(1, sizeof *rc);
    if (!rc) return MHD_NO;
    rc->srv = srv;
    rc->req.conn = c;
    rc->req.method = method;
    rc->req.path = url;
    rc->req.start_us = mg_time_mono_us();
    mg_buf_init(&rc->req.body, srv->cfg.max_body);
    /* JSON of a maximal body takes a few times its size; bound the arena accordingly */
    mg_arena_init(&rc->req.pool, 64 * 1024, srv->cfg.max_body * 8 + (1u << 20));
    client_ip(c, rc->req.client_ip, sizeof rc->req.client_ip);
    atomic_fetch_add(&srv->inflight, 1);
    *con_cls = rc;
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl) {
      char *end;
      unsigned long long n = strtoull(cl, &end, 10);
      if (*end == '\0' && n > srv->cfg.max_body) rc->too_big = 1;
      /* one allocation for an announced body instead of log2(n) regrowths and copies */
      else if (*end == '\0' && n > 0 && mg_buf_reserve(&rc->req.body, (size_t)n) != MG_OK)
        rc->too_big = 1;
    }
    return MHD_YES;
  }
  if (*upload_data_size) {
    if (!rc->too_big && mg_buf_add(&rc->req.body, upload_data, *upload_data_size) != MG_OK)
      rc->too_big = 1;
    *upload_data_size = 0;
    return MHD_YES;
  }
  mg_http_resp resp;
  memset(&resp, 0, sizeof resp);
  mg_buf_init(&resp.body, (size_t)1 << 31);
  if (rc->too_big) {
    mg_http_resp_error(&resp, 413, "payload_too_large",
                       "request body exceeds the limit of %zu bytes", srv->cfg.max_body);
    mg_http_resp_header(&resp, "Connection", "close");
  } else {
    if (!rc->req.body.data) mg_buf_add(&rc->req.body, "", 0); /* body is always a string */
    dispatch(srv, &rc->req, &resp);
  }
  rc->status = resp.status;
  enum MHD_Result ret = send_resp(c, &resp);
  resp_free(&resp);
  return ret;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
  (void)c;
  mg_http_server *srv = cls;
  reqctx *rc = *con_cls;
  if (!rc) return;
  if (srv->cfg.access_log) {
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

int mg_http_server_new(const mg_http_config *cfg, mg_http_server **out) {
  mg_http_server *srv = calloc(1, sizeof *srv);
  if (!srv) return MG_ENOMEM;
  srv->cfg = *cfg;
  atomic_init(&srv->inflight, 0);
  *out = srv;
  return MG_OK;
}

int mg_http_server_start(mg_http_server *srv) {
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)srv->cfg.port);
  if (inet_pton(AF_INET, srv->cfg.bind, &sa.sin_addr) != 1) {
    mg_log(MG_LOG_ERROR, "http.bind", "msg", "bind address must be an IPv4 address", "bind",
           srv->cfg.bind, NULL);
    return MG_EINVAL;
  }
  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG;
  unsigned pool = 0;
  if (srv->cfg.threads > 0) {
    flags |= MHD_USE_EPOLL;
    pool = (unsigned)srv->cfg.threads;
  } else {
    flags |= MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL;
  }
  /* the logger goes first so it also receives errors about the options that follow */
  srv->daemon = MHD_start_daemon(
      flags, 0, NULL, NULL, on_request, srv, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
      MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
      MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)srv->cfg.timeout_s, MHD_OPTION_CONNECTION_LIMIT,
      4096u, pool ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END, pool, MHD_OPTION_END);
  if (!srv->daemon) return MG_EIO;
  const union MHD_DaemonInfo *di = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
  srv->port = di ? di->port : srv->cfg.port;
  return MG_OK;
}

int mg_http_server_port(const mg_http_server *srv) { return srv->port; }

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
  for (int i = 0; i < srv->n_routes; i++) free(srv->routes[i].path);
  free(srv);
}
