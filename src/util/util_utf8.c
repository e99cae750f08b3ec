/* util_utf8.c - UTF-8 checks (see util_utf8.h). */
#include "util/util_utf8.h"

/* Lead byte -> sequence length (0: never valid as a lead byte). */
static size_t utf8_lead_len(uint8_t c)
{
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        return 2;
    if (c >= 0xe0 && c <= 0xef)
        return 3;
    if (c >= 0xf0 && c <= 0xf4)
        return 4;
    return 0; /* continuation byte, overlong 2-byte lead (c0, c1), or past U+10FFFF */
}

size_t util_utf8_seq(const uint8_t *s, size_t n, uint32_t *cp)
{
    size_t len = n ? utf8_lead_len(s[0]) : 0;
    if (len == 0 || len > n)
        return 0;
    static const uint8_t LEAD_MASK[5] = {0, 0x7f, 0x1f, 0x0f, 0x07};
    uint32_t v = s[0] & LEAD_MASK[len];
    for (size_t k = 1; k < len; k++) {
        if ((s[k] & 0xc0) != 0x80)
            return 0;
        v = v << 6 | (s[k] & 0x3f);
    }
    static const uint32_t MIN_CP[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (v < MIN_CP[len] || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0; /* overlong, out of range, or a surrogate */
    if (cp)
        *cp = v;
    return len;
}

bool util_utf8_valid(const uint8_t *s, size_t n, size_t *bad)
{
    size_t i = 0;
    while (i < n) {
        if (s[i] < 0x80) { /* ASCII runs are the common case */
            i++;
            continue;
        }
        size_t k = util_utf8_seq(s + i, n - i, NULL);
        if (k == 0) {
            if (bad)
                *bad = i;
            return false;
        }
        i += k;
    }
    return true;
}
