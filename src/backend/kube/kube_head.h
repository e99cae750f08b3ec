/* kube_head.h - the request head the gateway writes upstream, built sans-I/O
 * and without format strings: the method, the kubeconfig's path prefix, the
 * client's target, tokens and identities are all copied as data.
 *
 * It is also the one place that refuses what would split the upstream
 * request: a target with a space or a control character, or a header value
 * with a control character other than HTAB (RFC 9110 5.5 allows HTAB and SP
 * inside a field value; nothing else below 0x20, nor DEL). Token sources
 * validate their tokens already (util_token_is_valid); this catches whatever
 * a future source or a forwarded client header lets through. */
#ifndef PODTERM_BACKEND_KUBE_HEAD_H
#define PODTERM_BACKEND_KUBE_HEAD_H

#include <stdbool.h>
#include <stddef.h>

#define KUBE_HEAD_MAX (24 * 1024) /* the head the gateway sends upstream */

enum kube_head_err {
    KUBE_HEAD_OK = 0,
    KUBE_HEAD_ERR_TOO_LONG = -1, /* more than the buffer holds */
    KUBE_HEAD_ERR_CONTROL = -2,  /* a control character in the target or a value */
};

/* Appends into a caller's buffer; the first error sticks and later calls do
 * nothing. */
struct kube_head {
    char *buf;
    size_t cap, len;
    int err;
};

void kube_head_init(struct kube_head *h, char *buf, size_t cap);
/* "METHOD PREFIX TARGET HTTP/1.1\r\n" (prefix and target as they are). */
void kube_head_request_line(struct kube_head *h, const char *method, const char *prefix,
                            const char *target, size_t target_len);
/* "Name: value\r\n". */
void kube_head_field(struct kube_head *h, const char *name, const char *value, size_t value_len);
/* "Name: prefix value\r\n", e.g. Authorization: Bearer TOKEN. */
void kube_head_field2(struct kube_head *h, const char *name, const char *prefix, const char *value,
                      size_t value_len);
/* The blank line. Returns the head's length, or a kube_head_err. */
int kube_head_finish(struct kube_head *h);

/* May value[0, len) be written as a header field value? */
bool kube_head_value_ok(const char *value, size_t len);

#endif
