/* test_auth_oom.c - the authenticators' loading out of memory (unit_oom.h):
 * auth_new with an HMAC secret and a token file with groups, auth_new with
 * a PEM public key, and auth_jwt_mint, swept over every allocation podterm
 * makes. Each refusal is NULL (or -1) with its exact message (out of memory,
 * the file unread, the key not re-encoded), never a half-loaded
 * authenticator; the clean run authenticates; LeakSanitizer checks the
 * error paths free what they built. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "auth/auth.h"
#include "auth/jwt_mint.h"
#include "fixtures/auth_fixtures.h"
#include "unit_oom.h"

static const time_t NOW = 1700000000;
static char hmac_path[FX_PATH_MAX], csv_path[FX_PATH_MAX], ec_key[FX_PATH_MAX], ec_pub[FX_PATH_MAX];
static char hmac_token[FX_TOKEN_MAX];

#define CSV                                                                                        \
    "tok-alice-0123456789,alice,uid-1,\"devs,ops\"\n"                                              \
    "tok-bob-0123456789,bob,uid-2\n"

static int group_setup(void **state)
{
    fx_dir_make();
    snprintf(hmac_path, sizeof(hmac_path), "%s", fx_text_file("hmac", FX_SECRET "\n"));
    snprintf(csv_path, sizeof(csv_path), "%s", fx_text_file("tokens.csv", CSV));
    fx_keypair(EVP_EC_gen("P-256"), "ec", ec_key, ec_pub);
    char payload[256];
    snprintf(payload, sizeof(payload), "{\"sub\":\"carol\",\"exp\":%lld}", (long long)NOW + 60);
    fx_hmac_token("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", payload, FX_SECRET, strlen(FX_SECRET),
                  EVP_sha256(), hmac_token);
    return 0;
}

static int group_teardown(void **state)
{
    fx_dir_remove();
    return 0;
}

/* err is one of the messages an allocation failure may give. */
static void expect_oom_message(const char *err, const char *const *paths, size_t npaths)
{
    if (strcmp(err, "out of memory") == 0)
        return;
    for (size_t i = 0; i < npaths; i++) {
        size_t n = strlen(paths[i]);
        if (strncmp(err, paths[i], n) != 0)
            continue;
        const char *rest = err + n;
        if (strcmp(rest, ": out of memory") == 0 || strcmp(rest, ": cannot read the file") == 0 ||
            strcmp(rest, ": cannot re-encode the key") == 0 ||
            strcmp(rest, ": cannot sign the token") == 0 ||
            (rest[0] == ':' && strstr(rest, ": out of memory") &&
             strspn(rest + 1, "0123456789") == strlen(rest + 1) - strlen(": out of memory")))
            return;
    }
    fail_msg("unexpected message: %s", err);
}

static void static_step(void *ctx)
{
    long *refusals = ctx;
    char err[512] = "";
    struct auth *a = auth_new(hmac_path, csv_path, err, sizeof(err));
    if (!a) {
        assert_true(unit_oom_hit());
        const char *paths[] = {hmac_path, csv_path};
        expect_oom_message(err, paths, 2);
        (*refusals)++;
        return;
    }
    assert_false(unit_oom_hit());
    struct auth_identity id;
    int rc = auth_token_check(a, "tok-alice-0123456789", NOW, &id);
    if (!unit_oom_hit()) {
        assert_int_equal(rc, AUTH_OK);
        assert_string_equal(id.user, "alice");
        assert_int_equal(id.groups_len, 2);
        assert_string_equal(id.groups[1], "ops");
        auth_identity_clear(&id);
        rc = auth_token_check(a, hmac_token, NOW, &id);
    }
    auth_free(a);
    if (unit_oom_hit()) { /* one of the identity's groups: refused, never fewer groups */
        assert_int_equal(rc, AUTH_ERR_INVALID);
        assert_string_equal(id.user, "");
        assert_int_equal(id.groups_len, 0);
        (*refusals)++;
        return;
    }
    assert_int_equal(rc, AUTH_OK);
    assert_string_equal(id.user, "carol");
    auth_identity_clear(&id);
}

static void test_static_and_hmac_out_of_memory(void **state)
{
    long refusals = 0;
    long n = unit_oom_sweep(static_step, &refusals);
    /* auth, the secret's read and copy, the file's read, scratch, entries,
     * two users and uids, a group array and two groups. */
    assert_true(n >= 12);
    assert_int_equal(refusals, n);
}

static void pem_step(void *ctx)
{
    long *refusals = ctx;
    char err[512] = "";
    struct auth *a = auth_new(ec_pub, NULL, err, sizeof(err));
    if (!a) {
        assert_true(unit_oom_hit());
        const char *paths[] = {ec_pub};
        expect_oom_message(err, paths, 1);
        (*refusals)++;
        return;
    }
    assert_false(unit_oom_hit());
    assert_true(auth_enabled(a));
    auth_free(a);
}

static void test_pem_key_out_of_memory(void **state)
{
    long refusals = 0;
    long n = unit_oom_sweep(pem_step, &refusals);
    assert_true(n >= 3); /* auth, the file's read, the re-encoded key */
    assert_int_equal(refusals, n);
}

static void mint_step(void *ctx)
{
    long *refusals = ctx;
    char tok[FX_TOKEN_MAX], err[512] = "";
    const char *groups[] = {"devs"};
    int rc =
        auth_jwt_mint(ec_key, NULL, "dave", groups, 1, 60, NOW, tok, sizeof(tok), err, sizeof(err));
    if (rc < 0) {
        assert_true(unit_oom_hit());
        const char *paths[] = {ec_key};
        expect_oom_message(err, paths, 1);
        (*refusals)++;
        return;
    }
    assert_false(unit_oom_hit());
    assert_memory_equal(tok, "eyJhbGciOiJFUzI1NiIs", 20); /* {"alg":"ES256", */
}

static void test_mint_out_of_memory(void **state)
{
    long refusals = 0;
    long n = unit_oom_sweep(mint_step, &refusals);
    assert_true(n >= 2); /* the file's read, the re-encoded key */
    assert_int_equal(refusals, n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_static_and_hmac_out_of_memory),
        cmocka_unit_test(test_pem_key_out_of_memory),
        cmocka_unit_test(test_mint_out_of_memory),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
