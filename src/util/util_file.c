/* util_file.c - bounded whole-file reads (see util_file.h). */
#include "util/util_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define UTIL_FILE_CHUNK (64 * 1024) /* the first buffer of a read, doubled as needed */

/* read() until cap bytes or the end of the file; -1 on an error. *n counts
 * what was read either way, so that it can be wiped. */
static int file_read_all(int fd, char *buf, size_t cap, size_t *n)
{
    *n = 0;
    while (*n < cap) {
        ssize_t r = read(fd, buf + *n, cap - *n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        *n += (size_t)r;
    }
    return 0;
}

static int file_fail(int rc, const char *path, char *err, size_t err_cap)
{
    if (err && err_cap) {
        const char *why = rc == -EFBIG                  ? "the file is too large"
                          : rc == -EIO || rc == -ENOMEM ? "cannot read the file"
                                                        : strerror(-rc);
        snprintf(err, err_cap, "%s: %s", path, why);
    }
    return rc;
}

int util_file_read(const char *path, size_t max_bytes, char **out, size_t *len, char *err,
                   size_t err_cap)
{
    *out = NULL;
    *len = 0;
    if (max_bytes >= SIZE_MAX / 2) /* max_bytes + 1 must not wrap */
        return file_fail(-EINVAL, path, err, err_cap);
    /* Plain read() rather than stdio: no copy of a key or token is left
     * behind in a FILE buffer that fclose frees without wiping. */
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return file_fail(-errno, path, err, err_cap);
    /* One byte more than allowed, to tell "exactly max_bytes" from "more";
     * grown from UTIL_FILE_CHUNK, so a small file costs a small buffer. */
    size_t cap = max_bytes + 1 < UTIL_FILE_CHUNK ? max_bytes + 1 : UTIL_FILE_CHUNK;
    char *buf = malloc(cap);
    size_t n = 0;
    int rc = 0;
    for (;;) {
        size_t got = 0;
        if (!buf)
            rc = -ENOMEM;
        else if (file_read_all(fd, buf + n, cap - n, &got) < 0)
            rc = -EIO;
        n += got;
        if (rc < 0 || n < cap || cap == max_bytes + 1)
            break; /* an error, the end of the file, or the bound */
        size_t bigger = cap > (max_bytes + 1) / 2 ? max_bytes + 1 : cap * 2;
        char *grown = malloc(bigger);
        if (grown)
            memcpy(grown, buf, n);
        explicit_bzero(buf, n); /* may be a secret: wiped before malloc reuses it */
        free(buf);
        buf = grown;
        cap = bigger;
        if (!buf)
            n = 0;
    }
    if (rc == 0 && n > max_bytes)
        rc = -EFBIG;
    close(fd);
    if (rc < 0) {
        if (buf) /* what was read may be a secret: wipe it before malloc reuses it */
            explicit_bzero(buf, n);
        free(buf);
        return file_fail(rc, path, err, err_cap);
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
}
