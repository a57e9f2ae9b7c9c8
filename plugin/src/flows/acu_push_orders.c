/* acu_push_orders.c - the sales_orders push pipeline.
 *
 *   [lookup]  when Sales Order Duplicate Checking is on, when an earlier
 *             copy of the order came before it in the batch, or when a
 *             marker says an earlier create's outcome is unknown: find the
 *             order by its match field (CustomerOrder, or ExternalRef by
 *             overlay) and its OrderType. Found: a duplicate (or, after a
 *             marker, the order our earlier attempt made: created).
 *   [customer] resolve the customer: the CustomerID the mapping gives must
 *             exist; without one, the host's customer e-mail finds it.
 *   [create]  PUT the order (never blindly repeated). Outcome unknown:
 *             back to [lookup]; not found: create again, at most
 *             PUSH_CREATE_ATTEMPTS times.
 */
#include "acu_push_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acu_error.h"
#include "acu_json.h"

enum {
    ST_LOOKUP = 1,     /* looking up before the first create */
    ST_RECHECK = 2,    /* looking up after an unknown outcome */
    ST_CUSTOMER = 3,
    ST_CUSTOMER_EMAIL = 4,
    ST_CREATE = 5
};

static void create(push_rec *r);
static void resolve_customer(push_rec *r);

/* The order's identifiers from an Acumatica SalesOrder record. */
static void note_order(push_rec *r, json_object *order)
{
    json_object *details, *lines;

    push_result_str(r, "id", push_value(order, "id"));
    push_result_str(r, "OrderType", push_value(order, "OrderType"));
    push_result_str(r, "OrderNbr", push_value(order, "OrderNbr"));
    push_result_str(r, "CustomerID", push_value(order, "CustomerID"));
    push_result_str(r, "Status", push_value(order, "Status"));
    if (json_object_object_get_ex(order, "Details", &details) &&
        json_object_is_type(details, json_type_array)) {
        lines = json_object_new_array();
        for (size_t i = 0; i < json_object_array_length(details); i++) {
            json_object *d = json_object_array_get_idx(details, i);
            json_object *l = json_object_new_object();
            const char *v;

            if ((v = push_value(d, "id")) != NULL)
                json_object_object_add(l, "id", json_object_new_string(v));
            if ((v = push_value(d, "LineNbr")) != NULL)
                json_object_object_add(l, "LineNbr", json_object_new_string(v));
            if ((v = push_value(d, "InventoryID")) != NULL)
                json_object_object_add(l, "InventoryID", json_object_new_string(v));
            json_object_array_add(lines, l);
        }
        push_result_take(r, "lines", lines);
    }
}

/* ---- lookup --------------------------------------------------------------- */

static void looked_up(push_rec *r, acu_resp *resp)
{
    json_object *list;
    int recheck = r->step == ST_RECHECK;

    if (resp->status != CONN_OK) {
        push_fail(r, resp, recheck ? "looking the order up after an unknown "
                                     "outcome" : "looking the order up");
        return;
    }
    list = push_parse(r, resp, 1, 0, "looking the order up");
    if (list == NULL)
        return;
    if (json_object_array_length(list) > 0) {
        json_object *order = json_object_array_get_idx(list, 0);
        note_order(r, order);
        if (recheck || r->marker_set || push_marker_present(r)) {
            /* Our own earlier attempt made it; its answer was lost. */
            push_marker_clear(r);
            push_result_take(r, "recovered", json_object_new_boolean(1));
            json_object_put(list);
            push_finish(r, CONN_OUT_CREATED,
                        "the order was created by an earlier attempt whose "
                        "answer was lost; found by %s '%s'",
                        r->match_field, r->match_value);
            return;
        }
        json_object_put(list);
        push_finish(r, CONN_OUT_DUPLICATE,
                    "order %s '%s' already exists in Acumatica as %s %s",
                    r->match_field, r->match_value,
                    json_object_get_string(json_object_object_get(r->result, "OrderType")),
                    json_object_get_string(json_object_object_get(r->result, "OrderNbr")));
        return;
    }
    json_object_put(list);
    if (recheck) {
        if (r->attempts >= PUSH_CREATE_ATTEMPTS) {
            push_finish(r, CONN_OUT_FAILED,
                        "the order could not be created after %d attempts whose "
                        "outcome was unknown; it will be looked up first when "
                        "pushed again", r->attempts);
            return;
        }
        create(r);
        return;
    }
    resolve_customer(r);
}

static void lookup(push_rec *r, int step)
{
    const char *fields[2], *values[2];
    size_t n = 0;
    char *filter, *url;
    const char *type = push_value(r->payload, "OrderType");

    r->step = step;
    if (type != NULL) {
        fields[n] = "OrderType";
        values[n++] = type;
    }
    fields[n] = r->match_field;
    values[n++] = r->match_value;
    filter = push_filter(fields, values, n);
    url = filter != NULL
              ? push_list_url(r->call, "SalesOrder", filter,
                              "$select=OrderType,OrderNbr,CustomerID,Status,"
                              "CustomerOrder&$top=1")
              : NULL;
    free(filter);
    if (url == NULL) {
        push_finish(r, CONN_OUT_FAILED, "out of memory");
        return;
    }
    push_send(r, "GET", url, NULL, NULL, 1, "GET SalesOrder (look up)",
              looked_up);
    free(url);
}

/* ---- customer --------------------------------------------------------------- */

static void customer_found(push_rec *r, acu_resp *resp)
{
    const char *id = push_value(r->payload, "CustomerID");

    if (resp->status == CONN_NOT_FOUND) {
        push_finish(r, CONN_OUT_REJECTED,
                    "customer '%s' does not exist in Acumatica; push the "
                    "customer first", id != NULL ? id : "");
        return;
    }
    if (resp->status != CONN_OK) {
        push_fail(r, resp, "checking the order's customer");
        return;
    }
    json_object_object_add(r->call->cache, id, json_object_new_string(id));
    create(r);
}

static void customer_by_email(push_rec *r, acu_resp *resp)
{
    json_object *list;
    const char *email = r->text;
    const char *id;

    if (resp->status != CONN_OK) {
        push_fail(r, resp, "finding the order's customer by e-mail");
        return;
    }
    list = push_parse(r, resp, 1, 0, "finding the customer");
    if (list == NULL)
        return;
    if (json_object_array_length(list) != 1) {
        size_t n = json_object_array_length(list);
        json_object_put(list);
        push_finish(r, CONN_OUT_REJECTED,
                    n == 0 ? "the order names no customer_id and no Acumatica "
                             "customer has the e-mail '%s'; push the customer first"
                           : "the order names no customer_id and several Acumatica "
                             "customers have the e-mail '%s'; give the customer_id",
                    email);
        return;
    }
    id = push_value(json_object_array_get_idx(list, 0), "CustomerID");
    if (id == NULL) {
        json_object_put(list);
        push_finish(r, CONN_OUT_FAILED, "finding the customer: no CustomerID in "
                                        "Acumatica's answer");
        return;
    }
    json_object_object_add(r->call->cache, email, json_object_new_string(id));
    json_object_object_add(r->payload, "CustomerID",
                           push_wrap_string(id));
    json_object_put(list);
    create(r);
}

static void resolve_customer(push_rec *r)
{
    const char *id = push_value(r->payload, "CustomerID");
    json_object *cached;
    const char *email;
    char *url;

    r->step = ST_CUSTOMER;
    if (id != NULL) {
        const char *keys[] = {id, NULL};
        if (json_object_object_get_ex(r->call->cache, id, &cached)) {
            create(r);
            return;
        }
        url = push_url(r->call, "Customer", keys, "?$select=CustomerID");
        push_send(r, "GET", url, NULL, NULL, 1, "GET Customer (the order's)",
                  customer_found);
        free(url);
        return;
    }
    email = push_value(r->host, "customer.email");
    if (email == NULL)
        email = push_value(r->host, "email");
    if (email == NULL) {
        push_finish(r, CONN_OUT_REJECTED,
                    "the order names no customer (customer_id or customer.email)");
        return;
    }
    if (json_object_object_get_ex(r->call->cache, email, &cached)) {
        json_object_object_add(r->payload, "CustomerID",
                               push_wrap_string(json_object_get_string(cached)));
        create(r);
        return;
    }
    r->step = ST_CUSTOMER_EMAIL;
    free(r->text);
    r->text = strdup(email);
    {
        const char *fields[] = {"MainContact.Email"};
        const char *values[] = {email};
        char *filter = push_filter(fields, values, 1);

        url = filter != NULL ? push_list_url(r->call, "Customer", filter,
                                             "$select=CustomerID&$expand=MainContact&$top=2")
                             : NULL;
        free(filter);
    }
    if (url == NULL) {
        push_finish(r, CONN_OUT_FAILED, "out of memory");
        return;
    }
    push_send(r, "GET", url, NULL, NULL, 1, "GET Customer (by e-mail)",
              customer_by_email);
    free(url);
}

/* ---- create ------------------------------------------------------------------- */

static void created(push_rec *r, acu_resp *resp)
{
    json_object *order;

    if (resp->status == CONN_OK) {
        push_marker_clear(r);
        order = push_parse(r, resp, 0, 1, "creating the order");
        if (order != NULL)
            note_order(r, order);
        json_object_put(order);
        push_finish(r, CONN_OUT_CREATED, NULL);
        return;
    }
    if (resp->outcome_unknown) {
        acu_log(r->call->inst, CONN_LOG_WARN, r->call->flow,
                "order %s '%s': the create's outcome is unknown (%s); looking "
                "it up before trying again", r->match_field, r->match_value,
                resp->err.message);
        lookup(r, ST_RECHECK);
        return;
    }
    /* A definite answer: nothing was made. */
    if (resp->status != CONN_CANCELLED)
        push_marker_clear(r);
    push_fail(r, resp, "creating the order");
}

static void create(push_rec *r)
{
    char *url;

    r->step = ST_CREATE;
    r->attempts++;
    url = push_url(r->call, "SalesOrder", NULL, "?$expand=Details");
    push_create(r, "PUT", url, r->payload, NULL, "PUT SalesOrder (create)",
                created);
    free(url);
}

static void start(push_rec *r)
{
    push_call *c = r->call;

    if (r->match_value == NULL) {
        push_finish(r, CONN_OUT_REJECTED,
                    "the order has no value for any match field (%s), so it "
                    "cannot be sent exactly once",
                    acu_map_match_count(c->map) > 0 ? acu_map_match(c->map, 0) : "none");
        return;
    }
    if (c->inst->settings.sales_order_duplicate_checking || r->copy_before ||
        push_marker_present(r)) {
        lookup(r, ST_LOOKUP);
        return;
    }
    resolve_customer(r);
}

const push_flow acu_push_sales_orders = {"sales_orders", start, NULL};
