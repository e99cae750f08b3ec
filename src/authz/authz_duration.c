/* authz_duration.c - ExecPolicy durations in Go's time.ParseDuration syntax
 * ("90s", "5m", "1h30m", "1.5h", "+2h"), restricted to the units a session
 * limit needs (h, m, s), to whole seconds, and to AUTHZ_DURATION_MAX_S, so a
 * typo cannot make a limit of a century or of a millisecond. */
#include "authz/authz_parse.h"

#include <stdint.h>
#include <string.h>

#define NS_PER_S 1000000000ull
#define FRAC_DIGITS_MAX 18 /* Go keeps fraction digits while they fit in 64 bits */

static uint64_t duration_unit_ns(const char **s)
{
    switch (**s) {
    case 'h':
        (*s)++;
        return 3600 * NS_PER_S;
    case 'm':
        if ((*s)[1] == 's')
            return 0; /* ms: a real Go unit, too fine for a session limit */
        (*s)++;
        return 60 * NS_PER_S;
    case 's':
        (*s)++;
        return NS_PER_S;
    default:
        return 0;
    }
}

/* One "<number><unit>" into *ns; -1 bad syntax, -2 too long. */
static int duration_part(const char **s, uint64_t *ns)
{
    const uint64_t max_ns = (uint64_t)AUTHZ_DURATION_MAX_S * NS_PER_S;
    uint64_t whole = 0, frac = 0, scale = 1;
    bool digits = false;
    for (; **s >= '0' && **s <= '9'; (*s)++, digits = true)
        if ((whole = whole * 10 + (uint64_t)(**s - '0')) > max_ns)
            return -2;
    if (**s == '.') {
        (*s)++;
        for (int n = 0; **s >= '0' && **s <= '9'; (*s)++, digits = true)
            if (n++ < FRAC_DIGITS_MAX) {
                frac = frac * 10 + (uint64_t)(**s - '0');
                scale *= 10;
            }
    }
    if (!digits)
        return -1;
    uint64_t unit = duration_unit_ns(s);
    if (unit == 0)
        return -1;
    if (whole > max_ns / unit)
        return -2;
    *ns = whole * unit + (uint64_t)((unsigned __int128)frac * unit / scale);
    return *ns > max_ns ? -2 : 0;
}

/* 0, or -1 not a duration, -2 over AUTHZ_DURATION_MAX_S, -3 zero or
 * negative, -4 not whole seconds. */
int authz_duration_parse(const char *s, unsigned *out_s)
{
    const uint64_t max_ns = (uint64_t)AUTHZ_DURATION_MAX_S * NS_PER_S;
    bool negative = *s == '-';
    if (*s == '-' || *s == '+')
        s++;
    if (!strcmp(s, "0"))
        return -3; /* Go's one unitless duration */
    if (!*s)
        return -1;
    uint64_t total = 0;
    while (*s) {
        uint64_t part = 0;
        int rc = duration_part(&s, &part);
        if (rc < 0)
            return rc;
        if ((total += part) > max_ns)
            return -2;
    }
    if (negative || total == 0)
        return -3;
    if (total % NS_PER_S)
        return -4;
    *out_s = (unsigned)(total / NS_PER_S);
    return 0;
}
