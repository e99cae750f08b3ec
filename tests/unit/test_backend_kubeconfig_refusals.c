/* test_backend_kubeconfig_refusals.c - every way a kubeconfig (or the
 * in-cluster service account) is refused, each with its exact
 * "kubeconfig FILE: reason" message, and the lenient readings kubectl shares
 * (True/TRUE, an absent user, an exec plugin without apiVersion). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "unit_tmpdir.h"

#include "backend/kube/kubeconfig.h"

#define CTX_A                                                                                      \
    "apiVersion: v1\nkind: Config\ncurrent-context: a\n"                                           \
    "contexts:\n- name: a\n  context: {cluster: c, user: u}\n"
#define CLUSTER(fields) "clusters:\n- name: c\n  cluster: {" fields "}\n"
#define USER(fields) "users:\n- name: u\n  user: {" fields "}\n"
#define OK_CLUSTER CLUSTER("server: 'https://h:6443'")
#define OK_USER USER("token: t")

static char path[UNIT_TMPDIR_PATH_MAX];

/* Loads text as a kubeconfig that must be refused with "kubeconfig PATH: reason". */
static void refused(const char *text, const char *reason)
{
    char err[KUBE_ERR_MAX];
    snprintf(path, sizeof(path), "%s", unit_tmpdir_write("kc", text));
    assert_null(kube_target_load_kubeconfig(path, NULL, err, sizeof(err)));
    char want[KUBE_ERR_MAX + UNIT_TMPDIR_PATH_MAX];
    snprintf(want, sizeof(want), "kubeconfig %s: %s", path, reason);
    assert_string_equal(err, want);
}

static struct kube_target *loaded(const char *text)
{
    char err[KUBE_ERR_MAX] = "";
    snprintf(path, sizeof(path), "%s", unit_tmpdir_write("kc", text));
    struct kube_target *t = kube_target_load_kubeconfig(path, NULL, err, sizeof(err));
    if (!t)
        fail_msg("refused: %s", err);
    return t;
}

static void test_server_url_refusals(void **state)
{
    (void)state;
    refused(CTX_A CLUSTER("server: 'https://[::1:6443'") OK_USER,
            "server \"https://[::1:6443\" is not a valid https://HOST[:PORT] URL");
    refused(CTX_A CLUSTER("server: 'https://h:0'") OK_USER,
            "server \"https://h:0\" is not a valid https://HOST[:PORT] URL");
    refused(CTX_A CLUSTER("server: 'https://h:64x/'") OK_USER,
            "server \"https://h:64x/\" is not a valid https://HOST[:PORT] URL");
    refused(CTX_A CLUSTER("server: 'https://:443'") OK_USER,
            "server \"https://:443\" is not a valid https://HOST[:PORT] URL");
    char host[KUBE_HOST_MAX + 1];
    memset(host, 'h', KUBE_HOST_MAX);
    host[KUBE_HOST_MAX] = '\0';
    char text[4096], reason[1024];
    snprintf(text, sizeof(text), CTX_A CLUSTER("server: 'https://%s'") OK_USER, host);
    snprintf(reason, sizeof(reason), "server \"https://%s\" is not a valid https://HOST[:PORT] URL",
             host);
    refused(text, reason);
    char prefix[KUBE_PREFIX_MAX + 1];
    memset(prefix, 'p', KUBE_PREFIX_MAX);
    prefix[0] = '/';
    prefix[KUBE_PREFIX_MAX] = '\0';
    snprintf(text, sizeof(text), CTX_A CLUSTER("server: 'https://h%s'") OK_USER, prefix);
    snprintf(reason, sizeof(reason),
             "server \"https://h%s\" is not a valid https://HOST[:PORT] URL", prefix);
    refused(text, reason);
}

static void test_server_url_forms(void **state)
{
    (void)state;
    struct kube_target *t = loaded(CTX_A CLUSTER("server: 'https://[fd00::1]/'") OK_USER);
    assert_string_equal(t->host, "fd00::1");
    assert_int_equal(t->port, 443);
    assert_string_equal(t->prefix, "");
    assert_false(t->plain);
    kube_target_free(t);
    char prefix[KUBE_PREFIX_MAX];
    memset(prefix, 'p', KUBE_PREFIX_MAX - 1);
    prefix[0] = '/';
    prefix[KUBE_PREFIX_MAX - 1] = '\0';
    char text[4096];
    snprintf(text, sizeof(text), CTX_A CLUSTER("server: 'https://h:1%s//'") OK_USER, prefix);
    t = loaded(text);
    assert_string_equal(t->prefix, prefix);
    assert_int_equal(t->port, 1);
    kube_target_free(t);
}

static void test_insecure_spellings(void **state)
{
    (void)state;
    const char *yes[] = {"true", "True", "TRUE"}, *no[] = {"false", "yes", "1"};
    char text[1024];
    for (size_t i = 0; i < 3; i++) {
        snprintf(text, sizeof(text),
                 CTX_A CLUSTER("server: 'https://h', insecure-skip-tls-verify: '%s'") OK_USER,
                 yes[i]);
        struct kube_target *t = loaded(text);
        assert_true(t->insecure);
        kube_target_free(t);
        snprintf(text, sizeof(text),
                 CTX_A CLUSTER("server: 'https://h', insecure-skip-tls-verify: '%s'") OK_USER,
                 no[i]);
        t = loaded(text);
        assert_false(t->insecure);
        kube_target_free(t);
    }
}

static void test_base64_refusals(void **state)
{
    (void)state;
    /* not a multiple of 4, "=" inside, three pads, characters outside base64 */
    const char *bad[] = {"aGVsbG8", "aG=sbG8=", "aGV===", "!!!!"};
    char text[1024];
    for (size_t i = 0; i < 4; i++) {
        snprintf(text, sizeof(text),
                 CTX_A CLUSTER("server: 'https://h', certificate-authority-data: '%s'") OK_USER,
                 bad[i]);
        refused(text, "certificate-authority-data is not valid base64");
        snprintf(text, sizeof(text),
                 CTX_A OK_CLUSTER USER("client-certificate-data: '%s', client-key-data: aGk="),
                 bad[i]);
        refused(text, "client-certificate-data is not valid base64");
        snprintf(text, sizeof(text),
                 CTX_A OK_CLUSTER USER("client-certificate-data: aGk=, client-key-data: '%s'"),
                 bad[i]);
        refused(text, "client-key-data is not valid base64");
    }
    struct kube_target *t = loaded(
        CTX_A OK_CLUSTER USER("client-certificate-data: Y2VydA==, client-key-data: a2V5MQ=="));
    assert_int_equal(t->cert_pem_len, 4);
    assert_memory_equal(t->cert_pem, "cert", 5);
    assert_int_equal(t->key_pem_len, 4);
    assert_memory_equal(t->key_pem, "key1", 5);
    kube_target_free(t);
}

static void test_file_refusals(void **state)
{
    (void)state;
    char text[8192], reason[6000];
    snprintf(text, sizeof(text),
             CTX_A OK_CLUSTER USER("client-certificate: cert.pem, client-key: nokey.pem"));
    unit_tmpdir_write("cert.pem", "C");
    snprintf(reason, sizeof(reason),
             "client-key: cannot read %s/nokey.pem: No such file or directory", unit_dir);
    refused(text, reason);
    refused(CTX_A OK_CLUSTER USER("tokenFile: /nonexistent/tok"),
            "tokenFile: cannot read /nonexistent/tok: No such file or directory");
    /* A path that does not fit is never cut to another file: it reads as "" */
    char longname[4200];
    memset(longname, 'x', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    snprintf(text, sizeof(text),
             CTX_A CLUSTER("server: 'https://h', certificate-authority: '%s'") OK_USER, longname);
    refused(text, "certificate-authority: cannot read : No such file or directory");
}

static void test_user_refusals(void **state)
{
    (void)state;
    refused(CTX_A OK_CLUSTER USER("password: p"),
            "basic auth (username/password) is not supported (removed from Kubernetes in 1.19)");
    refused(CTX_A OK_CLUSTER USER("client-key-data: aGk="),
            "client-certificate and client-key must be given together");
}

static void test_context_refusals(void **state)
{
    (void)state;
    refused("current-context: ''\n" OK_CLUSTER OK_USER, "no current-context: pass --context NAME");
    refused("current-context: a\ncontexts: {a: b}\n" OK_CLUSTER OK_USER, "context \"a\" not found");
    refused("current-context: a\ncontexts:\n- context: {cluster: c}\n" OK_CLUSTER OK_USER,
            "context \"a\" not found");
    refused("current-context: a\ncontexts:\n- name: a\n  context: {user: u}\n" OK_CLUSTER OK_USER,
            "cluster \"\" not found");
    /* a context without a user: no credentials, as kubectl */
    struct kube_target *t =
        loaded("current-context: a\ncontexts:\n- name: a\n  context: {cluster: c}\n" OK_CLUSTER);
    assert_null(t->token);
    assert_null(t->exec);
    char want[UNIT_TMPDIR_PATH_MAX + 64];
    snprintf(want, sizeof(want), "kubeconfig %s, context a", path);
    assert_string_equal(t->source, want);
    kube_target_free(t);
}

#define EXEC_USER(fields) "users:\n- name: u\n  user:\n    exec: {command: p" fields "}\n"

static void test_exec_refusals(void **state)
{
    (void)state;
    char text[16384];
    int n = snprintf(text, sizeof(text),
                     CTX_A OK_CLUSTER "users:\n- name: u\n  user:\n    exec: {command: p, env: [");
    for (int i = 0; i <= KUBE_EXEC_ENV_MAX; i++)
        n += snprintf(text + n, sizeof(text) - (size_t)n, "%s{name: N%d, value: v}", i ? "," : "",
                      i);
    snprintf(text + n, sizeof(text) - (size_t)n, "]}\n");
    refused(text, "exec plugin: more than 64 env entries");
    refused(CTX_A OK_CLUSTER EXEC_USER(", env: [{value: v}]"),
            "exec plugin: env entries need name and value");
    /* no apiVersion, args and env that are not lists, an arg that is not a
     * scalar: read as kubectl would, leniently */
    struct kube_target *t = loaded(CTX_A OK_CLUSTER EXEC_USER(", args: {a: b}, env: {N: v}"));
    assert_non_null(t->exec);
    assert_null(t->exec->api_version);
    assert_int_equal(t->exec->args_len, 0);
    assert_int_equal(t->exec->env_len, 0);
    kube_target_free(t);
    t = loaded(CTX_A OK_CLUSTER EXEC_USER(", apiVersion: client.authentication.k8s.io/v1beta1, "
                                          "args: [{x: y}, z]"));
    assert_string_equal(t->exec->api_version, "client.authentication.k8s.io/v1beta1");
    assert_int_equal(t->exec->args_len, 2);
    assert_string_equal(t->exec->args[0], "");
    assert_string_equal(t->exec->args[1], "z");
    kube_target_free(t);
}

/* No path: $KUBECONFIG's first entry, else $HOME/.kube/config. */
static void test_default_path(void **state)
{
    (void)state;
    char err[KUBE_ERR_MAX], want[KUBE_ERR_MAX];
    char *old_home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
    char *old_kc = getenv("KUBECONFIG") ? strdup(getenv("KUBECONFIG")) : NULL;
    unsetenv("KUBECONFIG");
    setenv("HOME", "/nonexistent-home", 1);
    assert_null(kube_target_load_kubeconfig(NULL, NULL, err, sizeof(err)));
    assert_string_equal(err, "kubeconfig /nonexistent-home/.kube/config: cannot read: No such file "
                             "or directory");
    unsetenv("HOME");
    assert_null(kube_target_load_kubeconfig(NULL, NULL, err, sizeof(err)));
    assert_string_equal(err, "kubeconfig /.kube/config: cannot read: No such file or directory");
    setenv("KUBECONFIG", "", 1);
    assert_null(kube_target_load_kubeconfig(NULL, NULL, err, sizeof(err)));
    assert_string_equal(err, "kubeconfig /.kube/config: cannot read: No such file or directory");
    /* a file name without a directory is read from the working directory */
    char cwd[UNIT_TMPDIR_PATH_MAX];
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    assert_int_equal(chdir(unit_dir), 0);
    unit_tmpdir_write("plain", "current-context: a\n");
    setenv("KUBECONFIG", "plain:other", 1);
    assert_null(kube_target_load_kubeconfig(NULL, NULL, err, sizeof(err)));
    snprintf(want, sizeof(want), "kubeconfig plain: context \"a\" not found");
    assert_string_equal(err, want);
    assert_int_equal(chdir(cwd), 0);
    if (old_home)
        setenv("HOME", old_home, 1);
    if (old_kc)
        setenv("KUBECONFIG", old_kc, 1);
    else
        unsetenv("KUBECONFIG");
    free(old_home);
    free(old_kc);
}

static void test_in_cluster_refusals(void **state)
{
    (void)state;
    char err[KUBE_ERR_MAX], dir[UNIT_TMPDIR_PATH_MAX], want[KUBE_ERR_MAX * 2];
    snprintf(dir, sizeof(dir), "%s/sa", unit_dir);
    assert_int_equal(mkdir(dir, 0700), 0);
    unit_tmpdir_write("sa/ca.crt", "CA");
    setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
    setenv("KUBERNETES_SERVICE_PORT", "6443", 1);
    /* no token file yet */
    assert_null(kube_target_load_in_cluster(dir, err, sizeof(err)));
    snprintf(want, sizeof(want), "--in-cluster: cannot read %s/token: No such file or directory",
             dir);
    assert_string_equal(err, want);
    unit_tmpdir_write("sa/token", "t");
    struct kube_target *t = kube_target_load_in_cluster(dir, err, sizeof(err));
    assert_non_null(t);
    assert_string_equal(t->host, "fd00::1");
    assert_int_equal(t->port, 6443);
    assert_string_equal(t->source, "in-cluster service account");
    kube_target_free(t);
    setenv("KUBERNETES_SERVICE_PORT", "http", 1);
    assert_null(kube_target_load_in_cluster(dir, err, sizeof(err)));
    assert_string_equal(err,
                        "server \"https://[fd00::1]:http\" is not a valid https://HOST[:PORT] URL");
    setenv("KUBERNETES_SERVICE_PORT", "", 1);
    assert_null(kube_target_load_in_cluster(dir, err, sizeof(err)));
    assert_string_equal(err,
                        "--in-cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are "
                        "not set (not running in a pod?)");
    unsetenv("KUBERNETES_SERVICE_PORT");
    assert_null(kube_target_load_in_cluster(dir, err, sizeof(err)));
    /* the default directory: not inside a pod here */
    setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1", 1);
    setenv("KUBERNETES_SERVICE_PORT", "443", 1);
    if (access(KUBE_SA_DIR "/ca.crt", F_OK) != 0) {
        assert_null(kube_target_load_in_cluster(NULL, err, sizeof(err)));
        assert_string_equal(err, "--in-cluster: cannot read " KUBE_SA_DIR
                                 "/ca.crt: No such file or directory");
    }
    unsetenv("KUBERNETES_SERVICE_HOST");
    unsetenv("KUBERNETES_SERVICE_PORT");
    kube_target_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_server_url_refusals), cmocka_unit_test(test_server_url_forms),
        cmocka_unit_test(test_insecure_spellings),  cmocka_unit_test(test_base64_refusals),
        cmocka_unit_test(test_file_refusals),       cmocka_unit_test(test_user_refusals),
        cmocka_unit_test(test_context_refusals),    cmocka_unit_test(test_exec_refusals),
        cmocka_unit_test(test_default_path),        cmocka_unit_test(test_in_cluster_refusals),
    };
    return cmocka_run_group_tests(tests, unit_tmpdir_setup, unit_tmpdir_teardown);
}
