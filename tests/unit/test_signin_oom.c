/* test_signin_oom.c - browser sign-in out of memory (unit_oom.h): signin_new
 * (the object, the client secret's read, the session table) and a whole
 * sign-in (the redirect, the callback's exchange at the scripted provider's
 * token endpoint, the session it makes, userinfo), swept over every
 * allocation podterm makes. Each refusal is an exact answer (signin_new:
 * out of memory or the secret file unread; requests: 503 out of memory, 503
 * cannot reach the token endpoint, 502 from the token endpoint, 403 for an ID
 * token that could not be checked), never a crash, a leak or a hang. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fixtures/oidc_fixtures.h"
#include "fixtures/oidc_loop.h"
#include "fixtures/oidc_provider_fake.h"
#include "signin/signin_internal.h"
#include "unit_oom.h"

#define DISCOVERY "/.well-known/openid-configuration"
#define RESP_MAX 16384

static struct fake_idp idp;
static char iss[64], ca_path[FX_PATH_MAX], secret_path[FX_PATH_MAX];
static EVP_PKEY *rsa;
static uv_loop_t loop;
static struct oidc *oidc;

static int group_setup(void **state)
{
    signal(SIGPIPE, SIG_IGN);
    fx_dir_make();
    snprintf(ca_path, sizeof(ca_path), "%s/ca.pem", fx_dir);
    snprintf(secret_path, sizeof(secret_path), "%s", fx_text_file("secret", "s3cret\n"));
    fake_idp_start(&idp, ca_path);
    snprintf(iss, sizeof(iss), "https://127.0.0.1:%d", idp.port);
    rsa = EVP_RSA_gen(2048);
    char jwk[FX_JWK_MAX], jwks[2 * FX_JWK_MAX], doc[2048];
    fx_jwk(rsa, "r1", "", jwk);
    snprintf(jwks, sizeof(jwks), "{\"keys\":[%s]}", jwk);
    fake_idp_route(&idp, "/jwks", 200, jwks);
    snprintf(doc, sizeof(doc),
             "{\"issuer\":\"%s\",\"jwks_uri\":\"%s/jwks\",\"authorization_endpoint\":\"%s/auth\","
             "\"token_endpoint\":\"%s/token\"}",
             iss, iss, iss, iss);
    fake_idp_route(&idp, DISCOVERY, 200, doc);
    uv_loop_init(&loop);
    struct oidc_opts o = {
        .issuer_url = iss, .client_id = "podterm", .ca_file = ca_path, .username_prefix = "-"};
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

static void new_step(void *ctx)
{
    long *refusals = ctx;
    struct signin_opts so = {.redirect_url = "http://podterm.test/oauth2/callback",
                             .client_secret_file = secret_path};
    char err[SIGNIN_ERR_MAX] = "";
    struct signin *s = signin_new(&loop, oidc, &so, err, sizeof(err));
    if (!s) {
        assert_true(unit_oom_hit());
        char unread[SIGNIN_ERR_MAX];
        snprintf(unread, sizeof(unread), "--oidc-client-secret-file %s: cannot read the file",
                 secret_path);
        if (strcmp(err, "out of memory") != 0 && strcmp(err, unread) != 0)
            fail_msg("unexpected error: %s", err);
        (*refusals)++;
        return;
    }
    assert_false(unit_oom_hit());
    signin_free(s);
}

static void test_new_out_of_memory(void **state)
{
    long refusals = 0;
    long n = unit_oom_sweep(new_step, &refusals);
    assert_true(n >= 3); /* the object, the secret's buffer, the table */
    assert_int_equal(refusals, n);
}

/* ---- a whole sign-in ---- */

struct answer {
    bool done;
    int code;
    char resp[RESP_MAX];
};

static void on_done(void *user, int code)
{
    struct answer *a = user;
    a->done = true;
    a->code = code;
}

static void serve(struct signin *s, const char *head, struct answer *a)
{
    memset(a, 0, sizeof(*a));
    char buf[4096];
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
}

/* The answer is the failure named, and an allocation was refused. */
static void expect_refusal(const struct answer *a, int code, const char *message)
{
    assert_true(unit_oom_hit());
    assert_int_equal(a->code, code);
    char want[SIGNIN_ERR_MAX + 16];
    snprintf(want, sizeof(want), "\"message\":\"%s\"", message);
    if (!strstr(a->resp, want))
        fail_msg("%d without %s: %s", a->code, want, a->resp);
}

static void param(const char *text, const char *key, char *out, size_t cap)
{
    const char *p = strstr(text, key);
    assert_non_null(p);
    p += strlen(key);
    size_t n = strcspn(p, "&;\r\n");
    snprintf(out, cap, "%.*s", (int)n, p);
}

struct flow {
    long refusals;
    struct signin *s;
};

static void flow_step(void *ctx)
{
    struct flow *flow = ctx;
    long *refusals = &flow->refusals;
    struct signin *s = flow->s;
    struct answer a;
    serve(s, "GET /oauth2/sign_in?rd=/x&y=1 HTTP/1.1\r\nHost: podterm.test", &a);
    if (a.code != 302) {
        expect_refusal(&a, 503, "out of memory");
        (*refusals)++;
        return;
    }
    char state[64], nonce[64], binding[64], head[1024], tok[FX_TOKEN_MAX], body[FX_TOKEN_MAX + 64];
    param(a.resp, "&state=", state, sizeof(state));
    param(a.resp, "&nonce=", nonce, sizeof(nonce));
    param(a.resp, "podterm-signin=", binding, sizeof(binding));
    char payload[512];
    snprintf(payload, sizeof(payload),
             "{\"iss\":\"%s\",\"aud\":\"podterm\",\"sub\":\"alice\",\"exp\":%lld,\"nonce\":\"%s\"}",
             iss, (long long)time(NULL) + 300, nonce);
    fx_sign(rsa, "RS256", "{\"alg\":\"RS256\",\"kid\":\"r1\"}", payload, tok);
    snprintf(body, sizeof(body), "{\"id_token\":\"%s\"}", tok);
    fake_idp_route(&idp, "/token", 200, body);
    snprintf(head, sizeof(head),
             "GET /oauth2/callback?state=%s&code=c0de HTTP/1.1\r\nHost: podterm.test\r\nCookie: "
             "podterm-signin=%s",
             state, binding);
    serve(s, head, &a);
    if (a.code != 302) {
        char want[SIGNIN_ERR_MAX];
        snprintf(want, sizeof(want),
                 "sign-in failed: the token endpoint: POST %s/token: out of memory", iss);
        if (a.code == 503 && strstr(a.resp, "cannot reach"))
            expect_refusal(&a, 503, "sign-in: cannot reach the token endpoint");
        else if (a.code == 503 && strstr(a.resp, "\"message\":\"out of memory\""))
            expect_refusal(&a, 503, "out of memory");
        else if (a.code == 503)
            expect_refusal(&a, 503, "sign-in failed: out of memory");
        else if (a.code == 502)
            expect_refusal(&a, 502, want);
        else if (strstr(a.resp, "(not a JWT)"))
            expect_refusal(&a, 403,
                           "sign-in failed: the identity provider's ID token was refused "
                           "(not a JWT)");
        else /* the nonce's own read of the payload was refused memory */
            expect_refusal(&a, 403,
                           "sign-in failed: the identity provider's ID token was refused "
                           "(its nonce is not the one this sign-in sent)");
        (*refusals)++;
        return;
    }
    char sess[64];
    param(a.resp, "podterm-session=", sess, sizeof(sess));
    snprintf(head, sizeof(head),
             "GET /oauth2/userinfo HTTP/1.1\r\nHost: podterm.test\r\nCookie: podterm-session=%s",
             sess);
    serve(s, head, &a);
    if (unit_oom_hit()) { /* the answer's text: a 503, never a part of it */
        expect_refusal(&a, 503, "out of memory");
        (*refusals)++;
        return;
    }
    assert_int_equal(a.code, 200);
    assert_non_null(strstr(a.resp, "{\"user\":\"alice\",\"groups\":[],\"csrfToken\":\""));
    /* Sign-out: this provider has no end-session endpoint, so the page
     * goes back to podterm's own. */
    char csrf[64];
    param(a.resp, "\"csrfToken\":\"", csrf, sizeof(csrf));
    csrf[strcspn(csrf, "\"")] = '\0';
    snprintf(head, sizeof(head),
             "POST /oauth2/sign_out HTTP/1.1\r\nHost: podterm.test\r\nOrigin: "
             "http://podterm.test\r\nX-CSRF-Token: %s\r\nCookie: podterm-session=%s",
             csrf, sess);
    serve(s, head, &a);
    if (unit_oom_hit()) { /* signed out all the same; where to go could not be said */
        expect_refusal(&a, 503, "out of memory");
        (*refusals)++;
        return;
    }
    assert_int_equal(a.code, 200);
    assert_non_null(strstr(a.resp, "\r\n\r\n{\"location\":\"/\"}"));
}

static void test_sign_in_out_of_memory(void **state)
{
    struct flow ctx = {0};
    struct signin_opts so = {.redirect_url = "http://podterm.test/oauth2/callback",
                             .client_secret_file = secret_path};
    char err[SIGNIN_ERR_MAX];
    ctx.s = signin_new(&loop, oidc, &so, err, sizeof(err));
    assert_non_null(ctx.s);
    long n = unit_oom_sweep(flow_step, &ctx);
    /* The query, the exchange and its fetch, the token's check, the session. */
    assert_true(n >= 8);
    assert_int_equal(ctx.refusals, n);
    signin_free(ctx.s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_out_of_memory),
        cmocka_unit_test(test_sign_in_out_of_memory),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
