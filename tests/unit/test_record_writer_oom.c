/* test_record_writer_oom.c - a recording's writer out of memory: a writer
 * that cannot be made closes the descriptor it was given (no fd leak); a
 * line that finds no buffer is refused (-1) and never half-queued; close
 * still writes what was accepted and frees everything. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "record/record_writer.h"
#include "unit_oom.h"
#include "unit_tmpdir.h"

#define LINES 3
#define LINE_LEN 5000 /* more than RECORD_BUF_MIN: the buffer grows */

struct writer_case {
    int run;
    long refused_new, refused_line;
};

static void on_closed(void *user, const char *why)
{
    assert_null(why);
    (*(int *)user)++;
}

static void writer_step(void *ctx)
{
    struct writer_case *c = ctx;
    char path[UNIT_TMPDIR_PATH_MAX];
    snprintf(path, sizeof(path), "%s/run%d.cast", unit_dir, c->run++);
    int fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct record_writer *w = record_writer_new(&loop, fd, NULL, NULL, NULL);
    if (!w) {
        assert_true(unit_oom_hit());
        assert_int_equal(fcntl(fd, F_GETFD), -1); /* closed, not leaked */
        assert_int_equal(errno, EBADF);
        c->refused_new++;
        assert_int_equal(uv_loop_close(&loop), 0);
        return;
    }
    static char line[LINE_LEN];
    memset(line, 'l', sizeof(line) - 1);
    line[sizeof(line) - 1] = '\n';
    size_t accepted = 0;
    for (int i = 0; i < LINES; i++) {
        if (record_writer_append(w, line, sizeof(line)) == 0) {
            accepted++;
            continue;
        }
        assert_true(unit_oom_hit());
        c->refused_line++;
    }
    assert_int_equal(record_writer_bytes(w), accepted * sizeof(line));
    int closed = 0;
    record_writer_close(w, on_closed, &closed);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(closed, 1);
    assert_int_equal(uv_loop_close(&loop), 0);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, (off_t)(accepted * sizeof(line)));
    if (!unit_oom_hit())
        assert_int_equal(accepted, LINES);
}

static void test_writer_out_of_memory(void **state)
{
    (void)state;
    struct writer_case c = {0};
    long allocations = unit_oom_sweep(writer_step, &c);
    assert_true(allocations >= 3);
    assert_int_equal(c.refused_new, 1);
    assert_true(c.refused_line >= 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_writer_out_of_memory),
    };
    return cmocka_run_group_tests(tests, unit_tmpdir_setup, unit_tmpdir_teardown);
}
