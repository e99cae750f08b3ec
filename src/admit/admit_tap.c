/* admit_tap.c - the audit's tap on an exec/attach session: stdin and
 * stdout byte counts and how the session ended, for the ResponseComplete
 * event; the end of the session is the end of the admission. */
#include "admit/admit_internal.h"

static void admit_tap_input(void *user, const uint8_t *data, size_t len)
{
    (void)data;
    struct admission *adm = user;
    adm->bytes_stdin += len;
    metrics_session_bytes(adm->admit->opts.metrics, METRICS_DIR_STDIN, len);
}

static void admit_tap_output(void *user, int channel, const uint8_t *data, size_t len)
{
    (void)data;
    struct admission *adm = user;
    if (channel == 1)
        adm->bytes_stdout += len;
    metrics_session_bytes(adm->admit->opts.metrics,
                          channel == 1 ? METRICS_DIR_STDOUT : METRICS_DIR_STDERR, len);
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
