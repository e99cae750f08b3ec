/* test_auth_bearer.c - the Authorization header's Bearer scheme. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "auth/auth.h"

static void expect_token(const char *header, const char *want)
{
    size_t len = 12345;
    const char *t = auth_bearer_parse(header, &len);
    if (!want) {
        if (t)
            fail_msg("\"%s\" gave a token", header ? header : "(null)");
        return;
    }
    if (!t || len != strlen(want) || memcmp(t, want, len) != 0)
        fail_msg("\"%s\": want \"%s\"", header, want);
    assert_true(t >= header && t + len <= header + strlen(header)); /* points into value */
}

static void test_accepted(void **state)
{
    expect_token("Bearer abc", "abc");
    expect_token("bearer abc", "abc");
    expect_token("BEARER abc", "abc");
    expect_token("BeArEr abc", "abc");
    expect_token("Bearer    abc", "abc");
    expect_token("Bearer abc   ", "abc");
    expect_token("  Bearer abc \t", "abc");
    expect_token("Bearer\tabc", "abc");
    expect_token("Bearer eyJ.eyJ.sig-_", "eyJ.eyJ.sig-_");
    expect_token("Bearer a+b/c==", "a+b/c==");
}

static void test_refused(void **state)
{
    expect_token(NULL, NULL);
    expect_token("", NULL);
    expect_token("Bearer", NULL);
    expect_token("Bearer ", NULL);
    expect_token("Bearer    ", NULL);
    expect_token("Bearerabc", NULL);
    expect_token("Basic YWJjOmRlZg==", NULL);
    expect_token("Bear abc", NULL);
    expect_token("Bearer a b", NULL);
    expect_token("Bearer a\x01", NULL);
    /* visible ASCII only (util_token_is_valid): no CR/LF smuggling, no obs-text */
    expect_token("Bearer x\r\nImpersonate-User: admin", NULL);
    expect_token("Bearer x\rImpersonate-User:admin", NULL);
    expect_token("Bearer a\x7f", NULL);
    expect_token("Bearer \xc3\xa9", NULL);
    expect_token("Bearer a\x0b", NULL);
    expect_token("Token abc", NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepted),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
