/* http_request.h - the fields podterm reads from a raw HTTP/1 request head
 * (request line, the headers admission and the gateway use) and the query
 * string's items. Pure, no I/O: the listener's pre-read head is parsed once
 * here, before any part of podterm acts on it (admission in both modes, the
 * gateway's relay). Fuzzed (fuzz_gw_request). */
#ifndef PODTERM_HTTP_REQUEST_H
#define PODTERM_HTTP_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

#define HTTP_TARGET_MAX (16 * 1024) /* request target (path and query): the whole head's bound */

struct http_span {
    const char *p; /* into the head; NULL when absent */
    size_t n;
};

/* Headers podterm reads or the gateway forwards (anything else is ignored). */
enum http_header {
    HTTP_H_AUTHORIZATION,
    HTTP_H_ORIGIN,
    HTTP_H_HOST,
    HTTP_H_UPGRADE,
    HTTP_H_CONNECTION,
    HTTP_H_WS_VERSION,
    HTTP_H_WS_KEY,
    HTTP_H_ACCEPT,
    HTTP_H_ACCEPT_ENCODING,
    HTTP_H_USER_AGENT,
    HTTP_H_KUBECTL_COMMAND,
    HTTP_H_KUBECTL_SESSION,
    HTTP_H_CONTENT_LENGTH,
    HTTP_H_CONTENT_TYPE,
    HTTP_H_COOKIE,     /* the browser sign-in's session cookie (src/signin/) */
    HTTP_H_CSRF_TOKEN, /* X-CSRF-Token: the page's per-session CSRF token */
    HTTP_H_COUNT,
};

struct http_request {
    struct http_span method, target, path, query; /* query without '?' */
    struct http_span h[HTTP_H_COUNT];
    size_t head_len;
};

enum http_request_err {
    HTTP_REQ_ERR_MALFORMED = -1,  /* no request line, no blank line, target too long */
    HTTP_REQ_ERR_TARGET_CTL = -2, /* a control character (bare CR, NUL, DEL, ...) in the target */
};

/* Parse a request head (through the blank line). 0, or an http_request_err. */
int http_request_parse(const char *buf, size_t len, struct http_request *r);

/* Does span s equal lit, ignoring ASCII case? */
bool http_span_is(const struct http_span *s, const char *lit);

/* One "key[=value]" item of a raw query, still escaped. */
struct http_query_item {
    const char *key;
    size_t key_len;
    const char *value; /* NULL: no '=' */
    size_t value_len;
};

/* The item starting at *pos (advanced past it and its '&'); false at the end. */
bool http_query_next(const char *query, size_t len, size_t *pos, struct http_query_item *it);
/* A new NUL-terminated copy of s[0, n) with "+" and %XX decoded as Go's
 * url.QueryUnescape does for valid input; NULL on out of memory. */
char *http_unescape(const char *s, size_t n);
/* A query decoded once, for everything that reads it (admission, the exec
 * request, the gateway): items in order, keys and values unescaped into one
 * arena. Items with a ';' are dropped, as Go's url.ParseQuery drops them, and
 * empty items are skipped. */
#define HTTP_QUERY_ITEMS_MAX 2048 /* items kept; more are ignored */

struct http_query {
    char *arena;
    struct http_query_item *items; /* value NULL: the item had no '=' */
    size_t len;
};

/* 0, or -1 on out of memory (q is then empty). Free with http_query_free. */
int http_query_decode(const char *query, size_t len, struct http_query *q);
void http_query_free(struct http_query *q);

/* Is this list request a watch (?watch=true, 1, ...: any value but "",
 * "0", "false"), i.e. served for as long as the server streams? */
bool http_query_is_watch(const char *query, size_t len);

#endif
