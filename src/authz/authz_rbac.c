/* authz_rbac.c - the RBAC decision, as kube-apiserver's RBAC authorizer
 * makes it (plugin/pkg/auth/authorizer/rbac): visit the rules of every
 * ClusterRoleBinding that names the identity, then, for a namespaced request,
 * of every RoleBinding in that namespace that names it; the first rule that
 * allows the request decides, and the binding and subject that led to it are
 * the reason. A binding whose role does not exist grants nothing; as in the
 * apiserver, a denial then carries the not-found errors as its reason.
 *
 * The apiserver visits bindings in its informer cache's order (unspecified);
 * podterm visits them sorted by namespace and name, so the binding named in
 * a reason is always the same one. */
#include "authz/authz_internal.h"

#include <stdio.h>
#include <string.h>

#define SA_PREFIX "system:serviceaccount:"

static bool strs_has(const struct authz_strs *s, const char *v)
{
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->v[i], v))
            return true;
    return false;
}

/* VerbMatches, APIGroupMatches: the value itself or "*". */
static bool strs_match(const struct authz_strs *s, const char *v)
{
    return strs_has(s, "*") || strs_has(s, v);
}

/* ResourceMatches: "*", the exact "pods/exec", or "*\/exec" for any
 * resource's subresource. */
static bool rule_resource_matches(const struct authz_rule *r, const char *combined, const char *sub)
{
    size_t sub_len = strlen(sub);
    for (size_t i = 0; i < r->resources.n; i++) {
        const char *res = r->resources.v[i];
        if (!strcmp(res, "*") || !strcmp(res, combined))
            return true;
        if (sub_len && strlen(res) == sub_len + 2 && res[0] == '*' && res[1] == '/' &&
            !strcmp(res + 2, sub))
            return true;
    }
    return false;
}

/* ResourceNameMatches: no names means every name (and no name). */
static bool rule_name_matches(const struct authz_rule *r, const char *name)
{
    return r->resource_names.n == 0 || strs_has(&r->resource_names, name);
}

/* NonResourceURLMatches: "*", the exact path, or a prefix ending in '*'
 * (every trailing '*' stripped, as strings.TrimRight does). */
static bool rule_url_matches(const struct authz_rule *r, const char *path)
{
    for (size_t i = 0; i < r->urls.n; i++) {
        const char *u = r->urls.v[i];
        size_t n = strlen(u);
        if (!strcmp(u, "*") || !strcmp(u, path))
            return true;
        if (n && u[n - 1] == '*') {
            while (n && u[n - 1] == '*')
                n--;
            if (!strncmp(u, path, n))
                return true;
        }
    }
    return false;
}

static bool rule_allows(const struct authz_rule *r, const struct authz_attrs *at)
{
    if (!strs_match(&r->verbs, at->verb))
        return false;
    if (!at->resource_request)
        return rule_url_matches(r, at->path);
    char combined[2 * AUTHZ_STRING_MAX + 2];
    size_t rl = strlen(at->resource), sl = strlen(at->subresource);
    if (rl + sl + 2 > sizeof(combined))
        return false; /* longer than any rule can name */
    memcpy(combined, at->resource, rl);
    combined[rl] = '/';
    memcpy(combined + rl + 1, at->subresource, sl + 1);
    if (!sl)
        combined[rl] = '\0';
    return strs_match(&r->api_groups, at->api_group) &&
           rule_resource_matches(r, combined, at->subresource) && rule_name_matches(r, at->name);
}

static bool id_in_group(const struct auth_identity *id, const char *g)
{
    for (size_t i = 0; i < id->groups_len && i < AUTH_GROUPS_MAX; i++)
        if (!strcmp(id->groups[i], g))
            return true;
    return false;
}

/* serviceaccount.MatchesUsername: "system:serviceaccount:NS:NAME". */
static bool id_is_sa(const struct auth_identity *id, const char *ns, const char *name)
{
    const char *u = id->user;
    size_t pl = strlen(SA_PREFIX), nl = strlen(ns);
    return !strncmp(u, SA_PREFIX, pl) && !strncmp(u + pl, ns, nl) && u[pl + nl] == ':' &&
           !strcmp(u + pl + nl + 1, name);
}

long authz_subjects_match(const struct authz_subject *s, size_t n, const struct auth_identity *id,
                          const char *ns)
{
    for (size_t i = 0; i < n; i++) {
        const char *sa_ns = s[i].ns ? s[i].ns : ns;
        switch (s[i].kind) {
        case AUTHZ_SUBJECT_USER:
            if (!strcmp(id->user, s[i].name))
                return (long)i;
            break;
        case AUTHZ_SUBJECT_GROUP:
            if (id_in_group(id, s[i].name))
                return (long)i;
            break;
        default:
            if (*sa_ns && id_is_sa(id, sa_ns, s[i].name))
                return (long)i;
        }
    }
    return -1;
}

/* ---- reasons ---- */

static const char *const subject_kinds[] = {"User", "Group", "ServiceAccount"};

/* describeSubject: a ServiceAccount as "name/namespace", the binding's
 * namespace when the subject names none. */
static void describe_subject(char *buf, size_t cap, size_t *off, const struct authz_subject *s,
                             const char *binding_ns)
{
    authz_append(buf, cap, off, "%s ", subject_kinds[s->kind]);
    if (s->kind != AUTHZ_SUBJECT_SA) {
        authz_quote(buf, cap, off, s->name);
        return;
    }
    char both[AUTHZ_STRING_MAX + AUTHZ_NAME_MAX + 2];
    size_t boff = 0;
    authz_append(both, sizeof(both), &boff, "%s/%s", s->name, s->ns ? s->ns : binding_ns);
    authz_quote(buf, cap, off, both);
}

/* clusterRoleBindingDescriber / roleBindingDescriber. */
static void describe_binding(char *buf, size_t cap, const struct authz_binding *b,
                             const struct authz_subject *s)
{
    size_t off = 0;
    buf[0] = '\0';
    authz_append(buf, cap, &off, "RBAC: allowed by %s ",
                 b->ns ? "RoleBinding" : "ClusterRoleBinding");
    if (b->ns) {
        char both[2 * AUTHZ_NAME_MAX + 2];
        size_t boff = 0;
        authz_append(both, sizeof(both), &boff, "%s/%s", b->name, b->ns);
        authz_quote(buf, cap, &off, both);
    } else {
        authz_quote(buf, cap, &off, b->name);
    }
    authz_append(buf, cap, &off, " of %s ", b->ref_cluster_role ? "ClusterRole" : "Role");
    authz_quote(buf, cap, &off, b->role_name);
    authz_append(buf, cap, &off, " to ");
    describe_subject(buf, cap, &off, s, b->ns ? b->ns : "");
}

/* The apiserver's not-found error for a binding's missing role, as the
 * lister words it: `role.rbac.authorization.k8s.io "x" not found`. */
static void missing_role_error(char *buf, size_t cap, const struct authz_binding *b)
{
    size_t off = 0;
    buf[0] = '\0';
    authz_append(buf, cap, &off, "%s.rbac.authorization.k8s.io ",
                 b->ref_cluster_role ? "clusterrole" : "role");
    authz_quote(buf, cap, &off, b->role_name);
    authz_append(buf, cap, &off, " not found");
}

/* ---- the walk ---- */

void authz_visit(const struct authz *authz, const struct auth_identity *id, const char *ns,
                 struct authz_visitor *v)
{
    for (size_t pass = 0; pass < 2 && !v->stop; pass++) {
        const struct authz_binding *b = pass ? authz->role_bindings : authz->cluster_role_bindings;
        size_t n = pass ? authz->role_bindings_len : authz->cluster_role_bindings_len;
        if (pass && !*ns)
            break; /* RoleBindings only count inside their namespace */
        for (size_t i = 0; i < n && !v->stop; i++) {
            if (pass && strcmp(b[i].ns, ns))
                continue;
            long si = authz_subjects_match(b[i].subjects, b[i].subjects_len, id, pass ? ns : "");
            if (si < 0)
                continue;
            if (!b[i].role) {
                v->missing(v, &b[i]);
                continue;
            }
            for (size_t r = 0; r < b[i].role->rules_len && !v->stop; r++)
                v->rule(v, &b[i], &b[i].subjects[si], &b[i].role->rules[r]);
        }
    }
}

/* ---- authz_check ---- */

struct check_visitor {
    struct authz_visitor base;
    const struct authz_attrs *at;
    struct authz_decision *d;
    struct authz_errors errors;
};

void authz_errors_add(struct authz_errors *e, const struct authz_binding *b)
{
    char msg[AUTHZ_REASON_MAX];
    missing_role_error(msg, sizeof(msg), b);
    for (size_t i = 0; i < e->n; i++)
        if (!strcmp(e->seen[i], msg))
            return; /* utilerrors.Aggregate lists each message once */
    if (e->n < AUTHZ_ERRORS_SHOWN)
        snprintf(e->seen[e->n], sizeof(e->seen[e->n]), "%s", msg);
    e->n += e->n < AUTHZ_ERRORS_SHOWN;
    e->total++;
}

/* utilerrors.NewAggregate(errs).Error(): one message alone, several as
 * "[a, b]". */
void authz_errors_format(const struct authz_errors *e, char *buf, size_t cap, size_t *off)
{
    if (e->n > 1)
        authz_append(buf, cap, off, "[");
    for (size_t i = 0; i < e->n; i++)
        authz_append(buf, cap, off, "%s%s", i ? ", " : "", e->seen[i]);
    if (e->n > 1)
        authz_append(buf, cap, off, "]");
}

static void check_missing(struct authz_visitor *base, const struct authz_binding *b)
{
    authz_errors_add(&((struct check_visitor *)base)->errors, b);
}

static void check_rule(struct authz_visitor *base, const struct authz_binding *b,
                       const struct authz_subject *s, const struct authz_rule *r)
{
    struct check_visitor *v = (struct check_visitor *)base;
    if (!rule_allows(r, v->at))
        return;
    v->d->allowed = true;
    describe_binding(v->d->reason, sizeof(v->d->reason), b, s);
    base->stop = true;
}

void authz_check(const struct authz *authz, const struct auth_identity *id,
                 const struct authz_attrs *at, struct authz_decision *d)
{
    d->allowed = false;
    d->reason[0] = '\0';
    if (!authz || !id || !at)
        return;
    struct authz_attrs norm = authz_attrs_norm(at);
    struct check_visitor v = {
        .base = {.rule = check_rule, .missing = check_missing}, .at = &norm, .d = d};
    authz_visit(authz, id, norm.ns, &v.base);
    if (!d->allowed && v.errors.n) {
        size_t off = 0;
        authz_append(d->reason, sizeof(d->reason), &off, "RBAC: ");
        authz_errors_format(&v.errors, d->reason, sizeof(d->reason), &off);
    }
}
