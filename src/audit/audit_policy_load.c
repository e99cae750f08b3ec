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

#include <errno.h>
#include <libfyaml.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/util_file.h"
#include "util/util_utf8.h"

#define APL_SHOWN_MAX 64 /* bytes of a user's value echoed in an error */
#define APL_DNS_SUBDOMAIN_MAX 253
#define APL_DNS_LABEL_MAX 63

struct apl {
    const char *path;
    char *err;
    size_t err_cap;
};

typedef int (*apl_field_fn)(struct apl *p, struct fy_node *value, int line, void *obj);

struct apl_field {
    const char *key;
    apl_field_fn fn;
};

__attribute__((format(printf, 3, 4))) static int apl_fail(struct apl *p, int line, const char *fmt,
                                                          ...)
{
    char msg[AUDIT_ERR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (p->err && p->err_cap)
        snprintf(p->err, p->err_cap, "%s:%d: %s", p->path, line, msg);
    return -1;
}

/* The 1-based line where a node starts (libfyaml counts from 0), or
 * fallback for an empty collection. */
static int apl_line(struct fy_node *n, int fallback)
{
    if (!n)
        return fallback;
    if (fy_node_is_scalar(n)) {
        struct fy_token *t = fy_node_get_scalar_token(n);
        const struct fy_mark *m = t ? fy_token_start_mark(t) : NULL;
        return m ? m->line + 1 : fallback;
    }
    void *it = NULL; /* a collection: where its first entry starts */
    if (fy_node_is_mapping(n)) {
        struct fy_node_pair *pair = fy_node_mapping_iterate(n, &it);
        return pair ? apl_line(fy_node_pair_key(pair), fallback) : fallback;
    }
    return apl_line(fy_node_sequence_iterate(n, &it), fallback);
}

static bool apl_is_null(struct fy_node *n)
{
    if (!n)
        return true;
    if (!fy_node_is_scalar(n) || fy_node_is_alias(n) || fy_node_get_style(n) != FYNS_PLAIN)
        return false;
    size_t len = 0;
    const char *s = fy_node_get_scalar(n, &len);
    static const char *const nulls[] = {"", "~", "null", "Null", "NULL"};
    for (size_t i = 0; s && i < sizeof(nulls) / sizeof(nulls[0]); i++)
        if (len == strlen(nulls[i]) && memcmp(s, nulls[i], len) == 0)
            return true;
    return false;
}

/* Aliases are refused rather than resolved: a few lines of nested aliases
 * can expand to gigabytes ("billion laughs"). */
static int apl_kind(struct apl *p, struct fy_node *n, int line, const char *what,
                    enum fy_node_type want)
{
    static const char *const names[] = {"a string", "a list", "a mapping"};
    if (n && fy_node_is_alias(n))
        return apl_fail(p, line, "%s: YAML aliases are not supported", what);
    if (!n || fy_node_get_type(n) != want)
        return apl_fail(p, line, "%s must be %s", what,
                        want == FYNT_SCALAR     ? names[0]
                        : want == FYNT_SEQUENCE ? names[1]
                                                : names[2]);
    return 0;
}

static int apl_string(struct apl *p, struct fy_node *n, int line, const char *what, char **out)
{
    line = apl_line(n, line);
    free(*out);
    *out = NULL;
    if (apl_is_null(n)) {
        *out = strdup("");
        return *out ? 0 : apl_fail(p, line, "out of memory");
    }
    if (apl_kind(p, n, line, what, FYNT_SCALAR) < 0)
        return -1;
    size_t len = 0;
    const char *s = fy_node_get_scalar(n, &len);
    if (!s)
        return apl_fail(p, line, "%s has no value", what);
    if (memchr(s, '\0', len))
        return apl_fail(p, line, "%s contains a NUL byte", what);
    if (len > AUDIT_POLICY_STRING_MAX)
        return apl_fail(p, line, "%s is longer than %d bytes", what, AUDIT_POLICY_STRING_MAX);
    *out = strndup(s, len);
    return *out ? 0 : apl_fail(p, line, "out of memory");
}

/* omitManagedFields: checked as Go would decode it (true, false or null) and
 * then ignored: it trims managedFields out of request and response bodies,
 * and podterm logs no bodies. */
static int apl_managed_fields(struct apl *p, struct fy_node *n, int line, void *obj)
{
    (void)obj;
    line = apl_line(n, line);
    if (apl_is_null(n))
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
    if (apl_is_null(n))
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
        if (item(p, e, apl_line(e, line), obj, i) < 0)
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
    int len = apl_is_null(n) || !fy_node_is_sequence(n) ? 0 : fy_node_sequence_item_count(n);
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
            rc = apl_fail(p, apl_line(e, line),
                          "omitStages: unknown stage \"%.*s\" (expected RequestReceived, "
                          "ResponseStarted, ResponseComplete, Panic)",
                          APL_SHOWN_MAX, s.v[i]);
        else
            omit[stage] = true;
    }
    audit_strs_clear(&s);
    return rc;
}

static void apl_expected(const struct apl_field *f, size_t n, char *buf, size_t cap)
{
    size_t off = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && off < cap; i++)
        off += (size_t)snprintf(buf + off, cap - off, "%s%s", i ? ", " : "", f[i].key);
}

static int apl_mapping(struct apl *p, struct fy_node *n, int line, const char *what,
                       const struct apl_field *fields, size_t nfields, void *obj)
{
    if (apl_kind(p, n, line, what, FYNT_MAPPING) < 0)
        return -1;
    void *it = NULL;
    struct fy_node_pair *pair;
    while ((pair = fy_node_mapping_iterate(n, &it))) {
        struct fy_node *key = fy_node_pair_key(pair);
        int kline = apl_line(key, line);
        if (!key || !fy_node_is_scalar(key) || fy_node_is_alias(key))
            return apl_fail(p, kline, "keys of %s must be strings", what);
        size_t klen = 0;
        const char *k = fy_node_get_scalar(key, &klen);
        size_t i = 0;
        while (i < nfields && !(strlen(fields[i].key) == klen && !memcmp(k, fields[i].key, klen)))
            i++;
        if (i == nfields) {
            char expected[256];
            apl_expected(fields, nfields, expected, sizeof(expected));
            return apl_fail(p, kline, "unknown field \"%.*s\" in %s (expected %s)",
                            (int)(klen < APL_SHOWN_MAX ? klen : APL_SHOWN_MAX), k, what, expected);
        }
        if (fields[i].fn && fields[i].fn(p, fy_node_pair_value(pair), kline, obj) < 0)
            return -1;
    }
    return 0;
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
    line = apl_line(v, line);
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
    line = apl_line(v, line);
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
        int uline = apl_line(fy_node_sequence_iterate(v, &it), line);
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
    int len = apl_is_null(v) || !fy_node_is_sequence(v) ? 0 : fy_node_sequence_item_count(v);
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
    int len = apl_is_null(v) || !fy_node_is_sequence(v) ? 0 : fy_node_sequence_item_count(v);
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
        return apl_fail(p, apl_line(root, 1),
                        "not an audit.k8s.io/v1 Policy (the top level must be a mapping)");
    struct fy_node *kind = fy_node_mapping_lookup_by_string(root, "kind", FY_NT);
    struct fy_node *ver = fy_node_mapping_lookup_by_string(root, "apiVersion", FY_NT);
    const char *k = kind && fy_node_is_scalar(kind) ? fy_node_get_scalar0(kind) : NULL;
    const char *v = ver && fy_node_is_scalar(ver) ? fy_node_get_scalar0(ver) : NULL;
    if (!k || strcmp(k, "Policy") != 0)
        return apl_fail(p, apl_line(kind, apl_line(root, 1)),
                        "not an audit.k8s.io/v1 Policy (kind is \"%.*s\")", APL_SHOWN_MAX,
                        k ? k : "");
    if (!v || strcmp(v, "audit.k8s.io/v1") != 0)
        return apl_fail(p, apl_line(ver, apl_line(root, 1)),
                        "apiVersion \"%.*s\" is not supported (expected audit.k8s.io/v1)",
                        APL_SHOWN_MAX, v ? v : "");
    return 0;
}

static int apl_root(struct apl *p, struct fy_node *root, struct audit_policy *pol)
{
    if (apl_type_check(p, root) < 0)
        return -1;
    struct fy_node *meta = fy_node_mapping_lookup_by_string(root, "metadata", FY_NT);
    if (meta && !apl_is_null(meta) &&
        apl_kind(p, meta, apl_line(meta, 1), "metadata", FYNT_MAPPING) < 0)
        return -1;
    if (apl_mapping(p, root, 1, "the Policy", apl_top_fields,
                    sizeof(apl_top_fields) / sizeof(apl_top_fields[0]), pol) < 0)
        return -1;
    if (pol->rules_len == 0)
        return apl_fail(p, apl_line(root, 1), "the policy has no rules");
    /* as the apiserver's NewChecker: a rule omits its own stages and the policy's */
    for (size_t i = 0; i < pol->rules_len; i++)
        for (int s = 0; s < AUDIT_STAGES; s++)
            pol->rules[i].omit[s] |= pol->omit[s];
    return 0;
}

/* ---- YAML ---- */

/* libfyaml 0.8 loops forever on some malformed UTF-8 and crashes on some NUL
 * bytes: refuse either before it parses anything, naming the line. */
static int apl_text_check(struct apl *p, const char *buf, size_t len)
{
    size_t bad = len;
    bool utf8 = util_utf8_valid((const uint8_t *)buf, len, &bad);
    const char *nul = memchr(buf, '\0', len);
    if (utf8 && !nul)
        return 0;
    if (nul && (size_t)(nul - buf) < bad)
        bad = (size_t)(nul - buf);
    int line = 1;
    for (size_t i = 0; i < bad; i++)
        line += buf[i] == '\n';
    return apl_fail(p, line, buf[bad] ? "the file is not UTF-8" : "the file holds a NUL byte");
}

static int apl_syntax_fail(struct apl *p, struct fy_diag *diag)
{
    void *it = NULL;
    struct fy_diag_error *e = fy_diag_errors_iterate(diag, &it);
    if (!e)
        return apl_fail(p, 1, "not valid YAML");
    return apl_fail(p, e->line > 0 ? e->line : 1, "YAML syntax: %s", e->msg);
}

/* One document only: a second would be silently ignored (a trailing empty
 * "---" is fine). */
static int apl_rest_check(struct apl *p, struct fy_parser *fyp, struct fy_diag *diag)
{
    struct fy_document *doc = fy_parse_load_document(fyp);
    struct fy_node *root = doc ? fy_document_root(doc) : NULL;
    if (root && apl_is_null(root))
        root = NULL;
    int line = apl_line(root, 1);
    if (doc)
        fy_parse_document_destroy(fyp, doc);
    if (root)
        return apl_fail(p, line, "a second YAML document is not supported");
    if (fy_diag_errors_iterate(diag, &(void *){NULL}))
        return apl_syntax_fail(p, diag);
    return 0;
}

static int apl_parse(struct apl *p, const char *buf, size_t len, struct audit_policy *pol)
{
    if (apl_text_check(p, buf, len) < 0)
        return -1;
    struct fy_diag_cfg dc;
    fy_diag_cfg_default(&dc);
    dc.fp = NULL; /* collected and reported by us, never printed */
    struct fy_diag *diag = fy_diag_create(&dc);
    if (diag)
        fy_diag_set_collect_errors(diag, true);
    struct fy_parse_cfg cfg = {.flags = FYPCF_QUIET | FYPCF_DEFAULT_VERSION_1_2 | FYPCF_JSON_NONE,
                               .diag = diag};
    struct fy_parser *fyp = diag ? fy_parser_create(&cfg) : NULL;
    int rc = -1;
    if (!fyp || fy_parser_set_string(fyp, buf, len) != 0) {
        apl_fail(p, 1, "cannot start the YAML parser");
        goto out;
    }
    struct fy_document *doc = fy_parse_load_document(fyp);
    if (!doc) {
        if (fy_diag_errors_iterate(diag, &(void *){NULL}))
            apl_syntax_fail(p, diag);
        else
            apl_fail(p, 1, "the file is empty (not an audit.k8s.io/v1 Policy)");
        goto out;
    }
    rc = apl_root(p, fy_document_root(doc), pol);
    fy_parse_document_destroy(fyp, doc);
    if (rc == 0)
        rc = apl_rest_check(p, fyp, diag);
out:
    if (fyp)
        fy_parser_destroy(fyp);
    if (diag)
        fy_diag_destroy(diag);
    return rc;
}

struct audit_policy *audit_policy_parse_file(const char *path, char *err, size_t err_cap)
{
    struct apl p = {.path = path, .err = err, .err_cap = err_cap};
    char *buf = NULL;
    size_t len = 0;
    int rc = util_file_read(path, AUDIT_POLICY_FILE_MAX, &buf, &len, err, err_cap);
    if (rc == -EFBIG && err && err_cap)
        snprintf(err, err_cap, "%s: larger than 1 MiB (AUDIT_POLICY_FILE_MAX)", path);
    if (rc < 0)
        return NULL;
    struct audit_policy *pol = calloc(1, sizeof(*pol));
    rc = pol ? apl_parse(&p, buf, len, pol) : apl_fail(&p, 1, "out of memory");
    free(buf);
    if (rc < 0) {
        audit_policy_free(pol);
        return NULL;
    }
    return pol;
}
