/* head_rewrite.c - negotiate the subprotocol, mark SPDY upgrades, drop Go's
 * unparseable query segments and end plain requests' connections, in a raw
 * request head (see head_rewrite.h for why). */
#include "http/head_rewrite.h"

#include <string.h>
#include <strings.h>

#define PROTOCOL_HEADER "sec-websocket-protocol:"
#define UPGRADE_HEADER "upgrade:"
#define CONNECTION_HEADER "connection:"
#define CONNECTION_CLOSE_LINE "Connection: close\r\n"

/* A header line [start, end) (without CRLF); its value after the colon, trimmed. */
static bool line_is(const char *start, const char *end, const char *name, const char **value,
                    size_t *value_len)
{
    size_t n = strlen(name);
    if ((size_t)(end - start) < n || strncasecmp(start, name, n) != 0)
        return false;
    const char *v = start + n;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    const char *e = end;
    while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    *value = v;
    *value_len = (size_t)(e - v);
    return true;
}

/* The output buffer. Bounded by construction: a write that does not fit
 * sets full and writes nothing, so no input can write past cap (a head of
 * bare LF lines, or of many Upgrade lines, grows without limit otherwise). */
struct head_out {
    char *p;
    size_t used, cap;
    bool full;
};

static void out_put(struct head_out *out, const void *p, size_t n)
{
    if (out->full || n > out->cap - out->used) {
        out->full = true;
        return;
    }
    memcpy(out->p + out->used, p, n);
    out->used += n;
}

/* First pass: find the Upgrade kind and collect the protocol lines (NUL-terminated copies). */
static void head_scan(const char *in, size_t head_len, struct head_rewrite *res, char *arena,
                      const char **lines, size_t *nlines)
{
    const char *p = memchr(in, '\n', head_len);
    size_t used = 0;
    while (p && (size_t)(p + 1 - in) < head_len) {
        const char *start = p + 1;
        const char *nl = memchr(start, '\n', head_len - (size_t)(start - in));
        if (!nl)
            break;
        const char *end = nl > start && nl[-1] == '\r' ? nl - 1 : nl;
        const char *v;
        size_t vlen;
        if (line_is(start, end, UPGRADE_HEADER, &v, &vlen)) {
            if (vlen == 9 && strncasecmp(v, "websocket", 9) == 0)
                res->websocket = true;
            else
                res->spdy = true;
            /* Go's SPDY upgrader: the Upgrade header contains "spdy/3.1", any case. */
            for (size_t k = 0; k + 8 <= vlen && !res->spdy31; k++)
                res->spdy31 = strncasecmp(v + k, "spdy/3.1", 8) == 0;
        } else if (line_is(start, end, CONNECTION_HEADER, &v, &vlen)) {
            /* Go's check: the Connection header contains "upgrade", any case. */
            for (size_t k = 0; k + 7 <= vlen && !res->connection_upgrade; k++)
                res->connection_upgrade = strncasecmp(v + k, "upgrade", 7) == 0;
        } else if (line_is(start, end, PROTOCOL_HEADER, &v, &vlen)) {
            if (*nlines < HEAD_REWRITE_LINES_MAX && used + vlen + 1 <= PROTO_OFFER_MAX) {
                lines[(*nlines)++] = arena + used;
                memcpy(arena + used, v, vlen);
                used += vlen;
                arena[used++] = '\0';
            } else {
                /* Past the offer's bound: the whole header is refused (400),
                 * never served with what was left of it. */
                res->offer_too_long = true;
            }
        }
        p = nl;
    }
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)(c | 0x20);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

bool head_method_known(const char *in, size_t head_len)
{
    /* The methods lws 4.1 hands to the HTTP callback. */
    static const char *const known[] = {"GET ",   "HEAD ",   "POST ",   "PUT ",
                                        "PATCH ", "DELETE ", "OPTIONS "};
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        size_t n = strlen(known[i]);
        if (head_len >= n && memcmp(in, known[i], n) == 0)
            return true;
    }
    return false;
}

/* lws refuses a request target with a broken %-escape or an encoded NUL with
 * its own HTML 403; podterm answers those itself, with a Status. */
bool head_target_valid(const char *in, size_t head_len)
{
    const char *sp = memchr(in, ' ', head_len);
    if (!sp)
        return false;
    const char *end = memchr(sp + 1, ' ', head_len - (size_t)(sp + 1 - in));
    if (!end)
        end = memchr(sp + 1, '\r', head_len - (size_t)(sp + 1 - in));
    if (!end)
        return false;
    for (const char *p = sp + 1; p < end; p++) {
        if (*p != '%')
            continue;
        if (end - p < 3 || hex_value(p[1]) < 0 || hex_value(p[2]) < 0 ||
            (p[1] == '0' && p[2] == '0'))
            return false;
        p += 2;
    }
    return true;
}

/* Copy the request line, dropping every '&'-separated query segment that
 * holds a ';': the apiserver parses queries with Go's url.ParseQuery, which
 * (since Go 1.17) skips such a pair whole, while lws would split it at the
 * ';' and so read different values than a real cluster would (the pod
 * list's selectors are read from lws).
 *
 * A WebSocket upgrade's query goes to lws not at all: what runs is what
 * admission decoded (exec_request.c), and lws 4.1 decodes a %0A or %0D in
 * the query into the request line itself, ends the line there, takes the
 * request for HTTP/1.0 and drops the upgrade without a word (kubectl exec
 * -- sh -c with a multi-line script failed with "unexpected EOF"). */
static void put_request_line(const char *in, const char *line_end, struct head_out *out,
                             bool upgrade)
{
    const char *sp = memchr(in, ' ', (size_t)(line_end - in));
    const char *q = sp ? memchr(sp + 1, '?', (size_t)(line_end - sp - 1)) : NULL;
    const char *tend = q ? memchr(q, ' ', (size_t)(line_end - q)) : NULL;
    if (tend && upgrade) {
        out_put(out, in, (size_t)(q - in));
        out_put(out, tend, (size_t)(line_end - tend));
        return;
    }
    if (!tend || !memchr(q, ';', (size_t)(tend - q))) {
        out_put(out, in, (size_t)(line_end - in));
        return;
    }
    out_put(out, in, (size_t)(q + 1 - in));
    bool first = true;
    for (const char *s = q + 1; s < tend;) {
        const char *e = memchr(s, '&', (size_t)(tend - s));
        if (!e)
            e = tend;
        if (e > s && !memchr(s, ';', (size_t)(e - s))) {
            if (!first)
                out_put(out, "&", 1);
            out_put(out, s, (size_t)(e - s));
            first = false;
        }
        s = e + 1;
    }
    out_put(out, tend, (size_t)(line_end - tend));
}

size_t head_rewrite(const char *in, size_t len, size_t head_len, char *out, size_t out_cap,
                    struct head_rewrite *res)
{
    memset(res, 0, sizeof(*res));
    char arena[PROTO_OFFER_MAX + HEAD_REWRITE_LINES_MAX];
    const char *lines[HEAD_REWRITE_LINES_MAX];
    size_t nlines = 0;
    head_scan(in, head_len, res, arena, lines, &nlines);
    res->bad_target = !head_target_valid(in, head_len);
    if (res->websocket && !res->connection_upgrade) {
        /* "Upgrade: websocket" without "Connection: upgrade" is a plain
         * request (the apiserver: 400 Upgrade request required); lws would
         * refuse it with its own 403, so it gets the marker too. */
        res->websocket = false;
        res->spdy = true;
    }
    if (res->websocket) {
        res->spdy = false;
        /* An empty header is the same as none (x/net/websocket parses no protocol). */
        bool any = false;
        for (size_t i = 0; i < nlines; i++)
            any = any || lines[i][0];
        res->negotiation_rc = res->offer_too_long
                                  ? PROTO_ERR_TOO_LONG
                                  : proto_negotiate(lines, any ? nlines : 0, &res->neg);
    }
    struct head_out o = {.p = out, .cap = out_cap};
    const char *p = memchr(in, '\n', head_len);
    put_request_line(in, p + 1, &o, res->websocket);
    while ((size_t)(p + 1 - in) < head_len) {
        const char *start = p + 1;
        const char *nl = memchr(start, '\n', head_len - (size_t)(start - in));
        const char *end = nl > start && nl[-1] == '\r' ? nl - 1 : nl;
        const char *v;
        size_t vlen;
        if (end == start) { /* the blank line: add our own line before it */
            if (res->websocket && res->negotiation_rc == PROTO_OK && res->neg.offered) {
                const char *name = proto_kind_name(res->neg.kind);
                out_put(&o, "Sec-WebSocket-Protocol: ", 24);
                out_put(&o, name, strlen(name));
                out_put(&o, "\r\n", 2);
            } else if (!res->websocket) {
                out_put(&o, CONNECTION_CLOSE_LINE, strlen(CONNECTION_CLOSE_LINE));
            }
        } else if (res->websocket ? line_is(start, end, PROTOCOL_HEADER, &v, &vlen)
                                  : line_is(start, end, CONNECTION_HEADER, &v, &vlen)) {
            p = nl;
            continue; /* replaced at the blank line */
        } else if (res->spdy && line_is(start, end, UPGRADE_HEADER, &v, &vlen)) {
            out_put(&o, HEAD_SPDY_MARKER, strlen(HEAD_SPDY_MARKER));
            out_put(&o, start + strlen(UPGRADE_HEADER),
                    (size_t)(nl + 1 - start) - strlen(UPGRADE_HEADER));
            p = nl;
            continue;
        }
        out_put(&o, start, (size_t)(nl + 1 - start));
        p = nl;
    }
    out_put(&o, in + head_len, len - head_len);
    res->too_large = o.full;
    return o.full ? 0 : o.used;
}
