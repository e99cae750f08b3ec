/* config_parse.c - walk a libfyaml document into struct config_cluster.
 *
 * Each mapping is checked against a table of the keys it may hold, so a typo
 * ("comand:") is an error naming the line, not a silently ignored field.
 * Every error names the line of the offending key or value (libfyaml marks
 * are 0-based; people count from 1). */
#include "config/config_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SHOWN_MAX YAML_SHOWN_MAX /* bytes of a user's value echoed in an error message */
#define LABEL_KEY_MAX (CONFIG_NAME_MAX + 1 + 63) /* prefix/name */
#define ANNOTATION_DEFAULT_CONTAINER "kubectl.kubernetes.io/default-container"

typedef int (*parse_field_fn)(struct config_parse *p, struct fy_node *value, int line, void *obj);

struct parse_field {
    const char *key;
    parse_field_fn fn;
};

/* A pod being parsed, with the lines its cross-field checks report. */
struct parse_pod {
    struct config_pod *pod;
    int line;
    int default_container_line;
    int container_lines[CONFIG_CONTAINERS_MAX];
};

int config_fail(struct config_parse *p, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    yaml_vfail(&p->src, line, fmt, ap);
    va_end(ap);
    return -1;
}

static int parse_bool(struct config_parse *p, struct fy_node *n, int line, const char *what,
                      bool *out)
{
    line = yaml_node_line(n, line);
    if (yaml_kind_check(&p->src, n, line, what, FYNT_SCALAR) < 0)
        return -1;
    return yaml_bool_get(&p->src, n, line, what, out);
}

/* One mapping key's field function, from yaml_mapping_walk. */
struct parse_walk {
    struct config_parse *p;
    const struct parse_field *fields;
    void *obj;
};

static int parse_pair(void *ctx, size_t i, struct fy_node *value, int key_line)
{
    struct parse_walk *w = ctx;
    return w->fields[i].fn(w->p, value, key_line, w->obj);
}

/* A mapping whose keys must be those of fields: a typo ("comand:") is an
 * error naming its line, not a silently ignored field. */
static int parse_mapping(struct config_parse *p, struct fy_node *n, int line, const char *what,
                         const struct parse_field *fields, size_t nfields, void *obj)
{
    struct parse_walk w = {p, fields, obj};
    return yaml_mapping_walk(&p->src, n, line, what, "key", fields, sizeof(*fields), nfields,
                             parse_pair, &w);
}

/* ---- containers ---- */

static int parse_container_name(struct config_parse *p, struct fy_node *v, int line, void *obj)
{
    struct config_container *c = obj;
    line = yaml_node_line(v, line);
    if (yaml_string_dup(&p->src, v, line, "container name", CONFIG_NAME_MAX, &c->name) < 0)
        return -1;
    if (!config_name_is_dns1123_label(c->name))
        return config_fail(p, line, "container name \"%.*s\" is not a DNS-1123 label", SHOWN_MAX,
                           c->name);
    return 0;
}

static int parse_container_command(struct config_parse *p, struct fy_node *v, int line, void *obj)
{
    struct config_container *c = obj;
    if (yaml_kind_check(&p->src, v, line, "command", FYNT_SEQUENCE) < 0)
        return -1;
    size_t n = (size_t)fy_node_sequence_item_count(v);
    if (n == 0)
        return config_fail(p, line, "command is empty (leave it out for /bin/sh)");
    if (n > CONFIG_ARGV_MAX)
        return config_fail(p, line, "command has %zu elements, more than %d", n, CONFIG_ARGV_MAX);
    c->command = calloc(n + 1, sizeof(char *)); /* NULL-terminated for exec */
    if (!c->command)
        return config_fail(p, line, "out of memory");
    void *it = NULL;
    struct fy_node *item;
    while ((item = fy_node_sequence_iterate(v, &it)))
        if (yaml_string_dup(&p->src, item, line, "command element", CONFIG_VALUE_MAX,
                            &c->command[c->command_len++]) < 0)
            return -1;
    return 0;
}

static int parse_container_workdir(struct config_parse *p, struct fy_node *v, int line, void *obj)
{
    struct config_container *c = obj;
    return yaml_string_dup(&p->src, v, line, "workingDir", CONFIG_VALUE_MAX, &c->workdir);
}

/* Kubernetes (1.30+) allows any printable ASCII but '=' in variable names. */
static bool parse_env_name_valid(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (*s < 0x20 || *s > 0x7e || *s == '=')
            return false;
    return true;
}

static int parse_env_name(struct config_parse *p, struct fy_node *v, int line, void *obj)
{
    struct config_kv *kv = obj;
    line = yaml_node_line(v, line);
    if (yaml_string_dup(&p->src, v, line, "env name", CONFIG_NAME_MAX, &kv->key) < 0)
        return -1;
    if (!parse_env_name_valid(kv->key))
        return config_fail(p, line, "env name \"%.*s\" must be printable ASCII without '='",
                           SHOWN_MAX, kv->key);
    return 0;
}

static int parse_env_value(struct config_parse *p, struct fy_node *v, int line, void *obj)
{
    struct config_kv *kv = obj;
    return yaml_string_dup(&p->src, v, line, "env value", CONFIG_VALUE_MAX, &kv->value);
}

static int parse_env_entry(struct config_parse *p, struct config_container *c, struct fy_node *item,
                           int line)
{
    static const struct parse_field fields[] = {{"name", parse_env_name},
                                                {"value", parse_env_value}};
    struct config_kv *kv = &c->env[c->env_len++];
    line = yaml_node_line(item, line);
    if (parse_mapping(p, item, line, "env entry", fields, 2, kv) < 0)
        return -1;
    if (!kv->key)
        return config_fail(p, line, "env entry has no name");
    if (!kv->value && !(kv->value = strdup(""))) /* as in Kubernetes: value defaults to "" */
        return config_fail(p, line, "out of memory");
    for (size_t i = 0; i + 1 < c->env_len; i++)
        if (strcmp(c->env[i].key, kv->key) == 0)
            return config_fail(p, line, "env name \"%.*s\" appears twice", SHOWN_MAX, kv->key);
    return 0;
}

static int parse_container_env(struct config_parse *p, struct fy_node *v, int line, void *obj)
{
    struct config_container *c = obj;
    if (yaml_kind_check(&p->src, v, line, "env", FYNT_SEQUENCE) < 0)
        return -1;
    size_t n = (size_t)fy_node_sequence_item_count(v);
    if (n > CONFIG_ENV_MAX)
        return config_fail(p, line, "env has %zu entries, more than %d", n, CONFIG_ENV_MAX);
    c->env = calloc(n ? n : 1, sizeof(*c->env));
    if (!c->env)
        return config_fail(p, line, "out of memory");
    void *it = NULL;
    struct fy_node *item;
    while ((item = fy_node_sequence_iterate(v, &it)))
        if (parse_env_entry(p, c, item, line) < 0)
            return -1;
    return 0;
}

static int parse_container_tty(struct config_parse *p, struct fy_node *v, int line, void *obj)
{
    return parse_bool(p, v, line, "tty", &((struct config_container *)obj)->tty);
}

static int parse_container_stdin(struct config_parse *p, struct fy_node *v, int line, void *obj)
{
    return parse_bool(p, v, line, "stdin", &((struct config_container *)obj)->stdin_open);
}

static int parse_container(struct config_parse *p, struct parse_pod *pp, struct fy_node *item,
                           int line)
{
    static const struct parse_field fields[] = {
        {"name", parse_container_name},
        {"command", parse_container_command},
        {"workingDir", parse_container_workdir},
        {"env", parse_container_env},
        {"tty", parse_container_tty},
        {"stdin", parse_container_stdin},
    };
    struct config_pod *pod = pp->pod;
    struct config_container *c = &pod->containers[pod->containers_len++];
    line = yaml_node_line(item, line);
    if (parse_mapping(p, item, line, "container", fields, sizeof(fields) / sizeof(fields[0]), c) <
        0)
        return -1;
    if (!c->name)
        return config_fail(p, line, "container has no name");
    for (size_t i = 0; i + 1 < pod->containers_len; i++)
        if (strcmp(pod->containers[i].name, c->name) == 0)
            return config_fail(p, line, "container name \"%s\" appears twice in the pod (line %d)",
                               c->name, pp->container_lines[i]);
    pp->container_lines[pod->containers_len - 1] = line;
    return 0;
}

/* ---- pods ---- */

static int parse_pod_name(struct config_parse *p, struct fy_node *v, int line, void *obj)
{
    struct parse_pod *pp = obj;
    line = yaml_node_line(v, line);
    if (yaml_string_dup(&p->src, v, line, "pod name", CONFIG_NAME_MAX, &pp->pod->name) < 0)
        return -1;
    if (!config_name_is_dns1123_subdomain(pp->pod->name))
        return config_fail(p, line, "pod name \"%.*s\" is not a DNS-1123 subdomain", SHOWN_MAX,
                           pp->pod->name);
    return 0;
}

static int parse_namespace(struct config_parse *p, struct fy_node *v, int line, char **out)
{
    line = yaml_node_line(v, line);
    if (yaml_string_dup(&p->src, v, line, "namespace", CONFIG_NAME_MAX, out) < 0)
        return -1;
    if (!config_name_is_dns1123_label(*out))
        return config_fail(p, line, "namespace \"%.*s\" is not a DNS-1123 label", SHOWN_MAX, *out);
    return 0;
}

static int parse_pod_namespace(struct config_parse *p, struct fy_node *v, int line, void *obj)
{
    return parse_namespace(p, v, line, &((struct parse_pod *)obj)->pod->ns);
}

static int parse_label(struct config_parse *p, struct config_pod *pod, struct fy_node_pair *pair,
                       int line)
{
    struct config_kv *kv = &pod->labels[pod->labels_len++];
    struct fy_node *k = fy_node_pair_key(pair);
    line = yaml_node_line(k, line);
    if (yaml_string_dup(&p->src, k, line, "label key", LABEL_KEY_MAX, &kv->key) < 0 ||
        yaml_string_dup(&p->src, fy_node_pair_value(pair), line, "label value", CONFIG_NAME_MAX,
                        &kv->value) < 0)
        return -1;
    if (!config_label_key_is_valid(kv->key))
        return config_fail(p, line, "label key \"%.*s\" is not a valid Kubernetes label key",
                           SHOWN_MAX, kv->key);
    if (!config_label_value_is_valid(kv->value))
        return config_fail(p, line, "label value \"%.*s\" is not a valid Kubernetes label value",
                           SHOWN_MAX, kv->value);
    return 0;
}

static int parse_pod_labels(struct config_parse *p, struct fy_node *v, int line, void *obj)
{
    struct config_pod *pod = ((struct parse_pod *)obj)->pod;
    if (yaml_kind_check(&p->src, v, line, "labels", FYNT_MAPPING) < 0)
        return -1;
    size_t n = (size_t)fy_node_mapping_item_count(v);
    if (n > CONFIG_LABELS_MAX)
        return config_fail(p, line, "pod has %zu labels, more than %d", n, CONFIG_LABELS_MAX);
    pod->labels = calloc(n ? n : 1, sizeof(*pod->labels));
    if (!pod->labels)
        return config_fail(p, line, "out of memory");
    void *it = NULL;
    struct fy_node_pair *pair;
    while ((pair = fy_node_mapping_iterate(v, &it)))
        if (parse_label(p, pod, pair, line) < 0)
            return -1;
    return 0;
}

static int parse_annotation_default(struct config_parse *p, struct fy_node *v, int line, void *obj)
{
    struct parse_pod *pp = obj;
    pp->default_container_line = line = yaml_node_line(v, line);
    return yaml_string_dup(&p->src, v, line, "default-container annotation", CONFIG_NAME_MAX,
                           &pp->pod->default_container);
}

/* Only annotations podterm acts on are accepted: an unknown one would be
 * silently ignored, which is what a typo in its key looks like too. */
static int parse_pod_annotations(struct config_parse *p, struct fy_node *v, int line, void *obj)
{
    static const struct parse_field fields[] = {
        {ANNOTATION_DEFAULT_CONTAINER, parse_annotation_default}};
    return parse_mapping(p, v, line, "annotations", fields, 1, obj);
}

static int parse_pod_phase(struct config_parse *p, struct fy_node *v, int line, void *obj)
{
    static const char *const phases[] = {"Pending", "Running", "Succeeded", "Failed", "Unknown"};
    struct config_pod *pod = ((struct parse_pod *)obj)->pod;
    line = yaml_node_line(v, line);
    if (yaml_string_dup(&p->src, v, line, "phase", CONFIG_NAME_MAX, &pod->phase) < 0)
        return -1;
    for (size_t i = 0; i < sizeof(phases) / sizeof(phases[0]); i++)
        if (strcmp(pod->phase, phases[i]) == 0)
            return 0;
    return config_fail(p, line,
                       "phase \"%.*s\" is not one of Pending, Running, Succeeded, Failed, Unknown",
                       SHOWN_MAX, pod->phase);
}

static int parse_pod_containers(struct config_parse *p, struct fy_node *v, int line, void *obj)
{
    struct parse_pod *pp = obj;
    if (yaml_kind_check(&p->src, v, line, "containers", FYNT_SEQUENCE) < 0)
        return -1;
    size_t n = (size_t)fy_node_sequence_item_count(v);
    if (n == 0)
        return config_fail(p, line, "containers is empty (a pod needs at least one)");
    if (n > CONFIG_CONTAINERS_MAX)
        return config_fail(p, line, "pod has %zu containers, more than %d", n,
                           CONFIG_CONTAINERS_MAX);
    pp->pod->containers = calloc(n, sizeof(*pp->pod->containers));
    if (!pp->pod->containers)
        return config_fail(p, line, "out of memory");
    void *it = NULL;
    struct fy_node *item;
    while ((item = fy_node_sequence_iterate(v, &it)))
        if (parse_container(p, pp, item, line) < 0)
            return -1;
    return 0;
}

/* Defaults and the checks that need the whole pod. */
static int parse_pod_finish(struct config_parse *p, struct parse_pod *pp)
{
    struct config_pod *pod = pp->pod;
    if (!pod->name)
        return config_fail(p, pp->line, "pod has no name");
    if (!pod->containers_len)
        return config_fail(p, pp->line, "pod \"%s\" has no containers", pod->name);
    if (!pod->ns && !(pod->ns = strdup("default")))
        return config_fail(p, pp->line, "out of memory");
    if (!pod->phase && !(pod->phase = strdup("Running")))
        return config_fail(p, pp->line, "out of memory");
    if (pod->default_container && !config_container_find(pod, pod->default_container))
        return config_fail(p, pp->default_container_line,
                           "default container \"%.*s\" is not a container of pod \"%s\"", SHOWN_MAX,
                           pod->default_container, pod->name);
    return 0;
}

static int parse_pod(struct config_parse *p, struct fy_node *item, int line)
{
    static const struct parse_field fields[] = {
        {"name", parse_pod_name},     {"namespace", parse_pod_namespace},
        {"labels", parse_pod_labels}, {"annotations", parse_pod_annotations},
        {"phase", parse_pod_phase},   {"containers", parse_pod_containers},
    };
    struct config_cluster *c = p->cluster;
    struct parse_pod pp = {.pod = &c->pods[c->pods_len++], .line = yaml_node_line(item, line)};
    p->pod_lines[c->pods_len - 1] = pp.line;
    if (parse_mapping(p, item, pp.line, "pod", fields, sizeof(fields) / sizeof(fields[0]), &pp) < 0)
        return -1;
    return parse_pod_finish(p, &pp);
}

static int parse_root_pods(struct config_parse *p, struct fy_node *v, int line, void *obj)
{
    if (yaml_kind_check(&p->src, v, line, "pods", FYNT_SEQUENCE) < 0)
        return -1;
    size_t n = (size_t)fy_node_sequence_item_count(v);
    if (n > CONFIG_PODS_MAX)
        return config_fail(p, line, "%zu pods, more than %d", n, CONFIG_PODS_MAX);
    p->cluster->pods = calloc(n ? n : 1, sizeof(*p->cluster->pods));
    p->pod_lines = calloc(n ? n : 1, sizeof(*p->pod_lines));
    if (!p->cluster->pods || !p->pod_lines)
        return config_fail(p, line, "out of memory");
    void *it = NULL;
    struct fy_node *item;
    while ((item = fy_node_sequence_iterate(v, &it)))
        if (parse_pod(p, item, line) < 0)
            return -1;
    return 0;
}

static int parse_root_namespaces(struct config_parse *p, struct fy_node *v, int line, void *obj)
{
    if (yaml_kind_check(&p->src, v, line, "namespaces", FYNT_SEQUENCE) < 0)
        return -1;
    size_t n = (size_t)fy_node_sequence_item_count(v);
    if (n > CONFIG_NAMESPACES_MAX)
        return config_fail(p, line, "%zu namespaces, more than %d", n, CONFIG_NAMESPACES_MAX);
    p->extra_ns = calloc(n ? n : 1, sizeof(char *));
    if (!p->extra_ns)
        return config_fail(p, line, "out of memory");
    void *it = NULL;
    struct fy_node *item;
    while ((item = fy_node_sequence_iterate(v, &it)))
        if (parse_namespace(p, item, line, &p->extra_ns[p->extra_ns_len++]) < 0)
            return -1;
    return 0;
}

/* flags: podterm's own flags, read before the pods by config_flags.c. */
static int parse_root_flags(struct config_parse *p, struct fy_node *v, int line, void *obj)
{
    (void)p, (void)v, (void)line, (void)obj;
    return 0;
}

int config_parse_root(struct config_parse *p, struct fy_node *root)
{
    static const struct parse_field fields[] = {{"flags", parse_root_flags},
                                                {"namespaces", parse_root_namespaces},
                                                {"pods", parse_root_pods}};
    if (parse_mapping(p, root, yaml_node_line(root, 1), "the top level", fields,
                      sizeof(fields) / sizeof(fields[0]), NULL) < 0)
        return -1;
    if (!p->cluster->pods_len)
        return config_fail(p, yaml_node_line(root, 1),
                           "no pods defined (the top level needs pods:)");
    return 0;
}
