/* config_names.c - the apiserver's name rules (DNS-1123 labels and subdomains,
 * label keys and values) and the stable pod uid.
 *
 * The rules are Kubernetes' own (k8s.io/apimachinery/pkg/util/validation), so a
 * config that podterm accepts is one a real cluster would accept too. */
#include "config/config_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DNS1123_LABEL_MAX 63
#define QUALIFIED_NAME_MAX 63 /* the name part of a label key, and a label value */
#define UID_TEXT_LEN 36       /* 8-4-4-4-12 */

static bool names_is_lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool names_is_alnum(char c)
{
    return names_is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

/* [a-z0-9]([-a-z0-9]*[a-z0-9])? over s[0..len) */
static bool names_label_span_valid(const char *s, size_t len)
{
    if (len == 0 || len > DNS1123_LABEL_MAX)
        return false;
    if (!names_is_lower_alnum(s[0]) || !names_is_lower_alnum(s[len - 1]))
        return false;
    for (size_t i = 1; i + 1 < len; i++)
        if (!names_is_lower_alnum(s[i]) && s[i] != '-')
            return false;
    return true;
}

bool config_name_is_dns1123_label(const char *s)
{
    return s && names_label_span_valid(s, strlen(s));
}

bool config_name_is_dns1123_subdomain(const char *s)
{
    if (!s)
        return false;
    size_t len = strlen(s);
    if (len == 0 || len > CONFIG_NAME_MAX)
        return false;
    const char *p = s;
    for (;;) {
        const char *dot = memchr(p, '.', (size_t)(s + len - p));
        size_t n = dot ? (size_t)(dot - p) : (size_t)(s + len - p);
        if (!names_label_span_valid(p, n))
            return false;
        if (!dot)
            return true;
        p = dot + 1;
    }
}

/* ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9], at most 63: label values and the
 * name part of label keys. */
static bool names_qualified_span_valid(const char *s, size_t len)
{
    if (len == 0 || len > QUALIFIED_NAME_MAX)
        return false;
    if (!names_is_alnum(s[0]) || !names_is_alnum(s[len - 1]))
        return false;
    for (size_t i = 1; i + 1 < len; i++)
        if (!names_is_alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
            return false;
    return true;
}

bool config_label_key_is_valid(const char *key)
{
    const char *slash = strchr(key, '/');
    if (!slash)
        return names_qualified_span_valid(key, strlen(key));
    size_t plen = (size_t)(slash - key);
    char prefix[CONFIG_NAME_MAX + 1];
    if (plen == 0 || plen > CONFIG_NAME_MAX)
        return false;
    memcpy(prefix, key, plen);
    prefix[plen] = '\0';
    return config_name_is_dns1123_subdomain(prefix) &&
           names_qualified_span_valid(slash + 1, strlen(slash + 1));
}

bool config_label_value_is_valid(const char *value)
{
    size_t len = strlen(value);
    return len == 0 || names_qualified_span_valid(value, len);
}

/* Kubernetes uids are random; ours must survive a restart so that clients
 * watching a pod see the same object. FNV-1a 128 of "ns/name" (no namespace or
 * pod name contains '/'), shaped as an RFC 9562 version 8 (custom) UUID. Not a
 * security property, so no cryptographic hash (and podterm_config stays free
 * of OpenSSL). */
char *config_uid_new(const char *ns, const char *name)
{
    const unsigned __int128 prime = ((unsigned __int128)1 << 88) | 0x13b;
    unsigned __int128 h = ((unsigned __int128)0x6c62272e07bb0142ULL << 64) | 0x62b821756295c58dULL;
    char text[2 * CONFIG_NAME_MAX + 2];
    int n = snprintf(text, sizeof(text), "%s/%s", ns, name);
    if (n < 0 || (size_t)n >= sizeof(text))
        return NULL;
    for (int i = 0; i < n; i++) {
        h ^= (unsigned char)text[i];
        h *= prime;
    }
    unsigned char md[16];
    for (int i = 0; i < 16; i++)
        md[i] = (unsigned char)(h >> (8 * (15 - i)));
    md[6] = (unsigned char)((md[6] & 0x0f) | 0x80); /* version 8 */
    md[8] = (unsigned char)((md[8] & 0x3f) | 0x80); /* variant 10 */
    char *uid = malloc(UID_TEXT_LEN + 1);
    if (!uid)
        return NULL;
    char *o = uid;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *o++ = '-';
        o += sprintf(o, "%02x", md[i]);
    }
    return uid;
}
