/* acu_map_tool.c - the mapping tools behind the ABI's `mappings` slot:
 * validate (every problem of a subscription's mappings), show (the effective
 * mapping after overlays) and test (map sample records, no network); plus
 * reading the mapping options from a settings object. */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "acu_map_internal.h"

int acu_map_parse_tz_offset(const char *text, int *minutes)
{
    const char *p = text, *start;
    int sign = 1, h = 0, m = 0, nd = 0;

    if (p == NULL)
        return -1;
    while (isspace((unsigned char)*p))
        p++;
    start = p;
    if (strncasecmp(p, "UTC", 3) == 0 || strncasecmp(p, "GMT", 3) == 0)
        p += 3;
    else if (*p == 'Z' || *p == 'z')
        p++;
    if (p != start && (*p == '\0' || isspace((unsigned char)*p))) {
        while (isspace((unsigned char)*p))
            p++;
        if (*p != '\0')
            return -1;
        *minutes = 0;
        return 0;
    }
    if (*p == '+' || *p == '-') {
        sign = *p == '-' ? -1 : 1;
        p++;
    }
    while (isdigit((unsigned char)*p) && nd < 4) {
        h = h * 10 + (*p - '0');
        p++;
        nd++;
    }
    if (nd == 0)
        return -1;
    if (nd == 4 && *p != ':' && *p != '.') {
        m = h % 100; /* +0530 */
        h /= 100;
    } else if (nd > 2) {
        return -1;
    } else if (*p == ':') {
        int md = 0;
        p++;
        while (isdigit((unsigned char)*p) && md < 2) {
            m = m * 10 + (*p - '0');
            p++;
            md++;
        }
        if (md != 2)
            return -1;
    } else if (*p == '.') {
        /* decimal hours: 5.5 = 5:30, 5.75 = 5:45 */
        int frac = 0, fd = 0;
        p++;
        while (isdigit((unsigned char)*p) && fd < 2) {
            frac = frac * 10 + (*p - '0');
            p++;
            fd++;
        }
        if (fd == 0)
            return -1;
        if (fd == 1)
            frac *= 10;
        m = frac * 60 / 100;
    }
    while (isspace((unsigned char)*p))
        p++;
    if (*p != '\0' || h > 18 || m > 59 || h * 60 + m > 18 * 60)
        return -1;
    *minutes = sign * (h * 60 + m);
    return 0;
}

/* Frees the list of override pointers with the storage object. */
static void free_list(json_object *jso, void *userdata)
{
    (void)jso;
    free(userdata);
}

/* The problems found in the settings the loader reads. */
typedef struct setting_problems {
    acu_map_diags *diags; /* each problem, when given */
    conn_error *err;      /* the first one */
    size_t count;
} setting_problems;

/* Report a malformed setting at `pointer` ("/time_zone_offset"): to the
 * diagnostics as file "settings", and the first one to err as
 * "settings <pointer>: <sentence>". */
static void setting_problem(setting_problems *p, const char *pointer,
                            const char *fmt, ...) ACU_MAP_PRINTF(3, 4);
static void setting_problem(setting_problems *p, const char *pointer,
                            const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (p->diags != NULL)
        acu_map_diags_add(p->diags, "settings", pointer, 0, "%s", msg);
    if (p->count++ == 0)
        acu_map_err(p->err, CONN_INVALID, "settings %s: %s", pointer, msg);
}

conn_status acu_map_options_from_settings(json_object *settings,
                                          acu_map_diags *diags,
                                          acu_map_options *opts,
                                          json_object **storage,
                                          conn_error *err)
{
    setting_problems prob = {diags, err, 0};
    json_object *v, *store;

    memset(opts, 0, sizeof(*opts));
    *storage = NULL;
    opts->settings = settings;
    opts->diags = diags;
    opts->create_default_mappings = 1;
    if (json_object_object_get_ex(settings, "endpoint_version", &v) &&
        !json_object_is_type(v, json_type_null)) {
        if (!json_object_is_type(v, json_type_string))
            setting_problem(&prob, "/endpoint_version",
                            "endpoint_version must be text such as \"22.200.001\"; the mappings "
                            "are checked against 22.200.001");
        else
            opts->endpoint_version = json_object_get_string(v);
    }
    if (json_object_object_get_ex(settings, "time_zone_offset", &v) &&
        !json_object_is_type(v, json_type_null)) {
        int minutes = 0;
        if (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)) {
            double hours = json_object_get_double(v);
            if (!(fabs(hours) <= 18))
                setting_problem(&prob, "/time_zone_offset",
                                "time_zone_offset %g is outside -18..+18 hours; the mappings "
                                "are checked with +00:00", hours);
            else
                minutes = (int)lround(hours * 60);
        } else if (!json_object_is_type(v, json_type_string) ||
                   acu_map_parse_tz_offset(json_object_get_string(v), &minutes) != 0) {
            minutes = 0;
            setting_problem(&prob, "/time_zone_offset",
                            "time_zone_offset '%.40s' is not an offset such as -05:00, +0530, "
                            "UTC+2 or -5; the mappings are checked with +00:00",
                            json_object_get_string(v));
        }
        opts->tz_offset_minutes = minutes;
    }
    if (json_object_object_get_ex(settings, "create_default_mappings", &v) &&
        !json_object_is_type(v, json_type_null)) {
        if (!json_object_is_type(v, json_type_boolean))
            setting_problem(&prob, "/create_default_mappings",
                            "create_default_mappings must be true or false; the mappings are "
                            "checked as if it were true");
        else
            opts->create_default_mappings = json_object_get_boolean(v);
    }
    if (!json_object_object_get_ex(settings, "mapping_overrides", &v) ||
        json_object_is_type(v, json_type_null))
        goto done;
    if (!json_object_is_type(v, json_type_array)) {
        setting_problem(&prob, "/mapping_overrides",
                        "mapping_overrides must be a list of file paths or JSON objects");
        goto done;
    }
    store = json_object_new_array();
    if (store == NULL)
        return acu_map_err(err, CONN_NOMEM, "out of memory");
    for (size_t i = 0; i < json_object_array_length(v); i++) {
        json_object *o = json_object_array_get_idx(v, i);
        char ptr[48];
        if (json_object_is_type(o, json_type_string)) {
            json_object_array_add(store, json_object_get(o));
        } else if (json_object_is_type(o, json_type_object) ||
                   json_object_is_type(o, json_type_array)) {
            /* inline JSON; an array is refused by the loader with its reason */
            const char *t = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
            json_object_array_add(store, json_object_new_string(t));
        } else {
            /* Skipped; a NULL keeps the others at their own index. */
            snprintf(ptr, sizeof(ptr), "/mapping_overrides/%zu", i);
            setting_problem(&prob, ptr,
                            "mapping_overrides[%zu] must be a file path or a JSON object; it "
                            "is skipped and the others are checked", i);
            json_object_array_add(store, NULL);
        }
    }
    {
        size_t n = json_object_array_length(store);
        const char **list = calloc(n ? n : 1, sizeof(char *));
        json_object *holder;
        if (list == NULL) {
            json_object_put(store);
            return acu_map_err(err, CONN_NOMEM, "out of memory");
        }
        for (size_t i = 0; i < n; i++) {
            json_object *e = json_object_array_get_idx(store, i);
            list[i] = e != NULL ? json_object_get_string(e) : NULL;
        }
        /* The list lives as long as storage: keep its pointer in a userdata. */
        holder = json_object_new_object();
        if (holder == NULL) {
            free(list);
            json_object_put(store);
            return acu_map_err(err, CONN_NOMEM, "out of memory");
        }
        json_object_object_add(holder, "strings", store);
        json_object_set_userdata(holder, list, free_list);
        opts->overrides = list;
        opts->override_count = n;
        *storage = holder;
    }
done:
    return prob.count > 0 ? CONN_INVALID : CONN_OK;
}

/* ---- the tools ---- */

typedef struct tool_out {
    conn_write_fn out;
    void *user;
} tool_out;

static conn_status send_json(conn_write_fn out, void *user, json_object *doc,
                             conn_error *err)
{
    const char *text = json_object_to_json_string_ext(
        doc, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE);

    if (text == NULL)
        return acu_map_err(err, CONN_NOMEM, "mappings: out of memory");
    if (out(user, text, strlen(text)) != 0 || out(user, "\n", 1) != 0)
        return acu_map_err(err, CONN_NOMEM, "mappings: the host refused the output");
    return CONN_OK;
}

static json_object *map_summary(const acu_map *m)
{
    json_object *o = json_object_new_object();

    if (o == NULL)
        return NULL;
    json_object_object_add(o, "name", json_object_new_string(acu_map_name(m)));
    json_object_object_add(o, "flow", json_object_new_string(acu_map_flow(m)));
    json_object_object_add(o, "direction", json_object_new_string(
        acu_map_get_direction(m) == ACU_MAP_FROM_HOST ? "from_host" : "to_host"));
    json_object_object_add(o, "entity", json_object_new_string(acu_map_entity(m)));
    json_object_object_add(o, "record_type", json_object_new_string(acu_map_record_type(m)));
    return o;
}

/* Pick mappings by "name" or "flow" and "direction" (either may be absent
 * for show). Fills up to cap pointers; returns the count. */
static size_t pick(const acu_mapset *set, json_object *req, const acu_map **found,
                   size_t cap)
{
    json_object *v;
    const char *name = NULL, *flow = NULL, *dir = NULL;
    size_t n = 0;

    if (json_object_object_get_ex(req, "name", &v))
        name = json_object_get_string(v);
    if (json_object_object_get_ex(req, "flow", &v))
        flow = json_object_get_string(v);
    if (json_object_object_get_ex(req, "direction", &v))
        dir = json_object_get_string(v);
    for (size_t i = 0; i < acu_mapset_count(set) && n < cap; i++) {
        const acu_map *m = acu_mapset_at(set, i);
        const char *d = acu_map_get_direction(m) == ACU_MAP_FROM_HOST ? "from_host" : "to_host";
        if (name && strcmp(name, acu_map_name(m)) != 0)
            continue;
        if (flow && strcmp(flow, acu_map_flow(m)) != 0)
            continue;
        if (dir && strcmp(dir, d) != 0)
            continue;
        found[n++] = m;
    }
    return n;
}

typedef struct test_ctx {
    json_object *results;
    size_t index;
} test_ctx;

static json_object *result_json(acu_map_result *r, size_t index)
{
    json_object *o = json_object_new_object();
    static const char *const names[] = {"ok", "skipped", "rejected"};

    if (o == NULL)
        return NULL;
    json_object_object_add(o, "index", json_object_new_int64((int64_t)index));
    if (r->item >= 0)
        json_object_object_add(o, "item", json_object_new_int64(r->item));
    json_object_object_add(o, "status", json_object_new_string(names[r->status]));
    if (r->id)
        json_object_object_add(o, "id", json_object_new_string(r->id));
    if (r->message)
        json_object_object_add(o, "message", json_object_new_string(r->message));
    if (r->record) {
        json_object_object_add(o, "record", r->record);
        r->record = NULL;
    }
    if (r->errors) {
        json_object_object_add(o, "errors", r->errors);
        r->errors = NULL;
    }
    return o;
}

static conn_status collect(void *user, acu_map_result *r)
{
    test_ctx *t = user;
    json_object *o = result_json(r, t->index);

    if (o == NULL || json_object_array_add(t->results, o) != 0) {
        json_object_put(o);
        return CONN_NOMEM;
    }
    return CONN_OK;
}

conn_status acu_map_tool(json_object *settings, const char *request, size_t len,
                         conn_write_fn out, void *user, conn_error *err)
{
    json_object *req = NULL, *v, *answer = NULL, *storage = NULL;
    acu_map_options opts;
    acu_map_diags *diags = NULL;
    acu_mapset *set = NULL;
    const char *op;
    conn_status st = CONN_OK, lst;
    json_tokener *tok;
    conn_error lerr;

    if (request == NULL || len == 0 || len > ACU_MAP_MAX_FILE_BYTES * 4u)
        return acu_map_err(err, CONN_INVALID, "mappings: the request must be a JSON object");
    tok = json_tokener_new();
    if (tok == NULL)
        return acu_map_err(err, CONN_NOMEM, "mappings: out of memory");
    req = json_tokener_parse_ex(tok, request, (int)len);
    if (json_tokener_get_error(tok) != json_tokener_success || !json_object_is_type(req, json_type_object)) {
        json_tokener_free(tok);
        json_object_put(req);
        return acu_map_err(err, CONN_INVALID, "mappings: the request is not a JSON object");
    }
    json_tokener_free(tok);
    op = json_object_object_get_ex(req, "op", &v) ? json_object_get_string(v) : NULL;
    if (op == NULL || (strcmp(op, "validate") != 0 && strcmp(op, "show") != 0 &&
                       strcmp(op, "test") != 0)) {
        st = acu_map_err(err, CONN_INVALID, "mappings: \"op\" must be validate, show or test");
        goto out;
    }
    if (json_object_object_get_ex(req, "settings", &v))
        settings = v;
    if (!json_object_is_type(settings, json_type_object)) {
        st = acu_map_err(err, CONN_INVALID, "mappings: no settings (give \"settings\" in the request or call it on an instance)");
        goto out;
    }
    diags = acu_map_diags_new();
    answer = json_object_new_object();
    if (diags == NULL || answer == NULL) {
        st = acu_map_err(err, CONN_NOMEM, "mappings: out of memory");
        goto out;
    }
    memset(&lerr, 0, sizeof(lerr));
    /* A malformed setting is one more problem: the mappings are still
     * loaded (with a stand-in value) so that theirs are reported too. */
    lst = acu_map_options_from_settings(settings, diags, &opts, &storage, &lerr);
    if (lst == CONN_OK || lst == CONN_INVALID)
        lst = acu_mapset_load(&opts, &set, &lerr);
    if (lst == CONN_NOMEM || lst == CONN_INTERNAL) {
        st = acu_map_err(err, lst, "%s", lerr.message);
        goto out;
    }
    json_object_object_add(answer, "endpoint_version", json_object_new_string(
        opts.endpoint_version ? opts.endpoint_version : "22.200.001"));
    if (strcmp(op, "validate") == 0) {
        json_object *maps = json_object_new_array();
        json_object_object_add(answer, "ok", json_object_new_boolean(set != NULL));
        for (size_t i = 0; maps && i < acu_mapset_count(set); i++)
            json_object_array_add(maps, map_summary(acu_mapset_at(set, i)));
        json_object_object_add(answer, "mappings", maps);
        json_object_object_add(answer, "problems", acu_map_diags_to_json(diags));
        st = send_json(out, user, answer, err);
        goto out;
    }
    if (set == NULL) {
        /* show/test need a working set: report like validate would. */
        json_object_object_add(answer, "ok", json_object_new_boolean(0));
        json_object_object_add(answer, "problems", acu_map_diags_to_json(diags));
        st = send_json(out, user, answer, err);
        if (st == CONN_OK)
            st = acu_map_err(err, CONN_INVALID, "%s", lerr.message);
        goto out;
    }
    if (strcmp(op, "show") == 0) {
        const acu_map *found[64];
        size_t n = pick(set, req, found, 64);
        json_object *arr = json_object_new_array();
        if (n == 0) {
            json_object_put(arr);
            st = acu_map_err(err, CONN_NOT_FOUND, "mappings: no mapping matches the request");
            goto out;
        }
        json_object *tables = json_object_new_object();
        for (size_t i = 0; arr && i < n; i++)
            json_object_array_add(arr, acu_map_to_json(found[i]));
        json_object_object_add(answer, "mappings", arr);
        /* The effective lookup tables those mappings use, once each. */
        for (size_t i = 0; tables && i < n; i++) {
            json_object *t = acu_map_lookups_json(found[i]);
            if (t == NULL) {
                json_object_put(tables);
                st = acu_map_err(err, CONN_NOMEM, "mappings: out of memory");
                goto out;
            }
            json_object_object_foreach(t, tname, tv)
                if (!json_object_object_get_ex(tables, tname, NULL))
                    json_object_object_add(tables, tname, json_object_get(tv));
            json_object_put(t);
        }
        json_object_object_add(answer, "lookups", tables);
        st = send_json(out, user, answer, err);
        goto out;
    }
    {
        /* test */
        const acu_map *found[2];
        size_t n;
        json_object *records;
        test_ctx t;
        n = pick(set, req, found, 2);
        if (n == 2 && !json_object_object_get_ex(req, "direction", &v) &&
            acu_map_get_direction(found[0]) != acu_map_get_direction(found[1])) {
            st = acu_map_err(err, CONN_INVALID,
                             "mappings test: this flow maps both ways; give \"direction\" "
                             "(to_host or from_host)");
            goto out;
        }
        if (n != 1) {
            st = acu_map_err(err, n == 0 ? CONN_NOT_FOUND : CONN_INVALID,
                             n == 0 ? "mappings test: no mapping matches the request"
                                    : "mappings test: several mappings serve this flow; name one with \"name\"");
            goto out;
        }
        if (!json_object_object_get_ex(req, "records", &records) ||
            !json_object_is_type(records, json_type_array)) {
            st = acu_map_err(err, CONN_INVALID, "mappings test: \"records\" must be a list of records");
            goto out;
        }
        t.results = json_object_new_array();
        if (t.results == NULL) {
            st = acu_map_err(err, CONN_NOMEM, "mappings: out of memory");
            goto out;
        }
        json_object_object_add(answer, "mapping", map_summary(found[0]));
        json_object_object_add(answer, "results", t.results);
        for (size_t i = 0; i < json_object_array_length(records); i++) {
            json_object *rec = json_object_array_get_idx(records, i);
            conn_status rs;
            t.index = i;
            if (!json_object_is_type(rec, json_type_object)) {
                json_object *o = json_object_new_object();
                json_object_object_add(o, "index", json_object_new_int64((int64_t)i));
                json_object_object_add(o, "status", json_object_new_string("rejected"));
                json_object_object_add(o, "message", json_object_new_string("the record is not a JSON object"));
                json_object_array_add(t.results, o);
                continue;
            }
            if (acu_map_get_direction(found[0]) == ACU_MAP_FROM_HOST) {
                acu_map_result r;
                rs = acu_map_from_host(found[0], rec, &r, err);
                if (rs == CONN_OK)
                    rs = collect(&t, &r);
                acu_map_result_clear(&r);
            } else {
                rs = acu_map_to_host(found[0], rec, collect, &t, err);
            }
            if (rs != CONN_OK) {
                st = rs;
                goto out;
            }
        }
        st = send_json(out, user, answer, err);
    }
out:
    acu_mapset_free(set);
    acu_map_diags_free(diags);
    json_object_put(storage);
    json_object_put(answer);
    json_object_put(req);
    return st;
}

conn_status acu_mapset_load_settings(json_object *settings, acu_map_diags *diags,
                                     acu_mapset **out, conn_error *err)
{
    acu_map_options opts;
    json_object *storage = NULL;
    acu_map_diags *own = NULL;
    conn_status st;

    *out = NULL;
    if (diags == NULL) {
        own = acu_map_diags_new();
        if (own == NULL)
            return acu_map_err(err, CONN_NOMEM, "mappings: out of memory");
        diags = own;
    }
    /* A malformed setting does not stop the load: acu_mapset_load reports
     * it with every problem of the mappings and fails. */
    st = acu_map_options_from_settings(settings, diags, &opts, &storage, err);
    if (st == CONN_OK || st == CONN_INVALID)
        st = acu_mapset_load(&opts, out, err);
    json_object_put(storage);
    acu_map_diags_free(own);
    return st;
}

json_object *acu_mapset_flows_json(const acu_mapset *set)
{
    json_object *arr = json_object_new_array();

    for (size_t i = 0; arr != NULL && i < acu_mapset_count(set); i++) {
        json_object *o = map_summary(acu_mapset_at(set, i));
        if (o == NULL || json_object_array_add(arr, o) != 0) {
            json_object_put(o);
            json_object_put(arr);
            return NULL;
        }
    }
    return arr;
}
