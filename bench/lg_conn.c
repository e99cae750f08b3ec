/* lg_conn.c - one session's received stream: channel byte, base64 decoding,
 * per-channel byte counts and CRC-32s, the status on channel 3. */
#include "lg.h"

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdarg.h>

void lg_conn_reset(struct lg_conn *c)
{
    struct lg *lg = c->lg;
    size_t idx = c->idx;
    void *user = c->user;
    memset(c, 0, sizeof(*c));
    c->lg = lg;
    c->idx = idx;
    c->user = user;
    for (int i = 0; i < 4; i++)
        c->crc[i] = crc32(0L, Z_NULL, 0);
}

void lg_conn_fail(struct lg_conn *c, const char *fmt, ...)
{
    if (c->failed)
        return;
    c->failed = true;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, sizeof(c->err), fmt, ap);
    va_end(ap);
}

void lg_conn_opened(struct lg_conn *c)
{
    c->state = LG_OPEN;
    c->t_open = now_sec();
    c->lg->nopen++;
    if (c->lg->on_open)
        c->lg->on_open(c);
}

static void lg_conn_deliver(struct lg_conn *c, const uint8_t *d, size_t n)
{
    if (n == 0)
        return;
    int ch = c->channel;
    if (ch == 3) {
        size_t room = sizeof(c->status) - 1 - c->status_len;
        size_t k = n < room ? n : room;
        memcpy(c->status + c->status_len, d, k);
        c->status_len += k;
        c->status[c->status_len] = '\0';
    }
    if (ch > 3) {
        lg_conn_fail(c, "data on channel %d", ch);
        return;
    }
    if (!c->t_first)
        c->t_first = now_sec();
    c->bytes[ch] += n;
    c->crc[ch] = crc32(c->crc[ch], d, (uInt)n);
    if (c->lg->on_data)
        c->lg->on_data(c, ch, d, n);
}

static const int8_t *b64_table(void)
{
    static int8_t t[256];
    static bool init;
    if (!init) {
        const char *a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        memset(t, -1, sizeof(t));
        for (int i = 0; i < 64; i++)
            t[(uint8_t)a[i]] = (int8_t)i;
        init = true;
    }
    return t;
}

/* Decode complete quads; keep up to 3 chars for the next chunk. */
static void lg_conn_b64(struct lg_conn *c, const uint8_t *in, size_t len, bool final)
{
    const int8_t *t = b64_table();
    uint8_t *out = c->lg->scratch, *o = out;
    size_t i = 0;
    while (c->b64_npend > 0 && c->b64_npend < 4 && i < len)
        c->b64_pend[c->b64_npend++] = in[i++];
    const uint8_t *q = c->b64_pend;
    bool use_pend = c->b64_npend == 4;
    for (;;) {
        if (!use_pend) {
            if (len - i < 4)
                break;
            q = in + i;
            i += 4;
        }
        use_pend = false;
        c->b64_npend = 0;
        int a = t[q[0]], b = t[q[1]], cc = t[q[2]], d = t[q[3]];
        if (a < 0 || b < 0) {
            lg_conn_fail(c, "bad base64");
            return;
        }
        *o++ = (uint8_t)(a << 2 | b >> 4);
        if (q[2] == '=')
            continue;
        if (cc < 0) {
            lg_conn_fail(c, "bad base64");
            return;
        }
        *o++ = (uint8_t)(b << 4 | cc >> 2);
        if (q[3] == '=')
            continue;
        if (d < 0) {
            lg_conn_fail(c, "bad base64");
            return;
        }
        *o++ = (uint8_t)(cc << 6 | d);
    }
    while (i < len)
        c->b64_pend[c->b64_npend++] = in[i++];
    if (final && c->b64_npend)
        lg_conn_fail(c, "base64 message of a length not a multiple of 4");
    lg_conn_deliver(c, out, (size_t)(o - out));
}

void lg_conn_chunk(struct lg_conn *c, bool first, bool final, bool is_text, const uint8_t *data,
                   size_t len)
{
    struct lg *lg = c->lg;
    if (first) {
        if (is_text != lg->base64)
            lg_conn_fail(c, "%s frame for %s", is_text ? "text" : "binary",
                         lg->proto ? lg->proto : "no subprotocol");
        c->have_channel = false;
        c->b64_npend = 0;
    }
    if (!c->have_channel && len > 0) {
        uint8_t ch = data[0];
        if (lg->base64) {
            if (ch < '0' || ch > '9') {
                lg_conn_fail(c, "base64 message without a channel digit");
                return;
            }
            ch = (uint8_t)(ch - '0');
        }
        c->channel = ch;
        c->have_channel = true;
        data++;
        len--;
        if (final && len == 0)
            c->got_initial = true;
    }
    if (lg->base64)
        lg_conn_b64(c, data, len, final);
    else
        lg_conn_deliver(c, data, len);
}

void lg_conn_closed(struct lg_conn *c, int close_code)
{
    if (c->state == LG_DONE)
        return;
    if (c->state == LG_OPEN)
        c->lg->nopen--;
    c->state = LG_DONE;
    c->close_code = close_code;
    c->t_done = now_sec();
    c->lg->ndone++;
    if (c->lg->on_done)
        c->lg->on_done(c);
}

int lg_conn_send(struct lg_conn *c, uint8_t channel, const uint8_t *data, size_t len)
{
    uint8_t msg[1 + 4 * ((LG_SEND_MAX + 2) / 3)];
    size_t n;
    if (c->lg->base64) {
        if (len > LG_SEND_MAX)
            return -1;
        msg[0] = (uint8_t)('0' + channel);
        n = 1 + (size_t)EVP_EncodeBlock(msg + 1, data, (int)len);
    } else {
        if (len + 1 > sizeof(msg))
            return -1;
        msg[0] = channel;
        memcpy(msg + 1, data, len);
        n = len + 1;
    }
    return c->lg->eng->send(c, c->lg->base64, msg, n);
}

int lg_conn_exit_code(const struct lg_conn *c)
{
    const char *s = c->status;
    if (c->lg->json_status) {
        if (strstr(s, "\"status\":\"Success\""))
            return 0;
        const char *p = strstr(s, "\"reason\":\"ExitCode\"");
        if (p && (p = strstr(p, "\"message\":\"")))
            return atoi(p + 11);
        return -1;
    }
    if (c->status_len == 0)
        return 0;
    const char *p = strstr(s, "exit code ");
    return p ? atoi(p + 10) : -1;
}

void lg_ws_accept(const char *key, char out[29])
{
    static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    char buf[128];
    unsigned char sha[SHA_DIGEST_LENGTH];
    int n = snprintf(buf, sizeof(buf), "%s%s", key, guid);
    SHA1((const unsigned char *)buf, (size_t)n, sha);
    EVP_EncodeBlock((unsigned char *)out, sha, SHA_DIGEST_LENGTH);
}
