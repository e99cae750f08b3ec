/* test_backend_kube_stream.c - the gateway's upstream WebSocket stream
 * against a scripted API server on the other end of a socket pair: output
 * per channel, the v4/v5 Status and close, pre-v4 text statuses, stdin,
 * the v5 close signal and resize frames, pings both ways, an upstream that
 * hangs up, breaks the protocol or stops answering pings, bytes that came
 * with the 101, stdin backpressure, output compaction, buffers given back by
 * a quiet stream, and the backend freed before its last stream. Frames are built and read byte by
 * byte here, so every frame the gateway writes is checked exactly. */
#include <errno.h>
#include <fcntl.h>
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

#include "backend/kube/kube_backend.h"

#define WAIT_MS 10000
#define OUT_MAX (256 * 1024)

static uv_loop_t loop;

/* ---- the session side ---- */

struct sess {
    struct backend_stream *st;
    char out[3][OUT_MAX];
    size_t len[3];
    bool manual; /* readable only counts */
    int readable_calls, writable_calls;
    bool exited;
    struct backend_exit exit;
};

static void drain(struct sess *s, int ch, size_t max)
{
    uint8_t buf[4096];
    while (max > 0) {
        ssize_t n = backend_stream_read(s->st, ch, buf, max < sizeof(buf) ? max : sizeof(buf));
        if (n <= 0)
            return;
        assert_true(s->len[ch] + (size_t)n < OUT_MAX);
        memcpy(s->out[ch] + s->len[ch], buf, (size_t)n);
        s->len[ch] += (size_t)n;
        max -= (size_t)n;
    }
}

static void on_readable(void *user, int ch)
{
    struct sess *s = user;
    s->readable_calls++;
    if (!s->manual)
        drain(s, ch, SIZE_MAX);
}

static void on_writable(void *user)
{
    ((struct sess *)user)->writable_calls++;
}

static void on_exited(void *user, const struct backend_exit *exit)
{
    struct sess *s = user;
    assert_false(s->exited);
    s->exited = true;
    s->exit = *exit;
}

static const struct backend_stream_cbs cbs = {on_readable, on_writable, on_exited};

static void run_until(const bool *flag)
{
    uint64_t start = uv_hrtime();
    while (!*flag) {
        uv_run(&loop, UV_RUN_NOWAIT);
        if ((uv_hrtime() - start) / 1000000 > WAIT_MS)
            fail_msg("timed out");
        usleep(500);
    }
}

static void run_ms(int ms)
{
    uint64_t start = uv_hrtime();
    while ((uv_hrtime() - start) / 1000000 < (uint64_t)ms) {
        uv_run(&loop, UV_RUN_NOWAIT);
        usleep(500);
    }
}

/* ---- the API server side ---- */

struct fixture {
    struct backend *kb;
    int srv; /* the API server's end */
    struct sess s;
};

static void sock_ready(void *user, int events)
{
    if (events & TLS_SOCK_READY)
        *(bool *)user = true;
}

/* A stream over a socket pair; extra: bytes "after the 101". */
static struct backend_stream *stream_open(struct fixture *f, enum kube_wire wire, bool tty,
                                          const void *extra, size_t extra_len)
{
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
    f->srv = sv[1];
    bool ready = false;
    struct tls_sock *sock = tls_sock_new(&loop, sv[0], NULL, sock_ready, &ready);
    assert_non_null(sock);
    run_until(&ready);
    struct kube_stream_desc desc = {
        .want_stdin = true, .want_stdout = true, .want_stderr = !tty, .tty = tty};
    snprintf(desc.ns, sizeof(desc.ns), "default");
    snprintf(desc.pod, sizeof(desc.pod), "p");
    desc.argv = calloc(2, sizeof(char *));
    desc.argv[0] = strdup("sh");
    desc.argc = 1;
    struct backend_stream *st = kube_stream_new(f->kb, sock, wire, &desc, extra, extra_len);
    if (st) {
        assert_null(desc.argv); /* taken */
    } else {                    /* refused early: the caller still owns the description */
        free(desc.argv[0]);
        free(desc.argv);
    }
    return st;
}

static void fixture_start(struct fixture *f, enum kube_wire wire, bool tty, const void *extra,
                          size_t extra_len)
{
    memset(&f->s, 0, sizeof(f->s));
    struct backend_stream *st = stream_open(f, wire, tty, extra, extra_len);
    assert_non_null(st);
    assert_string_equal(kube_stream_desc(st)->argv[0], "sh");
    struct backend_exec_request req = {
        .prepared = st, .want_stdin = true, .want_stdout = true, .want_stderr = !tty, .tty = tty};
    char err[BACKEND_ERR_MAX];
    assert_int_equal(backend_stream_start(f->kb, &req, &cbs, &f->s, &f->s.st, err, sizeof(err)), 0);
    backend_stream_want_read(f->s.st, 1, true);
    if (!tty)
        backend_stream_want_read(f->s.st, 2, true);
}

static void fixture_end(struct fixture *f)
{
    backend_stream_stop(f->s.st);
    close(f->srv);
    uv_run(&loop, UV_RUN_NOWAIT);
}

/* One unmasked server frame: FIN, opcode, payload = prefix byte (if >= 0) + data. */
static size_t frame(uint8_t *out, int op, int prefix, const void *data, size_t len)
{
    size_t plen = len + (prefix >= 0), h = 0;
    out[h++] = (uint8_t)(0x80 | op);
    if (plen < 126) {
        out[h++] = (uint8_t)plen;
    } else if (plen <= 0xffff) {
        out[h++] = 126;
        out[h++] = (uint8_t)(plen >> 8);
        out[h++] = (uint8_t)plen;
    } else {
        out[h++] = 127;
        for (int i = 7; i >= 0; i--)
            out[h++] = (uint8_t)(plen >> (8 * i));
    }
    if (prefix >= 0)
        out[h++] = (uint8_t)prefix;
    if (len)
        memcpy(out + h, data, len);
    return h + len;
}

static void srv_write(struct fixture *f, const void *data, size_t len)
{
    const uint8_t *p = data;
    uint64_t start = uv_hrtime();
    while (len > 0) {
        ssize_t n = write(f->srv, p, len);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
            continue;
        }
        assert_true(n < 0 && errno == EAGAIN);
        uv_run(&loop, UV_RUN_NOWAIT); /* let the gateway read */
        usleep(200);
        if ((uv_hrtime() - start) / 1000000 > WAIT_MS)
            fail_msg("the gateway stopped reading");
    }
}

static void srv_send(struct fixture *f, int op, int prefix, const void *data, size_t len)
{
    static uint8_t buf[OUT_MAX + 16];
    srv_write(f, buf, frame(buf, op, prefix, data, len));
}

/* The next client frame (masked, as a client's must be): opcode and the
 * unmasked payload. */
struct cframe {
    int op;
    uint8_t data[OUT_MAX];
    size_t len;
};

static uint8_t rx[OUT_MAX * 2];
static size_t rx_len;

static bool srv_next(struct fixture *f, struct cframe *cf)
{
    uint64_t start = uv_hrtime();
    for (;;) {
        if (rx_len >= 2) {
            size_t h = 2, plen = rx[1] & 0x7f;
            assert_true(rx[1] & 0x80); /* masked */
            if (plen == 126) {
                if (rx_len < 4)
                    goto more;
                plen = (size_t)rx[2] << 8 | rx[3];
                h = 4;
            } else if (plen == 127) {
                if (rx_len < 10)
                    goto more;
                plen = 0;
                for (int i = 0; i < 8; i++)
                    plen = plen << 8 | rx[2 + i];
                h = 10;
            }
            if (rx_len >= h + 4 + plen) {
                const uint8_t *mask = rx + h;
                cf->op = rx[0] & 0x0f;
                assert_true(rx[0] & 0x80);
                for (size_t i = 0; i < plen; i++)
                    cf->data[i] = rx[h + 4 + i] ^ mask[i % 4];
                cf->len = plen;
                memmove(rx, rx + h + 4 + plen, rx_len - h - 4 - plen);
                rx_len -= h + 4 + plen;
                return true;
            }
        }
    more:;
        ssize_t n = read(f->srv, rx + rx_len, sizeof(rx) - rx_len);
        if (n > 0) {
            rx_len += (size_t)n;
            continue;
        }
        if (n == 0)
            return false;
        uv_run(&loop, UV_RUN_NOWAIT);
        usleep(200);
        if ((uv_hrtime() - start) / 1000000 > WAIT_MS)
            fail_msg("no frame from the gateway");
    }
}

static void expect_frame(struct fixture *f, int op, const void *data, size_t len)
{
    static struct cframe cf;
    assert_true(srv_next(f, &cf));
    assert_int_equal(cf.op, op);
    assert_int_equal(cf.len, len);
    assert_memory_equal(cf.data, data, len);
}

#define SUCCESS "{\"metadata\":{},\"status\":\"Success\"}"

/* ---- tests ---- */

static void test_output_status_and_close(void **state)
{
    struct fixture *f = *state;
    fixture_start(f, KUBE_WIRE_V4, false, NULL, 0);
    srv_send(f, 2, 1, "out", 3);
    srv_send(f, 2, 2, "err", 3);
    srv_send(f, 2, 7, "dropped", 7); /* an unknown channel */
    srv_send(f, 2, 3, SUCCESS, strlen(SUCCESS));
    srv_send(f, 8, -1, "\x03\xe8", 2);
    run_until(&f->s.exited);
    assert_int_equal(f->s.exit.type, BACKEND_EXIT_CODE);
    assert_int_equal(f->s.exit.code, 0);
    assert_int_equal(f->s.len[1], 3);
    assert_memory_equal(f->s.out[1], "out", 3);
    assert_memory_equal(f->s.out[2], "err", 3);
    expect_frame(f, 8, "\x03\xe8", 2); /* our close answers theirs */
    /* after the end: no channel 3 to read, writes refused, resize ignored */
    uint8_t b[4];
    assert_int_equal(backend_stream_read(f->s.st, 3, b, sizeof(b)), 0);
    assert_int_equal(backend_stream_read(f->s.st, 1, b, sizeof(b)), 0);
    backend_stream_want_read(f->s.st, 0, true);
    assert_int_equal(backend_stream_write(f->s.st, (const uint8_t *)"x", 1), -EPIPE);
    backend_stream_resize(f->s.st, 80, 24);
    fixture_end(f);
}

/* v5: stdin frames on channel 0, the close signal (255, 0) once, resize on
 * 4 for a tty, a pong for a ping. */
static void test_v5_stdin_close_resize_pong(void **state)
{
    struct fixture *f = *state;
    fixture_start(f, KUBE_WIRE_V5, true, NULL, 0);
    assert_int_equal(backend_stream_write(f->s.st, (const uint8_t *)"hi", 2), 2);
    expect_frame(f, 2, "\0hi", 3);
    backend_stream_resize(f->s.st, 80, 24);
    static const char rs[] = "\x04{\"Width\":80,\"Height\":24}";
    expect_frame(f, 2, rs, sizeof(rs) - 1);
    srv_send(f, 9, -1, "pp", 2);
    expect_frame(f, 10, "pp", 2);
    backend_stream_close_stdin(f->s.st);
    backend_stream_close_stdin(f->s.st);
    expect_frame(f, 2, "\xff\0", 2);
    assert_int_equal(backend_stream_write(f->s.st, (const uint8_t *)"x", 1), -EPIPE);
    srv_send(f, 2, 1, "bye", 3);
    srv_send(f, 2, 3, SUCCESS, strlen(SUCCESS));
    srv_send(f, 8, -1, "\x03\xe8", 2);
    run_until(&f->s.exited);
    assert_int_equal(f->s.exit.code, 0);
    assert_memory_equal(f->s.out[1], "bye", 3);
    fixture_end(f);
}

/* v4 has no close signal: stdin stays open, nothing is sent; a non-tty
 * stream sends no resize. */
static void test_v4_no_close_signal_nor_resize(void **state)
{
    struct fixture *f = *state;
    fixture_start(f, KUBE_WIRE_V4, false, NULL, 0);
    backend_stream_resize(f->s.st, 80, 24);
    backend_stream_close_stdin(f->s.st);
    srv_send(f, 9, -1, NULL, 0);
    expect_frame(f, 10, "", 0); /* the pong is the first frame we sent */
    fixture_end(f);
}

static void test_v4_close_without_status(void **state)
{
    struct fixture *f = *state;
    fixture_start(f, KUBE_WIRE_V4, false, NULL, 0);
    srv_send(f, 8, -1, "\x03\xe8", 2);
    run_until(&f->s.exited);
    assert_int_equal(f->s.exit.type, BACKEND_EXIT_ERROR);
    assert_string_equal(f->s.exit.message, "the API server ended the stream without a status");
    fixture_end(f);
}

/* channel.k8s.io: no status is success; a status text carries the code. */
static void test_pre_v4_statuses(void **state)
{
    struct fixture *f = *state;
    fixture_start(f, KUBE_WIRE_CHANNEL, false, NULL, 0);
    srv_send(f, 8, -1, "\x03\xe8", 2);
    run_until(&f->s.exited);
    assert_int_equal(f->s.exit.type, BACKEND_EXIT_CODE);
    assert_int_equal(f->s.exit.code, 0);
    fixture_end(f);
    fixture_start(f, KUBE_WIRE_CHANNEL, false, NULL, 0);
    static const char t[] = "command terminated with non-zero exit code: exit code 3";
    srv_send(f, 2, 3, t, sizeof(t) - 1);
    srv_send(f, 8, -1, "\x03\xe8", 2);
    run_until(&f->s.exited);
    assert_int_equal(f->s.exit.type, BACKEND_EXIT_CODE);
    assert_int_equal(f->s.exit.code, 3);
    fixture_end(f);
}

static void test_upstream_hangs_up(void **state)
{
    struct fixture *f = *state;
    fixture_start(f, KUBE_WIRE_V5, false, NULL, 0);
    srv_send(f, 2, 1, "partial", 7);
    shutdown(f->srv, SHUT_WR);
    run_until(&f->s.exited);
    assert_int_equal(f->s.exit.type, BACKEND_EXIT_ERROR);
    assert_string_equal(f->s.exit.message, "error: the connection to the API server was lost: "
                                           "the API server closed the connection");
    assert_string_equal(f->s.exit.reason, "upstream-lost");
    assert_memory_equal(f->s.out[1], "partial", 7); /* what came first is delivered */
    fixture_end(f);
}

static void test_upstream_breaks_protocol(void **state)
{
    struct fixture *f = *state;
    fixture_start(f, KUBE_WIRE_V4, false, NULL, 0);
    srv_write(f, "\x83\x00", 2); /* a reserved opcode */
    run_until(&f->s.exited);
    assert_int_equal(f->s.exit.type, BACKEND_EXIT_ERROR);
    assert_string_equal(f->s.exit.message, "error: the connection to the API server was lost: "
                                           "the API server broke the WebSocket protocol");
    fixture_end(f);
}

/* Frames that arrived with the 101 are decoded first; more than the receive
 * buffer holds cannot be taken. */
static void test_bytes_after_the_101(void **state)
{
    struct fixture *f = *state;
    uint8_t extra[64];
    size_t n = frame(extra, 2, 1, "early", 5);
    n += frame(extra + n, 2, 3, SUCCESS, strlen(SUCCESS));
    n += frame(extra + n, 8, -1, "\x03\xe8", 2);
    fixture_start(f, KUBE_WIRE_V4, false, extra, n);
    run_until(&f->s.exited);
    assert_int_equal(f->s.exit.code, 0);
    assert_memory_equal(f->s.out[1], "early", 5);
    fixture_end(f);
    static uint8_t big[KUBE_RX_MAX + 1];
    struct fixture g = {.kb = f->kb};
    assert_null(stream_open(&g, KUBE_WIRE_V4, false, big, sizeof(big)));
    close(g.srv);
    uv_run(&loop, UV_RUN_NOWAIT);
}

/* A slow reader: output waits in the stream's buffer (compacted as it is
 * read) and in TCP, and arrives whole and in order. */
static void test_slow_reader_gets_everything(void **state)
{
    struct fixture *f = *state;
    fixture_start(f, KUBE_WIRE_V4, false, NULL, 0);
    f->s.manual = true;
    static uint8_t data[3 * KUBE_OUT_MAX];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)('a' + i % 23);
    /* several frames, the server writing as the gateway takes them */
    for (size_t off = 0; off < sizeof(data); off += 8000) {
        size_t len = sizeof(data) - off < 8000 ? sizeof(data) - off : 8000;
        srv_send(f, 2, 1, data + off, len);
        drain(&f->s, 1, 1000); /* a little at a time */
        uv_run(&loop, UV_RUN_NOWAIT);
    }
    srv_send(f, 2, 3, SUCCESS, strlen(SUCCESS));
    srv_send(f, 8, -1, "\x03\xe8", 2);
    uint64_t start = uv_hrtime();
    while (!f->s.exited && (uv_hrtime() - start) / 1000000 < WAIT_MS) {
        drain(&f->s, 1, 3000);
        uv_run(&loop, UV_RUN_NOWAIT);
        usleep(200);
    }
    assert_true(f->s.exited);
    assert_int_equal(f->s.len[1], sizeof(data));
    assert_memory_equal(f->s.out[1], data, sizeof(data));
    fixture_end(f);
}

/* An API server not reading stdin: writes stop with -EAGAIN, writable
 * fires once it reads, and every byte arrives in order. */
static void test_stdin_backpressure(void **state)
{
    struct fixture *f = *state;
    fixture_start(f, KUBE_WIRE_V5, false, NULL, 0);
    static uint8_t chunk[16 * 1024];
    memset(chunk, 'z', sizeof(chunk));
    size_t sent = 0;
    for (int i = 0; i < 10000; i++) {
        ssize_t n = backend_stream_write(f->s.st, chunk, sizeof(chunk));
        if (n == -EAGAIN)
            break;
        assert_true(n > 0);
        sent += (size_t)n;
        uv_run(&loop, UV_RUN_NOWAIT);
    }
    assert_int_equal(backend_stream_write(f->s.st, chunk, sizeof(chunk)), -EAGAIN);
    static struct cframe cf;
    size_t got = 0;
    while (got < sent && f->s.writable_calls == 0) {
        assert_true(srv_next(f, &cf));
        assert_int_equal(cf.op, 2);
        assert_int_equal(cf.data[0], 0);
        got += cf.len - 1;
    }
    run_ms(20);
    while (f->s.writable_calls == 0) {
        assert_true(srv_next(f, &cf));
        got += cf.len - 1;
    }
    assert_true(f->s.writable_calls > 0);
    assert_true(backend_stream_write(f->s.st, chunk, 10) == 10);
    sent += 10;
    while (got < sent) {
        assert_true(srv_next(f, &cf));
        got += cf.len - 1;
    }
    assert_int_equal(got, sent);
    fixture_end(f);
}

/* Pings every interval; an API server that answers nothing at all for an
 * interval after a ping ends the stream. */
static void test_ping_timeout(void **state)
{
    struct fixture *f = *state;
    struct backend *kb = f->kb;
    f->kb = kube_backend_new(&loop, 100);
    fixture_start(f, KUBE_WIRE_V5, false, NULL, 0);
    expect_frame(f, 9, "", 0);    /* the first ping */
    srv_send(f, 10, -1, NULL, 0); /* its pong */
    expect_frame(f, 9, "", 0);    /* the next ping, unanswered */
    run_until(&f->s.exited);
    assert_int_equal(f->s.exit.type, BACKEND_EXIT_ERROR);
    assert_string_equal(f->s.exit.message, "error: the connection to the API server was lost: "
                                           "the API server stopped responding");
    /* the backend goes before its stream: freed with the last one */
    backend_free(f->kb);
    fixture_end(f);
    uv_run(&loop, UV_RUN_DEFAULT);
    f->kb = kb;
}

/* Buffers are there while bytes flow, and given back once the stream has
 * been quiet for KUBE_QUIET_MS: not each time they drain (a busy stream
 * would free and allocate them per read), and again after the next burst. */
static void test_quiet_stream_gives_buffers_back(void **state)
{
    struct fixture *f = *state;
    fixture_start(f, KUBE_WIRE_V5, false, NULL, 0);
    for (int i = 0; i < 4; i++) { /* a byte in and out every 300 ms */
        srv_send(f, 2, 1, "o", 1);
        while (f->s.len[1] < (size_t)i + 1)
            run_ms(1);
        assert_int_equal(backend_stream_write(f->s.st, (const uint8_t *)"i", 1), 1);
        expect_frame(f, 2, "\0i", 2);
        run_ms(300);
        assert_int_equal(kube_stream_buffered(f->s.st), KUBE_RX_MAX + KUBE_TX_MAX);
    }
    run_ms(KUBE_QUIET_MS);
    assert_int_equal(kube_stream_buffered(f->s.st), 0);
    /* the next burst takes them again, both ways, and gives them back */
    srv_send(f, 2, 1, "p", 1);
    while (f->s.len[1] < 5)
        run_ms(1);
    assert_int_equal(backend_stream_write(f->s.st, (const uint8_t *)"j", 1), 1);
    expect_frame(f, 2, "\0j", 2);
    assert_int_equal(kube_stream_buffered(f->s.st), KUBE_RX_MAX + KUBE_TX_MAX);
    run_ms(KUBE_QUIET_MS + 300);
    assert_int_equal(kube_stream_buffered(f->s.st), 0);
    assert_memory_equal(f->s.out[1], "oooop", 5);
    fixture_end(f);
}

static void test_start_without_prepared_stream(void **state)
{
    struct fixture *f = *state;
    struct sess s = {0};
    struct backend_exec_request req = {.want_stdout = true};
    char err[BACKEND_ERR_MAX];
    assert_int_equal(backend_stream_start(f->kb, &req, &cbs, &s, &s.st, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "gateway: no upstream stream was prepared for this request");
    assert_int_equal(kube_backend_stream_count(f->kb), 0);
}

static int setup(void **state)
{
    signal(SIGPIPE, SIG_IGN);
    static struct fixture f;
    if (uv_loop_init(&loop))
        return -1;
    f.kb = kube_backend_new(&loop, 0);
    *state = &f;
    return f.kb ? 0 : -1;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(kube_backend_stream_count(f->kb), 0);
    backend_free(f->kb);
    uv_run(&loop, UV_RUN_DEFAULT);
    return uv_loop_close(&loop);
}

static int reset_rx(void **state)
{
    (void)state;
    rx_len = 0;
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_output_status_and_close, reset_rx),
        cmocka_unit_test_setup(test_v5_stdin_close_resize_pong, reset_rx),
        cmocka_unit_test_setup(test_v4_no_close_signal_nor_resize, reset_rx),
        cmocka_unit_test_setup(test_v4_close_without_status, reset_rx),
        cmocka_unit_test_setup(test_pre_v4_statuses, reset_rx),
        cmocka_unit_test_setup(test_upstream_hangs_up, reset_rx),
        cmocka_unit_test_setup(test_upstream_breaks_protocol, reset_rx),
        cmocka_unit_test_setup(test_bytes_after_the_101, reset_rx),
        cmocka_unit_test_setup(test_slow_reader_gets_everything, reset_rx),
        cmocka_unit_test_setup(test_stdin_backpressure, reset_rx),
        cmocka_unit_test_setup(test_ping_timeout, reset_rx),
        cmocka_unit_test_setup(test_quiet_stream_gives_buffers_back, reset_rx),
        cmocka_unit_test_setup(test_start_without_prepared_stream, reset_rx),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
