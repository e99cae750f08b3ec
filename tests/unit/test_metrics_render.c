/* test_metrics_render.c - the registry's text exposition byte for byte:
 * families with HELP and TYPE, cumulative histogram buckets, label sets,
 * series of the code-labelled counters appearing on their first count, and
 * the bound of the caller's buffer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "metrics/metrics.h"

static const char *after(const char *text, const char *family)
{
    const char *p = strstr(text, family);
    assert_non_null(p);
    return p;
}

/* The lines of text from the family's HELP up to the next HELP. */
static void assert_family(const char *text, const char *help_line, const char *want)
{
    const char *p = after(text, help_line);
    const char *next = strstr(p + 1, "# HELP ");
    size_t n = next ? (size_t)(next - p) : strlen(p);
    char got[2048];
    assert_true(n < sizeof(got));
    memcpy(got, p, n);
    got[n] = '\0';
    assert_string_equal(got, want);
}

static void test_sessions(void **state)
{
    (void)state;
    struct metrics m;
    metrics_init(&m, false);
    metrics_session_start(&m, METRICS_KIND_EXEC, true, 0.003);
    metrics_session_start(&m, METRICS_KIND_EXEC, false, 0.02);
    metrics_session_start(&m, METRICS_KIND_ATTACH, true, 7);
    metrics_session_start(&m, METRICS_KIND_ATTACH, false, 0.001); /* still open */
    metrics_session_end(&m, METRICS_KIND_EXEC, false, "exit", 0.5);
    metrics_session_end(&m, METRICS_KIND_EXEC, true, "client-closed", 90);
    metrics_session_end(&m, METRICS_KIND_ATTACH, true, "no-such-reason", 100000);
    metrics_session_bytes(&m, METRICS_DIR_STDOUT, 6);
    metrics_session_bytes(&m, METRICS_DIR_STDOUT, 4);
    metrics_session_bytes(&m, METRICS_DIR_STDERR, 3);
    metrics_session_bytes(&m, METRICS_DIR_STDIN, 1);
    metrics_session_bytes(NULL, METRICS_DIR_STDIN, 1); /* not counted: no registry */
    char out[METRICS_TEXT_MAX];
    struct metrics_scrape s = {.audit_dropped = 3};
    assert_true(metrics_render(&m, &s, out, sizeof(out)) > 0);
    assert_family(out, "# HELP podterm_sessions_active ",
                  "# HELP podterm_sessions_active Exec and attach sessions open now.\n"
                  "# TYPE podterm_sessions_active gauge\n"
                  "podterm_sessions_active{kind=\"exec\",tty=\"false\",mode=\"local\"} 0\n"
                  "podterm_sessions_active{kind=\"exec\",tty=\"true\",mode=\"local\"} 0\n"
                  "podterm_sessions_active{kind=\"attach\",tty=\"false\",mode=\"local\"} 1\n"
                  "podterm_sessions_active{kind=\"attach\",tty=\"true\",mode=\"local\"} 0\n");
    assert_family(out, "# HELP podterm_sessions_total ",
                  "# HELP podterm_sessions_total Exec and attach sessions ended, by end reason.\n"
                  "# TYPE podterm_sessions_total counter\n"
                  "podterm_sessions_total{result=\"exit\"} 1\n"
                  "podterm_sessions_total{result=\"error\"} 1\n"
                  "podterm_sessions_total{result=\"client-closed\"} 1\n"
                  "podterm_sessions_total{result=\"shutdown\"} 0\n"
                  "podterm_sessions_total{result=\"idle-timeout\"} 0\n"
                  "podterm_sessions_total{result=\"max-duration\"} 0\n"
                  "podterm_sessions_total{result=\"client-unresponsive\"} 0\n"
                  "podterm_sessions_total{result=\"upstream-lost\"} 0\n");
    assert_family(out, "# HELP podterm_session_duration_seconds ",
                  "# HELP podterm_session_duration_seconds How long ended sessions ran.\n"
                  "# TYPE podterm_session_duration_seconds histogram\n"
                  "podterm_session_duration_seconds_bucket{le=\"1\"} 1\n"
                  "podterm_session_duration_seconds_bucket{le=\"5\"} 1\n"
                  "podterm_session_duration_seconds_bucket{le=\"15\"} 1\n"
                  "podterm_session_duration_seconds_bucket{le=\"60\"} 1\n"
                  "podterm_session_duration_seconds_bucket{le=\"300\"} 2\n"
                  "podterm_session_duration_seconds_bucket{le=\"900\"} 2\n"
                  "podterm_session_duration_seconds_bucket{le=\"3600\"} 2\n"
                  "podterm_session_duration_seconds_bucket{le=\"14400\"} 2\n"
                  "podterm_session_duration_seconds_bucket{le=\"86400\"} 2\n"
                  "podterm_session_duration_seconds_bucket{le=\"+Inf\"} 3\n"
                  "podterm_session_duration_seconds_sum 100090.500000\n"
                  "podterm_session_duration_seconds_count 3\n");
    assert_family(out, "# HELP podterm_session_bytes_total ",
                  "# HELP podterm_session_bytes_total Bytes of session streams: stdin as the "
                  "process gets it, stdout and stderr as the client gets them.\n"
                  "# TYPE podterm_session_bytes_total counter\n"
                  "podterm_session_bytes_total{direction=\"stdin\"} 1\n"
                  "podterm_session_bytes_total{direction=\"stdout\"} 10\n"
                  "podterm_session_bytes_total{direction=\"stderr\"} 3\n");
    /* A bound is inclusive (le): 0.005 falls in le="0.005". */
    assert_non_null(strstr(out,
                           "podterm_websocket_upgrade_duration_seconds_bucket{le=\"0.005\"} 2\n"
                           "podterm_websocket_upgrade_duration_seconds_bucket{le=\"0.01\"} 2\n"
                           "podterm_websocket_upgrade_duration_seconds_bucket{le=\"0.025\"} 3\n"));
    assert_family(out, "# HELP podterm_audit_events_dropped_total ",
                  "# HELP podterm_audit_events_dropped_total Audit events lost: the queue was "
                  "full or a write failed.\n"
                  "# TYPE podterm_audit_events_dropped_total counter\n"
                  "podterm_audit_events_dropped_total 3\n");
    /* Without process values, no process_* family. */
    assert_null(strstr(out, "process_"));
}

static void test_requests(void **state)
{
    (void)state;
    struct metrics m;
    metrics_init(&m, true);
    metrics_http_request(&m, "list", 200, 0.004, false);
    metrics_http_request(&m, "list", 200, 0.006, false);
    metrics_http_request(&m, "get", 401, 0.001, false);
    metrics_http_request(&m, "create", 101, 30, true); /* a session: no latency observation */
    metrics_http_request(&m, "PROPFIND", 418, 0.001, false);
    m.upstream_requests[metrics_code_index(101)]++;
    m.upstream_requests[metrics_code_index(599)]++;
    m.auth_attempts[0][METRICS_AUTH_NONE] = 2;
    m.authz_decisions[0] = 1;
    m.authz_decisions[1] = 5;
    char out[METRICS_TEXT_MAX];
    struct metrics_scrape s = {.process = {.ok = true,
                                           .cpu_seconds = 1.25,
                                           .start_time_seconds = 1700000000.5,
                                           .resident_bytes = 4096,
                                           .virtual_bytes = 8192,
                                           .open_fds = 9,
                                           .max_fds = 1024}};
    long n = metrics_render(&m, &s, out, sizeof(out));
    assert_true(n > 0);
    assert_int_equal((size_t)n, strlen(out));
    assert_family(out, "# HELP podterm_http_requests_total ",
                  "# HELP podterm_http_requests_total HTTP requests answered, by Kubernetes verb "
                  "and status code.\n"
                  "# TYPE podterm_http_requests_total counter\n"
                  "podterm_http_requests_total{verb=\"get\",code=\"401\"} 1\n"
                  "podterm_http_requests_total{verb=\"list\",code=\"200\"} 2\n"
                  "podterm_http_requests_total{verb=\"create\",code=\"101\"} 1\n"
                  "podterm_http_requests_total{verb=\"other\",code=\"other\"} 1\n");
    assert_non_null(strstr(out, "podterm_http_request_duration_seconds_bucket{le=\"0.005\"} 3\n"
                                "podterm_http_request_duration_seconds_bucket{le=\"0.01\"} 4\n"));
    assert_non_null(strstr(out, "podterm_http_request_duration_seconds_sum 0.012000\n"
                                "podterm_http_request_duration_seconds_count 4\n"));
    assert_family(out, "# HELP podterm_upstream_requests_total ",
                  "# HELP podterm_upstream_requests_total Responses of the upstream API server "
                  "(gateway mode), by status code.\n"
                  "# TYPE podterm_upstream_requests_total counter\n"
                  "podterm_upstream_requests_total{code=\"101\"} 1\n"
                  "podterm_upstream_requests_total{code=\"other\"} 1\n");
    assert_non_null(strstr(out, "podterm_authentication_attempts_total{result=\"failure\","
                                "method=\"none\"} 2\n"));
    assert_non_null(strstr(out, "podterm_authorization_decisions_total{decision=\"allow\"} 5\n"
                                "podterm_authorization_decisions_total{decision=\"forbid\"} 1\n"));
    assert_non_null(strstr(out, "mode=\"gateway\"} 0\n"));
    assert_family(out, "# HELP process_cpu_seconds_total ",
                  "# HELP process_cpu_seconds_total Total user and system CPU time spent in "
                  "seconds.\n# TYPE process_cpu_seconds_total counter\n"
                  "process_cpu_seconds_total 1.25\n");
    assert_family(out, "# HELP process_start_time_seconds ",
                  "# HELP process_start_time_seconds Start time of the process since unix epoch "
                  "in seconds.\n# TYPE process_start_time_seconds gauge\n"
                  "process_start_time_seconds 1700000000.50\n");
    assert_non_null(strstr(out, "process_open_fds 9\n"));
    assert_non_null(strstr(out, "process_max_fds 1024\n"));
    assert_non_null(strstr(out, "process_resident_memory_bytes 4096\n"));
    assert_non_null(strstr(out, "process_virtual_memory_bytes 8192\n"));

    /* The caller's bound: one byte short is -1, never a cut text. */
    char small[64];
    assert_int_equal(metrics_render(&m, &s, small, sizeof(small)), -1);
    char *exact = malloc((size_t)n + 1);
    assert_int_equal(metrics_render(&m, &s, exact, (size_t)n + 1), n);
    assert_int_equal(metrics_render(&m, &s, exact, (size_t)n), -1);
    free(exact);
}

static void test_label_sets(void **state)
{
    (void)state;
    assert_int_equal(metrics_verb_index("deletecollection"), METRICS_VERB_DELETECOLLECTION);
    assert_int_equal(metrics_verb_index(NULL), METRICS_VERB_OTHER);
    assert_int_equal(metrics_result_index("max-duration"), METRICS_RESULT_MAX_DURATION);
    assert_int_equal(metrics_result_index("client-unresponsive"),
                     METRICS_RESULT_CLIENT_UNRESPONSIVE);
    assert_int_equal(metrics_result_index("upstream-lost"), METRICS_RESULT_UPSTREAM_LOST);
    assert_int_equal(metrics_result_index(NULL), METRICS_RESULT_ERROR);
    assert_int_equal(metrics_code_index(200), 1);
    assert_int_equal(metrics_code_index(-1), METRICS_CODES - 1);
}

static void test_process_reads_proc(void **state)
{
    (void)state;
    struct metrics_process p;
    metrics_process_read(&p);
    assert_true(p.ok);
    assert_true(p.resident_bytes > 0);
    assert_true(p.open_fds >= 3);
    assert_true(p.max_fds >= p.open_fds);
    assert_true(p.start_time_seconds > 1.5e9);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sessions),
        cmocka_unit_test(test_requests),
        cmocka_unit_test(test_label_sets),
        cmocka_unit_test(test_process_reads_proc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
