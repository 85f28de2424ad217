/* auth/credential.h — platform credentials for the xAPI endpoint (HTTP Basic).
 *
 * Each course platform gets a key and a secret. Only an argon2id hash of the secret is stored.
 * Verifying argon2id costs tens of milliseconds and 64 MiB, far too much per LRS request, so a
 * secret once verified is remembered in memory as a keyed BLAKE2b digest; the credential's
 * enabled flag and hash are re-read from the store on every request, so disabling or rotating a
 * credential takes effect at once. */
#ifndef MG_AUTH_CREDENTIAL_H
#define MG_AUTH_CREDENTIAL_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

typedef struct mg_auth mg_auth;

/* Creates the verifier over store (borrowed; must outlive it). *out owns the result. */
int mg_auth_new(mg_store *store, mg_auth **out);
void mg_auth_free(mg_auth *a);

/* Creates a credential for a platform: a random key ("pk_" + 20 hex) and secret (32 random
 * bytes, base64url), stores the argon2id hash, and returns both in key/secret (NUL-terminated).
 * The secret is shown once and never stored in the clear. */
int mg_auth_credential_create(mg_store *store, const char *platform_name, int64_t platform_id,
                              char key[64], char secret[64]);

/* Verifies an Authorization header value ("Basic base64(key:secret)"). On success fills *cred
 * (enabled credential) and returns MG_OK; MG_EAUTH for a missing, malformed, unknown, disabled or
 * wrong credential (the caller answers 401 without saying which). */
int mg_auth_basic_verify(mg_auth *a, const char *authorization, mg_store_credential *cred);

#endif
