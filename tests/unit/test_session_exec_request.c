/* test_session_exec_request.c - exec/attach validation in the apiserver's order,
 * with its exact messages (PROTOCOL.md 1.1-1.2). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "api/api_select.h"
#include "api/api_table.h"
#include "session/exec_request.h"

static struct config_container two[2] = {{.name = "c1"}, {.name = "c2"}};
static struct config_container one[1] = {{.name = "shell"}};
static struct config_kv labels[1] = {{.key = "app", .value = "web"}};
static struct config_pod pods[2] = {
    {.ns = "default", .name = "local", .phase = "Running", .containers = one, .containers_len = 1},
    {.ns = "team",
     .name = "multi",
     .phase = "Running",
     .containers = two,
     .containers_len = 2,
     .labels = labels,
     .labels_len = 1},
};
static char *namespaces[2] = {"default", "team"};
static struct config_cluster cluster = {.namespaces = namespaces,
                                        .namespaces_len = 2,
                                        .pods = pods,
                                        .pods_len = 2,
                                        .created = "2026-01-01T00:00:00Z"};

#define Q(k, v)                                                                                    \
    {                                                                                              \
        k, sizeof(k) - 1, v, sizeof(v) - 1                                                         \
    }

static int build(const char *ns, const char *pod, bool attach, const struct http_query_item *items,
                 size_t n, struct exec_request *req, struct exec_error *err)
{
    return exec_request_build(&cluster, ns, pod, attach, items, n, req, err);
}

static void test_path_parse(void **state)
{
    char ns[64], pod[64];
    bool attach;
    assert_true(exec_path_parse("/api/v1/namespaces/default/pods/local/exec", ns, sizeof(ns), pod,
                                sizeof(pod), &attach));
    assert_string_equal(ns, "default");
    assert_string_equal(pod, "local");
    assert_false(attach);
    assert_true(exec_path_parse("/api/v1/namespaces/a/pods/b/attach", ns, sizeof(ns), pod,
                                sizeof(pod), &attach));
    assert_true(attach);
    assert_false(exec_path_parse("/api/v1/namespaces/a/pods/b/log", ns, sizeof(ns), pod,
                                 sizeof(pod), &attach));
    assert_false(exec_path_parse("/api/v1/namespaces//pods/b/exec", ns, sizeof(ns), pod,
                                 sizeof(pod), &attach));
    assert_false(exec_path_parse("/api/v1/namespaces/a/pods/b/exec/x", ns, sizeof(ns), pod,
                                 sizeof(pod), &attach));
}

static void test_valid_exec(void **state)
{
    struct http_query_item q[] = {Q("command", "sh"),      Q("command", "-c"),
                                  Q("command", "echo hi"), Q("stdout", "true"),
                                  Q("stdout", "false"),    Q("tty", "")};
    struct exec_request req;
    struct exec_error err;
    assert_int_equal(build("default", "local", false, q, 6, &req, &err), 0);
    assert_int_equal(req.argc, 3);
    assert_string_equal(req.argv[2], "echo hi");
    assert_null(req.argv[3]);
    assert_true(req.want_stdout); /* first occurrence wins */
    assert_true(req.tty);         /* "tty=" is true */
    assert_false(req.want_stdin);
    assert_string_equal(req.container, "shell");
    exec_request_clear(&req);
}

static void test_pod_not_found(void **state)
{
    struct http_query_item q[] = {Q("command", "sh"), Q("stdout", "1")};
    struct exec_request req;
    struct exec_error err;
    assert_int_equal(build("default", "nope", false, q, 2, &req, &err), -1);
    assert_int_equal(err.code, 404);
    assert_string_equal(err.reason, "NotFound");
    assert_string_equal(err.message, "pods \"nope\" not found");
    assert_string_equal(err.details_name, "nope");
    assert_string_equal(err.details_kind, "pods");
}

static void test_container_errors(void **state)
{
    struct http_query_item q[] = {Q("command", "sh"), Q("stdout", "1")};
    struct exec_request req;
    struct exec_error err;
    assert_int_equal(build("team", "multi", false, q, 2, &req, &err), -1);
    assert_int_equal(err.code, 400);
    assert_string_equal(err.message,
                        "a container name must be specified for pod multi, choose one of: [c1 c2]");
    struct http_query_item q2[] = {Q("command", "sh"), Q("stdout", "1"), Q("container", "zz")};
    assert_int_equal(build("team", "multi", false, q2, 3, &req, &err), -1);
    assert_string_equal(err.message, "container zz is not valid for pod multi");
    assert_string_equal(err.details_name, "");
    assert_null(err.details_kind);
}

static void test_streams_and_command(void **state)
{
    struct exec_request req;
    struct exec_error err;
    struct http_query_item q[] = {Q("command", "sh"), Q("stdout", "False")};
    assert_int_equal(build("default", "local", false, q, 2, &req, &err), -1);
    assert_string_equal(err.message, "you must specify at least 1 of stdin, stdout, stderr");
    struct http_query_item q2[] = {Q("stdout", "yes")};
    assert_int_equal(build("default", "local", false, q2, 1, &req, &err), -1);
    assert_int_equal(err.code, 400);
    assert_string_equal(err.message, "you must specify at least one command for the container");
    /* attach needs no command */
    assert_int_equal(build("default", "local", true, q2, 1, &req, &err), 0);
    assert_null(req.argv);
    exec_request_clear(&req);
}

static void test_pod_lookup_before_streams(void **state)
{
    struct exec_request req;
    struct exec_error err;
    /* apiserver order: the pod is looked up before anything about streams is said */
    assert_int_equal(build("default", "nope", false, NULL, 0, &req, &err), -1);
    assert_int_equal(err.code, 404);
}

static void test_selectors(void **state)
{
    struct api_selector sel;
    char err[128];
    assert_int_equal(api_selector_parse(&sel, "app=web", "", err, sizeof(err)), 0);
    assert_false(api_selector_match(&sel, &pods[0]));
    assert_true(api_selector_match(&sel, &pods[1]));
    assert_int_equal(api_selector_parse(&sel, "!app", "metadata.name=local", err, sizeof(err)), 0);
    assert_true(api_selector_match(&sel, &pods[0]));
    assert_false(api_selector_match(&sel, &pods[1]));
    assert_int_equal(api_selector_parse(&sel, "app!=web", "", err, sizeof(err)), 0);
    assert_true(api_selector_match(&sel, &pods[0]));
    assert_int_equal(api_selector_parse(&sel, "", "spec.nodeName=x", err, sizeof(err)), -1);
    assert_string_equal(err, "field label not supported: spec.nodeName");
}

static void test_ages(void **state)
{
    char b[32];
    api_table_age(45, b, sizeof(b));
    assert_string_equal(b, "45s");
    api_table_age(312, b, sizeof(b));
    assert_string_equal(b, "5m12s");
    api_table_age(3 * 3600 + 5, b, sizeof(b));
    assert_string_equal(b, "3h0m");
    api_table_age(2 * 86400 + 4 * 3600, b, sizeof(b));
    assert_string_equal(b, "2d4h");
    api_table_age(30 * 86400, b, sizeof(b));
    assert_string_equal(b, "30d");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_path_parse),
        cmocka_unit_test(test_valid_exec),
        cmocka_unit_test(test_pod_not_found),
        cmocka_unit_test(test_container_errors),
        cmocka_unit_test(test_streams_and_command),
        cmocka_unit_test(test_pod_lookup_before_streams),
        cmocka_unit_test(test_selectors),
        cmocka_unit_test(test_ages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
