/* record_enc.h - the asciicast v2 encoder, sans I/O: a session's facts in,
 * complete lines out ('\n'-terminated, each one JSON value, valid UTF-8).
 * The file format: docs/operating.md, "Recording sessions".
 *
 * Output and input are arbitrary bytes, cut anywhere by the PTY: a
 * character split across two chunks is held back (at most 3 bytes per
 * stream) and finished with the next chunk; a byte that cannot start a
 * well-formed character (util_utf8.h's rules) becomes U+FFFD. So no line
 * ever holds half a character, and nothing the process writes can break a
 * line's JSON.
 *
 * Times are the caller's (seconds since the recording's start): the
 * encoder reads no clock, allocates only inside jansson, keeps no globals. */
#ifndef PODTERM_RECORD_ENC_H
#define PODTERM_RECORD_ENC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bytes of one stream encoded per event line: a larger chunk becomes
 * several events with the same time, so one line never outgrows
 * RECORD_LINE_MAX (JSON escapes a control byte as 6: "\u001b"). */
#define RECORD_EVENT_IN_MAX 4096
#define RECORD_CARRY_MAX 3 /* the bytes of an unfinished character kept for the next chunk */
#define RECORD_LINE_MAX (6 * (RECORD_EVENT_IN_MAX + RECORD_CARRY_MAX) + 64)
#define RECORD_LABEL_MAX 256 /* a marker's label, in bytes (longer ones are cut) */
#define RECORD_MARKER_LINE_MAX (6 * RECORD_LABEL_MAX + 64)
#define RECORD_HEADER_ARGV_MAX 256 /* argv words in the header; the rest are left out */

/* The streams an event can come from; each keeps its own unfinished character. */
enum record_stream {
    RECORD_STREAM_STDOUT,
    RECORD_STREAM_STDERR,
    RECORD_STREAM_STDIN,
    RECORD_STREAMS
};

struct record_enc {
    uint8_t carry[RECORD_STREAMS][RECORD_CARRY_MAX];
    size_t carry_len[RECORD_STREAMS];
};

/* What the header says of a session (the contract's line 1). Strings may be
 * any bytes; they are made UTF-8 like output. */
struct record_header {
    unsigned width, height;
    int64_t timestamp; /* Unix seconds of the start */
    const char *id, *user, *kind, *ns, *pod, *container;
    const char *const *argv;
    size_t argc;
    bool tty, stdin_open;
};

/* Receives each complete line; non-zero stops the encoding and is returned. */
typedef int (*record_emit_fn)(void *user, const char *line, size_t len);

void record_enc_init(struct record_enc *e);

/* The header line (malloc'd, '\n'-terminated, *len set); NULL when out of memory. */
char *record_enc_header(const struct record_header *h, size_t *len);

/* Output ("o", stdout and stderr) or input ("i") bytes at time t: zero or
 * more event lines through emit. Returns 0, -1 out of memory, or emit's
 * non-zero result. */
int record_enc_data(struct record_enc *e, enum record_stream s, double t, const uint8_t *data,
                    size_t len, record_emit_fn emit, void *user);
/* The end of the streams: what is still held back cannot be finished any
 * more; each held byte goes out as U+FFFD ("o" or "i" events at t). */
int record_enc_finish(struct record_enc *e, double t, record_emit_fn emit, void *user);

/* A resize event ("r", "WxH") or a marker ("m", label cut to
 * RECORD_LABEL_MAX bytes, made UTF-8) into out. Returns the line's
 * length, or -1 when it does not fit (cap) or memory ran out. */
int record_enc_resize(double t, unsigned width, unsigned height, char *out, size_t cap);
int record_enc_marker(double t, const char *label, char *out, size_t cap);

/* UTF-8 repair of a whole string (header fields, labels): src[0, n) into
 * out (cap >= 3 * n + 1), NUL-terminated; every byte that does not start a
 * well-formed character becomes U+FFFD. Returns the length. */
size_t record_utf8_repair(const uint8_t *src, size_t n, char *out);

/* argv joined by single spaces, each word shell-quoted only when needed
 * (Python's shlex.join): malloc'd, NULL when out of memory. */
char *record_command_text(const char *const *argv, size_t argc);

#endif
