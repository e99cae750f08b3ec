/* metrics.c - the registry's updates and label sets (sans-I/O). */
#include "metrics/metrics_internal.h"

#include <string.h>

/* Seconds: a session runs from a second to hours; a request and an upgrade
 * take milliseconds. */
static const double session_bounds[] = {1, 5, 15, 60, 300, 900, 3600, 14400, 86400};
static const char *const session_bounds_text[] = {"1",   "5",    "15",    "60",   "300",
                                                  "900", "3600", "14400", "86400"};
static const double request_bounds[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
static const char *const request_bounds_text[] = {"0.005", "0.01", "0.025", "0.05", "0.1", "0.25",
                                                  "0.5",   "1",    "2.5",   "5",    "10"};

static const char *const verb_names[METRICS_VERBS] = {
    "get", "list", "watch", "create", "update", "patch", "delete", "deletecollection", "other"};
static const char *const result_names[METRICS_RESULTS] = {
    "exit",         "error",        "client-closed",       "shutdown",
    "idle-timeout", "max-duration", "client-unresponsive", "upstream-lost"};
static const int codes[METRICS_CODES - 1] = {101, 200, 201, 204, 304, 400, 401, 403, 404, 405, 409,
                                             413, 414, 421, 422, 429, 431, 499, 500, 502, 503, 504};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static void histogram_init(struct metrics_histogram *h, const double *b, const char *const *t,
                           size_t n)
{
    memset(h, 0, sizeof(*h));
    h->bounds = b;
    h->bounds_text = t;
    h->bounds_len = n < METRICS_BUCKETS_MAX ? n : METRICS_BUCKETS_MAX;
}

void metrics_init(struct metrics *m, bool gateway)
{
    memset(m, 0, sizeof(*m));
    m->gateway = gateway;
    histogram_init(&m->session_duration, session_bounds, session_bounds_text, N_OF(session_bounds));
    histogram_init(&m->http_duration, request_bounds, request_bounds_text, N_OF(request_bounds));
    histogram_init(&m->upgrade_duration, request_bounds, request_bounds_text, N_OF(request_bounds));
}

const char *metrics_verb_name(enum metrics_verb v)
{
    return verb_names[v];
}

const char *metrics_result_name(enum metrics_result r)
{
    return result_names[r];
}

int metrics_code_value(size_t i)
{
    return i < N_OF(codes) ? codes[i] : 0;
}

enum metrics_verb metrics_verb_index(const char *verb)
{
    for (size_t i = 0; verb && i < METRICS_VERB_OTHER; i++)
        if (strcmp(verb, verb_names[i]) == 0)
            return (enum metrics_verb)i;
    return METRICS_VERB_OTHER;
}

enum metrics_result metrics_result_index(const char *reason)
{
    for (size_t i = 0; reason && i < METRICS_RESULTS; i++)
        if (strcmp(reason, result_names[i]) == 0)
            return (enum metrics_result)i;
    return METRICS_RESULT_ERROR;
}

size_t metrics_code_index(int code)
{
    for (size_t i = 0; i < N_OF(codes); i++)
        if (codes[i] == code)
            return i;
    return METRICS_CODES - 1;
}

void metrics_histogram_observe(struct metrics_histogram *h, double v)
{
    size_t i = 0;
    while (i < h->bounds_len && v > h->bounds[i])
        i++;
    if (i < h->bounds_len)
        h->buckets[i]++;
    h->count++;
    h->sum += v;
}

void metrics_session_start(struct metrics *m, enum metrics_kind kind, bool tty,
                           double upgrade_seconds)
{
    if (!m)
        return;
    m->sessions_active[kind][tty]++;
    metrics_histogram_observe(&m->upgrade_duration, upgrade_seconds);
}

void metrics_session_end(struct metrics *m, enum metrics_kind kind, bool tty, const char *reason,
                         double seconds)
{
    if (!m)
        return;
    m->sessions_active[kind][tty]--;
    m->sessions_total[metrics_result_index(reason)]++;
    metrics_histogram_observe(&m->session_duration, seconds);
}

void metrics_http_request(struct metrics *m, const char *verb, int code, double seconds,
                          bool long_running)
{
    if (!m)
        return;
    m->http_requests[metrics_verb_index(verb)][metrics_code_index(code)]++;
    /* As the apiserver's request latency: long-running requests (a session
     * and a watch) would drown every other observation, so they are left out. */
    if (!long_running)
        metrics_histogram_observe(&m->http_duration, seconds);
}
