/* fuzz_kubeconfig.c - libFuzzer target for the gateway's kubeconfig loader
 * (kube_target_load_kubeconfig: YAML, contexts, clusters, users, inline
 * base64 PEM data, exec plugin specs) and its server URL parser
 * (kube_target_set_server, also given the input's first line directly).
 * The input is the kubeconfig file. File references resolve next to it (in
 * /proc/self/fd): run with stdin from /dev/null.
 *
 * Invariants: a load fails with a NUL-terminated message, or gives a target
 * whose host is non-empty and bounded, port 1..65535, prefix "" or "/..."
 * without a trailing '/', PEM lengths matching NUL-terminated buffers,
 * client certificate and key together, and an exec spec with a command and
 * NULL-terminated args within their bounds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_memfile.h"
#include "backend/kube/kubeconfig.h"

#define FUZZ_IN_MAX (64 * 1024)

static struct fuzz_memfile file;

static void check_server(const struct kube_target *t)
{
    size_t h = strnlen(t->host, sizeof(t->host)), p = strnlen(t->prefix, sizeof(t->prefix));
    if (h == 0 || h == sizeof(t->host) || p == sizeof(t->prefix) || t->port <= 0 ||
        t->port > 65535 || (p && (t->prefix[0] != '/' || t->prefix[p - 1] == '/')))
        __builtin_trap();
}

static void check_pem(const char *pem, size_t len)
{
    if (pem && pem[len] != '\0')
        __builtin_trap(); /* NUL after the bytes, for the PEM readers */
}

static void check_target(const struct kube_target *t)
{
    check_server(t);
    check_pem(t->ca_pem, t->ca_pem_len);
    check_pem(t->cert_pem, t->cert_pem_len);
    check_pem(t->key_pem, t->key_pem_len);
    if (!t->cert_pem != !t->key_pem || !t->source)
        __builtin_trap();
    const struct kube_exec_spec *e = t->exec;
    if (!e)
        return;
    if (!e->command || e->args_len > KUBE_EXEC_ARGS_MAX || e->args[e->args_len] ||
        e->env_len > KUBE_EXEC_ENV_MAX)
        __builtin_trap();
    for (size_t i = 0; i < e->args_len; i++)
        if (!e->args[i])
            __builtin_trap();
    for (size_t i = 0; i < e->env_len; i++)
        if (!e->env[i].name || !e->env[i].value)
            __builtin_trap();
}

static void fuzz_url(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t n = nl ? (size_t)(nl - data) : size;
    char *url = strndup((const char *)data, n);
    struct kube_target *t = calloc(1, sizeof(*t));
    char err[KUBE_ERR_MAX];
    memset(err, 'x', sizeof(err));
    if (kube_target_set_server(t, url, err, sizeof(err)) == 0)
        check_server(t);
    else if (strnlen(err, sizeof(err)) == sizeof(err))
        __builtin_trap();
    free(t);
    free(url);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_IN_MAX)
        return 0;
    fuzz_url(data, size);
    const char *path = fuzz_memfile_set(&file, data, size);
    char err[KUBE_ERR_MAX];
    memset(err, 'x', sizeof(err));
    struct kube_target *t = kube_target_load_kubeconfig(path, NULL, err, sizeof(err));
    if (!t) {
        if (strnlen(err, sizeof(err)) == sizeof(err) || err[0] == '\0')
            __builtin_trap();
        return 0;
    }
    check_target(t);
    kube_target_free(t);
    return 0;
}
