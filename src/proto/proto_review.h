/* proto_review.h - sans-I/O reader of the two self-review bodies kubectl sends
 * for `kubectl auth can-i`: SelfSubjectAccessReview (one question) and
 * SelfSubjectRulesReview (`--list`), group authorization.k8s.io/v1.
 *
 * kubectl up to 1.31 posts them as JSON; 1.32 and later post Kubernetes
 * protobuf (Content-Type: application/vnd.kubernetes.protobuf) and do not fall
 * back to JSON on a 415, so both encodings are read, into one struct.
 *
 * Protobuf, read without a protobuf library: the envelope is the 4 magic bytes
 * "k8s\0" and a runtime.Unknown {1 typeMeta {1 apiVersion, 2 kind}, 2 raw,
 * 3 contentEncoding, 4 contentType}; raw is the object's own message
 * (authorization/v1 generated.proto):
 *   SelfSubjectAccessReview {1 metadata, 2 spec, 3 status}
 *     spec {1 resourceAttributes, 2 nonResourceAttributes}
 *     resourceAttributes {1 namespace, 2 verb, 3 group, 4 version, 5 resource,
 *                         6 subresource, 7 name, 8 fieldSelector, 9 labelSelector}
 *     nonResourceAttributes {1 path, 2 verb}
 *   SelfSubjectRulesReview {1 metadata, 2 spec {1 namespace}, 3 status}
 * Fields not listed above (metadata, status, selectors, future fields) are
 * skipped by wire type, whatever it is, without being parsed: nesting is
 * bounded by this schema (4 messages deep), never by the input. A field that
 * repeats follows protobuf's rule: the last string wins, messages merge.
 *
 * Refused (-1 and a message meant for a 400 Status): a body over
 * PROTO_REVIEW_BODY_MAX, a wrong magic, a truncated varint or length, a length
 * past the end of its message, groups (wire types 3 and 4) and wire types 6-7,
 * a known field with the wrong wire type, a contentEncoding (the raw bytes
 * would not be protobuf), a kind other than the one the URL named (an empty
 * kind is accepted, as the apiserver does), a kept string longer than its
 * buffer or holding a NUL or ill-formed UTF-8, JSON nested deeper than
 * PROTO_REVIEW_DEPTH_MAX, an access review giving both or neither of
 * resourceAttributes and nonResourceAttributes, and a media type that is
 * neither JSON nor Kubernetes protobuf. Messages never quote the body.
 */
#ifndef PODTERM_PROTO_REVIEW_H
#define PODTERM_PROTO_REVIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROTO_REVIEW_FIELD_MAX 256        /* one kept string field with its NUL (longer: refused) */
#define PROTO_REVIEW_PATH_MAX 2048        /* nonResourceAttributes.path with its NUL */
#define PROTO_REVIEW_BODY_MAX (64 * 1024) /* the whole request body */
#define PROTO_REVIEW_DEPTH_MAX 8          /* JSON objects/arrays inside each other */
#define PROTO_REVIEW_ERR_MIN 256          /* an err_cap that holds every message whole */

/* The protobuf envelope's magic ("k8s" and a NUL). */
#define PROTO_REVIEW_MAGIC "k8s\0"
#define PROTO_REVIEW_MAGIC_LEN 4

struct proto_review {
    bool rules;       /* SelfSubjectRulesReview (spec.namespace) vs SelfSubjectAccessReview */
    bool is_resource; /* access review: resourceAttributes given (else nonResourceAttributes) */
    char verb[PROTO_REVIEW_FIELD_MAX];
    char group[PROTO_REVIEW_FIELD_MAX];
    char version[PROTO_REVIEW_FIELD_MAX];
    char
        ns[PROTO_REVIEW_FIELD_MAX]; /* resourceAttributes.namespace, or the rules' spec.namespace */
    char resource[PROTO_REVIEW_FIELD_MAX];
    char subresource[PROTO_REVIEW_FIELD_MAX];
    char name[PROTO_REVIEW_FIELD_MAX];
    char path[PROTO_REVIEW_PATH_MAX]; /* nonResourceAttributes.path */
};

/* body as sent (len bytes, need not be NUL-terminated); content_type: the
 * Content-Type header's value, NULL or "" when there was none (JSON, as the
 * apiserver assumes). rules: which kind the URL named (selfsubjectrulesreviews
 * vs selfsubjectaccessreviews). Fills *out (zeroed first) and returns 0, or
 * returns -1 with a NUL-terminated message in err for a 400 Status (cut to
 * err_cap; PROTO_REVIEW_ERR_MIN holds any). After 0, every byte of *out past
 * each string's NUL is zero: equal reviews compare (or hash) equal whole.
 * *out is unspecified after -1. */
int proto_review_decode(const uint8_t *body, size_t len, const char *content_type, bool rules,
                        struct proto_review *out, char *err, size_t err_cap);

#endif
