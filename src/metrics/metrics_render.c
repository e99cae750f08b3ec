/* metrics_render.c - the registry as Prometheus text exposition 0.0.4:
 * HELP and TYPE before each family, histograms with cumulative buckets,
 * _sum and _count. Sans-I/O: text into the caller's buffer, bounded by its
 * capacity. */
#include "metrics/metrics_internal.h"

#include <stdarg.h>
#include <stdio.h>

struct out {
    char *p;
    size_t cap, len;
    bool full;
};

/* Format strings are constants of this file; label values come from the
 * fixed sets, never from a request. */
__attribute__((format(printf, 2, 3))) static void out_printf(struct out *o, const char *fmt, ...)
{
    if (o->full)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(o->p + o->len, o->cap - o->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= o->cap - o->len) {
        o->full = true;
        return;
    }
    o->len += (size_t)n;
}

static void family(struct out *o, const char *name, const char *type, const char *help)
{
    out_printf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void histogram(struct out *o, const char *name, const char *help,
                      const struct metrics_histogram *h)
{
    family(o, name, "histogram", help);
    uint64_t cum = 0;
    for (size_t i = 0; i < h->bounds_len; i++) {
        cum += h->buckets[i];
        out_printf(o, "%s_bucket{le=\"%s\"} %llu\n", name, h->bounds_text[i],
                   (unsigned long long)cum);
    }
    out_printf(o, "%s_bucket{le=\"+Inf\"} %llu\n", name, (unsigned long long)h->count);
    out_printf(o, "%s_sum %.6f\n", name, h->sum);
    out_printf(o, "%s_count %llu\n", name, (unsigned long long)h->count);
}

static void code_text(size_t i, char *buf, size_t cap)
{
    int c = metrics_code_value(i);
    if (c)
        snprintf(buf, cap, "%d", c);
    else
        snprintf(buf, cap, "other");
}

static void render_sessions(struct out *o, const struct metrics *m)
{
    static const char *const kinds[METRICS_KINDS] = {"exec", "attach"};
    const char *mode = m->gateway ? "gateway" : "local";
    family(o, "podterm_sessions_active", "gauge", "Exec and attach sessions open now.");
    for (int k = 0; k < METRICS_KINDS; k++)
        for (int t = 0; t < 2; t++)
            out_printf(o, "podterm_sessions_active{kind=\"%s\",tty=\"%s\",mode=\"%s\"} %lld\n",
                       kinds[k], t ? "true" : "false", mode, (long long)m->sessions_active[k][t]);
    family(o, "podterm_sessions_total", "counter",
           "Exec and attach sessions ended, by end reason.");
    for (int r = 0; r < METRICS_RESULTS; r++)
        out_printf(o, "podterm_sessions_total{result=\"%s\"} %llu\n",
                   metrics_result_name((enum metrics_result)r),
                   (unsigned long long)m->sessions_total[r]);
    histogram(o, "podterm_session_duration_seconds", "How long ended sessions ran.",
              &m->session_duration);
    static const char *const dirs[METRICS_DIRECTIONS] = {"stdin", "stdout", "stderr"};
    family(o, "podterm_session_bytes_total", "counter",
           "Bytes of session streams: stdin as the process gets it, stdout and stderr as the "
           "client gets them.");
    for (int d = 0; d < METRICS_DIRECTIONS; d++)
        out_printf(o, "podterm_session_bytes_total{direction=\"%s\"} %llu\n", dirs[d],
                   (unsigned long long)m->session_bytes[d]);
}

static void render_http(struct out *o, const struct metrics *m)
{
    char code[16];
    family(o, "podterm_http_requests_total", "counter",
           "HTTP requests answered, by Kubernetes verb and status code.");
    for (int v = 0; v < METRICS_VERBS; v++)
        for (size_t c = 0; c < METRICS_CODES; c++) {
            if (!m->http_requests[v][c])
                continue; /* as client libraries do: a series appears on its first count */
            code_text(c, code, sizeof(code));
            out_printf(o, "podterm_http_requests_total{verb=\"%s\",code=\"%s\"} %llu\n",
                       metrics_verb_name((enum metrics_verb)v), code,
                       (unsigned long long)m->http_requests[v][c]);
        }
    histogram(o, "podterm_http_request_duration_seconds",
              "Time from admission to the response's end, sessions and watches excluded.",
              &m->http_duration);
    histogram(o, "podterm_websocket_upgrade_duration_seconds",
              "Time from admission to a session's 101 Switching Protocols.", &m->upgrade_duration);
    static const char *const methods[METRICS_AUTH_METHODS] = {
        "bearer", "subprotocol", "none", "x509", "oidc", "oidc-session"};
    family(o, "podterm_authentication_attempts_total", "counter",
           "Credentials checked, by result and where the token came from (oidc: an "
           "OIDC ID token accepted; oidc-session: the browser sign-in's cookie).");
    for (int r = 1; r >= 0; r--)
        for (int a = 0; a < METRICS_AUTH_METHODS; a++)
            out_printf(
                o, "podterm_authentication_attempts_total{result=\"%s\",method=\"%s\"} %llu\n",
                r ? "success" : "failure", methods[a], (unsigned long long)m->auth_attempts[r][a]);
    family(o, "podterm_authorization_decisions_total", "counter",
           "Authorization decisions (RBAC, then ExecPolicy), by decision.");
    out_printf(o, "podterm_authorization_decisions_total{decision=\"allow\"} %llu\n",
               (unsigned long long)m->authz_decisions[1]);
    out_printf(o, "podterm_authorization_decisions_total{decision=\"forbid\"} %llu\n",
               (unsigned long long)m->authz_decisions[0]);
    family(o, "podterm_upstream_requests_total", "counter",
           "Responses of the upstream API server (gateway mode), by status code.");
    for (size_t c = 0; c < METRICS_CODES; c++) {
        if (!m->upstream_requests[c])
            continue;
        code_text(c, code, sizeof(code));
        out_printf(o, "podterm_upstream_requests_total{code=\"%s\"} %llu\n", code,
                   (unsigned long long)m->upstream_requests[c]);
    }
}

static void render_process(struct out *o, const struct metrics_scrape *s)
{
    family(o, "podterm_audit_events_dropped_total", "counter",
           "Audit events lost: the queue was full or a write failed.");
    out_printf(o, "podterm_audit_events_dropped_total %llu\n",
               (unsigned long long)s->audit_dropped);
    const struct metrics_process *p = &s->process;
    if (!p->ok)
        return;
    family(o, "process_cpu_seconds_total", "counter",
           "Total user and system CPU time spent in seconds.");
    out_printf(o, "process_cpu_seconds_total %.2f\n", p->cpu_seconds);
    family(o, "process_open_fds", "gauge", "Number of open file descriptors.");
    out_printf(o, "process_open_fds %llu\n", (unsigned long long)p->open_fds);
    family(o, "process_max_fds", "gauge", "Maximum number of open file descriptors.");
    out_printf(o, "process_max_fds %llu\n", (unsigned long long)p->max_fds);
    family(o, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.");
    out_printf(o, "process_virtual_memory_bytes %llu\n", (unsigned long long)p->virtual_bytes);
    family(o, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
    out_printf(o, "process_resident_memory_bytes %llu\n", (unsigned long long)p->resident_bytes);
    family(o, "process_start_time_seconds", "gauge",
           "Start time of the process since unix epoch in seconds.");
    out_printf(o, "process_start_time_seconds %.2f\n", p->start_time_seconds);
}

long metrics_render(const struct metrics *m, const struct metrics_scrape *s, char *out, size_t cap)
{
    struct out o = {.p = out, .cap = cap};
    if (!cap)
        return -1;
    out[0] = '\0';
    render_sessions(&o, m);
    render_http(&o, m);
    render_process(&o, s);
    return o.full ? -1 : (long)o.len;
}
