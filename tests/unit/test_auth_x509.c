/* test_auth_x509.c - a client certificate's subject as a user, as
 * kube-apiserver's x509 authenticator reads it: CN the user (the last CN
 * when there are several), each O a group in order, no uid; subjects that
 * name nobody (no CN, a control character in a name, too many
 * Organizations) are refused whole. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/x509.h>

#include "auth/auth_x509.h"
#include "unit_identity.h"

/* A certificate with these subject attributes ("CN"/"O", value) in order. */
static X509 *cert_with(const char *const (*attrs)[2], size_t n)
{
    X509 *x = X509_new();
    X509_NAME *name = X509_NAME_new();
    for (size_t i = 0; i < n; i++)
        assert_int_equal(X509_NAME_add_entry_by_txt(name, attrs[i][0], MBSTRING_UTF8,
                                                    (const unsigned char *)attrs[i][1], -1, -1, 0),
                         1);
    assert_int_equal(X509_set_subject_name(x, name), 1);
    X509_NAME_free(name);
    return x;
}

static void test_cn_and_organizations(void **state)
{
    static const char *const a[][2] = {
        {"O", "devs"}, {"CN", "alice"}, {"O", "ops"}, {"OU", "ignored"}};
    X509 *x = cert_with(a, 4);
    struct auth_identity id;
    assert_int_equal(held_x509_identity(x, &id), AUTH_OK);
    assert_string_equal(id.user, "alice");
    assert_string_equal(id.uid, "");
    assert_int_equal(id.groups_len, 2);
    assert_string_equal(id.groups[0], "devs");
    assert_string_equal(id.groups[1], "ops");
    X509_free(x);
}

static void test_last_cn_wins_and_utf8_is_kept(void **state)
{
    static const char *const a[][2] = {{"CN", "first"}, {"CN", "j\xc3\xb6rg"}};
    X509 *x = cert_with(a, 2);
    struct auth_identity id;
    assert_int_equal(held_x509_identity(x, &id), AUTH_OK);
    assert_string_equal(id.user, "j\xc3\xb6rg");
    assert_int_equal(id.groups_len, 0);
    X509_free(x);
}

static void test_subjects_that_name_nobody(void **state)
{
    static const char *const no_cn[][2] = {{"O", "system:masters"}};
    static const char *const ctl_cn[][2] = {{"CN", "eve\nadmin"}};
    static const char *const ctl_o[][2] = {{"CN", "eve"}, {"O", "a\x01"}};
    const struct {
        const char *const (*a)[2];
        size_t n;
    } cases[] = {{no_cn, 1}, {ctl_cn, 1}, {ctl_o, 2}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        X509 *x = cert_with(cases[i].a, cases[i].n);
        struct auth_identity id;
        memset(&id, 'x', sizeof(id));
        assert_int_equal(held_x509_identity(x, &id), AUTH_ERR_INVALID);
        assert_string_equal(id.user, ""); /* nothing half-filled */
        assert_int_equal(id.groups_len, 0);
        X509_free(x);
    }
    struct auth_identity id;
    assert_int_equal(held_x509_identity(NULL, &id), AUTH_ERR_INVALID);
}

static void test_organizations_bounded(void **state)
{
    /* AUTH_GROUPS_MAX - 1 fit (one is left for system:authenticated); one more does not. */
    static char names[AUTH_GROUPS_MAX + 1][16];
    static const char *a[AUTH_GROUPS_MAX + 1][2];
    a[0][0] = "CN";
    a[0][1] = "many";
    for (size_t i = 1; i <= AUTH_GROUPS_MAX; i++) {
        snprintf(names[i], sizeof(names[i]), "g%zu", i);
        a[i][0] = "O";
        a[i][1] = names[i];
    }
    struct auth_identity id;
    X509 *x = cert_with((const char *const(*)[2])a, AUTH_GROUPS_MAX);
    assert_int_equal(held_x509_identity(x, &id), AUTH_OK);
    assert_int_equal(id.groups_len, AUTH_GROUPS_MAX - 1);
    assert_string_equal(id.groups[AUTH_GROUPS_MAX - 2], "g31");
    X509_free(x);
    x = cert_with((const char *const(*)[2])a, AUTH_GROUPS_MAX + 1);
    assert_int_equal(held_x509_identity(x, &id), AUTH_ERR_INVALID);
    X509_free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cn_and_organizations),
        cmocka_unit_test(test_last_cn_wins_and_utf8_is_kept),
        cmocka_unit_test(test_subjects_that_name_nobody),
        cmocka_unit_test(test_organizations_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
