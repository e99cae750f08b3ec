/* listener.c - accept TCP connections on the loop, pre-read each request head,
 * then hand the socket and the bytes read to lws.
 *
 * Why not let lws listen: lws 4.1 answers any request whose Upgrade header is
 * not "websocket" with its own HTML 403 before user code sees it, but kubectl
 * retries every failed WebSocket handshake as a SPDY POST and shows that
 * answer to the user (PROTOCOL.md 5.2). Reading the head first lets us rename
 * that header to a marker, so the request reaches our handler and gets a
 * proper Status. The pre-read also bounds the head's size and the time a
 * client may take to send it (half-open and slowloris connections). */
#include "server/server_internal.h"
#include "server/head_rewrite.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define LISTENER_BACKLOG 1024
/* Connections still sending their request head: each holds a SERVER_HEAD_MAX
 * buffer, so a flood of half-open connections is capped at ~16 MiB. */
#define LISTENER_PENDING_MAX 1024

struct listener {
    struct server *server;
    uv_tcp_t tcp;
    bool closed;
    size_t pending;
};

/* One connection whose request head is still arriving. */
struct pending {
    struct listener *listener;
    uv_tcp_t tcp;
    uv_timer_t timer;
    int handles_open;
    size_t len;
    char head[SERVER_HEAD_MAX];
};

static const char LISTENER_431[] =
    "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Type: application/json\r\n"
    "Connection: close\r\nContent-Length: 213\r\n\r\n"
    "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
    "\"message\":\"request header fields too large (limit 16384 bytes)\","
    "\"reason\":\"RequestHeaderFieldsTooLarge\",\"code\":431}\n";

static void pending_handle_closed(uv_handle_t *h)
{
    struct pending *p = h->data;
    if (--p->handles_open == 0) {
        p->listener->pending--;
        free(p);
    }
}

static void pending_drop(struct pending *p)
{
    uv_read_stop((uv_stream_t *)&p->tcp);
    uv_close((uv_handle_t *)&p->timer, pending_handle_closed);
    uv_close((uv_handle_t *)&p->tcp, pending_handle_closed);
}

/* End of the head: the first blank line. */
static const char *head_end(const char *buf, size_t len)
{
    return memmem(buf, len, "\r\n\r\n", 4);
}

static void pending_adopt(struct pending *p)
{
    struct server *server = p->listener->server;
    uv_os_fd_t fd;
    if (uv_fileno((uv_handle_t *)&p->tcp, &fd) != 0 || server->shutting_down) {
        pending_drop(p);
        return;
    }
    /* lws takes ownership of its own descriptor; the uv handle closes ours. */
    int dupfd = dup(fd);
    if (dupfd < 0) {
        pending_drop(p);
        return;
    }
    size_t head_len = (size_t)(head_end(p->head, p->len) + 4 - p->head);
    size_t cap = p->len + HEAD_REWRITE_SLACK;
    char *out = malloc(cap);
    struct upgrade_offer *offer = malloc(sizeof(*offer));
    struct head_rewrite *hr = malloc(sizeof(*hr));
    size_t n = out && offer && hr ? head_rewrite(p->head, p->len, head_len, out, cap, hr) : 0;
    struct lws *wsi = n ? lws_adopt_socket_vhost_readbuf(server->vhost, dupfd, out, n) : NULL;
    if (wsi && hr->websocket) {
        offer->type = WSI_DATA_OFFER;
        offer->negotiation_rc = hr->negotiation_rc;
        offer->neg = hr->neg;
        lws_set_opaque_user_data(wsi, offer);
        offer = NULL;
    }
    if (!wsi)
        close(dupfd);
    free(out);
    free(offer);
    free(hr);
    pending_drop(p);
}

static void pending_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct pending *p = h->data;
    buf->base = p->head + p->len;
    buf->len = sizeof(p->head) - p->len;
}

static void pending_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct pending *p = s->data;
    if (nread < 0) {
        pending_drop(p);
        return;
    }
    p->len += nread;
    if (head_end(p->head, p->len)) {
        pending_adopt(p);
        return;
    }
    if (p->len == sizeof(p->head)) {
        uv_read_stop(s);
        /* Best effort: the client gets a reason before we hang up. */
        uv_os_fd_t fd;
        if (uv_fileno((uv_handle_t *)s, &fd) == 0 &&
            write(fd, LISTENER_431, sizeof(LISTENER_431) - 1) < 0)
            errno = 0;
        pending_drop(p);
    }
}

static void pending_timeout(uv_timer_t *t)
{
    pending_drop(t->data);
}

static void listener_closed_free(uv_handle_t *h)
{
    free(h->data);
}

static void listener_on_connection(uv_stream_t *server_stream, int status)
{
    struct listener *l = server_stream->data;
    if (status < 0)
        return;
    struct pending *p = l->pending < LISTENER_PENDING_MAX ? malloc(sizeof(*p)) : NULL;
    if (!p) {
        /* Accept and drop, so the kernel backlog does not fill with the flood. */
        uv_tcp_t *drop = malloc(sizeof(*drop));
        if (drop) {
            uv_tcp_init(l->server->loop, drop);
            drop->data = drop;
            uv_accept(server_stream, (uv_stream_t *)drop);
            uv_close((uv_handle_t *)drop, listener_closed_free);
        }
        return;
    }
    l->pending++;
    p->listener = l;
    p->len = 0;
    p->handles_open = 2;
    uv_tcp_init(l->server->loop, &p->tcp);
    uv_timer_init(l->server->loop, &p->timer);
    p->tcp.data = p;
    p->timer.data = p;
    if (uv_accept(server_stream, (uv_stream_t *)&p->tcp) != 0) {
        pending_drop(p);
        return;
    }
    /* Keystrokes and echoes are tiny writes: never let Nagle hold them back. */
    uv_tcp_nodelay(&p->tcp, 1);
    uv_timer_start(&p->timer, pending_timeout, SERVER_HEAD_TIMEOUT_MS, 0);
    uv_read_start((uv_stream_t *)&p->tcp, pending_alloc, pending_read);
}

struct listener *listener_new(struct server *server, const char *host, int port, int *bound_port,
                              char *err, size_t err_cap)
{
    struct listener *l = calloc(1, sizeof(*l));
    if (!l) {
        snprintf(err, err_cap, "out of memory");
        return NULL;
    }
    l->server = server;
    struct sockaddr_in addr;
    int rc = uv_ip4_addr(host, port, &addr);
    if (rc == 0) {
        uv_tcp_init(server->loop, &l->tcp);
        l->tcp.data = l;
        rc = uv_tcp_bind(&l->tcp, (const struct sockaddr *)&addr, 0);
        if (rc == 0)
            rc = uv_listen((uv_stream_t *)&l->tcp, LISTENER_BACKLOG, listener_on_connection);
        if (rc != 0) {
            snprintf(err, err_cap, "cannot listen on %s:%d: %s", host, port, uv_strerror(rc));
            uv_close((uv_handle_t *)&l->tcp, listener_closed_free);
            return NULL;
        }
    } else {
        snprintf(err, err_cap, "--listen: \"%s\" is not an IPv4 address", host);
        free(l);
        return NULL;
    }
    struct sockaddr_in bound;
    int blen = sizeof(bound);
    uv_tcp_getsockname(&l->tcp, (struct sockaddr *)&bound, &blen);
    *bound_port = ntohs(bound.sin_port);
    return l;
}

void listener_close(struct listener *l)
{
    if (l && !l->closed) {
        l->closed = true;
        uv_close((uv_handle_t *)&l->tcp, NULL);
    }
}

void listener_free(struct listener *l)
{
    free(l);
}
