/* signin_internal.h - the sans-I/O pieces behind signin.h: the Cookie
 * header, the rd parameter, PKCE, random tokens, form encoding, and the two
 * bounded tables (logins under way, sign-in sessions). No sockets, no
 * clock: the caller passes now. The unit tests and the fuzz target use it. */
#ifndef PODTERM_SIGNIN_INTERNAL_H
#define PODTERM_SIGNIN_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "auth/auth.h"
#include "signin/signin.h"

#define SIGNIN_TOKEN_BYTES 32                /* random bytes of each token */
#define SIGNIN_TOKEN_LEN 43                  /* their base64url, unpadded */
#define SIGNIN_VERIFIER_LEN SIGNIN_TOKEN_LEN /* PKCE code_verifier (RFC 7636: 43..128) */
#define SIGNIN_RD_MAX 2048                   /* the path signed-in users return to */
#define SIGNIN_COOKIE_NAME_MAX 64            /* a cookie's name */
#define SIGNIN_CODE_MAX 2048                 /* the authorization code */
#define SIGNIN_ID_TOKEN_MAX AUTH_TOKEN_MAX   /* an ID token kept for id_token_hint */

/* ---- tokens, PKCE, encoding (signin_codec.c) ---- */

/* base64url without padding of in[0, n) into out (4 * ceil(n / 3) + 1). */
void signin_b64url(const unsigned char *in, size_t n, char *out);
/* A fresh random token (SIGNIN_TOKEN_LEN + 1 bytes with the NUL); false
 * when the random source failed. */
bool signin_token_new(char out[SIGNIN_TOKEN_LEN + 1]);
/* RFC 7636 4.2: S256 challenge of a verifier (SIGNIN_TOKEN_LEN + 1 out). */
void signin_pkce_challenge(const char *verifier, char out[SIGNIN_TOKEN_LEN + 1]);
/* Is s exactly a token as signin_token_new makes them (length, alphabet)? */
bool signin_token_valid(const char *s, size_t n);
/* Constant-time equality of two tokens of SIGNIN_TOKEN_LEN. */
bool signin_token_equal(const char *a, const char *b);

/* The value of cookie name in a Cookie header value (RFC 6265 5.4: "a=b;
 * c=d"), the first one when the browser sent several. false when absent. */
bool signin_cookie_find(const char *header, size_t len, const char *name, const char **value,
                        size_t *value_len);

/* rd: a path on this server to return to. Only "/" followed by visible
 * ASCII without a backslash, and never "//" at its start (a
 * scheme-relative URL is another host): an open redirect otherwise. */
bool signin_rd_valid(const char *rd, size_t n);

/* Append key=value, form-urlencoded, to out (cap) at *len ('&' between
 * pairs). false when it does not fit. */
bool signin_form_add(char *out, size_t cap, size_t *len, const char *key, const char *value);

/* ---- the two tables (signin_table.c) ---- */

/* A login under way: the provider has the browser; the callback must come
 * back with state, from the browser holding binding. */
struct signin_pending {
    bool used;
    time_t created;
    char state[SIGNIN_TOKEN_LEN + 1];
    char binding[SIGNIN_TOKEN_LEN + 1]; /* the login cookie's value */
    char nonce[SIGNIN_TOKEN_LEN + 1];
    char verifier[SIGNIN_VERIFIER_LEN + 1];
    char rd[SIGNIN_RD_MAX + 1];
};

/* A signed-in browser. */
struct signin_session {
    bool used;
    uint64_t id;     /* never reused: what admissions remember */
    time_t created;  /* --session-max-age counts from here */
    time_t last_use; /* --session-idle-timeout from here */
    char cookie[SIGNIN_TOKEN_LEN + 1];
    char csrf[SIGNIN_TOKEN_LEN + 1];
    struct auth_identity user; /* without system:authenticated */
    char *id_token;            /* for the provider's end-session (id_token_hint); may be NULL */
};

struct signin_table {
    struct signin_pending pending[SIGNIN_PENDING_MAX];
    struct signin_session *sessions; /* SIGNIN_SESSIONS_MAX */
    uint64_t next_id;
    unsigned idle_s, max_age_s;
};

/* 0, or -1 on out of memory. */
int signin_table_init(struct signin_table *t, unsigned idle_s, unsigned max_age_s);
void signin_table_free(struct signin_table *t);

enum signin_take_rc {
    SIGNIN_TAKE_OK = 0,
    SIGNIN_TAKE_UNKNOWN = -1, /* no such state, expired, or used already */
    SIGNIN_TAKE_BINDING = -2, /* another browser's login (the entry is kept) */
};

/* A free slot for a login (the oldest one is dropped when all are taken:
 * a flood of sign-ins must not lock out the next person). */
struct signin_pending *signin_pending_add(struct signin_table *t, time_t now);
/* The login of state, when binding (the login cookie) is the one it was
 * given to: copied to out and taken out of the table (a callback is used
 * once). */
enum signin_take_rc signin_pending_take(struct signin_table *t, const char *state, size_t n,
                                        const char *binding, size_t binding_len, time_t now,
                                        struct signin_pending *out);

/* A new session for user (the oldest session is ended when the table is
 * full); NULL on out of memory. id_token is copied (may be NULL). */
struct signin_session *signin_session_add(struct signin_table *t, const struct auth_identity *user,
                                          const char *id_token, time_t now);
/* The live session a cookie names, its last use set to now; expired ones
 * are removed on the way (*expired then says so). */
struct signin_session *signin_session_find(struct signin_table *t, const char *cookie, size_t n,
                                           time_t now, bool *expired);
const struct signin_session *signin_session_by_id(const struct signin_table *t, uint64_t id,
                                                  time_t now);
void signin_session_remove(struct signin_table *t, struct signin_session *s);
size_t signin_session_count(const struct signin_table *t);

/* ---- the object (signin.c) and its routes (signin_routes.c) ---- */
#define SIGNIN_URL_MAX 8192   /* the authorization request's URL, the end-session URL */
#define SIGNIN_SCOPES_MAX 512 /* --oidc-scopes */
#define SIGNIN_SECRET_MAX 512 /* the client secret (file contents) */
#define SIGNIN_RESPONSE_MAX (SIGNIN_URL_MAX + 2048)

struct signin_exchange; /* a callback waiting on the token endpoint */

struct signin {
    uv_loop_t *loop;
    struct oidc *oidc;
    struct signin_table table;
    char redirect_url[OIDC_ENDPOINT_MAX];
    char home_url[OIDC_ENDPOINT_MAX]; /* the redirect URL's origin + "/" */
    char scopes[SIGNIN_SCOPES_MAX];
    char *secret; /* NULL: a public client */
    bool tls;
    const char *session_cookie, *login_cookie; /* names (__Host- over TLS) */
    unsigned generation;
    /* The sessions ended by sign-out, newest at signed_out_next - 1: the
     * sweep (session_revoke.c) runs within seconds, so a ring is enough. */
    uint64_t signed_out[SIGNIN_SIGNED_OUT_MAX];
    size_t signed_out_next;
    struct signin_exchange *exchanges; /* list */
    size_t exchanges_len;
    bool closed;
};

/* signin.c: the value of cookie name in rq (false: none). */
bool signin_cookie_get(const struct http_request *rq, const char *name, const char **v, size_t *n);
/* signin_routes.c: write a whole response and close fd. extra: more
 * header lines ("Name: value\r\n" each) or "". */
void signin_reply(int fd, int code, const char *extra, const char *type, const char *body,
                  size_t body_len);
void signin_reply_status(int fd, int code, const char *message);
/* Whether the request's Origin is podterm's own page (scheme and Host). */
bool signin_origin_same(const struct signin *s, const struct http_request *rq);
/* signin_callback.c: GET /oauth2/callback. */
void signin_callback(struct signin *s, int fd, const struct http_request *rq,
                     const struct http_query *q, signin_done_fn done, void *user);
void signin_exchanges_close(struct signin *s);
/* The Set-Cookie line that sets (value) or clears (NULL) a cookie. */
void signin_set_cookie(const struct signin *s, const char *name, const char *value,
                       unsigned max_age_s, char *out, size_t cap);
const char *signin_query_get(const struct http_query *q, const char *key);

#endif
