/* fuzz_token.c - libFuzzer target for every bearer token parser: the
 * Authorization header (auth_bearer_parse), the token subprotocol item
 * (proto_negotiate), the resume and CSRF items beside it, unpadded base64url
 * (util_base64url_decode) and JWTs (auth_jwt_check against an HMAC key). The whole input is tried
 * as each.
 *
 * Differential: base64url against a reference decoder written below (strict
 * and lax), and the subprotocol token against that reference plus the rules
 * of proto.h (non-empty, at most PROTO_TOKEN_MAX bytes, UTF-8, no NUL).
 * Round trips: the reference encoding of the input decodes back to it, and a
 * token podterm mints for a name taken from the input verifies to that name.
 * Invariants: a bearer token lies inside the header value, holds no space or
 * control byte; a JWT identity is NUL-terminated and valid names only. */
#include <ctype.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth_internal.h"
#include "auth/jwt_mint.h"
#include "fuzz_memfile.h"
#include "proto/proto.h"
#include "util/util_base64.h"

#define FUZZ_IN_MAX (AUTH_TOKEN_MAX + 64)
#define FUZZ_NOW 1700000000
#define FUZZ_SECRET "fuzz-secret-0123456789abcdef-0123456789abcdef\n"

static struct fuzz_memfile key_file;
static struct auth_key key;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char err[AUTH_ERR_MAX];
    const char *path =
        fuzz_memfile_set(&key_file, (const uint8_t *)FUZZ_SECRET, strlen(FUZZ_SECRET));
    if (auth_key_load(path, false, &key, err, sizeof(err)) != 0)
        abort();
    return 0;
}

static const char B64URL[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Reference: RFC 4648 section 5 without padding, one group of four at a time. */
static int ref_b64url_decode(const char *in, size_t len, uint8_t *out, bool strict)
{
    if (len % 4 == 1)
        return -1;
    size_t o = 0;
    for (size_t i = 0; i < len; i += 4) {
        size_t g = len - i < 4 ? len - i : 4;
        uint32_t v = 0;
        for (size_t k = 0; k < 4; k++) {
            const char *p = k < g ? memchr(B64URL, in[i + k], 64) : B64URL;
            if (!p || (k < g && in[i + k] == '\0'))
                return -1;
            v = v << 6 | (uint32_t)(p - B64URL);
        }
        size_t bytes = g == 4 ? 3 : g - 1;
        for (size_t k = 0; k < bytes; k++)
            out[o++] = (uint8_t)(v >> (16 - 8 * k));
        if (strict && g < 4 && (v >> (16 - 8 * bytes)) & 0xFF)
            return -1; /* leftover bits of the last character */
    }
    return (int)o;
}

static size_t ref_b64url_encode(const uint8_t *in, size_t len, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < len)
            v |= in[i + 2];
        size_t chars = len - i >= 3 ? 4 : len - i + 1;
        for (size_t k = 0; k < chars; k++)
            out[o++] = B64URL[(v >> (18 - 6 * k)) & 63];
    }
    return o;
}

static void fuzz_base64url(const char *s, size_t n)
{
    static uint8_t a[FUZZ_IN_MAX], b[FUZZ_IN_MAX];
    static char enc[FUZZ_IN_MAX * 2];
    for (int strict = 0; strict < 2; strict++) {
        int x = util_base64url_decode(s, n, a, sizeof(a), strict);
        int y = ref_b64url_decode(s, n, b, strict);
        if (x != y || (x > 0 && memcmp(a, b, (size_t)x) != 0))
            __builtin_trap();
        /* too small an output is a failure, never an overflow */
        if (x > 0 && util_base64url_decode(s, n, a, (size_t)x - 1, strict) != -1)
            __builtin_trap();
    }
    size_t m = ref_b64url_encode((const uint8_t *)s, n, enc);
    if (util_base64url_decode(enc, m, a, sizeof(a), true) != (int)n || memcmp(a, s, n) != 0)
        __builtin_trap();
}

static void fuzz_bearer(const char *z, size_t n)
{
    size_t len = 0;
    const char *t = auth_bearer_parse(z, &len);
    if (!t)
        return;
    if (t < z || t + len > z + n || len == 0)
        __builtin_trap();
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)t[i] <= ' ' || t[i] == 0x7f)
            __builtin_trap();
}

static bool token_item_char(char c)
{
    return c != ',' && c != ' ' && c != '\t' && c != '\0';
}

static void fuzz_subprotocol(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!token_item_char(s[i]))
            return;
    static char line[FUZZ_IN_MAX + 128];
    snprintf(line, sizeof(line), "v4.channel.k8s.io, %s%.*s", PROTO_TOKEN_PREFIX, (int)n, s);
    const char *lines[1] = {line};
    static struct proto_negotiation neg;
    int rc = proto_negotiate(lines, 1, &neg);
    static uint8_t ref[FUZZ_IN_MAX + 1];
    int r = ref_b64url_decode(s, n, ref, false);
    json_t *utf8 = r > 0 ? json_stringn((const char *)ref, (size_t)r) : NULL;
    bool want = r > 0 && r <= PROTO_TOKEN_MAX && !memchr(ref, 0, (size_t)r) && utf8 &&
                strlen(line) <= PROTO_OFFER_MAX;
    json_decref(utf8);
    bool visible = true; /* Hardening finding 4: tokens may be held to visible ASCII */
    for (int i = 0; i < r; i++)
        visible = visible && ref[i] > ' ' && ref[i] < 0x7f;
    bool got = rc == PROTO_OK && neg.has_token;
    if ((got && !want) || (want && visible && !got))
        __builtin_trap();
    if (got && (neg.kind != PROTO_KIND_V4 || strlen(neg.token) != (size_t)r ||
                memcmp(neg.token, ref, (size_t)r) != 0))
        __builtin_trap();
    if (!got && (neg.has_token || neg.token[0]))
        __builtin_trap(); /* a refused token is not kept */
}

/* The resume item (proto.h): kept exactly as sent when it is 1 to
 * PROTO_RESUME_MAX base64url characters, refused otherwise, never selected;
 * a bearer item beside it is unaffected. */
static void fuzz_resume(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!token_item_char(s[i]))
            return;
    static char line[FUZZ_IN_MAX + 128];
    snprintf(line, sizeof(line), "%sYWJj, %s%.*s, v1.flow.podterm.dev", PROTO_TOKEN_PREFIX,
             PROTO_RESUME_PREFIX, (int)n, s);
    const char *lines[1] = {line};
    static struct proto_negotiation neg;
    int rc = proto_negotiate(lines, 1, &neg);
    bool want = n > 0 && n <= PROTO_RESUME_MAX && strlen(line) <= PROTO_OFFER_MAX;
    for (size_t i = 0; i < n; i++)
        want = want && (isalnum((unsigned char)s[i]) || s[i] == '-' || s[i] == '_');
    bool got = rc == PROTO_OK && neg.has_resume;
    if (got != want)
        __builtin_trap();
    if (got && (neg.kind != PROTO_KIND_PODTERM || strcmp(neg.resume, s) != 0 || !neg.has_token ||
                strcmp(neg.token, "abc") != 0))
        __builtin_trap();
    if (!got && (neg.has_resume || neg.resume[0] || neg.has_token))
        __builtin_trap(); /* a refused offer keeps nothing */
}

/* The CSRF item (proto.h): the same rules as the resume item, both at once
 * in one offer; never selected, the bearer item beside it unaffected. */
static void fuzz_csrf(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!token_item_char(s[i]))
            return;
    static char line[FUZZ_IN_MAX + 128];
    snprintf(line, sizeof(line), "%s%.*s, %sYWJj, %sr1, v5.channel.k8s.io", PROTO_CSRF_PREFIX,
             (int)n, s, PROTO_TOKEN_PREFIX, PROTO_RESUME_PREFIX);
    const char *lines[1] = {line};
    static struct proto_negotiation neg;
    int rc = proto_negotiate(lines, 1, &neg);
    bool want = n > 0 && n <= PROTO_CSRF_MAX && strlen(line) <= PROTO_OFFER_MAX;
    for (size_t i = 0; i < n; i++)
        want = want && (isalnum((unsigned char)s[i]) || s[i] == '-' || s[i] == '_');
    bool got = rc == PROTO_OK && neg.has_csrf;
    if (got != want)
        __builtin_trap();
    if (got && (neg.kind != PROTO_KIND_V5 || strcmp(neg.csrf, s) != 0 || !neg.has_token ||
                strcmp(neg.token, "abc") != 0 || !neg.has_resume || strcmp(neg.resume, "r1") != 0))
        __builtin_trap();
    if (!got && (neg.has_csrf || neg.csrf[0] || neg.has_token || neg.has_resume))
        __builtin_trap(); /* a refused offer keeps nothing */
}

static void check_name(const char *s, bool allow_empty)
{
    size_t n = strnlen(s, AUTH_NAME_MAX);
    if (n == AUTH_NAME_MAX || !auth_name_is_valid(s, n, allow_empty))
        __builtin_trap();
}

static void fuzz_jwt(const char *z)
{
    static struct auth_identity id;
    int rc = auth_jwt_check(&key, z, FUZZ_NOW, &id);
    if (rc > 0 || rc < AUTH_ERR_EXPIRED)
        __builtin_trap();
    if (rc != AUTH_OK)
        return;
    check_name(id.user, false);
    check_name(id.uid, true);
    if (id.groups_len > AUTH_GROUPS_MAX)
        __builtin_trap();
    for (size_t i = 0; i < id.groups_len; i++)
        check_name(id.groups[i], false);
    auth_identity_clear(&id);
}

/* A token minted for a valid name verifies to that name. */
static void fuzz_mint(const char *z, size_t n)
{
    if (n == 0 || n >= AUTH_NAME_MAX || !auth_name_is_valid(z, n, false))
        return;
    static char token[2 * AUTH_TOKEN_MAX], err[AUTH_ERR_MAX];
    const char *groups[1] = {z};
    if (auth_jwt_mint(key_file.path, NULL, z, groups, 1, 60, FUZZ_NOW, token, sizeof(token), err,
                      sizeof(err)) != 0)
        return; /* e.g. the token would not fit */
    static struct auth_identity id;
    if (auth_jwt_check(&key, token, FUZZ_NOW, &id) != AUTH_OK || strcmp(id.user, z) != 0 ||
        id.groups_len != 1 || strcmp(id.groups[0], z) != 0)
        __builtin_trap();
    auth_identity_clear(&id);
    if (auth_jwt_check(&key, token, FUZZ_NOW + 60, &id) != AUTH_ERR_EXPIRED)
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_IN_MAX)
        return 0;
    char *z = malloc(size + 1); /* exactly the input and its NUL */
    memcpy(z, data, size);
    z[size] = '\0';
    size_t n = strlen(z);
    fuzz_base64url((const char *)data, size);
    fuzz_bearer(z, n);
    fuzz_subprotocol(z, n);
    fuzz_resume(z, n);
    fuzz_csrf(z, n);
    fuzz_jwt(z);
    if (size % 64 == 0) /* minting is slow: a sample is enough for a round trip */
        fuzz_mint(z, n);
    free(z);
    return 0;
}
