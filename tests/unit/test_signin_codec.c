/* test_signin_codec.c - browser sign-in's small parsers and encoders
 * (signin_internal.h): the Cookie header, rd (open redirects), PKCE's S256
 * against RFC 7636's own example, tokens, form encoding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "signin/signin_internal.h"

static void cookie_is(const char *header, const char *name, const char *want)
{
    const char *v = NULL;
    size_t n = 0;
    bool found = signin_cookie_find(header, strlen(header), name, &v, &n);
    if (!want) {
        assert_false(found);
        return;
    }
    assert_true(found);
    assert_int_equal(n, strlen(want));
    assert_memory_equal(v, want, n);
}

static void test_cookie_find(void **state)
{
    (void)state;
    cookie_is("a=1", "a", "1");
    cookie_is("a=1; b=2", "b", "2");
    cookie_is("a=1;b=2", "b", "2");
    cookie_is("  a = 1 ;  b=2  ", "a", "1");
    cookie_is("b=2", "a", NULL);
    cookie_is("ab=2", "a", NULL); /* a name, not a prefix */
    cookie_is("xa=2", "a", NULL);
    cookie_is("a", "a", NULL);       /* no '=' */
    cookie_is("a=", "a", "");        /* empty value */
    cookie_is("a=\"q\"", "a", "q");  /* RFC 6265: DQUOTE value */
    cookie_is("a=1; a=2", "a", "1"); /* the first: the most specific path */
    cookie_is(";;; a=x=y", "a", "x=y");
    cookie_is("", "a", NULL);
    cookie_is("__Host-podterm-session=abc; podterm-session=def", "podterm-session", "def");
}

static void test_rd_valid(void **state)
{
    (void)state;
    static const char *const good[] = {"/", "/#/sessions", "/a/b?c=d&e=%2F", "/x#y"};
    static const char *const bad[] = {
        "",      "//evil.example", "/\\evil.example", "https://x", "evil", "/a b",
        "/a\tb", "/a\\b",          "/\x7f",           "/\xc3\xa9", "\\/x", "javascript:alert(1)"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        assert_true(signin_rd_valid(good[i], strlen(good[i])));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_false(signin_rd_valid(bad[i], strlen(bad[i])));
    char longest[SIGNIN_RD_MAX + 2];
    memset(longest, 'a', sizeof(longest));
    longest[0] = '/';
    assert_true(signin_rd_valid(longest, SIGNIN_RD_MAX));
    assert_false(signin_rd_valid(longest, SIGNIN_RD_MAX + 1));
    /* an embedded NUL ends nothing: it is a control character */
    assert_false(signin_rd_valid("/a\0b", 4));
}

static void test_pkce_rfc7636(void **state)
{
    (void)state;
    /* RFC 7636 appendix B */
    char out[SIGNIN_TOKEN_LEN + 1];
    signin_pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", out);
    assert_string_equal(out, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
}

static void test_tokens(void **state)
{
    (void)state;
    char a[SIGNIN_TOKEN_LEN + 1], b[SIGNIN_TOKEN_LEN + 1];
    assert_true(signin_token_new(a));
    assert_true(signin_token_new(b));
    assert_int_equal(strlen(a), SIGNIN_TOKEN_LEN);
    assert_true(signin_token_valid(a, strlen(a)));
    assert_string_not_equal(a, b);
    assert_true(signin_token_equal(a, a));
    assert_false(signin_token_equal(a, b));
    assert_false(signin_token_valid(a, SIGNIN_TOKEN_LEN - 1));
    char c[SIGNIN_TOKEN_LEN + 1];
    memcpy(c, a, sizeof(c));
    c[5] = '.';
    assert_false(signin_token_valid(c, SIGNIN_TOKEN_LEN));
    c[5] = '\0';
    assert_false(signin_token_valid(c, SIGNIN_TOKEN_LEN));
    char e[8];
    signin_b64url((const unsigned char *)"\xfb\xff", 2, e);
    assert_string_equal(e, "-_8");
}

static void test_form_add(void **state)
{
    (void)state;
    char out[64];
    size_t len = 0;
    out[0] = '\0';
    assert_true(signin_form_add(out, sizeof(out), &len, "a", "b c&d=e/é"));
    assert_true(signin_form_add(out, sizeof(out), &len, "redirect_uri", "x~-._"));
    assert_string_equal(out, "a=b%20c%26d%3De%2F%C3%A9&redirect_uri=x~-._");
    assert_int_equal(len, strlen(out));
    char small[8];
    len = 0;
    assert_false(signin_form_add(small, sizeof(small), &len, "key", "value"));
    assert_true(len < sizeof(small));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cookie_find),  cmocka_unit_test(test_rd_valid),
        cmocka_unit_test(test_pkce_rfc7636), cmocka_unit_test(test_tokens),
        cmocka_unit_test(test_form_add),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
