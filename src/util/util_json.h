/* util_json.h - a JSON value's text, all of it or nothing.
 *
 * jansson's json_dumps() appends the text piece by piece and, when one
 * append fails for lack of memory, leaves that piece out and returns the
 * rest: a Status without its "code", a recording header without "width", a
 * token without "exp". Every JSON text podterm sends, writes or signs comes
 * from here instead: measured, then dumped into a buffer of that size, which
 * allocates nothing in between. */
#ifndef PODTERM_UTIL_JSON_H
#define PODTERM_UTIL_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

/* json's text (json_dumpb flags) in a new buffer for free(), NUL-terminated,
 * with a '\n' before the NUL when newline is set (a line of a log or a
 * recording); *len (unless NULL) gets its length without the NUL. NULL for
 * a NULL json, an empty text, or out of memory. */
char *util_json_text(const json_t *json, size_t flags, bool newline, size_t *len);

#endif
