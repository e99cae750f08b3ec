/* kube_spdy.c - an upstream exec/attach stream over SPDY/3.1: the client
 * side of what session_spdy.c serves, for an API server (or a proxy in
 * front of one) that refuses WebSocket upgrades. gateway.c falls back to it
 * as kubectl does: a WebSocket attempt first, then SPDY.
 *
 * The stream is kube_backend.c's in every other way (the session's side,
 * the per-channel output buffers, the exit): only the wire differs. Like
 * client-go, it opens one stream per channel the request needs, each named
 * by its `streamtype` header (error first), writes stdin and resize JSON on
 * theirs, ends stdin with a half-close, and reads stdout, stderr and the
 * Status (error stream) until each has ended.
 *
 * Back-pressure: the codec takes every byte it is fed, so rx is fed only
 * while both output buffers can take a whole read (KUBE_RX_MAX); otherwise
 * the bytes wait in rx, rx fills, and the socket is not read, as with
 * WebSocket frames. Stdin goes into the codec's bounded output buffer and
 * waits (the writer is told -EAGAIN) while the socket does not take it. */
#include "backend/kube/kube_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/proto.h"
#include "spdy/spdy_conn.h"

#define KUBE_SPDY_RESIZE_MAX 64 /* {"Width":65535,"Height":65535}\n */

static const char *const kube_spdy_types[5] = {
    [PROTO_CH_STDIN] = "stdin", [PROTO_CH_STDOUT] = "stdout", [PROTO_CH_STDERR] = "stderr",
    [PROTO_CH_ERROR] = "error", [PROTO_CH_RESIZE] = "resize",
};

static int kube_spdy_channel(const struct kube_stream *s, uint32_t id)
{
    for (int ch = 0; id && ch < 5; ch++)
        if (s->sid[ch] == id)
            return ch;
    return -1;
}

/* Error, stdout and stderr (those opened) all ended: the upstream is done. */
static void kube_spdy_check_done(struct kube_stream *s)
{
    static const int reads[] = {PROTO_CH_STDOUT, PROTO_CH_STDERR, PROTO_CH_ERROR};
    for (size_t i = 0; i < sizeof(reads) / sizeof(reads[0]); i++)
        if (s->sid[reads[i]] && !s->spdy_ended[reads[i]])
            return;
    s->got_close = true; /* a clean end, as a WebSocket Close */
    stream_end(s, NULL);
}

static void kube_spdy_event(void *user, const struct spdy_event *ev)
{
    struct kube_stream *s = user;
    int ch = kube_spdy_channel(s, ev->stream_id);
    switch (ev->type) {
    case SPDY_EV_DATA:
        if (ch == PROTO_CH_STDOUT || ch == PROTO_CH_STDERR)
            stream_output(s, ch, ev->data, ev->len);
        else if (ch == PROTO_CH_ERROR)
            stream_status(s, ev->data, ev->len);
        spdy_conn_consume(s->spdy, ev->stream_id, ev->len);
        break;
    case SPDY_EV_FIN:
    case SPDY_EV_RESET:
        if (ch >= 0 && !s->spdy_ended[ch]) {
            s->spdy_ended[ch] = true;
            kube_spdy_check_done(s);
        }
        break;
    case SPDY_EV_ERROR:
        stream_end(s, "the API server broke the SPDY protocol");
        break;
    default:
        /* Replies carry nothing we need; pings are answered by the codec;
         * a GOAWAY is followed by the end of our streams or the socket. */
        break;
    }
}

int kube_spdy_open(struct kube_stream *s)
{
    struct spdy_conn_config cfg = {.role = SPDY_ROLE_CLIENT, .flow = SPDY_FLOW_ADVISORY};
    s->spdy = spdy_conn_new(&cfg, kube_spdy_event, s);
    if (!s->spdy)
        return -1;
    const struct kube_stream_desc *d = &s->desc;
    bool want[5] = {
        [PROTO_CH_ERROR] = true,
        [PROTO_CH_STDIN] = d->want_stdin,
        [PROTO_CH_STDOUT] = d->want_stdout,
        [PROTO_CH_STDERR] = d->want_stderr && !d->tty,
        [PROTO_CH_RESIZE] = d->tty && s->wire == KUBE_WIRE_SPDY_V4,
    };
    /* client-go's order: error, stdin, stdout, stderr, resize. */
    static const int order[] = {PROTO_CH_ERROR, PROTO_CH_STDIN, PROTO_CH_STDOUT, PROTO_CH_STDERR,
                                PROTO_CH_RESIZE};
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        int ch = order[i];
        if (!want[ch])
            continue;
        const char *t = kube_spdy_types[ch];
        struct spdy_nv nv = {"streamtype", strlen("streamtype"), t, strlen(t)};
        int id = spdy_conn_open_stream(s->spdy, &nv, 1, 0);
        if (id < 0) {
            spdy_conn_free(s->spdy);
            s->spdy = NULL;
            return -1;
        }
        s->sid[ch] = (uint32_t)id;
    }
    return 0;
}

void kube_spdy_decode(struct kube_stream *s)
{
    if (s->upstream_done)
        return;
    if (s->rx_len) {
        /* A whole rx fits both output buffers, or nothing is fed yet. */
        for (int ch = 1; ch <= 2; ch++)
            if (KUBE_OUT_MAX - (s->out_len[ch] - s->out_off[ch]) < s->rx_len)
                return;
        size_t n = s->rx_len;
        s->rx_len = 0;
        if (spdy_conn_feed(s->spdy, s->rx, n) < 0) {
            stream_end(s, "the API server broke the SPDY protocol");
            return;
        }
        if (s->upstream_done)
            return;      /* every stream ended */
        stream_flush(s); /* window updates, ping replies */
    }
    if (s->rx_eof && !s->rx_len && !s->upstream_done)
        stream_end(s, "the API server closed the connection");
}

size_t kube_spdy_queue(struct kube_stream *s, int channel, const uint8_t *data, size_t len)
{
    if (channel < 0) { /* a ping: liveness, as the WebSocket's */
        spdy_conn_ping(s->spdy);
        return len;
    }
    if (channel == 255) { /* stdin's end */
        if (s->sid[PROTO_CH_STDIN] && !s->spdy_ended[PROTO_CH_STDIN]) {
            s->spdy_ended[PROTO_CH_STDIN] = true;
            spdy_conn_send_data(s->spdy, s->sid[PROTO_CH_STDIN], NULL, 0, true);
        }
        return len;
    }
    uint32_t id = channel == PROTO_CH_STDIN || channel == PROTO_CH_RESIZE ? s->sid[channel] : 0;
    if (!id)
        return len; /* a channel this request has not: dropped, as upstream would */
    if (channel == PROTO_CH_RESIZE) {
        /* client-go's encoder: one object and a newline; all or nothing. */
        char json[KUBE_SPDY_RESIZE_MAX];
        if (len + 1 > sizeof(json) || spdy_conn_send_window(s->spdy, id) < len + 1)
            return 0;
        memcpy(json, data, len);
        json[len] = '\n';
        spdy_conn_send_data(s->spdy, id, (const uint8_t *)json, len + 1, false);
        return len;
    }
    int n = spdy_conn_send_data(s->spdy, id, data, len, false);
    return n > 0 ? (size_t)n : n == 0 ? 0 : len; /* a reset stream: nobody reads it */
}

int kube_spdy_flush(struct kube_stream *s)
{
    const uint8_t *p;
    size_t len;
    while ((len = spdy_conn_out(s->spdy, &p)) > 0) {
        ssize_t n = tls_sock_write(s->sock, p, len);
        if (n == -EAGAIN)
            return 0;
        if (n < 0)
            return -1;
        spdy_conn_out_consume(s->spdy, (size_t)n);
    }
    return 0;
}

bool kube_spdy_pending(const struct kube_stream *s)
{
    const uint8_t *p;
    return s->spdy && spdy_conn_out(s->spdy, &p) > 0;
}

void kube_spdy_free(struct kube_stream *s)
{
    spdy_conn_free(s->spdy);
    s->spdy = NULL;
}
