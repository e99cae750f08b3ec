/* lg_lws.c - the libwebsockets client engine: each session is one
 * lws_client_connect_via_info() connection on lws' own poll loop. Received
 * chunks go to lg_conn_chunk as lws delivers them (rx_buffer_size bounds
 * a chunk); outgoing messages wait in a per-session queue until lws says the
 * connection is writable. */
#include "lg.h"

#include <libwebsockets.h>

#define LWS_TICK_US (20 * 1000) /* wake the service loop at least this often */

struct lws_msg {
    struct lws_msg *next;
    bool is_text;
    size_t len;
    uint8_t buf[]; /* LWS_PRE + payload */
};

struct lws_conn {
    struct lws *wsi;
    struct lws_msg *head, *tail;
    bool first; /* next chunk starts a message */
    int close_code;
};

struct lws_engine {
    struct lws_context *ctx;
    lws_sorted_usec_list_t tick;
};

static void lws_conn_free_queue(struct lws_conn *l)
{
    while (l->head) {
        struct lws_msg *m = l->head;
        l->head = m->next;
        free(m);
    }
    l->tail = NULL;
}

static void lws_conn_done(struct lg_conn *c, int code)
{
    struct lws_conn *l = c->eng;
    if (l) {
        l->wsi = NULL;
        lws_conn_free_queue(l);
    }
    lg_conn_closed(c, code);
}

static int lg_lws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                           size_t len)
{
    struct lg_conn *c = lws_get_opaque_user_data(wsi);
    struct lws_conn *l = c ? c->eng : NULL;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        if (c) {
            lg_conn_fail(c, "connect: %s", in ? (const char *)in : "error");
            lws_conn_done(c, 1006);
        }
        return 0;
    case LWS_CALLBACK_CLIENT_FILTER_PRE_ESTABLISH: {
        /* The response headers are still there: lws rejects a subprotocol we
         * did not offer, but not a missing one. */
        char proto[128] = "";
        if (lws_hdr_copy(wsi, proto, sizeof(proto), WSI_TOKEN_PROTOCOL) < 0)
            proto[0] = '\0';
        const char *want = c && c->lg->proto ? c->lg->proto : "";
        if (c && strcmp(proto, want) != 0)
            lg_conn_fail(c, "subprotocol %s, asked %s", proto[0] ? proto : "(none)", want);
        return 0;
    }
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        l->first = true;
        lg_conn_opened(c);
        return 0;
    case LWS_CALLBACK_CLIENT_RECEIVE: {
        bool final = lws_is_final_fragment(wsi);
        lg_conn_chunk(c, l->first, final, !lws_frame_is_binary(wsi), in, len);
        l->first = final;
        return 0;
    }
    case LWS_CALLBACK_CLIENT_WRITEABLE: {
        struct lws_msg *m = l ? l->head : NULL;
        if (!m)
            return 0;
        l->head = m->next;
        if (!l->head)
            l->tail = NULL;
        int n = lws_write(wsi, m->buf + LWS_PRE, m->len,
                          m->is_text ? LWS_WRITE_TEXT : LWS_WRITE_BINARY);
        bool ok = n >= (int)m->len;
        free(m);
        if (!ok)
            return -1;
        if (l->head)
            lws_callback_on_writable(wsi);
        return 0;
    }
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        if (l && len >= 2)
            l->close_code = ((const uint8_t *)in)[0] << 8 | ((const uint8_t *)in)[1];
        return 0;
    case LWS_CALLBACK_CLIENT_CLOSED:
        if (c)
            lws_conn_done(c, l && l->close_code ? l->close_code : 1006);
        return 0;
    default:
        return 0;
    }
}

static const struct lws_protocols lg_lws_protocols[] = {
    {.name = "lg", .callback = lg_lws_callback, .rx_buffer_size = LG_READ_BUF},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static int lg_lws_connect(struct lg_conn *c)
{
    struct lg *lg = c->lg;
    struct lws_engine *e = lg->eng_data;
    struct lws_conn *l = c->eng;
    if (!l && !(l = c->eng = calloc(1, sizeof(*l))))
        return -1;
    memset(l, 0, sizeof(*l));
    struct lws_client_connect_info info;
    memset(&info, 0, sizeof(info));
    char host[128];
    snprintf(host, sizeof(host), "%s:%d", lg->host, lg->port);
    info.context = e->ctx;
    info.address = lg->host;
    info.port = lg->port;
    info.path = lg->path;
    info.host = host;
    info.origin = NULL;
    info.protocol = lg->proto; /* NULL: no Sec-WebSocket-Protocol header */
    info.local_protocol_name = "lg";
    info.ietf_version_or_minus_one = -1;
    info.opaque_user_data = c;
    info.pwsi = &l->wsi;
    /* --tls: the bench's own self-signed upstream on loopback */
    if (lg->tls)
        info.ssl_connection =
            LCCSCF_USE_SSL | LCCSCF_ALLOW_SELFSIGNED | LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK;
    c->state = LG_CONNECTING;
    c->t_start = now_sec();
    if (!lws_client_connect_via_info(&info)) {
        if (c->state != LG_DONE) {
            lg_conn_fail(c, "lws_client_connect_via_info failed");
            lws_conn_done(c, 1006);
        }
        return -1;
    }
    return 0;
}

static int lg_lws_send(struct lg_conn *c, bool is_text, const uint8_t *data, size_t len)
{
    struct lws_conn *l = c->eng;
    if (!l || !l->wsi)
        return -1;
    struct lws_msg *m = malloc(sizeof(*m) + LWS_PRE + len);
    if (!m)
        return -1;
    m->next = NULL;
    m->is_text = is_text;
    m->len = len;
    memcpy(m->buf + LWS_PRE, data, len);
    if (l->tail)
        l->tail->next = m;
    else
        l->head = m;
    l->tail = m;
    lws_callback_on_writable(l->wsi);
    return 0;
}

static void lg_lws_pause(struct lg_conn *c, bool paused)
{
    struct lws_conn *l = c->eng;
    c->paused = paused;
    if (l && l->wsi)
        lws_rx_flow_control(l->wsi, paused ? 0 : 1);
}

static void lg_lws_close(struct lg_conn *c)
{
    struct lws_conn *l = c->eng;
    if (!l || !l->wsi)
        return;
    struct lws *wsi = l->wsi;
    lws_conn_done(c, 1000);
    lws_set_opaque_user_data(wsi, NULL);
    lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, NULL, 0);
    lws_set_timeout(wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
}

static void lg_lws_tick(lws_sorted_usec_list_t *sul)
{
    (void)sul; /* only there to bound lws_service's wait */
}

static void lg_lws_service(struct lg *lg, int timeout_ms)
{
    struct lws_engine *e = lg->eng_data;
    lws_usec_t us = (lws_usec_t)timeout_ms * 1000;
    lws_sul_schedule(e->ctx, 0, &e->tick, lg_lws_tick, us < LWS_TICK_US ? us : LWS_TICK_US);
    lws_service(e->ctx, 0);
}

static int lg_lws_init(struct lg *lg)
{
    struct lws_engine *e = calloc(1, sizeof(*e));
    if (!e)
        return -1;
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof(info));
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = lg_lws_protocols;
    info.fd_limit_per_thread = 0; /* sized from RLIMIT_NOFILE */
    info.timeout_secs = 30;
    if (lg->tls)
        info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    lws_set_log_level(LLL_ERR, NULL);
    e->ctx = lws_create_context(&info);
    if (!e->ctx) {
        free(e);
        return -1;
    }
    lg->eng_data = e;
    return 0;
}

static void lg_lws_fini(struct lg *lg)
{
    struct lws_engine *e = lg->eng_data;
    for (size_t i = 0; i < lg->nconns; i++) {
        struct lws_conn *l = lg->conns[i].eng;
        if (l && l->wsi)
            lws_set_opaque_user_data(l->wsi, NULL);
    }
    lws_context_destroy(e->ctx);
    for (size_t i = 0; i < lg->nconns; i++) {
        struct lws_conn *l = lg->conns[i].eng;
        if (l)
            lws_conn_free_queue(l);
        free(l);
        lg->conns[i].eng = NULL;
    }
    free(e);
}

const struct lg_engine_ops lg_engine_lws = {
    .name = "lws",
    .init = lg_lws_init,
    .connect = lg_lws_connect,
    .send = lg_lws_send,
    .pause = lg_lws_pause,
    .close = lg_lws_close,
    .service = lg_lws_service,
    .fini = lg_lws_fini,
};
