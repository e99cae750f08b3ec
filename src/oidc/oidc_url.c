/* oidc_url.c - the https:// URLs of an issuer and its jwks_uri split into
 * host, port and path, sans-I/O. Nothing but https: the keys that decide who
 * is who must come over an authenticated channel. User info (a secret in a
 * URL) and fragments are refused. */
#include "oidc/oidc_internal.h"

#include <stdlib.h>
#include <string.h>

#define OIDC_HOST_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_"

static int oidc_url_port(const char *s, size_t n)
{
    if (n == 0 || n > 5 || strspn(s, "0123456789") < n)
        return -1;
    int port = 0;
    for (size_t i = 0; i < n; i++)
        port = port * 10 + (s[i] - '0');
    return port > 0 && port <= 65535 ? port : -1;
}

int oidc_url_parse(const char *url, struct oidc_url *out)
{
    memset(out, 0, sizeof(*out));
    size_t len = strnlen(url, OIDC_URL_MAX);
    if (len >= OIDC_URL_MAX || strncmp(url, "https://", 8) != 0)
        return -1;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)url[i] <= 0x20 || (unsigned char)url[i] >= 0x7f || url[i] == '#')
            return -1;
    const char *auth = url + 8, *slash = strchr(auth, '/');
    size_t alen = slash ? (size_t)(slash - auth) : strlen(auth);
    if (!alen || memchr(auth, '@', alen))
        return -1;
    const char *host = auth, *port = NULL;
    size_t hlen = alen;
    if (auth[0] == '[') {
        const char *close = memchr(auth, ']', alen);
        if (!close || close == auth + 1)
            return -1;
        host = auth + 1;
        hlen = (size_t)(close - host);
        if (strspn(host, "0123456789abcdefABCDEF:.") < hlen)
            return -1;
        if (close + 1 < auth + alen) {
            if (close[1] != ':')
                return -1;
            port = close + 2;
        }
    } else {
        const char *colon = memchr(auth, ':', alen);
        if (colon) {
            hlen = (size_t)(colon - auth);
            port = colon + 1;
        }
        if (!hlen || strspn(host, OIDC_HOST_CHARS) < hlen)
            return -1;
    }
    if (hlen >= sizeof(out->host))
        return -1;
    memcpy(out->host, host, hlen);
    out->port = port ? oidc_url_port(port, (size_t)(auth + alen - port)) : 443;
    if (out->port < 0)
        return -1;
    strcpy(out->path, slash ? slash : "/");
    return 0;
}
