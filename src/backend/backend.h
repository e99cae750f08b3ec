/* backend.h - the only thing a session knows about what runs a command.
 *
 * A backend runs exec/attach streams: the local backend (local.c) on PTYs and
 * pipes of this host, the kube backend (gateway mode) on a real cluster. All
 * calls happen on the event loop thread; callbacks are invoked from it too.
 *
 * Flow control is pull-based so memory stays bounded: the backend says a
 * channel is readable, the session reads into its own buffer when it has
 * room, and turns notifications off (backend_stream_want_read) while full.
 * Output is never dropped.
 */
#ifndef PODTERM_BACKEND_H
#define PODTERM_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define BACKEND_ERR_MAX 512 /* bytes of an error message */

struct backend;        /* one per server: local or kube */
struct backend_stream; /* one exec or attach */

struct backend_exec_request {
    const char *ns;
    const char *pod;
    const char *container;   /* resolved by the server: never NULL */
    const char *const *argv; /* exec: NULL-terminated, argc >= 1; attach: NULL */
    size_t argc;
    bool attach;
    bool want_stdin, want_stdout, want_stderr, tty;
    /* Gateway mode: the upstream stream opened before the client's upgrade
     * was answered (so upstream errors could reach the client); start takes
     * it over. NULL otherwise. */
    struct backend_stream *prepared;
};

enum backend_exit_type {
    BACKEND_EXIT_CODE,   /* the process exited with code (0..255) */
    BACKEND_EXIT_SIGNAL, /* killed by a signal: reported like the runtime does, code 128+sig */
    BACKEND_EXIT_ERROR,  /* could not run (exec failure, attach stream ended badly): message */
};

struct backend_exit {
    enum backend_exit_type type;
    int code;
    char message[BACKEND_ERR_MAX];
    /* Why an error exit happened, when the backend knows better than
     * "error": "upstream-lost" (session_tap.h's end reasons). NULL: none. */
    const char *reason;
};

struct backend_stream_cbs {
    /* Output is available on channel 1 (stdout) or 2 (stderr). Level-triggered
     * while wanted: it fires again until read returns -EAGAIN. */
    void (*readable)(void *user, int channel);
    /* stdin can take more after backend_stream_write returned short. */
    void (*writable)(void *user);
    /* The stream ended: called once, only after every output byte was read
     * (read returned 0 on every output channel). No callback follows. */
    void (*exited)(void *user, const struct backend_exit *exit);
};

/* Start a stream. The server has validated the request (pod, container,
 * streams). Returns 0 or a negative errno; on error err holds a message (the
 * text the apiserver would put in an InternalError Status, e.g.
 * `exec: "foo": executable file not found in $PATH`). */
int backend_stream_start(struct backend *backend, const struct backend_exec_request *req,
                         const struct backend_stream_cbs *cbs, void *user,
                         struct backend_stream **out, char *err, size_t err_cap);

/* Read output of channel 1 or 2: bytes (>0), 0 at end of that channel, -EAGAIN. */
ssize_t backend_stream_read(struct backend_stream *stream, int channel, uint8_t *buf, size_t cap);
/* Turn readable notifications for a channel on or off (the session's buffer is full). */
void backend_stream_want_read(struct backend_stream *stream, int channel, bool on);
/* Write to stdin: bytes taken (may be short), or -EAGAIN (writable fires later),
 * or -EPIPE when stdin is closed. */
ssize_t backend_stream_write(struct backend_stream *stream, const uint8_t *buf, size_t len);
/* End of stdin (v5 close signal, or the client closed its side). */
void backend_stream_close_stdin(struct backend_stream *stream);
/* Terminal size (tty streams; ignored otherwise). */
void backend_stream_resize(struct backend_stream *stream, uint16_t width, uint16_t height);
/* The client went away: stop the stream (exec: SIGHUP, SIGKILL after a grace
 * period, reaped; attach: detach). No callback fires after this returns and
 * the stream must not be used again. */
void backend_stream_stop(struct backend_stream *stream);

/* Dispatch table: one per backend type, so backend_stream_* stays mode-agnostic. */
struct backend_ops {
    int (*start)(struct backend *backend, const struct backend_exec_request *req,
                 const struct backend_stream_cbs *cbs, void *user, struct backend_stream **out,
                 char *err, size_t err_cap);
    ssize_t (*read)(struct backend_stream *stream, int channel, uint8_t *buf, size_t cap);
    void (*want_read)(struct backend_stream *stream, int channel, bool on);
    ssize_t (*write)(struct backend_stream *stream, const uint8_t *buf, size_t len);
    void (*close_stdin)(struct backend_stream *stream);
    void (*resize)(struct backend_stream *stream, uint16_t width, uint16_t height);
    void (*stop)(struct backend_stream *stream);
    void (*free)(struct backend *backend);
};

/* Every backend and stream struct starts with these, so the generic calls can dispatch. */
struct backend {
    const struct backend_ops *ops;
};
struct backend_stream {
    const struct backend_ops *ops;
};

void backend_free(struct backend *backend);

#endif
