/* test_audit_policy.c - audit.k8s.io/v1 Policy files: the Kubernetes docs'
 * example loads and decides as the apiserver would; first match wins; every
 * matcher (users, userGroups, verbs, namespaces, resources with "*",
 * "res/sub", "*\/sub", "res/\*" and resourceNames, nonResourceURLs) and
 * omitStages (the rule's unioned with the policy's); no match is None; the
 * default policy; and each refused file names "FILE:LINE: reason". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "audit/audit.h"
#include "unit_tmpdir.h"

#define RR AUDIT_STAGE_REQUEST_RECEIVED
#define RS AUDIT_STAGE_RESPONSE_STARTED
#define RC AUDIT_STAGE_RESPONSE_COMPLETE
#define PANIC AUDIT_STAGE_PANIC

/* The groups are borrowed strings: never cleared. */
static struct auth_identity ident(const char *user, const char *group)
{
    struct auth_identity id = {0};
    snprintf(id.user, sizeof(id.user), "%s", user);
    if (group)
        id.groups[id.groups_len++] = (char *)group;
    id.groups[id.groups_len++] =
        strcmp(user, "system:anonymous") ? "system:authenticated" : "system:unauthenticated";
    return id;
}

/* A resource request: "verb ns resource[/sub] [name]" spelled out. */
static struct audit_attrs res(const struct auth_identity *u, const char *verb, const char *group,
                              const char *ns, const char *resource, const char *sub,
                              const char *name)
{
    return (struct audit_attrs){.user = u,
                                .verb = verb,
                                .resource_request = true,
                                .api_group = group,
                                .ns = ns,
                                .resource = resource,
                                .subresource = sub,
                                .name = name,
                                .path = ""};
}

static struct audit_attrs nonres(const struct auth_identity *u, const char *verb, const char *path)
{
    return (struct audit_attrs){.user = u,
                                .verb = verb,
                                .api_group = "",
                                .ns = "",
                                .resource = "",
                                .subresource = "",
                                .name = "",
                                .path = path};
}

static const char *fixture(const char *name)
{
    static char path[UNIT_TMPDIR_PATH_MAX];
    const char *slash = strrchr(__FILE__, '/');
    int dir = slash ? (int)(slash - __FILE__) : 1;
    snprintf(path, sizeof(path), "%.*s/fixtures/audit/%s", dir, slash ? __FILE__ : ".", name);
    return path;
}

static struct audit_policy *load_text(const char *yaml)
{
    char err[AUDIT_ERR_MAX] = "";
    struct audit_policy *p =
        audit_policy_load(unit_tmpdir_write("policy.yaml", yaml), err, sizeof(err));
    if (!p)
        fail_msg("load failed: %s", err);
    return p;
}

/* level and the omitted stages, as one string: "Metadata -RR-RC". */
static const char *decide(const struct audit_policy *p, struct audit_attrs at)
{
    static char out[64];
    static const char *const levels[] = {"None", "Metadata", "Request", "RequestResponse"};
    static const char *const stages[] = {"RR", "RS", "RC", "Panic"};
    bool omit[AUDIT_STAGES];
    memset(omit, 0xff, sizeof(omit)); /* every entry must be written */
    enum audit_level l = audit_policy_level(p, &at, omit);
    snprintf(out, sizeof(out), "%s", levels[l]);
    for (int s = 0; s < AUDIT_STAGES; s++) {
        assert_true(omit[s] == true || omit[s] == false);
        if (omit[s])
            snprintf(out + strlen(out), sizeof(out) - strlen(out), " -%s", stages[s]);
    }
    return out;
}

static void test_policy_default(void **state)
{
    char err[AUDIT_ERR_MAX] = "";
    struct audit_policy *p = audit_policy_load(NULL, err, sizeof(err));
    assert_non_null(p);
    struct auth_identity anon = ident("system:anonymous", NULL);
    assert_string_equal(decide(p, res(&anon, "create", "", "default", "pods", "exec", "x")),
                        "Metadata");
    assert_string_equal(decide(p, nonres(NULL, "get", "/version")), "Metadata");
    audit_policy_free(p);
}

static void test_policy_docs_example(void **state)
{
    char err[AUDIT_ERR_MAX] = "";
    struct audit_policy *p = audit_policy_load(fixture("k8s-docs-policy.yaml"), err, sizeof(err));
    if (!p)
        fail_msg("%s", err);
    struct auth_identity alice = ident("alice", "dev");
    struct auth_identity proxy = ident("system:kube-proxy", NULL);
    struct auth_identity anon = ident("system:anonymous", NULL);
    /* rule 1: pods, not its subresources; every rule omits RequestReceived */
    assert_string_equal(decide(p, res(&alice, "create", "", "default", "pods", "", "web")),
                        "RequestResponse -RR");
    assert_string_equal(decide(p, res(&alice, "get", "", "default", "pods", "log", "web")),
                        "Metadata -RR");
    /* pods/exec: no pods rule, so the core group's Request rule */
    assert_string_equal(decide(p, res(&alice, "create", "", "default", "pods", "exec", "web")),
                        "Request -RR");
    assert_string_equal(
        decide(p, res(&alice, "update", "", "kube-system", "configmaps", "", "controller-leader")),
        "None -RR");
    assert_string_equal(decide(p, res(&alice, "update", "", "kube-system", "configmaps", "", "x")),
                        "Request -RR");
    assert_string_equal(decide(p, res(&alice, "update", "", "default", "configmaps", "", "x")),
                        "Metadata -RR");
    assert_string_equal(decide(p, res(&proxy, "watch", "", "default", "endpoints", "", "")),
                        "None -RR");
    assert_string_equal(decide(p, res(&alice, "watch", "", "default", "endpoints", "", "")),
                        "Request -RR");
    assert_string_equal(decide(p, res(&proxy, "list", "", "default", "services", "", "")),
                        "Request -RR");
    assert_string_equal(decide(p, res(&alice, "get", "apps", "default", "deployments", "", "d")),
                        "Metadata -RR");
    assert_string_equal(decide(p, nonres(&alice, "get", "/apis/apps")), "None -RR");
    assert_string_equal(decide(p, nonres(&alice, "get", "/version")), "None -RR");
    assert_string_equal(decide(p, nonres(&anon, "get", "/version")), "Metadata -RR");
    assert_string_equal(decide(p, nonres(&alice, "get", "/healthz")), "Metadata -RR");
    audit_policy_free(p);
}

static void test_policy_first_match_wins(void **state)
{
    struct audit_policy *p = load_text("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n"
                                       "- level: None\n  verbs: [get]\n"
                                       "- level: RequestResponse\n"
                                       "- level: Metadata\n  verbs: [get]\n");
    struct auth_identity a = ident("alice", NULL);
    assert_string_equal(decide(p, res(&a, "get", "", "default", "pods", "", "x")), "None");
    assert_string_equal(decide(p, res(&a, "list", "", "default", "pods", "", "")),
                        "RequestResponse");
    assert_string_equal(decide(p, nonres(&a, "get", "/metrics")), "None");
    audit_policy_free(p);
}

static void test_policy_subjects_and_verbs(void **state)
{
    struct audit_policy *p =
        load_text("{\"apiVersion\": \"audit.k8s.io/v1\", \"kind\": \"Policy\", \"rules\": ["
                  "{\"level\": \"RequestResponse\", \"users\": [\"bob\", \"carol\"], \"verbs\": "
                  "[\"create\"]},"
                  "{\"level\": \"Request\", \"userGroups\": [\"ops\", \"sre\"]},"
                  "{\"level\": \"None\", \"users\": [\"system:anonymous\"]},"
                  "{\"level\": \"Metadata\"}]}");
    struct auth_identity bob = ident("bob", NULL), carol = ident("carol", "sre");
    struct auth_identity dave = ident("dave", "ops"), eve = ident("eve", "dev");
    struct auth_identity anon = ident("system:anonymous", NULL);
    assert_string_equal(decide(p, res(&bob, "create", "", "d", "pods", "exec", "x")),
                        "RequestResponse");
    assert_string_equal(decide(p, res(&bob, "get", "", "d", "pods", "", "x")), "Metadata");
    assert_string_equal(decide(p, res(&carol, "get", "", "d", "pods", "", "x")), "Request");
    assert_string_equal(decide(p, nonres(&dave, "get", "/version")), "Request");
    assert_string_equal(decide(p, nonres(&eve, "get", "/version")), "Metadata");
    assert_string_equal(decide(p, nonres(&anon, "get", "/version")), "None");
    /* no user at all: rules naming users or groups cannot match */
    assert_string_equal(decide(p, nonres(NULL, "create", "/version")), "Metadata");
    audit_policy_free(p);
}

static void test_policy_namespaces(void **state)
{
    struct audit_policy *p = load_text("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n"
                                       "- level: RequestResponse\n  namespaces: [\"\"]\n"
                                       "- level: Request\n  namespaces: [team-a, team-b]\n"
                                       "- level: Metadata\n");
    struct auth_identity a = ident("alice", NULL);
    assert_string_equal(decide(p, res(&a, "get", "", "", "namespaces", "", "team-a")),
                        "RequestResponse");
    assert_string_equal(decide(p, res(&a, "get", "", "team-b", "pods", "", "x")), "Request");
    assert_string_equal(decide(p, res(&a, "get", "", "team-c", "pods", "", "x")), "Metadata");
    /* namespaces never match a non-resource request, even "" */
    assert_string_equal(decide(p, nonres(&a, "get", "/healthz")), "Metadata");
    audit_policy_free(p);
}

static void test_policy_resources(void **state)
{
    struct audit_policy *p =
        load_text("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n"
                  "- level: None\n  resources: [{group: \"\", resources: [pods/exec]}]\n"
                  "- level: RequestResponse\n  resources: [{resources: [\"*/attach\"]}]\n"
                  "- level: Request\n  resources: [{group: \"\", resources: [\"secrets/*\"]}]\n"
                  "- level: None\n  resources:\n  - group: \"\"\n    resources: [configmaps]\n"
                  "    resourceNames: [leader, lock]\n"
                  "- level: RequestResponse\n  resources: [{group: apps, resources: [\"*\"]}]\n"
                  "- level: Request\n  resources: [{group: batch}]\n"
                  "- level: Metadata\n  resources: [{group: \"\", resources: [pods]}]\n");
    struct auth_identity a = ident("alice", NULL);
    assert_string_equal(decide(p, res(&a, "create", "", "d", "pods", "exec", "x")), "None");
    assert_string_equal(decide(p, res(&a, "create", "", "d", "pods", "attach", "x")),
                        "RequestResponse");
    /* "*\/attach" is a subresource of anything, never the resource itself */
    assert_string_equal(decide(p, res(&a, "get", "", "d", "attach", "", "x")), "None");
    /* "secrets/" then "*": the resource and each of its subresources */
    assert_string_equal(decide(p, res(&a, "get", "", "d", "secrets", "", "s")), "Request");
    assert_string_equal(decide(p, res(&a, "get", "", "d", "secrets", "status", "s")), "Request");
    assert_string_equal(decide(p, res(&a, "get", "", "d", "configmaps", "", "lock")), "None");
    assert_string_equal(decide(p, res(&a, "get", "", "d", "configmaps", "", "other")), "None");
    assert_string_equal(decide(p, res(&a, "get", "apps", "d", "deployments", "scale", "x")),
                        "RequestResponse");
    assert_string_equal(decide(p, res(&a, "get", "batch", "d", "jobs", "", "x")), "Request");
    /* "pods" alone is not pods/log; other groups' pods are not core pods */
    assert_string_equal(decide(p, res(&a, "get", "", "d", "pods", "log", "x")), "None");
    assert_string_equal(decide(p, res(&a, "get", "", "d", "pods", "", "x")), "Metadata");
    assert_string_equal(decide(p, res(&a, "get", "metrics.k8s.io", "d", "pods", "", "x")), "None");
    /* resource rules never match a non-resource request */
    assert_string_equal(decide(p, nonres(&a, "get", "/api/v1/pods")), "None");
    audit_policy_free(p);
}

/* configmaps "other" fell through the resourceNames rule to no rule at all:
 * that is None, as asserted above; this one shows the fall-through lands on
 * a later rule when there is one. */
static void test_policy_resource_names_fall_through(void **state)
{
    struct audit_policy *p = load_text(
        "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n"
        "- level: None\n  resources: [{resources: [configmaps], resourceNames: [leader]}]\n"
        "- level: Metadata\n");
    struct auth_identity a = ident("alice", NULL);
    assert_string_equal(decide(p, res(&a, "get", "", "d", "configmaps", "", "leader")), "None");
    assert_string_equal(decide(p, res(&a, "get", "", "d", "configmaps", "", "other")), "Metadata");
    assert_string_equal(decide(p, res(&a, "list", "", "d", "configmaps", "", "")), "Metadata");
    audit_policy_free(p);
}

static void test_policy_non_resource_urls(void **state)
{
    struct audit_policy *p = load_text("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n"
                                       "- level: None\n  nonResourceURLs: [/healthz*, /version]\n"
                                       "- level: Request\n  nonResourceURLs: [\"*\"]\n"
                                       "- level: Metadata\n");
    struct auth_identity a = ident("alice", NULL);
    assert_string_equal(decide(p, nonres(&a, "get", "/healthz")), "None");
    assert_string_equal(decide(p, nonres(&a, "get", "/healthz/etcd")), "None");
    assert_string_equal(decide(p, nonres(&a, "get", "/version")), "None");
    assert_string_equal(decide(p, nonres(&a, "get", "/version/")), "Request");
    assert_string_equal(decide(p, nonres(&a, "get", "/metrics")), "Request");
    /* URL rules never match a resource request, even "*" */
    assert_string_equal(decide(p, res(&a, "get", "", "d", "pods", "", "x")), "Metadata");
    audit_policy_free(p);
}

static void test_policy_omit_stages(void **state)
{
    struct audit_policy *p = load_text(
        "apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [RequestReceived]\nrules:\n"
        "- level: Metadata\n  verbs: [watch]\n  omitStages: [ResponseStarted, Panic]\n"
        "- level: None\n  verbs: [list]\n  omitStages: [RequestReceived]\n"
        "- level: Request\n  verbs: [get]\n");
    struct auth_identity a = ident("alice", NULL);
    assert_string_equal(decide(p, nonres(&a, "watch", "/x")), "Metadata -RR -RS -Panic");
    assert_string_equal(decide(p, nonres(&a, "list", "/x")), "None -RR");
    assert_string_equal(decide(p, nonres(&a, "get", "/x")), "Request -RR");
    /* no rule: None, with the policy's own stages */
    assert_string_equal(decide(p, nonres(&a, "create", "/x")), "None -RR");
    audit_policy_free(p);

    p = load_text("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n"
                  "- level: Metadata\n  omitStages: [ResponseComplete]\n  verbs: [get]\n");
    assert_string_equal(decide(p, nonres(&a, "get", "/x")), "Metadata -RC");
    assert_string_equal(decide(p, nonres(&a, "put", "/x")), "None");
    audit_policy_free(p);
}

/* A Policy with metadata, omitManagedFields (accepted, and moot: no bodies
 * are logged) and nulls where Go takes the zero value. */
static void test_policy_metadata_and_nulls(void **state)
{
    struct audit_policy *p = load_text("---\napiVersion: audit.k8s.io/v1\nkind: Policy\n"
                                       "metadata:\n  name: podterm\n  labels: {a: b}\n"
                                       "omitStages:\nomitManagedFields: true\nrules:\n"
                                       "- level: Request\n  omitManagedFields: false\n"
                                       "  users:\n  resources:\n"
                                       "  - group:\n    resources: [pods]\n"
                                       "- level: Metadata\n---\n");
    struct auth_identity a = ident("alice", NULL);
    assert_string_equal(decide(p, res(&a, "get", "", "d", "pods", "", "x")), "Request");
    assert_string_equal(decide(p, res(&a, "get", "", "d", "secrets", "", "x")), "Metadata");
    audit_policy_free(p);
}

struct bad_case {
    const char *yaml;
    const char *want; /* after "<path>:" */
};

#define HEAD "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n"

static const struct bad_case bad_cases[] = {
    {HEAD "- level: Metadata\n- level: Everything\n",
     "5: level \"Everything\" is not one of None, Metadata, Request, RequestResponse"},
    {HEAD "- level: metadata\n",
     "4: level \"metadata\" is not one of None, Metadata, Request, RequestResponse"},
    {HEAD "- verbs: [get]\n",
     "4: the rule has no level (None, Metadata, Request, RequestResponse)"},
    {HEAD "- level: \"\"\n",
     "4: level \"\" is not one of None, Metadata, Request, RequestResponse"},
    {HEAD "- level: None\n  omitStages:\n  - ResponseStarted\n  - RequestRecieved\n",
     "7: omitStages: unknown stage \"RequestRecieved\" (expected RequestReceived, "
     "ResponseStarted, ResponseComplete, Panic)"},
    {"apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [Done]\nrules: [{level: None}]\n",
     "3: omitStages: unknown stage \"Done\" (expected RequestReceived, ResponseStarted, "
     "ResponseComplete, Panic)"},
    {HEAD "- level: None\n  omitStage: [RequestReceived]\n",
     "5: unknown field \"omitStage\" in a rule (expected level, users, userGroups, verbs, "
     "resources, namespaces, nonResourceURLs, omitStages, omitManagedFields)"},
    {HEAD "- level: None\n  omitManagedFields: yes\n",
     "5: omitManagedFields must be true or false"},
    {HEAD "- level: None\n  resources:\n  - group: \"\"\n    resource: [pods]\n",
     "7: unknown field \"resource\" in a resources entry (expected group, resources, "
     "resourceNames)"},
    {HEAD "- level: None\nextra: 1\n",
     "5: unknown field \"extra\" in the Policy (expected apiVersion, kind, metadata, rules, "
     "omitStages, omitManagedFields)"},
    {HEAD "- level: None\n  verbs: get\n", "5: verbs entry must be a list"},
    {HEAD "- level: None\n  users: [[bob]]\n", "5: users entry must be a string"},
    {HEAD "- level: [None]\n", "4: level must be a string"},
    {HEAD "- level: None\n  resources: {group: \"\"}\n", "5: resources must be a list"},
    {HEAD "- None\n", "4: a rule must be a mapping"},
    {"apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: {level: None}\n",
     "3: rules must be a list"},
    {"apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nrules:\n- verbs: [get]\n",
     "2: not an audit.k8s.io/v1 Policy (kind is \"Role\")"},
    {"apiVersion: audit.k8s.io/v1beta1\nkind: Policy\nrules: [{level: None}]\n",
     "1: apiVersion \"audit.k8s.io/v1beta1\" is not supported (expected audit.k8s.io/v1)"},
    {"kind: Policy\nrules: [{level: None}]\n",
     "1: apiVersion \"\" is not supported (expected audit.k8s.io/v1)"},
    {"rules: [{level: None}]\n", "1: not an audit.k8s.io/v1 Policy (kind is \"\")"},
    {"- level: None\n", "1: not an audit.k8s.io/v1 Policy (the top level must be a mapping)"},
    {"just text\n", "1: not an audit.k8s.io/v1 Policy (the top level must be a mapping)"},
    {"", "1: the file is empty (not an audit.k8s.io/v1 Policy)"},
    {"apiVersion: audit.k8s.io/v1\nkind: Policy\n", "1: the policy has no rules"},
    {"apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: []\n", "1: the policy has no rules"},
    {HEAD "- level: None\n  nonResourceURLs: [/healthz]\n  namespaces: [default]\n",
     "4: a rule cannot apply to both resources (resources, namespaces) and nonResourceURLs"},
    {HEAD "- level: None\n  nonResourceURLs:\n  - /ok\n  - healthz\n",
     "7: nonResourceURL \"healthz\" must begin with '/'"},
    {HEAD "- level: None\n  nonResourceURLs: [\"/api/*/x\"]\n",
     "5: nonResourceURL \"/api/*/x\": '*' must be the final character"},
    {HEAD "- level: None\n  resources:\n  - group: apps/v1\n",
     "6: group \"apps/v1\" is not a DNS subdomain (an API group, without its version: \"\" is "
     "the core group)"},
    {HEAD "- level: None\n  resources:\n  - resourceNames: [x]\n",
     "6: resourceNames needs at least one resource in the same entry"},
    {HEAD "- level: None\n  verbs: [get\n",
     "6: YAML syntax: flow sequence without a closing bracket"},
    {HEAD "- level: None\n---\nkind: Policy\n", "6: a second YAML document is not supported"},
    {HEAD "- level: &l None\n- level: *l\n", "5: level: YAML aliases are not supported"},
    {HEAD "- level: None\n  verbs: [\"a\\0b\"]\n", "5: verbs entry contains a NUL byte"},
    {HEAD "- level: None\n  verbs: [\xff]\n", "5: the file is not UTF-8"},
    {HEAD "- level: None\n  level: Metadata\n", "5: YAML syntax: duplicate key"},
};

static void test_policy_errors(void **state)
{
    for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        const char *path = unit_tmpdir_write("bad.yaml", bad_cases[i].yaml);
        char err[AUDIT_ERR_MAX] = "";
        struct audit_policy *p = audit_policy_load(path, err, sizeof(err));
        char want[AUDIT_ERR_MAX + UNIT_TMPDIR_PATH_MAX];
        snprintf(want, sizeof(want), "%s:%s", path, bad_cases[i].want);
        if (p || strcmp(err, want) != 0)
            fail_msg("case %zu:\n got  %s\n want %s", i, p ? "(loaded)" : err, want);
    }
}

static void test_policy_file_errors(void **state)
{
    char err[AUDIT_ERR_MAX] = "";
    char path[UNIT_TMPDIR_PATH_MAX];
    snprintf(path, sizeof(path), "%s/missing.yaml", unit_dir);
    assert_null(audit_policy_load(path, err, sizeof(err)));
    char want[AUDIT_ERR_MAX + UNIT_TMPDIR_PATH_MAX];
    snprintf(want, sizeof(want), "%s: No such file or directory", path);
    assert_string_equal(err, want);

    size_t big = AUDIT_POLICY_FILE_MAX + 1;
    char *text = malloc(big + 1);
    memset(text, '#', big);
    text[big] = '\0';
    const char *bigpath = unit_tmpdir_write("big.yaml", text);
    free(text);
    assert_null(audit_policy_load(bigpath, err, sizeof(err)));
    snprintf(want, sizeof(want), "%s: larger than 1 MiB (AUDIT_POLICY_FILE_MAX)", bigpath);
    assert_string_equal(err, want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_policy_default),
        cmocka_unit_test(test_policy_docs_example),
        cmocka_unit_test(test_policy_first_match_wins),
        cmocka_unit_test(test_policy_subjects_and_verbs),
        cmocka_unit_test(test_policy_namespaces),
        cmocka_unit_test(test_policy_resources),
        cmocka_unit_test(test_policy_resource_names_fall_through),
        cmocka_unit_test(test_policy_non_resource_urls),
        cmocka_unit_test(test_policy_omit_stages),
        cmocka_unit_test(test_policy_metadata_and_nulls),
        cmocka_unit_test(test_policy_errors),
        cmocka_unit_test(test_policy_file_errors),
    };
    return cmocka_run_group_tests(tests, unit_tmpdir_setup, unit_tmpdir_teardown);
}
