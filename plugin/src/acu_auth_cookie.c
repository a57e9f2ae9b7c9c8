/* acu_auth_cookie.c - cookie sign-in and sign-out (/entity/auth/login,
 * /entity/auth/logout). The session cookies stay in the instance's cookie
 * engine; a session holds one of the license's API-user seats until it is
 * signed out or idles out (about 10 minutes), so shutdown signs out. */
#include <json-c/json.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "acu_auth_int.h"
#include "acu_error.h"
#include "acu_url.h"

static void login_done(void *user, acu_resp *resp)
{
    acu_auth *a = user;
    conn_error e;

    acu_err_clear(&e);
    if (resp->status == CONN_OK) {
        a->cookie_session = 1;
        acu_log(a->inst, CONN_LOG_INFO, NULL, "signed in with a cookie session as %s",
                a->inst->settings.username);
        acu_auth_settle(a, NULL);
    } else {
        e = resp->err;
        if (resp->apierr.status == CONN_AUTH && !resp->apierr.login_limit)
            acu_err_append(&e, "check username (Username) and password (Password)%s",
                           a->inst->settings.tenant != NULL ? " and tenant (Tenant)" : "");
        acu_auth_settle(a, &e);
    }
    acu_resp_free(resp);
}

conn_status acu_auth_cookie_login_start(acu_auth *a, conn_error *err)
{
    const acu_settings *s = &a->inst->settings;
    json_object *body = json_object_new_object();
    acu_req_spec spec;
    char *url = acu_url_join(s->api_url, "/entity/auth/login");
    const char *text;
    conn_status st;
    int rc = 0;

    if (body == NULL || url == NULL) {
        st = acu_err_set(err, CONN_NOMEM, "out of memory");
        goto out;
    }
    rc |= acu_jput(body, "name", json_object_new_string(s->username));
    rc |= acu_jput(body, "password", json_object_new_string(s->password));
    /* "tenant", not the older "company": the official client refuses to
     * send both (API-NOTES 1.9). */
    if (s->tenant != NULL)
        rc |= acu_jput(body, "tenant", json_object_new_string(s->tenant));
    if (s->branch != NULL)
        rc |= acu_jput(body, "branch", json_object_new_string(s->branch));
    text = rc == 0 ? json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN |
                                                              JSON_C_TO_STRING_NOSLASHESCAPE)
                 : NULL;
    if (text == NULL) {
        st = acu_err_set(err, CONN_NOMEM, "out of memory");
        goto out;
    }
    memset(&spec, 0, sizeof(spec));
    spec.method = "POST";
    spec.url = url;
    spec.content_type = "application/json";
    spec.body = text;
    spec.body_len = strlen(text);
    spec.what = "POST auth/login";
    spec.idempotent = 0; /* each sign-in takes a seat */
    a->busy = ACU_RENEW_COOKIE;
    a->cookie_session = 0;
    st = acu_http_submit(a->inst->http, &spec, 1, login_done, a, err);
    OPENSSL_cleanse((void *)text, strlen(text));
    if (st != CONN_OK)
        a->busy = ACU_RENEW_NONE;
out:
    json_object_put(body);
    free(url);
    return st;
}

/* Sign out of what holds a seat: the cookie session, or an OAuth session
 * with api:concurrent_access (each must be signed out). With plain `api`
 * the session belongs to the token and is shared with other processes
 * using the same grant, so it is left alone. Best effort: failures are
 * logged. */
void acu_auth_cookie_logout(acu_auth *a)
{
    const acu_settings *s = &a->inst->settings;
    int oauth_session = s->grant_type != ACU_GRANT_COOKIE && a->have_tokens &&
                        acu_scope_has(s->scope, "api:concurrent_access");
    acu_req_spec spec;
    acu_resp *resp = NULL;
    conn_error e;
    char *url = NULL, *auth = NULL;
    const char *headers[2] = {NULL, NULL};

    if (!a->cookie_session && !oauth_session)
        return;
    url = acu_url_join(s->api_url, "/entity/auth/logout");
    if (url == NULL)
        goto out;
    if (oauth_session) {
        size_t n = strlen("Authorization: Bearer ") + strlen(a->tok.access_token) + 1;

        auth = malloc(n);
        if (auth == NULL)
            goto out;
        snprintf(auth, n, "Authorization: Bearer %s", a->tok.access_token);
        headers[0] = auth;
    }
    memset(&spec, 0, sizeof(spec));
    spec.method = "POST"; /* bodiless: sent with Content-Length: 0 */
    spec.url = url;
    spec.what = "POST auth/logout";
    spec.headers = headers;
    spec.idempotent = 1;
    spec.max_attempts = 2;
    spec.timeout_ms = 15000;
    acu_err_clear(&e);
    acu_http_ignore_stop(a->inst->http, 1);
    if (acu_http_request(a->inst->http, &spec, &resp, &e) == CONN_OK)
        acu_log(a->inst, CONN_LOG_INFO, NULL, "signed out of the Acumatica session");
    else
        acu_log(a->inst, CONN_LOG_WARN, NULL,
                "sign-out failed (%s); the session ends by itself after about 10 minutes",
                e.message);
    acu_http_ignore_stop(a->inst->http, 0);
    acu_http_clear_cookies(a->inst->http);
    a->cookie_session = 0;
out:
    acu_resp_free(resp);
    acu_secret_free(auth);
    free(url);
}
