/* test_authz_rules.c - the SelfSubjectRulesReview status for a small policy,
 * byte for byte: ClusterRoleBinding rules first (built-in ones included),
 * then the namespace's RoleBindings; resourceNames and empty lists omitted;
 * a missing role as the apiserver's evaluationError. */
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

static const char policy[] =
    "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: exec, namespace: dev}\n"
    "rules:\n- {verbs: [create], apiGroups: [\"\"], resources: [pods/exec], resourceNames: [web]}\n"
    "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: metrics}\n"
    "rules: [{verbs: [get], nonResourceURLs: [/metrics, /logs/*]}]\n---\n"
    "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\n"
    "metadata: {name: a, namespace: dev}\n"
    "roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: exec}\n"
    "subjects: [{kind: User, name: alice}]\n---\n"
    "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\n"
    "metadata: {name: b, namespace: dev}\n"
    "roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: gone}\n"
    "subjects: [{kind: User, name: alice}]\n---\n"
    "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: m}\n"
    "roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: metrics}\n"
    "subjects: [{kind: Group, name: ops}]\n";

#define BASIC                                                                                      \
    "{\"verbs\":[\"create\"],\"apiGroups\":[\"authorization.k8s.io\"],\"resources\":"              \
    "[\"selfsubjectaccessreviews\",\"selfsubjectrulesreviews\"]},{\"verbs\":[\"create\"],"         \
    "\"apiGroups\":[\"authentication.k8s.io\"],\"resources\":[\"selfsubjectreviews\"]}"
#define DISCOVERY                                                                                  \
    "{\"verbs\":[\"get\"],\"nonResourceURLs\":[\"/livez\",\"/readyz\",\"/healthz\",\"/version\","  \
    "\"/version/\",\"/openapi\",\"/openapi/*\",\"/api\",\"/api/*\",\"/apis\",\"/apis/*\"]}"
#define PUBLIC                                                                                     \
    "{\"verbs\":[\"get\"],\"nonResourceURLs\":[\"/livez\",\"/readyz\",\"/healthz\",\"/version\","  \
    "\"/version/\"]}"

static void expect_rules(const struct authz *a, const struct auth_identity *id, const char *ns,
                         const char *want)
{
    char *json = authz_rules_json(a, id, ns);
    assert_non_null(json);
    assert_string_equal(json, want);
    free(json);
}

static void test_rules(void **state)
{
    struct authz *a = fx_authz_must(policy);
    struct auth_identity alice = fx_id("alice", "ops", "system:authenticated", NULL);
    expect_rules(a, &alice, "dev",
                 "{\"resourceRules\":[" BASIC ",{\"verbs\":[\"create\"],\"apiGroups\":[\"\"],"
                 "\"resources\":[\"pods/exec\"],\"resourceNames\":[\"web\"]}],"
                 "\"nonResourceRules\":[{\"verbs\":[\"get\"],\"nonResourceURLs\":[\"/metrics\","
                 "\"/logs/*\"]}," DISCOVERY "," PUBLIC "],\"incomplete\":false,"
                 "\"evaluationError\":\"role.rbac.authorization.k8s.io \\\"gone\\\" not found\"}");
    /* another namespace: only the cluster-wide rules */
    expect_rules(a, &alice, "prod",
                 "{\"resourceRules\":[" BASIC "],\"nonResourceRules\":[{\"verbs\":[\"get\"],"
                 "\"nonResourceURLs\":[\"/metrics\",\"/logs/*\"]}," DISCOVERY "," PUBLIC
                 "],\"incomplete\":false}");
    struct auth_identity anon = fx_id("system:anonymous", "system:unauthenticated", NULL);
    expect_rules(a, &anon, "dev",
                 "{\"resourceRules\":[],\"nonResourceRules\":[" PUBLIC "],\"incomplete\":false}");
    struct auth_identity nobody = fx_id("x", NULL);
    expect_rules(a, &nobody, "",
                 "{\"resourceRules\":[],\"nonResourceRules\":[],\"incomplete\":false}");
    authz_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_rules)};
    return cmocka_run_group_tests(tests, unit_tmpdir_setup, unit_tmpdir_teardown);
}
