/* map_test_util.c - shared helpers of the mapping engine's unit tests. */
#include "map_test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

conn_status mt_load(int defaults, const char *version, const char *settings,
                    const char *const *overrides, acu_mapset **set,
                    acu_map_diags **diags, conn_error *err)
{
    acu_map_options o;
    json_object *sj = NULL;
    size_t n = 0;
    conn_status st;
    acu_map_diags *d = acu_map_diags_new();

    memset(&o, 0, sizeof(o));
    while (overrides && overrides[n])
        n++;
    if (settings) {
        sj = json_tokener_parse(settings);
        assert_non_null(sj);
    }
    o.endpoint_version = version;
    o.create_default_mappings = defaults;
    o.overrides = overrides;
    o.override_count = n;
    o.settings = sj;
    o.tz_offset_minutes = -300;
    o.diags = d;
    memset(err, 0, sizeof(*err));
    st = acu_mapset_load(&o, set, err);
    json_object_put(sj);
    if (diags)
        *diags = d;
    else
        acu_map_diags_free(d);
    return st;
}

int mt_has_diag(const acu_map_diags *d, const char *needle)
{
    char line[2048];

    for (size_t i = 0; i < acu_map_diags_count(d); i++) {
        acu_map_diag_format(acu_map_diags_get(d, i), line, sizeof(line));
        if (strstr(line, needle) != NULL)
            return 1;
    }
    return 0;
}

void mt_print_diags(const acu_map_diags *d)
{
    char line[2048];

    for (size_t i = 0; i < acu_map_diags_count(d); i++)
        fprintf(stderr, "  diag: %s\n",
                acu_map_diag_format(acu_map_diags_get(d, i), line, sizeof(line)));
}

json_object *mt_json(const char *text)
{
    json_object *j = json_tokener_parse(text);

    if (j == NULL)
        fprintf(stderr, "bad test JSON: %s\n", text);
    assert_non_null(j);
    return j;
}

conn_status mt_from_host(const acu_map *m, const char *record,
                         acu_map_result *res)
{
    json_object *r = mt_json(record);
    conn_error err;
    conn_status st;

    memset(&err, 0, sizeof(err));
    st = acu_map_from_host(m, r, res, &err);
    json_object_put(r);
    return st;
}

static conn_status collect(void *user, acu_map_result *r)
{
    json_object *arr = user, *o = json_object_new_object();
    static const char *const names[] = {"ok", "skipped", "rejected"};

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
    if (r->item >= 0)
        json_object_object_add(o, "item", json_object_new_int64(r->item));
    json_object_array_add(arr, o);
    return CONN_OK;
}

json_object *mt_to_host(const acu_map *m, const char *record)
{
    json_object *r = mt_json(record), *arr = json_object_new_array();
    conn_error err;

    memset(&err, 0, sizeof(err));
    assert_int_equal(acu_map_to_host(m, r, collect, arr, &err), CONN_OK);
    json_object_put(r);
    return arr;
}

void mt_assert_json(json_object *got, const char *expected_text)
{
    json_object *want = json_tokener_parse(expected_text);

    if (!json_object_equal(got, want)) {
        fprintf(stderr, "JSON differs\n  got:  %s\n  want: %s\n",
                json_object_to_json_string_ext(got, JSON_C_TO_STRING_PLAIN),
                expected_text);
        json_object_put(want);
        fail();
    }
    json_object_put(want);
}
