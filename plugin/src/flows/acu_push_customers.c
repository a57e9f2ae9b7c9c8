/* acu_push_customers.c - the customers push pipeline: an upsert.
 *
 *   [find]    each match field of the mapping that has a value, in order
 *             (by default CustomerID, then MainContact.Email): a key is
 *             read by key, any other field by $filter. The first record
 *             found is the one to update; several with one e-mail is a
 *             rejection (ambiguous).
 *   [update]  PUT with If-Match: * (update only)            -> updated
 *   [create]  PUT with If-None-Match: * (insert only), never blindly
 *             repeated; outcome unknown -> [find] again: found -> created
 *             (recovered), else create again (at most
 *             PUSH_CREATE_ATTEMPTS times).
 */
#include "acu_push_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acu_error.h"
#include "acu_json.h"

enum { ST_FIND = 1, ST_RECHECK = 2, ST_WRITE = 3 };

static void find_next(push_rec *r);
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
        if (!update)
            push_marker_clear(r);
        cust = push_parse(r, resp, 0, 1, "writing the customer");
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
        find_next(r);
        return;
    }
    if (!update && resp->status != CONN_CANCELLED)
        push_marker_clear(r);
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

/* Nothing found by any match field. */
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
        push_marker_clear(r);
        push_result_take(r, "recovered", json_object_new_boolean(1));
        push_finish(r, CONN_OUT_CREATED,
                    "the customer was created by an earlier attempt whose answer "
                    "was lost");
        return;
    }
    update(r);
}

static void by_key(push_rec *r, acu_resp *resp)
{
    json_object *cust;

    if (resp->status == CONN_NOT_FOUND) {
        r->match_i++;
        find_next(r);
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

/* Try the next match field with a value; none left: create. */
static void find_next(push_rec *r)
{
    push_call *c = r->call;
    const char *field = NULL, *value = NULL;
    char *url;

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
    if (is_key(c, field)) {
        const char *keys[] = {value, NULL};
        url = push_url(c, "Customer", keys, "?$select=CustomerID");
        push_send(r, "GET", url, NULL, NULL, 1, "GET Customer (by key)", by_key);
    } else {
        const char *fields[] = {field};
        const char *values[] = {value};
        char *filter = push_filter(fields, values, 1);
        char more[256];
        const char *dot = strchr(field, '.');

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
        push_send(r, "GET", url, NULL, NULL, 1, "GET Customer (by match)",
                  by_filter);
    }
    free(url);
}

static void start(push_rec *r)
{
    r->step = push_marker_present(r) ? ST_RECHECK : ST_FIND;
    r->match_i = 0;
    find_next(r);
}

const push_flow acu_push_customers = {"customers", start, NULL};
