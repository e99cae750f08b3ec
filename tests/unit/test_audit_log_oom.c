/* test_audit_log_oom.c - the audit log out of memory: opening says "out of
 * memory"; a line that finds no memory is dropped and reported (the log
 * unhealthy, the line counted), never half-queued; a rotation that cannot
 * list or name old backups keeps them (nothing is deleted by mistake) and
 * goes on writing. Every run closes the log and frees everything (the
 * leak check at exit). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit/audit.h"
#include "audit/audit_log_internal.h"
#include "unit_oom.h"
#include "unit_tmpdir.h"

#define TEST_PATH_MAX 1024
#define OLD_BACKUPS 3

struct log_case {
    int run;
    long refused_open, refused_line, kept_backups;
};

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static size_t count_backups(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    size_t n = 0;
    for (struct dirent *e; (e = readdir(d));)
        if (strncmp(e->d_name, "audit-", 6) == 0)
            n++;
    closedir(d);
    return n;
}

static char *slurp(const char *path)
{
    static char buf[4096];
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void on_closed(void *user)
{
    (*(int *)user)++;
}

static void log_step(void *ctx)
{
    struct log_case *c = ctx;
    char dir[TEST_PATH_MAX], path[TEST_PATH_MAX + 16], name[TEST_PATH_MAX + 64];
    snprintf(dir, sizeof(dir), "%s/run%d", unit_dir, c->run++);
    assert_int_equal(mkdir(dir, 0700), 0);
    for (int i = 0; i < OLD_BACKUPS; i++) {
        snprintf(name, sizeof(name), "%s/audit-2026-01-0%dT00-00-00.000.log", dir, i + 1);
        write_file(name, "old\n");
    }
    snprintf(path, sizeof(path), "%s/audit.log", dir);
    write_file(path, "full\n");

    uv_loop_t loop;
    uv_loop_init(&loop);
    struct audit_log_opts o = {.path = path, .maxsize_mb = 1, .maxbackup = 1};
    char err[AUDIT_ERR_MAX] = "";
    struct audit_log *log = audit_log_new(&loop, &o, err, sizeof(err));
    if (!log) {
        assert_true(unit_oom_hit());
        assert_string_equal(err, "out of memory");
        c->refused_open++;
        assert_int_equal(uv_loop_close(&loop), 0);
        return;
    }
    log->size = AUDIT_MEGABYTE; /* the first line rotates */
    int rc = audit_log_write(log, "line\n", 5);
    uv_run(&loop, UV_RUN_DEFAULT);
    struct audit_log_stats st;
    audit_log_stats_get(log, &st);
    const char *why = NULL;
    bool healthy = audit_log_healthy(log, &why);
    if (rc < 0) {
        assert_true(unit_oom_hit());
        assert_false(healthy);
        assert_string_equal(why, "out of memory: a 5 byte line was dropped");
        assert_int_equal(st.lines_dropped, 1);
        assert_int_equal(st.lines_written, 0);
        c->refused_line++;
    } else {
        /* The line is written whatever a rotation could not allocate. */
        assert_true(healthy);
        assert_int_equal(st.lines_written, 1);
        assert_int_equal(st.rotations, 1);
        assert_string_equal(slurp(path), "line\n");
        size_t backups = count_backups(dir);
        if (unit_oom_hit()) {
            /* old backups are kept, never one too many deleted */
            assert_true(backups >= 1 && backups <= OLD_BACKUPS + 1);
            if (backups > 1)
                c->kept_backups++;
        } else {
            assert_int_equal(backups, 1); /* maxbackup: only the new one */
        }
    }
    int closed = 0;
    audit_log_close(log, on_closed, &closed);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(closed, 1);
    assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_log_out_of_memory(void **state)
{
    (void)state;
    struct log_case c = {0};
    long allocations = unit_oom_sweep(log_step, &c);
    assert_true(allocations >= 5);
    assert_int_equal(c.refused_open, 1);
    assert_int_equal(c.refused_line, 1);
    assert_true(c.kept_backups >= 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_log_out_of_memory),
    };
    return cmocka_run_group_tests(tests, unit_tmpdir_setup, unit_tmpdir_teardown);
}
