/* test_signin_routes.c - browser sign-in's /oauth2/ answers (signin.c,
 * signin_routes.c, signin_callback.c) on a socket pair, against a
 * scripted provider on 127.0.0.1 for the discovery document, the keys
 * and the token endpoint: the flags refused by signin_new, 404/405, the
 * sign-in redirect (PKCE, state, nonce, login cookie), every callback
 * refusal (provider error, unknown state, another browser, no code, the
 * token endpoint's 4xx and 5xx, no id_token, a wrong nonce), the session
 * it makes, userinfo, sign-out with and without CSRF, and shutdown with an
 * exchange in flight. Exact statuses, messages, headers. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <fcntl.h>
#include <jansson.h>

#include "fixtures/oidc_fixtures.h"
#include "fixtures/oidc_loop.h"
#include "fixtures/oidc_provider_fake.h"
#include "signin/signin_internal.h"

#define DISCOVERY "/.well-known/openid-configuration"
#define RESP_MAX 32768
#define REDIRECT "http://podterm.test/oauth2/callback"

static struct fake_idp idp;
static char iss[64], ca_path[FX_PATH_MAX];
static EVP_PKEY *rsa;
static uv_loop_t loop;
static struct oidc *oidc;

static int group_setup(void **state)
{
    signal(SIGPIPE, SIG_IGN);
    fx_dir_make();
    snprintf(ca_path, sizeof(ca_path), "%s/ca.pem", fx_dir);
    fake_idp_start(&idp, ca_path);
    snprintf(iss, sizeof(iss), "https://127.0.0.1:%d", idp.port);
    rsa = EVP_RSA_gen(2048);
    char jwk[FX_JWK_MAX], jwks[2 * FX_JWK_MAX], doc[2048];
    fx_jwk(rsa, "r1", "", jwk);
    snprintf(jwks, sizeof(jwks), "{\"keys\":[%s]}", jwk);
    fake_idp_route(&idp, "/jwks", 200, jwks);
    snprintf(doc, sizeof(doc),
             "{\"issuer\":\"%s\",\"jwks_uri\":\"%s/jwks\",\"authorization_endpoint\":\"%s/auth?"
             "prompt=login\",\"token_endpoint\":\"%s/token\",\"end_session_endpoint\":\"%s/"
             "logout\"}",
             iss, iss, iss, iss, iss);
    fake_idp_route(&idp, DISCOVERY, 200, doc);
    uv_loop_init(&loop);
    struct oidc_opts o = {.issuer_url = iss,
                          .client_id = "podterm",
                          .ca_file = ca_path,
                          .username_prefix = "-",
                          .groups_claim = "groups"};
    char err[OIDC_ERR_MAX];
    oidc = oidc_new(&loop, &o, err, sizeof(err));
    assert_non_null(oidc);
    fx_oidc_wait_ready(&loop, oidc);
    return 0;
}

static int group_teardown(void **state)
{
    fx_oidc_stop(&loop, oidc);
    uv_loop_close(&loop);
    fake_idp_stop(&idp);
    EVP_PKEY_free(rsa);
    fx_dir_remove();
    return 0;
}

/* ---- one request, one answer ---- */

struct answer {
    bool done;
    int code;
    char resp[RESP_MAX]; /* the whole response */
    char status[256];    /* the Status message, or "" */
    char location[SIGNIN_URL_MAX];
    char cookies[1024]; /* every Set-Cookie value, one a line */
};

static void on_done(void *user, int code)
{
    struct answer *a = user;
    a->done = true;
    a->code = code;
}

static void header_values(const char *resp, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name), len = 0;
    out[0] = '\0';
    const char *end = strstr(resp, "\r\n\r\n");
    for (const char *p = strstr(resp, "\r\n"); p && p < end; p = strstr(p + 2, "\r\n")) {
        if (strncasecmp(p + 2, name, nl) == 0 && p[2 + nl] == ':') {
            const char *v = p + 3 + nl + 1, *e = strstr(v, "\r\n");
            len += (size_t)snprintf(out + len, cap - len, "%.*s\n", (int)(e - v), v);
        }
    }
}

/* head: the request head without the blank line; the answer is read
 * until the server closes its end. */
static void serve(struct signin *s, const char *head, struct answer *a)
{
    memset(a, 0, sizeof(*a));
    static char buf[8192];
    snprintf(buf, sizeof(buf), "%s\r\n\r\n", head);
    struct http_request rq;
    assert_int_equal(http_request_parse(buf, strlen(buf), &rq), 0);
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    signin_serve(s, sv[0], &rq, on_done, a);
    fx_loop_until(&loop, &a->done);
    size_t len = 0;
    ssize_t n;
    while ((n = read(sv[1], a->resp + len, sizeof(a->resp) - 1 - len)) > 0)
        len += (size_t)n;
    close(sv[1]);
    a->resp[len] = '\0';
    int code = 0;
    assert_int_equal(sscanf(a->resp, "HTTP/1.1 %d ", &code), 1);
    assert_int_equal(code, a->code);
    header_values(a->resp, "Location", a->location, sizeof(a->location));
    a->location[strcspn(a->location, "\n")] = '\0';
    header_values(a->resp, "Set-Cookie", a->cookies, sizeof(a->cookies));
    const char *body = strstr(a->resp, "\r\n\r\n") + 4;
    json_t *j = json_loads(body, 0, NULL);
    if (json_is_string(json_object_get(j, "message")) &&
        json_string_value(json_object_get(j, "kind")) &&
        strcmp(json_string_value(json_object_get(j, "kind")), "Status") == 0) {
        snprintf(a->status, sizeof(a->status), "%s",
                 json_string_value(json_object_get(j, "message")));
        assert_int_equal(json_integer_value(json_object_get(j, "code")), code);
    }
    json_decref(j);
}

static void expect_status(struct signin *s, const char *head, int code, const char *message)
{
    struct answer a;
    serve(s, head, &a);
    assert_int_equal(a.code, code);
    assert_string_equal(a.status, message);
}

/* A query parameter of url into out. */
static void url_param(const char *url, const char *key, char *out, size_t cap)
{
    char pat[64];
    snprintf(pat, sizeof(pat), "%s=", key);
    const char *p = url;
    out[0] = '\0';
    while ((p = strstr(p, pat))) {
        if (p[-1] == '?' || p[-1] == '&') {
            size_t n = strcspn(p + strlen(pat), "&");
            snprintf(out, cap, "%.*s", (int)n, p + strlen(pat));
            return;
        }
        p++;
    }
}

static struct signin *new_signin(const char *secret_file)
{
    struct signin_opts so = {.redirect_url = REDIRECT, .client_secret_file = secret_file};
    char err[SIGNIN_ERR_MAX];
    struct signin *s = signin_new(&loop, oidc, &so, err, sizeof(err));
    if (!s)
        fail_msg("%s", err);
    return s;
}

static void expect_new_refused(const struct signin_opts *so, struct oidc *o, const char *want)
{
    char err[SIGNIN_ERR_MAX] = "";
    assert_null(signin_new(&loop, o, so, err, sizeof(err)));
    assert_string_equal(err, want);
}

static void test_flags_refused(void **state)
{
    struct signin_opts so = {.redirect_url = REDIRECT};
    expect_new_refused(&so, NULL, "--oidc-redirect-url needs --oidc-issuer-url");
    so.redirect_url = NULL;
    expect_new_refused(&so, oidc, "--oidc-redirect-url needs --oidc-issuer-url");
    const char *bad[] = {"http://podterm.test", "ftp://podterm.test/oauth2/callback",
                         "http:///oauth2/callback", "http://podterm.test/oauth2/callback?x=1",
                         "http://u@podterm.test/oauth2/callback"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char want[SIGNIN_ERR_MAX];
        snprintf(want, sizeof(want),
                 "--oidc-redirect-url %s: an http(s) URL with a host and a path (and no query, "
                 "fragment or user info), e.g. https://podterm.example.com/oauth2/callback",
                 bad[i]);
        so.redirect_url = bad[i];
        expect_new_refused(&so, oidc, want);
    }
    so.redirect_url = "http://podterm.test/callback";
    expect_new_refused(&so, oidc,
                       "--oidc-redirect-url http://podterm.test/callback: its path must be "
                       "/oauth2/callback");
    so.redirect_url = REDIRECT;
    so.tls = true;
    expect_new_refused(&so, oidc,
                       "--oidc-redirect-url " REDIRECT
                       ": its scheme must be the one podterm serves (https, with --tls-cert-file)");
    so.tls = false;
    so.redirect_url = "https://podterm.test/oauth2/callback";
    expect_new_refused(&so, oidc,
                       "--oidc-redirect-url https://podterm.test/oauth2/callback: its scheme must "
                       "be the one podterm serves (http, without TLS)");
    char long_url[OIDC_ENDPOINT_MAX + 64];
    snprintf(long_url, sizeof(long_url), "http://podterm.test/%0*d/oauth2/callback",
             OIDC_ENDPOINT_MAX, 0);
    so.redirect_url = long_url;
    expect_new_refused(&so, oidc, "--oidc-redirect-url: longer than 1023 bytes");
    so.redirect_url = REDIRECT;
    so.scopes = "email profile";
    expect_new_refused(&so, oidc, "--oidc-scopes must include openid");
    so.scopes = NULL;

    /* The client secret file: readable, one line of visible ASCII. */
    char want[SIGNIN_ERR_MAX];
    const char *spaced = fx_text_file("spaced", "two words\n");
    so.client_secret_file = spaced;
    snprintf(want, sizeof(want),
             "--oidc-client-secret-file %s: one line of visible ASCII characters", spaced);
    expect_new_refused(&so, oidc, want);
    const char *empty = fx_text_file("empty", "\r\n");
    so.client_secret_file = empty;
    snprintf(want, sizeof(want),
             "--oidc-client-secret-file %s: one line of visible ASCII characters", empty);
    expect_new_refused(&so, oidc, want);
    const char *ctl[] = {"\x01secret\n", "secret\x7f"};
    for (size_t i = 0; i < 2; i++) {
        const char *f = fx_text_file(i ? "del" : "ctl", ctl[i]);
        so.client_secret_file = f;
        snprintf(want, sizeof(want),
                 "--oidc-client-secret-file %s: one line of visible ASCII characters", f);
        expect_new_refused(&so, oidc, want);
    }
    const char *nul = fx_file("nul", "ab\0cd\n", 6);
    so.client_secret_file = nul;
    snprintf(want, sizeof(want),
             "--oidc-client-secret-file %s: one line of visible ASCII characters", nul);
    expect_new_refused(&so, oidc, want);
    char missing[FX_PATH_MAX];
    snprintf(missing, sizeof(missing), "%s/missing", fx_dir);
    so.client_secret_file = missing;
    char err[SIGNIN_ERR_MAX] = "";
    assert_null(signin_new(&loop, oidc, &so, err, sizeof(err)));
    assert_memory_equal(err, "--oidc-client-secret-file ", 26);
    assert_non_null(strstr(err, missing));
}

static void test_routes(void **state)
{
    struct signin *s = new_signin(NULL);
    expect_status(s, "GET /oauth2/nope HTTP/1.1\r\nHost: podterm.test", 404,
                  "the server could not find the requested resource");
    expect_status(s, "POST /oauth2/sign_in HTTP/1.1\r\nHost: podterm.test", 405,
                  "method not allowed");
    expect_status(s, "GET /oauth2/sign_out HTTP/1.1\r\nHost: podterm.test", 405,
                  "method not allowed");
    expect_status(s, "PUT /oauth2/callback HTTP/1.1\r\nHost: podterm.test", 405,
                  "method not allowed");
    expect_status(s, "POST /oauth2/userinfo HTTP/1.1\r\nHost: podterm.test", 405,
                  "method not allowed");
    expect_status(s, "GET /oauth2/sign_in?rd=//evil.test HTTP/1.1\r\nHost: podterm.test", 400,
                  "rd must be a path on this server: it starts with a single \"/\" and holds no "
                  "spaces, controls or backslashes");
    expect_status(s, "GET /oauth2/userinfo HTTP/1.1\r\nHost: podterm.test", 401,
                  "not signed in: sign in at /oauth2/sign_in");
    expect_status(s, "POST /oauth2/sign_out HTTP/1.1\r\nHost: podterm.test", 401,
                  "not signed in: sign in at /oauth2/sign_in");
    assert_true(signin_path("/oauth2/x", 9));
    assert_false(signin_path("/oauth", 6));
    signin_close(s);
    signin_close(s);
    signin_free(s);
    signin_free(NULL);
    signin_close(NULL);
}

/* Begins a login: the redirect's state and nonce, the login cookie. */
struct login {
    char state[64], nonce[64], binding[64];
};

static void begin(struct signin *s, const char *cookie, struct login *l)
{
    char head[512];
    struct answer a;
    snprintf(head, sizeof(head),
             "GET /oauth2/sign_in?rd=/pods/web HTTP/1.1\r\nHost: podterm.test%s",
             cookie ? cookie : "");
    serve(s, head, &a);
    assert_int_equal(a.code, 302);
    char want[256];
    /* The provider's own query is kept: the form follows with '&'. */
    snprintf(want, sizeof(want), "%s/auth?prompt=login&response_type=code&client_id=podterm&", iss);
    assert_memory_equal(a.location, want, strlen(want));
    char v[128];
    url_param(a.location, "redirect_uri", v, sizeof(v));
    assert_string_equal(v, "http%3A%2F%2Fpodterm.test%2Foauth2%2Fcallback");
    url_param(a.location, "scope", v, sizeof(v));
    assert_string_equal(v, "openid%20email%20profile");
    url_param(a.location, "code_challenge_method", v, sizeof(v));
    assert_string_equal(v, "S256");
    url_param(a.location, "state", l->state, sizeof(l->state));
    url_param(a.location, "nonce", l->nonce, sizeof(l->nonce));
    assert_int_equal(strlen(l->state), SIGNIN_TOKEN_LEN);
    assert_int_equal(strlen(l->nonce), SIGNIN_TOKEN_LEN);
    assert_int_equal(sscanf(a.cookies,
                            "podterm-signin=%43[A-Za-z0-9_-]; Path=/; HttpOnly; "
                            "SameSite=Lax; Max-Age=600",
                            l->binding),
                     1);
}

static void id_token(const char *nonce, const char *sub, char *out)
{
    char payload[1024];
    time_t now = time(NULL);
    snprintf(payload, sizeof(payload),
             "{\"iss\":\"%s\",\"aud\":\"podterm\",\"sub\":\"%s\",\"exp\":%lld,\"nonce\":\"%s\","
             "\"groups\":[\"devs\"]}",
             iss, sub, (long long)now + 300, nonce);
    fx_sign(rsa, "RS256", "{\"alg\":\"RS256\",\"kid\":\"r1\"}", payload, out);
}

static void token_answer(int status, const char *id_tok)
{
    char body[FX_TOKEN_MAX + 128];
    if (id_tok)
        snprintf(body, sizeof(body), "{\"access_token\":\"a\",\"id_token\":\"%s\"}", id_tok);
    else
        snprintf(body, sizeof(body), "{\"error\":\"invalid_grant\"}");
    fake_idp_route(&idp, "/token", status, body);
}

static void callback(struct signin *s, const struct login *l, const char *query, struct answer *a)
{
    char head[SIGNIN_CODE_MAX + 1024];
    snprintf(head, sizeof(head),
             "GET /oauth2/callback?state=%s%s HTTP/1.1\r\nHost: podterm.test\r\nCookie: "
             "podterm-signin=%s",
             l->state, query, l->binding);
    serve(s, head, a);
}

static void test_callback_refusals(void **state)
{
    struct signin *s = new_signin(NULL);
    struct login l;
    struct answer a;
    char cookie[128];

    begin(s, NULL, &l);
    callback(s, &l, "&error=access_denied", &a);
    assert_int_equal(a.code, 400);
    assert_string_equal(a.status, "the identity provider refused the sign-in (access_denied)");
    /* The login is used up by the error. */
    callback(s, &l, "&code=abc", &a);
    assert_int_equal(a.code, 400);
    assert_string_equal(a.status, "sign-in refused: its state is unknown, expired or was used "
                                  "already: sign in again");

    begin(s, NULL, &l);
    callback(s, &l, "&error=%3Cscript%3E", &a);
    assert_string_equal(a.status, "the identity provider refused the sign-in");

    /* Another browser (no login cookie, or another): 403, the login kept. */
    begin(s, NULL, &l);
    char head[512];
    snprintf(head, sizeof(head), "GET /oauth2/callback?state=%s&code=c HTTP/1.1\r\nHost: x",
             l.state);
    expect_status(s, head, 403,
                  "sign-in refused: this sign-in was begun in another browser (its login cookie "
                  "is missing or different)");
    callback(s, &l, "", &a);
    assert_int_equal(a.code, 400);
    assert_string_equal(a.status, "sign-in refused: the callback has no valid code");
    begin(s, NULL, &l);
    callback(s, &l, "&code=", &a);
    assert_string_equal(a.status, "sign-in refused: the callback has no valid code");
    begin(s, NULL, &l);
    char long_code[SIGNIN_CODE_MAX + 16];
    snprintf(long_code, sizeof(long_code), "&code=%0*d", SIGNIN_CODE_MAX + 1, 0);
    callback(s, &l, long_code, &a);
    assert_int_equal(a.code, 400);
    assert_string_equal(a.status, "sign-in refused: the callback has no valid code");
    /* A login cookie that is no token: a new one is made. */
    struct login l3;
    begin(s, "\r\nCookie: podterm-signin=short", &l3);
    assert_string_not_equal(l3.binding, "short");
    expect_status(s, "GET /oauth2/callback?code=c HTTP/1.1\r\nHost: x", 400,
                  "sign-in refused: its state is unknown, expired or was used already: sign in "
                  "again");

    /* A second sign-in in the same browser keeps its login cookie. */
    begin(s, NULL, &l);
    struct login l2;
    snprintf(cookie, sizeof(cookie), "\r\nCookie: podterm-signin=%s", l.binding);
    begin(s, cookie, &l2);
    assert_string_equal(l2.binding, l.binding);
    assert_string_not_equal(l2.state, l.state);

    /* The token endpoint refuses the code (4xx), fails (5xx), answers
     * without an id_token, or with one for another login. */
    token_answer(400, NULL);
    callback(s, &l2, "&code=abc", &a);
    assert_int_equal(a.code, 403);
    assert_string_equal(a.status, "sign-in failed: the identity provider refused the "
                                  "authorization code (HTTP status 400)");
    char want[512];
    token_answer(500, NULL);
    begin(s, NULL, &l);
    callback(s, &l, "&code=abc", &a);
    assert_int_equal(a.code, 502);
    snprintf(want, sizeof(want),
             "sign-in failed: the token endpoint: POST %s/token: HTTP status 500", iss);
    assert_string_equal(a.status, want);
    token_answer(200, NULL);
    begin(s, NULL, &l);
    callback(s, &l, "&code=abc", &a);
    assert_int_equal(a.code, 403);
    assert_string_equal(a.status, "sign-in failed: the identity provider's ID token was refused "
                                  "(the token response has no id_token)");
    char tok[FX_TOKEN_MAX];
    id_token("not-this-login", "alice", tok);
    token_answer(200, tok);
    begin(s, NULL, &l);
    callback(s, &l, "&code=abc", &a);
    assert_int_equal(a.code, 403);
    assert_string_equal(a.status, "sign-in failed: the identity provider's ID token was refused "
                                  "(its nonce is not the one this sign-in sent)");

    /* At most SIGNIN_EXCHANGES_MAX callbacks wait on the token endpoint;
     * shutting down answers each of them 503, and refuses callbacks. */
    static struct answer waiting[SIGNIN_EXCHANGES_MAX];
    static char heads[SIGNIN_EXCHANGES_MAX][512];
    int fds[SIGNIN_EXCHANGES_MAX];
    for (int i = 0; i < SIGNIN_EXCHANGES_MAX; i++) {
        begin(s, NULL, &l);
        snprintf(heads[i], sizeof(heads[i]),
                 "GET /oauth2/callback?state=%s&code=abc HTTP/1.1\r\nHost: x\r\nCookie: "
                 "podterm-signin=%s\r\n\r\n",
                 l.state, l.binding);
        struct http_request r;
        assert_int_equal(http_request_parse(heads[i], strlen(heads[i]), &r), 0);
        int p[2];
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p), 0);
        memset(&waiting[i], 0, sizeof(waiting[i]));
        signin_serve(s, p[0], &r, on_done, &waiting[i]);
        assert_false(waiting[i].done);
        fds[i] = p[1];
    }
    begin(s, NULL, &l);
    callback(s, &l, "&code=abc", &a);
    assert_int_equal(a.code, 503);
    assert_string_equal(a.status, "sign-in: too many sign-ins at once, try again");
    signin_close(s);
    for (int i = 0; i < SIGNIN_EXCHANGES_MAX; i++) {
        assert_true(waiting[i].done);
        assert_int_equal(waiting[i].code, 503);
        ssize_t n = read(fds[i], a.resp, sizeof(a.resp) - 1);
        assert_true(n > 0);
        a.resp[n] = '\0';
        assert_non_null(strstr(a.resp, "podterm is shutting down: sign in again"));
        close(fds[i]);
    }
    begin(s, NULL, &l);
    callback(s, &l, "&code=abc", &a);
    assert_int_equal(a.code, 503);
    assert_string_equal(a.status, "sign-in: too many sign-ins at once, try again");
    signin_free(s);
    /* The cancelled fetch ends on its own. */
    for (int i = 0; i < 100; i++) {
        uv_run(&loop, UV_RUN_NOWAIT);
        usleep(1000);
    }
}

/* A sign-out from podterm's own page: 200, and the session cookie cleared. */
static void sign_out(struct signin *s, const char *sess, const char *csrf, struct answer *a)
{
    char head[512];
    snprintf(head, sizeof(head),
             "POST /oauth2/sign_out HTTP/1.1\r\nHost: podterm.test\r\nCookie: "
             "podterm-session=%s\r\nOrigin: http://podterm.test\r\nX-CSRF-Token: %s",
             sess, csrf);
    serve(s, head, a);
    assert_int_equal(a->code, 200);
    assert_string_equal(a->cookies,
                        "podterm-session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0\n");
}

static void test_session_and_sign_out(void **state)
{
    const char *secret = fx_text_file("secret", "s3cr=t\r\n");
    struct signin *s = new_signin(secret);
    struct login l;
    struct answer a;
    begin(s, NULL, &l);
    char tok[FX_TOKEN_MAX];
    id_token(l.nonce, "alice", tok);
    token_answer(200, tok);
    callback(s, &l, "&code=the-code", &a);
    assert_int_equal(a.code, 302);
    assert_string_equal(a.location, "/pods/web");
    char sess[64];
    assert_int_equal(sscanf(a.cookies,
                            "podterm-session=%43[A-Za-z0-9_-]; Path=/; HttpOnly; "
                            "SameSite=Lax; Max-Age=43200\n",
                            sess),
                     1);
    assert_non_null(strstr(a.cookies, "\npodterm-signin=; Path=/; HttpOnly; SameSite=Lax; "
                                      "Max-Age=0\n"));
    /* A confidential client: Basic credentials (each part form-encoded),
     * no client_id in the form; the PKCE verifier. */
    char req[FAKE_REQ_MAX];
    fake_idp_last(&idp, req, sizeof(req));
    assert_non_null(strstr(req, "\r\nAuthorization: Basic cG9kdGVybTpzM2NyJTNEdA==\r\n"));
    assert_non_null(strstr(req, "\r\n\r\ngrant_type=authorization_code&code=the-code&"
                                "redirect_uri=http%3A%2F%2Fpodterm.test%2Foauth2%2Fcallback&"
                                "code_verifier="));
    assert_null(strstr(req, "client_id="));

    /* Who is signed in. */
    char head[512];
    snprintf(head, sizeof(head),
             "GET /oauth2/userinfo HTTP/1.1\r\nHost: podterm.test\r\nCookie: podterm-session=%s",
             sess);
    serve(s, head, &a);
    assert_int_equal(a.code, 200);
    json_t *j = json_loads(strstr(a.resp, "\r\n\r\n") + 4, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(j, "user")), "alice");
    assert_string_equal(json_string_value(json_array_get(json_object_get(j, "groups"), 0)), "devs");
    char csrf[64];
    snprintf(csrf, sizeof(csrf), "%s", json_string_value(json_object_get(j, "csrfToken")));
    assert_int_equal(json_integer_value(json_object_get(j, "idleTimeoutSeconds")), 3600);
    json_decref(j);
    struct http_request rq;
    static char buf[1024];
    snprintf(buf, sizeof(buf), "%s\r\n\r\n", head);
    assert_int_equal(http_request_parse(buf, strlen(buf), &rq), 0);
    struct auth_identity id;
    uint64_t sid = 0;
    char c2[SIGNIN_CSRF_MAX + 1];
    assert_int_equal(signin_authenticate(s, &rq, time(NULL), &id, &sid, c2), SIGNIN_AUTH_OK);
    assert_string_equal(c2, csrf);
    auth_identity_clear(&id);
    assert_false(signin_session_signed_out(s, sid));
    unsigned gen = signin_generation(s);
    static char nobuf[] = "GET / HTTP/1.1\r\nHost: podterm.test\r\n\r\n";
    struct http_request norq;
    assert_int_equal(http_request_parse(nobuf, strlen(nobuf), &norq), 0);
    assert_int_equal(signin_authenticate(s, &norq, time(NULL), &id, &sid, c2), SIGNIN_AUTH_NONE);

    /* Sign-out: another origin, no token, a wrong token: 403. */
    const char *bad[] = {"\r\nOrigin: http://evil.test\r\nX-CSRF-Token: %s",
                         "\r\nOrigin: http://podterm.tesT\r\nX-CSRF-Token: x%.0s",
                         "\r\nOrigin: http://podterm.tes\r\nX-CSRF-Token: %s",
                         "\r\nOrigin: http://podterm.tost\r\nX-CSRF-Token: %s",
                         "\r\nOrigin: https://podterm.tes\r\nX-CSRF-Token: %s",
                         "\r\nOrigin: https://podterm.test\r\nX-CSRF-Token: %s",
                         "\r\nOrigin: http://podterm.test%.0s",
                         "\r\nOrigin: http://podterm.test\r\nX-CSRF-Token: x%.0s"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char extra[256];
        snprintf(extra, sizeof(extra), bad[i], csrf);
        snprintf(head, sizeof(head),
                 "POST /oauth2/sign_out HTTP/1.1\r\nHost: podterm.test\r\nCookie: "
                 "podterm-session=%s%s",
                 sess, extra);
        expect_status(s, head, 403,
                      "cross-site request refused: signing out takes podterm's own page (a "
                      "same-origin Origin and the X-CSRF-Token header)");
    }
    sign_out(s, sess, csrf, &a);
    j = json_loads(strstr(a.resp, "\r\n\r\n") + 4, 0, NULL);
    const char *loc = json_string_value(json_object_get(j, "location"));
    char want[256];
    snprintf(want, sizeof(want), "%s/logout?id_token_hint=", iss);
    assert_memory_equal(loc, want, strlen(want));
    assert_non_null(strstr(loc, "&post_logout_redirect_uri=http%3A%2F%2Fpodterm.test%2F&client_id="
                                "podterm"));
    json_decref(j);
    assert_true(signin_session_signed_out(s, sid));
    assert_int_equal(signin_generation(s), gen + 1);
    assert_int_equal(signin_authenticate(s, &rq, time(NULL), &id, &sid, c2), SIGNIN_AUTH_EXPIRED);
    snprintf(head, sizeof(head),
             "GET /oauth2/userinfo HTTP/1.1\r\nHost: podterm.test\r\nCookie: podterm-session=%s",
             sess);
    expect_status(s, head, 401, "not signed in: sign in at /oauth2/sign_in");

    /* A page whose session already ended (here: signed out; idle or too old
     * alike) still signs out of the provider, without an id_token_hint;
     * from another origin or none, there is nothing to sign out of. */
    sign_out(s, sess, csrf, &a);
    snprintf(want, sizeof(want),
             "{\"location\":\"%s/logout?post_logout_redirect_uri=http%%3A%%2F%%2Fpodterm.test%%2F&"
             "client_id=podterm\"}",
             iss);
    assert_string_equal(strstr(a.resp, "\r\n\r\n") + 4, want);
    assert_int_equal(signin_generation(s), gen + 1);
    snprintf(head, sizeof(head),
             "POST /oauth2/sign_out HTTP/1.1\r\nHost: podterm.test\r\nCookie: "
             "podterm-session=%s\r\nOrigin: http://evil.test",
             sess);
    expect_status(s, head, 401, "not signed in: sign in at /oauth2/sign_in");
    signin_free(s);
}

/* A browser that left before its answer: the write fails, the socket is
 * closed all the same, and the route's code is reported. */
static void test_peer_gone(void **state)
{
    struct signin *s = new_signin(NULL);
    const char *heads[] = {"GET /oauth2/sign_in HTTP/1.1\r\nHost: podterm.test\r\n\r\n",
                           "GET /oauth2/nope HTTP/1.1\r\nHost: podterm.test\r\n\r\n"};
    const int codes[] = {302, 404};
    for (size_t i = 0; i < 2; i++) {
        struct http_request rq;
        assert_int_equal(http_request_parse(heads[i], strlen(heads[i]), &rq), 0);
        int sv[2];
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
        close(sv[1]);
        struct answer a = {0};
        signin_serve(s, sv[0], &rq, on_done, &a);
        assert_true(a.done);
        assert_int_equal(a.code, codes[i]);
        assert_int_equal(fcntl(sv[0], F_GETFD), -1); /* closed */
    }
    signin_free(s);
}

/* An ID token near AUTH_TOKEN_MAX leaves no room in the end-session URL
 * for its id_token_hint: sign-out still ends the session, and sends the
 * page to podterm's own "/" rather than a cut URL. */
static void test_sign_out_long_id_token(void **state)
{
    struct signin *s = new_signin(NULL);
    struct login l;
    struct answer a;
    begin(s, NULL, &l);
    static char payload[2 * AUTH_TOKEN_MAX], tok[FX_TOKEN_MAX], pad[AUTH_TOKEN_MAX];
    size_t n = 5600;
    for (;; n += 16) {
        memset(pad, 'p', n);
        pad[n] = '\0';
        snprintf(payload, sizeof(payload),
                 "{\"iss\":\"%s\",\"aud\":\"podterm\",\"sub\":\"eve\",\"exp\":%lld,"
                 "\"nonce\":\"%s\",\"pad\":\"%s\"}",
                 iss, (long long)time(NULL) + 300, l.nonce, pad);
        fx_sign(rsa, "RS256", "{\"alg\":\"RS256\",\"kid\":\"r1\"}", payload, tok);
        if (strlen(tok) > AUTH_TOKEN_MAX - 64)
            break;
    }
    assert_true(strlen(tok) <= AUTH_TOKEN_MAX);
    token_answer(200, tok);
    callback(s, &l, "&code=abc", &a);
    assert_int_equal(a.code, 302);
    char sess[64], head[512];
    assert_int_equal(sscanf(a.cookies, "podterm-session=%43[A-Za-z0-9_-];", sess), 1);
    snprintf(head, sizeof(head),
             "GET /oauth2/userinfo HTTP/1.1\r\nHost: podterm.test\r\nCookie: podterm-session=%s",
             sess);
    serve(s, head, &a);
    assert_int_equal(a.code, 200);
    char csrf[64];
    const char *c = strstr(a.resp, "\"csrfToken\":\"");
    assert_non_null(c);
    snprintf(csrf, sizeof(csrf), "%.*s", SIGNIN_TOKEN_LEN, c + 13);
    snprintf(head, sizeof(head),
             "POST /oauth2/sign_out HTTP/1.1\r\nHost: podterm.test\r\nCookie: "
             "podterm-session=%s\r\nOrigin: http://podterm.test\r\nX-CSRF-Token: %s",
             sess, csrf);
    serve(s, head, &a);
    assert_int_equal(a.code, 200);
    assert_non_null(strstr(a.resp, "\r\n\r\n{\"location\":\"/\"}"));
    signin_free(s);
}

/* The session's lifetimes come from the flags: the cookie's Max-Age and
 * userinfo's idle timeout. A sign-out without a Host to compare the Origin
 * with is refused. */
static void test_lifetimes_and_no_host(void **state)
{
    struct signin_opts so = {.redirect_url = REDIRECT, .idle_timeout_s = 120, .max_age_s = 600};
    char err[SIGNIN_ERR_MAX];
    struct signin *s = signin_new(&loop, oidc, &so, err, sizeof(err));
    assert_non_null(s);
    struct login l;
    struct answer a;
    begin(s, NULL, &l);
    char tok[FX_TOKEN_MAX];
    id_token(l.nonce, "alice", tok);
    token_answer(200, tok);
    callback(s, &l, "&code=abc", &a);
    assert_int_equal(a.code, 302);
    char sess[64], head[512];
    assert_int_equal(sscanf(a.cookies,
                            "podterm-session=%43[A-Za-z0-9_-]; Path=/; HttpOnly; "
                            "SameSite=Lax; Max-Age=600\n",
                            sess),
                     1);
    snprintf(head, sizeof(head),
             "GET /oauth2/userinfo HTTP/1.1\r\nHost: podterm.test\r\nCookie: podterm-session=%s",
             sess);
    serve(s, head, &a);
    assert_non_null(strstr(a.resp, "\"idleTimeoutSeconds\":120}"));
    char csrf[64];
    const char *c = strstr(a.resp, "\"csrfToken\":\"");
    assert_non_null(c);
    snprintf(csrf, sizeof(csrf), "%.*s", SIGNIN_TOKEN_LEN, c + 13);
    snprintf(head, sizeof(head),
             "POST /oauth2/sign_out HTTP/1.0\r\nCookie: podterm-session=%s\r\nOrigin: "
             "http://podterm.test\r\nX-CSRF-Token: %s",
             sess, csrf);
    expect_status(s, head, 403,
                  "cross-site request refused: signing out takes podterm's own page (a "
                  "same-origin Origin and the X-CSRF-Token header)");
    signin_free(s);
}

/* A confidential client whose id and secret, form-encoded, do not fit
 * the Authorization header's bound: the callback is refused with 503
 * rather than sending cut credentials. */
static void test_credentials_too_long(void **state)
{
    char client_id[AUTH_NAME_MAX], secret[SIGNIN_SECRET_MAX + 1];
    memset(client_id, '!', AUTH_NAME_MAX - 1);
    client_id[AUTH_NAME_MAX - 1] = '\0';
    memset(secret, '!', SIGNIN_SECRET_MAX - 1);
    secret[SIGNIN_SECRET_MAX - 1] = '\n';
    secret[SIGNIN_SECRET_MAX] = '\0';
    const char *secret_file = fx_text_file("long-secret", secret);
    struct oidc_opts o = {.issuer_url = iss, .client_id = client_id, .ca_file = ca_path};
    char err[OIDC_ERR_MAX];
    struct oidc *wide = oidc_new(&loop, &o, err, sizeof(err));
    assert_non_null(wide);
    fx_oidc_wait_ready(&loop, wide);
    struct signin_opts so = {.redirect_url = REDIRECT, .client_secret_file = secret_file};
    struct signin *s = signin_new(&loop, wide, &so, err, sizeof(err));
    assert_non_null(s);
    struct answer a;
    serve(s, "GET /oauth2/sign_in HTTP/1.1\r\nHost: podterm.test", &a);
    assert_int_equal(a.code, 302);
    struct login l;
    url_param(a.location, "state", l.state, sizeof(l.state));
    assert_int_equal(sscanf(a.cookies, "podterm-signin=%43[A-Za-z0-9_-];", l.binding), 1);
    int hits = fake_idp_hits(&idp);
    callback(s, &l, "&code=abc", &a);
    assert_int_equal(a.code, 503);
    assert_string_equal(a.status, "sign-in: cannot reach the token endpoint");
    assert_int_equal(fake_idp_hits(&idp), hits); /* nothing was sent */
    signin_free(s);
    bool done = false;
    oidc_close(wide, fx_flag_set, &done);
    fx_loop_until(&loop, &done);
    oidc_free(wide);
}

/* Before the provider's documents are in, sign-in says why. */
static void test_not_ready(void **state)
{
    struct oidc_opts o = {.issuer_url = iss, .client_id = "podterm", .ca_file = ca_path};
    char err[OIDC_ERR_MAX];
    struct oidc *fresh = oidc_new(&loop, &o, err, sizeof(err));
    assert_non_null(fresh);
    struct signin_opts so = {.redirect_url = REDIRECT};
    struct signin *s = signin_new(&loop, fresh, &so, err, sizeof(err));
    assert_non_null(s);
    expect_status(s, "GET /oauth2/sign_in HTTP/1.1\r\nHost: podterm.test", 503,
                  "sign-in is not available yet: podterm has not loaded the identity provider's "
                  "discovery document and keys (see /readyz)");
    signin_free(s);
    bool done = false;
    oidc_close(fresh, fx_flag_set, &done);
    fx_loop_until(&loop, &done);
    oidc_free(fresh);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flags_refused),
        cmocka_unit_test(test_routes),
        cmocka_unit_test(test_not_ready),
        cmocka_unit_test(test_peer_gone),
        cmocka_unit_test(test_sign_out_long_id_token),
        cmocka_unit_test(test_lifetimes_and_no_host),
        cmocka_unit_test(test_credentials_too_long),
        cmocka_unit_test(test_callback_refusals),
        cmocka_unit_test(test_session_and_sign_out),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
