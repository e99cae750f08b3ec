/* test_record_header_oom.c - a recording's header line out of memory
 * (podterm's allocations and jansson's, through json_set_alloc_funcs): NULL,
 * never a header with a member missing, which would make the file unreadable
 * to the sessions API and to asciinema. Every run that made all its
 * allocations gives the exact line. Also the header's edges: absent names
 * (an empty title part) and more words than RECORD_HEADER_ARGV_MAX. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "record/record_enc.h"
#include "unit_oom.h"

static void oom_free(void *p)
{
    free(p);
}

static const char *const argv3[] = {"sh", "-c", "echo 'hi' \xff"};

static const struct record_header header = {
    .width = 80,
    .height = 24,
    .timestamp = 1764490000,
    .id = "0a1b2c3d-1111-4222-8333-444455556666",
    .user = "alice",
    .kind = "exec",
    .ns = "default",
    .pod = "web",
    .container = "shell",
    .argv = argv3,
    .argc = 3,
    .tty = true,
    .stdin_open = true,
};

static const char want[] =
    "{\"version\": 2, \"width\": 80, \"height\": 24, \"timestamp\": 1764490000, "
    "\"command\": \"sh -c 'echo '\\\"'\\\"'hi'\\\"'\\\"' \xef\xbf\xbd'\", "
    "\"title\": \"default/web/shell\", \"env\": {\"TERM\": \"xterm-256color\"}, "
    "\"podterm\": {\"id\": \"0a1b2c3d-1111-4222-8333-444455556666\", \"user\": \"alice\", "
    "\"kind\": \"exec\", \"namespace\": \"default\", \"pod\": \"web\", \"container\": \"shell\", "
    "\"command\": [\"sh\", \"-c\", \"echo 'hi' \xef\xbf\xbd\"], \"tty\": true, "
    "\"stdin\": true}}\n";

struct header_case {
    long refused;
};

static void header_step(void *ctx)
{
    struct header_case *c = ctx;
    size_t len = 99;
    char *line = record_enc_header(&header, &len);
    if (!line) {
        assert_true(unit_oom_hit());
        c->refused++;
        return;
    }
    /* a line is only ever the whole header */
    assert_string_equal(line, want);
    assert_int_equal(len, strlen(want));
    free(line);
}

static void test_header_out_of_memory(void **state)
{
    (void)state;
    json_set_alloc_funcs(__wrap_malloc, oom_free);
    struct header_case c = {0};
    long allocations = unit_oom_sweep(header_step, &c);
    json_set_alloc_funcs(malloc, free);
    assert_true(allocations > 30);
    assert_true(c.refused >= allocations - 4);
}

/* Absent names are empty (the title keeps its slashes); words past
 * RECORD_HEADER_ARGV_MAX are left out of both commands. */
static void test_header_edges(void **state)
{
    static const char *words[RECORD_HEADER_ARGV_MAX + 5];
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
        words[i] = i < RECORD_HEADER_ARGV_MAX ? "w" : "past";
    struct record_header h = {.width = 1, .height = 1, .id = "x", .user = "u", .kind = "attach"};
    h.argv = words;
    h.argc = sizeof(words) / sizeof(words[0]);
    size_t len;
    char *line = record_enc_header(&h, &len);
    assert_non_null(line);
    json_error_t e;
    json_t *o = json_loads(line, 0, &e);
    assert_non_null(o);
    assert_string_equal(json_string_value(json_object_get(o, "title")), "//");
    json_t *pt = json_object_get(o, "podterm");
    assert_string_equal(json_string_value(json_object_get(pt, "namespace")), "");
    assert_int_equal(json_array_size(json_object_get(pt, "command")), RECORD_HEADER_ARGV_MAX);
    const char *cmd = json_string_value(json_object_get(o, "command"));
    assert_int_equal(strlen(cmd), 2 * RECORD_HEADER_ARGV_MAX - 1); /* "w w ... w" */
    assert_null(strstr(line, "past"));
    json_decref(o);
    free(line);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_out_of_memory),
        cmocka_unit_test(test_header_edges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
