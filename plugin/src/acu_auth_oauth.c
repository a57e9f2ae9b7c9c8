/* acu_auth_oauth.c - the authorization-code flow with PKCE: steps begin and
 * complete.
 *
 * begin makes a random state (32 bytes) and code verifier (48 bytes, 64
 * base64url characters; RFC 7636 allows 43-128), keeps them with the
 * redirect URI in host state as a secret that expires after 10 minutes, and
 * answers the authorization URL with the S256 challenge. complete checks
 * the state of the redirect in constant time, handles a refusal on the
 * consent page, and exchanges the code (with the verifier and the same
 * redirect URI) for tokens, which it stores. */
#include <json-c/json.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "acu_auth_int.h"
#include "acu_crypto.h"
#include "acu_error.h"
#include "acu_json.h"
#include "acu_url.h"

#define PENDING_LIFETIME_S 600

static conn_status store_pending(conn_instance *inst, const char *state,
                                 const char *verifier, int64_t expires_at, conn_error *err)
{
    const acu_settings *s = &inst->settings;
    json_object *o = json_object_new_object();
    const char *text;
    conn_status st;
    int rc = 0;

    if (o == NULL)
        return acu_err_set(err, CONN_NOMEM, "begin: out of memory");
    rc |= acu_jput(o, "v", json_object_new_int(1));
    rc |= acu_jput(o, "state", json_object_new_string(state));
    rc |= acu_jput(o, "verifier", json_object_new_string(verifier));
    rc |= acu_jput(o, "redirect_uri", json_object_new_string(s->redirect_url));
    rc |= acu_jput(o, "client_id", json_object_new_string(s->client_id));
    rc |= acu_jput(o, "expires_at", json_object_new_int64(expires_at));
    text = rc == 0 ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                                           JSON_C_TO_STRING_NOSLASHESCAPE)
                   : NULL;
    if (text == NULL) {
        json_object_put(o);
        return acu_err_set(err, CONN_NOMEM, "begin: out of memory");
    }
    st = acu_store_put_secret(inst, ACU_KEY_PENDING, text, strlen(text), err);
    OPENSSL_cleanse((void *)text, strlen(text));
    json_object_put(o);
    return st;
}

conn_status acu_auth_step_begin(conn_instance *inst, json_object *req, json_object *ans,
                                conn_error *err)
{
    const acu_settings *s = &inst->settings;
    char state[ACU_B64URL_LEN(32)], verifier[ACU_B64URL_LEN(48)], challenge[ACU_PKCE_CHALLENGE_SIZE];
    acu_buf url;
    conn_status st;
    int rc = 0;

    (void)req;
    acu_buf_init(&url, 16 * 1024);
    if (s->grant_type != ACU_GRANT_AUTHORIZATION_CODE) {
        st = acu_err_set(err, CONN_INVALID,
                         "begin: the authorization-code flow needs grant_type "
                         "authorization_code (it is \"%s\")", acu_grant_name(s->grant_type));
        goto out;
    }
    st = acu_random_token(32, state, sizeof(state), err);
    if (st == CONN_OK)
        st = acu_random_token(48, verifier, sizeof(verifier), err);
    if (st == CONN_OK)
        st = acu_pkce_challenge(verifier, challenge, err);
    if (st != CONN_OK)
        goto out;
    st = store_pending(inst, state, verifier,
                       acu_now_ms(inst) + (int64_t)PENDING_LIFETIME_S * 1000, err);
    if (st != CONN_OK)
        goto out;
    if (acu_buf_adds(&url, s->api_url) != ACU_BUF_OK ||
        acu_buf_adds(&url, "/identity/connect/authorize") != ACU_BUF_OK ||
        acu_query_add(&url, 1, "response_type", "code") != ACU_BUF_OK ||
        acu_query_add(&url, 0, "client_id", s->client_id) != ACU_BUF_OK ||
        acu_query_add(&url, 0, "redirect_uri", s->redirect_url) != ACU_BUF_OK ||
        acu_query_add(&url, 0, "scope", s->scope) != ACU_BUF_OK ||
        acu_query_add(&url, 0, "state", state) != ACU_BUF_OK ||
        acu_query_add(&url, 0, "code_challenge", challenge) != ACU_BUF_OK ||
        acu_query_add(&url, 0, "code_challenge_method", "S256") != ACU_BUF_OK) {
        st = acu_err_set(err, CONN_NOMEM, "begin: out of memory");
        goto out;
    }
    rc |= acu_jput(ans, "authorization_url", json_object_new_string(url.data));
    rc |= acu_jput(ans, "state_expires_in", json_object_new_int(PENDING_LIFETIME_S));
    rc |= acu_jput(ans, "redirect_url", json_object_new_string(s->redirect_url));
    if (rc != 0)
        st = acu_err_set(err, CONN_NOMEM, "begin: out of memory");
    else
        acu_log(inst, CONN_LOG_INFO, NULL,
                "authorization started; it must be completed within %d minutes",
                PENDING_LIFETIME_S / 60);
out:
    OPENSSL_cleanse(verifier, sizeof(verifier));
    acu_buf_free(&url);
    return st;
}

/* The pending authorization written by begin. */
typedef struct pending {
    char *state, *verifier, *redirect_uri, *client_id;
    int64_t expires_at;
} pending;

static void pending_free(pending *p)
{
    acu_secret_free(p->state);
    acu_secret_free(p->verifier);
    free(p->redirect_uri);
    free(p->client_id);
    memset(p, 0, sizeof(*p));
}

static conn_status load_pending(conn_instance *inst, pending *p, conn_error *err)
{
    char *blob = NULL;
    size_t len = 0;
    json_object *o = NULL, *v;
    conn_status st;
    conn_error ignore;

    memset(p, 0, sizeof(*p));
    st = acu_store_get(inst, ACU_KEY_PENDING, &blob, &len, err);
    if (st == CONN_NOT_FOUND)
        return acu_err_set(err, CONN_INVALID,
                           "complete: no authorization is in progress - start one with the "
                           "step begin (connector-host authorize)");
    if (st != CONN_OK)
        return st;
    acu_err_clear(&ignore);
    st = acu_json_parse(blob, len, "pending authorization", &o, &ignore);
    if (st == CONN_OK && json_object_is_type(o, json_type_object)) {
#define GETS(field)                                                            \
        if (json_object_object_get_ex(o, #field, &v) &&                       \
            json_object_is_type(v, json_type_string))                         \
            p->field = strdup(json_object_get_string(v));
        GETS(state)
        GETS(verifier)
        GETS(redirect_uri)
        GETS(client_id)
#undef GETS
        if (json_object_object_get_ex(o, "expires_at", &v))
            p->expires_at = json_object_get_int64(v);
    }
    json_object_put(o);
    acu_secret_free(blob);
    if (p->state == NULL || p->verifier == NULL || p->redirect_uri == NULL) {
        pending_free(p);
        return acu_err_set(err, CONN_INVALID,
                           "complete: the stored authorization is unreadable - start again "
                           "with the step begin");
    }
    return CONN_OK;
}

static void drop_pending(conn_instance *inst)
{
    conn_error e;

    acu_err_clear(&e);
    (void)acu_store_put_secret(inst, ACU_KEY_PENDING, NULL, 0, &e);
}

/* A string member of the request, or NULL. */
static const char *req_str(json_object *req, const char *key)
{
    json_object *v;

    if (!json_object_object_get_ex(req, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

conn_status acu_auth_step_complete(conn_instance *inst, json_object *req, json_object *ans,
                                   conn_error *err)
{
    const acu_settings *s = &inst->settings;
    acu_auth *a = inst->auth;
    pending p;
    char *code = NULL, *state = NULL, *oerr = NULL, *odesc = NULL;
    const char *redirect = req_str(req, "redirect_url");
    acu_buf form;
    acu_req_spec spec;
    acu_resp *resp = NULL;
    acu_tokens tok;
    char *blob = NULL, *url = NULL;
    size_t blen = 0;
    conn_status st;
    int rc = 0;

    memset(&tok, 0, sizeof(tok));
    memset(&p, 0, sizeof(p));
    acu_buf_init(&form, 64 * 1024);
    if (s->grant_type != ACU_GRANT_AUTHORIZATION_CODE) {
        st = acu_err_set(err, CONN_INVALID,
                         "complete: the authorization-code flow needs grant_type "
                         "authorization_code (it is \"%s\")", acu_grant_name(s->grant_type));
        goto out;
    }
    if (redirect != NULL) {
        if (acu_url_query_get(redirect, "code", &code) != 0 ||
            acu_url_query_get(redirect, "state", &state) != 0 ||
            acu_url_query_get(redirect, "error", &oerr) != 0 ||
            acu_url_query_get(redirect, "error_description", &odesc) != 0) {
            st = acu_err_set(err, CONN_INVALID, "complete: the redirect URL cannot be read");
            goto out;
        }
    } else {
        const char *c = req_str(req, "code"), *t = req_str(req, "state");
        const char *e = req_str(req, "error");

        code = c != NULL ? strdup(c) : NULL;
        state = t != NULL ? strdup(t) : NULL;
        oerr = e != NULL ? strdup(e) : NULL;
        if ((c != NULL && code == NULL) || (t != NULL && state == NULL) ||
            (e != NULL && oerr == NULL)) {
            st = acu_err_set(err, CONN_NOMEM, "complete: out of memory");
            goto out;
        }
    }
    st = load_pending(inst, &p, err);
    if (st != CONN_OK)
        goto out;
    if (p.expires_at <= acu_now_ms(inst)) {
        drop_pending(inst);
        st = acu_err_set(err, CONN_AUTH,
                         "complete: the authorization started with begin has expired (it "
                         "lasts %d minutes) - start again", PENDING_LIFETIME_S / 60);
        goto out;
    }
    /* The state proves the redirect answers our own request (CSRF). */
    if (state == NULL || !acu_ct_equal(state, strlen(state), p.state, strlen(p.state))) {
        st = acu_err_set(err, CONN_AUTH,
                         "complete: the state in the redirect %s the authorization this "
                         "connector started - it may be a stale or forged redirect; nothing "
                         "was stored. Start again with begin if needed.",
                         state == NULL ? "is missing; it must match" : "does not match");
        goto out;
    }
    if (oerr != NULL) {
        drop_pending(inst);
        if (strcmp(oerr, "access_denied") == 0)
            st = acu_err_set(err, CONN_AUTH,
                             "complete: access was denied on Acumatica's consent page - run "
                             "the authorization again and choose to allow access");
        else
            st = acu_err_set(err, CONN_AUTH,
                             "complete: Acumatica refused the authorization (%.64s%s%.200s)",
                             oerr, odesc != NULL ? ": " : "", odesc != NULL ? odesc : "");
        snprintf(err->detail_type, sizeof(err->detail_type), "%.64s", oerr);
        goto out;
    }
    if (code == NULL || code[0] == '\0') {
        st = acu_err_set(err, CONN_INVALID,
                         "complete: the redirect has no authorization code - paste the whole "
                         "URL the browser was sent to");
        goto out;
    }
    if (acu_form_add(&form, "grant_type", "authorization_code") != ACU_BUF_OK ||
        acu_form_add(&form, "client_id", s->client_id) != ACU_BUF_OK ||
        acu_form_add(&form, "client_secret", s->client_secret) != ACU_BUF_OK ||
        acu_form_add(&form, "code", code) != ACU_BUF_OK ||
        acu_form_add(&form, "redirect_uri", p.redirect_uri) != ACU_BUF_OK ||
        acu_form_add(&form, "code_verifier", p.verifier) != ACU_BUF_OK ||
        (url = acu_url_join(s->api_url, "/identity/connect/token")) == NULL) {
        st = acu_err_set(err, CONN_NOMEM, "complete: out of memory");
        goto out;
    }
    memset(&spec, 0, sizeof(spec));
    spec.method = "POST";
    spec.url = url;
    spec.content_type = "application/x-www-form-urlencoded";
    spec.body = form.data;
    spec.body_len = form.len;
    spec.what = "POST token (authorization code)";
    spec.idempotent = 0; /* a code is single-use */
    st = acu_http_request(inst->http, &spec, &resp, err);
    if (st != CONN_OK) {
        if (resp != NULL && resp->http_status != 0) {
            acu_auth_token_error(a, ACU_RENEW_NONE, resp, err);
            if (resp->apierr.type != NULL && strcmp(resp->apierr.type, "invalid_grant") == 0) {
                drop_pending(inst);
                st = acu_err_set(err, CONN_AUTH,
                                 "complete: Acumatica refused the authorization code "
                                 "(invalid_grant%s%.200s) - codes are single-use and expire "
                                 "within minutes; run the authorization again",
                                 resp->apierr.message != NULL ? ": " : "",
                                 resp->apierr.message != NULL ? resp->apierr.message : "");
                snprintf(err->detail_type, sizeof(err->detail_type), "invalid_grant");
            }
            st = err->status;
        }
        goto out;
    }
    st = acu_auth_tokens_from(a, resp, "authorization_code", &tok, &blob, &blen, err);
    if (st != CONN_OK)
        goto out;
    st = acu_store_put_secret(inst, ACU_KEY_TOKENS, blob, blen, err);
    if (st != CONN_OK)
        goto out;
    drop_pending(inst);
    rc |= acu_jput(ans, "ok", json_object_new_boolean(1));
    rc |= acu_jput(ans, "grant", json_object_new_string("authorization_code"));
    rc |= acu_jput(ans, "expires_in", json_object_new_int64(tok.lifetime_s));
    rc |= acu_jput(ans, "refresh_token", json_object_new_boolean(tok.refresh_token != NULL));
    if (tok.scope != NULL)
        rc |= acu_jput(ans, "scope", json_object_new_string(tok.scope));
    acu_log(inst, CONN_LOG_INFO, NULL,
            "authorized: tokens stored (access valid for %lld s%s)", (long long)tok.lifetime_s,
            tok.refresh_token != NULL ? ", refresh token stored" : ", no refresh token");
    acu_auth_adopt(a, blob, blen, &tok);
    blob = NULL;
    if (rc != 0)
        st = acu_err_set(err, CONN_NOMEM, "complete: out of memory");
out:
    acu_resp_free(resp);
    acu_tokens_free(&tok);
    acu_secret_free(blob);
    acu_secret_free(code);
    acu_secret_free(state);
    free(oerr);
    free(odesc);
    free(url);
    pending_free(&p);
    if (form.data != NULL)
        OPENSSL_cleanse(form.data, form.len);
    acu_buf_free(&form);
    return st;
}
