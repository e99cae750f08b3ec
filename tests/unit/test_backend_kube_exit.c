/* test_backend_kube_exit.c - how the gateway turns the API server's v4/v5
 * Status (channel 3) into the exit it hands the session: Success is 0, a
 * NonZeroExitCode with a usable ExitCode cause is that code (not for attach),
 * anything else is an error carrying the server's message without the
 * "Internal error occurred: " the client adds back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "backend/backend.h"
#include "backend/kube/kube_backend.h"

static void parse(const char *json, bool attach, struct backend_exit *e)
{
    kube_status_parse(KUBE_WIRE_V4, json, strlen(json), attach, e);
}

static void assert_error(const char *json, bool attach, const char *message)
{
    struct backend_exit e;
    parse(json, attach, &e);
    assert_int_equal(e.type, BACKEND_EXIT_ERROR);
    assert_string_equal(e.message, message);
}

#define NONZERO(cause)                                                                             \
    "{\"status\":\"Failure\",\"reason\":\"NonZeroExitCode\",\"message\":\"command "                \
    "terminated with non-zero exit code\",\"details\":{\"causes\":[" cause "]}}"

static void test_success_is_exit_zero(void **state)
{
    (void)state;
    struct backend_exit e;
    parse("{\"metadata\":{},\"status\":\"Success\"}", false, &e);
    assert_int_equal(e.type, BACKEND_EXIT_CODE);
    assert_int_equal(e.code, 0);
    /* also for attach, and the v5 wire reads the same JSON */
    kube_status_parse(KUBE_WIRE_V5, "{\"status\":\"Success\"}", 20, true, &e);
    assert_int_equal(e.type, BACKEND_EXIT_CODE);
    assert_int_equal(e.code, 0);
}

static void test_nonzero_exit_code_cause(void **state)
{
    (void)state;
    struct backend_exit e;
    parse(NONZERO("{\"reason\":\"ExitCode\",\"message\":\"42\"}"), false, &e);
    assert_int_equal(e.type, BACKEND_EXIT_CODE);
    assert_int_equal(e.code, 42);
    /* the first usable ExitCode cause wins; others are skipped */
    parse(NONZERO("{\"reason\":\"Other\",\"message\":\"9\"},{\"message\":\"8\"},"
                  "{\"reason\":\"ExitCode\"},{\"reason\":\"ExitCode\",\"message\":\"x1\"},"
                  "{\"reason\":\"ExitCode\",\"message\":\"-1\"},"
                  "{\"reason\":\"ExitCode\",\"message\":\"256\"},"
                  "{\"reason\":\"ExitCode\",\"message\":\"255\"}"),
          false, &e);
    assert_int_equal(e.type, BACKEND_EXIT_CODE);
    assert_int_equal(e.code, 255);
}

/* No cause the gateway can use: the failure is reported as an error with
 * the server's message, never as a made-up exit code. */
static void test_nonzero_without_usable_code_is_error(void **state)
{
    (void)state;
    const char *msg = "command terminated with non-zero exit code";
    assert_error(NONZERO(""), false, msg);
    assert_error(NONZERO("{\"reason\":\"ExitCode\",\"message\":\"0\"}"), false, msg);
    assert_error(NONZERO("{\"reason\":\"ExitCode\",\"message\":\"300\"}"), false, msg);
    /* attach reports no exit code of the main process */
    assert_error(NONZERO("{\"reason\":\"ExitCode\",\"message\":\"3\"}"), true, msg);
}

static void test_failure_message_and_prefix(void **state)
{
    (void)state;
    assert_error("{\"status\":\"Failure\",\"message\":\"Internal error occurred: error "
                 "executing command in container: no such file\"}",
                 false, "error executing command in container: no such file");
    assert_error("{\"status\":\"Failure\",\"message\":\"container not found (\\\"x\\\")\"}", false,
                 "container not found (\"x\")");
    /* no message at all, a status that is not a string, not JSON */
    assert_error("{\"status\":\"Failure\"}", false, "the API server reported a failure");
    assert_error("{\"status\":1,\"reason\":2,\"message\":3}", false,
                 "the API server reported a failure");
    assert_error("not json", false, "the API server reported a failure");
    assert_error("[]", false, "the API server reported a failure");
}

/* Pre-v4 text: empty is success; the kubelet's "exit code N" is the code. */
static void test_text_status(void **state)
{
    (void)state;
    struct backend_exit e;
    kube_status_parse(KUBE_WIRE_SPDY_TEXT, "", 0, false, &e);
    assert_int_equal(e.type, BACKEND_EXIT_CODE);
    assert_int_equal(e.code, 0);
    const char *t = "command terminated: exit code 1 ... exit code 7";
    kube_status_parse(KUBE_WIRE_SPDY_TEXT, t, strlen(t), false, &e);
    assert_int_equal(e.type, BACKEND_EXIT_CODE);
    assert_int_equal(e.code, 7);
    t = "exit code 1234";
    kube_status_parse(KUBE_WIRE_CHANNEL, t, strlen(t), false, &e);
    assert_int_equal(e.type, BACKEND_EXIT_ERROR);
    assert_string_equal(e.message, t);
    t = "no code here";
    kube_status_parse(KUBE_WIRE_CHANNEL, t, strlen(t), false, &e);
    assert_int_equal(e.type, BACKEND_EXIT_ERROR);
    assert_string_equal(e.message, t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_success_is_exit_zero),
        cmocka_unit_test(test_nonzero_exit_code_cause),
        cmocka_unit_test(test_nonzero_without_usable_code_is_error),
        cmocka_unit_test(test_failure_message_and_prefix),
        cmocka_unit_test(test_text_status),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
