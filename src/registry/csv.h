/* registry/csv.h — the RFC 4180 reader behind roster imports (and its fuzz harness).
 *
 * Reads records from a copy of the input: fields are unquoted in place ("" inside quotes becomes
 * ") and NUL-terminated, so they stay valid until the next record is read or the reader closed.
 * A UTF-8 BOM at the start is skipped; blank lines are skipped; records end at LF, CRLF or CR;
 * quoted fields may span lines. A record with a quote inside an unquoted field, text after a
 * closing quote or an unterminated quote is still consumed to its end (so the next record
 * parses) and marked malformed: the caller reports it and goes on. No limits of its own beyond
 * memory: callers cap rows and field sizes. */
#ifndef MG_REGISTRY_CSV_H
#define MG_REGISTRY_CSV_H

#include <stddef.h>

typedef struct mg_registry_csv {
  /* the current record (after mg_registry_csv_next returned 1) */
  char **field;      /* n_fields pointers into the reader's copy */
  size_t n_fields;
  size_t line;       /* 1-based line where the record starts */
  int malformed;     /* misplaced or unterminated quote */
  /* private */
  char *buf_, *p_, *end_;
  size_t cap_, next_line_;
} mg_registry_csv;

/* Starts reading a copy of text[0..len) (text need not be NUL-terminated). MG_ENOMEM. Close the
 * reader with mg_registry_csv_close in every case. */
int mg_registry_csv_open(mg_registry_csv *c, const char *text, size_t len);
/* Reads the next record: 1 with the fields set, 0 at the end of the input, MG_ENOMEM. */
int mg_registry_csv_next(mg_registry_csv *c);
/* Frees the copy and the field table; harmless twice or on a zeroed reader. */
void mg_registry_csv_close(mg_registry_csv *c);
/* Strips spaces and tabs around a field in place (*s moves past leading ones). */
void mg_registry_csv_trim(char **s);

#endif
