/* proto_status.c - metav1.Status JSON, byte for byte as the apiserver and
 * kubelet write it with Go's encoding/json: channel-3 statuses (PROTOCOL.md
 * 3.6) and HTTP error bodies (1.2). Keys follow Go's struct field order; strings
 * are escaped the way Go escapes them (<, >, & and U+2028/9 as \u escapes,
 * invalid UTF-8 as \ufffd). Written straight into the caller's buffer: no
 * allocation. A message too long for the buffer is shortened at a character
 * boundary, because a Status that says less beats no Status at all (kubectl
 * needs the exit code). */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "proto/proto_internal.h"

#define STATUS_EXIT_PREFIX "command terminated with non-zero exit code: "
#define STATUS_INTERNAL_PREFIX "Internal error occurred: "

/* A bounded output buffer that remembers whether anything did not fit. */
struct jw {
    char *out;
    size_t cap;
    size_t len;
    bool full;
};

static void jw_raw(struct jw *w, const char *s, size_t n)
{
    if (w->full || n > w->cap - w->len) {
        w->full = true;
        return;
    }
    memcpy(w->out + w->len, s, n);
    w->len += n;
}

static void jw_lit(struct jw *w, const char *s)
{
    jw_raw(w, s, strlen(s));
}

/* One char of a JSON string, escaped as Go 1.22+ escapes it. */
static void jw_escape_ascii(struct jw *w, uint8_t c)
{
    static const char HEX[] = "0123456789abcdef";
    char esc[6] = {'\\', 'u', '0', '0', HEX[c >> 4], HEX[c & 15]};
    switch (c) {
    case '"':
    case '\\':
        esc[1] = (char)c;
        jw_raw(w, esc, 2);
        return;
    case '\b':
        jw_raw(w, "\\b", 2);
        return;
    case '\f':
        jw_raw(w, "\\f", 2);
        return;
    case '\n':
        jw_raw(w, "\\n", 2);
        return;
    case '\r':
        jw_raw(w, "\\r", 2);
        return;
    case '\t':
        jw_raw(w, "\\t", 2);
        return;
    }
    if (c < 0x20 || c == '<' || c == '>' || c == '&')
        jw_raw(w, esc, 6); /* controls, and Go's HTML-safe escapes */
    else
        jw_raw(w, (const char *)&c, 1);
}

/* The escaped body of a JSON string from the first n bytes of s. */
static void jw_str_body(struct jw *w, const char *s, size_t n)
{
    const uint8_t *p = (const uint8_t *)s;
    for (size_t i = 0; i < n && !w->full;) {
        if (p[i] < 0x80) {
            jw_escape_ascii(w, p[i++]);
            continue;
        }
        uint32_t cp;
        size_t k = proto_utf8_seq(p + i, n - i, &cp);
        if (k == 0) {
            jw_lit(w, "\\ufffd"); /* Go replaces each invalid byte */
            i++;
        } else if (cp == 0x2028 || cp == 0x2029) {
            jw_lit(w, cp == 0x2028 ? "\\u2028" : "\\u2029");
            i += k;
        } else {
            jw_raw(w, (const char *)p + i, k);
            i += k;
        }
    }
}

/* A quoted JSON string from the first n bytes of s. */
static void jw_str(struct jw *w, const char *s, size_t n)
{
    jw_raw(w, "\"", 1);
    jw_str_body(w, s, n);
    jw_raw(w, "\"", 1);
}

static void jw_key_str(struct jw *w, const char *key, const char *s, size_t n)
{
    jw_lit(w, key);
    jw_str(w, s, n);
}

static int jw_done(const struct jw *w)
{
    return w->full || w->len > (size_t)INT32_MAX ? PROTO_ERR_SPACE : (int)w->len;
}

/* Largest cut <= n of s that does not split a UTF-8 sequence. */
static size_t text_cut(const char *s, size_t n)
{
    while (n > 0 && ((uint8_t)s[n] & 0xc0) == 0x80)
        n--;
    return n;
}

/* Renders a whole body with the first msg_len bytes of its message. */
typedef int (*render_fn)(const void *req, size_t msg_len, char *out, size_t out_cap);

/* Render with the whole message or else with the longest prefix of it, cut at
 * a character boundary, that fits. Binary search: the output only grows with
 * the message. The last render is the one left in out. */
static int render_fitted(render_fn render, const void *req, const char *msg, char *out,
                         size_t out_cap)
{
    size_t len = strlen(msg);
    int n = render(req, len, out, out_cap);
    if (n != PROTO_ERR_SPACE || len == 0)
        return n;
    size_t fits = 0, fails = len;
    if (render(req, 0, out, out_cap) == PROTO_ERR_SPACE)
        return PROTO_ERR_SPACE;
    while (fails - fits > 1) {
        size_t mid = fits + (fails - fits) / 2;
        if (render(req, text_cut(msg, mid), out, out_cap) == PROTO_ERR_SPACE)
            fails = mid;
        else
            fits = mid;
    }
    return render(req, text_cut(msg, fits), out, out_cap);
}

/* ---- channel 3 ---- */

struct status_msg {
    enum proto_kind kind;
    enum proto_status_type type;
    int exit_code;
    const char *prefix; /* STATUS_*_PREFIX */
    const char *text;   /* the caller's message */
    size_t len;         /* bytes of text used (shortened when the buffer is small) */
};

static void status_message(struct jw *w, const struct status_msg *m)
{
    /* The prefix is ASCII with nothing to escape. */
    jw_lit(w, "\"message\":\"");
    jw_lit(w, m->prefix);
    jw_str_body(w, m->text, m->len);
    jw_lit(w, "\"");
}

static int status_json(const struct status_msg *m, struct jw *w)
{
    if (m->type == PROTO_STATUS_SUCCESS) {
        jw_lit(w, "{\"metadata\":{},\"status\":\"Success\"}");
        return jw_done(w);
    }
    jw_lit(w, "{\"metadata\":{},\"status\":\"Failure\",");
    status_message(w, m);
    if (m->type == PROTO_STATUS_EXIT) {
        char code[16];
        snprintf(code, sizeof(code), "%d", m->exit_code);
        jw_lit(w, ",\"reason\":\"NonZeroExitCode\",\"details\":{\"causes\":[{\"reason\":"
                  "\"ExitCode\",\"message\":\"");
        jw_lit(w, code);
        jw_lit(w, "\"}]}}");
    } else {
        jw_lit(w, ",\"reason\":\"InternalError\",\"details\":{\"causes\":[{");
        jw_key_str(w, "\"message\":", m->text, m->len);
        jw_lit(w, "}]},\"code\":500}");
    }
    return jw_done(w);
}

static int status_render(const void *req, size_t msg_len, char *out, size_t out_cap)
{
    struct status_msg m = *(const struct status_msg *)req;
    struct jw w = {.out = out, .cap = out_cap};
    m.len = msg_len;
    if (proto_kind_has_json_status(m.kind))
        return status_json(&m, &w);
    /* Pre-v4: the Status message as plain text, nothing on success. */
    if (m.type != PROTO_STATUS_SUCCESS) {
        jw_lit(&w, m.prefix);
        jw_raw(&w, m.text, m.len);
    }
    return jw_done(&w);
}

int proto_status_payload(enum proto_kind kind, enum proto_status_type type, int exit_code,
                         const char *message, char *out, size_t out_cap)
{
    struct status_msg m = {
        .kind = kind,
        .type = type,
        .exit_code = exit_code,
        .prefix = type == PROTO_STATUS_EXIT ? STATUS_EXIT_PREFIX : STATUS_INTERNAL_PREFIX,
        .text = message ? message : "",
    };
    return render_fitted(status_render, &m, m.text, out, out_cap);
}

/* ---- HTTP ---- */

struct http_req {
    int code;
    const char *reason, *message, *details_name, *details_kind;
};

static int http_render(const void *req, size_t msg_len, char *out, size_t out_cap)
{
    const struct http_req *r = req;
    struct jw w = {.out = out, .cap = out_cap};
    jw_lit(&w,
           "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\",");
    jw_key_str(&w, "\"message\":", r->message, msg_len);
    jw_key_str(&w, ",\"reason\":", r->reason, strlen(r->reason));
    if (r->details_name || r->details_kind) {
        jw_lit(&w, ",\"details\":{");
        if (r->details_name)
            jw_key_str(&w, "\"name\":", r->details_name, strlen(r->details_name));
        if (r->details_kind)
            jw_key_str(&w, r->details_name ? ",\"kind\":" : "\"kind\":", r->details_kind,
                       strlen(r->details_kind));
        jw_lit(&w, "}");
    }
    char num[32];
    snprintf(num, sizeof(num), ",\"code\":%d}", r->code);
    jw_lit(&w, num);
    return jw_done(&w);
}

int proto_http_status(int code, const char *reason, const char *message, const char *details_name,
                      const char *details_kind, char *out, size_t out_cap)
{
    struct http_req r = {
        .code = code,
        .reason = reason ? reason : "",
        .message = message ? message : "",
        .details_name = details_name,
        .details_kind = details_kind,
    };
    return render_fitted(http_render, &r, r.message, out, out_cap);
}

bool proto_query_bool(const char *value)
{
    return !(strcmp(value, "0") == 0 || strcasecmp(value, "false") == 0);
}
