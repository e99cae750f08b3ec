/* static_ui.c - serve the web terminal compiled into the binary.
 *
 * Assets are stored gzipped; nearly every client accepts that as it is. The
 * rare one that does not (curl without --compressed) gets it inflated on the
 * fly. ETags are content hashes, so revalidation costs one 304. */
#include "server/server_internal.h"

#include "api/api.h"
#include "server/http_reply.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "api/ui_assets.h"

#define STATIC_HEADERS_MAX 512

static const struct ui_asset *static_find(const char *path)
{
    if (strcmp(path, "/") == 0)
        path = "/index.html";
    for (const struct ui_asset *a = ui_assets; a->path; a++)
        if (strcmp(a->path, path) == 0)
            return a;
    return NULL;
}

static bool static_accepts_gzip(struct lws *wsi)
{
    char enc[256];
    return http_header_copy(wsi, WSI_TOKEN_HTTP_ACCEPT_ENCODING, enc, sizeof(enc)) > 0 &&
           strstr(enc, "gzip") != NULL;
}

static unsigned char *static_inflate(const struct ui_asset *a)
{
    unsigned char *raw = malloc(a->raw_len ? a->raw_len : 1);
    if (!raw)
        return NULL;
    z_stream z;
    memset(&z, 0, sizeof(z));
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {
        free(raw);
        return NULL;
    }
    z.next_in = (unsigned char *)a->gz;
    z.avail_in = (uInt)a->gz_len;
    z.next_out = raw;
    z.avail_out = (uInt)a->raw_len;
    int rc = inflate(&z, Z_FINISH);
    inflateEnd(&z);
    if (rc != Z_STREAM_END) {
        free(raw);
        return NULL;
    }
    return raw;
}

int static_ui_handle(struct lws *wsi, const char *path)
{
    const struct ui_asset *a = static_find(path);
    if (!a)
        return 0;
    /* Revalidate every time (a cheap 304): a new binary's UI is picked up at once. */
    const char *cache = "no-cache";
    char headers[STATIC_HEADERS_MAX];
    char inm[128];
    if (http_header_copy(wsi, WSI_TOKEN_HTTP_IF_NONE_MATCH, inm, sizeof(inm)) > 0 &&
        strcmp(inm, a->etag) == 0) {
        snprintf(headers, sizeof(headers), "etag: %s\r\ncache-control: %s\r\n", a->etag, cache);
        http_reply(wsi, 304, NULL, headers, "", 0);
        return 1;
    }
    bool gz = static_accepts_gzip(wsi);
    /* connect-src 'self' covers the page's own ws:/wss: origin (CSP3 matches
     * the WebSocket schemes against the page's http/https); listing ws: wss:
     * would let injected script talk to any host. 'wasm-unsafe-eval' lets
     * the replay's player (asciinema-player) compile its bundled terminal
     * emulator, which is WebAssembly; it allows no eval() of script. */
    snprintf(headers, sizeof(headers),
             "etag: %s\r\ncache-control: %s\r\nvary: Accept-Encoding\r\n"
             "x-content-type-options: nosniff\r\n"
             "content-security-policy: default-src 'self'; script-src 'self' "
             "'wasm-unsafe-eval'; connect-src 'self'; style-src 'self' 'unsafe-inline'; "
             "img-src 'self' data:; frame-ancestors 'none'\r\n"
             "%s",
             a->etag, cache, gz ? "content-encoding: gzip\r\n" : "");
    if (gz) {
        http_reply(wsi, 200, a->content_type, headers, a->gz, a->gz_len);
        return 1;
    }
    unsigned char *raw = static_inflate(a);
    if (!raw) { /* the asset exists: out of memory is not a 404 */
        http_reply_status(wsi, 500, "InternalError", "out of memory", NULL, NULL);
        return 1;
    }
    http_reply(wsi, 200, a->content_type, headers, raw, a->raw_len);
    free(raw);
    return 1;
}
