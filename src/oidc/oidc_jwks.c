/* oidc_jwks.c - the issuer's discovery document and JWKS read into
 * OpenSSL keys, sans-I/O (RFC 8414 / OpenID Connect Discovery 1.0, RFC
 * 7517, RFC 7518 6). Duplicate JSON members are refused, as for tokens: a
 * parser that kept the other one would see another key. A JWK podterm
 * cannot use is left out rather than failing the set, as providers publish
 * encryption keys and new key types beside their signing keys. */
#include "oidc/oidc_internal.h"

#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>

#include "util/util_base64.h"

#define OIDC_JWK_FIELD_MAX (OIDC_RSA_BITS_MAX / 8) /* bytes of n, x or y */
#define OIDC_JWK_E_MAX 8                           /* bytes of an RSA exponent */
#define OIDC_EC_POINT_MAX (1 + 2 * 66)             /* uncompressed P-521 point */

static json_t *oidc_json_object(const char *json, size_t len, const char *what, char *err,
                                size_t err_cap)
{
    json_error_t je;
    json_t *js = len <= OIDC_DOC_MAX ? json_loadb(json, len, JSON_REJECT_DUPLICATES, &je) : NULL;
    if (!js || !json_is_object(js)) {
        snprintf(err, err_cap, "the %s is not a JSON object", what);
        json_decref(js);
        return NULL;
    }
    return js;
}

int oidc_discovery_parse(const char *json, size_t len, const char *issuer, char *jwks_uri,
                         size_t cap, char *err, size_t err_cap)
{
    json_t *doc = oidc_json_object(json, len, "discovery document", err, err_cap);
    if (!doc)
        return -1;
    int rc = -1;
    json_t *iss = json_object_get(doc, "issuer"), *uri = json_object_get(doc, "jwks_uri");
    struct oidc_url u;
    /* OpenID Connect Discovery 4.3: the issuer must be identical, or a
     * provider could speak for another. */
    if (!json_is_string(iss) || strcmp(json_string_value(iss), issuer) != 0 ||
        strlen(json_string_value(iss)) != json_string_length(iss))
        snprintf(err, err_cap, "the discovery document's issuer is not %s", issuer);
    else if (!json_is_string(uri) || json_string_length(uri) >= cap ||
             strlen(json_string_value(uri)) != json_string_length(uri) ||
             oidc_url_parse(json_string_value(uri), &u) < 0)
        snprintf(err, err_cap, "the discovery document's jwks_uri is not an https:// URL");
    else {
        strcpy(jwks_uri, json_string_value(uri));
        rc = 0;
    }
    json_decref(doc);
    return rc;
}

/* One endpoint URL of the discovery document: https, bounded; optional
 * ones may be absent (out ""), a present one must be valid. */
static int oidc_endpoint(json_t *doc, const char *name, bool required, char *out, char *err,
                         size_t err_cap)
{
    json_t *v = json_object_get(doc, name);
    struct oidc_url u;
    out[0] = '\0';
    if (!v && !required)
        return 0;
    if (!json_is_string(v) || json_string_length(v) >= OIDC_URL_MAX ||
        strlen(json_string_value(v)) != json_string_length(v) ||
        oidc_url_parse(json_string_value(v), &u) < 0) {
        snprintf(err, err_cap, "the discovery document's %s is not an https:// URL", name);
        return -1;
    }
    strcpy(out, json_string_value(v));
    return 0;
}

int oidc_discovery_endpoints(const char *json, size_t len, struct oidc_endpoints *ep, char *err,
                             size_t err_cap)
{
    memset(ep, 0, sizeof(*ep));
    json_t *doc = oidc_json_object(json, len, "discovery document", err, err_cap);
    if (!doc)
        return -1;
    int rc = oidc_endpoint(doc, "authorization_endpoint", true, ep->authorization, err, err_cap);
    if (rc == 0)
        rc = oidc_endpoint(doc, "token_endpoint", true, ep->token, err, err_cap);
    if (rc == 0)
        rc = oidc_endpoint(doc, "end_session_endpoint", false, ep->end_session, err, err_cap);
    json_decref(doc);
    if (rc < 0)
        memset(ep, 0, sizeof(*ep));
    return rc;
}

/* A base64url member into out: its byte count, or -1. */
static int oidc_jwk_bytes(json_t *jwk, const char *name, unsigned char *out, size_t cap)
{
    json_t *v = json_object_get(jwk, name);
    if (!json_is_string(v))
        return -1;
    return util_base64url_decode(json_string_value(v), json_string_length(v), out, cap, false);
}

static EVP_PKEY *oidc_pkey_from(const char *type, OSSL_PARAM_BLD *bld)
{
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    EVP_PKEY *pkey = NULL;
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
        pkey = NULL;
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    return pkey;
}

static EVP_PKEY *oidc_jwk_rsa(json_t *jwk)
{
    unsigned char n[OIDC_JWK_FIELD_MAX], e[OIDC_JWK_E_MAX];
    int nl = oidc_jwk_bytes(jwk, "n", n, sizeof(n)), el = oidc_jwk_bytes(jwk, "e", e, sizeof(e));
    if (nl <= 0 || el <= 0)
        return NULL;
    BIGNUM *bn = BN_bin2bn(n, nl, NULL), *be = BN_bin2bn(e, el, NULL);
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    EVP_PKEY *pkey = NULL;
    /* An even exponent (or 1) is no RSA key. */
    bool odd = be && BN_is_odd(be) && !BN_is_one(be);
    if (odd && bn && bld && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be))
        pkey = oidc_pkey_from("RSA", bld);
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn);
    BN_free(be);
    int bits = pkey ? EVP_PKEY_get_bits(pkey) : 0;
    if (pkey && (bits < OIDC_RSA_BITS_MIN || bits > OIDC_RSA_BITS_MAX)) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }
    return pkey;
}

static EVP_PKEY *oidc_jwk_ec(json_t *jwk, enum oidc_alg *alg)
{
    const char *crv = json_string_value(json_object_get(jwk, "crv"));
    static const struct {
        const char *crv, *group;
        size_t size;
        enum oidc_alg alg;
    } curves[] = {{"P-256", "prime256v1", 32, OIDC_ALG_ES256},
                  {"P-384", "secp384r1", 48, OIDC_ALG_ES384},
                  {"P-521", "secp521r1", 66, OIDC_ALG_ES512}};
    for (size_t i = 0; crv && i < sizeof(curves) / sizeof(curves[0]); i++) {
        if (strcmp(crv, curves[i].crv) != 0)
            continue;
        unsigned char pt[OIDC_EC_POINT_MAX];
        size_t sz = curves[i].size;
        pt[0] = 0x04; /* uncompressed: x then y, each exactly the field's size (RFC 7518 6.2.1) */
        if (oidc_jwk_bytes(jwk, "x", pt + 1, sz + 1) != (int)sz ||
            oidc_jwk_bytes(jwk, "y", pt + 1 + sz, sz + 1) != (int)sz)
            return NULL;
        OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
        EVP_PKEY *pkey = NULL;
        if (bld &&
            OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, curves[i].group, 0) &&
            OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pt, 1 + 2 * sz))
            pkey = oidc_pkey_from("EC", bld);
        OSSL_PARAM_BLD_free(bld);
        /* A point off the curve would leak the verifier's nothing (we hold
         * no private key) but is no key either. */
        EVP_PKEY_CTX *ctx = pkey ? EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL) : NULL;
        if (pkey && (!ctx || EVP_PKEY_public_check(ctx) != 1)) {
            EVP_PKEY_free(pkey);
            pkey = NULL;
        }
        EVP_PKEY_CTX_free(ctx);
        *alg = curves[i].alg;
        return pkey;
    }
    return NULL;
}

/* One JWK into set (left out when podterm cannot use it). */
static void oidc_jwk_add(json_t *jwk, struct oidc_keyset *set)
{
    if (!json_is_object(jwk) || set->len == OIDC_KEYS_MAX)
        return;
    const char *kty = json_string_value(json_object_get(jwk, "kty"));
    json_t *use = json_object_get(jwk, "use"), *kid = json_object_get(jwk, "kid"),
           *alg = json_object_get(jwk, "alg");
    if (!kty || (use && (!json_is_string(use) || strcmp(json_string_value(use), "sig") != 0)))
        return;
    if (kid && (!json_is_string(kid) || json_string_length(kid) >= OIDC_KID_MAX ||
                strlen(json_string_value(kid)) != json_string_length(kid)))
        return;
    struct oidc_key k = {.ec_alg = OIDC_ALG_INVALID, .jwk_alg = OIDC_ALG_INVALID};
    if (alg && (k.jwk_alg = oidc_alg_parse(json_string_value(alg))) == OIDC_ALG_INVALID)
        return; /* a key for HS256, none or an algorithm we do not know */
    snprintf(k.kid, sizeof(k.kid), "%s", kid ? json_string_value(kid) : "");
    for (size_t i = 0; k.kid[0] && i < set->len; i++)
        if (strcmp(set->keys[i].kid, k.kid) == 0)
            return; /* the first one wins; a kid must name one key */
    if (strcmp(kty, "RSA") == 0) {
        k.rsa = true;
        k.pkey = oidc_jwk_rsa(jwk);
    } else if (strcmp(kty, "EC") == 0) {
        k.pkey = oidc_jwk_ec(jwk, &k.ec_alg);
    }
    ERR_clear_error();
    if (k.pkey)
        set->keys[set->len++] = k;
}

int oidc_jwks_parse(const char *json, size_t len, struct oidc_keyset *set, char *err,
                    size_t err_cap)
{
    memset(set, 0, sizeof(*set));
    json_t *doc = oidc_json_object(json, len, "JWKS", err, err_cap);
    if (!doc)
        return -1;
    json_t *keys = json_object_get(doc, "keys");
    if (!json_is_array(keys)) {
        snprintf(err, err_cap, "the JWKS has no \"keys\" array");
        json_decref(doc);
        return -1;
    }
    size_t i;
    json_t *jwk;
    json_array_foreach(keys, i, jwk) oidc_jwk_add(jwk, set);
    json_decref(doc);
    if (!set->len) {
        snprintf(err, err_cap,
                 "the JWKS holds no usable signing key (RSA of %d+ bits, or EC "
                 "P-256/P-384/P-521)",
                 OIDC_RSA_BITS_MIN);
        return -1;
    }
    return 0;
}

void oidc_keyset_clear(struct oidc_keyset *set)
{
    for (size_t i = 0; i < set->len; i++)
        EVP_PKEY_free(set->keys[i].pkey);
    memset(set, 0, sizeof(*set));
}
