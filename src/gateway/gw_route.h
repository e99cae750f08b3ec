/* gw_route.h - which API paths the gateway forwards, how many requests one
 * client may have in flight, and the exec stream description from a query. Pure (no I/O), so the
 * allowlist that keeps the gateway from being an open proxy to the whole API is unit-tested. */
#ifndef PODTERM_GATEWAY_GW_ROUTE_H
#define PODTERM_GATEWAY_GW_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

#include "backend/kube/kube_backend.h"

#define GW_NAME_MAX 253 /* a namespace or pod name */

enum gw_route {
    GW_ROUTE_NONE, /* not in the subset: 404 */
    GW_ROUTE_REST, /* discovery, version, namespaces, pods */
    GW_ROUTE_EXEC, /* pods/{name}/exec or attach */
};

/* Is path an API path the gateway owns (/version, /api..., /apis...)? Not
 * /apis/podterm.dev and below: podterm answers those itself. */
bool gw_path_is_api(const char *path, size_t len);
/* Match the allowed subset; for EXEC fills ns, pod (GW_NAME_MAX + 1) and attach. */
enum gw_route gw_route_match(const char *path, size_t len, char *ns, char *pod, bool *attach);
enum gw_admit {
    GW_ADMIT_OK,
    GW_ADMIT_CLIENT_FULL,  /* the client has client_max requests in flight */
    GW_ADMIT_WATCHES_FULL, /* watches may not take the headroom */
};
/* May a request go upstream, given the client's requests already admitted,
 * the watches in flight for all clients and whether it is a watch? */
enum gw_admit gw_admit(size_t client_in_flight, size_t client_max, size_t watches,
                       size_t watches_max, bool watch);

#define GW_ARGV_MAX 1024 /* command= values of one exec (EXEC_ARGV_MAX in local mode) */
enum {
    GW_EXEC_DESC_NOMEM = -1,
    GW_EXEC_DESC_ARGV_MAX = -2,      /* more than GW_ARGV_MAX command= values */
    GW_EXEC_DESC_CONTAINER_LONG = -3 /* a container name over GW_NAME_MAX bytes (its start in d) */
};
/* Fill the stream description from the decoded exec/attach query (PROTOCOL.md 1.1
 * rules: first occurrence of a boolean counts, "0"/"false" false, anything
 * else true; command values in order). 0, or a GW_EXEC_DESC_ code: a request
 * over the limits is refused, never cut to fit (admission decided on all of
 * it; the upstream must run exactly that). d->argv is the caller's to free
 * either way. */
struct http_query;
int gw_exec_desc(const struct http_query *q, bool attach, struct kube_stream_desc *d);

#endif
