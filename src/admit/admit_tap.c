/* admit_tap.c - the audit's tap on an exec/attach session: stdin and
 * stdout byte counts and how the session ended, for the ResponseComplete
 * event; the end of the session is the end of the admission. */
#include "admit/admit_internal.h"

static void admit_tap_input(void *user, const uint8_t *data, size_t len)
{
    (void)data;
    ((struct admission *)user)->bytes_stdin += len;
}

static void admit_tap_output(void *user, int channel, const uint8_t *data, size_t len)
{
    (void)data;
    if (channel == 1)
        ((struct admission *)user)->bytes_stdout += len;
}

static void admit_tap_end(void *user, int exit_code, const char *reason)
{
    struct admission *adm = user;
    admission_session_end(adm, exit_code, reason);
    admission_finish(adm, 101);
}

const struct session_tap_ops admission_tap_ops = {
    .input = admit_tap_input,
    .output = admit_tap_output,
    .end = admit_tap_end,
};
