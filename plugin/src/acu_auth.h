/* acu_auth.h - signing in to Acumatica and keeping the credentials fresh.
 *
 * Three ways in (settings grant_type):
 *   authorization_code  OAuth 2.0 with PKCE (S256); a person approves once
 *                       (steps begin and complete), the tokens live in host
 *                       state, refresh tokens renew the access;
 *   password            OAuth 2.0 resource-owner password grant (step login,
 *                       or automatically when no tokens are stored);
 *   cookie              POST /entity/auth/login; the session cookie lives in
 *                       the instance's cookie engine; sign-out at shutdown.
 *
 * The transport asks this module for credentials before each request (the
 * authority interface of acu_http.h). Renewal - a refresh, a password
 * grant, a cookie login - is single-flight: one at a time per instance,
 * with every request that needs credentials parked until it settles.
 *
 * Refresh-token rotation across processes: the tokens are one secret value
 * in host state. Before a refresh the stored value is read again (another
 * process may have rotated already: then its tokens are used and no refresh
 * token is spent). After a refresh the new value is stored with state_cas,
 * expecting the exact value that held the spent token, before the new access
 * token is used. When the swap loses, the winner's tokens are read and
 * used. When Acumatica answers invalid_grant because another process spent
 * the same token a moment earlier, the winner's tokens are waited for (up
 * to 2 s) and used; only otherwise the authorization has really ended. */
#ifndef ACU_AUTH_H
#define ACU_AUTH_H

#include <stddef.h>

#include "acu_instance.h"

typedef struct acu_auth acu_auth;

/* Make the credential keeper of an instance and install it as the
 * transport's authority. No network. */
conn_status acu_auth_new(conn_instance *inst, acu_auth **out, conn_error *err);

/* Sign out where the grant needs it (cookie sessions, and OAuth with
 * api:concurrent_access) and free. Accepts NULL. */
void acu_auth_free(acu_auth *a);

/* The authenticate entry point: a JSON request {"step": ...}; the JSON
 * answer goes to out. Steps: begin, complete, login, status, check, probe
 * (see acu_auth.c). */
conn_status acu_auth_step(conn_instance *inst, const char *request, size_t len,
                          conn_write_fn out, void *user, conn_error *err);

/* Make sure credentials are at hand (renewing when needed), for callers
 * about to send several requests; the transport also does this lazily. */
conn_status acu_auth_ensure(conn_instance *inst, conn_error *err);

#endif
