/* http_request.c - raw request head parsing and query items (see http_request.h). */
#include "http/http_request.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http/http1.h"
#include "proto/proto.h"

static const char *const http_header_names[HTTP_H_COUNT] = {
    [HTTP_H_AUTHORIZATION] = "authorization",
    [HTTP_H_ORIGIN] = "origin",
    [HTTP_H_HOST] = "host",
    [HTTP_H_UPGRADE] = "upgrade",
    [HTTP_H_CONNECTION] = "connection",
    [HTTP_H_WS_VERSION] = "sec-websocket-version",
    [HTTP_H_WS_KEY] = "sec-websocket-key",
    [HTTP_H_ACCEPT] = "accept",
    [HTTP_H_ACCEPT_ENCODING] = "accept-encoding",
    [HTTP_H_USER_AGENT] = "user-agent",
    [HTTP_H_KUBECTL_COMMAND] = "kubectl-command",
    [HTTP_H_KUBECTL_SESSION] = "kubectl-session",
    [HTTP_H_CONTENT_LENGTH] = "content-length",
    [HTTP_H_CONTENT_TYPE] = "content-type",
    [HTTP_H_COOKIE] = "cookie",
    [HTTP_H_CSRF_TOKEN] = "x-csrf-token",
};

static void http_header_take(struct http_request *r, const char *line, size_t len)
{
    const char *colon = memchr(line, ':', len);
    if (!colon)
        return;
    size_t nlen = (size_t)(colon - line);
    const char *v = colon + 1, *e = line + len;
    while (v < e && (*v == ' ' || *v == '\t'))
        v++;
    while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    for (int i = 0; i < HTTP_H_COUNT; i++)
        if (strlen(http_header_names[i]) == nlen &&
            strncasecmp(line, http_header_names[i], nlen) == 0 &&
            !r->h[i].p) { /* the first line counts, as for Sec-WebSocket-Protocol */
            r->h[i].p = v;
            r->h[i].n = (size_t)(e - v);
        }
}

int http_request_parse(const char *buf, size_t len, struct http_request *r)
{
    memset(r, 0, sizeof(*r));
    const char *end = memmem(buf, len, "\r\n\r\n", 4);
    const char *nl = memchr(buf, '\n', len);
    if (!end || !nl)
        return HTTP_REQ_ERR_MALFORMED;
    r->head_len = (size_t)(end + 4 - buf);
    const char *sp1 = memchr(buf, ' ', (size_t)(nl - buf));
    const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(nl - sp1 - 1)) : NULL;
    if (!sp1 || !sp2 || sp2 - sp1 - 1 > HTTP_TARGET_MAX || sp1[1] != '/')
        return HTTP_REQ_ERR_MALFORMED;
    r->method = (struct http_span){buf, (size_t)(sp1 - buf)};
    r->target = (struct http_span){sp1 + 1, (size_t)(sp2 - sp1 - 1)};
    /* Go's net/http answers a target with a control character (a bare CR
     * included) 400: url.ParseRequestURI refuses it. Never forward one. */
    for (size_t i = 0; i < r->target.n; i++)
        if ((unsigned char)r->target.p[i] < 0x20 || r->target.p[i] == 0x7f)
            return HTTP_REQ_ERR_TARGET_CTL;
    const char *q = memchr(r->target.p, '?', r->target.n);
    r->path = (struct http_span){r->target.p, q ? (size_t)(q - r->target.p) : r->target.n};
    if (q)
        r->query = (struct http_span){q + 1, r->target.n - r->path.n - 1};
    const char *p = nl, *line;
    size_t l;
    while (http1_next_line(&p, end, &line, &l))
        http_header_take(r, line, l);
    return 0;
}

/* ---- query ---- */

static int hexval(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

char *http_unescape(const char *s, size_t n)
{
    char *out = malloc(n + 1), *o = out;
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '+')
            *o++ = ' ';
        else if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            *o++ = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 2;
        } else
            *o++ = s[i];
    }
    *o = '\0';
    return out;
}

bool http_query_next(const char *query, size_t len, size_t *pos, struct http_query_item *it)
{
    size_t i = *pos, j = i;
    if (i >= len)
        return false;
    while (j < len && query[j] != '&')
        j++;
    const char *eq = memchr(query + i, '=', j - i);
    it->key = query + i;
    it->key_len = eq ? (size_t)(eq - query - i) : j - i;
    it->value = eq ? eq + 1 : NULL;
    it->value_len = eq ? (size_t)(query + j - eq - 1) : 0;
    *pos = j + 1;
    return true;
}

bool http_query_is_watch(const char *query, size_t len)
{
    size_t pos = 0;
    struct http_query_item it;
    while (http_query_next(query, len, &pos, &it)) {
        if (it.key_len == 5 && memcmp(it.key, "watch", 5) == 0) { /* the first one counts */
            if (!it.value)
                return false; /* "?watch" alone: an empty value */
            char *v = http_unescape(it.value, it.value_len);
            bool watch =
                !v || (v[0] && proto_query_bool(v)); /* out of memory: the stricter bound */
            free(v);
            return watch;
        }
    }
    return false;
}

bool http_span_is(const struct http_span *s, const char *lit)
{
    return s->p && s->n == strlen(lit) && strncasecmp(s->p, lit, s->n) == 0;
}

/* Unescape s[0, n) into out (room for n + 1), as http_unescape. */
static size_t http_unescape_into(const char *s, size_t n, char *out)
{
    char *o = out;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '+')
            *o++ = ' ';
        else if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            *o++ = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 2;
        } else
            *o++ = s[i];
    }
    *o = '\0';
    return (size_t)(o - out);
}

int http_query_decode(const char *query, size_t len, struct http_query *q)
{
    memset(q, 0, sizeof(*q));
    if (!query || !len)
        return 0;
    /* Sized to this query, not to the bound: an admission keeps its query
     * for the whole session, so every byte here is per open session. Items
     * are '&'-separated; each key and value takes at most its escaped
     * length plus a NUL. */
    size_t cap = 1;
    for (const char *p = query; (p = memchr(p, '&', len - (size_t)(p - query))); p++)
        cap++;
    if (cap > HTTP_QUERY_ITEMS_MAX)
        cap = HTTP_QUERY_ITEMS_MAX;
    q->arena = malloc(len + 2 * cap + 2);
    q->items = calloc(cap, sizeof(*q->items));
    if (!q->arena || !q->items) {
        http_query_free(q);
        return -1;
    }
    char *a = q->arena;
    size_t pos = 0;
    struct http_query_item it;
    while (q->len < cap && http_query_next(query, len, &pos, &it)) {
        size_t raw = it.key_len + (it.value ? it.value_len + 1 : 0);
        if (raw == 0 || memchr(it.key, ';', raw))
            continue;
        struct http_query_item *out = &q->items[q->len++];
        out->key = a;
        out->key_len = http_unescape_into(it.key, it.key_len, a);
        a += out->key_len + 1;
        if (it.value) {
            out->value = a;
            out->value_len = http_unescape_into(it.value, it.value_len, a);
            a += out->value_len + 1;
        }
    }
    return 0;
}

void http_query_free(struct http_query *q)
{
    free(q->arena);
    free(q->items);
    q->arena = NULL;
    q->items = NULL;
    q->len = 0;
}
