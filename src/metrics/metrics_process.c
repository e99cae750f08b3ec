/* metrics_process.c - the standard process_* values from /proc/self, read
 * at scrape time (the only I/O of src/metrics/). */
#include "metrics/metrics.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define PROC_STAT_MAX 4096 /* /proc/self/stat is one line of a few hundred bytes */
#define PROC_BTIME_LINE_MAX 256

static bool read_small(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ssize_t n = read(fd, buf, cap - 1);
    close(fd);
    if (n <= 0)
        return false;
    buf[n] = '\0';
    return true;
}

/* The boot time, from /proc/stat's btime line. */
static bool boot_time(unsigned long long *out)
{
    FILE *f = fopen("/proc/stat", "re");
    if (!f)
        return false;
    char line[PROC_BTIME_LINE_MAX];
    bool ok = false;
    while (!ok && fgets(line, sizeof(line), f))
        ok = sscanf(line, "btime %llu", out) == 1;
    fclose(f);
    return ok;
}

static unsigned long long open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return 0;
    unsigned long long n = 0;
    for (struct dirent *e; (e = readdir(d));)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n ? n - 1 : 0; /* the directory's own fd */
}

void metrics_process_read(struct metrics_process *p)
{
    memset(p, 0, sizeof(*p));
    char stat[PROC_STAT_MAX];
    if (!read_small("/proc/self/stat", stat, sizeof(stat)))
        return;
    /* The command name may hold spaces and parentheses: fields start after the last ')'. */
    char *rp = strrchr(stat, ')');
    if (!rp)
        return;
    unsigned long long utime, stime, start, vsize, rss;
    /* Fields 3..24 of proc(5): state, then 10 we skip, utime, stime, 6 more, starttime, vsize, rss.
     */
    if (sscanf(rp + 1,
               " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %*d %*d "
               "%llu %llu %llu",
               &utime, &stime, &start, &vsize, &rss) != 5)
        return;
    long ticks = sysconf(_SC_CLK_TCK);
    long page = sysconf(_SC_PAGESIZE);
    unsigned long long btime;
    if (ticks <= 0 || page <= 0 || !boot_time(&btime))
        return;
    p->cpu_seconds = (double)(utime + stime) / (double)ticks;
    p->start_time_seconds = (double)btime + (double)start / (double)ticks;
    p->virtual_bytes = vsize;
    p->resident_bytes = rss * (unsigned long long)page;
    p->open_fds = open_fds();
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
        p->max_fds = rl.rlim_cur;
    p->ok = true;
}
