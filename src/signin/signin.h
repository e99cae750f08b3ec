/* signin.h - browser sign-in with OpenID Connect: the authorization code
 * flow with PKCE (S256), state and nonce, ending in a server-side sign-in
 * session that a cookie names.
 *
 *   GET  /oauth2/sign_in?rd=/path  302 to the provider, a login cookie set
 *   GET  /oauth2/callback          code -> tokens (HTTPS POST on the loop),
 *                                  ID token verified with its nonce, session
 *                                  cookie set, 302 back to rd
 *   GET  /oauth2/userinfo          who is signed in, the CSRF token (JSON)
 *   POST /oauth2/sign_out          CSRF-checked; ends the session; JSON with
 *                                  where to go (the provider's end-session)
 *
 * Admission asks signin_authenticate() for requests that carry no bearer
 * token (docs/security.md lists the order); a cookie-authenticated request
 * that changes state, and every WebSocket, must also carry the session's
 * CSRF token and a same-origin Origin (admit.c checks).
 *
 * Who calls: main builds it with the oidc (signin_new) and lends it to
 * admission; the front door hands /oauth2/ requests to signin_serve().
 * Single-threaded: the loop. */
#ifndef PODTERM_SIGNIN_H
#define PODTERM_SIGNIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <uv.h>

#include "auth/auth.h"
#include "http/http_request.h"
#include "oidc/oidc.h"

#define SIGNIN_PENDING_MAX 256         /* logins begun and not yet back */
#define SIGNIN_PENDING_TTL_S 600       /* a login must come back within this */
#define SIGNIN_SESSIONS_MAX 1024       /* sign-in sessions kept (the oldest goes first) */
#define SIGNIN_EXCHANGES_MAX 64        /* callbacks waiting on the token endpoint at once */
#define SIGNIN_IDLE_DEFAULT_S 3600     /* --session-idle-timeout default: 1h */
#define SIGNIN_MAX_AGE_DEFAULT_S 43200 /* --session-max-age default: 12h */
#define SIGNIN_CSRF_MAX 64             /* characters of a CSRF token as sent */
#define SIGNIN_ERR_MAX 512
#define SIGNIN_SIGNED_OUT_MAX 256 /* sign-outs remembered for the revocation sweep */

#define SIGNIN_PATH_PREFIX "/oauth2/"

struct signin_opts {
    const char *redirect_url;       /* --oidc-redirect-url: .../oauth2/callback */
    const char *client_secret_file; /* --oidc-client-secret-file; NULL: public client */
    unsigned idle_timeout_s;        /* 0: the default */
    unsigned max_age_s;             /* 0: the default */
    const char *scopes;             /* --oidc-scopes; NULL: "openid email profile" */
    bool tls;                       /* podterm serves TLS: __Host- cookies, Secure */
};

struct signin;

struct signin *signin_new(uv_loop_t *loop, struct oidc *oidc, const struct signin_opts *opts,
                          char *err, size_t err_cap);
/* Answer every request still waiting on the provider (503) and stop. */
void signin_close(struct signin *s);
void signin_free(struct signin *s);

/* ---- for admission ---- */
enum signin_auth {
    SIGNIN_AUTH_NONE = 0,    /* no session cookie */
    SIGNIN_AUTH_OK = 1,      /* id, sid and csrf filled */
    SIGNIN_AUTH_EXPIRED = 2, /* a cookie naming no live session */
};
/* Who the session cookie in rq names: id (zeroed) gets a copy, for
 * auth_identity_clear, on SIGNIN_AUTH_OK only. */
enum signin_auth signin_authenticate(struct signin *s, const struct http_request *rq, time_t now,
                                     struct auth_identity *id, uint64_t *sid,
                                     char csrf[SIGNIN_CSRF_MAX + 1]);
/* CSRF: does a cookie-authenticated request come from podterm's own page?
 * Its Origin must be podterm's own (the scheme podterm serves and the
 * Host, which admission has checked) and sent (the X-CSRF-Token header or
 * the WebSocket's CSRF item; may be NULL) must be the session's token. */
bool signin_csrf_ok(const struct signin *s, const struct http_request *rq, const char *sent,
                    size_t sent_len, const char *csrf);
/* Was the sign-in session sid ended by a sign-out (one of the last
 * SIGNIN_SIGNED_OUT_MAX)? A session that merely timed out was not: a shell
 * it opened goes on (the page's next request signs in again). */
bool signin_session_signed_out(const struct signin *s, uint64_t sid);
/* Changes each time a session is ended by sign-out. */
unsigned signin_generation(const struct signin *s);

/* ---- for the front door ---- */
bool signin_path(const char *path, size_t len);
/* The request's answer is complete: code is its HTTP status. */
typedef void (*signin_done_fn)(void *user, int code);
/* Answer one /oauth2/ request on fd (taken: closed when answered). done is
 * called once, maybe before this returns. tls: the connection is TLS. */
void signin_serve(struct signin *s, int fd, const struct http_request *rq, signin_done_fn done,
                  void *user);

#endif
