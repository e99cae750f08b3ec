/* test_auth_mint.c - auth_jwt_mint's refusals, each with its message: a
 * subject or group that is empty, too long or has control characters, more
 * than AUTH_GROUPS_MAX groups, a negative ttl, an alg the key does not allow
 * (none included), a token longer than the buffer given; and the P-521 key's
 * ES512 default with a ttl of 0 (no exp claim). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "auth/auth.h"
#include "auth/jwt_mint.h"
#include "fixtures/auth_fixtures.h"
#include "unit_identity.h"

static const time_t NOW = 1700000000;
static char ec_key[FX_PATH_MAX], ec_pub[FX_PATH_MAX], hmac_key[FX_PATH_MAX];

static int group_setup(void **state)
{
    fx_dir_make();
    fx_keypair(EVP_EC_gen("P-521"), "p521", ec_key, ec_pub);
    snprintf(hmac_key, sizeof(hmac_key), "%s", fx_text_file("hmac", FX_SECRET "\n"));
    return 0;
}

static int group_teardown(void **state)
{
    fx_dir_remove();
    return 0;
}

static void expect_refused(const char *key, const char *alg, const char *sub,
                           const char *const *groups, size_t n, long ttl, size_t cap,
                           const char *want)
{
    char tok[FX_TOKEN_MAX], err[512] = "";
    assert_int_equal(auth_jwt_mint(key, alg, sub, groups, n, ttl, NOW, tok, cap, err, sizeof(err)),
                     -1);
    assert_string_equal(err, want);
}

static void test_arguments_refused(void **state)
{
    const char *sub_msg = "the subject must be 1 to 255 bytes without control characters";
    expect_refused(hmac_key, NULL, NULL, NULL, 0, 60, FX_TOKEN_MAX, sub_msg);
    expect_refused(hmac_key, NULL, "", NULL, 0, 60, FX_TOKEN_MAX, sub_msg);
    expect_refused(hmac_key, NULL, "ad\nmin", NULL, 0, 60, FX_TOKEN_MAX, sub_msg);
    const char *groups[AUTH_GROUPS_MAX + 1];
    for (size_t i = 0; i <= AUTH_GROUPS_MAX; i++)
        groups[i] = "devs";
    expect_refused(hmac_key, NULL, "admin", groups, AUTH_GROUPS_MAX + 1, 60, FX_TOKEN_MAX,
                   "more than 32 groups");
    const char *bad_groups[] = {"devs", NULL};
    expect_refused(hmac_key, NULL, "admin", bad_groups, 2, 60, FX_TOKEN_MAX,
                   "group 2 must be 1 to 255 bytes without control characters");
    bad_groups[1] = "o\x7fps";
    expect_refused(hmac_key, NULL, "admin", bad_groups, 2, 60, FX_TOKEN_MAX,
                   "group 2 must be 1 to 255 bytes without control characters");
    expect_refused(hmac_key, NULL, "admin", NULL, 0, -1, FX_TOKEN_MAX,
                   "negative ttl -1 (0 means no expiry)");
}

static void test_alg_and_size_refused(void **state)
{
    char want[512];
    snprintf(want, sizeof(want),
             "%s: alg none does not fit this key (it allows HS256, HS384, HS512)", hmac_key);
    expect_refused(hmac_key, "none", "admin", NULL, 0, 60, FX_TOKEN_MAX, want);
    snprintf(want, sizeof(want),
             "%s: alg XX999 does not fit this key (it allows HS256, HS384, HS512)", hmac_key);
    expect_refused(hmac_key, "XX999", "admin", NULL, 0, 60, FX_TOKEN_MAX, want);
    snprintf(want, sizeof(want), "%s: alg ES256 does not fit this key (it allows ES512)", ec_key);
    expect_refused(ec_key, "ES256", "admin", NULL, 0, 60, FX_TOKEN_MAX, want);
    expect_refused(hmac_key, NULL, "admin", NULL, 0, 60, 32,
                   "the token is longer than the 32 bytes given");
}

static void test_es512_without_expiry(void **state)
{
    char tok[FX_TOKEN_MAX], err[512] = "";
    const char *groups[] = {"devs", "ops"};
    assert_int_equal(
        auth_jwt_mint(ec_key, NULL, "admin", groups, 2, 0, NOW, tok, sizeof(tok), err, sizeof(err)),
        0);
    /* The header names ES512; the payload has sub, iat, nbf, the groups and
     * no exp. */
    char *dot = strchr(tok, '.');
    assert_non_null(dot);
    assert_memory_equal(tok, "eyJhbGciOiJFUzUxMiIs", 20); /* {"alg":"ES512", */
    struct auth *a = auth_new(ec_pub, NULL, err, sizeof(err));
    assert_non_null(a);
    struct auth_identity id;
    assert_int_equal(held_token_check(a, tok, NOW + 365 * 24 * 3600, &id), AUTH_OK);
    assert_string_equal(id.user, "admin");
    assert_int_equal(id.groups_len, 2);
    assert_string_equal(id.groups[1], "ops");
    auth_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_arguments_refused),
        cmocka_unit_test(test_alg_and_size_refused),
        cmocka_unit_test(test_es512_without_expiry),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
