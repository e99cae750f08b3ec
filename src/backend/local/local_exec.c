/* local_exec.c - exec streams of the local backend: one process per stream,
 * on a PTY (tty) or on pipes.
 *
 * Output is pulled: the session reads straight from the fd into its own
 * buffer (one read() per call, no copy here), and the fd is polled only
 * while the session wants it, so a slow client blocks the process, not our
 * memory.
 *
 * The end: exited fires once the child is reaped and every output has been
 * read to its end. Outputs that a grandchild keeps open get
 * LOCAL_DRAIN_GRACE_MS after the reap; then what is already there (at most
 * LOCAL_DRAIN_TAIL_MAX more) is read and the next empty read is the end. A
 * PTY master returns the rest of the output and then EIO (the end); Linux
 * moves PTY data to the master asynchronously, so output written just before
 * the exit can arrive after the pidfd says "exited": the stream waits for
 * EIO, not for the exit.
 *
 * stop: SIGHUP to the process group, SIGKILL after the kill grace, reaped
 * when its pidfd says so; memory is freed once every handle has closed. */
#include "backend/local/local_internal.h"

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

enum {
    LOCAL_ROLE_IN = 1,      /* stdin of the process */
    LOCAL_ROLE_OUT1 = 2,    /* channel 1 */
    LOCAL_ROLE_OUT2 = 4,    /* channel 2 */
    LOCAL_ROLE_DISCARD = 8, /* PTY output nobody asked for: read and dropped */
};
#define LOCAL_ROLE_OUTPUT (LOCAL_ROLE_OUT1 | LOCAL_ROLE_OUT2 | LOCAL_ROLE_DISCARD)
#define LOCAL_DISCARD_CHUNK 4096 /* stack buffer for dropped PTY output */

struct local_exec_io {
    struct local_fd f; /* first: the poll handle casts back to this */
    uint8_t roles;
    bool want_read;  /* the session wants readable notifications */
    bool want_write; /* a write returned -EAGAIN: say writable when it is */
    bool eof;        /* read returned 0 (the end of this output) */
    uint32_t tail;   /* bytes read after the drain grace */
};

struct local_exec {
    const struct backend_ops *ops; /* first: see backend.h */
    struct local_obj obj;
    struct local_child child;
    const struct backend_stream_cbs *cbs;
    void *user;
    struct local_deferred tick; /* drain end, exit delivery, kill grace */
    bool tty;
    bool stdin_closed;
    bool forced;    /* the drain grace passed: -EAGAIN now means the end */
    bool finished;  /* reaped and every output ended; fds closed */
    bool exit_sent; /* exited was called */
    bool stopped;   /* stop was called: no more callbacks */
    uint8_t nio;
    struct local_exec_io io[]; /* tty: the master; pipes: stdin, stdout, stderr wanted */
};

#define LOCAL_EXEC_OF(ptr, member)                                                                 \
    ((struct local_exec *)((char *)(ptr)-offsetof(struct local_exec, member)))

static struct local_exec_io *local_exec_io_find(struct local_exec *s, unsigned role)
{
    for (uint8_t i = 0; i < s->nio; i++)
        if (s->io[i].roles & role)
            return &s->io[i];
    return NULL;
}

static unsigned local_channel_role(int channel)
{
    return channel == 1 ? LOCAL_ROLE_OUT1 : channel == 2 ? LOCAL_ROLE_OUT2 : 0;
}

static void local_exec_io_update(struct local_exec_io *io)
{
    int events = 0;
    if (!io->eof && ((io->roles & LOCAL_ROLE_DISCARD) ||
                     ((io->roles & (LOCAL_ROLE_OUT1 | LOCAL_ROLE_OUT2)) && io->want_read)))
        events |= UV_READABLE;
    if (io->want_write)
        events |= UV_WRITABLE;
    local_fd_watch(&io->f, events);
}

/* ---- the end ---- */

static void local_exec_deliver(struct local_exec *s)
{
    local_defer_cancel(s->obj.b, &s->tick);
    s->exit_sent = true;
    /* Killed by a signal reads as 128+signal, as container runtimes report it. */
    struct backend_exit ex = {.type = BACKEND_EXIT_CODE, .code = local_child_code(&s->child)};
    s->cbs->exited(s->user, &ex);
}

/* Reaped and every output at its end: close the fds, say exited (deferred,
 * as this can run inside the session's read call). */
static void local_exec_check(struct local_exec *s)
{
    if (s->finished || !s->child.reaped)
        return;
    for (uint8_t i = 0; i < s->nio; i++)
        if ((s->io[i].roles & LOCAL_ROLE_OUTPUT) && !s->io[i].eof)
            return;
    s->finished = true;
    for (uint8_t i = 0; i < s->nio; i++)
        local_fd_close(&s->io[i].f, &s->obj);
    if (!s->stopped)
        local_defer(s->obj.b, &s->tick, LOCAL_Q_SOON);
}

static void local_exec_eof(struct local_exec *s, struct local_exec_io *io)
{
    io->eof = true;
    if (!(io->roles & LOCAL_ROLE_IN))
        local_fd_close(&io->f, &s->obj); /* a pure output: give the fd back now */
    else
        local_exec_io_update(io); /* the PTY master still carries stdin */
    local_exec_check(s);
}

static void local_exec_discard(struct local_exec *s, struct local_exec_io *io)
{
    uint8_t buf[LOCAL_DISCARD_CHUNK];
    ssize_t n = 1;
    for (int i = 0; i < LOCAL_DISCARD_ROUNDS && n > 0; i++)
        n = local_fd_read(io->f.fd, buf, sizeof(buf), s->forced, &io->tail);
    if (n == 0)
        local_exec_eof(s, io);
}

/* The drain grace after the reap is over: outputs a grandchild still holds
 * end at their next empty read. */
static void local_exec_drain_end(struct local_exec *s)
{
    s->forced = true;
    for (uint8_t i = 0; i < s->nio && !s->finished; i++)
        if ((s->io[i].roles & LOCAL_ROLE_DISCARD) && !s->io[i].eof)
            local_exec_eof(s, &s->io[i]);
}

static void local_exec_tick(struct local_deferred *d, enum local_queue from)
{
    struct local_exec *s = LOCAL_EXEC_OF(d, tick);
    if (from == LOCAL_Q_KILL) {
        local_child_signal(&s->child, SIGKILL);
        return;
    }
    if (s->stopped)
        return;
    if (from == LOCAL_Q_DRAIN)
        local_exec_drain_end(s);
    if (s->finished) {
        if (!s->exit_sent)
            local_exec_deliver(s);
        return;
    }
    /* Forced outputs may never poll readable again: prompt the session to read. */
    for (uint8_t i = 0; i < s->nio && s->forced; i++) {
        struct local_exec_io *io = &s->io[i];
        if (!io->eof && io->want_read && (io->roles & (LOCAL_ROLE_OUT1 | LOCAL_ROLE_OUT2))) {
            s->cbs->readable(s->user, (io->roles & LOCAL_ROLE_OUT1) ? 1 : 2);
            if (s->stopped || s->finished)
                return;
        }
    }
}

/* ---- poll callbacks ---- */

static void local_exec_io_cb(uv_poll_t *h, int status, int events)
{
    struct local_exec *s = h->data;
    struct local_exec_io *io = (struct local_exec_io *)h;
    if (status < 0) {
        io->f.events = 0; /* libuv stopped the poll; let the read or write find the error */
        events = UV_READABLE | UV_WRITABLE;
    }
    if ((events & UV_WRITABLE) && io->want_write) {
        io->want_write = false;
        local_exec_io_update(io);
        s->cbs->writable(s->user);
        if (s->stopped)
            return;
    }
    if ((events & UV_READABLE) && !io->eof) {
        if (io->roles & LOCAL_ROLE_DISCARD)
            local_exec_discard(s, io);
        else if (io->want_read)
            s->cbs->readable(s->user, (io->roles & LOCAL_ROLE_OUT1) ? 1 : 2);
        if (s->stopped)
            return;
    }
    if (status < 0)
        local_exec_io_update(io);
}

static void local_exec_child_exited(struct local_child *c)
{
    struct local_exec *s = LOCAL_EXEC_OF(c, child);
    if (!local_child_reap(s->obj.b, c))
        return;
    if (s->stopped) {
        local_defer_cancel(s->obj.b, &s->tick);
        local_obj_release(&s->obj);
        return;
    }
    local_exec_check(s);
    if (!s->finished)
        local_defer(s->obj.b, &s->tick, LOCAL_Q_DRAIN);
}

/* ---- stream ops ---- */

static ssize_t local_exec_read(struct backend_stream *bs, int channel, uint8_t *buf, size_t cap)
{
    struct local_exec *s = (struct local_exec *)bs;
    struct local_exec_io *io = local_exec_io_find(s, local_channel_role(channel));
    if (!io || io->eof)
        return 0;
    ssize_t n = local_fd_read(io->f.fd, buf, cap, s->forced, &io->tail);
    if (n == 0)
        local_exec_eof(s, io);
    return n;
}

static void local_exec_want_read(struct backend_stream *bs, int channel, bool on)
{
    struct local_exec *s = (struct local_exec *)bs;
    struct local_exec_io *io = local_exec_io_find(s, local_channel_role(channel));
    if (!io || s->stopped)
        return;
    io->want_read = on;
    local_exec_io_update(io);
    if (on && s->forced && !io->eof)
        local_defer(s->obj.b, &s->tick, LOCAL_Q_SOON);
}

static ssize_t local_exec_write(struct backend_stream *bs, const uint8_t *buf, size_t len)
{
    struct local_exec *s = (struct local_exec *)bs;
    struct local_exec_io *io = local_exec_io_find(s, LOCAL_ROLE_IN);
    if (!io || s->stdin_closed || s->finished || s->stopped)
        return -EPIPE;
    ssize_t n = local_fd_write(io->f.fd, buf, len);
    if (n == -EAGAIN) {
        io->want_write = true;
        local_exec_io_update(io);
    }
    return n;
}

/* Pipes: close stdin, the process reads EOF. A PTY has no half-close: write
 * the terminal's EOF character (VEOF, normally ^D) once, which a program
 * reading in canonical mode at the start of a line sees as end of input - the
 * same thing a person typing ^D does. A program in raw mode sees the byte. */
static void local_exec_close_stdin(struct backend_stream *bs)
{
    struct local_exec *s = (struct local_exec *)bs;
    struct local_exec_io *io = local_exec_io_find(s, LOCAL_ROLE_IN);
    if (s->stdin_closed || s->stopped)
        return;
    s->stdin_closed = true;
    if (!io || io->f.fd < 0)
        return;
    io->want_write = false;
    if (!s->tty) {
        local_fd_close(&io->f, &s->obj);
        return;
    }
    struct termios t;
    uint8_t veof = tcgetattr(io->f.fd, &t) == 0 ? t.c_cc[VEOF] : 4; /* the slave's settings */
    local_fd_write(io->f.fd, &veof, 1);
    local_exec_io_update(io);
}

static void local_exec_resize(struct backend_stream *bs, uint16_t width, uint16_t height)
{
    struct local_exec *s = (struct local_exec *)bs;
    if (!s->tty || s->stopped || width == 0 || height == 0 || s->io[0].f.fd < 0)
        return;
    struct winsize ws = {.ws_row = height, .ws_col = width};
    ioctl(s->io[0].f.fd, TIOCSWINSZ, &ws); /* the kernel sends SIGWINCH */
}

static void local_exec_stop(struct backend_stream *bs)
{
    struct local_exec *s = (struct local_exec *)bs;
    s->stopped = true;
    s->cbs = NULL;
    local_defer_cancel(s->obj.b, &s->tick);
    for (uint8_t i = 0; i < s->nio; i++)
        local_fd_close(&s->io[i].f, &s->obj);
    if (s->child.reaped) {
        local_obj_release(&s->obj);
        return;
    }
    local_child_signal(&s->child, SIGHUP);
    local_defer(s->obj.b, &s->tick, LOCAL_Q_KILL); /* then the pidfd releases it */
}

/* ---- lifetime ---- */

static void local_exec_shutdown(struct local_obj *o)
{
    struct local_exec *s = LOCAL_EXEC_OF(o, obj);
    if (o->released)
        return; /* only waiting for its handles to close */
    s->stopped = true;
    local_defer_cancel(o->b, &s->tick);
    for (uint8_t i = 0; i < s->nio; i++)
        local_fd_close(&s->io[i].f, o);
    local_child_kill_wait(o->b, &s->child);
    local_obj_release(o);
}

static void local_exec_destroy(struct local_obj *o)
{
    free(LOCAL_EXEC_OF(o, obj));
}

const struct backend_ops local_exec_ops = {
    .read = local_exec_read,
    .want_read = local_exec_want_read,
    .write = local_exec_write,
    .close_stdin = local_exec_close_stdin,
    .resize = local_exec_resize,
    .stop = local_exec_stop,
};

static struct local_exec *local_exec_alloc(const struct backend_exec_request *req,
                                           struct local_spawn_req *sp)
{
    *sp = (struct local_spawn_req){
        .argv = req->argv,
        .tty = req->tty,
        .want_in = req->want_stdin,
        .want_out = req->want_stdout,
        .want_err = req->want_stderr && !req->tty, /* PROTOCOL.md 3.8 */
    };
    size_t nio = req->tty ? 1 : (size_t)sp->want_in + sp->want_out + sp->want_err;
    struct local_exec *s = calloc(1, sizeof(*s) + nio * sizeof(s->io[0]));
    if (!s)
        return NULL;
    s->ops = &local_exec_ops;
    s->obj.shutdown = local_exec_shutdown;
    s->obj.destroy = local_exec_destroy;
    s->tick.run = local_exec_tick;
    s->child.exited = local_exec_child_exited;
    s->tty = req->tty;
    s->nio = (uint8_t)nio;
    return s;
}

/* Give the spawned fds their roles and poll handles. */
static int local_exec_wire(struct local_backend *b, struct local_exec *s,
                           const struct backend_exec_request *req,
                           const struct local_spawn_fds *fds)
{
    int fd[3] = {fds->in, fds->out, fds->err};
    unsigned role[3] = {LOCAL_ROLE_IN, LOCAL_ROLE_OUT1, LOCAL_ROLE_OUT2};
    if (s->tty)
        role[0] = LOCAL_ROLE_IN | (req->want_stdout ? LOCAL_ROLE_OUT1 : LOCAL_ROLE_DISCARD);
    int rc = 0;
    uint8_t n = 0;
    for (int i = 0; i < (s->tty ? 1 : 3); i++) {
        if (fd[i] < 0)
            continue;
        s->io[n].roles = (uint8_t)role[i];
        int r = local_fd_init(b, &s->io[n].f, fd[i], local_exec_io_cb, s);
        rc = rc < 0 ? rc : r;
        local_exec_io_update(&s->io[n++]);
    }
    return rc;
}

int local_exec_start(struct local_backend *b, const struct config_container *ctr,
                     const struct backend_exec_request *req, const struct backend_stream_cbs *cbs,
                     void *user, struct backend_stream **out, char *err, size_t err_cap)
{
    struct local_spawn_req sp;
    struct local_spawn_fds fds;
    if (!req->argv || req->argc < 1 || !req->argv[0]) {
        snprintf(err, err_cap, "no command to run");
        return -EINVAL;
    }
    struct local_exec *s = local_exec_alloc(req, &sp);
    if (!s) {
        snprintf(err, err_cap, "out of memory");
        return -ENOMEM;
    }
    sp.ctr = ctr;
    int rc = local_spawn(b, &sp, &s->child, &fds, err, err_cap);
    if (rc < 0) {
        free(s);
        return rc;
    }
    s->cbs = cbs;
    s->user = user;
    local_obj_add(b, &s->obj);
    rc = local_exec_wire(b, s, req, &fds);
    if (rc < 0) {
        snprintf(err, err_cap, "cannot watch the process: %s", uv_strerror(rc));
        local_exec_shutdown(&s->obj);
        return rc;
    }
    *out = (struct backend_stream *)s;
    return 0;
}
