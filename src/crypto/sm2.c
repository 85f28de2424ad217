#include "crypto/sm2.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/params.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <string.h>

#include "core/err.h"

/* An EVP_PKEY on curve SM2 from the raw public key and, when d is given, the private key. */
static int make_pkey(const uint8_t *d, const uint8_t pk[MG_SM2_PUB_LEN], EVP_PKEY **out) {
  *out = NULL;
  int rc = MG_ECRYPTO;
  BIGNUM *bd = NULL;
  OSSL_PARAM *ps = NULL;
  EVP_PKEY_CTX *fc = NULL;
  OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
  if (!b) return MG_ENOMEM;
  if (!OSSL_PARAM_BLD_push_utf8_string(b, OSSL_PKEY_PARAM_GROUP_NAME, SN_sm2, 0) ||
      !OSSL_PARAM_BLD_push_octet_string(b, OSSL_PKEY_PARAM_PUB_KEY, pk, MG_SM2_PUB_LEN))
    goto out;
  if (d) {
    bd = BN_secure_new();
    if (!bd || !BN_bin2bn(d, MG_SM2_PRIV_LEN, bd) ||
        !OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_PRIV_KEY, bd))
      goto out;
  }
  if (!(ps = OSSL_PARAM_BLD_to_param(b))) goto out;
  if (!(fc = EVP_PKEY_CTX_new_from_name(NULL, "SM2", NULL))) goto out;
  if (EVP_PKEY_fromdata_init(fc) <= 0 ||
      EVP_PKEY_fromdata(fc, out, d ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, ps) <= 0) {
    rc = MG_EINVAL; /* not a point of the curve */
    goto out;
  }
  rc = MG_OK;
out:
  EVP_PKEY_CTX_free(fc);
  OSSL_PARAM_free(ps); /* the secure BN part is cleared on free */
  OSSL_PARAM_BLD_free(b);
  BN_clear_free(bd);
  if (rc) ERR_clear_error();
  return rc;
}

/* A digest context for sign (sign = 1) or verify with SM3 and the default distinguishing ID.
 * *pctx is not freed with *mctx (EVP_MD_CTX_set_pkey_ctx): the caller frees both. */
static int md_ctx(EVP_PKEY *k, int sign, EVP_MD_CTX **mctx, EVP_PKEY_CTX **pctx) {
  *mctx = EVP_MD_CTX_new();
  *pctx = EVP_PKEY_CTX_new_from_pkey(NULL, k, NULL);
  if (!*mctx || !*pctx) return MG_ENOMEM;
  if (EVP_PKEY_CTX_set1_id(*pctx, MG_SM2_ID, strlen(MG_SM2_ID)) <= 0) return MG_ECRYPTO;
  EVP_MD_CTX_set_pkey_ctx(*mctx, *pctx);
  int ok = sign ? EVP_DigestSignInit(*mctx, NULL, EVP_sm3(), NULL, k)
                : EVP_DigestVerifyInit(*mctx, NULL, EVP_sm3(), NULL, k);
  return ok > 0 ? MG_OK : MG_ECRYPTO;
}

int mg_sm2_keygen(uint8_t d[MG_SM2_PRIV_LEN]) {
  EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "SM2");
  BIGNUM *bd = NULL;
  int rc = MG_ECRYPTO;
  if (k && EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_PRIV_KEY, &bd) > 0 &&
      BN_bn2binpad(bd, d, MG_SM2_PRIV_LEN) == MG_SM2_PRIV_LEN)
    rc = MG_OK;
  BN_clear_free(bd);
  EVP_PKEY_free(k);
  if (rc) ERR_clear_error();
  return rc;
}

int mg_sm2_public(const uint8_t d[MG_SM2_PRIV_LEN], uint8_t pk[MG_SM2_PUB_LEN]) {
  int rc = MG_ECRYPTO;
  EC_GROUP *g = EC_GROUP_new_by_curve_name(NID_sm2);
  EC_POINT *p = g ? EC_POINT_new(g) : NULL;
  BIGNUM *bd = BN_secure_new(), *lim = BN_new();
  if (!g || !p || !bd || !lim || !BN_bin2bn(d, MG_SM2_PRIV_LEN, bd)) goto out;
  /* GB/T 32918.1 6.1: d in [1, n-2] */
  if (!BN_copy(lim, EC_GROUP_get0_order(g)) || !BN_sub_word(lim, 1)) goto out;
  if (BN_is_zero(bd) || BN_cmp(bd, lim) >= 0) {
    rc = MG_EINVAL;
    goto out;
  }
  if (EC_POINT_mul(g, p, bd, NULL, NULL, NULL) &&
      EC_POINT_point2oct(g, p, POINT_CONVERSION_UNCOMPRESSED, pk, MG_SM2_PUB_LEN, NULL) ==
          MG_SM2_PUB_LEN)
    rc = MG_OK;
out:
  BN_clear_free(bd);
  BN_free(lim);
  EC_POINT_free(p);
  EC_GROUP_free(g);
  if (rc) ERR_clear_error();
  return rc;
}

int mg_sm2_sign(const uint8_t d[MG_SM2_PRIV_LEN], const uint8_t pk[MG_SM2_PUB_LEN],
                const void *msg, size_t n, uint8_t sig[MG_SM2_SIG_LEN]) {
  static const uint8_t empty;
  EVP_PKEY *k = NULL;
  EVP_MD_CTX *m = NULL;
  EVP_PKEY_CTX *pc = NULL;
  ECDSA_SIG *es = NULL;
  uint8_t der[128];
  size_t dl = sizeof der;
  int rc = make_pkey(d, pk, &k);
  if (rc == MG_EINVAL) rc = MG_ECRYPTO;
  if (!rc) rc = md_ctx(k, 1, &m, &pc);
  if (!rc && EVP_DigestSign(m, der, &dl, n ? msg : &empty, n) <= 0) rc = MG_ECRYPTO;
  /* DER (what OpenSSL emits) to fixed-width r || s */
  const unsigned char *q = der;
  const BIGNUM *r = NULL, *s = NULL;
  if (!rc && !(es = d2i_ECDSA_SIG(NULL, &q, (long)dl))) rc = MG_ECRYPTO;
  if (!rc) {
    ECDSA_SIG_get0(es, &r, &s);
    if (BN_bn2binpad(r, sig, 32) != 32 || BN_bn2binpad(s, sig + 32, 32) != 32) rc = MG_ECRYPTO;
  }
  ECDSA_SIG_free(es);
  EVP_MD_CTX_free(m);
  EVP_PKEY_CTX_free(pc);
  EVP_PKEY_free(k);
  if (rc) ERR_clear_error();
  return rc;
}

int mg_sm2_verify(const uint8_t pk[MG_SM2_PUB_LEN], const void *msg, size_t n,
                  const uint8_t sig[MG_SM2_SIG_LEN]) {
  static const uint8_t empty;
  EVP_PKEY *k = NULL;
  EVP_MD_CTX *m = NULL;
  EVP_PKEY_CTX *pc = NULL;
  ECDSA_SIG *es = NULL;
  BIGNUM *r = NULL, *s = NULL;
  unsigned char *der = NULL;
  int rc = make_pkey(NULL, pk, &k);
  if (!rc) rc = md_ctx(k, 0, &m, &pc);
  if (!rc) {
    es = ECDSA_SIG_new();
    r = BN_bin2bn(sig, 32, NULL);
    s = BN_bin2bn(sig + 32, 32, NULL);
    if (!es || !r || !s || !ECDSA_SIG_set0(es, r, s)) rc = MG_ENOMEM;
    else r = s = NULL; /* owned by es now */
  }
  int dl = 0;
  if (!rc && (dl = i2d_ECDSA_SIG(es, &der)) <= 0) rc = MG_ECRYPTO;
  /* OpenSSL rejects r or s outside [1, n-1] itself (GB/T 32918.2 7.1 B1, B2) */
  if (!rc && EVP_DigestVerify(m, der, (size_t)dl, n ? msg : &empty, n) != 1) rc = MG_ECORRUPT;
  OPENSSL_free(der);
  BN_free(r);
  BN_free(s);
  ECDSA_SIG_free(es);
  EVP_MD_CTX_free(m);
  EVP_PKEY_CTX_free(pc);
  EVP_PKEY_free(k);
  if (rc) ERR_clear_error();
  return rc;
}

int mg_sm2_public_pem(const uint8_t pk[MG_SM2_PUB_LEN], mg_buf *out) {
  EVP_PKEY *k = NULL;
  BIO *bio = NULL;
  int rc = make_pkey(NULL, pk, &k);
  if (!rc && !(bio = BIO_new(BIO_s_mem()))) rc = MG_ENOMEM;
  if (!rc && !PEM_write_bio_PUBKEY(bio, k)) rc = MG_ECRYPTO;
  char *p = NULL;
  long len = rc ? 0 : BIO_get_mem_data(bio, &p);
  if (!rc && (len <= 0 || !p)) rc = MG_ECRYPTO;
  if (!rc) rc = mg_buf_add(out, p, (size_t)len);
  BIO_free(bio);
  EVP_PKEY_free(k);
  if (rc) ERR_clear_error();
  return rc;
}
