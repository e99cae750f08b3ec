/* test_signin_table.c - the two bounded tables of browser sign-in: a login
 * is used once, by the browser that began it, within its TTL; the tables
 * never grow past their bounds (the oldest entry goes); sessions end at
 * their idle timeout and max age. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "signin/signin_internal.h"

#define T0 1700000000

static struct signin_pending *login(struct signin_table *t, time_t now)
{
    struct signin_pending *p = signin_pending_add(t, now);
    assert_true(signin_token_new(p->state));
    assert_true(signin_token_new(p->binding));
    snprintf(p->rd, sizeof(p->rd), "/r");
    return p;
}

static void test_pending_once_and_bound(void **state)
{
    (void)state;
    static struct signin_table t;
    assert_int_equal(signin_table_init(&t, 60, 600), 0);
    struct signin_pending *p = login(&t, T0), copy = *p, out;
    /* another browser: refused, and the login stays for its own browser */
    char other[SIGNIN_TOKEN_LEN + 1];
    assert_true(signin_token_new(other));
    assert_int_equal(
        signin_pending_take(&t, copy.state, SIGNIN_TOKEN_LEN, other, SIGNIN_TOKEN_LEN, T0, &out),
        SIGNIN_TAKE_BINDING);
    assert_int_equal(signin_pending_take(&t, copy.state, SIGNIN_TOKEN_LEN, NULL, 0, T0, &out),
                     SIGNIN_TAKE_BINDING);
    assert_int_equal(signin_pending_take(&t, copy.state, SIGNIN_TOKEN_LEN, copy.binding,
                                         SIGNIN_TOKEN_LEN, T0 + 1, &out),
                     SIGNIN_TAKE_OK);
    assert_string_equal(out.rd, "/r");
    /* used once */
    assert_int_equal(signin_pending_take(&t, copy.state, SIGNIN_TOKEN_LEN, copy.binding,
                                         SIGNIN_TOKEN_LEN, T0 + 1, &out),
                     SIGNIN_TAKE_UNKNOWN);
    /* too old */
    p = login(&t, T0);
    copy = *p;
    assert_int_equal(signin_pending_take(&t, copy.state, SIGNIN_TOKEN_LEN, copy.binding,
                                         SIGNIN_TOKEN_LEN, T0 + SIGNIN_PENDING_TTL_S + 1, &out),
                     SIGNIN_TAKE_UNKNOWN);
    /* a flood: the table stays bounded, the oldest login goes first */
    struct signin_pending first = *login(&t, T0);
    for (int i = 1; i <= SIGNIN_PENDING_MAX; i++)
        login(&t, T0 + i);
    size_t used = 0;
    for (size_t i = 0; i < SIGNIN_PENDING_MAX; i++)
        used += t.pending[i].used;
    assert_int_equal(used, SIGNIN_PENDING_MAX);
    assert_int_equal(signin_pending_take(&t, first.state, SIGNIN_TOKEN_LEN, first.binding,
                                         SIGNIN_TOKEN_LEN, T0 + 300, &out),
                     SIGNIN_TAKE_UNKNOWN);
    assert_int_equal(signin_pending_take(&t, "short", 5, first.binding, SIGNIN_TOKEN_LEN, T0, &out),
                     SIGNIN_TAKE_UNKNOWN);
    signin_table_free(&t);
}

static void test_sessions_expire(void **state)
{
    (void)state;
    static struct signin_table t;
    assert_int_equal(signin_table_init(&t, 60, 600), 0);
    struct auth_identity id = {.user = "alice", .groups = {"devs"}, .groups_len = 1};
    struct signin_session *s = signin_session_add(&t, &id, "id.token.x", T0);
    assert_non_null(s);
    char cookie[SIGNIN_TOKEN_LEN + 1];
    memcpy(cookie, s->cookie, sizeof(cookie));
    uint64_t sid = s->id;
    bool expired;
    /* used within the idle timeout again and again: alive until max age */
    for (time_t now = T0 + 50; now < T0 + 600; now += 50) {
        s = signin_session_find(&t, cookie, SIGNIN_TOKEN_LEN, now, &expired);
        assert_non_null(s);
        assert_string_equal(s->user.user, "alice");
        assert_non_null(signin_session_by_id(&t, sid, now));
    }
    assert_null(signin_session_find(&t, cookie, SIGNIN_TOKEN_LEN, T0 + 600, &expired));
    assert_true(expired);
    assert_null(signin_session_by_id(&t, sid, T0 + 600));
    assert_int_equal(signin_session_count(&t), 0);
    /* idle */
    s = signin_session_add(&t, &id, NULL, T0);
    memcpy(cookie, s->cookie, sizeof(cookie));
    assert_null(signin_session_find(&t, cookie, SIGNIN_TOKEN_LEN, T0 + 60, &expired));
    assert_true(expired);
    /* a made-up cookie names nothing, and is not "expired" */
    assert_null(signin_session_find(&t, "nope", 4, T0, &expired));
    assert_false(expired);
    signin_table_free(&t);
}

static void test_sessions_bounded(void **state)
{
    (void)state;
    static struct signin_table t;
    assert_int_equal(signin_table_init(&t, 3600, 7200), 0);
    struct auth_identity id = {.user = "u"};
    struct signin_session *first = signin_session_add(&t, &id, NULL, T0);
    uint64_t first_id = first->id;
    for (int i = 1; i <= SIGNIN_SESSIONS_MAX; i++)
        assert_non_null(signin_session_add(&t, &id, NULL, T0 + i));
    assert_int_equal(signin_session_count(&t), SIGNIN_SESSIONS_MAX);
    assert_null(signin_session_by_id(&t, first_id, T0 + 10)); /* the oldest went */
    signin_table_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pending_once_and_bound),
        cmocka_unit_test(test_sessions_expire),
        cmocka_unit_test(test_sessions_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
