/* jwt_mint.h - sign a JWT for podterm's own --jwt-key-file: for the
 * `podterm mint-token` command, scripts and tests. */
#ifndef PODTERM_JWT_MINT_H
#define PODTERM_JWT_MINT_H

#include <stddef.h>
#include <time.h>

/* Sign {"sub", "groups" (if ngroups), "iat": now, "nbf": now, "exp": now + ttl}
 * with key_file: an HMAC secret file (HS256/384/512) or a PEM private key
 * (RSA: RS256/384/512; EC: the ES* of its curve). alg NULL picks HS256, RS256
 * or the curve's ES*; an alg that does not match the key is an error.
 * ttl_seconds 0 leaves out exp (the token never expires); negative is an
 * error. Writes the token (NUL-terminated) to out. Returns 0, or -1 with a
 * message in err that names the file and never contains the key. */
int auth_jwt_mint(const char *key_file, const char *alg, const char *sub, const char *const *groups,
                  size_t ngroups, long ttl_seconds, time_t now, char *out, size_t out_cap,
                  char *err, size_t err_cap);

#endif
