/* session_internal.h - the session's state, shared by the files that make
 * one session: session.c (the bridge), session_resume.c (a dropped web
 * terminal taken over by a new connection). Not for use elsewhere. */
#ifndef PODTERM_SESSION_INTERNAL_H
#define PODTERM_SESSION_INTERNAL_H

#include "server/server_internal.h"

#include "audit/audit.h"
#include "session/exec_request.h"
#include "session/session.h"
#include "session/session_keepalive.h"

/* Exported by libwebsockets 4.1 but declared only in its private headers. */
void lws_close_free_wsi(struct lws *wsi, enum lws_close_status reason, const char *caller);
/* lws_write's Close opcode: private in 4.1 too (the gap at 4 in lws-write.h). */
#define SESSION_LWS_WRITE_CLOSE ((enum lws_write_protocol)4)

#define SESSION_OUT_PAYLOAD (64 * 1024) /* largest output payload per frame */
/* Coalescing (session_fill): another read is appended to a waiting message
 * only while at least this much room is left, so reads stay PTY-sized. */
#define SESSION_COALESCE_ROOM_MIN (4 * 1024)
#define SESSION_IN_MAX (64 * 1024) /* stdin bytes waiting for the process */
#define SESSION_WRITES_PER_WAKE 16 /* frames written per writeable callback at most */
#define SESSION_ARGV_TEXT_MAX 512  /* "[sh -c exit 3]" in exit messages */
/* How often the sweep looks at every session (see session_sweep): the bound
 * on how long an oversized frame header waits for its 1009, and a client
 * that hung up while its input was paused waits to be noticed. */
#define SESSION_SWEEP_MS 100
#define SESSION_LIMIT_MESSAGE_MAX 512
#define SESSION_TOO_LARGE_REASON "message too large"
#define SESSION_OOM_MESSAGE "podterm: out of memory"
#define SESSION_SHUTDOWN_MESSAGE "podterm is shutting down"
/* Resume: a token is SESSION_RESUME_BYTES random bytes in hex, within the
 * negotiation's PROTO_RESUME_MAX. */
#define SESSION_RESUME_BYTES 32
#define SESSION_RESUME_TOKEN_LEN (2 * SESSION_RESUME_BYTES)
/* The info message (channel 7) a session sends its page. */
#define SESSION_INFO_MAX 256
/* Output read per readable event while no connection takes it (detached):
 * it feeds the taps (screen, recording) and is dropped. */
#define SESSION_DETACHED_READ (16 * 1024)
#define SESSION_DETACHED_READS_PER_WAKE 16

struct session {
    enum wsi_data_type type; /* WSI_DATA_SESSION: first, see server_internal.h */
    struct server *server;
    struct session *prev, *next; /* server->session_list */
    struct lws *wsi;             /* the client's WebSocket, or */
    struct session_spdy *spdy;   /* its SPDY connection (session_spdy.c); NULL both: detached */
    enum proto_kind kind;
    struct exec_request req;
    struct backend_stream *stream;
    struct proto_decoder dec;
    /* Observers (session.h): told of input, output, resizes and the end. */
    struct session_tap taps[SESSION_TAPS_MAX];
    size_t taps_len;
    bool tapped_end;
    /* Limits (ExecPolicy): 0 none; checked by the sweep. */
    uint64_t started_ms, active_ms;
    unsigned max_duration_s, idle_timeout_s;
    char *limit_message; /* NULL without limits; below SESSION_LIMIT_MESSAGE_MAX bytes */
    const char *end_reason;

    /* output: one message at a time, its payload growing while it waits */
    uint8_t *out;     /* LWS_PRE + frame; NULL while idle */
    size_t out_pay;   /* payload bytes waiting at out + LWS_PRE + the largest head (0: none) */
    int out_ch;       /* their channel */
    int next_channel; /* 1 or 2: alternate so neither stream starves */
    bool ch_open[3];  /* [1], [2]: not yet at end of stream */
    bool reading[3];  /* [1], [2]: backend notifications on */
    bool output_held; /* an observer is behind (session_output_hold): the process waits */
    bool initial_sent;
    uint64_t unacked; /* flow kind: payload bytes not yet acknowledged */

    /* input */
    uint8_t *in; /* stdin the process has not taken yet */
    size_t in_len, in_off;
    bool rx_paused;
    bool stdin_closed;
    bool stdin_close_pending;
    bool in_message;
    uint64_t message_bytes;

    /* end */
    bool exited;
    struct backend_exit exit;
    bool status_sent;
    bool close_sent;
    bool closed;     /* the client side is gone */
    bool too_large;  /* a frame header announced more than SERVER_MESSAGE_MAX */
    bool peer_gone;  /* the client hung up while we were not reading (rx paused) */
    bool failed;     /* podterm itself could not go on (out of memory): exit holds why */
    bool going_away; /* ended by the server's shutdown: Close 1001, then hang up */

    /* keepalive (--ping-interval, session_keepalive.h) */
    struct session_keepalive ka;

    /* resume (--session-grace, session_resume.c): a web terminal's session
     * outlives a connection that dropped without a Close */
    char id[AUDIT_ID_LEN + 1]; /* its audit id ("" until set) */
    uint64_t grace_ms;         /* 0: not resumable */
    char resume_token[SESSION_RESUME_TOKEN_LEN + 1];
    uint64_t detached_ms;    /* when the connection dropped (0: attached) */
    bool peer_closed;        /* the client sent a Close: ended on purpose */
    bool info_pending;       /* the channel-7 session message waits */
    unsigned resumes;        /* connections that took the session over */
    char *owner;             /* the user who opened it: the only one who may resume */
    struct lws *pending_wsi; /* a resume's connection, upgraded, not yet established */
    uint8_t *repaint;        /* the screen, for a resumed connection */
    size_t repaint_len, repaint_off;

    /* watchers and joiners (session_watch.c): connections of their own,
     * listed here oldest first; the session never frees one */
    struct watcher *watchers;
    bool watchers_info_pending; /* the owner's channel-7 watchers message waits */
};

/* session.c, for session_resume.c, session_watch.c and session_spdy.c */
/* A connection (WebSocket or SPDY) takes the session's output. */
bool session_connected(const struct session *s);
/* The connection is up: the process starts (or the prepared upstream
 * stream is taken), output is read. */
void session_start(struct session *s);
/* Input of the SPDY streams, as the WebSocket decoder's events. */
void session_stdin_close(struct session *s);
void session_resize(struct session *s, unsigned width, unsigned height);
void session_fill(struct session *s);
int session_write_frame(struct session *s, uint8_t *frame, size_t len);
/* Stdin for the process through the session's buffer (a joiner's keys):
 * true when some of it still waits for the process (the caller stops
 * reading its socket until session_watch_stdin_drained). */
bool session_stdin_write(struct session *s, const uint8_t *data, size_t len);

/* session_spdy.c, for session.c: the SPDY connection's side of the
 * bridge (session.c's lws calls, for the other transport). */
struct session_spdy;
void session_spdy_want_write(struct session_spdy *l);
/* One frame as session.c builds it (the channel byte, then the payload):
 * DATA on the stream of that channel. 0, or -1 when the connection failed. */
int session_spdy_write(struct session_spdy *l, const uint8_t *frame, size_t len);
/* Too much is waiting for the socket for another full frame. */
bool session_spdy_choked(const struct session_spdy *l);
void session_spdy_rx_pause(struct session_spdy *l, bool pause);
/* The Status is out: the streams end, GOAWAY, then the connection closes. */
void session_spdy_end(struct session_spdy *l);
int session_spdy_fd(const struct session_spdy *l);
/* The keepalive's ping (--ping-interval), as a SPDY PING. */
void session_spdy_ping(struct session_spdy *l);

/* session_revoke.c, for the sweep: the policy changed (--terminate-on-revoke):
 * sessions it no longer allows end. */
void session_revoke_check(struct server *server);

/* session_resume.c, for session.c */
/* The connection dropped without a Close: true when the session is kept
 * for a resume (detached: no wsi), false when it ends now. */
bool session_resume_detach(struct session *s);
/* The sweep's look at a detached session: true when its grace is over
 * (the caller frees it). */
bool session_resume_expired(struct session *s, uint64_t now);
/* The writeable callback's steps after the initial frame: the info
 * message and the repaint of a resumed connection. 1 wrote one, 0 none
 * due, -1 the connection failed. */
int session_resume_write_next(struct session *s);
/* The session is being freed: a resume's connection waiting for
 * ESTABLISHED no longer points to it (and is hung up). */
void session_resume_forget(struct session *s);
/* LWS_CALLBACK_ESTABLISHED of a resume's connection: it takes the session. */
int session_resume_attach(struct session *s, struct lws *wsi);

/* session_watch.c, for session.c: the session's hooks. */
struct watcher;
/* Output as the owner gets it: queued for each watcher. */
void session_watch_output(struct session *s, int channel, const uint8_t *data, size_t len);
/* The owner resized (the model has the new size): size and repaint. */
void session_watch_resize(struct session *s);
/* The process has taken all waiting stdin: joiners are read again. */
void session_watch_stdin_drained(struct session *s);
/* The owner's write sequence: the channel-7 watchers message when due
 * (session_write_next's 1/0/-1). */
int session_watch_owner_write_next(struct session *s);
/* A resumed owner is told who watches, if anyone does. */
void session_watch_resumed(struct session *s);
/* The sweep: the watchers' keepalive. */
void session_watch_sweep(struct session *s, uint64_t now);
/* The session ends (freed, or its process gone): watchers finish alone. */
void session_watch_end(struct session *s);
/* Watchers connected now, for the sessions API. */
size_t session_watch_count(const struct session *s);

#endif
