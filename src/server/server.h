/* server.h - podterm's HTTP + WebSocket server (libwebsockets on a libuv loop).
 * main.c fills server_opts from the flags, creates the server and runs the loop. */
#ifndef PODTERM_SERVER_H
#define PODTERM_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "auth/auth.h"
#include "backend/backend.h"
#include "config/config.h"

struct admit;

#define SERVER_ORIGINS_MAX 16 /* --allowed-origin values */
#define SERVER_HOSTS_MAX 16   /* --allowed-host values */
#define SERVER_URL_MAX 300

struct server_opts {
    const char *listen_host;              /* numeric address */
    int listen_port;                      /* 0: any free port */
    const struct config_cluster *cluster; /* local mode pods (borrowed) */
    struct backend *backend;              /* runs exec/attach (borrowed) */
    const struct auth *auth;              /* NULL or not enabled: anonymous (borrowed) */
    struct admit *admit;                  /* the admission path (borrowed) */
    const char *allowed_origins[SERVER_ORIGINS_MAX];
    size_t allowed_origins_len;
    /* Host names answered besides localhost and IP literals (DNS rebinding,
     * host_allow.h); checked always without auth, with auth only when given. */
    const char *allowed_hosts[SERVER_HOSTS_MAX];
    size_t allowed_hosts_len;
    int log_level;             /* lws log bitmask */
    struct gateway *gateway;   /* gateway mode: API requests go to the cluster (borrowed) */
    const char *tls_cert_file; /* serve HTTPS with this PEM chain and key (both or neither) */
    const char *tls_key_file;
    const char *client_ca_file; /* with TLS: clients must present a certificate from these CAs */
    /* The health checks (api_health.c) that apply: RBAC/ExecPolicy files were
     * given, an audit log was asked for. */
    bool policy_configured;
    bool audit_configured;
    /* --ping-interval: every client WebSocket is pinged this often, and one
     * that sent nothing for an interval after a ping is closed; 0: never. */
    uint64_t ping_interval_ms;
    /* --session-grace: a web terminal's session (tty, v1.flow.podterm.dev,
     * with a screen model) whose connection dropped without a Close is kept
     * this long for the page to resume it; 0: never. */
    uint64_t session_grace_ms;
    const char *recording_dir;    /* --recording-dir: NULL, sessions are not recorded */
    bool recording_all;           /* --recording-all: non-tty sessions too */
    bool record_input;            /* --record-input: keystrokes too (off: passwords) */
    uint64_t recording_max_bytes; /* --recording-max-bytes: per file (0: record.h's default) */
    bool recording_required;      /* --recording-required: no session that cannot be recorded */
    bool screen_model;            /* --screen-model on: tty sessions keep a screen model */
    /* --terminate-on-revoke: live sessions a reloaded policy no longer
     * allows end (session_revoke.c). */
    bool terminate_on_revoke;
};

struct server;

/* Create the server on loop and start listening. NULL on error (message in err). */
struct server *server_new(uv_loop_t *loop, const struct server_opts *opts, char *err,
                          size_t err_cap);
/* The URL clients use, e.g. http://127.0.0.1:8080/ (the real port when 0 was asked). */
const char *server_url(const struct server *server);
/* Stop accepting, close every connection and session. The loop must then be
 * run until it has no more handles before server_free. */
void server_shutdown(struct server *server);
/* SIGTERM: readiness turns false, the listener stops accepting, open sessions
 * get grace_ms to end by themselves, then end with a Status ("podterm is
 * shutting down") and Close 1001. drained(user) runs from the loop once no
 * session is left (or the closes took too long); the caller then calls
 * server_shutdown. Returns false, and calls nothing, when no session is open
 * (shut down now) or a drain runs already. */
bool server_drain(struct server *server, uint64_t grace_ms, void (*drained)(void *), void *user);
/* Did the event loop run recently (the "ping" health check)? */
bool server_loop_responsive(const struct server *server);
void server_free(struct server *server);

#endif
