/* test_screen_cells.c - cells the repaint of the screen model
 * (src/screen/screen_repaint.c) must reproduce beyond plain coloured text:
 * erased cells keeping each attribute of the pen that erased them, the
 * right half of a wide character overwritten, box drawing next to text,
 * code points no terminal can be sent; and the model's calls on a
 * hibernating model (a short repaint buffer, a look at the cells, a resize
 * to the same size). Each compared with libvterm fed the same bytes. */
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

static void assert_same(struct screen *a, struct screen *b)
{
    const char *why = screen_check_same(a, b, true);
    if (why)
        fail_msg("%s", why);
}

/* Feed, repaint into a fresh model, compare; then the same continuation to
 * both, compare again. */
static void round_trip(unsigned w, unsigned h, const char *bytes, const char *then)
{
    struct screen *a = screen_new(w, h);
    feed(a, bytes);
    struct screen *b = screen_check_repaint(a);
    assert_non_null(b);
    assert_same(a, b);
    feed(a, then);
    feed(b, then);
    assert_same(a, b);
    screen_free(a);
    screen_free(b);
}

/* ECH with each attribute in the pen: the erased cells keep it (a terminal
 * paints them with it), each attribute on its own. */
static void test_cells_erased_with_each_attribute(void **state)
{
    static const char *sgr[] = {"1", "4", "3", "5", "7", "9", "11", "21", "4:3", "41", "48;5;17"};
    for (size_t i = 0; i < sizeof(sgr) / sizeof(sgr[0]); i++) {
        char buf[128];
        snprintf(buf, sizeof(buf), "ab\x1b[%sm\x1b[5X\x1b[0m\x1b[9Cz\x1b[%sm\x1b[3;70H\x1b[K",
                 sgr[i], sgr[i]);
        round_trip(80, 24, buf, "\x1b[0m after");
    }
    /* two runs of erased cells with different pens on one row, the first
     * after text, the second at the end of the row */
    round_trip(20, 3, "x\x1b[1m\x1b[3X\x1b[4C\x1b[0;7m\x1b[K\x1b[0m", "y");
}

/* A wide character whose right half was overwritten, and one whose left
 * half was: libvterm's cells are repainted as it holds them. */
static void test_cells_wide_halves(void **state)
{
    round_trip(20, 3, "\xe6\x97\xa5\xe6\x9c\xac\x1b[1;2Hx", "!");
    round_trip(20, 3, "\xe6\x97\xa5\xe6\x9c\xac\x1b[1;3Hy", "!");
    round_trip(20, 3, "\x1b[1;19H\xe6\x97\xa5\xe6\x9c\xac", "!");
}

/* Box drawing, at or past U+0300 but never combining, does not make the
 * repaint position the cell after it again; a mark does. */
static void test_cells_box_drawing(void **state)
{
    round_trip(20, 3, "\xe2\x94\x8c\xe2\x94\x80\xe2\x94\x90x\r\n\xe2\x94\x82 \xe2\x94\x82",
               "\r\n\xe2\x94\x94\xe2\x94\x80\xe2\x94\x98");
    struct screen *a = screen_new(20, 3);
    feed(a, "\xe2\x94\x8c\xe2\x94\x80\xe2\x94\x90");
    uint8_t out[256];
    long n = screen_repaint(a, out, sizeof(out));
    assert_true(n > 0 && (size_t)n < sizeof(out));
    /* the three characters one after the other, no cursor motion between */
    const char *row = "\x1b[1;1H\xe2\x94\x8c\xe2\x94\x80\xe2\x94\x90";
    assert_non_null(memmem(out, (size_t)n, row, strlen(row)));
    screen_free(a);
}

/* What libvterm's decoder makes of UTF-8 for a code point past U+10FFFF
 * or a surrogate is repainted as U+FFFD: nothing a terminal rejects. */
static void test_cells_invalid_code_points(void **state)
{
    static const char *bad[] = {"a\xf7\xbf\xbf\xbf"
                                "b",
                                "a\xed\xa0\x80"
                                "b",
                                "a\xf4\x90\x80\x80"
                                "b"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct screen *a = screen_new(20, 3);
        feed(a, bad[i]);
        uint8_t out[512];
        long n = screen_repaint(a, out, sizeof(out));
        assert_true(n > 0 && (size_t)n < sizeof(out));
        for (long k = 0; k + 3 < n; k++) /* no 4-byte sequence past F4 8F, no ED A0-BF */
            assert_false(out[k] >= 0xf5 || (out[k] == 0xf4 && out[k + 1] >= 0x90) ||
                         (out[k] == 0xed && out[k + 1] >= 0xa0));
        struct screen *b = screen_check_repaint(a);
        const char *why = screen_check_same(a, b, false);
        if (why)
            fail_msg("%zu: %s", i, why);
        screen_free(b);
        screen_free(a);
    }
}

/* A hibernating model: a repaint into a short buffer gives the image's
 * first bytes and its whole length; a look at the cells wakes it; a resize
 * to the size it has (or clamps to) changes nothing and keeps it asleep. */
static void test_cells_hibernating_calls(void **state)
{
    struct screen *a = screen_new(80, 24), *b = screen_new(80, 24);
    const char *out = "\x1b[1mbold\x1b[0m $ \x1b]2;x\x07";
    feed(a, out);
    feed(b, out);
    long n = screen_repaint(a, NULL, 0);
    uint8_t *full = malloc((size_t)n);
    assert_int_equal(screen_repaint(a, full, (size_t)n), n);
    assert_int_equal(screen_hibernate(a), 0);
    assert_null(a->vt);
    uint8_t part[10];
    assert_int_equal(screen_repaint(a, part, sizeof(part)), n);
    assert_memory_equal(part, full, sizeof(part));
    uint8_t *roomy = malloc((size_t)n + 16);
    memset(roomy, 'Z', (size_t)n + 16);
    assert_int_equal(screen_repaint(a, roomy, (size_t)n + 16), n);
    assert_memory_equal(roomy, full, (size_t)n);
    assert_int_equal(roomy[n], 'Z'); /* nothing past the image */
    free(roomy);
    size_t asleep = screen_memory(a);
    assert_int_equal(screen_resize(a, 80, 24), 0);
    assert_int_equal(screen_memory(a), asleep);
    assert_null(a->vt);
    assert_non_null(screen_vterm(a)); /* wakes it */
    assert_non_null(a->vt);
    assert_null(a->image);
    assert_same(a, b);
    free(full);
    screen_free(a);
    screen_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cells_erased_with_each_attribute),
        cmocka_unit_test(test_cells_wide_halves),
        cmocka_unit_test(test_cells_box_drawing),
        cmocka_unit_test(test_cells_invalid_code_points),
        cmocka_unit_test(test_cells_hibernating_calls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
