/* registry/csv.c — RFC 4180 record reader (see csv.h). */
#include "registry/csv.h"

#include <stdlib.h>
#include <string.h>

#include "core/err.h"

static int push(mg_registry_csv *c, char *field) {
  if (c->n_fields == c->cap_) {
    size_t cap = c->cap_ ? 2 * c->cap_ : 8;
    char **nf = realloc(c->field, cap * sizeof *nf);
    if (!nf) return MG_ENOMEM;
    c->field = nf;
    c->cap_ = cap;
  }
  c->field[c->n_fields++] = field;
  return MG_OK;
}

int mg_registry_csv_open(mg_registry_csv *c, const char *text, size_t len) {
  memset(c, 0, sizeof *c);
  /* one spare byte: the last field's terminator when the input does not end in a newline */
  c->buf_ = malloc(len + 1);
  if (!c->buf_) return MG_ENOMEM;
  if (len) memcpy(c->buf_, text, len);
  c->buf_[len] = 0;
  c->p_ = c->buf_;
  c->end_ = c->buf_ + len;
  c->next_line_ = 1;
  if (len >= 3 && !memcmp(c->buf_, "\xEF\xBB\xBF", 3)) c->p_ += 3;
  return MG_OK;
}

int mg_registry_csv_next(mg_registry_csv *c) {
  c->n_fields = 0;
  c->malformed = 0;
  if (!c->buf_) return 0;
  while (c->p_ < c->end_ && (*c->p_ == '\n' || *c->p_ == '\r')) {
    if (*c->p_ == '\n') c->next_line_++;
    c->p_++;
  }
  if (c->p_ >= c->end_) return 0;
  c->line = c->next_line_;
  for (;;) {
    char *start = c->p_, *w = c->p_;
    if (c->p_ < c->end_ && *c->p_ == '"') {
      c->p_++;
      for (;;) {
        if (c->p_ >= c->end_) {
          c->malformed = 1; /* unterminated quote */
          break;
        }
        if (*c->p_ == '"') {
          if (c->p_ + 1 < c->end_ && c->p_[1] == '"') {
            *w++ = '"';
            c->p_ += 2;
            continue;
          }
          c->p_++;
          break;
        }
        if (*c->p_ == '\n') c->next_line_++;
        *w++ = *c->p_++;
      }
      while (c->p_ < c->end_ && *c->p_ != ',' && *c->p_ != '\n' && *c->p_ != '\r') {
        c->malformed = 1;
        c->p_++;
      }
    } else {
      while (c->p_ < c->end_ && *c->p_ != ',' && *c->p_ != '\n' && *c->p_ != '\r') {
        if (*c->p_ == '"') c->malformed = 1;
        *w++ = *c->p_++;
      }
    }
    char sep = c->p_ < c->end_ ? *c->p_ : '\n';
    *w = 0; /* w <= the separator's position, or the spare byte after the input */
    int rc = push(c, start);
    if (rc) return rc;
    if (c->p_ < c->end_) c->p_++;
    if (sep == ',') continue;
    if (sep == '\r' && c->p_ < c->end_ && *c->p_ == '\n') c->p_++;
    c->next_line_++;
    return 1;
  }
}

void mg_registry_csv_close(mg_registry_csv *c) {
  if (!c) return;
  free(c->field);
  free(c->buf_);
  memset(c, 0, sizeof *c);
}

void mg_registry_csv_trim(char **s) {
  char *a = *s;
  while (*a == ' ' || *a == '\t') a++;
  size_t n = strlen(a);
  while (n && (a[n - 1] == ' ' || a[n - 1] == '\t')) a[--n] = 0;
  *s = a;
}
