/* api_recordings.c - the files of --recording-dir, for the sessions API.
 *
 * Only "<uuid>.cast" regular files count: other names are ignored, and so is
 * a symlink (every open has O_NOFOLLOW, every stat AT_SYMLINK_NOFOLLOW), so a
 * link planted in the directory cannot make podterm serve another file.
 * Opens are O_NONBLOCK (a FIFO by that name must not hang the loop) and then
 * checked to be regular files. Every read is bounded (api_sessions.h): a list
 * stats at most API_RECORDINGS_SCAN_MAX entries and reads the head and tail
 * of the API_RECORDINGS_LIST_MAX newest. These are small reads of a local
 * directory, done on the loop like the policy files' checks. */
#include "api/api_sessions.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define API_REC_PATH_MAX 4096

struct api_rec_entry {
    int64_t mtime_ns;
    char id[AUDIT_ID_LEN + 1];
};

static int api_rec_newer_first(const void *a, const void *b)
{
    const struct api_rec_entry *x = a, *y = b;
    if (x->mtime_ns != y->mtime_ns)
        return x->mtime_ns < y->mtime_ns ? 1 : -1;
    return strcmp(x->id, y->id);
}

long api_recordings_newest(const char *dir, char (**ids)[AUDIT_ID_LEN + 1])
{
    *ids = NULL;
    DIR *d = opendir(dir); /* glibc opens it O_CLOEXEC */
    if (!d)
        return -1;
    size_t cap = 64, n = 0, seen = 0;
    struct api_rec_entry *e = malloc(cap * sizeof(*e));
    struct dirent *de;
    while (e && seen < API_RECORDINGS_SCAN_MAX && (de = readdir(d))) {
        seen++;
        char id[AUDIT_ID_LEN + 1];
        struct stat st;
        if (!api_cast_name_parse(de->d_name, id) ||
            fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
            continue;
        if (n == cap) {
            struct api_rec_entry *more = realloc(e, 2 * cap * sizeof(*e));
            if (!more) {
                free(e);
                e = NULL;
                break;
            }
            e = more;
            cap *= 2;
        }
        e[n].mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
        memcpy(e[n].id, id, sizeof(id));
        n++;
    }
    closedir(d);
    if (!e)
        return -1;
    qsort(e, n, sizeof(*e), api_rec_newer_first);
    if (n > API_RECORDINGS_LIST_MAX)
        n = API_RECORDINGS_LIST_MAX;
    *ids = malloc((n ? n : 1) * sizeof(**ids));
    if (!*ids) {
        free(e);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        memcpy((*ids)[i], e[i].id, AUDIT_ID_LEN + 1);
    free(e);
    return (long)n;
}

/* api_sessions.h: a regular file, never through a link, never blocking. */
int api_recording_open(const char *dir, const char *id, struct stat *st)
{
    char path[API_REC_PATH_MAX];
    if (!api_session_id_valid(id, strlen(id)) ||
        snprintf(path, sizeof(path), "%s/%s.cast", dir, id) >= (int)sizeof(path))
        return -1;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return -1;
    if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
        close(fd);
        return -1;
    }
    return fd;
}

/* pread until len bytes or the end; the count read, -1 on error. */
static long api_rec_pread(int fd, char *buf, size_t len, off_t off)
{
    size_t got = 0;
    while (got < len) {
        ssize_t r = pread(fd, buf + got, len - got, off + (off_t)got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        got += (size_t)r;
    }
    return (long)got;
}

int api_recording_read(const char *dir, const char *id, struct api_session *s)
{
    api_session_clear(s);
    struct stat st;
    int fd = api_recording_open(dir, id, &st);
    if (fd < 0)
        return -1;
    size_t size = (size_t)st.st_size;
    size_t head_len = size < API_CAST_HEADER_MAX ? size : API_CAST_HEADER_MAX;
    char *buf = malloc(API_CAST_HEADER_MAX);
    int rc = -3;
    long got = buf ? api_rec_pread(fd, buf, head_len, 0) : -1;
    if (got >= 0) {
        enum api_cast_rc prc = api_cast_header_parse(buf, (size_t)got, id, s);
        rc = prc == API_CAST_OK ? 0 : prc == API_CAST_NOMEM ? -3 : -2;
    }
    if (rc == 0) {
        size_t tail_len = size < API_CAST_TAIL_MAX ? size : API_CAST_TAIL_MAX;
        got = api_rec_pread(fd, buf, tail_len, (off_t)(size - tail_len));
        if (got >= 0)
            api_cast_tail_parse(buf, (size_t)got, tail_len == size, s);
        s->recorded = true;
        s->ended = st.st_mtim.tv_sec;
    }
    free(buf);
    close(fd);
    return rc;
}

int api_recording_load(const char *dir, const char *id, char **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    struct stat st;
    int fd = api_recording_open(dir, id, &st);
    if (fd < 0)
        return -1;
    if ((uint64_t)st.st_size > API_RECORDING_SERVE_MAX) {
        close(fd);
        return -2;
    }
    /* A live session's file grows while it is read: what was there at the
     * fstat is what is served (a prefix of whole lines or not, the reader
     * of a live recording accepts a cut last line). */
    size_t size = (size_t)st.st_size;
    char *buf = malloc(size ? size : 1);
    long got = buf ? api_rec_pread(fd, buf, size, 0) : -1;
    close(fd);
    if (got < 0) {
        free(buf);
        return -3;
    }
    *out = buf;
    *len = (size_t)got;
    return 0;
}

bool api_recording_exists(const char *dir, const char *id)
{
    struct stat st;
    int fd = dir ? api_recording_open(dir, id, &st) : -1;
    if (fd < 0)
        return false;
    close(fd);
    return true;
}
