/* test_record_enc_edges.c - the asciicast encoder at the edges
 * test_record_enc.c leaves: backspace and form feed get JSON's short
 * escapes; a chunk ending in the start of a character that can never be
 * well-formed (an overlong E0, a surrogate ED, F4 past U+10FFFF) is not
 * held back for the next chunk but replaced at once, one U+FFFD per byte,
 * while a good start (E0 A0) is held. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "record/record_enc.h"

#define FFFD "\xef\xbf\xbd"

struct sink {
    char buf[4096];
    size_t len;
};

static int sink_emit(void *user, const char *line, size_t len)
{
    struct sink *s = user;
    assert_true(s->len + len < sizeof(s->buf));
    memcpy(s->buf + s->len, line, len);
    s->len += len;
    s->buf[s->len] = '\0';
    return 0;
}

/* One chunk at t = 1, then the end of the streams at t = 2. */
static void assert_encoded(const char *bytes, const char *want)
{
    struct record_enc e;
    record_enc_init(&e);
    struct sink s = {0};
    assert_int_equal(record_enc_data(&e, RECORD_STREAM_STDOUT, 1, (const uint8_t *)bytes,
                                     strlen(bytes), sink_emit, &s),
                     0);
    assert_int_equal(record_enc_finish(&e, 2, sink_emit, &s), 0);
    assert_string_equal(s.buf, want);
}

static void test_short_escapes(void **state)
{
    assert_encoded("a\bb\fc", "[1.000000, \"o\", \"a\\bb\\fc\"]\n");
}

static void test_impossible_starts_not_held(void **state)
{
    assert_encoded("x\xe0\x80", "[1.000000, \"o\", \"x" FFFD FFFD "\"]\n"); /* overlong */
    assert_encoded("x\xed\xa0", "[1.000000, \"o\", \"x" FFFD FFFD "\"]\n"); /* surrogate */
    assert_encoded("x\xf4\x90", "[1.000000, \"o\", \"x" FFFD FFFD "\"]\n"); /* > U+10FFFF */
    assert_encoded("x\xf4\x8f\xc0", "[1.000000, \"o\", \"x" FFFD FFFD FFFD "\"]\n");
    /* a good start is held, and at the end it cannot be finished any more */
    assert_encoded("x\xe0\xa0", "[1.000000, \"o\", \"x\"]\n[2.000000, \"o\", \"" FFFD FFFD "\"]\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_short_escapes),
        cmocka_unit_test(test_impossible_starts_not_held),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
