/* test_session_oom.c - out of memory inside a session or an upgrade ends it
 * with a Status, never a stall, a silent drop or a NULL hole in argv.
 *
 * A minimal allocation-failure hook: this test is linked with GNU ld's
 * --wrap for malloc, calloc and strdup (CMakeLists.txt), so the Nth
 * allocation made by podterm's own objects can fail, and for the few lws
 * calls session.c makes, so a session runs against a fake connection whose
 * frames are recorded byte for byte. The backend is a fake one too. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "session/exec_request.h"
#include "server/server_internal.h"
#include "session/session.h"

/* ---- allocation hook ---- */

static int alloc_fail_at = -1; /* index of the allocation to fail; -1: none */
static int alloc_count;

static void alloc_fail_nth(int n)
{
    alloc_fail_at = n;
    alloc_count = 0;
}

static bool alloc_fails(void)
{
    return alloc_fail_at >= 0 && alloc_count++ == alloc_fail_at;
}

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
char *__real_strdup(const char *s);

void *__wrap_malloc(size_t n)
{
    return alloc_fails() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size)
{
    return alloc_fails() ? NULL : __real_calloc(n, size);
}

char *__wrap_strdup(const char *s)
{
    return alloc_fails() ? NULL : __real_strdup(s);
}

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

int __wrap_lws_write(struct lws *wsi, unsigned char *buf, size_t len, enum lws_write_protocol wp)
{
    assert_ptr_equal(wsi, fake_wsi);
    assert_true(nframes < FRAMES_MAX && len <= sizeof(frames[0].data));
    memcpy(frames[nframes].data, buf, len);
    frames[nframes++].len = len;
    return (int)len;
}

int __wrap_lws_callback_on_writable(struct lws *wsi)
{
    writable_requests++;
    return 1;
}

int __wrap_lws_send_pipe_choked(struct lws *wsi)
{
    return 0;
}

void __wrap_lws_close_reason(struct lws *wsi, enum lws_close_status status, unsigned char *buf,
                             size_t len)
{
}

void __wrap_lws_close_free_wsi(struct lws *wsi, enum lws_close_status reason, const char *caller)
{
    close_status = (int)reason;
}

int __wrap_lws_is_final_fragment(struct lws *wsi)
{
    return 1;
}

size_t __wrap_lws_remaining_packet_payload(struct lws *wsi)
{
    return 0;
}

void __wrap_lws_rx_flow_control(struct lws *wsi, int enable) {}

/* ---- fake backend ---- */

static struct {
    struct backend_stream base;
    const struct backend_stream_cbs *cbs;
    void *user;
    bool want_read[3];
    bool stopped;
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
    return (ssize_t)len;
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
    .stop = fake_stop,
};
static struct backend fake_backend = {.ops = &fake_ops};

/* ---- a session on the fakes ---- */

static uv_loop_t loop;
static struct server server;

static struct session *session_start(bool want_stdin)
{
    memset(frames, 0, sizeof(frames));
    nframes = 0;
    writable_requests = 0;
    close_status = 0;
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

#define OOM_STATUS                                                                                 \
    "\x03{\"metadata\":{},\"status\":\"Failure\",\"message\":\"Internal error occurred: "          \
    "podterm: out of memory\",\"reason\":\"InternalError\",\"details\":{\"causes\":[{"             \
    "\"message\":\"podterm: out of memory\"}]},\"code\":500}"

/* After the failure: the initial frame, the InternalError Status, Close 1000,
 * and the stream stopped. */
static void assert_ended_with_status(struct session *s)
{
    assert_true(writable_requests > 0); /* asked to write: no stall */
    assert_int_equal(session_on_writeable(s), 0);
    assert_int_equal(nframes, 2);
    assert_int_equal(frames[0].len, 1);
    assert_memory_equal(frames[0].data, "\x01", 1);
    assert_int_equal(frames[1].len, strlen(OOM_STATUS));
    assert_memory_equal(frames[1].data, OOM_STATUS, strlen(OOM_STATUS));
    assert_int_equal(close_status, LWS_CLOSE_STATUS_NORMAL);
    assert_true(fake_stream.stopped);
}

static void test_output_buffer_oom_ends_session(void **state)
{
    struct session *s = session_start(false);
    assert_true(fake_stream.want_read[1]);
    writable_requests = 0;
    alloc_fail_nth(0); /* the output frame buffer */
    fake_stream.cbs->readable(fake_stream.user, 1);
    alloc_fail_nth(-1);
    assert_false(fake_stream.want_read[1]); /* no busy loop on a level-triggered readable */
    assert_ended_with_status(s);
    session_finish(s);
}

static void test_stdin_buffer_oom_ends_session(void **state)
{
    struct session *s = session_start(true);
    writable_requests = 0;
    alloc_fail_nth(0); /* the stdin buffer */
    assert_int_equal(session_on_receive(s, "\x00hi", 3), 0);
    alloc_fail_nth(-1);
    assert_ended_with_status(s);
    session_finish(s);
}

/* upgrade.c's copy of the gateway's argv: each allocation in turn fails. */
static void test_argv_copy_oom_no_hole(void **state)
{
    static const char *const argv[] = {"sh", "-c", "echo hi"};
    for (int n = 0; n <= 3; n++) {
        struct exec_request req = {0};
        alloc_fail_nth(n);
        assert_int_equal(exec_request_argv_copy(&req, argv, 3), -1);
        alloc_fail_nth(-1);
        assert_null(req.argv);
        assert_int_equal(req.argc, 0);
    }
    struct exec_request req = {0};
    assert_int_equal(exec_request_argv_copy(&req, argv, 3), 0);
    assert_int_equal(req.argc, 3);
    assert_string_equal(req.argv[2], "echo hi");
    assert_null(req.argv[3]);
    exec_request_clear(&req);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_output_buffer_oom_ends_session),
        cmocka_unit_test(test_stdin_buffer_oom_ends_session),
        cmocka_unit_test(test_argv_copy_oom_no_hole),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
