/* tests/support/support.h — helpers shared by the cmocka tests.
 *
 * Temporary directories under $MG_TEST_TMP (set by CTest), file reading, and a tiny blocking
 * HTTP/1.1 client plus a launcher for the real `moocguard` binary for end-to-end tests. */
#ifndef MG_TEST_SUPPORT_H
#define MG_TEST_SUPPORT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/buf.h"

/* Creates a fresh empty directory for this test and writes its path into out. */
void mg_test_tmpdir(const char *name, char *out, size_t size);
/* Reads a whole file; returns malloc'd NUL-terminated content (caller frees) or NULL. */
char *mg_test_read_file(const char *path, size_t *len);

/* A response from mg_test_http. */
typedef struct mg_test_resp {
  int status;
  mg_buf headers; /* raw header block, "Name: value\r\n" lines */
  mg_buf body;
} mg_test_resp;

/* Sends one request to 127.0.0.1:port and reads the whole response (Connection: close).
 * extra_headers is a block of "Name: value\r\n" lines (may be NULL). Returns 0 or -1. */
int mg_test_http(int port, const char *method, const char *target, const char *extra_headers,
                 const void *body, size_t body_len, mg_test_resp *resp);
/* Value of a response header (case-insensitive name) copied into out; returns 1 if found. */
int mg_test_resp_header(const mg_test_resp *r, const char *name, char *out, size_t size);
void mg_test_resp_free(mg_test_resp *r);

/* A running server started by mg_test_server_start. */
typedef struct mg_test_server {
  int pid;
  int port;
  char dir[512];       /* its data directory */
  char key[80];        /* a platform credential created before start */
  char secret[80];
  char auth_header[512]; /* "Authorization: Basic ...\r\n" for that credential */
} mg_test_server;

/* Starts $MG_BIN serve on a free loopback port with a fresh SQLite store in a temp dir named
 * name, after creating one platform credential with `moocguard credential create`. Waits until
 * /xapi/about answers. extra_args (NULL-terminated, may be NULL) are appended to serve's argv.
 * Returns 0 or -1. */
int mg_test_server_start(const char *name, const char *const *extra_args, mg_test_server *srv);
/* Starts the server again on the same directory, store and credential (after a stop). */
int mg_test_server_restart(mg_test_server *srv, const char *const *extra_args);
/* Counts the statements a query returns, following `more` links; -1 on error. query is the
 * part after '?', e.g. "registration=...". */
long mg_test_count_statements(mg_test_server *srv, const char *query);
/* Sends SIGTERM, waits for exit; returns the exit status (or -1). */
int mg_test_server_stop(mg_test_server *srv);

#endif
