/* spdy_headers.h - the SPDY/3 header block (section 2.6.10): name/value pairs
 * with 32-bit counts and lengths, lowercase names, several values of one name
 * joined by NUL, the whole block compressed with zlib and the spec's
 * dictionary (spdy_dict.c). The compression context is the connection's: one
 * inflate stream for everything received, one deflate stream for everything
 * sent, each header block ending on a sync flush. Lose one block and every
 * later one is garbage, so a block that fails to decode ends the connection.
 *
 * Bounds: a decoded block is at most SPDY_HEADER_BLOCK_MAX bytes and at most
 * SPDY_INFLATE_RATIO times its compressed size (SPDY_INFLATE_FLOOR at least),
 * so a zip bomb costs a fixed buffer and stops early; SPDY_HEADERS_MAX pairs.
 * zlib's own state: about 44 KiB for inflate (the peer chooses a 32 KiB
 * window) and, with podterm's 2 KiB window, about 20 KiB for deflate. */
#ifndef PODTERM_SPDY_HEADERS_H
#define PODTERM_SPDY_HEADERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <zlib.h>

#include "spdy/spdy_frame.h"

#define SPDY_HEADER_BLOCK_MAX (16 * 1024) /* one decoded (or encoded) block */
#define SPDY_HEADERS_MAX 64               /* name/value pairs in one block */
#define SPDY_INFLATE_RATIO 64             /* decoded bytes per compressed byte */
#define SPDY_INFLATE_FLOOR 4096           /* decoded bytes always allowed */
#define SPDY_DICT_LEN 1423
#define SPDY_DICT_ADLER 0xe3c6a7c2u /* adler32 of the dictionary: zlib's dictid */

extern const uint8_t spdy_dict[SPDY_DICT_LEN];

/* One pair; value may hold several values separated by single NULs. */
struct spdy_nv {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
};

/* A decoded block: pairs point into the decoder's buffer. */
struct spdy_headers {
    size_t n;
    struct spdy_nv nv[SPDY_HEADERS_MAX];
};

/* The pair named name (lowercase, NUL-terminated), or NULL. */
const struct spdy_nv *spdy_headers_get(const struct spdy_headers *h, const char *name);

/* Parse an uncompressed block. Refused (SPDY_ERR_HEADERS): a count over
 * SPDY_HEADERS_MAX, lengths past the end, bytes after the last pair, an empty
 * name, a name with an uppercase letter, NUL or byte outside 0x21-0x7e, a
 * name given twice, a value starting or ending with NUL or holding two NULs
 * in a row. */
int spdy_headers_parse(const uint8_t *block, size_t len, struct spdy_headers *out);
/* Serialize pairs (names as given: they must already be lowercase) into
 * out. Returns bytes written, SPDY_ERR_SPACE, or SPDY_ERR_HEADERS for a pair
 * the parser above would refuse. */
int spdy_headers_serialize(const struct spdy_nv *nv, size_t n, uint8_t *out, size_t cap);

/* The receiving side's context. */
struct spdy_inflater {
    z_stream z;
    bool ready;  /* inflateInit done */
    bool broken; /* a block failed: the context is lost */
    uint8_t buf[SPDY_HEADER_BLOCK_MAX];
};

int spdy_inflater_init(struct spdy_inflater *in);
void spdy_inflater_end(struct spdy_inflater *in);
/* Inflate one compressed block (every input byte must be used) into in->buf
 * and parse it into out. SPDY_ERR_COMPRESSION when zlib fails, the block
 * does not end on a flush boundary, or the output passes a bound;
 * SPDY_ERR_HEADERS as spdy_headers_parse. A compression error leaves the
 * inflater broken (later calls fail); a header error does not (the block was
 * inflated whole, the context is intact: only that stream is refused). */
int spdy_inflater_block(struct spdy_inflater *in, const uint8_t *block, size_t len,
                        struct spdy_headers *out);

/* The sending side's context. */
struct spdy_deflater {
    z_stream z;
    bool ready;
    bool broken;
    uint8_t plain[SPDY_HEADER_BLOCK_MAX];
};

int spdy_deflater_init(struct spdy_deflater *d);
void spdy_deflater_end(struct spdy_deflater *d);
/* Serialize and compress pairs into out (sync flush at the end). Returns
 * compressed length, SPDY_ERR_SPACE (the deflater is then broken: part of
 * the block may be in its history), SPDY_ERR_HEADERS. */
int spdy_deflater_block(struct spdy_deflater *d, const struct spdy_nv *nv, size_t n, uint8_t *out,
                        size_t cap);

#endif
