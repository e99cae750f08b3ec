/* baseline.c - podterm-baseline: the ceilings podterm is measured against in
 * the same run, and the output generator the sessions run.
 *
 *   gen BYTES [SEED [EXIT [DELAY_MS]]]
 *                            write BYTES of pattern(SEED) to stdout (after DELAY_MS:
 *                            sessions that all wait until the others are open),
 *                            then exit EXIT
 *   pty [--crc] -- CMD...    run CMD on a fresh PTY (like podterm: setsid, slave
 *                            as fds 0-2, 80x24, kernel default termios) and read
 *                            the master as fast as possible, 64 KiB at a time;
 *                            --crc also checksums what it reads (not for ceilings);
 *                            cpu_s_per_gb is the reader's own CPU (not CMD's)
 *   pipe [--crc] -- CMD...   the same with stdout on a pipe
 *   echo N -- CMD...         N one-byte round trips through CMD on a PTY; CMD
 *                            must print "R" once ready (e.g. stty raw -echo)
 *   spawn N P                posix_spawn + wait of `true`, N times, P at a time
 *
 * Each measuring command prints key=value lines for bench/run.sh. */
#include "bench_common.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>

extern char **environ;

#define BASELINE_READ_BUF (64 * 1024) /* what podterm reads per frame */
#define BASELINE_ECHO_MAX 1000000     /* samples */
#define BASELINE_ECHO_TIMEOUT_MS 5000

static int cmd_gen(int argc, char **argv)
{
    if (argc < 1)
        return 2;
    uint64_t left = parse_size(argv[0]);
    uint32_t seed = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : 0;
    int code = argc > 2 ? atoi(argv[2]) : 0;
    long delay_ms = argc > 3 ? atol(argv[3]) : 0;
    if (delay_ms > 0) {
        struct timespec ts = {delay_ms / 1000, (delay_ms % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
            ;
    }
    uint8_t *buf = malloc(PATTERN_BUF);
    if (!buf)
        return 1;
    pattern_fill(buf, seed);
    uint64_t off = 0;
    while (left > 0) {
        size_t n = left < PATTERN_CHUNK ? (size_t)left : PATTERN_CHUNK;
        ssize_t w = write(1, buf + off, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return 1;
        off = (off + (uint64_t)w) % PATTERN_PERIOD;
        left -= (uint64_t)w;
    }
    /* Exit at once: the last bytes must still reach the client. */
    _exit(code);
}

/* Fork cmd with fds 0-2 on a PTY slave (tty) or stdout on a pipe. */
static pid_t spawn_cmd(char **cmd, bool tty, int *rfd)
{
    int master = -1, p[2] = {-1, -1};
    char name[64];
    if (tty) {
        master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
        struct winsize ws = {.ws_row = 24, .ws_col = 80};
        if (master < 0 || grantpt(master) || unlockpt(master) ||
            ptsname_r(master, name, sizeof(name)) || ioctl(master, TIOCSWINSZ, &ws) < 0)
            return -1;
    } else if (pipe2(p, O_CLOEXEC) < 0) {
        return -1;
    }
    pid_t pid = fork();
    if (pid == 0) {
        setsid();
        if (tty) {
            int s = open(name, O_RDWR); /* first tty opened after setsid: controlling */
            if (s < 0)
                _exit(126);
            dup2(s, 0);
            dup2(s, 1);
            dup2(s, 2);
        } else {
            int null = open("/dev/null", O_RDWR);
            dup2(null, 0);
            dup2(p[1], 1);
            dup2(null, 2);
        }
        execvp(cmd[0], cmd);
        _exit(127);
    }
    if (tty) {
        *rfd = master;
    } else {
        close(p[1]);
        *rfd = p[0];
    }
    return pid;
}

static int wait_code(pid_t pid)
{
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
}

static int cmd_read(char **cmd, bool tty, bool with_crc)
{
    int fd;
    uint8_t *buf = malloc(BASELINE_READ_BUF);
    double t0 = now_sec();
    pid_t pid = buf ? spawn_cmd(cmd, tty, &fd) : -1;
    if (pid < 0) {
        perror("baseline: spawn");
        return 1;
    }
    uint64_t bytes = 0;
    uLong crc = crc32(0L, Z_NULL, 0);
    for (;;) {
        ssize_t n = read(fd, buf, BASELINE_READ_BUF);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break; /* EOF (pipe) or EIO (PTY whose slave side is gone) */
        if (with_crc)
            crc = crc32(crc, buf, (uInt)n);
        bytes += (uint64_t)n;
    }
    double secs = now_sec() - t0;
    int code = wait_code(pid);
    close(fd);
    /* What reading alone costs (the kernel's side of every read included):
     * the floor under a server's CPU per GB of the same stream. */
    double cpu = cpu_self();
    if (with_crc)
        printf("crc=%08lx\n", crc);
    printf("bytes=%llu\nsecs=%.4f\nmbps=%.2f\nexit=%d\ncpu_s_per_gb=%.2f\n",
           (unsigned long long)bytes, secs, (double)bytes / secs / 1e6, code,
           bytes ? cpu / ((double)bytes / 1e9) : 0.0);
    free(buf);
    return code == 0 ? 0 : 1;
}

static int wait_byte(int fd, uint8_t want)
{
    uint8_t c;
    for (;;) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (poll(&pfd, 1, BASELINE_ECHO_TIMEOUT_MS) <= 0)
            return -1;
        ssize_t n = read(fd, &c, 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        if (c == want)
            return 0;
    }
}

static int cmd_echo(size_t samples, char **cmd)
{
    int fd;
    pid_t pid = spawn_cmd(cmd, true, &fd);
    double *us = calloc(samples, sizeof(double));
    if (pid < 0 || !us || wait_byte(fd, 'R') < 0) {
        fprintf(stderr, "baseline: echo command did not get ready\n");
        return 1;
    }
    for (size_t i = 0; i < samples; i++) {
        uint8_t c = (uint8_t)('a' + i % 26);
        double t0 = now_sec();
        if (write(fd, &c, 1) != 1 || wait_byte(fd, c) < 0) {
            fprintf(stderr, "baseline: echo %zu lost\n", i);
            return 1;
        }
        us[i] = (now_sec() - t0) * 1e6;
    }
    kill(-pid, SIGKILL);
    wait_code(pid);
    printf("samples=%zu\n", samples);
    print_latency("", us, samples);
    free(us);
    return 0;
}

static int cmd_spawn(long total, long parallel)
{
    char *argv[] = {"true", NULL};
    long started = 0, done = 0, running = 0;
    double t0 = now_sec();
    while (done < total) {
        while (running < parallel && started < total) {
            pid_t pid;
            if (posix_spawnp(&pid, "true", NULL, NULL, argv, environ) != 0)
                return 1;
            started++;
            running++;
        }
        int st;
        if (wait(&st) > 0) {
            running--;
            done++;
        }
    }
    double secs = now_sec() - t0;
    printf("sessions=%ld\nsecs=%.4f\nrate=%.1f\n", total, secs, (double)total / secs);
    return 0;
}

static char **after_dashes(int argc, char **argv)
{
    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], "--") == 0 && i + 1 < argc)
            return argv + i + 1;
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        goto usage;
    signal(SIGPIPE, SIG_IGN);
    const char *cmd = argv[1];
    char **child = after_dashes(argc, argv);
    if (strcmp(cmd, "gen") == 0)
        return cmd_gen(argc - 2, argv + 2);
    bool with_crc = argc > 2 && strcmp(argv[2], "--crc") == 0;
    if (strcmp(cmd, "pty") == 0 && child)
        return cmd_read(child, true, with_crc);
    if (strcmp(cmd, "pipe") == 0 && child)
        return cmd_read(child, false, with_crc);
    if (strcmp(cmd, "echo") == 0 && argc > 2 && child) {
        long n = atol(argv[2]);
        if (n < 1 || n > BASELINE_ECHO_MAX)
            goto usage;
        return cmd_echo((size_t)n, child);
    }
    if (strcmp(cmd, "spawn") == 0 && argc > 3)
        return cmd_spawn(atol(argv[2]), atol(argv[3]) > 0 ? atol(argv[3]) : 1);
usage:
    fprintf(stderr,
            "usage: podterm-baseline gen BYTES [SEED [EXIT [DELAY_MS]]] | pty [--crc] -- CMD... | "
            "pipe [--crc] -- CMD... | echo N -- CMD... | spawn N P\n");
    return 2;
}
