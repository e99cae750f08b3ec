/* fuzz_review.c - libFuzzer target for the `kubectl auth can-i` bodies
 * (proto_review_decode): the input is decoded as Kubernetes protobuf and as
 * JSON, for either kind the URL can name.
 *
 * Invariants: a result is 0 with every kept string NUL-terminated inside its
 * buffer and well-formed UTF-8, or -1 with a non-empty message.
 * Round trips (differential): whatever one encoding accepted is re-encoded by
 * this harness in both encodings (JSON with jansson, protobuf with the small
 * writer below, its fields in reverse order and unknown fields of every wire
 * type between them) and must decode to the same struct. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/proto_internal.h"
#include "proto/proto_review.h"

#define FUZZ_PB "application/vnd.kubernetes.protobuf"
#define FUZZ_OUT_MAX (16 * 1024) /* one re-encoded review: 8 strings of at most 2 KiB */

struct fuzz_buf {
    uint8_t b[FUZZ_OUT_MAX];
    size_t n;
};

static void put_byte(struct fuzz_buf *o, uint8_t v)
{
    if (o->n >= FUZZ_OUT_MAX)
        __builtin_trap();
    o->b[o->n++] = v;
}

static void put_varint(struct fuzz_buf *o, uint64_t v)
{
    do {
        put_byte(o, (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0)));
        v >>= 7;
    } while (v);
}

static void put_bytes(struct fuzz_buf *o, uint32_t num, const void *p, size_t n)
{
    put_varint(o, (uint64_t)num << 3 | 2);
    put_varint(o, n);
    for (size_t i = 0; i < n; i++)
        put_byte(o, ((const uint8_t *)p)[i]);
}

static void put_str(struct fuzz_buf *o, uint32_t num, const char *s)
{
    put_bytes(o, num, s, strlen(s));
}

static void put_unknown(struct fuzz_buf *o)
{
    put_varint(o, 50 << 3 | 0);
    put_varint(o, 300);
    put_varint(o, 51 << 3 | 1);
    for (int i = 0; i < 8; i++)
        put_byte(o, 0xff);
    put_str(o, 52, "\x0b\x0c"); /* group tags, inside bytes: never parsed */
    put_varint(o, 53 << 3 | 5);
    for (int i = 0; i < 4; i++)
        put_byte(o, 0);
}

static void check_string(const char *s, size_t cap)
{
    size_t n = strnlen(s, cap);
    if (n == cap || !proto_utf8_valid((const unsigned char *)s, n))
        __builtin_trap();
}

static void check_review(const struct proto_review *r)
{
    check_string(r->verb, sizeof(r->verb));
    check_string(r->group, sizeof(r->group));
    check_string(r->version, sizeof(r->version));
    check_string(r->ns, sizeof(r->ns));
    check_string(r->resource, sizeof(r->resource));
    check_string(r->subresource, sizeof(r->subresource));
    check_string(r->name, sizeof(r->name));
    check_string(r->path, sizeof(r->path));
}

/* The review's own message (runtime.Unknown's raw), fields reversed. */
static void encode_object(const struct proto_review *r, struct fuzz_buf *obj)
{
    static struct fuzz_buf attrs, spec;
    attrs.n = spec.n = 0;
    if (r->rules) {
        put_str(&spec, 1, r->ns);
    } else if (r->is_resource) {
        put_str(&attrs, 7, r->name);
        put_unknown(&attrs);
        put_str(&attrs, 6, r->subresource);
        put_str(&attrs, 5, r->resource);
        put_str(&attrs, 4, r->version);
        put_str(&attrs, 3, r->group);
        put_str(&attrs, 2, r->verb);
        put_str(&attrs, 1, r->ns);
        put_bytes(&spec, 1, attrs.b, attrs.n);
    } else {
        put_str(&attrs, 2, r->verb);
        put_unknown(&attrs);
        put_str(&attrs, 1, r->path);
        put_bytes(&spec, 2, attrs.b, attrs.n);
    }
    put_unknown(&spec);
    obj->n = 0;
    put_str(obj, 3, "status");
    put_bytes(obj, 2, spec.b, spec.n);
    put_unknown(obj);
}

static void encode_protobuf(const struct proto_review *r, struct fuzz_buf *out)
{
    static struct fuzz_buf obj, meta;
    encode_object(r, &obj);
    meta.n = 0;
    put_str(&meta, 2, r->rules ? "SelfSubjectRulesReview" : "SelfSubjectAccessReview");
    out->n = 0;
    for (int i = 0; i < 4; i++)
        put_byte(out, (uint8_t)PROTO_REVIEW_MAGIC[i]);
    put_bytes(out, 2, obj.b, obj.n); /* raw before typeMeta: order is free */
    put_unknown(out);
    put_bytes(out, 1, meta.b, meta.n);
}

static char *encode_json(const struct proto_review *r)
{
    json_t *spec;
    if (r->rules)
        spec = json_pack("{ss}", "namespace", r->ns);
    else if (r->is_resource)
        spec = json_pack("{s{ss ss ss ss ss ss ss}}", "resourceAttributes", "namespace", r->ns,
                         "verb", r->verb, "group", r->group, "version", r->version, "resource",
                         r->resource, "subresource", r->subresource, "name", r->name);
    else
        spec = json_pack("{s{ss ss}}", "nonResourceAttributes", "path", r->path, "verb", r->verb);
    json_t *root = json_pack("{so s{s[i{}]}}", "spec", spec, "metadata", "x", 1);
    char *s = root ? json_dumps(root, JSON_COMPACT) : NULL;
    json_decref(root);
    return s;
}

static void round_trip(const struct proto_review *r)
{
    static struct fuzz_buf pb;
    struct proto_review back;
    char err[PROTO_REVIEW_ERR_MIN];
    encode_protobuf(r, &pb);
    if (proto_review_decode(pb.b, pb.n, FUZZ_PB, r->rules, &back, err, sizeof(err)) != 0 ||
        memcmp(&back, r, sizeof(back)) != 0)
        __builtin_trap();
    char *j = encode_json(r);
    if (!j)
        __builtin_trap();
    if (proto_review_decode((const uint8_t *)j, strlen(j), "application/json", r->rules, &back, err,
                            sizeof(err)) != 0 ||
        memcmp(&back, r, sizeof(back)) != 0)
        __builtin_trap();
    free(j);
}

static void fuzz_decode(const uint8_t *data, size_t size, const char *ct, bool rules)
{
    struct proto_review r;
    char err[PROTO_REVIEW_ERR_MIN];
    int rc = proto_review_decode(data, size, ct, rules, &r, err, sizeof(err));
    if (rc == 0) {
        if (err[0] || r.rules != rules)
            __builtin_trap();
        check_review(&r);
        round_trip(&r);
    } else if (rc != -1 || !err[0] || strnlen(err, sizeof(err)) == sizeof(err)) {
        __builtin_trap();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > PROTO_REVIEW_BODY_MAX)
        return 0;
    for (int rules = 0; rules < 2; rules++) {
        fuzz_decode(data, size, FUZZ_PB, rules);
        fuzz_decode(data, size, "application/json; charset=utf-8", rules);
    }
    return 0;
}
