/* test_util_oom.c - out of memory in util: util_file_read's every refused
 * allocation (the first buffer, each doubling) is -ENOMEM with *out NULL and
 * its message, never a short read passed off as the file; util_json_text is
 * the whole text or NULL. The first sweep also proves unit_oom.h's hook (a
 * clean run ends the sweep). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "unit_oom.h"
#include "unit_tmpdir.h"
#include "util/util_file.h"
#include "util/util_json.h"

/* Larger than the first buffer, so the read grows it several times. */
#define FILE_BYTES (300 * 1024)
#define ERR_CAP 256

struct read_case {
    char path[UNIT_TMPDIR_PATH_MAX];
    long runs_failed;
};

static void read_step(void *ctx)
{
    struct read_case *rc = ctx;
    char *out = (char *)1;
    size_t len = 0;
    char err[ERR_CAP] = "";
    int rv = util_file_read(rc->path, FILE_BYTES, &out, &len, err, sizeof(err));
    if (unit_oom_hit()) {
        rc->runs_failed++;
        assert_int_equal(rv, -ENOMEM);
        assert_null(out);
        char want[ERR_CAP + UNIT_TMPDIR_PATH_MAX];
        snprintf(want, sizeof(want), "%s: cannot read the file", rc->path);
        assert_string_equal(err, want);
        return;
    }
    assert_int_equal(rv, 0);
    assert_int_equal(len, FILE_BYTES);
    for (size_t i = 0; i < len; i++)
        if (out[i] != (char)('a' + i % 26))
            fail_msg("byte %zu differs", i);
    assert_int_equal(out[len], '\0');
    free(out);
}

static void test_read_out_of_memory(void **state)
{
    (void)state;
    struct read_case rc = {0};
    snprintf(rc.path, sizeof(rc.path), "%s/f", unit_dir);
    FILE *f = fopen(rc.path, "w");
    assert_non_null(f);
    for (size_t i = 0; i < FILE_BYTES; i++)
        fputc('a' + (int)(i % 26), f);
    assert_int_equal(fclose(f), 0);

    long allocations = unit_oom_sweep(read_step, &rc);
    assert_true(allocations >= 2); /* the first buffer and at least one growth */
    assert_int_equal(rc.runs_failed, allocations);
}

/* util_json_text: the whole text or NULL, with its newline when asked. */
static void json_step(void *ctx)
{
    const json_t *o = ctx;
    size_t len = 0;
    char *line = util_json_text(o, JSON_COMPACT | JSON_PRESERVE_ORDER, true, &len);
    if (unit_oom_hit()) {
        assert_null(line);
        return;
    }
    static const char want[] = "{\"kind\":\"Status\",\"code\":503,\"message\":\"out of memory\"}\n";
    assert_non_null(line);
    assert_int_equal(len, strlen(want));
    assert_string_equal(line, want);
    free(line);
}

static void test_json_text_whole_or_nothing(void **state)
{
    (void)state;
    json_t *o =
        json_pack("{s:s, s:i, s:s}", "kind", "Status", "code", 503, "message", "out of memory");
    assert_non_null(o);
    assert_int_equal(unit_oom_sweep(json_step, o), 1); /* one buffer, measured first */
    size_t len = 7;
    char *text = util_json_text(o, JSON_COMPACT | JSON_PRESERVE_ORDER, false, &len);
    assert_string_equal(text, "{\"kind\":\"Status\",\"code\":503,\"message\":\"out of memory\"}");
    assert_int_equal(len, strlen(text));
    free(text);
    json_decref(o);
    assert_null(util_json_text(NULL, JSON_COMPACT, false, &len)); /* nothing to say */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_out_of_memory),
        cmocka_unit_test(test_json_text_whole_or_nothing),
    };
    return cmocka_run_group_tests(tests, unit_tmpdir_setup, unit_tmpdir_teardown);
}
