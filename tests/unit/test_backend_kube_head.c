/* test_backend_kube_head.c - the upstream request head builder: exact bytes, no
 * format string ever (issue 18 finding 7), and no control character in a
 * value or the target (finding 4's one defence-in-depth place). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "backend/kube/kube_head.h"

static void test_exact_bytes(void **state)
{
    char buf[512];
    struct kube_head h;
    kube_head_init(&h, buf, sizeof(buf));
    kube_head_request_line(&h, "GET", "/proxy%s%n%%x%", "/api/v1/pods?limit=5%25", 23);
    kube_head_field(&h, "Host", "127.0.0.1:6443", 14);
    kube_head_field2(&h, "Authorization", "Bearer ", "tok%s", 5);
    kube_head_field(&h, "User-Agent", "kubectl/v1.33\t(linux)", 21);
    int n = kube_head_finish(&h);
    const char *want = "GET /proxy%s%n%%x%/api/v1/pods?limit=5%25 HTTP/1.1\r\n"
                       "Host: 127.0.0.1:6443\r\n"
                       "Authorization: Bearer tok%s\r\n"
                       "User-Agent: kubectl/v1.33\t(linux)\r\n\r\n";
    assert_int_equal(n, (int)strlen(want));
    assert_memory_equal(buf, want, strlen(want));
}

static int one_value(const char *v, size_t len)
{
    char buf[256];
    struct kube_head h;
    kube_head_init(&h, buf, sizeof(buf));
    kube_head_request_line(&h, "GET", "", "/api", 4);
    kube_head_field2(&h, "Authorization", "Bearer ", v, len);
    kube_head_field(&h, "Connection", "close", 5);
    return kube_head_finish(&h);
}

static void test_controls_refused(void **state)
{
    const char *smuggle = "x\r\nImpersonate-User: admin\r\n\r\nDELETE /api/v1/namespaces/x";
    assert_int_equal(one_value(smuggle, strlen(smuggle)), KUBE_HEAD_ERR_CONTROL);
    for (int c = 0; c < 256; c++) {
        char v[3] = {'a', (char)c, 'b'};
        bool ctl = (c < 0x20 && c != '\t') || c == 0x7f;
        int rc = one_value(v, 3);
        if (ctl ? rc != KUBE_HEAD_ERR_CONTROL : rc <= 0)
            fail_msg("byte 0x%02x in a value: rc %d", c, rc);
    }
    /* the target: no space, no control */
    char buf[256];
    struct kube_head h;
    const char *targets[] = {"/api\r\nX: y", "/api x", "/api\x7f", "/api\0"};
    size_t lens[] = {11, 6, 5, 5};
    for (size_t i = 0; i < 4; i++) {
        kube_head_init(&h, buf, sizeof(buf));
        kube_head_request_line(&h, "GET", "", targets[i], lens[i]);
        assert_int_equal(kube_head_finish(&h), KUBE_HEAD_ERR_CONTROL);
    }
    kube_head_init(&h, buf, sizeof(buf));
    kube_head_request_line(&h, "GET", "/pre fix", "/api", 4); /* the prefix too */
    assert_int_equal(kube_head_finish(&h), KUBE_HEAD_ERR_CONTROL);
}

static void test_too_long(void **state)
{
    char buf[40];
    struct kube_head h;
    kube_head_init(&h, buf, sizeof(buf));
    kube_head_request_line(&h, "GET", "", "/api", 4);               /* 19 bytes */
    kube_head_field(&h, "Host", "012345678901", 12);                /* 20 bytes: 39 */
    assert_int_equal(kube_head_finish(&h), KUBE_HEAD_ERR_TOO_LONG); /* 41 needed */
    assert_int_equal(h.len, 39);
    kube_head_init(&h, buf, 40);
    kube_head_request_line(&h, "GET", "", "/api", 4);
    kube_head_field(&h, "Host", "01234567890", 11);
    assert_int_equal(kube_head_finish(&h), 40); /* exactly full */
    /* the first error sticks */
    kube_head_init(&h, buf, sizeof(buf));
    kube_head_field(&h, "X", "\r", 1);
    kube_head_field(&h, "Host", "0123456789012345678901234567890123456789", 40);
    assert_int_equal(kube_head_finish(&h), KUBE_HEAD_ERR_CONTROL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_bytes),
        cmocka_unit_test(test_controls_refused),
        cmocka_unit_test(test_too_long),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
