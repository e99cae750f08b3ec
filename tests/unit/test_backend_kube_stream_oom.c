/* test_backend_kube_stream_oom.c - the gateway's upstream stream out of
 * memory: the backend, the socket, the stream, its send, receive, output and
 * Status buffers, each refused in turn during one scripted exchange. A
 * refusal is a NULL at set-up, or the stream ending with an error exit that
 * says why; never a crash, a leak, a hang or an exit that claims success. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "unit_oom.h"

#include "backend/kube/kube_backend.h"

#define WAIT_MS 10000
#define SUCCESS "{\"metadata\":{},\"status\":\"Success\"}"

struct sess {
    struct backend_stream *st;
    char out[64];
    size_t len;
    bool exited;
    struct backend_exit exit;
};

static void on_readable(void *user, int ch)
{
    struct sess *s = user;
    for (;;) {
        ssize_t n =
            backend_stream_read(s->st, ch, (uint8_t *)s->out + s->len, sizeof(s->out) - 1 - s->len);
        if (n <= 0)
            return;
        s->len += (size_t)n;
    }
}

static void on_writable(void *user)
{
    (void)user;
}

static void on_exited(void *user, const struct backend_exit *exit)
{
    struct sess *s = user;
    s->exited = true;
    s->exit = *exit;
}

static const struct backend_stream_cbs cbs = {on_readable, on_writable, on_exited};

static void sock_ready(void *user, int events)
{
    if (events & TLS_SOCK_READY)
        *(bool *)user = true;
}

static void run_until(uv_loop_t *loop, const bool *flag)
{
    uint64_t start = uv_hrtime();
    while (!*flag) {
        uv_run(loop, UV_RUN_NOWAIT);
        if ((uv_hrtime() - start) / 1000000 > WAIT_MS)
            fail_msg("timed out");
        usleep(200);
    }
}

static size_t frame(uint8_t *out, int op, int prefix, const char *data)
{
    size_t len = strlen(data), h = 0;
    out[h++] = (uint8_t)(0x80 | op);
    out[h++] = (uint8_t)(len + (prefix >= 0));
    if (prefix >= 0)
        out[h++] = (uint8_t)prefix;
    memcpy(out + h, data, len);
    return h + len;
}

/* What an out-of-memory end may say: each names the cause or the loss. */
static bool oom_exit_ok(const struct backend_exit *e)
{
    static const char *const ok[] = {
        "podterm: out of memory",
        "error: the connection to the API server was lost: podterm: out of memory",
        "the API server ended the stream without a status", /* the Status buffer */
    };
    if (e->type != BACKEND_EXIT_ERROR)
        return false;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        if (strcmp(e->message, ok[i]) == 0)
            return true;
    return false;
}

static void stream_step(void *ctx)
{
    (void)ctx;
    uv_loop_t loop;
    uv_loop_init(&loop);
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
    struct backend *kb = kube_backend_new(&loop, 0);
    struct tls_sock *sock = NULL;
    struct backend_stream *st = NULL;
    struct sess s = {0};
    if (!kb) {
        assert_true(unit_oom_hit());
        close(sv[0]);
        goto out;
    }
    bool ready = false;
    sock = tls_sock_new(&loop, sv[0], NULL, sock_ready, &ready); /* closes sv[0] on failure */
    if (!sock) {
        assert_true(unit_oom_hit());
        goto out;
    }
    run_until(&loop, &ready);
    struct kube_stream_desc desc = {.want_stdin = true, .want_stdout = true};
    uint8_t extra[32];
    size_t extra_len = frame(extra, 2, 1, "ou");
    st = kube_stream_new(kb, sock, KUBE_WIRE_V4, &desc, extra, extra_len);
    if (!st) {
        assert_true(unit_oom_hit());
        goto out;
    }
    struct backend_exec_request req = {.prepared = st, .want_stdin = true, .want_stdout = true};
    char err[BACKEND_ERR_MAX];
    assert_int_equal(backend_stream_start(kb, &req, &cbs, &s, &s.st, err, sizeof(err)), 0);
    backend_stream_want_read(s.st, 1, true);
    ssize_t w = backend_stream_write(s.st, (const uint8_t *)"hi", 2);
    uint8_t buf[256];
    size_t n = frame(buf, 2, 1, "t");
    n += frame(buf + n, 2, 3, SUCCESS);
    n += frame(buf + n, 8, -1, "\x03\xe8");
    assert_int_equal(write(sv[1], buf, n), (ssize_t)n);
    run_until(&loop, &s.exited);
    if (unit_oom_hit()) {
        if (!oom_exit_ok(&s.exit))
            fail_msg("out of memory ended as %d %d: %s", s.exit.type, s.exit.code, s.exit.message);
    } else {
        assert_int_equal(w, 2);
        assert_int_equal(s.exit.type, BACKEND_EXIT_CODE);
        assert_int_equal(s.exit.code, 0);
        assert_int_equal(s.len, 3);
        assert_memory_equal(s.out, "out", 3);
        /* the API server got stdin: "\0hi" in a masked frame */
        ssize_t r = read(sv[1], buf, sizeof(buf));
        assert_true(r >= 9);
        assert_int_equal(buf[0], 0x82);
        assert_int_equal(buf[1], 0x80 | 3);
        for (int i = 0; i < 3; i++)
            buf[6 + i] ^= buf[2 + i % 4];
        assert_memory_equal(buf + 6, "\0hi", 3);
    }
    backend_stream_stop(s.st);
out:
    close(sv[1]);
    if (kb)
        backend_free(kb);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_stream_out_of_memory(void **state)
{
    (void)state;
    signal(SIGPIPE, SIG_IGN);
    long allocations = unit_oom_sweep(stream_step, NULL);
    assert_true(allocations >= 7); /* backend, socket, stream, rx, tx, output, Status */
}

/* A SPDY stream opens its codec and one stream per channel at once: any
 * refusal there is a NULL stream, its description's argv freed with it. */
static void spdy_step(void *ctx)
{
    (void)ctx;
    uv_loop_t loop;
    uv_loop_init(&loop);
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
    struct backend *kb = kube_backend_new(&loop, 0);
    struct tls_sock *sock = NULL;
    if (kb) {
        bool ready = false;
        sock = tls_sock_new(&loop, sv[0], NULL, sock_ready, &ready);
        if (sock)
            run_until(&loop, &ready);
    } else {
        close(sv[0]);
    }
    if (!kb || !sock) {
        assert_true(unit_oom_hit());
        goto out;
    }
    struct kube_stream_desc desc = {
        .want_stdin = true, .want_stdout = true, .want_stderr = true, .argc = 1};
    desc.argv = __real_calloc(2, sizeof(char *));
    desc.argv[0] = __real_strdup("sh");
    struct backend_stream *st = kube_stream_new(kb, sock, KUBE_WIRE_SPDY_V4, &desc, NULL, 0);
    if (!st) {
        assert_true(unit_oom_hit());
        if (desc.argv) { /* refused before taking it */
            free(desc.argv[0]);
            free(desc.argv);
        }
        goto out;
    }
    assert_null(desc.argv);
    assert_string_equal(kube_stream_desc(st)->argv[0], "sh");
    backend_stream_stop(st);
out:
    close(sv[1]);
    if (kb)
        backend_free(kb);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_spdy_stream_out_of_memory(void **state)
{
    (void)state;
    assert_true(unit_oom_sweep(spdy_step, NULL) >= 4); /* backend, socket, stream, codec */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stream_out_of_memory),
        cmocka_unit_test(test_spdy_stream_out_of_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
