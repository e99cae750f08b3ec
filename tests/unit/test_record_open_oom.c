/* test_record_open_oom.c - a session's recording out of memory, from
 * record_open to the file's close (podterm's allocations and jansson's,
 * through json_set_alloc_funcs), with the session's three calls faked as in
 * test_record_tap.c: open says "stopped: out of memory" (and refuses with
 * --recording-required), removing the empty file; a header that cannot be
 * made stops the recording with that reason, a line without a buffer says
 * lines were lost; every run releases the
 * admission and frees everything (the leak check at exit). */
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
#include <unistd.h>

#include "admit/admit_internal.h"
#include "record/record.h"
#include "session/exec_request.h"
#include "session/session.h"
#include "unit_oom.h"
#include "unit_tmpdir.h"

#define ID "0b5d6f4c-1c7e-4a9b-8f3e-2d1c0b9a8e7f"

static struct {
    const struct session_tap_ops *ops;
    void *user;
} fake;
static struct session *const fake_session = (struct session *)&fake;

int session_tap_add(struct session *session, const struct session_tap_ops *ops, void *user)
{
    fake.ops = ops;
    fake.user = user;
    return 0;
}

void session_output_hold(struct session *session, bool hold) {}

void session_end_error(struct session *session, const char *reason, const char *message) {}

static void oom_free(void *p)
{
    free(p);
}

static char *argv_sh[] = {"sh", "-c", "echo hi", NULL};

struct open_case {
    bool required;
    int run;
    long refused_open, stopped;
};

static void open_step(void *ctx)
{
    struct open_case *c = ctx;
    char dir[UNIT_TMPDIR_PATH_MAX], path[UNIT_TMPDIR_PATH_MAX + 64];
    snprintf(dir, sizeof(dir), "%s/%s%d", unit_dir, c->required ? "req" : "opt", c->run++);
    assert_int_equal(mkdir(dir, 0700), 0);
    snprintf(path, sizeof(path), "%s/" ID ".cast", dir);
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct admit admit = {.loop = &loop};
    struct admission adm = {.admit = &admit, .audit_id = ID};
    snprintf(adm.user.user, sizeof(adm.user.user), "alice");
    struct exec_request req = {.tty = true, .argv = argv_sh, .argc = 3};
    snprintf(req.ns, sizeof(req.ns), "default");
    struct record_opts o = {.dir = dir, .required = c->required};
    struct record *r = NULL;
    char err[RECORD_ERR_MAX] = "";
    memset(&fake, 0, sizeof(fake));
    int rc = record_open(&loop, &o, &adm, &req, &r, err, sizeof(err));
    if (!r) {
        assert_true(unit_oom_hit());
        assert_string_equal(adm.recording, "stopped: out of memory");
        assert_int_equal(access(path, F_OK), -1); /* no empty file left behind */
        if (c->required) {
            assert_int_equal(rc, 1);
            assert_string_equal(err, "this session cannot be recorded (out of memory) and "
                                     "podterm runs with --recording-required");
        } else {
            assert_int_equal(rc, 0);
        }
        c->refused_open++;
        assert_int_equal(uv_loop_close(&loop), 0);
        return;
    }
    assert_int_equal(rc, 0);
    record_attach(r, fake_session);
    fake.ops->resize(fake.user, 100, 30); /* the header */
    fake.ops->output(fake.user, 1, (const uint8_t *)"hi\r\n", 4);
    fake.ops->end(fake.user, 0, "exit");
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(adm.holds, 0);
    assert_int_equal(uv_loop_close(&loop), 0);
    if (strcmp(adm.recording, ID ".cast") != 0) {
        /* the header could not be made, or a line found no buffer */
        assert_true(unit_oom_hit());
        if (strcmp(adm.recording, "stopped: out of memory") != 0 &&
            strcmp(adm.recording, "stopped: lines were lost (the disk fell behind or failed)") != 0)
            fail_msg("%s", adm.recording);
        c->stopped++;
    }
}

static void sweep(bool required)
{
    json_set_alloc_funcs(__wrap_malloc, oom_free);
    struct open_case c = {.required = required};
    long allocations = unit_oom_sweep(open_step, &c);
    json_set_alloc_funcs(malloc, free);
    assert_true(allocations > 10);
    assert_int_equal(c.refused_open, 6); /* the record, argv, three words, the writer */
    assert_true(c.stopped >= 1);         /* the header */
}

static void test_open_out_of_memory(void **state)
{
    sweep(false);
}

static void test_open_out_of_memory_required(void **state)
{
    sweep(true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_out_of_memory),
        cmocka_unit_test(test_open_out_of_memory_required),
    };
    return cmocka_run_group_tests(tests, unit_tmpdir_setup, unit_tmpdir_teardown);
}
