/* test_screen_oom.c - the screen model out of memory (src/screen/screen.c):
 * a refused model is NULL; a refused deferred-text buffer makes the model
 * stale, and from then on every feed, resize and repaint says so (-1)
 * while hibernating does nothing and freeing frees everything; a refused
 * hibernation image leaves the model awake and whole.
 *
 * Not swept: libvterm's own allocations (its cells, made through
 * screen.c's allocator). libvterm 0.1.4 uses what its allocator returns
 * without a NULL check, so refusing one of those crashes inside libvterm;
 * the steps below only fail allocations made after libvterm's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "screen/screen_internal.h"
#include "unit_oom.h"

static void new_step(void *ctx)
{
    long *refused = ctx;
    struct screen *s = screen_new(80, 24);
    if (unit_oom_hit()) {
        assert_null(s);
        (*refused)++;
        return;
    }
    assert_non_null(s);
    unsigned w, h;
    screen_size(s, &w, &h);
    assert_int_equal(w, 80);
    assert_int_equal(h, 24);
    assert_int_equal(screen_memory(s), sizeof(struct screen));
    screen_free(s);
}

static void test_new_out_of_memory(void **state)
{
    long refused = 0;
    assert_int_equal(unit_oom_sweep(new_step, &refused), 1);
    assert_int_equal(refused, 1);
    screen_free(NULL); /* as free(NULL) */
}

/* A model whose libvterm exists (a BEL made it) and whose deferred-text
 * buffer does not yet. */
static struct screen *awake_model(void)
{
    struct screen *s = screen_new(80, 24);
    assert_non_null(s);
    assert_int_equal(screen_feed(s, (const uint8_t *)"\x07", 1), 0);
    assert_non_null(s->vt);
    assert_null(s->pending);
    return s;
}

/* Every call on a stale model says it is stale; hibernation does nothing. */
static void assert_stale(struct screen *s)
{
    assert_int_equal(screen_feed(s, (const uint8_t *)"more", 4), -1);
    assert_int_equal(screen_feed(s, (const uint8_t *)"", 0), -1);
    assert_int_equal(screen_feed(s, (const uint8_t *)"\x1b[H", 3), -1);
    assert_int_equal(screen_resize(s, 100, 30), -1);
    assert_int_equal(screen_repaint(s, NULL, 0), -1);
    size_t before = screen_memory(s);
    assert_int_equal(screen_hibernate(s), 0);
    assert_int_equal(screen_memory(s), before);
    assert_non_null(s->vt); /* kept: freed with the model */
    unsigned w, h;
    screen_size(s, &w, &h);
    assert_int_equal(w, 80);
    assert_int_equal(h, 24);
}

/* Text with the deferred-text buffer refused. */
static void test_pending_out_of_memory(void **state)
{
    static const char *writes[] = {
        "plain text",      /* text alone */
        "ab\x1b[3",        /* text, then an SGR split by the write */
        "\x1b[1mbold\r\n", /* an SGR first */
    };
    for (size_t i = 0; i < sizeof(writes) / sizeof(writes[0]); i++) {
        struct screen *s = awake_model();
        unit_oom_arm(0);
        int rc = screen_feed(s, (const uint8_t *)writes[i], strlen(writes[i]));
        assert_true(unit_oom_hit());
        unit_oom_arm(-1);
        assert_int_equal(rc, -1);
        assert_true(s->failed);
        assert_null(s->pending);
        assert_stale(s);
        screen_free(s);
    }
}

/* Hibernating with its image refused: -1, and the model stays awake with
 * the same screen. */
static void test_hibernate_out_of_memory(void **state)
{
    struct screen *s = awake_model();
    const char *out = "\x1b]2;t\x07$ ls\r\n\x1b[34mdir\x1b[0m file\r\n$ ";
    assert_int_equal(screen_feed(s, (const uint8_t *)out, strlen(out)), 0);
    long n = screen_repaint(s, NULL, 0);
    assert_true(n > 0);
    uint8_t *before = malloc((size_t)n), *after = malloc((size_t)n);
    assert_int_equal(screen_repaint(s, before, (size_t)n), n);
    size_t mem = screen_memory(s);
    unit_oom_arm(0);
    int rc = screen_hibernate(s);
    assert_true(unit_oom_hit());
    unit_oom_arm(-1);
    assert_int_equal(rc, -1);
    assert_false(s->failed);
    assert_non_null(s->vt);
    assert_null(s->image);
    assert_int_equal(screen_memory(s), mem);
    assert_int_equal(screen_repaint(s, after, (size_t)n), n);
    assert_memory_equal(after, before, (size_t)n);
    /* and it still works: output goes on, a hibernation then succeeds */
    assert_int_equal(screen_feed(s, (const uint8_t *)"x", 1), 0);
    assert_int_equal(screen_hibernate(s), 0);
    assert_null(s->vt);
    free(before);
    free(after);
    screen_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_out_of_memory),
        cmocka_unit_test(test_pending_out_of_memory),
        cmocka_unit_test(test_hibernate_out_of_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
