/* test_record_tap.c - a session's recording (record.c) through its tap,
 * with real files on a real loop and the three session calls it makes
 * replaced by fakes that remember what they were asked: which sessions are
 * recorded; a file that cannot be created (a missing folder, a path too
 * long), refused with the exact message when recording is required; the
 * header from the first resize or the defaults; the size cap's stop marker;
 * a disk that fails (RLIMIT_FSIZE) ending a required session with its
 * reason; the last write failing at close; lines lost to a slow disk; no
 * tap slot left; abandoning a recording removes its file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admit/admit_internal.h"
#include "record/record.h"
#include "record/record_enc.h"
#include "session/exec_request.h"
#include "session/session.h"
#include "unit_tmpdir.h"

#define ID "0b5d6f4c-1c7e-4a9b-8f3e-2d1c0b9a8e7f"
#define MSG_MAX 1024

/* ---- the session, faked: what record.c asks of it ---- */

static struct {
    const struct session_tap_ops *ops;
    void *user;
    int add_rc;
    int held, released;
    int ends;
    char end_reason[64], end_message[MSG_MAX];
} fake;
static struct session *const fake_session = (struct session *)&fake;

int session_tap_add(struct session *session, const struct session_tap_ops *ops, void *user)
{
    assert_ptr_equal(session, fake_session);
    if (fake.add_rc)
        return fake.add_rc;
    fake.ops = ops;
    fake.user = user;
    return 0;
}

void session_output_hold(struct session *session, bool hold)
{
    assert_ptr_equal(session, fake_session);
    if (hold)
        fake.held++;
    else
        fake.released++;
}

void session_end_error(struct session *session, const char *reason, const char *message)
{
    assert_ptr_equal(session, fake_session);
    fake.ends++;
    snprintf(fake.end_reason, sizeof(fake.end_reason), "%s", reason);
    snprintf(fake.end_message, sizeof(fake.end_message), "%s", message);
}

/* ---- one recording's world ---- */

struct world {
    uv_loop_t loop;
    struct admit admit;
    struct admission adm;
    struct exec_request req;
    struct record_opts opts;
    char dir[UNIT_TMPDIR_PATH_MAX];
    char path[UNIT_TMPDIR_PATH_MAX + 64];
};

static char *argv_sh[] = {"sh", "-c", "echo hi", NULL};

static void world_init(struct world *w, const char *name)
{
    memset(w, 0, sizeof(*w));
    memset(&fake, 0, sizeof(fake));
    uv_loop_init(&w->loop);
    w->admit.loop = &w->loop;
    w->adm.admit = &w->admit;
    snprintf(w->adm.audit_id, sizeof(w->adm.audit_id), "%s", ID);
    snprintf(w->adm.user.user, sizeof(w->adm.user.user), "alice");
    w->req = (struct exec_request){.tty = true, .want_stdin = true, .argv = argv_sh, .argc = 3};
    snprintf(w->req.ns, sizeof(w->req.ns), "default");
    snprintf(w->req.pod, sizeof(w->req.pod), "web");
    snprintf(w->req.container, sizeof(w->req.container), "shell");
    snprintf(w->dir, sizeof(w->dir), "%s/%s", unit_dir, name);
    assert_int_equal(mkdir(w->dir, 0700), 0);
    snprintf(w->path, sizeof(w->path), "%s/" ID ".cast", w->dir);
    w->opts.dir = w->dir;
}

static struct record *world_open(struct world *w)
{
    struct record *r = NULL;
    char err[RECORD_ERR_MAX] = "";
    assert_int_equal(record_open(&w->loop, &w->opts, &w->adm, &w->req, &r, err, sizeof(err)), 0);
    assert_non_null(r);
    assert_string_equal(w->adm.recording, ID ".cast");
    assert_int_equal(w->adm.holds, 1);
    record_attach(r, fake_session);
    assert_ptr_equal(fake.user, r);
    return r;
}

static void world_end(struct world *w, int code, const char *reason)
{
    fake.ops->end(fake.user, code, reason);
    uv_run(&w->loop, UV_RUN_DEFAULT);
    assert_int_equal(w->adm.holds, 0); /* the file closed: the admission may finish */
    assert_int_equal(uv_loop_close(&w->loop), 0);
}

static void out(const char *s)
{
    fake.ops->output(fake.user, 1, (const uint8_t *)s, strlen(s));
}

/* The file's lines, parsed; lines[0] is the header. */
static size_t read_lines(const char *path, json_t **lines, size_t cap)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    static char buf[1 << 20];
    size_t n = 0;
    while (n < cap && fgets(buf, sizeof(buf), f)) {
        json_error_t e;
        lines[n] = json_loads(buf, 0, &e);
        if (!lines[n])
            fail_msg("line %zu is not JSON: %s", n + 1, e.text);
        n++;
    }
    fclose(f);
    return n;
}

static void free_lines(json_t **lines, size_t n)
{
    for (size_t i = 0; i < n; i++)
        json_decref(lines[i]);
}

/* An event line's type and data ("o", "hi"). */
static void assert_event(json_t *ev, const char *type, const char *data)
{
    assert_true(json_is_array(ev));
    assert_string_equal(json_string_value(json_array_get(ev, 1)), type);
    assert_string_equal(json_string_value(json_array_get(ev, 2)), data);
}

/* ---- which sessions are recorded ---- */

static void test_not_recorded(void **state)
{
    struct world w;
    world_init(&w, "not");
    struct record *r = (struct record *)1;
    char err[RECORD_ERR_MAX] = "";
    struct record_opts off = {0};
    assert_int_equal(record_open(&w.loop, &off, &w.adm, &w.req, &r, err, sizeof(err)), 0);
    assert_null(r);
    assert_int_equal(record_open(&w.loop, &w.opts, NULL, &w.req, &r, err, sizeof(err)), 0);
    assert_null(r);
    w.req.tty = false; /* not a terminal, and not --recording-all */
    assert_int_equal(record_open(&w.loop, &w.opts, &w.adm, &w.req, &r, err, sizeof(err)), 0);
    assert_null(r);
    assert_string_equal(w.adm.recording, "");
    assert_int_equal(access(w.path, F_OK), -1);
    record_attach(NULL, fake_session); /* nothing to attach */
    record_abandon(NULL);
    assert_null(fake.ops);
    assert_int_equal(uv_loop_close(&w.loop), 0);
}

/* The folder is gone: not recorded (the admission says why and marks
 * recording unhealthy); with --recording-required, refused. */
static void test_cannot_create(void **state)
{
    struct world w;
    world_init(&w, "create");
    assert_int_equal(rmdir(w.dir), 0);
    struct record *r = (struct record *)1;
    char err[RECORD_ERR_MAX] = "";
    assert_int_equal(record_open(&w.loop, &w.opts, &w.adm, &w.req, &r, err, sizeof(err)), 0);
    assert_null(r);
    assert_string_equal(w.adm.recording,
                        "stopped: cannot create " ID ".cast: No such file or directory");
    assert_true(w.admit.recording_failed);
    assert_string_equal(err, "");

    w.opts.required = true;
    assert_int_equal(record_open(&w.loop, &w.opts, &w.adm, &w.req, &r, err, sizeof(err)), 1);
    assert_null(r);
    assert_string_equal(err, "this session cannot be recorded (cannot create " ID
                             ".cast: No such file or directory) and podterm runs with "
                             "--recording-required");

    /* a folder whose name leaves no room for the file's */
    static char longdir[PATH_MAX];
    memset(longdir, 'd', sizeof(longdir) - 1);
    longdir[0] = '/';
    longdir[sizeof(longdir) - 1] = '\0';
    w.opts.dir = longdir;
    assert_int_equal(record_open(&w.loop, &w.opts, &w.adm, &w.req, &r, err, sizeof(err)), 1);
    assert_string_equal(err, "this session cannot be recorded (cannot create " ID
                             ".cast: File name too long) and podterm runs with "
                             "--recording-required");
    assert_int_equal(uv_loop_close(&w.loop), 0);
}

/* ---- what a recording holds ---- */

/* The header takes the first resize; stdout, stderr and (with
 * --record-input) stdin become events; a later resize is an "r" event; the
 * end is an exit marker. An attach with nobody known is "attach" by
 * system:anonymous. */
static void test_recording_lines(void **state)
{
    struct world w;
    world_init(&w, "lines");
    w.opts.input = true;
    w.opts.all = true;
    w.req.attach = true;
    w.req.tty = false;
    w.adm.user.user[0] = '\0';
    world_open(&w);
    fake.ops->resize(fake.user, 100, 30);
    out("hi");
    fake.ops->output(fake.user, 2, (const uint8_t *)"oops", 4);
    fake.ops->input(fake.user, (const uint8_t *)"ls\r", 3);
    fake.ops->resize(fake.user, 120, 40);
    world_end(&w, 3, "exit");
    json_t *lines[16];
    size_t n = read_lines(w.path, lines, 16);
    assert_int_equal(n, 6);
    json_t *h = lines[0];
    assert_int_equal(json_integer_value(json_object_get(h, "version")), 2);
    assert_int_equal(json_integer_value(json_object_get(h, "width")), 100);
    assert_int_equal(json_integer_value(json_object_get(h, "height")), 30);
    json_t *pt = json_object_get(h, "podterm");
    assert_non_null(pt);
    assert_string_equal(json_string_value(json_object_get(pt, "user")), "system:anonymous");
    assert_string_equal(json_string_value(json_object_get(pt, "kind")), "attach");
    assert_event(lines[1], "o", "hi");
    assert_event(lines[2], "o", "oops");
    assert_event(lines[3], "i", "ls\r");
    assert_event(lines[4], "r", "120x40");
    assert_event(lines[5], "m", "exit 3: exit");
    free_lines(lines, n);
    assert_string_equal(w.adm.recording, ID ".cast");
}

/* Nothing said at all: the header (80x24) is written at the end, before
 * the exit marker; a NULL reason is empty. Input without --record-input is
 * not recorded. */
static void test_header_at_end(void **state)
{
    struct world w;
    world_init(&w, "quiet");
    world_open(&w);
    fake.ops->input(fake.user, (const uint8_t *)"secret\r", 7);
    world_end(&w, 0, NULL);
    json_t *lines[4];
    size_t n = read_lines(w.path, lines, 4);
    assert_int_equal(n, 2);
    assert_int_equal(json_integer_value(json_object_get(lines[0], "width")), RECORD_DEFAULT_WIDTH);
    assert_int_equal(json_integer_value(json_object_get(lines[0], "height")),
                     RECORD_DEFAULT_HEIGHT);
    assert_event(lines[1], "m", "exit 0: ");
    free_lines(lines, n);
}

/* Input before any output writes the header first. */
static void test_input_first(void **state)
{
    struct world w;
    world_init(&w, "input");
    w.opts.input = true;
    world_open(&w);
    fake.ops->input(fake.user, (const uint8_t *)"x", 1);
    world_end(&w, 0, "exit");
    json_t *lines[4];
    size_t n = read_lines(w.path, lines, 4);
    assert_int_equal(n, 3);
    assert_int_equal(json_integer_value(json_object_get(lines[0], "width")), RECORD_DEFAULT_WIDTH);
    assert_event(lines[1], "i", "x");
    free_lines(lines, n);
}

/* The size cap: a "recording stopped" marker, the admission told, nothing
 * more recorded (output, resize, input, the exit marker), the file within
 * the cap. */
static void test_size_cap(void **state)
{
    struct world w;
    world_init(&w, "cap");
    w.opts.max_bytes = RECORD_MAX_BYTES_MIN;
    w.opts.input = true;
    world_open(&w);
    static char chunk[1001];
    memset(chunk, 'a', 1000);
    for (int i = 0; i < 10; i++)
        out(chunk);
    fake.ops->resize(fake.user, 10, 10);
    fake.ops->input(fake.user, (const uint8_t *)"late", 4);
    world_end(&w, 0, "exit");
    struct stat st;
    assert_int_equal(stat(w.path, &st), 0);
    assert_true(st.st_size <= RECORD_MAX_BYTES_MIN);
    json_t *lines[16];
    size_t n = read_lines(w.path, lines, 16);
    assert_event(lines[n - 1], "m", "recording stopped: size limit of 4096 bytes reached");
    free_lines(lines, n);
    assert_string_equal(w.adm.recording, "stopped: size limit of 4096 bytes reached");
    assert_false(w.admit.recording_failed); /* the cap is not a disk failure */
    assert_int_equal(fake.ends, 0);
}

/* Runs the loop until every write so far is on disk. */
static void settle(struct world *w)
{
    uv_run(&w->loop, UV_RUN_NOWAIT);
    for (int i = 0; i < 200 && uv_loop_alive(&w->loop); i++)
        uv_run(&w->loop, UV_RUN_ONCE);
}

static void fsize_limit(rlim_t limit, struct rlimit *old)
{
    assert_int_equal(getrlimit(RLIMIT_FSIZE, old), 0);
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit lim = {limit, old->rlim_max};
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
}

static void fsize_restore(const struct rlimit *old)
{
    assert_int_equal(setrlimit(RLIMIT_FSIZE, old), 0);
    signal(SIGXFSZ, SIG_DFL);
}

/* A write fails (the file-size limit): the recording stops, recording
 * turns unhealthy, and with --recording-required the session ends with
 * the reason. */
static void test_disk_failure_ends_required_session(void **state)
{
    struct world w;
    world_init(&w, "fail");
    w.opts.required = true;
    world_open(&w);
    out("first");
    settle(&w);
    struct stat st;
    assert_int_equal(stat(w.path, &st), 0);
    struct rlimit old;
    fsize_limit((rlim_t)st.st_size, &old);
    out("second");
    settle(&w);
    fsize_restore(&old);
    assert_int_equal(fake.ends, 1);
    assert_string_equal(fake.end_reason, "error");
    assert_string_equal(fake.end_message,
                        "podterm: this session cannot be recorded (cannot write the recording: "
                        "file too large) and recording is required: the session ends");
    assert_string_equal(w.adm.recording, "stopped: cannot write the recording: file too large");
    assert_true(w.admit.recording_failed);
    out("third"); /* stopped: not recorded */
    fake.ops->resize(fake.user, 1, 1);
    world_end(&w, 1, "error");
    assert_int_equal(stat(w.path, &st), 0);
    json_t *lines[4];
    size_t n = read_lines(w.path, lines, 4);
    assert_int_equal(n, 2);
    assert_event(lines[1], "o", "first");
    free_lines(lines, n);
}

/* The exit marker's write fails while the file closes: the admission
 * still learns the recording is short. */
static void test_failure_at_close(void **state)
{
    struct world w;
    world_init(&w, "closefail");
    world_open(&w);
    out("all");
    settle(&w);
    struct stat st;
    assert_int_equal(stat(w.path, &st), 0);
    struct rlimit old;
    fsize_limit((rlim_t)st.st_size, &old);
    fake.ops->end(fake.user, 0, "exit");
    uv_run(&w.loop, UV_RUN_DEFAULT);
    fsize_restore(&old);
    assert_int_equal(w.adm.holds, 0);
    assert_string_equal(w.adm.recording, "stopped: cannot write the recording: file too large");
    assert_true(w.admit.recording_failed);
    assert_int_equal(fake.ends, 0); /* the session had ended already */
    assert_int_equal(uv_loop_close(&w.loop), 0);
}

/* More output at once than the writer's buffers take (nothing reaches the
 * disk meanwhile): lines are lost, and the admission says so at the end. */
static void test_lines_lost(void **state)
{
    struct world w;
    world_init(&w, "lost");
    world_open(&w);
    size_t big = 3 * 1024 * 1024;
    char *chunk = malloc(big + 1);
    memset(chunk, 'z', big);
    chunk[big] = '\0';
    out(chunk);
    out("more"); /* halted: refused without trying */
    free(chunk);
    fake.ops->end(fake.user, 0, "exit");
    assert_string_equal(w.adm.recording,
                        "stopped: lines were lost (the disk fell behind or failed)");
    uv_run(&w.loop, UV_RUN_DEFAULT);
    assert_int_equal(w.adm.holds, 0);
    assert_int_equal(uv_loop_close(&w.loop), 0);
}

/* No tap slot left: the recording is dropped, its file removed, the
 * admission says why and is released. */
static void test_no_tap_slot(void **state)
{
    struct world w;
    world_init(&w, "noslot");
    struct record *r = NULL;
    char err[RECORD_ERR_MAX] = "";
    assert_int_equal(record_open(&w.loop, &w.opts, &w.adm, &w.req, &r, err, sizeof(err)), 0);
    assert_int_equal(access(w.path, F_OK), 0);
    fake.add_rc = -1;
    record_attach(r, fake_session);
    assert_int_equal(access(w.path, F_OK), -1);
    assert_string_equal(w.adm.recording, "stopped: no room for the recorder's tap");
    assert_int_equal(w.adm.holds, 0);
    uv_run(&w.loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&w.loop), 0);
}

/* The session was not created after all: the empty file is removed and the
 * admission forgets the recording. */
static void test_abandon(void **state)
{
    struct world w;
    world_init(&w, "abandon");
    struct record *r = NULL;
    char err[RECORD_ERR_MAX] = "";
    assert_int_equal(record_open(&w.loop, &w.opts, &w.adm, &w.req, &r, err, sizeof(err)), 0);
    record_abandon(r);
    assert_int_equal(access(w.path, F_OK), -1);
    assert_string_equal(w.adm.recording, "");
    assert_int_equal(w.adm.holds, 0);
    uv_run(&w.loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&w.loop), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_not_recorded),
        cmocka_unit_test(test_cannot_create),
        cmocka_unit_test(test_recording_lines),
        cmocka_unit_test(test_header_at_end),
        cmocka_unit_test(test_input_first),
        cmocka_unit_test(test_size_cap),
        cmocka_unit_test(test_disk_failure_ends_required_session),
        cmocka_unit_test(test_failure_at_close),
        cmocka_unit_test(test_lines_lost),
        cmocka_unit_test(test_no_tap_slot),
        cmocka_unit_test(test_abandon),
    };
    return cmocka_run_group_tests(tests, unit_tmpdir_setup, unit_tmpdir_teardown);
}
