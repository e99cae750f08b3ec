/* spdy_frame.c - the SPDY/3 frame parser and writers (spdy_frame.h). */
#include "spdy/spdy_frame.h"

#include <string.h>

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

void spdy_parser_init(struct spdy_parser *p)
{
    p->head_len = 0;
    p->got = 0;
    p->skip = false;
    p->in_frame = false;
}

static bool type_known(uint16_t type)
{
    return type == SPDY_SYN_STREAM || type == SPDY_SYN_REPLY || type == SPDY_RST_STREAM ||
           type == SPDY_SETTINGS || type == SPDY_PING || type == SPDY_GOAWAY ||
           type == SPDY_HEADERS || type == SPDY_WINDOW_UPDATE;
}

static void head_decode(struct spdy_parser *p)
{
    const uint8_t *b = p->head;
    struct spdy_frame_head *h = &p->h;
    memset(h, 0, sizeof(*h));
    h->control = (b[0] & 0x80) != 0;
    if (h->control) {
        h->version = (uint16_t)((b[0] & 0x7f) << 8 | b[1]);
        h->type = (uint16_t)(b[2] << 8 | b[3]);
    } else {
        h->stream_id = get32(b) & SPDY_STREAM_ID_MAX;
    }
    h->flags = b[4];
    h->length = get32(b + 4) & SPDY_LENGTH_MAX;
}

/* The head is complete: decide how the payload is taken. Version is the
 * connection's business (it answers a bad one), unless the frame is too big
 * to gather, which no version makes acceptable. */
static int frame_start(struct spdy_parser *p, spdy_frame_cb cb, void *user)
{
    head_decode(p);
    p->got = 0;
    p->in_frame = true;
    p->skip = false;
    if (!p->h.control) {
        /* announced at once, so that a frame to refuse is refused before
         * its payload arrives */
        p->in_frame = p->h.length > 0;
        return cb(user, &p->h, NULL, 0, true, p->h.length == 0);
    }
    if (p->h.version == SPDY_VERSION && !type_known(p->h.type)) {
        p->skip = true; /* section 2.2.1: unknown control frames are ignored */
    } else if (p->h.length > SPDY_CONTROL_MAX) {
        return SPDY_ERR_FRAME_SIZE;
    }
    if (p->h.length == 0) {
        p->in_frame = false;
        return p->skip ? SPDY_OK : cb(user, &p->h, p->payload, 0, true, true);
    }
    return SPDY_OK;
}

int spdy_parser_feed(struct spdy_parser *p, const uint8_t *in, size_t len, spdy_frame_cb cb,
                     void *user)
{
    size_t i = 0;
    while (i < len) {
        if (!p->in_frame) {
            size_t take = SPDY_HEAD_LEN - p->head_len;
            if (take > len - i)
                take = len - i;
            memcpy(p->head + p->head_len, in + i, take);
            p->head_len += take;
            i += take;
            if (p->head_len < SPDY_HEAD_LEN)
                break;
            p->head_len = 0;
            int rc = frame_start(p, cb, user);
            if (rc != SPDY_OK)
                return rc;
            continue;
        }
        size_t take = p->h.length - p->got;
        if (take > len - i)
            take = len - i;
        p->got += (uint32_t)take;
        bool last = p->got == p->h.length;
        int rc = SPDY_OK;
        if (!p->h.control) {
            rc = cb(user, &p->h, in + i, take, false, last);
        } else if (!p->skip) {
            memcpy(p->payload + p->got - take, in + i, take);
            if (last)
                rc = cb(user, &p->h, p->payload, p->h.length, true, true);
        }
        i += take;
        if (last)
            p->in_frame = false;
        if (rc != SPDY_OK)
            return rc;
    }
    return SPDY_OK;
}

/* ---- control payloads ---- */

int spdy_parse_syn_stream(const uint8_t *p, size_t len, struct spdy_syn_stream *out)
{
    if (len < 10)
        return SPDY_ERR_FRAME;
    out->stream_id = get32(p) & SPDY_STREAM_ID_MAX;
    out->assoc_id = get32(p + 4) & SPDY_STREAM_ID_MAX;
    out->priority = p[8] >> 5;
    out->slot = p[9];
    out->block = p + 10;
    out->block_len = len - 10;
    return SPDY_OK;
}

int spdy_parse_stream_block(const uint8_t *p, size_t len, uint32_t *stream_id,
                            const uint8_t **block, size_t *block_len)
{
    if (len < 4)
        return SPDY_ERR_FRAME;
    *stream_id = get32(p) & SPDY_STREAM_ID_MAX;
    *block = p + 4;
    *block_len = len - 4;
    return SPDY_OK;
}

int spdy_parse_u32_pair(const uint8_t *p, size_t len, uint32_t *a, uint32_t *b)
{
    if (len != 8)
        return SPDY_ERR_FRAME;
    *a = get32(p) & SPDY_STREAM_ID_MAX;
    *b = get32(p + 4);
    return SPDY_OK;
}

int spdy_parse_ping(const uint8_t *p, size_t len, uint32_t *id)
{
    if (len != 4)
        return SPDY_ERR_FRAME;
    *id = get32(p);
    return SPDY_OK;
}

int spdy_parse_settings(const uint8_t *p, size_t len,
                        void (*fn)(void *u, uint8_t flags, uint32_t id, uint32_t value), void *u)
{
    if (len < 4)
        return SPDY_ERR_FRAME;
    uint32_t n = get32(p);
    if ((len - 4) / 8 != n || (len - 4) % 8 != 0)
        return SPDY_ERR_FRAME;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *e = p + 4 + 8 * (size_t)i;
        fn(u, e[0], get32(e) & 0xffffff, get32(e + 4));
    }
    return SPDY_OK;
}

/* ---- writers ---- */

int spdy_write_control_head(uint8_t *out, size_t cap, uint16_t type, uint8_t flags, uint32_t length)
{
    if (cap < SPDY_HEAD_LEN || length > SPDY_LENGTH_MAX)
        return SPDY_ERR_SPACE;
    out[0] = 0x80;
    out[1] = SPDY_VERSION;
    out[2] = (uint8_t)(type >> 8);
    out[3] = (uint8_t)type;
    put32(out + 4, (uint32_t)flags << 24 | length);
    return SPDY_HEAD_LEN;
}

int spdy_write_data_head(uint8_t *out, size_t cap, uint32_t stream_id, uint8_t flags,
                         uint32_t length)
{
    if (cap < SPDY_HEAD_LEN || length > SPDY_LENGTH_MAX)
        return SPDY_ERR_SPACE;
    put32(out, stream_id & SPDY_STREAM_ID_MAX);
    put32(out + 4, (uint32_t)flags << 24 | length);
    return SPDY_HEAD_LEN;
}

/* A control frame whose payload is fixed words then an optional block. */
static int write_words(uint8_t *out, size_t cap, uint16_t type, uint8_t flags, const uint32_t *w,
                       size_t nw, const uint8_t *block, size_t block_len)
{
    size_t len = 4 * nw + block_len;
    if (len > SPDY_LENGTH_MAX || cap < SPDY_HEAD_LEN + len)
        return SPDY_ERR_SPACE;
    spdy_write_control_head(out, cap, type, flags, (uint32_t)len);
    for (size_t i = 0; i < nw; i++)
        put32(out + SPDY_HEAD_LEN + 4 * i, w[i]);
    if (block_len)
        memcpy(out + SPDY_HEAD_LEN + 4 * nw, block, block_len);
    return (int)(SPDY_HEAD_LEN + len);
}

int spdy_write_syn_stream(uint8_t *out, size_t cap, uint8_t flags, uint32_t stream_id,
                          uint32_t assoc_id, uint8_t priority, const uint8_t *block,
                          size_t block_len)
{
    /* priority (3 bits) and slot (0) share the third word's top half */
    uint32_t w[3] = {stream_id & SPDY_STREAM_ID_MAX, assoc_id & SPDY_STREAM_ID_MAX,
                     (uint32_t)(priority & 7) << 29};
    size_t len = 10 + block_len;
    if (len > SPDY_LENGTH_MAX || cap < SPDY_HEAD_LEN + len)
        return SPDY_ERR_SPACE;
    uint8_t tmp[12];
    for (int i = 0; i < 3; i++)
        put32(tmp + 4 * i, w[i]);
    spdy_write_control_head(out, cap, SPDY_SYN_STREAM, flags, (uint32_t)len);
    memcpy(out + SPDY_HEAD_LEN, tmp, 10);
    if (block_len)
        memcpy(out + SPDY_HEAD_LEN + 10, block, block_len);
    return (int)(SPDY_HEAD_LEN + len);
}

int spdy_write_syn_reply(uint8_t *out, size_t cap, uint8_t flags, uint32_t stream_id,
                         const uint8_t *block, size_t block_len)
{
    uint32_t w = stream_id & SPDY_STREAM_ID_MAX;
    return write_words(out, cap, SPDY_SYN_REPLY, flags, &w, 1, block, block_len);
}

int spdy_write_headers(uint8_t *out, size_t cap, uint8_t flags, uint32_t stream_id,
                       const uint8_t *block, size_t block_len)
{
    uint32_t w = stream_id & SPDY_STREAM_ID_MAX;
    return write_words(out, cap, SPDY_HEADERS, flags, &w, 1, block, block_len);
}

int spdy_write_rst_stream(uint8_t *out, size_t cap, uint32_t stream_id, uint32_t status)
{
    uint32_t w[2] = {stream_id & SPDY_STREAM_ID_MAX, status};
    return write_words(out, cap, SPDY_RST_STREAM, 0, w, 2, NULL, 0);
}

int spdy_write_settings_one(uint8_t *out, size_t cap, uint8_t flags, uint32_t id, uint32_t value)
{
    uint32_t w[3] = {1, (uint32_t)flags << 24 | (id & 0xffffff), value};
    return write_words(out, cap, SPDY_SETTINGS, 0, w, 3, NULL, 0);
}

int spdy_write_ping(uint8_t *out, size_t cap, uint32_t id)
{
    return write_words(out, cap, SPDY_PING, 0, &id, 1, NULL, 0);
}

int spdy_write_goaway(uint8_t *out, size_t cap, uint32_t last_good_id, uint32_t status)
{
    uint32_t w[2] = {last_good_id & SPDY_STREAM_ID_MAX, status};
    return write_words(out, cap, SPDY_GOAWAY, 0, w, 2, NULL, 0);
}

int spdy_write_window_update(uint8_t *out, size_t cap, uint32_t stream_id, uint32_t delta)
{
    uint32_t w[2] = {stream_id & SPDY_STREAM_ID_MAX, delta & SPDY_WINDOW_MAX};
    return write_words(out, cap, SPDY_WINDOW_UPDATE, 0, w, 2, NULL, 0);
}
