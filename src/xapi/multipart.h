/* xapi/multipart.h — xAPI attachments carried in multipart/mixed bodies (RFC 2046).
 *
 * Three steps for a POST/PUT /statements body:
 *  1. mg_xapi_multipart_parse: pure RFC 2046 syntax; parts point into the caller's body (no copy).
 *  2. mg_xapi_multipart_check_parts: the xAPI rules for each part taken alone (first part is
 *     application/json; every other part is Content-Transfer-Encoding binary and has an
 *     X-Experience-API-Hash equal to the SHA-2 of its content).
 *  3. mg_xapi_attachments_check: statements against parts (every attachment without fileUrl has a
 *     part, every part is referenced) and the JWS of signed statements (xapi/jws.h).
 * A plain application/json request is checked with step 3 alone, with no parts.
 * For GET /statements?attachments=true, mg_xapi_mpw_* build a multipart/mixed answer in an
 * mg_buf. */
#ifndef MG_XAPI_MULTIPART_H
#define MG_XAPI_MULTIPART_H

#include "core/json.h"
#include <stddef.h>

#include "core/buf.h"
#include "xapi/validate.h"

/* A byte range inside the parsed body; p is NULL (len 0) when the header was absent. Not
 * NUL-terminated. */
typedef struct mg_xapi_span {
  const char *p;
  size_t len;
} mg_xapi_span;

/* One body part. Every pointer points into the body given to mg_xapi_multipart_parse, so it is
 * valid only as long as that body is. Header values have surrounding whitespace trimmed. */
typedef struct mg_xapi_part {
  mg_xapi_span content_type;      /* Content-Type */
  mg_xapi_span transfer_encoding; /* Content-Transfer-Encoding */
  mg_xapi_span hash;              /* X-Experience-API-Hash (hex SHA-256/384/512) */
  const unsigned char *data;      /* content, between the header block and the next delimiter */
  size_t len;
} mg_xapi_part;

/* Parsed body. parts is owned by the struct (free with mg_xapi_multipart_free); what the parts
 * point to is owned by the caller's body. */
typedef struct mg_xapi_multipart {
  mg_xapi_part *parts;
  size_t n;
} mg_xapi_multipart;

/* Largest boundary RFC 2046 allows. */
#define MG_XAPI_BOUNDARY_MAX 70

/* Extracts the boundary parameter of a Content-Type value whose media type is multipart/mixed
 * (case-insensitive; the value may be a token or a quoted-string). Writes it NUL-terminated to
 * out. MG_OK, or MG_EINVAL with *err filled (not multipart/mixed, no/empty/overlong boundary). */
int mg_xapi_multipart_boundary(const char *content_type, char out[MG_XAPI_BOUNDARY_MAX + 1],
                               mg_xapi_error *err);

/* Parses body (len bytes, need not be NUL-terminated) as multipart/mixed per RFC 2046, with
 * content_type the request's Content-Type header value. Lines may end in CRLF or a bare LF. The
 * preamble before the first delimiter and the epilogue after the close delimiter are ignored; a
 * missing close delimiter, a header line cut off by the next delimiter, a malformed or folded
 * header line, or more than max_parts parts (0 = no limit) is an error. A delimiter is
 * "--boundary" at the start of a line followed by optional blanks and a line end ("--" first for
 * the close delimiter); the line break before it belongs to it, not to the content. A part whose
 * (possibly empty) header block runs up to the next delimiter has empty content (RFC 2046).
 * Header names are matched case-insensitively; other headers are ignored; a repeated
 * Content-Type / Content-Transfer-Encoding / X-Experience-API-Hash header is an error.
 * On MG_OK *mp holds at least one part (caller frees with mg_xapi_multipart_free). Otherwise
 * MG_EINVAL (err filled), MG_ETOOBIG (too many parts, err filled) or MG_ENOMEM, and *mp is
 * empty. Never reads outside body. */
int mg_xapi_multipart_parse(const char *content_type, const void *body, size_t len,
                            size_t max_parts, mg_xapi_multipart *mp, mg_xapi_error *err);
void mg_xapi_multipart_free(mg_xapi_multipart *mp);

/* The xAPI rules for each part of a statements request: parts[0] has Content-Type
 * application/json (parameters such as charset allowed); each later part has an
 * X-Experience-API-Hash that is the hex (either case) SHA-256, SHA-384 or SHA-512 of its content
 * (chosen by the length: 64, 96 or 128 digits), and a Content-Transfer-Encoding of "binary" —
 * an absent one is taken as binary (Communication 1.5.2: the LRS SHOULD assume binary), any other
 * value is rejected. Content-Type is optional on attachment parts (a SHOULD for clients). MG_OK
 * or MG_EINVAL with err->path "part[i]" (i counts from the JSON part, 0) and a message. */
int mg_xapi_multipart_check_parts(const mg_xapi_part *parts, size_t n, mg_xapi_error *err);

/* Cross-checks statements (one statement object, or an array of them) with the attachment parts
 * parts[0..n-1] of the request — i.e. WITHOUT the leading JSON part (pass mp.parts + 1, mp.n - 1;
 * or NULL, 0 for an application/json request):
 *  - every attachment that has no fileUrl must have a part whose hash equals its sha2 (hex,
 *    either case); so must every signature attachment, fileUrl or not. Attachments of a
 *    SubStatement object count too;
 *  - every part must be referenced by the sha2 of some attachment (several parts with the same
 *    hash are all referenced by it; an attachment's "length" is not compared with the part);
 *  - a statement with a signature attachment (usageType
 *    http://adlnet.gov/expapi/attachments/signature) is verified with mg_xapi_jws_verify_statement.
 * Statements should already be valid (mg_xapi_validate_statement); malformed attachments are
 * reported, never crashed on. Does not modify them.
 * MG_OK, or MG_EINVAL with err->path e.g. "[1].attachments[0]" (no "[i]" prefix for a single
 * statement) or "part[2]" (counting the JSON part as 0) and a message naming the sha2, e.g.
 * "[1].attachments[0] sha2 495395e7... has no matching part in the request". MG_ENOMEM
 * possible. */
int mg_xapi_attachments_check(const mg_json *statements, const mg_xapi_part *parts, size_t n,
                              mg_xapi_error *err);

/* Finds the part whose X-Experience-API-Hash equals sha2 (hex, case-insensitive). NULL if none. */
const mg_xapi_part *mg_xapi_part_find(const mg_xapi_part *parts, size_t n, const char *sha2);

/* Writer of a multipart/mixed response. Usage:
 *   mg_xapi_mpw w; mg_xapi_mpw_begin(&w, out);              -- picks a random boundary
 *   header "Content-Type: " + w.content_type
 *   mg_xapi_mpw_add_json(&w, json, json_len);                -- the statement(s) first
 *   mg_xapi_mpw_add(&w, content_type, sha2, data, len) ...   -- one per attachment
 *   mg_xapi_mpw_end(&w);
 * Everything is appended to out (the caller's buffer; the writer owns nothing). Each function
 * returns MG_OK or the mg_buf error (MG_ENOMEM / MG_ETOOBIG). */
typedef struct mg_xapi_mpw {
  mg_buf *out;
  char boundary[MG_XAPI_BOUNDARY_MAX + 1];
  char content_type[128]; /* "multipart/mixed; boundary=<boundary>" */
} mg_xapi_mpw;

/* Picks a random 32-hex-digit boundary (a v4 UUID's 122 random bits, so it cannot plausibly
 * occur in any content). Always MG_OK. */
int mg_xapi_mpw_begin(mg_xapi_mpw *w, mg_buf *out);
/* The first part: Content-Type: application/json. */
int mg_xapi_mpw_add_json(mg_xapi_mpw *w, const char *json, size_t len);
/* An attachment part with Content-Type, Content-Transfer-Encoding: binary and
 * X-Experience-API-Hash: sha2. content_type and sha2 must not contain CR or LF (MG_EINVAL). */
int mg_xapi_mpw_add(mg_xapi_mpw *w, const char *content_type, const char *sha2, const void *data,
                    size_t len);
/* The close delimiter. */
int mg_xapi_mpw_end(mg_xapi_mpw *w);

#endif
