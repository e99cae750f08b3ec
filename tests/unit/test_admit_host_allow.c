/* test_admit_host_allow.c - the Host check against DNS rebinding, on raw heads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "admit/host_allow.h"

static const char *const allowed[] = {"podterm.example", "Box"};
static const struct host_policy anonymous = {.enforce = true};
static const struct host_policy with_names = {.enforce = true, .names = allowed, .names_len = 2};
static const struct host_policy off = {.enforce = false};

static char name[HOST_ALLOW_NAME_MAX + 1];

static enum host_verdict check(const struct host_policy *pol, const char *host_lines)
{
    char head[1024];
    snprintf(head, sizeof(head), "GET /version HTTP/1.1\r\n%sAccept: */*\r\n\r\n", host_lines);
    return host_allow_check(pol, head, strlen(head), name, sizeof(name));
}

static void test_loopback_names_and_literals_pass(void **state)
{
    const char *ok[] = {
        "Host: localhost\r\n",
        "Host: LOCALHOST:8080\r\n",
        "Host: a.localhost:1\r\n",
        "Host: x.y.Localhost\r\n",
        "Host: 127.0.0.1:8080\r\n",
        "Host: 10.1.2.3\r\n",
        "Host: [::1]:8080\r\n",
        "Host: [::1]\r\n",
        "Host:127.0.0.1\r\n",
        "Host: \t127.0.0.1 \r\n",
        "Host: [fe80::1:2]:65535\r\n",
        "Host: localhost:\r\n",
        "",
        "host: 127.0.0.1\n",
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        assert_int_equal(check(&anonymous, ok[i]), HOST_OK);
        assert_string_equal(name, "");
    }
}

static void test_other_names_forbidden(void **state)
{
    const char *bad[] = {"Host: evil.example:8080\r\n",
                         "Host: localhost.evil.example\r\n",
                         "Host: evillocalhost\r\n",
                         "Host: .localhost\r\n",
                         "Host: 127.1\r\n",
                         "Host: 0x7f000001\r\n"};
    const char *names[] = {"evil.example",  "localhost.evil.example",
                           "evillocalhost", ".localhost",
                           "127.1",         "0x7f000001"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(check(&anonymous, bad[i]), HOST_FORBIDDEN);
        assert_string_equal(name, names[i]);
    }
}

static void test_allowed_names(void **state)
{
    assert_int_equal(check(&with_names, "Host: podterm.example:8080\r\n"), HOST_OK);
    assert_int_equal(check(&with_names, "Host: PODTERM.example\r\n"), HOST_OK);
    assert_int_equal(check(&with_names, "Host: box\r\n"), HOST_OK);
    assert_int_equal(check(&with_names, "Host: localhost\r\n"), HOST_OK);
    assert_int_equal(check(&with_names, "Host: x.podterm.example\r\n"), HOST_FORBIDDEN);
    assert_string_equal(name, "x.podterm.example");
    assert_int_equal(check(&anonymous, "Host: podterm.example\r\n"), HOST_FORBIDDEN);
}

static void test_malformed_and_duplicated(void **state)
{
    const char *bad[] = {"Host: \r\n",         "Host: a b\r\n",       "Host: a:b\r\n",
                         "Host: a:123456\r\n", "Host: [::1\r\n",      "Host: []\r\n",
                         "Host: [::1]x\r\n",   "Host: [evil]:80\r\n", "Host: ::1\r\n",
                         "Host: a/b\r\n",      "Host: a\x01\r\n",     "Host: user@127.0.0.1\r\n"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(check(&anonymous, bad[i]), HOST_MALFORMED);
    assert_int_equal(check(&anonymous, "Host: localhost\r\nHost: evil.example\r\n"),
                     HOST_DUPLICATED);
    assert_int_equal(check(&anonymous, "Host: localhost\r\nhost: localhost\r\n"), HOST_DUPLICATED);
}

static void test_policy_off_passes_everything(void **state)
{
    assert_int_equal(check(&off, "Host: evil.example\r\n"), HOST_OK);
    assert_int_equal(check(&off, "Host: a b\r\nHost: c\r\n"), HOST_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loopback_names_and_literals_pass),
        cmocka_unit_test(test_other_names_forbidden),
        cmocka_unit_test(test_allowed_names),
        cmocka_unit_test(test_malformed_and_duplicated),
        cmocka_unit_test(test_policy_off_passes_everything),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
