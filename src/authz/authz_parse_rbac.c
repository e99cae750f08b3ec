/* authz_parse_rbac.c - rbac.authorization.k8s.io/v1 Role, ClusterRole,
 * RoleBinding and ClusterRoleBinding documents into the model, refusing what
 * the apiserver's validation refuses (so a file loads only if the cluster
 * would have accepted it), with the apiserver's defaults: a namespaced
 * object without a namespace is in "default" (as kubectl apply puts it), a
 * User or Group subject's apiGroup is rbac.authorization.k8s.io. */
#include "authz/authz_parse.h"

#include <string.h>

#define RBAC_GROUP "rbac.authorization.k8s.io"
#define DNS_LABEL_MAX 63

/* ---- names ---- */

static bool name_is_dns_label(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > DNS_LABEL_MAX || s[0] == '-' || s[n - 1] == '-')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
            return false;
    return true;
}

static bool name_is_dns_subdomain(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > AUTHZ_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        bool alnum = (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9');
        bool edge = i == 0 || i == n - 1 || s[i - 1] == '.' || s[i + 1] == '.';
        if (!alnum && (edge || (s[i] != '-' && s[i] != '.')))
            return false;
    }
    return true;
}

/* RBAC object names are path segments (ValidatePathSegmentName): anything
 * but "." and "..", '/' or '%' ("system:discovery" is a valid name). */
static bool name_is_path_segment(const char *s)
{
    return *s && strcmp(s, ".") && strcmp(s, "..") && !strpbrk(s, "/%");
}

/* ---- metadata ---- */

static int meta_name(struct authz_parse *p, struct fy_node *v, int line, void *obj)
{
    struct authz_meta *m = obj;
    line = authz_line(v, line);
    m->name_line = line;
    if (authz_string(p, v, line, "metadata.name", AUTHZ_NAME_MAX, &m->name) < 0)
        return -1;
    if (!name_is_path_segment(m->name))
        return authz_fail(p, line,
                          "metadata.name \"%.*s\" may not be '.', '..' or contain '/' "
                          "or '%%'",
                          AUTHZ_SHOWN_MAX, m->name);
    return 0;
}

static int meta_namespace(struct authz_parse *p, struct fy_node *v, int line, void *obj)
{
    struct authz_meta *m = obj;
    line = authz_line(v, line);
    if (authz_string(p, v, line, "metadata.namespace", AUTHZ_NAME_MAX, &m->ns) < 0)
        return -1;
    if (!name_is_dns_label(m->ns))
        return authz_fail(p, line, "metadata.namespace \"%.*s\" is not a DNS-1123 label",
                          AUTHZ_SHOWN_MAX, m->ns);
    return 0;
}

/* Everything else in ObjectMeta (uid, resourceVersion, labels, annotations,
 * managedFields ...) is what `kubectl get -o yaml` prints: accepted, unused. */
int authz_meta_parse(struct authz_parse *p, struct fy_node *v, int line, void *obj)
{
    static const struct authz_field fields[] = {{"name", meta_name}, {"namespace", meta_namespace}};
    return authz_mapping(p, v, line, "metadata", fields, 2, true, obj);
}

/* ---- subjects ---- */

struct subject_raw {
    const char *kind, *api_group, *name, *ns;
    int kind_line, group_line, name_line, ns_line;
};

#define SUBJECT_FIELD(field, what, max)                                                            \
    static int subject_##field(struct authz_parse *p, struct fy_node *v, int line, void *obj)      \
    {                                                                                              \
        struct subject_raw *r = obj;                                                               \
        r->field##_line = authz_line(v, line);                                                     \
        return authz_string(p, v, line, what, max, &r->field);                                     \
    }
SUBJECT_FIELD(kind, "subject kind", AUTHZ_STRING_MAX)
SUBJECT_FIELD(name, "subject name", AUTHZ_STRING_MAX)
SUBJECT_FIELD(ns, "subject namespace", AUTHZ_NAME_MAX)

static int subject_api_group(struct authz_parse *p, struct fy_node *v, int line, void *obj)
{
    struct subject_raw *r = obj;
    r->group_line = authz_line(v, line);
    if (authz_deref(p, &v, line) < 0)
        return -1;
    if (authz_is_null(v))
        return 0;
    if (authz_string(p, v, line, "subject apiGroup", AUTHZ_STRING_MAX, &r->api_group) < 0)
        return -1;
    if (!*r->api_group)
        r->api_group = NULL; /* "" is absent: defaulted by kind, as SetDefaults_Subject does */
    return 0;
}

static int subject_check_sa(struct authz_parse *p, const struct subject_raw *r, int line,
                            bool namespaced)
{
    if (r->api_group)
        return authz_fail(p, r->group_line, "a ServiceAccount subject's apiGroup must be \"\"");
    if (!name_is_dns_subdomain(r->name))
        return authz_fail(p, r->name_line,
                          "ServiceAccount name \"%.*s\" is not a DNS-1123 subdomain",
                          AUTHZ_SHOWN_MAX, r->name);
    if (r->ns && *r->ns && !name_is_dns_label(r->ns))
        return authz_fail(p, r->ns_line, "subject namespace \"%.*s\" is not a DNS-1123 label",
                          AUTHZ_SHOWN_MAX, r->ns);
    if (!namespaced && !(r->ns && *r->ns))
        return authz_fail(p, line, "ServiceAccount subject \"%.*s\" needs a namespace here",
                          AUTHZ_SHOWN_MAX, r->name);
    return 0;
}

static int subject_parse(struct authz_parse *p, struct fy_node *item, int line, bool namespaced,
                         struct authz_subject *s)
{
    static const struct authz_field fields[] = {{"kind", subject_kind},
                                                {"apiGroup", subject_api_group},
                                                {"name", subject_name},
                                                {"namespace", subject_ns}};
    struct subject_raw r = {0};
    line = authz_line(item, line);
    if (authz_mapping(p, item, line, "subject", fields, 4, false, &r) < 0)
        return -1;
    if (!r.kind)
        return authz_fail(p, line, "subject has no kind (User, Group or ServiceAccount)");
    if (!r.name || !*r.name)
        return authz_fail(p, line, "subject has no name");
    s->name = r.name;
    if (!strcmp(r.kind, "ServiceAccount")) {
        s->kind = AUTHZ_SUBJECT_SA;
        s->ns = r.ns && *r.ns ? r.ns : NULL;
        return subject_check_sa(p, &r, line, namespaced);
    }
    if (strcmp(r.kind, "User") && strcmp(r.kind, "Group"))
        return authz_fail(p, r.kind_line,
                          "subject kind \"%.*s\" is not User, Group or ServiceAccount",
                          AUTHZ_SHOWN_MAX, r.kind);
    s->kind = !strcmp(r.kind, "User") ? AUTHZ_SUBJECT_USER : AUTHZ_SUBJECT_GROUP;
    if (r.api_group && strcmp(r.api_group, RBAC_GROUP)) /* absent: defaulted to it */
        return authz_fail(p, r.group_line, "a %s subject's apiGroup must be " RBAC_GROUP, r.kind);
    return 0;
}

int authz_subjects_parse(struct authz_parse *p, struct fy_node *v, int line, const char *what,
                         bool namespaced, const struct authz_subject **out, size_t *len)
{
    struct fy_node **items;
    size_t n;
    if (authz_items(p, v, line, what, AUTHZ_LIST_MAX, &items, &n) < 0)
        return -1;
    struct authz_subject *s = authz_arena_alloc(p->arena, (n + 1) * sizeof(*s));
    if (!s)
        return authz_fail(p, line, "out of memory");
    for (size_t i = 0; i < n; i++)
        if (subject_parse(p, items[i], line, namespaced, &s[i]) < 0)
            return -1;
    *out = s;
    *len = n;
    return 0;
}

/* ---- rules ---- */

struct rule_parse {
    struct authz_rule rule;
    bool namespaced;
};

#define RULE_FIELD(field, what)                                                                    \
    static int rule_##field(struct authz_parse *p, struct fy_node *v, int line, void *obj)         \
    {                                                                                              \
        return authz_strlist(p, v, line, what, AUTHZ_STRING_MAX,                                   \
                             &((struct rule_parse *)obj)->rule.field);                             \
    }
RULE_FIELD(verbs, "verbs")
RULE_FIELD(api_groups, "apiGroups")
RULE_FIELD(resources, "resources")
RULE_FIELD(resource_names, "resourceNames")
RULE_FIELD(urls, "nonResourceURLs")

/* ValidatePolicyRule, in the apiserver's words. */
static int rule_check(struct authz_parse *p, const struct authz_rule *r, int line, bool namespaced)
{
    if (r->verbs.n == 0)
        return authz_fail(p, line, "rule has no verbs: verbs must contain at least one value");
    if (r->urls.n > 0) {
        if (namespaced)
            return authz_fail(p, line,
                              "nonResourceURLs in a Role: namespaced rules cannot apply "
                              "to non-resource URLs");
        if (r->api_groups.n || r->resources.n || r->resource_names.n)
            return authz_fail(p, line,
                              "rules cannot apply to both regular resources and "
                              "non-resource URLs");
        return 0;
    }
    if (r->api_groups.n == 0)
        return authz_fail(p, line,
                          "rule has no apiGroups: resource rules must supply at least "
                          "one api group");
    if (r->resources.n == 0)
        return authz_fail(p, line,
                          "rule has no resources: resource rules must supply at least "
                          "one resource");
    return 0;
}

static int role_rules(struct authz_parse *p, struct fy_node *v, int line, void *obj)
{
    static const struct authz_field fields[] = {{"verbs", rule_verbs},
                                                {"apiGroups", rule_api_groups},
                                                {"resources", rule_resources},
                                                {"resourceNames", rule_resource_names},
                                                {"nonResourceURLs", rule_urls}};
    struct authz_role *role = obj;
    struct fy_node **items;
    size_t n;
    if (authz_items(p, v, line, "rules", AUTHZ_RULES_MAX, &items, &n) < 0)
        return -1;
    struct authz_rule *rules = authz_arena_alloc(p->arena, (n + 1) * sizeof(*rules));
    if (!rules)
        return authz_fail(p, line, "out of memory");
    for (size_t i = 0; i < n; i++) {
        struct rule_parse rp = {.namespaced = role->ns != NULL};
        int rline = authz_line(items[i], line);
        if (authz_mapping(p, items[i], rline, "rule", fields, 5, false, &rp) < 0 ||
            rule_check(p, &rp.rule, rline, rp.namespaced) < 0)
            return -1;
        rules[i] = rp.rule;
    }
    role->rules = rules;
    role->rules_len = n;
    return 0;
}

static int role_aggregation(struct authz_parse *p, struct fy_node *v, int line, void *obj)
{
    if (authz_deref(p, &v, line) < 0)
        return -1;
    if (authz_is_null(v))
        return 0;
    return authz_fail(p, line, "aggregationRule is not supported: list the rules");
}

/* metadata first: rules are checked against whether the role is namespaced. */
static int object_meta(struct authz_parse *p, struct fy_node *root, int line, bool namespaced,
                       struct authz_meta *m)
{
    static const struct authz_field fields[] = {{"metadata", authz_meta_parse}};
    if (authz_mapping(p, root, line, "the object", fields, 1, true, m) < 0)
        return -1;
    if (!m->name)
        return authz_fail(p, line, "metadata.name is required");
    if (!namespaced)
        m->ns = NULL; /* the apiserver clears it on cluster-scoped objects */
    else if (!m->ns)
        m->ns = "default";
    return 0;
}

int authz_parse_role(struct authz_parse *p, struct fy_node *root, int line, bool cluster)
{
    static const struct authz_field fields[] = {{"apiVersion", NULL},
                                                {"kind", NULL},
                                                {"metadata", NULL},
                                                {"rules", role_rules},
                                                {"aggregationRule", role_aggregation}};
    struct authz_meta m = {0};
    if (object_meta(p, root, line, !cluster, &m) < 0)
        return -1;
    struct authz_obj *o =
        authz_obj_new(p, cluster ? AUTHZ_KIND_CLUSTER_ROLE : AUTHZ_KIND_ROLE, line);
    if (!o)
        return -1;
    struct authz_role *role = &o->u.role;
    *role = (struct authz_role){.name = m.name, .ns = m.ns, .line = m.name_line, .path = p->path};
    return authz_mapping(p, root, line, cluster ? "a ClusterRole" : "a Role", fields,
                         cluster ? 5 : 4, false, role);
}

/* ---- bindings ---- */

struct role_ref_raw {
    const char *api_group, *kind, *name;
    int group_line, kind_line;
};

static int ref_api_group(struct authz_parse *p, struct fy_node *v, int line, void *obj)
{
    struct role_ref_raw *r = obj;
    r->group_line = authz_line(v, line);
    return authz_string(p, v, line, "roleRef.apiGroup", AUTHZ_STRING_MAX, &r->api_group);
}

static int ref_kind(struct authz_parse *p, struct fy_node *v, int line, void *obj)
{
    struct role_ref_raw *r = obj;
    r->kind_line = authz_line(v, line);
    return authz_string(p, v, line, "roleRef.kind", AUTHZ_STRING_MAX, &r->kind);
}

static int ref_name(struct authz_parse *p, struct fy_node *v, int line, void *obj)
{
    return authz_string(p, v, line, "roleRef.name", AUTHZ_NAME_MAX,
                        &((struct role_ref_raw *)obj)->name);
}

static int binding_role_ref(struct authz_parse *p, struct fy_node *v, int line, void *obj)
{
    static const struct authz_field fields[] = {
        {"apiGroup", ref_api_group}, {"kind", ref_kind}, {"name", ref_name}};
    struct authz_binding *b = obj;
    struct role_ref_raw r = {0};
    if (authz_mapping(p, v, line, "roleRef", fields, 3, false, &r) < 0)
        return -1;
    if (!r.api_group || strcmp(r.api_group, RBAC_GROUP))
        return authz_fail(p, r.api_group ? r.group_line : line,
                          "roleRef.apiGroup must be " RBAC_GROUP);
    if (!r.kind)
        return authz_fail(p, line, "roleRef has no kind");
    if (!r.name || !*r.name)
        return authz_fail(p, line, "roleRef has no name");
    b->ref_cluster_role = !strcmp(r.kind, "ClusterRole");
    if (!b->ref_cluster_role && (b->ns == NULL || strcmp(r.kind, "Role")))
        return authz_fail(p, r.kind_line, "roleRef.kind must be %s",
                          b->ns ? "Role or ClusterRole" : "ClusterRole");
    b->role_name = r.name;
    return 0;
}

static int binding_subjects(struct authz_parse *p, struct fy_node *v, int line, void *obj)
{
    struct authz_binding *b = obj;
    return authz_subjects_parse(p, v, line, "subjects", b->ns != NULL, &b->subjects,
                                &b->subjects_len);
}

int authz_parse_binding(struct authz_parse *p, struct fy_node *root, int line, bool cluster)
{
    static const struct authz_field fields[] = {{"apiVersion", NULL},
                                                {"kind", NULL},
                                                {"metadata", NULL},
                                                {"subjects", binding_subjects},
                                                {"roleRef", binding_role_ref}};
    struct authz_meta m = {0};
    if (object_meta(p, root, line, !cluster, &m) < 0)
        return -1;
    struct authz_obj *o =
        authz_obj_new(p, cluster ? AUTHZ_KIND_CLUSTER_ROLE_BINDING : AUTHZ_KIND_ROLE_BINDING, line);
    if (!o)
        return -1;
    struct authz_binding *b = &o->u.binding;
    *b = (struct authz_binding){.name = m.name, .ns = m.ns, .line = m.name_line, .path = p->path};
    if (authz_mapping(p, root, line, cluster ? "a ClusterRoleBinding" : "a RoleBinding", fields, 5,
                      false, b) < 0)
        return -1;
    if (!b->role_name)
        return authz_fail(p, line, "roleRef is required");
    return 0;
}
