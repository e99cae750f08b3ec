/* test_util_base64.c - the shared base64 pieces: character values in both
 * alphabets, and unpadded base64url decoding with and without the strict
 * (canonical tail) rule that JWTs need and bearer-token items must not have. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "util/util_base64.h"

static int decode(const char *in, uint8_t *out, size_t cap, bool strict)
{
    return util_base64url_decode(in, strlen(in), out, cap, strict);
}

static void test_values(void **state)
{
    assert_int_equal(util_base64_value('A', '+', '/'), 0);
    assert_int_equal(util_base64_value('z', '+', '/'), 51);
    assert_int_equal(util_base64_value('9', '+', '/'), 61);
    assert_int_equal(util_base64_value('+', '+', '/'), 62);
    assert_int_equal(util_base64_value('/', '+', '/'), 63);
    assert_int_equal(util_base64_value('-', '+', '/'), -1);
    assert_int_equal(util_base64_value('-', '-', '_'), 62);
    assert_int_equal(util_base64_value('_', '-', '_'), 63);
    assert_int_equal(util_base64_value('+', '-', '_'), -1);
    assert_int_equal(util_base64_value('=', '-', '_'), -1);
    assert_int_equal(util_base64_value(0xc3, '-', '_'), -1);
}

static void test_decode_exact_bytes(void **state)
{
    uint8_t out[16];
    assert_int_equal(decode("", out, sizeof(out), true), 0);
    assert_int_equal(decode("Zm9v", out, sizeof(out), true), 3);
    assert_memory_equal(out, "foo", 3);
    assert_int_equal(decode("Zm9vYg", out, sizeof(out), true), 4); /* no padding */
    assert_memory_equal(out, "foob", 4);
    assert_int_equal(decode("Zm9vYmE", out, sizeof(out), true), 5);
    assert_memory_equal(out, "fooba", 5);
    assert_int_equal(decode("-_8", out, sizeof(out), true), 2); /* URL-safe 62 and 63 */
    assert_memory_equal(out, "\xfb\xff", 2);
}

static void test_decode_refused(void **state)
{
    uint8_t out[16];
    const char *bad[] = {"Zm9vY", "Zm9vYg==", "Zm9v+w", "Zm9v/w", "Zm 9", "Zm9v\xc3\xa4"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(decode(bad[i], out, sizeof(out), false), -1);
        assert_int_equal(decode(bad[i], out, sizeof(out), true), -1);
    }
}

/* "Zh" and "Zg" both decode to "f"; only "Zg" has zero unused bits. */
static void test_strict_tail(void **state)
{
    uint8_t out[16];
    assert_int_equal(decode("Zh", out, sizeof(out), false), 1);
    assert_int_equal(out[0], 'f');
    assert_int_equal(decode("Zh", out, sizeof(out), true), -1);
    assert_int_equal(decode("Zg", out, sizeof(out), true), 1);
    assert_int_equal(decode("Zm9", out, sizeof(out), false), 2); /* 2 unused bits set */
    assert_int_equal(decode("Zm9", out, sizeof(out), true), -1);
    assert_int_equal(decode("Zm8", out, sizeof(out), true), 2);
    assert_memory_equal(out, "fo", 2);
}

static void test_out_cap(void **state)
{
    uint8_t out[4] = {0, 0, 0, 0x55};
    assert_int_equal(decode("Zm9v", out, 3, true), 3);
    assert_int_equal(decode("Zm9vYg", out, 3, true), -1);
    assert_int_equal(out[3], 0x55); /* nothing written past out_cap */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values),         cmocka_unit_test(test_decode_exact_bytes),
        cmocka_unit_test(test_decode_refused), cmocka_unit_test(test_strict_tail),
        cmocka_unit_test(test_out_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
