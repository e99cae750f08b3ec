/* admit_log.c - an admission's lines in podterm's own log (log.h): one per
 * request when it is answered, and for exec/attach one when the session
 * starts and one when it ends; each carries the request's auditID. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "admit/admit_internal.h"
#include "log/log.h"

static long long admit_ms_since(const struct timespec *t0, clockid_t clock)
{
    struct timespec now;
    clock_gettime(clock, &now);
    return (long long)(now.tv_sec - t0->tv_sec) * 1000 + (now.tv_nsec - t0->tv_nsec) / 1000000;
}

void admit_log_line(struct admission *adm, enum admit_log_event what, int code)
{
    const struct log *log = adm->admit->opts.log;
    if (!log || log->verbosity < LOG_V_REQUESTS)
        return;
    const char *user = adm->user.user[0] ? adm->user.user : NULL;
    char container[CONFIG_NAME_MAX + 1];
    snprintf(container, sizeof(container), "%s", adm->container);
    struct log_field f[12];
    size_t n = 0;
    f[n++] = (struct log_field){.key = "auditID", .str = adm->audit_id};
    f[n++] = (struct log_field){.key = "user", .str = user};
    f[n++] = (struct log_field){.key = "verb", .str = adm->attrs.verb};
    f[n++] = (struct log_field){.key = "uri", .str = adm->request_uri};
    f[n++] = (struct log_field){.key = "code", .num = code, .is_number = true};
    const char *msg = "request";
    if (what == ADMIT_LOG_SESSION_START) {
        msg = "session started";
        f[n++] = (struct log_field){.key = "container", .str = container};
    } else if (what == ADMIT_LOG_SESSION_END) {
        msg = "session ended";
        f[n++] = (struct log_field){.key = "duration",
                                    .num = admit_ms_since(&adm->started_at, CLOCK_MONOTONIC),
                                    .is_float = true};
        f[n++] = (struct log_field){.key = "exitCode", .num = adm->exit_code, .is_number = true};
        f[n++] = (struct log_field){.key = "endReason", .str = adm->end_reason};
        f[n++] = (struct log_field){
            .key = "bytesStdin", .num = (long long)adm->bytes_stdin, .is_number = true};
        f[n++] = (struct log_field){
            .key = "bytesStdout", .num = (long long)adm->bytes_stdout, .is_number = true};
    } else {
        f[n++] = (struct log_field){.key = "duration",
                                    .num = admit_ms_since(&adm->received, CLOCK_REALTIME),
                                    .is_float = true};
    }
    log_line(log, LOG_V_REQUESTS, code >= 500 ? LOG_ERROR : LOG_INFO, msg, f, n);
}
