/* front.c - the front door: what happens to a request head the listener
 * has read. Rewrite it for lws (head_rewrite.h), admit it (admit.h, the one
 * path for every request in both modes), then hand it on: to the gateway
 * (gateway mode, API paths) or to lws (everything else, and the gateway's
 * exec/attach upgrades once the upstream said yes). A refusal is answered
 * here, before anything else has seen the request. */
#include "server/server_internal.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admit/admit.h"
#include "auth/auth_x509.h"
#include "api/api.h"
#include "api/api_sessions.h"
#include "gateway/gateway.h"
#include "http/head_rewrite.h"
#include "http/http1.h"
#include "http/http_request.h"
#include "net/listener.h"
#include "net/net_exchange.h"
#include "net/tls_front.h"
#include "session/exec_request.h"
#include "session/session.h"

#define FRONT_OOM_MESSAGE "podterm: out of memory"
#define FRONT_CONTENT_TYPE_MAX 256
#define FRONT_TOO_LARGE_MESSAGE "request header fields too large (limit 16384 bytes)"

static const char *front_head_end(const char *buf, size_t len)
{
    return memmem(buf, len, "\r\n\r\n", 4);
}

/* An exec/attach upgrade to SPDY/3.1, as Go's SPDY upgrader reads one:
 * Connection names "upgrade" and Upgrade "spdy/3.1" (with a websocket
 * Upgrade line too, the WebSocket wins, as lws would pick it). */
static bool front_is_spdy_exec(const struct head_rewrite *hr, const struct admission *adm)
{
    char ns[CONFIG_NAME_MAX + 1], pod[CONFIG_NAME_MAX + 1];
    bool attach;
    return !hr->websocket && hr->spdy31 && hr->connection_upgrade && adm && adm->attrs.path &&
           exec_path_parse(adm->attrs.path, ns, sizeof(ns), pod, sizeof(pod), &attach);
}

/* Hand fd and the bytes read so far to lws (fd is ours to close until lws
 * has it); adm and prepared go with the connection (the offer) or, when it
 * cannot be handed, are ended here. */
void front_adopt(void *ctx, int fd, const char *buf, size_t len, struct exec_request *prepared_req,
                 struct admission *adm)
{
    struct backend_stream *prepared = prepared_req ? prepared_req->prepared : NULL;
    struct server *server = ctx;
    const char *end = front_head_end(buf, len);
    size_t head_len = end ? (size_t)(end + 4 - buf) : 0;
    size_t cap = len + HEAD_REWRITE_SLACK;
    char *out = head_len ? malloc(cap) : NULL;
    struct upgrade_offer *offer = calloc(1, sizeof(*offer));
    struct head_rewrite *hr = malloc(sizeof(*hr));
    bool allocated = out && offer && hr;
    size_t n = allocated ? head_rewrite(buf, len, head_len, out, cap, hr) : 0;
    int code = 0;
    if (n && front_is_spdy_exec(hr, adm)) {
        /* SPDY/3.1 (kubectl before 1.30, client-go's SPDY executor): not
         * lws's; the session's SPDY connection takes it from here. */
        free(out);
        free(offer);
        free(hr);
        session_spdy_take(server, fd, buf, len, prepared_req, adm);
        return;
    }
    if (n) {
        offer->type = WSI_DATA_OFFER;
        offer->websocket = hr->websocket;
        offer->negotiation_rc = hr->negotiation_rc;
        offer->neg = hr->neg;
        offer->prepared = prepared;
        if (prepared_req) {
            offer->prepared_req = *prepared_req;
            memset(prepared_req, 0, sizeof(*prepared_req));
        }
        offer->admission = adm;
        prepared = NULL;
        adm = NULL;
        /* lws parses the bytes inside the adopt call and may reach a
         * callback before it returns: leave the record where the callbacks
         * look for it (server_offer_take). */
        server->adopting_offer = offer;
        offer = NULL;
    } else if (head_len && !allocated) {
        /* hr is only read once head_rewrite filled it. */
        listener_write_status(fd, code = 500, "Internal Server Error", "InternalError",
                              FRONT_OOM_MESSAGE);
    } else if (allocated && hr->too_large) {
        listener_write_status(fd, code = 431, "Request Header Fields Too Large",
                              "RequestHeaderFieldsTooLarge", FRONT_TOO_LARGE_MESSAGE);
    }
    bool to_lws = n && !server->shutting_down;
    struct lws *wsi = to_lws ? lws_adopt_socket_vhost_readbuf(server->vhost, fd, out, n) : NULL;
    if (server->adopting_offer) { /* not reached yet (lws deferred the parse), or no wsi */
        if (wsi) {
            lws_set_opaque_user_data(wsi, server->adopting_offer);
        } else {
            offer = server->adopting_offer;
            prepared = offer->prepared;
            adm = offer->admission;
        }
        server->adopting_offer = NULL;
    }
    /* Once lws has fd it closes it itself, also when it returns NULL (the
     * adoption failed, or the request it served ended the connection), and
     * later, from a libuv close callback: closing it here as well would close
     * whatever took the number in between (libuv then aborts on EBADF). */
    if (!to_lws)
        close(fd);
    if (prepared)
        backend_stream_stop(prepared);
    if (prepared_req)
        exec_request_clear(prepared_req);
    if (offer)
        exec_request_clear(&offer->prepared_req);
    admission_finish(adm, code ? code : 503);
    free(out);
    free(offer);
    free(hr);
}

static void front_refuse(int fd, struct admission *adm)
{
    char response[HTTP1_STATUS_RESPONSE_MAX];
    long n =
        http1_status_response_details(adm->code, adm->phrase, adm->reason, admission_message(adm),
                                      adm->details_name[0] ? adm->details_name : NULL,
                                      adm->details_kind, response, sizeof(response));
    if (n > 0 && write(fd, response, (size_t)n) < 0)
        n = 0; /* best effort: the peer may be gone */
    admission_finish(adm, adm->code);
    close(fd);
}

/* ---- the access reviews: answered here, with the body read here ---- */

struct front_review {
    struct server *server;
    struct admission *adm;
    char content_type[FRONT_CONTENT_TYPE_MAX];
    int code;
};

static int front_review_answer(void *user, const char *body, size_t len, char **response,
                               size_t *response_len)
{
    struct front_review *fr = user;
    int code = 500;
    char *json = api_review_answer(fr->server->opts.admit, &fr->adm->user, fr->adm->attrs.path,
                                   fr->content_type, body, len, &code);
    if (!json) { /* out of memory: still an answer, a 500 Status */
        *response = malloc(HTTP1_STATUS_RESPONSE_MAX);
        long n = *response ? http1_status_response(500, "Internal Server Error", "InternalError",
                                                   FRONT_OOM_MESSAGE, *response,
                                                   HTTP1_STATUS_RESPONSE_MAX)
                           : -1;
        if (n < 0)
            return -1;
        *response_len = (size_t)n;
        fr->code = 500;
        return 0;
    }
    size_t jlen = strlen(json);
    char head[512];
    int hlen = snprintf(head, sizeof(head),
                        "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
                        "Cache-Control: no-store\r\n" HTTP1_SECURITY_HEADERS
                        "Connection: close\r\nContent-Length: %zu\r\n\r\n",
                        code,
                        code == 201   ? "Created"
                        : code == 415 ? "Unsupported Media Type"
                                      : "Bad Request",
                        jlen);
    *response = malloc((size_t)hlen + jlen);
    if (!*response) {
        free(json);
        return -1;
    }
    memcpy(*response, head, (size_t)hlen);
    memcpy(*response + hlen, json, jlen);
    *response_len = (size_t)hlen + jlen;
    free(json);
    fr->code = code;
    return 0;
}

static void front_review_done(void *user, int status)
{
    struct front_review *fr = user;
    admission_finish(fr->adm, status == 0 ? fr->code : 499);
    free(fr);
}

/* A review POST: its body may still be on its way. Returns false when
 * this is not one (the caller goes on); otherwise the request is handled. */
static bool front_review(struct server *server, int fd, const char *head, size_t len,
                         size_t head_len, const struct http_request *rq, struct admission *adm)
{
    if (!http_span_is(&rq->method, "POST") || !api_review_path(adm->attrs.path))
        return false;
    /* Gateway mode without RBAC: the cluster's reviews (the gateway relays or refuses). */
    if (server->opts.gateway && !admit_rbac_enabled(server->opts.admit))
        return false;
    const struct http_span *cl = &rq->h[HTTP_H_CONTENT_LENGTH];
    size_t body_len = 0;
    for (size_t i = 0; cl->p && i < cl->n && body_len <= NET_EXCHANGE_BODY_MAX; i++) {
        if (cl->p[i] < '0' || cl->p[i] > '9') {
            body_len = SIZE_MAX;
            break;
        }
        body_len = body_len * 10 + (size_t)(cl->p[i] - '0');
    }
    if (body_len > NET_EXCHANGE_BODY_MAX) {
        adm->code = 413;
        adm->phrase = "Request Entity Too Large";
        adm->reason = "RequestEntityTooLarge";
        admission_message_set(adm,
                              "the request body must have a Content-Length of at most %d bytes",
                              NET_EXCHANGE_BODY_MAX);
        front_refuse(fd, adm);
        return true;
    }
    struct front_review *fr = calloc(1, sizeof(*fr));
    size_t have = len - head_len < body_len ? len - head_len : body_len;
    if (fr) {
        fr->server = server;
        fr->adm = adm;
        const struct http_span *ct = &rq->h[HTTP_H_CONTENT_TYPE];
        /* Cut, never dropped: "" reads as JSON, but the media type comes
         * first and decides (a long text/plain is still no JSON). */
        if (ct->p)
            snprintf(fr->content_type, sizeof(fr->content_type), "%.*s",
                     (int)(ct->n < sizeof(fr->content_type) ? ct->n : sizeof(fr->content_type) - 1),
                     ct->p);
    }
    if (!fr || net_exchange_start(server->loop, fd, head + head_len, have, body_len,
                                  front_review_answer, front_review_done, fr) < 0) {
        free(fr);
        listener_write_status(fd, 503, "Service Unavailable", "ServiceUnavailable",
                              FRONT_OOM_MESSAGE);
        admission_finish(adm, 503);
        close(fd);
    }
    return true;
}

static void front_signin_done(void *user, int code)
{
    admission_finish(user, code);
}

/* Browser sign-in's /oauth2/ requests, in both modes (signin.h). */
static bool front_signin(struct server *server, int fd, const struct http_request *rq,
                         struct admission *adm)
{
    struct signin *s = admit_signin(server->opts.admit);
    if (!s || !signin_path(rq->path.p, rq->path.n))
        return false;
    signin_serve(s, fd, rq, front_signin_done, adm);
    return true;
}

/* Gateway mode: API requests go to the cluster; the gateway gives
 * exec/attach upgrades back through front_adopt once the upstream said yes. */
static bool front_to_gateway(struct server *server, int fd, const char *head, size_t len,
                             const char *peer, const struct head_rewrite *hr, struct admission *adm)
{
    if (!server->opts.gateway || !gateway_wants(head, len))
        return false;
    struct gateway_head gh = {
        .websocket = hr->websocket,
        .spdy = front_is_spdy_exec(hr, adm),
        .negotiation_rc = hr->negotiation_rc,
        .subprotocol_token = hr->neg.has_token ? hr->neg.token : NULL,
        .admission = adm,
    };
    snprintf(gh.peer, sizeof(gh.peer), "%s", peer);
    gateway_take(server->opts.gateway, fd, head, len, &gh, front_adopt, server);
    return true;
}

void front_on_head(void *ctx, int fd, const char *head, size_t len, const char *peer)
{
    struct server *server = ctx;
    if (server->shutting_down) {
        close(fd);
        return;
    }
    size_t head_len = (size_t)(front_head_end(head, len) + 4 - head);
    struct auth_identity cert_id; /* cleared at out: when has_cert */
    bool has_cert = false;
    char *scratch = malloc(LISTENER_HEAD_MAX + HEAD_REWRITE_SLACK);
    struct head_rewrite *hr = malloc(sizeof(*hr));
    struct http_request *rq = malloc(sizeof(*rq));
    if (!scratch || !hr || !rq) {
        listener_write_status(fd, 503, "Service Unavailable", "ServiceUnavailable",
                              FRONT_OOM_MESSAGE);
        close(fd);
        goto out;
    }
    /* Only the negotiation result is used here; a head whose rewrite does
     * not fit is answered 431 by front_adopt, in both modes. */
    bool rewritten =
        head_rewrite(head, len, head_len, scratch, LISTENER_HEAD_MAX + HEAD_REWRITE_SLACK, hr) > 0;
    if (!rewritten)
        memset(hr, 0, sizeof(*hr));
    int prc = http_request_parse(head, len, rq);
    if (prc < 0) {
        /* Admission must read the request exactly as what acts on it later;
         * a head it cannot read is refused, never passed on unread. */
        listener_write_status(fd, 400, "Bad Request", "BadRequest",
                              prc == HTTP_REQ_ERR_TARGET_CTL
                                  ? "the request target has a control character"
                                  : "malformed request");
        close(fd);
        goto out;
    }
    /* A client certificate the TLS front verified is a user (kube's x509
     * authenticator): CN and Organizations. One that names no valid user is
     * as none (the apiserver's x509 authenticator passes on it too). */
    X509 *cert = server->tls ? tls_front_peer_cert(server->tls, fd) : NULL;
    has_cert = cert && auth_x509_identity(cert, &cert_id) == AUTH_OK;
    struct admit_request in = {
        .head = head,
        .head_len = head_len,
        .http = rq,
        .client_cert = has_cert ? &cert_id : NULL,
        .peer = peer,
        .websocket = hr->websocket,
        .negotiation_rc = hr->negotiation_rc,
        .subprotocol_token = hr->neg.has_token ? hr->neg.token : NULL,
        .subprotocol_csrf = hr->neg.has_csrf ? hr->neg.csrf : NULL,
    };
    struct admission *adm = NULL;
    switch (admit_request(server->opts.admit, &in, &adm)) {
    case ADMIT_NOMEM:
        listener_write_status(fd, 503, "Service Unavailable", "ServiceUnavailable",
                              FRONT_OOM_MESSAGE);
        close(fd);
        break;
    case ADMIT_REFUSED:
        front_refuse(fd, adm);
        break;
    case ADMIT_OK:
        if (front_review(server, fd, head, len, head_len, rq, adm))
            break;
        if (front_signin(server, fd, rq, adm))
            break;
        /* A recording is streamed off lws (api_stream.c says why). */
        if (api_recording_stream_take(server, fd, adm))
            break;
        if (!rewritten || !front_to_gateway(server, fd, head, len, peer, hr, adm))
            front_adopt(server, fd, head, len, NULL, adm);
        break;
    }
out:
    if (has_cert)
        auth_identity_clear(&cert_id);
    free(scratch);
    free(hr);
    free(rq);
}
