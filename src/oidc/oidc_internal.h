/* oidc_internal.h - the pieces behind oidc.h: the checked configuration,
 * the sans-I/O cores (URL, HTTP response, discovery and JWKS documents,
 * token verification) and the asynchronous HTTPS GET. Not for other
 * modules; the unit tests and fuzz targets use it. */
#ifndef PODTERM_OIDC_INTERNAL_H
#define PODTERM_OIDC_INTERNAL_H

#include <openssl/evp.h>
#include <openssl/ssl.h>

#include "http/http1.h"
#include "oidc/oidc.h"

#define OIDC_URL_MAX 1024                            /* the issuer URL, jwks_uri */
#define OIDC_HOST_MAX 256                            /* a URL's host */
#define OIDC_CLAIM_MAX 128                           /* a claim name from a flag */
#define OIDC_ALGS_MAX 9                              /* RS256..PS512, ES256..ES512 */
#define OIDC_KEYS_MAX 32                             /* keys kept from one JWKS */
#define OIDC_KID_MAX 128                             /* a key id */
#define OIDC_DOC_MAX (256 * 1024)                    /* a discovery document or JWKS (body) */
#define OIDC_RESPONSE_MAX (OIDC_DOC_MAX + 16 * 1024) /* with its head */
#define OIDC_RSA_BITS_MIN 2048                       /* smaller RSA keys are left out of the set */
#define OIDC_RSA_BITS_MAX 16384 /* and so are absurdly large ones (CPU per check) */
#define OIDC_SKEW_S 60          /* clock skew allowed on nbf and iat (not exp, as kube) */
#define OIDC_ERR_MAX 256        /* an error message */

/* Timing of the refresher (oidc.c). */
#define OIDC_FETCH_TIMEOUT_MS 10000      /* one GET: DNS, connect, TLS, response */
#define OIDC_REFRESH_MS (10 * 60 * 1000) /* keys are fetched again this often */
#define OIDC_RETRY_MIN_MS 1000           /* after a failure, first retry */
#define OIDC_RETRY_MAX_MS 30000          /* backoff doubles up to this */
#define OIDC_KID_REFRESH_MIN_MS 10000    /* an unknown kid refreshes at most this often */

enum oidc_alg {
    OIDC_ALG_RS256,
    OIDC_ALG_RS384,
    OIDC_ALG_RS512,
    OIDC_ALG_PS256,
    OIDC_ALG_PS384,
    OIDC_ALG_PS512,
    OIDC_ALG_ES256,
    OIDC_ALG_ES384,
    OIDC_ALG_ES512,
    OIDC_ALG_INVALID = -1,
};

/* "RS256" -> OIDC_ALG_RS256; none, HS*, anything else: OIDC_ALG_INVALID. */
enum oidc_alg oidc_alg_parse(const char *name);
const char *oidc_alg_name(enum oidc_alg alg);

struct oidc_config {
    char issuer[OIDC_URL_MAX];
    char client_id[AUTH_NAME_MAX];
    char username_claim[OIDC_CLAIM_MAX];
    char username_prefix[AUTH_NAME_MAX];
    char groups_claim[OIDC_CLAIM_MAX]; /* "": none */
    char groups_prefix[AUTH_NAME_MAX];
    struct {
        char name[OIDC_CLAIM_MAX];
        char value[AUTH_NAME_MAX];
    } required[OIDC_REQUIRED_CLAIMS_MAX];
    size_t required_len;
    enum oidc_alg algs[OIDC_ALGS_MAX];
    size_t algs_len;
};

/* The flags into a config, with kube-apiserver's defaults and checks.
 * -1 with a message naming the flag. */
int oidc_config_init(struct oidc_config *c, const struct oidc_opts *opts, char *err,
                     size_t err_cap);

/* ---- URLs (oidc_url.c) ---- */
struct oidc_url {
    char host[OIDC_HOST_MAX]; /* without brackets for IPv6 */
    int port;
    char path[OIDC_URL_MAX]; /* from the first '/', query included; "/" at least */
};
/* An https:// URL without user info or fragment. -1 otherwise. */
int oidc_url_parse(const char *url, struct oidc_url *out);

/* ---- HTTP response (oidc_http.c), sans-I/O ---- */
enum oidc_http_rc {
    OIDC_HTTP_MORE = 0,        /* incomplete: read more (or fail at EOF) */
    OIDC_HTTP_DONE = 1,        /* *body, *body_len set (inside buf, or out for chunked) */
    OIDC_HTTP_ERR_HEAD = -1,   /* malformed head */
    OIDC_HTTP_ERR_STATUS = -2, /* not 200 (*status says which) */
    OIDC_HTTP_ERR_SIZE = -3,   /* body longer than OIDC_DOC_MAX */
    OIDC_HTTP_ERR_BODY = -4,   /* chunked framing broken, or cut short at EOF */
};
/* An incremental reader of one response: fed the whole response so far
 * (buf only ever grows, at the same address or a copy of it), it looks at
 * each new byte a bounded number of times. */
struct oidc_http {
    char *out;       /* a chunked body, decoded (OIDC_DOC_MAX bytes) */
    size_t fed;      /* bytes of buf already looked at */
    size_t head_len; /* 0 until the head is complete */
    struct http1_response r;
    struct http1_chunked chunked;
    size_t produced; /* bytes of out */
};
void oidc_http_init(struct oidc_http *h, char *out);
/* buf[0, len) is the response so far; eof says the peer closed. On
 * OIDC_HTTP_DONE, *body is inside buf or h->out. *status once the head is in. */
int oidc_http_feed(struct oidc_http *h, const char *buf, size_t len, bool eof, const char **body,
                   size_t *body_len, int *status);
/* The same for a whole response at once. */
int oidc_http_response(const char *buf, size_t len, bool eof, char *out, const char **body,
                       size_t *body_len, int *status);
const char *oidc_http_strerror(int rc);

/* ---- discovery and JWKS documents (oidc_jwks.c), sans-I/O ---- */
/* The discovery document: its issuer must be ours exactly; its jwks_uri
 * (https) goes to jwks_uri. -1 with a message. */
int oidc_discovery_parse(const char *json, size_t len, const char *issuer, char *jwks_uri,
                         size_t cap, char *err, size_t err_cap);

/* The endpoints browser sign-in needs (src/signin/): authorization and
 * token are required, end_session optional (""). All https. -1 with a
 * message; ep zeroed then. */
int oidc_discovery_endpoints(const char *json, size_t len, struct oidc_endpoints *ep, char *err,
                             size_t err_cap);

struct oidc_key {
    char kid[OIDC_KID_MAX]; /* "" when the JWK has none */
    EVP_PKEY *pkey;
    bool rsa;              /* else EC */
    enum oidc_alg ec_alg;  /* EC: the one ES* its curve fits */
    enum oidc_alg jwk_alg; /* the JWK's own "alg", or OIDC_ALG_INVALID when absent */
};

struct oidc_keyset {
    struct oidc_key keys[OIDC_KEYS_MAX];
    size_t len;
};

/* Keys of a JWKS: RSA and EC (P-256/384/521) signature keys. Keys podterm
 * cannot use (other kty, "use" other than "sig", small RSA, a duplicate kid)
 * are left out; a JWKS with no usable key is an error. -1 with a message;
 * set is empty then. */
int oidc_jwks_parse(const char *json, size_t len, struct oidc_keyset *set, char *err,
                    size_t err_cap);
void oidc_keyset_clear(struct oidc_keyset *set);

/* ---- token verification (oidc_verify.c), sans-I/O ---- */
enum oidc_verify_rc {
    OIDC_OK = 0,
    OIDC_ERR_MALFORMED = -1,   /* not a JWT: three base64url parts, JSON objects */
    OIDC_ERR_ALG = -2,         /* alg not allowed (none, HS*, not in --oidc-signing-algs) */
    OIDC_ERR_UNKNOWN_KID = -3, /* the kid names no key we hold */
    OIDC_ERR_SIGNATURE = -4,   /* no key fitting the alg verifies it */
    OIDC_ERR_ISSUER = -5,      /* iss is not the issuer */
    OIDC_ERR_AUDIENCE = -6,    /* aud does not hold the client id */
    OIDC_ERR_EXPIRED = -7,     /* exp missing or past */
    OIDC_ERR_NOT_YET = -8,     /* nbf or iat in the future */
    OIDC_ERR_USERNAME = -9,    /* username claim missing, not a string, not a valid name */
    OIDC_ERR_EMAIL = -10,      /* email_verified false (username claim email) */
    OIDC_ERR_GROUPS = -11,     /* groups claim not a string or strings, too many, invalid */
    OIDC_ERR_REQUIRED = -12,   /* a required claim missing or different */
    OIDC_ERR_NO_KEYS = -13,    /* no JWKS loaded yet */
};
const char *oidc_verify_strerror(int rc);

/* Verify token at now against keys. OIDC_OK with id filled (prefixes
 * applied), else an oidc_verify_rc with id zeroed. When the rc is
 * OIDC_ERR_UNKNOWN_KID, kid (OIDC_KID_MAX) holds the kid asked for. */
int oidc_verify(const struct oidc_config *c, const struct oidc_keyset *keys, const char *token,
                time_t now, struct auth_identity *id, char *kid);

/* Does the (already verified) token's payload hold claim name with the
 * string value exactly? Sans-I/O. */
bool oidc_claim_is(const char *token, const char *name, const char *value);

/* ---- HTTPS GET and POST (oidc_fetch.c), on the loop ---- */
struct oidc_fetch *oidc_fetch_start(uv_loop_t *loop, SSL_CTX *ctx, const char *url,
                                    oidc_fetch_cb cb, void *user);
/* A POST of an application/x-www-form-urlencoded body (at most
 * OIDC_FORM_MAX bytes) with an optional Authorization header value
 * (NULL: none): the token request of browser sign-in. Same deadline and
 * bounds as a GET. NULL when it cannot start (cb is not called then). */
struct oidc_fetch *oidc_fetch_post(uv_loop_t *loop, SSL_CTX *ctx, const char *url, const char *form,
                                   const char *authorization, oidc_fetch_cb cb, void *user);

#endif
