/* admit.h - the one front door. Every request, in both modes, passes through
 * admit_request() exactly once, right after the listener has its head and
 * before anything acts on it (the gateway, lws, a session):
 *
 *   Host allow-list (DNS rebinding) -> Origin (WebSocket upgrades) ->
 *   subprotocol token errors -> authenticate -> authorize (RBAC, ExecPolicy)
 *   -> audit
 *
 * The result is a struct admission: who is asking and what, or the Status
 * to refuse with. It then travels with the request to whoever answers it
 * (the REST handlers, the gateway's relay, a session), who reports the
 * response through admission_started() / admission_finish(); the admission
 * writes the audit events, so no answering path knows the audit format.
 *
 * Single-threaded: everything here runs on the event loop. */
#ifndef PODTERM_ADMIT_H
#define PODTERM_ADMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <uv.h>

#include "admit/admit_attrs.h"
#include "audit/audit.h"
#include "auth/auth.h"
#include "authz/authz.h"
#include "config/config.h"
#include "http/http_request.h"
#include "metrics/metrics.h"
#include "oidc/oidc.h"
#include "session/session_tap.h"
#include "signin/signin.h"

#define ADMIT_MESSAGE_MAX 1024    /* a refusal's Status message */
#define ADMIT_PEER_MAX 48         /* the client's address as text */
#define ADMIT_ANNOTATION_MAX 4096 /* the command annotation (argv as JSON) */
#define ADMIT_RBAC_FILES_MAX 16   /* --authorization-rbac-file values */
#define ADMIT_RELOAD_MS 2000      /* how often policy files are checked for changes */
#define ADMIT_RECORDING_MAX 320   /* the podterm.dev/recording annotation */
/* After a recording failed to write, --recording-required refuses recorded
 * sessions this long, then lets the next one try the disk again. */
#define ADMIT_RECORDING_RETRY_MS 30000

struct admit_opts {
    const struct auth *auth; /* NULL or not enabled: anonymous (unless oidc) */
    /* The files auth was read from (NULL: none): read again when they change
     * (admit_reload.c), the new auth replacing the old for new requests. */
    const char *jwt_key_file, *token_auth_file;
    /* --terminate-on-revoke: an exec admitted by a static token or a JWT keeps
     * a copy of it (wiped at its end), to ask the reloaded files again. */
    bool keep_credentials;
    /* --oidc-issuer-url: ID tokens, tried after auth (NULL: none; borrowed,
     * outlives the admit). Not const: an unknown key id starts a refresh. */
    struct oidc *oidc;
    /* --oidc-redirect-url: browser sign-in's session cookie, tried when a
     * request carries no token (NULL: none; borrowed, outlives the admit). */
    struct signin *signin;
    const char *const *allowed_hosts;
    size_t allowed_hosts_len;
    const char *const *allowed_origins;
    size_t allowed_origins_len;
    /* Local mode: the pods, for ExecPolicy's podSelector; NULL in gateway
     * mode (labels unknown: a podSelector is taken to match). */
    const struct config_cluster *cluster;
    /* --authorization-rbac-file: none, RBAC off (everyone authenticated may do
     * anything, as before). Reloaded when they change on disk. */
    const char *const *rbac_files;
    size_t rbac_files_len;
    /* --audit-log-path (NULL: no audit), --audit-log-maxsize,
     * --audit-log-maxbackup, --audit-policy-file, --audit-log-required. */
    const char *audit_path;
    unsigned audit_maxsize_mb;
    unsigned audit_maxbackup;
    const char *audit_policy_file;
    bool audit_required;
    const struct log *log;   /* request and session lines (log.h); NULL: none */
    bool gateway;            /* gateway mode: podterm impersonates the user upstream */
    bool pass_through;       /* gateway mode with --pass-through-token: it does not */
    struct metrics *metrics; /* NULL: not counted (borrowed, outlives the admit) */
    /* --recording-dir (NULL: off), --recording-all, --recording-required:
     * with required, sessions that would be recorded are refused (503)
     * while recordings cannot be written. */
    const char *recording_dir;
    bool recording_all;
    bool recording_required;
};

struct admit;
struct log;

struct admit *admit_new(uv_loop_t *loop, const struct admit_opts *opts, char *err, size_t err_cap);
void admit_free(struct admit *admit);

/* What the front door knows of one request before anything acts on it. */
struct admit_request {
    const char *head; /* the raw head as the client sent it */
    size_t head_len;
    const struct http_request *http; /* head parsed */
    const char *peer;                /* "" unknown */
    bool websocket;                  /* a WebSocket upgrade (head_rewrite.h) */
    int negotiation_rc;              /* PROTO_OK or a proto_err (WebSocket only) */
    const char *subprotocol_token;   /* NULL or the token item */
    const char *subprotocol_csrf;    /* NULL or the CSRF item (proto.h) */
    /* The user a verified client certificate names (--client-ca-file,
     * auth_x509.h), or NULL: tried before any token, as kube-apiserver does. */
    const struct auth_identity *client_cert;
};

/* One request from admission until its response is complete. Owned by
 * whoever holds the request; ended by admission_finish (which frees it). */
struct admission {
    struct admit *admit;
    bool api; /* an API path: authenticated, authorized */
    bool authenticated;
    struct auth_identity user; /* groups include system:authenticated / unauthenticated */
    /* Who said who it is: "x509", "token-file", "jwt", "oidc",
     * "oidc-session", "anonymous" (the audit's
     * podterm.dev/authentication-method); NULL before authentication. */
    const char *auth_method;
    uint64_t signin_sid;       /* the sign-in session ("oidc-session"), else 0 */
    char *credential;          /* the token (admit_opts.keep_credentials), else NULL */
    unsigned authn_generation; /* of the token file and JWT key it was checked against */
    struct admit_attrs attrs;  /* what is asked, in the apiserver's terms */
    struct http_query query;   /* the query, decoded once for all who read it */
    /* exec/attach: what ExecPolicy allowed, the session's limits (0: none). */
    bool exec;
    unsigned max_duration_s, idle_timeout_s;
    /* The rules that set them, when set (NULL: none, or out of memory: the
     * limit holds all the same); each below AUTHZ_REASON_MAX / 2 bytes. */
    char *max_duration_policy, *idle_timeout_policy;
    /* The audit: kept from admission to the last stage. */
    char audit_id[AUDIT_ID_LEN + 1];
    enum audit_level level;
    bool omit[AUDIT_STAGES];
    struct timespec received, started_at;
    struct timespec received_mono; /* for the metrics' durations */
    bool session_counted;          /* in podterm_sessions_active until finished */
    char *request_uri;
    /* Strings of their own (NULL: none), not fixed buffers: an admission
     * lives as long as its session, and most of them never need the room
     * a long one would (1 KiB of message, 512 bytes each of reason and
     * User-Agent). */
    char *user_agent; /* at most AUDIT_UA_MAX bytes */
    char peer[ADMIT_PEER_MAX];
    const char *decision; /* "allow" / "forbid" / NULL (no authorization ran) */
    char *authz_reason;   /* below AUTHZ_REASON_MAX bytes; NULL when no decision */
    bool exec_described;  /* container, command and tty below were read (ExecPolicy's step) */
    char container[CONFIG_NAME_MAX + 1];
    char *command_json; /* argv as a JSON array, for the audit */
    bool tty;
    /* What the session reports (its audit tap). */
    uint64_t bytes_stdin, bytes_stdout;
    int exit_code; /* -1: none */
    const char *end_reason;
    /* RBAC denied a get or list of podterm.dev's sessions: let through
     * "owner only", answered for the requester's own sessions alone
     * (src/api/api_sessions.c); message, details_name and details_kind
     * below hold the Forbidden RBAC gave, for the sessions of others. */
    bool owner_only;
    /* The recorder's word for podterm.dev/recording ("" not recorded):
     * "<id>.cast", or "stopped: <why>". */
    char recording[ADMIT_RECORDING_MAX];
    /* admission_hold: finishing waits for the holders (finish_code kept). */
    unsigned holds;
    bool finish_pending;
    int finish_code;
    /* Refused (admit_request returned ADMIT_REFUSED): the Status to answer. */
    int code;
    const char *phrase; /* HTTP reason phrase */
    const char *reason; /* metav1 StatusReason */
    char *message;      /* below ADMIT_MESSAGE_MAX bytes: admission_message() reads it */
    bool message_lost;  /* out of memory while setting it */
    char details_name[CONFIG_NAME_MAX + 1]; /* "" for no details */
    const char *details_kind;               /* NULL for no details */
};

enum admit_result {
    ADMIT_OK = 0,      /* go on; *out is the caller's */
    ADMIT_REFUSED = 1, /* answer (*out)->code ... and admission_finish(*out, code) */
    ADMIT_NOMEM = -1,  /* *out NULL: answer 503 and hang up */
};

enum admit_result admit_request(struct admit *admit, const struct admit_request *rq,
                                struct admission **out);

/* The session's end, for the audit: exit code (-1 none) and why it ended
 * ("exit", "client-closed", "idle-timeout", "max-duration", "shutdown",
 * "error"). */
void admission_session_end(struct admission *adm, int exit_code, const char *end_reason);

/* The tap (session.h's struct session_tap_ops, by shape) that counts an
 * exec's stdin and stdout bytes for the audit and ends the admission when
 * the session ends. */
extern const struct session_tap_ops admission_tap_ops;

/* The metrics the admission counts into (NULL: none), and the audit
 * events lost so far, for /metrics. */
struct metrics *admit_metrics(const struct admit *admit);
uint64_t admit_audit_dropped(const struct admit *admit);

/* The session's recording (src/record/): value for the audit's
 * podterm.dev/recording annotation; disk_failed: a recording could not be
 * created or written (recording turns unhealthy, see
 * ADMIT_RECORDING_RETRY_MS). */
void admission_recording_set(struct admission *adm, const char *value, bool disk_failed);
/* Someone still has facts for the audit's ResponseComplete (a recording
 * being flushed after its session ended): admission_finish waits until
 * every admission_hold is released, then finishes with the code it was
 * given. */
void admission_hold(struct admission *adm);
void admission_release(struct admission *adm);
/* Can recordings be written (the directory writable, no recent failure)? */
bool admit_recording_healthy(const struct admit *admit);

/* Is the audit log able to take events? (503 with --audit-log-required when not) */
bool admit_audit_healthy(const struct admit *admit);
/* Flush and close the audit log; close_cb(user) once it is written. */
void admit_close(struct admit *admit, void (*close_cb)(void *), void *user);

/* SelfSubjectAccessReview / SelfSubjectRulesReview for the identity that
 * asked: the RBAC decision as the apiserver answers it. Without RBAC
 * everything is allowed. */
void admit_review_access(const struct admit *admit, const struct auth_identity *id,
                         const struct authz_attrs *at, struct authz_decision *d);
/* NULL without RBAC (the caller answers with a "*" rule set). */
char *admit_review_rules(const struct admit *admit, const struct auth_identity *id, const char *ns);
bool admit_rbac_enabled(const struct admit *admit);
/* Changes each time the RBAC/ExecPolicy files reload with a new policy, the
 * token file or JWT key are read again, or a browser signs out. */
unsigned admit_policy_generation(const struct admit *admit);
/* An exec/attach admitted earlier, asked again of the policy in force now
 * (--terminate-on-revoke): true while its credential still authenticates
 * (a token against the files reloaded since; a sign-in session not ended)
 * and RBAC still allows it; false with why in message (RBAC's Forbidden
 * message, or which credential ended). ExecPolicy's limits are not asked
 * again. */
bool admission_recheck(const struct admission *adm, char *message, size_t cap);
/* The OIDC authenticator, or NULL (for /readyz's oidc check). */
const struct oidc *admit_oidc(const struct admit *admit);
/* Browser sign-in, or NULL (the front door hands it /oauth2/ requests). */
struct signin *admit_signin(const struct admit *admit);

/* The response began (an upgrade's 101): the audit's ResponseStarted. */
void admission_started(struct admission *adm, int code);
/* The response is complete with this HTTP status: the audit's
 * ResponseComplete; frees adm. NULL is ignored. */
/* A refusal's Status message (admission_message: "" when none; "out of
 * memory" when it could not be kept), set like printf, bounded by
 * ADMIT_MESSAGE_MAX. */
void admission_message_set(struct admission *adm, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
const char *admission_message(const struct admission *adm);

void admission_finish(struct admission *adm, int code);

/* Is this path one of the API's (authenticated, authorized), not the web UI's? */
bool admit_path_is_api(const char *path, size_t len);

#endif
