/* kube_internal.h - the state of one upstream exec/attach stream, shared by
 * the files that carry it: kube_backend.c (the backend.h side, buffers,
 * WebSocket frames) and kube_spdy.c (the same stream over SPDY/3.1, for an
 * API server that refuses WebSocket upgrades). Not for use elsewhere. */
#ifndef PODTERM_KUBE_INTERNAL_H
#define PODTERM_KUBE_INTERNAL_H

#include "backend/kube/kube_backend.h"
#include "http/http1.h"

struct spdy_conn;

struct kube_backend {
    struct backend base;
    uv_loop_t *loop;
    uint64_t ping_interval_ms; /* 0: no pings, no stall verdict */
    size_t streams;
    bool freed;        /* backend_free came while streams were still closing */
    size_t heap_freed; /* bytes quiet streams gave back since the heap was last trimmed */
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
    /* KUBE_WIRE_SPDY_*: the upstream's SPDY connection (kube_spdy.c) instead
     * of WebSocket frames; its streams by channel (PROTO_CH_*, 0: none). */
    struct spdy_conn *spdy;
    uint32_t sid[5];
    bool spdy_ended[5];
    int channel; /* current upstream message's channel, -1 before its first byte */
    uint8_t *rx; /* KUBE_RX_MAX bytes while undecoded bytes wait; NULL when idle */
    size_t rx_len;
    bool rx_full;
    bool rx_eof; /* SPDY: the upstream shut its side; rx is decoded before the end */

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
    uint64_t ping_ms;    /* when the last ping was queued (0: none yet) */
    uint64_t last_io_ms; /* the last byte read or written upstream (stream_on_quiet) */

    uv_timer_t kick, ping, quiet;
    int handles_open;
    bool kick_read[3], kick_write, kick_exit, kick_pump;
};

/* kube_backend.c, for kube_spdy.c */
/* The upstream is done (err: why, NULL for a clean end): the exit follows
 * once the output was read. */
void stream_end(struct kube_stream *s, const char *err);
/* Write what waits for the upstream, and poll for what is wanted. */
void stream_flush(struct kube_stream *s);
/* Run the deferred callbacks on the next turn of the loop. */
void stream_schedule(struct kube_stream *s);
/* Upstream output for channel 1 or 2, appended to its buffer (the caller
 * made sure it fits): the session is told. */
void stream_output(struct kube_stream *s, int ch, const uint8_t *data, size_t len);
/* Channel 3's bytes, the Status, kept for the exit. */
void stream_status(struct kube_stream *s, const uint8_t *data, size_t len);

/* kube_spdy.c, for kube_backend.c */
/* The client side: the streams the request needs opened (SYN_STREAMs
 * queued). -1: out of memory. */
int kube_spdy_open(struct kube_stream *s);
/* Feed what waits in rx while the output buffers can take a whole read. */
void kube_spdy_decode(struct kube_stream *s);
/* Queue stdin (channel 0), a resize (4), stdin's end (255) or a ping (-1).
 * The bytes taken, or 0 when the codec's buffer is full (the writer waits). */
size_t kube_spdy_queue(struct kube_stream *s, int channel, const uint8_t *data, size_t len);
/* Write the codec's output to the socket: 0, or -1 (the socket failed). */
int kube_spdy_flush(struct kube_stream *s);
bool kube_spdy_pending(const struct kube_stream *s);
void kube_spdy_free(struct kube_stream *s);

#endif
