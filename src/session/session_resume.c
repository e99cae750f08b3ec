/* session_resume.c - a web terminal's session outlives its connection
 * (issue 11; docs/flow-control.md, "Resume").
 *
 * A session that can be resumed (tty, v1.flow.podterm.dev, a screen model,
 * --session-grace > 0) tells its page an unguessable token on channel 7.
 * When the connection drops without a Close, the session is detached
 * instead of ended: the process, its PTY and (gateway mode) the upstream
 * exec stay; output goes on feeding the screen model and the recording.
 * The page then opens .../sessions/{id}/resume offering the token as a
 * subprotocol item; the same user with the current token takes the session
 * over, gets the screen repainted and a new token, and goes on. Nobody back
 * within the grace: the session ends as for any client gone (SIGHUP), with
 * "grace-expired" as the audit's end reason. A connection that comes back
 * while the server still thinks the old one alive takes over from it.
 *
 * API clients (kubectl, the libraries) never speak the flow protocol, so
 * closing their connection ends their session as it always did. */
#include "session/session_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>

#include "admit/admit.h"
#include "screen/screen_tap.h"
#include "server/http_reply.h"

#define RESUME_NOT_RESUMABLE                                                                       \
    "the session cannot be resumed (not a web terminal's tty session, or resume is off)"
#define RESUME_ENDING "the session is ending and cannot be resumed"
/* One message for a wrong user and a wrong token: which one is not said. */
#define RESUME_FORBIDDEN "the resume token is not valid for this session and user"
#define RESUME_NO_TOKEN                                                                            \
    "a resume offers its token as the Sec-WebSocket-Protocol item " PROTO_RESUME_PREFIX "<token>"

static void resume_wsi_drop(struct lws *wsi);

static int resume_token_new(struct session *s)
{
    uint8_t b[SESSION_RESUME_BYTES];
    static const char hex[] = "0123456789abcdef";
    if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
        return -1;
    for (size_t i = 0; i < sizeof(b); i++) {
        s->resume_token[2 * i] = hex[b[i] >> 4];
        s->resume_token[2 * i + 1] = hex[b[i] & 15];
    }
    s->resume_token[SESSION_RESUME_TOKEN_LEN] = '\0';
    explicit_bzero(b, sizeof(b));
    return 0;
}

void session_identify(struct session *s, const char *id, const char *owner, uint64_t grace_ms)
{
    snprintf(s->id, sizeof(s->id), "%s", id ? id : "");
    free(s->owner);
    s->owner = owner ? strdup(owner) : NULL;
    /* Without an owner or a token nobody could resume it: not resumable. */
    if (grace_ms && s->owner && resume_token_new(s) == 0) {
        s->grace_ms = grace_ms;
        s->info_pending = s->kind == PROTO_KIND_PODTERM;
    }
}

const char *session_id(const struct session *s)
{
    return s->id;
}

struct session *session_find(struct server *server, const char *id)
{
    if (!id || !id[0])
        return NULL;
    for (struct session *s = server->session_list; s; s = s->next)
        if (strcmp(s->id, id) == 0)
            return s;
    return NULL;
}

/* What belonged to the connection that is gone; the process's side (its
 * stream, stdin still waiting for it, the taps) stays. */
static void resume_connection_reset(struct session *s)
{
    free(s->out);
    s->out = NULL;
    s->out_pay = 0;
    s->unacked = 0;
    free(s->repaint);
    s->repaint = NULL;
    s->repaint_len = s->repaint_off = 0;
    s->rx_paused = false;
    s->in_message = false;
    s->message_bytes = 0;
    s->initial_sent = false;
    session_keepalive_start(&s->ka, 0);
    s->peer_gone = false;
    s->end_reason = NULL; /* "client-unresponsive" is what a drop looks like: not an end */
}

/* Whether the session may wait for a resume when its connection goes. */
static bool resume_detachable(struct session *s)
{
    /* Never established (no process started): nothing to come back to.
     * Draining: the listener is closed, nobody could come back here. */
    return s->grace_ms && s->started_ms && !s->peer_closed && !s->exited && !s->failed &&
           !s->status_sent && !s->close_sent && !s->too_large && !s->server->shutting_down &&
           !s->server->draining && session_screen(s);
}

bool session_resume_detach(struct session *s)
{
    if (!resume_detachable(s))
        return false;
    resume_connection_reset(s);
    if (!s->detached_ms) { /* a failed resume does not extend the grace */
        uint64_t now = uv_now(s->server->loop);
        s->detached_ms = now ? now : 1;
    }
    session_fill(s); /* read on, for the taps */
    return true;
}

void session_resume_forget(struct session *s)
{
    if (s->pending_wsi) /* a resume between its upgrade and ESTABLISHED */
        resume_wsi_drop(s->pending_wsi);
    s->pending_wsi = NULL;
}

void session_resume_end_all(struct server *server)
{
    for (struct session *s = server->session_list, *next; s; s = next) {
        next = s->next;
        if (!s->wsi && s->detached_ms) {
            s->end_reason = "shutdown"; /* nobody to tell: it ends now */
            session_free(s);
        }
    }
}

bool session_resume_expired(struct session *s, uint64_t now)
{
    if (now - s->detached_ms < s->grace_ms)
        return false;
    if (!s->end_reason)
        s->end_reason = "grace-expired";
    return true;
}

/* Compared in time that does not depend on where they differ. */
static bool resume_token_equal(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    unsigned char d = la != lb;
    for (size_t i = 0; i < la && i < lb; i++)
        d |= (unsigned char)(a[i] ^ b[i]);
    return d == 0;
}

/* A connection that no longer belongs to the session: hung up under lws,
 * which then closes it without calling the session. */
static void resume_wsi_drop(struct lws *wsi)
{
    lws_set_opaque_user_data(wsi, NULL);
    int fd = lws_get_socket_fd(wsi);
    if (fd >= 0)
        shutdown(fd, SHUT_RDWR);
    lws_callback_on_writable(wsi);
}

static int resume_refuse(struct lws *wsi, int code, const char *reason, const char *message)
{
    return http_reply_status(wsi, code, reason, message, NULL, NULL) < 0 ? -1 : 1;
}

int session_resume_upgrade(struct server *server, struct lws *wsi, struct upgrade_offer *offer)
{
    struct admission *adm = offer->admission;
    const char *id = adm ? adm->attrs.name : "";
    /* A refused offer keeps no resume item: say what was wrong with it first. */
    if (offer->negotiation_rc != PROTO_OK || offer->neg.kind == PROTO_KIND_NONE)
        return resume_refuse(wsi, 403, "Forbidden",
                             "none of the offered WebSocket subprotocols is supported");
    if (!offer->neg.has_resume)
        return resume_refuse(wsi, 400, "BadRequest", RESUME_NO_TOKEN);
    struct session *s = session_find(server, id);
    if (!s) {
        char msg[128 + AUDIT_ID_LEN];
        snprintf(msg, sizeof(msg), "sessions.podterm.dev \"%.*s\" not found", AUDIT_ID_LEN, id);
        return resume_refuse(wsi, 404, "NotFound", msg);
    }
    if (!s->grace_ms)
        return resume_refuse(wsi, 409, "Conflict", RESUME_NOT_RESUMABLE);
    if (!adm || !s->owner || strcmp(adm->user.user, s->owner) != 0 ||
        !resume_token_equal(offer->neg.resume, s->resume_token))
        return resume_refuse(wsi, 403, "Forbidden", RESUME_FORBIDDEN);
    if (s->status_sent || s->close_sent || s->peer_closed || (s->wsi && !resume_detachable(s)))
        return resume_refuse(wsi, 409, "Conflict", RESUME_ENDING);
    if (s->wsi) {
        /* The old connection looks alive to us but the page has moved on
         * (detachable, checked above: the session cannot be left orphaned). */
        struct lws *old = s->wsi;
        s->wsi = NULL;
        resume_wsi_drop(old);
        session_resume_detach(s);
    }
    if (s->pending_wsi) /* an earlier resume not yet established: the newest wins */
        resume_wsi_drop(s->pending_wsi);
    s->pending_wsi = wsi;
    s->kind = offer->neg.kind;
    /* The resume is a request of its own in the audit: answered 101, done. */
    offer->admission = NULL;
    admission_started(adm, 101);
    admission_finish(adm, 101);
    wsi_data_release(wsi);
    lws_set_opaque_user_data(wsi, s);
    return 0;
}

int session_resume_attach(struct session *s, struct lws *wsi)
{
    s->pending_wsi = NULL;
    s->wsi = wsi;
    s->detached_ms = 0;
    s->resumes++;
    s->active_ms = uv_now(s->server->loop);
    session_keepalive_start(&s->ka, s->active_ms);
    proto_decoder_init(&s->dec, s->kind);
    /* The repaint is taken now, before anything more is read: what the
     * process writes from here on follows it on the wire, exactly once. */
    struct screen *scr = session_screen(s);
    long n = scr ? screen_repaint(scr, NULL, 0) : -1;
    s->repaint = n > 0 ? malloc((size_t)n) : NULL;
    if (!s->repaint || screen_repaint(scr, s->repaint, (size_t)n) != n) {
        free(s->repaint);
        s->repaint = NULL;
        session_end_error(s, "error", "podterm: the screen could not be repainted");
    } else {
        s->repaint_len = (size_t)n;
        s->info_pending = s->kind == PROTO_KIND_PODTERM && resume_token_new(s) == 0;
        session_watch_resumed(s);
    }
    session_fill(s);
    lws_callback_on_writable(wsi);
    return 0;
}

static int resume_write_info(struct session *s)
{
    char json[SESSION_INFO_MAX];
    int n = snprintf(json, sizeof(json),
                     "{\"type\":\"session\",\"id\":\"%s\",\"resume\":\"%s\",\"grace\":%.3g}", s->id,
                     s->resume_token, (double)s->grace_ms / 1000.0);
    s->info_pending = false;
    uint8_t buf[LWS_PRE + SESSION_INFO_MAX + 8];
    int len = n > 0 && (size_t)n < sizeof(json)
                  ? proto_frame_encode(s->kind, PROTO_CH_INFO, (const uint8_t *)json, (size_t)n,
                                       buf + LWS_PRE, sizeof(buf) - LWS_PRE)
                  : -1;
    explicit_bzero(json, sizeof(json));
    if (len < 0)
        return 0; /* cannot happen (fixed fields); the page then simply cannot resume */
    return session_write_frame(s, buf + LWS_PRE, (size_t)len) < 0 ? -1 : 1;
}

/* The repaint, as stdout messages of at most SESSION_OUT_PAYLOAD. Counted
 * as output for the page's acks; the window is not waited for (a repaint
 * is bounded by the screen's size). */
static int resume_write_repaint(struct session *s)
{
    size_t n = s->repaint_len - s->repaint_off;
    if (n > SESSION_OUT_PAYLOAD)
        n = SESSION_OUT_PAYLOAD;
    size_t cap = LWS_PRE + proto_frame_size(s->kind, n);
    uint8_t *frame = malloc(cap);
    int len = frame ? proto_frame_encode(s->kind, PROTO_CH_STDOUT, s->repaint + s->repaint_off, n,
                                         frame + LWS_PRE, cap - LWS_PRE)
                    : -1;
    int rc = len < 0 ? -1 : session_write_frame(s, frame + LWS_PRE, (size_t)len);
    free(frame);
    s->repaint_off += n;
    s->unacked += n;
    if (s->repaint_off == s->repaint_len) {
        free(s->repaint);
        s->repaint = NULL;
        s->repaint_len = s->repaint_off = 0;
    }
    return rc < 0 ? -1 : 1;
}

int session_resume_write_next(struct session *s)
{
    if (s->info_pending && s->grace_ms)
        return resume_write_info(s);
    if (s->repaint)
        return resume_write_repaint(s);
    return 0;
}
