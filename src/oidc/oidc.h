/* oidc.h - OpenID Connect ID tokens as bearer tokens, with kube-apiserver's
 * --oidc-* flags and meaning: a token is accepted when a key of the
 * issuer's JWKS signed it, with an allowed algorithm, for our client id
 * (aud), from the issuer (iss), and it is within its lifetime.
 *
 * The issuer's discovery document and JWKS are fetched over TLS on the
 * event loop (oidc_fetch.c), never blocking it: at start-up, every
 * OIDC_REFRESH_MS, and when a token names a key we do not hold (at most once
 * every OIDC_KID_REFRESH_MIN_MS). Until the first JWKS is in, every OIDC
 * token is refused and oidc_ready() says why. A failed refresh keeps the
 * keys we had.
 *
 * Who calls: main builds it (oidc_new) and lends it to admission, which asks
 * oidc_token_check() after the static tokens and the JWT key said no (the
 * order is documented in docs/security.md). Single-threaded: the loop. */
#ifndef PODTERM_OIDC_H
#define PODTERM_OIDC_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>
#include <uv.h>

#include "auth/auth.h"

#define OIDC_REQUIRED_CLAIMS_MAX 16 /* --oidc-required-claim flags */
#define OIDC_REASON_MAX 512         /* why the keys are not (yet) loaded */

struct oidc_opts {
    const char *issuer_url;     /* --oidc-issuer-url: https:// only */
    const char *client_id;      /* --oidc-client-id: the audience required */
    const char *username_claim; /* NULL: "sub" */
    const char
        *username_prefix; /* NULL: kube's default (issuer# unless the claim is email); "-": none */
    const char *groups_claim;                              /* NULL: no groups from tokens */
    const char *groups_prefix;                             /* NULL: none */
    const char *required_claims[OIDC_REQUIRED_CLAIMS_MAX]; /* "key=value" each */
    size_t required_claims_len;
    const char *ca_file;      /* NULL: the system's trust store */
    const char *signing_algs; /* comma-separated; NULL: "RS256" */
};

struct oidc;

/* Check the flags, read the CA file and start fetching. NULL with a message
 * for a person in err when a flag is wrong. */
struct oidc *oidc_new(uv_loop_t *loop, const struct oidc_opts *opts, char *err, size_t err_cap);
/* Stop fetching; close_cb (may be NULL) runs once every handle is closed,
 * after which oidc_free. */
void oidc_close(struct oidc *o, void (*close_cb)(void *), void *user);
void oidc_free(struct oidc *o);

/* True once a JWKS is loaded; otherwise reason (may be NULL) says why not
 * (no secret in it: a URL and an error). */
bool oidc_ready(const struct oidc *o, char *reason, size_t cap);

/* AUTH_OK with id filled (groups prefixed; no system:authenticated), or an
 * auth_err with id zeroed. A token signed by a key id we do not hold starts
 * a refresh (rate-limited) and is refused: the refresh is asynchronous. */
int oidc_token_check(struct oidc *o, const char *token, time_t now, struct auth_identity *id);

/* ---- browser sign-in (src/signin/ uses these) ---- */
#define OIDC_ENDPOINT_MAX 1024 /* an endpoint URL */
#define OIDC_FORM_MAX 8192     /* a token request's form body */

/* The issuer's endpoints, from its discovery document. */
struct oidc_endpoints {
    char authorization[OIDC_ENDPOINT_MAX];
    char token[OIDC_ENDPOINT_MAX];
    char end_session[OIDC_ENDPOINT_MAX]; /* "": the provider offers none */
};
/* NULL until the discovery document is in (and the keys with it). */
const struct oidc_endpoints *oidc_endpoints_get(const struct oidc *o);
const char *oidc_client_id(const struct oidc *o);

struct oidc_fetch;
/* Done: body (NULL on error) with its length, or err for a person (a URL and
 * an HTTP status, never a secret). Called once, unless cancelled. The fetch
 * frees itself after. */
typedef void (*oidc_fetch_cb)(void *user, const char *body, size_t len, const char *err);
/* POST form to the token endpoint, with the issuer's TLS settings
 * (--oidc-ca-file); authorization: an Authorization header value or NULL. */
struct oidc_fetch *oidc_token_request(struct oidc *o, const char *form, const char *authorization,
                                      oidc_fetch_cb cb, void *user);
/* No callback after this; the fetch ends on its own. NULL is ignored. */
void oidc_fetch_cancel(struct oidc_fetch *f);

/* An ID token from the token endpoint: checked as oidc_token_check checks
 * a bearer token (same user and groups mapping), and its nonce claim must
 * be nonce exactly (OpenID Connect Core 3.1.3.7). AUTH_OK, or an auth_err;
 * why (may be NULL, cap bytes) says which check failed, for a person. */
int oidc_id_token_check(struct oidc *o, const char *token, const char *nonce, time_t now,
                        struct auth_identity *id, char *why, size_t cap);

#endif
