/* util_base64.c - unpadded base64url decoding (see util_base64.h). */
#include "util/util_base64.h"

#include <limits.h>

int util_base64url_decode(const char *in, size_t len, uint8_t *out, size_t out_cap, bool strict)
{
    if (len % 4 == 1 || out_cap > INT_MAX)
        return -1;
    size_t o = 0;
    uint32_t acc = 0; /* only the low bits (at most 14) matter; older ones shift out */
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        int v = util_base64_value((uint8_t)in[i], '-', '_');
        if (v < 0)
            return -1;
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o == out_cap)
                return -1;
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    if (strict && (acc & ((1u << bits) - 1)) != 0)
        return -1;
    return (int)o;
}
