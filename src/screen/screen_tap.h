/* screen_tap.h - a tty session's screen model, kept as one of its taps
 * (session/session_tap.h): output is fed to it, resizes resize it, the
 * session's end frees it. What a watcher or a resumed terminal is
 * repainted from. */
#ifndef PODTERM_SCREEN_TAP_H
#define PODTERM_SCREEN_TAP_H

#include "screen/screen.h"

struct session;

/* The size a model starts at, until the client's first resize (what the
 * local backend gives a new PTY). */
#define SCREEN_TAP_COLS 80
#define SCREEN_TAP_ROWS 24

/* A session without output or input for this long has its model
 * hibernate (screen_hibernate): an idle session keeps its screen as a few
 * KiB of repaint instead of libvterm's cells. */
#define SCREEN_TAP_IDLE_MS 5000

/* Give the session a model. -1 (and no model) when out of memory or the
 * session has no room for another tap. */
int screen_tap_attach(struct session *session);
/* The session's model, or NULL: no model (not tty, --screen-model off) or
 * one that missed output when memory ran out (its screen would be wrong).
 * Valid until the session is freed. */
struct screen *session_screen(struct session *session);
/* The session has been idle SCREEN_TAP_IDLE_MS: its model hibernates (a
 * model asleep already costs one look). */
void session_screen_idle(struct session *session);

#endif
