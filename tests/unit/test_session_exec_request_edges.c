/* test_session_exec_request_edges.c - exec/attach request validation
 * (src/session/exec_request.c) at its edges: parameters without '=' (Go's
 * url.Values gives them an empty value: a bool is then true, a command an
 * empty argument, a container the default one), boolean values longer
 * than "false", a pod without containers, a container list longer than
 * its room in the message, a container name past the name bound. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "session/exec_request.h"

#define MANY 40

static char many_names[MANY][40];
static struct config_container many[MANY];
static struct config_container one[1] = {{.name = "shell"}};
/* sorted by namespace and name, as config_pod_find looks them up */
static struct config_pod pods[3] = {
    {.ns = "default",
     .name = "crowd",
     .phase = "Running",
     .containers = many,
     .containers_len = MANY},
    {.ns = "default", .name = "empty", .phase = "Running", .containers = NULL, .containers_len = 0},
    {.ns = "default", .name = "local", .phase = "Running", .containers = one, .containers_len = 1},
};
static char *namespaces[1] = {"default"};
static struct config_cluster cluster = {.namespaces = namespaces,
                                        .namespaces_len = 1,
                                        .pods = pods,
                                        .pods_len = 3,
                                        .created = "2026-01-01T00:00:00Z"};

/* key only: no '=' (value NULL) */
#define K(k)                                                                                       \
    {                                                                                              \
        k, sizeof(k) - 1, NULL, 0                                                                  \
    }
#define Q(k, v)                                                                                    \
    {                                                                                              \
        k, sizeof(k) - 1, v, sizeof(v) - 1                                                         \
    }

static void test_keys_without_values(void **state)
{
    struct http_query_item q[] = {K("stdin"), K("tty"), K("container"), K("command"),
                                  Q("command", "x")};
    struct exec_request req;
    struct exec_error err;
    assert_int_equal(exec_request_build(&cluster, "default", "local", false, q, 5, &req, &err), 0);
    assert_true(req.want_stdin);
    assert_true(req.tty);
    assert_false(req.want_stdout);
    assert_string_equal(req.container, "shell");
    assert_int_equal(req.argc, 2);
    assert_string_equal(req.argv[0], "");
    assert_string_equal(req.argv[1], "x");
    assert_null(req.argv[2]);
    exec_request_clear(&req);
    exec_request_clear(&req); /* twice: nothing */
}

/* "false" is the longest false spelling: anything of 16 bytes or more is
 * true, without being copied. */
static void test_long_bool_values(void **state)
{
    struct http_query_item q[] = {Q("stdout", "falsefalsefalsef"), Q("stderr", "0000000000000000"),
                                  Q("stdin", "fals"), Q("command", "x")};
    struct exec_request req;
    struct exec_error err;
    assert_int_equal(exec_request_build(&cluster, "default", "local", false, q, 4, &req, &err), 0);
    assert_true(req.want_stdout);
    assert_true(req.want_stderr);
    assert_true(req.want_stdin);
    exec_request_clear(&req);
}

static void test_pod_without_containers(void **state)
{
    struct http_query_item q[] = {Q("stdout", "1"), Q("command", "x")};
    struct exec_request req;
    struct exec_error err;
    assert_int_equal(exec_request_build(&cluster, "default", "empty", false, q, 2, &req, &err), -1);
    assert_int_equal(err.code, 400);
    assert_string_equal(err.reason, "BadRequest");
    assert_string_equal(err.message, "a container name must be specified for pod empty");
    assert_null(req.argv);
}

/* Forty containers of 30-byte names do not fit half a message: the list is
 * cut, the message still ends in place (no overflow, NUL-terminated). */
static void test_container_list_cut(void **state)
{
    for (int i = 0; i < MANY; i++) {
        snprintf(many_names[i], sizeof(many_names[i]), "container-%02d-with-a-long-name", i);
        many[i].name = many_names[i];
    }
    struct http_query_item q[] = {Q("stdout", "1"), Q("command", "x")};
    struct exec_request req;
    struct exec_error err;
    assert_int_equal(exec_request_build(&cluster, "default", "crowd", false, q, 2, &req, &err), -1);
    assert_int_equal(err.code, 400);
    const char *head = "a container name must be specified for pod crowd, choose one of: "
                       "[container-00-with-a-long-name container-01-with-a-long-name ";
    assert_memory_equal(err.message, head, strlen(head));
    size_t len = strlen(err.message);
    assert_true(len < sizeof(err.message));
    assert_null(strchr(err.message, ']')); /* cut before the end of the list */
    assert_int_equal(len, strlen("a container name must be specified for pod crowd, "
                                 "choose one of: ") +
                              EXEC_MESSAGE_MAX / 2 - 1);
}

/* A container name longer than any name can be is not looked up: not valid
 * (the message shows it cut to the name bound). */
static void test_container_name_too_long(void **state)
{
    char name[CONFIG_NAME_MAX + 2];
    memset(name, 'c', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    struct http_query_item q[] = {
        {"container", 9, name, sizeof(name) - 1}, Q("stdout", "1"), Q("command", "x")};
    struct exec_request req;
    struct exec_error err;
    assert_int_equal(exec_request_build(&cluster, "default", "local", false, q, 3, &req, &err), -1);
    assert_int_equal(err.code, 400);
    char want[EXEC_MESSAGE_MAX];
    snprintf(want, sizeof(want), "container %.*s is not valid for pod local", CONFIG_NAME_MAX,
             name);
    assert_string_equal(err.message, want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys_without_values),     cmocka_unit_test(test_long_bool_values),
        cmocka_unit_test(test_pod_without_containers),  cmocka_unit_test(test_container_list_cut),
        cmocka_unit_test(test_container_name_too_long),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
