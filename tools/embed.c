/* embed.c - turn a directory of web assets into podterm's C asset table.
 *
 * Build-time host tool (cmake/ui.cmake runs it on the bundled web/dist):
 *
 *     podterm_embed OUT.c DIR
 *
 * Every regular file under DIR (dot files skipped, names sorted so the output
 * is reproducible) becomes one `struct ui_asset` (src/api/ui_assets.h):
 * its URL path, a content type from the file extension, the body gzipped with
 * zlib at level 9 (no name, mtime 0), the raw length and a strong ETag made
 * of the first 128 bits of the SHA-256 of the raw body. A file whose type is
 * unknown is an error rather than a guess, so nothing is served as
 * application/octet-stream by accident. OUT.c is written to a temporary name
 * and renamed, so an interrupted build never leaves half a table. */
#include <dirent.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#define EMBED_FILES_MAX 256
#define EMBED_PATH_MAX 1024
#define EMBED_FILE_SIZE_MAX (32u * 1024 * 1024) /* one asset, uncompressed */
#define EMBED_DEPTH_MAX 8

struct embed_file {
    char rel[EMBED_PATH_MAX]; /* path under DIR, '/'-separated, no leading '/' */
};

struct embed_list {
    struct embed_file files[EMBED_FILES_MAX];
    size_t len;
};

static const struct {
    const char *ext;
    const char *type;
} embed_types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".json", "application/json"},
    {".webmanifest", "application/manifest+json"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".woff2", "font/woff2"},
    {".woff", "font/woff"},
    {".txt", "text/plain; charset=utf-8"},
};

static const char *embed_content_type(const char *name)
{
    const char *dot = strrchr(name, '.');
    if (!dot)
        return NULL;
    for (size_t i = 0; i < sizeof(embed_types) / sizeof(embed_types[0]); i++)
        if (strcmp(dot, embed_types[i].ext) == 0)
            return embed_types[i].type;
    return NULL;
}

static int embed_cmp(const void *a, const void *b)
{
    return strcmp(((const struct embed_file *)a)->rel, ((const struct embed_file *)b)->rel);
}

/* Collect regular files under root/rel (rel "" for root itself). */
static int embed_walk(const char *root, const char *rel, int depth, struct embed_list *list)
{
    char dir_path[EMBED_PATH_MAX * 2];
    snprintf(dir_path, sizeof(dir_path), "%s%s%s", root, *rel ? "/" : "", rel);
    if (depth > EMBED_DEPTH_MAX) {
        fprintf(stderr, "embed: %s: directories nested too deep\n", dir_path);
        return -1;
    }
    DIR *d = opendir(dir_path);
    if (!d) {
        fprintf(stderr, "embed: %s: %s\n", dir_path, strerror(errno));
        return -1;
    }
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char child[EMBED_PATH_MAX];
        int n = snprintf(child, sizeof(child), "%s%s%s", rel, *rel ? "/" : "", e->d_name);
        if (n < 0 || (size_t)n >= sizeof(child)) {
            fprintf(stderr, "embed: %s/%s: path too long\n", dir_path, e->d_name);
            rc = -1;
            break;
        }
        char full[EMBED_PATH_MAX * 2];
        snprintf(full, sizeof(full), "%s/%s", root, child);
        struct stat st;
        if (stat(full, &st) != 0) {
            fprintf(stderr, "embed: %s: %s\n", full, strerror(errno));
            rc = -1;
        } else if (S_ISDIR(st.st_mode)) {
            rc = embed_walk(root, child, depth + 1, list);
        } else if (S_ISREG(st.st_mode)) {
            if (list->len == EMBED_FILES_MAX) {
                fprintf(stderr, "embed: more than %d files\n", EMBED_FILES_MAX);
                rc = -1;
            } else {
                memcpy(list->files[list->len++].rel, child, (size_t)n + 1);
            }
        }
    }
    closedir(d);
    return rc;
}

static unsigned char *embed_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "embed: %s: %s\n", path, strerror(errno));
        return NULL;
    }
    unsigned char *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 65536;
            if (ncap > EMBED_FILE_SIZE_MAX + 1)
                ncap = EMBED_FILE_SIZE_MAX + 1;
            if (ncap == cap) {
                fprintf(stderr, "embed: %s: larger than %u bytes\n", path, EMBED_FILE_SIZE_MAX);
                free(buf);
                fclose(f);
                return NULL;
            }
            unsigned char *nbuf = realloc(buf, ncap);
            if (!nbuf) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nbuf;
            cap = ncap;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    int err = ferror(f);
    fclose(f);
    if (err) {
        fprintf(stderr, "embed: %s: read error\n", path);
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

/* gzip (RFC 1952) with zlib: level 9, empty header fields, so output depends on
 * the content only. */
static unsigned char *embed_gzip(const unsigned char *raw, size_t len, size_t *gz_len)
{
    z_stream z;
    memset(&z, 0, sizeof(z));
    if (deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 9, Z_DEFAULT_STRATEGY) != Z_OK)
        return NULL;
    uLong cap = deflateBound(&z, (uLong)len) + 32;
    unsigned char *out = malloc(cap);
    if (!out) {
        deflateEnd(&z);
        return NULL;
    }
    z.next_in = (Bytef *)raw;
    z.avail_in = (uInt)len;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    int rc = deflate(&z, Z_FINISH);
    *gz_len = z.total_out;
    deflateEnd(&z);
    if (rc != Z_STREAM_END) {
        free(out);
        return NULL;
    }
    return out;
}

/* Quoted strong ETag: 32 hex digits of SHA-256(raw). */
static int embed_etag(const unsigned char *raw, size_t len, char out[35])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    if (!EVP_Digest(raw, len, md, &md_len, EVP_sha256(), NULL) || md_len < 16)
        return -1;
    out[0] = '"';
    for (int i = 0; i < 16; i++)
        snprintf(out + 1 + 2 * i, 3, "%02x", md[i]);
    out[33] = '"';
    out[34] = '\0';
    return 0;
}

static void embed_bytes(FILE *out, size_t idx, const unsigned char *gz, size_t len)
{
    fprintf(out, "static const unsigned char ui_asset_%zu[%zu] = {", idx, len);
    for (size_t i = 0; i < len; i++)
        fprintf(out, "%s0x%02x,", i % 16 ? "" : "\n    ", gz[i]);
    fprintf(out, "\n};\n\n");
}

struct embed_entry {
    const char *type;
    size_t gz_len;
    size_t raw_len;
    char etag[35];
};

static int embed_write(FILE *out, const char *dir, const struct embed_list *list,
                       struct embed_entry *entries)
{
    fprintf(out, "/* Generated by tools/embed.c from the web UI bundle: do not edit. */\n"
                 "#include \"api/ui_assets.h\"\n\n");
    for (size_t i = 0; i < list->len; i++) {
        const char *rel = list->files[i].rel;
        entries[i].type = embed_content_type(rel);
        if (!entries[i].type) {
            fprintf(stderr, "embed: %s/%s: no content type for this extension\n", dir, rel);
            return -1;
        }
        char path[EMBED_PATH_MAX * 2];
        snprintf(path, sizeof(path), "%s/%s", dir, rel);
        size_t raw_len = 0, gz_len = 0;
        unsigned char *raw = embed_read(path, &raw_len);
        if (!raw)
            return -1;
        unsigned char *gz = embed_gzip(raw, raw_len, &gz_len);
        int rc = gz ? embed_etag(raw, raw_len, entries[i].etag) : -1;
        free(raw);
        if (rc != 0) {
            fprintf(stderr, "embed: %s: compression or hashing failed\n", path);
            free(gz);
            return -1;
        }
        entries[i].gz_len = gz_len;
        entries[i].raw_len = raw_len;
        embed_bytes(out, i, gz, gz_len);
        free(gz);
    }
    fprintf(out, "const struct ui_asset ui_assets[] = {\n");
    for (size_t i = 0; i < list->len; i++)
        fprintf(out, "    {\"/%s\", \"%s\", ui_asset_%zu, %zu, %zu, \"\\\"%.32s\\\"\"},\n",
                list->files[i].rel, entries[i].type, i, entries[i].gz_len, entries[i].raw_len,
                entries[i].etag + 1);
    fprintf(out, "    {0},\n};\n");
    return ferror(out) ? -1 : 0;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s OUT.c DIR\n", argv[0]);
        return 2;
    }
    const char *out_path = argv[1], *dir = argv[2];
    static struct embed_list list;
    if (embed_walk(dir, "", 0, &list) != 0)
        return 1;
    if (list.len == 0) {
        fprintf(stderr, "embed: %s: no files\n", dir);
        return 1;
    }
    qsort(list.files, list.len, sizeof(list.files[0]), embed_cmp);
    for (size_t i = 0; i < list.len; i++)
        if (strpbrk(list.files[i].rel, "\"\\?#%")) {
            fprintf(stderr, "embed: %s: unsupported character in file name\n", list.files[i].rel);
            return 1;
        }

    char tmp[EMBED_PATH_MAX];
    snprintf(tmp, sizeof(tmp), "%s.tmp", out_path);
    FILE *out = fopen(tmp, "w");
    if (!out) {
        fprintf(stderr, "embed: %s: %s\n", tmp, strerror(errno));
        return 1;
    }
    static struct embed_entry entries[EMBED_FILES_MAX];
    int rc = embed_write(out, dir, &list, entries);
    if (fclose(out) != 0)
        rc = -1;
    if (rc == 0 && rename(tmp, out_path) != 0) {
        fprintf(stderr, "embed: %s: %s\n", out_path, strerror(errno));
        rc = -1;
    }
    if (rc != 0) {
        remove(tmp);
        return 1;
    }
    return 0;
}
