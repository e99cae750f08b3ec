/* test_backend_local_oom.c - the local backend out of memory: the backend,
 * an exec stream (with the environment built for a PTY) and an attach
 * stream with its main process, each allocation refused in turn. A refusal
 * is a clean start error (-ENOMEM and its message, no child left), or, for
 * the attach output ring that is retried on the next poll, the full
 * success; never a crash, a leak or a lost byte. */
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

#include <cmocka.h>
#include <uv.h>

#include "unit_oom.h"

#include "backend/local/local.h"

#define T_WAIT_MS 5000

static char *t_cat_cmd[] = {"/bin/cat", NULL};
static struct config_kv t_env[] = {{"PODTERM_T", "v"}};
static struct config_container t_ctrs[] = {
    {.name = "envy", .env = t_env, .env_len = 1},
    {.name = "cat", .command = t_cat_cmd, .command_len = 1, .stdin_open = true},
};
static struct config_pod t_pods[] = {
    {.ns = "default", .name = "local", .containers = t_ctrs, .containers_len = 2}};
static struct config_cluster t_cluster = {.pods = t_pods, .pods_len = 1};

struct t_sess {
    struct backend_stream *st;
    char out[256];
    size_t len;
    bool exited;
    struct backend_exit exit;
};

static void t_readable(void *user, int ch)
{
    struct t_sess *s = user;
    for (;;) {
        ssize_t n =
            backend_stream_read(s->st, ch, (uint8_t *)s->out + s->len, sizeof(s->out) - 1 - s->len);
        if (n <= 0) {
            if (n == 0)
                backend_stream_want_read(s->st, ch, false);
            return;
        }
        s->len += (size_t)n;
        s->out[s->len] = '\0';
    }
}

static void t_writable(void *user)
{
    (void)user;
}

static void t_exited(void *user, const struct backend_exit *exit)
{
    struct t_sess *s = user;
    s->exited = true;
    s->exit = *exit;
}

static const struct backend_stream_cbs t_cbs = {t_readable, t_writable, t_exited};

static void t_wait(uv_loop_t *loop, bool (*done)(struct t_sess *), struct t_sess *s)
{
    uv_update_time(loop);
    uint64_t deadline = uv_now(loop) + T_WAIT_MS;
    while (!done(s) && uv_now(loop) < deadline)
        uv_run(loop, UV_RUN_ONCE);
    assert_true(done(s));
}

static bool t_is_exited(struct t_sess *s)
{
    return s->exited;
}

static bool t_has_echo(struct t_sess *s)
{
    return s->len >= 3;
}

static void t_noop(uv_timer_t *t)
{
    (void)t;
}

/* A refused start: -ENOMEM, a message naming the cause, no child. */
static void t_refused(struct backend *b, int rc, const char *err, const char *spawn_msg)
{
    assert_true(unit_oom_hit());
    assert_int_equal(rc, -ENOMEM);
    if (strcmp(err, "out of memory") != 0 && strcmp(err, spawn_msg) != 0)
        fail_msg("refused as: %s", err);
    assert_int_equal(local_backend_child_count(b), 0);
}

static void local_step(void *ctx)
{
    (void)ctx;
    uv_loop_t loop;
    uv_loop_init(&loop);
    uv_timer_t ticker; /* so waits wake up to check their deadline */
    uv_timer_init(&loop, &ticker);
    uv_timer_start(&ticker, t_noop, 5, 5);
    struct backend *b = local_backend_new(&loop, &t_cluster);
    if (!b) {
        assert_true(unit_oom_hit());
        goto out;
    }
    char err[BACKEND_ERR_MAX] = "";
    struct t_sess ex = {0};
    const char *argv[] = {"/bin/sh", "-c", "echo $PODTERM_T $TERM", NULL};
    struct backend_exec_request req = {.ns = "default",
                                       .pod = "local",
                                       .container = "envy",
                                       .argv = argv,
                                       .argc = 3,
                                       .want_stdout = true,
                                       .tty = true};
    int rc = backend_stream_start(b, &req, &t_cbs, &ex, &ex.st, err, sizeof(err));
    if (rc < 0) {
        t_refused(b, rc, err, "exec: \"/bin/sh\": cannot allocate memory");
        goto free_backend;
    }
    backend_stream_want_read(ex.st, 1, true);
    t_wait(&loop, t_is_exited, &ex);
    assert_int_equal(ex.exit.type, BACKEND_EXIT_CODE);
    assert_int_equal(ex.exit.code, 0);
    assert_string_equal(ex.out, "v xterm\r\n");
    backend_stream_stop(ex.st);

    struct t_sess at = {0};
    struct backend_exec_request areq = {.ns = "default",
                                        .pod = "local",
                                        .container = "cat",
                                        .attach = true,
                                        .want_stdin = true,
                                        .want_stdout = true,
                                        .want_stderr = true};
    rc = backend_stream_start(b, &areq, &t_cbs, &at, &at.st, err, sizeof(err));
    if (rc < 0) {
        t_refused(b, rc, err, "exec: \"/bin/cat\": cannot allocate memory");
        goto free_backend;
    }
    backend_stream_want_read(at.st, 1, true);
    assert_int_equal(backend_stream_write(at.st, (const uint8_t *)"ab\n", 3), 3);
    t_wait(&loop, t_has_echo, &at);
    assert_string_equal(at.out, "ab\n");
    backend_stream_stop(at.st);
free_backend:
    backend_free(b);
out:
    uv_close((uv_handle_t *)&ticker, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    assert_int_equal(waitpid(-1, NULL, WNOHANG), -1); /* no child left */
}

static void test_local_out_of_memory(void **state)
{
    (void)state;
    signal(SIGPIPE, SIG_IGN);
    long allocations = unit_oom_sweep(local_step, NULL);
    assert_true(allocations >= 5); /* backend, exec, env, attach, run, ring */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_local_out_of_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
