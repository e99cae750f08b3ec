/* test_backend_kubeconfig.c - kubeconfig and in-cluster loading, exec credentials. */
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

#include "backend/kube/credentials.h"
#include "backend/kube/kubeconfig.h"

#define KC_HEAD                                                                                    \
    "apiVersion: v1\nkind: Config\ncurrent-context: a\n"                                           \
    "contexts:\n- name: a\n  context: {cluster: c, user: u}\n"                                     \
    "- name: b\n  context: {cluster: c2, user: u2}\n"

static void test_token_and_ca_data(void **state)
{
    char err[KUBE_ERR_MAX];
    const char *p = unit_tmpdir_write(
        "kc1", KC_HEAD "clusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:6443/\n"
                       "    certificate-authority-data: aGVsbG8=\n"
                       "    tls-server-name: kubernetes\n"
                       "users:\n- name: u\n  user: {token: s3cret}\n");
    struct kube_target *t = kube_target_load_kubeconfig(p, NULL, err, sizeof(err));
    assert_non_null(t);
    assert_string_equal(t->host, "127.0.0.1");
    assert_int_equal(t->port, 6443);
    assert_string_equal(t->prefix, "");
    assert_int_equal(t->ca_pem_len, 5);
    assert_memory_equal(t->ca_pem, "hello", 5);
    assert_string_equal(t->token, "s3cret");
    assert_string_equal(t->tls_server_name, "kubernetes");
    assert_false(t->insecure);
    kube_target_free(t);
}

static void test_context_choice_and_relative_files(void **state)
{
    char err[KUBE_ERR_MAX];
    unit_tmpdir_write("ca.pem", "CA");
    unit_tmpdir_write("tok", "abc\n");
    const char *p = unit_tmpdir_write(
        "kc2", KC_HEAD "clusters:\n- name: c2\n  cluster:\n    server: https://[::1]:7443/x\n"
                       "    certificate-authority: ca.pem\n"
                       "users:\n- name: u2\n  user: {tokenFile: tok}\n");
    struct kube_target *t = kube_target_load_kubeconfig(p, "b", err, sizeof(err));
    assert_non_null(t);
    assert_string_equal(t->host, "::1");
    assert_int_equal(t->port, 7443);
    assert_string_equal(t->prefix, "/x");
    assert_memory_equal(t->ca_pem, "CA", 2);
    assert_non_null(strstr(t->token_file, "/tok"));
    kube_target_free(t);
}

static void test_errors_are_precise(void **state)
{
    char err[KUBE_ERR_MAX];
    const char *p = unit_tmpdir_write("kc3", KC_HEAD
                                      "clusters:\n- name: c\n  cluster:\n    server: https://h:1\n"
                                      "    proxy-url: http://proxy:3128\n"
                                      "users:\n- name: u\n  user: {token: x}\n");
    assert_null(kube_target_load_kubeconfig(p, NULL, err, sizeof(err)));
    assert_non_null(strstr(err, "proxy-url is not supported"));
    assert_null(kube_target_load_kubeconfig(p, "nope", err, sizeof(err)));
    assert_non_null(strstr(err, "context \"nope\" not found"));
    p = unit_tmpdir_write("kc4", KC_HEAD "clusters:\n- name: c\n  cluster: {server: 'ftp://h:1'}\n"
                                         "users:\n- name: u\n  user: {token: x}\n");
    assert_null(kube_target_load_kubeconfig(p, NULL, err, sizeof(err)));
    assert_non_null(strstr(err, "must start with https:// (or http://)"));
    /* kubectl proxy's plain http:// is accepted, port 80 by default */
    p = unit_tmpdir_write("kc6",
                          KC_HEAD "clusters:\n- name: c\n  cluster: {server: 'http://h/p/'}\n"
                                  "users:\n- name: u\n  user: {token: x}\n");
    struct kube_target *t = kube_target_load_kubeconfig(p, NULL, err, sizeof(err));
    assert_non_null(t);
    assert_true(t->plain);
    assert_string_equal(t->host, "h");
    assert_int_equal(t->port, 80);
    assert_string_equal(t->prefix, "/p");
    kube_target_free(t);
    p = unit_tmpdir_write("kc5", KC_HEAD "clusters:\n- name: c\n  cluster:\n    server: https://h\n"
                                         "    certificate-authority: /nonexistent/ca\n"
                                         "users:\n- name: u\n  user: {token: x}\n");
    assert_null(kube_target_load_kubeconfig(p, NULL, err, sizeof(err)));
    assert_non_null(strstr(err, "/nonexistent/ca"));
    p = unit_tmpdir_write("kc7",
                          KC_HEAD "clusters:\n- name: c\n  cluster: {server: 'https://h'}\n");
    assert_null(kube_target_load_kubeconfig(p, NULL, err, sizeof(err)));
    assert_non_null(strstr(err, "user \"u\" not found"));
}

static void test_exec_plugin_spec(void **state)
{
    char err[KUBE_ERR_MAX];
    const char *p = unit_tmpdir_write("kc6", KC_HEAD
                                      "clusters:\n- name: c\n  cluster: {server: 'https://h:443'}\n"
                                      "users:\n- name: u\n  user:\n    exec:\n"
                                      "      apiVersion: client.authentication.k8s.io/v1\n"
                                      "      command: ./plugin.sh\n      args: [one, two]\n"
                                      "      env: [{name: A, value: b}]\n");
    struct kube_target *t = kube_target_load_kubeconfig(p, NULL, err, sizeof(err));
    assert_non_null(t);
    assert_non_null(t->exec);
    assert_string_equal(t->exec->command, "./plugin.sh");
    assert_int_equal(t->exec->args_len, 2);
    assert_string_equal(t->exec->args[1], "two");
    assert_string_equal(t->exec->env[0].name, "A");
    assert_int_equal(t->port, 443);
    kube_target_free(t);
}

static void test_in_cluster(void **state)
{
    char err[KUBE_ERR_MAX];
    unit_tmpdir_write("ca.crt", "CA");
    unit_tmpdir_write("token", "tok");
    unsetenv("KUBERNETES_SERVICE_HOST");
    assert_null(kube_target_load_in_cluster(unit_dir, err, sizeof(err)));
    assert_non_null(strstr(err, "KUBERNETES_SERVICE_HOST"));
    setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1", 1);
    setenv("KUBERNETES_SERVICE_PORT", "443", 1);
    struct kube_target *t = kube_target_load_in_cluster(unit_dir, err, sizeof(err));
    assert_non_null(t);
    assert_string_equal(t->host, "10.0.0.1");
    assert_non_null(strstr(t->token_file, "/token"));
    kube_target_free(t);
}

static void test_exec_credential_parse(void **state)
{
    char token[64], err[256];
    time_t exp;
    const char *ok = "{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":"
                     "\"ExecCredential\",\"status\":{\"token\":\"t1\","
                     "\"expirationTimestamp\":\"2030-01-02T03:04:05Z\"}}";
    assert_int_equal(
        kube_exec_credential_parse(ok, strlen(ok), token, sizeof(token), &exp, err, sizeof(err)),
        0);
    assert_string_equal(token, "t1");
    assert_int_equal(exp, 1893553445);
    const char *bad = "{\"kind\":\"ExecCredential\",\"status\":{}}";
    assert_int_equal(
        kube_exec_credential_parse(bad, strlen(bad), token, sizeof(token), &exp, err, sizeof(err)),
        -1);
    assert_non_null(strstr(err, "status.token"));
    /* issue 18 finding 4: the token is visible ASCII, and the error never shows it */
    const char *smuggle = "{\"kind\":\"ExecCredential\",\"status\":{\"token\":"
                          "\"sec\\r\\nImpersonate-User: admin\"}}";
    assert_int_equal(kube_exec_credential_parse(smuggle, strlen(smuggle), token, sizeof(token),
                                                &exp, err, sizeof(err)),
                     -1);
    assert_string_equal(err, "the exec plugin's token has a character other than visible ASCII "
                             "(0x21-0x7E)");
    const char *space = "{\"kind\":\"ExecCredential\",\"status\":{\"token\":\"a b\"}}";
    assert_int_equal(kube_exec_credential_parse(space, strlen(space), token, sizeof(token), &exp,
                                                err, sizeof(err)),
                     -1);
}

/* A kubeconfig token with a control character refuses to load; the token file
 * is checked on every read (rotation included) by kube_creds_get. */
static void test_bad_tokens_refused(void **state)
{
    char err[KUBE_ERR_MAX];
    const char *p = unit_tmpdir_write("kc-badtok", KC_HEAD
                                      "clusters:\n- name: c\n  cluster: {server: 'https://h'}\n"
                                      "users:\n- name: u\n  user: {token: \"sec\\rX-A: 1\"}\n");
    assert_null(kube_target_load_kubeconfig(p, NULL, err, sizeof(err)));
    assert_non_null(strstr(err, "token: a bearer token is visible ASCII (0x21-0x7E) only"));
    assert_null(strstr(err, "sec"));

    const char *tf = unit_tmpdir_write("tok", "good-token\n");
    char tfpath[512];
    snprintf(tfpath, sizeof(tfpath), "%s", tf);
    char text[1024];
    snprintf(text, sizeof(text),
             KC_HEAD "clusters:\n- name: c\n  cluster: {server: 'https://h'}\n"
                     "users:\n- name: u\n  user: {tokenFile: '%s'}\n",
             tfpath);
    p = unit_tmpdir_write("kc-tokfile", text);
    struct kube_target *t = kube_target_load_kubeconfig(p, NULL, err, sizeof(err));
    assert_non_null(t);
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct kube_creds *c = kube_creds_new(&loop, t);
    struct kube_creds_req req = {0};
    char out[KUBE_TOKEN_MAX + 1];
    assert_int_equal(kube_creds_get(c, &req, out, sizeof(out)), 0);
    assert_string_equal(out, "good-token");
    /* a rotation (new inode) brings a token with CR LF */
    char tmp[600];
    snprintf(tmp, sizeof(tmp), "%s.new", tfpath);
    FILE *f = fopen(tmp, "w");
    assert_non_null(f);
    fputs("bad-secret\r\nX-A: 1\n", f);
    fclose(f);
    assert_int_equal(rename(tmp, tfpath), 0);
    assert_int_equal(kube_creds_get(c, &req, out, sizeof(out)), -1);
    assert_non_null(strstr(out, "a bearer token is visible ASCII (0x21-0x7E) only"));
    assert_null(strstr(out, "bad-secret"));
    kube_creds_free(c);
    kube_target_free(t);
    uv_loop_close(&loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_token_and_ca_data),
        cmocka_unit_test(test_context_choice_and_relative_files),
        cmocka_unit_test(test_errors_are_precise),
        cmocka_unit_test(test_exec_plugin_spec),
        cmocka_unit_test(test_in_cluster),
        cmocka_unit_test(test_exec_credential_parse),
        cmocka_unit_test(test_bad_tokens_refused),
    };
    return cmocka_run_group_tests(tests, unit_tmpdir_setup, unit_tmpdir_teardown);
}
