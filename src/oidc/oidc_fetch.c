/* oidc_fetch.c - one HTTPS GET on the event loop, for the issuer's
 * discovery document and JWKS (or one form POST, for browser sign-in's
 * token request): resolve (uv_getaddrinfo, off the loop),
 * non-blocking connect, TLS with the host name (or IP address) verified
 * against --oidc-ca-file or the system's trust store, the request, the
 * response read until oidc_http_response() says it is complete. The whole
 * exchange has one deadline (OIDC_FETCH_TIMEOUT_MS) and one size bound
 * (OIDC_RESPONSE_MAX), so a slow or endless provider costs a timer, never
 * the loop. */
#include "oidc/oidc_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/x509v3.h>

#include "net/tls_sock.h"

#define OIDC_AUTHORIZATION_MAX 1024 /* the token request's Authorization value */
#define OIDC_REQUEST_MAX                                                                           \
    (OIDC_URL_MAX + OIDC_HOST_MAX + OIDC_AUTHORIZATION_MAX + OIDC_FORM_MAX + 512)

struct oidc_fetch {
    uv_loop_t *loop;
    SSL_CTX *ctx;
    struct oidc_url url;
    char target[OIDC_URL_MAX]; /* the URL, for messages */
    oidc_fetch_cb cb;
    void *user;
    uv_getaddrinfo_t gai;
    uv_timer_t timer;
    struct tls_sock *sock;
    int handles_open; /* the timer, and the getaddrinfo while it runs */
    bool finished;
    const char *method; /* "GET" or "POST", for messages */
    char req[OIDC_REQUEST_MAX];
    size_t req_len, req_off;
    char *buf; /* the response so far (OIDC_RESPONSE_MAX) */
    size_t len;
    char *out; /* a chunked body, decoded (OIDC_DOC_MAX) */
    struct oidc_http http;
};

static void oidc_fetch_closed(uv_handle_t *h)
{
    struct oidc_fetch *f = h->data;
    if (--f->handles_open > 0)
        return;
    /* A token request and its answer hold secrets (a code, the client's
     * secret, tokens): no copy outlives the exchange. */
    explicit_bzero(f->req, sizeof(f->req));
    explicit_bzero(f->buf, f->len);
    explicit_bzero(f->out, f->http.produced);
    free(f->buf);
    free(f->out);
    free(f);
}

/* Report once (unless cancelled), then let the handles go. */
static void oidc_fetch_finish(struct oidc_fetch *f, const char *body, size_t len, const char *err)
{
    if (f->finished)
        return;
    f->finished = true;
    uv_timer_stop(&f->timer);
    if (f->cb) {
        char msg[OIDC_ERR_MAX + OIDC_URL_MAX + TLS_SOCK_ERR_MAX];
        if (err)
            snprintf(msg, sizeof(msg), "%s %s: %s", f->method, f->target, err);
        f->cb(f->user, body, len, err ? msg : NULL);
    }
    if (f->sock)
        tls_sock_close(f->sock);
    f->sock = NULL;
    uv_close((uv_handle_t *)&f->timer, oidc_fetch_closed);
}

static void oidc_fetch_read(struct oidc_fetch *f)
{
    for (;;) {
        if (f->len == OIDC_RESPONSE_MAX) {
            oidc_fetch_finish(f, NULL, 0, "response too large");
            return;
        }
        ssize_t n = tls_sock_read(f->sock, f->buf + f->len, OIDC_RESPONSE_MAX - f->len);
        if (n == -EAGAIN)
            return;
        if (n < 0) {
            oidc_fetch_finish(f, NULL, 0, tls_sock_error(f->sock));
            return;
        }
        f->len += (size_t)n;
        const char *body = NULL;
        size_t body_len = 0;
        int status = 0;
        int rc = oidc_http_feed(&f->http, f->buf, f->len, n == 0, &body, &body_len, &status);
        if (rc == OIDC_HTTP_DONE) {
            oidc_fetch_finish(f, body, body_len, NULL);
            return;
        }
        if (rc < 0) {
            char err[OIDC_ERR_MAX];
            if (rc == OIDC_HTTP_ERR_STATUS)
                snprintf(err, sizeof(err), "HTTP status %d", status);
            else
                snprintf(err, sizeof(err), "%s", oidc_http_strerror(rc));
            oidc_fetch_finish(f, NULL, 0, err);
            return;
        }
        if (n == 0)
            return; /* unreachable: at EOF the core decides */
    }
}

static void oidc_fetch_on_sock(void *user, int events)
{
    struct oidc_fetch *f = user;
    if (events & TLS_SOCK_ERROR) {
        oidc_fetch_finish(f, NULL, 0, tls_sock_error(f->sock));
        return;
    }
    if (events & (TLS_SOCK_READY | TLS_SOCK_WRITABLE)) {
        while (f->req_off < f->req_len) {
            ssize_t n = tls_sock_write(f->sock, f->req + f->req_off, f->req_len - f->req_off);
            if (n == -EAGAIN) {
                tls_sock_want(f->sock, false, true);
                return;
            }
            if (n <= 0) {
                oidc_fetch_finish(f, NULL, 0, tls_sock_error(f->sock));
                return;
            }
            f->req_off += (size_t)n;
        }
        tls_sock_want(f->sock, true, false);
    }
    if (events & TLS_SOCK_READABLE)
        oidc_fetch_read(f);
}

static bool oidc_host_is_ip(const char *host)
{
    unsigned char buf[sizeof(struct in6_addr)];
    return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

static SSL *oidc_fetch_ssl(struct oidc_fetch *f)
{
    SSL *ssl = SSL_new(f->ctx);
    if (!ssl)
        return NULL;
    X509_VERIFY_PARAM *param = SSL_get0_param(ssl);
    int ok;
    if (oidc_host_is_ip(f->url.host)) {
        ok = X509_VERIFY_PARAM_set1_ip_asc(param, f->url.host);
    } else {
        ok = SSL_set_tlsext_host_name(ssl, f->url.host) &&
             X509_VERIFY_PARAM_set1_host(param, f->url.host, 0);
    }
    if (!ok) {
        SSL_free(ssl);
        return NULL;
    }
    SSL_set_verify(ssl, SSL_VERIFY_PEER, NULL);
    SSL_set_connect_state(ssl);
    return ssl;
}

static void oidc_fetch_on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    struct oidc_fetch *f = req->data;
    if (f->finished) { /* timed out or cancelled meanwhile */
        uv_freeaddrinfo(res);
        oidc_fetch_closed((uv_handle_t *)&f->timer); /* the getaddrinfo's share */
        return;
    }
    f->handles_open--;
    if (status != 0 || !res) {
        char err[OIDC_ERR_MAX + OIDC_HOST_MAX];
        snprintf(err, sizeof(err), "cannot resolve %s: %s", f->url.host, uv_strerror(status));
        uv_freeaddrinfo(res);
        oidc_fetch_finish(f, NULL, 0, err);
        return;
    }
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int rc = fd < 0 ? -1 : connect(fd, res->ai_addr, res->ai_addrlen);
    uv_freeaddrinfo(res);
    if (fd < 0 || (rc < 0 && errno != EINPROGRESS)) {
        char err[OIDC_ERR_MAX];
        snprintf(err, sizeof(err), "connect: %s", strerror(errno));
        if (fd >= 0)
            close(fd);
        oidc_fetch_finish(f, NULL, 0, err);
        return;
    }
    SSL *ssl = oidc_fetch_ssl(f);
    if (!ssl) {
        close(fd);
        oidc_fetch_finish(f, NULL, 0, "TLS: cannot set up the connection");
        return;
    }
    /* tls_sock_new owns fd and ssl from here, failing or not. */
    if (!(f->sock = tls_sock_new(f->loop, fd, ssl, oidc_fetch_on_sock, f)))
        oidc_fetch_finish(f, NULL, 0, "out of memory");
}

static void oidc_fetch_on_timeout(uv_timer_t *t)
{
    oidc_fetch_finish(t->data, NULL, 0, "timed out");
}

/* The request's bytes into f->req: a GET, or a POST of form. 0 when they do
 * not fit. */
static size_t oidc_fetch_request(struct oidc_fetch *f, const char *form, const char *authorization)
{
    bool v6 = strchr(f->url.host, ':') != NULL;
    int n;
    if (!form)
        n = snprintf(f->req, sizeof(f->req),
                     "GET %s HTTP/1.1\r\nHost: %s%s%s:%d\r\nAccept: application/json\r\n"
                     "User-Agent: podterm\r\nConnection: close\r\n\r\n",
                     f->url.path, v6 ? "[" : "", f->url.host, v6 ? "]" : "", f->url.port);
    else
        n = snprintf(f->req, sizeof(f->req),
                     "POST %s HTTP/1.1\r\nHost: %s%s%s:%d\r\nAccept: application/json\r\n"
                     "User-Agent: podterm\r\nConnection: close\r\n"
                     "Content-Type: application/x-www-form-urlencoded\r\n"
                     "Content-Length: %zu\r\n%s%s%s\r\n%s",
                     f->url.path, v6 ? "[" : "", f->url.host, v6 ? "]" : "", f->url.port,
                     strlen(form), authorization ? "Authorization: " : "",
                     authorization ? authorization : "", authorization ? "\r\n" : "", form);
    return n > 0 && (size_t)n < sizeof(f->req) ? (size_t)n : 0;
}

static struct oidc_fetch *oidc_fetch_begin(uv_loop_t *loop, SSL_CTX *ctx, const char *url,
                                           const char *form, const char *authorization,
                                           oidc_fetch_cb cb, void *user)
{
    if ((form && strlen(form) > OIDC_FORM_MAX) ||
        (authorization &&
         (strlen(authorization) >= OIDC_AUTHORIZATION_MAX || strpbrk(authorization, "\r\n"))))
        return NULL;
    struct oidc_fetch *f = calloc(1, sizeof(*f));
    if (!f)
        return NULL;
    f->buf = malloc(OIDC_RESPONSE_MAX);
    f->out = malloc(OIDC_DOC_MAX);
    if (!f->buf || !f->out || oidc_url_parse(url, &f->url) < 0) {
        free(f->buf);
        free(f->out);
        free(f);
        return NULL;
    }
    snprintf(f->target, sizeof(f->target), "%s", url);
    f->method = form ? "POST" : "GET";
    oidc_http_init(&f->http, f->out);
    f->req_len = oidc_fetch_request(f, form, authorization);
    f->loop = loop;
    f->ctx = ctx;
    f->cb = cb;
    f->user = user;
    f->gai.data = f;
    f->timer.data = f;
    uv_timer_init(loop, &f->timer);
    f->handles_open = 2;
    char port[8];
    snprintf(port, sizeof(port), "%d", f->url.port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    if (!f->req_len ||
        uv_getaddrinfo(loop, &f->gai, oidc_fetch_on_resolved, f->url.host, port, &hints) != 0) {
        f->handles_open = 1;
        f->finished = true;
        uv_close((uv_handle_t *)&f->timer, oidc_fetch_closed);
        return NULL;
    }
    uv_timer_start(&f->timer, oidc_fetch_on_timeout, OIDC_FETCH_TIMEOUT_MS, 0);
    return f;
}

struct oidc_fetch *oidc_fetch_start(uv_loop_t *loop, SSL_CTX *ctx, const char *url,
                                    oidc_fetch_cb cb, void *user)
{
    return oidc_fetch_begin(loop, ctx, url, NULL, NULL, cb, user);
}

struct oidc_fetch *oidc_fetch_post(uv_loop_t *loop, SSL_CTX *ctx, const char *url, const char *form,
                                   const char *authorization, oidc_fetch_cb cb, void *user)
{
    return oidc_fetch_begin(loop, ctx, url, form, authorization, cb, user);
}

void oidc_fetch_cancel(struct oidc_fetch *f)
{
    if (!f || f->finished)
        return;
    f->cb = NULL;
    oidc_fetch_finish(f, NULL, 0, NULL);
}
