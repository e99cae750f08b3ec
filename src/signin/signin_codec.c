/* signin_codec.c - the small parsers and encoders of browser sign-in,
 * sans-I/O: the Cookie header, the rd parameter (an open redirect is the
 * attack here), PKCE's S256, random tokens, form encoding. */
#include "signin/signin_internal.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

static const char signin_b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void signin_b64url(const unsigned char *in, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < n)
            v |= in[i + 2];
        out[o++] = signin_b64_alphabet[(v >> 18) & 63];
        out[o++] = signin_b64_alphabet[(v >> 12) & 63];
        if (i + 1 < n)
            out[o++] = signin_b64_alphabet[(v >> 6) & 63];
        if (i + 2 < n)
            out[o++] = signin_b64_alphabet[v & 63];
    }
    out[o] = '\0';
}

bool signin_token_new(char out[SIGNIN_TOKEN_LEN + 1])
{
    unsigned char b[SIGNIN_TOKEN_BYTES];
    if (RAND_bytes(b, sizeof(b)) != 1) {
        out[0] = '\0';
        return false;
    }
    signin_b64url(b, sizeof(b), out);
    OPENSSL_cleanse(b, sizeof(b));
    return true;
}

void signin_pkce_challenge(const char *verifier, char out[SIGNIN_TOKEN_LEN + 1])
{
    unsigned char d[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)verifier, strlen(verifier), d);
    signin_b64url(d, sizeof(d), out);
}

bool signin_token_valid(const char *s, size_t n)
{
    if (n != SIGNIN_TOKEN_LEN)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!memchr(signin_b64_alphabet, s[i], sizeof(signin_b64_alphabet) - 1) || !s[i])
            return false;
    return true;
}

bool signin_token_equal(const char *a, const char *b)
{
    return CRYPTO_memcmp(a, b, SIGNIN_TOKEN_LEN) == 0;
}

static bool signin_is_ows(char c)
{
    return c == ' ' || c == '\t';
}

bool signin_cookie_find(const char *header, size_t len, const char *name, const char **value,
                        size_t *value_len)
{
    size_t nlen = strlen(name);
    size_t i = 0;
    while (i < len) {
        while (i < len && (signin_is_ows(header[i]) || header[i] == ';'))
            i++;
        size_t start = i;
        while (i < len && header[i] != ';')
            i++;
        size_t end = i; /* one "name=value" pair in [start, end) */
        while (end > start && signin_is_ows(header[end - 1]))
            end--;
        const char *eq = memchr(header + start, '=', end - start);
        if (!eq)
            continue;
        size_t kend = (size_t)(eq - header);
        while (kend > start && signin_is_ows(header[kend - 1]))
            kend--;
        if (kend - start != nlen || memcmp(header + start, name, nlen) != 0)
            continue;
        size_t v = (size_t)(eq + 1 - header);
        while (v < end && signin_is_ows(header[v]))
            v++;
        *value = header + v;
        *value_len = end - v;
        /* RFC 6265 4.1.1: a value may be in double quotes */
        if (*value_len >= 2 && header[v] == '"' && header[end - 1] == '"') {
            *value += 1;
            *value_len -= 2;
        }
        return true;
    }
    return false;
}

bool signin_rd_valid(const char *rd, size_t n)
{
    if (n == 0 || n > SIGNIN_RD_MAX || rd[0] != '/')
        return false;
    if (n >= 2 && (rd[1] == '/' || rd[1] == '\\'))
        return false; /* //host and /\host: another host to a browser */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)rd[i];
        if (c <= 0x20 || c >= 0x7f || c == '\\')
            return false;
    }
    return true;
}

/* RFC 6749 appendix B: application/x-www-form-urlencoded. */
static bool signin_form_escape(char *out, size_t cap, size_t *len, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                     c == '-' || c == '.' || c == '_' || c == '~';
        size_t need = plain ? 1 : 3;
        if (*len + need >= cap)
            return false;
        if (plain) {
            out[(*len)++] = (char)c;
        } else {
            out[(*len)++] = '%';
            out[(*len)++] = hex[c >> 4];
            out[(*len)++] = hex[c & 15];
        }
    }
    out[*len] = '\0';
    return true;
}

bool signin_form_add(char *out, size_t cap, size_t *len, const char *key, const char *value)
{
    if (*len && *len + 1 >= cap)
        return false;
    if (*len)
        out[(*len)++] = '&';
    if (!signin_form_escape(out, cap, len, key) || *len + 1 >= cap)
        return false;
    out[(*len)++] = '=';
    out[*len] = '\0';
    return signin_form_escape(out, cap, len, value);
}
