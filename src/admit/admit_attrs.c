/* admit_attrs.c - what a request asks for, in kube-apiserver's terms
 * (RequestInfoFactory.NewRequestInfo): a resource request (verb, API group,
 * version, namespace, resource, name, subresource) or a non-resource one
 * (verb, path). RBAC, ExecPolicy and the audit all read these, so the three
 * agree on what was asked. Pure. */
#include "admit/admit_attrs.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_request.h"

static int admit_hex(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* Go's URL.Path: the path with %XX decoded ('+' stays; the listener has
 * refused invalid escapes and encoded NULs already). */
static size_t admit_path_decode(const char *in, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (in[i] == '%' && i + 2 < n && admit_hex(in[i + 1]) >= 0 && admit_hex(in[i + 2]) >= 0) {
            out[o++] = (char)(admit_hex(in[i + 1]) * 16 + admit_hex(in[i + 2]));
            i += 2;
        } else {
            out[o++] = in[i];
        }
    }
    out[o] = '\0';
    return o;
}

static const char *admit_method_verb(const struct http_span *m)
{
    if (http_span_is(m, "POST"))
        return "create";
    if (http_span_is(m, "GET") || http_span_is(m, "HEAD"))
        return "get";
    if (http_span_is(m, "PUT"))
        return "update";
    if (http_span_is(m, "PATCH"))
        return "patch";
    if (http_span_is(m, "DELETE"))
        return "delete";
    return "";
}

int admit_attrs_parse(const struct http_request *rq, struct admit_attrs *at)
{
    memset(at, 0, sizeof(*at));
    at->verb = at->api_group = at->api_version = at->ns = at->resource = at->subresource =
        at->name = "";
    size_t n = rq->path.n;
    at->path = malloc(n + 1);
    at->arena = malloc(n + 1);
    if (!at->path || !at->arena) {
        admit_attrs_clear(at);
        return -1;
    }
    admit_path_decode(rq->path.p ? rq->path.p : "", n, at->path);
    strcpy(at->arena, at->path);

    /* Non-resource requests: the lower-cased method, as the apiserver. */
    size_t m =
        rq->method.n < sizeof(at->method_lower) - 1 ? rq->method.n : sizeof(at->method_lower) - 1;
    for (size_t i = 0; i < m; i++)
        at->method_lower[i] = (char)tolower((unsigned char)rq->method.p[i]);
    at->verb = at->method_lower;

    /* splitPath: trim the slashes at both ends, split on '/'. */
    char *parts[ADMIT_ATTRS_PARTS_MAX];
    size_t np = 0;
    char *s = at->arena;
    while (*s == '/')
        s++;
    size_t len = strlen(s);
    while (len && s[len - 1] == '/')
        s[--len] = '\0';
    while (*s && np < ADMIT_ATTRS_PARTS_MAX) {
        parts[np++] = s;
        char *slash = strchr(s, '/');
        if (!slash)
            break;
        *slash = '\0';
        s = slash + 1;
    }
    if (np < 3 || (strcmp(parts[0], "api") != 0 && strcmp(parts[0], "apis") != 0))
        return 0;
    size_t i = 1;
    if (strcmp(parts[0], "apis") == 0) {
        if (np - i < 3)
            return 0;
        at->api_group = parts[i++];
    }
    at->resource_request = true;
    at->api_version = parts[i++];
    at->verb = admit_method_verb(&rq->method);
    char **cur = parts + i;
    size_t nc = np - i;
    if (nc && strcmp(cur[0], "namespaces") == 0) {
        if (nc > 1) {
            at->ns = cur[1];
            /* "/namespaces/{ns}/{resource}/...": the resource is what follows;
             * "/namespaces/{ns}" alone is the namespace itself. */
            if (nc > 2) {
                cur += 2;
                nc -= 2;
            }
        }
    }
    if (nc >= 3)
        at->subresource = cur[2];
    if (nc >= 2)
        at->name = cur[1];
    if (nc >= 1)
        at->resource = cur[0];
    /* No name and a get: a list, or a watch when asked. */
    if (!at->name[0] && strcmp(at->verb, "get") == 0)
        at->verb = rq->query.p && http_query_is_watch(rq->query.p, rq->query.n) ? "watch" : "list";
    if (!at->name[0] && strcmp(at->verb, "delete") == 0)
        at->verb = "deletecollection";
    /* An exec or attach is a create, whatever the method: kube-apiserver
     * >= 1.35 authorizes WebSocket upgrades (GET) as create, like SPDY's POST. */
    if (admit_attrs_is_exec(at))
        at->verb = "create";
    return 0;
}

bool admit_attrs_is_exec(const struct admit_attrs *at)
{
    return at->resource_request && !at->api_group[0] && strcmp(at->resource, "pods") == 0 &&
           at->ns[0] && at->name[0] &&
           (strcmp(at->subresource, "exec") == 0 || strcmp(at->subresource, "attach") == 0);
}

void admit_attrs_clear(struct admit_attrs *at)
{
    free(at->path);
    free(at->arena);
    at->path = at->arena = NULL;
}
