/* log.c - request and session lines on stderr (see log.h). JSON lines are
 * built by jansson; text lines quote a value only when it needs it, as
 * logfmt does, and escape control characters either way. */
#include "log/log.h"

#include <jansson.h>
#include <stdint.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "util/util_utf8.h"

int log_format_parse(const char *name, enum log_format *out)
{
    if (strcmp(name, "text") == 0)
        *out = LOG_FORMAT_TEXT;
    else if (strcmp(name, "json") == 0)
        *out = LOG_FORMAT_JSON;
    else
        return -1;
    return 0;
}

/* RFC 3339 UTC with milliseconds, as klog's JSON format writes ts. */
static void log_ts(long long sec, long usec, char out[32])
{
    time_t t = (time_t)sec;
    struct tm tm;
    gmtime_r(&t, &tm);
    size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 32 - n, ".%03ldZ", usec / 1000);
}

/* s with invalid UTF-8 replaced (jansson refuses it), at most LOG_FIELD_MAX bytes. */
static json_t *log_json_str(const char *s)
{
    char clean[LOG_FIELD_MAX + 4];
    size_t n = strlen(s), o = 0;
    for (size_t i = 0; i < n && o + 4 < sizeof(clean);) {
        size_t k = util_utf8_seq((const uint8_t *)s + i, n - i, NULL);
        if (k) {
            memcpy(clean + o, s + i, k);
            o += k;
            i += k;
        } else {
            memcpy(clean + o, "\xef\xbf\xbd", 3);
            o += 3;
            i++;
        }
    }
    return json_stringn(clean, o);
}

static size_t log_json(long long sec, long usec, enum log_level level, const char *msg,
                       const struct log_field *f, size_t n, char *buf, size_t cap)
{
    char ts[32];
    log_ts(sec, usec, ts);
    json_t *o = json_object();
    json_object_set_new(o, "ts", json_string(ts));
    json_object_set_new(o, "level", json_string(level == LOG_ERROR ? "error" : "info"));
    json_object_set_new(o, "msg", log_json_str(msg));
    for (size_t i = 0; i < n; i++) {
        if (f[i].is_float)
            json_object_set_new(o, f[i].key, json_real((double)f[i].num / 1000.0));
        else if (f[i].is_number)
            json_object_set_new(o, f[i].key, json_integer(f[i].num));
        else if (f[i].str)
            json_object_set_new(o, f[i].key, log_json_str(f[i].str));
    }
    /* JSON_PRESERVE_ORDER: ts, level, msg first, as log readers expect. */
    size_t len = o ? json_dumpb(o, buf, cap > 1 ? cap - 2 : 0,
                                JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10))
                   : 0;
    json_decref(o);
    if (len == 0 || len > cap - 2)
        len = (size_t)snprintf(buf, cap,
                               "{\"ts\":\"%s\",\"level\":\"error\",\"msg\":\"log line "
                               "too long\"}",
                               ts);
    buf[len++] = '\n';
    buf[len] = '\0';
    return len;
}

/* Append s to buf as a logfmt value: bare when it has no space, quote, '='
 * or control byte; else quoted with \" \\ \n \t and \xNN escapes. */
static size_t log_text_value(const char *s, char *buf, size_t o, size_t cap)
{
    bool quote = !*s || strpbrk(s, " \"=\\") != NULL;
    for (const unsigned char *p = (const unsigned char *)s; *p && !quote; p++)
        quote = *p < 0x20 || *p == 0x7f;
    if (quote && o + 1 < cap)
        buf[o++] = '"';
    size_t n = strlen(s);
    for (size_t i = 0; i < n && i < LOG_FIELD_MAX && o + 6 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            buf[o++] = '\\';
            buf[o++] = (char)c;
        } else if (c == '\n') {
            buf[o++] = '\\';
            buf[o++] = 'n';
        } else if (c == '\t') {
            buf[o++] = '\\';
            buf[o++] = 't';
        } else if (c < 0x20 || c == 0x7f) {
            o += (size_t)snprintf(buf + o, cap - o, "\\x%02x", c);
        } else {
            buf[o++] = (char)c;
        }
    }
    if (quote && o + 1 < cap)
        buf[o++] = '"';
    return o;
}

static size_t log_text(long long sec, long usec, enum log_level level, const char *msg,
                       const struct log_field *f, size_t n, char *buf, size_t cap)
{
    char ts[32];
    log_ts(sec, usec, ts);
    size_t o = (size_t)snprintf(buf, cap, "%s %s ", ts, level == LOG_ERROR ? "error" : "info");
    o = log_text_value(msg, buf, o, cap);
    for (size_t i = 0; i < n && o + 32 < cap; i++) {
        if (!f[i].is_number && !f[i].is_float && !f[i].str)
            continue;
        o += (size_t)snprintf(buf + o, cap - o, " %s=", f[i].key);
        if (f[i].is_float)
            o +=
                (size_t)snprintf(buf + o, cap - o, "%lld.%03lld", f[i].num / 1000, f[i].num % 1000);
        else if (f[i].is_number)
            o += (size_t)snprintf(buf + o, cap - o, "%lld", f[i].num);
        else
            o = log_text_value(f[i].str, buf, o, cap);
    }
    if (o > cap - 2)
        o = cap - 2;
    buf[o++] = '\n';
    buf[o] = '\0';
    return o;
}

size_t log_format_line(enum log_format format, long long sec, long usec, enum log_level level,
                       const char *msg, const struct log_field *fields, size_t nfields, char *buf,
                       size_t cap)
{
    return format == LOG_FORMAT_JSON ? log_json(sec, usec, level, msg, fields, nfields, buf, cap)
                                     : log_text(sec, usec, level, msg, fields, nfields, buf, cap);
}

void log_line(const struct log *log, int v, enum log_level level, const char *msg,
              const struct log_field *fields, size_t nfields)
{
    if (!log || v > log->verbosity)
        return;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    char buf[LOG_LINE_MAX];
    size_t n = log_format_line(log->format, tv.tv_sec, tv.tv_usec, level, msg, fields, nfields, buf,
                               sizeof(buf));
    /* One fwrite per line: lines from one process never interleave. */
    fwrite(buf, 1, n, log->out ? log->out : stderr);
    fflush(log->out ? log->out : stderr);
}
