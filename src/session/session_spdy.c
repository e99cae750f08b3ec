/* session_spdy.c - a session's client connection over SPDY/3.1.
 *
 * Why: kubectl 1.27-1.29, kubectl 1.30+ when its WebSocket upgrade is
 * refused, and every client-go program on remotecommand.NewSPDYExecutor run
 * exec, attach and cp over SPDY. The session stays one session: the same
 * admission (done by the front door before this file sees the request), the
 * same backends, taps and flow control; only its connection differs, and
 * session.c speaks to it through session_internal.h's session_spdy_*.
 *
 * How the kubelet does it, and so this file:
 *  - the request is validated as a WebSocket one (pod, container, query),
 *    then the version is chosen from X-Stream-Protocol-Version
 *    (spdy_upgrade.h) and the answer is `101 Switching Protocols` with
 *    `Upgrade: SPDY/3.1` and the version;
 *  - the client opens one stream per channel, named by its `streamtype`
 *    header (error, stdin, stdout, stderr, resize); each gets its SYN_REPLY at
 *    once, and the process starts when all the request asked for are open
 *    (SPDY_LINK_STREAMS_MS for them, as the kubelet's 30 s);
 *  - session.c's frames (channel byte, payload) become DATA on the channel's
 *    stream; stdin's DATA and its FIN (half-close) and the resize stream's
 *    JSON objects come back as the WebSocket decoder's events would;
 *  - at the end, the Status on the error stream, FIN on every stream we
 *    write, GOAWAY, the output drained, then our side shut and the client's
 *    close awaited (SPDY_LINK_LINGER_MS) so that nothing in flight is reset.
 *
 * Back-pressure: spdystream (kubectl) keeps no SPDY windows (spdy_conn.h), so
 * the socket is the window, as for a WebSocket. Output: session.c stops
 * writing while more than SPDY_LINK_CHOKE bytes wait for the socket, so a
 * frame always fits the codec's buffer. Input: the socket is read only while
 * the session's stdin buffer is empty (rx not paused), at most
 * SPDY_LINK_READ bytes at a time, less than that buffer holds.
 *
 * Liveness: kubectl pings every 5 s and the codec answers; a client that
 * disappears is seen as the socket's end or error. The session's sweep
 * looks for a hang-up while input is paused, and runs the WebSocket's
 * keepalive rule (--ping-interval) with SPDY PINGs: a client silent for an
 * interval after one is hung up on ("client-unresponsive").
 *
 * Ownership: the link owns the socket and, once made, the session (the
 * session is freed when the link closes, never the other way round). */
#include "server/server_internal.h"

#include "session/session.h"
#include "session/session_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "admit/admit.h"
#include "http/http1.h"
#include "spdy/spdy_conn.h"
#include "spdy/spdy_upgrade.h"

#define SPDY_LINK_READ (16 * 1024) /* socket bytes per read; < SESSION_IN_MAX */
#define SPDY_LINK_READS_PER_WAKE 8 /* reads per readable event at most */
#define SPDY_LINK_STREAMS_MS 30000 /* the kubelet's wait for the client's streams */
#define SPDY_LINK_LINGER_MS 5000   /* after GOAWAY: the client's close awaited */
#define SPDY_LINK_HEAD_MAX 160     /* the 101 */
#define SPDY_LINK_OFFERS_MAX 256   /* the offered versions, in a refusal */
#define SPDY_LINK_CHANNELS 5       /* stdin, stdout, stderr, error, resize */
/* Output waiting beyond this: no more frames (a whole one, with its DATA
 * headers, then still fits the codec's buffer beside its control reserve). */
#define SPDY_LINK_CHOKE (SPDY_OUT_MAX - SPDY_OUT_RESERVE - SESSION_OUT_PAYLOAD - 1024)

_Static_assert(SPDY_LINK_CHOKE > 0, "a full frame must fit the codec's output buffer");
_Static_assert(SPDY_LINK_READ < SESSION_IN_MAX, "one read must fit the session's stdin buffer");

enum spdy_link_state {
    SPDY_LINK_STREAMS, /* 101 sent: waiting for the client's streams */
    SPDY_LINK_RUNNING, /* the session runs */
    SPDY_LINK_ENDING,  /* GOAWAY queued: output drains, then our side shuts */
    SPDY_LINK_LINGER,  /* shut: waiting for the client's close */
};

struct session_spdy {
    struct server *server;
    struct session *session; /* NULL once the link let it go */
    uv_poll_t poll;
    uv_timer_t timer;
    int handles_open;
    int fd;
    struct spdy_conn *conn;
    enum spdy_link_state state;
    enum spdy_version version;
    uint32_t ids[SPDY_LINK_CHANNELS]; /* stream id by channel (PROTO_CH_*), 0: not open */
    bool wanted[SPDY_LINK_CHANNELS];  /* the streams the start waits for */
    char head[SPDY_LINK_HEAD_MAX];    /* the 101, until written */
    size_t head_len, head_off;
    struct proto_decoder resize; /* the resize stream, as one endless channel-4 message */
    bool rx_paused, want_write, closing;
};

/* ---- refusals before the 101 ---- */

static void spdy_link_refuse(int fd, struct admission *adm, int code, const char *reason,
                             const char *message, const char *details_name,
                             const char *details_kind)
{
    char response[HTTP1_STATUS_RESPONSE_MAX];
    long n = http1_status_response_details(code, http1_reason_phrase(code), reason, message,
                                           details_name, details_kind, response, sizeof(response));
    if (n > 0 && write(fd, response, (size_t)n) < 0)
        n = 0; /* best effort: the client may be gone */
    admission_finish(adm, code);
    close(fd);
}

/* ---- the socket ---- */

static void spdy_link_closed(uv_handle_t *h)
{
    struct session_spdy *l = h->data;
    if (--l->handles_open > 0)
        return;
    if (l->fd >= 0)
        close(l->fd);
    spdy_conn_free(l->conn);
    free(l);
}

/* The connection is over: the session (if any) ends with it, the handles
 * close, and the link is freed once they have. */
static void spdy_link_close(struct session_spdy *l)
{
    if (l->closing)
        return;
    l->closing = true;
    struct session *s = l->session;
    l->session = NULL;
    if (s) {
        s->spdy = NULL;
        s->closed = true;
        session_free(s);
    }
    uv_poll_stop(&l->poll);
    uv_close((uv_handle_t *)&l->poll, spdy_link_closed);
    uv_close((uv_handle_t *)&l->timer, spdy_link_closed);
}

static void spdy_link_on_poll(uv_poll_t *p, int status, int events);

static void spdy_link_poll_update(struct session_spdy *l)
{
    if (l->closing)
        return;
    const uint8_t *out;
    bool pending = l->head_off < l->head_len || spdy_conn_out(l->conn, &out) > 0;
    int events = 0;
    /* Until every stream is open the socket is read whatever stdin does:
     * the streams it waits for come on it (spdy_link_data bounds stdin). */
    if (!l->rx_paused || l->state == SPDY_LINK_STREAMS)
        events |= UV_READABLE;
    if (pending || (l->want_write && l->state == SPDY_LINK_RUNNING))
        events |= UV_WRITABLE;
    uv_poll_start(&l->poll, events, spdy_link_on_poll);
}

/* Write what waits (the 101, then the codec's frames) while the socket
 * takes it. -1: the client is gone. */
static int spdy_link_flush(struct session_spdy *l)
{
    while (l->head_off < l->head_len) {
        ssize_t n = send(l->fd, l->head + l->head_off, l->head_len - l->head_off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
        l->head_off += (size_t)n;
    }
    const uint8_t *out;
    size_t len;
    while ((len = spdy_conn_out(l->conn, &out)) > 0) {
        ssize_t n = send(l->fd, out, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
        spdy_conn_out_consume(l->conn, (size_t)n);
    }
    return 0;
}

static bool spdy_link_drained(const struct session_spdy *l)
{
    const uint8_t *out;
    return l->head_off == l->head_len && spdy_conn_out(l->conn, &out) == 0;
}

static void spdy_link_on_timer(uv_timer_t *t)
{
    struct session_spdy *l = t->data;
    if (l->state == SPDY_LINK_STREAMS && l->session)
        l->session->end_reason = "streams-timeout"; /* the kubelet's "timed out waiting" */
    spdy_link_close(l);
}

/* ENDING with everything written: our side shuts, the client's close is
 * awaited (closing at once could reset what it has not read yet). */
static void spdy_link_linger(struct session_spdy *l)
{
    l->state = SPDY_LINK_LINGER;
    shutdown(l->fd, SHUT_WR);
    bool going_away = l->session && l->session->going_away;
    uv_timer_start(&l->timer, spdy_link_on_timer, going_away ? 0 : SPDY_LINK_LINGER_MS, 0);
}

/* ---- streams ---- */

static int spdy_link_channel(const struct spdy_nv *t)
{
    static const char *const names[SPDY_LINK_CHANNELS] = {
        [PROTO_CH_STDIN] = "stdin", [PROTO_CH_STDOUT] = "stdout", [PROTO_CH_STDERR] = "stderr",
        [PROTO_CH_ERROR] = "error", [PROTO_CH_RESIZE] = "resize",
    };
    for (int ch = 0; t && ch < SPDY_LINK_CHANNELS; ch++)
        if (t->value_len == strlen(names[ch]) && memcmp(t->value, names[ch], t->value_len) == 0)
            return ch;
    return -1;
}

/* The streams the session waits for, as the kubelet counts them: error
 * always, then what the query asked for. */
static void spdy_link_wanted(const struct exec_request *req, enum spdy_version v,
                             bool wanted[SPDY_LINK_CHANNELS])
{
    bool resize = v == SPDY_VERSION_V5 || v == SPDY_VERSION_V4 || v == SPDY_VERSION_V3;
    wanted[PROTO_CH_ERROR] = true;
    wanted[PROTO_CH_STDIN] = req->want_stdin;
    wanted[PROTO_CH_STDOUT] = req->want_stdout;
    wanted[PROTO_CH_STDERR] = req->want_stderr && !req->tty;
    wanted[PROTO_CH_RESIZE] = req->tty && resize;
}

static void spdy_link_stream_open(struct session_spdy *l, const struct spdy_event *ev)
{
    int ch = spdy_link_channel(spdy_headers_get(ev->headers, "streamtype"));
    if (ch < 0 || l->ids[ch] || l->state != SPDY_LINK_STREAMS) {
        /* The kubelet ignores a stream it does not know; a second one of a
         * kind, or one after the start, has nowhere to go. */
        spdy_conn_reset(l->conn, ev->stream_id,
                        ch < 0 ? SPDY_RST_REFUSED_STREAM : SPDY_RST_PROTOCOL_ERROR);
        return;
    }
    if (spdy_conn_reply(l->conn, ev->stream_id, NULL, 0, false) < 0)
        return; /* the codec reports why (an error event) */
    l->ids[ch] = ev->stream_id;
    /* One the query did not ask for (a resize stream without a tty) is
     * replied to and read, but the start waits for the ones it did. */
    for (int c = 0; c < SPDY_LINK_CHANNELS; c++)
        if (l->wanted[c] && !l->ids[c])
            return;
    if (!l->session)
        return;
    l->state = SPDY_LINK_RUNNING;
    uv_timer_stop(&l->timer);
    session_start(l->session);
    spdy_link_poll_update(l); /* a pause early stdin asked for applies now */
}

static int spdy_link_channel_of(const struct session_spdy *l, uint32_t id)
{
    for (int ch = 0; id && ch < SPDY_LINK_CHANNELS; ch++)
        if (l->ids[ch] == id)
            return ch;
    return -1;
}

static void spdy_link_resize_event(void *user, const struct proto_event *ev, const uint8_t *data)
{
    (void)data;
    struct session_spdy *l = user;
    if (ev->type == PROTO_EV_RESIZE && l->session)
        session_resize(l->session, ev->width, ev->height);
}

static void spdy_link_data(struct session_spdy *l, const struct spdy_event *ev)
{
    int ch = spdy_link_channel_of(l, ev->stream_id);
    struct session *s = l->session;
    /* Stdin before the last stream opened (client-go waits for every reply
     * first; another client may not) waits in the session's buffer for the
     * process, with the socket paused: never dropped. */
    bool early = l->state == SPDY_LINK_STREAMS;
    if (s && early && ch == PROTO_CH_STDIN && s->in_len - s->in_off + ev->len > SESSION_IN_MAX) {
        /* More early stdin than the buffer holds: refused, not dropped. */
        spdy_conn_reset(l->conn, ev->stream_id, SPDY_RST_FLOW_CONTROL_ERROR);
        l->ids[PROTO_CH_STDIN] = 0;
    } else if (s && (early || l->state == SPDY_LINK_RUNNING) && ch == PROTO_CH_STDIN && ev->len) {
        session_stdin_write(s, ev->data, ev->len);
    } else if (s && l->state == SPDY_LINK_RUNNING && ch == PROTO_CH_RESIZE && ev->len) {
        /* client-go writes one JSON object per resize, each followed by a
         * newline; the decoder's channel-4 scanner reads them off one long
         * message, and a bad one ends resizing (the kubelet's rule too). */
        uint8_t unused[4];
        proto_decoder_feed(&l->resize, ev->data, ev->len, false, false, unused, sizeof(unused),
                           spdy_link_resize_event, l);
    }
    spdy_conn_consume(l->conn, ev->stream_id, ev->len);
}

static void spdy_link_event(void *user, const struct spdy_event *ev)
{
    struct session_spdy *l = user;
    switch (ev->type) {
    case SPDY_EV_STREAM_OPEN:
        spdy_link_stream_open(l, ev);
        break;
    case SPDY_EV_DATA:
        spdy_link_data(l, ev);
        break;
    case SPDY_EV_FIN:
        if (l->session && spdy_link_channel_of(l, ev->stream_id) == PROTO_CH_STDIN)
            session_stdin_close(l->session); /* stdin's EOF (v2+: the half-close) */
        break;
    default:
        /* Pings are answered by the codec; a reset stream gets no more of
         * our data (its sends fail and are dropped); the client's GOAWAY
         * comes as it leaves, and its close ends the link; a connection
         * error has queued GOAWAY, and the feed's result closes the link. */
        break;
    }
}

/* ---- reading and writing ---- */

static void spdy_link_read(struct session_spdy *l)
{
    uint8_t buf[SPDY_LINK_READ];
    for (int i = 0; i < SPDY_LINK_READS_PER_WAKE && !l->closing; i++) {
        if (l->rx_paused && l->state != SPDY_LINK_STREAMS)
            return; /* stdin waits for the process (see spdy_link_poll_update) */
        ssize_t n = recv(l->fd, buf, sizeof(buf), 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n <= 0) {
            spdy_link_close(l); /* the client left (or its socket failed) */
            return;
        }
        if (l->state == SPDY_LINK_LINGER)
            continue;   /* our side is done: what comes now is dropped */
        if (l->session) /* any byte (a PING's answer, kubectl's own pings) is life */
            l->session->ka.rx_ms = uv_now(l->server->loop);
        if (spdy_conn_feed(l->conn, buf, (size_t)n) < 0) {
            /* A protocol error: GOAWAY is queued; it goes out, then the
             * connection ends (and the session with it). */
            if (l->session && !l->session->end_reason)
                l->session->end_reason = "protocol-error";
            spdy_link_flush(l);
            spdy_link_close(l);
            return;
        }
    }
}

static void spdy_link_on_poll(uv_poll_t *p, int status, int events)
{
    struct session_spdy *l = p->data;
    if (status < 0) {
        spdy_link_close(l);
        return;
    }
    if (events & UV_READABLE)
        spdy_link_read(l);
    if (l->closing)
        return;
    if (l->want_write && l->state == SPDY_LINK_RUNNING && l->session && !session_spdy_choked(l)) {
        l->want_write = false;
        if (session_on_writeable(l->session) < 0) {
            spdy_link_close(l); /* the session has nobody to talk to */
            return;
        }
    }
    if (spdy_link_flush(l) < 0) {
        spdy_link_close(l);
        return;
    }
    if (l->state == SPDY_LINK_ENDING && spdy_link_drained(l))
        spdy_link_linger(l);
    spdy_link_poll_update(l);
}

/* ---- session.c's side (session_internal.h) ---- */

void session_spdy_want_write(struct session_spdy *l)
{
    if (l->want_write || l->closing)
        return;
    l->want_write = true;
    spdy_link_poll_update(l);
}

bool session_spdy_choked(const struct session_spdy *l)
{
    const uint8_t *out;
    return spdy_conn_out(l->conn, &out) > SPDY_LINK_CHOKE;
}

int session_spdy_write(struct session_spdy *l, const uint8_t *frame, size_t len)
{
    if (len < 1 || frame[0] >= SPDY_LINK_CHANNELS)
        return 0;
    uint32_t id = l->ids[frame[0]];
    const uint8_t *p = frame + 1;
    size_t left = len - 1;
    if (!id || !left)
        return 0; /* a channel the client did not open, or the initial empty frame */
    while (left) {
        int n = spdy_conn_send_data(l->conn, id, p, left, false);
        if (n == SPDY_ERR_STATE)
            return 0; /* the client reset the stream: its output is dropped */
        if (n <= 0)
            return -1; /* cannot happen below SPDY_LINK_CHOKE: a broken connection */
        p += n;
        left -= (size_t)n;
    }
    /* Out now when the socket takes it (lws_write's way), else when writable. */
    if (spdy_link_flush(l) < 0)
        return -1;
    spdy_link_poll_update(l);
    return 0;
}

void session_spdy_rx_pause(struct session_spdy *l, bool pause)
{
    l->rx_paused = pause;
    spdy_link_poll_update(l);
}

void session_spdy_end(struct session_spdy *l)
{
    if (l->state == SPDY_LINK_ENDING || l->state == SPDY_LINK_LINGER)
        return;
    static const int ours[] = {PROTO_CH_STDOUT, PROTO_CH_STDERR, PROTO_CH_ERROR};
    for (size_t i = 0; i < sizeof(ours) / sizeof(ours[0]); i++)
        if (l->ids[ours[i]] && spdy_conn_stream_can_send(l->conn, l->ids[ours[i]]))
            spdy_conn_send_data(l->conn, l->ids[ours[i]], NULL, 0, true);
    spdy_conn_goaway(l->conn, SPDY_GOAWAY_OK);
    l->state = SPDY_LINK_ENDING;
    spdy_link_poll_update(l);
}

void session_spdy_ping(struct session_spdy *l)
{
    if (l->state != SPDY_LINK_RUNNING)
        return;
    spdy_conn_ping(l->conn);
    if (spdy_link_flush(l) < 0)
        return; /* the poll sees the error */
    spdy_link_poll_update(l);
}

int session_spdy_fd(const struct session_spdy *l)
{
    return l->fd;
}

void session_spdy_close_all(struct server *server)
{
    for (struct session *s = server->session_list, *next; s; s = next) {
        next = s->next;
        if (s->spdy)
            spdy_link_close(s->spdy);
    }
}

/* ---- the hand-over ---- */

/* The request, validated as upgrade.c validates a WebSocket's (local mode),
 * into req; or answered here (false). */
static bool spdy_link_validate(struct server *server, int fd, struct admission *adm,
                               struct exec_request *req)
{
    char ns[CONFIG_NAME_MAX + 1], pod[CONFIG_NAME_MAX + 1];
    bool attach = false;
    const char *path = adm->attrs.path;
    if (strlen(path) >= SERVER_PATH_MAX) {
        spdy_link_refuse(fd, adm, 414, "RequestURITooLong", "request path too long", NULL, NULL);
        return false;
    }
    if (!exec_path_parse(path, ns, sizeof(ns), pod, sizeof(pod), &attach)) {
        spdy_link_refuse(fd, adm, 404, "NotFound",
                         "the server could not find the requested resource", NULL, NULL);
        return false;
    }
    struct exec_error err;
    if (exec_request_build(server->opts.cluster, ns, pod, attach, adm->query.items, adm->query.len,
                           req, &err) == 0)
        return true;
    spdy_link_refuse(fd, adm, err.code, err.reason, err.message,
                     err.details_name[0] ? err.details_name : NULL, err.details_kind);
    return false;
}

void session_spdy_take(struct server *server, int fd, const char *head, size_t len,
                       struct exec_request *prepared, struct admission *adm)
{
    struct exec_request req = {0};
    if (prepared) { /* gateway mode: validated and opened upstream */
        req = *prepared;
        memset(prepared, 0, sizeof(*prepared));
    } else if (!server->opts.gateway && !spdy_link_validate(server, fd, adm, &req)) {
        return;
    }
    const char *end = memmem(head, len, "\r\n\r\n", 4);
    size_t head_len = end ? (size_t)(end + 4 - head) : len;
    char offers[SPDY_LINK_OFFERS_MAX];
    int v = spdy_upgrade_negotiate(head, head_len, offers, sizeof(offers));
    char msg[EXEC_MESSAGE_MAX + SPDY_LINK_OFFERS_MAX];
    int code = 0;
    const char *reason = NULL;
    if (v == SPDY_UPGRADE_NONE) {
        code = 400;
        reason = "BadRequest";
        snprintf(msg, sizeof(msg), "unable to upgrade: X-Stream-Protocol-Version is required");
    } else if (v == SPDY_UPGRADE_NO_MATCH) {
        code = 403;
        reason = "Forbidden";
        snprintf(msg, sizeof(msg),
                 "unable to upgrade: unable to negotiate protocol: client supports %s, server "
                 "accepts %s",
                 offers, spdy_upgrade_server_list());
    } else if (server->opts.gateway && !prepared) {
        /* The gateway hands back only what fails the checks above; one
         * that passes them here read the head differently (upgrade.c's
         * "ambiguous head" case). */
        code = 400;
        reason = "BadRequest";
        snprintf(msg, sizeof(msg), "malformed request");
    } else if (server->shutting_down || server->sessions >= SERVER_SESSIONS_MAX) {
        code = 503;
        reason = "ServiceUnavailable";
        snprintf(msg, sizeof(msg), "too many sessions; try again later");
    }
    struct session_spdy *l = code ? NULL : calloc(1, sizeof(*l));
    struct spdy_conn_config cfg = {.role = SPDY_ROLE_SERVER, .flow = SPDY_FLOW_ADVISORY};
    if (l)
        l->conn = spdy_conn_new(&cfg, spdy_link_event, l);
    if (l && (!l->conn || uv_poll_init_socket(server->loop, &l->poll, fd) != 0)) {
        spdy_conn_free(l->conn); /* the poll was not initialised: nothing of libuv's to release */
        free(l);
        l = NULL;
    }
    if (!code && !l) {
        code = 500;
        reason = "InternalError";
        snprintf(msg, sizeof(msg), "out of memory");
    }
    struct session *s = NULL;
    if (!code) {
        l->poll.data = l;
        l->fd = -1; /* the socket is the caller's until the session is made */
        l->version = (enum spdy_version)v;
        spdy_link_wanted(&req, l->version, l->wanted);
        /* v4 (and v5) end with a metav1.Status; older versions with text, on
         * failure only. */
        bool json = l->version == SPDY_VERSION_V5 || l->version == SPDY_VERSION_V4;
        enum proto_kind kind = json ? PROTO_KIND_V4 : PROTO_KIND_CHANNEL;
        struct upgrade_offer offer = {.type = WSI_DATA_OFFER, .admission = adm};
        offer.neg.kind = kind;
        struct exec_error err;
        s = upgrade_session_open(server, &offer, kind, &req, &err);
        if (!s) {
            code = err.code;
            reason = err.reason;
            snprintf(msg, sizeof(msg), "%s", err.message);
            l->handles_open = 1;
            uv_close((uv_handle_t *)&l->poll, spdy_link_closed);
        }
    }
    if (code) { /* the admission is still ours: the refusal ends it */
        if (req.prepared)
            backend_stream_stop(req.prepared);
        exec_request_clear(&req);
        spdy_link_refuse(fd, adm, code, reason, msg, NULL, NULL);
        return;
    }
    l->server = server;
    l->session = s;
    l->fd = fd;
    s->spdy = l;
    uv_timer_init(server->loop, &l->timer);
    l->timer.data = l;
    l->handles_open = 2;
    proto_decoder_init(&l->resize, PROTO_KIND_V4);
    uint8_t resize_channel = PROTO_CH_RESIZE, unused[4];
    proto_decoder_feed(&l->resize, &resize_channel, 1, true, false, unused, sizeof(unused),
                       spdy_link_resize_event, l);
    int n = snprintf(l->head, sizeof(l->head),
                     "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
                     "Upgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: %s\r\n\r\n",
                     spdy_version_name(l->version));
    l->head_len = (size_t)n;
    uv_timer_start(&l->timer, spdy_link_on_timer, SPDY_LINK_STREAMS_MS, 0);
    /* Frames the client sent right behind its request head. */
    if (len > head_len &&
        spdy_conn_feed(l->conn, (const uint8_t *)head + head_len, len - head_len) < 0) {
        spdy_link_flush(l);
        spdy_link_close(l);
        return;
    }
    if (spdy_link_flush(l) < 0) {
        spdy_link_close(l);
        return;
    }
    spdy_link_poll_update(l);
}
