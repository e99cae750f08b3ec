/* lg.h - podterm-loadgen internals: one run context, its sessions, and the
 * two WebSocket engines that drive them.
 *
 * Engines (lg_lws.c: libwebsockets' client; lg_raw.c: a minimal RFC 6455
 * client on epoll) only move frames: they hand every chunk of a received
 * message to lg_conn_chunk() and every close to lg_conn_closed(). lg_conn.c
 * turns chunks into channel bytes (binary or base64 kinds), CRC-32s and the
 * exit status; the modes in loadgen.c only see decoded channel data. */
#ifndef PODTERM_BENCH_LG_H
#define PODTERM_BENCH_LG_H

#include "bench_common.h"

#define LG_PATH_MAX 8192                            /* request target with the encoded command */
#define LG_STATUS_MAX 4096                          /* channel 3 bytes kept */
#define LG_READ_BUF (256 * 1024)                    /* one socket read (raw) / rx buffer (lws) */
#define LG_SEND_MAX (64 * 1024)                     /* stdin frames queued on one session */
#define PROTO_FLOW_NAME_BENCH "v1.flow.podterm.dev" /* JSON status, like v5 */

enum lg_state { LG_IDLE = 0, LG_CONNECTING, LG_OPEN, LG_DONE };

struct lg;

struct lg_conn {
    struct lg *lg;
    size_t idx;
    enum lg_state state;
    bool failed; /* handshake refused, protocol error, unexpected close */
    char err[160];
    /* decoding */
    bool in_message, have_channel;
    uint8_t channel;
    uint8_t b64_pend[4];
    int b64_npend;
    bool got_initial; /* the first (empty) message */
    uint64_t bytes[4];
    uLong crc[4];
    char status[LG_STATUS_MAX];
    size_t status_len;
    int close_code; /* 1006 when the socket ended without a Close frame */
    double t_start, t_open, t_first, t_done;
    bool paused;
    void *eng;  /* engine's per-session state */
    void *user; /* the mode's per-session state */
};

struct lg_engine_ops {
    const char *name;
    int (*init)(struct lg *lg);
    int (*connect)(struct lg_conn *c);
    /* Queue one message: is_text picks the opcode; data is the whole payload. */
    int (*send)(struct lg_conn *c, bool is_text, const uint8_t *data, size_t len);
    void (*pause)(struct lg_conn *c, bool paused);
    void (*close)(struct lg_conn *c);
    /* Run the event loop for at most timeout_ms (returns earlier on events). */
    void (*service)(struct lg *lg, int timeout_ms);
    void (*fini)(struct lg *lg);
};

extern const struct lg_engine_ops lg_engine_raw;
extern const struct lg_engine_ops lg_engine_lws;

struct lg {
    const struct lg_engine_ops *eng;
    void *eng_data;
    const char *host;
    int port;
    const char *proto; /* offered subprotocol; NULL: none */
    bool tls;          /* wss:// (lws engine only): the TLS upstream of the gateway rows */
    bool base64;       /* base64 framing (base64.channel.k8s.io, v4.base64...) */
    bool json_status;  /* v4/v5: JSON Status on channel 3 */
    char path[LG_PATH_MAX];
    struct lg_conn *conns;
    size_t nconns;
    size_t nopen, ndone;
    uint8_t *scratch; /* base64 decode output */
    /* mode hooks (may be NULL) */
    void (*on_open)(struct lg_conn *c);
    void (*on_data)(struct lg_conn *c, int channel, const uint8_t *data, size_t len);
    void (*on_done)(struct lg_conn *c);
};

/* lg_conn.c */
void lg_conn_reset(struct lg_conn *c);
void lg_conn_opened(struct lg_conn *c);
/* A chunk of a received data message; first/final delimit the message. */
void lg_conn_chunk(struct lg_conn *c, bool first, bool final, bool is_text, const uint8_t *data,
                   size_t len);
void lg_conn_closed(struct lg_conn *c, int close_code);
void lg_conn_fail(struct lg_conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Send on a channel (stdin 0, resize 4), encoded for the negotiated kind. */
int lg_conn_send(struct lg_conn *c, uint8_t channel, const uint8_t *data, size_t len);
/* Exit code from the status channel: 0 success, >0 the code, -1 none/unknown failure. */
int lg_conn_exit_code(const struct lg_conn *c);

/* The Sec-WebSocket-Accept value for a key (28 chars + NUL). */
void lg_ws_accept(const char *key, char out[29]);

#endif
