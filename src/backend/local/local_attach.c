/* local_attach.c - attach streams of the local backend: clients joining a
 * container's long-running main process (container->command, or /bin/sh).
 *
 * The main process ("run") starts on the first attach and keeps running when
 * clients detach, like a real container; the next attach after it exited
 * starts a new one. Several streams may be attached at once:
 *
 * - Output fan-out: the process's output is read once into a ring of the run
 *   (LOCAL_ATTACH_BACKLOG bytes per channel), and every attached stream reads
 *   it from its own position at its own pace. The process is read while the
 *   stream furthest ahead has room for a chunk (LOCAL_ATTACH_CHUNK), so the
 *   fastest reader sets the pace and loses nothing, and a stalled one (a page
 *   that stopped acking, a socket nobody reads) holds up neither the others
 *   nor the process. A stream the ring has overtaken skips ahead alone to the
 *   oldest output still there, and reads LOCAL_ATTACH_SKIP_NOTE
 *   ("\r\n[podterm: N bytes of output skipped]\r\n") on that channel first.
 *   Memory is one ring per channel, however many streams. With every stream
 *   stalled the process waits, as on a full pipe, until one reads again. A
 *   stream gets output from the moment it attaches. With nobody attached,
 *   output is read and dropped (a container's output does not block because
 *   nobody is looking).
 * - Input: stdin of every attached stream that asked for it goes to the
 *   process. close_stdin ends that client's input only: the process keeps
 *   its stdin for the next client (stdinOnce=false).
 * - The end: when the process has exited and its output ended, every
 *   attached stream reads what is left, then gets exited with code 0 (attach
 *   reports Success upstream). stop on an attach stream only detaches it.
 *
 * Streams are notified through a deferred tick, never from inside one of
 * their own calls. */
#include "backend/local/local_internal.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

/* What a stream that was overtaken reads first; at most LOCAL_ATTACH_NOTE_MAX. */
#define LOCAL_ATTACH_SKIP_NOTE "\r\n[podterm: %llu bytes of output skipped]\r\n"
#define LOCAL_ATTACH_NOTE_MAX 64

struct local_run_chan {
    uint8_t *buf;  /* the ring, LOCAL_ATTACH_BACKLOG bytes, allocated on the first read */
    uint64_t end;  /* bytes of output so far; the ring holds the last ones */
    uint32_t tail; /* bytes read after the drain grace */
    bool eof;
};

/* A skip note being read: its text is made again from skipped at each read,
 * so an idle stream does not carry it. */
struct local_note {
    unsigned long long skipped;
    uint8_t len, pos; /* pos < len: being read */
};

struct local_run {
    struct local_obj obj;
    struct local_run *prev, *next; /* the backend's runs */
    const struct config_container *ctr;
    struct local_child child;
    struct local_fd in, out, err;  /* tty: out is the master and carries stdin too */
    struct local_run_chan chan[3]; /* [1], [2] */
    struct local_attach *streams;
    struct local_deferred tick; /* drain end, pumping forced outputs */
    bool tty;
    bool has_stdin;
    bool forced; /* the drain grace passed: -EAGAIN now means the end */
    bool ended;  /* reaped and output ended: no new streams, fds closed */
};

struct local_attach {
    const struct backend_ops *ops; /* first: see backend.h */
    struct local_run *run;
    struct local_attach *prev, *next; /* the run's streams */
    const struct backend_stream_cbs *cbs;
    void *user;
    struct local_deferred tick; /* every callback to the session comes from here */
    uint64_t pos[3];            /* output bytes of the run this stream has read or skipped */
    struct local_note note[3];  /* a skip note being read */
    bool chan_on[3];            /* channels this stream reads */
    bool want[3];               /* readable notifications wanted */
    bool eof_read[3];           /* read returned 0 */
    bool want_stdin, stdin_closed;
    bool want_write;       /* a write returned -EAGAIN */
    bool writable_pending; /* say writable on the next tick */
    bool exit_sent;
    bool busy;    /* inside a callback: stop must not free it yet */
    bool stopped; /* stopped from inside a callback: the tick frees it */
};

#define LOCAL_RUN_OF(ptr, member)                                                                  \
    ((struct local_run *)((char *)(ptr)-offsetof(struct local_run, member)))
#define LOCAL_ATTACH_OF(ptr)                                                                       \
    ((struct local_attach *)((char *)(ptr)-offsetof(struct local_attach, tick)))

static void local_run_pull(struct local_run *run, int c);
static void local_run_check(struct local_run *run);

static struct local_fd *local_run_stdin(struct local_run *run)
{
    return run->tty ? &run->out : &run->in;
}

static void local_attach_kick(struct local_attach *a)
{
    if (!a->stopped)
        local_defer(a->run->obj.b, &a->tick, LOCAL_Q_SOON);
}

static bool local_attach_pending(const struct local_attach *a, int c)
{
    const struct local_run_chan *rc = &a->run->chan[c];
    return a->chan_on[c] && !a->eof_read[c] &&
           (a->note[c].pos < a->note[c].len || a->pos[c] < rc->end || rc->eof);
}

/* Room for a chunk without overtaking a stream this far behind. */
static bool local_attach_room(uint64_t behind)
{
    return behind + LOCAL_ATTACH_CHUNK <= LOCAL_ATTACH_BACKLOG;
}

static bool local_attach_finished(const struct local_attach *a)
{
    if (!a->run->ended)
        return false;
    for (int c = 1; c <= 2; c++)
        if (a->chan_on[c] && !a->eof_read[c])
            return false;
    return true;
}

/* ---- the run's fds ---- */

static bool local_run_has_reader(const struct local_run *run, int c)
{
    for (const struct local_attach *a = run->streams; a; a = a->next)
        if (a->chan_on[c])
            return true;
    return false;
}

/* Read channel c when nobody reads it (to drop it) or the stream furthest
 * ahead has room: never wait for the slowest. */
static bool local_run_wants_output(const struct local_run *run, int c)
{
    bool readers = false;
    for (const struct local_attach *a = run->streams; a; a = a->next) {
        if (!a->chan_on[c])
            continue;
        if (local_attach_room(run->chan[c].end - a->pos[c]))
            return true;
        readers = true;
    }
    return !readers;
}

static void local_run_update(struct local_run *run)
{
    bool writers = false;
    for (struct local_attach *a = run->streams; a; a = a->next)
        writers |= a->want_write;
    int ev[3] = {0, 0, 0};
    for (int c = 1; c <= 2; c++)
        if (!run->chan[c].eof && local_run_wants_output(run, c))
            ev[c] |= UV_READABLE;
    if (writers && run->has_stdin)
        ev[run->tty ? 1 : 0] |= UV_WRITABLE;
    local_fd_watch(&run->in, ev[0]);
    local_fd_watch(&run->out, ev[1]);
    local_fd_watch(&run->err, ev[2]);
}

static void local_run_notify(struct local_run *run, int c)
{
    for (struct local_attach *a = run->streams; a; a = a->next)
        if (a->chan_on[c] && a->want[c])
            local_attach_kick(a);
}

/* Read one chunk of channel c for the attached streams (or drop it if none
 * reads that channel). */
static void local_run_pull(struct local_run *run, int c)
{
    struct local_run_chan *rc = &run->chan[c];
    int fd = c == 1 ? run->out.fd : run->err.fd;
    if (rc->eof || !local_run_wants_output(run, c))
        return;
    if (!rc->buf && !(rc->buf = malloc(LOCAL_ATTACH_BACKLOG)))
        return; /* try again on the next poll */
    /* Into the ring after the newest output (dropped output too: nobody
     * reads what is there, a new stream starts at end). */
    size_t at = (size_t)(rc->end % LOCAL_ATTACH_BACKLOG);
    size_t cap = LOCAL_ATTACH_BACKLOG - at < LOCAL_ATTACH_CHUNK ? LOCAL_ATTACH_BACKLOG - at
                                                                : LOCAL_ATTACH_CHUNK;
    ssize_t n;
    int rounds = 0;
    do
        n = local_fd_read(fd, rc->buf + at, cap, run->forced, &rc->tail);
    while (n > 0 && !local_run_has_reader(run, c) && ++rounds < LOCAL_DISCARD_ROUNDS);
    if (n == -EAGAIN || (n > 0 && !local_run_has_reader(run, c)))
        return; /* nothing, or dropped: the poll stays on */
    if (n == 0)
        rc->eof = true;
    else
        rc->end += (uint64_t)n;
    local_run_update(run);
    if (n > 0 && run->forced) /* the fd may never poll readable again: read it on the next tick */
        local_defer(run->obj.b, &run->tick, LOCAL_Q_SOON);
    local_run_notify(run, c);
    if (rc->eof)
        local_run_check(run);
}

/* Reaped and both outputs ended: close the fds and tell every stream. */
static void local_run_check(struct local_run *run)
{
    if (run->ended || !run->child.reaped || !run->chan[1].eof || !run->chan[2].eof)
        return;
    run->ended = true;
    local_defer_cancel(run->obj.b, &run->tick);
    local_fd_close(&run->in, &run->obj);
    local_fd_close(&run->out, &run->obj);
    local_fd_close(&run->err, &run->obj);
    for (struct local_attach *a = run->streams; a; a = a->next)
        local_attach_kick(a);
    if (!run->streams)
        local_obj_release(&run->obj);
}

static void local_run_writable(struct local_run *run)
{
    for (struct local_attach *a = run->streams; a; a = a->next)
        if (a->want_write) {
            a->want_write = false;
            a->writable_pending = true;
            local_attach_kick(a);
        }
}

static void local_run_io_cb(uv_poll_t *h, int status, int events)
{
    struct local_run *run = h->data;
    struct local_fd *f = (struct local_fd *)h;
    if (status < 0) {
        f->events = 0; /* libuv stopped the poll; the read or write finds the error */
        events = UV_READABLE | UV_WRITABLE;
    }
    if ((events & UV_WRITABLE) && f == local_run_stdin(run))
        local_run_writable(run);
    if ((events & UV_READABLE) && (f == &run->out || f == &run->err))
        local_run_pull(run, f == &run->out ? 1 : 2);
    if (!run->ended)
        local_run_update(run);
}

static void local_run_tick(struct local_deferred *d, enum local_queue from)
{
    struct local_run *run = LOCAL_RUN_OF(d, tick);
    if (from == LOCAL_Q_DRAIN)
        run->forced = true;
    local_run_pull(run, 1);
    local_run_pull(run, 2);
}

static void local_run_child_exited(struct local_child *c)
{
    struct local_run *run = LOCAL_RUN_OF(c, child);
    if (!local_child_reap(run->obj.b, c))
        return;
    local_run_check(run);
    if (!run->ended)
        local_defer(run->obj.b, &run->tick, LOCAL_Q_DRAIN);
}

/* ---- the run's lifetime ---- */

static void local_attach_unlink(struct local_attach *a)
{
    struct local_run *run = a->run;
    if (a->prev)
        a->prev->next = a->next;
    else
        run->streams = a->next;
    if (a->next)
        a->next->prev = a->prev;
    a->prev = a->next = NULL;
}

static void local_run_shutdown(struct local_obj *o)
{
    struct local_run *run = LOCAL_RUN_OF(o, obj);
    if (o->released)
        return;
    /* Streams left attached at backend free are freed with it (the server
     * stops its sessions first; this is the safety net). */
    while (run->streams) {
        struct local_attach *a = run->streams;
        local_defer_cancel(o->b, &a->tick);
        local_attach_unlink(a);
        free(a);
    }
    local_defer_cancel(o->b, &run->tick);
    local_fd_close(&run->in, o);
    local_fd_close(&run->out, o);
    local_fd_close(&run->err, o);
    local_child_kill_wait(o->b, &run->child);
    run->ended = true;
    local_obj_release(o);
}

static void local_run_destroy(struct local_obj *o)
{
    struct local_run *run = LOCAL_RUN_OF(o, obj);
    struct local_backend *b = o->b;
    if (run->prev)
        run->prev->next = run->next;
    else
        b->runs = run->next;
    if (run->next)
        run->next->prev = run->prev;
    free(run->chan[1].buf);
    free(run->chan[2].buf);
    free(run);
}

static int local_run_wire(struct local_backend *b, struct local_run *run,
                          const struct local_spawn_fds *fds)
{
    int r1 = local_fd_init(b, &run->out, fds->out, local_run_io_cb, run);
    int r2 = run->tty ? 0 : local_fd_init(b, &run->in, fds->in, local_run_io_cb, run);
    int r3 = local_fd_init(b, &run->err, fds->err, local_run_io_cb, run);
    run->chan[1].eof = fds->out < 0;
    run->chan[2].eof = fds->err < 0;
    local_run_update(run);
    return r1 < 0 ? r1 : r2 < 0 ? r2 : r3;
}

static struct local_run *local_run_start(struct local_backend *b,
                                         const struct config_container *ctr, char *err,
                                         size_t err_cap, int *rc)
{
    static const char *const shell[] = {"/bin/sh", NULL};
    struct local_spawn_req sp = {
        .ctr = ctr,
        .argv = ctr->command ? (const char *const *)ctr->command : shell,
        .tty = ctr->tty,
        .want_in = ctr->stdin_open,
        .want_out = true,
        .want_err = true,
    };
    struct local_spawn_fds fds;
    struct local_run *run = calloc(1, sizeof(*run));
    if (!run) {
        snprintf(err, err_cap, "out of memory");
        *rc = -ENOMEM;
        return NULL;
    }
    run->child.exited = local_run_child_exited;
    if ((*rc = local_spawn(b, &sp, &run->child, &fds, err, err_cap)) < 0) {
        free(run);
        return NULL;
    }
    local_fd_none(&run->in); /* a tty run has no separate stdin fd */
    run->obj.shutdown = local_run_shutdown;
    run->obj.destroy = local_run_destroy;
    run->tick.run = local_run_tick;
    run->ctr = ctr;
    run->tty = ctr->tty;
    run->has_stdin = ctr->stdin_open;
    local_obj_add(b, &run->obj);
    run->next = b->runs;
    if (b->runs)
        b->runs->prev = run;
    b->runs = run;
    if ((*rc = local_run_wire(b, run, &fds)) < 0) {
        snprintf(err, err_cap, "cannot watch the process: %s", uv_strerror(*rc));
        local_run_shutdown(&run->obj);
        return NULL;
    }
    return run;
}

/* The container's main process if it is still running (not yet reaped). */
static struct local_run *local_run_find(struct local_backend *b, const struct config_container *ctr)
{
    for (struct local_run *run = b->runs; run; run = run->next)
        if (run->ctr == ctr && !run->child.reaped)
            return run;
    return NULL;
}

/* ---- attach streams ---- */

static void local_attach_tick(struct local_deferred *d, enum local_queue from)
{
    struct local_attach *a = LOCAL_ATTACH_OF(d);
    a->busy = true;
    if (a->writable_pending) {
        a->writable_pending = false;
        a->cbs->writable(a->user);
    }
    for (int c = 1; c <= 2 && !a->stopped; c++)
        if (a->want[c] && local_attach_pending(a, c))
            a->cbs->readable(a->user, c);
    if (!a->stopped && !a->exit_sent && local_attach_finished(a)) {
        a->exit_sent = true;
        struct backend_exit ex = {.type = BACKEND_EXIT_CODE, .code = 0};
        a->cbs->exited(a->user, &ex);
    }
    a->busy = false;
    if (a->stopped) {
        free(a);
        return;
    }
    /* Level-triggered like a poll: say it again while unread output waits. */
    for (int c = 1; c <= 2; c++)
        if (a->want[c] && local_attach_pending(a, c))
            local_attach_kick(a);
}

/* Overtaken by the ring: go on from the oldest output still in it, and say
 * how much was skipped before it. */
static void local_attach_skip(struct local_attach *a, int c)
{
    const struct local_run_chan *rc = &a->run->chan[c];
    uint64_t oldest = rc->end > LOCAL_ATTACH_BACKLOG ? rc->end - LOCAL_ATTACH_BACKLOG : 0;
    struct local_note *nt = &a->note[c];
    if (nt->pos < nt->len || a->pos[c] >= oldest)
        return;
    char text[LOCAL_ATTACH_NOTE_MAX];
    nt->skipped = oldest - a->pos[c];
    int n = snprintf(text, sizeof(text), LOCAL_ATTACH_SKIP_NOTE, nt->skipped);
    nt->len = (uint8_t)(n > 0 && (size_t)n < sizeof(text) ? n : 0);
    nt->pos = 0;
    a->pos[c] = oldest;
}

static ssize_t local_attach_read(struct backend_stream *bs, int channel, uint8_t *buf, size_t cap)
{
    struct local_attach *a = (struct local_attach *)bs;
    if ((channel != 1 && channel != 2) || !a->chan_on[channel] || a->eof_read[channel])
        return 0;
    struct local_run *run = a->run;
    struct local_run_chan *rc = &run->chan[channel];
    struct local_note *nt = &a->note[channel];
    local_attach_skip(a, channel);
    if ((nt->pos < nt->len || a->pos[channel] < rc->end) && cap == 0)
        return -EAGAIN;
    if (nt->pos < nt->len) {
        char text[LOCAL_ATTACH_NOTE_MAX];
        snprintf(text, sizeof(text), LOCAL_ATTACH_SKIP_NOTE, nt->skipped);
        size_t n = (size_t)(nt->len - nt->pos);
        n = n < cap ? n : cap;
        memcpy(buf, text + nt->pos, n);
        nt->pos += (uint8_t)n;
        return (ssize_t)n;
    }
    if (a->pos[channel] < rc->end) {
        size_t at = (size_t)(a->pos[channel] % LOCAL_ATTACH_BACKLOG);
        uint64_t left = rc->end - a->pos[channel];
        size_t n = LOCAL_ATTACH_BACKLOG - at;
        n = left < n ? (size_t)left : n;
        n = n < cap ? n : cap;
        memcpy(buf, rc->buf + at, n);
        bool had_room = local_attach_room(left);
        a->pos[channel] += n;
        /* This stream may be the one the process waits for. */
        if (!had_room && local_attach_room(left - n) && !run->ended) {
            local_run_update(run);
            if (run->forced)
                local_defer(run->obj.b, &run->tick, LOCAL_Q_SOON);
        }
        return (ssize_t)n;
    }
    if (!rc->eof)
        return -EAGAIN;
    a->eof_read[channel] = true;
    if (local_attach_finished(a))
        local_attach_kick(a);
    return 0;
}

static void local_attach_want_read(struct backend_stream *bs, int channel, bool on)
{
    struct local_attach *a = (struct local_attach *)bs;
    if (channel != 1 && channel != 2)
        return;
    a->want[channel] = on;
    if (on && local_attach_pending(a, channel))
        local_attach_kick(a);
}

static ssize_t local_attach_write(struct backend_stream *bs, const uint8_t *buf, size_t len)
{
    struct local_attach *a = (struct local_attach *)bs;
    struct local_run *run = a->run;
    if (!a->want_stdin || a->stdin_closed || !run->has_stdin || run->ended)
        return -EPIPE;
    ssize_t n = local_fd_write(local_run_stdin(run)->fd, buf, len);
    if (n == -EAGAIN) {
        a->want_write = true;
        local_run_update(run);
    }
    return n;
}

static void local_attach_close_stdin(struct backend_stream *bs)
{
    struct local_attach *a = (struct local_attach *)bs;
    a->stdin_closed = true;
    a->want_write = false;
}

static void local_attach_resize(struct backend_stream *bs, uint16_t width, uint16_t height)
{
    struct local_attach *a = (struct local_attach *)bs;
    if (!a->run->tty || a->run->out.fd < 0 || width == 0 || height == 0)
        return;
    struct winsize ws = {.ws_row = height, .ws_col = width};
    ioctl(a->run->out.fd, TIOCSWINSZ, &ws); /* the last client to resize wins */
}

/* Detach: the process keeps running, paced by the streams left (or read
 * and dropped when none is). */
static void local_attach_stop(struct backend_stream *bs)
{
    struct local_attach *a = (struct local_attach *)bs;
    struct local_run *run = a->run;
    local_defer_cancel(run->obj.b, &a->tick);
    local_attach_unlink(a);
    a->stopped = true;
    if (run->ended && !run->streams)
        local_obj_release(&run->obj);
    else if (!run->ended)
        local_run_update(run);
    if (!a->busy)
        free(a);
}

const struct backend_ops local_attach_ops = {
    .read = local_attach_read,
    .want_read = local_attach_want_read,
    .write = local_attach_write,
    .close_stdin = local_attach_close_stdin,
    .resize = local_attach_resize,
    .stop = local_attach_stop,
};

int local_attach_start(struct local_backend *b, const struct config_container *ctr,
                       const struct backend_exec_request *req, const struct backend_stream_cbs *cbs,
                       void *user, struct backend_stream **out, char *err, size_t err_cap)
{
    struct local_attach *a = calloc(1, sizeof(*a));
    if (!a) {
        snprintf(err, err_cap, "out of memory");
        return -ENOMEM;
    }
    int rc = 0;
    struct local_run *run = local_run_find(b, ctr);
    if (!run && !(run = local_run_start(b, ctr, err, err_cap, &rc))) {
        free(a);
        return rc;
    }
    a->ops = &local_attach_ops;
    a->run = run;
    a->cbs = cbs;
    a->user = user;
    a->tick.run = local_attach_tick;
    a->chan_on[1] = req->want_stdout;
    a->chan_on[2] = req->want_stderr && !run->tty; /* PROTOCOL.md 3.8 */
    a->pos[1] = run->chan[1].end;                  /* output from now on */
    a->pos[2] = run->chan[2].end;
    a->want_stdin = req->want_stdin;
    a->next = run->streams;
    if (run->streams)
        run->streams->prev = a;
    run->streams = a;
    /* The others may all be stalled, the process waiting on them: this one
     * has room. */
    if (!run->ended) {
        local_run_update(run);
        if (run->forced)
            local_defer(b, &run->tick, LOCAL_Q_SOON);
    }
    *out = (struct backend_stream *)a;
    return 0;
}
