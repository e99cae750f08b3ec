/* auth.h - who is making a request: bearer tokens checked against a JWT key
 * (--jwt-key-file) or kube-apiserver's static token CSV (--token-auth-file).
 * Pure checks on strings; the server extracts the token from the header or
 * the token subprotocol. Tokens never appear in logs or error messages. */
#ifndef PODTERM_AUTH_H
#define PODTERM_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define AUTH_NAME_MAX 256   /* user name, uid, one group name */
#define AUTH_GROUPS_MAX 32  /* groups of one identity */
#define AUTH_TOKEN_MAX 8192 /* a bearer token's length */
#define AUTH_ERR_MAX 256    /* a start-up error message */

/* Who someone is. The groups are strings of their own, owned by the
 * identity: a fixed [AUTH_GROUPS_MAX][AUTH_NAME_MAX] block cost 8 KiB in
 * every admission, most of an idle session's memory, for the one or two
 * groups most users have. Start from a zeroed identity (or one an
 * authenticator filled) and end with auth_identity_clear; copy with
 * auth_identity_copy, never by assignment. */
struct auth_identity {
    char user[AUTH_NAME_MAX];
    char uid[AUTH_NAME_MAX];
    char *groups[AUTH_GROUPS_MAX]; /* groups_len of them, each < AUTH_NAME_MAX bytes */
    size_t groups_len;
};

/* Append a group of len bytes (no NUL among them; the caller checked the
 * name). -1 when the identity has AUTH_GROUPS_MAX already, the name is
 * AUTH_NAME_MAX bytes or longer, or on out of memory; id is unchanged then. */
int auth_identity_add_group(struct auth_identity *id, const char *name, size_t len);
/* Free the groups and zero the identity. */
void auth_identity_clear(struct auth_identity *id);
/* dst (zeroed or cleared) becomes a copy of src; -1 on out of memory, dst
 * cleared. */
int auth_identity_copy(struct auth_identity *dst, const struct auth_identity *src);

enum auth_err {
    AUTH_OK = 0,
    AUTH_ERR_MISSING = -1,   /* no token */
    AUTH_ERR_MALFORMED = -2, /* not a JWT / not "Bearer x" / too long */
    AUTH_ERR_INVALID = -3,   /* bad signature, wrong or "none" alg, unknown static token */
    AUTH_ERR_EXPIRED = -4,   /* exp in the past or nbf in the future */
};

struct auth;

/* Either file may be NULL; with both NULL the result is an auth that is not
 * enabled (anonymous). On error returns NULL and writes a message to err. */
struct auth *auth_new(const char *jwt_key_file, const char *token_auth_file, char *err,
                      size_t err_cap);
void auth_free(struct auth *auth);
bool auth_enabled(const struct auth *auth);

/* Check a bare token at time now: valid if the static token file or the JWT
 * key accepts it. Fills id (taken as uninitialized) on AUTH_OK, for
 * auth_identity_clear, and zeroes it otherwise (id may be NULL). Out of
 * memory for the groups is AUTH_ERR_INVALID: the request is refused. An auth that is not enabled
 * accepts nothing (AUTH_ERR_INVALID). */
int auth_token_check(const struct auth *auth, const char *token, time_t now,
                     struct auth_identity *id);

/* The same, and on AUTH_OK which authenticator said yes: "token-file" or
 * "jwt" (for the audit's podterm.dev/authentication-method). */
int auth_token_check_method(const struct auth *auth, const char *token, time_t now,
                            struct auth_identity *id, const char **method);

/* Extract the token from an Authorization header value ("Bearer <token>", scheme
 * case-insensitive, one or more spaces after it, surrounding spaces ignored).
 * Returns a pointer into value and its length, or NULL if the header is not a
 * bearer credential (other scheme, no token, or a token that is not visible
 * ASCII: util_token_is_valid). */
const char *auth_bearer_parse(const char *value, size_t *token_len);

#endif
