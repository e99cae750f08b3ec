/* test_config_names.c - DNS-1123 label and subdomain rules as the apiserver
 * applies them, and the stable, UUID-shaped pod uid. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "config/config.h"

static void fill(char *buf, char c, size_t n)
{
    memset(buf, c, n);
    buf[n] = '\0';
}

static void test_label(void **state)
{
    static const char *const ok[] = {"a", "0", "default", "team-a", "a-b-c", "9lives", "x1"};
    static const char *const bad[] = {"", "-a", "a-", "A", "a_b", "a.b", "a b", "é", "a\n"};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        assert_true(config_name_is_dns1123_label(ok[i]));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_false(config_name_is_dns1123_label(bad[i]));
    assert_false(config_name_is_dns1123_label(NULL));
    char buf[300];
    fill(buf, 'a', 63);
    assert_true(config_name_is_dns1123_label(buf));
    fill(buf, 'a', 64);
    assert_false(config_name_is_dns1123_label(buf));
}

static void test_subdomain(void **state)
{
    static const char *const ok[] = {"a", "web", "a.b", "my-pod.v1.x", "1.2.3"};
    static const char *const bad[] = {"", ".", "a.", ".a", "a..b", "a.-b", "a-.b", "A.b", "a/b"};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        assert_true(config_name_is_dns1123_subdomain(ok[i]));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_false(config_name_is_dns1123_subdomain(bad[i]));
    assert_false(config_name_is_dns1123_subdomain(NULL));
    char buf[300];
    fill(buf, 'a', 63);
    buf[63] = '.';
    fill(buf + 64, 'b', 64); /* one label of 64 */
    assert_false(config_name_is_dns1123_subdomain(buf));
    /* 253 bytes: 63+1+63+1+63+1+61 */
    fill(buf, 'a', 253);
    buf[63] = buf[127] = buf[191] = '.';
    assert_true(config_name_is_dns1123_subdomain(buf));
    fill(buf, 'a', 254);
    buf[63] = buf[127] = buf[191] = '.';
    assert_false(config_name_is_dns1123_subdomain(buf));
}

/* uid: 8-4-4-4-12 lowercase hex, version 8, variant 10, the same on every load. */
static void test_uid_shape_and_stability(void **state)
{
    struct config_cluster *a = config_cluster_default(), *b = config_cluster_default();
    assert_non_null(a);
    assert_non_null(b);
    const char *uid = a->pods[0].uid;
    assert_string_equal(uid, b->pods[0].uid);
    assert_int_equal(strlen(uid), 36);
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23)
            assert_int_equal(uid[i], '-');
        else
            assert_non_null(strchr("0123456789abcdef", uid[i]));
    }
    assert_int_equal(uid[14], '8');
    assert_non_null(strchr("89ab", uid[19]));
    config_cluster_free(a);
    config_cluster_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_label),
        cmocka_unit_test(test_subdomain),
        cmocka_unit_test(test_uid_shape_and_stability),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
