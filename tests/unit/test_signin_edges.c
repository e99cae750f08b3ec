/* test_signin_edges.c - sign-in's sans-I/O pieces at their edges: base64url
 * of 1, 2 and 3 bytes, cookies with tabs, spaces and quotes, a form that
 * runs out of room at each step, a login that comes back after its TTL, the
 * pending table full of fresh logins (the oldest goes) or of stale ones (the
 * first stale slot is reused), and sessions past their idle time found by id
 * or swept when a new one is added. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "signin/signin_internal.h"

static const time_t T0 = 1700000000;

static void test_b64url_tails(void **state)
{
    char out[8];
    signin_b64url((const unsigned char *)"\xfb", 1, out);
    assert_string_equal(out, "-w");
    signin_b64url((const unsigned char *)"\xfb\xff", 2, out);
    assert_string_equal(out, "-_8");
    signin_b64url((const unsigned char *)"\xfb\xff\xbf", 3, out);
    assert_string_equal(out, "-_-_");
}

static void test_cookie_whitespace(void **state)
{
    const char *h = "a=1;\t; podterm-signin \t= \t\"quoted\" \t;b=\"x";
    const char *v;
    size_t n;
    assert_true(signin_cookie_find(h, strlen(h), "podterm-signin", &v, &n));
    assert_int_equal(n, 6);
    assert_memory_equal(v, "quoted", 6);
    /* A lone opening quote is kept as it is. */
    assert_true(signin_cookie_find(h, strlen(h), "b", &v, &n));
    assert_int_equal(n, 2);
    assert_memory_equal(v, "\"x", 2);
    /* A pair without '=' is skipped; a name followed by spaces only is no
     * match for a longer name. */
    const char *odd = "flag; podterm ; podterm-signin=v";
    assert_true(signin_cookie_find(odd, strlen(odd), "podterm-signin", &v, &n));
    assert_memory_equal(v, "v", 1);
    assert_false(signin_cookie_find(odd, strlen(odd), "flag", &v, &n));
    assert_false(signin_cookie_find("\t\t", 2, "a", &v, &n));
}

static void test_form_room(void **state)
{
    char out[16];
    size_t len = 0;
    /* Exactly full after the first pair: no room for '&'. */
    assert_true(signin_form_add(out, sizeof(out), &len, "abcdefg", "1234567"));
    assert_int_equal(len, 15);
    assert_false(signin_form_add(out, sizeof(out), &len, "k", "v"));
    /* A key that fills the buffer leaves no room for '='. */
    len = 0;
    assert_false(signin_form_add(out, sizeof(out), &len, "abcdefghijklmno", "v"));
    /* An escaped byte needs three. */
    len = 0;
    assert_false(signin_form_add(out, sizeof(out), &len, "k", "abcdefghijkl "));
    len = 0;
    assert_true(signin_form_add(out, sizeof(out), &len, "k", "a b/c"));
    assert_string_equal(out, "k=a%20b%2Fc");
}

static void test_pending_edges(void **state)
{
    struct signin_table t;
    assert_int_equal(signin_table_init(&t, 60, 3600), 0);
    /* A login back after its TTL is unknown, and gone. */
    struct signin_pending *p = signin_pending_add(&t, T0);
    assert_true(signin_token_new(p->state) && signin_token_new(p->binding));
    char st[SIGNIN_TOKEN_LEN + 1], binding[SIGNIN_TOKEN_LEN + 1];
    memcpy(st, p->state, sizeof(st));
    memcpy(binding, p->binding, sizeof(binding));
    struct signin_pending out;
    assert_int_equal(signin_pending_take(&t, st, SIGNIN_TOKEN_LEN, binding, SIGNIN_TOKEN_LEN,
                                         T0 + SIGNIN_PENDING_TTL_S + 1, &out),
                     SIGNIN_TAKE_UNKNOWN);
    assert_false(p->used);

    /* A full table of fresh logins: the oldest is replaced. */
    struct signin_pending *first = NULL;
    for (int i = 0; i < SIGNIN_PENDING_MAX; i++) {
        struct signin_pending *q = signin_pending_add(&t, T0 + 10 + i);
        if (i == 0)
            first = q;
    }
    struct signin_pending *next = signin_pending_add(&t, T0 + 10 + SIGNIN_PENDING_MAX);
    assert_ptr_equal(next, first);
    assert_int_equal(next->created, T0 + 10 + SIGNIN_PENDING_MAX);
    /* All stale: the first slot is free again. */
    next = signin_pending_add(&t, T0 + 10 + SIGNIN_PENDING_MAX + SIGNIN_PENDING_TTL_S + 1);
    assert_ptr_equal(next, &t.pending[0]);
    signin_table_free(&t);
}

static void test_session_edges(void **state)
{
    struct signin_table t;
    assert_int_equal(signin_table_init(&t, 60, 3600), 0);
    struct auth_identity id = {.user = "alice"};
    struct signin_session *s = signin_session_add(&t, &id, "tok", T0);
    assert_non_null(s);
    uint64_t sid = s->id;
    char cookie[SIGNIN_TOKEN_LEN + 1];
    memcpy(cookie, s->cookie, sizeof(cookie));
    assert_non_null(signin_session_by_id(&t, sid, T0 + 59));
    assert_null(signin_session_by_id(&t, sid, T0 + 60)); /* idle */
    assert_null(signin_session_by_id(&t, sid + 1, T0));
    /* Adding a session sweeps the idle one away. */
    struct signin_session *s2 = signin_session_add(&t, &id, NULL, T0 + 61);
    assert_non_null(s2);
    assert_null(s2->id_token);
    assert_int_equal(signin_session_count(&t), 1);
    bool expired = true;
    assert_null(signin_session_find(&t, cookie, SIGNIN_TOKEN_LEN, T0 + 61, &expired));
    assert_false(expired); /* swept already: unknown, not expired */
    signin_table_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_b64url_tails),  cmocka_unit_test(test_cookie_whitespace),
        cmocka_unit_test(test_form_room),     cmocka_unit_test(test_pending_edges),
        cmocka_unit_test(test_session_edges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
