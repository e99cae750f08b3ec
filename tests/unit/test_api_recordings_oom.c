/* test_api_recordings_oom.c - the recordings folder out of memory: a list
 * that cannot grow or be returned is -1 (never a short list passed off as
 * the folder), a header that cannot be read for want of memory is -3 (or
 * -2 when jansson ran out: not listed either way, never half-filled), a whole file that finds no
 * buffer is -3; every run frees what it made (the leak check at exit). jansson's allocations go
 * through the same countdown (json_set_alloc_funcs). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include <sys/stat.h>

#include "api/api_sessions.h"
#include "unit_oom.h"
#include "unit_tmpdir.h"

#define FILES 70 /* more than the first list buffer (64): it grows */
#define ID "0a1b2c3d-1111-4222-8333-444455556666"

static void oom_free(void *p)
{
    free(p);
}

static char dir[UNIT_TMPDIR_PATH_MAX];

static void write_file(const char *name, const char *text)
{
    char p[UNIT_TMPDIR_PATH_MAX + 64];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

struct oom_case {
    long refused;
};

static void list_step(void *ctx)
{
    struct oom_case *c = ctx;
    char(*ids)[AUDIT_ID_LEN + 1] = (void *)1;
    long n = api_recordings_newest(dir, &ids);
    if (unit_oom_hit()) {
        assert_int_equal(n, -1);
        assert_null(ids);
        c->refused++;
        return;
    }
    assert_int_equal(n, FILES);
    free(ids);
}

static const char recording[] =
    "{\"version\": 2, \"width\": 80, \"height\": 24, \"timestamp\": 1764490000, "
    "\"podterm\": {\"id\": \"" ID "\", \"user\": \"alice\", \"kind\": \"exec\", "
    "\"namespace\": \"default\", \"pod\": \"web\", \"container\": \"c\", \"tty\": true, "
    "\"stdin\": false, \"command\": [\"sh\", \"-c\", \"id\"]}}\n"
    "[0.1, \"o\", \"uid=0\\r\\n\"]\n"
    "[0.2, \"m\", \"exit 0: exit\"]\n";

static void read_step(void *ctx)
{
    struct oom_case *c = ctx;
    struct api_session s = {0};
    int rc = api_recording_read(dir, ID, &s);
    if (rc == -3 || rc == -2) {
        /* -3: no buffer; -2: jansson could not parse the header, which
         * api_cast.c cannot tell from a malformed one (not listed either way) */
        assert_true(unit_oom_hit());
        assert_null(s.command);
        assert_false(s.recorded);
        c->refused++;
        return;
    }
    /* jansson may lose memory in the tail's marker only: the header is whole */
    assert_int_equal(rc, 0);
    assert_string_equal(s.user, "alice");
    assert_int_equal(json_array_size(s.command), 3);
    assert_true(s.recorded);
    if (!unit_oom_hit()) {
        assert_true(s.has_exit);
        assert_string_equal(s.end_reason, "exit");
    }
    api_session_clear(&s);
}

static void load_step(void *ctx)
{
    struct oom_case *c = ctx;
    char *buf = (char *)1;
    size_t len = 9;
    int rc = api_recording_load(dir, ID, &buf, &len);
    if (unit_oom_hit()) {
        assert_int_equal(rc, -3);
        assert_null(buf);
        assert_int_equal(len, 0);
        c->refused++;
        return;
    }
    assert_int_equal(rc, 0);
    assert_int_equal(len, strlen(recording));
    assert_memory_equal(buf, recording, len);
    free(buf);
}

static void test_recordings_out_of_memory(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "%s/recs", unit_dir);
    assert_int_equal(mkdir(dir, 0700), 0);
    char name[64];
    for (int i = 0; i < FILES - 1; i++) {
        snprintf(name, sizeof(name), "0a1b2c3d-1111-4222-8333-%012d.cast", i);
        write_file(name, "x\n");
    }
    write_file(ID ".cast", recording);
    json_set_alloc_funcs(__wrap_malloc, oom_free);

    struct oom_case list = {0}, rd = {0}, load = {0};
    long n = unit_oom_sweep(list_step, &list);
    assert_int_equal(n, 3); /* the first buffer, its growth, the answer */
    assert_int_equal(list.refused, 3);
    n = unit_oom_sweep(read_step, &rd);
    assert_true(n > 5);
    assert_true(rd.refused >= 2);
    n = unit_oom_sweep(load_step, &load);
    assert_int_equal(n, 1);
    assert_int_equal(load.refused, 1);
    json_set_alloc_funcs(malloc, free);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recordings_out_of_memory),
    };
    return cmocka_run_group_tests(tests, unit_tmpdir_setup, unit_tmpdir_teardown);
}
