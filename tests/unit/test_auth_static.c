/* test_auth_static.c - kube-apiserver's static token CSV: quoting, groups,
 * blank lines, errors with line numbers and never a token; both auth sources
 * at once; the disabled auth. */
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

static int group_setup(void **state)
{
    fx_dir_make();
    return 0;
}

static int group_teardown(void **state)
{
    fx_dir_remove();
    return 0;
}

static const char *const CSV = "tok-alice,alice,uid-1,\"dev,ops\"\n"
                               "\n"
                               "tok-bob,bob,2\r\n"
                               "   \n"
                               "\"tok,\"\"carol\"\"\",carol,,\"\",ignored,columns\n"
                               "tok-dave, dave, 4 ,\"system:masters,,x\"";

static struct auth *auth_csv(const char *text)
{
    char err[AUTH_ERR_MAX] = "";
    struct auth *a = auth_new(NULL, fx_text_file("tokens.csv", text), err, sizeof(err));
    if (!a)
        fail_msg("%s", err);
    return a;
}

static void test_csv_identities(void **state)
{
    struct auth *a = auth_csv(CSV);
    assert_true(auth_enabled(a));
    struct auth_identity id;
    assert_int_equal(held_token_check(a, "tok-alice", NOW, &id), AUTH_OK);
    assert_string_equal(id.user, "alice");
    assert_string_equal(id.uid, "uid-1");
    assert_int_equal(id.groups_len, 2);
    assert_string_equal(id.groups[0], "dev");
    assert_string_equal(id.groups[1], "ops");
    assert_int_equal(held_token_check(a, "tok-bob", NOW, &id), AUTH_OK);
    assert_string_equal(id.user, "bob");
    assert_string_equal(id.uid, "2");
    assert_int_equal(id.groups_len, 0);
    assert_int_equal(held_token_check(a, "tok,\"carol\"", NOW, &id), AUTH_OK);
    assert_string_equal(id.user, "carol");
    assert_string_equal(id.uid, "");
    assert_int_equal(id.groups_len, 0);
    /* as kube-apiserver: leading spaces trimmed, trailing kept; empty groups dropped */
    assert_int_equal(held_token_check(a, "tok-dave", NOW, &id), AUTH_OK);
    assert_string_equal(id.user, "dave");
    assert_string_equal(id.uid, "4 ");
    assert_int_equal(id.groups_len, 2);
    assert_string_equal(id.groups[0], "system:masters");
    assert_string_equal(id.groups[1], "x");
    auth_free(a);
}

static void test_csv_misses(void **state)
{
    struct auth *a = auth_csv(CSV);
    struct auth_identity id;
    const char *wrong[] = {"tok-alic", "tok-alicee", "TOK-ALICE", "alice", "x.y.z"};
    for (size_t i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
        assert_int_equal(held_token_check(a, wrong[i], NOW, &id), AUTH_ERR_INVALID);
        assert_string_equal(id.user, "");
    }
    assert_int_equal(held_token_check(a, "", NOW, &id), AUTH_ERR_MISSING);
    /* not visible ASCII: malformed before any table lookup */
    const char *bad[] = {"tok-alice ", "tok-alice\r\n", "tok-\x01alice", "tok-alic\xc3\xa9"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(held_token_check(a, bad[i], NOW, &id), AUTH_ERR_MALFORMED);
    auth_free(a);
}

static void expect_csv_refused(const char *text, const char *want_after_path)
{
    char err[AUTH_ERR_MAX] = "", want[512];
    const char *path = fx_text_file("bad.csv", text);
    assert_null(auth_new(NULL, path, err, sizeof(err)));
    snprintf(want, sizeof(want), "%s%s", path, want_after_path);
    assert_string_equal(err, want);
    assert_null(strstr(err, "secret")); /* the tokens below all contain "secret" */
}

static void test_csv_errors(void **state)
{
    expect_csv_refused("secret1,a,1\n\nsecret2,b,2\nsecret1,c,3\n",
                       ":4: duplicate token (also on line 1)");
    expect_csv_refused("secret1,a,1\nsecret2,b\n",
                       ":2: needs at least 3 columns (token, user name, uid), found 2");
    expect_csv_refused("secret1\n",
                       ":1: needs at least 3 columns (token, user name, uid), found 1");
    expect_csv_refused("se\"cret,a,1\n", ":1: bare \" in an unquoted field");
    expect_csv_refused("\"secret,a,1\n", ":1: unterminated quoted field");
    expect_csv_refused("\"secret\"x,a,1\n", ":1: text after a closing quote");
    expect_csv_refused(",a,1\n", ":1: the token is empty or longer than 8192 bytes");
    expect_csv_refused("secret,,1\n",
                       ":1: the user name is empty, longer than 255 bytes or has control "
                       "characters");
    expect_csv_refused("secret,a\x01,1\n",
                       ":1: the user name is empty, longer than 255 bytes or has control "
                       "characters");
    /* the token itself is visible ASCII only (util_token_is_valid) */
    expect_csv_refused("\"secret x\",a,1\n",
                       ":1: the token has a character other than visible ASCII (0x21-0x7E)");
    expect_csv_refused("secret\x7f,a,1\n",
                       ":1: the token has a character other than visible ASCII (0x21-0x7E)");
    expect_csv_refused("\"secret\rX\",a,1\n",
                       ":1: the token has a character other than visible ASCII (0x21-0x7E)");
    expect_csv_refused("", ": no tokens");
    expect_csv_refused("\n \n", ": no tokens");
    char many[4096] = "secret,a,1,\"";
    for (int i = 0; i <= AUTH_GROUPS_MAX; i++)
        strcat(many, "g,");
    strcat(many, "\"\n");
    expect_csv_refused(many, ":1: more than 32 groups");
}

static void test_both_sources(void **state)
{
    const char *key = fx_text_file("hmac", FX_SECRET);
    const char *csv = fx_text_file("both.csv", "static-token,sam,s1,admins\n");
    char err[AUTH_ERR_MAX], tok[FX_TOKEN_MAX];
    struct auth *a = auth_new(key, csv, err, sizeof(err));
    assert_non_null(a);
    assert_int_equal(
        auth_jwt_mint(key, "HS512", "jay", NULL, 0, 60, NOW, tok, sizeof(tok), err, sizeof(err)),
        0);
    struct auth_identity id;
    assert_int_equal(held_token_check(a, tok, NOW, &id), AUTH_OK);
    assert_string_equal(id.user, "jay");
    assert_int_equal(held_token_check(a, "static-token", NOW, &id), AUTH_OK);
    assert_string_equal(id.user, "sam");
    assert_string_equal(id.groups[0], "admins");
    assert_int_equal(held_token_check(a, "not-a-jwt", NOW, &id), AUTH_ERR_INVALID);
    assert_int_equal(held_token_check(a, tok, NOW + 60, &id), AUTH_ERR_EXPIRED);
    auth_free(a);
    /* a bad second file fails the whole auth */
    assert_null(auth_new(key, fx_text_file("b.csv", "x\n"), err, sizeof(err)));
}

static void test_disabled(void **state)
{
    char err[AUTH_ERR_MAX];
    struct auth *a = auth_new(NULL, NULL, err, sizeof(err));
    assert_non_null(a);
    assert_false(auth_enabled(a));
    assert_false(auth_enabled(NULL));
    struct auth_identity id;
    assert_int_equal(held_token_check(a, "anything", NOW, &id), AUTH_ERR_INVALID);
    assert_int_equal(held_token_check(NULL, "anything", NOW, &id), AUTH_ERR_INVALID);
    auth_free(a);
    auth_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv_identities), cmocka_unit_test(test_csv_misses),
        cmocka_unit_test(test_csv_errors),     cmocka_unit_test(test_both_sources),
        cmocka_unit_test(test_disabled),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
