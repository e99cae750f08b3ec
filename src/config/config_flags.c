/* config_flags.c - the --config file's `flags:` mapping as command-line
 * arguments (config_flags.h). Reads the file with the shared YAML helper,
 * so its bounds, UTF-8 check and error texts are those of every loader. */
#include "config/config_flags.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "yaml/yaml.h"

struct flags_parse {
    struct yaml_src src;
    const struct config_flag_spec *specs;
    size_t nspecs;
    struct config_flags *out;
};

/* "--name=value" (value may be NULL: a switch) appended to the list. */
static int flags_arg_add(struct flags_parse *p, int line, const char *name, const char *value,
                         size_t value_len)
{
    struct config_flags *out = p->out;
    if (out->len == CONFIG_FLAGS_MAX)
        return yaml_fail(&p->src, line, "more than %d flag values (CONFIG_FLAGS_MAX)",
                         CONFIG_FLAGS_MAX);
    size_t name_len = strlen(name);
    size_t cap = 2 + name_len + (value ? 1 + value_len : 0) + 1;
    char *arg = malloc(cap);
    if (!arg)
        return yaml_fail(&p->src, line, "out of memory");
    memcpy(arg, "--", 2);
    memcpy(arg + 2, name, name_len);
    size_t n = 2 + name_len;
    if (value) {
        arg[n++] = '=';
        memcpy(arg + n, value, value_len);
        n += value_len;
    }
    arg[n] = '\0';
    out->args[out->len++] = arg;
    return 0;
}

static int flags_value_add(struct flags_parse *p, const struct config_flag_spec *spec,
                           struct fy_node *v, int line)
{
    char what[CONFIG_FLAG_NAME_MAX + 16];
    snprintf(what, sizeof(what), "flag %s", spec->name);
    const char *s;
    size_t len;
    if (yaml_kind_check(&p->src, v, line, what, FYNT_SCALAR) < 0 ||
        yaml_scalar_get(&p->src, v, line, what, CONFIG_FLAG_VALUE_MAX, &s, &len) < 0)
        return -1;
    return flags_arg_add(p, yaml_node_line(v, line), spec->name, s, len);
}

static int flags_pair(void *ctx, size_t i, struct fy_node *v, int line)
{
    struct flags_parse *p = ctx;
    const struct config_flag_spec *spec = &p->specs[i];
    line = yaml_node_line(v, line);
    switch (spec->kind) {
    case CONFIG_FLAG_SWITCH: {
        char what[CONFIG_FLAG_NAME_MAX + 16];
        snprintf(what, sizeof(what), "flag %s", spec->name);
        bool on;
        if (yaml_bool_get(&p->src, v, line, what, &on) < 0)
            return -1;
        return on ? flags_arg_add(p, line, spec->name, NULL, 0) : 0;
    }
    case CONFIG_FLAG_VALUE:
        return flags_value_add(p, spec, v, line);
    case CONFIG_FLAG_LIST:
        break;
    }
    if (fy_node_get_type(v) != FYNT_SEQUENCE)
        return flags_value_add(p, spec, v, line);
    void *it = NULL;
    struct fy_node *item;
    while ((item = fy_node_sequence_iterate(v, &it)))
        if (flags_value_add(p, spec, item, line) < 0)
            return -1;
    return 0;
}

static int flags_root(void *ctx, struct fy_node *root)
{
    struct flags_parse *p = ctx;
    int line = yaml_node_line(root, 1);
    if (yaml_kind_check(&p->src, root, line, "the top level", FYNT_MAPPING) < 0)
        return -1;
    void *it = NULL;
    struct fy_node_pair *pair;
    while ((pair = fy_node_mapping_iterate(root, &it))) {
        struct fy_node *key = fy_node_pair_key(pair), *value = fy_node_pair_value(pair);
        int key_line = yaml_node_line(key, line);
        const char *k;
        size_t klen;
        if (yaml_key_get(&p->src, key, key_line, "the top level", &k, &klen) < 0)
            return -1;
        if ((klen == 4 && memcmp(k, "pods", 4) == 0) ||
            (klen == 10 && memcmp(k, "namespaces", 10) == 0)) {
            p->out->has_pods = true;
            continue;
        }
        if (klen != 5 || memcmp(k, "flags", 5) != 0)
            continue; /* the pods loader names unknown keys */
        if (yaml_is_null(value))
            continue;
        if (yaml_mapping_walk(&p->src, value, key_line, "flags", "flag", p->specs,
                              sizeof(*p->specs), p->nspecs, flags_pair, p) < 0)
            return -1;
    }
    return 0;
}

int config_flags_load(const char *path, const struct config_flag_spec *specs, size_t nspecs,
                      struct config_flags *out, char *err, size_t err_cap)
{
    memset(out, 0, sizeof(*out));
    struct flags_parse p = {
        .src = {.path = path, .err = err, .err_cap = err_cap},
        .specs = specs,
        .nspecs = nspecs,
        .out = out,
    };
    size_t len;
    char *buf = yaml_file_read(&p.src, CONFIG_FILE_MAX, "4 MiB (CONFIG_FILE_MAX)", &len);
    if (!buf)
        return -1;
    int rc = -1;
    out->args = calloc(CONFIG_FLAGS_MAX, sizeof(*out->args));
    if (!out->args)
        yaml_fail(&p.src, 1, "out of memory");
    else if (yaml_text_check(&p.src, buf, len) == 0)
        rc = yaml_parse_single(&p.src, buf, len, "the file is empty", false, flags_root, &p);
    free(buf);
    if (rc < 0)
        config_flags_free(out);
    return rc;
}

void config_flags_free(struct config_flags *flags)
{
    for (size_t i = 0; flags->args && i < flags->len; i++)
        free(flags->args[i]);
    free(flags->args);
    flags->args = NULL;
    flags->len = 0;
}
