/* local.h - the local backend: "local pods" are processes on this host.
 * exec runs argv directly (never through a shell) in a PTY (tty) or with
 * pipes; attach joins the container's long-running main process. */
#ifndef PODTERM_BACKEND_LOCAL_H
#define PODTERM_BACKEND_LOCAL_H

#include <stdint.h>
#include <uv.h>

#include "backend/backend.h"
#include "config/config.h"

/* Tunables with their reasons; defaults are the named constants. */
#define LOCAL_KILL_GRACE_MS 2000 /* SIGHUP -> SIGKILL when a client goes away */
#define LOCAL_READ_CHUNK 65536   /* largest single read from a PTY or pipe */

/* The backend borrows the loop and the cluster (both outlive it). */
struct backend *local_backend_new(uv_loop_t *loop, const struct config_cluster *cluster);

/* Children still alive or not yet reaped (for tests and leak checks). */
size_t local_backend_child_count(const struct backend *backend);

/* Change the SIGHUP -> SIGKILL grace (tests use ~100 ms). */
void local_backend_set_kill_grace(struct backend *backend, uint64_t ms);

#endif
