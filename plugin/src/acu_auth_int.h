/* acu_auth_int.h - what the acu_auth*.c files share; not for other modules. */
#ifndef ACU_AUTH_INT_H
#define ACU_AUTH_INT_H

#include <json-c/json.h>

#include "acu_auth.h"
#include "acu_auth_store.h"
#include "acu_http.h"

/* What a renewal in flight is doing. */
typedef enum acu_renewal {
    ACU_RENEW_NONE = 0,
    ACU_RENEW_REFRESH,  /* grant_type=refresh_token */
    ACU_RENEW_PASSWORD, /* grant_type=password */
    ACU_RENEW_COOKIE    /* POST /entity/auth/login */
} acu_renewal;

struct acu_auth {
    conn_instance *inst;
    unsigned generation;   /* bumped whenever the credentials change */
    acu_renewal busy;      /* the renewal in flight, or NONE */
    conn_error last_err;   /* how the last renewal ended */
    /* OAuth: the tokens in use and the exact stored bytes they came from
     * (the `expected` of the next state_cas). */
    int have_tokens;
    acu_tokens tok;
    char *blob;
    size_t blob_len;
    char *spent_refresh;   /* the refresh token being spent (secret) */
    /* Our claim on the refresh token being spent (acu_auth_claim.c): the
     * exact stored text, for releasing it with state_cas; NULL when none. */
    char *claim;
    size_t claim_len;
    char claim_id[24];     /* who we are in claims; random, made once */
    /* Cookie sign-in. */
    int cookie_session;
};

/* The margin before expiry at which an access token is renewed: a minute,
 * or a quarter of its lifetime when that is shorter. */
int64_t acu_auth_margin_ms(const acu_tokens *t);

/* Read the stored tokens (when they belong to these settings) and use
 * them. CONN_NOT_FOUND when there are none. */
conn_status acu_auth_load(acu_auth *a, conn_error *err);

/* The longest a token request may take: Request Timeout, at most a
 * minute (the token endpoint does not queue like the API). */
int64_t acu_auth_token_timeout_ms(const acu_auth *a);

/* Block the calling thread for ms milliseconds (waiting on another
 * process; the plugin starts no threads). */
void acu_auth_sleep_ms(int ms);

/* Claiming the refresh token before spending it (acu_auth_claim.c). */
typedef enum acu_claim_result {
    ACU_CLAIM_TAKEN,   /* ours to spend; release it when the renewal ends */
    ACU_CLAIM_ADOPTED, /* another process rotated it; its tokens are in use */
    ACU_CLAIM_FAILED   /* err says why (host state, should_stop) */
} acu_claim_result;

/* Claim a->tok.refresh_token in host state, or wait while another process
 * holds a live claim on it until that process has stored the rotated
 * tokens (ADOPTED) or its claim lapses (then TAKEN). Blocks the call while
 * it waits, polling should_stop. */
acu_claim_result acu_auth_claim_refresh(acu_auth *a, conn_error *err);

/* Remove our claim (only if it is still ours); no-op without one. */
void acu_auth_claim_release(acu_auth *a);

/* How long a claim lives: the token request timeout and 5 s. */
int64_t acu_auth_claim_ttl_ms(const acu_auth *a);

/* Start renewing the credentials. READY when nothing had to be sent (the
 * stored tokens were renewed by another process), BUSY when a request is
 * on its way (acu_http_auth_settled follows), FAILED with err. */
acu_auth_state acu_auth_renew(acu_auth *a, int force, conn_error *err);

/* Drive the transport until the renewal in flight has settled; returns its
 * outcome. */
conn_status acu_auth_wait(acu_auth *a, conn_error *err);

/* Finish a renewal: success (err NULL) bumps the generation; either way
 * parked requests are released or failed. */
void acu_auth_settle(acu_auth *a, const conn_error *err);

/* Use a new tokens value (blob as stored). Takes ownership of blob and
 * *tok. */
void acu_auth_adopt(acu_auth *a, char *blob, size_t blob_len, acu_tokens *tok);

/* POST a form to the token endpoint; done gets the answer. */
conn_status acu_auth_token_post(acu_auth *a, const char *what, const char *form,
                                size_t len, acu_http_done_fn done, conn_error *err);

/* Turn a token-endpoint answer into tokens and their stored form for
 * grant `grant`. */
conn_status acu_auth_tokens_from(acu_auth *a, const acu_resp *resp, const char *grant,
                                 acu_tokens *tok, char **blob, size_t *blob_len,
                                 conn_error *err);

/* The message for a failed token request, by OAuth error code. */
void acu_auth_token_error(acu_auth *a, acu_renewal kind, const acu_resp *resp,
                          conn_error *err);

/* Cookie sign-in (async) and sign-out (synchronous, best effort). */
conn_status acu_auth_cookie_login_start(acu_auth *a, conn_error *err);
void acu_auth_cookie_logout(acu_auth *a);

/* The steps. */
conn_status acu_auth_login(conn_instance *inst, json_object *ans, conn_error *err);
conn_status acu_auth_status(conn_instance *inst, json_object *ans, conn_error *err);
conn_status acu_auth_step_begin(conn_instance *inst, json_object *req, json_object *ans,
                                conn_error *err);
conn_status acu_auth_step_complete(conn_instance *inst, json_object *req, json_object *ans,
                                   conn_error *err);
conn_status acu_auth_step_check(conn_instance *inst, json_object *req, json_object *ans,
                                conn_error *err);
conn_status acu_auth_step_probe(conn_instance *inst, json_object *req, json_object *ans,
                                conn_error *err);

/* json-c helpers that treat a NULL value as out of memory. */
int acu_jput(json_object *o, const char *k, json_object *v);
int acu_jpush(json_object *a, json_object *v);

#endif
