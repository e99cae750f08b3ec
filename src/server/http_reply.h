/* http_reply.h - complete small responses written through lws in one go,
 * and the request fields the REST side reads from lws. */
#ifndef PODTERM_SERVER_HTTP_REPLY_H
#define PODTERM_SERVER_HTTP_REPLY_H

#include <libwebsockets.h>
#include <stddef.h>

/* The status a handler answered with, for the audit (admission_finish). */
void http_reply_record(struct lws *wsi, int code);
/* Return 0, or -1 to close. The status code is recorded for the audit. */
int http_reply(struct lws *wsi, int code, const char *content_type, const char *extra_headers,
               const void *body, size_t body_len);
int http_reply_json(struct lws *wsi, int code, const char *json, size_t len);
int http_reply_status(struct lws *wsi, int code, const char *reason, const char *message,
                      const char *details_name, const char *details_kind);
/* Copy a header into buf (NUL-terminated); returns length or -1 when absent or too long. */
int http_header_copy(struct lws *wsi, enum lws_token_indexes token, char *buf, size_t cap);
/* Request method: "GET", "POST", ... or NULL. */
const char *http_method(struct lws *wsi);

#endif
