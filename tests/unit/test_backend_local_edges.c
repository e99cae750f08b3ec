/* test_backend_local_edges.c - the local backend's refusals and edges that
 * the main local test leaves out: an exec request without a command, a
 * workdir that is a file, PATH lookup relative to the workdir and without
 * PATH, the container's TERM on a PTY, a hand-built unsorted cluster, calls
 * on channels and stdin a stream does not have, and attach with stdin
 * backpressure, two main processes at once, a main process that cannot
 * start, and streams still attached when the backend is freed. */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <cmocka.h>
#include <uv.h>

#include "backend/local/local.h"

#define T_WAIT_MS 5000     /* longest wait for anything in these tests */
#define T_READ_CHUNK 65536 /* what the session reads at a time */

/* ---- a hand-built cluster ---- */

static char *t_slowcat_cmd[] = {"/bin/sh", "-c", "sleep 0.3; exec cat", NULL};
static char *t_sleep_cmd[] = {"/bin/sleep", "30", NULL};
static char *t_nocmd_cmd[] = {"/no/such/podterm-main", NULL};
static char *t_brief_cmd[] = {"/bin/sh", "-c", "sleep 0.2; echo brief", NULL};
static struct config_kv t_relpath_env[] = {{"PATH", ":bin"}};
static struct config_kv t_term_env[] = {{"TERM", "vt100"}};
static struct config_container t_ctrs[] = {
    {.name = "shell"},
    {.name = "filewd", .workdir = "/etc/passwd"},
    {.name = "relpath", .env = t_relpath_env, .env_len = 1, .workdir = "/usr"},
    {.name = "term", .env = t_term_env, .env_len = 1},
    {.name = "slowcat", .command = t_slowcat_cmd, .command_len = 3, .stdin_open = true},
    {.name = "sleeper", .command = t_sleep_cmd, .command_len = 2, .stdin_open = true},
    {.name = "nocmd", .command = t_nocmd_cmd, .command_len = 1},
    {.name = "brief", .command = t_brief_cmd, .command_len = 3},
};
#include "fixtures/local_session.h"

/* ---- exec refusals and lookups ---- */

static void test_exec_without_command(void **state)
{
    struct t_env *e = *state;
    struct t_sess s = {0};
    char err[BACKEND_ERR_MAX];
    struct backend_exec_request req = {
        .ns = "default", .pod = "local", .container = "shell", .want_stdout = true};
    assert_int_equal(backend_stream_start(e->b, &req, &t_cbs, &s, &s.st, err, sizeof(err)),
                     -EINVAL);
    assert_string_equal(err, "no command to run");
    const char *none[] = {NULL};
    req.argv = none;
    req.argc = 1;
    assert_int_equal(backend_stream_start(e->b, &req, &t_cbs, &s, &s.st, err, sizeof(err)),
                     -EINVAL);
    assert_string_equal(err, "no command to run");
    const char *one[] = {"true", NULL};
    req.argv = one;
    req.argc = 0;
    assert_int_equal(backend_stream_start(e->b, &req, &t_cbs, &s, &s.st, err, sizeof(err)),
                     -EINVAL);
    assert_string_equal(err, "no command to run");
    /* an empty program name is never looked up in PATH */
    const char *empty[] = {"", NULL};
    assert_int_equal(t_start(e, &s, &(struct t_req){.out = true}, empty, err), -ENOENT);
    assert_string_equal(err, "exec: \"\": executable file not found in $PATH");
    /* no namespace or container: not found (the server always sets them) */
    req.argv = one;
    req.argc = 1;
    req.container = NULL;
    assert_int_equal(backend_stream_start(e->b, &req, &t_cbs, &s, &s.st, err, sizeof(err)),
                     -ENOENT);
    assert_string_equal(err, "container not found (\"\")");
    req.container = "shell";
    req.ns = NULL;
    assert_int_equal(backend_stream_start(e->b, &req, &t_cbs, &s, &s.st, err, sizeof(err)),
                     -ENOENT);
    assert_string_equal(err, "container not found (\"shell\")");
    req.ns = "default";
    req.pod = NULL;
    assert_int_equal(backend_stream_start(e->b, &req, &t_cbs, &s, &s.st, err, sizeof(err)),
                     -ENOENT);
    assert_string_equal(err, "container not found (\"shell\")");
    /* no room for a message: still refused */
    req.pod = "local";
    req.container = "nope";
    assert_int_equal(backend_stream_start(e->b, &req, &t_cbs, &s, &s.st, err, 0), -ENOENT);
    req.ns = "other";
    assert_int_equal(backend_stream_start(e->b, &req, &t_cbs, &s, &s.st, err, sizeof(err)),
                     -ENOENT);
    assert_int_equal(local_backend_child_count(e->b), 0);
}

static void test_exec_workdir_is_a_file(void **state)
{
    struct t_env *e = *state;
    struct t_sess s = {0};
    char err[BACKEND_ERR_MAX];
    const char *argv[] = {"/bin/true", NULL};
    assert_true(t_start(e, &s, &(struct t_req){.container = "filewd", .out = true}, argv, err) < 0);
    assert_string_equal(err, "chdir to cwd (\"/etc/passwd\") set in config.json failed: not a "
                             "directory");
    assert_int_equal(local_backend_child_count(e->b), 0);
}

/* PATH entries that are not absolute are relative to the workdir ("" is
 * "."), as runc resolves them in the container. */
static void test_exec_relative_path_entries(void **state)
{
    struct t_sess s = {0};
    const char *argv[] = {"pwd", NULL};
    assert_int_equal(t_exec(*state, &s, &(struct t_req){.container = "relpath", .out = true}, argv),
                     0);
    assert_string_equal(s.out[1], "/usr\n");
    t_sess_free(&s);
    char err[BACKEND_ERR_MAX];
    const char *nf[] = {"podterm-no-such", NULL};
    assert_int_equal(
        t_start(*state, &s, &(struct t_req){.container = "relpath", .out = true}, nf, err),
        -ENOENT);
    assert_string_equal(err, "exec: \"podterm-no-such\": executable file not found in $PATH");
}

/* Without PATH in the server's environment the runtime default is used. */
static void test_exec_without_path(void **state)
{
    struct t_sess s = {0};
    char *old = getenv("PATH") ? strdup(getenv("PATH")) : NULL;
    unsetenv("PATH");
    const char *argv[] = {"sh", "-c", "echo ok", NULL};
    int code = t_exec(*state, &s, &(struct t_req){.out = true}, argv);
    if (old)
        setenv("PATH", old, 1);
    free(old);
    assert_int_equal(code, 0);
    assert_string_equal(s.out[1], "ok\n");
    t_sess_free(&s);
}

/* The container's TERM wins over the PTY default (xterm). */
static void test_tty_container_term(void **state)
{
    struct t_sess s = {0};
    const char *argv[] = {"sh", "-c", "echo $TERM", NULL};
    assert_int_equal(
        t_exec(*state, &s, &(struct t_req){.container = "term", .out = true, .tty = true}, argv),
        0);
    assert_string_equal(s.out[1], "vt100\r\n");
    t_sess_free(&s);
    assert_int_equal(t_exec(*state, &s, &(struct t_req){.out = true, .tty = true}, argv), 0);
    assert_string_equal(s.out[1], "xterm\r\n");
    t_sess_free(&s);
}

/* Channels and stdin a stream does not have: reads end, writes are -EPIPE,
 * close and resize do nothing, twice is harmless. */
static void test_exec_absent_channels_and_stdin(void **state)
{
    struct t_env *e = *state;
    struct t_sess s = {0};
    const char *argv[] = {"sh", "-c", "sleep 0.2; echo done", NULL};
    assert_int_equal(t_start(e, &s, &(struct t_req){.out = true}, argv, NULL), 0);
    uint8_t buf[16];
    assert_int_equal(backend_stream_read(s.st, 2, buf, sizeof(buf)), 0);
    assert_int_equal(backend_stream_read(s.st, 3, buf, sizeof(buf)), 0);
    backend_stream_want_read(s.st, 2, true);
    backend_stream_want_read(s.st, 0, true);
    assert_int_equal(backend_stream_write(s.st, (const uint8_t *)"x", 1), -EPIPE);
    backend_stream_close_stdin(s.st);
    backend_stream_close_stdin(s.st);
    backend_stream_resize(s.st, 100, 40); /* not a tty */
    assert_true(t_wait(e, &s.exited, T_WAIT_MS));
    assert_int_equal(s.exit.code, 0);
    assert_string_equal(s.out[1], "done\n");
    backend_stream_stop(s.st);
    t_sess_free(&s);
}

/* After the process ended: its outputs read as ended, stdin is gone
 * (-EPIPE) and closing it does nothing. */
static void test_exec_after_the_end(void **state)
{
    struct t_env *e = *state;
    struct t_sess s = {0};
    const char *argv[] = {"echo", "x", NULL};
    assert_int_equal(t_start(e, &s, &(struct t_req){.in = true, .out = true}, argv, NULL), 0);
    assert_true(t_wait(e, &s.exited, T_WAIT_MS));
    assert_int_equal(s.exit.code, 0);
    assert_string_equal(s.out[1], "x\n");
    uint8_t buf[8];
    assert_int_equal(backend_stream_read(s.st, 1, buf, sizeof(buf)), 0);
    assert_int_equal(backend_stream_write(s.st, (const uint8_t *)"y", 1), -EPIPE);
    backend_stream_close_stdin(s.st);
    backend_stream_stop(s.st);
    t_sess_free(&s);
}

/* A PTY ignores a zero size and stdin after close; a write after close is -EPIPE. */
static void test_tty_zero_resize_and_closed_stdin(void **state)
{
    struct t_env *e = *state;
    struct t_sess s = {0};
    const char *argv[] = {"sh", "-c", "read x; stty size", NULL};
    assert_int_equal(
        t_start(e, &s, &(struct t_req){.in = true, .out = true, .tty = true}, argv, NULL), 0);
    backend_stream_resize(s.st, 0, 50);
    backend_stream_resize(s.st, 90, 0);
    backend_stream_resize(s.st, 91, 33);
    t_write_all(e, &s, "\n");
    backend_stream_close_stdin(s.st);
    assert_int_equal(backend_stream_write(s.st, (const uint8_t *)"x", 1), -EPIPE);
    assert_true(t_wait(e, &s.exited, T_WAIT_MS));
    assert_int_equal(s.exit.code, 0);
    assert_non_null(strstr(s.out[1], "33 91\r\n"));
    /* after the end: nothing to write to, resize is ignored */
    assert_int_equal(backend_stream_write(s.st, (const uint8_t *)"x", 1), -EPIPE);
    backend_stream_resize(s.st, 10, 10);
    backend_stream_stop(s.st);
    t_sess_free(&s);
}

/* A hand-built cluster need not be sorted: the lookup still finds every pod. */
static struct config_container t_u_ctrs[] = {{.name = "c"}};
static struct config_pod t_u_pods[] = {
    {.ns = "default", .name = "zeta", .containers = t_u_ctrs, .containers_len = 1},
    {.ns = "default", .name = "alpha", .containers = t_u_ctrs, .containers_len = 1},
};
static struct config_cluster t_u_cluster = {.pods = t_u_pods, .pods_len = 2};

static void test_unsorted_cluster(void **state)
{
    struct t_env *e = *state;
    struct backend *b = local_backend_new(&e->loop, &t_u_cluster);
    assert_non_null(b);
    const char *names[] = {"zeta", "alpha"};
    for (int i = 0; i < 2; i++) {
        struct t_sess s = {0};
        char err[BACKEND_ERR_MAX];
        const char *argv[] = {"echo", names[i], NULL};
        struct backend_exec_request req = {.ns = "default",
                                           .pod = names[i],
                                           .container = "c",
                                           .argv = argv,
                                           .argc = 2,
                                           .want_stdout = true};
        assert_int_equal(backend_stream_start(b, &req, &t_cbs, &s, &s.st, err, sizeof(err)), 0);
        backend_stream_want_read(s.st, 1, true);
        assert_true(t_wait(e, &s.exited, T_WAIT_MS));
        char want[16];
        snprintf(want, sizeof(want), "%s\n", names[i]);
        assert_string_equal(s.out[1], want);
        backend_stream_stop(s.st);
        t_sess_free(&s);
    }
    backend_free(b);
    backend_free(NULL); /* as free(): nothing to do */
}

/* ---- attach ---- */

static int t_attach(struct t_env *e, struct t_sess *s, const char *ctr, bool in, char *err)
{
    return t_start(
        e, s, &(struct t_req){.container = ctr, .attach = true, .in = in, .out = true, .err = true},
        NULL, err);
}

/* A main process that cannot start: the attach fails with the runtime's words. */
static void test_attach_main_cannot_start(void **state)
{
    struct t_env *e = *state;
    struct t_sess s = {0};
    char err[BACKEND_ERR_MAX];
    assert_int_equal(t_attach(e, &s, "nocmd", false, err), -ENOENT);
    assert_string_equal(err, "exec: \"/no/such/podterm-main\": stat /no/such/podterm-main: no such "
                             "file or directory");
    assert_int_equal(local_backend_child_count(e->b), 0);
}

/* stdin to a main process that is not reading yet fills its pipe: the write
 * says -EAGAIN, writable fires once it reads, and everything arrives. */
static void test_attach_stdin_backpressure(void **state)
{
    struct t_env *e = *state;
    struct t_sess s = {0};
    assert_int_equal(t_attach(e, &s, "slowcat", true, NULL), 0);
    static char text[256 * 1024 + 1];
    for (size_t i = 0; i < sizeof(text) - 1; i++)
        text[i] = (char)('a' + i % 26);
    /* attach resizes nothing on pipes, and ignores channels it does not have */
    backend_stream_resize(s.st, 80, 24);
    backend_stream_want_read(s.st, 3, true);
    uint8_t b[4];
    assert_int_equal(backend_stream_read(s.st, 3, b, sizeof(b)), 0);
    t_write_all(e, &s, text);
    assert_true(s.writable_calls > 0);
    uv_update_time(&e->loop);
    uint64_t deadline = uv_now(&e->loop) + T_WAIT_MS;
    while (s.len[1] < sizeof(text) - 1 && uv_now(&e->loop) < deadline)
        uv_run(&e->loop, UV_RUN_ONCE);
    assert_int_equal(s.len[1], sizeof(text) - 1);
    assert_memory_equal(s.out[1], text, sizeof(text) - 1);
    backend_stream_close_stdin(s.st);
    assert_int_equal(backend_stream_write(s.st, (const uint8_t *)"x", 1), -EPIPE);
    backend_stream_stop(s.st);
    t_sess_free(&s);
}

/* Two containers' main processes at once, detached in either order; the
 * second attach to one of them joins the same process. */
static void test_attach_two_main_processes(void **state)
{
    struct t_env *e = *state;
    struct t_sess a = {0}, b = {0}, c = {0};
    assert_int_equal(t_attach(e, &a, "slowcat", true, NULL), 0);
    assert_int_equal(t_attach(e, &b, "sleeper", false, NULL), 0);
    assert_int_equal(t_attach(e, &c, "slowcat", false, NULL), 0);
    assert_int_equal(local_backend_child_count(e->b), 2);
    t_write_all(e, &a, "hi\n");
    uv_update_time(&e->loop);
    uint64_t deadline = uv_now(&e->loop) + T_WAIT_MS;
    while ((a.len[1] < 3 || c.len[1] < 3) && uv_now(&e->loop) < deadline)
        uv_run(&e->loop, UV_RUN_ONCE);
    assert_string_equal(a.out[1], "hi\n");
    assert_string_equal(c.out[1], "hi\n"); /* both read the one process */
    backend_stream_stop(a.st);
    backend_stream_stop(c.st);
    backend_stream_stop(b.st);
    t_sess_free(&a);
    t_sess_free(&b);
    t_sess_free(&c);
    /* detached main processes keep running until the backend goes */
    assert_int_equal(local_backend_child_count(e->b), 2);
}

/* A main process that ends: a stream still attached sees its output and
 * the end; one that detached before is not needed for the run to go; a new
 * attach after the end starts the main process again, while another
 * container's keeps running. */
static void test_attach_main_process_ends(void **state)
{
    struct t_env *e = *state;
    struct t_sess keep = {0}, a = {0}, gone = {0}, again = {0};
    assert_int_equal(t_attach(e, &keep, "sleeper", false, NULL), 0);
    assert_int_equal(t_attach(e, &gone, "brief", false, NULL), 0);
    backend_stream_stop(gone.st); /* detached before the end */
    t_sess_free(&gone);
    uv_update_time(&e->loop);
    uint64_t deadline = uv_now(&e->loop) + T_WAIT_MS;
    while (local_backend_child_count(e->b) != 1 && uv_now(&e->loop) < deadline)
        uv_run(&e->loop, UV_RUN_ONCE);
    assert_int_equal(local_backend_child_count(e->b), 1); /* brief ended, nobody attached */
    assert_int_equal(t_attach(e, &a, "brief", false, NULL), 0);
    assert_true(t_wait(e, &a.exited, T_WAIT_MS));
    assert_int_equal(a.exit.type, BACKEND_EXIT_CODE);
    assert_string_equal(a.out[1], "brief\n");
    /* a is still attached to the ended run: a new attach starts another */
    assert_int_equal(t_attach(e, &again, "brief", false, NULL), 0);
    assert_int_equal(local_backend_child_count(e->b), 2);
    assert_true(t_wait(e, &again.exited, T_WAIT_MS));
    assert_string_equal(again.out[1], "brief\n");
    backend_stream_stop(again.st);
    backend_stream_stop(a.st);
    backend_stream_stop(keep.st);
    t_sess_free(&a);
    t_sess_free(&again);
    t_sess_free(&keep);
}

/* The server stops its sessions before freeing the backend; if one is left
 * attached anyway, backend free takes it with the process (LeakSanitizer and
 * the teardown's fd and child checks see the rest). */
static void test_backend_free_with_attached_stream(void **state)
{
    struct t_env *e = *state;
    struct t_sess s = {0};
    assert_int_equal(t_attach(e, &s, "sleeper", true, NULL), 0);
    t_run_for(e, 50);
    assert_int_equal(local_backend_child_count(e->b), 1);
    t_sess_free(&s); /* the stream itself is the backend's to free */
}

/* libuv opens process-wide fds (its signal pipe, a spare /dev/null) with the
 * first loop: open them before any test counts its fds. */
static void t_warm_up(void)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct backend *b = local_backend_new(&loop, &t_cluster);
    backend_free(b);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
}

int main(void)
{
    t_warm_up();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_exec_without_command, t_setup, t_teardown),
        cmocka_unit_test_setup_teardown(test_exec_workdir_is_a_file, t_setup, t_teardown),
        cmocka_unit_test_setup_teardown(test_exec_relative_path_entries, t_setup, t_teardown),
        cmocka_unit_test_setup_teardown(test_exec_without_path, t_setup, t_teardown),
        cmocka_unit_test_setup_teardown(test_tty_container_term, t_setup, t_teardown),
        cmocka_unit_test_setup_teardown(test_exec_absent_channels_and_stdin, t_setup, t_teardown),
        cmocka_unit_test_setup_teardown(test_tty_zero_resize_and_closed_stdin, t_setup, t_teardown),
        cmocka_unit_test_setup_teardown(test_unsorted_cluster, t_setup, t_teardown),
        cmocka_unit_test_setup_teardown(test_attach_main_cannot_start, t_setup, t_teardown),
        cmocka_unit_test_setup_teardown(test_attach_stdin_backpressure, t_setup, t_teardown),
        cmocka_unit_test_setup_teardown(test_attach_two_main_processes, t_setup, t_teardown),
        cmocka_unit_test_setup_teardown(test_exec_after_the_end, t_setup, t_teardown),
        cmocka_unit_test_setup_teardown(test_attach_main_process_ends, t_setup, t_teardown),
        cmocka_unit_test_setup_teardown(test_backend_free_with_attached_stream, t_setup,
                                        t_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
