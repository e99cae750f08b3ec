/* fuzz_spdy_upgrade.c - libFuzzer target for the SPDY upgrade's version
 * choice (src/spdy/spdy_upgrade.h), on any bytes taken as a request head.
 *
 * Invariants: no crash; the refusal's text is NUL-terminated inside its
 * buffer for every size from 8 up (the first input byte picks it), starts
 * with '[' and ends with ']'; the choice does not depend on that buffer; and,
 * differentially, it (and spdy_upgrade_is_spdy) is what a plain reading of the rules gives (each
 * X-Stream-Protocol-Version line of the first SPDY_UPGRADE_OFFERS_MAX is one
 * value, trimmed; the client's first known one wins). */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "spdy/spdy_upgrade.h"

static const char *const KNOWN[] = {"v5.channel.k8s.io", "v4.channel.k8s.io", "v3.channel.k8s.io",
                                    "v2.channel.k8s.io", "channel.k8s.io"};

/* The rules, read plainly: split into lines at '\n', skip the first. */
static int reference(const char *h, size_t n)
{
    const char *name = "x-stream-protocol-version:";
    size_t nl = strlen(name), start = 0;
    int lines = 0, chosen = SPDY_UPGRADE_NONE;
    bool first = true;
    for (size_t i = 0; i < n && lines < SPDY_UPGRADE_OFFERS_MAX; i++) {
        if (h[i] != '\n')
            continue;
        const char *line = h + start;
        size_t len = i - start;
        start = i + 1;
        if (first) {
            first = false;
            continue;
        }
        if (len < nl || strncasecmp(line, name, nl) != 0)
            continue;
        size_t a = nl, b = len;
        while (a < b && (line[a] == ' ' || line[a] == '\t'))
            a++;
        while (b > a && (line[b - 1] == '\r' || line[b - 1] == ' ' || line[b - 1] == '\t'))
            b--;
        int k = -1;
        for (int j = 0; j < 5; j++)
            if (strlen(KNOWN[j]) == b - a && memcmp(KNOWN[j], line + a, b - a) == 0)
                k = j;
        if (chosen < 0 && k >= 0)
            chosen = k;
        else if (chosen == SPDY_UPGRADE_NONE)
            chosen = SPDY_UPGRADE_NO_MATCH;
        lines++;
    }
    return chosen;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t cap = 8 + data[0];
    const char *head = (const char *)data + 1;
    size_t len = size - 1;
    char *offers = malloc(cap);
    if (!offers)
        return 0;
    int v = spdy_upgrade_negotiate(head, len, offers, cap);
    size_t tl = strnlen(offers, cap);
    if (tl == cap || tl < 2 || offers[0] != '[' || offers[tl - 1] != ']')
        abort();
    if (spdy_upgrade_negotiate(head, len, NULL, 0) != v)
        abort();
    if (v != reference(head, len))
        abort();
    /* the Upgrade check: a plain reading says the same */
    bool spdy = false;
    for (size_t i = 0, start = 0; i < len; i++) {
        if (head[i] != '\n')
            continue;
        const char *line = head + start;
        size_t n = i - start;
        if (start && n >= 8 && strncasecmp(line, "upgrade:", 8) == 0)
            for (size_t k = 8; k + 8 <= n; k++)
                spdy = spdy || strncasecmp(line + k, "spdy/3.1", 8) == 0;
        start = i + 1;
    }
    if (spdy != spdy_upgrade_is_spdy(head, len))
        abort();
    free(offers);
    return 0;
}
