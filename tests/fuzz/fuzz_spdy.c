/* fuzz_spdy.c - libFuzzer target for the SPDY/3.1 connection (src/spdy/).
 * The first input byte picks the role (server, or client with three
 * streams of its own open), the flow-control mode, and how the rest - the
 * peer's bytes - is cut into chunks. The connection runs with a small
 * application on top that replies to streams, echoes data, consumes it and
 * answers FINs, as podterm's session will.
 *
 * Invariants: no crash or leak; the events say the same whole or chunked
 * (a hash of every event and its bytes); events are consistent with the
 * stream table (data, FIN, replies only on open streams that may still
 * receive, nothing after FIN or after the connection error, peer's stream
 * ids odd and increasing); pending output never passes SPDY_OUT_MAX; in
 * strict mode no window we give the peer is ever below zero; and all we
 * write, fed to a second connection of the other role, is valid SPDY there:
 * every header block inflates in its context (no connection error).
 *
 * Differentially, the same bytes are also taken as one compressed header
 * block: our bounded inflater must agree with a plain zlib inflate with the
 * dictionary - it accepts exactly the blocks zlib decodes whole to fewer
 * bytes than the bound (SPDY_INFLATE_RATIO per input byte, at least
 * SPDY_INFLATE_FLOOR, at most SPDY_HEADER_BLOCK_MAX) whose pairs parse, and
 * then reports the same pairs. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "spdy/spdy_conn.h"

#define FUZZ_ECHO_MAX 16 /* data bytes echoed per event: keeps output small */
#define FUZZ_IDS_MAX 64  /* streams whose FIN we remember */

struct app {
    struct spdy_conn *c;
    enum spdy_role role;
    bool strict;
    uint64_t hash;
    bool failed;        /* SPDY_EV_ERROR seen */
    uint32_t last_open; /* the peer's last stream id */
    uint32_t fin_ids[FUZZ_IDS_MAX];
    size_t nfin;
    uint32_t open_ids[FUZZ_IDS_MAX]; /* streams opened, either side */
    size_t nopen;
};

static void hash_add(struct app *a, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        a->hash = (a->hash ^ b[i]) * 1099511628211ull;
}

static bool fin_seen(const struct app *a, uint32_t id)
{
    for (size_t i = 0; i < a->nfin; i++)
        if (a->fin_ids[i] == id)
            return true;
    return false;
}

static void check_headers(const struct spdy_headers *h)
{
    if (!h || h->n > SPDY_HEADERS_MAX)
        abort();
    for (size_t i = 0; i < h->n; i++) {
        const struct spdy_nv *nv = &h->nv[i];
        if (nv->name_len == 0)
            abort();
        for (size_t k = 0; k < nv->name_len; k++)
            if (nv->name[k] >= 'A' && nv->name[k] <= 'Z')
                abort();
        volatile char last = nv->value_len ? nv->value[nv->value_len - 1] : 0; /* readable */
        (void)last;
    }
}

static void on_event(void *user, const struct spdy_event *ev)
{
    struct app *a = user;
    struct spdy_conn *c = a->c;
    if (a->failed)
        abort(); /* nothing after the connection error */
    if (ev->type != SPDY_EV_DATA) {
        uint32_t rec[4] = {ev->type, ev->stream_id, ev->flags, ev->status};
        hash_add(a, rec, sizeof(rec));
    }
    switch (ev->type) {
    case SPDY_EV_STREAM_OPEN:
        check_headers(ev->headers);
        if (a->role != SPDY_ROLE_SERVER || (ev->stream_id & 1) == 0 ||
            ev->stream_id <= a->last_open || !spdy_conn_stream_open(c, ev->stream_id))
            abort();
        a->last_open = ev->stream_id;
        if (a->nopen < FUZZ_IDS_MAX)
            a->open_ids[a->nopen++] = ev->stream_id;
        if (!(ev->flags & SPDY_FLAG_UNIDIRECTIONAL)) {
            if (spdy_conn_reply(c, ev->stream_id, NULL, 0, false) != SPDY_OK)
                abort();
            spdy_conn_send_data(c, ev->stream_id, (const uint8_t *)"ok", 2, false);
        }
        break;
    case SPDY_EV_REPLY:
    case SPDY_EV_HEADERS:
        check_headers(ev->headers);
        if (!spdy_conn_stream_can_recv(c, ev->stream_id) || fin_seen(a, ev->stream_id))
            abort();
        break;
    case SPDY_EV_DATA:
        if (ev->len == 0 || !spdy_conn_stream_can_recv(c, ev->stream_id) ||
            fin_seen(a, ev->stream_id))
            abort();
        /* every byte with its stream: however the data is cut into events */
        for (size_t i = 0; i < ev->len; i++) {
            hash_add(a, &ev->stream_id, sizeof(ev->stream_id));
            hash_add(a, ev->data + i, 1);
        }
        spdy_conn_consume(c, ev->stream_id, ev->len);
        if (spdy_conn_stream_can_send(c, ev->stream_id))
            spdy_conn_send_data(c, ev->stream_id, ev->data,
                                ev->len < FUZZ_ECHO_MAX ? ev->len : FUZZ_ECHO_MAX, false);
        break;
    case SPDY_EV_FIN:
        if (fin_seen(a, ev->stream_id))
            abort();
        if (a->nfin < FUZZ_IDS_MAX)
            a->fin_ids[a->nfin++] = ev->stream_id;
        if (spdy_conn_stream_can_send(c, ev->stream_id))
            spdy_conn_send_data(c, ev->stream_id, NULL, 0, true);
        break;
    case SPDY_EV_RESET:
        if (spdy_conn_stream_open(c, ev->stream_id))
            abort(); /* reported once the stream is gone */
        break;
    case SPDY_EV_ERROR:
        if (!ev->reason || ev->err >= 0)
            abort();
        a->failed = true;
        break;
    case SPDY_EV_PING_ACK:
    case SPDY_EV_GOAWAY:
        break;
    }
}

/* The mirror only has to stay error-free. */
static void on_mirror(void *user, const struct spdy_event *ev)
{
    if (ev->type == SPDY_EV_ERROR)
        abort();
    if (ev->type == SPDY_EV_STREAM_OPEN || ev->type == SPDY_EV_REPLY || ev->type == SPDY_EV_HEADERS)
        check_headers(ev->headers);
}

static void check_windows(const struct app *a)
{
    if (!a->strict || a->failed)
        return; /* an overrun that ended the connection was charged first */
    if (spdy_conn_our_window(a->c, 0) < 0)
        abort();
    for (size_t i = 0; i < a->nopen; i++)
        if (spdy_conn_stream_open(a->c, a->open_ids[i]) &&
            spdy_conn_our_window(a->c, a->open_ids[i]) < 0)
            abort();
}

/* Drain a's output into the mirror. */
static void drain(struct app *a, struct spdy_conn *mirror)
{
    const uint8_t *p;
    size_t n = spdy_conn_out(a->c, &p);
    if (n > SPDY_OUT_MAX)
        abort();
    if (n) {
        spdy_conn_feed(mirror, p, n);
        spdy_conn_out_consume(a->c, n);
    }
    /* the mirror's own replies (pings, resets) are not fed back: the run
     * stays a function of the input alone */
    spdy_conn_out_consume(mirror, SPDY_OUT_MAX);
}

static uint64_t run(const uint8_t *data, size_t size, uint8_t mode, unsigned seed)
{
    struct app a = {.hash = 1469598103934665603ull};
    a.role = (mode & 1) ? SPDY_ROLE_CLIENT : SPDY_ROLE_SERVER;
    a.strict = (mode & 2) != 0;
    struct spdy_conn_config cfg = {.role = a.role,
                                   .flow = a.strict ? SPDY_FLOW_STRICT : SPDY_FLOW_ADVISORY};
    struct spdy_conn_config mcfg = {.role = a.role == SPDY_ROLE_SERVER ? SPDY_ROLE_CLIENT
                                                                       : SPDY_ROLE_SERVER,
                                    .flow = SPDY_FLOW_ADVISORY};
    a.c = spdy_conn_new(&cfg, on_event, &a);
    struct spdy_conn *mirror = spdy_conn_new(&mcfg, on_mirror, NULL);
    if (!a.c || !mirror)
        abort();
    if (a.role == SPDY_ROLE_CLIENT) {
        /* the mirror (a server) learns these streams too, so the replies it
         * sees later are to streams it knows */
        static const char *const types[] = {"error", "stdin", "stdout"};
        for (int i = 0; i < 3; i++) {
            struct spdy_nv nv = {"streamtype", 10, types[i], strlen(types[i])};
            if (spdy_conn_open_stream(a.c, &nv, 1, 0) != 2 * i + 1)
                abort();
            a.open_ids[a.nopen++] = (uint32_t)(2 * i + 1);
        }
        drain(&a, mirror);
    }
    size_t i = 0;
    while (i < size) {
        size_t n = size - i;
        if (seed) {
            seed = seed * 1103515245u + 12345u;
            n = 1 + (seed >> 16) % (n < 64 ? n : 64);
        }
        spdy_conn_feed(a.c, data + i, n);
        i += n;
        check_windows(&a);
        drain(&a, mirror);
    }
    uint64_t h = a.hash ^ (a.failed ? 1 : 0);
    spdy_conn_free(mirror);
    spdy_conn_free(a.c);
    return h;
}

/* What zlib alone makes of the block: bytes out (up to cap), and whether it
 * took every input byte without an error or an end of stream. */
static bool zlib_inflate(const uint8_t *in, size_t len, uint8_t *out, size_t cap, size_t *n)
{
    z_stream z = {0};
    if (inflateInit(&z) != Z_OK)
        abort();
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)len;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    bool ok = false;
    for (;;) {
        int rc = inflate(&z, Z_SYNC_FLUSH);
        if (rc == Z_NEED_DICT) {
            if (z.adler != SPDY_DICT_ADLER ||
                inflateSetDictionary(&z, spdy_dict, SPDY_DICT_LEN) != Z_OK)
                break;
            continue;
        }
        if ((rc != Z_OK && rc != Z_BUF_ERROR) || z.avail_out == 0)
            break;
        if (z.avail_in == 0) {
            ok = true;
            break;
        }
        if (rc == Z_BUF_ERROR)
            break;
    }
    *n = cap - z.avail_out;
    inflateEnd(&z);
    return ok;
}

static void check_inflate(const uint8_t *block, size_t len)
{
    static uint8_t ref[2 * SPDY_HEADER_BLOCK_MAX];
    static struct spdy_inflater in;
    static struct spdy_headers ours, theirs;
    if (len == 0 || spdy_inflater_init(&in) != SPDY_OK)
        return;
    int rc = spdy_inflater_block(&in, block, len, &ours);
    size_t n;
    bool zok = zlib_inflate(block, len, ref, sizeof(ref), &n);
    size_t lim = len > SPDY_HEADER_BLOCK_MAX / SPDY_INFLATE_RATIO ? SPDY_HEADER_BLOCK_MAX
                                                                  : len * SPDY_INFLATE_RATIO;
    if (lim < SPDY_INFLATE_FLOOR)
        lim = SPDY_INFLATE_FLOOR;
    if (lim > SPDY_HEADER_BLOCK_MAX)
        lim = SPDY_HEADER_BLOCK_MAX;
    if (in.z.total_out > lim)
        abort(); /* the bound held, zip bomb or not */
    int prc = zok && n < lim ? spdy_headers_parse(ref, n, &theirs) : SPDY_ERR_COMPRESSION;
    if (rc != prc)
        abort(); /* accepted iff zlib decodes it whole, within the bound */
    if (rc == SPDY_OK) {
        if (ours.n != theirs.n)
            abort();
        for (size_t i = 0; i < ours.n; i++)
            if (ours.nv[i].name_len != theirs.nv[i].name_len ||
                ours.nv[i].value_len != theirs.nv[i].value_len ||
                memcmp(ours.nv[i].name, theirs.nv[i].name, ours.nv[i].name_len) != 0 ||
                memcmp(ours.nv[i].value, theirs.nv[i].value, ours.nv[i].value_len) != 0)
                abort();
    }
    spdy_inflater_end(&in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t mode = data[0];
    unsigned seed = (unsigned)(mode >> 2) + 1;
    uint64_t whole = run(data + 1, size - 1, mode, 0);
    uint64_t chunked = run(data + 1, size - 1, mode, seed);
    if (whole != chunked)
        abort(); /* chunking changed what the connection said */
    check_inflate(data + 1, size - 1);
    return 0;
}
