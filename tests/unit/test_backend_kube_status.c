/* test_backend_kube_status.c - the gateway's reading of an upstream pre-v4 status
 * text stays within the payload it is given (found by fuzz_status). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "backend/backend.h"
#include "backend/kube/kube_backend.h"

/* The payload is "..., exit code 3"; the digits after it in memory are not
 * part of it and must not turn the code into 37 or an error. */
static void test_exit_code_stops_at_payload_end(void **state)
{
    const char buf[] = "error executing command [sh -c exit 3], exit code 37";
    struct backend_exit e;
    kube_status_parse(KUBE_WIRE_CHANNEL, buf, sizeof(buf) - 2, false, &e);
    assert_int_equal(e.type, BACKEND_EXIT_CODE);
    assert_int_equal(e.code, 3);
}

/* Only decimal digits follow "exit code ", as the kubelet writes them. */
static void test_exit_code_digits_only(void **state)
{
    struct backend_exit e;
    const char *bad[] = {"exit code ",    "exit code +3", "exit code 3x",
                         "exit code 256", "exit code 0",  "exit code 99999999999999999999"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        kube_status_parse(KUBE_WIRE_CHANNEL, bad[i], strlen(bad[i]), false, &e);
        assert_int_equal(e.type, BACKEND_EXIT_ERROR);
        assert_string_equal(e.message, bad[i]);
    }
    kube_status_parse(KUBE_WIRE_CHANNEL, "exit code 255", 13, false, &e);
    assert_int_equal(e.type, BACKEND_EXIT_CODE);
    assert_int_equal(e.code, 255);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exit_code_stops_at_payload_end),
        cmocka_unit_test(test_exit_code_digits_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
