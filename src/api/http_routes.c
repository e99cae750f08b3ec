/* http_routes.c - plain HTTP requests, admitted already (admit.h): the
 * exec/attach paths that were not WebSocket upgrades, the REST API, the web
 * UI, and a Status 404 for everything else. */
#include "server/server_internal.h"

#include "api/api.h"
#include "api/api_health.h"
#include "api/api_sessions.h"
#include "server/http_reply.h"
#include "session/session.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "session/exec_request.h"
#include "admit/admit.h"
#include "metrics/metrics.h"

#include <stdlib.h>

/* exec/attach reached as plain HTTP: no upgrade the apiserver would take
 * (a SPDY one went to session_spdy.c from the front door). Validated like an
 * upgrade, so the user sees the same 404/400 first (PROTOCOL.md 5.2). */
static int http_exec_without_websocket(struct server *server, struct lws *wsi, const char *path)
{
    struct exec_request req;
    bool is_exec = false;
    int rc = upgrade_validate_exec(server, wsi, path, &req, &is_exec);
    if (rc != 0)
        return rc < 0 ? -1 : 0;
    exec_request_clear(&req);
    return http_reply_status(wsi, 400, "BadRequest", "Upgrade request required", NULL, NULL);
}

/* GET /metrics (admitted as an API path: authenticated, and with RBAC
 * granted get on nonResourceURLs "/metrics"). Served by podterm in both
 * modes: these are this replica's numbers, not the cluster's. */
static int http_metrics(struct server *server, struct lws *wsi)
{
    const char *method = http_method(wsi);
    if (!method || strcmp(method, "GET") != 0)
        return http_reply_status(wsi, 405, "MethodNotAllowed",
                                 "the server does not allow this method on the requested resource",
                                 NULL, NULL);
    struct metrics *m = admit_metrics(server->opts.admit);
    if (!m)
        return http_reply_status(wsi, 404, "NotFound",
                                 "the server could not find the requested resource", NULL, NULL);
    struct metrics_scrape s = {.audit_dropped = admit_audit_dropped(server->opts.admit)};
    metrics_process_read(&s.process);
    char *text = malloc(METRICS_TEXT_MAX);
    long n = text ? metrics_render(m, &s, text, METRICS_TEXT_MAX) : -1;
    int rc = n < 0 ? http_reply_status(wsi, 500, "InternalError", "metrics could not be rendered",
                                       NULL, NULL)
                   : http_reply(wsi, 200, "text/plain; version=0.0.4; charset=utf-8",
                                "cache-control: no-store\r\n", text, (size_t)n);
    free(text);
    return rc;
}

static bool path_is_exec(const char *path)
{
    char ns[CONFIG_NAME_MAX + 1], pod[CONFIG_NAME_MAX + 1];
    bool attach;
    return exec_path_parse(path, ns, sizeof(ns), pod, sizeof(pod), &attach);
}

int http_routes_handle(struct server *server, struct lws *wsi, const char *path)
{
    if (!path || strlen(path) >= SERVER_PATH_MAX)
        return http_reply_status(wsi, 414, "RequestURITooLong", "request path too long", NULL,
                                 NULL);
    if (path_is_exec(path))
        return http_exec_without_websocket(server, wsi, path);

    /* The probes: public, before the UI's 404 (api_health.h). */
    int health = api_health_handle(server, wsi, path);
    if (health != 0)
        return health < 0 ? -1 : 0;
    if (strcmp(path, "/metrics") == 0)
        return http_metrics(server, wsi);
    /* The sessions API: podterm's own, in both modes (never relayed). */
    int sessions = api_sessions_handle(server, wsi, path);
    if (sessions != 0)
        return sessions < 0 ? -1 : 0;
    const char *method = http_method(wsi);
    bool is_api = strcmp(path, "/version") == 0 || strncmp(path, "/api", 4) == 0;
    if (is_api && server->opts.gateway) {
        /* The gateway takes API requests as the first of a connection only. */
        return http_reply_status(wsi, 421, "MisdirectedRequest",
                                 "send API requests on a new connection", NULL, NULL);
    }
    if (is_api) {
        if (!method || (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0))
            return http_reply_status(wsi, 405, "MethodNotAllowed",
                                     "the server does not allow this method on the requested "
                                     "resource",
                                     NULL, NULL);
        int rc = api_local_handle(server, wsi, path);
        if (rc != 0)
            return rc < 0 ? -1 : 0;
    } else if (method && strcmp(method, "GET") == 0) {
        /* The UI is public: it holds no data, and asks for a token when the API says 401. */
        if (static_ui_handle(wsi, path))
            return 0;
    }
    return http_reply_status(wsi, 404, "NotFound",
                             "the server could not find the requested resource", NULL, NULL);
}
