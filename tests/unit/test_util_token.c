/* test_util_token.c - the one bearer token rule: visible ASCII, nothing else. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "util/util_token.h"

static void test_visible_ascii_only(void **state)
{
    assert_true(util_token_is_valid("abc", 3));
    assert_true(util_token_is_valid("!~", 2));
    assert_true(util_token_is_valid("eyJhbGciOi.J9-_x=+/", 19));
    assert_false(util_token_is_valid("", 0));
    assert_false(util_token_is_valid(NULL, 0));
    /* every byte outside 0x21-0x7E is refused, alone and inside a token */
    for (int c = 0; c < 256; c++) {
        char t[3] = {'a', (char)c, 'b'};
        bool want = c >= 0x21 && c <= 0x7e;
        if (util_token_is_valid(t, 3) != want || util_token_is_valid(t + 1, 1) != want)
            fail_msg("byte 0x%02x: want %d", c, want);
    }
    /* the smuggling attempt of issue 18 finding 4 */
    const char *smuggle = "x\r\nImpersonate-User: admin";
    assert_false(util_token_is_valid(smuggle, strlen(smuggle)));
    /* the length is the caller's: a NUL inside counts as a byte */
    assert_false(util_token_is_valid("ab\0c", 4));
    assert_true(util_token_is_valid("ab\0c", 2));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_visible_ascii_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
