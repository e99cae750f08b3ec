/* test_spdy_conn.c - a SPDY/3.1 connection (src/spdy/spdy_conn.h): kubectl's
 * own bytes served, a kubectl-like exec between our client and server
 * roles, every chunking of the input giving the same events, stream id
 * rules, flow control in both modes, PING, SETTINGS, GOAWAY, unknown frame
 * types and other versions, and a peer that does not read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "spdy/spdy_conn.h"

#define LOG_MAX 8192

/* kubectl v1.32 falling back to SPDY (spdystream), `exec -i p -- cat` with
 * "abc\n" on stdin, everything it sent after the 101: SYN_STREAMs 1, 3, 5,
 * 7 (error, stdin, stdout, stderr), "abc\n" on 3, then FIN on 3. */
static const uint8_t KUBECTL[] = {
    0x80, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x29, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x78, 0xf9, 0xe3, 0xc6, 0xa7, 0xc2, 0x62, 0x60, 0x60, 0x60, 0x04, 0xa7,
    0xb3, 0x92, 0xa2, 0xd4, 0xc4, 0x5c, 0x68, 0x51, 0xc2, 0x9a, 0x0a, 0x0a, 0x68, 0x00, 0x00,
    0x00, 0x00, 0xff, 0xff, 0x80, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x17, 0x00, 0x00, 0x00,
    0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc2, 0x2e, 0x55, 0x5c, 0x92, 0x92, 0x99, 0x07,
    0x00, 0x00, 0x00, 0xff, 0xff, 0x80, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x19, 0x00, 0x00,
    0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc2, 0x2a, 0xc5, 0x56, 0x5c, 0x92, 0x92,
    0x5f, 0x5a, 0x02, 0x00, 0x00, 0x00, 0xff, 0xff, 0x80, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00,
    0x15, 0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc2, 0x29, 0x97, 0x5a,
    0x54, 0x04, 0x00, 0x00, 0x00, 0xff, 0xff, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x04,
    0x61, 0x62, 0x63, 0x0a, 0x00, 0x00, 0x00, 0x03, 0x01, 0x00, 0x00, 0x00,
};

/* Events as text, data merged per stream run so chunking cannot change it. */
struct log {
    char text[LOG_MAX];
    size_t len;
    struct spdy_conn *conn;
    bool echo_reply; /* server: reply to every stream at once (apimachinery does) */
    uint32_t last_open;
    int opens;
    bool quiet_data; /* count data bytes instead of logging them */
    size_t data_bytes;
};

static void log_add(struct log *l, const char *s)
{
    size_t n = strlen(s);
    assert_true(l->len + n < LOG_MAX);
    memcpy(l->text + l->len, s, n + 1);
    l->len += n;
}

static void on_event(void *user, const struct spdy_event *ev)
{
    struct log *l = user;
    char line[256];
    switch (ev->type) {
    case SPDY_EV_STREAM_OPEN:
    case SPDY_EV_REPLY:
    case SPDY_EV_HEADERS: {
        const struct spdy_nv *st = spdy_headers_get(ev->headers, "streamtype");
        snprintf(line, sizeof(line), "%s %u flags=%u n=%zu type=%.*s\n",
                 ev->type == SPDY_EV_STREAM_OPEN ? "open"
                 : ev->type == SPDY_EV_REPLY     ? "reply"
                                                 : "headers",
                 ev->stream_id, ev->flags, ev->headers->n, st ? (int)st->value_len : 0,
                 st ? st->value : "");
        if (ev->type == SPDY_EV_STREAM_OPEN) {
            l->last_open = ev->stream_id;
            l->opens++;
            if (l->echo_reply)
                assert_int_equal(spdy_conn_reply(l->conn, ev->stream_id, NULL, 0, false), SPDY_OK);
        }
        break;
    }
    case SPDY_EV_DATA: {
        if (l->quiet_data) {
            l->data_bytes += ev->len;
            return;
        }
        /* "data <id> " then the bytes; a following piece of the same stream
         * appends to the line */
        char head[32];
        snprintf(head, sizeof(head), "data %u ", ev->stream_id);
        size_t hl = strlen(head);
        bool cont = l->len > 0 && l->text[l->len - 1] == '\n';
        if (cont) {
            /* find the start of the last line */
            size_t s = l->len - 1;
            while (s > 0 && l->text[s - 1] != '\n')
                s--;
            if (strncmp(l->text + s, head, hl) == 0) {
                l->len--; /* drop its newline, append */
                l->text[l->len] = '\0';
                hl = 0;
            }
        }
        assert_true(l->len + hl + ev->len * 2 + 2 < LOG_MAX);
        if (hl)
            log_add(l, head);
        for (size_t i = 0; i < ev->len; i++) {
            snprintf(line, sizeof(line), "%02x", ev->data[i]);
            log_add(l, line);
        }
        log_add(l, "\n");
        return;
    }
    case SPDY_EV_FIN:
        snprintf(line, sizeof(line), "fin %u\n", ev->stream_id);
        break;
    case SPDY_EV_RESET:
        snprintf(line, sizeof(line), "reset %u %u%s\n", ev->stream_id, ev->status,
                 ev->local ? " local" : "");
        break;
    case SPDY_EV_PING_ACK:
        snprintf(line, sizeof(line), "pingack %u\n", ev->ping_id);
        break;
    case SPDY_EV_GOAWAY:
        snprintf(line, sizeof(line), "goaway %u %u\n", ev->last_id, ev->status);
        break;
    case SPDY_EV_ERROR:
        snprintf(line, sizeof(line), "error %d %s\n", ev->err, ev->reason);
        break;
    }
    log_add(l, line);
}

static struct spdy_conn *conn_new(enum spdy_role role, enum spdy_flow flow, struct log *l)
{
    memset(l, 0, sizeof(*l));
    struct spdy_conn_config cfg = {.role = role, .flow = flow};
    struct spdy_conn *c = spdy_conn_new(&cfg, on_event, l);
    assert_non_null(c);
    l->conn = c;
    return c;
}

/* Move everything a has to write into b. */
static void pump(struct spdy_conn *a, struct spdy_conn *b)
{
    const uint8_t *p;
    size_t n = spdy_conn_out(a, &p);
    if (n) {
        spdy_conn_feed(b, p, n);
        spdy_conn_out_consume(a, n);
    }
}

static void out_take(struct spdy_conn *c, uint8_t *buf, size_t *len)
{
    const uint8_t *p;
    *len = spdy_conn_out(c, &p);
    memcpy(buf, p, *len);
    spdy_conn_out_consume(c, *len);
}

static void out_expect(struct spdy_conn *c, const char *want, size_t len)
{
    const uint8_t *p;
    size_t n = spdy_conn_out(c, &p);
    assert_int_equal(n, len);
    assert_memory_equal(p, want, len);
    spdy_conn_out_consume(c, n);
}

/* The peer's side for hand-made frames: its own deflate context. */
struct peer {
    struct spdy_deflater d;
};

static struct peer *peer_new(void)
{
    struct peer *p = malloc(sizeof(*p));
    assert_int_equal(spdy_deflater_init(&p->d), SPDY_OK);
    return p;
}

static void peer_free(struct peer *p)
{
    spdy_deflater_end(&p->d);
    free(p);
}

static size_t peer_syn(struct peer *p, uint8_t *out, uint32_t id, uint8_t flags, const char *type)
{
    struct spdy_nv nv = {"streamtype", 10, type, strlen(type)};
    uint8_t block[256];
    int n = spdy_deflater_block(&p->d, &nv, 1, block, sizeof(block));
    assert_true(n > 0);
    int w = spdy_write_syn_stream(out, 512, flags, id, 0, 0, block, (size_t)n);
    assert_true(w > 0);
    return (size_t)w;
}

static void feed(struct spdy_conn *c, const void *p, size_t n)
{
    spdy_conn_feed(c, p, n);
}

/* ---- kubectl's bytes ---- */

static const char KUBECTL_EVENTS[] = "open 1 flags=0 n=1 type=error\n"
                                     "open 3 flags=0 n=1 type=stdin\n"
                                     "open 5 flags=0 n=1 type=stdout\n"
                                     "open 7 flags=0 n=1 type=stderr\n"
                                     "data 3 6162630a\n"
                                     "fin 3\n";

/* What kubectl sent, served: its streams, stdin, its half-close; then the
 * server's side of an exec of `cat` as the kubelet writes it (v4): a reply
 * per stream, stdout, FIN on stdout and stderr, the Status on the error
 * stream and its FIN. Our client role reads all of it back. */
static void test_conn_kubectl_exec(void **state)
{
    struct log sl, cl;
    struct spdy_conn *s = conn_new(SPDY_ROLE_SERVER, SPDY_FLOW_ADVISORY, &sl);
    sl.echo_reply = true;
    assert_int_equal(spdy_conn_feed(s, KUBECTL, sizeof(KUBECTL)), SPDY_OK);
    assert_string_equal(sl.text, KUBECTL_EVENTS);
    assert_false(spdy_conn_stream_can_recv(s, 3));
    assert_true(spdy_conn_stream_can_send(s, 3)); /* stdin: only the client's half closed */
    assert_int_equal(spdy_conn_send_data(s, 5, (const uint8_t *)"abc\n", 4, true), 4);
    assert_int_equal(spdy_conn_send_data(s, 7, NULL, 0, true), 0);
    assert_int_equal(spdy_conn_send_data(s, 3, NULL, 0, true), 0);
    static const char status[] = "{\"metadata\":{},\"status\":\"Success\"}";
    assert_int_equal(spdy_conn_send_data(s, 1, (const uint8_t *)status, 34, true), 34);
    /* stdin: both halves closed, gone; stdout: ours closed, kubectl's half
     * stays open until the connection ends (it never closes it) */
    assert_false(spdy_conn_stream_open(s, 3));
    assert_true(spdy_conn_stream_open(s, 5));
    assert_false(spdy_conn_stream_can_send(s, 5));
    /* the kubelet's reply is the last thing: its data frames, byte for byte */
    uint8_t out[1024];
    size_t n;
    out_take(s, out, &n);
    static const char tail[] = "\x00\x00\x00\x05\x01\x00\x00\x04"
                               "abc\n"
                               "\x00\x00\x00\x07\x01\x00\x00\x00"
                               "\x00\x00\x00\x03\x01\x00\x00\x00"
                               "\x00\x00\x00\x01\x01\x00\x00\x22"
                               "{\"metadata\":{},\"status\":\"Success\"}";
    size_t tl = sizeof(tail) - 1;
    assert_true(n > tl);
    assert_memory_equal(out + n - tl, tail, tl);
    /* the four SYN_REPLYs in front of it, read by a client */
    struct spdy_conn *c = conn_new(SPDY_ROLE_CLIENT, SPDY_FLOW_ADVISORY, &cl);
    const char *types[] = {"error", "stdin", "stdout", "stderr"};
    for (int i = 0; i < 4; i++) {
        struct spdy_nv nv = {"streamtype", 10, types[i], strlen(types[i])};
        assert_int_equal(spdy_conn_open_stream(c, &nv, 1, 0), 2 * i + 1);
    }
    spdy_conn_out_consume(c, 4096);
    assert_int_equal(spdy_conn_feed(c, out, n), SPDY_OK);
    assert_string_equal(cl.text,
                        "reply 1 flags=0 n=0 type=\n"
                        "reply 3 flags=0 n=0 type=\n"
                        "reply 5 flags=0 n=0 type=\n"
                        "reply 7 flags=0 n=0 type=\n"
                        "data 5 6162630a\n"
                        "fin 5\n"
                        "fin 7\n"
                        "fin 3\n"
                        "data 1 7b226d65746164617461223a7b7d2c22737461747573223a22537563636573"
                        "73227d\n"
                        "fin 1\n");
    spdy_conn_free(c);
    spdy_conn_free(s);
}

/* Any chunking of kubectl's bytes gives the same events: every chunk size,
 * and every split into two feeds. */
static void test_conn_chunking(void **state)
{
    struct log l;
    for (size_t chunk = 1; chunk <= sizeof(KUBECTL); chunk++) {
        struct spdy_conn *s = conn_new(SPDY_ROLE_SERVER, SPDY_FLOW_ADVISORY, &l);
        for (size_t i = 0; i < sizeof(KUBECTL); i += chunk) {
            size_t k = sizeof(KUBECTL) - i < chunk ? sizeof(KUBECTL) - i : chunk;
            assert_int_equal(spdy_conn_feed(s, KUBECTL + i, k), SPDY_OK);
        }
        assert_string_equal(l.text, KUBECTL_EVENTS);
        spdy_conn_free(s);
    }
    for (size_t cut = 0; cut <= sizeof(KUBECTL); cut++) {
        struct spdy_conn *s = conn_new(SPDY_ROLE_SERVER, SPDY_FLOW_ADVISORY, &l);
        assert_int_equal(spdy_conn_feed(s, KUBECTL, cut), SPDY_OK);
        assert_int_equal(spdy_conn_feed(s, KUBECTL + cut, sizeof(KUBECTL) - cut), SPDY_OK);
        assert_string_equal(l.text, KUBECTL_EVENTS);
        spdy_conn_free(s);
    }
}

/* A kubectl-1.28-like exec -it between our two roles: error, stdin,
 * stdout, resize (tty: no stderr), replies, stdin and a resize in, output
 * out, stdin's half-close, the v4 Status of `exit 3` on the error stream,
 * GOAWAY; then both sides are done. */
static void test_conn_exec_both_roles(void **state)
{
    struct log sl, cl;
    struct spdy_conn *s = conn_new(SPDY_ROLE_SERVER, SPDY_FLOW_STRICT, &sl);
    struct spdy_conn *c = conn_new(SPDY_ROLE_CLIENT, SPDY_FLOW_STRICT, &cl);
    sl.echo_reply = true;
    const char *types[] = {"error", "stdin", "stdout", "resize"};
    for (int i = 0; i < 4; i++) {
        struct spdy_nv nv[2] = {{"streamtype", 10, types[i], strlen(types[i])},
                                {"port", 4, "x\0y", 3}};
        assert_int_equal(spdy_conn_open_stream(c, nv, i == 1 ? 2 : 1, 0), 2 * i + 1);
    }
    /* data before the reply is not allowed on our own stream */
    pump(c, s);
    assert_string_equal(sl.text, "open 1 flags=0 n=1 type=error\n"
                                 "open 3 flags=0 n=2 type=stdin\n"
                                 "open 5 flags=0 n=1 type=stdout\n"
                                 "open 7 flags=0 n=1 type=resize\n");
    pump(s, c);
    assert_int_equal(spdy_conn_send_data(c, 3, (const uint8_t *)"ls\r", 3, false), 3);
    assert_int_equal(
        spdy_conn_send_data(c, 7, (const uint8_t *)"{\"Width\":80,\"Height\":24}", 24, false), 24);
    assert_int_equal(spdy_conn_send_data(c, 3, NULL, 0, true), 0);
    pump(c, s);
    assert_int_equal(spdy_conn_send_data(s, 5, (const uint8_t *)"a b\r\n", 5, true), 5);
    static const char st[] =
        "{\"metadata\":{},\"status\":\"Failure\",\"message\":\"command terminated with non-zero "
        "exit code: error executing command [sh -c exit 3], exit code 3\",\"reason\":"
        "\"NonZeroExitCode\",\"details\":{\"causes\":[{\"reason\":\"ExitCode\",\"message\":\"3\"}]}"
        "}";
    assert_int_equal(spdy_conn_send_data(s, 1, (const uint8_t *)st, sizeof(st) - 1, true),
                     (int)sizeof(st) - 1);
    assert_int_equal(spdy_conn_goaway(s, SPDY_GOAWAY_OK), SPDY_OK);
    pump(s, c);
    assert_string_equal(sl.text + strlen("open 1 flags=0 n=1 type=error\n"
                                         "open 3 flags=0 n=2 type=stdin\n"
                                         "open 5 flags=0 n=1 type=stdout\n"
                                         "open 7 flags=0 n=1 type=resize\n"),
                        "data 3 6c730d\n"
                        "data 7 7b225769647468223a38302c22486569676874223a32347d\n"
                        "fin 3\n");
    assert_non_null(strstr(cl.text, "data 5 6120620d0a\nfin 5\n"));
    assert_non_null(strstr(cl.text, "fin 1\ngoaway 7 0\n"));
    /* after GOAWAY the open streams finish: the server ends resize and
     * stdin, the client closes its halves of error and stdout */
    assert_false(spdy_conn_is_done(s));
    assert_int_equal(spdy_conn_reset(s, 7, SPDY_RST_CANCEL), SPDY_OK);
    assert_int_equal(spdy_conn_send_data(s, 3, NULL, 0, true), 0);
    assert_false(spdy_conn_is_done(s));
    assert_int_equal(spdy_conn_send_data(c, 1, NULL, 0, true), 0);
    assert_int_equal(spdy_conn_send_data(c, 5, NULL, 0, true), 0);
    pump(c, s);
    assert_true(spdy_conn_is_done(s));
    pump(s, c);
    assert_true(spdy_conn_is_done(c));
    /* after GOAWAY no new stream either way */
    assert_int_equal(spdy_conn_open_stream(c, NULL, 0, 0), SPDY_ERR_STATE);
    spdy_conn_free(c);
    spdy_conn_free(s);
}

/* ---- flow control ---- */

static void open_pair(struct spdy_conn *c, struct spdy_conn *s, int n)
{
    for (int i = 0; i < n; i++) {
        struct spdy_nv nv = {"streamtype", 10, "stdout", 6};
        assert_true(spdy_conn_open_stream(c, &nv, 1, 0) > 0);
    }
    pump(c, s);
    pump(s, c);
}

static void test_conn_flow_window_exhaustion(void **state)
{
    struct log sl, cl;
    struct spdy_conn *s = conn_new(SPDY_ROLE_SERVER, SPDY_FLOW_STRICT, &sl);
    struct spdy_conn *c = conn_new(SPDY_ROLE_CLIENT, SPDY_FLOW_STRICT, &cl);
    sl.echo_reply = true;
    cl.quiet_data = true;
    open_pair(c, s, 2);
    static uint8_t buf[SPDY_INITIAL_WINDOW + 1];
    memset(buf, 'x', sizeof(buf));
    size_t sent = 0;
    for (;;) {
        int k = spdy_conn_send_data(s, 1, buf, sizeof(buf) - sent, false);
        assert_true(k >= 0);
        if (k == 0)
            break;
        sent += (size_t)k;
        assert_true(k <= SPDY_DATA_FRAME_MAX);
        pump(s, c);
    }
    /* exactly the initial window went, then nothing: on this stream, and on
     * the other too, because the connection's window is shared */
    assert_int_equal(sent, SPDY_INITIAL_WINDOW);
    assert_int_equal(spdy_conn_send_window(s, 1), 0);
    assert_int_equal(spdy_conn_send_window(s, 3), 0);
    assert_int_equal(spdy_conn_peer_window(s, 1), 0);
    assert_int_equal(spdy_conn_peer_window(s, 0), 0);
    assert_int_equal(spdy_conn_our_window(c, 1), 0);
    /* the client consumes a quarter: below half a window, no update yet */
    spdy_conn_consume(c, 1, SPDY_INITIAL_WINDOW / 4);
    const uint8_t *p;
    assert_int_equal(spdy_conn_out(c, &p), 0);
    /* half: WINDOW_UPDATE for the stream and the connection, 32 KiB each */
    spdy_conn_consume(c, 1, SPDY_INITIAL_WINDOW / 4);
    out_expect(c,
               "\x80\x03\x00\x09\x00\x00\x00\x08\x00\x00\x00\x01\x00\x00\x80\x00"
               "\x80\x03\x00\x09\x00\x00\x00\x08\x00\x00\x00\x00\x00\x00\x80\x00",
               32);
    feed(s,
         "\x80\x03\x00\x09\x00\x00\x00\x08\x00\x00\x00\x01\x00\x00\x80\x00"
         "\x80\x03\x00\x09\x00\x00\x00\x08\x00\x00\x00\x00\x00\x00\x80\x00",
         32);
    assert_int_equal(spdy_conn_send_window(s, 1), SPDY_INITIAL_WINDOW / 2);
    assert_int_equal(spdy_conn_send_window(s, 3), SPDY_INITIAL_WINDOW / 2);
    /* consuming more than was received gives back no more than was received */
    spdy_conn_consume(c, 1, 10 * SPDY_INITIAL_WINDOW);
    out_expect(c,
               "\x80\x03\x00\x09\x00\x00\x00\x08\x00\x00\x00\x01\x00\x00\x80\x00"
               "\x80\x03\x00\x09\x00\x00\x00\x08\x00\x00\x00\x00\x00\x00\x80\x00",
               32);
    assert_int_equal(spdy_conn_our_window(c, 1), SPDY_INITIAL_WINDOW);
    assert_string_equal(sl.text,
                        "open 1 flags=0 n=1 type=stdout\nopen 3 flags=0 n=1 type=stdout\n");
    spdy_conn_free(c);
    spdy_conn_free(s);
}

/* A WINDOW_UPDATE past 2^31-1: the stream is reset with FLOW_CONTROL_ERROR;
 * for the connection window it is a connection error. A delta of 0 is a
 * protocol error. */
static void test_conn_flow_overflow(void **state)
{
    struct log sl, cl;
    struct spdy_conn *s = conn_new(SPDY_ROLE_SERVER, SPDY_FLOW_STRICT, &sl);
    struct spdy_conn *c = conn_new(SPDY_ROLE_CLIENT, SPDY_FLOW_STRICT, &cl);
    sl.echo_reply = true;
    open_pair(c, s, 2);
    feed(s, "\x80\x03\x00\x09\x00\x00\x00\x08\x00\x00\x00\x01\x7f\xfe\x00\x00", 16);
    assert_int_equal(spdy_conn_peer_window(s, 1), 0x7fff0000LL); /* 2^31 - 64 KiB */
    out_expect(s, "", 0);
    feed(s, "\x80\x03\x00\x09\x00\x00\x00\x08\x00\x00\x00\x01\x00\x01\x00\x00", 16);
    out_expect(s, "\x80\x03\x00\x03\x00\x00\x00\x08\x00\x00\x00\x01\x00\x00\x00\x07", 16);
    assert_false(spdy_conn_stream_open(s, 1));
    /* a delta of 0 on a stream */
    feed(s, "\x80\x03\x00\x09\x00\x00\x00\x08\x00\x00\x00\x03\x00\x00\x00\x00", 16);
    out_expect(s, "\x80\x03\x00\x03\x00\x00\x00\x08\x00\x00\x00\x03\x00\x00\x00\x01", 16);
    /* the connection window: 64 KiB + 2^31-1 */
    assert_int_equal(
        spdy_conn_feed(
            s, (const uint8_t *)"\x80\x03\x00\x09\x00\x00\x00\x08\x00\x00\x00\x00\x7f\xff\xff\xff",
            16),
        SPDY_ERR_FLOW_CONTROL);
    out_expect(s, "\x80\x03\x00\x07\x00\x00\x00\x08\x00\x00\x00\x03\x00\x00\x00\x01", 16);
    assert_string_equal(sl.text, "open 1 flags=0 n=1 type=stdout\n"
                                 "open 3 flags=0 n=1 type=stdout\n"
                                 "reset 1 7 local\n"
                                 "reset 3 1 local\n"
                                 "error -7 connection window past 2^31-1\n");
    /* the connection is over: feeds and sends say so */
    assert_int_equal(spdy_conn_feed(s, KUBECTL, 8), SPDY_ERR_FLOW_CONTROL);
    assert_int_equal(spdy_conn_send_data(s, 1, (const uint8_t *)"x", 1, false), SPDY_ERR_CLOSED);
    assert_true(spdy_conn_is_done(s));
    spdy_conn_free(c);
    spdy_conn_free(s);
}

/* A peer that sends past our connection window: strict fails the
 * connection; advisory takes it all, as kubectl's spdystream needs (it
 * keeps no window), and does not hold our sends to the peer's window. */
static void test_conn_flow_peer_overrun(void **state)
{
    static uint8_t frame[8 + SPDY_INITIAL_WINDOW + 1];
    memset(frame, 'y', sizeof(frame));
    spdy_write_data_head(frame, 8, 1, 0, SPDY_INITIAL_WINDOW + 1);
    uint8_t syn[512];
    struct log l;

    struct peer *p = peer_new();
    struct spdy_conn *s = conn_new(SPDY_ROLE_SERVER, SPDY_FLOW_STRICT, &l);
    feed(s, syn, peer_syn(p, syn, 1, 0, "stdin"));
    assert_int_equal(spdy_conn_feed(s, frame, sizeof(frame)), SPDY_ERR_FLOW_CONTROL);
    assert_string_equal(l.text, "open 1 flags=0 n=1 type=stdin\n"
                                "error -7 the peer sent past the connection window\n");
    spdy_conn_free(s);
    peer_free(p);

    /* advisory: a megabyte on a stream nobody consumed, all delivered */
    p = peer_new();
    s = conn_new(SPDY_ROLE_SERVER, SPDY_FLOW_ADVISORY, &l);
    l.quiet_data = true;
    feed(s, syn, peer_syn(p, syn, 1, 0, "stdin"));
    spdy_write_data_head(frame, 8, 1, 0, SPDY_INITIAL_WINDOW);
    for (int i = 0; i < 16; i++)
        assert_int_equal(spdy_conn_feed(s, frame, sizeof(frame) - 1), SPDY_OK);
    assert_true(spdy_conn_stream_can_recv(s, 1));
    assert_int_equal(l.data_bytes, 16 * SPDY_INITIAL_WINDOW);
    assert_int_equal(spdy_conn_our_window(s, 1), SPDY_INITIAL_WINDOW - 16 * SPDY_INITIAL_WINDOW);
    /* and the peer's window is not enforced on what we send */
    assert_int_equal(spdy_conn_reply(s, 1, NULL, 0, false), SPDY_OK);
    spdy_conn_out_consume(s, SPDY_OUT_MAX);
    size_t sent = 0;
    for (int i = 0; i < 64; i++) {
        int k = spdy_conn_send_data(s, 1, frame, SPDY_DATA_FRAME_MAX, false);
        assert_int_equal(k, SPDY_DATA_FRAME_MAX);
        sent += (size_t)k;
        spdy_conn_out_consume(s, SPDY_OUT_MAX);
    }
    assert_int_equal(sent, 2 * 1024 * 1024);
    spdy_conn_free(s);
    peer_free(p);
}

/* Stream-level overrun alone: the connection window was opened by us
 * (consume on another stream), the stream's was not. */
static void test_conn_flow_stream_overrun(void **state)
{
    static uint8_t frame[8 + 40 * 1024];
    memset(frame, 'z', sizeof(frame));
    uint8_t syn[512];
    struct log l;
    struct peer *p = peer_new();
    struct spdy_conn *s = conn_new(SPDY_ROLE_SERVER, SPDY_FLOW_STRICT, &l);
    l.quiet_data = true;
    feed(s, syn, peer_syn(p, syn, 1, 0, "stdin"));
    feed(s, syn, peer_syn(p, syn, 3, 0, "resize"));
    spdy_write_data_head(frame, 8, 1, 0, 40 * 1024);
    assert_int_equal(spdy_conn_feed(s, frame, sizeof(frame)), SPDY_OK);
    /* the connection gets 40 KiB back through stream 3's consume (nothing
     * received there: only the connection part counts) */
    spdy_conn_consume(s, 1, 0);
    spdy_conn_consume(s, 3, 40 * 1024);
    spdy_conn_out_consume(s, SPDY_OUT_MAX);
    assert_int_equal(spdy_conn_our_window(s, 0), SPDY_INITIAL_WINDOW);
    assert_int_equal(spdy_conn_our_window(s, 1), SPDY_INITIAL_WINDOW - 40 * 1024);
    spdy_write_data_head(frame, 8, 1, 0, 30 * 1024);
    assert_int_equal(spdy_conn_feed(s, frame, 8), SPDY_OK);
    out_expect(s, "\x80\x03\x00\x03\x00\x00\x00\x08\x00\x00\x00\x01\x00\x00\x00\x07", 16);
    /* the rest of that frame is dropped, then stream 3 still works */
    assert_int_equal(spdy_conn_feed(s, frame + 8, 30 * 1024), SPDY_OK);
    spdy_write_data_head(frame, 8, 3, SPDY_FLAG_FIN, 2);
    assert_int_equal(spdy_conn_feed(s, frame, 10), SPDY_OK);
    assert_string_equal(l.text, "open 1 flags=0 n=1 type=stdin\nopen 3 flags=0 n=1 type=resize\n"
                                "reset 1 7 local\nfin 3\n");
    assert_int_equal(l.data_bytes, 40 * 1024 + 2); /* nothing of the reset frame */
    spdy_conn_free(s);
    peer_free(p);
}

/* SETTINGS INITIAL_WINDOW_SIZE moves every stream's send window by the
 * difference, below zero if need be (SPDY/3.1 2.6.8). */
static void test_conn_settings_window(void **state)
{
    struct log sl, cl;
    struct spdy_conn *s = conn_new(SPDY_ROLE_SERVER, SPDY_FLOW_STRICT, &sl);
    struct spdy_conn *c = conn_new(SPDY_ROLE_CLIENT, SPDY_FLOW_STRICT, &cl);
    sl.echo_reply = true;
    open_pair(c, s, 1);
    static uint8_t buf[1000];
    assert_int_equal(spdy_conn_send_data(s, 1, buf, 1000, false), 1000);
    uint8_t set[32];
    int n = spdy_write_settings_one(set, sizeof(set), 0, SPDY_SETTINGS_INITIAL_WINDOW_SIZE, 500);
    feed(s, set, (size_t)n);
    assert_int_equal(spdy_conn_peer_window(s, 1), -500);
    assert_int_equal(spdy_conn_send_window(s, 1), 0);
    n = spdy_write_settings_one(set, sizeof(set), 0, SPDY_SETTINGS_INITIAL_WINDOW_SIZE, 2000);
    feed(s, set, (size_t)n);
    assert_int_equal(spdy_conn_send_window(s, 1), 1000);
    /* a new stream starts with the new size */
    open_pair(c, s, 1);
    assert_int_equal(spdy_conn_peer_window(s, 3), 2000);
    /* past 2^31-1: connection error */
    n = spdy_write_settings_one(set, sizeof(set), 0, SPDY_SETTINGS_INITIAL_WINDOW_SIZE,
                                0x80000000u);
    assert_int_equal(spdy_conn_feed(s, set, (size_t)n), SPDY_ERR_FRAME);
    spdy_conn_free(c);
    spdy_conn_free(s);
}

/* ---- stream ids ---- */

static void test_conn_stream_ids(void **state)
{
    struct log l;
    struct peer *p = peer_new();
    struct spdy_conn *s = conn_new(SPDY_ROLE_SERVER, SPDY_FLOW_ADVISORY, &l);
    uint8_t syn[512];
    feed(s, syn, peer_syn(p, syn, 5, 0, "error"));
    out_expect(s, "", 0);
    /* the same id while open: STREAM_IN_USE, and that stream is gone */
    feed(s, syn, peer_syn(p, syn, 5, 0, "stdin"));
    out_expect(s, "\x80\x03\x00\x03\x00\x00\x00\x08\x00\x00\x00\x05\x00\x00\x00\x08", 16);
    assert_false(spdy_conn_stream_open(s, 5));
    /* again now that it is closed, and a lower id: PROTOCOL_ERROR */
    feed(s, syn, peer_syn(p, syn, 5, 0, "stdin"));
    out_expect(s, "\x80\x03\x00\x03\x00\x00\x00\x08\x00\x00\x00\x05\x00\x00\x00\x01", 16);
    feed(s, syn, peer_syn(p, syn, 3, 0, "stdin"));
    out_expect(s, "\x80\x03\x00\x03\x00\x00\x00\x08\x00\x00\x00\x03\x00\x00\x00\x01", 16);
    /* an even id from a client */
    feed(s, syn, peer_syn(p, syn, 8, 0, "stdin"));
    out_expect(s, "\x80\x03\x00\x03\x00\x00\x00\x08\x00\x00\x00\x08\x00\x00\x00\x01", 16);
    /* a higher odd id still opens: the connection goes on */
    feed(s, syn, peer_syn(p, syn, 9, 0, "stdout"));
    out_expect(s, "", 0);
    assert_true(spdy_conn_stream_open(s, 9));
    /* data for an id never opened: INVALID_STREAM; for one that closed:
     * dropped quietly (frames may still be in flight) */
    feed(s, "\x00\x00\x00\x0b\x00\x00\x00\x01x", 9);
    out_expect(s, "\x80\x03\x00\x03\x00\x00\x00\x08\x00\x00\x00\x0b\x00\x00\x00\x02", 16);
    feed(s, "\x00\x00\x00\x05\x00\x00\x00\x01x", 9);
    out_expect(s, "", 0);
    /* data after the peer's FIN: STREAM_ALREADY_CLOSED */
    feed(s, "\x00\x00\x00\x09\x01\x00\x00\x00", 8);
    feed(s, "\x00\x00\x00\x09\x00\x00\x00\x01x", 9);
    out_expect(s, "\x80\x03\x00\x03\x00\x00\x00\x08\x00\x00\x00\x09\x00\x00\x00\x09", 16);
    assert_string_equal(l.text, "open 5 flags=0 n=1 type=error\n"
                                "reset 5 8 local\n"
                                "open 9 flags=0 n=1 type=stdout\n"
                                "fin 9\n"
                                "reset 9 9 local\n");
    /* stream 0: connection error, GOAWAY names the last good stream (9) */
    assert_int_equal(spdy_conn_feed(s, syn, peer_syn(p, syn, 0, 0, "x")), SPDY_ERR_PROTOCOL);
    out_expect(s, "\x80\x03\x00\x07\x00\x00\x00\x08\x00\x00\x00\x09\x00\x00\x00\x01", 16);
    spdy_conn_free(s);
    peer_free(p);
}

/* More than SPDY_STREAMS_MAX at once: REFUSED_STREAM; a closed one frees
 * its slot. Server push (client role) is refused too. */
static void test_conn_streams_max(void **state)
{
    struct log l;
    struct peer *p = peer_new();
    struct spdy_conn *s = conn_new(SPDY_ROLE_SERVER, SPDY_FLOW_ADVISORY, &l);
    uint8_t syn[512];
    uint32_t id = 1;
    for (int i = 0; i < SPDY_STREAMS_MAX; i++, id += 2)
        feed(s, syn, peer_syn(p, syn, id, 0, "stdin"));
    out_expect(s, "", 0);
    feed(s, syn, peer_syn(p, syn, id, 0, "stdin"));
    uint8_t rst[16];
    spdy_write_rst_stream(rst, sizeof(rst), id, SPDY_RST_REFUSED_STREAM);
    out_expect(s, (const char *)rst, 16);
    assert_int_equal(l.opens, SPDY_STREAMS_MAX);
    feed(s, "\x80\x03\x00\x03\x00\x00\x00\x08\x00\x00\x00\x01\x00\x00\x00\x05", 16);
    feed(s, syn, peer_syn(p, syn, id + 2, 0, "stdin"));
    out_expect(s, "", 0);
    assert_int_equal(l.opens, SPDY_STREAMS_MAX + 1);
    assert_non_null(strstr(l.text, "reset 1 5\n"));
    spdy_conn_free(s);
    peer_free(p);

    p = peer_new();
    struct spdy_conn *c = conn_new(SPDY_ROLE_CLIENT, SPDY_FLOW_ADVISORY, &l);
    feed(c, syn, peer_syn(p, syn, 2, SPDY_FLAG_UNIDIRECTIONAL, "push"));
    out_expect(c, "\x80\x03\x00\x03\x00\x00\x00\x08\x00\x00\x00\x02\x00\x00\x00\x03", 16);
    assert_int_equal(l.opens, 0);
    spdy_conn_free(c);
    peer_free(p);
}

/* ---- PING, GOAWAY, unknown types, versions, header errors, flood ---- */

static void test_conn_ping(void **state)
{
    struct log sl, cl;
    struct spdy_conn *s = conn_new(SPDY_ROLE_SERVER, SPDY_FLOW_ADVISORY, &sl);
    struct spdy_conn *c = conn_new(SPDY_ROLE_CLIENT, SPDY_FLOW_ADVISORY, &cl);
    /* the client's ping (odd) is echoed as it came */
    assert_int_equal(spdy_conn_ping(c), 1);
    assert_int_equal(spdy_conn_ping(c), 3);
    pump(c, s);
    out_expect(s,
               "\x80\x03\x00\x06\x00\x00\x00\x04\x00\x00\x00\x01"
               "\x80\x03\x00\x06\x00\x00\x00\x04\x00\x00\x00\x03",
               24);
    assert_string_equal(sl.text, "");
    /* the server's own (even) comes back as an ack */
    assert_int_equal(spdy_conn_ping(s), 2);
    pump(s, c);
    pump(c, s);
    assert_string_equal(sl.text, "pingack 2\n");
    assert_string_equal(cl.text, "");
    /* ping id 0 or flags: connection error */
    assert_int_equal(
        spdy_conn_feed(s, (const uint8_t *)"\x80\x03\x00\x06\x01\x00\x00\x04\x00\x00\x00\x05", 12),
        SPDY_ERR_FRAME);
    spdy_conn_free(c);
    spdy_conn_free(s);
}

static void test_conn_unknown_types_and_version(void **state)
{
    struct log l;
    struct spdy_conn *s = conn_new(SPDY_ROLE_SERVER, SPDY_FLOW_ADVISORY, &l);
    /* CREDENTIAL (10), type 0xffff and type 5 (NOOP of SPDY/2) are ignored,
     * kubectl's frames around them still work */
    feed(s, KUBECTL, 49);
    feed(s, "\x80\x03\x00\x0a\x00\x00\x00\x02zz", 10);
    feed(s, "\x80\x03\xff\xff\xff\x00\x00\x00", 8);
    feed(s, "\x80\x03\x00\x05\x00\x00\x00\x00", 8);
    assert_int_equal(spdy_conn_feed(s, KUBECTL + 49, sizeof(KUBECTL) - 49), SPDY_OK);
    assert_string_equal(l.text, KUBECTL_EVENTS);
    out_expect(s, "", 0);
    spdy_conn_free(s);

    /* SPDY/2 SYN_STREAM: the stream refused with UNSUPPORTED_VERSION, then
     * GOAWAY */
    s = conn_new(SPDY_ROLE_SERVER, SPDY_FLOW_ADVISORY, &l);
    assert_int_equal(
        spdy_conn_feed(
            s, (const uint8_t *)"\x80\x02\x00\x01\x00\x00\x00\x0a\x00\x00\x00\x01\0\0\0\0\0\0", 18),
        SPDY_ERR_VERSION);
    out_expect(s,
               "\x80\x03\x00\x03\x00\x00\x00\x08\x00\x00\x00\x01\x00\x00\x00\x04"
               "\x80\x03\x00\x07\x00\x00\x00\x08\x00\x00\x00\x00\x00\x00\x00\x01",
               32);
    assert_string_equal(l.text, "error -4 only SPDY version 3 is supported\n");
    spdy_conn_free(s);
    /* any other control frame of version 4 */
    s = conn_new(SPDY_ROLE_SERVER, SPDY_FLOW_ADVISORY, &l);
    assert_int_equal(
        spdy_conn_feed(s, (const uint8_t *)"\x80\x04\x00\x06\x00\x00\x00\x04\x00\x00\x00\x01", 12),
        SPDY_ERR_VERSION);
    spdy_conn_free(s);
}

static void test_conn_header_errors(void **state)
{
    struct log l;
    struct spdy_conn *s = conn_new(SPDY_ROLE_SERVER, SPDY_FLOW_ADVISORY, &l);
    /* garbage instead of a compressed block: the context is lost, GOAWAY */
    assert_int_equal(
        spdy_conn_feed(
            s, (const uint8_t *)"\x80\x03\x00\x01\x00\x00\x00\x0e\x00\x00\x00\x01\0\0\0\0\0\0abcd",
            22),
        SPDY_ERR_COMPRESSION);
    out_expect(s, "\x80\x03\x00\x07\x00\x00\x00\x08\x00\x00\x00\x00\x00\x00\x00\x01", 16);
    spdy_conn_free(s);
    /* an uppercase name: that stream is refused, the next one opens */
    struct peer *p = peer_new();
    s = conn_new(SPDY_ROLE_SERVER, SPDY_FLOW_ADVISORY, &l);
    struct spdy_nv bad = {"streamtype", 10, "stdin", 5};
    uint8_t plain[64], block[128], frame[256];
    int pn = spdy_headers_serialize(&bad, 1, plain, sizeof(plain));
    plain[8] = 'S';
    p->d.z.next_in = plain;
    p->d.z.avail_in = (uInt)pn;
    p->d.z.next_out = block;
    p->d.z.avail_out = sizeof(block);
    assert_int_equal(deflate(&p->d.z, Z_SYNC_FLUSH), Z_OK);
    int fn = spdy_write_syn_stream(frame, sizeof(frame), 0, 1, 0, 0, block,
                                   sizeof(block) - p->d.z.avail_out);
    assert_int_equal(spdy_conn_feed(s, frame, (size_t)fn), SPDY_OK);
    out_expect(s, "\x80\x03\x00\x03\x00\x00\x00\x08\x00\x00\x00\x01\x00\x00\x00\x01", 16);
    feed(s, frame, peer_syn(p, frame, 3, 0, "stdout"));
    assert_string_equal(l.text, "open 3 flags=0 n=1 type=stdout\n");
    /* a control frame bigger than SPDY_CONTROL_MAX */
    assert_int_equal(spdy_conn_feed(s, (const uint8_t *)"\x80\x03\x00\x01\x00\x01\x00\x00", 8),
                     SPDY_ERR_FRAME_SIZE);
    spdy_conn_free(s);
    peer_free(p);
}

/* A peer that pings and never reads our answers fills the output buffer:
 * the connection ends instead of growing. */
static void test_conn_flood(void **state)
{
    struct log l;
    struct spdy_conn *s = conn_new(SPDY_ROLE_SERVER, SPDY_FLOW_ADVISORY, &l);
    const uint8_t ping[] = {0x80, 0x03, 0x00, 0x06, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01};
    int rc = SPDY_OK;
    size_t sent = 0;
    while (rc == SPDY_OK && sent < 2 * SPDY_OUT_MAX) {
        rc = spdy_conn_feed(s, ping, sizeof(ping));
        sent += sizeof(ping);
    }
    assert_int_equal(rc, SPDY_ERR_FLOOD);
    assert_int_equal(sent, (SPDY_OUT_MAX / 12 + 1) * 12);
    const uint8_t *p;
    assert_true(spdy_conn_out(s, &p) <= SPDY_OUT_MAX);
    assert_string_equal(l.text, "error -9 the peer does not read the replies it asks for\n");
    spdy_conn_free(s);
}

/* Data sends stop SPDY_OUT_RESERVE short of a full buffer; a drain opens it
 * again. */
static void test_conn_out_backpressure(void **state)
{
    struct log sl, cl;
    struct spdy_conn *s = conn_new(SPDY_ROLE_SERVER, SPDY_FLOW_ADVISORY, &sl);
    struct spdy_conn *c = conn_new(SPDY_ROLE_CLIENT, SPDY_FLOW_ADVISORY, &cl);
    sl.echo_reply = true;
    cl.quiet_data = true;
    open_pair(c, s, 1);
    static uint8_t buf[SPDY_OUT_MAX];
    int k;
    size_t queued = 0;
    while ((k = spdy_conn_send_data(s, 1, buf, sizeof(buf), false)) > 0)
        queued += (size_t)k;
    assert_int_equal(k, 0);
    assert_int_equal(spdy_conn_send_window(s, 1), 0);
    const uint8_t *p;
    size_t n = spdy_conn_out(s, &p);
    assert_true(n <= SPDY_OUT_MAX - SPDY_OUT_RESERVE);
    assert_true(n > SPDY_OUT_MAX - SPDY_OUT_RESERVE - SPDY_HEAD_LEN - 1);
    /* a ping still gets its answer from the reserve */
    feed(s, "\x80\x03\x00\x06\x00\x00\x00\x04\x00\x00\x00\x07", 12);
    assert_int_equal(spdy_conn_out(s, &p), n + 12);
    spdy_conn_feed(c, p, 1000);
    spdy_conn_out_consume(s, 1000);
    assert_true(spdy_conn_send_window(s, 1) >= 900);
    /* the client reads it all back in order (the echo of its odd ping id
     * is, for it, an answer) */
    assert_int_equal(spdy_conn_send_data(s, 1, buf, 900, false), 900);
    pump(s, c);
    assert_string_equal(cl.text, "reply 1 flags=0 n=0 type=\npingack 7\n");
    assert_int_equal(cl.data_bytes, queued + 900);
    spdy_conn_free(c);
    spdy_conn_free(s);
}

/* What the caller may not do: data before its reply on the peer's stream,
 * two replies, unknown streams, a reset with status 0. */
static void test_conn_local_state(void **state)
{
    struct log l;
    struct peer *p = peer_new();
    struct spdy_conn *s = conn_new(SPDY_ROLE_SERVER, SPDY_FLOW_ADVISORY, &l);
    uint8_t syn[512];
    feed(s, syn, peer_syn(p, syn, 1, 0, "stdout"));
    assert_int_equal(spdy_conn_send_data(s, 1, (const uint8_t *)"x", 1, false), SPDY_ERR_STATE);
    assert_int_equal(spdy_conn_reply(s, 1, NULL, 0, false), SPDY_OK);
    assert_int_equal(spdy_conn_reply(s, 1, NULL, 0, false), SPDY_ERR_STATE);
    assert_int_equal(spdy_conn_reply(s, 3, NULL, 0, false), SPDY_ERR_STATE);
    assert_int_equal(spdy_conn_send_data(s, 3, (const uint8_t *)"x", 1, false), SPDY_ERR_STATE);
    assert_int_equal(spdy_conn_reset(s, 1, 0), SPDY_ERR_STATE);
    const struct spdy_nv upper = {"Streamtype", 10, "x", 1};
    assert_int_equal(spdy_conn_send_headers(s, 1, &upper, 1, false), SPDY_ERR_HEADERS);
    int v = 42;
    spdy_conn_stream_set_user(s, 1, &v);
    assert_ptr_equal(spdy_conn_stream_user(s, 1), &v);
    assert_int_equal(spdy_conn_send_data(s, 1, (const uint8_t *)"x", 1, true), 1);
    assert_int_equal(spdy_conn_send_data(s, 1, (const uint8_t *)"x", 1, false), SPDY_ERR_STATE);
    /* a unidirectional stream from the peer cannot be answered */
    feed(s, syn, peer_syn(p, syn, 3, SPDY_FLAG_UNIDIRECTIONAL, "stdin"));
    assert_int_equal(spdy_conn_reply(s, 3, NULL, 0, false), SPDY_ERR_STATE);
    assert_false(spdy_conn_stream_can_send(s, 3));
    spdy_conn_free(s);
    peer_free(p);
}

/* A SYN_REPLY or HEADERS from the peer (its own compression context). */
static size_t peer_block(struct peer *p, uint8_t *out, bool reply, uint32_t id, uint8_t flags)
{
    struct spdy_nv nv = {"x-note", 6, "v", 1};
    uint8_t block[256];
    int n = spdy_deflater_block(&p->d, &nv, 1, block, sizeof(block));
    assert_true(n > 0);
    int w = reply ? spdy_write_syn_reply(out, 512, flags, id, block, (size_t)n)
                  : spdy_write_headers(out, 512, flags, id, block, (size_t)n);
    assert_true(w > 0);
    return (size_t)w;
}

/* A peer that answers the wrong streams or at the wrong time costs only
 * that stream (RST with the spec's status), and a connection that failed
 * refuses every later call with SPDY_ERR_CLOSED. */
static void test_conn_peer_misorders_and_closed_calls(void **state)
{
    struct log l;
    struct peer *p = peer_new();
    struct spdy_conn *s = conn_new(SPDY_ROLE_SERVER, SPDY_FLOW_ADVISORY, &l);
    uint8_t f[512];
    feed(s, f, peer_syn(p, f, 1, 0, "stdout"));
    feed(s, f, peer_block(p, f, true, 1, 0)); /* a SYN_REPLY to its own stream */
    assert_non_null(strstr(l.text, "reset 1 1 local\n"));
    feed(s, f, peer_syn(p, f, 3, 0, "stdin"));
    assert_int_equal(spdy_conn_reply(s, 3, NULL, 0, false), SPDY_OK);
    feed(s, f, peer_block(p, f, false, 3, 0));
    feed(s, f, peer_block(p, f, false, 3, SPDY_FLAG_FIN));
    assert_non_null(
        strstr(l.text, "headers 3 flags=0 n=1 type=\nheaders 3 flags=1 n=1 type=\nfin 3\n"));
    assert_false(spdy_conn_stream_can_recv(s, 3));
    feed(s, f, peer_block(p, f, false, 3, 0)); /* after its FIN */
    assert_non_null(strstr(l.text, "reset 3 9 local\n"));
    feed(s, f, peer_block(p, f, false, 9, 0)); /* a stream never opened */
    assert_false(spdy_conn_stream_open(s, 9));
    assert_int_equal(spdy_conn_peer_window(s, 9), 0);
    assert_int_equal(spdy_conn_our_window(s, 9), 0);
    assert_true(spdy_conn_our_window(s, 0) > 0);
    assert_null(spdy_conn_stream_user(s, 9));
    spdy_conn_stream_set_user(s, 9, &l); /* no stream: nothing kept */
    spdy_conn_consume(s, 9, 10);
    spdy_conn_consume(s, 3, 0);
    assert_int_equal(spdy_conn_send_window(s, 9), 0);
    int ping = spdy_conn_ping(s);
    assert_true(ping > 0 && ping % 2 == 0); /* the server's pings are even */
    assert_int_equal(spdy_conn_goaway(s, SPDY_GOAWAY_OK), SPDY_OK);
    assert_int_equal(spdy_conn_goaway(s, SPDY_GOAWAY_OK), SPDY_OK); /* once */
    /* HEADERS for stream 0 breaks the connection */
    feed(s, f, peer_block(p, f, false, 0, 0));
    assert_non_null(strstr(l.text, "error "));
    const uint8_t x = 'x';
    assert_int_equal(spdy_conn_reply(s, 3, NULL, 0, false), SPDY_ERR_CLOSED);
    assert_int_equal(spdy_conn_send_headers(s, 3, NULL, 0, false), SPDY_ERR_CLOSED);
    assert_int_equal(spdy_conn_send_data(s, 3, &x, 1, false), SPDY_ERR_CLOSED);
    assert_int_equal(spdy_conn_reset(s, 3, SPDY_RST_CANCEL), SPDY_ERR_CLOSED);
    assert_int_equal(spdy_conn_ping(s), SPDY_ERR_CLOSED);
    assert_int_equal(spdy_conn_goaway(s, SPDY_GOAWAY_OK), SPDY_ERR_CLOSED);
    assert_int_equal(spdy_conn_open_stream(s, NULL, 0, 0), SPDY_ERR_CLOSED);
    assert_int_equal(spdy_conn_send_window(s, 3), 0);
    spdy_conn_consume(s, 3, 10);
    spdy_conn_free(s);
    peer_free(p);

    /* client role: HEADERS before the SYN_REPLY, a second SYN_REPLY */
    p = peer_new();
    struct spdy_conn *c = conn_new(SPDY_ROLE_CLIENT, SPDY_FLOW_ADVISORY, &l);
    struct spdy_nv nv = {"streamtype", 10, "stdin", 5};
    assert_int_equal(spdy_conn_open_stream(c, &nv, 1, 0), 1);
    assert_int_equal(spdy_conn_open_stream(c, &nv, 1, 0), 3);
    feed(c, f, peer_block(p, f, false, 1, 0));
    assert_non_null(strstr(l.text, "reset 1 1 local\n"));
    feed(c, f, peer_block(p, f, true, 3, 0));
    feed(c, f, peer_block(p, f, true, 3, 0));
    assert_non_null(strstr(l.text, "reply 3 flags=0 n=1 type=\nreset 3 8 local\n"));
    spdy_conn_free(c);
    peer_free(p);
}

/* The peer's GOAWAY names the last stream it took: ours above it were never
 * processed and are gone (REFUSED_STREAM), those at or below it go on. */
static void test_conn_goaway_refuses_later_streams(void **state)
{
    struct log l;
    struct spdy_conn *c = conn_new(SPDY_ROLE_CLIENT, SPDY_FLOW_ADVISORY, &l);
    for (int i = 0; i < 3; i++) {
        struct spdy_nv nv = {"streamtype", 10, "stdin", 5};
        assert_int_equal(spdy_conn_open_stream(c, &nv, 1, 0), 2 * i + 1);
    }
    spdy_conn_out_consume(c, SPDY_OUT_MAX);
    assert_int_equal(spdy_conn_feed(c,
                                    (const uint8_t *)"\x80\x03\x00\x07\x00\x00\x00\x08"
                                                     "\x00\x00\x00\x01\x00\x00\x00\x00",
                                    16),
                     SPDY_OK);
    assert_string_equal(l.text, "goaway 1 0\nreset 3 3\nreset 5 3\n");
    assert_true(spdy_conn_stream_open(c, 1));
    assert_false(spdy_conn_is_done(c));
    assert_int_equal(spdy_conn_open_stream(c, NULL, 0, 0), SPDY_ERR_STATE);
    assert_int_equal(spdy_conn_reset(c, 1, SPDY_RST_CANCEL), SPDY_OK);
    assert_true(spdy_conn_is_done(c));
    spdy_conn_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conn_kubectl_exec),
        cmocka_unit_test(test_conn_chunking),
        cmocka_unit_test(test_conn_exec_both_roles),
        cmocka_unit_test(test_conn_flow_window_exhaustion),
        cmocka_unit_test(test_conn_flow_overflow),
        cmocka_unit_test(test_conn_flow_peer_overrun),
        cmocka_unit_test(test_conn_flow_stream_overrun),
        cmocka_unit_test(test_conn_settings_window),
        cmocka_unit_test(test_conn_stream_ids),
        cmocka_unit_test(test_conn_streams_max),
        cmocka_unit_test(test_conn_ping),
        cmocka_unit_test(test_conn_unknown_types_and_version),
        cmocka_unit_test(test_conn_header_errors),
        cmocka_unit_test(test_conn_flood),
        cmocka_unit_test(test_conn_out_backpressure),
        cmocka_unit_test(test_conn_local_state),
        cmocka_unit_test(test_conn_goaway_refuses_later_streams),
        cmocka_unit_test(test_conn_peer_misorders_and_closed_calls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
