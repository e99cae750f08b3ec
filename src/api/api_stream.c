/* api_stream.c - a recording streamed to its reader off lws.
 *
 * A recording can be tens of MiB (the recorder's cap is 64 MiB by default).
 * Handed to lws as one reply, the whole file sits in memory twice and lws
 * cuts a slow reader after a few seconds; so the front door (front.c) gives
 * a GET of a recording the requester may read to this streamer instead: one
 * uv_poll on the socket, non-blocking sends from one API_STREAM_CHUNK
 * buffer refilled from the file, and a timer that drops a reader who takes
 * nothing for API_STREAM_IDLE_MS, and every stream once the server shuts
 * down (nothing else wakes a stream waiting on a reader). What the
 * file held when it was opened is sent (a live session's recording grows
 * meanwhile: its reader gets the part so far). Errors before the first byte
 * (absent, forbidden, malformed) are not taken here: lws answers them with
 * their Status, from api_sessions.c. The admission ends with the stream. */
#include "server/server_internal.h"

#include "api/api_sessions.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admit/admit.h"
#include "http/http1.h"

#define API_STREAM_CHUNK (64 * 1024) /* file bytes buffered per stream */
#define API_STREAM_IDLE_MS 10000     /* no byte taken by the reader for this long: drop it */
#define API_STREAM_TICK_MS 200       /* how often a stream checks idleness and shutdown */
#define API_STREAM_HEAD_MAX 768      /* the response head */
#define API_STREAM_CLIENT_GONE 499   /* the audit's code for a reader that left (nginx's) */

struct api_stream {
    uv_poll_t poll;
    uv_timer_t idle;      /* ticks every API_STREAM_TICK_MS */
    uint64_t progress_ms; /* uv_now of the last byte the reader took */
    int handles_open;
    int sock, file;
    struct server *server;
    struct admission *adm;
    char head[API_STREAM_HEAD_MAX];
    size_t head_len, head_off;
    char *buf;
    size_t buf_len, buf_off;
    uint64_t file_off, file_size;
    int code; /* for the audit: 200 sent in full, else API_STREAM_CLIENT_GONE */
    bool ending;
};

static void api_stream_closed(uv_handle_t *h)
{
    struct api_stream *st = h->data;
    if (--st->handles_open > 0)
        return;
    /* The audit line first: once the descriptors are gone, whoever watches
     * the server (a test counting its fds) may read the log at once. */
    admission_finish(st->adm, st->code);
    close(st->sock);
    close(st->file);
    free(st->buf);
    free(st);
}

static void api_stream_end(struct api_stream *st, int code)
{
    if (st->ending)
        return;
    st->ending = true;
    st->code = code;
    uv_poll_stop(&st->poll);
    uv_close((uv_handle_t *)&st->poll, api_stream_closed);
    uv_close((uv_handle_t *)&st->idle, api_stream_closed);
}

/* A stream waiting for its reader would hold up the server's shutdown for
 * up to API_STREAM_IDLE_MS: the tick ends it then, as it ends an idle one. */
static void api_stream_on_tick(uv_timer_t *t)
{
    struct api_stream *st = t->data;
    if (st->server->shutting_down || uv_now(t->loop) - st->progress_ms >= API_STREAM_IDLE_MS)
        api_stream_end(st, API_STREAM_CLIENT_GONE);
}

/* Send from p (len bytes) what the socket takes: the count, 0 when it takes
 * nothing now, -1 when the reader is gone. */
static long api_stream_send(struct api_stream *st, const char *p, size_t len)
{
    ssize_t n = send(st->sock, p, len, MSG_NOSIGNAL);
    if (n < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
    if (n > 0)
        st->progress_ms = uv_now(st->server->loop);
    return (long)n;
}

/* Refill the buffer from the file: 0, or -1 when the file ends early. */
static int api_stream_fill(struct api_stream *st)
{
    uint64_t left = st->file_size - st->file_off;
    size_t want = left < API_STREAM_CHUNK ? (size_t)left : API_STREAM_CHUNK;
    ssize_t n;
    do
        n = pread(st->file, st->buf, want, (off_t)st->file_off);
    while (n < 0 && errno == EINTR);
    if (n <= 0)
        return -1; /* truncated under us: the Content-Length cannot be met */
    st->buf_len = (size_t)n;
    st->buf_off = 0;
    st->file_off += (uint64_t)n;
    return 0;
}

static void api_stream_on_poll(uv_poll_t *p, int status, int events);

/* Send while the socket takes it; wait for writability when it does not. */
static void api_stream_pump(struct api_stream *st)
{
    while (!st->ending) {
        if (st->server->shutting_down)
            return api_stream_end(st, API_STREAM_CLIENT_GONE);
        const char *p;
        size_t *off, len;
        if (st->head_off < st->head_len) {
            p = st->head + st->head_off;
            off = &st->head_off;
            len = st->head_len - st->head_off;
        } else if (st->buf_off < st->buf_len) {
            p = st->buf + st->buf_off;
            off = &st->buf_off;
            len = st->buf_len - st->buf_off;
        } else if (st->file_off < st->file_size) {
            if (api_stream_fill(st) < 0)
                return api_stream_end(st, API_STREAM_CLIENT_GONE);
            continue;
        } else {
            return api_stream_end(st, 200);
        }
        long n = api_stream_send(st, p, len);
        if (n < 0)
            return api_stream_end(st, API_STREAM_CLIENT_GONE);
        if (n == 0) {
            uv_poll_start(&st->poll, UV_WRITABLE, api_stream_on_poll);
            return;
        }
        *off += (size_t)n;
    }
}

static void api_stream_on_poll(uv_poll_t *p, int status, int events)
{
    (void)events;
    struct api_stream *st = p->data;
    if (status < 0)
        return api_stream_end(st, API_STREAM_CLIENT_GONE);
    uv_poll_stop(p);
    api_stream_pump(st);
}

/* Is this admitted request exactly GET /apis/podterm.dev/v1alpha1/sessions/{id}/recording? */
static bool api_stream_wanted(const struct admission *adm)
{
    const struct admit_attrs *x = &adm->attrs;
    char path[256];
    if (strcmp(x->method_lower, "get") != 0 || !x->resource_request || x->ns[0] ||
        strcmp(x->api_group, API_SESSIONS_GROUP) != 0 ||
        strcmp(x->api_version, API_SESSIONS_VERSION) != 0 || strcmp(x->resource, "sessions") != 0 ||
        strcmp(x->subresource, "recording") != 0 || !api_session_id_valid(x->name, strlen(x->name)))
        return false;
    int n = snprintf(path, sizeof(path), "%s/%s/sessions/%s/recording", API_SESSIONS_PREFIX,
                     API_SESSIONS_VERSION, x->name);
    size_t len = strlen(x->path);
    return n > 0 && (size_t)n < sizeof(path) && strncmp(x->path, path, (size_t)n) == 0 &&
           (len == (size_t)n || (len == (size_t)n + 1 && x->path[n] == '/'));
}

/* The file to send, when the requester may read it: its fd, else -1. */
static int api_stream_open(struct server *server, const struct admission *adm, struct stat *sb)
{
    const char *id = adm->attrs.name, *dir = server->opts.recording_dir;
    struct api_session s = {0};
    bool ok = dir && api_session_lookup(server, id, &s) == 1 &&
              (!adm->owner_only || strcmp(s.user, adm->user.user) == 0);
    api_session_clear(&s);
    return ok ? api_recording_open(dir, id, sb) : -1;
}

bool api_recording_stream_take(struct server *server, int fd, struct admission *adm)
{
    if (!api_stream_wanted(adm))
        return false;
    struct stat sb;
    int file = api_stream_open(server, adm, &sb);
    if (file < 0)
        return false;
    struct api_stream *st = calloc(1, sizeof(*st));
    char *buf = st ? malloc(API_STREAM_CHUNK) : NULL;
    if (!buf || uv_poll_init_socket(server->loop, &st->poll, fd) != 0) {
        free(st);
        free(buf);
        close(file);
        return false; /* lws answers (it has the bounded path, or says out of memory) */
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    st->sock = fd;
    st->file = file;
    st->server = server;
    st->adm = adm;
    st->buf = buf;
    st->file_size = (uint64_t)sb.st_size;
    st->handles_open = 2;
    int hl = snprintf(
        st->head, sizeof(st->head),
        "HTTP/1.1 200 OK\r\nContent-Type: application/x-asciicast\r\nContent-Length: %llu\r\n"
        "Cache-Control: no-store\r\n" HTTP1_SECURITY_HEADERS
        "Content-Disposition: attachment; filename=\"%s.cast\"\r\nConnection: close\r\n\r\n",
        (unsigned long long)sb.st_size, adm->attrs.name);
    st->head_len = hl > 0 && (size_t)hl < sizeof(st->head) ? (size_t)hl : 0;
    st->poll.data = st;
    uv_timer_init(server->loop, &st->idle);
    st->idle.data = st;
    st->progress_ms = uv_now(server->loop);
    uv_timer_start(&st->idle, api_stream_on_tick, API_STREAM_TICK_MS, API_STREAM_TICK_MS);
    api_stream_pump(st);
    return true;
}
