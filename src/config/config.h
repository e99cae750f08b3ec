/* config.h - the local pods podterm serves: loaded from a YAML --config file, or
 * the built-in default (namespace "default", pod "local", container "shell").
 *
 * The model is read-only after load and owned by one struct config_cluster;
 * everything hangs off it and is freed by config_cluster_free().
 */
#ifndef PODTERM_CONFIG_H
#define PODTERM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

/* Named limits: a config that exceeds one is refused with a message, not truncated. */
#define CONFIG_FILE_MAX (4 * 1024 * 1024) /* bytes of YAML */
#define CONFIG_NAME_MAX 253               /* DNS-1123 subdomain (namespaces: label, 63) */
#define CONFIG_VALUE_MAX (64 * 1024)      /* bytes of one argv element, env value or workdir */
#define CONFIG_ARGV_MAX 256               /* elements of a command */
#define CONFIG_ENV_MAX 256                /* env entries of a container */
#define CONFIG_LABELS_MAX 64              /* labels of a pod */
#define CONFIG_CONTAINERS_MAX 32          /* containers of a pod */
#define CONFIG_PODS_MAX 10000             /* pods in the whole config */
#define CONFIG_NAMESPACES_MAX 1000        /* namespaces in the whole config */

struct config_kv {
    char *key;
    char *value;
};

struct config_container {
    char *name;
    char **command; /* main process argv (NULL-terminated), for attach; NULL: /bin/sh */
    size_t command_len;
    char *workdir;         /* NULL: the server's current directory */
    struct config_kv *env; /* added to (overriding) the server's environment */
    size_t env_len;
    bool tty;        /* main process runs on a PTY (Pod spec containers[].tty) */
    bool stdin_open; /* main process keeps stdin open (containers[].stdin) */
};

struct config_pod {
    char *ns;
    char *name;
    char *uid;               /* stable UUID-shaped id derived from ns/name */
    char *phase;             /* status.phase: "Running" unless the config says otherwise */
    char *default_container; /* kubectl.kubernetes.io/default-container annotation or NULL */
    struct config_kv *labels;
    size_t labels_len;
    struct config_container *containers;
    size_t containers_len;
};

struct config_cluster {
    char **namespaces; /* every namespace named in the file or used by a pod, sorted, unique */
    size_t namespaces_len;
    struct config_pod *pods; /* sorted by namespace then name */
    size_t pods_len;
    char *created; /* RFC 3339 load time, used as creationTimestamp */
};

/* Load and validate a YAML config file. On error returns NULL and writes a
 * message naming the file, line and problem into err. */
struct config_cluster *config_cluster_load(const char *path, char *err, size_t err_cap);
/* The built-in default: default/local with container "shell" running /bin/sh. */
struct config_cluster *config_cluster_default(void);
void config_cluster_free(struct config_cluster *cluster);

const struct config_pod *config_pod_find(const struct config_cluster *cluster, const char *ns,
                                         const char *name);
bool config_namespace_exists(const struct config_cluster *cluster, const char *ns);
const struct config_container *config_container_find(const struct config_pod *pod,
                                                     const char *name);

/* DNS-1123 checks, as the apiserver applies them to path segments. */
bool config_name_is_dns1123_label(const char *s);     /* namespaces, container names */
bool config_name_is_dns1123_subdomain(const char *s); /* pod names */

#endif
