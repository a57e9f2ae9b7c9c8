/* map_test_util.h - shared helpers of the mapping engine's unit tests. */
#ifndef MAP_TEST_UTIL_H
#define MAP_TEST_UTIL_H

#include <json-c/json.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "acu_map.h"

/* Load a set: defaults on/off, overrides (NULL-terminated list of inline
 * JSON or paths), settings JSON text (may be NULL). Returns the status;
 * *set is NULL on failure; *diags (if given) receives the problems. */
conn_status mt_load(int defaults, const char *version, const char *settings,
                    const char *const *overrides, acu_mapset **set,
                    acu_map_diags **diags, conn_error *err);

/* 1 when any diagnostic's formatted line contains `needle`. */
int mt_has_diag(const acu_map_diags *d, const char *needle);
/* Print every diagnostic (for failing tests). */
void mt_print_diags(const acu_map_diags *d);

/* Parse JSON text (asserting it parses). */
json_object *mt_json(const char *text);

/* Run a from_host mapping on record text. */
conn_status mt_from_host(const acu_map *m, const char *record,
                         acu_map_result *res);

/* Run a to_host mapping, collecting every result into an array of
 * {"status","id","record","message","errors","item"}. */
json_object *mt_to_host(const acu_map *m, const char *record);

/* Assert two JSON values are equal, printing both when not. */
void mt_assert_json(json_object *got, const char *expected_text);

#endif
