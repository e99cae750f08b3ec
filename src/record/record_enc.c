/* record_enc.c - asciicast v2 event lines (record_enc.h). */
#include "record/record_enc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/util_utf8.h"

#define RECORD_REPLACEMENT "\xef\xbf\xbd" /* U+FFFD, 3 bytes */
#define RECORD_UTF8_SEQ_MAX 4

void record_enc_init(struct record_enc *e)
{
    memset(e, 0, sizeof(*e));
}

/* Whether s[0, n), shorter than the character its first byte announces,
 * can still become a well-formed one when more bytes come (the second
 * byte's narrower ranges exclude overlongs, surrogates and > U+10FFFF). */
static bool record_utf8_prefix(const uint8_t *s, size_t n)
{
    uint8_t c = s[0];
    size_t need = c >= 0xc2 && c <= 0xdf   ? 2
                  : c >= 0xe0 && c <= 0xef ? 3
                  : c >= 0xf0 && c <= 0xf4 ? 4
                                           : 0;
    if (need == 0 || n >= need)
        return false;
    for (size_t k = 1; k < n; k++) {
        uint8_t lo = 0x80, hi = 0xbf;
        if (k == 1 && c == 0xe0)
            lo = 0xa0;
        else if (k == 1 && c == 0xed)
            hi = 0x9f;
        else if (k == 1 && c == 0xf0)
            lo = 0x90;
        else if (k == 1 && c == 0xf4)
            hi = 0x8f;
        if (s[k] < lo || s[k] > hi)
            return false;
    }
    return true;
}

/* The character at src[*i], which is not ASCII, into out: as it is when
 * well-formed, else U+FFFD for its first byte; or, with keep_tail, an
 * unfinished character at the very end is held back (*held its length,
 * *i moved to the end). Returns the bytes written. */
static size_t record_utf8_next(const uint8_t *src, size_t n, size_t *i, bool keep_tail, char *out,
                               size_t *held)
{
    size_t k = util_utf8_seq(src + *i, n - *i, NULL);
    if (k) {
        memcpy(out, src + *i, k);
        *i += k;
        return k;
    }
    if (keep_tail && n - *i < RECORD_UTF8_SEQ_MAX && record_utf8_prefix(src + *i, n - *i)) {
        *held = n - *i;
        *i = n;
        return 0;
    }
    memcpy(out, RECORD_REPLACEMENT, 3);
    (*i)++;
    return 3;
}

/* src[0, n) as well-formed UTF-8 into out (room for 3 * n). With
 * keep_tail, an unfinished character at the very end is not replaced but
 * left out, its length in *held. Returns the bytes written. */
static size_t record_repair(const uint8_t *src, size_t n, bool keep_tail, char *out, size_t *held)
{
    size_t i = 0, o = 0;
    *held = 0;
    while (i < n) {
        if (src[i] < 0x80) {
            out[o++] = (char)src[i++];
            continue;
        }
        o += record_utf8_next(src, n, &i, keep_tail, out + o, held);
    }
    return o;
}

size_t record_utf8_repair(const uint8_t *src, size_t n, char *out)
{
    size_t held;
    size_t len = record_repair(src, n, false, out, &held);
    out[len] = '\0';
    return len;
}

/* ---- JSON strings ----
 *
 * Output is escaped here, in the same pass that repairs its UTF-8, rather
 * than by jansson: through jansson (a json_t per event, its dump's
 * per-character callbacks) recording cost 8.5 ns per output byte, most of a
 * core at a terminal's full speed. The escapes are jansson's own (a dump
 * without flags: \" \\ \b \f \n \r \t, other controls as \u00XX in
 * capitals, everything else as is), which fuzz_record_enc checks byte for
 * byte against jansson. */

/* Bytes copied as they are: printable ASCII but '"' and '\\', and DEL. */
static bool record_json_plain(uint8_t c)
{
    return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

static size_t record_json_escape(uint8_t c, char *out)
{
    static const char hex[] = "0123456789ABCDEF";
    const char *short_form = c == '"'    ? "\\\""
                             : c == '\\' ? "\\\\"
                             : c == '\b' ? "\\b"
                             : c == '\f' ? "\\f"
                             : c == '\n' ? "\\n"
                             : c == '\r' ? "\\r"
                             : c == '\t' ? "\\t"
                                         : NULL;
    if (short_form) {
        memcpy(out, short_form, 2);
        return 2;
    }
    memcpy(out, "\\u00", 4);
    out[4] = hex[c >> 4];
    out[5] = hex[c & 0xf];
    return 6;
}

/* src[0, n) as the inside of a JSON string, UTF-8 repaired as
 * record_repair does (keep_tail, *held the same), into out (room: 6 * n). */
static size_t record_json_body(const uint8_t *src, size_t n, bool keep_tail, char *out,
                               size_t *held)
{
    size_t i = 0, o = 0;
    *held = 0;
    while (i < n) {
        size_t run = i; /* the common case: a run copied at once */
        while (run < n && record_json_plain(src[run]))
            run++;
        memcpy(out + o, src + i, run - i);
        o += run - i;
        i = run;
        if (i == n)
            break;
        if (src[i] < 0x80) {
            o += record_json_escape(src[i++], out + o);
            continue;
        }
        o += record_utf8_next(src, n, &i, keep_tail, out + o, held);
    }
    return o;
}

/* [t, "type", "<body>"]\n around a body written by record_json_body. */
static int record_line_head(double t, const char *type, char *out, size_t cap)
{
    int head = snprintf(out, cap, "[%.6f, \"%s\", \"", t, type);
    return head < 0 || (size_t)head >= cap ? -1 : head;
}

/* An event of a few bytes (a size, a label, what finish gives up on),
 * repaired and escaped like output. */
static int record_event_line(double t, const char *type, const uint8_t *raw, size_t n, char *out,
                             size_t cap)
{
    int head = record_line_head(t, type, out, cap);
    if (head < 0 || 6 * n + 3 > cap - (size_t)head)
        return -1;
    size_t held;
    size_t len = (size_t)head + record_json_body(raw, n, false, out + head, &held);
    memcpy(out + len, "\"]\n", 3);
    return (int)(len + 3);
}

int record_enc_resize(double t, unsigned width, unsigned height, char *out, size_t cap)
{
    char size[32];
    int n = snprintf(size, sizeof(size), "%ux%u", width, height);
    return record_event_line(t, "r", (const uint8_t *)size, (size_t)n, out, cap);
}

int record_enc_marker(double t, const char *label, char *out, size_t cap)
{
    return record_event_line(t, "m", (const uint8_t *)label, strnlen(label, RECORD_LABEL_MAX), out,
                             cap);
}

/* ---- output and input ---- */

int record_enc_data(struct record_enc *e, enum record_stream s, double t, const uint8_t *data,
                    size_t len, record_emit_fn emit, void *user)
{
    uint8_t in[RECORD_CARRY_MAX + RECORD_EVENT_IN_MAX];
    char line[RECORD_LINE_MAX]; /* fits one event of sizeof(in) bytes by construction */
    const char *type = s == RECORD_STREAM_STDIN ? "i" : "o";
    while (len > 0) {
        size_t take = len > RECORD_EVENT_IN_MAX ? RECORD_EVENT_IN_MAX : len;
        size_t n = e->carry_len[s];
        memcpy(in, e->carry[s], n);
        memcpy(in + n, data, take);
        n += take;
        data += take;
        len -= take;
        int head = record_line_head(t, type, line, sizeof(line));
        if (head < 0)
            return -1;
        size_t held;
        size_t body = record_json_body(in, n, true, line + head, &held);
        memcpy(e->carry[s], in + n - held, held);
        e->carry_len[s] = held;
        if (body == 0)
            continue;
        size_t end = (size_t)head + body;
        memcpy(line + end, "\"]\n", 3);
        int rc = emit(user, line, end + 3);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int record_enc_finish(struct record_enc *e, double t, record_emit_fn emit, void *user)
{
    for (int s = 0; s < RECORD_STREAMS; s++) {
        size_t n = e->carry_len[s];
        if (n == 0)
            continue;
        char line[RECORD_MARKER_LINE_MAX];
        e->carry_len[s] = 0;
        int len = record_event_line(t, s == RECORD_STREAM_STDIN ? "i" : "o", e->carry[s], n, line,
                                    sizeof(line));
        int rc = len < 0 ? -1 : emit(user, line, (size_t)len);
        if (rc != 0)
            return rc;
    }
    return 0;
}
