#include "core/err.h"

const char *mg_strerror(int err) {
  switch (err) {
  case MG_OK: return "ok";
#define MG_ERR_STR(name, msg) case MG_E##name: return msg;
  MG_ERR_MAP(MG_ERR_STR)
#undef MG_ERR_STR
  default: return "unknown error";
  }
}

const char *mg_err_name(int err) {
  switch (err) {
  case MG_OK: return "MG_OK";
#define MG_ERR_NAME(name, msg) case MG_E##name: return "MG_E" #name;
  MG_ERR_MAP(MG_ERR_NAME)
#undef MG_ERR_NAME
  default: return "MG_E?";
  }
}
