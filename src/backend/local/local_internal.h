/* local_internal.h - what the local backend's files (local.c, local_spawn.c,
 * local_exec.c, local_attach.c) share; nothing outside src/backend/local*.c
 * includes it.
 *
 * Building blocks:
 *   local_fd       a parent-side fd with its uv_poll handle;
 *   local_child    a spawned process, watched through a pidfd (all pidfds
 *                  sit in one epoll set under a single uv_poll: no handle
 *                  per child, which halves an idle stream's size);
 *   local_deferred work due "soon" or after a grace period, run from one
 *                  backend timer (no timer handle per stream);
 *   local_obj      anything owning handles: freed once its closes are done.
 */
#ifndef PODTERM_BACKEND_LOCAL_INTERNAL_H
#define PODTERM_BACKEND_LOCAL_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>

#include "backend/local/local.h"

/* Internal bounds; local.h has the public tunables (LOCAL_DRAIN_GRACE_MS...). */

/* Bytes still read after the drain grace, so a grandchild that keeps writing
 * cannot stall the end of a stream. */
#define LOCAL_DRAIN_TAIL_MAX (256 * 1024)
/* Attach fan-out (local_attach.c): the most read from a main process's
 * output channel at a time, and the ring of its recent output that attached
 * streams read from; a stream that falls further behind skips ahead. */
#define LOCAL_ATTACH_CHUNK (16 * 1024)
#define LOCAL_ATTACH_BACKLOG (256 * 1024)
/* Reads of unwanted output per poll callback, so a chatty process cannot
 * starve the loop. */
#define LOCAL_DISCARD_ROUNDS 16
#define LOCAL_REAP_BATCH 64 /* pidfd events taken per epoll_wait */
#define LOCAL_PATH_MAX 4096 /* a resolved program path */
#define LOCAL_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define LOCAL_TTY_COLS 80 /* size of a new PTY until the client resizes it */
#define LOCAL_TTY_ROWS 24

struct local_backend;

/* ---- deferred work ---- */

enum local_queue {
    LOCAL_Q_NONE,
    LOCAL_Q_SOON,    /* next loop iteration: notifications that must not re-enter the caller */
    LOCAL_Q_DRAIN,   /* LOCAL_DRAIN_GRACE_MS */
    LOCAL_Q_KILL,    /* the backend's kill grace */
    LOCAL_Q_RUNNING, /* due, being run by the timer callback */
    LOCAL_Q_COUNT,
};

struct local_deferred {
    struct local_deferred *prev, *next;
    uint64_t due;  /* uv_now() milliseconds */
    uint8_t queue; /* enum local_queue it is in */
    uint8_t from;  /* the queue it came due in (passed to run) */
    void (*run)(struct local_deferred *d, enum local_queue from);
};

/* Queue d (moving it if already queued). Every queue has one fixed delay, so
 * each stays sorted by due time by appending. */
void local_defer(struct local_backend *b, struct local_deferred *d, enum local_queue q);
void local_defer_cancel(struct local_backend *b, struct local_deferred *d);

/* ---- objects that own handles ---- */

struct local_obj {
    struct local_obj *prev, *next; /* the backend's list (for local_backend_free) */
    struct local_backend *b;
    unsigned closing; /* uv_close calls whose callback has not run yet */
    bool released;    /* the owner is done with it: destroy once closing == 0 */
    void (*shutdown)(struct local_obj *o); /* backend free: kill, reap, close, release */
    void (*destroy)(struct local_obj *o);  /* free the memory */
};

void local_obj_add(struct local_backend *b, struct local_obj *o);
void local_obj_release(struct local_obj *o);

/* ---- fds ---- */

struct local_fd {
    uv_poll_t poll; /* first: callbacks cast the handle back to the local_fd */
    int fd;         /* -1: none or closed */
    uint8_t events; /* UV_READABLE | UV_WRITABLE currently started */
    bool inited;
};

void local_fd_none(struct local_fd *f);
int local_fd_init(struct local_backend *b, struct local_fd *f, int fd, uv_poll_cb cb, void *data);
/* Start, change or stop the poll so it watches exactly events. */
void local_fd_watch(struct local_fd *f, int events);
/* uv_close the handle (counted on owner) and close the fd. */
void local_fd_close(struct local_fd *f, struct local_obj *owner);
/* One read() of an output: bytes, 0 at the end (EOF, PTY EIO, an error, or
 * no more data once the drain grace has passed), or -EAGAIN. */
ssize_t local_fd_read(int fd, uint8_t *buf, size_t cap, bool forced, uint32_t *tail);
/* One write() to an input: bytes, -EAGAIN, or -EPIPE (reader gone). */
ssize_t local_fd_write(int fd, const uint8_t *buf, size_t len);

/* ---- processes ---- */

struct local_child {
    /* Its pidfd became readable (the process exited). Must not free any
     * other child: several may come due in one batch. */
    void (*exited)(struct local_child *c);
    int pidfd; /* -1 once reaped */
    pid_t pid;
    int status; /* wait status once reaped */
    bool reaped;
};

/* Reap the child if it exited (waitpid(pid, WNOHANG)); closes the pidfd when
 * done. Returns true once reaped. */
bool local_child_reap(struct local_backend *b, struct local_child *c);
/* Backend free and failures: SIGKILL the group, wait for the child (blocking,
 * it cannot outlive SIGKILL), close the pidfd. */
void local_child_kill_wait(struct local_backend *b, struct local_child *c);
/* Signal the process group, only while the child is unreaped (its pid, and
 * so its group id, cannot have been reused). */
void local_child_signal(struct local_child *c, int sig);
/* The exit code a runtime reports: the code, or 128 + signal. */
int local_child_code(const struct local_child *c);

struct local_spawn_req {
    const struct config_container *ctr; /* env, workdir; never NULL */
    const char *const *argv;
    bool tty;
    bool want_in, want_out, want_err; /* pipes for these; /dev/null otherwise */
};

/* Parent-side fds of a spawned process: O_CLOEXEC | O_NONBLOCK, or -1.
 * tty: in == out == the PTY master, err == -1. */
struct local_spawn_fds {
    int in, out, err;
};

/* Spawn a process (posix_spawn, never a shell). Returns 0, or a negative
 * errno with a runtime-shaped message in err. On success child (whose
 * exited callback is set, at its final address) has its pid and pidfd and
 * is watched and counted by the backend. */
int local_spawn(struct local_backend *b, const struct local_spawn_req *req,
                struct local_child *child, struct local_spawn_fds *out, char *err, size_t err_cap);

/* ---- the backend ---- */

struct local_backend {
    const struct backend_ops *ops; /* first: see backend.h */
    uv_loop_t *loop;
    const struct config_cluster *cluster;
    uv_timer_t timer; /* runs every local_deferred */
    uv_poll_t reaper; /* readable when a pidfd in reap_epfd is; started while children > 0 */
    int reap_epfd;
    unsigned closing; /* backend handles being closed by local_backend_free */
    struct {
        struct local_deferred *head, *tail;
    } queues[LOCAL_Q_COUNT];
    struct local_obj *objs; /* exec streams and main processes, for backend free */
    struct local_run *runs; /* attach main processes, alive or ending */
    size_t children;        /* spawned, not yet reaped */
    uint64_t kill_grace_ms;
    bool freeing;
};

extern const struct backend_ops local_exec_ops;
extern const struct backend_ops local_attach_ops;

void local_reaper_cb(uv_poll_t *h, int status, int events);
const struct config_container *local_container_find(const struct local_backend *b,
                                                    const struct backend_exec_request *req);
int local_exec_start(struct local_backend *b, const struct config_container *ctr,
                     const struct backend_exec_request *req, const struct backend_stream_cbs *cbs,
                     void *user, struct backend_stream **out, char *err, size_t err_cap);
int local_attach_start(struct local_backend *b, const struct config_container *ctr,
                       const struct backend_exec_request *req, const struct backend_stream_cbs *cbs,
                       void *user, struct backend_stream **out, char *err, size_t err_cap);

#endif
