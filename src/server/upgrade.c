/* upgrade.c - decide a WebSocket upgrade before lws performs it.
 *
 * Order (PROTOCOL.md 1.2, 2): Origin, subprotocol parsing (it may carry the
 * bearer token), authentication, method, parameters, pod, container, then the
 * subprotocol choice itself. Anything refused gets a Status response and no
 * upgrade. The subprotocol was negotiated by the listener (head_rewrite.c),
 * which left only the chosen name in the header for lws to bind. On success a
 * session replaces that record as the wsi's opaque user data. */
#include "server/server_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/kube_backend.h"
#include "server/exec_request.h"

/* The Status message (500 InternalError, as exec_request.c answers) when a
 * session cannot be allocated: refused with an answer, never a hang-up. */
#define UPGRADE_OOM_MESSAGE "out of memory"

/* Query items as lws decoded them (one fragment per item), copied into one
 * arena so the items can point into it. */
struct query {
    char *arena;
    struct exec_query_item *items;
    size_t len;
};

static void query_free(struct query *q)
{
    free(q->arena);
    free(q->items);
}

static int query_collect(struct lws *wsi, struct query *q)
{
    memset(q, 0, sizeof(*q));
    int total = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_URI_ARGS);
    if (total <= 0)
        return 0;
    q->arena = malloc((size_t)total + EXEC_QUERY_ITEMS_MAX);
    q->items = calloc(EXEC_QUERY_ITEMS_MAX, sizeof(*q->items));
    if (!q->arena || !q->items)
        return -1;
    size_t used = 0, cap = (size_t)total + EXEC_QUERY_ITEMS_MAX;
    for (int i = 0; q->len < EXEC_QUERY_ITEMS_MAX; i++) {
        int n = lws_hdr_copy_fragment(wsi, q->arena + used, (int)(cap - used),
                                      WSI_TOKEN_HTTP_URI_ARGS, i);
        if (n < 0)
            break;
        char *item = q->arena + used;
        used += (size_t)n + 1;
        if (n == 0)
            continue;
        struct exec_query_item *it = &q->items[q->len++];
        char *eq = memchr(item, '=', (size_t)n);
        it->key = item;
        it->key_len = eq ? (size_t)(eq - item) : (size_t)n;
        it->value = eq ? eq + 1 : NULL;
        it->value_len = eq ? (size_t)(item + n - eq - 1) : 0;
    }
    return 0;
}

int upgrade_validate_exec(struct server *server, struct lws *wsi, const char *path,
                          struct exec_request *req, bool *is_exec_path)
{
    char ns[CONFIG_NAME_MAX + 1], pod[CONFIG_NAME_MAX + 1];
    bool attach = false;
    *is_exec_path = exec_path_parse(path, ns, sizeof(ns), pod, sizeof(pod), &attach);
    if (!*is_exec_path) {
        /* Over-long segments can't name a pod: answer as the apiserver would for a lookup. */
        return http_reply_status(wsi, 404, "NotFound",
                                 "the server could not find the requested resource", NULL, NULL) < 0
                   ? -1
                   : 1;
    }
    struct query q;
    if (query_collect(wsi, &q) < 0) {
        query_free(&q);
        return http_reply_status(wsi, 500, "InternalError", UPGRADE_OOM_MESSAGE, NULL, NULL) < 0
                   ? -1
                   : 1;
    }
    struct exec_error err;
    int rc = exec_request_build(server->opts.cluster, ns, pod, attach, q.items, q.len, req, &err);
    query_free(&q);
    if (rc == 0)
        return 0;
    return http_reply_status(wsi, err.code, err.reason, err.message,
                             err.details_name[0] ? err.details_name : NULL, err.details_kind) < 0
               ? -1
               : 1;
}

static int upgrade_refuse_status(struct lws *wsi, int code, const char *reason, const char *msg)
{
    return http_reply_status(wsi, code, reason, msg, NULL, NULL) < 0 ? -1 : 1;
}

static int upgrade_check_handshake(struct lws *wsi)
{
    const char *method = http_method(wsi);
    if (!method || strcmp(method, "GET") != 0)
        return http_reply(wsi, 405, "text/plain; charset=utf-8", NULL, "bad method", 10) < 0 ? -1
                                                                                             : 1;
    char version[8];
    if (http_header_copy(wsi, WSI_TOKEN_VERSION, version, sizeof(version)) < 0 ||
        strcmp(version, "13") != 0)
        return http_reply(wsi, 400, "text/plain; charset=utf-8", "sec-websocket-version: 13\r\n",
                          "missing or bad WebSocket Version", 32) < 0
                   ? -1
                   : 1;
    if (lws_hdr_total_length(wsi, WSI_TOKEN_KEY) <= 0)
        return upgrade_refuse_status(wsi, 400, "BadRequest", "mismatch challenge/response");
    return 0;
}

static const char *negotiation_error_text(int rc)
{
    switch (rc) {
    case PROTO_ERR_TOKEN_TWICE:
    case PROTO_ERR_TOKEN_ENCODING:
    case PROTO_ERR_TOKEN_ALONE:
        return "Unauthorized";
    default:
        return "the Sec-WebSocket-Protocol header is too long";
    }
}

/* Gateway mode: gateway.c opened the upstream stream before this upgrade
 * (so upstream refusals reached the client as they were); the session takes
 * it over. The request was validated upstream. */
static int upgrade_gateway(struct server *server, struct lws *wsi, struct upgrade_offer *offer,
                           enum proto_kind kind, int nrc)
{
    /* The gateway hands back exec/attach upgrades that fail the checks below
     * (no stream prepared) and never sees other paths: an upgrade for a path
     * that is no exec/attach (a UI path, or a request line that lost its
     * HTTP version) gets local mode's 404, path before subprotocol. */
    char path[SERVER_PATH_MAX], ns[CONFIG_NAME_MAX + 1], pod[CONFIG_NAME_MAX + 1];
    bool attach;
    if (!offer->prepared && (http_header_copy(wsi, WSI_TOKEN_GET_URI, path, sizeof(path)) < 0 ||
                             !exec_path_parse(path, ns, sizeof(ns), pod, sizeof(pod), &attach)))
        return upgrade_refuse_status(wsi, 404, "NotFound",
                                     "the server could not find the requested resource");
    if (nrc == PROTO_ERR_NO_MATCH)
        return upgrade_refuse_status(wsi, 403, "Forbidden",
                                     "none of the offered WebSocket subprotocols is supported");
    /* The gateway handed back an exec/attach upgrade that passed every check
     * here: its parser and lws read the head differently (a bare CR inside a
     * line does that), so the head is ambiguous. */
    if (!offer->prepared)
        return upgrade_refuse_status(wsi, 400, "BadRequest", "malformed request");
    if (server->sessions >= SERVER_SESSIONS_MAX)
        return upgrade_refuse_status(wsi, 503, "ServiceUnavailable",
                                     "too many sessions; try again later");
    const struct kube_stream_desc *d = kube_stream_desc(offer->prepared);
    struct exec_request req = {
        .attach = d->attach,
        .want_stdin = d->want_stdin,
        .want_stdout = d->want_stdout,
        .want_stderr = d->want_stderr,
        .tty = d->tty,
        .pod = &d->pod_ref,
        .container = &d->container_ref,
        .prepared = offer->prepared,
    };
    if (d->argv && exec_request_argv_copy(&req, (const char *const *)d->argv, d->argc) < 0)
        return upgrade_refuse_status(wsi, 500, "InternalError", UPGRADE_OOM_MESSAGE);
    struct session *session = session_new(server, kind, &req);
    if (!session) {
        exec_request_clear(&req);
        return upgrade_refuse_status(wsi, 500, "InternalError", UPGRADE_OOM_MESSAGE);
    }
    offer->prepared = NULL; /* the session's now */
    wsi_data_release(wsi);
    lws_set_opaque_user_data(wsi, session);
    return 0;
}

int upgrade_confirm(struct server *server, struct lws *wsi)
{
    if (!request_origin_allowed(server, wsi))
        return upgrade_refuse_status(wsi, 403, "Forbidden",
                                     "WebSocket upgrade from a cross-site Origin refused (start "
                                     "podterm with --allowed-origin to allow it)");
    /* The listener negotiated from the raw head; without its record this
     * upgrade was not the first request of its connection, and lws would
     * pick the subprotocol by rules that are not the apiserver's. */
    struct upgrade_offer *offer = server_offer_take(server, wsi);
    if (!offer || offer->type != WSI_DATA_OFFER)
        return upgrade_refuse_status(wsi, 400, "BadRequest",
                                     "a WebSocket upgrade must be the first request on its "
                                     "connection");
    int nrc = offer->negotiation_rc;
    if (nrc != PROTO_OK && nrc != PROTO_ERR_NO_MATCH)
        return upgrade_refuse_status(wsi, nrc == PROTO_ERR_TOO_LONG ? 400 : 401,
                                     nrc == PROTO_ERR_TOO_LONG ? "BadRequest" : "Unauthorized",
                                     negotiation_error_text(nrc));
    struct auth_identity id;
    int rc = request_authenticate(server, wsi, offer->neg.has_token ? offer->neg.token : NULL, &id);
    enum proto_kind kind = offer->neg.kind;
    if (rc != 0)
        return rc;
    if ((rc = upgrade_check_handshake(wsi)) != 0)
        return rc;
    if (server->opts.gateway)
        return upgrade_gateway(server, wsi, offer, kind, nrc);

    char path[SERVER_PATH_MAX];
    if (http_header_copy(wsi, WSI_TOKEN_GET_URI, path, sizeof(path)) < 0)
        return upgrade_refuse_status(wsi, 414, "RequestURITooLong", "request path too long");
    struct exec_request req;
    bool is_exec;
    if ((rc = upgrade_validate_exec(server, wsi, path, &req, &is_exec)) != 0)
        return rc;
    if (nrc == PROTO_ERR_NO_MATCH) {
        /* The apiserver answers a bare 403 here; a Status says why. */
        exec_request_clear(&req);
        return upgrade_refuse_status(wsi, 403, "Forbidden",
                                     "none of the offered WebSocket subprotocols is supported");
    }
    if (server->sessions >= SERVER_SESSIONS_MAX) {
        exec_request_clear(&req);
        return upgrade_refuse_status(wsi, 503, "ServiceUnavailable",
                                     "too many sessions; try again later");
    }
    struct session *session = session_new(server, kind, &req);
    if (!session) {
        exec_request_clear(&req);
        return upgrade_refuse_status(wsi, 500, "InternalError", UPGRADE_OOM_MESSAGE);
    }
    wsi_data_release(wsi);
    lws_set_opaque_user_data(wsi, session);
    return 0;
}
