/* record_writer.h - a recording's file, written without blocking the loop.
 *
 * Lines go into a bounded buffer; uv_fs_write on libuv's thread pool takes
 * whatever has gathered, one write in flight at a time (the pattern of
 * audit/audit_log.c), so a slow or full disk never stalls the event loop
 * and a busy terminal's lines go out in few, large writes. The memory of a
 * recording is therefore at most two buffers (the one being written and the
 * one filling): 2 * RECORD_BUF_MAX, allocated as output flows and freed
 * when all of it is written.
 *
 * A failed write (ENOSPC, EFBIG past RLIMIT_FSIZE, EIO) is reported once
 * through failed(user, why, true) from the loop, never from inside an
 * append; the rest is dropped. A line refused for want of room is
 * reported the same way (false) when the write in flight ends. After
 * record_writer_close the writer writes what it holds, closes the file,
 * tells closed(user, why) (why: NULL, or the failure that cut the file
 * short) and frees itself. */
#ifndef PODTERM_RECORD_WRITER_H
#define PODTERM_RECORD_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

/* Each of the two buffers: a recording's memory bound is twice this. Sized
 * for a terminal at full speed (~70 MB/s of PTY output here) while a write
 * waits for a thread-pool thread on a loaded machine: 128 KiB (two PTY
 * reads) overflowed within a second under load; 1 MiB is ~15 ms of output.
 * Both are freed whenever everything is written, so an idle recording
 * holds none. */
#define RECORD_BUF_MAX (1024 * 1024)
#define RECORD_BUF_MIN 4096 /* first allocation, doubled as needed */
#define RECORD_WHY_MAX 256  /* why a write failed */

struct record_writer;

/* disk_error: a write failed (the rest is dropped, nothing more is
 * written); false: appends found no room while the disk was slower than
 * the terminal (lines were lost; the writer goes on). */
typedef void (*record_writer_failed_fn)(void *user, const char *why, bool disk_error);

/* After each write that went through, from the loop (not after close). */
typedef void (*record_writer_wrote_fn)(void *user);

/* Takes fd (opened by the caller, close-on-exec); NULL when out of memory
 * (fd is then closed). */
struct record_writer *record_writer_new(uv_loop_t *loop, int fd, record_writer_failed_fn failed,
                                        record_writer_wrote_fn wrote, void *user);
/* Bytes waiting for the next write (the buffer filling). */
size_t record_writer_pending(const struct record_writer *w);
/* Queue one complete line. -1 when it does not fit what is left of the
 * buffer (the disk fell behind the terminal) or the writer failed: the line
 * is not written. */
int record_writer_append(struct record_writer *w, const char *line, size_t len);
/* Bytes queued so far (written or not): what the file will hold. */
uint64_t record_writer_bytes(const struct record_writer *w);
/* Once the file is closed: why is NULL when every byte was written, or
 * the first failure (the file is short). From the loop. */
typedef void (*record_writer_closed_fn)(void *user, const char *why);
/* Write what is queued, close the file, call closed (may be NULL), free w. */
void record_writer_close(struct record_writer *w, record_writer_closed_fn closed, void *user);

#endif
