/* test_oidc_oom.c - the OIDC authenticator out of memory: oidc_new, the
 * discovery and JWKS fetches, a token's check and a token request, swept
 * over every allocation podterm makes for them (unit_oom.h), against the
 * scripted provider on 127.0.0.1. A refused allocation is "out of memory"
 * from oidc_new, a fetch that cannot start (or a connection that cannot be
 * set up) with its reason and the keys not loaded, a token refused as
 * malformed, a token request that does not start or reports the failure;
 * never a crash, a leak (LeakSanitizer) or a handle left on the loop. */
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
#include "unit_oom.h"

#define DISCOVERY "/.well-known/openid-configuration"
#define WAIT_MS 8000

static struct fake_idp idp;
static char iss[64], ca_path[FX_PATH_MAX];
static EVP_PKEY *rsa;
static uv_loop_t loop;
static char token[FX_TOKEN_MAX];

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
             "{\"issuer\":\"%s\",\"jwks_uri\":\"%s/jwks\",\"authorization_endpoint\":\"%s/auth\","
             "\"token_endpoint\":\"%s/token\"}",
             iss, iss, iss, iss);
    fake_idp_route(&idp, DISCOVERY, 200, doc);
    fake_idp_route(&idp, "/token", 200, "{\"id_token\":\"x\"}");
    char payload[512];
    snprintf(payload, sizeof(payload),
             "{\"iss\":\"%s\",\"aud\":\"podterm\",\"sub\":\"alice\",\"exp\":%lld}", iss,
             (long long)time(NULL) + 3600);
    fx_sign(rsa, "RS256", "{\"alg\":\"RS256\",\"kid\":\"r1\"}", payload, token);
    uv_loop_init(&loop);
    return 0;
}

static int group_teardown(void **state)
{
    uv_loop_close(&loop);
    fake_idp_stop(&idp);
    EVP_PKEY_free(rsa);
    fx_dir_remove();
    return 0;
}

static void stop(struct oidc *o)
{
    fx_oidc_stop(&loop, o);
    assert_int_equal(uv_loop_alive(&loop), 0); /* every fetch's handles are closed */
}

struct answer {
    bool done, had_body;
    char err[1024];
};

static void on_answer(void *user, const char *body, size_t len, const char *err)
{
    struct answer *a = user;
    a->done = true;
    a->had_body = body && len == 16 && memcmp(body, "{\"id_token\":\"x\"}", 16) == 0;
    snprintf(a->err, sizeof(a->err), "%s", err ? err : "");
}

static void oidc_step(void *ctx)
{
    long *refusals = ctx;
    struct oidc_opts opts = {.issuer_url = iss, .client_id = "podterm", .ca_file = ca_path};
    char err[OIDC_ERR_MAX] = "", reason[OIDC_REASON_MAX] = "", fetching[OIDC_REASON_MAX];
    struct oidc *o = oidc_new(&loop, &opts, err, sizeof(err));
    if (!o) {
        assert_true(unit_oom_hit());
        assert_string_equal(err, "out of memory");
        (*refusals)++;
        return;
    }
    snprintf(fetching, sizeof(fetching), "fetching the keys of %s", iss);
    uint64_t end = fx_now_ms() + WAIT_MS;
    bool ready = false;
    while (fx_now_ms() < end) {
        uv_run(&loop, UV_RUN_NOWAIT);
        if ((ready = oidc_ready(o, reason, sizeof(reason))) || strcmp(reason, fetching) != 0)
            break;
        usleep(500);
    }
    if (!ready) {
        assert_true(unit_oom_hit());
        char d[OIDC_REASON_MAX], j[OIDC_REASON_MAX];
        snprintf(d, sizeof(d), "GET %s" DISCOVERY ": out of memory", iss);
        snprintf(j, sizeof(j), "GET %s/jwks: out of memory", iss);
        if (strcmp(reason, "cannot start fetching the discovery document") != 0 &&
            strcmp(reason, "cannot start fetching the JWKS") != 0 && strcmp(reason, d) != 0 &&
            strcmp(reason, j) != 0)
            fail_msg("unexpected reason: %s", reason);
        assert_null(oidc_endpoints_get(o));
        (*refusals)++;
        stop(o);
        return;
    }
    struct auth_identity id;
    int rc = oidc_token_check(o, token, time(NULL), &id);
    if (rc != AUTH_OK) {
        assert_true(unit_oom_hit());
        assert_int_equal(rc, AUTH_ERR_MALFORMED);
        assert_string_equal(id.user, "");
        (*refusals)++;
        stop(o);
        return;
    }
    char user[AUTH_NAME_MAX];
    snprintf(user, sizeof(user), "%s#alice", iss);
    assert_string_equal(id.user, user);
    struct answer a = {0};
    struct oidc_fetch *f = oidc_token_request(o, "code=1", NULL, on_answer, &a);
    if (!f) {
        assert_true(unit_oom_hit());
        (*refusals)++;
        stop(o);
        return;
    }
    end = fx_now_ms() + WAIT_MS;
    while (!a.done && fx_now_ms() < end) {
        uv_run(&loop, UV_RUN_NOWAIT);
        usleep(500);
    }
    assert_true(a.done);
    if (!a.had_body) {
        assert_true(unit_oom_hit());
        char want[OIDC_REASON_MAX];
        snprintf(want, sizeof(want), "POST %s/token: out of memory", iss);
        assert_string_equal(a.err, want);
        (*refusals)++;
    } else {
        assert_string_equal(a.err, "");
    }
    stop(o);
}

static void test_oidc_out_of_memory(void **state)
{
    long refusals = 0;
    long n = unit_oom_sweep(oidc_step, &refusals);
    /* At least the oidc, and three fetches of three buffers and a socket. */
    assert_true(n >= 13);
    assert_int_equal(refusals, n); /* every refused allocation was reported */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_oidc_out_of_memory),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
