/* util_json.c - a JSON value's text, all of it or nothing (util_json.h). */
#include "util/util_json.h"

#include <stdlib.h>

char *util_json_text(const json_t *json, size_t flags, bool newline, size_t *len)
{
    size_t n = json ? json_dumpb(json, NULL, 0, flags) : 0;
    char *text = n ? malloc(n + 2) : NULL;
    if (!text || json_dumpb(json, text, n, flags) != n) {
        free(text);
        return NULL;
    }
    if (newline)
        text[n++] = '\n';
    text[n] = '\0';
    if (len)
        *len = n;
    return text;
}
