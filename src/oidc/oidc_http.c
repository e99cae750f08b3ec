/* oidc_http.c - is this HTTP/1.1 response complete, and what is its body?
 * Sans-I/O, on top of the gateway's response head parser and chunked
 * decoder (http1.h): the fetch feeds it everything read so far. The body is
 * framed by Content-Length, chunked encoding, or the end of the connection
 * (we send Connection: close). Anything but 200 is an error; no redirects:
 * the issuer's URLs are what the operator and the discovery document say. */
#include "oidc/oidc_internal.h"

#include <stdint.h>

#include "http/http1.h"

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

int oidc_http_response(const char *buf, size_t len, bool eof, char *out, const char **body,
                       size_t *body_len, int *status)
{
    struct http1_response r;
    *status = 0;
    int head = http1_response_parse(buf, len, &r);
    if (head < 0)
        return OIDC_HTTP_ERR_HEAD;
    if (head == 0)
        return eof ? OIDC_HTTP_ERR_HEAD : OIDC_HTTP_MORE;
    *status = r.status;
    if (r.status != 200)
        return OIDC_HTTP_ERR_STATUS;
    const char *b = buf + head;
    size_t have = len - (size_t)head;
    if (r.chunked) {
        /* Decoded again from the start on each call: bodies are small and
         * bounded, and this keeps the core stateless. */
        struct http1_chunked c = {0};
        size_t produced = 0;
        while (have && !c.done) {
            size_t step = have < OIDC_DOC_MAX - produced ? have : OIDC_DOC_MAX - produced;
            size_t n = 0;
            if (step == 0)
                return OIDC_HTTP_ERR_SIZE;
            long used =
                http1_chunked_feed(&c, (const uint8_t *)b, step, (uint8_t *)out + produced, &n);
            if (used < 0)
                return OIDC_HTTP_ERR_BODY;
            produced += n;
            b += used;
            have -= (size_t)used;
            if (used == 0)
                break;
        }
        if (!c.done)
            return eof ? OIDC_HTTP_ERR_BODY : OIDC_HTTP_MORE;
        *body = out;
        *body_len = produced;
        return OIDC_HTTP_DONE;
    }
    if (r.content_length >= 0) {
        if (r.content_length > OIDC_DOC_MAX)
            return OIDC_HTTP_ERR_SIZE;
        if (have < (size_t)r.content_length)
            return eof ? OIDC_HTTP_ERR_BODY : OIDC_HTTP_MORE;
        *body = b;
        *body_len = (size_t)r.content_length;
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
