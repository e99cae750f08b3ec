/* test_screen_trim.c - the deferred text of the screen model dropped when
 * it fills (src/screen/screen.c, "Deferred text"): coloured lines (SGR and
 * EL between the text, no other control) make the buffer fill and be cut
 * at a CR, keeping only the SGRs that make the pen at the cut; the cells,
 * colours, cursor and pen are those of libvterm fed every byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "screen_check.h"

static void feed(struct screen *s, const void *bytes, size_t len)
{
    assert_int_equal(screen_feed(s, bytes, len), 0);
}

/* The same stream, in chunks of `chunk`, to a model that defers text and
 * one that gives libvterm every byte: the same screen. */
static void defer_vs_direct(unsigned w, unsigned h, const uint8_t *data, size_t len, size_t chunk)
{
    struct screen *a = screen_new(w, h), *b = screen_new(w, h);
    screen_set_defer(b, false);
    for (size_t off = 0; off < len; off += chunk) {
        size_t n = len - off < chunk ? len - off : chunk;
        feed(a, data + off, n);
        feed(b, data + off, n);
    }
    const char *why = screen_check_same(a, b, true);
    if (why)
        fail_msg("chunk %zu: %s", chunk, why);
    screen_free(a);
    screen_free(b);
}

static uint32_t next(uint32_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 17;
    *x ^= *x << 5;
    return *x;
}

/* Lines of printable text with SGRs and ELs only, so that the deferred
 * buffer fills: resets in every spelling ("\e[m", "\e[0m", "\e[;1m",
 * "\e[0;4m") and SGRs that build on the pen ("\e[01m" is not a reset),
 * lines exactly as wide as the screen with an SGR in the pending wrap,
 * and lines that wrap. */
static size_t coloured_lines(uint8_t *buf, size_t cap, uint32_t x, unsigned width)
{
    static const char *sgr[] = {"\x1b[m",     "\x1b[0m",     "\x1b[;1m",       "\x1b[0;4m",
                                "\x1b[01m",   "\x1b[31m",    "\x1b[1;32;44m",  "\x1b[K",
                                "\x1b[2K",    "\x1b[7m",     "\x1b[38;5;200m", "\x1b[48;2;1;2;3m",
                                "\x1b[0;31m", "\x1b[22;39m", "\x1b[4:3m",      "\x1b[1K"};
    size_t n = 0;
    while (n + 400 < cap) {
        uint32_t r = next(&x);
        size_t line = r % 3 == 0 ? width : r % 3 == 1 ? r % 70 : width + r % 100;
        for (size_t i = 0; i < line; i++) {
            if (next(&x) % 29 == 0) {
                const char *e = sgr[next(&x) % 16];
                memcpy(buf + n, e, strlen(e));
                n += strlen(e);
            }
            buf[n++] = (uint8_t)(0x20 + next(&x) % 95);
        }
        if (r % 5 == 0) {
            const char *e = sgr[(r >> 8) % 16];
            memcpy(buf + n, e, strlen(e));
            n += strlen(e);
        }
        buf[n++] = '\r';
        buf[n++] = '\n';
    }
    return n;
}

static void test_trim_coloured_lines(void **state)
{
    size_t cap = 1u << 20;
    uint8_t *buf = malloc(cap);
    size_t n = coloured_lines(buf, cap, 12345, 80);
    defer_vs_direct(80, 24, buf, n, 4096);
    defer_vs_direct(80, 24, buf, n, 333);
    defer_vs_direct(80, 24, buf, 200000, 1);
    n = coloured_lines(buf, cap, 777, 132);
    defer_vs_direct(132, 50, buf, n, 16384);
    n = coloured_lines(buf, cap, 4242, 10);
    defer_vs_direct(10, 3, buf, n, 1000);
    free(buf);
}

/* The cut keeps the pen: the SGRs from the last one that starts from the
 * default pen are moved to the front of what is kept, exactly. */
static void test_trim_keeps_pen_sgrs(void **state)
{
    struct screen *s = screen_new(80, 24), *d = screen_new(80, 24);
    screen_set_defer(d, false);
    const char *head = "\x1b[1m\x1b[4m\x1b[0;1m\x1b[32m";
    feed(s, head, strlen(head));
    feed(d, head, strlen(head));
    char line[96];
    for (int i = 0; i < 400; i++) {
        int len = snprintf(line, sizeof(line), "line %03d %s\r\n", i,
                           "................................................................");
        feed(s, line, (size_t)len);
        feed(d, line, (size_t)len);
    }
    /* the buffer filled and was cut at a CR: what is left starts with the
     * pen's SGRs (the ones before the reset are not needed), then a CR */
    assert_non_null(s->pending);
    assert_true(s->pending_len > 0 && s->pending_len < s->pending_cap);
    const char *kept = "\x1b[0;1m\x1b[32m\r";
    assert_memory_equal(s->pending, kept, strlen(kept));
    const char *why = screen_check_same(s, d, true);
    if (why)
        fail_msg("%s", why);
    screen_free(s);
    screen_free(d);
}

/* More pen SGRs than the cut may keep (an eighth of the buffer): nothing
 * is dropped, the buffer goes to libvterm whole. */
static void test_trim_too_many_sgrs(void **state)
{
    size_t cap = 256 * 1024, n = 0;
    uint8_t *buf = malloc(cap);
    while (n + 200 < cap) {
        for (int i = 0; i < 8; i++)
            n += (size_t)snprintf((char *)buf + n, cap - n, "\x1b[38;5;%dmab", (int)(n % 256));
        n += (size_t)snprintf((char *)buf + n, cap - n, "%s\r\n", "text");
    }
    defer_vs_direct(80, 24, buf, n, 4096);
    struct screen *s = screen_new(80, 24);
    feed(s, buf, 17000);
    /* flushed whole at the trim, not cut: what is left is the rest of the
     * write (and the start of an SGR it split, carried) */
    assert_int_equal(s->pending_cap, 16384);
    assert_int_equal(s->pending_len + s->carry_len, 17000 - 16384);
    screen_free(s);
    free(buf);
}

/* An SGR longer than the deferred sequences may be (48 bytes) is not
 * deferred: it goes to libvterm with whatever was deferred before it. */
static void test_trim_long_sgr(void **state)
{
    char buf[4096];
    size_t n = 0;
    for (int i = 0; i < 30; i++)
        n += (size_t)snprintf(buf + n, sizeof(buf) - n,
                              "x\x1b[38;2;%03d;000000000000000000000000000000000002;3m%02d\r\n", i,
                              i);
    defer_vs_direct(80, 24, (const uint8_t *)buf, n, n);
    defer_vs_direct(80, 24, (const uint8_t *)buf, n, 7);
    struct screen *s = screen_new(80, 24);
    const char *sgr = "ab\x1b[38;2;000000000000000000000000000000000000000001;2;3mc";
    feed(s, sgr, strlen(sgr));
    assert_int_equal(s->pending_len, 1); /* only "c": the rest reached libvterm */
    VTermScreenCell c;
    vterm_screen_get_cell(screen_vterm(s), (VTermPos){.row = 0, .col = 2}, &c);
    assert_int_equal(c.chars[0], 'c');
    assert_int_equal(c.fg.rgb.red, 1);
    screen_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trim_coloured_lines),
        cmocka_unit_test(test_trim_keeps_pen_sgrs),
        cmocka_unit_test(test_trim_too_many_sgrs),
        cmocka_unit_test(test_trim_long_sgr),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
