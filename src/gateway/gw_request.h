/* gw_request.h - what the gateway reads from a client's raw request head,
 * and which API paths it forwards. Pure (no I/O), so the allowlist that
 * keeps the gateway from being an open proxy to the whole API is unit-tested. */
#ifndef PODTERM_GATEWAY_GW_REQUEST_H
#define PODTERM_GATEWAY_GW_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

#include "gateway/kube_backend.h"

#define GW_TARGET_MAX 8192 /* request target (path and query) */
#define GW_NAME_MAX 253    /* a namespace or pod name */

struct gw_span {
    const char *p; /* into the head; NULL when absent */
    size_t n;
};

/* Headers the gateway uses or forwards (anything else is not forwarded). */
enum gw_header {
    GW_H_AUTHORIZATION,
    GW_H_ORIGIN,
    GW_H_HOST,
    GW_H_UPGRADE,
    GW_H_CONNECTION,
    GW_H_WS_VERSION,
    GW_H_WS_KEY,
    GW_H_ACCEPT,
    GW_H_ACCEPT_ENCODING,
    GW_H_USER_AGENT,
    GW_H_KUBECTL_COMMAND,
    GW_H_KUBECTL_SESSION,
    GW_H_COUNT,
};

struct gw_request {
    struct gw_span method, target, path, query; /* query without '?' */
    struct gw_span h[GW_H_COUNT];
    size_t head_len;
};

enum gw_route {
    GW_ROUTE_NONE, /* not in the subset: 404 */
    GW_ROUTE_REST, /* discovery, version, namespaces, pods */
    GW_ROUTE_EXEC, /* pods/{name}/exec or attach */
};

enum gw_request_err {
    GW_REQ_ERR_MALFORMED = -1,  /* no request line, no blank line, target too long */
    GW_REQ_ERR_TARGET_CTL = -2, /* a control character (bare CR, NUL, DEL, ...) in the target */
};

/* Parse a request head (through the blank line). 0, or a gw_request_err. */
int gw_request_parse(const char *buf, size_t len, struct gw_request *r);
/* Is path an API path the gateway owns (/version, /api..., /apis...)? */
bool gw_path_is_api(const char *path, size_t len);
/* Match the allowed subset; for EXEC fills ns, pod (GW_NAME_MAX + 1) and attach. */
enum gw_route gw_route_match(const char *path, size_t len, char *ns, char *pod, bool *attach);
/* Is this list request a watch (?watch=true, 1, ...: any value but "",
 * "0", "false"), i.e. relayed for as long as the upstream streams? */
bool gw_query_is_watch(const char *query, size_t len);

enum gw_admit {
    GW_ADMIT_OK,
    GW_ADMIT_CLIENT_FULL,  /* the client has client_max requests in flight */
    GW_ADMIT_WATCHES_FULL, /* watches may not take the headroom */
};
/* May a request go upstream, given the client's requests already admitted,
 * the watches in flight for all clients and whether it is a watch? */
enum gw_admit gw_admit(size_t client_in_flight, size_t client_max, size_t watches,
                       size_t watches_max, bool watch);

/* Fill the stream description from the exec/attach query (PROTOCOL.md 1.1
 * rules: first occurrence of a boolean counts, "0"/"false" false, anything
 * else true; command values in order). -1 on out of memory or over limits. */
int gw_exec_desc(const char *query, size_t len, bool attach, struct kube_stream_desc *d);

#endif
