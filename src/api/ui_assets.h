/* ui_assets.h - the web terminal, compiled into the binary.
 * The table is generated at build time from web/dist (cmake/ui.cmake): each
 * file gzipped, with its content type and a content-hash ETag. The table ends
 * with an entry whose path is NULL. */
#ifndef PODTERM_UI_ASSETS_H
#define PODTERM_UI_ASSETS_H

#include <stddef.h>

struct ui_asset {
    const char *path;         /* "/index.html", "/app.js", ... */
    const char *content_type; /* "text/html; charset=utf-8", ... */
    const unsigned char *gz;  /* gzip-compressed body */
    size_t gz_len;
    size_t raw_len;   /* uncompressed length */
    const char *etag; /* quoted strong ETag */
};

extern const struct ui_asset ui_assets[];

#endif
