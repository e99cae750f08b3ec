/* test_record_writer.c - a recording's writer on a real libuv loop and real
 * files: the bytes arrive whole and in order; a full disk (/dev/full) is
 * reported once as a disk error with its reason, later lines are refused,
 * and close still closes and says why; a file-size limit cuts a write short
 * (the rest is tried, then EFBIG); a descriptor that is not open fails the
 * write and the close with their reasons; a failure during close goes to
 * closed() only; a writer without callbacks works. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "record/record_writer.h"
#include "unit_tmpdir.h"

#define WHY_CAP 512
#define NOT_OPEN_FD 4000 /* far above what a test opens, below any fd limit */

struct seen {
    int failed, wrote, closed;
    bool disk_error;
    char failed_why[WHY_CAP];
    char closed_why[WHY_CAP]; /* "" when closed() said NULL */
};

static void on_failed(void *user, const char *why, bool disk_error)
{
    struct seen *s = user;
    s->failed++;
    s->disk_error = disk_error;
    snprintf(s->failed_why, sizeof(s->failed_why), "%s", why);
}

static void on_wrote(void *user)
{
    ((struct seen *)user)->wrote++;
}

static void on_closed(void *user, const char *why)
{
    struct seen *s = user;
    s->closed++;
    snprintf(s->closed_why, sizeof(s->closed_why), "%s", why ? why : "");
}

static int open_file(const char *name, char *path, size_t cap)
{
    snprintf(path, cap, "%s/%s", unit_dir, name);
    int fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    return fd;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char buf[1 << 16];
    *len = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    return buf;
}

static void test_writes_in_order(void **state)
{
    char path[UNIT_TMPDIR_PATH_MAX];
    int fd = open_file("order.cast", path, sizeof(path));
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct seen s = {0};
    struct record_writer *w = record_writer_new(&loop, fd, on_failed, on_wrote, &s);
    assert_non_null(w);
    char want[8000];
    size_t total = 0;
    for (int i = 0; i < 500; i++) {
        int n = snprintf(want + total, sizeof(want) - total, "[%d, \"o\", \"x\"]\n", i);
        assert_int_equal(record_writer_append(w, want + total, (size_t)n), 0);
        total += (size_t)n;
        if (i % 100 == 0)
            uv_run(&loop, UV_RUN_NOWAIT);
    }
    assert_int_equal(record_writer_bytes(w), total);
    uv_run(&loop, UV_RUN_DEFAULT); /* every write done: wrote() heard of each */
    assert_true(s.wrote >= 1);
    assert_int_equal(record_writer_pending(w), 0);
    record_writer_close(w, on_closed, &s);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(s.closed, 1);
    assert_string_equal(s.closed_why, "");
    assert_int_equal(s.failed, 0);
    size_t len;
    char *got = slurp(path, &len);
    assert_int_equal(len, total);
    assert_memory_equal(got, want, total);
    assert_int_equal(uv_loop_close(&loop), 0);
}

/* /dev/full: ENOSPC reported once, as a disk error; the next line is
 * refused; close says why the file is short. */
static void test_disk_full(void **state)
{
    int fd = open("/dev/full", O_WRONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct seen s = {0};
    struct record_writer *w = record_writer_new(&loop, fd, on_failed, on_wrote, &s);
    assert_int_equal(record_writer_append(w, "{\"version\": 2}\n", 15), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(s.failed, 1);
    assert_true(s.disk_error);
    assert_string_equal(s.failed_why, "cannot write the recording: no space left on device");
    assert_int_equal(s.wrote, 0);
    assert_int_equal(record_writer_append(w, "[0.1, \"o\", \"x\"]\n", 16), -1);
    assert_int_equal(record_writer_pending(w), 0);
    record_writer_close(w, on_closed, &s);
    record_writer_close(w, on_closed, &s); /* a second close is ignored */
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(s.closed, 1);
    assert_string_equal(s.closed_why, "cannot write the recording: no space left on device");
    assert_int_equal(s.failed, 1);
    assert_int_equal(uv_loop_close(&loop), 0);
}

/* Closed right after the line: the write fails while closing, and only
 * closed() hears of it (failed() is for a writer still in use). */
static void test_disk_full_while_closing(void **state)
{
    int fd = open("/dev/full", O_WRONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct seen s = {0};
    struct record_writer *w = record_writer_new(&loop, fd, on_failed, on_wrote, &s);
    assert_int_equal(record_writer_append(w, "line\n", 5), 0);
    record_writer_close(w, on_closed, &s);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(s.failed, 0);
    assert_int_equal(s.closed, 1);
    assert_string_equal(s.closed_why, "cannot write the recording: no space left on device");
    assert_int_equal(uv_loop_close(&loop), 0);
}

#define FSIZE_LIMIT 100

/* RLIMIT_FSIZE: the write stops at the limit (a short write), the writer
 * writes the rest, which fails with EFBIG; the file holds the first bytes. */
static void test_short_write_then_file_too_large(void **state)
{
    char path[UNIT_TMPDIR_PATH_MAX];
    int fd = open_file("fsize.cast", path, sizeof(path));
    struct rlimit old;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit lim = {FSIZE_LIMIT, old.rlim_max};
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct seen s = {0};
    struct record_writer *w = record_writer_new(&loop, fd, on_failed, on_wrote, &s);
    char line[FSIZE_LIMIT + 50];
    memset(line, 'y', sizeof(line) - 1);
    line[sizeof(line) - 1] = '\n';
    assert_int_equal(record_writer_append(w, line, sizeof(line)), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, SIG_DFL);
    assert_int_equal(s.failed, 1);
    assert_true(s.disk_error);
    assert_string_equal(s.failed_why, "cannot write the recording: file too large");
    assert_int_equal(s.wrote, 1); /* the short write went through */
    record_writer_close(w, on_closed, &s);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_string_equal(s.closed_why, "cannot write the recording: file too large");
    size_t len;
    char *got = slurp(path, &len);
    assert_int_equal(len, FSIZE_LIMIT);
    assert_memory_equal(got, line, FSIZE_LIMIT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

/* A descriptor that is not open: the write fails with EBADF; with nothing
 * written, the close itself reports EBADF. */
static void test_bad_descriptor(void **state)
{
    assert_int_equal(fcntl(NOT_OPEN_FD, F_GETFD), -1);
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct seen s = {0};
    struct record_writer *w = record_writer_new(&loop, NOT_OPEN_FD, on_failed, on_wrote, &s);
    assert_int_equal(record_writer_append(w, "x\n", 2), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_string_equal(s.failed_why, "cannot write the recording: bad file descriptor");
    record_writer_close(w, on_closed, &s);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_string_equal(s.closed_why, "cannot write the recording: bad file descriptor");

    struct seen t = {0};
    w = record_writer_new(&loop, NOT_OPEN_FD, on_failed, on_wrote, &t);
    record_writer_close(w, on_closed, &t);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(t.failed, 0);
    assert_int_equal(t.closed, 1);
    assert_string_equal(t.closed_why, "cannot close the recording: bad file descriptor");
    assert_int_equal(uv_loop_close(&loop), 0);
}

/* No callbacks at all (record_abandon's close): lines are written, a
 * refused line is not reported to anyone, close frees. */
static void test_no_callbacks(void **state)
{
    char path[UNIT_TMPDIR_PATH_MAX];
    int fd = open_file("quiet.cast", path, sizeof(path));
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct record_writer *w = record_writer_new(&loop, fd, NULL, NULL, NULL);
    /* fill the buffer while the first write is in flight: one refusal */
    static char chunk[64 * 1024];
    memset(chunk, 'c', sizeof(chunk));
    int refused = 0;
    for (int i = 0; i < 40; i++)
        if (record_writer_append(w, chunk, sizeof(chunk)) < 0)
            refused++;
    assert_true(refused > 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(record_writer_append(w, "end\n", 4), 0);
    record_writer_close(NULL, NULL, NULL);
    record_writer_close(w, NULL, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, (40 - refused) * (off_t)sizeof(chunk) + 4);
    assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_writes_in_order),
        cmocka_unit_test(test_disk_full),
        cmocka_unit_test(test_disk_full_while_closing),
        cmocka_unit_test(test_short_write_then_file_too_large),
        cmocka_unit_test(test_bad_descriptor),
        cmocka_unit_test(test_no_callbacks),
    };
    return cmocka_run_group_tests(tests, unit_tmpdir_setup, unit_tmpdir_teardown);
}
