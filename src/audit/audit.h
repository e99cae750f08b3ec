/* audit.h - who did what, in kube-apiserver's own audit format: one JSON
 * line per audit.k8s.io/v1 Event, so tools that read the apiserver's audit
 * log read podterm's.
 *
 * Three parts, each usable alone:
 *   audit_policy  an audit.k8s.io/v1 Policy file: which level (None,
 *                 Metadata, Request, RequestResponse) and which stages an
 *                 event gets. Pure.
 *   audit_event   one Event, serialised to one line. Pure.
 *   audit_log     the file (or stdout): lines are queued in memory (bounded)
 *                 and written by libuv's thread pool (uv_fs_*), so a slow
 *                 disk never blocks the event loop; rotated by size like the
 *                 apiserver (--audit-log-maxsize, --audit-log-maxbackup).
 *
 * Never a token, cookie or key in an event: the Event carries only the fields
 * below, none of which holds a credential. */
#ifndef PODTERM_AUDIT_H
#define PODTERM_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>
#include <uv.h>

#include "auth/auth.h"

#define AUDIT_ERR_MAX 512          /* a load error: "file:line: reason" */
#define AUDIT_ID_LEN 36            /* a UUID, as the apiserver's auditID */
#define AUDIT_URI_MAX 2048         /* requestURI kept in an event (longer: truncated) */
#define AUDIT_UA_MAX 512           /* userAgent kept */
#define AUDIT_ANNOTATIONS_MAX 16   /* annotations of one event */
#define AUDIT_ANNOTATION_MAX 4096  /* one annotation value (longer: truncated) */
#define AUDIT_QUEUE_MAX (8u << 20) /* bytes of lines waiting for the disk */
#define AUDIT_FLUSH_DELAY_MS 5     /* lines gather this long into one write */
#define AUDIT_POLICY_FILE_MAX (1u << 20)

enum audit_level {
    AUDIT_LEVEL_NONE = 0,
    AUDIT_LEVEL_METADATA,
    AUDIT_LEVEL_REQUEST,          /* podterm logs no bodies: written as Metadata */
    AUDIT_LEVEL_REQUEST_RESPONSE, /* likewise */
};

enum audit_stage {
    AUDIT_STAGE_REQUEST_RECEIVED = 0,
    AUDIT_STAGE_RESPONSE_STARTED,
    AUDIT_STAGE_RESPONSE_COMPLETE,
    AUDIT_STAGE_PANIC,
    AUDIT_STAGES
};

/* ---- audit_policy ---- */

struct audit_policy;

/* path NULL: the default policy, every request at Metadata, no stage omitted.
 * Otherwise an audit.k8s.io/v1 Policy (YAML or JSON): rules with level,
 * users, userGroups, verbs, resources [{group, resources, resourceNames}],
 * namespaces, nonResourceURLs (exact, or a prefix ending in "*"),
 * omitStages; and the policy's own omitStages. First matching rule wins; no
 * match: None (as the apiserver). Errors name file, line and reason. */
struct audit_policy *audit_policy_load(const char *path, char *err, size_t err_cap);
void audit_policy_free(struct audit_policy *policy);

/* The request as a rule sees it (the same attributes authorization uses).
 * Strings never NULL; "" absent. */
struct audit_attrs {
    const struct auth_identity *user; /* groups include system:authenticated/unauthenticated */
    const char *verb;
    bool resource_request;
    const char *api_group;
    const char *ns;
    const char *resource;
    const char *subresource;
    const char *name;
    const char *path;
};

/* The level for this request and which stages to leave out (omit[stage]). */
enum audit_level audit_policy_level(const struct audit_policy *policy, const struct audit_attrs *at,
                                    bool omit[AUDIT_STAGES]);

/* ---- audit_event ---- */

struct audit_annotation {
    const char *key;   /* "podterm.dev/exit-code", "authorization.k8s.io/decision" ... */
    const char *value; /* a string; JSON in a string where the value is a list (command) */
};

struct audit_event {
    char audit_id[AUDIT_ID_LEN + 1];
    enum audit_level level; /* Metadata for Request/RequestResponse (no bodies) */
    enum audit_stage stage;
    const char *request_uri; /* path and query as the client sent them */
    const char *verb;
    const struct auth_identity *user;
    const struct auth_identity *impersonated; /* NULL unless podterm impersonated (gateway) */
    const char *source_ip;                    /* "" unknown */
    const char *user_agent;                   /* "" none */
    bool has_object_ref;
    const char *resource, *ns, *name, *subresource, *api_group, *api_version;
    int code;                   /* responseStatus.code; 0: no responseStatus (RequestReceived) */
    const char *status_message; /* responseStatus.message for failures, or NULL */
    const char *status_reason;  /* responseStatus.reason ("Forbidden" ...), or NULL */
    struct timespec received;   /* requestReceivedTimestamp (CLOCK_REALTIME) */
    struct timespec stage_ts;   /* stageTimestamp */
    struct audit_annotation annotations[AUDIT_ANNOTATIONS_MAX];
    size_t annotations_len;
};

/* A new random UUID (version 4) into id (AUDIT_ID_LEN + 1 bytes). */
void audit_id_new(char id[AUDIT_ID_LEN + 1]);

/* The event as one JSON line ending in '\n', as the apiserver writes it:
 *   {"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata",
 *    "auditID":"…","stage":"ResponseComplete","requestURI":"…","verb":"create",
 *    "user":{"username":"…","uid":"…","groups":[…]},"impersonatedUser":{…},
 *    "sourceIPs":["…"],"userAgent":"…","objectRef":{"resource":"pods",
 *    "namespace":"…","name":"…","apiVersion":"v1","subresource":"exec"},
 *    "responseStatus":{"metadata":{},"code":200},
 *    "requestReceivedTimestamp":"2026-11-30T06:41:30.123456Z",
 *    "stageTimestamp":"…","annotations":{…}}
 * Timestamps are RFC 3339 with microseconds, UTC. Empty optional fields are
 * omitted as the apiserver omits them. Returns a malloc'd string (caller
 * frees) and its length, or NULL on out of memory. */
char *audit_event_line(const struct audit_event *ev, size_t *len);

/* ---- audit_log ---- */

struct audit_log_opts {
    const char *path;    /* a file, or "-" for stdout */
    unsigned maxsize_mb; /* rotate when the file would pass this; 0: never */
    unsigned maxbackup;  /* rotated files kept; 0: all */
};

struct audit_log;

/* Opens (creates, appends, close-on-exec, mode 0600) the file now, so a bad
 * path fails at start-up. NULL with a message in err. */
struct audit_log *audit_log_new(uv_loop_t *loop, const struct audit_log_opts *opts, char *err,
                                size_t err_cap);

/* Queue one line (copied; a line without its final '\n' gets one). Never blocks. Returns 0, or -1
 * when the line could not be queued (queue over AUDIT_QUEUE_MAX, or out of memory): the log is then
 * unhealthy until the queue has drained and a write succeeded. */
int audit_log_write(struct audit_log *log, const char *line, size_t len);

/* false after a failed write or a dropped line, until the queue drained and
 * a later write succeeded. --audit-log-required refuses requests meanwhile.
 * The reason (errno text, "queue full") goes to why when not NULL. */
bool audit_log_healthy(const struct audit_log *log, const char **why);

/* Lines queued and not yet written (for drain at shutdown and the tests). */
size_t audit_log_pending(const struct audit_log *log);

/* What the writer has done since audit_log_new (for metrics and the tests). */
struct audit_log_stats {
    unsigned long long writes;        /* uv_fs_write requests completed, failed ones too */
    unsigned long long lines_written; /* lines wholly written */
    unsigned long long lines_dropped; /* queue full, or lost to a failed write */
    unsigned long long bytes_written;
    unsigned long long rotations; /* files renamed to a backup */
};
void audit_log_stats_get(const struct audit_log *log, struct audit_log_stats *out);

/* Stop: remaining lines are written (the loop must run until close_cb), then
 * the file closes and close_cb(log_user) fires; the struct is freed after it. */
void audit_log_close(struct audit_log *log, void (*close_cb)(void *), void *user);

#endif
