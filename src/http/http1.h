/* http1.h - the HTTP/1.1 and WebSocket client pieces the gateway needs to
 * talk to an API server, sans-I/O: a response head parser, a chunked body
 * decoder, and a WebSocket client frame encoder and streaming decoder. */
#ifndef PODTERM_GATEWAY_HTTP1_H
#define PODTERM_GATEWAY_HTTP1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/proto.h"

#define HTTP1_HEAD_MAX (16 * 1024) /* an upstream response head */
#define HTTP1_VALUE_MAX 256        /* header values we keep */

struct http1_response {
    int status;
    long long content_length; /* -1: not given */
    bool chunked;
    bool upgrade_websocket;
    bool connection_upgrade;        /* Connection lists the "upgrade" token */
    char protocol[HTTP1_VALUE_MAX]; /* Sec-WebSocket-Protocol ("" if absent) */
    bool has_protocol;
    char accept[HTTP1_VALUE_MAX];       /* Sec-WebSocket-Accept */
    char content_type[HTTP1_VALUE_MAX]; /* Content-Type */
};

/* Parse a response head from buf. Returns its length (through the blank
 * line) when complete, 0 when more bytes are needed, -1 when malformed or
 * longer than HTTP1_HEAD_MAX. */
int http1_response_parse(const char *buf, size_t len, struct http1_response *r);
/* Headers every response relayed to a client carries: the API server's JSON
 * must never be sniffed or rendered as a page by a browser that opens it. */
#define HTTP1_SECURITY_HEADERS                                                                     \
    "X-Content-Type-Options: nosniff\r\n"                                                          \
    "Content-Security-Policy: default-src 'none'; frame-ancestors 'none'\r\n"                      \
    "Referrer-Policy: no-referrer\r\n"
/* A whole response carrying a metav1.Status (proto_http_status), as podterm
 * writes its own refusals where no allocation may be needed: JSON, no-store,
 * HTTP1_SECURITY_HEADERS, Connection: close. Returns its length, or -1 when
 * it does not fit out_cap (HTTP1_STATUS_RESPONSE_MAX always suffices). */
#define HTTP1_STATUS_RESPONSE_MAX (PROTO_STATUS_MAX + 512)
/* The reason phrase of the status codes podterm answers with ("Error" for others). */
const char *http1_reason_phrase(int code);
long http1_status_response(int code, const char *phrase, const char *reason, const char *message,
                           char *out, size_t out_cap);
/* The same with the Status's details (name and kind; NULL: left out). */
long http1_status_response_details(int code, const char *phrase, const char *reason,
                                   const char *message, const char *details_name,
                                   const char *details_kind, char *out, size_t out_cap);
/* Copy the response head in[0, head_len) (through its blank line) to out
 * with HTTP1_SECURITY_HEADERS in place of any the upstream sent itself.
 * Returns the new head's length, or -1 when out_cap is too small (head_len +
 * sizeof(HTTP1_SECURITY_HEADERS) always suffices). */
long http1_response_secure(const char *in, size_t head_len, char *out, size_t out_cap);
/* Step through a head's header lines: *p is the '\n' that ends the previous
 * line, end the head's "\r\n\r\n". Sets the next line (without its CR) and
 * returns true, or returns false after the last one. Used for requests
 * (gw_request.c) and responses alike. */
bool http1_next_line(const char **p, const char *end, const char **line, size_t *len);

/* Chunked transfer decoding, streaming. */
struct http1_chunked {
    int state;
    uint64_t remaining;
    /* The trailer line being read has bytes: kept here, not per call, since
     * a line's CR and LF may arrive in two reads (the empty line ends the body). */
    bool line_has_bytes;
    bool done;
};
/* Consume in[0, len): body bytes go to out (out_cap >= len is always enough).
 * Returns bytes consumed (all of them unless done), -1 on a framing error;
 * *out_len gets the body bytes produced. */
long http1_chunked_feed(struct http1_chunked *c, const uint8_t *in, size_t len, uint8_t *out,
                        size_t *out_len);

/* Sec-WebSocket-Accept for a key (28 chars + NUL). */
void http1_ws_accept(const char *key, char out[29]);

/* ---- WebSocket client frames ---- */

#define WSF_HEAD_MAX 14     /* a client frame header: 2 + 8 length + 4 mask */
#define WSF_CONTROL_MAX 125 /* control frame payload */

enum wsf_opcode {
    WSF_CONT = 0,
    WSF_TEXT = 1,
    WSF_BINARY = 2,
    WSF_CLOSE = 8,
    WSF_PING = 9,
    WSF_PONG = 10,
};

/* Encode one final, masked client frame: header then the masked payload into
 * out (WSF_HEAD_MAX + len bytes). Returns the frame length. */
size_t wsf_encode(enum wsf_opcode op, const uint8_t *payload, size_t len, uint32_t mask,
                  uint8_t *out);
/* The same in two steps, for payloads assembled in place: the header (its
 * length returned), then masking of payload bytes [offset, offset + len). */
size_t wsf_head(enum wsf_opcode op, size_t len, uint32_t mask, uint8_t *out);
void wsf_mask(uint8_t *buf, size_t len, uint32_t mask, size_t offset);

enum wsf_event_type {
    WSF_EV_DATA, /* a chunk of a text/binary message: data/len, first, final, opcode */
    WSF_EV_PING, /* data/len: the payload to echo */
    WSF_EV_PONG,
    WSF_EV_CLOSE, /* code (1005 if none), data/len: reason */
};

struct wsf_event {
    enum wsf_event_type type;
    enum wsf_opcode opcode; /* DATA: the message's opcode */
    bool first, final;      /* DATA: chunk starts / ends the message */
    int code;
    const uint8_t *data;
    size_t len;
};

/* Return how many of ev->len bytes were taken (DATA may take fewer, which
 * stops the decoder there; other events must take all). */
typedef size_t (*wsf_event_cb)(void *user, const struct wsf_event *ev);

struct wsf_decoder {
    uint8_t head[WSF_HEAD_MAX];
    size_t head_len;
    bool in_frame;
    bool fin;
    enum wsf_opcode op;
    uint64_t remaining;
    bool in_message; /* a fragmented data message continues */
    enum wsf_opcode msg_op;
    bool msg_started; /* first chunk of the message delivered */
    uint8_t ctl[WSF_CONTROL_MAX];
    size_t ctl_len;
    bool closed;
};

void wsf_decoder_init(struct wsf_decoder *d);
/* Feed server bytes. Returns bytes consumed (less than len when a callback
 * took less), or -1 on a protocol error (masked server frame, bad opcode,
 * oversized control frame, reserved bits). */
long wsf_decoder_feed(struct wsf_decoder *d, const uint8_t *in, size_t len, wsf_event_cb cb,
                      void *user);

#endif
