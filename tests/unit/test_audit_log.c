/* test_audit_log.c - the audit log writer on a real libuv loop and real
 * files: lines arrive complete and in order; lines queued during a write go
 * out as one batch; size rotation names backups as lumberjack does (UTC
 * stamps even when local time differs) and keeps --audit-log-maxbackup of
 * them; a missing folder fails at start-up; a full disk (/dev/full) and a
 * file-size limit (RLIMIT_FSIZE: a short write, then EFBIG) make the log
 * unhealthy and a later good write healthy again; a full queue is reported;
 * close writes everything first; "-" is stdout and stays open; the file is
 * 0600 and close-on-exec. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit/audit.h"
#include "audit/audit_log_internal.h"
#include "unit_tmpdir.h"

#define LINE_MAX_TEST (1u << 20)
#define TEST_DIR_MAX 512   /* one test's folder */
#define TEST_PATH_MAX 1024 /* a file in it */

static char path_buf[TEST_PATH_MAX];

/* A fresh sub-folder per test, so listings see only that test's files. */
static const char *test_dir(const char *name)
{
    static char dir[TEST_DIR_MAX];
    snprintf(dir, sizeof(dir), "%s/%s", unit_dir, name);
    assert_int_equal(mkdir(dir, 0700), 0);
    return dir;
}

static const char *in(const char *dir, const char *name)
{
    snprintf(path_buf, sizeof(path_buf), "%s/%s", dir, name);
    return path_buf;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot read %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
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

/* Close and run the loop until close_cb: it must fire exactly once. */
static void log_close(uv_loop_t *loop, struct audit_log *log)
{
    int closed = 0;
    audit_log_close(log, on_closed, &closed);
    uv_run(loop, UV_RUN_DEFAULT);
    assert_int_equal(closed, 1);
}

/* Line i: "NNNNN " then filler up to len bytes, then '\n' (len + 1 in all). */
static void make_line(char *buf, unsigned i, size_t len)
{
    snprintf(buf, 8, "%05u ", i % 100000);
    memset(buf + 6, 'a' + (char)(i % 26), len - 6);
    buf[len] = '\n';
}

static void test_log_order_and_complete(void **state)
{
    const char *dir = test_dir("order");
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct audit_log *log = log_open(&loop, in(dir, "audit.log"), 0, 0);
    size_t total = 0, cap = 4u << 20;
    char *want = malloc(cap);
    for (unsigned i = 0; i < 2000; i++) {
        size_t len = 6 + (i * 7919u) % 3000;
        make_line(want + total, i, len);
        assert_int_equal(audit_log_write(log, want + total, len + 1), 0);
        total += len + 1;
        if (i % 37 == 0)
            uv_run(&loop, UV_RUN_NOWAIT);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(audit_log_pending(log), 0);
    struct audit_log_stats st;
    audit_log_stats_get(log, &st);
    assert_int_equal(st.lines_written, 2000);
    assert_int_equal(st.bytes_written, total);
    assert_int_equal(st.lines_dropped, 0);
    assert_true(audit_log_healthy(log, NULL));
    size_t len;
    char *got = slurp(in(dir, "audit.log"), &len);
    assert_int_equal(len, total);
    assert_memory_equal(got, want, total);
    free(got);
    free(want);
    log_close(&loop, log);
    assert_int_equal(uv_loop_close(&loop), 0);
}

/* Lines written within AUDIT_FLUSH_DELAY_MS go out in one write (each write
 * is a hand-off to the thread pool); a line without its '\n' gets one. */
static void test_log_batches(void **state)
{
    const char *dir = test_dir("batch");
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct audit_log *log = log_open(&loop, in(dir, "audit.log"), 0, 0);
    assert_int_equal(audit_log_write(log, "first\n", 6), 0);
    char line[64];
    for (unsigned i = 1; i < 999; i++) {
        int n = snprintf(line, sizeof(line), "line %u\n", i);
        assert_int_equal(audit_log_write(log, line, (size_t)n), 0);
    }
    assert_int_equal(audit_log_write(log, "no newline", 10), 0);
    assert_int_equal(audit_log_pending(log), 1000);
    uv_run(&loop, UV_RUN_DEFAULT);
    struct audit_log_stats st;
    audit_log_stats_get(log, &st);
    assert_int_equal(st.writes, 1);
    assert_int_equal(st.lines_written, 1000);
    assert_int_equal(audit_log_pending(log), 0);
    size_t len;
    char *got = slurp(in(dir, "audit.log"), &len);
    assert_true(len > 20);
    assert_memory_equal(got, "first\nline 1\nline 2\n", 20);
    assert_string_equal(got + len - 20, "line 998\nno newline\n");
    free(got);
    log_close(&loop, log);
    uv_loop_close(&loop);
}

/* Text with a '\n' inside is counted as the lines it makes, in what is
 * pending and in what was written. */
static void test_log_counts_lines_not_calls(void **state)
{
    const char *dir = test_dir("lines");
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct audit_log *log = log_open(&loop, in(dir, "audit.log"), 0, 0);
    assert_int_equal(audit_log_write(log, "first\n", 6), 0);
    assert_int_equal(audit_log_write(log, "a\nb\nc", 5), 0);
    assert_int_equal(audit_log_pending(log), 4);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(audit_log_pending(log), 0);
    struct audit_log_stats st;
    audit_log_stats_get(log, &st);
    assert_int_equal(st.lines_written, 4);
    size_t len;
    char *got = slurp(in(dir, "audit.log"), &len);
    assert_string_equal(got, "first\na\nb\nc\n");
    free(got);
    log_close(&loop, log);
    uv_loop_close(&loop);
}

/* The stamp lumberjack would give a rotation at t (UTC, milliseconds). */
static void utc_stamp(time_t t, int ms, char out[AUDIT_STAMP_LEN + 1])
{
    struct tm tm;
    char buf[64];
    gmtime_r(&t, &tm);
    snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d-%02d-%02d.%03d", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
    memcpy(out, buf, AUDIT_STAMP_LEN);
    out[AUDIT_STAMP_LEN] = '\0';
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The folder's entries, sorted; returns how many. */
static size_t list_dir(const char *dir, char **names, size_t cap)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && n < cap)
            names[n++] = strdup(e->d_name);
    closedir(d);
    qsort(names, n, sizeof(*names), name_cmp);
    return n;
}

#define ROT_LINE 99999 /* + '\n': ten lines fit in 1 MiB, the eleventh rotates */

static void assert_lines(const char *path, unsigned first, unsigned last)
{
    size_t len;
    char *got = slurp(path, &len);
    assert_int_equal(len, (size_t)(last - first + 1) * (ROT_LINE + 1));
    char *want = malloc(ROT_LINE + 1);
    for (unsigned i = first; i <= last; i++) {
        make_line(want, i, ROT_LINE);
        assert_memory_equal(got + (size_t)(i - first) * (ROT_LINE + 1), want, ROT_LINE + 1);
    }
    free(want);
    free(got);
}

static void test_log_rotation(void **state)
{
    /* local time five hours off UTC: the stamps must still be UTC */
    setenv("TZ", "XST+5", 1);
    tzset();
    const char *dir = test_dir("rotate");
    /* an older backup (compressed) that rotation must delete, and files that
     * only look like backups, which it must leave alone */
    unit_tmpdir_write("rotate/audit-2020-01-01T00-00-00.000.log.gz", "old\n");
    unit_tmpdir_write("rotate/audit-notes.log", "keep\n");
    unit_tmpdir_write("rotate/audit-2020-13-01T00-00-00.000.log", "keep\n");
    unit_tmpdir_write("rotate/other-2020-01-01T00-00-00.000.log", "keep\n");
    unit_tmpdir_write("rotate/audit.log.bak", "keep\n");
    assert_int_equal(mkdir(in(dir, "audit-2019-01-01T00-00-00.000.log"), 0700), 0);

    char before[AUDIT_STAMP_LEN + 1], after[AUDIT_STAMP_LEN + 1];
    struct timespec t0, t1;
    clock_gettime(CLOCK_REALTIME, &t0);
    utc_stamp(t0.tv_sec, (int)(t0.tv_nsec / 1000000), before);

    uv_loop_t loop;
    uv_loop_init(&loop);
    struct audit_log *log = log_open(&loop, in(dir, "audit.log"), 1, 2);
    char *line = malloc(ROT_LINE + 1);
    for (unsigned i = 1; i <= 45; i++) {
        make_line(line, i, ROT_LINE);
        assert_int_equal(audit_log_write(log, line, ROT_LINE + 1), 0);
    }
    free(line);
    uv_run(&loop, UV_RUN_DEFAULT);
    clock_gettime(CLOCK_REALTIME, &t1);
    utc_stamp(t1.tv_sec, (int)(t1.tv_nsec / 1000000), after);
    struct audit_log_stats st;
    audit_log_stats_get(log, &st);
    assert_int_equal(st.rotations, 4);
    assert_int_equal(st.lines_written, 45);
    assert_true(audit_log_healthy(log, NULL));

    char *names[32];
    size_t n = list_dir(dir, names, 32);
    /* sorted: the two newest backups, the directory, the look-alikes, the log */
    assert_int_equal(n, 8);
    assert_string_equal(names[0], "audit-2019-01-01T00-00-00.000.log");
    assert_string_equal(names[1], "audit-2020-13-01T00-00-00.000.log");
    const char *b1 = names[2], *b2 = names[3];
    assert_string_equal(names[4], "audit-notes.log");
    assert_string_equal(names[5], "audit.log");
    assert_string_equal(names[6], "audit.log.bak");
    assert_string_equal(names[7], "other-2020-01-01T00-00-00.000.log");
    char stamp[AUDIT_STAMP_LEN + 1];
    for (const char *b = b1; b; b = b == b1 ? b2 : NULL) {
        assert_int_equal(strlen(b), strlen("audit-") + AUDIT_STAMP_LEN + strlen(".log"));
        assert_memory_equal(b, "audit-", 6);
        assert_string_equal(b + 6 + AUDIT_STAMP_LEN, ".log");
        memcpy(stamp, b + 6, AUDIT_STAMP_LEN);
        stamp[AUDIT_STAMP_LEN] = '\0';
        if (strcmp(stamp, before) < 0 || strcmp(stamp, after) > 0)
            fail_msg("backup stamp %s is not UTC between %s and %s", stamp, before, after);
    }
    assert_lines(in(dir, b1), 21, 30);
    assert_lines(in(dir, b2), 31, 40);
    assert_lines(in(dir, "audit.log"), 41, 45);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    log_close(&loop, log);
    uv_loop_close(&loop);
    unsetenv("TZ");
    tzset();
}

/* A file already at the limit is rotated before the first write; maxbackup
 * 0 keeps every backup. */
static void test_log_rotation_existing_file(void **state)
{
    const char *dir = test_dir("existing");
    char *big = malloc(AUDIT_MEGABYTE + 1);
    memset(big, 'o', AUDIT_MEGABYTE - 1);
    big[AUDIT_MEGABYTE - 1] = '\n';
    big[AUDIT_MEGABYTE] = '\0';
    unit_tmpdir_write("existing/audit", big);
    unit_tmpdir_write("existing/audit-2020-01-01T00-00-00.000", "old\n");
    free(big);
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct audit_log *log = log_open(&loop, in(dir, "audit"), 1, 0);
    assert_int_equal(audit_log_write(log, "new\n", 4), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    char *names[8];
    size_t n = list_dir(dir, names, 8);
    assert_int_equal(n, 3);
    assert_string_equal(names[0], "audit");
    assert_string_equal(names[1], "audit-2020-01-01T00-00-00.000");
    assert_int_equal(strlen(names[2]), strlen("audit-") + AUDIT_STAMP_LEN); /* no extension */
    struct stat sb;
    assert_int_equal(stat(in(dir, names[2]), &sb), 0);
    assert_int_equal(sb.st_size, AUDIT_MEGABYTE);
    size_t len;
    char *got = slurp(in(dir, "audit"), &len);
    assert_string_equal(got, "new\n");
    free(got);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    log_close(&loop, log);
    uv_loop_close(&loop);
}

static void test_backup_names(void **state)
{
    char out[AUDIT_PATH_MAX];
    int64_t ms = 1796020890123; /* 2026-11-30T06:41:30.123Z */
    assert_int_equal(audit_log_backup_name("/var/log/audit.log", ms, out, sizeof(out)), 0);
    assert_string_equal(out, "/var/log/audit-2026-11-30T06-41-30.123.log");
    assert_int_equal(audit_log_backup_name("audit", ms + 5, out, sizeof(out)), 0);
    assert_string_equal(out, "audit-2026-11-30T06-41-30.128");
    assert_int_equal(audit_log_backup_name("/d.d/a.b.json", ms, out, sizeof(out)), 0);
    assert_string_equal(out, "/d.d/a.b-2026-11-30T06-41-30.123.json");
    assert_int_equal(audit_log_backup_name("/x/audit.log", ms, out, 20), -1);

    char stamp[AUDIT_STAMP_LEN + 1];
    assert_true(audit_log_backup_parse("/v/audit.log", "audit-2026-11-30T06-41-30.123.log", stamp));
    assert_string_equal(stamp, "2026-11-30T06-41-30.123");
    assert_true(
        audit_log_backup_parse("/v/audit.log", "audit-2026-11-30T06-41-30.123.log.gz", stamp));
    assert_false(
        audit_log_backup_parse("/v/audit.log", "audit-2026-11-30T06-41-30.123.txt", stamp));
    assert_false(audit_log_backup_parse("/v/audit.log", "audit-2026-11-30T06-41-30.12.log", stamp));
    assert_false(
        audit_log_backup_parse("/v/audit.log", "audit-2026-11-30T24-41-30.123.log", stamp));
    assert_false(
        audit_log_backup_parse("/v/audit.log", "audit-2026-11-30 06-41-30.123.log", stamp));
    assert_false(audit_log_backup_parse("/v/audit.log", "audit.log", stamp));
    assert_false(
        audit_log_backup_parse("/v/audit.log", "audix-2026-11-30T06-41-30.123.log", stamp));
    assert_true(audit_log_backup_parse("audit", "audit-2026-11-30T06-41-30.123", stamp));
    assert_false(audit_log_backup_parse("audit", "audit-2026-11-30T06-41-30.123.log", stamp));
}

static void test_log_missing_folder(void **state)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    char path[UNIT_TMPDIR_PATH_MAX];
    snprintf(path, sizeof(path), "%s/no-such-folder/audit.log", unit_dir);
    struct audit_log_opts o = {.path = path};
    char err[AUDIT_ERR_MAX] = "", want[AUDIT_ERR_MAX + UNIT_TMPDIR_PATH_MAX];
    assert_null(audit_log_new(&loop, &o, err, sizeof(err)));
    snprintf(want, sizeof(want), "%s: cannot open the audit log: No such file or directory", path);
    assert_string_equal(err, want);
    o.path = unit_dir; /* a folder */
    assert_null(audit_log_new(&loop, &o, err, sizeof(err)));
    snprintf(want, sizeof(want), "%s: cannot open the audit log: Is a directory", unit_dir);
    assert_string_equal(err, want);
    o.path = "";
    assert_null(audit_log_new(&loop, &o, err, sizeof(err)));
    assert_string_equal(err, "the audit log needs a path (a file, or - for stdout)");
    uv_loop_close(&loop);
}

/* The descriptor the log holds for path, found through /proc. */
static int fd_of(const char *path)
{
    for (int fd = 3; fd < 1024; fd++) {
        char link[64], target[TEST_PATH_MAX];
        snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
        ssize_t n = readlink(link, target, sizeof(target) - 1);
        if (n < 0)
            continue;
        target[n] = '\0';
        if (strcmp(target, path) == 0)
            return fd;
    }
    return -1;
}

static void test_log_mode_and_cloexec(void **state)
{
    const char *dir = test_dir("mode");
    uv_loop_t loop;
    uv_loop_init(&loop);
    const char *path = in(dir, "audit.log");
    struct audit_log *log = log_open(&loop, path, 0, 0);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    int fd = fd_of(path);
    assert_true(fd >= 0);
    assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    assert_true(fcntl(fd, F_GETFL) & O_APPEND);
    log_close(&loop, log);
    assert_int_equal(fd_of(path), -1);
    uv_loop_close(&loop);
}

/* /dev/full: every write fails with ENOSPC; nothing hangs, nothing is left
 * queued, and the log says why. */
static void test_log_disk_full(void **state)
{
    const char *dir = test_dir("full");
    char path[TEST_PATH_MAX];
    snprintf(path, sizeof(path), "%s", in(dir, "audit.log"));
    assert_int_equal(symlink("/dev/full", path), 0);
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct audit_log *log = log_open(&loop, path, 1, 1);
    assert_true(audit_log_healthy(log, NULL));
    for (int i = 0; i < 3; i++)
        assert_int_equal(audit_log_write(log, "{\"kind\":\"Event\"}\n", 17), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    const char *why = NULL;
    assert_false(audit_log_healthy(log, &why));
    char want[AUDIT_WHY_MAX + TEST_PATH_MAX];
    snprintf(want, sizeof(want), "cannot write the audit log %s: no space left on device", path);
    assert_string_equal(why, want);
    assert_int_equal(audit_log_pending(log), 0);
    struct audit_log_stats st;
    audit_log_stats_get(log, &st);
    assert_int_equal(st.lines_dropped, 3);
    assert_int_equal(st.lines_written, 0);
    assert_int_equal(st.rotations, 0); /* a device is never renamed away */
    log_close(&loop, log);
    uv_loop_close(&loop);
    struct stat sb;
    assert_int_equal(lstat(path, &sb), 0);
    assert_true(S_ISLNK(sb.st_mode));
}

#define FSIZE_LIMIT 1000
#define FSIZE_LINE 399 /* + '\n' */

/* A file-size limit cuts a write short (libuv and the writer go on where it
 * stopped), then refuses the rest with EFBIG: unhealthy, that line dropped.
 * With the limit lifted, the next write first ends the cut line, then
 * succeeds, and the log is healthy again. */
static void test_log_short_write_then_recovery(void **state)
{
    const char *dir = test_dir("fsize");
    uv_loop_t loop;
    uv_loop_init(&loop);
    const char *path = in(dir, "audit.log");
    struct audit_log *log = log_open(&loop, path, 0, 0);
    char l1[FSIZE_LINE + 1], l2[FSIZE_LINE + 1], l3[FSIZE_LINE + 1], l4[FSIZE_LINE + 1];
    make_line(l1, 1, FSIZE_LINE);
    make_line(l2, 2, FSIZE_LINE);
    make_line(l3, 3, FSIZE_LINE);
    make_line(l4, 4, FSIZE_LINE);

    struct rlimit old, lim;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    lim = old;
    lim.rlim_cur = FSIZE_LIMIT;
    void (*old_sig)(int) = signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    audit_log_write(log, l1, sizeof(l1));
    audit_log_write(log, l2, sizeof(l2));
    audit_log_write(log, l3, sizeof(l3));
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, old_sig);

    const char *why = NULL;
    assert_false(audit_log_healthy(log, &why));
    char want[AUDIT_WHY_MAX + TEST_PATH_MAX];
    snprintf(want, sizeof(want), "cannot write the audit log %s: file too large", path);
    assert_string_equal(why, want);
    struct audit_log_stats st;
    audit_log_stats_get(log, &st);
    assert_int_equal(st.lines_written, 2);
    assert_int_equal(st.lines_dropped, 1);
    assert_int_equal(st.bytes_written, FSIZE_LIMIT);
    assert_int_equal(st.writes, 2); /* l1+l2+l3 cut at the limit; the rest refused */

    assert_int_equal(audit_log_write(log, l4, sizeof(l4)), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_true(audit_log_healthy(log, &why));
    assert_string_equal(why, "");
    audit_log_stats_get(log, &st);
    assert_int_equal(st.lines_written, 3);
    assert_int_equal(st.writes, 3);

    size_t len;
    char *got = slurp(path, &len);
    assert_int_equal(len, FSIZE_LIMIT + 1 + sizeof(l4));
    assert_memory_equal(got, l1, sizeof(l1));
    assert_memory_equal(got + 400, l2, sizeof(l2));
    assert_memory_equal(got + 800, l3, FSIZE_LIMIT - 800);
    assert_int_equal(got[FSIZE_LIMIT], '\n');
    assert_memory_equal(got + FSIZE_LIMIT + 1, l4, sizeof(l4));
    free(got);
    log_close(&loop, log);
    uv_loop_close(&loop);
}

/* A line cut by a failed write stays at the end of the backup when the file
 * rotates: the new file starts with the next line, not with an empty one. */
static void test_log_cut_line_stays_in_backup(void **state)
{
    const char *dir = test_dir("cutrotate");
    uv_loop_t loop;
    uv_loop_init(&loop);
    const char *path = in(dir, "audit.log");
    struct audit_log *log = log_open(&loop, path, 1, 0);
    char l1[FSIZE_LINE + 1], l2[FSIZE_LINE + 1], l3[FSIZE_LINE + 1];
    make_line(l1, 1, FSIZE_LINE);
    make_line(l2, 2, FSIZE_LINE);
    make_line(l3, 3, FSIZE_LINE);
    struct rlimit old, lim;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    lim = old;
    lim.rlim_cur = FSIZE_LIMIT;
    void (*old_sig)(int) = signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    audit_log_write(log, l1, sizeof(l1));
    audit_log_write(log, l2, sizeof(l2));
    audit_log_write(log, l3, sizeof(l3));
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, old_sig);
    assert_false(audit_log_healthy(log, NULL));

    size_t big_len = AUDIT_MEGABYTE - 100; /* with the 1000 bytes there: rotates */
    char *big = malloc(big_len + 1);
    make_line(big, 4, big_len);
    assert_int_equal(audit_log_write(log, big, big_len + 1), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_true(audit_log_healthy(log, NULL));
    size_t len;
    char *got = slurp(path, &len);
    assert_int_equal(len, big_len + 1);
    assert_memory_equal(got, big, big_len + 1);
    free(got);
    free(big);
    struct audit_log_stats st;
    audit_log_stats_get(log, &st);
    assert_int_equal(st.rotations, 1);
    log_close(&loop, log);
    uv_loop_close(&loop);
}

/* More than AUDIT_QUEUE_MAX bytes before the loop runs: the line that does
 * not fit is refused and reported, the others are written, and the drained
 * log is healthy again. */
static void test_log_queue_full(void **state)
{
    const char *dir = test_dir("queue");
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct audit_log *log = log_open(&loop, in(dir, "audit.log"), 0, 0);
    char *line = malloc(LINE_MAX_TEST);
    size_t fits = AUDIT_QUEUE_MAX / LINE_MAX_TEST;
    for (unsigned i = 0; i < fits; i++) {
        make_line(line, i, LINE_MAX_TEST - 1);
        assert_int_equal(audit_log_write(log, line, LINE_MAX_TEST), 0);
    }
    assert_true(audit_log_healthy(log, NULL));
    assert_int_equal(audit_log_write(log, line, LINE_MAX_TEST), -1);
    const char *why = NULL;
    assert_false(audit_log_healthy(log, &why));
    assert_string_equal(why, "queue full: 8388608 bytes wait for the disk, a 1048576 byte line "
                             "was dropped");
    assert_int_equal(audit_log_pending(log), fits);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_true(audit_log_healthy(log, NULL));
    struct audit_log_stats st;
    audit_log_stats_get(log, &st);
    assert_int_equal(st.lines_written, fits);
    assert_int_equal(st.lines_dropped, 1);
    struct stat sb;
    assert_int_equal(stat(in(dir, "audit.log"), &sb), 0);
    assert_int_equal(sb.st_size, AUDIT_QUEUE_MAX);
    free(line);
    log_close(&loop, log);
    uv_loop_close(&loop);
}

static void test_log_close_flushes(void **state)
{
    const char *dir = test_dir("close");
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct audit_log *log = log_open(&loop, in(dir, "audit.log"), 0, 0);
    char line[64];
    size_t total = 0;
    for (unsigned i = 0; i < 100; i++) {
        int n = snprintf(line, sizeof(line), "{\"n\":%u}\n", i);
        assert_int_equal(audit_log_write(log, line, (size_t)n), 0);
        total += (size_t)n;
    }
    int closed = 0;
    audit_log_close(log, on_closed, &closed);
    assert_int_equal(closed, 0); /* never from inside audit_log_close */
    assert_int_equal(audit_log_write(log, "late\n", 5), -1);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(closed, 1);
    size_t len;
    char *got = slurp(in(dir, "audit.log"), &len);
    assert_int_equal(len, total);
    assert_memory_equal(got, "{\"n\":0}\n{\"n\":1}\n", 16);
    assert_string_equal(got + len - 9, "{\"n\":99}\n");
    free(got);
    assert_int_equal(uv_loop_close(&loop), 0);
}

/* "-" writes to fd 1 and leaves it open. */
static void test_log_stdout(void **state)
{
    const char *dir = test_dir("stdout");
    char path[TEST_PATH_MAX];
    snprintf(path, sizeof(path), "%s", in(dir, "out"));
    fflush(stdout);
    int saved = dup(1);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(saved >= 0 && fd >= 0);
    dup2(fd, 1);
    close(fd);
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct audit_log *log = log_open(&loop, "-", 1, 1);
    audit_log_write(log, "a\n", 2);
    audit_log_write(log, "b\n", 2);
    int closed = 0;
    audit_log_close(log, on_closed, &closed);
    uv_run(&loop, UV_RUN_DEFAULT);
    bool open_after = fcntl(1, F_GETFD) != -1;
    dup2(saved, 1);
    close(saved);
    assert_int_equal(closed, 1);
    assert_true(open_after);
    size_t len;
    char *got = slurp(path, &len);
    assert_string_equal(got, "a\nb\n");
    free(got);
    uv_loop_close(&loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_log_order_and_complete),
        cmocka_unit_test(test_log_batches),
        cmocka_unit_test(test_log_counts_lines_not_calls),
        cmocka_unit_test(test_log_rotation),
        cmocka_unit_test(test_log_rotation_existing_file),
        cmocka_unit_test(test_backup_names),
        cmocka_unit_test(test_log_missing_folder),
        cmocka_unit_test(test_log_mode_and_cloexec),
        cmocka_unit_test(test_log_disk_full),
        cmocka_unit_test(test_log_short_write_then_recovery),
        cmocka_unit_test(test_log_cut_line_stays_in_backup),
        cmocka_unit_test(test_log_queue_full),
        cmocka_unit_test(test_log_close_flushes),
        cmocka_unit_test(test_log_stdout),
    };
    return cmocka_run_group_tests(tests, unit_tmpdir_setup, unit_tmpdir_teardown);
}
