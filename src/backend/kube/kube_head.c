/* kube_head.c - the upstream request head builder (see gw_head.h). */
#include "backend/kube/kube_head.h"

#include <string.h>

void kube_head_init(struct kube_head *h, char *buf, size_t cap)
{
    h->buf = buf;
    h->cap = cap;
    h->len = 0;
    h->err = KUBE_HEAD_OK;
}

static void head_put(struct kube_head *h, const char *s, size_t n)
{
    if (h->err)
        return;
    if (n > h->cap - h->len) {
        h->err = KUBE_HEAD_ERR_TOO_LONG;
        return;
    }
    memcpy(h->buf + h->len, s, n);
    h->len += n;
}

static void head_puts(struct kube_head *h, const char *s)
{
    head_put(h, s, strlen(s));
}

static bool head_is_ctl(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}

bool kube_head_value_ok(const char *value, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (head_is_ctl((unsigned char)value[i]) && value[i] != '\t')
            return false;
    return true;
}

/* A request target holds neither spaces (they end it) nor controls. */
static bool head_target_ok(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] == ' ' || head_is_ctl((unsigned char)s[i]))
            return false;
    return true;
}

void kube_head_request_line(struct kube_head *h, const char *method, const char *prefix,
                            const char *target, size_t target_len)
{
    if (!h->err && (!head_target_ok(prefix, strlen(prefix)) ||
                    !head_target_ok(target, target_len) || !head_target_ok(method, strlen(method))))
        h->err = KUBE_HEAD_ERR_CONTROL;
    head_puts(h, method);
    head_put(h, " ", 1);
    head_puts(h, prefix);
    head_put(h, target, target_len);
    head_puts(h, " HTTP/1.1\r\n");
}

void kube_head_field2(struct kube_head *h, const char *name, const char *prefix, const char *value,
                      size_t value_len)
{
    if (!h->err &&
        (!kube_head_value_ok(prefix, strlen(prefix)) || !kube_head_value_ok(value, value_len)))
        h->err = KUBE_HEAD_ERR_CONTROL;
    head_puts(h, name);
    head_put(h, ": ", 2);
    head_puts(h, prefix);
    head_put(h, value, value_len);
    head_put(h, "\r\n", 2);
}

void kube_head_field(struct kube_head *h, const char *name, const char *value, size_t value_len)
{
    kube_head_field2(h, name, "", value, value_len);
}

int kube_head_finish(struct kube_head *h)
{
    head_put(h, "\r\n", 2);
    return h->err ? h->err : (int)h->len;
}
