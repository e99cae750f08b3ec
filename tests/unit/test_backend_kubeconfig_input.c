/* test_backend_kubeconfig_input.c - kubeconfig bytes the loader must refuse
 * cleanly (found by fuzz_kubeconfig): padding-only base64 data, a syntax
 * error whose line holds a secret, bytes that are not UTF-8. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "unit_tmpdir.h"

#include "backend/kube/kubeconfig.h"

#define KC_HEAD                                                                                    \
    "apiVersion: v1\nkind: Config\ncurrent-context: a\n"                                           \
    "contexts:\n- name: a\n  context: {cluster: c, user: u}\n"                                     \
    "users:\n- name: u\n  user: {token: abc}\n"                                                    \
    "clusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:6443\n"

/* "====" decodes to no bytes: the padding count must not take the length below 0. */
static void test_padding_only_data(void **state)
{
    char err[KUBE_ERR_MAX];
    const char *p = unit_tmpdir_write("pad", KC_HEAD "    certificate-authority-data: \"====\"\n");
    struct kube_target *t = kube_target_load_kubeconfig(p, NULL, err, sizeof(err));
    assert_null(t);
    assert_non_null(strstr(err, "certificate-authority-data is not valid base64"));
}

/* libfyaml prints a syntax error's line to stderr unless told not to; the
 * line may hold a token or key data. */
static void test_syntax_error_prints_nothing(void **state)
{
    char err[KUBE_ERR_MAX];
    const char *p = unit_tmpdir_write("syntax", "apiVersion: v1\nusers:\n- name: u\n  user:\n"
                                                "    token: s3cr3t-t0ken: [\n");
    char out[512];
    snprintf(out, sizeof(out), "%s/stderr", unit_dir);
    fflush(stderr);
    int saved = dup(2);
    FILE *f = fopen(out, "w");
    assert_non_null(f);
    dup2(fileno(f), 2);
    struct kube_target *t = kube_target_load_kubeconfig(p, NULL, err, sizeof(err));
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    fclose(f);
    assert_null(t);
    f = fopen(out, "r");
    char buf[256] = "";
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    assert_int_equal(n, 0);
    assert_null(strstr(err, "s3cr3t"));
}

/* Not UTF-8: refused with a message, and quickly (libfyaml 0.8 loops forever
 * on a '%' directive followed by a stray continuation byte). */
static void test_not_utf8(void **state)
{
    char err[KUBE_ERR_MAX];
    const char *p = unit_tmpdir_write("latin1", "%\x8a\n" KC_HEAD);
    alarm(20);
    struct kube_target *t = kube_target_load_kubeconfig(p, NULL, err, sizeof(err));
    alarm(0);
    assert_null(t);
    assert_non_null(strstr(err, "not UTF-8"));
    p = unit_tmpdir_write("nul", KC_HEAD);
    FILE *f = fopen(p, "a");
    static const char text[] = "users:\n  ? n:\t\0\0\0 [";
    fwrite(text, 1, sizeof(text) - 1, f);
    fclose(f);
    assert_null(kube_target_load_kubeconfig(p, NULL, err, sizeof(err)));
    assert_non_null(strstr(err, "NUL byte"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_padding_only_data),
        cmocka_unit_test(test_syntax_error_prints_nothing),
        cmocka_unit_test(test_not_utf8),
    };
    return cmocka_run_group_tests(tests, unit_tmpdir_setup, unit_tmpdir_teardown);
}
