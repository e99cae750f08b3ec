/* fuzz_cast.c - libFuzzer target for the sessions API's reading of
 * recording files (api_cast.c): any bytes as a file's head (the header line)
 * and as its tail (the exit marker), the tail also cut at every bound.
 *
 * Invariants: a header that parses names the id it was asked for, has every
 * name NUL-terminated within its bound and a command that is an array of at
 * most API_CAST_ARGV_MAX strings; an exit marker, when found, has a
 * non-empty printable reason within API_CAST_REASON_MAX and was the input's
 * last line; nothing is read past the input (the buffers are exact copies,
 * so ASan sees any read beyond them) and nothing leaks. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_session.h"

#define FUZZ_ID "0a1b2c3d-1111-4222-8333-444455556666"

static void check_names(const struct api_session *s)
{
    if (strcmp(s->id, FUZZ_ID) != 0 || strnlen(s->user, sizeof(s->user)) == sizeof(s->user) ||
        strnlen(s->ns, sizeof(s->ns)) == sizeof(s->ns) ||
        strnlen(s->pod, sizeof(s->pod)) == sizeof(s->pod) ||
        strnlen(s->container, sizeof(s->container)) == sizeof(s->container) ||
        !json_is_array(s->command) || json_array_size(s->command) > API_CAST_ARGV_MAX)
        __builtin_trap();
    for (size_t i = 0; i < json_array_size(s->command); i++)
        if (!json_is_string(json_array_get(s->command, i)))
            __builtin_trap();
}

static void check_exit(const struct api_session *s, const uint8_t *data, size_t size)
{
    if (!s->has_exit) {
        if (s->exit_code != -1 || s->end_reason[0])
            __builtin_trap();
        return;
    }
    size_t n = strnlen(s->end_reason, sizeof(s->end_reason));
    if (n == 0 || n > API_CAST_REASON_MAX || size == 0 || data[size - 1] != '\n')
        __builtin_trap();
    for (size_t i = 0; i < n; i++)
        if (s->end_reason[i] < 0x21 || s->end_reason[i] > 0x7e)
            __builtin_trap();
}

static void fuzz_tail(const uint8_t *data, size_t size, bool whole)
{
    char *buf = malloc(size ? size : 1);
    memcpy(buf, data, size);
    struct api_session s = {0};
    api_session_clear(&s);
    api_cast_tail_parse(buf, size, whole, &s);
    check_exit(&s, data, size);
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *head = malloc(size ? size : 1);
    memcpy(head, data, size);
    struct api_session s = {0};
    if (api_cast_header_parse(head, size, FUZZ_ID, &s) == API_CAST_OK)
        check_names(&s);
    else if (s.command || s.id[0])
        __builtin_trap(); /* a refused header leaves nothing behind */
    api_session_clear(&s);
    free(head);
    fuzz_tail(data, size, true);
    fuzz_tail(data, size, false);
    /* The tail as the reader passes it from a longer file. */
    if (size > API_CAST_TAIL_MAX)
        fuzz_tail(data + size - API_CAST_TAIL_MAX, API_CAST_TAIL_MAX, false);
    return 0;
}
