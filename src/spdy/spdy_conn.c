/* spdy_conn.c - one SPDY/3.1 connection's state: streams, windows, the
 * answers the protocol requires (spdy_conn.h says what and why). */
#include "spdy/spdy_conn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct spdy_stream {
    uint32_t id;      /* 0: free slot */
    bool local;       /* we opened it */
    bool replied;     /* SYN_REPLY sent (peer's stream) or received (ours) */
    bool send_closed; /* our FIN went, or the peer opened it unidirectional */
    bool recv_closed; /* the peer's FIN came, or we opened it unidirectional */
    int64_t send_window;
    int64_t recv_window;
    int64_t unacked; /* consumed, not yet given back in a WINDOW_UPDATE */
    void *user;
};

struct spdy_conn {
    struct spdy_conn_config cfg;
    spdy_event_cb cb;
    void *user;
    int failed; /* the connection error, once there is one */
    bool goaway_sent;
    bool goaway_recv;
    uint32_t last_peer_id; /* highest valid stream id the peer opened */
    uint32_t next_local_id;
    uint32_t next_ping_id;
    int64_t initial_send_window; /* the peer's SETTINGS_INITIAL_WINDOW_SIZE */
    int64_t conn_send_window;
    int64_t conn_recv_window;
    int64_t conn_unacked;
    uint32_t data_id; /* the stream of the DATA frame being read (0: dropped) */
    bool data_fin;
    struct spdy_stream streams[SPDY_STREAMS_MAX];
    size_t out_start, out_end;
    struct spdy_headers headers;
    char reason[SPDY_REASON_MAX];
    struct spdy_parser parser;
    struct spdy_inflater inflater;
    struct spdy_deflater deflater;
    uint8_t scratch[SPDY_CONTROL_MAX];
    uint8_t out[SPDY_OUT_MAX];
};

/* ---- small helpers ---- */

static void emit(struct spdy_conn *c, struct spdy_event ev)
{
    c->cb(c->user, &ev);
}

static struct spdy_stream *stream_find(const struct spdy_conn *c, uint32_t id)
{
    if (id == 0)
        return NULL;
    for (size_t i = 0; i < SPDY_STREAMS_MAX; i++)
        if (c->streams[i].id == id)
            return (struct spdy_stream *)&c->streams[i];
    return NULL;
}

static struct spdy_stream *stream_new(struct spdy_conn *c, uint32_t id)
{
    for (size_t i = 0; i < SPDY_STREAMS_MAX; i++) {
        struct spdy_stream *s = &c->streams[i];
        if (s->id == 0) {
            memset(s, 0, sizeof(*s));
            s->id = id;
            s->send_window = c->initial_send_window;
            s->recv_window = SPDY_INITIAL_WINDOW;
            return s;
        }
    }
    return NULL;
}

static size_t streams_open(const struct spdy_conn *c)
{
    size_t n = 0;
    for (size_t i = 0; i < SPDY_STREAMS_MAX; i++)
        n += c->streams[i].id != 0;
    return n;
}

/* Ids the peer opens are odd when we serve, even when we are the client. */
static bool peer_parity(const struct spdy_conn *c, uint32_t id)
{
    return (id & 1) == (c->cfg.role == SPDY_ROLE_SERVER ? 1u : 0u);
}

/* Whether the id was ever in use (so frames for it may still be in flight). */
static bool id_was_used(const struct spdy_conn *c, uint32_t id)
{
    return peer_parity(c, id) ? id <= c->last_peer_id : id < c->next_local_id;
}

/* Room in the output buffer below limit: data and app-sent headers stop
 * SPDY_OUT_RESERVE short of the end, replies to the peer may use it all. */
static uint8_t *out_room(struct spdy_conn *c, size_t limit, size_t *cap)
{
    size_t used = c->out_end - c->out_start;
    *cap = used < limit ? limit - used : 0;
    if (*cap && SPDY_OUT_MAX - c->out_end < *cap) {
        memmove(c->out, c->out + c->out_start, used);
        c->out_start = 0;
        c->out_end = used;
    }
    return c->out + c->out_end;
}

static int out_commit(struct spdy_conn *c, int n)
{
    if (n < 0)
        return SPDY_ERR_SPACE;
    c->out_end += (size_t)n;
    return SPDY_OK;
}

#define CONTROL_ROOM(c, cap) out_room((c), SPDY_OUT_MAX, (cap))
#define DATA_ROOM(c, cap) out_room((c), SPDY_OUT_MAX - SPDY_OUT_RESERVE, (cap))

/* The connection is over: GOAWAY (when it fits), one ERROR event. */
static int conn_fail(struct spdy_conn *c, int err, uint32_t status, const char *reason)
{
    if (c->failed)
        return c->failed;
    c->failed = err;
    if (!c->goaway_sent) {
        size_t cap;
        uint8_t *p = CONTROL_ROOM(c, &cap);
        out_commit(c, spdy_write_goaway(p, cap, c->last_peer_id, status));
        c->goaway_sent = true;
    }
    snprintf(c->reason, sizeof(c->reason), "%s", reason);
    emit(c, (struct spdy_event){.type = SPDY_EV_ERROR, .err = err, .reason = c->reason});
    return err;
}

/* A reply the protocol owes the peer; no room means it does not read. */
static int owe(struct spdy_conn *c, int written)
{
    if (written < 0)
        return conn_fail(c, SPDY_ERR_FLOOD, SPDY_GOAWAY_PROTOCOL_ERROR,
                         "the peer does not read the replies it asks for");
    c->out_end += (size_t)written;
    return SPDY_OK;
}

static int send_rst(struct spdy_conn *c, uint32_t id, uint32_t status)
{
    size_t cap;
    uint8_t *p = CONTROL_ROOM(c, &cap);
    return owe(c, spdy_write_rst_stream(p, cap, id, status));
}

/* A stream error: RST_STREAM, the stream gone, the caller told. */
static int stream_fail(struct spdy_conn *c, struct spdy_stream *s, uint32_t id, uint32_t status)
{
    if (s)
        memset(s, 0, sizeof(*s));
    int rc = send_rst(c, id, status);
    if (rc == SPDY_OK && s)
        emit(c, (struct spdy_event){
                    .type = SPDY_EV_RESET, .stream_id = id, .status = status, .local = true});
    return rc;
}

static void stream_fin_local(struct spdy_stream *s)
{
    s->send_closed = true;
    if (s->recv_closed)
        memset(s, 0, sizeof(*s));
}

static void stream_fin_remote(struct spdy_conn *c, struct spdy_stream *s)
{
    uint32_t id = s->id;
    s->recv_closed = true;
    if (s->send_closed)
        memset(s, 0, sizeof(*s));
    emit(c, (struct spdy_event){.type = SPDY_EV_FIN, .stream_id = id});
}

/* Give back consumed bytes once half a window is used, so a flow-controlling
 * peer never waits on us for long and one update covers many frames. Left
 * for later when the output is full: the caller's next consume retries. */
static void window_give_back(struct spdy_conn *c, uint32_t id, int64_t *window, int64_t *unacked)
{
    if (*unacked < SPDY_INITIAL_WINDOW / 2)
        return;
    int64_t delta = *unacked > SPDY_WINDOW_MAX ? SPDY_WINDOW_MAX : *unacked;
    size_t cap;
    uint8_t *p = CONTROL_ROOM(c, &cap);
    if (out_commit(c, spdy_write_window_update(p, cap, id, (uint32_t)delta)) != SPDY_OK)
        return;
    *window += delta;
    *unacked -= delta;
}

static void conn_consumed(struct spdy_conn *c, size_t n)
{
    /* never more than was received: the window stays at most its size */
    int64_t room = SPDY_INITIAL_WINDOW - c->conn_recv_window - c->conn_unacked;
    c->conn_unacked += (int64_t)n < room ? (int64_t)n : (room > 0 ? room : 0);
    window_give_back(c, 0, &c->conn_recv_window, &c->conn_unacked);
}

/* ---- received frames ---- */

/* Inflate a header block (always: the context must follow every block);
 * SPDY_ERR_HEADERS leaves the connection usable. */
static int headers_read(struct spdy_conn *c, const uint8_t *block, size_t len)
{
    int rc = spdy_inflater_block(&c->inflater, block, len, &c->headers);
    if (rc == SPDY_ERR_HEADERS)
        return rc;
    if (rc != SPDY_OK)
        return conn_fail(c, SPDY_ERR_COMPRESSION, SPDY_GOAWAY_PROTOCOL_ERROR,
                         "header block does not decompress within its bounds");
    return SPDY_OK;
}

static int on_syn_stream(struct spdy_conn *c, const struct spdy_frame_head *h, const uint8_t *p,
                         size_t len)
{
    struct spdy_syn_stream syn;
    if (spdy_parse_syn_stream(p, len, &syn) != SPDY_OK)
        return conn_fail(c, SPDY_ERR_FRAME, SPDY_GOAWAY_PROTOCOL_ERROR, "SYN_STREAM too short");
    int hrc = headers_read(c, syn.block, syn.block_len);
    if (hrc != SPDY_OK && hrc != SPDY_ERR_HEADERS)
        return hrc;
    uint32_t id = syn.stream_id;
    if (id == 0)
        return conn_fail(c, SPDY_ERR_PROTOCOL, SPDY_GOAWAY_PROTOCOL_ERROR,
                         "SYN_STREAM for stream 0");
    if (c->goaway_sent)
        return SPDY_OK; /* section 2.6.6: new streams after our GOAWAY are ignored */
    struct spdy_stream *s = stream_find(c, id);
    if (s)
        return stream_fail(c, s, id, SPDY_RST_STREAM_IN_USE);
    if (!peer_parity(c, id) || id <= c->last_peer_id)
        return send_rst(c, id, SPDY_RST_PROTOCOL_ERROR); /* ids only go up */
    c->last_peer_id = id;
    if (c->cfg.role == SPDY_ROLE_CLIENT || syn.assoc_id != 0)
        return send_rst(c, id, SPDY_RST_REFUSED_STREAM); /* no server push */
    if (hrc == SPDY_ERR_HEADERS)
        return send_rst(c, id, SPDY_RST_PROTOCOL_ERROR);
    s = stream_new(c, id);
    if (!s)
        return send_rst(c, id, SPDY_RST_REFUSED_STREAM);
    s->send_closed = (h->flags & SPDY_FLAG_UNIDIRECTIONAL) != 0;
    emit(c, (struct spdy_event){.type = SPDY_EV_STREAM_OPEN,
                                .stream_id = id,
                                .flags = h->flags,
                                .headers = &c->headers});
    s = stream_find(c, id); /* the caller may have reset it */
    if (s && (h->flags & SPDY_FLAG_FIN))
        stream_fin_remote(c, s);
    return c->failed;
}

/* SYN_REPLY and HEADERS: a header block for a stream that exists. */
static int on_stream_headers(struct spdy_conn *c, const struct spdy_frame_head *h, const uint8_t *p,
                             size_t len)
{
    uint32_t id;
    const uint8_t *block;
    size_t block_len;
    if (spdy_parse_stream_block(p, len, &id, &block, &block_len) != SPDY_OK)
        return conn_fail(c, SPDY_ERR_FRAME, SPDY_GOAWAY_PROTOCOL_ERROR,
                         "SYN_REPLY or HEADERS too short");
    int hrc = headers_read(c, block, block_len);
    if (hrc != SPDY_OK && hrc != SPDY_ERR_HEADERS)
        return hrc;
    if (id == 0)
        return conn_fail(c, SPDY_ERR_PROTOCOL, SPDY_GOAWAY_PROTOCOL_ERROR,
                         "SYN_REPLY or HEADERS for stream 0");
    struct spdy_stream *s = stream_find(c, id);
    if (!s)
        return id_was_used(c, id) ? SPDY_OK : send_rst(c, id, SPDY_RST_INVALID_STREAM);
    bool reply = h->type == SPDY_SYN_REPLY;
    if (reply && !s->local)
        return stream_fail(c, s, id, SPDY_RST_PROTOCOL_ERROR);
    if (reply && s->replied)
        return stream_fail(c, s, id, SPDY_RST_STREAM_IN_USE);
    if (!reply && s->local && !s->replied)
        return stream_fail(c, s, id, SPDY_RST_PROTOCOL_ERROR); /* HEADERS before SYN_REPLY */
    if (s->recv_closed)
        return stream_fail(c, s, id, SPDY_RST_STREAM_ALREADY_CLOSED);
    if (hrc == SPDY_ERR_HEADERS)
        return stream_fail(c, s, id, SPDY_RST_PROTOCOL_ERROR);
    if (reply)
        s->replied = true;
    emit(c, (struct spdy_event){.type = reply ? SPDY_EV_REPLY : SPDY_EV_HEADERS,
                                .stream_id = id,
                                .flags = h->flags,
                                .headers = &c->headers});
    s = stream_find(c, id);
    if (s && (h->flags & SPDY_FLAG_FIN))
        stream_fin_remote(c, s);
    return c->failed;
}

static int on_rst_stream(struct spdy_conn *c, const uint8_t *p, size_t len)
{
    uint32_t id, status;
    if (spdy_parse_u32_pair(p, len, &id, &status) != SPDY_OK || id == 0 || status == 0)
        return conn_fail(c, SPDY_ERR_FRAME, SPDY_GOAWAY_PROTOCOL_ERROR, "malformed RST_STREAM");
    struct spdy_stream *s = stream_find(c, id);
    if (s) {
        memset(s, 0, sizeof(*s));
        emit(c, (struct spdy_event){.type = SPDY_EV_RESET, .stream_id = id, .status = status});
    }
    return c->failed; /* never answer a reset with a reset */
}

struct settings_ctx {
    struct spdy_conn *c;
    bool bad;
};

static void on_setting(void *u, uint8_t flags, uint32_t id, uint32_t value)
{
    struct settings_ctx *x = u;
    struct spdy_conn *c = x->c;
    if (id != SPDY_SETTINGS_INITIAL_WINDOW_SIZE || x->bad || c->failed)
        return;
    if (value > SPDY_WINDOW_MAX) {
        x->bad = true;
        return;
    }
    /* section 2.6.8: the change applies to every open stream's window, which
     * may go below zero */
    int64_t delta = (int64_t)value - c->initial_send_window;
    c->initial_send_window = value;
    for (size_t i = 0; i < SPDY_STREAMS_MAX; i++) {
        struct spdy_stream *s = &c->streams[i];
        if (s->id == 0)
            continue;
        s->send_window += delta;
        if (s->send_window > SPDY_WINDOW_MAX)
            stream_fail(c, s, s->id, SPDY_RST_FLOW_CONTROL_ERROR);
    }
}

static int on_settings(struct spdy_conn *c, const uint8_t *p, size_t len)
{
    struct settings_ctx x = {.c = c};
    if (spdy_parse_settings(p, len, on_setting, &x) != SPDY_OK || x.bad)
        return conn_fail(c, SPDY_ERR_FRAME, SPDY_GOAWAY_PROTOCOL_ERROR, "malformed SETTINGS");
    return c->failed;
}

static int on_ping(struct spdy_conn *c, const struct spdy_frame_head *h, const uint8_t *p,
                   size_t len)
{
    uint32_t id;
    if (spdy_parse_ping(p, len, &id) != SPDY_OK || h->flags != 0 || id == 0)
        return conn_fail(c, SPDY_ERR_FRAME, SPDY_GOAWAY_PROTOCOL_ERROR, "malformed PING");
    bool ours = (id & 1) == (c->cfg.role == SPDY_ROLE_CLIENT ? 1u : 0u);
    if (ours) {
        emit(c, (struct spdy_event){.type = SPDY_EV_PING_ACK, .ping_id = id});
        return c->failed;
    }
    size_t cap;
    uint8_t *out = CONTROL_ROOM(c, &cap);
    return owe(c, spdy_write_ping(out, cap, id)); /* section 2.6.5: echo it */
}

static int on_goaway(struct spdy_conn *c, const struct spdy_frame_head *h, const uint8_t *p,
                     size_t len)
{
    uint32_t last, status;
    if (spdy_parse_u32_pair(p, len, &last, &status) != SPDY_OK || h->flags != 0)
        return conn_fail(c, SPDY_ERR_FRAME, SPDY_GOAWAY_PROTOCOL_ERROR, "malformed GOAWAY");
    c->goaway_recv = true;
    emit(c, (struct spdy_event){.type = SPDY_EV_GOAWAY, .last_id = last, .status = status});
    /* section 2.6.6: our streams above its last good id were never
     * processed; the caller may open them again elsewhere */
    for (size_t i = 0; i < SPDY_STREAMS_MAX && !c->failed; i++) {
        struct spdy_stream *s = &c->streams[i];
        if (s->id && s->local && s->id > last) {
            uint32_t id = s->id;
            memset(s, 0, sizeof(*s));
            emit(c, (struct spdy_event){
                        .type = SPDY_EV_RESET, .stream_id = id, .status = SPDY_RST_REFUSED_STREAM});
        }
    }
    return c->failed;
}

static int on_window_update(struct spdy_conn *c, const struct spdy_frame_head *h, const uint8_t *p,
                            size_t len)
{
    uint32_t id, delta;
    if (spdy_parse_u32_pair(p, len, &id, &delta) != SPDY_OK || h->flags != 0)
        return conn_fail(c, SPDY_ERR_FRAME, SPDY_GOAWAY_PROTOCOL_ERROR, "malformed WINDOW_UPDATE");
    delta &= SPDY_WINDOW_MAX; /* the top bit is reserved */
    if (id == 0) {
        if (delta == 0)
            return conn_fail(c, SPDY_ERR_PROTOCOL, SPDY_GOAWAY_PROTOCOL_ERROR,
                             "WINDOW_UPDATE of 0 for the connection");
        c->conn_send_window += delta;
        if (c->conn_send_window > SPDY_WINDOW_MAX)
            return conn_fail(c, SPDY_ERR_FLOW_CONTROL, SPDY_GOAWAY_PROTOCOL_ERROR,
                             "connection window past 2^31-1");
        return SPDY_OK;
    }
    struct spdy_stream *s = stream_find(c, id);
    if (!s)
        return SPDY_OK; /* a stream that just closed */
    if (delta == 0)
        return stream_fail(c, s, id, SPDY_RST_PROTOCOL_ERROR);
    s->send_window += delta;
    if (s->send_window > SPDY_WINDOW_MAX)
        return stream_fail(c, s, id, SPDY_RST_FLOW_CONTROL_ERROR);
    return SPDY_OK;
}

static int on_control(struct spdy_conn *c, const struct spdy_frame_head *h, const uint8_t *p,
                      size_t len)
{
    if (h->version != SPDY_VERSION) {
        /* a SYN_STREAM of another version gets its stream refused first */
        if (h->type == SPDY_SYN_STREAM && len >= 4) {
            uint32_t id =
                ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]) &
                SPDY_STREAM_ID_MAX;
            if (id)
                send_rst(c, id, SPDY_RST_UNSUPPORTED_VERSION);
        }
        return conn_fail(c, SPDY_ERR_VERSION, SPDY_GOAWAY_PROTOCOL_ERROR,
                         "only SPDY version 3 is supported");
    }
    switch (h->type) {
    case SPDY_SYN_STREAM:
        return on_syn_stream(c, h, p, len);
    case SPDY_SYN_REPLY:
    case SPDY_HEADERS:
        return on_stream_headers(c, h, p, len);
    case SPDY_RST_STREAM:
        return on_rst_stream(c, p, len);
    case SPDY_SETTINGS:
        return on_settings(c, p, len);
    case SPDY_PING:
        return on_ping(c, h, p, len);
    case SPDY_GOAWAY:
        return on_goaway(c, h, p, len);
    case SPDY_WINDOW_UPDATE:
        return on_window_update(c, h, p, len);
    default:
        return SPDY_OK; /* the parser skips unknown types before they get here */
    }
}

/* The head of a DATA frame: which stream takes it, windows charged for the
 * whole frame at once. */
static int data_start(struct spdy_conn *c, const struct spdy_frame_head *h)
{
    uint32_t id = h->stream_id;
    c->data_id = 0;
    c->data_fin = (h->flags & SPDY_FLAG_FIN) != 0;
    if (id == 0)
        return conn_fail(c, SPDY_ERR_PROTOCOL, SPDY_GOAWAY_PROTOCOL_ERROR, "DATA on stream 0");
    c->conn_recv_window -= h->length;
    if (c->cfg.flow == SPDY_FLOW_STRICT && c->conn_recv_window < 0)
        return conn_fail(c, SPDY_ERR_FLOW_CONTROL, SPDY_GOAWAY_PROTOCOL_ERROR,
                         "the peer sent past the connection window");
    struct spdy_stream *s = stream_find(c, id);
    int rc = SPDY_OK;
    if (!s) {
        if (!id_was_used(c, id))
            rc = send_rst(c, id, SPDY_RST_INVALID_STREAM);
    } else if (s->recv_closed) {
        rc = stream_fail(c, s, id, SPDY_RST_STREAM_ALREADY_CLOSED);
    } else if (s->local && !s->replied) {
        rc = stream_fail(c, s, id, SPDY_RST_PROTOCOL_ERROR); /* data before SYN_REPLY */
    } else if (c->cfg.flow == SPDY_FLOW_STRICT && (int64_t)h->length > s->recv_window) {
        rc = stream_fail(c, s, id, SPDY_RST_FLOW_CONTROL_ERROR);
    } else {
        s->recv_window -= h->length;
        c->data_id = id;
    }
    if (c->data_id == 0 && rc == SPDY_OK)
        conn_consumed(c, h->length); /* dropped: nobody will consume it */
    return rc;
}

static int on_data(struct spdy_conn *c, const struct spdy_frame_head *h, const uint8_t *p,
                   size_t len, bool first, bool last)
{
    if (first) {
        int rc = data_start(c, h);
        if (rc != SPDY_OK)
            return rc;
    }
    struct spdy_stream *s = c->data_id ? stream_find(c, c->data_id) : NULL;
    if (len && s) {
        emit(c, (struct spdy_event){
                    .type = SPDY_EV_DATA, .stream_id = c->data_id, .data = p, .len = len});
    } else if (len && c->data_id) {
        conn_consumed(c, len); /* the caller reset the stream mid-frame */
    }
    if (last && c->data_fin && c->data_id && (s = stream_find(c, c->data_id)))
        stream_fin_remote(c, s);
    return c->failed;
}

static int on_frame(void *user, const struct spdy_frame_head *h, const uint8_t *payload, size_t len,
                    bool first, bool last)
{
    struct spdy_conn *c = user;
    if (c->failed)
        return c->failed;
    if (!h->control)
        return on_data(c, h, payload, len, first, last);
    return on_control(c, h, payload, len);
}

/* ---- the caller's side ---- */

struct spdy_conn *spdy_conn_new(const struct spdy_conn_config *cfg, spdy_event_cb cb, void *user)
{
    struct spdy_conn *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->cfg = *cfg;
    c->cb = cb;
    c->user = user;
    c->next_local_id = cfg->role == SPDY_ROLE_CLIENT ? 1 : 2;
    c->next_ping_id = cfg->role == SPDY_ROLE_CLIENT ? 1 : 2;
    c->initial_send_window = SPDY_INITIAL_WINDOW;
    c->conn_send_window = SPDY_INITIAL_WINDOW;
    c->conn_recv_window = SPDY_INITIAL_WINDOW;
    spdy_parser_init(&c->parser);
    if (spdy_inflater_init(&c->inflater) != SPDY_OK) {
        spdy_conn_free(c);
        return NULL;
    }
    return c;
}

void spdy_conn_free(struct spdy_conn *c)
{
    if (!c)
        return;
    spdy_inflater_end(&c->inflater);
    spdy_deflater_end(&c->deflater);
    free(c);
}

int spdy_conn_feed(struct spdy_conn *c, const uint8_t *in, size_t len)
{
    if (c->failed)
        return c->failed;
    int rc = spdy_parser_feed(&c->parser, in, len, on_frame, c);
    if (rc == SPDY_ERR_FRAME_SIZE)
        conn_fail(c, rc, SPDY_GOAWAY_PROTOCOL_ERROR, "control frame larger than podterm accepts");
    return c->failed;
}

size_t spdy_conn_out(const struct spdy_conn *c, const uint8_t **p)
{
    *p = c->out + c->out_start;
    return c->out_end - c->out_start;
}

void spdy_conn_out_consume(struct spdy_conn *c, size_t n)
{
    size_t used = c->out_end - c->out_start;
    c->out_start += n < used ? n : used;
    if (c->out_start == c->out_end)
        c->out_start = c->out_end = 0;
}

bool spdy_conn_is_done(const struct spdy_conn *c)
{
    return c->failed || ((c->goaway_sent || c->goaway_recv) && streams_open(c) == 0);
}

/* A frame carrying a header block: compressed into scratch, then copied out.
 * Room for the largest block is checked first, so zlib's history never holds
 * a block the peer will not see. */
static int write_block_frame(struct spdy_conn *c, uint16_t type, uint8_t flags, uint32_t id,
                             const struct spdy_nv *nv, size_t n)
{
    size_t cap;
    uint8_t *p = DATA_ROOM(c, &cap);
    if (cap < SPDY_CONTROL_MAX + SPDY_HEAD_LEN)
        return SPDY_ERR_SPACE;
    /* deflate's state (and the dictionary's hashing) only for connections
     * that send a header block */
    if (!c->deflater.ready && spdy_deflater_init(&c->deflater) != SPDY_OK)
        return SPDY_ERR_NOMEM;
    size_t fixed = type == SPDY_SYN_STREAM ? 10 : 4;
    int blen = spdy_deflater_block(&c->deflater, nv, n, c->scratch, SPDY_CONTROL_MAX - fixed);
    if (blen == SPDY_ERR_HEADERS)
        return blen;
    if (blen < 0)
        return conn_fail(c, SPDY_ERR_COMPRESSION, SPDY_GOAWAY_INTERNAL_ERROR,
                         "our header block does not fit a frame");
    int w;
    if (type == SPDY_SYN_STREAM)
        w = spdy_write_syn_stream(p, cap, flags, id, 0, 0, c->scratch, (size_t)blen);
    else if (type == SPDY_SYN_REPLY)
        w = spdy_write_syn_reply(p, cap, flags, id, c->scratch, (size_t)blen);
    else
        w = spdy_write_headers(p, cap, flags, id, c->scratch, (size_t)blen);
    return out_commit(c, w);
}

int spdy_conn_open_stream(struct spdy_conn *c, const struct spdy_nv *nv, size_t n, uint8_t flags)
{
    if (c->failed)
        return SPDY_ERR_CLOSED;
    if (c->goaway_sent || c->goaway_recv || c->next_local_id > SPDY_STREAM_ID_MAX ||
        streams_open(c) == SPDY_STREAMS_MAX)
        return SPDY_ERR_STATE;
    uint32_t id = c->next_local_id;
    int rc = write_block_frame(c, SPDY_SYN_STREAM,
                               flags & (SPDY_FLAG_FIN | SPDY_FLAG_UNIDIRECTIONAL), id, nv, n);
    if (rc != SPDY_OK)
        return c->failed ? SPDY_ERR_CLOSED : rc;
    c->next_local_id += 2;
    struct spdy_stream *s = stream_new(c, id);
    s->local = true;
    s->send_closed = (flags & SPDY_FLAG_FIN) != 0;
    s->recv_closed = (flags & SPDY_FLAG_UNIDIRECTIONAL) != 0;
    if (s->send_closed && s->recv_closed)
        memset(s, 0, sizeof(*s));
    return (int)id;
}

int spdy_conn_reply(struct spdy_conn *c, uint32_t id, const struct spdy_nv *nv, size_t n, bool fin)
{
    if (c->failed)
        return SPDY_ERR_CLOSED;
    struct spdy_stream *s = stream_find(c, id);
    if (!s || s->local || s->replied || s->send_closed)
        return SPDY_ERR_STATE;
    int rc = write_block_frame(c, SPDY_SYN_REPLY, fin ? SPDY_FLAG_FIN : 0, id, nv, n);
    if (rc != SPDY_OK)
        return c->failed ? SPDY_ERR_CLOSED : rc;
    s->replied = true;
    if (fin)
        stream_fin_local(s);
    return SPDY_OK;
}

/* Whether we may send on s at all (open, our half open, replied to). */
static bool can_send(const struct spdy_stream *s)
{
    return s && !s->send_closed && (s->local || s->replied);
}

int spdy_conn_send_headers(struct spdy_conn *c, uint32_t id, const struct spdy_nv *nv, size_t n,
                           bool fin)
{
    if (c->failed)
        return SPDY_ERR_CLOSED;
    struct spdy_stream *s = stream_find(c, id);
    if (!can_send(s))
        return SPDY_ERR_STATE;
    int rc = write_block_frame(c, SPDY_HEADERS, fin ? SPDY_FLAG_FIN : 0, id, nv, n);
    if (rc != SPDY_OK)
        return c->failed ? SPDY_ERR_CLOSED : rc;
    if (fin)
        stream_fin_local(s);
    return SPDY_OK;
}

static size_t window_room(const struct spdy_conn *c, const struct spdy_stream *s, size_t room)
{
    if (c->cfg.flow != SPDY_FLOW_STRICT)
        return room;
    int64_t w = s->send_window < c->conn_send_window ? s->send_window : c->conn_send_window;
    if (w <= 0)
        return 0;
    return (uint64_t)w < room ? (size_t)w : room;
}

size_t spdy_conn_send_window(const struct spdy_conn *c, uint32_t id)
{
    const struct spdy_stream *s = stream_find(c, id);
    if (c->failed || !can_send(s))
        return 0;
    size_t used = c->out_end - c->out_start;
    size_t limit = SPDY_OUT_MAX - SPDY_OUT_RESERVE;
    if (used + SPDY_HEAD_LEN >= limit)
        return 0;
    return window_room(c, s, limit - used - SPDY_HEAD_LEN);
}

int spdy_conn_send_data(struct spdy_conn *c, uint32_t id, const uint8_t *data, size_t len, bool fin)
{
    if (c->failed)
        return SPDY_ERR_CLOSED;
    struct spdy_stream *s = stream_find(c, id);
    if (!can_send(s))
        return SPDY_ERR_STATE;
    if (len == 0 && !fin)
        return 0; /* an empty frame would say nothing */
    size_t take = spdy_conn_send_window(c, id);
    if (take > len)
        take = len;
    if (take > SPDY_DATA_FRAME_MAX)
        take = SPDY_DATA_FRAME_MAX;
    if (take == 0 && len > 0)
        return 0;
    size_t cap;
    uint8_t *p = DATA_ROOM(c, &cap);
    if (cap < SPDY_HEAD_LEN + take)
        return len ? 0 : SPDY_ERR_SPACE; /* a bare FIN that does not fit yet */
    bool fin_now = fin && take == len;
    spdy_write_data_head(p, cap, id, fin_now ? SPDY_FLAG_FIN : 0, (uint32_t)take);
    if (take)
        memcpy(p + SPDY_HEAD_LEN, data, take);
    c->out_end += SPDY_HEAD_LEN + take;
    /* tracked in both modes: a peer that keeps windows may send updates */
    s->send_window -= (int64_t)take;
    c->conn_send_window -= (int64_t)take;
    if (fin_now)
        stream_fin_local(s);
    return (int)take;
}

void spdy_conn_consume(struct spdy_conn *c, uint32_t id, size_t n)
{
    if (c->failed || n == 0)
        return;
    struct spdy_stream *s = stream_find(c, id);
    if (s && !s->recv_closed) {
        int64_t room = SPDY_INITIAL_WINDOW - s->recv_window - s->unacked;
        s->unacked += (int64_t)n < room ? (int64_t)n : (room > 0 ? room : 0);
        window_give_back(c, id, &s->recv_window, &s->unacked);
    }
    conn_consumed(c, n);
}

int spdy_conn_reset(struct spdy_conn *c, uint32_t id, uint32_t status)
{
    if (c->failed)
        return SPDY_ERR_CLOSED;
    struct spdy_stream *s = stream_find(c, id);
    if (!s || status == 0)
        return SPDY_ERR_STATE;
    size_t cap;
    uint8_t *p = CONTROL_ROOM(c, &cap);
    int rc = out_commit(c, spdy_write_rst_stream(p, cap, id, status));
    if (rc == SPDY_OK)
        memset(s, 0, sizeof(*s));
    return rc;
}

int spdy_conn_ping(struct spdy_conn *c)
{
    if (c->failed)
        return SPDY_ERR_CLOSED;
    uint32_t id = c->next_ping_id;
    size_t cap;
    uint8_t *p = CONTROL_ROOM(c, &cap);
    int rc = out_commit(c, spdy_write_ping(p, cap, id));
    if (rc != SPDY_OK)
        return rc;
    /* stay positive as an int and keep the parity */
    c->next_ping_id = id + 2 > 0x7ffffffe ? (id & 1 ? 1 : 2) : id + 2;
    return (int)id;
}

int spdy_conn_goaway(struct spdy_conn *c, uint32_t status)
{
    if (c->failed)
        return SPDY_ERR_CLOSED;
    if (c->goaway_sent)
        return SPDY_OK;
    size_t cap;
    uint8_t *p = CONTROL_ROOM(c, &cap);
    int rc = out_commit(c, spdy_write_goaway(p, cap, c->last_peer_id, status));
    if (rc == SPDY_OK)
        c->goaway_sent = true;
    return rc;
}

void spdy_conn_stream_set_user(struct spdy_conn *c, uint32_t id, void *user)
{
    struct spdy_stream *s = stream_find(c, id);
    if (s)
        s->user = user;
}

void *spdy_conn_stream_user(const struct spdy_conn *c, uint32_t id)
{
    const struct spdy_stream *s = stream_find(c, id);
    return s ? s->user : NULL;
}

bool spdy_conn_stream_open(const struct spdy_conn *c, uint32_t id)
{
    return stream_find(c, id) != NULL;
}

bool spdy_conn_stream_can_send(const struct spdy_conn *c, uint32_t id)
{
    return can_send(stream_find(c, id));
}

bool spdy_conn_stream_can_recv(const struct spdy_conn *c, uint32_t id)
{
    const struct spdy_stream *s = stream_find(c, id);
    return s && !s->recv_closed;
}

int64_t spdy_conn_peer_window(const struct spdy_conn *c, uint32_t id)
{
    if (id == 0)
        return c->conn_send_window;
    const struct spdy_stream *s = stream_find(c, id);
    return s ? s->send_window : 0;
}

int64_t spdy_conn_our_window(const struct spdy_conn *c, uint32_t id)
{
    if (id == 0)
        return c->conn_recv_window;
    const struct spdy_stream *s = stream_find(c, id);
    return s ? s->recv_window : 0;
}
