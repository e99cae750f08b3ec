/* metrics.h - podterm's Prometheus metrics: a sans-I/O registry of
 * counters, gauges and fixed-bucket histograms whose labels come from small
 * fixed sets, rendered in the text exposition format 0.0.4.
 *
 * One struct metrics, owned by main and borrowed by admission, the server
 * and the gateway (as struct admit is). Every update is a plain add on the
 * event loop: no locks, no allocation, no per-byte work beyond adding a
 * length. The process_* values and the audit's drop count are read by the
 * caller at scrape time and passed to metrics_render. */
#ifndef PODTERM_METRICS_H
#define PODTERM_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define METRICS_BUCKETS_MAX 16       /* bounds of one histogram (+Inf is implicit) */
#define METRICS_TEXT_MAX (64 * 1024) /* one rendering of /metrics */

enum metrics_kind { METRICS_KIND_EXEC, METRICS_KIND_ATTACH, METRICS_KINDS };

/* The session end reasons of session_tap.h. */
enum metrics_result {
    METRICS_RESULT_EXIT,
    METRICS_RESULT_ERROR,
    METRICS_RESULT_CLIENT_CLOSED,
    METRICS_RESULT_SHUTDOWN,
    METRICS_RESULT_IDLE_TIMEOUT,
    METRICS_RESULT_MAX_DURATION,
    METRICS_RESULT_CLIENT_UNRESPONSIVE, /* no answer to a keepalive ping */
    METRICS_RESULT_UPSTREAM_LOST,       /* gateway: the API server's connection failed */
    METRICS_RESULTS
};

enum metrics_direction {
    METRICS_DIR_STDIN,
    METRICS_DIR_STDOUT,
    METRICS_DIR_STDERR,
    METRICS_DIRECTIONS
};

/* The apiserver's verbs; anything else is "other". */
enum metrics_verb {
    METRICS_VERB_GET,
    METRICS_VERB_LIST,
    METRICS_VERB_WATCH,
    METRICS_VERB_CREATE,
    METRICS_VERB_UPDATE,
    METRICS_VERB_PATCH,
    METRICS_VERB_DELETE,
    METRICS_VERB_DELETECOLLECTION,
    METRICS_VERB_OTHER,
    METRICS_VERBS
};

/* The status codes podterm answers or relays; anything else is "other". */
#define METRICS_CODES 23

enum metrics_auth_method {
    METRICS_AUTH_BEARER,      /* Authorization: Bearer */
    METRICS_AUTH_SUBPROTOCOL, /* the WebSocket subprotocol token item */
    METRICS_AUTH_NONE,        /* no credential presented */
    METRICS_AUTH_X509,        /* a client certificate (--client-ca-file) */
    METRICS_AUTH_OIDC,        /* an OIDC ID token accepted (either carrier) */
    METRICS_AUTH_SESSION,     /* the browser sign-in's session cookie */
    METRICS_AUTH_METHODS
};

struct metrics_histogram {
    const double *bounds;           /* ascending, bounds_len <= METRICS_BUCKETS_MAX */
    const char *const *bounds_text; /* the same, as the le label shows them */
    size_t bounds_len;
    uint64_t buckets[METRICS_BUCKETS_MAX]; /* not cumulative; rendering sums */
    uint64_t count;
    double sum;
};

struct metrics {
    bool gateway;                              /* the mode label */
    int64_t sessions_active[METRICS_KINDS][2]; /* [kind][tty] */
    uint64_t sessions_total[METRICS_RESULTS];
    struct metrics_histogram session_duration;
    uint64_t session_bytes[METRICS_DIRECTIONS];
    uint64_t http_requests[METRICS_VERBS][METRICS_CODES];
    struct metrics_histogram http_duration;
    struct metrics_histogram upgrade_duration;
    uint64_t auth_attempts[2][METRICS_AUTH_METHODS]; /* [success][method] */
    uint64_t authz_decisions[2];                     /* [allowed] */
    uint64_t upstream_requests[METRICS_CODES];
};

/* What is read at scrape time (metrics_process.c reads /proc/self). */
struct metrics_process {
    bool ok; /* false: the process_* families are left out */
    double cpu_seconds, start_time_seconds;
    uint64_t resident_bytes, virtual_bytes, open_fds, max_fds;
};

struct metrics_scrape {
    struct metrics_process process;
    uint64_t audit_dropped;
};

void metrics_init(struct metrics *m, bool gateway);

/* Index of a label value; out-of-set values map to the "other" slot. */
enum metrics_verb metrics_verb_index(const char *verb);
enum metrics_result metrics_result_index(const char *reason); /* NULL/unknown: error */
size_t metrics_code_index(int code);                          /* METRICS_CODES - 1: other */

void metrics_histogram_observe(struct metrics_histogram *h, double v);

/* Updates, one per event. */
void metrics_session_start(struct metrics *m, enum metrics_kind kind, bool tty,
                           double upgrade_seconds);
void metrics_session_end(struct metrics *m, enum metrics_kind kind, bool tty, const char *reason,
                         double seconds);
static inline void metrics_session_bytes(struct metrics *m, enum metrics_direction d, size_t n)
{
    if (m)
        m->session_bytes[d] += n;
}
void metrics_http_request(struct metrics *m, const char *verb, int code, double seconds,
                          bool long_running);

/* The text exposition (0.0.4) into out: its length, or -1 when cap is too
 * small. */
long metrics_render(const struct metrics *m, const struct metrics_scrape *s, char *out, size_t cap);

/* metrics_process.c: the process_* values from /proc/self (I/O). */
void metrics_process_read(struct metrics_process *p);

#endif
