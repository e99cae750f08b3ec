/* authz_parse_exec.c - podterm.dev/v1alpha1 ExecPolicy documents (authz.h
 * shows the shape). Checked as a CRD's validation would: subjects required
 * and non-empty, label selectors as metav1.LabelSelector validates them,
 * durations in Go's syntax bounded to AUTHZ_DURATION_MAX_S, tty one of three
 * words. An empty namespaces or containers list is refused rather than taken
 * to mean "nowhere" (leaving it out means "everywhere"); an empty commands
 * list means what it says: no command may run. */
#include "authz/authz_parse.h"

#include <string.h>

#define LABEL_NAME_MAX 63

/* ---- label keys and values (IsQualifiedName, IsValidLabelValue) ---- */

static bool label_name_valid(const char *s, size_t n)
{
    if (n == 0 || n > LABEL_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alnum && (i == 0 || i == n - 1 || (c != '-' && c != '_' && c != '.')))
            return false;
    }
    return true;
}

static bool label_prefix_valid(const char *s, size_t n)
{
    if (n == 0 || n > AUTHZ_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        bool edge = i == 0 || i == n - 1 || s[i - 1] == '.' || s[i + 1] == '.';
        if (!alnum && (edge || (c != '-' && c != '.')))
            return false;
    }
    return true;
}

static bool label_key_valid(const char *k)
{
    const char *slash = strchr(k, '/');
    if (!slash)
        return label_name_valid(k, strlen(k));
    return label_prefix_valid(k, (size_t)(slash - k)) &&
           label_name_valid(slash + 1, strlen(slash + 1));
}

static bool label_value_valid(const char *v)
{
    return *v == '\0' || label_name_valid(v, strlen(v));
}

static int label_key(struct authz_parse *p, struct fy_node *n, int line, const char **out)
{
    line = authz_line(n, line);
    if (authz_string(p, n, line, "a label key", AUTHZ_NAME_MAX + 1 + LABEL_NAME_MAX, out) < 0)
        return -1;
    if (!label_key_valid(*out))
        return authz_fail(p, line, "label key \"%.*s\" is not a valid label key", AUTHZ_SHOWN_MAX,
                          *out);
    return 0;
}

/* A label value may be empty: a plain empty scalar is "", not null, here. */
static int label_value(struct authz_parse *p, struct fy_node *n, int line, const char **out)
{
    line = authz_line(n, line);
    if (authz_deref(p, &n, line) < 0)
        return -1;
    if (n && fy_node_is_scalar(n) && fy_node_get_style(n) != FYNS_PLAIN) {
        size_t len = 0;
        if (fy_node_get_scalar(n, &len) && len == 0) {
            *out = "";
            return 0;
        }
    }
    if (authz_string(p, n, line, "a label value", AUTHZ_STRING_MAX, out) < 0)
        return -1;
    if (!label_value_valid(*out))
        return authz_fail(p, line, "label value \"%.*s\" is not a valid label value",
                          AUTHZ_SHOWN_MAX, *out);
    return 0;
}

/* ---- podSelector ---- */

static int selector_match_labels(struct authz_parse *p, struct fy_node *v, int line, void *obj)
{
    struct authz_exec_policy *pol = obj;
    if (authz_deref(p, &v, line) < 0)
        return -1;
    if (authz_is_null(v))
        return 0;
    if (!fy_node_is_mapping(v))
        return authz_fail(p, line, "matchLabels must be a mapping");
    int count = fy_node_mapping_item_count(v);
    if (count < 0 || count > AUTHZ_LIST_MAX)
        return authz_fail(p, line, "matchLabels has more than %d labels", AUTHZ_LIST_MAX);
    struct authz_label *labels = authz_arena_alloc(p->arena, ((size_t)count + 1) * sizeof(*labels));
    if (!labels)
        return authz_fail(p, line, "out of memory");
    void *it = NULL;
    struct fy_node_pair *pair;
    size_t n = 0;
    while (n < (size_t)count && (pair = fy_node_mapping_iterate(v, &it))) {
        int kline = authz_line(fy_node_pair_key(pair), line);
        if (label_key(p, fy_node_pair_key(pair), kline, &labels[n].key) < 0 ||
            label_value(p, fy_node_pair_value(pair), kline, &labels[n].value) < 0)
            return -1;
        n++;
    }
    pol->match_labels = labels;
    pol->match_labels_len = n;
    return 0;
}

struct expr_raw {
    struct authz_selector_req req;
    const char *op;
    int op_line;
    bool has_values;
};

static int expr_key(struct authz_parse *p, struct fy_node *v, int line, void *obj)
{
    return label_key(p, v, line, &((struct expr_raw *)obj)->req.key);
}

static int expr_operator(struct authz_parse *p, struct fy_node *v, int line, void *obj)
{
    struct expr_raw *r = obj;
    r->op_line = authz_line(v, line);
    return authz_string(p, v, line, "operator", AUTHZ_STRING_MAX, &r->op);
}

static int expr_values(struct authz_parse *p, struct fy_node *v, int line, void *obj)
{
    struct expr_raw *r = obj;
    if (authz_strlist(p, v, line, "values", AUTHZ_STRING_MAX, &r->req.values) < 0)
        return -1;
    r->has_values = r->req.values.n > 0;
    return 0;
}

static int expr_check(struct authz_parse *p, struct expr_raw *r, int line)
{
    static const char *const ops[] = {"In", "NotIn", "Exists", "DoesNotExist"};
    if (!r->req.key)
        return authz_fail(p, line, "matchExpressions entry has no key");
    if (!r->op)
        return authz_fail(p, line, "matchExpressions entry has no operator");
    size_t i = 0;
    while (i < 4 && strcmp(ops[i], r->op))
        i++;
    if (i == 4)
        return authz_fail(p, r->op_line,
                          "operator \"%.*s\" is not In, NotIn, Exists or DoesNotExist",
                          AUTHZ_SHOWN_MAX, r->op);
    r->req.op = (enum authz_selector_op)i;
    if (i < 2 && !r->has_values)
        return authz_fail(p, line, "operator %s needs values", r->op);
    if (i >= 2 && r->has_values)
        return authz_fail(p, line, "operator %s takes no values", r->op);
    for (size_t k = 0; k < r->req.values.n; k++)
        if (!label_value_valid(r->req.values.v[k]))
            return authz_fail(p, line, "label value \"%.*s\" is not a valid label value",
                              AUTHZ_SHOWN_MAX, r->req.values.v[k]);
    return 0;
}

static int selector_match_exprs(struct authz_parse *p, struct fy_node *v, int line, void *obj)
{
    static const struct authz_field fields[] = {
        {"key", expr_key}, {"operator", expr_operator}, {"values", expr_values}};
    struct authz_exec_policy *pol = obj;
    struct fy_node **items;
    size_t n;
    if (authz_items(p, v, line, "matchExpressions", AUTHZ_LIST_MAX, &items, &n) < 0)
        return -1;
    struct authz_selector_req *reqs = authz_arena_alloc(p->arena, (n + 1) * sizeof(*reqs));
    if (!reqs)
        return authz_fail(p, line, "out of memory");
    for (size_t i = 0; i < n; i++) {
        struct expr_raw r = {0};
        int iline = authz_line(items[i], line);
        if (authz_mapping(p, items[i], iline, "a matchExpressions entry", fields, 3, false, &r) <
                0 ||
            expr_check(p, &r, iline) < 0)
            return -1;
        reqs[i] = r.req;
    }
    pol->match_exprs = reqs;
    pol->match_exprs_len = n;
    return 0;
}

static int spec_pod_selector(struct authz_parse *p, struct fy_node *v, int line, void *obj)
{
    static const struct authz_field fields[] = {{"matchLabels", selector_match_labels},
                                                {"matchExpressions", selector_match_exprs}};
    struct authz_exec_policy *pol = obj;
    pol->has_selector = true;
    return authz_mapping(p, v, line, "podSelector", fields, 2, false, pol);
}

/* ---- commands ---- */

struct command_raw {
    struct authz_command cmd;
    int seen;
};

static int command_argv(struct authz_parse *p, struct fy_node *v, int line, struct command_raw *r,
                        const char *what)
{
    struct fy_node **items;
    size_t n;
    if (authz_items(p, v, line, what, AUTHZ_ARGV_MAX, &items, &n) < 0)
        return -1;
    if (n == 0)
        return authz_fail(p, line, "%s is empty", what);
    r->cmd.argv.v = authz_arena_alloc(p->arena, (n + 1) * sizeof(char *));
    if (!r->cmd.argv.v)
        return authz_fail(p, line, "out of memory");
    for (size_t i = 0; i < n; i++)
        if (authz_string(p, items[i], line, "a command element", AUTHZ_ARG_MAX,
                         (const char **)&r->cmd.argv.v[r->cmd.argv.n++]) < 0)
            return -1;
    r->seen++;
    return 0;
}

static int command_exact(struct authz_parse *p, struct fy_node *v, int line, void *obj)
{
    return command_argv(p, v, line, obj, "exact");
}

static int command_prefix(struct authz_parse *p, struct fy_node *v, int line, void *obj)
{
    ((struct command_raw *)obj)->cmd.prefix = true;
    return command_argv(p, v, line, obj, "prefix");
}

static int spec_commands(struct authz_parse *p, struct fy_node *v, int line, void *obj)
{
    static const struct authz_field fields[] = {{"exact", command_exact},
                                                {"prefix", command_prefix}};
    struct authz_exec_policy *pol = obj;
    struct fy_node **items;
    size_t n;
    if (authz_items(p, v, line, "commands", AUTHZ_RULES_MAX, &items, &n) < 0)
        return -1;
    struct authz_command *cmds = authz_arena_alloc(p->arena, (n + 1) * sizeof(*cmds));
    if (!cmds)
        return authz_fail(p, line, "out of memory");
    for (size_t i = 0; i < n; i++) {
        struct command_raw r = {0};
        int iline = authz_line(items[i], line);
        if (authz_mapping(p, items[i], iline, "a command", fields, 2, false, &r) < 0)
            return -1;
        if (r.seen != 1)
            return authz_fail(p, iline, "a command needs exactly one of exact or prefix");
        cmds[i] = r.cmd;
    }
    pol->has_commands = true;
    pol->commands = cmds;
    pol->commands_len = n;
    return 0;
}

/* ---- the rest of spec ---- */

static int spec_subjects(struct authz_parse *p, struct fy_node *v, int line, void *obj)
{
    struct authz_exec_policy *pol = obj;
    if (authz_subjects_parse(p, v, line, "subjects", false, &pol->subjects, &pol->subjects_len) < 0)
        return -1;
    if (pol->subjects_len == 0)
        return authz_fail(p, line, "subjects is empty (an ExecPolicy needs at least one)");
    return 0;
}

static int spec_nonempty_list(struct authz_parse *p, struct fy_node *v, int line, const char *what,
                              const char *absent, struct authz_strs *out, bool *has)
{
    if (authz_strlist(p, v, line, what, AUTHZ_NAME_MAX, out) < 0)
        return -1;
    if (out->n == 0)
        return authz_fail(p, line, "%s is empty (leave it out for %s)", what, absent);
    *has = true;
    return 0;
}

static int spec_namespaces(struct authz_parse *p, struct fy_node *v, int line, void *obj)
{
    struct authz_exec_policy *pol = obj;
    return spec_nonempty_list(p, v, line, "namespaces", "every namespace", &pol->namespaces,
                              &pol->has_namespaces);
}

static int spec_containers(struct authz_parse *p, struct fy_node *v, int line, void *obj)
{
    struct authz_exec_policy *pol = obj;
    return spec_nonempty_list(p, v, line, "containers", "every container", &pol->containers,
                              &pol->has_containers);
}

static int spec_tty(struct authz_parse *p, struct fy_node *v, int line, void *obj)
{
    struct authz_exec_policy *pol = obj;
    const char *s;
    line = authz_line(v, line);
    if (authz_string(p, v, line, "tty", AUTHZ_STRING_MAX, &s) < 0)
        return -1;
    if (!strcmp(s, "Allowed"))
        pol->tty = AUTHZ_TTY_ALLOWED;
    else if (!strcmp(s, "Required"))
        pol->tty = AUTHZ_TTY_REQUIRED;
    else if (!strcmp(s, "Forbidden"))
        pol->tty = AUTHZ_TTY_FORBIDDEN;
    else
        return authz_fail(p, line, "tty \"%.*s\" is not Required, Forbidden or Allowed",
                          AUTHZ_SHOWN_MAX, s);
    return 0;
}

static int spec_read_only(struct authz_parse *p, struct fy_node *v, int line, void *obj)
{
    return authz_bool(p, v, line, "readOnly", &((struct authz_exec_policy *)obj)->read_only);
}

static int spec_duration(struct authz_parse *p, struct fy_node *v, int line, const char *what,
                         unsigned *out)
{
    const char *s;
    line = authz_line(v, line);
    if (authz_string(p, v, line, what, AUTHZ_STRING_MAX, &s) < 0)
        return -1;
    int rc = authz_duration_parse(s, out);
    if (rc == -2)
        return authz_fail(p, line, "%s \"%.*s\" is more than 30 days (720h)", what, AUTHZ_SHOWN_MAX,
                          s);
    if (rc == -3)
        return authz_fail(p, line, "%s \"%.*s\" must be more than 0 (leave it out for no limit)",
                          what, AUTHZ_SHOWN_MAX, s);
    if (rc == -4)
        return authz_fail(p, line, "%s \"%.*s\" is not a whole number of seconds", what,
                          AUTHZ_SHOWN_MAX, s);
    if (rc < 0)
        return authz_fail(p, line, "%s \"%.*s\" is not a duration like 90s, 5m or 1h30m", what,
                          AUTHZ_SHOWN_MAX, s);
    return 0;
}

static int spec_max_duration(struct authz_parse *p, struct fy_node *v, int line, void *obj)
{
    return spec_duration(p, v, line, "maxSessionDuration",
                         &((struct authz_exec_policy *)obj)->max_duration_s);
}

static int spec_idle_timeout(struct authz_parse *p, struct fy_node *v, int line, void *obj)
{
    return spec_duration(p, v, line, "idleTimeout",
                         &((struct authz_exec_policy *)obj)->idle_timeout_s);
}

static int policy_spec(struct authz_parse *p, struct fy_node *v, int line, void *obj)
{
    static const struct authz_field fields[] = {
        {"subjects", spec_subjects},        {"namespaces", spec_namespaces},
        {"podSelector", spec_pod_selector}, {"containers", spec_containers},
        {"commands", spec_commands},        {"tty", spec_tty},
        {"readOnly", spec_read_only},       {"maxSessionDuration", spec_max_duration},
        {"idleTimeout", spec_idle_timeout}};
    struct authz_exec_policy *pol = obj;
    if (authz_mapping(p, v, line, "spec", fields, sizeof(fields) / sizeof(fields[0]), false, pol) <
        0)
        return -1;
    if (!pol->subjects)
        return authz_fail(p, line, "spec.subjects is required");
    return 0;
}

int authz_parse_exec_policy(struct authz_parse *p, struct fy_node *root, int line)
{
    static const struct authz_field meta_fields[] = {{"metadata", authz_meta_parse}};
    static const struct authz_field fields[] = {
        {"apiVersion", NULL}, {"kind", NULL}, {"metadata", NULL}, {"spec", policy_spec}};
    struct authz_meta m = {0};
    if (authz_mapping(p, root, line, "the object", meta_fields, 1, true, &m) < 0)
        return -1;
    if (!m.name)
        return authz_fail(p, line, "metadata.name is required");
    struct authz_obj *o = authz_obj_new(p, AUTHZ_KIND_EXEC_POLICY, m.name_line);
    if (!o)
        return -1;
    struct authz_exec_policy *pol = &o->u.policy;
    *pol = (struct authz_exec_policy){.name = m.name, .line = m.name_line, .path = p->path};
    if (authz_mapping(p, root, line, "an ExecPolicy", fields, 4, false, pol) < 0)
        return -1;
    if (!pol->subjects)
        return authz_fail(p, line, "spec is required (with subjects)");
    return 0;
}
