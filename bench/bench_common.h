/* bench_common.h - what the bench tools share: the deterministic output
 * pattern the generator writes and the load generator checks, timing, and
 * the /proc readings (RSS, CPU, context switches) of the server under test.
 *
 * The pattern is printable ASCII (0x20-0x7e) so a PTY's output processing
 * (ONLCR, tabs) leaves it byte-for-byte intact; its period is a prime, so a
 * lost, repeated or reordered chunk of any power-of-two size changes the
 * CRC-32 of the stream. */
#ifndef PODTERM_BENCH_COMMON_H
#define PODTERM_BENCH_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#define PATTERN_PERIOD 1048573u     /* prime, about 1 MiB */
#define PATTERN_CHUNK (64u * 1024u) /* largest write of the generator */
#define PATTERN_BUF (PATTERN_PERIOD + PATTERN_CHUNK)

/* Fill buf (PATTERN_BUF bytes) with pattern(seed): buf[i] = pattern[i % period],
 * so any chunk of up to PATTERN_CHUNK bytes from offset < period is contiguous. */
static inline void pattern_fill(uint8_t *buf, uint32_t seed)
{
    uint32_t x = (seed + 1u) * 2654435761u ^ 0x9e3779b9u;
    if (!x)
        x = 1;
    for (uint32_t i = 0; i < PATTERN_PERIOD; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        buf[i] = (uint8_t)(0x20 + (x >> 8) % 95);
    }
    memcpy(buf + PATTERN_PERIOD, buf, PATTERN_CHUNK);
}

/* CRC-32 (zlib) of the first len bytes of pattern(seed) repeated. */
static inline uint32_t pattern_crc(const uint8_t *buf, uint64_t len)
{
    uLong crc = crc32(0L, Z_NULL, 0);
    uint64_t off = 0;
    while (len > 0) {
        uint64_t n = len < PATTERN_CHUNK ? len : PATTERN_CHUNK;
        crc = crc32(crc, buf + off, (uInt)n);
        off = (off + n) % PATTERN_PERIOD;
        len -= n;
    }
    return (uint32_t)crc;
}

static inline double now_sec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* This process's own CPU seconds, user and system (not its children's). */
static inline double cpu_self(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* "200M", "4K", "1G", plain numbers. */
static inline uint64_t parse_size(const char *s)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    switch (*end) {
    case 'K':
    case 'k':
        v <<= 10;
        break;
    case 'M':
    case 'm':
        v <<= 20;
        break;
    case 'G':
    case 'g':
        v <<= 30;
        break;
    default:
        break;
    }
    return v;
}

/* Process readings from /proc: resident set (KiB), CPU ticks (utime+stime),
 * voluntary + involuntary context switches. -1 when the process is gone. */
struct proc_sample {
    long rss_kib;
    long long cpu_ticks;
    long long ctxt;
};

static inline int proc_read(int pid, struct proc_sample *out)
{
    char path[64], line[512];
    out->rss_kib = -1;
    out->cpu_ticks = -1;
    out->ctxt = 0;
    snprintf(path, sizeof(path), "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f)) {
        long long v;
        if (sscanf(line, "VmRSS: %lld", &v) == 1)
            out->rss_kib = (long)v;
        else if (sscanf(line, "voluntary_ctxt_switches: %lld", &v) == 1)
            out->ctxt += v;
        else if (sscanf(line, "nonvoluntary_ctxt_switches: %lld", &v) == 1)
            out->ctxt += v;
    }
    fclose(f);
    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(line, 1, sizeof(line) - 1, f);
    fclose(f);
    line[n] = '\0';
    /* Fields after the command name, which may hold spaces: skip to the last ')'. */
    char *p = strrchr(line, ')');
    unsigned long long ut = 0, st = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return -1;
    out->cpu_ticks = (long long)(ut + st);
    return 0;
}

/* State letter and parent pid of a process; 0 when it does not exist. */
static inline char proc_state(int pid, int *ppid, char *comm, size_t comm_cap)
{
    char path[64], line[512];
    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(line, 1, sizeof(line) - 1, f);
    fclose(f);
    line[n] = '\0';
    char *open = strchr(line, '('), *close = strrchr(line, ')');
    if (!open || !close || close < open)
        return 0;
    if (comm && comm_cap) {
        size_t len = (size_t)(close - open - 1);
        if (len >= comm_cap)
            len = comm_cap - 1;
        memcpy(comm, open + 1, len);
        comm[len] = '\0';
    }
    char state = 0;
    int pp = 0;
    if (sscanf(close + 2, "%c %d", &state, &pp) != 2)
        return 0;
    if (ppid)
        *ppid = pp;
    return state;
}

static inline int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Percentiles as the load generator reports them (nearest rank). */
static inline void print_latency(const char *prefix, double *us, size_t n)
{
    qsort(us, n, sizeof(*us), cmp_double);
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += us[i];
    printf("%sp50_us=%.1f\n%sp99_us=%.1f\n%smax_us=%.1f\n%smean_us=%.1f\n", prefix, us[n / 2],
           prefix, us[(size_t)((double)n * 0.99)], prefix, us[n - 1], prefix, sum / (double)n);
}

#endif
