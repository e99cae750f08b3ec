/* fuzz_memfile.h - hand fuzz input to a loader that takes a path (config,
 * kubeconfig, token CSV, key files): the bytes go into one memfd per process,
 * named by its /proc/self/fd path, so no run touches the disk and the loader's
 * own bounded read (util_file_read) is fuzzed too. Header-only, for the
 * fuzz_*.c targets. */
#ifndef PODTERM_FUZZ_MEMFILE_H
#define PODTERM_FUZZ_MEMFILE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

struct fuzz_memfile {
    int fd;
    char path[64];
};

/* Replace the file's content with data[0, size); returns its path. */
static inline const char *fuzz_memfile_set(struct fuzz_memfile *f, const uint8_t *data, size_t size)
{
    if (f->path[0] == '\0') {
        f->fd = memfd_create("podterm-fuzz", MFD_CLOEXEC);
        if (f->fd < 0)
            abort();
        snprintf(f->path, sizeof(f->path), "/proc/self/fd/%d", f->fd);
    }
    if (ftruncate(f->fd, 0) != 0 || (size && pwrite(f->fd, data, size, 0) != (ssize_t)size))
        abort();
    return f->path;
}

#endif
