/* api/api_int.h — private to src/api: what the auth endpoints need from the layer beyond api.h. */
#ifndef MG_API_API_INT_H
#define MG_API_API_INT_H

#include "api/api.h"
#include "auth/session.h"

/* The caller's session (NULL on public routes). */
const mg_store_session *mg_api_session(const mg_api_call *c);
/* Session and lockout settings in force. */
const mg_auth_policy *mg_api_policy(const mg_api *api);
/* Cookies get the Secure attribute (base-url is https). */
int mg_api_secure_cookie(const mg_api *api);

#endif
