/* admit.c - the admission pipeline (see admit.h): the order of its checks
 * is the order a client learns of its mistakes, and it is the same in both
 * modes. */
#include "admit/admit.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "admit/admit_internal.h"
#include "admit/host_allow.h"
#include "proto/proto.h"

struct admit *admit_new(uv_loop_t *loop, const struct admit_opts *opts, char *err, size_t err_cap)
{
    struct admit *a = calloc(1, sizeof(*a));
    if (!a) {
        snprintf(err, err_cap, "out of memory");
        return NULL;
    }
    a->loop = loop;
    a->opts = *opts;
    if (admit_reload_start(a, err, err_cap) < 0) {
        free(a);
        return NULL;
    }
    /* The policy is read even without a log, so a broken one fails start-up. */
    a->audit_policy = audit_policy_load(opts->audit_policy_file, err, err_cap);
    if (!a->audit_policy) {
        admit_free(a);
        return NULL;
    }
    if (opts->audit_path) {
        struct audit_log_opts lo = {
            .path = opts->audit_path,
            .maxsize_mb = opts->audit_maxsize_mb,
            .maxbackup = opts->audit_maxbackup,
        };
        if (!(a->audit_log = audit_log_new(loop, &lo, err, err_cap))) {
            admit_free(a);
            return NULL;
        }
    }
    admit_reload_watch(a);
    return a;
}

static void admit_log_closed(void *user)
{
    struct admit *a = user;
    a->audit_log = NULL;
    if (a->close_cb)
        a->close_cb(a->close_user);
}

void admit_close(struct admit *a, void (*close_cb)(void *), void *user)
{
    admit_reload_stop(a);
    a->close_cb = close_cb;
    a->close_user = user;
    if (a->audit_log)
        audit_log_close(a->audit_log, admit_log_closed, a);
    else if (close_cb)
        close_cb(user);
}

/* After admit_close's callback (or when the loop never ran). */
void admit_free(struct admit *admit)
{
    if (!admit)
        return;
    authz_free(admit->authz);
    auth_free(admit->auth);
    audit_policy_free(admit->audit_policy);
    free(admit);
}

void admission_recording_set(struct admission *adm, const char *value, bool disk_failed)
{
    if (!adm)
        return;
    snprintf(adm->recording, sizeof(adm->recording), "%s", value);
    if (disk_failed) {
        adm->admit->recording_failed = true;
        adm->admit->recording_failed_ms = uv_now(adm->admit->loop);
    }
}

bool admit_recording_healthy(const struct admit *a)
{
    if (!a->opts.recording_dir)
        return true;
    /* A failure counts for a while only: nothing else would ever write
     * again to find the disk fixed while every recorded session is refused. */
    if (a->recording_failed && uv_now(a->loop) - a->recording_failed_ms < ADMIT_RECORDING_RETRY_MS)
        return false;
    return access(a->opts.recording_dir, W_OK | X_OK) == 0;
}

/* Would this session be recorded (record.h decides the same)? */
static bool admit_recorded(const struct admit *a, const struct admission *adm)
{
    return a->opts.recording_dir && adm->exec && adm->exec_described &&
           (adm->tty || a->opts.recording_all);
}

bool admit_audit_healthy(const struct admit *a)
{
    return !a->audit_log || audit_log_healthy(a->audit_log, NULL);
}

struct metrics *admit_metrics(const struct admit *a)
{
    return a->opts.metrics;
}

uint64_t admit_audit_dropped(const struct admit *a)
{
    if (!a->audit_log)
        return 0;
    struct audit_log_stats st;
    audit_log_stats_get(a->audit_log, &st);
    return st.lines_dropped;
}

bool admit_rbac_enabled(const struct admit *a)
{
    return a->authz != NULL;
}

const struct oidc *admit_oidc(const struct admit *a)
{
    return a->opts.oidc;
}

struct signin *admit_signin(const struct admit *a)
{
    return a->opts.signin;
}

const struct auth *admit_auth(const struct admit *a)
{
    return a->auth ? a->auth : a->opts.auth;
}

/* Is any token authenticator on (static tokens, a JWT key, OIDC)? */
static bool admit_auth_on(const struct admit_opts *o)
{
    return (o->auth && auth_enabled(o->auth)) || o->oidc;
}

void admit_review_access(const struct admit *a, const struct auth_identity *id,
                         const struct authz_attrs *at, struct authz_decision *d)
{
    if (!a->authz) {
        d->allowed = true;
        d->reason[0] = '\0';
        return;
    }
    authz_check(a->authz, id, at, d);
}

char *admit_review_rules(const struct admit *a, const struct auth_identity *id, const char *ns)
{
    return a->authz ? authz_rules_json(a->authz, id, ns) : NULL;
}

bool admit_path_is_api(const char *path, size_t len)
{
    /* The same split the REST side always made: /version and everything
     * under /api (/api/v1..., /apis/...) is the API; the rest is the UI. */
    /* /metrics is guarded as the apiserver guards it: authenticated, and
     * with RBAC a grant of get on nonResourceURLs ["/metrics"]. */
    return (len == 8 && memcmp(path, "/version", 8) == 0) ||
           (len == 8 && memcmp(path, "/metrics", 8) == 0) ||
           (len >= 4 && memcmp(path, "/api", 4) == 0);
}

void admission_message_set(struct admission *adm, const char *fmt, ...)
{
    char text[ADMIT_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    free(adm->message);
    adm->message = strdup(text);
    adm->message_lost = !adm->message;
}

const char *admission_message(const struct admission *adm)
{
    return adm->message ? adm->message : adm->message_lost ? "out of memory" : "";
}

void admit_reason_set(struct admission *adm, const char *reason)
{
    size_t n = strnlen(reason, AUTHZ_REASON_MAX - 1);
    free(adm->authz_reason);
    if ((adm->authz_reason = malloc(n + 1))) {
        memcpy(adm->authz_reason, reason, n);
        adm->authz_reason[n] = '\0';
    }
}

static enum admit_result admit_refuse(struct admission *adm, int code, const char *phrase,
                                      const char *reason, const char *message)
{
    adm->code = code;
    adm->phrase = phrase;
    adm->reason = reason;
    admission_message_set(adm, "%s", message);
    return ADMIT_REFUSED;
}

/* DNS rebinding (host_allow.h): a Host the policy does not name is refused
 * before any part of podterm acts on the request. */
static bool admit_host_refused(struct admit *a, const struct admit_request *rq,
                               struct admission *adm)
{
    const struct admit_opts *o = &a->opts;
    struct host_policy policy = {
        .enforce = !admit_auth_on(o) || o->allowed_hosts_len > 0,
        .names = o->allowed_hosts,
        .names_len = o->allowed_hosts_len,
    };
    char name[HOST_ALLOW_NAME_MAX + 1], msg[HOST_ALLOW_NAME_MAX * 2 + 256];
    switch (host_allow_check(&policy, rq->head, rq->head_len, name, sizeof(name))) {
    case HOST_OK:
        return false;
    case HOST_FORBIDDEN:
        snprintf(msg, sizeof(msg),
                 "host \"%s\" is not allowed: podterm answers %s localhost, *.localhost and IP "
                 "addresses (start podterm with --allowed-host %s to allow this name)",
                 name, o->allowed_hosts_len ? "its --allowed-host names," : "only", name);
        admit_refuse(adm, 403, "Forbidden", "Forbidden", msg);
        return true;
    case HOST_DUPLICATED:
        admit_refuse(adm, 400, "Bad Request", "BadRequest", "too many Host headers");
        return true;
    case HOST_MALFORMED:
    default:
        admit_refuse(adm, 400, "Bad Request", "BadRequest", "malformed Host header");
        return true;
    }
}

/* Any web page a user visits could open a WebSocket to a podterm on their
 * loopback. Browsers always send Origin; kubectl, wscat and client-node send
 * none; python sends its own http://HOST:PORT. So an upgrade with an Origin
 * must name podterm's own origin (the Host, already checked against DNS
 * rebinding) or an --allowed-origin. */
static bool admit_origin_allowed(const struct admit *a, const struct http_request *h)
{
    const struct http_span *o = &h->h[HTTP_H_ORIGIN];
    if (!o->p)
        return true; /* not a browser */
    const struct http_span *host = &h->h[HTTP_H_HOST];
    static const char *const schemes[] = {"http://", "https://"};
    for (size_t i = 0; i < 2 && host->p; i++) {
        size_t sl = strlen(schemes[i]);
        if (o->n == sl + host->n && strncasecmp(o->p, schemes[i], sl) == 0 &&
            strncasecmp(o->p + sl, host->p, host->n) == 0)
            return true;
    }
    for (size_t i = 0; i < a->opts.allowed_origins_len; i++)
        if (http_span_is(o, a->opts.allowed_origins[i]))
            return true;
    return false;
}

static const char *admit_negotiation_text(int rc)
{
    switch (rc) {
    case PROTO_ERR_TOKEN_TWICE:
    case PROTO_ERR_TOKEN_ENCODING:
    case PROTO_ERR_TOKEN_ALONE:
        return "Unauthorized";
    default:
        return "the Sec-WebSocket-Protocol header is too long";
    }
}

/* The bearer token: the Authorization header when there is one (even one
 * that is not a bearer credential), else the subprotocol item. */
static bool admit_token(const struct admit_request *rq, char *out, size_t cap)
{
    const struct http_span *h = &rq->http->h[HTTP_H_AUTHORIZATION];
    out[0] = '\0';
    if (h->p) {
        char value[AUTH_TOKEN_MAX + 64];
        if (h->n >= sizeof(value))
            return false;
        memcpy(value, h->p, h->n);
        value[h->n] = '\0';
        size_t tlen = 0;
        const char *t = auth_bearer_parse(value, &tlen);
        bool ok = t && tlen < cap;
        if (ok) {
            memcpy(out, t, tlen);
            out[tlen] = '\0';
        }
        explicit_bzero(value, sizeof(value)); /* no copy of a credential outlives its use */
        return ok;
    }
    if (!rq->subprotocol_token || strlen(rq->subprotocol_token) >= cap)
        return false;
    strcpy(out, rq->subprotocol_token);
    return true;
}

/* Now, for a token's exp and nbf: the precise clock, not time(NULL),
 * which glibc reads from the coarse clock (up to a tick behind): a token
 * minted at the start of a second by a precise clock (Python's time.time,
 * Go's time.Now) would be "not yet valid" for that tick. */
static time_t admit_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ts.tv_sec;
}

static bool admit_unauthorized(struct admission *adm)
{
    auth_identity_clear(&adm->user);
    admit_refuse(adm, 401, "Unauthorized", "Unauthorized", "Unauthorized");
    return false;
}

/* Who it is could not be kept: refused as the server's failure, never as
 * the client's (a 401 would say the credentials were wrong). */
static bool admit_out_of_memory(struct admission *adm)
{
    auth_identity_clear(&adm->user);
    admit_refuse(adm, 503, "Service Unavailable", "ServiceUnavailable", "out of memory");
    return false;
}

static bool admit_authenticated(struct admission *adm, const char *method)
{
    struct auth_identity *id = &adm->user;
    /* Every authenticator leaves room for it (at most AUTH_GROUPS_MAX - 1
     * groups of their own): failing here is out of memory. */
    if (id->groups_len < AUTH_GROUPS_MAX &&
        auth_identity_add_group(id, "system:authenticated", strlen("system:authenticated")) < 0)
        return admit_out_of_memory(adm);
    adm->authenticated = true;
    adm->auth_method = method;
    return true;
}

/* Browser sign-in's cookie, for a request without a token. A cookie goes
 * with every request the browser makes to podterm, whoever's page asked:
 * what changes state (any method but GET and HEAD, and every WebSocket,
 * which is a shell) must also come from podterm's own page, shown by a
 * same-origin Origin and the session's CSRF token (docs/security.md). */
static bool admit_signin_cookie(struct admit *a, const struct admit_request *rq,
                                struct admission *adm, bool *refused)
{
    char csrf[SIGNIN_CSRF_MAX + 1];
    uint64_t sid = 0;
    *refused = false;
    enum signin_auth r =
        signin_authenticate(a->opts.signin, rq->http, admit_now(), &adm->user, &sid, csrf);
    if (r == SIGNIN_AUTH_NONE)
        return false;
    if (a->opts.metrics)
        a->opts.metrics->auth_attempts[r == SIGNIN_AUTH_OK][METRICS_AUTH_SESSION]++;
    if (r != SIGNIN_AUTH_OK) {
        *refused = true;
        admit_refuse(adm, 401, "Unauthorized", "Unauthorized",
                     "Unauthorized: the sign-in session has ended (signed out, idle or too old): "
                     "sign in again at " SIGNIN_PATH_PREFIX "sign_in");
        return false;
    }
    const struct http_span *m = &rq->http->method;
    bool safe = !rq->websocket && (http_span_is(m, "GET") || http_span_is(m, "HEAD"));
    const struct http_span *h = &rq->http->h[HTTP_H_CSRF_TOKEN];
    const char *sent = rq->websocket ? rq->subprotocol_csrf : h->p;
    size_t sent_len = rq->websocket ? (sent ? strlen(sent) : 0) : h->n;
    if (!safe && !signin_csrf_ok(a->opts.signin, rq->http, sent, sent_len, csrf)) {
        explicit_bzero(csrf, sizeof(csrf));
        auth_identity_clear(&adm->user);
        *refused = true;
        admit_refuse(adm, 403, "Forbidden", "Forbidden",
                     rq->websocket
                         ? "cross-site WebSocket refused: a cookie-authenticated WebSocket must "
                           "come from podterm's own page (same-origin Origin and the "
                           "csrf.podterm.dev. subprotocol item)"
                         : "cross-site request refused: a cookie-authenticated request that "
                           "changes state must come from podterm's own page (same-origin Origin "
                           "and the X-CSRF-Token header)");
        return false;
    }
    explicit_bzero(csrf, sizeof(csrf));
    adm->signin_sid = sid;
    return admit_authenticated(adm, "oidc-session");
}

/* Who is asking. Without an authenticator everyone is system:anonymous
 * (main.c allows that on loopback only); failures say nothing about the
 * token. The groups get system:authenticated / system:unauthenticated, as
 * the apiserver adds them, so RBAC subjects and audit lines read the same.
 *
 * The order (docs/security.md): a client certificate; then a bearer token
 * (header, else the subprotocol item) to static tokens, the JWT key, OIDC;
 * then, only when no token came, the sign-in cookie. */
static bool admit_authenticate(struct admit *a, const struct admit_request *rq,
                               struct admission *adm)
{
    struct auth_identity *id = &adm->user;
    auth_identity_clear(id);
    const struct auth *auth = admit_auth(a);
    bool need = rq->websocket || adm->api;
    if (need && rq->client_cert) {
        /* kube-apiserver's union tries the x509 authenticator first: a
         * verified certificate is the user, whatever token comes with it. */
        if (auth_identity_copy(id, rq->client_cert) < 0)
            return admit_out_of_memory(adm);
        if (a->opts.metrics)
            a->opts.metrics->auth_attempts[1][METRICS_AUTH_X509]++;
        return admit_authenticated(adm, "x509");
    }
    if (!admit_auth_on(&a->opts) || !need) {
        strcpy(id->user, "system:anonymous");
        if (auth_identity_add_group(id, "system:unauthenticated",
                                    strlen("system:unauthenticated")) < 0)
            return admit_out_of_memory(adm);
        adm->auth_method = "anonymous";
        return true;
    }
    bool has_token = rq->http->h[HTTP_H_AUTHORIZATION].p || rq->subprotocol_token;
    bool refused = false;
    if (!has_token && a->opts.signin && admit_signin_cookie(a, rq, adm, &refused))
        return true;
    if (refused)
        return false;
    char token[AUTH_TOKEN_MAX + 1];
    enum metrics_auth_method method = rq->http->h[HTTP_H_AUTHORIZATION].p ? METRICS_AUTH_BEARER
                                      : rq->subprotocol_token             ? METRICS_AUTH_SUBPROTOCOL
                                                                          : METRICS_AUTH_NONE;
    /* kube-apiserver's union, in its order: x509 (above), static tokens,
     * the JWT key, then OIDC. A token one of them refuses goes on to the
     * next; the first that accepts decides who is asking. */
    bool have = admit_token(rq, token, sizeof(token));
    const char *how = NULL;
    bool ok = have && auth && auth_enabled(auth) &&
              auth_token_check_method(auth, token, admit_now(), id, &how) == AUTH_OK;
    if (have && !ok && a->opts.oidc &&
        oidc_token_check(a->opts.oidc, token, admit_now(), id) == AUTH_OK) {
        ok = true;
        how = "oidc";
        method = METRICS_AUTH_OIDC;
    }
    /* --terminate-on-revoke: a session lives by the credentials in force,
     * so the token is kept to be asked again when the files change. */
    if (ok && a->opts.keep_credentials && adm->exec && strcmp(how, "oidc") != 0)
        adm->credential = strdup(token);
    adm->authn_generation = a->authn_generation;
    explicit_bzero(token, sizeof(token));
    if (a->opts.metrics)
        a->opts.metrics->auth_attempts[ok][method]++;
    if (!ok)
        return admit_unauthorized(adm);
    return admit_authenticated(adm, how);
}

static enum admit_result admit_request_checks(struct admit *a, const struct admit_request *rq,
                                              struct admission *adm);

/* lws collapses "." and ".." segments and empty ones before it routes; a
 * path admission would read one way and lws another is refused, so what
 * was authorized is what is served. (No route of the API has such a path.) */
static bool admit_path_canonical(const char *path)
{
    for (const char *p = path; (p = strchr(p, '/')); p++) {
        const char *seg = p + 1;
        size_t n = strcspn(seg, "/");
        if ((n == 0 && seg[0] == '/') || (n == 1 && seg[0] == '.') ||
            (n == 2 && seg[0] == '.' && seg[1] == '.'))
            return false;
    }
    return true;
}

/* A user may always get, replay, resume, watch and join their own sessions
 * (podterm.dev's sessions and their recording, resume, watch and join) and
 * list them: where RBAC says no, the handler answers for the requester's
 * own sessions only. */
static bool admit_owner_may(const struct admit_attrs *x)
{
    return x->resource_request && strcmp(x->api_group, "podterm.dev") == 0 &&
           strcmp(x->resource, "sessions") == 0 &&
           (strcmp(x->verb, "get") == 0 || strcmp(x->verb, "list") == 0) &&
           (!x->subresource[0] || strcmp(x->subresource, "recording") == 0 ||
            strcmp(x->subresource, "resume") == 0 || strcmp(x->subresource, "watch") == 0 ||
            strcmp(x->subresource, "join") == 0);
}

unsigned admit_policy_generation(const struct admit *a)
{
    /* A sign-out and new token files are revocations too: the sweep asks
     * every session again. */
    return a->authz_generation + a->authn_generation +
           (a->opts.signin ? signin_generation(a->opts.signin) : 0);
}

/* The RBAC attributes of an admission, as admit_authorize asks them. */
static struct authz_attrs admit_authz_attrs(const struct admit_attrs *x)
{
    return (struct authz_attrs){
        .verb = x->verb,
        .resource_request = x->resource_request,
        .api_group = x->api_group,
        .ns = x->ns,
        .resource = x->resource,
        .subresource = x->subresource,
        .name = x->name,
        .path = x->path,
    };
}

bool admission_recheck(const struct admission *adm, char *message, size_t cap)
{
    const struct admit *a = adm->admit;
    if (a && adm->exec && adm->signin_sid && a->opts.signin &&
        signin_session_signed_out(a->opts.signin, adm->signin_sid)) {
        snprintf(message, cap, "the user %s signed out (their sign-in session has ended)",
                 adm->user.user);
        return false;
    }
    if (a && adm->exec && adm->credential && adm->authn_generation != a->authn_generation) {
        /* Asked at the admission's own time: a token that merely expired
         * since is not revoked by an unrelated reload. */
        struct auth_identity now_id;
        bool still = auth_token_check(admit_auth(a), adm->credential, (time_t)adm->received.tv_sec,
                                      &now_id) == AUTH_OK &&
                     strcmp(now_id.user, adm->user.user) == 0;
        auth_identity_clear(&now_id); /* zeroed by a refusal, so always clearable */
        if (!still) {
            snprintf(message, cap,
                     "the token of %s no longer authenticates (--token-auth-file or "
                     "--jwt-key-file changed)",
                     adm->user.user);
            return false;
        }
    }
    if (!a || !a->authz || !adm->exec)
        return true;
    struct authz_attrs at = admit_authz_attrs(&adm->attrs);
    struct authz_decision d;
    authz_check(a->authz, &adm->user, &at, &d);
    if (!d.allowed) { /* get counts too, as at admission */
        struct authz_attrs get = at;
        get.verb = "get";
        authz_check(a->authz, &adm->user, &get, &d);
    }
    if (!d.allowed)
        authz_forbidden_message(&adm->user, &at, "", message, cap);
    return d.allowed;
}

/* RBAC, when configured. exec/attach need create (kube-apiserver >= 1.35
 * checks it for WebSocket upgrades); get is accepted too, for policies
 * written for older apiservers. */
static bool admit_authorize(struct admit *a, struct admission *adm)
{
    if (!adm->api)
        return true;
    if (!a->authz) {
        adm->decision = "allow";
        return true;
    }
    const struct admit_attrs *x = &adm->attrs;
    struct authz_attrs at = admit_authz_attrs(x);
    struct authz_decision d;
    authz_check(a->authz, &adm->user, &at, &d);
    if (!d.allowed && adm->exec) {
        struct authz_attrs get = at;
        get.verb = "get";
        authz_check(a->authz, &adm->user, &get, &d);
    }
    admit_reason_set(adm, d.reason);
    adm->decision = d.allowed ? "allow" : "forbid";
    if (d.allowed)
        return true;
    char message[ADMIT_MESSAGE_MAX];
    authz_forbidden_message(&adm->user, &at, "", message, sizeof(message));
    admission_message_set(adm, "%s", message);
    if (x->resource_request) {
        snprintf(adm->details_name, sizeof(adm->details_name), "%s", x->name);
        adm->details_kind = x->resource;
    }
    if (admit_owner_may(x)) {
        adm->owner_only = true;
        adm->decision = "allow";
        admit_reason_set(adm, "podterm: the requester's own sessions only (RBAC does not grant "
                              "this)");
        return true;
    }
    adm->code = 403;
    adm->phrase = "Forbidden";
    adm->reason = "Forbidden";
    return false;
}

/* The request as the audit shows it: the target as sent (bounded), the
 * client's User-Agent, its address. Browser sign-in's requests are shown
 * by their path alone: the callback's query holds the authorization code
 * and the state, which no log or audit line may hold. */
static void admit_audit_begin(struct admission *adm, const struct admit_request *rq)
{
    audit_id_new(adm->audit_id);
    clock_gettime(CLOCK_REALTIME, &adm->received);
    clock_gettime(CLOCK_MONOTONIC, &adm->received_mono);
    const struct http_span *t = &rq->http->target;
    size_t n = t->n < AUDIT_URI_MAX ? t->n : AUDIT_URI_MAX;
    const struct http_span *path = &rq->http->path;
    if (path->p && signin_path(path->p, path->n) && path->n < n)
        n = path->n;
    adm->request_uri = strndup(t->p ? t->p : "", n);
    const struct http_span *ua = &rq->http->h[HTTP_H_USER_AGENT];
    if (ua->p) /* lost on out of memory: the audit line has no userAgent then */
        adm->user_agent = strndup(ua->p, ua->n < AUDIT_UA_MAX ? ua->n : AUDIT_UA_MAX);
    snprintf(adm->peer, sizeof(adm->peer), "%s", rq->peer ? rq->peer : "");
    adm->exit_code = -1;
}

enum admit_result admit_request(struct admit *a, const struct admit_request *rq,
                                struct admission **out)
{
    struct admission *adm = calloc(1, sizeof(*adm));
    *out = adm;
    if (!adm)
        return ADMIT_NOMEM;
    adm->admit = a;
    if (admit_attrs_parse(rq->http, &adm->attrs) < 0 ||
        http_query_decode(rq->http->query.p, rq->http->query.n, &adm->query) < 0) {
        admit_attrs_clear(&adm->attrs);
        free(adm);
        *out = NULL;
        return ADMIT_NOMEM;
    }
    admit_audit_begin(adm, rq);
    enum admit_result r = admit_request_checks(a, rq, adm);
    if (a->opts.metrics && adm->decision)
        a->opts.metrics->authz_decisions[strcmp(adm->decision, "allow") == 0]++;
    admit_audit_emit(adm, AUDIT_STAGE_REQUEST_RECEIVED, 0);
    return r;
}

static enum admit_result admit_request_checks(struct admit *a, const struct admit_request *rq,
                                              struct admission *adm)
{
    adm->api = admit_path_is_api(adm->attrs.path, strlen(adm->attrs.path));
    adm->exec = admit_attrs_is_exec(&adm->attrs);
    if (admit_host_refused(a, rq, adm))
        return ADMIT_REFUSED;
    if (!admit_path_canonical(adm->attrs.path))
        return admit_refuse(adm, 404, "Not Found", "NotFound",
                            "the server could not find the requested resource");
    if (rq->websocket && !admit_origin_allowed(a, rq->http))
        return admit_refuse(adm, 403, "Forbidden", "Forbidden",
                            "WebSocket upgrade from a cross-site Origin refused (start podterm "
                            "with --allowed-origin to allow it)");
    int nrc = rq->negotiation_rc;
    if (rq->websocket && nrc != PROTO_OK && nrc != PROTO_ERR_NO_MATCH)
        return admit_refuse(adm, nrc == PROTO_ERR_TOO_LONG ? 400 : 401,
                            nrc == PROTO_ERR_TOO_LONG ? "Bad Request" : "Unauthorized",
                            nrc == PROTO_ERR_TOO_LONG ? "BadRequest" : "Unauthorized",
                            admit_negotiation_text(nrc));
    if (!admit_authenticate(a, rq, adm))
        return ADMIT_REFUSED;
    if (a->opts.audit_required && !admit_audit_healthy(a))
        return admit_refuse(adm, 503, "Service Unavailable", "ServiceUnavailable",
                            "the audit log cannot be written and --audit-log-required is set: "
                            "podterm takes no requests it cannot audit");
    if (!admit_authorize(a, adm))
        return ADMIT_REFUSED;
    if (adm->exec && !admit_exec_check(a, adm))
        return ADMIT_REFUSED;
    if (a->opts.recording_required && admit_recorded(a, adm) && !admit_recording_healthy(a))
        return admit_refuse(adm, 503, "Service Unavailable", "ServiceUnavailable",
                            "session recordings cannot be written and --recording-required is "
                            "set: podterm starts no session it cannot record");
    return ADMIT_OK;
}

double admission_seconds(const struct timespec *from, const struct timespec *to)
{
    return (double)(to->tv_sec - from->tv_sec) + (double)(to->tv_nsec - from->tv_nsec) / 1e9;
}

enum metrics_kind admission_metrics_kind(const struct admission *adm)
{
    const char *sub = adm->attrs.subresource;
    return sub && strcmp(sub, "attach") == 0 ? METRICS_KIND_ATTACH : METRICS_KIND_EXEC;
}

void admission_started(struct admission *adm, int code)
{
    if (!adm)
        return;
    clock_gettime(CLOCK_MONOTONIC, &adm->started_at);
    /* exec/attach only: a watcher's or a resume's 101 is no new session */
    adm->session_counted = code == 101 && adm->exec && adm->admit->opts.metrics;
    if (adm->session_counted)
        metrics_session_start(adm->admit->opts.metrics, admission_metrics_kind(adm), adm->tty,
                              admission_seconds(&adm->received_mono, &adm->started_at));
    admit_audit_emit(adm, AUDIT_STAGE_RESPONSE_STARTED, code);
    admit_log_line(adm, ADMIT_LOG_SESSION_START, code);
}

void admission_session_end(struct admission *adm, int exit_code, const char *end_reason)
{
    if (!adm)
        return;
    adm->exit_code = exit_code;
    if (!adm->end_reason)
        adm->end_reason = end_reason;
}

void admission_hold(struct admission *adm)
{
    if (adm)
        adm->holds++;
}

void admission_release(struct admission *adm)
{
    if (!adm || !adm->holds)
        return;
    if (--adm->holds == 0 && adm->finish_pending)
        admission_finish(adm, adm->finish_code);
}

void admission_finish(struct admission *adm, int code)
{
    if (!adm)
        return;
    if (adm->holds) { /* finished when the last holder lets go */
        adm->finish_pending = true;
        adm->finish_code = code;
        return;
    }
    admit_audit_emit(adm, AUDIT_STAGE_RESPONSE_COMPLETE, code);
    admit_log_line(adm,
                   adm->started_at.tv_sec || adm->started_at.tv_nsec ? ADMIT_LOG_SESSION_END
                                                                     : ADMIT_LOG_REQUEST,
                   code);
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    /* A session's end is its admission's end (admit_tap.c); a session
     * that never got its tap ends here too, so the gauge cannot drift. */
    if (adm->session_counted)
        metrics_session_end(adm->admit->opts.metrics, admission_metrics_kind(adm), adm->tty,
                            adm->end_reason, admission_seconds(&adm->started_at, &now));
    metrics_http_request(adm->admit->opts.metrics, adm->attrs.verb, code,
                         admission_seconds(&adm->received_mono, &now),
                         code == 101 || (adm->attrs.verb && strcmp(adm->attrs.verb, "watch") == 0));
    admit_attrs_clear(&adm->attrs);
    http_query_free(&adm->query);
    free(adm->request_uri);
    free(adm->command_json);
    free(adm->user_agent);
    free(adm->max_duration_policy);
    free(adm->idle_timeout_policy);
    free(adm->authz_reason);
    free(adm->message);
    if (adm->credential) {
        explicit_bzero(adm->credential, strlen(adm->credential));
        free(adm->credential);
    }
    auth_identity_clear(&adm->user);
    free(adm);
}
