/* fuzz_map_expr.c - the expression language's parser, binder and evaluator
 * on arbitrary text. The first byte picks expression or template mode; the
 * rest is the text, evaluated against a fixed record with lists, nested
 * objects, dates and numbers, with the default lookup tables and a few
 * settings. Any input must give a value or an error, never a crash, a leak
 * or undefined behaviour. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "acu_map_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char record_text[] =
    "{\"s\": \" Hello \", \"n\": 12.5, \"i\": 3, \"z\": 0, \"b\": true, \"nul\": null, \"e\": \"\","
    " \"lines\": [{\"q\": 2, \"p\": 1.5, \"sku\": \"A\"}, {\"q\": 3, \"sku\": \"B\", \"sub\": [{\"x\": 1}]}],"
    " \"obj\": {\"a\": {\"b\": \"deep\"}}, \"dt\": \"2024-03-01T14:05:00Z\", \"d\": \"2024-03-01\"}";

static acu_mapset *set;
static json_object *record;
static json_object *settings;

static void setup(void)
{
    acu_map_options o;
    conn_error err;

    memset(&o, 0, sizeof(o));
    o.create_default_mappings = 1;
    o.tz_offset_minutes = -300;
    settings = json_tokener_parse("{\"time_zone_offset\": \"-05:00\", \"tenant\": \"T\", \"password\": \"p\"}");
    o.settings = settings;
    if (acu_mapset_load(&o, &set, &err) != CONN_OK)
        abort();
    record = json_tokener_parse(record_text);
    if (record == NULL)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text;
    json_object *result = NULL;
    char why[512];

    if (set == NULL)
        setup();
    if (size < 1 || size > 20000)
        return 0;
    text = malloc(size);
    if (text == NULL)
        return 0;
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    /* The set's pool keeps every parsed tree; start a new set now and then
     * so a long run does not grow without end. */
    acu_map_eval_text(set, text, data[0] & 1, settings, record, &result, why, sizeof(why));
    json_object_put(result);
    free(text);
    if (set->pool.total > (64u << 20)) {
        acu_mapset_free(set);
        json_object_put(record);
        json_object_put(settings);
        set = NULL;
    }
    return 0;
}
