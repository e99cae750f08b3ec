/* test_util_file_grow.c - util_file_read grows its buffer from 64 KiB: files
 * around and past the first buffer and its doublings come back byte for
 * byte, and the bound stays exact when it lies between two sizes. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "unit_tmpdir.h"

#include "util/util_file.h"

static const char *write_bytes(size_t n)
{
    static char path[128];
    snprintf(path, sizeof(path), "%s/f%zu", unit_dir, n);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    for (size_t i = 0; i < n; i++)
        fputc((int)(i * 7 % 251), f);
    fclose(f);
    return path;
}

static void check_read(size_t size, size_t max, int want)
{
    const char *p = write_bytes(size);
    char *buf;
    size_t len;
    int rc = util_file_read(p, max, &buf, &len, NULL, 0);
    assert_int_equal(rc, want);
    if (rc < 0) {
        assert_null(buf);
        return;
    }
    assert_int_equal(len, size);
    for (size_t i = 0; i < size; i++)
        if ((unsigned char)buf[i] != i * 7 % 251)
            fail_msg("byte %zu differs", i);
    assert_int_equal(buf[size], '\0');
    free(buf);
}

static void test_sizes_around_chunks(void **state)
{
    const size_t k = 64 * 1024;
    size_t sizes[] = {0, 1, k - 1, k, k + 1, 2 * k, 2 * k + 1, 4 * k + 3, 300000};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
        check_read(sizes[i], 1024 * 1024, 0);
}

static void test_bound_between_sizes(void **state)
{
    check_read(100000, 100000, 0);
    check_read(100001, 100000, -EFBIG);
    check_read(3 * 65536, 3 * 65536 - 1, -EFBIG);
    check_read(10, 9, -EFBIG);
    check_read(9, 9, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sizes_around_chunks),
        cmocka_unit_test(test_bound_between_sizes),
    };
    return cmocka_run_group_tests(tests, unit_tmpdir_setup, unit_tmpdir_teardown);
}
