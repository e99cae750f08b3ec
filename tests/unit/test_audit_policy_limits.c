/* test_audit_policy_limits.c - the audit Policy loader at its limits and
 * on the refusals test_audit_policy.c does not reach: lists and rule
 * counts one past their bounds, API groups at every rule of a DNS
 * subdomain (length, labels, dots, dashes, case), omitManagedFields that is
 * null, quoted or a list, and a metadata that is not a mapping. Each
 * refusal is its exact "FILE:LINE: reason". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "audit/audit.h"
#include "audit/audit_policy_internal.h"
#include "unit_tmpdir.h"

#define HEAD "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n"
#define TEXT_MAX (64 * 1024)

static void assert_refused(const char *yaml, const char *want_after_path)
{
    const char *path = unit_tmpdir_write("bad.yaml", yaml);
    char err[AUDIT_ERR_MAX] = "";
    struct audit_policy *p = audit_policy_load(path, err, sizeof(err));
    char want[AUDIT_ERR_MAX + UNIT_TMPDIR_PATH_MAX];
    snprintf(want, sizeof(want), "%s:%s", path, want_after_path);
    if (p || strcmp(err, want) != 0)
        fail_msg("\n got  %s\n want %s", p ? "(loaded)" : err, want);
}

static struct audit_policy *assert_loads(const char *yaml)
{
    char err[AUDIT_ERR_MAX] = "";
    struct audit_policy *p =
        audit_policy_load(unit_tmpdir_write("ok.yaml", yaml), err, sizeof(err));
    if (!p)
        fail_msg("refused: %s", err);
    return p;
}

/* n entries "[v0, v1, ...]" for a flow list */
static void flow_list(char *out, size_t cap, size_t n)
{
    size_t o = (size_t)snprintf(out, cap, "[");
    for (size_t i = 0; i < n; i++)
        o += (size_t)snprintf(out + o, cap - o, "%sv%zu", i ? "," : "", i);
    snprintf(out + o, cap - o, "]");
}

static void test_list_bounds(void **state)
{
    static char text[TEXT_MAX], list[TEXT_MAX / 2];
    flow_list(list, sizeof(list), AUDIT_POLICY_LIST_MAX);
    snprintf(text, sizeof(text), HEAD "- level: None\n  verbs: %s\n", list);
    struct audit_policy *p = assert_loads(text);
    assert_int_equal(p->rules[0].verbs.len, AUDIT_POLICY_LIST_MAX);
    audit_policy_free(p);

    flow_list(list, sizeof(list), AUDIT_POLICY_LIST_MAX + 1);
    snprintf(text, sizeof(text), HEAD "- level: None\n  verbs: %s\n", list);
    assert_refused(text, "5: verbs entry has more than 1024 entries");
    snprintf(text, sizeof(text), HEAD "- level: None\n  resources: %s\n", list);
    assert_refused(text, "5: resources has more than 1024 entries");
}

static void test_rule_bound(void **state)
{
    static char text[TEXT_MAX];
    size_t o = (size_t)snprintf(text, sizeof(text), "%s", HEAD);
    for (int i = 0; i < AUDIT_POLICY_RULES_MAX; i++)
        o += (size_t)snprintf(text + o, sizeof(text) - o, "- level: None\n");
    struct audit_policy *p = assert_loads(text);
    assert_int_equal(p->rules_len, AUDIT_POLICY_RULES_MAX);
    audit_policy_free(p);
    snprintf(text + o, sizeof(text) - o, "- level: None\n");
    assert_refused(text, "3: more than 1024 rules");
}

static void test_groups_dns_subdomain(void **state)
{
    static const char *const good[] = {"apps.example.com", "a-b.c", "x", "0.9"};
    char text[1024];
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        snprintf(text, sizeof(text), HEAD "- level: None\n  resources: [{group: \"%s\"}]\n",
                 good[i]);
        struct audit_policy *p = assert_loads(text);
        assert_string_equal(p->rules[0].resources[0].group, good[i]);
        audit_policy_free(p);
    }
    char label64[65], long254[255];
    memset(label64, 'a', 64);
    label64[64] = '\0';
    for (size_t i = 0; i < 254; i++)
        long254[i] = i % 50 == 49 ? '.' : 'b';
    long254[254] = '\0';
    const char *const bad[] = {".apps", "apps.", "a..b", "a-.b",  "-a",   "a-",
                               "Apps",  "a_b",   "a~b",  label64, long254};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(text, sizeof(text), HEAD "- level: None\n  resources: [{group: \"%s\"}]\n",
                 bad[i]);
        char want[1024];
        snprintf(want, sizeof(want),
                 "5: group \"%.64s\" is not a DNS subdomain (an API group, without its version: "
                 "\"\" is the core group)",
                 bad[i]); /* the value is echoed up to 64 bytes */
        assert_refused(text, want);
    }
}

static void test_managed_fields_and_metadata(void **state)
{
    struct audit_policy *p = assert_loads(HEAD "- level: None\n  omitManagedFields:\n");
    audit_policy_free(p);
    assert_refused(HEAD "- level: None\n  omitManagedFields: \"true\"\n",
                   "5: omitManagedFields must be true or false");
    assert_refused(HEAD "- level: None\n  omitManagedFields: [true]\n",
                   "5: omitManagedFields must be a string");
    assert_refused("apiVersion: audit.k8s.io/v1\nkind: Policy\nmetadata: [x]\nrules:\n"
                   "- level: None\n",
                   "3: metadata must be a mapping");
    assert_refused("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [{level: None}]\n"
                   "omitStages: {a: b}\n",
                   "4: omitStages entry must be a list");
    /* null lists: no rules at all; a rule's null resources are none */
    assert_refused("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n",
                   "1: the policy has no rules");
    p = assert_loads(HEAD "- level: None\n  resources:\n");
    assert_int_equal(p->rules[0].resources_len, 0);
    audit_policy_free(p);
    /* nonResourceURLs with resources (not only namespaces) in one rule */
    assert_refused(HEAD
                   "- level: None\n  nonResourceURLs: [/healthz]\n  resources: [{group: \"\"}]\n",
                   "4: a rule cannot apply to both resources (resources, namespaces) and "
                   "nonResourceURLs");
}

/* Matching at its edges: a group rule and nobody known; "pods" with any subresource against
 * a resource one letter longer or of the same length; no omit array. */
static void test_matching_edges(void **state)
{
    struct audit_policy *p = assert_loads(HEAD "- level: Request\n  userGroups: [dev]\n"
                                               "- level: Metadata\n  resources:\n"
                                               "  - resources: [\"pods/*\"]\n"
                                               "omitStages: [Panic]\n");
    struct audit_attrs at = {.verb = "get",
                             .resource_request = true,
                             .api_group = "",
                             .ns = "default",
                             .resource = "podsx",
                             .subresource = "",
                             .name = "",
                             .path = ""};
    bool omit[AUDIT_STAGES] = {0};
    assert_int_equal(audit_policy_level(p, &at, omit), AUDIT_LEVEL_NONE); /* no user: no group */
    assert_true(omit[AUDIT_STAGE_PANIC]); /* the policy's own stages */
    at.resource = "nods";
    assert_int_equal(audit_policy_level(p, &at, NULL), AUDIT_LEVEL_NONE);
    at.resource = "pods";
    at.subresource = "exec";
    assert_int_equal(audit_policy_level(p, &at, NULL), AUDIT_LEVEL_METADATA);
    audit_policy_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_list_bounds),
        cmocka_unit_test(test_rule_bound),
        cmocka_unit_test(test_groups_dns_subdomain),
        cmocka_unit_test(test_managed_fields_and_metadata),
        cmocka_unit_test(test_matching_edges),
    };
    return cmocka_run_group_tests(tests, unit_tmpdir_setup, unit_tmpdir_teardown);
}
