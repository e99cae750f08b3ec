/* admit_internal.h - what the admission files share. Not for use outside src/admit/. */
#ifndef PODTERM_ADMIT_INTERNAL_H
#define PODTERM_ADMIT_INTERNAL_H

#include <stdint.h>

#include "admit/admit.h"

#define ADMIT_SIGNATURE_FILES_MAX 256 /* files looked at for a change (folders' entries too) */

struct admit {
    uv_loop_t *loop;
    struct admit_opts opts;
    /* RBAC and ExecPolicy: NULL when no --authorization-rbac-file was given.
     * Replaced whole when the files change and load cleanly. */
    struct authz *authz;
    uint64_t authz_signature;  /* of the files' names, sizes and times at the last load */
    uint64_t authz_failed;     /* signature of the last broken edit (logged once) */
    unsigned authz_generation; /* policies loaded since start-up (admit_policy_generation) */
    /* The token file and JWT key read again (NULL: opts.auth still holds). */
    struct auth *auth;
    uint64_t auth_signature, auth_failed; /* as authz_signature, authz_failed */
    unsigned authn_generation;            /* reloads of them since start-up */
    uv_timer_t reload;
    bool reload_running;
    struct audit_policy *audit_policy;
    struct audit_log *audit_log; /* NULL: no audit */
    void (*close_cb)(void *);
    void *close_user;
    /* recordings: when one last failed to write (uv_now ms), if ever */
    bool recording_failed;
    uint64_t recording_failed_ms;
};

/* admit.c: seconds between two CLOCK_MONOTONIC readings; the metrics'
 * kind label of an exec/attach admission. */
double admission_seconds(const struct timespec *from, const struct timespec *to);
enum metrics_kind admission_metrics_kind(const struct admission *adm);
/* The reason of an authorization decision, for the audit; NULL (an empty
 * reason in the audit) when it cannot be kept. */
void admit_reason_set(struct admission *adm, const char *reason);

/* admit_audit.c: one event of adm at a stage (no-op when the audit is off,
 * the level is None or the stage omitted). */
void admit_audit_emit(struct admission *adm, enum audit_stage stage, int code);

/* admit_log.c: the request's line (or a session's start or end) in the log. */
enum admit_log_event { ADMIT_LOG_REQUEST, ADMIT_LOG_SESSION_START, ADMIT_LOG_SESSION_END };
void admit_log_line(struct admission *adm, enum admit_log_event what, int code);

/* admit.c: the token authenticator in force (the reloaded one, if any). */
const struct auth *admit_auth(const struct admit *a);

/* admit_reload.c: load the RBAC files now (start-up: errors are fatal) and
 * watch them for changes. */
int admit_reload_start(struct admit *a, char *err, size_t err_cap);
void admit_reload_watch(struct admit *a);
void admit_reload_stop(struct admit *a);

/* admit_exec.c: ExecPolicy for an exec/attach request. Returns false and
 * fills adm's refusal when denied. */
bool admit_exec_check(struct admit *a, struct admission *adm);

#endif
