/* test_session_resume_oom.c - out of memory around a resumable session
 * (src/session/session_resume.c, src/screen/screen_tap.c): a screen model
 * refused leaves the session without a screen (and a full tap table
 * refuses one cleanly); an owner name refused leaves the session not
 * resumable, never resumable by nobody; a repaint buffer refused at a
 * resume ends the session with an InternalError Status saying so, never a
 * page left with a blank screen.
 *
 * The allocation wraps are unit_oom.h's; the few lws calls the session
 * makes are defined here (first at link time), a fake connection. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "screen/screen_tap.h"
#include "server/server_internal.h"
#include "session/exec_request.h"
#include "session/session.h"
#include "session/session_internal.h"
#include "session/session_tap.h"
#include "unit_oom.h"

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

static struct session *fake_session_open(bool want_stdin, bool tty)
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

static void tap_step(void *ctx)
{
    struct session *s = ctx;
    int rc = screen_tap_attach(s);
    if (unit_oom_hit()) {
        assert_int_equal(rc, -1);
        assert_null(session_screen(s));
        return;
    }
    assert_int_equal(rc, 0);
    assert_non_null(session_screen(s));
}

static void test_screen_tap_out_of_memory(void **state)
{
    struct session *s = fake_session_open(true, true);
    assert_int_equal(unit_oom_sweep(tap_step, s), 1);
    /* the table full: a model is refused and freed (LeakSanitizer checks) */
    int more = 0;
    while (screen_tap_attach(s) == 0)
        more++;
    assert_int_equal(more, SESSION_TAPS_MAX - 1); /* the sweep's own is one */
    session_finish(s);
}

static void identify_step(void *ctx)
{
    struct session *s = ctx;
    session_identify(s, "0a1b2c3d-1111-4222-8333-444455556666", "alice", 5000);
    assert_string_equal(session_id(s), "0a1b2c3d-1111-4222-8333-444455556666");
    if (unit_oom_hit()) {
        assert_null(s->owner);
        assert_int_equal(s->grace_ms, 0); /* nobody could resume it */
        return;
    }
    assert_string_equal(s->owner, "alice");
    assert_int_equal(s->grace_ms, 5000);
    assert_int_equal(strlen(s->resume_token), 64);
}

static void test_identify_out_of_memory(void **state)
{
    struct session *s = fake_session_open(true, true);
    assert_int_equal(unit_oom_sweep(identify_step, s), 1);
    session_finish(s);
}

#define REPAINT_STATUS                                                                             \
    "\x03{\"metadata\":{},\"status\":\"Failure\",\"message\":\"Internal error occurred: "          \
    "podterm: the screen could not be repainted\",\"reason\":\"InternalError\",\"details\":{"      \
    "\"causes\":[{\"message\":\"podterm: the screen could not be repainted\"}]},\"code\":500}"

static void test_resume_repaint_out_of_memory(void **state)
{
    struct session *s = fake_session_open(true, true);
    assert_int_equal(screen_tap_attach(s), 0);
    assert_int_equal(session_on_writeable(s), 0); /* the initial frame */
    nframes = 0;
    writable_requests = 0;
    unit_oom_arm(0);
    assert_int_equal(session_resume_attach(s, fake_wsi), 0);
    assert_true(unit_oom_hit());
    unit_oom_arm(-1);
    assert_null(s->repaint);
    assert_true(writable_requests > 0);
    assert_int_equal(session_on_writeable(s), 0);
    assert_int_equal(nframes, 1);
    assert_int_equal(frames[0].len, strlen(REPAINT_STATUS));
    assert_memory_equal(frames[0].data, REPAINT_STATUS, strlen(REPAINT_STATUS));
    assert_int_equal(close_status, LWS_CLOSE_STATUS_NORMAL);
    assert_true(fake_stream.stopped);
    session_finish(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_screen_tap_out_of_memory),
        cmocka_unit_test(test_identify_out_of_memory),
        cmocka_unit_test(test_resume_repaint_out_of_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
