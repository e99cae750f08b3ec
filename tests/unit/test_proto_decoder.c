/* test_proto_decoder.c - client -> server messages (PROTOCOL.md 3.1-3.4, 3.7;
 * checklist 11-14, 18): stdin on every kind, channels that are dropped, the v5
 * close signal, podterm's acks, base64 messages, and chunked delivery at every
 * split point of a message. Resize has its own file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "proto/proto.h"

#define SINK_MAX 512
#define OUT_MAX 4096

/* Everything the decoder said, in order. */
struct sink {
    uint8_t stdin_data[SINK_MAX];
    size_t stdin_len;
    int stdin_events;
    int closes;
    int resizes;
    uint64_t acked;
    int acks;
    const uint8_t *last_data;
};

static void sink_event(void *user, const struct proto_event *ev, const uint8_t *data)
{
    struct sink *s = user;
    switch (ev->type) {
    case PROTO_EV_STDIN:
        assert_true(ev->out_len > 0); /* never an empty stdin event */
        assert_true(s->stdin_len + ev->out_len <= SINK_MAX);
        memcpy(s->stdin_data + s->stdin_len, data, ev->out_len);
        s->stdin_len += ev->out_len;
        s->stdin_events++;
        s->last_data = data;
        break;
    case PROTO_EV_CLOSE_STDIN:
        s->closes++;
        break;
    case PROTO_EV_RESIZE:
        s->resizes++;
        break;
    case PROTO_EV_ACK:
        s->acked += ev->ack_bytes;
        s->acks++;
        break;
    default:
        fail_msg("unexpected event %d", (int)ev->type);
    }
}

static int feed(struct proto_decoder *d, struct sink *s, const void *p, size_t len, bool first,
                bool final)
{
    uint8_t out[OUT_MAX];
    return proto_decoder_feed(d, p, len, first, final, out, sizeof(out), sink_event, s);
}

static int feed_msg(struct proto_decoder *d, struct sink *s, const void *p, size_t len)
{
    return feed(d, s, p, len, true, true);
}

/* Feed one whole message to a fresh decoder. */
static int decode_one(enum proto_kind kind, struct sink *s, const void *p, size_t len)
{
    struct proto_decoder d;
    proto_decoder_init(&d, kind);
    memset(s, 0, sizeof(*s));
    return feed_msg(&d, s, p, len);
}

static const enum proto_kind BINARY_KINDS[] = {PROTO_KIND_NONE, PROTO_KIND_CHANNEL, PROTO_KIND_V4,
                                               PROTO_KIND_V5, PROTO_KIND_PODTERM};
#define NBINARY (sizeof(BINARY_KINDS) / sizeof(BINARY_KINDS[0]))

static void test_binary_stdin(void **state)
{
    for (size_t k = 0; k < NBINARY; k++) {
        struct sink s;
        /* checklist 18: python's text frame "\x00abc\n" is the same bytes */
        static const uint8_t msg[] = {0x00, 'a', 'b', 'c', '\n'};
        assert_int_equal(decode_one(BINARY_KINDS[k], &s, msg, sizeof(msg)), PROTO_OK);
        assert_int_equal(s.stdin_len, 4);
        assert_memory_equal(s.stdin_data, "abc\n", 4);
        assert_ptr_equal(s.last_data, msg + 1); /* binary stdin is not copied */
        /* raw bytes, including 0x00, 0xFF and Ctrl-D, pass untouched */
        static const uint8_t raw[] = {0x00, 0x00, 0xff, 0x04, 0x1b};
        assert_int_equal(decode_one(BINARY_KINDS[k], &s, raw, sizeof(raw)), PROTO_OK);
        assert_int_equal(s.stdin_len, 4);
        assert_memory_equal(s.stdin_data, raw + 1, 4);
    }
}

/* Checklist 14 and 3.4: an empty message, or a channel byte alone, says nothing. */
static void test_binary_empty(void **state)
{
    for (size_t k = 0; k < NBINARY; k++) {
        struct proto_decoder d;
        struct sink s = {0};
        proto_decoder_init(&d, BINARY_KINDS[k]);
        assert_int_equal(feed_msg(&d, &s, "", 0), PROTO_OK);
        assert_int_equal(feed_msg(&d, &s, "\x00", 1), PROTO_OK);
        assert_int_equal(feed_msg(&d, &s, "\x04", 1), PROTO_OK);
        /* an empty first fragment, then the message */
        assert_int_equal(feed(&d, &s, "", 0, true, false), PROTO_OK);
        assert_int_equal(feed(&d, &s, "\x00", 1, false, false), PROTO_OK);
        assert_int_equal(feed(&d, &s, "", 0, false, true), PROTO_OK);
        assert_int_equal(s.stdin_events + s.closes + s.resizes + s.acks, 0);
        assert_int_equal(feed_msg(&d, &s, "\x00x", 2), PROTO_OK); /* and stdin still flows */
        assert_int_equal(s.stdin_len, 1);
    }
}

/* 3.1: channels the server does not read are dropped; the connection goes on. */
static void test_binary_dropped_channels(void **state)
{
    static const uint8_t CHANNELS[] = {1, 2, 3, 5, 7, 9, 64, 254};
    for (size_t k = 0; k < NBINARY; k++) {
        struct proto_decoder d;
        struct sink s = {0};
        proto_decoder_init(&d, BINARY_KINDS[k]);
        for (size_t i = 0; i < sizeof(CHANNELS); i++) {
            uint8_t msg[] = {CHANNELS[i], 'z', 'z'};
            assert_int_equal(feed_msg(&d, &s, msg, sizeof(msg)), PROTO_OK);
        }
        assert_int_equal(s.stdin_events + s.closes + s.resizes + s.acks, 0);
    }
}

/* Checklist 11-13 and 3.7. */
static void test_close_signal(void **state)
{
    static const enum proto_kind V5_KINDS[] = {PROTO_KIND_V5, PROTO_KIND_PODTERM};
    for (size_t k = 0; k < 2; k++) {
        struct proto_decoder d;
        struct sink s = {0};
        proto_decoder_init(&d, V5_KINDS[k]);
        assert_int_equal(feed_msg(&d, &s,
                                  "\x00"
                                  "abc\n",
                                  5),
                         PROTO_OK);
        assert_int_equal(feed_msg(&d, &s, "\xff\x00", 2), PROTO_OK);
        assert_int_equal(s.closes, 1);
        for (uint8_t id = 1; id < 5; id++) { /* other channels: accepted, nothing to do */
            uint8_t msg[2] = {0xff, id};
            assert_int_equal(feed_msg(&d, &s, msg, 2), PROTO_OK);
        }
        assert_int_equal(s.closes, 1);
        assert_int_equal(feed_msg(&d, &s, "\xff", 1), PROTO_ERR_FRAME); /* checklist 12 */
        assert_int_equal(feed_msg(&d, &s, "\xff\x00\x00", 3), PROTO_ERR_FRAME);
        assert_int_equal(feed_msg(&d, &s, "\xff\x05", 2), PROTO_ERR_FRAME);
        assert_int_equal(feed_msg(&d, &s, "\xff\xff", 2), PROTO_ERR_FRAME);
        assert_int_equal(feed_msg(&d, &s,
                                  "\xff\x00"
                                  "abc",
                                  5),
                         PROTO_ERR_FRAME);
        assert_int_equal(s.closes, 1);
    }
}

static void test_close_signal_chunked(void **state)
{
    struct proto_decoder d;
    struct sink s = {0};
    proto_decoder_init(&d, PROTO_KIND_V5);
    assert_int_equal(feed(&d, &s, "\xff", 1, true, false), PROTO_OK);
    assert_int_equal(feed(&d, &s, "", 0, false, false), PROTO_OK);
    assert_int_equal(feed(&d, &s, "\x00", 1, false, true), PROTO_OK);
    assert_int_equal(s.closes, 1);
    assert_int_equal(feed(&d, &s, "\xff\x00", 2, true, false), PROTO_OK);
    assert_int_equal(s.closes, 1); /* not before the message ends */
    assert_int_equal(feed(&d, &s, "\x00", 1, false, true), PROTO_ERR_FRAME);
    assert_int_equal(s.closes, 1);
    assert_int_equal(feed(&d, &s, "\xff", 1, true, false), PROTO_OK);
    assert_int_equal(feed(&d, &s, "", 0, false, true), PROTO_ERR_FRAME);
}

/* Checklist 13: before v5, 0xFF is an unknown channel. */
static void test_close_signal_before_v5(void **state)
{
    static const enum proto_kind OLD[] = {PROTO_KIND_NONE, PROTO_KIND_CHANNEL, PROTO_KIND_V4};
    for (size_t k = 0; k < 3; k++) {
        struct proto_decoder d;
        struct sink s = {0};
        proto_decoder_init(&d, OLD[k]);
        assert_int_equal(feed_msg(&d, &s, "\xff\x00", 2), PROTO_OK);
        assert_int_equal(feed_msg(&d, &s, "\xff", 1), PROTO_OK);
        assert_int_equal(feed_msg(&d, &s, "\xff\x00\x00", 3), PROTO_OK);
        assert_int_equal(feed_msg(&d, &s, "\xff\x09", 2), PROTO_OK);
        assert_int_equal(s.closes + s.stdin_events, 0);
    }
    /* base64 kinds have no close signal either: "/" - '0' is 255 */
    struct sink s;
    assert_int_equal(decode_one(PROTO_KIND_V4_BASE64, &s,
                                "\xff"
                                "AA==",
                                5),
                     PROTO_OK);
    assert_int_equal(s.closes + s.stdin_events, 0);
}

static void test_acks(void **state)
{
    struct proto_decoder d;
    struct sink s = {0};
    proto_decoder_init(&d, PROTO_KIND_PODTERM);
    assert_int_equal(feed_msg(&d, &s,
                              "\x06"
                              "65536",
                              6),
                     PROTO_OK);
    assert_int_equal(s.acked, 65536);
    assert_int_equal(feed_msg(&d, &s,
                              "\x06"
                              "007",
                              4),
                     PROTO_OK);
    assert_int_equal(s.acked, 65543);
    assert_int_equal(feed_msg(&d, &s,
                              "\x06"
                              "999999999999999",
                              16),
                     PROTO_OK); /* 15 digits */
    assert_int_equal(s.acked, 65543 + 999999999999999ull);
    assert_int_equal(s.acks, 3);
    /* split across chunks */
    assert_int_equal(feed(&d, &s,
                          "\x06"
                          "12",
                          3, true, false),
                     PROTO_OK);
    assert_int_equal(feed(&d, &s, "34", 2, false, true), PROTO_OK);
    assert_int_equal(s.acks, 4);
    assert_int_equal(s.acked, 65543 + 999999999999999ull + 1234);

    static const char *const BAD[] = {"\x06",
                                      "\x06"
                                      "0",
                                      "\x06"
                                      "000",
                                      "\x06"
                                      "12a",
                                      "\x06"
                                      "-1",
                                      "\x06"
                                      "+1",
                                      "\x06"
                                      " 1",
                                      "\x06"
                                      "1 ",
                                      "\x06"
                                      "1234567890123456"};
    for (size_t i = 0; i < sizeof(BAD) / sizeof(BAD[0]); i++)
        assert_int_equal(feed_msg(&d, &s, BAD[i], strlen(BAD[i])), PROTO_ERR_FRAME);
    assert_int_equal(feed(&d, &s,
                          "\x06"
                          "12345678",
                          9, true, false),
                     PROTO_OK);
    assert_int_equal(feed(&d, &s, "12345678", 8, false, true), PROTO_ERR_FRAME); /* 16 digits */
    assert_int_equal(s.acks, 4);

    /* other kinds drop channel 6 silently */
    for (size_t k = 0; k < NBINARY; k++) {
        if (BINARY_KINDS[k] == PROTO_KIND_PODTERM)
            continue;
        assert_int_equal(decode_one(BINARY_KINDS[k], &s,
                                    "\x06"
                                    "12",
                                    3),
                         PROTO_OK);
        assert_int_equal(decode_one(BINARY_KINDS[k], &s,
                                    "\x06"
                                    "x",
                                    2),
                         PROTO_OK);
        assert_int_equal(s.acks, 0);
    }
}

/* ---- base64 kinds ---- */

static void test_base64_stdin(void **state)
{
    static const enum proto_kind KINDS[] = {PROTO_KIND_BASE64, PROTO_KIND_V4_BASE64};
    for (size_t k = 0; k < 2; k++) {
        struct sink s;
        assert_int_equal(decode_one(KINDS[k], &s, "0Zm9vCg==", 9), PROTO_OK); /* PROTOCOL 3.3 */
        assert_int_equal(s.stdin_len, 4);
        assert_memory_equal(s.stdin_data, "foo\n", 4);
        assert_int_equal(decode_one(KINDS[k], &s, "0ZWNobyBoaQo=", 13), PROTO_OK);
        assert_int_equal(s.stdin_len, 8);
        assert_memory_equal(s.stdin_data, "echo hi\n", 8);
        assert_int_equal(decode_one(KINDS[k], &s, "0AP8E", 5), PROTO_OK);
        assert_int_equal(s.stdin_len, 3);
        assert_memory_equal(s.stdin_data, "\x00\xff\x04", 3);
        assert_int_equal(decode_one(KINDS[k], &s, "0AP8E", 4), PROTO_OK); /* "AP8": 3 chars */
        assert_int_equal(s.stdin_len, 0);
        assert_int_equal(decode_one(KINDS[k], &s, "0AP8=", 5), PROTO_OK);
        assert_int_equal(s.stdin_len, 2);
        assert_memory_equal(s.stdin_data, "\x00\xff", 2);
        /* channel digit alone, empty message: nothing */
        assert_int_equal(decode_one(KINDS[k], &s, "0", 1), PROTO_OK);
        assert_int_equal(decode_one(KINDS[k], &s, "", 0), PROTO_OK);
        assert_int_equal(s.stdin_events, 0);
    }
}

static void test_base64_go_leniency(void **state)
{
    struct sink s;
    /* unused low bits need not be zero (StdEncoding is not Strict) */
    assert_int_equal(decode_one(PROTO_KIND_BASE64, &s, "0Zh==", 5), PROTO_OK);
    assert_int_equal(s.stdin_len, 1);
    assert_int_equal(s.stdin_data[0], 'f');
    /* CR and LF are skipped anywhere, padding included */
    const char *crlf = "0\r\nZm9v\r\nCg=\n=\n";
    assert_int_equal(decode_one(PROTO_KIND_BASE64, &s, crlf, strlen(crlf)), PROTO_OK);
    assert_int_equal(s.stdin_len, 4);
    assert_memory_equal(s.stdin_data, "foo\n", 4);
}

static void test_base64_invalid(void **state)
{
    static const char *const BAD[] = {
        "0Zm9v!g==", "0Zm9vC",      "0Zm9vCg=",      "0Zg==Zg==",     "0Z===",
        "0====",     "0=Zg=",       "0Zg=a",         "0Zm9-",         "0Zm9_",
        "0Zm 9",     "0Zm9v\tCg==", "0Zm9vCg==\x00", "0Zg==\r\nZg==", "0Zm9vYmFy=",
    };
    struct proto_decoder d;
    struct sink s = {0};
    proto_decoder_init(&d, PROTO_KIND_V4_BASE64);
    for (size_t i = 0; i < sizeof(BAD) / sizeof(BAD[0]); i++) {
        size_t len = strlen(BAD[i]) + (strcmp(BAD[i], "0Zm9vCg==") == 0);
        assert_int_equal(feed_msg(&d, &s, BAD[i], len), PROTO_OK);
        if (s.stdin_len)
            fail_msg("\"%s\" delivered %zu bytes", BAD[i], s.stdin_len);
    }
    /* the connection goes on */
    assert_int_equal(feed_msg(&d, &s, "0eA==", 5), PROTO_OK);
    assert_int_equal(s.stdin_len, 1);
}

/* A bad message spread over chunks: what earlier chunks held has gone out,
 * nothing after the error does, and the next message decodes again. A chunk
 * holds back its last full group (it may be the padded end of the message)
 * and is delivered only when every group it decodes is valid. */
static void test_base64_invalid_chunked(void **state)
{
    struct proto_decoder d;
    struct sink s = {0};
    proto_decoder_init(&d, PROTO_KIND_BASE64);
    /* "Zm9v" decodes, "YmFy" is held back */
    assert_int_equal(feed(&d, &s, "0Zm9vYmFy", 9, true, false), PROTO_OK);
    assert_int_equal(s.stdin_len, 3);
    /* "YmFy" and "Zm9v" decode, "!A==" is held back */
    assert_int_equal(feed(&d, &s, "Zm9v!A==", 8, false, false), PROTO_OK);
    assert_int_equal(s.stdin_len, 9);
    /* "!A==" is bad: this chunk delivers nothing, nor would any after it */
    assert_int_equal(feed(&d, &s, "Zm9v", 4, false, true), PROTO_OK);
    assert_int_equal(s.stdin_len, 9);
    assert_int_equal(s.stdin_events, 2);
    assert_memory_equal(s.stdin_data, "foobarfoo", 9);
    /* length not a multiple of 4 at the end: the last chunk (its "Zm9v"
     * included) is dropped whole, the first held everything back */
    assert_int_equal(feed(&d, &s, "0Zm9v", 5, true, false), PROTO_OK);
    assert_int_equal(feed(&d, &s, "Zg", 2, false, true), PROTO_OK);
    assert_int_equal(s.stdin_len, 9);
    assert_int_equal(s.stdin_events, 2);
    assert_int_equal(feed_msg(&d, &s, "0eHk=", 5), PROTO_OK);
    assert_int_equal(s.stdin_len, 11);
    assert_int_equal(s.stdin_events, 3);
    assert_memory_equal(s.stdin_data, "foobarfooxy", 11);
}

static void test_base64_channels(void **state)
{
    static const char *const DROPPED[] = {"1Zm9v", "2Zm9v", "3Zm9v",    "5Zm9v",
                                          "9Zm9v", "aZm9v", "\x00Zm9v", "6MQ=="};
    for (size_t i = 0; i < sizeof(DROPPED) / sizeof(DROPPED[0]); i++) {
        struct sink s;
        assert_int_equal(decode_one(PROTO_KIND_V4_BASE64, &s, DROPPED[i], 5), PROTO_OK);
        assert_int_equal(s.stdin_events + s.resizes + s.acks, 0);
    }
    /* out too small for what the chunk can decode to */
    struct proto_decoder d;
    struct sink s = {0};
    uint8_t out[3];
    proto_decoder_init(&d, PROTO_KIND_BASE64);
    assert_int_equal(
        proto_decoder_feed(&d, (const uint8_t *)"0Zm9v", 5, true, true, out, 2, sink_event, &s),
        PROTO_ERR_SPACE);
    assert_int_equal(
        proto_decoder_feed(&d, (const uint8_t *)"0Zm9v", 5, true, true, out, 3, sink_event, &s),
        PROTO_OK);
}

/* ---- chunking ---- */

/* Feed msg cut at i and j (i <= j) as three chunks; return the stdin bytes. */
static void feed_cut3(enum proto_kind kind, const char *msg, size_t len, size_t i, size_t j,
                      struct sink *s)
{
    struct proto_decoder d;
    proto_decoder_init(&d, kind);
    memset(s, 0, sizeof(*s));
    assert_int_equal(feed(&d, s, msg, i, true, false), PROTO_OK);
    assert_int_equal(feed(&d, s, msg + i, j - i, false, false), PROTO_OK);
    assert_int_equal(feed(&d, s, msg + j, len - j, false, true), PROTO_OK);
}

static void every_split(enum proto_kind kind, const char *msg, size_t len, const char *want,
                        size_t want_len)
{
    for (size_t i = 0; i <= len; i++) {
        for (size_t j = i; j <= len; j++) {
            struct sink s;
            feed_cut3(kind, msg, len, i, j, &s);
            if (s.stdin_len != want_len || memcmp(s.stdin_data, want, want_len) != 0)
                fail_msg("kind %d cut %zu/%zu: %zu bytes", (int)kind, i, j, s.stdin_len);
        }
    }
}

static void test_every_split_binary(void **state)
{
    static const char msg[] = "\x00stdin bytes\x00\xff";
    for (size_t k = 0; k < NBINARY; k++)
        every_split(BINARY_KINDS[k], msg, sizeof(msg) - 1, msg + 1, sizeof(msg) - 2);
}

static void test_every_split_base64(void **state)
{
    static const struct {
        const char *wire;
        const char *plain;
    } MSGS[] = {
        {"0aGVsbG8gd29ybGQsIHRoaXMgaXMgc3RkaW4K", "hello world, this is stdin\n"},
        {"0Zm9vCg==", "foo\n"},
        {"0Zm9vYmE=", "fooba"},
        {"0Zm9vYmFy", "foobar"},
        {"0Zm9v\r\nYmFy\n", "foobar"},
    };
    for (size_t m = 0; m < sizeof(MSGS) / sizeof(MSGS[0]); m++) {
        every_split(PROTO_KIND_BASE64, MSGS[m].wire, strlen(MSGS[m].wire), MSGS[m].plain,
                    strlen(MSGS[m].plain));
        every_split(PROTO_KIND_V4_BASE64, MSGS[m].wire, strlen(MSGS[m].wire), MSGS[m].plain,
                    strlen(MSGS[m].plain));
    }
}

/* Bad padding inside the message is refused at every split point. The first
 * group "Zm9v" (wire bytes 1-4) is decoded by the chunk holding byte 5, the
 * bad group "Zg==" (bytes 5-8) by the chunk holding byte 9, and a chunk with a
 * bad group delivers nothing: "foo" reaches stdin exactly when a cut falls
 * after byte 5 and at or before byte 9, putting the two in different chunks. */
static void test_every_split_base64_bad(void **state)
{
    const char *msg = "0Zm9vZg==Zm9v";
    size_t len = strlen(msg);
    for (size_t i = 0; i <= len; i++) {
        for (size_t j = i; j <= len; j++) {
            struct sink s;
            feed_cut3(PROTO_KIND_BASE64, msg, len, i, j, &s);
            bool apart = (i > 5 && i <= 9) || (j > 5 && j <= 9);
            if (s.stdin_len != (apart ? 3u : 0u))
                fail_msg("cut %zu/%zu: %zu bytes, want %d", i, j, s.stdin_len, apart ? 3 : 0);
            assert_memory_equal(s.stdin_data, "foo", s.stdin_len);
        }
    }
}

/* A chunk flagged first while a message is open starts a new message. */
static void test_message_restart(void **state)
{
    struct proto_decoder d;
    struct sink s = {0};
    proto_decoder_init(&d, PROTO_KIND_V5);
    assert_int_equal(feed(&d, &s, "\xff", 1, true, false), PROTO_OK);
    assert_int_equal(feed(&d, &s, "\x00hi", 3, true, true), PROTO_OK);
    assert_int_equal(s.stdin_len, 2);
    /* first=false with no message open is taken as a start */
    assert_int_equal(feed(&d, &s, "\x00!", 2, false, true), PROTO_OK);
    assert_int_equal(s.stdin_len, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_binary_stdin),
        cmocka_unit_test(test_binary_empty),
        cmocka_unit_test(test_binary_dropped_channels),
        cmocka_unit_test(test_close_signal),
        cmocka_unit_test(test_close_signal_chunked),
        cmocka_unit_test(test_close_signal_before_v5),
        cmocka_unit_test(test_acks),
        cmocka_unit_test(test_base64_stdin),
        cmocka_unit_test(test_base64_go_leniency),
        cmocka_unit_test(test_base64_invalid),
        cmocka_unit_test(test_base64_invalid_chunked),
        cmocka_unit_test(test_base64_channels),
        cmocka_unit_test(test_every_split_binary),
        cmocka_unit_test(test_every_split_base64),
        cmocka_unit_test(test_every_split_base64_bad),
        cmocka_unit_test(test_message_restart),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
