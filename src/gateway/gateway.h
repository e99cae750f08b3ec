/* gateway.h - gateway mode: podterm's API in front of a real cluster.
 *
 * The front door hands every admitted API request (/version, /api...,
 * /apis...) here with the raw request head, before lws sees it:
 *  - REST GETs in the allowed subset are forwarded upstream with podterm's
 *    credentials (impersonating the user podterm authenticated) or the
 *    client's own token, and the upstream answer is relayed unchanged;
 *  - exec/attach WebSocket upgrades are opened upstream first (offering v5,
 *    v4, channel.k8s.io). An upstream refusal (403, 404, 500, ...) is relayed
 *    to the client as is; an upstream 101 becomes a prepared backend stream
 *    and the client connection goes back to the listener (adopt) so lws
 *    performs the client's upgrade and a session bridges the two, translating
 *    between the client's subprotocol and the one upstream picked. */
#ifndef PODTERM_GATEWAY_H
#define PODTERM_GATEWAY_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "auth/auth.h"
#include "backend/backend.h"

#define GATEWAY_UPSTREAM_TIMEOUT_MS 30000 /* request sent -> response head */
#define GATEWAY_RELAY_BUF (16 * 1024)     /* upstream -> client bytes in flight */
#define GATEWAY_REQUESTS_MAX 4096         /* proxied requests in flight, all clients */
/* One client (the user podterm authenticated, else the peer address) may have
 * this many requests in flight; one more gets 429 with Retry-After. Each
 * request holds at most ~70 KB (its head, tokens, relay and response
 * buffers), so one client holds at most ~4.5 MB. Watches are relayed for as
 * long as the upstream streams, so without this one client took every slot. */
#define GATEWAY_CLIENT_REQUESTS_MAX 64
/* Slots that watches never take, so GETs and exec setups of everyone still
 * get through when many clients each hold their share of watches. */
#define GATEWAY_HEADROOM 512
#define GATEWAY_RETRY_AFTER_S 1 /* Retry-After of a 429 */

struct gateway_opts {
    const char *kubeconfig; /* NULL: $KUBECONFIG, then ~/.kube/config */
    const char *context;    /* NULL: current-context */
    bool in_cluster;
    const char *sa_dir; /* in-cluster files (NULL: the standard path) */
    /* true: forward the client's bearer token; false: podterm's credentials,
     * with Impersonate-User/-Group for the user podterm authenticated (none
     * when podterm serves anonymously on loopback). */
    bool pass_through_token;
    struct metrics *metrics;   /* NULL: not counted (borrowed) */
    uint64_t ping_interval_ms; /* --ping-interval for upstream streams (kube_backend.h) */
};

struct gateway;
struct metrics;

struct gateway *gateway_new(uv_loop_t *loop, const struct gateway_opts *opts, char *err,
                            size_t err_cap);
/* Cancels requests in flight. Streams already handed to sessions belong to them. */
void gateway_free(struct gateway *gw);
/* The backend sessions use in gateway mode (owned by the gateway). */
struct backend *gateway_backend(struct gateway *gw);
/* "https://HOST:PORT (kubeconfig FILE, context NAME)" for the start-up line. */
const char *gateway_describe(const struct gateway *gw);
size_t gateway_requests_in_flight(const struct gateway *gw);

/* Does this request head (request line first) go to the gateway? */
bool gateway_wants(const char *head, size_t len);

/* What the listener learned from the head (subprotocol negotiation). */
#define GATEWAY_PEER_MAX 48 /* a textual IPv6 address and its NUL */

struct admission;
struct exec_request;

struct gateway_head {
    struct admission *admission; /* who asks (admit.h): the gateway's to end */
    bool websocket;
    bool spdy;          /* a SPDY/3.1 exec/attach upgrade: bridged to a WebSocket upstream */
    int negotiation_rc; /* PROTO_OK or a proto_err */
    const char *subprotocol_token; /* NULL or the decoded token item */
    /* The client's address as text ("" unknown): the listener knows it also
     * for connections that reach it through the TLS terminator's socketpair. */
    char peer[GATEWAY_PEER_MAX];
};

/* Give the client connection back to the front door: fd (owned by the
 * callee), the original bytes, the request opened upstream with its stream
 * in prepared->prepared (taken over; NULL: let the normal upgrade path
 * answer with its refusal) and the admission (taken over). */
typedef void (*gateway_adopt_fn)(void *ctx, int fd, const char *buf, size_t len,
                                 struct exec_request *prepared, struct admission *adm);

/* Take a client connection: fd is owned from now on; buf[0, len) are the
 * bytes read so far (the head, maybe more), copied. */
void gateway_take(struct gateway *gw, int fd, const char *buf, size_t len,
                  const struct gateway_head *head, gateway_adopt_fn adopt, void *ctx);

#endif
