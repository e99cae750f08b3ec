/* test_net_tls_sock.c - the pull-driven socket (src/net/tls_sock.h) with a
 * real peer on a socketpair: a TLS record read in small pieces is delivered
 * whole (the bytes OpenSSL holds are announced without a poll event), a
 * peer that is not TLS fails the handshake and the socket then refuses
 * reads and writes, a plain socket reports its write error to a vanished
 * peer, and the lifecycle calls that tolerate NULL or a closed socket. */
#include <errno.h>
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

#include "net/tls_sock.h"
#include "net_tls_fixture.h"

#define RECORD_BYTES 10000 /* one TLS record, much more than a read takes */
#define READ_PIECE 100

struct side {
    struct tls_sock *s;
    int events; /* all seen, or-ed */
    int readies, errors;
    uint8_t got[RECORD_BYTES];
    size_t got_len;
    bool eof;
    size_t piece; /* read at most this much per READABLE */
    const void *to_send;
    size_t to_send_len;
};

static void side_cb(void *user, int events)
{
    struct side *sd = user;
    sd->events |= events;
    if (events & TLS_SOCK_ERROR) {
        sd->errors++;
        tls_sock_want(sd->s, false, false);
        return;
    }
    if (events & TLS_SOCK_READY) {
        sd->readies++;
        if (sd->to_send) {
            ssize_t n = tls_sock_write(sd->s, sd->to_send, sd->to_send_len);
            assert_int_equal(n, (ssize_t)sd->to_send_len);
            tls_sock_shutdown(sd->s);
            tls_sock_want(sd->s, false, false);
            return;
        }
        tls_sock_want(sd->s, true, false);
        return;
    }
    if (events & TLS_SOCK_READABLE) {
        assert_true(sd->got_len + sd->piece <= sizeof(sd->got) + READ_PIECE);
        ssize_t n = tls_sock_read(
            sd->s, sd->got + sd->got_len,
            sd->piece < sizeof(sd->got) - sd->got_len ? sd->piece : sizeof(sd->got) - sd->got_len);
        if (n > 0)
            sd->got_len += (size_t)n;
        else if (n == 0) {
            sd->eof = true;
            tls_sock_want(sd->s, false, false);
        }
    }
}

static SSL_CTX *server_ctx(struct net_tls_id *id)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    assert_non_null(ctx);
    assert_int_equal(SSL_CTX_use_certificate(ctx, id->cert), 1);
    assert_int_equal(SSL_CTX_use_PrivateKey(ctx, id->key), 1);
    return ctx;
}

static SSL_CTX *client_ctx(void)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    assert_non_null(ctx);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    return ctx;
}

static void run_until_idle(uv_loop_t *loop)
{
    uv_run(loop, UV_RUN_DEFAULT);
}

/* Stops the loop once the reader has everything or failed. */
struct watch {
    uv_timer_t t;
    struct side *a, *b;
    int ticks;
    bool a_trimmed; /* a's record buffers given back once it had everything */
};

static void watch_tick(uv_timer_t *t)
{
    struct watch *w = t->data;
    bool over = (w->a->eof || w->a->errors) && (w->b->eof || w->b->errors || w->b->to_send);
    if (over || ++w->ticks > 500) { /* 5 s: a hang fails below, never blocks */
        w->a_trimmed = tls_sock_trim(w->a->s);
        tls_sock_close(w->a->s);
        tls_sock_close(w->b->s);
        uv_close((uv_handle_t *)t, NULL);
    }
}

static void watch_start(uv_loop_t *loop, struct watch *w, struct side *a, struct side *b)
{
    w->a = a;
    w->b = b;
    uv_timer_init(loop, &w->t);
    w->t.data = w;
    uv_timer_start(&w->t, watch_tick, 10, 10);
}

static void test_record_read_in_pieces_arrives_whole(void **state)
{
    (void)state;
    struct net_tls_id id = net_tls_id_make("localhost");
    SSL_CTX *sctx = server_ctx(&id), *cctx = client_ctx();
    uv_loop_t loop;
    uv_loop_init(&loop);
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
    static uint8_t payload[RECORD_BYTES];
    for (size_t i = 0; i < sizeof(payload); i++)
        payload[i] = (uint8_t)(i * 7 + 3);
    static struct side srv, cli;
    memset(&srv, 0, sizeof(srv));
    memset(&cli, 0, sizeof(cli));
    srv.to_send = payload;
    srv.to_send_len = sizeof(payload);
    cli.piece = READ_PIECE;
    SSL *sssl = SSL_new(sctx), *cssl = SSL_new(cctx);
    SSL_set_accept_state(sssl);
    SSL_set_connect_state(cssl);
    srv.s = tls_sock_new(&loop, sv[0], sssl, side_cb, &srv);
    cli.s = tls_sock_new(&loop, sv[1], cssl, side_cb, &cli);
    assert_non_null(srv.s);
    assert_non_null(cli.s);
    assert_ptr_equal(tls_sock_ssl(cli.s), cssl);
    /* Before the handshake: nothing to read or write yet, no error. */
    char c;
    assert_int_equal(tls_sock_read(cli.s, &c, 1), -EAGAIN);
    assert_int_equal(tls_sock_write(cli.s, "x", 1), -EAGAIN);
    assert_string_equal(tls_sock_error(cli.s), "connection failed");
    struct watch w = {0};
    watch_start(&loop, &w, &cli, &srv);
    run_until_idle(&loop);
    assert_int_equal(srv.readies, 1);
    assert_int_equal(cli.readies, 1);
    assert_int_equal(cli.errors, 0);
    assert_true(cli.eof);
    assert_int_equal(cli.got_len, RECORD_BYTES);
    assert_memory_equal(cli.got, payload, RECORD_BYTES);
    assert_true(w.a_trimmed);
    assert_int_equal(uv_loop_close(&loop), 0);
    SSL_CTX_free(sctx);
    SSL_CTX_free(cctx);
    net_tls_id_free(&id);
}

static void test_peer_that_is_not_tls_fails_the_handshake(void **state)
{
    (void)state;
    struct net_tls_id id = net_tls_id_make("localhost");
    SSL_CTX *sctx = server_ctx(&id);
    uv_loop_t loop;
    uv_loop_init(&loop);
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
    const char *plain = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    assert_int_equal(write(sv[1], plain, strlen(plain)), (ssize_t)strlen(plain));
    static struct side srv;
    memset(&srv, 0, sizeof(srv));
    SSL *sssl = SSL_new(sctx);
    SSL_set_accept_state(sssl);
    srv.s = tls_sock_new(&loop, sv[0], sssl, side_cb, &srv);
    assert_non_null(srv.s);
    while (!srv.errors && uv_run(&loop, UV_RUN_ONCE))
        ;
    assert_int_equal(srv.errors, 1);
    assert_int_equal(srv.readies, 0);
    assert_string_equal(tls_sock_error(srv.s), "TLS handshake: http request");
    /* A failed socket refuses everything with -EIO, not a retry. */
    char buf[8];
    assert_int_equal(tls_sock_read(srv.s, buf, sizeof(buf)), -EIO);
    assert_int_equal(tls_sock_write(srv.s, "x", 1), -EIO);
    tls_sock_shutdown(srv.s);           /* not open: nothing to do */
    assert_false(tls_sock_trim(srv.s)); /* nor buffers to give back */
    tls_sock_abort(srv.s);
    tls_sock_abort(srv.s); /* closed already: nothing */
    tls_sock_close(srv.s);
    run_until_idle(&loop);
    close(sv[1]);
    assert_int_equal(uv_loop_close(&loop), 0);
    SSL_CTX_free(sctx);
    net_tls_id_free(&id);
}

static void test_plain_write_to_a_vanished_peer_is_an_error(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
    static struct side pl;
    memset(&pl, 0, sizeof(pl));
    pl.s = tls_sock_new(&loop, sv[0], NULL, side_cb, &pl);
    assert_non_null(pl.s);
    assert_null(tls_sock_ssl(pl.s));
    while (!pl.readies && uv_run(&loop, UV_RUN_ONCE))
        ;
    assert_int_equal(pl.readies, 1);
    assert_int_equal(tls_sock_write(pl.s, "", 0), 0); /* nothing to write is not an error */
    assert_false(tls_sock_trim(pl.s));                /* no TLS buffers: nothing */
    assert_false(tls_sock_trim(NULL));
    close(sv[1]);
    assert_int_equal(tls_sock_write(pl.s, "abc", 3), -EIO);
    assert_string_equal(tls_sock_error(pl.s), "write: Broken pipe");
    tls_sock_close(pl.s);
    tls_sock_close(pl.s); /* twice: nothing */
    tls_sock_close(NULL);
    tls_sock_abort(NULL);
    run_until_idle(&loop);
    assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_a_socket_uv_cannot_poll_is_refused(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    SSL_CTX *cctx = client_ctx();
    /* The SSL is taken (freed) even when the socket is refused: LSan checks. */
    assert_null(tls_sock_new(&loop, -1, SSL_new(cctx), side_cb, NULL));
    assert_null(tls_sock_new(&loop, -1, NULL, side_cb, NULL));
    assert_int_equal(uv_loop_close(&loop), 0);
    SSL_CTX_free(cctx);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_record_read_in_pieces_arrives_whole),
        cmocka_unit_test(test_peer_that_is_not_tls_fails_the_handshake),
        cmocka_unit_test(test_plain_write_to_a_vanished_peer_is_an_error),
        cmocka_unit_test(test_a_socket_uv_cannot_poll_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
