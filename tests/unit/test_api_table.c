/* test_api_table.c - the AGE column as kubectl prints it
 * (duration.HumanDuration), at each boundary; a creation time that is not
 * RFC 3339 (or empty) counts as now: "0s", never a garbage age. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "api/api_table.h"
#include "config/config.h"

static const char *age(time_t s)
{
    static char out[32];
    api_table_age(s, out, sizeof(out));
    return out;
}

static void test_age_boundaries(void **state)
{
    assert_string_equal(age(-5), "0s"); /* a clock that went back */
    assert_string_equal(age(119), "119s");
    assert_string_equal(age(120), "2m0s");
    assert_string_equal(age(599), "9m59s");
    assert_string_equal(age(600), "10m");
    assert_string_equal(age(3 * 3600 - 1), "179m");
    assert_string_equal(age(3 * 3600), "3h0m");
    assert_string_equal(age(8 * 3600 - 1), "7h59m");
    assert_string_equal(age(8 * 3600), "8h");
    assert_string_equal(age(48 * 3600 - 1), "47h");
    assert_string_equal(age(48 * 3600), "2d0h");
    assert_string_equal(age(8 * 86400 - 1), "7d23h");
    assert_string_equal(age(8 * 86400), "8d");
}

static void test_row_bad_created(void **state)
{
    struct config_container ct = {.name = "c"};
    struct config_pod pod = {.ns = "default",
                             .name = "p",
                             .uid = "u",
                             .phase = "Succeeded",
                             .containers = &ct,
                             .containers_len = 1};
    char *created[] = {"yesterday", ""};
    for (size_t i = 0; i < 2; i++) {
        struct config_cluster c = {.created = created[i]};
        json_t *row = api_table_row(&c, &pod);
        assert_non_null(row);
        json_t *cells = json_object_get(row, "cells");
        assert_string_equal(json_string_value(json_array_get(cells, 1)), "0/1"); /* not running */
        assert_string_equal(json_string_value(json_array_get(cells, 4)), "0s");
        json_decref(row);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_age_boundaries),
        cmocka_unit_test(test_row_bad_created),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
