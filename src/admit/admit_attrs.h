/* admit_attrs.h - a request in kube-apiserver's authorization terms
 * (RequestInfo): see admit_attrs.c. Pure. */
#ifndef PODTERM_ADMIT_ATTRS_H
#define PODTERM_ADMIT_ATTRS_H

#include <stdbool.h>

struct http_request;

#define ADMIT_ATTRS_PARTS_MAX 64 /* path segments read (more: the rest is ignored, as unused) */

struct admit_attrs {
    const char
        *verb; /* resource requests: get list watch create ...; else the method, lower-cased */
    bool resource_request;
    const char *api_group; /* "" core */
    const char *api_version;
    const char *ns;
    const char *resource;
    const char *subresource;
    const char *name;
    char *path; /* the decoded URL path (Go's URL.Path) */
    char *arena;
    char method_lower[16];
};

/* Fill at from the parsed head (strings never NULL). -1 on out of memory.
 * Free with admit_attrs_clear. */
int admit_attrs_parse(const struct http_request *rq, struct admit_attrs *at);
/* pods/exec or pods/attach of a named pod in a namespace? */
bool admit_attrs_is_exec(const struct admit_attrs *at);
void admit_attrs_clear(struct admit_attrs *at);

#endif
