/* net_exchange.c - read a bounded body, write an answer, hang up (see
 * net_exchange.h). One uv_poll on the socket, non-blocking reads and
 * writes, one timer for the whole exchange. */
#include "net/net_exchange.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct net_exchange {
    uv_poll_t poll;
    uv_timer_t timer;
    int fd;
    int handles_open;
    char *body;
    size_t have, need;
    char *out;
    size_t out_off, out_len;
    net_exchange_answer_fn answer;
    net_exchange_done_fn done;
    void *user;
    int status; /* 0 answered, -1 not */
    bool ending;
};

static void net_exchange_closed(uv_handle_t *h)
{
    struct net_exchange *x = h->data;
    if (--x->handles_open > 0)
        return;
    close(x->fd);
    x->done(x->user, x->status);
    free(x->body);
    free(x->out);
    free(x);
}

static void net_exchange_end(struct net_exchange *x, int status)
{
    if (x->ending)
        return;
    x->ending = true;
    x->status = status;
    uv_poll_stop(&x->poll);
    uv_close((uv_handle_t *)&x->poll, net_exchange_closed);
    uv_close((uv_handle_t *)&x->timer, net_exchange_closed);
}

static void net_exchange_on_poll(uv_poll_t *p, int status, int events);

static void net_exchange_write(struct net_exchange *x)
{
    while (x->out_off < x->out_len) {
        ssize_t n = write(x->fd, x->out + x->out_off, x->out_len - x->out_off);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            uv_poll_start(&x->poll, UV_WRITABLE, net_exchange_on_poll);
            return;
        }
        if (n <= 0) {
            net_exchange_end(x, -1);
            return;
        }
        x->out_off += (size_t)n;
    }
    net_exchange_end(x, 0);
}

static void net_exchange_answer(struct net_exchange *x)
{
    uv_poll_stop(&x->poll);
    if (x->answer(x->user, x->body, x->have, &x->out, &x->out_len) < 0 || !x->out) {
        net_exchange_end(x, -1);
        return;
    }
    net_exchange_write(x);
}

static void net_exchange_on_poll(uv_poll_t *p, int status, int events)
{
    struct net_exchange *x = p->data;
    if (status < 0) {
        net_exchange_end(x, -1);
        return;
    }
    if (x->out) {
        if (events & UV_WRITABLE)
            net_exchange_write(x);
        return;
    }
    while (x->have < x->need) {
        ssize_t n = read(x->fd, x->body + x->have, x->need - x->have);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n <= 0) {
            net_exchange_end(x, -1); /* the peer left before its body was in */
            return;
        }
        x->have += (size_t)n;
    }
    net_exchange_answer(x);
}

static void net_exchange_on_timeout(uv_timer_t *t)
{
    net_exchange_end(t->data, -1);
}

int net_exchange_start(uv_loop_t *loop, int fd, const char *have, size_t have_len, size_t body_len,
                       net_exchange_answer_fn answer, net_exchange_done_fn done, void *user)
{
    if (body_len > NET_EXCHANGE_BODY_MAX || have_len > body_len)
        return -1;
    struct net_exchange *x = calloc(1, sizeof(*x));
    char *body = x ? malloc(body_len + 1) : NULL;
    if (!x || !body || uv_poll_init_socket(loop, &x->poll, fd) != 0) {
        free(x);
        free(body);
        return -1;
    }
    int flags = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    x->fd = fd;
    x->body = body;
    memcpy(body, have, have_len);
    x->have = have_len;
    x->need = body_len;
    x->answer = answer;
    x->done = done;
    x->user = user;
    x->handles_open = 2;
    x->poll.data = x;
    uv_timer_init(loop, &x->timer);
    x->timer.data = x;
    uv_timer_start(&x->timer, net_exchange_on_timeout, NET_EXCHANGE_TIMEOUT_MS, 0);
    if (x->have == x->need)
        net_exchange_answer(x);
    else
        uv_poll_start(&x->poll, UV_READABLE, net_exchange_on_poll);
    return 0;
}
