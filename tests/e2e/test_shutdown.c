/* SIGTERM lets in-flight requests finish: a large batch whose body was fully sent before the
 * signal is still answered 200 and is durable when the store is opened again. */
#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support.h"

typedef struct client {
  int port;
  const char *auth;
  mg_buf body;
  int status;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int sent;
} client;

static void *post_big(void *arg) {
  client *c = arg;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)c->port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  c->status = -1;
  if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) goto signal_sent;
  char head[1024];
  int n = snprintf(head, sizeof head,
                   "POST /xapi/statements HTTP/1.1\r\nHost: x\r\nConnection: close\r\n%s"
                   "X-Experience-API-Version: 2.0.0\r\nContent-Type: application/json\r\n"
                   "Content-Length: %zu\r\n\r\n",
                   c->auth, c->body.len);
  if (send(fd, head, (size_t)n, MSG_NOSIGNAL) != n) goto signal_sent;
  size_t off = 0;
  while (off < c->body.len) {
    ssize_t w = send(fd, c->body.data + off, c->body.len - off, MSG_NOSIGNAL);
    if (w <= 0) break;
    off += (size_t)w;
  }
signal_sent:
  pthread_mutex_lock(&c->mu);
  c->sent = 1;
  pthread_cond_signal(&c->cv);
  pthread_mutex_unlock(&c->mu);
  if (fd >= 0) {
    char buf[4096];
    ssize_t r = recv(fd, buf, sizeof buf - 1, 0);
    if (r > 12) {
      buf[r] = '\0';
      sscanf(buf, "HTTP/1.%*d %d", &c->status);
    }
    close(fd);
  }
  return NULL;
}

static void sigterm_finishes_in_flight_batch(void **state) {
  (void)state;
  mg_test_server srv;
  assert_int_equal(mg_test_server_start("shutdown", NULL, &srv), 0);
  client c;
  memset(&c, 0, sizeof c);
  c.port = srv.port;
  c.auth = srv.auth_header;
  pthread_mutex_init(&c.mu, NULL);
  pthread_cond_init(&c.cv, NULL);
  mg_buf_init(&c.body, (size_t)64 << 20);
  const int n = 3000;
  mg_buf_addc(&c.body, '[');
  for (int i = 0; i < n; i++)
    mg_buf_addf(&c.body,
                "%s{\"actor\":{\"account\":{\"homePage\":\"https://id.fudan.edu.cn\",\"name\":\"s%d\"}},"
                "\"verb\":{\"id\":\"http://adlnet.gov/expapi/verbs/experienced\"},\"object\":{\"id\":"
                "\"https://mooc.example.cn/shutdown/%d\",\"definition\":{\"name\":{\"zh-CN\":\"关机测试\"}}},"
                "\"context\":{\"registration\":\"6fa459ea-ee8a-3ca4-894e-db77e160355e\"}}",
                i ? "," : "", i % 97, i);
  mg_buf_addc(&c.body, ']');
  pthread_t t;
  assert_int_equal(pthread_create(&t, NULL, post_big, &c), 0);
  pthread_mutex_lock(&c.mu);
  while (!c.sent) pthread_cond_wait(&c.cv, &c.mu);
  pthread_mutex_unlock(&c.mu);
  kill(srv.pid, SIGTERM); /* the body is on the wire; the server is still working on it */
  pthread_join(t, NULL);
  assert_int_equal(c.status, 200);
  assert_int_equal(mg_test_server_stop(&srv), 0);
  /* start again on the same store: every statement of the batch is there */
  assert_int_equal(mg_test_server_restart(&srv, NULL), 0);
  assert_int_equal(mg_test_count_statements(&srv, "registration=6fa459ea-ee8a-3ca4-894e-db77e160355e"), n);
  assert_int_equal(mg_test_server_stop(&srv), 0);
  mg_buf_free(&c.body);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(sigterm_finishes_in_flight_batch),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
