/* test_proto_review.c - `kubectl auth can-i` bodies: the exact bytes kubectl
 * 1.30-1.31 (JSON) and 1.32-1.33 (protobuf) sent to a recording server
 * (tests/unit/fixtures/review/) decode to the exact fields; hand-built
 * protobuf shows what is skipped (unknown fields of every wire type, deep
 * unknown nesting) and what is refused, with the exact message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proto/proto_review.h"

#define PB "application/vnd.kubernetes.protobuf"
#define BAD "the body is not a valid Kubernetes protobuf message: "
#define FIXTURE_MAX 4096
#define BUF_MAX (80 * 1024)

/* ---- captured fixtures ---- */

static size_t fixture(const char *name, uint8_t *buf, size_t cap)
{
    const char *marker = strstr(__FILE__, "tests/unit/");
    assert_non_null(marker);
    char path[1024];
    snprintf(path, sizeof(path), "%.*stests/unit/fixtures/review/%s", (int)(marker - __FILE__),
             __FILE__, name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t n = fread(buf, 1, cap, f);
    assert_true(n > 0 && n < cap);
    fclose(f);
    return n;
}

/* What every captured body asked, protobuf and JSON alike. */
struct expect {
    const char *file;
    bool rules, is_resource;
    const char *verb, *group, *version, *ns, *resource_name, *subresource, *name, *path;
};

static const struct expect CAPTURED[] = {
    /* kubectl auth can-i create pods/exec -n default: kubectl reads pods/exec
     * as resource/name, not as a subresource */
    {"access_exec", false, true, "create", "", "", "default", "pods", "", "exec", ""},
    /* kubectl auth can-i --list -n default */
    {"rules", true, false, "", "", "", "default", "", "", "", ""},
    /* kubectl auth can-i get /metrics */
    {"nonresource", false, false, "get", "", "", "", "", "", "", "/metrics"},
    /* kubectl auth can-i get pods/web-1 --subresource=log -n kube-system */
    {"access_log_name", false, true, "get", "", "", "kube-system", "pods", "log", "web-1", ""},
};

static void assert_review(const struct proto_review *r, const struct expect *e)
{
    assert_int_equal(r->rules, e->rules);
    assert_int_equal(r->is_resource, e->is_resource);
    assert_string_equal(r->verb, e->verb);
    assert_string_equal(r->group, e->group);
    assert_string_equal(r->version, e->version);
    assert_string_equal(r->ns, e->ns);
    assert_string_equal(r->resource, e->resource_name);
    assert_string_equal(r->subresource, e->subresource);
    assert_string_equal(r->name, e->name);
    assert_string_equal(r->path, e->path);
}

static void decode_ok(const uint8_t *b, size_t n, const char *ct, bool rules,
                      struct proto_review *r)
{
    char err[PROTO_REVIEW_ERR_MIN];
    int rc = proto_review_decode(b, n, ct, rules, r, err, sizeof(err));
    if (rc != 0)
        fail_msg("refused: %s", err);
    assert_string_equal(err, "");
}

static void decode_refused(const uint8_t *b, size_t n, const char *ct, bool rules, const char *want)
{
    char err[PROTO_REVIEW_ERR_MIN];
    struct proto_review r;
    assert_int_equal(proto_review_decode(b, n, ct, rules, &r, err, sizeof(err)), -1);
    assert_string_equal(err, want);
}

static void test_captured_protobuf(void **state)
{
    uint8_t b[FIXTURE_MAX];
    char file[64];
    for (size_t i = 0; i < sizeof(CAPTURED) / sizeof(CAPTURED[0]); i++) {
        snprintf(file, sizeof(file), "%s.pb", CAPTURED[i].file);
        size_t n = fixture(file, b, sizeof(b));
        struct proto_review r;
        decode_ok(b, n, PB, CAPTURED[i].rules, &r);
        assert_review(&r, &CAPTURED[i]);
        /* the header's case and parameters do not matter */
        decode_ok(b, n, " Application/VND.Kubernetes.Protobuf ; x=y", CAPTURED[i].rules, &r);
        assert_review(&r, &CAPTURED[i]);
    }
}

static void test_captured_json(void **state)
{
    uint8_t b[FIXTURE_MAX];
    char file[64];
    const char *types[] = {"application/json", "application/json; charset=utf-8", "", NULL};
    for (size_t i = 0; i < sizeof(CAPTURED) / sizeof(CAPTURED[0]); i++) {
        snprintf(file, sizeof(file), "%s.json", CAPTURED[i].file);
        size_t n = fixture(file, b, sizeof(b));
        for (size_t t = 0; t < 4; t++) {
            struct proto_review r;
            decode_ok(b, n, types[t], CAPTURED[i].rules, &r);
            assert_review(&r, &CAPTURED[i]);
        }
    }
}

/* kubectl 1.33 asking about a resource its discovery did not list
 * (`list deployments.apps -A`): the group stays in the resource, as sent. */
static void test_captured_unknown_group(void **state)
{
    uint8_t b[FIXTURE_MAX];
    size_t n = fixture("access_group_unknown.pb", b, sizeof(b));
    struct proto_review r;
    decode_ok(b, n, PB, false, &r);
    const struct expect e = {"", false, true, "list", "", "", "", "deployments.apps", "", "", ""};
    assert_review(&r, &e);
}

/* Every cut of a captured body is refused, except the two that only drop
 * the envelope's trailing empty contentEncoding and contentType (protobuf
 * has no end marker): nothing reads past the end. */
static void test_captured_truncated(void **state)
{
    uint8_t b[FIXTURE_MAX];
    size_t n = fixture("access_log_name.pb", b, sizeof(b));
    assert_memory_equal(b + n - 4, "\x1a\x00\x22\x00", 4);
    for (size_t cut = 0; cut < n; cut++) {
        uint8_t *copy = malloc(cut ? cut : 1); /* exact: ASan reports a read past it */
        memcpy(copy, b, cut);
        char err[PROTO_REVIEW_ERR_MIN];
        struct proto_review r;
        int rc = proto_review_decode(copy, cut, PB, false, &r, err, sizeof(err));
        free(copy);
        if (cut == n - 4 || cut == n - 2) {
            assert_int_equal(rc, 0);
            assert_review(&r, &CAPTURED[3]);
        } else {
            assert_int_equal(rc, -1);
            assert_true(err[0] != '\0');
        }
    }
    /* the kubectl body as JSON, and JSON as protobuf */
    decode_refused(b, n, "application/json", false, "the body is not valid JSON (at byte 1)");
    uint8_t j[FIXTURE_MAX];
    size_t jn = fixture("access_exec.json", j, sizeof(j));
    decode_refused(j, jn, PB, false, BAD "it does not start with the k8s magic bytes");
}

/* ---- hand-built protobuf ---- */

struct buf {
    uint8_t b[BUF_MAX];
    size_t n;
};

static void put_varint(struct buf *o, uint64_t v)
{
    do {
        assert_true(o->n < BUF_MAX);
        o->b[o->n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
}

static void put_raw(struct buf *o, const void *p, size_t n)
{
    assert_true(o->n + n <= BUF_MAX);
    memcpy(o->b + o->n, p, n);
    o->n += n;
}

static void put_bytes(struct buf *o, uint32_t num, const void *p, size_t n)
{
    put_varint(o, (uint64_t)num << 3 | 2);
    put_varint(o, n);
    put_raw(o, p, n);
}

static void put_str(struct buf *o, uint32_t num, const char *s)
{
    put_bytes(o, num, s, strlen(s));
}

static void put_msg(struct buf *o, uint32_t num, const struct buf *m)
{
    put_bytes(o, num, m->b, m->n);
}

/* Unknown fields of every wire type protobuf still has (0, 1, 2, 5). */
static void put_unknown(struct buf *o)
{
    put_varint(o, 100 << 3 | 0);
    put_varint(o, UINT64_MAX);
    put_varint(o, 101 << 3 | 1);
    put_raw(o, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
    put_str(o, 102, "\xff not even UTF-8");
    put_varint(o, 103 << 3 | 5);
    put_raw(o, "\x01\x02\x03\x04", 4);
}

/* "k8s\0" + Unknown{typeMeta{apiVersion, kind}, raw = object} */
static void envelope(struct buf *o, const char *kind, const struct buf *object)
{
    struct buf *meta = calloc(1, sizeof(*meta));
    put_str(meta, 1, "authorization.k8s.io/v1");
    put_str(meta, 2, kind);
    o->n = 0;
    put_raw(o, "k8s\0", 4);
    put_msg(o, 1, meta);
    put_msg(o, 2, object);
    put_str(o, 3, "");
    put_str(o, 4, "");
    free(meta);
}

/* SelfSubjectAccessReview{spec{resourceAttributes (1) or non- (2) = attrs}} */
static void access_review(struct buf *o, uint32_t which, const struct buf *attrs)
{
    struct buf *spec = calloc(1, sizeof(*spec)), *obj = calloc(1, sizeof(*obj));
    put_msg(spec, which, attrs);
    put_msg(obj, 2, spec);
    envelope(o, "SelfSubjectAccessReview", obj);
    free(spec);
    free(obj);
}

static void test_unknown_fields_skipped(void **state)
{
    struct buf *ra = calloc(1, sizeof(*ra)), *spec = calloc(1, sizeof(*spec)),
               *obj = calloc(1, sizeof(*obj)), *meta = calloc(1, sizeof(*meta)),
               *body = calloc(1, sizeof(*body)), *deep = calloc(1, sizeof(*deep)),
               *tmp = calloc(1, sizeof(*tmp));
    put_unknown(ra);
    put_str(ra, 1, "ns1");
    put_str(ra, 2, "get");
    put_str(ra, 3, "apps");
    put_str(ra, 4, "v1");
    put_str(ra, 5, "deployments");
    put_str(ra, 6, "scale");
    put_str(ra, 7, "web");
    put_str(ra, 8, "fieldSelector, not read");
    put_unknown(ra);
    put_unknown(spec);
    put_msg(spec, 1, ra);
    put_unknown(spec);
    /* metadata nested 200 deep: skipped whole, never descended into */
    for (int i = 0; i < 200; i++) {
        tmp->n = 0;
        put_msg(tmp, 1, deep);
        *deep = *tmp;
    }
    put_msg(obj, 1, deep);
    put_unknown(obj);
    put_msg(obj, 2, spec);
    put_str(obj, 3, "status, not read");
    put_unknown(meta);
    put_str(meta, 2, "SelfSubjectAccessReview");
    put_raw(body, "k8s\0", 4);
    put_unknown(body);
    put_msg(body, 1, meta);
    put_msg(body, 2, obj);
    put_unknown(body);
    struct proto_review r;
    decode_ok(body->b, body->n, PB, false, &r);
    const struct expect e = {"",    false,         true,    "get", "apps", "v1",
                             "ns1", "deployments", "scale", "web", ""};
    assert_review(&r, &e);
    free(ra), free(spec), free(obj), free(meta), free(body), free(deep), free(tmp);
}

/* Protobuf's rules for a repeated field: the last string wins, messages
 * merge; raw is the last one given. */
static void test_repeated_fields(void **state)
{
    struct buf *ra = calloc(1, sizeof(*ra)), *ra2 = calloc(1, sizeof(*ra2)),
               *body = calloc(1, sizeof(*body)), *twice = calloc(1, sizeof(*twice));
    put_str(ra, 2, "delete");
    put_str(ra, 2, "get");
    put_str(ra, 5, "pods");
    put_str(ra2, 7, "web");
    /* spec{ra, ra2}: merged */
    struct buf *spec = calloc(1, sizeof(*spec)), *obj = calloc(1, sizeof(*obj));
    put_msg(spec, 1, ra);
    put_msg(spec, 1, ra2);
    put_msg(obj, 2, spec);
    envelope(body, "SelfSubjectAccessReview", obj);
    struct proto_review r;
    decode_ok(body->b, body->n, PB, false, &r);
    const struct expect e = {"", false, true, "get", "", "", "", "pods", "", "web", ""};
    assert_review(&r, &e);
    /* a second raw replaces the first */
    *twice = *body;
    twice->n -= 4; /* drop contentEncoding and contentType */
    struct buf *spec2 = calloc(1, sizeof(*spec2)), *obj2 = calloc(1, sizeof(*obj2)),
               *nra = calloc(1, sizeof(*nra));
    put_str(nra, 1, "/healthz");
    put_str(nra, 2, "get");
    put_msg(spec2, 2, nra);
    put_msg(obj2, 2, spec2);
    put_msg(twice, 2, obj2);
    decode_ok(twice->b, twice->n, PB, false, &r);
    const struct expect e2 = {"", false, false, "get", "", "", "", "", "", "", "/healthz"};
    assert_review(&r, &e2);
    free(ra), free(ra2), free(body), free(twice), free(spec), free(obj);
    free(spec2), free(obj2), free(nra);
}

/* A string overwritten by a shorter one leaves no trace of the longer one:
 * every unused byte is zero, so a review compares (or hashes) whole, equal
 * to the one decoded from the shorter string alone. */
static void test_repeated_field_leaves_zeros(void **state)
{
    struct buf *ra = calloc(1, sizeof(*ra)), *body = calloc(1, sizeof(*body));
    put_str(ra, 2, "deletecollection");
    put_str(ra, 2, "get");
    access_review(body, 1, ra);
    struct proto_review twice, once;
    memset(&twice, 0xa5, sizeof(twice));
    decode_ok(body->b, body->n, PB, false, &twice);
    ra->n = 0;
    put_str(ra, 2, "get");
    access_review(body, 1, ra);
    decode_ok(body->b, body->n, PB, false, &once);
    assert_string_equal(twice.verb, "get");
    assert_memory_equal(&twice, &once, sizeof(once));
    const char *j = "{\"spec\":{\"namespace\":\"kube-system\",\"namespace\":\"ns\"}}";
    decode_ok((const uint8_t *)j, strlen(j), NULL, true, &twice);
    j = "{\"spec\":{\"namespace\":\"ns\"}}";
    decode_ok((const uint8_t *)j, strlen(j), NULL, true, &once);
    assert_memory_equal(&twice, &once, sizeof(once));
    free(ra), free(body);
}

static void test_kind(void **state)
{
    struct buf *ra = calloc(1, sizeof(*ra)), *body = calloc(1, sizeof(*body)),
               *obj = calloc(1, sizeof(*obj)), *spec = calloc(1, sizeof(*spec));
    put_str(ra, 2, "get");
    put_msg(spec, 1, ra);
    put_msg(obj, 2, spec);
    struct proto_review r;
    /* an empty kind is accepted, as the apiserver does */
    envelope(body, "", obj);
    decode_ok(body->b, body->n, PB, false, &r);
    assert_string_equal(r.verb, "get");
    envelope(body, "SelfSubjectAccessReview", obj);
    decode_refused(body->b, body->n, PB, true,
                   "the body's kind is not SelfSubjectRulesReview, which the URL names");
    envelope(body, "SelfSubjectRulesReview", obj);
    decode_refused(body->b, body->n, PB, false,
                   "the body's kind is not SelfSubjectAccessReview, which the URL names");
    envelope(body, "selfsubjectaccessreview", obj);
    decode_refused(body->b, body->n, PB, false,
                   "the body's kind is not SelfSubjectAccessReview, which the URL names");
    /* JSON alike */
    const char *j = "{\"kind\":\"SelfSubjectAccessReview\",\"spec\":{\"namespace\":\"x\"}}";
    decode_refused((const uint8_t *)j, strlen(j), NULL, true,
                   "the body's kind is not SelfSubjectRulesReview, which the URL names");
    j = "{\"spec\":{\"namespace\":\"x\"}}";
    decode_ok((const uint8_t *)j, strlen(j), NULL, true, &r);
    assert_string_equal(r.ns, "x");
    assert_true(r.rules);
    free(ra), free(body), free(obj), free(spec);
}

static void test_wire_refusals(void **state)
{
    /* wrong magic, short magic */
    decode_refused((const uint8_t *)"k8s\1\x0a\x00", 6, PB, false,
                   BAD "it does not start with the k8s magic bytes");
    decode_refused((const uint8_t *)"k8s", 3, PB, false,
                   BAD "it does not start with the k8s magic bytes");
    decode_refused((const uint8_t *)"", 0, PB, false,
                   BAD "it does not start with the k8s magic bytes");
    /* groups, at every level */
    decode_refused((const uint8_t *)"k8s\0\x0b", 5, PB, false,
                   BAD "groups (wire type 3) at byte 4 are not supported");
    decode_refused((const uint8_t *)"k8s\0\x0c", 5, PB, false,
                   BAD "groups (wire type 4) at byte 4 are not supported");
    decode_refused((const uint8_t *)"k8s\0\x0a\x01\x0b", 7, PB, false,
                   BAD "groups (wire type 3) at byte 6 are not supported");
    decode_refused((const uint8_t *)"k8s\0\x0e", 5, PB, false, BAD "invalid wire type 6 at byte 4");
    decode_refused((const uint8_t *)"k8s\0\x0f", 5, PB, false, BAD "invalid wire type 7 at byte 4");
    /* field number 0 */
    decode_refused((const uint8_t *)"k8s\0\x02\x00", 6, PB, false,
                   BAD "field number out of range at byte 4");
    /* truncated key, varint, length, fixed */
    decode_refused((const uint8_t *)"k8s\0\x80", 5, PB, false, BAD "truncated field key at byte 4");
    decode_refused((const uint8_t *)"k8s\0\x08\x80", 6, PB, false,
                   BAD "truncated varint at byte 4");
    decode_refused((const uint8_t *)"k8s\0\x0a", 5, PB, false, BAD "truncated length at byte 4");
    decode_refused((const uint8_t *)"k8s\0\x0a\x81", 6, PB, false,
                   BAD "truncated length at byte 4");
    decode_refused((const uint8_t *)"k8s\0\x09\0\0\0\0\0\0\0", 12, PB, false,
                   BAD "truncated fixed-size field at byte 4");
    decode_refused((const uint8_t *)"k8s\0\x0d\0\0\0", 8, PB, false,
                   BAD "truncated fixed-size field at byte 4");
    /* a length past the end, past the end of the parent, and huge */
    decode_refused((const uint8_t *)"k8s\0\x0a\x02\x00", 7, PB, false,
                   BAD "field at byte 4 runs past the end of its message");
    decode_refused((const uint8_t *)"k8s\0\x0a\x02\x0a\x02\x00\x00", 10, PB, false,
                   BAD "field at byte 6 runs past the end of its message");
    decode_refused((const uint8_t *)"k8s\0\x0a\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 15, PB,
                   false, BAD "field at byte 4 runs past the end of its message");
    /* varints: 10 bytes at most, and no more than 64 bits */
    decode_refused((const uint8_t *)"k8s\0\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02", 15, PB,
                   false, BAD "truncated varint at byte 4");
    decode_refused((const uint8_t *)"k8s\0\x08\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x00", 16, PB,
                   false, BAD "truncated varint at byte 4");
    /* a known field with the wrong wire type */
    decode_refused((const uint8_t *)"k8s\0\x08\x01", 6, PB, false,
                   BAD "typeMeta has wire type 0, not a length-delimited field");
    decode_refused((const uint8_t *)"k8s\0\x0a\x02\x10\x01", 8, PB, false,
                   BAD "typeMeta.kind has wire type 0, not a string");
    decode_refused((const uint8_t *)"k8s\0\x15\0\0\0\0", 9, PB, false,
                   BAD "raw has wire type 5, not a length-delimited field");
    decode_refused((const uint8_t *)"k8s\0\x12\x02\x10\x01", 8, PB, false,
                   BAD "spec has wire type 0, not a length-delimited field");
    decode_refused((const uint8_t *)"k8s\0\x12\x04\x12\x02\x08\x01", 10, PB, false,
                   BAD "spec.resourceAttributes has wire type 0, not a length-delimited field");
    decode_refused((const uint8_t *)"k8s\0\x12\x06\x12\x04\x12\x02\x10\x01", 12, PB, false,
                   BAD "spec.nonResourceAttributes.verb has wire type 0, not a string");
    /* an encoded raw */
    decode_refused((const uint8_t *)"k8s\0\x1a\x04gzip", 10, PB, false,
                   BAD "contentEncoding is not supported");
    /* nothing asked */
    decode_refused((const uint8_t *)"k8s\0", 4, PB, false,
                   "spec: exactly one of resourceAttributes or nonResourceAttributes must be "
                   "specified");
}

static void test_attributes_exactly_one(void **state)
{
    const char *both = "{\"spec\":{\"resourceAttributes\":{},\"nonResourceAttributes\":{}}}";
    const char *none = "{\"spec\":{\"resourceAttributes\":null}}";
    const char *want =
        "spec: exactly one of resourceAttributes or nonResourceAttributes must be specified";
    decode_refused((const uint8_t *)both, strlen(both), NULL, false, want);
    decode_refused((const uint8_t *)none, strlen(none), NULL, false, want);
    decode_refused((const uint8_t *)"{}", 2, NULL, false, want);
    decode_refused((const uint8_t *)"k8s\0\x12\x06\x12\x04\x0a\x00\x12\x00", 12, PB, false, want);
    /* an empty resourceAttributes is given (Go's pointer is set) */
    struct proto_review r;
    decode_ok((const uint8_t *)"k8s\0\x12\x04\x12\x02\x0a\x00", 10, PB, false, &r);
    assert_true(r.is_resource);
    const char *empty = "{\"spec\":{\"resourceAttributes\":{}}}";
    decode_ok((const uint8_t *)empty, strlen(empty), NULL, false, &r);
    assert_true(r.is_resource);
    /* a rules review needs nothing */
    decode_ok((const uint8_t *)"{}", 2, NULL, true, &r);
    assert_true(r.rules);
    assert_string_equal(r.ns, "");
    decode_ok((const uint8_t *)"k8s\0", 4, PB, true, &r);
}

/* Kept strings: bounded, no NUL, well-formed UTF-8; in both encodings. */
static void test_string_limits(void **state)
{
    struct buf *ra = calloc(1, sizeof(*ra)), *body = calloc(1, sizeof(*body));
    char *s = malloc(PROTO_REVIEW_PATH_MAX + 1), *j = malloc(PROTO_REVIEW_PATH_MAX + 128);
    struct proto_review r;
    memset(s, 'a', PROTO_REVIEW_FIELD_MAX - 1);
    s[PROTO_REVIEW_FIELD_MAX - 1] = '\0';
    put_str(ra, 7, s);
    access_review(body, 1, ra);
    decode_ok(body->b, body->n, PB, false, &r);
    assert_string_equal(r.name, s);
    snprintf(j, PROTO_REVIEW_PATH_MAX + 128,
             "{\"spec\":{\"resourceAttributes\":{\"name\":\"%s\"}}}", s);
    decode_ok((const uint8_t *)j, strlen(j), NULL, false, &r);
    assert_string_equal(r.name, s);
    strcat(s, "a");
    ra->n = 0;
    put_str(ra, 7, s);
    access_review(body, 1, ra);
    decode_refused(body->b, body->n, PB, false,
                   "spec.resourceAttributes.name is longer than 255 bytes");
    snprintf(j, PROTO_REVIEW_PATH_MAX + 128,
             "{\"spec\":{\"resourceAttributes\":{\"name\":\"%s\"}}}", s);
    decode_refused((const uint8_t *)j, strlen(j), NULL, false,
                   "spec.resourceAttributes.name is longer than 255 bytes");
    /* the path has its own bound */
    memset(s, '/', PROTO_REVIEW_PATH_MAX - 1);
    s[PROTO_REVIEW_PATH_MAX - 1] = '\0';
    ra->n = 0;
    put_str(ra, 1, s);
    access_review(body, 2, ra);
    decode_ok(body->b, body->n, PB, false, &r);
    assert_string_equal(r.path, s);
    strcat(s, "/");
    ra->n = 0;
    put_str(ra, 1, s);
    access_review(body, 2, ra);
    decode_refused(body->b, body->n, PB, false,
                   "spec.nonResourceAttributes.path is longer than 2047 bytes");
    /* NUL and bad UTF-8 */
    ra->n = 0;
    put_bytes(ra, 5, "pods\0x", 6);
    access_review(body, 1, ra);
    decode_refused(body->b, body->n, PB, false,
                   "spec.resourceAttributes.resource holds a NUL byte");
    ra->n = 0;
    put_str(ra, 2, "g\xc3\x28t");
    access_review(body, 1, ra);
    decode_refused(body->b, body->n, PB, false, "spec.resourceAttributes.verb is not valid UTF-8");
    ra->n = 0;
    put_str(ra, 2, "\xc3\xa9t\xc3\xa9");
    access_review(body, 1, ra);
    decode_ok(body->b, body->n, PB, false, &r);
    assert_string_equal(r.verb, "\xc3\xa9t\xc3\xa9");
    free(ra), free(body), free(s), free(j);
}

/* ---- JSON ---- */

static void test_json_shapes(void **state)
{
    struct proto_review r;
    const char *j = "{\"kind\":\"SelfSubjectAccessReview\",\"apiVersion\":\"authorization.k8s.io/"
                    "v1\",\"metadata\":{\"x\":[1,{\"y\":\"[[[[[[[[[[\"}]},\"spec\":{"
                    "\"resourceAttributes\":{\"namespace\":\"n\",\"verb\":\"v\",\"group\":\"g\","
                    "\"version\":\"ve\",\"resource\":\"r\",\"subresource\":\"s\",\"name\":\"nm\","
                    "\"fieldSelector\":{\"requirements\":[{\"values\":[\"a\"]}]},\"unknown\":1},"
                    "\"nonResourceAttributes\":null},\"status\":{\"allowed\":false}}";
    decode_ok((const uint8_t *)j, strlen(j), "application/json", false, &r);
    const struct expect e = {"", false, true, "v", "g", "ve", "n", "r", "s", "nm", ""};
    assert_review(&r, &e);
    /* types Go would refuse */
    j = "{\"kind\":1}";
    decode_refused((const uint8_t *)j, strlen(j), NULL, false, "the object.kind is not a string");
    j = "{\"spec\":[]}";
    decode_refused((const uint8_t *)j, strlen(j), NULL, false, "spec is not a JSON object");
    j = "{\"spec\":{\"resourceAttributes\":\"x\"}}";
    decode_refused((const uint8_t *)j, strlen(j), NULL, false,
                   "spec.resourceAttributes is not a JSON object");
    j = "{\"spec\":{\"nonResourceAttributes\":{\"path\":true}}}";
    decode_refused((const uint8_t *)j, strlen(j), NULL, false,
                   "spec.nonResourceAttributes.path is not a string");
    j = "[]";
    decode_refused((const uint8_t *)j, strlen(j), NULL, false, "the body is not a JSON object");
    /* not JSON, trailing bytes, \u0000: never quoted back */
    j = "{\"spec\":secret}";
    decode_refused((const uint8_t *)j, strlen(j), NULL, false,
                   "the body is not valid JSON (at byte 14)");
    j = "{} x";
    decode_refused((const uint8_t *)j, strlen(j), NULL, false,
                   "the body is not valid JSON (at byte 4)");
    j = "{\"spec\":{\"namespace\":\"a\\u0000b\"}}";
    decode_refused((const uint8_t *)j, strlen(j), NULL, true,
                   "the body is not valid JSON (at byte 31)");
    decode_refused((const uint8_t *)"", 0, NULL, true, "the body is not valid JSON (at byte 0)");
    decode_refused(NULL, 0, NULL, true, "the body is not valid JSON (at byte 0)");
}

static void test_json_depth(void **state)
{
    char j[256];
    struct proto_review r;
    /* 8 levels: the object, spec, ra, 5 more in an unknown member */
    snprintf(j, sizeof(j), "{\"spec\":{\"resourceAttributes\":{\"x\":[[[[{}]]]],\"verb\":\"a\"}}}");
    decode_ok((const uint8_t *)j, strlen(j), NULL, false, &r);
    assert_string_equal(r.verb, "a");
    snprintf(j, sizeof(j),
             "{\"spec\":{\"resourceAttributes\":{\"x\":[[[[[[]]]]]],\"verb\":\"a\"}}}");
    decode_refused((const uint8_t *)j, strlen(j), NULL, false,
                   "the body nests JSON deeper than 8 levels");
    /* a stray closer buys no extra level */
    decode_refused((const uint8_t *)"]{{{{{{{{{", 10, NULL, false,
                   "the body nests JSON deeper than 8 levels");
    /* brackets in strings, escaped quotes, do not count */
    snprintf(j, sizeof(j), "{\"spec\":{\"namespace\":\"\\\"[[[[[[[[[[{{{{{{{\"}}");
    decode_ok((const uint8_t *)j, strlen(j), NULL, true, &r);
    assert_string_equal(r.ns, "\"[[[[[[[[[[{{{{{{{");
}

static void test_media_types(void **state)
{
    const char *j = "{\"spec\":{\"namespace\":\"x\"}}";
    struct proto_review r;
    decode_ok((const uint8_t *)j, strlen(j), "APPLICATION/JSON;charset=utf-8", true, &r);
    decode_ok((const uint8_t *)j, strlen(j), " ; charset=utf-8", true, &r);
    decode_refused((const uint8_t *)j, strlen(j), "application/yaml", true,
                   "unsupported media type \"application/yaml\": accepted media types include "
                   "application/json, application/vnd.kubernetes.protobuf");
    decode_refused((const uint8_t *)j, strlen(j), "application/jsonx", true,
                   "unsupported media type \"application/jsonx\": accepted media types include "
                   "application/json, application/vnd.kubernetes.protobuf");
    /* a header is quoted back printable, and cut */
    decode_refused((const uint8_t *)j, strlen(j), "a\"\x1b[31m\xc3\xa9", true,
                   "unsupported media type \"a??[31m??\": accepted media types include "
                   "application/json, application/vnd.kubernetes.protobuf");
    char ct[200];
    memset(ct, 'x', sizeof(ct) - 1);
    ct[sizeof(ct) - 1] = '\0';
    decode_refused((const uint8_t *)j, strlen(j), ct, true,
                   "unsupported media type "
                   "\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...\": "
                   "accepted media types include application/json, "
                   "application/vnd.kubernetes.protobuf");
}

static void test_body_bound_and_small_err(void **state)
{
    uint8_t *big = calloc(1, PROTO_REVIEW_BODY_MAX + 1);
    memcpy(big, "k8s\0", 4);
    decode_refused(big, PROTO_REVIEW_BODY_MAX + 1, PB, false,
                   "the body is longer than 65536 bytes");
    decode_refused(big, PROTO_REVIEW_BODY_MAX + 1, NULL, false,
                   "the body is longer than 65536 bytes");
    free(big);
    /* a short err is cut, NUL-terminated; none at all is allowed */
    char err[8];
    struct proto_review r;
    assert_int_equal(proto_review_decode((const uint8_t *)"x", 1, PB, false, &r, err, sizeof(err)),
                     -1);
    assert_string_equal(err, "the bod");
    assert_int_equal(proto_review_decode((const uint8_t *)"x", 1, PB, false, &r, NULL, 0), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_captured_protobuf),
        cmocka_unit_test(test_captured_json),
        cmocka_unit_test(test_captured_unknown_group),
        cmocka_unit_test(test_captured_truncated),
        cmocka_unit_test(test_unknown_fields_skipped),
        cmocka_unit_test(test_repeated_fields),
        cmocka_unit_test(test_repeated_field_leaves_zeros),
        cmocka_unit_test(test_kind),
        cmocka_unit_test(test_wire_refusals),
        cmocka_unit_test(test_attributes_exactly_one),
        cmocka_unit_test(test_string_limits),
        cmocka_unit_test(test_json_shapes),
        cmocka_unit_test(test_json_depth),
        cmocka_unit_test(test_media_types),
        cmocka_unit_test(test_body_bound_and_small_err),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
