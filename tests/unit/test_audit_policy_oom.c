/* test_audit_policy_oom.c - the audit Policy out of memory: the default
 * policy says "out of memory"; a policy file whose loading runs out at any
 * allocation is refused with "FILE:LINE: out of memory" (or the file
 * reader's own message), never a policy with a rule or a list entry
 * missing, which would log less than its author asked. Freed in every
 * case (the leak check at exit). */
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
#include "unit_oom.h"
#include "unit_tmpdir.h"

/* Every allocating part: rules, each kind of list, resources entries with
 * and without a group, resourceNames, omitStages of a rule and the policy. */
static const char policy_text[] = "apiVersion: audit.k8s.io/v1\n"
                                  "kind: Policy\n"
                                  "omitStages: [RequestReceived]\n"
                                  "rules:\n"
                                  "- level: None\n"
                                  "  users: [system:kube-proxy]\n"
                                  "  userGroups: [system:nodes]\n"
                                  "  verbs: [watch]\n"
                                  "  namespaces: [kube-system]\n"
                                  "  resources:\n"
                                  "  - group: \"\"\n"
                                  "    resources: [endpoints, services]\n"
                                  "    resourceNames: [kubernetes]\n"
                                  "  - resources: [pods]\n"
                                  "- level: Metadata\n"
                                  "  nonResourceURLs: [/healthz*, /version]\n"
                                  "  omitStages: [ResponseStarted]\n"
                                  "- level: RequestResponse\n"
                                  "  omitManagedFields: true\n";

struct load_case {
    const char *path;
    long refused;
};

static void default_step(void *ctx)
{
    struct load_case *c = ctx;
    char err[AUDIT_ERR_MAX] = "";
    struct audit_policy *p = audit_policy_load(NULL, err, sizeof(err));
    if (unit_oom_hit()) {
        assert_null(p);
        assert_string_equal(err, "out of memory");
        c->refused++;
        return;
    }
    assert_non_null(p);
    assert_int_equal(p->rules_len, 1);
    assert_int_equal(p->rules[0].level, AUDIT_LEVEL_METADATA);
    audit_policy_free(p);
}

static void test_default_policy_out_of_memory(void **state)
{
    (void)state;
    struct load_case c = {0};
    assert_int_equal(unit_oom_sweep(default_step, &c), 2);
    assert_int_equal(c.refused, 2);
}

static bool ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), t = strlen(tail);
    return n >= t && strcmp(s + n - t, tail) == 0;
}

static void file_step(void *ctx)
{
    struct load_case *c = ctx;
    char err[AUDIT_ERR_MAX] = "";
    struct audit_policy *p = audit_policy_load(c->path, err, sizeof(err));
    if (unit_oom_hit()) {
        assert_null(p);
        size_t plen = strlen(c->path);
        if (strncmp(err, c->path, plen) != 0 || err[plen] != ':' ||
            !(ends_with(err, ": out of memory") || ends_with(err, ": cannot read the file")))
            fail_msg("unexpected error: %s", err);
        c->refused++;
        return;
    }
    if (!p)
        fail_msg("refused without a failure: %s", err);
    assert_int_equal(p->rules_len, 3);
    const struct audit_rule *r = &p->rules[0];
    assert_int_equal(r->level, AUDIT_LEVEL_NONE);
    assert_int_equal(r->users.len, 1);
    assert_string_equal(r->users.v[0], "system:kube-proxy");
    assert_string_equal(r->user_groups.v[0], "system:nodes");
    assert_string_equal(r->verbs.v[0], "watch");
    assert_string_equal(r->namespaces.v[0], "kube-system");
    assert_int_equal(r->resources_len, 2);
    assert_string_equal(r->resources[0].group, "");
    assert_int_equal(r->resources[0].resources.len, 2);
    assert_string_equal(r->resources[0].resources.v[1], "services");
    assert_string_equal(r->resources[0].names.v[0], "kubernetes");
    assert_string_equal(r->resources[1].group, "");
    assert_string_equal(r->resources[1].resources.v[0], "pods");
    assert_int_equal(p->rules[1].urls.len, 2);
    assert_string_equal(p->rules[1].urls.v[0], "/healthz*");
    assert_true(p->rules[1].omit[AUDIT_STAGE_RESPONSE_STARTED]);
    assert_true(p->rules[1].omit[AUDIT_STAGE_REQUEST_RECEIVED]);
    assert_int_equal(p->rules[2].level, AUDIT_LEVEL_REQUEST_RESPONSE);
    audit_policy_free(p);
}

static void test_policy_file_out_of_memory(void **state)
{
    (void)state;
    struct load_case c = {.path = unit_tmpdir_write("policy.yaml", policy_text)};
    long allocations = unit_oom_sweep(file_step, &c);
    assert_true(allocations > 20);
    assert_int_equal(c.refused, allocations);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_policy_out_of_memory),
        cmocka_unit_test(test_policy_file_out_of_memory),
    };
    return cmocka_run_group_tests(tests, unit_tmpdir_setup, unit_tmpdir_teardown);
}
