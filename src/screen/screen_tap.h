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

/* Give the session a model. -1 (and no model) when out of memory or the
 * session has no room for another tap. */
int screen_tap_attach(struct session *session);
/* The session's model, or NULL: no model (not tty, --screen-model off) or
 * one that missed output when memory ran out (its screen would be wrong).
 * Valid until the session is freed. */
struct screen *session_screen(struct session *session);

#endif
