/* kubeconfig.h - where the cluster is and how to prove who podterm is there:
 * a kubeconfig context (--kubeconfig/--context, as kubectl reads it) or the
 * pod's own service account (--in-cluster), loaded into one kube_target.
 *
 * Loading reads every referenced file once (CA, client certificate and key)
 * so a bad path fails at start-up with a message naming the file, not at the
 * first request. Token files and exec plugins are live sources: credentials.c
 * re-reads or re-runs them while serving. */
#ifndef PODTERM_GATEWAY_KUBECONFIG_H
#define PODTERM_GATEWAY_KUBECONFIG_H

#include <stdbool.h>
#include <stddef.h>

#define KUBE_FILE_MAX (1024 * 1024) /* a kubeconfig, PEM or token file */
#define KUBE_HOST_MAX 256           /* server host name or address */
#define KUBE_PREFIX_MAX 256         /* path prefix of the server URL (e.g. behind a proxy) */
#define KUBE_EXEC_ARGS_MAX 64       /* exec plugin args */
#define KUBE_EXEC_ENV_MAX 64        /* exec plugin env entries */
#define KUBE_ERR_MAX 512            /* an error message */

/* The in-cluster files, at their standard paths (overridable for tests). */
#define KUBE_SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

struct kube_exec_env {
    char *name;
    char *value;
};

/* users[].user.exec (client.authentication.k8s.io ExecConfig). */
struct kube_exec_spec {
    char *command;
    char *args[KUBE_EXEC_ARGS_MAX + 1]; /* NULL-terminated */
    size_t args_len;
    struct kube_exec_env env[KUBE_EXEC_ENV_MAX];
    size_t env_len;
    char *api_version; /* client.authentication.k8s.io/v1 or v1beta1 */
    char *dir;         /* the kubeconfig's directory: relative commands resolve here */
};

struct kube_target {
    char *source;             /* "kubeconfig FILE, context NAME" or "in-cluster", for messages */
    char host[KUBE_HOST_MAX]; /* from the server URL */
    int port;
    char prefix[KUBE_PREFIX_MAX]; /* URL path before /api ("" or "/something", no trailing /) */
    char *ca_pem;                 /* NULL: the system trust store */
    size_t ca_pem_len;
    char *cert_pem, *key_pem; /* client certificate auth; both or neither */
    size_t cert_pem_len, key_pem_len;
    char *token;                 /* static bearer token */
    char *token_file;            /* re-read when it changes (bound service-account tokens) */
    struct kube_exec_spec *exec; /* exec credential plugin */
    bool insecure;               /* insecure-skip-tls-verify: no certificate check at all */
    char *tls_server_name;       /* SNI and the name verified instead of host */
    bool plain;                  /* an http:// server (kubectl proxy): no TLS at all */
};

/* Load context (NULL: current-context) of the kubeconfig at path (NULL:
 * $KUBECONFIG's first entry, then ~/.kube/config). NULL on error, with a
 * message for a person in err. */
struct kube_target *kube_target_load_kubeconfig(const char *path, const char *context, char *err,
                                                size_t err_cap);
/* The in-cluster service account: token file, CA and KUBERNETES_SERVICE_HOST/PORT.
 * sa_dir NULL means KUBE_SA_DIR. */
struct kube_target *kube_target_load_in_cluster(const char *sa_dir, char *err, size_t err_cap);
void kube_target_free(struct kube_target *t);

/* Parse "https://host[:port][/prefix]" (or http://, as kubectl accepts for
 * `kubectl proxy`) into t. -1 with a message on error. */
int kube_target_set_server(struct kube_target *t, const char *url, char *err, size_t err_cap);

#endif
