/* test_api_table_oom.c - a pod list's Table out of memory (jansson's
 * allocations through json_set_alloc_funcs): the row and the Table are
 * NULL, never a Table that lost a column or a cell on the way (api_json.h's
 * promise), which kubectl would print as a different table. Each run is
 * NULL or the whole Table of the run without failures. */
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
#include "unit_oom.h"

static void oom_free(void *p)
{
    free(p);
}

static struct config_container containers[] = {{.name = "a"}, {.name = "b"}};
static struct config_pod pod = {.ns = "default",
                                .name = "web",
                                .uid = "0a1b2c3d-1111-4222-8333-444455556666",
                                .phase = "Running",
                                .containers = containers,
                                .containers_len = 2};
static struct config_cluster cluster = {.created = ""}; /* age "0s" whenever it runs */

static json_t *table(void)
{
    json_t *row = api_table_row(&cluster, &pod);
    json_t *rows = json_array();
    if (!row || !rows || json_array_append_new(rows, row) != 0) {
        if (!rows)
            json_decref(row);
        json_decref(rows);
        return NULL;
    }
    return api_table_wrap(rows);
}

struct table_case {
    json_t *want;
    long refused;
};

static void table_step(void *ctx)
{
    struct table_case *c = ctx;
    json_t *t = table();
    if (!t) {
        assert_true(unit_oom_hit());
        c->refused++;
        return;
    }
    if (!json_equal(t, c->want)) {
        char *got = json_dumps(t, JSON_SORT_KEYS);
        fail_msg("a Table that is not the whole one: %s", got);
    }
    json_decref(t);
}

static void test_table_out_of_memory(void **state)
{
    json_set_alloc_funcs(__wrap_malloc, oom_free);
    struct table_case c = {.want = table()};
    assert_non_null(c.want);
    json_t *cols = json_object_get(c.want, "columnDefinitions");
    assert_int_equal(json_array_size(cols), 5);
    json_t *cells = json_object_get(json_array_get(json_object_get(c.want, "rows"), 0), "cells");
    char *text = json_dumps(cells, JSON_COMPACT);
    assert_string_equal(text, "[\"web\",\"2/2\",\"Running\",\"0\",\"0s\"]");
    free(text);
    long allocations = unit_oom_sweep(table_step, &c);
    json_decref(c.want);
    json_set_alloc_funcs(malloc, free);
    assert_true(allocations > 20);
    assert_int_equal(c.refused, allocations);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_out_of_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
