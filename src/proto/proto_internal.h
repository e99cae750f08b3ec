/* proto_internal.h - helpers shared by the codec's files; not part of the API. */
#ifndef PODTERM_PROTO_INTERNAL_H
#define PODTERM_PROTO_INTERNAL_H

#include "proto/proto.h"

size_t proto_base64_encode_inplace(uint8_t *buf, size_t len);
/* Decode one 4-char group into 1..3 bytes, or -1; padding only when last. */
int proto_base64_quad(const uint8_t q[4], uint8_t out[3], bool last);

/* Well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF). */
bool proto_utf8_valid(const unsigned char *s, size_t n);
/* Length (1-4) of the well-formed character at s, its code point in *cp
 * (may be NULL); 0 if s does not start one. */
size_t proto_utf8_seq(const uint8_t *s, size_t n, uint32_t *cp);

#endif
