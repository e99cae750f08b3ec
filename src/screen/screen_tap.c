/* screen_tap.c - the screen model as a session tap (screen_tap.h). */
#include "screen/screen_tap.h"

#include "screen/screen_internal.h"
#include "session/session.h"

static void screen_tap_output(void *user, int channel, const uint8_t *data, size_t len)
{
    /* A tty session's stderr is its stdout (PROTOCOL.md 3.8); both are the screen. */
    screen_feed(user, data, len);
}

static void screen_tap_resize(void *user, unsigned width, unsigned height)
{
    screen_resize(user, width, height);
}

static void screen_tap_end(void *user, int exit_code, const char *reason)
{
    screen_free(user);
}

static const struct session_tap_ops screen_tap_ops = {
    .output = screen_tap_output,
    .resize = screen_tap_resize,
    .end = screen_tap_end,
};

int screen_tap_attach(struct session *session)
{
    struct screen *s = screen_new(SCREEN_TAP_COLS, SCREEN_TAP_ROWS);
    if (!s)
        return -1;
    if (session_tap_add(session, &screen_tap_ops, s) < 0) {
        screen_free(s);
        return -1;
    }
    return 0;
}

struct screen *session_screen(struct session *session)
{
    struct screen *s = session_tap_user(session, &screen_tap_ops);
    return s && !s->failed ? s : NULL;
}

void session_screen_idle(struct session *session)
{
    struct screen *s = session_screen(session);
    if (s && s->vt)
        screen_hibernate(s); /* out of memory: it stays awake, and is tried again */
}
