/* session.h - one exec/attach: the client's WebSocket bridged to a backend
 * stream through the proto codec (session.c), and the upgrade decision
 * that creates it (upgrade.c). */
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

/* upgrade.c: LWS_CALLBACK_HTTP_CONFIRM_UPGRADE. Returns 0 to let the
 * upgrade proceed (a session is attached to the wsi), 1 when a response was
 * written instead, -1 to hang up. */
int upgrade_confirm(struct server *server, struct lws *wsi);
/* The exec/attach validation shared by the WebSocket and the SPDY (refused) paths.
 * Returns 0 (validated; req filled) or 1 (a Status response was written). */
int upgrade_validate_exec(struct server *server, struct lws *wsi, const char *path,
                          struct exec_request *req, bool *is_exec_path);

/* session.c: one exec/attach bridge. */
struct session *session_new(struct server *server, enum proto_kind kind, struct exec_request *req);
void session_free(struct session *session);
/* -1 when SESSION_TAPS_MAX are attached already. */
int session_tap_add(struct session *session, const struct session_tap_ops *ops, void *user);
/* The user pointer of the session's tap with these ops, or NULL: how the
 * owner of a kind of tap finds its own (screen_tap.c's model). */
void *session_tap_user(struct session *session, const struct session_tap_ops *ops);

/* End the session (with a Status naming the policy) after max_duration_s,
 * or after idle_timeout_s without input or output; 0: no such limit. */
void session_limits_set(struct session *session, unsigned max_duration_s, const char *max_policy,
                        unsigned idle_timeout_s, const char *idle_policy);
int session_on_established(struct session *session, struct lws *wsi);
/* The frame sweep's timer callback (server.c owns the handle). */
void session_sweep(uv_timer_t *timer);
int session_on_receive(struct session *session, const void *in, size_t len);
int session_on_writeable(struct session *session);
void session_on_closed(struct session *session);
/* The drain's grace is over: every open session ends with a Status saying
 * so and Close 1001 (a session already ending keeps its own Status). */
void session_shutdown_all(struct server *server);

#endif
