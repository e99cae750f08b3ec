/* test_auth_identity_oom.c - an identity's groups are strings it owns:
 * appended up to AUTH_GROUPS_MAX names shorter than AUTH_NAME_MAX, copied
 * whole or not at all: out of memory never leaves an identity with fewer
 * groups than it was given, which RBAC would judge as someone else. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "auth/auth.h"
#include "unit_oom.h"

static void test_add_group_bounds(void **state)
{
    (void)state;
    struct auth_identity id = {0};
    char name[AUTH_NAME_MAX + 1];
    memset(name, 'g', sizeof(name));
    /* A name of AUTH_NAME_MAX - 1 bytes fits; one byte more does not. */
    assert_int_equal(auth_identity_add_group(&id, name, AUTH_NAME_MAX - 1), 0);
    assert_int_equal(strlen(id.groups[0]), AUTH_NAME_MAX - 1);
    assert_int_equal(auth_identity_add_group(&id, name, AUTH_NAME_MAX), -1);
    assert_int_equal(id.groups_len, 1);
    /* Only len bytes are taken, whatever follows them. */
    assert_int_equal(auth_identity_add_group(&id, "devs,ops", 4), 0);
    assert_string_equal(id.groups[1], "devs");
    for (size_t i = id.groups_len; i < AUTH_GROUPS_MAX; i++)
        assert_int_equal(auth_identity_add_group(&id, "g", 1), 0);
    assert_int_equal(auth_identity_add_group(&id, "one-too-many", 12), -1);
    assert_int_equal(id.groups_len, AUTH_GROUPS_MAX);
    auth_identity_clear(&id);
    assert_int_equal(id.groups_len, 0);
    assert_null(id.groups[0]);
    assert_string_equal(id.user, "");
}

struct copy_case {
    struct auth_identity src;
    long refused;
};

static void copy_step(void *ctx)
{
    struct copy_case *c = ctx;
    struct auth_identity dst = {0};
    int rc = auth_identity_copy(&dst, &c->src);
    if (unit_oom_hit()) {
        c->refused++;
        assert_int_equal(rc, -1);
        /* All or nothing: no name, no group survives a failed copy. */
        assert_string_equal(dst.user, "");
        assert_string_equal(dst.uid, "");
        assert_int_equal(dst.groups_len, 0);
        assert_null(dst.groups[0]);
        return;
    }
    assert_int_equal(rc, 0);
    assert_string_equal(dst.user, "alice");
    assert_string_equal(dst.uid, "uid-7");
    assert_int_equal(dst.groups_len, 3);
    assert_string_equal(dst.groups[0], "devs");
    assert_string_equal(dst.groups[1], "ops");
    assert_string_equal(dst.groups[2], "system:authenticated");
    assert_ptr_not_equal(dst.groups[0], c->src.groups[0]); /* its own strings */
    auth_identity_clear(&dst);
}

static void test_copy_out_of_memory(void **state)
{
    (void)state;
    struct copy_case c = {.src = {.user = "alice", .uid = "uid-7"}};
    unit_oom_arm(-1);
    assert_int_equal(auth_identity_add_group(&c.src, "devs", 4), 0);
    assert_int_equal(auth_identity_add_group(&c.src, "ops", 3), 0);
    assert_int_equal(auth_identity_add_group(&c.src, "system:authenticated", 20), 0);
    /* One allocation per group: three refusals, then the clean copy. */
    assert_int_equal(unit_oom_sweep(copy_step, &c), 3);
    assert_int_equal(c.refused, 3);
    auth_identity_clear(&c.src);
}

static void test_add_group_out_of_memory(void **state)
{
    (void)state;
    struct auth_identity id = {0};
    unit_oom_arm(0);
    assert_int_equal(auth_identity_add_group(&id, "devs", 4), -1);
    assert_true(unit_oom_hit());
    unit_oom_arm(-1);
    assert_int_equal(id.groups_len, 0);
    assert_null(id.groups[0]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_group_bounds),
        cmocka_unit_test(test_copy_out_of_memory),
        cmocka_unit_test(test_add_group_out_of_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
