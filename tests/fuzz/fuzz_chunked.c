/* fuzz_chunked.c - differential libFuzzer target for the gateway's streaming
 * chunked body decoder (http1_chunked_feed). The first two input bytes seed
 * where the body is cut into pieces; the rest is the body as the upstream
 * sends it.
 *
 * Three decodings must agree on the body bytes, on whether the body ended,
 * where it ended, and on a framing error: the whole body in one call, the body
 * cut into pieces (each into an output buffer of exactly the piece's length,
 * the documented bound, on the heap), and a straightforward whole-buffer
 * reference decoder of the same grammar written below. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/http1.h"

#define FUZZ_IN_MAX (64 * 1024)

struct outcome {
    bool error;
    bool done;
    size_t consumed; /* bytes taken (all unless done) */
    uint8_t *body;
    size_t body_len;
};

static int hexv(uint8_t c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* The reference, on the whole input at once:
 *   chunk   = size [ (';' | SP | HTAB) *(any but CR) ] CRLF data CRLF
 *   size    = *HEXDIG, at most 2^64 - 1 (an empty size is 0, as podterm reads it)
 *   last    = a chunk of size 0, then trailer lines (*(any but CR) CRLF) up to
 *             an empty one.
 * Running out of input is not an error: done stays false. */
static void ref_decode(const uint8_t *in, size_t len, struct outcome *o)
{
    size_t i = 0;
    o->body_len = 0;
    o->error = o->done = false;
    for (;;) {
        uint64_t size = 0;
        while (i < len && hexv(in[i]) >= 0) {
            if (size >> 60)
                goto fail;
            size = size * 16 + (uint64_t)hexv(in[i++]);
        }
        if (i < len && (in[i] == ';' || in[i] == ' ' || in[i] == '\t'))
            while (i < len && in[i] != '\r')
                i++;
        if (i == len)
            goto more;
        if (in[i++] != '\r')
            goto fail;
        if (i == len)
            goto more;
        if (in[i++] != '\n')
            goto fail;
        if (size == 0)
            break;
        size_t n = len - i < size ? len - i : (size_t)size;
        memcpy(o->body + o->body_len, in + i, n);
        o->body_len += n;
        i += n;
        if (n < size || i == len)
            goto more;
        if (in[i++] != '\r')
            goto fail;
        if (i == len)
            goto more;
        if (in[i++] != '\n')
            goto fail;
    }
    for (;;) { /* trailer lines */
        size_t start = i;
        while (i < len && in[i] != '\r')
            i++;
        if (i + 1 >= len)
            goto more;
        if (in[i + 1] != '\n')
            goto fail;
        i += 2;
        if (i - 2 == start) {
            o->done = true;
            o->consumed = i;
            return;
        }
    }
more:
    o->consumed = len;
    return;
fail:
    o->error = true;
}

/* Feed in pieces whose lengths come from a small generator seeded by seed
 * (0: one piece). */
static void podterm_decode(const uint8_t *in, size_t len, unsigned seed, struct outcome *o)
{
    struct http1_chunked c = {0};
    o->body_len = 0;
    o->consumed = 0;
    o->error = o->done = false;
    size_t pos = 0;
    while (pos < len) {
        size_t piece = len - pos;
        if (seed) {
            seed = seed * 1103515245u + 12345u;
            size_t want = 1 + (seed >> 16) % 17;
            piece = piece < want ? piece : want;
        }
        uint8_t *out = malloc(piece);
        size_t out_len = 0;
        long rc = http1_chunked_feed(&c, in + pos, piece, out, &out_len);
        if (rc < 0) {
            free(out);
            o->error = true;
            return;
        }
        if ((size_t)rc > piece || out_len > piece || ((size_t)rc < piece && !c.done))
            __builtin_trap();
        memcpy(o->body + o->body_len, out, out_len);
        o->body_len += out_len;
        free(out);
        pos += (size_t)rc;
        if (c.done)
            break;
    }
    o->done = c.done;
    o->consumed = pos;
    /* once done, more bytes are left alone */
    size_t out_len = 7;
    uint8_t spare[1];
    if (c.done &&
        (http1_chunked_feed(&c, (const uint8_t *)"x", 1, spare, &out_len) != 0 || out_len != 0))
        __builtin_trap();
}

static bool same(const struct outcome *a, const struct outcome *b)
{
    if (a->error || b->error)
        return a->error == b->error;
    return a->done == b->done && a->consumed == b->consumed && a->body_len == b->body_len &&
           memcmp(a->body, b->body, a->body_len) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2 || size > FUZZ_IN_MAX)
        return 0;
    unsigned seed = (unsigned)data[0] << 8 | data[1];
    const uint8_t *in = data + 2;
    size_t len = size - 2;
    static uint8_t b1[FUZZ_IN_MAX], b2[FUZZ_IN_MAX], b3[FUZZ_IN_MAX];
    struct outcome whole = {.body = b1}, cut = {.body = b2}, ref = {.body = b3};
    podterm_decode(in, len, 0, &whole);
    podterm_decode(in, len, seed | 1, &cut);
    ref_decode(in, len, &ref);
    if (!same(&whole, &ref) || !same(&cut, &ref))
        __builtin_trap();
    return 0;
}
