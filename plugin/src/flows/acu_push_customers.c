/* acu_push_customers.c - the customers push pipeline: an upsert.
 *
 * A record that names its customer (a CustomerID in the payload, the
 * host's customer_id) only ever touches that customer: the one with that
 * CustomerID, or the one this connector created for it when Acumatica
 * numbered it itself (it drops the CustomerID sent; the number it gave is
 * kept in host state, "customers/numbered/<id>"). Not found: it is created
 * with that CustomerID. The other match fields (AccountRef, e-mail) are
 * never used to pick another customer for it.
 *
 *   named      [key]      GET Customer/<id>                    found -> [update]
 *              [numbered] GET Customer/<number kept for id>   found -> [update]
 *              [before]   the customers that already carry the record's
 *                         first other match value (AccountRef), kept in
 *                         host state next to the pending-create marker
 *              [create]
 *   not named  [find]     each match field with a value, in order (by
 *                         default AccountRef, then MainContact.Email), by
 *                         $filter; the first found is the one to update;
 *                         several with one value is a rejection (ambiguous)
 *   [update]   PUT with If-Match: * (update only)                -> updated
 *   [create]   PUT with If-None-Match: * (insert only), never blindly
 *              repeated. Outcome unknown -> [recheck]: named: [key],
 *              [numbered], then a customer with the match value that was
 *              not there [before] (the one the lost create made); not
 *              named: [find]. Found -> created (recovered), else create
 *              again (at most PUSH_CREATE_ATTEMPTS times).
 */
#include "acu_push_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acu_error.h"
#include "acu_json.h"

/* r->step */
enum { ST_FIND = 1, ST_RECHECK = 2, ST_WRITE = 3 };
/* r->match_i of a named record: its place in the named look-ups. */
enum { NAMED_KEY = 0, NAMED_NUMBERED = 1, NAMED_BEFORE = 2, NAMED_DONE = 3 };

/* Customers remembered as there before a create; more: no comparison. */
#define BEFORE_MAX 100

static void find_next(push_rec *r);
static void named_next(push_rec *r);
static void create(push_rec *r);

static const char *const if_match[] = {"If-Match: *", NULL};
static const char *const if_none_match[] = {"If-None-Match: *", NULL};

static int is_key(push_call *c, const char *field)
{
    for (size_t i = 0; i < acu_map_key_count(c->map); i++)
        if (strcmp(acu_map_key(c->map, i), field) == 0)
            return 1;
    return 0;
}

/* The CustomerID the record names (the entity's single key, in the
 * payload), or NULL when it names none. */
static const char *named_id(push_rec *r)
{
    const acu_map *m = r->call->map;

    if (acu_map_key_count(m) != 1)
        return NULL;
    return push_value(r->payload, acu_map_key(m, 0));
}

/* The first match field that is not a key and has a value in the payload
 * (the value in *value), or NULL: what tells a named customer that a lost
 * create made from the ones there before. */
static const char *other_match(push_rec *r, const char **value)
{
    push_call *c = r->call;

    for (size_t i = 0; i < acu_map_match_count(c->map); i++) {
        const char *f = acu_map_match(c->map, i);
        if (is_key(c, f))
            continue;
        *value = push_value(r->payload, f);
        if (*value != NULL)
            return f;
    }
    *value = NULL;
    return NULL;
}

/* ---- host state ------------------------------------------------------------ */

/* The host-state key "customers/numbered/<id>" (kind 'n') or
 * "<marker>#before" (kind 'b') in buf; 0 when there is none. */
static int state_key(push_rec *r, char kind, char *buf, size_t cap)
{
    const char *id = named_id(r);
    int n;

    if (kind == 'n')
        n = id != NULL ? snprintf(buf, cap, "customers/numbered/%s", id) : -1;
    else
        n = r->marker != NULL ? snprintf(buf, cap, "%s#before", r->marker) : -1;
    return n > 0 && (size_t)n < cap;
}

/* The value of host-state key `kind` (state_key) as a malloc'd string, or
 * NULL when absent or unreadable. */
static char *state_read(push_rec *r, char kind)
{
    const conn_host_api *h = r->call->inst->host;
    char key[1024], *buf = NULL;
    size_t cap = 256, len = 0;
    conn_error err;

    if (!state_key(r, kind, key, sizeof(key)))
        return NULL;
    for (int tries = 0; tries < 2; tries++) {
        char *grown = realloc(buf, cap + 1);
        if (grown == NULL)
            break;
        buf = grown;
        acu_err_clear(&err);
        if (h->state_get(r->call->inst->ctx, key, buf, cap, &len, &err) != CONN_OK)
            break;
        if (len <= cap) {
            buf[len] = '\0';
            return buf;
        }
        cap = len;
    }
    free(buf);
    return NULL;
}

/* Store (value != NULL) or delete host-state key `kind`; 0 on success. */
static int state_write(push_rec *r, char kind, const char *value)
{
    const conn_host_api *h = r->call->inst->host;
    char key[1024];
    conn_error err;

    if (!state_key(r, kind, key, sizeof(key)))
        return -1;
    acu_err_clear(&err);
    return h->state_put(r->call->inst->ctx, key, value,
                        value != NULL ? strlen(value) : 0, 0, &err) == CONN_OK
               ? 0 : -1;
}

/* The create's outcome is known: the marker and what it keeps go. */
static void pending_clear(push_rec *r)
{
    push_marker_clear(r);
    state_write(r, 'b', NULL);
}

/* Remember that Acumatica numbered the customer created for the record's
 * CustomerID `number` (nothing to remember when it kept the id). */
static void remember_number(push_rec *r, const char *number)
{
    const char *id = named_id(r);

    if (id == NULL || number == NULL || strcmp(id, number) == 0)
        return;
    if (state_write(r, 'n', number) != 0)
        acu_log(r->call->inst, CONN_LOG_WARN, r->call->flow,
                "customer %s: Acumatica numbered it %s, but the host could not "
                "record that; pushed again it would not be found", id, number);
}

/* ---- results ---------------------------------------------------------------- */

static void note_customer(push_rec *r, json_object *cust)
{
    push_result_str(r, "id", push_value(cust, "id"));
    push_result_str(r, "CustomerID", push_value(cust, "CustomerID"));
}

static void written(push_rec *r, acu_resp *resp)
{
    json_object *cust;
    int update = r->found != NULL;

    if (resp->status == CONN_OK) {
        cust = push_parse(r, resp, 0, 1, "writing the customer");
        if (!update) {
            if (cust != NULL)
                remember_number(r, push_value(cust, "CustomerID"));
            pending_clear(r);
        }
        if (cust != NULL)
            note_customer(r, cust);
        json_object_put(cust);
        push_finish(r, update ? CONN_OUT_UPDATED : CONN_OUT_CREATED, NULL);
        return;
    }
    if (!update && resp->outcome_unknown) {
        acu_log(r->call->inst, CONN_LOG_WARN, r->call->flow,
                "customer %s: the create's outcome is unknown (%s); looking it "
                "up before trying again", r->host_id ? r->host_id : "",
                resp->err.message);
        r->step = ST_RECHECK;
        r->match_i = 0;
        if (named_id(r) != NULL)
            named_next(r);
        else
            find_next(r);
        return;
    }
    if (!update && resp->status != CONN_CANCELLED)
        pending_clear(r);
    push_fail(r, resp, update ? "updating the customer" : "creating the customer");
}

static void update(push_rec *r)
{
    const char *id = push_value(r->found, "CustomerID");
    char *url;

    r->step = ST_WRITE;
    if (id != NULL)
        json_object_object_add(r->payload, "CustomerID", push_wrap_string(id));
    url = push_url(r->call, "Customer", NULL, "?$select=CustomerID");
    push_send(r, "PUT", url, r->payload, if_match, 1, "PUT Customer (update)",
              written);
    free(url);
}

static void create(push_rec *r)
{
    char *url;

    r->step = ST_WRITE;
    r->attempts++;
    url = push_url(r->call, "Customer", NULL, "?$select=CustomerID");
    push_create(r, "PUT", url, r->payload, if_none_match,
                "PUT Customer (create)", written);
    free(url);
}

/* Nothing found by any look-up. */
static void none_found(push_rec *r)
{
    if (r->step == ST_RECHECK && r->attempts >= PUSH_CREATE_ATTEMPTS) {
        push_finish(r, CONN_OUT_FAILED,
                    "the customer could not be created after %d attempts whose "
                    "outcome was unknown; it will be looked up first when pushed "
                    "again", r->attempts);
        return;
    }
    create(r);
}

static void found_one(push_rec *r, json_object *cust)
{
    json_object_put(r->found);
    r->found = json_object_get(cust);
    if (r->step == ST_RECHECK) {
        note_customer(r, cust);
        remember_number(r, push_value(cust, "CustomerID"));
        pending_clear(r);
        push_result_take(r, "recovered", json_object_new_boolean(1));
        push_finish(r, CONN_OUT_CREATED,
                    "the customer was created by an earlier attempt whose answer "
                    "was lost");
        return;
    }
    update(r);
}

/* ---- a record that names its customer --------------------------------------- */

/* GET Customer/<id> for a named look-up. */
static void get_by_key(push_rec *r, const char *id, const char *what,
                       void (*on_done)(push_rec *, acu_resp *))
{
    const char *keys[] = {id, NULL};
    char *url = push_url(r->call, "Customer", keys, "?$select=CustomerID");

    if (url == NULL) {
        push_finish(r, CONN_OUT_FAILED, "out of memory");
        return;
    }
    push_send(r, "GET", url, NULL, NULL, 1, what, on_done);
    free(url);
}

/* GET Customer?$filter=<field> eq '<value>' for a named look-up. */
static void get_by_field(push_rec *r, const char *field, const char *value,
                         const char *what, void (*on_done)(push_rec *, acu_resp *))
{
    const char *fields[] = {field};
    const char *values[] = {value};
    char *filter = push_filter(fields, values, 1);
    const char *dot = strchr(field, '.');
    char more[256];
    char *url;

    if (dot != NULL)
        snprintf(more, sizeof(more), "$select=CustomerID&$expand=%.*s&$top=%d",
                 (int)(dot - field), field, BEFORE_MAX);
    else
        snprintf(more, sizeof(more), "$select=CustomerID&$top=%d", BEFORE_MAX);
    url = filter != NULL ? push_list_url(r->call, "Customer", filter, more) : NULL;
    free(filter);
    if (url == NULL) {
        push_finish(r, CONN_OUT_FAILED, "out of memory");
        return;
    }
    push_send(r, "GET", url, NULL, NULL, 1, what, on_done);
    free(url);
}

/* The answer of a named GET by key: found -> found_one, 404 -> next. */
static void named_by_key(push_rec *r, acu_resp *resp)
{
    json_object *cust;

    if (resp->status == CONN_NOT_FOUND) {
        r->match_i++;
        named_next(r);
        return;
    }
    if (resp->status != CONN_OK) {
        push_fail(r, resp, "looking the customer up");
        return;
    }
    cust = push_parse(r, resp, 0, 0, "looking the customer up");
    if (cust == NULL)
        return;
    found_one(r, cust);
    json_object_put(cust);
}

/* The customers of a list answer (caller puts it), or NULL when r ended
 * (failed or bad answer). */
static json_object *list_answer(push_rec *r, acu_resp *resp)
{
    if (resp->status != CONN_OK) {
        push_fail(r, resp, "looking the customer up");
        return NULL;
    }
    return push_parse(r, resp, 1, 0, "looking the customer up");
}

/* Is `id` one of the strings of the array `ids`? */
static int has_id(json_object *ids, const char *id)
{
    for (size_t i = 0; i < json_object_array_length(ids); i++) {
        const char *s = json_object_get_string(json_object_array_get_idx(ids, i));
        if (s != NULL && strcmp(s, id) == 0)
            return 1;
    }
    return 0;
}

/* [before]: keep the CustomerIDs of the customers that carry the match
 * value now (host state, next to the marker), then create. */
static void named_before(push_rec *r, acu_resp *resp)
{
    json_object *list = list_answer(r, resp);
    json_object *ids;
    size_t n;
    int kept = 0;

    if (list == NULL)
        return;
    n = json_object_array_length(list);
    ids = json_object_new_array();
    for (size_t i = 0; ids != NULL && i < n; i++) {
        const char *id = push_value(json_object_array_get_idx(list, i), "CustomerID");
        if (id != NULL)
            json_object_array_add(ids, json_object_new_string(id));
    }
    if (ids != NULL && n < BEFORE_MAX)
        kept = state_write(r, 'b', json_object_to_json_string_ext(
                                       ids, JSON_C_TO_STRING_PLAIN)) == 0;
    if (!kept) {
        state_write(r, 'b', NULL);
        acu_log(r->call->inst, CONN_LOG_WARN, r->call->flow,
                "customer %s: the customers that already carry its match value "
                "could not be recorded; should Acumatica number it and its "
                "answer be lost, the customer made is not recognised",
                r->host_id ? r->host_id : "");
    }
    json_object_put(ids);
    json_object_put(list);
    r->match_i = NAMED_DONE;
    named_next(r);
}

/* [recheck]: a customer with the match value that was not there before the
 * create is the one the create made; without a record of what was there,
 * none is taken. */
static void named_made(push_rec *r, acu_resp *resp)
{
    json_object *list = list_answer(r, resp);
    json_object *before = NULL, *made = NULL;
    char *text;

    if (list == NULL)
        return;
    text = state_read(r, 'b');
    if (text != NULL)
        before = json_tokener_parse(text);
    free(text);
    if (json_object_is_type(before, json_type_array)) {
        for (size_t i = 0; made == NULL && i < json_object_array_length(list); i++) {
            json_object *cust = json_object_array_get_idx(list, i);
            const char *id = push_value(cust, "CustomerID");
            if (id != NULL && !has_id(before, id))
                made = cust;
        }
    }
    json_object_put(before);
    if (made != NULL)
        found_one(r, made);
    else {
        r->match_i = NAMED_DONE;
        named_next(r);
    }
    json_object_put(list);
}

/* The next look-up of a named record (r->match_i); none left: create. */
static void named_next(push_rec *r)
{
    const char *field, *value;
    char *number;

    /* The steps in order; a step with nothing to ask passes to the next. */
    if (r->match_i == NAMED_KEY) {
        get_by_key(r, named_id(r), "GET Customer (by key)", named_by_key);
        return;
    }
    if (r->match_i == NAMED_NUMBERED) {
        number = state_read(r, 'n');
        if (number != NULL) {
            get_by_key(r, number, "GET Customer (numbered by Acumatica)",
                       named_by_key);
            free(number);
            return;
        }
        r->match_i++;
    }
    if (r->match_i == NAMED_BEFORE) {
        field = other_match(r, &value);
        if (field != NULL && r->marker != NULL) {
            if (r->step == ST_RECHECK)
                get_by_field(r, field, value, "GET Customer (made by the lost create)",
                             named_made);
            else
                get_by_field(r, field, value, "GET Customer (there before)",
                             named_before);
            return;
        }
    }
    none_found(r);
}

/* ---- a record that does not name its customer ------------------------------- */

static void by_filter(push_rec *r, acu_resp *resp)
{
    json_object *list;
    size_t n;

    if (resp->status != CONN_OK) {
        push_fail(r, resp, "looking the customer up");
        return;
    }
    list = push_parse(r, resp, 1, 0, "looking the customer up");
    if (list == NULL)
        return;
    n = json_object_array_length(list);
    if (n > 1 && r->step != ST_RECHECK) {
        const char *f = acu_map_match(r->call->map, (size_t)r->match_i);
        json_object_put(list);
        push_finish(r, CONN_OUT_REJECTED,
                    "%zu Acumatica customers have %s '%s'; give the customer_id "
                    "to say which one", n, f, push_value(r->payload, f));
        return;
    }
    if (n >= 1)
        found_one(r, json_object_array_get_idx(list, 0));
    else {
        r->match_i++;
        find_next(r);
    }
    json_object_put(list);
}

/* Try the next match field with a value (a record without a CustomerID:
 * keys have none); none left: create. */
static void find_next(push_rec *r)
{
    push_call *c = r->call;
    const char *field = NULL, *value = NULL;
    const char *fields[1], *values[1];
    char more[256], *filter, *url;
    const char *dot;

    for (; (size_t)r->match_i < acu_map_match_count(c->map); r->match_i++) {
        field = acu_map_match(c->map, (size_t)r->match_i);
        value = push_value(r->payload, field);
        if (value != NULL)
            break;
    }
    if ((size_t)r->match_i >= acu_map_match_count(c->map)) {
        none_found(r);
        return;
    }
    fields[0] = field;
    values[0] = value;
    filter = push_filter(fields, values, 1);
    dot = strchr(field, '.');
    if (dot != NULL)
        snprintf(more, sizeof(more), "$select=CustomerID&$expand=%.*s&$top=2",
                 (int)(dot - field), field);
    else
        snprintf(more, sizeof(more), "$select=CustomerID&$top=2");
    url = filter != NULL ? push_list_url(c, "Customer", filter, more) : NULL;
    free(filter);
    if (url == NULL) {
        push_finish(r, CONN_OUT_FAILED, "out of memory");
        return;
    }
    push_send(r, "GET", url, NULL, NULL, 1, "GET Customer (by match)", by_filter);
    free(url);
}

static void start(push_rec *r)
{
    r->step = push_marker_present(r) ? ST_RECHECK : ST_FIND;
    r->match_i = 0;
    if (named_id(r) != NULL)
        named_next(r);
    else
        find_next(r);
}

const push_flow acu_push_customers = {"customers", start, NULL};
