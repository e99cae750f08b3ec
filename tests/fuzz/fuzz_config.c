/* fuzz_config.c - libFuzzer target for the --config file's two loaders: its
 * flags: (config_flags_load, read first by main.c) and its local pods
 * (config_cluster_load: YAML through libfyaml into the pod model). The input
 * is the file.
 *
 * Flags: a load fails with a message starting with the path, or yields at
 * most CONFIG_FLAGS_MAX arguments, each "--" and a known name, then nothing
 * (a switch) or "=" and a value without NUL of at most CONFIG_FLAG_VALUE_MAX
 * bytes, and switches never carry a value.
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
#include "config/config_flags.h"
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

static const struct config_flag_spec flag_specs[] = {
    {"listen", CONFIG_FLAG_VALUE},
    {"in-cluster", CONFIG_FLAG_SWITCH},
    {"allowed-host", CONFIG_FLAG_LIST},
    {"v", CONFIG_FLAG_VALUE},
};
#define FLAG_SPECS_LEN (sizeof(flag_specs) / sizeof(flag_specs[0]))

static void check_flags(const char *path)
{
    struct config_flags f;
    char err[512];
    memset(err, 'x', sizeof(err));
    if (config_flags_load(path, flag_specs, FLAG_SPECS_LEN, &f, err, sizeof(err)) < 0) {
        if (strnlen(err, sizeof(err)) == sizeof(err) || strncmp(err, path, strlen(path)) != 0 ||
            f.args || f.len)
            __builtin_trap();
        return;
    }
    if (f.len > CONFIG_FLAGS_MAX)
        __builtin_trap();
    for (size_t i = 0; i < f.len; i++) {
        const char *a = f.args[i];
        if (strncmp(a, "--", 2) != 0)
            __builtin_trap();
        size_t k = 0;
        for (; k < FLAG_SPECS_LEN; k++) {
            size_t n = strlen(flag_specs[k].name);
            if (strncmp(a + 2, flag_specs[k].name, n) == 0 && (a[2 + n] == '\0' || a[2 + n] == '='))
                break;
        }
        if (k == FLAG_SPECS_LEN)
            __builtin_trap();
        const char *eq = a + 2 + strlen(flag_specs[k].name);
        if ((flag_specs[k].kind == CONFIG_FLAG_SWITCH) != (*eq == '\0') ||
            (*eq && strlen(eq + 1) > CONFIG_FLAG_VALUE_MAX))
            __builtin_trap();
    }
    config_flags_free(&f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_IN_MAX)
        return 0;
    const char *path = fuzz_memfile_set(&file, data, size);
    check_flags(path);
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
