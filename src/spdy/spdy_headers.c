/* spdy_headers.c - SPDY/3 header blocks and their per-connection zlib
 * contexts (spdy_headers.h). */
#include "spdy/spdy_headers.h"

#include <string.h>

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

const struct spdy_nv *spdy_headers_get(const struct spdy_headers *h, const char *name)
{
    size_t len = strlen(name);
    for (size_t i = 0; i < h->n; i++)
        if (h->nv[i].name_len == len && memcmp(h->nv[i].name, name, len) == 0)
            return &h->nv[i];
    return NULL;
}

/* Names as the spec (and spdystream, which refuses uppercase) want them:
 * visible ASCII, no uppercase. */
static bool name_ok(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x21 || c > 0x7e || (c >= 'A' && c <= 'Z'))
            return false;
    }
    return true;
}

/* Several values are joined by single NULs: none at either end, no two in a
 * row (section 2.6.10). An empty value is one empty value. */
static bool value_ok(const char *s, size_t n)
{
    if (n == 0)
        return true;
    if (s[0] == '\0' || s[n - 1] == '\0')
        return false;
    for (size_t i = 1; i < n; i++)
        if (s[i] == '\0' && s[i - 1] == '\0')
            return false;
    return true;
}

static bool name_seen(const struct spdy_nv *nv, size_t n, const char *name, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (nv[i].name_len == len && memcmp(nv[i].name, name, len) == 0)
            return true;
    return false;
}

/* A 32-bit length followed by that many bytes, inside [*pos, len). */
static bool take_string(const uint8_t *b, size_t len, size_t *pos, const char **s, size_t *n)
{
    if (len - *pos < 4)
        return false;
    uint32_t l = get32(b + *pos);
    *pos += 4;
    if (l > len - *pos)
        return false;
    *s = (const char *)(b + *pos);
    *n = l;
    *pos += l;
    return true;
}

int spdy_headers_parse(const uint8_t *block, size_t len, struct spdy_headers *out)
{
    out->n = 0;
    if (len < 4)
        return SPDY_ERR_HEADERS;
    uint32_t count = get32(block);
    if (count > SPDY_HEADERS_MAX)
        return SPDY_ERR_HEADERS;
    size_t pos = 4;
    for (uint32_t i = 0; i < count; i++) {
        struct spdy_nv nv;
        if (!take_string(block, len, &pos, &nv.name, &nv.name_len) ||
            !take_string(block, len, &pos, &nv.value, &nv.value_len))
            return SPDY_ERR_HEADERS;
        if (!name_ok(nv.name, nv.name_len) || !value_ok(nv.value, nv.value_len) ||
            name_seen(out->nv, out->n, nv.name, nv.name_len))
            return SPDY_ERR_HEADERS;
        out->nv[out->n++] = nv;
    }
    return pos == len ? SPDY_OK : SPDY_ERR_HEADERS;
}

int spdy_headers_serialize(const struct spdy_nv *nv, size_t n, uint8_t *out, size_t cap)
{
    if (n > SPDY_HEADERS_MAX)
        return SPDY_ERR_HEADERS;
    if (cap < 4)
        return SPDY_ERR_SPACE;
    put32(out, (uint32_t)n);
    size_t pos = 4;
    for (size_t i = 0; i < n; i++) {
        if (!name_ok(nv[i].name, nv[i].name_len) || !value_ok(nv[i].value, nv[i].value_len) ||
            name_seen(nv, i, nv[i].name, nv[i].name_len))
            return SPDY_ERR_HEADERS;
        if (nv[i].name_len > cap || nv[i].value_len > cap ||
            cap - pos < 8 + nv[i].name_len + nv[i].value_len)
            return SPDY_ERR_SPACE;
        put32(out + pos, (uint32_t)nv[i].name_len);
        memcpy(out + pos + 4, nv[i].name, nv[i].name_len);
        pos += 4 + nv[i].name_len;
        put32(out + pos, (uint32_t)nv[i].value_len);
        if (nv[i].value_len)
            memcpy(out + pos + 4, nv[i].value, nv[i].value_len);
        pos += 4 + nv[i].value_len;
    }
    return (int)pos;
}

/* ---- receiving ---- */

int spdy_inflater_init(struct spdy_inflater *in)
{
    memset(&in->z, 0, sizeof(in->z));
    in->broken = false;
    in->ready = inflateInit(&in->z) == Z_OK;
    return in->ready ? SPDY_OK : SPDY_ERR_NOMEM;
}

void spdy_inflater_end(struct spdy_inflater *in)
{
    if (in->ready)
        inflateEnd(&in->z);
    in->ready = false;
}

/* The most a block of len compressed bytes may decode to. */
static size_t inflate_limit(size_t len)
{
    size_t lim = SPDY_INFLATE_FLOOR;
    if (len <= SPDY_HEADER_BLOCK_MAX / SPDY_INFLATE_RATIO && len * SPDY_INFLATE_RATIO > lim)
        lim = len * SPDY_INFLATE_RATIO;
    else if (len > SPDY_HEADER_BLOCK_MAX / SPDY_INFLATE_RATIO)
        lim = SPDY_HEADER_BLOCK_MAX;
    return lim < SPDY_HEADER_BLOCK_MAX ? lim : SPDY_HEADER_BLOCK_MAX;
}

/* Inflate the whole block; zlib is never asked for more than the limit, so
 * a bomb stops after filling the buffer once. */
static int inflate_all(struct spdy_inflater *in, const uint8_t *block, size_t len, size_t *outlen)
{
    size_t lim = inflate_limit(len);
    in->z.next_in = (Bytef *)block;
    in->z.avail_in = (uInt)len;
    in->z.next_out = in->buf;
    in->z.avail_out = (uInt)lim;
    for (;;) {
        int rc = inflate(&in->z, Z_SYNC_FLUSH);
        if (rc == Z_NEED_DICT) {
            if (in->z.adler != SPDY_DICT_ADLER ||
                inflateSetDictionary(&in->z, spdy_dict, SPDY_DICT_LEN) != Z_OK)
                return SPDY_ERR_COMPRESSION;
            continue;
        }
        if (rc != Z_OK && rc != Z_BUF_ERROR)
            return SPDY_ERR_COMPRESSION; /* data error, or a stream that ended */
        if (in->z.avail_out == 0)
            return SPDY_ERR_COMPRESSION; /* at the bound: maybe more to come */
        if (in->z.avail_in == 0)
            break;
        if (rc == Z_BUF_ERROR)
            return SPDY_ERR_COMPRESSION;
    }
    *outlen = lim - in->z.avail_out;
    return SPDY_OK;
}

int spdy_inflater_block(struct spdy_inflater *in, const uint8_t *block, size_t len,
                        struct spdy_headers *out)
{
    out->n = 0;
    if (!in->ready || in->broken || len == 0 || len > SPDY_LENGTH_MAX) {
        in->broken = true;
        return SPDY_ERR_COMPRESSION;
    }
    size_t plain = 0;
    int rc = inflate_all(in, block, len, &plain);
    if (rc != SPDY_OK) {
        in->broken = true;
        return rc;
    }
    /* inflated whole: a block that breaks the pair rules costs its stream,
     * not the context */
    rc = spdy_headers_parse(in->buf, plain, out);
    if (rc != SPDY_OK)
        out->n = 0;
    return rc;
}

/* ---- sending ---- */

/* 2 KiB window: the dictionary (1423 bytes) and kubectl-sized blocks fit, and
 * deflate's state stays near 20 KiB per connection instead of 256 KiB. */
#define SPDY_DEFLATE_WBITS 11
#define SPDY_DEFLATE_MEMLEVEL 4

int spdy_deflater_init(struct spdy_deflater *d)
{
    memset(&d->z, 0, sizeof(d->z));
    d->broken = false;
    d->ready = deflateInit2(&d->z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, SPDY_DEFLATE_WBITS,
                            SPDY_DEFLATE_MEMLEVEL, Z_DEFAULT_STRATEGY) == Z_OK;
    if (d->ready && deflateSetDictionary(&d->z, spdy_dict, SPDY_DICT_LEN) != Z_OK) {
        deflateEnd(&d->z);
        d->ready = false;
    }
    return d->ready ? SPDY_OK : SPDY_ERR_NOMEM;
}

void spdy_deflater_end(struct spdy_deflater *d)
{
    if (d->ready)
        deflateEnd(&d->z);
    d->ready = false;
}

int spdy_deflater_block(struct spdy_deflater *d, const struct spdy_nv *nv, size_t n, uint8_t *out,
                        size_t cap)
{
    if (!d->ready || d->broken)
        return SPDY_ERR_SPACE;
    int plain = spdy_headers_serialize(nv, n, d->plain, sizeof(d->plain));
    if (plain < 0)
        return plain; /* nothing reached zlib: the context is intact */
    d->z.next_in = d->plain;
    d->z.avail_in = (uInt)plain;
    d->z.next_out = out;
    d->z.avail_out = (uInt)cap;
    int rc = deflate(&d->z, Z_SYNC_FLUSH);
    /* all input taken and room left over: the flush is complete */
    if (rc != Z_OK || d->z.avail_in != 0 || d->z.avail_out == 0) {
        d->broken = true;
        return SPDY_ERR_SPACE;
    }
    return (int)(cap - d->z.avail_out);
}
