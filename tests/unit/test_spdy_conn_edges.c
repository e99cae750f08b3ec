/* test_spdy_conn_edges.c - a SPDY/3.1 connection (src/spdy/spdy_conn.c)
 * at its edges: the stream table full, the output buffer full of control
 * frames, output that wraps in its buffer, our own header block too big
 * for a frame, GOAWAY sparing streams at or below its last id, SETTINGS
 * after a bad value, a stream reset by the caller in the middle of a DATA
 * frame, FIN held back while the window is short. Exact frames and events. */
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

/* Sixteen streams open: a seventeenth is SPDY_ERR_STATE with nothing sent,
 * the peer's is REFUSED_STREAM; one closing makes room again. */
static void test_edges_stream_table_full(void **state)
{
    struct log l;
    struct spdy_conn *c = conn_new(SPDY_ROLE_SERVER, SPDY_FLOW_ADVISORY, &l);
    for (int i = 0; i < SPDY_STREAMS_MAX; i++)
        assert_int_equal(spdy_conn_open_stream(c, NULL, 0, 0), 2 + 2 * i);
    const uint8_t *p;
    spdy_conn_out_consume(c, spdy_conn_out(c, &p));
    assert_int_equal(spdy_conn_open_stream(c, NULL, 0, 0), SPDY_ERR_STATE);
    assert_int_equal(spdy_conn_out(c, &p), 0);
    struct spdy_deflater d;
    assert_int_equal(spdy_deflater_init(&d), SPDY_OK);
    uint8_t in[512], want[32];
    assert_int_equal(spdy_conn_feed(c, in, syn(&d, in, 1, 0, 0)), SPDY_OK);
    out_is(c, want, rst_bytes(want, 1, SPDY_RST_REFUSED_STREAM));
    assert_string_equal(l.text, "");
    /* a reply to our own stream is not ours to send */
    assert_int_equal(spdy_conn_reply(c, 2, NULL, 0, false), SPDY_ERR_STATE);
    assert_int_equal(spdy_conn_reset(c, 2, SPDY_RST_CANCEL), SPDY_OK);
    out_is(c, want, rst_bytes(want, 2, SPDY_RST_CANCEL));
    assert_int_equal(spdy_conn_open_stream(c, NULL, 0, 0), 2 + 2 * SPDY_STREAMS_MAX);
    spdy_deflater_end(&d);
    spdy_conn_free(c);
}

/* A peer that never reads: PINGs fill the whole buffer (control frames may
 * use the reserve); then PING, RST_STREAM and GOAWAY are SPDY_ERR_SPACE and
 * the stream stays; what was queued is intact, and after a drain all work. */
static void test_edges_control_output_full(void **state)
{
    struct log l;
    struct spdy_conn *c = conn_new(SPDY_ROLE_SERVER, SPDY_FLOW_ADVISORY, &l);
    assert_int_equal(spdy_conn_open_stream(c, NULL, 0, 0), 2);
    const uint8_t *p;
    size_t syn_len = spdy_conn_out(c, &p);
    int pings = 0, rc;
    while ((rc = spdy_conn_ping(c)) > 0)
        pings++;
    assert_int_equal(rc, SPDY_ERR_SPACE);
    assert_int_equal(pings, (SPDY_OUT_MAX - syn_len) / 12);
    assert_int_equal(spdy_conn_reset(c, 2, SPDY_RST_CANCEL), SPDY_ERR_SPACE);
    assert_true(spdy_conn_stream_open(c, 2));
    assert_int_equal(spdy_conn_goaway(c, SPDY_GOAWAY_OK), SPDY_ERR_SPACE);
    assert_false(spdy_conn_is_done(c));
    size_t n = spdy_conn_out(c, &p);
    assert_int_equal(n, syn_len + 12 * (size_t)pings);
    /* the last PING queued is the last one counted: ids 2, 4, ... */
    uint8_t want[16];
    assert_int_equal(spdy_write_ping(want, sizeof(want), 2 * (uint32_t)pings), 12);
    assert_memory_equal(p + n - 12, want, 12);
    spdy_conn_out_consume(c, n);
    assert_int_equal(spdy_conn_reset(c, 2, SPDY_RST_CANCEL), SPDY_OK);
    assert_int_equal(spdy_conn_goaway(c, SPDY_GOAWAY_OK), SPDY_OK);
    assert_true(spdy_conn_is_done(c));
    spdy_conn_free(c);
}

/* Output partly drained then more written: the pending bytes move to the
 * front and stay in order, byte for byte. */
static void test_edges_output_wraps(void **state)
{
    struct log l;
    struct spdy_conn *c = conn_new(SPDY_ROLE_CLIENT, SPDY_FLOW_ADVISORY, &l);
    assert_int_equal(spdy_conn_open_stream(c, NULL, 0, 0), 1);
    const uint8_t *p;
    spdy_conn_out_consume(c, spdy_conn_out(c, &p));
    static uint8_t data[SPDY_DATA_FRAME_MAX];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)i;
    for (int i = 0; i < 3; i++)
        assert_int_equal(spdy_conn_send_data(c, 1, data, sizeof(data), false), sizeof(data));
    size_t used = spdy_conn_out(c, &p);
    assert_int_equal(used, 3 * (8 + sizeof(data)));
    /* drain all but the last frame: 2 frames' worth still before it */
    spdy_conn_out_consume(c, 2 * (8 + sizeof(data)));
    assert_int_equal(spdy_conn_send_data(c, 1, data, sizeof(data), false), sizeof(data));
    assert_int_equal(spdy_conn_send_data(c, 1, data, sizeof(data), false), sizeof(data));
    assert_int_equal(spdy_conn_send_data(c, 1, data, 100, true), 100);
    size_t n = spdy_conn_out(c, &p);
    assert_int_equal(n, 3 * (8 + sizeof(data)) + 8 + 100);
    for (int f = 0; f < 3; f++) {
        const uint8_t *fr = p + f * (8 + sizeof(data));
        assert_memory_equal(fr, "\x00\x00\x00\x01\x00\x00\x80\x00", 8);
        assert_memory_equal(fr + 8, data, sizeof(data));
    }
    assert_memory_equal(p + n - 108, "\x00\x00\x00\x01\x01\x00\x00\x64", 8);
    assert_memory_equal(p + n - 100, data, 100);
    assert_false(spdy_conn_stream_can_send(c, 1));
    spdy_conn_free(c);
}

/* Our own header block that does not fit a control frame (incompressible
 * values near the block bound): the connection fails (its deflate context
 * holds part of a block the peer will never see), GOAWAY INTERNAL_ERROR. */
static void test_edges_own_block_too_big(void **state)
{
    /* the plain block at its bound exactly: 4 + 16 x (4 + 3 + 4) + 16204 */
    enum { PAIRS = 16, VALUE = 1013 };
    static char values[PAIRS][VALUE];
    static char names[PAIRS][4];
    struct spdy_nv nv[PAIRS];
    uint32_t x = 99;
    for (int i = 0; i < PAIRS; i++) {
        for (int k = 0; k < VALUE; k++) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            values[i][k] = (char)(1 + x % 255);
        }
        snprintf(names[i], sizeof(names[i]), "h%02d", i);
        nv[i] = (struct spdy_nv){names[i], 3, values[i], i < 12 ? VALUE : VALUE - 1};
    }
    struct log l;
    struct spdy_conn *c = conn_new(SPDY_ROLE_CLIENT, SPDY_FLOW_ADVISORY, &l);
    assert_int_equal(spdy_conn_open_stream(c, nv, PAIRS, 0), SPDY_ERR_CLOSED);
    assert_string_equal(l.text, "error -5 our header block does not fit a frame\n");
    uint8_t want[32];
    out_is(c, want, goaway_bytes(want, 0, SPDY_GOAWAY_INTERNAL_ERROR));
    spdy_conn_free(c);
}

/* GOAWAY: our streams above its last id are refused (RESET events), ours at
 * or below it and the peer's stay; while they are open the connection is
 * not done. GOAWAY, WINDOW_UPDATE with flags, PING with id 0: malformed. */
static void test_edges_goaway_spares(void **state)
{
    struct log l;
    uint8_t in[512], want[32];
    struct spdy_deflater d;
    struct spdy_conn *c = conn_new(SPDY_ROLE_SERVER, SPDY_FLOW_ADVISORY, &l);
    assert_int_equal(spdy_deflater_init(&d), SPDY_OK);
    assert_int_equal(spdy_conn_feed(c, in, syn(&d, in, 1, 0, 0)), SPDY_OK);
    assert_int_equal(spdy_conn_open_stream(c, NULL, 0, 0), 2);
    assert_int_equal(spdy_conn_open_stream(c, NULL, 0, 0), 4);
    size_t n = goaway_bytes(in, 2, SPDY_GOAWAY_OK);
    assert_int_equal(spdy_conn_feed(c, in, n), SPDY_OK);
    assert_string_equal(l.text, "open 1 flags=0\n"
                                "goaway 2 0\n"
                                "reset 4 3\n");
    assert_true(spdy_conn_stream_open(c, 1));
    assert_true(spdy_conn_stream_open(c, 2));
    assert_false(spdy_conn_is_done(c));
    spdy_deflater_end(&d);
    spdy_conn_free(c);
    static const struct {
        uint16_t type;
        uint8_t flags;
        uint32_t a, b;
        const char *reason;
    } bad[] = {
        {SPDY_GOAWAY, 1, 0, 0, "malformed GOAWAY"},
        {SPDY_WINDOW_UPDATE, 1, 0, 1, "malformed WINDOW_UPDATE"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        c = conn_new(SPDY_ROLE_SERVER, SPDY_FLOW_ADVISORY, &l);
        n = ctl2(in, bad[i].type, bad[i].flags, bad[i].a, bad[i].b);
        assert_int_equal(spdy_conn_feed(c, in, n), SPDY_ERR_FRAME);
        char line[128];
        snprintf(line, sizeof(line), "error -2 %s\n", bad[i].reason);
        assert_string_equal(l.text, line);
        out_is(c, want, goaway_bytes(want, 0, SPDY_GOAWAY_PROTOCOL_ERROR));
        spdy_conn_free(c);
    }
    c = conn_new(SPDY_ROLE_SERVER, SPDY_FLOW_ADVISORY, &l);
    uint8_t zero[4] = {0};
    n = ctl(in, SPDY_PING, 0, zero, 4);
    assert_int_equal(spdy_conn_feed(c, in, n), SPDY_ERR_FRAME);
    assert_string_equal(l.text, "error -2 malformed PING\n");
    spdy_conn_free(c);
}

/* SETTINGS with a bad initial window first: the entries after it are not
 * applied, and the frame is malformed. */
static void test_edges_settings_after_bad(void **state)
{
    struct log l;
    uint8_t in[64], want[32];
    struct spdy_conn *c = conn_new(SPDY_ROLE_CLIENT, SPDY_FLOW_STRICT, &l);
    assert_int_equal(spdy_conn_open_stream(c, NULL, 0, 0), 1);
    const uint8_t *p;
    spdy_conn_out_consume(c, spdy_conn_out(c, &p));
    uint8_t settings[20];
    put32(settings, 2);
    put32(settings + 4, SPDY_SETTINGS_INITIAL_WINDOW_SIZE);
    put32(settings + 8, 0x80000000u);
    put32(settings + 12, SPDY_SETTINGS_INITIAL_WINDOW_SIZE);
    put32(settings + 16, 10);
    size_t n = ctl(in, SPDY_SETTINGS, 0, settings, sizeof(settings));
    assert_int_equal(spdy_conn_feed(c, in, n), SPDY_ERR_FRAME);
    assert_int_equal(spdy_conn_peer_window(c, 1), SPDY_INITIAL_WINDOW);
    out_is(c, want, goaway_bytes(want, 0, SPDY_GOAWAY_PROTOCOL_ERROR));
    spdy_conn_free(c);
}

/* The caller resets a stream at its first DATA event while the frame is
 * still arriving: the rest of the frame is dropped (no event), its bytes
 * count as consumed for the connection window. */
static void test_edges_reset_mid_frame(void **state)
{
    struct log l;
    struct spdy_conn *c = conn_new(SPDY_ROLE_SERVER, SPDY_FLOW_ADVISORY, &l);
    l.reply = true;
    l.reset_on_data = true;
    struct spdy_deflater d;
    assert_int_equal(spdy_deflater_init(&d), SPDY_OK);
    uint8_t in[512], want[32];
    assert_int_equal(spdy_conn_feed(c, in, syn(&d, in, 1, 0, 0)), SPDY_OK);
    const uint8_t *p;
    spdy_conn_out_consume(c, spdy_conn_out(c, &p));
    size_t n = data_frame(in, 1, SPDY_FLAG_FIN, "0123456789");
    assert_int_equal(spdy_conn_feed(c, in, 12), SPDY_OK);
    assert_int_equal(spdy_conn_feed(c, in + 12, n - 12), SPDY_OK);
    assert_string_equal(l.text, "open 1 flags=0\n"
                                "data 1 4\n");
    out_is(c, want, rst_bytes(want, 1, SPDY_RST_CANCEL));
    assert_int_equal(spdy_conn_our_window(c, 0), SPDY_INITIAL_WINDOW - 10);
    spdy_deflater_end(&d);
    spdy_conn_free(c);
}

/* Strict flow control: a send longer than the window takes what the window
 * allows and holds FIN back; consume on a half-closed stream only counts
 * for the connection. */
static void test_edges_fin_held_back(void **state)
{
    struct log l;
    uint8_t in[64];
    struct spdy_conn *c = conn_new(SPDY_ROLE_CLIENT, SPDY_FLOW_STRICT, &l);
    assert_int_equal(spdy_conn_open_stream(c, NULL, 0, 0), 1);
    const uint8_t *p;
    spdy_conn_out_consume(c, spdy_conn_out(c, &p));
    uint8_t settings[12];
    put32(settings, 1);
    put32(settings + 4, SPDY_SETTINGS_INITIAL_WINDOW_SIZE);
    put32(settings + 8, 5);
    size_t n = ctl(in, SPDY_SETTINGS, 0, settings, sizeof(settings));
    assert_int_equal(spdy_conn_feed(c, in, n), SPDY_OK);
    assert_int_equal(spdy_conn_send_window(c, 1), 5);
    assert_int_equal(spdy_conn_send_data(c, 1, (const uint8_t *)"abcdefgh", 8, true), 5);
    assert_true(spdy_conn_stream_can_send(c, 1)); /* no FIN yet */
    assert_int_equal(spdy_conn_out(c, &p), 8 + 5);
    assert_memory_equal(p,
                        "\x00\x00\x00\x01\x00\x00\x00\x05"
                        "abcde",
                        13);
    spdy_conn_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_edges_stream_table_full),
        cmocka_unit_test(test_edges_control_output_full),
        cmocka_unit_test(test_edges_output_wraps),
        cmocka_unit_test(test_edges_own_block_too_big),
        cmocka_unit_test(test_edges_goaway_spares),
        cmocka_unit_test(test_edges_settings_after_bad),
        cmocka_unit_test(test_edges_reset_mid_frame),
        cmocka_unit_test(test_edges_fin_held_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
