/* test_http_head_rewrite.c - subprotocol negotiation, SPDY marking, Go's
 * query rule and Connection: close on raw heads, byte for byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "http/head_rewrite.h"
#include "net/listener.h"

static char out[LISTENER_HEAD_MAX + HEAD_REWRITE_SLACK];

static size_t rewrite(const char *in, struct head_rewrite *res)
{
    size_t len = strlen(in);
    const char *end = strstr(in, "\r\n\r\n");
    assert_non_null(end);
    size_t n = head_rewrite(in, len, (size_t)(end + 4 - in), out, sizeof(out), res);
    out[n] = '\0';
    return n;
}

#define WS_HEAD(protocol_lines)                                                                    \
    "GET /api/v1/namespaces/default/pods/local/exec?command=sh HTTP/1.1\r\n"                       \
    "Host: 127.0.0.1:1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"                           \
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" protocol_lines  \
    "\r\n"

/* Plain requests end in "Connection: close" (see test_plain_request_closes). */
#define CLOSE "Connection: close\r\n"

static void test_query_semicolon_pairs_dropped(void **state)
{
    struct head_rewrite res;
    rewrite("GET /api/v1/namespaces/default/pods/local/exec?command=sh&command=-c"
            "&command=echo+a;echo+b&command=x%3By&stdout=1 HTTP/1.1\r\nHost: h\r\n\r\n",
            &res);
    assert_string_equal(out, "GET /api/v1/namespaces/default/pods/local/exec?command=sh&command=-c"
                             "&command=x%3By&stdout=1 HTTP/1.1\r\nHost: h\r\n" CLOSE "\r\n");
    rewrite("GET /api/v1/pods?a;b HTTP/1.1\r\n\r\n", &res);
    assert_string_equal(out, "GET /api/v1/pods? HTTP/1.1\r\n" CLOSE "\r\n");
    rewrite("GET /api/v1/pods?a=1&&b=2 HTTP/1.1\r\n\r\n", &res); /* no ';': untouched */
    assert_string_equal(out, "GET /api/v1/pods?a=1&&b=2 HTTP/1.1\r\n" CLOSE "\r\n");
    rewrite("GET /a;b/pods?x=1 HTTP/1.1\r\n\r\n", &res); /* ';' in the path stays */
    assert_string_equal(out, "GET /a;b/pods?x=1 HTTP/1.1\r\n" CLOSE "\r\n");
    /* a REST list: the selector holding a ';' goes whole, the next item stays */
    rewrite("GET /api/v1/namespaces/default/pods?labelSelector=app%3Dweb;x=1&limit=5 HTTP/1.1\r\n"
            "Host: h\r\n\r\n",
            &res);
    assert_string_equal(
        out, "GET /api/v1/namespaces/default/pods?limit=5 HTTP/1.1\r\nHost: h\r\n" CLOSE "\r\n");
    /* ';' first, last, alone, or after '=' */
    rewrite("GET /p?;=1&a=2&b=;&;&c= HTTP/1.1\r\n\r\n", &res);
    assert_string_equal(out, "GET /p?a=2&c= HTTP/1.1\r\n" CLOSE "\r\n");
}

/* A WebSocket upgrade: only the query of the request line changes. */
/* A WebSocket upgrade reaches lws without its query: admission decoded it
 * (what runs is what was admitted), and lws 4.1 decodes %0A into the request
 * line, takes the request for HTTP/1.0 and drops the upgrade (kubectl exec
 * -- sh -c with a multi-line script got "unexpected EOF"). */
static void test_query_of_an_upgrade_is_not_lws_business(void **state)
{
    struct head_rewrite res;
    const char *rest =
        " HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    static const char *const queries[] = {
        "?command=sh&command=-c&command=echo+hi;exit+3&stdout=1",
        "?command=sh&command=-c&command=echo+a%0Aecho+b%0D%0A&stdout=1",
        "?",
    };
    for (size_t i = 0; i < sizeof(queries) / sizeof(queries[0]); i++) {
        char in[512], want[512];
        snprintf(in, sizeof(in), "GET /api/v1/namespaces/default/pods/local/exec%s%s", queries[i],
                 rest);
        snprintf(want, sizeof(want), "GET /api/v1/namespaces/default/pods/local/exec%s", rest);
        size_t n = rewrite(in, &res);
        assert_true(res.websocket);
        assert_int_equal(n, strlen(want));
        assert_string_equal(out, want);
    }
}

/* lws would keep the connection after a plain request and parse the next one
 * without the pre-read; the client's Connection headers (any case, any
 * number) give way to one "Connection: close". Upgrades keep theirs. */
static void test_plain_request_closes(void **state)
{
    struct head_rewrite res;
    rewrite("GET /api HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\nAccept: */*\r\n"
            "connection: Keep-Alive, TE\r\nConnection-Extra: 1\r\nTE: trailers\r\n\r\n",
            &res);
    assert_false(res.websocket);
    assert_string_equal(out, "GET /api HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n"
                             "Connection-Extra: 1\r\nTE: trailers\r\n" CLOSE "\r\n");
    rewrite("POST /api/v1/namespaces/default/pods/local/exec HTTP/1.1\r\nUpgrade: SPDY/3.1\r\n"
            "Connection: Upgrade\r\nContent-Length: 0\r\n\r\n",
            &res);
    assert_string_equal(
        out, "POST /api/v1/namespaces/default/pods/local/exec HTTP/1.1\r\n" HEAD_SPDY_MARKER
             " SPDY/3.1\r\nContent-Length: 0\r\n" CLOSE "\r\n");
    /* the longest growth: a head with no Connection header gets one line */
    const char *in = "GET / HTTP/1.1\r\n\r\n";
    assert_int_equal(rewrite(in, &res), strlen(in) + strlen(CLOSE));
    assert_true(strlen(CLOSE) <= HEAD_REWRITE_SLACK);
}

static void test_v5_wins_anywhere(void **state)
{
    struct head_rewrite res;
    rewrite(WS_HEAD("Sec-WebSocket-Protocol: base64.channel.k8s.io, v5.channel.k8s.io\r\n"), &res);
    assert_true(res.websocket);
    assert_int_equal(res.negotiation_rc, PROTO_OK);
    assert_int_equal(res.neg.kind, PROTO_KIND_V5);
    assert_non_null(strstr(out, "\r\nSec-WebSocket-Protocol: v5.channel.k8s.io\r\n\r\n"));
    assert_null(strstr(out, "base64.channel"));
}

static void test_client_order(void **state)
{
    struct head_rewrite res;
    rewrite(WS_HEAD("Sec-WebSocket-Protocol: channel.k8s.io, v4.channel.k8s.io\r\n"), &res);
    assert_int_equal(res.neg.kind, PROTO_KIND_CHANNEL);
    assert_non_null(strstr(out, "Sec-WebSocket-Protocol: channel.k8s.io\r\n\r\n"));
}

static void test_token_item_removed(void **state)
{
    struct head_rewrite res;
    rewrite(WS_HEAD("Sec-WebSocket-Protocol: base64url.bearer.authorization.k8s.io.YWJj, "
                    "v4.channel.k8s.io\r\n"),
            &res);
    assert_int_equal(res.negotiation_rc, PROTO_OK);
    assert_true(res.neg.has_token);
    assert_string_equal(res.neg.token, "abc");
    assert_null(strstr(out, "bearer"));
    assert_null(strstr(out, "YWJj"));
    assert_non_null(strstr(out, "Sec-WebSocket-Protocol: v4.channel.k8s.io\r\n"));
}

static void test_no_protocol_header(void **state)
{
    struct head_rewrite res;
    const char *in = WS_HEAD("");
    size_t n = rewrite(in, &res);
    assert_true(res.websocket);
    assert_int_equal(res.negotiation_rc, PROTO_OK);
    assert_false(res.neg.offered);
    assert_int_equal(res.neg.kind, PROTO_KIND_NONE);
    const char *want = "GET /api/v1/namespaces/default/pods/local/exec HTTP/1.1\r\n"
                       "Host: 127.0.0.1:1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                       "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                       "Sec-WebSocket-Version: 13\r\n\r\n";
    assert_int_equal(n, strlen(want));
    assert_memory_equal(out, want, n); /* untouched but for the query */
}

static void test_no_match(void **state)
{
    struct head_rewrite res;
    rewrite(WS_HEAD("Sec-WebSocket-Protocol: foo.example\r\n"), &res);
    assert_int_equal(res.negotiation_rc, PROTO_ERR_NO_MATCH);
    assert_null(strstr(out, "Sec-WebSocket-Protocol"));
}

static void test_spdy_marked(void **state)
{
    struct head_rewrite res;
    rewrite("POST /api/v1/namespaces/default/pods/local/exec?command=sh HTTP/1.1\r\n"
            "Host: x\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\nUpgrade: SPDY/3.1\r\n"
            "Connection: Upgrade\r\nContent-Length: 0\r\n\r\n",
            &res);
    assert_false(res.websocket);
    assert_true(res.spdy);
    assert_non_null(strstr(out, "\r\n" HEAD_SPDY_MARKER " SPDY/3.1\r\n"));
    assert_null(strstr(out, "\r\nUpgrade:"));
}

static void test_trailing_bytes_kept(void **state)
{
    struct head_rewrite res;
    const char *in = "GET /version HTTP/1.1\r\nHost: x\r\n\r\nGET /api HTTP/1.1\r\n";
    rewrite(in, &res);
    assert_false(res.websocket);
    assert_false(res.spdy);
    assert_string_equal(out,
                        "GET /version HTTP/1.1\r\nHost: x\r\n" CLOSE "\r\nGET /api HTTP/1.1\r\n");
}

static void test_plain_get_untouched_upgrade_insecure(void **state)
{
    struct head_rewrite res;
    rewrite("GET / HTTP/1.1\r\nHost: x\r\nUpgrade-Insecure-Requests: 1\r\n\r\n", &res);
    assert_false(res.spdy);
    assert_string_equal(out, "GET / HTTP/1.1\r\nHost: x\r\nUpgrade-Insecure-Requests: 1\r\n" CLOSE
                             "\r\n");
}

static void test_websocket_without_connection_upgrade(void **state)
{
    struct head_rewrite res;
    rewrite("GET /api/v1/namespaces/default/pods/local/exec?command=sh HTTP/1.1\r\n"
            "Host: x\r\nUpgrade: websocket\r\nConnection: keep-alive\r\n\r\n",
            &res);
    assert_false(res.websocket);
    assert_true(res.spdy); /* marked, so the HTTP handler answers 400 */
    assert_non_null(strstr(out, "\r\n" HEAD_SPDY_MARKER " websocket\r\n"));
    rewrite("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: keep-alive, "
            "UPGRADE\r\nSec-WebSocket-Key: k\r\n\r\n",
            &res);
    assert_true(res.websocket);
}

static void test_target_escapes(void **state)
{
    const char *ok = "GET /a%20b?x=%2F HTTP/1.1\r\n\r\n";
    assert_true(head_target_valid(ok, strlen(ok)));
    const char *bad[] = {"GET /a%00b HTTP/1.1\r\n\r\n", "GET /% HTTP/1.1\r\n\r\n",
                         "GET /%zz HTTP/1.1\r\n\r\n", "GET /a%2 HTTP/1.1\r\n\r\n"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_false(head_target_valid(bad[i], strlen(bad[i])));
}

/* Finding 1 of issue 18: every bare "\n" line used to add a Connection: close
 * line and every Upgrade line grew by 10 bytes with no check of out_cap. The
 * output is now bounded by out_cap by construction: what does not fit is
 * refused (0, too_large), and not one byte is written past out_cap. */
#define CANARY 0xA5
#define CANARY_LEN 4096

static char big_in[LISTENER_HEAD_MAX + 1];
static char big_out[LISTENER_HEAD_MAX + HEAD_REWRITE_SLACK + CANARY_LEN];

static size_t rewrite_capped(const char *in, size_t out_cap, struct head_rewrite *res)
{
    size_t len = strlen(in);
    const char *end = strstr(in, "\r\n\r\n");
    assert_non_null(end);
    memset(big_out, CANARY, sizeof(big_out));
    assert_true(out_cap + CANARY_LEN <= sizeof(big_out));
    size_t n = head_rewrite(in, len, (size_t)(end + 4 - in), big_out, out_cap, res);
    for (size_t i = out_cap; i < out_cap + CANARY_LEN; i++) /* nothing written past the cap */
        assert_int_equal((unsigned char)big_out[i], CANARY);
    return n;
}

static void test_bare_lf_lines_bounded(void **state)
{
    struct head_rewrite res;
    /* The request from the issue: 16 300 bare LF lines. */
    int n = snprintf(big_in, sizeof(big_in), "GET / HTTP/1.1\r\nHost: x\r\n");
    memset(big_in + n, '\n', 16300);
    memcpy(big_in + n + 16300, "\r\n\r\n", 5);
    size_t len = strlen(big_in);
    assert_int_equal(rewrite_capped(big_in, len + HEAD_REWRITE_SLACK, &res), 0);
    assert_true(res.too_large);
}

static void test_spdy_upgrade_growth_bounded(void **state)
{
    struct head_rewrite res;
    /* Each "Upgrade: a" line (12 bytes) becomes 22 bytes. */
    int n = snprintf(big_in, sizeof(big_in), "POST /x HTTP/1.1\r\nHost: x\r\n");
    while ((size_t)n + 12 + 4 < LISTENER_HEAD_MAX)
        n += snprintf(big_in + n, sizeof(big_in) - (size_t)n, "Upgrade: a\r\n");
    memcpy(big_in + n, "\r\n", 3);
    size_t len = strlen(big_in);
    assert_int_equal(rewrite_capped(big_in, len + HEAD_REWRITE_SLACK, &res), 0);
    assert_true(res.too_large);
}

static void test_exact_fit(void **state)
{
    struct head_rewrite res;
    const char *in = "GET /version HTTP/1.1\r\nHost: x\r\n\r\n";
    const char *want = "GET /version HTTP/1.1\r\nHost: x\r\n" CLOSE "\r\n";
    size_t wlen = strlen(want);
    assert_int_equal(rewrite_capped(in, wlen, &res), wlen);
    assert_false(res.too_large);
    assert_memory_equal(big_out, want, wlen);
    assert_int_equal(rewrite_capped(in, wlen - 1, &res), 0);
    assert_true(res.too_large);
    /* a small cap is no longer refused up front: only what does not fit is */
    assert_int_equal(rewrite_capped(in, wlen + 1, &res), wlen);
    assert_false(res.too_large);
}

static void test_method_known(void **state)
{
    static const char *const known[] = {"GET / HTTP/1.1\r\n\r\n",    "HEAD / HTTP/1.1\r\n\r\n",
                                        "POST / HTTP/1.1\r\n\r\n",   "PUT / HTTP/1.1\r\n\r\n",
                                        "PATCH / HTTP/1.1\r\n\r\n",  "DELETE / HTTP/1.1\r\n\r\n",
                                        "OPTIONS / HTTP/1.1\r\n\r\n"};
    static const char *const unknown[] = {
        "FOO / HTTP/1.1\r\n\r\n", "TRACE / HTTP/1.1\r\n\r\n", "CONNECT x:1 HTTP/1.1\r\n\r\n",
        "PRI * HTTP/2.0\r\n\r\n", "get / HTTP/1.1\r\n\r\n",   "GET\r\n\r\n",
        "GETX / HTTP/1.1\r\n\r\n"};
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        assert_true(head_method_known(known[i], strlen(known[i])));
    for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++)
        assert_false(head_method_known(unknown[i], strlen(unknown[i])));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_method_known),
        cmocka_unit_test(test_v5_wins_anywhere),
        cmocka_unit_test(test_client_order),
        cmocka_unit_test(test_token_item_removed),
        cmocka_unit_test(test_no_protocol_header),
        cmocka_unit_test(test_no_match),
        cmocka_unit_test(test_spdy_marked),
        cmocka_unit_test(test_trailing_bytes_kept),
        cmocka_unit_test(test_plain_get_untouched_upgrade_insecure),
        cmocka_unit_test(test_websocket_without_connection_upgrade),
        cmocka_unit_test(test_target_escapes),
        cmocka_unit_test(test_query_semicolon_pairs_dropped),
        cmocka_unit_test(test_query_of_an_upgrade_is_not_lws_business),
        cmocka_unit_test(test_plain_request_closes),
        cmocka_unit_test(test_bare_lf_lines_bounded),
        cmocka_unit_test(test_spdy_upgrade_growth_bounded),
        cmocka_unit_test(test_exact_fit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
