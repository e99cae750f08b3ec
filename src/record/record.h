/* record.h - recording sessions as asciicast v2 files, one per session:
 * <dir>/<session id>.cast (the format: docs/operating.md, "Recording
 * sessions").
 *
 * upgrade.c asks record_open before the 101 (so a session that must be
 * recorded and cannot be is refused with a Status, not cut after it
 * started), then hands the recording to the session as a tap
 * (record_attach, before the admission's tap so that the audit's
 * ResponseComplete carries podterm.dev/recording). From there the tap
 * encodes (record_enc.h) and queues lines for the writer (record_writer.h);
 * at the session's end it writes the exit marker and lets the writer flush
 * and close the file on its own.
 *
 * Failures: a recording that stops early (its size cap, a write that
 * failed, a disk slower than the terminal) ends with a "recording stopped"
 * marker when the file still takes it, and the admission learns why. A
 * failed write marks recording unhealthy in the admission (which refuses
 * new recorded sessions with --recording-required); with
 * --recording-required the session itself ends with a Status saying why. */
#ifndef PODTERM_RECORD_H
#define PODTERM_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define RECORD_MAX_BYTES_DEFAULT (64ull << 20) /* --recording-max-bytes: 64 MiB per file */
#define RECORD_MAX_BYTES_MIN 4096              /* room for a header and a few events */
#define RECORD_ERR_MAX 512
#define RECORD_FILE_MODE 0600 /* what a terminal shows can be secret */
#define RECORD_DEFAULT_WIDTH 80
#define RECORD_DEFAULT_HEIGHT 24

struct admission;
struct exec_request;
struct session;
struct record;

struct record_opts {
    const char *dir;    /* NULL: nothing is recorded */
    bool all;           /* --recording-all: non-tty sessions too */
    bool input;         /* --record-input: "i" events (off: passwords) */
    uint64_t max_bytes; /* --recording-max-bytes (0: RECORD_MAX_BYTES_DEFAULT) */
    bool required;      /* --recording-required */
};

/* Whether the session req (admitted as adm) is recorded, and its file,
 * created now. Returns 0 with *out NULL (not recorded: off, not a tty, or
 * the file could not be created and recording is not required: adm then
 * says so) or a recording; 1 when the file cannot be created and recording
 * is required: refuse the session with a 503 and err. */
int record_open(uv_loop_t *loop, const struct record_opts *o, struct admission *adm,
                const struct exec_request *req, struct record **out, char *err, size_t err_cap);
/* The session was created: the recording becomes its tap (before the
 * admission's). On failure (no tap slot left) the recording is dropped. */
void record_attach(struct record *r, struct session *session);
/* The session was not created after all: the empty file is removed. */
void record_abandon(struct record *r);

#endif
