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
#include "backend/kube/kube_internal.h"

#include <errno.h>
#include <jansson.h>
#include <malloc.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/http1.h"

#define KUBE_TX_RESERVE 512 /* tx room kept for control, resize and close frames */
#define KUBE_LOST "error: the connection to the API server was lost"
#define KUBE_OOM_MESSAGE "podterm: out of memory"

static void stream_pump(struct kube_stream *s);
static void stream_io(struct kube_stream *s);

/* ---- upstream frames out ---- */

static uint32_t stream_mask(void)
{
    uint32_t m = 0;
    RAND_bytes((unsigned char *)&m, sizeof(m));
    return m;
}

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
    if (s->spdy) { /* pongs and closes are the codec's own business */
        if (op == WSF_BINARY || op == WSF_PING) {
            if (kube_spdy_queue(s, op == WSF_PING ? -1 : prefix, data, len) < len)
                return -1;
            stream_flush(s);
        }
        return 0;
    }
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

void stream_end(struct kube_stream *s, const char *err)
{
    if (s->upstream_done)
        return;
    s->upstream_done = true;
    if (err && !s->upstream_err[0])
        snprintf(s->upstream_err, sizeof(s->upstream_err), KUBE_LOST ": %s", err);
    uv_timer_stop(&s->ping);
    uv_timer_stop(&s->quiet);
    /* Release the upstream fd now; the session may take a while to drain. */
    tls_sock_close(s->sock);
    s->sock = NULL;
    for (int ch = 1; ch <= 2; ch++)
        s->kick_read[ch] = s->want[ch]; /* readers see 0 (end) now */
    s->kick_exit = true;
    stream_schedule(s);
}

void stream_flush(struct kube_stream *s)
{
    if (s->spdy && !s->upstream_done && kube_spdy_flush(s) < 0) {
        stream_end(s, tls_sock_error(s->sock));
        return;
    }
    bool wrote = false;
    while (!s->upstream_done && s->tx_off < s->tx_len) {
        ssize_t n = tls_sock_write(s->sock, s->tx + s->tx_off, s->tx_len - s->tx_off);
        if (n == -EAGAIN)
            break;
        if (n < 0) {
            stream_end(s, tls_sock_error(s->sock));
            return;
        }
        s->tx_off += (size_t)n;
        wrote = true;
    }
    if (wrote)
        stream_io(s);
    if (s->tx_off == s->tx_len) {
        s->tx_off = s->tx_len = 0;
        if (s->writer_waiting && !kube_spdy_pending(s)) {
            s->writer_waiting = false;
            s->kick_write = true;
            stream_schedule(s);
        }
    }
    if (!s->upstream_done && !s->stopped)
        tls_sock_want(s->sock, !s->rx_full, s->tx_off < s->tx_len || kube_spdy_pending(s));
}

/* ---- upstream frames in ---- */

/* Room for more output on channel ch (1 or 2), after compacting. */
static size_t stream_out_room(struct kube_stream *s, int ch)
{
    if (s->out_off[ch] && s->out_len[ch] == KUBE_OUT_MAX) {
        memmove(s->out[ch], s->out[ch] + s->out_off[ch], s->out_len[ch] - s->out_off[ch]);
        s->out_len[ch] -= s->out_off[ch];
        s->out_off[ch] = 0;
    }
    return KUBE_OUT_MAX - s->out_len[ch] + s->out_off[ch];
}

void stream_output(struct kube_stream *s, int ch, const uint8_t *data, size_t len)
{
    if (!len)
        return;
    if (!s->out[ch] && !(s->out[ch] = malloc(KUBE_OUT_MAX))) {
        if (!s->upstream_err[0])
            snprintf(s->upstream_err, sizeof(s->upstream_err), "%s", KUBE_OOM_MESSAGE);
        stream_end(s, NULL); /* output lost: the exit says why */
        return;
    }
    if (s->out_off[ch] && s->out_len[ch] + len > KUBE_OUT_MAX) {
        memmove(s->out[ch], s->out[ch] + s->out_off[ch], s->out_len[ch] - s->out_off[ch]);
        s->out_len[ch] -= s->out_off[ch];
        s->out_off[ch] = 0;
    }
    memcpy(s->out[ch] + s->out_len[ch], data, len);
    s->out_len[ch] += len;
    if (s->want[ch]) {
        s->kick_read[ch] = true;
        stream_schedule(s);
    }
}

void stream_status(struct kube_stream *s, const uint8_t *data, size_t len)
{
    if (!s->status && !(s->status = calloc(1, KUBE_STATUS_BUF_MAX)))
        return; /* the exit then says the status was lost */
    size_t n = KUBE_STATUS_BUF_MAX - 1 - s->status_len < len
                   ? KUBE_STATUS_BUF_MAX - 1 - s->status_len
                   : len;
    memcpy(s->status + s->status_len, data, n);
    s->status_len += n;
}

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
        size_t n = stream_out_room(s, ch);
        n = n < len ? n : len;
        stream_output(s, ch, data, n);
        return took + n;
    }
    if (ch == 3)
        stream_status(s, data, len);
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
    if (s->spdy) {
        kube_spdy_decode(s);
        return;
    }
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
        if (s->rx_full || s->rx_eof)
            break;
        if (!s->rx && !(s->rx = malloc(KUBE_RX_MAX))) {
            stream_end(s, KUBE_OOM_MESSAGE);
            return;
        }
        ssize_t n = tls_sock_read(s->sock, s->rx + s->rx_len, KUBE_RX_MAX - s->rx_len);
        if (n == -EAGAIN)
            break;
        if (n == 0 && s->spdy) {
            /* A SPDY server shuts its side after GOAWAY: what waits in rx
             * (output the session has not taken yet, the streams' ends) is
             * decoded first, and only a stream still open then was lost. */
            s->rx_eof = true;
            continue;
        }
        if (n <= 0) {
            stream_end(s,
                       n == 0 ? "the API server closed the connection" : tls_sock_error(s->sock));
            return;
        }
        s->rx_len += (size_t)n;
        s->last_rx_ms = uv_now(s->kb->loop);
        stream_io(s);
    }
    tls_sock_want(s->sock, !s->rx_full && !s->rx_eof,
                  s->tx_off < s->tx_len || kube_spdy_pending(s));
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
    if (wire == KUBE_WIRE_CHANNEL || wire == KUBE_WIRE_SPDY_TEXT) {
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

static bool stream_wire_text(enum kube_wire wire)
{
    return wire == KUBE_WIRE_CHANNEL || wire == KUBE_WIRE_SPDY_TEXT;
}

static void stream_exit(struct kube_stream *s)
{
    struct backend_exit exit;
    if (s->status_len) {
        kube_status_parse(s->wire, s->status, s->status_len, s->desc.attach, &exit);
    } else if (s->upstream_err[0] || (!stream_wire_text(s->wire) && !s->got_close)) {
        memset(&exit, 0, sizeof(exit));
        exit.type = BACKEND_EXIT_ERROR;
        snprintf(exit.message, sizeof(exit.message), "%.*s", (int)sizeof(exit.message) - 1,
                 s->upstream_err[0] ? s->upstream_err : KUBE_LOST);
        exit.reason = "upstream-lost";
    } else if (!stream_wire_text(s->wire)) {
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

void stream_schedule(struct kube_stream *s)
{
    if (s->cbs && !s->stopped)
        uv_timer_start(&s->kick, stream_on_kick, 0, 0);
}

/* ---- buffers given back by a quiet stream ---- */

/* A quiet stream holds no receive or send buffer (16 + 64 KiB, and
 * OpenSSL's ~33 KiB of record buffers): given back once it has seen no I/O
 * for KUBE_QUIET_MS, not each time they drain, which while data flows would
 * free and allocate them per read. glibc keeps freed chunks that sit
 * between live ones, so the process's RSS would not shrink: once quiet
 * streams have given back KUBE_HEAP_TRIM_BYTES, the heap's free pages go
 * back to the kernel (at most that much stays held). */
static void stream_buffers_trim(struct kube_stream *s)
{
    struct kube_backend *kb = s->kb;
    if (!s->rx_len && s->rx) {
        free(s->rx);
        s->rx = NULL;
        kb->heap_freed += KUBE_RX_MAX;
    }
    if (s->tx_off == s->tx_len) { /* nothing waits to go upstream */
        if (s->tx) {
            free(s->tx);
            s->tx = NULL;
            s->tx_off = s->tx_len = 0;
            kb->heap_freed += KUBE_TX_MAX;
        }
        if (tls_sock_trim(s->sock))
            kb->heap_freed += TLS_SOCK_BUFFERS_BYTES;
    }
    if (kb->heap_freed >= KUBE_HEAP_TRIM_BYTES) {
        kb->heap_freed = 0;
#ifdef __GLIBC__
        (void)malloc_trim(0);
#endif
    }
}

static void stream_on_quiet(uv_timer_t *t)
{
    struct kube_stream *s = t->data;
    uint64_t quiet = uv_now(s->kb->loop) - s->last_io_ms;
    if (quiet < KUBE_QUIET_MS)
        uv_timer_start(&s->quiet, stream_on_quiet, KUBE_QUIET_MS - quiet, 0);
    else
        stream_buffers_trim(s);
}

/* Bytes moved upstream: the buffers are in use; the quiet check is armed
 * (one timer per KUBE_QUIET_MS while data flows, none once trimmed). */
static void stream_io(struct kube_stream *s)
{
    s->last_io_ms = uv_now(s->kb->loop);
    if (!uv_is_active((uv_handle_t *)&s->quiet))
        uv_timer_start(&s->quiet, stream_on_quiet, KUBE_QUIET_MS, 0);
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
    if (s->spdy) {
        size_t n = kube_spdy_queue(s, 0, buf, len);
        if (n == 0) {
            s->writer_waiting = true;
            return -EAGAIN;
        }
        stream_flush(s);
        return (ssize_t)n;
    }
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
    /* Before v5 there is no way to end stdin short of closing (PROTOCOL.md 3.7);
     * SPDY half-closes the stdin stream. */
    if ((s->wire == KUBE_WIRE_V5 || s->spdy) && !s->upstream_done)
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
        kube_spdy_free(s);
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
    uv_close((uv_handle_t *)&s->quiet, stream_closed);
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
    if ((wire == KUBE_WIRE_SPDY_V4 || wire == KUBE_WIRE_SPDY_TEXT) && kube_spdy_open(s) < 0) {
        for (size_t i = 0; s->desc.argv && s->desc.argv[i]; i++)
            free(s->desc.argv[i]);
        free(s->desc.argv);
        free(s->rx);
        free(s);
        tls_sock_close(sock);
        return NULL;
    }
    if (extra_len)
        memcpy(s->rx, extra, extra_len);
    s->rx_len = extra_len;
    s->last_rx_ms = uv_now(kb->loop);
    uv_timer_init(kb->loop, &s->kick);
    uv_timer_init(kb->loop, &s->ping);
    uv_timer_init(kb->loop, &s->quiet);
    s->kick.data = s->ping.data = s->quiet.data = s;
    s->handles_open = 3;
    kb->streams++;
    tls_sock_set_cb(sock, stream_on_sock, s);
    /* Nothing is read until the session binds (kube_start): output waits in TCP. */
    tls_sock_want(sock, false, false);
    if (kb->ping_interval_ms)
        uv_timer_start(&s->ping, stream_on_ping, kb->ping_interval_ms, kb->ping_interval_ms);
    stream_io(s); /* the handshake's buffers, given back if nothing follows */
    return &s->base;
}

const struct kube_stream_desc *kube_stream_desc(const struct backend_stream *stream)
{
    return &((const struct kube_stream *)stream)->desc;
}

size_t kube_stream_buffered(const struct backend_stream *stream)
{
    const struct kube_stream *s = (const struct kube_stream *)stream;
    return (s->rx ? KUBE_RX_MAX : 0) + (s->tx ? KUBE_TX_MAX : 0) + (s->out[1] ? KUBE_OUT_MAX : 0) +
           (s->out[2] ? KUBE_OUT_MAX : 0);
}
