/* signin_callback.c - GET /oauth2/callback: the provider sends the browser
 * back with a code (or an error). The state names the login and must come
 * from the browser that began it (the login cookie); the code is exchanged
 * at the token endpoint with the PKCE verifier (an HTTPS POST on the loop:
 * the socket waits, the loop does not); the ID token must verify as a
 * bearer token does and carry the login's nonce. Then a sign-in session,
 * its cookie, and back to rd. The code and tokens never reach a log or an
 * answer. */
#include "signin/signin_internal.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#define SIGNIN_PROVIDER_ERROR_MAX 64 /* characters of a provider's error code shown */

struct signin_exchange {
    struct signin *s;
    struct signin_exchange *next;
    int fd;
    signin_done_fn done;
    void *user;
    struct oidc_fetch *fetch;
    struct signin_pending login;
};

static void signin_exchange_end(struct signin_exchange *x, int code)
{
    struct signin *s = x->s;
    for (struct signin_exchange **p = &s->exchanges; *p; p = &(*p)->next)
        if (*p == x) {
            *p = x->next;
            break;
        }
    s->exchanges_len--;
    x->done(x->user, code);
    OPENSSL_cleanse(&x->login, sizeof(x->login));
    free(x);
}

/* The token response's id_token, verified, into a session. The HTTP code
 * of the answer written. */
static int signin_exchange_finish(struct signin_exchange *x, const char *body, size_t len)
{
    struct signin *s = x->s;
    json_t *doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
    const char *id_token = json_string_value(json_object_get(doc, "id_token"));
    struct auth_identity id;
    char why[128] = "the token response has no id_token", msg[SIGNIN_ERR_MAX];
    int rc = id_token ? oidc_id_token_check(s->oidc, id_token, x->login.nonce, time(NULL), &id, why,
                                            sizeof(why))
                      : AUTH_ERR_MISSING;
    struct signin_session *ss =
        rc == AUTH_OK ? signin_session_add(&s->table, &id, id_token, time(NULL)) : NULL;
    if (rc == AUTH_OK)
        auth_identity_clear(&id); /* the session holds its own copy */
    json_decref(doc);             /* json_loadb copied the tokens; the fetch wipes the bytes */
    if (rc != AUTH_OK) {
        snprintf(msg, sizeof(msg),
                 "sign-in failed: the identity provider's ID token was refused (%s)", why);
        signin_reply_status(x->fd, 403, msg);
        return 403;
    }
    if (!ss) {
        signin_reply_status(x->fd, 503, "sign-in failed: out of memory");
        return 503;
    }
    char extra[SIGNIN_RD_MAX + 768], session[256], login[256];
    signin_set_cookie(s, s->session_cookie, ss->cookie, s->table.max_age_s, session,
                      sizeof(session));
    signin_set_cookie(s, s->login_cookie, NULL, 0, login, sizeof(login));
    snprintf(extra, sizeof(extra), "Location: %s\r\n%s%s", x->login.rd, session, login);
    signin_reply(x->fd, 302, extra, "text/plain; charset=utf-8", "", 0);
    OPENSSL_cleanse(session, sizeof(session));
    OPENSSL_cleanse(extra, sizeof(extra));
    return 302;
}

static void signin_on_token(void *user, const char *body, size_t len, const char *err)
{
    struct signin_exchange *x = user;
    x->fetch = NULL;
    int code;
    if (body) {
        code = signin_exchange_finish(x, body, len);
    } else if (err && strstr(err, "HTTP status 4")) {
        /* The provider refused the code: used already, another client's,
         * or the PKCE verifier does not match its challenge. */
        char msg[SIGNIN_ERR_MAX];
        snprintf(msg, sizeof(msg),
                 "sign-in failed: the identity provider refused the authorization code (%s)",
                 strstr(err, "HTTP status"));
        signin_reply_status(x->fd, code = 403, msg);
    } else {
        char msg[SIGNIN_ERR_MAX];
        snprintf(msg, sizeof(msg), "sign-in failed: the token endpoint: %s",
                 err ? err : "no answer");
        signin_reply_status(x->fd, code = 502, msg);
    }
    signin_exchange_end(x, code);
}

void signin_exchanges_close(struct signin *s)
{
    while (s->exchanges) {
        struct signin_exchange *x = s->exchanges;
        oidc_fetch_cancel(x->fetch);
        x->fetch = NULL;
        signin_reply_status(x->fd, 503, "podterm is shutting down: sign in again");
        signin_exchange_end(x, 503);
    }
}

/* Basic credentials (RFC 6749 2.3.1: each part form-encoded first). */
static bool signin_basic(const struct signin *s, char *out, size_t cap)
{
    char pair[2 * 3 * SIGNIN_SECRET_MAX];
    size_t len = 0;
    /* signin_form_add gives "id=secret": the '=' becomes the ':' */
    if (!signin_form_add(pair, sizeof(pair), &len, oidc_client_id(s->oidc), s->secret))
        return false;
    char *eq = strchr(pair, '=');
    *eq = ':';
    size_t need = 6 + 4 * ((len + 2) / 3) + 1;
    if (need > cap) {
        OPENSSL_cleanse(pair, sizeof(pair));
        return false;
    }
    memcpy(out, "Basic ", 6);
    EVP_EncodeBlock((unsigned char *)out + 6, (const unsigned char *)pair, (int)len);
    OPENSSL_cleanse(pair, sizeof(pair));
    return true;
}

static bool signin_token_form(const struct signin *s, const struct signin_pending *l,
                              const char *code, char *form, size_t cap)
{
    size_t len = 0;
    form[0] = '\0';
    return signin_form_add(form, cap, &len, "grant_type", "authorization_code") &&
           signin_form_add(form, cap, &len, "code", code) &&
           signin_form_add(form, cap, &len, "redirect_uri", s->redirect_url) &&
           signin_form_add(form, cap, &len, "code_verifier", l->verifier) &&
           /* a public client names itself; a confidential one authenticates */
           (s->secret || signin_form_add(form, cap, &len, "client_id", oidc_client_id(s->oidc)));
}

/* The provider's error code, shown as it is when it is a plain word (RFC
 * 6749 4.1.2.1), else not at all: the page must not echo what an attacker
 * put in a link. */
static void signin_provider_error(const char *e, char *out, size_t cap)
{
    size_t n = strlen(e);
    bool plain = n && n <= SIGNIN_PROVIDER_ERROR_MAX &&
                 strspn(e, "abcdefghijklmnopqrstuvwxyz"
                           "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == n;
    snprintf(out, cap, "the identity provider refused the sign-in%s%s%s", plain ? " (" : "",
             plain ? e : "", plain ? ")" : "");
}

void signin_callback(struct signin *s, int fd, const struct http_request *rq,
                     const struct http_query *q, signin_done_fn done, void *user)
{
    const char *state = signin_query_get(q, "state"), *code = signin_query_get(q, "code");
    const char *error = signin_query_get(q, "error");
    const char *bv = NULL;
    size_t bn = 0;
    signin_cookie_get(rq, s->login_cookie, &bv, &bn);
    struct signin_pending login;
    enum signin_take_rc taken =
        state ? signin_pending_take(&s->table, state, strlen(state), bv, bn, time(NULL), &login)
              : SIGNIN_TAKE_UNKNOWN;
    char msg[SIGNIN_ERR_MAX];
    int answer = 0;
    if (error) { /* the login (if it was this browser's) is used up too */
        signin_provider_error(error, msg, sizeof(msg));
        answer = 400;
    } else if (taken == SIGNIN_TAKE_BINDING) {
        snprintf(msg, sizeof(msg),
                 "sign-in refused: this sign-in was begun in another browser "
                 "(its login cookie is missing or different)");
        answer = 403;
    } else if (taken != SIGNIN_TAKE_OK) {
        snprintf(msg, sizeof(msg),
                 "sign-in refused: its state is unknown, expired or was used "
                 "already: sign in again");
        answer = 400;
    } else if (!code || !*code || strlen(code) > SIGNIN_CODE_MAX) {
        snprintf(msg, sizeof(msg), "sign-in refused: the callback has no valid code");
        answer = 400;
    } else if (s->exchanges_len >= SIGNIN_EXCHANGES_MAX || s->closed) {
        snprintf(msg, sizeof(msg), "sign-in: too many sign-ins at once, try again");
        answer = 503;
    }
    if (answer) {
        OPENSSL_cleanse(&login, sizeof(login));
        signin_reply_status(fd, answer, msg);
        done(user, answer);
        return;
    }
    struct signin_exchange *x = calloc(1, sizeof(*x));
    char form[OIDC_FORM_MAX + 1], basic[SIGNIN_SECRET_MAX * 5];
    bool ok = x && signin_token_form(s, &login, code, form, sizeof(form)) &&
              (!s->secret || signin_basic(s, basic, sizeof(basic)));
    if (ok) {
        x->s = s;
        x->fd = fd;
        x->done = done;
        x->user = user;
        x->login = login;
        x->fetch = oidc_token_request(s->oidc, form, s->secret ? basic : NULL, signin_on_token, x);
        ok = x->fetch != NULL;
    }
    OPENSSL_cleanse(form, sizeof(form));
    OPENSSL_cleanse(basic, sizeof(basic));
    OPENSSL_cleanse(&login, sizeof(login));
    if (!ok) {
        free(x);
        signin_reply_status(fd, 503, "sign-in: cannot reach the token endpoint");
        done(user, 503);
        return;
    }
    x->next = s->exchanges;
    s->exchanges = x;
    s->exchanges_len++;
}
