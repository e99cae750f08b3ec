/* proto.h - sans-I/O codec for the Kubernetes exec/attach WebSocket subprotocols.
 *
 * Pure functions from bytes to frames and back: no sockets, no globals, no
 * allocation except where a function says so. Everything the server knows about
 * channel.k8s.io, base64.channel.k8s.io, v4.*, v5.channel.k8s.io and podterm's
 * own flow-controlled variant lives here, so it can be unit-tested and fuzzed.
 * Wire rules: ../shared/PROTOCOL.md (sections 2 and 3).
 */
#ifndef PODTERM_PROTO_H
#define PODTERM_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Named limits. */
#define PROTO_OFFER_MAX 8192     /* one Sec-WebSocket-Protocol header, all lines joined */
#define PROTO_ITEMS_MAX 32       /* subprotocol items considered in one offer */
#define PROTO_TOKEN_MAX 4096     /* decoded bearer token from the token subprotocol */
#define PROTO_RESIZE_BUF_MAX 512 /* one pending resize JSON object on channel 4 */
#define PROTO_STATUS_MAX 2048    /* one encoded Status JSON message */

/* Channel ids (PROTOCOL.md 3.1). */
enum proto_channel {
    PROTO_CH_STDIN = 0,
    PROTO_CH_STDOUT = 1,
    PROTO_CH_STDERR = 2,
    PROTO_CH_ERROR = 3,
    PROTO_CH_RESIZE = 4,
    PROTO_CH_ACK = 6,     /* podterm kind only: client -> server flow-control ack */
    PROTO_CH_INFO = 7,    /* podterm kind only: server -> client JSON (session, watchers) */
    PROTO_CH_CLOSE = 255, /* v5 close signal prefix */
};

/* The negotiated subprotocol. Order is not meaningful. */
enum proto_kind {
    PROTO_KIND_NONE = 0,  /* no Sec-WebSocket-Protocol header: binary, pre-v4 status text */
    PROTO_KIND_CHANNEL,   /* channel.k8s.io */
    PROTO_KIND_BASE64,    /* base64.channel.k8s.io */
    PROTO_KIND_V4,        /* v4.channel.k8s.io */
    PROTO_KIND_V4_BASE64, /* v4.base64.channel.k8s.io */
    PROTO_KIND_V5,        /* v5.channel.k8s.io */
    PROTO_KIND_PODTERM,   /* v1.flow.podterm.dev: v5 framing + flow-control acks (web UI) */
    PROTO_KIND_COUNT,
};

/* podterm's flow-controlled subprotocol (v1.flow.podterm.dev), for browsers,
 * which cannot apply backpressure to a WebSocket: framing is v5's (binary, one
 * channel byte, JSON Status on 3, close signal), plus client -> server
 * messages on channel 6 whose payload is the ASCII decimal count (1-15
 * digits, > 0) of stdout/stderr payload bytes the page has rendered since its
 * last ack. The server stops reading the process while more than
 * PROTO_FLOW_WINDOW bytes are unacknowledged. */
#define PROTO_FLOW_NAME "v1.flow.podterm.dev"
#define PROTO_FLOW_WINDOW (256 * 1024)
#define PROTO_FLOW_ACK_DIGITS_MAX 15

/* Errors are negative. */
enum proto_err {
    PROTO_OK = 0,
    PROTO_ERR_NO_MATCH = -1,       /* offer has no supported item -> 403, no upgrade */
    PROTO_ERR_TOKEN_TWICE = -2,    /* two bearer token items -> 401 */
    PROTO_ERR_TOKEN_ENCODING = -3, /* token not base64url, not visible ASCII, or too long -> 401 */
    PROTO_ERR_TOKEN_ALONE = -4,    /* token item with no other item -> 401 */
    PROTO_ERR_TOO_LONG = -5,       /* header over PROTO_OFFER_MAX / too many items */
    PROTO_ERR_SPACE = -6,          /* caller's output buffer too small */
    PROTO_ERR_FRAME = -7,          /* client frame breaks the protocol: drop the connection */
};

/* Wire name of a kind ("" for PROTO_KIND_NONE). */
const char *proto_kind_name(enum proto_kind kind);
/* Kind for an exact wire name; -1 if unsupported ("" included: no client
 * can offer the empty name, it is what no header means). */
int proto_kind_from_name(const char *name, size_t len);
bool proto_kind_is_base64(enum proto_kind kind);
/* v4, v4.base64, v5, podterm: JSON Status on channel 3; others: text on failure only. */
bool proto_kind_has_json_status(enum proto_kind kind);
/* v5 and podterm accept the [0xFF, id] close signal. */
bool proto_kind_has_close_signal(enum proto_kind kind);

/* ---- Negotiation (PROTOCOL.md 2.3, 2.5) ---- */

#define PROTO_TOKEN_PREFIX "base64url.bearer.authorization.k8s.io."
/* The web terminal's resume item (docs/flow-control.md, "Resume"): the
 * token that takes a dropped session over, in a header of its own kind like
 * the bearer item, so that it is never in a URL. Tokens are base64url. */
#define PROTO_RESUME_PREFIX "resume.podterm.dev."
#define PROTO_RESUME_MAX 64 /* characters of a resume token (podterm issues 43) */
/* The web page's CSRF item (docs/security.md, "Browser sign-in"): a browser
 * cannot set headers on a WebSocket, so the per-session CSRF token of a
 * cookie-authenticated upgrade travels as an item of its own, like the
 * resume item: kept, never selected, never in a URL. Tokens are base64url. */
#define PROTO_CSRF_PREFIX "csrf.podterm.dev."
#define PROTO_CSRF_MAX 64 /* characters of a CSRF token (podterm issues 43) */

struct proto_negotiation {
    enum proto_kind kind;
    bool offered;                    /* a Sec-WebSocket-Protocol header was present */
    bool has_token;                  /* a bearer token item was present and decoded */
    char token[PROTO_TOKEN_MAX + 1]; /* NUL-terminated decoded token when has_token */
    bool has_resume;                 /* a resume item was present */
    char resume[PROTO_RESUME_MAX + 1];
    bool has_csrf; /* a CSRF item was present */
    char csrf[PROTO_CSRF_MAX + 1];
};

/* Negotiate from the Sec-WebSocket-Protocol header lines as received (lines[0] is
 * the first header line; NULL/0 when the header is absent). Rules:
 *  - every line is split on ',' and items trimmed of spaces and tabs; empty
 *    items are skipped; more than PROTO_OFFER_MAX bytes in all lines or more
 *    than PROTO_ITEMS_MAX items -> PROTO_ERR_TOO_LONG;
 *  - token items (PROTO_TOKEN_PREFIX + base64url without padding) are looked
 *    for on every line, in order, as the apiserver does: a second one ->
 *    TOKEN_TWICE; one that is empty, not base64url, not visible ASCII
 *    (util_token_is_valid: stricter than the apiserver's UTF-8, because the
 *    token may be written into an upstream header) or decodes to more than
 *    PROTO_TOKEN_MAX bytes -> TOKEN_ENCODING; then a token
 *    with no other item -> TOKEN_ALONE;
 *  - a resume item (PROTO_RESUME_PREFIX + 1..PROTO_RESUME_MAX base64url
 *    characters) is kept in out->resume and never selected; a second one
 *    -> TOKEN_TWICE, a malformed one -> TOKEN_ENCODING;
 *  - a CSRF item (PROTO_CSRF_PREFIX + 1..PROTO_CSRF_MAX base64url characters)
 *    likewise, in out->csrf;
 *  - without a token, only the first line is used for selection; with one, the
 *    remaining items of all lines joined in order (as the apiserver rewrites it);
 *  - v5.channel.k8s.io anywhere wins; otherwise the first supported item in the
 *    client's order; v1.flow.podterm.dev is supported like any other item;
 *    nothing supported -> PROTO_ERR_NO_MATCH;
 *  - no header -> PROTO_KIND_NONE with offered=false.
 * Returns PROTO_OK or a proto_err; on error out holds no token. */
int proto_negotiate(const char *const *lines, size_t nlines, struct proto_negotiation *out);

/* ---- Server -> client frames ---- */

/* Bytes a frame of payload_len bytes takes on the wire for this kind
 * (1 + payload_len for binary kinds, 1 + base64 length for base64 kinds). */
size_t proto_frame_size(enum proto_kind kind, size_t payload_len);

/* Encode one server->client message: channel prefix then payload (base64 with
 * padding for base64 kinds). Writes proto_frame_size() bytes into out.
 * Returns bytes written or PROTO_ERR_SPACE. */
int proto_frame_encode(enum proto_kind kind, uint8_t channel, const uint8_t *payload, size_t len,
                       uint8_t *out, size_t out_cap);

/* In-place variant for the hot path: the payload already sits at buf + head,
 * where head = proto_frame_head(kind, len); fills in the prefix (binary) or
 * expands the payload into base64 in place, backwards, so buf must hold
 * proto_frame_size(kind, len) bytes. Returns the frame length. */
size_t proto_frame_head(enum proto_kind kind, size_t payload_len);
size_t proto_frame_encode_inplace(enum proto_kind kind, uint8_t channel, uint8_t *buf,
                                  size_t payload_len);

/* Whether the frame is sent as a WebSocket text (base64 kinds) or binary message. */
bool proto_frame_is_text(enum proto_kind kind);

/* ---- Client -> server messages ---- */

enum proto_event_type {
    PROTO_EV_NONE = 0,    /* nothing to do (empty message, ignored channel, dropped frame) */
    PROTO_EV_STDIN,       /* data for the process's stdin: out/out_len */
    PROTO_EV_RESIZE,      /* width/height from channel 4 */
    PROTO_EV_CLOSE_STDIN, /* v5 [0xFF, 0x00]: half-close stdin */
    PROTO_EV_ACK,         /* podterm kind: client rendered ack_bytes more bytes */
};

struct proto_event {
    enum proto_event_type type;
    size_t out_len;     /* PROTO_EV_STDIN: number of stdin bytes at the callback's data */
    uint16_t width;     /* PROTO_EV_RESIZE */
    uint16_t height;    /* PROTO_EV_RESIZE */
    uint64_t ack_bytes; /* PROTO_EV_ACK */
};

/* Streaming decoder for one connection's client messages. A message may arrive
 * in several chunks (lws delivers fragments and splits large frames); the
 * decoder keeps the few bytes of state it needs between chunks (channel byte,
 * up to 3 pending base64 chars, the resize JSON stream), all fixed-size. */
struct proto_decoder {
    enum proto_kind kind;
    bool in_message;     /* between first and final chunk */
    bool have_channel;   /* channel byte of the current message seen */
    uint8_t channel;     /* current message's channel */
    bool bad_message;    /* current base64 message is undecodable: drop the rest */
    uint8_t b64_pend[4]; /* base64 chars carried to the next chunk (the last
                          * full group waits to learn whether it ends the message) */
    uint8_t b64_npend;
    uint8_t close_len; /* bytes seen of a v5 close-signal message */
    uint8_t close_id;
    bool resize_dead; /* a parse error ended resize handling (PROTOCOL.md 3.5) */
    char resize_buf[PROTO_RESIZE_BUF_MAX];
    size_t resize_len;
    int resize_depth; /* JSON scanner state for channel 4 */
    bool resize_in_str;
    bool resize_esc;
    char ack_buf[PROTO_FLOW_ACK_DIGITS_MAX + 1]; /* channel 6 digits of this message */
    uint8_t ack_len;
};

void proto_decoder_init(struct proto_decoder *dec, enum proto_kind kind);

/* Feed one chunk of a client message. first/final say whether the chunk starts
 * / ends a WebSocket message. Events are delivered through the callback, in
 * order (one chunk can hold several resize objects); for PROTO_EV_STDIN, data
 * points at out_len bytes valid only during the callback: into in itself for
 * the binary kinds (no copy), into out for the base64 kinds, which decode
 * there. out_cap must be at least len + 3 (up to four base64 chars carry over
 * from the previous chunk); binary kinds do not touch out.
 * Returns PROTO_OK; PROTO_ERR_FRAME when the connection must be dropped (v5
 * close signal of the wrong length or id >= 5, podterm ack that is not 1-15
 * digits with a value > 0); PROTO_ERR_SPACE when out is too small.
 * Base64 payloads follow Go's base64.StdEncoding: padding required, '\r' and
 * '\n' skipped anywhere. An undecodable base64 message is dropped whole where
 * it fits in one chunk; bytes of earlier chunks of the same message may
 * already have been delivered. Channels the server does not read are dropped. */
typedef void (*proto_event_cb)(void *user, const struct proto_event *ev, const uint8_t *data);
int proto_decoder_feed(struct proto_decoder *dec, const uint8_t *in, size_t len, bool first,
                       bool final, uint8_t *out, size_t out_cap, proto_event_cb cb, void *user);

/* ---- Status (channel 3) and errors (PROTOCOL.md 3.6, 1.2) ---- */

enum proto_status_type {
    PROTO_STATUS_SUCCESS,
    PROTO_STATUS_EXIT,     /* non-zero exit code */
    PROTO_STATUS_INTERNAL, /* other failure: message */
};

/* Build the channel-3 payload (without channel prefix) for this kind:
 * JSON Status for v4/v5/podterm, plain text for pre-v4 kinds (empty on success).
 * message (NULL = "") is the caller's text: for PROTO_STATUS_EXIT e.g.
 * "error executing command [sh -c exit 3], exit code 3"; the prefixes
 * "command terminated with non-zero exit code: " / "Internal error occurred: "
 * are added here. Strings are escaped as Go's encoding/json escapes them. A
 * message too long for out_cap is shortened (at a UTF-8 character boundary) so
 * a status still goes out. Not NUL-terminated.
 * Returns payload length, or PROTO_ERR_SPACE when even an empty message does not fit. */
int proto_status_payload(enum proto_kind kind, enum proto_status_type type, int exit_code,
                         const char *message, char *out, size_t out_cap);

/* An HTTP metav1.Status body:
 * {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":M,
 *  "reason":R,["details":{"name":N,"kind":K},]"code":C}
 * details_name/details_kind may be NULL: details has only the keys given, and is
 * omitted when both are NULL. Escaping and shortening as proto_status_payload;
 * not NUL-terminated. Returns length or PROTO_ERR_SPACE. */
int proto_http_status(int code, const char *reason, const char *message, const char *details_name,
                      const char *details_kind, char *out, size_t out_cap);

/* Decode a Kubernetes query boolean (PROTOCOL.md 1.1): "0" and any case of
 * "false" are false; everything else, the empty string included, is true. */
bool proto_query_bool(const char *value);

/* Standard base64 with padding. Returns bytes written. */
size_t proto_base64_encode(const uint8_t *in, size_t len, char *out);
/* Decode of complete padded base64 (no whitespace; Go's StdEncoding, which
 * ignores non-zero unused bits in the last group); -1 if invalid or out_cap
 * is too small. */
int proto_base64_decode(const char *in, size_t len, uint8_t *out, size_t out_cap);

#endif
