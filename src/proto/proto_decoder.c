/* proto_decoder.c - client -> server messages, fed in chunks as lws delivers
 * them (PROTOCOL.md 3.1-3.7). Fixed-size state only: the channel byte, up to
 * four pending base64 chars, the resize JSON object being collected, the
 * close-signal and ack bytes of the current message. */
#include <jansson.h>
#include <string.h>
#include <strings.h>

#include "proto/proto_internal.h"

#define PROTO_CH_UNKNOWN 0xfe /* a base64 message whose first char is no digit */

void proto_decoder_init(struct proto_decoder *dec, enum proto_kind kind)
{
    memset(dec, 0, sizeof(*dec));
    dec->kind = kind;
}

/* ---- channel 4: one continuous JSON stream of {"Width":W,"Height":H} ---- */

static bool resize_value(json_t *v, uint16_t *out)
{
    if (json_is_null(v))
        return true;
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 65535)
        return false;
    *out = (uint16_t)json_integer_value(v);
    return true;
}

/* Decode one complete object the way Go decodes it into a struct with
 * uint16 Width/Height: keys match case-insensitively, others are ignored. */
static bool resize_parse(struct proto_decoder *dec, struct proto_event *ev)
{
    json_t *root = json_loadb(dec->resize_buf, dec->resize_len, 0, NULL);
    if (!json_is_object(root)) {
        json_decref(root);
        return false;
    }
    const char *key;
    json_t *v;
    bool ok = true;
    memset(ev, 0, sizeof(*ev));
    ev->type = PROTO_EV_RESIZE;
    json_object_foreach(root, key, v)
    {
        if (strcasecmp(key, "width") == 0)
            ok = ok && resize_value(v, &ev->width);
        else if (strcasecmp(key, "height") == 0)
            ok = ok && resize_value(v, &ev->height);
    }
    json_decref(root);
    return ok;
}

static void resize_feed(struct proto_decoder *dec, const uint8_t *p, size_t n, proto_event_cb cb,
                        void *user)
{
    for (size_t i = 0; i < n && !dec->resize_dead; i++) {
        char c = (char)p[i];
        if (dec->resize_depth == 0 && (c == ' ' || c == '\t' || c == '\r' || c == '\n'))
            continue;
        if ((dec->resize_depth == 0 && c != '{') || dec->resize_len == sizeof(dec->resize_buf)) {
            dec->resize_dead = true; /* the first error ends resize handling */
            break;
        }
        dec->resize_buf[dec->resize_len++] = c;
        if (dec->resize_in_str) {
            if (dec->resize_esc)
                dec->resize_esc = false;
            else if (c == '\\')
                dec->resize_esc = true;
            else if (c == '"')
                dec->resize_in_str = false;
            continue;
        }
        if (c == '"')
            dec->resize_in_str = true;
        else if (c == '{' || c == '[')
            dec->resize_depth++;
        else if (c == '}' || c == ']')
            dec->resize_depth--;
        if (dec->resize_depth == 0) {
            struct proto_event ev;
            if (!resize_parse(dec, &ev)) {
                dec->resize_dead = true;
                break;
            }
            dec->resize_len = 0;
            cb(user, &ev, NULL);
        }
    }
}

/* ---- payload routing ---- */

static void payload_route(struct proto_decoder *dec, const uint8_t *p, size_t n, proto_event_cb cb,
                          void *user)
{
    if (n == 0)
        return;
    if (dec->channel == PROTO_CH_STDIN) {
        struct proto_event ev = {.type = PROTO_EV_STDIN, .out_len = n};
        cb(user, &ev, p);
    } else if (dec->channel == PROTO_CH_RESIZE) {
        resize_feed(dec, p, n, cb, user);
    }
}

/* Bytes of a v5 close signal [0xFF, id] or a podterm ack [0x06, digits]. */
static int control_collect(struct proto_decoder *dec, const uint8_t *p, size_t n)
{
    if (dec->channel == PROTO_CH_CLOSE) {
        if (dec->close_len + n > 1)
            return PROTO_ERR_FRAME;
        if (n)
            dec->close_id = p[0];
        dec->close_len = (uint8_t)(dec->close_len + n);
        return PROTO_OK;
    }
    if (dec->ack_len + n > PROTO_FLOW_ACK_DIGITS_MAX)
        return PROTO_ERR_FRAME;
    memcpy(dec->ack_buf + dec->ack_len, p, n);
    dec->ack_len = (uint8_t)(dec->ack_len + n);
    return PROTO_OK;
}

static int control_finish(struct proto_decoder *dec, proto_event_cb cb, void *user)
{
    struct proto_event ev = {0};
    if (dec->channel == PROTO_CH_CLOSE) {
        if (dec->close_len != 1 || dec->close_id >= 5)
            return PROTO_ERR_FRAME;
        if (dec->close_id == PROTO_CH_STDIN) {
            ev.type = PROTO_EV_CLOSE_STDIN;
            cb(user, &ev, NULL);
        }
        return PROTO_OK;
    }
    uint64_t v = 0;
    if (dec->ack_len == 0)
        return PROTO_ERR_FRAME;
    for (uint8_t i = 0; i < dec->ack_len; i++) {
        if (dec->ack_buf[i] < '0' || dec->ack_buf[i] > '9')
            return PROTO_ERR_FRAME;
        v = v * 10 + (uint64_t)(dec->ack_buf[i] - '0');
    }
    if (v == 0)
        return PROTO_ERR_FRAME;
    ev.type = PROTO_EV_ACK;
    ev.ack_bytes = v;
    cb(user, &ev, NULL);
    return PROTO_OK;
}

static bool is_control(const struct proto_decoder *dec)
{
    return (dec->channel == PROTO_CH_CLOSE && proto_kind_has_close_signal(dec->kind)) ||
           (dec->channel == PROTO_CH_ACK && dec->kind == PROTO_KIND_PODTERM);
}

/* ---- base64 payloads ---- */

/* Decoded bytes a chunk of n chars can produce with what is pending. */
static size_t b64_out_max(const struct proto_decoder *dec, size_t n)
{
    return (dec->b64_npend + n) / 4 * 3;
}

/* Decode the chunk's base64 (with what was pending) into out; only a chunk
 * that decodes completely is delivered, so a bad single-chunk message is
 * dropped whole. '\r' and '\n' are skipped wherever they stand, as Go's
 * base64 decoder does. */
static void b64_feed(struct proto_decoder *dec, const uint8_t *p, size_t n, bool final,
                     uint8_t *out, proto_event_cb cb, void *user)
{
    size_t o = 0, i = 0;
    while (!dec->bad_message) {
        while (dec->b64_npend < 4 && i < n) {
            uint8_t c = p[i++];
            if (c != '\r' && c != '\n')
                dec->b64_pend[dec->b64_npend++] = c;
        }
        while (i < n && (p[i] == '\r' || p[i] == '\n'))
            i++;
        /* Hold back the last full group until we know whether it ends the
         * message: only the last group may carry padding. */
        bool last = final && i == n;
        if (dec->b64_npend < 4 || (!last && i == n))
            break;
        int k = proto_base64_quad(dec->b64_pend, out + o, last);
        if (k < 0) {
            dec->bad_message = true;
            break;
        }
        o += (size_t)k;
        dec->b64_npend = 0;
    }
    if (final && dec->b64_npend != 0)
        dec->bad_message = true; /* length not a multiple of 4 */
    if (!dec->bad_message)
        payload_route(dec, out, o, cb, user);
}

/* ---- entry ---- */

static void message_start(struct proto_decoder *dec)
{
    dec->in_message = true;
    dec->have_channel = false;
    dec->bad_message = false;
    dec->b64_npend = 0;
    dec->close_len = 0;
    dec->ack_len = 0;
}

/* One chunk of a message whose channel byte has been seen. */
static int message_feed(struct proto_decoder *dec, const uint8_t *in, size_t len, bool final,
                        uint8_t *out, size_t out_cap, proto_event_cb cb, void *user)
{
    if (is_control(dec)) {
        int rc = control_collect(dec, in, len);
        return rc == PROTO_OK && final ? control_finish(dec, cb, user) : rc;
    }
    if (dec->channel != PROTO_CH_STDIN && dec->channel != PROTO_CH_RESIZE)
        return PROTO_OK; /* a channel the server does not read: dropped (3.1) */
    if (!proto_kind_is_base64(dec->kind)) {
        payload_route(dec, in, len, cb, user); /* no copy: the callback copies what it keeps */
        return PROTO_OK;
    }
    if (b64_out_max(dec, len) > out_cap)
        return PROTO_ERR_SPACE;
    b64_feed(dec, in, len, final, out, cb, user);
    return PROTO_OK;
}

int proto_decoder_feed(struct proto_decoder *dec, const uint8_t *in, size_t len, bool first,
                       bool final, uint8_t *out, size_t out_cap, proto_event_cb cb, void *user)
{
    if (first || !dec->in_message)
        message_start(dec);
    if (!dec->have_channel && len > 0) {
        uint8_t c = in[0];
        if (proto_kind_is_base64(dec->kind))
            c = c >= '0' && c <= '9' ? (uint8_t)(c - '0') : PROTO_CH_UNKNOWN;
        dec->channel = c;
        dec->have_channel = true;
        in++;
        len--;
    }
    int rc =
        dec->have_channel ? message_feed(dec, in, len, final, out, out_cap, cb, user) : PROTO_OK;
    if (final)
        dec->in_message = false;
    return rc;
}
