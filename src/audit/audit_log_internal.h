/* audit_log_internal.h - the audit log writer's state, shared by the queue
 * and writes (audit_log.c) and size rotation (audit_log_rotate.c). Not for
 * other modules.
 *
 * Everything runs on the loop thread; the disk work is uv_fs_* requests on
 * libuv's thread pool, one at a time through the single req below, so the
 * buffer being written is never touched until its callback. */
#ifndef PODTERM_AUDIT_LOG_INTERNAL_H
#define PODTERM_AUDIT_LOG_INTERNAL_H

#include <fcntl.h>
#include <stdint.h>

#include "audit/audit.h"

#define AUDIT_PATH_MAX 4096          /* the log's path, and a backup's */
#define AUDIT_WHY_MAX 256            /* why the log is unhealthy */
#define AUDIT_STAMP_LEN 23           /* 2006-01-02T15-04-05.000, lumberjack's backup stamp */
#define AUDIT_BUF_MIN 4096           /* first allocation of a queue buffer */
#define AUDIT_MEGABYTE (1u << 20)    /* --audit-log-maxsize unit, as lumberjack's */
#define AUDIT_BACKUPS_SCAN_MAX 65536 /* backups looked at when deleting old ones */
#define AUDIT_LOG_FLAGS (O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC)
#define AUDIT_LOG_MODE 0600 /* the events name users and their commands */

/* Complete lines ('\n'-terminated), contiguous. */
struct audit_buf {
    char *data;
    size_t len, cap;
    size_t lines;
};

enum audit_log_op {
    AUDIT_OP_NONE = 0,
    AUDIT_OP_WRITE,
    AUDIT_OP_REOPEN, /* the file is not open (a failed rotation left it so) */
    AUDIT_OP_ROTATE, /* close, rename, reopen, list, delete: audit_log_rotate.c */
    AUDIT_OP_CLOSE,
};

struct audit_log {
    uv_loop_t *loop;
    char path[AUDIT_PATH_MAX];
    bool is_stdout;
    bool rotates;      /* a regular file and maxsize set */
    uint64_t max_size; /* bytes; 0 never rotate */
    unsigned maxbackup;
    int fd;        /* -1 while closed between rotation steps */
    uint64_t size; /* bytes in the current file */
    bool mid_line; /* a failed write left a partial line at the end of the file */

    struct audit_buf pending;  /* queued by audit_log_write */
    struct audit_buf inflight; /* being written: not touched until the callback */
    size_t inflight_off;       /* bytes of inflight written so far */
    size_t inflight_lead;      /* 1 when inflight starts with a '\n' ending a cut line */

    enum audit_log_op op; /* the request in flight, if any */
    uv_fs_t req;
    uv_work_t work; /* close of stdout: nothing to close, but close_cb from the loop */

    /* rotation in progress */
    int rot_step;
    char backup[AUDIT_PATH_MAX];
    int64_t last_stamp_ms; /* two rotations in one millisecond get distinct names */
    bool renamed;
    char **doomed; /* backups to delete, full paths */
    size_t doomed_len, doomed_next;

    bool healthy;
    char why[AUDIT_WHY_MAX];
    struct audit_log_stats stats;

    /* Lines written within AUDIT_FLUSH_DELAY_MS go out in one write: each
     * write is a hand-off to libuv's thread pool, which cost more than the
     * event itself when every request wrote its lines alone. */
    uv_timer_t flush;
    bool flush_armed;

    bool closing;
    void (*close_cb)(void *);
    void *close_user;
};

/* Mark the log unhealthy with a reason (printf-style; data is never the format). */
void audit_log_fail(struct audit_log *log, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Start the next piece of work if none is in flight (called after every
 * completion and every queued line). */
void audit_log_kick(struct audit_log *log);

/* Whether writing the next line needs a rotation first. */
bool audit_log_rotation_due(const struct audit_log *log, size_t next_line_len);

/* Close, rename to the backup name, reopen, delete old backups; then
 * audit_log_kick. */
void audit_log_rotate_start(struct audit_log *log);
/* Free what a rotation left (on close). */
void audit_log_rotate_clear(struct audit_log *log);
/* The file could not be (re)opened: lines waiting are dropped, or each would
 * retry the open at once. */
void audit_log_open_failed(struct audit_log *log, int uv_err);

/* The lumberjack backup name for path rotated at ms (Unix milliseconds, UTC):
 * "dir/name-2006-01-02T15-04-05.000.ext". -1 if it does not fit in cap. */
int audit_log_backup_name(const char *path, int64_t ms, char *out, size_t cap);

/* Whether base (a file name without its folder) is a backup of path: its
 * name, '-', a stamp, its extension, and optionally ".gz". The stamp is
 * copied to stamp (AUDIT_STAMP_LEN + 1). */
bool audit_log_backup_parse(const char *path, const char *base, char *stamp);

#endif
