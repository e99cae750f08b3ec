/* util_utf8.h - well-formed UTF-8 with Go's rules (unicode/utf8): no
 * overlongs, surrogates or code points past U+10FFFF. Shared by the
 * subprotocol codec (tokens, Status escaping) and the YAML loaders, which
 * refuse a file that is not UTF-8 before libfyaml sees it. */
#ifndef PODTERM_UTIL_UTF8_H
#define PODTERM_UTIL_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Length (1-4) of the well-formed character at s, its code point in *cp
 * (may be NULL); 0 if s does not start one. */
size_t util_utf8_seq(const uint8_t *s, size_t n, uint32_t *cp);
/* Whether s[0, n) is well-formed UTF-8; if not and bad is not NULL, the
 * offset of the first byte that does not start a character. */
bool util_utf8_valid(const uint8_t *s, size_t n, size_t *bad);

#endif
