/* test_session_exec_request_oom.c - an exec request's argv (src/session/
 * exec_request.c) out of memory: each refused allocation (the array, each
 * argument) is a 500 InternalError "out of memory" with nothing kept (argv
 * NULL, argc 0), never a request with a hole or a short command. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "session/exec_request.h"
#include "unit_oom.h"

static struct config_container one[1] = {{.name = "shell"}};
static struct config_pod pods[1] = {
    {.ns = "default", .name = "local", .phase = "Running", .containers = one, .containers_len = 1},
};
static char *namespaces[1] = {"default"};
static struct config_cluster cluster = {
    .namespaces = namespaces, .namespaces_len = 1, .pods = pods, .pods_len = 1};

#define Q(k, v)                                                                                    \
    {                                                                                              \
        k, sizeof(k) - 1, v, sizeof(v) - 1                                                         \
    }

static void build_step(void *ctx)
{
    long *refused = ctx;
    struct http_query_item q[] = {Q("command", "sh"), Q("stdout", "1"), Q("command", "-c"),
                                  Q("command", "echo hi")};
    struct exec_request req;
    struct exec_error err;
    int rc = exec_request_build(&cluster, "default", "local", false, q, 4, &req, &err);
    if (unit_oom_hit()) {
        (*refused)++;
        assert_int_equal(rc, -1);
        assert_int_equal(err.code, 500);
        assert_string_equal(err.reason, "InternalError");
        assert_string_equal(err.message, "out of memory");
        assert_null(req.argv);
        assert_int_equal(req.argc, 0);
        return;
    }
    assert_int_equal(rc, 0);
    assert_int_equal(req.argc, 3);
    assert_string_equal(req.argv[0], "sh");
    assert_string_equal(req.argv[1], "-c");
    assert_string_equal(req.argv[2], "echo hi");
    assert_null(req.argv[3]);
    exec_request_clear(&req);
}

static void test_build_out_of_memory(void **state)
{
    long refused = 0;
    assert_int_equal(unit_oom_sweep(build_step, &refused), 4); /* the array, three arguments */
    assert_int_equal(refused, 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_build_out_of_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
