/* test_config_errors.c - every refused config gives "FILE:LINE: problem" with
 * the right line, and nothing leaks (ASan) on any error path. */
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

struct bad_case {
    const char *yaml;
    const char *want; /* the message after "<path>:" */
};

#define POD_HEAD "pods:\n- name: p\n  containers:\n"

static const struct bad_case bad_cases[] = {
    {"pods:\n- name: p\n  containers:\n  - name: ok\n  - name: Bad_Name\n",
     "5: container name \"Bad_Name\" is not a DNS-1123 label"},
    {"pods:\n- name: p\n  comand: [x]\n  containers: [{name: c}]\n",
     "3: unknown key \"comand\" in pod (expected name, namespace, labels, annotations, phase, "
     "containers)"},
    {POD_HEAD "  - name: c\n    args: [x]\n",
     "5: unknown key \"args\" in container (expected name, command, workingDir, env, tty, stdin)"},
    {"pod:\n- name: p\n",
     "1: unknown key \"pod\" in the top level (expected flags, namespaces, pods)"},
    {POD_HEAD "  - name: c\n  - name: d\n  - name: c\n",
     "6: container name \"c\" appears twice in the pod (line 4)"},
    {"pods:\n- {name: p, containers: [{name: c}]}\n- name: q\n  containers: [{name: c}]\n"
     "- {name: p, namespace: default, containers: [{name: c}]}\n",
     "5: pod \"default/p\" is already defined at line 2"},
    {"pods:\n- name: p\n  containers: []\n", "3: containers is empty (a pod needs at least one)"},
    {"pods:\n- name: p\n", "2: pod \"p\" has no containers"},
    {"pods:\n- namespace: x\n  containers: [{name: c}]\n", "2: pod has no name"},
    {POD_HEAD "  - command: [x]\n", "4: container has no name"},
    {POD_HEAD "  - name: c\n    tty: yes\n", "5: tty must be true or false"},
    {POD_HEAD "  - name: c\n    stdin: \"true\"\n", "5: stdin must be true or false"},
    {POD_HEAD "  - name: c\n    command: /bin/sh\n", "5: command must be a list"},
    {POD_HEAD "  - name: c\n    command: []\n", "5: command is empty (leave it out for /bin/sh)"},
    {POD_HEAD "  - name: c\n    command: [a, [b]]\n", "5: command element must be a string"},
    {POD_HEAD "  - name: c\n    workingDir:\n", "5: workingDir has no value"},
    {POD_HEAD "  - name: c\n    workingDir: \"a\\0b\"\n", "5: workingDir contains a NUL byte"},
    {POD_HEAD "  - name: c\n    env: {FOO: bar}\n", "5: env must be a list"},
    {POD_HEAD "  - name: c\n    env:\n    - value: x\n", "6: env entry has no name"},
    {POD_HEAD "  - name: c\n    env:\n    - {name: A=B}\n",
     "6: env name \"A=B\" must be printable ASCII without '='"},
    {POD_HEAD "  - name: c\n    env:\n    - {name: A}\n    - {name: A, value: x}\n",
     "7: env name \"A\" appears twice"},
    {POD_HEAD "  - name: c\n    env:\n    - {name: A, valueFrom: {}}\n",
     "6: unknown key \"valueFrom\" in env entry (expected name, value)"},
    {"pods:\n- name: UPPER\n  containers: [{name: c}]\n",
     "2: pod name \"UPPER\" is not a DNS-1123 subdomain"},
    {"pods:\n- name: p\n  namespace: a.b\n  containers: [{name: c}]\n",
     "3: namespace \"a.b\" is not a DNS-1123 label"},
    {"namespaces: [ok, -bad]\npods:\n- {name: p, containers: [{name: c}]}\n",
     "1: namespace \"-bad\" is not a DNS-1123 label"},
    {"namespaces: default\npods:\n- {name: p, containers: [{name: c}]}\n",
     "1: namespaces must be a list"},
    {"pods:\n- name: p\n  phase: running\n  containers: [{name: c}]\n",
     "3: phase \"running\" is not one of Pending, Running, Succeeded, Failed, Unknown"},
    {"pods:\n- name: p\n  labels: [app]\n  containers: [{name: c}]\n",
     "3: labels must be a mapping"},
    {"pods:\n- name: p\n  labels:\n    app: web\n    bad key: x\n  containers: [{name: c}]\n",
     "5: label key \"bad key\" is not a valid Kubernetes label key"},
    {"pods:\n- name: p\n  labels: {app: -x}\n  containers: [{name: c}]\n",
     "3: label value \"-x\" is not a valid Kubernetes label value"},
    {"pods:\n- name: p\n  annotations: {kubectl.kubernetes.io/default-containr: c}\n"
     "  containers: [{name: c}]\n",
     "3: unknown key \"kubectl.kubernetes.io/default-containr\" in annotations (expected "
     "kubectl.kubernetes.io/default-container)"},
    {"pods:\n- name: p\n  annotations:\n    kubectl.kubernetes.io/default-container: d\n"
     "  containers: [{name: c}]\n",
     "4: default container \"d\" is not a container of pod \"p\""},
    {"pods: {name: p}\n", "1: pods must be a list"},
    {"pods: []\n", "1: no pods defined (the top level needs pods:)"},
    {"namespaces: [a]\n", "1: no pods defined (the top level needs pods:)"},
    {"- a\n- b\n", "1: the top level must be a mapping"},
    {"", "1: the file is empty"},
    {"pods:\n- name: p\n  name: q\n", "3: YAML syntax: duplicate key"},
    {"pods: [\n", "2: YAML syntax: flow sequence without a closing bracket"},
    {"base: &b {name: c}\npods:\n- name: p\n  containers: [*b]\n",
     "1: unknown key \"base\" in the top level (expected flags, namespaces, pods)"},
    {"pods:\n- name: p\n  containers:\n  - &b {name: c}\n  - *b\n",
     "5: container: YAML aliases are not supported"},
    {"pods:\n- {name: p, containers: [{name: c}]}\n---\npods: []\n",
     "4: a second YAML document is not supported"},
    {"pods:\n- {name: p, containers: [{name: c}]}\n---\n[\n",
     "5: YAML syntax: flow sequence without a closing bracket"},
    {"pods:\n- name: p\n  containers: [{name: c}]\n  ? [complex]\n  : x\n",
     "4: keys of pod must be strings"},
};

static void write_file(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    fclose(f);
}

static void expect_refused(const char *yaml, size_t len, const char *want)
{
    char dir[] = "/tmp/test_config_XXXXXX", path[64], err[512] = "";
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/pods.yaml", dir);
    write_file(path, yaml, len);
    struct config_cluster *c = config_cluster_load(path, err, sizeof(err));
    unlink(path);
    rmdir(dir);
    if (c) {
        config_cluster_free(c);
        fail_msg("accepted:\n%s", yaml);
    }
    size_t plen = strlen(path);
    if (strncmp(err, path, plen) != 0 || err[plen] != ':' || strcmp(err + plen + 1, want) != 0)
        fail_msg("for:\n%s\nwant: %s:%s\ngot:  %s", yaml, path, want, err);
}

static void test_bad_cases(void **state)
{
    for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++)
        expect_refused(bad_cases[i].yaml, strlen(bad_cases[i].yaml), bad_cases[i].want);
}

static void test_missing_file(void **state)
{
    char err[512];
    assert_null(config_cluster_load("/nonexistent/pods.yaml", err, sizeof(err)));
    assert_string_equal(err, "/nonexistent/pods.yaml: No such file or directory");
}

static void test_file_too_large(void **state)
{
    char dir[] = "/tmp/test_config_XXXXXX", path[64], want[128], err[512] = "";
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/pods.yaml", dir);
    size_t len = CONFIG_FILE_MAX + 1;
    char *big = malloc(len);
    memset(big, '#', len);
    write_file(path, big, len);
    free(big);
    assert_null(config_cluster_load(path, err, sizeof(err)));
    unlink(path);
    rmdir(dir);
    snprintf(want, sizeof(want), "%s: larger than 4 MiB (CONFIG_FILE_MAX)", path);
    assert_string_equal(err, want);
}

static char *repeat_yaml(const char *head, const char *item, int n, const char *tail)
{
    size_t cap = strlen(head) + (size_t)n * (strlen(item) + 16) + strlen(tail) + 1;
    char *s = malloc(cap);
    size_t off = (size_t)sprintf(s, "%s", head);
    for (int i = 0; i < n; i++)
        off += (size_t)sprintf(s + off, item, i);
    sprintf(s + off, "%s", tail);
    return s;
}

static void test_limits(void **state)
{
    char *y = repeat_yaml(POD_HEAD, "  - name: c%d\n", CONFIG_CONTAINERS_MAX + 1, "");
    expect_refused(y, strlen(y), "3: pod has 33 containers, more than 32");
    free(y);
    y = repeat_yaml(POD_HEAD "  - name: c\n    command: [", "a%d,", CONFIG_ARGV_MAX + 1, "z]\n");
    expect_refused(y, strlen(y), "5: command has 258 elements, more than 256");
    free(y);
    y = repeat_yaml(POD_HEAD "  - name: c\n    env:\n", "    - {name: E%d}\n", CONFIG_ENV_MAX + 1,
                    "");
    expect_refused(y, strlen(y), "5: env has 257 entries, more than 256");
    free(y);
    y = repeat_yaml("pods:\n- name: p\n  containers: [{name: c}]\n  labels:\n", "    l%d: v\n",
                    CONFIG_LABELS_MAX + 1, "");
    expect_refused(y, strlen(y), "4: pod has 65 labels, more than 64");
    free(y);
    y = repeat_yaml("pods:\n", "- {name: p%d, containers: [{name: c}]}\n", CONFIG_PODS_MAX + 1, "");
    expect_refused(y, strlen(y), "1: 10001 pods, more than 10000");
    free(y);
    y = repeat_yaml("pods:\n", "- {name: p, namespace: n%d, containers: [{name: c}]}\n",
                    CONFIG_NAMESPACES_MAX, "");
    expect_refused(y, strlen(y), "1: 1001 namespaces, more than 1000"); /* + "default" */
    free(y);
    char *long_name = repeat_yaml("pods:\n- name: ", "a", 254, "\n  containers: [{name: c}]\n");
    expect_refused(long_name, strlen(long_name), "2: pod name is longer than 253 bytes");
    free(long_name);
    y = repeat_yaml(POD_HEAD "  - name: c\n    workingDir: ", "xxxxxxxx", CONFIG_VALUE_MAX / 8,
                    "y\n");
    expect_refused(y, strlen(y), "5: workingDir is longer than 65536 bytes");
    free(y);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_cases),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_file_too_large),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
