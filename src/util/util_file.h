/* util_file.h - read a whole small file (a config, key, kubeconfig, PEM or
 * token file) into memory, refusing one larger than the caller's bound.
 *
 * Every file podterm reads is read whole, once, with a named upper bound;
 * this is the one place that does it, so the bound, the NUL terminator and the
 * wiping of what was read on failure are the same for all of them. */
#ifndef PODTERM_UTIL_FILE_H
#define PODTERM_UTIL_FILE_H

#include <stddef.h>

/* Read path into a new buffer for free(): the content, *len bytes (which may
 * include NUL bytes), then a NUL. A caller holding a secret wipes *len bytes
 * first; a failed read has already wiped what it read.
 *
 * Returns 0, or a negated errno code with *out NULL: the open's own code
 * (-ENOENT, -EACCES, ...), -EFBIG for more than max_bytes bytes, -EIO for a
 * failed read (a directory, say), -ENOMEM. Unless err is NULL it also gets a
 * message naming the file: "PATH: <strerror>" for a failed open,
 * "PATH: the file is too large" or "PATH: cannot read the file" otherwise. */
int util_file_read(const char *path, size_t max_bytes, char **out, size_t *len, char *err,
                   size_t err_cap);

#endif
