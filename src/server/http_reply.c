/* http_reply.c - complete HTTP responses written in one go, and header access.
 *
 * Every podterm response is known in full when it is produced, so it is
 * written as one buffer (headers then body); lws keeps whatever the socket
 * did not take and finishes it before it closes the connection. */
#include "server/server_internal.h"
#include "server/http_reply.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bodies up to a Status's size are built on the stack: refusals and errors are
 * exactly what must still go out when memory is short. */
#define HTTP_STACK_BODY_MAX (PROTO_STATUS_MAX + 2)
#define HTTP_NO_MEMORY_STATUS                                                                      \
    "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","           \
    "\"message\":\"out of memory\",\"reason\":\"InternalError\",\"code\":500}\n"

#define HTTP_HEADERS_MAX 2048 /* our own response headers */
#define HTTP_REFERRER_POLICY "no-referrer"

void http_reply_record(struct lws *wsi, int code)
{
    enum wsi_data_type *tag = lws_get_opaque_user_data(wsi);
    if (tag && *tag == WSI_DATA_OFFER)
        ((struct upgrade_offer *)tag)->code = code;
}

int http_reply(struct lws *wsi, int code, const char *content_type, const char *extra_headers,
               const void *body, size_t body_len)
{
    http_reply_record(wsi, code);
    unsigned char stack_buf[LWS_PRE + HTTP_HEADERS_MAX + HTTP_STACK_BODY_MAX];
    unsigned char *buf =
        body_len <= HTTP_STACK_BODY_MAX ? stack_buf : malloc(LWS_PRE + HTTP_HEADERS_MAX + body_len);
    if (!buf) /* a large answer that cannot be buffered: say so rather than drop the client */
        return http_reply(wsi, 500, "application/json", "cache-control: no-store\r\n",
                          HTTP_NO_MEMORY_STATUS, sizeof(HTTP_NO_MEMORY_STATUS) - 1);
    unsigned char *start = buf + LWS_PRE, *p = start, *end = start + HTTP_HEADERS_MAX;
    if (lws_add_http_common_headers(wsi, (unsigned int)code, content_type, body_len, &p, end))
        goto fail;
    /* The connection ends after this response (a plain request was given
     * "Connection: close" by head_rewrite, a refused upgrade is dropped): say
     * so, or a keep-alive client (Node's agent) sends its next request into a
     * closed socket. lws adds this header only when it lacks a length. */
    if (lws_add_http_header_by_token(wsi, WSI_TOKEN_CONNECTION, (const unsigned char *)"close", 5,
                                     &p, end))
        goto fail;
    /* Every answer of ours, page or API: a link followed from a terminal (the
     * web-links addon) must not tell another site which pod was open. */
    if (lws_add_http_header_by_name(wsi, (const unsigned char *)"referrer-policy:",
                                    (const unsigned char *)HTTP_REFERRER_POLICY,
                                    (int)strlen(HTTP_REFERRER_POLICY), &p, end))
        goto fail;
    if (extra_headers) {
        size_t n = strlen(extra_headers);
        if ((size_t)(end - p) < n)
            goto fail;
        memcpy(p, extra_headers, n);
        p += n;
    }
    if (lws_finalize_http_header(wsi, &p, end))
        goto fail;
    memcpy(p, body, body_len);
    p += body_len;
    int n = lws_write(wsi, start, p - start, LWS_WRITE_HTTP_HEADERS);
    if (buf != stack_buf)
        free(buf);
    return n < 0 ? -1 : 0;
fail:
    if (buf != stack_buf)
        free(buf);
    return -1;
}

int http_reply_json(struct lws *wsi, int code, const char *json, size_t len)
{
    /* API answers are live state: never cached. */
    return http_reply(wsi, code, "application/json", "cache-control: no-store\r\n", json, len);
}

int http_reply_status(struct lws *wsi, int code, const char *reason, const char *message,
                      const char *details_name, const char *details_kind)
{
    char body[PROTO_STATUS_MAX + 2];
    int n = proto_http_status(code, reason, message, details_name, details_kind, body,
                              sizeof(body) - 1);
    if (n < 0)
        return -1;
    body[n++] = '\n';
    return http_reply_json(wsi, code, body, n);
}

int http_header_copy(struct lws *wsi, enum lws_token_indexes token, char *buf, size_t cap)
{
    int len = lws_hdr_total_length(wsi, token);
    if (len <= 0 || (size_t)len >= cap)
        return -1;
    return lws_hdr_copy(wsi, buf, (int)cap, token) < 0 ? -1 : len;
}

const char *http_method(struct lws *wsi)
{
    static const struct {
        enum lws_token_indexes token;
        const char *name;
    } methods[] = {
        {WSI_TOKEN_GET_URI, "GET"},       {WSI_TOKEN_POST_URI, "POST"},
        {WSI_TOKEN_PUT_URI, "PUT"},       {WSI_TOKEN_PATCH_URI, "PATCH"},
        {WSI_TOKEN_DELETE_URI, "DELETE"}, {WSI_TOKEN_OPTIONS_URI, "OPTIONS"},
        {WSI_TOKEN_HEAD_URI, "HEAD"},
    };
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
        if (lws_hdr_total_length(wsi, methods[i].token) > 0)
            return methods[i].name;
    return NULL;
}
