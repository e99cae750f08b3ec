/* test_proto_frame.c - server -> client messages (PROTOCOL.md 3.2-3.4) and the
 * base64 codec: exact bytes for every kind, the in-place encoder against the
 * out-of-place one for every length 0..300, strict decoding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proto/proto.h"

#define INPLACE_LEN_MAX 300
#define SESSION_LIKE_PAYLOAD (64 * 1024) /* what the session reads per frame */

static void test_frame_every_kind(void **state)
{
    /* stdout "hi\n": one channel byte + raw, or '1' + base64 */
    static const struct {
        enum proto_kind kind;
        const char *wire;
        size_t len;
    } WANT[] = {
        {PROTO_KIND_NONE, "\x01hi\n", 4},    {PROTO_KIND_CHANNEL, "\x01hi\n", 4},
        {PROTO_KIND_BASE64, "1aGkK", 5},     {PROTO_KIND_V4, "\x01hi\n", 4},
        {PROTO_KIND_V4_BASE64, "1aGkK", 5},  {PROTO_KIND_V5, "\x01hi\n", 4},
        {PROTO_KIND_PODTERM, "\x01hi\n", 4},
    };
    for (size_t i = 0; i < sizeof(WANT) / sizeof(WANT[0]); i++) {
        uint8_t out[16];
        int n = proto_frame_encode(WANT[i].kind, PROTO_CH_STDOUT, (const uint8_t *)"hi\n", 3, out,
                                   sizeof(out));
        assert_int_equal(n, WANT[i].len);
        assert_int_equal(proto_frame_size(WANT[i].kind, 3), WANT[i].len);
        assert_memory_equal(out, WANT[i].wire, WANT[i].len);
    }
}

static void test_frame_channels(void **state)
{
    uint8_t out[32];
    assert_int_equal(proto_frame_encode(PROTO_KIND_V4, 2, (const uint8_t *)"e", 1, out, 32), 2);
    assert_memory_equal(out,
                        "\x02"
                        "e",
                        2);
    assert_int_equal(proto_frame_encode(PROTO_KIND_BASE64, 2, (const uint8_t *)"e", 1, out, 32), 5);
    assert_memory_equal(out, "2ZQ==", 5);
    /* PROTOCOL.md 3.3: stdout "\n" is "1Cg=="; a status on 3 */
    assert_int_equal(proto_frame_encode(PROTO_KIND_BASE64, 1, (const uint8_t *)"\n", 1, out, 32),
                     5);
    assert_memory_equal(out, "1Cg==", 5);
    assert_int_equal(
        proto_frame_encode(PROTO_KIND_V4_BASE64, 3, (const uint8_t *)"foo\n", 4, out, 32), 9);
    assert_memory_equal(out, "3Zm9vCg==", 9);
    /* binary payload bytes pass untouched, 0x00 and 0xFF included */
    assert_int_equal(proto_frame_encode(PROTO_KIND_V5, 1, (const uint8_t *)"\x00\xff", 2, out, 32),
                     3);
    assert_memory_equal(out, "\x01\x00\xff", 3);
    assert_int_equal(
        proto_frame_encode(PROTO_KIND_V4_BASE64, 1, (const uint8_t *)"\x00\xff", 2, out, 32), 5);
    assert_memory_equal(out, "1AP8=", 5);
}

/* PROTOCOL.md 3.4: the one empty message sent first. */
static void test_frame_initial(void **state)
{
    uint8_t buf[8];
    assert_int_equal(proto_frame_encode_inplace(PROTO_KIND_V5, 1, buf, 0), 1);
    assert_int_equal(buf[0], 0x01);
    assert_int_equal(proto_frame_encode_inplace(PROTO_KIND_CHANNEL, 2, buf, 0), 1);
    assert_int_equal(buf[0], 0x02);
    assert_int_equal(proto_frame_encode_inplace(PROTO_KIND_NONE, 3, buf, 0), 1);
    assert_int_equal(buf[0], 0x03);
    assert_int_equal(proto_frame_encode_inplace(PROTO_KIND_BASE64, 1, buf, 0), 1);
    assert_int_equal(buf[0], '1');
    assert_int_equal(proto_frame_encode_inplace(PROTO_KIND_V4_BASE64, 3, buf, 0), 1);
    assert_int_equal(buf[0], '3');
    assert_int_equal(proto_frame_encode(PROTO_KIND_BASE64, 1, NULL, 0, buf, 1), 1);
    assert_int_equal(buf[0], '1');
}

static void test_frame_space(void **state)
{
    uint8_t out[16];
    for (int k = 0; k < PROTO_KIND_COUNT; k++) {
        size_t need = proto_frame_size((enum proto_kind)k, 5);
        assert_int_equal(
            proto_frame_encode((enum proto_kind)k, 1, (const uint8_t *)"hello", 5, out, need - 1),
            PROTO_ERR_SPACE);
        assert_int_equal(
            proto_frame_encode((enum proto_kind)k, 1, (const uint8_t *)"hello", 5, out, need),
            (int)need);
        assert_int_equal(proto_frame_encode((enum proto_kind)k, 1, NULL, 0, out, 0),
                         PROTO_ERR_SPACE);
    }
    assert_int_equal(proto_frame_size(PROTO_KIND_BASE64, 0), 1);
    assert_int_equal(proto_frame_size(PROTO_KIND_BASE64, 1), 5);
    assert_int_equal(proto_frame_size(PROTO_KIND_BASE64, 3), 5);
    assert_int_equal(proto_frame_size(PROTO_KIND_BASE64, 4), 9);
    assert_int_equal(proto_frame_size(PROTO_KIND_V5, 0), 1);
}

/* Fill payload with a fixed pseudo-random sequence covering all byte values. */
static void fill_bytes(uint8_t *p, size_t n, uint32_t seed)
{
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        p[i] = (uint8_t)(seed >> 16);
    }
}

/* The stdout frame as PROTOCOL.md 3.2-3.3 spells it, written here without the
 * code under test: channel byte 1 and the raw payload, or '1' and the payload
 * in padded standard base64 (RFC 4648 section 4, taken 6 bits at a time). */
static size_t want_frame(enum proto_kind kind, const uint8_t *payload, size_t len, uint8_t *out)
{
    static const char ALPHABET[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    if (kind != PROTO_KIND_BASE64 && kind != PROTO_KIND_V4_BASE64) {
        out[0] = 0x01;
        memcpy(out + 1, payload, len);
        return 1 + len;
    }
    size_t o = 0;
    out[o++] = '1';
    for (size_t bit = 0; bit < len * 8; bit += 6) {
        unsigned v = 0;
        for (size_t b = bit; b < bit + 6; b++) {
            unsigned one = b < len * 8 ? (payload[b / 8] >> (7 - b % 8)) & 1u : 0u;
            v = v << 1 | one;
        }
        out[o++] = (uint8_t)ALPHABET[v];
    }
    while ((o - 1) % 4 != 0)
        out[o++] = '=';
    return o;
}

static void inplace_check(enum proto_kind kind, const uint8_t *payload, size_t len, uint8_t *ref,
                          uint8_t *buf, size_t cap)
{
    size_t want = want_frame(kind, payload, len, ref);
    int n = proto_frame_encode(kind, 1, payload, len, buf, cap);
    assert_int_equal(n, (int)want);
    assert_memory_equal(buf, ref, want);
    assert_int_equal(proto_frame_size(kind, len), want);
    size_t head = proto_frame_head(kind, len);
    assert_int_equal(head, 1); /* the payload sits right after the prefix */
    memset(buf, 0xee, cap);
    memcpy(buf + head, payload, len);
    size_t m = proto_frame_encode_inplace(kind, 1, buf, len);
    assert_int_equal(m, want);
    assert_memory_equal(buf, ref, m);
    if (m < cap)
        assert_int_equal(buf[m], 0xee); /* nothing written past the frame */
}

/* A few frames as literal bytes, so the reference above is itself checked. */
static void test_frame_inplace_literal(void **state)
{
    static const struct {
        enum proto_kind kind;
        const char *payload;
        size_t len;
        const char *wire;
        size_t wire_len;
    } CASES[] = {
        {PROTO_KIND_BASE64, "", 0, "1", 1},
        {PROTO_KIND_BASE64, "hi\n", 3, "1aGkK", 5},
        {PROTO_KIND_V4_BASE64, "\xfb\xff\xbf\x00", 4, "1+/+/AA==", 9},
        {PROTO_KIND_V4_BASE64, "foobar", 6, "1Zm9vYmFy", 9},
        {PROTO_KIND_V5, "\x00\xff", 2, "\x01\x00\xff", 3},
        {PROTO_KIND_NONE, "", 0, "\x01", 1},
    };
    for (size_t i = 0; i < sizeof(CASES) / sizeof(CASES[0]); i++) {
        uint8_t buf[16], ref[16];
        assert_int_equal(
            want_frame(CASES[i].kind, (const uint8_t *)CASES[i].payload, CASES[i].len, ref),
            CASES[i].wire_len);
        assert_memory_equal(ref, CASES[i].wire, CASES[i].wire_len);
        memset(buf, 0xee, sizeof(buf));
        memcpy(buf + 1, CASES[i].payload, CASES[i].len);
        assert_int_equal(proto_frame_encode_inplace(CASES[i].kind, 1, buf, CASES[i].len),
                         CASES[i].wire_len);
        assert_memory_equal(buf, CASES[i].wire, CASES[i].wire_len);
        assert_int_equal(buf[CASES[i].wire_len], 0xee);
    }
}

static void test_frame_inplace_all_lengths(void **state)
{
    uint8_t payload[INPLACE_LEN_MAX], ref[INPLACE_LEN_MAX * 2], buf[INPLACE_LEN_MAX * 2];
    for (size_t len = 0; len <= INPLACE_LEN_MAX; len++) {
        fill_bytes(payload, len, (uint32_t)len);
        for (int k = 0; k < PROTO_KIND_COUNT; k++)
            inplace_check((enum proto_kind)k, payload, len, ref, buf, sizeof(buf));
    }
}

static void test_frame_inplace_session_size(void **state)
{
    size_t cap = proto_frame_size(PROTO_KIND_BASE64, SESSION_LIKE_PAYLOAD);
    uint8_t *payload = malloc(SESSION_LIKE_PAYLOAD), *ref = malloc(cap + 1), *buf = malloc(cap + 1);
    assert_non_null(payload && ref && buf);
    fill_bytes(payload, SESSION_LIKE_PAYLOAD, 7);
    for (size_t len = SESSION_LIKE_PAYLOAD - 3; len <= SESSION_LIKE_PAYLOAD; len++) {
        inplace_check(PROTO_KIND_BASE64, payload, len, ref, buf, cap + 1);
        inplace_check(PROTO_KIND_V5, payload, len, ref, buf, cap + 1);
    }
    free(payload);
    free(ref);
    free(buf);
}

/* RFC 4648 section 10. */
static const char *const RFC_PLAIN[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
static const char *const RFC_B64[] = {"",         "Zg==",     "Zm8=",    "Zm9v",
                                      "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};

static void test_base64_vectors(void **state)
{
    for (size_t i = 0; i < sizeof(RFC_PLAIN) / sizeof(RFC_PLAIN[0]); i++) {
        char enc[16];
        uint8_t dec[16];
        size_t n = proto_base64_encode((const uint8_t *)RFC_PLAIN[i], strlen(RFC_PLAIN[i]), enc);
        assert_int_equal(n, strlen(RFC_B64[i]));
        assert_memory_equal(enc, RFC_B64[i], n);
        int m = proto_base64_decode(RFC_B64[i], n, dec, sizeof(dec));
        assert_int_equal(m, strlen(RFC_PLAIN[i]));
        assert_memory_equal(dec, RFC_PLAIN[i], (size_t)m);
    }
    char enc[8];
    assert_int_equal(proto_base64_encode((const uint8_t *)"\xfb\xff\xbf", 3, enc), 4);
    assert_memory_equal(enc, "+/+/", 4); /* the standard alphabet's last two */
}

static void test_base64_decode_invalid(void **state)
{
    static const char *const BAD[] = {
        "Zg=",  "Zg",     "Z",          "Zm9vCg=", "Zm9v!g==",    "Zg==Zg==",
        "Z===", "====",   "=Zg=",       "Zg=a",    "Zm9-",        "Zm9_",
        "Zm 9", "Zm9v\n", "Zm9vCg\r\n", "\x80Zg=", "Zm9vYg=\x00",
    };
    for (size_t i = 0; i < sizeof(BAD) / sizeof(BAD[0]); i++) {
        uint8_t out[16];
        size_t len = strlen(BAD[i]) + (i == sizeof(BAD) / sizeof(BAD[0]) - 1);
        if (proto_base64_decode(BAD[i], len, out, sizeof(out)) != -1)
            fail_msg("\"%s\" decoded", BAD[i]);
    }
}

static void test_base64_decode_edges(void **state)
{
    uint8_t out[8];
    /* Go's StdEncoding (what the apiserver uses) ignores stray low bits */
    assert_int_equal(proto_base64_decode("Zh==", 4, out, sizeof(out)), 1);
    assert_int_equal(out[0], 'f');
    assert_int_equal(proto_base64_decode("Zm9=", 4, out, sizeof(out)), 2);
    assert_memory_equal(out, "fo", 2);
    /* exactly the room needed, then one byte short */
    assert_int_equal(proto_base64_decode("Zm9vYmFy", 8, out, 6), 6);
    assert_int_equal(proto_base64_decode("Zm9vYmFy", 8, out, 5), -1);
    assert_int_equal(proto_base64_decode("", 0, out, 0), 0);
}

static void test_base64_round_trip(void **state)
{
    uint8_t raw[256], dec[256];
    char enc[400];
    for (size_t len = 0; len <= sizeof(raw); len++) {
        fill_bytes(raw, len, (uint32_t)len * 31u);
        size_t n = proto_base64_encode(raw, len, enc);
        assert_int_equal(n, (len + 2) / 3 * 4);
        assert_int_equal(proto_base64_decode(enc, n, dec, sizeof(dec)), (int)len);
        assert_memory_equal(dec, raw, len);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_frame_every_kind),
        cmocka_unit_test(test_frame_channels),
        cmocka_unit_test(test_frame_initial),
        cmocka_unit_test(test_frame_space),
        cmocka_unit_test(test_frame_inplace_literal),
        cmocka_unit_test(test_frame_inplace_all_lengths),
        cmocka_unit_test(test_frame_inplace_session_size),
        cmocka_unit_test(test_base64_vectors),
        cmocka_unit_test(test_base64_decode_invalid),
        cmocka_unit_test(test_base64_decode_edges),
        cmocka_unit_test(test_base64_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
