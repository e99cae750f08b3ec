/* auth_internal.h - the pieces behind auth.h and jwt_mint.h: key files, JWT
 * verification, the static token table. Not for other modules. */
#ifndef PODTERM_AUTH_INTERNAL_H
#define PODTERM_AUTH_INTERNAL_H

#include "auth/auth.h"

#include <jwt.h>

#define AUTH_KEY_FILE_MAX (64 * 1024)         /* bytes of a --jwt-key-file */
#define AUTH_TOKEN_FILE_MAX (4 * 1024 * 1024) /* bytes of a --token-auth-file */
#define AUTH_STATIC_TOKENS_MAX 10000          /* lines of a --token-auth-file */
#define AUTH_HMAC_KEY_MIN 32   /* bytes of an HMAC secret (RFC 7518 3.2: >= hash size) */
#define AUTH_RSA_BITS_MIN 2048 /* RSA keys below this are refused */
#define AUTH_JWT_LEEWAY_S 0    /* clock skew allowed on exp and nbf */
#define AUTH_KEY_ALGS_MAX 3

enum auth_key_kind { AUTH_KEY_HMAC, AUTH_KEY_RSA, AUTH_KEY_EC };

/* A JWT key and the algorithms it may be used with: pinned by the key's type,
 * never taken from a token's header. */
struct auth_key {
    enum auth_key_kind kind;
    unsigned char *bytes; /* HMAC secret, or normalized PEM (public to verify, private to mint) */
    size_t len;
    jwt_alg_t algs[AUTH_KEY_ALGS_MAX];
    size_t algs_len;
};

/* Load a key file: a PEM key (public, private or certificate when verifying;
 * private when minting) or else an HMAC secret. Errors name the file. */
int auth_key_load(const char *path, bool want_private, struct auth_key *key, char *err,
                  size_t err_cap);
void auth_key_clear(struct auth_key *key);
bool auth_key_allows(const struct auth_key *key, jwt_alg_t alg);

/* A user, uid or group name from a token or the token file: bounded, and
 * free of control characters so it cannot forge a line in a log. */
bool auth_name_is_valid(const char *s, size_t len, bool allow_empty);

int auth_jwt_check(const struct auth_key *key, const char *token, time_t now,
                   struct auth_identity *id);

struct auth_static_entry {
    unsigned char digest[32]; /* SHA-256 of the token: compared in constant time, fixed length */
    char *user;
    char *uid;
    char **groups;
    size_t groups_len;
    int line;
};

struct auth_static {
    struct auth_static_entry *entries;
    size_t len;
};

int auth_static_load(const char *path, struct auth_static *st, char *err, size_t err_cap);
void auth_static_clear(struct auth_static *st);
int auth_static_check(const struct auth_static *st, const char *token, struct auth_identity *id);

#endif
