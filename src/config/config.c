/* config.c - load the local pods from a YAML --config file, or build the default.
 *
 * The file reads like a trimmed Pod spec (examples/pods.yaml shows every field):
 *
 *   namespaces: [default, team-a]   # optional; namespaces that exist even without pods
 *   pods:                           # required, at least one
 *     - name: web                   # required, DNS-1123 subdomain, unique per namespace
 *       namespace: team-a           # DNS-1123 label; default "default"
 *       labels: {app: web}          # Kubernetes label keys and values, at most 64
 *       annotations:                # only this annotation is accepted (it is the only one used)
 *         kubectl.kubernetes.io/default-container: app
 *       phase: Running              # Pending|Running|Succeeded|Failed|Unknown; default Running
 *       containers:                 # required, 1 to 32
 *         - name: app               # required, DNS-1123 label, unique in the pod
 *           command: [/bin/sh, -c, "while sleep 1; do date; done"]
 *                                   # the main process (attach); default /bin/sh
 *           workingDir: /tmp        # default: the server's current directory
 *           env: [{name: FOO, value: bar}]   # value defaults to ""; names unique
 *           tty: false              # main process on a PTY; default false
 *           stdin: false            # main process keeps stdin open; default false
 *
 * Rules: unknown keys, duplicate keys, duplicate pods (namespace/name),
 * duplicate container or env names, wrong types, null values, YAML aliases, a
 * second YAML document and exceeded limits (config.h) are errors, each reported
 * as "FILE:LINE: problem". Scalars are read as text, so `[sleep, 10]` is two
 * strings; booleans are YAML 1.2's true/false. The namespace "default" always
 * exists, as in every cluster. Pods are kept sorted by namespace then name.
 */
#include "config/config_internal.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "yaml/yaml.h"

#define RFC3339_LEN 20 /* 2006-01-02T15:04:05Z */

/* ---- freeing ---- */

static void config_kvs_free(struct config_kv *kv, size_t n)
{
    for (size_t i = 0; kv && i < n; i++) {
        free(kv[i].key);
        free(kv[i].value);
    }
    free(kv);
}

static void config_container_clear(struct config_container *c)
{
    for (size_t i = 0; c->command && i < c->command_len; i++)
        free(c->command[i]);
    free(c->command);
    free(c->name);
    free(c->workdir);
    config_kvs_free(c->env, c->env_len);
}

void config_pod_clear(struct config_pod *pod)
{
    free(pod->ns);
    free(pod->name);
    free(pod->uid);
    free(pod->phase);
    free(pod->default_container);
    config_kvs_free(pod->labels, pod->labels_len);
    for (size_t i = 0; pod->containers && i < pod->containers_len; i++)
        config_container_clear(&pod->containers[i]);
    free(pod->containers);
}

static void config_strings_free(char **s, size_t n)
{
    for (size_t i = 0; s && i < n; i++)
        free(s[i]);
    free(s);
}

void config_cluster_free(struct config_cluster *cluster)
{
    if (!cluster)
        return;
    config_strings_free(cluster->namespaces, cluster->namespaces_len);
    for (size_t i = 0; cluster->pods && i < cluster->pods_len; i++)
        config_pod_clear(&cluster->pods[i]);
    free(cluster->pods);
    free(cluster->created);
    free(cluster);
}

/* ---- lookups ---- */

static int config_pod_cmp(const char *ns_a, const char *name_a, const char *ns_b,
                          const char *name_b)
{
    int c = strcmp(ns_a, ns_b);
    return c ? c : strcmp(name_a, name_b);
}

const struct config_pod *config_pod_find(const struct config_cluster *cluster, const char *ns,
                                         const char *name)
{
    if (!cluster || !ns || !name)
        return NULL;
    size_t lo = 0, hi = cluster->pods_len; /* pods are sorted: binary search */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct config_pod *p = &cluster->pods[mid];
        int c = config_pod_cmp(ns, name, p->ns, p->name);
        if (c == 0)
            return p;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

bool config_namespace_exists(const struct config_cluster *cluster, const char *ns)
{
    if (!cluster || !ns)
        return false;
    size_t lo = 0, hi = cluster->namespaces_len;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(ns, cluster->namespaces[mid]);
        if (c == 0)
            return true;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return false;
}

const struct config_container *config_container_find(const struct config_pod *pod, const char *name)
{
    for (size_t i = 0; pod && name && i < pod->containers_len; i++)
        if (pod->containers[i].name && strcmp(pod->containers[i].name, name) == 0)
            return &pod->containers[i];
    return NULL;
}

/* ---- finishing a load: sort, dedupe, derive ---- */

static char *config_now_rfc3339(void)
{
    char *s = malloc(RFC3339_LEN + 1);
    time_t now = time(NULL);
    struct tm tm;
    if (s && (!gmtime_r(&now, &tm) ||
              strftime(s, RFC3339_LEN + 1, "%Y-%m-%dT%H:%M:%SZ", &tm) != RFC3339_LEN)) {
        free(s);
        return NULL;
    }
    return s;
}

/* A pod and the line it was defined on, sorted together. */
struct config_pod_line {
    struct config_pod pod;
    int line;
};

static int config_pod_line_cmp(const void *a, const void *b)
{
    const struct config_pod_line *x = a, *y = b;
    int c = config_pod_cmp(x->pod.ns, x->pod.name, y->pod.ns, y->pod.name);
    return c ? c : (x->line > y->line) - (x->line < y->line);
}

static int config_pods_sort(struct config_parse *p)
{
    struct config_cluster *c = p->cluster;
    struct config_pod_line *tmp = calloc(c->pods_len, sizeof(*tmp));
    if (!tmp)
        return config_fail(p, 1, "out of memory");
    for (size_t i = 0; i < c->pods_len; i++)
        tmp[i] = (struct config_pod_line){c->pods[i], p->pod_lines[i]};
    qsort(tmp, c->pods_len, sizeof(*tmp), config_pod_line_cmp);
    for (size_t i = 0; i < c->pods_len; i++) {
        c->pods[i] = tmp[i].pod;
        p->pod_lines[i] = tmp[i].line;
    }
    free(tmp);
    for (size_t i = 1; i < c->pods_len; i++)
        if (config_pod_cmp(c->pods[i - 1].ns, c->pods[i - 1].name, c->pods[i].ns,
                           c->pods[i].name) == 0)
            return config_fail(p, p->pod_lines[i], "pod \"%s/%s\" is already defined at line %d",
                               c->pods[i].ns, c->pods[i].name, p->pod_lines[i - 1]);
    for (size_t i = 0; i < c->pods_len; i++)
        if (!(c->pods[i].uid = config_uid_new(c->pods[i].ns, c->pods[i].name)))
            return config_fail(p, p->pod_lines[i], "out of memory");
    return 0;
}

static int config_str_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "default", the listed namespaces and every pod's, sorted and unique. */
static int config_namespaces_merge(struct config_parse *p)
{
    struct config_cluster *c = p->cluster;
    size_t cap = 1 + p->extra_ns_len + c->pods_len;
    const char **all = calloc(cap, sizeof(*all));
    if (!all || !(c->namespaces = calloc(cap, sizeof(char *)))) {
        free(all);
        return config_fail(p, 1, "out of memory");
    }
    size_t n = 0;
    all[n++] = "default";
    for (size_t i = 0; i < p->extra_ns_len; i++)
        all[n++] = p->extra_ns[i];
    for (size_t i = 0; i < c->pods_len; i++)
        all[n++] = c->pods[i].ns;
    qsort(all, n, sizeof(*all), config_str_cmp);
    for (size_t i = 0; i < n; i++) {
        if (i && strcmp(all[i], all[i - 1]) == 0)
            continue;
        if (!(c->namespaces[c->namespaces_len++] = strdup(all[i]))) {
            free(all);
            return config_fail(p, 1, "out of memory");
        }
    }
    free(all);
    if (c->namespaces_len > CONFIG_NAMESPACES_MAX)
        return config_fail(p, 1, "%zu namespaces, more than %d", c->namespaces_len,
                           CONFIG_NAMESPACES_MAX);
    return 0;
}

/* ---- reading and parsing ---- */

static int config_root_parse(void *ctx, struct fy_node *root)
{
    return config_parse_root(ctx, root);
}

struct config_cluster *config_cluster_load(const char *path, char *err, size_t err_cap)
{
    struct config_parse p = {.src = {.path = path, .err = err, .err_cap = err_cap}};
    size_t len = 0;
    char *buf = yaml_file_read(&p.src, CONFIG_FILE_MAX, "4 MiB (CONFIG_FILE_MAX)", &len);
    if (!buf)
        return NULL;
    p.cluster = calloc(1, sizeof(*p.cluster));
    int rc = p.cluster ? yaml_parse_single(&p.src, buf, len, "the file is empty", false,
                                           config_root_parse, &p)
                       : config_fail(&p, 1, "out of memory");
    free(buf);
    if (rc == 0)
        rc = config_pods_sort(&p);
    if (rc == 0)
        rc = config_namespaces_merge(&p);
    if (rc == 0 && !(p.cluster->created = config_now_rfc3339()))
        rc = config_fail(&p, 1, "cannot format the load time");
    free(p.pod_lines);
    config_strings_free(p.extra_ns, p.extra_ns_len);
    if (rc < 0) {
        config_cluster_free(p.cluster);
        return NULL;
    }
    return p.cluster;
}

/* ---- the default cluster ---- */

struct config_cluster *config_cluster_default(void)
{
    struct config_cluster *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    /* Each length is set as soon as its array exists, so that config_cluster_free
     * frees whatever was made when a later allocation fails. */
    if ((c->namespaces = calloc(1, sizeof(char *))))
        c->namespaces_len = 1;
    if ((c->pods = calloc(1, sizeof(*c->pods))))
        c->pods_len = 1;
    struct config_pod *pod = c->pods;
    struct config_container *ctr = pod ? (pod->containers = calloc(1, sizeof(*ctr))) : NULL;
    if (ctr)
        pod->containers_len = 1;
    if (!c->namespaces || !ctr) {
        config_cluster_free(c);
        return NULL;
    }
    c->namespaces[0] = strdup("default");
    pod->ns = strdup("default");
    pod->name = strdup("local");
    pod->uid = config_uid_new("default", "local");
    pod->phase = strdup("Running");
    ctr->name = strdup("shell");
    ctr->tty = ctr->stdin_open = true; /* an interactive shell for attach */
    c->created = config_now_rfc3339();
    if (!c->namespaces[0] || !pod->ns || !pod->name || !pod->uid || !pod->phase || !ctr->name ||
        !c->created) {
        config_cluster_free(c);
        return NULL;
    }
    return c;
}
