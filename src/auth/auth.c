/* auth.c - the public face of auth.h: an auth built from a JWT key file and/or
 * a static token file, a token check that accepts what either accepts, and
 * the Authorization header's bearer scheme.
 *
 * The static table is tried first: it is a constant-time pass over all
 * entries, while a JWT costs a signature check. */
#include "auth/auth_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/util_token.h"

struct auth {
    bool has_jwt;
    struct auth_key jwt_key;
    bool has_static;
    struct auth_static tokens;
};

struct auth *auth_new(const char *jwt_key_file, const char *token_auth_file, char *err,
                      size_t err_cap)
{
    struct auth *auth = calloc(1, sizeof(*auth));
    if (!auth) {
        snprintf(err, err_cap, "out of memory");
        return NULL;
    }
    if (jwt_key_file) {
        if (auth_key_load(jwt_key_file, false, &auth->jwt_key, err, err_cap) < 0)
            goto fail;
        auth->has_jwt = true;
    }
    if (token_auth_file) {
        if (auth_static_load(token_auth_file, &auth->tokens, err, err_cap) < 0)
            goto fail;
        auth->has_static = true;
    }
    return auth;
fail:
    auth_free(auth);
    return NULL;
}

void auth_free(struct auth *auth)
{
    if (!auth)
        return;
    auth_key_clear(&auth->jwt_key);
    auth_static_clear(&auth->tokens);
    free(auth);
}

bool auth_enabled(const struct auth *auth)
{
    return auth && (auth->has_jwt || auth->has_static);
}

/* An auth that is not enabled accepts no token: anonymous access is the
 * caller's decision (it checks auth_enabled first), never a fallback here. */
int auth_token_check(const struct auth *auth, const char *token, time_t now,
                     struct auth_identity *id)
{
    const char *method;
    return auth_token_check_method(auth, token, now, id, &method);
}

static int auth_token_identify(const struct auth *auth, const char *token, time_t now,
                               struct auth_identity *id, const char **method)
{
    *method = NULL;
    memset(id, 0, sizeof(*id));
    if (!token || !*token)
        return AUTH_ERR_MISSING;
    size_t tlen = strnlen(token, AUTH_TOKEN_MAX + 1);
    if (tlen > AUTH_TOKEN_MAX || !util_token_is_valid(token, tlen))
        return AUTH_ERR_MALFORMED;
    if (!auth_enabled(auth))
        return AUTH_ERR_INVALID;
    if (auth->has_static && auth_static_check(&auth->tokens, token, id) == AUTH_OK) {
        *method = "token-file";
        return AUTH_OK;
    }
    if (!auth->has_jwt)
        return AUTH_ERR_INVALID;
    int rc = auth_jwt_check(&auth->jwt_key, token, now, id);
    if (rc == AUTH_OK)
        *method = "jwt";
    /* With a token file too, a non-JWT is just an unknown static token. */
    return rc == AUTH_ERR_MALFORMED && auth->has_static ? AUTH_ERR_INVALID : rc;
}

int auth_token_check_method(const struct auth *auth, const char *token, time_t now,
                            struct auth_identity *id, const char **method)
{
    if (id)
        return auth_token_identify(auth, token, now, id, method);
    struct auth_identity scratch; /* only the verdict is wanted */
    int rc = auth_token_identify(auth, token, now, &scratch, method);
    auth_identity_clear(&scratch);
    return rc;
}

static bool auth_is_space(char c)
{
    return c == ' ' || c == '\t';
}

/* RFC 6750 2.1: "Bearer" 1*SP b64token; the scheme is case-insensitive
 * (RFC 9110 11.1). A token with inner spaces is not a b64token. */
const char *auth_bearer_parse(const char *value, size_t *token_len)
{
    if (!value)
        return NULL;
    while (auth_is_space(*value))
        value++;
    if (strncasecmp(value, "Bearer", 6) != 0 || !auth_is_space(value[6]))
        return NULL;
    const char *t = value + 6;
    while (auth_is_space(*t))
        t++;
    size_t len = strlen(t);
    while (len && auth_is_space(t[len - 1]))
        len--;
    if (!util_token_is_valid(t, len))
        return NULL;
    if (token_len)
        *token_len = len;
    return t;
}
