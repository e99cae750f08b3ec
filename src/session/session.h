/* session.h - one exec/attach: the client's WebSocket (or SPDY connection,
 * session_spdy.c) bridged to a backend stream through the proto codec
 * (session.c), and the upgrade decision that creates it (upgrade.c). */
#ifndef PODTERM_SESSION_H
#define PODTERM_SESSION_H

#include <libwebsockets.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "proto/proto.h"
#include "session/session_tap.h"

struct server;
struct session;
struct exec_request;
struct admission;

/* upgrade.c: LWS_CALLBACK_HTTP_CONFIRM_UPGRADE. Returns 0 to let the
 * upgrade proceed (a session is attached to the wsi), 1 when a response was
 * written instead, -1 to hang up. */
int upgrade_confirm(struct server *server, struct lws *wsi);
/* The exec/attach validation shared by the WebSocket and the SPDY (refused) paths.
 * Returns 0 (validated; req filled) or 1 (a Status response was written). */
int upgrade_validate_exec(struct server *server, struct lws *wsi, const char *path,
                          struct exec_request *req, bool *is_exec_path);

/* The session of a validated exec/attach request, for either transport
 * (upgrade.c for WebSockets, session_spdy.c for SPDY): its recording
 * opened, the session made (it owns req's contents then), the taps and the
 * admission (offer->admission, whose ResponseStarted this is) attached. NULL
 * with the refusal in err (503 recording, 500 out of memory): req is then
 * still the caller's. */
struct upgrade_offer;
struct exec_error;
struct session *upgrade_session_open(struct server *server, struct upgrade_offer *offer,
                                     enum proto_kind kind, struct exec_request *req,
                                     struct exec_error *err);

/* session_spdy.c: an exec/attach over SPDY/3.1 (kubectl 1.27-1.29, and any
 * client-go program on the SPDY executor), handed over by the front door
 * after admission: the request is validated (or, in gateway mode, prepared
 * upstream already), answered 101 with the version chosen, and the session
 * starts once the client has opened the streams it asked for. fd, adm and
 * prepared's contents are taken in every case. */
void session_spdy_take(struct server *server, int fd, const char *head, size_t len,
                       struct exec_request *prepared, struct admission *adm);
/* Shutdown: every SPDY connection is closed now (their sessions end). */
void session_spdy_close_all(struct server *server);

/* session.c: one exec/attach bridge. */
struct session *session_new(struct server *server, enum proto_kind kind, struct exec_request *req);
void session_free(struct session *session);
/* -1 when SESSION_TAPS_MAX are attached already. */
int session_tap_add(struct session *session, const struct session_tap_ops *ops, void *user);
/* The user pointer of the session's tap with these ops, or NULL: how the
 * owner of a kind of tap finds its own (screen_tap.c's model). */
void *session_tap_user(struct session *session, const struct session_tap_ops *ops);

/* session_resume.c: the session's id (its audit id) and owner (the user
 * who opened it), set once by upgrade.c; with grace_ms > 0 the session can
 * be resumed (the caller checked it is a web terminal's tty session with a
 * screen model) after its connection drops, for that long. */
void session_identify(struct session *session, const char *id, const char *owner,
                      uint64_t grace_ms);
const char *session_id(const struct session *session);
/* The live session with this id, or NULL. */
struct session *session_find(struct server *server, const char *id);
/* The upgrade of .../sessions/{id}/resume (upgrade_confirm's contract):
 * the same user with the session's current token takes it over. */
struct upgrade_offer;
int session_resume_upgrade(struct server *server, struct lws *wsi, struct upgrade_offer *offer);

/* End the session (with a Status naming the policy) after max_duration_s,
 * or after idle_timeout_s without input or output; 0: no such limit. */
void session_limits_set(struct session *session, unsigned max_duration_s, const char *max_policy,
                        unsigned idle_timeout_s, const char *idle_policy);
int session_on_established(struct session *session, struct lws *wsi);
/* The frame sweep's timer callback (server.c owns the handle). */
void session_sweep(uv_timer_t *timer);
int session_on_receive(struct session *session, const void *in, size_t len);
/* The client answered a ping (keepalive, --ping-interval). */
void session_on_pong(struct session *session);
int session_on_writeable(struct session *session);
/* The client sent a Close: its session ends with the connection (no resume). */
void session_on_peer_close(struct session *session);
/* wsi: the connection that closed (the session's, or a resume's that was
 * never established). */
void session_on_closed(struct session *session, struct lws *wsi);
/* The sessions running now, for the sessions API (src/api/api_live.c): a
 * view of each of server->session_list, newest first, at most cap of them
 * into out; returns how many are running in all. The views borrow the
 * sessions: they are good until the loop runs again. */
struct session_view {
    struct session *session; /* for a later watch or join of this one */
    const struct exec_request *req;
    const struct session_tap *taps;
    size_t taps_len;
    size_t watchers; /* watch and join connections now */
};
size_t session_list_snapshot(struct server *server, struct session_view *out, size_t cap);
/* A tap that cannot keep up (a required recording waiting for its disk)
 * holds the output: the process is not read, so it waits, until the tap
 * lets go. hold=true may come from inside a tap (it only sets a flag);
 * hold=false only from the loop, outside the session's steps. */
void session_output_hold(struct session *session, bool hold);
/* End the session from outside its own steps (an observer's failure seen
 * on the loop, such as a recording that must be written and cannot be):
 * reason for the taps' end, message in the InternalError Status the
 * client gets. A session ending already keeps its own Status. */
void session_end_error(struct session *session, const char *reason, const char *message);
/* The drain began: detached sessions (waiting for a resume) end now, since
 * nobody can come back to a server that stopped listening. */
void session_resume_end_all(struct server *server);
/* The drain's grace is over: every open session ends with a Status saying
 * so and Close 1001 (a session already ending keeps its own Status). */
void session_shutdown_all(struct server *server);

#endif
