/* acu_auth_claim.c - one spender per refresh token, across processes.
 *
 * A rotating refresh token can be spent once. Processes that share a
 * subscription's host state (the runtime and a manual `connector-host
 * pull`, two commands run by hand) can find the access token running out at
 * the same moment. If both sent the refresh token, one would win and the
 * other's would be refused - and an identity server that treats reuse as
 * theft revokes the whole chain, so the customer would have to authorize
 * the connector again.
 *
 * So a process claims the token in host state before spending it: a small
 * record under ACU_KEY_REFRESH_CLAIM, written with state_cas, naming the
 * claimant, a fingerprint of the token (SHA-256, never the token) and when
 * the claim lapses. A process that finds a live claim on the token it was
 * about to spend does not send it: it waits for the claimant to store the
 * rotated tokens and uses those. A claim lapses after the longest a token
 * request can take, so a claimant that died frees the token for the next. */
#include "acu_auth_int.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acu_crypto.h"
#include "acu_error.h"

#define CLAIM_POLL_MS 100

/* A claim as stored; fields point into the parsed object. */
typedef struct claim {
    json_object *obj;
    const char *by;
    const char *token;
    int64_t until;
} claim;

/* The fingerprint of a refresh token (base64url SHA-256), or "" on
 * failure. */
static void fingerprint(const char *token, char out[ACU_PKCE_CHALLENGE_SIZE])
{
    conn_error e;

    /* The PKCE challenge is exactly base64url(SHA-256(text)). */
    if (token == NULL || acu_pkce_challenge(token, out, &e) != CONN_OK)
        out[0] = '\0';
}

/* Parse a stored claim (NUL-terminated text, or NULL); zeroed (obj NULL)
 * when it is not one. */
static void claim_parse(const char *text, claim *c)
{
    json_object *v;

    memset(c, 0, sizeof(*c));
    if (text == NULL)
        return;
    c->obj = json_tokener_parse(text);
    if (!json_object_is_type(c->obj, json_type_object) ||
        !json_object_object_get_ex(c->obj, "by", &v) || !json_object_is_type(v, json_type_string))
        goto bad;
    c->by = json_object_get_string(v);
    if (!json_object_object_get_ex(c->obj, "token", &v) ||
        !json_object_is_type(v, json_type_string))
        goto bad;
    c->token = json_object_get_string(v);
    if (!json_object_object_get_ex(c->obj, "until", &v) || !json_object_is_type(v, json_type_int))
        goto bad;
    c->until = json_object_get_int64(v);
    return;
bad:
    json_object_put(c->obj);
    memset(c, 0, sizeof(*c));
}

int64_t acu_auth_claim_ttl_ms(const acu_auth *a)
{
    return acu_auth_token_timeout_ms(a) + 5000;
}

/* Make our claim text for the token with fingerprint fp into a->claim. */
static conn_status make_claim(acu_auth *a, const char *fp, conn_error *err)
{
    char text[256];
    int n;

    if (a->claim_id[0] == '\0' &&
        acu_random_token(12, a->claim_id, sizeof(a->claim_id), err) != CONN_OK)
        return err->status;
    n = snprintf(text, sizeof(text), "{\"v\":1,\"by\":\"%s\",\"token\":\"%s\",\"until\":%lld}",
                 a->claim_id, fp, (long long)(acu_now_ms(a->inst) + acu_auth_claim_ttl_ms(a)));
    if (n <= 0 || (size_t)n >= sizeof(text))
        return acu_err_set(err, CONN_INTERNAL, "the refresh claim does not fit");
    free(a->claim);
    a->claim = strdup(text);
    if (a->claim == NULL)
        return acu_err_set(err, CONN_NOMEM, "out of memory");
    a->claim_len = (size_t)n;
    return CONN_OK;
}

/* Re-read the stored tokens: 1 when they no longer hold the token with
 * fingerprint fp (someone rotated it; the new ones are now in use). */
static int rotated_elsewhere(acu_auth *a, const char *fp)
{
    char now_fp[ACU_PKCE_CHALLENGE_SIZE];
    conn_error e;

    acu_err_clear(&e);
    if (acu_auth_load(a, &e) != CONN_OK || !a->have_tokens || a->tok.refresh_token == NULL)
        return 0;
    fingerprint(a->tok.refresh_token, now_fp);
    return now_fp[0] != '\0' && strcmp(now_fp, fp) != 0;
}

acu_claim_result acu_auth_claim_refresh(acu_auth *a, conn_error *err)
{
    char fp[ACU_PKCE_CHALLENGE_SIZE];
    int waited_ms = 0, said = 0;

    fingerprint(a->tok.refresh_token, fp);
    if (fp[0] == '\0') {
        acu_err_set(err, CONN_INTERNAL, "the refresh token cannot be fingerprinted");
        return ACU_CLAIM_FAILED;
    }
    for (;;) {
        char *stored = NULL;
        size_t len = 0;
        claim c;
        int swapped = 0;
        conn_status st = acu_store_get(a->inst, ACU_KEY_REFRESH_CLAIM, &stored, &len, err);

        if (st != CONN_OK && st != CONN_NOT_FOUND)
            return ACU_CLAIM_FAILED;
        claim_parse(stored, &c);
        if (c.obj != NULL && strcmp(c.token, fp) == 0 && strcmp(c.by, a->claim_id) != 0 &&
            c.until > acu_now_ms(a->inst)) {
            /* Another process is spending this very token: wait for it. */
            json_object_put(c.obj);
            free(stored);
            if (!said) {
                acu_log(a->inst, CONN_LOG_INFO, NULL,
                        "another process is renewing the tokens; waiting for its result");
                said = 1;
            }
            if (rotated_elsewhere(a, fp))
                return ACU_CLAIM_ADOPTED;
            if (a->inst->host->should_stop(a->inst->ctx)) {
                acu_err_set(err, CONN_CANCELLED,
                            "stopped while waiting for another process to renew the tokens");
                return ACU_CLAIM_FAILED;
            }
            acu_auth_sleep_ms(CLAIM_POLL_MS);
            waited_ms += CLAIM_POLL_MS;
            continue;
        }
        json_object_put(c.obj);
        /* No live claim on this token (none, a lapsed one, one for an older
         * token): take it, expecting exactly what we read. */
        if (make_claim(a, fp, err) != CONN_OK) {
            free(stored);
            return ACU_CLAIM_FAILED;
        }
        st = acu_store_cas(a->inst, ACU_KEY_REFRESH_CLAIM, stored, stored != NULL ? len : 0,
                           a->claim, a->claim_len, &swapped, err);
        free(stored);
        if (st != CONN_OK) {
            acu_auth_claim_release(a);
            return ACU_CLAIM_FAILED;
        }
        if (!swapped) {
            /* Someone wrote a claim meanwhile: look again. */
            free(a->claim);
            a->claim = NULL;
            continue;
        }
        /* Ours. A claimant that finished just before may have stored the
         * rotated tokens already: then there is nothing to spend. */
        if (rotated_elsewhere(a, fp)) {
            acu_auth_claim_release(a);
            return ACU_CLAIM_ADOPTED;
        }
        if (waited_ms > 0)
            acu_log(a->inst, CONN_LOG_WARN, NULL,
                    "the other process's renewal stored no new tokens (it failed, or its "
                    "claim lapsed after %lld s); renewing here",
                    (long long)(acu_auth_claim_ttl_ms(a) / 1000));
        return ACU_CLAIM_TAKEN;
    }
}

void acu_auth_claim_release(acu_auth *a)
{
    conn_error e;
    int swapped = 0;

    if (a->claim == NULL)
        return;
    acu_err_clear(&e);
    /* Only our own claim: a lapsed one may have been taken over. */
    (void)acu_store_cas(a->inst, ACU_KEY_REFRESH_CLAIM, a->claim, a->claim_len, NULL, 0,
                        &swapped, &e);
    free(a->claim);
    a->claim = NULL;
    a->claim_len = 0;
}
