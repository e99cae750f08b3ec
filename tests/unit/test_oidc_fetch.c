/* test_oidc_fetch.c - the issuer's keys fetched on a real loop (oidc.c,
 * oidc_fetch.c) from a scripted HTTPS provider on 127.0.0.1: every way a
 * discovery document or a JWKS is refused says why in oidc_ready()'s reason
 * (HTTP status, not JSON, wrong issuer, no jwks_uri, no usable key, a body
 * too large, a response cut short, a closed port, an untrusted
 * certificate); a failure is retried; a provider without sign-in endpoints
 * still serves bearer tokens; ID tokens of sign-in are checked with their
 * nonce; the token request's POST carries its form and Authorization and
 * refuses a header that would split the request. Exact strings. */
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

#define DISCOVERY "/.well-known/openid-configuration"
#define WAIT_MS 8000

static struct fake_idp idp;
static char iss[64], ca_path[FX_PATH_MAX], other_ca_path[FX_PATH_MAX];
static EVP_PKEY *rsa;
static char jwks_ok[2 * FX_JWK_MAX];
static uv_loop_t loop;

static int group_setup(void **state)
{
    signal(SIGPIPE, SIG_IGN); /* the provider writes to clients that left */
    fx_dir_make();
    snprintf(ca_path, sizeof(ca_path), "%s/ca.pem", fx_dir);
    snprintf(other_ca_path, sizeof(other_ca_path), "%s/other.pem", fx_dir);
    EVP_PKEY *k = EVP_EC_gen("P-256");
    X509 *x = fake_cert(k);
    fake_cert_write(x, other_ca_path); /* a CA that did not sign the provider's */
    X509_free(x);
    EVP_PKEY_free(k);
    fake_idp_start(&idp, ca_path);
    snprintf(iss, sizeof(iss), "https://127.0.0.1:%d", idp.port);
    rsa = EVP_RSA_gen(2048);
    char jwk[FX_JWK_MAX];
    fx_jwk(rsa, "r1", "", jwk);
    snprintf(jwks_ok, sizeof(jwks_ok), "{\"keys\":[%s]}", jwk);
    uv_loop_init(&loop);
    return 0;
}

static int group_teardown(void **state)
{
    fake_idp_stop(&idp);
    uv_loop_close(&loop);
    EVP_PKEY_free(rsa);
    fx_dir_remove();
    return 0;
}

/* The discovery document of the provider, with extra members. */
static void discovery(const char *issuer, const char *extra)
{
    char doc[2048];
    snprintf(doc, sizeof(doc), "{\"issuer\":\"%s\",\"jwks_uri\":\"%s/jwks\"%s}", issuer, iss,
             extra);
    fake_idp_route(&idp, DISCOVERY, 200, doc);
}

static void discovery_full(void)
{
    char extra[1024];
    snprintf(extra, sizeof(extra),
             ",\"authorization_endpoint\":\"%s/auth\",\"token_endpoint\":\"%s/token\"", iss, iss);
    discovery(iss, extra);
}

static struct oidc *start(const char *ca)
{
    struct oidc_opts o = {.issuer_url = iss, .client_id = "podterm", .ca_file = ca};
    char err[OIDC_ERR_MAX] = "";
    struct oidc *oidc = oidc_new(&loop, &o, err, sizeof(err));
    if (!oidc)
        fail_msg("%s", err);
    return oidc;
}

/* Runs the loop until the keys are in or the reason is no longer the
 * initial one (or a different one than before); reason gets it. */
static bool run_until_outcome(struct oidc *o, const char *unlike, char *reason, size_t cap)
{
    uint64_t end = fx_now_ms() + WAIT_MS;
    char fetching[OIDC_REASON_MAX];
    snprintf(fetching, sizeof(fetching), "fetching the keys of %s", iss);
    while (fx_now_ms() < end) {
        uv_run(&loop, UV_RUN_NOWAIT);
        reason[0] = '\0';
        if (oidc_ready(o, reason, cap))
            return true;
        if (strcmp(reason, fetching) != 0 && (!unlike || strcmp(reason, unlike) != 0))
            return false;
        usleep(1000);
    }
    fail_msg("no outcome in %d ms (reason: %s)", WAIT_MS, reason);
    return false;
}

static void stop(struct oidc *o)
{
    fx_oidc_stop(&loop, o);
    assert_int_equal(uv_loop_alive(&loop), 0); /* every fetch's handles are closed */
}

/* One refusal: the provider is scripted, podterm's reason is exact. */
static void expect_reason(const char *want)
{
    struct oidc *o = start(ca_path);
    char reason[OIDC_REASON_MAX];
    assert_false(run_until_outcome(o, NULL, reason, sizeof(reason)));
    assert_string_equal(reason, want);
    reason[0] = 'x';
    assert_false(oidc_ready(o, reason, 0)); /* no room: nothing written */
    assert_int_equal(reason[0], 'x');
    assert_null(oidc_endpoints_get(o));
    struct auth_identity id;
    assert_int_equal(oidc_token_check(o, "a.b.c", time(NULL), &id), AUTH_ERR_MALFORMED);
    stop(o);
}

static void test_discovery_refusals(void **state)
{
    char want[OIDC_REASON_MAX];
    fake_idp_route(&idp, DISCOVERY, 404, "{}");
    snprintf(want, sizeof(want), "GET %s" DISCOVERY ": HTTP status 404", iss);
    expect_reason(want);

    fake_idp_route(&idp, DISCOVERY, 200, "<html>not json</html>");
    expect_reason("the discovery document is not a JSON object");

    discovery("https://127.0.0.1:1", "");
    snprintf(want, sizeof(want), "the discovery document's issuer is not %s", iss);
    expect_reason(want);

    /* A NUL inside the issuer string: refused with the document (jansson
     * takes no \u0000 without JSON_ALLOW_NUL), even if the bytes before it
     * are the issuer. */
    char doc[512];
    snprintf(doc, sizeof(doc), "{\"issuer\":\"%s\\u0000x\",\"jwks_uri\":\"%s/jwks\"}", iss, iss);
    fake_idp_route(&idp, DISCOVERY, 200, doc);
    expect_reason("the discovery document is not a JSON object");

    snprintf(doc, sizeof(doc), "{\"issuer\":\"%s\"}", iss);
    fake_idp_route(&idp, DISCOVERY, 200, doc);
    expect_reason("the discovery document's jwks_uri is not an https:// URL");

    snprintf(doc, sizeof(doc), "{\"issuer\":\"%s\",\"jwks_uri\":\"http://127.0.0.1/jwks\"}", iss);
    fake_idp_route(&idp, DISCOVERY, 200, doc);
    expect_reason("the discovery document's jwks_uri is not an https:// URL");

    /* Framing: a response cut short, a head that is not HTTP, nothing. */
    const char *cut = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"issuer\"";
    fake_idp_route_raw(&idp, DISCOVERY, cut, strlen(cut));
    snprintf(want, sizeof(want), "GET %s" DISCOVERY ": response body cut short or badly framed",
             iss);
    expect_reason(want);
    const char *garbage = "SMTP ready\r\n\r\n";
    fake_idp_route_raw(&idp, DISCOVERY, garbage, strlen(garbage));
    snprintf(want, sizeof(want), "GET %s" DISCOVERY ": malformed HTTP response head", iss);
    expect_reason(want);
    fake_idp_route_raw(&idp, DISCOVERY, NULL, 0);
    expect_reason(want);

    /* The connection reset in the middle of the body. */
    const char *half = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"issuer\"";
    fake_idp_route_reset(&idp, DISCOVERY, half, strlen(half));
    {
        struct oidc *o = start(ca_path);
        char reason[OIDC_REASON_MAX];
        assert_false(run_until_outcome(o, NULL, reason, sizeof(reason)));
        /* "TLS read: Connection reset by peer" where the read sees it. */
        snprintf(want, sizeof(want), "GET %s" DISCOVERY ": ", iss);
        assert_memory_equal(reason, want, strlen(want));
        const char *tail = "Connection reset by peer";
        assert_true(strlen(reason) > strlen(tail));
        assert_string_equal(reason + strlen(reason) - strlen(tail), tail);
        stop(o);
    }

    /* A declared body larger than a document may be. */
    char big[128];
    snprintf(big, sizeof(big), "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n{", OIDC_DOC_MAX + 1);
    fake_idp_route_raw(&idp, DISCOVERY, big, strlen(big));
    snprintf(want, sizeof(want), "GET %s" DISCOVERY ": response body too large", iss);
    expect_reason(want);
}

/* Chunks of one byte: the framing outgrows the response buffer long
 * before the decoded document reaches its bound. */
static void test_response_too_large(void **state)
{
    const char *head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    size_t hl = strlen(head), n = OIDC_RESPONSE_MAX + 4096, len = hl;
    char *r = malloc(hl + n + 8);
    memcpy(r, head, hl);
    while (len + 6 <= hl + n) {
        memcpy(r + len, "1\r\n \r\n", 6);
        len += 6;
    }
    fake_idp_route_raw(&idp, DISCOVERY, r, len);
    free(r);
    char want[OIDC_REASON_MAX];
    snprintf(want, sizeof(want), "GET %s" DISCOVERY ": response too large", iss);
    expect_reason(want);
}

static void test_jwks_refusals(void **state)
{
    char want[OIDC_REASON_MAX];
    discovery_full();
    fake_idp_route(&idp, "/jwks", 500, "oops");
    snprintf(want, sizeof(want), "GET %s/jwks: HTTP status 500", iss);
    expect_reason(want);

    fake_idp_route(&idp, "/jwks", 200, "{\"keys\":[{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"}]}");
    snprintf(want, sizeof(want),
             "%s/jwks: the JWKS holds no usable signing key (RSA of 2048+ bits, or EC "
             "P-256/P-384/P-521)",
             iss);
    expect_reason(want);

    fake_idp_route(&idp, "/jwks", 200, "[]");
    snprintf(want, sizeof(want), "%s/jwks: the JWKS is not a JSON object", iss);
    expect_reason(want);
}

static void test_connection_refusals(void **state)
{
    char want[OIDC_REASON_MAX], reason[OIDC_REASON_MAX];
    discovery_full();
    fake_idp_route(&idp, "/jwks", 200, jwks_ok);

    /* The provider's certificate is not signed by the CA we were given. */
    struct oidc *o = start(other_ca_path);
    assert_false(run_until_outcome(o, NULL, reason, sizeof(reason)));
    snprintf(want, sizeof(want),
             "GET %s" DISCOVERY
             ": TLS: the server's certificate was not accepted: self-signed certificate",
             iss);
    assert_string_equal(reason, want);
    stop(o);

    /* A closed port. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof(a);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
    char closed_iss[64];
    snprintf(closed_iss, sizeof(closed_iss), "https://127.0.0.1:%d/", ntohs(a.sin_port));
    struct oidc_opts opts = {.issuer_url = closed_iss, .client_id = "podterm", .ca_file = ca_path};
    char err[OIDC_ERR_MAX];
    o = oidc_new(&loop, &opts, err, sizeof(err));
    assert_non_null(o);
    uint64_t end = fx_now_ms() + WAIT_MS;
    char fetching[OIDC_REASON_MAX];
    snprintf(fetching, sizeof(fetching), "fetching the keys of %s", closed_iss);
    do {
        uv_run(&loop, UV_RUN_NOWAIT);
        assert_false(oidc_ready(o, reason, sizeof(reason)));
        usleep(1000);
    } while (strcmp(reason, fetching) == 0 && fx_now_ms() < end);
    close(fd);
    /* The issuer's trailing slash is not doubled in the discovery URL. */
    snprintf(want, sizeof(want), "GET https://127.0.0.1:%d" DISCOVERY ": ", ntohs(a.sin_port));
    assert_memory_equal(reason, want, strlen(want));
    assert_non_null(strstr(reason, "refused"));
    stop(o);
}

/* Runs a fresh oidc of issuer until it gives up its first fetch; the
 * reason must start with want_prefix. */
static void expect_reason_prefix(const char *issuer, const char *want_prefix)
{
    struct oidc_opts opts = {.issuer_url = issuer, .client_id = "podterm", .ca_file = ca_path};
    char err[OIDC_ERR_MAX], reason[OIDC_REASON_MAX], fetching[OIDC_REASON_MAX];
    struct oidc *o = oidc_new(&loop, &opts, err, sizeof(err));
    assert_non_null(o);
    snprintf(fetching, sizeof(fetching), "fetching the keys of %s", issuer);
    uint64_t end = fx_now_ms() + WAIT_MS;
    do {
        uv_run(&loop, UV_RUN_NOWAIT);
        assert_false(oidc_ready(o, reason, sizeof(reason)));
        usleep(1000);
    } while (strcmp(reason, fetching) == 0 && fx_now_ms() < end);
    if (strncmp(reason, want_prefix, strlen(want_prefix)) != 0)
        fail_msg("reason \"%s\" does not start with \"%s\"", reason, want_prefix);
    assert_true(strlen(reason) > strlen(want_prefix));
    stop(o);
}

/* An IPv6 issuer (the Host header in brackets; no server there, or no
 * IPv6 at all) and an issuer by name: the provider's certificate names
 * 127.0.0.1 only, so a name is refused by the host check (or, where
 * localhost is ::1, by the closed port). Either way a reason, no keys. */
static void test_hosts(void **state)
{
    discovery_full();
    char issuer[96], want[OIDC_REASON_MAX];
    snprintf(issuer, sizeof(issuer), "https://[::1]:%d", idp.port);
    snprintf(want, sizeof(want), "GET %s" DISCOVERY ": ", issuer);
    expect_reason_prefix(issuer, want);
    snprintf(issuer, sizeof(issuer), "https://localhost:%d", idp.port);
    snprintf(want, sizeof(want), "GET %s" DISCOVERY ": ", issuer);
    expect_reason_prefix(issuer, want);
}

/* A failed fetch is retried (after OIDC_RETRY_MIN_MS), and the keys come
 * in then; a token naming a key we do not hold is refused. */
static void test_retry_then_keys(void **state)
{
    char want[OIDC_REASON_MAX], reason[OIDC_REASON_MAX];
    fake_idp_route(&idp, DISCOVERY, 503, "busy");
    fake_idp_route(&idp, "/jwks", 200, jwks_ok);
    struct oidc *o = start(ca_path);
    assert_false(run_until_outcome(o, NULL, reason, sizeof(reason)));
    snprintf(want, sizeof(want), "GET %s" DISCOVERY ": HTTP status 503", iss);
    assert_string_equal(reason, want);
    /* A provider without sign-in's endpoints still serves bearer tokens. */
    discovery(iss, "");
    assert_true(run_until_outcome(o, want, reason, sizeof(reason)));
    assert_null(oidc_endpoints_get(o));
    char form[] = "grant_type=x";
    assert_null(oidc_token_request(o, form, NULL, NULL, NULL));

    char payload[512], token[FX_TOKEN_MAX];
    time_t now = time(NULL);
    snprintf(payload, sizeof(payload),
             "{\"iss\":\"%s\",\"aud\":\"podterm\",\"sub\":\"alice\",\"exp\":%lld}", iss,
             (long long)now + 300);
    fx_sign(rsa, "RS256", "{\"alg\":\"RS256\",\"kid\":\"r1\"}", payload, token);
    struct auth_identity id;
    assert_int_equal(oidc_token_check(o, token, now, &id), AUTH_OK);
    char user[AUTH_NAME_MAX];
    snprintf(user, sizeof(user), "%s#alice", iss);
    assert_string_equal(id.user, user);
    fx_sign(rsa, "RS256", "{\"alg\":\"RS256\",\"kid\":\"r9\"}", payload, token);
    assert_int_equal(oidc_token_check(o, token, now, &id), AUTH_ERR_INVALID);
    stop(o);
}

struct answer {
    bool done;
    char body[4096];
    char err[1024];
    bool had_body;
};

static void on_answer(void *user, const char *body, size_t len, const char *err)
{
    struct answer *a = user;
    a->done = true;
    a->had_body = body != NULL;
    if (body)
        snprintf(a->body, sizeof(a->body), "%.*s", (int)len, body);
    if (err)
        snprintf(a->err, sizeof(a->err), "%s", err);
}

static void wait_answer(struct answer *a)
{
    uint64_t end = fx_now_ms() + WAIT_MS;
    while (!a->done && fx_now_ms() < end) {
        uv_run(&loop, UV_RUN_NOWAIT);
        usleep(1000);
    }
    assert_true(a->done);
}

/* Sign-in's pieces: endpoints, the token request, ID tokens with nonces. */
static void test_signin_pieces(void **state)
{
    char reason[OIDC_REASON_MAX], want[OIDC_REASON_MAX];
    char extra[1024];
    snprintf(extra, sizeof(extra),
             ",\"authorization_endpoint\":\"%s/auth?x=1\",\"token_endpoint\":\"%s/token\","
             "\"end_session_endpoint\":\"%s/logout\"",
             iss, iss, iss);
    discovery(iss, extra);
    fake_idp_route(&idp, "/jwks", 200, jwks_ok);
    const char *chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                          "5\r\n{\"a\":\r\n3\r\n 1}\r\n0\r\n\r\n";
    fake_idp_route_raw(&idp, "/token", chunked, strlen(chunked));
    struct oidc *o = start(ca_path);
    assert_true(run_until_outcome(o, NULL, reason, sizeof(reason)));
    const struct oidc_endpoints *ep = oidc_endpoints_get(o);
    assert_non_null(ep);
    snprintf(want, sizeof(want), "%s/auth?x=1", iss);
    assert_string_equal(ep->authorization, want);
    snprintf(want, sizeof(want), "%s/logout", iss);
    assert_string_equal(ep->end_session, want);
    assert_string_equal(oidc_client_id(o), "podterm");

    /* The POST: its form, its Authorization, a chunked answer decoded. */
    struct answer a = {0};
    assert_non_null(oidc_token_request(o, "code=abc&x=y", "Basic cG9kdGVybTpz", on_answer, &a));
    wait_answer(&a);
    assert_true(a.had_body);
    assert_string_equal(a.body, "{\"a\": 1}");
    char req[FAKE_REQ_MAX];
    fake_idp_last(&idp, req, sizeof(req));
    snprintf(want, sizeof(want),
             "POST /token HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAccept: application/json\r\n"
             "User-Agent: podterm\r\nConnection: close\r\n"
             "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 12\r\n"
             "Authorization: Basic cG9kdGVybTpz\r\n\r\ncode=abc&x=y",
             idp.port);
    assert_string_equal(req, want);

    /* Refused before anything is sent: a header that would split the
     * request, an Authorization or a form over their bounds. */
    assert_null(oidc_token_request(o, "code=1", "Basic x\r\nX-Evil: 1", on_answer, &a));
    char *huge = malloc(OIDC_FORM_MAX + 2);
    memset(huge, 'a', OIDC_FORM_MAX + 1);
    huge[OIDC_FORM_MAX + 1] = '\0';
    assert_null(oidc_token_request(o, "code=1", huge, on_answer, &a));
    assert_null(oidc_token_request(o, huge, NULL, on_answer, &a));
    free(huge);

    /* A token endpoint's error: the status, no body. */
    fake_idp_route(&idp, "/token", 400, "{\"error\":\"invalid_grant\"}");
    memset(&a, 0, sizeof(a));
    assert_non_null(oidc_token_request(o, "code=abc", NULL, on_answer, &a));
    wait_answer(&a);
    assert_false(a.had_body);
    snprintf(want, sizeof(want), "POST %s/token: HTTP status 400", iss);
    assert_string_equal(a.err, want);

    /* A request cancelled: no callback, nothing left behind. */
    memset(&a, 0, sizeof(a));
    struct oidc_fetch *f = oidc_token_request(o, "code=abc", NULL, on_answer, &a);
    assert_non_null(f);
    oidc_fetch_cancel(f);
    oidc_fetch_cancel(NULL);
    for (int i = 0; i < 50; i++) {
        uv_run(&loop, UV_RUN_NOWAIT);
        usleep(1000);
    }
    assert_false(a.done);

    /* ID tokens: the nonce must be the one sent; expiry and keys as for
     * bearer tokens, with the reason for a person. */
    char payload[512], token[FX_TOKEN_MAX], why[256];
    time_t now = time(NULL);
    struct auth_identity id;
    snprintf(payload, sizeof(payload),
             "{\"iss\":\"%s\",\"aud\":\"podterm\",\"sub\":\"bob\",\"exp\":%lld,\"nbf\":%lld,"
             "\"nonce\":\"n1\"}",
             iss, (long long)now + 300, (long long)now);
    fx_sign(rsa, "RS256", "{\"alg\":\"RS256\",\"kid\":\"r1\"}", payload, token);
    assert_int_equal(oidc_id_token_check(o, token, "n1", now, &id, why, sizeof(why)), AUTH_OK);
    assert_string_equal(why, "ok");
    assert_int_equal(oidc_id_token_check(o, token, "n2", now, &id, why, sizeof(why)),
                     AUTH_ERR_INVALID);
    assert_string_equal(why, "its nonce is not the one this sign-in sent");
    assert_string_equal(id.user, "");
    assert_int_equal(oidc_id_token_check(o, token, "n2", now, &id, NULL, 0), AUTH_ERR_INVALID);
    assert_int_equal(oidc_id_token_check(o, token, "n1", now + 3600, &id, why, sizeof(why)),
                     AUTH_ERR_EXPIRED);
    assert_string_equal(why, oidc_verify_strerror(OIDC_ERR_EXPIRED));
    assert_int_equal(oidc_id_token_check(o, token, "n1", now - 3600, &id, why, sizeof(why)),
                     AUTH_ERR_EXPIRED);
    assert_string_equal(why, "not valid yet");
    fx_sign(rsa, "RS256", "{\"alg\":\"RS256\",\"kid\":\"r7\"}", payload, token);
    assert_int_equal(oidc_id_token_check(o, token, "n1", now, &id, why, sizeof(why)),
                     AUTH_ERR_INVALID);
    assert_string_equal(why, oidc_verify_strerror(OIDC_ERR_UNKNOWN_KID));
    /* A nonce mismatch with no room for the reason: still refused. */
    fx_sign(rsa, "RS256", "{\"alg\":\"RS256\",\"kid\":\"r1\"}", payload, token);
    why[0] = 'x';
    assert_int_equal(oidc_id_token_check(o, token, "n2", now, &id, why, 0), AUTH_ERR_INVALID);
    assert_int_equal(why[0], 'x');

    /* Closing: no token request starts any more, a second close is a no-op,
     * and close_cb runs once. */
    bool done = false;
    oidc_close(o, fx_flag_set, &done);
    oidc_close(o, NULL, NULL);
    assert_null(oidc_token_request(o, "code=abc", NULL, on_answer, &a));
    uint64_t end = fx_now_ms() + WAIT_MS;
    while (!done && fx_now_ms() < end) {
        uv_run(&loop, UV_RUN_NOWAIT);
        usleep(1000);
    }
    assert_true(done);
    oidc_free(o);
    while (uv_run(&loop, UV_RUN_NOWAIT) && fx_now_ms() < end)
        usleep(1000);
    assert_int_equal(uv_loop_alive(&loop), 0);
}

/* Flags refused by oidc_new, before any fetch. */
static void test_new_refusals(void **state)
{
    char err[OIDC_ERR_MAX];
    struct oidc_opts o = {.issuer_url = iss, .client_id = "podterm", .ca_file = "/nonexistent"};
    assert_null(oidc_new(&loop, &o, err, sizeof(err)));
    assert_string_equal(err, "--oidc-ca-file /nonexistent: no PEM certificate could be read");
    o.ca_file = ca_path;
    o.client_id = "";
    assert_null(oidc_new(&loop, &o, err, sizeof(err)));
    assert_int_equal(uv_loop_alive(&loop), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_refusals),        cmocka_unit_test(test_discovery_refusals),
        cmocka_unit_test(test_response_too_large),  cmocka_unit_test(test_jwks_refusals),
        cmocka_unit_test(test_connection_refusals), cmocka_unit_test(test_retry_then_keys),
        cmocka_unit_test(test_signin_pieces),       cmocka_unit_test(test_hosts),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
