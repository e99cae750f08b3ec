/* test_backend_kube_oom.c - the API server client out of memory: creating
 * the client (and its token source), connecting (the connect and its
 * socket) and starting an exec credential plugin, each allocation refused in
 * turn. A refusal is NULL or an error naming out of memory, the client
 * still usable or freeable; the clean run connects and gets the token. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "unit_oom.h"
#include "unit_tmpdir.h"

#include "backend/kube/kube_client.h"

#define WAIT_MS 10000

struct oom_case {
    uv_loop_t loop;
    int port;
    char plugin[UNIT_TMPDIR_PATH_MAX];
};

/* The test's own allocations bypass the countdown: only podterm's count. */
static char *real_dup(const char *s)
{
    return __real_strdup(s);
}

static struct kube_target *oom_target(const struct oom_case *oc)
{
    struct kube_target *t = __real_calloc(1, sizeof(*t));
    snprintf(t->host, sizeof(t->host), "127.0.0.1");
    t->port = oc->port;
    t->plain = true;
    t->source = real_dup("src");
    t->exec = __real_calloc(1, sizeof(*t->exec));
    t->exec->command = real_dup(oc->plugin);
    t->exec->dir = real_dup("");
    t->exec->env[0].name = real_dup("A");
    t->exec->env[0].value = real_dup("b");
    t->exec->env_len = 1;
    return t;
}

struct outcome {
    bool done;
    bool sock;
    char err[KUBE_ERR_MAX + TLS_SOCK_ERR_MAX];
};

static void on_connect(void *user, struct tls_sock *sock, const char *err)
{
    struct outcome *o = user;
    o->done = true;
    o->sock = sock != NULL;
    if (sock)
        tls_sock_close(sock);
    snprintf(o->err, sizeof(o->err), "%s", err ? err : "");
}

struct waiter {
    struct kube_creds_req req;
    bool done;
    char token[KUBE_TOKEN_MAX + 1];
    char err[KUBE_ERR_MAX];
};

static void on_token(struct kube_creds_req *req, const char *token, const char *err)
{
    struct waiter *w = (struct waiter *)req;
    w->done = true;
    snprintf(w->token, sizeof(w->token), "%s", token ? token : "");
    snprintf(w->err, sizeof(w->err), "%s", err ? err : "");
}

static void run_until(uv_loop_t *loop, const bool *flag)
{
    uint64_t start = uv_hrtime();
    while (!*flag) {
        uv_run(loop, UV_RUN_NOWAIT);
        if ((uv_hrtime() - start) / 1000000 > WAIT_MS)
            fail_msg("timed out");
        usleep(1000);
    }
}

static void kube_step(void *ctx)
{
    struct oom_case *oc = ctx;
    char err[KUBE_ERR_MAX] = "";
    struct kube_client *c = kube_client_new(&oc->loop, oom_target(oc), true, err, sizeof(err));
    if (!c) {
        assert_true(unit_oom_hit());
        assert_string_equal(err, "out of memory");
        return;
    }
    struct outcome o = {0};
    struct kube_connect *kc = kube_client_connect(c, on_connect, &o);
    if (!kc) {
        assert_true(unit_oom_hit());
    } else {
        run_until(&oc->loop, &o.done);
        if (!o.sock) {
            assert_true(unit_oom_hit());
            char want[KUBE_ERR_MAX];
            snprintf(want, sizeof(want),
                     "cannot reach the API server http://127.0.0.1:%d (src): out of memory",
                     oc->port);
            assert_string_equal(o.err, want);
        }
    }
    if (unit_oom_hit()) { /* this run's refusal is checked: skip the plugin (slow to spawn) */
        kube_client_free(c);
        uv_run(&oc->loop, UV_RUN_DEFAULT);
        return;
    }
    struct waiter w = {.req.done = on_token};
    char out[KUBE_TOKEN_MAX + 1];
    int rc = kube_creds_get(c->creds, &w.req, out, sizeof(out));
    if (rc < 0) {
        assert_true(unit_oom_hit());
        char want[KUBE_ERR_MAX + UNIT_TMPDIR_PATH_MAX];
        snprintf(want, sizeof(want),
                 "cannot run the exec credential plugin %s: Cannot allocate memory", oc->plugin);
        assert_string_equal(out, want);
    } else {
        assert_int_equal(rc, 1);
        run_until(&oc->loop, &w.done);
        assert_string_equal(w.err, "");
        assert_string_equal(w.token, "tok-b");
    }
    kube_client_free(c);
    uv_run(&oc->loop, UV_RUN_DEFAULT);
}

/* A plain http:// server (kubectl proxy): the listener's backlog completes
 * the connect without TLS, so every allocation after it is reached too. */
static void test_client_out_of_memory(void **state)
{
    (void)state;
    struct oom_case oc = {0};
    signal(SIGPIPE, SIG_IGN);
    assert_int_equal(uv_loop_init(&oc.loop), 0);
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(lfd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(lfd, 64), 0);
    socklen_t al = sizeof(a);
    getsockname(lfd, (struct sockaddr *)&a, &al);
    oc.port = ntohs(a.sin_port);
    const char *p = unit_tmpdir_write(
        "plugin.sh",
        "#!/bin/sh\necho '{\"kind\":\"ExecCredential\",\"status\":{\"token\":\"tok-'$A'\"}}'\n");
    assert_int_equal(chmod(p, 0755), 0);
    snprintf(oc.plugin, sizeof(oc.plugin), "%s", p);
    long allocations = unit_oom_sweep(kube_step, &oc);
    assert_true(allocations >= 5); /* client, creds, connect, socket, plugin run, env */
    close(lfd);
    assert_int_equal(uv_loop_close(&oc.loop), 0);
}

/* A TLS client: its context is OpenSSL's (not counted), the client and its
 * token source are ours. */
static void tls_step(void *ctx)
{
    (void)ctx;
    uv_loop_t *loop = uv_default_loop();
    struct kube_target *t = __real_calloc(1, sizeof(*t));
    snprintf(t->host, sizeof(t->host), "127.0.0.1");
    t->port = 6443;
    t->insecure = true;
    t->source = real_dup("src");
    char err[KUBE_ERR_MAX] = "";
    struct kube_client *c = kube_client_new(loop, t, true, err, sizeof(err));
    if (unit_oom_hit()) {
        assert_null(c);
        assert_string_equal(err, "out of memory");
        return;
    }
    assert_non_null(c);
    assert_non_null(c->ssl_ctx);
    assert_string_equal(c->scheme, "https://");
    kube_client_free(c);
}

static void test_tls_client_out_of_memory(void **state)
{
    (void)state;
    assert_int_equal(unit_oom_sweep(tls_step, NULL), 2); /* the client, its token source */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_client_out_of_memory),
        cmocka_unit_test(test_tls_client_out_of_memory),
    };
    return cmocka_run_group_tests(tests, unit_tmpdir_setup, unit_tmpdir_teardown);
}
