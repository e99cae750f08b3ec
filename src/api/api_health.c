/* api_health.c - the health endpoints: which checks each one runs and the
 * answer, in kube-apiserver's format (api_health.h). They are public (not
 * under /api, so admission asks for no token) and say nothing but check
 * names: no paths, no errors. */
#include "server/server_internal.h"

#include "api/api_health.h"
#include "admit/admit.h"
#include "server/http_reply.h"

#include <stdio.h>
#include <string.h>

/* The apiserver's headers on these answers (healthz.go). */
#define API_HEALTH_CONTENT_TYPE "text/plain; charset=utf-8"
#define API_HEALTH_HEADERS "x-content-type-options: nosniff\r\ncache-control: no-store\r\n"

static bool api_health_append(char *out, size_t cap, size_t *used, const char *a, const char *b,
                              const char *c)
{
    int n = snprintf(out + *used, cap - *used, "%s%s%s", a, b, c);
    if (n < 0 || (size_t)n >= cap - *used)
        return false;
    *used += (size_t)n;
    return true;
}

size_t api_health_body(const char *endpoint, const struct api_health_check *checks, size_t n,
                       bool verbose, char *out, size_t cap, bool *ok)
{
    *ok = true;
    for (size_t i = 0; i < n; i++)
        *ok = *ok && checks[i].ok;
    size_t used = 0;
    if (cap == 0)
        return 0;
    out[0] = '\0';
    if (*ok && !verbose)
        return api_health_append(out, cap, &used, "ok", "", "") ? used : 0;
    for (size_t i = 0; i < n; i++) {
        if (!api_health_append(out, cap, &used, checks[i].ok ? "[+]" : "[-]", checks[i].name,
                               checks[i].ok ? " ok\n" : " failed: reason withheld\n"))
            return 0;
    }
    if (!api_health_append(out, cap, &used, endpoint, *ok ? " check passed\n" : " check failed\n",
                           ""))
        return 0;
    return used;
}

/* ?verbose in any form (the apiserver looks for the key only). */
static bool api_health_verbose(struct lws *wsi)
{
    const struct upgrade_offer *offer = lws_get_opaque_user_data(wsi);
    if (!offer || offer->type != WSI_DATA_OFFER || !offer->admission)
        return false;
    const struct http_query *q = &offer->admission->query;
    for (size_t i = 0; i < q->len; i++)
        if (q->items[i].key_len == 7 && memcmp(q->items[i].key, "verbose", 7) == 0)
            return true;
    return false;
}

int api_health_handle(struct server *server, struct lws *wsi, const char *path)
{
    const char *endpoint = strcmp(path, "/livez") == 0     ? "livez"
                           : strcmp(path, "/readyz") == 0  ? "readyz"
                           : strcmp(path, "/healthz") == 0 ? "healthz"
                                                           : NULL;
    if (!endpoint)
        return 0;
    const char *method = http_method(wsi);
    if (!method || (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0))
        return http_reply_status(wsi, 405, "MethodNotAllowed",
                                 "the server does not allow this method on the requested resource",
                                 NULL, NULL) < 0
                   ? -1
                   : 1;
    struct api_health_check checks[API_HEALTH_CHECKS_MAX];
    size_t n = 0;
    checks[n++] = (struct api_health_check){"ping", server_loop_responsive(server)};
    /* The RBAC/ExecPolicy files loaded (a broken edit keeps the last good set,
     * so once serving this holds; it is listed so operators see it counted). */
    if (server->opts.policy_configured)
        checks[n++] = (struct api_health_check){"policy", admit_rbac_enabled(server->opts.admit)};
    /* A full disk or a deleted folder must not restart the pod (livez), only
     * take it out of service while requests cannot be audited. */
    if (server->opts.audit_configured && endpoint[0] != 'l')
        checks[n++] = (struct api_health_check){"audit", admit_audit_healthy(server->opts.admit)};
    /* --recording-required refuses sessions while recordings cannot be
     * written (the directory, a recent write failure): out of service then,
     * as for the audit. */
    if (server->opts.recording_required && endpoint[0] == 'r')
        checks[n++] =
            (struct api_health_check){"recording", admit_recording_healthy(server->opts.admit)};
    /* --oidc-issuer-url: until the issuer's first JWKS is in, every OIDC
     * token is refused, so the replica is not ready (the reason is in the
     * server's log, withheld here as the others are). */
    const struct oidc *oidc = admit_oidc(server->opts.admit);
    if (oidc && endpoint[0] == 'r')
        checks[n++] = (struct api_health_check){"oidc", oidc_ready(oidc, NULL, 0)};
    if (endpoint[0] == 'r')
        checks[n++] = (struct api_health_check){"shutdown", !server->draining};
    char body[API_HEALTH_BODY_MAX];
    bool ok;
    size_t len =
        api_health_body(endpoint, checks, n, api_health_verbose(wsi), body, sizeof(body), &ok);
    bool head = strcmp(method, "HEAD") == 0;
    return http_reply(wsi, ok ? 200 : 500, API_HEALTH_CONTENT_TYPE, API_HEALTH_HEADERS, body,
                      head ? 0 : len) < 0
               ? -1
               : 1;
}
