/* util_base64.h - the base64 pieces shared by the subprotocol codec
 * (proto_base64.c, proto_negotiate.c) and the JWT check (auth_jwt.c).
 *
 * Only what is the same everywhere lives here: the value of a character and
 * the unpadded base64url decoder. Each caller keeps its own rules on top (Go's
 * StdEncoding quirks for the base64 subprotocols, RFC 7515's canonical form
 * for JWTs). */
#ifndef PODTERM_UTIL_BASE64_H
#define PODTERM_UTIL_BASE64_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The 6-bit value of c in the base64 alphabet whose last two characters are
 * c62 and c63 ('+' '/' standard, '-' '_' URL-safe); -1 for any other
 * character, padding included. Inline: the base64 subprotocols decode client
 * input through it one character at a time. */
static inline int util_base64_value(uint8_t c, uint8_t c62, uint8_t c63)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == c62)
        return 62;
    if (c == c63)
        return 63;
    return -1;
}

/* Decode unpadded base64url (RFC 4648 section 5, no '='), as Go's
 * base64.RawURLEncoding does: a lone trailing character (len % 4 == 1) is
 * invalid. strict also refuses non-zero unused bits in the last character,
 * so each value has one text (RFC 7515 section 2; Go's .Strict()). Returns
 * the bytes written to out, or -1 (bad input, or more than out_cap bytes). */
int util_base64url_decode(const char *in, size_t len, uint8_t *out, size_t out_cap, bool strict);

#endif
