/* record_enc.c - asciicast v2 event lines (record_enc.h). */
#include "record/record_enc.h"

#include <jansson.h>
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
        size_t k = util_utf8_seq(src + i, n - i, NULL);
        if (k) {
            memcpy(out + o, src + i, k);
            o += k;
            i += k;
            continue;
        }
        if (keep_tail && n - i < RECORD_UTF8_SEQ_MAX && record_utf8_prefix(src + i, n - i)) {
            *held = n - i;
            break;
        }
        memcpy(out + o, RECORD_REPLACEMENT, 3);
        o += 3;
        i++;
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

/* ---- one line into a bounded buffer ---- */

struct record_line {
    char *p;
    size_t len, cap;
};

static int record_line_put(const char *buf, size_t size, void *data)
{
    struct record_line *l = data;
    if (size > l->cap - l->len)
        return -1;
    memcpy(l->p + l->len, buf, size);
    l->len += size;
    return 0;
}

/* [t, "type", "text"] with text already UTF-8 (jansson escapes it). */
static int record_event_line(double t, const char *type, const char *text, size_t n, char *out,
                             size_t cap)
{
    struct record_line l = {out, 0, cap};
    int head = snprintf(out, cap, "[%.6f, \"%s\", ", t, type);
    if (head < 0 || (size_t)head >= cap)
        return -1;
    l.len = (size_t)head;
    json_t *s = json_stringn_nocheck(text, n);
    if (!s)
        return -1;
    int rc = json_dump_callback(s, record_line_put, &l, JSON_ENCODE_ANY);
    json_decref(s);
    if (rc < 0 || record_line_put("]\n", 2, &l) < 0)
        return -1;
    return (int)l.len;
}

int record_enc_resize(double t, unsigned width, unsigned height, char *out, size_t cap)
{
    char size[32];
    int n = snprintf(size, sizeof(size), "%ux%u", width, height);
    return record_event_line(t, "r", size, (size_t)n, out, cap);
}

int record_enc_marker(double t, const char *label, char *out, size_t cap)
{
    char text[3 * RECORD_LABEL_MAX + 1];
    size_t n = strnlen(label, RECORD_LABEL_MAX);
    size_t len = record_utf8_repair((const uint8_t *)label, n, text);
    return record_event_line(t, "m", text, len, out, cap);
}

/* ---- output and input ---- */

/* One event of up to RECORD_EVENT_IN_MAX (+ carry) bytes: its line fits
 * RECORD_LINE_MAX by construction, on the stack (no allocation per event). */
static int record_emit_text(enum record_stream s, double t, const char *text, size_t n,
                            record_emit_fn emit, void *user)
{
    char line[RECORD_LINE_MAX];
    int len =
        record_event_line(t, s == RECORD_STREAM_STDIN ? "i" : "o", text, n, line, sizeof(line));
    return len < 0 ? -1 : emit(user, line, (size_t)len);
}

int record_enc_data(struct record_enc *e, enum record_stream s, double t, const uint8_t *data,
                    size_t len, record_emit_fn emit, void *user)
{
    uint8_t in[RECORD_CARRY_MAX + RECORD_EVENT_IN_MAX];
    char text[3 * sizeof(in)];
    while (len > 0) {
        size_t take = len > RECORD_EVENT_IN_MAX ? RECORD_EVENT_IN_MAX : len;
        size_t n = e->carry_len[s];
        memcpy(in, e->carry[s], n);
        memcpy(in + n, data, take);
        n += take;
        data += take;
        len -= take;
        size_t held;
        size_t tlen = record_repair(in, n, true, text, &held);
        memcpy(e->carry[s], in + n - held, held);
        e->carry_len[s] = held;
        if (tlen == 0)
            continue;
        int rc = record_emit_text(s, t, text, tlen, emit, user);
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
        char text[3 * RECORD_CARRY_MAX + 1];
        size_t tlen = record_utf8_repair(e->carry[s], n, text);
        e->carry_len[s] = 0;
        int rc = record_emit_text((enum record_stream)s, t, text, tlen, emit, user);
        if (rc != 0)
            return rc;
    }
    return 0;
}
