/* kube_backend.h - the gateway's backend: exec/attach streams that are
 * WebSockets to a real API server. gateway.c opens the upstream WebSocket
 * before the client's upgrade is answered (so upstream errors reach the
 * client unchanged), wraps it in a stream here, and the session picks it up
 * through backend_exec_request.prepared. */
#ifndef PODTERM_GATEWAY_KUBE_BACKEND_H
#define PODTERM_GATEWAY_KUBE_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "backend/backend.h"
#include "net/tls_sock.h"

#define KUBE_OUT_MAX (32 * 1024) /* upstream output waiting per channel (1, 2) */
#define KUBE_TX_MAX (64 * 1024)  /* frames waiting to go upstream */
#define KUBE_RX_MAX (16 * 1024)  /* upstream bytes read but not yet decoded */
#define KUBE_QUIET_MS 1000       /* a stream this long without I/O gives its buffers back */
#define KUBE_HEAP_TRIM_BYTES (1024 * 1024) /* given back by quiet streams: the heap is trimmed */
#define KUBE_STATUS_BUF_MAX (16 * 1024)    /* the channel 3 Status */

/* What the upstream API server picked (PROTOCOL.md 2.2). */
enum kube_wire {
    KUBE_WIRE_V5,      /* v5.channel.k8s.io: Status JSON, close signal */
    KUBE_WIRE_V4,      /* v4.channel.k8s.io: Status JSON */
    KUBE_WIRE_CHANNEL, /* channel.k8s.io or "": status text on failure only */
    /* SPDY/3.1, for an API server that refuses WebSocket upgrades (gateway.c
     * falls back to it as kubectl does; kube_spdy.c): */
    KUBE_WIRE_SPDY_V4,   /* v4.channel.k8s.io: Status JSON, stdin's half-close */
    KUBE_WIRE_SPDY_TEXT, /* v3, v2, channel.k8s.io: status text on failure only */
};

/* The request as the client made it, for the session (flags decide the
 * initial frame, which channels exist and how exit messages read). */
struct kube_stream_desc {
    char ns[254], pod[254], container[254]; /* container "" when the client named none */
    char **argv;                            /* NULL-terminated copies; NULL for attach */
    size_t argc;
    bool attach;
    bool want_stdin, want_stdout, want_stderr, tty;
};

/* ping_interval_ms (--ping-interval): each stream pings its API server this
 * often (keeping proxies and load balancers in between from cutting an idle
 * session) and ends when nothing at all came back for an interval after a
 * ping; 0: neither. */
struct backend *kube_backend_new(uv_loop_t *loop, uint64_t ping_interval_ms);
size_t kube_backend_stream_count(const struct backend *backend);

/* Wrap a 101'd upstream WebSocket. Takes sock, desc (its argv) and copies
 * the extra bytes that followed the 101 head. NULL on out of memory (sock
 * is closed). */
struct backend_stream *kube_stream_new(struct backend *backend, struct tls_sock *sock,
                                       enum kube_wire wire, struct kube_stream_desc *desc,
                                       const uint8_t *extra, size_t extra_len);
const struct kube_stream_desc *kube_stream_desc(const struct backend_stream *stream);
/* The bytes of receive, send and output buffers the stream holds now (0 once
 * it has been quiet for KUBE_QUIET_MS and everything was delivered). */
size_t kube_stream_buffered(const struct backend_stream *stream);

/* Parse an upstream channel-3 payload into an exit (pure; for tests). */
void kube_status_parse(enum kube_wire wire, const char *payload, size_t len, bool attach,
                       struct backend_exit *exit);

#endif
