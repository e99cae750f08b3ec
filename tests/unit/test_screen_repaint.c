/* test_screen_repaint.c - the screen model's repaint (src/screen/): known
 * sequences fed in, the repaint fed into a fresh model, and every cell
 * (text, width, attributes, colours), the cursor, the pen, the title, the
 * modes and what keys/mouse/paste send compared exactly; then the same
 * continuation fed to both must keep them equal (the modes and the scroll
 * region were restored, not only the picture). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "screen_check.h"

static void feed(struct screen *s, const char *bytes)
{
    assert_int_equal(screen_feed(s, (const uint8_t *)bytes, strlen(bytes)), 0);
}

static bool check_keys = true;

static void assert_same(struct screen *a, struct screen *b)
{
    const char *why = screen_check_same(a, b, check_keys);
    if (why)
        fail_msg("%s", why);
}

/* Feed `bytes`, repaint into a fresh model, compare; feed `then` to both,
 * compare again. Returns the fresh model's copy for more checks. */
static void round_trip(unsigned w, unsigned h, const char *bytes, const char *then)
{
    struct screen *a = screen_new(w, h);
    assert_non_null(a);
    feed(a, bytes);
    struct screen *b = screen_check_repaint(a);
    assert_non_null(b);
    assert_same(a, b);
    if (then) {
        feed(a, then);
        feed(b, then);
        assert_same(a, b);
    }
    screen_free(a);
    screen_free(b);
}

static void cell_at(struct screen *s, int row, int col, VTermScreenCell *cell)
{
    VTermScreen *vts = screen_vterm(s);
    assert_non_null(vts);
    vterm_screen_get_cell(vts, (VTermPos){.row = row, .col = col}, cell);
}

static void test_repaint_colours(void **state)
{
    char buf[8192];
    size_t n = 0;
    /* the 16 colours both ways, 256, RGB, default, every attribute */
    for (int i = 0; i < 8; i++)
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, "\x1b[%dm%d\x1b[%dm%d\x1b[%dm#\x1b[%dm#",
                              30 + i, i, 90 + i, i, 40 + i, 100 + i);
    n += (size_t)snprintf(buf + n, sizeof(buf) - n, "\x1b[0m\r\n");
    for (int i = 0; i < 256; i += 17)
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, "\x1b[38;5;%dm\x1b[48;5;%dmx", i, 255 - i);
    n += (size_t)snprintf(buf + n, sizeof(buf) - n,
                          "\x1b[0m\r\n\x1b[38;2;1;2;3mrgb\x1b[48;2;250;128;0mboth\x1b[39mdefault-fg"
                          "\x1b[49m\r\n\x1b[1mbold\x1b[22;3mitalic\x1b[23;4munder\x1b[21mdouble"
                          "\x1b[4:3mcurly\x1b[24;5mblink\x1b[25;7mreverse\x1b[27;9mstrike\x1b[0m"
                          "\r\n\x1b[1;3;4;5;7;9;38;2;9;9;9;48;5;200mall\x1b[0m plain\x1b[44m\x1b[K"
                          "\r\n\x1b[41m\x1b[3X\x1b[0m\x1b[31;1m");
    round_trip(80, 24, buf, "after\x1b[0m normal\r\n");

    /* and the model saw what was sent, not just itself twice */
    struct screen *s = screen_new(80, 24);
    feed(s, "\x1b[31mA\x1b[38;5;200mB\x1b[38;2;10;20;30mC\x1b[0mD");
    VTermScreenCell c;
    cell_at(s, 0, 0, &c);
    assert_int_equal(c.chars[0], 'A');
    assert_true(VTERM_COLOR_IS_INDEXED(&c.fg));
    assert_int_equal(c.fg.indexed.idx, 1);
    cell_at(s, 0, 1, &c);
    assert_int_equal(c.fg.indexed.idx, 200);
    cell_at(s, 0, 2, &c);
    assert_true(VTERM_COLOR_IS_RGB(&c.fg));
    assert_int_equal(c.fg.rgb.green, 20);
    cell_at(s, 0, 3, &c);
    assert_true(VTERM_COLOR_IS_DEFAULT_FG(&c.fg));
    screen_free(s);
}

static void test_repaint_wide_combining(void **state)
{
    /* wide CJK, e + combining acute, a + two combining marks, an emoji, a
     * wide character that does not fit the last column and wraps */
    round_trip(20, 5,
               "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e e\xcc\x81 a\xcc\x81\xcc\x82 \xf0\x9f\x98\x80"
               "\r\n0123456789012345678\xe6\x97\xa5x",
               "\xe6\x97\xa5\r\n");
    /* a combining mark alone in the second cell of a fresh screen: the
     * repaint's mark once joined a character libvterm remembered from the
     * model's own start-up (an "x" that appeared in the first cell) */
    round_trip(20, 5, "ab\x1b[2J\x1b[1;2H\xcc\x81", "ok");
    struct screen *s = screen_new(20, 5);
    feed(s, "e\xcc\x81\xe6\x97\xa5");
    VTermScreenCell c;
    cell_at(s, 0, 0, &c);
    assert_int_equal(c.chars[0], 'e');
    assert_int_equal(c.chars[1], 0x301);
    cell_at(s, 0, 1, &c);
    assert_int_equal(c.chars[0], 0x65e5);
    assert_int_equal(c.width, 2);
    screen_free(s);
}

/* The repaint enters the alternate screen and paints it. libvterm 0.1.4
 * gives no way to read the primary screen while the alternate one is
 * active, so the repaint leaves the primary blank: after the application
 * leaves the alternate screen, the copy shows a cleared primary (the
 * original shows what was there). Both are asserted here. */
static void test_repaint_alternate(void **state)
{
    const char *vimish = "$ vim notes\r\n\x1b[?1049h\x1b[22;1H\x1b[1m-- INSERT --\x1b[0m"
                         "\x1b[1;1H\x1b[33m  1 \x1b[0mhello\x1b[2;1H\x1b[34m~\x1b[0m\x1b[1;10H";
    round_trip(80, 24, vimish, "world");
    struct screen *a = screen_new(80, 24);
    feed(a, vimish);
    assert_true(a->alt_active);
    struct screen *b = screen_check_repaint(a);
    assert_true(b->alt_active);
    feed(a, "\x1b[?1049l");
    feed(b, "\x1b[?1049l");
    VTermScreenCell c;
    cell_at(a, 0, 0, &c);
    assert_int_equal(c.chars[0], '$');
    cell_at(b, 0, 0, &c);
    assert_int_equal(c.chars[0], 0);
    screen_free(a);
    screen_free(b);
    /* no alternate buffer until an application asks for one */
    struct screen *s = screen_new(80, 24);
    feed(s, "x");
    size_t before = screen_memory(s);
    feed(s, "\x1b[?1049h");
    assert_true(screen_memory(s) > before + 80 * 24 * 30);
    screen_free(s);
}

static void test_repaint_scroll_region(void **state)
{
    char buf[4096];
    size_t n =
        (size_t)snprintf(buf, sizeof(buf), "top line\x1b[24;1Hbottom line\x1b[5;10r\x1b[10;1H");
    for (int i = 0; i < 12; i++)
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, "scrolled %d\r\n", i);
    /* the continuation scrolls inside the region only if it was restored */
    round_trip(80, 24, buf, "more\r\nand more\r\n\x1b[5;1H\x1b[Minserted");
    /* origin mode: the cursor is counted from the region's top */
    round_trip(80, 24, "\x1b[3;20r\x1b[?6h\x1b[4;7Hin region", "\x1b[1;1Hhome\r\n\r\n");
    round_trip(80, 24, "\x1b[3;20r\x1b[?6h\x1b[?6l\x1b[r", "\x1b[24;1H\r\n\r\nend");
}

static void test_repaint_resize(void **state)
{
    const char *content = "\x1b[42mfirst\x1b[0m line\r\nsecond line that is longer than twenty"
                          "\r\nthird\x1b[5;5H\x1b[7mcursor\x1b[0m";
    unsigned sizes[][2] = {{120, 40}, {20, 6}, {1, 1}, {SCREEN_COLS_MAX, 3}};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        struct screen *a = screen_new(80, 24);
        feed(a, content);
        assert_int_equal(screen_resize(a, sizes[i][0], sizes[i][1]), 0);
        feed(a, "\r\nafter resize");
        struct screen *b = screen_check_repaint(a);
        assert_same(a, b);
        feed(a, "\r\nthen");
        feed(b, "\r\nthen");
        assert_same(a, b);
        screen_free(a);
        screen_free(b);
    }
}

static void test_repaint_cursor_hidden(void **state)
{
    round_trip(80, 24, "hello\x1b[?25l\x1b[3;4H", "x");
    struct screen *s = screen_new(80, 24);
    feed(s, "hello\x1b[?25l");
    uint8_t out[4096];
    long n = screen_repaint(s, out, sizeof(out));
    assert_true(n > 0 && (size_t)n < sizeof(out));
    out[n] = 0;
    assert_non_null(strstr((char *)out, "\x1b[?25l"));
    assert_null(strstr((char *)out, "\x1b"
                                    "c")); /* never RIS: it clears xterm.js' scrollback */
    assert_memory_equal(out, "\x1b[!p", 4);
    screen_free(s);
}

static void test_repaint_title(void **state)
{
    round_trip(80, 24, "\x1b]0;first\x07\x1b]2;vim notes.txt\x1b\\", NULL);
    /* a title split across two writes (libvterm alone loses it) */
    struct screen *s = screen_new(80, 24);
    feed(s, "\x1b]2;spl");
    feed(s, "it title\x07x");
    assert_string_equal(s->modes.title, "split title");
    struct screen *b = screen_check_repaint(s);
    assert_string_equal(b->modes.title, "split title");
    screen_free(b);
    /* too long: cut at SCREEN_TITLE_MAX on a UTF-8 boundary; controls dropped */
    char big[SCREEN_TITLE_MAX * 2 + 16];
    size_t n = (size_t)snprintf(big, sizeof(big), "\x1b]2;a");
    for (int i = 0; i < SCREEN_TITLE_MAX; i++)
        n += (size_t)snprintf(big + n, sizeof(big) - n, "\xc3\xa9");
    snprintf(big + n, sizeof(big) - n, "\x07");
    feed(s, big);
    assert_int_equal(s->modes.title_len, SCREEN_TITLE_MAX - 1);
    feed(s, "\x1b]2;a\tb\x07");
    assert_string_equal(s->modes.title, "ab");
    screen_free(s);
}

static void test_repaint_modes(void **state)
{
    /* what vim, less and tmux set: cursor keys, keypad, bracketed paste,
     * SGR mouse with drags, focus events, insert mode, auto-wrap off */
    round_trip(80, 24, "\x1b[?1h\x1b=\x1b[?2004h\x1b[?1006h\x1b[?1002h\x1b[?1004h", "x");
    round_trip(80, 24, "\x1b[?1000h\x1b[?1015h\x1b[4h", "abc\x1b[1;1Hins");
    round_trip(80, 24, "\x1b[?1003h\x1b[?1005h\x1b[?7l", "\x1b[1;75Hpast the margin");
    /* DECSTR as xterm.js: cursor keys and keypad reset, mouse and paste kept
     * (libvterm 0.1.4 ignores it: no key comparison) */
    check_keys = false;
    struct screen *r = screen_new(80, 24);
    feed(r, "\x1b[?1h\x1b=\x1b[?2004h\x1b[?1002h\x1b[4h\x1b[!p");
    assert_int_equal(r->modes.dec & (SCREEN_DEC_CKM | SCREEN_DEC_PASTE | SCREEN_DEC_MOUSE_BTN),
                     SCREEN_DEC_PASTE | SCREEN_DEC_MOUSE_BTN);
    assert_false(r->modes.keypad);
    assert_int_equal(r->modes.ansi, 0);
    feed(r, "\x1b"
            "c");
    assert_int_equal(r->modes.dec, SCREEN_DEC_AWM | SCREEN_DEC_TCEM);
    screen_free(r);
    round_trip(80, 24, "\x1b[?1h\x1b[?2004h\x1b[?1002h\x1b[!p", "soft reset");
    check_keys = true;
    struct screen *s = screen_new(80, 24);
    feed(s, "\x1b[?1;2004;1006;1002h\x1b=");
    assert_int_equal(
        s->modes.dec &
            (SCREEN_DEC_CKM | SCREEN_DEC_PASTE | SCREEN_DEC_MOUSE_SGR | SCREEN_DEC_MOUSE_BTN),
        SCREEN_DEC_CKM | SCREEN_DEC_PASTE | SCREEN_DEC_MOUSE_SGR | SCREEN_DEC_MOUSE_BTN);
    assert_true(s->modes.keypad);
    /* the keys of the copy send what the original's do: ESC O A for Up */
    struct screen *b = screen_check_repaint(s);
    vterm_keyboard_key(b->vt, VTERM_KEY_UP, VTERM_MOD_NONE);
    char out[16];
    size_t n = vterm_output_read(b->vt, out, sizeof(out));
    assert_int_equal(n, 3);
    assert_memory_equal(out, "\x1bOA", 3);
    screen_free(b);
    screen_free(s);
}

static void test_repaint_bound(void **state)
{
    /* the worst cell everywhere: two RGB colours, every attribute, a base
     * and five combining marks, each cell a new pen */
    struct screen *s = screen_new(40, 10);
    char cell[128];
    for (int i = 0; i < 400; i++) {
        snprintf(cell, sizeof(cell),
                 "\x1b[1;3;4:3;5;7;9;11m\x1b[38;2;%d;255;255m\x1b[48;2;255;%d;255m"
                 "\xe0\xa4\x95\xcc\x81\xcc\x82"
                 "\xcc\x83\xcc\x84\xcc\x85",
                 i % 256, (i * 7) % 256);
        feed(s, cell);
    }
    size_t bound = screen_repaint_bound(s);
    long n = screen_repaint(s, NULL, 0);
    assert_true(n > 0 && (size_t)n <= bound);
    /* snprintf-like: a short buffer gets a prefix and the whole length */
    uint8_t small[64];
    assert_int_equal(screen_repaint(s, small, sizeof(small)), n);
    struct screen *b = screen_check_repaint(s);
    assert_same(s, b);
    screen_free(b);
    screen_free(s);
}

/* An idle model hibernates: its cells go, its repaint stays (a few KiB for
 * a shell's screen), repaints meanwhile are those very bytes, and the next
 * output wakes it into the same screen; a model mid-sequence stays awake. */
static void test_hibernate(void **state)
{
    struct screen *a = screen_new(80, 24), *b = screen_new(80, 24);
    assert_non_null(a);
    assert_non_null(b);
    const char *out = "\x1b]0;build\x07$ make\r\n\x1b[32mok\x1b[0m  unit\r\n"
                      "\x1b[1;31mFAIL\x1b[0m e2e\r\n\x1b[?2004h$ vi notes";
    feed(a, out);
    feed(b, out);
    size_t awake = screen_memory(a);
    long n = screen_repaint(a, NULL, 0);
    assert_true(n > 0);
    uint8_t *before = malloc((size_t)n);
    assert_int_equal(screen_repaint(a, before, (size_t)n), n);
    assert_int_equal(screen_hibernate(a), 0);
    size_t asleep = screen_memory(a);
    assert_true(asleep < 4096);               /* the struct and the repaint */
    assert_true(awake > 80 * 24 * 30);        /* libvterm's cells */
    assert_int_equal(screen_hibernate(a), 0); /* asleep already: nothing to do */
    assert_int_equal(screen_memory(a), asleep);
    uint8_t *asleep_bytes = malloc((size_t)n);
    assert_int_equal(screen_repaint(a, asleep_bytes, (size_t)n), n);
    assert_memory_equal(asleep_bytes, before, (size_t)n);
    /* output wakes it: the same screen as the model that never slept */
    feed(a, "\r\n\x1b[7mtyped on\x1b[0m");
    feed(b, "\r\n\x1b[7mtyped on\x1b[0m");
    assert_same(a, b);
    assert_true(screen_memory(a) > asleep);
    /* a resize wakes it too */
    assert_int_equal(screen_hibernate(a), 0);
    assert_int_equal(screen_resize(a, 100, 30), 0);
    assert_int_equal(screen_resize(b, 100, 30), 0);
    assert_same(a, b);
    /* in the middle of a sequence it stays awake (the repaint would lose it) */
    feed(a, "\x1b[3");
    size_t mid = screen_memory(a);
    assert_int_equal(screen_hibernate(a), 0);
    assert_int_equal(screen_memory(a), mid);
    free(before);
    free(asleep_bytes);
    screen_free(a);
    screen_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_repaint_colours),   cmocka_unit_test(test_repaint_wide_combining),
        cmocka_unit_test(test_repaint_alternate), cmocka_unit_test(test_repaint_scroll_region),
        cmocka_unit_test(test_repaint_resize),    cmocka_unit_test(test_repaint_cursor_hidden),
        cmocka_unit_test(test_repaint_title),     cmocka_unit_test(test_repaint_modes),
        cmocka_unit_test(test_repaint_bound),     cmocka_unit_test(test_hibernate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
