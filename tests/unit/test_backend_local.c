/* test_backend_local.c - the local backend on a real uv loop with real
 * processes: output channels, exit codes, stdin, PTY size and controlling
 * terminal, spawn errors, stop and kill grace, leaks, the PTY tail, attach
 * fan-out and backpressure. */
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
#define T_PIPE_MAX 65536   /* Linux default pipe capacity */

/* ---- a hand-built cluster ---- */

static char *t_cat_cmd[] = {"/bin/cat", NULL};
static char *t_read_cmd[] = {"/bin/sh", "-c", "read line; echo got $line", NULL};
static char *t_yes_cmd[] = {"/usr/bin/yes", NULL};
#define T_COUNT_TO 200000 /* seq's output: 1 288 895 bytes, ~5 x the attach ring */
static char *t_count_cmd[] = {"/usr/bin/seq", "1", "200000", NULL};
static struct config_kv t_env[] = {{"PODTERM_T", "bar"}, {"HOME", "/nowhere"}};
static struct config_container t_ctrs[] = {
    {.name = "shell"},
    {.name = "envy", .env = t_env, .env_len = 2, .workdir = "/tmp"},
    {.name = "badwd", .workdir = "/nonexistent-podterm-dir"},
    {.name = "cat", .command = t_cat_cmd, .command_len = 1, .stdin_open = true},
    {.name = "reader", .command = t_read_cmd, .command_len = 3, .stdin_open = true},
    {.name = "yes", .command = t_yes_cmd, .command_len = 1},
    {.name = "count", .command = t_count_cmd, .command_len = 3},
    {.name = "ttycat", .command = t_cat_cmd, .command_len = 1, .tty = true, .stdin_open = true},
};
#include "fixtures/local_session.h"

static bool t_wait_children(struct t_env *e, size_t n, int ms)
{
    uv_update_time(&e->loop);
    uint64_t deadline = uv_now(&e->loop) + (uint64_t)ms;
    while (local_backend_child_count(e->b) != n && uv_now(&e->loop) < deadline)
        uv_run(&e->loop, UV_RUN_ONCE);
    return local_backend_child_count(e->b) == n;
}

static double t_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- exec ---- */

static void test_exec_echo(void **state)
{
    struct t_sess s = {0};
    const char *argv[] = {"echo", "hello", NULL};
    assert_int_equal(t_exec(*state, &s, &(struct t_req){.out = true, .err = true}, argv), 0);
    assert_string_equal(s.out[1], "hello\n");
    assert_null(s.out[2]);
    assert_true(s.eof[1] && s.eof[2]);
    t_sess_free(&s);
}

static void test_exec_stdout_stderr_separate(void **state)
{
    struct t_sess s = {0};
    const char *argv[] = {"sh", "-c", "echo out; echo err >&2; echo out2", NULL};
    assert_int_equal(t_exec(*state, &s, &(struct t_req){.out = true, .err = true}, argv), 0);
    assert_string_equal(s.out[1], "out\nout2\n");
    assert_string_equal(s.out[2], "err\n");
    t_sess_free(&s);
}

static void test_exec_unwanted_stderr_dropped(void **state)
{
    struct t_sess s = {0};
    const char *argv[] = {"sh", "-c", "echo err >&2; echo out", NULL};
    assert_int_equal(t_exec(*state, &s, &(struct t_req){.out = true}, argv), 0);
    assert_string_equal(s.out[1], "out\n");
    assert_null(s.out[2]);
    t_sess_free(&s);
}

static void test_exec_exit_codes(void **state)
{
    struct t_sess s = {0};
    const char *seven[] = {"sh", "-c", "exit 7", NULL};
    assert_int_equal(t_exec(*state, &s, &(struct t_req){.out = true}, seven), 7);
    t_sess_free(&s);
    const char *killed[] = {"sh", "-c", "kill -KILL $$", NULL};
    assert_int_equal(t_exec(*state, &s, &(struct t_req){.out = true}, killed), 128 + SIGKILL);
    t_sess_free(&s);
    const char *tty[] = {"sh", "-c", "echo dropped; exit 3", NULL}; /* PTY output unwanted */
    assert_int_equal(t_exec(*state, &s, &(struct t_req){.tty = true}, tty), 3);
    assert_null(s.out[1]);
    t_sess_free(&s);
    const char *none[] = {"true", NULL}; /* no output channel at all */
    assert_int_equal(t_exec(*state, &s, &(struct t_req){0}, none), 0);
    t_sess_free(&s);
}

static void test_exec_stdin_cat(void **state)
{
    struct t_env *e = *state;
    struct t_sess s = {0};
    const char *argv[] = {"cat", NULL};
    assert_int_equal(t_start(e, &s, &(struct t_req){.in = true, .out = true}, argv, NULL), 0);
    t_write_all(e, &s, "abc\ndef");
    backend_stream_close_stdin(s.st);
    assert_int_equal(backend_stream_write(s.st, (const uint8_t *)"x", 1), -EPIPE);
    assert_true(t_wait(e, &s.exited, T_WAIT_MS));
    assert_int_equal(s.exit.code, 0);
    assert_string_equal(s.out[1], "abc\ndef");
    backend_stream_stop(s.st);
    t_sess_free(&s);
}

static void test_exec_stdin_large_writable(void **state)
{
    struct t_env *e = *state;
    struct t_sess s = {0};
    /* The child reads only after a pause, so the pipe surely fills: a wc
     * reading on the other core could otherwise keep up with every write. */
    const char *argv[] = {"sh", "-c", "sleep 0.2; exec wc -c", NULL};
    assert_int_equal(t_start(e, &s, &(struct t_req){.in = true, .out = true}, argv, NULL), 0);
    static char big[1024 * 1024 + 1];
    memset(big, 'x', sizeof(big) - 1);
    t_write_all(e, &s, big); /* more than a pipe holds: -EAGAIN, then writable */
    backend_stream_close_stdin(s.st);
    assert_true(t_wait(e, &s.exited, T_WAIT_MS));
    assert_true(s.writable_calls > 0);
    assert_int_equal(atoi(s.out[1]), 1024 * 1024);
    backend_stream_stop(s.st);
    t_sess_free(&s);
}

static void test_exec_env_workdir(void **state)
{
    struct t_sess s = {0};
    const char *argv[] = {"sh", "-c", "echo $PODTERM_T $HOME $(pwd)", NULL};
    struct t_req r = {.container = "envy", .out = true};
    assert_int_equal(t_exec(*state, &s, &r, argv), 0);
    assert_string_equal(s.out[1], "bar /nowhere /tmp\n");
    t_sess_free(&s);
}

static void test_exec_spawn_errors(void **state)
{
    struct t_env *e = *state;
    struct t_sess s = {0};
    char err[BACKEND_ERR_MAX];
    struct t_req r = {.out = true};
    const char *nf[] = {"no-such-cmd-podterm", NULL};
    assert_int_equal(t_start(e, &s, &r, nf, err), -ENOENT);
    assert_string_equal(err, "exec: \"no-such-cmd-podterm\": executable file not found in $PATH");
    const char *np[] = {"/no/such/podterm", NULL};
    assert_int_equal(t_start(e, &s, &r, np, err), -ENOENT);
    assert_string_equal(
        err, "exec: \"/no/such/podterm\": stat /no/such/podterm: no such file or directory");
    const char *acc[] = {"/etc/passwd", NULL};
    assert_int_equal(t_start(e, &s, &r, acc, err), -EACCES);
    assert_string_equal(err, "exec: \"/etc/passwd\": permission denied");
    const char *sh[] = {"sh", NULL};
    struct t_req bad = {.container = "badwd", .out = true};
    assert_true(t_start(e, &s, &bad, sh, err) < 0);
    assert_string_equal(err, "chdir to cwd (\"/nonexistent-podterm-dir\") set in config.json "
                             "failed: no such file or directory");
    struct t_req nc = {.container = "nope", .out = true};
    assert_int_equal(t_start(e, &s, &nc, sh, err), -ENOENT);
    assert_string_equal(err, "container not found (\"nope\")");
    assert_int_equal(local_backend_child_count(e->b), 0);
}

/* ---- tty ---- */

static void test_tty_stderr_on_channel_1(void **state)
{
    struct t_sess s = {0};
    const char *argv[] = {"sh", "-c", "echo err >&2", NULL};
    struct t_req r = {.out = true, .err = true, .tty = true};
    assert_int_equal(t_exec(*state, &s, &r, argv), 0);
    assert_string_equal(s.out[1], "err\r\n");
    assert_null(s.out[2]);
    t_sess_free(&s);
}

static void test_tty_controlling_terminal(void **state)
{
    struct t_sess s = {0};
    const char *argv[] = {"sh", "-c", "echo ok > /dev/tty; stty size", NULL};
    struct t_req r = {.out = true, .tty = true};
    assert_int_equal(t_exec(*state, &s, &r, argv), 0);
    assert_string_equal(s.out[1], "ok\r\n24 80\r\n");
    t_sess_free(&s);
}

static void test_tty_resize(void **state)
{
    struct t_env *e = *state;
    struct t_sess s = {0};
    const char *argv[] = {
        "sh", "-c", "trap 'stty size; exit 0' WINCH; echo ready; while :; do sleep 0.02; done",
        NULL};
    struct t_req r = {.in = true, .out = true, .tty = true};
    assert_int_equal(t_start(e, &s, &r, argv, NULL), 0);
    for (int i = 0; i < 1000 && !s.out[1]; i++)
        t_run_for(e, 5);
    assert_string_equal(s.out[1], "ready\r\n");
    backend_stream_resize(s.st, 101, 33); /* the kernel sends SIGWINCH */
    assert_true(t_wait(e, &s.exited, T_WAIT_MS));
    assert_string_equal(s.out[1], "ready\r\n33 101\r\n");
    backend_stream_stop(s.st);
    t_sess_free(&s);
}

static void test_tty_close_stdin_veof(void **state)
{
    struct t_env *e = *state;
    struct t_sess s = {0};
    const char *argv[] = {"cat", NULL};
    struct t_req r = {.in = true, .out = true, .tty = true};
    assert_int_equal(t_start(e, &s, &r, argv, NULL), 0);
    t_write_all(e, &s, "abc\n");
    backend_stream_close_stdin(s.st); /* ^D at the start of a line: cat reads EOF */
    assert_true(t_wait(e, &s.exited, T_WAIT_MS));
    assert_int_equal(s.exit.code, 0);
    assert_non_null(strstr(s.out[1], "abc\r\nabc\r\n")); /* echo, then cat */
    backend_stream_stop(s.st);
    t_sess_free(&s);
}

/* Linux moves PTY output to the master asynchronously: a last write right
 * before exit must still arrive, every time. */
static void test_tty_tail_endmark(void **state)
{
    struct t_env *e = *state;
    const char *argv[] = {"sh", "-c", "printf %s ENDMARK", NULL};
    struct t_req r = {.out = true, .tty = true};
    for (int i = 0; i < 200; i++) {
        struct t_sess s = {0};
        assert_int_equal(t_exec(e, &s, &r, argv), 0);
        assert_non_null(s.out[1]);
        assert_string_equal(s.out[1], "ENDMARK");
        t_sess_free(&s);
    }
}

static void test_pipe_tail_large(void **state)
{
    struct t_sess s = {0};
    const char *argv[] = {"sh", "-c", "head -c 300000 /dev/zero | tr '\\0' x; printf END", NULL};
    assert_int_equal(t_exec(*state, &s, &(struct t_req){.out = true}, argv), 0);
    assert_int_equal(s.len[1], 300003);
    assert_string_equal(s.out[1] + 300000, "END");
    t_sess_free(&s);
}

/* ---- the end with a grandchild holding the output ---- */

static void test_exec_grandchild_drain(void **state)
{
    struct t_env *e = *state;
    struct t_sess s = {0};
    const char *argv[] = {"sh", "-c", "sleep 2 & echo done", NULL};
    double t0 = t_now();
    assert_int_equal(t_exec(e, &s, &(struct t_req){.out = true}, argv), 0);
    double took = t_now() - t0;
    assert_string_equal(s.out[1], "done\n");
    assert_true(took < 1.5); /* the drain grace, not the grandchild's lifetime */
    t_sess_free(&s);
}

/* ---- stop ---- */

static void test_stop_kill_grace(void **state)
{
    struct t_env *e = *state;
    struct t_sess s = {0};
    const char *argv[] = {"sh", "-c", "trap '' HUP; echo ready; sleep 100", NULL};
    assert_int_equal(t_start(e, &s, &(struct t_req){.out = true}, argv, NULL), 0);
    for (int i = 0; i < 1000 && !s.out[1]; i++)
        t_run_for(e, 5);
    assert_string_equal(s.out[1], "ready\n");
    assert_int_equal(local_backend_child_count(e->b), 1);
    double t0 = t_now();
    backend_stream_stop(s.st);
    s.stopped = true;
    t_run_for(e, 50);
    assert_int_equal(local_backend_child_count(e->b), 1); /* SIGHUP is ignored */
    assert_true(t_wait_children(e, 0, T_WAIT_MS));
    double took = t_now() - t0;
    assert_true(took >= 0.09 && took < 1.0);
    t_run_for(e, 20);
    assert_int_equal(s.after_stop, 0);
    t_sess_free(&s);
}

static void test_stop_sighup(void **state)
{
    struct t_env *e = *state;
    struct t_sess s = {0};
    local_backend_set_kill_grace(e->b, 5000);
    const char *argv[] = {"sh", "-c", "sleep 100", NULL};
    assert_int_equal(
        t_start(e, &s, &(struct t_req){.in = true, .out = true, .tty = true}, argv, NULL), 0);
    t_run_for(e, 20);
    backend_stream_stop(s.st);
    s.stopped = true;
    assert_true(t_wait_children(e, 0, 1000)); /* SIGHUP alone ends it */
    assert_int_equal(s.after_stop, 0);
    t_sess_free(&s);
}

static void test_free_kills_children(void **state)
{
    struct t_env *e = *state;
    struct t_sess s = {0};
    local_backend_set_kill_grace(e->b, 60000);
    const char *argv[] = {"sh", "-c", "trap '' HUP; sleep 100", NULL};
    assert_int_equal(t_start(e, &s, &(struct t_req){.out = true}, argv, NULL), 0);
    backend_stream_stop(s.st);
    s.stopped = true;
    assert_int_equal(local_backend_child_count(e->b), 1);
    /* teardown frees the backend: SIGKILL and reap, nothing left */
    t_sess_free(&s);
}

/* ---- leaks and many streams (set-up rate and idle memory: bench/) ---- */

static void test_many_runs_no_leak(void **state)
{
    struct t_env *e = *state;
    int fds = t_fd_count();
    for (int i = 0; i < 200; i++) {
        struct t_sess s = {0};
        const char *argv[] = {"sh", "-c", "echo x; echo y >&2", NULL};
        struct t_req r = {.in = i % 3 == 0, .out = true, .err = true, .tty = i % 2 == 0};
        assert_int_equal(t_exec(e, &s, &r, argv), 0);
        assert_non_null(s.out[1]);
        t_sess_free(&s);
    }
    t_run_for(e, 10); /* let the last handles close */
    assert_int_equal(local_backend_child_count(e->b), 0);
    assert_int_equal(t_fd_count(), fds);
}

/* Batches of streams started at once all run to their own clean end, with
 * their own exit code and output, and leave nothing behind. */
#define T_BATCH 100
static void test_concurrent_runs(void **state)
{
    struct t_env *e = *state;
    static struct t_sess s[T_BATCH];
    int fds = t_fd_count();
    for (int round = 0; round < 10; round++) {
        for (int i = 0; i < T_BATCH; i++) {
            char script[64];
            snprintf(script, sizeof(script), "echo %d; exit %d", round * T_BATCH + i, i % 7);
            const char *argv[] = {"sh", "-c", script, NULL};
            assert_int_equal(t_start(e, &s[i], &(struct t_req){.out = true}, argv, NULL), 0);
        }
        assert_int_equal(local_backend_child_count(e->b), T_BATCH);
        for (int i = 0; i < T_BATCH; i++) {
            char want[16];
            snprintf(want, sizeof(want), "%d\n", round * T_BATCH + i);
            assert_true(t_wait(e, &s[i].exited, T_WAIT_MS));
            assert_int_equal(s[i].exit.type, BACKEND_EXIT_CODE);
            assert_int_equal(s[i].exit.code, i % 7);
            assert_string_equal(s[i].out[1], want);
            backend_stream_stop(s[i].st);
            t_sess_free(&s[i]);
        }
    }
    assert_true(t_wait_children(e, 0, T_WAIT_MS));
    t_run_for(e, 10); /* let the last handles close */
    assert_int_equal(t_fd_count(), fds);
}

/* The server ignores SIGPIPE and may block signals: the child starts clean. */
static void test_exec_signals_reset(void **state)
{
    struct t_sess s = {0};
    sigset_t term, old;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    sigprocmask(SIG_BLOCK, &term, &old);
    const char *argv[] = {"grep", "-E", "^Sig(Blk|Ign)", "/proc/self/status", NULL};
    int code = t_exec(*state, &s, &(struct t_req){.out = true}, argv);
    sigprocmask(SIG_SETMASK, &old, NULL);
    assert_int_equal(code, 0);
    assert_string_equal(s.out[1], "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n");
    t_sess_free(&s);
}

/* Many idle streams of each kind stay open and quiet side by side (one
 * process each, or the one main process for attach), and stopping them all
 * ends their processes and gives back every descriptor. */
#define T_IDLE 100
static void test_many_idle_streams(void **state)
{
    struct t_env *e = *state;
    static struct t_sess s[T_IDLE];
    const char *argv[] = {"sleep", "30", NULL};
    struct t_req kinds[] = {
        {.in = true, .out = true, .tty = true},
        {.in = true, .out = true, .err = true},
        {.container = "cat", .attach = true, .in = true, .out = true, .err = true},
    };
    for (int k = 0; k < 3; k++) {
        int fds = t_fd_count();
        for (int i = 0; i < T_IDLE; i++)
            assert_int_equal(t_start(e, &s[i], &kinds[k], kinds[k].attach ? NULL : argv, NULL), 0);
        size_t procs = kinds[k].attach ? 1 : T_IDLE;
        assert_true(t_wait_children(e, procs, T_WAIT_MS));
        if (!kinds[k].attach) /* each process's pty or pipes */
            assert_true(t_fd_count() > fds + T_IDLE);
        t_run_for(e, 50);
        for (int i = 0; i < T_IDLE; i++) {
            assert_false(s[i].exited);
            assert_int_equal(s[i].len[1] + s[i].len[2], 0);
        }
        for (int i = 0; i < T_IDLE; i++) {
            backend_stream_stop(s[i].st);
            t_sess_free(&s[i]);
        }
        assert_true(t_wait_children(e, kinds[k].attach ? 1 : 0, T_WAIT_MS));
        t_run_for(e, 10);     /* let the handles close */
        if (!kinds[k].attach) /* attach: the main process keeps its own */
            assert_int_equal(t_fd_count(), fds);
    }
}

/* ---- backpressure ---- */

static void test_exec_backpressure(void **state)
{
    struct t_env *e = *state;
    struct t_sess s = {.manual = true};
    const char *argv[] = {"yes", NULL};
    assert_int_equal(t_start(e, &s, &(struct t_req){.out = true}, argv, NULL), 0);
    while (s.readable_calls == 0)
        t_run_for(e, 5);
    backend_stream_want_read(s.st, 1, false);
    int calls = s.readable_calls;
    t_run_for(e, 300);
    assert_int_equal(s.readable_calls, calls); /* nothing while off */
    assert_null(s.out[1]);                     /* and nothing read */
    static uint8_t big[1024 * 1024];
    ssize_t queued = backend_stream_read(s.st, 1, big, sizeof(big)); /* the whole pipe */
    assert_true(queued > 0 && queued <= T_PIPE_MAX); /* yes blocked on a full pipe */
    s.manual = false;
    backend_stream_want_read(s.st, 1, true);
    t_run_for(e, 200);
    assert_true(s.len[1] > 4 * T_PIPE_MAX); /* flowing again */
    backend_stream_stop(s.st);
    s.stopped = true;
    assert_true(t_wait_children(e, 0, T_WAIT_MS));
    t_sess_free(&s);
}

/* ---- attach ---- */

static void test_attach_fanout(void **state)
{
    struct t_env *e = *state;
    struct t_sess a = {0}, b = {0}, c = {0};
    struct t_req rin = {.container = "cat", .attach = true, .in = true, .out = true, .err = true};
    struct t_req rout = {.container = "cat", .attach = true, .out = true};
    assert_int_equal(t_start(e, &a, &rin, NULL, NULL), 0);
    assert_int_equal(t_start(e, &b, &rout, NULL, NULL), 0);
    assert_int_equal(local_backend_child_count(e->b), 1); /* one main process */
    t_write_all(e, &a, "ping\n");
    t_run_for(e, 100);
    assert_string_equal(a.out[1], "ping\n");
    assert_string_equal(b.out[1], "ping\n");
    assert_int_equal(backend_stream_write(b.st, (const uint8_t *)"x", 1), -EPIPE); /* no stdin */
    backend_stream_stop(a.st); /* detach: the process keeps running */
    a.stopped = true;
    t_run_for(e, 20);
    assert_int_equal(local_backend_child_count(e->b), 1);
    assert_int_equal(t_start(e, &c, &rin, NULL, NULL), 0);
    t_write_all(e, &c, "pong\n");
    t_run_for(e, 100);
    assert_string_equal(b.out[1], "ping\npong\n");
    assert_string_equal(c.out[1], "pong\n"); /* output from the moment it attached */
    assert_int_equal(a.after_stop, 0);
    backend_stream_stop(b.st);
    backend_stream_stop(c.st);
    t_sess_free(&a);
    t_sess_free(&b);
    t_sess_free(&c);
}

static void test_attach_exit_and_restart(void **state)
{
    struct t_env *e = *state;
    struct t_req r = {.container = "reader", .attach = true, .in = true, .out = true};
    for (int round = 0; round < 2; round++) {
        struct t_sess a = {0}, b = {0};
        assert_int_equal(t_start(e, &a, &r, NULL, NULL), 0);
        assert_int_equal(t_start(e, &b, &r, NULL, NULL), 0);
        t_write_all(e, &b, "x\n");
        assert_true(t_wait(e, &a.exited, T_WAIT_MS));
        assert_true(t_wait(e, &b.exited, T_WAIT_MS));
        assert_int_equal(a.exit.type, BACKEND_EXIT_CODE);
        assert_int_equal(a.exit.code, 0);
        assert_int_equal(b.exit.code, 0);
        assert_string_equal(a.out[1], "got x\n");
        assert_string_equal(b.out[1], "got x\n");
        backend_stream_stop(a.st);
        backend_stream_stop(b.st);
        t_sess_free(&a);
        t_sess_free(&b);
        assert_true(t_wait_children(e, 0, T_WAIT_MS)); /* the next attach restarts it */
    }
}

static void test_attach_tty(void **state)
{
    struct t_env *e = *state;
    struct t_sess a = {0};
    struct t_req r = {.container = "ttycat", .attach = true, .in = true, .out = true, .tty = true};
    assert_int_equal(t_start(e, &a, &r, NULL, NULL), 0);
    t_write_all(e, &a, "hi\n");
    t_run_for(e, 100);
    assert_string_equal(a.out[1], "hi\r\nhi\r\n");
    backend_stream_stop(a.st);
    t_sess_free(&a);
}

/* A stalled attacher falls behind alone: the one that keeps up gets every
 * byte and the process runs to its end (before: both waited for the stalled
 * one, forever). The stalled one, reading at last, gets the skip note, then
 * the newest output, byte for byte. */
static void test_attach_stalled_skips_alone(void **state)
{
    struct t_env *e = *state;
    struct t_sess fast = {0}, slow = {.manual = true};
    struct t_req r = {.container = "count", .attach = true, .out = true};
    assert_int_equal(t_start(e, &slow, &r, NULL, NULL), 0);
    assert_int_equal(t_start(e, &fast, &r, NULL, NULL), 0);
    backend_stream_want_read(slow.st, 1, false);
    assert_true(t_wait(e, &fast.exited, T_WAIT_MS));
    assert_int_equal(fast.exit.code, 0);

    size_t cap = 8 * (size_t)T_COUNT_TO, total = 0;
    char *want = malloc(cap);
    assert_non_null(want);
    for (int i = 1; i <= T_COUNT_TO; i++)
        total += (size_t)snprintf(want + total, cap - total, "%d\n", i);
    assert_int_equal(fast.len[1], total);
    assert_memory_equal(fast.out[1], want, total);

    t_drain(&slow, 1);
    assert_true(t_wait(e, &slow.exited, T_WAIT_MS));
    unsigned long long skipped = 0;
    assert_non_null(slow.out[1]);
    assert_int_equal(sscanf(slow.out[1], "\r\n[podterm: %llu bytes", &skipped), 1);
    char note[96];
    int off =
        snprintf(note, sizeof(note), "\r\n[podterm: %llu bytes of output skipped]\r\n", skipped);
    assert_true(skipped > 0 && slow.len[1] >= (size_t)off);
    assert_memory_equal(slow.out[1], note, (size_t)off);
    size_t rest = slow.len[1] - (size_t)off;
    assert_int_equal(skipped + rest, total);
    assert_int_equal(rest, 256 * 1024); /* all of LOCAL_ATTACH_BACKLOG, the newest output */
    assert_memory_equal(slow.out[1] + off, want + skipped, rest);
    free(want);
    backend_stream_stop(fast.st);
    backend_stream_stop(slow.st);
    t_sess_free(&fast);
    t_sess_free(&slow);
}

/* A stream that joins while every other one is stalled (the process waiting
 * on them) gets output at once: it is the one furthest ahead now. */
static void test_attach_joiner_not_held_by_stalled(void **state)
{
    struct t_env *e = *state;
    struct t_sess stalled = {.manual = true}, late = {0};
    struct t_req r = {.container = "yes", .attach = true, .out = true};
    assert_int_equal(t_start(e, &stalled, &r, NULL, NULL), 0);
    backend_stream_want_read(stalled.st, 1, false);
    t_run_for(e, 300); /* the ring fills up behind the stalled stream: yes waits */
    assert_int_equal(t_start(e, &late, &r, NULL, NULL), 0);
    for (int i = 0; i < T_WAIT_MS / 10 && late.len[1] <= 2 * 256 * 1024; i++)
        t_run_for(e, 10);
    assert_true(late.len[1] > 2 * 256 * 1024);
    backend_stream_stop(late.st);
    backend_stream_stop(stalled.st);
    t_sess_free(&late);
    t_sess_free(&stalled);
}

int main(void)
{
    /* libuv opens process-wide fds on its first loop: take them before counting. */
    uv_loop_t warm;
    uv_loop_init(&warm);
    uv_loop_close(&warm);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_exec_echo, t_setup, t_teardown),
        cmocka_unit_test_setup_teardown(test_exec_stdout_stderr_separate, t_setup, t_teardown),
        cmocka_unit_test_setup_teardown(test_exec_unwanted_stderr_dropped, t_setup, t_teardown),
        cmocka_unit_test_setup_teardown(test_exec_exit_codes, t_setup, t_teardown),
        cmocka_unit_test_setup_teardown(test_exec_stdin_cat, t_setup, t_teardown),
        cmocka_unit_test_setup_teardown(test_exec_stdin_large_writable, t_setup, t_teardown),
        cmocka_unit_test_setup_teardown(test_exec_env_workdir, t_setup, t_teardown),
        cmocka_unit_test_setup_teardown(test_exec_spawn_errors, t_setup, t_teardown),
        cmocka_unit_test_setup_teardown(test_tty_stderr_on_channel_1, t_setup, t_teardown),
        cmocka_unit_test_setup_teardown(test_tty_controlling_terminal, t_setup, t_teardown),
        cmocka_unit_test_setup_teardown(test_tty_resize, t_setup, t_teardown),
        cmocka_unit_test_setup_teardown(test_tty_close_stdin_veof, t_setup, t_teardown),
        cmocka_unit_test_setup_teardown(test_tty_tail_endmark, t_setup, t_teardown),
        cmocka_unit_test_setup_teardown(test_pipe_tail_large, t_setup, t_teardown),
        cmocka_unit_test_setup_teardown(test_exec_grandchild_drain, t_setup, t_teardown),
        cmocka_unit_test_setup_teardown(test_stop_kill_grace, t_setup, t_teardown),
        cmocka_unit_test_setup_teardown(test_stop_sighup, t_setup, t_teardown),
        cmocka_unit_test_setup_teardown(test_free_kills_children, t_setup, t_teardown),
        cmocka_unit_test_setup_teardown(test_many_runs_no_leak, t_setup, t_teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_runs, t_setup, t_teardown),
        cmocka_unit_test_setup_teardown(test_exec_signals_reset, t_setup, t_teardown),
        cmocka_unit_test_setup_teardown(test_many_idle_streams, t_setup, t_teardown),
        cmocka_unit_test_setup_teardown(test_exec_backpressure, t_setup, t_teardown),
        cmocka_unit_test_setup_teardown(test_attach_fanout, t_setup, t_teardown),
        cmocka_unit_test_setup_teardown(test_attach_exit_and_restart, t_setup, t_teardown),
        cmocka_unit_test_setup_teardown(test_attach_tty, t_setup, t_teardown),
        cmocka_unit_test_setup_teardown(test_attach_stalled_skips_alone, t_setup, t_teardown),
        cmocka_unit_test_setup_teardown(test_attach_joiner_not_held_by_stalled, t_setup,
                                        t_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
