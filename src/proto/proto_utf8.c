/* proto_utf8.c - the codec's UTF-8 checks with Go's rules: the token
 * subprotocol must be valid UTF-8, and Status messages are written the way
 * Go's JSON encoder writes them, which needs to walk characters. The rules
 * live in util_utf8.c, shared with the YAML loaders. */
#include "proto/proto_internal.h"
#include "util/util_utf8.h"

size_t proto_utf8_seq(const uint8_t *s, size_t n, uint32_t *cp)
{
    return util_utf8_seq(s, n, cp);
}

bool proto_utf8_valid(const unsigned char *s, size_t n)
{
    return util_utf8_valid(s, n, NULL);
}
