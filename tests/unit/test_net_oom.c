/* test_net_oom.c - the net modules out of memory, each allocation refused in
 * turn (unit_oom.h) with a real peer: an exchange that cannot start leaves
 * the socket to its caller, one whose answer cannot be built hangs up; a
 * connection the listener cannot hold is closed (handed in) or accepted and
 * dropped (its own socket), never left in the backlog; the TLS terminator
 * refuses to start with "out of memory" (not a front that could never reload
 * its certificate), and a TLS client it cannot take is hung up on. Every
 * clean run does the whole job. LeakSanitizer checks the error paths. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "net/listener.h"
#include "net/net_exchange.h"
#include "net/tls_front.h"
#include "net/tls_sock.h"
#include "net_tls_fixture.h"
#include "unit_oom.h"
#include "unit_tmpdir.h"

#define HEAD "GET / HTTP/1.1\r\nHost: x\r\n\r\n"
#define ERR_CAP 512
#define SPIN_MAX 2000

/* ---- net_exchange ---- */

struct xstep {
    int answers, dones, status;
    long runs_failed;
};

static int x_answer(void *user, const char *body, size_t len, char **response, size_t *response_len)
{
    struct xstep *x = user;
    x->answers++;
    assert_int_equal(len, 2);
    assert_memory_equal(body, "{}", 2);
    if (!(*response = malloc(2)))
        return -1;
    memcpy(*response, "ok", 2);
    *response_len = 2;
    return 0;
}

static void x_done(void *user, int status)
{
    struct xstep *x = user;
    x->dones++;
    x->status = status;
}

static void exchange_step(void *ctx)
{
    struct xstep *x = ctx;
    x->answers = x->dones = 0;
    x->status = 99;
    uv_loop_t loop;
    uv_loop_init(&loop);
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    int rc = net_exchange_start(&loop, sv[0], "{}", 2, 2, x_answer, x_done, x);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    char got[8];
    if (rc < 0) { /* not started: the socket is still ours */
        assert_true(unit_oom_hit());
        assert_int_equal(x->dones, 0);
        close(sv[0]);
    } else {
        assert_int_equal(x->dones, 1);
    }
    ssize_t n = read(sv[1], got, sizeof(got));
    close(sv[1]);
    if (unit_oom_hit()) {
        x->runs_failed++;
        assert_int_equal(n, 0); /* hung up, no half answer */
        if (rc == 0)
            assert_int_equal(x->status, -1);
        return;
    }
    assert_int_equal(x->status, 0);
    assert_int_equal(n, 2);
    assert_memory_equal(got, "ok", 2);
}

static void test_exchange_out_of_memory(void **state)
{
    (void)state;
    struct xstep x = {0};
    long allocations = unit_oom_sweep(exchange_step, &x);
    assert_int_equal(allocations, 3); /* the exchange, its body, the answer */
    assert_int_equal(x.runs_failed, 3);
}

/* ---- listener ---- */

struct lstep {
    int heads;
    long runs_failed;
    bool own_socket; /* accept from a listening socket, or adopt a socketpair */
};

static void l_on_head(void *ctx, int fd, const char *head, size_t len, const char *peer)
{
    struct lstep *ls = ctx;
    ls->heads++;
    assert_int_equal(len, strlen(HEAD));
    assert_memory_equal(head, HEAD, len);
    assert_string_equal(peer, "127.0.0.1");
    assert_int_equal(write(fd, "ok", 2), 2);
    close(fd);
}

static int tcp_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    return fd;
}

/* Turn the loop until the peer's socket has an answer or an end. */
static ssize_t peer_answer(uv_loop_t *loop, int fd, char *buf, size_t cap)
{
    for (int i = 0; i < SPIN_MAX; i++) {
        uv_run(loop, UV_RUN_NOWAIT);
        ssize_t n = recv(fd, buf, cap, MSG_DONTWAIT);
        if (n >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
            return n;
        usleep(500);
    }
    fail_msg("no answer and no end");
    return -1;
}

static void listener_step(void *ctx)
{
    struct lstep *ls = ctx;
    ls->heads = 0;
    uv_loop_t loop;
    uv_loop_init(&loop);
    char err[ERR_CAP] = "";
    int port = 0, peer;
    struct listener *l;
    if (ls->own_socket) {
        l = listener_new(&loop, "127.0.0.1", 0, l_on_head, ls, &port, err, sizeof(err));
        if (!l) {
            assert_true(unit_oom_hit());
            assert_string_equal(err, "out of memory");
            ls->runs_failed++;
            assert_int_equal(uv_loop_close(&loop), 0);
            return;
        }
        peer = tcp_connect(port);
    } else {
        l = listener_new_unbound(&loop, l_on_head, ls);
        if (!l) {
            assert_true(unit_oom_hit());
            ls->runs_failed++;
            assert_int_equal(uv_loop_close(&loop), 0);
            return;
        }
        int sv[2];
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        listener_adopt_fd(l, sv[0], (const struct sockaddr *)&a);
        peer = sv[1];
    }
    /* Sent even when the connection was dropped: a write to a closed peer
     * may fail, which is the point. */
    (void)!send(peer, HEAD, strlen(HEAD), MSG_NOSIGNAL);
    char got[8];
    ssize_t n = peer_answer(&loop, peer, got, sizeof(got));
    close(peer);
    listener_close(l);
    listener_drop_pending(l);
    uv_run(&loop, UV_RUN_DEFAULT);
    listener_free(l);
    assert_int_equal(uv_loop_close(&loop), 0);
    if (unit_oom_hit()) {
        ls->runs_failed++;
        assert_int_equal(ls->heads, 0);
        assert_true(n <= 0); /* closed or reset: never left waiting */
        return;
    }
    assert_int_equal(ls->heads, 1);
    assert_int_equal(n, 2);
    assert_memory_equal(got, "ok", 2);
}

static void test_listener_adopted_out_of_memory(void **state)
{
    (void)state;
    struct lstep ls = {.own_socket = false};
    long allocations = unit_oom_sweep(listener_step, &ls);
    assert_int_equal(allocations, 3); /* the listener, the pending record, its head buffer */
    assert_int_equal(ls.runs_failed, 3);
}

static void test_listener_accepted_out_of_memory(void **state)
{
    (void)state;
    struct lstep ls = {.own_socket = true};
    long allocations = unit_oom_sweep(listener_step, &ls);
    assert_int_equal(allocations, 3);
    assert_int_equal(ls.runs_failed, 3);
}

/* ---- tls_sock ---- */

static void tls_sock_step(void *ctx)
{
    long *runs_failed = ctx;
    uv_loop_t loop;
    uv_loop_init(&loop);
    SSL_CTX *sctx = SSL_CTX_new(TLS_client_method());
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv), 0);
    struct tls_sock *s = tls_sock_new(&loop, sv[0], SSL_new(sctx), NULL, NULL);
    if (unit_oom_hit()) {
        (*runs_failed)++;
        assert_null(s);
        char c;
        assert_int_equal(read(sv[1], &c, 1), 0); /* the socket was taken, and closed */
    } else {
        assert_non_null(s);
        tls_sock_close(s);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    close(sv[1]);
    SSL_CTX_free(sctx);
}

static void test_tls_sock_out_of_memory(void **state)
{
    (void)state;
    long runs_failed = 0;
    assert_int_equal(unit_oom_sweep(tls_sock_step, &runs_failed), 1);
    assert_int_equal(runs_failed, 1);
}

/* ---- tls_front ---- */

struct fstep {
    char cert[UNIT_TMPDIR_PATH_MAX], key[UNIT_TMPDIR_PATH_MAX];
    bool client_ca;
    int plains;
    long runs_failed;
};

static void f_on_plain(void *ctx, int fd, const struct sockaddr *peer)
{
    (void)peer;
    struct fstep *fs = ctx;
    fs->plains++;
    close(fd);
}

/* A TLS client's handshake, driven between loop turns: 1 done, -1 failed. */
static int client_handshake(uv_loop_t *loop, SSL *ssl)
{
    for (int i = 0; i < SPIN_MAX; i++) {
        uv_run(loop, UV_RUN_NOWAIT);
        int rc = SSL_do_handshake(ssl);
        if (rc == 1)
            return 1;
        int e = SSL_get_error(ssl, rc);
        if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
            return -1;
        usleep(500);
    }
    fail_msg("handshake neither done nor failed");
    return 0;
}

static void front_step(void *ctx)
{
    struct fstep *fs = ctx;
    fs->plains = 0;
    uv_loop_t loop;
    uv_loop_init(&loop);
    char err[ERR_CAP] = "";
    int port = 0;
    struct tls_front_files files = {
        .cert = fs->cert, .key = fs->key, .client_ca = fs->client_ca ? fs->cert : NULL};
    struct tls_front *f =
        tls_front_new(&loop, "127.0.0.1", 0, &files, f_on_plain, fs, &port, err, sizeof(err));
    if (!f) {
        assert_true(unit_oom_hit());
        assert_string_equal(err, "out of memory");
        fs->runs_failed++;
        uv_run(&loop, UV_RUN_DEFAULT);
        assert_int_equal(uv_loop_close(&loop), 0);
        return;
    }
    int rc = 1;
    if (!fs->client_ca) { /* a client that completes the handshake, or is hung up on */
        int fd = tcp_connect(port);
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
        SSL *ssl = SSL_new(cctx);
        SSL_set_fd(ssl, fd);
        SSL_set_connect_state(ssl);
        rc = client_handshake(&loop, ssl);
        SSL_free(ssl);
        SSL_CTX_free(cctx);
        close(fd);
        ERR_clear_error();
    }
    tls_front_close(f);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    if (unit_oom_hit()) {
        fs->runs_failed++;
        assert_int_equal(rc, -1);
        assert_int_equal(fs->plains, 0);
        return;
    }
    assert_int_equal(rc, 1);
    assert_int_equal(fs->plains, fs->client_ca ? 0 : 1);
}

static void test_tls_front_out_of_memory(void **state)
{
    (void)state;
    struct net_tls_id id = net_tls_id_make("localhost");
    static struct fstep fs;
    memset(&fs, 0, sizeof(fs));
    snprintf(fs.cert, sizeof(fs.cert), "%s/cert.pem", unit_dir);
    snprintf(fs.key, sizeof(fs.key), "%s/key.pem", unit_dir);
    net_tls_id_write(fs.cert, id.cert, NULL);
    net_tls_id_write(fs.key, NULL, id.key);
    /* The front and its two paths; a client's connection and its two sockets. */
    assert_int_equal(unit_oom_sweep(front_step, &fs), 6);
    assert_int_equal(fs.runs_failed, 6);
    /* With client CAs, their path too (no client here). */
    fs.client_ca = true;
    fs.runs_failed = 0;
    assert_int_equal(unit_oom_sweep(front_step, &fs), 4);
    assert_int_equal(fs.runs_failed, 4);
    net_tls_id_free(&id);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exchange_out_of_memory),
        cmocka_unit_test(test_listener_adopted_out_of_memory),
        cmocka_unit_test(test_listener_accepted_out_of_memory),
        cmocka_unit_test(test_tls_sock_out_of_memory),
        cmocka_unit_test(test_tls_front_out_of_memory),
    };
    return cmocka_run_group_tests(tests, unit_tmpdir_setup, unit_tmpdir_teardown);
}
