/* config_internal.h - shared between the loader (config.c), the YAML walker
 * (config_parse.c) and the name rules (config_names.c). Not for other modules. */
#ifndef PODTERM_CONFIG_INTERNAL_H
#define PODTERM_CONFIG_INTERNAL_H

#include "config/config.h"

#include <libfyaml.h>

#include "yaml/yaml.h"

/* One load in progress: where errors go and what has been built so far. */
struct config_parse {
    struct yaml_src src; /* the file's name and where errors go */
    struct config_cluster *cluster;
    int *pod_lines;  /* line of each pod's entry, for duplicate reports */
    char **extra_ns; /* the top-level namespaces: list */
    size_t extra_ns_len;
};

/* Write "path:line: message" to p->err; returns -1 so callers can `return config_fail(...)`. */
int config_fail(struct config_parse *p, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Walk the document root into p->cluster (pods unsorted, namespaces not merged). */
int config_parse_root(struct config_parse *p, struct fy_node *root);

bool config_label_key_is_valid(const char *key);
bool config_label_value_is_valid(const char *value);
char *config_uid_new(const char *ns, const char *name);

void config_pod_clear(struct config_pod *pod);

#endif
