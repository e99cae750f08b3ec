/* test_spdy_headers.c - SPDY/3 header blocks (src/spdy/spdy_headers.h): the
 * dictionary, blocks compressed by other implementations (kubectl's own
 * SYN_STREAMs, and Python's zlib), our blocks read back by a plain zlib
 * inflate with the dictionary, the pair rules, and the bounds (zip bombs,
 * counts, a context that breaks). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "spdy/spdy_headers.h"

/* The header blocks of the four SYN_STREAMs kubectl (v1.32 falling back to
 * SPDY, spdystream's compressor) sent for `exec -i p -- cat`, captured from
 * a real run: streamtype error, stdin, stdout, stderr, one shared context. */
static const uint8_t KUBECTL_BLOCKS[4][32] = {
    {0x78, 0xf9, 0xe3, 0xc6, 0xa7, 0xc2, 0x62, 0x60, 0x60, 0x60, 0x04, 0xa7, 0xb3, 0x92, 0xa2, 0xd4,
     0xc4, 0x5c, 0x68, 0x51, 0xc2, 0x9a, 0x0a, 0x0a, 0x68, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff},
    {0xc2, 0x2e, 0x55, 0x5c, 0x92, 0x92, 0x99, 0x07, 0x00, 0x00, 0x00, 0xff, 0xff},
    {0xc2, 0x2a, 0xc5, 0x56, 0x5c, 0x92, 0x92, 0x5f, 0x5a, 0x02, 0x00, 0x00, 0x00, 0xff, 0xff},
    {0xc2, 0x29, 0x97, 0x5a, 0x54, 0x04, 0x00, 0x00, 0x00, 0xff, 0xff},
};
static const size_t KUBECTL_LENS[4] = {31, 13, 15, 11};
static const char *const KUBECTL_TYPES[4] = {"error", "stdin", "stdout", "stderr"};

static struct spdy_inflater *inflater_new(void)
{
    struct spdy_inflater *in = malloc(sizeof(*in));
    assert_int_equal(spdy_inflater_init(in), SPDY_OK);
    return in;
}

static void inflater_free(struct spdy_inflater *in)
{
    spdy_inflater_end(in);
    free(in);
}

/* The dictionary: its length, adler32 (the id a zlib stream names it by),
 * and both ends as the spec prints them. */
static void test_headers_dictionary(void **state)
{
    assert_int_equal(SPDY_DICT_LEN, 1423);
    assert_int_equal(adler32(1, spdy_dict, SPDY_DICT_LEN), SPDY_DICT_ADLER);
    assert_memory_equal(spdy_dict, "\0\0\0\x07options\0\0\0\x04head", 19);
    assert_memory_equal(spdy_dict + SPDY_DICT_LEN - 32, "charset=iso-8859-1,utf-,*,enq=0.", 32);
}

static void test_headers_kubectl_blocks(void **state)
{
    struct spdy_inflater *in = inflater_new();
    struct spdy_headers h;
    for (int i = 0; i < 4; i++) {
        assert_int_equal(spdy_inflater_block(in, KUBECTL_BLOCKS[i], KUBECTL_LENS[i], &h), SPDY_OK);
        assert_int_equal(h.n, 1);
        const struct spdy_nv *nv = spdy_headers_get(&h, "streamtype");
        assert_non_null(nv);
        assert_int_equal(nv->value_len, strlen(KUBECTL_TYPES[i]));
        assert_memory_equal(nv->value, KUBECTL_TYPES[i], nv->value_len);
    }
    /* the blocks only make sense in order: the second alone has no dictionary */
    inflater_free(in);
    in = inflater_new();
    assert_int_equal(spdy_inflater_block(in, KUBECTL_BLOCKS[1], KUBECTL_LENS[1], &h),
                     SPDY_ERR_COMPRESSION);
    assert_int_equal(h.n, 0);
    /* and a broken context stays broken */
    assert_int_equal(spdy_inflater_block(in, KUBECTL_BLOCKS[0], KUBECTL_LENS[0], &h),
                     SPDY_ERR_COMPRESSION);
    inflater_free(in);
}

/* Python's zlib (compressobj with zdict, level 9, sync flush): two empty
 * blocks then {"status": "200 OK"}, one context. */
static void test_headers_python_blocks(void **state)
{
    static const uint8_t b0[] = {0x78, 0xf9, 0xe3, 0xc6, 0xa7, 0xc2, 0x02, 0xa6,
                                 0x23, 0x06, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff};
    static const uint8_t b1[] = {0x02, 0x01, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff};
    static const uint8_t b2[] = {0x02, 0x02, 0x46, 0x6c, 0x69, 0x15, 0x00, 0x00, 0x00, 0xff, 0xff};
    struct spdy_inflater *in = inflater_new();
    struct spdy_headers h;
    assert_int_equal(spdy_inflater_block(in, b0, sizeof(b0), &h), SPDY_OK);
    assert_int_equal(h.n, 0);
    assert_int_equal(spdy_inflater_block(in, b1, sizeof(b1), &h), SPDY_OK);
    assert_int_equal(h.n, 0);
    assert_int_equal(spdy_inflater_block(in, b2, sizeof(b2), &h), SPDY_OK);
    assert_int_equal(h.n, 1);
    assert_int_equal(h.nv[0].value_len, 6);
    assert_memory_equal(h.nv[0].name, "status", 6);
    assert_memory_equal(h.nv[0].value, "200 OK", 6);
    inflater_free(in);
}

/* What we compress, a plain zlib inflate with the dictionary reads (the
 * way Go's zlib.NewReaderDict does), and so does our inflater. */
static void test_headers_roundtrip(void **state)
{
    struct spdy_deflater *d = malloc(sizeof(*d));
    assert_int_equal(spdy_deflater_init(d), SPDY_OK);
    struct spdy_inflater *in = inflater_new();
    z_stream z = {0};
    assert_int_equal(inflateInit(&z), Z_OK);
    static const char multi[] = "a\0bb\0ccc";
    const struct spdy_nv set[][3] = {
        {{"streamtype", 10, "error", 5}},
        {{"streamtype", 10, "stdin", 5}, {"x-multi", 7, multi, 8}, {"empty", 5, "", 0}},
        {{"streamtype", 10, "resize", 6}},
    };
    const size_t counts[] = {1, 3, 1};
    for (int i = 0; i < 3; i++) {
        uint8_t block[512], plain[512], want[512];
        int n = spdy_deflater_block(d, set[i], counts[i], block, sizeof(block));
        assert_true(n > 0);
        int wn = spdy_headers_serialize(set[i], counts[i], want, sizeof(want));
        assert_true(wn > 0);
        z.next_in = block;
        z.avail_in = (uInt)n;
        z.next_out = plain;
        z.avail_out = sizeof(plain);
        int rc = inflate(&z, Z_SYNC_FLUSH);
        if (rc == Z_NEED_DICT) {
            assert_int_equal(z.adler, SPDY_DICT_ADLER);
            assert_int_equal(inflateSetDictionary(&z, spdy_dict, SPDY_DICT_LEN), Z_OK);
            rc = inflate(&z, Z_SYNC_FLUSH);
        }
        assert_int_equal(rc, Z_OK);
        assert_int_equal(z.avail_in, 0);
        assert_int_equal(sizeof(plain) - z.avail_out, (size_t)wn);
        assert_memory_equal(plain, want, (size_t)wn);
        struct spdy_headers h;
        assert_int_equal(spdy_inflater_block(in, block, (size_t)n, &h), SPDY_OK);
        assert_int_equal(h.n, counts[i]);
        for (size_t k = 0; k < counts[i]; k++) {
            assert_int_equal(h.nv[k].value_len, set[i][k].value_len);
            assert_memory_equal(h.nv[k].value, set[i][k].value, set[i][k].value_len);
        }
    }
    /* exact plain bytes of one pair: 32-bit count and lengths */
    uint8_t plain[64];
    assert_int_equal(spdy_headers_serialize(set[0], 1, plain, sizeof(plain)), 27);
    assert_memory_equal(plain,
                        "\0\0\0\x01\0\0\0\x0astreamtype\0\0\0\x05"
                        "error",
                        27);
    inflateEnd(&z);
    inflater_free(in);
    spdy_deflater_end(d);
    free(d);
}

static int parse_bytes(const char *b, size_t len)
{
    struct spdy_headers h;
    return spdy_headers_parse((const uint8_t *)b, len, &h);
}

/* The pair rules, on plain blocks. */
static void test_headers_rules(void **state)
{
#define P(lit) parse_bytes(lit, sizeof(lit) - 1)
    assert_int_equal(P("\0\0\0\x01\0\0\0\x01"
                       "a\0\0\0\x01"
                       "b"),
                     SPDY_OK);
    assert_int_equal(P("\0\0\0\0"), SPDY_OK);
    /* uppercase name, empty name, control byte in a name */
    assert_int_equal(P("\0\0\0\x01\0\0\0\x01"
                       "A\0\0\0\x01"
                       "b"),
                     SPDY_ERR_HEADERS);
    assert_int_equal(P("\0\0\0\x01\0\0\0\0\0\0\0\x01"
                       "b"),
                     SPDY_ERR_HEADERS);
    assert_int_equal(P("\0\0\0\x01\0\0\0\x01\x01\0\0\0\x01"
                       "b"),
                     SPDY_ERR_HEADERS);
    /* the same name twice */
    assert_int_equal(P("\0\0\0\x02\0\0\0\x01"
                       "a\0\0\0\x01"
                       "b\0\0\0\x01"
                       "a\0\0\0\x01"
                       "c"),
                     SPDY_ERR_HEADERS);
    /* NUL-separated values: none at the ends, no two in a row */
    assert_int_equal(P("\0\0\0\x01\0\0\0\x01"
                       "a\0\0\0\x03"
                       "b\0c"),
                     SPDY_OK);
    assert_int_equal(P("\0\0\0\x01\0\0\0\x01"
                       "a\0\0\0\x02\0c"),
                     SPDY_ERR_HEADERS);
    assert_int_equal(P("\0\0\0\x01\0\0\0\x01"
                       "a\0\0\0\x02"
                       "c\0"),
                     SPDY_ERR_HEADERS);
    assert_int_equal(P("\0\0\0\x01\0\0\0\x01"
                       "a\0\0\0\x04"
                       "b\0\0c"),
                     SPDY_ERR_HEADERS);
    /* lengths past the end, bytes after the last pair, a short count */
    assert_int_equal(P("\0\0\0\x01\0\0\0\x09"
                       "a\0\0\0\x01"
                       "b"),
                     SPDY_ERR_HEADERS);
    assert_int_equal(P("\0\0\0\x01\xff\xff\xff\xff"
                       "a"),
                     SPDY_ERR_HEADERS);
    assert_int_equal(P("\0\0\0\x01\0\0\0\x01"
                       "a\0\0\0\x01"
                       "bX"),
                     SPDY_ERR_HEADERS);
    assert_int_equal(P("\0\0\0"), SPDY_ERR_HEADERS);
    assert_int_equal(P("\0\0\0\x02\0\0\0\x01"
                       "a\0\0\0\x01"
                       "b"),
                     SPDY_ERR_HEADERS);
#undef P
    /* more than SPDY_HEADERS_MAX pairs */
    uint8_t many[4 + (SPDY_HEADERS_MAX + 1) * 12];
    size_t pos = 4;
    many[0] = many[1] = many[2] = 0;
    many[3] = SPDY_HEADERS_MAX + 1;
    for (int i = 0; i <= SPDY_HEADERS_MAX; i++) {
        memcpy(many + pos, "\0\0\0\x03", 4);
        snprintf((char *)many + pos + 4, 4, "%03d", i);
        memcpy(many + pos + 7, "\0\0\0\x01v", 5);
        pos += 12;
    }
    struct spdy_headers h;
    assert_int_equal(spdy_headers_parse(many, pos, &h), SPDY_ERR_HEADERS);
    many[3] = SPDY_HEADERS_MAX;
    assert_int_equal(spdy_headers_parse(many, pos - 12, &h), SPDY_OK);
    assert_int_equal(h.n, SPDY_HEADERS_MAX);
    /* the serializer refuses what the parser would */
    const struct spdy_nv bad[] = {{"Streamtype", 10, "x", 1}};
    uint8_t out[64];
    assert_int_equal(spdy_headers_serialize(bad, 1, out, sizeof(out)), SPDY_ERR_HEADERS);
    const struct spdy_nv dup[] = {{"a", 1, "x", 1}, {"a", 1, "y", 1}};
    assert_int_equal(spdy_headers_serialize(dup, 2, out, sizeof(out)), SPDY_ERR_HEADERS);
    const struct spdy_nv big[] = {
        {"a", 1, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 60}};
    assert_int_equal(spdy_headers_serialize(big, 1, out, sizeof(out)), SPDY_ERR_SPACE);
}

/* A zip bomb: 10 MB of zeros, compressed with the dictionary, in one block.
 * It stops at the bound (the ratio's, since the block is small), having
 * written no more than the inflater's fixed buffer. */
static void test_headers_zip_bomb(void **state)
{
    size_t plain_len = 10 * 1000 * 1000;
    uint8_t *plain = calloc(1, plain_len);
    /* a count of 1 and a name length of 0x00ffffff, then zeros */
    plain[3] = 1;
    plain[5] = plain[6] = plain[7] = 0xff;
    size_t cap = plain_len / 100;
    uint8_t *block = malloc(cap);
    z_stream z = {0};
    assert_int_equal(deflateInit(&z, 9), Z_OK);
    assert_int_equal(deflateSetDictionary(&z, spdy_dict, SPDY_DICT_LEN), Z_OK);
    z.next_in = plain;
    z.avail_in = (uInt)plain_len;
    z.next_out = block;
    z.avail_out = (uInt)cap;
    assert_int_equal(deflate(&z, Z_SYNC_FLUSH), Z_OK);
    size_t blen = cap - z.avail_out;
    deflateEnd(&z);
    assert_true(blen < 16 * 1024); /* it fits a control frame */
    struct spdy_inflater *in = inflater_new();
    struct spdy_headers h;
    assert_int_equal(spdy_inflater_block(in, block, blen, &h), SPDY_ERR_COMPRESSION);
    assert_int_equal(h.n, 0);
    /* how far it got: the ratio's bound for this many input bytes */
    size_t limit = blen * SPDY_INFLATE_RATIO;
    if (limit < SPDY_INFLATE_FLOOR)
        limit = SPDY_INFLATE_FLOOR;
    if (limit > SPDY_HEADER_BLOCK_MAX)
        limit = SPDY_HEADER_BLOCK_MAX;
    assert_int_equal(in->z.total_out, limit);
    inflater_free(in);
    free(block);
    free(plain);
}

/* A block that inflates but breaks the pair rules costs only itself: the
 * context goes on (kubectl's next block still decodes). */
static void test_headers_bad_pairs_keep_context(void **state)
{
    struct spdy_deflater *d = malloc(sizeof(*d));
    assert_int_equal(spdy_deflater_init(d), SPDY_OK);
    struct spdy_inflater *in = inflater_new();
    /* an uppercase name, compressed by hand through the deflater's zlib */
    static const uint8_t plain[] = "\0\0\0\x01\0\0\0\x01X\0\0\0\x01y";
    uint8_t block[128];
    d->z.next_in = (Bytef *)plain;
    d->z.avail_in = sizeof(plain) - 1;
    d->z.next_out = block;
    d->z.avail_out = sizeof(block);
    assert_int_equal(deflate(&d->z, Z_SYNC_FLUSH), Z_OK);
    struct spdy_headers h;
    assert_int_equal(spdy_inflater_block(in, block, sizeof(block) - d->z.avail_out, &h),
                     SPDY_ERR_HEADERS);
    const struct spdy_nv ok[] = {{"streamtype", 10, "stdout", 6}};
    int n = spdy_deflater_block(d, ok, 1, block, sizeof(block));
    assert_true(n > 0);
    assert_int_equal(spdy_inflater_block(in, block, (size_t)n, &h), SPDY_OK);
    assert_int_equal(h.n, 1);
    /* garbage breaks it; an empty block is garbage too */
    assert_int_equal(spdy_inflater_block(in, (const uint8_t *)"\xff\xff\xff", 3, &h),
                     SPDY_ERR_COMPRESSION);
    assert_int_equal(spdy_inflater_block(in, block, (size_t)n, &h), SPDY_ERR_COMPRESSION);
    inflater_free(in);
    in = inflater_new();
    assert_int_equal(spdy_inflater_block(in, block, 0, &h), SPDY_ERR_COMPRESSION);
    inflater_free(in);
    spdy_deflater_end(d);
    free(d);
}

/* Every refusal of spdy_headers_serialize and spdy_headers_parse, one at a
 * time: a count over SPDY_HEADERS_MAX, a buffer too small for the count or a
 * pair, names that are empty, uppercase or not visible ASCII, values with a
 * NUL at an end or two in a row, a name twice, lengths past the block, bytes
 * after the last pair; and a lookup of an absent name. */
static void test_headers_each_refusal(void **state)
{
    (void)state;
    uint8_t out[256];
    struct spdy_nv many[SPDY_HEADERS_MAX + 1];
    for (size_t i = 0; i < SPDY_HEADERS_MAX + 1; i++)
        many[i] = (struct spdy_nv){"a", 1, "b", 1};
    assert_int_equal(spdy_headers_serialize(many, SPDY_HEADERS_MAX + 1, out, sizeof(out)),
                     SPDY_ERR_HEADERS);
    struct spdy_nv ok = {"streamtype", 10, "stdin", 5};
    assert_int_equal(spdy_headers_serialize(&ok, 1, out, 3), SPDY_ERR_SPACE);
    assert_int_equal(spdy_headers_serialize(&ok, 1, out, 20), SPDY_ERR_SPACE);
    assert_int_equal(spdy_headers_serialize(&ok, 1, out, 8), SPDY_ERR_SPACE);
    static const struct spdy_nv bad[] = {
        {"", 0, "v", 1},    {"Upper", 5, "v", 1}, {"sp ace", 6, "v", 1},
        {"x", 1, "\0v", 2}, {"x", 1, "v\0", 2},   {"x", 1, "a\0\0b", 4},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(spdy_headers_serialize(&bad[i], 1, out, sizeof(out)), SPDY_ERR_HEADERS);
    struct spdy_nv twice[2] = {{"x", 1, "a", 1}, {"x", 1, "b", 1}};
    assert_int_equal(spdy_headers_serialize(twice, 2, out, sizeof(out)), SPDY_ERR_HEADERS);

    struct spdy_headers h;
    int n = spdy_headers_serialize(&ok, 1, out, sizeof(out));
    assert_int_equal(n, 4 + 4 + 10 + 4 + 5);
    assert_int_equal(spdy_headers_parse(out, (size_t)n, &h), SPDY_OK);
    assert_non_null(spdy_headers_get(&h, "streamtype"));
    assert_null(spdy_headers_get(&h, "streamtyp"));
    assert_null(spdy_headers_get(&h, "other"));
    assert_int_equal(spdy_headers_parse(out, 3, &h), SPDY_ERR_HEADERS);             /* no count */
    assert_int_equal(spdy_headers_parse(out, (size_t)n - 1, &h), SPDY_ERR_HEADERS); /* cut */
    out[n] = 0;
    assert_int_equal(spdy_headers_parse(out, (size_t)n + 1, &h), SPDY_ERR_HEADERS); /* trailing */
    static const uint8_t over[4] = {0, 0, 0, SPDY_HEADERS_MAX + 1};
    assert_int_equal(spdy_headers_parse(over, sizeof(over), &h), SPDY_ERR_HEADERS);
    int m = spdy_headers_serialize(twice, 1, out, sizeof(out));
    assert_true(m > 0);
    memcpy(out + m, out + 4, (size_t)m - 4); /* the same pair again */
    out[3] = 2;
    assert_int_equal(spdy_headers_parse(out, (size_t)(2 * m - 4), &h), SPDY_ERR_HEADERS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_headers_dictionary),
        cmocka_unit_test(test_headers_kubectl_blocks),
        cmocka_unit_test(test_headers_python_blocks),
        cmocka_unit_test(test_headers_roundtrip),
        cmocka_unit_test(test_headers_rules),
        cmocka_unit_test(test_headers_zip_bomb),
        cmocka_unit_test(test_headers_bad_pairs_keep_context),
        cmocka_unit_test(test_headers_each_refusal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
