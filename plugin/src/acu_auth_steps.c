/* acu_auth_steps.c - the authenticate entry point: one JSON request, one
 * JSON answer.
 *
 *   {"step":"begin"}     -> {"authorization_url","state_expires_in","redirect_url"}
 *   {"step":"complete","redirect_url":"..."} or
 *   {"step":"complete","code":"...","state":"..."}
 *                        -> {"ok","grant","expires_in","refresh_token","scope"}
 *   {"step":"login"}     -> {"ok","grant",...}   (password and cookie grants)
 *   {"step":"status"}    -> what is stored; no secret, no network
 *   {"step":"check"}     -> {"checks":[{"check","ok","message"}...],"ok"}
 *                           written even when a check fails
 *   {"step":"probe","entity":"Customer","requests":N,"top":1}
 *                        -> {"requests","ok","failed","elapsed_ms","statuses","counters"}
 *
 * No answer ever contains a token, code, verifier or password. */
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "acu_auth_int.h"
#include "acu_error.h"
#include "acu_json.h"

typedef conn_status (*step_fn)(conn_instance *inst, json_object *req, json_object *ans,
                               conn_error *err);

static conn_status step_login(conn_instance *inst, json_object *req, json_object *ans,
                              conn_error *err)
{
    (void)req;
    return acu_auth_login(inst, ans, err);
}

static conn_status step_status(conn_instance *inst, json_object *req, json_object *ans,
                               conn_error *err)
{
    (void)req;
    return acu_auth_status(inst, ans, err);
}

static const struct step {
    const char *name;
    step_fn fn;
    int answer_on_failure; /* write the answer even when the step fails */
    int network;           /* log the transport counters at the end */
} steps[] = {
    {"begin", acu_auth_step_begin, 0, 0},
    {"complete", acu_auth_step_complete, 0, 1},
    {"login", step_login, 0, 1},
    {"status", step_status, 0, 0},
    {"check", acu_auth_step_check, 1, 1},
    {"probe", acu_auth_step_probe, 1, 1},
};

static conn_status write_json(json_object *ans, conn_write_fn out, void *user,
                              conn_error *err)
{
    const char *text = json_object_to_json_string_ext(ans, JSON_C_TO_STRING_PLAIN |
                                                               JSON_C_TO_STRING_NOSLASHESCAPE);

    if (text == NULL)
        return acu_err_set(err, CONN_NOMEM, "authenticate: out of memory");
    if (out(user, text, strlen(text)) != 0)
        return acu_err_set(err, CONN_NOMEM, "authenticate: the host refused the answer");
    return CONN_OK;
}

conn_status acu_auth_step(conn_instance *inst, const char *request, size_t len,
                          conn_write_fn out, void *user, conn_error *err)
{
    json_object *req = NULL, *ans = NULL, *v;
    const struct step *step = NULL;
    const char *name;
    conn_status st;
    char call[64];

    st = acu_json_parse(request, len, "authenticate request", &req, err);
    if (st != CONN_OK)
        return st;
    if (!json_object_is_type(req, json_type_object) ||
        !json_object_object_get_ex(req, "step", &v) || !json_object_is_type(v, json_type_string)) {
        st = acu_err_set(err, CONN_INVALID,
                         "authenticate: expected {\"step\": \"begin\" | \"complete\" | "
                         "\"login\" | \"status\" | \"check\" | \"probe\"}");
        goto out;
    }
    name = json_object_get_string(v);
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
        if (strcmp(steps[i].name, name) == 0)
            step = &steps[i];
    if (step == NULL) {
        st = acu_err_set(err, CONN_INVALID,
                         "authenticate: unknown step \"%.40s\"; the steps are begin, complete, "
                         "login, status, check and probe", name);
        goto out;
    }
    ans = json_object_new_object();
    if (ans == NULL) {
        st = acu_err_set(err, CONN_NOMEM, "authenticate: out of memory");
        goto out;
    }
    snprintf(call, sizeof(call), "authenticate %s", step->name);
    if (step->network)
        acu_call_begin(inst);
    st = step->fn(inst, req, ans, err);
    if (step->network)
        acu_call_end(inst, NULL, call, 0, 0);
    if (st == CONN_OK || step->answer_on_failure) {
        conn_error werr;
        conn_status wst;

        acu_err_clear(&werr);
        wst = write_json(ans, out, user, &werr);
        if (wst != CONN_OK && st == CONN_OK) {
            *err = werr;
            st = wst;
        }
    }
out:
    json_object_put(ans);
    json_object_put(req);
    return st;
}
