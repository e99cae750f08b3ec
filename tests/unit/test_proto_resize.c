/* test_proto_resize.c - channel 4 as one continuous JSON stream (PROTOCOL.md
 * 3.5, checklist 15): objects split across messages or concatenated, keys
 * matched case-insensitively as Go does, values 0..65535, and the first parse
 * error ending resize handling (not the connection). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "proto/proto.h"

#define SIZES_MAX 16
#define OUT_MAX 4096

struct sizes {
    int n;
    uint16_t w[SIZES_MAX], h[SIZES_MAX];
    size_t stdin_len;
};

static void sizes_event(void *user, const struct proto_event *ev, const uint8_t *data)
{
    struct sizes *s = user;
    if (ev->type == PROTO_EV_STDIN) {
        s->stdin_len += ev->out_len;
        return;
    }
    assert_int_equal(ev->type, PROTO_EV_RESIZE);
    assert_true(s->n < SIZES_MAX);
    s->w[s->n] = ev->width;
    s->h[s->n] = ev->height;
    s->n++;
}

/* One binary message: channel 4 + text. */
static int send4(struct proto_decoder *d, struct sizes *s, const char *json)
{
    uint8_t msg[OUT_MAX], out[OUT_MAX];
    size_t len = strlen(json);
    msg[0] = PROTO_CH_RESIZE;
    memcpy(msg + 1, json, len);
    return proto_decoder_feed(d, msg, len + 1, true, true, out, sizeof(out), sizes_event, s);
}

static void assert_size(const struct sizes *s, int i, uint16_t w, uint16_t h)
{
    assert_true(i < s->n);
    assert_int_equal(s->w[i], w);
    assert_int_equal(s->h[i], h);
}

/* A fresh decoder fed these messages; returns the sizes seen. */
static struct sizes run(enum proto_kind kind, const char *const *msgs, size_t n)
{
    struct proto_decoder d;
    struct sizes s = {0};
    proto_decoder_init(&d, kind);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(send4(&d, &s, msgs[i]), PROTO_OK);
    return s;
}

#define RUN(kind, ...)                                                                             \
    run(kind, (const char *const[]){__VA_ARGS__},                                                  \
        sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *))

static void test_resize_kubectl(void **state)
{
    static const enum proto_kind KINDS[] = {PROTO_KIND_NONE, PROTO_KIND_CHANNEL, PROTO_KIND_V4,
                                            PROTO_KIND_V5, PROTO_KIND_PODTERM};
    for (size_t k = 0; k < sizeof(KINDS) / sizeof(KINDS[0]); k++) {
        struct sizes s = RUN(KINDS[k], "{\"Width\":101,\"Height\":33}\n");
        assert_int_equal(s.n, 1);
        assert_size(&s, 0, 101, 33);
    }
    /* kubectl attach -t: (W+1,H+1) then (W,H) */
    struct sizes s =
        RUN(PROTO_KIND_V5, "{\"Width\":81,\"Height\":25}\n", "{\"Width\":80,\"Height\":24}\n");
    assert_int_equal(s.n, 2);
    assert_size(&s, 0, 81, 25);
    assert_size(&s, 1, 80, 24);
}

/* Checklist 15: the object split over two messages, at every point. */
static void test_resize_split_everywhere(void **state)
{
    const char *json = "{\"Width\":101,\"Height\":33}\n";
    size_t len = strlen(json);
    for (size_t cut = 0; cut <= len; cut++) {
        char a[64], b[64];
        memcpy(a, json, cut);
        a[cut] = '\0';
        strcpy(b, json + cut);
        struct sizes s = RUN(PROTO_KIND_V5, a, b);
        assert_int_equal(s.n, 1);
        assert_size(&s, 0, 101, 33);
    }
    /* and one byte per message */
    struct proto_decoder d;
    struct sizes s = {0};
    proto_decoder_init(&d, PROTO_KIND_V4);
    for (size_t i = 0; i < len; i++) {
        char one[2] = {json[i], '\0'};
        assert_int_equal(send4(&d, &s, one), PROTO_OK);
    }
    assert_int_equal(s.n, 1);
    assert_size(&s, 0, 101, 33);
}

static void test_resize_concatenated(void **state)
{
    struct sizes s = RUN(PROTO_KIND_V5, "{\"Width\":1,\"Height\":2}{\"Width\":3,\"Height\":4}"
                                        " \t\r\n{\"Width\":5,\"Height\":6}\n");
    assert_int_equal(s.n, 3);
    assert_size(&s, 0, 1, 2);
    assert_size(&s, 1, 3, 4);
    assert_size(&s, 2, 5, 6);
    /* the end of one object and the start of the next in one message */
    s = RUN(PROTO_KIND_V5, "{\"Width\":10,", "\"Height\":20}\n{\"Wid", "th\":30,\"Height\":40}");
    assert_int_equal(s.n, 2);
    assert_size(&s, 0, 10, 20);
    assert_size(&s, 1, 30, 40);
}

static void test_resize_keys(void **state)
{
    struct sizes s = RUN(PROTO_KIND_V5, "{\"width\":1,\"height\":2}", "{\"WIDTH\":3,\"HEIGHT\":4}",
                         "{\"wIdTh\":5,\"hEiGhT\":6}", "{\"\\u0057idth\":7,\"Height\":8}");
    assert_int_equal(s.n, 4);
    assert_size(&s, 0, 1, 2);
    assert_size(&s, 1, 3, 4);
    assert_size(&s, 2, 5, 6);
    assert_size(&s, 3, 7, 8); /* escapes in keys decode first */
    /* missing keys and null are 0; unknown keys, nested values and braces
     * inside strings are skipped over */
    s = RUN(PROTO_KIND_V5, "{\"Width\":5}", "{}", "{\"Height\":null,\"Width\":9}",
            "{\"x\":\"}{\\\"\",\"Width\":3,\"y\":[{\"a\":[1,{}]}],\"Height\":4}",
            " { \"Width\" : 11 , \"Height\" : 12 } ");
    assert_int_equal(s.n, 5);
    assert_size(&s, 0, 5, 0);
    assert_size(&s, 1, 0, 0);
    assert_size(&s, 2, 9, 0);
    assert_size(&s, 3, 3, 4);
    assert_size(&s, 4, 11, 12);
    /* duplicate keys: the last one wins, as in Go */
    s = RUN(PROTO_KIND_V5, "{\"Width\":1,\"width\":2,\"Height\":3,\"HEIGHT\":4}");
    assert_size(&s, 0, 2, 4);
}

static void test_resize_limits(void **state)
{
    struct sizes s = RUN(PROTO_KIND_V5, "{\"Width\":65535,\"Height\":0}");
    assert_size(&s, 0, 65535, 0);
    static const char *const BAD[] = {
        "{\"Width\":65536}",
        "{\"Width\":-1}",
        "{\"Width\":1.5}",
        "{\"Width\":1e2}",
        "{\"Width\":\"80\"}",
        "{\"Height\":true}",
        "{\"Width\":[80]}",
        "{\"Width\":}",
        "{\"Width\":80,}",
        "{Width:80}",
        "[{\"Width\":80}]",
        "x",
        "80",
        "}",
        "{\"Width\":80]",
        "{\"Width\":99999999999999999999}",
    };
    for (size_t i = 0; i < sizeof(BAD) / sizeof(BAD[0]); i++) {
        s = RUN(PROTO_KIND_V5, BAD[i], "{\"Width\":1,\"Height\":1}");
        if (s.n != 0)
            fail_msg("%s: %d resize events", BAD[i], s.n);
    }
}

/* The first parse error ends resize handling; stdin and the connection go on. */
static void test_resize_dead(void **state)
{
    struct proto_decoder d;
    struct sizes s = {0};
    uint8_t out[OUT_MAX];
    proto_decoder_init(&d, PROTO_KIND_V5);
    assert_int_equal(send4(&d, &s, "{\"Width\":7,\"Height\":8}{\"Width\":-1}{\"Width\":9}"),
                     PROTO_OK);
    assert_int_equal(s.n, 1);
    assert_size(&s, 0, 7, 8);
    assert_int_equal(send4(&d, &s, "{\"Width\":5,\"Height\":5}"), PROTO_OK);
    assert_int_equal(s.n, 1);
    assert_int_equal(proto_decoder_feed(&d, (const uint8_t *)"\x00ok", 3, true, true, out,
                                        sizeof(out), sizes_event, &s),
                     PROTO_OK);
    assert_int_equal(s.stdin_len, 2);
}

/* One object may use up to PROTO_RESIZE_BUF_MAX bytes; more is an error. */
static void test_resize_buffer_limit(void **state)
{
    char json[PROTO_RESIZE_BUF_MAX + 8];
    const char *head = "{\"Width\":1,\"Height\":2,\"pad\":\"";
    for (int extra = 0; extra <= 1; extra++) {
        size_t pad = PROTO_RESIZE_BUF_MAX - strlen(head) - 2 + (size_t)extra;
        strcpy(json, head);
        memset(json + strlen(head), 'p', pad);
        strcpy(json + strlen(head) + pad, "\"}");
        assert_int_equal(strlen(json), PROTO_RESIZE_BUF_MAX + (size_t)extra);
        struct sizes s = RUN(PROTO_KIND_V5, json, "{\"Width\":3,\"Height\":4}");
        assert_int_equal(s.n, extra ? 0 : 2);
    }
    /* whitespace between objects does not use the buffer */
    static char spaces[OUT_MAX];
    memset(spaces, ' ', sizeof(spaces) - 2);
    spaces[sizeof(spaces) - 2] = '\n';
    struct sizes s = RUN(PROTO_KIND_V5, spaces, "{\"Width\":3,\"Height\":4}", spaces);
    assert_int_equal(s.n, 1);
}

/* Base64 kinds: '4' + base64 of the JSON; each message is decoded alone, and
 * the decoded bytes join one JSON stream. */
static void send4_b64(struct proto_decoder *d, struct sizes *s, const char *json)
{
    char msg[OUT_MAX];
    uint8_t out[OUT_MAX];
    msg[0] = '4';
    size_t n = proto_base64_encode((const uint8_t *)json, strlen(json), msg + 1);
    assert_int_equal(proto_decoder_feed(d, (const uint8_t *)msg, n + 1, true, true, out,
                                        sizeof(out), sizes_event, s),
                     PROTO_OK);
}

static void test_resize_base64(void **state)
{
    static const enum proto_kind KINDS[] = {PROTO_KIND_BASE64, PROTO_KIND_V4_BASE64};
    for (size_t k = 0; k < 2; k++) {
        struct proto_decoder d;
        struct sizes s = {0};
        proto_decoder_init(&d, KINDS[k]);
        send4_b64(&d, &s, "{\"Width\":7,\"Height\":9}\n");
        send4_b64(&d, &s, "{\"width\":70,");
        send4_b64(&d, &s, "\"height\":90}{\"Width\":1,\"Height\":2}");
        assert_int_equal(s.n, 3);
        assert_size(&s, 0, 7, 9);
        assert_size(&s, 1, 70, 90);
        assert_size(&s, 2, 1, 2);
        /* an undecodable message is dropped and does not kill resize */
        uint8_t out[OUT_MAX];
        assert_int_equal(proto_decoder_feed(&d, (const uint8_t *)"4e!==", 5, true, true, out,
                                            sizeof(out), sizes_event, &s),
                         PROTO_OK);
        send4_b64(&d, &s, "{\"Width\":5,\"Height\":6}");
        assert_int_equal(s.n, 4);
        /* raw JSON on '4' is not base64: dropped, nothing parsed */
        assert_int_equal(proto_decoder_feed(&d, (const uint8_t *)"4{\"Width\":1}", 12, true, true,
                                            out, sizeof(out), sizes_event, &s),
                         PROTO_OK);
        send4_b64(&d, &s, "{\"Width\":8,\"Height\":8}");
        assert_int_equal(s.n, 5);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resize_kubectl),      cmocka_unit_test(test_resize_split_everywhere),
        cmocka_unit_test(test_resize_concatenated), cmocka_unit_test(test_resize_keys),
        cmocka_unit_test(test_resize_limits),       cmocka_unit_test(test_resize_dead),
        cmocka_unit_test(test_resize_buffer_limit), cmocka_unit_test(test_resize_base64),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
