/* fuzz_audit_policy.c - libFuzzer target for the audit.k8s.io/v1 Policy
 * loader (audit_policy_load: YAML or JSON through libfyaml) and the checker
 * behind it. The input is the file.
 *
 * Invariants: a load either fails with a non-empty, NUL-terminated message
 * that starts with the file's path, or yields a policy that keeps the
 * loader's promises: 1 to AUDIT_POLICY_RULES_MAX rules, each with a known
 * level, lists within AUDIT_POLICY_LIST_MAX of non-NULL strings, never both
 * nonResourceURLs and resources/namespaces, an API group on every resources
 * entry, resourceNames only beside resources, and the policy's omitStages in
 * every rule's. The checker then answers a fixed set of requests with a known
 * level, and its omitted stages always include the policy's own. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "audit/audit_policy_internal.h"
#include "fuzz_memfile.h"

#define FUZZ_IN_MAX (64 * 1024)

static struct fuzz_memfile file;

static void check_strs(const struct audit_strs *s)
{
    if (s->len > AUDIT_POLICY_LIST_MAX || (s->len && !s->v))
        __builtin_trap();
    for (size_t i = 0; i < s->len; i++)
        if (!s->v[i] || strlen(s->v[i]) > AUDIT_POLICY_STRING_MAX)
            __builtin_trap();
}

static void check_rule(const struct audit_policy *p, const struct audit_rule *r)
{
    if ((unsigned)r->level > AUDIT_LEVEL_REQUEST_RESPONSE)
        __builtin_trap();
    check_strs(&r->users);
    check_strs(&r->user_groups);
    check_strs(&r->verbs);
    check_strs(&r->namespaces);
    check_strs(&r->urls);
    if (r->urls.len && (r->resources_len || r->namespaces.len))
        __builtin_trap();
    for (size_t i = 0; i < r->urls.len; i++)
        if (strcmp(r->urls.v[i], "*") != 0 && r->urls.v[i][0] != '/')
            __builtin_trap();
    if (r->resources_len > AUDIT_POLICY_LIST_MAX)
        __builtin_trap();
    for (size_t i = 0; i < r->resources_len; i++) {
        const struct audit_group_resources *gr = &r->resources[i];
        if (!gr->group || (gr->names.len && !gr->resources.len))
            __builtin_trap();
        check_strs(&gr->resources);
        check_strs(&gr->names);
    }
    for (int s = 0; s < AUDIT_STAGES; s++)
        if (p->omit[s] && !r->omit[s])
            __builtin_trap();
}

static void check_decisions(const struct audit_policy *p)
{
    static struct auth_identity alice = {
        .user = "alice", .groups = {"system:authenticated"}, .groups_len = 1};
    const struct audit_attrs reqs[] = {
        {&alice, "create", true, "", "default", "pods", "exec", "web", ""},
        {&alice, "get", true, "apps", "", "deployments", "", "", ""},
        {NULL, "get", false, "", "", "", "", "", "/healthz/etcd"},
        {&alice, "watch", false, "", "", "", "", "", "/api"},
    };
    for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
        bool omit[AUDIT_STAGES];
        memset(omit, 0x5a, sizeof(omit));
        enum audit_level l = audit_policy_level(p, &reqs[i], omit);
        if ((unsigned)l > AUDIT_LEVEL_REQUEST_RESPONSE)
            __builtin_trap();
        for (int s = 0; s < AUDIT_STAGES; s++)
            if ((omit[s] != true && omit[s] != false) || (p->omit[s] && !omit[s]))
                __builtin_trap();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_IN_MAX)
        return 0;
    const char *path = fuzz_memfile_set(&file, data, size);
    char err[AUDIT_ERR_MAX];
    memset(err, 'x', sizeof(err));
    struct audit_policy *p = audit_policy_load(path, err, sizeof(err));
    if (!p) {
        if (strnlen(err, sizeof(err)) == sizeof(err) || strncmp(err, path, strlen(path)) != 0 ||
            strlen(err) <= strlen(path) + 1)
            __builtin_trap();
        return 0;
    }
    if (p->rules_len == 0 || p->rules_len > AUDIT_POLICY_RULES_MAX)
        __builtin_trap();
    for (size_t i = 0; i < p->rules_len; i++)
        check_rule(p, &p->rules[i]);
    check_decisions(p);
    audit_policy_free(p);
    return 0;
}
