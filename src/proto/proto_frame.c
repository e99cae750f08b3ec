/* proto_frame.c - server -> client messages: channel prefix + payload, raw
 * for the binary subprotocols, base64 for the base64 ones (PROTOCOL.md 3.2-3.3). */
#include <string.h>

#include "proto/proto_internal.h"

static size_t b64_len(size_t n)
{
    return (n + 2) / 3 * 4;
}

size_t proto_frame_size(enum proto_kind kind, size_t payload_len)
{
    return 1 + (proto_kind_is_base64(kind) ? b64_len(payload_len) : payload_len);
}

int proto_frame_encode(enum proto_kind kind, uint8_t channel, const uint8_t *payload, size_t len,
                       uint8_t *out, size_t out_cap)
{
    size_t need = proto_frame_size(kind, len);
    if (need > out_cap || need > (size_t)INT32_MAX)
        return PROTO_ERR_SPACE;
    if (proto_kind_is_base64(kind)) {
        out[0] = (uint8_t)('0' + channel);
        proto_base64_encode(payload, len, (char *)out + 1);
    } else {
        out[0] = channel;
        if (len)
            memmove(out + 1, payload, len);
    }
    return (int)need;
}

/* The payload sits right after the one-byte prefix in both framings; base64
 * then grows it in place towards the end of the buffer. */
size_t proto_frame_head(enum proto_kind kind, size_t payload_len)
{
    (void)kind;
    (void)payload_len;
    return 1;
}

size_t proto_frame_encode_inplace(enum proto_kind kind, uint8_t channel, uint8_t *buf,
                                  size_t payload_len)
{
    if (proto_kind_is_base64(kind)) {
        buf[0] = (uint8_t)('0' + channel);
        return 1 + proto_base64_encode_inplace(buf + 1, payload_len);
    }
    buf[0] = channel;
    return 1 + payload_len;
}
