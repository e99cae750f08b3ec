/* fuzz_wsf.c - libFuzzer target for the gateway's upstream WebSocket client
 * codec (http1.h: wsf_decoder_feed, wsf_encode). The first input byte seeds
 * how the server bytes (the rest) are cut into pieces and how many bytes the
 * consumer takes from each data event (it may take fewer: back-pressure).
 *
 * What the decoder reports must not depend on either: the messages (opcode
 * and bytes), control events (type, code, payload), where it stopped and
 * whether it failed are the same fed whole with a consumer that takes
 * everything. Events are well-formed (a message starts once, data events
 * carry text/binary opcodes, control payloads fit 125 bytes), and a frame the
 * encoder makes decodes back to its payload once unmasked, at every length
 * class (7-bit, 16-bit, 64-bit). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/http1.h"

#define FUZZ_IN_MAX (96 * 1024)
#define FUZZ_EVENTS_MAX 4096

struct rec {
    enum wsf_event_type type;
    enum wsf_opcode opcode;
    int code;
    bool final;
    size_t off, len; /* into the log's bytes */
};

struct log {
    struct rec ev[FUZZ_EVENTS_MAX];
    size_t n;
    size_t used;
    bool overflow;
    bool in_message;
    unsigned seed; /* 0: take everything */
    bool took_nothing;
    uint8_t bytes[FUZZ_IN_MAX];
};

static void log_reset(struct log *l, unsigned seed)
{
    l->n = l->used = 0;
    l->overflow = l->in_message = l->took_nothing = false;
    l->seed = seed;
}

static void log_bytes(struct log *l, const uint8_t *p, size_t n)
{
    memcpy(l->bytes + l->used, p, n); /* p must be readable: ASan checks the event's data */
    l->used += n;
}

static size_t on_event(void *user, const struct wsf_event *ev)
{
    struct log *l = user;
    if (ev->type == WSF_EV_DATA) {
        if ((ev->opcode != WSF_TEXT && ev->opcode != WSF_BINARY) || ev->first == l->in_message)
            __builtin_trap(); /* first exactly when no message is open */
        size_t take = ev->len;
        if (l->seed && ev->len) {
            l->seed = l->seed * 1103515245u + 12345u;
            /* never nothing twice in a row, so feeding again makes progress */
            take =
                l->took_nothing ? 1 + (l->seed >> 16) % ev->len : (l->seed >> 16) % (ev->len + 1);
            l->took_nothing = take == 0;
        }
        if (take == 0 && ev->len)
            return 0; /* nothing happened: the decoder offers the bytes again */
        if (!ev->first && l->n && l->ev[l->n - 1].type == WSF_EV_DATA) {
            l->ev[l->n - 1].len += take;
        } else if (l->n == FUZZ_EVENTS_MAX) {
            l->overflow = true;
        } else {
            l->ev[l->n++] = (struct rec){.type = WSF_EV_DATA, .opcode = ev->opcode, .off = l->used};
            l->ev[l->n - 1].len = take;
        }
        log_bytes(l, ev->data, take);
        bool final = ev->final && take == ev->len;
        if (!l->overflow)
            l->ev[l->n - 1].final = final;
        l->in_message = !final;
        return take;
    }
    if (ev->len > WSF_CONTROL_MAX ||
        (ev->type == WSF_EV_CLOSE && (ev->code < 0 || ev->code > 65535)))
        __builtin_trap();
    if (l->n == FUZZ_EVENTS_MAX) {
        l->overflow = true;
        return ev->len;
    }
    l->ev[l->n++] =
        (struct rec){.type = ev->type, .code = ev->code, .off = l->used, .len = ev->len};
    log_bytes(l, ev->data, ev->len);
    return ev->len;
}

/* Returns bytes consumed in all, or -1. */
static long feed_all(struct log *l, const uint8_t *in, size_t len, unsigned cut_seed)
{
    struct wsf_decoder d;
    wsf_decoder_init(&d);
    size_t pos = 0;
    unsigned s = cut_seed;
    while (pos < len && !d.closed) {
        size_t piece = len - pos;
        if (s) {
            s = s * 1103515245u + 12345u;
            size_t want = 1 + (s >> 16) % 23;
            piece = piece < want ? piece : want;
        }
        uint8_t *buf = malloc(piece); /* exact: a read past the piece is reported */
        memcpy(buf, in + pos, piece);
        long rc = wsf_decoder_feed(&d, buf, piece, on_event, l);
        free(buf);
        if (rc < 0)
            return -1;
        if ((size_t)rc > piece)
            __builtin_trap();
        if ((size_t)rc < piece && !d.closed && !l->took_nothing && !l->seed)
            __builtin_trap(); /* a consumer that takes all is never left with bytes */
        pos += (size_t)rc;
    }
    return (long)pos;
}

static bool log_same(const struct log *a, const struct log *b)
{
    if (a->n != b->n || a->used != b->used || memcmp(a->bytes, b->bytes, a->used) != 0)
        return false;
    for (size_t i = 0; i < a->n; i++)
        if (a->ev[i].type != b->ev[i].type || a->ev[i].opcode != b->ev[i].opcode ||
            a->ev[i].code != b->ev[i].code || a->ev[i].len != b->ev[i].len ||
            a->ev[i].final != b->ev[i].final)
            return false;
    return true;
}

/* Encode payload as the client would, turn it into the server's unmasked
 * form, and decode it. */
static void round_trip(const uint8_t *payload, size_t len, uint32_t mask, bool binary)
{
    static uint8_t frame[WSF_HEAD_MAX + FUZZ_IN_MAX];
    size_t n = wsf_encode(binary ? WSF_BINARY : WSF_TEXT, payload, len, mask, frame);
    size_t h = n - len;
    if (h != 2 + 4 + (len < 126 ? 0 : len <= 0xFFFF ? 2 : 8) || !(frame[1] & 0x80))
        __builtin_trap();
    wsf_mask(frame + h, len, mask, 0); /* masking twice is the identity */
    if (memcmp(frame + h, payload, len) != 0)
        __builtin_trap();
    frame[1] &= 0x7F;
    memmove(frame + h - 4, frame + h, len);
    static struct log l;
    log_reset(&l, 0);
    if (feed_all(&l, frame, n - 4, 0) != (long)(n - 4) || l.n != 1 || l.ev[0].len != len ||
        !l.ev[0].final || memcmp(l.bytes, payload, len) != 0)
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > FUZZ_IN_MAX)
        return 0;
    unsigned seed = data[0];
    static struct log whole, cut;
    log_reset(&whole, 0);
    log_reset(&cut, seed * 2654435761u | 1);
    long a = feed_all(&whole, data + 1, size - 1, 0);
    long b = feed_all(&cut, data + 1, size - 1, seed + 1);
    if (!whole.overflow && !cut.overflow && (a < 0 || b < 0 ? (a < 0) != (b < 0) : a != b))
        __builtin_trap();
    if (a >= 0 && b >= 0 && !whole.overflow && !cut.overflow && !log_same(&whole, &cut))
        __builtin_trap();
    /* every length class, whatever the input's size */
    size_t len = size - 1;
    static uint8_t pad[70000];
    size_t want = seed % 16 == 1 ? 125 + seed % 3 : seed % 16 == 2 ? 65535 + seed % 3 : len;
    if (want > len) {
        memcpy(pad, data + 1, len);
        memset(pad + len, (int)seed, want - len);
        round_trip(pad, want, 0x01020304u * seed, seed & 1);
    } else {
        round_trip(data + 1, want, 0x01020304u * seed, seed & 1);
    }
    return 0;
}
