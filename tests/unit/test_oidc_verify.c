/* test_oidc_verify.c - ID token checks (oidc_verify.c) and the flags'
 * defaults (oidc_config.c): valid RS/PS/ES tokens mapped with kube's
 * prefixes; refused: alg none, HS256 with the public key as secret, algs
 * not listed, unknown kid, key type confusion, tampering, wrong iss/aud,
 * expired, nbf/iat ahead, missing or invalid user name, email unverified,
 * bad groups, required claims, no keys yet. Exact error strings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/pem.h>

#include "fixtures/oidc_fixtures.h"
#include "unit_identity.h"

#define ISS "https://idp.example.test"
static const time_t NOW = 1700000000;
static EVP_PKEY *rsa, *rsa2, *ec;
static struct oidc_keyset keys;

static int group_setup(void **state)
{
    rsa = EVP_RSA_gen(2048);
    rsa2 = EVP_RSA_gen(2048);
    ec = EVP_EC_gen("P-256");
    char j1[FX_JWK_MAX], j2[FX_JWK_MAX], jwks[3 * FX_JWK_MAX], err[OIDC_ERR_MAX];
    fx_jwk(rsa, "r1", ",\"use\":\"sig\"", j1);
    fx_jwk(ec, "e1", "", j2);
    snprintf(jwks, sizeof(jwks), "{\"keys\":[%s,%s]}", j1, j2);
    if (oidc_jwks_parse(jwks, strlen(jwks), &keys, err, sizeof(err)) < 0)
        fail_msg("%s", err);
    assert_int_equal(keys.len, 2);
    return 0;
}

static int group_teardown(void **state)
{
    oidc_keyset_clear(&keys);
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(rsa2);
    EVP_PKEY_free(ec);
    return 0;
}

static void config(struct oidc_config *c, const char *algs, const char *uclaim, const char *uprefix)
{
    struct oidc_opts o = {.issuer_url = ISS,
                          .client_id = "podterm",
                          .username_claim = uclaim,
                          .username_prefix = uprefix,
                          .groups_claim = "groups",
                          .groups_prefix = "oidc:",
                          .signing_algs = algs};
    char err[OIDC_ERR_MAX] = "";
    if (oidc_config_init(c, &o, err, sizeof(err)) < 0)
        fail_msg("%s", err);
}

/* Claims with the defaults filled around extra members. */
static void claims(char *out, size_t cap, const char *extra)
{
    snprintf(out, cap,
             "{\"iss\":\"" ISS "\",\"aud\":\"podterm\",\"sub\":\"alice\",\"exp\":%lld,"
             "\"iat\":%lld%s}",
             (long long)NOW + 300, (long long)NOW - 10, extra);
}

static int verify_with(const struct oidc_config *c, EVP_PKEY *k, const char *alg, const char *kid,
                       const char *payload, struct auth_identity *id)
{
    char header[256], token[FX_TOKEN_MAX];
    snprintf(header, sizeof(header), "{\"alg\":\"%s\",\"kid\":\"%s\",\"typ\":\"JWT\"}", alg, kid);
    fx_sign(k, alg, header, payload, token);
    return held_oidc_verify(c, &keys, token, NOW, id, NULL);
}

static int verify_claims(const char *extra, struct auth_identity *id)
{
    struct oidc_config c;
    config(&c, NULL, NULL, NULL);
    char payload[2048];
    claims(payload, sizeof(payload), extra);
    return verify_with(&c, rsa, "RS256", "r1", payload, id);
}

static void test_valid_tokens(void **state)
{
    struct oidc_config c;
    struct auth_identity id;
    config(&c, "RS256,PS256,ES256", NULL, NULL);
    char payload[2048];
    claims(payload, sizeof(payload), ",\"groups\":[\"devs\",\"ops\"]");
    assert_int_equal(verify_with(&c, rsa, "RS256", "r1", payload, &id), OIDC_OK);
    assert_string_equal(id.user, ISS "#alice");
    assert_int_equal(id.groups_len, 2);
    assert_string_equal(id.groups[0], "oidc:devs");
    assert_string_equal(id.groups[1], "oidc:ops");
    assert_string_equal(id.uid, "");
    assert_int_equal(verify_with(&c, rsa, "PS256", "r1", payload, &id), OIDC_OK);
    assert_int_equal(verify_with(&c, ec, "ES256", "e1", payload, &id), OIDC_OK);
    /* No kid: any key of the right type may verify it. */
    char token[FX_TOKEN_MAX];
    fx_sign(ec, "ES256", "{\"alg\":\"ES256\"}", payload, token);
    assert_int_equal(held_oidc_verify(&c, &keys, token, NOW, &id, NULL), OIDC_OK);
    /* One group as a string; the audience in an array. */
    claims(payload, sizeof(payload), ",\"groups\":\"devs\"");
    assert_int_equal(verify_with(&c, rsa, "RS256", "r1", payload, &id), OIDC_OK);
    assert_int_equal(id.groups_len, 1);
    assert_string_equal(id.groups[0], "oidc:devs");
    assert_int_equal(verify_claims(",\"aud\":[\"other\",\"podterm\"]", &id), OIDC_ERR_MALFORMED);
}

static void test_audience_array(void **state)
{
    struct oidc_config c;
    struct auth_identity id;
    config(&c, NULL, NULL, "-");
    char payload[1024];
    snprintf(payload, sizeof(payload),
             "{\"iss\":\"" ISS "\",\"aud\":[\"other\",\"podterm\"],\"sub\":\"alice\",\"exp\":%lld}",
             (long long)NOW + 1);
    assert_int_equal(verify_with(&c, rsa, "RS256", "r1", payload, &id), OIDC_OK);
    assert_string_equal(id.user, "alice"); /* "-": no prefix */
    snprintf(payload, sizeof(payload),
             "{\"iss\":\"" ISS "\",\"aud\":[\"other\"],\"sub\":\"alice\",\"exp\":%lld}",
             (long long)NOW + 1);
    assert_int_equal(verify_with(&c, rsa, "RS256", "r1", payload, &id), OIDC_ERR_AUDIENCE);
}

static void test_algorithms_refused(void **state)
{
    struct oidc_config c;
    struct auth_identity id;
    config(&c, NULL, NULL, NULL);
    char payload[1024], token[FX_TOKEN_MAX];
    claims(payload, sizeof(payload), "");
    /* alg none, with and without a signature part. */
    size_t n = fx_signing_input("{\"alg\":\"none\",\"kid\":\"r1\"}", payload, token);
    strcpy(token + n, ".");
    assert_int_equal(held_oidc_verify(&c, &keys, token, NOW, &id, NULL), OIDC_ERR_MALFORMED);
    strcpy(token + n, ".c2ln");
    assert_int_equal(held_oidc_verify(&c, &keys, token, NOW, &id, NULL), OIDC_ERR_ALG);
    /* HS256 keyed with the RSA public key (PEM and DER): the classic confusion. */
    BIO *bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(bio, rsa);
    char *pem = NULL;
    long pem_len = BIO_get_mem_data(bio, &pem);
    fx_hmac_token("{\"alg\":\"HS256\",\"kid\":\"r1\"}", payload, pem, (size_t)pem_len, EVP_sha256(),
                  token);
    BIO_free(bio);
    assert_int_equal(held_oidc_verify(&c, &keys, token, NOW, &id, NULL), OIDC_ERR_ALG);
    assert_string_equal(oidc_verify_strerror(OIDC_ERR_ALG), "signing algorithm not allowed");
    /* ES256 and PS256 are not in the default list (RS256 only). */
    assert_int_equal(verify_with(&c, ec, "ES256", "e1", payload, &id), OIDC_ERR_ALG);
    assert_int_equal(verify_with(&c, rsa, "PS256", "r1", payload, &id), OIDC_ERR_ALG);
    /* The alg must fit the key the kid names: RS256 against the EC key. */
    config(&c, "RS256,ES256", NULL, NULL);
    assert_int_equal(verify_with(&c, rsa, "RS256", "e1", payload, &id), OIDC_ERR_SIGNATURE);
    assert_int_equal(verify_with(&c, ec, "ES256", "r1", payload, &id), OIDC_ERR_SIGNATURE);
    assert_string_equal(id.user, "");
}

static void test_keys_and_signatures(void **state)
{
    struct oidc_config c;
    struct auth_identity id;
    config(&c, NULL, NULL, NULL);
    char payload[1024], token[FX_TOKEN_MAX], kid[OIDC_KID_MAX];
    claims(payload, sizeof(payload), "");
    fx_sign(rsa2, "RS256", "{\"alg\":\"RS256\",\"kid\":\"rotated\"}", payload, token);
    assert_int_equal(held_oidc_verify(&c, &keys, token, NOW, &id, kid), OIDC_ERR_UNKNOWN_KID);
    assert_string_equal(kid, "rotated");
    assert_string_equal(oidc_verify_strerror(OIDC_ERR_UNKNOWN_KID), "unknown key id");
    /* Another key under a known kid; then a payload swapped under a good signature. */
    assert_int_equal(verify_with(&c, rsa2, "RS256", "r1", payload, &id), OIDC_ERR_SIGNATURE);
    assert_string_equal(oidc_verify_strerror(OIDC_ERR_SIGNATURE), "bad signature");
    fx_sign(rsa, "RS256", "{\"alg\":\"RS256\",\"kid\":\"r1\"}", payload, token);
    char forged[FX_TOKEN_MAX], other[1024];
    snprintf(other, sizeof(other),
             "{\"iss\":\"" ISS "\",\"aud\":\"podterm\",\"sub\":\"root\",\"exp\":%lld}",
             (long long)NOW + 300);
    size_t n = fx_signing_input("{\"alg\":\"RS256\",\"kid\":\"r1\"}", other, forged);
    strcpy(forged + n, strrchr(token, '.'));
    assert_int_equal(held_oidc_verify(&c, &keys, forged, NOW, &id, NULL), OIDC_ERR_SIGNATURE);
    /* No keys loaded yet. */
    struct oidc_keyset none = {0};
    assert_int_equal(held_oidc_verify(&c, &none, token, NOW, &id, NULL), OIDC_ERR_NO_KEYS);
    assert_string_equal(oidc_verify_strerror(OIDC_ERR_NO_KEYS), "the issuer's keys are not loaded");
    assert_int_equal(held_oidc_verify(&c, &keys, token, NOW, &id, NULL), OIDC_OK);
}

static void test_claims_refused(void **state)
{
    struct auth_identity id;
    struct oidc_config c;
    config(&c, NULL, NULL, NULL);
    char payload[1024];
    snprintf(payload, sizeof(payload),
             "{\"iss\":\"https://evil.example.test\",\"aud\":\"podterm\",\"sub\":\"a\","
             "\"exp\":%lld}",
             (long long)NOW + 300);
    assert_int_equal(verify_with(&c, rsa, "RS256", "r1", payload, &id), OIDC_ERR_ISSUER);
    assert_string_equal(oidc_verify_strerror(OIDC_ERR_ISSUER), "wrong issuer");
    snprintf(payload, sizeof(payload),
             "{\"iss\":\"" ISS "/\",\"aud\":\"podterm\",\"sub\":\"a\",\"exp\":%lld}",
             (long long)NOW + 300);
    assert_int_equal(verify_with(&c, rsa, "RS256", "r1", payload, &id), OIDC_ERR_ISSUER);
    snprintf(payload, sizeof(payload),
             "{\"iss\":\"" ISS "\",\"aud\":\"podterm2\",\"sub\":\"a\",\"exp\":%lld}",
             (long long)NOW + 300);
    assert_int_equal(verify_with(&c, rsa, "RS256", "r1", payload, &id), OIDC_ERR_AUDIENCE);
    assert_string_equal(oidc_verify_strerror(OIDC_ERR_AUDIENCE), "wrong audience");
    /* exp: now or before is expired; none at all too. */
    snprintf(payload, sizeof(payload),
             "{\"iss\":\"" ISS "\",\"aud\":\"podterm\",\"sub\":\"a\",\"exp\":%lld}",
             (long long)NOW);
    assert_int_equal(verify_with(&c, rsa, "RS256", "r1", payload, &id), OIDC_ERR_EXPIRED);
    assert_string_equal(oidc_verify_strerror(OIDC_ERR_EXPIRED), "expired");
    snprintf(payload, sizeof(payload), "{\"iss\":\"" ISS "\",\"aud\":\"podterm\",\"sub\":\"a\"}");
    assert_int_equal(verify_with(&c, rsa, "RS256", "r1", payload, &id), OIDC_ERR_EXPIRED);
    char extra[128];
    snprintf(extra, sizeof(extra), ",\"nbf\":%lld", (long long)NOW + OIDC_SKEW_S + 1);
    assert_int_equal(verify_claims(extra, &id), OIDC_ERR_NOT_YET);
    assert_string_equal(oidc_verify_strerror(OIDC_ERR_NOT_YET), "not valid yet");
    snprintf(extra, sizeof(extra), ",\"nbf\":%lld", (long long)NOW + OIDC_SKEW_S);
    assert_int_equal(verify_claims(extra, &id), OIDC_OK);
    /* iat is in claims() already: a duplicate member is refused outright. */
    snprintf(extra, sizeof(extra), ",\"iat\":%lld", (long long)NOW + 3600);
    assert_int_equal(verify_claims(extra, &id), OIDC_ERR_MALFORMED);
    snprintf(payload, sizeof(payload),
             "{\"iss\":\"" ISS "\",\"aud\":\"podterm\",\"sub\":\"a\",\"exp\":%lld,\"iat\":%lld}",
             (long long)NOW + 7200, (long long)NOW + 3600);
    assert_int_equal(verify_with(&c, rsa, "RS256", "r1", payload, &id), OIDC_ERR_NOT_YET);
    assert_int_equal(verify_claims(",\"nbf\":\"soon\"", &id), OIDC_ERR_MALFORMED);
    assert_string_equal(oidc_verify_strerror(OIDC_ERR_MALFORMED), "not a JWT");
}

/* ,"groups":["g0",...] with n names. */
static void groups_list(char *out, size_t cap, int n)
{
    snprintf(out, cap, ",\"groups\":[");
    for (int i = 0; i < n; i++)
        snprintf(out + strlen(out), cap - strlen(out), "%s\"g%d\"", i ? "," : "", i);
    snprintf(out + strlen(out), cap - strlen(out), "]");
}

static void test_names(void **state)
{
    struct auth_identity id;
    struct oidc_config c;
    config(&c, NULL, NULL, NULL);
    char payload[2048];
    snprintf(payload, sizeof(payload), "{\"iss\":\"" ISS "\",\"aud\":\"podterm\",\"exp\":%lld}",
             (long long)NOW + 300);
    assert_int_equal(verify_with(&c, rsa, "RS256", "r1", payload, &id), OIDC_ERR_USERNAME);
    assert_string_equal(oidc_verify_strerror(OIDC_ERR_USERNAME), "no valid user name claim");
    snprintf(payload, sizeof(payload),
             "{\"iss\":\"" ISS "\",\"aud\":\"podterm\",\"sub\":\"a\\nb\",\"exp\":%lld}",
             (long long)NOW + 300);
    assert_int_equal(verify_with(&c, rsa, "RS256", "r1", payload, &id), OIDC_ERR_USERNAME);
    snprintf(payload, sizeof(payload),
             "{\"iss\":\"" ISS "\",\"aud\":\"podterm\",\"sub\":42,\"exp\":%lld}",
             (long long)NOW + 300);
    assert_int_equal(verify_with(&c, rsa, "RS256", "r1", payload, &id), OIDC_ERR_USERNAME);
    /* A name that fits AUTH_NAME_MAX alone but not after the prefix. */
    char longsub[AUTH_NAME_MAX];
    memset(longsub, 'a', sizeof(longsub) - 10);
    longsub[sizeof(longsub) - 10] = '\0';
    snprintf(payload, sizeof(payload),
             "{\"iss\":\"" ISS "\",\"aud\":\"podterm\",\"sub\":\"%s\",\"exp\":%lld}", longsub,
             (long long)NOW + 300);
    assert_int_equal(verify_with(&c, rsa, "RS256", "r1", payload, &id), OIDC_ERR_USERNAME);
    /* Groups: not strings, control characters, more than fit. */
    assert_int_equal(verify_claims(",\"groups\":[\"a\",1]", &id), OIDC_ERR_GROUPS);
    assert_string_equal(oidc_verify_strerror(OIDC_ERR_GROUPS), "invalid groups claim");
    assert_int_equal(verify_claims(",\"groups\":[\"a\\u0007\"]", &id), OIDC_ERR_GROUPS);
    assert_int_equal(verify_claims(",\"groups\":{\"a\":1}", &id), OIDC_ERR_GROUPS);
    char many[1024];
    groups_list(many, sizeof(many), AUTH_GROUPS_MAX);
    assert_int_equal(verify_claims(many, &id), OIDC_ERR_GROUPS);
    groups_list(many, sizeof(many), AUTH_GROUPS_MAX - 1); /* one is left for system:authenticated */
    assert_int_equal(verify_claims(many, &id), OIDC_OK);
    assert_int_equal(id.groups_len, AUTH_GROUPS_MAX - 1);
}

static void test_email_claim(void **state)
{
    struct auth_identity id;
    struct oidc_config c;
    config(&c, NULL, "email", NULL);
    assert_string_equal(c.username_prefix, ""); /* kube: email is not prefixed */
    char payload[1024];
    const char *base = "{\"iss\":\"" ISS "\",\"aud\":\"podterm\",\"sub\":\"1\","
                       "\"email\":\"a@example.test\",\"exp\":%lld%s}";
    snprintf(payload, sizeof(payload), base, (long long)NOW + 300, ",\"email_verified\":true");
    assert_int_equal(verify_with(&c, rsa, "RS256", "r1", payload, &id), OIDC_OK);
    assert_string_equal(id.user, "a@example.test");
    snprintf(payload, sizeof(payload), base, (long long)NOW + 300, ",\"email_verified\":false");
    assert_int_equal(verify_with(&c, rsa, "RS256", "r1", payload, &id), OIDC_ERR_EMAIL);
    assert_string_equal(oidc_verify_strerror(OIDC_ERR_EMAIL), "email not verified");
    snprintf(payload, sizeof(payload), base, (long long)NOW + 300, ",\"email_verified\":\"true\"");
    assert_int_equal(verify_with(&c, rsa, "RS256", "r1", payload, &id), OIDC_ERR_EMAIL);
    /* Absent: accepted, as kube-apiserver does. */
    snprintf(payload, sizeof(payload), base, (long long)NOW + 300, "");
    assert_int_equal(verify_with(&c, rsa, "RS256", "r1", payload, &id), OIDC_OK);
    config(&c, NULL, "email", "corp:");
    assert_int_equal(verify_with(&c, rsa, "RS256", "r1", payload, &id), OIDC_OK);
    assert_string_equal(id.user, "corp:a@example.test");
}

static void test_required_claims(void **state)
{
    struct oidc_opts o = {.issuer_url = ISS,
                          .client_id = "podterm",
                          .required_claims = {"hd=example.test", "tier=gold"},
                          .required_claims_len = 2};
    struct oidc_config c;
    char err[OIDC_ERR_MAX];
    assert_int_equal(oidc_config_init(&c, &o, err, sizeof(err)), 0);
    struct auth_identity id;
    char payload[1024];
    const char *base = "{\"iss\":\"" ISS "\",\"aud\":\"podterm\",\"sub\":\"a\",\"exp\":%lld%s}";
    snprintf(payload, sizeof(payload), base, (long long)NOW + 300,
             ",\"hd\":\"example.test\",\"tier\":\"gold\"");
    assert_int_equal(verify_with(&c, rsa, "RS256", "r1", payload, &id), OIDC_OK);
    snprintf(payload, sizeof(payload), base, (long long)NOW + 300, ",\"hd\":\"example.test\"");
    assert_int_equal(verify_with(&c, rsa, "RS256", "r1", payload, &id), OIDC_ERR_REQUIRED);
    snprintf(payload, sizeof(payload), base, (long long)NOW + 300,
             ",\"hd\":\"example.test\",\"tier\":[\"gold\"]");
    assert_int_equal(verify_with(&c, rsa, "RS256", "r1", payload, &id), OIDC_ERR_REQUIRED);
    assert_string_equal(oidc_verify_strerror(OIDC_ERR_REQUIRED),
                        "required claim missing or different");
}

static void test_malformed(void **state)
{
    struct oidc_config c;
    config(&c, NULL, NULL, NULL);
    struct auth_identity id;
    const char *bad[] = {"",   "a",        "a.b",         "a.b.c.d",
                         "..", "e30.e30.", "!!.e30.c2ln", "e30.e30.c2ln"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(held_oidc_verify(&c, &keys, bad[i], NOW, &id, NULL),
                         i == 7 ? OIDC_ERR_ALG : OIDC_ERR_MALFORMED);
    char payload[512], token[FX_TOKEN_MAX];
    claims(payload, sizeof(payload), "");
    fx_sign(rsa, "RS256", "{\"alg\":\"RS256\",\"alg\":\"ES256\",\"kid\":\"r1\"}", payload, token);
    assert_int_equal(held_oidc_verify(&c, &keys, token, NOW, &id, NULL), OIDC_ERR_MALFORMED);
    fx_sign(rsa, "RS256", "{\"alg\":\"RS256\",\"kid\":\"r1\",\"crit\":[\"x\"]}", payload, token);
    assert_int_equal(held_oidc_verify(&c, &keys, token, NOW, &id, NULL), OIDC_ERR_MALFORMED);
    fx_sign(rsa, "RS256", "{\"alg\":\"RS256\",\"kid\":7}", payload, token);
    assert_int_equal(held_oidc_verify(&c, &keys, token, NOW, &id, NULL), OIDC_ERR_MALFORMED);
}

/* Browser sign-in's nonce check (oidc_claim_is): the exact string, in a
 * token that verified; absent, another type, a prefix or a longer value
 * are not it. */
static void test_nonce_claim(void **state)
{
    (void)state;
    static const struct {
        const char *extra;
        bool is;
    } cases[] = {
        {",\"nonce\":\"n0nce\"", true},    {"", false},
        {",\"nonce\":\"n0nc\"", false},    {",\"nonce\":\"n0nce2\"", false},
        {",\"nonce\":[\"n0nce\"]", false}, {",\"nonce\":\"n0nce\\u0000x\"", false},
        {",\"nonce\":null", false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char header[] = "{\"alg\":\"RS256\",\"kid\":\"r1\",\"typ\":\"JWT\"}";
        char payload[2048], token[FX_TOKEN_MAX];
        claims(payload, sizeof(payload), cases[i].extra);
        fx_sign(rsa, "RS256", header, payload, token);
        assert_int_equal(oidc_claim_is(token, "nonce", "n0nce"), cases[i].is);
    }
    assert_false(oidc_claim_is("not.a.token", "nonce", "n0nce"));
    assert_false(oidc_claim_is(NULL, "nonce", "n0nce"));
}

static void test_config(void **state)
{
    struct oidc_config c;
    char err[OIDC_ERR_MAX];
    struct oidc_opts o = {.issuer_url = "http://idp.example.test", .client_id = "x"};
    assert_int_equal(oidc_config_init(&c, &o, err, sizeof(err)), -1);
    assert_string_equal(err, "--oidc-issuer-url wants an https:// URL without query, fragment "
                             "or user info");
    o.issuer_url = "https://u:p@idp.example.test";
    assert_int_equal(oidc_config_init(&c, &o, err, sizeof(err)), -1);
    o.issuer_url = ISS;
    o.client_id = NULL;
    assert_int_equal(oidc_config_init(&c, &o, err, sizeof(err)), -1);
    assert_string_equal(err, "--oidc-issuer-url and --oidc-client-id go together");
    o.client_id = "x";
    const char *refused[] = {"none", "HS256", "RS256,HS512", "rs256", ""};
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        o.signing_algs = refused[i];
        assert_int_equal(oidc_config_init(&c, &o, err, sizeof(err)), -1);
    }
    o.signing_algs = "HS256";
    oidc_config_init(&c, &o, err, sizeof(err));
    assert_string_equal(err, "--oidc-signing-algs: \"HS256\" is not one of RS256, RS384, RS512, "
                             "PS256, PS384, PS512, ES256, ES384, ES512");
    o.signing_algs = "ES256,PS512,ES256";
    assert_int_equal(oidc_config_init(&c, &o, err, sizeof(err)), 0);
    assert_int_equal(c.algs_len, 2);
    assert_string_equal(c.username_claim, "sub");
    assert_string_equal(c.username_prefix, ISS "#");
    o.username_prefix = "-";
    assert_int_equal(oidc_config_init(&c, &o, err, sizeof(err)), 0);
    assert_string_equal(c.username_prefix, "");
    o.required_claims[0] = "novalue";
    o.required_claims_len = 1;
    assert_int_equal(oidc_config_init(&c, &o, err, sizeof(err)), -1);
    assert_string_equal(err, "--oidc-required-claim wants key=value, got \"novalue\"");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_tokens),       cmocka_unit_test(test_audience_array),
        cmocka_unit_test(test_algorithms_refused), cmocka_unit_test(test_keys_and_signatures),
        cmocka_unit_test(test_claims_refused),     cmocka_unit_test(test_names),
        cmocka_unit_test(test_email_claim),        cmocka_unit_test(test_required_claims),
        cmocka_unit_test(test_malformed),          cmocka_unit_test(test_config),
        cmocka_unit_test(test_nonce_claim),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
