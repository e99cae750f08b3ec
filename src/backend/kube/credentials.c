/* credentials.c - bearer tokens for the API server: static, token file, or an
 * exec credential plugin (see credentials.h). The plugin is spawned and
 * watched (pidfd, stdout pipe, deadline) on the loop so it never blocks it;
 * requests that arrive while it runs wait in a list and are all answered by
 * the one run. */
#include "backend/kube/credentials.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/util_file.h"
#include "util/util_token.h"

#define KUBE_EXEC_ENV_TOTAL_MAX 4096 /* environment entries passed to a plugin */
#define KUBE_EXEC_INFO_MAX 256

extern char **environ;

struct kube_creds {
    uv_loop_t *loop;
    const struct kube_target *target;
    /* token file cache: re-read when the file's identity changes */
    char file_token[KUBE_TOKEN_MAX + 1];
    struct stat file_st;
    bool file_loaded;
    /* exec plugin cache and run */
    char exec_token[KUBE_TOKEN_MAX + 1];
    time_t exec_expiry; /* 0: no expiry */
    bool exec_valid;
    struct kube_exec_run *run;
    struct kube_creds_req *waiting;
};

struct kube_exec_run {
    struct kube_creds *creds; /* NULL once the run has ended: it only cleans up */
    pid_t pid;                /* also its process group */
    int pidfd;
    uv_poll_t pidfd_poll;
    uv_pipe_t out;
    uv_timer_t timer;
    int handles_open;
    bool reaped, out_eof, ended, released;
    bool timed_out, stdout_held;
    int exit_status;
    char buf[KUBE_EXEC_OUTPUT_MAX];
    size_t len;
    bool overflow;
};

struct kube_creds *kube_creds_new(uv_loop_t *loop, const struct kube_target *target)
{
    struct kube_creds *c = calloc(1, sizeof(*c));
    if (c) {
        c->loop = loop;
        c->target = target;
    }
    return c;
}

/* ---- token file ---- */

static void creds_trim(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
}

/* Kubelet swaps projected tokens by renaming a new directory into place, so
 * inode and mtime together say whether the token changed. */
static int creds_token_file(struct kube_creds *c, char *out, size_t out_cap)
{
    struct stat st;
    const char *path = c->target->token_file;
    if (stat(path, &st) != 0) {
        snprintf(out, out_cap, "cannot read token file %s: %s", path, strerror(errno));
        return -1;
    }
    bool same = c->file_loaded && st.st_ino == c->file_st.st_ino &&
                st.st_mtim.tv_sec == c->file_st.st_mtim.tv_sec &&
                st.st_mtim.tv_nsec == c->file_st.st_mtim.tv_nsec &&
                st.st_size == c->file_st.st_size;
    if (!same) {
        size_t len;
        char *text;
        int rc = util_file_read(path, KUBE_FILE_MAX, &text, &len, NULL, 0);
        if (rc < 0 || len > KUBE_TOKEN_MAX) {
            snprintf(out, out_cap, "cannot read token file %s: %s", path,
                     rc < 0 ? strerror(-rc) : "longer than a token can be");
            free(text);
            return -1;
        }
        bool nul = memchr(text, '\0', len) != NULL; /* would hide what follows it */
        memcpy(c->file_token, text, len + 1);
        free(text);
        creds_trim(c->file_token);
        if (nul || !util_token_is_valid(c->file_token, strlen(c->file_token))) {
            /* Checked on every re-read: a rotation may bring a bad token. */
            explicit_bzero(c->file_token, sizeof(c->file_token));
            c->file_loaded = false;
            snprintf(out, out_cap,
                     "token file %s: a bearer token is visible ASCII (0x21-0x7E) only", path);
            return -1;
        }
        c->file_st = st;
        c->file_loaded = true;
    }
    snprintf(out, out_cap, "%s", c->file_token);
    return 0;
}

/* ---- exec plugin ---- */

static time_t creds_parse_time(const char *s)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    const char *end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!end)
        return (time_t)-1;
    while (*end == '.' || (*end >= '0' && *end <= '9'))
        end++; /* fractional seconds */
    time_t t = timegm(&tm);
    if (*end == 'Z' && end[1] == '\0')
        return t;
    int hh, mm;
    if ((*end == '+' || *end == '-') && sscanf(end + 1, "%2d:%2d", &hh, &mm) == 2)
        return *end == '+' ? t - (hh * 3600 + mm * 60) : t + (hh * 3600 + mm * 60);
    return (time_t)-1;
}

int kube_exec_credential_parse(const char *json, size_t len, char *token, size_t token_cap,
                               time_t *expiry, char *err, size_t err_cap)
{
    json_error_t jerr;
    json_t *root = json_loadb(json, len, 0, &jerr);
    const char *kind = NULL, *tok = NULL, *exp = NULL;
    int rc = -1;
    *expiry = 0;
    if (!root || json_unpack(root, "{s?s, s:{s?s, s?s}}", "kind", &kind, "status", "token", &tok,
                             "expirationTimestamp", &exp) != 0)
        snprintf(err, err_cap, "the exec plugin did not print an ExecCredential with a status");
    else if (kind && strcmp(kind, "ExecCredential") != 0)
        snprintf(err, err_cap, "the exec plugin printed kind %s, not ExecCredential", kind);
    else if (!tok || !tok[0])
        snprintf(err, err_cap,
                 "the exec plugin's ExecCredential has no status.token (client "
                 "certificates from plugins are not supported)");
    else if (strlen(tok) >= token_cap)
        snprintf(err, err_cap, "the exec plugin's token is longer than %zu bytes", token_cap - 1);
    else if (!util_token_is_valid(tok, strlen(tok)))
        snprintf(err, err_cap,
                 "the exec plugin's token has a character other than visible ASCII (0x21-0x7E)");
    else if (exp && (*expiry = creds_parse_time(exp)) == (time_t)-1)
        snprintf(err, err_cap, "the exec plugin's expirationTimestamp \"%s\" is not RFC 3339", exp);
    else {
        snprintf(token, token_cap, "%s", tok);
        rc = 0;
    }
    json_decref(root);
    return rc;
}

static void creds_finish(struct kube_creds *c, const char *token, const char *err)
{
    /* Detach the list first: a callback may start a new request. */
    struct kube_creds_req *list = c->waiting;
    c->waiting = NULL;
    while (list) {
        struct kube_creds_req *next = list->next;
        list->done(list, token, err);
        list = next;
    }
}

/* ---- a plugin run ----
 *
 * The run ends (its waiters are answered) when the plugin has exited AND its
 * stdout reached EOF, or when the deadline passes: KUBE_EXEC_TIMEOUT_MS from
 * the start, cut to KUBE_EXEC_EOF_GRACE_MS once the plugin has exited, since
 * a background child left holding its stdout would otherwise keep every
 * request waiting. At the deadline the plugin's whole process group is
 * killed. The run's memory goes once the plugin has been reaped. */

static void exec_run_closed(uv_handle_t *h)
{
    struct kube_exec_run *run = h->data;
    if (h == (uv_handle_t *)&run->pidfd_poll)
        close(run->pidfd); /* only once uv no longer watches it */
    if (--run->handles_open == 0)
        free(run);
}

static void exec_run_release(struct kube_exec_run *run)
{
    if (!run->ended || !run->reaped || run->released)
        return;
    run->released = true;
    uv_close((uv_handle_t *)&run->pidfd_poll, exec_run_closed);
    uv_close((uv_handle_t *)&run->out, exec_run_closed);
    uv_close((uv_handle_t *)&run->timer, exec_run_closed);
}

static void exec_run_kill(struct kube_exec_run *run)
{
    /* The plugin leads its own group (pgid == pid), and the pid cannot be
     * reused while the group has members: this reaches what it left behind. */
    kill(-run->pid, SIGKILL);
}

static void exec_run_report(struct kube_exec_run *run, struct kube_creds *c)
{
    char err[KUBE_ERR_MAX] = "";
    const char *cmd = c->target->exec->command;
    if (run->stdout_held)
        snprintf(err, sizeof(err),
                 "the exec credential plugin %s exited, but a process it started kept its "
                 "standard output open for %d ms; its process group was killed",
                 cmd, KUBE_EXEC_EOF_GRACE_MS);
    else if (run->timed_out)
        snprintf(err, sizeof(err),
                 "the exec credential plugin %s did not finish within %d s; its process group "
                 "was killed",
                 cmd, KUBE_EXEC_TIMEOUT_MS / 1000);
    else if (run->exit_status != 0)
        snprintf(err, sizeof(err), "the exec credential plugin %s exited with status %d", cmd,
                 run->exit_status);
    else if (run->overflow)
        snprintf(err, sizeof(err), "the exec credential plugin printed more than %d bytes",
                 KUBE_EXEC_OUTPUT_MAX);
    else if (kube_exec_credential_parse(run->buf, run->len, c->exec_token, sizeof(c->exec_token),
                                        &c->exec_expiry, err, sizeof(err)) == 0)
        c->exec_valid = true;
    explicit_bzero(run->buf, sizeof(run->buf));
    creds_finish(c, c->exec_valid ? c->exec_token : NULL, c->exec_valid ? NULL : err);
}

static void exec_run_end(struct kube_exec_run *run)
{
    if (run->ended)
        return;
    run->ended = true;
    uv_timer_stop(&run->timer);
    uv_read_stop((uv_stream_t *)&run->out);
    struct kube_creds *c = run->creds;
    run->creds = NULL;
    if (c) {
        c->run = NULL; /* the next request may start a new run */
        exec_run_report(run, c);
    }
    exec_run_release(run);
}

static void exec_on_timeout(uv_timer_t *t)
{
    struct kube_exec_run *run = t->data;
    if (run->reaped)
        run->stdout_held = true;
    else
        run->timed_out = true;
    exec_run_kill(run);
    exec_run_end(run);
}

static void exec_on_reapable(uv_poll_t *p, int status, int events)
{
    struct kube_exec_run *run = p->data;
    int st = 0;
    pid_t r = waitpid(run->pid, &st, WNOHANG);
    if (r == 0 || (r < 0 && errno == EINTR))
        return; /* not yet */
    uv_poll_stop(p);
    run->reaped = true;
    run->exit_status = r < 0 ? 1 : WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    if (run->out_eof)
        exec_run_end(run);
    else if (!run->ended && uv_timer_get_due_in(&run->timer) > KUBE_EXEC_EOF_GRACE_MS)
        uv_timer_start(&run->timer, exec_on_timeout, KUBE_EXEC_EOF_GRACE_MS, 0);
    exec_run_release(run);
}

static void exec_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct kube_exec_run *run = h->data;
    buf->base = run->buf + run->len;
    buf->len = sizeof(run->buf) - run->len;
}

static void exec_on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    struct kube_exec_run *run = s->data;
    if (n > 0) {
        run->len += (size_t)n;
        if (run->len == sizeof(run->buf))
            run->overflow = true;
    }
    if (n >= 0 && !run->overflow)
        return;
    uv_read_stop(s);
    run->out_eof = true;
    if (run->overflow && !run->reaped)
        exec_run_kill(run); /* it would block on a full pipe until the deadline */
    if (run->reaped || run->overflow)
        exec_run_end(run);
}

/* The environment: ours, the plugin's env entries, and KUBERNETES_EXEC_INFO. */
static char **exec_env(const struct kube_exec_spec *e, char *info, size_t info_cap, size_t *base)
{
    size_t n = 0;
    while (environ[n] && n < KUBE_EXEC_ENV_TOTAL_MAX)
        n++;
    char **env = calloc(n + e->env_len + 2, sizeof(char *));
    if (!env)
        return NULL;
    memcpy(env, environ, n * sizeof(char *));
    *base = n;
    for (size_t i = 0; i < e->env_len; i++)
        if (asprintf(&env[n + i], "%s=%s", e->env[i].name, e->env[i].value) < 0)
            env[n + i] = NULL;
    snprintf(info, info_cap,
             "KUBERNETES_EXEC_INFO={\"apiVersion\":\"%s\",\"kind\":\"ExecCredential\","
             "\"spec\":{\"interactive\":false}}",
             e->api_version ? e->api_version : "client.authentication.k8s.io/v1");
    env[n + e->env_len] = info;
    return env;
}

/* posix_spawn rather than uv_spawn: the child gets exactly fds 0 (/dev/null),
 * 1 (our pipe) and 2 (our stderr) whatever else is open here, its own process
 * group, an empty signal mask and default dispositions (we ignore SIGPIPE). */
static int exec_spawn(const char *cmd, char *const *args, char *const *env, int out_fd, pid_t *pid)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    sigset_t none, all;
    sigemptyset(&none);
    memset(&all, 0xff, sizeof(all)); /* every bit: see local_spawn.c */
    if (posix_spawn_file_actions_init(&fa))
        return ENOMEM;
    if (posix_spawnattr_init(&attr)) {
        posix_spawn_file_actions_destroy(&fa);
        return ENOMEM;
    }
    int rc = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    if (!rc)
        rc = posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
    if (!rc)
        rc = posix_spawn_file_actions_addclosefrom_np(&fa, 3);
    if (!rc)
        rc = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                                 POSIX_SPAWN_SETSIGDEF);
    if (!rc)
        rc = posix_spawnattr_setpgroup(&attr, 0);
    if (!rc)
        rc = posix_spawnattr_setsigmask(&attr, &none);
    if (!rc)
        rc = posix_spawnattr_setsigdefault(&attr, &all);
    if (!rc) /* a bare name through PATH, as client-go's exec.LookPath */
        rc = strchr(cmd, '/') ? posix_spawn(pid, cmd, &fa, &attr, args, env)
                              : posix_spawnp(pid, cmd, &fa, &attr, args, env);
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&fa);
    return rc;
}

static int creds_exec_start(struct kube_creds *c, char *err, size_t err_cap)
{
    const struct kube_exec_spec *e = c->target->exec;
    char *args[KUBE_EXEC_ARGS_MAX + 2] = {e->command};
    for (size_t i = 0; i < e->args_len; i++)
        args[i + 1] = e->args[i];
    /* A bare name is looked up in PATH; a relative path is relative to the kubeconfig. */
    char cmd[4096];
    bool relative = strchr(e->command, '/') && e->command[0] != '/' && e->dir[0];
    snprintf(cmd, sizeof(cmd), "%s%s%s", relative ? e->dir : "", relative ? "/" : "", e->command);
    args[0] = cmd;
    char info[KUBE_EXEC_INFO_MAX];
    size_t base = 0;
    struct kube_exec_run *run = calloc(1, sizeof(*run));
    char **env = run ? exec_env(e, info, sizeof(info), &base) : NULL;
    int p[2] = {-1, -1};
    int rc = !env ? ENOMEM : pipe2(p, O_CLOEXEC) ? errno : 0;
    if (!rc)
        rc = exec_spawn(cmd, args, env, p[1], &run->pid);
    for (size_t i = 0; env && i < e->env_len; i++)
        free(env[base + i]);
    free(env);
    if (p[1] >= 0)
        close(p[1]);
    if (!rc && (run->pidfd = pidfd_open(run->pid, 0)) < 0) {
        rc = errno;
        kill(-run->pid, SIGKILL);
        waitpid(run->pid, NULL, 0);
    }
    if (rc) {
        snprintf(err, err_cap, "cannot run the exec credential plugin %s: %s", e->command,
                 strerror(rc));
        if (p[0] >= 0)
            close(p[0]);
        free(run);
        return -1;
    }
    run->creds = c;
    uv_pipe_init(c->loop, &run->out, 0);
    uv_pipe_open(&run->out, p[0]);
    uv_timer_init(c->loop, &run->timer);
    uv_poll_init(c->loop, &run->pidfd_poll, run->pidfd);
    run->out.data = run->timer.data = run->pidfd_poll.data = run;
    run->handles_open = 3;
    uv_read_start((uv_stream_t *)&run->out, exec_alloc, exec_on_read);
    uv_poll_start(&run->pidfd_poll, UV_READABLE, exec_on_reapable);
    uv_timer_start(&run->timer, exec_on_timeout, KUBE_EXEC_TIMEOUT_MS, 0);
    c->run = run;
    return 0;
}

static int creds_exec(struct kube_creds *c, struct kube_creds_req *req, char *out, size_t out_cap)
{
    if (c->exec_valid &&
        (c->exec_expiry == 0 || time(NULL) + KUBE_EXEC_EXPIRY_SLACK_S < c->exec_expiry)) {
        snprintf(out, out_cap, "%s", c->exec_token);
        return 0;
    }
    c->exec_valid = false;
    if (!c->run && creds_exec_start(c, out, out_cap) < 0)
        return -1;
    req->next = c->waiting;
    c->waiting = req;
    return 1;
}

int kube_creds_get(struct kube_creds *c, struct kube_creds_req *req, char *out, size_t out_cap)
{
    const struct kube_target *t = c->target;
    if (t->exec)
        return creds_exec(c, req, out, out_cap);
    if (t->token_file)
        return creds_token_file(c, out, out_cap);
    snprintf(out, out_cap, "%s", t->token ? t->token : "");
    return 0;
}

void kube_creds_cancel(struct kube_creds *c, struct kube_creds_req *req)
{
    for (struct kube_creds_req **p = &c->waiting; *p; p = &(*p)->next)
        if (*p == req) {
            *p = req->next;
            return;
        }
}

void kube_creds_invalidate(struct kube_creds *c)
{
    c->exec_valid = false;
    c->file_loaded = false;
}

void kube_creds_free(struct kube_creds *c)
{
    if (!c)
        return;
    if (c->run) {
        /* The run outlives us until the plugin is reaped, promptly after
         * SIGKILL: shutting down never waits on a plugin. */
        struct kube_exec_run *run = c->run;
        run->creds = NULL;
        c->run = NULL;
        exec_run_kill(run);
        exec_run_end(run);
    }
    creds_finish(c, NULL, "podterm is shutting down");
    free(c);
}
