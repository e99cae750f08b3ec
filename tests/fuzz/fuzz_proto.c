/* fuzz_proto.c - libFuzzer target for the protocol codec. The first byte picks
 * the subprotocol and how messages are cut into chunks; the rest is a series of
 * client messages separated by "\n\n". Beyond "no crash, no out-of-bounds", it
 * checks that chunking never changes what the decoder says (binary kinds, and
 * base64 kinds while every message is valid), that streaming base64 agrees with
 * proto_base64_decode, that negotiation only ever names an offered item, that
 * base64 round-trips and the in-place encoder matches the plain one, and that
 * every Status body is JSON a client parses back to the message it was given. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/proto.h"

#define FUZZ_CHUNK_MAX 4096
#define FUZZ_STDIN_MAX (64 * 1024) /* stdin bytes one run may log */
#define FUZZ_EVENTS_MAX 1024       /* other events one run may log */
#define FUZZ_LINES_MAX 4           /* header lines handed to proto_negotiate */
#define FUZZ_STATUS_MSG_MAX 150    /* twice, escaped 6x, still fits: never shortened */
#define FUZZ_MSG_SEP "\n\n"

/* What a decoder said: the stdin bytes joined (chunking may deliver them in
 * more pieces), and every other event stamped with the stdin offset at which
 * it came, so the order between the two is compared too. */
struct fuzz_event_rec {
    size_t at;
    enum proto_event_type type;
    uint16_t width, height;
    uint64_t ack;
};

struct fuzz_log {
    uint8_t stdin_buf[FUZZ_STDIN_MAX];
    size_t stdin_len;
    struct fuzz_event_rec ev[FUZZ_EVENTS_MAX];
    size_t nev;
    bool overflow;
};

static void fuzz_event(void *user, const struct proto_event *ev, const uint8_t *data)
{
    struct fuzz_log *log = user;
    if (ev->type == PROTO_EV_STDIN) {
        if (ev->out_len == 0)
            abort(); /* an empty stdin event would look like nothing, or worse */
        if (ev->out_len > sizeof(log->stdin_buf) - log->stdin_len) {
            log->overflow = true;
            return;
        }
        memcpy(log->stdin_buf + log->stdin_len, data, ev->out_len); /* must be readable */
        log->stdin_len += ev->out_len;
        return;
    }
    if (ev->type != PROTO_EV_RESIZE && ev->type != PROTO_EV_CLOSE_STDIN && ev->type != PROTO_EV_ACK)
        abort();
    if (ev->type == PROTO_EV_ACK && ev->ack_bytes == 0)
        abort();
    if (log->nev == FUZZ_EVENTS_MAX) {
        log->overflow = true;
        return;
    }
    log->ev[log->nev++] = (struct fuzz_event_rec){
        .at = log->stdin_len,
        .type = ev->type,
        .width = ev->width,
        .height = ev->height,
        .ack = ev->ack_bytes,
    };
}

static bool log_equal(const struct fuzz_log *a, const struct fuzz_log *b)
{
    if (a->stdin_len != b->stdin_len || a->nev != b->nev ||
        memcmp(a->stdin_buf, b->stdin_buf, a->stdin_len) != 0)
        return false;
    for (size_t i = 0; i < a->nev; i++)
        if (a->ev[i].at != b->ev[i].at || a->ev[i].type != b->ev[i].type ||
            a->ev[i].width != b->ev[i].width || a->ev[i].height != b->ev[i].height ||
            a->ev[i].ack != b->ev[i].ack)
            return false;
    return true;
}

struct fuzz_run {
    int rc;          /* first error, or PROTO_OK */
    size_t messages; /* messages fed before stopping */
    bool any_bad;    /* a base64 message was undecodable */
    struct fuzz_log log;
};

/* Streaming base64 of one whole '0' message must agree with the plain decoder
 * wherever Go's CR/LF skipping does not come in. */
static void fuzz_b64_agree(const uint8_t *msg, size_t len, const struct proto_decoder *dec,
                           size_t delivered, const uint8_t *bytes)
{
    if (len < 1 || msg[0] != '0' || memchr(msg, '\r', len) || memchr(msg, '\n', len))
        return;
    static uint8_t ref[FUZZ_CHUNK_MAX];
    int n = proto_base64_decode((const char *)msg + 1, len - 1, ref, sizeof(ref));
    if (n == -1 ? !dec->bad_message && len > 1 : dec->bad_message)
        abort();
    if (n >= 0 && ((size_t)n != delivered || memcmp(ref, bytes, delivered) != 0))
        abort();
}

/* Feed one message cut into chunks of chunk bytes (0: whole). */
static int fuzz_feed_message(struct proto_decoder *dec, size_t chunk, const uint8_t *msg,
                             size_t len, struct fuzz_log *log)
{
    static uint8_t out[FUZZ_CHUNK_MAX + 3];
    size_t pos = 0, before = log->stdin_len;
    bool first = true;
    int rc;
    do {
        size_t n = len - pos;
        if (n > FUZZ_CHUNK_MAX)
            n = FUZZ_CHUNK_MAX;
        if (chunk && n > chunk)
            n = chunk;
        rc = proto_decoder_feed(dec, msg + pos, n, first, pos + n == len, out, sizeof(out),
                                fuzz_event, log);
        pos += n;
        first = false;
    } while (pos < len && rc == PROTO_OK);
    if (chunk == 0 && len <= FUZZ_CHUNK_MAX && proto_kind_is_base64(dec->kind) && !log->overflow)
        fuzz_b64_agree(msg, len, dec, log->stdin_len - before, log->stdin_buf + before);
    return rc;
}

static void fuzz_decode_all(enum proto_kind kind, size_t chunk, const uint8_t *data, size_t size,
                            struct fuzz_run *run)
{
    struct proto_decoder dec;
    proto_decoder_init(&dec, kind);
    memset(run, 0, sizeof(*run));
    for (size_t start = 0; start <= size && run->rc == PROTO_OK;) {
        const uint8_t *sep = memmem(data + start, size - start, FUZZ_MSG_SEP, 2);
        size_t end = sep ? (size_t)(sep - data) : size;
        run->rc = fuzz_feed_message(&dec, chunk, data + start, end - start, &run->log);
        run->any_bad = run->any_bad || dec.bad_message;
        run->messages++;
        start = end + 2;
    }
    if (run->rc != PROTO_OK && run->rc != PROTO_ERR_FRAME)
        abort(); /* out is big enough: only protocol errors are possible */
    if (run->rc == PROTO_ERR_FRAME && !proto_kind_has_close_signal(kind))
        abort(); /* only v5's close signal and podterm's acks can end a connection */
}

static void fuzz_decoder(enum proto_kind kind, size_t chunk, const uint8_t *data, size_t size)
{
    static struct fuzz_run whole, cut;
    fuzz_decode_all(kind, 0, data, size, &whole);
    fuzz_decode_all(kind, chunk, data, size, &cut);
    if (whole.log.overflow || cut.log.overflow)
        return;
    if (proto_kind_is_base64(kind) && (whole.any_bad || cut.any_bad))
        return; /* a bad message may have delivered a prefix when chunked */
    if (whole.rc != cut.rc || whole.messages != cut.messages || !log_equal(&whole.log, &cut.log))
        abort();
}

/* ---- negotiation ---- */

/* Whether some line, split on ',' with items trimmed of spaces and tabs, has
 * exactly this item: a second, naive reading of the offer. */
static bool item_offered(const char *const *lines, size_t n, const char *name)
{
    size_t len = strlen(name);
    for (size_t i = 0; i < n; i++) {
        for (const char *p = lines[i];; p++) {
            const char *end = strchrnul(p, ',');
            while (p < end && (*p == ' ' || *p == '\t'))
                p++;
            const char *q = end;
            while (q > p && (q[-1] == ' ' || q[-1] == '\t'))
                q--;
            if ((size_t)(q - p) == len && memcmp(p, name, len) == 0)
                return true;
            if (!*end)
                break;
            p = end;
        }
    }
    return false;
}

static bool token_offered(const char *const *lines, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strstr(lines[i], PROTO_TOKEN_PREFIX))
            return true;
    return false;
}

static void fuzz_negotiate(const uint8_t *data, size_t size)
{
    char *copy = malloc(size + 1);
    memcpy(copy, data, size);
    copy[size] = '\0';
    const char *lines[FUZZ_LINES_MAX];
    size_t n = 0;
    for (char *p = copy; n < FUZZ_LINES_MAX;) {
        lines[n++] = p;
        char *nl = strchr(p, '\n');
        if (!nl)
            break;
        *nl = '\0';
        p = nl + 1;
    }
    static struct proto_negotiation neg;
    int rc = proto_negotiate(lines, n, &neg);
    if (rc > 0 || rc < PROTO_ERR_TOO_LONG || !neg.offered)
        abort();
    if (rc != PROTO_OK && (neg.has_token || neg.token[0]))
        abort(); /* a refused offer keeps no secret */
    if (rc == PROTO_OK) {
        if (neg.kind <= PROTO_KIND_NONE || neg.kind >= PROTO_KIND_COUNT ||
            !item_offered(lines, n, proto_kind_name(neg.kind)))
            abort();
        if (neg.has_token && (neg.token[0] == '\0' || strlen(neg.token) > PROTO_TOKEN_MAX ||
                              !token_offered(lines, n)))
            abort();
        /* v5 offered where selection looks means v5 */
        if (neg.kind != PROTO_KIND_V5 && !neg.has_token &&
            item_offered(lines, 1, "v5.channel.k8s.io"))
            abort();
    }
    free(copy);
}

/* ---- base64 and frames ---- */

static void fuzz_base64(const uint8_t *data, size_t size)
{
    static uint8_t dec[FUZZ_CHUNK_MAX], enc[FUZZ_CHUNK_MAX * 2], again[FUZZ_CHUNK_MAX];
    if (size > FUZZ_CHUNK_MAX)
        size = FUZZ_CHUNK_MAX;
    int n = proto_base64_decode((const char *)data, size, dec, sizeof(dec));
    if (n >= 0) {
        /* decode(encode(decode(x))) == decode(x): stray bits aside, nothing is lost */
        size_t m = proto_base64_encode(dec, (size_t)n, (char *)enc);
        if (m != size || proto_base64_decode((const char *)enc, m, again, sizeof(again)) != n ||
            memcmp(again, dec, (size_t)n) != 0)
            abort();
    }
    /* decode(encode(x)) == x */
    size_t m = proto_base64_encode(data, size, (char *)enc);
    if (proto_base64_decode((const char *)enc, m, again, sizeof(again)) != (int)size ||
        memcmp(again, data, size) != 0)
        abort();
    /* in-place and out-of-place frames agree for every kind */
    static uint8_t ref[FUZZ_CHUNK_MAX * 2], buf[FUZZ_CHUNK_MAX * 2];
    for (int k = 0; k < PROTO_KIND_COUNT; k++) {
        int a = proto_frame_encode((enum proto_kind)k, 1, data, size, ref, sizeof(ref));
        memcpy(buf + proto_frame_head((enum proto_kind)k, size), data, size);
        size_t b = proto_frame_encode_inplace((enum proto_kind)k, 1, buf, size);
        if (a < 0 || (size_t)a != b || b != proto_frame_size((enum proto_kind)k, size) ||
            memcmp(ref, buf, b) != 0)
            abort();
    }
}

/* ---- Status ---- */

/* A JSON body must parse, and its message be prefix + msg when msg is UTF-8. */
static void fuzz_status_check(const char *json, int n, const char *key, const char *prefix,
                              const char *msg)
{
    json_error_t err;
    json_t *root = json_loadb(json, (size_t)n, 0, &err);
    if (!root)
        abort();
    json_t *s = json_stringn(msg, strlen(msg)); /* NULL: msg is not UTF-8 */
    if (s) {
        const char *got = json_string_value(json_object_get(root, key));
        size_t plen = strlen(prefix);
        if (!got || strncmp(got, prefix, plen) != 0 || strcmp(got + plen, msg) != 0)
            abort();
        json_decref(s);
    }
    json_decref(root);
}

static void fuzz_status(const uint8_t *data, size_t size)
{
    char msg[FUZZ_STATUS_MSG_MAX + 1], out[PROTO_STATUS_MAX];
    size_t n = size < FUZZ_STATUS_MSG_MAX ? size : FUZZ_STATUS_MSG_MAX;
    memcpy(msg, data, n);
    msg[n] = '\0';
    for (int k = PROTO_KIND_NONE; k < PROTO_KIND_COUNT; k++) {
        bool json = proto_kind_has_json_status((enum proto_kind)k);
        int a = proto_status_payload((enum proto_kind)k, PROTO_STATUS_INTERNAL, 0, msg, out,
                                     sizeof(out));
        if (a <= 0)
            abort(); /* a failure always has a payload, whatever the bytes */
        if (json)
            fuzz_status_check(out, a, "message", "Internal error occurred: ", msg);
        int b = proto_status_payload((enum proto_kind)k, PROTO_STATUS_EXIT, data[0], msg, out,
                                     sizeof(out));
        if (b <= 0)
            abort();
        if (json)
            fuzz_status_check(out, b, "message",
                              "command terminated with non-zero exit code: ", msg);
    }
    int h = proto_http_status(404, "NotFound", msg, msg, "pods", out, sizeof(out));
    if (h <= 0)
        abort();
    fuzz_status_check(out, h, "message", "", msg);
    /* a small buffer shortens the message, never overflows or fails */
    h = proto_http_status(404, "NotFound", msg, NULL, NULL, out, 120);
    if (h <= 0 || h > 120)
        abort();
    json_error_t err;
    json_t *root = json_loadb(out, (size_t)h, 0, &err);
    if (!root)
        abort();
    json_decref(root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static const size_t CHUNKS[8] = {1, 2, 3, 4, 5, 7, 64, 1000};
    enum proto_kind kind = (enum proto_kind)(data[0] % PROTO_KIND_COUNT);
    size_t chunk = CHUNKS[(data[0] / PROTO_KIND_COUNT) % 8];
    fuzz_decoder(kind, chunk, data + 1, size - 1);
    fuzz_negotiate(data + 1, size - 1);
    fuzz_base64(data + 1, size - 1);
    fuzz_status(data, size);
    return 0;
}
