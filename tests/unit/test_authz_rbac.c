/* test_authz_rbac.c - the RBAC decision against kube-apiserver's rules:
 * every matcher (verbs, apiGroups, resources with subresources and "*\/x",
 * resourceNames, nonResourceURLs with trailing '*'), binding scope
 * (RoleBinding in its namespace only, ClusterRoleBinding everywhere),
 * subjects (User, Group, ServiceAccount with the namespace defaulting), the
 * built-in discovery policy, and the reasons word for word. */
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

#define ROLE_HEAD                                                                                  \
    "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: r}\nrules:\n- "
#define CRB_ALICE                                                                                  \
    "\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\n"                  \
    "metadata: {name: b}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, "      \
    "name: r}\nsubjects: [{kind: User, name: alice}]\n"
#define ALLOWED_ALICE                                                                              \
    "RBAC: allowed by ClusterRoleBinding \"b\" of ClusterRole \"r\" to User \"alice\""

struct grid_case {
    const char *rule; /* one PolicyRule, flow style */
    struct authz_attrs at;
    bool allowed;
};

#define RES(verb, group, resource, sub, name) fx_res(verb, group, "dev", resource, sub, name)

static const char *const R_GET_PODS = "{verbs: [get], apiGroups: [\"\"], resources: [pods]}";

static void test_matcher_grid(void **state)
{
    const struct grid_case cases[] = {
        /* VerbMatches: exact, "*", case-sensitive */
        {R_GET_PODS, RES("get", "", "pods", "", ""), true},
        {R_GET_PODS, RES("list", "", "pods", "", ""), false},
        {"{verbs: [\"*\"], apiGroups: [\"\"], resources: [pods]}",
         RES("deletecollection", "", "pods", "", ""), true},
        {"{verbs: [GET], apiGroups: [\"\"], resources: [pods]}", RES("get", "", "pods", "", ""),
         false},
        /* APIGroupMatches */
        {R_GET_PODS, RES("get", "apps", "pods", "", ""), false},
        {"{verbs: [get], apiGroups: [\"*\"], resources: [pods]}",
         RES("get", "apps", "pods", "", ""), true},
        {"{verbs: [get], apiGroups: [apps], resources: [pods]}", RES("get", "", "pods", "", ""),
         false},
        {"{verbs: [get], apiGroups: [\"\", apps], resources: [deployments]}",
         RES("get", "apps", "deployments", "", ""), true},
        /* ResourceMatches: a subresource is only matched as a whole */
        {R_GET_PODS, RES("get", "", "pods", "exec", ""), false},
        {"{verbs: [create], apiGroups: [\"\"], resources: [pods/exec]}",
         RES("create", "", "pods", "exec", ""), true},
        {"{verbs: [create], apiGroups: [\"\"], resources: [pods/exec]}",
         RES("create", "", "pods", "", ""), false},
        {"{verbs: [create], apiGroups: [\"\"], resources: [pods/exec]}",
         RES("create", "", "pods", "attach", ""), false},
        {"{verbs: [create], apiGroups: [\"\"], resources: [\"*/exec\"]}",
         RES("create", "", "pods", "exec", ""), true},
        {"{verbs: [create], apiGroups: [\"*\"], resources: [\"*/exec\"]}",
         RES("create", "apps", "deployments", "exec", ""), true},
        {"{verbs: [create], apiGroups: [\"\"], resources: [\"*/exec\"]}",
         RES("create", "", "pods", "execute", ""), false},
        {"{verbs: [create], apiGroups: [\"\"], resources: [\"*/exec\"]}",
         RES("create", "", "pods", "", ""), false},
        {"{verbs: [create], apiGroups: [\"\"], resources: [\"*/log\"]}",
         RES("create", "", "pods", "exec", ""), false},
        {"{verbs: [create], apiGroups: [\"\"], resources: [\"pods/*\"]}",
         RES("create", "", "pods", "exec", ""), false},
        {"{verbs: [create], apiGroups: [\"\"], resources: [\"*\"]}",
         RES("create", "", "pods", "exec", ""), true},
        {"{verbs: [create], apiGroups: [\"\"], resources: [\"*\"]}",
         RES("create", "", "secrets", "", ""), true},
        {"{verbs: [get], apiGroups: [\"\"], resources: [Pods]}", RES("get", "", "pods", "", ""),
         false},
        /* ResourceNameMatches: names restrict; a request without a name does not match */
        {"{verbs: [get], apiGroups: [\"\"], resources: [pods], resourceNames: [web]}",
         RES("get", "", "pods", "", "web"), true},
        {"{verbs: [get], apiGroups: [\"\"], resources: [pods], resourceNames: [web]}",
         RES("get", "", "pods", "", "db"), false},
        {"{verbs: [list], apiGroups: [\"\"], resources: [pods], resourceNames: [web]}",
         RES("list", "", "pods", "", ""), false},
        {"{verbs: [create], apiGroups: [\"\"], resources: [pods/exec], resourceNames: [a, web]}",
         RES("create", "", "pods", "exec", "web"), true},
        {R_GET_PODS, RES("get", "", "pods", "", "anything"), true},
        /* NonResourceURLMatches: exact, "*", prefix with trailing '*' */
        {"{verbs: [get], nonResourceURLs: [/metrics]}", fx_url("get", "/metrics"), true},
        {"{verbs: [get], nonResourceURLs: [/metrics]}", fx_url("get", "/metrics/x"), false},
        {"{verbs: [get], nonResourceURLs: [/metrics]}", fx_url("post", "/metrics"), false},
        {"{verbs: [get], nonResourceURLs: [/logs/*]}", fx_url("get", "/logs/a/b"), true},
        {"{verbs: [get], nonResourceURLs: [/logs/*]}", fx_url("get", "/logs/"), true},
        {"{verbs: [get], nonResourceURLs: [/logs/*]}", fx_url("get", "/logs"), false},
        {"{verbs: [get], nonResourceURLs: [/logs*]}", fx_url("get", "/logsX"), true},
        {"{verbs: [get], nonResourceURLs: [\"/api**\"]}", fx_url("get", "/apis/x"), true},
        {"{verbs: [get], nonResourceURLs: [\"*\"]}", fx_url("get", "/anything"), true},
        {"{verbs: [\"*\"], nonResourceURLs: [\"*\"]}", fx_url("delete", "/x"), true},
        {"{verbs: [get], nonResourceURLs: [/a*b]}", fx_url("get", "/a*b"), true},
        {"{verbs: [get], nonResourceURLs: [/a*b]}", fx_url("get", "/aXb"), false},
        /* a non-resource rule never matches a resource request and the reverse */
        {"{verbs: [\"*\"], nonResourceURLs: [\"*\"]}", RES("get", "", "pods", "", ""), false},
        {"{verbs: [\"*\"], apiGroups: [\"*\"], resources: [\"*\"]}", fx_url("get", "/version2"),
         false},
        /* a cluster-scoped request is matched by a ClusterRoleBinding's role */
        {"{verbs: [list], apiGroups: [\"\"], resources: [namespaces]}",
         fx_res("list", "", "", "namespaces", "", ""), true},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char yaml[1024];
        snprintf(yaml, sizeof(yaml), ROLE_HEAD "%s" CRB_ALICE, cases[i].rule);
        struct authz *a = fx_authz_must(yaml);
        struct auth_identity id = fx_id("alice", "system:authenticated", NULL);
        struct authz_decision d;
        memset(&d, 'x', sizeof(d));
        authz_check(a, &id, &cases[i].at, &d);
        if (d.allowed != cases[i].allowed)
            print_error("case %zu: rule %s, %s %s/%s %s: got %d\n", i, cases[i].rule,
                        cases[i].at.verb, cases[i].at.resource, cases[i].at.subresource,
                        cases[i].at.path, d.allowed);
        assert_int_equal(d.allowed, cases[i].allowed);
        assert_string_equal(d.reason, cases[i].allowed ? ALLOWED_ALICE : "");
        authz_free(a);
    }
}

/* ---- scope and subjects ---- */

static const char scope_policy[] =
    "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: exec, namespace: dev}\n"
    "rules: [{verbs: [create], apiGroups: [\"\"], resources: [pods/exec]}]\n---\n"
    "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: reader}\n"
    "rules:\n- {verbs: [get, list], apiGroups: [\"\"], resources: [pods]}\n"
    "- {verbs: [get], nonResourceURLs: [/metrics]}\n---\n"
    "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\n"
    "metadata: {name: devs-exec, namespace: dev}\n"
    "roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: exec}\n"
    "subjects:\n- {kind: Group, name: devs}\n- {kind: ServiceAccount, name: builder}\n"
    "- {kind: ServiceAccount, name: deployer, namespace: ci}\n---\n"
    "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\n"
    "metadata: {name: devs-read, namespace: dev}\n"
    "roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: reader}\n"
    "subjects: [{kind: User, name: bob}]\n---\n"
    "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\n"
    "metadata: {name: oncall-read}\n"
    "roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: reader}\n"
    "subjects:\n- {kind: ServiceAccount, name: pager, namespace: ops}\n"
    "- {kind: Group, name: oncall, apiGroup: rbac.authorization.k8s.io}\n";

struct scope_case {
    const char *user, *group;
    struct authz_attrs at;
    const char *reason; /* NULL: denied */
};

static void test_scope_and_subjects(void **state)
{
    struct authz *a = fx_authz_must(scope_policy);
    const struct scope_case cases[] = {
        {"carol", "devs", fx_res("create", "", "dev", "pods", "exec", "web"),
         "RBAC: allowed by RoleBinding \"devs-exec/dev\" of Role \"exec\" to Group \"devs\""},
        /* a RoleBinding applies only in its own namespace, never at the cluster scope */
        {"carol", "devs", fx_res("create", "", "prod", "pods", "exec", "web"), NULL},
        {"carol", "devs", fx_res("create", "", "", "pods", "exec", "web"), NULL},
        /* ServiceAccount without a namespace: the binding's */
        {"system:serviceaccount:dev:builder", "system:serviceaccounts",
         fx_res("create", "", "dev", "pods", "exec", "web"),
         "RBAC: allowed by RoleBinding \"devs-exec/dev\" of Role \"exec\" to ServiceAccount "
         "\"builder/dev\""},
        {"system:serviceaccount:prod:builder", "x",
         fx_res("create", "", "dev", "pods", "exec", "w"), NULL},
        {"system:serviceaccount:ci:deployer", "x", fx_res("create", "", "dev", "pods", "exec", "w"),
         "RBAC: allowed by RoleBinding \"devs-exec/dev\" of Role \"exec\" to ServiceAccount "
         "\"deployer/ci\""},
        {"system:serviceaccount:dev:deployer", "x",
         fx_res("create", "", "dev", "pods", "exec", "w"), NULL},
        {"system:serviceaccount:ci:deployerx", "x",
         fx_res("create", "", "dev", "pods", "exec", "w"), NULL},
        /* a RoleBinding may grant a ClusterRole, in its namespace only */
        {"bob", "x", fx_res("list", "", "dev", "pods", "", ""),
         "RBAC: allowed by RoleBinding \"devs-read/dev\" of ClusterRole \"reader\" to User "
         "\"bob\""},
        {"bob", "x", fx_res("list", "", "prod", "pods", "", ""), NULL},
        {"bob", "x", fx_res("list", "", "", "pods", "", ""), NULL},
        /* ... and never its non-resource rules */
        {"bob", "x", fx_url("get", "/metrics"), NULL},
        /* a ClusterRoleBinding applies everywhere */
        {"dave", "oncall", fx_res("list", "", "prod", "pods", "", ""),
         "RBAC: allowed by ClusterRoleBinding \"oncall-read\" of ClusterRole \"reader\" to Group "
         "\"oncall\""},
        {"dave", "oncall", fx_res("list", "", "", "pods", "", ""),
         "RBAC: allowed by ClusterRoleBinding \"oncall-read\" of ClusterRole \"reader\" to Group "
         "\"oncall\""},
        {"dave", "oncall", fx_url("get", "/metrics"),
         "RBAC: allowed by ClusterRoleBinding \"oncall-read\" of ClusterRole \"reader\" to Group "
         "\"oncall\""},
        {"system:serviceaccount:ops:pager", "x", fx_res("get", "", "kube-system", "pods", "", "p"),
         "RBAC: allowed by ClusterRoleBinding \"oncall-read\" of ClusterRole \"reader\" to "
         "ServiceAccount \"pager/ops\""},
        /* names are exact: no case folding, no group named like a user */
        {"Bob", "x", fx_res("list", "", "dev", "pods", "", ""), NULL},
        {"devs", "x", fx_res("create", "", "dev", "pods", "exec", "w"), NULL},
        {"carol", "bob", fx_res("list", "", "dev", "pods", "", ""), NULL},
        /* ClusterRoleBindings come first: bob in oncall is allowed by it */
        {"bob", "oncall", fx_res("list", "", "dev", "pods", "", ""),
         "RBAC: allowed by ClusterRoleBinding \"oncall-read\" of ClusterRole \"reader\" to Group "
         "\"oncall\""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct auth_identity id = fx_id(cases[i].user, cases[i].group, NULL);
        struct authz_decision d;
        authz_check(a, &id, &cases[i].at, &d);
        if (d.allowed != (cases[i].reason != NULL))
            print_error("case %zu: %s\n", i, d.reason);
        assert_int_equal(d.allowed, cases[i].reason != NULL);
        assert_string_equal(d.reason, cases[i].reason ? cases[i].reason : "");
    }
    authz_free(a);
}

/* ---- the built-in bootstrap policy ---- */

static void test_builtin(void **state)
{
    struct authz *a = fx_authz_must(scope_policy);
    struct auth_identity user = fx_id("carol", "devs", "system:authenticated", NULL);
    struct auth_identity anon = fx_id("system:anonymous", "system:unauthenticated", NULL);
    struct authz_decision d;
    static const char *const discovery[] = {"/api",        "/api/v1",  "/apis",     "/apis/apps/v1",
                                            "/openapi/v2", "/openapi", "/version/", "/livez"};
    for (size_t i = 0; i < sizeof(discovery) / sizeof(discovery[0]); i++) {
        struct authz_attrs at = fx_url("get", discovery[i]);
        authz_check(a, &user, &at, &d);
        assert_true(d.allowed);
        assert_string_equal(d.reason, "RBAC: allowed by ClusterRoleBinding \"system:discovery\" of "
                                      "ClusterRole \"system:discovery\" to Group "
                                      "\"system:authenticated\"");
    }
    struct authz_attrs at = fx_url("get", "/healthz");
    authz_check(a, &anon, &at, &d);
    assert_true(d.allowed);
    assert_string_equal(d.reason, "RBAC: allowed by ClusterRoleBinding "
                                  "\"system:public-info-viewer\" of ClusterRole "
                                  "\"system:public-info-viewer\" to Group "
                                  "\"system:unauthenticated\"");
    static const char *const anon_denied[] = {"/api", "/apis", "/openapi/v2", "/metrics",
                                              "/healthz/etcd"};
    for (size_t i = 0; i < sizeof(anon_denied) / sizeof(anon_denied[0]); i++) {
        at = fx_url("get", anon_denied[i]);
        authz_check(a, &anon, &at, &d);
        assert_false(d.allowed);
    }
    at = fx_url("post", "/version");
    authz_check(a, &user, &at, &d);
    assert_false(d.allowed);
    at = fx_res("create", "authorization.k8s.io", "", "selfsubjectrulesreviews", "", "");
    authz_check(a, &user, &at, &d);
    assert_true(d.allowed);
    assert_string_equal(d.reason, "RBAC: allowed by ClusterRoleBinding \"system:basic-user\" of "
                                  "ClusterRole \"system:basic-user\" to Group "
                                  "\"system:authenticated\"");
    at = fx_res("create", "authorization.k8s.io", "dev", "selfsubjectaccessreviews", "", "");
    authz_check(a, &user, &at, &d);
    assert_true(d.allowed);
    authz_check(a, &anon, &at, &d);
    assert_false(d.allowed);
    at = fx_res("create", "authorization.k8s.io", "", "subjectaccessreviews", "", "");
    authz_check(a, &user, &at, &d);
    assert_false(d.allowed);
    authz_free(a);
}

/* A file's ClusterRole of a built-in's name replaces it. */
static void test_builtin_replaced(void **state)
{
    struct authz *a = fx_authz_must("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\n"
                                    "metadata: {name: \"system:discovery\"}\nrules: [{verbs: "
                                    "[get], nonResourceURLs: [/api]}]\n");
    struct auth_identity user = fx_id("carol", "system:authenticated", NULL);
    struct authz_decision d;
    struct authz_attrs at = fx_url("get", "/apis");
    authz_check(a, &user, &at, &d);
    assert_false(d.allowed);
    at = fx_url("get", "/version");
    authz_check(a, &user, &at, &d);
    assert_string_equal(d.reason, "RBAC: allowed by ClusterRoleBinding "
                                  "\"system:public-info-viewer\" of ClusterRole "
                                  "\"system:public-info-viewer\" to Group "
                                  "\"system:authenticated\"");
    authz_free(a);
}

/* ---- missing roles: nothing granted, the apiserver's errors as the reason ---- */

static void test_missing_role(void **state)
{
    struct authz *a = fx_authz_must(
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\n"
        "metadata: {name: exec, namespace: other}\n"
        "rules: [{verbs: [create], apiGroups: [\"\"], resources: [pods/exec]}]\n---\n"
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\n"
        "metadata: {name: x, namespace: dev}\n"
        "roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: exec}\n"
        "subjects: [{kind: User, name: alice}]\n---\n"
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\n"
        "metadata: {name: y}\n"
        "roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: gone}\n"
        "subjects: [{kind: Group, name: team}]\n---\n"
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\n"
        "metadata: {name: z}\n"
        "roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: gone}\n"
        "subjects: [{kind: User, name: alice}]\n");
    struct authz_decision d;
    struct authz_attrs at = fx_res("create", "", "dev", "pods", "exec", "web");
    struct auth_identity alice = fx_id("alice", "system:authenticated", NULL);
    authz_check(a, &alice, &at, &d);
    assert_false(d.allowed);
    assert_string_equal(d.reason,
                        "RBAC: [clusterrole.rbac.authorization.k8s.io \"gone\" not found, "
                        "role.rbac.authorization.k8s.io \"exec\" not found]");
    struct auth_identity bob = fx_id("bob", "team", NULL);
    authz_check(a, &bob, &at, &d);
    assert_string_equal(d.reason, "RBAC: clusterrole.rbac.authorization.k8s.io \"gone\" not found");
    struct auth_identity eve = fx_id("eve", "system:authenticated", NULL);
    authz_check(a, &eve, &at, &d);
    assert_false(d.allowed);
    assert_string_equal(d.reason, ""); /* no binding names eve: nothing to report */
    /* a missing role does not hide what other bindings allow */
    at = fx_url("get", "/version");
    authz_check(a, &alice, &at, &d);
    assert_true(d.allowed);
    authz_free(a);
}

/* Names are quoted as Go's %q quotes them. */
static void test_reason_quoting(void **state)
{
    struct authz *a = fx_authz_must(
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\n"
        "metadata: {name: \"r\\\"1\"}\nrules: [{verbs: [get], nonResourceURLs: [/x]}]\n---\n"
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\n"
        "metadata: {name: \"b:é\"}\n"
        "roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: \"r\\\"1\"}\n"
        "subjects: [{kind: User, name: \"tab\\there\\u00a0\\x01\"}]\n");
    struct auth_identity id = fx_id("tab\there\xc2\xa0\x01", NULL);
    struct authz_attrs at = fx_url("get", "/x");
    struct authz_decision d;
    authz_check(a, &id, &at, &d);
    assert_true(d.allowed);
    assert_string_equal(d.reason, "RBAC: allowed by ClusterRoleBinding \"b:é\" of ClusterRole "
                                  "\"r\\\"1\" to User \"tab\\there\\u00a0\\x01\"");
    authz_free(a);
}

/* A non-resource request has no namespace in the apiserver, so a
 * RoleBinding's ClusterRole never grants a URL, whatever ns the caller
 * left in the attributes; NULL strings read as "". */
static void test_attrs_normalized(void **state)
{
    struct authz *a = fx_authz_must(scope_policy);
    struct auth_identity bob = fx_id("bob", NULL);
    struct authz_attrs at = fx_url("get", "/metrics");
    at.ns = "dev";
    struct authz_decision d;
    authz_check(a, &bob, &at, &d);
    assert_false(d.allowed);
    struct authz_attrs nulls = {.verb = "get", .resource_request = true, .resource = "pods"};
    authz_check(a, &bob, &nulls, &d);
    assert_false(d.allowed);
    char msg[AUTHZ_REASON_MAX];
    authz_forbidden_message(&bob, &nulls, NULL, msg, sizeof(msg));
    assert_string_equal(msg, "pods is forbidden: User \"bob\" cannot get resource \"pods\" in "
                             "API group \"\" at the cluster scope");
    authz_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matcher_grid),   cmocka_unit_test(test_scope_and_subjects),
        cmocka_unit_test(test_builtin),        cmocka_unit_test(test_builtin_replaced),
        cmocka_unit_test(test_missing_role),   cmocka_unit_test(test_attrs_normalized),
        cmocka_unit_test(test_reason_quoting),
    };
    return cmocka_run_group_tests(tests, unit_tmpdir_setup, unit_tmpdir_teardown);
}
