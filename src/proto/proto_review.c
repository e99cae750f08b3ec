/* proto_review.c - `kubectl auth can-i` request bodies (SelfSubjectAccessReview,
 * SelfSubjectRulesReview) in Kubernetes protobuf or JSON, into one struct.
 * Wire layouts and what is refused: proto_review.h. */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "proto/proto_internal.h"
#include "proto/proto_review.h"

#define PB_VARINT_MAX 10                  /* bytes of a 64-bit varint */
#define PB_FIELD_NUM_MAX ((1u << 29) - 1) /* protobuf's largest field number */
#define REVIEW_SHOWN_TYPE_MAX 64          /* media type characters quoted back */

#define KIND_ACCESS "SelfSubjectAccessReview"
#define KIND_RULES "SelfSubjectRulesReview"
#define MEDIA_JSON "application/json"
#define MEDIA_PROTOBUF "application/vnd.kubernetes.protobuf"
#define PB_BAD "the body is not a valid Kubernetes protobuf message"

enum pb_wire { PB_VARINT = 0, PB_I64 = 1, PB_LEN = 2, PB_SGROUP = 3, PB_EGROUP = 4, PB_I32 = 5 };

/* One message's bytes; base is the whole body, so errors name a body offset. */
struct pb_reader {
    const uint8_t *base, *p;
    size_t len, off;
};

struct pb_field {
    uint64_t num;
    int wire;
    const uint8_t *val; /* PB_LEN: the payload */
    size_t len;
};

/* What the decoders share: where results go and where an error is written. */
struct review_ctx {
    const uint8_t *base;
    struct proto_review *out;
    char *err;
    size_t err_cap;
    bool seen_resource, seen_nonresource;
};

/* runtime.TypeMeta, kept only to compare the kind with the URL's. */
struct review_meta {
    char api_version[PROTO_REVIEW_FIELD_MAX];
    char kind[PROTO_REVIEW_FIELD_MAX];
};

/* A kept string: its protobuf field number, JSON key, and where it goes in
 * the struct the decoder fills (struct proto_review or struct review_meta). */
struct review_string {
    uint32_t num;
    const char *key;
    size_t off, cap;
};

#define REVIEW_FIELD(n, k, member)                                                                 \
    {                                                                                              \
        n, k, offsetof(struct proto_review, member), sizeof(((struct proto_review *)0)->member)    \
    }

static const struct review_string RESOURCE_FIELDS[] = {
    REVIEW_FIELD(1, "namespace", ns),      REVIEW_FIELD(2, "verb", verb),
    REVIEW_FIELD(3, "group", group),       REVIEW_FIELD(4, "version", version),
    REVIEW_FIELD(5, "resource", resource), REVIEW_FIELD(6, "subresource", subresource),
    REVIEW_FIELD(7, "name", name),
};
static const struct review_string NONRESOURCE_FIELDS[] = {
    REVIEW_FIELD(1, "path", path),
    REVIEW_FIELD(2, "verb", verb),
};
static const struct review_string RULES_SPEC_FIELDS[] = {
    REVIEW_FIELD(1, "namespace", ns),
};
static const struct review_string META_FIELDS[] = {
    {1, "apiVersion", offsetof(struct review_meta, api_version), PROTO_REVIEW_FIELD_MAX},
    {2, "kind", offsetof(struct review_meta, kind), PROTO_REVIEW_FIELD_MAX},
};
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

__attribute__((format(printf, 2, 3))) static int review_fail(struct review_ctx *c, const char *fmt,
                                                             ...)
{
    if (c->err_cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->err, c->err_cap, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* Copies one string value to its slot. NUL and ill-formed UTF-8 are refused
 * rather than cut or replaced: the authorizer must see what the client asked. */
static int review_string_set(struct review_ctx *c, void *dst_base, const struct review_string *s,
                             const char *prefix, const char *v, size_t n)
{
    if (n >= s->cap)
        return review_fail(c, "%s.%s is longer than %zu bytes", prefix, s->key, s->cap - 1);
    if (memchr(v, '\0', n))
        return review_fail(c, "%s.%s holds a NUL byte", prefix, s->key);
    if (!proto_utf8_valid((const unsigned char *)v, n))
        return review_fail(c, "%s.%s is not valid UTF-8", prefix, s->key);
    char *dst = (char *)dst_base + s->off;
    memcpy(dst, v, n);
    /* all of the rest: a field given twice leaves nothing of its longer
     * first value, so equal reviews are equal bytes */
    memset(dst + n, 0, s->cap - n);
    return 0;
}

/* Before the spec is read: a body of the other kind would be misread. */
static int review_kind_check(struct review_ctx *c, const struct review_meta *meta, const char *want)
{
    if (!meta->kind[0] || strcmp(meta->kind, want) == 0)
        return 0;
    return review_fail(c, "the body's kind is not %s, which the URL names", want);
}

/* ---- protobuf ---- */

static int pb_varint(struct pb_reader *r, uint64_t *v)
{
    uint64_t x = 0;
    for (int i = 0; i < PB_VARINT_MAX && r->off < r->len; i++) {
        uint8_t b = r->p[r->off++];
        if (i == PB_VARINT_MAX - 1 && b > 1)
            return -1; /* past 64 bits */
        x |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *v = x;
            return 0;
        }
    }
    return -1;
}

/* Bytes left in the message, checked before every skip: a length from the
 * wire is never added to a pointer before it is known to fit. */
static int pb_take(struct pb_reader *r, uint64_t n)
{
    if (n > r->len - r->off)
        return -1;
    r->off += (size_t)n;
    return 0;
}

/* The next field of r: 1, 0 at the end of the message, -1 refused. */
static int pb_next(struct review_ctx *c, struct pb_reader *r, struct pb_field *f)
{
    if (r->off == r->len)
        return 0;
    size_t at = (size_t)(r->p - r->base) + r->off;
    uint64_t key, n;
    if (pb_varint(r, &key) != 0)
        return review_fail(c, PB_BAD ": truncated field key at byte %zu", at);
    f->num = key >> 3;
    f->wire = (int)(key & 7);
    if (f->num == 0 || f->num > PB_FIELD_NUM_MAX)
        return review_fail(c, PB_BAD ": field number out of range at byte %zu", at);
    switch (f->wire) {
    case PB_VARINT:
        if (pb_varint(r, &n) != 0)
            return review_fail(c, PB_BAD ": truncated varint at byte %zu", at);
        return 1;
    case PB_I64:
    case PB_I32:
        if (pb_take(r, f->wire == PB_I64 ? 8 : 4) != 0)
            return review_fail(c, PB_BAD ": truncated fixed-size field at byte %zu", at);
        return 1;
    case PB_LEN:
        if (pb_varint(r, &n) != 0)
            return review_fail(c, PB_BAD ": truncated length at byte %zu", at);
        f->val = r->p + r->off;
        f->len = (size_t)n;
        if (pb_take(r, n) != 0)
            return review_fail(c, PB_BAD ": field at byte %zu runs past the end of its message",
                               at);
        return 1;
    case PB_SGROUP:
    case PB_EGROUP:
        return review_fail(c, PB_BAD ": groups (wire type %d) at byte %zu are not supported",
                           f->wire, at);
    default:
        return review_fail(c, PB_BAD ": invalid wire type %d at byte %zu", f->wire, at);
    }
}

static struct pb_reader pb_sub(const struct review_ctx *c, const struct pb_field *f)
{
    return (struct pb_reader){.base = c->base, .p = f->val, .len = f->len};
}

static int pb_expect_len(struct review_ctx *c, const struct pb_field *f, const char *what)
{
    if (f->wire == PB_LEN)
        return 0;
    return review_fail(c, PB_BAD ": %s has wire type %d, not a length-delimited field", what,
                       f->wire);
}

/* A message of strings only (table), every other field skipped. */
static int pb_strings(struct review_ctx *c, struct pb_reader r, const struct review_string *t,
                      size_t nt, void *dst, const char *prefix)
{
    struct pb_field f;
    int rc;
    while ((rc = pb_next(c, &r, &f)) > 0)
        for (size_t i = 0; i < nt; i++) {
            if (f.num != t[i].num)
                continue;
            if (f.wire != PB_LEN)
                return review_fail(c, PB_BAD ": %s.%s has wire type %d, not a string", prefix,
                                   t[i].key, f.wire);
            if (review_string_set(c, dst, &t[i], prefix, (const char *)f.val, f.len) != 0)
                return -1;
        }
    return rc;
}

static int pb_access_spec(struct review_ctx *c, struct pb_reader r)
{
    struct pb_field f;
    int rc;
    while ((rc = pb_next(c, &r, &f)) > 0) {
        if (f.num == 1) {
            if (pb_expect_len(c, &f, "spec.resourceAttributes") != 0 ||
                pb_strings(c, pb_sub(c, &f), RESOURCE_FIELDS, COUNT(RESOURCE_FIELDS), c->out,
                           "spec.resourceAttributes") != 0)
                return -1;
            c->seen_resource = true;
        } else if (f.num == 2) {
            if (pb_expect_len(c, &f, "spec.nonResourceAttributes") != 0 ||
                pb_strings(c, pb_sub(c, &f), NONRESOURCE_FIELDS, COUNT(NONRESOURCE_FIELDS), c->out,
                           "spec.nonResourceAttributes") != 0)
                return -1;
            c->seen_nonresource = true;
        }
    }
    return rc;
}

/* The review itself (runtime.Unknown's raw): only spec (2) is read. */
static int pb_object(struct review_ctx *c, struct pb_reader r)
{
    struct pb_field f;
    int rc;
    while ((rc = pb_next(c, &r, &f)) > 0) {
        if (f.num != 2)
            continue;
        if (pb_expect_len(c, &f, "spec") != 0)
            return -1;
        if (c->out->rules ? pb_strings(c, pb_sub(c, &f), RULES_SPEC_FIELDS,
                                       COUNT(RULES_SPEC_FIELDS), c->out, "spec")
                          : pb_access_spec(c, pb_sub(c, &f)))
            return -1;
    }
    return rc;
}

/* runtime.Unknown: typeMeta and raw are kept, the object read after the
 * envelope is whole (raw may come before typeMeta, or twice: the last wins). */
static int pb_envelope(struct review_ctx *c, struct pb_reader r, struct review_meta *meta,
                       struct pb_reader *raw)
{
    struct pb_field f;
    int rc;
    while ((rc = pb_next(c, &r, &f)) > 0) {
        if (f.num == 1) {
            if (pb_expect_len(c, &f, "typeMeta") != 0 ||
                pb_strings(c, pb_sub(c, &f), META_FIELDS, COUNT(META_FIELDS), meta, "typeMeta") !=
                    0)
                return -1;
        } else if (f.num == 2) {
            if (pb_expect_len(c, &f, "raw") != 0)
                return -1;
            *raw = pb_sub(c, &f);
        } else if (f.num == 3) {
            /* an encoded raw (the apiserver knows none) would not be protobuf */
            if (pb_expect_len(c, &f, "contentEncoding") != 0)
                return -1;
            if (f.len)
                return review_fail(c, PB_BAD ": contentEncoding is not supported");
        }
    }
    return rc;
}

static int review_protobuf(struct review_ctx *c, const uint8_t *body, size_t len, const char *want)
{
    if (len < PROTO_REVIEW_MAGIC_LEN || memcmp(body, PROTO_REVIEW_MAGIC, PROTO_REVIEW_MAGIC_LEN))
        return review_fail(c, PB_BAD ": it does not start with the k8s magic bytes");
    struct pb_reader env = {.base = body, .p = body, .len = len, .off = PROTO_REVIEW_MAGIC_LEN};
    struct pb_reader raw = {.base = body, .p = body, .len = 0};
    struct review_meta meta = {{0}};
    if (pb_envelope(c, env, &meta, &raw) != 0 || review_kind_check(c, &meta, want) != 0)
        return -1;
    return pb_object(c, raw);
}

/* ---- JSON ---- */

/* jansson nests as deep as the input asks (up to its own 2048); a review has
 * no reason to go past PROTO_REVIEW_DEPTH_MAX, so deeper input is refused
 * before it is parsed. Brackets inside strings do not count. */
static int json_depth_check(struct review_ctx *c, const uint8_t *body, size_t len)
{
    int depth = 0;
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        uint8_t b = body[i];
        if (in_string) {
            if (b == '\\')
                i++;
            else if (b == '"')
                in_string = false;
        } else if (b == '"') {
            in_string = true;
        } else if (b == '{' || b == '[') {
            if (++depth > PROTO_REVIEW_DEPTH_MAX)
                return review_fail(c, "the body nests JSON deeper than %d levels",
                                   PROTO_REVIEW_DEPTH_MAX);
        } else if ((b == '}' || b == ']') && depth > 0) {
            depth--; /* a stray closer is jansson's to refuse, not a credit */
        }
    }
    return 0;
}

/* obj's member key: NULL when absent or null (Go leaves the field zero). */
static json_t *json_member(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_null(v) ? NULL : v;
}

static int json_strings(struct review_ctx *c, json_t *obj, const struct review_string *t, size_t nt,
                        void *dst, const char *prefix)
{
    if (!obj)
        return 0;
    if (!json_is_object(obj))
        return review_fail(c, "%s is not a JSON object", prefix);
    for (size_t i = 0; i < nt; i++) {
        json_t *v = json_member(obj, t[i].key);
        if (!v)
            continue;
        if (!json_is_string(v))
            return review_fail(c, "%s.%s is not a string", prefix, t[i].key);
        if (review_string_set(c, dst, &t[i], prefix, json_string_value(v), json_string_length(v)))
            return -1;
    }
    return 0;
}

static int json_spec(struct review_ctx *c, json_t *spec)
{
    if (!spec)
        return 0;
    if (!json_is_object(spec))
        return review_fail(c, "spec is not a JSON object");
    if (c->out->rules)
        return json_strings(c, spec, RULES_SPEC_FIELDS, COUNT(RULES_SPEC_FIELDS), c->out, "spec");
    json_t *ra = json_member(spec, "resourceAttributes");
    json_t *nra = json_member(spec, "nonResourceAttributes");
    c->seen_resource = ra != NULL;
    c->seen_nonresource = nra != NULL;
    if (json_strings(c, ra, RESOURCE_FIELDS, COUNT(RESOURCE_FIELDS), c->out,
                     "spec.resourceAttributes") != 0)
        return -1;
    return json_strings(c, nra, NONRESOURCE_FIELDS, COUNT(NONRESOURCE_FIELDS), c->out,
                        "spec.nonResourceAttributes");
}

static int review_json(struct review_ctx *c, const uint8_t *body, size_t len, const char *want)
{
    if (json_depth_check(c, body, len) != 0)
        return -1;
    json_error_t jerr;
    json_t *root = json_loadb((const char *)body, len, 0, &jerr);
    if (!root) /* jerr.text can quote the body: only the place is told */
        return review_fail(c, "the body is not valid JSON (at byte %d)", jerr.position);
    struct review_meta meta = {{0}};
    int rc;
    if (!json_is_object(root))
        rc = review_fail(c, "the body is not a JSON object");
    else
        rc = json_strings(c, root, META_FIELDS, COUNT(META_FIELDS), &meta, "the object");
    if (rc == 0)
        rc = review_kind_check(c, &meta, want);
    if (rc == 0)
        rc = json_spec(c, json_member(root, "spec"));
    json_decref(root);
    return rc;
}

/* ---- the entry point ---- */

/* 0 JSON, 1 protobuf, -1 neither. Parameters (charset=...) do not matter to
 * either decoder. */
static int review_media_type(struct review_ctx *c, const char *ct)
{
    if (!ct)
        return 0;
    ct += strspn(ct, " \t");
    size_t n = strcspn(ct, ";");
    while (n && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
        n--;
    if (n == 0 || (n == strlen(MEDIA_JSON) && strncasecmp(ct, MEDIA_JSON, n) == 0))
        return 0;
    if (n == strlen(MEDIA_PROTOBUF) && strncasecmp(ct, MEDIA_PROTOBUF, n) == 0)
        return 1;
    /* a header can hold anything: only printable ASCII is quoted back */
    char shown[REVIEW_SHOWN_TYPE_MAX + 1];
    size_t k = n < REVIEW_SHOWN_TYPE_MAX ? n : REVIEW_SHOWN_TYPE_MAX;
    for (size_t i = 0; i < k; i++)
        shown[i] = ct[i] >= 0x20 && ct[i] < 0x7f && ct[i] != '"' ? ct[i] : '?';
    shown[k] = '\0';
    return review_fail(c,
                       "unsupported media type \"%s%s\": accepted media types include " MEDIA_JSON
                       ", " MEDIA_PROTOBUF,
                       shown, k < n ? "..." : "");
}

int proto_review_decode(const uint8_t *body, size_t len, const char *content_type, bool rules,
                        struct proto_review *out, char *err, size_t err_cap)
{
    if (!body) { /* no body at all reads as an empty one */
        body = (const uint8_t *)"";
        len = 0;
    }
    struct review_ctx c = {.base = body, .out = out, .err = err, .err_cap = err_cap};
    const char *want = rules ? KIND_RULES : KIND_ACCESS;
    memset(out, 0, sizeof(*out));
    out->rules = rules;
    if (err_cap)
        err[0] = '\0';
    int media = review_media_type(&c, content_type);
    if (media < 0)
        return -1;
    if (len > PROTO_REVIEW_BODY_MAX)
        return review_fail(&c, "the body is longer than %d bytes", PROTO_REVIEW_BODY_MAX);
    if ((media == 0 ? review_json : review_protobuf)(&c, body, len, want) != 0)
        return -1;
    if (!rules && c.seen_resource == c.seen_nonresource)
        return review_fail(&c, "spec: exactly one of resourceAttributes or nonResourceAttributes "
                               "must be specified");
    out->is_resource = c.seen_resource;
    return 0;
}
