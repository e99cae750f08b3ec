/* screen.h - the server-side screen model of a tty session (issue 11).
 *
 * Sans-I/O: the session's output goes in (screen_feed), terminal sizes go in
 * (screen_resize), and screen_repaint fills a buffer with the bytes that,
 * written to a freshly reset terminal of the same size (xterm, xterm.js,
 * tmux), reproduce the current screen: every cell's text and attributes,
 * the alternate screen when active, the cursor, the window title and the
 * modes an application set that change what keys and the mouse send. Used
 * on the loop only; no locking, no I/O, no globals.
 *
 * Cells are libvterm's (the library Neovim's terminal uses). libvterm keeps
 * fixed-size cells (36 bytes each), so the model's memory is set by the size:
 * nothing is allocated for the cells until the first output (an idle session
 * costs sizeof(struct screen) only), the alternate buffer only once an
 * application asks for it, and sizes are capped (SCREEN_COLS_MAX x
 * SCREEN_ROWS_MAX) so that a client's resize cannot make it allocate without
 * limit. screen_memory() says what one model holds.
 *
 * Not reproduced (no public way to read them from libvterm 0.1.4): the
 * primary screen while the alternate one is active (the repaint switches to
 * the alternate screen on a cleared primary), the cursor saved by DECSC or
 * ?1049, character set designations (cells hold the translated characters),
 * the pending-wrap flag of a cursor in the last column, scrollback, a
 * combining mark libvterm left alone in a cell (a terminal joins it to the
 * cell before).
 *
 * libvterm 0.1.4 crashes or hangs on some output (CSIs of 17+ arguments,
 * wide characters on one column, scroll regions and cursors left off the
 * screen by a resize, REP before the first character); screen.c keeps each
 * of those away from it, and fuzz_screen looks for more. */
#ifndef PODTERM_SCREEN_H
#define PODTERM_SCREEN_H

#include <stddef.h>
#include <stdint.h>

/* The largest size the model takes; bigger requests are clamped (the
 * repaint then covers the top-left SCREEN_COLS_MAX x SCREEN_ROWS_MAX). At
 * 36 bytes a cell, one buffer at the cap is 4.5 MB, 9 MB with the
 * alternate screen. */
#define SCREEN_COLS_MAX 500
#define SCREEN_ROWS_MAX 250
/* libvterm 0.1.4 writes through a NULL pointer when a wide character meets
 * a one-column screen (found by fuzz_screen): two columns at least. */
#define SCREEN_COLS_MIN 2
/* The window title kept (OSC 0/2); a longer title is cut at a UTF-8 boundary. */
#define SCREEN_TITLE_MAX 256
/* The most bytes screen_repaint can need for one cell (SGR with two RGB
 * colours, six code points, cursor motion), the basis of screen_repaint_bound. */
#define SCREEN_REPAINT_CELL_MAX 96

struct screen;

/* A model of width x height (clamped to SCREEN_COLS_MIN..SCREEN_COLS_MAX and
 * 1..SCREEN_ROWS_MAX). NULL when out of memory. */
struct screen *screen_new(unsigned width, unsigned height);
void screen_free(struct screen *s);
/* The session's output, in order, in chunks of any size (sequences may be
 * split anywhere). -1 when out of memory (the model is then stale). */
int screen_feed(struct screen *s, const uint8_t *data, size_t len);
/* The terminal's new size (clamped). libvterm keeps the cells that fit. */
int screen_resize(struct screen *s, unsigned width, unsigned height);
/* The bytes of a repaint of the current screen, as snprintf: writes at most
 * cap bytes to out and returns the length the whole repaint has (greater
 * than cap: out holds a truncated, unusable prefix; call again with more),
 * or -1 when out of memory. Never more than screen_repaint_bound(s). */
long screen_repaint(struct screen *s, uint8_t *out, size_t cap);
/* The most bytes a repaint of this model can take at its current size. */
size_t screen_repaint_bound(const struct screen *s);
/* The current (clamped) size. */
void screen_size(const struct screen *s, unsigned *width, unsigned *height);
/* Bytes held by the model now (the struct, libvterm's allocations, the
 * pending buffer, a hibernating model's repaint), counted by its own
 * allocator. */
size_t screen_memory(const struct screen *s);
/* An idle session's model gives its cells back: the screen is kept as its
 * repaint (a few KiB for a shell's 80x24, against libvterm's 36 bytes a
 * cell), which a fresh libvterm is fed on the next output or resize;
 * screen_repaint meanwhile returns those very bytes. What a repaint cannot
 * carry (screen.h's list above: the primary screen under the alternate one,
 * saved cursors, a pending wrap) is lost at that point, for later watchers
 * and resumes only. Does nothing when the model holds no cells, or is in
 * the middle of a sequence. -1 when out of memory (the model stays awake). */
int screen_hibernate(struct screen *s);

#endif
