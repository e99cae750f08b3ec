/* authz.h - may this identity do this? Kubernetes RBAC, evaluated the way
 * kube-apiserver's RBAC authorizer does, plus podterm's ExecPolicy for what
 * RBAC cannot say about an exec (which command, tty, stdin, how long).
 *
 * Pure: policy files are read once by authz_load() into an immutable
 * struct authz; every check is a function of that struct and its arguments,
 * no I/O, no clock, no globals. The admission path (src/admit/) builds the
 * attributes from the request, and swaps in a newly loaded struct authz when
 * the files change (a failed load keeps the old one).
 *
 * Sources (--authorization-rbac-file, repeatable): a file, or a folder whose
 * *.yaml, *.yml and *.json files are read in name order. Each file holds one or
 * more YAML documents (JSON is YAML); each document is one object, or a List
 * (`kind: List`, `items: [...]`, as `kubectl get -o yaml` prints several):
 *   rbac.authorization.k8s.io/v1 Role, ClusterRole, RoleBinding, ClusterRoleBinding
 *   podterm.dev/v1alpha1 ExecPolicy
 * Fields the apiserver would return and podterm does not use (status,
 * metadata.uid, resourceVersion, managedFields, annotations ...) are ignored;
 * an unknown kind or apiVersion, a missing required field or a field of the
 * wrong type is an error naming file, line and reason. So is what the
 * apiserver's validation refuses (a rule without verbs, nonResourceURLs in a
 * Role, a ClusterRoleBinding to a Role ...), an aggregationRule (list the
 * rules instead), a YAML merge key, and the same object (kind, namespace,
 * name) defined twice. A Role or RoleBinding without a namespace is in
 * "default", as kubectl apply would put it. A file may redefine a built-in
 * object (authz_builtin_yaml); bindings to roles that exist nowhere grant
 * nothing. */
#ifndef PODTERM_AUTHZ_H
#define PODTERM_AUTHZ_H

#include <stdbool.h>
#include <stddef.h>

#include "auth/auth.h"

#define AUTHZ_ERR_MAX 512          /* a load error: "file:line: reason" */
#define AUTHZ_REASON_MAX 512       /* a decision's reason (audit annotation, Status text) */
#define AUTHZ_FILE_MAX (4u << 20)  /* bytes of one policy file */
#define AUTHZ_FILES_MAX 256        /* files read from all sources */
#define AUTHZ_OBJECTS_MAX 10000    /* objects (roles, bindings, policies) in all files */
#define AUTHZ_RULES_MAX 1000       /* rules of one role / commands of one ExecPolicy */
#define AUTHZ_LIST_MAX 1000        /* items of one string list (verbs, resources, subjects ...) */
#define AUTHZ_ARGV_MAX 256         /* elements of one command in an ExecPolicy */
#define AUTHZ_NAME_MAX 253         /* an object's name or namespace, a label key's prefix */
#define AUTHZ_STRING_MAX 1024      /* any other string: verb, resource, URL, subject, label value */
#define AUTHZ_ARG_MAX 4096         /* one element of an ExecPolicy command */
#define AUTHZ_NODES_MAX (1u << 21) /* YAML nodes one load walks, aliases followed */
#define AUTHZ_DURATION_MAX_S (30u * 24 * 3600) /* maxSessionDuration, idleTimeout */

struct authz;

/* Read every source (paths[0..n)); NULL with "file:line: reason" in err on
 * any error. n == 0 is an error (the caller keeps RBAC off instead). */
struct authz *authz_load(const char *const *paths, size_t n, char *err, size_t err_cap);
void authz_free(struct authz *authz);

/* What is asked, as kube-apiserver's authorizer.Attributes. Strings are
 * never NULL; "" means absent (core API group, cluster scope, no name, no
 * subresource). The identity's groups already include system:authenticated
 * or system:unauthenticated (the admission path adds them, as the apiserver
 * does). */
struct authz_attrs {
    const char *verb; /* get list watch create update patch delete deletecollection ... */
    bool resource_request;
    const char *api_group;
    const char *ns;
    const char *resource;    /* "pods", "namespaces" ... */
    const char *subresource; /* "exec", "attach", "log" ... */
    const char *name;
    const char *path; /* non-resource requests: the URL path ("/version") */
};

struct authz_decision {
    bool allowed;
    /* Allowed: the apiserver's own words, e.g. `RBAC: allowed by RoleBinding
     * "dev/team-a" of Role "exec" to Group "devs"`. Denied: "" (RBAC gives
     * no reason, as in the apiserver), except when a binding that names the
     * identity refers to a role that does not exist: then, as the
     * apiserver's reason, its lookup errors, `RBAC: role.rbac.authorization.k8s.io
     * "exec" not found` (several: `RBAC: [a, b]`). */
    char reason[AUTHZ_REASON_MAX];
};

/* The bootstrap policy every load starts from, as YAML: the apiserver's
 * ClusterRoles "system:basic-user" (create selfsubjectaccessreviews and
 * selfsubjectrulesreviews in authorization.k8s.io, selfsubjectreviews in
 * authentication.k8s.io), "system:discovery" (get /livez, /readyz, /healthz,
 * /version, /version/, /openapi, /openapi/ *, /api, /api/ *, /apis, /apis/ *, the
 * stars written without their space) and
 * "system:public-info-viewer" (get /livez, /readyz, /healthz, /version,
 * /version/), each bound by the ClusterRoleBinding of the same name: the first
 * two to Group system:authenticated, the last to system:authenticated and
 * system:unauthenticated. A policy file defining a ClusterRole or
 * ClusterRoleBinding of the same name replaces the built-in one. */
const char *authz_builtin_yaml(void);

/* The RBAC decision. Unmatched means denied. */
void authz_check(const struct authz *authz, const struct auth_identity *id,
                 const struct authz_attrs *at, struct authz_decision *d);

/* The apiserver's Forbidden message, word for word, with ": <reason>"
 * appended when reason is non-empty:
 *   pods "local" is forbidden: User "bob" cannot create resource "pods/exec" in API
 *   group "" in the namespace "default"
 *   pods is forbidden: User "bob" cannot list resource "pods" in API group "" at the
 *   cluster scope
 *   forbidden: User "bob" cannot get path "/metrics"
 * Truncated (never overflowing) to cap. */
void authz_forbidden_message(const struct auth_identity *id, const struct authz_attrs *at,
                             const char *reason, char *buf, size_t cap);

/* ---- ExecPolicy ----
 *
 *   apiVersion: podterm.dev/v1alpha1
 *   kind: ExecPolicy
 *   metadata: {name: prod-readonly}
 *   spec:
 *     subjects: [{kind: Group, name: oncall}]   # RBAC subjects; required, non-empty
 *     namespaces: [prod]                        # absent: every namespace
 *     podSelector:                              # absent: every pod
 *       matchLabels: {app: web}
 *       matchExpressions: [{key: tier, operator: In|NotIn|Exists|DoesNotExist, values: [..]}]
 *     containers: [app]                         # absent: every container
 *     commands:                                 # absent: any command; exec only
 *       - exact: [ls, -l]
 *       - prefix: [cat]
 *     tty: Required | Forbidden | Allowed       # default Allowed
 *     readOnly: true                            # stdin refused
 *     maxSessionDuration: 30m                   # Go duration (h, m, s); absent: none
 *     idleTimeout: 5m                           # no input and no output this long
 *
 * Policies are cluster-scoped and checked in name order. A ServiceAccount
 * subject names its namespace. `commands: []` allows no command (attach
 * only); an empty namespaces or containers list is a load error (leave it
 * out instead). exact matches argv element for element, prefix when argv
 * starts with its elements. Durations: Go's syntax with h, m and s ("90s",
 * "1h30m", "1.5h"), whole seconds, more than 0, at most AUTHZ_DURATION_MAX_S.
 * Selectors mean what labels.Selector means (NotIn and DoesNotExist hold
 * for a missing label). A refused command is shown as a JSON array, each
 * argument cut to 64 bytes and the array to about 200.
 * Every ExecPolicy that applies to a request (subjects, namespace, pod
 * labels, container all match) must allow it; the first that does not is
 * named in the denial. The limits of all that apply combine to the
 * strictest (smallest non-zero duration). No ExecPolicy applying: allowed,
 * no limits. */

#define AUTHZ_LABELS_UNKNOWN ((size_t)-1) /* gateway mode: the pod's labels are not known */

struct authz_label {
    const char *key;
    const char *value;
};

struct authz_exec {
    const char *ns;
    const char *pod;
    /* The pod's labels; labels_len == AUTHZ_LABELS_UNKNOWN when they cannot
     * be known without asking the cluster: then a policy with a podSelector
     * is taken to apply (its restrictions hold; fail closed). */
    const struct authz_label *labels;
    size_t labels_len;
    const char *container;
    bool attach;             /* attach runs no command: `commands` does not apply */
    const char *const *argv; /* exec's command */
    size_t argc;
    bool tty;
    bool want_stdin;
};

struct authz_exec_decision {
    bool allowed;
    /* Denied: `ExecPolicy "prod-readonly": <why>`, e.g. `command ["rm","-rf","/"]
     * is not in the allowed commands`, `stdin is not allowed (readOnly)`, `a
     * TTY is required`, `a TTY is forbidden`. Allowed: the names of the
     * policies that applied (`ExecPolicy "a", "b"`), or "" when none did. */
    char reason[AUTHZ_REASON_MAX];
    unsigned max_duration_s;                        /* 0: no limit */
    unsigned idle_timeout_s;                        /* 0: no limit */
    char max_duration_policy[AUTHZ_REASON_MAX / 2]; /* name of the policy that set it */
    char idle_timeout_policy[AUTHZ_REASON_MAX / 2];
};

void authz_exec_check(const struct authz *authz, const struct auth_identity *id,
                      const struct authz_exec *ex, struct authz_exec_decision *d);

/* ---- SelfSubjectRulesReview ----
 * The rules that apply to id in namespace ns (cluster-wide ones included),
 * as the apiserver's SelfSubjectRulesReview status: a new JSON string
 *   {"resourceRules":[{"verbs":[..],"apiGroups":[..],"resources":[..],
 *     "resourceNames":[..]}],"nonResourceRules":[{"verbs":[..],
 *     "nonResourceURLs":[..]}],"incomplete":false}
 * (resourceNames omitted when empty; rules in the RBAC walk's order:
 * ClusterRoleBindings, then the namespace's RoleBindings, each sorted by
 * name), plus "evaluationError" (the apiserver's) when a binding naming id
 * refers to a missing role; caller frees; NULL on out of memory. */
char *authz_rules_json(const struct authz *authz, const struct auth_identity *id, const char *ns);

#endif
