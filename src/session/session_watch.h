/* session_watch.h - watchers and joiners of a live tty session (issue 11;
 * the wire contract is docs/flow-control.md's).
 *
 * GET .../sessions/{id}/watch (read-only) or .../join (read-write) upgrades
 * to a WebSocket that gets [0x01], (flow protocol) a channel-7 size, the
 * repaint of the session's screen model, then the session's live output;
 * when the session ends, a Success Status and Close 1000.
 *
 * A watcher never slows the owner: what the session's output tap hands it
 * goes into the watcher's own queue (WATCH_QUEUE_MAX), and a watcher that
 * falls so far behind that the queue would overflow loses the queue and
 * gets a fresh repaint (with its size) instead of the bytes it missed. A
 * joiner's stdin goes to the process through the session's stdin path; when
 * the process does not take it, that joiner's socket is not read (as the
 * owner's is not). Resizes from watchers are ignored.
 *
 * Memory: per watcher a struct, its decoder, a queue allocated only while
 * it holds bytes (at most WATCH_QUEUE_MAX), a repaint only while one is
 * being written (at most screen_repaint_bound of the model); at most
 * SESSION_WATCHERS_MAX watchers per session.
 *
 * The lws callbacks of a watcher's connection (server.c routes them here by
 * the WSI_DATA_WATCHER tag) and the session's hooks (session.c) are below;
 * everything runs on the loop. */
#ifndef PODTERM_SESSION_WATCH_H
#define PODTERM_SESSION_WATCH_H

#include <libwebsockets.h>
#include <stddef.h>
#include <stdint.h>

struct server;
struct session;
struct upgrade_offer;
struct watcher;

/* Connections watching or joining one session at most. */
#define SESSION_WATCHERS_MAX 16
/* Live output a watcher holds at most before it is given a repaint instead. */
#define WATCH_QUEUE_MAX (256 * 1024)
/* After the session ended, how long a watcher gets to take what it has
 * queued, its Status and Close before it is hung up. */
#define WATCH_END_TIMEOUT_S 10

/* upgrade.c: .../sessions/{id}/watch or /join (upgrade_confirm's contract:
 * 0 upgrade with a watcher attached to wsi, 1 a Status was written, -1 hang
 * up). */
int session_watch_upgrade(struct server *server, struct lws *wsi, struct upgrade_offer *offer,
                          bool join);

/* server.c: the watcher's connection. */
int session_watch_on_established(struct watcher *w);
int session_watch_on_receive(struct watcher *w, const void *in, size_t len);
int session_watch_on_writeable(struct watcher *w);
void session_watch_on_pong(struct watcher *w);
/* The connection is gone: the watcher is freed (its audit ends). */
void session_watch_on_closed(struct watcher *w);

#endif
