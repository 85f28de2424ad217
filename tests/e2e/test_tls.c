/* End-to-end tests of HTTPS: `moocguard serve` with a self-signed certificate made here with the
 * OpenSSL API, spoken to by an OpenSSL client. Checks that TLS 1.2 and 1.3 with AEAD suites work,
 * that TLS 1.1, CBC and static-RSA suites are refused, that HSTS and the other security headers
 * are sent, that the LRS works over TLS, that TLS allows a non-loopback bind, and that plain
 * HTTP to the TLS port gets no answer. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "support.h"

static const char *bin(void) {
  const char *b = getenv("MG_BIN");
  return b && *b ? b : "./moocguard";
}

typedef struct tls_server {
  pid_t pid;
  int port;
  char dir[512];
  char cert[600], key[600];
  char auth_header[512];
} tls_server;

static tls_server g_srv;

/* ---- certificate ----------------------------------------------------------------------------- */

static int make_cert(const char *cert_path, const char *key_path) {
  int rc = -1;
  EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
  X509 *x = X509_new();
  FILE *f = NULL;
  if (!pkey || !x) goto out;
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), -60);
  X509_gmtime_adj(X509_getm_notAfter(x), 3600);
  X509_set_pubkey(x, pkey);
  X509_NAME *name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"127.0.0.1", -1, -1,
                             0);
  X509_set_issuer_name(x, name);
  if (!X509_sign(x, pkey, EVP_sha256())) goto out;
  int fd = open(key_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0 || !(f = fdopen(fd, "w"))) goto out;
  if (!PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL)) goto out;
  fclose(f);
  f = fopen(cert_path, "w");
  if (!f || !PEM_write_X509(f, x)) goto out;
  rc = 0;
out:
  if (f) fclose(f);
  X509_free(x);
  EVP_PKEY_free(pkey);
  return rc;
}

/* ---- TLS client ------------------------------------------------------------------------------ */

typedef struct tls_opts {
  int min_version, max_version; /* 0 = library default */
  const char *ciphers;          /* TLS 1.2 cipher list, or NULL */
} tls_opts;

typedef struct tls_result {
  int handshake_ok;
  char version[16];
  char cipher[64];
  mg_test_resp resp;
} tls_result;

/* Connects to 127.0.0.1:port over TLS with opts, sends one request, reads the whole response.
 * Returns 0 if a response was parsed, -1 otherwise (r->handshake_ok says how far it got). */
static int tls_request(int port, const tls_opts *o, const char *method, const char *target,
                       const char *headers, const char *body, tls_result *r) {
  memset(r, 0, sizeof *r);
  mg_buf_init(&r->resp.headers, 1 << 20);
  mg_buf_init(&r->resp.body, 1 << 24);
  int rc = -1, fd = -1;
  SSL *ssl = NULL;
  SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
  mg_buf req, raw;
  mg_buf_init(&req, 1 << 20);
  mg_buf_init(&raw, 1 << 24);
  if (!ctx) goto out;
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL); /* self-signed; the server is what is tested */
  /* allow old protocols on our side, so that a refusal is the server's doing */
  SSL_CTX_set_security_level(ctx, 0);
  if (o->min_version) SSL_CTX_set_min_proto_version(ctx, o->min_version);
  if (o->max_version) SSL_CTX_set_max_proto_version(ctx, o->max_version);
  if (o->ciphers && !SSL_CTX_set_cipher_list(ctx, o->ciphers)) goto out;
  fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) goto out;
  ssl = SSL_new(ctx);
  if (!ssl || !SSL_set_fd(ssl, fd) || SSL_connect(ssl) != 1) goto out;
  r->handshake_ok = 1;
  snprintf(r->version, sizeof r->version, "%s", SSL_get_version(ssl));
  snprintf(r->cipher, sizeof r->cipher, "%s", SSL_get_cipher_name(ssl));
  size_t blen = body ? strlen(body) : 0;
  mg_buf_addf(&req, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n%s", method, target,
              headers ? headers : "");
  if (body) mg_buf_addf(&req, "Content-Length: %zu\r\n", blen);
  mg_buf_adds(&req, "\r\n");
  if (body) mg_buf_add(&req, body, blen);
  if (SSL_write(ssl, req.data, (int)req.len) != (int)req.len) goto out;
  char chunk[16384];
  int n;
  while ((n = SSL_read(ssl, chunk, sizeof chunk)) > 0) mg_buf_add(&raw, chunk, (size_t)n);
  char *end = raw.data ? strstr(raw.data, "\r\n\r\n") : NULL;
  if (!end || sscanf(raw.data, "HTTP/1.%*d %d", &r->resp.status) != 1) goto out;
  char *eol = strstr(raw.data, "\r\n");
  mg_buf_add(&r->resp.headers, eol + 2, (size_t)(end - eol));
  size_t off = (size_t)(end + 4 - raw.data);
  mg_buf_add(&r->resp.body, raw.data + off, raw.len - off);
  if (!r->resp.body.data) mg_buf_add(&r->resp.body, "", 0);
  rc = 0;
out:
  if (ssl) SSL_free(ssl);
  if (fd >= 0) close(fd);
  SSL_CTX_free(ctx);
  mg_buf_free(&req);
  mg_buf_free(&raw);
  return rc;
}

static void tls_result_free(tls_result *r) { mg_test_resp_free(&r->resp); }

/* ---- server ------------------------------------------------------------------------------------ */

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

/* Starts serve over TLS; priorities NULL = the built-in default. */
static int start_tls_server(tls_server *s, const char *priorities) {
  memset(s, 0, sizeof *s);
  mg_test_tmpdir("tls", s->dir, sizeof s->dir);
  snprintf(s->cert, sizeof s->cert, "%s/cert.pem", s->dir);
  snprintf(s->key, sizeof s->key, "%s/key.pem", s->dir);
  if (make_cert(s->cert, s->key) != 0) return -1;

  char store[600], cmd[1600], line[512] = "", key[80], secret[80];
  snprintf(store, sizeof store, "%s/moocguard.db", s->dir);
  snprintf(cmd, sizeof cmd,
           "'%s' credential create --name 'TLS Platform' --platform-id 9 --json --store '%s'",
           bin(), store);
  FILE *p = popen(cmd, "r");
  if (!p) return -1;
  if (!fgets(line, sizeof line, p)) line[0] = '\0';
  if (pclose(p) != 0) return -1;
  if (sscanf(line, "{\"key\":\"%79[^\"]\",\"secret\":\"%79[^\"]\"}", key, secret) != 2) return -1;
  char userpass[200], b64[300];
  snprintf(userpass, sizeof userpass, "%s:%s", key, secret);
  sodium_bin2base64(b64, sizeof b64, (const unsigned char *)userpass, strlen(userpass),
                    sodium_base64_VARIANT_ORIGINAL);
  snprintf(s->auth_header, sizeof s->auth_header, "Authorization: Basic %s\r\n", b64);

  s->port = free_port();
  char port[16], logpath[600];
  snprintf(port, sizeof port, "%d", s->port);
  snprintf(logpath, sizeof logpath, "%s/server.log", s->dir);
  /* a non-loopback bind needs no allow-plain-http once TLS is on */
  const char *argv[] = {bin(), "serve", "--bind", "0.0.0.0", "--port", port, "--store", store,
                        "--tls-cert", s->cert, "--tls-key", s->key, "--access-log", "false",
                        priorities ? "--tls-priorities" : NULL, priorities, NULL};
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    int fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
    }
    execv(argv[0], (char *const *)argv);
    _exit(127);
  }
  s->pid = pid;
  tls_opts o = {0, 0, NULL};
  for (int i = 0; i < 400; i++) {
    tls_result r;
    int ok = tls_request(s->port, &o, "GET", "/xapi/about", NULL, NULL, &r) == 0 &&
             r.resp.status == 200;
    tls_result_free(&r);
    if (ok) return 0;
    int st;
    if (waitpid(pid, &st, WNOHANG) == pid) {
      s->pid = 0;
      return -1;
    }
    struct timespec ts = {0, 25 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  return -1;
}

static int stop_tls_server(tls_server *s) {
  if (s->pid <= 0) return -1;
  kill(s->pid, SIGTERM);
  int st = 0;
  waitpid(s->pid, &st, 0);
  s->pid = 0;
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int setup(void **state) {
  (void)state;
  return start_tls_server(&g_srv, NULL);
}

static int teardown(void **state) {
  (void)state;
  return stop_tls_server(&g_srv) == 0 ? 0 : -1;
}

/* ---- tests ------------------------------------------------------------------------------------ */

static void modern_tls_with_security_headers(void **state) {
  (void)state;
  tls_opts o = {0, 0, NULL};
  tls_result r;
  char v[256];
  assert_int_equal(tls_request(g_srv.port, &o, "GET", "/xapi/about", NULL, NULL, &r), 0);
  assert_string_equal(r.version, "TLSv1.3");
  assert_int_equal(r.resp.status, 200);
  assert_true(mg_test_resp_header(&r.resp, "Strict-Transport-Security", v, sizeof v));
  assert_non_null(strstr(v, "max-age=31536000"));
  assert_true(mg_test_resp_header(&r.resp, "X-Frame-Options", v, sizeof v));
  assert_true(mg_test_resp_header(&r.resp, "X-Content-Type-Options", v, sizeof v));
  assert_true(mg_test_resp_header(&r.resp, "Referrer-Policy", v, sizeof v));
  tls_result_free(&r);

  /* TLS 1.2 with an ECDHE + AEAD suite */
  tls_opts o12 = {TLS1_2_VERSION, TLS1_2_VERSION, "ECDHE-RSA-AES128-GCM-SHA256"};
  assert_int_equal(tls_request(g_srv.port, &o12, "GET", "/no/such", NULL, NULL, &r), 0);
  assert_string_equal(r.version, "TLSv1.2");
  assert_string_equal(r.cipher, "ECDHE-RSA-AES128-GCM-SHA256");
  assert_int_equal(r.resp.status, 404);
  assert_true(mg_test_resp_header(&r.resp, "Strict-Transport-Security", v, sizeof v));
  tls_result_free(&r);
}

static const tls_opts g_weak[] = {
    {TLS1_1_VERSION, TLS1_1_VERSION, "DEFAULT:@SECLEVEL=0"},     /* TLS 1.1 */
    {TLS1_VERSION, TLS1_VERSION, "DEFAULT:@SECLEVEL=0"},         /* TLS 1.0 */
    {TLS1_2_VERSION, TLS1_2_VERSION, "AES128-GCM-SHA256"},       /* static RSA: not forward-secret */
    {TLS1_2_VERSION, TLS1_2_VERSION, "ECDHE-RSA-AES128-SHA"},    /* CBC */
    {TLS1_2_VERSION, TLS1_2_VERSION, "ECDHE-RSA-AES256-SHA384"}, /* CBC */
};
#define N_WEAK (sizeof g_weak / sizeof g_weak[0])

static void old_protocols_and_weak_suites_refused(void **state) {
  (void)state;
  for (size_t i = 0; i < N_WEAK; i++) {
    tls_result r;
    int rc = tls_request(g_srv.port, &g_weak[i], "GET", "/xapi/about", NULL, NULL, &r);
    if (rc == 0 || r.handshake_ok)
      fail_msg("case %zu (%s) was accepted: %s %s", i, g_weak[i].ciphers, r.version, r.cipher);
    tls_result_free(&r);
  }
}

/* The control for the test above: the same clients do connect to a server configured with lax
 * priorities, so their refusal is the default priority string's doing (and tls-priorities
 * is honoured). */
static void weak_clients_connect_to_a_lax_server(void **state) {
  (void)state;
  tls_server lax;
  assert_int_equal(start_tls_server(&lax, "NORMAL:+VERS-TLS1.1:+VERS-TLS1.0:+RSA:+AES-128-CBC:"
                                          "+AES-256-CBC:+SHA1:+SHA384"),
                   0);
  for (size_t i = 0; i < N_WEAK; i++) {
    tls_result r;
    int rc = tls_request(lax.port, &g_weak[i], "GET", "/xapi/about", NULL, NULL, &r);
    if (rc != 0 || r.resp.status != 200)
      fail_msg("control case %zu (%s) failed: handshake %d", i, g_weak[i].ciphers,
               r.handshake_ok);
    tls_result_free(&r);
  }
  assert_int_equal(stop_tls_server(&lax), 0);
}

static void lrs_over_tls(void **state) {
  (void)state;
  tls_opts o = {0, 0, NULL};
  char h[1024];
  snprintf(h, sizeof h,
           "%sX-Experience-API-Version: 2.0.0\r\nContent-Type: application/json\r\n",
           g_srv.auth_header);
  const char *stmt =
      "{\"actor\":{\"account\":{\"homePage\":\"https://id.pku.edu.cn\",\"name\":\"2024001\"}},"
      "\"verb\":{\"id\":\"http://adlnet.gov/expapi/verbs/completed\"},"
      "\"object\":{\"id\":\"https://mooc.example.cn/course/tls\"}}";
  tls_result r;
  assert_int_equal(tls_request(g_srv.port, &o, "POST", "/xapi/statements", h, stmt, &r), 0);
  assert_int_equal(r.resp.status, 200);
  tls_result_free(&r);
  assert_int_equal(tls_request(g_srv.port, &o, "GET",
                               "/xapi/statements?activity=https%3A%2F%2Fmooc.example.cn%2Fcourse%2Ftls",
                               h, NULL, &r),
                   0);
  assert_int_equal(r.resp.status, 200);
  json_error_t e;
  json_t *j = json_loads(r.resp.body.data, 0, &e);
  assert_non_null(j);
  assert_int_equal(json_array_size(json_object_get(j, "statements")), 1);
  json_decref(j);
  tls_result_free(&r);
}

static void plain_http_to_tls_port_gets_no_answer(void **state) {
  (void)state;
  mg_test_resp r;
  int rc = mg_test_http(g_srv.port, "GET", "/xapi/about", NULL, NULL, 0, &r);
  assert_true(rc != 0 || r.status != 200);
  mg_test_resp_free(&r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(modern_tls_with_security_headers),
      cmocka_unit_test(old_protocols_and_weak_suites_refused),
      cmocka_unit_test(lrs_over_tls),
      cmocka_unit_test(plain_http_to_tls_port_gets_no_answer),
      cmocka_unit_test(weak_clients_connect_to_a_lax_server),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
