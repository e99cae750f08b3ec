/* test_net_tls_front.c - the TLS terminator (src/net/tls_front.h) with a real
 * TLS client on 127.0.0.1: refusals at start (a listen address that is not
 * numeric, a port taken, a key that is not the certificate's), a client's
 * bytes decrypted onto the plain side and the answer encrypted back, the
 * peer certificate lookup for sockets that are not the front's, closing
 * with a connection open, and the reload of a rotated key file (while
 * another front whose certificate file vanished keeps what it has). */
#include <arpa/inet.h>
#include <dirent.h>
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
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "net/tls_front.h"
#include "net_tls_fixture.h"
#include "unit_tmpdir.h"

#define ERR_CAP 512

static char cert_path[UNIT_TMPDIR_PATH_MAX], key_path[UNIT_TMPDIR_PATH_MAX];
static char other_key_path[UNIT_TMPDIR_PATH_MAX];
static struct net_tls_id id, other;

static int group_setup(void **state)
{
    if (unit_tmpdir_setup(state) != 0)
        return -1;
    id = net_tls_id_make("localhost");
    other = net_tls_id_make("other");
    snprintf(cert_path, sizeof(cert_path), "%s/cert.pem", unit_dir);
    snprintf(key_path, sizeof(key_path), "%s/key.pem", unit_dir);
    snprintf(other_key_path, sizeof(other_key_path), "%s/other-key.pem", unit_dir);
    net_tls_id_write(cert_path, id.cert, NULL);
    net_tls_id_write(key_path, NULL, id.key);
    net_tls_id_write(other_key_path, NULL, other.key);
    return 0;
}

static int group_teardown(void **state)
{
    net_tls_id_free(&id);
    net_tls_id_free(&other);
    return unit_tmpdir_teardown(state);
}

struct plain {
    int calls;
    int fd;
    char peer[INET_ADDRSTRLEN];
};

static void on_plain(void *ctx, int fd, const struct sockaddr *peer)
{
    struct plain *p = ctx;
    p->calls++;
    p->fd = fd;
    inet_ntop(AF_INET, &((const struct sockaddr_in *)peer)->sin_addr, p->peer, sizeof(p->peer));
}

static void test_start_refusals(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct plain p = {0};
    char err[ERR_CAP] = "";
    int port = 0;
    struct tls_front_files files = {.cert = cert_path, .key = key_path};
    assert_null(
        tls_front_new(&loop, "localhost", 0, &files, on_plain, &p, &port, err, sizeof(err)));
    assert_string_equal(err, "--listen: \"localhost\" is not an IPv4 address");

    /* A port another socket listens on. */
    int taken = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(taken, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(taken, 1), 0);
    socklen_t alen = sizeof(a);
    getsockname(taken, (struct sockaddr *)&a, &alen);
    int busy = ntohs(a.sin_port);
    assert_null(
        tls_front_new(&loop, "127.0.0.1", busy, &files, on_plain, &p, &port, err, sizeof(err)));
    char want[ERR_CAP + UNIT_TMPDIR_PATH_MAX];
    snprintf(want, sizeof(want), "cannot listen on 127.0.0.1:%d: Address already in use", busy);
    assert_string_equal(err, want);
    close(taken);

    /* Another certificate's key. */
    files.key = other_key_path;
    assert_null(
        tls_front_new(&loop, "127.0.0.1", 0, &files, on_plain, &p, &port, err, sizeof(err)));
    snprintf(want, sizeof(want), "--tls-private-key-file %s: key values mismatch", other_key_path);
    assert_string_equal(err, want);
    assert_int_equal(p.calls, 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    ERR_clear_error();
}

/* A blocking TLS client on its own socket, driven step by step between
 * loop turns (the front runs on the loop in this thread). */
struct client {
    int fd;
    SSL_CTX *ctx;
    SSL *ssl;
};

static void client_connect(struct client *c, int port)
{
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int rc = connect(c->fd, (struct sockaddr *)&a, sizeof(a));
    assert_true(rc == 0 || errno == EINPROGRESS);
    c->ctx = SSL_CTX_new(TLS_client_method());
    c->ssl = SSL_new(c->ctx);
    SSL_set_fd(c->ssl, c->fd);
    SSL_set_connect_state(c->ssl);
}

static void client_free(struct client *c)
{
    SSL_free(c->ssl);
    SSL_CTX_free(c->ctx);
    close(c->fd);
}

/* Turn the loop until step() says done (bounded: a hang fails). */
static void pump(uv_loop_t *loop, bool (*step)(void *), void *arg)
{
    for (int i = 0; i < 20000; i++) {
        if (step(arg))
            return;
        uv_run(loop, UV_RUN_NOWAIT);
        usleep(100);
    }
    fail_msg("no progress");
}

static bool handshake_step(void *arg)
{
    struct client *c = arg;
    return SSL_do_handshake(c->ssl) == 1;
}

struct readback {
    struct client *c;
    char buf[64];
    size_t len, want;
};

static bool read_step(void *arg)
{
    struct readback *r = arg;
    int n = SSL_read(r->c->ssl, r->buf + r->len, (int)(sizeof(r->buf) - 1 - r->len));
    if (n > 0)
        r->len += (size_t)n;
    return r->len >= r->want;
}

static bool plain_step(void *arg)
{
    return ((struct plain *)arg)->calls > 0;
}

static void test_bytes_cross_and_close_ends_open_connections(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct plain p = {0};
    char err[ERR_CAP] = "";
    int port = 0;
    struct tls_front_files files = {.cert = cert_path, .key = key_path};
    struct tls_front *f =
        tls_front_new(&loop, "127.0.0.1", 0, &files, on_plain, &p, &port, err, sizeof(err));
    assert_non_null(f);
    assert_true(port > 0);
    struct client c;
    client_connect(&c, port);
    pump(&loop, plain_step, &p);
    assert_string_equal(p.peer, "127.0.0.1");
    pump(&loop, handshake_step, &c);
    assert_int_equal(tls_front_conns(f), 1);
    assert_int_equal(tls_front_conns(NULL), 0);
    assert_int_equal(tls_front_reloads(f), 0);

    assert_int_equal(SSL_write(c.ssl, "ping", 4), 4);
    char got[4];
    fcntl(p.fd, F_SETFL, fcntl(p.fd, F_GETFL) & ~O_NONBLOCK);
    for (int i = 0; i < 200; i++) /* the front decrypts on the loop */
        uv_run(&loop, UV_RUN_NOWAIT);
    assert_int_equal(recv(p.fd, got, sizeof(got), MSG_DONTWAIT), 4);
    assert_memory_equal(got, "ping", 4);
    assert_int_equal(write(p.fd, "pong", 4), 4);
    struct readback r = {.c = &c, .want = 4};
    pump(&loop, read_step, &r);
    assert_memory_equal(r.buf, "pong", 4);

    /* No client certificate here; and sockets that are not the front's. */
    assert_null(tls_front_peer_cert(f, p.fd));
    assert_null(tls_front_peer_cert(NULL, p.fd));
    int pipefd[2];
    assert_int_equal(pipe(pipefd), 0);
    assert_null(tls_front_peer_cert(f, pipefd[0])); /* not a socket */
    close(pipefd[0]);
    close(pipefd[1]);
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    assert_null(tls_front_peer_cert(f, sv[0])); /* a socket of nobody's connection */
    close(sv[0]);
    close(sv[1]);

    /* Closing the front ends the connection still open: the client sees the end. */
    tls_front_close(f);
    tls_front_close(f); /* closing already: nothing */
    tls_front_stop_accepting(f);
    uv_run(&loop, UV_RUN_DEFAULT);
    char c1;
    assert_int_equal(recv(p.fd, &c1, 1, 0), 0);
    close(p.fd);
    client_free(&c);
    assert_int_equal(uv_loop_close(&loop), 0);
}

#define BURST 65       /* one more than the front accepts per wakeup */
#define FD_HEADROOM 16 /* descriptors above the highest open one, filled up */

static int highest_fd(void)
{
    DIR *d = opendir("/proc/self/fd");
    assert_non_null(d);
    int high = 0;
    for (struct dirent *e; (e = readdir(d));)
        if (atoi(e->d_name) > high)
            high = atoi(e->d_name);
    closedir(d);
    return high;
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

struct counted {
    int calls;
    int fds[BURST];
};

static void on_plain_counted(void *ctx, int fd, const struct sockaddr *peer)
{
    (void)peer;
    struct counted *c = ctx;
    assert_true(c->calls < BURST);
    c->fds[c->calls++] = fd;
}

static void test_accept_burst_and_out_of_descriptors(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    static struct counted cn;
    memset(&cn, 0, sizeof(cn));
    char err[ERR_CAP] = "";
    int port = 0;
    struct tls_front_files files = {.cert = cert_path, .key = key_path};
    struct tls_front *f = tls_front_new(&loop, "127.0.0.1", 0, &files, on_plain_counted, &cn, &port,
                                        err, sizeof(err));
    assert_non_null(f);
    /* A burst waiting in the backlog: all taken, over more than one wakeup. */
    int clients[BURST];
    for (int i = 0; i < BURST; i++)
        clients[i] = tcp_connect(port);
    for (int i = 0; i < 200 && cn.calls < BURST; i++)
        uv_run(&loop, UV_RUN_NOWAIT);
    assert_int_equal(cn.calls, BURST);
    assert_int_equal(tls_front_conns(f), BURST);
    assert_null(tls_front_peer_cert(f, -1)); /* not a descriptor at all */

    /* One descriptor left: the connection is accepted, its socketpair cannot
     * be made, and the client is hung up on (never left waiting). */
    int late = tcp_connect(port);
    struct rlimit old, low = {(rlim_t)highest_fd() + FD_HEADROOM, 0};
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
    low.rlim_max = old.rlim_max;
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
    static int fillers[FD_HEADROOM + BURST * 4];
    int nfill = 0, fd;
    while (nfill < (int)(sizeof(fillers) / sizeof(fillers[0])) &&
           (fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0)
        fillers[nfill++] = fd;
    assert_int_equal(errno, EMFILE);
    assert_true(nfill > 0);
    close(fillers[--nfill]);
    for (int i = 0; i < 50; i++)
        uv_run(&loop, UV_RUN_NOWAIT);
    for (int i = 0; i < nfill; i++)
        close(fillers[i]);
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
    assert_int_equal(cn.calls, BURST);
    assert_int_equal(tls_front_conns(f), BURST);
    char c;
    assert_int_equal(recv(late, &c, 1, 0), 0);
    close(late);

    tls_front_close(f);
    uv_run(&loop, UV_RUN_DEFAULT);
    for (int i = 0; i < BURST; i++) {
        close(clients[i]);
        close(cn.fds[i]);
    }
    assert_int_equal(uv_loop_close(&loop), 0);
}

struct reload_case {
    struct tls_front *rotated, *vanished, *rewritten;
    uv_timer_t done;
    unsigned rotated_reloads, vanished_reloads, rewritten_reloads;
};

static void reload_done(uv_timer_t *t)
{
    struct reload_case *rc = t->data;
    rc->rotated_reloads = tls_front_reloads(rc->rotated);
    rc->vanished_reloads = tls_front_reloads(rc->vanished);
    rc->rewritten_reloads = tls_front_reloads(rc->rewritten);
    tls_front_close(rc->rewritten);
    tls_front_close(rc->rotated);
    tls_front_close(rc->vanished);
    uv_close((uv_handle_t *)t, NULL);
}

static void test_rotated_key_is_reloaded_vanished_cert_kept(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct plain p = {0};
    char err[ERR_CAP] = "";
    int port = 0;
    char cert2[UNIT_TMPDIR_PATH_MAX], key2[UNIT_TMPDIR_PATH_MAX], tmp[UNIT_TMPDIR_PATH_MAX];
    snprintf(cert2, sizeof(cert2), "%s/cert2.pem", unit_dir);
    snprintf(key2, sizeof(key2), "%s/key2.pem", unit_dir);
    snprintf(tmp, sizeof(tmp), "%s/key2.new", unit_dir);
    net_tls_id_write(cert2, id.cert, NULL);
    net_tls_id_write(key2, NULL, id.key);
    struct reload_case rc = {0};
    rc.rotated = tls_front_new(&loop, "127.0.0.1", 0,
                               &(struct tls_front_files){.cert = cert_path, .key = key2}, on_plain,
                               &p, &port, err, sizeof(err));
    rc.vanished = tls_front_new(&loop, "127.0.0.1", 0,
                                &(struct tls_front_files){.cert = cert2, .key = key_path}, on_plain,
                                &p, &port, err, sizeof(err));
    char cert3[UNIT_TMPDIR_PATH_MAX];
    snprintf(cert3, sizeof(cert3), "%s/cert3.pem", unit_dir);
    net_tls_id_write(cert3, id.cert, NULL);
    rc.rewritten = tls_front_new(&loop, "127.0.0.1", 0,
                                 &(struct tls_front_files){.cert = cert3, .key = key_path},
                                 on_plain, &p, &port, err, sizeof(err));
    assert_non_null(rc.rotated);
    assert_non_null(rc.vanished);
    assert_non_null(rc.rewritten);
    /* The same bytes written again in place: same inode and size, a new mtime. */
    usleep(20000);
    net_tls_id_write(cert3, id.cert, NULL);
    /* cert-manager's way: the same key, a new file renamed over the old one. */
    net_tls_id_write(tmp, NULL, id.key);
    assert_int_equal(rename(tmp, key2), 0);
    assert_int_equal(unlink(cert2), 0);
    uv_timer_init(&loop, &rc.done);
    rc.done.data = &rc;
    uv_timer_start(&rc.done, reload_done, TLS_FRONT_RELOAD_MS + 300, 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(rc.rotated_reloads, 1);  /* the new key file, taken */
    assert_int_equal(rc.vanished_reloads, 0); /* nothing to load: the old one serves on */
    assert_int_equal(rc.rewritten_reloads, 1);
    assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_start_refusals),
        cmocka_unit_test(test_bytes_cross_and_close_ends_open_connections),
        cmocka_unit_test(test_rotated_key_is_reloaded_vanished_cert_kept),
        cmocka_unit_test(test_accept_burst_and_out_of_descriptors),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
