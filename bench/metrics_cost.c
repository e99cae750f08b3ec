/* metrics_cost.c - what podterm's Prometheus counting costs on the data path
 * (issue 12: "counting costs nothing measurable"; bench/README.md).
 *
 * The updates the server makes are timed here, in a loop, with the real
 * registry (src/metrics/): one output frame's byte count (the audit tap's
 * add, once per frame), one request's counter and duration histogram, and
 * one session's start and end. run.sh turns the nanoseconds into the share
 * of a core they take at the rates the same bench run measured. Timing in
 * isolation is the honest way here: the end-to-end throughput runs vary by
 * a few percent from run to run, far more than nanoseconds per frame, so an
 * A/B of the whole server could only ever say "within noise".
 *
 * Prints key=value lines: metrics.frame_ns, metrics.request_ns,
 * metrics.session_ns. */
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "metrics/metrics.h"

#define COST_FRAME_LOOPS 50000000UL /* byte-count adds */
#define COST_REQUEST_LOOPS 2000000UL
#define COST_SESSION_LOOPS 2000000UL

static double cost_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Keep the compiler from folding a loop of adds into one. */
static void cost_barrier(void *p)
{
    __asm__ volatile("" : : "r"(p) : "memory");
}

int main(void)
{
    static struct metrics m;
    metrics_init(&m, false);

    double t0 = cost_now_ns();
    for (unsigned long i = 0; i < COST_FRAME_LOOPS; i++) {
        metrics_session_bytes(&m, METRICS_DIR_STDOUT, 4096 + (i & 7));
        cost_barrier(&m);
    }
    double frame_ns = (cost_now_ns() - t0) / COST_FRAME_LOOPS;

    static const char *const verbs[] = {"get", "list", "create", "watch"};
    static const int codes[] = {200, 404, 101, 403};
    t0 = cost_now_ns();
    for (unsigned long i = 0; i < COST_REQUEST_LOOPS; i++) {
        metrics_http_request(&m, verbs[i & 3], codes[(i >> 2) & 3], 0.0001 * (double)(i & 63),
                             false);
        cost_barrier(&m);
    }
    double request_ns = (cost_now_ns() - t0) / COST_REQUEST_LOOPS;

    t0 = cost_now_ns();
    for (unsigned long i = 0; i < COST_SESSION_LOOPS; i++) {
        metrics_session_start(&m, METRICS_KIND_EXEC, i & 1, 0.001);
        metrics_session_end(&m, METRICS_KIND_EXEC, i & 1, "exit", 0.01 * (double)(i & 255));
        cost_barrier(&m);
    }
    double session_ns = (cost_now_ns() - t0) / COST_SESSION_LOOPS;

    printf("metrics.frame_ns=%.2f\nmetrics.request_ns=%.2f\nmetrics.session_ns=%.2f\n", frame_ns,
           request_ns, session_ns);
    return 0;
}
