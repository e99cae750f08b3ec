/* test_api_recordings.c - the files of --recording-dir as the sessions API
 * reads them: only regular "<uuid>.cast" files (not a symlink, a folder or
 * a FIFO by that name, not an id that is not a session id, not a path past
 * PATH_MAX); a file that is not a podterm recording; an empty folder; an
 * empty recording served as empty; a recording past the serving cap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/api_sessions.h"
#include "unit_tmpdir.h"

#define ID "0a1b2c3d-1111-4222-8333-444455556666"
#define ID2 "0a1b2c3d-1111-4222-8333-444455556667"
#define PATH_CAP 8192

static char dir[UNIT_TMPDIR_PATH_MAX];

static const char *in_dir(const char *name)
{
    static char p[UNIT_TMPDIR_PATH_MAX + 64];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    return p;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static void fresh_dir(const char *name)
{
    snprintf(dir, sizeof(dir), "%s/%s", unit_dir, name);
    assert_int_equal(mkdir(dir, 0700), 0);
}

/* Whatever is at <id>.cast and is not a regular file is no recording. */
static void test_not_regular_files(void **state)
{
    fresh_dir("odd");
    assert_int_equal(mkdir(in_dir(ID ".cast"), 0700), 0);
    assert_int_equal(mkfifo(in_dir(ID2 ".cast"), 0600), 0);
    struct api_session s = {0};
    assert_int_equal(api_recording_read(dir, ID, &s), -1);  /* a folder */
    assert_int_equal(api_recording_read(dir, ID2, &s), -1); /* a FIFO: and no hang */
    assert_false(api_recording_exists(dir, ID));
    assert_false(api_recording_exists(NULL, ID));
    assert_false(api_recording_exists(dir, "../" ID));
    char *buf = (char *)1;
    size_t len = 9;
    assert_int_equal(api_recording_load(dir, ID2, &buf, &len), -1);
    assert_null(buf);
    assert_int_equal(len, 0);

    char(*ids)[AUDIT_ID_LEN + 1] = NULL;
    assert_int_equal(api_recordings_newest(dir, &ids), 0);
    assert_non_null(ids); /* an empty list, still freeable */
    free(ids);

    /* a folder path longer than any path */
    static char longdir[PATH_CAP];
    memset(longdir, 'd', sizeof(longdir) - 1);
    longdir[sizeof(longdir) - 1] = '\0';
    struct stat st;
    assert_int_equal(api_recording_open(longdir, ID, &st), -1);
    assert_int_equal(api_recordings_newest(in_dir("missing"), &ids), -1);
    assert_null(ids);
}

/* A regular file by that name that podterm did not write. */
static void test_not_a_recording(void **state)
{
    fresh_dir("foreign");
    write_file(in_dir(ID ".cast"), "{\"version\": 2}\n");
    write_file(in_dir(ID2 ".cast"), "");
    struct api_session s = {0};
    assert_int_equal(api_recording_read(dir, ID, &s), -2);
    assert_false(s.recorded);
    assert_int_equal(api_recording_read(dir, ID2, &s), -2); /* empty */
    assert_true(api_recording_exists(dir, ID2));
    char *buf = NULL;
    size_t len = 9;
    assert_int_equal(api_recording_load(dir, ID2, &buf, &len), 0);
    assert_non_null(buf);
    assert_int_equal(len, 0);
    free(buf);
    assert_int_equal(api_recording_load(dir, ID, &buf, &len), 0);
    assert_int_equal(len, 15);
    assert_memory_equal(buf, "{\"version\": 2}\n", 15);
    free(buf);
}

/* Past API_RECORDING_SERVE_MAX: -2, not read (a sparse file: no disk used). */
static void test_too_large_to_serve(void **state)
{
    fresh_dir("big");
    int fd = open(in_dir(ID ".cast"), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (off_t)API_RECORDING_SERVE_MAX + 1), 0);
    close(fd);
    char *buf = (char *)1;
    size_t len = 9;
    assert_int_equal(api_recording_load(dir, ID, &buf, &len), -2);
    assert_null(buf);
    assert_int_equal(len, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_not_regular_files),
        cmocka_unit_test(test_not_a_recording),
        cmocka_unit_test(test_too_large_to_serve),
    };
    return cmocka_run_group_tests(tests, unit_tmpdir_setup, unit_tmpdir_teardown);
}
