/* fuzz_admit_attrs.c - libFuzzer target for admission's reading of a request
 * (admit_attrs_parse: the apiserver's RequestInfo, on the path and query of
 * any head http_request_parse accepts), what RBAC, ExecPolicy and the audit
 * decide on.
 *
 * Invariants: every attribute is a NUL-terminated string (never NULL); the
 * decoded path is no longer than the raw one; a resource request has a verb
 * the apiserver's method mapping can give and (without empty segments) an
 * API version and a resource; an exec/attach request is always the create verb on pods in a
 * namespace; the path segments named (namespace, resource, name, subresource) hold no '/'. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "admit/admit.h"
#include "admit/admit_attrs.h"
#include "http/http_request.h"

#define FUZZ_IN_MAX (64 * 1024)

static void check_segment(const char *s)
{
    if (!s || strchr(s, '/'))
        __builtin_trap();
}

static bool verb_known(const char *v)
{
    static const char *const verbs[] = {
        "get", "list", "watch", "create", "update", "patch", "delete", "deletecollection", ""};
    for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
        if (strcmp(v, verbs[i]) == 0)
            return true;
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_IN_MAX)
        return 0;
    char *buf = malloc(size + 1);
    memcpy(buf, data, size);
    buf[size] = '\0';
    struct http_request rq;
    struct admit_attrs at;
    if (http_request_parse(buf, size, &rq) == 0 && admit_attrs_parse(&rq, &at) == 0) {
        if (!at.verb || !at.api_group || !at.api_version || !at.path || strlen(at.path) > rq.path.n)
            __builtin_trap();
        check_segment(at.ns);
        check_segment(at.resource);
        check_segment(at.name);
        check_segment(at.subresource);
        /* An empty segment ("//", which Go's splitPath keeps too) may name an
         * empty version or resource; admission refuses such paths before
         * deciding anything. */
        bool empty_segment = strstr(at.path, "//") != NULL;
        if (at.resource_request &&
            (!verb_known(at.verb) || (!empty_segment && (!at.api_version[0] || !at.resource[0]))))
            __builtin_trap();
        if (admit_attrs_is_exec(&at) &&
            (strcmp(at.verb, "create") != 0 || strcmp(at.resource, "pods") != 0 || !at.ns[0]))
            __builtin_trap();
        (void)admit_path_is_api(at.path, strlen(at.path));
        admit_attrs_clear(&at);
    }
    free(buf);
    return 0;
}
