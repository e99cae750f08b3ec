/* test_authz_message.c - the Forbidden message is kube-apiserver's, byte for
 * byte: forbiddenMessage (sanitized) wrapped by apierrors.NewForbidden, for
 * namespaced, cluster-scoped, named, unnamed, subresource, API-group and
 * non-resource requests, with and without a reason; Go %q quoting; bounded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "unit_tmpdir.h"
#include "fixtures/authz/authz_fixtures.h"

struct msg_case {
    const char *user;
    struct authz_attrs at;
    const char *reason;
    const char *want;
};

static void test_messages(void **state)
{
    const struct msg_case cases[] = {
        {"bob", fx_res("create", "", "default", "pods", "exec", "local"), "",
         "pods \"local\" is forbidden: User \"bob\" cannot create resource \"pods/exec\" in API "
         "group \"\" in the namespace \"default\""},
        {"bob", fx_res("list", "", "", "pods", "", ""), "",
         "pods is forbidden: User \"bob\" cannot list resource \"pods\" in API group \"\" at the "
         "cluster scope"},
        {"bob", fx_url("get", "/metrics"), "",
         "forbidden: User \"bob\" cannot get path \"/metrics\""},
        {"bob", fx_res("list", "", "dev", "pods", "", ""), NULL,
         "pods is forbidden: User \"bob\" cannot list resource \"pods\" in API group \"\" in the "
         "namespace \"dev\""},
        {"bob", fx_res("get", "apps", "dev", "deployments", "", "web"), "",
         "deployments.apps \"web\" is forbidden: User \"bob\" cannot get resource \"deployments\" "
         "in API group \"apps\" in the namespace \"dev\""},
        {"bob", fx_res("get", "", "", "nodes", "proxy", "n1"), "",
         "nodes \"n1\" is forbidden: User \"bob\" cannot get resource \"nodes/proxy\" in API group "
         "\"\" at the cluster scope"},
        {"system:serviceaccount:dev:builder", fx_res("create", "", "dev", "pods", "attach", "p"),
         "RBAC: role.rbac.authorization.k8s.io \"exec\" not found",
         "pods \"p\" is forbidden: User \"system:serviceaccount:dev:builder\" cannot create "
         "resource \"pods/attach\" in API group \"\" in the namespace \"dev\": RBAC: "
         "role.rbac.authorization.k8s.io \"exec\" not found"},
        {"", fx_url("get", "/api"), "", "forbidden: User \"\" cannot get path \"/api\""},
        /* the sanitizer HTML-escapes the forbiddenMessage part only */
        {"<b>&", fx_res("get", "", "dev", "pods", "", "<p>"), "a<b",
         "pods \"<p>\" is forbidden: User \"&lt;b&gt;&amp;\" cannot get resource \"pods\" in API "
         "group \"\" in the namespace \"dev\": a<b"},
        /* %q: quotes, backslashes, controls, invalid UTF-8, unprintable, printable non-ASCII */
        {"a\"b\\c\nd\x1b\xff\xc2\xa0é", fx_url("get", "/x y"), "",
         "forbidden: User \"a\\\"b\\\\c\\nd\\x1b\\xff\\u00a0é\" cannot get path \"/x y\""},
        /* marks print (U+034F, U+E0100), tags and private use do not */
        {"a\xcd\x8f\xf3\xa0\x84\x80", fx_url("get", "/\xf3\xa0\x80\x81\xee\x80\x80"), "",
         "forbidden: User \"a\xcd\x8f\xf3\xa0\x84\x80\" cannot get path "
         "\"/\\U000e0001\\ue000\""},
        {"bob", fx_url("get", "/\xe2\x80\x8b\xf0\x9f\x98\x80"), "",
         "forbidden: User \"bob\" cannot get path \"/\\u200b\xf0\x9f\x98\x80\""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct auth_identity id = fx_id(cases[i].user, NULL);
        char buf[AUTHZ_REASON_MAX * 2];
        memset(buf, 'x', sizeof(buf));
        authz_forbidden_message(&id, &cases[i].at, cases[i].reason, buf, sizeof(buf));
        assert_string_equal(buf, cases[i].want);
    }
}

/* Truncated to cap, NUL-terminated, never splitting a UTF-8 character. */
static void test_truncation(void **state)
{
    struct auth_identity id = fx_id("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", NULL);
    struct authz_attrs at = fx_url("get", "/x");
    const char *full =
        "forbidden: User \"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\" cannot get path \"/x\"";
    for (size_t cap = 1; cap <= strlen(full) + 1; cap++) {
        char buf[128];
        memset(buf, 'x', sizeof(buf));
        authz_forbidden_message(&id, &at, "", buf, cap);
        size_t len = strlen(buf);
        assert_true(len < cap);
        assert_memory_equal(buf, full, len);
        assert_int_equal(buf[cap], 'x'); /* nothing written past cap */
        /* never ends inside é: the cut is before its first byte or after its second */
        if (len && (unsigned char)buf[len - 1] == 0xc3)
            fail_msg("cap %zu: ends in the middle of a character", cap);
    }
    authz_forbidden_message(&id, &at, "", NULL, 0); /* cap 0 writes nothing */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_messages),
        cmocka_unit_test(test_truncation),
    };
    return cmocka_run_group_tests(tests, unit_tmpdir_setup, unit_tmpdir_teardown);
}
