/* tls_sock.c - non-blocking TLS or plain socket on uv_poll (see tls_sock.h).
 *
 * OpenSSL works on the fd directly (SSL_set_fd): one less copy than memory
 * BIOs, and backpressure is simply not calling SSL_read. The one subtlety is
 * that SSL_read may leave decrypted bytes inside OpenSSL (SSL_has_pending)
 * that no poll event will announce, so resuming reads schedules a check. */
#include "net/tls_sock.h"

#include <errno.h>
#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum tls_sock_state { TS_CONNECTING, TS_HANDSHAKE, TS_OPEN, TS_FAILED, TS_CLOSED };

struct tls_sock {
    uv_loop_t *loop;
    int fd;
    SSL *ssl;
    tls_sock_cb cb;
    void *user;
    enum tls_sock_state state;
    uv_poll_t poll;
    uv_timer_t kick; /* delivers READABLE for bytes OpenSSL already holds */
    int handles_open;
    bool want_read, want_write;
    bool ssl_wants_read, ssl_wants_write; /* an SSL call is blocked on this direction */
    bool dispatching, close_requested;
    char err[TLS_SOCK_ERR_MAX];
};

static void tls_sock_update(struct tls_sock *s);

static void tls_sock_fail(struct tls_sock *s, const char *what)
{
    unsigned long e = ERR_peek_last_error();
    long v = s->ssl ? SSL_get_verify_result(s->ssl) : X509_V_OK;
    if (s->ssl && v != X509_V_OK && s->state == TS_HANDSHAKE)
        snprintf(s->err, sizeof(s->err), "TLS: the server's certificate was not accepted: %s",
                 X509_verify_cert_error_string(v));
    else if (e)
        snprintf(s->err, sizeof(s->err), "%s: %s", what, ERR_reason_error_string(e));
    else if (!s->err[0])
        snprintf(s->err, sizeof(s->err), "%s: %s", what, errno ? strerror(errno) : "failed");
    ERR_clear_error();
    s->state = TS_FAILED;
}

/* Map an SSL result: >0 done, -EAGAIN (with the direction noted), -EIO, or 0 (clean EOF). */
static ssize_t tls_sock_ssl_result(struct tls_sock *s, int rc, const char *what)
{
    if (rc > 0)
        return rc;
    int e = SSL_get_error(s->ssl, rc);
    s->ssl_wants_read = e == SSL_ERROR_WANT_READ;
    s->ssl_wants_write = e == SSL_ERROR_WANT_WRITE;
    if (s->ssl_wants_read || s->ssl_wants_write)
        return -EAGAIN;
    if (e == SSL_ERROR_ZERO_RETURN)
        return 0;
    /* A peer that closes TCP without close_notify: treat as end of stream. */
    if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0 && errno == 0)
        return 0;
    if (e == SSL_ERROR_SSL &&
        ERR_GET_REASON(ERR_peek_last_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
        ERR_clear_error();
        return 0;
    }
    tls_sock_fail(s, what);
    return -EIO;
}

static void tls_sock_dispatch(struct tls_sock *s, int events)
{
    s->dispatching = true;
    s->cb(s->user, events);
    s->dispatching = false;
    if (s->close_requested)
        tls_sock_close(s);
    else
        tls_sock_update(s);
}

static void tls_sock_handshake(struct tls_sock *s)
{
    ERR_clear_error();
    errno = 0;
    int rc = SSL_do_handshake(s->ssl);
    ssize_t r = tls_sock_ssl_result(s, rc, "TLS handshake");
    if (r == -EAGAIN)
        return;
    if (r <= 0) {
        if (s->state != TS_FAILED) {
            snprintf(s->err, sizeof(s->err), "TLS handshake: the peer closed the connection");
            s->state = TS_FAILED;
        }
        tls_sock_dispatch(s, TLS_SOCK_ERROR);
        return;
    }
    s->ssl_wants_read = s->ssl_wants_write = false;
    s->state = TS_OPEN;
    tls_sock_dispatch(s, TLS_SOCK_READY);
}

static void tls_sock_connected(struct tls_sock *s)
{
    int soerr = 0;
    socklen_t len = sizeof(soerr);
    if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0 || soerr != 0) {
        snprintf(s->err, sizeof(s->err), "connect: %s", strerror(soerr ? soerr : errno));
        s->state = TS_FAILED;
        tls_sock_dispatch(s, TLS_SOCK_ERROR);
        return;
    }
    if (s->ssl) {
        s->state = TS_HANDSHAKE;
        tls_sock_handshake(s);
        return;
    }
    s->state = TS_OPEN;
    tls_sock_dispatch(s, TLS_SOCK_READY);
}

static void tls_sock_on_poll(uv_poll_t *p, int status, int events)
{
    struct tls_sock *s = p->data;
    if (status < 0 && s->state == TS_CONNECTING)
        events = UV_WRITABLE; /* getsockopt tells what happened */
    switch (s->state) {
    case TS_CONNECTING:
        if (events & UV_WRITABLE)
            tls_sock_connected(s);
        return;
    case TS_HANDSHAKE:
        tls_sock_handshake(s);
        return;
    case TS_OPEN: {
        if ((events & UV_PRIORITIZED) || (status < 0 && !s->want_read && !s->want_write)) {
            /* An error or a hang-up (see tls_sock_update): the peer is gone. */
            snprintf(s->err, sizeof(s->err), "connection reset or hung up");
            tls_sock_dispatch(s, TLS_SOCK_ERROR);
            return;
        }
        int ev = 0;
        bool io = (events & (UV_READABLE | UV_WRITABLE)) || status < 0;
        if (s->want_read && io)
            ev |= TLS_SOCK_READABLE;
        if (s->want_write && io)
            ev |= TLS_SOCK_WRITABLE;
        if (ev)
            tls_sock_dispatch(s, ev);
        else
            tls_sock_update(s);
        return;
    }
    default:
        return;
    }
}

static void tls_sock_on_kick(uv_timer_t *t)
{
    struct tls_sock *s = t->data;
    if (s->state == TS_OPEN && s->want_read)
        tls_sock_dispatch(s, TLS_SOCK_READABLE);
}

/* Poll for what the owner wants, translated through what OpenSSL is waiting for. */
static void tls_sock_update(struct tls_sock *s)
{
    if (s->state == TS_CLOSED || s->state == TS_FAILED)
        return;
    int ev = 0;
    if (s->state == TS_CONNECTING)
        ev = UV_WRITABLE;
    else if (s->state == TS_HANDSHAKE)
        ev = (s->ssl_wants_write ? UV_WRITABLE : 0) | UV_READABLE;
    else {
        if (s->want_read || s->ssl_wants_read)
            ev |= UV_READABLE;
        if (s->want_write || s->ssl_wants_write)
            ev |= UV_WRITABLE;
        if (s->want_read && s->ssl && SSL_has_pending(s->ssl))
            uv_timer_start(&s->kick, tls_sock_on_kick, 0, 0);
    }
    /* Nothing wanted: still registered for the priority event, which never
     * comes on these sockets, so that epoll's always-on hang-up and error
     * still reach the owner (tls_sock_on_poll). A TLS front whose plain side
     * is not reading would otherwise never learn that its client reset the
     * connection, and keep the session behind it. */
    uv_poll_start(&s->poll, ev ? ev : UV_PRIORITIZED, tls_sock_on_poll);
}

struct tls_sock *tls_sock_new(uv_loop_t *loop, int fd, SSL *ssl, tls_sock_cb cb, void *user)
{
    struct tls_sock *s = calloc(1, sizeof(*s));
    if (!s || uv_poll_init_socket(loop, &s->poll, fd) != 0) {
        free(s);
        SSL_free(ssl);
        close(fd);
        return NULL;
    }
    s->loop = loop;
    s->fd = fd;
    s->ssl = ssl;
    s->cb = cb;
    s->user = user;
    s->poll.data = s;
    uv_timer_init(loop, &s->kick);
    s->kick.data = s;
    s->handles_open = 2;
    if (ssl) {
        SSL_set_fd(ssl, fd);
        SSL_set_mode(ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    }
    s->state = TS_CONNECTING;
    tls_sock_update(s);
    return s;
}

void tls_sock_want(struct tls_sock *s, bool readable, bool writable)
{
    s->want_read = readable;
    s->want_write = writable;
    if (!s->dispatching)
        tls_sock_update(s);
}

ssize_t tls_sock_read(struct tls_sock *s, void *buf, size_t cap)
{
    if (s->state != TS_OPEN)
        return s->state == TS_FAILED ? -EIO : -EAGAIN;
    if (!s->ssl) {
        ssize_t n = read(s->fd, buf, cap);
        if (n >= 0)
            return n;
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            return -EAGAIN;
        snprintf(s->err, sizeof(s->err), "read: %s", strerror(errno));
        return errno == ECONNRESET ? 0 : -EIO;
    }
    ERR_clear_error();
    errno = 0;
    int rc = SSL_read(s->ssl, buf, cap > INT32_MAX ? INT32_MAX : (int)cap);
    return tls_sock_ssl_result(s, rc, "TLS read");
}

ssize_t tls_sock_write(struct tls_sock *s, const void *buf, size_t len)
{
    if (s->state != TS_OPEN)
        return s->state == TS_FAILED ? -EIO : -EAGAIN;
    if (len == 0)
        return 0;
    if (!s->ssl) {
        ssize_t n = send(s->fd, buf, len, MSG_NOSIGNAL);
        if (n >= 0)
            return n;
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            return -EAGAIN;
        snprintf(s->err, sizeof(s->err), "write: %s", strerror(errno));
        return -EIO;
    }
    ERR_clear_error();
    errno = 0;
    int rc = SSL_write(s->ssl, buf, len > INT32_MAX ? INT32_MAX : (int)len);
    ssize_t r = tls_sock_ssl_result(s, rc, "TLS write");
    return r == 0 ? -EIO : r;
}

void tls_sock_shutdown(struct tls_sock *s)
{
    if (s->state != TS_OPEN)
        return;
    if (s->ssl) {
        ERR_clear_error();
        SSL_shutdown(s->ssl); /* best effort: the close_notify record */
        ERR_clear_error();
    }
    shutdown(s->fd, SHUT_WR);
}

const char *tls_sock_error(const struct tls_sock *s)
{
    return s->err[0] ? s->err : "connection failed";
}

SSL *tls_sock_ssl(struct tls_sock *s)
{
    return s->ssl;
}

static void tls_sock_closed(uv_handle_t *h)
{
    struct tls_sock *s = h->data;
    if (--s->handles_open == 0) {
        SSL_free(s->ssl);
        close(s->fd);
        free(s);
    }
}

bool tls_sock_trim(struct tls_sock *s)
{
    /* Fails, harmlessly, while a record is half read or half written. Not
     * SSL_MODE_RELEASE_BUFFERS: that frees them after every record, and a
     * busy stream would allocate them again for the next one. */
    return s && s->ssl && s->state == TS_OPEN && SSL_free_buffers(s->ssl) == 1;
}

void tls_sock_close(struct tls_sock *s)
{
    if (!s || s->state == TS_CLOSED)
        return;
    if (s->dispatching) {
        s->close_requested = true;
        return;
    }
    s->state = TS_CLOSED;
    uv_close((uv_handle_t *)&s->poll, tls_sock_closed);
    uv_close((uv_handle_t *)&s->kick, tls_sock_closed);
}

void tls_sock_abort(struct tls_sock *s)
{
    if (!s || s->state == TS_CLOSED)
        return;
    /* RST instead of FIN: a FIN would queue behind bytes the peer is not
     * reading, and the peer would never see the end. */
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    (void)setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    tls_sock_close(s);
}

void tls_sock_set_cb(struct tls_sock *s, tls_sock_cb cb, void *user)
{
    s->cb = cb;
    s->user = user;
}
