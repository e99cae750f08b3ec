/* audit_policy_load.c - read an audit.k8s.io/v1 Policy file (YAML, or JSON,
 * which is YAML) into struct audit_policy, with the checks kube-apiserver's
 * loader makes (policy/reader.go, apis/audit/validation): a known level on
 * every rule, known stages, nonResourceURLs that start with "/" (or are "*")
 * and have "*" only at the end, never both nonResourceURLs and
 * resources/namespaces in one rule, API groups that are DNS subdomains,
 * resourceNames only with resources, and at least one rule.
 *
 * Stricter than the apiserver in one way: a key the Policy does not have
 * ("omitStage:", "resource:") is an error naming its line, where the
 * apiserver's decoder drops it silently and the rule then matches more than
 * its author meant. null is the zero value, as in Go ("group:" is the core
 * group); any other scalar is taken as its text. Every error is
 * "FILE:LINE: reason". */
#include "audit/audit_policy_internal.h"

#include <libfyaml.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "yaml/yaml.h"

#define APL_SHOWN_MAX YAML_SHOWN_MAX /* bytes of a user's value echoed in an error */
#define APL_DNS_SUBDOMAIN_MAX 253
#define APL_DNS_LABEL_MAX 63

struct apl {
    struct yaml_src src; /* the file's name and where errors go */
};

typedef int (*apl_field_fn)(struct apl *p, struct fy_node *value, int line, void *obj);

struct apl_field {
    const char *key;
    apl_field_fn fn;
};

__attribute__((format(printf, 3, 4))) static int apl_fail(struct apl *p, int line, const char *fmt,
                                                          ...)
{
    va_list ap;
    va_start(ap, fmt);
    yaml_vfail(&p->src, line, fmt, ap);
    va_end(ap);
    return -1;
}

/* Aliases are refused rather than resolved (yaml_kind_check says why). */
static int apl_kind(struct apl *p, struct fy_node *n, int line, const char *what,
                    enum fy_node_type want)
{
    return yaml_kind_check(&p->src, n, line, what, want);
}

static int apl_string(struct apl *p, struct fy_node *n, int line, const char *what, char **out)
{
    line = yaml_node_line(n, line);
    free(*out);
    *out = NULL;
    if (yaml_is_null(n)) {
        *out = strdup("");
        return *out ? 0 : apl_fail(p, line, "out of memory");
    }
    const char *s;
    size_t len;
    if (yaml_scalar_get(&p->src, n, line, what, AUDIT_POLICY_STRING_MAX, &s, &len) < 0)
        return -1;
    *out = strndup(s, len);
    return *out ? 0 : apl_fail(p, line, "out of memory");
}

/* omitManagedFields: checked as Go would decode it (true, false or null) and
 * then ignored: it trims managedFields out of request and response bodies,
 * and podterm logs no bodies. */
static int apl_managed_fields(struct apl *p, struct fy_node *n, int line, void *obj)
{
    (void)obj;
    line = yaml_node_line(n, line);
    if (yaml_is_null(n))
        return 0;
    if (apl_kind(p, n, line, "omitManagedFields", FYNT_SCALAR) < 0)
        return -1;
    const char *s = fy_node_get_scalar0(n);
    bool plain = fy_node_get_style(n) == FYNS_PLAIN;
    if (!plain || !s || (strcmp(s, "true") != 0 && strcmp(s, "false") != 0))
        return apl_fail(p, line, "omitManagedFields must be true or false");
    return 0;
}

/* Calls item() for each entry of a list (null: no entries). */
static int apl_list(struct apl *p, struct fy_node *n, int line, const char *what,
                    int (*item)(struct apl *, struct fy_node *, int, void *, size_t), void *obj,
                    size_t *count)
{
    *count = 0;
    if (yaml_is_null(n))
        return 0;
    if (apl_kind(p, n, line, what, FYNT_SEQUENCE) < 0)
        return -1;
    int len = fy_node_sequence_item_count(n);
    if (len < 0 || (size_t)len > AUDIT_POLICY_LIST_MAX)
        return apl_fail(p, line, "%s has more than %d entries", what, AUDIT_POLICY_LIST_MAX);
    *count = (size_t)len;
    void *it = NULL;
    struct fy_node *e;
    for (size_t i = 0; (e = fy_node_sequence_iterate(n, &it)); i++)
        if (item(p, e, yaml_node_line(e, line), obj, i) < 0)
            return -1;
    return 0;
}

struct apl_strs_ctx {
    struct audit_strs *out;
    const char *what;
};

static int apl_strs_item(struct apl *p, struct fy_node *e, int line, void *obj, size_t i)
{
    struct apl_strs_ctx *c = obj;
    (void)i;
    if (apl_string(p, e, line, c->what, &c->out->v[c->out->len]) < 0)
        return -1;
    c->out->len++;
    return 0;
}

static int apl_strs(struct apl *p, struct fy_node *n, int line, const char *what,
                    struct audit_strs *out)
{
    audit_strs_clear(out);
    int len = yaml_is_null(n) || !fy_node_is_sequence(n) ? 0 : fy_node_sequence_item_count(n);
    if (len > 0 && len <= AUDIT_POLICY_LIST_MAX && !(out->v = calloc((size_t)len, sizeof(char *))))
        return apl_fail(p, line, "out of memory");
    struct apl_strs_ctx c = {out, what};
    size_t count;
    return apl_list(p, n, line, what, apl_strs_item, &c, &count);
}

static int apl_stages(struct apl *p, struct fy_node *n, int line, bool omit[AUDIT_STAGES])
{
    struct audit_strs s = {0};
    int rc = apl_strs(p, n, line, "omitStages entry", &s);
    void *it = NULL;
    for (size_t i = 0; rc == 0 && i < s.len; i++) {
        struct fy_node *e = fy_node_sequence_iterate(n, &it);
        int stage = audit_stage_parse(s.v[i]);
        if (stage < 0)
            rc = apl_fail(p, yaml_node_line(e, line),
                          "omitStages: unknown stage \"%.*s\" (expected RequestReceived, "
                          "ResponseStarted, ResponseComplete, Panic)",
                          APL_SHOWN_MAX, s.v[i]);
        else
            omit[stage] = true;
    }
    audit_strs_clear(&s);
    return rc;
}

/* One mapping key's field function, from yaml_mapping_walk. */
struct apl_walk {
    struct apl *p;
    const struct apl_field *fields;
    void *obj;
};

static int apl_pair(void *ctx, size_t i, struct fy_node *value, int key_line)
{
    struct apl_walk *w = ctx;
    return w->fields[i].fn ? w->fields[i].fn(w->p, value, key_line, w->obj) : 0;
}

static int apl_mapping(struct apl *p, struct fy_node *n, int line, const char *what,
                       const struct apl_field *fields, size_t nfields, void *obj)
{
    struct apl_walk w = {p, fields, obj};
    return yaml_mapping_walk(&p->src, n, line, what, "field", fields, sizeof(*fields), nfields,
                             apl_pair, &w);
}

/* ---- resources: [{group, resources, resourceNames}] ---- */

/* Kubernetes' IsDNS1123Subdomain: lower-case alphanumeric labels joined by
 * '.', '-' inside a label, at most 253 bytes. */
static bool apl_dns_subdomain(const char *s)
{
    size_t n = strlen(s), label = 0;
    if (n == 0 || n > APL_DNS_SUBDOMAIN_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (c == '.') {
            if (label == 0 || s[i - 1] == '-')
                return false;
            label = 0;
        } else if (alnum || (c == '-' && label > 0)) {
            if (++label > APL_DNS_LABEL_MAX)
                return false;
        } else {
            return false;
        }
    }
    return label > 0 && s[n - 1] != '-';
}

static int apl_gr_group(struct apl *p, struct fy_node *v, int line, void *obj)
{
    struct audit_group_resources *gr = obj;
    line = yaml_node_line(v, line);
    if (apl_string(p, v, line, "group", &gr->group) < 0)
        return -1;
    if (*gr->group && !apl_dns_subdomain(gr->group))
        return apl_fail(p, line,
                        "group \"%.*s\" is not a DNS subdomain (an API group, without its "
                        "version: \"\" is the core group)",
                        APL_SHOWN_MAX, gr->group);
    return 0;
}

static int apl_gr_resources(struct apl *p, struct fy_node *v, int line, void *obj)
{
    return apl_strs(p, v, line, "resources entry",
                    &((struct audit_group_resources *)obj)->resources);
}

static int apl_gr_names(struct apl *p, struct fy_node *v, int line, void *obj)
{
    return apl_strs(p, v, line, "resourceNames entry",
                    &((struct audit_group_resources *)obj)->names);
}

static const struct apl_field apl_gr_fields[] = {
    {"group", apl_gr_group},
    {"resources", apl_gr_resources},
    {"resourceNames", apl_gr_names},
};

static int apl_gr_item(struct apl *p, struct fy_node *e, int line, void *obj, size_t i)
{
    struct audit_rule *r = obj;
    struct audit_group_resources *gr = &r->resources[i];
    r->resources_len = i + 1;
    if (apl_mapping(p, e, line, "a resources entry", apl_gr_fields,
                    sizeof(apl_gr_fields) / sizeof(apl_gr_fields[0]), gr) < 0)
        return -1;
    if (!gr->group && !(gr->group = strdup("")))
        return apl_fail(p, line, "out of memory");
    if (gr->names.len && !gr->resources.len)
        return apl_fail(p, line, "resourceNames needs at least one resource in the same entry");
    return 0;
}

/* ---- rules ---- */

static int apl_rule_level(struct apl *p, struct fy_node *v, int line, void *obj)
{
    struct audit_rule *r = obj;
    char *s = NULL;
    line = yaml_node_line(v, line);
    if (apl_string(p, v, line, "level", &s) < 0)
        return -1;
    int level = *s ? audit_level_parse(s) : -1;
    if (level < 0)
        apl_fail(p, line, "level \"%.*s\" is not one of None, Metadata, Request, RequestResponse",
                 APL_SHOWN_MAX, s);
    free(s);
    if (level < 0)
        return -1;
    r->level = (enum audit_level)level;
    r->level_set = true;
    return 0;
}

static int apl_rule_users(struct apl *p, struct fy_node *v, int line, void *obj)
{
    return apl_strs(p, v, line, "users entry", &((struct audit_rule *)obj)->users);
}

static int apl_rule_groups(struct apl *p, struct fy_node *v, int line, void *obj)
{
    return apl_strs(p, v, line, "userGroups entry", &((struct audit_rule *)obj)->user_groups);
}

static int apl_rule_verbs(struct apl *p, struct fy_node *v, int line, void *obj)
{
    return apl_strs(p, v, line, "verbs entry", &((struct audit_rule *)obj)->verbs);
}

static int apl_rule_namespaces(struct apl *p, struct fy_node *v, int line, void *obj)
{
    return apl_strs(p, v, line, "namespaces entry", &((struct audit_rule *)obj)->namespaces);
}

static int apl_rule_urls(struct apl *p, struct fy_node *v, int line, void *obj)
{
    struct audit_rule *r = obj;
    if (apl_strs(p, v, line, "nonResourceURLs entry", &r->urls) < 0)
        return -1;
    void *it = NULL;
    for (size_t i = 0; i < r->urls.len; i++) {
        const char *u = r->urls.v[i];
        int uline = yaml_node_line(fy_node_sequence_iterate(v, &it), line);
        if (strcmp(u, "*") == 0)
            continue;
        size_t n = strlen(u);
        if (u[0] != '/')
            return apl_fail(p, uline, "nonResourceURL \"%.*s\" must begin with '/'", APL_SHOWN_MAX,
                            u);
        const char *star = strchr(u, '*');
        if (star && star != u + n - 1)
            return apl_fail(p, uline, "nonResourceURL \"%.*s\": '*' must be the final character",
                            APL_SHOWN_MAX, u);
    }
    return 0;
}

static int apl_rule_resources(struct apl *p, struct fy_node *v, int line, void *obj)
{
    struct audit_rule *r = obj;
    int len = yaml_is_null(v) || !fy_node_is_sequence(v) ? 0 : fy_node_sequence_item_count(v);
    if (len > 0 && len <= AUDIT_POLICY_LIST_MAX &&
        !(r->resources = calloc((size_t)len, sizeof(*r->resources))))
        return apl_fail(p, line, "out of memory");
    size_t count;
    return apl_list(p, v, line, "resources", apl_gr_item, r, &count);
}

static int apl_rule_omit(struct apl *p, struct fy_node *v, int line, void *obj)
{
    return apl_stages(p, v, line, ((struct audit_rule *)obj)->omit);
}

static const struct apl_field apl_rule_fields[] = {
    {"level", apl_rule_level},
    {"users", apl_rule_users},
    {"userGroups", apl_rule_groups},
    {"verbs", apl_rule_verbs},
    {"resources", apl_rule_resources},
    {"namespaces", apl_rule_namespaces},
    {"nonResourceURLs", apl_rule_urls},
    {"omitStages", apl_rule_omit},
    {"omitManagedFields", apl_managed_fields},
};

static int apl_rule_item(struct apl *p, struct fy_node *e, int line, void *obj, size_t i)
{
    struct audit_policy *pol = obj;
    struct audit_rule *r = &pol->rules[i];
    pol->rules_len = i + 1;
    if (apl_mapping(p, e, line, "a rule", apl_rule_fields,
                    sizeof(apl_rule_fields) / sizeof(apl_rule_fields[0]), r) < 0)
        return -1;
    if (!r->level_set)
        return apl_fail(p, line,
                        "the rule has no level (None, Metadata, Request, RequestResponse)");
    if (r->urls.len && (r->resources_len || r->namespaces.len))
        return apl_fail(p, line,
                        "a rule cannot apply to both resources (resources, namespaces) and "
                        "nonResourceURLs");
    return 0;
}

/* ---- the top level ---- */

static int apl_top_rules(struct apl *p, struct fy_node *v, int line, void *obj)
{
    struct audit_policy *pol = obj;
    int len = yaml_is_null(v) || !fy_node_is_sequence(v) ? 0 : fy_node_sequence_item_count(v);
    if (len > AUDIT_POLICY_RULES_MAX)
        return apl_fail(p, line, "more than %d rules", AUDIT_POLICY_RULES_MAX);
    if (len > 0 && !(pol->rules = calloc((size_t)len, sizeof(*pol->rules))))
        return apl_fail(p, line, "out of memory");
    size_t count;
    return apl_list(p, v, line, "rules", apl_rule_item, pol, &count);
}

static int apl_top_omit(struct apl *p, struct fy_node *v, int line, void *obj)
{
    return apl_stages(p, v, line, ((struct audit_policy *)obj)->omit);
}

static const struct apl_field apl_top_fields[] = {
    {"apiVersion", NULL},         {"kind", NULL},
    {"metadata", NULL},           {"rules", apl_top_rules},
    {"omitStages", apl_top_omit}, {"omitManagedFields", apl_managed_fields},
};

/* kind: Policy and apiVersion: audit.k8s.io/v1, checked before anything else
 * so that another kind of object (a Role, a kubeconfig) is named as such. */
static int apl_type_check(struct apl *p, struct fy_node *root)
{
    if (!root || !fy_node_is_mapping(root) || fy_node_is_alias(root))
        return apl_fail(p, yaml_node_line(root, 1),
                        "not an audit.k8s.io/v1 Policy (the top level must be a mapping)");
    struct fy_node *kind = fy_node_mapping_lookup_by_string(root, "kind", FY_NT);
    struct fy_node *ver = fy_node_mapping_lookup_by_string(root, "apiVersion", FY_NT);
    const char *k = kind && fy_node_is_scalar(kind) ? fy_node_get_scalar0(kind) : NULL;
    const char *v = ver && fy_node_is_scalar(ver) ? fy_node_get_scalar0(ver) : NULL;
    if (!k || strcmp(k, "Policy") != 0)
        return apl_fail(p, yaml_node_line(kind, yaml_node_line(root, 1)),
                        "not an audit.k8s.io/v1 Policy (kind is \"%.*s\")", APL_SHOWN_MAX,
                        k ? k : "");
    if (!v || strcmp(v, "audit.k8s.io/v1") != 0)
        return apl_fail(p, yaml_node_line(ver, yaml_node_line(root, 1)),
                        "apiVersion \"%.*s\" is not supported (expected audit.k8s.io/v1)",
                        APL_SHOWN_MAX, v ? v : "");
    return 0;
}

static int apl_root(struct apl *p, struct fy_node *root, struct audit_policy *pol)
{
    if (apl_type_check(p, root) < 0)
        return -1;
    struct fy_node *meta = fy_node_mapping_lookup_by_string(root, "metadata", FY_NT);
    if (meta && !yaml_is_null(meta) &&
        apl_kind(p, meta, yaml_node_line(meta, 1), "metadata", FYNT_MAPPING) < 0)
        return -1;
    if (apl_mapping(p, root, 1, "the Policy", apl_top_fields,
                    sizeof(apl_top_fields) / sizeof(apl_top_fields[0]), pol) < 0)
        return -1;
    if (pol->rules_len == 0)
        return apl_fail(p, yaml_node_line(root, 1), "the policy has no rules");
    /* as the apiserver's NewChecker: a rule omits its own stages and the policy's */
    for (size_t i = 0; i < pol->rules_len; i++)
        for (int s = 0; s < AUDIT_STAGES; s++)
            pol->rules[i].omit[s] |= pol->omit[s];
    return 0;
}

/* ---- the file ---- */

struct apl_doc {
    struct apl *p;
    struct audit_policy *pol;
};

static int apl_doc_root(void *ctx, struct fy_node *root)
{
    struct apl_doc *d = ctx;
    return apl_root(d->p, root, d->pol);
}

struct audit_policy *audit_policy_parse_file(const char *path, char *err, size_t err_cap)
{
    struct apl p = {.src = {.path = path, .err = err, .err_cap = err_cap}};
    size_t len = 0;
    char *buf =
        yaml_file_read(&p.src, AUDIT_POLICY_FILE_MAX, "1 MiB (AUDIT_POLICY_FILE_MAX)", &len);
    if (!buf)
        return NULL;
    struct audit_policy *pol = calloc(1, sizeof(*pol));
    struct apl_doc d = {&p, pol};
    /* a trailing null document ("--- ~") holds no second Policy: not an error */
    int rc = pol ? yaml_parse_single(&p.src, buf, len,
                                     "the file is empty (not an audit.k8s.io/v1 Policy)", true,
                                     apl_doc_root, &d)
                 : apl_fail(&p, 1, "out of memory");
    free(buf);
    if (rc < 0) {
        audit_policy_free(pol);
        return NULL;
    }
    return pol;
}
