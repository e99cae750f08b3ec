/* test_screen_modes.c - the modes parser of the screen model
 * (src/screen/screen_modes.c): for each sequence, the exact modes, scroll
 * region and title it leaves, fed whole and a byte at a time; then the
 * repaint of the model fed into a fresh one gives libvterm's own view of the
 * same stream (cells, cursor, and what keys, the mouse and a paste send).
 * Where the parser could end a sequence elsewhere than libvterm does (CAN,
 * SUB, C0 and UTF-8 bytes inside a CSI, strings ended by another escape,
 * intermediates) the bytes after it are checked to land where libvterm
 * puts them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "screen_check.h"

#define DEFAULT_DEC (SCREEN_DEC_AWM | SCREEN_DEC_TCEM)

struct want {
    uint32_t dec;
    uint32_t ansi;
    bool keypad;
    unsigned top, bottom;
    const char *title; /* NULL: none */
};

static void feed(struct screen *s, const char *bytes, size_t len)
{
    assert_int_equal(screen_feed(s, (const uint8_t *)bytes, len), 0);
}

static void assert_modes(const struct screen *s, const struct want *w)
{
    const struct screen_modes *m = &s->modes;
    assert_int_equal(m->dec, w->dec);
    assert_int_equal(m->ansi, w->ansi);
    assert_int_equal(m->keypad, w->keypad);
    assert_int_equal(m->top, w->top);
    assert_int_equal(m->bottom, w->bottom);
    const char *title = w->title ? w->title : "";
    assert_int_equal(m->title_len, strlen(title));
    assert_string_equal(m->title, title);
}

/* Fed whole and a byte at a time: the modes `w`; the repaint of either
 * reproduces libvterm's screen, cursor and keys (keys: only where libvterm
 * 0.1.4 keeps the same modes as the model, see screen_check.h). */
static void check(const char *stream, const struct want *w, bool keys)
{
    size_t len = strlen(stream);
    struct screen *whole = screen_new(80, 24), *bytes = screen_new(80, 24);
    feed(whole, stream, len);
    for (size_t i = 0; i < len; i++)
        feed(bytes, stream + i, 1);
    assert_modes(whole, w);
    assert_modes(bytes, w);
    const char *why = screen_check_same(whole, bytes, keys);
    if (why)
        fail_msg("whole vs bytes: %s", why);
    struct screen *b = screen_check_repaint(whole);
    assert_non_null(b);
    why = screen_check_same(whole, b, keys);
    if (why)
        fail_msg("repaint: %s", why);
    screen_free(b);
    screen_free(bytes);
    screen_free(whole);
}

/* The character libvterm has at row 0, col. */
static uint32_t char_at(const char *stream, int col)
{
    struct screen *s = screen_new(80, 24);
    feed(s, stream, strlen(stream));
    VTermScreenCell c;
    vterm_screen_get_cell(screen_vterm(s), (VTermPos){.row = 0, .col = col}, &c);
    screen_free(s);
    return c.chars[0];
}

/* ?47 and ?1047 ask for the alternate screen as ?1049 does. */
static void test_modes_alternate_variants(void **state)
{
    struct want w = {.dec = DEFAULT_DEC | SCREEN_DEC_ALT};
    check("main\x1b[?47halt", &w, true);
    check("main\x1b[?1047halt", &w, true);
    struct screen *s = screen_new(80, 24);
    feed(s, "\x1b[?1047h", 8);
    assert_non_null(screen_vterm(s));
    assert_true(s->alt_active);
    feed(s, "\x1b[?1047l", 8);
    assert_non_null(screen_vterm(s));
    assert_false(s->alt_active);
    assert_true(s->alt_enabled); /* the buffer stays allocated */
    screen_free(s);
}

/* DECSTR is CSI ! p only: with a leader, or another intermediate (DECRQM
 * CSI Ps $ p), it resets nothing; any CSI with an intermediate sets no
 * mode (CSI 1 SP h is not SM 1). */
static void test_modes_soft_reset_only_plain(void **state)
{
    struct want w = {.dec = DEFAULT_DEC | SCREEN_DEC_CKM};
    check("\x1b[?1h\x1b[?!p", &w, false);
    check("\x1b[?1h\x1b[1$p", &w, false);
    check("\x1b[?1h\x1b[?7 l", &w, false);
    w.dec = DEFAULT_DEC;
    check("\x1b[?1h\x1b[!p", &w, false);
}

/* SM/RM: only 4 (IRM) and 20 (LNM) are kept; other ANSI modes and SM with
 * a leader other than '?' change nothing. */
static void test_modes_ansi(void **state)
{
    struct want w = {.dec = DEFAULT_DEC, .ansi = SCREEN_ANSI_IRM | SCREEN_ANSI_LNM};
    check("\x1b[4;20h", &w, true);
    w.ansi = SCREEN_ANSI_LNM;
    check("\x1b[4;20h\x1b[4l\x1b[3h\x1b[12h", &w, true);
    w.ansi = 0;
    check("\x1b[>4h\x1b[=20h\x1b[<4h", &w, true);
    check("\x1b[4;20h\x1b[20;4l", &w, true);
}

/* DECSTBM as xterm: an empty or 0 top is 1, an empty or 0 bottom the last
 * row, a bottom past the screen its last row; fewer than two rows, or a
 * leader, is ignored; the whole screen is kept as "none". */
static void test_modes_scroll_region(void **state)
{
    struct want w = {.dec = DEFAULT_DEC, .top = 1, .bottom = 10};
    check("\x1b[;10r", &w, true);
    check("\x1b[0;10r", &w, true);
    w.top = 5;
    w.bottom = 24;
    check("\x1b[5;100r", &w, true);
    check("\x1b[5r", &w, true);
    check("\x1b[5;0r", &w, true);
    w.top = 3;
    w.bottom = 7;
    check("\x1b[3;7r\x1b[10;5r", &w, true);
    check("\x1b[3;7r\x1b[9;9r", &w, true);
    check("\x1b[3;7r\x1b[?5;10r", &w, true);
    w.top = w.bottom = 0;
    check("\x1b[3;7r\x1b[0;0r", &w, true);
    check("\x1b[3;7r\x1b[1;24r", &w, true);
    check("\x1b[3;7r\x1b[r", &w, true);
}

/* What libvterm may hold for a region, whatever xterm made of it: a
 * region it keeps stops the deferred text from being dropped. */
static void test_modes_region_set(void **state)
{
    static const struct {
        const char *seq;
        bool set;
    } cases[] = {
        {"\x1b[r", false},
        {"\x1b[0r", false},
        {"\x1b[0;0r", false},
        {"\x1b[;0r", false},
        {"\x1b[2r", true},
        {"\x1b[;5r", true},
        {"\x1b[0;5r", true},
        {"\x1b[1;24r", true},
        {"\x1b[3;7r\x1b"
         "c",
         false},
        {"\x1b[30;40r", true},
        {"\x1b[?3;7r", false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct screen *s = screen_new(80, 24);
        feed(s, cases[i].seq, strlen(cases[i].seq));
        if (s->modes.region_set != cases[i].set)
            fail_msg("%zu: region_set %d", i, s->modes.region_set);
        screen_free(s);
    }
}

/* OSC 0 and 2 set the title; OSC 1 (icon), an OSC without "N;" and one too
 * short keep the old one; DEL is not kept in it. */
static void test_modes_title_variants(void **state)
{
    struct want w = {.dec = DEFAULT_DEC, .title = "kept"};
    check("\x1b]2;kept\x07\x1b]1;icon\x07", &w, true);
    check("\x1b]2;kept\x07\x1b]0\x07", &w, true);
    check("\x1b]2;kept\x07\x1b]2x\x07", &w, true);
    check("\x1b]2;kept\x07\x1b]3;x\x07", &w, true);
    check("\x1b]0;k\x7f"
          "ept\x1b\\",
          &w, true);
    w.title = "";
    check("\x1b]2;kept\x07\x1b]2;\x07", &w, true);
}

/* A string (OSC, DCS, SOS, PM, APC) ended by an ESC that starts another
 * escape: the OSC's title is taken, and the new sequence applies. */
static void test_modes_string_ends(void **state)
{
    struct want w = {.dec = DEFAULT_DEC | SCREEN_DEC_CKM, .title = "t1"};
    check("\x1b]2;t1\x1b[?1h", &w, true);
    w.title = NULL;
    check("\x1bPq#0;1\x1b[?1h", &w, true);
    check("\x1bXsos\x1b\\\x1b[?1h", &w, true);
    check("\x1b^pm\x07\x1b[?1h", &w, true);
    check("\x1b_apc\x1b[?1h", &w, true);
    /* a BEL inside a DCS ends it as it ends an OSC */
    w.dec = DEFAULT_DEC;
    check("\x1bPdcs\x07\x1b[?25l\x1b[?25h", &w, true);
    /* a CSI inside a string is the string's */
    check("\x1b_\x5b?1h\x1b\\", &w, true);
}

/* CAN and SUB abandon a CSI: its final byte is then text. */
static void test_modes_can_sub(void **state)
{
    struct want w = {.dec = DEFAULT_DEC};
    check("\x1b[?1\x18h", &w, true);
    check("\x1b[?1\x1ah", &w, true);
    check("\x1b]2;no\x18title", &w, true);
    assert_int_equal(char_at("\x1b[?1\x18h", 0), 'h');
    assert_int_equal(char_at("\x1b]2;no\x18title", 0), 't');
}

/* C0 controls and DEL inside a CSI run without ending it (as libvterm). */
static void test_modes_c0_inside_csi(void **state)
{
    struct want w = {.dec = DEFAULT_DEC | SCREEN_DEC_CKM};
    check("\x1b[?\x08"
          "1h",
          &w, true);
    check("\x1b[?1\x7fh", &w, true);
    check("ab\x1b[?1\rh", &w, true);
    assert_int_equal(char_at("ab\x1b[?1\rhX", 0), 'X');
}

/* A byte of UTF-8 ends a CSI (the CSI does nothing), and is skipped in an
 * escape (the escape's final still counts), as in libvterm. */
static void test_modes_utf8_in_sequences(void **state)
{
    struct want w = {.dec = DEFAULT_DEC};
    check("\x1b[?1\xc3\xa9h", &w, true);
    w.keypad = true;
    check("\x1b\xc3\xa9=", &w, true);
}

/* ESC with intermediates: a designation (ESC ( 0) ends at its final byte;
 * '[', ']' and 'P' after intermediates start a CSI, an OSC, a DCS. */
static void test_modes_esc_intermediates(void **state)
{
    struct want w = {.dec = DEFAULT_DEC | SCREEN_DEC_CKM};
    check("\x1b(B\x1b[?1h", &w, true);
    check("\x1b( [?1h", &w, true);
    w.dec = DEFAULT_DEC;
    w.title = "x";
    check("\x1b#]2;x\x07", &w, true);
    w.title = NULL;
    w.dec = DEFAULT_DEC | SCREEN_DEC_CKM;
    check("\x1b(Pq\x1b[?1h\x1b\\", &w, true);
    w.dec = DEFAULT_DEC;
    /* other escapes leave every mode alone; = and > set the keypad */
    check("\x1b="
          "\x1b>\x1b"
          "7\x1b"
          "8\x1b"
          "D",
          &w, true);
}

/* CSI parameters: 15 separators still apply every one (as xterm and
 * xterm.js; libvterm 0.1.4 applies only the first mode of a DECSET: keys
 * not compared); a number past 65535 stops there and is no mode; the
 * leaders '<', '=' and '>' make DECSET a different function. */
static void test_modes_params(void **state)
{
    struct want w = {.dec = DEFAULT_DEC | SCREEN_DEC_CKM | SCREEN_DEC_FOCUS};
    check("\x1b[?0;0;0;0;0;0;0;0;0;0;0;0;0;0;1;1004h", &w, false);
    w.dec = DEFAULT_DEC;
    /* libvterm 0.1.4 wraps 4294967297 to 1 and sets DECCKM; xterm.js (the
     * terminal the repaint is for) clamps it: keys not compared */
    check("\x1b[?99999991h\x1b[?4294967297h", &w, false);
    check("\x1b[<1h\x1b[=1h\x1b[>1h", &w, true);
    w.dec = DEFAULT_DEC | SCREEN_DEC_CKM;
    check("\x1b[?;1h", &w, false);
}

/* The mouse tracking modes exclude each other, as do the encodings; the
 * last one set wins, and resetting one leaves the others alone. */
static void test_modes_mouse_exclusive(void **state)
{
    struct want w = {.dec = DEFAULT_DEC | SCREEN_DEC_MOUSE_BTN | SCREEN_DEC_MOUSE_SGR};
    check("\x1b[?1000h\x1b[?1002h\x1b[?1005h\x1b[?1006h", &w, false);
    w.dec = DEFAULT_DEC | SCREEN_DEC_MOUSE_ANY;
    check("\x1b[?9h\x1b[?1003h\x1b[?1015h\x1b[?1015l", &w, false);
    w.dec = DEFAULT_DEC | SCREEN_DEC_MOUSE_X10 | SCREEN_DEC_MOUSE_URXVT;
    check("\x1b[?1000h\x1b[?9h\x1b[?1006h\x1b[?1015h\x1b[?1000l", &w, false);
}

/* RIS puts every mode back, keeps the title, and ends the region. */
static void test_modes_hard_reset(void **state)
{
    struct want w = {.dec = DEFAULT_DEC, .title = "t"};
    check("\x1b]2;t\x07\x1b[?1h\x1b[?2004h\x1b[4h\x1b=\x1b[3;9r\x1b"
          "c",
          &w, false);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_modes_alternate_variants),
        cmocka_unit_test(test_modes_soft_reset_only_plain),
        cmocka_unit_test(test_modes_ansi),
        cmocka_unit_test(test_modes_scroll_region),
        cmocka_unit_test(test_modes_region_set),
        cmocka_unit_test(test_modes_title_variants),
        cmocka_unit_test(test_modes_string_ends),
        cmocka_unit_test(test_modes_can_sub),
        cmocka_unit_test(test_modes_c0_inside_csi),
        cmocka_unit_test(test_modes_utf8_in_sequences),
        cmocka_unit_test(test_modes_esc_intermediates),
        cmocka_unit_test(test_modes_params),
        cmocka_unit_test(test_modes_mouse_exclusive),
        cmocka_unit_test(test_modes_hard_reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
