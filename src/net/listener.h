/* listener.h - accept TCP connections on the loop, pre-read each request
 * head within bounds, and hand the socket with the bytes read to the front
 * door (src/server/front.c). Knows nothing of modes, admission or lws.
 *
 * Why pre-read instead of letting lws listen: lws 4.1 answers any request
 * whose Upgrade header is not "websocket" with its own HTML 403 before user
 * code sees it, but kubectl retries every failed WebSocket handshake as a
 * SPDY POST and shows that answer to the user (PROTOCOL.md 5.2); and
 * admission must see the head before lws acts on it. The pre-read also
 * bounds the head's size and the time a client may take to send it
 * (half-open and slowloris connections).
 *
 * Refused here, with a Status and no callback: a head over LISTENER_HEAD_MAX
 * (431), a target with a bad %-escape or an encoded NUL (400), an unknown
 * method (405), and out of descriptors (503). */
#ifndef PODTERM_NET_LISTENER_H
#define PODTERM_NET_LISTENER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <uv.h>

#define LISTENER_HEAD_MAX (16 * 1024)  /* request line + headers */
#define LISTENER_HEAD_TIMEOUT_MS 10000 /* a client must send its whole request head in this */
/* Connections still sending their head, all peers together (listener.c);
 * the lws context takes as many heads at once (server.c). */
#define LISTENER_PENDING_MAX 1024
#define LISTENER_PEER_MAX 48 /* a textual IPv6 address and its NUL */

/* A complete head arrived: fd is the callee's (close-on-exec), head[0, len)
 * holds the head and any bytes after it (valid during the call only), peer
 * is the client's address as text ("" unknown). */
typedef void (*listener_head_fn)(void *ctx, int fd, const char *head, size_t len, const char *peer);

struct listener;

struct listener *listener_new(uv_loop_t *loop, const char *host, int port, listener_head_fn on_head,
                              void *ctx, int *bound_port, char *err, size_t err_cap);
/* A listener that does not bind: connections arrive through listener_adopt_fd
 * (the TLS terminator's decrypted side). */
struct listener *listener_new_unbound(uv_loop_t *loop, listener_head_fn on_head, void *ctx);
void listener_adopt_fd(void *listener, int fd, const struct sockaddr *peer);
/* Stop accepting; connections still sending their head are dropped. */
void listener_close(struct listener *listener);
/* Shutdown: connections whose head has not come yet are dropped now (they
 * would keep the loop for their LISTENER_HEAD_TIMEOUT_MS otherwise). */
void listener_drop_pending(struct listener *listener);
void listener_free(struct listener *listener);

/* Answer a request with a Status, then the caller hangs up. Best effort, no
 * allocation: the socket is fresh, so a few hundred bytes fit its buffer. */
void listener_write_status(int fd, int code, const char *phrase, const char *reason,
                           const char *message);

#endif
