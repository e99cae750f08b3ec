/* gateway.c - one proxied API request per client connection (see gateway.h).
 *
 * A request goes: authenticate (podterm's own auth) -> token for upstream
 * (maybe running an exec plugin) -> connect -> send the rewritten head ->
 * read the response head -> either relay the response as is and close, or
 * (exec/attach 101) hand both sides over to a session. A 401 from upstream
 * with refreshable credentials is retried once with fresh ones.
 *
 * Only allowlisted headers travel upstream: never the client's
 * Authorization (unless passing it through), cookies, or Impersonate-*. */
#include "gateway/gateway.h"

#include "admit/admit.h"
#include "metrics/metrics.h"
#include "session/exec_request.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "backend/kube/kube_head.h"
#include "gateway/gw_route.h"
#include "http/http_request.h"
#include "http/http1.h"
#include "backend/kube/kube_backend.h"
#include "backend/kube/kube_client.h"
#include "proto/proto.h"
#include "spdy/spdy_upgrade.h"
#include "util/util_token.h"
#include "util/util_json.h"

#define GW_BUF_MAX (16 * 1024 + 256) /* a client head as the listener read it */
#define GW_DESCRIBE_MAX 8192
#define GW_UPSTREAM_PROTOCOLS "v5.channel.k8s.io, v4.channel.k8s.io, channel.k8s.io"

#define GW_OOM_MESSAGE "out of memory"
#define GW_CLIENT_KEY_MAX (AUTH_NAME_MAX + 8) /* "user:" + a user name, or "addr:" + an IP */
#define GW_CLIENT_BUCKETS 256                 /* hash buckets of clients with requests */

/* A client with requests admitted upstream, for its bound. */
struct gw_client {
    struct gw_client *next;
    size_t in_flight;
    char key[GW_CLIENT_KEY_MAX];
};

struct gateway {
    uv_loop_t *loop;
    struct gateway_opts opts;
    struct kube_client *client;
    struct backend *backend;
    size_t in_flight;
    size_t watches; /* admitted requests that are watches */
    struct gw_client *clients[GW_CLIENT_BUCKETS];
    struct gw_req *reqs; /* in flight, for gateway_free */
    char describe[GW_DESCRIBE_MAX];
};

enum gw_state { GW_CREDS, GW_CONNECT, GW_HEAD, GW_RELAY, GW_REPLY, GW_DONE };

struct gw_req {
    struct gateway *gw;
    struct gw_req *prev, *next;
    enum gw_state state;
    int fd; /* the client's, until handed to the tls_sock or back to the listener */
    struct tls_sock *client;
    struct tls_sock *up;
    struct kube_connect *connecting;
    struct kube_creds_req creds_req;
    bool creds_waiting;
    uv_timer_t timer;
    gateway_adopt_fn adopt;
    void *adopt_ctx;

    char buf[GW_BUF_MAX]; /* the client's bytes, as read by the listener */
    size_t len;
    struct http_request rq;
    enum gw_route route;
    bool websocket, spdy, retried;
    /* The API server refused the WebSocket upgrade without a Status of its
     * own (a proxy that cannot pass WebSockets): asked again over SPDY/3.1,
     * as kubectl's fallback does (req_on_head). */
    bool spdy_upstream;
    struct kube_stream_desc desc;
    char ws_key[32];
    struct admission *adm; /* who asks (admit.h); ended with the answer */
    int code;              /* the status answered, for the audit */
    /* adm's user when authenticated, else NULL: adm lives as long as the
     * request (req_free finishes it, or it is handed on just before). */
    const struct auth_identity *id;
    char peer[GATEWAY_PEER_MAX]; /* the client's address ("" unknown) */
    struct gw_client *cl;        /* once admitted */
    bool watch;
    char client_token[KUBE_TOKEN_MAX + 1];
    char token[KUBE_TOKEN_MAX + 1];

    char *out; /* to upstream (request head), then to client (relay) */
    size_t out_off, out_len;
    uint8_t *in; /* from upstream */
    size_t in_len, in_cap;
    struct http1_response resp;
    size_t resp_head_len; /* of r->in, once the response head is in */
    bool up_eof;
};

static void req_send_upstream(struct gw_req *r);
static void req_start_upstream(struct gw_req *r);

/* ---- clients ---- */

static size_t gw_client_bucket(const char *key)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (const char *p = key; *p; p++)
        h = (h ^ (uint8_t)*p) * 16777619u;
    return h % GW_CLIENT_BUCKETS;
}

static struct gw_client *gw_client_get(struct gateway *gw, const char *key)
{
    struct gw_client **head = &gw->clients[gw_client_bucket(key)];
    for (struct gw_client *c = *head; c; c = c->next)
        if (strcmp(c->key, key) == 0)
            return c;
    struct gw_client *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    snprintf(c->key, sizeof(c->key), "%s", key);
    c->next = *head;
    *head = c;
    return c;
}

static void gw_client_put(struct gateway *gw, struct gw_client *cl)
{
    if (--cl->in_flight > 0)
        return;
    for (struct gw_client **p = &gw->clients[gw_client_bucket(cl->key)]; *p; p = &(*p)->next)
        if (*p == cl) {
            *p = cl->next;
            free(cl);
            return;
        }
}

/* ---- lifetime ---- */

static void req_timer_closed(uv_handle_t *h)
{
    struct gw_req *r = h->data;
    for (size_t i = 0; r->desc.argv && r->desc.argv[i]; i++)
        free(r->desc.argv[i]);
    free(r->desc.argv);
    free(r->out);
    free(r->in);
    free(r);
}

static void req_free(struct gw_req *r)
{
    if (r->state == GW_DONE)
        return;
    r->state = GW_DONE;
    struct gateway *gw = r->gw;
    if (r->creds_waiting)
        kube_creds_cancel(gw->client->creds, &r->creds_req);
    kube_connect_cancel(r->connecting);
    if (r->up)
        tls_sock_close(r->up);
    if (r->client)
        tls_sock_close(r->client);
    if (r->fd >= 0)
        close(r->fd);
    if (r->prev)
        r->prev->next = r->next;
    else
        gw->reqs = r->next;
    if (r->next)
        r->next->prev = r->prev;
    gw->in_flight--;
    if (r->cl)
        gw_client_put(gw, r->cl);
    if (r->cl && r->watch)
        gw->watches--;
    r->cl = NULL;
    admission_finish(r->adm, r->code ? r->code : 499);
    r->adm = NULL;
    r->id = NULL;
    uv_close((uv_handle_t *)&r->timer, req_timer_closed);
}

/* ---- writing to the client ---- */

static void req_client_flush(struct gw_req *r);

/* Answer with a metav1.Status of our own and close. retry_after_s > 0: a
 * Retry-After header and details.retryAfterSeconds, as the apiserver's 429. */
static void req_reply_status(struct gw_req *r, int code, const char *reason, const char *message,
                             int retry_after_s)
{
    r->code = code;
    json_t *st = json_pack("{s:s, s:s, s:{}, s:s, s:s, s:s, s:i}", "kind", "Status", "apiVersion",
                           "v1", "metadata", "status", "Failure", "message", message, "reason",
                           reason, "code", code);
    if (st && retry_after_s > 0 &&
        json_object_set_new(st, "details", json_pack("{s:i}", "retryAfterSeconds", retry_after_s)) <
            0) {
        json_decref(st); /* all of the Status or none */
        st = NULL;
    }
    char *body = util_json_text(st, JSON_COMPACT, false, NULL);
    json_decref(st);
    char head[HTTP1_STATUS_RESPONSE_MAX], retry[64] = "";
    if (retry_after_s > 0)
        snprintf(retry, sizeof(retry), "Retry-After: %d\r\n", retry_after_s);
    size_t blen = body ? strlen(body) + 1 : 0;
    long hlen;
    if (body)
        hlen = snprintf(head, sizeof(head),
                        "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nCache-Control: "
                        "no-store\r\n" HTTP1_SECURITY_HEADERS
                        "%sContent-Length: %zu\r\nConnection: close\r\n\r\n",
                        code, http1_reason_phrase(code), retry, blen);
    else { /* the Status could not be built: one made on the stack says why */
        r->code = 503;
        hlen = http1_status_response(503, "Service Unavailable", "ServiceUnavailable",
                                     GW_OOM_MESSAGE, head, sizeof(head));
    }
    char *all = hlen > 0 ? malloc((size_t)hlen + blen) : NULL;
    if (all) {
        memcpy(all, head, (size_t)hlen);
        if (body) {
            memcpy(all + hlen, body, blen - 1);
            all[hlen + blen - 1] = '\n';
        }
        free(r->out);
        r->out = all;
        r->out_off = 0;
        r->out_len = (size_t)hlen + blen;
    }
    free(body);
    if (r->up) {
        tls_sock_close(r->up);
        r->up = NULL;
    }
    r->state = GW_REPLY;
    if (!all)
        req_free(r);
    else
        req_client_flush(r);
}

static void req_relay_pump(struct gw_req *r);

static void req_client_flush(struct gw_req *r)
{
    while (r->out_off < r->out_len) {
        ssize_t n = tls_sock_write(r->client, r->out + r->out_off, r->out_len - r->out_off);
        if (n == -EAGAIN) {
            tls_sock_want(r->client, true, true);
            return;
        }
        if (n < 0) {
            req_free(r); /* the client went away */
            return;
        }
        r->out_off += (size_t)n;
    }
    r->out_off = r->out_len = 0;
    if (r->state == GW_REPLY || (r->state == GW_RELAY && r->up_eof)) {
        tls_sock_shutdown(r->client);
        req_free(r);
        return;
    }
    tls_sock_want(r->client, true, false);
    if (r->state == GW_RELAY)
        req_relay_pump(r);
}

static void req_on_client(void *user, int events)
{
    struct gw_req *r = user;
    if (events & TLS_SOCK_ERROR) {
        req_free(r);
        return;
    }
    if (events & TLS_SOCK_READABLE) {
        /* Nothing more is expected from the client; only its hang-up matters. */
        char scratch[1024];
        ssize_t n;
        while ((n = tls_sock_read(r->client, scratch, sizeof(scratch))) > 0)
            ;
        if (n != -EAGAIN) {
            req_free(r);
            return;
        }
    }
    if (events & (TLS_SOCK_WRITABLE | TLS_SOCK_READY))
        req_client_flush(r);
}

/* The answer when what a reply needs (the request, the client's tls_sock)
 * cannot be allocated: a Status built on the stack and written straight to
 * the socket, then the caller hangs up. Best effort: the connection is
 * fresh (nothing was answered yet), so a few hundred bytes fit its send
 * buffer. */
static void gw_fd_reply_status(int fd, int code, const char *reason, const char *message)
{
    char response[HTTP1_STATUS_RESPONSE_MAX];
    long n = http1_status_response(code, http1_reason_phrase(code), reason, message, response,
                                   sizeof(response));
    if (n > 0 && write(fd, response, (size_t)n) < 0)
        errno = 0; /* the client is gone: nobody to tell */
}

/* The client connection as a plain tls_sock, for answers we write ourselves.
 * tls_sock_new closes the fd it cannot take over, so a duplicate is kept
 * until it has: without it a client refused under memory pressure would
 * get a hang-up instead of a Status. */
static int req_client_open(struct gw_req *r)
{
    if (r->client)
        return 0;
    int spare = fcntl(r->fd, F_DUPFD_CLOEXEC, 0);
    r->client = tls_sock_new(r->gw->loop, r->fd, NULL, req_on_client, r);
    r->fd = -1;
    if (!r->client && spare >= 0)
        gw_fd_reply_status(spare, 503, "ServiceUnavailable", GW_OOM_MESSAGE);
    if (spare >= 0)
        close(spare);
    if (!r->client)
        return -1;
    tls_sock_want(r->client, false, false);
    return 0;
}

static void req_fail(struct gw_req *r, int code, const char *reason, const char *message)
{
    if (req_client_open(r) < 0) {
        req_free(r);
        return;
    }
    req_reply_status(r, code, reason, message, 0);
}

/* ---- relaying the upstream response ---- */

static void req_relay_pump(struct gw_req *r)
{
    while (r->out_off == r->out_len && !r->up_eof) {
        if (!r->out && !(r->out = malloc(GATEWAY_RELAY_BUF)))
            break;
        ssize_t n = tls_sock_read(r->up, r->out, GATEWAY_RELAY_BUF);
        if (n == -EAGAIN) {
            tls_sock_want(r->up, true, false);
            return;
        }
        if (n <= 0) {
            r->up_eof = true; /* end of response (we asked for Connection: close) */
            break;
        }
        r->out_off = 0;
        r->out_len = (size_t)n;
        req_client_flush(r);
        if (r->state != GW_RELAY)
            return;
    }
    if (r->up)
        tls_sock_want(r->up, false, false);
    if (r->up_eof && r->out_off == r->out_len)
        req_client_flush(r);
}

static void req_start_relay(struct gw_req *r)
{
    if (req_client_open(r) < 0) {
        req_free(r);
        return;
    }
    r->state = GW_RELAY;
    r->code = r->resp.status;
    uv_timer_stop(&r->timer); /* a watch may stream for long */
    free(r->out);
    size_t cap = r->in_len + sizeof(HTTP1_SECURITY_HEADERS);
    r->out = malloc(cap > GATEWAY_RELAY_BUF ? cap : GATEWAY_RELAY_BUF);
    if (!r->out) {
        req_fail(r, 503, "ServiceUnavailable", GW_OOM_MESSAGE);
        return;
    }
    /* The head with our security headers, then what came with it unchanged. */
    long h = http1_response_secure((const char *)r->in, r->resp_head_len, r->out, cap);
    if (h < 0) {
        req_fail(r, 502, "InternalError", "the API server's response head is malformed");
        return;
    }
    memcpy(r->out + h, r->in + r->resp_head_len, r->in_len - r->resp_head_len);
    r->out_off = 0;
    r->out_len = (size_t)h + r->in_len - r->resp_head_len;
    req_client_flush(r);
}

/* ---- exec/attach: upstream 101 ---- */

static void req_take_stream(struct gw_req *r, size_t head_len, enum kube_wire wire);

static void req_take_websocket(struct gw_req *r, size_t head_len)
{
    char accept[29];
    http1_ws_accept(r->ws_key, accept);
    enum kube_wire wire;
    if (!r->resp.has_protocol || !r->resp.protocol[0] ||
        strcmp(r->resp.protocol, "channel.k8s.io") == 0)
        wire = KUBE_WIRE_CHANNEL;
    else if (strcmp(r->resp.protocol, "v4.channel.k8s.io") == 0)
        wire = KUBE_WIRE_V4;
    else if (strcmp(r->resp.protocol, "v5.channel.k8s.io") == 0)
        wire = KUBE_WIRE_V5;
    else {
        req_fail(r, 502, "InternalError",
                 "the API server picked a subprotocol podterm did not "
                 "offer");
        return;
    }
    if (strcmp(accept, r->resp.accept) != 0) {
        req_fail(r, 502, "InternalError",
                 "the API server's WebSocket handshake is invalid "
                 "(Sec-WebSocket-Accept)");
        return;
    }
    req_take_stream(r, head_len, wire);
}

/* The upstream said 101 over SPDY/3.1: the version it chose decides how its
 * Status reads. */
static void req_take_spdy(struct gw_req *r, size_t head_len)
{
    const char *head = (const char *)r->in;
    int v = spdy_upgrade_negotiate(head, head_len, NULL, 0);
    if (!r->resp.connection_upgrade || !spdy_upgrade_is_spdy(head, head_len) || v < 0) {
        req_fail(r, 502, "InternalError",
                 "the API server switched protocols without a valid SPDY/3.1 upgrade "
                 "(Upgrade: SPDY/3.1, Connection: Upgrade and one of the offered "
                 "X-Stream-Protocol-Version)");
        return;
    }
    bool json = v == SPDY_VERSION_V5 || v == SPDY_VERSION_V4;
    req_take_stream(r, head_len, json ? KUBE_WIRE_SPDY_V4 : KUBE_WIRE_SPDY_TEXT);
}

static void req_take_stream(struct gw_req *r, size_t head_len, enum kube_wire wire)
{
    /* What the session needs of the request, described before the stream
     * takes the description over. */
    struct exec_request req = {
        .attach = r->desc.attach,
        .want_stdin = r->desc.want_stdin,
        .want_stdout = r->desc.want_stdout,
        .want_stderr = r->desc.want_stderr,
        .tty = r->desc.tty,
    };
    snprintf(req.ns, sizeof(req.ns), "%s", r->desc.ns);
    snprintf(req.pod, sizeof(req.pod), "%s", r->desc.pod);
    snprintf(req.container, sizeof(req.container), "%s", r->desc.container);
    if (r->desc.argv &&
        exec_request_argv_copy(&req, (const char *const *)r->desc.argv, r->desc.argc) < 0) {
        req_fail(r, 503, "ServiceUnavailable", "out of memory");
        return;
    }
    struct tls_sock *up = r->up;
    r->up = NULL;
    req.prepared =
        kube_stream_new(r->gw->backend, up, wire, &r->desc, r->in + head_len, r->in_len - head_len);
    if (!req.prepared) {
        exec_request_clear(&req);
        req_fail(r, 503, "ServiceUnavailable", "out of memory");
        return;
    }
    int fd = r->fd;
    r->fd = -1;
    struct admission *adm = r->adm;
    r->adm = NULL;
    r->id = NULL;
    r->adopt(r->adopt_ctx, fd, r->buf, r->len, &req, adm);
    req_free(r);
}

/* ---- reading the upstream response head ---- */

static bool req_creds_refreshable(const struct gw_req *r)
{
    const struct kube_target *t = r->gw->client->target;
    return !r->gw->opts.pass_through_token && (t->exec || t->token_file);
}

/* A WebSocket upgrade refused by something that is not the API server's
 * verdict on the request: no metav1.Status JSON (a proxy's text or HTML
 * 400/403/502), or 426 Upgrade Required. A Status (Forbidden, NotFound, ...)
 * is the answer the SPDY attempt would get too, so it is relayed as it is;
 * kubectl retries on every failure, and the API server then admits and
 * audits the same request twice. */
static bool req_upgrade_refused(const struct gw_req *r)
{
    return r->resp.status == 426 ||
           strncasecmp(r->resp.content_type, "application/json", strlen("application/json")) != 0;
}

static void req_on_head(struct gw_req *r, int head_len)
{
    r->resp_head_len = (size_t)head_len;
    if (r->gw->opts.metrics)
        r->gw->opts.metrics->upstream_requests[metrics_code_index(r->resp.status)]++;
    if (r->resp.status == 401 && !r->retried && req_creds_refreshable(r)) {
        /* A rotated token or an expired plugin credential: once more, fresh. */
        r->retried = true;
        kube_creds_invalidate(r->gw->client->creds);
        tls_sock_close(r->up);
        r->up = NULL;
        r->in_len = 0;
        req_start_upstream(r);
        return;
    }
    if (r->resp.status != 101 && (r->websocket || r->spdy) && !r->spdy_upstream &&
        req_upgrade_refused(r)) {
        /* kubectl falls back to SPDY when its WebSocket upgrade fails; so
         * does the gateway, on its own connection, once. */
        r->spdy_upstream = true;
        tls_sock_close(r->up);
        r->up = NULL;
        r->in_len = 0;
        req_start_upstream(r);
        return;
    }
    if (r->resp.status == 101 && r->spdy_upstream) {
        req_take_spdy(r, (size_t)head_len);
        return;
    }
    if (r->resp.status == 101) {
        /* Only an upgrade we asked for, confirmed as RFC 6455 4.1 requires;
         * anything else would hand the client a raw upstream stream. */
        if (!(r->websocket || r->spdy) || !r->resp.upgrade_websocket ||
            !r->resp.connection_upgrade) {
            req_fail(r, 502, "InternalError",
                     "the API server switched protocols without a valid WebSocket upgrade "
                     "(Upgrade: websocket and Connection: Upgrade)");
            return;
        }
        req_take_websocket(r, (size_t)head_len);
        return;
    }
    req_start_relay(r);
}

static void req_read_upstream(struct gw_req *r)
{
    for (;;) {
        if (r->in_len == r->in_cap) {
            req_fail(r, 502, "InternalError", "the API server's response head is too large");
            return;
        }
        ssize_t n = tls_sock_read(r->up, r->in + r->in_len, r->in_cap - r->in_len);
        if (n == -EAGAIN)
            return;
        if (n <= 0) {
            char msg[KUBE_ERR_MAX + TLS_SOCK_ERR_MAX];
            snprintf(msg, sizeof(msg),
                     "the API server %s%s closed the connection before "
                     "answering%s%s",
                     r->gw->client->scheme, r->gw->client->authority, n < 0 ? ": " : "",
                     n < 0 ? tls_sock_error(r->up) : "");
            req_fail(r, 503, "ServiceUnavailable", msg);
            return;
        }
        r->in_len += (size_t)n;
        if (r->state == GW_HEAD) {
            int h = http1_response_parse((const char *)r->in, r->in_len, &r->resp);
            if (h < 0) {
                req_fail(r, 502, "InternalError", "the API server's response is not HTTP/1.1");
                return;
            }
            if (h > 0) {
                req_on_head(r, h);
                return;
            }
        }
    }
}

static void req_on_upstream(void *user, int events)
{
    struct gw_req *r = user;
    if (events & TLS_SOCK_ERROR) {
        if (r->state == GW_RELAY) {
            r->up_eof = true;
            req_client_flush(r);
            return;
        }
        req_fail(r, 503, "ServiceUnavailable", tls_sock_error(r->up));
        return;
    }
    if (r->state == GW_CONNECT && (events & TLS_SOCK_WRITABLE)) {
        req_send_upstream(r);
        return;
    }
    if (r->state == GW_HEAD) {
        if (events & TLS_SOCK_READABLE)
            req_read_upstream(r);
    } else if (r->state == GW_RELAY && (events & TLS_SOCK_READABLE)) {
        req_relay_pump(r);
    }
}

/* ---- the upstream request ---- */

static void head_forward(const struct gw_req *r, struct kube_head *out, enum http_header h,
                         const char *name)
{
    const struct http_span *v = &r->rq.h[h];
    if (v->p)
        kube_head_field(out, name, v->p, v->n);
}

static void head_identity(const struct gw_req *r, struct kube_head *out)
{
    if (r->gw->opts.pass_through_token) {
        if (r->client_token[0])
            kube_head_field2(out, "Authorization", "Bearer ", r->client_token,
                             strlen(r->client_token));
        return;
    }
    if (r->token[0])
        kube_head_field2(out, "Authorization", "Bearer ", r->token, strlen(r->token));
    if (!r->id)
        return; /* anonymous podterm (loopback): podterm's own identity */
    kube_head_field(out, "Impersonate-User", r->id->user, strlen(r->id->user));
    if (r->id->uid[0])
        kube_head_field(out, "Impersonate-Uid", r->id->uid, strlen(r->id->uid));
    for (size_t i = 0; i < r->id->groups_len; i++)
        if (strcmp(r->id->groups[i], "system:authenticated") != 0) /* the cluster adds it */
            kube_head_field(out, "Impersonate-Group", r->id->groups[i], strlen(r->id->groups[i]));
}

/* The head to send upstream into r->out: 0, or a kube_head_err (nothing is
 * sent then). */
/* req_build_head: its buffer could not be allocated (the kube_head codes are its others). */
#define GW_HEAD_ERR_NOMEM (-100)

static int req_build_head(struct gw_req *r)
{
    char *buf = malloc(KUBE_HEAD_MAX);
    if (!buf)
        return GW_HEAD_ERR_NOMEM;
    struct kube_head out;
    kube_head_init(&out, buf, KUBE_HEAD_MAX);
    const struct kube_target *t = r->gw->client->target;
    /* Upgrades go up as WebSocket GETs; an exec POST without one as a POST. */
    bool post = r->spdy_upstream || (!r->spdy && http_span_is(&r->rq.method, "POST"));
    const char *method = post ? "POST" : "GET";
    if (r->rq.method.n == 4 && memcmp(r->rq.method.p, "HEAD", 4) == 0)
        method = "HEAD";
    kube_head_request_line(&out, method, t->prefix, r->rq.target.p, r->rq.target.n);
    kube_head_field(&out, "Host", r->gw->client->authority, strlen(r->gw->client->authority));
    head_forward(r, &out, HTTP_H_ACCEPT, "Accept");
    head_forward(r, &out, HTTP_H_ACCEPT_ENCODING, "Accept-Encoding");
    head_forward(r, &out, HTTP_H_USER_AGENT, "User-Agent");
    head_forward(r, &out, HTTP_H_KUBECTL_COMMAND, "Kubectl-Command");
    head_forward(r, &out, HTTP_H_KUBECTL_SESSION, "Kubectl-Session");
    head_identity(r, &out);
    if (r->spdy_upstream) { /* the WebSocket was refused: SPDY/3.1, as kubectl's fallback */
        kube_head_field(&out, "Connection", "Upgrade", 7);
        kube_head_field(&out, "Upgrade", "SPDY/3.1", 8);
        for (int v = SPDY_VERSION_V4; v < SPDY_VERSION_COUNT; v++) {
            const char *name = spdy_version_name((enum spdy_version)v);
            kube_head_field(&out, "X-Stream-Protocol-Version", name, strlen(name));
        }
        kube_head_field(&out, "Content-Length", "0", 1);
    } else if (r->websocket || r->spdy) { /* a SPDY client's exec goes upstream as a WebSocket */
        unsigned char key[16];
        RAND_bytes(key, sizeof(key));
        EVP_EncodeBlock((unsigned char *)r->ws_key, key, sizeof(key));
        kube_head_field(&out, "Connection", "Upgrade", 7);
        kube_head_field(&out, "Upgrade", "websocket", 9);
        kube_head_field(&out, "Sec-WebSocket-Version", "13", 2);
        kube_head_field(&out, "Sec-WebSocket-Key", r->ws_key, strlen(r->ws_key));
        kube_head_field(&out, "Sec-WebSocket-Protocol", GW_UPSTREAM_PROTOCOLS,
                        strlen(GW_UPSTREAM_PROTOCOLS));
    } else {
        kube_head_field(&out, "Connection", "close", 5);
    }
    int n = kube_head_finish(&out);
    if (n < 0) {
        explicit_bzero(buf, KUBE_HEAD_MAX); /* it may hold a token */
        free(buf);
        return n;
    }
    free(r->out);
    r->out = buf;
    r->out_off = 0;
    r->out_len = (size_t)n;
    return 0;
}

static void req_send_upstream(struct gw_req *r)
{
    while (r->out_off < r->out_len) {
        ssize_t n = tls_sock_write(r->up, r->out + r->out_off, r->out_len - r->out_off);
        if (n == -EAGAIN) {
            tls_sock_want(r->up, false, true);
            return;
        }
        if (n < 0) {
            req_fail(r, 503, "ServiceUnavailable", tls_sock_error(r->up));
            return;
        }
        r->out_off += (size_t)n;
    }
    free(r->out);
    r->out = NULL;
    r->out_off = r->out_len = 0;
    r->state = GW_HEAD;
    if (!r->in && !(r->in = malloc(HTTP1_HEAD_MAX))) {
        req_fail(r, 503, "ServiceUnavailable", GW_OOM_MESSAGE);
        return;
    }
    r->in_cap = HTTP1_HEAD_MAX;
    r->in_len = 0;
    tls_sock_want(r->up, true, false);
    req_read_upstream(r);
}

static void req_on_connected(void *user, struct tls_sock *sock, const char *err)
{
    struct gw_req *r = user;
    r->connecting = NULL;
    if (!sock) {
        req_fail(r, 503, "ServiceUnavailable", err);
        return;
    }
    r->up = sock;
    tls_sock_set_cb(sock, req_on_upstream, r);
    int rc = req_build_head(r);
    if (rc == KUBE_HEAD_ERR_CONTROL) {
        /* Never echo the value: it may be a token. */
        req_fail(r, 400, "BadRequest",
                 "a header value or the request target has a control character");
        return;
    }
    if (rc == GW_HEAD_ERR_NOMEM) { /* not the client's fault: no 400 */
        req_fail(r, 503, "ServiceUnavailable", GW_OOM_MESSAGE);
        return;
    }
    if (rc < 0) {
        req_fail(r, 400, "BadRequest", "request too large to forward");
        return;
    }
    r->state = GW_CONNECT;
    req_send_upstream(r);
}

static void req_connect(struct gw_req *r)
{
    r->state = GW_CONNECT;
    r->connecting = kube_client_connect(r->gw->client, req_on_connected, r);
    if (!r->connecting)
        req_fail(r, 503, "ServiceUnavailable", "cannot start connecting to the API server");
}

static void req_on_creds(struct kube_creds_req *cr, const char *token, const char *err)
{
    struct gw_req *r = (struct gw_req *)((char *)cr - offsetof(struct gw_req, creds_req));
    r->creds_waiting = false;
    if (!token) {
        req_fail(r, 503, "ServiceUnavailable", err);
        return;
    }
    snprintf(r->token, sizeof(r->token), "%s", token);
    req_connect(r);
}

/* The client a request counts against: the user podterm authenticated, else
 * the peer's address as the listener saw it (behind the TLS terminator too). */
static void req_client_key(const struct gw_req *r, char *key, size_t cap)
{
    if (r->id)
        snprintf(key, cap, "user:%s", r->id->user);
    else
        snprintf(key, cap, "addr:%s", r->peer[0] ? r->peer : "local");
}

/* Count the request against its client's bound and the watch bound; false
 * when it was answered with 429 instead. */
static bool req_admit(struct gw_req *r)
{
    struct gateway *gw = r->gw;
    char key[GW_CLIENT_KEY_MAX];
    req_client_key(r, key, sizeof(key));
    struct gw_client *cl = gw_client_get(gw, key);
    if (!cl) {
        req_fail(r, 503, "ServiceUnavailable", "out of memory");
        return false;
    }
    r->watch = r->route == GW_ROUTE_REST &&
               http_query_is_watch(r->rq.query.p ? r->rq.query.p : "", r->rq.query.n);
    enum gw_admit a = gw_admit(cl->in_flight, GATEWAY_CLIENT_REQUESTS_MAX, gw->watches,
                               GATEWAY_REQUESTS_MAX - GATEWAY_HEADROOM, r->watch);
    cl->in_flight++; /* r->cl owns one count from here, admitted or not */
    r->cl = cl;
    if (a == GW_ADMIT_OK) {
        gw->watches += r->watch;
        return true;
    }
    r->watch = false;
    char msg[256];
    if (a == GW_ADMIT_CLIENT_FULL)
        snprintf(msg, sizeof(msg),
                 "too many requests in flight from this client (at most %d, watches included); "
                 "close some or retry later",
                 GATEWAY_CLIENT_REQUESTS_MAX);
    else
        snprintf(msg, sizeof(msg), "too many watches in flight on this gateway; retry later");
    if (req_client_open(r) < 0) {
        req_free(r);
        return false;
    }
    req_reply_status(r, 429, "TooManyRequests", msg, GATEWAY_RETRY_AFTER_S);
    return false;
}

static void req_start_upstream(struct gw_req *r)
{
    r->state = GW_CREDS;
    if (r->gw->opts.pass_through_token) {
        req_connect(r);
        return;
    }
    r->creds_req.done = req_on_creds;
    int rc = kube_creds_get(r->gw->client->creds, &r->creds_req, r->token, sizeof(r->token));
    if (rc < 0) {
        char msg[KUBE_TOKEN_MAX + 1];
        snprintf(msg, sizeof(msg), "%s", r->token);
        r->token[0] = '\0';
        req_fail(r, 503, "ServiceUnavailable", msg);
    } else if (rc == 1) {
        r->creds_waiting = true;
    } else {
        req_connect(r);
    }
}

static void req_on_timeout(uv_timer_t *t)
{
    struct gw_req *r = t->data;
    char msg[512];
    snprintf(msg, sizeof(msg), "the API server %s%s did not answer within %d s",
             r->gw->client->scheme, r->gw->client->authority, GATEWAY_UPSTREAM_TIMEOUT_MS / 1000);
    kube_connect_cancel(r->connecting);
    r->connecting = NULL;
    if (r->creds_waiting)
        kube_creds_cancel(r->gw->client->creds, &r->creds_req);
    r->creds_waiting = false;
    req_fail(r, 503, "ServiceUnavailable", msg);
}

/* ---- accepting a request ---- */

/* The client's token: Authorization: Bearer, else the subprotocol item. */
static void req_client_token(struct gw_req *r, const struct gateway_head *h)
{
    const struct http_span *a = &r->rq.h[HTTP_H_AUTHORIZATION];
    r->client_token[0] = '\0';
    if (a->p) {
        char hv[KUBE_TOKEN_MAX + 16];
        snprintf(hv, sizeof(hv), "%.*s", (int)a->n, a->p);
        size_t tlen = 0;
        const char *t = auth_bearer_parse(hv, &tlen);
        if (t && tlen <= KUBE_TOKEN_MAX)
            snprintf(r->client_token, sizeof(r->client_token), "%.*s", (int)tlen, t);
    } else if (h->subprotocol_token &&
               util_token_is_valid(h->subprotocol_token, strlen(h->subprotocol_token))) {
        /* proto_negotiate checked it already; this token may go upstream as is. */
        snprintf(r->client_token, sizeof(r->client_token), "%s", h->subprotocol_token);
    }
}

/* Would the server's own upgrade checks (upgrade.c) let this through? Only
 * then is the upstream contacted; otherwise the normal upgrade path answers
 * with its exact refusal. Admission (Origin, token, who may) came before. */
static bool req_ws_prechecks(struct gw_req *r, const struct gateway_head *h)
{
    const struct http_request *q = &r->rq;
    return h->negotiation_rc == PROTO_OK && http_span_is(&q->method, "GET") &&
           http_span_is(&q->h[HTTP_H_WS_VERSION], "13") && q->h[HTTP_H_WS_KEY].p &&
           q->h[HTTP_H_WS_KEY].n;
}

/* A SPDY exec: only when the version can be agreed is the upstream
 * contacted (session_spdy.c answers the rest with its refusal). */
static bool req_spdy_prechecks(const struct gw_req *r)
{
    const char *end = memmem(r->buf, r->len, "\r\n\r\n", 4);
    return end && spdy_upgrade_negotiate(r->buf, (size_t)(end + 4 - r->buf), NULL, 0) >= 0;
}

static void req_hand_back(struct gw_req *r)
{
    int fd = r->fd;
    r->fd = -1;
    struct admission *adm = r->adm;
    r->adm = NULL;
    r->id = NULL;
    r->adopt(r->adopt_ctx, fd, r->buf, r->len, NULL, adm);
    req_free(r);
}

/* The stream description, or the request answered: out of memory, or over
 * the limits local mode refuses too (exec_request.c), with its messages. */
static bool req_exec_desc(struct gw_req *r, bool attach)
{
    char msg[GW_NAME_MAX * 2 + 64];
    switch (gw_exec_desc(&r->adm->query, attach, &r->desc)) {
    case 0:
        return true;
    case GW_EXEC_DESC_ARGV_MAX:
        snprintf(msg, sizeof(msg), "too many command arguments (limit %d)", GW_ARGV_MAX);
        req_fail(r, 400, "BadRequest", msg);
        return false;
    case GW_EXEC_DESC_CONTAINER_LONG:
        snprintf(msg, sizeof(msg), "container %s is not valid for pod %s", r->desc.container,
                 r->desc.pod);
        req_fail(r, 400, "BadRequest", msg);
        return false;
    default:
        req_fail(r, 503, "ServiceUnavailable", "out of memory");
        return false;
    }
}

static void req_route(struct gw_req *r, const struct gateway_head *h)
{
    char ns[GW_NAME_MAX + 1], pod[GW_NAME_MAX + 1];
    bool attach = false;
    r->route = gw_route_match(r->rq.path.p, r->rq.path.n, ns, pod, &attach);
    r->websocket = h->websocket;
    r->spdy = h->spdy && r->route == GW_ROUTE_EXEC;
    req_client_token(r, h);
    if ((r->websocket || r->spdy) && r->route == GW_ROUTE_EXEC) {
        if (r->websocket ? !req_ws_prechecks(r, h) : !req_spdy_prechecks(r)) {
            req_hand_back(r);
            return;
        }
        snprintf(r->desc.ns, sizeof(r->desc.ns), "%s", ns);
        snprintf(r->desc.pod, sizeof(r->desc.pod), "%s", pod);
        if (!req_exec_desc(r, attach))
            return;
        if (req_admit(r))
            req_start_upstream(r);
        return;
    }
    if (r->route == GW_ROUTE_NONE || r->websocket) {
        req_fail(r, 404, "NotFound", "the server could not find the requested resource");
        return;
    }
    bool get = http_span_is(&r->rq.method, "GET") || http_span_is(&r->rq.method, "HEAD");
    /* An exec POST with an Upgrade podterm does not take (no Connection:
     * upgrade, another protocol) goes up as it is: the apiserver answers. */
    bool upgrade_post = r->route == GW_ROUTE_EXEC && r->rq.h[HTTP_H_UPGRADE].p &&
                        http_span_is(&r->rq.method, "POST");
    if (!get && !upgrade_post) {
        req_fail(r, 405, "MethodNotAllowed",
                 "the server does not allow this method on the requested resource");
        return;
    }
    if (req_admit(r))
        req_start_upstream(r);
}

void gateway_take(struct gateway *gw, int fd, const char *buf, size_t len,
                  const struct gateway_head *head, gateway_adopt_fn adopt, void *ctx)
{
    bool room = gw->in_flight < GATEWAY_REQUESTS_MAX && len <= GW_BUF_MAX;
    struct gw_req *r = room ? calloc(1, sizeof(*r)) : NULL;
    if (!r) { /* nothing is ours yet but the fd: answer on it, then hang up */
        gw_fd_reply_status(fd, 503, "ServiceUnavailable",
                           room ? GW_OOM_MESSAGE : "too many requests in flight; try again later");
        admission_finish(head->admission, 503);
        close(fd);
        return;
    }
    r->gw = gw;
    r->fd = fd;
    r->adopt = adopt;
    r->adopt_ctx = ctx;
    r->adm = head->admission;
    if (r->adm && r->adm->authenticated)
        r->id = &r->adm->user;
    memcpy(r->peer, head->peer, sizeof(r->peer));
    memcpy(r->buf, buf, len);
    r->len = len;
    uv_timer_init(gw->loop, &r->timer);
    r->timer.data = r;
    r->next = gw->reqs;
    if (gw->reqs)
        gw->reqs->prev = r;
    gw->reqs = r;
    gw->in_flight++;
    int prc = http_request_parse(r->buf, r->len, &r->rq);
    if (prc == HTTP_REQ_ERR_TARGET_CTL) {
        req_fail(r, 400, "BadRequest", "the request target has a control character");
        return;
    }
    if (prc < 0) {
        req_fail(r, 400, "BadRequest", "malformed request");
        return;
    }
    uv_timer_start(&r->timer, req_on_timeout, GATEWAY_UPSTREAM_TIMEOUT_MS, 0);
    req_route(r, head);
}

bool gateway_wants(const char *head, size_t len)
{
    const char *nl = memchr(head, '\n', len);
    const char *sp = nl ? memchr(head, ' ', (size_t)(nl - head)) : NULL;
    if (!sp)
        return false;
    const char *path = sp + 1;
    size_t n = strcspn(path, "? \r\n");
    return gw_path_is_api(path, n);
}

/* ---- the gateway ---- */

struct gateway *gateway_new(uv_loop_t *loop, const struct gateway_opts *opts, char *err,
                            size_t err_cap)
{
    struct kube_target *t =
        opts->in_cluster
            ? kube_target_load_in_cluster(opts->sa_dir, err, err_cap)
            : kube_target_load_kubeconfig(opts->kubeconfig, opts->context, err, err_cap);
    if (!t)
        return NULL;
    if (t->insecure)
        fprintf(stderr,
                "podterm: WARNING: insecure-skip-tls-verify is set in %s: the API "
                "server's certificate is NOT checked, so anyone on the network path can "
                "read and change every session and token\n",
                t->source);
    if (t->plain && strcmp(t->host, "127.0.0.1") != 0 && strcmp(t->host, "localhost") != 0 &&
        strcmp(t->host, "::1") != 0)
        fprintf(stderr,
                "podterm: WARNING: the API server in %s is http://%s: tokens and sessions "
                "cross the network unencrypted\n",
                t->source, t->host);
    struct gateway *gw = calloc(1, sizeof(*gw));
    if (!gw) {
        kube_target_free(t);
        snprintf(err, err_cap, "out of memory");
        return NULL;
    }
    gw->loop = loop;
    gw->opts = *opts;
    gw->client = kube_client_new(loop, t, !opts->pass_through_token, err, err_cap);
    if (gw->client)
        snprintf(gw->describe, sizeof(gw->describe), "%s%s%s (%s)", gw->client->scheme,
                 gw->client->authority, t->prefix, t->source);
    gw->backend = kube_backend_new(loop, opts->ping_interval_ms);
    if (gw->client && !gw->backend)
        snprintf(err, err_cap, "out of memory");
    if (!gw->client || !gw->backend) {
        gateway_free(gw);
        return NULL;
    }
    return gw;
}

void gateway_free(struct gateway *gw)
{
    if (!gw)
        return;
    while (gw->reqs)
        req_free(gw->reqs);
    backend_free(gw->backend);
    kube_client_free(gw->client);
    free(gw);
}

struct backend *gateway_backend(struct gateway *gw)
{
    return gw->backend;
}

const char *gateway_describe(const struct gateway *gw)
{
    return gw->describe;
}

size_t gateway_requests_in_flight(const struct gateway *gw)
{
    return gw->in_flight;
}
