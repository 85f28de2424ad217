/* xapi/jws.h — verification of signed xAPI statements (xAPI-Data "Signed Statements").
 *
 * A signed statement carries an attachment with usageType
 * http://adlnet.gov/expapi/attachments/signature and contentType application/octet-stream whose
 * part is a JWS in compact serialisation. The JWS must be well-formed base64url, use RS256, RS384
 * or RS512, and its payload must be the statement itself, without the signature attachment. When
 * the JOSE header has x5c the signature is checked with the first certificate's public key
 * (the certificate chain is not checked against any trust store: the LRS only verifies that the
 * signature matches the given certificate). OpenSSL 3 does the cryptography. */
#ifndef MG_XAPI_JWS_H
#define MG_XAPI_JWS_H

#include "core/json.h"
#include <stddef.h>

#include "xapi/multipart.h"
#include "xapi/validate.h"

#define MG_XAPI_SIGNATURE_USAGE "http://adlnet.gov/expapi/attachments/signature"

/* Index of the first signature attachment in stmt.attachments (by usageType), or -1 if none. */
int mg_xapi_jws_signature_index(const mg_json *stmt);

/* Verifies one statement (as received, before mg_xapi_prepare adds id/stored/authority...) that
 * has signature attachments, using their parts among parts[0..n-1] (the attachment parts, as for
 * mg_xapi_attachments_check). Every signature attachment must have contentType
 * application/octet-stream (parameters allowed) and a part (even with a fileUrl), and its JWS
 * must pass mg_xapi_jws_verify. MG_OK if stmt has no signature attachment or all verify.
 * Otherwise MG_EINVAL with err->path under path_prefix (may be NULL), e.g.
 * "[2].attachments[1]", and a message; MG_ENOMEM possible. Does not modify stmt. */
int mg_xapi_jws_verify_statement(const mg_json *stmt, const mg_xapi_part *parts, size_t n,
                                 const char *path_prefix, mg_xapi_error *err);

/* Verifies the compact JWS jws (len bytes, surrounding whitespace tolerated) against stmt:
 *  - three non-empty base64url parts (no padding); header a JSON object without duplicate keys,
 *    alg exactly RS256/RS384/RS512, no "crit";
 *  - x5c, when present: a non-empty array whose first entry is a base64 DER certificate with an
 *    RSA key of at least 2048 bits (RFC 7518) that verifies the signature. Validity dates and the
 *    chain are not checked (the spec calls this a check for mistakes, not a security measure);
 *  - payload: a JSON object logically equal to stmt (Data 2.6 / 2.3.1): signature attachments
 *    are removed from both; when the payload has no "attachments" at all the statement's others
 *    are ignored too; authority, stored and version are ignored; id and timestamp are ignored
 *    when either side lacks them (ids compared case-insensitively otherwise); result.duration
 *    (also in a SubStatement) is compared truncated to 0.01 s; the rest via
 *    mg_xapi_compare_digest (key order, timestamps as instants).
 * The same returns as mg_xapi_jws_verify_statement; err->path is set to path_prefix. Call it on
 * statements as received, before mg_xapi_prepare (it also copes with prepared ones). */
int mg_xapi_jws_verify(const char *jws, size_t len, const mg_json *stmt, const char *path_prefix,
                       mg_xapi_error *err);

#endif
