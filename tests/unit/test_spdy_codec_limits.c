/* test_spdy_codec_limits.c - the SPDY codecs' limits, each on its own:
 * frame writers refuse a buffer too small or a length past 24 bits
 * (src/spdy/spdy_frame.c); the header block serializer refuses names
 * outside printable lower-case ASCII and pairs longer than the buffer; the
 * inflater refuses a block made with another dictionary, one past the
 * 24-bit length, and every block after a broken one; a block big enough
 * for the ratio bound to pass the floor still inflates; the deflater
 * refuses every block once one did not fit, and after its end
 * (src/spdy/spdy_headers.c); the upgrade head reader stops at a line with
 * no end (src/spdy/spdy_upgrade.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "spdy/spdy_frame.h"
#include "spdy/spdy_headers.h"
#include "spdy/spdy_upgrade.h"

static void test_writers_refuse(void **state)
{
    uint8_t out[64];
    static const uint8_t block[4] = {1, 2, 3, 4};
    assert_int_equal(spdy_write_control_head(out, 7, SPDY_PING, 0, 4), SPDY_ERR_SPACE);
    assert_int_equal(spdy_write_control_head(out, 8, SPDY_PING, 0, SPDY_LENGTH_MAX + 1),
                     SPDY_ERR_SPACE);
    assert_int_equal(spdy_write_control_head(out, 8, SPDY_PING, 0, SPDY_LENGTH_MAX), 8);
    assert_memory_equal(out, "\x80\x03\x00\x06\x00\xff\xff\xff", 8);
    assert_int_equal(spdy_write_data_head(out, 7, 1, 0, 4), SPDY_ERR_SPACE);
    assert_int_equal(spdy_write_data_head(out, 8, 1, 0, SPDY_LENGTH_MAX + 1), SPDY_ERR_SPACE);
    /* SYN_STREAM: head 8 + 10 + block */
    assert_int_equal(spdy_write_syn_stream(out, 21, 0, 1, 0, 0, block, 4), SPDY_ERR_SPACE);
    assert_int_equal(spdy_write_syn_stream(out, 22, 0, 1, 0, 7, block, 4), 22);
    assert_memory_equal(out,
                        "\x80\x03\x00\x01\x00\x00\x00\x0e\x00\x00\x00\x01\x00\x00\x00\x00"
                        "\xe0\x00\x01\x02\x03\x04",
                        22);
    assert_int_equal(spdy_write_syn_stream(out, sizeof(out), 0, 1, 0, 0, block, SPDY_LENGTH_MAX),
                     SPDY_ERR_SPACE);
    assert_int_equal(spdy_write_syn_reply(out, 15, 0, 1, block, 4), SPDY_ERR_SPACE);
    assert_int_equal(spdy_write_headers(out, sizeof(out), 0, 1, block, SPDY_LENGTH_MAX),
                     SPDY_ERR_SPACE);
    assert_int_equal(spdy_write_rst_stream(out, 15, 1, 1), SPDY_ERR_SPACE);
    assert_int_equal(spdy_write_ping(out, 11, 1), SPDY_ERR_SPACE);
    assert_int_equal(spdy_write_goaway(out, 15, 1, 0), SPDY_ERR_SPACE);
    assert_int_equal(spdy_write_window_update(out, 15, 1, 1), SPDY_ERR_SPACE);
    assert_int_equal(spdy_write_settings_one(out, 19, 0, 7, 1), SPDY_ERR_SPACE);
}

static void test_serialize_refuses(void **state)
{
    uint8_t out[64];
    struct spdy_nv high = {"n\x80me", 4, "v", 1};
    struct spdy_nv del = {"n\x7f", 2, "v", 1};
    struct spdy_nv upper = {"Name", 4, "v", 1};
    assert_int_equal(spdy_headers_serialize(&high, 1, out, sizeof(out)), SPDY_ERR_HEADERS);
    assert_int_equal(spdy_headers_serialize(&del, 1, out, sizeof(out)), SPDY_ERR_HEADERS);
    assert_int_equal(spdy_headers_serialize(&upper, 1, out, sizeof(out)), SPDY_ERR_HEADERS);
    /* a name or a value longer than the whole buffer, and a pair that does
     * not fit what is left */
    char big[100];
    memset(big, 'a', sizeof(big));
    struct spdy_nv long_name = {big, sizeof(big), "v", 1};
    struct spdy_nv long_value = {"n", 1, big, sizeof(big)};
    struct spdy_nv fits[2] = {{"a", 1, big, 40}, {"b", 1, big, 20}};
    assert_int_equal(spdy_headers_serialize(&long_name, 1, out, sizeof(out)), SPDY_ERR_SPACE);
    assert_int_equal(spdy_headers_serialize(&long_value, 1, out, sizeof(out)), SPDY_ERR_SPACE);
    assert_int_equal(spdy_headers_serialize(fits, 1, out, sizeof(out)), 4 + 8 + 1 + 40);
    assert_int_equal(spdy_headers_serialize(fits, 2, out, sizeof(out)), SPDY_ERR_SPACE);
    assert_int_equal(spdy_headers_serialize(NULL, 0, out, 3), SPDY_ERR_SPACE);
}

/* A block compressed with a preset dictionary other than SPDY's: its
 * dictionary id is not SPDY's, a compression error; the inflater is then
 * broken for good (its context lost), even for a good block. */
static void test_inflate_other_dictionary(void **state)
{
    struct spdy_inflater in;
    struct spdy_headers h;
    assert_int_equal(spdy_inflater_init(&in), SPDY_OK);
    z_stream z;
    memset(&z, 0, sizeof(z));
    assert_int_equal(deflateInit(&z, Z_DEFAULT_COMPRESSION), Z_OK);
    static const uint8_t dict[] = "another dictionary altogether";
    assert_int_equal(deflateSetDictionary(&z, dict, sizeof(dict)), Z_OK);
    static const uint8_t plain[] = {0, 0, 0, 0};
    uint8_t block[128];
    z.next_in = (Bytef *)plain;
    z.avail_in = sizeof(plain);
    z.next_out = block;
    z.avail_out = sizeof(block);
    assert_int_equal(deflate(&z, Z_SYNC_FLUSH), Z_OK);
    size_t n = sizeof(block) - z.avail_out;
    deflateEnd(&z);
    assert_int_equal(spdy_inflater_block(&in, block, n, &h), SPDY_ERR_COMPRESSION);
    assert_int_equal(h.n, 0);
    /* broken: a block that a fresh inflater takes is refused */
    struct spdy_deflater d;
    assert_int_equal(spdy_deflater_init(&d), SPDY_OK);
    int good = spdy_deflater_block(&d, NULL, 0, block, sizeof(block));
    assert_true(good > 0);
    assert_int_equal(spdy_inflater_block(&in, block, (size_t)good, &h), SPDY_ERR_COMPRESSION);
    spdy_inflater_end(&in);
    assert_int_equal(spdy_inflater_init(&in), SPDY_OK);
    assert_int_equal(spdy_inflater_block(&in, block, (size_t)good, &h), SPDY_OK);
    /* a length past 24 bits is never inflated (the buffer is not read) */
    assert_int_equal(spdy_inflater_block(&in, block, (size_t)SPDY_LENGTH_MAX + 1, &h),
                     SPDY_ERR_COMPRESSION);
    spdy_inflater_end(&in);
    spdy_inflater_end(&in); /* twice: nothing */
    assert_int_equal(spdy_inflater_block(&in, block, (size_t)good, &h), SPDY_ERR_COMPRESSION);
    spdy_deflater_end(&d);
}

static uint32_t next(uint32_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 17;
    *x ^= *x << 5;
    return *x;
}

/* A block of incompressible values: over SPDY_INFLATE_FLOOR / RATIO
 * compressed bytes, so its own ratio bound applies, and it inflates whole
 * (pairs, names and values byte for byte). */
static void test_inflate_large_block(void **state)
{
    enum { PAIRS = 8, VALUE = 1000 };
    static char values[PAIRS][VALUE];
    static const char *names[PAIRS] = {"a", "b", "c", "d", "e", "f", "g", "h"};
    struct spdy_nv nv[PAIRS];
    uint32_t x = 2024;
    for (int i = 0; i < PAIRS; i++) {
        for (int k = 0; k < VALUE; k++)
            values[i][k] = (char)(0x21 + next(&x) % 94);
        nv[i] = (struct spdy_nv){names[i], 1, values[i], VALUE};
    }
    struct spdy_deflater d;
    struct spdy_inflater in;
    assert_int_equal(spdy_deflater_init(&d), SPDY_OK);
    assert_int_equal(spdy_inflater_init(&in), SPDY_OK);
    static uint8_t block[SPDY_HEADER_BLOCK_MAX];
    int n = spdy_deflater_block(&d, nv, PAIRS, block, sizeof(block));
    assert_true(n > SPDY_INFLATE_FLOOR / SPDY_INFLATE_RATIO);
    static struct spdy_headers h;
    assert_int_equal(spdy_inflater_block(&in, block, (size_t)n, &h), SPDY_OK);
    assert_int_equal(h.n, PAIRS);
    for (int i = 0; i < PAIRS; i++) {
        const struct spdy_nv *got = spdy_headers_get(&h, names[i]);
        assert_non_null(got);
        assert_int_equal(got->value_len, VALUE);
        assert_memory_equal(got->value, values[i], VALUE);
    }
    spdy_inflater_end(&in);
    spdy_deflater_end(&d);
}

/* A block that does not fit the caller's buffer breaks the deflater (part
 * of it may be in zlib's history): every later block is refused; one after
 * spdy_deflater_end too. */
static void test_deflate_broken(void **state)
{
    struct spdy_deflater d;
    assert_int_equal(spdy_deflater_init(&d), SPDY_OK);
    struct spdy_nv nv = {"streamtype", 10, "stdout", 6};
    uint8_t out[256];
    assert_int_equal(spdy_deflater_block(&d, &nv, 1, out, 4), SPDY_ERR_SPACE);
    assert_int_equal(spdy_deflater_block(&d, &nv, 1, out, sizeof(out)), SPDY_ERR_SPACE);
    spdy_deflater_end(&d);
    assert_int_equal(spdy_deflater_init(&d), SPDY_OK);
    assert_true(spdy_deflater_block(&d, &nv, 1, out, sizeof(out)) > 0);
    spdy_deflater_end(&d);
    assert_int_equal(spdy_deflater_block(&d, &nv, 1, out, sizeof(out)), SPDY_ERR_SPACE);
    spdy_deflater_end(&d); /* twice: nothing */
}

/* The upgrade head: a last line with no newline is not read (a head is
 * whole only with its CRLFs); an offer of only blanks is no version; a
 * version past the table has no name. */
static void test_upgrade_unended_lines(void **state)
{
    static const char cut[] = "POST /x HTTP/1.1\r\nUpgrade: SPDY/3.1";
    assert_false(spdy_upgrade_is_spdy(cut, sizeof(cut) - 1));
    static const char whole[] = "POST /x HTTP/1.1\r\nUpgrade: SPDY/3.1\r\n";
    assert_true(spdy_upgrade_is_spdy(whole, sizeof(whole) - 1));
    char offers[SPDY_UPGRADE_OFFER_TEXT];
    static const char unended[] =
        "POST /x HTTP/1.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io";
    assert_int_equal(spdy_upgrade_negotiate(unended, sizeof(unended) - 1, offers, sizeof(offers)),
                     SPDY_UPGRADE_NONE);
    assert_string_equal(offers, "[]");
    static const char blank[] = "POST /x HTTP/1.1\r\nX-Stream-Protocol-Version:  \t \r\n";
    assert_int_equal(spdy_upgrade_negotiate(blank, sizeof(blank) - 1, offers, sizeof(offers)),
                     SPDY_UPGRADE_NO_MATCH);
    assert_string_equal(offers, "[]");
    assert_string_equal(spdy_version_name(SPDY_VERSION_COUNT), "");
    assert_string_equal(spdy_version_name(SPDY_VERSION_V4), "v4.channel.k8s.io");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_writers_refuse),
        cmocka_unit_test(test_serialize_refuses),
        cmocka_unit_test(test_inflate_other_dictionary),
        cmocka_unit_test(test_inflate_large_block),
        cmocka_unit_test(test_deflate_broken),
        cmocka_unit_test(test_upgrade_unended_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
