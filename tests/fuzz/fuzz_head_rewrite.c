/* fuzz_head_rewrite.c - libFuzzer target for the request head pre-read by the
 * listener: head_target_valid() and head_rewrite(), called as the listener
 * calls them (an output buffer of exactly the capacity it allocates, on the
 * heap, so a write past it is an ASan report). The input is the pre-read
 * bytes; one without a blank line gets "\r\n\r\n" appended, as the listener
 * only hands over complete heads.
 *
 * Beyond "no crash": the output fits its capacity, bytes after the head pass
 * through untouched, the head still ends in a blank line, the request line
 * keeps exactly the query segments Go's ParseQuery keeps (a reference
 * reimplementation of the ';' rule below), a WebSocket upgrade leaves at most
 * one Sec-WebSocket-Protocol line naming a kind podterm speaks (never the
 * token), a plain request leaves only "Connection: close" lines, and a SPDY
 * upgrade leaves no Upgrade line for lws to see. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "proto/proto.h"
#include "http/head_rewrite.h"
#include "net/listener.h"

#define FUZZ_IN_MAX LISTENER_HEAD_MAX /* the listener never pre-reads more */
#define FUZZ_CAP_EXTRA 32             /* listener.c: cap = len + HEAD_REWRITE_SLACK + 32 */

static bool line_has(const char *s, size_t n, const char *name)
{
    size_t k = strlen(name);
    return n >= k && strncasecmp(s, name, k) == 0;
}

/* The query part (between '?' and the next ' ') of the request line, found
 * the way head_rewrite finds it; false when there is none. */
static bool request_query(const char *line, size_t n, const char **q, const char **qend)
{
    const char *sp = memchr(line, ' ', n);
    const char *qq = sp ? memchr(sp + 1, '?', (size_t)(line + n - sp - 1)) : NULL;
    const char *te = qq ? memchr(qq, ' ', (size_t)(line + n - qq)) : NULL;
    if (!te)
        return false;
    *q = qq + 1;
    *qend = te;
    return true;
}

/* Reference for Go 1.17+'s url.ParseQuery on the raw text: '&'-separated
 * segments, a segment holding ';' is skipped whole (it is an error), empty
 * ones are skipped. podterm rewrites only queries with a ';' in them, and
 * then keeps the other non-empty segments in order. */
static size_t ref_query(const char *q, size_t n, char *out)
{
    if (!memchr(q, ';', n)) {
        memcpy(out, q, n);
        return n;
    }
    size_t used = 0;
    for (size_t i = 0; i <= n;) {
        size_t j = i;
        while (j < n && q[j] != '&')
            j++;
        if (j > i && !memchr(q + i, ';', j - i)) {
            if (used)
                out[used++] = '&';
            memcpy(out + used, q + i, j - i);
            used += j - i;
        }
        i = j + 1;
    }
    return used;
}

static void check_request_line(const char *in, size_t in_n, const char *out, size_t out_n,
                               bool upgrade)
{
    const char *inl = memchr(in, '\n', in_n), *outl = memchr(out, '\n', out_n);
    if (!inl || !outl)
        __builtin_trap();
    const char *q, *qe, *oq, *oqe;
    if (upgrade && request_query(in, (size_t)(inl - in), &q, &qe)) {
        /* a WebSocket upgrade's query (up to the first space after the
         * '?') never reaches lws; the rest of the line is kept */
        if (outl - out != (inl - in) - (qe - q + 1) || memcmp(out, in, (size_t)(q - 1 - in)) != 0 ||
            memcmp(out + (q - 1 - in), qe, (size_t)(inl - qe)) != 0)
            __builtin_trap();
        return;
    }
    if (!request_query(in, (size_t)(inl - in), &q, &qe)) {
        /* nothing to drop: the line is copied as is */
        if (inl - in != outl - out || memcmp(in, out, (size_t)(inl - in)) != 0)
            __builtin_trap();
        return;
    }
    if (!request_query(out, (size_t)(outl - out), &oq, &oqe))
        __builtin_trap();
    static char ref[FUZZ_IN_MAX];
    size_t rn = ref_query(q, (size_t)(qe - q), ref);
    if ((size_t)(oqe - oq) != rn || memcmp(oq, ref, rn) != 0)
        __builtin_trap();
    /* what surrounds the query is untouched */
    if (q - in != oq - out || memcmp(in, out, (size_t)(q - in)) != 0 || inl - qe != outl - oqe ||
        memcmp(qe, oqe, (size_t)(inl - qe)) != 0)
        __builtin_trap();
}

static bool is_kind_name(const char *v, size_t n)
{
    for (int k = PROTO_KIND_NONE + 1; k < PROTO_KIND_COUNT; k++) {
        const char *name = proto_kind_name((enum proto_kind)k);
        if (strlen(name) == n && memcmp(name, v, n) == 0)
            return true;
    }
    return false;
}

/* Header lines of the rewritten head (after the request line, before the blank one). */
static void check_headers(const char *out, size_t head_n, const struct head_rewrite *res)
{
    const char *p = memchr(out, '\n', head_n);
    size_t protocols = 0, closes = 0;
    while (p && (size_t)(p + 1 - out) < head_n) {
        const char *s = p + 1;
        const char *nl = memchr(s, '\n', head_n - (size_t)(s - out));
        if (!nl)
            __builtin_trap(); /* every line still ends in '\n' */
        size_t n = (size_t)(nl - s);
        if (n && s[n - 1] == '\r')
            n--;
        if (n == 0)
            protocols = 0; /* a blank line (bare LF too) ends a head in some parser's view:
                              each such head carries at most one protocol line */
        if (line_has(s, n, "sec-websocket-protocol:") && res->websocket) {
            const char *v = s + strlen("sec-websocket-protocol:");
            while (*v == ' ')
                v++;
            if (++protocols > 1 || !is_kind_name(v, (size_t)(s + n - v)))
                __builtin_trap();
        }
        if (line_has(s, n, "connection:") && !res->websocket) {
            if (n != strlen("Connection: close") || memcmp(s, "Connection: close", n) != 0)
                __builtin_trap();
            closes++;
        }
        if (res->spdy && line_has(s, n, "upgrade:"))
            __builtin_trap(); /* lws would answer a non-websocket Upgrade itself */
        p = nl;
    }
    if (!res->websocket && closes == 0)
        __builtin_trap(); /* lws would keep the connection and parse the next request itself */
}

static void check_result(const struct head_rewrite *res)
{
    if (!res->websocket && res->negotiation_rc != PROTO_OK)
        __builtin_trap();
    if (res->negotiation_rc > 0 || res->negotiation_rc < PROTO_ERR_TOO_LONG)
        __builtin_trap();
    if (res->websocket && res->spdy)
        __builtin_trap();
    if (res->neg.has_token && (res->negotiation_rc != PROTO_OK || !res->neg.token[0] ||
                               strnlen(res->neg.token, sizeof(res->neg.token)) > PROTO_TOKEN_MAX))
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0 || size > FUZZ_IN_MAX - 4)
        return 0;
    char *in = malloc(size + 4);
    memcpy(in, data, size);
    size_t len = size;
    const char *end = memmem(in, len, "\r\n\r\n", 4);
    if (!end) {
        memcpy(in + len, "\r\n\r\n", 4);
        len += 4;
        end = in + len - 4;
    }
    size_t head_len = (size_t)(end + 4 - in);
    (void)head_target_valid(in, head_len);

    size_t cap = len + HEAD_REWRITE_SLACK + FUZZ_CAP_EXTRA;
    char *out = malloc(cap);
    struct head_rewrite *res = malloc(sizeof(*res));
    size_t n = head_rewrite(in, len, head_len, out, cap, res);
    if (n > cap)
        __builtin_trap();
    check_result(res);
    if (n > 0) { /* 0: refused (the listener answers instead) */
        size_t tail = len - head_len;
        /* the head still ends in its blank line, after a line end (a bare LF
         * when the last line kept ends in one) */
        if (n < tail + 3 || memcmp(out + n - tail, in + head_len, tail) != 0 ||
            memcmp(out + n - tail - 3, "\n\r\n", 3) != 0)
            __builtin_trap();
        check_request_line(in, head_len, out, n - tail, res->websocket);
        check_headers(out, n - tail, res);
    }
    free(res);
    free(out);
    free(in);
    return 0;
}
