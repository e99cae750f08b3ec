/* spdy_upgrade.c - pick the remotecommand version of a SPDY exec upgrade
 * (spdy_upgrade.h). */
#include "spdy/spdy_upgrade.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define SPDY_UPGRADE_HEADER "x-stream-protocol-version:"

static const char *const spdy_versions[SPDY_VERSION_COUNT] = {
    "v5.channel.k8s.io", "v4.channel.k8s.io", "v3.channel.k8s.io",
    "v2.channel.k8s.io", "channel.k8s.io",
};

const char *spdy_version_name(enum spdy_version v)
{
    return v < SPDY_VERSION_COUNT ? spdy_versions[v] : "";
}

const char *spdy_upgrade_server_list(void)
{
    return "[v5.channel.k8s.io v4.channel.k8s.io v3.channel.k8s.io v2.channel.k8s.io "
           "channel.k8s.io]";
}

static int spdy_version_find(const char *v, size_t n)
{
    for (int i = 0; i < SPDY_VERSION_COUNT; i++)
        if (strlen(spdy_versions[i]) == n && memcmp(spdy_versions[i], v, n) == 0)
            return i;
    return -1;
}

/* The offers as text for the refusal, "[a b]": bounded by its buffer (cap
 * >= 8), what does not fit ends in "...", bytes that are not printable ASCII
 * shown as '?' (the text reaches a Status and a log). */
struct spdy_offers {
    char *p;
    size_t cap, used;
    bool cut;
};

static void spdy_offers_put(struct spdy_offers *o, char c)
{
    if (o->used + 3 > o->cap) { /* room stays for this one, ']' and the NUL */
        o->cut = true;
        return;
    }
    unsigned char u = (unsigned char)c;
    o->p[o->used++] = u >= 0x20 && u < 0x7f ? c : '?';
}

static void spdy_offers_end(struct spdy_offers *o)
{
    if (o->cut)
        memcpy(o->p + o->used - 3, "...", 3);
    o->p[o->used++] = ']';
    o->p[o->used] = '\0';
}

bool spdy_upgrade_is_spdy(const char *head, size_t head_len)
{
    const char *p = memchr(head, '\n', head_len);
    while (p && (size_t)(p + 1 - head) < head_len) {
        const char *start = p + 1;
        const char *nl = memchr(start, '\n', head_len - (size_t)(start - head));
        if (!nl)
            break;
        if ((size_t)(nl - start) >= 8 && strncasecmp(start, "upgrade:", 8) == 0)
            for (const char *v = start + 8; v + 8 <= nl; v++)
                if (strncasecmp(v, "spdy/3.1", 8) == 0)
                    return true;
        p = nl;
    }
    return false;
}

int spdy_upgrade_negotiate(const char *head, size_t head_len, char *offers, size_t offers_cap)
{
    char scratch[8];
    struct spdy_offers o = {offers, offers_cap, 0, false};
    if (!offers || offers_cap < 8) /* too small to say anything: not kept */
        o = (struct spdy_offers){scratch, sizeof(scratch), 0, false};
    spdy_offers_put(&o, '[');
    int chosen = SPDY_UPGRADE_NONE, lines = 0;
    const char *p = memchr(head, '\n', head_len); /* headers start after the request line */
    while (p && (size_t)(p + 1 - head) < head_len && lines < SPDY_UPGRADE_OFFERS_MAX) {
        const char *start = p + 1;
        const char *nl = memchr(start, '\n', head_len - (size_t)(start - head));
        if (!nl)
            break;
        size_t hl = strlen(SPDY_UPGRADE_HEADER);
        if ((size_t)(nl - start) >= hl && strncasecmp(start, SPDY_UPGRADE_HEADER, hl) == 0) {
            const char *v = start + hl, *e = nl;
            while (v < e && (*v == ' ' || *v == '\t'))
                v++;
            while (e > v && (e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
                e--;
            if (lines)
                spdy_offers_put(&o, ' ');
            for (const char *c = v; c < e; c++)
                spdy_offers_put(&o, *c);
            int k = spdy_version_find(v, (size_t)(e - v));
            if (chosen < 0 && k >= 0)
                chosen = k;
            else if (chosen == SPDY_UPGRADE_NONE)
                chosen = SPDY_UPGRADE_NO_MATCH;
            lines++;
        }
        p = nl;
    }
    spdy_offers_end(&o);
    return chosen;
}
