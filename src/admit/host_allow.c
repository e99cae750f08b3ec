/* host_allow.c - the Host header check against DNS rebinding (see host_allow.h). */
#include "admit/host_allow.h"

#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

#define HOST_HEADER "host:"
#define HOST_PORT_DIGITS_MAX 5
#define HOST_LOOPBACK_NAME "localhost"

/* The value of the only Host line, trimmed; NULL when there is none. */
static enum host_verdict host_find(const char *head, size_t head_len, const char **value,
                                   size_t *value_len)
{
    size_t hl = strlen(HOST_HEADER);
    *value = NULL;
    const char *p = memchr(head, '\n', head_len); /* skip the request line */
    while (p && (size_t)(p + 1 - head) < head_len) {
        const char *start = p + 1;
        const char *nl = memchr(start, '\n', head_len - (size_t)(start - head));
        if (!nl)
            break;
        const char *end = nl > start && nl[-1] == '\r' ? nl - 1 : nl;
        if ((size_t)(end - start) >= hl && strncasecmp(start, HOST_HEADER, hl) == 0) {
            if (*value)
                return HOST_DUPLICATED;
            const char *v = start + hl;
            while (v < end && (*v == ' ' || *v == '\t'))
                v++;
            const char *e = end;
            while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
                e--;
            *value = v;
            *value_len = (size_t)(e - v);
        }
        p = nl;
    }
    return HOST_OK;
}

static bool host_port_valid(const char *p, size_t n)
{
    if (n > HOST_PORT_DIGITS_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (p[i] < '0' || p[i] > '9')
            return false;
    return true;
}

static bool host_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_';
}

static bool host_is_loopback_name(const char *name, size_t n)
{
    size_t ln = strlen(HOST_LOOPBACK_NAME);
    if (n == ln)
        return strncasecmp(name, HOST_LOOPBACK_NAME, ln) == 0;
    return n > ln + 1 && name[n - ln - 1] == '.' &&
           strncasecmp(name + n - ln, HOST_LOOPBACK_NAME, ln) == 0 && name[0] != '.';
}

enum host_verdict host_allow_check(const struct host_policy *policy, const char *head,
                                   size_t head_len, char *name, size_t name_cap)
{
    name[0] = '\0';
    if (!policy->enforce)
        return HOST_OK;
    const char *v;
    size_t n;
    enum host_verdict rc = host_find(head, head_len, &v, &n);
    if (rc != HOST_OK || !v)
        return rc;
    char buf[HOST_ALLOW_NAME_MAX + 1];
    if (n && v[0] == '[') { /* [IPv6]:port */
        const char *close = memchr(v, ']', n);
        size_t alen = close ? (size_t)(close - v - 1) : 0;
        if (!close || alen == 0 || alen >= INET6_ADDRSTRLEN)
            return HOST_MALFORMED;
        size_t rest = n - (size_t)(close + 1 - v);
        if (rest && (close[1] != ':' || !host_port_valid(close + 2, rest - 1)))
            return HOST_MALFORMED;
        struct in6_addr a6;
        memcpy(buf, v + 1, alen);
        buf[alen] = '\0';
        return inet_pton(AF_INET6, buf, &a6) == 1 ? HOST_OK : HOST_MALFORMED;
    }
    const char *colon = memchr(v, ':', n);
    size_t nlen = colon ? (size_t)(colon - v) : n;
    if (colon && !host_port_valid(colon + 1, n - nlen - 1))
        return HOST_MALFORMED;
    if (nlen == 0 || nlen > HOST_ALLOW_NAME_MAX)
        return HOST_MALFORMED;
    for (size_t i = 0; i < nlen; i++)
        if (!host_name_char(v[i]))
            return HOST_MALFORMED;
    memcpy(buf, v, nlen);
    buf[nlen] = '\0';
    struct in_addr a4;
    if (inet_pton(AF_INET, buf, &a4) == 1 || host_is_loopback_name(buf, nlen))
        return HOST_OK;
    for (size_t i = 0; i < policy->names_len; i++)
        if (strcasecmp(buf, policy->names[i]) == 0)
            return HOST_OK;
    if (name_cap > nlen)
        memcpy(name, buf, nlen + 1);
    return HOST_FORBIDDEN;
}
