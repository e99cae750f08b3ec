/* test_proto_codec.c - exact byte vectors for the exec/attach subprotocol codec:
 * negotiation, server frames, the client decoder, Status JSON. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "proto/proto.h"

/* ---- negotiation ---- */

static int negotiate1(const char *line, struct proto_negotiation *n)
{
    const char *lines[1] = {line};
    return proto_negotiate(lines, 1, n);
}

static void test_negotiate_rules(void **state)
{
    static struct proto_negotiation n;
    assert_int_equal(proto_negotiate(NULL, 0, &n), PROTO_OK);
    assert_false(n.offered);
    assert_int_equal(n.kind, PROTO_KIND_NONE);

    assert_int_equal(negotiate1("v5.channel.k8s.io", &n), PROTO_OK);
    assert_int_equal(n.kind, PROTO_KIND_V5);
    assert_int_equal(negotiate1("base64.channel.k8s.io, v5.channel.k8s.io", &n), PROTO_OK);
    assert_int_equal(n.kind, PROTO_KIND_V5); /* checklist 2: v5 wins anywhere */
    assert_int_equal(negotiate1("channel.k8s.io, v4.channel.k8s.io", &n), PROTO_OK);
    assert_int_equal(n.kind, PROTO_KIND_CHANNEL); /* client order */
    assert_int_equal(negotiate1("foo, ,v4.base64.channel.k8s.io", &n), PROTO_OK);
    assert_int_equal(n.kind, PROTO_KIND_V4_BASE64);
    assert_int_equal(negotiate1("v1.flow.podterm.dev,v5.channel.k8s.io", &n), PROTO_OK);
    assert_int_equal(n.kind, PROTO_KIND_V5);
    assert_int_equal(negotiate1("v1.flow.podterm.dev,v4.channel.k8s.io", &n), PROTO_OK);
    assert_int_equal(n.kind, PROTO_KIND_PODTERM);
    assert_int_equal(negotiate1("foo.example", &n), PROTO_ERR_NO_MATCH); /* checklist 3 */
    assert_int_equal(negotiate1("v3.channel.k8s.io,v2.channel.k8s.io", &n), PROTO_ERR_NO_MATCH);
}

static void test_negotiate_first_line_only(void **state)
{
    static struct proto_negotiation n;
    const char *lines[2] = {"foo", "v4.channel.k8s.io"};
    assert_int_equal(proto_negotiate(lines, 2, &n), PROTO_ERR_NO_MATCH);
    const char *lines2[2] = {"channel.k8s.io", "v5.channel.k8s.io"};
    assert_int_equal(proto_negotiate(lines2, 2, &n), PROTO_OK);
    assert_int_equal(n.kind, PROTO_KIND_CHANNEL);
}

static void test_negotiate_token(void **state)
{
    static struct proto_negotiation n;
    assert_int_equal(
        negotiate1("base64url.bearer.authorization.k8s.io.YWJj, v4.channel.k8s.io", &n), PROTO_OK);
    assert_true(n.has_token);
    assert_string_equal(n.token, "abc");
    assert_int_equal(n.kind, PROTO_KIND_V4);
    /* the token may stand on another line; then every line's items count */
    const char *lines[2] = {"base64url.bearer.authorization.k8s.io.YWJj", "v4.channel.k8s.io"};
    assert_int_equal(proto_negotiate(lines, 2, &n), PROTO_OK);
    assert_int_equal(n.kind, PROTO_KIND_V4);
    assert_int_equal(negotiate1("base64url.bearer.authorization.k8s.io.YWJj", &n),
                     PROTO_ERR_TOKEN_ALONE);
    assert_int_equal(negotiate1("base64url.bearer.authorization.k8s.io.YWJj,"
                                "base64url.bearer.authorization.k8s.io.YWJj,v4.channel.k8s.io",
                                &n),
                     PROTO_ERR_TOKEN_TWICE);
    assert_int_equal(
        negotiate1("base64url.bearer.authorization.k8s.io.YWJj=,v4.channel.k8s.io", &n),
        PROTO_ERR_TOKEN_ENCODING); /* padding is not base64url raw */
    assert_int_equal(negotiate1("base64url.bearer.authorization.k8s.io.,v4.channel.k8s.io", &n),
                     PROTO_ERR_TOKEN_ENCODING);
    /* "/w" decodes to 0xFF: not UTF-8 */
    assert_int_equal(negotiate1("base64url.bearer.authorization.k8s.io._w,v4.channel.k8s.io", &n),
                     PROTO_ERR_TOKEN_ENCODING);
    /* a token with an unsupported other item: authenticated, then no match */
    assert_int_equal(negotiate1("base64url.bearer.authorization.k8s.io.YWJj, foo", &n),
                     PROTO_ERR_NO_MATCH);
}

static void test_negotiate_limits(void **state)
{
    static struct proto_negotiation n;
    static char big[PROTO_OFFER_MAX + 10];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(negotiate1(big, &n), PROTO_ERR_TOO_LONG);
    char many[PROTO_ITEMS_MAX * 3 + 10] = "";
    for (int i = 0; i <= PROTO_ITEMS_MAX; i++)
        strcat(many, "a,");
    assert_int_equal(negotiate1(many, &n), PROTO_ERR_TOO_LONG);
}

/* ---- server frames ---- */

static void test_frames_exact(void **state)
{
    uint8_t out[64];
    assert_int_equal(proto_frame_encode(PROTO_KIND_V5, 1, (const uint8_t *)"hi", 2, out, 64), 3);
    assert_memory_equal(out, "\x01hi", 3);
    assert_int_equal(proto_frame_encode(PROTO_KIND_BASE64, 1, (const uint8_t *)"\n", 1, out, 64),
                     5);
    assert_memory_equal(out, "1Cg==", 5); /* PROTOCOL.md 3.3 */
    assert_int_equal(
        proto_frame_encode(PROTO_KIND_V4_BASE64, 3, (const uint8_t *)"foo\n", 4, out, 64), 9);
    assert_memory_equal(out, "3Zm9vCg==", 9);
    assert_int_equal(proto_frame_encode(PROTO_KIND_BASE64, 1, NULL, 0, out, 64), 1);
    assert_memory_equal(out, "1", 1); /* the initial empty message */
    assert_int_equal(proto_frame_encode(PROTO_KIND_V4, 1, (const uint8_t *)"abc", 3, out, 3),
                     PROTO_ERR_SPACE);
    assert_true(proto_frame_is_text(PROTO_KIND_BASE64));
    assert_false(proto_frame_is_text(PROTO_KIND_NONE));
}

static void test_frame_inplace_matches(void **state)
{
    uint8_t payload[300], ref[512], buf[512];
    for (size_t i = 0; i < sizeof(payload); i++)
        payload[i] = (uint8_t)(i * 37 + 11);
    for (size_t len = 0; len <= sizeof(payload); len++) {
        for (int kind = PROTO_KIND_NONE; kind < PROTO_KIND_COUNT; kind++) {
            int n = proto_frame_encode((enum proto_kind)kind, 2, payload, len, ref, sizeof(ref));
            size_t head = proto_frame_head((enum proto_kind)kind, len);
            memcpy(buf + head, payload, len);
            size_t m = proto_frame_encode_inplace((enum proto_kind)kind, 2, buf, len);
            assert_int_equal((size_t)n, m);
            assert_int_equal(m, proto_frame_size((enum proto_kind)kind, len));
            assert_memory_equal(ref, buf, m);
        }
    }
}

static void test_base64_strict(void **state)
{
    uint8_t out[16];
    assert_int_equal(proto_base64_decode("Zm9vCg==", 8, out, sizeof(out)), 4);
    assert_memory_equal(out, "foo\n", 4);
    assert_int_equal(proto_base64_decode("Zm9vCgo=", 8, out, sizeof(out)), 5); /* the seed's */
    assert_int_equal(proto_base64_decode("Zm9vCg=", 7, out, sizeof(out)), -1);
    assert_int_equal(proto_base64_decode("Zm9v!g==", 8, out, sizeof(out)), -1);
    assert_int_equal(proto_base64_decode("Zg==Zg==", 8, out, sizeof(out)), -1);
    /* Go's StdEncoding (what the apiserver uses) ignores stray low bits */
    assert_int_equal(proto_base64_decode("Zh==", 4, out, sizeof(out)), 1);
    char enc[8];
    assert_int_equal(proto_base64_encode((const uint8_t *)"abc", 3, enc), 4);
    assert_memory_equal(enc, "YWJj", 4);
}

/* ---- client decoder ---- */

struct events {
    char stdin_data[256];
    size_t stdin_len;
    int resizes;
    uint16_t w, h;
    int closes;
    uint64_t acked;
};

static void collect(void *user, const struct proto_event *ev, const uint8_t *data)
{
    struct events *e = user;
    switch (ev->type) {
    case PROTO_EV_STDIN:
        memcpy(e->stdin_data + e->stdin_len, data, ev->out_len);
        e->stdin_len += ev->out_len;
        break;
    case PROTO_EV_RESIZE:
        e->resizes++;
        e->w = ev->width;
        e->h = ev->height;
        break;
    case PROTO_EV_CLOSE_STDIN:
        e->closes++;
        break;
    case PROTO_EV_ACK:
        e->acked += ev->ack_bytes;
        break;
    default:
        break;
    }
}

static int feed(struct proto_decoder *d, struct events *e, const char *msg, size_t len, bool first,
                bool final)
{
    uint8_t out[4096];
    return proto_decoder_feed(d, (const uint8_t *)msg, len, first, final, out, sizeof(out), collect,
                              e);
}

static int feed_msg(struct proto_decoder *d, struct events *e, const char *msg, size_t len)
{
    return feed(d, e, msg, len, true, true);
}

static void test_decode_binary(void **state)
{
    struct proto_decoder d;
    struct events e = {0};
    proto_decoder_init(&d, PROTO_KIND_V4);
    assert_int_equal(feed_msg(&d, &e,
                              "\x00"
                              "abc\n",
                              5),
                     PROTO_OK);
    assert_int_equal(e.stdin_len, 4);
    assert_memory_equal(e.stdin_data, "abc\n", 4);
    assert_int_equal(feed_msg(&d, &e, "\x00", 1), PROTO_OK); /* checklist 14: not an EOF */
    assert_int_equal(feed_msg(&d, &e, "", 0), PROTO_OK);
    assert_int_equal(feed_msg(&d, &e, "\xff\x00", 2), PROTO_OK); /* checklist 13 */
    assert_int_equal(e.closes, 0);
    assert_int_equal(feed_msg(&d, &e, "\x09zz", 3), PROTO_OK);
    assert_int_equal(e.stdin_len, 4);
}

static void test_decode_close_signal(void **state)
{
    struct proto_decoder d;
    struct events e = {0};
    proto_decoder_init(&d, PROTO_KIND_V5);
    assert_int_equal(feed_msg(&d, &e, "\xff\x00", 2), PROTO_OK); /* checklist 11 */
    assert_int_equal(e.closes, 1);
    assert_int_equal(feed_msg(&d, &e, "\xff\x02", 2), PROTO_OK);
    assert_int_equal(e.closes, 1);
    assert_int_equal(feed_msg(&d, &e, "\xff", 1), PROTO_ERR_FRAME); /* checklist 12 */
    assert_int_equal(feed_msg(&d, &e, "\xff\x00\x00", 3), PROTO_ERR_FRAME);
    assert_int_equal(feed_msg(&d, &e, "\xff\x05", 2), PROTO_ERR_FRAME);
    /* split over two chunks */
    assert_int_equal(feed(&d, &e, "\xff", 1, true, false), PROTO_OK);
    assert_int_equal(feed(&d, &e, "\x00", 1, false, true), PROTO_OK);
    assert_int_equal(e.closes, 2);
}

static void test_decode_resize(void **state)
{
    struct proto_decoder d;
    struct events e = {0};
    proto_decoder_init(&d, PROTO_KIND_V5);
    const char m[] = "\x04{\"Width\":101,\"Height\":33}\n";
    assert_int_equal(feed_msg(&d, &e, m, sizeof(m) - 1), PROTO_OK);
    assert_int_equal(e.resizes, 1);
    assert_int_equal(e.w, 101);
    assert_int_equal(e.h, 33);
    /* one object split over two messages, then two in one; keys any case */
    assert_int_equal(feed_msg(&d, &e, "\x04{\"width\":80,", 13), PROTO_OK);
    assert_int_equal(e.resizes, 1);
    assert_int_equal(feed_msg(&d, &e, "\x04\"HEIGHT\":24}{\"Width\":1,\"Height\":2}", 36),
                     PROTO_OK);
    assert_int_equal(e.resizes, 3);
    assert_int_equal(e.w, 1);
    /* the first parse error ends resize handling, not the connection */
    assert_int_equal(feed_msg(&d, &e, "\x04{\"Width\":-1}", 14), PROTO_OK);
    assert_int_equal(feed_msg(&d, &e, "\x04{\"Width\":5,\"Height\":5}", 24), PROTO_OK);
    assert_int_equal(e.resizes, 3);
    assert_int_equal(feed_msg(&d, &e, "\x00ok", 3), PROTO_OK);
    assert_int_equal(e.stdin_len, 2);
}

static void test_decode_base64(void **state)
{
    struct proto_decoder d;
    struct events e = {0};
    proto_decoder_init(&d, PROTO_KIND_BASE64);
    assert_int_equal(feed_msg(&d, &e, "0Zm9vCg==", 9), PROTO_OK);
    assert_int_equal(e.stdin_len, 4);
    assert_memory_equal(e.stdin_data, "foo\n", 4);
    /* invalid: dropped whole, the connection goes on */
    assert_int_equal(feed_msg(&d, &e, "0Zm9v!g==", 9), PROTO_OK);
    assert_int_equal(feed_msg(&d, &e, "0Zm9vC", 6), PROTO_OK);
    assert_int_equal(e.stdin_len, 4);
    /* resize in base64: '4' + base64({"Width":7,"Height":9}) */
    const char *json = "{\"Width\":7,\"Height\":9}";
    char msg[64] = "4";
    size_t n = proto_base64_encode((const uint8_t *)json, strlen(json), msg + 1);
    assert_int_equal(feed_msg(&d, &e, msg, n + 1), PROTO_OK);
    assert_int_equal(e.resizes, 1);
    assert_int_equal(e.w, 7);
    assert_int_equal(e.h, 9);
}

/* Every split point of a message gives the same events as the whole. */
static void test_decode_every_split(void **state)
{
    const char *b64 = "0aGVsbG8gd29ybGQsIHRoaXMgaXMgc3RkaW4K"; /* "hello world, this is stdin\n" */
    size_t len = strlen(b64);
    for (size_t cut = 0; cut <= len; cut++) {
        struct proto_decoder d;
        struct events e = {0};
        proto_decoder_init(&d, PROTO_KIND_V4_BASE64);
        assert_int_equal(feed(&d, &e, b64, cut, true, false), PROTO_OK);
        assert_int_equal(feed(&d, &e, b64 + cut, len - cut, false, true), PROTO_OK);
        assert_int_equal(e.stdin_len, 27);
        assert_memory_equal(e.stdin_data, "hello world, this is stdin\n", 27);
    }
    const char bin[] = "\x00stdin bytes";
    for (size_t cut = 0; cut < sizeof(bin) - 1; cut++) {
        struct proto_decoder d;
        struct events e = {0};
        proto_decoder_init(&d, PROTO_KIND_CHANNEL);
        assert_int_equal(feed(&d, &e, bin, cut, true, false), PROTO_OK);
        assert_int_equal(feed(&d, &e, bin + cut, sizeof(bin) - 1 - cut, false, true), PROTO_OK);
        assert_int_equal(e.stdin_len, 11);
    }
}

static void test_decode_acks(void **state)
{
    struct proto_decoder d;
    struct events e = {0};
    proto_decoder_init(&d, PROTO_KIND_PODTERM);
    assert_int_equal(feed_msg(&d, &e,
                              "\x06"
                              "65536",
                              6),
                     PROTO_OK);
    assert_int_equal(e.acked, 65536);
    assert_int_equal(feed_msg(&d, &e,
                              "\x06"
                              "0",
                              2),
                     PROTO_ERR_FRAME);
    assert_int_equal(feed_msg(&d, &e,
                              "\x06"
                              "12a",
                              4),
                     PROTO_ERR_FRAME);
    assert_int_equal(feed_msg(&d, &e, "\x06", 1), PROTO_ERR_FRAME);
    assert_int_equal(feed_msg(&d, &e,
                              "\x06"
                              "1234567890123456",
                              17),
                     PROTO_ERR_FRAME);
    /* other kinds drop channel 6 silently */
    proto_decoder_init(&d, PROTO_KIND_V5);
    assert_int_equal(feed_msg(&d, &e,
                              "\x06"
                              "12",
                              3),
                     PROTO_OK);
    assert_int_equal(e.acked, 65536);
}

/* ---- Status ---- */

static void test_status_json(void **state)
{
    char out[PROTO_STATUS_MAX];
    int n = proto_status_payload(PROTO_KIND_V5, PROTO_STATUS_SUCCESS, 0, NULL, out, sizeof(out));
    assert_int_equal(n, 34);
    assert_memory_equal(out, "{\"metadata\":{},\"status\":\"Success\"}", 34);
    n = proto_status_payload(PROTO_KIND_V4, PROTO_STATUS_EXIT, 3,
                             "error executing command [sh -c exit 3], exit code 3", out,
                             sizeof(out));
    out[n] = '\0';
    assert_string_equal(out, "{\"metadata\":{},\"status\":\"Failure\",\"message\":\"command "
                             "terminated with non-zero exit code: error executing command [sh -c "
                             "exit 3], exit code 3\",\"reason\":\"NonZeroExitCode\",\"details\":{"
                             "\"causes\":[{\"reason\":\"ExitCode\",\"message\":\"3\"}]}}");
    n = proto_status_payload(PROTO_KIND_V4_BASE64, PROTO_STATUS_INTERNAL, 0,
                             "exec: \"x\": not found\n", out, sizeof(out));
    out[n] = '\0';
    assert_string_equal(out, "{\"metadata\":{},\"status\":\"Failure\",\"message\":\"Internal error "
                             "occurred: exec: \\\"x\\\": not found\\n\",\"reason\":"
                             "\"InternalError\",\"details\":{\"causes\":[{\"message\":\"exec: "
                             "\\\"x\\\": not found\\n\"}]},\"code\":500}");
    /* pre-v4: nothing on success, text on failure (checklist 9) */
    assert_int_equal(
        proto_status_payload(PROTO_KIND_CHANNEL, PROTO_STATUS_SUCCESS, 0, NULL, out, sizeof(out)),
        0);
    n = proto_status_payload(PROTO_KIND_NONE, PROTO_STATUS_EXIT, 3, "exit code 3", out,
                             sizeof(out));
    out[n] = '\0';
    assert_string_equal(out, "command terminated with non-zero exit code: exit code 3");
    /* not UTF-8: still a status */
    n = proto_status_payload(PROTO_KIND_V5, PROTO_STATUS_INTERNAL, 0, "bad \xff byte", out,
                             sizeof(out));
    assert_true(n > 0);
    assert_int_equal(proto_status_payload(PROTO_KIND_V5, PROTO_STATUS_SUCCESS, 0, NULL, out, 10),
                     PROTO_ERR_SPACE);
}

static void test_http_status(void **state)
{
    char out[PROTO_STATUS_MAX];
    int n = proto_http_status(404, "NotFound", "pods \"nope\" not found", "nope", "pods", out,
                              sizeof(out));
    out[n] = '\0';
    assert_string_equal(out,
                        "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":"
                        "\"Failure\",\"message\":\"pods \\\"nope\\\" not found\",\"reason\":"
                        "\"NotFound\",\"details\":{\"name\":\"nope\",\"kind\":\"pods\"},"
                        "\"code\":404}");
    n = proto_http_status(401, "Unauthorized", "Unauthorized", NULL, NULL, out, sizeof(out));
    out[n] = '\0';
    assert_string_equal(out,
                        "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":"
                        "\"Failure\",\"message\":\"Unauthorized\",\"reason\":\"Unauthorized\","
                        "\"code\":401}");
}

static void test_query_bool(void **state)
{
    assert_false(proto_query_bool("0"));
    assert_false(proto_query_bool("false"));
    assert_false(proto_query_bool("FaLsE"));
    assert_true(proto_query_bool(""));
    assert_true(proto_query_bool("1"));
    assert_true(proto_query_bool("yes"));
    assert_true(proto_query_bool("True"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_negotiate_rules),
        cmocka_unit_test(test_negotiate_first_line_only),
        cmocka_unit_test(test_negotiate_token),
        cmocka_unit_test(test_negotiate_limits),
        cmocka_unit_test(test_frames_exact),
        cmocka_unit_test(test_frame_inplace_matches),
        cmocka_unit_test(test_base64_strict),
        cmocka_unit_test(test_decode_binary),
        cmocka_unit_test(test_decode_close_signal),
        cmocka_unit_test(test_decode_resize),
        cmocka_unit_test(test_decode_base64),
        cmocka_unit_test(test_decode_every_split),
        cmocka_unit_test(test_decode_acks),
        cmocka_unit_test(test_status_json),
        cmocka_unit_test(test_http_status),
        cmocka_unit_test(test_query_bool),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
