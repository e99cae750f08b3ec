/* test_session_input.c - a session's input side (src/session/session.c)
 * against a fake connection and a fake process: stdin the process does not
 * take yet waits (the socket paused) and a v5 close signal behind it waits
 * for it; a process that closed its stdin has the bytes dropped, not
 * buffered forever; resize goes to a tty only; a write the connection cuts
 * short ends the connection.
 *
 * The few lws calls session.c makes are defined here: the test's own
 * definitions come first at link time, so the session runs against them
 * (as test_session_oom.c's wraps do) with no lws context at all. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "server/server_internal.h"
#include "session/exec_request.h"
#include "session/session.h"

/* ---- fake connection: what session.c writes ---- */

#define FRAMES_MAX 8
static struct {
    uint8_t data[1024];
    size_t len;
} frames[FRAMES_MAX];
static size_t nframes;
static int writable_requests;
static int close_status; /* lws_close_free_wsi's status, 0 before */
static struct lws *const fake_wsi = (struct lws *)&nframes;
static bool write_short; /* lws_write takes one byte less than asked */
static int rx_flow = -1; /* the last lws_rx_flow_control: 0 paused, 1 reading */

int lws_write(struct lws *wsi, unsigned char *buf, size_t len, enum lws_write_protocol wp)
{
    assert_ptr_equal(wsi, fake_wsi);
    if (write_short)
        return (int)len - 1; /* the connection broke under the write */
    assert_true(nframes < FRAMES_MAX && len <= sizeof(frames[0].data));
    memcpy(frames[nframes].data, buf, len);
    frames[nframes++].len = len;
    return (int)len;
}

int lws_callback_on_writable(struct lws *wsi)
{
    writable_requests++;
    return 1;
}

int lws_send_pipe_choked(struct lws *wsi)
{
    return 0;
}

void lws_close_reason(struct lws *wsi, enum lws_close_status status, unsigned char *buf, size_t len)
{
}

void lws_close_free_wsi(struct lws *wsi, enum lws_close_status reason, const char *caller)
{
    close_status = (int)reason;
}

int lws_is_final_fragment(struct lws *wsi)
{
    return 1;
}

size_t lws_remaining_packet_payload(struct lws *wsi)
{
    return 0;
}

int lws_rx_flow_control(struct lws *wsi, int enable)
{
    rx_flow = enable;
    return 0;
}

/* ---- fake backend ---- */

static struct {
    struct backend_stream base;
    const struct backend_stream_cbs *cbs;
    void *user;
    bool want_read[3];
    bool stopped;
    bool stdin_full;        /* write returns -EAGAIN */
    bool stdin_gone;        /* write returns -EPIPE: the process closed its stdin */
    uint8_t in[256 * 1024]; /* what the process got on stdin */
    size_t in_len;
    size_t stdin_closed_at; /* in_len + 1 when stdin was closed; 0: not yet */
    int resizes;
} fake_stream;

static int fake_start(struct backend *b, const struct backend_exec_request *req,
                      const struct backend_stream_cbs *cbs, void *user, struct backend_stream **out,
                      char *err, size_t err_cap)
{
    fake_stream.cbs = cbs;
    fake_stream.user = user;
    *out = &fake_stream.base;
    return 0;
}

static ssize_t fake_read(struct backend_stream *st, int channel, uint8_t *buf, size_t cap)
{
    memcpy(buf, "out", 3);
    return 3;
}

static void fake_want_read(struct backend_stream *st, int channel, bool on)
{
    fake_stream.want_read[channel] = on;
}

static ssize_t fake_write(struct backend_stream *st, const uint8_t *buf, size_t len)
{
    if (fake_stream.stdin_full)
        return -EAGAIN;
    if (fake_stream.stdin_gone)
        return -EPIPE;
    memcpy(fake_stream.in + fake_stream.in_len, buf, len);
    fake_stream.in_len += len;
    return (ssize_t)len;
}

static void fake_close_stdin(struct backend_stream *st)
{
    fake_stream.stdin_closed_at = fake_stream.in_len + 1; /* 0: never */
}

static void fake_resize(struct backend_stream *st, uint16_t width, uint16_t height)
{
    fake_stream.resizes++;
}

static void fake_stop(struct backend_stream *st)
{
    fake_stream.stopped = true;
}

static const struct backend_ops fake_ops = {
    .start = fake_start,
    .read = fake_read,
    .want_read = fake_want_read,
    .write = fake_write,
    .close_stdin = fake_close_stdin,
    .resize = fake_resize,
    .stop = fake_stop,
};
static struct backend fake_backend = {.ops = &fake_ops};

/* ---- a session on the fakes ---- */

static uv_loop_t loop;
static struct server server;

static struct session *session_start(bool want_stdin, bool tty)
{
    memset(frames, 0, sizeof(frames));
    nframes = 0;
    writable_requests = 0;
    close_status = 0;
    write_short = false;
    rx_flow = -1;
    memset(&fake_stream, 0, sizeof(fake_stream));
    fake_stream.base.ops = &fake_ops;
    uv_loop_init(&loop);
    memset(&server, 0, sizeof(server));
    server.loop = &loop;
    server.opts.backend = &fake_backend;
    uv_timer_init(&loop, &server.session_sweep);
    server.session_sweep.data = &server;
    static const char *const argv[] = {"cat"};
    struct exec_request req = {.want_stdin = want_stdin,
                               .want_stdout = true,
                               .tty = tty,
                               .ns = "default",
                               .pod = "local",
                               .container = "shell"};
    assert_int_equal(exec_request_argv_copy(&req, argv, 1), 0);
    struct session *s = session_new(&server, PROTO_KIND_V5, &req);
    assert_non_null(s);
    assert_int_equal(session_on_established(s, fake_wsi), 0);
    return s;
}

static void session_finish(struct session *s)
{
    session_free(s);
    uv_close((uv_handle_t *)&server.session_sweep, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

/* v5 stdin (channel 0) and the close signal (255, 0) as one message each. */
static void receive(struct session *s, const char *msg, size_t len)
{
    assert_int_equal(session_on_receive(s, msg, len), 0);
}

static void test_stdin_waits_and_close_follows_it(void **state)
{
    struct session *s = session_start(true, false);
    assert_int_equal(session_on_writeable(s), 0);
    assert_int_equal(nframes, 1); /* the initial frame */
    assert_memory_equal(frames[0].data, "\x01", 1);
    fake_stream.stdin_full = true;
    receive(s, "\x00hello", 6);
    assert_int_equal(rx_flow, 0); /* paused: the process has not taken it */
    assert_int_equal(fake_stream.in_len, 0);
    receive(s, "\xff\x00", 2);                        /* v5: close stdin */
    assert_int_equal(fake_stream.stdin_closed_at, 0); /* not before the bytes */
    fake_stream.stdin_full = false;
    fake_stream.cbs->writable(fake_stream.user);
    assert_int_equal(fake_stream.in_len, 5);
    assert_memory_equal(fake_stream.in, "hello", 5);
    assert_int_equal(rx_flow, 1);                     /* reading again */
    assert_int_equal(fake_stream.stdin_closed_at, 6); /* closed right after them */
    /* once closed, stdin is dropped */
    receive(s, "\x00late", 5);
    assert_int_equal(fake_stream.in_len, 5);
    session_finish(s);
}

/* A process that closed its stdin: what the client sends is dropped (not
 * kept, the socket not paused); a second close signal changes nothing. */
static void test_stdin_to_a_closed_pipe_is_dropped(void **state)
{
    struct session *s = session_start(true, false);
    fake_stream.stdin_gone = true;
    receive(s, "\x00lost", 5);
    assert_int_equal(rx_flow, -1); /* never paused */
    fake_stream.stdin_gone = false;
    receive(s, "\x00kept", 5);
    assert_int_equal(fake_stream.in_len, 4);
    assert_memory_equal(fake_stream.in, "kept", 4);
    receive(s, "\xff\x00", 2);
    receive(s, "\xff\x00", 2);
    assert_int_equal(fake_stream.stdin_closed_at, 5);
    session_finish(s);
}

static void test_resize_reaches_a_tty_only(void **state)
{
    static const char resize[] = "\x04{\"Width\":100,\"Height\":30}";
    struct session *s = session_start(true, false);
    receive(s, resize, sizeof(resize) - 1);
    assert_int_equal(fake_stream.resizes, 0);
    session_finish(s);
    s = session_start(true, true);
    receive(s, resize, sizeof(resize) - 1);
    assert_int_equal(fake_stream.resizes, 1);
    session_finish(s);
}

static void test_short_write_ends_the_connection(void **state)
{
    struct session *s = session_start(false, false);
    write_short = true;
    assert_int_equal(session_on_writeable(s), -1);
    assert_int_equal(nframes, 0);
    session_finish(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stdin_waits_and_close_follows_it),
        cmocka_unit_test(test_stdin_to_a_closed_pipe_is_dropped),
        cmocka_unit_test(test_resize_reaches_a_tty_only),
        cmocka_unit_test(test_short_write_ends_the_connection),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
