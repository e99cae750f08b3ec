/* test_config_load.c - examples/pods.yaml loads with exact values; the default
 * cluster; lookups; sorting and namespace merging. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/config.h"

/* examples/pods.yaml, found from this file's path (CMake compiles absolute paths). */
static void example_path(char *out, size_t cap)
{
    const char *marker = strstr(__FILE__, "tests/unit/");
    assert_non_null(marker);
    snprintf(out, cap, "%.*sexamples/pods.yaml", (int)(marker - __FILE__), __FILE__);
}

static struct config_cluster *load_string(const char *yaml, char *err, size_t err_cap)
{
    char dir[] = "/tmp/test_config_XXXXXX", path[64];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/pods.yaml", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(yaml, f);
    fclose(f);
    struct config_cluster *c = config_cluster_load(path, err, err_cap);
    unlink(path);
    rmdir(dir);
    return c;
}

static void assert_rfc3339(const char *s)
{
    assert_non_null(s);
    assert_int_equal(strlen(s), 20);
    assert_int_equal(s[4], '-');
    assert_int_equal(s[10], 'T');
    assert_int_equal(s[19], 'Z');
}

static void test_example_cluster(void **state)
{
    char path[4096], err[512] = "";
    example_path(path, sizeof(path));
    struct config_cluster *c = config_cluster_load(path, err, sizeof(err));
    if (!c)
        fail_msg("%s", err);
    assert_int_equal(c->namespaces_len, 3);
    assert_string_equal(c->namespaces[0], "default");
    assert_string_equal(c->namespaces[1], "empty");
    assert_string_equal(c->namespaces[2], "team-a");
    assert_rfc3339(c->created);
    assert_int_equal(c->pods_len, 3);
    /* sorted by namespace then name */
    assert_string_equal(c->pods[0].ns, "default");
    assert_string_equal(c->pods[0].name, "local");
    assert_string_equal(c->pods[1].ns, "team-a");
    assert_string_equal(c->pods[1].name, "batch-job");
    assert_string_equal(c->pods[2].name, "web");
    config_cluster_free(c);
}

static void test_example_web_pod(void **state)
{
    char path[4096], err[512] = "";
    example_path(path, sizeof(path));
    struct config_cluster *c = config_cluster_load(path, err, sizeof(err));
    assert_non_null(c);
    const struct config_pod *web = config_pod_find(c, "team-a", "web");
    assert_non_null(web);
    assert_string_equal(web->phase, "Running");
    assert_string_equal(web->default_container, "app");
    assert_int_equal(web->labels_len, 2);
    assert_string_equal(web->labels[0].key, "app");
    assert_string_equal(web->labels[0].value, "web");
    assert_string_equal(web->labels[1].key, "tier");
    assert_string_equal(web->labels[1].value, "frontend");
    assert_int_equal(web->containers_len, 2);
    const struct config_container *app = &web->containers[0];
    assert_string_equal(app->name, "app");
    assert_int_equal(app->command_len, 3);
    assert_string_equal(app->command[0], "/bin/sh");
    assert_string_equal(app->command[1], "-c");
    assert_string_equal(app->command[2], "while sleep 1; do date; done");
    assert_null(app->command[3]);
    assert_string_equal(app->workdir, "/tmp");
    assert_int_equal(app->env_len, 2);
    assert_string_equal(app->env[0].key, "FOO");
    assert_string_equal(app->env[0].value, "bar");
    assert_string_equal(app->env[1].key, "GREETING");
    assert_string_equal(app->env[1].value, "hello world");
    assert_false(app->tty);
    assert_false(app->stdin_open);
    const struct config_container *sh = config_container_find(web, "shell");
    assert_ptr_equal(sh, &web->containers[1]);
    assert_null(sh->command);
    assert_int_equal(sh->command_len, 0);
    assert_null(sh->workdir);
    assert_int_equal(sh->env_len, 0);
    assert_true(sh->tty);
    assert_true(sh->stdin_open);
    config_cluster_free(c);
}

static void test_example_other_pods(void **state)
{
    char path[4096], err[512] = "";
    example_path(path, sizeof(path));
    struct config_cluster *c = config_cluster_load(path, err, sizeof(err));
    assert_non_null(c);
    const struct config_pod *local = config_pod_find(c, "default", "local");
    assert_non_null(local);
    assert_string_equal(local->phase, "Running");
    assert_null(local->default_container);
    assert_int_equal(local->labels_len, 0);
    const struct config_pod *job = config_pod_find(c, "team-a", "batch-job");
    assert_non_null(job);
    assert_string_equal(job->phase, "Succeeded");
    assert_string_equal(job->labels[0].key, "app.kubernetes.io/name");
    assert_string_equal(job->containers[0].command[0], "/bin/cat");
    assert_int_equal(job->containers[0].command_len, 1);
    assert_false(job->containers[0].tty);
    assert_true(job->containers[0].stdin_open);
    assert_string_not_equal(job->uid, local->uid);
    config_cluster_free(c);
}

static void test_default_cluster(void **state)
{
    struct config_cluster *c = config_cluster_default();
    assert_non_null(c);
    assert_int_equal(c->namespaces_len, 1);
    assert_string_equal(c->namespaces[0], "default");
    assert_int_equal(c->pods_len, 1);
    const struct config_pod *p = config_pod_find(c, "default", "local");
    assert_ptr_equal(p, &c->pods[0]);
    assert_string_equal(p->phase, "Running");
    assert_int_equal(strlen(p->uid), 36);
    assert_null(p->default_container);
    assert_int_equal(p->containers_len, 1);
    const struct config_container *s = config_container_find(p, "shell");
    assert_non_null(s);
    assert_null(s->command);
    assert_null(s->workdir);
    assert_true(s->tty);
    assert_true(s->stdin_open);
    assert_rfc3339(c->created);
    config_cluster_free(c);
}

static void test_find_misses(void **state)
{
    struct config_cluster *c = config_cluster_default();
    assert_null(config_pod_find(c, "default", "nope"));
    assert_null(config_pod_find(c, "other", "local"));
    assert_null(config_pod_find(NULL, "default", "local"));
    assert_null(config_container_find(&c->pods[0], "Shell"));
    assert_null(config_container_find(NULL, "shell"));
    assert_true(config_namespace_exists(c, "default"));
    assert_false(config_namespace_exists(c, "kube-system"));
    assert_false(config_namespace_exists(NULL, "default"));
    config_cluster_free(c);
}

/* Many pods in scrambled order: binary search finds every one; namespaces merge. */
static void test_sorted_lookup(void **state)
{
    char *yaml = malloc(64 * 1024);
    size_t off = (size_t)sprintf(yaml, "namespaces: [zz, a, zz]\npods:\n");
    for (int i = 0; i < 200; i++) {
        int k = (i * 37) % 200;
        off += (size_t)sprintf(
            yaml + off, "- {name: p%d, namespace: ns%d, containers: [{name: c}]}\n", k, k % 7);
    }
    char err[512] = "";
    struct config_cluster *c = load_string(yaml, err, sizeof(err));
    free(yaml);
    if (!c)
        fail_msg("%s", err);
    assert_int_equal(c->pods_len, 200);
    for (size_t i = 1; i < c->pods_len; i++) {
        int cmp = strcmp(c->pods[i - 1].ns, c->pods[i].ns);
        assert_true(cmp < 0 || (cmp == 0 && strcmp(c->pods[i - 1].name, c->pods[i].name) < 0));
    }
    for (int k = 0; k < 200; k++) {
        char ns[16], name[16];
        snprintf(ns, sizeof(ns), "ns%d", k % 7);
        snprintf(name, sizeof(name), "p%d", k);
        const struct config_pod *p = config_pod_find(c, ns, name);
        assert_non_null(p);
        assert_string_equal(p->name, name);
    }
    assert_int_equal(c->namespaces_len, 10); /* a, default, ns0..ns6, zz */
    assert_string_equal(c->namespaces[0], "a");
    assert_string_equal(c->namespaces[1], "default");
    assert_string_equal(c->namespaces[9], "zz");
    config_cluster_free(c);
}

static void test_scalars_and_defaults(void **state)
{
    char err[512] = "";
    struct config_cluster *c = load_string("pods:\n"
                                           "- name: a.b-c\n"
                                           "  containers:\n"
                                           "  - name: x\n"
                                           "    command: [sleep, 10]\n"
                                           "    env: [{name: EMPTY}, {name: 'Q', value: \"\"}]\n"
                                           "    tty: True\n"
                                           "---\n",
                                           err, sizeof(err));
    if (!c)
        fail_msg("%s", err);
    const struct config_pod *p = config_pod_find(c, "default", "a.b-c");
    assert_non_null(p);
    const struct config_container *x = &p->containers[0];
    assert_string_equal(x->command[1], "10");
    assert_string_equal(x->env[0].value, "");
    assert_string_equal(x->env[1].key, "Q");
    assert_true(x->tty);
    assert_false(x->stdin_open);
    config_cluster_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_example_cluster),      cmocka_unit_test(test_example_web_pod),
        cmocka_unit_test(test_example_other_pods),   cmocka_unit_test(test_default_cluster),
        cmocka_unit_test(test_find_misses),          cmocka_unit_test(test_sorted_lookup),
        cmocka_unit_test(test_scalars_and_defaults),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
