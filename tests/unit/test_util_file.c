/* test_util_file.c - util_file_read: the bound is exact (max_bytes is read,
 * one byte more is refused), the content comes back byte for byte with a NUL
 * after it, and every failure has its code and its message naming the file. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/util_file.h"

#define PATH_CAP 128

struct fixture {
    char dir[64];
    char path[PATH_CAP];
};

static int fixture_setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    if (!fx)
        return -1;
    snprintf(fx->dir, sizeof(fx->dir), "/tmp/test_util_file_XXXXXX");
    if (!mkdtemp(fx->dir))
        return -1;
    snprintf(fx->path, sizeof(fx->path), "%s/f", fx->dir);
    *state = fx;
    return 0;
}

static int fixture_teardown(void **state)
{
    struct fixture *fx = *state;
    unlink(fx->path);
    rmdir(fx->dir);
    free(fx);
    return 0;
}

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* util_file_read(path, max) fails with rc, *out NULL, *len 0 and the message
 * "<path>: <why>". */
static void expect_fail(const char *path, size_t max, int rc, const char *why)
{
    char *buf = (char *)1, err[256] = "", want[PATH_CAP + 64];
    size_t len = 99;
    assert_int_equal(util_file_read(path, max, &buf, &len, err, sizeof(err)), rc);
    assert_null(buf);
    assert_int_equal(len, 0);
    snprintf(want, sizeof(want), "%s: %s", path, why);
    assert_string_equal(err, want);
}

static void test_exactly_max_bytes(void **state)
{
    struct fixture *fx = *state;
    static const char content[] = "ab\0cd\n"; /* a NUL inside is content, not the end */
    write_file(fx->path, content, 6);
    char *buf = (char *)1, err[256] = "untouched";
    size_t len = 99;
    assert_int_equal(util_file_read(fx->path, 6, &buf, &len, err, sizeof(err)), 0);
    assert_int_equal(len, 6);
    assert_memory_equal(buf, content, 7); /* the 6 bytes and the NUL after them */
    assert_string_equal(err, "untouched");
    free(buf);
}

static void test_one_byte_over_is_too_large(void **state)
{
    struct fixture *fx = *state;
    write_file(fx->path, "1234567", 7);
    expect_fail(fx->path, 6, -EFBIG, "the file is too large");
}

static void test_empty_file(void **state)
{
    struct fixture *fx = *state;
    write_file(fx->path, "", 0);
    char *buf = NULL;
    size_t len = 99;
    assert_int_equal(util_file_read(fx->path, 0, &buf, &len, NULL, 0), 0);
    assert_int_equal(len, 0);
    assert_string_equal(buf, "");
    free(buf);
}

/* Several MiB come back whole: the read loop does not stop at one read(). */
static void test_large_file_whole(void **state)
{
    struct fixture *fx = *state;
    size_t n = 3 * 1024 * 1024 + 17;
    char *data = malloc(n);
    assert_non_null(data);
    for (size_t i = 0; i < n; i++)
        data[i] = (char)(i * 31 + i / 4096);
    write_file(fx->path, data, n);
    char *buf = NULL;
    size_t len = 0;
    assert_int_equal(util_file_read(fx->path, 4 * 1024 * 1024, &buf, &len, NULL, 0), 0);
    assert_int_equal(len, n);
    assert_memory_equal(buf, data, n);
    assert_int_equal(buf[n], '\0');
    free(buf);
    free(data);
}

static void test_missing_file(void **state)
{
    expect_fail("/nonexistent/util-file", 10, -ENOENT, "No such file or directory");
}

/* A directory opens but cannot be read. */
static void test_directory_cannot_be_read(void **state)
{
    struct fixture *fx = *state;
    expect_fail(fx->dir, 10, -EIO, "cannot read the file");
}

static void test_unreadable_file(void **state)
{
    struct fixture *fx = *state;
    if (geteuid() == 0)
        skip(); /* root reads it anyway */
    write_file(fx->path, "secret", 6);
    assert_int_equal(chmod(fx->path, 0), 0);
    expect_fail(fx->path, 10, -EACCES, "Permission denied");
}

/* A bound so large that bound + 1 would wrap is refused before any allocation. */
static void test_absurd_bound(void **state)
{
    struct fixture *fx = *state;
    write_file(fx->path, "x", 1);
    expect_fail(fx->path, SIZE_MAX, -EINVAL, "Invalid argument");
}

/* err may be NULL when the caller words its own message from the code, and a
 * short err is cut, not overrun. */
static void test_err_optional_and_bounded(void **state)
{
    struct fixture *fx = *state;
    write_file(fx->path, "1234567", 7);
    char *buf = NULL;
    size_t len = 0;
    assert_int_equal(util_file_read(fx->path, 3, &buf, &len, NULL, 0), -EFBIG);
    char small[8];
    assert_int_equal(util_file_read(fx->path, 3, &buf, &len, small, sizeof(small)), -EFBIG);
    assert_int_equal(strlen(small), sizeof(small) - 1);
    assert_memory_equal(small, fx->path, sizeof(small) - 1);
}

int main(void)
{
#define FX_TEST(f) cmocka_unit_test_setup_teardown(f, fixture_setup, fixture_teardown)
    const struct CMUnitTest tests[] = {
        FX_TEST(test_exactly_max_bytes),
        FX_TEST(test_one_byte_over_is_too_large),
        FX_TEST(test_empty_file),
        FX_TEST(test_large_file_whole),
        FX_TEST(test_missing_file),
        FX_TEST(test_directory_cannot_be_read),
        FX_TEST(test_unreadable_file),
        FX_TEST(test_absurd_bound),
        FX_TEST(test_err_optional_and_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
