/* fuzz_config.c - libFuzzer target for the local-pod --config loader
 * (config_cluster_load: YAML through libfyaml into the pod model). The input
 * is the file.
 *
 * Invariants: a load either fails with a non-empty, NUL-terminated message
 * that starts with the file's path, or yields a model that keeps every promise
 * of config.h: names are DNS-1123 (namespaces and containers labels, pods
 * subdomains), pods sorted by namespace then name without duplicates, every
 * pod's namespace listed, namespaces sorted and unique, 1 to
 * CONFIG_CONTAINERS_MAX containers with unique names, NULL-terminated
 * commands, and lookups finding each pod and container again. Billion-laughs
 * style aliases show up as timeouts or out-of-memory reports. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "fuzz_memfile.h"

#define FUZZ_IN_MAX (64 * 1024)

static struct fuzz_memfile file;

static void check_container(const struct config_pod *pod, const struct config_container *c)
{
    if (!c->name || !config_name_is_dns1123_label(c->name) ||
        config_container_find(pod, c->name) != c)
        __builtin_trap();
    if (c->command) {
        if (c->command_len == 0 || c->command_len > CONFIG_ARGV_MAX || c->command[c->command_len])
            __builtin_trap();
        for (size_t i = 0; i < c->command_len; i++)
            if (!c->command[i] || strlen(c->command[i]) > CONFIG_VALUE_MAX)
                __builtin_trap();
    }
    if (c->env_len > CONFIG_ENV_MAX)
        __builtin_trap();
    for (size_t i = 0; i < c->env_len; i++)
        if (!c->env[i].key || !c->env[i].value)
            __builtin_trap();
}

static void check_cluster(const struct config_cluster *cl)
{
    for (size_t i = 0; i < cl->namespaces_len; i++)
        if (!config_name_is_dns1123_label(cl->namespaces[i]) ||
            (i && strcmp(cl->namespaces[i - 1], cl->namespaces[i]) >= 0))
            __builtin_trap();
    if (cl->pods_len == 0 || cl->pods_len > CONFIG_PODS_MAX)
        __builtin_trap();
    for (size_t i = 0; i < cl->pods_len; i++) {
        const struct config_pod *p = &cl->pods[i];
        if (!config_name_is_dns1123_label(p->ns) || !config_name_is_dns1123_subdomain(p->name) ||
            !config_namespace_exists(cl, p->ns) || config_pod_find(cl, p->ns, p->name) != p ||
            !p->uid || !p->phase)
            __builtin_trap();
        if (i) {
            const struct config_pod *q = &cl->pods[i - 1];
            int c = strcmp(q->ns, p->ns);
            if (c > 0 || (c == 0 && strcmp(q->name, p->name) >= 0))
                __builtin_trap();
        }
        if (p->containers_len == 0 || p->containers_len > CONFIG_CONTAINERS_MAX ||
            p->labels_len > CONFIG_LABELS_MAX)
            __builtin_trap();
        for (size_t k = 0; k < p->containers_len; k++)
            check_container(p, &p->containers[k]);
        if (p->default_container && !config_container_find(p, p->default_container))
            __builtin_trap();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_IN_MAX)
        return 0;
    const char *path = fuzz_memfile_set(&file, data, size);
    char err[512];
    memset(err, 'x', sizeof(err));
    struct config_cluster *cl = config_cluster_load(path, err, sizeof(err));
    if (!cl) {
        if (strnlen(err, sizeof(err)) == sizeof(err) || strncmp(err, path, strlen(path)) != 0)
            __builtin_trap();
        return 0;
    }
    check_cluster(cl);
    config_cluster_free(cl);
    return 0;
}
