/* proto_status.c - metav1.Status JSON, byte for byte as the apiserver and
 * kubelet write it: channel-3 statuses (PROTOCOL.md 3.6) and HTTP error
 * bodies (1.2). Key order follows Go's struct field order, so objects are
 * built with JSON_PRESERVE_ORDER; jansson does the string escaping. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "proto/proto_internal.h"

static int json_emit(json_t *obj, char *out, size_t out_cap)
{
    if (!obj)
        return PROTO_ERR_SPACE;
    size_t need = json_dumpb(obj, NULL, 0, JSON_COMPACT | JSON_PRESERVE_ORDER);
    int rc = PROTO_ERR_SPACE;
    if (need > 0 && need <= out_cap)
        rc = (int)json_dumpb(obj, out, out_cap, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(obj);
    return rc;
}

static int text_emit(const char *prefix, const char *message, char *out, size_t out_cap)
{
    int n = snprintf(out, out_cap, "%s%s", prefix, message ? message : "");
    return n < 0 || (size_t)n >= out_cap ? PROTO_ERR_SPACE : n;
}

/* jansson refuses strings that are not UTF-8, and a message can quote an argv
 * holding any bytes: replace non-ASCII bytes of an invalid message by '?'. */
static const char *utf8_safe(const char *msg, char *buf, size_t cap)
{
    size_t n = strlen(msg);
    if (proto_utf8_valid((const unsigned char *)msg, n))
        return msg;
    snprintf(buf, cap, "%s", msg);
    for (char *p = buf; *p; p++)
        if ((unsigned char)*p >= 0x80)
            *p = '?';
    return buf;
}

static int status_build(enum proto_kind kind, enum proto_status_type type, int exit_code,
                        const char *message, char *out, size_t out_cap)
{
    static const char EXIT_PREFIX[] = "command terminated with non-zero exit code: ";
    static const char INTERNAL_PREFIX[] = "Internal error occurred: ";
    char safe[PROTO_STATUS_MAX];
    const char *msg = utf8_safe(message ? message : "", safe, sizeof(safe));
    if (!proto_kind_has_json_status(kind)) {
        /* Pre-v4: nothing on success, the message as text on failure. */
        if (type == PROTO_STATUS_SUCCESS)
            return 0;
        return text_emit(type == PROTO_STATUS_EXIT ? EXIT_PREFIX : INTERNAL_PREFIX, msg, out,
                         out_cap);
    }
    if (type == PROTO_STATUS_SUCCESS)
        return json_emit(json_pack("{s:{}, s:s}", "metadata", "status", "Success"), out, out_cap);
    char full[PROTO_STATUS_MAX];
    char code[16];
    if (type == PROTO_STATUS_EXIT) {
        snprintf(full, sizeof(full), "%s%s", EXIT_PREFIX, msg);
        snprintf(code, sizeof(code), "%d", exit_code);
        return json_emit(json_pack("{s:{}, s:s, s:s, s:s, s:{s:[{s:s, s:s}]}}", "metadata",
                                   "status", "Failure", "message", full, "reason",
                                   "NonZeroExitCode", "details", "causes", "reason", "ExitCode",
                                   "message", code),
                         out, out_cap);
    }
    snprintf(full, sizeof(full), "%s%s", INTERNAL_PREFIX, msg);
    return json_emit(json_pack("{s:{}, s:s, s:s, s:s, s:{s:[{s:s}]}, s:i}", "metadata", "status",
                               "Failure", "message", full, "reason", "InternalError", "details",
                               "causes", "message", msg, "code", 500),
                     out, out_cap);
}

/* Cut s to at most n bytes without splitting a UTF-8 sequence. */
static void utf8_cut(char *s, size_t n)
{
    while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
        n--;
    s[n] = '\0';
}

int proto_status_payload(enum proto_kind kind, enum proto_status_type type, int exit_code,
                         const char *message, char *out, size_t out_cap)
{
    /* A failure must always reach the client: if escaping makes the message
     * too long for out, send a shorter message rather than no status. */
    char cut[PROTO_STATUS_MAX];
    snprintf(cut, sizeof(cut), "%s", message ? message : "");
    size_t len = strlen(cut);
    utf8_cut(cut, len);
    for (;;) {
        int n = status_build(kind, type, exit_code, cut, out, out_cap);
        if (n != PROTO_ERR_SPACE || len == 0)
            return n;
        len /= 2;
        utf8_cut(cut, len);
    }
}

int proto_http_status(int code, const char *reason, const char *message, const char *details_name,
                      const char *details_kind, char *out, size_t out_cap)
{
    char safe[PROTO_STATUS_MAX];
    message = utf8_safe(message ? message : "", safe, sizeof(safe));
    json_t *o = json_pack("{s:s, s:s, s:{}, s:s, s:s, s:s}", "kind", "Status", "apiVersion", "v1",
                          "metadata", "status", "Failure", "message", message, "reason",
                          reason ? reason : "");
    if (o && (details_name || details_kind)) {
        json_t *d = json_object();
        char safe_name[PROTO_STATUS_MAX];
        if (details_name)
            json_object_set_new(d, "name",
                                json_string(utf8_safe(details_name, safe_name, sizeof(safe_name))));
        if (details_kind)
            json_object_set_new(d, "kind", json_string(details_kind));
        json_object_set_new(o, "details", d);
    }
    if (o)
        json_object_set_new(o, "code", json_integer(code));
    return json_emit(o, out, out_cap);
}

bool proto_query_bool(const char *value)
{
    return !(strcmp(value, "0") == 0 || strcasecmp(value, "false") == 0);
}
