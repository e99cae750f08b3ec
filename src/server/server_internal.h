/* server_internal.h - what the server's files share: the server struct, the
 * per-connection HTTP state and the entry points of each part. Not for use
 * outside src/server/. */
#ifndef PODTERM_SERVER_INTERNAL_H
#define PODTERM_SERVER_INTERNAL_H

#include <libwebsockets.h>

#include "proto/proto.h"
#include "session/exec_request.h"
#include "server/server.h"

struct admission;

/* Named limits of the lws side. */
#define SERVER_PATH_MAX 2048         /* decoded request path */
#define SERVER_HEADER_VALUE_MAX 8192 /* one header value we copy out (Authorization, ...) */
#define SERVER_RX_CHUNK 4096         /* lws rx buffer per WebSocket: largest chunk we see */
/* Largest socket write lws makes for us. It defaults to the rx buffer size
 * (4 KiB), which cut each 64 KiB frame into 16 sends with an event-loop trip
 * each; it must hold LWS_PRE + the largest (base64) frame. */
#define SERVER_TX_PACKET (128 * 1024)
#define SERVER_MESSAGE_MAX (32u << 20) /* a client WebSocket message (upstream drops > 32 MiB) */
#define SERVER_SESSIONS_MAX 65536      /* concurrent exec/attach sessions */
/* The "ping" check: the loop stamps the time every SERVER_HEARTBEAT_MS; a
 * stamp older than SERVER_HEARTBEAT_STALE_MS means it was blocked. */
#define SERVER_HEARTBEAT_MS 1000
#define SERVER_HEARTBEAT_STALE_MS 5000
/* After the drain's grace: how long sessions get to send their Status and
 * Close before the server shuts down regardless (a client that never answers
 * the Close is then still waited for by lws, 5 s at most). */
#define SERVER_DRAIN_CLOSE_MS 2000
/* With TLS, how often the drain looks whether the terminator has passed the
 * last sessions' Status and Close on (its connections end once it has). */
#define SERVER_DRAIN_TLS_POLL_MS 20

struct listener;
struct session;

/* What a wsi's opaque user data points to: the front door's record (the
 * admission and the negotiation result) until the request is answered or the
 * upgrade decided, then the session (or, for a watch or join of one, the
 * watcher: session_watch.h); or, on a plain HTTP connection that got its
 * reply, server.answered_mark. */
enum wsi_data_type { WSI_DATA_OFFER = 1, WSI_DATA_SESSION, WSI_DATA_ANSWERED, WSI_DATA_WATCHER };

struct upgrade_offer {
    enum wsi_data_type type; /* WSI_DATA_OFFER */
    bool websocket;
    struct admission *admission; /* who asks, and the audit of this request (admit.h) */
    int code;                    /* the HTTP status answered, for the audit */
    int negotiation_rc;
    struct proto_negotiation neg;
    struct backend_stream *prepared;  /* gateway mode: the upstream stream, already open */
    struct exec_request prepared_req; /* gateway mode: what was opened upstream */
};

struct server {
    uv_loop_t *loop;
    struct server_opts opts;
    struct lws_context *lws;
    struct lws_vhost *vhost;
    struct listener *listener;
    struct tls_front *tls; /* HTTPS: decrypts into the listener */
    char url[SERVER_URL_MAX];
    size_t sessions;
    struct session *session_list; /* every session, for the frame sweep (session.c) */
    unsigned policy_generation;   /* the policy sessions were last checked against */
    uv_timer_t session_sweep;     /* runs while there are sessions */
    bool shutting_down;
    /* SIGTERM's drain (server_drain): readiness is false from its start. */
    bool draining;
    bool drain_closing; /* the grace is over: sessions were told to end */
    uv_timer_t drain_timer;
    uint64_t drain_deadline_ms; /* uv_now bound on the whole drain */
    void (*drained)(void *);
    void *drained_user;
    uv_timer_t heartbeat;
    uint64_t heartbeat_ns;                /* uv_hrtime() of the last heartbeat */
    struct upgrade_offer *adopting_offer; /* set only during lws_adopt_socket_vhost_readbuf */
    /* WSI_DATA_ANSWERED, never changed: marks a connection whose one request
     * was answered. The listener rewrote only that first head; when lws's
     * parser missed the "Connection: close" it added (a control byte in an
     * earlier header line does that) lws keeps the connection, and a second
     * request must not be served unrewritten. lws resets per-session data
     * between requests, so the mark lives in the opaque user data. */
    enum wsi_data_type answered_mark;
};

/* Per-connection HTTP state (lws per_session_data of the HTTP protocol). */
struct http_conn {
    int unused;
};

/* server.c */
struct server *server_from_wsi(struct lws *wsi);
/* session.c tells the server when its last session is gone (the drain ends). */
void server_sessions_gone(struct server *server);

/* front.c: the listener's callback (listener.h), and the hand-over to lws
 * that the gateway calls back with its exec/attach upgrades. */
struct backend_stream;
void front_on_head(void *ctx, int fd, const char *head, size_t len, const char *peer);
void front_adopt(void *ctx, int fd, const char *buf, size_t len, struct exec_request *prepared_req,
                 struct admission *adm);

/* The front door's record for this wsi: attached already, or still held by
 * the server while the adopt call is parsing (front.c). */
struct upgrade_offer *server_offer_take(struct server *server, struct lws *wsi);

/* Free whatever the wsi's opaque user data holds (connection teardown). */
void wsi_data_release(struct lws *wsi);

#endif
