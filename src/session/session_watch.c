/* session_watch.c - watchers and joiners of a live tty session (see
 * session_watch.h for the contract and the bounds).
 *
 * Who owns what: the session keeps a list of its watchers (s->watchers,
 * oldest first) and never frees one; a watcher belongs to its connection
 * and is freed when lws closes it. When the session ends first, every
 * watcher is told (w->session = NULL) and finishes on its own: what it
 * has queued, then the Status and the Close. The watcher holds its own
 * request's admission, finished (audited) when its connection ends. */
#include "session/session_internal.h"
#include "session/session_watch.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admit/admit.h"
#include "api/api_sessions.h"
#include "screen/screen_tap.h"
#include "util/util_json.h"

#define WATCH_NO_SCREEN                                                                            \
    "the session has no screen to watch (not a tty session, or --screen-model is off)"
#define WATCH_ENDING "the session is ending"
#define WATCH_TOO_MANY "too many watchers of this session; try again later"
/* The channel-7 size message: two numbers of at most 10 digits. */
#define WATCH_SIZE_MAX 64
/* A queue grows by doubling from this size up to WATCH_QUEUE_MAX. */
#define WATCH_QUEUE_MIN (16 * 1024)

struct watcher {
    enum wsi_data_type type; /* WSI_DATA_WATCHER: first, see server_internal.h */
    struct server *server;
    struct session *session; /* NULL once the session ended */
    struct watcher *next;    /* session->watchers */
    struct lws *wsi;
    struct admission *adm; /* this request's audit */
    char *user;
    bool join;
    enum proto_kind kind;
    struct proto_decoder dec;
    bool established;
    bool initial_sent;
    bool ended; /* the session is gone: drain, Status, Close */
    bool status_sent, close_sent;
    /* output */
    bool repaint_pending; /* the queue was dropped (or never filled): size + repaint next */
    uint8_t *repaint;     /* a repaint being written */
    size_t repaint_len, repaint_off;
    uint8_t *q; /* live output after the repaint; NULL while empty */
    size_t q_cap, q_off, q_len;
    uint64_t unacked;       /* flow protocol: stdout payload bytes not yet acknowledged */
    unsigned width, height; /* the size of the last repaint */
    /* input */
    bool rx_paused; /* a joiner whose stdin the process has not taken */
    bool in_message;
    uint64_t message_bytes;
    uint64_t started_ms;
    struct session_keepalive ka;
};

/* ---- the set, and the owner's view of it ---- */

size_t session_watch_count(const struct session *s)
{
    size_t n = 0;
    for (const struct watcher *w = s->watchers; w; w = w->next)
        n += w->established;
    return n;
}

/* The owner's page learns who watches (flow protocol only: channel 7). */
static void watch_owner_tell(struct session *s)
{
    if (s->kind != PROTO_KIND_PODTERM)
        return;
    s->watchers_info_pending = true;
    if (s->wsi)
        lws_callback_on_writable(s->wsi);
}

void session_watch_resumed(struct session *s)
{
    s->watchers_info_pending = false; /* a change while detached: the list below says it */
    if (session_watch_count(s))
        watch_owner_tell(s);
}

/* A user name is untrusted text: what is not UTF-8 is shown as '?'. */
static json_t *watch_user_json(const char *user)
{
    json_t *j = json_string(user);
    if (j)
        return j;
    char *copy = strdup(user);
    if (!copy)
        return NULL;
    for (char *p = copy; *p; p++)
        if ((unsigned char)*p >= 0x80)
            *p = '?';
    j = json_string(copy);
    free(copy);
    return j;
}

static char *watch_owner_json(const struct session *s)
{
    json_t *list = json_array();
    for (const struct watcher *w = s->watchers; w && list; w = w->next) {
        if (!w->established)
            continue;
        json_t *item = json_pack("{s:o*, s:s}", "user", watch_user_json(w->user), "mode",
                                 w->join ? "join" : "watch");
        if (!item || json_array_append_new(list, item) < 0) {
            json_decref(list);
            list = NULL;
        }
    }
    json_t *msg = list ? json_pack("{s:s, s:o}", "type", "watchers", "watchers", list) : NULL;
    char *text = util_json_text(msg, JSON_COMPACT | JSON_PRESERVE_ORDER, false, NULL);
    json_decref(msg);
    return text;
}

int session_watch_owner_write_next(struct session *s)
{
    if (!s->watchers_info_pending)
        return 0;
    s->watchers_info_pending = false;
    char *json = watch_owner_json(s);
    size_t n = json ? strlen(json) : 0;
    size_t cap = LWS_PRE + proto_frame_size(s->kind, n);
    uint8_t *frame = json ? malloc(cap) : NULL;
    int len = frame ? proto_frame_encode(s->kind, PROTO_CH_INFO, (const uint8_t *)json, n,
                                         frame + LWS_PRE, cap - LWS_PRE)
                    : -1;
    /* Out of memory: the page misses one update of a list it only shows. */
    int rc = len < 0 ? 0 : session_write_frame(s, frame + LWS_PRE, (size_t)len) < 0 ? -1 : 1;
    free(frame);
    free(json);
    return rc;
}

static void watch_list_remove(struct watcher *w)
{
    struct session *s = w->session;
    if (!s)
        return;
    for (struct watcher **p = &s->watchers; *p; p = &(*p)->next)
        if (*p == w) {
            *p = w->next;
            break;
        }
    w->session = NULL;
    w->next = NULL;
    if (w->established)
        watch_owner_tell(s);
}

/* ---- output ---- */

static void watch_queue_drop(struct watcher *w)
{
    free(w->q);
    w->q = NULL;
    w->q_cap = w->q_off = w->q_len = 0;
}

/* Room for len more bytes: compacted, then grown (doubling) up to the cap. */
static bool watch_queue_room(struct watcher *w, size_t len)
{
    size_t held = w->q_len - w->q_off;
    if (held + len > WATCH_QUEUE_MAX)
        return false;
    if (w->q_len + len <= w->q_cap)
        return true;
    if (w->q_off) {
        memmove(w->q, w->q + w->q_off, held);
        w->q_off = 0;
        w->q_len = held;
        if (w->q_len + len <= w->q_cap)
            return true;
    }
    size_t cap = w->q_cap ? w->q_cap : WATCH_QUEUE_MIN;
    while (cap < held + len)
        cap *= 2;
    if (cap > WATCH_QUEUE_MAX)
        cap = WATCH_QUEUE_MAX;
    uint8_t *q = realloc(w->q, cap);
    if (!q)
        return false;
    w->q = q;
    w->q_cap = cap;
    return true;
}

/* The session's output, as its owner gets it (tty: channel 1 only). */
void session_watch_output(struct session *s, int channel, const uint8_t *data, size_t len)
{
    if (channel != PROTO_CH_STDOUT)
        return;
    for (struct watcher *w = s->watchers; w; w = w->next) {
        if (!w->established || w->repaint_pending)
            continue; /* the repaint to come shows these bytes */
        if (watch_queue_room(w, len)) {
            memcpy(w->q + w->q_len, data, len);
            w->q_len += len;
        } else {
            /* Behind by more than the queue (or out of memory): what it
             * missed is replaced by the screen as it will be then. */
            watch_queue_drop(w);
            w->repaint_pending = true;
        }
        lws_callback_on_writable(w->wsi);
    }
}

/* The owner's terminal changed size: the watchers get the size and the
 * screen at that size (a terminal that only resized would keep the old
 * layout of what is on it). */
void session_watch_resize(struct session *s)
{
    struct screen *scr = session_screen(s);
    unsigned width = 0, height = 0;
    if (scr)
        screen_size(scr, &width, &height);
    for (struct watcher *w = s->watchers; w; w = w->next) {
        if (!w->established || (w->width == width && w->height == height))
            continue; /* the page's fit sends the same size again and again */
        watch_queue_drop(w);
        w->repaint_pending = true;
        lws_callback_on_writable(w->wsi);
    }
}

static bool watch_window_open(const struct watcher *w)
{
    return w->kind != PROTO_KIND_PODTERM || w->unacked < PROTO_FLOW_WINDOW;
}

static int watch_write_frame(struct watcher *w, uint8_t ch, const uint8_t *data, size_t n)
{
    size_t cap = LWS_PRE + proto_frame_size(w->kind, n);
    uint8_t *frame = malloc(cap);
    int len = frame ? proto_frame_encode(w->kind, ch, data, n, frame + LWS_PRE, cap - LWS_PRE) : -1;
    enum lws_write_protocol type = proto_frame_is_text(w->kind) ? LWS_WRITE_TEXT : LWS_WRITE_BINARY;
    int rc = len < 0 ? -1 : lws_write(w->wsi, frame + LWS_PRE, (size_t)len, type) < len ? -1 : 1;
    free(frame);
    if (ch == PROTO_CH_STDOUT)
        w->unacked += n;
    return rc;
}

/* The screen as it is now, and (flow protocol) its size before it: taken
 * in one step on the loop, so that every byte queued after it follows it. */
static int watch_repaint_take(struct watcher *w)
{
    struct screen *scr = w->session ? session_screen(w->session) : NULL;
    long n = scr ? screen_repaint(scr, NULL, 0) : -1;
    uint8_t *buf = n > 0 ? malloc((size_t)n) : NULL;
    if (!buf || screen_repaint(scr, buf, (size_t)n) != n) {
        free(buf);
        return -1;
    }
    w->repaint_pending = false;
    free(w->repaint);
    w->repaint = buf;
    w->repaint_len = (size_t)n;
    w->repaint_off = 0;
    screen_size(scr, &w->width, &w->height);
    if (w->kind != PROTO_KIND_PODTERM)
        return 0;
    char size[WATCH_SIZE_MAX];
    int len = snprintf(size, sizeof(size), "{\"type\":\"size\",\"width\":%u,\"height\":%u}",
                       w->width, w->height);
    return watch_write_frame(w, PROTO_CH_INFO, (const uint8_t *)size, (size_t)len);
}

static int watch_write_repaint(struct watcher *w)
{
    size_t n = w->repaint_len - w->repaint_off;
    if (n > SESSION_OUT_PAYLOAD)
        n = SESSION_OUT_PAYLOAD;
    int rc = watch_write_frame(w, PROTO_CH_STDOUT, w->repaint + w->repaint_off, n);
    w->repaint_off += n;
    if (w->repaint_off == w->repaint_len) {
        free(w->repaint);
        w->repaint = NULL;
        w->repaint_len = w->repaint_off = 0;
    }
    return rc;
}

static int watch_write_queued(struct watcher *w)
{
    size_t n = w->q_len - w->q_off;
    if (n > SESSION_OUT_PAYLOAD)
        n = SESSION_OUT_PAYLOAD;
    int rc = watch_write_frame(w, PROTO_CH_STDOUT, w->q + w->q_off, n);
    w->q_off += n;
    if (w->q_off == w->q_len)
        watch_queue_drop(w); /* empty: given back */
    return rc;
}

static int watch_write_status(struct watcher *w)
{
    char payload[PROTO_STATUS_MAX];
    int n = proto_status_payload(w->kind, PROTO_STATUS_SUCCESS, 0, "", payload, sizeof(payload));
    w->status_sent = true;
    if (n <= 0)
        return 1; /* pre-v4 protocols say nothing on success */
    return watch_write_frame(w, PROTO_CH_ERROR, (const uint8_t *)payload, (size_t)n);
}

/* One step of the watcher's output: the initial frame, a ping, the size
 * and the repaint, live output, then (session ended) Status and Close.
 * 1 wrote and more may follow, 0 nothing now, -1 the connection failed. */
static int watch_write_next(struct watcher *w)
{
    if (w->close_sent)
        return 0;
    if (!w->initial_sent) {
        w->initial_sent = true;
        uint8_t empty = 0;
        return watch_write_frame(w, PROTO_CH_STDOUT, &empty, 0);
    }
    int rc = session_keepalive_write(&w->ka, w->wsi);
    if (rc != 0)
        return rc;
    if (w->repaint)
        return watch_write_repaint(w);
    if (w->repaint_pending && !w->session)
        w->repaint_pending = false; /* the session ended: nothing to repaint from */
    if (w->repaint_pending && watch_window_open(w)) {
        if (watch_repaint_take(w) < 0) {
            lws_close_reason(w->wsi, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, NULL, 0);
            return -1; /* no screen to show: better no picture than a wrong one */
        }
        return 1;
    }
    if (w->q && watch_window_open(w))
        return watch_write_queued(w);
    if (!w->ended || w->q || w->repaint_pending)
        return 0;
    if (!w->status_sent)
        return watch_write_status(w);
    w->close_sent = true;
    lws_close_reason(w->wsi, LWS_CLOSE_STATUS_NORMAL, NULL, 0);
    lws_close_free_wsi(w->wsi, LWS_CLOSE_STATUS_NORMAL, "podterm: watched session ended");
    return 0;
}

int session_watch_on_writeable(struct watcher *w)
{
    for (int i = 0; i < SESSION_WRITES_PER_WAKE; i++) {
        int rc = watch_write_next(w);
        if (rc <= 0)
            return rc;
        if (lws_send_pipe_choked(w->wsi))
            break;
    }
    lws_callback_on_writable(w->wsi);
    return 0;
}

/* ---- the session's end ---- */

/* The session is being freed (or its process has ended): every watcher
 * gets the screen's last state if it was owed a repaint, what it has
 * queued, then the Status and Close; one that does not take them within
 * WATCH_END_TIMEOUT_S is hung up by lws. */
void session_watch_end(struct session *s)
{
    while (s->watchers) {
        struct watcher *w = s->watchers;
        if (w->established && w->repaint_pending && !w->repaint && watch_repaint_take(w) < 0)
            w->repaint_pending = false;
        s->watchers = w->next;
        w->next = NULL;
        w->session = NULL;
        w->ended = true;
        lws_set_timeout(w->wsi, PENDING_TIMEOUT_USER_OK, WATCH_END_TIMEOUT_S);
        lws_callback_on_writable(w->wsi);
    }
}

/* ---- input ---- */

static void watch_rx_pause(struct watcher *w, bool pause)
{
    if (w->rx_paused == pause)
        return;
    w->rx_paused = pause;
    lws_rx_flow_control(w->wsi, pause ? 0 : 1);
}

void session_watch_stdin_drained(struct session *s)
{
    for (struct watcher *w = s->watchers; w; w = w->next)
        watch_rx_pause(w, false);
}

static void watch_event(void *user, const struct proto_event *ev, const uint8_t *data)
{
    struct watcher *w = user;
    switch (ev->type) {
    case PROTO_EV_STDIN:
        /* A joiner types into the process as the owner does; a watcher's
         * keys go nowhere. */
        if (w->join && w->session && session_stdin_write(w->session, data, ev->out_len))
            watch_rx_pause(w, true); /* the process has not taken it all */
        break;
    case PROTO_EV_ACK:
        w->unacked = ev->ack_bytes >= w->unacked ? 0 : w->unacked - ev->ack_bytes;
        lws_callback_on_writable(w->wsi);
        break;
    default:
        break; /* resizes (the owner's terminal decides) and close-stdin (the owner's) */
    }
}

void session_watch_on_pong(struct watcher *w)
{
    w->ka.rx_ms = uv_now(w->server->loop);
}

int session_watch_on_receive(struct watcher *w, const void *in, size_t len)
{
    w->ka.rx_ms = uv_now(w->server->loop);
    bool first = !w->in_message;
    bool final = lws_is_final_fragment(w->wsi);
    if (first)
        w->message_bytes = 0;
    w->message_bytes += len;
    if (w->message_bytes + lws_remaining_packet_payload(w->wsi) > SERVER_MESSAGE_MAX) {
        lws_close_reason(w->wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE,
                         (unsigned char *)SESSION_TOO_LARGE_REASON,
                         strlen(SESSION_TOO_LARGE_REASON));
        return -1;
    }
    w->in_message = !final;
    uint8_t out[SERVER_RX_CHUNK];
    const uint8_t *p = in;
    while (len > 0 || first) {
        size_t n = len > sizeof(out) ? sizeof(out) : len;
        bool last = n == len;
        if (proto_decoder_feed(&w->dec, p, n, first, final && last, out, sizeof(out), watch_event,
                               w) != PROTO_OK) {
            lws_close_reason(w->wsi, LWS_CLOSE_STATUS_PROTOCOL_ERR, NULL, 0);
            return -1;
        }
        p += n;
        len -= n;
        first = false;
    }
    return 0;
}

/* ---- keepalive ---- */

void session_watch_sweep(struct session *s, uint64_t now)
{
    uint64_t interval = s->server->opts.ping_interval_ms;
    for (struct watcher *w = s->watchers; w; w = w->next)
        if (w->established && !w->close_sent &&
            session_keepalive_check(&w->ka, w->wsi, now, interval, w->started_ms, w->rx_paused))
            session_keepalive_hang_up(w->wsi); /* silent: lws sees the error and closes */
}

/* ---- lifetime ---- */

int session_watch_on_established(struct watcher *w)
{
    w->established = true;
    w->started_ms = uv_now(w->server->loop);
    session_keepalive_start(&w->ka, w->started_ms);
    /* Nothing is queued before the repaint: the first writeable takes it
     * from the model, and output from then on follows it. */
    w->repaint_pending = w->session != NULL;
    if (w->session)
        watch_owner_tell(w->session);
    lws_callback_on_writable(w->wsi);
    return 0;
}

void session_watch_on_closed(struct watcher *w)
{
    watch_list_remove(w);
    admission_finish(w->adm, 101);
    free(w->repaint);
    watch_queue_drop(w);
    free(w->user);
    free(w);
}

static int watch_refuse(struct lws *wsi, int code, const char *reason, const char *message,
                        const char *id)
{
    return api_session_status(wsi, code, reason, message, id);
}

int session_watch_upgrade(struct server *server, struct lws *wsi, struct upgrade_offer *offer,
                          bool join)
{
    struct admission *adm = offer->admission;
    const char *id = adm->attrs.name;
    struct session *s = session_find(server, id);
    /* "Owner only" (RBAC grants no get on sessions/watch or /join): anyone
     * else's session, or none, is the Forbidden RBAC gave. */
    if (adm->owner_only && (!s || !s->owner || strcmp(adm->user.user, s->owner) != 0))
        return api_session_forbidden(wsi, adm);
    if (!s)
        return api_session_not_found(wsi, id);
    if (!s->req.tty || !session_screen(s))
        return watch_refuse(wsi, 409, "Conflict", WATCH_NO_SCREEN, id);
    if (s->exited || s->failed || s->status_sent)
        return watch_refuse(wsi, 409, "Conflict", WATCH_ENDING, id);
    if (offer->negotiation_rc == PROTO_ERR_NO_MATCH)
        return watch_refuse(wsi, 403, "Forbidden",
                            "none of the offered WebSocket subprotocols is supported", NULL);
    size_t n = 0;
    for (struct watcher *o = s->watchers; o; o = o->next)
        n++;
    if (n >= SESSION_WATCHERS_MAX)
        return watch_refuse(wsi, 503, "ServiceUnavailable", WATCH_TOO_MANY, id);
    struct watcher *w = calloc(1, sizeof(*w));
    if (!w || !(w->user = strdup(adm->user.user))) {
        free(w);
        return watch_refuse(wsi, 500, "InternalError", "out of memory", id);
    }
    w->type = WSI_DATA_WATCHER;
    w->server = server;
    w->session = s;
    w->wsi = wsi;
    w->join = join;
    w->kind = offer->neg.kind;
    proto_decoder_init(&w->dec, w->kind);
    /* Last in the list: the owner's page shows watchers in arrival order. */
    struct watcher **tail = &s->watchers;
    while (*tail)
        tail = &(*tail)->next;
    *tail = w;
    /* The watch is a request of its own in the audit: answered 101, done
     * when its connection ends. */
    w->adm = adm;
    offer->admission = NULL;
    admission_started(adm, 101);
    wsi_data_release(wsi);
    lws_set_opaque_user_data(wsi, w);
    return 0;
}
