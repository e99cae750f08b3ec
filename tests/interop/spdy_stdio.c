/* spdy_stdio.c - podterm-spdy-stdio: the server side of one SPDY/3.1 exec
 * connection on fds 0/1 (the socket, after a test's stub API server wrote
 * the 101), run by src/spdy's connection and nothing else, so that real
 * kubectl exercises the codec before any session uses it
 * (tests/interop/test_spdy_codec.py).
 *
 * Usage: podterm-spdy-stdio STREAMS STATUS
 *   STREAMS  how many streams the client will open (error + stdin + stdout
 *            + stderr/resize as requested), the kubelet's count
 *   STATUS   the bytes to write on the error stream at the end ("" for
 *            none: the pre-v4 protocols' success)
 * The "process" is cat: stdin comes back on stdout; at stdin's EOF (its
 * FIN, or with a tty a ^D, as the line discipline would take it) stdout and stderr
 * are closed, STATUS goes out on the error stream, which is closed, and the
 * tool exits once its output is written. What arrives on a resize stream
 * is copied to the tool's stderr, for the test to compare. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spdy/spdy_conn.h"

#define IO_BUF (64 * 1024)

struct exec {
    struct spdy_conn *c;
    int expected, opened;
    uint32_t error_id, stdin_id, stdout_id, stderr_id, resize_id;
    const char *status;
    bool done;
};

static void flush_out(struct spdy_conn *c)
{
    const uint8_t *p;
    size_t n;
    while ((n = spdy_conn_out(c, &p)) > 0) {
        ssize_t w = write(1, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            exit(3);
        spdy_conn_out_consume(c, (size_t)w);
    }
}

/* Send all of data on id (and FIN when fin), writing our output to the
 * socket whenever the buffer is full. */
static void send_all(struct exec *x, uint32_t id, const uint8_t *data, size_t len, bool fin)
{
    for (;;) {
        int k = spdy_conn_send_data(x->c, id, data, len, fin);
        if (k == SPDY_ERR_SPACE) { /* a bare FIN that does not fit yet */
            flush_out(x->c);
            continue;
        }
        if (k < 0)
            exit(4);
        if (len == 0)
            return;
        data += k;
        len -= (size_t)k;
        if (len == 0)
            return;
        if (k == 0)
            flush_out(x->c);
    }
}

static void finish(struct exec *x)
{
    if (x->stdout_id)
        send_all(x, x->stdout_id, NULL, 0, true);
    if (x->stderr_id)
        send_all(x, x->stderr_id, NULL, 0, true);
    send_all(x, x->error_id, (const uint8_t *)x->status, strlen(x->status), true);
    x->done = true;
}

static void on_event(void *user, const struct spdy_event *ev)
{
    struct exec *x = user;
    switch (ev->type) {
    case SPDY_EV_STREAM_OPEN: {
        const struct spdy_nv *t = spdy_headers_get(ev->headers, "streamtype");
        if (!t)
            exit(5);
        if (t->value_len == 5 && memcmp(t->value, "error", 5) == 0)
            x->error_id = ev->stream_id;
        else if (t->value_len == 5 && memcmp(t->value, "stdin", 5) == 0)
            x->stdin_id = ev->stream_id;
        else if (t->value_len == 6 && memcmp(t->value, "stdout", 6) == 0)
            x->stdout_id = ev->stream_id;
        else if (t->value_len == 6 && memcmp(t->value, "stderr", 6) == 0)
            x->stderr_id = ev->stream_id;
        else if (t->value_len == 6 && memcmp(t->value, "resize", 6) == 0)
            x->resize_id = ev->stream_id;
        /* apimachinery replies to every stream at once, empty headers */
        if (spdy_conn_reply(x->c, ev->stream_id, NULL, 0, false) != SPDY_OK)
            exit(6);
        x->opened++;
        if (x->opened == x->expected && !x->stdin_id)
            finish(x); /* no stdin: the process ends at once */
        break;
    }
    case SPDY_EV_DATA:
        if (ev->stream_id == x->resize_id && fwrite(ev->data, 1, ev->len, stderr) != ev->len)
            exit(8);
        if (ev->stream_id == x->stdin_id && x->stdout_id && !x->done) {
            send_all(x, x->stdout_id, ev->data, ev->len, false);
            if (x->resize_id && memchr(ev->data, 0x04, ev->len))
                finish(x); /* a tty (it has a resize stream) */
        }
        spdy_conn_consume(x->c, ev->stream_id, ev->len);
        break;
    case SPDY_EV_FIN:
        if (ev->stream_id == x->stdin_id && !x->done)
            finish(x);
        break;
    case SPDY_EV_ERROR:
        fprintf(stderr, "podterm-spdy-stdio: %s\n", ev->reason);
        exit(7);
    default:
        break;
    }
}

int main(int argc, char **argv)
{
    if (argc != 3)
        return 2;
    struct exec x = {.expected = atoi(argv[1]), .status = argv[2]};
    struct spdy_conn_config cfg = {.role = SPDY_ROLE_SERVER, .flow = SPDY_FLOW_ADVISORY};
    x.c = spdy_conn_new(&cfg, on_event, &x);
    if (!x.c)
        return 1;
    static uint8_t buf[IO_BUF];
    while (!x.done) {
        ssize_t n = read(0, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        if (spdy_conn_feed(x.c, buf, (size_t)n) != SPDY_OK)
            break;
        flush_out(x.c);
    }
    flush_out(x.c);
    spdy_conn_free(x.c);
    return x.done ? 0 : 1;
}
