/* jwt_mint.c - sign a JWT with libjwt for podterm's own verifier (jwt_mint.h).
 * The same key rules as verification apply (auth_key.c), so a minted token
 * is one auth_token_check accepts with the matching public key or secret. */
#include "auth/jwt_mint.h"
#include "auth/auth_internal.h"
#include "util/util_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

/* The key's default alg, or the asked one if the key allows it. */
static int mint_alg_pick(const char *key_file, const struct auth_key *key, const char *name,
                         jwt_alg_t *alg, char *err, size_t err_cap)
{
    if (!name) {
        *alg = key->algs[0];
        return 0;
    }
    *alg = jwt_str_alg(name);
    if (*alg != JWT_ALG_INVAL && *alg != JWT_ALG_NONE && auth_key_allows(key, *alg))
        return 0;
    char allowed[64] = "";
    for (size_t i = 0, off = 0; i < key->algs_len && off < sizeof(allowed); i++)
        off += (size_t)snprintf(allowed + off, sizeof(allowed) - off, "%s%s", i ? ", " : "",
                                jwt_alg_str(key->algs[i]));
    snprintf(err, err_cap, "%s: alg %.16s does not fit this key (it allows %s)", key_file, name,
             allowed);
    return -1;
}

static int mint_claims_add(jwt_t *jwt, const char *sub, const char *const *groups, size_t ngroups,
                           long ttl, time_t now)
{
    if (jwt_add_grant(jwt, "sub", sub) || jwt_add_grant_int(jwt, "iat", (long)now) ||
        jwt_add_grant_int(jwt, "nbf", (long)now) ||
        (ttl > 0 && jwt_add_grant_int(jwt, "exp", (long)now + ttl)))
        return -1;
    if (!ngroups)
        return 0;
    json_t *obj = json_object(), *arr = json_array();
    json_object_set_new(obj, "groups", arr);
    for (size_t i = 0; i < ngroups; i++)
        json_array_append_new(arr, json_string(groups[i]));
    char *text = util_json_text(obj, JSON_COMPACT, false, NULL);
    int rc = text && json_array_size(arr) == ngroups ? jwt_add_grants_json(jwt, text) : -1;
    free(text);
    json_decref(obj);
    return rc ? -1 : 0;
}

static int mint_args_check(const char *key_file, const char *sub, const char *const *groups,
                           size_t ngroups, long ttl, char *err, size_t err_cap)
{
    if (!sub || !auth_name_is_valid(sub, strlen(sub), false)) {
        snprintf(err, err_cap, "the subject must be 1 to %d bytes without control characters",
                 AUTH_NAME_MAX - 1);
        return -1;
    }
    if (ngroups > AUTH_GROUPS_MAX) {
        snprintf(err, err_cap, "more than %d groups", AUTH_GROUPS_MAX);
        return -1;
    }
    for (size_t i = 0; i < ngroups; i++)
        if (!groups[i] || !auth_name_is_valid(groups[i], strlen(groups[i]), false)) {
            snprintf(err, err_cap, "group %zu must be 1 to %d bytes without control characters",
                     i + 1, AUTH_NAME_MAX - 1);
            return -1;
        }
    if (ttl < 0) {
        snprintf(err, err_cap, "negative ttl %ld (0 means no expiry)", ttl);
        return -1;
    }
    return 0;
}

int auth_jwt_mint(const char *key_file, const char *alg, const char *sub, const char *const *groups,
                  size_t ngroups, long ttl_seconds, time_t now, char *out, size_t out_cap,
                  char *err, size_t err_cap)
{
    if (mint_args_check(key_file, sub, groups, ngroups, ttl_seconds, err, err_cap) < 0)
        return -1;
    struct auth_key key;
    if (auth_key_load(key_file, true, &key, err, err_cap) < 0)
        return -1;
    jwt_alg_t a;
    jwt_t *jwt = NULL;
    char *token = NULL;
    int rc = mint_alg_pick(key_file, &key, alg, &a, err, err_cap);
    if (rc == 0 && (jwt_new(&jwt) || jwt_set_alg(jwt, a, key.bytes, (int)key.len) ||
                    mint_claims_add(jwt, sub, groups, ngroups, ttl_seconds, now) ||
                    !(token = jwt_encode_str(jwt)))) {
        snprintf(err, err_cap, "%s: cannot sign the token", key_file);
        rc = -1;
    }
    if (rc == 0 && strlen(token) >= out_cap) {
        snprintf(err, err_cap, "the token is longer than the %zu bytes given", out_cap);
        rc = -1;
    }
    if (rc == 0)
        memcpy(out, token, strlen(token) + 1);
    free(token);
    jwt_free(jwt); /* libjwt scrubs its copy of the key */
    auth_key_clear(&key);
    return rc;
}
