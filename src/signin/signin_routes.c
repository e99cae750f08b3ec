/* signin_routes.c - the answers of /oauth2/ (signin.h): sign_in sends the
 * browser to the provider, userinfo says who is signed in, sign_out ends
 * the session (callback is signin_callback.c's). Every answer is written
 * whole on the socket, which is then closed: these are small and rare. */
#include "signin/signin_internal.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "http/http1.h"
#include "util/util_json.h"

static const char *signin_reason(int code)
{
    switch (code) {
    case 400:
        return "BadRequest";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "NotFound";
    case 405:
        return "MethodNotAllowed";
    case 502:
        return "InternalError";
    default:
        return "ServiceUnavailable";
    }
}

void signin_reply(int fd, int code, const char *extra, const char *type, const char *body,
                  size_t body_len)
{
    char head[SIGNIN_RESPONSE_MAX];
    int n = snprintf(head, sizeof(head),
                     "HTTP/1.1 %d %s\r\nCache-Control: no-store\r\n" HTTP1_SECURITY_HEADERS
                     "%sContent-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
                     code, http1_reason_phrase(code), extra, type, body_len);
    if (n > 0 && (size_t)n < sizeof(head) && write(fd, head, (size_t)n) == n && body_len &&
        write(fd, body, body_len) < 0)
        n = 0;                           /* best effort: the browser may be gone */
    OPENSSL_cleanse(head, sizeof(head)); /* it may have held a cookie */
    close(fd);
}

void signin_reply_status(int fd, int code, const char *message)
{
    char response[HTTP1_STATUS_RESPONSE_MAX];
    long n = http1_status_response(code, http1_reason_phrase(code), signin_reason(code), message,
                                   response, sizeof(response));
    if (n > 0 && write(fd, response, (size_t)n) < 0)
        n = 0;
    close(fd);
}

void signin_set_cookie(const struct signin *s, const char *name, const char *value,
                       unsigned max_age_s, char *out, size_t cap)
{
    /* HttpOnly: no script reads it; SameSite=Lax: cross-site subrequests
     * (and WebSockets) go without it, top-level navigations (the
     * provider's redirect back) with it; over TLS Secure and the __Host-
     * name, which the browser only accepts from a secure origin, Path=/,
     * without Domain. */
    snprintf(out, cap, "Set-Cookie: %s=%s; Path=/;%s HttpOnly; SameSite=Lax; Max-Age=%u\r\n", name,
             value ? value : "", s->tls ? " Secure;" : "", value ? max_age_s : 0);
}

const char *signin_query_get(const struct http_query *q, const char *key)
{
    for (size_t i = 0; i < q->len; i++)
        if (strcmp(q->items[i].key, key) == 0)
            return q->items[i].value ? q->items[i].value : "";
    return NULL;
}

/* GET /oauth2/sign_in?rd=/path: a login begins. */
static int signin_begin(struct signin *s, int fd, const struct http_request *rq,
                        const struct http_query *q)
{
    const struct oidc_endpoints *ep = oidc_endpoints_get(s->oidc);
    if (!ep) {
        signin_reply_status(fd, 503,
                            "sign-in is not available yet: podterm has not loaded the identity "
                            "provider's discovery document and keys (see /readyz)");
        return 503;
    }
    const char *rd = signin_query_get(q, "rd");
    if (!rd)
        rd = "/";
    if (!signin_rd_valid(rd, strlen(rd))) {
        signin_reply_status(fd, 400,
                            "rd must be a path on this server: it starts with a single \"/\" and "
                            "holds no spaces, controls or backslashes");
        return 400;
    }
    struct signin_pending *p = signin_pending_add(&s->table, time(NULL));
    const char *bv;
    size_t bn;
    /* One login cookie per browser: a second tab's sign-in keeps the first's. */
    if (signin_cookie_get(rq, s->login_cookie, &bv, &bn) && signin_token_valid(bv, bn)) {
        memcpy(p->binding, bv, bn);
        p->binding[bn] = '\0';
    } else if (!signin_token_new(p->binding)) {
        p->used = false;
    }
    char challenge[SIGNIN_TOKEN_LEN + 1];
    bool ok = p->used && signin_token_new(p->state) && signin_token_new(p->nonce) &&
              signin_token_new(p->verifier);
    snprintf(p->rd, sizeof(p->rd), "%s", rd);
    char url[SIGNIN_URL_MAX];
    size_t len = (size_t)snprintf(url, sizeof(url), "%s", ep->authorization);
    /* The form's first '&' becomes the query's '?' (or stays, after one). */
    size_t mark = len;
    if (ok) {
        signin_pkce_challenge(p->verifier, challenge);
        ok = signin_form_add(url, sizeof(url), &len, "response_type", "code") &&
             signin_form_add(url, sizeof(url), &len, "client_id", oidc_client_id(s->oidc)) &&
             signin_form_add(url, sizeof(url), &len, "redirect_uri", s->redirect_url) &&
             signin_form_add(url, sizeof(url), &len, "scope", s->scopes) &&
             signin_form_add(url, sizeof(url), &len, "state", p->state) &&
             signin_form_add(url, sizeof(url), &len, "nonce", p->nonce) &&
             signin_form_add(url, sizeof(url), &len, "code_challenge", challenge) &&
             signin_form_add(url, sizeof(url), &len, "code_challenge_method", "S256");
    }
    if (!ok) {
        OPENSSL_cleanse(p, sizeof(*p));
        signin_reply_status(fd, 503, "sign-in: cannot make random tokens or the URL is too long");
        return 503;
    }
    url[mark] = strchr(ep->authorization, '?') ? '&' : '?';
    char extra[SIGNIN_URL_MAX + 512];
    char cookie[256];
    signin_set_cookie(s, s->login_cookie, p->binding, SIGNIN_PENDING_TTL_S, cookie, sizeof(cookie));
    snprintf(extra, sizeof(extra), "Location: %s\r\n%s", url, cookie);
    signin_reply(fd, 302, extra, "text/plain; charset=utf-8", "", 0);
    return 302;
}

static struct signin_session *signin_current(struct signin *s, const struct http_request *rq)
{
    const char *v;
    size_t n;
    bool expired;
    if (!signin_cookie_get(rq, s->session_cookie, &v, &n))
        return NULL;
    return signin_session_find(&s->table, v, n, time(NULL), &expired);
}

#define SIGNIN_NOT_SIGNED_IN "not signed in: sign in at " SIGNIN_PATH_PREFIX "sign_in"

/* GET /oauth2/userinfo: the page's view of who is signed in. */
static int signin_userinfo(struct signin *s, int fd, const struct http_request *rq)
{
    struct signin_session *ss = signin_current(s, rq);
    if (!ss) {
        signin_reply_status(fd, 401, SIGNIN_NOT_SIGNED_IN);
        return 401;
    }
    json_t *groups = json_array();
    for (size_t i = 0; groups && i < ss->user.groups_len; i++)
        if (json_array_append_new(groups, json_string(ss->user.groups[i])) < 0) {
            json_decref(groups); /* never fewer groups than the user has: a 503 below */
            groups = NULL;
        }
    json_t *o = json_pack("{s:s, s:o, s:s, s:s, s:I}", "user", ss->user.user, "groups", groups,
                          "csrfToken", ss->csrf, "signOut", SIGNIN_PATH_PREFIX "sign_out",
                          "idleTimeoutSeconds", (json_int_t)s->table.idle_s);
    char *body = util_json_text(o, JSON_COMPACT, false, NULL);
    json_decref(o);
    if (!body) {
        signin_reply_status(fd, 503, "out of memory");
        return 503;
    }
    signin_reply(fd, 200, "", "application/json", body, strlen(body));
    OPENSSL_cleanse(body, strlen(body));
    free(body);
    return 200;
}

/* Where the browser goes after signing out: the provider's end-session
 * endpoint when it has one (RP-Initiated Logout: id_token_hint when the
 * session is still known, the page to come back to), else podterm's page. */
static void signin_after_sign_out(struct signin *s, const char *id_token, char *url, size_t cap)
{
    const struct oidc_endpoints *ep = oidc_endpoints_get(s->oidc);
    if (!ep || !ep->end_session[0]) {
        snprintf(url, cap, "/");
        return;
    }
    size_t len = (size_t)snprintf(url, cap, "%s", ep->end_session), mark = len;
    bool ok = (!id_token || signin_form_add(url, cap, &len, "id_token_hint", id_token)) &&
              signin_form_add(url, cap, &len, "post_logout_redirect_uri", s->home_url) &&
              signin_form_add(url, cap, &len, "client_id", oidc_client_id(s->oidc));
    if (!ok) {
        snprintf(url, cap, "/");
        return;
    }
    url[mark] = strchr(ep->end_session, '?') ? '&' : '?';
}

/* The sign-out's answer: where to go next, and the session cookie gone. */
static int signin_sign_out_reply(struct signin *s, int fd, const char *id_token)
{
    char url[SIGNIN_URL_MAX];
    signin_after_sign_out(s, id_token, url, sizeof(url));
    json_t *o = json_pack("{s:s}", "location", url);
    char *body = util_json_text(o, JSON_COMPACT, false, NULL);
    json_decref(o);
    char cookie[256];
    signin_set_cookie(s, s->session_cookie, NULL, 0, cookie, sizeof(cookie));
    if (body)
        signin_reply(fd, 200, cookie, "application/json", body, strlen(body));
    else
        signin_reply_status(fd, 503, "out of memory");
    if (body)
        OPENSSL_cleanse(body, strlen(body));
    free(body);
    OPENSSL_cleanse(url, sizeof(url));
    return body ? 200 : 503;
}

/* POST /oauth2/sign_out: from podterm's own page only (Origin and the CSRF
 * token), as any cookie-authenticated change. A page whose session already
 * ended (idle, too old, signed out in another tab) still signs out of the
 * provider: otherwise the button would do nothing, and the provider would
 * sign the user straight back in. With no session there is nothing a
 * forged request could end here, so its own Origin is enough. */
static int signin_sign_out(struct signin *s, int fd, const struct http_request *rq)
{
    struct signin_session *ss = signin_current(s, rq);
    if (!ss && signin_origin_same(s, rq))
        return signin_sign_out_reply(s, fd, NULL);
    if (!ss) {
        signin_reply_status(fd, 401, SIGNIN_NOT_SIGNED_IN);
        return 401;
    }
    const struct http_span *t = &rq->h[HTTP_H_CSRF_TOKEN];
    if (!signin_csrf_ok(s, rq, t->p, t->n, ss->csrf)) {
        signin_reply_status(fd, 403,
                            "cross-site request refused: signing out takes podterm's own page "
                            "(a same-origin Origin and the X-CSRF-Token header)");
        return 403;
    }
    s->signed_out[s->signed_out_next] = ss->id;
    s->signed_out_next = (s->signed_out_next + 1) % SIGNIN_SIGNED_OUT_MAX;
    s->generation++; /* --terminate-on-revoke: its live sessions end */
    int code = signin_sign_out_reply(s, fd, ss->id_token);
    signin_session_remove(&s->table, ss);
    return code;
}

static bool signin_route_is(const struct http_request *rq, const char *name)
{
    size_t pl = strlen(SIGNIN_PATH_PREFIX), nl = strlen(name);
    return rq->path.n == pl + nl && memcmp(rq->path.p + pl, name, nl) == 0;
}

void signin_serve(struct signin *s, int fd, const struct http_request *rq, signin_done_fn done,
                  void *user)
{
    struct http_query q;
    if (http_query_decode(rq->query.p, rq->query.n, &q) < 0) {
        signin_reply_status(fd, 503, "out of memory");
        done(user, 503);
        return;
    }
    bool get = http_span_is(&rq->method, "GET"), post = http_span_is(&rq->method, "POST");
    int code;
    if (signin_route_is(rq, "callback") && get) {
        signin_callback(s, fd, rq, &q, done, user); /* answers and calls done */
        http_query_free(&q);
        return;
    }
    if (signin_route_is(rq, "sign_in") && get)
        code = signin_begin(s, fd, rq, &q);
    else if (signin_route_is(rq, "userinfo") && get)
        code = signin_userinfo(s, fd, rq);
    else if (signin_route_is(rq, "sign_out") && post)
        code = signin_sign_out(s, fd, rq);
    else if (signin_route_is(rq, "sign_in") || signin_route_is(rq, "callback") ||
             signin_route_is(rq, "userinfo") || signin_route_is(rq, "sign_out")) {
        signin_reply_status(fd, code = 405, "method not allowed");
    } else {
        signin_reply_status(fd, code = 404, "the server could not find the requested resource");
    }
    http_query_free(&q);
    done(user, code);
}
