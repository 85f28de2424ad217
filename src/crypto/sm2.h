/* crypto/sm2.h — SM2 digital signatures (GB/T 32918.2-2016) with SM3, for audit checkpoints.
 *
 * Keys are raw: a private key is the 32-byte big-endian scalar d (1 <= d <= n-2 on the SM2
 * recommended curve, GB/T 32918.5), a public key the 65-byte uncompressed point 04 || x || y.
 * Signatures are r || s, two 32-byte big-endian integers (fixed width, so a stored signature has
 * one spelling; GM/T 0009's DER form is what `openssl pkeyutl` reads, see docs/crypto.md).
 * The signer's distinguishing ID is the GM/T 0009 default "1234567812345678" (Z_A enters the
 * SM3 digest as the standard requires). OpenSSL 3 EVP does the arithmetic; the caller owns
 * every buffer. All functions are thread-safe. */
#ifndef MG_CRYPTO_SM2_H
#define MG_CRYPTO_SM2_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

#define MG_SM2_PRIV_LEN 32
#define MG_SM2_PUB_LEN 65
#define MG_SM2_SIG_LEN 64
#define MG_SM2_ID "1234567812345678"

/* A fresh private key from OpenSSL's CSPRNG into d. MG_OK or MG_ECRYPTO. */
int mg_sm2_keygen(uint8_t d[MG_SM2_PRIV_LEN]);
/* The public key of d. MG_EINVAL when d is not a valid private key (0 or >= n-1). */
int mg_sm2_public(const uint8_t d[MG_SM2_PRIV_LEN], uint8_t pk[MG_SM2_PUB_LEN]);
/* Signs n bytes at msg with d (public key pk, as from mg_sm2_public). MG_OK or MG_ECRYPTO. */
int mg_sm2_sign(const uint8_t d[MG_SM2_PRIV_LEN], const uint8_t pk[MG_SM2_PUB_LEN],
                const void *msg, size_t n, uint8_t sig[MG_SM2_SIG_LEN]);
/* MG_OK if sig is pk's signature of msg; MG_ECORRUPT if not; MG_EINVAL if pk is not a point of
 * the curve. */
int mg_sm2_verify(const uint8_t pk[MG_SM2_PUB_LEN], const void *msg, size_t n,
                  const uint8_t sig[MG_SM2_SIG_LEN]);
/* Appends pk as a PEM "PUBLIC KEY" (SubjectPublicKeyInfo, id-ecPublicKey on curve SM2) to out,
 * the form `openssl pkey -pubin` and third-party verifiers read. */
int mg_sm2_public_pem(const uint8_t pk[MG_SM2_PUB_LEN], mg_buf *out);

#endif
