/* test_server_gateway_oom.c - gateway mode out of memory, each allocation of
 * podterm's own refused in turn (unit_oom.h), with a real upstream (a thread
 * answering on 127.0.0.1 like an API server): the gateway's start is a
 * refusal with a message, and a REST GET relayed through the front door and
 * the gateway, or a path outside the allowlist, ends in its answer, a 5xx
 * Status, or the connection closed; never a crash, a hang, a leak or a wrong
 * answer (a 400 for a head the gateway could not allocate was one). Every
 * clean run answers byte-exact. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "admit/admit.h"
#include "gateway/gateway.h"
#include "server/server.h"
#include "unit_oom.h"
#include "unit_tmpdir.h"
#include "fixtures/loop_client.h"

#define ERR_CAP 512
#define ANSWER_MAX 8192
#define HEAD_MAX 16384
#define PODS "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{},\"items\":[]}"

/* ---- the upstream: one answer per connection, in a thread ---- */

struct upstream {
    int fd;
    int port;
    pthread_t thread;
    int requests;
};

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define WS_KEY_LEN 24

/* The subprotocol an API server picks: v5, unless the command asks the
 * fake for an older one (command=proto-v4, proto-base) or none (proto-none). */
static const char *upstream_protocol(const char *head)
{
    if (strstr(head, "command=proto-v4"))
        return "Sec-WebSocket-Protocol: v4.channel.k8s.io\r\n";
    if (strstr(head, "command=proto-base"))
        return "Sec-WebSocket-Protocol: channel.k8s.io\r\n";
    if (strstr(head, "command=proto-none"))
        return "";
    return "Sec-WebSocket-Protocol: v5.channel.k8s.io\r\n";
}

static void upstream_switch(int c, const char *key, const char *protocol)
{
    char in[WS_KEY_LEN + sizeof(WS_GUID)];
    snprintf(in, sizeof(in), "%.*s%s", WS_KEY_LEN, key, WS_GUID);
    unsigned char sha[SHA_DIGEST_LENGTH];
    SHA1((const unsigned char *)in, strlen(in), sha);
    char accept[64];
    EVP_EncodeBlock((unsigned char *)accept, sha, sizeof(sha));
    char resp[512];
    int rl = snprintf(resp, sizeof(resp),
                      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                      "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n%s\r\n",
                      accept, protocol);
    (void)!write(c, resp, (size_t)rl);
}

static void *upstream_run(void *arg)
{
    struct upstream *u = arg;
    for (;;) {
        int c = accept(u->fd, NULL, NULL);
        if (c < 0)
            return NULL; /* the listening socket was shut down */
        char head[HEAD_MAX];
        size_t len = 0;
        ssize_t n;
        while (len < sizeof(head) - 1 && (n = read(c, head + len, sizeof(head) - 1 - len)) > 0) {
            len += (size_t)n;
            head[len] = '\0';
            if (strstr(head, "\r\n\r\n"))
                break;
        }
        __atomic_add_fetch(&u->requests, 1, __ATOMIC_SEQ_CST);
        const char *key = strcasestr(head, "\r\nSec-WebSocket-Key: ");
        if (key) { /* an exec: switch, then hold the stream until podterm ends it */
            upstream_switch(c, key + strlen("\r\nSec-WebSocket-Key: "), upstream_protocol(head));
            char sink[4096];
            while (read(c, sink, sizeof(sink)) > 0)
                ;
            close(c);
            continue;
        }
        char resp[512];
        int rl = snprintf(resp, sizeof(resp),
                          "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                          "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                          strlen(PODS), PODS);
        (void)!write(c, resp, (size_t)rl);
        close(c);
    }
}

static void upstream_start(struct upstream *u)
{
    u->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(u->fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(u->fd, 64), 0);
    socklen_t alen = sizeof(a);
    getsockname(u->fd, (struct sockaddr *)&a, &alen);
    u->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&u->thread, NULL, upstream_run, u), 0);
}

static void upstream_stop(struct upstream *u)
{
    shutdown(u->fd, SHUT_RDWR);
    pthread_join(u->thread, NULL);
    close(u->fd);
}

/* ---- the sweep ---- */

struct gstep {
    uv_loop_t *loop;
    struct admit *admit;
    char kubeconfig[UNIT_TMPDIR_PATH_MAX];
    const char *send;   /* NULL: only start and stop the gateway */
    const char *status; /* the status line of the clean answer */
    const char *body;   /* and its body, exact */
    long runs_failed;
    int answered, refused, closed;
};

static void gateway_step(void *ctx)
{
    struct gstep *st = ctx;
    char err[ERR_CAP] = "";
    struct gateway_opts go = {.kubeconfig = st->kubeconfig};
    struct gateway *gw = gateway_new(st->loop, &go, err, sizeof(err));
    if (!gw) {
        assert_true(unit_oom_hit());
        if (err[0] == '\0')
            fail_msg("gateway_new failed without a message");
        st->runs_failed++;
        return;
    }
    struct server_opts opts = {
        .listen_host = "127.0.0.1",
        .admit = st->admit,
        .gateway = gw,
        .backend = gateway_backend(gw),
    };
    struct server *server = server_new(st->loop, &opts, err, sizeof(err));
    if (!server) {
        assert_true(unit_oom_hit());
        assert_string_equal(err, "out of memory");
        st->runs_failed++;
        gateway_free(gw);
        for (int i = 0; i < 20; i++)
            uv_run(st->loop, UV_RUN_NOWAIT);
        return;
    }
    char answer[ANSWER_MAX] = "";
    if (st->send) {
        int fd = fx_connect_url(server_url(server));
        assert_int_equal(send(fd, st->send, strlen(st->send), MSG_NOSIGNAL),
                         (ssize_t)strlen(st->send));
        fx_read_answer(st->loop, fd, answer, sizeof(answer));
        close(fd);
    }
    server_shutdown(server);
    gateway_free(gw);
    for (int i = 0; i < 50; i++)
        uv_run(st->loop, UV_RUN_NOWAIT);
    server_free(server);
    for (int i = 0; i < 10; i++)
        uv_run(st->loop, UV_RUN_NOWAIT);
    const char *body = strstr(answer, "\r\n\r\n");
    bool answered = st->send && strncmp(answer, st->status, strlen(st->status)) == 0 && body &&
                    (!st->body || strcmp(body + 4, st->body) == 0);
    if (unit_oom_hit()) {
        st->runs_failed++;
        if (answer[0] == '\0')
            st->closed++;
        else if (answered)
            st->answered++;
        else if ((strncmp(answer, "HTTP/1.1 5", 10) == 0 ||
                  strncmp(answer, "HTTP/1.0 5", 10) == 0) &&
                 body && strstr(body, "\"kind\":\"Status\""))
            st->refused++;
        else
            fail_msg("run %ld answered: %s", unit_oom_fail_at, answer);
        return;
    }
    if (st->send && !answered)
        fail_msg("clean run answered: %s", answer);
}

static void sweep(struct gstep *st, const char *send, const char *status, const char *body)
{
    st->send = send;
    st->status = status;
    st->body = body;
    st->runs_failed = st->answered = st->refused = st->closed = 0;
    long n = unit_oom_sweep(gateway_step, st);
    assert_true(n > 3);
    assert_int_equal(st->runs_failed, n);
}

static struct gstep g_st;    /* the test program's: its loop, admit and kubeconfig */
static struct upstream g_up; /* the fake API server */

static void test_relayed_get_out_of_memory(void **state)
{
    (void)state;
    struct gstep *st = &g_st;
    sweep(st, "GET /api/v1/namespaces/default/pods HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
          "HTTP/1.1 200 OK\r\n", PODS);
    assert_true(st->refused + st->closed > 0);
}

static void test_path_outside_the_allowlist_out_of_memory(void **state)
{
    (void)state;
    sweep(&g_st, "GET /api/v1/nodes HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
          "HTTP/1.1 404 Not Found\r\n",
          "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
          "\"message\":\"the server could not find the requested resource\","
          "\"reason\":\"NotFound\",\"code\":404}\n");
}

/* An exec upgrade: opened upstream first, then handed back to lws for the
 * client's 101 and bridged by a session. */
static void test_exec_upgrade_out_of_memory(void **state)
{
    (void)state;
    sweep(&g_st,
          "GET /api/v1/namespaces/default/pods/p/exec?command=sh&stdin=1&stdout=1 HTTP/1.1\r\n"
          "Host: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
          "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
          "Sec-WebSocket-Protocol: v5.channel.k8s.io\r\n\r\n",
          "HTTP/1.1 101 Switching Protocols\r\n", NULL);
}

/* kubectl before 1.30: SPDY/3.1 from the client, a WebSocket upstream. */
static void test_spdy_exec_out_of_memory(void **state)
{
    (void)state;
    sweep(&g_st,
          "POST /api/v1/namespaces/default/pods/p/exec?command=sh&stdout=1 HTTP/1.1\r\n"
          "Host: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n"
          "X-Stream-Protocol-Version: v4.channel.k8s.io\r\nContent-Length: 0\r\n\r\n",
          "HTTP/1.1 101 Switching Protocols\r\n", NULL);
}

/* A watch: relayed for as long as the upstream streams (this one ends). */
static void test_watch_out_of_memory(void **state)
{
    (void)state;
    sweep(&g_st, "GET /api/v1/namespaces/default/pods?watch=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
          "HTTP/1.1 200 OK\r\n", PODS);
}

/* Whichever subprotocol the API server picks, the client gets the v5 it asked for. */
static void test_exec_with_each_upstream_subprotocol(void **state)
{
    (void)state;
    static const char *const commands[] = {"proto-v4", "proto-base", "proto-none"};
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        char req[1024];
        snprintf(req, sizeof(req),
                 "GET /api/v1/namespaces/default/pods/p/exec?command=%s&stdout=1 HTTP/1.1\r\n"
                 "Host: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                 "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                 "Sec-WebSocket-Protocol: v5.channel.k8s.io\r\n\r\n",
                 commands[i]);
        g_st.send = req;
        g_st.status = "HTTP/1.1 101 Switching Protocols\r\n";
        g_st.body = NULL;
        unit_oom_arm(-1);
        gateway_step(&g_st); /* asserts the clean answer */
    }
}

static int group_setup(void **state)
{
    if (unit_tmpdir_setup(state) != 0)
        return -1;
    upstream_start(&g_up);
    static uv_loop_t loop;
    uv_loop_init(&loop);
    g_st.loop = &loop;
    snprintf(g_st.kubeconfig, sizeof(g_st.kubeconfig), "%s/kubeconfig", unit_dir);
    FILE *f = fopen(g_st.kubeconfig, "w");
    fprintf(f,
            "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
            "contexts: [{name: c, context: {cluster: k, user: u}}]\n"
            "clusters: [{name: k, cluster: {server: \"http://127.0.0.1:%d\"}}]\n"
            "users: [{name: u, user: {token: fake-upstream-token}}]\n",
            g_up.port);
    fclose(f);
    struct admit_opts ao = {.gateway = true};
    char err[ERR_CAP] = "";
    g_st.admit = admit_new(&loop, &ao, err, sizeof(err));
    if (!g_st.admit) {
        fprintf(stderr, "admit_new: %s\n", err);
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    upstream_stop(&g_up);
    admit_close(g_st.admit, NULL, NULL);
    uv_run(g_st.loop, UV_RUN_DEFAULT);
    admit_free(g_st.admit);
    uv_loop_close(g_st.loop);
    return unit_tmpdir_teardown(state);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_relayed_get_out_of_memory),
        cmocka_unit_test(test_path_outside_the_allowlist_out_of_memory),
        cmocka_unit_test(test_exec_upgrade_out_of_memory),
        cmocka_unit_test(test_spdy_exec_out_of_memory),
        cmocka_unit_test(test_exec_with_each_upstream_subprotocol),
        cmocka_unit_test(test_watch_out_of_memory),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
