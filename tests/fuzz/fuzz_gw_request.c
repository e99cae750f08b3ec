/* fuzz_gw_request.c - libFuzzer target for the gateway's reading of a client
 * request head (http_request_parse), its API allowlist (gw_path_is_api,
 * gw_route_match), and, differentially, the two exec path parsers: where the
 * gateway routes a path as exec/attach, the server's exec_path_parse (which
 * validates the request the gateway hands back) must name the same namespace,
 * pod and subresource, and the other way round for plain names.
 *
 * Invariants: every span lies inside the head and no header value holds a
 * line break (it is forwarded upstream as one header line); routed names are
 * NUL-terminated, bounded, without '/', '%' or dot segments. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "gateway/gw_route.h"
#include "http/http_request.h"
#include "session/exec_request.h"

#define FUZZ_IN_MAX (64 * 1024)

static bool span_in(const struct http_span *s, const char *lo, const char *hi)
{
    return !s->p || (s->p >= lo && s->p + s->n <= hi);
}

static void check_name(const char *s)
{
    size_t n = strnlen(s, GW_NAME_MAX + 1);
    if (n == 0 || n > GW_NAME_MAX || strpbrk(s, "/%") || strcmp(s, ".") == 0 ||
        strcmp(s, "..") == 0)
        __builtin_trap();
}

static bool plain_name(const char *s)
{
    return !strchr(s, '%') && strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

static void check_routes(const char *path, size_t n)
{
    char ns[GW_NAME_MAX + 1], pod[GW_NAME_MAX + 1];
    bool attach = false;
    (void)gw_path_is_api(path, n);
    enum gw_route route = gw_route_match(path, n, ns, pod, &attach);
    if (route != GW_ROUTE_NONE && !gw_path_is_api(path, n) && path[n - 1] != '/')
        __builtin_trap(); /* a routed path is the gateway's ("/version/" is left to the server) */
    if (memchr(path, '\0', n))
        return;
    char *z = strndup(path, n);
    char sns[CONFIG_NAME_MAX + 1], spod[CONFIG_NAME_MAX + 1];
    bool sattach = false;
    bool sexec = exec_path_parse(z, sns, sizeof(sns), spod, sizeof(spod), &sattach);
    if (route == GW_ROUTE_EXEC) {
        check_name(ns);
        check_name(pod);
        /* "/.../exec/" is exec to the gateway only; the server then answers 404 */
        if (path[n - 1] != '/' &&
            (!sexec || strcmp(ns, sns) != 0 || strcmp(pod, spod) != 0 || attach != sattach))
            __builtin_trap();
    }
    if (sexec && plain_name(sns) && plain_name(spod) && route != GW_ROUTE_EXEC)
        __builtin_trap();
    free(z);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_IN_MAX)
        return 0;
    /* exactly the bytes, on the heap, so a read past them is reported */
    char *buf = malloc(size ? size : 1);
    memcpy(buf, data, size);
    struct http_request r;
    if (http_request_parse(buf, size, &r) == 0) {
        const char *end = buf + r.head_len;
        if (r.head_len < 4 || r.head_len > size || memcmp(end - 4, "\r\n\r\n", 4) != 0)
            __builtin_trap();
        if (r.method.p != buf || !span_in(&r.target, buf, end) || !span_in(&r.path, buf, end) ||
            !span_in(&r.query, buf, end) || r.target.n > HTTP_TARGET_MAX ||
            r.path.p != r.target.p || r.path.n > r.target.n ||
            (r.query.p && r.query.p + r.query.n != r.target.p + r.target.n))
            __builtin_trap();
        for (int i = 0; i < HTTP_H_COUNT; i++)
            if (!span_in(&r.h[i], buf, end) || (r.h[i].p && memchr(r.h[i].p, '\n', r.h[i].n)))
                __builtin_trap();
        check_routes(r.path.p, r.path.n);
    }
    free(buf);
    return 0;
}
