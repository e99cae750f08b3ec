/* test_backend_kubeconfig_oom.c - loading a kubeconfig (and the in-cluster
 * account) out of memory: every refused allocation ends in NULL and
 * "kubeconfig FILE: out of memory", never in a target that silently lacks
 * its token, token file, exec args or plugin directory; the clean run loads
 * every field. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "unit_oom.h"
#include "unit_tmpdir.h"

#include "backend/kube/kubeconfig.h"

struct load_case {
    char path[UNIT_TMPDIR_PATH_MAX];
    char dir[UNIT_TMPDIR_PATH_MAX];
    long runs_failed;
};

static void load_step(void *ctx)
{
    struct load_case *lc = ctx;
    char err[KUBE_ERR_MAX] = "";
    struct kube_target *t = kube_target_load_kubeconfig(lc->path, NULL, err, sizeof(err));
    if (unit_oom_hit()) {
        lc->runs_failed++;
        char want[KUBE_ERR_MAX + UNIT_TMPDIR_PATH_MAX];
        snprintf(want, sizeof(want), "kubeconfig %s: out of memory", lc->path);
        if (t) /* say which field came out wrong before failing */
            fail_msg("loaded out of memory: token %s, file %s, args %zu, dir %s, source %s",
                     t->token ? t->token : "-", t->token_file ? t->token_file : "-",
                     t->exec ? t->exec->args_len : 0, t->exec && t->exec->dir ? "set" : "-",
                     t->source ? t->source : "-");
        /* a file read reports its errno; everything else says it plainly */
        if (strcmp(err, want) != 0 && !strstr(err, ": Cannot allocate memory"))
            fail_msg("out of memory reported as: %s", err);
        return;
    }
    assert_non_null(t);
    assert_string_equal(t->host, "127.0.0.1");
    assert_int_equal(t->port, 6443);
    assert_int_equal(t->ca_pem_len, 5);
    assert_memory_equal(t->ca_pem, "hello", 5);
    assert_memory_equal(t->cert_pem, "CERT", 4);
    assert_memory_equal(t->key_pem, "KEY", 3);
    assert_string_equal(t->tls_server_name, "kubernetes");
    assert_true(t->insecure);
    assert_string_equal(t->token, "s3cret");
    char tf[UNIT_TMPDIR_PATH_MAX + 8];
    snprintf(tf, sizeof(tf), "%s/tok", lc->dir);
    assert_string_equal(t->token_file, tf);
    assert_non_null(t->exec);
    assert_string_equal(t->exec->command, "plugin");
    assert_int_equal(t->exec->args_len, 2);
    assert_string_equal(t->exec->args[0], "one");
    assert_string_equal(t->exec->args[1], "two");
    assert_int_equal(t->exec->env_len, 1);
    assert_string_equal(t->exec->env[0].name, "A");
    assert_string_equal(t->exec->env[0].value, "b");
    assert_string_equal(t->exec->api_version, "client.authentication.k8s.io/v1");
    assert_string_equal(t->exec->dir, lc->dir);
    char src[UNIT_TMPDIR_PATH_MAX + 32];
    snprintf(src, sizeof(src), "kubeconfig %s, context a", lc->path);
    assert_string_equal(t->source, src);
    kube_target_free(t);
}

static void test_load_out_of_memory(void **state)
{
    (void)state;
    struct load_case lc = {0};
    snprintf(lc.dir, sizeof(lc.dir), "%s", unit_dir);
    unit_tmpdir_write("tok", "t");
    unit_tmpdir_write("cert.pem", "CERT");
    unit_tmpdir_write("key.pem", "KEY");
    const char *p = unit_tmpdir_write(
        "kc", "apiVersion: v1\nkind: Config\ncurrent-context: a\n"
              "contexts:\n- name: a\n  context: {cluster: c, user: u}\n"
              "clusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:6443/\n"
              "    certificate-authority-data: aGVsbG8=\n"
              "    tls-server-name: kubernetes\n    insecure-skip-tls-verify: true\n"
              "users:\n- name: u\n  user:\n    token: s3cret\n    tokenFile: tok\n"
              "    client-certificate: cert.pem\n    client-key: key.pem\n"
              "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n"
              "      command: plugin\n      args: [one, two]\n"
              "      env: [{name: A, value: b}]\n");
    snprintf(lc.path, sizeof(lc.path), "%s", p);
    long allocations = unit_oom_sweep(load_step, &lc);
    assert_true(allocations >= 20);
    assert_int_equal(lc.runs_failed, allocations);
}

struct cluster_case {
    char dir[UNIT_TMPDIR_PATH_MAX];
};

static void in_cluster_step(void *ctx)
{
    struct cluster_case *cc = ctx;
    char err[KUBE_ERR_MAX] = "";
    struct kube_target *t = kube_target_load_in_cluster(cc->dir, err, sizeof(err));
    if (unit_oom_hit()) {
        if (t)
            fail_msg("loaded out of memory: source %s, token file %s", t->source ? t->source : "-",
                     t->token_file ? t->token_file : "-");
        if (strcmp(err, "--in-cluster: out of memory") != 0 &&
            !strstr(err, ": Cannot allocate memory"))
            fail_msg("out of memory reported as: %s", err);
        return;
    }
    assert_non_null(t);
    assert_string_equal(t->source, "in-cluster service account");
    char tf[UNIT_TMPDIR_PATH_MAX + 8];
    snprintf(tf, sizeof(tf), "%s/token", cc->dir);
    assert_string_equal(t->token_file, tf);
    assert_memory_equal(t->ca_pem, "CA", 2);
    kube_target_free(t);
}

static void test_in_cluster_out_of_memory(void **state)
{
    (void)state;
    struct cluster_case cc;
    snprintf(cc.dir, sizeof(cc.dir), "%s/sa", unit_dir);
    assert_int_equal(mkdir(cc.dir, 0700), 0);
    unit_tmpdir_write("sa/ca.crt", "CA");
    unit_tmpdir_write("sa/token", "t");
    setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1", 1);
    setenv("KUBERNETES_SERVICE_PORT", "443", 1);
    assert_true(unit_oom_sweep(in_cluster_step, &cc) >= 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_out_of_memory),
        cmocka_unit_test(test_in_cluster_out_of_memory),
    };
    return cmocka_run_group_tests(tests, unit_tmpdir_setup, unit_tmpdir_teardown);
}
