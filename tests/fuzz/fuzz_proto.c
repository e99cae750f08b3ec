/* fuzz_proto.c - libFuzzer target for the protocol codec. The first byte picks
 * the subprotocol and how the rest is cut into chunks; the decoder must never
 * crash, read out of bounds, or emit more stdin than it was fed. The same
 * input also goes through negotiation, strict base64 and the frame encoders,
 * with round-trip invariants checked. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/proto.h"

#define FUZZ_CHUNK_MAX 4096

struct fuzz_sink {
    size_t stdin_bytes;
};

static void fuzz_event(void *user, const struct proto_event *ev, const uint8_t *data)
{
    struct fuzz_sink *sink = user;
    if (ev->type == PROTO_EV_STDIN) {
        volatile uint8_t touch = 0;
        for (size_t i = 0; i < ev->out_len; i++)
            touch ^= data[i]; /* every delivered byte must be readable */
        (void)touch;
        sink->stdin_bytes += ev->out_len;
    }
}

static void fuzz_decoder(enum proto_kind kind, size_t chunk, const uint8_t *data, size_t size)
{
    struct proto_decoder dec;
    proto_decoder_init(&dec, kind);
    struct fuzz_sink sink = {0};
    static uint8_t out[FUZZ_CHUNK_MAX];
    /* Messages are separated by 0x0a 0x0a in the input, so one input covers many. */
    size_t start = 0;
    while (start <= size) {
        const uint8_t *sep = memmem(data + start, size - start, "\n\n", 2);
        size_t end = sep ? (size_t)(sep - data) : size;
        size_t pos = start;
        bool first = true;
        do {
            size_t n = end - pos > chunk ? chunk : end - pos;
            bool final = pos + n == end;
            if (proto_decoder_feed(&dec, data + pos, n, first, final, out, sizeof(out), fuzz_event,
                                   &sink) != PROTO_OK)
                break;
            pos += n;
            first = false;
        } while (pos < end);
        start = end + 2;
    }
    if (sink.stdin_bytes > size)
        abort();
}

static void fuzz_negotiate(const uint8_t *data, size_t size)
{
    char *copy = malloc(size + 1);
    memcpy(copy, data, size);
    copy[size] = '\0';
    const char *lines[4];
    size_t n = 0;
    char *p = copy;
    while (n < 4) {
        lines[n++] = p;
        char *nl = strchr(p, '\n');
        if (!nl)
            break;
        *nl = '\0';
        p = nl + 1;
    }
    static struct proto_negotiation neg;
    if (proto_negotiate(lines, n, &neg) == PROTO_OK && neg.kind >= PROTO_KIND_COUNT)
        abort();
    free(copy);
}

static void fuzz_base64(const uint8_t *data, size_t size)
{
    static uint8_t dec[FUZZ_CHUNK_MAX], enc[FUZZ_CHUNK_MAX * 2];
    if (size > FUZZ_CHUNK_MAX)
        size = FUZZ_CHUNK_MAX;
    int n = proto_base64_decode((const char *)data, size, dec, sizeof(dec));
    if (n >= 0) {
        /* decode(encode(decode(x))) == decode(x): stray bits aside, nothing is lost */
        size_t m = proto_base64_encode(dec, (size_t)n, (char *)enc);
        static uint8_t again[FUZZ_CHUNK_MAX];
        if (m != size || proto_base64_decode((const char *)enc, m, again, sizeof(again)) != n ||
            memcmp(again, dec, (size_t)n) != 0)
            abort();
    }
    /* in-place and out-of-place encodings agree */
    static uint8_t ref[FUZZ_CHUNK_MAX * 2], buf[FUZZ_CHUNK_MAX * 2];
    int a = proto_frame_encode(PROTO_KIND_BASE64, 1, data, size, ref, sizeof(ref));
    memcpy(buf + proto_frame_head(PROTO_KIND_BASE64, size), data, size);
    size_t b = proto_frame_encode_inplace(PROTO_KIND_BASE64, 1, buf, size);
    if (a < 0 || (size_t)a != b || memcmp(ref, buf, b) != 0)
        abort();
}

static void fuzz_status(const uint8_t *data, size_t size)
{
    char msg[256], out[PROTO_STATUS_MAX];
    size_t n = size < sizeof(msg) - 1 ? size : sizeof(msg) - 1;
    memcpy(msg, data, n);
    msg[n] = '\0';
    for (int k = PROTO_KIND_NONE; k < PROTO_KIND_COUNT; k++)
        if (proto_status_payload((enum proto_kind)k, PROTO_STATUS_INTERNAL, 0, msg, out,
                                 sizeof(out)) <= 0)
            abort(); /* a failure always has a payload, whatever the bytes */
    proto_http_status(404, "NotFound", msg, msg, "pods", out, sizeof(out));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    enum proto_kind kind = (enum proto_kind)(data[0] % PROTO_KIND_COUNT);
    size_t chunk = 1 + (data[0] >> 3) * 97 % FUZZ_CHUNK_MAX;
    fuzz_decoder(kind, chunk, data + 1, size - 1);
    fuzz_negotiate(data + 1, size - 1);
    fuzz_base64(data + 1, size - 1);
    fuzz_status(data + 1, size - 1);
    return 0;
}
