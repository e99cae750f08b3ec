/* test_server_oom.c - the server out of memory, each allocation of podterm's
 * own refused in turn (unit_oom.h): starting it (plain HTTP, and HTTPS with
 * the TLS terminator) is a refusal with a message, never a half-built
 * server; serving one request through the front door (listener, admission,
 * head rewrite, lws adoption, the health handler) ends in the answer, in a
 * Status naming the failure, or in the connection closed, and never in a
 * crash, a hang or a leak (LeakSanitizer at exit). Every clean run serves
 * the request byte-exact. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
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

#include "admit/admit.h"
#include "server/server.h"
#include "net_tls_fixture.h"
#include "unit_oom.h"
#include "unit_tmpdir.h"
#include "fixtures/loop_client.h"

#define ERR_CAP 512
#define ANSWER_MAX 4096
#define REVIEW                                                                                     \
    "{\"kind\":\"SelfSubjectAccessReview\",\"apiVersion\":\"authorization.k8s.io/v1\",\"spec\":"   \
    "{\"resourceAttributes\":{\"namespace\":\"default\",\"verb\":\"get\",\"resource\":\"pods\"}}}"

struct sstep {
    uv_loop_t *loop;
    struct admit *admit;
    bool tls;
    bool request;       /* send one request, or only start and stop */
    const char *send;   /* the request */
    const char *status; /* the status line of its answer on a clean run */
    char cert[UNIT_TMPDIR_PATH_MAX], key[UNIT_TMPDIR_PATH_MAX];
    long runs_failed;
    int answered, refused, closed;
};

static void server_step(void *ctx)
{
    struct sstep *st = ctx;
    struct server_opts opts = {
        .listen_host = "127.0.0.1",
        .admit = st->admit,
        .log_level = 0,
        .tls_cert_file = st->tls ? st->cert : NULL,
        .tls_key_file = st->tls ? st->key : NULL,
    };
    char err[ERR_CAP] = "";
    struct server *server = server_new(st->loop, &opts, err, sizeof(err));
    if (!server) {
        assert_true(unit_oom_hit());
        assert_string_equal(err, "out of memory");
        st->runs_failed++;
        return;
    }
    char answer[ANSWER_MAX] = "";
    if (st->request) {
        int fd = fx_connect_url(server_url(server));
        assert_int_equal(send(fd, st->send, strlen(st->send), MSG_NOSIGNAL),
                         (ssize_t)strlen(st->send));
        fx_read_answer(st->loop, fd, answer, sizeof(answer));
        close(fd);
    }
    server_shutdown(server);
    for (int i = 0; i < 50; i++)
        uv_run(st->loop, UV_RUN_NOWAIT);
    server_free(server);
    for (int i = 0; i < 10; i++)
        uv_run(st->loop, UV_RUN_NOWAIT);
    bool answered = st->request && strncmp(answer, st->status, strlen(st->status)) == 0;
    const char *body = strstr(answer, "\r\n\r\n");
    if (unit_oom_hit()) {
        st->runs_failed++;
        if (!st->request)
            fail_msg("a server started although an allocation of its start failed");
        if (answer[0] == '\0') {
            st->closed++; /* hung up: the client is told by the end of its connection */
        } else if (answered) {
            st->answered++; /* the failure was in something the answer did not need */
        } else {
            st->refused++;
            if ((strncmp(answer, "HTTP/1.1 5", 10) != 0 && strncmp(answer, "HTTP/1.0 5", 10) != 0))
                fail_msg("run %ld answered: %s", unit_oom_fail_at, answer);
            assert_non_null(body);
            assert_non_null(strstr(body, "\"kind\":\"Status\""));
        }
        return;
    }
    if (st->request) {
        if (!answered)
            fail_msg("clean run answered: %.80s", answer);
        assert_non_null(body);
    }
}

static void test_start_out_of_memory(void **state)
{
    (void)state;
    struct sstep *st = *state;
    st->request = false;
    st->tls = false;
    st->runs_failed = 0;
    long n = unit_oom_sweep(server_step, st);
    assert_true(n >= 2); /* the server, the listener */
    assert_int_equal(st->runs_failed, n);
    st->tls = true;
    st->runs_failed = 0;
    n = unit_oom_sweep(server_step, st);
    assert_true(n >= 4); /* the server, the listener, the terminator, its paths */
    assert_int_equal(st->runs_failed, n);
}

static void sweep_request(struct sstep *st, const char *send, const char *status)
{
    st->request = true;
    st->tls = false;
    st->send = send;
    st->status = status;
    st->runs_failed = st->answered = st->refused = st->closed = 0;
    long n = unit_oom_sweep(server_step, st);
    assert_true(n > 2);
    assert_int_equal(st->runs_failed, n);
    assert_true(st->refused + st->closed > 0);
}

static void test_health_request_out_of_memory(void **state)
{
    sweep_request(*state, "GET /livez HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", "HTTP/1.1 200 OK\r\n");
}

/* The page: a body larger than a Status, so its response buffer is allocated. */
static void test_page_out_of_memory(void **state)
{
    sweep_request(*state, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", "HTTP/1.1 200 OK\r\n");
}

static void test_review_out_of_memory(void **state)
{
    sweep_request(*state,
                  "POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews HTTP/1.1\r\n"
                  "Host: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 158\r\n"
                  "\r\n" REVIEW,
                  "HTTP/1.1 201 Created\r\n");
}

static void test_refused_request_out_of_memory(void **state)
{
    sweep_request(*state,
                  "GET /api/v1/namespaces/default/pods HTTP/1.1\r\nHost: elsewhere.example\r\n\r\n",
                  "HTTP/1.1 403 Forbidden\r\n");
}

static int group_setup(void **state)
{
    if (unit_tmpdir_setup(state) != 0)
        return -1;
    static struct sstep st;
    static uv_loop_t loop;
    uv_loop_init(&loop);
    st.loop = &loop;
    struct admit_opts ao = {0};
    char err[ERR_CAP] = "";
    st.admit = admit_new(&loop, &ao, err, sizeof(err));
    if (!st.admit) {
        fprintf(stderr, "admit_new: %s\n", err);
        return -1;
    }
    struct net_tls_id id = net_tls_id_make("localhost");
    snprintf(st.cert, sizeof(st.cert), "%s/cert.pem", unit_dir);
    snprintf(st.key, sizeof(st.key), "%s/key.pem", unit_dir);
    net_tls_id_write(st.cert, id.cert, NULL);
    net_tls_id_write(st.key, NULL, id.key);
    net_tls_id_free(&id);
    *state = &st;
    return 0;
}

static int group_teardown(void **state)
{
    struct sstep *st = *state;
    admit_close(st->admit, NULL, NULL);
    uv_run(st->loop, UV_RUN_DEFAULT);
    admit_free(st->admit);
    uv_loop_close(st->loop);
    return unit_tmpdir_teardown(state);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_start_out_of_memory),
        cmocka_unit_test(test_health_request_out_of_memory),
        cmocka_unit_test(test_page_out_of_memory),
        cmocka_unit_test(test_review_out_of_memory),
        cmocka_unit_test(test_refused_request_out_of_memory),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
