/* fuzz_record_enc.c - libFuzzer target for the asciicast encoder: any
 * bytes, cut into chunks anywhere, on stdout, stderr and stdin, must come
 * out as lines that each parse as JSON (jansson), are well-formed UTF-8,
 * and are a [time, "o"|"i", text] event; markers and resizes too.
 *
 * Differential: the text of a stream's events, concatenated, is the same
 * however the bytes were chunked (the whole input in one call is the
 * reference), so a character cut by a chunk boundary is never replaced
 * where whole input would have kept it. The first input byte seeds the
 * chunk sizes; the rest is the data. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "record/record_enc.h"
#include "util/util_utf8.h"

#define FUZZ_IN_MAX (16 * 1024) /* input bytes looked at */
/* a stream's texts, concatenated: each byte becomes at most U+FFFD (3) */
#define FUZZ_TEXT_MAX (3 * FUZZ_IN_MAX + 16)

struct fuzz_sink {
    char *text[RECORD_STREAMS]; /* per stream: "o" texts from stdout/stderr kept apart */
    size_t len[RECORD_STREAMS];
    enum record_stream current;
};

static void fuzz_check_line(struct fuzz_sink *s, const char *line, size_t len)
{
    if (len == 0 || line[len - 1] != '\n' || memchr(line, '\n', len - 1) ||
        !util_utf8_valid((const uint8_t *)line, len, NULL))
        __builtin_trap();
    json_error_t err;
    json_t *v = json_loadb(line, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
    if (!v || !json_is_array(v) || json_array_size(v) != 3 || !json_is_real(json_array_get(v, 0)) ||
        !json_is_string(json_array_get(v, 1)) || !json_is_string(json_array_get(v, 2)))
        __builtin_trap();
    /* the text is escaped as jansson itself escapes it, byte for byte */
    char *dumped = json_dumps(json_array_get(v, 2), JSON_ENCODE_ANY);
    size_t dn = dumped ? strlen(dumped) : 0;
    if (!dumped || dn + 2 > len || memcmp(line + len - 2 - dn, dumped, dn) != 0 ||
        memcmp(line + len - 2, "]\n", 2) != 0)
        __builtin_trap();
    free(dumped);
    const char *type = json_string_value(json_array_get(v, 1));
    if (s) {
        if (strcmp(type, s->current == RECORD_STREAM_STDIN ? "i" : "o") != 0)
            __builtin_trap();
        size_t n = json_string_length(json_array_get(v, 2));
        if (n > FUZZ_TEXT_MAX - s->len[s->current])
            __builtin_trap();
        memcpy(s->text[s->current] + s->len[s->current], json_string_value(json_array_get(v, 2)),
               n);
        s->len[s->current] += n;
    }
    json_decref(v);
}

static int fuzz_emit(void *user, const char *line, size_t len)
{
    fuzz_check_line(user, line, len);
    return 0;
}

static void fuzz_sink_init(struct fuzz_sink *s)
{
    memset(s, 0, sizeof(*s));
    for (int i = 0; i < RECORD_STREAMS; i++)
        s->text[i] = malloc(FUZZ_TEXT_MAX);
}

static void fuzz_sink_free(struct fuzz_sink *s)
{
    for (int i = 0; i < RECORD_STREAMS; i++)
        free(s->text[i]);
}

/* All of data on every stream, in chunks of sizes drawn from seed (0: whole). */
static void fuzz_encode(struct fuzz_sink *s, const uint8_t *data, size_t size, uint8_t seed)
{
    struct record_enc e;
    record_enc_init(&e);
    for (int st = 0; st < RECORD_STREAMS; st++) {
        size_t off = 0;
        unsigned k = seed;
        s->current = (enum record_stream)st;
        while (off < size) {
            k = k * 1103515245u + 12345u;
            size_t n = seed ? 1 + (k >> 16) % 7 : size - off;
            if (n > size - off)
                n = size - off;
            if (record_enc_data(&e, s->current, (double)off / 1000, data + off, n, fuzz_emit, s))
                __builtin_trap();
            off += n;
        }
        if (e.carry_len[st] > RECORD_CARRY_MAX)
            __builtin_trap();
    }
    for (int st = 0; st < RECORD_STREAMS; st++) {
        s->current = (enum record_stream)st; /* finish emits in stream order */
        struct record_enc one = e;
        memset(one.carry_len, 0, sizeof(one.carry_len));
        one.carry_len[st] = e.carry_len[st];
        if (record_enc_finish(&one, 1.0, fuzz_emit, s))
            __builtin_trap();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > FUZZ_IN_MAX)
        return 0;
    uint8_t seed = data[0] | 1;
    data++;
    size--;
    struct fuzz_sink whole, chunked;
    fuzz_sink_init(&whole);
    fuzz_sink_init(&chunked);
    fuzz_encode(&whole, data, size, 0);
    fuzz_encode(&chunked, data, size, seed);
    for (int st = 0; st < RECORD_STREAMS; st++)
        if (whole.len[st] != chunked.len[st] ||
            memcmp(whole.text[st], chunked.text[st], whole.len[st]) != 0)
            __builtin_trap();
    fuzz_sink_free(&whole);
    fuzz_sink_free(&chunked);

    /* markers and resizes from the same bytes */
    char label[RECORD_LABEL_MAX + 1];
    size_t n = size < RECORD_LABEL_MAX ? size : RECORD_LABEL_MAX;
    memcpy(label, data, n);
    label[n] = '\0';
    char line[RECORD_MARKER_LINE_MAX];
    int len = record_enc_marker((double)size, label, line, sizeof(line));
    if (len <= 0)
        __builtin_trap();
    fuzz_check_line(NULL, line, (size_t)len);
    unsigned w = size >= 4 ? (unsigned)data[0] << 8 | data[1] : 80;
    unsigned h = size >= 4 ? (unsigned)data[2] << 8 | data[3] : 24;
    len = record_enc_resize(0.5, w, h, line, sizeof(line));
    if (len <= 0)
        __builtin_trap();
    fuzz_check_line(NULL, line, (size_t)len);
    return 0;
}
