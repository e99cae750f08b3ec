/* fuzz_status.c - libFuzzer target for the Status and resize JSON that cross
 * the wire: the gateway's reading of the upstream's channel-3 status
 * (kube_status_parse, every wire, exec and attach) and the channel-4 resize
 * stream (proto_decoder). The input is tried as a status payload and as
 * resize bytes, and its first bytes seed generated messages.
 *
 * Round trips: every Status podterm itself encodes (proto_status_payload:
 * success, exit code 1-255 with a message, internal error with a message)
 * reads back, through the gateway's decoder, as the same outcome; and a
 * generated resize object (any key case, spacing, an extra key) decodes to
 * its width and height, also when arbitrary bytes follow it in the stream.
 * Invariants: an outcome is an exit code 0-255 or an error with a
 * NUL-terminated message. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "backend/kube/kube_backend.h"
#include "proto/proto.h"

#define FUZZ_IN_MAX (16 * 1024)
#define FUZZ_MSG_MAX 150 /* twice, escaped 6x, still fits: never shortened */

static void check_exit(const struct backend_exit *e)
{
    if (e->type == BACKEND_EXIT_CODE) {
        if (e->code < 0 || e->code > 255 || e->message[0])
            __builtin_trap();
    } else if (e->type != BACKEND_EXIT_ERROR ||
               strnlen(e->message, sizeof(e->message)) == sizeof(e->message)) {
        __builtin_trap();
    }
}

static void fuzz_parse(const uint8_t *data, size_t size)
{
    char *buf = malloc(size ? size : 1); /* exact: a read past it is reported */
    memcpy(buf, data, size);
    static const enum kube_wire wires[3] = {KUBE_WIRE_V5, KUBE_WIRE_V4, KUBE_WIRE_CHANNEL};
    for (int w = 0; w < 3; w++)
        for (int attach = 0; attach < 2; attach++) {
            struct backend_exit e;
            kube_status_parse(wires[w], buf, size, attach, &e);
            check_exit(&e);
            if (attach && wires[w] != KUBE_WIRE_CHANNEL && e.type == BACKEND_EXIT_CODE &&
                e.code != 0)
                __builtin_trap(); /* attach never reports an exit code (PROTOCOL.md 3.6) */
        }
    free(buf);
}

/* podterm's encoder -> the gateway's decoder */
static void fuzz_round_trip(const uint8_t *data, size_t size)
{
    if (size < 1)
        return;
    int code = 1 + data[0] % 255;
    char msg[FUZZ_MSG_MAX + 1];
    size_t n = size - 1 < FUZZ_MSG_MAX ? size - 1 : FUZZ_MSG_MAX;
    memcpy(msg, data + 1, n);
    msg[n] = '\0';
    n = strlen(msg);
    static char out[PROTO_STATUS_MAX];
    struct backend_exit e;
    const enum proto_kind kinds[2] = {PROTO_KIND_V4, PROTO_KIND_V5};
    const enum kube_wire wires[2] = {KUBE_WIRE_V4, KUBE_WIRE_V5};
    for (int k = 0; k < 2; k++) {
        int len = proto_status_payload(kinds[k], PROTO_STATUS_SUCCESS, 0, NULL, out, sizeof(out));
        kube_status_parse(wires[k], out, (size_t)len, false, &e);
        if (e.type != BACKEND_EXIT_CODE || e.code != 0)
            __builtin_trap();
        len = proto_status_payload(kinds[k], PROTO_STATUS_EXIT, code, msg, out, sizeof(out));
        kube_status_parse(wires[k], out, (size_t)len, false, &e);
        if (e.type != BACKEND_EXIT_CODE || e.code != code)
            __builtin_trap();
        len = proto_status_payload(kinds[k], PROTO_STATUS_INTERNAL, 0, msg, out, sizeof(out));
        kube_status_parse(wires[k], out, (size_t)len, false, &e);
        json_t *utf8 = json_stringn(msg, n);
        /* a valid message reads back as given (one leading prefix is the client's to add) */
        if (utf8 && n && strncmp(msg, "Internal error occurred: ", 25) != 0 &&
            (e.type != BACKEND_EXIT_ERROR || strcmp(e.message, msg) != 0))
            __builtin_trap();
        json_decref(utf8);
    }
    /* pre-v4: the kubelet's text, whose last words are "exit code N" */
    char text[FUZZ_MSG_MAX + 64];
    int tn = snprintf(text, sizeof(text), "%s, exit code %d", msg, code);
    int len =
        proto_status_payload(PROTO_KIND_CHANNEL, PROTO_STATUS_EXIT, code, text, out, sizeof(out));
    kube_status_parse(KUBE_WIRE_CHANNEL, out, (size_t)len, false, &e);
    if (tn > 0 && (e.type != BACKEND_EXIT_CODE || e.code != code))
        __builtin_trap();
}

struct resize_log {
    uint16_t w[8], h[8];
    size_t n;
};

static void on_event(void *user, const struct proto_event *ev, const uint8_t *data)
{
    struct resize_log *l = user;
    if (ev->type == PROTO_EV_RESIZE && l->n < 8) {
        l->w[l->n] = ev->width;
        l->h[l->n++] = ev->height;
    }
}

static void fuzz_resize(const uint8_t *data, size_t size)
{
    if (size < 5)
        return;
    uint16_t w = (uint16_t)(data[0] << 8 | data[1]), h = (uint16_t)(data[2] << 8 | data[3]);
    uint8_t f = data[4];
    char obj[256];
    int on = snprintf(obj, sizeof(obj), "%s{%s\"%s\"%s:%u,%s\"%s\":%u%s}%s", f & 1 ? " \n" : "",
                      f & 2 ? "\"x\":[1,{\"}\":\"\\\"{\"}]," : "", f & 4 ? "WIDTH" : "Width",
                      f & 8 ? " " : "", w, f & 16 ? "\t" : "", f & 32 ? "height" : "Height", h,
                      f & 64 ? "\r\n" : "", f & 128 ? "\n" : "");
    /* channel 4 on v4: [4] + payload per message; the object, then the input */
    static uint8_t msg[FUZZ_IN_MAX + 300], out[FUZZ_IN_MAX + 300];
    msg[0] = PROTO_CH_RESIZE;
    memcpy(msg + 1, obj, (size_t)on);
    struct proto_decoder dec;
    proto_decoder_init(&dec, PROTO_KIND_V4);
    struct resize_log log = {0};
    size_t cut = 1 + (size_t)f % (size_t)on; /* the object split across two messages */
    if (proto_decoder_feed(&dec, msg, cut, true, true, out, sizeof(out), on_event, &log) != 0)
        __builtin_trap();
    msg[cut - 1] = PROTO_CH_RESIZE;
    if (proto_decoder_feed(&dec, msg + cut - 1, (size_t)on + 2 - cut, true, true, out, sizeof(out),
                           on_event, &log) != 0 ||
        log.n != 1 || log.w[0] != w || log.h[0] != h)
        __builtin_trap();
    msg[0] = PROTO_CH_RESIZE;
    memcpy(msg + 1, data + 5, size - 5);
    proto_decoder_feed(&dec, msg, size - 4, true, true, out, sizeof(out), on_event, &log);
    if (log.w[0] != w || log.h[0] != h)
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_IN_MAX)
        return 0;
    fuzz_parse(data, size);
    fuzz_round_trip(data, size);
    fuzz_resize(data, size);
    return 0;
}
