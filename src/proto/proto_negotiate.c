/* proto_negotiate.c - choose the subprotocol from Sec-WebSocket-Protocol and
 * pull out a bearer token item, with the apiserver's rules (PROTOCOL.md 2.3,
 * 2.5): token items on any line, v5 wins wherever it stands, otherwise the
 * client's order. */
#include <string.h>

#include "proto/proto_internal.h"
#include "util/util_base64.h"
#include "util/util_token.h"

struct item {
    const char *s;
    size_t len;
    size_t line;
};

static bool is_space(char c)
{
    return c == ' ' || c == '\t';
}

/* Split every line on ',' into trimmed, non-empty items. */
static int items_split(const char *const *lines, size_t nlines, struct item *items, size_t *n)
{
    size_t total = 0;
    *n = 0;
    for (size_t l = 0; l < nlines; l++) {
        const char *p = lines[l];
        total += strlen(p);
        if (total > PROTO_OFFER_MAX)
            return PROTO_ERR_TOO_LONG;
        while (*p) {
            const char *end = strchr(p, ',');
            if (!end)
                end = p + strlen(p);
            const char *a = p, *b = end;
            while (a < b && is_space(*a))
                a++;
            while (b > a && is_space(b[-1]))
                b--;
            if (b > a) {
                if (*n == PROTO_ITEMS_MAX)
                    return PROTO_ERR_TOO_LONG;
                items[(*n)++] = (struct item){a, (size_t)(b - a), l};
            }
            p = *end ? end + 1 : end;
        }
    }
    return PROTO_OK;
}

static bool item_is_token(const struct item *it)
{
    size_t plen = strlen(PROTO_TOKEN_PREFIX);
    return it->len >= plen && memcmp(it->s, PROTO_TOKEN_PREFIX, plen) == 0;
}

static bool item_has_prefix(const struct item *it, const char *prefix)
{
    size_t plen = strlen(prefix);
    return it->len >= plen && memcmp(it->s, prefix, plen) == 0;
}

/* The resume and CSRF items: podterm's own, kept and never selected. */
static bool item_is_podterm(const struct item *it)
{
    return item_has_prefix(it, PROTO_RESUME_PREFIX) || item_has_prefix(it, PROTO_CSRF_PREFIX);
}

/* Kept as sent: only compared, never decoded. */
static int opaque_take(const struct item *it, const char *prefix, size_t max, bool *has, char *out)
{
    size_t plen = strlen(prefix), n = it->len - plen;
    if (*has)
        return PROTO_ERR_TOKEN_TWICE;
    if (n == 0 || n > max)
        return PROTO_ERR_TOKEN_ENCODING;
    for (size_t i = 0; i < n; i++) {
        char c = it->s[plen + i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return PROTO_ERR_TOKEN_ENCODING;
    }
    memcpy(out, it->s + plen, n);
    out[n] = '\0';
    *has = true;
    return PROTO_OK;
}

static int podterm_take(const struct item *it, struct proto_negotiation *out)
{
    if (item_has_prefix(it, PROTO_RESUME_PREFIX))
        return opaque_take(it, PROTO_RESUME_PREFIX, PROTO_RESUME_MAX, &out->has_resume,
                           out->resume);
    return opaque_take(it, PROTO_CSRF_PREFIX, PROTO_CSRF_MAX, &out->has_csrf, out->csrf);
}

static int token_take(const struct item *it, struct proto_negotiation *out)
{
    size_t plen = strlen(PROTO_TOKEN_PREFIX);
    /* Go's base64.RawURLEncoding, not Strict: the apiserver takes unused
     * trailing bits as they come. */
    int n = util_base64url_decode(it->s + plen, it->len - plen, (uint8_t *)out->token,
                                  PROTO_TOKEN_MAX, false);
    /* Stricter than the apiserver (any UTF-8): the token may end up in an
     * Authorization header upstream (--pass-through-token), where CR, LF or
     * any control would split the request. */
    if (n <= 0 || !util_token_is_valid(out->token, (size_t)n))
        return PROTO_ERR_TOKEN_ENCODING;
    out->token[n] = '\0';
    out->has_token = true;
    return PROTO_OK;
}

static int negotiate(const char *const *lines, size_t nlines, struct proto_negotiation *out)
{
    out->kind = PROTO_KIND_NONE;
    if (nlines == 0)
        return PROTO_OK;
    out->offered = true;
    struct item items[PROTO_ITEMS_MAX];
    size_t n;
    int rc = items_split(lines, nlines, items, &n);
    if (rc != PROTO_OK)
        return rc;

    /* The apiserver's order: each token item is checked as it is met, then
     * whether anything is left to answer with. */
    size_t token_at = n;
    for (size_t i = 0; i < n; i++) {
        if (item_is_podterm(&items[i])) {
            if ((rc = podterm_take(&items[i], out)) != PROTO_OK)
                return rc;
            continue;
        }
        if (!item_is_token(&items[i]))
            continue;
        if (token_at != n)
            return PROTO_ERR_TOKEN_TWICE;
        token_at = i;
        if ((rc = token_take(&items[i], out)) != PROTO_OK)
            return rc;
    }
    if (token_at != n && n == 1)
        return PROTO_ERR_TOKEN_ALONE;

    /* Without a token only the first line counts; with one, the apiserver
     * rewrote the header to the remaining items of every line. */
    int first = -1;
    for (size_t i = 0; i < n; i++) {
        if (i == token_at || (token_at == n && items[i].line != 0) || item_is_podterm(&items[i]))
            continue;
        int k = proto_kind_from_name(items[i].s, items[i].len);
        if (k == PROTO_KIND_V5) {
            out->kind = PROTO_KIND_V5;
            return PROTO_OK;
        }
        if (k >= 0 && first < 0)
            first = k;
    }
    if (first < 0)
        return PROTO_ERR_NO_MATCH;
    out->kind = (enum proto_kind)first;
    return PROTO_OK;
}

int proto_negotiate(const char *const *lines, size_t nlines, struct proto_negotiation *out)
{
    memset(out, 0, sizeof(*out));
    int rc = negotiate(lines, nlines, out);
    if (rc != PROTO_OK) { /* a refused offer leaves no token behind */
        explicit_bzero(out->token, sizeof(out->token));
        explicit_bzero(out->resume, sizeof(out->resume));
        explicit_bzero(out->csrf, sizeof(out->csrf));
        out->has_token = out->has_resume = out->has_csrf = false;
    }
    return rc;
}
