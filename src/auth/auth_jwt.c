/* auth_jwt.c - verify a JWT bearer token with libjwt, on our terms.
 *
 * libjwt 1.10 trusts the token's "alg" header and, given no key, accepts
 * "alg":"none". So before libjwt sees a token we check its shape and header
 * ourselves: three base64url parts, a JSON header whose alg is one the key
 * allows (never "none"), no "crit". libjwt then checks the signature, and we
 * read the claims from the (now verified) payload with jansson:
 *   exp  optional; if present the token is expired from that second on. A
 *        token without exp never expires, as with kube-apiserver's static
 *        tokens: mint with a ttl (podterm mint-token does by default).
 *   nbf  optional; not valid before it.
 *   sub  required: the user name.
 *   uid  optional string.
 *   groups  optional: an array of strings (or one string, as kube-apiserver's
 *        OIDC authenticator also accepts).
 * Both time checks allow AUTH_JWT_LEEWAY_S of clock skew. */
#include "auth/auth_internal.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "util/util_base64.h"

/* base64url as RFC 7515 2 has it: alphabet only, no padding (the tail's
 * unused bits are checked where a part is decoded). */
static bool jwt_b64url_valid(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (util_base64_value((uint8_t)s[i], '-', '_') < 0)
            return false;
    return len % 4 != 1;
}

static json_t *jwt_part_json(const char *s, size_t len)
{
    unsigned char buf[AUTH_TOKEN_MAX];
    /* strict: leftover bits must be zero, so one value has one text */
    int n = len < AUTH_TOKEN_MAX ? util_base64url_decode(s, len, buf, sizeof(buf), true) : -1;
    /* Duplicate members are refused: a parser that kept the other one would
     * see a different alg or sub than we did. */
    json_t *js =
        n >= 0 ? json_loadb((const char *)buf, (size_t)n, JSON_REJECT_DUPLICATES, NULL) : NULL;
    if (js && !json_is_object(js)) {
        json_decref(js);
        js = NULL;
    }
    return js;
}

/* The token's parts; -1 unless it is exactly header.payload.signature. */
struct jwt_parts {
    const char *head, *body, *sig;
    size_t head_len, body_len, sig_len;
};

static int jwt_split(const char *token, struct jwt_parts *p)
{
    const char *d1 = strchr(token, '.');
    const char *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
    if (!d2 || strchr(d2 + 1, '.'))
        return -1;
    *p = (struct jwt_parts){
        token, d1 + 1, d2 + 1, (size_t)(d1 - token), (size_t)(d2 - d1 - 1), strlen(d2 + 1)};
    if (!p->head_len || !p->body_len || !jwt_b64url_valid(p->head, p->head_len) ||
        !jwt_b64url_valid(p->body, p->body_len) || !jwt_b64url_valid(p->sig, p->sig_len))
        return -1;
    return 0;
}

/* The header's alg, if the key allows it; JWT_ALG_INVAL otherwise. */
static int jwt_header_alg(const struct auth_key *key, const struct jwt_parts *p, jwt_alg_t *alg)
{
    json_t *head = jwt_part_json(p->head, p->head_len);
    if (!head)
        return AUTH_ERR_MALFORMED;
    const char *name = json_string_value(json_object_get(head, "alg"));
    *alg = name ? jwt_str_alg(name) : JWT_ALG_INVAL;
    /* "none" is refused here explicitly, whatever libjwt would do with it. */
    bool ok = *alg != JWT_ALG_NONE && *alg != JWT_ALG_INVAL && auth_key_allows(key, *alg) &&
              !json_object_get(head, "crit"); /* RFC 7515 4.1.11: we understand no extension */
    json_decref(head);
    return ok ? AUTH_OK : AUTH_ERR_INVALID;
}

static int jwt_signature_check(const struct auth_key *key, const char *token, jwt_alg_t alg)
{
    jwt_t *jwt = NULL;
    int rc = jwt_decode(&jwt, token, key->bytes, (int)key->len);
    bool ok = rc == 0 && jwt && jwt_get_alg(jwt) == alg;
    jwt_free(jwt);
    return ok ? AUTH_OK : AUTH_ERR_INVALID;
}

/* exp and nbf: absent is fine, present must be a number. */
static int jwt_times_check(json_t *claims, time_t now)
{
    json_t *exp = json_object_get(claims, "exp"), *nbf = json_object_get(claims, "nbf");
    if ((exp && !json_is_number(exp)) || (nbf && !json_is_number(nbf)))
        return AUTH_ERR_INVALID;
    double t = (double)now;
    if (exp && t >= json_number_value(exp) + AUTH_JWT_LEEWAY_S)
        return AUTH_ERR_EXPIRED;
    if (nbf && t + AUTH_JWT_LEEWAY_S < json_number_value(nbf))
        return AUTH_ERR_EXPIRED;
    return AUTH_OK;
}

static bool jwt_name_valid(json_t *v)
{
    const char *s = json_string_value(v);
    size_t len = s ? json_string_length(v) : 0;
    return s && auth_name_is_valid(s, len, false) && !memchr(s, '\0', len);
}

static bool jwt_name_copy(json_t *v, char *out)
{
    if (!jwt_name_valid(v))
        return false;
    memcpy(out, json_string_value(v), json_string_length(v) + 1);
    return true;
}

static bool jwt_group_add(json_t *v, struct auth_identity *id)
{
    return jwt_name_valid(v) &&
           auth_identity_add_group(id, json_string_value(v), json_string_length(v)) == 0;
}

static int jwt_identity_fill(json_t *claims, struct auth_identity *id)
{
    memset(id, 0, sizeof(*id));
    json_t *uid = json_object_get(claims, "uid"), *groups = json_object_get(claims, "groups");
    if (!jwt_name_copy(json_object_get(claims, "sub"), id->user) ||
        (uid && !jwt_name_copy(uid, id->uid)))
        return AUTH_ERR_INVALID;
    if (json_is_string(groups))
        return jwt_group_add(groups, id) ? AUTH_OK : AUTH_ERR_INVALID;
    if (groups && (!json_is_array(groups) || json_array_size(groups) > AUTH_GROUPS_MAX))
        return AUTH_ERR_INVALID;
    size_t i;
    json_t *g;
    json_array_foreach(groups, i, g)
    {
        if (!jwt_group_add(g, id))
            return AUTH_ERR_INVALID;
    }
    return AUTH_OK;
}

int auth_jwt_check(const struct auth_key *key, const char *token, time_t now,
                   struct auth_identity *id)
{
    memset(id, 0, sizeof(*id)); /* taken as uninitialized, as every authenticator does */
    struct jwt_parts p;
    if (jwt_split(token, &p) < 0)
        return AUTH_ERR_MALFORMED;
    jwt_alg_t alg;
    int rc = jwt_header_alg(key, &p, &alg);
    if (rc != AUTH_OK)
        return rc;
    if (!p.sig_len || (rc = jwt_signature_check(key, token, alg)) != AUTH_OK)
        return AUTH_ERR_INVALID;
    json_t *claims = jwt_part_json(p.body, p.body_len);
    if (!claims)
        return AUTH_ERR_MALFORMED;
    rc = jwt_times_check(claims, now);
    if (rc == AUTH_OK)
        rc = jwt_identity_fill(claims, id);
    json_decref(claims);
    if (rc != AUTH_OK)
        auth_identity_clear(id);
    return rc;
}
