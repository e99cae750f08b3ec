/* kubeconfig.c - load a kubeconfig context or the in-cluster service account
 * into a kube_target (see kubeconfig.h). Follows clientcmd's rules where a
 * person would notice: relative file paths are relative to the kubeconfig,
 * *-data fields win over their file twins, and anything podterm cannot do
 * (proxy-url, auth-provider, basic auth) is refused by name rather than
 * silently ignored. */
#include "backend/kube/kubeconfig.h"

#include <errno.h>
#include <libfyaml.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/util_file.h"
#include "util/util_token.h"
#include "util/util_utf8.h"

#define KUBE_PATH_MAX 4096

struct kc_load {
    const char *file;
    char dir[KUBE_PATH_MAX];
    char *err;
    size_t err_cap;
    /* An allocation failed: the load fails with "out of memory" whatever
     * else it found, since a field that could not be copied would otherwise
     * read as absent (a target without its token or exec args). */
    bool oom;
};

static int kc_fail(struct kc_load *l, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = snprintf(l->err, l->err_cap, "kubeconfig %s: ", l->file);
    if (n >= 0 && (size_t)n < l->err_cap)
        vsnprintf(l->err + n, l->err_cap - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

/* ---- YAML helpers ---- */

static struct fy_node *kc_get(struct fy_node *map, const char *key)
{
    if (!map || !fy_node_is_mapping(map))
        return NULL;
    return fy_node_mapping_lookup_by_string(map, key, FY_NT);
}

/* A copy of s, or NULL with l->oom set. */
static char *kc_dup(struct kc_load *l, const char *s, size_t len)
{
    char *d = strndup(s, len);
    if (!d)
        l->oom = true;
    return d;
}

/* A scalar value as a new string; NULL when absent (or not a scalar), or
 * with l->oom set when it cannot be copied. */
static char *kc_str(struct kc_load *l, struct fy_node *map, const char *key)
{
    struct fy_node *n = kc_get(map, key);
    size_t len;
    const char *s = n && fy_node_is_scalar(n) ? fy_node_get_scalar(n, &len) : NULL;
    return s ? kc_dup(l, s, len) : NULL;
}

static bool kc_bool(struct kc_load *l, struct fy_node *map, const char *key)
{
    char *s = kc_str(l, map, key);
    bool v = s && (strcmp(s, "true") == 0 || strcmp(s, "True") == 0 || strcmp(s, "TRUE") == 0);
    free(s);
    return v;
}

/* The "key" mapping of the sequence entry whose name is name (clusters[].cluster, ...). */
static struct fy_node *kc_named(struct kc_load *l, struct fy_node *root, const char *list,
                                const char *name, const char *key)
{
    struct fy_node *seq = kc_get(root, list);
    if (!seq || !fy_node_is_sequence(seq))
        return NULL;
    void *it = NULL;
    struct fy_node *item;
    while ((item = fy_node_sequence_iterate(seq, &it))) {
        char *n = kc_str(l, item, "name");
        bool match = n && strcmp(n, name) == 0;
        free(n);
        if (match)
            return kc_get(item, key);
    }
    return NULL;
}

/* ---- fields ---- */

/* A path relative to the kubeconfig's directory, as kubectl resolves it. One
 * that does not fit resolves to "" (then opening it fails loudly) rather than
 * to a silently truncated, different file. */
static void kc_resolve(const struct kc_load *l, const char *path, char *out, size_t cap)
{
    bool relative = path[0] != '/' && l->dir[0];
    size_t dlen = relative ? strlen(l->dir) + 1 : 0, plen = strlen(path);
    if (dlen + plen + 1 > cap) {
        out[0] = '\0';
        return;
    }
    if (relative) {
        memcpy(out, l->dir, dlen - 1);
        out[dlen - 1] = '/';
    }
    memcpy(out + dlen, path, plen + 1);
}

static char *kc_base64(struct kc_load *l, const char *in, size_t *out_len)
{
    size_t len = strlen(in), pad = 0;
    while (pad < len && in[len - 1 - pad] == '=')
        pad++;
    /* Padding only at the end, at most two: EVP_DecodeBlock would take "="
     * anywhere as zero bits, and "====" as three bytes of padding. */
    if (len % 4 != 0 || pad > 2 || memchr(in, '=', len - pad))
        return NULL;
    unsigned char *out = malloc(len / 4 * 3 + 4);
    if (!out) {
        l->oom = true;
        return NULL;
    }
    int n = EVP_DecodeBlock(out, (const unsigned char *)in, (int)len);
    if (n < (int)pad) {
        free(out);
        return NULL;
    }
    /* EVP_DecodeBlock counts the padding as zero bytes. */
    n -= (int)pad;
    out[n] = '\0';
    *out_len = (size_t)n;
    return (char *)out;
}

/* `name-data` (base64 inline) or `name` (a file path): the PEM bytes. 0 when
 * neither is set, 1 when loaded, -1 on error. */
static int kc_pem(struct kc_load *l, struct fy_node *map, const char *name, char **out,
                  size_t *out_len)
{
    char key[64];
    snprintf(key, sizeof(key), "%s-data", name);
    char *data = kc_str(l, map, key);
    if (data) {
        *out = kc_base64(l, data, out_len);
        free(data);
        return *out || l->oom ? (*out ? 1 : -1) : kc_fail(l, "%s is not valid base64", key);
    }
    char *file = kc_str(l, map, name);
    if (!file)
        return 0;
    char path[KUBE_PATH_MAX];
    kc_resolve(l, file, path, sizeof(path));
    free(file);
    int rc = util_file_read(path, KUBE_FILE_MAX, out, out_len, NULL, 0);
    if (rc < 0)
        return kc_fail(l, "%s: cannot read %s: %s", name, path, strerror(-rc));
    return 1;
}

int kube_target_set_server(struct kube_target *t, const char *url, char *err, size_t err_cap)
{
    bool plain = strncmp(url, "http://", 7) == 0;
    if (!plain && strncmp(url, "https://", 8) != 0) {
        snprintf(err, err_cap, "server \"%s\": the URL must start with https:// (or http://)", url);
        return -1;
    }
    t->plain = plain;
    const char *h = url + (plain ? 7 : 8), *end = h + strcspn(h, "/");
    const char *colon = NULL;
    const char *hstart = h, *hend;
    if (*h == '[') { /* [v6]:port */
        hstart = h + 1;
        hend = memchr(h, ']', (size_t)(end - h));
        if (!hend)
            goto bad;
        colon = hend + 1 < end && hend[1] == ':' ? hend + 1 : NULL;
    } else {
        colon = memchr(h, ':', (size_t)(end - h));
        hend = colon ? colon : end;
    }
    if (hend == hstart || (size_t)(hend - hstart) >= sizeof(t->host))
        goto bad;
    memcpy(t->host, hstart, (size_t)(hend - hstart));
    t->host[hend - hstart] = '\0';
    t->port = plain ? 80 : 443;
    if (colon) {
        char *pend;
        long p = strtol(colon + 1, &pend, 10);
        if (pend != end || p <= 0 || p > 65535)
            goto bad;
        t->port = (int)p;
    }
    size_t plen = strlen(end);
    while (plen > 0 && end[plen - 1] == '/')
        plen--;
    if (plen >= sizeof(t->prefix))
        goto bad;
    memcpy(t->prefix, end, plen);
    t->prefix[plen] = '\0';
    return 0;
bad:
    snprintf(err, err_cap, "server \"%s\" is not a valid https://HOST[:PORT] URL", url);
    t->plain = false;
    return -1;
}

/* ---- sections ---- */

static int kc_cluster(struct kc_load *l, struct fy_node *cluster, struct kube_target *t)
{
    char *proxy = kc_str(l, cluster, "proxy-url");
    if (proxy) {
        free(proxy);
        return kc_fail(l, "proxy-url is not supported by podterm; reach the API server directly "
                          "(or run podterm where it can)");
    }
    char *server = kc_str(l, cluster, "server");
    if (!server)
        return kc_fail(l, "the cluster has no server");
    char msg[KUBE_ERR_MAX];
    int rc = kube_target_set_server(t, server, msg, sizeof(msg));
    free(server);
    if (rc < 0)
        return kc_fail(l, "%s", msg);
    t->insecure = kc_bool(l, cluster, "insecure-skip-tls-verify");
    t->tls_server_name = kc_str(l, cluster, "tls-server-name");
    return kc_pem(l, cluster, "certificate-authority", &t->ca_pem, &t->ca_pem_len) < 0 ? -1 : 0;
}

static int kc_exec(struct kc_load *l, struct fy_node *exec, struct kube_target *t)
{
    struct kube_exec_spec *e = calloc(1, sizeof(*e));
    if (!e)
        return kc_fail(l, "out of memory");
    t->exec = e;
    e->command = kc_str(l, exec, "command");
    e->api_version = kc_str(l, exec, "apiVersion");
    e->dir = kc_dup(l, l->dir, strlen(l->dir));
    if (!e->command)
        return kc_fail(l, "exec plugin without command");
    struct fy_node *args = kc_get(exec, "args"), *item;
    void *it = NULL;
    while (args && fy_node_is_sequence(args) && (item = fy_node_sequence_iterate(args, &it))) {
        if (e->args_len == KUBE_EXEC_ARGS_MAX)
            return kc_fail(l, "exec plugin: more than %d args", KUBE_EXEC_ARGS_MAX);
        size_t len;
        const char *s = fy_node_get_scalar(item, &len);
        e->args[e->args_len++] = kc_dup(l, s ? s : "", s ? len : 0);
    }
    struct fy_node *env = kc_get(exec, "env");
    it = NULL;
    while (env && fy_node_is_sequence(env) && (item = fy_node_sequence_iterate(env, &it))) {
        if (e->env_len == KUBE_EXEC_ENV_MAX)
            return kc_fail(l, "exec plugin: more than %d env entries", KUBE_EXEC_ENV_MAX);
        struct kube_exec_env *kv = &e->env[e->env_len++];
        kv->name = kc_str(l, item, "name");
        kv->value = kc_str(l, item, "value");
        if (!kv->name || !kv->value)
            return kc_fail(l, "exec plugin: env entries need name and value");
    }
    if (e->api_version && strcmp(e->api_version, "client.authentication.k8s.io/v1") != 0 &&
        strcmp(e->api_version, "client.authentication.k8s.io/v1beta1") != 0)
        return kc_fail(l,
                       "exec plugin apiVersion %s is not supported (use "
                       "client.authentication.k8s.io/v1)",
                       e->api_version);
    return 0;
}

static int kc_user(struct kc_load *l, struct fy_node *user, struct kube_target *t)
{
    if (kc_get(user, "auth-provider"))
        return kc_fail(l, "auth-provider is not supported (it was removed from kubectl in 1.26); "
                          "use an exec credential plugin");
    if (kc_get(user, "username") || kc_get(user, "password"))
        return kc_fail(l, "basic auth (username/password) is not supported (removed from "
                          "Kubernetes in 1.19)");
    if (kc_get(user, "as") || kc_get(user, "as-groups"))
        return kc_fail(l, "as / as-groups impersonation in the kubeconfig is not supported; "
                          "podterm impersonates the users it authenticates itself");
    if (kc_pem(l, user, "client-certificate", &t->cert_pem, &t->cert_pem_len) < 0 ||
        kc_pem(l, user, "client-key", &t->key_pem, &t->key_pem_len) < 0)
        return -1;
    if (!t->cert_pem != !t->key_pem)
        return kc_fail(l, "client-certificate and client-key must be given together");
    t->token = kc_str(l, user, "token");
    if (t->token && !util_token_is_valid(t->token, strlen(t->token)))
        return kc_fail(l, "token: a bearer token is visible ASCII (0x21-0x7E) only");
    char *tf = kc_str(l, user, "tokenFile");
    if (tf) {
        char path[KUBE_PATH_MAX];
        kc_resolve(l, tf, path, sizeof(path));
        free(tf);
        t->token_file = kc_dup(l, path, strlen(path));
        if (access(path, R_OK) != 0)
            return kc_fail(l, "tokenFile: cannot read %s: %s", path, strerror(errno));
    }
    struct fy_node *exec = kc_get(user, "exec");
    return exec ? kc_exec(l, exec, t) : 0;
}

static int kc_context(struct kc_load *l, struct fy_node *root, const char *want,
                      struct kube_target *t)
{
    char *current = want ? kc_dup(l, want, strlen(want)) : kc_str(l, root, "current-context");
    if (!current || !current[0]) {
        free(current);
        return kc_fail(l, "no current-context: pass --context NAME");
    }
    char source[KUBE_PATH_MAX + 300];
    snprintf(source, sizeof(source), "kubeconfig %s, context %s", l->file, current);
    t->source = kc_dup(l, source, strlen(source));
    struct fy_node *ctx = kc_named(l, root, "contexts", current, "context");
    if (!ctx) {
        kc_fail(l, "context \"%s\" not found", current);
        free(current);
        return -1;
    }
    free(current);
    char *cluster_name = kc_str(l, ctx, "cluster");
    char *user_name = kc_str(l, ctx, "user");
    struct fy_node *cluster =
        cluster_name ? kc_named(l, root, "clusters", cluster_name, "cluster") : NULL;
    struct fy_node *user = user_name ? kc_named(l, root, "users", user_name, "user") : NULL;
    int rc = 0;
    if (!cluster)
        rc = kc_fail(l, "cluster \"%s\" not found", cluster_name ? cluster_name : "");
    else if (user_name && !user)
        rc = kc_fail(l, "user \"%s\" not found", user_name);
    free(cluster_name);
    free(user_name);
    if (rc == 0)
        rc = kc_cluster(l, cluster, t);
    if (rc == 0 && user)
        rc = kc_user(l, user, t);
    return rc;
}

static const char *kc_default_path(char *buf, size_t cap)
{
    const char *env = getenv("KUBECONFIG");
    if (env && env[0]) {
        /* kubectl merges every file of the list; podterm uses the first. */
        size_t n = strcspn(env, ":");
        snprintf(buf, cap, "%.*s", (int)n, env);
        return buf;
    }
    const char *home = getenv("HOME");
    snprintf(buf, cap, "%s/.kube/config", home ? home : "");
    return buf;
}

struct kube_target *kube_target_load_kubeconfig(const char *path, const char *context, char *err,
                                                size_t err_cap)
{
    char defpath[KUBE_PATH_MAX];
    struct kc_load l = {.file = path ? path : kc_default_path(defpath, sizeof(defpath)),
                        .err = err,
                        .err_cap = err_cap};
    const char *slash = strrchr(l.file, '/');
    if (slash)
        snprintf(l.dir, sizeof(l.dir), "%.*s", (int)(slash - l.file), l.file);
    size_t len;
    char *text;
    int read_rc = util_file_read(l.file, KUBE_FILE_MAX, &text, &len, NULL, 0);
    if (read_rc < 0) {
        kc_fail(&l, "cannot read: %s", strerror(-read_rc));
        return NULL;
    }
    /* libfyaml prints a syntax error with its line, which may hold a token
     * or key data, unless its diagnostics go nowhere (FYPCF_QUIET is not
     * enough); it loops forever on some bytes that are not UTF-8 and crashes
     * on some NUL bytes, which YAML does not allow anyway. */
    struct fy_diag_cfg dc;
    fy_diag_cfg_default(&dc);
    dc.fp = NULL;
    struct fy_diag *diag = fy_diag_create(&dc);
    struct fy_parse_cfg cfg = {.flags = FYPCF_QUIET, .diag = diag};
    bool utf8 = util_utf8_valid((const uint8_t *)text, len, NULL) && !memchr(text, '\0', len);
    struct fy_document *doc = diag && utf8 ? fy_document_build_from_string(&cfg, text, len) : NULL;
    struct kube_target *t = calloc(1, sizeof(*t));
    int rc = -1;
    if (!t)
        kc_fail(&l, "out of memory");
    else if (!utf8)
        kc_fail(&l, "the file is not UTF-8 text (or holds a NUL byte)");
    else if (!doc || !fy_document_root(doc) || !fy_node_is_mapping(fy_document_root(doc)))
        kc_fail(&l, "not a YAML mapping (syntax error?)");
    else
        rc = kc_context(&l, fy_document_root(doc), context, t);
    if (l.oom) {
        kc_fail(&l, "out of memory");
        rc = -1;
    }
    fy_document_destroy(doc);
    if (diag)
        fy_diag_destroy(diag);
    free(text);
    if (rc < 0) {
        kube_target_free(t);
        return NULL;
    }
    return t;
}

struct kube_target *kube_target_load_in_cluster(const char *sa_dir, char *err, size_t err_cap)
{
    const char *dir = sa_dir ? sa_dir : KUBE_SA_DIR;
    const char *host = getenv("KUBERNETES_SERVICE_HOST");
    const char *port = getenv("KUBERNETES_SERVICE_PORT");
    if (!host || !host[0] || !port || !port[0]) {
        snprintf(err, err_cap,
                 "--in-cluster: KUBERNETES_SERVICE_HOST and "
                 "KUBERNETES_SERVICE_PORT are not set (not running in a pod?)");
        return NULL;
    }
    struct kube_target *t = calloc(1, sizeof(*t));
    if (!t || !(t->source = strdup("in-cluster service account"))) {
        snprintf(err, err_cap, "--in-cluster: out of memory");
        kube_target_free(t);
        return NULL;
    }
    char url[KUBE_HOST_MAX + 32], path[KUBE_PATH_MAX];
    snprintf(url, sizeof(url), strchr(host, ':') ? "https://[%s]:%s" : "https://%s:%s", host, port);
    if (kube_target_set_server(t, url, err, err_cap) < 0)
        goto fail;
    snprintf(path, sizeof(path), "%s/ca.crt", dir);
    int rc = util_file_read(path, KUBE_FILE_MAX, &t->ca_pem, &t->ca_pem_len, NULL, 0);
    if (rc < 0) {
        snprintf(err, err_cap, "--in-cluster: cannot read %s: %s", path, strerror(-rc));
        goto fail;
    }
    snprintf(path, sizeof(path), "%s/token", dir);
    if (access(path, R_OK) != 0) {
        snprintf(err, err_cap, "--in-cluster: cannot read %s: %s", path, strerror(errno));
        goto fail;
    }
    t->token_file = strdup(path);
    if (!t->token_file) {
        snprintf(err, err_cap, "--in-cluster: out of memory");
        goto fail;
    }
    return t;
fail:
    kube_target_free(t);
    return NULL;
}

void kube_target_free(struct kube_target *t)
{
    if (!t)
        return;
    if (t->exec) {
        free(t->exec->command);
        for (size_t i = 0; i < t->exec->args_len; i++)
            free(t->exec->args[i]);
        for (size_t i = 0; i < t->exec->env_len; i++) {
            free(t->exec->env[i].name);
            free(t->exec->env[i].value);
        }
        free(t->exec->api_version);
        free(t->exec->dir);
        free(t->exec);
    }
    free(t->source);
    free(t->ca_pem);
    free(t->cert_pem);
    free(t->key_pem);
    free(t->token);
    free(t->token_file);
    free(t->tls_server_name);
    free(t);
}
