/* acu_push_tracking.c - the tracking push pipeline: a tracking number from
 * the host set on the Acumatica shipment of an order.
 *
 *   [shipment] the record names its shipment (ShipmentNbr): read it with
 *              its packages. Otherwise [order].
 *   [order]    read the order (OrderType/OrderNbr, or the host's
 *              transaction number through CustomerOrder) with its
 *              shipments and lines; it has a shipment: [shipment];
 *              none yet: [ship].
 *   [ship]     POST SalesOrder/SalesOrderCreateShipment (202 + Location),
 *              poll the Location until 204, then read the order again.
 *              The action is never blindly repeated: when its outcome is
 *              unknown the order is read again first.
 *   [package]  the tracking number is already on a package: duplicate;
 *              else PUT the shipment with a new package carrying it (never
 *              blindly repeated; outcome unknown: read the shipment again).
 */
#include "acu_push_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acu_error.h"
#include "acu_json.h"

/* Delay between two polls of an action's status (the official client's). */
#define POLL_DELAY_MS 1000
/* Polls before the action is declared stuck (a retry later goes on). */
#define POLL_MAX 600

enum {
    ST_SHIPMENT = 1,
    ST_ORDER = 2,
    ST_SHIP = 3,
    ST_POLL = 4,
    ST_PACKAGE = 5,
    ST_PACKAGE_RECHECK = 6
};

static void read_order(push_rec *r);
static void read_shipment(push_rec *r, const char *nbr);

static const char *tracking_number(push_rec *r)
{
    json_object *pk, *p0;

    if (json_object_object_get_ex(r->payload, "Packages", &pk) &&
        json_object_is_type(pk, json_type_array) &&
        (p0 = json_object_array_get_idx(pk, 0)) != NULL)
        return push_value(p0, "TrackingNbr");
    return NULL;
}

/* ---- the package ------------------------------------------------------------- */

static int has_tracking(json_object *shipment, const char *tn)
{
    json_object *pk;

    if (!json_object_object_get_ex(shipment, "Packages", &pk) ||
        !json_object_is_type(pk, json_type_array))
        return 0;
    for (size_t i = 0; i < json_object_array_length(pk); i++) {
        const char *t = push_value(json_object_array_get_idx(pk, i), "TrackingNbr");
        if (t != NULL && strcmp(t, tn) == 0)
            return 1;
    }
    return 0;
}

static void package_written(push_rec *r, acu_resp *resp)
{
    if (resp->status == CONN_OK) {
        push_marker_clear(r);
        push_finish(r, CONN_OUT_UPDATED, "tracking number %s added to shipment %s",
                    tracking_number(r), r->text);
        return;
    }
    if (resp->outcome_unknown) {
        r->step = ST_PACKAGE_RECHECK;
        read_shipment(r, r->text);
        return;
    }
    if (resp->status != CONN_CANCELLED)
        push_marker_clear(r);
    push_fail(r, resp, "adding the package to the shipment");
}

static void add_package(push_rec *r, json_object *shipment)
{
    json_object *body = json_object_new_object(), *pk, *via;
    char *url;

    r->step = ST_PACKAGE;
    r->attempts++;
    if (body == NULL) {
        push_finish(r, CONN_OUT_FAILED, "out of memory");
        return;
    }
    json_object_object_add(body, "ShipmentNbr", push_wrap_string(r->text));
    if (json_object_object_get_ex(r->payload, "ShipVia", &via) &&
        push_value(shipment, "ShipVia") == NULL)
        json_object_object_add(body, "ShipVia", json_object_get(via));
    if (json_object_object_get_ex(r->payload, "Packages", &pk))
        json_object_object_add(body, "Packages", json_object_get(pk));
    url = push_url(r->call, "Shipment", NULL, "?$expand=Packages&$select=ShipmentNbr");
    push_create(r, "PUT", url, body, NULL, "PUT Shipment (add package)",
                package_written);
    free(url);
    json_object_put(body);
}

static void shipment_read(push_rec *r, acu_resp *resp)
{
    json_object *list, *shipment;
    const char *tn = tracking_number(r);

    if (resp->status != CONN_OK) {
        push_fail(r, resp, "reading the shipment");
        return;
    }
    list = push_parse(r, resp, 1, 0, "reading the shipment");
    if (list == NULL)
        return;
    if (json_object_array_length(list) == 0) {
        json_object_put(list);
        push_finish(r, CONN_OUT_REJECTED, "shipment %s does not exist in Acumatica",
                    r->text);
        return;
    }
    shipment = json_object_array_get_idx(list, 0);
    push_result_str(r, "ShipmentNbr", r->text);
    push_result_str(r, "id", push_value(shipment, "id"));
    if (has_tracking(shipment, tn)) {
        int mine = r->step == ST_PACKAGE_RECHECK || push_marker_present(r);
        push_marker_clear(r);
        json_object_put(list);
        if (mine)
            push_finish(r, CONN_OUT_UPDATED,
                        "tracking number %s was added to shipment %s by an "
                        "earlier attempt whose answer was lost", tn, r->text);
        else
            push_finish(r, CONN_OUT_DUPLICATE,
                        "shipment %s already has tracking number %s", r->text, tn);
        return;
    }
    if (r->step == ST_PACKAGE_RECHECK && r->attempts >= PUSH_CREATE_ATTEMPTS) {
        json_object_put(list);
        push_finish(r, CONN_OUT_FAILED,
                    "the package could not be added after %d attempts whose "
                    "outcome was unknown", r->attempts);
        return;
    }
    add_package(r, shipment);
    json_object_put(list);
}

static void read_shipment(push_rec *r, const char *nbr)
{
    const char *fields[] = {"ShipmentNbr"};
    const char *values[] = {nbr};
    char *filter = push_filter(fields, values, 1);
    char *url = filter != NULL
                    ? push_list_url(r->call, "Shipment", filter,
                                    "$expand=Packages&$select=ShipmentNbr,ShipVia,"
                                    "Status,Packages/TrackingNbr&$top=1")
                    : NULL;

    free(filter);
    if (url == NULL) {
        push_finish(r, CONN_OUT_FAILED, "out of memory");
        return;
    }
    if (r->step != ST_PACKAGE_RECHECK)
        r->step = ST_SHIPMENT;
    push_send(r, "GET", url, NULL, NULL, 1, "GET Shipment", shipment_read);
    free(url);
}

/* ---- the order and its shipment ------------------------------------------------ */

static void use_shipment(push_rec *r, const char *nbr)
{
    free(r->text);
    r->text = strdup(nbr);
    if (r->text == NULL) {
        push_finish(r, CONN_OUT_FAILED, "out of memory");
        return;
    }
    read_shipment(r, r->text);
}

static void polled(push_rec *r, acu_resp *resp);

static void poll(push_rec *r, const char *location)
{
    char url[2048];

    if (strncmp(location, "http://", 7) == 0 || strncmp(location, "https://", 8) == 0)
        snprintf(url, sizeof(url), "%s", location);
    else {
        /* Relative to the site: the endpoint base without its path tail. */
        const char *base = r->call->inst->settings.api_url;
        const char *scheme_end = strstr(base, "://");
        const char *path = scheme_end != NULL ? strchr(scheme_end + 3, '/') : NULL;
        int host_len = path != NULL ? (int)(path - base) : (int)strlen(base);
        snprintf(url, sizeof(url), "%.*s%s", host_len, base, location);
    }
    push_send_later(r, url, POLL_DELAY_MS, "GET action status", polled);
}

static void polled(push_rec *r, acu_resp *resp)
{
    if (resp->status != CONN_OK) {
        push_fail(r, resp, "waiting for the shipment to be created");
        return;
    }
    if (resp->http_status == 202) {
        if (++r->match_i > POLL_MAX) {
            push_finish(r, CONN_OUT_FAILED,
                        "Acumatica was still creating the shipment after %d "
                        "checks; the next push finds it", POLL_MAX);
            return;
        }
        poll(r, resp->location != NULL ? resp->location : r->found ?
             json_object_get_string(r->found) : "");
        return;
    }
    /* 204 (or 200): done. The order now has its shipment. */
    push_marker_clear(r);
    read_order(r);
}

static void shipped(push_rec *r, acu_resp *resp)
{
    if (resp->status == CONN_OK && resp->http_status == 202 &&
        resp->location != NULL) {
        json_object_put(r->found);
        r->found = json_object_new_string(resp->location);
        r->step = ST_POLL;
        r->match_i = 0;
        poll(r, resp->location);
        return;
    }
    if (resp->status == CONN_OK) {
        push_marker_clear(r);
        read_order(r);
        return;
    }
    if (resp->outcome_unknown && r->attempts < PUSH_CREATE_ATTEMPTS) {
        read_order(r); /* did it make the shipment? */
        return;
    }
    if (resp->status != CONN_CANCELLED && !resp->outcome_unknown)
        push_marker_clear(r);
    push_fail(r, resp, "creating the order's shipment");
}

static void create_shipment(push_rec *r, json_object *order)
{
    json_object *body = json_object_new_object(), *entity, *params, *details;
    const char *warehouse = NULL, *date;
    char *url;

    r->step = ST_SHIP;
    r->attempts++;
    if (json_object_object_get_ex(order, "Details", &details) &&
        json_object_is_type(details, json_type_array) &&
        json_object_array_length(details) > 0)
        warehouse = push_value(json_object_array_get_idx(details, 0), "WarehouseID");
    date = push_value(r->host, "ship_date");
    entity = json_object_new_object();
    params = json_object_new_object();
    json_object_object_add(entity, "OrderType",
                           push_wrap_string(push_value(order, "OrderType")));
    json_object_object_add(entity, "OrderNbr",
                           push_wrap_string(push_value(order, "OrderNbr")));
    if (date != NULL)
        json_object_object_add(params, "ShipmentDate", push_wrap_string(date));
    if (warehouse != NULL)
        json_object_object_add(params, "WarehouseID", push_wrap_string(warehouse));
    json_object_object_add(body, "entity", entity);
    json_object_object_add(body, "parameters", params);
    url = push_url(r->call, "SalesOrder", NULL, "/SalesOrderCreateShipment");
    push_create(r, "POST", url, body, NULL, "POST SalesOrderCreateShipment",
                shipped);
    free(url);
    json_object_put(body);
}

static void order_read(push_rec *r, acu_resp *resp)
{
    json_object *doc, *order, *ships;

    if (resp->status == CONN_NOT_FOUND) {
        push_finish(r, CONN_OUT_REJECTED, "the order of tracking number %s does "
                    "not exist in Acumatica", tracking_number(r));
        return;
    }
    if (resp->status != CONN_OK) {
        push_fail(r, resp, "reading the order");
        return;
    }
    doc = push_parse(r, resp, 0, 0, "reading the order");
    if (doc == NULL)
        return;
    order = doc;
    if (json_object_is_type(doc, json_type_array)) {
        if (json_object_array_length(doc) == 0) {
            json_object_put(doc);
            push_finish(r, CONN_OUT_REJECTED,
                        "no Acumatica order has the transaction number '%s'",
                        push_value(r->host, "transaction_number"));
            return;
        }
        order = json_object_array_get_idx(doc, 0);
    }
    push_result_str(r, "OrderType", push_value(order, "OrderType"));
    push_result_str(r, "OrderNbr", push_value(order, "OrderNbr"));
    if (json_object_object_get_ex(order, "Shipments", &ships) &&
        json_object_is_type(ships, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(ships); i++) {
            const char *nbr = push_value(json_object_array_get_idx(ships, i),
                                         "ShipmentNbr");
            if (nbr != NULL) {
                push_marker_clear(r);
                use_shipment(r, nbr);
                json_object_put(doc);
                return;
            }
        }
    }
    if (r->step == ST_SHIP && r->attempts >= PUSH_CREATE_ATTEMPTS) {
        json_object_put(doc);
        push_finish(r, CONN_OUT_FAILED, "the order's shipment could not be "
                    "created after %d attempts", r->attempts);
        return;
    }
    create_shipment(r, order);
    json_object_put(doc);
}

static void read_order(push_rec *r)
{
    const char *type = push_value(r->host, "order_type");
    const char *nbr = push_value(r->host, "order_number");
    const char *tx = push_value(r->host, "transaction_number");
    json_object *orders;
    char *url;
    static const char more[] =
        "$expand=Shipments,Details&$select=OrderType,OrderNbr,Status,"
        "Shipments/ShipmentNbr,Details/WarehouseID";

    if (nbr == NULL && json_object_object_get_ex(r->host, "orders", &orders) &&
        json_object_is_type(orders, json_type_array) &&
        json_object_array_length(orders) > 0) {
        json_object *o = json_object_array_get_idx(orders, 0);
        nbr = push_value(o, "order_number");
        if (type == NULL)
            type = push_value(o, "order_type");
        if (tx == NULL)
            tx = push_value(o, "transaction_number");
    }
    if (r->step != ST_SHIP)
        r->step = ST_ORDER;
    if (nbr != NULL) {
        char q[sizeof(more) + 2];
        const char *keys[] = {type != NULL ? type : "SO", nbr, NULL};
        snprintf(q, sizeof(q), "?%s", more);
        url = push_url(r->call, "SalesOrder", keys, q);
    } else if (tx != NULL) {
        const char *fields[] = {"CustomerOrder"};
        const char *values[] = {tx};
        char *filter = push_filter(fields, values, 1);
        url = filter != NULL ? push_list_url(r->call, "SalesOrder", filter, more)
                             : NULL;
        free(filter);
    } else {
        push_finish(r, CONN_OUT_REJECTED,
                    "tracking number %s names neither a shipment_number nor an "
                    "order (order_number or transaction_number)",
                    tracking_number(r));
        return;
    }
    if (url == NULL) {
        push_finish(r, CONN_OUT_FAILED, "out of memory");
        return;
    }
    push_send(r, "GET", url, NULL, NULL, 1, "GET SalesOrder (shipments)",
              order_read);
    free(url);
}

static void start(push_rec *r)
{
    const char *nbr = push_value(r->payload, "ShipmentNbr");

    if (tracking_number(r) == NULL) {
        push_finish(r, CONN_OUT_REJECTED, "the record has no tracking number");
        return;
    }
    if (nbr != NULL)
        use_shipment(r, nbr);
    else
        read_order(r);
}

/* Records of one shipment or one order run one after the other (the
 * second waits for the first to have made the shipment), so the identity
 * is the shipment, else the order, else the transaction number. */
static const char *identity(push_rec *r, const char **field)
{
    const char *v;
    json_object *orders;

    if ((v = push_value(r->payload, "ShipmentNbr")) != NULL) {
        *field = "ShipmentNbr";
        return v;
    }
    if ((v = push_value(r->host, "order_number")) == NULL &&
        json_object_object_get_ex(r->host, "orders", &orders) &&
        json_object_is_type(orders, json_type_array) &&
        json_object_array_length(orders) > 0)
        v = push_value(json_object_array_get_idx(orders, 0), "order_number");
    if (v != NULL) {
        *field = "OrderNbr";
        return v;
    }
    *field = "CustomerOrder";
    return push_value(r->host, "transaction_number");
}

const push_flow acu_push_tracking = {"tracking", start, identity};
