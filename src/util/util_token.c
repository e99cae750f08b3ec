/* util_token.c - the bearer token character rule (see util_token.h). */
#include "util/util_token.h"

bool util_token_is_valid(const char *s, size_t len)
{
    if (!s || len == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x21 || c > 0x7e)
            return false;
    }
    return true;
}
