/* spdy_conn.h - one SPDY/3.1 connection, sans-I/O, server or client role.
 *
 * Why: kubectl 1.27-1.29 (and 1.30+ when its WebSocket upgrade is refused)
 * and every program on client-go's remotecommand.NewSPDYExecutor run exec,
 * attach and cp over SPDY/3.1. What they and the kubelet do (client-go
 * tools/remotecommand, the kubelet's cri/streaming/remotecommand, both on
 * apimachinery's httpstream/spdy and moby/spdystream; checked with kubectl
 * 1.27, 1.28, 1.29 and 1.32 in tests/interop/test_spdy_codec.py):
 *  - Upgrade: `POST` with `Connection: Upgrade`, `Upgrade: SPDY/3.1` and one
 *    `X-Stream-Protocol-Version` line per offer (v4.channel.k8s.io,
 *    v3.channel.k8s.io, v2.channel.k8s.io, channel.k8s.io; 1.29+ put
 *    v5.channel.k8s.io first, v4 under a new name over SPDY: see
 *    spdy_upgrade.h). The 101 repeats `Upgrade: SPDY/3.1` and names the choice in
 *    `X-Stream-Protocol-Version`; frames follow at once, no SETTINGS.
 *  - Streams: the client opens error, then stdin, stdout, stderr (not with a
 *    tty) and resize (tty, v3+) as it was asked to, ids 1, 3, 5, ..., each a
 *    SYN_STREAM whose only header is `streamtype`. It waits for each one's
 *    SYN_REPLY (apimachinery replies at once, no headers). The kubelet waits
 *    up to 30 s for all the streams the query asked for, counting replies
 *    sent, and fails with "timed out waiting for client to create streams".
 *  - Data: stdin and resize flow to the server (resize: a stream of JSON
 *    objects {"Width":W,"Height":H}), stdout, stderr and error to the
 *    client. A DATA frame with FIN and no payload is a half-close: stdin's
 *    EOF (v2+).
 *  - End: the Status goes on the error stream (v4: metav1.Status JSON, with
 *    an ExitCode cause for a non-zero exit; v1-v3: its message as text, on
 *    failure only), then the server closes its streams and the connection.
 *    kubectl returns once error, stdout and stderr have all ended (FIN or
 *    the connection's close).
 *  - kubectl pings every 5 s (odd ids); replies are owed, and sent here.
 *
 * Shape (as nghttp2/spdylay): the caller feeds received bytes in
 * (spdy_conn_feed), learns about streams through one event callback, calls
 * spdy_conn_open_stream/reply/send_data/reset/... which append frames to the
 * connection's output buffer, and drains that buffer to its socket
 * (spdy_conn_out/spdy_conn_out_consume). No sockets, no clock, no globals;
 * spdy_conn_new allocates the connection once (and zlib its two contexts).
 * Send calls may be made from inside the event callback; feed may not.
 *
 * Supported: every SPDY/3.1 frame (SYN_STREAM, SYN_REPLY, RST_STREAM,
 * SETTINGS, PING, GOAWAY, HEADERS, WINDOW_UPDATE, DATA), header compression
 * with the spec's dictionary, stream id rules, half-close, per-stream and
 * connection windows, unknown control frames ignored. Not supported: server
 * push (SYN_STREAM with an associated stream is refused), CREDENTIAL (an
 * unknown type, ignored), SETTINGS other than INITIAL_WINDOW_SIZE (ignored),
 * priorities (read, not acted on).
 *
 * Flow control. SPDY/3.1 gives every stream and the connection a 64 KiB
 * window. But moby/spdystream, which both kubectl and kube-apiserver use,
 * implements none of it: it never sends WINDOW_UPDATE, ignores ours, and
 * writes as fast as TCP takes it. Hence two modes:
 *  - SPDY_FLOW_ADVISORY (the default, for Kubernetes peers): the peer's
 *    windows are not enforced on what we send (a spdystream peer would never
 *    open them again), nor ours on what it sends (it does not know them);
 *    back-pressure is the caller's: it stops feeding (and reading the socket)
 *    while it cannot take data. WINDOW_UPDATEs are still sent as the caller
 *    consumes, so a peer that keeps windows is never starved.
 *  - SPDY_FLOW_STRICT (SPDY/3.1 to the letter): spdy_conn_send_window says
 *    how much may be sent, and is 0 at an exhausted window; a peer that sends
 *    beyond ours gets RST_STREAM FLOW_CONTROL_ERROR (stream) or GOAWAY
 *    (connection).
 * In both modes a WINDOW_UPDATE that would take a window past 2^31-1 is an
 * error (RST_STREAM FLOW_CONTROL_ERROR, or for the connection window GOAWAY
 * PROTOCOL_ERROR), and a delta of 0 is a protocol error.
 *
 * Errors. A stream error resets that stream (RST_STREAM, and a
 * SPDY_EV_RESET event with local set); a connection error (broken header
 * compression, bad lengths, wrong version, ...) queues GOAWAY with the last
 * stream id accepted, reports SPDY_EV_ERROR with a reason once, and every
 * later feed or send returns SPDY_ERR_CLOSED: the caller drains the output
 * and closes the socket.
 *
 * Bounds: SPDY_STREAMS_MAX open streams (more: RST REFUSED_STREAM),
 * SPDY_OUT_MAX bytes of pending output (data sends stop SPDY_OUT_RESERVE
 * short of it so that control replies always fit; replies that still do not
 * fit mean the peer does not read: SPDY_ERR_FLOOD), plus spdy_frame.h's
 * SPDY_CONTROL_MAX and spdy_headers.h's block bounds. Per connection: 195 KiB
 * for the struct, about 40 KiB of inflate state and, once a header block is
 * sent, about 22 KiB of deflate state.
 */
#ifndef PODTERM_SPDY_CONN_H
#define PODTERM_SPDY_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "spdy/spdy_frame.h"
#include "spdy/spdy_headers.h"

#define SPDY_STREAMS_MAX 16             /* kubectl opens at most 5 */
#define SPDY_INITIAL_WINDOW (64 * 1024) /* SPDY/3.1 default, stream and connection */
#define SPDY_OUT_MAX (128 * 1024)       /* pending output, all frames */
#define SPDY_OUT_RESERVE (4 * 1024)     /* kept free of data for control replies */
#define SPDY_DATA_FRAME_MAX (32 * 1024) /* payload of one DATA frame we write */
#define SPDY_REASON_MAX 128             /* SPDY_EV_ERROR's text */

enum spdy_role { SPDY_ROLE_SERVER, SPDY_ROLE_CLIENT };
enum spdy_flow { SPDY_FLOW_ADVISORY, SPDY_FLOW_STRICT };

enum spdy_event_type {
    SPDY_EV_STREAM_OPEN, /* peer's SYN_STREAM: stream_id, headers, flags (FIN/UNIDIRECTIONAL) */
    SPDY_EV_REPLY,       /* peer's SYN_REPLY to a stream we opened: headers */
    SPDY_EV_HEADERS,     /* peer's HEADERS frame: headers */
    SPDY_EV_DATA,        /* data, len bytes (valid during the call only) */
    SPDY_EV_FIN,         /* the peer half-closed the stream (after the frame's own event) */
    SPDY_EV_RESET,       /* the stream is gone: status; local: we reset it, else the peer */
    SPDY_EV_PING_ACK,    /* the peer answered our ping ping_id */
    SPDY_EV_GOAWAY,      /* the peer goes away: last_id (its last accepted), status; then
                          * a RESET (REFUSED_STREAM) for each of our streams above last_id */
    SPDY_EV_ERROR,       /* connection error: err, reason; GOAWAY is queued */
};

struct spdy_event {
    enum spdy_event_type type;
    uint32_t stream_id;
    uint8_t flags;
    const struct spdy_headers *headers;
    const uint8_t *data;
    size_t len;
    uint32_t status;
    bool local;
    uint32_t ping_id;
    uint32_t last_id;
    int err;
    const char *reason;
};

typedef void (*spdy_event_cb)(void *user, const struct spdy_event *ev);

struct spdy_conn_config {
    enum spdy_role role;
    enum spdy_flow flow;
};

struct spdy_conn;

/* NULL when out of memory. */
struct spdy_conn *spdy_conn_new(const struct spdy_conn_config *cfg, spdy_event_cb cb, void *user);
void spdy_conn_free(struct spdy_conn *c);

/* Take received bytes (all of them). Returns SPDY_OK, or the connection
 * error (negative) that ended the connection, now or earlier. */
int spdy_conn_feed(struct spdy_conn *c, const uint8_t *in, size_t len);

/* Pending output: *p and its length (0: nothing to write). */
size_t spdy_conn_out(const struct spdy_conn *c, const uint8_t **p);
/* n bytes of it were written to the socket. */
void spdy_conn_out_consume(struct spdy_conn *c, size_t n);
/* The connection failed or both sides went away: drain, then close. */
bool spdy_conn_is_done(const struct spdy_conn *c);

/* Open a stream (odd ids as client, even as server), SYN_STREAM with these
 * headers; flags FIN and/or UNIDIRECTIONAL. Returns the id, or
 * SPDY_ERR_STATE (table full, GOAWAY seen or sent, ids used up),
 * SPDY_ERR_SPACE, SPDY_ERR_HEADERS, SPDY_ERR_CLOSED, SPDY_ERR_NOMEM (the
 * deflate context is made on the first header block sent). */
int spdy_conn_open_stream(struct spdy_conn *c, const struct spdy_nv *nv, size_t n, uint8_t flags);
/* SYN_REPLY to the peer's stream (once); fin half-closes our side. */
int spdy_conn_reply(struct spdy_conn *c, uint32_t id, const struct spdy_nv *nv, size_t n, bool fin);
/* HEADERS on an open stream. */
int spdy_conn_send_headers(struct spdy_conn *c, uint32_t id, const struct spdy_nv *nv, size_t n,
                           bool fin);
/* Bytes spdy_conn_send_data would accept now: 0 when the stream is closed
 * for sending, unknown, the window (strict) or the output buffer is full. */
size_t spdy_conn_send_window(const struct spdy_conn *c, uint32_t id);
/* One DATA frame with min(len, send window, SPDY_DATA_FRAME_MAX) bytes; FIN
 * when fin and all len bytes went. Returns the bytes taken (0 is possible:
 * wait for output drain or a WINDOW_UPDATE), or SPDY_ERR_STATE/CLOSED.
 * len 0 with fin is a bare half-close. */
int spdy_conn_send_data(struct spdy_conn *c, uint32_t id, const uint8_t *data, size_t len,
                        bool fin);
/* The caller has used n bytes received on stream id: windows reopen, a
 * WINDOW_UPDATE is sent once half a window was used (stream and connection). */
void spdy_conn_consume(struct spdy_conn *c, uint32_t id, size_t n);
/* RST_STREAM with status; the stream is gone (no event). */
int spdy_conn_reset(struct spdy_conn *c, uint32_t id, uint32_t status);
/* PING with our next id (even as server, odd as client); returns it. */
int spdy_conn_ping(struct spdy_conn *c);
/* GOAWAY status: no new streams either way; open ones finish. */
int spdy_conn_goaway(struct spdy_conn *c, uint32_t status);

/* Per-stream caller pointer (NULL for an unknown stream). */
void spdy_conn_stream_set_user(struct spdy_conn *c, uint32_t id, void *user);
void *spdy_conn_stream_user(const struct spdy_conn *c, uint32_t id);
/* Whether the stream is open, and each half. */
bool spdy_conn_stream_open(const struct spdy_conn *c, uint32_t id);
bool spdy_conn_stream_can_send(const struct spdy_conn *c, uint32_t id);
bool spdy_conn_stream_can_recv(const struct spdy_conn *c, uint32_t id);
/* The windows, for tests and metrics: what the peer lets us send, what we
 * let it send (int64: SETTINGS may take a window below zero, SPDY/3.1 2.6.8). */
int64_t spdy_conn_peer_window(const struct spdy_conn *c, uint32_t id); /* id 0: connection */
int64_t spdy_conn_our_window(const struct spdy_conn *c, uint32_t id);

#endif
