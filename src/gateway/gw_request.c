/* gw_request.c - raw request head parsing and the gateway's path allowlist
 * (see gw_request.h). */
#include "gateway/gw_request.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gateway/http1.h"

#define GW_ARGV_MAX 1024 /* command= values */

static const char *const gw_header_names[GW_H_COUNT] = {
    [GW_H_AUTHORIZATION] = "authorization",
    [GW_H_ORIGIN] = "origin",
    [GW_H_HOST] = "host",
    [GW_H_UPGRADE] = "upgrade",
    [GW_H_CONNECTION] = "connection",
    [GW_H_WS_VERSION] = "sec-websocket-version",
    [GW_H_WS_KEY] = "sec-websocket-key",
    [GW_H_ACCEPT] = "accept",
    [GW_H_ACCEPT_ENCODING] = "accept-encoding",
    [GW_H_USER_AGENT] = "user-agent",
    [GW_H_KUBECTL_COMMAND] = "kubectl-command",
    [GW_H_KUBECTL_SESSION] = "kubectl-session",
};

static void gw_header(struct gw_request *r, const char *line, size_t len)
{
    const char *colon = memchr(line, ':', len);
    if (!colon)
        return;
    size_t nlen = (size_t)(colon - line);
    const char *v = colon + 1, *e = line + len;
    while (v < e && (*v == ' ' || *v == '\t'))
        v++;
    while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    for (int i = 0; i < GW_H_COUNT; i++)
        if (strlen(gw_header_names[i]) == nlen &&
            strncasecmp(line, gw_header_names[i], nlen) == 0 &&
            !r->h[i].p) { /* the first line counts, as for Sec-WebSocket-Protocol */
            r->h[i].p = v;
            r->h[i].n = (size_t)(e - v);
        }
}

int gw_request_parse(const char *buf, size_t len, struct gw_request *r)
{
    memset(r, 0, sizeof(*r));
    const char *end = memmem(buf, len, "\r\n\r\n", 4);
    const char *nl = memchr(buf, '\n', len);
    if (!end || !nl)
        return GW_REQ_ERR_MALFORMED;
    r->head_len = (size_t)(end + 4 - buf);
    const char *sp1 = memchr(buf, ' ', (size_t)(nl - buf));
    const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(nl - sp1 - 1)) : NULL;
    if (!sp1 || !sp2 || sp2 - sp1 - 1 > GW_TARGET_MAX || sp1[1] != '/')
        return GW_REQ_ERR_MALFORMED;
    r->method = (struct gw_span){buf, (size_t)(sp1 - buf)};
    r->target = (struct gw_span){sp1 + 1, (size_t)(sp2 - sp1 - 1)};
    /* Go's net/http answers a target with a control character (a bare CR
     * included) 400: url.ParseRequestURI refuses it. Never forward one. */
    for (size_t i = 0; i < r->target.n; i++)
        if ((unsigned char)r->target.p[i] < 0x20 || r->target.p[i] == 0x7f)
            return GW_REQ_ERR_TARGET_CTL;
    const char *q = memchr(r->target.p, '?', r->target.n);
    r->path = (struct gw_span){r->target.p, q ? (size_t)(q - r->target.p) : r->target.n};
    if (q)
        r->query = (struct gw_span){q + 1, r->target.n - r->path.n - 1};
    const char *p = nl, *line;
    size_t l;
    while (http1_next_line(&p, end, &line, &l))
        gw_header(r, line, l);
    return 0;
}

bool gw_path_is_api(const char *path, size_t len)
{
    return (len == 8 && memcmp(path, "/version", 8) == 0) ||
           (len >= 4 && memcmp(path, "/api", 4) == 0 && (len == 4 || path[4] == '/')) ||
           (len >= 5 && memcmp(path, "/apis", 5) == 0 && (len == 5 || path[5] == '/'));
}

/* Split into at most 8 segments; names must be plain (no escapes, no dots-only). */
static int gw_segments(const char *path, size_t len, struct gw_span *seg, int max)
{
    int n = 0;
    size_t i = 0;
    if (len && path[len - 1] == '/' && len > 1)
        len--; /* "/api/" is "/api" */
    while (i < len) {
        if (path[i] != '/' || n == max)
            return -1;
        size_t j = i + 1;
        while (j < len && path[j] != '/')
            j++;
        seg[n] = (struct gw_span){path + i + 1, j - i - 1};
        if (seg[n].n == 0 || seg[n].n > GW_NAME_MAX || memchr(seg[n].p, '%', seg[n].n) ||
            (seg[n].p[0] == '.' && (seg[n].n == 1 || (seg[n].n == 2 && seg[n].p[1] == '.'))))
            return -1;
        n++;
        i = j;
    }
    return n;
}

static bool seg_is(const struct gw_span *s, const char *lit)
{
    return s->n == strlen(lit) && memcmp(s->p, lit, s->n) == 0;
}

static void seg_copy(const struct gw_span *s, char *out)
{
    memcpy(out, s->p, s->n);
    out[s->n] = '\0';
}

enum gw_route gw_route_match(const char *path, size_t len, char *ns, char *pod, bool *attach)
{
    struct gw_span s[8];
    int n = gw_segments(path, len, s, 8);
    if (n <= 0)
        return GW_ROUTE_NONE;
    if (n == 1 && (seg_is(&s[0], "version") || seg_is(&s[0], "api") || seg_is(&s[0], "apis")))
        return GW_ROUTE_REST;
    if (!seg_is(&s[0], "api") || n < 2 || !seg_is(&s[1], "v1"))
        return GW_ROUTE_NONE;
    if (n == 2)
        return GW_ROUTE_REST; /* /api/v1 */
    if (n == 3 && (seg_is(&s[2], "namespaces") || seg_is(&s[2], "pods")))
        return GW_ROUTE_REST; /* /api/v1/namespaces, /api/v1/pods */
    if (!seg_is(&s[2], "namespaces"))
        return GW_ROUTE_NONE;
    if (n == 4)
        return GW_ROUTE_REST; /* /api/v1/namespaces/{ns} */
    if (!seg_is(&s[4], "pods"))
        return GW_ROUTE_NONE;
    if (n == 5 || n == 6)
        return GW_ROUTE_REST; /* pods list, pod get */
    if (n == 7 && (seg_is(&s[6], "exec") || seg_is(&s[6], "attach"))) {
        seg_copy(&s[3], ns);
        seg_copy(&s[5], pod);
        *attach = seg_is(&s[6], "attach");
        return GW_ROUTE_EXEC;
    }
    return GW_ROUTE_NONE;
}

/* ---- admission ---- */

enum gw_admit gw_admit(size_t client_in_flight, size_t client_max, size_t watches,
                       size_t watches_max, bool watch)
{
    if (client_in_flight >= client_max)
        return GW_ADMIT_CLIENT_FULL;
    if (watch && watches >= watches_max)
        return GW_ADMIT_WATCHES_FULL;
    return GW_ADMIT_OK;
}

/* ---- query ---- */

static int hexval(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

static char *gw_unescape(const char *s, size_t n)
{
    char *out = malloc(n + 1), *o = out;
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '+')
            *o++ = ' ';
        else if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            *o++ = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 2;
        } else
            *o++ = s[i];
    }
    *o = '\0';
    return out;
}

static bool gw_bool(const char *v)
{
    return !(strcmp(v, "0") == 0 || strcasecmp(v, "false") == 0);
}

/* One "key[=value]" item of a raw query, still escaped. */
struct gw_query_item {
    const char *key;
    size_t key_len;
    const char *value; /* NULL: no '=' */
    size_t value_len;
};

/* The item starting at *pos (advanced past it and its '&'); false at the end. */
static bool gw_query_next(const char *query, size_t len, size_t *pos, struct gw_query_item *it)
{
    size_t i = *pos, j = i;
    if (i >= len)
        return false;
    while (j < len && query[j] != '&')
        j++;
    const char *eq = memchr(query + i, '=', j - i);
    it->key = query + i;
    it->key_len = eq ? (size_t)(eq - query - i) : j - i;
    it->value = eq ? eq + 1 : NULL;
    it->value_len = eq ? (size_t)(query + j - eq - 1) : 0;
    *pos = j + 1;
    return true;
}

bool gw_query_is_watch(const char *query, size_t len)
{
    size_t pos = 0;
    struct gw_query_item it;
    while (gw_query_next(query, len, &pos, &it)) {
        if (it.key_len == 5 && memcmp(it.key, "watch", 5) == 0) { /* the first one counts */
            if (!it.value)
                return false; /* "?watch" alone: an empty value */
            char *v = gw_unescape(it.value, it.value_len);
            bool watch = !v || (v[0] && gw_bool(v)); /* out of memory: the stricter bound */
            free(v);
            return watch;
        }
    }
    return false;
}

int gw_exec_desc(const char *query, size_t len, bool attach, struct kube_stream_desc *d)
{
    bool seen[4] = {false};
    bool *flags[4] = {&d->want_stdin, &d->want_stdout, &d->want_stderr, &d->tty};
    static const char *const names[4] = {"stdin", "stdout", "stderr", "tty"};
    d->attach = attach;
    d->container[0] = '\0';
    d->argc = 0;
    d->argv = attach ? NULL : calloc(GW_ARGV_MAX + 1, sizeof(char *));
    if (!attach && !d->argv)
        return -1;
    size_t pos = 0;
    struct gw_query_item it;
    while (gw_query_next(query, len, &pos, &it)) {
        char *key = gw_unescape(it.key, it.key_len);
        char *val = it.value ? gw_unescape(it.value, it.value_len) : strdup("");
        if (!key || !val) {
            free(key);
            free(val);
            return -1;
        }
        for (int k = 0; k < 4; k++)
            if (strcmp(key, names[k]) == 0 && !seen[k]) {
                seen[k] = true;
                *flags[k] = gw_bool(val);
            }
        if (strcmp(key, "container") == 0 && !d->container[0] && strlen(val) < sizeof(d->container))
            strcpy(d->container, val);
        if (strcmp(key, "command") == 0 && d->argv && d->argc < GW_ARGV_MAX) {
            d->argv[d->argc++] = val;
            val = NULL;
        }
        free(key);
        free(val);
    }
    return 0;
}
