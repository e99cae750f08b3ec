/* gw_route.c - the gateway's path allowlist, its per-client bound and the
 * exec/attach stream description (see gw_route.h). */
#include "gateway/gw_route.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http/http_request.h"
#include "proto/proto.h"

/* podterm's own API group (the sessions API, src/api/api_sessions.h): served
 * by podterm in gateway mode too, never relayed (the cluster has no such
 * group, and the sessions are this replica's). */
#define GW_OWN_GROUP "/apis/podterm.dev"

static bool gw_path_is_own(const char *path, size_t len)
{
    size_t n = strlen(GW_OWN_GROUP);
    return len >= n && memcmp(path, GW_OWN_GROUP, n) == 0 && (len == n || path[n] == '/');
}

bool gw_path_is_api(const char *path, size_t len)
{
    if (gw_path_is_own(path, len))
        return false;
    return (len == 8 && memcmp(path, "/version", 8) == 0) ||
           (len >= 4 && memcmp(path, "/api", 4) == 0 && (len == 4 || path[4] == '/')) ||
           (len >= 5 && memcmp(path, "/apis", 5) == 0 && (len == 5 || path[5] == '/'));
}

/* Split into at most 8 segments; names must be plain (no escapes, no dots-only). */
static int gw_segments(const char *path, size_t len, struct http_span *seg, int max)
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
        seg[n] = (struct http_span){path + i + 1, j - i - 1};
        if (seg[n].n == 0 || seg[n].n > GW_NAME_MAX || memchr(seg[n].p, '%', seg[n].n) ||
            (seg[n].p[0] == '.' && (seg[n].n == 1 || (seg[n].n == 2 && seg[n].p[1] == '.'))))
            return -1;
        n++;
        i = j;
    }
    return n;
}

static bool seg_is(const struct http_span *s, const char *lit)
{
    return s->n == strlen(lit) && memcmp(s->p, lit, s->n) == 0;
}

static void seg_copy(const struct http_span *s, char *out)
{
    memcpy(out, s->p, s->n);
    out[s->n] = '\0';
}

enum gw_route gw_route_match(const char *path, size_t len, char *ns, char *pod, bool *attach)
{
    struct http_span s[8];
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

static bool gw_item_is(const struct http_query_item *it, const char *key)
{
    return it->key_len == strlen(key) && memcmp(it->key, key, it->key_len) == 0;
}

int gw_exec_desc(const struct http_query *q, bool attach, struct kube_stream_desc *d)
{
    bool seen[4] = {false};
    bool *flags[4] = {&d->want_stdin, &d->want_stdout, &d->want_stderr, &d->tty};
    static const char *const names[4] = {"stdin", "stdout", "stderr", "tty"};
    d->attach = attach;
    d->container[0] = '\0';
    d->argc = 0;
    d->argv = attach ? NULL : calloc(GW_ARGV_MAX + 1, sizeof(char *));
    if (!attach && !d->argv)
        return GW_EXEC_DESC_NOMEM;
    bool container_seen = false;
    for (size_t i = 0; i < q->len; i++) {
        const struct http_query_item *it = &q->items[i];
        const char *val = it->value ? it->value : "";
        size_t vlen = it->value ? it->value_len : 0;
        for (int k = 0; k < 4; k++)
            if (gw_item_is(it, names[k]) && !seen[k]) {
                seen[k] = true;
                *flags[k] = proto_query_bool(val);
            }
        if (gw_item_is(it, "container") && !container_seen) {
            container_seen = true;
            if (vlen >= sizeof(d->container)) { /* its start, for the refusal's message */
                memcpy(d->container, val, sizeof(d->container) - 1);
                d->container[sizeof(d->container) - 1] = '\0';
                return GW_EXEC_DESC_CONTAINER_LONG;
            }
            memcpy(d->container, val, vlen + 1);
        }
        if (gw_item_is(it, "command") && d->argv) {
            if (d->argc == GW_ARGV_MAX)
                return GW_EXEC_DESC_ARGV_MAX;
            if (!(d->argv[d->argc] = strndup(val, vlen)))
                return GW_EXEC_DESC_NOMEM;
            d->argc++;
        }
    }
    /* The stream keeps argv for its whole life: GW_ARGV_MAX slots are 8 KiB
     * per open session, the command itself a few pointers. */
    char **fit = d->argv ? realloc(d->argv, (d->argc + 1) * sizeof(*d->argv)) : NULL;
    if (fit)
        d->argv = fit;
    return 0;
}
