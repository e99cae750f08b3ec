/* fuzz_http1.c - libFuzzer target for the gateway's upstream HTTP/1.1
 * response head parser (http1_response_parse, and through it
 * http1_next_line). The input is what the API server (or anything answering
 * on its address) sends first.
 *
 * Invariants: a complete head's length lies within the input and ends in the
 * blank line, every prefix of it is "need more" (0), the kept values are
 * NUL-terminated within their buffers and trimmed in front, the status is three digits,
 * and a head longer than HTTP1_HEAD_MAX is refused rather than waited for. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/http1.h"

#define FUZZ_IN_MAX (HTTP1_HEAD_MAX + 1024)

static void check_value(const char *v)
{
    size_t n = strnlen(v, HTTP1_VALUE_MAX);
    if (n == HTTP1_VALUE_MAX)
        __builtin_trap(); /* no NUL inside the buffer */
    if (n && (v[0] == ' ' || v[0] == '\t'))
        __builtin_trap(); /* leading space is trimmed (the end may be a cut or a NUL) */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_IN_MAX)
        return 0;
    char *buf = malloc(size ? size : 1); /* exact, so ASan sees a read past the end */
    memcpy(buf, data, size);
    struct http1_response r;
    int rc = http1_response_parse(buf, size, &r);
    if (rc < -1 || (size_t)(rc > 0 ? rc : 0) > size)
        __builtin_trap();
    if (rc == 0 && size >= HTTP1_HEAD_MAX)
        __builtin_trap(); /* the bound is enforced, not waited past */
    if (rc > 0) {
        if (rc < 16 || memcmp(buf + rc - 4, "\r\n\r\n", 4) != 0 || r.status < 0 || r.status > 999 ||
            r.content_length < -1)
            __builtin_trap();
        check_value(r.protocol);
        check_value(r.accept);
        check_value(r.content_type);
        if (!r.has_protocol && r.protocol[0])
            __builtin_trap();
        /* the head is found the same way with fewer bytes after it, and not before its end */
        struct http1_response again;
        if (http1_response_parse(buf, (size_t)rc, &again) != rc ||
            http1_response_parse(buf, (size_t)rc - 1, &again) != 0 || again.status != r.status ||
            again.content_length != r.content_length || again.chunked != r.chunked ||
            strcmp(again.protocol, r.protocol) != 0)
            __builtin_trap();
    }
    free(buf);
    return 0;
}
