/* test_gateway_codec.c - the gateway's sans-I/O parts: upstream HTTP and
 * WebSocket framing, the path allowlist, exec query decoding, Status parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gateway/gw_route.h"
#include "http/http_request.h"
#include "http/http1.h"
#include "backend/kube/kube_backend.h"

static void test_response_head(void **state)
{
    const char *h = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
                    "Sec-WebSocket-Protocol: v5.channel.k8s.io\r\n\r\n\x82\x01\x01";
    struct http1_response r;
    assert_int_equal(http1_response_parse(h, 20, &r), 0);
    int n = http1_response_parse(h, strlen(h), &r);
    assert_int_equal(n, (int)strlen(h) - 3);
    assert_int_equal(r.status, 101);
    assert_true(r.upgrade_websocket);
    assert_string_equal(r.protocol, "v5.channel.k8s.io");
    char accept[29];
    http1_ws_accept("dGhlIHNhbXBsZSBub25jZQ==", accept);
    assert_string_equal(accept, r.accept);
    assert_int_equal(http1_response_parse("garbage\r\n\r\n", 11, &r), -1);
    assert_false(r.connection_upgrade); /* h has no Connection line */
}

/* Connection is a token list; only the "upgrade" token counts (RFC 6455 4.1). */
static void test_response_connection_upgrade(void **state)
{
    struct http1_response r;
    const char *yes[] = {"Upgrade", "upgrade", "keep-alive, Upgrade", " UPGRADE ,close"};
    const char *no[] = {"close", "upgraded", "keep-alive", "", "up grade"};
    char h[256];
    for (size_t i = 0; i < 4; i++) {
        int n = snprintf(h, sizeof(h), "HTTP/1.1 101 X\r\nConnection: %s\r\n\r\n", yes[i]);
        assert_int_equal(http1_response_parse(h, (size_t)n, &r), n);
        assert_true(r.connection_upgrade);
    }
    for (size_t i = 0; i < 5; i++) {
        int n = snprintf(h, sizeof(h), "HTTP/1.1 101 X\r\nConnection: %s\r\n\r\n", no[i]);
        assert_int_equal(http1_response_parse(h, (size_t)n, &r), n);
        assert_false(r.connection_upgrade);
    }
}

/* Relayed heads get our security headers in place of the upstream's own. */
static void test_response_secure(void **state)
{
    const char *in =
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        "x-content-type-options: sniff-me\r\nContent-Security-Policy: default-src *\r\n"
        "Referrer-Policy: unsafe-url\r\nContent-Length: 2\r\n\r\n{}";
    size_t head_len = strlen(in) - 2;
    char out[512];
    const char *want = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
                       "X-Content-Type-Options: nosniff\r\n"
                       "Content-Security-Policy: default-src 'none'; frame-ancestors 'none'\r\n"
                       "Referrer-Policy: no-referrer\r\n\r\n";
    long n = http1_response_secure(in, head_len, out, sizeof(out));
    assert_int_equal(n, (long)strlen(want));
    assert_memory_equal(out, want, strlen(want));
    /* no header lines at all */
    const char *bare = "HTTP/1.1 204 No Content\r\n\r\n";
    n = http1_response_secure(bare, strlen(bare), out, sizeof(out));
    assert_int_equal(n, (long)(strlen(bare) + sizeof(HTTP1_SECURITY_HEADERS) - 1));
    assert_memory_equal(out, "HTTP/1.1 204 No Content\r\nX-Content-Type-Options: nosniff\r\n", 58);
    /* the documented bound is enough; one byte less is refused, never overrun */
    assert_true(http1_response_secure(bare, strlen(bare), out,
                                      strlen(bare) + sizeof(HTTP1_SECURITY_HEADERS)) > 0);
    assert_int_equal(http1_response_secure(bare, strlen(bare), out, (size_t)n - 1), -1);
    assert_int_equal(http1_response_secure("HTTP/1.1 200 OK\r\n", 17, out, sizeof(out)), -1);
}

static void test_chunked(void **state)
{
    const char *in = "4\r\nWiki\r\n5;x=y\r\npedia\r\n0\r\n\r\n";
    struct http1_chunked c = {0};
    uint8_t out[64];
    size_t total = 0;
    for (size_t i = 0; i < strlen(in); i++) { /* one byte at a time */
        size_t olen;
        assert_int_equal(http1_chunked_feed(&c, (const uint8_t *)in + i, 1, out + total, &olen), 1);
        total += olen;
    }
    assert_true(c.done);
    assert_int_equal(total, 9);
    assert_memory_equal(out, "Wikipedia", 9);
}

static void test_status_response(void **state)
{
    char out[HTTP1_STATUS_RESPONSE_MAX];
    const char body[] = "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
                        "\"status\":\"Failure\",\"message\":\"busy\",\"reason\":"
                        "\"ServiceUnavailable\",\"code\":503}";
    char want[1024];
    snprintf(want, sizeof(want),
             "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
             "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n"
             "Content-Security-Policy: default-src 'none'; frame-ancestors 'none'\r\n"
             "Referrer-Policy: no-referrer\r\nConnection: close\r\nContent-Length: %zu\r\n\r\n%s",
             strlen(body), body);
    long n = http1_status_response(503, "Service Unavailable", "ServiceUnavailable", "busy", out,
                                   sizeof(out));
    assert_int_equal(n, strlen(want));
    assert_memory_equal(out, want, (size_t)n);
    assert_int_equal(http1_status_response(503, "Service Unavailable", "ServiceUnavailable", "busy",
                                           out, (size_t)n),
                     -1); /* no room for its NUL: refused, not cut */
}

/* A trailer line whose CR and LF come in two reads is a trailer line, not
 * the empty line that ends the body. */
static void test_chunked_trailer_split(void **state)
{
    struct http1_chunked c = {0};
    uint8_t out[16];
    size_t olen;
    assert_int_equal(http1_chunked_feed(&c, (const uint8_t *)"0\r\nX: y\r", 8, out, &olen), 8);
    assert_false(c.done);
    assert_int_equal(http1_chunked_feed(&c, (const uint8_t *)"\n\r\n", 3, out, &olen), 3);
    assert_true(c.done);
    assert_int_equal(olen, 0);
}

struct frames {
    int n;
    uint8_t data[256];
    size_t len;
    int pings, closes, code;
    size_t take_limit;
};

static size_t on_frame(void *user, const struct wsf_event *ev)
{
    struct frames *f = user;
    if (ev->type == WSF_EV_PING)
        f->pings++;
    if (ev->type == WSF_EV_CLOSE) {
        f->closes++;
        f->code = ev->code;
    }
    if (ev->type != WSF_EV_DATA)
        return ev->len;
    size_t n = ev->len < f->take_limit ? ev->len : f->take_limit;
    memcpy(f->data + f->len, ev->data, n);
    f->len += n;
    if (ev->final && n == ev->len)
        f->n++;
    return n;
}

static void test_ws_decode_fragments_and_backpressure(void **state)
{
    /* binary "\x01ab" fragmented as [0x02 "\x01a"][0x00 fin "b"], a ping, close 1000 */
    const uint8_t in[] = {0x02, 0x02, 0x01, 'a',  0x89, 0x01, 'p',
                          0x80, 0x01, 'b',  0x88, 0x02, 0x03, 0xe8};
    struct frames f = {.take_limit = 1};
    struct wsf_decoder d;
    wsf_decoder_init(&d);
    size_t off = 0;
    for (int i = 0; i < 100 && off < sizeof(in); i++) {
        long n = wsf_decoder_feed(&d, in + off, sizeof(in) - off, on_frame, &f);
        assert_true(n >= 0);
        off += (size_t)n;
    }
    assert_int_equal(off, sizeof(in));
    assert_int_equal(f.len, 3);
    assert_memory_equal(f.data,
                        "\x01"
                        "ab",
                        3);
    assert_int_equal(f.n, 1);
    assert_int_equal(f.pings, 1);
    assert_int_equal(f.closes, 1);
    assert_int_equal(f.code, 1000);
    /* masked server frames are a protocol error */
    const uint8_t masked[] = {0x82, 0x81, 1, 2, 3, 4, 5};
    wsf_decoder_init(&d);
    assert_int_equal(wsf_decoder_feed(&d, masked, sizeof(masked), on_frame, &f), -1);
}

static void test_ws_encode_masks(void **state)
{
    uint8_t out[WSF_HEAD_MAX + 300], payload[300];
    memset(payload, 'x', sizeof(payload));
    size_t n = wsf_encode(WSF_BINARY, payload, sizeof(payload), 0x01020304, out);
    assert_int_equal(n, 4 + 4 + 300);
    assert_int_equal(out[0], 0x82);
    assert_int_equal(out[1], 0x80 | 126);
    assert_int_equal(out[8], 'x' ^ 1);
    assert_int_equal(out[9], 'x' ^ 2);
}

static void test_allowlist(void **state)
{
    char ns[GW_NAME_MAX + 1], pod[GW_NAME_MAX + 1];
    bool attach = false;
#define M(p) gw_route_match(p, strlen(p), ns, pod, &attach)
    assert_int_equal(M("/version"), GW_ROUTE_REST);
    assert_int_equal(M("/api"), GW_ROUTE_REST);
    assert_int_equal(M("/apis"), GW_ROUTE_REST);
    assert_int_equal(M("/api/v1"), GW_ROUTE_REST);
    assert_int_equal(M("/api/v1/namespaces"), GW_ROUTE_REST);
    assert_int_equal(M("/api/v1/namespaces/default"), GW_ROUTE_REST);
    assert_int_equal(M("/api/v1/pods"), GW_ROUTE_REST);
    assert_int_equal(M("/api/v1/namespaces/default/pods"), GW_ROUTE_REST);
    assert_int_equal(M("/api/v1/namespaces/default/pods/p1"), GW_ROUTE_REST);
    assert_int_equal(M("/api/v1/namespaces/default/pods/p1/attach"), GW_ROUTE_EXEC);
    assert_true(attach);
    assert_string_equal(pod, "p1");
    assert_int_equal(M("/api/v1/namespaces/default/secrets"), GW_ROUTE_NONE);
    assert_int_equal(M("/api/v1/namespaces/default/%73ecrets"), GW_ROUTE_NONE);
    assert_int_equal(M("/api/v1/namespaces/default/pods/p1/log"), GW_ROUTE_NONE);
    assert_int_equal(M("/api/v1/namespaces/../secrets"), GW_ROUTE_NONE);
    assert_int_equal(M("/apis/apps/v1"), GW_ROUTE_NONE);
    assert_int_equal(M("/api/v1/nodes"), GW_ROUTE_NONE);
#undef M
    assert_true(gw_path_is_api("/apis/x", 7));
    /* podterm's own group is answered by podterm, never relayed */
    const char *own[] = {"/apis/podterm.dev", "/apis/podterm.dev/",
                         "/apis/podterm.dev/v1alpha1/sessions",
                         "/apis/podterm.dev/v1alpha1/sessions/x/recording"};
    for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++)
        assert_false(gw_path_is_api(own[i], strlen(own[i])));
    assert_true(gw_path_is_api("/apis/podterm.devx", 18));
    assert_true(gw_path_is_api("/apis/podterm.de", 16));
    assert_false(gw_path_is_api("/apix", 5));
    assert_false(gw_path_is_api("/", 1));
}

static void test_request_and_query(void **state)
{
    const char *h = "GET /api/v1/namespaces/d/pods/p/exec?command=sh&command=-c&command=echo+hi%21"
                    "&stdout=true&stderr=False&tty=&stdout=0 HTTP/1.1\r\nHost: x\r\n"
                    "authorization: Bearer abc\r\nAuthorization: Bearer second\r\n\r\n";
    struct http_request r;
    assert_int_equal(http_request_parse(h, strlen(h), &r), 0);
    assert_int_equal(r.h[HTTP_H_AUTHORIZATION].n, 10);
    assert_memory_equal(r.h[HTTP_H_AUTHORIZATION].p, "Bearer abc", 10);
    struct kube_stream_desc d;
    memset(&d, 0, sizeof(d));
    struct http_query q;
    assert_int_equal(http_query_decode(r.query.p, r.query.n, &q), 0);
    assert_int_equal(gw_exec_desc(&q, false, &d), 0);
    http_query_free(&q);
    assert_int_equal(d.argc, 3);
    assert_string_equal(d.argv[2], "echo hi!");
    assert_true(d.want_stdout); /* first occurrence counts */
    assert_false(d.want_stderr);
    assert_true(d.tty); /* empty is true */
    assert_false(d.want_stdin);
    for (size_t i = 0; i < d.argc; i++)
        free(d.argv[i]);
    free(d.argv);
}

/* Issue 18 finding 8: a control character in the target is refused as Go's
 * net/http does (400), never forwarded; the same bytes elsewhere are fine. */
static void test_request_target_controls(void **state)
{
    struct http_request r;
    char h[128];
    for (int c = 0; c < 256; c++) {
        if (c == ' ' || c == '\n')
            continue; /* these end the target or the line */
        int n = snprintf(h, sizeof(h), "GET /api/v1/pods%c?x=%c HTTP/1.1\r\nHost: x\r\n\r\n", c, c);
        int want = c < 0x20 || c == 0x7f ? HTTP_REQ_ERR_TARGET_CTL : 0;
        if (http_request_parse(h, (size_t)n, &r) != want)
            fail_msg("byte 0x%02x: want %d", c, want);
    }
    const char *bare_cr = "GET /api/v1/pods\rDELETE /api/v1/namespaces/x HTTP/1.1\r\n\r\n";
    assert_int_equal(http_request_parse(bare_cr, strlen(bare_cr), &r), HTTP_REQ_ERR_TARGET_CTL);
    const char *nul = "GET /api/v1/pods?a=\0 HTTP/1.1\r\n\r\n";
    assert_int_equal(http_request_parse(nul, 33, &r), HTTP_REQ_ERR_TARGET_CTL);
    const char *fine = "GET /api/v1/pods?a=%0D%0A HTTP/1.1\r\nUser-Agent: a\tb\r\n\r\n";
    assert_int_equal(http_request_parse(fine, strlen(fine), &r), 0);
    assert_int_equal(http_request_parse("GET / HTTP/1.1\r\n", 16, &r), HTTP_REQ_ERR_MALFORMED);
}

/* Issue 18 finding 12: which requests are watches, and who is admitted. */
static void test_watch_and_admission(void **state)
{
    const char *watch[] = {"watch=true", "watch=1",      "limit=5&watch=True",
                           "watch=t",    "watch=%74rue", "watch=yes&watch=false"};
    const char *not_watch[] = {"",
                               "watch=false",
                               "watch=0",
                               "watch=",
                               "watch",
                               "watcher=1",
                               "xwatch=1",
                               "limit=1&watch=FALSE",
                               "allowWatchBookmarks=true"};
    for (size_t i = 0; i < sizeof(watch) / sizeof(watch[0]); i++)
        if (!http_query_is_watch(watch[i], strlen(watch[i])))
            fail_msg("\"%s\" is a watch", watch[i]);
    for (size_t i = 0; i < sizeof(not_watch) / sizeof(not_watch[0]); i++)
        if (http_query_is_watch(not_watch[i], strlen(not_watch[i])))
            fail_msg("\"%s\" is not a watch", not_watch[i]);
    /* the client's bound covers everything; watches also stop at the headroom */
    assert_int_equal(gw_admit(0, 64, 0, 3584, true), GW_ADMIT_OK);
    assert_int_equal(gw_admit(63, 64, 0, 3584, true), GW_ADMIT_OK);
    assert_int_equal(gw_admit(64, 64, 0, 3584, false), GW_ADMIT_CLIENT_FULL);
    assert_int_equal(gw_admit(64, 64, 0, 3584, true), GW_ADMIT_CLIENT_FULL);
    assert_int_equal(gw_admit(3, 64, 3584, 3584, true), GW_ADMIT_WATCHES_FULL);
    assert_int_equal(gw_admit(3, 64, 3584, 3584, false), GW_ADMIT_OK); /* GETs, execs */
}

static void test_status_parse(void **state)
{
    struct backend_exit e;
    const char *ok = "{\"metadata\":{},\"status\":\"Success\"}";
    kube_status_parse(KUBE_WIRE_V5, ok, strlen(ok), false, &e);
    assert_int_equal(e.type, BACKEND_EXIT_CODE);
    assert_int_equal(e.code, 0);
    const char *ex =
        "{\"metadata\":{},\"status\":\"Failure\",\"message\":\"command terminated with "
        "non-zero exit code: x\",\"reason\":\"NonZeroExitCode\",\"details\":"
        "{\"causes\":[{\"reason\":\"ExitCode\",\"message\":\"42\"}]}}";
    kube_status_parse(KUBE_WIRE_V4, ex, strlen(ex), false, &e);
    assert_int_equal(e.type, BACKEND_EXIT_CODE);
    assert_int_equal(e.code, 42);
    const char *in = "{\"status\":\"Failure\",\"message\":\"Internal error occurred: boom\","
                     "\"reason\":\"InternalError\",\"code\":500}";
    kube_status_parse(KUBE_WIRE_V5, in, strlen(in), false, &e);
    assert_int_equal(e.type, BACKEND_EXIT_ERROR);
    assert_string_equal(e.message, "boom");
    const char *txt = "command terminated with non-zero exit code: error executing command "
                      "[sh -c exit 3], exit code 3";
    kube_status_parse(KUBE_WIRE_CHANNEL, txt, strlen(txt), false, &e);
    assert_int_equal(e.type, BACKEND_EXIT_CODE);
    assert_int_equal(e.code, 3);
    kube_status_parse(KUBE_WIRE_CHANNEL, "", 0, false, &e);
    assert_int_equal(e.code, 0);
    kube_status_parse(KUBE_WIRE_CHANNEL, "oops", 4, false, &e);
    assert_int_equal(e.type, BACKEND_EXIT_ERROR);
}

/* The reason phrases podterm writes, one table for every writer (the
 * gateway, sign-in, SPDY refusals). */
static void test_reason_phrases(void **state)
{
    (void)state;
    static const struct {
        int code;
        const char *phrase;
    } want[] = {
        {200, "OK"},
        {302, "Found"},
        {400, "Bad Request"},
        {401, "Unauthorized"},
        {403, "Forbidden"},
        {404, "Not Found"},
        {405, "Method Not Allowed"},
        {414, "Request-URI Too Long"},
        {429, "Too Many Requests"},
        {500, "Internal Server Error"},
        {502, "Bad Gateway"},
        {503, "Service Unavailable"},
        {418, "Error"},
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        assert_string_equal(http1_reason_phrase(want[i].code), want[i].phrase);
}

/* An upstream that spoke SPDY: v4 (and v5) end with a Status, older
 * versions with text on failure only, as over WebSockets. */
static void test_status_parse_spdy(void **state)
{
    (void)state;
    struct backend_exit e;
    const char *json = "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
                       "\"status\":\"Failure\",\"message\":\"command terminated with non-zero "
                       "exit code: error executing command [sh -c exit 7], exit code 7\","
                       "\"reason\":\"NonZeroExitCode\",\"details\":{\"causes\":[{\"reason\":"
                       "\"ExitCode\",\"message\":\"7\"}]}}";
    kube_status_parse(KUBE_WIRE_SPDY_V4, json, strlen(json), false, &e);
    assert_int_equal(e.type, BACKEND_EXIT_CODE);
    assert_int_equal(e.code, 7);
    const char *txt = "command terminated with non-zero exit code: error executing command "
                      "[sh -c exit 5], exit code 5";
    kube_status_parse(KUBE_WIRE_SPDY_TEXT, txt, strlen(txt), false, &e);
    assert_int_equal(e.type, BACKEND_EXIT_CODE);
    assert_int_equal(e.code, 5);
    kube_status_parse(KUBE_WIRE_SPDY_TEXT, "", 0, false, &e);
    assert_int_equal(e.type, BACKEND_EXIT_CODE);
    assert_int_equal(e.code, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reason_phrases),
        cmocka_unit_test(test_status_parse_spdy),
        cmocka_unit_test(test_response_head),
        cmocka_unit_test(test_response_connection_upgrade),
        cmocka_unit_test(test_response_secure),
        cmocka_unit_test(test_chunked),
        cmocka_unit_test(test_chunked_trailer_split),
        cmocka_unit_test(test_status_response),
        cmocka_unit_test(test_ws_decode_fragments_and_backpressure),
        cmocka_unit_test(test_ws_encode_masks),
        cmocka_unit_test(test_allowlist),
        cmocka_unit_test(test_request_and_query),
        cmocka_unit_test(test_request_target_controls),
        cmocka_unit_test(test_watch_and_admission),
        cmocka_unit_test(test_status_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
