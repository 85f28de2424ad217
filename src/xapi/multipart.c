/* xapi/multipart.c — multipart/mixed parsing, the xAPI attachment rules, and the response writer.
 *
 * The parser only indexes the body: it never copies, never writes to it, and every read is
 * checked against its length, so it is safe on arbitrary (fuzzed) input. */
#include "xapi/multipart.h"

#include <openssl/evp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/uuid.h"
#include "xapi/jws.h"

/* ---- small helpers ----------------------------------------------------------------------- */


static char lower(char c) { return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c; }

static int is_ows(char c) { return c == ' ' || c == '\t'; }

/* Case-insensitive equality of a span with a NUL-terminated literal. */
static int span_ieq(const char *p, size_t n, const char *lit) {
  size_t i;
  for (i = 0; i < n; i++)
    if (lit[i] == '\0' || lower(p[i]) != lower(lit[i])) return 0;
  return lit[n] == '\0';
}

/* Length of the media type (type/subtype) at the start of a header value: up to ';' or
 * whitespace. */
static size_t media_len(const char *p, size_t n) {
  size_t i = 0;
  while (i < n && p[i] != ';' && !is_ows(p[i])) i++;
  return i;
}

/* Does header value p[0..n) (or C string when n == SIZE_MAX) name media type lit, with any
 * parameters? */
static int media_is(const char *p, size_t n, const char *lit) {
  if (!p) return 0;
  if (n == SIZE_MAX) n = strlen(p);
  while (n > 0 && is_ows(*p)) {
    p++;
    n--;
  }
  return span_ieq(p, media_len(p, n), lit);
}

/* Printable rendering of a span for error messages: at most 72 bytes, control and non-ASCII
 * bytes shown as '?'. */
static void show(const char *p, size_t n, char out[80]) {
  size_t i, k = 0;
  for (i = 0; i < n && k < 72; i++)
    out[k++] = (p[i] >= 0x20 && p[i] < 0x7f) ? p[i] : '?';
  if (i < n) {
    out[k++] = '.';
    out[k++] = '.';
    out[k++] = '.';
  }
  out[k] = '\0';
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = lower(c);
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

/* Case-insensitive comparison of two hex strings of equal length. */
static int hex_ieq(const char *a, size_t an, const char *b, size_t bn) {
  size_t i;
  if (an != bn || an == 0) return 0;
  for (i = 0; i < an; i++) {
    if (hexval(a[i]) < 0 || lower(a[i]) != lower(b[i])) return 0;
  }
  return 1;
}

/* ---- Content-Type and boundary ----------------------------------------------------------- */

/* RFC 2046 bchars plus space, which may not end the boundary. */
static int is_bchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return 1;
  return c != '\0' && strchr("'()+_,-./:=? ", c) != NULL;
}

int mg_xapi_multipart_boundary(const char *ct, char out[MG_XAPI_BOUNDARY_MAX + 1],
                               mg_xapi_error *err) {
  const char *p = ct;
  size_t n;
  int have = 0;
  char shown[80];

  out[0] = '\0';
  if (!ct) return mg_xapi_error_set(err, "", "the request has no Content-Type");
  while (is_ows(*p)) p++;
  n = media_len(p, strlen(p));
  if (!span_ieq(p, n, "multipart/mixed")) {
    show(p, n, shown);
    return mg_xapi_error_set(err, "", "Content-Type %s is not multipart/mixed", shown);
  }
  p += n;
  for (;;) {
    const char *name;
    size_t name_len, vlen = 0;
    char val[MG_XAPI_BOUNDARY_MAX + 2];
    int toolong = 0;

    while (is_ows(*p)) p++;
    if (*p == '\0') break;
    if (*p != ';') return mg_xapi_error_set(err, "", "malformed parameters in Content-Type");
    p++;
    while (is_ows(*p)) p++;
    if (*p == '\0') break;
    if (*p == ';') continue;
    name = p;
    while (*p && *p != '=' && *p != ';' && !is_ows(*p)) p++;
    name_len = (size_t)(p - name);
    while (is_ows(*p)) p++;
    if (*p != '=') return mg_xapi_error_set(err, "", "Content-Type parameter without a value");
    p++;
    while (is_ows(*p)) p++;
    if (*p == '"') {
      p++;
      while (*p && *p != '"') {
        if (*p == '\\' && p[1] != '\0') p++;
        if (vlen <= MG_XAPI_BOUNDARY_MAX)
          val[vlen++] = *p;
        else
          toolong = 1;
        p++;
      }
      if (*p != '"') return mg_xapi_error_set(err, "", "unterminated quoted string in Content-Type");
      p++;
    } else {
      while (*p && *p != ';' && !is_ows(*p)) {
        if (vlen <= MG_XAPI_BOUNDARY_MAX)
          val[vlen++] = *p;
        else
          toolong = 1;
        p++;
      }
    }
    val[vlen] = '\0';
    if (!span_ieq(name, name_len, "boundary")) continue;
    if (have) return mg_xapi_error_set(err, "", "Content-Type has more than one boundary parameter");
    have = 1;
    if (toolong || vlen > MG_XAPI_BOUNDARY_MAX)
      return mg_xapi_error_set(err, "", "multipart boundary is longer than %d characters",
                  MG_XAPI_BOUNDARY_MAX);
    if (vlen == 0) return mg_xapi_error_set(err, "", "multipart boundary is empty");
    for (size_t i = 0; i < vlen; i++)
      if (!is_bchar(val[i]))
        return mg_xapi_error_set(err, "", "multipart boundary contains a character RFC 2046 does not allow");
    if (val[vlen - 1] == ' ') return mg_xapi_error_set(err, "", "multipart boundary ends with a space");
    memcpy(out, val, vlen + 1);
  }
  if (!have) return mg_xapi_error_set(err, "", "multipart/mixed Content-Type has no boundary parameter");
  return MG_OK;
}

/* ---- body parsing ------------------------------------------------------------------------ */

typedef struct scan {
  const unsigned char *b;
  size_t len;
  char needle[MG_XAPI_BOUNDARY_MAX + 3]; /* "--" boundary */
  size_t nlen;
} scan;

/* If a delimiter line ("--boundary", optional "--", optional whitespace, then CRLF, LF or (close
 * only) the end) starts at q, sets *is_close and *next (first byte after the line); returns 1. */
static int delim_at(const scan *s, size_t q, int *is_close, size_t *next) {
  size_t i = q + s->nlen;
  int close = 0;

  if (i + 2 <= s->len && s->b[i] == '-' && s->b[i + 1] == '-') {
    close = 1;
    i += 2;
  }
  while (i < s->len && is_ows((char)s->b[i])) i++;
  if (i == s->len) {
    if (!close) return 0;
  } else if (s->b[i] == '\n') {
    i++;
  } else if (s->b[i] == '\r' && i + 1 < s->len && s->b[i + 1] == '\n') {
    i += 2;
  } else {
    return 0;
  }
  *is_close = close;
  *next = i;
  return 1;
}

/* memmem is a GNU extension; this bounded search costs at most O(len * nlen), nlen <= 72. */
static const unsigned char *find_bytes(const unsigned char *h, size_t hlen, const char *nd,
                                       size_t nlen) {
  while (hlen >= nlen) {
    const unsigned char *c = memchr(h, nd[0], hlen - nlen + 1);
    if (!c) return NULL;
    if (memcmp(c, nd, nlen) == 0) return c;
    hlen -= (size_t)(c - h) + 1;
    h = c + 1;
  }
  return NULL;
}

/* Finds the first delimiter line at or after from that starts a line (at offset 0 or after LF).
 * Returns its offset, or SIZE_MAX. */
static size_t find_delim(const scan *s, size_t from, int *is_close, size_t *next) {
  size_t pos = from;
  while (pos < s->len && s->len - pos >= s->nlen) {
    const unsigned char *hit = find_bytes(s->b + pos, s->len - pos, s->needle, s->nlen);
    size_t q;
    if (!hit) return SIZE_MAX;
    q = (size_t)(hit - s->b);
    if ((q == 0 || s->b[q - 1] == '\n') && delim_at(s, q, is_close, next)) return q;
    pos = q + 1;
  }
  return SIZE_MAX;
}

/* Parses the headers of the part in [start, end) into *part. idx is for messages. */
static int parse_part(const scan *s, size_t start, size_t end, size_t idx, mg_xapi_part *part,
                      mg_xapi_error *err) {
  char path[32];
  size_t p = start;

  snprintf(path, sizeof path, "part[%zu]", idx);
  memset(part, 0, sizeof *part);
  part->data = s->b + end;
  part->len = 0;
  while (p < end) {
    const unsigned char *lf = memchr(s->b + p, '\n', end - p);
    size_t line_end, colon;
    const char *line = (const char *)s->b + p;
    mg_xapi_span *slot = NULL;

    if (!lf)
      return mg_xapi_error_set(err, path, "part[%zu]: the header block is not ended by a blank line", idx);
    line_end = (size_t)(lf - s->b);
    if (line_end > p && s->b[line_end - 1] == '\r') line_end--;
    if (line_end == p) { /* the blank line: content follows */
      part->data = lf + 1;
      part->len = end - (size_t)(lf + 1 - s->b);
      return MG_OK;
    }
    if (is_ows(line[0]))
      return mg_xapi_error_set(err, path, "part[%zu]: folded header lines are not supported", idx);
    for (colon = 0; p + colon < line_end && line[colon] != ':'; colon++) {
      unsigned char c = (unsigned char)line[colon];
      if (c <= 32 || c >= 127)
        return mg_xapi_error_set(err, path, "part[%zu]: malformed header line", idx);
    }
    if (p + colon == line_end || colon == 0)
      return mg_xapi_error_set(err, path, "part[%zu]: malformed header line (no name or no ':')", idx);
    if (span_ieq(line, colon, "Content-Type"))
      slot = &part->content_type;
    else if (span_ieq(line, colon, "Content-Transfer-Encoding"))
      slot = &part->transfer_encoding;
    else if (span_ieq(line, colon, "X-Experience-API-Hash"))
      slot = &part->hash;
    if (slot) {
      const char *v = line + colon + 1;
      size_t vlen = line_end - p - colon - 1;
      char name[80];
      if (slot->p) {
        show(line, colon, name);
        return mg_xapi_error_set(err, path, "part[%zu]: header %s appears more than once", idx, name);
      }
      while (vlen > 0 && is_ows(*v)) {
        v++;
        vlen--;
      }
      while (vlen > 0 && is_ows(v[vlen - 1])) vlen--;
      slot->p = v;
      slot->len = vlen;
    }
    p = (size_t)(lf + 1 - s->b);
  }
  /* Headers (possibly none) ran to the delimiter: RFC 2046 allows a part without content. */
  return MG_OK;
}

void mg_xapi_multipart_free(mg_xapi_multipart *mp) {
  if (!mp) return;
  free(mp->parts);
  mp->parts = NULL;
  mp->n = 0;
}

int mg_xapi_multipart_parse(const char *content_type, const void *body, size_t len,
                            size_t max_parts, mg_xapi_multipart *mp, mg_xapi_error *err) {
  char boundary[MG_XAPI_BOUNDARY_MAX + 1];
  scan s;
  size_t cap = 0, start, q;
  int rc, is_close = 0;
  mg_xapi_part *parts = NULL;
  size_t n = 0;

  mp->parts = NULL;
  mp->n = 0;
  rc = mg_xapi_multipart_boundary(content_type, boundary, err);
  if (rc != MG_OK) return rc;
  if (!body && len > 0) return mg_xapi_error_set(err, "", "no body");

  s.b = body;
  s.len = body ? len : 0;
  s.needle[0] = '-';
  s.needle[1] = '-';
  s.nlen = strlen(boundary);
  memcpy(s.needle + 2, boundary, s.nlen + 1);
  s.nlen += 2;

  q = find_delim(&s, 0, &is_close, &start);
  if (q == SIZE_MAX) {
    rc = mg_xapi_error_set(err, "", "the body has no delimiter line --%s", boundary);
    goto out;
  }
  if (is_close) {
    rc = mg_xapi_error_set(err, "", "the body has a close delimiter but no part");
    goto out;
  }
  for (;;) {
    size_t next, end;
    q = find_delim(&s, start, &is_close, &next);
    if (q == SIZE_MAX) {
      rc = mg_xapi_error_set(err, "", "part[%zu] is not terminated: the close delimiter --%s-- is missing", n,
                boundary);
      goto out;
    }
    /* The line break before the delimiter belongs to the delimiter, not to the content. */
    end = q;
    if (q > start && s.b[q - 1] == '\n') {
      end = q - 1;
      if (end > start && s.b[end - 1] == '\r') end--;
    }
    if (max_parts && n == max_parts) {
      mg_xapi_error_set(err, "", "more than %zu parts", max_parts);
      rc = MG_ETOOBIG;
      goto out;
    }
    if (n == cap) {
      size_t ncap = cap ? cap * 2 : 4;
      mg_xapi_part *np;
      if (ncap > SIZE_MAX / sizeof *np) {
        rc = MG_ENOMEM;
        goto out;
      }
      np = realloc(parts, ncap * sizeof *np);
      if (!np) {
        rc = MG_ENOMEM;
        goto out;
      }
      parts = np;
      cap = ncap;
    }
    rc = parse_part(&s, start, end, n, &parts[n], err);
    if (rc != MG_OK) goto out;
    n++;
    if (is_close) break; /* what follows is the epilogue, ignored */
    start = next;
  }
  mp->parts = parts;
  mp->n = n;
  parts = NULL;
  rc = MG_OK;
out:
  free(parts);
  return rc;
}

/* ---- xAPI rules -------------------------------------------------------------------------- */

/* Digest for a hex hash of this length, or NULL. */
static const EVP_MD *md_for_hex_len(size_t n) {
  switch (n) {
  case 64: return EVP_sha256();
  case 96: return EVP_sha384();
  case 128: return EVP_sha512();
  default: return NULL;
  }
}

static int is_hex(const char *p, size_t n) {
  size_t i;
  for (i = 0; i < n; i++)
    if (hexval(p[i]) < 0) return 0;
  return 1;
}

int mg_xapi_multipart_check_parts(const mg_xapi_part *parts, size_t n, mg_xapi_error *err) {
  size_t i;
  char path[32], shown[80];

  if (n == 0 || !parts) return mg_xapi_error_set(err, "", "the multipart body has no part");
  if (!parts[0].content_type.p)
    return mg_xapi_error_set(err, "part[0]", "the first part has no Content-Type; it must be application/json");
  if (!media_is(parts[0].content_type.p, parts[0].content_type.len, "application/json")) {
    show(parts[0].content_type.p, parts[0].content_type.len, shown);
    return mg_xapi_error_set(err, "part[0]", "the first part has Content-Type %s; it must be application/json",
                shown);
  }
  for (i = 1; i < n; i++) {
    const mg_xapi_part *pt = &parts[i];
    const EVP_MD *md;
    unsigned char dg[EVP_MAX_MD_SIZE];
    unsigned int dlen = 0;
    size_t k;

    snprintf(path, sizeof path, "part[%zu]", i);
    if (pt->transfer_encoding.p && !span_ieq(pt->transfer_encoding.p, pt->transfer_encoding.len,
                                             "binary")) {
      show(pt->transfer_encoding.p, pt->transfer_encoding.len, shown);
      return mg_xapi_error_set(err, path, "part[%zu] has Content-Transfer-Encoding %s; it must be binary", i,
                  shown);
    }
    if (!pt->hash.p || pt->hash.len == 0)
      return mg_xapi_error_set(err, path, "part[%zu] has no X-Experience-API-Hash header", i);
    md = md_for_hex_len(pt->hash.len);
    if (!md || !is_hex(pt->hash.p, pt->hash.len)) {
      show(pt->hash.p, pt->hash.len, shown);
      return mg_xapi_error_set(err, path,
                  "part[%zu] X-Experience-API-Hash %s is not a hex SHA-256, SHA-384 or SHA-512", i,
                  shown);
    }
    if (EVP_Digest(pt->len ? pt->data : (const unsigned char *)"", pt->len, dg, &dlen, md,
                   NULL) != 1)
      return MG_ECRYPTO;
    for (k = 0; k < dlen; k++) {
      if (hexval(pt->hash.p[2 * k]) != (dg[k] >> 4) ||
          hexval(pt->hash.p[2 * k + 1]) != (dg[k] & 15)) {
        show(pt->hash.p, pt->hash.len, shown);
        return mg_xapi_error_set(err, path,
                    "part[%zu] content does not match its X-Experience-API-Hash %s", i, shown);
      }
    }
  }
  return MG_OK;
}

const mg_xapi_part *mg_xapi_part_find(const mg_xapi_part *parts, size_t n, const char *sha2) {
  size_t i, sl;
  if (!parts || !sha2) return NULL;
  sl = strlen(sha2);
  for (i = 0; i < n; i++)
    if (parts[i].hash.p && hex_ieq(parts[i].hash.p, parts[i].hash.len, sha2, sl)) return &parts[i];
  return NULL;
}

/* Is v a JSON string equal to lit? By length: parsed strings never hold NUL, built ones may. */
static int str_is(const mg_json *v, const char *lit) {
  size_t n = strlen(lit);
  return mg_json_string_length(v) == n && memcmp(mg_json_string_value(v), lit, n) == 0;
}

/* Checks the attachments array of one statement (or SubStatement, at path base) against the
 * parts, marking those referenced in used[]. */
static int check_attachment_list(const mg_json *stmt, const char *base, const mg_xapi_part *parts,
                                 size_t n, unsigned char *used, mg_xapi_error *err) {
  const mg_json *list = mg_json_object_get(stmt, "attachments");
  size_t j, k;
  char path[256];

  if (!list) return MG_OK;
  if (!mg_json_is_array(list))
    return mg_xapi_error_set(err, base, "%s%sattachments is not an array", base, *base ? "." : "");
  for (j = 0; j < mg_json_array_size(list); j++) {
    const mg_json *att = mg_json_array_get(list, j);
    const mg_json *sha2v, *usage;
    const char *sha2;
    size_t sl;
    int found = 0, is_sig;

    snprintf(path, sizeof path, "%s%sattachments[%zu]", base, *base ? "." : "", j);
    if (!mg_json_is_object(att)) return mg_xapi_error_set(err, path, "%s is not an object", path);
    sha2v = mg_json_object_get(att, "sha2");
    sha2 = mg_json_string_value(sha2v);
    if (!sha2) return mg_xapi_error_set(err, path, "%s has no sha2 string", path);
    sl = mg_json_string_length(sha2v);
    for (k = 0; k < n; k++) {
      if (parts[k].hash.p && hex_ieq(parts[k].hash.p, parts[k].hash.len, sha2, sl)) {
        used[k] = 1;
        found = 1;
      }
    }
    usage = mg_json_object_get(att, "usageType");
    is_sig = str_is(usage, MG_XAPI_SIGNATURE_USAGE);
    if (!found && (is_sig || !mg_json_object_get(att, "fileUrl"))) {
      char shown[80];
      show(sha2, sl, shown);
      return mg_xapi_error_set(err, path, "%s%s sha2 %s has no matching part in the request", path,
                  is_sig ? " (signature)" : "", shown);
    }
  }
  return MG_OK;
}

static int check_one(const mg_json *stmt, const char *prefix, const mg_xapi_part *parts, size_t n,
                     unsigned char *used, mg_xapi_error *err) {
  const mg_json *obj;
  int rc;

  if (!mg_json_is_object(stmt)) return mg_xapi_error_set(err, prefix, "statement %s is not an object", prefix);
  rc = check_attachment_list(stmt, prefix, parts, n, used, err);
  if (rc != MG_OK) return rc;
  obj = mg_json_object_get(stmt, "object");
  if (mg_json_is_object(obj)) {
    const mg_json *ot = mg_json_object_get(obj, "objectType");
    if (str_is(ot, "SubStatement")) {
      char sub[256];
      snprintf(sub, sizeof sub, "%s%sobject", prefix, *prefix ? "." : "");
      rc = check_attachment_list(obj, sub, parts, n, used, err);
      if (rc != MG_OK) return rc;
    }
  }
  return mg_xapi_jws_verify_statement(stmt, parts, n, prefix, err);
}

int mg_xapi_attachments_check(const mg_json *statements, const mg_xapi_part *parts, size_t n,
                              mg_xapi_error *err) {
  unsigned char *used = NULL;
  size_t i;
  int rc;

  if (!parts) n = 0;
  if (n) {
    used = calloc(n, 1);
    if (!used) return MG_ENOMEM;
  }
  if (mg_json_is_array(statements)) {
    for (i = 0; i < mg_json_array_size(statements); i++) {
      char prefix[32];
      snprintf(prefix, sizeof prefix, "[%zu]", i);
      rc = check_one(mg_json_array_get(statements, i), prefix, parts, n, used, err);
      if (rc != MG_OK) goto out;
    }
  } else {
    rc = check_one(statements, "", parts, n, used, err);
    if (rc != MG_OK) goto out;
  }
  for (i = 0; i < n; i++) {
    if (!used[i]) {
      char shown[80], path[32];
      show(parts[i].hash.p ? parts[i].hash.p : "", parts[i].hash.len, shown);
      snprintf(path, sizeof path, "part[%zu]", i + 1);
      rc = mg_xapi_error_set(err, path,
                "part[%zu] (X-Experience-API-Hash %s) is not referenced by any attachment's sha2",
                i + 1, shown);
      goto out;
    }
  }
  rc = MG_OK;
out:
  free(used);
  return rc;
}

/* ---- response writer --------------------------------------------------------------------- */

int mg_xapi_mpw_begin(mg_xapi_mpw *w, mg_buf *out) {
  uint8_t r[16];
  static const char hex[] = "0123456789abcdef";
  size_t i;

  mg_uuid_v4(r); /* 122 random bits is plenty for a boundary that must not occur in content */
  for (i = 0; i < 16; i++) {
    w->boundary[2 * i] = hex[r[i] >> 4];
    w->boundary[2 * i + 1] = hex[r[i] & 15];
  }
  w->boundary[32] = '\0';
  snprintf(w->content_type, sizeof w->content_type, "multipart/mixed; boundary=%s", w->boundary);
  w->out = out;
  return MG_OK;
}

static int has_crlf(const char *s) { return strchr(s, '\r') || strchr(s, '\n'); }

int mg_xapi_mpw_add_json(mg_xapi_mpw *w, const char *json, size_t len) {
  int rc = mg_buf_addf(w->out, "--%s\r\nContent-Type: application/json\r\n\r\n", w->boundary);
  if (rc == MG_OK) rc = mg_buf_add(w->out, json, len);
  if (rc == MG_OK) rc = mg_buf_add(w->out, "\r\n", 2);
  return rc;
}

int mg_xapi_mpw_add(mg_xapi_mpw *w, const char *content_type, const char *sha2, const void *data,
                    size_t len) {
  int rc;
  if (!content_type || !sha2 || has_crlf(content_type) || has_crlf(sha2) || (!data && len))
    return MG_EINVAL;
  rc = mg_buf_addf(w->out,
                   "--%s\r\nContent-Type: %s\r\nContent-Transfer-Encoding: binary\r\n"
                   "X-Experience-API-Hash: %s\r\n\r\n",
                   w->boundary, content_type, sha2);
  if (rc == MG_OK && len) rc = mg_buf_add(w->out, data, len);
  if (rc == MG_OK) rc = mg_buf_add(w->out, "\r\n", 2);
  return rc;
}

int mg_xapi_mpw_end(mg_xapi_mpw *w) { return mg_buf_addf(w->out, "--%s--\r\n", w->boundary); }
