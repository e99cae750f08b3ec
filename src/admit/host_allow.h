/* host_allow.h - which Host header values podterm answers. Pure.
 *
 * DNS rebinding: a web page at http://evil.example:8080 makes its name
 * resolve to 127.0.0.1, and the browser then sends the page's requests,
 * WebSocket upgrades included, to a podterm on the user's loopback with
 * "Host: evil.example:8080" and the matching Origin. Comparing Origin with
 * Host does not see it; only refusing unknown Host names does. So, when the
 * policy is on (always without authentication; with it only when names were
 * given), a request is answered only for:
 *  - "localhost" and names under ".localhost" (RFC 6761 6.3: they resolve to
 *    loopback without DNS, and no one can register them);
 *  - IP literals, IPv4 dotted or bracketed IPv6 (a browser sends one only
 *    when it connected to that address itself, never after a DNS lookup);
 *  - the names given with --allowed-host (exact, any case).
 * Each may carry a ":port". A request without Host passes: every browser
 * sends one. The listener runs this on every request head, in both modes,
 * before anything else reads the request (REST, UI, upgrades alike). */
#ifndef PODTERM_HOST_ALLOW_H
#define PODTERM_HOST_ALLOW_H

#include <stdbool.h>
#include <stddef.h>

#define HOST_ALLOW_NAME_MAX 253 /* a DNS name; longer Host names are malformed */

struct host_policy {
    bool enforce; /* false: every Host passes (authentication on, no --allowed-host) */
    const char *const *names;
    size_t names_len;
};

enum host_verdict {
    HOST_OK = 0,
    HOST_FORBIDDEN,  /* a well-formed name the policy does not allow (403) */
    HOST_MALFORMED,  /* not a host[:port] (400) */
    HOST_DUPLICATED, /* more than one Host header (400) */
};

/* Check the Host header of the request head [head, head + head_len). On
 * HOST_FORBIDDEN, name receives the host name without its port
 * (NUL-terminated; name_cap > HOST_ALLOW_NAME_MAX). */
enum host_verdict host_allow_check(const struct host_policy *policy, const char *head,
                                   size_t head_len, char *name, size_t name_cap);

#endif
