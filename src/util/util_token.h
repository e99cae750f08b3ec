/* util_token.h - the one rule for what a bearer token may contain, applied
 * wherever a token enters podterm (Authorization header, token subprotocol,
 * --token-auth-file, kubeconfig token/tokenFile, exec plugin output, token
 * file rotation) so that no source can carry a byte that would end a header
 * line or split a request when the token is written upstream. */
#ifndef PODTERM_UTIL_TOKEN_H
#define PODTERM_UTIL_TOKEN_H

#include <stdbool.h>
#include <stddef.h>

/* True when s[0, len) is a non-empty run of visible ASCII (0x21-0x7E).
 *
 * No spaces: kube-apiserver's bearer authenticator splits "Bearer <token>"
 * on the first space after the token's start, so a token holding a space
 * can never authenticate as itself through an Authorization header, and
 * RFC 6750's b64token has none either. No bytes >= 0x80 either: real tokens
 * (JWTs, service-account and static tokens) are ASCII, and a header value
 * podterm writes should not depend on how a peer treats obs-text. */
bool util_token_is_valid(const char *s, size_t len);

#endif
