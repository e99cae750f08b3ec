/* test_screen_feed.c - feeding the screen model (src/screen/screen.c):
 * deferred text gives the very cells libvterm fed every byte gives, the
 * memory it holds is what screen.h says, sizes are capped, and a CSI
 * with more arguments than libvterm 0.1.4 can hold does not reach it (it
 * crashed the process). */
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

static void assert_same(struct screen *a, struct screen *b)
{
    const char *why = screen_check_same(a, b, true);
    if (why)
        fail_msg("%s", why);
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
    assert_same(a, b);
    screen_free(a);
    screen_free(b);
}

/* bench/'s generator: printable ASCII only, no CR or LF */
static void pattern(uint8_t *buf, size_t len, uint32_t x)
{
    for (size_t i = 0; i < len; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        buf[i] = (uint8_t)(0x20 + (x >> 8) % 95);
    }
}

static void test_feed_defer_text(void **state)
{
    size_t len = 3u << 20;
    uint8_t *buf = malloc(len);
    pattern(buf, len, 7);
    defer_vs_direct(80, 24, buf, len, 4096);
    defer_vs_direct(80, 24, buf, len, 4093);
    defer_vs_direct(240, 80, buf, len, 65536);
    defer_vs_direct(7, 3, buf, 100000, 1);
    /* lines: CR LF, bare LF, bare CR, long lines wrapping, an escape now and then */
    size_t n = 0;
    uint32_t x = 99;
    while (n + 300 < len) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        size_t line = x % 200;
        pattern(buf + n, line, x);
        n += line;
        static const char *ends[] = {"\r\n",          "\n",          "\r",
                                     "\x1b[1m",       "\x1b[0m\r\n", "\t",
                                     "\x1b[K\r\n",    "\x1b[31m",    "\x1b[38;2;1;2;3m\x1b[48;5;9m",
                                     "\x1b[m\x1b[2K", "\x1b[;4m",    "\x1b[39;49m\r\n"};
        const char *e = ends[(x >> 9) % 12];
        memcpy(buf + n, e, strlen(e));
        n += strlen(e);
    }
    defer_vs_direct(80, 24, buf, n, 4096);
    defer_vs_direct(80, 24, buf, n, 333);
    defer_vs_direct(132, 50, buf, n, 16384);
    /* sequences split across writes at every place */
    defer_vs_direct(80, 24, buf, 300000, 7);
    defer_vs_direct(80, 24, buf, 100000, 1);
    free(buf);
}

/* Modes under which dropping text would be wrong: scroll region, no
 * auto-wrap, newline mode, left/right margins. */
static void test_feed_defer_modes(void **state)
{
    static const char *setups[] = {"\x1b[5;10r",          "\x1b[?7l", "\x1b[20h",
                                   "\x1b[?69h\x1b[5;20s", "\x1b[4h",  "\x1b[?6h\x1b[2;20r"};
    size_t len = 1u << 20;
    uint8_t *buf = malloc(len);
    for (size_t i = 0; i < sizeof(setups) / sizeof(setups[0]); i++) {
        size_t n = strlen(setups[i]);
        memcpy(buf, setups[i], n);
        pattern(buf + n, len - n, (uint32_t)i + 1);
        for (size_t k = n + 500; k < len; k += 997)
            buf[k] = k % 2 ? '\n' : '\r';
        defer_vs_direct(80, 24, buf, len, 4096);
    }
    free(buf);
}

static void test_feed_memory(void **state)
{
    /* nothing for the cells until the first output */
    struct screen *s = screen_new(80, 24);
    assert_int_equal(screen_memory(s), sizeof(struct screen));
    /* nor for an empty write (a session's first output frame is empty) */
    feed(s, "", 0);
    assert_int_equal(screen_memory(s), sizeof(struct screen));
    feed(s, "$ ", 2);
    size_t small = screen_memory(s);
    /* 80x24 cells of 36 bytes and libvterm's state, plus the deferred text */
    assert_true(small > 80 * 24 * 36 && small < 80 * 24 * 36 + 40 * 1024);
    feed(s, "\x1b[?1049h", 8);
    assert_true(screen_memory(s) >= small + 80 * 24 * 36);
    print_message("screen memory 80x24: %zu bytes, with the alternate screen %zu\n", small,
                  screen_memory(s));
    screen_free(s);
    s = screen_new(240, 80);
    feed(s, "$ ", 2);
    small = screen_memory(s);
    feed(s, "\x1b[?1049h", 8);
    print_message("screen memory 240x80: %zu bytes, with the alternate screen %zu\n", small,
                  screen_memory(s));
    screen_free(s);
}

static void test_feed_size_cap(void **state)
{
    struct screen *s = screen_new(100000, 0);
    unsigned w, h;
    screen_size(s, &w, &h);
    assert_int_equal(w, SCREEN_COLS_MAX);
    assert_int_equal(h, 1);
    /* one column: a wide character there crashed libvterm 0.1.4 */
    assert_int_equal(screen_resize(s, 1, 5), 0);
    screen_size(s, &w, &h);
    assert_int_equal(w, SCREEN_COLS_MIN);
    feed(s, "\xe6\x97\xa5\xe6\x97\xa5\r\n\x1b[?1049h\xe6\x97\xa5", 17);
    assert_int_equal(screen_resize(s, 65535, 65535), 0);
    screen_size(s, &w, &h);
    assert_int_equal(w, SCREEN_COLS_MAX);
    assert_int_equal(h, SCREEN_ROWS_MAX);
    feed(s, "x\x1b[?1049hy", 10);
    size_t max = screen_memory(s);
    print_message("screen memory at the cap %ux%u: %zu bytes\n", w, h, max);
    assert_true(max < 2 * (size_t)SCREEN_COLS_MAX * SCREEN_ROWS_MAX * 36 + 512 * 1024);
    screen_free(s);
}

/* libvterm 0.1.4 crashes (writes past its argument array) on a CSI with 17
 * arguments or more: such a CSI is cut before libvterm sees the rest, and
 * the stream goes on. */
static void test_feed_csi_overlong(void **state)
{
    char buf[1024];
    size_t n = (size_t)snprintf(buf, sizeof(buf), "ok\x1b[");
    for (int i = 0; i < 100; i++)
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%d;", i % 10);
    n += (size_t)snprintf(buf + n, sizeof(buf) - n,
                          "31mX\x1b[?1;2;3;4;5;6;7;8;9;10;11;12;13;14;"
                          "15;16;17;1h\x1b[1;2;3;4;5;6;7;8;9;10;11;12;"
                          "13;14;15;16;17\x1b[32mY");
    struct screen *s = screen_new(80, 24);
    /* whole, then split at every byte */
    feed(s, buf, n);
    for (size_t i = 0; i < n; i++)
        feed(s, buf + i, 1);
    VTermScreen *vts = screen_vterm(s);
    VTermScreenCell c;
    vterm_screen_get_cell(vts, (VTermPos){.row = 0, .col = 2}, &c);
    assert_int_equal(c.chars[0], 'X');
    assert_true(VTERM_COLOR_IS_DEFAULT_FG(&c.fg)); /* the cut SGR did nothing */
    vterm_screen_get_cell(vts, (VTermPos){.row = 0, .col = 3}, &c);
    assert_int_equal(c.chars[0], 'Y');
    assert_int_equal(c.fg.indexed.idx, 2); /* an ESC ending a cut CSI still counts */
    assert_false(s->modes.dec & SCREEN_DEC_CKM);
    /* libvterm starts a CSI at '[' after intermediates too (ESC % [) */
    char esc[256];
    size_t m = (size_t)snprintf(esc, sizeof(esc), "\x1b%%[");
    for (int i = 0; i < 40; i++)
        esc[m++] = ':';
    memcpy(esc + m, "4mZ", 3);
    feed(s, esc, m + 3);
    assert_non_null(screen_vterm(s)); /* what was deferred reaches libvterm */
    screen_free(s);
}

/* libvterm 0.1.4 keeps a scroll region past the bottom of a screen made
 * smaller and then scrolls with a negative length (it crashed): a resize
 * ends the region, as in xterm, also when the output stopped mid-sequence. */
static void test_feed_resize_region(void **state)
{
    static const char *tails[] = {"", "", "\x1b[3", "\x1b]2;half a title"};
    for (size_t i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
        /* the first: a region past the bottom of a 5-row screen, which
         * xterm ignores and libvterm 0.1.4 keeps */
        struct screen *s = i == 0 ? screen_new(49, 5) : screen_new(105, 28);
        const char *set = i == 0 ? "\x1b[5;10r\x1b[3;5Hx" : "\x1b[9;10r\x1b[10;5Hx";
        feed(s, set, strlen(set));
        feed(s, tails[i], strlen(tails[i]));
        assert_int_equal(screen_resize(s, 20, i == 0 ? 1 : 5), 0);
        assert_int_equal(s->modes.top, 0);
        feed(s, "\n\n\n\ny", 5);
        VTermPos pos;
        vterm_state_get_cursorpos(vterm_obtain_state(s->vt), &pos);
        assert_int_equal(pos.row, i == 0 ? 0 : 4);
        struct screen *b = screen_check_repaint(s);
        const char *why = screen_check_same(s, b, true);
        if (why)
            fail_msg("%s", why);
        screen_free(b);
        screen_free(s);
    }
}

/* libvterm 0.1.4 leaves the cursor above the screen when rows go, and an
 * erase there wrote through NULL (it crashed): after a resize the cursor
 * is on the screen. */
static void test_feed_resize_cursor(void **state)
{
    struct screen *s = screen_new(2, 48);
    const char *text = "after resizees\r\n\x1b[1;1H  1 ";
    feed(s, text, strlen(text));
    assert_int_equal(screen_resize(s, 2, 1), 0);
    VTermPos pos;
    vterm_state_get_cursorpos(vterm_obtain_state(s->vt), &pos);
    assert_true(pos.row == 0 && pos.col >= 0 && pos.col < 2);
    feed(s, "\x1b[X\x1b[K\x1b[1P", 11);
    assert_int_equal(screen_resize(s, 2, 50), 0);
    feed(s, "\x1b[X", 3);
    screen_free(s);
}

/* libvterm 0.1.4 looped forever on REP before any character was printed
 * (ctest's timeout fails this test then). */
static void test_feed_rep_first(void **state)
{
    struct screen *s = screen_new(80, 24);
    feed(s, "\x1b[b\x1b[5b", 7);
    assert_non_null(screen_vterm(s));
    VTermPos pos;
    vterm_state_get_cursorpos(vterm_obtain_state(s->vt), &pos);
    assert_int_equal(pos.row, 0);
    screen_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_feed_defer_text),    cmocka_unit_test(test_feed_defer_modes),
        cmocka_unit_test(test_feed_memory),        cmocka_unit_test(test_feed_size_cap),
        cmocka_unit_test(test_feed_csi_overlong),  cmocka_unit_test(test_feed_resize_region),
        cmocka_unit_test(test_feed_resize_cursor), cmocka_unit_test(test_feed_rep_first),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
