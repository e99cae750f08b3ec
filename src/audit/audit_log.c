/* audit_log.c - the audit log writer: lines go into a bounded in-memory
 * queue and reach the file through uv_fs_write on libuv's thread pool, one
 * write in flight at a time, so a slow or full disk never stalls the event
 * loop. Whatever queued while a write was in flight goes out in the next
 * write, as one batch.
 *
 * Failures are reported, not hidden and not retried forever: a failed write
 * (ENOSPC, EIO, EBADF ...) drops the lines of that write, as kube-apiserver
 * drops an event its log backend could not write, and marks the log
 * unhealthy; so does a line refused because the queue is full. The log is
 * healthy again once a write succeeds and leaves nothing queued. A short
 * write continues where it stopped; a failure in the middle of a line is
 * followed by a '\n' before the next write, so one broken line never glues
 * itself to the next good one.
 *
 * The only blocking calls are in audit_log_new (open and fstat at start-up,
 * so a bad path is an error there); afterwards every file operation is a
 * uv_fs_* request. Rotation lives in audit_log_rotate.c. */
#include "audit/audit_log_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void audit_log_fail(struct audit_log *log, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(log->why, sizeof(log->why), fmt, ap);
    va_end(ap);
    log->healthy = false;
}

/* ---- the queue ---- */

static int audit_buf_reserve(struct audit_buf *b, size_t need)
{
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : AUDIT_BUF_MIN;
    while (cap < need)
        cap *= 2;
    char *data = realloc(b->data, cap);
    if (!data)
        return -1;
    b->data = data;
    b->cap = cap;
    return 0;
}

static size_t audit_count_lines(const char *p, size_t n)
{
    size_t lines = 0;
    for (const char *e = p + n; (p = memchr(p, '\n', (size_t)(e - p))); p++)
        lines++;
    return lines;
}

static void audit_flush_due(uv_timer_t *t)
{
    struct audit_log *log = t->data;
    log->flush_armed = false;
    audit_log_kick(log);
}

static size_t audit_queued_bytes(const struct audit_log *log)
{
    return log->pending.len + (log->inflight.len - log->inflight_off);
}

int audit_log_write(struct audit_log *log, const char *line, size_t len)
{
    if (!log || log->closing)
        return -1;
    if (len == 0)
        return 0;
    size_t need = len + (line[len - 1] != '\n'); /* every entry ends a line */
    size_t queued = audit_queued_bytes(log);     /* may pass the bound by a lead '\n' */
    if (queued > AUDIT_QUEUE_MAX || need > AUDIT_QUEUE_MAX - queued) {
        log->stats.lines_dropped++;
        audit_log_fail(log, "queue full: %zu bytes wait for the disk, a %zu byte line was dropped",
                       queued, need);
        return -1;
    }
    /* Out of memory is not a slow disk: the operator's remedy differs. */
    if (audit_buf_reserve(&log->pending, log->pending.len + need) < 0) {
        log->stats.lines_dropped++;
        audit_log_fail(log, "out of memory: a %zu byte line was dropped", need);
        return -1;
    }
    memcpy(log->pending.data + log->pending.len, line, len);
    if (need > len)
        log->pending.data[log->pending.len + len] = '\n';
    /* lines, not calls: a caller's text with a '\n' inside is two lines to
     * every count below */
    log->pending.lines += audit_count_lines(line, len) + (need > len);
    log->pending.len += need;
    /* A write in flight picks this up when it ends; else gather for a moment. */
    if (log->op == AUDIT_OP_NONE && !log->flush_armed) {
        log->flush_armed = true;
        uv_timer_start(&log->flush, audit_flush_due, AUDIT_FLUSH_DELAY_MS, 0);
    }
    return 0;
}

bool audit_log_healthy(const struct audit_log *log, const char **why)
{
    if (why)
        *why = log->healthy ? "" : log->why;
    return log->healthy;
}

size_t audit_log_pending(const struct audit_log *log)
{
    return log->pending.lines + log->inflight.lines;
}

void audit_log_stats_get(const struct audit_log *log, struct audit_log_stats *out)
{
    *out = log->stats;
}

/* ---- writing ---- */

/* The first line's length (with its '\n'). */
static size_t audit_first_line(const struct audit_buf *b)
{
    const char *nl = memchr(b->data, '\n', b->len);
    return nl ? (size_t)(nl - b->data) + 1 : b->len;
}

/* How much of pending goes in the next write: everything, or with rotation
 * the whole lines that keep the file within its size (at least one line: a
 * line larger than the limit gets a file of its own rather than being lost). */
static size_t audit_batch_len(const struct audit_log *log)
{
    const struct audit_buf *p = &log->pending;
    if (!log->rotates || log->size + p->len <= log->max_size)
        return p->len;
    size_t room = log->max_size > log->size ? (size_t)(log->max_size - log->size) : 0;
    size_t first = audit_first_line(p);
    if (room <= first)
        return first;
    const char *nl = memrchr(p->data, '\n', room);
    return nl ? (size_t)(nl - p->data) + 1 : first;
}

static void audit_write_cb(uv_fs_t *req);

static void audit_write_start(struct audit_log *log)
{
    uv_buf_t buf = uv_buf_init(log->inflight.data + log->inflight_off,
                               (unsigned)(log->inflight.len - log->inflight_off));
    log->op = AUDIT_OP_WRITE;
    int rc = uv_fs_write(log->loop, &log->req, log->fd, &buf, 1, -1, audit_write_cb);
    if (rc < 0) { /* not even queued: as if the write failed */
        log->req.result = rc;
        log->req.data = log;
        audit_write_cb(&log->req);
    }
}

/* Move the next batch from pending to inflight (after a '\n' that ends a
 * line a failed write cut short) and write it. */
static void audit_batch_start(struct audit_log *log)
{
    size_t n = audit_batch_len(log);
    size_t lead = log->mid_line ? 1 : 0;
    if (n == log->pending.len && !lead) { /* the common case: swap, no copy */
        struct audit_buf t = log->inflight;
        log->inflight = log->pending;
        log->pending = t;
        log->pending.len = log->pending.lines = 0;
    } else {
        if (audit_buf_reserve(&log->inflight, n + lead) < 0) {
            log->stats.lines_dropped += log->pending.lines;
            audit_log_fail(log, "out of memory: %zu queued lines dropped", log->pending.lines);
            log->pending.len = log->pending.lines = 0;
            return;
        }
        if (lead)
            log->inflight.data[0] = '\n';
        memcpy(log->inflight.data + lead, log->pending.data, n);
        log->inflight.len = n + lead;
        log->inflight.lines = audit_count_lines(log->pending.data, n);
        memmove(log->pending.data, log->pending.data + n, log->pending.len - n);
        log->pending.len -= n;
        log->pending.lines -= log->inflight.lines;
    }
    log->inflight_off = 0;
    log->inflight_lead = lead;
    audit_write_start(log);
}

/* The rest of inflight will never be written: count its lines as lost. */
static void audit_inflight_drop(struct audit_log *log)
{
    size_t off = log->inflight_off;
    if (off < log->inflight_lead)
        off = log->inflight_lead; /* that '\n' is not a line of its own */
    if (off < log->inflight.len) {
        const char *rest = log->inflight.data + off;
        log->stats.lines_dropped += audit_count_lines(rest, log->inflight.len - off);
    }
    log->inflight.len = log->inflight.lines = 0;
    log->inflight_off = 0;
}

static void audit_write_cb(uv_fs_t *req)
{
    struct audit_log *log = req->data;
    ssize_t r = req->result;
    uv_fs_req_cleanup(req);
    log->op = AUDIT_OP_NONE;
    log->stats.writes++;
    if (r <= 0) {
        /* 0 bytes for a non-empty write would loop forever: a failure too */
        audit_log_fail(log, "cannot write the audit log %s: %s",
                       log->is_stdout ? "(stdout)" : log->path,
                       r < 0 ? uv_strerror((int)r) : "nothing was written");
        audit_inflight_drop(log);
        audit_log_kick(log);
        return;
    }
    /* lines completed by these bytes, not counting a leading '\n' that ends
     * the line a failed write cut */
    size_t skip = log->inflight_off < log->inflight_lead ? 1 : 0;
    const char *done = log->inflight.data + log->inflight_off + skip;
    size_t lines = audit_count_lines(done, (size_t)r - skip);
    log->inflight_off += (size_t)r;
    log->size += (uint64_t)r;
    log->mid_line = log->inflight.data[log->inflight_off - 1] != '\n';
    log->stats.bytes_written += (uint64_t)r;
    log->stats.lines_written += lines;
    log->inflight.lines -= lines < log->inflight.lines ? lines : log->inflight.lines;
    if (log->inflight_off < log->inflight.len) { /* short write: the rest, now */
        audit_write_start(log);
        return;
    }
    log->inflight.len = log->inflight.lines = 0;
    log->inflight_off = 0;
    if (log->pending.len == 0)
        log->healthy = true;
    audit_log_kick(log);
}

/* ---- reopening after a failed rotation ---- */

static void audit_reopen_cb(uv_fs_t *req)
{
    struct audit_log *log = req->data;
    ssize_t r = req->result;
    uv_fs_req_cleanup(req);
    log->op = AUDIT_OP_NONE;
    if (r < 0)
        audit_log_open_failed(log, (int)r);
    else
        log->fd = (int)r;
    audit_log_kick(log);
}

void audit_log_open_failed(struct audit_log *log, int uv_err)
{
    audit_log_fail(log, "cannot open the audit log %s: %s", log->path, uv_strerror(uv_err));
    log->stats.lines_dropped += log->pending.lines;
    log->pending.len = log->pending.lines = 0;
    /* The file that size counted is closed (and renamed, or gone): the one
     * the next open finds starts the count again, as after a rotation. Else
     * a reopened empty file was rotated at once into an empty backup. */
    log->size = 0;
}

static void audit_reopen_start(struct audit_log *log)
{
    log->op = AUDIT_OP_REOPEN;
    int rc = uv_fs_open(log->loop, &log->req, log->path, AUDIT_LOG_FLAGS, AUDIT_LOG_MODE,
                        audit_reopen_cb);
    if (rc < 0) {
        log->req.result = rc;
        log->req.data = log;
        audit_reopen_cb(&log->req);
    }
}

/* ---- closing ---- */

static void audit_log_freed(uv_handle_t *h)
{
    struct audit_log *log = h->data;
    void (*cb)(void *) = log->close_cb;
    void *user = log->close_user;
    free(log);
    if (cb)
        cb(user);
}

static void audit_log_finish(struct audit_log *log)
{
    free(log->pending.data);
    free(log->inflight.data);
    audit_log_rotate_clear(log);
    uv_close((uv_handle_t *)&log->flush, audit_log_freed);
}

static void audit_close_cb(uv_fs_t *req)
{
    struct audit_log *log = req->data;
    uv_fs_req_cleanup(req);
    audit_log_finish(log);
}

static void audit_nothing(uv_work_t *work)
{
    (void)work;
}

static void audit_nothing_done(uv_work_t *work, int status)
{
    (void)status;
    audit_log_finish(work->data);
}

static void audit_close_start(struct audit_log *log)
{
    log->op = AUDIT_OP_CLOSE;
    if (!log->is_stdout && log->fd >= 0 &&
        uv_fs_close(log->loop, &log->req, log->fd, audit_close_cb) == 0)
        return;
    /* stdout stays open; close_cb still comes from the loop, never from
     * inside audit_log_close */
    log->work.data = log;
    if (uv_queue_work(log->loop, &log->work, audit_nothing, audit_nothing_done) < 0)
        audit_log_finish(log);
}

void audit_log_close(struct audit_log *log, void (*close_cb)(void *), void *user)
{
    if (!log || log->closing)
        return;
    log->closing = true;
    log->close_cb = close_cb;
    log->close_user = user;
    uv_timer_stop(&log->flush); /* everything queued goes now */
    log->flush_armed = false;
    audit_log_kick(log);
}

/* ---- the pump ---- */

void audit_log_kick(struct audit_log *log)
{
    if (log->op != AUDIT_OP_NONE)
        return;
    log->req.data = log;
    if (log->inflight_off < log->inflight.len)
        audit_write_start(log);
    else if (log->pending.len == 0) {
        if (log->closing)
            audit_close_start(log);
    } else if (log->fd < 0)
        audit_reopen_start(log);
    else if (audit_log_rotation_due(log, audit_first_line(&log->pending)))
        audit_log_rotate_start(log);
    else
        audit_batch_start(log);
}

/* ---- opening ---- */

/* Last step of a successful open: from here the log is freed by closing it. */
static void audit_log_timer_init(struct audit_log *log)
{
    uv_timer_init(log->loop, &log->flush);
    log->flush.data = log;
}

static void audit_log_setup(struct audit_log *log, const struct audit_log_opts *opts)
{
    log->healthy = true;
    log->maxbackup = opts->maxbackup;
    log->max_size = (uint64_t)opts->maxsize_mb * AUDIT_MEGABYTE;
}

struct audit_log *audit_log_new(uv_loop_t *loop, const struct audit_log_opts *opts, char *err,
                                size_t err_cap)
{
    const char *path = opts ? opts->path : NULL;
    if (!loop || !path || !*path) {
        snprintf(err, err_cap, "the audit log needs a path (a file, or - for stdout)");
        return NULL;
    }
    if (strlen(path) >= AUDIT_PATH_MAX) {
        snprintf(err, err_cap, "the audit log path is longer than %d bytes", AUDIT_PATH_MAX - 1);
        return NULL;
    }
    struct audit_log *log = calloc(1, sizeof(*log));
    if (!log) {
        snprintf(err, err_cap, "out of memory");
        return NULL;
    }
    log->loop = loop;
    audit_log_setup(log, opts);
    snprintf(log->path, sizeof(log->path), "%s", path);
    if (strcmp(path, "-") == 0) {
        log->is_stdout = true;
        log->fd = STDOUT_FILENO;
        audit_log_timer_init(log);
        return log;
    }
    struct stat st;
    log->fd = open(path, AUDIT_LOG_FLAGS, AUDIT_LOG_MODE);
    if (log->fd < 0 || fstat(log->fd, &st) != 0) {
        snprintf(err, err_cap, "%s: cannot open the audit log: %s", path, strerror(errno));
        if (log->fd >= 0)
            close(log->fd);
        free(log);
        return NULL;
    }
    log->size = (uint64_t)st.st_size;
    /* A device or a FIFO (/dev/stdout, a pipe to a collector) is not renamed
     * away: only a regular file rotates. */
    log->rotates = S_ISREG(st.st_mode) && log->max_size > 0;
    audit_log_timer_init(log);
    return log;
}
