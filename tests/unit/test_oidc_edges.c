/* test_oidc_edges.c - the bounds and odd inputs of the OIDC cores,
 * sans-I/O: every flag oidc_config_init refuses (with its message), the
 * discovery document's endpoints, JWKS keys left out (no kty, a long kid,
 * no modulus, an even exponent, a point of the wrong size, an unknown curve,
 * past OIDC_KEYS_MAX), token checks at their edges (ES384/ES512, a signature
 * of the wrong size, a key whose alg or curve does not fit, a token over
 * AUTH_TOKEN_MAX, an empty part, an empty user name), the HTTP response
 * core's chunked errors and its messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fixtures/oidc_fixtures.h"

#define ISS "https://idp.example.test"
static const time_t NOW = 1700000000;

static void expect_config(const struct oidc_opts *o, const char *want)
{
    struct oidc_config c;
    char err[OIDC_ERR_MAX] = "";
    assert_int_equal(oidc_config_init(&c, o, err, sizeof(err)), -1);
    assert_string_equal(err, want);
}

static void test_config_refusals(void **state)
{
    char long_name[400];
    memset(long_name, 'a', sizeof(long_name) - 1);
    long_name[sizeof(long_name) - 1] = '\0';
    struct oidc_opts o = {.issuer_url = ISS "/?tenant=1", .client_id = "podterm"};
    expect_config(&o, "--oidc-issuer-url wants an https:// URL without query, fragment or user "
                      "info");
    o.issuer_url = ISS;
    o.client_id = "";
    expect_config(&o, "--oidc-issuer-url and --oidc-client-id go together");
    o.client_id = long_name;
    expect_config(&o, "--oidc-client-id: longer than 255 bytes or has control characters");
    o.client_id = "pod\x01term";
    expect_config(&o, "--oidc-client-id: longer than 255 bytes or has control characters");
    o.client_id = "podterm";
    o.username_claim = "";
    expect_config(&o, "--oidc-username-claim: empty");
    o.username_claim = long_name;
    expect_config(&o, "--oidc-username-claim: longer than 127 bytes or has control characters");
    o.username_claim = NULL;
    o.groups_claim = "gr\noups";
    expect_config(&o, "--oidc-groups-claim: longer than 127 bytes or has control characters");
    o.groups_claim = NULL;
    o.groups_prefix = long_name;
    expect_config(&o, "--oidc-groups-prefix: longer than 255 bytes or has control characters");
    o.groups_prefix = NULL;
    o.username_prefix = long_name;
    expect_config(&o, "--oidc-username-prefix: longer than 255 bytes or has control characters");
    o.username_prefix = NULL;

    /* The issuer is held to a name's bound (the user name prefix is made
     * of it), and the message says which bound. */
    char long_iss[300];
    snprintf(long_iss, sizeof(long_iss), ISS "/%0270d", 0);
    o.issuer_url = long_iss;
    expect_config(&o, "--oidc-issuer-url: longer than 255 bytes or has control characters");
    /* kube's default prefix is "issuer#": an issuer that leaves no room
     * for it is refused, unless the prefix is given. */
    snprintf(long_iss, sizeof(long_iss), ISS "/%0*d", AUTH_NAME_MAX - 1 - (int)strlen(ISS "/"), 0);
    assert_int_equal(strlen(long_iss), AUTH_NAME_MAX - 1);
    expect_config(&o, "--oidc-issuer-url: too long for a user name prefix");
    o.username_prefix = "-";
    struct oidc_config c;
    char err[OIDC_ERR_MAX];
    assert_int_equal(oidc_config_init(&c, &o, err, sizeof(err)), 0);
    assert_string_equal(c.username_prefix, "");
    o.issuer_url = ISS;
    o.username_prefix = NULL;

    /* Required claims: key=value, a key and a value that fit. */
    o.required_claims_len = 1;
    o.required_claims[0] = "=admin";
    expect_config(&o, "--oidc-required-claim wants key=value, got \"=admin\"");
    char long_key[200];
    snprintf(long_key, sizeof(long_key), "%0150d=v", 0);
    o.required_claims[0] = long_key;
    char want[OIDC_ERR_MAX];
    snprintf(want, sizeof(want), "--oidc-required-claim wants key=value, got \"%.64s\"", long_key);
    expect_config(&o, want);
    o.required_claims[0] = "team=a\tb";
    expect_config(&o, "--oidc-required-claim: longer than 255 bytes or has control characters");
    /* More than OIDC_REQUIRED_CLAIMS_MAX claimed: the array's bound holds. */
    for (size_t i = 0; i < OIDC_REQUIRED_CLAIMS_MAX; i++)
        o.required_claims[i] = "k=v";
    o.required_claims_len = OIDC_REQUIRED_CLAIMS_MAX + 1;
    assert_int_equal(oidc_config_init(&c, &o, err, sizeof(err)), 0);
    assert_int_equal(c.required_len, OIDC_REQUIRED_CLAIMS_MAX);
    o.required_claims_len = 0;

    /* Signing algorithms: listed, deduplicated, bounded. */
    o.signing_algs = ",";
    expect_config(&o, "--oidc-signing-algs: empty");
    o.signing_algs = long_name;
    expect_config(&o, "--oidc-signing-algs: too long");
    o.signing_algs = "RS256,HS256";
    expect_config(&o, "--oidc-signing-algs: \"HS256\" is not one of RS256, RS384, RS512, PS256, "
                      "PS384, PS512, ES256, ES384, ES512");
    o.signing_algs = "ES512,RS256,ES512";
    assert_int_equal(oidc_config_init(&c, &o, err, sizeof(err)), 0);
    assert_int_equal(c.algs_len, 2);
    assert_string_equal(oidc_alg_name(c.algs[0]), "ES512");
    assert_string_equal(oidc_alg_name(c.algs[1]), "RS256");
    assert_string_equal(oidc_alg_name(OIDC_ALG_INVALID), "invalid");
    assert_string_equal(oidc_alg_name(OIDC_ALGS_MAX), "invalid");
}

static void test_discovery_edges(void **state)
{
    char uri[16], err[OIDC_ERR_MAX];
    const char *ok = "{\"issuer\":\"" ISS "\",\"jwks_uri\":\"" ISS "/a/long/jwks/path\"}";
    /* A jwks_uri longer than the caller's buffer. */
    assert_int_equal(oidc_discovery_parse(ok, strlen(ok), ISS, uri, sizeof(uri), err, sizeof(err)),
                     -1);
    assert_string_equal(err, "the discovery document's jwks_uri is not an https:// URL");
    /* A document over OIDC_DOC_MAX is not read at all. */
    assert_int_equal(
        oidc_discovery_parse(ok, OIDC_DOC_MAX + 1, ISS, uri, sizeof(uri), err, sizeof(err)), -1);
    assert_string_equal(err, "the discovery document is not a JSON object");

    struct oidc_endpoints ep;
    const char *full =
        "{\"authorization_endpoint\":\"" ISS "/auth\",\"token_endpoint\":\"" ISS "/token\"}";
    assert_int_equal(oidc_discovery_endpoints(full, strlen(full), &ep, err, sizeof(err)), 0);
    assert_string_equal(ep.authorization, ISS "/auth");
    assert_string_equal(ep.end_session, "");
    const char *no_auth = "{\"token_endpoint\":\"" ISS "/token\"}";
    assert_int_equal(oidc_discovery_endpoints(no_auth, strlen(no_auth), &ep, err, sizeof(err)), -1);
    assert_string_equal(err, "the discovery document's authorization_endpoint is not an https:// "
                             "URL");
    const char *plain_token =
        "{\"authorization_endpoint\":\"" ISS "/auth\",\"token_endpoint\":\"http://idp/token\"}";
    assert_int_equal(
        oidc_discovery_endpoints(plain_token, strlen(plain_token), &ep, err, sizeof(err)), -1);
    assert_string_equal(err, "the discovery document's token_endpoint is not an https:// URL");
    assert_string_equal(ep.authorization, ""); /* zeroed on error */
    const char *bad_end = "{\"authorization_endpoint\":\"" ISS "/auth\",\"token_endpoint\":\"" ISS
                          "/token\",\"end_session_endpoint\":7}";
    assert_int_equal(oidc_discovery_endpoints(bad_end, strlen(bad_end), &ep, err, sizeof(err)), -1);
    assert_string_equal(err, "the discovery document's end_session_endpoint is not an https:// "
                             "URL");
    assert_int_equal(oidc_discovery_endpoints("[1]", 3, &ep, err, sizeof(err)), -1);
    assert_string_equal(err, "the discovery document is not a JSON object");

    /* A URL at OIDC_URL_MAX is refused. */
    char url[OIDC_URL_MAX + 16];
    snprintf(url, sizeof(url), "https://idp/%0*d", OIDC_URL_MAX, 0);
    struct oidc_url u;
    assert_int_equal(oidc_url_parse(url, &u), -1);
}

/* One JWK, alone in a JWKS: kept or not. */
static bool jwk_kept(const char *jwk)
{
    char doc[4 * FX_JWK_MAX], err[OIDC_ERR_MAX];
    snprintf(doc, sizeof(doc), "{\"keys\":[%s]}", jwk);
    struct oidc_keyset set;
    int rc = oidc_jwks_parse(doc, strlen(doc), &set, err, sizeof(err));
    oidc_keyset_clear(&set);
    return rc == 0;
}

static void test_jwks_edges(void **state)
{
    EVP_PKEY *rsa = EVP_RSA_gen(2048), *ec = EVP_EC_gen("P-256");
    char jwk[FX_JWK_MAX], bad[FX_JWK_MAX + 256];
    fx_jwk(rsa, "r1", "", jwk);
    assert_true(jwk_kept(jwk));
    /* No kty; a "use" that is not a string; a kid of OIDC_KID_MAX. */
    snprintf(bad, sizeof(bad), "{%s", strstr(jwk, "\"kid\""));
    assert_false(jwk_kept(bad));
    fx_jwk(rsa, "r1", ",\"use\":1", bad);
    assert_false(jwk_kept(bad));
    char kid[OIDC_KID_MAX + 1];
    memset(kid, 'k', OIDC_KID_MAX);
    kid[OIDC_KID_MAX] = '\0';
    fx_jwk(rsa, kid, "", bad);
    assert_false(jwk_kept(bad));
    /* RSA without n; with an even exponent; with an exponent of 1. */
    assert_false(jwk_kept("{\"kty\":\"RSA\",\"e\":\"AQAB\"}"));
    char *e = strstr(jwk, "\"e\":\"");
    snprintf(bad, sizeof(bad), "%.*s\"e\":\"AQAC\"}", (int)(e - jwk), jwk);
    assert_false(jwk_kept(bad));
    snprintf(bad, sizeof(bad), "%.*s\"e\":\"AQ\"}", (int)(e - jwk), jwk);
    assert_false(jwk_kept(bad));
    /* EC: an x one byte short, an unknown curve, no curve. */
    fx_jwk(ec, "e1", "", jwk);
    assert_true(jwk_kept(jwk));
    char *x = strstr(jwk, "\"x\":\"") + 5;
    snprintf(bad, sizeof(bad), "%.*s%s", (int)(x - jwk), jwk, x + 4); /* 3 bytes fewer */
    assert_false(jwk_kept(bad));
    char *crv = strstr(jwk, "P-256");
    snprintf(bad, sizeof(bad), "%.*sP-192%s", (int)(crv - jwk), jwk, crv + 5);
    assert_false(jwk_kept(bad));
    assert_false(jwk_kept("{\"kty\":\"EC\",\"x\":\"AA\",\"y\":\"AA\"}"));

    /* At most OIDC_KEYS_MAX keys are kept. */
    static char doc[(OIDC_KEYS_MAX + 2) * FX_JWK_MAX];
    size_t len = (size_t)snprintf(doc, sizeof(doc), "{\"keys\":[");
    for (int i = 0; i < OIDC_KEYS_MAX + 2; i++) {
        char k[8];
        snprintf(k, sizeof(k), "k%d", i);
        fx_jwk(ec, k, "", jwk);
        len += (size_t)snprintf(doc + len, sizeof(doc) - len, "%s%s", i ? "," : "", jwk);
    }
    snprintf(doc + len, sizeof(doc) - len, "]}");
    struct oidc_keyset set;
    char err[OIDC_ERR_MAX];
    assert_int_equal(oidc_jwks_parse(doc, strlen(doc), &set, err, sizeof(err)), 0);
    assert_int_equal(set.len, OIDC_KEYS_MAX);
    assert_string_equal(set.keys[OIDC_KEYS_MAX - 1].kid, "k31");
    oidc_keyset_clear(&set);
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(ec);
}

/* ---- tokens at their edges ---- */

static void config(struct oidc_config *c, const char *algs)
{
    struct oidc_opts o = {
        .issuer_url = ISS, .client_id = "podterm", .username_prefix = "-", .signing_algs = algs};
    char err[OIDC_ERR_MAX];
    if (oidc_config_init(c, &o, err, sizeof(err)) < 0)
        fail_msg("%s", err);
}

static void keyset(struct oidc_keyset *set, EVP_PKEY *const *k, const char *const *kid,
                   const char *const *extra, size_t n)
{
    char doc[8 * FX_JWK_MAX], jwk[FX_JWK_MAX], err[OIDC_ERR_MAX];
    size_t len = (size_t)snprintf(doc, sizeof(doc), "{\"keys\":[");
    for (size_t i = 0; i < n; i++) {
        fx_jwk(k[i], kid[i], extra[i], jwk);
        len += (size_t)snprintf(doc + len, sizeof(doc) - len, "%s%s", i ? "," : "", jwk);
    }
    snprintf(doc + len, sizeof(doc) - len, "]}");
    if (oidc_jwks_parse(doc, strlen(doc), set, err, sizeof(err)) < 0)
        fail_msg("%s", err);
}

static const char *payload_of(const char *sub)
{
    static char p[512];
    snprintf(p, sizeof(p), "{\"iss\":\"" ISS "\",\"aud\":\"podterm\",\"sub\":\"%s\",\"exp\":%lld}",
             sub, (long long)NOW + 300);
    return p;
}

static int check(const struct oidc_config *c, const struct oidc_keyset *set, EVP_PKEY *k,
                 const char *alg, const char *kid, const char *payload)
{
    char header[128], token[FX_TOKEN_MAX];
    snprintf(header, sizeof(header), "{\"alg\":\"%s\",\"kid\":\"%s\"}", alg, kid);
    fx_sign(k, alg, header, payload, token);
    struct auth_identity id;
    return oidc_verify(c, set, token, NOW, &id, NULL);
}

static void test_token_edges(void **state)
{
    EVP_PKEY *p384 = EVP_EC_gen("P-384"), *p521 = EVP_EC_gen("P-521"), *p256 = EVP_EC_gen("P-256"),
             *rsa = EVP_RSA_gen(2048);
    EVP_PKEY *const k[] = {p384, p521, p256, rsa};
    const char *const kid[] = {"e384", "e521", "e256", "r384"};
    const char *const extra[] = {"", "", "", ",\"alg\":\"RS384\""};
    struct oidc_keyset set;
    keyset(&set, k, kid, extra, 4);
    struct oidc_config c;
    config(&c, "ES256,ES384,ES512,RS256,RS384");
    const char *p = payload_of("alice");
    assert_int_equal(check(&c, &set, p384, "ES384", "e384", p), OIDC_OK);
    assert_int_equal(check(&c, &set, p521, "ES512", "e521", p), OIDC_OK);
    /* A key that does not fit the token's alg: another curve, another
     * RSA hash than its JWK's "alg". */
    assert_int_equal(check(&c, &set, p384, "ES384", "e256", p), OIDC_ERR_SIGNATURE);
    assert_int_equal(check(&c, &set, rsa, "RS256", "r384", p), OIDC_ERR_SIGNATURE);
    assert_int_equal(check(&c, &set, rsa, "RS384", "r384", p), OIDC_OK);
    /* An empty user name (payload_of's buffer is p's: made again after). */
    assert_int_equal(check(&c, &set, rsa, "RS384", "r384", payload_of("")), OIDC_ERR_USERNAME);
    p = payload_of("alice");

    /* Signatures of the wrong size: an ES256 token signed with P-384 (96
     * bytes, not 64), an RSA signature cut by a byte. */
    char header[128], token[FX_TOKEN_MAX];
    struct auth_identity id;
    snprintf(header, sizeof(header), "{\"alg\":\"ES256\",\"kid\":\"e256\"}");
    fx_sign(p384, "ES384", header, p, token);
    assert_int_equal(oidc_verify(&c, &set, token, NOW, &id, NULL), OIDC_ERR_SIGNATURE);
    snprintf(header, sizeof(header), "{\"alg\":\"RS384\",\"kid\":\"r384\"}");
    fx_sign(rsa, "RS384", header, p, token);
    token[strlen(token) - 2] = '\0'; /* 342 characters to 340: 255 bytes, not 256 */
    assert_int_equal(oidc_verify(&c, &set, token, NOW, &id, NULL), OIDC_ERR_SIGNATURE);
    /* A signature that is not base64url. */
    char *dot = strrchr(token, '.');
    strcpy(dot + 1, "!!!!");
    assert_int_equal(oidc_verify(&c, &set, token, NOW, &id, NULL), OIDC_ERR_MALFORMED);

    /* Structure: too long, an empty payload, no token, no keys. */
    static char huge[AUTH_TOKEN_MAX + 8];
    memset(huge, 'a', sizeof(huge) - 1);
    huge[10] = '.';
    huge[20] = '.';
    assert_int_equal(oidc_verify(&c, &set, huge, NOW, &id, NULL), OIDC_ERR_MALFORMED);
    assert_int_equal(oidc_verify(&c, &set, "eyJhbGciOiJSUzI1NiJ9..c2ln", NOW, &id, NULL),
                     OIDC_ERR_MALFORMED);
    assert_int_equal(oidc_verify(&c, &set, NULL, NOW, &id, NULL), OIDC_ERR_MALFORMED);
    assert_int_equal(check(&c, NULL, rsa, "RS384", "r384", p), OIDC_ERR_NO_KEYS);
    fx_sign(rsa, "RS384", "{\"alg\":\"RS384\",\"kid\":\"r384\"}", p, token);
    assert_false(oidc_claim_is(token, "sub", NULL));
    assert_false(oidc_claim_is(NULL, "sub", "alice"));
    assert_false(oidc_claim_is("a.b", "sub", "alice"));
    assert_true(oidc_claim_is(token, "sub", "alice"));
    assert_string_equal(oidc_verify_strerror(12345), "invalid");
    oidc_keyset_clear(&set);
    for (size_t i = 0; i < 4; i++)
        EVP_PKEY_free(k[i]);
}

static void test_http_edges(void **state)
{
    assert_string_equal(oidc_http_strerror(OIDC_HTTP_ERR_HEAD), "malformed HTTP response head");
    assert_string_equal(oidc_http_strerror(OIDC_HTTP_ERR_STATUS), "HTTP status is not 200");
    assert_string_equal(oidc_http_strerror(OIDC_HTTP_ERR_SIZE), "response body too large");
    assert_string_equal(oidc_http_strerror(OIDC_HTTP_ERR_BODY),
                        "response body cut short or badly framed");
    assert_string_equal(oidc_http_strerror(OIDC_HTTP_MORE), "incomplete response");

    static char out[OIDC_DOC_MAX];
    const char *body;
    size_t len;
    int status;
    /* A chunk size that is not hex; a chunk cut at the end of the stream. */
    const char *bad = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n";
    assert_int_equal(oidc_http_response(bad, strlen(bad), false, out, &body, &len, &status),
                     OIDC_HTTP_ERR_BODY);
    const char *cut = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nabc";
    assert_int_equal(oidc_http_response(cut, strlen(cut), false, out, &body, &len, &status),
                     OIDC_HTTP_MORE);
    assert_int_equal(oidc_http_response(cut, strlen(cut), true, out, &body, &len, &status),
                     OIDC_HTTP_ERR_BODY);
    /* A chunked body past OIDC_DOC_MAX once decoded. */
    const char *head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    size_t hl = strlen(head), n = OIDC_DOC_MAX + 1;
    char *big = malloc(hl + n + 64);
    int l = snprintf(big, hl + 64, "%s%zx\r\n", head, n);
    memset(big + l, 'a', n);
    memcpy(big + l + n, "\r\n0\r\n\r\n", 8);
    assert_int_equal(oidc_http_response(big, (size_t)l + n + 7, true, out, &body, &len, &status),
                     OIDC_HTTP_ERR_SIZE);
    free(big);
    /* The caller's buffer never shrinks. */
    struct oidc_http h;
    oidc_http_init(&h, out);
    const char *ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}";
    assert_int_equal(oidc_http_feed(&h, ok, strlen(ok) - 2, false, &body, &len, &status),
                     OIDC_HTTP_MORE);
    assert_int_equal(oidc_http_feed(&h, ok, 3, false, &body, &len, &status), OIDC_HTTP_ERR_BODY);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_refusals), cmocka_unit_test(test_discovery_edges),
        cmocka_unit_test(test_jwks_edges),      cmocka_unit_test(test_token_edges),
        cmocka_unit_test(test_http_edges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
