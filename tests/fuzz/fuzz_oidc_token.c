/* fuzz_oidc_token.c - libFuzzer target for the ID token checks
 * (oidc_verify, issue 16) against a JWKS of one RSA and one EC key made at
 * start-up, every algorithm allowed.
 * The input is tried as a token: whatever it is, an identity comes back
 * only with a valid user name under the configured prefix and valid group
 * names, and a refusal leaves nothing behind.
 * Round trip: a token signed by the EC key for a user named by the input's
 * first line verifies to exactly that user when it is a valid name; the same
 * token with one payload byte changed never verifies. */
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth_internal.h"
#include "oidc/oidc_internal.h"

#define FUZZ_NOW 1700000000
#define FUZZ_ISSUER "https://127.0.0.1:8443"
#define FUZZ_JSON_MAX (AUTH_TOKEN_MAX / 2)

static struct oidc_config cfg;
static struct oidc_keyset keys;
static EVP_PKEY *ec;

static void b64url(const unsigned char *in, size_t len, char *out)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        unsigned long v = (unsigned long)in[i] << 16 | (i + 1 < len ? in[i + 1] << 8 : 0) |
                          (i + 2 < len ? in[i + 2] : 0);
        out[o++] = abc[(v >> 18) & 63];
        out[o++] = abc[(v >> 12) & 63];
        if (i + 1 < len)
            out[o++] = abc[(v >> 6) & 63];
        if (i + 2 < len)
            out[o++] = abc[v & 63];
    }
    out[o] = '\0';
}

static void bn_b64(EVP_PKEY *k, const char *param, char *out)
{
    BIGNUM *bn = NULL;
    unsigned char buf[512];
    if (EVP_PKEY_get_bn_param(k, param, &bn) != 1)
        abort();
    int n = !strcmp(param, OSSL_PKEY_PARAM_EC_PUB_X) || !strcmp(param, OSSL_PKEY_PARAM_EC_PUB_Y)
                ? 32
                : BN_num_bytes(bn);
    BN_bn2binpad(bn, buf, n);
    b64url(buf, (size_t)n, out);
    BN_free(bn);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    EVP_PKEY *rsa = EVP_RSA_gen(2048);
    ec = EVP_EC_gen("P-256");
    char n[700], e[16], x[64], y[64], doc[2048], err[OIDC_ERR_MAX];
    bn_b64(rsa, OSSL_PKEY_PARAM_RSA_N, n);
    bn_b64(rsa, OSSL_PKEY_PARAM_RSA_E, e);
    bn_b64(ec, OSSL_PKEY_PARAM_EC_PUB_X, x);
    bn_b64(ec, OSSL_PKEY_PARAM_EC_PUB_Y, y);
    snprintf(doc, sizeof(doc),
             "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"r\",\"n\":\"%s\",\"e\":\"%s\"},"
             "{\"kty\":\"EC\",\"kid\":\"e\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"}]}",
             n, e, x, y);
    struct oidc_opts o = {.issuer_url = FUZZ_ISSUER,
                          .client_id = "podterm",
                          .groups_claim = "groups",
                          .groups_prefix = "g:",
                          .signing_algs = "RS256,RS384,RS512,PS256,PS384,PS512,ES256,ES384,ES512"};
    if (oidc_jwks_parse(doc, strlen(doc), &keys, err, sizeof(err)) != 0 ||
        oidc_config_init(&cfg, &o, err, sizeof(err)) != 0)
        abort();
    EVP_PKEY_free(rsa);
    return 0;
}

static void check_identity(int rc, const struct auth_identity *id)
{
    if (rc != OIDC_OK) {
        if (id->user[0] || id->groups_len)
            __builtin_trap();
        return;
    }
    size_t pl = strlen(cfg.username_prefix), n = strnlen(id->user, AUTH_NAME_MAX);
    if (n == AUTH_NAME_MAX || n <= pl || strncmp(id->user, cfg.username_prefix, pl) != 0 ||
        !auth_name_is_valid(id->user, n, false) || id->groups_len >= AUTH_GROUPS_MAX)
        __builtin_trap();
    for (size_t i = 0; i < id->groups_len; i++) {
        size_t g = strnlen(id->groups[i], AUTH_NAME_MAX);
        if (g == AUTH_NAME_MAX || strncmp(id->groups[i], "g:", 2) != 0 ||
            !auth_name_is_valid(id->groups[i], g, false))
            __builtin_trap();
    }
}

/* A token for sub (a JSON string's contents), signed by the EC key. */
static bool sign_for(const char *sub, char *token, size_t cap)
{
    char claims[FUZZ_JSON_MAX], b_head[128], b_body[FUZZ_JSON_MAX * 4 / 3 + 4];
    int n = snprintf(claims, sizeof(claims),
                     "{\"iss\":\"" FUZZ_ISSUER "\",\"aud\":\"podterm\",\"sub\":\"%s\",\"exp\":%d}",
                     sub, FUZZ_NOW + 60);
    if (n < 0 || (size_t)n >= sizeof(claims))
        return false;
    const char *head = "{\"alg\":\"ES256\",\"kid\":\"e\"}";
    b64url((const unsigned char *)head, strlen(head), b_head);
    b64url((const unsigned char *)claims, (size_t)n, b_body);
    int len = snprintf(token, cap, "%s.%s", b_head, b_body);
    if (len < 0 || (size_t)len + 100 >= cap)
        return false;
    unsigned char der[128], raw[64];
    size_t der_len = sizeof(der);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, ec) != 1 ||
        EVP_DigestSign(md, der, &der_len, (unsigned char *)token, (size_t)len) != 1)
        abort();
    EVP_MD_CTX_free(md);
    const unsigned char *p = der;
    ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
    BN_bn2binpad(ECDSA_SIG_get0_r(es), raw, 32);
    BN_bn2binpad(ECDSA_SIG_get0_s(es), raw + 32, 32);
    ECDSA_SIG_free(es);
    token[len++] = '.';
    b64url(raw, 64, token + len);
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char token[AUTH_TOKEN_MAX + 1];
    static struct auth_identity id;
    if (size > AUTH_TOKEN_MAX)
        return 0;
    memcpy(token, data, size);
    token[size] = '\0';
    check_identity(oidc_verify(&cfg, &keys, token, FUZZ_NOW, &id, NULL), &id);
    auth_identity_clear(&id);

    /* Round trip with the first line as the user (no JSON escapes in it). */
    size_t line = strcspn(token, "\n");
    token[line] = '\0';
    bool plain = line > 0 && line < 200;
    for (size_t i = 0; plain && i < line; i++)
        plain = (unsigned char)token[i] >= 0x20 && (unsigned char)token[i] < 0x7f &&
                token[i] != '"' && token[i] != '\\';
    if (!plain)
        return 0;
    char sub[256], signed_token[AUTH_TOKEN_MAX];
    snprintf(sub, sizeof(sub), "%s", token);
    if (!sign_for(sub, signed_token, sizeof(signed_token)))
        return 0;
    int rc = oidc_verify(&cfg, &keys, signed_token, FUZZ_NOW, &id, NULL);
    char want[AUTH_NAME_MAX * 2];
    snprintf(want, sizeof(want), "%s%s", cfg.username_prefix, sub);
    if (rc != OIDC_OK || strcmp(id.user, want) != 0)
        __builtin_trap();
    auth_identity_clear(&id);
    /* Change one byte of the payload: never accepted. */
    char *body = strchr(signed_token, '.') + 1;
    body[data[0] % (strchr(body, '.') - body)] ^= 0x01;
    check_identity(rc = oidc_verify(&cfg, &keys, signed_token, FUZZ_NOW, &id, NULL), &id);
    if (rc == OIDC_OK)
        __builtin_trap();
    return 0;
}
