/* session.c - one exec/attach: the bridge between a client's connection (a
 * WebSocket through lws, or SPDY/3.1 through session_spdy.c) and a backend
 * stream.
 *
 * Bounded by design: output has one frame buffer (allocated while output
 * flows, freed when idle) and podterm reads the process only when that
 * buffer is free, so a client that stops reading stops the process, not our
 * memory. Input goes straight to the process; what it cannot take waits in a
 * fixed-size buffer while lws stops reading the socket (rx flow control).
 * Nothing is dropped in either direction.
 *
 * End of stream (PROTOCOL.md 3.9): every output byte, then the status on
 * channel 3, then Close 1000. */
#include "server/server_internal.h"

#include "server/http_reply.h"
#include "session/session.h"
#include "session/session_internal.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "screen/screen_tap.h"
#include "session/exec_request.h"

/* ---- the client's connection: a WebSocket (lws) or a SPDY link ----
 *
 * Everything below speaks to the connection through these, so one session
 * serves both transports (session_spdy.c says how SPDY maps onto it). */

bool session_connected(const struct session *s)
{
    return s->wsi || s->spdy;
}

static void session_want_write(struct session *s)
{
    if (s->spdy)
        session_spdy_want_write(s->spdy);
    else if (s->wsi)
        lws_callback_on_writable(s->wsi);
}

static bool session_choked(struct session *s)
{
    return s->spdy ? session_spdy_choked(s->spdy) : lws_send_pipe_choked(s->wsi);
}

/* ---- taps ---- */

static void session_tap_output(struct session *s, int channel, const uint8_t *data, size_t len)
{
    s->active_ms = uv_now(s->server->loop);
    for (size_t i = 0; i < s->taps_len; i++)
        if (s->taps[i].ops->output)
            s->taps[i].ops->output(s->taps[i].user, channel, data, len);
    if (s->watchers)
        session_watch_output(s, channel, data, len);
}

static void session_tap_input(struct session *s, const uint8_t *data, size_t len)
{
    s->active_ms = uv_now(s->server->loop);
    for (size_t i = 0; i < s->taps_len; i++)
        if (s->taps[i].ops->input)
            s->taps[i].ops->input(s->taps[i].user, data, len);
}

static void session_tap_resize(struct session *s, unsigned width, unsigned height)
{
    for (size_t i = 0; i < s->taps_len; i++)
        if (s->taps[i].ops->resize)
            s->taps[i].ops->resize(s->taps[i].user, width, height);
    if (s->watchers)
        session_watch_resize(s); /* after the model's resize (a tap above) */
}

/* Once, when the session is freed: how it ended. */
static void session_tap_end(struct session *s)
{
    if (s->tapped_end)
        return;
    s->tapped_end = true;
    const char *reason = s->end_reason                                     ? s->end_reason
                         : s->failed                                       ? "error"
                         : s->exited && s->exit.reason                     ? s->exit.reason
                         : s->exited && s->exit.type == BACKEND_EXIT_ERROR ? "error"
                         : s->exited && s->status_sent                     ? "exit"
                         : s->server->shutting_down                        ? "shutdown"
                                                                           : "client-closed";
    int code = s->exited && s->exit.type != BACKEND_EXIT_ERROR ? s->exit.code : -1;
    for (size_t i = 0; i < s->taps_len; i++)
        if (s->taps[i].ops->end)
            s->taps[i].ops->end(s->taps[i].user, code, reason);
}

int session_tap_add(struct session *s, const struct session_tap_ops *ops, void *user)
{
    if (s->taps_len >= SESSION_TAPS_MAX)
        return -1;
    s->taps[s->taps_len++] = (struct session_tap){ops, user};
    return 0;
}

void *session_tap_user(struct session *s, const struct session_tap_ops *ops)
{
    for (size_t i = 0; i < s->taps_len; i++)
        if (s->taps[i].ops == ops)
            return s->taps[i].user;
    return NULL;
}

void session_limits_set(struct session *s, unsigned max_duration_s, const char *max_policy,
                        unsigned idle_timeout_s, const char *idle_policy)
{
    s->max_duration_s = max_duration_s;
    s->idle_timeout_s = idle_timeout_s;
    free(s->limit_message);
    s->limit_message = NULL;
    if (!max_duration_s && !idle_timeout_s)
        return; /* most sessions: no room kept for rules that never fire */
    /* Kept as two message prefixes' sources: the limit that fires names its
     * rule (out of memory: it fires all the same, naming no rule). */
    char text[SESSION_LIMIT_MESSAGE_MAX];
    snprintf(text, sizeof(text), "%s\n%s", max_policy ? max_policy : "",
             idle_policy ? idle_policy : "");
    s->limit_message = strdup(text);
}

static void session_want_channel(struct session *s, int ch, bool on)
{
    if (!s->stream || !s->ch_open[ch] || s->reading[ch] == on)
        return;
    s->reading[ch] = on;
    backend_stream_want_read(s->stream, ch, on);
}

static void session_want_output(struct session *s, bool on)
{
    session_want_channel(s, 1, on);
    session_want_channel(s, 2, on);
}

/* End the session with an InternalError Status (then Close 1000) when
 * podterm itself cannot go on: dropping output or input instead would
 * stall the client or lose its keystrokes without a word. The stream is
 * stopped from the writeable callback (session_write_next), not here:
 * this may run inside a backend callback. */
static void session_fail(struct session *s, const char *message)
{
    if (s->failed || s->exited)
        return;
    session_want_output(s, false); /* readable is level-triggered: stop it */
    s->failed = true;
    s->exited = true;
    s->exit.type = BACKEND_EXIT_ERROR;
    s->exit.code = 0;
    snprintf(s->exit.message, sizeof(s->exit.message), "%s", message);
    s->ch_open[1] = s->ch_open[2] = false;
    s->out_pay = 0;
    session_want_write(s);
}

/* ---- backend callbacks ---- */

static void session_backend_readable(void *user, int channel)
{
    struct session *s = user;
    s->next_channel = channel;
    session_fill(s);
}

static void session_flush_stdin(struct session *s);

static void session_backend_writable(void *user)
{
    session_flush_stdin(user);
}

static void session_backend_exited(void *user, const struct backend_exit *exit)
{
    struct session *s = user;
    if (s->failed)
        return; /* the failure's Status is the one to send */
    s->exited = true;
    s->exit = *exit;
    s->ch_open[1] = s->ch_open[2] = false;
    session_want_write(s);
}

static const struct backend_stream_cbs session_cbs = {
    .readable = session_backend_readable,
    .writable = session_backend_writable,
    .exited = session_backend_exited,
};

/* ---- output ---- */

/* No connection takes the output (detached, waiting for a resume): the
 * process is read as usual, so that it runs on, and what it writes reaches
 * the taps only (the screen the resumed page is repainted from, the
 * recording). Bounded per event; readiness is level-triggered, so the rest
 * comes on the next turn of the loop. */
static void session_fill_detached(struct session *s)
{
    uint8_t buf[SESSION_DETACHED_READ];
    for (int i = 0, idle = 0; i < SESSION_DETACHED_READS_PER_WAKE && idle < 2; i++) {
        if (s->output_held) {
            session_want_output(s, false); /* a tap is behind: wait for it */
            return;
        }
        int ch = s->next_channel;
        s->next_channel = ch == 1 ? 2 : 1;
        ssize_t n = s->ch_open[ch] ? backend_stream_read(s->stream, ch, buf, sizeof(buf)) : -EAGAIN;
        if (n > 0) {
            session_tap_output(s, ch, buf, (size_t)n);
            idle = 0;
            continue;
        }
        if (n == 0 && s->ch_open[ch]) {
            s->ch_open[ch] = false;
            s->reading[ch] = false;
            backend_stream_want_read(s->stream, ch, false);
        }
        idle++;
    }
    session_want_output(s, true);
}

/* Read process output into the waiting message.
 *
 * Coalescing: a PTY read returns about 4 KiB, and every message costs the
 * client a fixed price (Node's ws, Go, Python and browsers pay per frame), so
 * while the client's socket cannot take the message, later output of the
 * same channel is appended to it, up to SESSION_OUT_PAYLOAD. Nothing waits
 * for that: the writeable callback sends whatever is there as soon as the
 * socket takes it, so a keystroke's echo goes out as fast as before. Only the
 * waiting message's channel is read meanwhile (the other's readiness would
 * fire again and again), which keeps the order of what was read. */
void session_fill(struct session *s)
{
    if (!s->stream || s->closed || s->failed)
        return;
    if (!session_connected(s)) {
        session_fill_detached(s);
        return;
    }
    size_t head = proto_frame_head(s->kind, SESSION_OUT_PAYLOAD);
    size_t cap = LWS_PRE + proto_frame_size(s->kind, SESSION_OUT_PAYLOAD);
    if (!s->out && !(s->out = malloc(cap))) {
        session_fail(s, SESSION_OOM_MESSAGE);
        return;
    }
    uint8_t *payload = s->out + LWS_PRE + head;
    for (int tries = 0; tries < 2;) {
        if (s->kind == PROTO_KIND_PODTERM && s->unacked >= PROTO_FLOW_WINDOW) {
            session_want_output(s, false); /* the page is behind: wait for its acks */
            return;
        }
        if (s->output_held) {              /* checked per read: a tap may hold from inside one */
            session_want_output(s, false); /* a tap is behind: wait for it */
            return;
        }
        int ch = s->out_pay ? s->out_ch : s->next_channel;
        size_t room = SESSION_OUT_PAYLOAD - s->out_pay;
        ssize_t n = 0;
        if (s->ch_open[ch] && room >= SESSION_COALESCE_ROOM_MIN)
            n = backend_stream_read(s->stream, ch, payload + s->out_pay, room);
        else if (s->ch_open[ch])
            n = -EAGAIN; /* full: wait for the socket */
        if (n > 0) {
            session_tap_output(s, ch, payload + s->out_pay, (size_t)n);
            s->out_pay += (size_t)n;
            s->out_ch = ch;
            s->unacked += (uint64_t)n;
            session_want_write(s);
            continue; /* more may be there already */
        }
        if (n == 0 && s->ch_open[ch]) {
            s->ch_open[ch] = false;
            s->reading[ch] = false;
            backend_stream_want_read(s->stream, ch, false);
        }
        if (s->out_pay) {
            /* A message waits: listen to its channel only, and only while
             * there is room to append. */
            session_want_channel(s, ch, room >= SESSION_COALESCE_ROOM_MIN);
            session_want_channel(s, ch == 1 ? 2 : 1, false);
            return;
        }
        s->next_channel = ch == 1 ? 2 : 1;
        tries++;
    }
    /* Nothing to send now: give the buffer back while idle, listen again. */
    free(s->out);
    s->out = NULL;
    session_want_output(s, true);
}

int session_write_frame(struct session *s, uint8_t *frame, size_t len)
{
    if (s->spdy)
        return session_spdy_write(s->spdy, frame, len);
    enum lws_write_protocol type = proto_frame_is_text(s->kind) ? LWS_WRITE_TEXT : LWS_WRITE_BINARY;
    return lws_write(s->wsi, frame, len, type) < (int)len ? -1 : 0;
}

/* The waiting payload as one message: the header goes right before it (the
 * payload sat after the largest header) or base64 expands it in place. */
static int session_write_output(struct session *s)
{
    size_t n = s->out_pay;
    int ch = s->out_ch;
    size_t head = proto_frame_head(s->kind, SESSION_OUT_PAYLOAD);
    size_t h = proto_frame_head(s->kind, n);
    uint8_t *frame = s->out + LWS_PRE;
    if (h != head)
        memmove(frame + h, frame + head, n);
    size_t len = proto_frame_encode_inplace(s->kind, (uint8_t)ch, frame, n);
    s->out_pay = 0;
    s->next_channel = ch == 1 ? 2 : 1;
    return session_write_frame(s, frame, len);
}

/* The first message: one empty payload on the lowest enabled output channel. */
static int session_write_initial(struct session *s)
{
    uint8_t buf[LWS_PRE + 8];
    uint8_t ch = s->req.want_stdout ? 1 : s->req.want_stderr ? 2 : 3;
    size_t n = proto_frame_encode_inplace(s->kind, ch, buf + LWS_PRE, 0);
    s->initial_sent = true;
    return session_write_frame(s, buf + LWS_PRE, n);
}

static void session_argv_text(const struct session *s, char *out, size_t cap)
{
    size_t used = snprintf(out, cap, "[");
    for (size_t i = 0; i < s->req.argc && used < cap; i++)
        used += snprintf(out + used, cap - used, "%s%s", i ? " " : "", s->req.argv[i]);
    if (used < cap)
        snprintf(out + used, cap - used, "]");
}

static int session_write_status(struct session *s)
{
    enum proto_status_type type = PROTO_STATUS_SUCCESS;
    char message[BACKEND_ERR_MAX + SESSION_ARGV_TEXT_MAX + 64] = "";
    if (s->exit.type == BACKEND_EXIT_ERROR) {
        type = PROTO_STATUS_INTERNAL;
        snprintf(message, sizeof(message), "%s", s->exit.message);
    } else if (s->exit.code != 0 && !s->req.attach) {
        char argv[SESSION_ARGV_TEXT_MAX];
        session_argv_text(s, argv, sizeof(argv));
        type = PROTO_STATUS_EXIT;
        snprintf(message, sizeof(message), "error executing command %s, exit code %d", argv,
                 s->exit.code);
    }
    uint8_t buf[LWS_PRE + 1 + 4 * PROTO_STATUS_MAX / 3 + 8];
    char payload[PROTO_STATUS_MAX];
    int n = proto_status_payload(s->kind, type, s->exit.code, message, payload, sizeof(payload));
    s->status_sent = true;
    if (n <= 0)
        return 0; /* pre-v4 protocols say nothing on success */
    int len = proto_frame_encode(s->kind, PROTO_CH_ERROR, (const uint8_t *)payload, (size_t)n,
                                 buf + LWS_PRE, sizeof(buf) - LWS_PRE);
    return len < 0 ? -1 : session_write_frame(s, buf + LWS_PRE, (size_t)len);
}

/* One step of the output sequence (initial frame, data, status, Close).
 * 1: wrote a frame and more may follow now; 0: nothing to write until an
 * event asks again (or the Close was started); -1: the connection failed. */
static int session_write_next(struct session *s)
{
    if (s->peer_gone)
        return -1; /* nobody to tell: drop the connection, which ends the stream */
    if (s->going_away && s->close_sent)
        return -1; /* the Close 1001 is out (see below): hang up */
    if (s->too_large) {
        if (!s->close_sent) { /* the polite path, as for Close 1000 below */
            s->close_sent = true;
            lws_close_reason(s->wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE,
                             (unsigned char *)SESSION_TOO_LARGE_REASON,
                             strlen(SESSION_TOO_LARGE_REASON));
            lws_close_free_wsi(s->wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE,
                               "podterm: message too large");
        }
        return 0;
    }
    if (!s->initial_sent)
        return session_write_initial(s) < 0 ? -1 : 1;
    int rc = session_resume_write_next(s);
    if (rc != 0 || (rc = session_watch_owner_write_next(s)) != 0)
        return rc;
    if (s->wsi && (rc = session_keepalive_write(&s->ka, s->wsi)) != 0)
        return rc;
    if (s->out_pay) {
        if (session_write_output(s) < 0)
            return -1;
        session_fill(s); /* lws has the bytes: the buffer is free for the next chunk */
        return 1;
    }
    if (s->failed && s->stream) {
        backend_stream_stop(s->stream);
        s->stream = NULL;
    }
    if (s->exited && !s->status_sent)
        return session_write_status(s) < 0 ? -1 : 1;
    if (s->status_sent && !s->close_sent && s->spdy) {
        /* SPDY: the streams end (FIN) and GOAWAY follows (session_spdy.c). */
        s->close_sent = true;
        session_spdy_end(s->spdy);
        return 0;
    }
    if (s->status_sent && !s->close_sent && s->going_away) {
        /* Shutting down: Close 1001 written here, then the connection
         * dropped (below) once lws has sent it, instead of lws's polite
         * close, which would keep the server up to 5 s more waiting for a
         * client's Close that an idle or gone client never sends. */
        s->close_sent = true;
        uint8_t frame[LWS_PRE + 2];
        frame[LWS_PRE] = (uint8_t)(LWS_CLOSE_STATUS_GOINGAWAY >> 8);
        frame[LWS_PRE + 1] = (uint8_t)(LWS_CLOSE_STATUS_GOINGAWAY & 0xff);
        return lws_write(s->wsi, frame + LWS_PRE, 2, SESSION_LWS_WRITE_CLOSE) < 2 ? -1 : 1;
    }
    if (s->status_sent && !s->close_sent) {
        /* lws 4.1 drops TCP without a Close frame when a writeable callback
         * returns -1 or a timeout kills the wsi (both mark the socket
         * unusable first), and kubectl then fails with 1006. Closing with a
         * status takes lws's polite path instead: the wsi stays alive in
         * "waiting to send close", lws writes Close 1000 on the next
         * writeable, then waits (5 s at most) for the client's Close. */
        s->close_sent = true;
        lws_close_reason(s->wsi, LWS_CLOSE_STATUS_NORMAL, NULL, 0);
        lws_close_free_wsi(s->wsi, LWS_CLOSE_STATUS_NORMAL, "podterm: stream ended");
    }
    return 0;
}

int session_on_writeable(struct session *s)
{
    /* Keep writing while the socket takes it: a POLLOUT round trip through
     * the loop per frame costs three epoll_ctl calls and a wake-up, which
     * for 4 KiB PTY reads and for short sessions (initial frame, status,
     * Close) is most of the server's time. Bounded so one busy session
     * cannot starve the others. */
    for (int i = 0; i < SESSION_WRITES_PER_WAKE; i++) {
        int rc = session_write_next(s);
        if (rc <= 0)
            return rc;
        if (session_choked(s))
            break;
    }
    session_want_write(s);
    return 0;
}

/* ---- input ---- */

static void session_rx_pause(struct session *s, bool pause)
{
    if (s->rx_paused == pause || !session_connected(s))
        return;
    s->rx_paused = pause;
    if (s->spdy)
        session_spdy_rx_pause(s->spdy, pause);
    else
        lws_rx_flow_control(s->wsi, pause ? 0 : 1);
}

void session_stdin_close(struct session *s)
{
    if (s->stdin_closed)
        return;
    if (s->in_len > s->in_off || !s->stream || !s->started_ms) {
        s->stdin_close_pending = true;
        return;
    }
    s->stdin_closed = true;
    backend_stream_close_stdin(s->stream);
}

/* Write what waits in the input buffer; resume the socket when it is empty. */
static void session_flush_stdin(struct session *s)
{
    if (!s->started_ms)
        return; /* before the start (a SPDY client's early stdin): kept for it */
    while (s->stream && s->in_off < s->in_len) {
        ssize_t n = backend_stream_write(s->stream, s->in + s->in_off, s->in_len - s->in_off);
        if (n == -EAGAIN)
            return;
        s->in_off = n < 0 ? s->in_len : s->in_off + (size_t)n; /* -EPIPE: nobody reads */
    }
    s->in_off = s->in_len = 0;
    session_rx_pause(s, false);
    if (s->watchers)
        session_watch_stdin_drained(s);
    if (s->stdin_close_pending)
        session_stdin_close(s);
}

bool session_stdin_write(struct session *s, const uint8_t *data, size_t len)
{
    if (!s->req.want_stdin || s->stdin_closed || len == 0)
        return false; /* PROTOCOL.md 3.1: stdin data without stdin=true is dropped */
    if (!s->in && !(s->in = malloc(SESSION_IN_MAX))) {
        session_fail(s, SESSION_OOM_MESSAGE);
        return false;
    }
    if (s->in_len + len > SESSION_IN_MAX) {
        /* Cannot happen while rx is paused whenever the buffer is non-empty;
         * compact before giving up on the invariant. */
        memmove(s->in, s->in + s->in_off, s->in_len - s->in_off);
        s->in_len -= s->in_off;
        s->in_off = 0;
        if (s->in_len + len > SESSION_IN_MAX)
            return true;
    }
    memcpy(s->in + s->in_len, data, len);
    s->in_len += len;
    session_tap_input(s, data, len);
    session_flush_stdin(s);
    if (s->in_off == s->in_len)
        return false;
    session_rx_pause(s, true);
    return true;
}

void session_resize(struct session *s, unsigned width, unsigned height)
{
    if (s->stream && s->req.tty) {
        backend_stream_resize(s->stream, width, height);
        session_tap_resize(s, width, height);
    }
}

static void session_event(void *user, const struct proto_event *ev, const uint8_t *data)
{
    struct session *s = user;
    switch (ev->type) {
    case PROTO_EV_STDIN:
        session_stdin_write(s, data, ev->out_len);
        break;
    case PROTO_EV_RESIZE:
        session_resize(s, ev->width, ev->height);
        break;
    case PROTO_EV_CLOSE_STDIN:
        session_stdin_close(s);
        break;
    case PROTO_EV_ACK:
        s->unacked = ev->ack_bytes >= s->unacked ? 0 : s->unacked - ev->ack_bytes;
        session_fill(s);
        break;
    default:
        break;
    }
}

void session_on_pong(struct session *s)
{
    s->ka.rx_ms = uv_now(s->server->loop);
}

int session_on_receive(struct session *s, const void *in, size_t len)
{
    s->ka.rx_ms = uv_now(s->server->loop);
    bool first = !s->in_message;
    bool final = lws_is_final_fragment(s->wsi);
    if (first)
        s->message_bytes = 0;
    s->message_bytes += len;
    if (s->message_bytes + lws_remaining_packet_payload(s->wsi) > SERVER_MESSAGE_MAX) {
        lws_close_reason(s->wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE,
                         (unsigned char *)SESSION_TOO_LARGE_REASON,
                         strlen(SESSION_TOO_LARGE_REASON));
        return -1;
    }
    s->in_message = !final;
    uint8_t out[SERVER_RX_CHUNK];
    const uint8_t *p = in;
    /* lws never hands us more than the rx buffer, but slice anyway. */
    while (len > 0 || first) {
        size_t n = len > sizeof(out) ? sizeof(out) : len;
        bool last = n == len;
        if (proto_decoder_feed(&s->dec, p, n, first, final && last, out, sizeof(out), session_event,
                               s) != PROTO_OK) {
            lws_close_reason(s->wsi, LWS_CLOSE_STATUS_PROTOCOL_ERR, NULL, 0);
            return -1;
        }
        p += n;
        len -= n;
        first = false;
    }
    return 0;
}

/* ---- the sweep: what lws cannot tell us ----
 *
 * lws 4.1 parses a frame header byte by byte and tells nobody: the first
 * callback for a frame is LWS_CALLBACK_RECEIVE with its first payload
 * bytes (session_on_receive checks the announced length then). A client
 * that sends only the header of a 2^62-byte frame would get no answer until
 * payload came. Only lws sees the socket's bytes, and it exposes the parsed
 * length (lws_remaining_packet_payload) but no hook after a header, so a
 * timer looks at every session's announced length each
 * SESSION_SWEEP_MS: O(sessions) reads of one field, 10 times a
 * second, and only while sessions exist. What would push the message past
 * SERVER_MESSAGE_MAX is closed with 1009 on the next writeable callback. */
static bool session_frame_too_large(const struct session *s)
{
    uint64_t before = s->in_message ? s->message_bytes : 0;
    return before + lws_remaining_packet_payload(s->wsi) > SERVER_MESSAGE_MAX;
}

/* While stdin backpressure has lws ignore the socket's input (rx flow
 * control), lws cannot see the client hang up either, and a process that
 * never reads stdin would keep a session nobody is on for as long as it
 * runs. The kernel still knows: POLLRDHUP once the peer shut down or closed
 * (TCP and the TLS terminator's socketpair alike). */
static bool session_peer_hung_up(const struct session *s)
{
    struct pollfd pfd = {.fd = s->spdy ? session_spdy_fd(s->spdy) : lws_get_socket_fd(s->wsi),
                         .events = POLLRDHUP};
    return pfd.fd >= 0 && poll(&pfd, 1, 0) == 1 && (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

/* ExecPolicy's limits: the session ends with a Status saying which and why. */
static void session_check_limits(struct session *s, uint64_t now)
{
    if (s->exited || s->failed || (!s->max_duration_s && !s->idle_timeout_s))
        return;
    char max_policy[SESSION_LIMIT_MESSAGE_MAX], *idle_policy = "";
    snprintf(max_policy, sizeof(max_policy), "%s", s->limit_message ? s->limit_message : "");
    char *nl = strchr(max_policy, '\n');
    if (nl) {
        *nl = '\0';
        idle_policy = nl + 1;
    }
    char msg[SESSION_LIMIT_MESSAGE_MAX * 2];
    if (s->max_duration_s && now - s->started_ms >= (uint64_t)s->max_duration_s * 1000) {
        snprintf(msg, sizeof(msg),
                 "session ended: reached its maximum duration of %us (ExecPolicy \"%s\")",
                 s->max_duration_s, max_policy);
        s->end_reason = "max-duration";
    } else if (s->idle_timeout_s && now - s->active_ms >= (uint64_t)s->idle_timeout_s * 1000) {
        snprintf(msg, sizeof(msg), "session ended: idle for longer than %us (ExecPolicy \"%s\")",
                 s->idle_timeout_s, idle_policy);
        s->end_reason = "idle-timeout";
    } else {
        return;
    }
    session_fail(s, msg);
}

void session_output_hold(struct session *s, bool hold)
{
    if (s->output_held == hold)
        return;
    s->output_held = hold;
    if (!hold)
        session_fill(s); /* from the loop: read again (or listen) */
}

void session_end_error(struct session *s, const char *reason, const char *message)
{
    if (s->exited || s->failed)
        return; /* ending already: its own Status goes out */
    s->end_reason = reason;
    session_fail(s, message);
}

void session_shutdown_all(struct server *server)
{
    session_resume_end_all(server);
    for (struct session *s = server->session_list; s; s = s->next) {
        if (s->exited || s->failed || !session_connected(s))
            continue; /* ending already (its own Status goes out), or not yet open */
        s->end_reason = "shutdown";
        s->going_away = true;
        session_fail(s, SESSION_SHUTDOWN_MESSAGE);
    }
}

/* Keepalive (session_keepalive.h): true when the client is gone. */
static bool session_keepalive(struct session *s, uint64_t now)
{
    if (s->status_sent)
        return false;
    return session_keepalive_check(&s->ka, s->wsi, now, s->server->opts.ping_interval_ms,
                                   s->started_ms, s->rx_paused);
}

void session_sweep(uv_timer_t *timer)
{
    struct server *server = timer->data;
    uint64_t now = uv_now(server->loop);
    session_revoke_check(server);
    for (struct session *s = server->session_list, *next; s; s = next) {
        next = s->next;
        if (s->stream && (session_connected(s) || s->detached_ms))
            session_check_limits(s, now);
        if (now - s->active_ms >= SCREEN_TAP_IDLE_MS)
            session_screen_idle(s);
        if (s->watchers && (s->exited || s->failed))
            session_watch_end(s); /* nothing more to show (detached: freed later) */
        else if (s->watchers)
            session_watch_sweep(s, now);
        if (!session_connected(s) && s->detached_ms && session_resume_expired(s, now)) {
            session_free(s); /* nobody came back: the process ends (SIGHUP) */
            continue;
        }
        if (!session_connected(s) || s->close_sent || s->too_large || s->peer_gone)
            continue;
        /* The frame and keepalive checks are lws's; a SPDY link has its own. */
        if (s->wsi && session_frame_too_large(s)) {
            s->too_large = true;
        } else if (s->rx_paused && session_peer_hung_up(s)) {
            s->peer_gone = true;
        } else if (session_keepalive(s, now)) {
            /* Nobody to send a Status or a Close to, and a socket it does
             * not read may never turn writeable again: shut the socket down
             * under lws (or the SPDY connection), which then sees the error,
             * closes and frees the session, ending the process as any
             * client's disappearance does. */
            s->peer_gone = true;
            s->end_reason = "client-unresponsive";
            if (s->wsi)
                session_keepalive_hang_up(s->wsi);
            else
                shutdown(session_spdy_fd(s->spdy), SHUT_RDWR);
        } else {
            if (s->spdy && s->ka.ping_pending) { /* a SPDY PING, answered by any client */
                s->ka.ping_pending = false;
                session_spdy_ping(s->spdy);
            }
            continue;
        }
        session_want_write(s);
    }
}

static void session_list_add(struct session *s)
{
    struct server *server = s->server;
    s->prev = NULL;
    s->next = server->session_list;
    if (s->next)
        s->next->prev = s;
    server->session_list = s;
    if (!server->sessions++ && !server->shutting_down)
        uv_timer_start(&server->session_sweep, session_sweep, SESSION_SWEEP_MS, SESSION_SWEEP_MS);
}

static void session_list_remove(struct session *s)
{
    struct server *server = s->server;
    if (s->prev)
        s->prev->next = s->next;
    else
        server->session_list = s->next;
    if (s->next)
        s->next->prev = s->prev;
    if (--server->sessions == 0 && !uv_is_closing((uv_handle_t *)&server->session_sweep)) {
        uv_timer_stop(&server->session_sweep);
        server_sessions_gone(server);
    }
}

size_t session_list_snapshot(struct server *server, struct session_view *out, size_t cap)
{
    size_t n = 0;
    for (struct session *s = server->session_list; s; s = s->next, n++)
        if (n < cap)
            out[n] =
                (struct session_view){s, &s->req, s->taps, s->taps_len, session_watch_count(s)};
    return n;
}

/* ---- lifetime ---- */

struct session *session_new(struct server *server, enum proto_kind kind, struct exec_request *req)
{
    struct session *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->type = WSI_DATA_SESSION;
    s->server = server;
    s->kind = kind;
    s->req = *req;
    memset(req, 0, sizeof(*req)); /* the session owns argv now */
    s->stream = s->req.prepared;  /* gateway: stopped with the session even if never started */
    s->next_channel = 1;
    s->ch_open[1] = s->req.want_stdout;
    s->ch_open[2] = s->req.want_stderr && !s->req.tty; /* PROTOCOL.md 3.8 */
    proto_decoder_init(&s->dec, kind);
    session_list_add(s);
    return s;
}

int session_on_established(struct session *s, struct lws *wsi)
{
    if (s->pending_wsi == wsi)
        return session_resume_attach(s, wsi);
    s->wsi = wsi;
    session_start(s);
    return 0;
}

void session_start(struct session *s)
{
    uint64_t now = uv_now(s->server->loop);
    s->started_ms = s->active_ms = now ? now : 1; /* 0: never established (resume asks) */
    session_keepalive_start(&s->ka, s->started_ms);
    struct backend_exec_request breq = {
        .ns = s->req.ns,
        .pod = s->req.pod,
        .container = s->req.container,
        .argv = (const char *const *)s->req.argv,
        .argc = s->req.argc,
        .attach = s->req.attach,
        .want_stdin = s->req.want_stdin,
        .want_stdout = s->ch_open[1],
        .want_stderr = s->ch_open[2],
        .tty = s->req.tty,
        .prepared = s->req.prepared,
    };
    char err[BACKEND_ERR_MAX];
    int rc = backend_stream_start(s->server->opts.backend, &breq, &session_cbs, s, &s->stream, err,
                                  sizeof(err));
    if (rc < 0) {
        s->stream = NULL;
        s->exited = true;
        s->exit.type = BACKEND_EXIT_ERROR;
        s->exit.code = 0;
        snprintf(s->exit.message, sizeof(s->exit.message), "%s", err);
    } else {
        session_want_output(s, true);
        if (s->in_len > s->in_off || s->stdin_close_pending)
            session_flush_stdin(s); /* stdin that came before the start (SPDY) */
    }
    session_want_write(s);
}

void session_on_peer_close(struct session *s)
{
    s->peer_closed = true;
}

void session_on_closed(struct session *s, struct lws *wsi)
{
    if (s->pending_wsi && wsi == s->pending_wsi) {
        /* A resume that never got established: the session stays as it was. */
        s->pending_wsi = NULL;
        return;
    }
    /* Its own connection, established or not (one closed between the
     * upgrade and ESTABLISHED has s->wsi NULL still, and ends it too). */
    s->wsi = NULL;
    if (session_resume_detach(s))
        return;
    s->closed = true;
    session_free(s);
}

void session_free(struct session *s)
{
    if (!s)
        return;
    session_watch_end(s); /* first: a repaint owed is taken while the model is there */
    if (s->stream)
        backend_stream_stop(s->stream);
    session_resume_forget(s);
    exec_request_clear(&s->req);
    free(s->owner);
    free(s->limit_message);
    free(s->repaint);
    free(s->out);
    free(s->in);
    session_list_remove(s);
    session_tap_end(s);
    free(s);
}
