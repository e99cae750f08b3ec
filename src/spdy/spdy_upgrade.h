/* spdy_upgrade.h - the remotecommand version a SPDY/3.1 exec upgrade asks
 * for, read from its request head. Pure: no I/O.
 *
 * Why here: the version decides what the session sends on the error stream
 * (v4: a metav1.Status; older: text) and whether a resize stream comes, and
 * it is read from bytes a client sent, before anything else acts on them.
 *
 * Rules (apimachinery's httpstream.Handshake): every
 * `X-Stream-Protocol-Version` line is one offer (Go keeps each line as one
 * value: a comma inside is part of the name), trimmed of spaces and tabs;
 * the first offer, in the client's order, that the server speaks wins. */
#ifndef PODTERM_SPDY_UPGRADE_H
#define PODTERM_SPDY_UPGRADE_H

#include <stdbool.h>
#include <stddef.h>

#define SPDY_UPGRADE_OFFERS_MAX 16  /* X-Stream-Protocol-Version lines looked at */
#define SPDY_UPGRADE_OFFER_TEXT 256 /* their names, quoted, for the refusal */

/* The versions podterm speaks over SPDY, newest first. Over SPDY, v5 is v4
 * under a new name (client-go's streamProtocolV5 embeds V4: SPDY has its own
 * half-close, v5's close signal is for WebSockets); kubectl 1.29+ offers it. */
enum spdy_version {
    SPDY_VERSION_V5, /* v5.channel.k8s.io: as v4 */
    SPDY_VERSION_V4, /* v4.channel.k8s.io: Status JSON with the exit code, resize */
    SPDY_VERSION_V3, /* v3.channel.k8s.io: text errors, resize */
    SPDY_VERSION_V2, /* v2.channel.k8s.io: text errors, stdin half-close */
    SPDY_VERSION_V1, /* channel.k8s.io */
    SPDY_VERSION_COUNT,
};

#define SPDY_UPGRADE_NONE -1     /* no X-Stream-Protocol-Version line */
#define SPDY_UPGRADE_NO_MATCH -2 /* none of the offers is spoken here */

/* The chosen version (an enum spdy_version), or SPDY_UPGRADE_NONE /
 * SPDY_UPGRADE_NO_MATCH; offers (may be NULL) receives the offered names as
 * text ("[a b]", Go's %v of a slice, shortened to fit) for the refusal. */
int spdy_upgrade_negotiate(const char *head, size_t head_len, char *offers, size_t offers_cap);
/* A response head (or request head) with an Upgrade header naming
 * SPDY/3.1, any case (Go's check). */
bool spdy_upgrade_is_spdy(const char *head, size_t head_len);
/* The wire name of a version. */
const char *spdy_version_name(enum spdy_version v);
/* The server's list as Go prints it: "[v5.channel.k8s.io ... channel.k8s.io]". */
const char *spdy_upgrade_server_list(void);

#endif
