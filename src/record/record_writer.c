/* record_writer.c - a recording's file through libuv's fs requests
 * (record_writer.h). */
#include "record/record_writer.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct record_buf {
    char *data;
    size_t len, cap;
};

struct record_writer {
    uv_loop_t *loop;
    int fd;
    uv_fs_t req;
    bool writing, closing, failed;
    bool overflowed;           /* an append found no room: said at the end of the write in flight */
    struct record_buf pending; /* filled by appends */
    struct record_buf inflight; /* being written: untouched until its callback */
    size_t inflight_off;
    uint64_t bytes;
    record_writer_failed_fn failed_cb;
    record_writer_wrote_fn wrote_cb;
    void *user;
    record_writer_closed_fn closed_cb;
    void *closed_user;
    char why[RECORD_WHY_MAX]; /* the first failure */
};

static void record_writer_kick(struct record_writer *w);

struct record_writer *record_writer_new(uv_loop_t *loop, int fd, record_writer_failed_fn failed,
                                        record_writer_wrote_fn wrote, void *user)
{
    struct record_writer *w = calloc(1, sizeof(*w));
    if (!w) {
        close(fd);
        return NULL;
    }
    w->loop = loop;
    w->fd = fd;
    w->failed_cb = failed;
    w->wrote_cb = wrote;
    w->user = user;
    return w;
}

size_t record_writer_pending(const struct record_writer *w)
{
    return w->pending.len;
}

uint64_t record_writer_bytes(const struct record_writer *w)
{
    return w->bytes;
}

static int record_buf_reserve(struct record_buf *b, size_t need)
{
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : RECORD_BUF_MIN;
    while (cap < need)
        cap *= 2;
    if (cap > RECORD_BUF_MAX)
        cap = RECORD_BUF_MAX;
    char *data = realloc(b->data, cap);
    if (!data)
        return -1;
    b->data = data;
    b->cap = cap;
    return 0;
}

static void record_buf_release(struct record_buf *b)
{
    free(b->data);
    *b = (struct record_buf){0};
}

int record_writer_append(struct record_writer *w, const char *line, size_t len)
{
    if (w->failed || w->closing)
        return -1;
    /* No room can only mean a write is in flight (an idle writer's pending
     * is empty, and a line is far smaller than the buffer): its callback
     * reports it, outside the caller's step. */
    if (len > RECORD_BUF_MAX - w->pending.len ||
        record_buf_reserve(&w->pending, w->pending.len + len) < 0) {
        w->overflowed = true;
        return -1;
    }
    memcpy(w->pending.data + w->pending.len, line, len);
    w->pending.len += len;
    w->bytes += len;
    record_writer_kick(w);
    return 0;
}

static void record_writer_free(struct record_writer *w)
{
    if (w->closed_cb)
        w->closed_cb(w->closed_user, w->failed ? w->why : NULL);
    free(w->pending.data);
    free(w->inflight.data);
    free(w);
}

static void record_writer_freed(uv_fs_t *req)
{
    struct record_writer *w = req->data;
    ssize_t r = req->result;
    uv_fs_req_cleanup(req);
    if (r < 0 && !w->failed) { /* close(2) reports a deferred write error (NFS) */
        w->failed = true;
        snprintf(w->why, sizeof(w->why), "cannot close the recording: %s", uv_strerror((int)r));
    }
    record_writer_free(w);
}

static void record_write_cb(uv_fs_t *req);

static void record_write_start(struct record_writer *w)
{
    uv_buf_t buf = uv_buf_init(w->inflight.data + w->inflight_off,
                               (unsigned)(w->inflight.len - w->inflight_off));
    w->writing = true;
    w->req.data = w;
    int rc = uv_fs_write(w->loop, &w->req, w->fd, &buf, 1, -1, record_write_cb);
    if (rc < 0) { /* not even queued: as if the write failed */
        w->req.result = rc;
        record_write_cb(&w->req);
    }
}

static void record_writer_fail(struct record_writer *w, ssize_t r)
{
    w->failed = true;
    w->pending.len = w->inflight.len = w->inflight_off = 0;
    snprintf(w->why, sizeof(w->why), "cannot write the recording: %s",
             r < 0 ? uv_strerror((int)r) : "nothing was written");
    if (!w->closing && w->failed_cb) /* once closing, closed_cb says it */
        w->failed_cb(w->user, w->why, true);
}

/* Lines were refused for want of room: the file is incomplete from here,
 * though the disk works (the caller may still write a last line). */
static void record_writer_overflow_report(struct record_writer *w)
{
    w->overflowed = false;
    if (w->closing || !w->failed_cb)
        return;
    char why[RECORD_WHY_MAX];
    snprintf(why, sizeof(why), "the disk fell behind the terminal (%d MiB waiting)",
             2 * RECORD_BUF_MAX / (1024 * 1024));
    w->failed_cb(w->user, why, false);
}

static void record_write_cb(uv_fs_t *req)
{
    struct record_writer *w = req->data;
    ssize_t r = req->result;
    uv_fs_req_cleanup(req);
    w->writing = false;
    bool overflow = false;
    if (r <= 0) { /* 0 bytes for a non-empty write would loop forever: a failure too */
        record_writer_fail(w, r);
    } else {
        w->inflight_off += (size_t)r;
        overflow = w->overflowed && w->inflight_off == w->inflight.len;
    }
    bool alive = !w->closing; /* a closing writer may be gone after the kick */
    record_writer_kick(w);    /* the next batch is in flight before anyone hears of this one */
    if (!alive)
        return;
    if (overflow) /* after the kick: the buffer is free again for the caller's last line */
        record_writer_overflow_report(w);
    if (r > 0 && w->wrote_cb)
        w->wrote_cb(w->user);
}

/* The next step: the rest of a short write, the next batch, or the close. */
static void record_writer_kick(struct record_writer *w)
{
    if (w->writing)
        return;
    if (w->inflight_off < w->inflight.len) {
        record_write_start(w);
        return;
    }
    if (w->pending.len) { /* swap: what gathered meanwhile goes in one write */
        struct record_buf t = w->inflight;
        w->inflight = w->pending;
        w->pending = t;
        w->pending.len = 0;
        w->inflight_off = 0;
        record_write_start(w);
        return;
    }
    /* Everything is on disk: an idle recording keeps no buffer. */
    record_buf_release(&w->pending);
    record_buf_release(&w->inflight);
    w->inflight_off = 0;
    if (w->closing) {
        w->writing = true; /* no further step */
        w->req.data = w;
        if (uv_fs_close(w->loop, &w->req, w->fd, record_writer_freed) < 0) {
            close(w->fd);
            record_writer_free(w);
        }
    }
}

void record_writer_close(struct record_writer *w, record_writer_closed_fn closed, void *user)
{
    if (!w || w->closing)
        return;
    w->closing = true;
    w->closed_cb = closed;
    w->closed_user = user;
    record_writer_kick(w);
}
