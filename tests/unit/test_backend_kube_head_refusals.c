/* test_backend_kube_head_refusals.c - the request head builder's remaining
 * refusals: a method that would split the request line, a control character
 * in a field's fixed prefix, and an error that sticks through every later
 * call (nothing after it can make the head valid again). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "backend/kube/kube_head.h"

static void test_method_with_space(void **state)
{
    (void)state;
    char buf[256];
    struct kube_head h;
    kube_head_init(&h, buf, sizeof(buf));
    kube_head_request_line(&h, "GET /evil", "", "/api", 4);
    assert_int_equal(kube_head_finish(&h), KUBE_HEAD_ERR_CONTROL);
    kube_head_init(&h, buf, sizeof(buf));
    kube_head_request_line(&h, "GE\rT", "", "/api", 4);
    assert_int_equal(kube_head_finish(&h), KUBE_HEAD_ERR_CONTROL);
}

static void test_control_in_field_prefix(void **state)
{
    (void)state;
    char buf[256];
    struct kube_head h;
    kube_head_init(&h, buf, sizeof(buf));
    kube_head_request_line(&h, "GET", "", "/api", 4);
    kube_head_field2(&h, "Authorization", "Bearer\n", "tok", 3);
    assert_int_equal(kube_head_finish(&h), KUBE_HEAD_ERR_CONTROL);
}

/* The first error sticks: a valid request line or field after it, or a
 * head that then overflows, still reports the first error. */
static void test_first_error_sticks(void **state)
{
    (void)state;
    char buf[64];
    struct kube_head h;
    kube_head_init(&h, buf, sizeof(buf));
    kube_head_field(&h, "X", "a\x7f", 2);
    kube_head_request_line(&h, "GET", "", "/api", 4);
    kube_head_field(&h, "Host", "h", 1);
    for (int i = 0; i < 10; i++)
        kube_head_field(&h, "Filler", "0123456789", 10);
    assert_int_equal(kube_head_finish(&h), KUBE_HEAD_ERR_CONTROL);
    /* and an overflow first stays an overflow */
    kube_head_init(&h, buf, sizeof(buf));
    for (int i = 0; i < 10; i++)
        kube_head_field(&h, "Filler", "0123456789", 10);
    kube_head_field(&h, "X", "a\x01", 2);
    assert_int_equal(kube_head_finish(&h), KUBE_HEAD_ERR_TOO_LONG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_method_with_space),
        cmocka_unit_test(test_control_in_field_prefix),
        cmocka_unit_test(test_first_error_sticks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
