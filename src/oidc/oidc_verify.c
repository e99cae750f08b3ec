/* oidc_verify.c - is this an ID token of our issuer for us, and who does it
 * name? Sans-I/O: the keys and the clock are passed in.
 *
 * The order of the checks is the order of trust: shape, then the header's
 * alg against --oidc-signing-algs (never none or HS*: an HMAC "signed" with
 * the provider's public key is the classic hole), then the key named by kid
 * and the signature with OpenSSL directly (libjwt 1.10 has no PS* and wants
 * PEM), and only then anything the payload says: iss, aud, exp, nbf, iat,
 * the required claims, the user name and groups. The alg must also fit the
 * key's type (and the JWK's own alg, when it gives one). */
#include "oidc/oidc_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/rsa.h>

#include "auth/auth_internal.h"
#include "util/util_base64.h"

#define OIDC_SIG_MAX (OIDC_RSA_BITS_MAX / 8) /* bytes of a signature */
#define OIDC_EC_DER_MAX 160                  /* a DER ECDSA-Sig-Value for P-521 */

const char *oidc_verify_strerror(int rc)
{
    switch (rc) {
    case OIDC_OK:
        return "ok";
    case OIDC_ERR_MALFORMED:
        return "not a JWT";
    case OIDC_ERR_ALG:
        return "signing algorithm not allowed";
    case OIDC_ERR_UNKNOWN_KID:
        return "unknown key id";
    case OIDC_ERR_SIGNATURE:
        return "bad signature";
    case OIDC_ERR_ISSUER:
        return "wrong issuer";
    case OIDC_ERR_AUDIENCE:
        return "wrong audience";
    case OIDC_ERR_EXPIRED:
        return "expired";
    case OIDC_ERR_NOT_YET:
        return "not valid yet";
    case OIDC_ERR_USERNAME:
        return "no valid user name claim";
    case OIDC_ERR_EMAIL:
        return "email not verified";
    case OIDC_ERR_GROUPS:
        return "invalid groups claim";
    case OIDC_ERR_REQUIRED:
        return "required claim missing or different";
    case OIDC_ERR_NO_KEYS:
        return "the issuer's keys are not loaded";
    default:
        return "invalid";
    }
}

struct oidc_parts {
    const char *head, *body, *sig;
    size_t head_len, body_len, sig_len, signed_len;
};

static int oidc_split(const char *token, struct oidc_parts *p)
{
    size_t len = strnlen(token, AUTH_TOKEN_MAX + 1);
    const char *d1 = memchr(token, '.', len);
    const char *d2 = d1 ? memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - token)) : NULL;
    if (len > AUTH_TOKEN_MAX || !d2 || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - token)))
        return -1;
    *p = (struct oidc_parts){token,
                             d1 + 1,
                             d2 + 1,
                             (size_t)(d1 - token),
                             (size_t)(d2 - d1 - 1),
                             len - (size_t)(d2 + 1 - token),
                             (size_t)(d2 - token)};
    return p->head_len && p->body_len && p->sig_len ? 0 : -1;
}

/* A part as a JSON object; duplicate members refused (another parser might
 * keep the other one), base64url strict (one value, one text). */
static json_t *oidc_part_json(const char *s, size_t len)
{
    unsigned char *buf = malloc(len);
    int n = buf ? util_base64url_decode(s, len, buf, len, true) : -1;
    json_t *js =
        n >= 0 ? json_loadb((const char *)buf, (size_t)n, JSON_REJECT_DUPLICATES, NULL) : NULL;
    free(buf);
    if (js && !json_is_object(js)) {
        json_decref(js);
        js = NULL;
    }
    return js;
}

static bool oidc_alg_allowed(const struct oidc_config *c, enum oidc_alg alg)
{
    for (size_t i = 0; i < c->algs_len; i++)
        if (c->algs[i] == alg)
            return true;
    return false;
}

static const EVP_MD *oidc_alg_md(enum oidc_alg alg)
{
    switch (alg % 3) {
    case 0:
        return EVP_sha256();
    case 1:
        return EVP_sha384();
    default:
        return EVP_sha512();
    }
}

static bool oidc_key_fits(const struct oidc_key *k, enum oidc_alg alg)
{
    if (k->jwk_alg != OIDC_ALG_INVALID && k->jwk_alg != alg)
        return false;
    return alg <= OIDC_ALG_PS512 ? k->rsa : (!k->rsa && k->ec_alg == alg);
}

/* JWS's ECDSA signature is r || s, each the field's size; OpenSSL wants DER. */
static int oidc_ec_der(const unsigned char *sig, size_t len, enum oidc_alg alg, unsigned char *der,
                       size_t cap)
{
    size_t half = alg == OIDC_ALG_ES256 ? 32 : alg == OIDC_ALG_ES384 ? 48 : 66;
    if (len != 2 * half)
        return -1;
    ECDSA_SIG *es = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(sig, (int)half, NULL), *s = BN_bin2bn(sig + half, (int)half, NULL);
    if (!es || !r || !s || ECDSA_SIG_set0(es, r, s) != 1) {
        ECDSA_SIG_free(es);
        BN_free(r);
        BN_free(s);
        return -1;
    }
    int n = i2d_ECDSA_SIG(es, NULL);
    unsigned char *p = der;
    if (n <= 0 || (size_t)n > cap || i2d_ECDSA_SIG(es, &p) != n)
        n = -1;
    ECDSA_SIG_free(es);
    return n;
}

static bool oidc_sig_check(const struct oidc_key *k, enum oidc_alg alg, const char *data,
                           size_t len, const unsigned char *sig, size_t sig_len)
{
    unsigned char der[OIDC_EC_DER_MAX];
    if (alg >= OIDC_ALG_ES256) {
        int n = oidc_ec_der(sig, sig_len, alg, der, sizeof(der));
        if (n < 0)
            return false;
        sig = der;
        sig_len = (size_t)n;
    } else if (sig_len != (size_t)EVP_PKEY_get_size(k->pkey)) {
        return false;
    }
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    bool ok = md && EVP_DigestVerifyInit(md, &pctx, oidc_alg_md(alg), NULL, k->pkey) == 1;
    if (ok && alg >= OIDC_ALG_PS256 && alg <= OIDC_ALG_PS512)
        ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
             EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1;
    ok = ok && EVP_DigestVerify(md, sig, sig_len, (const unsigned char *)data, len) == 1;
    EVP_MD_CTX_free(md);
    ERR_clear_error();
    return ok;
}

/* The header's alg, and the signature checked by the key its kid names (or,
 * without a kid, by any key of a fitting type). */
static int oidc_signature(const struct oidc_config *c, const struct oidc_keyset *keys,
                          const struct oidc_parts *p, char *kid_out)
{
    json_t *head = oidc_part_json(p->head, p->head_len);
    if (!head)
        return OIDC_ERR_MALFORMED;
    enum oidc_alg alg = oidc_alg_parse(json_string_value(json_object_get(head, "alg")));
    json_t *kid = json_object_get(head, "kid");
    int rc = OIDC_OK;
    if (json_object_get(head, "crit") || (kid && !json_is_string(kid)))
        rc = OIDC_ERR_MALFORMED; /* RFC 7515 4.1.11: we understand no extension */
    else if (alg == OIDC_ALG_INVALID || !oidc_alg_allowed(c, alg))
        rc = OIDC_ERR_ALG;
    else if (!keys || !keys->len)
        rc = OIDC_ERR_NO_KEYS;
    unsigned char *sig = rc == OIDC_OK ? malloc(p->sig_len) : NULL;
    int sig_len = sig ? util_base64url_decode(p->sig, p->sig_len, sig, p->sig_len, true) : -1;
    if (rc == OIDC_OK && (sig_len <= 0 || sig_len > OIDC_SIG_MAX))
        rc = OIDC_ERR_MALFORMED;
    const char *want = kid ? json_string_value(kid) : NULL;
    bool named = false, verified = false;
    for (size_t i = 0; rc == OIDC_OK && !verified && i < keys->len; i++) {
        const struct oidc_key *k = &keys->keys[i];
        if (want && (strcmp(k->kid, want) != 0 || strlen(want) != json_string_length(kid)))
            continue;
        named = true;
        verified = oidc_key_fits(k, alg) &&
                   oidc_sig_check(k, alg, p->head, p->signed_len, sig, (size_t)sig_len);
    }
    if (rc == OIDC_OK && want && !named) {
        rc = OIDC_ERR_UNKNOWN_KID;
        if (kid_out)
            snprintf(kid_out, OIDC_KID_MAX, "%s", want);
    } else if (rc == OIDC_OK && !verified) {
        rc = OIDC_ERR_SIGNATURE;
    }
    free(sig);
    json_decref(head);
    return rc;
}

static bool oidc_str_is(json_t *v, const char *s)
{
    return json_is_string(v) && strlen(s) == json_string_length(v) &&
           strcmp(json_string_value(v), s) == 0;
}

static int oidc_audience(const struct oidc_config *c, json_t *aud)
{
    if (oidc_str_is(aud, c->client_id))
        return OIDC_OK;
    size_t i;
    json_t *v;
    json_array_foreach(aud, i, v) if (oidc_str_is(v, c->client_id)) return OIDC_OK;
    return OIDC_ERR_AUDIENCE;
}

/* exp is required (an ID token always has it, OpenID Connect Core 2); nbf
 * and iat may be absent, and may be a little ahead of our clock. */
static int oidc_times(json_t *claims, time_t now)
{
    json_t *exp = json_object_get(claims, "exp"), *nbf = json_object_get(claims, "nbf"),
           *iat = json_object_get(claims, "iat");
    if ((nbf && !json_is_number(nbf)) || (iat && !json_is_number(iat)))
        return OIDC_ERR_MALFORMED;
    double t = (double)now;
    if (!json_is_number(exp) || t >= json_number_value(exp))
        return OIDC_ERR_EXPIRED;
    if ((nbf && t + OIDC_SKEW_S < json_number_value(nbf)) ||
        (iat && t + OIDC_SKEW_S < json_number_value(iat)))
        return OIDC_ERR_NOT_YET;
    return OIDC_OK;
}

/* prefix + the claim's string into out; false unless it is a valid name. */
static bool oidc_name(const char *prefix, json_t *v, char *out)
{
    if (!json_is_string(v) || !json_string_length(v))
        return false;
    size_t pl = strlen(prefix), vl = json_string_length(v);
    if (pl + vl >= AUTH_NAME_MAX || strlen(json_string_value(v)) != vl)
        return false;
    memcpy(out, prefix, pl);
    memcpy(out + pl, json_string_value(v), vl + 1);
    return auth_name_is_valid(out, pl + vl, false);
}

/* One group, prefixed, appended to id. */
static bool oidc_group_add(const char *prefix, json_t *v, struct auth_identity *id)
{
    char name[AUTH_NAME_MAX];
    return oidc_name(prefix, v, name) && auth_identity_add_group(id, name, strlen(name)) == 0;
}

static int oidc_identity(const struct oidc_config *c, json_t *claims, struct auth_identity *id)
{
    if (!oidc_name(c->username_prefix, json_object_get(claims, c->username_claim), id->user))
        return OIDC_ERR_USERNAME;
    /* kube-apiserver: with the email claim, an email_verified that is
     * present must be true. */
    json_t *ev = json_object_get(claims, "email_verified");
    if (strcmp(c->username_claim, "email") == 0 && ev && !json_is_true(ev))
        return OIDC_ERR_EMAIL;
    json_t *groups = c->groups_claim[0] ? json_object_get(claims, c->groups_claim) : NULL;
    if (!groups)
        return OIDC_OK;
    if (json_is_string(groups))
        return oidc_group_add(c->groups_prefix, groups, id) ? OIDC_OK : OIDC_ERR_GROUPS;
    /* One group is left for system:authenticated. */
    if (!json_is_array(groups) || json_array_size(groups) > AUTH_GROUPS_MAX - 1)
        return OIDC_ERR_GROUPS;
    size_t i;
    json_t *g;
    json_array_foreach(groups, i, g)
    {
        if (!oidc_group_add(c->groups_prefix, g, id))
            return OIDC_ERR_GROUPS;
    }
    return OIDC_OK;
}

static int oidc_claims(const struct oidc_config *c, json_t *claims, time_t now,
                       struct auth_identity *id)
{
    if (!oidc_str_is(json_object_get(claims, "iss"), c->issuer))
        return OIDC_ERR_ISSUER;
    int rc = oidc_audience(c, json_object_get(claims, "aud"));
    if (rc == OIDC_OK)
        rc = oidc_times(claims, now);
    for (size_t i = 0; rc == OIDC_OK && i < c->required_len; i++)
        if (!oidc_str_is(json_object_get(claims, c->required[i].name), c->required[i].value))
            rc = OIDC_ERR_REQUIRED;
    return rc == OIDC_OK ? oidc_identity(c, claims, id) : rc;
}

int oidc_verify(const struct oidc_config *c, const struct oidc_keyset *keys, const char *token,
                time_t now, struct auth_identity *id, char *kid)
{
    memset(id, 0, sizeof(*id));
    if (kid)
        kid[0] = '\0';
    struct oidc_parts p;
    if (!token || oidc_split(token, &p) < 0)
        return OIDC_ERR_MALFORMED;
    int rc = oidc_signature(c, keys, &p, kid);
    if (rc != OIDC_OK)
        return rc;
    json_t *claims = oidc_part_json(p.body, p.body_len);
    rc = claims ? oidc_claims(c, claims, now, id) : OIDC_ERR_MALFORMED;
    json_decref(claims);
    if (rc != OIDC_OK)
        auth_identity_clear(id);
    return rc;
}

bool oidc_claim_is(const char *token, const char *name, const char *value)
{
    struct oidc_parts p;
    if (!token || !value || oidc_split(token, &p) < 0)
        return false;
    json_t *claims = oidc_part_json(p.body, p.body_len);
    bool is = claims && oidc_str_is(json_object_get(claims, name), value);
    json_decref(claims);
    return is;
}
