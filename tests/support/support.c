#include "support.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void rm_rf(const char *path) {
  char cmd[1200];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
  if (system(cmd) != 0) fprintf(stderr, "support: could not remove %s\n", path);
}

void mg_test_tmpdir(const char *name, char *out, size_t size) {
  const char *base = getenv("MG_TEST_TMP");
  if (!base || !*base) base = "/tmp/moocguard-tests";
  mkdir(base, 0700);
  snprintf(out, size, "%s/%s.%d", base, name, (int)getpid());
  rm_rf(out);
  if (mkdir(out, 0700) != 0) {
    fprintf(stderr, "support: mkdir %s: %s\n", out, strerror(errno));
    abort();
  }
}

char *mg_test_read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  mg_buf b;
  mg_buf_init(&b, (size_t)1 << 30);
  char chunk[65536];
  size_t n;
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
    if (mg_buf_add(&b, chunk, n)) {
      mg_buf_free(&b);
      fclose(f);
      return NULL;
    }
  fclose(f);
  if (len) *len = b.len;
  return mg_buf_take(&b);
}

int mg_test_http(int port, const char *method, const char *target, const char *extra_headers,
                 const void *body, size_t body_len, mg_test_resp *resp) {
  memset(resp, 0, sizeof *resp);
  mg_buf_init(&resp->headers, 1 << 20);
  mg_buf_init(&resp->body, (size_t)1 << 30);
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
    close(fd);
    return -1;
  }
  mg_buf req;
  mg_buf_init(&req, (size_t)1 << 30);
  mg_buf_addf(&req, "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n", method, target,
              port);
  if (extra_headers) mg_buf_adds(&req, extra_headers);
  if (body || strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0)
    mg_buf_addf(&req, "Content-Length: %zu\r\n", body_len);
  mg_buf_adds(&req, "\r\n");
  if (body_len) mg_buf_add(&req, body, body_len);
  size_t off = 0;
  while (off < req.len) {
    ssize_t w = send(fd, req.data + off, req.len - off, MSG_NOSIGNAL);
    if (w <= 0) break; /* the server may answer early (e.g. 413) and close */
    off += (size_t)w;
  }
  mg_buf_free(&req);
  mg_buf raw;
  mg_buf_init(&raw, (size_t)1 << 30);
  char chunk[65536];
  ssize_t r;
  while ((r = recv(fd, chunk, sizeof chunk, 0)) > 0) mg_buf_add(&raw, chunk, (size_t)r);
  close(fd);
  int rc = -1;
  char *hdr_end = raw.data ? strstr(raw.data, "\r\n\r\n") : NULL;
  if (hdr_end && sscanf(raw.data, "HTTP/1.%*d %d", &resp->status) == 1) {
    char *first_eol = strstr(raw.data, "\r\n");
    mg_buf_add(&resp->headers, first_eol + 2, (size_t)(hdr_end - first_eol));
    size_t body_off = (size_t)(hdr_end + 4 - raw.data);
    mg_buf_add(&resp->body, raw.data + body_off, raw.len - body_off);
    if (!resp->body.data) mg_buf_add(&resp->body, "", 0);
    rc = 0;
  }
  mg_buf_free(&raw);
  return rc;
}

int mg_test_resp_header(const mg_test_resp *r, const char *name, char *out, size_t size) {
  const char *p = r->headers.data;
  size_t n = strlen(name);
  while (p && *p) {
    const char *eol = strstr(p, "\r\n");
    if (!eol) break;
    if ((size_t)(eol - p) > n && strncasecmp(p, name, n) == 0 && p[n] == ':') {
      const char *v = p + n + 1;
      while (*v == ' ') v++;
      snprintf(out, size, "%.*s", (int)(eol - v), v);
      return 1;
    }
    p = eol + 2;
  }
  return 0;
}

void mg_test_resp_free(mg_test_resp *r) {
  mg_buf_free(&r->headers);
  mg_buf_free(&r->body);
}

static int free_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa;
  socklen_t len = sizeof sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
      getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
    if (fd >= 0) close(fd);
    return -1;
  }
  close(fd);
  return ntohs(sa.sin_port);
}

static const char *bin_path(void) {
  const char *b = getenv("MG_BIN");
  return b && *b ? b : "./moocguard";
}

int mg_test_server_start(const char *name, const char *const *extra_args, mg_test_server *srv) {
  memset(srv, 0, sizeof *srv);
  mg_test_tmpdir(name, srv->dir, sizeof srv->dir);
  char store[600], cmd[1600];
  snprintf(store, sizeof store, "%s/moocguard.db", srv->dir);
  snprintf(cmd, sizeof cmd, "'%s' credential create --name 'Test Platform' --platform-id 7 --json "
           "--store '%s'", bin_path(), store);
  FILE *p = popen(cmd, "r");
  if (!p) return -1;
  char line[512] = "";
  if (!fgets(line, sizeof line, p)) line[0] = '\0';
  if (pclose(p) != 0) return -1;
  if (sscanf(line, "{\"key\":\"%79[^\"]\",\"secret\":\"%79[^\"]\"}", srv->key, srv->secret) != 2)
    return -1;
  char userpass[200], b64[300];
  snprintf(userpass, sizeof userpass, "%s:%s", srv->key, srv->secret);
  sodium_bin2base64(b64, sizeof b64, (const unsigned char *)userpass, strlen(userpass),
                    sodium_base64_VARIANT_ORIGINAL);
  snprintf(srv->auth_header, sizeof srv->auth_header, "Authorization: Basic %s\r\n", b64);
  return mg_test_server_restart(srv, extra_args);
}

int mg_test_server_restart(mg_test_server *srv, const char *const *extra_args) {
  char store[600];
  snprintf(store, sizeof store, "%s/moocguard.db", srv->dir);
  srv->port = free_port();
  if (srv->port <= 0) return -1;
  char port[16], logpath[600];
  snprintf(port, sizeof port, "%d", srv->port);
  snprintf(logpath, sizeof logpath, "%s/server.log", srv->dir);
  const char *argv[64] = {bin_path(), "serve", "--bind", "127.0.0.1", "--port", port, "--store",
                          store, "--base-url", "http://127.0.0.1", NULL};
  int argc = 10;
  for (int i = 0; extra_args && extra_args[i] && argc < 62; i++) argv[argc++] = extra_args[i];
  argv[argc] = NULL;
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    /* a test that fails half-way (cmocka jumps out) must not leave its server running */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    int fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd >= 0) {
      dup2(fd, 2);
      dup2(fd, 1);
    }
    execv(argv[0], (char *const *)argv);
    _exit(127);
  }
  srv->pid = pid;
  for (int i = 0; i < 400; i++) {
    mg_test_resp r;
    if (mg_test_http(srv->port, "GET", "/xapi/about", NULL, NULL, 0, &r) == 0 && r.status == 200) {
      mg_test_resp_free(&r);
      return 0;
    }
    mg_test_resp_free(&r);
    int status;
    if (waitpid(pid, &status, WNOHANG) == pid) return -1;
    struct timespec ts = {0, 25 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  mg_test_server_stop(srv);
  return -1;
}

long mg_test_count_statements(mg_test_server *srv, const char *query) {
  char target[4096], h[1024];
  long total = 0;
  snprintf(target, sizeof target, "/xapi/statements?%s", query);
  snprintf(h, sizeof h, "%sX-Experience-API-Version: 2.0.0\r\n", srv->auth_header);
  for (int pages = 0; pages < 100000; pages++) {
    mg_test_resp r;
    if (mg_test_http(srv->port, "GET", target, h, NULL, 0, &r) != 0 || r.status != 200) {
      mg_test_resp_free(&r);
      return -1;
    }
    json_error_t e;
    json_t *j = json_loads(r.body.data, 0, &e);
    mg_test_resp_free(&r);
    if (!j) return -1;
    total += (long)json_array_size(json_object_get(j, "statements"));
    const char *more = json_string_value(json_object_get(j, "more"));
    target[0] = '\0';
    if (more) snprintf(target, sizeof target, "%s", more);
    json_decref(j);
    if (!target[0]) return total;
  }
  return -1;
}

int mg_test_server_stop(mg_test_server *srv) {
  if (srv->pid <= 0) return -1;
  kill(srv->pid, SIGTERM);
  int status = 0;
  for (int i = 0; i < 1000; i++) {
    if (waitpid(srv->pid, &status, WNOHANG) == srv->pid) {
      srv->pid = 0;
      return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  kill(srv->pid, SIGKILL);
  waitpid(srv->pid, &status, 0);
  srv->pid = 0;
  return -1;
}
