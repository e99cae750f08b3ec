/* test_audit_log_faults.c - the audit log's faults with real files: a
 * rotation whose rename fails (the backup name is a folder) and whose
 * reopen fails (the log's path became a folder): unhealthy with the exact
 * reason, waiting lines dropped, the open retried by the next line and
 * writing resumed once the path is a file again; a backup name past the
 * path limit; stdout on a full disk; a bare file name rotating in the
 * current folder; more than one scan buffer of backups and a .gz twin of
 * a backup (one backup, not two); a line larger than the size limit; the
 * stamps lumberjack would refuse; the writer's own refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit/audit.h"
#include "audit/audit_log_internal.h"
#include "unit_tmpdir.h"

#define TEST_DIR_MAX 512   /* one test's folder */
#define TEST_PATH_MAX 1024 /* a file in it */
/* 2100-01-01T00:00:00.000Z: a stamp the clock will not reach during a
 * test, so the next backup's name is known (last stamp + 1 ms). */
#define FUTURE_MS 4102444800000LL
#define FUTURE_NEXT "2100-01-01T00-00-00.001"

static char dir_buf[TEST_DIR_MAX];

static const char *test_dir(const char *name)
{
    snprintf(dir_buf, sizeof(dir_buf), "%s/%s", unit_dir, name);
    assert_int_equal(mkdir(dir_buf, 0700), 0);
    return dir_buf;
}

static struct audit_log *log_open(uv_loop_t *loop, const char *path, unsigned maxsize_mb,
                                  unsigned maxbackup)
{
    struct audit_log_opts o = {.path = path, .maxsize_mb = maxsize_mb, .maxbackup = maxbackup};
    char err[AUDIT_ERR_MAX] = "";
    struct audit_log *log = audit_log_new(loop, &o, err, sizeof(err));
    if (!log)
        fail_msg("audit_log_new: %s", err);
    return log;
}

static void on_closed(void *user)
{
    (*(int *)user)++;
}

static void log_close(uv_loop_t *loop, struct audit_log *log)
{
    int closed = 0;
    audit_log_close(log, on_closed, &closed);
    uv_run(loop, UV_RUN_DEFAULT);
    assert_int_equal(closed, 1);
    assert_int_equal(uv_loop_close(loop), 0);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot read %s", path);
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static size_t count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    size_t n = 0;
    for (struct dirent *e; (e = readdir(d));)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

/* The path of the log became a folder and the backup name is taken by a
 * folder that is not empty: the rename fails, then the reopen; the lines
 * waiting are dropped with the reason, each later line retries the open,
 * and once the path is a file again the log writes and is healthy. */
static void test_rotation_rename_and_reopen_fail(void **state)
{
    const char *dir = test_dir("rename");
    char path[TEST_PATH_MAX], backup[TEST_PATH_MAX], inner[TEST_PATH_MAX + 8];
    snprintf(path, sizeof(path), "%s/audit.log", dir);
    snprintf(backup, sizeof(backup), "%s/audit-" FUTURE_NEXT ".log", dir);
    snprintf(inner, sizeof(inner), "%s/x", backup);
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct audit_log *log = log_open(&loop, path, 1, 0);
    log->last_stamp_ms = FUTURE_MS;
    log->size = AUDIT_MEGABYTE; /* full: the next line rotates */
    assert_int_equal(unlink(path), 0);
    assert_int_equal(mkdir(path, 0700), 0);
    assert_int_equal(mkdir(backup, 0700), 0);
    write_file(inner, "keep");

    assert_int_equal(audit_log_write(log, "one\n", 4), 0);
    assert_int_equal(audit_log_write(log, "two\n", 4), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    const char *why = NULL;
    assert_false(audit_log_healthy(log, &why));
    char want[AUDIT_WHY_MAX + TEST_PATH_MAX];
    snprintf(want, sizeof(want), "cannot open the audit log %s: illegal operation on a directory",
             path);
    assert_string_equal(why, want);
    struct audit_log_stats st;
    audit_log_stats_get(log, &st);
    assert_int_equal(st.rotations, 0);
    assert_int_equal(st.lines_dropped, 2);
    assert_int_equal(audit_log_pending(log), 0);
    assert_int_equal(log->fd, -1);
    assert_string_equal(slurp(inner), "keep"); /* nothing renamed over it */

    /* Still a folder: the next line retries the open, fails, and is dropped. */
    assert_int_equal(audit_log_write(log, "three\n", 6), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_false(audit_log_healthy(log, &why));
    assert_string_equal(why, want);
    audit_log_stats_get(log, &st);
    assert_int_equal(st.lines_dropped, 3);

    /* A file again: the open succeeds and the line is written into it,
     * the new empty file not rotated away at once into an empty backup
     * (the size of the file that could not be reopened is not its size). */
    assert_int_equal(rmdir(path), 0);
    assert_int_equal(audit_log_write(log, "four\n", 5), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_true(audit_log_healthy(log, NULL));
    assert_string_equal(slurp(path), "four\n");
    audit_log_stats_get(log, &st);
    assert_int_equal(st.lines_written, 1);
    assert_int_equal(st.rotations, 0);
    assert_int_equal(count_entries(dir), 2); /* audit.log and the folder in the way */
    log_close(&loop, log);
}

/* The rename alone fails (the backup name is a folder that is not empty):
 * the reason is kept and the log goes on writing in the same file. */
static void test_rotation_rename_fails_writing_goes_on(void **state)
{
    const char *dir = test_dir("rename-only");
    char path[TEST_PATH_MAX], backup[TEST_PATH_MAX], inner[TEST_PATH_MAX + 8];
    snprintf(path, sizeof(path), "%s/audit.log", dir);
    snprintf(backup, sizeof(backup), "%s/audit-" FUTURE_NEXT ".log", dir);
    snprintf(inner, sizeof(inner), "%s/x", backup);
    assert_int_equal(mkdir(backup, 0700), 0);
    write_file(inner, "keep");
    write_file(path, "old\n");
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct audit_log *log = log_open(&loop, path, 1, 3);
    log->last_stamp_ms = FUTURE_MS;
    log->size = AUDIT_MEGABYTE;
    assert_int_equal(audit_log_write(log, "new\n", 4), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    /* The line was written after the failed rename: healthy again (no
     * event was lost), the reason kept as the last one. */
    assert_true(audit_log_healthy(log, NULL));
    char want[AUDIT_WHY_MAX + 2 * TEST_PATH_MAX];
    snprintf(want, sizeof(want),
             "cannot rotate the audit log: rename %s to %s: illegal operation on a directory", path,
             backup);
    assert_string_equal(log->why, want);
    assert_string_equal(slurp(path), "old\nnew\n");
    struct audit_log_stats st;
    audit_log_stats_get(log, &st);
    assert_int_equal(st.rotations, 0);
    assert_int_equal(st.lines_written, 1);
    assert_int_equal(log->size, 4); /* counted from zero: the next try is one maxsize later */
    log_close(&loop, log);
}

/* A log path so long that its backup name passes AUDIT_PATH_MAX: the
 * rename is not even tried, the reason says so, the file goes on. */
static void test_rotation_backup_name_too_long(void **state)
{
    char path[AUDIT_PATH_MAX];
    int n = snprintf(path, sizeof(path), "%s", test_dir("long"));
    /* folders of 200 bytes until the path is a few bytes short of the limit */
    char comp[201];
    memset(comp, 'd', 200);
    comp[200] = '\0';
    while ((size_t)n + 201 + 16 < AUDIT_PATH_MAX - 8) {
        n += snprintf(path + n, sizeof(path) - (size_t)n, "/%s", comp);
        assert_int_equal(mkdir(path, 0700), 0);
    }
    while ((size_t)n < AUDIT_PATH_MAX - 12)
        path[n++] = 'f';
    path[n] = '\0';
    memcpy(path + n - 4, ".log", 4);
    assert_true(strlen(path) < AUDIT_PATH_MAX);
    uv_loop_t loop;
    uv_loop_init(&loop);
    /* open(2) takes paths below PATH_MAX (4096): the log opens. */
    struct audit_log *log = log_open(&loop, path, 1, 0);
    log->size = AUDIT_MEGABYTE;
    assert_int_equal(audit_log_write(log, "x\n", 2), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_true(audit_log_healthy(log, NULL)); /* the line itself was written */
    /* the reason names the path, cut at AUDIT_WHY_MAX */
    static char want[AUDIT_PATH_MAX + 64];
    snprintf(want, sizeof(want), "cannot rotate the audit log: rename %s", path);
    assert_int_equal(strlen(log->why), AUDIT_WHY_MAX - 1);
    assert_memory_equal(log->why, want, AUDIT_WHY_MAX - 1);
    struct audit_log_stats st;
    audit_log_stats_get(log, &st);
    assert_int_equal(st.lines_written, 1);
    assert_int_equal(st.rotations, 0);
    log_close(&loop, log);
}

/* "-" on a full disk: the reason names stdout, not a path. */
static void test_stdout_disk_full(void **state)
{
    int saved = dup(STDOUT_FILENO);
    assert_true(saved >= 0);
    int full = open("/dev/full", O_WRONLY | O_CLOEXEC);
    assert_true(full >= 0);
    fflush(stdout);
    assert_int_equal(dup2(full, STDOUT_FILENO), STDOUT_FILENO);
    close(full);
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct audit_log *log = log_open(&loop, "-", 1, 0);
    assert_int_equal(audit_log_write(log, "x\n", 2), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    const char *why = NULL;
    bool healthy = audit_log_healthy(log, &why);
    char got[AUDIT_WHY_MAX];
    snprintf(got, sizeof(got), "%s", why);
    log_close(&loop, log);
    assert_int_equal(dup2(saved, STDOUT_FILENO), STDOUT_FILENO);
    close(saved);
    assert_false(healthy);
    assert_string_equal(got, "cannot write the audit log (stdout): no space left on device");
}

/* A path without a folder rotates in the current folder, and its old
 * backups are found there; a .gz twin shares its backup's stamp (one
 * backup, both deleted together); more than 16 backups grow the scan. */
static void test_rotation_bare_name_many_backups(void **state)
{
    const char *dir = test_dir("bare");
    char cwd[TEST_PATH_MAX];
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    assert_int_equal(chdir(dir), 0);
    char name[64];
    for (int i = 0; i < 20; i++) {
        snprintf(name, sizeof(name), "audit-2026-01-%02dT00-00-00.000.log", i + 1);
        write_file(name, "b\n");
    }
    write_file("audit-2026-01-01T00-00-00.000.log.gz", "gz");
    write_file("audit.log", "old\n");
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct audit_log *log = log_open(&loop, "audit.log", 1, 2);
    log->size = AUDIT_MEGABYTE;
    assert_int_equal(audit_log_write(log, "new\n", 4), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_true(audit_log_healthy(log, NULL));
    struct audit_log_stats st;
    audit_log_stats_get(log, &st);
    assert_int_equal(st.rotations, 1);
    assert_string_equal(slurp("audit.log"), "new\n");
    /* the new backup and the newest old one: audit.log and two backups */
    assert_int_equal(count_entries("."), 3);
    assert_int_equal(access("audit-2026-01-20T00-00-00.000.log", F_OK), 0);
    assert_int_equal(access("audit-2026-01-01T00-00-00.000.log.gz", F_OK), -1);
    log_close(&loop, log);
    assert_int_equal(chdir(cwd), 0);
}

/* A line larger than the size limit gets a file of its own: written whole
 * into an empty file, then rotated away before the next. */
static void test_line_larger_than_limit(void **state)
{
    const char *dir = test_dir("big");
    char path[TEST_PATH_MAX];
    snprintf(path, sizeof(path), "%s/audit.log", dir);
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct audit_log *log = log_open(&loop, path, 1, 0);
    size_t big = AUDIT_MEGABYTE + 10;
    char *line = malloc(big);
    memset(line, 'z', big - 1);
    line[big - 1] = '\n';
    assert_int_equal(audit_log_write(log, line, big), 0);
    assert_int_equal(audit_log_write(log, "after\n", 6), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    free(line);
    struct audit_log_stats st;
    audit_log_stats_get(log, &st);
    assert_int_equal(st.lines_written, 2);
    assert_int_equal(st.rotations, 1);
    assert_string_equal(slurp(path), "after\n");
    assert_int_equal(count_entries(dir), 2);
    log_close(&loop, log);
}

/* Stamps lumberjack's time.Parse refuses are not backups (never deleted),
 * and times a stamp cannot hold give no backup name. */
static void test_backup_stamps_refused(void **state)
{
    static const char *const bad[] = {
        "audit-2026-00-30T06-41-30.123.log", /* month 0 */
        "audit-2026-13-30T06-41-30.123.log", /* month 13 */
        "audit-2026-11-00T06-41-30.123.log", /* day 0 */
        "audit-2026-11-32T06-41-30.123.log", /* day 32 */
        "audit-2026-11-30T06-60-30.123.log", /* minute 60 */
        "audit-2026-11-30T06-41-60.123.log", /* second 60 */
        "audit-2026-11-30T06-41-3/.123.log", /* below '0' */
        "audit-2026-11-30T06-41-3:.123.log", /* above '9' */
        "audit_2026-11-30T06-41-30.123.log", /* not '-' after the name */
    };
    char stamp[AUDIT_STAMP_LEN + 1];
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (audit_log_backup_parse("/v/audit.log", bad[i], stamp))
            fail_msg("%s taken for a backup", bad[i]);
    char out[AUDIT_PATH_MAX] = "unchanged";
    assert_int_equal(audit_log_backup_name("/v/audit.log", -1, out, sizeof(out)), -1);
    /* year 10000: five digits do not fit lumberjack's layout */
    assert_int_equal(audit_log_backup_name("/v/audit.log", 253402300800000LL, out, sizeof(out)),
                     -1);
    /* past what gmtime can hold */
    assert_int_equal(audit_log_backup_name("/v/audit.log", INT64_MAX, out, sizeof(out)), -1);
    assert_string_equal(out, "unchanged");
}

/* The writer's own refusals: no log, an empty line (nothing to do), a path
 * longer than AUDIT_PATH_MAX; close of NULL or twice is harmless. */
static void test_writer_refusals(void **state)
{
    assert_int_equal(audit_log_write(NULL, "x\n", 2), -1);
    uv_loop_t loop;
    uv_loop_init(&loop);
    const char *dir = test_dir("refusals");
    char path[TEST_PATH_MAX];
    snprintf(path, sizeof(path), "%s/audit.log", dir);
    struct audit_log *log = log_open(&loop, path, 0, 0);
    assert_int_equal(audit_log_write(log, "", 0), 0);
    assert_int_equal(audit_log_pending(log), 0);
    audit_log_close(NULL, NULL, NULL);
    int closed = 0;
    audit_log_close(log, on_closed, &closed);
    audit_log_close(log, on_closed, &closed); /* the second is ignored */
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(closed, 1);
    assert_int_equal(uv_loop_close(&loop), 0);
    assert_string_equal(slurp(path), "");

    char *longp = malloc(AUDIT_PATH_MAX + 1);
    memset(longp, 'p', AUDIT_PATH_MAX);
    longp[AUDIT_PATH_MAX] = '\0';
    struct audit_log_opts o = {.path = longp};
    char err[AUDIT_ERR_MAX] = "";
    uv_loop_init(&loop);
    assert_null(audit_log_new(&loop, &o, err, sizeof(err)));
    assert_string_equal(err, "the audit log path is longer than 4095 bytes");
    assert_null(audit_log_new(&loop, NULL, err, sizeof(err)));
    assert_string_equal(err, "the audit log needs a path (a file, or - for stdout)");
    assert_int_equal(uv_loop_close(&loop), 0);
    free(longp);
}

/* Closing while a write is in flight waits for it: the line is written
 * before the file closes. */
static void test_close_during_write(void **state)
{
    const char *dir = test_dir("inflight");
    char path[TEST_PATH_MAX];
    snprintf(path, sizeof(path), "%s/audit.log", dir);
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct audit_log *log = log_open(&loop, path, 0, 0);
    assert_int_equal(audit_log_write(log, "first\n", 6), 0);
    while (log->op == AUDIT_OP_NONE) /* the flush timer starts the write */
        uv_run(&loop, UV_RUN_ONCE);
    assert_int_equal(log->op, AUDIT_OP_WRITE);
    assert_int_equal(audit_log_write(log, "second\n", 7), 0);
    log_close(&loop, log);
    assert_string_equal(slurp(path), "first\nsecond\n");
}

#define FSIZE_LIMIT 100

/* A line cut by the file-size limit, then a next write that fails before
 * even its leading '\n' (which would end the cut line): each line counts
 * once as dropped, the '\n' is no line of its own. */
static void test_cut_line_then_failed_lead(void **state)
{
    const char *dir = test_dir("cut");
    char path[TEST_PATH_MAX];
    snprintf(path, sizeof(path), "%s/audit.log", dir);
    struct rlimit old;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit lim = {FSIZE_LIMIT, old.rlim_max};
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct audit_log *log = log_open(&loop, path, 0, 0);
    char line[FSIZE_LIMIT + 50];
    memset(line, 'a', sizeof(line) - 1);
    line[sizeof(line) - 1] = '\n';
    assert_int_equal(audit_log_write(log, line, sizeof(line)), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_true(log->mid_line);
    assert_int_equal(audit_log_write(log, "second\n", 7), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, SIG_DFL);
    struct audit_log_stats st;
    audit_log_stats_get(log, &st);
    assert_int_equal(st.lines_dropped, 2);
    assert_int_equal(st.lines_written, 0);
    assert_int_equal(st.bytes_written, FSIZE_LIMIT);
    const char *why = NULL;
    assert_false(audit_log_healthy(log, &why));
    char want[AUDIT_WHY_MAX + TEST_PATH_MAX];
    snprintf(want, sizeof(want), "cannot write the audit log %s: file too large", path);
    assert_string_equal(why, want);
    log_close(&loop, log);
    assert_int_equal(strlen(slurp(path)), FSIZE_LIMIT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rotation_rename_and_reopen_fail),
        cmocka_unit_test(test_rotation_rename_fails_writing_goes_on),
        cmocka_unit_test(test_rotation_backup_name_too_long),
        cmocka_unit_test(test_stdout_disk_full),
        cmocka_unit_test(test_rotation_bare_name_many_backups),
        cmocka_unit_test(test_line_larger_than_limit),
        cmocka_unit_test(test_backup_stamps_refused),
        cmocka_unit_test(test_writer_refusals),
        cmocka_unit_test(test_close_during_write),
        cmocka_unit_test(test_cut_line_then_failed_lead),
    };
    return cmocka_run_group_tests(tests, unit_tmpdir_setup, unit_tmpdir_teardown);
}
