/* test_server_lifecycle.c - the server's start, drain and shutdown calls in
 * the orders main.c may make them: the URL names the port really bound, a
 * drain with no session open ends at once but turns readiness false (a probe
 * still answered sees 500), a second drain or one after the shutdown does
 * nothing, the shutdown is idempotent and server_free takes NULL. */
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
#include "fixtures/loop_client.h"

#define ERR_CAP 512
#define ANSWER_MAX 4096

static int drained_calls;

static void on_drained(void *user)
{
    (void)user;
    drained_calls++;
}

/* One request on a fresh connection; the answer's status line. */
static void request(uv_loop_t *loop, const struct server *server, const char *path, char *line,
                    size_t cap)
{
    int fd = fx_connect_url(server_url(server));
    char req[256];
    int n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", path);
    assert_int_equal(send(fd, req, (size_t)n, MSG_NOSIGNAL), n);
    char answer[ANSWER_MAX];
    size_t len = fx_read_answer(loop, fd, answer, sizeof(answer));
    close(fd);
    char *eol = strstr(answer, "\r\n");
    snprintf(line, cap, "%.*s", eol ? (int)(eol - answer) : (int)len, answer);
}

static void test_drain_without_sessions_and_shutdown_orders(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct admit_opts ao = {0};
    char err[ERR_CAP] = "";
    struct admit *admit = admit_new(&loop, &ao, err, sizeof(err));
    assert_non_null(admit);
    struct server_opts opts = {.listen_host = "127.0.0.1", .admit = admit};
    struct server *server = server_new(&loop, &opts, err, sizeof(err));
    assert_non_null(server);
    int port = atoi(strrchr(server_url(server), ':') + 1);
    char want[64];
    snprintf(want, sizeof(want), "http://127.0.0.1:%d/", port);
    assert_true(port > 0);
    assert_string_equal(server_url(server), want);
    assert_true(server_loop_responsive(server));

    char line[128];
    request(&loop, server, "/readyz", line, sizeof(line));
    assert_string_equal(line, "HTTP/1.1 200 OK");
    /* No session: nothing to wait for (false: shut down now), but ready no more. */
    assert_false(server_drain(server, 1000, on_drained, NULL));
    request(&loop, server, "/readyz", line, sizeof(line));
    assert_string_equal(line, "HTTP/1.1 500 Internal Server Error");
    assert_false(server_drain(server, 1000, on_drained, NULL)); /* draining already */
    server_shutdown(server);
    server_shutdown(server);                                    /* twice: nothing */
    assert_false(server_drain(server, 1000, on_drained, NULL)); /* shut down */
    for (int i = 0; i < 50; i++)
        uv_run(&loop, UV_RUN_NOWAIT);
    server_free(server);
    server_free(NULL);
    assert_int_equal(drained_calls, 0); /* never promised, never called */
    admit_close(admit, NULL, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    admit_free(admit);
    assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_drain_without_sessions_and_shutdown_orders),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
