/* session_keepalive.h - the client-side keepalive (--ping-interval) of
 * every WebSocket a session holds: the session's own connection and its
 * watchers' (session_watch.c). One rule, written once: a ping every
 * interval keeps proxies from cutting an idle connection, and a peer that
 * has sent nothing at all (no pong, no data) for an interval after a ping
 * is gone. Pings go out whatever else flows, so that a proxy counting idle
 * time in either direction sees traffic both ways at least once per
 * interval. The caller's sweep asks; the caller's writeable callback
 * writes the ping. */
#ifndef PODTERM_SESSION_KEEPALIVE_H
#define PODTERM_SESSION_KEEPALIVE_H

#include <libwebsockets.h>
#include <stdbool.h>
#include <stdint.h>

/* The ping's payload: any bytes do; a name helps whoever reads a capture. */
#define SESSION_PING_PAYLOAD "podterm"

struct session_keepalive {
    uint64_t rx_ms;    /* when the peer last sent anything */
    uint64_t ping_ms;  /* when the last ping was queued (0: none yet) */
    bool ping_pending; /* a ping waits for the writeable callback */
};

/* A connection (re)opened at now: nothing owed either way. */
void session_keepalive_start(struct session_keepalive *k, uint64_t now);
/* The sweep's look: true when the peer is gone; else asks wsi for a
 * writeable callback when a ping is due (ping_pending set). interval 0:
 * off. rx_paused: we are the ones not reading (backpressure), so silence
 * says nothing. started_ms: when the connection opened. */
bool session_keepalive_check(struct session_keepalive *k, struct lws *wsi, uint64_t now,
                             uint64_t interval, uint64_t started_ms, bool rx_paused);
/* The writeable callback's step: 1 wrote the pending ping, 0 none pending,
 * -1 the connection failed. */
int session_keepalive_write(struct session_keepalive *k, struct lws *wsi);
/* The verdict "gone": nobody to send a Status or a Close to, and a socket
 * that is not read may never turn writeable again, so the socket is shut
 * down under lws, which sees the error and closes the wsi. */
void session_keepalive_hang_up(struct lws *wsi);

#endif
