/* test_spdy_frame.c - SPDY/3 frames (src/spdy/spdy_frame.h): the exact
 * bytes of every frame type written and read back, the parser fed at every
 * chunking giving the same frames, unknown control types skipped, and the
 * control-frame bound. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "spdy/spdy_frame.h"

#define LOG_MAX 64

/* What the parser reported: data pieces are merged per frame. */
struct rec {
    struct spdy_frame_head h;
    uint8_t payload[256];
    size_t len;
    int calls;
};

struct log {
    struct rec r[LOG_MAX];
    size_t n;
};

static int on_frame(void *user, const struct spdy_frame_head *h, const uint8_t *payload, size_t len,
                    bool first, bool last)
{
    struct log *l = user;
    if (first) {
        assert_true(l->n < LOG_MAX);
        memset(&l->r[l->n], 0, sizeof(l->r[0]));
        l->r[l->n].h = *h;
        l->n++;
    }
    struct rec *r = &l->r[l->n - 1];
    assert_true(r->len + len <= sizeof(r->payload));
    if (len)
        memcpy(r->payload + r->len, payload, len);
    r->len += len;
    r->calls++;
    if (last)
        assert_int_equal(r->len, h->length);
    return 0;
}

static void parse_all(const uint8_t *in, size_t len, size_t chunk, struct log *l)
{
    struct spdy_parser *p = malloc(sizeof(*p));
    spdy_parser_init(p);
    memset(l, 0, sizeof(*l));
    for (size_t i = 0; i < len; i += chunk) {
        size_t n = len - i < chunk ? len - i : chunk;
        assert_int_equal(spdy_parser_feed(p, in + i, n, on_frame, l), SPDY_OK);
    }
    free(p);
}

/* Every writer, byte for byte (SPDY/3 section 2.6). */
static void test_frame_write_exact(void **state)
{
    uint8_t b[64];
    assert_int_equal(spdy_write_rst_stream(b, sizeof(b), 5, SPDY_RST_CANCEL), 16);
    assert_memory_equal(b, "\x80\x03\x00\x03\x00\x00\x00\x08\x00\x00\x00\x05\x00\x00\x00\x05", 16);
    assert_int_equal(spdy_write_ping(b, sizeof(b), 2), 12);
    assert_memory_equal(b, "\x80\x03\x00\x06\x00\x00\x00\x04\x00\x00\x00\x02", 12);
    assert_int_equal(spdy_write_goaway(b, sizeof(b), 7, SPDY_GOAWAY_PROTOCOL_ERROR), 16);
    assert_memory_equal(b, "\x80\x03\x00\x07\x00\x00\x00\x08\x00\x00\x00\x07\x00\x00\x00\x01", 16);
    assert_int_equal(spdy_write_window_update(b, sizeof(b), 3, 0x8000), 16);
    assert_memory_equal(b, "\x80\x03\x00\x09\x00\x00\x00\x08\x00\x00\x00\x03\x00\x00\x80\x00", 16);
    assert_int_equal(spdy_write_settings_one(b, sizeof(b), 0, 7, 0x10000), 20);
    assert_memory_equal(b,
                        "\x80\x03\x00\x04\x00\x00\x00\x0c\x00\x00\x00\x01"
                        "\x00\x00\x00\x07\x00\x01\x00\x00",
                        20);
    assert_int_equal(
        spdy_write_syn_stream(b, sizeof(b), SPDY_FLAG_FIN, 1, 0, 0, (const uint8_t *)"AB", 2), 20);
    assert_memory_equal(b,
                        "\x80\x03\x00\x01\x01\x00\x00\x0c\x00\x00\x00\x01"
                        "\x00\x00\x00\x00\x00\x00"
                        "AB",
                        20);
    /* priority is the top 3 bits of byte 8 */
    assert_int_equal(spdy_write_syn_stream(b, sizeof(b), 0, 3, 1, 5, NULL, 0), 18);
    assert_memory_equal(b + 8, "\x00\x00\x00\x03\x00\x00\x00\x01\xa0\x00", 10);
    assert_int_equal(spdy_write_syn_reply(b, sizeof(b), 0, 1, (const uint8_t *)"xyz", 3), 15);
    assert_memory_equal(b, "\x80\x03\x00\x02\x00\x00\x00\x07\x00\x00\x00\x01xyz", 15);
    assert_int_equal(spdy_write_headers(b, sizeof(b), SPDY_FLAG_FIN, 9, NULL, 0), 12);
    assert_memory_equal(b, "\x80\x03\x00\x08\x01\x00\x00\x04\x00\x00\x00\x09", 12);
    assert_int_equal(spdy_write_data_head(b, sizeof(b), 0x7fffffff, SPDY_FLAG_FIN, 0xffffff), 8);
    assert_memory_equal(b, "\x7f\xff\xff\xff\x01\xff\xff\xff", 8);
    /* the caller's capacity is respected */
    assert_int_equal(spdy_write_ping(b, 11, 2), SPDY_ERR_SPACE);
    assert_int_equal(spdy_write_data_head(b, sizeof(b), 1, 0, 0x1000000), SPDY_ERR_SPACE);
}

/* Each frame read back: heads and the control payload decoders. */
static void test_frame_read_exact(void **state)
{
    static const uint8_t in[] =
        "\x80\x03\x00\x01\x02\x00\x00\x0c\x00\x00\x00\x05\x00\x00\x00\x00\x60\x00"
        "AB"                                                               /* SYN */
        "\x80\x03\x00\x02\x00\x00\x00\x05\x00\x00\x00\x05Z"                /* REPLY */
        "\x80\x03\x00\x03\x00\x00\x00\x08\x80\x00\x00\x05\x00\x00\x00\x07" /* RST */
        "\x80\x03\x00\x04\x01\x00\x00\x14\x00\x00\x00\x02"                 /* SETTINGS */
        "\x01\x00\x00\x04\x00\x00\x00\x64\x00\x00\x00\x07\x00\x00\x80\x00"
        "\x80\x03\x00\x06\x00\x00\x00\x04\x00\x00\x00\x01"                 /* PING */
        "\x80\x03\x00\x07\x00\x00\x00\x08\x00\x00\x00\x05\x00\x00\x00\x00" /* GOAWAY */
        "\x80\x03\x00\x08\x01\x00\x00\x04\x00\x00\x00\x05"                 /* HEADERS */
        "\x80\x03\x00\x09\x00\x00\x00\x08\x00\x00\x00\x05\x80\x00\x00\x10" /* WINDOW */
        "\x00\x00\x00\x05\x01\x00\x00\x03hi\n";                            /* DATA */
    struct log l;
    parse_all(in, sizeof(in) - 1, sizeof(in), &l);
    assert_int_equal(l.n, 9);
    static const uint16_t types[] = {1, 2, 3, 4, 6, 7, 8, 9};
    for (size_t i = 0; i < 8; i++) {
        assert_true(l.r[i].h.control);
        assert_int_equal(l.r[i].h.version, 3);
        assert_int_equal(l.r[i].h.type, types[i]);
        assert_int_equal(l.r[i].calls, 1);
    }
    struct spdy_syn_stream syn;
    assert_int_equal(spdy_parse_syn_stream(l.r[0].payload, l.r[0].len, &syn), SPDY_OK);
    assert_int_equal(l.r[0].h.flags, SPDY_FLAG_UNIDIRECTIONAL);
    assert_int_equal(syn.stream_id, 5);
    assert_int_equal(syn.priority, 3);
    assert_int_equal(syn.block_len, 2);
    assert_memory_equal(syn.block, "AB", 2);
    uint32_t a, b;
    /* the reserved top bit of a stream id is ignored */
    assert_int_equal(spdy_parse_u32_pair(l.r[2].payload, l.r[2].len, &a, &b), SPDY_OK);
    assert_int_equal(a, 5);
    assert_int_equal(b, 7);
    assert_int_equal(spdy_parse_u32_pair(l.r[7].payload, l.r[7].len, &a, &b), SPDY_OK);
    assert_int_equal(b & 0x7fffffff, 0x10);
    assert_int_equal(spdy_parse_ping(l.r[4].payload, l.r[4].len, &a), SPDY_OK);
    assert_int_equal(a, 1);
    assert_false(l.r[8].h.control);
    assert_int_equal(l.r[8].h.stream_id, 5);
    assert_int_equal(l.r[8].h.flags, SPDY_FLAG_FIN);
    assert_int_equal(l.r[8].len, 3);
    assert_memory_equal(l.r[8].payload, "hi\n", 3);
    assert_int_equal(l.r[8].calls, 2); /* the head at once, then the payload */
    /* lengths that do not fit their type are refused */
    assert_int_equal(spdy_parse_ping(l.r[2].payload, 8, &a), SPDY_ERR_FRAME);
    assert_int_equal(spdy_parse_u32_pair(l.r[4].payload, 4, &a, &b), SPDY_ERR_FRAME);
    assert_int_equal(spdy_parse_syn_stream(l.r[0].payload, 9, &syn), SPDY_ERR_FRAME);
}

struct settings_seen {
    uint32_t id[4], value[4];
    uint8_t flags[4];
    int n;
};

static void on_setting(void *u, uint8_t flags, uint32_t id, uint32_t value)
{
    struct settings_seen *s = u;
    s->flags[s->n] = flags;
    s->id[s->n] = id;
    s->value[s->n++] = value;
}

static void test_frame_settings(void **state)
{
    static const uint8_t p[] = "\x00\x00\x00\x02\x01\x00\x00\x04\x00\x00\x00\x64"
                               "\x00\x00\x00\x07\x00\x00\x80\x00";
    struct settings_seen s = {0};
    assert_int_equal(spdy_parse_settings(p, 20, on_setting, &s), SPDY_OK);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.flags[0], 1);
    assert_int_equal(s.id[0], 4);
    assert_int_equal(s.value[0], 100);
    assert_int_equal(s.id[1], 7);
    assert_int_equal(s.value[1], 0x8000);
    /* a count that disagrees with the length */
    assert_int_equal(spdy_parse_settings(p, 12, on_setting, &s), SPDY_ERR_FRAME);
    assert_int_equal(spdy_parse_settings(p, 21, on_setting, &s), SPDY_ERR_FRAME);
    assert_int_equal(spdy_parse_settings(p, 3, on_setting, &s), SPDY_ERR_FRAME);
}

/* Any chunking gives the same frames: every split point of a stream holding
 * each kind, fed 1..len bytes at a time. */
static void test_frame_chunking(void **state)
{
    static const uint8_t in[] = "\x80\x03\x00\x06\x00\x00\x00\x04\x00\x00\x00\x01"
                                "\x00\x00\x00\x05\x00\x00\x00\x05hello"
                                "\x00\x00\x00\x05\x01\x00\x00\x00"
                                "\x80\x03\x00\x0a\x00\x00\x00\x03xyz" /* CREDENTIAL: skipped */
                                "\x80\x03\x00\x02\x00\x00\x00\x05\x00\x00\x00\x05Z";
    size_t len = sizeof(in) - 1;
    struct log whole, part;
    parse_all(in, len, len, &whole);
    assert_int_equal(whole.n, 4);
    for (size_t chunk = 1; chunk <= len; chunk++) {
        parse_all(in, len, chunk, &part);
        assert_int_equal(part.n, whole.n);
        for (size_t i = 0; i < whole.n; i++) {
            assert_memory_equal(&part.r[i].h, &whole.r[i].h, sizeof(whole.r[i].h));
            assert_int_equal(part.r[i].len, whole.r[i].len);
            assert_memory_equal(part.r[i].payload, whole.r[i].payload, whole.r[i].len);
        }
    }
    /* split at every single point into two feeds */
    for (size_t cut = 0; cut <= len; cut++) {
        struct spdy_parser *p = malloc(sizeof(*p));
        spdy_parser_init(p);
        memset(&part, 0, sizeof(part));
        assert_int_equal(spdy_parser_feed(p, in, cut, on_frame, &part), SPDY_OK);
        assert_int_equal(spdy_parser_feed(p, in + cut, len - cut, on_frame, &part), SPDY_OK);
        free(p);
        assert_int_equal(part.n, whole.n);
        assert_memory_equal(part.r[1].payload, "hello", 5);
    }
}

/* A data frame is handed on in pieces as it arrives, never gathered: a
 * 16 MiB - 1 frame passes through with no buffer of that size. */
static int count_data(void *user, const struct spdy_frame_head *h, const uint8_t *payload,
                      size_t len, bool first, bool last)
{
    size_t *n = user;
    *n += len;
    return 0;
}

/* Unknown control types are skipped whatever their size (section 2.2.1);
 * a known type over SPDY_CONTROL_MAX stops the parser. */
static void test_frame_unknown_and_bounds(void **state)
{
    struct spdy_parser *p = malloc(sizeof(*p));
    struct log l = {0};
    spdy_parser_init(p);
    uint8_t head[8] = {0x80, 0x03, 0x00, 0x63, 0x00, 0x10, 0x00, 0x00}; /* type 99, 1 MiB */
    assert_int_equal(spdy_parser_feed(p, head, 8, on_frame, &l), SPDY_OK);
    uint8_t junk[4096];
    memset(junk, 0xab, sizeof(junk));
    for (int i = 0; i < 256; i++)
        assert_int_equal(spdy_parser_feed(p, junk, sizeof(junk), on_frame, &l), SPDY_OK);
    assert_int_equal(l.n, 0);
    static const uint8_t ping[] = "\x80\x03\x00\x06\x00\x00\x00\x04\x00\x00\x00\x01";
    assert_int_equal(spdy_parser_feed(p, ping, 12, on_frame, &l), SPDY_OK);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.r[0].h.type, SPDY_PING);

    /* SYN_STREAM of SPDY_CONTROL_MAX + 1 bytes */
    uint32_t big = SPDY_CONTROL_MAX + 1;
    uint8_t syn[8] = {
        0x80, 0x03, 0x00, 0x01, 0x00, (uint8_t)(big >> 16), (uint8_t)(big >> 8), (uint8_t)big};
    assert_int_equal(spdy_parser_feed(p, syn, 8, on_frame, &l), SPDY_ERR_FRAME_SIZE);
    /* exactly SPDY_CONTROL_MAX is gathered */
    spdy_parser_init(p);
    big = SPDY_CONTROL_MAX;
    syn[5] = (uint8_t)(big >> 16);
    syn[6] = (uint8_t)(big >> 8);
    syn[7] = (uint8_t)big;
    size_t got = 0;
    assert_int_equal(spdy_parser_feed(p, syn, 8, count_data, &got), SPDY_OK);
    for (uint32_t i = 0; i < big; i += sizeof(junk))
        assert_int_equal(spdy_parser_feed(p, junk, sizeof(junk), count_data, &got), SPDY_OK);
    assert_int_equal(got, SPDY_CONTROL_MAX); /* one call with the whole payload */
    free(p);
}

static void test_frame_data_streams(void **state)
{
    struct spdy_parser *p = malloc(sizeof(*p));
    spdy_parser_init(p);
    uint8_t head[8];
    spdy_write_data_head(head, 8, 1, 0, SPDY_LENGTH_MAX);
    size_t n = 0;
    assert_int_equal(spdy_parser_feed(p, head, 8, count_data, &n), SPDY_OK);
    static uint8_t buf[65536];
    for (size_t left = SPDY_LENGTH_MAX; left;) {
        size_t k = left < sizeof(buf) ? left : sizeof(buf);
        assert_int_equal(spdy_parser_feed(p, buf, k, count_data, &n), SPDY_OK);
        left -= k;
    }
    assert_int_equal(n, SPDY_LENGTH_MAX);
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_frame_write_exact),        cmocka_unit_test(test_frame_read_exact),
        cmocka_unit_test(test_frame_settings),           cmocka_unit_test(test_frame_chunking),
        cmocka_unit_test(test_frame_unknown_and_bounds), cmocka_unit_test(test_frame_data_streams),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
