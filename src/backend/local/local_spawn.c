/* local_spawn.c - start a local process the way a container runtime would:
 * argv run directly (PATH lookup like execvp, in the container's PATH), in
 * the container's workdir and environment, on a PTY or on pipes, in a new
 * session with default signal handling. posix_spawn (vfork-like) keeps this
 * cheap at thousands of sessions a second. Also the child helpers: reaping
 * through a pidfd, signals, exit codes. */
#include "backend/local/local_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

extern char **environ;

#define LOCAL_PTS_NAME_MAX 64         /* "/dev/pts/N" */
#define LOCAL_CHILD_FD_FIRST_CLOSED 3 /* children keep 0, 1, 2 and nothing else */

/* ---- environment ---- */

static const char *local_env_get(const struct config_container *ctr, const char *key, size_t klen)
{
    for (size_t i = 0; i < ctr->env_len; i++)
        if (strlen(ctr->env[i].key) == klen && memcmp(ctr->env[i].key, key, klen) == 0)
            return ctr->env[i].value;
    return NULL;
}

/* TERM for processes on a PTY: the terminal is the client's emulator (xterm.js,
 * kubectl's terminal), not the server's, and container runtimes set this too. */
#define LOCAL_TTY_TERM "TERM=xterm"

/* The server's environ with the container's entries added or overriding, and
 * TERM=xterm on a PTY unless the container sets TERM. One allocation: the
 * pointer array, then the container's "KEY=VALUE" texts. */
static char **local_env_build(const struct config_container *ctr, bool tty)
{
    bool add_term = tty && !local_env_get(ctr, "TERM", 4);
    if (ctr->env_len == 0 && !add_term)
        return environ;
    size_t n = 0, text = 0;
    while (environ[n])
        n++;
    for (size_t i = 0; i < ctr->env_len; i++)
        text += strlen(ctr->env[i].key) + strlen(ctr->env[i].value) + 2;
    char **envp = malloc((n + ctr->env_len + 2) * sizeof(char *) + text);
    if (!envp)
        return NULL;
    char *p = (char *)(envp + n + ctr->env_len + 2);
    size_t used = 0;
    for (size_t i = 0; i < n; i++) {
        const char *eq = strchr(environ[i], '=');
        size_t klen = eq ? (size_t)(eq - environ[i]) : strlen(environ[i]);
        bool is_term = klen == 4 && memcmp(environ[i], "TERM", 4) == 0;
        if (!local_env_get(ctr, environ[i], klen) && !(add_term && is_term))
            envp[used++] = environ[i];
    }
    for (size_t i = 0; i < ctr->env_len; i++) {
        envp[used++] = p;
        p += sprintf(p, "%s=%s", ctr->env[i].key, ctr->env[i].value) + 1;
    }
    if (add_term)
        envp[used++] = (char *)LOCAL_TTY_TERM;
    envp[used] = NULL;
    return envp;
}

/* ---- program lookup ---- */

/* Like Go's exec.LookPath (what runc uses): the first PATH entry holding a
 * non-directory with an execute bit. Relative entries are relative to the
 * workdir, where the program will run. */
static int local_path_find(const char *name, const char *path, const char *workdir, char *out,
                           size_t cap)
{
    while (path) {
        const char *colon = strchr(path, ':');
        size_t len = colon ? (size_t)(colon - path) : strlen(path);
        const char *dir = len ? path : ".";
        int dlen = len ? (int)len : 1;
        int n = dir[0] != '/' && workdir
                    ? snprintf(out, cap, "%s/%.*s/%s", workdir, dlen, dir, name)
                    : snprintf(out, cap, "%.*s/%s", dlen, dir, name);
        struct stat st;
        if (n > 0 && (size_t)n < cap && stat(out, &st) == 0 && !S_ISDIR(st.st_mode) &&
            (st.st_mode & 0111))
            return 0;
        path = colon ? colon + 1 : NULL;
    }
    return -ENOENT;
}

static const char *local_path_env(const struct config_container *ctr)
{
    const char *path = local_env_get(ctr, "PATH", 4);
    if (!path)
        path = getenv("PATH");
    return path ? path : LOCAL_DEFAULT_PATH;
}

/* ---- error texts, worded like runc's so clients see familiar messages ---- */

static void local_strerror_lower(int e, char *out, size_t cap)
{
    snprintf(out, cap, "%s", strerror(e));
    if (out[0] >= 'A' && out[0] <= 'Z' && !(out[1] >= 'A' && out[1] <= 'Z'))
        out[0] = (char)(out[0] - 'A' + 'a');
}

/* posix_spawn reports one errno for chdir and exec alike: check the workdir
 * to tell them apart. Returns its errno, or 0 if it looks usable. */
static int local_workdir_error(const char *workdir)
{
    struct stat st;
    if (!workdir)
        return 0;
    if (stat(workdir, &st) < 0)
        return errno;
    if (!S_ISDIR(st.st_mode))
        return ENOTDIR;
    return access(workdir, X_OK) < 0 ? errno : 0;
}

static void local_spawn_error(const struct local_spawn_req *req, int e, char *err, size_t cap)
{
    const char *name = req->argv[0];
    char text[128];
    int wd = local_workdir_error(req->ctr->workdir);
    if (wd) {
        local_strerror_lower(wd, text, sizeof(text));
        snprintf(err, cap, "chdir to cwd (\"%s\") set in config.json failed: %s", req->ctr->workdir,
                 text);
    } else if (e == ENOENT && !strchr(name, '/')) {
        snprintf(err, cap, "exec: \"%s\": executable file not found in $PATH", name);
    } else if (e == ENOENT) {
        snprintf(err, cap, "exec: \"%s\": stat %s: no such file or directory", name, name);
    } else {
        local_strerror_lower(e, text, sizeof(text));
        snprintf(err, cap, "exec: \"%s\": %s", name, text);
    }
}

/* ---- fds for the child ---- */

static int local_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    return fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ? -errno : 0;
}

/* A PTY: the master stays here; the child opens the slave by name after
 * setsid (POSIX_SPAWN_SETSID runs before file actions), which makes it the
 * child's controlling terminal, as TIOCSCTTY would. */
static int local_pty_open(posix_spawn_file_actions_t *fa, int *master)
{
    char name[LOCAL_PTS_NAME_MAX];
    int fd = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return -errno;
    struct winsize ws = {.ws_row = LOCAL_TTY_ROWS, .ws_col = LOCAL_TTY_COLS};
    if (unlockpt(fd) < 0 || ptsname_r(fd, name, sizeof(name)) != 0 ||
        ioctl(fd, TIOCSWINSZ, &ws) < 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    *master = fd;
    if (posix_spawn_file_actions_addopen(fa, 0, name, O_RDWR, 0) ||
        posix_spawn_file_actions_adddup2(fa, 0, 1) || posix_spawn_file_actions_adddup2(fa, 0, 2))
        return -ENOMEM;
    return 0;
}

/* A pipe for child fd target; the parent keeps the other end, non-blocking. */
static int local_pipe_open(posix_spawn_file_actions_t *fa, int target, int *parent, int *child)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return -errno;
    bool child_reads = target == 0;
    *parent = child_reads ? p[1] : p[0];
    *child = child_reads ? p[0] : p[1];
    int rc = local_nonblock(*parent);
    if (rc == 0 && posix_spawn_file_actions_adddup2(fa, *child, target))
        rc = -ENOMEM;
    return rc;
}

static int local_null_open(posix_spawn_file_actions_t *fa, int target)
{
    return posix_spawn_file_actions_addopen(fa, target, "/dev/null", O_RDWR, 0) ? -ENOMEM : 0;
}

/* Set up fds 0-2 of the child; parent ends go to out, child ends to child[]. */
static int local_stdio_setup(const struct local_spawn_req *req, posix_spawn_file_actions_t *fa,
                             struct local_spawn_fds *out, int child[3])
{
    if (req->tty) {
        int rc = local_pty_open(fa, &out->out);
        out->in = out->out;
        return rc;
    }
    bool want[3] = {req->want_in, req->want_out, req->want_err};
    int *parent[3] = {&out->in, &out->out, &out->err};
    for (int t = 0; t < 3; t++) {
        int rc = want[t] ? local_pipe_open(fa, t, parent[t], &child[t]) : local_null_open(fa, t);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static void local_fds_close(int *fds, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (fds[i] >= 0) {
            close(fds[i]);
            fds[i] = -1;
        }
}

/* The child starts with exactly fds 0, 1 and 2. podterm opens everything
 * close-on-exec, but libraries in the process (lws, OpenSSL, libuv) and
 * future code may not, and one inherited client socket lets a command read
 * another user's keystrokes. As the last file action (after the dup2s onto
 * 0-2), glibc's closefrom action runs close_range(3, ~0) in the child just
 * before exec: no fd list to build in the parent (racy, O(fds)), no marking
 * the parent's own fds, and posix_spawn keeps its vfork speed. */
static int local_fds_close_rest(posix_spawn_file_actions_t *fa)
{
    return posix_spawn_file_actions_addclosefrom_np(fa, LOCAL_CHILD_FD_FIRST_CLOSED) ? -ENOMEM : 0;
}

/* ---- spawning ---- */

static int local_attr_init(posix_spawnattr_t *attr)
{
    /* The server ignores SIGPIPE and may block or handle others: the child
     * starts with an empty mask and every disposition at its default. */
    sigset_t none, all;
    sigemptyset(&none);
    /* Every bit, not sigfillset: that leaves out glibc's internal signals
     * (32, 33), which posix_spawn then sets to SIG_IGN in the child, and
     * ignored signals survive exec. */
    memset(&all, 0xff, sizeof(all));
    if (posix_spawnattr_init(attr))
        return -ENOMEM;
    if (posix_spawnattr_setflags(attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK |
                                           POSIX_SPAWN_SETSIGDEF) ||
        posix_spawnattr_setsigmask(attr, &none) || posix_spawnattr_setsigdefault(attr, &all)) {
        posix_spawnattr_destroy(attr);
        return -EINVAL;
    }
    return 0;
}

/* Resolve argv[0] to the file to execute. */
static int local_program(const struct local_spawn_req *req, char *path, size_t cap)
{
    const char *name = req->argv[0];
    if (strchr(name, '/')) {
        snprintf(path, cap, "%s", name);
        return 0;
    }
    if (!*name)
        return -ENOENT;
    return local_path_find(name, local_path_env(req->ctr), req->ctr->workdir, path, cap);
}

static int local_spawn_run(const struct local_spawn_req *req, const char *path,
                           posix_spawn_file_actions_t *fa, pid_t *pid)
{
    posix_spawnattr_t attr;
    int rc = local_attr_init(&attr);
    if (rc < 0)
        return rc;
    char **envp = local_env_build(req->ctr, req->tty);
    if (!envp) {
        posix_spawnattr_destroy(&attr);
        return -ENOMEM;
    }
    rc = -posix_spawn(pid, path, fa, &attr, (char *const *)req->argv, envp);
    if (envp != environ)
        free(envp);
    posix_spawnattr_destroy(&attr);
    return rc;
}

static void local_children_changed(struct local_backend *b, int delta)
{
    b->children += (size_t)(ssize_t)delta;
    if (b->children == 0)
        uv_poll_stop(&b->reaper);
    else if (b->children == 1 && delta > 0)
        uv_poll_start(&b->reaper, UV_READABLE, b->reaper.poll_cb);
}

/* Watch the child's pidfd through the backend's epoll set. */
static int local_child_watch(struct local_backend *b, struct local_child *c, pid_t pid)
{
    c->pid = pid;
    c->pidfd = pidfd_open(pid, 0); /* close-on-exec from birth */
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    if (c->pidfd < 0 || epoll_ctl(b->reap_epfd, EPOLL_CTL_ADD, c->pidfd, &ev) < 0) {
        int e = errno;
        if (c->pidfd >= 0)
            close(c->pidfd);
        c->pidfd = -1;
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        return -e;
    }
    local_children_changed(b, 1);
    return 0;
}

int local_spawn(struct local_backend *b, const struct local_spawn_req *req,
                struct local_child *child, struct local_spawn_fds *out, char *err, size_t err_cap)
{
    pid_t pid = -1;
    char path[LOCAL_PATH_MAX];
    int child_fds[3] = {-1, -1, -1};
    posix_spawn_file_actions_t fa;
    *out = (struct local_spawn_fds){.in = -1, .out = -1, .err = -1};
    child->pidfd = -1;
    int rc = local_program(req, path, sizeof(path));
    if (rc < 0) {
        local_spawn_error(req, -rc, err, err_cap);
        return rc;
    }
    if (posix_spawn_file_actions_init(&fa))
        return -ENOMEM;
    if (req->ctr->workdir && posix_spawn_file_actions_addchdir_np(&fa, req->ctr->workdir))
        rc = -ENOMEM;
    if (rc == 0)
        rc = local_stdio_setup(req, &fa, out, child_fds);
    if (rc == 0)
        rc = local_fds_close_rest(&fa);
    if (rc == 0)
        rc = local_spawn_run(req, path, &fa, &pid);
    posix_spawn_file_actions_destroy(&fa);
    /* The child has its copies now; ours would hide EOF and EIO forever. */
    local_fds_close(child_fds, 3);
    if (rc == 0)
        rc = local_child_watch(b, child, pid);
    if (rc < 0) {
        int fds[3] = {out->in, out->out == out->in ? -1 : out->out, out->err};
        local_fds_close(fds, 3);
        out->in = out->out = out->err = -1;
        local_spawn_error(req, -rc, err, err_cap);
        return rc;
    }
    return 0;
}

/* ---- children ---- */

static void local_child_done(struct local_backend *b, struct local_child *c, pid_t r, int st)
{
    /* ECHILD: something reaped it behind our back (SIGCHLD set to SIG_IGN?);
     * the status is lost, report a failure rather than a success. */
    c->status = r == c->pid ? st : W_EXITCODE(255, 0);
    c->reaped = true;
    /* Delete before closing: a child being spawned right now may still hold
     * a copy of this fd (vfork releases us before exec closes its
     * close-on-exec fds), and then close alone would leave it in the set,
     * reporting a freed child. */
    epoll_ctl(b->reap_epfd, EPOLL_CTL_DEL, c->pidfd, NULL);
    close(c->pidfd);
    c->pidfd = -1;
    local_children_changed(b, -1);
}

bool local_child_reap(struct local_backend *b, struct local_child *c)
{
    if (c->reaped)
        return true;
    int st = 0;
    pid_t r;
    do
        r = waitpid(c->pid, &st, WNOHANG);
    while (r < 0 && errno == EINTR);
    if (r == 0)
        return false;
    local_child_done(b, c, r, st);
    return true;
}

void local_child_kill_wait(struct local_backend *b, struct local_child *c)
{
    if (c->reaped)
        return;
    local_child_signal(c, SIGKILL);
    int st = 0;
    pid_t r;
    do
        r = waitpid(c->pid, &st, 0);
    while (r < 0 && errno == EINTR);
    local_child_done(b, c, r, st);
}

/* The reaper poll: hand each exited child to its owner. */
void local_reaper_cb(uv_poll_t *h, int status, int events)
{
    struct local_backend *b = h->data;
    struct epoll_event ev[LOCAL_REAP_BATCH];
    int n;
    do
        n = epoll_wait(b->reap_epfd, ev, LOCAL_REAP_BATCH, 0);
    while (n < 0 && errno == EINTR);
    for (int i = 0; i < n; i++) {
        struct local_child *c = ev[i].data.ptr;
        c->exited(c);
    }
}

void local_child_signal(struct local_child *c, int sig)
{
    if (c->reaped)
        return;
    /* setsid made the child its own group leader; if it has moved to another
     * group since, reach at least the child itself. */
    if (kill(-c->pid, sig) < 0)
        kill(c->pid, sig);
}

int local_child_code(const struct local_child *c)
{
    if (WIFSIGNALED(c->status))
        return 128 + WTERMSIG(c->status);
    return WIFEXITED(c->status) ? WEXITSTATUS(c->status) : 255;
}
