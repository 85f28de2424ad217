/* fuzz/fuzz_csv.c — the roster CSV reader (registry/csv.c) on arbitrary bytes.
 *
 * Invariants: reading is deterministic; every record has at least one field, lies inside the
 * reader's copy and starts on a line no earlier than the previous record's and within the input;
 * the input is never modified; and every well-formed record, written back with every field
 * quoted, reads back as the same fields (what a roster export would need to survive). */
#include "fuzz_common.h"

#include "registry/csv.h"

typedef struct rec {
  char **f;
  size_t n;
  size_t line;
  int malformed;
} rec;

/* Reads all records of d into a malloc'd array of copies (*n of them). */
static rec *read_all(const uint8_t *d, size_t len, size_t *n) {
  mg_registry_csv c;
  FUZZ_CHECK(mg_registry_csv_open(&c, (const char *)d, len) == MG_OK);
  rec *out = NULL;
  size_t cnt = 0, cap = 0, prev_line = 0, lines = 1;
  for (size_t i = 0; i < len; i++)
    if (d[i] == '\n' || d[i] == '\r') lines++; /* CR alone also ends a line */
  int r;
  while ((r = mg_registry_csv_next(&c)) == 1) {
    FUZZ_CHECK(c.n_fields >= 1);
    FUZZ_CHECK(c.line >= 1 && c.line >= prev_line && c.line <= lines);
    prev_line = c.line;
    if (cnt == cap) {
      cap = cap ? 2 * cap : 8;
      out = realloc(out, cap * sizeof *out);
      FUZZ_CHECK(out != NULL);
    }
    rec *x = &out[cnt++];
    x->n = c.n_fields;
    x->line = c.line;
    x->malformed = c.malformed;
    x->f = calloc(c.n_fields, sizeof *x->f);
    FUZZ_CHECK(x->f != NULL);
    for (size_t i = 0; i < c.n_fields; i++) {
      FUZZ_CHECK(c.field[i] >= c.buf_ && c.field[i] <= c.end_);
      x->f[i] = strdup(c.field[i]);
      FUZZ_CHECK(x->f[i] != NULL);
    }
  }
  FUZZ_CHECK(r == 0);
  /* a record consumes at least one byte: never more records than bytes */
  FUZZ_CHECK(cnt <= len);
  mg_registry_csv_close(&c);
  mg_registry_csv_close(&c); /* harmless twice */
  *n = cnt;
  return out;
}

static void free_all(rec *r, size_t n) {
  for (size_t i = 0; i < n; i++) {
    for (size_t k = 0; k < r[i].n; k++) free(r[i].f[k]);
    free(r[i].f);
  }
  free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > (1u << 16)) return 0;
  uint8_t *copy = malloc(size ? size : 1);
  FUZZ_CHECK(copy != NULL);
  if (size) memcpy(copy, data, size);

  size_t n1, n2;
  rec *a = read_all(data, size, &n1);
  rec *b = read_all(data, size, &n2);
  FUZZ_CHECK(n1 == n2);
  for (size_t i = 0; i < n1; i++) {
    FUZZ_CHECK(a[i].n == b[i].n && a[i].line == b[i].line && a[i].malformed == b[i].malformed);
    for (size_t k = 0; k < a[i].n; k++) FUZZ_CHECK(strcmp(a[i].f[k], b[i].f[k]) == 0);
  }
  FUZZ_CHECK(size == 0 || memcmp(copy, data, size) == 0);

  /* well-formed records, every field quoted: read back field for field */
  mg_buf w;
  mg_buf_init(&w, (size_t)1 << 26);
  size_t n_ok = 0;
  for (size_t i = 0; i < n1; i++) {
    if (a[i].malformed) continue;
    n_ok++;
    for (size_t k = 0; k < a[i].n; k++) {
      FUZZ_CHECK(mg_buf_adds(&w, k ? ",\"" : "\"") == 0);
      for (const char *p = a[i].f[k]; *p; p++)
        FUZZ_CHECK(mg_buf_adds(&w, *p == '"' ? "\"\"" : (char[]){*p, 0}) == 0);
      FUZZ_CHECK(mg_buf_adds(&w, "\"") == 0);
    }
    FUZZ_CHECK(mg_buf_adds(&w, "\r\n") == 0);
  }
  size_t n3;
  rec *c = read_all((const uint8_t *)(w.data ? w.data : ""), w.len, &n3);
  FUZZ_CHECK(n3 == n_ok);
  for (size_t i = 0, j = 0; i < n1; i++) {
    if (a[i].malformed) continue;
    FUZZ_CHECK(!c[j].malformed && c[j].n == a[i].n);
    for (size_t k = 0; k < a[i].n; k++) FUZZ_CHECK(strcmp(a[i].f[k], c[j].f[k]) == 0);
    j++;
  }
  free_all(c, n3);
  mg_buf_free(&w);
  free_all(a, n1);
  free_all(b, n2);
  free(copy);
  return 0;
}
