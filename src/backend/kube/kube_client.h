/* kube_client.h - connections to one API server: TLS configured from the
 * kube_target (CA, client certificate, host name or tls-server-name check,
 * SNI), the bearer token source, and asynchronous connect. What travels over
 * a connection (REST or WebSocket) is gateway.c's and kube_backend.c's. */
#ifndef PODTERM_GATEWAY_KUBE_CLIENT_H
#define PODTERM_GATEWAY_KUBE_CLIENT_H

#include <stdbool.h>
#include <uv.h>

#include "backend/kube/credentials.h"
#include "backend/kube/kubeconfig.h"
#include "net/tls_sock.h"

#define KUBE_CONNECT_TIMEOUT_MS 15000 /* DNS + TCP + TLS handshake */

struct kube_client {
    uv_loop_t *loop;
    struct kube_target *target; /* owned */
    struct kube_creds *creds;
    SSL_CTX *ssl_ctx;
    char authority[KUBE_HOST_MAX + 16]; /* Host header value */
    const char *scheme;                 /* "https://", or "http://" for a plain server */
};

/* Takes ownership of target. with_client_cert false leaves the client
 * certificate out (pass-through mode: the client's token must decide who is
 * asking, and the apiserver would prefer a certificate). NULL with a message. */
struct kube_client *kube_client_new(uv_loop_t *loop, struct kube_target *target,
                                    bool with_client_cert, char *err, size_t err_cap);
void kube_client_free(struct kube_client *c);

struct kube_connect;
/* done gets a connected, handshaken socket (the caller then sets its own
 * callback with tls_sock_set_cb) or NULL and a message for a person. */
typedef void (*kube_connect_cb)(void *user, struct tls_sock *sock, const char *err);
struct kube_connect *kube_client_connect(struct kube_client *c, kube_connect_cb done, void *user);
/* Abandon a connect in progress; done is not called. */
void kube_connect_cancel(struct kube_connect *kc);

#endif
