/* listener.c - accept, pre-read the request head within bounds, hand over
 * (see listener.h). */
#include "net/listener.h"

#include "http/head_rewrite.h"
#include "http/http1.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <strings.h>
#include <unistd.h>

#define LISTENER_BACKLOG 1024
/* Connections still sending their request head: each holds a LISTENER_HEAD_MAX
 * buffer, so a flood of half-open connections is capped at ~16 MiB. Slowloris:
 * one peer address holds at most LISTENER_PENDING_PER_PEER of them that have
 * waited LISTENER_PEER_STALE_MS (its oldest goes when it opens another), and
 * when all LISTENER_PENDING_MAX are taken (many addresses) the oldest pending
 * connection goes, never the new one: a client that sends its head promptly
 * always gets through, however many half-sent heads others hold. A burst of
 * fresh connections from one address (a load test, an office behind one NAT
 * address) is not a slowloris: its heads arrive within milliseconds, so it
 * may exceed the per-peer count until they are stale, bounded by the total. */
#define LISTENER_PENDING_PER_PEER 64
#define LISTENER_PEER_STALE_MS 1000
#define LISTENER_TOO_LARGE_MESSAGE "request header fields too large (limit 16384 bytes)"

struct listener {
    uv_loop_t *loop;
    listener_head_fn on_head;
    void *ctx;
    uv_tcp_t tcp;
    bool closed;
    bool unbound;   /* no socket of its own (HTTPS: the TLS terminator feeds it) */
    size_t pending; /* allocated, live or closing */
    size_t live;    /* still reading their head: the list below */
    struct pending *oldest, *newest;
};

/* A peer's address without its port (TLS-fed sockets: the address the
 * terminator accepted, not the socketpair's); unknown is never counted per peer. */
struct listener_peer {
    int family; /* AF_INET, AF_INET6 or 0: unknown */
    unsigned char addr[16];
};

/* One connection whose request head is still arriving. */
struct pending {
    struct listener *listener;
    uv_tcp_t tcp;
    uv_timer_t timer;
    int handles_open;
    bool linked; /* in the listener's list of live pending connections */
    struct pending *older, *newer;
    struct listener_peer peer;
    uint64_t since_ms; /* uv_now when accepted */
    size_t len;
    /* LISTENER_HEAD_MAX bytes, freed when the connection leaves the list (not
     * when libuv's close callbacks run, a loop turn later), so the memory
     * bound holds within an accept burst that evicts many. */
    char *head;
};

static void pending_handle_closed(uv_handle_t *h)
{
    struct pending *p = h->data;
    if (--p->handles_open == 0) {
        p->listener->pending--;
        free(p);
    }
}

static void pending_unlink(struct pending *p)
{
    struct listener *l = p->listener;
    if (!p->linked)
        return;
    if (p->older)
        p->older->newer = p->newer;
    else
        l->oldest = p->newer;
    if (p->newer)
        p->newer->older = p->older;
    else
        l->newest = p->older;
    p->linked = false;
    p->older = p->newer = NULL;
    l->live--;
}

static void pending_link(struct pending *p)
{
    struct listener *l = p->listener;
    p->older = l->newest;
    p->newer = NULL;
    if (l->newest)
        l->newest->newer = p;
    else
        l->oldest = p;
    l->newest = p;
    p->linked = true;
    l->live++;
}

static void pending_drop(struct pending *p)
{
    pending_unlink(p);
    free(p->head);
    p->head = NULL;
    uv_read_stop((uv_stream_t *)&p->tcp);
    uv_close((uv_handle_t *)&p->timer, pending_handle_closed);
    uv_close((uv_handle_t *)&p->tcp, pending_handle_closed);
}

/* End of the head: the first blank line. */
static const char *head_end(const char *buf, size_t len)
{
    return memmem(buf, len, "\r\n\r\n", 4);
}

/* Answer a request lws must not see with a Status, then hang up. Best
 * effort: the socket is fresh, so a few hundred bytes fit its send buffer. */
void listener_write_status(int fd, int code, const char *phrase, const char *reason,
                           const char *message)
{
    char response[HTTP1_STATUS_RESPONSE_MAX];
    long n = http1_status_response(code, phrase, reason, message, response, sizeof(response));
    if (n > 0 && write(fd, response, (size_t)n) < 0)
        errno = 0;
}

static void pending_refuse(struct pending *p, int code, const char *phrase, const char *reason,
                           const char *message)
{
    uv_read_stop((uv_stream_t *)&p->tcp);
    uv_os_fd_t fd;
    if (uv_fileno((uv_handle_t *)&p->tcp, &fd) == 0)
        listener_write_status(fd, code, phrase, reason, message);
    pending_drop(p);
}

static void pending_adopt(struct pending *p)
{
    uv_os_fd_t fd;
    if (uv_fileno((uv_handle_t *)&p->tcp, &fd) != 0) {
        pending_drop(p);
        return;
    }
    /* The front door takes ownership of its own descriptor; the uv handle
     * closes ours. Close-on-exec: a plain dup() handed every client's
     * socket to every process spawned later. */
    int dupfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (dupfd < 0) { /* out of descriptors: say so rather than hang up in silence */
        pending_refuse(p, 503, "Service Unavailable", "ServiceUnavailable",
                       "podterm: too many open files, try again later");
        return;
    }
    char peer[LISTENER_PEER_MAX] = "";
    if (p->peer.family)
        inet_ntop(p->peer.family, p->peer.addr, peer, sizeof(peer));
    struct listener *l = p->listener;
    l->on_head(l->ctx, dupfd, p->head, p->len, peer);
    pending_drop(p);
}

static void pending_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct pending *p = h->data;
    buf->base = p->head + p->len;
    buf->len = LISTENER_HEAD_MAX - p->len;
}

static void pending_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct pending *p = s->data;
    if (nread < 0) {
        pending_drop(p);
        return;
    }
    p->len += nread;
    const char *end = head_end(p->head, p->len);
    if (end && !head_target_valid(p->head, (size_t)(end + 4 - p->head))) {
        pending_refuse(p, 400, "Bad Request", "BadRequest",
                       "the request path has an invalid %-escape or an encoded NUL");
        return;
    }
    if (end && !head_method_known(p->head, (size_t)(end + 4 - p->head))) {
        pending_refuse(p, 405, "Method Not Allowed", "MethodNotAllowed",
                       "the server does not allow this method on the requested resource");
        return;
    }
    if (end) {
        pending_adopt(p);
        return;
    }
    if (p->len == LISTENER_HEAD_MAX) {
        pending_refuse(p, 431, "Request Header Fields Too Large", "RequestHeaderFieldsTooLarge",
                       LISTENER_TOO_LARGE_MESSAGE);
    }
}

static void pending_timeout(uv_timer_t *t)
{
    pending_drop(t->data);
}

static bool listener_peer_same(const struct listener_peer *a, const struct listener_peer *b);

/* Bytes of q's head wait in its socket, unread: the loop was busy (an accept
 * burst that spawns a process per head can take over a second per turn),
 * not the client slow, so q is not stale. (In one turn the listening socket
 * may be served before q's own read; a slowloris's one waiting byte buys
 * it a turn at most.) */
static bool pending_has_input(const struct pending *q)
{
    uv_os_fd_t fd;
    char c;
    return uv_fileno((const uv_handle_t *)&q->tcp, &fd) == 0 &&
           recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
}

/* p has waited LISTENER_PEER_STALE_MS for its head: its peer's stale pending
 * connections beyond LISTENER_PENDING_PER_PEER go now, oldest first (a burst
 * that arrived fresh is held to the bound from here on). Then p keeps
 * waiting, up to LISTENER_HEAD_TIMEOUT_MS in all. */
static void pending_stale(uv_timer_t *t)
{
    struct pending *p = t->data;
    struct listener *l = p->listener;
    size_t same = 0;
    for (struct pending *q = l->oldest; q && p->peer.family; q = q->newer)
        same += listener_peer_same(&q->peer, &p->peer);
    uint64_t now = uv_now(l->loop);
    for (struct pending *q = l->oldest, *next; q && same > LISTENER_PENDING_PER_PEER; q = next) {
        next = q->newer;
        if (!listener_peer_same(&q->peer, &p->peer))
            continue;
        if (now - q->since_ms < LISTENER_PEER_STALE_MS)
            break; /* the rest are fresher still */
        if (pending_has_input(q))
            continue;
        pending_drop(q);
        same--;
    }
    if (p->linked)
        uv_timer_start(&p->timer, pending_timeout,
                       LISTENER_HEAD_TIMEOUT_MS - LISTENER_PEER_STALE_MS, 0);
}

static void listener_closed_free(uv_handle_t *h)
{
    free(h->data);
}

static void listener_peer_set(struct listener_peer *peer, const struct sockaddr *sa)
{
    memset(peer, 0, sizeof(*peer));
    if (sa && sa->sa_family == AF_INET) {
        peer->family = AF_INET;
        memcpy(peer->addr, &((const struct sockaddr_in *)sa)->sin_addr, 4);
    } else if (sa && sa->sa_family == AF_INET6) {
        peer->family = AF_INET6;
        memcpy(peer->addr, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
    }
}

static bool listener_peer_same(const struct listener_peer *a, const struct listener_peer *b)
{
    return a->family && a->family == b->family && memcmp(a->addr, b->addr, sizeof(a->addr)) == 0;
}

/* Make room for p (not linked yet): the oldest of its peer's pending
 * connections when that peer is at its bound and that one is stale, else the
 * oldest of all when every slot is taken. Linear in LISTENER_PENDING_MAX,
 * once per connection. */
static void listener_pending_evict(struct listener *l, const struct pending *p)
{
    struct pending *peer_oldest = NULL;
    size_t same = 0;
    for (struct pending *q = l->oldest; q && p->peer.family; q = q->newer) {
        if (listener_peer_same(&q->peer, &p->peer) && same++ == 0)
            peer_oldest = q;
    }
    if (same >= LISTENER_PENDING_PER_PEER &&
        p->since_ms - peer_oldest->since_ms >= LISTENER_PEER_STALE_MS &&
        !pending_has_input(peer_oldest))
        pending_drop(peer_oldest);
    else if (l->live >= LISTENER_PENDING_MAX)
        pending_drop(l->oldest);
}

/* Start pre-reading a connection: accepted from our socket, or (fd >= 0)
 * the decrypted side of a TLS connection from the client at peer. */
static void listener_pending_start(struct listener *l, uv_stream_t *server_stream, int fd,
                                   const struct sockaddr *peer)
{
    struct pending *p = malloc(sizeof(*p));
    char *head = p ? malloc(LISTENER_HEAD_MAX) : NULL;
    if (p && !head) {
        free(p);
        p = NULL;
    }
    if (!p && fd >= 0) {
        close(fd);
        return;
    }
    if (!p) {
        /* Accept and drop, so the kernel backlog does not fill with the flood. */
        uv_tcp_t *drop = malloc(sizeof(*drop));
        if (drop) {
            uv_tcp_init(l->loop, drop);
            drop->data = drop;
            uv_accept(server_stream, (uv_stream_t *)drop);
            uv_close((uv_handle_t *)drop, listener_closed_free);
        }
        return;
    }
    l->pending++;
    p->listener = l;
    p->linked = false;
    p->older = p->newer = NULL;
    p->len = 0;
    p->head = head;
    p->handles_open = 2;
    uv_tcp_init(l->loop, &p->tcp);
    uv_timer_init(l->loop, &p->timer);
    p->tcp.data = p;
    p->timer.data = p;
    if (fd >= 0 ? uv_tcp_open(&p->tcp, fd) != 0
                : uv_accept(server_stream, (uv_stream_t *)&p->tcp) != 0) {
        if (fd >= 0)
            close(fd);
        pending_drop(p);
        return;
    }
    struct sockaddr_storage ss;
    int ss_len = sizeof(ss);
    if (fd < 0 && uv_tcp_getpeername(&p->tcp, (struct sockaddr *)&ss, &ss_len) == 0)
        peer = (const struct sockaddr *)&ss;
    listener_peer_set(&p->peer, peer);
    p->since_ms = uv_now(l->loop);
    listener_pending_evict(l, p);
    pending_link(p);
    /* Keystrokes and echoes are tiny writes: never let Nagle hold them back. */
    uv_tcp_nodelay(&p->tcp, 1);
    uv_timer_start(&p->timer, pending_stale, LISTENER_PEER_STALE_MS, 0);
    uv_read_start((uv_stream_t *)&p->tcp, pending_alloc, pending_read);
}

static void listener_on_connection(uv_stream_t *server_stream, int status)
{
    struct listener *l = server_stream->data;
    if (status < 0)
        return;
    listener_pending_start(l, server_stream, -1, NULL);
}

void listener_adopt_fd(void *listener, int fd, const struct sockaddr *peer)
{
    struct listener *l = listener;
    if (l->closed) {
        close(fd);
        return;
    }
    listener_pending_start(l, NULL, fd, peer);
}

struct listener *listener_new_unbound(uv_loop_t *loop, listener_head_fn on_head, void *ctx)
{
    struct listener *l = calloc(1, sizeof(*l));
    if (l) {
        l->loop = loop;
        l->on_head = on_head;
        l->ctx = ctx;
        l->unbound = true;
    }
    return l;
}

struct listener *listener_new(uv_loop_t *loop, const char *host, int port, listener_head_fn on_head,
                              void *ctx, int *bound_port, char *err, size_t err_cap)
{
    struct listener *l = calloc(1, sizeof(*l));
    if (!l) {
        snprintf(err, err_cap, "out of memory");
        return NULL;
    }
    l->loop = loop;
    l->on_head = on_head;
    l->ctx = ctx;
    struct sockaddr_in addr;
    int rc = uv_ip4_addr(host, port, &addr);
    if (rc == 0) {
        uv_tcp_init(loop, &l->tcp);
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
        if (!l->unbound)
            uv_close((uv_handle_t *)&l->tcp, NULL);
    }
}

void listener_drop_pending(struct listener *l)
{
    while (l && l->oldest)
        pending_drop(l->oldest);
}

void listener_free(struct listener *l)
{
    free(l);
}
