/* authz_quote.c - the apiserver's messages quote names with Go's %q
 * (strconv.Quote); podterm's must read the same byte for byte, so this is
 * that quoting: printable characters as they are, `"` and `\` escaped,
 * control characters as \n \t \x1b, invalid UTF-8 bytes as \xff, other
 * unprintable code points as \u00a0 or \U000e0001. */
#include "authz/authz_internal.h"

#include <stdio.h>
#include <string.h>

#include "util/util_utf8.h"

/* Truncated to cap - 1 bytes: drop a character cut in two, so what is
 * left stays UTF-8 (it ends up in JSON). */
static void quote_trim(char *buf, size_t cap, size_t *off)
{
    size_t end = cap - 1, start = end;
    while (start > *off && start > end - 4 && ((uint8_t)buf[start - 1] & 0xc0) == 0x80)
        start--;
    if (start > *off && ((uint8_t)buf[start - 1] & 0xc0) == 0xc0)
        start--; /* the lead byte of the last character */
    else
        start = end;
    if (start < end &&
        util_utf8_seq((const uint8_t *)buf + start, end - start, NULL) != end - start)
        end = start;
    buf[end] = '\0';
    *off = end;
}

void authz_append(char *buf, size_t cap, size_t *off, const char *fmt, ...)
{
    if (cap == 0 || *off >= cap - 1)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *off, cap - *off, fmt, ap);
    va_end(ap);
    if (n < 0)
        buf[*off] = '\0';
    else if ((size_t)n >= cap - *off)
        quote_trim(buf, cap, off);
    else
        *off += (size_t)n;
}

/* unicode.IsPrint for the code points names hold: letters, marks, numbers,
 * punctuation and symbols. The separators and format characters a name can
 * hide behind are not printable; unassigned code points are taken as
 * printable (the tables would be larger than this module). */
static bool quote_printable(uint32_t c)
{
    if (c < 0x80)
        return c >= 0x20 && c < 0x7f;
    if (c < 0xa1 || c == 0xad || c == 0x61c || c == 0x6dd || c == 0x70f || c == 0x8e2 ||
        c == 0x1680 || c == 0x180e || (c >= 0x600 && c <= 0x605) || (c >= 0x890 && c <= 0x891))
        return false; /* C1 controls, separators and format characters */
    if ((c >= 0x2000 && c <= 0x200f) || (c >= 0x2028 && c <= 0x202f) ||
        (c >= 0x205f && c <= 0x206f) || c == 0x3000 || c == 0xfeff)
        return false;
    if ((c >= 0xd800 && c <= 0xf8ff) || (c >= 0xfff9 && c <= 0xfffb) || c == 0xfffe || c == 0xffff)
        return false; /* surrogates, private use, interlinear annotations, non-characters */
    if ((c >= 0xe0000 && c <= 0xe00ff) || (c >= 0xe01f0 && c <= 0xeffff) || c >= 0xf0000)
        return false; /* tags, private use planes (variation selectors are marks: printed) */
    return true;
}

static void quote_rune(char *buf, size_t cap, size_t *off, uint32_t c, const uint8_t *s, size_t len)
{
    static const char esc[] = {['\a'] = 'a', ['\b'] = 'b', ['\f'] = 'f', ['\n'] = 'n',
                               ['\r'] = 'r', ['\t'] = 't', ['\v'] = 'v'};
    if (c == '"' || c == '\\')
        authz_append(buf, cap, off, "\\%c", (char)c);
    else if (quote_printable(c))
        authz_append(buf, cap, off, "%.*s", (int)len, (const char *)s);
    else if (c < sizeof(esc) && esc[c])
        authz_append(buf, cap, off, "\\%c", esc[c]);
    else if (c < 0x20 || c == 0x7f)
        authz_append(buf, cap, off, "\\x%02x", (unsigned)c);
    else if (c < 0x10000)
        authz_append(buf, cap, off, "\\u%04x", (unsigned)c);
    else
        authz_append(buf, cap, off, "\\U%08x", (unsigned)c);
}

void authz_quote(char *buf, size_t cap, size_t *off, const char *str)
{
    const uint8_t *s = (const uint8_t *)str;
    size_t n = strlen(str);
    authz_append(buf, cap, off, "\"");
    for (size_t i = 0; i < n;) {
        uint32_t c = 0;
        size_t len = util_utf8_seq(s + i, n - i, &c);
        if (len == 0) {
            authz_append(buf, cap, off, "\\x%02x", s[i]);
            i++;
            continue;
        }
        quote_rune(buf, cap, off, c, s + i, len);
        i += len;
    }
    authz_append(buf, cap, off, "\"");
}
