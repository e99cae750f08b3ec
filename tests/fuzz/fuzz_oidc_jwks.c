/* fuzz_oidc_jwks.c - libFuzzer target for what an OpenID provider sends
 * podterm (issue 16): the input is tried as a JWKS (oidc_jwks_parse), a
 * discovery document (oidc_discovery_parse, oidc_discovery_endpoints), an HTTP response
 * (oidc_http_response, with and without the end of stream) and a URL
 * (oidc_url_parse).
 * Invariants: a JWKS that parses holds 1..OIDC_KEYS_MAX keys, each with an
 * OpenSSL key, a NUL-terminated kid, distinct non-empty kids; a refused one
 * leaves the set empty. A discovery document that parses gives an https URL
 * that parses again. A complete response's body lies in the input or the
 * decode buffer and is at most OIDC_DOC_MAX bytes; fed in pieces (sizes
 * taken from the input) the response reads exactly as it does whole. A parsed URL has a port
 * in 1..65535 and a path starting with '/'. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "oidc/oidc_internal.h"

#define FUZZ_IN_MAX (64 * 1024)
#define FUZZ_ISSUER "https://127.0.0.1:8443"

static void check_jwks(const char *in, size_t len)
{
    static struct oidc_keyset set;
    char err[OIDC_ERR_MAX];
    int rc = oidc_jwks_parse(in, len, &set, err, sizeof(err));
    if (rc < 0) {
        if (set.len)
            __builtin_trap();
        return;
    }
    if (set.len < 1 || set.len > OIDC_KEYS_MAX)
        __builtin_trap();
    for (size_t i = 0; i < set.len; i++) {
        if (!set.keys[i].pkey || strnlen(set.keys[i].kid, OIDC_KID_MAX) == OIDC_KID_MAX)
            __builtin_trap();
        for (size_t j = 0; j < i; j++)
            if (set.keys[i].kid[0] && strcmp(set.keys[i].kid, set.keys[j].kid) == 0)
                __builtin_trap();
    }
    oidc_keyset_clear(&set);
}

static void check_discovery(const char *in, size_t len)
{
    char uri[OIDC_URL_MAX], err[OIDC_ERR_MAX];
    struct oidc_url u;
    if (oidc_discovery_parse(in, len, FUZZ_ISSUER, uri, sizeof(uri), err, sizeof(err)) == 0 &&
        oidc_url_parse(uri, &u) != 0)
        __builtin_trap();
    /* browser sign-in's endpoints: https URLs that parse again, or none */
    static struct oidc_endpoints ep;
    int rc = oidc_discovery_endpoints(in, len, &ep, err, sizeof(err));
    if (rc == 0 &&
        (oidc_url_parse(ep.authorization, &u) != 0 || oidc_url_parse(ep.token, &u) != 0 ||
         (ep.end_session[0] && oidc_url_parse(ep.end_session, &u) != 0)))
        __builtin_trap();
    if (rc != 0 && (ep.authorization[0] || ep.token[0] || ep.end_session[0]))
        __builtin_trap();
}

/* The same response fed in growing prefixes (sizes from the input): done
 * with the same body when whole it is done (maybe at an earlier prefix);
 * still waiting when whole it is; an error when whole it is one, except
 * that a head error may be noticed only at its next line end or at the end
 * of the stream (it waits meanwhile). */
static void check_split(const char *in, size_t len, int eof, int want_rc, const char *want_body,
                        size_t want_len)
{
    static char out2[OIDC_DOC_MAX];
    struct oidc_http h;
    oidc_http_init(&h, out2);
    const char *body = NULL;
    size_t body_len = 0, at = 0;
    int status, rc = OIDC_HTTP_MORE;
    for (size_t i = 0; rc == OIDC_HTTP_MORE && at < len; i++) {
        at += 1 + (unsigned char)in[i % len] % 7;
        if (at > len)
            at = len;
        rc = oidc_http_feed(&h, in, at, eof && at == len, &body, &body_len, &status);
    }
    if (want_rc == OIDC_HTTP_DONE) {
        if (rc != OIDC_HTTP_DONE || body_len != want_len || memcmp(body, want_body, body_len))
            __builtin_trap();
    } else if (rc == OIDC_HTTP_DONE || (want_rc == OIDC_HTTP_MORE && rc != OIDC_HTTP_MORE) ||
               (want_rc < 0 && rc == OIDC_HTTP_MORE && eof)) {
        __builtin_trap();
    }
}

static void check_response(const char *in, size_t len)
{
    static char out[OIDC_DOC_MAX];
    for (int eof = 0; eof < 2; eof++) {
        const char *body = NULL;
        size_t body_len = 0;
        int status;
        int rc = oidc_http_response(in, len, eof, out, &body, &body_len, &status);
        if (len)
            check_split(in, len, eof, rc, body, body_len);
        if (rc != OIDC_HTTP_DONE)
            continue;
        bool in_input = body >= in && body + body_len <= in + len;
        bool in_out = body >= out && body + body_len <= out + sizeof(out);
        if (body_len > OIDC_DOC_MAX || !(in_input || in_out) || status != 200)
            __builtin_trap();
    }
}

static void check_url(const char *in, size_t len)
{
    char url[OIDC_URL_MAX + 1];
    size_t n = len < OIDC_URL_MAX ? len : OIDC_URL_MAX;
    memcpy(url, in, n);
    url[n] = '\0';
    struct oidc_url u;
    if (oidc_url_parse(url, &u) == 0 &&
        (u.port < 1 || u.port > 65535 || u.path[0] != '/' || !u.host[0]))
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_IN_MAX)
        return 0;
    const char *in = (const char *)data;
    check_jwks(in, size);
    check_discovery(in, size);
    check_response(in, size);
    check_url(in, size);
    return 0;
}
