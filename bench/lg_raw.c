/* lg_raw.c - a minimal RFC 6455 client on epoll: non-blocking connect, the
 * upgrade request, the 101 check (status, Sec-WebSocket-Accept, subprotocol),
 * then frames parsed straight out of one shared read buffer. Payload bytes are
 * never copied before they reach lg_conn_chunk, so the client costs one read()
 * and one CRC pass per buffer - the cheapest way to watch the server. */
#include "lg.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <strings.h>
#include <sys/socket.h>

#define RAW_HEAD_MAX 4096 /* the server's 101 response head */
#define RAW_EVENTS 512    /* epoll events per wait */
#define RAW_READS_MAX 8   /* reads of one socket per wakeup (fairness) */
#define RAW_KEY "dGhlIHNhbXBsZSBub25jZQ=="

struct raw_conn {
    int fd;
    uint32_t events;
    bool handshaken;
    char head[RAW_HEAD_MAX + 1];
    size_t head_len;
    uint8_t hdr[14]; /* frame header being collected */
    size_t hdr_len;
    uint64_t left;  /* payload bytes left in the current frame */
    uint8_t opcode; /* of the current frame */
    bool fin;
    bool msg_text;  /* opcode of the message the continuation frames belong to */
    bool msg_first; /* next data chunk starts a message */
    uint8_t ctrl[128];
    size_t ctrl_len;
    uint8_t *out; /* queued outgoing bytes */
    size_t out_len, out_off, out_cap;
};

struct raw_engine {
    int ep;
    uint8_t *rbuf;
};

static void raw_watch(struct lg_conn *c, uint32_t events)
{
    struct raw_conn *r = c->eng;
    struct raw_engine *e = c->lg->eng_data;
    if (r->fd < 0 || r->events == events)
        return;
    struct epoll_event ev = {.events = events, .data.ptr = c};
    epoll_ctl(e->ep, EPOLL_CTL_MOD, r->fd, &ev);
    r->events = events;
}

static void raw_update(struct lg_conn *c)
{
    struct raw_conn *r = c->eng;
    uint32_t ev = c->paused ? 0 : EPOLLIN;
    if (r->out_len > r->out_off)
        ev |= EPOLLOUT;
    raw_watch(c, ev);
}

static void raw_finish(struct lg_conn *c, int code)
{
    struct raw_conn *r = c->eng;
    struct raw_engine *e = c->lg->eng_data;
    if (r->fd >= 0) {
        epoll_ctl(e->ep, EPOLL_CTL_DEL, r->fd, NULL);
        close(r->fd);
        r->fd = -1;
    }
    free(r->out);
    r->out = NULL;
    r->out_len = r->out_off = r->out_cap = 0;
    lg_conn_closed(c, code);
}

static void raw_flush(struct lg_conn *c)
{
    struct raw_conn *r = c->eng;
    while (r->fd >= 0 && r->out_off < r->out_len) {
        ssize_t n = send(r->fd, r->out + r->out_off, r->out_len - r->out_off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n <= 0) {
            lg_conn_fail(c, "send: %s", strerror(errno));
            raw_finish(c, 1006);
            return;
        }
        r->out_off += (size_t)n;
    }
    if (r->out_off == r->out_len)
        r->out_off = r->out_len = 0;
    if (r->fd >= 0)
        raw_update(c);
}

static int raw_queue(struct lg_conn *c, const void *data, size_t len)
{
    struct raw_conn *r = c->eng;
    if (r->out_len + len > r->out_cap) {
        size_t cap = r->out_cap ? r->out_cap : 1024;
        while (cap < r->out_len + len)
            cap *= 2;
        if (cap > 4 * LG_SEND_MAX)
            return -1;
        uint8_t *p = realloc(r->out, cap);
        if (!p)
            return -1;
        r->out = p;
        r->out_cap = cap;
    }
    memcpy(r->out + r->out_len, data, len);
    r->out_len += len;
    return 0;
}

/* A masked client frame (RFC 6455 5.3: every client frame is masked). */
static int raw_frame(struct lg_conn *c, uint8_t opcode, const uint8_t *data, size_t len)
{
    struct raw_conn *r = c->eng;
    uint8_t hdr[14];
    size_t h = 0;
    hdr[h++] = (uint8_t)(0x80 | opcode);
    if (len < 126) {
        hdr[h++] = (uint8_t)(0x80 | len);
    } else if (len < 65536) {
        hdr[h++] = 0x80 | 126;
        hdr[h++] = (uint8_t)(len >> 8);
        hdr[h++] = (uint8_t)len;
    } else {
        hdr[h++] = 0x80 | 127;
        for (int i = 7; i >= 0; i--)
            hdr[h++] = (uint8_t)((uint64_t)len >> (8 * i));
    }
    uint32_t key = (uint32_t)random() | 1u;
    uint8_t mask[4];
    memcpy(mask, &key, 4);
    memcpy(hdr + h, mask, 4);
    h += 4;
    if (raw_queue(c, hdr, h) < 0 || raw_queue(c, data, len) < 0)
        return -1;
    uint8_t *p = r->out + r->out_len - len;
    for (size_t i = 0; i < len; i++)
        p[i] ^= mask[i & 3];
    raw_flush(c);
    return 0;
}

static int raw_send(struct lg_conn *c, bool is_text, const uint8_t *data, size_t len)
{
    struct raw_conn *r = c->eng;
    if (r->fd < 0 || !r->handshaken)
        return -1;
    return raw_frame(c, is_text ? 1 : 2, data, len);
}

static int raw_connect(struct lg_conn *c)
{
    struct lg *lg = c->lg;
    struct raw_engine *e = lg->eng_data;
    struct raw_conn *r = c->eng;
    if (!r && !(r = c->eng = calloc(1, sizeof(*r))))
        return -1;
    memset(r, 0, sizeof(*r));
    r->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (r->fd < 0) {
        lg_conn_fail(c, "socket: %s", strerror(errno));
        return -1;
    }
    int one = 1;
    setsockopt(r->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)lg->port)};
    inet_pton(AF_INET, lg->host, &sa.sin_addr);
    if (connect(r->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS) {
        lg_conn_fail(c, "connect: %s", strerror(errno));
        close(r->fd);
        r->fd = -1;
        return -1;
    }
    char req[LG_PATH_MAX + 512];
    int n = snprintf(req, sizeof(req),
                     "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: " RAW_KEY "\r\n"
                     "Sec-WebSocket-Version: 13\r\n%s%s%s\r\n",
                     lg->path, lg->host, lg->port, lg->proto ? "Sec-WebSocket-Protocol: " : "",
                     lg->proto ? lg->proto : "", lg->proto ? "\r\n" : "");
    raw_queue(c, req, (size_t)n);
    c->state = LG_CONNECTING;
    c->t_start = now_sec();
    r->msg_first = true;
    struct epoll_event ev = {.events = EPOLLOUT | EPOLLIN, .data.ptr = c};
    r->events = ev.events;
    epoll_ctl(e->ep, EPOLL_CTL_ADD, r->fd, &ev);
    return 0;
}

static int header_value(const char *head, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    for (const char *p = strstr(head, "\r\n"); p; p = strstr(p + 2, "\r\n")) {
        if (strncasecmp(p + 2, name, nl) == 0 && p[2 + nl] == ':') {
            const char *v = p + 3 + nl;
            while (*v == ' ')
                v++;
            size_t len = strcspn(v, "\r");
            if (len >= cap)
                return -1;
            memcpy(out, v, len);
            out[len] = '\0';
            return 0;
        }
    }
    return -1;
}

/* Collect the 101 head; returns the bytes of buf it used, or -1 on failure. */
static ssize_t raw_handshake(struct lg_conn *c, const uint8_t *buf, size_t len)
{
    struct raw_conn *r = c->eng;
    size_t take = len < RAW_HEAD_MAX - r->head_len ? len : RAW_HEAD_MAX - r->head_len;
    memcpy(r->head + r->head_len, buf, take);
    size_t old = r->head_len;
    r->head_len += take;
    r->head[r->head_len] = '\0';
    char *end = strstr(r->head, "\r\n\r\n");
    if (!end) {
        if (r->head_len == RAW_HEAD_MAX)
            lg_conn_fail(c, "response head too large");
        return r->head_len == RAW_HEAD_MAX ? -1 : (ssize_t)take;
    }
    size_t used = (size_t)(end + 4 - r->head) - old;
    end[2] = '\0';
    if (strncmp(r->head, "HTTP/1.1 101", 12) != 0) {
        lg_conn_fail(c, "no upgrade: %.80s", r->head);
        return -1;
    }
    char val[256], want[29];
    lg_ws_accept(RAW_KEY, want);
    if (header_value(r->head, "Sec-WebSocket-Accept", val, sizeof(val)) < 0 ||
        strcmp(val, want) != 0) {
        lg_conn_fail(c, "bad Sec-WebSocket-Accept");
        return -1;
    }
    const char *proto = c->lg->proto;
    bool has = header_value(r->head, "Sec-WebSocket-Protocol", val, sizeof(val)) == 0;
    if (proto ? !has || strcmp(val, proto) != 0 : has) {
        lg_conn_fail(c, "subprotocol %s, asked %s", has ? val : "(none)", proto ? proto : "none");
        return -1;
    }
    r->handshaken = true;
    lg_conn_opened(c);
    return (ssize_t)used;
}

static void raw_control(struct lg_conn *c)
{
    struct raw_conn *r = c->eng;
    if (r->opcode == 9) {
        raw_frame(c, 10, r->ctrl, r->ctrl_len);
    } else if (r->opcode == 8) {
        int code = r->ctrl_len >= 2 ? (r->ctrl[0] << 8 | r->ctrl[1]) : 1005;
        uint8_t reply[2] = {r->ctrl_len >= 2 ? r->ctrl[0] : 0x03,
                            r->ctrl_len >= 2 ? r->ctrl[1] : 0xe8};
        raw_frame(c, 8, reply, 2);
        raw_finish(c, code);
    }
}

/* Parse frames out of buf. Returns false once the connection is finished. */
static bool raw_frames(struct lg_conn *c, const uint8_t *buf, size_t len)
{
    struct raw_conn *r = c->eng;
    while (len > 0 && r->fd >= 0) {
        if (r->left == 0 && r->hdr_len < 2) {
            r->hdr[r->hdr_len++] = *buf++;
            len--;
            continue;
        }
        if (r->left == 0) {
            size_t need = 2;
            uint8_t l7 = r->hdr[1] & 0x7f;
            if (r->hdr[1] & 0x80) {
                lg_conn_fail(c, "masked server frame");
                raw_finish(c, 1002);
                return false;
            }
            need += l7 == 126 ? 2 : l7 == 127 ? 8 : 0;
            while (r->hdr_len < need && len > 0) {
                r->hdr[r->hdr_len++] = *buf++;
                len--;
            }
            if (r->hdr_len < need)
                return true;
            uint64_t plen = l7;
            if (l7 == 126)
                plen = (uint64_t)r->hdr[2] << 8 | r->hdr[3];
            else if (l7 == 127)
                for (int i = 0; i < 8; i++)
                    plen = (i ? plen << 8 : 0) | r->hdr[2 + i];
            r->opcode = r->hdr[0] & 0x0f;
            r->fin = r->hdr[0] & 0x80;
            r->hdr_len = 0;
            r->ctrl_len = 0;
            if (r->opcode & 8) {
                if (plen > 125) {
                    lg_conn_fail(c, "control frame too long");
                    raw_finish(c, 1002);
                    return false;
                }
            } else if (r->opcode != 0) {
                r->msg_text = r->opcode == 1;
                r->msg_first = true;
            }
            r->left = plen;
            if (plen == 0) {
                if (r->opcode & 8)
                    raw_control(c);
                else {
                    lg_conn_chunk(c, r->msg_first, r->fin, r->msg_text, buf, 0);
                    r->msg_first = r->fin;
                }
                continue;
            }
            /* Mark "inside a payload" even for 0-length reads below. */
        }
        size_t n = len < r->left ? len : (size_t)r->left;
        if (r->opcode & 8) {
            memcpy(r->ctrl + r->ctrl_len, buf, n);
            r->ctrl_len += n;
        } else {
            bool final = r->fin && n == r->left;
            lg_conn_chunk(c, r->msg_first, final, r->msg_text, buf, n);
            r->msg_first = final;
        }
        r->left -= n;
        buf += n;
        len -= n;
        if (r->left == 0 && (r->opcode & 8))
            raw_control(c);
    }
    return r->fd >= 0;
}

static void raw_readable(struct lg_conn *c)
{
    struct raw_conn *r = c->eng;
    struct raw_engine *e = c->lg->eng_data;
    for (int i = 0; i < RAW_READS_MAX && r->fd >= 0 && !c->paused; i++) {
        ssize_t n = recv(r->fd, e->rbuf, LG_READ_BUF, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n <= 0) {
            if (n < 0 || !r->handshaken)
                lg_conn_fail(c, "connection %s before close", n < 0 ? strerror(errno) : "ended");
            raw_finish(c, 1006);
            return;
        }
        const uint8_t *p = e->rbuf;
        size_t len = (size_t)n;
        if (!r->handshaken) {
            ssize_t used = raw_handshake(c, p, len);
            if (used < 0) {
                raw_finish(c, 1006);
                return;
            }
            p += used;
            len -= (size_t)used;
        }
        if (r->handshaken && !raw_frames(c, p, len))
            return;
        if ((size_t)n < LG_READ_BUF)
            return;
    }
}

static void raw_pause(struct lg_conn *c, bool paused)
{
    c->paused = paused;
    if (c->eng && ((struct raw_conn *)c->eng)->fd >= 0)
        raw_update(c);
}

static void raw_close(struct lg_conn *c)
{
    struct raw_conn *r = c->eng;
    if (!r || r->fd < 0)
        return;
    if (r->handshaken) {
        uint8_t code[2] = {0x03, 0xe8};
        raw_frame(c, 8, code, 2);
    }
    raw_finish(c, 1000);
}

static void raw_service(struct lg *lg, int timeout_ms)
{
    struct raw_engine *e = lg->eng_data;
    struct epoll_event evs[RAW_EVENTS];
    int n = epoll_wait(e->ep, evs, RAW_EVENTS, timeout_ms);
    for (int i = 0; i < n; i++) {
        struct lg_conn *c = evs[i].data.ptr;
        struct raw_conn *r = c->eng;
        if (r->fd < 0)
            continue;
        if (evs[i].events & (EPOLLOUT | EPOLLERR))
            raw_flush(c);
        if (r->fd >= 0 && (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
            raw_readable(c);
    }
}

static int raw_init(struct lg *lg)
{
    struct raw_engine *e = calloc(1, sizeof(*e));
    if (!e || (e->ep = epoll_create1(EPOLL_CLOEXEC)) < 0 || !(e->rbuf = malloc(LG_READ_BUF)))
        return -1;
    lg->eng_data = e;
    return 0;
}

static void raw_fini(struct lg *lg)
{
    struct raw_engine *e = lg->eng_data;
    for (size_t i = 0; i < lg->nconns; i++) {
        struct raw_conn *r = lg->conns[i].eng;
        if (r && r->fd >= 0)
            close(r->fd);
        if (r)
            free(r->out);
        free(r);
        lg->conns[i].eng = NULL;
    }
    close(e->ep);
    free(e->rbuf);
    free(e);
}

const struct lg_engine_ops lg_engine_raw = {
    .name = "raw",
    .init = raw_init,
    .connect = raw_connect,
    .send = raw_send,
    .pause = raw_pause,
    .close = raw_close,
    .service = raw_service,
    .fini = raw_fini,
};
