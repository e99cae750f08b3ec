/* signin.c - the sign-in object (signin.h): its flags, the session cookie
 * as admission reads it, the CSRF check, and the dispatch of /oauth2/
 * requests (signin_routes.c, signin_callback.c answer them). */
#include "signin/signin_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "util/util_file.h"

#define SIGNIN_DEFAULT_SCOPES "openid email profile"

/* The redirect URL's origin and "/": where the provider sends the browser
 * after signing out (post_logout_redirect_uri). */
static int signin_home(struct signin *s, char *err, size_t err_cap)
{
    const char *u = s->redirect_url;
    bool https = strncmp(u, "https://", 8) == 0, http = strncmp(u, "http://", 7) == 0;
    const char *host = u + (https ? 8 : 7);
    const char *path = (https || http) ? strchr(host, '/') : NULL;
    if (!path || path == host || strpbrk(u, "?#") || strchr(u, '@')) {
        snprintf(err, err_cap,
                 "--oidc-redirect-url %s: an http(s) URL with a host and a path (and no query, "
                 "fragment or user info), e.g. https://podterm.example.com/oauth2/callback",
                 u);
        return -1;
    }
    if (strcmp(path, "/oauth2/callback") != 0) {
        snprintf(err, err_cap, "--oidc-redirect-url %s: its path must be /oauth2/callback", u);
        return -1;
    }
    if (https != s->tls) {
        snprintf(err, err_cap,
                 "--oidc-redirect-url %s: its scheme must be the one podterm serves (%s)", u,
                 s->tls ? "https, with --tls-cert-file" : "http, without TLS");
        return -1;
    }
    snprintf(s->home_url, sizeof(s->home_url), "%.*s/", (int)(path - u), u);
    return 0;
}

static int signin_secret_read(struct signin *s, const char *file, char *err, size_t err_cap)
{
    char *text = NULL, why[AUTH_ERR_MAX];
    size_t len = 0;
    if (util_file_read(file, SIGNIN_SECRET_MAX, &text, &len, why, sizeof(why)) < 0 || !text) {
        snprintf(err, err_cap, "--oidc-client-secret-file %s", why);
        return -1;
    }
    while (len && (text[len - 1] == '\n' || text[len - 1] == '\r'))
        text[--len] = '\0';
    bool ok = len > 0 && strlen(text) == len;
    for (size_t i = 0; ok && i < len; i++)
        ok = (unsigned char)text[i] > 0x20 && (unsigned char)text[i] < 0x7f;
    if (!ok) {
        OPENSSL_cleanse(text, len);
        free(text);
        snprintf(err, err_cap, "--oidc-client-secret-file %s: one line of visible ASCII characters",
                 file);
        return -1;
    }
    s->secret = text;
    return 0;
}

struct signin *signin_new(uv_loop_t *loop, struct oidc *oidc, const struct signin_opts *opts,
                          char *err, size_t err_cap)
{
    struct signin *s = calloc(1, sizeof(*s));
    if (!s || !oidc || !opts->redirect_url) {
        snprintf(err, err_cap,
                 !s ? "out of memory" : "--oidc-redirect-url needs --oidc-issuer-url");
        free(s);
        return NULL;
    }
    s->loop = loop;
    s->oidc = oidc;
    s->tls = opts->tls;
    s->session_cookie = s->tls ? "__Host-podterm-session" : "podterm-session";
    s->login_cookie = s->tls ? "__Host-podterm-signin" : "podterm-signin";
    snprintf(s->scopes, sizeof(s->scopes), "%s",
             opts->scopes ? opts->scopes : SIGNIN_DEFAULT_SCOPES);
    if (strlen(opts->redirect_url) >= sizeof(s->redirect_url)) {
        snprintf(err, err_cap, "--oidc-redirect-url: longer than %d bytes", OIDC_ENDPOINT_MAX - 1);
        free(s);
        return NULL;
    }
    snprintf(s->redirect_url, sizeof(s->redirect_url), "%s", opts->redirect_url);
    unsigned idle = opts->idle_timeout_s ? opts->idle_timeout_s : SIGNIN_IDLE_DEFAULT_S;
    unsigned max_age = opts->max_age_s ? opts->max_age_s : SIGNIN_MAX_AGE_DEFAULT_S;
    if (signin_home(s, err, err_cap) < 0 ||
        (opts->client_secret_file &&
         signin_secret_read(s, opts->client_secret_file, err, err_cap) < 0)) {
        free(s);
        return NULL;
    }
    if (!strstr(s->scopes, "openid")) {
        snprintf(err, err_cap, "--oidc-scopes must include openid");
        signin_free(s);
        return NULL;
    }
    if (signin_table_init(&s->table, idle, max_age) < 0) {
        snprintf(err, err_cap, "out of memory");
        signin_free(s);
        return NULL;
    }
    return s;
}

void signin_close(struct signin *s)
{
    if (!s || s->closed)
        return;
    s->closed = true;
    signin_exchanges_close(s);
}

void signin_free(struct signin *s)
{
    if (!s)
        return;
    signin_table_free(&s->table);
    if (s->secret) {
        OPENSSL_cleanse(s->secret, strlen(s->secret));
        free(s->secret);
    }
    free(s);
}

bool signin_cookie_get(const struct http_request *rq, const char *name, const char **v, size_t *n)
{
    const struct http_span *c = &rq->h[HTTP_H_COOKIE];
    return c->p && signin_cookie_find(c->p, c->n, name, v, n);
}

enum signin_auth signin_authenticate(struct signin *s, const struct http_request *rq, time_t now,
                                     struct auth_identity *id, uint64_t *sid,
                                     char csrf[SIGNIN_CSRF_MAX + 1])
{
    const char *v;
    size_t n;
    if (!signin_cookie_get(rq, s->session_cookie, &v, &n))
        return SIGNIN_AUTH_NONE;
    bool expired;
    struct signin_session *ss = signin_session_find(&s->table, v, n, now, &expired);
    if (!ss)
        return SIGNIN_AUTH_EXPIRED;
    if (auth_identity_copy(id, &ss->user) < 0)
        return SIGNIN_AUTH_EXPIRED; /* out of memory: refused, never fewer groups */
    *sid = ss->id;
    snprintf(csrf, SIGNIN_CSRF_MAX + 1, "%s", ss->csrf);
    return SIGNIN_AUTH_OK;
}

bool signin_session_signed_out(const struct signin *s, uint64_t sid)
{
    for (size_t i = 0; i < SIGNIN_SIGNED_OUT_MAX; i++)
        if (s->signed_out[i] == sid)
            return true;
    return false;
}

unsigned signin_generation(const struct signin *s)
{
    return s->generation;
}

/* The Origin a browser sends from podterm's own page: the scheme podterm
 * serves, and the Host the request was sent to. */
bool signin_origin_same(const struct signin *s, const struct http_request *rq)
{
    const struct http_span *o = &rq->h[HTTP_H_ORIGIN], *host = &rq->h[HTTP_H_HOST];
    const char *scheme = s->tls ? "https://" : "http://";
    size_t sl = strlen(scheme);
    return o->p && host->p && o->n == sl + host->n && strncasecmp(o->p, scheme, sl) == 0 &&
           strncasecmp(o->p + sl, host->p, host->n) == 0;
}

bool signin_csrf_ok(const struct signin *s, const struct http_request *rq, const char *sent,
                    size_t sent_len, const char *csrf)
{
    return signin_origin_same(s, rq) && sent && signin_token_valid(sent, sent_len) &&
           signin_token_valid(csrf, strlen(csrf)) && signin_token_equal(sent, csrf);
}

bool signin_path(const char *path, size_t len)
{
    size_t n = strlen(SIGNIN_PATH_PREFIX);
    return len >= n && memcmp(path, SIGNIN_PATH_PREFIX, n) == 0;
}
