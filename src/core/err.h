/* core/err.h — moocguard's error codes.
 *
 * Every fallible function returns 0 (MG_OK) or a negative MG_E* code. The codes and their
 * messages come from one table so names, numbers and text never drift apart. */
#ifndef MG_CORE_ERR_H
#define MG_CORE_ERR_H

#define MG_ERR_MAP(XX)                                   \
  XX(NOMEM, "out of memory")                             \
  XX(INVAL, "invalid argument")                          \
  XX(TOOBIG, "too large")                                \
  XX(NOTFOUND, "not found")                              \
  XX(CONFLICT, "conflict")                               \
  XX(EXISTS, "already exists")                           \
  XX(IO, "input/output error")                           \
  XX(STORE, "store error")                               \
  XX(AUTH, "not authenticated")                          \
  XX(FORBIDDEN, "forbidden")                             \
  XX(NOTSUP, "not supported")                            \
  XX(BUSY, "busy, try again")                            \
  XX(CRYPTO, "cryptographic failure")                    \
  XX(CORRUPT, "data corrupt")

typedef enum mg_err {
  MG_OK = 0,
#define MG_ERR_ENUM(name, msg) MG_E##name,
  MG_ERR_FIRST_ = -100,
  MG_ERR_MAP(MG_ERR_ENUM)
#undef MG_ERR_ENUM
  MG_ERR_LAST_
} mg_err;

/* Human-readable message for an error code; never NULL. */
const char *mg_strerror(int err);
/* Symbolic name such as "MG_ENOTFOUND"; never NULL. */
const char *mg_err_name(int err);

#endif
