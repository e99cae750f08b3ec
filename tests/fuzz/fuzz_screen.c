/* fuzz_screen.c - libFuzzer target for the screen model (src/screen/):
 * arbitrary output and resizes in, a repaint out.
 *
 * Input: a size, then commands: 0x00 W H (resize to W x H, each 1..255
 * taken modulo a bound), 0x01 L (the next L bytes as one write), 0x02 N L
 * (the next L bytes written 64 x (1 + N % 16) times), any other byte starts
 * a run of output up to the next command byte.
 * Checks:
 *  - no crash, no leak, and the model's memory within its stated bound;
 *  - differential: a second model that gives libvterm every byte (no
 *    deferred text) ends with the same cells, cursor, pen, modes and keys;
 *  - round trip: the repaint, fed into a fresh model of the same size,
 *    reproduces the cells (each row up to its first character past U+02FF
 *    or two columns wide: screen_check.h says why), the cursor, the pen,
 *    the modes and the title; and it never exceeds screen_repaint_bound;
 *  - hibernation: the model asleep repaints the same bytes, holds only them,
 *    and wakes into the round trip's screen. */
#include <locale.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/screen_check.h"

#define FUZZ_COLS_MAX 120
#define FUZZ_ROWS_MAX 50

static void fuzz_fail(const char *what)
{
    fprintf(stderr, "fuzz_screen: %s\n", what);
    abort();
}

/* screen.h's bound: the cells (and the alternate screen's), libvterm's
 * state, the deferred text. */
static void fuzz_check_memory(struct screen *s)
{
    unsigned w, h;
    screen_size(s, &w, &h);
    size_t cells = (size_t)w * h * sizeof(VTermScreenCell);
    size_t bound = sizeof(struct screen) + 2 * cells + 64 * 1024 + (size_t)h * 64 + (size_t)w * 8 +
                   2 * (2 * (size_t)h + 2) * ((size_t)w + 2) + 16 * 1024;
    if (screen_memory(s) > bound)
        fuzz_fail("memory over its bound");
}

static void fuzz_feed(struct screen *a, struct screen *b, const uint8_t *p, size_t n)
{
    screen_feed(a, p, n);
    screen_feed(b, p, n);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    /* wcwidth() for screen_check.h's lone combining marks */
    if (!setlocale(LC_CTYPE, "C.UTF-8"))
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    unsigned w = 1 + data[0] % FUZZ_COLS_MAX, h = 1 + data[1] % FUZZ_ROWS_MAX;
    struct screen *a = screen_new(w, h), *b = screen_new(w, h);
    if (!a || !b)
        abort();
    screen_set_defer(b, false);
    size_t i = 2;
    while (i < size) {
        if (data[i] == 0x00 && i + 2 < size) {
            unsigned nw = 1 + data[i + 1] % FUZZ_COLS_MAX, nh = 1 + data[i + 2] % FUZZ_ROWS_MAX;
            screen_resize(a, nw, nh);
            screen_resize(b, nw, nh);
            i += 3;
        } else if (data[i] == 0x02 && i + 2 < size) {
            /* the next L bytes written 64 x N times: enough output to fill
             * the deferred text and make it drop what scrolls away */
            size_t reps = 64u * (1u + data[i + 1] % 16u), n = data[i + 2];
            if (n > size - i - 3)
                n = size - i - 3;
            for (size_t r = 0; r < reps && n; r++)
                fuzz_feed(a, b, data + i + 3, n);
            i += 3 + n;
        } else if (data[i] == 0x01 && i + 1 < size) {
            size_t n = data[i + 1];
            if (n > size - i - 2)
                n = size - i - 2;
            fuzz_feed(a, b, data + i + 2, n);
            i += 2 + n;
        } else {
            size_t j = i + 1;
            while (j < size && data[j] > 0x02)
                j++;
            fuzz_feed(a, b, data + i, j - i);
            i = j;
        }
        fuzz_check_memory(a);
    }
    const char *why = screen_check_same(a, b, true);
    if (why)
        fuzz_fail(why);
    size_t bound = screen_repaint_bound(a);
    long need = screen_repaint(a, NULL, 0);
    if (need < 0 || (size_t)need > bound)
        fuzz_fail("repaint over its bound");
    struct screen *c = screen_check_repaint(a);
    if (!c)
        abort();
    screen_check_ascii_rows = true;
    why = screen_check_same(a, c, false);
    screen_check_ascii_rows = false;
    if (why && screen_vterm(a))
        fuzz_fail(why);
    /* Hibernating: the repaint is unchanged, memory falls to the struct and
     * the repaint, and the model wakes into the repaint's screen (c's). */
    uint8_t *r1 = malloc((size_t)need + 1), *r2 = malloc((size_t)need + 1);
    if (!r1 || !r2)
        abort();
    long n1 = screen_repaint(a, r1, (size_t)need + 1);
    if (screen_hibernate(a) == 0 && a->image) {
        if (screen_memory(a) != sizeof(*a) + (size_t)n1)
            fuzz_fail("a hibernating model holds more than its repaint");
        if (screen_repaint(a, r2, (size_t)need + 1) != n1 || memcmp(r1, r2, (size_t)n1) != 0)
            fuzz_fail("a hibernating model repaints differently");
        screen_check_ascii_rows = true;
        why = screen_check_same(a, c, false); /* screen_vterm wakes it */
        screen_check_ascii_rows = false;
        if (why)
            fuzz_fail(why);
    }
    free(r1);
    free(r2);
    screen_free(a);
    screen_free(b);
    screen_free(c);
    return 0;
}
