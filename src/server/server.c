/* server.c - the lws context on podterm's libuv loop, the protocol table, and
 * the one callback that routes lws events to the HTTP side or to a session.
 *
 * lws binds a WebSocket to the vhost protocol whose name matches the client's
 * subprotocol. podterm negotiates itself (PROTOCOL.md 2.3: v5 wins, client
 * order, token items) in upgrade.c and leaves exactly the chosen name in the
 * header, so lws's own matching only confirms our choice. A request without
 * the header binds to protocol 0, which doubles as the "" subprotocol. */
#include "server/server_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admit/admit.h"
#include "api/api.h"
#include "net/listener.h"
#include "net/tls_front.h"
#include "session/exec_request.h"
#include "server/http_reply.h"
#include "session/session.h"
#include "session/session_watch.h"

static int server_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                           size_t len);

/* Index = enum proto_kind; index 0 (PROTO_KIND_NONE) is also the HTTP protocol. */
#define SERVER_TEARDOWN_SPINS 16 /* loop iterations lws gets to close its handles */

#define SERVER_PROTOCOL(name_)                                                                     \
    {                                                                                              \
        .name = name_, .callback = server_callback,                                                \
        .per_session_data_size = sizeof(struct http_conn), .rx_buffer_size = SERVER_RX_CHUNK,      \
        .tx_packet_size = SERVER_TX_PACKET,                                                        \
    }
static const struct lws_protocols server_protocols[] = {
    SERVER_PROTOCOL("podterm-http"),
    SERVER_PROTOCOL("channel.k8s.io"),
    SERVER_PROTOCOL("base64.channel.k8s.io"),
    SERVER_PROTOCOL("v4.channel.k8s.io"),
    SERVER_PROTOCOL("v4.base64.channel.k8s.io"),
    SERVER_PROTOCOL("v5.channel.k8s.io"),
    SERVER_PROTOCOL(PROTO_FLOW_NAME),
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

struct server *server_from_wsi(struct lws *wsi)
{
    return lws_context_user(lws_get_context(wsi));
}

struct upgrade_offer *server_offer_take(struct server *server, struct lws *wsi)
{
    if (!lws_get_opaque_user_data(wsi) && server->adopting_offer) {
        lws_set_opaque_user_data(wsi, server->adopting_offer);
        server->adopting_offer = NULL;
    }
    return lws_get_opaque_user_data(wsi);
}

void wsi_data_release(struct lws *wsi)
{
    enum wsi_data_type *tag = lws_get_opaque_user_data(wsi);
    if (!tag)
        return;
    lws_set_opaque_user_data(wsi, NULL);
    if (*tag == WSI_DATA_ANSWERED)
        return; /* server.answered_mark: not allocated */
    if (*tag == WSI_DATA_SESSION) {
        session_on_closed((struct session *)tag, wsi);
        return;
    }
    if (*tag == WSI_DATA_WATCHER) {
        session_watch_on_closed((struct watcher *)tag);
        return;
    }
    struct upgrade_offer *offer = (struct upgrade_offer *)tag;
    if (offer->prepared) /* gateway: the upgrade was refused after upstream said yes */
        backend_stream_stop(offer->prepared);
    exec_request_clear(&offer->prepared_req);
    /* No answer recorded: the client went away first (nginx's 499). */
    admission_finish(offer->admission, offer->code ? offer->code : 499);
    free(tag);
}

/* The reply is written: end the connection (see below) and the audit. */
static int server_http_done(struct server *server, struct lws *wsi)
{
    if (!lws_send_pipe_choked(wsi))
        return -1;
    wsi_data_release(wsi); /* answered: the audit of this request is complete */
    lws_set_opaque_user_data(wsi, &server->answered_mark);
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

static int server_http(struct server *server, struct lws *wsi, const char *path)
{
    int rc = http_routes_handle(server, wsi, path);
    if (rc < 0)
        return -1;
    /* Every reply is complete once written, and the connection ends with it
     * (head_rewrite.h says why). When the reply is all out, hang up now:
     * lws would keep the connection if its parser missed the listener's
     * "Connection: close" (see server.answered_mark). Otherwise end the
     * transaction, which closes once lws has sent the rest, and mark the
     * connection so that a request lws reads after that is refused. */
    return server_http_done(server, wsi);
}

static int server_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                           size_t len)
{
    struct server *server = server_from_wsi(wsi);
    enum wsi_data_type *tag = lws_get_opaque_user_data(wsi);
    struct session *session = tag && *tag == WSI_DATA_SESSION ? (struct session *)tag : NULL;
    struct watcher *watcher = tag && *tag == WSI_DATA_WATCHER ? (struct watcher *)tag : NULL;
    bool answered = tag && *tag == WSI_DATA_ANSWERED; /* see server.answered_mark */

    switch (reason) {
    case LWS_CALLBACK_HTTP:
        if (answered)
            return -1;
        server_offer_take(server, wsi); /* the admission, for the handlers and the audit */
        return server_http(server, wsi, in);
    case LWS_CALLBACK_HTTP_BODY:
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        return 0; /* podterm reads no body through lws (net_exchange.h says why) */
    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE: {
        /* After an answered request lws 4.1 passes an Upgrade value it has
         * already freed: hang up before looking at it. */
        if (answered)
            return -1;
        if (strcmp(in ? (const char *)in : "", "websocket") != 0)
            return -1;
        int rc = upgrade_confirm(server, wsi);
        if (rc != 0)
            wsi_data_release(wsi); /* refused: the listener's record is spent */
        return rc;
    }
    case LWS_CALLBACK_ESTABLISHED:
        if (watcher)
            return session_watch_on_established(watcher);
        if (!session)
            return -1;
        return session_on_established(session, wsi);
    case LWS_CALLBACK_RECEIVE:
        if (watcher)
            return session_watch_on_receive(watcher, in, len);
        return session ? session_on_receive(session, in, len) : -1;
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        if (session)
            session_on_peer_close(session);
        return 0; /* lws answers the Close */
    case LWS_CALLBACK_RECEIVE_PONG:
        if (session)
            session_on_pong(session);
        else if (watcher)
            session_watch_on_pong(watcher);
        return 0;
    case LWS_CALLBACK_SERVER_WRITEABLE:
        if (watcher)
            return session_watch_on_writeable(watcher);
        return session ? session_on_writeable(session) : 0;
    case LWS_CALLBACK_CLOSED:
    case LWS_CALLBACK_WSI_DESTROY:
        wsi_data_release(wsi);
        return 0;
    default:
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}

static struct lws_context *server_lws_create(struct server *server, char *err, size_t err_cap)
{
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof(info));
    void *loops[1] = {server->loop};
    info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_EXPLICIT_VHOSTS |
                   LWS_SERVER_OPTION_DISABLE_IPV6;
    info.foreign_loops = loops;
    info.user = server;
    info.max_http_header_data = LISTENER_HEAD_MAX;
    /* Every head the listener hands over must find a header table at once:
     * lws 4.1 drops an adopted connection that waited for one, unanswered
     * (a burst of 300 GET /version from one client lost 171). Each is
     * allocated when used, so the bound is the listener's own. */
    info.max_http_header_pool = LISTENER_PENDING_MAX;
    info.fd_limit_per_thread = 0; /* lws sizes its fd table from RLIMIT_NOFILE */
    struct lws_context *ctx = lws_create_context(&info);
    if (!ctx) {
        snprintf(err, err_cap, "cannot create the libwebsockets context (libuv event library)");
        return NULL;
    }
    memset(&info, 0, sizeof(info));
    info.port = CONTEXT_PORT_NO_LISTEN_SERVER; /* listener.c accepts and adopts */
    info.protocols = server_protocols;
    info.vhost_name = "podterm";
    info.keepalive_timeout = 30;
    info.timeout_secs = 30;
    server->vhost = lws_create_vhost(ctx, &info);
    if (!server->vhost) {
        snprintf(err, err_cap, "cannot create the libwebsockets vhost");
        lws_context_destroy(ctx);
        return NULL;
    }
    return ctx;
}

/* Destroys the lws context before the loop runs (a failed start-up). On a foreign
 * loop lws 4.1 only starts closing its handles in the first destroy and frees the
 * rest in a second one once they are closed, which takes loop iterations: without
 * them the context's buffers leak. Nothing else runs yet, so a few non-blocking
 * iterations only finish those closes. */
static void server_lws_destroy_now(struct server *server)
{
    lws_context_destroy(server->lws);
    for (int i = 0; i < SERVER_TEARDOWN_SPINS && uv_run(server->loop, UV_RUN_NOWAIT); i++)
        ;
    lws_context_destroy(server->lws);
    server->lws = NULL;
}

/* lws 4.1.6 logs a leftover debug line at error level for every adopted
 * socket, i.e. for every connection podterm accepts; drop just that one. */
static void server_log_emit(int level, const char *line)
{
    if (strstr(line, "adopt_socket_readbuf: calling service"))
        return;
    fputs(line, stderr);
}

/* The "ping" health check's evidence: the loop ran this timer lately. */
static void server_heartbeat(uv_timer_t *timer)
{
    struct server *server = timer->data;
    server->heartbeat_ns = uv_hrtime();
}

bool server_loop_responsive(const struct server *server)
{
    return uv_hrtime() - server->heartbeat_ns < (uint64_t)SERVER_HEARTBEAT_STALE_MS * 1000000u;
}

struct server *server_new(uv_loop_t *loop, const struct server_opts *opts, char *err,
                          size_t err_cap)
{
    struct server *server = calloc(1, sizeof(*server));
    if (!server) {
        snprintf(err, err_cap, "out of memory");
        return NULL;
    }
    server->answered_mark = WSI_DATA_ANSWERED;
    server->loop = loop;
    server->opts = *opts;
    lws_set_log_level(opts->log_level, server_log_emit);
    server->lws = server_lws_create(server, err, err_cap);
    if (!server->lws) {
        free(server);
        return NULL;
    }
    int port = 0;
    bool tls = opts->tls_cert_file != NULL;
    server->listener = tls ? listener_new_unbound(loop, front_on_head, server)
                           : listener_new(loop, opts->listen_host, opts->listen_port, front_on_head,
                                          server, &port, err, err_cap);
    if (!server->listener && tls) /* listener_new says why itself; the unbound one cannot */
        snprintf(err, err_cap, "out of memory");
    if (server->listener && tls)
        server->tls = tls_front_new(loop, opts->listen_host, opts->listen_port,
                                    &(struct tls_front_files){.cert = opts->tls_cert_file,
                                                              .key = opts->tls_key_file,
                                                              .client_ca = opts->client_ca_file},
                                    listener_adopt_fd, server->listener, &port, err, err_cap);
    if (!server->listener || (tls && !server->tls)) {
        listener_free(server->listener);
        server_lws_destroy_now(server);
        free(server);
        return NULL;
    }
    snprintf(server->url, sizeof(server->url), "%s://%s:%d/", tls ? "https" : "http",
             opts->listen_host, port);
    uv_timer_init(loop, &server->session_sweep);
    server->session_sweep.data = server;
    uv_timer_init(loop, &server->drain_timer);
    server->drain_timer.data = server;
    uv_timer_init(loop, &server->heartbeat);
    server->heartbeat.data = server;
    server->heartbeat_ns = uv_hrtime();
    uv_timer_start(&server->heartbeat, server_heartbeat, SERVER_HEARTBEAT_MS, SERVER_HEARTBEAT_MS);
    return server;
}

const char *server_url(const struct server *server)
{
    return server->url;
}

void server_shutdown(struct server *server)
{
    if (server->shutting_down)
        return;
    server->shutting_down = true;
    tls_front_close(server->tls);
    server->tls = NULL;
    listener_close(server->listener);
    listener_drop_pending(server->listener);
    session_resume_end_all(server); /* the detached ones: no wsi to close them */
    session_spdy_close_all(server); /* nor has a SPDY connection */
    /* Closes every wsi (sessions get LWS_CALLBACK_CLOSED) and lets lws release
     * its handles on the foreign loop; the caller runs the loop to finish,
     * then server_free completes the destroy (lws 4.1's two-step teardown on
     * a foreign loop: the second call frees what the first left for after
     * the loop stopped). */
    lws_context_destroy(server->lws);
    uv_close((uv_handle_t *)&server->session_sweep, NULL); /* sessions are gone now */
    uv_close((uv_handle_t *)&server->drain_timer, NULL);
    uv_close((uv_handle_t *)&server->heartbeat, NULL);
}

/* Runs from the loop, never inside an lws callback: the drained callback
 * destroys the lws context. */
static void server_drain_step(uv_timer_t *timer)
{
    struct server *server = timer->data;
    if (server->sessions && !server->drain_closing) {
        /* The grace is over: every session still open ends now, with a
         * Status and Close 1001; the closes get SERVER_DRAIN_CLOSE_MS. */
        server->drain_closing = true;
        session_shutdown_all(server);
        uv_timer_start(&server->drain_timer, server_drain_step, SERVER_DRAIN_CLOSE_MS, 0);
        return;
    }
    /* HTTPS: the last Close frames are still in the TLS terminator's hands
     * until its connections end; shutting down now would cut them (1006). */
    if (tls_front_conns(server->tls) && uv_now(server->loop) < server->drain_deadline_ms) {
        uv_timer_start(&server->drain_timer, server_drain_step, SERVER_DRAIN_TLS_POLL_MS, 0);
        return;
    }
    void (*drained)(void *) = server->drained;
    server->drained = NULL;
    if (drained)
        drained(server->drained_user);
}

void server_sessions_gone(struct server *server)
{
    if (server->draining && server->drained && !server->shutting_down)
        uv_timer_start(&server->drain_timer, server_drain_step, 0, 0);
}

bool server_drain(struct server *server, uint64_t grace_ms, void (*drained)(void *), void *user)
{
    if (server->shutting_down || server->draining)
        return false;
    server->draining = true; /* /readyz answers 500 from now on */
    if (!server->sessions)
        return false;
    /* No new connections; those accepted already (a probe, a request on its
     * way) are still answered, and see readiness false. */
    tls_front_stop_accepting(server->tls); /* its open sessions go on */
    listener_close(server->listener);
    server->drained = drained;
    server->drained_user = user;
    server->drain_deadline_ms = uv_now(server->loop) + grace_ms + SERVER_DRAIN_CLOSE_MS;
    uv_timer_start(&server->drain_timer, server_drain_step, grace_ms, 0);
    session_resume_end_all(server); /* may end the drain at once (server_sessions_gone) */
    return true;
}

void server_free(struct server *server)
{
    if (!server)
        return;
    if (server->lws)
        lws_context_destroy(server->lws);
    listener_free(server->listener);
    free(server);
}
