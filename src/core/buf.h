/* core/buf.h — bounded growable byte buffers.
 *
 * A buffer grows on demand up to a maximum fixed at init, so a hostile or runaway producer gets
 * MG_ETOOBIG instead of exhausting memory. The content is always NUL-terminated, which lets text
 * built in a buffer be handed to C string APIs without a copy. */
#ifndef MG_CORE_BUF_H
#define MG_CORE_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct mg_buf {
  char *data;  /* NUL-terminated when non-NULL */
  size_t len;  /* bytes used, excluding the NUL */
  size_t cap;  /* bytes allocated */
  size_t max;  /* largest len allowed */
} mg_buf;

/* Initialises an empty buffer that may grow to max bytes. Allocates nothing yet. */
void mg_buf_init(mg_buf *b, size_t max);
/* Makes room for n more bytes without growing again (e.g. a body whose length is announced).
 * MG_ETOOBIG past max, MG_ENOMEM on allocation failure. */
int mg_buf_reserve(mg_buf *b, size_t n);
/* Appends n bytes. MG_ETOOBIG past max, MG_ENOMEM on allocation failure; b unchanged then. */
int mg_buf_add(mg_buf *b, const void *p, size_t n);
/* Appends a NUL-terminated string. */
int mg_buf_adds(mg_buf *b, const char *s);
/* Appends one byte. */
int mg_buf_addc(mg_buf *b, char c);
/* Appends printf-formatted text. */
int mg_buf_addf(mg_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int mg_buf_vaddf(mg_buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Appends s as the body of a JSON string (escaped, without the quotes). */
int mg_buf_add_json_str(mg_buf *b, const char *s, size_t n);
/* Cuts a NUL-terminated string before a UTF-8 sequence left incomplete at its end (as "%.40s"
 * may leave one), so messages quoting client text stay valid UTF-8. */
void mg_utf8_trim_tail(char *s);
/* The length of the longest prefix of s that is at most max bytes and ends on a UTF-8
 * character boundary: quote client text with "%.*s" and this, never a bare "%.40s". */
int mg_utf8_prefix(const char *s, size_t max);
/* Empties the buffer, keeping its memory. */
void mg_buf_reset(mg_buf *b);
/* Frees the memory; the buffer is empty and reusable afterwards. */
void mg_buf_free(mg_buf *b);
/* Returns the content and leaves b empty. Ownership of the returned string (never NULL;
 * "" when empty, or NULL if that allocation fails) passes to the caller, who frees it. */
char *mg_buf_take(mg_buf *b);

#endif
