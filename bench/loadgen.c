/* loadgen.c - podterm-loadgen: drives podterm's exec WebSocket API and checks
 * what comes back (byte counts, CRC-32s, exit statuses, close codes).
 *
 *   podterm-loadgen --port N [options] MODE -- CMD [ARGS...]
 *
 * Modes (each prints key=value lines, prefixed with --label, for run.sh):
 *   run      --sessions N --parallel P sessions of CMD; verifies each one
 *            (throughput: 1 session; set-up rate: CMD=true; flood: many)
 *   latency  one tty session of CMD (prints "R" when ready, then echoes);
 *            --samples one-byte round trips
 *   idle     --sessions N held open for --idle-secs: server RSS per session,
 *            server CPU and wakeups while idle, set-up rate
 *   slow     one tty session of a flood (yes): stop reading for --pause-secs,
 *            watch server RSS, send Ctrl-C while still not reading, time how
 *            long the child takes to die, then drain and check the status
 * An argument "%i" in CMD is replaced by the session's index (generator seeds).
 * Exit status: 0 when every check passed, 1 otherwise, 2 on bad usage. */
#include "lg.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <signal.h>

#define LG_ARGV_MAX 64
#define LG_SERVICE_MS 50
#define LG_SLOW_PREFIX (1u << 20) /* bytes read before the slow consumer stops */
#define LG_STOP_WAIT_S 5.0        /* give up on the child dying after this */

struct opts {
    const char *mode;
    const char *label;
    const char *target_ns, *target_pod, *target_ctr;
    bool tty, want_stdin, want_stdout, want_stderr;
    bool attach; /* attach to the container's main process instead of exec CMD */
    long sessions, parallel, samples;
    long connect_parallel; /* run: at most this many not yet open (0: no bound of its own) */
    double idle_secs, pause_secs, timeout;
    long long expect_bytes; /* -1: not checked */
    const char *expect_crc;
    long long expect_gen; /* -1: not checked; else bytes of pattern(seed=idx) */
    int expect_exit;
    int server_pid;
    char **argv;
    int argc;
};

struct run {
    struct lg lg;
    struct opts *o;
    size_t started;
    long errors;
    /* latency */
    bool ready;
    bool waiting;
    uint8_t want;
    double sent_at;
    double *us;
    size_t nsamples;
    /* slow */
    uint64_t total_out;
};

static struct run *run_of(struct lg_conn *c)
{
    return (struct run *)c->lg; /* lg is the first member */
}

static void url_encode(const char *s, char *out, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (; *s && o + 4 < cap; s++) {
        unsigned char ch = (unsigned char)*s;
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
            strchr("-._~/", ch)) {
            out[o++] = (char)ch;
        } else {
            out[o++] = '%';
            out[o++] = hex[ch >> 4];
            out[o++] = hex[ch & 15];
        }
    }
    out[o] = '\0';
}

static int build_path(struct lg *lg, const struct opts *o, size_t idx)
{
    char *p = lg->path;
    size_t cap = sizeof(lg->path);
    int n = snprintf(p, cap, "/api/v1/namespaces/%s/pods/%s/%s?container=%s", o->target_ns,
                     o->target_pod, o->attach ? "attach" : "exec", o->target_ctr);
    for (int i = 0; i < o->argc && !o->attach && n > 0 && (size_t)n < cap; i++) {
        char arg[1024], enc[3 * sizeof(arg)];
        if (strcmp(o->argv[i], "%i") == 0)
            snprintf(arg, sizeof(arg), "%zu", idx);
        else
            snprintf(arg, sizeof(arg), "%s", o->argv[i]);
        url_encode(arg, enc, sizeof(enc));
        n += snprintf(p + n, cap - (size_t)n, "&command=%s", enc);
    }
    if (n > 0 && (size_t)n < cap)
        n += snprintf(p + n, cap - (size_t)n, "%s%s%s%s", o->want_stdin ? "&stdin=true" : "",
                      o->want_stdout ? "&stdout=true" : "", o->want_stderr ? "&stderr=true" : "",
                      o->tty ? "&tty=true" : "");
    return n > 0 && (size_t)n < cap ? 0 : -1;
}

static int start_conn(struct run *r, size_t idx)
{
    struct lg_conn *c = &r->lg.conns[idx];
    lg_conn_reset(c);
    if (build_path(&r->lg, r->o, idx) < 0)
        return -1;
    return r->lg.eng->connect(c);
}

static void print_kv(const struct opts *o, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void print_kv(const struct opts *o, const char *key, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("%s.%s=", o->label, key);
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
}

static void report_error(struct run *r, struct lg_conn *c, const char *what)
{
    if (r->errors++ < 5)
        fprintf(stderr, "loadgen: %s: session %zu: %s\n", r->o->label, c->idx, what);
}

/* ---- run: N sessions, P at a time, each verified ---- */

static void run_verify(struct run *r, struct lg_conn *c, const uint8_t *pattern)
{
    const struct opts *o = r->o;
    char why[256];
    uint64_t out = c->bytes[1] + c->bytes[2];
    if (c->failed) {
        snprintf(why, sizeof(why), "%s", c->err);
    } else if (c->close_code != 1000) {
        snprintf(why, sizeof(why), "close code %d", c->close_code);
    } else if (!c->got_initial) {
        snprintf(why, sizeof(why), "no initial empty message");
    } else if (lg_conn_exit_code(c) != o->expect_exit) {
        snprintf(why, sizeof(why), "exit %d, want %d (status: %.120s)", lg_conn_exit_code(c),
                 o->expect_exit, c->status);
    } else if (o->expect_bytes >= 0 && out != (uint64_t)o->expect_bytes) {
        snprintf(why, sizeof(why), "%llu bytes, want %lld", (unsigned long long)out,
                 o->expect_bytes);
    } else if (o->expect_crc && strtoul(o->expect_crc, NULL, 16) != c->crc[1]) {
        snprintf(why, sizeof(why), "crc %08lx, want %s", c->crc[1], o->expect_crc);
    } else if (o->expect_gen >= 0 && out != (uint64_t)o->expect_gen) {
        snprintf(why, sizeof(why), "%llu bytes, want %lld", (unsigned long long)out, o->expect_gen);
    } else if (o->expect_gen >= 0 && pattern &&
               pattern_crc(pattern, (uint64_t)o->expect_gen) != c->crc[1]) {
        snprintf(why, sizeof(why), "crc %08lx differs from the generator's", c->crc[1]);
    } else {
        return;
    }
    report_error(r, c, why);
}

static int mode_run(struct run *r)
{
    struct opts *o = r->o;
    struct lg *lg = &r->lg;
    double deadline = now_sec() + o->timeout;
    struct proc_sample s0 = {0}, s1 = {0};
    if (o->server_pid)
        proc_read(o->server_pid, &s0);
    double c0 = cpu_self(), t0 = now_sec();
    size_t max_open = 0;
    while (lg->ndone < lg->nconns && now_sec() < deadline) {
        /* --connect-parallel bounds the sessions still connecting (a
         * gateway's per-client bound on requests in flight counts those),
         * --parallel all that have not ended. */
        while (r->started < lg->nconns && r->started - lg->ndone < (size_t)o->parallel &&
               (!o->connect_parallel ||
                r->started - lg->ndone - lg->nopen < (size_t)o->connect_parallel)) {
            size_t i = r->started++;
            if (start_conn(r, i) < 0 && lg->conns[i].state != LG_DONE)
                lg_conn_closed(&lg->conns[i], 1006);
        }
        lg->eng->service(lg, LG_SERVICE_MS);
        max_open = lg->nopen > max_open ? lg->nopen : max_open;
    }
    double t1 = now_sec(), c1 = cpu_self();
    if (o->server_pid)
        proc_read(o->server_pid, &s1);
    uint8_t *pattern = o->expect_gen >= 0 ? malloc(PATTERN_BUF) : NULL;
    uint64_t total = 0;
    for (size_t i = 0; i < lg->nconns; i++) {
        struct lg_conn *c = &lg->conns[i];
        if (c->state != LG_DONE) {
            report_error(r, c, "did not finish before the timeout");
            continue;
        }
        if (pattern)
            pattern_fill(pattern, (uint32_t)i);
        run_verify(r, c, pattern);
        total += c->bytes[1] + c->bytes[2];
    }
    free(pattern);
    double secs = t1 - t0;
    print_kv(o, "sessions", "%zu", lg->nconns);
    print_kv(o, "secs", "%.4f", secs);
    print_kv(o, "rate", "%.1f", (double)lg->nconns / secs);
    print_kv(o, "bytes", "%llu", (unsigned long long)total);
    print_kv(o, "mbps", "%.2f", (double)total / secs / 1e6);
    print_kv(o, "crc", "%08lx", lg->conns[0].crc[1]);
    print_kv(o, "client_cpu", "%.2f", (c1 - c0) / secs);
    if (o->server_pid && s0.cpu_ticks >= 0 && s1.cpu_ticks >= 0)
        print_kv(o, "server_cpu", "%.2f",
                 (double)(s1.cpu_ticks - s0.cpu_ticks) / (double)sysconf(_SC_CLK_TCK) / secs);
    print_kv(o, "max_open", "%zu", max_open);
    print_kv(o, "errors", "%ld", r->errors);
    /* A whole exec's time, connect to the Close after the Status (issue 13:
     * the set-up rows give its p50 and p99, not only a rate). */
    double *us = malloc(lg->nconns * sizeof(*us));
    size_t n = 0;
    for (size_t i = 0; us && i < lg->nconns; i++)
        if (lg->conns[i].state == LG_DONE)
            us[n++] = (lg->conns[i].t_done - lg->conns[i].t_start) * 1e6;
    if (n) {
        char prefix[64];
        snprintf(prefix, sizeof(prefix), "%s.", o->label);
        print_latency(prefix, us, n);
    }
    free(us);
    return r->errors ? 1 : 0;
}

/* ---- latency: one key at a time through a tty ---- */

static void latency_data(struct lg_conn *c, int channel, const uint8_t *data, size_t len)
{
    struct run *r = run_of(c);
    if (channel != 1)
        return;
    for (size_t i = 0; i < len; i++) {
        if (!r->ready) {
            r->ready = data[i] == 'R';
        } else if (r->waiting && data[i] == r->want) {
            r->us[r->nsamples++] = (now_sec() - r->sent_at) * 1e6;
            r->waiting = false;
        }
    }
}

static int mode_latency(struct run *r)
{
    struct opts *o = r->o;
    struct lg *lg = &r->lg;
    r->us = calloc((size_t)o->samples, sizeof(double));
    lg->on_data = latency_data;
    double deadline = now_sec() + o->timeout;
    struct lg_conn *c = &lg->conns[0];
    if (!r->us || start_conn(r, 0) < 0)
        return 1;
    while (r->nsamples < (size_t)o->samples && c->state != LG_DONE && now_sec() < deadline) {
        if (r->ready && !r->waiting) {
            r->want = (uint8_t)('a' + r->nsamples % 26);
            r->waiting = true;
            r->sent_at = now_sec();
            if (lg_conn_send(c, 0, &r->want, 1) < 0)
                break;
        }
        lg->eng->service(lg, LG_SERVICE_MS);
    }
    if (r->nsamples < (size_t)o->samples) {
        fprintf(stderr, "loadgen: latency: %zu of %ld samples (%s)\n", r->nsamples, o->samples,
                c->failed  ? c->err
                : r->ready ? "echo lost"
                           : "never ready");
        return 1;
    }
    lg->eng->close(c);
    print_kv(o, "samples", "%zu", r->nsamples);
    char prefix[96];
    snprintf(prefix, sizeof(prefix), "%s.", o->label);
    print_latency(prefix, r->us, r->nsamples);
    return 0;
}

/* ---- idle: many sessions held open ---- */

static size_t count_initial(const struct lg *lg)
{
    size_t n = 0;
    for (size_t i = 0; i < lg->nconns; i++)
        n += lg->conns[i].got_initial && lg->conns[i].state == LG_OPEN;
    return n;
}

static int mode_idle(struct run *r)
{
    struct opts *o = r->o;
    struct lg *lg = &r->lg;
    struct proc_sample s0, s1, s2;
    if (!o->server_pid || proc_read(o->server_pid, &s0) < 0) {
        fprintf(stderr, "loadgen: idle needs --server-pid\n");
        return 2;
    }
    double deadline = now_sec() + o->timeout, t0 = now_sec();
    size_t ready = 0;
    while (ready < lg->nconns && now_sec() < deadline) {
        while (r->started < lg->nconns && r->started - count_initial(lg) < (size_t)o->parallel) {
            if (start_conn(r, r->started++) < 0)
                break;
        }
        lg->eng->service(lg, LG_SERVICE_MS);
        ready = count_initial(lg);
        if (lg->ndone) {
            struct lg_conn *c = NULL;
            for (size_t i = 0; i < lg->nconns && !c; i++)
                if (lg->conns[i].state == LG_DONE)
                    c = &lg->conns[i];
            report_error(r, c, c->failed ? c->err : "closed while idle");
            break;
        }
    }
    double t1 = now_sec();
    print_kv(o, "sessions", "%zu", ready);
    print_kv(o, "setup_secs", "%.3f", t1 - t0);
    print_kv(o, "setup_rate", "%.1f", (double)ready / (t1 - t0));
    if (ready < lg->nconns) {
        /* Still measure what was served (e.g. the fd limit stopped the rest). */
        fprintf(stderr, "loadgen: idle: %zu of %zu sessions established\n", ready, lg->nconns);
        r->errors++;
        for (size_t i = 0; i < lg->nconns; i++)
            if (lg->conns[i].state != LG_OPEN)
                lg->eng->close(&lg->conns[i]);
    }
    /* Settle (lazy frees, the first timers), then measure a quiet window. */
    double settle = now_sec() + 1.0;
    while (now_sec() < settle)
        lg->eng->service(lg, LG_SERVICE_MS);
    proc_read(o->server_pid, &s1);
    double w0 = now_sec();
    while (now_sec() < w0 + o->idle_secs)
        lg->eng->service(lg, LG_SERVICE_MS);
    proc_read(o->server_pid, &s2);
    double w = now_sec() - w0;
    print_kv(o, "rss0_kib", "%ld", s0.rss_kib);
    print_kv(o, "rss_kib", "%ld", s2.rss_kib);
    print_kv(o, "rss_per_session_kib", "%.2f",
             (double)(s2.rss_kib - s0.rss_kib) / (double)(ready ? ready : 1));
    print_kv(o, "idle_cpu_pct", "%.3f",
             100.0 * (double)(s2.cpu_ticks - s1.cpu_ticks) / (double)sysconf(_SC_CLK_TCK) / w);
    print_kv(o, "idle_wakeups_per_s", "%.2f", (double)(s2.ctxt - s1.ctxt) / w);
    if (count_initial(lg) < ready)
        report_error(r, &lg->conns[0], "sessions closed during the idle window");
    double c0 = now_sec();
    for (size_t i = 0; i < lg->nconns; i++)
        lg->eng->close(&lg->conns[i]);
    lg->eng->service(lg, 0);
    print_kv(o, "close_secs", "%.3f", now_sec() - c0);
    print_kv(o, "errors", "%ld", r->errors);
    return r->errors ? 1 : 0;
}

/* ---- slow consumer ---- */

static int find_child(int server_pid, const char *comm_want)
{
    /* Scan /proc for the newest child of the server running comm_want. */
    int best = 0;
    char path[64];
    for (int pid = 2; pid < 4194304; pid++) {
        snprintf(path, sizeof(path), "/proc/%d", pid);
        if (pid > 65536 && access(path, F_OK) != 0)
            break;
        int ppid = 0;
        char comm[64];
        if (proc_state(pid, &ppid, comm, sizeof(comm)) && ppid == server_pid &&
            strcmp(comm, comm_want) == 0)
            best = pid;
    }
    return best;
}

static bool child_gone(int pid)
{
    char st = proc_state(pid, NULL, NULL, 0);
    return st == 0 || st == 'Z' || st == 'X';
}

static int mode_slow(struct run *r)
{
    struct opts *o = r->o;
    struct lg *lg = &r->lg;
    struct lg_conn *c = &lg->conns[0];
    struct proc_sample s0, s;
    if (!o->server_pid || proc_read(o->server_pid, &s0) < 0) {
        fprintf(stderr, "loadgen: slow needs --server-pid\n");
        return 2;
    }
    double deadline = now_sec() + o->timeout;
    if (start_conn(r, 0) < 0)
        return 1;
    while (c->bytes[1] < LG_SLOW_PREFIX && c->state != LG_DONE && now_sec() < deadline)
        lg->eng->service(lg, LG_SERVICE_MS);
    if (c->state == LG_DONE || c->bytes[1] < LG_SLOW_PREFIX) {
        fprintf(stderr, "loadgen: slow: the flood did not start (%s)\n", c->err);
        return 1;
    }
    lg->eng->pause(c, true);
    long rss_max = s0.rss_kib;
    double p0 = now_sec();
    while (now_sec() < p0 + o->pause_secs) {
        lg->eng->service(lg, 100);
        if (proc_read(o->server_pid, &s) == 0 && s.rss_kib > rss_max)
            rss_max = s.rss_kib;
    }
    const char *comm = o->argv[0];
    const char *slash = strrchr(comm, '/');
    int child = find_child(o->server_pid, slash ? slash + 1 : comm);
    uint8_t ctrl_c = 3;
    double i0 = now_sec(), stop_ms = -1;
    if (!child) {
        report_error(r, c, "cannot find the child process");
    } else if (lg_conn_send(c, 0, &ctrl_c, 1) < 0) {
        report_error(r, c, "cannot send Ctrl-C");
    } else {
        while (now_sec() < i0 + LG_STOP_WAIT_S) {
            lg->eng->service(lg, 1); /* still paused: only our write goes out */
            if (child_gone(child)) {
                stop_ms = (now_sec() - i0) * 1e3;
                break;
            }
        }
    }
    uint64_t before = c->bytes[1];
    lg->eng->pause(c, false);
    while (c->state != LG_DONE && now_sec() < deadline)
        lg->eng->service(lg, LG_SERVICE_MS);
    print_kv(o, "rss0_kib", "%ld", s0.rss_kib);
    print_kv(o, "rss_max_kib", "%ld", rss_max);
    print_kv(o, "rss_growth_kib", "%ld", rss_max - s0.rss_kib);
    print_kv(o, "stop_ms", "%.1f", stop_ms);
    print_kv(o, "drained_bytes", "%llu", (unsigned long long)(c->bytes[1] - before));
    print_kv(o, "exit", "%d", lg_conn_exit_code(c));
    if (stop_ms < 0)
        report_error(r, c, "the child did not stop after Ctrl-C");
    if (c->state != LG_DONE)
        report_error(r, c, "no end of stream after Ctrl-C");
    else if (c->failed || c->close_code != 1000)
        report_error(r, c, c->failed ? c->err : "abnormal close");
    else if (lg_conn_exit_code(c) != o->expect_exit)
        report_error(r, c, "unexpected exit status");
    print_kv(o, "errors", "%ld", r->errors);
    return r->errors ? 1 : 0;
}

/* ---- main ---- */

static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static void usage(void)
{
    fprintf(stderr,
            "usage: podterm-loadgen --port N [--host H] [--engine raw|lws [--tls]]\n"
            "  [--proto NAME|--no-proto]\n"
            "  [--target NS/POD/CONTAINER] [--attach] [--tty] [--stdin] [--no-stdout] [--stderr]\n"
            "  [--sessions N] [--parallel P] [--connect-parallel C] [--samples N]\n"
            "  [--idle-secs S] [--pause-secs S]\n"
            "  [--expect-bytes N] [--expect-crc HEX] [--expect-gen BYTES] [--expect-exit N]\n"
            "  [--server-pid PID] [--timeout S] [--label L] run|latency|idle|slow -- CMD...\n");
}

static int parse_target(struct opts *o, char *t)
{
    char *a = strtok(t, "/"), *b = strtok(NULL, "/"), *c = strtok(NULL, "/");
    if (!a || !b || !c)
        return -1;
    o->target_ns = a;
    o->target_pod = b;
    o->target_ctr = c;
    return 0;
}

int main(int argc, char **argv)
{
    struct opts o = {.target_ns = "default",
                     .target_pod = "local",
                     .target_ctr = "shell",
                     .want_stdout = true,
                     .sessions = 1,
                     .parallel = 1,
                     .samples = 1000,
                     .idle_secs = 3,
                     .pause_secs = 10,
                     .timeout = 120,
                     .expect_bytes = -1,
                     .expect_gen = -1};
    static struct run r;
    r.o = &o;
    r.lg.host = "127.0.0.1";
    r.lg.proto = "v4.channel.k8s.io";
    r.lg.eng = &lg_engine_lws;
    enum {
        O_PORT = 256,
        O_HOST,
        O_ENGINE,
        O_PROTO,
        O_NOPROTO,
        O_TARGET,
        O_TTY,
        O_STDIN,
        O_NOSTDOUT,
        O_STDERR,
        O_SESSIONS,
        O_PARALLEL,
        O_CONNECT_PARALLEL,
        O_SAMPLES,
        O_IDLE,
        O_PAUSE,
        O_XBYTES,
        O_XCRC,
        O_XGEN,
        O_XEXIT,
        O_PID,
        O_TIMEOUT,
        O_LABEL,
        O_ATTACH,
        O_TLS
    };
    static const struct option longopts[] = {
        {"port", 1, 0, O_PORT},
        {"host", 1, 0, O_HOST},
        {"engine", 1, 0, O_ENGINE},
        {"proto", 1, 0, O_PROTO},
        {"no-proto", 0, 0, O_NOPROTO},
        {"target", 1, 0, O_TARGET},
        {"tty", 0, 0, O_TTY},
        {"stdin", 0, 0, O_STDIN},
        {"no-stdout", 0, 0, O_NOSTDOUT},
        {"stderr", 0, 0, O_STDERR},
        {"sessions", 1, 0, O_SESSIONS},
        {"parallel", 1, 0, O_PARALLEL},
        {"connect-parallel", 1, 0, O_CONNECT_PARALLEL},
        {"samples", 1, 0, O_SAMPLES},
        {"idle-secs", 1, 0, O_IDLE},
        {"pause-secs", 1, 0, O_PAUSE},
        {"expect-bytes", 1, 0, O_XBYTES},
        {"expect-crc", 1, 0, O_XCRC},
        {"expect-gen", 1, 0, O_XGEN},
        {"expect-exit", 1, 0, O_XEXIT},
        {"server-pid", 1, 0, O_PID},
        {"timeout", 1, 0, O_TIMEOUT},
        {"label", 1, 0, O_LABEL},
        {"attach", 0, 0, O_ATTACH},
        {"tls", 0, 0, O_TLS},
        {0, 0, 0, 0},
    };
    int opt;
    while ((opt = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
        switch (opt) {
        case O_PORT:
            r.lg.port = atoi(optarg);
            break;
        case O_HOST:
            r.lg.host = optarg;
            break;
        case O_ENGINE:
            if (strcmp(optarg, "raw") == 0)
                r.lg.eng = &lg_engine_raw;
            else if (strcmp(optarg, "lws") != 0)
                goto bad;
            break;
        case O_PROTO:
            r.lg.proto = optarg;
            break;
        case O_TLS:
            r.lg.tls = true;
            break;
        case O_NOPROTO:
            r.lg.proto = NULL;
            break;
        case O_TARGET:
            if (parse_target(&o, optarg) < 0)
                goto bad;
            break;
        case O_TTY:
            o.tty = true;
            break;
        case O_STDIN:
            o.want_stdin = true;
            break;
        case O_NOSTDOUT:
            o.want_stdout = false;
            break;
        case O_STDERR:
            o.want_stderr = true;
            break;
        case O_SESSIONS:
            o.sessions = atol(optarg);
            break;
        case O_PARALLEL:
            o.parallel = atol(optarg);
            break;
        case O_CONNECT_PARALLEL:
            o.connect_parallel = atol(optarg);
            break;
        case O_SAMPLES:
            o.samples = atol(optarg);
            break;
        case O_IDLE:
            o.idle_secs = atof(optarg);
            break;
        case O_PAUSE:
            o.pause_secs = atof(optarg);
            break;
        case O_XBYTES:
            o.expect_bytes = (long long)parse_size(optarg);
            break;
        case O_XCRC:
            o.expect_crc = optarg;
            break;
        case O_XGEN:
            o.expect_gen = (long long)parse_size(optarg);
            break;
        case O_XEXIT:
            o.expect_exit = atoi(optarg);
            break;
        case O_PID:
            o.server_pid = atoi(optarg);
            break;
        case O_TIMEOUT:
            o.timeout = atof(optarg);
            break;
        case O_LABEL:
            o.label = optarg;
            break;
        case O_ATTACH:
            o.attach = true;
            break;
        default:
            goto bad;
        }
    }
    if (optind >= argc || r.lg.port <= 0)
        goto bad;
    o.mode = argv[optind++];
    if (optind < argc && strcmp(argv[optind], "--") == 0)
        optind++;
    o.argv = argv + optind;
    o.argc = argc - optind;
    if (o.argc < 1 || o.argc > LG_ARGV_MAX || o.sessions < 1 || o.parallel < 1 || o.samples < 1)
        goto bad;
    if (!o.label)
        o.label = o.mode;
    const char *p = r.lg.proto ? r.lg.proto : "";
    r.lg.base64 = strstr(p, "base64") != NULL;
    r.lg.json_status = strncmp(p, "v4.", 3) == 0 || strncmp(p, "v5.", 3) == 0 ||
                       strcmp(p, PROTO_FLOW_NAME_BENCH) == 0;
    bool one = strcmp(o.mode, "latency") == 0 || strcmp(o.mode, "slow") == 0;
    r.lg.nconns = one ? 1 : (size_t)o.sessions;
    r.lg.conns = calloc(r.lg.nconns, sizeof(*r.lg.conns));
    r.lg.scratch = malloc(LG_READ_BUF);
    if (!r.lg.conns || !r.lg.scratch)
        return 1;
    for (size_t i = 0; i < r.lg.nconns; i++) {
        r.lg.conns[i].lg = &r.lg;
        r.lg.conns[i].idx = i;
    }
    signal(SIGPIPE, SIG_IGN);
    raise_nofile();
    srandom((unsigned)getpid());
    if (r.lg.tls && r.lg.eng == &lg_engine_raw) {
        fprintf(stderr, "loadgen: --tls needs the lws engine\n");
        return 2;
    }
    if (r.lg.eng->init(&r.lg) < 0) {
        fprintf(stderr, "loadgen: cannot start the %s engine\n", r.lg.eng->name);
        return 1;
    }
    int rc;
    if (strcmp(o.mode, "run") == 0)
        rc = mode_run(&r);
    else if (strcmp(o.mode, "latency") == 0)
        rc = mode_latency(&r);
    else if (strcmp(o.mode, "idle") == 0)
        rc = mode_idle(&r);
    else if (strcmp(o.mode, "slow") == 0)
        rc = mode_slow(&r);
    else
        rc = 2;
    r.lg.eng->fini(&r.lg);
    fflush(stdout);
    if (rc == 2)
        usage();
    return rc;
bad:
    usage();
    return 2;
}
