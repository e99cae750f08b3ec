/* local.c - the local backend object: creation and teardown, the pod model
 * lookup, the one timer that runs all deferred work, and object lifetimes.
 * Streams live in local_exec.c (exec) and local_attach.c (attach); processes
 * are started by local_spawn.c. */
#include "backend/local/local_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

/* ---- deferred work: three FIFO queues with fixed delays, one timer ---- */

static uint64_t local_queue_delay(const struct local_backend *b, enum local_queue q)
{
    switch (q) {
    case LOCAL_Q_DRAIN:
        return LOCAL_DRAIN_GRACE_MS;
    case LOCAL_Q_KILL:
        return b->kill_grace_ms;
    default:
        return 0;
    }
}

static void local_queue_append(struct local_backend *b, struct local_deferred *d,
                               enum local_queue q)
{
    d->queue = (uint8_t)q;
    d->next = NULL;
    d->prev = b->queues[q].tail;
    if (d->prev)
        d->prev->next = d;
    else
        b->queues[q].head = d;
    b->queues[q].tail = d;
}

void local_defer_cancel(struct local_backend *b, struct local_deferred *d)
{
    if (d->queue == LOCAL_Q_NONE)
        return;
    if (d->prev)
        d->prev->next = d->next;
    else
        b->queues[d->queue].head = d->next;
    if (d->next)
        d->next->prev = d->prev;
    else
        b->queues[d->queue].tail = d->prev;
    d->prev = d->next = NULL;
    d->queue = LOCAL_Q_NONE;
}

static void local_timer_cb(uv_timer_t *timer);

/* Arm the timer for the earliest due item (queue heads are the earliest). */
static void local_timer_rearm(struct local_backend *b)
{
    uint64_t due = UINT64_MAX;
    for (int q = LOCAL_Q_SOON; q <= LOCAL_Q_KILL; q++)
        if (b->queues[q].head && b->queues[q].head->due < due)
            due = b->queues[q].head->due;
    if (due == UINT64_MAX) {
        uv_timer_stop(&b->timer);
        return;
    }
    uint64_t now = uv_now(b->loop);
    uv_timer_start(&b->timer, local_timer_cb, due > now ? due - now : 0, 0);
}

void local_defer(struct local_backend *b, struct local_deferred *d, enum local_queue q)
{
    local_defer_cancel(b, d);
    d->due = uv_now(b->loop) + local_queue_delay(b, q);
    local_queue_append(b, d, q);
    if (!b->freeing)
        local_timer_rearm(b);
}

static void local_timer_cb(uv_timer_t *timer)
{
    struct local_backend *b = timer->data;
    uint64_t now = uv_now(b->loop);
    /* Move what is due to RUNNING first, so work that defers itself again
     * waits for the next round instead of spinning here. */
    for (int q = LOCAL_Q_SOON; q <= LOCAL_Q_KILL; q++) {
        struct local_deferred *d;
        while ((d = b->queues[q].head) && d->due <= now) {
            local_defer_cancel(b, d);
            d->from = (uint8_t)q;
            local_queue_append(b, d, LOCAL_Q_RUNNING);
        }
    }
    struct local_deferred *d;
    while ((d = b->queues[LOCAL_Q_RUNNING].head)) {
        local_defer_cancel(b, d);
        d->run(d, (enum local_queue)d->from);
    }
    if (!b->freeing)
        local_timer_rearm(b);
}

/* ---- object lifetimes ---- */

static void local_backend_handle_closed(uv_handle_t *h)
{
    struct local_backend *b = h->data;
    if (--b->closing == 0)
        free(b);
}

/* After local_backend_free: the backend goes once its last object has. */
static void local_backend_finish(struct local_backend *b)
{
    if (!b->freeing || b->objs || uv_is_closing((uv_handle_t *)&b->timer))
        return;
    b->closing = 2;
    uv_close((uv_handle_t *)&b->timer, local_backend_handle_closed);
    uv_close((uv_handle_t *)&b->reaper, local_backend_handle_closed);
    close(b->reap_epfd);
}

void local_obj_add(struct local_backend *b, struct local_obj *o)
{
    o->b = b;
    o->prev = NULL;
    o->next = b->objs;
    if (b->objs)
        b->objs->prev = o;
    b->objs = o;
}

static void local_obj_destroy(struct local_obj *o)
{
    struct local_backend *b = o->b;
    if (o->prev)
        o->prev->next = o->next;
    else
        b->objs = o->next;
    if (o->next)
        o->next->prev = o->prev;
    o->destroy(o);
    local_backend_finish(b);
}

void local_obj_release(struct local_obj *o)
{
    o->released = true;
    if (o->closing == 0)
        local_obj_destroy(o);
}

static void local_fd_closed(uv_handle_t *h)
{
    struct local_obj *o = h->data;
    if (--o->closing == 0 && o->released)
        local_obj_destroy(o);
}

/* ---- fds ---- */

void local_fd_none(struct local_fd *f)
{
    f->fd = -1;
    f->events = 0;
    f->inited = false;
}

int local_fd_init(struct local_backend *b, struct local_fd *f, int fd, uv_poll_cb cb, void *data)
{
    local_fd_none(f);
    if (fd < 0)
        return 0;
    f->fd = fd;
    int rc = uv_poll_init(b->loop, &f->poll, fd);
    if (rc < 0)
        return rc;
    f->inited = true;
    f->poll.data = data;
    f->poll.poll_cb = cb; /* remembered for local_fd_watch */
    return 0;
}

void local_fd_watch(struct local_fd *f, int events)
{
    if (!f->inited || f->events == events)
        return;
    f->events = (uint8_t)events;
    if (events)
        uv_poll_start(&f->poll, events, f->poll.poll_cb);
    else
        uv_poll_stop(&f->poll);
}

void local_fd_close(struct local_fd *f, struct local_obj *owner)
{
    if (f->inited) {
        f->poll.data = owner;
        owner->closing++;
        uv_close((uv_handle_t *)&f->poll, local_fd_closed); /* stops the poll first */
    }
    if (f->fd >= 0)
        close(f->fd);
    local_fd_none(f);
}

ssize_t local_fd_read(int fd, uint8_t *buf, size_t cap, bool forced, uint32_t *tail)
{
    if (fd < 0)
        return 0;
    if (cap == 0)
        return -EAGAIN;
    if (cap > LOCAL_READ_CHUNK)
        cap = LOCAL_READ_CHUNK;
    if (forced && *tail >= LOCAL_DRAIN_TAIL_MAX)
        return 0;
    ssize_t n;
    do
        n = read(fd, buf, cap);
    while (n < 0 && errno == EINTR);
    if (n > 0) {
        if (forced)
            *tail += (uint32_t)n;
        return n;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && !forced)
        return -EAGAIN;
    return 0; /* EOF, EIO (PTY whose slave side is gone), or a broken fd */
}

ssize_t local_fd_write(int fd, const uint8_t *buf, size_t len)
{
    if (fd < 0)
        return -EPIPE;
    if (len == 0)
        return 0;
    ssize_t n;
    do
        n = write(fd, buf, len);
    while (n < 0 && errno == EINTR);
    if (n >= 0)
        return n;
    return errno == EAGAIN || errno == EWOULDBLOCK ? -EAGAIN : -EPIPE;
}

/* ---- the pod model ---- */

static int local_pod_cmp(const struct config_pod *p, const char *ns, const char *name)
{
    int c = strcmp(p->ns, ns);
    return c ? c : strcmp(p->name, name);
}

static const struct config_pod *local_pod_find(const struct config_cluster *cl, const char *ns,
                                               const char *name)
{
    /* config.h keeps pods sorted by namespace then name: binary search, and a
     * linear scan in case a hand-built cluster is not sorted. */
    size_t lo = 0, hi = cl->pods_len;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = local_pod_cmp(&cl->pods[mid], ns, name);
        if (c == 0)
            return &cl->pods[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = 0; i < cl->pods_len; i++)
        if (local_pod_cmp(&cl->pods[i], ns, name) == 0)
            return &cl->pods[i];
    return NULL;
}

const struct config_container *local_container_find(const struct local_backend *b,
                                                    const struct backend_exec_request *req)
{
    if (!b->cluster || !req->ns || !req->pod || !req->container)
        return NULL;
    const struct config_pod *pod = local_pod_find(b->cluster, req->ns, req->pod);
    for (size_t i = 0; pod && i < pod->containers_len; i++)
        if (strcmp(pod->containers[i].name, req->container) == 0)
            return &pod->containers[i];
    return NULL;
}

/* ---- the backend ---- */

static int local_backend_start(struct backend *backend, const struct backend_exec_request *req,
                               const struct backend_stream_cbs *cbs, void *user,
                               struct backend_stream **out, char *err, size_t err_cap)
{
    struct local_backend *b = (struct local_backend *)backend;
    *out = NULL;
    if (err_cap)
        err[0] = '\0';
    const struct config_container *ctr = local_container_find(b, req);
    if (!ctr) {
        snprintf(err, err_cap, "container not found (\"%s\")",
                 req->container ? req->container : "");
        return -ENOENT;
    }
    if (req->attach)
        return local_attach_start(b, ctr, req, cbs, user, out, err, err_cap);
    return local_exec_start(b, ctr, req, cbs, user, out, err, err_cap);
}

/* Kill and reap every child, close every handle, free what nobody holds.
 * Streams must have been stopped first (the server does so on shutdown). */
static void local_backend_free(struct backend *backend)
{
    struct local_backend *b = (struct local_backend *)backend;
    b->freeing = true;
    struct local_obj *next;
    for (struct local_obj *o = b->objs; o; o = next) {
        next = o->next;
        o->shutdown(o);
    }
    uv_timer_stop(&b->timer);
    local_backend_finish(b);
}

static const struct backend_ops local_backend_ops = {
    .start = local_backend_start,
    .free = local_backend_free,
};

/* posix_spawn's dup2 file actions assume 0-2 are taken; a server started with
 * one closed would hand that number to a pipe and wire the child wrongly. */
static void local_std_fds_ensure(void)
{
    for (int fd = 0; fd <= 2; fd++)
        if (fcntl(fd, F_GETFD) < 0 && errno == EBADF) {
            int null = open("/dev/null", O_RDWR | O_CLOEXEC); /* children get 0-2 by dup2 */
            if (null >= 0 && null != fd)
                close(null); /* only possible if a lower one was free too */
        }
}

struct backend *local_backend_new(uv_loop_t *loop, const struct config_cluster *cluster)
{
    struct local_backend *b = calloc(1, sizeof(*b));
    if (!b)
        return NULL;
    local_std_fds_ensure();
    b->reap_epfd = epoll_create1(EPOLL_CLOEXEC);
    if (b->reap_epfd < 0 || uv_poll_init(loop, &b->reaper, b->reap_epfd) < 0) {
        if (b->reap_epfd >= 0)
            close(b->reap_epfd);
        free(b);
        return NULL;
    }
    b->reaper.data = b;
    b->reaper.poll_cb = local_reaper_cb; /* started while there are children */
    b->ops = &local_backend_ops;
    b->loop = loop;
    b->cluster = cluster;
    b->kill_grace_ms = LOCAL_KILL_GRACE_MS;
    uv_timer_init(loop, &b->timer);
    b->timer.data = b;
    return (struct backend *)b;
}

size_t local_backend_child_count(const struct backend *backend)
{
    return ((const struct local_backend *)backend)->children;
}

void local_backend_set_kill_grace(struct backend *backend, uint64_t ms)
{
    ((struct local_backend *)backend)->kill_grace_ms = ms;
}
