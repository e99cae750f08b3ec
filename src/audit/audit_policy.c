/* audit_policy.c - which level and stages a request gets, decided as
 * kube-apiserver's policy checker (k8s.io/apiserver/pkg/audit/policy,
 * checker.go) decides: the first rule whose every non-empty matcher accepts
 * the request wins; no rule: None, with the policy's own omitStages.
 *
 * Matchers: users (the user name), userGroups (any of the user's groups),
 * verbs; namespaces and resources only ever match resource requests
 * (namespace "" is a cluster-scoped request), nonResourceURLs only ever
 * non-resource ones (exact, "*", or a prefix ending in "*"). A resource entry
 * matches "res" or "res/sub" exactly, "*", "*\/sub" for that subresource of
 * anything, and "res/\*" for res itself and every subresource of it. */
#include "audit/audit_policy_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const audit_level_names[] = {"None", "Metadata", "Request", "RequestResponse"};
static const char *const audit_stage_names[] = {"RequestReceived", "ResponseStarted",
                                                "ResponseComplete", "Panic"};

int audit_level_parse(const char *s)
{
    for (int i = 0; i <= AUDIT_LEVEL_REQUEST_RESPONSE; i++)
        if (strcmp(s, audit_level_names[i]) == 0)
            return i;
    return -1;
}

int audit_stage_parse(const char *s)
{
    for (int i = 0; i < AUDIT_STAGES; i++)
        if (strcmp(s, audit_stage_names[i]) == 0)
            return i;
    return -1;
}

/* ---- freeing ---- */

void audit_strs_clear(struct audit_strs *s)
{
    for (size_t i = 0; s->v && i < s->len; i++)
        free(s->v[i]);
    free(s->v);
    s->v = NULL;
    s->len = 0;
}

void audit_rule_clear(struct audit_rule *r)
{
    audit_strs_clear(&r->users);
    audit_strs_clear(&r->user_groups);
    audit_strs_clear(&r->verbs);
    audit_strs_clear(&r->namespaces);
    audit_strs_clear(&r->urls);
    for (size_t i = 0; r->resources && i < r->resources_len; i++) {
        free(r->resources[i].group);
        audit_strs_clear(&r->resources[i].resources);
        audit_strs_clear(&r->resources[i].names);
    }
    free(r->resources);
    r->resources = NULL;
    r->resources_len = 0;
}

void audit_policy_free(struct audit_policy *policy)
{
    if (!policy)
        return;
    for (size_t i = 0; policy->rules && i < policy->rules_len; i++)
        audit_rule_clear(&policy->rules[i]);
    free(policy->rules);
    free(policy);
}

/* ---- loading ---- */

/* Without a policy file podterm still audits every request, at Metadata: a
 * one-rule policy that matches everything. (kube-apiserver without a policy
 * file logs nothing; asking for a log path and getting an empty log would
 * surprise more than it helps.) */
static struct audit_policy *audit_policy_default(void)
{
    struct audit_policy *p = calloc(1, sizeof(*p));
    if (!p || !(p->rules = calloc(1, sizeof(*p->rules)))) {
        free(p);
        return NULL;
    }
    p->rules_len = 1;
    p->rules[0].level = AUDIT_LEVEL_METADATA;
    return p;
}

struct audit_policy *audit_policy_load(const char *path, char *err, size_t err_cap)
{
    if (path)
        return audit_policy_parse_file(path, err, err_cap);
    struct audit_policy *p = audit_policy_default();
    if (!p && err && err_cap)
        snprintf(err, err_cap, "out of memory");
    return p;
}

/* ---- matching ---- */

static bool audit_strs_has(const struct audit_strs *s, const char *value)
{
    for (size_t i = 0; i < s->len; i++)
        if (strcmp(s->v[i], value) == 0)
            return true;
    return false;
}

static bool audit_path_matches(const char *path, const char *spec)
{
    if (strcmp(spec, "*") == 0 || strcmp(spec, path) == 0)
        return true;
    size_t n = strlen(spec);
    if (n == 0 || spec[n - 1] != '*')
        return false;
    while (n && spec[n - 1] == '*') /* Go's strings.TrimRight(spec, "*") */
        n--;
    return strncmp(path, spec, n) == 0;
}

/* res is "resource" or "resource/subresource" for this request. */
static bool audit_resource_is(const char *res, const struct audit_attrs *at)
{
    size_t n = strlen(at->resource);
    if (strncmp(res, at->resource, n) != 0)
        return false;
    if (!*at->subresource)
        return res[n] == '\0';
    return res[n] == '/' && strcmp(res + n + 1, at->subresource) == 0;
}

static bool audit_resource_matches(const char *res, const struct audit_attrs *at)
{
    if (audit_resource_is(res, at) || strcmp(res, "*") == 0)
        return true;
    if (*at->subresource && strncmp(res, "*/", 2) == 0 && strcmp(res + 2, at->subresource) == 0)
        return true;
    size_t n = strlen(res);
    return n >= 2 && strcmp(res + n - 2, "/*") == 0 && strlen(at->resource) == n - 2 &&
           strncmp(res, at->resource, n - 2) == 0;
}

static bool audit_rule_matches_resource(const struct audit_rule *r, const struct audit_attrs *at)
{
    if (!at->resource_request)
        return false;
    if (r->namespaces.len && !audit_strs_has(&r->namespaces, at->ns))
        return false;
    if (r->resources_len == 0)
        return true;
    for (size_t i = 0; i < r->resources_len; i++) {
        const struct audit_group_resources *gr = &r->resources[i];
        if (strcmp(gr->group, at->api_group) != 0)
            continue;
        if (gr->resources.len == 0)
            return true;
        if (gr->names.len && !audit_strs_has(&gr->names, at->name))
            continue;
        for (size_t k = 0; k < gr->resources.len; k++)
            if (audit_resource_matches(gr->resources.v[k], at))
                return true;
    }
    return false;
}

static bool audit_rule_matches(const struct audit_rule *r, const struct audit_attrs *at)
{
    const struct auth_identity *u = at->user;
    if (r->users.len && (!u || !audit_strs_has(&r->users, u->user)))
        return false;
    if (r->user_groups.len) {
        bool any = false;
        for (size_t i = 0; u && i < u->groups_len && i < AUTH_GROUPS_MAX && !any; i++)
            any = audit_strs_has(&r->user_groups, u->groups[i]);
        if (!any)
            return false;
    }
    if (r->verbs.len && !audit_strs_has(&r->verbs, at->verb))
        return false;
    if (r->namespaces.len || r->resources_len)
        return audit_rule_matches_resource(r, at);
    if (r->urls.len) {
        if (at->resource_request)
            return false;
        for (size_t i = 0; i < r->urls.len; i++)
            if (audit_path_matches(at->path, r->urls.v[i]))
                return true;
        return false;
    }
    return true;
}

enum audit_level audit_policy_level(const struct audit_policy *policy, const struct audit_attrs *at,
                                    bool omit[AUDIT_STAGES])
{
    for (size_t i = 0; i < policy->rules_len; i++) {
        const struct audit_rule *r = &policy->rules[i];
        if (audit_rule_matches(r, at)) {
            if (omit)
                memcpy(omit, r->omit, sizeof(r->omit));
            return r->level;
        }
    }
    if (omit)
        memcpy(omit, policy->omit, sizeof(policy->omit));
    return AUDIT_LEVEL_NONE;
}
