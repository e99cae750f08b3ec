/* audit_log_rotate.c - size rotation as kube-apiserver does it through
 * lumberjack (gopkg.in/natefinch/lumberjack.v2, which the apiserver's
 * --audit-log-path uses with LocalTime unset, so stamps are UTC):
 *
 *   before a write that would take the file past --audit-log-maxsize MB, the
 *   file is closed and renamed to name-<stamp>.ext (stamp: Go layout
 *   2006-01-02T15-04-05.000 of the rotation time in UTC; ext: what Go's
 *   filepath.Ext gives, ".log" for audit.log, nothing for "audit"), the path
 *   is opened again empty, and the oldest backups beyond
 *   --audit-log-maxbackup are deleted, ordered by the stamp in their names
 *   (name.ext.gz counts as the same backup; 0 keeps all).
 *
 * Every step is a uv_fs_* request on the thread pool; a step's callback
 * starts the next. A failed rename is reported and writing continues in the
 * same file (size counted from zero, so the next try is one maxsize later);
 * a failed open drops what waits and the next line tries again. Two
 * rotations within one millisecond get stamps one millisecond apart, where
 * lumberjack would rename over its own previous backup. */
#include "audit/audit_log_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum rot_step { ROT_CLOSE, ROT_RENAME, ROT_OPEN, ROT_SCAN, ROT_UNLINK };

static void rot_next(struct audit_log *log);

bool audit_log_rotation_due(const struct audit_log *log, size_t next_line_len)
{
    return log->rotates && log->size > 0 && log->size + next_line_len > log->max_size;
}

/* ---- names ---- */

/* Where the folder ends in path (after its last '/'), and the extension's
 * start in the base name, as Go's filepath.Dir and filepath.Ext split it. */
static void rot_split(const char *path, size_t *base, size_t *ext)
{
    const char *slash = strrchr(path, '/');
    *base = slash ? (size_t)(slash - path) + 1 : 0;
    const char *dot = strrchr(path + *base, '.');
    *ext = dot ? (size_t)(dot - path) : strlen(path);
}

static int rot_stamp(int64_t ms, char out[AUDIT_STAMP_LEN + 1])
{
    time_t sec = (time_t)(ms / 1000);
    struct tm tm;
    if (ms < 0 || !gmtime_r(&sec, &tm))
        return -1;
    int n =
        snprintf(out, AUDIT_STAMP_LEN + 1, "%04d-%02d-%02dT%02d-%02d-%02d.%03d", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
    return n == AUDIT_STAMP_LEN ? 0 : -1;
}

int audit_log_backup_name(const char *path, int64_t ms, char *out, size_t cap)
{
    char stamp[AUDIT_STAMP_LEN + 1];
    size_t base, ext;
    rot_split(path, &base, &ext);
    if (rot_stamp(ms, stamp) < 0)
        return -1;
    int n = snprintf(out, cap, "%.*s-%s%s", (int)ext, path, stamp, path + ext);
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

/* A stamp lumberjack's time.Parse would accept: the layout's digits and
 * separators, with months, days, hours, minutes and seconds in range. */
static bool rot_stamp_valid(const char *s)
{
    static const char layout[] = "dddd-dd-ddTdd-dd-dd.ddd";
    for (size_t i = 0; i < AUDIT_STAMP_LEN; i++)
        if (layout[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != layout[i])
            return false;
#define RF(i) ((s[i] - '0') * 10 + (s[i + 1] - '0'))
    return RF(5) >= 1 && RF(5) <= 12 && RF(8) >= 1 && RF(8) <= 31 && RF(11) < 24 && RF(14) < 60 &&
           RF(17) < 60;
#undef RF
}

bool audit_log_backup_parse(const char *path, const char *name, char *stamp)
{
    size_t base, ext;
    rot_split(path, &base, &ext);
    const char *prefix = path + base;
    size_t plen = ext - base, elen = strlen(path + ext), n = strlen(name);
    if (n < plen + 1 + AUDIT_STAMP_LEN + elen || strncmp(name, prefix, plen) != 0 ||
        name[plen] != '-')
        return false;
    const char *s = name + plen + 1, *rest = s + AUDIT_STAMP_LEN;
    if (strncmp(rest, path + ext, elen) != 0 || (rest[elen] && strcmp(rest + elen, ".gz") != 0))
        return false;
    if (!rot_stamp_valid(s))
        return false;
    memcpy(stamp, s, AUDIT_STAMP_LEN);
    stamp[AUDIT_STAMP_LEN] = '\0';
    return true;
}

/* ---- deleting old backups ---- */

struct rot_found {
    char stamp[AUDIT_STAMP_LEN + 1];
    char *name;
};

static int rot_found_newest_first(const void *a, const void *b)
{
    return strcmp(((const struct rot_found *)b)->stamp, ((const struct rot_found *)a)->stamp);
}

void audit_log_rotate_clear(struct audit_log *log)
{
    for (size_t i = 0; log->doomed && i < log->doomed_len; i++)
        free(log->doomed[i]);
    free(log->doomed);
    log->doomed = NULL;
    log->doomed_len = log->doomed_next = 0;
}

/* The backups the scan found beyond the newest maxbackup stamps. */
static void rot_doom(struct audit_log *log, struct rot_found *f, size_t n)
{
    qsort(f, n, sizeof(*f), rot_found_newest_first);
    size_t distinct = 0, base, ext;
    rot_split(log->path, &base, &ext);
    log->doomed = calloc(n ? n : 1, sizeof(char *));
    for (size_t i = 0; log->doomed && i < n; i++) {
        if (i == 0 || strcmp(f[i].stamp, f[i - 1].stamp) != 0)
            distinct++;
        if (distinct <= log->maxbackup)
            continue;
        size_t len = base + strlen(f[i].name) + 1;
        char *full = len <= AUDIT_PATH_MAX ? malloc(len) : NULL;
        if (!full)
            continue;
        snprintf(full, len, "%.*s%s", (int)base, log->path, f[i].name);
        log->doomed[log->doomed_len++] = full;
    }
}

static void rot_scan_done(struct audit_log *log, uv_fs_t *req)
{
    struct rot_found *f = NULL;
    size_t n = 0, cap = 0;
    uv_dirent_t ent;
    while (uv_fs_scandir_next(req, &ent) != UV_EOF) {
        char stamp[AUDIT_STAMP_LEN + 1];
        if (ent.type == UV_DIRENT_DIR || n >= AUDIT_BACKUPS_SCAN_MAX ||
            !audit_log_backup_parse(log->path, ent.name, stamp))
            continue;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            struct rot_found *nf = realloc(f, ncap * sizeof(*f));
            if (!nf)
                break;
            f = nf;
            cap = ncap;
        }
        memcpy(f[n].stamp, stamp, sizeof(stamp));
        if ((f[n].name = strdup(ent.name)))
            n++;
    }
    if (n > log->maxbackup)
        rot_doom(log, f, n);
    for (size_t i = 0; i < n; i++)
        free(f[i].name);
    free(f);
}

/* ---- the steps ---- */

static void rot_cb(uv_fs_t *req)
{
    struct audit_log *log = req->data;
    ssize_t r = req->result;
    switch (log->rot_step) {
    case ROT_CLOSE:
        log->fd = -1; /* closed even when close reports an error */
        log->rot_step = ROT_RENAME;
        break;
    case ROT_RENAME:
        log->renamed = r == 0;
        if (r == 0)
            log->stats.rotations++;
        else
            audit_log_fail(log, "cannot rotate the audit log: rename %s to %s: %s", log->path,
                           log->backup, uv_strerror((int)r));
        log->rot_step = ROT_OPEN;
        break;
    case ROT_OPEN:
        if (r < 0) {
            audit_log_open_failed(log, (int)r);
            log->op = AUDIT_OP_NONE;
            uv_fs_req_cleanup(req);
            audit_log_kick(log); /* the next line retries the open */
            return;
        }
        log->fd = (int)r;
        log->size = 0;
        if (log->renamed) /* a line a failure cut short stays in the backup */
            log->mid_line = false;
        log->rot_step = log->renamed && log->maxbackup ? ROT_SCAN : ROT_UNLINK;
        break;
    case ROT_SCAN:
        if (r >= 0)
            rot_scan_done(log, req);
        log->rot_step = ROT_UNLINK;
        break;
    case ROT_UNLINK:
        log->doomed_next++; /* deleted or not: lumberjack ignores these errors too */
        break;
    }
    uv_fs_req_cleanup(req);
    rot_next(log);
}

static int64_t rot_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int rot_rename_start(struct audit_log *log)
{
    int64_t ms = rot_now_ms();
    if (ms <= log->last_stamp_ms)
        ms = log->last_stamp_ms + 1;
    log->last_stamp_ms = ms;
    if (audit_log_backup_name(log->path, ms, log->backup, sizeof(log->backup)) < 0)
        return UV_ENAMETOOLONG;
    return uv_fs_rename(log->loop, &log->req, log->path, log->backup, rot_cb);
}

static void rot_next(struct audit_log *log)
{
    int rc = 0;
    uv_fs_t *req = &log->req;
    req->data = log;
    switch (log->rot_step) {
    case ROT_CLOSE:
        rc = uv_fs_close(log->loop, req, log->fd, rot_cb);
        break;
    case ROT_RENAME:
        rc = rot_rename_start(log);
        break;
    case ROT_OPEN:
        rc = uv_fs_open(log->loop, req, log->path, AUDIT_LOG_FLAGS, AUDIT_LOG_MODE, rot_cb);
        break;
    case ROT_SCAN: {
        size_t base, ext;
        char dir[AUDIT_PATH_MAX];
        rot_split(log->path, &base, &ext);
        if (base == 0) /* a bare name: the current folder */
            snprintf(dir, sizeof(dir), ".");
        else /* without the final '/', unless it is the root */
            snprintf(dir, sizeof(dir), "%.*s", (int)(base > 1 ? base - 1 : 1), log->path);
        rc = uv_fs_scandir(log->loop, req, dir, 0, rot_cb);
        break;
    }
    case ROT_UNLINK:
        if (log->doomed_next >= log->doomed_len) {
            audit_log_rotate_clear(log);
            log->op = AUDIT_OP_NONE;
            audit_log_kick(log);
            return;
        }
        rc = uv_fs_unlink(log->loop, req, log->doomed[log->doomed_next], rot_cb);
        break;
    }
    if (rc < 0) { /* the request was not even queued: its step failed */
        req->result = rc;
        rot_cb(req);
    }
}

void audit_log_rotate_start(struct audit_log *log)
{
    log->op = AUDIT_OP_ROTATE;
    log->rot_step = ROT_CLOSE;
    log->renamed = false;
    rot_next(log);
}
