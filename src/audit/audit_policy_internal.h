/* audit_policy_internal.h - the parsed audit.k8s.io/v1 Policy, shared by the
 * loader (audit_policy_load.c) and the checker (audit_policy.c). Not for
 * other modules. */
#ifndef PODTERM_AUDIT_POLICY_INTERNAL_H
#define PODTERM_AUDIT_POLICY_INTERNAL_H

#include "audit/audit.h"

#define AUDIT_POLICY_RULES_MAX 1024  /* rules of one policy */
#define AUDIT_POLICY_LIST_MAX 1024   /* entries of one list in a rule */
#define AUDIT_POLICY_STRING_MAX 1024 /* one user, group, verb, resource, URL ... */

/* A list of strings; empty (len 0) matches everything, as in the apiserver. */
struct audit_strs {
    char **v;
    size_t len;
};

struct audit_group_resources {
    char *group; /* "" is the core group */
    struct audit_strs resources;
    struct audit_strs names;
};

struct audit_rule {
    enum audit_level level;
    bool level_set; /* the file named one (a rule without is an error) */
    struct audit_strs users;
    struct audit_strs user_groups;
    struct audit_strs verbs;
    struct audit_group_resources *resources;
    size_t resources_len;
    struct audit_strs namespaces;
    struct audit_strs urls;
    bool omit[AUDIT_STAGES]; /* the rule's own, unioned with the policy's */
};

struct audit_policy {
    struct audit_rule *rules;
    size_t rules_len;
    bool omit[AUDIT_STAGES];
};

void audit_strs_clear(struct audit_strs *s);
void audit_rule_clear(struct audit_rule *r);

/* The level named by s ("None", "Metadata", ...); -1 if it is none of them. */
int audit_level_parse(const char *s);
/* The stage named by s ("RequestReceived", ...); -1 if it is none of them. */
int audit_stage_parse(const char *s);

/* The YAML/JSON loader behind audit_policy_load(path != NULL). */
struct audit_policy *audit_policy_parse_file(const char *path, char *err, size_t err_cap);

#endif
