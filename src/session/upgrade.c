/* upgrade.c - decide a WebSocket upgrade before lws performs it.
 *
 * Admission (admit.h) has already checked Host, Origin, the subprotocol's
 * token item, who is asking and whether they may. What is left is the
 * request itself, in the apiserver's order (PROTOCOL.md 1.2, 2): method,
 * parameters, pod, container, then the subprotocol choice. Anything refused
 * gets a Status response and no upgrade. The subprotocol was negotiated by
 * the front door (head_rewrite.c), which left only the chosen name in the
 * header for lws to bind. On success a session replaces that record as the
 * wsi's opaque user data. */
#include "server/server_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admit/admit.h"
#include "record/record.h"
#include "screen/screen_tap.h"
#include "server/http_reply.h"
#include "session/exec_request.h"
#include "session/session.h"
#include "session/session_watch.h"

/* The Status message (500 InternalError, as exec_request.c answers) when a
 * session cannot be allocated: refused with an answer, never a hang-up. */
#define UPGRADE_OOM_MESSAGE "out of memory"

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
    /* The query as admission decoded and checked it: what runs is what was
     * admitted, never a second reading of the same bytes. */
    struct upgrade_offer *offer = server_offer_take(server, wsi);
    const struct http_query *q = offer && offer->type == WSI_DATA_OFFER && offer->admission
                                     ? &offer->admission->query
                                     : NULL;
    struct exec_error err;
    int rc = exec_request_build(server->opts.cluster, ns, pod, attach, q ? q->items : NULL,
                                q ? q->len : 0, req, &err);
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

/* The session takes the admission over: the 101 is the audit's
 * ResponseStarted, the audit's tap counts what flows and ends the
 * admission with the session, and ExecPolicy's limits go with it. */
static void upgrade_admission_attach(struct session *session, struct upgrade_offer *offer)
{
    struct admission *adm = offer->admission;
    offer->admission = NULL;
    if (!adm)
        return;
    admission_started(adm, 101);
    session_limits_set(session, adm->max_duration_s, adm->max_duration_policy, adm->idle_timeout_s,
                       adm->idle_timeout_policy);
    if (session_tap_add(session, &admission_tap_ops, adm) < 0)
        admission_finish(adm, 101);
}

/* A tty session keeps its screen on the server (screen_tap.h), for
 * watchers and resume; without memory for it the session goes on, with no
 * repaint to offer. */
static void upgrade_screen_attach(struct server *server, struct session *session, bool tty)
{
    if (tty && server->opts.screen_model)
        screen_tap_attach(session);
}

/* --recording-dir: the session's file is created before the 101, so that
 * with --recording-required a session that cannot be recorded is refused
 * rather than cut once it runs. 0 (*rec may be NULL: not recorded) or -1
 * with the 503 in err. */
static int upgrade_record_open(struct server *server, struct upgrade_offer *offer,
                               const struct exec_request *req, struct record **rec,
                               struct exec_error *err)
{
    const struct server_opts *o = &server->opts;
    struct record_opts ro = {
        .dir = o->recording_dir,
        .all = o->recording_all,
        .input = o->record_input,
        .max_bytes = o->recording_max_bytes,
        .required = o->recording_required,
    };
    char why[RECORD_ERR_MAX];
    if (record_open(server->loop, &ro, offer->admission, req, rec, why, sizeof(why)) == 0)
        return 0;
    *err = (struct exec_error){.code = 503, .reason = "ServiceUnavailable"};
    snprintf(err->message, sizeof(err->message), "%s", why);
    return -1;
}

/* The recorder's tap goes first: at the session's end it tells the
 * admission what became of the recording before the admission's tap
 * writes the audit's ResponseComplete. */
static void upgrade_taps_attach(struct server *server, struct session *session,
                                struct upgrade_offer *offer, struct record *rec, bool tty)
{
    const struct admission *adm = offer->admission;
    char id[AUDIT_ID_LEN + 1] = "";
    if (adm)
        memcpy(id, adm->audit_id, sizeof(id));
    const char *owner = adm ? adm->user.user : NULL;
    record_attach(rec, session);
    upgrade_screen_attach(server, session, tty);
    /* A web terminal (the flow protocol) can come back after a drop, when
     * there is a screen to repaint it from. */
    bool resumable = tty && offer->neg.kind == PROTO_KIND_PODTERM && session_screen(session);
    session_identify(session, id, owner, resumable ? server->opts.session_grace_ms : 0);
    upgrade_admission_attach(session, offer);
}

struct session *upgrade_session_open(struct server *server, struct upgrade_offer *offer,
                                     enum proto_kind kind, struct exec_request *req,
                                     struct exec_error *err)
{
    struct record *rec;
    if (upgrade_record_open(server, offer, req, &rec, err) != 0)
        return NULL;
    bool tty = req->tty;
    struct session *session = session_new(server, kind, req);
    if (!session) {
        record_abandon(rec);
        *err = (struct exec_error){.code = 500, .reason = "InternalError"};
        snprintf(err->message, sizeof(err->message), "%s", UPGRADE_OOM_MESSAGE);
        return NULL;
    }
    upgrade_taps_attach(server, session, offer, rec, tty);
    return session;
}

static int upgrade_refuse_error(struct lws *wsi, const struct exec_error *err)
{
    return upgrade_refuse_status(wsi, err->code, err->reason, err->message);
}

/* .../sessions/{id}/{resume,watch,join}: a live session taken over or
 * looked at, in both modes (these paths are never the gateway's). */
static bool upgrade_is_sessions_path(const struct upgrade_offer *offer)
{
    const struct admission *adm = offer->admission;
    return adm && adm->attrs.resource_request && strcmp(adm->attrs.api_group, "podterm.dev") == 0;
}

static int upgrade_sessions(struct server *server, struct lws *wsi, struct upgrade_offer *offer)
{
    const char *sub = offer->admission->attrs.subresource;
    bool sessions = strcmp(offer->admission->attrs.resource, "sessions") == 0;
    if (sessions && strcmp(sub, "resume") == 0)
        return session_resume_upgrade(server, wsi, offer);
    if (sessions && (strcmp(sub, "watch") == 0 || strcmp(sub, "join") == 0))
        return session_watch_upgrade(server, wsi, offer, strcmp(sub, "join") == 0);
    return upgrade_refuse_status(wsi, 404, "NotFound",
                                 "the server could not find the requested resource");
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
    /* The gateway described the request it opened upstream; the session
     * takes both over. */
    struct exec_request req = offer->prepared_req;
    memset(&offer->prepared_req, 0, sizeof(offer->prepared_req));
    struct exec_error err;
    struct session *session = upgrade_session_open(server, offer, kind, &req, &err);
    if (!session) {
        req.prepared = NULL; /* still the offer's, stopped with it */
        exec_request_clear(&req);
        return upgrade_refuse_error(wsi, &err);
    }
    offer->prepared = NULL; /* the session's now */
    wsi_data_release(wsi);
    lws_set_opaque_user_data(wsi, session);
    return 0;
}

int upgrade_confirm(struct server *server, struct lws *wsi)
{
    /* The front door negotiated from the raw head; without its record this
     * upgrade was not the first request of its connection (never admitted),
     * and lws would pick the subprotocol by rules that are not the
     * apiserver's. */
    struct upgrade_offer *offer = server_offer_take(server, wsi);
    if (!offer || offer->type != WSI_DATA_OFFER)
        return upgrade_refuse_status(wsi, 400, "BadRequest",
                                     "a WebSocket upgrade must be the first request on its "
                                     "connection");
    int nrc = offer->negotiation_rc;
    enum proto_kind kind = offer->neg.kind;
    int rc;
    if ((rc = upgrade_check_handshake(wsi)) != 0)
        return rc;
    if (upgrade_is_sessions_path(offer))
        return upgrade_sessions(server, wsi, offer);
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
    struct exec_error err;
    struct session *session = upgrade_session_open(server, offer, kind, &req, &err);
    if (!session) {
        exec_request_clear(&req);
        return upgrade_refuse_error(wsi, &err);
    }
    wsi_data_release(wsi);
    lws_set_opaque_user_data(wsi, session);
    return 0;
}
