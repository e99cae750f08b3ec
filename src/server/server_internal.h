/* server_internal.h - what the server's files share: the server struct, the
 * per-connection HTTP state and the entry points of each part. Not for use
 * outside src/server/. */
#ifndef PODTERM_SERVER_INTERNAL_H
#define PODTERM_SERVER_INTERNAL_H

#include <libwebsockets.h>

#include "proto/proto.h"
#include "server/server.h"

/* Named limits of the HTTP side. */
#define SERVER_HEAD_MAX (16 * 1024)  /* request line + headers, as pre-read by the listener */
#define SERVER_HEAD_TIMEOUT_MS 10000 /* a client must send its whole request head in this */
#define SERVER_PATH_MAX 2048         /* decoded request path */
#define SERVER_HEADER_VALUE_MAX 8192 /* one header value we copy out (Authorization, ...) */
#define SERVER_RX_CHUNK 4096         /* lws rx buffer per WebSocket: largest chunk we see */
/* Largest socket write lws makes for us. It defaults to the rx buffer size
 * (4 KiB), which cut each 64 KiB frame into 16 sends with an event-loop trip
 * each; it must hold LWS_PRE + the largest (base64) frame. */
#define SERVER_TX_PACKET (128 * 1024)
#define SERVER_MESSAGE_MAX (32u << 20) /* a client WebSocket message (upstream drops > 32 MiB) */
#define SERVER_SESSIONS_MAX 65536      /* concurrent exec/attach sessions */

/* Marker header the listener puts in place of a non-WebSocket Upgrade header
 * (kubectl's SPDY fallback), because lws answers those with its own 403 before
 * any callback; with the marker the request reaches our HTTP handler. */
#define SERVER_SPDY_MARKER "x-podterm-upgrade:"

struct listener;
struct session;

/* What a wsi's opaque user data points to: the negotiation result from the
 * listener until the upgrade is decided, then the session; or, on a plain
 * HTTP connection that got its reply, server.answered_mark. */
enum wsi_data_type { WSI_DATA_OFFER = 1, WSI_DATA_SESSION, WSI_DATA_ANSWERED };

struct upgrade_offer {
    enum wsi_data_type type; /* WSI_DATA_OFFER */
    int negotiation_rc;
    struct proto_negotiation neg;
    struct backend_stream *prepared; /* gateway mode: the upstream stream, already open */
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
    uv_timer_t session_sweep;     /* runs while there are sessions */
    bool shutting_down;
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

/* listener.c: accepts TCP itself, pre-reads the request head, adopts into lws. */
struct listener *listener_new(struct server *server, const char *host, int port, int *bound_port,
                              char *err, size_t err_cap);
void listener_close(struct listener *listener);
/* A listener that does not bind: connections arrive through listener_adopt_fd
 * (the TLS terminator's decrypted side). */
struct listener *listener_new_unbound(struct server *server);
void listener_adopt_fd(void *listener, int fd, const struct sockaddr *peer);
void listener_free(struct listener *listener);

/* http_reply.c: complete small responses in one write. Return 0, or -1 to close. */
int http_reply(struct lws *wsi, int code, const char *content_type, const char *extra_headers,
               const void *body, size_t body_len);
int http_reply_json(struct lws *wsi, int code, const char *json, size_t len);
int http_reply_status(struct lws *wsi, int code, const char *reason, const char *message,
                      const char *details_name, const char *details_kind);
/* Copy a header into buf (NUL-terminated); returns length or -1 when absent or too long. */
int http_header_copy(struct lws *wsi, enum lws_token_indexes token, char *buf, size_t cap);
/* Request method: "GET", "POST", ... or NULL. */
const char *http_method(struct lws *wsi);

/* http_routes.c: every plain HTTP request. Returns 0, or -1 to close. */
int http_routes_handle(struct server *server, struct lws *wsi, const char *path);

/* api_local.c: the Kubernetes REST subset for local mode. Returns 1 when it
 * answered, 0 if the path is not an API path, -1 to close. */
int api_local_handle(struct server *server, struct lws *wsi, const char *path);

/* static_ui.c: the embedded web terminal. Returns 1 when it answered, 0 if no such asset. */
int static_ui_handle(struct lws *wsi, const char *path);

/* request_auth.c: authentication and Origin checks. */
int request_authenticate(struct server *server, struct lws *wsi, const char *subprotocol_token,
                         struct auth_identity *id);
bool request_origin_allowed(struct server *server, struct lws *wsi);

/* upgrade.c: LWS_CALLBACK_HTTP_CONFIRM_UPGRADE. Returns 0 to let the
 * upgrade proceed (a session is attached to the wsi), 1 when a response was
 * written instead, -1 to hang up. */
int upgrade_confirm(struct server *server, struct lws *wsi);
/* The exec/attach validation shared by the WebSocket and the SPDY (refused) paths.
 * Returns 0 (validated; req filled) or 1 (a Status response was written). */
struct exec_request;
int upgrade_validate_exec(struct server *server, struct lws *wsi, const char *path,
                          struct exec_request *req, bool *is_exec_path);

/* The listener's negotiation record for this wsi: attached already, or
 * still held by the server while the adopt call is parsing (listener.c). */
struct upgrade_offer *server_offer_take(struct server *server, struct lws *wsi);

/* Free whatever the wsi's opaque user data holds (connection teardown). */
void wsi_data_release(struct lws *wsi);

/* session.c: one exec/attach bridge. */
struct session *session_new(struct server *server, enum proto_kind kind, struct exec_request *req);
void session_free(struct session *session);
int session_on_established(struct session *session, struct lws *wsi);
/* The frame sweep's timer callback (server.c owns the handle). */
void session_sweep(uv_timer_t *timer);
int session_on_receive(struct session *session, const void *in, size_t len);
int session_on_writeable(struct session *session);
void session_on_closed(struct session *session);

#endif
