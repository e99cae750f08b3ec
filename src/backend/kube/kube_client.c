/* kube_client.c - TLS context and asynchronous connect to an API server.
 *
 * Why OpenSSL directly and not lws' client: lws 4.1 turns any non-101 answer
 * to a WebSocket handshake into a connection error and drops the body, but
 * the gateway must hand the API server's Status (403, 404, ...) to the client
 * unchanged; it also verifies only the connect host, while kubeconfig's
 * tls-server-name needs SNI and verification against another name; and its
 * client vhosts need the server context created with global TLS init. */
#include "backend/kube/kube_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct kube_connect {
    struct kube_client *client;
    kube_connect_cb done;
    void *user;
    uv_getaddrinfo_t gai;
    uv_timer_t timer;
    struct tls_sock *sock;
    bool resolving;
    bool cancelled;
    bool finished;
    int handles_open;
};

static int client_ssl_error(char *err, size_t cap, const char *what)
{
    unsigned long e = ERR_get_error();
    snprintf(err, cap, "%s: %s", what, e ? ERR_reason_error_string(e) : "invalid");
    ERR_clear_error();
    return -1;
}

static int client_load_ca(SSL_CTX *ctx, const struct kube_target *t, char *err, size_t cap)
{
    X509_STORE *store = SSL_CTX_get_cert_store(ctx);
    BIO *bio = BIO_new_mem_buf(t->ca_pem, (int)t->ca_pem_len);
    STACK_OF(X509_INFO) *infos = bio ? PEM_X509_INFO_read_bio(bio, NULL, NULL, NULL) : NULL;
    int added = 0;
    for (int i = 0; infos && i < sk_X509_INFO_num(infos); i++) {
        X509_INFO *info = sk_X509_INFO_value(infos, i);
        if (info->x509 && X509_STORE_add_cert(store, info->x509) == 1)
            added++;
    }
    sk_X509_INFO_pop_free(infos, X509_INFO_free);
    BIO_free(bio);
    ERR_clear_error();
    if (added == 0) {
        snprintf(err, cap, "%s: certificate-authority holds no PEM certificate", t->source);
        return -1;
    }
    return 0;
}

static int client_load_cert(SSL_CTX *ctx, const struct kube_target *t, char *err, size_t cap)
{
    BIO *bio = BIO_new_mem_buf(t->cert_pem, (int)t->cert_pem_len);
    X509 *cert = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    int rc = cert && SSL_CTX_use_certificate(ctx, cert) == 1 ? 0 : -1;
    X509_free(cert);
    X509 *extra;
    while (rc == 0 && (extra = PEM_read_bio_X509(bio, NULL, NULL, NULL)))
        if (SSL_CTX_add_extra_chain_cert(ctx, extra) != 1)
            X509_free(extra);
    ERR_clear_error();
    BIO_free(bio);
    if (rc < 0)
        return client_ssl_error(err, cap, "client-certificate is not a PEM certificate");
    bio = BIO_new_mem_buf(t->key_pem, (int)t->key_pem_len);
    EVP_PKEY *key = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    rc = key && SSL_CTX_use_PrivateKey(ctx, key) == 1 ? 0 : -1;
    EVP_PKEY_free(key);
    if (rc < 0)
        return client_ssl_error(err, cap, "client-key is not a PEM private key");
    if (SSL_CTX_check_private_key(ctx) != 1)
        return client_ssl_error(err, cap, "client-key does not match client-certificate");
    return 0;
}

static SSL_CTX *client_ssl_ctx(const struct kube_target *t, bool with_cert, char *err, size_t cap)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) {
        client_ssl_error(err, cap, "TLS");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    int rc = 0;
    if (t->ca_pem)
        rc = client_load_ca(ctx, t, err, cap);
    else
        SSL_CTX_set_default_verify_paths(ctx);
    if (rc == 0 && with_cert && t->cert_pem)
        rc = client_load_cert(ctx, t, err, cap);
    SSL_CTX_set_verify(ctx, t->insecure ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, NULL);
    if (rc < 0) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

struct kube_client *kube_client_new(uv_loop_t *loop, struct kube_target *target,
                                    bool with_client_cert, char *err, size_t err_cap)
{
    struct kube_client *c = calloc(1, sizeof(*c));
    if (!c) {
        kube_target_free(target);
        snprintf(err, err_cap, "out of memory");
        return NULL;
    }
    c->loop = loop;
    c->target = target;
    c->scheme = target->plain ? "http://" : "https://";
    c->ssl_ctx = target->plain ? NULL : client_ssl_ctx(target, with_client_cert, err, err_cap);
    c->creds = kube_creds_new(loop, target);
    if (!c->creds && (c->ssl_ctx || target->plain)) /* a TLS failure wrote err already */
        snprintf(err, err_cap, "out of memory");
    if ((!c->ssl_ctx && !target->plain) || !c->creds) {
        kube_client_free(c);
        return NULL;
    }
    snprintf(c->authority, sizeof(c->authority), strchr(target->host, ':') ? "[%s]:%d" : "%s:%d",
             target->host, target->port);
    return c;
}

void kube_client_free(struct kube_client *c)
{
    if (!c)
        return;
    kube_creds_free(c->creds);
    SSL_CTX_free(c->ssl_ctx);
    kube_target_free(c->target);
    free(c);
}

/* ---- connect ---- */

static bool host_is_ip(const char *host)
{
    unsigned char buf[sizeof(struct in6_addr)];
    return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

static SSL *client_ssl_new(struct kube_client *c)
{
    const struct kube_target *t = c->target;
    SSL *ssl = SSL_new(c->ssl_ctx);
    if (!ssl)
        return NULL;
    const char *name = t->tls_server_name ? t->tls_server_name : t->host;
    if (!host_is_ip(name))
        SSL_set_tlsext_host_name(ssl, name);
    if (!t->insecure) {
        X509_VERIFY_PARAM *param = SSL_get0_param(ssl);
        if (host_is_ip(name))
            X509_VERIFY_PARAM_set1_ip_asc(param, name);
        else
            X509_VERIFY_PARAM_set1_host(param, name, 0);
    }
    SSL_set_connect_state(ssl);
    return ssl;
}

static void connect_closed(uv_handle_t *h)
{
    struct kube_connect *kc = h->data;
    if (--kc->handles_open == 0)
        free(kc);
}

static void connect_finish(struct kube_connect *kc, struct tls_sock *sock, const char *err)
{
    if (kc->finished)
        return;
    kc->finished = true;
    uv_timer_stop(&kc->timer);
    if (!kc->cancelled) {
        char msg[KUBE_ERR_MAX + TLS_SOCK_ERR_MAX];
        if (err)
            snprintf(msg, sizeof(msg), "cannot reach the API server %s%s (%s): %s",
                     kc->client->scheme, kc->client->authority, kc->client->target->source, err);
        kc->done(kc->user, sock, err ? msg : NULL);
    } else if (sock) {
        tls_sock_close(sock);
    }
    kc->sock = NULL;
    uv_close((uv_handle_t *)&kc->timer, connect_closed);
}

static void connect_on_sock(void *user, int events)
{
    struct kube_connect *kc = user;
    struct tls_sock *sock = kc->sock;
    if (events & TLS_SOCK_READY) {
        tls_sock_want(sock, false, false);
        connect_finish(kc, sock, NULL);
    } else if (events & TLS_SOCK_ERROR) {
        char err[TLS_SOCK_ERR_MAX];
        snprintf(err, sizeof(err), "%s", tls_sock_error(sock));
        tls_sock_close(sock);
        connect_finish(kc, NULL, err);
    }
}

static void connect_on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    struct kube_connect *kc = req->data;
    kc->resolving = false;
    if (kc->finished) { /* timed out or cancelled while resolving */
        uv_freeaddrinfo(res);
        connect_closed((uv_handle_t *)&kc->timer); /* the gai's share of handles_open */
        return;
    }
    kc->handles_open--;
    if (status != 0 || !res) {
        char err[512];
        snprintf(err, sizeof(err), "cannot resolve %s: %s", kc->client->target->host,
                 uv_strerror(status));
        uv_freeaddrinfo(res);
        connect_finish(kc, NULL, err);
        return;
    }
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    int rc = fd < 0 ? -1 : connect(fd, res->ai_addr, res->ai_addrlen);
    uv_freeaddrinfo(res);
    if (fd < 0 || (rc < 0 && errno != EINPROGRESS)) {
        char err[256];
        snprintf(err, sizeof(err), "connect: %s", strerror(errno));
        if (fd >= 0)
            close(fd);
        connect_finish(kc, NULL, err);
        return;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    bool plain = kc->client->target->plain;
    SSL *ssl = plain ? NULL : client_ssl_new(kc->client);
    kc->sock = ssl || plain ? tls_sock_new(kc->client->loop, fd, ssl, connect_on_sock, kc) : NULL;
    if (!ssl && !plain)
        close(fd);
    if (!kc->sock)
        connect_finish(kc, NULL, "out of memory");
}

static void connect_on_timeout(uv_timer_t *t)
{
    struct kube_connect *kc = t->data;
    if (kc->sock)
        tls_sock_close(kc->sock);
    kc->sock = NULL;
    connect_finish(kc, NULL, "timed out");
}

struct kube_connect *kube_client_connect(struct kube_client *c, kube_connect_cb done, void *user)
{
    struct kube_connect *kc = calloc(1, sizeof(*kc));
    if (!kc)
        return NULL;
    kc->client = c;
    kc->done = done;
    kc->user = user;
    kc->gai.data = kc;
    kc->timer.data = kc;
    uv_timer_init(c->loop, &kc->timer);
    kc->handles_open = 2; /* the timer and the getaddrinfo request */
    char port[8];
    snprintf(port, sizeof(port), "%d", c->target->port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    kc->resolving = true;
    int rc = uv_getaddrinfo(c->loop, &kc->gai, connect_on_resolved, c->target->host, port, &hints);
    if (rc != 0) {
        kc->resolving = false;
        kc->handles_open = 1;
        kc->finished = true;
        uv_close((uv_handle_t *)&kc->timer, connect_closed);
        return NULL;
    }
    uv_timer_start(&kc->timer, connect_on_timeout, KUBE_CONNECT_TIMEOUT_MS, 0);
    return kc;
}

void kube_connect_cancel(struct kube_connect *kc)
{
    if (!kc || kc->finished)
        return;
    kc->cancelled = true;
    if (kc->sock)
        tls_sock_close(kc->sock);
    kc->sock = NULL;
    connect_finish(kc, NULL, NULL);
}
