/* log.h - podterm's own log lines on stderr: one per request and per
 * session start and end, as text or as JSON objects (--log-format), with
 * klog's idea of verbosity (-v N). The audit log (src/audit/) says who did
 * what for the record; this is for operators and their log pipelines, and
 * carries the same auditID so the two can be joined. Never a token, cookie
 * or key: callers pass only the fields below.
 *
 * Single-threaded (the event loop); no global state: main owns the struct
 * log and lends it to those who write. */
#ifndef PODTERM_LOG_H
#define PODTERM_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define LOG_LINE_MAX 8192  /* one line; longer fields are cut */
#define LOG_FIELD_MAX 2048 /* one field's value */

enum log_format { LOG_FORMAT_TEXT = 0, LOG_FORMAT_JSON };
enum log_level { LOG_ERROR = 0, LOG_INFO };

/* Verbosity: 0 start-up and errors only; 1 (default) also a line per
 * request and per session start/end; 5+ also libwebsockets' own notices. */
#define LOG_V_REQUESTS 1
#define LOG_V_DEFAULT 1

struct log {
    enum log_format format;
    int verbosity;
    FILE *out; /* stderr */
};

/* "text" or "json"; -1 for anything else. */
int log_format_parse(const char *name, enum log_format *out);

/* One field of a line: a string (NULL: left out) or, when is_number, num. */
struct log_field {
    const char *key;
    const char *str;
    long long num;
    bool is_number;
    bool is_float; /* num is in milliseconds, printed as seconds with 3 decimals */
};

/* Write one line when v <= the log's verbosity: ts, level, msg, then the
 * fields in order. Text: `ts level msg key=value ...` (values with spaces or
 * quotes quoted as Go's %q); JSON: one object. Control characters and
 * invalid UTF-8 are escaped, never written raw. */
void log_line(const struct log *log, int v, enum log_level level, const char *msg,
              const struct log_field *fields, size_t nfields);

/* The line log_line would write, into buf (NUL-terminated, ends in '\n'),
 * at the given time (Unix seconds and microseconds); for the tests. Returns
 * its length. */
size_t log_format_line(enum log_format format, long long sec, long usec, enum log_level level,
                       const char *msg, const struct log_field *fields, size_t nfields, char *buf,
                       size_t cap);

#endif
