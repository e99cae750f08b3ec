/* session_tap.h - the shape of a session's observers (taps). A header of
 * its own, without lws, so observers elsewhere (the audit's counters in
 * src/admit/, later the recorder) can be written against it. */
#ifndef PODTERM_SESSION_TAP_H
#define PODTERM_SESSION_TAP_H

#include <stddef.h>
#include <stdint.h>

/* Taps: observers of a session that it does not know (the audit's byte
 * counters, later the recorder and watchers). Called on the loop, inside
 * the session's own steps; a tap must not call back into the session.
 *   input:  stdin bytes the client sent, as the process will get them
 *   output: bytes of channel 1 or 2 as the client gets them
 *   resize: a terminal size the client asked for (tty sessions)
 *   end:    once, when the session is freed: the exit code (-1 none) and
 *           why it ended: "exit", "error", "client-closed", "shutdown",
 *           "idle-timeout", "max-duration", "client-unresponsive" (no answer
 *           to a keepalive ping), "upstream-lost" (gateway mode: the API
 *           server's connection failed or it stopped answering pings) */
#define SESSION_TAPS_MAX 4

struct session_tap_ops {
    void (*input)(void *user, const uint8_t *data, size_t len);
    void (*output)(void *user, int channel, const uint8_t *data, size_t len);
    void (*resize)(void *user, unsigned width, unsigned height);
    void (*end)(void *user, int exit_code, const char *reason);
};

struct session_tap {
    const struct session_tap_ops *ops;
    void *user;
};

#endif
