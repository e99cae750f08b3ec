/* spdy_frame.h - SPDY/3 frames: an incremental parser (bytes in, frames out,
 * any chunking) and writers into a caller's buffer. Sans-I/O, no allocation,
 * no zlib: header blocks pass through compressed (spdy_headers.h inflates
 * them, because the compression context belongs to the connection).
 *
 * Wire format (SPDY/3 draft, section 2.2): every frame has an 8-byte head.
 *   control: 1 | version(15) | type(16) | flags(8) | length(24) | payload
 *   data:    0 | stream-id(31)           | flags(8) | length(24) | payload
 * A control frame's payload is gathered whole (at most SPDY_CONTROL_MAX
 * bytes, which is where header blocks live); a data frame's payload is handed
 * on as it arrives, never buffered, so a 16 MiB data frame costs nothing.
 */
#ifndef PODTERM_SPDY_FRAME_H
#define PODTERM_SPDY_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SPDY_VERSION 3
#define SPDY_HEAD_LEN 8
#define SPDY_LENGTH_MAX 0xffffffu /* 24-bit length field */
#define SPDY_STREAM_ID_MAX 0x7fffffffu
#define SPDY_WINDOW_MAX 0x7fffffff /* 2^31-1: largest window and WINDOW_UPDATE delta */
/* Largest control frame payload podterm gathers. kubectl's SYN_STREAMs are
 * about 40 bytes compressed; 16 KiB leaves room for any real header block
 * while keeping the parser's buffer fixed. A known control frame beyond it
 * ends the connection (its header block cannot be skipped: the compression
 * context would be lost); an unknown one is skipped unread. */
#define SPDY_CONTROL_MAX (16 * 1024)

/* Control frame types (section 2.6). */
enum spdy_type {
    SPDY_SYN_STREAM = 1,
    SPDY_SYN_REPLY = 2,
    SPDY_RST_STREAM = 3,
    SPDY_SETTINGS = 4,
    SPDY_PING = 6,
    SPDY_GOAWAY = 7,
    SPDY_HEADERS = 8,
    SPDY_WINDOW_UPDATE = 9,
};

/* Flags. */
#define SPDY_FLAG_FIN 0x01
#define SPDY_FLAG_UNIDIRECTIONAL 0x02 /* SYN_STREAM only */
#define SPDY_FLAG_CLEAR_SETTINGS 0x01 /* SETTINGS only */

/* RST_STREAM status codes (section 2.4.2). */
enum spdy_rst_status {
    SPDY_RST_PROTOCOL_ERROR = 1,
    SPDY_RST_INVALID_STREAM = 2,
    SPDY_RST_REFUSED_STREAM = 3,
    SPDY_RST_UNSUPPORTED_VERSION = 4,
    SPDY_RST_CANCEL = 5,
    SPDY_RST_INTERNAL_ERROR = 6,
    SPDY_RST_FLOW_CONTROL_ERROR = 7,
    SPDY_RST_STREAM_IN_USE = 8,
    SPDY_RST_STREAM_ALREADY_CLOSED = 9,
    SPDY_RST_FRAME_TOO_LARGE = 11,
};

/* GOAWAY status codes (section 2.6.6). */
enum spdy_goaway_status {
    SPDY_GOAWAY_OK = 0,
    SPDY_GOAWAY_PROTOCOL_ERROR = 1,
    SPDY_GOAWAY_INTERNAL_ERROR = 2,
};

/* SETTINGS ids podterm reads (section 2.6.4); others are ignored. */
#define SPDY_SETTINGS_INITIAL_WINDOW_SIZE 7

/* Errors of this module and spdy_headers/spdy_conn are negative. */
enum spdy_err {
    SPDY_OK = 0,
    SPDY_ERR_SPACE = -1,        /* caller's output buffer too small */
    SPDY_ERR_FRAME = -2,        /* a frame breaks the format: connection error */
    SPDY_ERR_FRAME_SIZE = -3,   /* known control frame over SPDY_CONTROL_MAX */
    SPDY_ERR_VERSION = -4,      /* control frame of a version other than 3 */
    SPDY_ERR_COMPRESSION = -5,  /* header block does not inflate / over a bound */
    SPDY_ERR_HEADERS = -6,      /* header block breaks the name/value rules */
    SPDY_ERR_FLOW_CONTROL = -7, /* connection window over 2^31-1 or overrun */
    SPDY_ERR_PROTOCOL = -8,     /* stream id rules, bad lengths, ... */
    SPDY_ERR_FLOOD = -9,        /* our replies to the peer overflow the output buffer */
    SPDY_ERR_STATE = -10,       /* the local call does not fit the stream's state */
    SPDY_ERR_CLOSED = -11,      /* the connection failed or went away */
    SPDY_ERR_NOMEM = -12,
};

/* One frame's head, decoded. */
struct spdy_frame_head {
    bool control;
    uint16_t version; /* control only */
    uint16_t type;    /* control only (enum spdy_type or unknown) */
    uint8_t flags;
    uint32_t length;    /* payload bytes */
    uint32_t stream_id; /* data only */
};

/* Called once per control frame (payload whole, first and last true) and
 * for a data frame once as soon as its head is complete (first true, len 0;
 * last true too when the frame is empty), then once per payload piece in
 * order (first false, last on the final one). A non-zero return stops the
 * parser and is returned by feed.
 * Unknown control types are skipped without a call. */
typedef int (*spdy_frame_cb)(void *user, const struct spdy_frame_head *h, const uint8_t *payload,
                             size_t len, bool first, bool last);

struct spdy_parser {
    uint8_t head[SPDY_HEAD_LEN];
    size_t head_len;
    struct spdy_frame_head h;
    uint32_t got;  /* payload bytes of the current frame seen */
    bool skip;     /* unknown control frame: discard its payload */
    bool in_frame; /* head complete, payload pending */
    uint8_t payload[SPDY_CONTROL_MAX];
};

void spdy_parser_init(struct spdy_parser *p);
/* Feed bytes; every complete frame (and every data piece) goes to cb.
 * Returns SPDY_OK, SPDY_ERR_FRAME_SIZE, or cb's non-zero return. After an
 * error the parser must not be fed again. */
int spdy_parser_feed(struct spdy_parser *p, const uint8_t *in, size_t len, spdy_frame_cb cb,
                     void *user);

/* ---- control payloads, decoded (pointers into the payload) ---- */

struct spdy_syn_stream {
    uint32_t stream_id;
    uint32_t assoc_id;
    uint8_t priority; /* 3 bits */
    uint8_t slot;
    const uint8_t *block; /* compressed header block */
    size_t block_len;
};

/* SYN_STREAM: >= 10 bytes. SYN_REPLY and HEADERS: stream id then a block
 * (>= 4 bytes). RST_STREAM, WINDOW_UPDATE, GOAWAY: exactly 8. PING: exactly 4.
 * SETTINGS: 4 + 8 * count. Each returns SPDY_OK or SPDY_ERR_FRAME. The
 * reserved top bit of every stream id is ignored, as the spec says. */
int spdy_parse_syn_stream(const uint8_t *p, size_t len, struct spdy_syn_stream *out);
int spdy_parse_stream_block(const uint8_t *p, size_t len, uint32_t *stream_id,
                            const uint8_t **block, size_t *block_len);
int spdy_parse_u32_pair(const uint8_t *p, size_t len, uint32_t *a, uint32_t *b);
int spdy_parse_ping(const uint8_t *p, size_t len, uint32_t *id);
/* SETTINGS: calls fn for each entry (flags, id, value) in order. */
int spdy_parse_settings(const uint8_t *p, size_t len,
                        void (*fn)(void *u, uint8_t flags, uint32_t id, uint32_t value), void *u);

/* ---- writers: each returns bytes written or SPDY_ERR_SPACE ---- */

/* Control head: version 3, type, flags, length. */
int spdy_write_control_head(uint8_t *out, size_t cap, uint16_t type, uint8_t flags,
                            uint32_t length);
int spdy_write_data_head(uint8_t *out, size_t cap, uint32_t stream_id, uint8_t flags,
                         uint32_t length);
/* Header-carrying frames: the block is already compressed. */
int spdy_write_syn_stream(uint8_t *out, size_t cap, uint8_t flags, uint32_t stream_id,
                          uint32_t assoc_id, uint8_t priority, const uint8_t *block,
                          size_t block_len);
int spdy_write_syn_reply(uint8_t *out, size_t cap, uint8_t flags, uint32_t stream_id,
                         const uint8_t *block, size_t block_len);
int spdy_write_headers(uint8_t *out, size_t cap, uint8_t flags, uint32_t stream_id,
                       const uint8_t *block, size_t block_len);
int spdy_write_rst_stream(uint8_t *out, size_t cap, uint32_t stream_id, uint32_t status);
int spdy_write_settings_one(uint8_t *out, size_t cap, uint8_t flags, uint32_t id, uint32_t value);
int spdy_write_ping(uint8_t *out, size_t cap, uint32_t id);
int spdy_write_goaway(uint8_t *out, size_t cap, uint32_t last_good_id, uint32_t status);
int spdy_write_window_update(uint8_t *out, size_t cap, uint32_t stream_id, uint32_t delta);

#endif
