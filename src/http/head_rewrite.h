/* head_rewrite.h - prepare a request head before lws parses it. Pure.
 *
 * lws 4.1 picks a WebSocket subprotocol by the client's order only and
 * answers any non-websocket Upgrade with its own 403, both before podterm's
 * code runs. So the listener passes the head through here first:
 *  - a WebSocket upgrade's Sec-WebSocket-Protocol lines are negotiated with
 *    proto_negotiate() (v5 wins, client order, bearer token item) and
 *    replaced by one line naming only the chosen protocol (none when nothing
 *    was offered or nothing matched), so lws binds exactly podterm's choice
 *    and the token never reaches lws or the 101;
 *  - another Upgrade header (kubectl's SPDY fallback) is renamed to
 *    HEAD_SPDY_MARKER so the request reaches the HTTP handler;
 *  - query segments holding a ';' are dropped, as Go's ParseQuery does;
 *  - a request that is not a WebSocket upgrade gets "Connection: close" in
 *    place of its own Connection headers: lws would otherwise keep the
 *    connection and parse the next request on it itself, without this rewrite
 *    (its ';' split, its 403s) and without the gateway. The client's own
 *    "keep-alive" must go, not just be preceded: lws lets it win.
 * The negotiation result travels with the connection to upgrade.c. */
#ifndef PODTERM_HEAD_REWRITE_H
#define PODTERM_HEAD_REWRITE_H

#include <stdbool.h>
#include <stddef.h>

#include "proto/proto.h"

/* How much longer than in the output of a well-formed head gets: one added
 * line and the marker's growth on an Upgrade line or two. Callers give
 * out_cap = len + HEAD_REWRITE_SLACK; a head that grows more is refused. */
#define HEAD_REWRITE_SLACK 128
#define HEAD_REWRITE_LINES_MAX 16 /* Sec-WebSocket-Protocol lines considered */
/* Marker header put in place of a non-WebSocket Upgrade header (kubectl's
 * SPDY fallback), because lws answers those with its own 403 before any
 * callback; with the marker the request reaches the HTTP handler. */
#define HEAD_SPDY_MARKER "x-podterm-upgrade:"

struct head_rewrite {
    bool websocket;          /* Upgrade: websocket and Connection: upgrade */
    bool spdy;               /* any other Upgrade header was renamed to the marker */
    bool offer_too_long;     /* Sec-WebSocket-Protocol lines past PROTO_OFFER_MAX (or too many) */
    bool spdy31;             /* an Upgrade header names SPDY/3.1 (a SPDY exec with
                              * connection_upgrade) */
    bool connection_upgrade; /* Connection header names "upgrade" */
    bool bad_target;         /* the request target has a broken %-escape or %00 */
    bool too_large;          /* the rewritten head did not fit out_cap: answer 431 */
    int negotiation_rc;      /* websocket only: PROTO_OK or a proto_err */
    struct proto_negotiation neg;
};

/* False for a request target lws would refuse with its own HTML page (a
 * broken %-escape or an encoded NUL): the listener answers those itself. */
bool head_target_valid(const char *in, size_t head_len);
/* False for a request method lws does not route to podterm (it answers
 * those with its own HTML 403, or never, for CONNECT): the listener answers
 * them with a 405 Status, as the apiserver does. */
bool head_method_known(const char *in, size_t head_len);

/* in[0, len) holds the pre-read bytes; the head ends at head_len (just past
 * the blank line); bytes after it are passed through untouched. Writes the
 * new bytes to out and returns their length. Never writes past out_cap: when
 * the result does not fit, returns 0 with res->too_large set (the caller
 * answers 431), and out holds garbage. */
size_t head_rewrite(const char *in, size_t len, size_t head_len, char *out, size_t out_cap,
                    struct head_rewrite *res);

#endif
