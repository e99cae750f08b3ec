/* test_oidc_jwks.c - the documents fetched from the issuer, sans-I/O:
 * discovery (issuer exact, jwks_uri https), JWKS (RSA and EC keys kept;
 * encryption keys, HMAC keys, small RSA, off-curve points, duplicate kids
 * left out; no usable key is an error), the HTTP response framing
 * (Content-Length, chunked, end of stream, status, size) and the URLs.
 * Exact error strings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fixtures/oidc_fixtures.h"

#define ISS "https://127.0.0.1:8443"

static void test_discovery(void **state)
{
    char uri[OIDC_URL_MAX], err[OIDC_ERR_MAX];
    const char *ok = "{\"issuer\":\"" ISS "\",\"jwks_uri\":\"" ISS "/jwks\"}";
    assert_int_equal(oidc_discovery_parse(ok, strlen(ok), ISS, uri, sizeof(uri), err, sizeof(err)),
                     0);
    assert_string_equal(uri, ISS "/jwks");
    const char *other = "{\"issuer\":\"" ISS "/\",\"jwks_uri\":\"" ISS "/jwks\"}";
    assert_int_equal(
        oidc_discovery_parse(other, strlen(other), ISS, uri, sizeof(uri), err, sizeof(err)), -1);
    assert_string_equal(err, "the discovery document's issuer is not " ISS);
    const char *plain = "{\"issuer\":\"" ISS "\",\"jwks_uri\":\"http://127.0.0.1:8443/jwks\"}";
    assert_int_equal(
        oidc_discovery_parse(plain, strlen(plain), ISS, uri, sizeof(uri), err, sizeof(err)), -1);
    assert_string_equal(err, "the discovery document's jwks_uri is not an https:// URL");
    const char *dup = "{\"issuer\":\"" ISS "\",\"issuer\":\"x\",\"jwks_uri\":\"" ISS "/j\"}";
    assert_int_equal(
        oidc_discovery_parse(dup, strlen(dup), ISS, uri, sizeof(uri), err, sizeof(err)), -1);
    assert_string_equal(err, "the discovery document is not a JSON object");
    assert_int_equal(oidc_discovery_parse("[]", 2, ISS, uri, sizeof(uri), err, sizeof(err)), -1);
}

static void test_jwks(void **state)
{
    EVP_PKEY *rsa = EVP_RSA_gen(2048), *small = EVP_RSA_gen(1024), *ec = EVP_EC_gen("P-384");
    char a[FX_JWK_MAX], b[FX_JWK_MAX], c[FX_JWK_MAX], d[FX_JWK_MAX], e[FX_JWK_MAX];
    char doc[8 * FX_JWK_MAX], err[OIDC_ERR_MAX];
    fx_jwk(rsa, "r1", ",\"alg\":\"RS256\",\"use\":\"sig\"", a);
    fx_jwk(small, "small", "", b);
    fx_jwk(ec, "e1", "", c);
    fx_jwk(rsa, "enc", ",\"use\":\"enc\"", d);
    fx_jwk(rsa, "hs", ",\"alg\":\"HS256\"", e);
    snprintf(
        doc, sizeof(doc),
        "{\"keys\":[%s,%s,%s,%s,%s,{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"},\"x\",{\"kty\":\"OKP\"}"
        ",%s]}",
        a, b, c, d, e, a);
    struct oidc_keyset set;
    assert_int_equal(oidc_jwks_parse(doc, strlen(doc), &set, err, sizeof(err)), 0);
    assert_int_equal(set.len, 2); /* r1 (once) and e1 */
    assert_string_equal(set.keys[0].kid, "r1");
    assert_true(set.keys[0].rsa);
    assert_int_equal(set.keys[0].jwk_alg, OIDC_ALG_RS256);
    assert_string_equal(set.keys[1].kid, "e1");
    assert_false(set.keys[1].rsa);
    assert_int_equal(set.keys[1].ec_alg, OIDC_ALG_ES384);
    oidc_keyset_clear(&set);

    /* Only unusable keys: an error naming what would do. */
    snprintf(doc, sizeof(doc), "{\"keys\":[%s,%s]}", b, d);
    assert_int_equal(oidc_jwks_parse(doc, strlen(doc), &set, err, sizeof(err)), -1);
    assert_string_equal(err, "the JWKS holds no usable signing key (RSA of 2048+ bits, or EC "
                             "P-256/P-384/P-521)");
    assert_int_equal(set.len, 0);
    assert_int_equal(oidc_jwks_parse("{}", 2, &set, err, sizeof(err)), -1);
    assert_string_equal(err, "the JWKS has no \"keys\" array");
    assert_int_equal(oidc_jwks_parse("{\"keys\":", 8, &set, err, sizeof(err)), -1);
    assert_string_equal(err, "the JWKS is not a JSON object");

    /* An EC point moved off the curve (y + 1) is no key. */
    char *y = strstr(c, "\"y\":\"") + 5;
    y[strcspn(y, "\"") - 2] = y[strcspn(y, "\"") - 2] == 'A' ? 'B' : 'A';
    snprintf(doc, sizeof(doc), "{\"keys\":[%s]}", c);
    assert_int_equal(oidc_jwks_parse(doc, strlen(doc), &set, err, sizeof(err)), -1);
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(small);
    EVP_PKEY_free(ec);
}

static int response(const char *r, bool eof, const char **body, size_t *len, int *status)
{
    static char out[OIDC_DOC_MAX];
    return oidc_http_response(r, strlen(r), eof, out, body, len, status);
}

static void test_http_response(void **state)
{
    const char *body;
    size_t len;
    int status;
    const char *cl = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
    assert_int_equal(response(cl, false, &body, &len, &status), OIDC_HTTP_DONE);
    assert_int_equal(len, 5);
    assert_memory_equal(body, "hello", 5);
    assert_int_equal(
        response("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel", false, &body, &len, &status),
        OIDC_HTTP_MORE);
    assert_int_equal(
        response("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel", true, &body, &len, &status),
        OIDC_HTTP_ERR_BODY);
    const char *ch = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0"
                     "\r\n\r\n";
    assert_int_equal(response(ch, false, &body, &len, &status), OIDC_HTTP_DONE);
    assert_int_equal(len, 5);
    assert_memory_equal(body, "abcde", 5);
    const char *eof = "HTTP/1.1 200 OK\r\n\r\n{}";
    assert_int_equal(response(eof, false, &body, &len, &status), OIDC_HTTP_MORE);
    assert_int_equal(response(eof, true, &body, &len, &status), OIDC_HTTP_DONE);
    assert_int_equal(len, 2);
    assert_int_equal(
        response("HTTP/1.1 302 Found\r\nLocation: https://x/\r\n\r\n", false, &body, &len, &status),
        OIDC_HTTP_ERR_STATUS);
    assert_int_equal(status, 302);
    char big[128];
    snprintf(big, sizeof(big), "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n", OIDC_DOC_MAX + 1);
    assert_int_equal(response(big, false, &body, &len, &status), OIDC_HTTP_ERR_SIZE);
    assert_int_equal(response("garbage\r\n\r\n", false, &body, &len, &status), OIDC_HTTP_ERR_HEAD);
    assert_int_equal(response("HTTP/1.1 200", true, &body, &len, &status), OIDC_HTTP_ERR_HEAD);
    assert_string_equal(oidc_http_strerror(OIDC_HTTP_ERR_SIZE), "response body too large");
}

/* Fed one byte at a time, as a provider sending one-byte TLS records would:
 * the same body, and each byte looked at a bounded number of times. */
static void test_http_trickle(void **state)
{
    static char out[OIDC_DOC_MAX];
    const char *r = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n"
                    "0\r\n\r\n";
    struct oidc_http h;
    oidc_http_init(&h, out);
    const char *body = NULL;
    size_t len = 0, i;
    int status = 0, rc = OIDC_HTTP_MORE;
    for (i = 1; i <= strlen(r) && rc == OIDC_HTTP_MORE; i++)
        rc = oidc_http_feed(&h, r, i, false, &body, &len, &status);
    assert_int_equal(rc, OIDC_HTTP_DONE);
    assert_int_equal(i - 1, strlen(r));
    assert_int_equal(status, 200);
    assert_int_equal(len, 5);
    assert_memory_equal(body, "abcde", 5);
    /* A status other than 200 stays an error however it is fed on. */
    const char *nf = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
    oidc_http_init(&h, out);
    assert_int_equal(oidc_http_feed(&h, nf, strlen(nf), false, &body, &len, &status),
                     OIDC_HTTP_ERR_STATUS);
    assert_int_equal(oidc_http_feed(&h, nf, strlen(nf), true, &body, &len, &status),
                     OIDC_HTTP_ERR_STATUS);
    assert_int_equal(status, 404);
}

static void test_urls(void **state)
{
    struct oidc_url u;
    assert_int_equal(oidc_url_parse("https://127.0.0.1:8443/a/b?x=1", &u), 0);
    assert_string_equal(u.host, "127.0.0.1");
    assert_int_equal(u.port, 8443);
    assert_string_equal(u.path, "/a/b?x=1");
    assert_int_equal(oidc_url_parse("https://idp.example.test", &u), 0);
    assert_int_equal(u.port, 443);
    assert_string_equal(u.path, "/");
    assert_int_equal(oidc_url_parse("https://[::1]:9/x", &u), 0);
    assert_string_equal(u.host, "::1");
    assert_int_equal(oidc_url_parse("https://[::1]/", &u), 0);
    assert_int_equal(u.port, 443);
    const char *bad[] = {
        "http://a/",
        "https://",
        "https://u@a/",
        "https://a:0/",
        "https://a:99999/",
        "https://a/#f",
        "https://a/\r\nX: y",
        "https://a b/",
        "https://[zz]/",
        "HTTPS://a/",
        "https://[]/",
        "https://[::1",
        "https://[::1]x/",
        "https://:443/",
        "https://a:/",
        "https://a:12a/",
        "https://a:123456/",
        "https://a\x7f/",
        "https://a%2f/",
        "https://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(oidc_url_parse(bad[i], &u), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_discovery),     cmocka_unit_test(test_jwks),
        cmocka_unit_test(test_http_response), cmocka_unit_test(test_http_trickle),
        cmocka_unit_test(test_urls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
