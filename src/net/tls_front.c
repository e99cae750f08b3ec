/* tls_front.c - TLS terminator in front of the plaintext listener (see
 * tls_front.h). Each connection is two tls_socks (the client's, TLS; ours of
 * a socketpair, plain) and one bounded buffer per direction: a side is read
 * only while the buffer toward the other side is empty. */
#include "net/tls_front.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "net/tls_sock.h"

struct tls_front {
    uv_loop_t *loop;
    int fd;
    uv_poll_t poll;
    uv_timer_t reload;
    int handles_open;
    bool closing;
    char *cert_file, *key_file, *client_ca_file; /* client_ca_file may be NULL */
    struct stat cert_st, key_st, client_ca_st;
    SSL_CTX *ctx; /* for new connections; live ones hold their own reference */
    unsigned reloads;
    tls_front_plain_fn plain;
    void *plain_ctx;
    struct tf_conn *conns;
    size_t nconns;
};

struct tf_conn {
    struct tls_front *front;
    struct tf_conn *prev, *next;
    struct tls_sock *tls, *pl;
    uint8_t up[TLS_FRONT_BUF], down[TLS_FRONT_BUF]; /* client->plain, plain->client */
    size_t up_off, up_len, down_off, down_len;
    bool tls_eof, pl_eof, up_shut;
    /* The socketpair end the listener reads the requests from, by its
     * socket's inode: the listener hands on a dup of it (another number,
     * the same socket), and an inode is never reused while it is open. */
    dev_t plain_dev;
    ino_t plain_ino;
};

/* ---- certificates ---- */

static SSL_CTX *front_ctx_load(const char *cert, const char *key, const char *client_ca, char *err,
                               size_t cap)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx)
        goto fail;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
        snprintf(err, cap, "--tls-cert-file %s: %s", cert,
                 ERR_reason_error_string(ERR_peek_last_error()));
        goto fail_msg;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
        snprintf(err, cap, "--tls-private-key-file %s: %s", key,
                 ERR_reason_error_string(ERR_peek_last_error()));
        goto fail_msg;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        snprintf(err, cap, "--tls-private-key-file %s does not match --tls-cert-file %s", key,
                 cert);
        goto fail_msg;
    }
    if (client_ca) {
        /* Mutual TLS as kube-apiserver's --client-ca-file does it, but as a
         * gate only: a connection without a certificate signed by this CA
         * fails its handshake; who the client is still comes from its token. */
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(client_ca);
        if (SSL_CTX_load_verify_locations(ctx, client_ca, NULL) != 1 || !names) {
            sk_X509_NAME_pop_free(names, X509_NAME_free);
            snprintf(err, cap, "--client-ca-file %s: %s", client_ca,
                     ERR_reason_error_string(ERR_peek_last_error()));
            goto fail_msg;
        }
        SSL_CTX_set_client_CA_list(ctx, names);
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    }
    ERR_clear_error();
    return ctx;
fail:
    snprintf(err, cap, "TLS: %s", ERR_reason_error_string(ERR_peek_last_error()));
fail_msg:
    ERR_clear_error();
    SSL_CTX_free(ctx);
    return NULL;
}

static bool front_stat_changed(const char *path, struct stat *old)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return false;
    bool changed = st.st_ino != old->st_ino || st.st_size != old->st_size ||
                   st.st_mtim.tv_sec != old->st_mtim.tv_sec ||
                   st.st_mtim.tv_nsec != old->st_mtim.tv_nsec;
    *old = st;
    return changed;
}

static void front_on_reload(uv_timer_t *t)
{
    struct tls_front *f = t->data;
    bool c1 = front_stat_changed(f->cert_file, &f->cert_st);
    bool c2 = front_stat_changed(f->key_file, &f->key_st);
    /* A CA removed from --client-ca-file must stop admitting its clients. */
    bool c3 = f->client_ca_file && front_stat_changed(f->client_ca_file, &f->client_ca_st);
    if (!c1 && !c2 && !c3)
        return;
    char err[512];
    SSL_CTX *ctx = front_ctx_load(f->cert_file, f->key_file, f->client_ca_file, err, sizeof(err));
    if (!ctx) {
        /* Mid-rotation the pair may not match yet: keep serving the old one. */
        fprintf(stderr, "podterm: keeping the current certificate and client CAs: %s\n", err);
        return;
    }
    SSL_CTX_free(f->ctx);
    f->ctx = ctx;
    f->reloads++;
    if (c1 || c2)
        fprintf(stderr, "podterm: reloaded the TLS certificate from %s\n", f->cert_file);
    if (c3)
        fprintf(stderr, "podterm: reloaded the client CAs from %s\n", f->client_ca_file);
}

/* ---- one connection ---- */

static void conn_close(struct tf_conn *c)
{
    struct tls_front *f = c->front;
    tls_sock_close(c->tls);
    tls_sock_close(c->pl);
    if (c->prev)
        c->prev->next = c->next;
    else
        f->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    f->nconns--;
    free(c);
}

/* Move bytes: read src into buf when it is empty, write buf to dst. -1: error. */
static int conn_move(struct tls_sock *src, struct tls_sock *dst, uint8_t *buf, size_t *off,
                     size_t *len, bool *src_eof)
{
    for (;;) {
        while (*off < *len) {
            ssize_t n = tls_sock_write(dst, buf + *off, *len - *off);
            if (n == -EAGAIN)
                return 0;
            if (n < 0)
                return -1;
            *off += (size_t)n;
        }
        *off = *len = 0;
        if (*src_eof)
            return 0;
        ssize_t n = tls_sock_read(src, buf, TLS_FRONT_BUF);
        if (n == -EAGAIN)
            return 0;
        if (n < 0)
            return -1;
        if (n == 0) {
            *src_eof = true;
            return 0;
        }
        *len = (size_t)n;
    }
}

static void conn_pump(struct tf_conn *c)
{
    if (conn_move(c->tls, c->pl, c->up, &c->up_off, &c->up_len, &c->tls_eof) < 0 ||
        conn_move(c->pl, c->tls, c->down, &c->down_off, &c->down_len, &c->pl_eof) < 0) {
        conn_close(c);
        return;
    }
    if (c->tls_eof && c->up_len == 0 && !c->up_shut) {
        c->up_shut = true;
        tls_sock_shutdown(c->pl); /* the server sees the client's end of requests */
    }
    if (c->pl_eof && c->down_len == 0) {
        /* The server is done with this connection. */
        tls_sock_shutdown(c->tls);
        conn_close(c);
        return;
    }
    tls_sock_want(c->tls, !c->tls_eof && c->up_len == 0, c->down_len > 0);
    tls_sock_want(c->pl, !c->pl_eof && c->down_len == 0, c->up_len > 0);
}

static void conn_on_event(void *user, int events)
{
    struct tf_conn *c = user;
    if (events & TLS_SOCK_ERROR) {
        conn_close(c);
        return;
    }
    conn_pump(c);
}

static void front_accept_one(struct tls_front *f, int fd, const struct sockaddr *peer)
{
    int sv[2];
    struct tf_conn *c = f->nconns < TLS_FRONT_CONN_MAX ? calloc(1, sizeof(*c)) : NULL;
    SSL *ssl = c ? SSL_new(f->ctx) : NULL;
    if (!ssl || socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0) {
        SSL_free(ssl);
        free(c);
        close(fd);
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    SSL_set_accept_state(ssl);
    c->front = f;
    c->tls = tls_sock_new(f->loop, fd, ssl, conn_on_event, c);
    c->pl = tls_sock_new(f->loop, sv[0], NULL, conn_on_event, c);
    if (!c->tls || !c->pl) {
        tls_sock_close(c->tls);
        tls_sock_close(c->pl);
        close(sv[1]);
        free(c);
        return;
    }
    c->next = f->conns;
    if (f->conns)
        f->conns->prev = c;
    f->conns = c;
    f->nconns++;
    tls_sock_want(c->tls, true, false);
    tls_sock_want(c->pl, true, false);
    struct stat st;
    if (fstat(sv[1], &st) == 0) {
        c->plain_dev = st.st_dev;
        c->plain_ino = st.st_ino;
    }
    f->plain(f->plain_ctx, sv[1], peer);
}

static void front_on_listen(uv_poll_t *p, int status, int events)
{
    struct tls_front *f = p->data;
    for (int i = 0; i < 64; i++) { /* bounded per wakeup: other work gets its turn */
        struct sockaddr_storage peer;
        socklen_t peer_len = sizeof(peer);
        int fd = accept4(f->fd, (struct sockaddr *)&peer, &peer_len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        front_accept_one(f, fd, (const struct sockaddr *)&peer);
    }
}

/* ---- the front ---- */

static int front_listen(const char *host, int port, int *bound, char *err, size_t cap)
{
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
        snprintf(err, cap, "--listen: \"%s\" is not an IPv4 address", host);
        return -1;
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd >= 0)
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 ||
        listen(fd, TLS_FRONT_BACKLOG) != 0) {
        snprintf(err, cap, "cannot listen on %s:%d: %s", host, port, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    socklen_t len = sizeof(addr);
    getsockname(fd, (struct sockaddr *)&addr, &len);
    *bound = ntohs(addr.sin_port);
    return fd;
}

struct tls_front *tls_front_new(uv_loop_t *loop, const char *host, int port,
                                const struct tls_front_files *files, tls_front_plain_fn plain,
                                void *ctx, int *bound_port, char *err, size_t err_cap)
{
    const char *cert_file = files->cert, *key_file = files->key;
    SSL_CTX *sctx = front_ctx_load(cert_file, key_file, files->client_ca, err, err_cap);
    if (!sctx)
        return NULL;
    struct tls_front *f = calloc(1, sizeof(*f));
    if (!f)
        snprintf(err, err_cap, "out of memory");
    int fd = f ? front_listen(host, port, bound_port, err, err_cap) : -1;
    if (fd < 0) {
        SSL_CTX_free(sctx);
        free(f);
        return NULL;
    }
    f->loop = loop;
    f->fd = fd;
    f->ctx = sctx;
    f->plain = plain;
    f->plain_ctx = ctx;
    f->cert_file = strdup(cert_file);
    f->key_file = strdup(key_file);
    f->client_ca_file = files->client_ca ? strdup(files->client_ca) : NULL;
    if (!f->cert_file || !f->key_file || (files->client_ca && !f->client_ca_file)) {
        /* Without its paths the front could never reload a rotated certificate. */
        snprintf(err, err_cap, "out of memory");
        free(f->cert_file);
        free(f->key_file);
        free(f->client_ca_file);
        close(fd);
        SSL_CTX_free(sctx);
        free(f);
        return NULL;
    }
    stat(cert_file, &f->cert_st);
    stat(key_file, &f->key_st);
    if (f->client_ca_file)
        stat(f->client_ca_file, &f->client_ca_st);
    uv_poll_init_socket(loop, &f->poll, fd);
    uv_timer_init(loop, &f->reload);
    f->poll.data = f->reload.data = f;
    f->handles_open = 2;
    uv_poll_start(&f->poll, UV_READABLE, front_on_listen);
    uv_timer_start(&f->reload, front_on_reload, TLS_FRONT_RELOAD_MS, TLS_FRONT_RELOAD_MS);
    return f;
}

static void front_closed(uv_handle_t *h)
{
    struct tls_front *f = h->data;
    if (--f->handles_open > 0)
        return;
    close(f->fd);
    SSL_CTX_free(f->ctx);
    free(f->cert_file);
    free(f->key_file);
    free(f->client_ca_file);
    free(f);
}

void tls_front_close(struct tls_front *f)
{
    if (!f || f->closing)
        return;
    f->closing = true;
    while (f->conns)
        conn_close(f->conns);
    uv_close((uv_handle_t *)&f->poll, front_closed);
    uv_close((uv_handle_t *)&f->reload, front_closed);
}

void tls_front_stop_accepting(struct tls_front *f)
{
    if (!f || f->closing)
        return;
    uv_poll_stop(&f->poll);
    /* Linux takes a listening socket out of LISTEN on shutdown: what arrives
     * next is refused instead of waiting in a backlog nobody reads. The fd
     * itself is closed with the front (front_closed). */
    shutdown(f->fd, SHUT_RDWR);
}

size_t tls_front_conns(const struct tls_front *f)
{
    return f ? f->nconns : 0;
}

unsigned tls_front_reloads(const struct tls_front *f)
{
    return f->reloads;
}

X509 *tls_front_peer_cert(struct tls_front *f, int plain_fd)
{
    struct stat st;
    if (!f || fstat(plain_fd, &st) != 0 || !S_ISSOCK(st.st_mode))
        return NULL;
    for (struct tf_conn *c = f->conns; c; c = c->next) {
        if (c->plain_ino != st.st_ino || c->plain_dev != st.st_dev)
            continue;
        SSL *ssl = tls_sock_ssl(c->tls);
        X509 *cert = ssl ? SSL_get0_peer_certificate(ssl) : NULL;
        return cert && SSL_get_verify_result(ssl) == X509_V_OK ? cert : NULL;
    }
    return NULL;
}
