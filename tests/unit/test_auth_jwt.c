/* test_auth_jwt.c - JWT checks: valid HS/RS/ES tokens, exp and nbf, bad
 * signatures, alg "none", algorithm confusion between key types, malformed
 * tokens and claims, key file rules; keys are generated at test time. */
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
#include "unit_identity.h"

static const time_t NOW = 1700000000;
static char rsa_key[FX_PATH_MAX], rsa_pub[FX_PATH_MAX], ec_key[FX_PATH_MAX], ec_pub[FX_PATH_MAX];
static char ec384_key[FX_PATH_MAX], ec384_pub[FX_PATH_MAX];
static const char *hmac_file;

static int group_setup(void **state)
{
    fx_dir_make();
    fx_keypair(EVP_RSA_gen(2048), "rsa", rsa_key, rsa_pub);
    fx_keypair(EVP_EC_gen("P-256"), "ec", ec_key, ec_pub);
    fx_keypair(EVP_EC_gen("P-384"), "ec384", ec384_key, ec384_pub);
    hmac_file = fx_text_file("hmac.secret", FX_SECRET "\n");
    return 0;
}

static int group_teardown(void **state)
{
    fx_dir_remove();
    return 0;
}

static struct auth *auth_jwt(const char *key_file)
{
    char err[AUTH_ERR_MAX] = "";
    struct auth *a = auth_new(key_file, NULL, err, sizeof(err));
    if (!a)
        fail_msg("auth_new(%s): %s", key_file, err);
    assert_true(auth_enabled(a));
    return a;
}

static int check(struct auth *a, const char *token, struct auth_identity *id)
{
    return held_token_check(a, token, NOW, id);
}

static void hs(const char *alg, const char *payload, const char *secret, char *out)
{
    char header[64];
    snprintf(header, sizeof(header), "{\"alg\":\"%s\",\"typ\":\"JWT\"}", alg);
    const EVP_MD *md = !strcmp(alg, "HS512")   ? EVP_sha512()
                       : !strcmp(alg, "HS384") ? EVP_sha384()
                                               : EVP_sha256();
    fx_hmac_token(header, payload, secret, strlen(secret), md, out);
}

static void test_hs512_like_seed(void **state)
{
    struct auth *a = auth_jwt(hmac_file);
    char tok[FX_TOKEN_MAX], payload[128];
    snprintf(payload, sizeof(payload), "{\"sub\":\"admin\",\"exp\":%ld,\"iat\":%ld,\"nbf\":%ld}",
             (long)NOW + 3600, (long)NOW, (long)NOW);
    hs("HS512", payload, FX_SECRET, tok);
    struct auth_identity id;
    assert_int_equal(check(a, tok, &id), AUTH_OK);
    assert_string_equal(id.user, "admin");
    assert_string_equal(id.uid, "");
    assert_int_equal(id.groups_len, 0);
    hs("HS256", payload, FX_SECRET, tok);
    assert_int_equal(check(a, tok, &id), AUTH_OK);
    hs("HS384", payload, FX_SECRET, tok);
    assert_int_equal(check(a, tok, &id), AUTH_OK);
    auth_free(a);
}

static void test_exp_and_nbf(void **state)
{
    struct auth *a = auth_jwt(hmac_file);
    char tok[FX_TOKEN_MAX], payload[128];
    struct auth_identity id;
    const struct {
        long exp_delta, nbf_delta;
        int want;
    } cases[] = {{-1, 0, AUTH_ERR_EXPIRED},   {0, 0, AUTH_ERR_EXPIRED}, {1, 0, AUTH_OK},
                 {3600, 1, AUTH_ERR_EXPIRED}, {3600, 0, AUTH_OK},       {3600, -60, AUTH_OK}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(payload, sizeof(payload), "{\"sub\":\"u\",\"exp\":%ld,\"nbf\":%ld}",
                 (long)NOW + cases[i].exp_delta, (long)NOW + cases[i].nbf_delta);
        hs("HS256", payload, FX_SECRET, tok);
        assert_int_equal(check(a, tok, &id), cases[i].want);
    }
    hs("HS256", "{\"sub\":\"forever\"}", FX_SECRET, tok); /* no exp: accepted (documented) */
    assert_int_equal(check(a, tok, &id), AUTH_OK);
    hs("HS256", "{\"sub\":\"u\",\"exp\":1700000000.5}", FX_SECRET, tok);
    assert_int_equal(check(a, tok, &id), AUTH_OK); /* NumericDate may be fractional */
    hs("HS256", "{\"sub\":\"u\",\"exp\":\"1800000000\"}", FX_SECRET, tok);
    assert_int_equal(check(a, tok, &id), AUTH_ERR_INVALID);
    hs("HS256", "{\"sub\":\"u\",\"nbf\":null}", FX_SECRET, tok);
    assert_int_equal(check(a, tok, &id), AUTH_ERR_INVALID);
    auth_free(a);
}

static void test_wrong_signature(void **state)
{
    struct auth *a = auth_jwt(hmac_file);
    char tok[FX_TOKEN_MAX];
    struct auth_identity id;
    hs("HS256", "{\"sub\":\"u\"}", FX_SECRET "x", tok);
    assert_int_equal(check(a, tok, &id), AUTH_ERR_INVALID);
    hs("HS256", "{\"sub\":\"u\"}", FX_SECRET, tok);
    size_t n = strlen(tok);
    tok[n - 2] = tok[n - 2] == 'A' ? 'B' : 'A';
    assert_int_equal(check(a, tok, &id), AUTH_ERR_INVALID);
    /* a valid signature over a different payload */
    char other[FX_TOKEN_MAX];
    hs("HS256", "{\"sub\":\"admin\"}", FX_SECRET, other);
    hs("HS256", "{\"sub\":\"u\"}", FX_SECRET, tok);
    memcpy(strrchr(tok, '.'), strrchr(other, '.'), strlen(strrchr(other, '.')) + 1);
    assert_int_equal(check(a, tok, &id), AUTH_ERR_INVALID);
    assert_string_equal(id.user, ""); /* nothing filled on failure */
    auth_free(a);
}

static void test_alg_none(void **state)
{
    char tok[FX_TOKEN_MAX], p[128];
    struct auth_identity id;
    const char *keys[] = {hmac_file, rsa_pub, ec_pub};
    const char *headers[] = {"{\"alg\":\"none\"}", "{\"alg\":\"none\",\"typ\":\"JWT\"}",
                             "{\"alg\":\"None\"}", "{\"alg\":\"NONE\"}", "{\"typ\":\"JWT\"}"};
    for (size_t k = 0; k < 3; k++) {
        struct auth *a = auth_jwt(keys[k]);
        for (size_t h = 0; h < sizeof(headers) / sizeof(headers[0]); h++) {
            size_t n = fx_signing_input(headers[h], "{\"sub\":\"admin\"}", tok);
            strcpy(tok + n, "."); /* empty signature */
            assert_int_equal(check(a, tok, &id), AUTH_ERR_INVALID);
            strcpy(tok + n, ".c2ln");
            assert_int_equal(check(a, tok, &id), AUTH_ERR_INVALID);
        }
        snprintf(p, sizeof(p), "{\"sub\":\"admin\",\"exp\":%ld}", (long)NOW + 60);
        size_t n = fx_signing_input("{\"alg\":\"none\"}", p, tok);
        strcpy(tok + n, ".");
        assert_int_equal(check(a, tok, &id), AUTH_ERR_INVALID);
        auth_free(a);
    }
}

/* The classic: an HS256 token whose HMAC key is the RSA public key's PEM. */
static void test_alg_confusion(void **state)
{
    struct auth *rsa = auth_jwt(rsa_pub), *ec = auth_jwt(ec_pub), *hm = auth_jwt(hmac_file);
    size_t len;
    char *pem = fx_read(rsa_pub, &len);
    char tok[FX_TOKEN_MAX];
    struct auth_identity id;
    const EVP_MD *mds[] = {EVP_sha256(), EVP_sha384(), EVP_sha512()};
    const char *hdrs[] = {"{\"alg\":\"HS256\",\"typ\":\"JWT\"}", "{\"alg\":\"HS384\"}",
                          "{\"alg\":\"HS512\"}"};
    for (int i = 0; i < 3; i++) {
        fx_hmac_token(hdrs[i], "{\"sub\":\"admin\"}", pem, len, mds[i], tok);
        assert_int_equal(check(rsa, tok, &id), AUTH_ERR_INVALID);
        fx_hmac_token(hdrs[i], "{\"sub\":\"admin\"}", pem, len - 1, mds[i], tok);
        assert_int_equal(check(rsa, tok, &id), AUTH_ERR_INVALID);
    }
    free(pem);
    pem = fx_read(ec_pub, &len);
    fx_hmac_token(hdrs[0], "{\"sub\":\"admin\"}", pem, len, mds[0], tok);
    assert_int_equal(check(ec, tok, &id), AUTH_ERR_INVALID);
    free(pem);
    /* and the other way: RS/ES tokens against an HMAC key, ES256 against RSA */
    char err[AUTH_ERR_MAX];
    assert_int_equal(auth_jwt_mint(rsa_key, "RS256", "admin", NULL, 0, 60, NOW, tok, sizeof(tok),
                                   err, sizeof(err)),
                     0);
    assert_int_equal(check(hm, tok, &id), AUTH_ERR_INVALID);
    assert_int_equal(check(ec, tok, &id), AUTH_ERR_INVALID);
    assert_int_equal(check(rsa, tok, &id), AUTH_OK);
    assert_int_equal(
        auth_jwt_mint(ec_key, NULL, "admin", NULL, 0, 60, NOW, tok, sizeof(tok), err, sizeof(err)),
        0);
    assert_int_equal(check(hm, tok, &id), AUTH_ERR_INVALID);
    assert_int_equal(check(rsa, tok, &id), AUTH_ERR_INVALID);
    assert_int_equal(check(ec, tok, &id), AUTH_OK);
    auth_free(rsa);
    auth_free(ec);
    auth_free(hm);
}

static void test_rs_and_es_round_trip(void **state)
{
    const struct {
        const char *priv, *pub, *alg;
    } cases[] = {{rsa_key, rsa_pub, "RS256"},     {rsa_key, rsa_pub, "RS384"},
                 {rsa_key, rsa_pub, "RS512"},     {ec_key, ec_pub, "ES256"},
                 {ec384_key, ec384_pub, "ES384"}, {rsa_key, rsa_key, "RS256"}};
    const char *groups[] = {"system:masters", "dev"};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char tok[FX_TOKEN_MAX], err[AUTH_ERR_MAX];
        if (auth_jwt_mint(cases[i].priv, cases[i].alg, "alice", groups, 2, 600, NOW, tok,
                          sizeof(tok), err, sizeof(err)) != 0)
            fail_msg("%s: %s", cases[i].alg, err);
        struct auth *a = auth_jwt(cases[i].pub);
        struct auth_identity id;
        assert_int_equal(check(a, tok, &id), AUTH_OK);
        assert_string_equal(id.user, "alice");
        assert_int_equal(id.groups_len, 2);
        assert_string_equal(id.groups[0], "system:masters");
        assert_string_equal(id.groups[1], "dev");
        assert_int_equal(held_token_check(a, tok, NOW + 600, &id), AUTH_ERR_EXPIRED);
        assert_int_equal(held_token_check(a, tok, NOW - 1, &id), AUTH_ERR_EXPIRED); /* nbf */
        auth_free(a);
    }
}

/* ES signatures are JWA's raw r||s (64 bytes for P-256), not DER, so other
 * JWT libraries interoperate; and an ES256 token fails on a P-384 key. */
static void test_es_signature_form(void **state)
{
    char tok[FX_TOKEN_MAX], err[AUTH_ERR_MAX];
    assert_int_equal(
        auth_jwt_mint(ec_key, "ES256", "bob", NULL, 0, 60, NOW, tok, sizeof(tok), err, sizeof(err)),
        0);
    assert_int_equal(strlen(strrchr(tok, '.') + 1), 86); /* 64 bytes in base64url */
    struct auth *a384 = auth_jwt(ec384_pub);
    assert_int_equal(check(a384, tok, NULL), AUTH_ERR_INVALID);
    auth_free(a384);
    assert_int_equal(
        auth_jwt_mint(ec_key, "ES384", "bob", NULL, 0, 60, NOW, tok, sizeof(tok), err, sizeof(err)),
        -1);
    assert_non_null(strstr(err, "alg ES384 does not fit this key (it allows ES256)"));
}

static void test_malformed(void **state)
{
    struct auth *a = auth_jwt(hmac_file);
    char tok[FX_TOKEN_MAX], good[FX_TOKEN_MAX];
    hs("HS256", "{\"sub\":\"u\"}", FX_SECRET, good);
    const char *bad[] = {"abc",           "a.b",           "a.b.c.d",     ".e30.",
                         "e30..",         "!!!.e30.sig",   "e30.e30.s!g", "e30.e30.a+b/",
                         "e30.e30.AAA=",  "e30=.e30.AAAA", "A.e30.AAAA",  "bm90IGpzb24.e30.AAAA",
                         "WzFd.e30.AAAA", "e30.e30 .AAAA"};
    struct auth_identity id;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc = check(a, bad[i], &id);
        if (rc != AUTH_ERR_MALFORMED)
            fail_msg("%s: %d", bad[i], rc);
    }
    assert_int_equal(check(a, "", &id), AUTH_ERR_MISSING);
    assert_int_equal(check(a, NULL, &id), AUTH_ERR_MISSING);
    /* one byte over the limit */
    memset(tok, 'A', AUTH_TOKEN_MAX + 1);
    tok[AUTH_TOKEN_MAX + 1] = '\0';
    assert_int_equal(check(a, tok, &id), AUTH_ERR_MALFORMED);
    /* non-canonical base64url (leftover bits set) in the header */
    strcpy(tok, good);
    tok[strchr(tok, '.') - tok - 1] ^= 1;
    assert_int_not_equal(check(a, tok, &id), AUTH_OK);
    /* header with a duplicate alg member */
    fx_hmac_token("{\"alg\":\"none\",\"alg\":\"HS256\"}", "{\"sub\":\"u\"}", FX_SECRET,
                  strlen(FX_SECRET), EVP_sha256(), tok);
    assert_int_equal(check(a, tok, &id), AUTH_ERR_MALFORMED);
    /* a signed payload that is not a JSON object */
    fx_hmac_token("{\"alg\":\"HS256\"}", "[1]", FX_SECRET, strlen(FX_SECRET), EVP_sha256(), tok);
    assert_int_not_equal(check(a, tok, &id), AUTH_OK);
    auth_free(a);
}

static void test_claims(void **state)
{
    struct auth *a = auth_jwt(hmac_file);
    char tok[FX_TOKEN_MAX];
    struct auth_identity id;
    const struct {
        const char *payload;
        int want;
    } cases[] = {
        {"{}", AUTH_ERR_INVALID},
        {"{\"sub\":\"\"}", AUTH_ERR_INVALID},
        {"{\"sub\":42}", AUTH_ERR_INVALID},
        {"{\"sub\":\"a\\nb\"}", AUTH_ERR_INVALID},
        {"{\"sub\":\"a\\u0000b\"}", AUTH_ERR_INVALID},
        {"{\"sub\":\"u\",\"groups\":{\"a\":1}}", AUTH_ERR_INVALID},
        {"{\"sub\":\"u\",\"groups\":[\"a\",7]}", AUTH_ERR_INVALID},
        {"{\"sub\":\"u\",\"uid\":5}", AUTH_ERR_INVALID},
        {"{\"sub\":\"u\",\"sub\":\"v\"}", AUTH_ERR_MALFORMED},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        hs("HS256", cases[i].payload, FX_SECRET, tok);
        int rc = check(a, tok, &id);
        if (rc != cases[i].want)
            fail_msg("%s: %d", cases[i].payload, rc);
    }
    hs("HS256", "{\"sub\":\"u\",\"uid\":\"42\",\"groups\":\"solo\"}", FX_SECRET, tok);
    assert_int_equal(check(a, tok, &id), AUTH_OK);
    assert_string_equal(id.uid, "42");
    assert_int_equal(id.groups_len, 1);
    assert_string_equal(id.groups[0], "solo");
    char payload[4096] = "{\"sub\":\"u\",\"groups\":[";
    for (int i = 0; i <= AUTH_GROUPS_MAX; i++)
        strcat(payload, i ? ",\"g\"" : "\"g\"");
    strcat(payload, "]}");
    hs("HS256", payload, FX_SECRET, tok);
    assert_int_equal(check(a, tok, &id), AUTH_ERR_INVALID);
    char longsub[AUTH_NAME_MAX + 32];
    memset(longsub, 'x', AUTH_NAME_MAX);
    longsub[AUTH_NAME_MAX] = '\0';
    snprintf(payload, sizeof(payload), "{\"sub\":\"%s\"}", longsub);
    hs("HS256", payload, FX_SECRET, tok);
    assert_int_equal(check(a, tok, &id), AUTH_ERR_INVALID);
    hs("HS256", "{\"sub\":\"u\"}", FX_SECRET, tok);
    fx_hmac_token("{\"alg\":\"HS256\",\"crit\":[\"exp\"]}", "{\"sub\":\"u\"}", FX_SECRET,
                  strlen(FX_SECRET), EVP_sha256(), tok);
    assert_int_equal(check(a, tok, &id), AUTH_ERR_INVALID);
    auth_free(a);
}

static void expect_key_refused(const char *path, const char *want)
{
    char err[AUTH_ERR_MAX] = "";
    assert_null(auth_new(path, NULL, err, sizeof(err)));
    if (strncmp(err, path, strlen(path)) != 0 || !strstr(err, want))
        fail_msg("want %s: ...%s, got %s", path, want, err);
}

static void test_key_files(void **state)
{
    expect_key_refused(fx_text_file("short", "0123456789abcdef0123456789abcde\n"),
                       ": HMAC secret of 31 bytes; at least 32 are needed");
    expect_key_refused(fx_text_file("empty", ""), ": HMAC secret of 0 bytes");
    expect_key_refused(fx_text_file("junk.pem", "-----BEGIN PUBLIC KEY-----\nAAAA\n"),
                       ": not a usable PEM public key, private key or certificate");
    expect_key_refused(fx_dir, ": cannot read the file");
    expect_key_refused("/nonexistent/key", ": No such file or directory");
    char priv[FX_PATH_MAX], pub[FX_PATH_MAX];
    fx_keypair(EVP_RSA_gen(1024), "rsa1024", priv, pub);
    expect_key_refused(pub, ": RSA key of 1024 bits; at least 2048 are needed");
    fx_keypair(EVP_EC_gen("secp256k1"), "k1", priv, pub);
    expect_key_refused(pub, ": unsupported key type");
    /* a DER public key would be a public HMAC secret */
    EVP_PKEY *k = EVP_EC_gen("P-256");
    unsigned char *der = NULL;
    int n = i2d_PUBKEY(k, &der);
    expect_key_refused(fx_file("pub.der", der, (size_t)n), ": looks like a DER key");
    OPENSSL_free(der);
    EVP_PKEY_free(k);
    /* exactly 32 bytes with CRLF is fine, and equals the same secret without it */
    char err[AUTH_ERR_MAX], tok[FX_TOKEN_MAX];
    struct auth *a = auth_new(fx_text_file("s32", "0123456789abcdef0123456789abcdef\r\n"), NULL,
                              err, sizeof(err));
    assert_non_null(a);
    assert_int_equal(auth_jwt_mint(fx_text_file("s32b", "0123456789abcdef0123456789abcdef"), NULL,
                                   "u", NULL, 0, 60, NOW, tok, sizeof(tok), err, sizeof(err)),
                     0);
    assert_int_equal(check(a, tok, NULL), AUTH_OK);
    auth_free(a);
}

static void test_mint_options(void **state)
{
    char tok[FX_TOKEN_MAX], err[AUTH_ERR_MAX];
    struct auth *a = auth_jwt(hmac_file);
    struct auth_identity id;
    /* default alg for an HMAC key is HS256; ttl 0 leaves out exp */
    assert_int_equal(auth_jwt_mint(hmac_file, NULL, "carol", NULL, 0, 0, NOW, tok, sizeof(tok), err,
                                   sizeof(err)),
                     0);
    assert_int_equal(strncmp(tok, "eyJhbGciOiJIUzI1NiIs", 20), 0); /* {"alg":"HS256", */
    assert_int_equal(held_token_check(a, tok, NOW + 100000000, &id), AUTH_OK);
    assert_string_equal(id.user, "carol");
    assert_int_equal(auth_jwt_mint(hmac_file, "HS512", "u", NULL, 0, 60, NOW, tok, sizeof(tok), err,
                                   sizeof(err)),
                     0);
    assert_int_equal(check(a, tok, &id), AUTH_OK);
    assert_int_equal(auth_jwt_mint(hmac_file, "RS256", "u", NULL, 0, 60, NOW, tok, sizeof(tok), err,
                                   sizeof(err)),
                     -1);
    assert_non_null(strstr(err, "it allows HS256, HS384, HS512"));
    assert_int_equal(
        auth_jwt_mint(hmac_file, "none", "u", NULL, 0, 60, NOW, tok, sizeof(tok), err, sizeof(err)),
        -1);
    assert_int_equal(
        auth_jwt_mint(hmac_file, NULL, "u", NULL, 0, -5, NOW, tok, sizeof(tok), err, sizeof(err)),
        -1);
    assert_int_equal(
        auth_jwt_mint(hmac_file, NULL, "", NULL, 0, 5, NOW, tok, sizeof(tok), err, sizeof(err)),
        -1);
    assert_int_equal(
        auth_jwt_mint(hmac_file, NULL, "u", NULL, 0, 5, NOW, tok, 20, err, sizeof(err)), -1);
    /* the public key cannot sign */
    assert_int_equal(
        auth_jwt_mint(rsa_pub, NULL, "u", NULL, 0, 5, NOW, tok, sizeof(tok), err, sizeof(err)), -1);
    assert_non_null(strstr(err, "not a usable PEM private key"));
    assert_null(strstr(err, FX_SECRET));
    auth_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hs512_like_seed),
        cmocka_unit_test(test_exp_and_nbf),
        cmocka_unit_test(test_wrong_signature),
        cmocka_unit_test(test_alg_none),
        cmocka_unit_test(test_alg_confusion),
        cmocka_unit_test(test_rs_and_es_round_trip),
        cmocka_unit_test(test_es_signature_form),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_claims),
        cmocka_unit_test(test_key_files),
        cmocka_unit_test(test_mint_options),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
