/* authz_internal.h - the loaded policy model shared by the authz files: the
 * loader builds it (authz_load.c, authz_yaml.c, authz_parse_*.c), the checks
 * read it (authz_rbac.c, authz_exec.c, authz_rules.c). Not for other modules.
 *
 * Everything a struct authz holds lives in one arena, so freeing it, and
 * unwinding a load that failed half-way, is one call. */
#ifndef PODTERM_AUTHZ_INTERNAL_H
#define PODTERM_AUTHZ_INTERNAL_H

#include "authz/authz.h"

#include <stdarg.h>
#include <stdint.h>

/* ---- arena ---- */

struct authz_chunk;

struct authz_arena {
    struct authz_chunk *head;
};

void *authz_arena_alloc(struct authz_arena *a, size_t size); /* zeroed; NULL on OOM */
char *authz_arena_strndup(struct authz_arena *a, const char *s, size_t len);
void authz_arena_free(struct authz_arena *a);

/* ---- model ---- */

struct authz_strs {
    char **v;
    size_t n;
};

/* One PolicyRule, as rbac/v1. */
struct authz_rule {
    struct authz_strs verbs, api_groups, resources, resource_names, urls;
};

struct authz_role {
    const char *name;
    const char *ns; /* NULL: a ClusterRole */
    const struct authz_rule *rules;
    size_t rules_len;
    int line;         /* where it was defined, for duplicate reports */
    const char *path; /* the file it came from */
};

enum authz_subject_kind { AUTHZ_SUBJECT_USER, AUTHZ_SUBJECT_GROUP, AUTHZ_SUBJECT_SA };

struct authz_subject {
    enum authz_subject_kind kind;
    const char *name;
    const char *ns; /* ServiceAccount only; NULL: the binding's namespace */
};

struct authz_binding {
    const char *name;
    const char *ns; /* NULL: a ClusterRoleBinding */
    bool ref_cluster_role;
    const char *role_name;
    const struct authz_subject *subjects;
    size_t subjects_len;
    const struct authz_role *role; /* resolved after loading; NULL: no such role */
    int line;
    const char *path;
};

enum authz_selector_op {
    AUTHZ_OP_IN,
    AUTHZ_OP_NOT_IN,
    AUTHZ_OP_EXISTS,
    AUTHZ_OP_DOES_NOT_EXIST,
};

struct authz_selector_req {
    const char *key;
    enum authz_selector_op op;
    struct authz_strs values;
};

struct authz_command {
    bool prefix; /* prefix: argv starts with these; exact: argv is these */
    struct authz_strs argv;
};

enum authz_tty { AUTHZ_TTY_ALLOWED, AUTHZ_TTY_REQUIRED, AUTHZ_TTY_FORBIDDEN };

struct authz_exec_policy {
    const char *name;
    const struct authz_subject *subjects;
    size_t subjects_len;
    bool has_namespaces;
    struct authz_strs namespaces;
    bool has_selector;
    const struct authz_label *match_labels;
    size_t match_labels_len;
    const struct authz_selector_req *match_exprs;
    size_t match_exprs_len;
    bool has_containers;
    struct authz_strs containers;
    bool has_commands;
    const struct authz_command *commands;
    size_t commands_len;
    enum authz_tty tty;
    bool read_only;
    unsigned max_duration_s;
    unsigned idle_timeout_s;
    int line;
    const char *path;
};

/* Every array is sorted by (namespace, name), as the apiserver lists them;
 * the RBAC walk visits them in this order. */
struct authz {
    struct authz_arena arena;
    struct authz_role *roles; /* namespaced */
    size_t roles_len;
    struct authz_role *cluster_roles;
    size_t cluster_roles_len;
    struct authz_binding *role_bindings;
    size_t role_bindings_len;
    struct authz_binding *cluster_role_bindings;
    size_t cluster_role_bindings_len;
    struct authz_exec_policy *exec_policies;
    size_t exec_policies_len;
};

const struct authz_role *authz_role_find(const struct authz *authz, const char *ns,
                                         const char *name);

/* The apiserver's appliesTo: the index of the first subject naming id, or -1.
 * ns defaults a ServiceAccount subject's namespace ("" : none). */
long authz_subjects_match(const struct authz_subject *s, size_t n, const struct auth_identity *id,
                          const char *ns);

/* The attributes as the apiserver has them: NULL strings as "" (authz.h
 * promises none, a caller's slip must not crash), and no namespace on a
 * non-resource request (it has none, so RoleBindings never apply to it). */
static inline struct authz_attrs authz_attrs_norm(const struct authz_attrs *at)
{
    struct authz_attrs n = *at;
    const char **fields[] = {&n.verb,        &n.api_group, &n.ns,  &n.resource,
                             &n.subresource, &n.name,      &n.path};
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        if (!*fields[i])
            *fields[i] = "";
    if (!n.resource_request)
        n.ns = "";
    return n;
}

/* ---- the RBAC walk (authz_rbac.c), shared by the check and the rules review ---- */

/* VisitRulesFor's visitor: rule() for each rule of each binding that names
 * the identity (until stop is set), missing() for such a binding whose role
 * does not exist. */
struct authz_visitor {
    void (*rule)(struct authz_visitor *v, const struct authz_binding *b,
                 const struct authz_subject *s, const struct authz_rule *r);
    void (*missing)(struct authz_visitor *v, const struct authz_binding *b);
    bool stop;
};

void authz_visit(const struct authz *authz, const struct auth_identity *id, const char *ns,
                 struct authz_visitor *v);

#define AUTHZ_ERRORS_SHOWN 4 /* distinct not-found errors named in a reason */

/* The not-found errors of one walk, each message once. */
struct authz_errors {
    char seen[AUTHZ_ERRORS_SHOWN][AUTHZ_NAME_MAX + 64];
    size_t n;
    size_t total;
};

void authz_errors_add(struct authz_errors *e, const struct authz_binding *b);
/* As utilerrors.NewAggregate(errs).Error(). */
void authz_errors_format(const struct authz_errors *e, char *buf, size_t cap, size_t *off);

/* ---- text ---- */

/* Go's strconv.Quote (fmt's %q) of s into buf at *off, never past cap;
 * buf stays NUL-terminated. */
void authz_quote(char *buf, size_t cap, size_t *off, const char *s);
/* printf into buf at *off, never past cap (truncating); NUL-terminated. */
void authz_append(char *buf, size_t cap, size_t *off, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
