/* acu_auth_check.c - steps check (diagnostics for connector-host check) and
 * probe (a measured burst of cheap reads through the throttle).
 *
 * check makes the cheapest real calls, in order, and reports each as
 * {"check","ok","message"}:
 *   url_reachable     GET <api_url>/entity answers at all
 *   tls_valid         the certificate verified (or plain http to loopback)
 *   endpoint_version  the list of endpoints has Default/<endpoint_version>
 *   credentials       the stored/obtained credentials are accepted
 *   read_<Entity>     GET <endpoint>/<Entity>?$top=1 for the main entities
 * A failed step stops the steps that depend on it. */
#include <ctype.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acu_auth_int.h"
#include "acu_error.h"
#include "acu_json.h"
#include "acu_url.h"

static const char *const main_entities[] = {"Customer", "StockItem", "SalesOrder", "Shipment",
                                            "Warehouse"};
#define NMAIN (sizeof(main_entities) / sizeof(main_entities[0]))

typedef struct checks {
    json_object *list;
    conn_status first;   /* status of the first failed check */
    conn_error first_err;
    int nomem;
} checks;

static void add_check(checks *c, const char *name, int ok, conn_status fail_status,
                      const char *fmt, ...) ACU_PRINTF(5, 6);

static void add_check(checks *c, const char *name, int ok, conn_status fail_status,
                      const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    json_object *o = json_object_new_object();

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (o == NULL || acu_jput(o, "check", json_object_new_string(name)) != 0 ||
        acu_jput(o, "ok", json_object_new_boolean(ok)) != 0 ||
        acu_jput(o, "message", json_object_new_string(msg)) != 0 || acu_jpush(c->list, o) != 0) {
        c->nomem = 1;
        return;
    }
    if (!ok && c->first == CONN_OK) {
        c->first = fail_status != CONN_OK ? fail_status : CONN_INTERNAL;
        acu_err_clear(&c->first_err);
        acu_err_set(&c->first_err, c->first, "check %s failed: %s", name, msg);
    }
}

static conn_status get(conn_instance *inst, const char *url, const char *what, int authorized,
                       acu_resp **resp, conn_error *err)
{
    acu_req_spec spec;

    memset(&spec, 0, sizeof(spec));
    spec.method = "GET";
    spec.url = url;
    spec.what = what;
    spec.idempotent = 1;
    spec.authorized = authorized;
    spec.max_attempts = 2; /* a diagnosis should answer quickly */
    spec.timeout_ms = 60000;
    return acu_http_request(inst->http, &spec, resp, err);
}

/* Is Default/<version> in GET /entity's answer? Fills `served` with the
 * Default versions listed. -1 when the answer cannot be read. */
static int endpoint_served(const acu_resp *resp, const char *version, char *served,
                           size_t cap, char *build, size_t bcap)
{
    json_object *doc = NULL, *list = NULL, *v;
    conn_error ignore;
    int found = 0;
    size_t n;

    served[0] = build[0] = '\0';
    acu_err_clear(&ignore);
    if (acu_json_parse(resp->body, resp->body_len, "endpoints", &doc, &ignore) != CONN_OK)
        return -1;
    if (json_object_is_type(doc, json_type_array)) {
        list = doc; /* older builds answer a bare array */
    } else if (json_object_is_type(doc, json_type_object)) {
        json_object *ver;

        json_object_object_get_ex(doc, "endpoints", &list);
        if (json_object_object_get_ex(doc, "version", &ver) &&
            json_object_object_get_ex(ver, "acumaticaBuildVersion", &v) &&
            json_object_is_type(v, json_type_string))
            snprintf(build, bcap, "%.40s", json_object_get_string(v));
    }
    if (!json_object_is_type(list, json_type_array)) {
        json_object_put(doc);
        return -1;
    }
    n = json_object_array_length(list);
    for (size_t i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(list, i), *name, *ver;

        if (!json_object_object_get_ex(e, "name", &name) ||
            !json_object_object_get_ex(e, "version", &ver) ||
            strcmp(json_object_get_string(name), "Default") != 0)
            continue;
        if (strcmp(json_object_get_string(ver), version) == 0)
            found = 1;
        if (strlen(served) + 16 < cap) {
            if (served[0] != '\0')
                strcat(served, ", ");
            strncat(served, json_object_get_string(ver), 12);
        }
    }
    json_object_put(doc);
    return found;
}

static void check_endpoints(conn_instance *inst, checks *c, const acu_resp *resp)
{
    const char *v = inst->settings.endpoint_version;
    char served[256], build[64];
    int found = endpoint_served(resp, v, served, sizeof(served), build, sizeof(build));

    if (found < 0)
        add_check(c, "endpoint_version", 0, CONN_INVALID,
                  "the list of endpoints (GET /entity) could not be read - is the API URL the "
                  "address of an Acumatica site, with its site path?");
    else if (found)
        add_check(c, "endpoint_version", 1, CONN_OK, "the site serves Default/%s%s%s%s", v,
                  build[0] ? " (Acumatica build " : "", build[0] ? build : "",
                  build[0] ? ")" : "");
    else
        add_check(c, "endpoint_version", 0, CONN_INVALID,
                  "the site does not serve the endpoint Default/%s - it serves Default %s; "
                  "choose one of them as Acumatica Version (endpoint_version)",
                  v, served[0] ? served : "(none)");
}

typedef struct entity_read {
    checks *c;
    const char *entity;
    int done;
    acu_resp *resp;
} entity_read;

static void entity_done(void *user, acu_resp *resp)
{
    entity_read *r = user;

    r->resp = resp;
    r->done = 1;
}

static int all_read(void *user)
{
    entity_read *r = user;

    for (size_t i = 0; i < NMAIN; i++)
        if (!r[i].done)
            return 0;
    return 1;
}

static void check_reads(conn_instance *inst, checks *c)
{
    entity_read reads[NMAIN];
    conn_error e;
    char url[2048];

    memset(reads, 0, sizeof(reads));
    for (size_t i = 0; i < NMAIN; i++) {
        acu_req_spec spec;
        char what[64];

        reads[i].c = c;
        reads[i].entity = main_entities[i];
        snprintf(url, sizeof(url), "%s/%s?$top=1", inst->endpoint_base, main_entities[i]);
        snprintf(what, sizeof(what), "GET %s", main_entities[i]);
        acu_req_get(&spec, url, what);
        spec.max_attempts = 2;
        spec.timeout_ms = 120000;
        acu_err_clear(&e);
        if (acu_http_submit(inst->http, &spec, 0, entity_done, &reads[i], &e) != CONN_OK) {
            reads[i].done = 1;
            snprintf(what, sizeof(what), "read_%s", main_entities[i]);
            add_check(c, what, 0, e.status, "%s", e.message);
        }
    }
    acu_err_clear(&e);
    (void)acu_http_run(inst->http, all_read, reads, &e);
    for (size_t i = 0; i < NMAIN; i++) {
        char name[64];
        acu_resp *r = reads[i].resp;

        if (r == NULL)
            continue;
        snprintf(name, sizeof(name), "read_%s", main_entities[i]);
        if (r->status == CONN_OK)
            add_check(c, name, 1, CONN_OK, "can read %s", main_entities[i]);
        else
            add_check(c, name, 0, r->status, "%s", r->err.message);
        acu_resp_free(r);
    }
}

conn_status acu_auth_step_check(conn_instance *inst, json_object *req, json_object *ans,
                                conn_error *err)
{
    const acu_settings *s = &inst->settings;
    checks c;
    acu_resp *resp = NULL;
    conn_error e;
    char *url = acu_url_join(s->api_url, "/entity");
    int endpoints_deferred = 0, https = strncmp(s->api_url, "https:", 6) == 0;
    conn_status st;

    (void)req;
    memset(&c, 0, sizeof(c));
    c.list = json_object_new_array();
    if (url == NULL || c.list == NULL || acu_jput(ans, "checks", c.list) != 0) {
        free(url);
        return acu_err_set(err, CONN_NOMEM, "check: out of memory");
    }
    /* 1, 2, 3: the site, its certificate, its endpoints. */
    acu_err_clear(&e);
    st = get(inst, url, "GET /entity", 0, &resp, &e);
    if (resp == NULL || resp->http_status == 0) {
        int tls = strcmp(e.detail_type, ACU_DETAIL_TLS) == 0;

        if (tls) {
            add_check(&c, "url_reachable", 1, CONN_OK, "the site at %s answered", s->api_url);
            add_check(&c, "tls_valid", 0, CONN_INVALID, "%s", e.message);
        } else {
            add_check(&c, "url_reachable", 0, st, "%s", e.message);
        }
        goto done;
    }
    add_check(&c, "url_reachable", 1, CONN_OK, "the site at %s answered (HTTP %ld)", s->api_url,
              resp->http_status);
    if (https)
        add_check(&c, "tls_valid", 1, CONN_OK, "the site's TLS certificate is valid%s",
                  s->ca_file != NULL ? " (checked against ca_file)" : "");
    else
        add_check(&c, "tls_valid", 1, CONN_OK,
                  "plain http to a loopback address, allowed by allow_http_loopback; no TLS");
    if (resp->http_status == 401 || resp->http_status == 403)
        endpoints_deferred = 1; /* this site lists endpoints only after sign-in */
    else if (resp->status == CONN_OK)
        check_endpoints(inst, &c, resp);
    else
        add_check(&c, "endpoint_version", 0, resp->status == CONN_NOT_FOUND ? CONN_INVALID :
                  resp->status, "%s - is the API URL the address of an Acumatica site, with "
                  "its site path?", resp->err.message);
    acu_resp_free(resp);
    resp = NULL;
    if (c.first != CONN_OK)
        goto done;
    /* 4: credentials. */
    acu_err_clear(&e);
    st = acu_auth_ensure(inst, &e);
    if (st == CONN_OK)
        st = get(inst, url, "GET /entity (signed in)", 1, &resp, &e);
    if (st != CONN_OK) {
        add_check(&c, "credentials", 0, st, "%s", e.message);
        goto done;
    }
    if (s->grant_type == ACU_GRANT_COOKIE)
        add_check(&c, "credentials", 1, CONN_OK, "signed in as %s with a cookie session",
                  s->username);
    else if (s->grant_type == ACU_GRANT_PASSWORD)
        add_check(&c, "credentials", 1, CONN_OK,
                  "the password grant for %s and the client credentials are accepted",
                  s->username);
    else
        add_check(&c, "credentials", 1, CONN_OK, "the stored authorization is accepted");
    if (endpoints_deferred)
        check_endpoints(inst, &c, resp);
    acu_resp_free(resp);
    resp = NULL;
    if (c.first != CONN_OK)
        goto done;
    /* 5: permission to read the main entities. */
    check_reads(inst, &c);
done:
    acu_resp_free(resp);
    free(url);
    if (c.nomem || acu_jput(ans, "ok", json_object_new_boolean(c.first == CONN_OK)) != 0)
        return acu_err_set(err, CONN_NOMEM, "check: out of memory");
    if (c.first != CONN_OK) {
        *err = c.first_err;
        return c.first;
    }
    return CONN_OK;
}

/* ------------------------------------------------------------------ */
/* probe: {"step":"probe","entity":"Customer","requests":N,"top":1} sends N
 * reads of one entity at once and lets the throttle and the connection
 * pool pace them; the answer has the outcome and the transport counters.
 * It measures what the throttle settings allow against a site (and is how
 * the tests prove the throttle). */

typedef struct probe {
    int total, finished, ok;
    json_object *statuses;
    conn_error first_err;
} probe;

static void probe_done(void *user, acu_resp *resp)
{
    probe *p = user;
    char key[16];
    json_object *v;

    p->finished++;
    if (resp->status == CONN_OK) {
        p->ok++;
    } else if (p->first_err.status == CONN_OK) {
        p->first_err = resp->err;
    }
    snprintf(key, sizeof(key), "%ld", resp->http_status);
    if (json_object_object_get_ex(p->statuses, key, &v))
        json_object_set_int(v, json_object_get_int(v) + 1);
    else
        (void)acu_jput(p->statuses, key, json_object_new_int(1));
    acu_resp_free(resp);
}

static int probe_finished(void *user)
{
    probe *p = user;

    return p->finished >= p->total;
}

conn_status acu_auth_step_probe(conn_instance *inst, json_object *req, json_object *ans,
                                conn_error *err)
{
    json_object *v, *counters;
    const char *entity = "Customer";
    int n = 1, top = 1, rc = 0;
    probe p;
    char url[2048], what[96];
    int64_t t0;
    conn_status st = CONN_OK;
    const acu_http_counters *c;

    memset(&p, 0, sizeof(p));
    if (json_object_object_get_ex(req, "entity", &v))
        entity = json_object_get_string(v);
    if (json_object_object_get_ex(req, "requests", &v))
        n = json_object_get_int(v);
    if (json_object_object_get_ex(req, "top", &v))
        top = json_object_get_int(v);
    if (entity == NULL || entity[0] == '\0' || strlen(entity) > 64)
        return acu_err_set(err, CONN_INVALID, "probe: entity must be an entity name");
    for (const char *q = entity; *q != '\0'; q++)
        if (!isalnum((unsigned char)*q))
            return acu_err_set(err, CONN_INVALID, "probe: entity must be an entity name");
    if (n < 1 || n > 10000 || top < 0 || top > 1000)
        return acu_err_set(err, CONN_INVALID,
                           "probe: requests must be 1 to 10000 and top 0 to 1000");
    p.total = n;
    p.statuses = json_object_new_object();
    if (p.statuses == NULL)
        return acu_err_set(err, CONN_NOMEM, "probe: out of memory");
    acu_err_clear(&p.first_err);
    t0 = acu_http_now_ms();
    for (int i = 0; i < n; i++) {
        acu_req_spec spec;
        conn_error e;

        snprintf(url, sizeof(url), "%s/%s?$top=%d&$skip=%d", inst->endpoint_base, entity, top,
                 i % 50);
        snprintf(what, sizeof(what), "GET %s (probe %d)", entity, i + 1);
        acu_req_get(&spec, url, what);
        acu_err_clear(&e);
        st = acu_http_submit(inst->http, &spec, 0, probe_done, &p, &e);
        if (st != CONN_OK) {
            p.total = i; /* wait for those already queued */
            *err = e;
            break;
        }
    }
    {
        conn_error e;
        conn_status rst;

        acu_err_clear(&e);
        rst = acu_http_run(inst->http, probe_finished, &p, &e);
        if (rst != CONN_OK && st == CONN_OK) {
            st = rst;
            *err = e;
        }
    }
    c = acu_http_counters_get(inst->http);
    counters = json_object_new_object();
    rc |= acu_jput(ans, "requests", json_object_new_int(n));
    rc |= acu_jput(ans, "ok", json_object_new_int(p.ok));
    rc |= acu_jput(ans, "failed", json_object_new_int(p.finished - p.ok));
    rc |= acu_jput(ans, "elapsed_ms", json_object_new_int64(acu_http_now_ms() - t0));
    rc |= acu_jput(ans, "statuses", p.statuses);
    rc |= acu_jput(ans, "counters", counters);
    if (counters != NULL) {
        rc |= acu_jput(counters, "requests", json_object_new_int64((int64_t)c->requests));
        rc |= acu_jput(counters, "retries", json_object_new_int64((int64_t)c->retries));
        rc |= acu_jput(counters, "status_429", json_object_new_int64((int64_t)c->status_429));
        rc |= acu_jput(counters, "throttle_wait_ms", json_object_new_int64(c->throttle_wait_ms));
        rc |= acu_jput(counters, "throttle_waits", json_object_new_int64((int64_t)c->throttle_waits));
        rc |= acu_jput(counters, "bytes_in", json_object_new_int64((int64_t)c->bytes_in));
        rc |= acu_jput(counters, "max_in_flight", json_object_new_int(c->max_in_flight));
    }
    if (rc != 0)
        return acu_err_set(err, CONN_NOMEM, "probe: out of memory");
    if (st == CONN_OK && p.ok < p.finished) {
        *err = p.first_err;
        acu_err_append(err, "(%d of %d probe requests failed)", p.finished - p.ok, n);
        st = err->status != CONN_OK ? err->status : CONN_INTERNAL;
    }
    return st;
}
