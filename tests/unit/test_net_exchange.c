/* test_net_exchange.c - finishing one request on a socket (src/net/net_exchange.h)
 * against a real peer, the other end of a socketpair: a body that arrives in
 * pieces is read whole before the answer, a peer that leaves mid-body gets no
 * answer, an answer refused or missing hangs up, an answer larger than the
 * socket buffer goes out byte-exact as the peer reads it, a peer gone before
 * the answer ends the exchange, and lengths out of bounds are not started. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "net/net_exchange.h"

#define BIG_ANSWER (256 * 1024) /* far more than the small socket buffer below */
#define PEER_SNDBUF 4096

struct xcase {
    uv_loop_t loop;
    int sv[2];         /* sv[0]: the exchange's; sv[1]: the peer's */
    int answer_rc;     /* what the answer returns */
    bool answer_empty; /* return 0 without a response */
    size_t answer_len; /* bytes of response (a pattern) */
    char body[128];    /* what the answer saw */
    size_t body_len;
    int answers, dones, status;
    const char *later; /* bytes the peer sends after a loop turn */
    uv_timer_t later_timer;
    uv_poll_t drain; /* the peer reading the answer as it comes */
    char *got;
    size_t got_len;
    bool got_eof;
};

static int x_answer(void *user, const char *body, size_t len, char **response, size_t *response_len)
{
    struct xcase *x = user;
    x->answers++;
    assert_true(len < sizeof(x->body));
    memcpy(x->body, body, len);
    x->body_len = len;
    if (x->answer_rc < 0 || x->answer_empty)
        return x->answer_rc;
    *response = malloc(x->answer_len);
    assert_non_null(*response);
    for (size_t i = 0; i < x->answer_len; i++)
        (*response)[i] = (char)('A' + i % 23);
    *response_len = x->answer_len;
    return 0;
}

static void x_done(void *user, int status)
{
    struct xcase *x = user;
    x->dones++;
    x->status = status;
}

static void x_setup(struct xcase *x)
{
    memset(x, 0, sizeof(*x));
    assert_int_equal(uv_loop_init(&x->loop), 0);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, x->sv), 0);
    x->status = 99;
}

/* Everything the peer can still read from its end, then whether it is EOF. */
static void x_peer_read_all(struct xcase *x)
{
    fcntl(x->sv[1], F_SETFL, fcntl(x->sv[1], F_GETFL) | O_NONBLOCK);
    char buf[4096];
    for (;;) {
        ssize_t n = read(x->sv[1], buf, sizeof(buf));
        if (n > 0) {
            x->got = realloc(x->got, x->got_len + (size_t)n);
            assert_non_null(x->got);
            memcpy(x->got + x->got_len, buf, (size_t)n);
            x->got_len += (size_t)n;
            continue;
        }
        x->got_eof = n == 0;
        return;
    }
}

static void x_teardown(struct xcase *x)
{
    uv_run(&x->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&x->loop), 0);
    if (x->sv[1] >= 0)
        close(x->sv[1]);
    free(x->got);
}

static void x_send_later(uv_timer_t *t)
{
    struct xcase *x = t->data;
    assert_int_equal(write(x->sv[1], x->later, strlen(x->later)), (ssize_t)strlen(x->later));
    uv_close((uv_handle_t *)t, NULL);
}

static void test_body_in_pieces_is_read_whole(void **state)
{
    (void)state;
    struct xcase x;
    x_setup(&x);
    x.answer_len = 5;
    /* "ab" came with the head, "cde" is in the socket, "fghij" comes later. */
    assert_int_equal(write(x.sv[1], "cde", 3), 3);
    x.later = "fghij";
    uv_timer_init(&x.loop, &x.later_timer);
    x.later_timer.data = &x;
    uv_timer_start(&x.later_timer, x_send_later, 50, 0);
    assert_int_equal(net_exchange_start(&x.loop, x.sv[0], "ab", 2, 10, x_answer, x_done, &x), 0);
    uv_run(&x.loop, UV_RUN_DEFAULT);
    assert_int_equal(x.answers, 1);
    assert_int_equal(x.body_len, 10);
    assert_memory_equal(x.body, "abcdefghij", 10);
    assert_int_equal(x.dones, 1);
    assert_int_equal(x.status, 0);
    x_peer_read_all(&x);
    assert_int_equal(x.got_len, 5);
    assert_memory_equal(x.got, "ABCDE", 5);
    assert_true(x.got_eof); /* and hung up */
    x_teardown(&x);
}

static void test_peer_leaving_mid_body_gets_no_answer(void **state)
{
    (void)state;
    struct xcase x;
    x_setup(&x);
    x.answer_len = 5;
    assert_int_equal(write(x.sv[1], "cde", 3), 3);
    shutdown(x.sv[1], SHUT_WR);
    assert_int_equal(net_exchange_start(&x.loop, x.sv[0], "ab", 2, 10, x_answer, x_done, &x), 0);
    uv_run(&x.loop, UV_RUN_DEFAULT);
    assert_int_equal(x.answers, 0);
    assert_int_equal(x.dones, 1);
    assert_int_equal(x.status, -1);
    x_peer_read_all(&x);
    assert_int_equal(x.got_len, 0);
    assert_true(x.got_eof);
    x_teardown(&x);
}

static void test_refused_answer_hangs_up(void **state)
{
    (void)state;
    struct xcase x;
    x_setup(&x);
    x.answer_rc = -1;
    assert_int_equal(net_exchange_start(&x.loop, x.sv[0], "{}", 2, 2, x_answer, x_done, &x), 0);
    uv_run(&x.loop, UV_RUN_DEFAULT);
    assert_int_equal(x.answers, 1);
    assert_int_equal(x.status, -1);
    x_peer_read_all(&x);
    assert_int_equal(x.got_len, 0);
    assert_true(x.got_eof);
    x_teardown(&x);
}

static void test_answer_without_response_hangs_up(void **state)
{
    (void)state;
    struct xcase x;
    x_setup(&x);
    x.answer_empty = true;
    assert_int_equal(net_exchange_start(&x.loop, x.sv[0], "", 0, 0, x_answer, x_done, &x), 0);
    uv_run(&x.loop, UV_RUN_DEFAULT);
    assert_int_equal(x.answers, 1);
    assert_int_equal(x.body_len, 0);
    assert_int_equal(x.status, -1);
    x_peer_read_all(&x);
    assert_int_equal(x.got_len, 0);
    assert_true(x.got_eof);
    x_teardown(&x);
}

static void x_on_drain(uv_poll_t *p, int status, int events)
{
    (void)status;
    (void)events;
    struct xcase *x = p->data;
    x_peer_read_all(x);
    if (x->got_eof)
        uv_close((uv_handle_t *)p, NULL);
}

static void test_large_answer_goes_out_as_the_peer_reads(void **state)
{
    (void)state;
    struct xcase x;
    x_setup(&x);
    x.answer_len = BIG_ANSWER;
    int small = PEER_SNDBUF;
    setsockopt(x.sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
    fcntl(x.sv[1], F_SETFL, fcntl(x.sv[1], F_GETFL) | O_NONBLOCK);
    uv_poll_init(&x.loop, &x.drain, x.sv[1]);
    x.drain.data = &x;
    uv_poll_start(&x.drain, UV_READABLE | UV_DISCONNECT, x_on_drain);
    assert_int_equal(net_exchange_start(&x.loop, x.sv[0], "q", 1, 1, x_answer, x_done, &x), 0);
    uv_run(&x.loop, UV_RUN_DEFAULT);
    assert_int_equal(x.status, 0);
    assert_true(x.got_eof);
    assert_int_equal(x.got_len, BIG_ANSWER);
    for (size_t i = 0; i < x.got_len; i++)
        if (x.got[i] != (char)('A' + i % 23))
            fail_msg("byte %zu differs", i);
    x_teardown(&x);
}

static void test_peer_gone_before_the_answer(void **state)
{
    (void)state;
    struct xcase x;
    x_setup(&x);
    x.answer_len = 64;
    close(x.sv[1]);
    x.sv[1] = -1;
    assert_int_equal(net_exchange_start(&x.loop, x.sv[0], "q", 1, 1, x_answer, x_done, &x), 0);
    uv_run(&x.loop, UV_RUN_DEFAULT);
    assert_int_equal(x.answers, 1);
    assert_int_equal(x.dones, 1);
    assert_int_equal(x.status, -1); /* EPIPE: not answered */
    x_teardown(&x);
}

static void test_out_of_bounds_is_not_started(void **state)
{
    (void)state;
    struct xcase x;
    x_setup(&x);
    assert_int_equal(net_exchange_start(&x.loop, x.sv[0], "", 0, NET_EXCHANGE_BODY_MAX + 1,
                                        x_answer, x_done, &x),
                     -1);
    assert_int_equal(net_exchange_start(&x.loop, x.sv[0], "abc", 3, 2, x_answer, x_done, &x), -1);
    /* Not a socket uv can poll: not started, fd still the caller's. */
    assert_int_equal(net_exchange_start(&x.loop, -1, "", 0, 0, x_answer, x_done, &x), -1);
    assert_int_equal(x.answers + x.dones, 0);
    /* The fd is still ours and open: a byte goes through. */
    assert_int_equal(write(x.sv[0], "z", 1), 1);
    char c = 0;
    assert_int_equal(read(x.sv[1], &c, 1), 1);
    assert_int_equal(c, 'z');
    close(x.sv[0]);
    x_teardown(&x);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN); /* as podterm runs: a write to a gone peer is EPIPE */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_body_in_pieces_is_read_whole),
        cmocka_unit_test(test_peer_leaving_mid_body_gets_no_answer),
        cmocka_unit_test(test_refused_answer_hangs_up),
        cmocka_unit_test(test_answer_without_response_hangs_up),
        cmocka_unit_test(test_large_answer_goes_out_as_the_peer_reads),
        cmocka_unit_test(test_peer_gone_before_the_answer),
        cmocka_unit_test(test_out_of_bounds_is_not_started),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
