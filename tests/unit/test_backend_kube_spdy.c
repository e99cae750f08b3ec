/* test_backend_kube_spdy.c - the gateway's SPDY/3.1 upstream stream against
 * an API server scripted with the SPDY codec in its server role, over a
 * socket pair: the streams opened (by streamtype, client-go's order), stdout,
 * stderr and the Status on the error stream, stdin, its half-close and the
 * resize stream's JSON lines, pings, a stream the server resets, and a
 * server that breaks the protocol or hangs up. */
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

#include "backend/kube/kube_backend.h"
#include "spdy/spdy_conn.h"
#include "spdy/spdy_headers.h"

#define WAIT_MS 10000
#define SUCCESS "{\"metadata\":{},\"status\":\"Success\"}"

static uv_loop_t loop;

enum { CH_STDIN, CH_STDOUT, CH_STDERR, CH_ERROR, CH_RESIZE, CH_N };
static const char *const types[CH_N] = {"stdin", "stdout", "stderr", "error", "resize"};

struct server {
    struct spdy_conn *conn;
    int fd;
    uint32_t id[CH_N];
    int opened;
    char order[64];     /* streamtypes in the order opened */
    char in[CH_N][256]; /* data received per stream */
    size_t in_len[CH_N];
    bool fin[CH_N];
};

static void srv_event(void *user, const struct spdy_event *ev)
{
    struct server *sv = user;
    if (ev->type == SPDY_EV_STREAM_OPEN) {
        const struct spdy_nv *st = spdy_headers_get(ev->headers, "streamtype");
        assert_non_null(st);
        for (int ch = 0; ch < CH_N; ch++)
            if (strlen(types[ch]) == st->value_len && !memcmp(types[ch], st->value, st->value_len))
                sv->id[ch] = ev->stream_id;
        snprintf(sv->order + strlen(sv->order), sizeof(sv->order) - strlen(sv->order), "%s%.*s",
                 sv->opened++ ? "," : "", (int)st->value_len, st->value);
        assert_int_equal(spdy_conn_reply(sv->conn, ev->stream_id, NULL, 0, false), SPDY_OK);
        return;
    }
    for (int ch = 0; ch < CH_N; ch++) {
        if (sv->id[ch] != ev->stream_id || !ev->stream_id)
            continue;
        if (ev->type == SPDY_EV_DATA) {
            assert_true(sv->in_len[ch] + ev->len < sizeof(sv->in[ch]));
            memcpy(sv->in[ch] + sv->in_len[ch], ev->data, ev->len);
            sv->in_len[ch] += ev->len;
            spdy_conn_consume(sv->conn, ev->stream_id, ev->len);
        } else if (ev->type == SPDY_EV_FIN) {
            sv->fin[ch] = true;
        }
    }
}

/* Exchange bytes both ways and run the gateway's loop, for a moment. */
static void pump(struct server *sv)
{
    for (int round = 0; round < 20; round++) {
        uint8_t buf[65536];
        ssize_t n = read(sv->fd, buf, sizeof(buf));
        if (n > 0)
            spdy_conn_feed(sv->conn, buf, (size_t)n);
        const uint8_t *p;
        size_t len;
        while ((len = spdy_conn_out(sv->conn, &p)) > 0) {
            ssize_t w = write(sv->fd, p, len);
            if (w <= 0)
                break;
            spdy_conn_out_consume(sv->conn, (size_t)w);
        }
        uv_run(&loop, UV_RUN_NOWAIT);
        usleep(200);
    }
}

struct sess {
    struct backend_stream *st;
    char out[3][256];
    size_t len[3];
    bool exited;
    struct backend_exit exit;
};

static void on_readable(void *user, int ch)
{
    struct sess *s = user;
    for (;;) {
        ssize_t n = backend_stream_read(s->st, ch, (uint8_t *)s->out[ch] + s->len[ch],
                                        sizeof(s->out[ch]) - 1 - s->len[ch]);
        if (n <= 0)
            return;
        s->len[ch] += (size_t)n;
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

struct fixture {
    struct backend *kb;
    struct server sv;
    struct sess s;
};

static void fx_start(struct fixture *f, enum kube_wire wire, bool tty, uint64_t ping_ms)
{
    memset(&f->sv, 0, sizeof(f->sv));
    memset(&f->s, 0, sizeof(f->s));
    f->kb = kube_backend_new(&loop, ping_ms);
    int sp[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sp), 0);
    f->sv.fd = sp[1];
    struct spdy_conn_config cfg = {.role = SPDY_ROLE_SERVER, .flow = SPDY_FLOW_ADVISORY};
    f->sv.conn = spdy_conn_new(&cfg, srv_event, &f->sv);
    bool ready = false;
    struct tls_sock *sock = tls_sock_new(&loop, sp[0], NULL, sock_ready, &ready);
    while (!ready)
        uv_run(&loop, UV_RUN_NOWAIT);
    struct kube_stream_desc desc = {
        .want_stdin = true, .want_stdout = true, .want_stderr = !tty, .tty = tty};
    struct backend_stream *st = kube_stream_new(f->kb, sock, wire, &desc, NULL, 0);
    assert_non_null(st);
    struct backend_exec_request req = {
        .prepared = st, .want_stdin = true, .want_stdout = true, .want_stderr = !tty, .tty = tty};
    char err[BACKEND_ERR_MAX];
    assert_int_equal(backend_stream_start(f->kb, &req, &cbs, &f->s, &f->s.st, err, sizeof(err)), 0);
    backend_stream_want_read(f->s.st, 1, true);
    backend_stream_want_read(f->s.st, 2, true);
    pump(&f->sv);
}

static void fx_wait_exit(struct fixture *f)
{
    uint64_t start = uv_hrtime();
    while (!f->s.exited) {
        pump(&f->sv);
        if ((uv_hrtime() - start) / 1000000 > WAIT_MS)
            fail_msg("no exit");
    }
}

static void fx_end(struct fixture *f)
{
    backend_stream_stop(f->s.st);
    backend_free(f->kb);
    uv_run(&loop, UV_RUN_NOWAIT);
    spdy_conn_free(f->sv.conn);
    close(f->sv.fd);
    uv_run(&loop, UV_RUN_DEFAULT);
}

static void srv_data(struct fixture *f, int ch, const char *data, bool fin)
{
    assert_true(spdy_conn_send_data(f->sv.conn, f->sv.id[ch], (const uint8_t *)data, strlen(data),
                                    fin) >= 0);
}

static void test_exchange_and_status(void **state)
{
    struct fixture *f = *state;
    fx_start(f, KUBE_WIRE_SPDY_V4, false, 0);
    assert_string_equal(f->sv.order, "error,stdin,stdout,stderr");
    assert_int_equal(backend_stream_write(f->s.st, (const uint8_t *)"hi", 2), 2);
    backend_stream_resize(f->s.st, 80, 24); /* not a tty: no resize stream */
    backend_stream_close_stdin(f->s.st);
    backend_stream_close_stdin(f->s.st);
    pump(&f->sv);
    assert_int_equal(f->sv.in_len[CH_STDIN], 2);
    assert_memory_equal(f->sv.in[CH_STDIN], "hi", 2);
    assert_true(f->sv.fin[CH_STDIN]);
    assert_int_equal(backend_stream_write(f->s.st, (const uint8_t *)"x", 1), -EPIPE);
    srv_data(f, CH_STDOUT, "out", true);
    srv_data(f, CH_STDERR, "err", true);
    srv_data(f, CH_ERROR, SUCCESS, true);
    fx_wait_exit(f);
    assert_int_equal(f->s.exit.type, BACKEND_EXIT_CODE);
    assert_int_equal(f->s.exit.code, 0);
    assert_string_equal(f->s.out[1], "out");
    assert_string_equal(f->s.out[2], "err");
    fx_end(f);
}

/* A tty on v4 opens the resize stream: one JSON object and a newline per
 * resize; pings go out as SPDY pings. */
static void test_tty_resize_and_ping(void **state)
{
    struct fixture *f = *state;
    fx_start(f, KUBE_WIRE_SPDY_V4, true, 50);
    assert_string_equal(f->sv.order, "error,stdin,stdout,resize");
    backend_stream_resize(f->s.st, 80, 24);
    backend_stream_resize(f->s.st, 100, 30);
    for (int i = 0; i < 10; i++)
        pump(&f->sv); /* a ping or two, answered by the codec */
    static const char want[] = "{\"Width\":80,\"Height\":24}\n{\"Width\":100,\"Height\":30}\n";
    assert_int_equal(f->sv.in_len[CH_RESIZE], sizeof(want) - 1);
    assert_memory_equal(f->sv.in[CH_RESIZE], want, sizeof(want) - 1);
    assert_false(f->s.exited); /* pongs keep it alive */
    /* the server resets the error stream and ends stdout: done, no status */
    assert_int_equal(spdy_conn_reset(f->sv.conn, f->sv.id[CH_ERROR], 5), SPDY_OK);
    srv_data(f, CH_STDOUT, "bye", true);
    fx_wait_exit(f);
    assert_string_equal(f->s.out[1], "bye");
    assert_int_equal(f->s.exit.type, BACKEND_EXIT_ERROR);
    assert_string_equal(f->s.exit.message, "the API server ended the stream without a status");
    fx_end(f);
}

/* Pre-v4 SPDY: no resize stream even for a tty; a text status. */
static void test_text_wire(void **state)
{
    struct fixture *f = *state;
    fx_start(f, KUBE_WIRE_SPDY_TEXT, true, 0);
    assert_string_equal(f->sv.order, "error,stdin,stdout");
    backend_stream_resize(f->s.st, 80, 24);
    srv_data(f, CH_ERROR, "command terminated: exit code 4", true);
    srv_data(f, CH_STDOUT, "", true);
    fx_wait_exit(f);
    assert_int_equal(f->s.exit.type, BACKEND_EXIT_CODE);
    assert_int_equal(f->s.exit.code, 4);
    assert_int_equal(f->sv.in_len[CH_RESIZE], 0);
    fx_end(f);
}

static void test_server_breaks_protocol(void **state)
{
    struct fixture *f = *state;
    fx_start(f, KUBE_WIRE_SPDY_V4, false, 0);
    /* a control frame of version 2 */
    assert_int_equal(write(f->sv.fd, "\x80\x02\x00\x06\x00\x00\x00\x04\x00\x00\x00\x01", 12), 12);
    fx_wait_exit(f);
    assert_int_equal(f->s.exit.type, BACKEND_EXIT_ERROR);
    assert_string_equal(f->s.exit.message, "error: the connection to the API server was lost: "
                                           "the API server broke the SPDY protocol");
    fx_end(f);
}

static void test_server_hangs_up(void **state)
{
    struct fixture *f = *state;
    fx_start(f, KUBE_WIRE_SPDY_V4, false, 0);
    srv_data(f, CH_STDOUT, "part", false);
    pump(&f->sv);
    shutdown(f->sv.fd, SHUT_WR);
    fx_wait_exit(f);
    assert_string_equal(f->s.out[1], "part");
    assert_int_equal(f->s.exit.type, BACKEND_EXIT_ERROR);
    assert_string_equal(f->s.exit.message, "error: the connection to the API server was lost: "
                                           "the API server closed the connection");
    fx_end(f);
}

static int setup(void **state)
{
    static struct fixture f;
    signal(SIGPIPE, SIG_IGN);
    *state = &f;
    return uv_loop_init(&loop);
}

static int teardown(void **state)
{
    (void)state;
    return uv_loop_close(&loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exchange_and_status), cmocka_unit_test(test_tty_resize_and_ping),
        cmocka_unit_test(test_text_wire),           cmocka_unit_test(test_server_breaks_protocol),
        cmocka_unit_test(test_server_hangs_up),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
