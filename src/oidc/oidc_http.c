/* oidc_http.c - is this HTTP/1.1 response complete, and what is its body?
 * Sans-I/O, on top of the gateway's response head parser and chunked
 * decoder (http1.h). The fetch feeds it the whole response read so far
 * after every read; the parser remembers how far it got, so each byte is
 * looked at a bounded number of times however the provider splits its
 * response (one byte per TLS record must not cost the loop quadratic time).
 * The body is framed by Content-Length, chunked encoding, or the end of the
 * connection (we send Connection: close). Anything but 200 is an error; no
 * redirects: the issuer's URLs are what the operator and the discovery
 * document say. */
#include "oidc/oidc_internal.h"

#include <stdint.h>
#include <string.h>

const char *oidc_http_strerror(int rc)
{
    switch (rc) {
    case OIDC_HTTP_ERR_HEAD:
        return "malformed HTTP response head";
    case OIDC_HTTP_ERR_STATUS:
        return "HTTP status is not 200";
    case OIDC_HTTP_ERR_SIZE:
        return "response body too large";
    case OIDC_HTTP_ERR_BODY:
        return "response body cut short or badly framed";
    default:
        return "incomplete response";
    }
}

void oidc_http_init(struct oidc_http *h, char *out)
{
    memset(h, 0, sizeof(*h));
    h->out = out;
}

/* The head, once a line end has arrived since the last try (a head parse
 * is at most HTTP1_HEAD_MAX bytes, and is retried only on new lines). */
static int oidc_http_head(struct oidc_http *h, const char *buf, size_t len, bool eof)
{
    bool new_line = memchr(buf + h->fed, '\n', len - h->fed) != NULL;
    h->fed = len;
    if (!new_line && !eof)
        return OIDC_HTTP_MORE;
    int head = http1_response_parse(buf, len, &h->r);
    if (head < 0 || (head == 0 && eof))
        return OIDC_HTTP_ERR_HEAD;
    if (head == 0)
        return OIDC_HTTP_MORE;
    h->head_len = (size_t)head;
    h->fed = h->head_len; /* the body starts here */
    return OIDC_HTTP_DONE;
}

/* Chunked: only the bytes not fed before go through the decoder. */
static int oidc_http_chunked(struct oidc_http *h, const char *buf, size_t len, bool eof)
{
    while (h->fed < len && !h->chunked.done) {
        size_t room = OIDC_DOC_MAX - h->produced, step = len - h->fed;
        if (room == 0)
            return OIDC_HTTP_ERR_SIZE;
        size_t n = 0;
        long used =
            http1_chunked_feed(&h->chunked, (const uint8_t *)buf + h->fed,
                               step < room ? step : room, (uint8_t *)h->out + h->produced, &n);
        if (used <= 0)
            return OIDC_HTTP_ERR_BODY;
        h->produced += n;
        h->fed += (size_t)used;
    }
    if (!h->chunked.done)
        return eof ? OIDC_HTTP_ERR_BODY : OIDC_HTTP_MORE;
    return OIDC_HTTP_DONE;
}

int oidc_http_feed(struct oidc_http *h, const char *buf, size_t len, bool eof, const char **body,
                   size_t *body_len, int *status)
{
    if (len < h->fed)
        return OIDC_HTTP_ERR_BODY; /* the caller's buffer never shrinks */
    if (!h->head_len) {
        int rc = oidc_http_head(h, buf, len, eof);
        *status = h->r.status;
        if (rc != OIDC_HTTP_DONE)
            return rc;
    }
    *status = h->r.status;
    if (h->r.status != 200)
        return OIDC_HTTP_ERR_STATUS;
    const char *b = buf + h->head_len;
    size_t have = len - h->head_len;
    if (h->r.chunked) {
        int rc = oidc_http_chunked(h, buf, len, eof);
        if (rc == OIDC_HTTP_DONE) {
            *body = h->out;
            *body_len = h->produced;
        }
        return rc;
    }
    if (h->r.content_length >= 0) {
        if (h->r.content_length > OIDC_DOC_MAX)
            return OIDC_HTTP_ERR_SIZE;
        if (have < (size_t)h->r.content_length)
            return eof ? OIDC_HTTP_ERR_BODY : OIDC_HTTP_MORE;
        *body = b;
        *body_len = (size_t)h->r.content_length;
        return OIDC_HTTP_DONE;
    }
    if (have > OIDC_DOC_MAX)
        return OIDC_HTTP_ERR_SIZE;
    if (!eof)
        return OIDC_HTTP_MORE;
    *body = b;
    *body_len = have;
    return OIDC_HTTP_DONE;
}

int oidc_http_response(const char *buf, size_t len, bool eof, char *out, const char **body,
                       size_t *body_len, int *status)
{
    struct oidc_http h;
    oidc_http_init(&h, out);
    return oidc_http_feed(&h, buf, len, eof, body, body_len, status);
}
