/* test_spdy_conn_refusals.c - what a SPDY/3.1 connection (src/spdy/
 * spdy_conn.c) answers to frames that break the rules, byte for byte: each
 * malformed control frame ends the connection with GOAWAY PROTOCOL_ERROR
 * and one ERROR event naming it, and nothing after it in the same read is
 * acted on; frames for streams that never were, or are gone, get
 * RST_STREAM INVALID_STREAM or nothing; a stream the peer opens after our
 * GOAWAY, pushed or in the client role is refused; and the caller's own
 * calls out of turn are SPDY_ERR_STATE with nothing written. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "spdy/spdy_conn.h"

#include "fixtures/spdy_conn_log.h"

/* Each malformed control frame, alone on a fresh server connection:
 * SPDY_ERR_FRAME (or the error named), GOAWAY(0, PROTOCOL_ERROR), one
 * ERROR event with the reason, and every later feed the same error. */
static void test_refusals_malformed_control(void **state)
{
    static const uint8_t four[4] = {0, 0, 0, 1}, twelve[12] = {0, 0, 0, 1};
    struct {
        uint16_t version, type;
        uint8_t flags;
        const uint8_t *pl;
        size_t len;
        int err;
        const char *reason;
    } cases[] = {
        {3, SPDY_SYN_STREAM, 0, twelve, 8, SPDY_ERR_FRAME, "SYN_STREAM too short"},
        {3, SPDY_SYN_REPLY, 0, four, 2, SPDY_ERR_FRAME, "SYN_REPLY or HEADERS too short"},
        {3, SPDY_HEADERS, 0, four, 0, SPDY_ERR_FRAME, "SYN_REPLY or HEADERS too short"},
        {3, SPDY_RST_STREAM, 0, four, 4, SPDY_ERR_FRAME, "malformed RST_STREAM"},
        {3, SPDY_SETTINGS, 0, four, 4, SPDY_ERR_FRAME, "malformed SETTINGS"},
        {3, SPDY_PING, 0, twelve, 8, SPDY_ERR_FRAME, "malformed PING"},
        {3, SPDY_PING, 1, four, 4, SPDY_ERR_FRAME, "malformed PING"},
        {3, SPDY_GOAWAY, 0, four, 4, SPDY_ERR_FRAME, "malformed GOAWAY"},
        {3, SPDY_WINDOW_UPDATE, 0, four, 4, SPDY_ERR_FRAME, "malformed WINDOW_UPDATE"},
        {2, SPDY_PING, 0, four, 4, SPDY_ERR_VERSION, "only SPDY version 3 is supported"},
        {2, SPDY_SYN_STREAM, 0, twelve, 2, SPDY_ERR_VERSION, "only SPDY version 3 is supported"},
        {2, SPDY_SYN_STREAM, 0, twelve + 4, 8, SPDY_ERR_VERSION,
         "only SPDY version 3 is supported"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct log l;
        struct spdy_conn *c = conn_new(SPDY_ROLE_SERVER, SPDY_FLOW_ADVISORY, &l);
        uint8_t in[64], want[32];
        size_t n =
            ctl_v(in, cases[i].version, cases[i].type, cases[i].flags, cases[i].pl, cases[i].len);
        assert_int_equal(spdy_conn_feed(c, in, n), cases[i].err);
        char line[160];
        snprintf(line, sizeof(line), "error %d %s\n", cases[i].err, cases[i].reason);
        if (strcmp(l.text, line) != 0)
            fail_msg("case %zu: %s", i, l.text);
        out_is(c, want, goaway_bytes(want, 0, SPDY_GOAWAY_PROTOCOL_ERROR));
        assert_int_equal(spdy_conn_feed(c, in, n), cases[i].err);
        assert_true(spdy_conn_is_done(c));
        assert_int_equal(l.len, strlen(line)); /* one ERROR event only */
        spdy_conn_free(c);
    }
}

/* RST_STREAM for stream 0 or with status 0, a SETTINGS initial window past
 * 2^31-1, a WINDOW_UPDATE of 0 for the connection, DATA on stream 0. */
static void test_refusals_bad_values(void **state)
{
    uint8_t settings[12];
    put32(settings, 1);
    put32(settings + 4, SPDY_SETTINGS_INITIAL_WINDOW_SIZE);
    put32(settings + 8, 0x80000000u);
    struct {
        uint8_t in[32];
        size_t len;
        int err;
        const char *reason;
    } cases[5];
    cases[0].len = ctl2(cases[0].in, SPDY_RST_STREAM, 0, 0, SPDY_RST_CANCEL);
    cases[0].err = SPDY_ERR_FRAME;
    cases[0].reason = "malformed RST_STREAM";
    cases[1].len = ctl2(cases[1].in, SPDY_RST_STREAM, 0, 1, 0);
    cases[1].err = SPDY_ERR_FRAME;
    cases[1].reason = "malformed RST_STREAM";
    cases[2].len = ctl(cases[2].in, SPDY_SETTINGS, 0, settings, sizeof(settings));
    cases[2].err = SPDY_ERR_FRAME;
    cases[2].reason = "malformed SETTINGS";
    cases[3].len = ctl2(cases[3].in, SPDY_WINDOW_UPDATE, 0, 0, 0x80000000u);
    cases[3].err = SPDY_ERR_PROTOCOL;
    cases[3].reason = "WINDOW_UPDATE of 0 for the connection";
    cases[4].len = data_frame(cases[4].in, 0, 0, "x");
    cases[4].err = SPDY_ERR_PROTOCOL;
    cases[4].reason = "DATA on stream 0";
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct log l;
        struct spdy_conn *c = conn_new(SPDY_ROLE_SERVER, SPDY_FLOW_ADVISORY, &l);
        assert_int_equal(spdy_conn_feed(c, cases[i].in, cases[i].len), cases[i].err);
        char line[160];
        snprintf(line, sizeof(line), "error %d %s\n", cases[i].err, cases[i].reason);
        if (strcmp(l.text, line) != 0)
            fail_msg("case %zu: %s", i, l.text);
        uint8_t want[32];
        out_is(c, want, goaway_bytes(want, 0, SPDY_GOAWAY_PROTOCOL_ERROR));
        spdy_conn_free(c);
    }
}

/* A frame after a malformed one in the same read is not acted on: no
 * stream, no PING reply; GOAWAY names the last stream accepted before. */
static void test_refusals_nothing_after_error(void **state)
{
    struct log l;
    struct spdy_conn *c = conn_new(SPDY_ROLE_SERVER, SPDY_FLOW_ADVISORY, &l);
    struct spdy_deflater d;
    assert_int_equal(spdy_deflater_init(&d), SPDY_OK);
    uint8_t in[1024], want[64];
    size_t n = syn(&d, in, 1, 0, 0);
    n += ctl2(in + n, SPDY_PING, 1, 0, 0); /* flags on a PING */
    n += syn(&d, in + n, 3, 0, 0);
    uint8_t ping[4] = {0, 0, 0, 7};
    n += ctl(in + n, SPDY_PING, 0, ping, 4);
    assert_int_equal(spdy_conn_feed(c, in, n), SPDY_ERR_FRAME);
    assert_string_equal(l.text, "open 1 flags=0\n"
                                "error -2 malformed PING\n");
    out_is(c, want, goaway_bytes(want, 1, SPDY_GOAWAY_PROTOCOL_ERROR));
    /* and the caller's side is closed */
    assert_int_equal(spdy_conn_send_data(c, 1, (const uint8_t *)"x", 1, false), SPDY_ERR_CLOSED);
    assert_int_equal(spdy_conn_reply(c, 1, NULL, 0, false), SPDY_ERR_CLOSED);
    assert_int_equal(spdy_conn_send_headers(c, 1, NULL, 0, false), SPDY_ERR_CLOSED);
    assert_int_equal(spdy_conn_reset(c, 1, SPDY_RST_CANCEL), SPDY_ERR_CLOSED);
    assert_int_equal(spdy_conn_ping(c), SPDY_ERR_CLOSED);
    assert_int_equal(spdy_conn_goaway(c, 0), SPDY_ERR_CLOSED);
    assert_int_equal(spdy_conn_open_stream(c, NULL, 0, 0), SPDY_ERR_CLOSED);
    assert_int_equal(spdy_conn_send_window(c, 1), 0);
    spdy_conn_consume(c, 1, 100); /* nothing: no WINDOW_UPDATE */
    out_is(c, want, 0);
    spdy_deflater_end(&d);
    spdy_conn_free(c);
}

/* Frames for streams that are not open: the peer's ids never used get
 * RST_STREAM INVALID_STREAM; ids that were in use (frames may still be in
 * flight) and ours get nothing, or INVALID_STREAM for ours never opened. */
static void test_refusals_unknown_streams(void **state)
{
    struct log l;
    struct spdy_conn *c = conn_new(SPDY_ROLE_SERVER, SPDY_FLOW_ADVISORY, &l);
    struct spdy_deflater d;
    assert_int_equal(spdy_deflater_init(&d), SPDY_OK);
    uint8_t in[1024], want[256], block[64];
    /* stream 1 opened, reset by the peer: gone */
    size_t n = syn(&d, in, 1, 0, 0);
    int bl = spdy_deflater_block(&d, NULL, 0, block, sizeof(block));
    assert_true(bl > 0);
    n += rst_bytes(in + n, 1, SPDY_RST_CANCEL);
    /* a second reset, a WINDOW_UPDATE, DATA and HEADERS for it: nothing */
    n += rst_bytes(in + n, 1, SPDY_RST_CANCEL);
    n += ctl2(in + n, SPDY_WINDOW_UPDATE, 0, 1, 100);
    n += data_frame(in + n, 1, 0, "late");
    int w = spdy_write_headers(in + n, sizeof(in) - n, 0, 1, block, (size_t)bl);
    assert_true(w > 0);
    n += (size_t)w;
    assert_int_equal(spdy_conn_feed(c, in, n), SPDY_OK);
    assert_string_equal(l.text, "open 1 flags=0\n"
                                "reset 1 5\n");
    out_is(c, want, 0);
    /* DATA for the peer's stream 9, never opened; HEADERS for our 4 never
     * opened: INVALID_STREAM each */
    n = data_frame(in, 9, 0, "x");
    bl = spdy_deflater_block(&d, NULL, 0, block, sizeof(block));
    w = spdy_write_headers(in + n, sizeof(in) - n, 0, 4, block, (size_t)bl);
    n += (size_t)w;
    assert_int_equal(spdy_conn_feed(c, in, n), SPDY_OK);
    size_t k = rst_bytes(want, 9, SPDY_RST_INVALID_STREAM);
    k += rst_bytes(want + k, 4, SPDY_RST_INVALID_STREAM);
    out_is(c, want, k);
    /* our stream 2, opened and reset by us: HEADERS for it then is nothing */
    int id = spdy_conn_open_stream(c, NULL, 0, 0);
    assert_int_equal(id, 2);
    assert_int_equal(spdy_conn_reset(c, 2, SPDY_RST_CANCEL), SPDY_OK);
    const uint8_t *p;
    spdy_conn_out_consume(c, spdy_conn_out(c, &p));
    bl = spdy_deflater_block(&d, NULL, 0, block, sizeof(block));
    n = (size_t)spdy_write_syn_reply(in, sizeof(in), 0, 2, block, (size_t)bl);
    assert_int_equal(spdy_conn_feed(c, in, n), SPDY_OK);
    out_is(c, want, 0);
    assert_string_equal(l.text, "open 1 flags=0\n"
                                "reset 1 5\n");
    /* the caller's calls for streams that are not open */
    assert_int_equal(spdy_conn_reset(c, 2, SPDY_RST_CANCEL), SPDY_ERR_STATE);
    assert_int_equal(spdy_conn_reset(c, 0, SPDY_RST_CANCEL), SPDY_ERR_STATE);
    assert_int_equal(spdy_conn_reply(c, 7, NULL, 0, false), SPDY_ERR_STATE);
    assert_int_equal(spdy_conn_send_headers(c, 7, NULL, 0, false), SPDY_ERR_STATE);
    assert_int_equal(spdy_conn_send_data(c, 7, (const uint8_t *)"x", 1, true), SPDY_ERR_STATE);
    assert_false(spdy_conn_stream_can_recv(c, 7));
    assert_false(spdy_conn_stream_can_send(c, 7));
    assert_null(spdy_conn_stream_user(c, 7));
    spdy_conn_stream_set_user(c, 7, &l); /* nothing to set */
    assert_int_equal(spdy_conn_peer_window(c, 7), 0);
    assert_int_equal(spdy_conn_our_window(c, 7), 0);
    out_is(c, want, 0);
    spdy_deflater_end(&d);
    spdy_conn_free(c);
}

/* Streams the peer may not open: after our GOAWAY (ignored), in the client
 * role or associated with another stream (server push: REFUSED_STREAM). */
static void test_refusals_streams_not_taken(void **state)
{
    struct log l;
    uint8_t in[512], want[64];
    struct spdy_deflater d;
    /* after our GOAWAY: ignored, nothing said */
    struct spdy_conn *c = conn_new(SPDY_ROLE_SERVER, SPDY_FLOW_ADVISORY, &l);
    assert_int_equal(spdy_deflater_init(&d), SPDY_OK);
    assert_int_equal(spdy_conn_goaway(c, SPDY_GOAWAY_OK), SPDY_OK);
    assert_int_equal(spdy_conn_goaway(c, SPDY_GOAWAY_OK), SPDY_OK); /* once */
    out_is(c, want, goaway_bytes(want, 0, SPDY_GOAWAY_OK));
    assert_int_equal(spdy_conn_feed(c, in, syn(&d, in, 1, 0, 0)), SPDY_OK);
    assert_string_equal(l.text, "");
    out_is(c, want, 0);
    assert_true(spdy_conn_is_done(c));
    assert_int_equal(spdy_conn_open_stream(c, NULL, 0, 0), SPDY_ERR_STATE);
    spdy_deflater_end(&d);
    spdy_conn_free(c);
    /* pushed (associated stream): refused */
    c = conn_new(SPDY_ROLE_SERVER, SPDY_FLOW_ADVISORY, &l);
    assert_int_equal(spdy_deflater_init(&d), SPDY_OK);
    assert_int_equal(spdy_conn_feed(c, in, syn(&d, in, 1, 3, 0)), SPDY_OK);
    out_is(c, want, rst_bytes(want, 1, SPDY_RST_REFUSED_STREAM));
    assert_string_equal(l.text, "");
    spdy_deflater_end(&d);
    spdy_conn_free(c);
    /* a server's SYN_STREAM to our client: refused */
    c = conn_new(SPDY_ROLE_CLIENT, SPDY_FLOW_ADVISORY, &l);
    assert_int_equal(spdy_deflater_init(&d), SPDY_OK);
    assert_int_equal(spdy_conn_feed(c, in, syn(&d, in, 2, 0, 0)), SPDY_OK);
    out_is(c, want, rst_bytes(want, 2, SPDY_RST_REFUSED_STREAM));
    /* its GOAWAY: no stream of ours may open then */
    size_t n = goaway_bytes(in, 2, SPDY_GOAWAY_OK);
    assert_int_equal(spdy_conn_feed(c, in, n), SPDY_OK);
    assert_string_equal(l.text, "goaway 2 0\n");
    assert_int_equal(spdy_conn_open_stream(c, NULL, 0, 0), SPDY_ERR_STATE);
    assert_true(spdy_conn_is_done(c));
    spdy_deflater_end(&d);
    spdy_conn_free(c);
}

/* A stream opened with FIN is half-closed at once (after its open event);
 * with UNIDIRECTIONAL ours is closed; with both, the stream is over. */
static void test_refusals_opened_half_closed(void **state)
{
    struct log l;
    uint8_t in[1024], want[64];
    struct spdy_deflater d;
    struct spdy_conn *c = conn_new(SPDY_ROLE_SERVER, SPDY_FLOW_ADVISORY, &l);
    assert_int_equal(spdy_deflater_init(&d), SPDY_OK);
    size_t n = syn(&d, in, 1, 0, SPDY_FLAG_FIN);
    n += syn(&d, in + n, 3, 0, SPDY_FLAG_UNIDIRECTIONAL);
    assert_int_equal(spdy_conn_feed(c, in, n), SPDY_OK);
    assert_string_equal(l.text, "open 1 flags=1\n"
                                "fin 1\n"
                                "open 3 flags=2\n");
    assert_false(spdy_conn_stream_can_recv(c, 1));
    assert_true(spdy_conn_stream_can_recv(c, 3));
    assert_int_equal(spdy_conn_reply(c, 3, NULL, 0, false), SPDY_ERR_STATE);
    /* a reply with FIN to stream 1 ends it (the peer's half was closed) */
    assert_int_equal(spdy_conn_reply(c, 1, NULL, 0, true), SPDY_OK);
    assert_false(spdy_conn_stream_open(c, 1));
    /* DATA on 1 now: it was in use, nothing said */
    const uint8_t *p;
    spdy_conn_out_consume(c, spdy_conn_out(c, &p));
    n = data_frame(in, 1, 0, "late");
    assert_int_equal(spdy_conn_feed(c, in, n), SPDY_OK);
    out_is(c, want, 0);
    /* ours: FIN and UNIDIRECTIONAL at once is a stream over as it opens */
    int id = spdy_conn_open_stream(c, NULL, 0, SPDY_FLAG_FIN | SPDY_FLAG_UNIDIRECTIONAL);
    assert_int_equal(id, 2);
    assert_false(spdy_conn_stream_open(c, 2));
    id = spdy_conn_open_stream(c, NULL, 0, SPDY_FLAG_UNIDIRECTIONAL);
    assert_int_equal(id, 4);
    assert_true(spdy_conn_stream_can_send(c, 4));
    assert_false(spdy_conn_stream_can_recv(c, 4));
    /* HEADERS with FIN on it half-closes ours: the stream is over */
    assert_int_equal(spdy_conn_send_headers(c, 4, NULL, 0, true), SPDY_OK);
    assert_false(spdy_conn_stream_open(c, 4));
    spdy_deflater_end(&d);
    spdy_conn_free(c);
}

/* A header block as the peer's deflater would send it, from raw
 * (uncompressed) bytes that may break the name/value rules. */
static size_t raw_block(struct spdy_deflater *d, const uint8_t *raw, size_t len, uint8_t *out,
                        size_t cap)
{
    d->z.next_in = (uint8_t *)raw;
    d->z.avail_in = (unsigned)len;
    d->z.next_out = out;
    d->z.avail_out = (unsigned)cap;
    assert_int_equal(deflate(&d->z, Z_SYNC_FLUSH), Z_OK);
    assert_int_equal(d->z.avail_in, 0);
    return cap - d->z.avail_out;
}

/* The peer's frames out of turn on our streams: DATA before the
 * SYN_REPLY, a SYN_REPLY whose block breaks the name rules (the context
 * stays in step: the next stream still works), a second SYN_REPLY, a
 * SYN_REPLY to its own stream: RST_STREAM and a local RESET event each. */
static void test_refusals_out_of_turn(void **state)
{
    struct log l;
    uint8_t in[1024], want[64], block[256];
    struct spdy_deflater d;
    struct spdy_conn *c = conn_new(SPDY_ROLE_CLIENT, SPDY_FLOW_ADVISORY, &l);
    assert_int_equal(spdy_deflater_init(&d), SPDY_OK);
    for (int i = 0; i < 3; i++)
        assert_int_equal(spdy_conn_open_stream(c, NULL, 0, 0), 2 * i + 1);
    const uint8_t *p;
    spdy_conn_out_consume(c, spdy_conn_out(c, &p));
    /* DATA on 1 before its SYN_REPLY */
    size_t n = data_frame(in, 1, 0, "early");
    assert_int_equal(spdy_conn_feed(c, in, n), SPDY_OK);
    out_is(c, want, rst_bytes(want, 1, SPDY_RST_PROTOCOL_ERROR));
    /* SYN_REPLY on 3 whose block has one pair with an empty name */
    static const uint8_t empty_name[] = {0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 'x'};
    size_t bl = raw_block(&d, empty_name, sizeof(empty_name), block, sizeof(block));
    n = (size_t)spdy_write_syn_reply(in, sizeof(in), 0, 3, block, bl);
    assert_int_equal(spdy_conn_feed(c, in, n), SPDY_OK);
    out_is(c, want, rst_bytes(want, 3, SPDY_RST_PROTOCOL_ERROR));
    /* the context is intact: stream 5's reply reads, a second one does not */
    static const uint8_t none[] = {0, 0, 0, 0};
    bl = raw_block(&d, none, sizeof(none), block, sizeof(block));
    n = (size_t)spdy_write_syn_reply(in, sizeof(in), 0, 5, block, bl);
    bl = raw_block(&d, none, sizeof(none), block, sizeof(block));
    n += (size_t)spdy_write_syn_reply(in + n, sizeof(in) - n, 0, 5, block, bl);
    assert_int_equal(spdy_conn_feed(c, in, n), SPDY_OK);
    out_is(c, want, rst_bytes(want, 5, SPDY_RST_STREAM_IN_USE));
    assert_string_equal(l.text, "reset 1 1 local\n"
                                "reset 3 1 local\n"
                                "reply 5\n"
                                "reset 5 8 local\n");
    spdy_deflater_end(&d);
    spdy_conn_free(c);
}

/* The peer's own stream: a SYN_REPLY to it is a protocol error, HEADERS
 * with a broken block too; HEADERS with FIN half-closes it, and HEADERS
 * after that is STREAM_ALREADY_CLOSED. */
static void test_refusals_peer_stream_headers(void **state)
{
    struct log l;
    uint8_t in[1024], want[64], block[256];
    struct spdy_deflater d;
    struct spdy_conn *c = conn_new(SPDY_ROLE_SERVER, SPDY_FLOW_ADVISORY, &l);
    l.reply = true;
    assert_int_equal(spdy_deflater_init(&d), SPDY_OK);
    size_t n = syn(&d, in, 1, 0, 0);
    n += syn(&d, in + n, 3, 0, 0);
    n += syn(&d, in + n, 5, 0, 0);
    assert_int_equal(spdy_conn_feed(c, in, n), SPDY_OK);
    const uint8_t *p;
    spdy_conn_out_consume(c, spdy_conn_out(c, &p));
    static const uint8_t none[] = {0, 0, 0, 0};
    static const uint8_t empty_value_name[] = {0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0};
    size_t bl = raw_block(&d, none, sizeof(none), block, sizeof(block));
    n = (size_t)spdy_write_syn_reply(in, sizeof(in), 0, 1, block, bl);
    bl = raw_block(&d, empty_value_name, sizeof(empty_value_name), block, sizeof(block));
    n += (size_t)spdy_write_headers(in + n, sizeof(in) - n, 0, 3, block, bl);
    bl = raw_block(&d, none, sizeof(none), block, sizeof(block));
    n += (size_t)spdy_write_headers(in + n, sizeof(in) - n, SPDY_FLAG_FIN, 5, block, bl);
    bl = raw_block(&d, none, sizeof(none), block, sizeof(block));
    n += (size_t)spdy_write_headers(in + n, sizeof(in) - n, 0, 5, block, bl);
    assert_int_equal(spdy_conn_feed(c, in, n), SPDY_OK);
    size_t k = rst_bytes(want, 1, SPDY_RST_PROTOCOL_ERROR);
    k += rst_bytes(want + k, 3, SPDY_RST_PROTOCOL_ERROR);
    k += rst_bytes(want + k, 5, SPDY_RST_STREAM_ALREADY_CLOSED);
    out_is(c, want, k);
    assert_string_equal(l.text, "open 1 flags=0\n"
                                "open 3 flags=0\n"
                                "open 5 flags=0\n"
                                "reset 1 1 local\n"
                                "reset 3 1 local\n"
                                "headers 5 n=0\n"
                                "fin 5\n"
                                "reset 5 9 local\n");
    spdy_deflater_end(&d);
    spdy_conn_free(c);
}

/* SETTINGS: ids other than INITIAL_WINDOW_SIZE are ignored; a new initial
 * window moves every open stream's window by the difference, and one it
 * takes past 2^31-1 is reset FLOW_CONTROL_ERROR. */
static void test_refusals_settings_window(void **state)
{
    struct log l;
    uint8_t in[1024], want[64];
    struct spdy_conn *c = conn_new(SPDY_ROLE_CLIENT, SPDY_FLOW_STRICT, &l);
    assert_int_equal(spdy_conn_open_stream(c, NULL, 0, 0), 1);
    assert_int_equal(spdy_conn_open_stream(c, NULL, 0, 0), 3);
    const uint8_t *p;
    spdy_conn_out_consume(c, spdy_conn_out(c, &p));
    /* stream 1's window to the top */
    size_t n = ctl2(in, SPDY_WINDOW_UPDATE, 0, 1, 0x7fffffffu - SPDY_INITIAL_WINDOW);
    uint8_t settings[28];
    put32(settings, 2);
    put32(settings + 4, 4); /* another id: ignored */
    put32(settings + 8, 1000);
    put32(settings + 12, SPDY_SETTINGS_INITIAL_WINDOW_SIZE);
    put32(settings + 16, SPDY_INITIAL_WINDOW + 1);
    n += ctl(in + n, SPDY_SETTINGS, 0, settings, 20);
    assert_int_equal(spdy_conn_feed(c, in, n), SPDY_OK);
    out_is(c, want, rst_bytes(want, 1, SPDY_RST_FLOW_CONTROL_ERROR));
    assert_string_equal(l.text, "reset 1 7 local\n");
    assert_int_equal(spdy_conn_peer_window(c, 3), SPDY_INITIAL_WINDOW + 1);
    spdy_conn_free(c);
}

/* The output buffer full of data: a data send takes 0 bytes and a bare FIN
 * that does not fit is SPDY_ERR_SPACE; header blocks wait too; control
 * replies still fit in the reserve. */
static void test_refusals_output_full(void **state)
{
    struct log l;
    struct spdy_conn *c = conn_new(SPDY_ROLE_CLIENT, SPDY_FLOW_ADVISORY, &l);
    assert_int_equal(spdy_conn_open_stream(c, NULL, 0, 0), 1);
    static uint8_t data[SPDY_DATA_FRAME_MAX];
    memset(data, 'd', sizeof(data));
    int sent;
    size_t total = 0;
    while ((sent = spdy_conn_send_data(c, 1, data, sizeof(data), false)) > 0)
        total += (size_t)sent;
    assert_int_equal(sent, 0);
    const uint8_t *p;
    size_t used = spdy_conn_out(c, &p);
    assert_true(used + SPDY_HEAD_LEN >= SPDY_OUT_MAX - SPDY_OUT_RESERVE);
    assert_int_equal(spdy_conn_send_window(c, 1), 0);
    assert_int_equal(spdy_conn_send_data(c, 1, data, 1, false), 0);
    if (used + SPDY_HEAD_LEN > SPDY_OUT_MAX - SPDY_OUT_RESERVE)
        assert_int_equal(spdy_conn_send_data(c, 1, NULL, 0, true), SPDY_ERR_SPACE);
    assert_int_equal(spdy_conn_open_stream(c, NULL, 0, 0), SPDY_ERR_SPACE);
    assert_int_equal(spdy_conn_send_headers(c, 1, NULL, 0, false), SPDY_ERR_SPACE);
    /* a PING still goes out, in the reserve */
    assert_int_equal(spdy_conn_ping(c), 1);
    assert_int_equal(spdy_conn_out(c, &p), used + 12);
    /* an empty data frame without FIN says nothing */
    spdy_conn_out_consume(c, used + 12);
    assert_int_equal(spdy_conn_send_data(c, 1, NULL, 0, false), 0);
    assert_int_equal(spdy_conn_out(c, &p), 0);
    assert_true(total > 0);
    spdy_conn_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refusals_malformed_control),
        cmocka_unit_test(test_refusals_bad_values),
        cmocka_unit_test(test_refusals_nothing_after_error),
        cmocka_unit_test(test_refusals_unknown_streams),
        cmocka_unit_test(test_refusals_streams_not_taken),
        cmocka_unit_test(test_refusals_opened_half_closed),
        cmocka_unit_test(test_refusals_out_of_turn),
        cmocka_unit_test(test_refusals_peer_stream_headers),
        cmocka_unit_test(test_refusals_settings_window),
        cmocka_unit_test(test_refusals_output_full),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
