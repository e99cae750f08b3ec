/* request_auth.c - who is asking, and from which web origin.
 *
 * Authentication: an `Authorization: Bearer` header or the token subprotocol
 * item (PROTOCOL.md 2.5), checked by auth/. Without an auth configured the
 * server is anonymous (main.c only allows that on loopback). Failures answer
 * 401 Unauthorized, with nothing about the token in the reply or the log.
 *
 * Origin: any web page a user visits could open a WebSocket to a podterm on
 * their loopback. Browsers always send Origin; kubectl, wscat and client-node
 * send none; python sends its own http://HOST:PORT. So a request with an
 * Origin must name podterm's own origin (or an --allowed-origin). "Own"
 * means the Host header, which the listener has already checked against
 * DNS rebinding (host_allow.h) before the request got here. */
#include "server/server_internal.h"

#include <string.h>
#include <strings.h>
#include <time.h>

int request_authenticate(struct server *server, struct lws *wsi, const char *subprotocol_token,
                         struct auth_identity *id)
{
    memset(id, 0, sizeof(*id));
    const struct auth *auth = server->opts.auth;
    if (!auth || !auth_enabled(auth)) {
        strcpy(id->user, "system:anonymous");
        return 0;
    }
    char header[SERVER_HEADER_VALUE_MAX];
    const char *token = NULL;
    char token_buf[AUTH_TOKEN_MAX + 1];
    if (http_header_copy(wsi, WSI_TOKEN_HTTP_AUTHORIZATION, header, sizeof(header)) > 0) {
        size_t tlen = 0;
        const char *t = auth_bearer_parse(header, &tlen);
        if (t && tlen <= AUTH_TOKEN_MAX) {
            memcpy(token_buf, t, tlen);
            token_buf[tlen] = '\0';
            token = token_buf;
        }
    } else if (subprotocol_token) {
        token = subprotocol_token;
    }
    if (token && auth_token_check(auth, token, time(NULL), id) == AUTH_OK)
        return 0;
    return http_reply_status(wsi, 401, "Unauthorized", "Unauthorized", NULL, NULL) < 0 ? -1 : 1;
}

/* "http://host:port" from the Host header, compared with the Origin header. */
static bool origin_is_own(struct lws *wsi, const char *origin)
{
    char host[SERVER_HEADER_VALUE_MAX];
    if (http_header_copy(wsi, WSI_TOKEN_HOST, host, sizeof(host)) <= 0)
        return false;
    const char *rest = NULL;
    if (strncasecmp(origin, "http://", 7) == 0)
        rest = origin + 7;
    else if (strncasecmp(origin, "https://", 8) == 0)
        rest = origin + 8;
    return rest && strcasecmp(rest, host) == 0;
}

bool request_origin_allowed(struct server *server, struct lws *wsi)
{
    char origin[SERVER_HEADER_VALUE_MAX];
    if (http_header_copy(wsi, WSI_TOKEN_ORIGIN, origin, sizeof(origin)) < 0)
        return lws_hdr_total_length(wsi, WSI_TOKEN_ORIGIN) <= 0; /* absent: not a browser */
    if (origin_is_own(wsi, origin))
        return true;
    for (size_t i = 0; i < server->opts.allowed_origins_len; i++)
        if (strcasecmp(origin, server->opts.allowed_origins[i]) == 0)
            return true;
    return false;
}
