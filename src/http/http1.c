/* http1.c - sans-I/O HTTP/1.1 response, chunked and WebSocket client frame
 * codecs for the gateway's upstream connections (see http1.h). */
#include "http/http1.h"

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- response head ---- */

static void http1_value(const char *v, size_t vlen, char *out, size_t cap)
{
    while (vlen && (*v == ' ' || *v == '\t'))
        v++, vlen--;
    while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
        vlen--;
    if (vlen >= cap)
        vlen = cap - 1;
    memcpy(out, v, vlen);
    out[vlen] = '\0';
}

static void http1_header(struct http1_response *r, const char *line, size_t len)
{
    const char *colon = memchr(line, ':', len);
    if (!colon)
        return;
    size_t nlen = (size_t)(colon - line);
    const char *v = colon + 1;
    size_t vlen = len - nlen - 1;
    char val[HTTP1_VALUE_MAX];
#define IS(name) (nlen == sizeof(name) - 1 && strncasecmp(line, name, nlen) == 0)
    if (IS("content-length")) {
        http1_value(v, vlen, val, sizeof(val));
        char *end;
        long long n = strtoll(val, &end, 10);
        r->content_length = *end || n < 0 ? -1 : n;
    } else if (IS("transfer-encoding")) {
        http1_value(v, vlen, val, sizeof(val));
        r->chunked = strcasestr(val, "chunked") != NULL;
    } else if (IS("upgrade")) {
        http1_value(v, vlen, val, sizeof(val));
        r->upgrade_websocket = strcasecmp(val, "websocket") == 0;
    } else if (IS("sec-websocket-protocol")) {
        http1_value(v, vlen, r->protocol, sizeof(r->protocol));
        r->has_protocol = true;
    } else if (IS("sec-websocket-accept")) {
        http1_value(v, vlen, r->accept, sizeof(r->accept));
    } else if (IS("connection")) {
        /* a token list: "keep-alive, Upgrade" */
        for (const char *t = v, *e = v + vlen; t < e;) {
            const char *c = memchr(t, ',', (size_t)(e - t));
            const char *te = c ? c : e;
            while (t < te && (*t == ' ' || *t == '\t'))
                t++;
            size_t tl = (size_t)(te - t);
            while (tl && (t[tl - 1] == ' ' || t[tl - 1] == '\t'))
                tl--;
            if (tl == 7 && strncasecmp(t, "upgrade", 7) == 0)
                r->connection_upgrade = true;
            t = c ? c + 1 : e;
        }
    } else if (IS("content-type")) {
        http1_value(v, vlen, r->content_type, sizeof(r->content_type));
    }
#undef IS
}

bool http1_next_line(const char **p, const char *end, const char **line, size_t *len)
{
    if (!*p || *p >= end)
        return false;
    const char *start = *p + 1;
    const char *nl = memchr(start, '\n', (size_t)(end + 2 - start));
    if (!nl)
        return false;
    size_t l = (size_t)(nl - start);
    if (l && start[l - 1] == '\r')
        l--;
    *line = start;
    *len = l;
    *p = nl;
    return true;
}

int http1_response_parse(const char *buf, size_t len, struct http1_response *r)
{
    const char *end = memmem(buf, len < HTTP1_HEAD_MAX ? len : HTTP1_HEAD_MAX, "\r\n\r\n", 4);
    if (!end)
        return len >= HTTP1_HEAD_MAX ? -1 : 0;
    memset(r, 0, sizeof(*r));
    r->content_length = -1;
    /* "HTTP/1.x NNN reason" */
    if (end - buf < 12 || strncmp(buf, "HTTP/1.", 7) != 0 || buf[8] != ' ')
        return -1;
    int code = 0;
    for (int i = 9; i < 12; i++) {
        if (buf[i] < '0' || buf[i] > '9')
            return -1;
        code = code * 10 + (buf[i] - '0');
    }
    r->status = code;
    const char *p = memchr(buf, '\n', (size_t)(end - buf)), *line;
    size_t l;
    while (http1_next_line(&p, end, &line, &l))
        http1_header(r, line, l);
    return (int)(end + 4 - buf);
}

static bool http1_is_security_header(const char *line, size_t len)
{
    static const char *const names[] = {"x-content-type-options", "content-security-policy",
                                        "referrer-policy"};
    const char *colon = memchr(line, ':', len);
    size_t nlen = colon ? (size_t)(colon - line) : 0;
    for (size_t i = 0; colon && i < sizeof(names) / sizeof(names[0]); i++)
        if (nlen == strlen(names[i]) && strncasecmp(line, names[i], nlen) == 0)
            return true;
    return false;
}

long http1_response_secure(const char *in, size_t head_len, char *out, size_t out_cap)
{
    const char *end = head_len >= 4 ? in + head_len - 4 : NULL; /* its "\r\n\r\n" */
    const char *nl = end ? memchr(in, '\n', head_len) : NULL;
    if (!nl || memcmp(end, "\r\n\r\n", 4) != 0)
        return -1;
    size_t o = 0, extra = sizeof(HTTP1_SECURITY_HEADERS) - 1;
#define PUT(p, n)                                                                                  \
    do {                                                                                           \
        if ((n) > out_cap - o)                                                                     \
            return -1;                                                                             \
        memcpy(out + o, (p), (n));                                                                 \
        o += (n);                                                                                  \
    } while (0)
    PUT(in, (size_t)(nl + 1 - in)); /* the status line */
    const char *p = nl, *line;
    size_t l;
    while (http1_next_line(&p, end, &line, &l))
        if (!http1_is_security_header(line, l)) {
            PUT(line, l);
            PUT("\r\n", 2);
        }
    PUT(HTTP1_SECURITY_HEADERS, extra);
    PUT("\r\n", 2);
#undef PUT
    return (long)o;
}

const char *http1_reason_phrase(int code)
{
    switch (code) {
    case 200:
        return "OK";
    case 302:
        return "Found";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 414:
        return "Request-URI Too Long";
    case 429:
        return "Too Many Requests";
    case 500:
        return "Internal Server Error";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    default:
        return "Error";
    }
}

long http1_status_response(int code, const char *phrase, const char *reason, const char *message,
                           char *out, size_t out_cap)
{
    return http1_status_response_details(code, phrase, reason, message, NULL, NULL, out, out_cap);
}

long http1_status_response_details(int code, const char *phrase, const char *reason,
                                   const char *message, const char *details_name,
                                   const char *details_kind, char *out, size_t out_cap)
{
    char body[PROTO_STATUS_MAX];
    int blen =
        proto_http_status(code, reason, message, details_name, details_kind, body, sizeof(body));
    if (blen < 0)
        return -1;
    int n = snprintf(out, out_cap,
                     "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
                     "Cache-Control: no-store\r\n" HTTP1_SECURITY_HEADERS
                     "Connection: close\r\nContent-Length: %d\r\n\r\n%.*s",
                     code, phrase, blen, blen, body);
    return n < 0 || (size_t)n >= out_cap ? -1 : n;
}

/* ---- chunked ---- */

enum { CH_SIZE, CH_EXT, CH_SIZE_LF, CH_DATA, CH_DATA_CR, CH_DATA_LF, CH_TRAILER, CH_TRAILER_LF };

long http1_chunked_feed(struct http1_chunked *c, const uint8_t *in, size_t len, uint8_t *out,
                        size_t *out_len)
{
    size_t i = 0, o = 0;
    while (i < len && !c->done) {
        uint8_t b = in[i];
        switch (c->state) {
        case CH_SIZE: {
            int d = b >= '0' && b <= '9'   ? b - '0'
                    : b >= 'a' && b <= 'f' ? b - 'a' + 10
                    : b >= 'A' && b <= 'F' ? b - 'A' + 10
                                           : -1;
            if (d >= 0) {
                if (c->remaining >> 60)
                    return -1;
                c->remaining = c->remaining * 16 + (uint64_t)d;
            } else if (b == ';' || b == ' ' || b == '\t') {
                c->state = CH_EXT;
            } else if (b == '\r') {
                c->state = CH_SIZE_LF;
            } else {
                return -1;
            }
            i++;
            break;
        }
        case CH_EXT:
            if (b == '\r')
                c->state = CH_SIZE_LF;
            i++;
            break;
        case CH_SIZE_LF:
            if (b != '\n')
                return -1;
            c->state = c->remaining ? CH_DATA : CH_TRAILER;
            c->line_has_bytes = false;
            i++;
            break;
        case CH_DATA: {
            size_t n = len - i;
            if (n > c->remaining)
                n = (size_t)c->remaining;
            memcpy(out + o, in + i, n);
            o += n;
            i += n;
            c->remaining -= n;
            if (!c->remaining)
                c->state = CH_DATA_CR;
            break;
        }
        case CH_DATA_CR:
            if (b != '\r')
                return -1;
            c->state = CH_DATA_LF;
            i++;
            break;
        case CH_DATA_LF:
            if (b != '\n')
                return -1;
            c->state = CH_SIZE;
            i++;
            break;
        case CH_TRAILER:
            if (b == '\r')
                c->state = CH_TRAILER_LF;
            else
                c->line_has_bytes = true;
            i++;
            break;
        case CH_TRAILER_LF:
            if (b != '\n')
                return -1;
            if (!c->line_has_bytes)
                c->done = true;
            c->line_has_bytes = false;
            c->state = CH_TRAILER;
            i++;
            break;
        }
    }
    *out_len = o;
    return (long)i;
}

void http1_ws_accept(const char *key, char out[29])
{
    static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    char buf[128];
    int n = snprintf(buf, sizeof(buf), "%s%s", key, guid);
    unsigned char md[SHA_DIGEST_LENGTH];
    SHA1((const unsigned char *)buf, (size_t)n, md);
    EVP_EncodeBlock((unsigned char *)out, md, SHA_DIGEST_LENGTH);
}

/* ---- WebSocket frames ---- */

size_t wsf_head(enum wsf_opcode op, size_t len, uint32_t mask, uint8_t *out)
{
    size_t h = 0;
    out[h++] = (uint8_t)(0x80 | op);
    if (len < 126) {
        out[h++] = (uint8_t)(0x80 | len);
    } else if (len <= 0xFFFF) {
        out[h++] = 0x80 | 126;
        out[h++] = (uint8_t)(len >> 8);
        out[h++] = (uint8_t)len;
    } else {
        out[h++] = 0x80 | 127;
        for (int i = 7; i >= 0; i--)
            out[h++] = (uint8_t)((uint64_t)len >> (8 * i));
    }
    out[h++] = (uint8_t)(mask >> 24);
    out[h++] = (uint8_t)(mask >> 16);
    out[h++] = (uint8_t)(mask >> 8);
    out[h++] = (uint8_t)mask;
    return h;
}

void wsf_mask(uint8_t *buf, size_t len, uint32_t mask, size_t offset)
{
    uint8_t m[4] = {(uint8_t)(mask >> 24), (uint8_t)(mask >> 16), (uint8_t)(mask >> 8),
                    (uint8_t)mask};
    for (size_t i = 0; i < len; i++)
        buf[i] ^= m[(offset + i) & 3];
}

size_t wsf_encode(enum wsf_opcode op, const uint8_t *payload, size_t len, uint32_t mask,
                  uint8_t *out)
{
    size_t h = wsf_head(op, len, mask, out);
    memcpy(out + h, payload, len);
    wsf_mask(out + h, len, mask, 0);
    return h + len;
}

void wsf_decoder_init(struct wsf_decoder *d)
{
    memset(d, 0, sizeof(*d));
}

/* Header bytes needed so far: 2, then the extended length. */
static size_t wsf_head_need(const struct wsf_decoder *d)
{
    if (d->head_len < 2)
        return 2;
    uint8_t l = d->head[1] & 0x7F;
    return 2 + (l == 126 ? 2 : l == 127 ? 8 : 0) + ((d->head[1] & 0x80) ? 4 : 0);
}

static int wsf_head_done(struct wsf_decoder *d)
{
    uint8_t b0 = d->head[0], b1 = d->head[1];
    if ((b0 & 0x70) || (b1 & 0x80))
        return -1; /* reserved bits; servers never mask */
    d->fin = b0 & 0x80;
    d->op = b0 & 0x0F;
    uint64_t l = b1 & 0x7F;
    if (l == 126)
        l = ((uint64_t)d->head[2] << 8) | d->head[3];
    else if (l == 127) {
        l = 0;
        for (int i = 0; i < 8; i++)
            l = (l << 8) | d->head[2 + i];
    }
    d->remaining = l;
    bool control = d->op & 0x8;
    if (control) {
        if (!d->fin || l > WSF_CONTROL_MAX ||
            (d->op != WSF_CLOSE && d->op != WSF_PING && d->op != WSF_PONG))
            return -1;
        d->ctl_len = 0;
    } else if (d->op == WSF_CONT) {
        if (!d->in_message)
            return -1;
    } else if (d->op == WSF_TEXT || d->op == WSF_BINARY) {
        if (d->in_message)
            return -1;
        d->in_message = true;
        d->msg_op = d->op;
        d->msg_started = false;
    } else {
        return -1;
    }
    d->in_frame = true;
    return 0;
}

static size_t wsf_control(struct wsf_decoder *d, wsf_event_cb cb, void *user)
{
    struct wsf_event ev = {.data = d->ctl, .len = d->ctl_len};
    if (d->op == WSF_PING)
        ev.type = WSF_EV_PING;
    else if (d->op == WSF_PONG)
        ev.type = WSF_EV_PONG;
    else {
        ev.type = WSF_EV_CLOSE;
        ev.code = 1005;
        if (d->ctl_len >= 2) {
            ev.code = (d->ctl[0] << 8) | d->ctl[1];
            ev.data = d->ctl + 2;
            ev.len = d->ctl_len - 2;
        }
        d->closed = true;
    }
    cb(user, &ev);
    return 0;
}

long wsf_decoder_feed(struct wsf_decoder *d, const uint8_t *in, size_t len, wsf_event_cb cb,
                      void *user)
{
    size_t i = 0;
    while (!d->closed) {
        if (!d->in_frame) {
            if (i == len)
                break;
            while (i < len && d->head_len < wsf_head_need(d))
                d->head[d->head_len++] = in[i++];
            if (d->head_len < wsf_head_need(d))
                break;
            if (wsf_head_done(d) < 0)
                return -1;
            d->head_len = 0;
        }
        size_t n = len - i < d->remaining ? len - i : (size_t)d->remaining;
        if (d->op & 0x8) {
            memcpy(d->ctl + d->ctl_len, in + i, n);
            d->ctl_len += n;
            i += n;
            d->remaining -= n;
            if (d->remaining)
                break;
            d->in_frame = false;
            wsf_control(d, cb, user);
            continue;
        }
        bool frame_end = n == d->remaining;
        if (n == 0 && !frame_end)
            break;
        struct wsf_event ev = {.type = WSF_EV_DATA,
                               .opcode = d->msg_op,
                               .first = !d->msg_started,
                               .final = d->fin && frame_end,
                               .data = in + i,
                               .len = n};
        size_t took = cb(user, &ev);
        if (took > n)
            took = n;
        if (took || n == 0)
            d->msg_started = true;
        i += took;
        d->remaining -= took;
        if (took < n)
            break; /* the consumer is full: resume here later */
        if (frame_end) {
            d->in_frame = false;
            if (d->fin)
                d->in_message = false;
        }
    }
    return (long)i;
}
