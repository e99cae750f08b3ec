/* authz_model.c - turn the parsed objects into the immutable struct authz:
 * one sorted array per kind, the names unique per kind and namespace, and
 * every binding's roleRef resolved once so a check never searches by name.
 *
 * A file may redefine a built-in object (a pasted `kubectl get clusterroles
 * -o yaml` holds system:discovery too): the file's wins, as an edited
 * bootstrap role does in a cluster. Two files defining the same object is an
 * error naming both places. */
#include "authz/authz_parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const model_kind_names[AUTHZ_KIND_COUNT] = {"Role", "ClusterRole", "RoleBinding",
                                                               "ClusterRoleBinding", "ExecPolicy"};

static void model_key(const struct authz_obj *o, const char **ns, const char **name)
{
    switch (o->kind) {
    case AUTHZ_KIND_ROLE:
    case AUTHZ_KIND_CLUSTER_ROLE:
        *ns = o->u.role.ns;
        *name = o->u.role.name;
        break;
    case AUTHZ_KIND_ROLE_BINDING:
    case AUTHZ_KIND_CLUSTER_ROLE_BINDING:
        *ns = o->u.binding.ns;
        *name = o->u.binding.name;
        break;
    default:
        *ns = NULL;
        *name = o->u.policy.name;
    }
    if (!*ns)
        *ns = "";
}

static int model_cmp(const void *a, const void *b)
{
    const struct authz_obj *x = *(struct authz_obj *const *)a, *y = *(struct authz_obj *const *)b;
    if (x->kind != y->kind)
        return x->kind < y->kind ? -1 : 1;
    const char *xns, *xname, *yns, *yname;
    model_key(x, &xns, &xname);
    model_key(y, &yns, &yname);
    int c = strcmp(xns, yns);
    if (!c)
        c = strcmp(xname, yname);
    if (!c)
        c = (x->seq > y->seq) - (x->seq < y->seq);
    return c;
}

static bool model_same(const struct authz_obj *x, const struct authz_obj *y)
{
    const char *xns, *xname, *yns, *yname;
    model_key(x, &xns, &xname);
    model_key(y, &yns, &yname);
    return x->kind == y->kind && !strcmp(xns, yns) && !strcmp(xname, yname);
}

static void model_where(const struct authz_obj *o, const char **path, int *line)
{
    if (o->kind == AUTHZ_KIND_ROLE || o->kind == AUTHZ_KIND_CLUSTER_ROLE) {
        *path = o->u.role.path;
        *line = o->u.role.line;
    } else if (o->kind == AUTHZ_KIND_EXEC_POLICY) {
        *path = o->u.policy.path;
        *line = o->u.policy.line;
    } else {
        *path = o->u.binding.path;
        *line = o->u.binding.line;
    }
}

/* sorted[i] and sorted[i + 1] name the same object: keep the file's over a
 * built-in (returns the index to drop), or fail. */
static long model_dup(struct authz_parse *p, struct authz_obj **sorted, size_t i)
{
    struct authz_obj *first = sorted[i], *later = sorted[i + 1];
    if (first->builtin != later->builtin)
        return first->builtin ? (long)i : (long)i + 1;
    const char *ns, *name, *path1, *path2;
    int line1, line2;
    model_key(later, &ns, &name);
    model_where(first, &path1, &line1);
    model_where(later, &path2, &line2);
    snprintf(p->err, p->err_cap, "%s:%d: %s \"%s%s%s\" is already defined at %s:%d", path2, line2,
             model_kind_names[later->kind], ns, *ns ? "/" : "", name, path1, line1);
    return -1;
}

static int model_alloc(struct authz_parse *p, struct authz *a, const size_t *counts)
{
    a->roles = authz_arena_alloc(p->arena, (counts[0] + 1) * sizeof(*a->roles));
    a->cluster_roles = authz_arena_alloc(p->arena, (counts[1] + 1) * sizeof(*a->cluster_roles));
    a->role_bindings = authz_arena_alloc(p->arena, (counts[2] + 1) * sizeof(*a->role_bindings));
    a->cluster_role_bindings =
        authz_arena_alloc(p->arena, (counts[3] + 1) * sizeof(*a->cluster_role_bindings));
    a->exec_policies = authz_arena_alloc(p->arena, (counts[4] + 1) * sizeof(*a->exec_policies));
    if (!a->roles || !a->cluster_roles || !a->role_bindings || !a->cluster_role_bindings ||
        !a->exec_policies) {
        snprintf(p->err, p->err_cap, "out of memory");
        return -1;
    }
    return 0;
}

static void model_put(struct authz *a, const struct authz_obj *o)
{
    switch (o->kind) {
    case AUTHZ_KIND_ROLE:
        a->roles[a->roles_len++] = o->u.role;
        break;
    case AUTHZ_KIND_CLUSTER_ROLE:
        a->cluster_roles[a->cluster_roles_len++] = o->u.role;
        break;
    case AUTHZ_KIND_ROLE_BINDING:
        a->role_bindings[a->role_bindings_len++] = o->u.binding;
        break;
    case AUTHZ_KIND_CLUSTER_ROLE_BINDING:
        a->cluster_role_bindings[a->cluster_role_bindings_len++] = o->u.binding;
        break;
    default:
        a->exec_policies[a->exec_policies_len++] = o->u.policy;
    }
}

static void model_resolve(struct authz *a, struct authz_binding *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        b[i].role = authz_role_find(a, b[i].ref_cluster_role ? NULL : b[i].ns, b[i].role_name);
}

int authz_model_build(struct authz_parse *p, struct authz *a)
{
    size_t n = 0, counts[AUTHZ_KIND_COUNT] = {0};
    for (struct authz_obj *o = p->objs; o; o = o->next)
        n++;
    struct authz_obj **sorted = malloc((n + 1) * sizeof(*sorted));
    if (!sorted) {
        snprintf(p->err, p->err_cap, "out of memory");
        return -1;
    }
    n = 0;
    for (struct authz_obj *o = p->objs; o; o = o->next)
        sorted[n++] = o;
    qsort(sorted, n, sizeof(*sorted), model_cmp);
    size_t i = 0;
    while (i + 1 < n) {
        if (!model_same(sorted[i], sorted[i + 1])) {
            i++;
            continue;
        }
        long drop = model_dup(p, sorted, i);
        if (drop < 0) {
            free(sorted);
            return -1;
        }
        memmove(&sorted[drop], &sorted[drop + 1], (n - (size_t)drop - 1) * sizeof(*sorted));
        n--; /* and compare the kept one with the next */
    }
    for (i = 0; i < n; i++)
        counts[sorted[i]->kind]++;
    int rc = model_alloc(p, a, counts);
    for (i = 0; rc == 0 && i < n; i++)
        model_put(a, sorted[i]);
    free(sorted);
    if (rc == 0) {
        model_resolve(a, a->role_bindings, a->role_bindings_len);
        model_resolve(a, a->cluster_role_bindings, a->cluster_role_bindings_len);
    }
    return rc;
}

static int model_role_cmp(const char *ns, const char *name, const struct authz_role *r)
{
    int c = strcmp(ns ? ns : "", r->ns ? r->ns : "");
    return c ? c : strcmp(name, r->name);
}

const struct authz_role *authz_role_find(const struct authz *authz, const char *ns,
                                         const char *name)
{
    const struct authz_role *v = ns ? authz->roles : authz->cluster_roles;
    size_t lo = 0, hi = ns ? authz->roles_len : authz->cluster_roles_len;
    while (lo < hi) { /* sorted by (namespace, name) */
        size_t mid = lo + (hi - lo) / 2;
        int c = model_role_cmp(ns, name, &v[mid]);
        if (c == 0)
            return &v[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}
