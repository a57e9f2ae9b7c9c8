/* acu_auth.c - credentials: the transport's authority, renewal, rotation. */
#include "acu_auth_int.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "acu_error.h"
#include "acu_token.h"
#include "acu_url.h"

/* How long a process that lost a refresh race waits for the winner to
 * store the new tokens. */
#define WINNER_WAIT_MS 2000
#define WINNER_POLL_MS 100

int acu_jput(json_object *o, const char *k, json_object *v)
{
    if (v == NULL)
        return -1;
    if (json_object_object_add(o, k, v) != 0) {
        json_object_put(v);
        return -1;
    }
    return 0;
}

int acu_jpush(json_object *a, json_object *v)
{
    if (v == NULL)
        return -1;
    if (json_object_array_add(a, v) != 0) {
        json_object_put(v);
        return -1;
    }
    return 0;
}

int64_t acu_auth_margin_ms(const acu_tokens *t)
{
    int64_t quarter = t->lifetime_s > 0 ? t->lifetime_s * 1000 / 4 : 60000;

    return quarter < 60000 ? quarter : 60000;
}

static int is_oauth(const acu_auth *a)
{
    return a->inst->settings.grant_type != ACU_GRANT_COOKIE;
}

static int str_eq(const char *x, const char *y)
{
    return x != NULL && y != NULL && strcmp(x, y) == 0;
}

/* Tokens stored under other settings (another client, site or grant) are
 * not ours to use. */
static int tokens_match(const acu_auth *a, const acu_tokens *t)
{
    const acu_settings *s = &a->inst->settings;

    return str_eq(t->grant, acu_grant_name(s->grant_type)) && str_eq(t->api_url, s->api_url) &&
           str_eq(t->client_id, s->client_id);
}

void acu_auth_adopt(acu_auth *a, char *blob, size_t blob_len, acu_tokens *tok)
{
    acu_tokens_free(&a->tok);
    acu_secret_free(a->blob);
    a->tok = *tok;
    memset(tok, 0, sizeof(*tok));
    a->blob = blob;
    a->blob_len = blob_len;
    a->have_tokens = 1;
    a->generation++;
}

static void forget_tokens(acu_auth *a)
{
    acu_tokens_free(&a->tok);
    acu_secret_free(a->blob);
    a->blob = NULL;
    a->blob_len = 0;
    a->have_tokens = 0;
}

/* Read the stored tokens into *tok and *blob without using them. */
static conn_status read_stored(acu_auth *a, acu_tokens *tok, char **blob, size_t *len,
                               conn_error *err)
{
    conn_status st = acu_store_get(a->inst, ACU_KEY_TOKENS, blob, len, err);

    memset(tok, 0, sizeof(*tok));
    if (st != CONN_OK)
        return st;
    if (acu_tokens_decode(*blob, *len, tok) != CONN_OK || !tokens_match(a, tok)) {
        acu_tokens_free(tok);
        acu_secret_free(*blob);
        *blob = NULL;
        return CONN_NOT_FOUND;
    }
    return CONN_OK;
}

conn_status acu_auth_load(acu_auth *a, conn_error *err)
{
    acu_tokens tok;
    char *blob = NULL;
    size_t len = 0;
    conn_status st = read_stored(a, &tok, &blob, &len, err);

    if (st != CONN_OK)
        return st;
    if (a->have_tokens && a->blob_len == len && memcmp(a->blob, blob, len) == 0) {
        /* Unchanged: keep the generation. */
        acu_tokens_free(&tok);
        acu_secret_free(blob);
        return CONN_OK;
    }
    acu_auth_adopt(a, blob, len, &tok);
    return CONN_OK;
}

int64_t acu_auth_token_timeout_ms(const acu_auth *a)
{
    int64_t t = (int64_t)a->inst->settings.request_timeout * 1000;

    return t > 0 && t < 60000 ? t : 60000;
}

void acu_auth_settle(acu_auth *a, const conn_error *err)
{
    acu_auth_claim_release(a);
    a->busy = ACU_RENEW_NONE;
    acu_secret_free(a->spent_refresh);
    a->spent_refresh = NULL;
    if (err == NULL) {
        acu_err_clear(&a->last_err);
        a->generation++;
        acu_http_auth_settled(a->inst->http, NULL);
    } else {
        a->last_err = *err;
        acu_http_auth_settled(a->inst->http, err);
    }
}

conn_status acu_auth_token_post(acu_auth *a, const char *what, const char *form,
                                size_t len, acu_http_done_fn done, conn_error *err)
{
    acu_req_spec spec;
    char *url = acu_url_join(a->inst->settings.api_url, "/identity/connect/token");
    conn_status st;

    if (url == NULL)
        return acu_err_set(err, CONN_NOMEM, "%s: out of memory", what);
    memset(&spec, 0, sizeof(spec));
    spec.method = "POST";
    spec.url = url;
    spec.content_type = "application/x-www-form-urlencoded";
    spec.body = form;
    spec.body_len = len;
    spec.what = what;
    /* A token request spends a code or a rotating refresh token: it is
     * never repeated blindly. */
    spec.idempotent = 0;
    spec.timeout_ms = (long)acu_auth_token_timeout_ms(a);
    st = acu_http_submit(a->inst->http, &spec, 1, done, a, err);
    free(url);
    return st;
}

conn_status acu_auth_tokens_from(acu_auth *a, const acu_resp *resp, const char *grant,
                                 acu_tokens *tok, char **blob, size_t *blob_len,
                                 conn_error *err)
{
    acu_token t;
    const acu_settings *s = &a->inst->settings;
    int64_t now = acu_now_ms(a->inst);
    conn_status st;

    memset(tok, 0, sizeof(*tok));
    *blob = NULL;
    st = acu_token_parse(resp->body, resp->body_len, &t, err);
    if (st != CONN_OK)
        return st;
    tok->grant = strdup(grant);
    tok->client_id = s->client_id != NULL ? strdup(s->client_id) : NULL;
    tok->api_url = strdup(s->api_url);
    tok->access_token = t.access_token;
    tok->refresh_token = t.refresh_token;
    tok->scope = t.scope;
    t.access_token = t.refresh_token = t.scope = NULL;
    tok->lifetime_s = t.expires_in;
    tok->expires_at = now + t.expires_in * 1000;
    tok->obtained_at = now;
    acu_token_free(&t);
    if (tok->grant == NULL || tok->api_url == NULL ||
        (s->client_id != NULL && tok->client_id == NULL) ||
        (*blob = acu_tokens_encode(tok, blob_len)) == NULL) {
        acu_tokens_free(tok);
        return acu_err_set(err, CONN_NOMEM, "out of memory storing the tokens");
    }
    return CONN_OK;
}

void acu_auth_token_error(acu_auth *a, acu_renewal kind, const acu_resp *resp,
                          conn_error *err)
{
    const char *code = resp->apierr.type != NULL ? resp->apierr.type : "";
    const acu_settings *s = &a->inst->settings;

    *err = resp->err;
    if (resp->apierr.login_limit || resp->http_status == 0)
        return; /* the transport's or the login-limit sentence says it */
    if (strcmp(code, "invalid_grant") == 0 && kind == ACU_RENEW_REFRESH) {
        acu_err_set(err, CONN_AUTH,
                    "Acumatica refused the stored refresh token (invalid_grant): the "
                    "authorization has ended - its absolute lifetime ran out (by default 30 "
                    "days after it was granted) or access was revoked on the Connected "
                    "Applications form. Authorize the connector again (connector-host "
                    "authorize).");
    } else if (strcmp(code, "invalid_grant") == 0 && kind == ACU_RENEW_PASSWORD) {
        acu_err_set(err, CONN_AUTH,
                    "Acumatica refused the user name or password (invalid_grant) - check "
                    "username (Username) and password (Password)");
    } else if (strcmp(code, "invalid_client") == 0) {
        acu_err_set(err, CONN_AUTH,
                    "Acumatica refused the Client ID or Client Secret (invalid_client) - "
                    "compare client_id and client_secret with the connected application on "
                    "the Connected Applications form (SM303010)");
    } else if (strcmp(code, "unauthorized_client") == 0 ||
               strcmp(code, "unsupported_grant_type") == 0) {
        acu_err_set(err, CONN_INVALID,
                    "the connected application does not allow the %s flow (%s) - choose "
                    "that flow on the Connected Applications form or change grant_type "
                    "(Grant Type)",
                    kind == ACU_RENEW_REFRESH ? "refresh-token" : acu_grant_name(s->grant_type),
                    code);
    } else if (strcmp(code, "invalid_scope") == 0) {
        acu_err_set(err, CONN_INVALID,
                    "Acumatica refused the scope \"%.200s\" (invalid_scope%s%.200s) - check "
                    "scope (Scope)",
                    s->scope, resp->apierr.message != NULL ? ": " : "",
                    resp->apierr.message != NULL ? resp->apierr.message : "");
    }
    err->http_status = (int)resp->http_status;
    if (resp->apierr.type != NULL)
        snprintf(err->detail_type, sizeof(err->detail_type), "%s", resp->apierr.type);
}

/* ------------------------------------------------------------------ */
/* Refresh */

void acu_auth_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

/* After invalid_grant: did another process rotate the token we spent? Wait
 * a little for it to store its tokens. Returns 1 when the winner's tokens
 * are now in use. */
static int adopt_winner(acu_auth *a, const char *spent)
{
    for (int waited = 0; waited <= WINNER_WAIT_MS; waited += WINNER_POLL_MS) {
        acu_tokens tok;
        char *blob = NULL;
        size_t len = 0;
        conn_error e;

        acu_err_clear(&e);
        if (read_stored(a, &tok, &blob, &len, &e) == CONN_OK) {
            if (!str_eq(tok.refresh_token, spent)) {
                acu_auth_adopt(a, blob, len, &tok);
                return 1;
            }
            acu_tokens_free(&tok);
            acu_secret_free(blob);
        }
        if (a->inst->host->should_stop(a->inst->ctx))
            return 0;
        acu_auth_sleep_ms(WINNER_POLL_MS);
    }
    return 0;
}

static conn_status start_password(acu_auth *a, conn_error *err);

static void refresh_done(void *user, acu_resp *resp)
{
    acu_auth *a = user;
    acu_tokens tok;
    char *blob = NULL;
    size_t len = 0;
    int swapped = 0;
    conn_error e;
    conn_status st;

    acu_err_clear(&e);
    if (resp->status != CONN_OK) {
        int invalid_grant = resp->apierr.type != NULL &&
                            strcmp(resp->apierr.type, "invalid_grant") == 0;

        if (invalid_grant && adopt_winner(a, a->spent_refresh)) {
            acu_log(a->inst, CONN_LOG_INFO, NULL,
                    "another process renewed the tokens first; using its tokens");
            acu_auth_settle(a, NULL);
            goto out;
        }
        if (invalid_grant && a->inst->settings.grant_type == ACU_GRANT_PASSWORD) {
            /* The password grant can always start a new chain. */
            acu_log(a->inst, CONN_LOG_INFO, NULL,
                    "the refresh token was refused; signing in with the password again");
            acu_secret_free(a->spent_refresh);
            a->spent_refresh = NULL;
            if (start_password(a, &e) == CONN_OK)
                goto out;
            acu_auth_settle(a, &e);
            goto out;
        }
        acu_auth_token_error(a, ACU_RENEW_REFRESH, resp, &e);
        if (resp->outcome_unknown)
            acu_err_append(&e, "(the refresh may have been spent without an answer; the "
                               "next attempt will tell)");
        acu_auth_settle(a, &e);
        goto out;
    }
    st = acu_auth_tokens_from(a, resp, a->tok.grant != NULL ? a->tok.grant :
                              acu_grant_name(a->inst->settings.grant_type), &tok, &blob, &len, &e);
    if (st != CONN_OK) {
        acu_auth_settle(a, &e);
        goto out;
    }
    if (tok.refresh_token == NULL && a->tok.refresh_token != NULL) {
        /* No rotation: keep using the refresh token we have. */
        tok.refresh_token = strdup(a->tok.refresh_token);
        acu_secret_free(blob);
        blob = tok.refresh_token != NULL ? acu_tokens_encode(&tok, &len) : NULL;
        if (blob == NULL) {
            acu_tokens_free(&tok);
            acu_err_set(&e, CONN_NOMEM, "out of memory storing the tokens");
            acu_auth_settle(a, &e);
            goto out;
        }
    }
    /* Store before use, expecting exactly what held the spent token. */
    st = acu_store_cas_secret(a->inst, ACU_KEY_TOKENS, a->blob, a->blob_len, blob, len,
                              &swapped, &e);
    if (st != CONN_OK) {
        acu_tokens_free(&tok);
        acu_secret_free(blob);
        acu_err_append(&e, "(the renewed tokens could not be stored; they are not used)");
        acu_auth_settle(a, &e);
        goto out;
    }
    if (swapped) {
        acu_log(a->inst, CONN_LOG_INFO, NULL, "renewed the access token (valid for %lld s)%s",
                (long long)tok.lifetime_s,
                tok.refresh_token != NULL ? "; the new refresh token is stored" : "");
        acu_auth_adopt(a, blob, len, &tok);
        acu_auth_settle(a, NULL);
        goto out;
    }
    /* Someone else changed the stored tokens meanwhile: theirs win. */
    acu_tokens_free(&tok);
    acu_secret_free(blob);
    acu_log(a->inst, CONN_LOG_INFO, NULL,
            "the stored tokens changed while renewing; using the stored ones");
    forget_tokens(a);
    st = acu_auth_load(a, &e);
    if (st != CONN_OK) {
        acu_err_set(&e, CONN_AUTH, "the stored tokens changed during a renewal and cannot be "
                                   "read back; authorize the connector again");
        acu_auth_settle(a, &e);
        goto out;
    }
    acu_auth_settle(a, NULL);
out:
    acu_resp_free(resp);
}

static conn_status start_refresh(acu_auth *a, conn_error *err)
{
    const acu_settings *s = &a->inst->settings;
    acu_buf form;
    conn_status st;

    a->spent_refresh = strdup(a->tok.refresh_token);
    if (a->spent_refresh == NULL)
        return acu_err_set(err, CONN_NOMEM, "out of memory");
    acu_buf_init(&form, 64 * 1024);
    if (acu_form_add(&form, "grant_type", "refresh_token") != ACU_BUF_OK ||
        acu_form_add(&form, "client_id", s->client_id) != ACU_BUF_OK ||
        acu_form_add(&form, "client_secret", s->client_secret) != ACU_BUF_OK ||
        acu_form_add(&form, "refresh_token", a->tok.refresh_token) != ACU_BUF_OK) {
        st = acu_err_set(err, CONN_NOMEM, "out of memory");
        goto out;
    }
    a->busy = ACU_RENEW_REFRESH;
    st = acu_auth_token_post(a, "POST token (refresh)", form.data, form.len, refresh_done, err);
    if (st != CONN_OK)
        a->busy = ACU_RENEW_NONE;
out:
    if (form.data != NULL)
        OPENSSL_cleanse(form.data, form.len);
    acu_buf_free(&form);
    if (st != CONN_OK) {
        acu_secret_free(a->spent_refresh);
        a->spent_refresh = NULL;
    }
    return st;
}

/* ------------------------------------------------------------------ */
/* Password grant */

static void password_done(void *user, acu_resp *resp)
{
    acu_auth *a = user;
    acu_tokens tok;
    char *blob = NULL;
    size_t len = 0;
    conn_error e;

    acu_err_clear(&e);
    if (resp->status != CONN_OK) {
        acu_auth_token_error(a, ACU_RENEW_PASSWORD, resp, &e);
        acu_auth_settle(a, &e);
        goto out;
    }
    if (acu_auth_tokens_from(a, resp, "password", &tok, &blob, &len, &e) != CONN_OK) {
        acu_auth_settle(a, &e);
        goto out;
    }
    /* A new chain: it replaces whatever was stored. */
    if (acu_store_put_secret(a->inst, ACU_KEY_TOKENS, blob, len, &e) != CONN_OK) {
        acu_tokens_free(&tok);
        acu_secret_free(blob);
        acu_auth_settle(a, &e);
        goto out;
    }
    acu_log(a->inst, CONN_LOG_INFO, NULL,
            "signed in with the password grant (access valid for %lld s%s)",
            (long long)tok.lifetime_s, tok.refresh_token != NULL ? ", refresh token stored" : "");
    acu_auth_adopt(a, blob, len, &tok);
    acu_auth_settle(a, NULL);
out:
    acu_resp_free(resp);
}

static conn_status start_password(acu_auth *a, conn_error *err)
{
    const acu_settings *s = &a->inst->settings;
    acu_buf form;
    conn_status st = CONN_OK;

    acu_buf_init(&form, 64 * 1024);
    if (acu_form_add(&form, "grant_type", "password") != ACU_BUF_OK ||
        acu_form_add(&form, "client_id", s->client_id) != ACU_BUF_OK ||
        acu_form_add(&form, "client_secret", s->client_secret) != ACU_BUF_OK ||
        acu_form_add(&form, "username", s->username) != ACU_BUF_OK ||
        acu_form_add(&form, "password", s->password) != ACU_BUF_OK ||
        acu_form_add(&form, "scope", s->scope) != ACU_BUF_OK) {
        st = acu_err_set(err, CONN_NOMEM, "out of memory");
        goto out;
    }
    a->busy = ACU_RENEW_PASSWORD;
    st = acu_auth_token_post(a, "POST token (password grant)", form.data, form.len,
                             password_done, err);
    if (st != CONN_OK)
        a->busy = ACU_RENEW_NONE;
out:
    if (form.data != NULL)
        OPENSSL_cleanse(form.data, form.len);
    acu_buf_free(&form);
    return st;
}

/* ------------------------------------------------------------------ */
/* Renewal and the authority */

acu_auth_state acu_auth_renew(acu_auth *a, int force, conn_error *err)
{
    const acu_settings *s = &a->inst->settings;
    int64_t now;
    conn_status st;

    if (a->busy != ACU_RENEW_NONE)
        return ACU_AUTH_BUSY;
    if (!is_oauth(a)) {
        if (acu_auth_cookie_login_start(a, err) != CONN_OK)
            return ACU_AUTH_FAILED;
        return ACU_AUTH_BUSY;
    }
    /* Another process may have renewed already: look before spending. */
    {
        unsigned before = a->generation;
        conn_error e;

        acu_err_clear(&e);
        st = acu_auth_load(a, &e);
        if (st != CONN_OK && st != CONN_NOT_FOUND) {
            *err = e;
            return ACU_AUTH_FAILED;
        }
        now = acu_now_ms(a->inst);
        if (a->have_tokens && (a->generation != before || !force) &&
            a->tok.expires_at - acu_auth_margin_ms(&a->tok) > now)
            return ACU_AUTH_READY;
    }
    if (a->have_tokens && a->tok.refresh_token != NULL) {
        switch (acu_auth_claim_refresh(a, err)) {
        case ACU_CLAIM_ADOPTED:
            acu_log(a->inst, CONN_LOG_INFO, NULL,
                    "another process renewed the tokens first; using its tokens");
            return ACU_AUTH_READY;
        case ACU_CLAIM_FAILED:
            return ACU_AUTH_FAILED;
        case ACU_CLAIM_TAKEN:
            break;
        }
        if (start_refresh(a, err) != CONN_OK) {
            acu_auth_claim_release(a);
            return ACU_AUTH_FAILED;
        }
        return ACU_AUTH_BUSY;
    }
    if (s->grant_type == ACU_GRANT_PASSWORD) {
        if (start_password(a, err) != CONN_OK)
            return ACU_AUTH_FAILED;
        return ACU_AUTH_BUSY;
    }
    if (a->have_tokens)
        acu_err_set(err, CONN_AUTH,
                    "the access token has expired and there is no refresh token (the scope "
                    "did not include offline_access): authorize the connector again "
                    "(connector-host authorize)");
    else
        acu_err_set(err, CONN_AUTH,
                    "the connector is not authorized yet: run connector-host authorize (or "
                    "the authenticate steps begin and complete) to let it in");
    return ACU_AUTH_FAILED;
}

static acu_auth_state authority_prepare(void *self, char **header, unsigned *generation,
                                        conn_error *err)
{
    acu_auth *a = self;
    acu_auth_state as;

    *header = NULL;
    if (a->busy != ACU_RENEW_NONE)
        return ACU_AUTH_BUSY;
    if (!is_oauth(a)) {
        if (!a->cookie_session) {
            as = acu_auth_renew(a, 0, err);
            if (as != ACU_AUTH_READY)
                return as;
        }
        *generation = a->generation;
        return ACU_AUTH_READY;
    }
    if (!a->have_tokens ||
        a->tok.expires_at - acu_auth_margin_ms(&a->tok) <= acu_now_ms(a->inst)) {
        as = acu_auth_renew(a, 0, err);
        if (as != ACU_AUTH_READY)
            return as;
    }
    {
        size_t n = strlen("Authorization: Bearer ") + strlen(a->tok.access_token) + 1;
        char *h = malloc(n);

        if (h == NULL) {
            acu_err_set(err, CONN_NOMEM, "out of memory");
            return ACU_AUTH_FAILED;
        }
        snprintf(h, n, "Authorization: Bearer %s", a->tok.access_token);
        *header = h;
    }
    *generation = a->generation;
    return ACU_AUTH_READY;
}

static acu_auth_state authority_unauthorized(void *self, unsigned generation,
                                             conn_error *err)
{
    acu_auth *a = self;

    if (generation != a->generation)
        return ACU_AUTH_READY; /* renewed since that request left */
    if (a->busy != ACU_RENEW_NONE)
        return ACU_AUTH_BUSY;
    if (!is_oauth(a)) {
        a->cookie_session = 0;
        acu_log(a->inst, CONN_LOG_INFO, NULL, "the cookie session has ended; signing in again");
    }
    return acu_auth_renew(a, 1, err);
}

conn_status acu_auth_new(conn_instance *inst, acu_auth **out, conn_error *err)
{
    acu_auth *a = calloc(1, sizeof(*a));
    acu_http_authority auth;

    *out = NULL;
    if (a == NULL)
        return acu_err_set(err, CONN_NOMEM, "init: out of memory");
    a->inst = inst;
    a->generation = 1;
    acu_err_clear(&a->last_err);
    auth.self = a;
    auth.prepare = authority_prepare;
    auth.unauthorized = authority_unauthorized;
    acu_http_set_authority(inst->http, &auth);
    *out = a;
    return CONN_OK;
}

static int not_busy(void *user)
{
    return ((acu_auth *)user)->busy == ACU_RENEW_NONE;
}

conn_status acu_auth_wait(acu_auth *a, conn_error *err)
{
    conn_status st;

    if (a->busy == ACU_RENEW_NONE)
        return CONN_OK;
    st = acu_http_run(a->inst->http, not_busy, a, err);
    if (st != CONN_OK)
        return st;
    if (a->last_err.status != CONN_OK) {
        *err = a->last_err;
        return a->last_err.status;
    }
    return CONN_OK;
}

conn_status acu_auth_ensure(conn_instance *inst, conn_error *err)
{
    acu_auth *a = inst->auth;
    char *hdr = NULL;
    unsigned gen = 0;
    acu_auth_state as;

    acu_err_clear(&a->last_err);
    as = authority_prepare(a, &hdr, &gen, err);
    acu_secret_free(hdr);
    if (as == ACU_AUTH_FAILED)
        return err->status != CONN_OK ? err->status : CONN_AUTH;
    if (as == ACU_AUTH_BUSY)
        return acu_auth_wait(a, err);
    return CONN_OK;
}

void acu_auth_free(acu_auth *a)
{
    if (a == NULL)
        return;
    if (a->inst->http != NULL) {
        /* Requests still queued end first: their callbacks (a renewal's
         * among them) may use this object. */
        acu_http_cancel(a->inst->http, "cancelled because the instance is ending");
        acu_http_set_authority(a->inst->http, NULL);
        acu_auth_cookie_logout(a);
    }
    forget_tokens(a);
    acu_secret_free(a->spent_refresh);
    acu_auth_claim_release(a);
    free(a);
}

/* ------------------------------------------------------------------ */
/* Step login: sign in now with the password grant or a cookie session. */

conn_status acu_auth_login(conn_instance *inst, json_object *ans, conn_error *err)
{
    acu_auth *a = inst->auth;
    const acu_settings *s = &inst->settings;
    conn_status st;
    int rc = 0;

    if (a->busy != ACU_RENEW_NONE)
        return acu_err_set(err, CONN_INTERNAL, "login: a renewal is already in flight");
    acu_err_clear(&a->last_err);
    if (s->grant_type == ACU_GRANT_AUTHORIZATION_CODE)
        return acu_err_set(err, CONN_INVALID,
                           "login: the step login is for grant_type password or cookie; with "
                           "authorization_code use connector-host authorize (steps begin and "
                           "complete)");
    if (s->grant_type == ACU_GRANT_PASSWORD)
        st = start_password(a, err);
    else
        st = acu_auth_cookie_login_start(a, err);
    if (st == CONN_OK)
        st = acu_auth_wait(a, err);
    if (st != CONN_OK)
        return st;
    rc |= acu_jput(ans, "ok", json_object_new_boolean(1));
    rc |= acu_jput(ans, "grant", json_object_new_string(acu_grant_name(s->grant_type)));
    if (s->grant_type == ACU_GRANT_PASSWORD) {
        rc |= acu_jput(ans, "expires_in", json_object_new_int64(a->tok.lifetime_s));
        rc |= acu_jput(ans, "refresh_token", json_object_new_boolean(a->tok.refresh_token != NULL));
        if (a->tok.scope != NULL)
            rc |= acu_jput(ans, "scope", json_object_new_string(a->tok.scope));
    } else {
        rc |= acu_jput(ans, "session", json_object_new_boolean(a->cookie_session));
    }
    return rc == 0 ? CONN_OK : acu_err_set(err, CONN_NOMEM, "login: out of memory");
}

/* Step status: what is stored, without secrets and without the network. */
conn_status acu_auth_status(conn_instance *inst, json_object *ans, conn_error *err)
{
    acu_auth *a = inst->auth;
    const acu_settings *s = &inst->settings;
    int64_t now = acu_now_ms(inst);
    char *blob = NULL;
    size_t len = 0;
    acu_tokens tok;
    conn_status st;
    int rc = 0, stored = 0, matches = 0;

    memset(&tok, 0, sizeof(tok));
    rc |= acu_jput(ans, "grant_type", json_object_new_string(acu_grant_name(s->grant_type)));
    st = acu_store_get(inst, ACU_KEY_TOKENS, &blob, &len, err);
    if (st != CONN_OK && st != CONN_NOT_FOUND)
        return st;
    if (st == CONN_OK) {
        stored = 1;
        if (acu_tokens_decode(blob, len, &tok) == CONN_OK)
            matches = tokens_match(a, &tok);
    }
    rc |= acu_jput(ans, "tokens_stored", json_object_new_boolean(stored));
    rc |= acu_jput(ans, "tokens_match_settings", json_object_new_boolean(matches));
    if (matches) {
        int64_t left = (tok.expires_at - now) / 1000;

        rc |= acu_jput(ans, "token_grant", json_object_new_string(tok.grant));
        rc |= acu_jput(ans, "access_token_expires_in", json_object_new_int64(left > 0 ? left : 0));
        rc |= acu_jput(ans, "access_token_valid", json_object_new_boolean(left > 0));
        rc |= acu_jput(ans, "refresh_available", json_object_new_boolean(tok.refresh_token != NULL));
        if (tok.scope != NULL)
            rc |= acu_jput(ans, "scope", json_object_new_string(tok.scope));
        rc |= acu_jput(ans, "obtained_at_ms", json_object_new_int64(tok.obtained_at));
    }
    acu_tokens_free(&tok);
    acu_secret_free(blob);
    blob = NULL;
    st = acu_store_get(inst, ACU_KEY_PENDING, &blob, &len, err);
    if (st != CONN_OK && st != CONN_NOT_FOUND)
        return st;
    rc |= acu_jput(ans, "authorization_pending", json_object_new_boolean(st == CONN_OK));
    acu_secret_free(blob);
    rc |= acu_jput(ans, "cookie_session", json_object_new_boolean(a->cookie_session));
    return rc == 0 ? CONN_OK : acu_err_set(err, CONN_NOMEM, "status: out of memory");
}
