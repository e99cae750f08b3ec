/* kube_backend.c - exec/attach streams over an upstream API server WebSocket
 * (see kube_backend.h), in the backend.h model: per-channel output the
 * session pulls, stdin with backpressure, resize, close signal, exit.
 *
 * Bounded both ways. Upstream -> client: bytes are decoded into a fixed
 * buffer per output channel; when the one a message targets is full the
 * decoder stops, undecoded bytes wait in rx, and once rx is full the upstream
 * socket is not read, so TCP pushes back on the API server. Client ->
 * upstream: stdin is framed into a fixed tx buffer; when it is full write
 * says -EAGAIN and the session stops reading the client.
 *
 * Faults: EOF, reset or a TLS error ends the stream with an error exit (a
 * Status on channel 3 for the client, end reason "upstream-lost"); so does
 * an upstream that sends nothing, not even the pong, for a whole ping
 * interval (--ping-interval) after a ping while we were reading. */
#include "backend/kube/kube_backend.h"

#include <errno.h>
#include <jansson.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/http1.h"

#define KUBE_TX_RESERVE 512 /* tx room kept for control, resize and close frames */
#define KUBE_LOST "error: the connection to the API server was lost"
#define KUBE_OOM_MESSAGE "podterm: out of memory"

struct kube_backend {
    struct backend base;
    uv_loop_t *loop;
    uint64_t ping_interval_ms; /* 0: no pings, no stall verdict */
    size_t streams;
    bool freed; /* backend_free came while streams were still closing */
};

struct kube_stream {
    struct backend_stream base;
    struct kube_backend *kb;
    struct tls_sock *sock;
    enum kube_wire wire;
    struct kube_stream_desc desc;
    const struct backend_stream_cbs *cbs;
    void *user;

    struct wsf_decoder dec;
    int channel; /* current upstream message's channel, -1 before its first byte */
    uint8_t *rx; /* KUBE_RX_MAX bytes while undecoded bytes wait; NULL when idle */
    size_t rx_len;
    bool rx_full;

    uint8_t *out[3];
    size_t out_off[3], out_len[3];
    bool want[3];

    char *status; /* KUBE_STATUS_BUF_MAX bytes once channel 3 speaks (at the end) */
    size_t status_len;

    uint8_t *tx; /* KUBE_TX_MAX bytes while frames wait (see stream_buffers_trim) */
    size_t tx_off, tx_len;
    bool writer_waiting;
    bool stdin_closed;

    bool upstream_done;
    bool got_close;
    char upstream_err[TLS_SOCK_ERR_MAX + 64];
    bool exited_sent, stopped;
    uint64_t last_rx_ms;
    uint64_t ping_ms; /* when the last ping was queued (0: none yet) */

    uv_timer_t kick, ping;
    int handles_open;
    bool kick_read[3], kick_write, kick_exit, kick_pump;
};

static void stream_pump(struct kube_stream *s);
static void stream_flush(struct kube_stream *s);
static void stream_schedule(struct kube_stream *s);

/* ---- upstream frames out ---- */

static uint32_t stream_mask(void)
{
    uint32_t m = 0;
    RAND_bytes((unsigned char *)&m, sizeof(m));
    return m;
}

static void stream_end(struct kube_stream *s, const char *err);

static uint8_t *stream_tx_room(struct kube_stream *s, size_t need)
{
    if (!s->tx && !(s->tx = malloc(KUBE_TX_MAX))) {
        /* Dropping the frame would lose stdin (or its close, and the
         * process would wait for it forever) without a word: end the
         * stream instead, whose exit says why. */
        if (!s->upstream_err[0])
            snprintf(s->upstream_err, sizeof(s->upstream_err), "%s", KUBE_OOM_MESSAGE);
        stream_end(s, NULL);
        return NULL;
    }
    if (s->tx_off && s->tx_len + need > KUBE_TX_MAX) {
        memmove(s->tx, s->tx + s->tx_off, s->tx_len - s->tx_off);
        s->tx_len -= s->tx_off;
        s->tx_off = 0;
    }
    return s->tx_len + need <= KUBE_TX_MAX ? s->tx + s->tx_len : NULL;
}

/* Queue one frame: prefix byte (channel; -1 for none) then data. */
static int stream_queue(struct kube_stream *s, enum wsf_opcode op, int prefix, const uint8_t *data,
                        size_t len)
{
    size_t plen = len + (prefix >= 0 ? 1 : 0);
    uint8_t *p = stream_tx_room(s, WSF_HEAD_MAX + plen);
    if (!p)
        return -1;
    uint32_t mask = stream_mask();
    size_t h = wsf_head(op, plen, mask, p);
    uint8_t *payload = p + h;
    if (prefix >= 0)
        *payload++ = (uint8_t)prefix;
    if (len) /* a ping has no data: memcpy from NULL is undefined even for 0 bytes */
        memcpy(payload, data, len);
    wsf_mask(p + h, plen, mask, 0);
    s->tx_len += h + plen;
    stream_flush(s);
    return 0;
}

static void stream_end(struct kube_stream *s, const char *err)
{
    if (s->upstream_done)
        return;
    s->upstream_done = true;
    if (err && !s->upstream_err[0])
        snprintf(s->upstream_err, sizeof(s->upstream_err), KUBE_LOST ": %s", err);
    uv_timer_stop(&s->ping);
    /* Release the upstream fd now; the session may take a while to drain. */
    tls_sock_close(s->sock);
    s->sock = NULL;
    for (int ch = 1; ch <= 2; ch++)
        s->kick_read[ch] = s->want[ch]; /* readers see 0 (end) now */
    s->kick_exit = true;
    stream_schedule(s);
}

static void stream_flush(struct kube_stream *s)
{
    while (!s->upstream_done && s->tx_off < s->tx_len) {
        ssize_t n = tls_sock_write(s->sock, s->tx + s->tx_off, s->tx_len - s->tx_off);
        if (n == -EAGAIN)
            break;
        if (n < 0) {
            stream_end(s, tls_sock_error(s->sock));
            return;
        }
        s->tx_off += (size_t)n;
    }
    if (s->tx_off == s->tx_len) {
        s->tx_off = s->tx_len = 0;
        if (s->writer_waiting) {
            s->writer_waiting = false;
            s->kick_write = true;
            stream_schedule(s);
        }
    }
    if (!s->upstream_done && !s->stopped)
        tls_sock_want(s->sock, !s->rx_full, s->tx_off < s->tx_len);
}

/* ---- upstream frames in ---- */

static size_t stream_on_data(struct kube_stream *s, const struct wsf_event *ev)
{
    size_t took = 0;
    if (ev->first)
        s->channel = -1;
    if (s->channel < 0 && ev->len > 0) {
        s->channel = ev->data[0];
        took = 1;
    }
    const uint8_t *data = ev->data + took;
    size_t len = ev->len - took;
    int ch = s->channel;
    if (ch == 1 || ch == 2) {
        if (!s->out[ch] && len && !(s->out[ch] = malloc(KUBE_OUT_MAX)))
            return took;
        if (s->out_off[ch] && s->out_len[ch] + len > KUBE_OUT_MAX) {
            memmove(s->out[ch], s->out[ch] + s->out_off[ch], s->out_len[ch] - s->out_off[ch]);
            s->out_len[ch] -= s->out_off[ch];
            s->out_off[ch] = 0;
        }
        size_t n = KUBE_OUT_MAX - s->out_len[ch] < len ? KUBE_OUT_MAX - s->out_len[ch] : len;
        if (n) {
            memcpy(s->out[ch] + s->out_len[ch], data, n);
            s->out_len[ch] += n;
            if (s->want[ch]) {
                s->kick_read[ch] = true;
                stream_schedule(s);
            }
        }
        return took + n;
    }
    if (ch == 3) {
        if (!s->status && !(s->status = calloc(1, KUBE_STATUS_BUF_MAX)))
            return ev->len; /* the exit then says the status was lost */
        size_t n = KUBE_STATUS_BUF_MAX - 1 - s->status_len < len
                       ? KUBE_STATUS_BUF_MAX - 1 - s->status_len
                       : len;
        memcpy(s->status + s->status_len, data, n);
        s->status_len += n;
    }
    return ev->len; /* other channels: dropped (PROTOCOL.md 3.1) */
}

static size_t stream_on_frame(void *user, const struct wsf_event *ev)
{
    struct kube_stream *s = user;
    switch (ev->type) {
    case WSF_EV_DATA:
        return stream_on_data(s, ev);
    case WSF_EV_PING:
        stream_queue(s, WSF_PONG, -1, ev->data, ev->len);
        return ev->len;
    case WSF_EV_CLOSE:
        s->got_close = true;
        return ev->len;
    default:
        return ev->len;
    }
}

static void stream_decode(struct kube_stream *s)
{
    if (!s->rx_len || s->dec.closed)
        return;
    long n = wsf_decoder_feed(&s->dec, s->rx, s->rx_len, stream_on_frame, s);
    if (n < 0) {
        stream_end(s, "the API server broke the WebSocket protocol");
        return;
    }
    memmove(s->rx, s->rx + n, s->rx_len - (size_t)n);
    s->rx_len -= (size_t)n;
    if (s->dec.closed && !s->upstream_done) {
        /* Upstream closes right after the status (PROTOCOL.md 3.9): answer and end. */
        stream_queue(s, WSF_CLOSE, -1, (const uint8_t *)"\x03\xe8", 2);
        stream_end(s, NULL);
    }
}

static void stream_pump(struct kube_stream *s)
{
    for (;;) {
        stream_decode(s);
        if (s->upstream_done)
            return;
        s->rx_full = s->rx_len == KUBE_RX_MAX;
        if (s->rx_full)
            break;
        if (!s->rx && !(s->rx = malloc(KUBE_RX_MAX))) {
            stream_end(s, KUBE_OOM_MESSAGE);
            return;
        }
        ssize_t n = tls_sock_read(s->sock, s->rx + s->rx_len, KUBE_RX_MAX - s->rx_len);
        if (n == -EAGAIN)
            break;
        if (n <= 0) {
            stream_end(s,
                       n == 0 ? "the API server closed the connection" : tls_sock_error(s->sock));
            return;
        }
        s->rx_len += (size_t)n;
        s->last_rx_ms = uv_now(s->kb->loop);
    }
    tls_sock_want(s->sock, !s->rx_full, s->tx_off < s->tx_len);
}

static void stream_on_sock(void *user, int events)
{
    struct kube_stream *s = user;
    if (events & TLS_SOCK_ERROR) {
        stream_end(s, tls_sock_error(s->sock));
        return;
    }
    if (events & TLS_SOCK_WRITABLE)
        stream_flush(s);
    if (events & TLS_SOCK_READABLE)
        stream_pump(s);
}

/* ---- exit ---- */

static int status_exit_code(json_t *root)
{
    json_t *causes = json_object_get(json_object_get(root, "details"), "causes");
    size_t i;
    json_t *c;
    json_array_foreach(causes, i, c)
    {
        const char *reason = json_string_value(json_object_get(c, "reason"));
        const char *msg = json_string_value(json_object_get(c, "message"));
        if (reason && msg && strcmp(reason, "ExitCode") == 0) {
            char *end;
            long n = strtol(msg, &end, 10);
            if (!*end && n >= 0 && n <= 255)
                return (int)n;
        }
    }
    return -1;
}

/* N from a pre-v4 failure text ending "exit code N" (the kubelet's words),
 * 1-255; -1 otherwise. The payload is not NUL-terminated: strtol could read
 * past it. */
static int status_text_exit_code(const char *payload, size_t len)
{
    const char *ec = NULL, *end = payload + len;
    for (const char *p = payload; (p = memmem(p, (size_t)(end - p), "exit code ", 10)); p += 10)
        ec = p + 10;
    if (!ec || ec == end || end - ec > 3)
        return -1;
    int n = 0;
    for (const char *d = ec; d < end; d++) {
        if (*d < '0' || *d > '9')
            return -1;
        n = n * 10 + (*d - '0');
    }
    return n >= 1 && n <= 255 ? n : -1;
}

void kube_status_parse(enum kube_wire wire, const char *payload, size_t len, bool attach,
                       struct backend_exit *exit)
{
    memset(exit, 0, sizeof(*exit));
    exit->type = BACKEND_EXIT_CODE;
    if (wire == KUBE_WIRE_CHANNEL) {
        /* Pre-v4: failure text only; the kubelet's exit message ends "exit code N". */
        if (len == 0)
            return;
        int n = status_text_exit_code(payload, len);
        if (n > 0) {
            exit->code = n;
            return;
        }
        exit->type = BACKEND_EXIT_ERROR;
        snprintf(exit->message, sizeof(exit->message), "%.*s", (int)len, payload);
        return;
    }
    json_t *root = json_loadb(payload, len, 0, NULL);
    const char *status = json_string_value(json_object_get(root, "status"));
    const char *reason = json_string_value(json_object_get(root, "reason"));
    const char *message = json_string_value(json_object_get(root, "message"));
    int code = root ? status_exit_code(root) : -1;
    if (status && strcmp(status, "Success") == 0) {
        exit->code = 0;
    } else if (reason && strcmp(reason, "NonZeroExitCode") == 0 && code > 0 && !attach) {
        exit->code = code;
    } else {
        static const char prefix[] = "Internal error occurred: ";
        const char *m = message ? message : "the API server reported a failure";
        if (strncmp(m, prefix, sizeof(prefix) - 1) == 0)
            m += sizeof(prefix) - 1; /* the client side adds it back */
        exit->type = BACKEND_EXIT_ERROR;
        snprintf(exit->message, sizeof(exit->message), "%s", m);
    }
    json_decref(root);
}

static void stream_exit(struct kube_stream *s)
{
    struct backend_exit exit;
    if (s->status_len) {
        kube_status_parse(s->wire, s->status, s->status_len, s->desc.attach, &exit);
    } else if (s->upstream_err[0] || (s->wire != KUBE_WIRE_CHANNEL && !s->got_close)) {
        memset(&exit, 0, sizeof(exit));
        exit.type = BACKEND_EXIT_ERROR;
        snprintf(exit.message, sizeof(exit.message), "%.*s", (int)sizeof(exit.message) - 1,
                 s->upstream_err[0] ? s->upstream_err : KUBE_LOST);
        exit.reason = "upstream-lost";
    } else if (s->wire != KUBE_WIRE_CHANNEL) {
        memset(&exit, 0, sizeof(exit));
        exit.type = BACKEND_EXIT_ERROR;
        snprintf(exit.message, sizeof(exit.message),
                 "the API server ended the stream without "
                 "a status");
    } else {
        kube_status_parse(s->wire, "", 0, s->desc.attach, &exit); /* pre-v4 success */
    }
    s->exited_sent = true;
    s->cbs->exited(s->user, &exit);
}

/* ---- deferred callbacks: never call the session from inside its own call ---- */

static bool stream_out_empty(const struct kube_stream *s)
{
    return s->out_len[1] == s->out_off[1] && s->out_len[2] == s->out_off[2];
}

static void stream_on_kick(uv_timer_t *t)
{
    struct kube_stream *s = t->data;
    if (s->stopped || !s->cbs)
        return;
    if (s->kick_pump) {
        s->kick_pump = false;
        stream_pump(s);
    }
    for (int ch = 1; ch <= 2 && !s->stopped; ch++)
        if (s->kick_read[ch]) {
            s->kick_read[ch] = false;
            if (s->want[ch])
                s->cbs->readable(s->user, ch);
        }
    if (s->kick_write && !s->stopped) {
        s->kick_write = false;
        s->cbs->writable(s->user);
    }
    if (s->kick_exit && !s->stopped && !s->exited_sent && s->upstream_done && stream_out_empty(s)) {
        s->kick_exit = false;
        stream_exit(s);
    }
}

static void stream_schedule(struct kube_stream *s)
{
    if (s->cbs && !s->stopped)
        uv_timer_start(&s->kick, stream_on_kick, 0, 0);
}

/* An idle stream holds no receive or send buffer (16 + 64 KiB): given back
 * once per ping interval (after the ping went out) when empty, rather than
 * each time they drain, which while data flows would free and allocate them
 * per read. */
static void stream_buffers_trim(struct kube_stream *s)
{
    if (!s->rx_len) {
        free(s->rx);
        s->rx = NULL;
    }
    if (s->tx_off == s->tx_len) {
        free(s->tx);
        s->tx = NULL;
        s->tx_off = s->tx_len = 0;
        tls_sock_trim(s->sock);
    }
}

static void stream_on_ping(uv_timer_t *t)
{
    struct kube_stream *s = t->data;
    if (s->upstream_done)
        return;
    uint64_t now = uv_now(s->kb->loop);
    if (s->rx_full || s->tx_off < s->tx_len)
        s->last_rx_ms = now; /* we are the ones not reading, or TCP is pushing back */
    else if (s->ping_ms && s->last_rx_ms < s->ping_ms) {
        /* Nothing since the last ping, not even its pong: judged against
         * the ping's own time, not the timer's, whose jitter can exceed
         * a pong's round trip. */
        stream_end(s, "the API server stopped responding");
        return;
    }
    s->ping_ms = now;
    stream_queue(s, WSF_PING, -1, NULL, 0); /* written at once unless TCP pushes back */
    stream_buffers_trim(s);
}

/* ---- backend ops ---- */

static int kube_start(struct backend *backend, const struct backend_exec_request *req,
                      const struct backend_stream_cbs *cbs, void *user, struct backend_stream **out,
                      char *err, size_t err_cap)
{
    struct kube_stream *s = (struct kube_stream *)req->prepared;
    if (!s) {
        snprintf(err, err_cap, "gateway: no upstream stream was prepared for this request");
        return -EINVAL;
    }
    s->cbs = cbs;
    s->user = user;
    *out = &s->base;
    s->kick_pump = true;
    s->kick_exit = s->upstream_done;
    stream_schedule(s);
    return 0;
}

static ssize_t kube_read(struct backend_stream *stream, int channel, uint8_t *buf, size_t cap)
{
    struct kube_stream *s = (struct kube_stream *)stream;
    if (channel != 1 && channel != 2)
        return 0;
    size_t avail = s->out_len[channel] - s->out_off[channel];
    if (!avail) {
        if (s->upstream_done) {
            s->kick_exit = true;
            stream_schedule(s);
            return 0;
        }
        return -EAGAIN;
    }
    size_t n = avail < cap ? avail : cap;
    memcpy(buf, s->out[channel] + s->out_off[channel], n);
    s->out_off[channel] += n;
    if (s->out_off[channel] == s->out_len[channel]) {
        s->out_off[channel] = s->out_len[channel] = 0;
        free(s->out[channel]); /* idle streams hold no output buffer */
        s->out[channel] = NULL;
    }
    if (!s->upstream_done && (s->rx_full || s->rx_len)) {
        s->kick_pump = true; /* room again: decode what waits, read upstream again */
        stream_schedule(s);
    }
    return (ssize_t)n;
}

static void kube_want_read(struct backend_stream *stream, int channel, bool on)
{
    struct kube_stream *s = (struct kube_stream *)stream;
    if (channel != 1 && channel != 2)
        return;
    s->want[channel] = on;
    if (on && (s->out_len[channel] > s->out_off[channel] || s->upstream_done)) {
        s->kick_read[channel] = true;
        stream_schedule(s);
    }
}

static ssize_t kube_write(struct backend_stream *stream, const uint8_t *buf, size_t len)
{
    struct kube_stream *s = (struct kube_stream *)stream;
    if (s->stdin_closed || s->upstream_done)
        return -EPIPE;
    if (!stream_tx_room(s, 0))
        return -EPIPE; /* out of memory: the stream has ended */
    size_t used = s->tx_len - s->tx_off;
    size_t room = KUBE_TX_MAX - KUBE_TX_RESERVE - WSF_HEAD_MAX - 1;
    room = used < room ? room - used : 0;
    size_t n = len < room ? len : room;
    if (n == 0 || stream_queue(s, WSF_BINARY, 0, buf, n) < 0) {
        s->writer_waiting = true;
        return -EAGAIN;
    }
    return (ssize_t)n;
}

static void kube_close_stdin(struct backend_stream *stream)
{
    struct kube_stream *s = (struct kube_stream *)stream;
    if (s->stdin_closed)
        return;
    s->stdin_closed = true;
    /* Before v5 there is no way to end stdin short of closing (PROTOCOL.md 3.7). */
    if (s->wire == KUBE_WIRE_V5 && !s->upstream_done)
        stream_queue(s, WSF_BINARY, 255, (const uint8_t *)"\0", 1);
}

static void kube_resize(struct backend_stream *stream, uint16_t width, uint16_t height)
{
    struct kube_stream *s = (struct kube_stream *)stream;
    char json[64];
    int n = snprintf(json, sizeof(json), "{\"Width\":%u,\"Height\":%u}", width, height);
    if (!s->upstream_done && s->desc.tty)
        stream_queue(s, WSF_BINARY, 4, (const uint8_t *)json, (size_t)n);
}

static void stream_closed(uv_handle_t *h)
{
    struct kube_stream *s = h->data;
    if (--s->handles_open == 0) {
        for (int ch = 1; ch <= 2; ch++)
            free(s->out[ch]);
        free(s->tx);
        free(s->rx);
        free(s->status);
        for (size_t i = 0; s->desc.argv && s->desc.argv[i]; i++)
            free(s->desc.argv[i]);
        free(s->desc.argv);
        struct kube_backend *kb = s->kb;
        free(s);
        /* Shutdown frees the backend right after stopping the sessions; their
         * timers close on a later loop turn, so the last one frees it. */
        if (--kb->streams == 0 && kb->freed)
            free(kb);
    }
}

static void kube_stop(struct backend_stream *stream)
{
    struct kube_stream *s = (struct kube_stream *)stream;
    if (s->stopped)
        return;
    s->stopped = true;
    /* The client is gone: closing the upstream socket ends the exec there too.
     * Before the upstream's end, with a reset: an API server not reading our
     * stdin (the process is not) would not see a FIN queued behind it. */
    if (s->sock && !s->upstream_done)
        tls_sock_abort(s->sock);
    else if (s->sock)
        tls_sock_close(s->sock);
    s->sock = NULL;
    uv_close((uv_handle_t *)&s->kick, stream_closed);
    uv_close((uv_handle_t *)&s->ping, stream_closed);
}

static void kube_backend_free(struct backend *backend)
{
    struct kube_backend *kb = (struct kube_backend *)backend;
    if (kb->streams)
        kb->freed = true;
    else
        free(kb);
}

static const struct backend_ops kube_ops = {
    .start = kube_start,
    .read = kube_read,
    .want_read = kube_want_read,
    .write = kube_write,
    .close_stdin = kube_close_stdin,
    .resize = kube_resize,
    .stop = kube_stop,
    .free = kube_backend_free,
};

struct backend *kube_backend_new(uv_loop_t *loop, uint64_t ping_interval_ms)
{
    struct kube_backend *kb = calloc(1, sizeof(*kb));
    if (!kb)
        return NULL;
    kb->base.ops = &kube_ops;
    kb->loop = loop;
    kb->ping_interval_ms = ping_interval_ms;
    return &kb->base;
}

size_t kube_backend_stream_count(const struct backend *backend)
{
    return ((const struct kube_backend *)backend)->streams;
}

struct backend_stream *kube_stream_new(struct backend *backend, struct tls_sock *sock,
                                       enum kube_wire wire, struct kube_stream_desc *desc,
                                       const uint8_t *extra, size_t extra_len)
{
    struct kube_backend *kb = (struct kube_backend *)backend;
    struct kube_stream *s = calloc(1, sizeof(*s));
    if (s && extra_len && (extra_len > KUBE_RX_MAX || !(s->rx = malloc(KUBE_RX_MAX)))) {
        free(s);
        s = NULL;
    }
    if (!s) {
        tls_sock_close(sock);
        return NULL;
    }
    s->base.ops = &kube_ops;
    s->kb = kb;
    s->sock = sock;
    s->wire = wire;
    s->desc = *desc;
    desc->argv = NULL; /* ours now */
    s->channel = -1;
    wsf_decoder_init(&s->dec);
    if (extra_len)
        memcpy(s->rx, extra, extra_len);
    s->rx_len = extra_len;
    s->last_rx_ms = uv_now(kb->loop);
    uv_timer_init(kb->loop, &s->kick);
    uv_timer_init(kb->loop, &s->ping);
    s->kick.data = s->ping.data = s;
    s->handles_open = 2;
    kb->streams++;
    tls_sock_set_cb(sock, stream_on_sock, s);
    /* Nothing is read until the session binds (kube_start): output waits in TCP. */
    tls_sock_want(sock, false, false);
    if (kb->ping_interval_ms)
        uv_timer_start(&s->ping, stream_on_ping, kb->ping_interval_ms, kb->ping_interval_ms);
    return &s->base;
}

const struct kube_stream_desc *kube_stream_desc(const struct backend_stream *stream)
{
    return &((const struct kube_stream *)stream)->desc;
}
