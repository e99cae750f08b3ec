/* local.h - the local backend: "local pods" are processes on this host.
 * exec runs argv directly (never through a shell) in a PTY (tty) or with
 * pipes; attach joins the container's long-running main process.
 *
 * What the backend.h contract means here:
 * - Output is read straight from the PTY master or pipe into the caller's
 *   buffer (one read() per backend_stream_read); an fd is polled only while
 *   the session wants it, so a slow client blocks the process, not memory.
 * - exited comes after the child is reaped and every output read to its end.
 *   An output a grandchild keeps open ends LOCAL_DRAIN_GRACE_MS after the
 *   reap (what arrives within it is delivered). Exit code: the process's, or
 *   128+signal if a signal killed it (as runtimes report), as
 *   BACKEND_EXIT_CODE.
 * - close_stdin: pipes are closed; a PTY gets its VEOF character (^D) once,
 *   which ends input for a program reading lines, as typing ^D does.
 * - stop: exec gets SIGHUP (its process group), SIGKILL after the kill grace,
 *   and is reaped; attach just detaches. No callback after stop returns.
 * - attach: several clients share the main process; the fastest attached
 *   reader sets the pace and loses nothing, one that falls
 *   LOCAL_ATTACH_BACKLOG bytes behind skips ahead alone, with a note in its
 *   output (memory is bounded, nobody waits for a stalled reader); see
 *   local_attach.c.
 *
 * The server must ignore SIGPIPE (writes to a vanished reader are -EPIPE),
 * stop every stream before backend_free, and run the loop after it so the
 * handles finish closing. backend_free SIGKILLs and reaps whatever is left.
 */
#ifndef PODTERM_BACKEND_LOCAL_H
#define PODTERM_BACKEND_LOCAL_H

#include <stdint.h>
#include <uv.h>

#include "backend/backend.h"
#include "config/config.h"

/* Tunables with their reasons; defaults are the named constants. */
#define LOCAL_KILL_GRACE_MS 2000 /* SIGHUP -> SIGKILL when a client goes away */
#define LOCAL_READ_CHUNK 65536   /* largest single read from a PTY or pipe */
/* After the child is reaped, how long outputs a grandchild still holds open
 * get to reach EOF before the stream ends anyway. */
#define LOCAL_DRAIN_GRACE_MS 200

/* The backend borrows the loop and the cluster (both outlive it). */
struct backend *local_backend_new(uv_loop_t *loop, const struct config_cluster *cluster);

/* Children still alive or not yet reaped (for tests and leak checks). */
size_t local_backend_child_count(const struct backend *backend);

/* Change the SIGHUP -> SIGKILL grace (tests use ~100 ms). */
void local_backend_set_kill_grace(struct backend *backend, uint64_t ms);

#endif
